/* dot.c — a Dot's sum made a Dense.
 * requires: precision; keeps: every type; sets: each OP_DOT becomes an OP_DENSE over a [n][1] weight of ones (n: its
 * input's last axis; an Einsum's OP_DOT sums each row of its products, frontends/einsum.c).
 *
 * The front end reads a Dot (hls4ml's dot1d) as the elementwise product, typed the layer's accum, and an OP_DOT
 * summing it.  A Dense whose weights are all 1 in ufixed<1,1> computes the same: each product x * 1 is exact and
 * already in the accumulator's type, the accumulator sums them (in hls4ml's order under --sat-order hls4ml), the
 * sum is cast to the result type.  Every back end then builds it as a Dense. */
#include <string.h>

#include "passes/passes.h"

int pass_dot(Graph *g, Diag *d, const Config *c)
{
    (void)d;
    (void)c;
    for (size_t k = 0; k < g->nn; k++) {
        if (g->n[k].dead || g->n[k].op != OP_DOT)
            continue;
        const Tensor *x = &g->t[g->n[k].in[0]];
        int n = x->dims[x->rank - 1], dims[2] = {n, 1};
        int w = ir_add_const(g, arena_printf(&g->arena, "%s_ones", g->n[k].name), 2, dims, NULL);
        Tensor *tw = &g->t[w];
        FxType one = {1, 1, 0, FXQ_TRN, FXO_WRAP};
        tw->type = one;
        tw->has_type = true;
        tw->type_pinned = true;
        tw->codes = arena_array(&g->arena, (size_t)n, sizeof(int64_t));
        for (int j = 0; j < n; j++) {
            tw->data[j] = 1.0;
            tw->codes[j] = 1;
        }
        Node *nd = &g->n[k];
        nd->op = OP_DENSE;
        nd->in[1] = w;
        nd->in[2] = -1;
        nd->nin = 3;
        nd->fused_relu = -1;
    }
    return 0;
}
