/* rnn.c — a recurrent layer (one direction) as one OP_RNN node (rnn.h); the
 * rnn_unroll pass (passes/rnn_unroll.c) makes it one cell per time step. */
#include "frontends/rnn.h"

#include <string.h>

static void pin(Graph *g, int c, const FxType *t)
{
    if (c >= 0 && t) {
        g->t[c].type = *t;
        g->t[c].type_pinned = true;
    }
}

int rnn_add_node(Graph *g, const RnnSpec *s, int x)
{
    int G = (s->kind == RNN_SIMPLE ? 1 : s->kind == RNN_LSTM ? 4 : 3) * s->U;
    int wd[2] = {s->F, G}, rd[2] = {s->U, G}, bd[2] = {2, G}, od[2] = {s->T, s->U};
    int in[4] = {x, -1, -1, -1};
    in[1] = ir_add_const(g, arena_printf(&g->arena, "%s.W", s->layer), 2, wd, s->W);
    pin(g, in[1], s->W_t);
    in[2] = ir_add_const(g, arena_printf(&g->arena, "%s.R", s->layer), 2, rd, s->R);
    pin(g, in[2], s->R_t);
    if (s->bx || s->bh) {
        in[3] = ir_add_const(g, arena_printf(&g->arena, "%s.B", s->layer), 2, bd, NULL);
        double *b = g->t[in[3]].data;
        memset(b, 0, sizeof(double) * 2 * (size_t)G);
        if (s->bx)
            memcpy(b, s->bx, sizeof(double) * (size_t)G);
        if (s->bh)
            memcpy(b + G, s->bh, sizeof(double) * (size_t)G);
        pin(g, in[3], s->b_t);
    }
    int out = s->return_sequences ? ir_add_tensor(g, s->layer, 2, od) : ir_add_tensor(g, s->layer, 1, &s->U);
    int *steps = NULL;
    if (s->step_h) {
        steps = arena_array(&g->arena, (size_t)s->T, sizeof(int));
        for (int t = 0; t < s->T; t++)
            steps[t] = s->step_h[t] = ir_add_tensor(g, arena_printf(&g->arena, "%s.h%d", s->layer, t), 1, &s->U);
    }
    int id = ir_add_node(g, OP_RNN, s->layer, s->src_op, in, 4, out);
    Node *n = &g->n[id];
    n->layer = n->name;
    n->quantized = s->quantized != 0;
    RnnAttr a = {.kind = s->kind, .T = s->T, .F = s->F, .U = s->U,
                 .act = s->act ? arena_strdup(&g->arena, s->act) : NULL,
                 .ract = s->ract ? arena_strdup(&g->arena, s->ract) : NULL, .hs_slope = {s->hs_slope[0], s->hs_slope[1]},
                 .act_q = {s->act_q[0], s->act_q[1]}, .state_q = s->state_q, .has_bx = s->bx != NULL,
                 .has_bh = s->bh != NULL, .reset_after = s->reset_after != 0, .go_backwards = s->go_backwards != 0,
                 .return_sequences = s->return_sequences != 0, .dir = s->dir, .steps = steps};
    n->attr.rnn = a;
    for (int t = 0; steps && t < s->T; t++)
        g->t[steps[t]].producer = id;
    return out;
}
