/* bnfold.c — batchnorm folding: an affine layer (BatchNormalization, or a
 * constant Add/Mul such as the bias Add after an ONNX MatMul) that follows a
 * dense or convolutional layer is folded into its weights and bias, in floating point
 * before quantization; two affine layers in a row become one.
 * requires: shapes; keeps: shapes; breaks: node ids (compacts). */
#include <string.h>

#include "passes/passes.h"

/* Per-output scale/shift of an affine layer applied to a dense output of shape
 * [rows, nout]: the constants must repeat for every row to fold. */
static int per_column(const Graph *g, int cid, long rows, long nout, double def, double *out)
{
    for (long o = 0; o < nout; o++)
        out[o] = cid < 0 ? def : g->t[cid].data[o];
    if (cid < 0)
        return 1;
    for (long r = 1; r < rows; r++)
        for (long o = 0; o < nout; o++)
            if (g->t[cid].data[r * nout + o] != out[o])
                return 0;
    return 1;
}

/* Under hls4ml's weight quantization (--hls4ml, WeightQuant: hls4ml), a BatchNormalization folds into the
 * layer before only where hls4ml folds it: when that layer's result type is 'auto' (hls4ml's
 * FuseBatchNormalization needs an unspecified output type); otherwise it stays a layer of its own, its scale
 * and shift in its weight and bias types, as hls4ml computes it.  Other affine layers (an ONNX bias Add)
 * always fold. */
static int hls4ml_folds(const Config *c, Diag *d, const Node *p, const Node *a)
{
    if (!c || !a->src_op || strcmp(a->src_op, "BatchNormalization"))
        return 1;
    if (!config_hls4ml_mode(c, p, "WeightQuant", c->weights_opt))
        return 1;
    FxType t;
    bool is_auto;
    if (config_precision(c, d, p, "result", &t, &is_auto) < 0)
        return 1;   /* the precision pass reports it */
    return is_auto;
}

/* Record that affine layer a (and whatever was folded into it) now lives in p. */
static void note_folded(Graph *g, Node *p, const Node *a)
{
    const char *names = a->folded ? arena_printf(&g->arena, "%s,%s", a->name, a->folded) : a->name;
    p->folded = p->folded ? arena_printf(&g->arena, "%s,%s", p->folded, names) : names;
}

int pass_bnfold(Graph *g, Diag *d, const Config *c)
{
    for (size_t k = 0; k < g->nn; k++) {
        Node *a = &g->n[k];
        if (a->dead || a->op != OP_AFFINE)
            continue;
        int x = a->in[0];
        int pid = g->t[x].producer;
        if (pid < 0 || ir_is_output(g, x) || ir_consumers(g, x, NULL) != 1)
            continue;
        /* look through reshapes (they move no data): DENSE -> RESHAPE* -> AFFINE */
        int through = 0, src = pid;
        while (src >= 0 && g->n[src].op == OP_RESHAPE) {
            int rx = g->n[src].in[0];
            if (ir_is_output(g, rx) || ir_consumers(g, rx, NULL) != 1)
                break;
            src = g->t[rx].producer;
            through = 1;
        }
        if (through && src >= 0 && g->n[src].op == OP_DENSE &&
            ir_numel(&g->t[g->n[src].out]) == ir_numel(&g->t[x]))
            pid = src;
        else
            through = 0;
        Node *p = &g->n[pid];
        if ((p->op == OP_DENSE || p->op == OP_CONV1D || p->op == OP_CONV2D) && !hls4ml_folds(c, d, p, a))
            continue;
        if (p->op == OP_DENSE || p->op == OP_CONV1D || p->op == OP_CONV2D) {
            const Tensor *w = &g->t[p->in[1]];
            long nout = w->const_dims[w->const_rank - 1], nin = ir_const_numel(w) / nout;   /* CONV: [taps*cin/groups][cout] */
            long rows = ir_numel(&g->t[x]) / nout;
            double *s = arena_array(&g->arena, (size_t)nout, sizeof(double));
            double *t = arena_array(&g->arena, (size_t)nout, sizeof(double));
            if (!per_column(g, a->in[1], rows, nout, 1.0, s) || !per_column(g, a->in[2], rows, nout, 0.0, t))
                continue;
            /* a quantized layer keeps its quantized weights: only a shift folds into its bias */
            int scales = 0;
            for (long o = 0; o < nout; o++)
                scales |= s[o] != 1.0;
            if (p->quantized && scales)
                continue;
            double *wv = arena_array(&g->arena, (size_t)(nin * nout), sizeof(double));
            for (long i = 0; i < nin; i++)
                for (long o = 0; o < nout; o++)
                    wv[i * nout + o] = w->data[i * nout + o] * s[o];
            double *bv = arena_array(&g->arena, (size_t)nout, sizeof(double));
            for (long o = 0; o < nout; o++)
                bv[o] = (p->in[2] >= 0 ? g->t[p->in[2]].data[o] : 0.0) * s[o] + t[o];
            int wd[IR_MAX_RANK], wrank = w->const_rank, bd[1] = {(int)nout};
            memcpy(wd, w->const_dims, sizeof wd);
            /* new constants (the old ones may be shared) */
            const char *wname = g->t[p->in[1]].name;
            int wid = ir_add_const(g, wname, wrank, wd, wv);
            int bid = ir_add_const(g, arena_printf(&g->arena, "%s_bias", p->name), 1, bd, bv);
            p = &g->n[pid];            /* tensors array may have moved; nodes did not */
            /* quantizer-pinned types survive where the values do */
            if (!scales) {
                int shifts = 0;
                for (long o = 0; o < nout; o++)
                    shifts |= t[o] != 0.0;
                ir_pin_from(g, wid, p->in[1]);
                if (p->in[2] < 0)
                    ir_pin_from(g, bid, a->in[2]);
                else if (!shifts)
                    ir_pin_from(g, bid, p->in[2]);
            }
            p->in[1] = wid;
            p->in[2] = bid;
            p->nin = 3;
            note_folded(g, p, a);
            if (through) {
                /* the reshape chain now carries the folded values */
                ir_replace_uses(g, a->out, a->in[0]);
                a->dead = true;
                continue;
            }
            /* the dense layer now produces the affine layer's output */
            g->t[a->out].producer = pid;
            int old = p->out;
            p->out = a->out;
            g->t[old].producer = -1;
            a->dead = true;
        } else if (p->op == OP_AFFINE) {
            long n = ir_numel(&g->t[x]);
            double *s = arena_array(&g->arena, (size_t)n, sizeof(double));
            double *t = arena_array(&g->arena, (size_t)n, sizeof(double));
            for (long e = 0; e < n; e++) {
                double s1 = p->in[1] >= 0 ? g->t[p->in[1]].data[e] : 1.0, t1 = p->in[2] >= 0 ? g->t[p->in[2]].data[e] : 0.0;
                double s2 = a->in[1] >= 0 ? g->t[a->in[1]].data[e] : 1.0, t2 = a->in[2] >= 0 ? g->t[a->in[2]].data[e] : 0.0;
                s[e] = s1 * s2;
                t[e] = t1 * s2 + t2;
            }
            const Tensor *xt = &g->t[x];
            int rank = xt->rank, dims[IR_MAX_RANK];
            memcpy(dims, xt->dims, sizeof dims);
            int sid = ir_add_const(g, arena_printf(&g->arena, "%s_scale", p->name), rank, dims, s);
            int tid = ir_add_const(g, arena_printf(&g->arena, "%s_shift", p->name), rank, dims, t);
            p->in[1] = sid;
            p->in[2] = tid;
            note_folded(g, p, a);
            g->t[a->out].producer = pid;
            g->t[p->out].producer = -1;
            p->out = a->out;
            a->dead = true;
        }
    }
    ir_compact(g);
    return 0;
}
