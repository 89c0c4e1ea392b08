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
        case OP_AFFINE:
            for (int j = 1; j < 3; j++)
                if (n->in[j] >= 0 && ir_const_numel(&g->t[n->in[j]]) != ir_numel(x)) {
                    ir_shape_str(x, s1, sizeof s1);
                    snprintf(msg, sizeof msg, "expected per-element constants of %ld values for input %s, got %ld",
                             ir_numel(x), s1, ir_const_numel(&g->t[n->in[j]]));
                    return node_err(d, g, n, msg);
                }
            /* fall through */
        case OP_RELU:
        case OP_LEAKYRELU:
        case OP_CLIP:
        case OP_HARDSIGMOID:
        case OP_SIGMOID:
        case OP_TANH:
        case OP_SOFTMAX:
            out->rank = x->rank;
            memcpy(out->dims, x->dims, sizeof out->dims);
            if (n->op == OP_SOFTMAX && (n->axis < 0 || n->axis >= x->rank))
                return node_err(d, g, n, "expected a softmax axis within the per-sample shape");
            break;
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
        case OP_RESHAPE:
            if (ir_numel(out) != ir_numel(x)) {
                ir_shape_str(x, s1, sizeof s1);
                ir_shape_str(out, s2, sizeof s2);
                snprintf(msg, sizeof msg, "expected a reshape that keeps %ld elements, got %s -> %s", ir_numel(x), s1, s2);
                return node_err(d, g, n, msg);
            }
            break;
        case OP_COUNT_:
            break;
        }
        if (ir_numel(out) < 1 || ir_numel(out) > (1L << 24))
            return node_err(d, g, n, "expected between 1 and 2^24 elements per sample");
    }
    return 0;
}
