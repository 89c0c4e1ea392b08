/* ir.c — graph construction, queries, dump and verifier. */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

#define X(e, n, h, v) n,
const char *const op_names[OP_COUNT_] = {ETN_OPS(X)};
#undef X
#define X(e, n, h, v) h,
const char *const op_hls_class[OP_COUNT_] = {ETN_OPS(X)};
#undef X
#define X(e, n, h, v) v,
const unsigned op_vars[OP_COUNT_] = {ETN_OPS(X)};
#undef X

void ir_init(Graph *g, const char *file)
{
    memset(g, 0, sizeof(*g));
    g->file = arena_strdup(&g->arena, file ? file : "<model>");
    g->name = "model";
}

void ir_free(Graph *g)
{
    free(g->t);
    free(g->n);
    free(g->inputs);
    free(g->outputs);
    arena_free(&g->arena);
    memset(g, 0, sizeof(*g));
}

int ir_add_tensor(Graph *g, const char *name, int rank, const int *dims)
{
    Tensor t;
    memset(&t, 0, sizeof t);
    t.name = arena_strdup(&g->arena, name);
    t.rank = rank;
    for (int k = 0; k < rank && k < IR_MAX_RANK; k++)
        t.dims[k] = dims[k];
    t.producer = -1;
    VEC_PUSH(g->t, g->nt, g->ct, t);
    return (int)g->nt - 1;
}

int ir_add_const(Graph *g, const char *name, int rank, const int *dims_in, const double *data)
{
    int dims[IR_MAX_RANK + 1] = {0};   /* dims_in may point into g->t, which may move */
    for (int k = 0; k < rank && k <= IR_MAX_RANK; k++)
        dims[k] = dims_in[k];
    int id = ir_add_tensor(g, name, rank, dims);
    Tensor *t = &g->t[id];
    t->is_const = true;
    t->const_rank = rank;
    for (int k = 0; k < rank; k++)
        t->const_dims[k] = dims[k];
    long n = ir_numel(t);
    t->data = arena_array(&g->arena, (size_t)n, sizeof(double));
    if (data)
        memcpy(t->data, data, (size_t)n * sizeof(double));
    return id;
}

int ir_add_node(Graph *g, Op op, const char *name, const char *src_op, const int *in, int nin, int out)
{
    Node n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.name = arena_strdup(&g->arena, name);
    n.src_op = arena_strdup(&g->arena, src_op ? src_op : op_names[op]);
    for (int k = 0; k < IR_MAX_IN; k++)
        n.in[k] = k < nin ? in[k] : -1;
    n.nin = nin;
    n.out = out;
    n.fused_relu = -1;
    n.reuse = 1;
    n.strategy = "Latency";
    VEC_PUSH(g->n, g->nn, g->cn, n);
    if (out >= 0)
        g->t[out].producer = (int)g->nn - 1;
    return (int)g->nn - 1;
}

int ir_find_tensor(const Graph *g, const char *name)
{
    for (size_t k = g->nt; k-- > 0;)
        if (strcmp(g->t[k].name, name) == 0)
            return (int)k;
    return -1;
}

long ir_numel(const Tensor *t)
{
    long n = 1;
    for (int k = 0; k < t->rank; k++)
        n *= t->dims[k];
    return n;
}

long ir_const_numel(const Tensor *t)
{
    long n = 1;
    for (int k = 0; k < t->const_rank; k++)
        n *= t->const_dims[k];
    return n;
}

int ir_consumers(const Graph *g, int tensor, int *first)
{
    int count = 0;
    for (size_t k = 0; k < g->nn; k++) {
        const Node *n = &g->n[k];
        if (n->dead)
            continue;
        for (int j = 0; j < n->nin; j++)
            if (n->in[j] == tensor) {
                if (count == 0 && first)
                    *first = (int)k;
                count++;
                break;
            }
    }
    return count;
}

bool ir_is_output(const Graph *g, int tensor)
{
    for (size_t k = 0; k < g->noutputs; k++)
        if (g->outputs[k] == tensor)
            return true;
    return false;
}

void ir_replace_uses(Graph *g, int from, int to)
{
    for (size_t k = 0; k < g->nn; k++)
        for (int j = 0; j < g->n[k].nin; j++)
            if (g->n[k].in[j] == from)
                g->n[k].in[j] = to;
    for (size_t k = 0; k < g->noutputs; k++)
        if (g->outputs[k] == from)
            g->outputs[k] = to;
}

void ir_compact(Graph *g)
{
    size_t w = 0;
    int *map = malloc((g->nn ? g->nn : 1) * sizeof(int));
    if (!map)
        abort();
    for (size_t k = 0; k < g->nn; k++) {
        map[k] = g->n[k].dead ? -1 : (int)w;
        if (!g->n[k].dead)
            g->n[w++] = g->n[k];
    }
    g->nn = w;
    for (size_t k = 0; k < g->nt; k++)
        if (g->t[k].producer >= 0)
            g->t[k].producer = map[g->t[k].producer];
    for (size_t k = 0; k < g->nn; k++)
        if (g->n[k].fused_relu >= 0)
            g->n[k].fused_relu = map[g->n[k].fused_relu];
    free(map);
}

void ir_shape_str(const Tensor *t, char *out, size_t n)
{
    size_t len = 0;
    int rank = t->is_const ? t->const_rank : t->rank;
    const int *dims = t->is_const ? t->const_dims : t->dims;
    len += (size_t)snprintf(out + len, n - len, "[");
    for (int k = 0; k < rank && len < n; k++)
        len += (size_t)snprintf(out + len, n - len, "%s%d", k ? "," : "", dims[k]);
    if (len < n)
        snprintf(out + len, n - len, "]");
}

static void dump_tensor_ref(const Graph *g, int id, Buf *out)
{
    const Tensor *t = &g->t[id];
    char shape[96], type[64] = "?";
    ir_shape_str(t, shape, sizeof shape);
    if (t->has_type)
        fx_format(t->type, type, sizeof type);
    buf_printf(out, "%%%d%s%s %s %s", id, t->is_const ? "=const " : " ", t->name, shape, type);
}

void ir_dump(const Graph *g, Buf *out)
{
    buf_printf(out, "graph %s (%s)\n", g->name, g->file);
    for (size_t k = 0; k < g->ninputs; k++) {
        buf_printf(out, "  input ");
        dump_tensor_ref(g, g->inputs[k], out);
        buf_printf(out, "\n");
    }
    for (size_t k = 0; k < g->nn; k++) {
        const Node *n = &g->n[k];
        if (n->dead)
            continue;
        buf_printf(out, "  #%zu %s '%s' (", k, op_names[n->op], n->name);
        for (int j = 0; j < n->nin; j++) {
            if (j)
                buf_printf(out, ", ");
            if (n->in[j] < 0)
                buf_printf(out, "-");
            else
                dump_tensor_ref(g, n->in[j], out);
        }
        buf_printf(out, ") -> ");
        dump_tensor_ref(g, n->out, out);
        char ty[64];
        if (n->op == OP_DENSE && n->accum.w) {
            fx_format(n->accum, ty, sizeof ty);
            buf_printf(out, " accum=%s", ty);
        }
        if (n->op == OP_DENSE && n->fused_relu >= 0)
            buf_printf(out, " fused_relu=#%d", n->fused_relu);
        if (n->op == OP_LEAKYRELU)
            buf_printf(out, " alpha=%.17g", n->alpha);
        if (n->op == OP_HARDSIGMOID || n->op == OP_CLIP)
            buf_printf(out, " alpha=%.17g beta=%.17g", n->alpha, n->beta);
        if (n->op == OP_SOFTMAX)
            buf_printf(out, " axis=%d", n->axis);
        if ((n->op == OP_SIGMOID || n->op == OP_TANH || n->op == OP_SOFTMAX) && n->table_size)
            buf_printf(out, " tables=%s table_size=%d", n->tables == TABLES_HLS4ML ? "hls4ml" : "exact", n->table_size);
        buf_printf(out, "\n");
    }
    for (size_t k = 0; k < g->noutputs; k++) {
        buf_printf(out, "  output ");
        dump_tensor_ref(g, g->outputs[k], out);
        buf_printf(out, "\n");
    }
}

int ir_verify(const Graph *g, Diag *d, const char *after)
{
    char *seen = calloc(g->nt ? g->nt : 1, 1);
    int rc = 0;
    if (!seen)
        abort();
    for (size_t k = 0; k < g->ninputs; k++)
        seen[g->inputs[k]] = 1;
    for (size_t k = 0; k < g->nt; k++)
        if (g->t[k].is_const)
            seen[k] = 1;
    for (size_t k = 0; k < g->nn && rc == 0; k++) {
        const Node *n = &g->n[k];
        if (n->dead)
            continue;
        if (n->out < 0 || (size_t)n->out >= g->nt || g->t[n->out].producer != (int)k) {
            rc = diag_error(d, "internal: after %s: node '%s' output/producer mismatch", after, n->name);
            break;
        }
        for (int j = 0; j < n->nin; j++) {
            int t = n->in[j];
            if (t < 0)
                continue;
            if ((size_t)t >= g->nt || !seen[t]) {
                rc = diag_error(d, "internal: after %s: node '%s' reads tensor %d before it is defined", after,
                                n->name, t);
                break;
            }
        }
        if (n->op != OP_INPUT && n->nin < 1)
            rc = diag_error(d, "internal: after %s: node '%s' has no input", after, n->name);
        if (n->op == OP_DENSE && (n->in[1] < 0 || !g->t[n->in[1]].is_const))
            rc = diag_error(d, "internal: after %s: dense '%s' without constant weights", after, n->name);
        seen[n->out] = 1;
    }
    for (size_t k = 0; k < g->noutputs && rc == 0; k++)
        if (!seen[g->outputs[k]])
            rc = diag_error(d, "internal: after %s: output tensor %d is never computed", after, g->outputs[k]);
    free(seen);
    return rc;
}
