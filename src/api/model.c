/* model.c — the public API (include/etchnn.h): the EtnModel context and the
 * compiler's order of work, in one list (compile_passes). */
#define _XOPEN_SOURCE 700   /* realpath */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/model.h"
#include "api/options.h"
#include "backends/backends.h"
#include "backends/cmssw.h"
#include "backends/package.h"
#include "backends/stream.h"
#include "backends/hls.h"
#include "backends/testbench.h"
#include "frontends/frontends.h"
#include "hw/hw.h"
#include "passes/passes.h"
#include "tools/dataio.h"
#include "util/names.h"

/* The pipeline: one readable list. */
static const struct {
    const char *name;
    int (*run)(Graph *, Diag *, const Config *);
} compile_passes[] = {
    {"rnn_unroll", pass_rnn_unroll},
    {"shapes", pass_shapes},
    {"bnfold", pass_bnfold},
    {"constfold", pass_constfold},
    {"fuse", pass_fuse},
    {"precision", pass_precision},
    {"dot", pass_dot},
};

const char *model_pass_name(size_t k) { return k < ETN_COUNTOF(compile_passes) ? compile_passes[k].name : NULL; }

EtnModel *etn_model_new(void)
{
    EtnModel *m = calloc(1, sizeof(EtnModel));
    if (!m)
        return NULL;
    config_init(&m->cfg);
    ir_init(&m->g, "<none>");
    m->clock_mhz = 200;
    m->multipliers = MULT_CSD;
    m->io = -1;
    m->emit = EMIT_C | EMIT_RTL;
    return m;
}

void etn_model_free(EtnModel *m)
{
    if (!m)
        return;
    emu_plan_free(m->plan);
    config_free(&m->cfg);
    ir_free(&m->g);
    buf_free(&m->dump);
    buf_free(&m->tmpl);
    buf_free(&m->fit_json);
    free(m->node_mult);
    free(m->cfg_origin);
    diag_free(&m->diag);
    free(m);
}

const char *etn_error(const EtnModel *m) { return m && m->diag.set ? m->diag.msg : ""; }

static int fail(EtnModel *m) { return m->diag.set && !strncmp(m->diag.msg, "internal", 8) ? ETN_EINTERNAL : ETN_EUSER; }

void model_reset_error(EtnModel *m)
{
    m->diag.set = 0;
    m->diag.msg[0] = 0;
    m->diag.nwarn = 0;
    m->diag.warn.len = 0;
    if (m->diag.warn.data)
        m->diag.warn.data[0] = 0;
}

const char *etn_warnings(const EtnModel *m) { return m && m->diag.nwarn ? m->diag.warn.data : ""; }

static void unload(EtnModel *m)
{
    emu_plan_free(m->plan);
    m->plan = NULL;
    ir_free(&m->g);
    m->loaded = m->compiled = 0;
}

int etn_load_onnx_buffer(EtnModel *m, const void *buf, size_t len, const char *name)
{
    model_reset_error(m);
    unload(m);
    ir_init(&m->g, name);
    if (onnx_load(&m->g, &m->diag, buf, len, m->g.file) < 0) {
        unload(m);
        return fail(m);
    }
    if (ir_verify(&m->g, &m->diag, "import") < 0) {
        unload(m);
        return fail(m);
    }
    m->loaded = 1;
    return ETN_OK;
}

int etn_load_keras_buffer(EtnModel *m, const void *buf, size_t len, const char *name)
{
    model_reset_error(m);
    unload(m);
    ir_init(&m->g, name);
    if (keras_load_buffer(&m->g, &m->diag, buf, len, m->g.file) < 0 || ir_verify(&m->g, &m->diag, "import") < 0) {
        unload(m);
        return fail(m);
    }
    m->loaded = 1;
    return ETN_OK;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int etn_load(EtnModel *m, const char *path)
{
    model_reset_error(m);
    if (has_suffix(path, ".json") || has_suffix(path, ".h5") || has_suffix(path, ".keras")) {
        unload(m);
        ir_init(&m->g, path);
        if (keras_load(&m->g, &m->diag, path, m->weights_file[0] ? m->weights_file : NULL) < 0 ||
            ir_verify(&m->g, &m->diag, "import") < 0) {
            unload(m);
            return fail(m);
        }
        m->loaded = 1;
        if (!realpath(path, m->model_path))
            snprintf(m->model_path, sizeof m->model_path, "%s", path);
        return ETN_OK;
    }
    if (!has_suffix(path, ".onnx")) {
        diag_error(&m->diag, "%s: expected a model file ending in .onnx, .keras, .h5 or .json, got an unsupported file type",
                   path);
        return ETN_EUSER;
    }
    size_t len;
    unsigned char *data = util_read_file(&m->diag, path, &len);
    if (!data)
        return ETN_EUSER;
    int rc = etn_load_onnx_buffer(m, data, len, path);
    free(data);
    if (rc == ETN_OK && !realpath(path, m->model_path))
        snprintf(m->model_path, sizeof m->model_path, "%s", path);
    return rc;
}

int etn_config_file(EtnModel *m, const char *path)
{
    model_reset_error(m);
    free(m->cfg_origin);
    m->cfg_origin = strdup(path);
    if (config_load_file(&m->cfg, &m->diag, m->cfg_origin) < 0)
        return ETN_EUSER;
    if (!realpath(path, m->config_path))
        snprintf(m->config_path, sizeof m->config_path, "%s", path);
    m->compiled = 0;
    return ETN_OK;
}

int etn_config_text(EtnModel *m, const char *text, const char *origin)
{
    model_reset_error(m);
    free(m->cfg_origin);
    m->cfg_origin = strdup(origin ? origin : "<config>");
    m->config_path[0] = 0;   /* not from a file now */
    if (config_load_text(&m->cfg, &m->diag, text, m->cfg_origin) < 0)
        return ETN_EUSER;
    m->compiled = 0;
    return ETN_OK;
}

static int dump_hw(EtnModel *m);

static void maybe_dump(EtnModel *m, const char *after)
{
    if (!m->dump_after[0] || (strcmp(m->dump_after, "all") && strcmp(m->dump_after, after)))
        return;
    buf_printf(&m->dump, "## after %s\n", after);
    ir_dump(&m->g, &m->dump);
}

int etn_compile(EtnModel *m)
{
    model_reset_error(m);
    if (!m->loaded) {
        diag_error(&m->diag, "no model loaded: call etn_load first");
        return ETN_EUSER;
    }
    if (m->compiled)
        return ETN_OK;
    /* passes rewrite the graph: always start from the imported one */
    if (m->passes_ran) {
        diag_error(&m->diag, "internal: recompiling a transformed graph; load the model again");
        return ETN_EINTERNAL;
    }
    buf_free(&m->dump);
    maybe_dump(m, "import");
    for (size_t k = 0; k < ETN_COUNTOF(compile_passes); k++) {
        m->passes_ran = 1;
        if (compile_passes[k].run(&m->g, &m->diag, &m->cfg) < 0)
            return fail(m);
        if (ir_verify(&m->g, &m->diag, compile_passes[k].name) < 0)
            return fail(m);
        maybe_dump(m, compile_passes[k].name);
    }
    emu_plan_free(m->plan);
    m->plan = emu_plan_new(&m->g, &m->diag);
    if (!m->plan)
        return fail(m);
    if (dump_hw(m) < 0)
        return fail(m);
    m->compiled = 1;
    return ETN_OK;
}

const char *etn_dump_text(const EtnModel *m) { return m->dump.data ? m->dump.data : ""; }

static int need_compiled(EtnModel *m)
{
    if (m->compiled)
        return 0;
    if (!m->loaded) {
        diag_error(&m->diag, "no model loaded: call etn_load first");
        return -1;
    }
    if (m->passes_ran) {
        diag_error(&m->diag, "the configuration changed after compiling: load the model again");
        return -1;
    }
    return etn_compile(m) == ETN_OK ? 0 : -1;
}

size_t etn_input_size(const EtnModel *m) { return m->plan ? (size_t)emu_input_size(m->plan) : 0; }
size_t etn_output_size(const EtnModel *m) { return m->plan ? (size_t)emu_output_size(m->plan) : 0; }
size_t etn_input_count(const EtnModel *m) { return m->plan ? m->g.ninputs : 0; }
size_t etn_output_count(const EtnModel *m) { return m->plan ? m->g.noutputs : 0; }

const char *etn_input_name(const EtnModel *m, size_t k)
{
    return k < etn_input_count(m) ? m->g.t[m->g.inputs[k]].name : NULL;
}

const char *etn_output_name(const EtnModel *m, size_t k)
{
    return k < etn_output_count(m) ? m->g.t[m->g.outputs[k]].name : NULL;
}

size_t etn_input_numel(const EtnModel *m, size_t k)
{
    return k < etn_input_count(m) ? (size_t)ir_numel(&m->g.t[m->g.inputs[k]]) : 0;
}

size_t etn_output_numel(const EtnModel *m, size_t k)
{
    return k < etn_output_count(m) ? (size_t)ir_numel(&m->g.t[m->g.outputs[k]]) : 0;
}

/* A fixed-point input has no code for NaN or an infinity: refuse them, naming the first and the count. */
static int check_finite(EtnModel *m, const double *x, size_t n)
{
    size_t w = etn_input_size(m), nan = 0, inf = 0, first = 0;
    for (size_t k = 0; k < n * w; k++) {
        if (isnan(x[k]) || isinf(x[k])) {
            if (!nan && !inf)
                first = k;
            nan += isnan(x[k]) != 0;
            inf += isinf(x[k]) != 0;
        }
    }
    if (!nan && !inf)
        return 0;
    return diag_error(&m->diag, "input event %zu, value %zu: expected a finite number, got %s (%zu NaN and %zu infinite "
                      "values in %zu events): a fixed-point input has no code for them; replace them first "
                      "(e.g. numpy.nan_to_num), or use --float",
                      first / w, first % w, isnan(x[first]) ? "NaN" : x[first] > 0 ? "+inf" : "-inf", nan, inf, n);
}

int etn_predict(EtnModel *m, const double *x, double *y, size_t n, int float_mode)
{
    model_reset_error(m);
    if (need_compiled(m) < 0)
        return fail(m);
    if (float_mode) {
        emu_run_float(m->plan, x, y, n);
        return ETN_OK;
    }
    if (check_finite(m, x, n) < 0)
        return ETN_EUSER;
    size_t no = (size_t)emu_output_size(m->plan);
    /* run in blocks so that codes need little extra memory */
    int64_t codes[4096];
    size_t block = no ? (sizeof codes / sizeof codes[0]) / no : 1;
    if (block == 0) {
        int64_t *c = malloc(no * sizeof(int64_t));
        if (!c)
            return ETN_EINTERNAL;
        for (size_t ev = 0; ev < n; ev++) {
            emu_run(m->plan, x + ev * etn_input_size(m), c, 1);
            for (size_t e = 0; e < no; e++)
                y[ev * no + e] = fx_to_double(c[e], emu_output_frac(m->plan, (long)e));
        }
        free(c);
        return ETN_OK;
    }
    for (size_t ev = 0; ev < n; ev += block) {
        size_t cnt = n - ev < block ? n - ev : block;
        emu_run(m->plan, x + ev * etn_input_size(m), codes, cnt);
        for (size_t e = 0; e < cnt * no; e++)
            y[ev * no + e] = fx_to_double(codes[e], emu_output_frac(m->plan, (long)(e % no)));
    }
    return ETN_OK;
}

int etn_predict_raw(EtnModel *m, const double *x, int64_t *y, size_t n)
{
    model_reset_error(m);
    if (need_compiled(m) < 0)
        return fail(m);
    if (check_finite(m, x, n) < 0)
        return ETN_EUSER;
    emu_run(m->plan, x, y, n);
    return ETN_OK;
}

int etn_predict_codes(EtnModel *m, const int64_t *x, int64_t *y, size_t n)
{
    model_reset_error(m);
    if (need_compiled(m) < 0)
        return fail(m);
    emu_run_codes(m->plan, x, y, n);
    return ETN_OK;
}

void etn_format_code(const EtnModel *m, int64_t code, char *buf, size_t n)
{
    fx_format_value(code, fx_frac(m->g.t[m->g.outputs[0]].type), buf, n);
}

double etn_code_value(const EtnModel *m, int64_t code)
{
    return fx_to_double(code, fx_frac(m->g.t[m->g.outputs[0]].type));
}

/* ---- layers ------------------------------------------------------------ */

static const Node *layer(const EtnModel *m, size_t k)
{
    size_t seen = 0;
    for (size_t i = 0; i < m->g.nn; i++)
        if (!m->g.n[i].dead && seen++ == k)
            return &m->g.n[i];
    return NULL;
}

size_t etn_layer_count(const EtnModel *m)
{
    size_t c = 0;
    for (size_t i = 0; i < m->g.nn; i++)
        c += !m->g.n[i].dead;
    return c;
}

const char *etn_layer_name(const EtnModel *m, size_t k)
{
    const Node *n = layer(m, k);
    return n ? n->name : NULL;
}

const char *etn_layer_class(const EtnModel *m, size_t k)
{
    const Node *n = layer(m, k);
    return n ? ir_hls_class(n) : NULL;
}

size_t etn_layer_size(const EtnModel *m, size_t k)
{
    const Node *n = layer(m, k);
    return n ? (size_t)ir_numel(&m->g.t[n->out]) : 0;
}

const char *etn_layer_type(const EtnModel *m, size_t k)
{
    const Node *n = layer(m, k);
    if (!n || !m->g.t[n->out].has_type)
        return NULL;
    EtnModel *mm = (EtnModel *)m;
    fx_format(m->g.t[n->out].type, mm->type_str, sizeof mm->type_str);
    return mm->type_str;
}

int etn_trace(EtnModel *m, const double *x, size_t k, double *out, int float_mode)
{
    model_reset_error(m);
    if (need_compiled(m) < 0)
        return fail(m);
    const Node *n = layer(m, k);
    if (!n) {
        diag_error(&m->diag, "layer %zu: expected 0..%zu", k, etn_layer_count(m) - 1);
        return ETN_EUSER;
    }
    if (!float_mode && check_finite(m, x, 1) < 0)
        return ETN_EUSER;
    emu_trace(m->plan, x, n->out, out, float_mode);
    return ETN_OK;
}

const char *etn_input_type(const EtnModel *m)
{
    EtnModel *mm = (EtnModel *)m;
    if (!m->compiled)
        return NULL;
    fx_format(m->g.t[m->g.inputs[0]].type, mm->type_str, sizeof mm->type_str);
    return mm->type_str;
}

const char *etn_output_type(const EtnModel *m)
{
    EtnModel *mm = (EtnModel *)m;
    if (!m->compiled)
        return NULL;
    fx_format(m->g.t[m->g.outputs[0]].type, mm->type_str, sizeof mm->type_str);
    return mm->type_str;
}

const char *etn_config_template(EtnModel *m, const char *granularity)
{
    model_reset_error(m);
    if (!m->loaded) {
        diag_error(&m->diag, "no model loaded: call etn_load first");
        return NULL;
    }
    /* the layers a config names are those left after the structural passes */
    for (size_t k = 0; !m->passes_ran && k < ETN_COUNTOF(compile_passes); k++) {
        if (!strcmp(compile_passes[k].name, "precision"))
            break;
        if (compile_passes[k].run(&m->g, &m->diag, &m->cfg) < 0 || ir_verify(&m->g, &m->diag, compile_passes[k].name) < 0)
            return NULL;
    }
    m->passes_ran = 1;
    buf_free(&m->tmpl);
    if (config_template(&m->g, &m->diag, granularity, &m->tmpl) < 0)
        return NULL;
    return m->tmpl.data ? m->tmpl.data : "";
}

/* ---- writing ----------------------------------------------------------- */

/* io_parallel RTL holds every value of every layer at once (wires, registers, one product tree per
 * output value): past this many values in one layer it would not fit any device, nor memory here. */
#define RTL_PARALLEL_MAX_VALUES 65536L

static int rtl_parallel_fits(const Graph *g, Diag *d)
{
    for (size_t k = 0; k < g->nn; k++) {
        const Node *n = &g->n[k];
        long v = n->dead ? 0 : ir_numel(&g->t[n->out]);
        if (v > RTL_PARALLEL_MAX_VALUES)
            return diag_error(d, "%s: layer '%s' (%s) has %ld values: io_parallel RTL keeps every value of every layer "
                              "in the circuit at once, at most %ld per layer; use --no-rtl for the emulator and the C "
                              "back end (predict works at any size)", g->file, n->name, n->src_op, v,
                              RTL_PARALLEL_MAX_VALUES);
    }
    return 0;
}

/* ---- all or nothing: the writers fill a staging folder inside OUT; only a
 * complete set of files replaces what OUT held ------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

/* Remove a file or a folder with everything in it (symbolic links are removed, never followed). */
static void remove_tree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* mkdir -p */
static int make_dirs(Diag *d, const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return diag_error(d, "%s: expected an output folder name shorter than %zu bytes", dir, sizeof p);
    for (char *c = p + 1;; c++) {
        if (*c && *c != '/')
            continue;
        char keep = *c;
        *c = 0;
        if (mkdir(p, 0777) < 0 && errno != EEXIST)
            return diag_error(d, "%s: cannot create folder: %s", p, strerror(errno));
        *c = keep;
        if (!keep)
            break;
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return diag_error(d, "%s: expected an output folder, got a file of that name", dir);
    return 0;
}

/* Move every entry of the staging folder into OUT, replacing entries of the same
 * name (a folder as a whole: OUT/rtl holds only this run's modules afterwards).
 * First every entry to be replaced is set aside, then the new ones move in; if a
 * step fails, what was moved is put back, so OUT holds the old set or the new one. */
static int publish_staging(Diag *d, const char *stage, const char *dir)
{
    DIR *sd = opendir(stage);
    if (!sd)
        return diag_error(d, "%s: cannot read: %s", stage, strerror(errno));
    char **names = NULL;
    size_t nn = 0, cn = 0;
    struct dirent *e;
    while ((e = readdir(sd)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char *c = strdup(e->d_name);
            if (c)
                VEC_PUSH(names, nn, cn, c);
        }
    closedir(sd);
    char old[4200];
    snprintf(old, sizeof old, "%s.old", stage);
    remove_tree(old);
    int rc = mkdir(old, 0777) < 0 ? diag_error(d, "%s: cannot create folder: %s", old, strerror(errno)) : 0;
    size_t aside = 0, moved = 0;
    char from[4400], to[4400], keep[4400];
    for (; rc == 0 && aside < nn; aside++) {   /* 1: set the old entries aside */
        snprintf(to, sizeof to, "%s/%s", dir, names[aside]);
        snprintf(keep, sizeof keep, "%s/%s", old, names[aside]);
        struct stat st;
        if (lstat(to, &st) == 0 && rename(to, keep) < 0)
            rc = diag_error(d, "%s: cannot replace: %s", to, strerror(errno));
    }
    for (; rc == 0 && moved < nn; moved++) {   /* 2: move the new ones in */
        snprintf(from, sizeof from, "%s/%s", stage, names[moved]);
        snprintf(to, sizeof to, "%s/%s", dir, names[moved]);
        if (rename(from, to) < 0)
            rc = diag_error(d, "%s: cannot write: %s", to, strerror(errno));
    }
    if (rc != 0) {   /* undo: new entries back to the stage, old ones back into OUT */
        for (size_t k = 0; k < moved; k++) {
            snprintf(from, sizeof from, "%s/%s", stage, names[k]);
            snprintf(to, sizeof to, "%s/%s", dir, names[k]);
            rename(to, from);
        }
        for (size_t k = 0; k < aside; k++) {
            snprintf(to, sizeof to, "%s/%s", dir, names[k]);
            snprintf(keep, sizeof keep, "%s/%s", old, names[k]);
            rename(keep, to);
        }
    }
    for (size_t k = 0; k < nn; k++)
        free(names[k]);
    free(names);
    remove_tree(old);
    return rc;
}

/* A path in report.json's "source": JSON strings are UTF-8, a file name may be any bytes.  A path that
 * is not valid UTF-8 is written readable (U+FFFD for the odd bytes) and exactly, as hex, in KEY_hex
 * (etchnn verify reloads from that). */
static void add_path(cJSON *src, const char *key, const char *path)
{
    char clean[4200];
    names_utf8(clean, sizeof clean, path);
    cJSON_AddStringToObject(src, key, clean);
    if (!strcmp(clean, path))
        return;
    size_t n = strlen(path);
    char *hex = malloc(2 * n + 1), hk[64];
    if (!hex)
        return;
    for (size_t k = 0; k < n; k++)
        snprintf(hex + 2 * k, 3, "%02x", (unsigned char)path[k]);
    snprintf(hk, sizeof hk, "%s_hex", key);
    cJSON_AddStringToObject(src, hk, hex);
    free(hex);
}

/* Past this many bytes of Verilog a design is unlikely to synthesize in reasonable time or fit a device. */
#define LARGE_RTL_BYTES (64L << 20)

/* A warning when the Verilog written into stage/rtl is very large, naming the largest module file. */
static void warn_large_rtl(Diag *d, const char *file, const char *stage)
{
    char rdir[4300];
    snprintf(rdir, sizeof rdir, "%s/rtl", stage);
    DIR *rd = opendir(rdir);
    if (!rd)
        return;
    long long total = 0, big = 0;
    char bigname[256] = "";
    struct dirent *e;
    while ((e = readdir(rd)) != NULL) {
        char p[4600];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", rdir, e->d_name);
        if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        total += st.st_size;
        if (st.st_size > big || (st.st_size == big && strcmp(e->d_name, bigname) < 0)) {
            big = st.st_size;
            snprintf(bigname, sizeof bigname, "%s", e->d_name);
        }
    }
    closedir(rd);
    if (total > LARGE_RTL_BYTES)
        diag_warn(d, "%s: the Verilog is %.1f MB (more than %ld MB; largest: rtl/%s, %.1f MB): synthesis may take hours "
                  "and the design may fit no device; consider --io stream, narrower types, or --no-rtl for the C emulator only",
                  file, (double)total / 1e6, LARGE_RTL_BYTES >> 20, bigname, (double)big / 1e6);
}

/* The RTL clock: --clock-mhz, else hls4ml's ClockPeriod (ns), else 200 MHz. */
static int resolve_clock(EtnModel *m)
{
    if (!m->clock_set) {   /* hls4ml's ClockPeriod (ns) when --clock-mhz is not given */
        double ns;
        if (config_clock_period(&m->cfg, &m->diag, &ns) < 0)
            return -1;
        m->clock_mhz = ns > 0 ? 1000.0 / ns : 200;
        if (!(m->clock_mhz <= 2000)) {
            diag_error(&m->diag, "%s: ClockPeriod: expected at least 0.5 ns (2000 MHz), got %g ns", m->cfg.origin, ns);
            return -1;
        }
    }
    return 0;
}

/* The part: --part, else the config's Part (hls4ml's key), else none; --fit needs one. */
static int resolve_part(EtnModel *m, const struct HwPart **part)
{
    *part = NULL;
    const char *name = m->part[0] ? m->part : NULL, *from = "--part";
    if (!name && config_part(&m->cfg, &m->diag, &name) < 0)
        return -1;
    if (!m->part[0])
        from = "Part";
    if (name && !(*part = hw_part_find(name))) {
        Buf names = {0};
        hw_part_names(&names);
        diag_error(&m->diag, "%s%s%s: expected a part etchnn knows (%s, with or without package and speed grade), got "
                   "'%s'", from[0] == 'P' ? m->cfg.origin : "", from[0] == 'P' ? ": " : "", from, names.data, name);
        buf_free(&names);
        return -1;
    }
    if (m->fit > 0 && !*part)
        return diag_error(&m->diag, "--fit %g: expected a part to fit (--part or the config's Part), got none", m->fit);
    return 0;
}

/* io_stream: a ConvImplementation Encoded is refused (etchnn's stream convolutions are line buffers) */
static int stream_conv_check(EtnModel *m, int io)
{
    if (io == 1 && m->cfg.conv_encoded_at[0])
        return diag_error(&m->diag, "%s: %s: expected LineBuffer under io_stream, got Encoded (etchnn's io_stream "
                          "convolutions gather their windows in line buffers; hls4ml's Encoded form is not built)",
                          m->cfg.origin, m->cfg.conv_encoded_at);
    return 0;
}

/* --dump-after a hardware step (hw_step_name): the dump is read after etn_compile,
 * so the design (io_stream's, or io_parallel's) is built here for it alone. */
static int dump_hw(EtnModel *m)
{
    int hw = 0, io = m->io;
    for (size_t k = 0; hw_step_name(k); k++)
        hw |= !strcmp(m->dump_after, hw_step_name(k));
    if (!hw || !(m->emit & EMIT_RTL))
        return 0;
    if ((io < 0 && config_io_stream(&m->cfg, &m->diag, &io) < 0) || stream_conv_check(m, io) < 0 || resolve_clock(m) < 0)
        return -1;
    HwOptions ro = {.clock_mhz = m->clock_mhz, .mult = (MultMode)m->multipliers, .dump_after = m->dump_after,
                    .dump = &m->dump};
    if (resolve_part(m, &ro.part) < 0)   /* the part's family sets the delay model */
        return -1;
    if (io == 1) {
        Stream *st = stream_build(&m->g, &ro, &m->diag);
        stream_free(st);
        return st ? 0 : -1;
    }
    HwDesign d;
    if (rtl_parallel_fits(&m->g, &m->diag) < 0 || hw_build(&d, &m->g, &ro, &m->diag) < 0)
        return -1;
    hw_free(&d);
    return 0;
}

int etn_write(EtnModel *m, const char *dir)
{
    model_reset_error(m);
    if (!dir || !dir[0]) {
        diag_error(&m->diag, "expected an output folder, got an empty name");
        return fail(m);
    }
    if (need_compiled(m) < 0)
        return fail(m);
    /* the model name becomes file names (c/NAME.c, rtl/NAME.v): the front ends make it an identifier,
     * so that no name from a model can point outside OUT; checked here once more */
    const char *nm = m->g.name;
    int ident = nm && nm[0] && !(nm[0] >= '0' && nm[0] <= '9');
    for (const char *c = nm; ident && *c; c++)
        ident = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_';
    if (!ident) {
        diag_error(&m->diag, "internal: model name '%s' is not an identifier", nm ? nm : "");
        return fail(m);
    }
    if ((m->g.ninputs != 1 || m->g.noutputs != 1) && (m->emit & (EMIT_HLS | EMIT_AXIS | EMIT_VIVADO | EMIT_FUSESOC | EMIT_CMSSW))) {
        diag_error(&m->diag, "%s: %zu input%s and %zu output%s: a model with several inputs or outputs is supported by "
                   "the emulator (etchnn predict), the generated C and the io_parallel RTL only, not yet by the HLS, "
                   "AXI, Vivado, FuseSoC or CMSSW back ends: compile it with --emit c,rtl", m->g.file, m->g.ninputs,
                   m->g.ninputs == 1 ? "" : "s", m->g.noutputs, m->g.noutputs == 1 ? "" : "s");
        return fail(m);
    }
    int io = m->io;
    if ((io < 0 && config_io_stream(&m->cfg, &m->diag, &io) < 0) || stream_conv_check(m, io) < 0)
        return fail(m);
    /* build everything in memory first: an error leaves no output behind */
    HwDesign rtl;
    if (resolve_clock(m) < 0)
        return fail(m);
    HwOptions ro = {.clock_mhz = m->clock_mhz, .mult = (MultMode)m->multipliers};
    if (resolve_part(m, &ro.part) < 0)
        return fail(m);
    if (m->fit > 0 && !(m->emit & EMIT_RTL)) {   /* it chooses the RTL's reuse factors and multipliers only */
        diag_error(&m->diag, "%s: --fit %g chooses each layer's ReuseFactor and multipliers for the RTL: expected an --emit "
                   "that writes rtl, got one without it (--no-rtl or --emit without rtl)", m->g.file, m->fit);
        return fail(m);
    }
    if (m->fit > 0) {
        free(m->node_mult);
        buf_free(&m->fit_json);
        m->node_mult = malloc(m->g.nn ? m->g.nn : 1);
        if (!m->node_mult) {
            diag_error(&m->diag, "out of memory");
            return fail(m);
        }
        if ((io == 1 ? stream_fit(&m->g, &ro, ro.part, m->fit, m->node_mult, &m->fit_json, &m->diag)
                     : hw_fit(&m->g, &ro, ro.part, m->fit, m->node_mult, &m->fit_json, &m->diag)) < 0)
            return fail(m);
        ro.node_mult = m->node_mult;
    }
    int have_rtl = 0;
    Stream *st = NULL;
    if ((m->emit & EMIT_RTL) && io != 1 && rtl_parallel_fits(&m->g, &m->diag) < 0)
        return fail(m);
    if ((m->emit & EMIT_RTL) && io == 1) {
        if (!(st = stream_build(&m->g, &ro, &m->diag)))
            return fail(m);
        if (m->fit > 0)
            stream_set_fit(st, m->fit_json.data);
    }
    /* io_stream: the io_parallel circuit too, for the report's comparison,
     * unless the image is large (its build would dominate; --io parallel shows it) */
    int want_par = (m->emit & EMIT_RTL) && (!st || (m->g.ninputs == 1 && ir_numel(&m->g.t[m->g.inputs[0]]) <= STREAM_COMPARE_MAX));
    if (want_par) {
        if (hw_build(&rtl, &m->g, &ro, &m->diag) < 0) {
            stream_free(st);
            return fail(m);
        }
        have_rtl = 1;
        if (m->fit > 0)
            rtl.fit = m->fit_json.data;
    }
    int rc = ETN_OK;
    const char *outdir = dir;
    char stage[4200];
    struct stat ost;
    int out_existed = stat(outdir, &ost) == 0;
    if (make_dirs(&m->diag, outdir) < 0) {
        if (have_rtl)
            hw_free(&rtl);
        stream_free(st);
        return fail(m);
    }
    snprintf(stage, sizeof stage, "%s/.etchnn-partial-%ld", outdir, (long)getpid());
    remove_tree(stage);
    if (mkdir(stage, 0777) < 0) {
        diag_error(&m->diag, "%s: cannot create folder: %s", stage, strerror(errno));
        if (have_rtl)
            hw_free(&rtl);
        stream_free(st);
        return fail(m);
    }
    dir = stage;
    unsigned emit = m->emit, par_only = 0;
    size_t nw;
    const Writer *w = writers(&nw);
    for (size_t k = 0; k < nw; k++)
        par_only |= w[k].parallel_only ? w[k].bit : 0;
    if (st && (emit & EMIT_ASKED_ALL))   /* "all": what applies to this design */
        emit &= ~par_only;
    if (st && (emit & par_only)) {
        diag_error(&m->diag, "--emit: axis and vivado are for io_parallel designs (an io_stream top already has "
                   "in_ready), got them for an io_stream design");
        rc = fail(m);
    } else {
        /* how to rebuild this model: etchnn verify reloads it */
        cJSON *src = cJSON_CreateObject();
        add_path(src, "model", m->model_path);
        for (size_t k = 0; opt_def(k); k++) {   /* the options table: what etchnn verify re-applies */
            const OptDef *o = opt_def(k);
            char v[4200];
            if (!o->info.source)
                continue;
            if (!o->get(m, v, sizeof v)) {
                if (!o->always)
                    continue;
                v[0] = 0;
            }
            if (o->kind == OPT_PATH)
                add_path(src, o->info.source, v);
            else if (o->kind == OPT_NUMBER)
                cJSON_AddNumberToObject(src, o->info.source, strtod(v, NULL));
            else
                cJSON_AddStringToObject(src, o->info.source, v);
        }
        char *text = cJSON_PrintUnformatted(src);
        /* the back ends, in the table's order (backends/writers.c) */
        WriteJob job = {&m->g, m->plan, have_rtl ? &rtl : NULL, st, m->clock_mhz, m->cmssw_version, emit, text};
        if (writers_run(&job, &m->diag, dir) < 0)
            rc = fail(m);
        cJSON_free(text);
        cJSON_Delete(src);
    }
    if (have_rtl)
        hw_free(&rtl);
    stream_free(st);
    if (rc == ETN_OK)
        warn_large_rtl(&m->diag, m->g.file, stage);
    if (rc == ETN_OK && publish_staging(&m->diag, stage, outdir) < 0)
        rc = fail(m);
    remove_tree(stage);
    if (rc != ETN_OK && !out_existed)
        rmdir(outdir);   /* a folder this run created, left empty */
    return rc;
}

/* ---- event files ------------------------------------------------------- */

int etn_read_events(EtnModel *m, const char *path, double **x, size_t *n)
{
    model_reset_error(m);
    if (need_compiled(m) < 0)
        return fail(m);
    if (data_read(&m->diag, path, etn_input_size(m), x, n) < 0)
        return ETN_EUSER;
    return ETN_OK;
}

int etn_read_inputs(EtnModel *m, const char *const *paths, size_t npaths, double **x, size_t *n)
{
    model_reset_error(m);
    if (need_compiled(m) < 0)
        return fail(m);
    size_t ni = m->g.ninputs, width = etn_input_size(m);
    int npz = npaths == 1 && data_is_npz(paths[0]);
    if (!npz && npaths != ni) {
        Buf names = {0};
        for (size_t k = 0; k < ni; k++)
            buf_printf(&names, "%s'%s'", k ? ", " : "", m->g.t[m->g.inputs[k]].name);
        diag_error(&m->diag, "%s: expected %zu input file%s (one per model input, in order: %s) or one .npz holding an "
                   "array per input name, got %zu file%s", m->g.file, ni, ni == 1 ? "" : "s", names.data ? names.data : "",
                   npaths, npaths == 1 ? "" : "s");
        buf_free(&names);
        return ETN_EUSER;
    }
    if (ni == 1 && !npz)
        return etn_read_events(m, paths[0], x, n);
    double *all = NULL;
    size_t events = 0, col = 0;
    for (size_t k = 0; k < ni; k++) {
        const Tensor *t = &m->g.t[m->g.inputs[k]];
        size_t w = (size_t)ir_numel(t), got = 0;
        double *v = NULL;
        int rc = npz ? data_read_npz(&m->diag, paths[0], t->name, w, &v, &got) : data_read(&m->diag, paths[k], w, &v, &got);
        if (rc < 0) {
            free(all);
            return ETN_EUSER;
        }
        if (k == 0) {
            events = got;
            all = malloc(events * width * sizeof(double));
            if (!all) {
                free(v);
                diag_error(&m->diag, "out of memory for %zu events", events);
                return ETN_EINTERNAL;
            }
        } else if (got != events) {
            diag_error(&m->diag, "%s: expected %zu events for input '%s' (as many as input '%s' has), got %zu",
                       npz ? paths[0] : paths[k], events, t->name, m->g.t[m->g.inputs[0]].name, got);
            free(v);
            free(all);
            return ETN_EUSER;
        }
        for (size_t ev = 0; ev < events; ev++)
            memcpy(all + ev * width + col, v + ev * w, w * sizeof(double));
        col += w;
        free(v);
    }
    *x = all;
    *n = events;
    return ETN_OK;
}

int etn_write_outputs_npz(EtnModel *m, const char *path, const double *y, size_t n)
{
    model_reset_error(m);
    if (need_compiled(m) < 0)
        return fail(m);
    size_t no = m->g.noutputs;
    const char **keys = calloc(no, sizeof *keys);
    size_t *widths = calloc(no, sizeof *widths);
    int rc = ETN_EINTERNAL;
    if (keys && widths) {
        for (size_t k = 0; k < no; k++) {
            keys[k] = m->g.t[m->g.outputs[k]].name;
            widths[k] = (size_t)ir_numel(&m->g.t[m->g.outputs[k]]);
        }
        rc = data_write_npz(&m->diag, path, no, keys, widths, y, n) < 0 ? ETN_EUSER : ETN_OK;
    } else {
        diag_error(&m->diag, "out of memory");
    }
    free(keys);
    free(widths);
    return rc;
}

double etn_output_code_value(const EtnModel *m, size_t e, int64_t code)
{
    return fx_to_double(code, m->plan ? emu_output_frac(m->plan, (long)e) : 0);
}

void etn_format_output_code(const EtnModel *m, size_t e, int64_t code, char *buf, size_t n)
{
    fx_format_value(code, m->plan ? emu_output_frac(m->plan, (long)e) : 0, buf, n);
}

int etn_write_npy(EtnModel *m, const char *path, const double *y, size_t n, size_t width)
{
    model_reset_error(m);
    return data_write_npy(&m->diag, path, y, n, width) < 0 ? ETN_EUSER : ETN_OK;
}

int etn_write_file(EtnModel *m, const char *path, const void *data, size_t len)
{
    model_reset_error(m);
    return data_write_file(&m->diag, path, data, len) < 0 ? ETN_EUSER : ETN_OK;
}

void etn_free(void *p) { free(p); }

const char *etn_version(void) { return ETCHNN_VERSION; }
