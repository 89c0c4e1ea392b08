/* shapes.c — shape inference and checking.
 * requires: imported graph; keeps: everything; sets: output shapes of every node. */
#include <string.h>

#include "passes/passes.h"

static int node_err(Diag *d, const Graph *g, const Node *n, const char *what)
{
    return diag_error(d, "%s: node '%s' (%s): %s", g->file, n->name, n->src_op, what);
}

int pass_shapes(Graph *g, Diag *d, const Config *c)
{
    (void)c;
    for (size_t k = 0; k < g->nn; k++) {
        Node *n = &g->n[k];
        if (n->dead)
            continue;
        Tensor *out = &g->t[n->out];
        const Tensor *x = n->nin > 0 && n->in[0] >= 0 ? &g->t[n->in[0]] : NULL;
        char msg[256], s1[96], s2[96];
        switch (n->op) {
        case OP_INPUT:
            break;
        case OP_DENSE: {
            const Tensor *w = &g->t[n->in[1]];
            if (w->const_rank != 2 || x->dims[x->rank - 1] != w->const_dims[0]) {
                ir_shape_str(x, s1, sizeof s1);
                ir_shape_str(w, s2, sizeof s2);
                snprintf(msg, sizeof msg, "expected weights [%d,N] for input %s, got %s", x->dims[x->rank - 1], s1, s2);
                return node_err(d, g, n, msg);
            }
            if (n->in[2] >= 0 && ir_const_numel(&g->t[n->in[2]]) != w->const_dims[1]) {
                snprintf(msg, sizeof msg, "expected %d bias values, got %ld", w->const_dims[1], ir_const_numel(&g->t[n->in[2]]));
                return node_err(d, g, n, msg);
            }
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            out->dims[out->rank - 1] = w->const_dims[1];
            break;
        }
        case OP_EMBED: {   /* indices [...] -> rows [..., D] */
            const Tensor *w = &g->t[n->in[1]];
            if (w->const_rank != 2 || w->const_dims[0] < 1 || w->const_dims[1] < 1) {
                ir_shape_str(w, s2, sizeof s2);
                snprintf(msg, sizeof msg, "expected an embedding table [input_dim, output_dim], got %s", s2);
                return node_err(d, g, n, msg);
            }
            if (x->rank + 1 > 6) {
                ir_shape_str(x, s1, sizeof s1);
                snprintf(msg, sizeof msg, "expected indices of rank 5 or less, got %s", s1);
                return node_err(d, g, n, msg);
            }
            out->rank = x->rank + 1;
            memcpy(out->dims, x->dims, sizeof out->dims);
            out->dims[x->rank] = w->const_dims[1];
            break;
        }
        case OP_LAYERNORM: {   /* rows of the last axis; a scale and a bias per element of it */
            long m = x->dims[x->rank - 1];
            for (int j = 1; j < 3; j++)
                if (n->in[j] < 0 || ir_const_numel(&g->t[n->in[j]]) != m) {
                    ir_shape_str(x, s1, sizeof s1);
                    snprintf(msg, sizeof msg, "expected a %s of %ld values (the last axis of %s)", j == 1 ? "scale" : "bias",
                             m, s1);
                    return node_err(d, g, n, msg);
                }
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            break;
        }
        case OP_PRELU:
            if (n->in[1] < 0 || ir_const_numel(&g->t[n->in[1]]) != ir_numel(x))
                return node_err(d, g, n, "expected one slope per input element");
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            break;
        case OP_AFFINE:
        case OP_THRESHOLD:
            for (int j = 1; j < 3; j++)
                if (n->in[j] >= 0 && ir_const_numel(&g->t[n->in[j]]) != ir_numel(x)) {
                    ir_shape_str(x, s1, sizeof s1);
                    snprintf(msg, sizeof msg, "expected per-element constants of %ld values for input %s, got %ld",
                             ir_numel(x), s1, ir_const_numel(&g->t[n->in[j]]));
                    return node_err(d, g, n, msg);
                }
            /* fall through */
        case OP_RELU:
        case OP_QUANT:
        case OP_LEAKYRELU:
        case OP_THRESHRELU:
        case OP_CLIP:
        case OP_HARDSIGMOID:
        case OP_SIGMOID:
        case OP_TANH:
        case OP_SOFTPLUS:
        case OP_SOFTSIGN:
        case OP_LUT:
        case OP_SELU:
        case OP_ELU:
        case OP_SOFTMAX:
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            if (n->op == OP_SOFTMAX && (n->axis < 0 || n->axis >= x->rank))
                return node_err(d, g, n, "expected a softmax axis within the per-sample shape");
            break;
        case OP_CONV1D:
        case OP_CONV2D:
        case OP_MAXPOOL1D:
        case OP_MAXPOOL2D:
        case OP_AVGPOOL1D:
        case OP_AVGPOOL2D:
        case OP_PAD:
        case OP_UPSAMPLE: {
            int two = n->op == OP_CONV2D || n->op == OP_MAXPOOL2D || n->op == OP_AVGPOOL2D ||
                      ((n->op == OP_PAD || n->op == OP_UPSAMPLE) && x->rank == 3);
            int conv = n->op == OP_CONV1D || n->op == OP_CONV2D;
            if (x->rank != (two ? 3 : 2)) {
                ir_shape_str(x, s1, sizeof s1);
                snprintf(msg, sizeof msg, "expected a channels-last input of rank %d (%s), got %s", two ? 3 : 2,
                         two ? "[H,W,C]" : "[L,C]", s1);
                return node_err(d, g, n, msg);
            }
            int ih, iw, ic, od[2], oc = x->dims[x->rank - 1];
            ir_hwc(x, &ih, &iw, &ic);
            int in_sz[2] = {ih, iw};
            if (conv) {
                const Tensor *w = &g->t[n->in[1]];
                int groups = n->groups > 1 ? n->groups : 1;
                int wr = w->const_rank;
                if (wr != (two ? 4 : 3) || w->const_dims[wr - 2] * groups != ic ||
                    (two && w->const_dims[0] != n->kernel[0]) || w->const_dims[wr - 3] != n->kernel[1] ||
                    w->const_dims[wr - 1] % groups) {
                    ir_shape_str(x, s1, sizeof s1);
                    ir_shape_str(w, s2, sizeof s2);
                    snprintf(msg, sizeof msg, "expected weights [%s%d,%d,N] (kernel, input channels / groups %d, "
                             "outputs a multiple of the groups) for input %s, got %s",
                             two ? arena_printf(&g->arena, "%d,", n->kernel[0]) : "", n->kernel[1], ic / groups, groups,
                             s1, s2);
                    return node_err(d, g, n, msg);
                }
                oc = w->const_dims[wr - 1];
                if (n->in[2] >= 0 && ir_const_numel(&g->t[n->in[2]]) != oc) {
                    snprintf(msg, sizeof msg, "expected %d bias values, got %ld", oc, ir_const_numel(&g->t[n->in[2]]));
                    return node_err(d, g, n, msg);
                }
            }
            for (int a = 0; a < 2; a++) {
                if (n->stride[a] < 1 || n->kernel[a] < 1 || n->dilation[a] < 1)
                    return node_err(d, g, n, "expected kernel, stride and dilation >= 1");
                if (n->op == OP_PAD) {
                    od[a] = in_sz[a] + n->pad_lo[a] + n->pad_hi[a];
                } else if (n->op == OP_UPSAMPLE) {
                    od[a] = in_sz[a] * n->stride[a];
                } else {
                    int span = (n->kernel[a] - 1) * n->dilation[a] + 1, idl = conv ? ir_in_dil(n, a) : 1;
                    if (conv && ir_is_transposed(n)) {   /* transposed: padding up to the window and an output_padding, or a crop */
                        int op = (idl > n->dilation[a] ? idl : n->dilation[a]) - 1;   /* output_padding */
                        if (n->pad_lo[a] >= span || n->pad_hi[a] >= span + op)
                            return node_err(d, g, n, "expected a transposed convolution's padding (window - 1 - "
                                            "pads, + output_padding after) below the window, + stride - 1 after");
                    } else if (n->pad_lo[a] < 0 || n->pad_hi[a] < 0 || n->pad_lo[a] >= n->kernel[a] * n->dilation[a] ||
                               n->pad_hi[a] >= n->kernel[a] * n->dilation[a]) {
                        return node_err(d, g, n, "expected padding >= 0 and smaller than the window");
                    }
                    int padded = (in_sz[a] - 1) * idl + 1 + n->pad_lo[a] + n->pad_hi[a];
                    od[a] = padded < span ? 0 : (padded - span) / n->stride[a] + 1;
                }
                if (od[a] < 1) {
                    ir_shape_str(x, s1, sizeof s1);
                    snprintf(msg, sizeof msg, "expected an output of at least one pixel, got none for input %s", s1);
                    return node_err(d, g, n, msg);
                }
            }
            if (conv && n->groups > 1 && ic % n->groups) {
                snprintf(msg, sizeof msg, "expected input channels divisible by groups %d, got %d", n->groups, ic);
                return node_err(d, g, n, msg);
            }
            out->rank = x->rank;
            if (two) {
                out->dims[0] = od[0];
                out->dims[1] = od[1];
            } else {
                if (n->kernel[0] != 1 || n->stride[0] != 1 || n->pad_lo[0] || n->pad_hi[0])
                    return node_err(d, g, n, "internal: 1-D window with a height");
                out->dims[0] = od[1];
            }
            out->dims[out->rank - 1] = oc;
            break;
        }
        case OP_TRANSPOSE: {
            char seen[IR_MAX_RANK] = {0};
            for (int a = 0; a < x->rank; a++) {
                if (n->perm[a] < 0 || n->perm[a] >= x->rank || seen[n->perm[a]]++)
                    return node_err(d, g, n, "expected a permutation of the per-sample axes");
                out->dims[a] = x->dims[n->perm[a]];
            }
            out->rank = x->rank;
            break;
        }
        case OP_CONCAT: {
            const Tensor *y = &g->t[n->in[1]];
            int ok = x->rank == y->rank && n->axis >= 0 && n->axis < x->rank;
            for (int a = 0; ok && a < x->rank; a++)
                ok = a == n->axis || x->dims[a] == y->dims[a];
            if (!ok) {
                ir_shape_str(x, s1, sizeof s1);
                ir_shape_str(y, s2, sizeof s2);
                snprintf(msg, sizeof msg, "expected operands equal in every axis but %d, got %s and %s", n->axis, s1, s2);
                return node_err(d, g, n, msg);
            }
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            out->dims[n->axis] = x->dims[n->axis] + y->dims[n->axis];
            break;
        }
        case OP_SUB:
        case OP_MUL:
        case OP_AVERAGE:
        case OP_MAXIMUM:
        case OP_MINIMUM:
        case OP_ADD: {
            const Tensor *y = &g->t[n->in[1]];
            if (ir_numel(x) != ir_numel(y)) {
                ir_shape_str(x, s1, sizeof s1);
                ir_shape_str(y, s2, sizeof s2);
                snprintf(msg, sizeof msg, "expected operands of equal shape, got %s and %s", s1, s2);
                return node_err(d, g, n, msg);
            }
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            break;
        }
        case OP_DOT:   /* the sum along the last axis (the products of a Dot, or of an Einsum: frontends/einsum.c) */
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            out->dims[out->rank - 1] = 1;
            break;
        case OP_RESHAPE:
            if (ir_numel(out) != ir_numel(x)) {
                ir_shape_str(x, s1, sizeof s1);
                ir_shape_str(out, s2, sizeof s2);
                snprintf(msg, sizeof msg, "expected a reshape that keeps %ld elements, got %s -> %s", ir_numel(x), s1, s2);
                return node_err(d, g, n, msg);
            }
            break;
        case OP_RNN:   /* unrolled by the rnn_unroll pass */
        case OP_COUNT_:
            break;
        }
        if (ir_numel(out) < 1 || ir_numel(out) > (1L << 24)) {
            ir_shape_str(out, s1, sizeof s1);
            snprintf(msg, sizeof msg, "expected an output of 1..16777216 (2^24) elements per sample, got %ld (%s)",
                     ir_numel(out), s1);
            return node_err(d, g, n, msg);
        }
    }
    return 0;
}
