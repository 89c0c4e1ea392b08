/* python_support.c — the public API the Python package (python/etchnn) needs
 * beyond the CLI's: configurations as JSON, layer constants for profiling, and
 * per-layer tracing of many events in one call. */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "ir/fx_arith.h"
#include "passes/passes.h"

static void clear_error(EtnModel *m)
{
    m->diag.set = 0;
    m->diag.msg[0] = 0;
}

char *etn_config_json(EtnModel *m)
{
    clear_error(m);
    if (!m->cfg.doc) {
        diag_error(&m->diag, "no configuration loaded: call etn_config_text or etn_config_file first");
        return NULL;
    }
    char *s = cJSON_PrintUnformatted(m->cfg.doc);
    if (!s)
        diag_error(&m->diag, "internal: out of memory printing the configuration");
    return s;
}

/* The k-th live node (execution order), as etn_layer_* number layers. */
static const Node *live_node(const EtnModel *m, size_t k)
{
    size_t seen = 0;
    for (size_t i = 0; i < m->g.nn; i++)
        if (!m->g.n[i].dead && seen++ == k)
            return &m->g.n[i];
    return NULL;
}

/* The k-th constant input of a layer's node, or NULL. */
static const Tensor *param(const EtnModel *m, size_t layer, size_t k)
{
    const Node *n = live_node(m, layer);
    if (!n)
        return NULL;
    size_t seen = 0;
    for (int j = 0; j < n->nin; j++) {
        if (n->in[j] < 0 || !m->g.t[n->in[j]].is_const)
            continue;
        if (seen++ == k)
            return &m->g.t[n->in[j]];
    }
    return NULL;
}

size_t etn_layer_param_count(const EtnModel *m, size_t layer)
{
    size_t c = 0;
    while (param(m, layer, c))
        c++;
    return c;
}

const char *etn_layer_param_name(const EtnModel *m, size_t layer, size_t k)
{
    const Tensor *t = param(m, layer, k);
    return t ? t->name : NULL;
}

size_t etn_layer_param_size(const EtnModel *m, size_t layer, size_t k)
{
    const Tensor *t = param(m, layer, k);
    return t ? (size_t)ir_const_numel(t) : 0;
}

const char *etn_layer_param_type(const EtnModel *m, size_t layer, size_t k)
{
    const Tensor *t = param(m, layer, k);
    if (!t || !t->has_type)
        return NULL;
    EtnModel *mm = (EtnModel *)m;
    fx_format(t->type, mm->type_str, sizeof mm->type_str);
    return mm->type_str;
}

int etn_layer_param_values(EtnModel *m, size_t layer, size_t k, double *out, int float_mode)
{
    clear_error(m);
    if (!m->compiled && etn_compile(m) != ETN_OK)
        return m->diag.set && !strncmp(m->diag.msg, "internal", 8) ? ETN_EINTERNAL : ETN_EUSER;
    const Tensor *t = param(m, layer, k);
    if (!t) {
        diag_error(&m->diag, "layer %zu: no constant %zu (it has %zu)", layer, k, etn_layer_param_count(m, layer));
        return ETN_EUSER;
    }
    long n = ir_const_numel(t);
    if (float_mode || !t->codes) {
        memcpy(out, t->data, sizeof(double) * (size_t)n);
        return ETN_OK;
    }
    int f = fx_frac(t->type);
    for (long e = 0; e < n; e++)
        out[e] = fx_to_double(t->codes[e], f);
    return ETN_OK;
}

int etn_trace_batch(EtnModel *m, const double *x, size_t n, size_t layer, double *out, int float_mode)
{
    if (n == 0)
        return ETN_OK;
    int rc = etn_trace(m, x, layer, out, float_mode);   /* compiles if needed */
    size_t in = etn_input_size(m), sz = etn_layer_size(m, layer);
    for (size_t ev = 1; ev < n && rc == ETN_OK; ev++)
        rc = etn_trace(m, x + ev * in, layer, out + ev * sz, float_mode);
    return rc;
}

int etn_layer_intervals(EtnModel *m, double *out, size_t nlayers)
{
    clear_error(m);
    if (!m->compiled && etn_compile(m) != ETN_OK)
        return m->diag.set && !strncmp(m->diag.msg, "internal", 8) ? ETN_EINTERNAL : ETN_EUSER;
    size_t live = 0;
    for (size_t i = 0; i < m->g.nn; i++)
        live += !m->g.n[i].dead;
    if (nlayers != live) {
        diag_error(&m->diag, "etn_layer_intervals: expected room for %zu layers, got %zu", live, nlayers);
        return ETN_EUSER;
    }
    if (ir_intervals(&m->g, &m->diag, out) < 0)
        return !strncmp(m->diag.msg, "internal", 8) ? ETN_EINTERNAL : ETN_EUSER;
    return ETN_OK;
}
