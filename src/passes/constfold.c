/* constfold.c — constant folding on the IR: affine layers whose constants are
 * neutral lose them (or vanish), reshapes that keep the shape vanish, and nodes
 * whose results nobody reads are dropped.  (Constant subgraphs of the source
 * file are evaluated by the front end.)
 * requires: shapes (best after bnfold); keeps: shapes, behaviour; breaks: node ids (compacts). */
#include <string.h>

#include "passes/passes.h"

static int all_equal(const Tensor *t, double v)
{
    long n = ir_const_numel(t);
    for (long k = 0; k < n; k++)
        if (t->data[k] != v)
            return 0;
    return 1;
}

/* Remove node n, making its readers read its data input instead. */
static void bypass(Graph *g, Node *n)
{
    ir_replace_uses(g, n->out, n->in[0]);
    n->dead = true;
}

int pass_constfold(Graph *g, Diag *d, const Config *c)
{
    (void)d;
    (void)c;
    for (size_t k = 0; k < g->nn; k++) {
        Node *n = &g->n[k];
        if (n->dead)
            continue;
        if (n->op == OP_AFFINE) {
            if (n->in[1] >= 0 && all_equal(&g->t[n->in[1]], 1.0))
                n->in[1] = -1;
            if (n->in[2] >= 0 && all_equal(&g->t[n->in[2]], 0.0))
                n->in[2] = -1;
            /* An affine without constants is an identity: keep it only where it
             * names a graph output that is also an input (never bypass inputs). */
            if (n->in[1] < 0 && n->in[2] < 0 && !ir_is_output(g, n->in[0]))
                bypass(g, n);
        } else if (n->op == OP_RESHAPE) {
            int px = g->t[n->in[0]].producer;
            if (px >= 0 && g->n[px].op == OP_RESHAPE)
                n->in[0] = g->n[px].in[0];   /* reshape of a reshape */
            const Tensor *x = &g->t[n->in[0]], *y = &g->t[n->out];
            if (x->rank == y->rank && !memcmp(x->dims, y->dims, sizeof(int) * (size_t)x->rank) &&
                !ir_is_output(g, n->in[0]))
                bypass(g, n);
        }
    }
    /* dead code: results nobody reads */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t k = g->nn; k-- > 0;) {
            Node *n = &g->n[k];
            if (n->dead || n->op == OP_INPUT || ir_is_output(g, n->out))
                continue;
            if (ir_consumers(g, n->out, NULL) == 0) {
                n->dead = true;
                changed = 1;
            }
        }
    }
    ir_compact(g);
    return 0;
}
