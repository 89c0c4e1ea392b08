/* fuse.c — activation fusion: a relu that is the only reader of a dense or
 * convolution layer's result is marked as computed inside that layer (fused_relu), so back
 * ends emit one stage for both.  Both tensors and both casts remain: behaviour
 * is unchanged.
 * requires: shapes, bnfold; keeps: everything; sets: Node.fused_relu. */
#include "passes/passes.h"

int pass_fuse(Graph *g, Diag *d, const Config *c)
{
    (void)d;
    (void)c;
    for (size_t k = 0; k < g->nn; k++) {
        Node *n = &g->n[k];
        n->fused_relu = -1;
        if (n->dead || (n->op != OP_DENSE && n->op != OP_CONV1D && n->op != OP_CONV2D) || ir_is_output(g, n->out))
            continue;
        int reader = -1;
        if (ir_consumers(g, n->out, &reader) == 1 && g->n[reader].op == OP_RELU)
            n->fused_relu = reader;
    }
    return 0;
}
