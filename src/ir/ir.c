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

void ir_pin_from(Graph *g, int dst, int src)
{
    if (dst < 0 || src < 0 || !g->t[src].type_pinned)
        return;
    g->t[dst].type = g->t[src].type;
    g->t[dst].type_pinned = true;
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
    for (int k = 0; k < 2; k++)
        n.kernel[k] = n.stride[k] = n.dilation[k] = 1;
    n.groups = 1;
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

bool ir_is_window_op(Op op)
{
    return op == OP_CONV1D || op == OP_CONV2D || op == OP_MAXPOOL1D || op == OP_MAXPOOL2D || op == OP_AVGPOOL1D ||
           op == OP_AVGPOOL2D;
}

bool ir_is_merge_op(Op op)
{
    return op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_AVERAGE || op == OP_MAXIMUM || op == OP_MINIMUM;
}

void ir_hwc(const Tensor *t, int *h, int *w, int *c)
{
    if (t->rank >= 3) {
        *h = t->dims[t->rank - 3];
        *w = t->dims[t->rank - 2];
    } else {
        *h = 1;
        *w = t->rank >= 2 ? t->dims[t->rank - 2] : 1;
    }
    *c = t->rank >= 1 ? t->dims[t->rank - 1] : 1;
}

void ir_window_taps(const Graph *g, const Node *n, int32_t *tab)
{
    int ih, iw, ic, oh, ow, oc;
    ir_hwc(&g->t[n->in[0]], &ih, &iw, &ic);
    ir_hwc(&g->t[n->out], &oh, &ow, &oc);
    long taps = (long)n->kernel[0] * n->kernel[1], at = 0;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int ky = 0; ky < n->kernel[0]; ky++)
                for (int kx = 0; kx < n->kernel[1]; kx++) {
                    int sy = y * n->stride[0] + ky * n->dilation[0] - n->pad_lo[0];
                    int sx = x * n->stride[1] + kx * n->dilation[1] - n->pad_lo[1];
                    int dy = ir_in_dil(n, 0), dx = ir_in_dil(n, 1);
                    if (dy > 1 || dx > 1) {   /* a tap on an inserted zero lies in the padding */
                        if (sy < 0 || sx < 0 || sy % dy || sx % dx) {
                            tab[at++] = -1;
                            continue;
                        }
                        sy /= dy;
                        sx /= dx;
                    }
                    tab[at++] = sy >= 0 && sy < ih && sx >= 0 && sx < iw ? (int32_t)(sy * iw + sx) : -1;
                }
    (void)taps;
}

void ir_gather_table(const Graph *g, const Node *n, int32_t *tab)
{
    const Tensor *x = &g->t[n->in[0]], *y = &g->t[n->out];
    long ny = ir_numel(y);
    int ih, iw, ic, oh, ow, oc;
    ir_hwc(x, &ih, &iw, &ic);
    ir_hwc(y, &oh, &ow, &oc);
    switch (n->op) {
    case OP_PAD:
    case OP_UPSAMPLE:
        for (int r = 0; r < oh; r++)
            for (int q = 0; q < ow; q++)
                for (int c = 0; c < oc; c++) {
                    int sy, sx;
                    if (n->op == OP_PAD) {
                        sy = r - n->pad_lo[0];
                        sx = q - n->pad_lo[1];
                    } else {
                        sy = r / n->stride[0];
                        sx = q / n->stride[1];
                    }
                    tab[((long)r * ow + q) * oc + c] =
                        sy >= 0 && sy < ih && sx >= 0 && sx < iw ? (int32_t)(((long)sy * iw + sx) * ic + c) : -1;
                }
        break;
    case OP_TRANSPOSE: {
        long istride[IR_MAX_RANK], s = 1;
        for (int k = x->rank - 1; k >= 0; k--) {
            istride[k] = s;
            s *= x->dims[k];
        }
        for (long e = 0; e < ny; e++) {
            long rem = e, src = 0;
            for (int k = y->rank - 1; k >= 0; k--) {
                src += (rem % y->dims[k]) * istride[n->perm[k]];
                rem /= y->dims[k];
            }
            tab[e] = (int32_t)src;
        }
        break;
    }
    case OP_CONCAT: {
        const Tensor *x2 = &g->t[n->in[1]];
        int ax = n->axis;
        long outer = 1, inner = 1;
        for (int k = 0; k < ax; k++)
            outer *= y->dims[k];
        for (int k = ax + 1; k < y->rank; k++)
            inner *= y->dims[k];
        long a = x->dims[ax], b = x2->dims[ax], nx = ir_numel(x), at = 0;
        for (long o = 0; o < outer; o++) {
            for (long e = 0; e < a * inner; e++)
                tab[at++] = (int32_t)(o * a * inner + e);
            for (long e = 0; e < b * inner; e++)
                tab[at++] = (int32_t)(nx + o * b * inner + e);
        }
        break;
    }
    default:
        for (long e = 0; e < ny; e++)
            tab[e] = (int32_t)e;
        break;
    }
}

void ir_conv_dense_weights(const Graph *g, const Node *n, int64_t *codes, double *vals)
{
    const Tensor *w = &g->t[n->in[1]];
    int ih, iw, cin, oh, ow, cout;
    ir_hwc(&g->t[n->in[0]], &ih, &iw, &cin);
    ir_hwc(&g->t[n->out], &oh, &ow, &cout);
    int groups = n->groups > 1 ? n->groups : 1;
    int cg = cin / groups, og = cout / groups;
    long taps = (long)n->kernel[0] * n->kernel[1];
    for (long t = 0; t < taps; t++)
        for (int c = 0; c < cin; c++)
            for (int o = 0; o < cout; o++) {
                long dst = (t * cin + c) * cout + o;
                if (c / cg != o / og) {
                    if (codes)
                        codes[dst] = 0;
                    if (vals)
                        vals[dst] = 0;
                    continue;
                }
                long src = (t * cg + c % cg) * cout + o;
                if (codes)
                    codes[dst] = w->codes[src];
                if (vals)
                    vals[dst] = w->data[src];
            }
}

void ir_broadcast_index(long e, int rank, const int *dims, const int *da, const int *db, long *ia, long *ib)
{
    long rem = e, a = 0, b = 0, sa = 1, sb = 1;
    for (int k = rank - 1; k >= 0; k--) {
        long c = rem % dims[k];
        rem /= dims[k];
        a += (da[k] == 1 ? 0 : c) * sa;
        b += (db[k] == 1 ? 0 : c) * sb;
        sa *= da[k];
        sb *= db[k];
    }
    *ia = a;
    *ib = b;
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
    if (t->has_type && t->wide_decl) {   /* hls4ml's 'auto' type, wider than the one holding the value */
        fx_format(t->decl, type, sizeof type);
        buf_printf(out, " (declared %s)", type);
    }
}

int ir_quant_container(const FxType *t, long n, FxType *out)
{
    int sign = 0, any = 0, ib = 0, fb = 0;
    for (long e = 0; e < n; e++)
        if (t[e].w > 0)
            sign |= t[e].sign;
    for (long e = 0; e < n; e++) {
        if (t[e].w <= 0)
            continue;
        int i = t[e].i + (sign && !t[e].sign), f = t[e].w - t[e].i;
        ib = !any || i > ib ? i : ib;
        fb = !any || f > fb ? f : fb;
        any = 1;
    }
    FxType c = {1, 1, 0, FXQ_TRN, FXO_WRAP};
    if (any) {
        c.w = (int16_t)(ib + fb);
        c.i = (int16_t)ib;
        c.sign = (uint8_t)sign;
    }
    *out = c;
    return ib + fb > 64 || (!sign && ib + fb > 63) ? -1 : 0;
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
        if (n->fused_relu >= 0)
            buf_printf(out, " fused_relu=#%d", n->fused_relu);
        if (n->op == OP_LEAKYRELU)
            buf_printf(out, " alpha=%.17g", n->alpha);
        if (n->op == OP_THRESHRELU)
            buf_printf(out, " theta=%.17g", n->alpha);
        if (n->op == OP_HARDSIGMOID || n->op == OP_CLIP)
            buf_printf(out, " alpha=%.17g beta=%.17g", n->alpha, n->beta);
        if (n->op == OP_THRESHOLD)
            buf_printf(out, " levels=%d", n->levels);
        if (n->op == OP_SOFTMAX || n->op == OP_CONCAT)
            buf_printf(out, " axis=%d", n->axis);
        if (n->op == OP_RNN) {
            const RnnAttr *a = &n->attr.rnn;
            static const char *const kind[] = {"simple", "lstm", "gru"};
            buf_printf(out, " kind=%s T=%d F=%d U=%d act=%s", kind[a->kind], a->T, a->F, a->U, a->act ? a->act : "linear");
            if (a->ract)
                buf_printf(out, " ract=%s", a->ract);
            for (int j = 0; j < 2; j++)
                if (a->act_q[j]) {
                    fx_format(*a->act_q[j], ty, sizeof ty);
                    buf_printf(out, " %s_q=%s", j ? "ract" : "act", ty);
                }
            if (a->state_q) {
                fx_format(*a->state_q, ty, sizeof ty);
                buf_printf(out, " state_q=%s", ty);
            }
            buf_printf(out, "%s%s%s%s%s%s layer=%s", a->has_bx ? " bx" : "", a->has_bh ? " bh" : "",
                       a->reset_after ? " reset_after" : "", a->go_backwards ? " go_backwards" : "",
                       a->return_sequences ? " return_sequences" : "", a->steps ? " steps" : "", n->layer);
        }
        if (n->op == OP_QUANT && n->nq >= 1) {
            long pruned = 0, distinct = 0;
            for (long e = 0; e < n->nq; e++) {
                pruned += n->qtypes[e].w == 0;
                int seen = 0;
                for (long j = 0; j < e && !seen && n->nq <= 4096; j++)
                    seen = fx_type_eq(n->qtypes[j], n->qtypes[e]);
                distinct += !seen;
            }
            fx_format(n->qtypes[0], ty, sizeof ty);
            if (n->nq == 1)
                buf_printf(out, " elements=%s", n->qtypes[0].w ? ty : "pruned");
            else
                buf_printf(out, " elements=%ld types=%ld pruned=%ld", n->nq, distinct, pruned);
        }
        if (ir_is_window_op(n->op) || n->op == OP_PAD || n->op == OP_UPSAMPLE) {
            buf_printf(out, " kernel=%dx%d stride=%dx%d pad=%d,%d,%d,%d", n->kernel[0], n->kernel[1], n->stride[0],
                       n->stride[1], n->pad_lo[0], n->pad_lo[1], n->pad_hi[0], n->pad_hi[1]);
            if (n->dilation[0] != 1 || n->dilation[1] != 1)
                buf_printf(out, " dilation=%dx%d", n->dilation[0], n->dilation[1]);
            if (n->groups > 1)
                buf_printf(out, " groups=%d", n->groups);
            if (ir_is_transposed(n))
                buf_printf(out, " transposed input_dilation=%dx%d", ir_in_dil(n, 0), ir_in_dil(n, 1));
            if (n->count_pad)
                buf_printf(out, " count_pad");
        }
        if (n->op == OP_TRANSPOSE) {
            buf_printf(out, " perm=");
            for (int j = 0; j < g->t[n->out].rank; j++)
                buf_printf(out, "%s%d", j ? "," : "", n->perm[j]);
        }
        if ((ir_is_window_op(n->op) || n->op == OP_DENSE) && n->op != OP_DENSE && n->accum.w) {
            fx_format(n->accum, ty, sizeof ty);
            buf_printf(out, " accum=%s", ty);
        }
        if ((n->op == OP_SIGMOID || n->op == OP_TANH || n->op == OP_SELU || n->op == OP_ELU || n->op == OP_SOFTPLUS ||
             n->op == OP_SOFTSIGN || n->op == OP_SOFTMAX) && n->table_size)
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
        if (n->op == OP_QUANT && (!n->qtypes || (n->nq != 1 && n->nq != ir_numel(&g->t[n->out]))))
            rc = diag_error(d, "internal: after %s: quant '%s' has %ld element types for %ld elements", after, n->name,
                            n->nq, ir_numel(&g->t[n->out]));
        if ((n->op == OP_DENSE || n->op == OP_CONV1D || n->op == OP_CONV2D) && (n->in[1] < 0 || !g->t[n->in[1]].is_const))
            rc = diag_error(d, "internal: after %s: dense '%s' without constant weights", after, n->name);
        if (n->op == OP_RNN && (n->nin != 4 || n->in[1] < 0 || !g->t[n->in[1]].is_const || n->in[2] < 0 ||
                                !g->t[n->in[2]].is_const || (n->in[3] >= 0 && !g->t[n->in[3]].is_const)))
            rc = diag_error(d, "internal: after %s: recurrent '%s' without inputs X, constant W, R (and B)", after,
                            n->name);
        for (int t = 0; n->op == OP_RNN && n->attr.rnn.steps && t < n->attr.rnn.T; t++)
            seen[n->attr.rnn.steps[t]] = 1;   /* the per-step states, read by merges */
        seen[n->out] = 1;
    }
    for (size_t k = 0; k < g->noutputs && rc == 0; k++)
        if (!seen[g->outputs[k]])
            rc = diag_error(d, "internal: after %s: output tensor %d is never computed", after, g->outputs[k]);
    free(seen);
    return rc;
}

int *ir_fused_into(const Graph *g, Arena *a)
{
    int *into = arena_array(a, g->nn + 1, sizeof(int));
    for (size_t k = 0; k < g->nn; k++)
        into[k] = -1;
    for (size_t k = 0; k < g->nn; k++)
        if (!g->n[k].dead && g->n[k].fused_relu >= 0)
            into[g->n[k].fused_relu] = (int)k;
    return into;
}

int ir_threshold_cut(const Node *n, FxType tin, int64_t *k)
{
    int64_t a = fx_quant_double(n->alpha, n->alpha_t), lo = fx_type_min(tin), hi = fx_type_max(tin), c;
    int d = fx_frac(tin) - fx_frac(n->alpha_t);
    if (d <= 0) {
        c = -d >= 63 ? (a < 0 ? -1 : 0) : a >> -d;   /* floor */
    } else if (a > 0 && (d >= 63 || a > (INT64_MAX >> d))) {
        return 1;
    } else if (a < 0 && (d >= 63 || a < (INT64_MIN >> d))) {
        return -1;
    } else {
        c = (int64_t)((uint64_t)a << d);
    }
    if (c >= hi)
        return 1;
    if (c < lo)
        return -1;
    *k = c;
    return 0;
}
