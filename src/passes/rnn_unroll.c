/* rnn_unroll.c — the pass that unrolls each recurrent layer (OP_RNN, one
 * node per layer direction, as the front ends build it) into the IR's own
 * operations, in place: the graph's other nodes and tensors keep their order,
 * the cell's nodes and tensors take the recurrent node's place, and the
 * tensors standing for its output and its per-step states (RnnAttr.steps)
 * become the cells' ones.
 *
 * One cell per time step (the "unrolled" architecture: a new sequence every
 * clock in io_parallel): the step's input row is a crop of the [T, F] input,
 * each gate is a Dense on it plus a Dense on the previous state (as hls4ml's
 * cells: input and recurrent products summed after each is formed), the gate
 * activations are the IR's, and the state updates are elementwise products
 * and sums.  The zero initial state is not built: step 0 leaves out what
 * multiplies it (a recurrent bias stays, as a Dense of zero weights).  Every
 * node keeps the layer's name in Node.layer, so that a LayerName entry for
 * the layer reaches all of them (and NAME_tK_ROLE names one of them), and its
 * part in the cell in Node.cell.role, which says which of the layer's hls4ml
 * precision variables types it (ir.h): the gates in accum, the new states in
 * result, the products and sums of a state update exact in between.
 * requires: imported graph (first in the list); keeps: behaviour; breaks: node and tensor ids (renumbered);
 * sets: the cells' nodes, Node.cell. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* One OP_RNN node as the cell builder reads it: its attributes, constants and names. */
typedef struct {
    RnnKind kind;
    int T, F, U;
    const double *W, *R, *bx, *bh;
    const char *act, *ract;
    double hs_slope[2];
    const FxType *act_q[2], *state_q;
    const FxType *W_t, *R_t, *b_t;   /* the types pinned on W, R, B, or NULL */
    bool quantized;
    int reset_after, go_backwards, return_sequences;
    int dir;                         /* RNN_DIR_*: Node.cell.dir of every node built */
    const char *layer;               /* the node names' prefix (Node.name of the OP_RNN node) */
    const char *keep_layer;          /* Node.layer of every node built */
    const char *src_op, *file;
    int *step_h;                     /* T entries: the state after each input step t (input order) */
} RnnSpec;

typedef struct {
    Graph *g;
    const RnnSpec *s;
    Diag *d;
    int unit, step;   /* Node.cell.unit, cell.step of the nodes being built */
} Rnn;

static int node(Rnn *r, Op op, RnnRole role, const char *name, const int *in, int nin, int rank, const int *dims)
{
    int dd[IR_MAX_RANK];
    memcpy(dd, dims, sizeof(int) * (size_t)rank);   /* dims may point into g->t */
    int out = ir_add_tensor(r->g, name, rank, dd);
    int id = ir_add_node(r->g, op, name, r->s->src_op, in, nin, out);
    r->g->n[id].cell.role = role;
    r->g->n[id].cell.unit = r->unit;
    r->g->n[id].cell.step = r->step;
    r->g->n[id].cell.dir = r->s->dir;
    r->g->n[id].quantized = r->s->quantized != 0;
    return out;
}

/* A QKeras quantizer on x: clip to type t's range, then the rounding, saturating cast to t (pinned). */
static int rnn_quant(Rnn *r, const char *name, const FxType *t, int x)
{
    int in[1] = {x};
    const Tensor *tx = &r->g->t[x];
    int out = node(r, OP_CLIP, RNN_ROLE_ACCUM, name, in, 1, tx->rank, tx->dims);
    Node *n = &r->g->n[r->g->nn - 1];
    n->alpha = ldexp((double)fx_type_min(*t), -fx_frac(*t));
    n->beta = ldexp((double)fx_type_max(*t), -fx_frac(*t));
    r->g->t[out].type = *t;
    r->g->t[out].type_pinned = true;
    return out;
}

/* A Dense of x on the columns [c0, c0 + units) of the [rows, ncols] matrix W, with bias
 * b[c0 ..] (b may be NULL). */
static void pin(Graph *g, int c, const FxType *t)
{
    if (t) {
        g->t[c].type = *t;
        g->t[c].type_pinned = true;
    }
}

static int rnn_dense(Rnn *r, RnnRole role, const char *name, int x, const double *W, int rows, int ncols, int c0,
                     int units, const double *b)
{
    Graph *g = r->g;
    double *wd = arena_array(&g->arena, (size_t)rows * (size_t)units, sizeof(double));
    for (int i = 0; i < rows; i++)
        for (int u = 0; u < units; u++)
            wd[(size_t)i * (size_t)units + (size_t)u] = W[(size_t)i * (size_t)ncols + (size_t)(c0 + u)];
    int wdims[2] = {rows, units};
    int in[3] = {x, ir_add_const(g, arena_printf(&g->arena, "%s_weight", name), 2, wdims, wd), -1};
    pin(g, in[1], role == RNN_ROLE_XDENSE ? r->s->W_t : r->s->R_t);
    if (b) {
        double *bd = arena_array(&g->arena, (size_t)units, sizeof(double));
        memcpy(bd, b + c0, sizeof(double) * (size_t)units);
        in[2] = ir_add_const(g, arena_printf(&g->arena, "%s_bias", name), 1, &units, bd);
        pin(g, in[2], r->s->b_t);
    }
    return node(r, OP_DENSE, role, name, in, b ? 3 : 2, 1, &units);
}

static int rnn_op2(Rnn *r, Op op, RnnRole role, const char *name, int a, int b)
{
    int in[2] = {a, b};
    return node(r, op, role, name, in, 2, r->g->t[a].rank, r->g->t[a].dims);
}

/* Activation k (0: act, 1: ract) of x, with its QKeras quantizer if any; role: the activation's. */
static int rnn_act(Rnn *r, RnnRole role, const char *name, int k, int x)
{
    const char *act = k ? r->s->ract : r->s->act;
    int in[1] = {x}, out = x;
    const Tensor *t = &r->g->t[x];
    Op op = !act || !strcmp(act, "linear") ? OP_COUNT_ : !strcmp(act, "tanh") ? OP_TANH : !strcmp(act, "sigmoid") ? OP_SIGMOID
          : !strcmp(act, "relu") ? OP_RELU : !strcmp(act, "hard_sigmoid") ? OP_HARDSIGMOID : OP_INPUT;
    if (op == OP_INPUT)
        return diag_error(r->d, "%s: layer '%s' (%s): expected an activation of tanh, sigmoid, hard_sigmoid, relu or "
                          "linear, got '%s' (not supported in a recurrent layer yet)", r->s->file, r->s->layer,
                          r->s->src_op, act);
    if (op != OP_COUNT_) {
        out = node(r, op, role, name, in, 1, t->rank, t->dims);
        if (op == OP_HARDSIGMOID) {
            r->g->n[r->g->nn - 1].alpha = r->s->hs_slope[k];
            r->g->n[r->g->nn - 1].beta = 0.5;
        }
    }
    if (r->s->act_q[k])
        out = rnn_quant(r, arena_printf(&r->g->arena, "%s_quant", name), r->s->act_q[k], out);
    return out;
}

/* Unroll sp on x ([T, F]) into g; the output tensor ([U], or [T, U] with return_sequences), or -1 with a
 * message naming the layer. */
static int unroll(Graph *g, const RnnSpec *sp, int x, Diag *d)
{
    Rnn rr = {g, sp, d, (int)g->nn + 1, 0}, *im = &rr;
    int kind = sp->kind == RNN_SIMPLE ? 0 : sp->kind == RNN_LSTM ? 1 : 2;
    int gates = kind == 0 ? 1 : kind == 1 ? 4 : 3;
    int T = sp->T, F = sp->F, U = sp->U, G = gates * U;
    const double *bx = sp->bx, *bh = sp->bh, *W = sp->W, *Rm = sp->R;
    int reset_after = sp->reset_after, back = sp->go_backwards, seq = sp->return_sequences;
    const char *L = sp->layer;
    size_t first = g->nn;
    int h = -1, c = -1, hs = -1;   /* state, LSTM cell state, the sequence so far */
    double *zw = NULL;             /* zero weights [F][G]: a Dense on the step's input carrying a recurrent bias */
    for (int s = 0; s < T; s++) {
        int t = back ? T - 1 - s : s;
        im->step = s;
        /* the step's input row: a crop of the [T, F] input, as a vector of F */
        int in1[1] = {x}, rd[2] = {1, F};
        int xr = node(im, OP_PAD, RNN_ROLE_MOVE, arena_printf(&g->arena, "%s_t%d_x", L, s), in1, 1, 2, rd);
        Node *pn = &g->n[g->nn - 1];
        pn->kernel[0] = pn->kernel[1] = pn->stride[0] = pn->stride[1] = pn->dilation[0] = pn->dilation[1] = 1;
        pn->groups = 1;
        pn->pad_lo[1] = -t;
        pn->pad_hi[1] = -(T - 1 - t);
        int in2[1] = {xr};
        int xt = node(im, OP_RESHAPE, RNN_ROLE_MOVE, arena_printf(&g->arena, "%s_t%d_xv", L, s), in2, 1, 1, &F);
        /* the state as this step reads it: through the state quantizer, if any */
        int hq = h, cq = c;
        if (sp->state_q && h >= 0)
            hq = rnn_quant(im, arena_printf(&g->arena, "%s_t%d_h_prev", L, s), sp->state_q, h);
        if (sp->state_q && c >= 0)
            cq = rnn_quant(im, arena_printf(&g->arena, "%s_t%d_state_prev", L, s), sp->state_q, c);
        if (bh && !zw)
            zw = arena_array(&g->arena, (size_t)F * (size_t)G, sizeof(double));
        /* pre-activations of each gate: x W_g + b_g (+ h R_g + br_g) */
        static const char *const role[3][4] = {{"h"}, {"i", "f", "c", "o"}, {"z", "r", "h"}};
        int pre[4];
        for (int k = 0; k < gates; k++) {
            const char *gn = role[kind][k];
            int gx = rnn_dense(im, RNN_ROLE_XDENSE, arena_printf(&g->arena, "%s_t%d_%s_x", L, s, gn), xt, W, F, G,
                               k * U, U, bx);
            pre[k] = gx;
            if (kind == 2 && k == 2)
                continue;   /* the GRU candidate's recurrent part is reset-gated, below */
            int gh = -1;
            if (hq >= 0)
                gh = rnn_dense(im, RNN_ROLE_HDENSE, arena_printf(&g->arena, "%s_t%d_%s_h", L, s, gn), hq, Rm, U, G,
                               k * U, U, bh);
            else if (bh)   /* step 0: the recurrent part is the recurrent bias alone */
                gh = rnn_dense(im, RNN_ROLE_HDENSE, arena_printf(&g->arena, "%s_t%d_%s_h", L, s, gn), xt, zw, F, G,
                               k * U, U, bh);
            if (gh >= 0)
                pre[k] = rnn_op2(im, OP_ADD, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_%s_sum", L, s, gn), gx, gh);
        }
        if (kind == 0) {
            h = rnn_act(im, RNN_ROLE_STATE, arena_printf(&g->arena, "%s_t%d_h_act", L, s), 0, pre[0]);
        } else if (kind == 1) {
            int ig = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_i_act", L, s), 1, pre[0]);
            int fg = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_f_act", L, s), 1, pre[1]);
            int cg = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_c_act", L, s), 0, pre[2]);
            int og = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_o_act", L, s), 1, pre[3]);
            if (ig < 0 || fg < 0 || cg < 0 || og < 0)
                return -1;
            /* c = i cg + f c_prev, summed exactly and cast once to the state's type */
            int ic = rnn_op2(im, OP_MUL, c < 0 ? RNN_ROLE_STATE : RNN_ROLE_EXACT,
                             arena_printf(&g->arena, "%s_t%d_ic", L, s), ig, cg);
            c = c < 0 ? ic
                      : rnn_op2(im, OP_ADD, RNN_ROLE_STATE, arena_printf(&g->arena, "%s_t%d_state", L, s),
                                rnn_op2(im, OP_MUL, RNN_ROLE_EXACT, arena_printf(&g->arena, "%s_t%d_fc", L, s), fg, cq),
                                ic);
            int ct2 = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_state_act", L, s), 0, c);
            if (ct2 < 0)
                return -1;
            h = rnn_op2(im, OP_MUL, RNN_ROLE_STATE, arena_printf(&g->arena, "%s_t%d_out", L, s), og, ct2);
        } else {
            int zg = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_z_act", L, s), 1, pre[0]);
            int rg = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_r_act", L, s), 1, pre[1]);
            if (zg < 0 || rg < 0)
                return -1;
            int cand = pre[2];   /* x W_h + b_h, then the reset-gated recurrent part */
            if (reset_after && (hq >= 0 || bh)) {
                /* r * (h R_h + b_rh); at step 0 h is zero: r * b_rh */
                int rh = rnn_dense(im, RNN_ROLE_HDENSE, arena_printf(&g->arena, "%s_t%d_h_h", L, s), hq >= 0 ? hq : xt,
                                   hq >= 0 ? Rm : zw, hq >= 0 ? U : F, G, 2 * U, U, bh);
                int gated = rnn_op2(im, OP_MUL, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_h_gated", L, s), rg, rh);
                cand = rnn_op2(im, OP_ADD, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_h_sum", L, s), cand, gated);
            } else if (!reset_after && hq >= 0) {
                int rh = rnn_op2(im, OP_MUL, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_h_reset", L, s), rg, hq);
                int hh = rnn_dense(im, RNN_ROLE_HDENSE, arena_printf(&g->arena, "%s_t%d_h_h", L, s), rh, Rm, U, G, 2 * U,
                                   U, NULL);
                cand = rnn_op2(im, OP_ADD, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_h_sum", L, s), cand, hh);
            }
            int n = rnn_act(im, RNN_ROLE_ACCUM, arena_printf(&g->arena, "%s_t%d_h_act", L, s), 0, cand);
            if (n < 0)
                return -1;
            /* h = z h_prev + (1 - z) n = n + z (h_prev - n), exact, cast once; at step 0: n - z n */
            int df = hq >= 0 ? rnn_op2(im, OP_SUB, RNN_ROLE_EXACT, arena_printf(&g->arena, "%s_t%d_diff", L, s), hq, n)
                             : n;
            int zd = rnn_op2(im, OP_MUL, RNN_ROLE_EXACT, arena_printf(&g->arena, "%s_t%d_zd", L, s), zg, df);
            h = rnn_op2(im, hq >= 0 ? OP_ADD : OP_SUB, RNN_ROLE_STATE, arena_printf(&g->arena, "%s_t%d_out", L, s), n,
                        zd);
        }
        if (h < 0)
            return -1;
        g->n[g->t[h].producer].cell.state = 1;
        if (c >= 0)
            g->n[g->t[c].producer].cell.state = 2;
        if (sp->step_h)
            sp->step_h[t] = h;
        if (seq) {
            if (hs < 0) {
                hs = h;
            } else {
                int two[2] = {hs, h}, n2 = (s + 1) * U;
                hs = node(im, OP_CONCAT, RNN_ROLE_MOVE, arena_printf(&g->arena, "%s_t%d_seq", L, s), two, 2, 1, &n2);
                g->n[g->nn - 1].axis = 0;
            }
        }
    }
    int out = h;
    if (seq) {
        int od[2] = {T, U}, in1[1] = {hs};
        im->step = T;
        out = node(im, OP_RESHAPE, RNN_ROLE_MOVE, L, in1, 1, 2, od);
    }
    for (size_t k = first; k < g->nn; k++)
        g->n[k].layer = sp->keep_layer;
    return out;
}

/* The spec of OP_RNN node n, whose tensors are in ot (the graph before the pass). */
static RnnSpec node_spec(const Graph *g, const Node *n, const Tensor *ot, int *step_h)
{
    const RnnAttr *a = &n->attr.rnn;
    const Tensor *W = &ot[n->in[1]], *R = &ot[n->in[2]], *B = n->in[3] >= 0 ? &ot[n->in[3]] : NULL;
    size_t G = (size_t)W->const_dims[1];
    RnnSpec s = {.kind = a->kind, .T = a->T, .F = a->F, .U = a->U, .W = W->data, .R = R->data,
                 .bx = B && a->has_bx ? B->data : NULL, .bh = B && a->has_bh ? B->data + G : NULL,
                 .act = a->act, .ract = a->ract, .hs_slope = {a->hs_slope[0], a->hs_slope[1]},
                 .act_q = {a->act_q[0], a->act_q[1]}, .state_q = a->state_q,
                 .W_t = W->type_pinned ? &W->type : NULL, .R_t = R->type_pinned ? &R->type : NULL,
                 .b_t = B && B->type_pinned ? &B->type : NULL, .quantized = n->quantized,
                 .reset_after = a->reset_after, .go_backwards = a->go_backwards,
                 .return_sequences = a->return_sequences, .dir = a->dir, .layer = n->name, .keep_layer = n->layer,
                 .src_op = n->src_op, .file = g->file, .step_h = step_h};
    return s;
}

/* The tensors only OP_RNN node n stands for (its constants, output and steps): mark them in group (if not
 * NULL); the lowest id of them. */
static int mark_group(const Node *n, char *group)
{
    int lo = n->out;
    for (int k = 1; k < n->nin; k++)
        if (n->in[k] >= 0) {
            if (group)
                group[n->in[k]] = 1;
            lo = n->in[k] < lo ? n->in[k] : lo;
        }
    if (group)
        group[n->out] = 1;
    for (int t = 0; n->attr.rnn.steps && t < n->attr.rnn.T; t++) {
        if (group)
            group[n->attr.rnn.steps[t]] = 1;
        lo = n->attr.rnn.steps[t] < lo ? n->attr.rnn.steps[t] : lo;
    }
    return lo;
}

int pass_rnn_unroll(Graph *g, Diag *d, const Config *c)
{
    (void)c;
    size_t nrnn = 0;
    for (size_t k = 0; k < g->nn; k++)
        nrnn += !g->n[k].dead && g->n[k].op == OP_RNN;
    if (!nrnn)
        return 0;
    /* rebuild the node and tensor lists: the old ones in order, each OP_RNN node's cells (nodes and tensors)
     * where the node and its first tensor were, so that nodes and tensors are numbered as if the front end
     * had built the cells itself */
    Tensor *ot = g->t;
    Node *on = g->n;
    size_t ont = g->nt, onn = g->nn;
    g->t = NULL, g->nt = g->ct = 0;
    g->n = NULL, g->nn = g->cn = 0;
    int *tmap = malloc((ont ? ont : 1) * sizeof(int)), *nmap = malloc((onn ? onn : 1) * sizeof(int));
    char *group = calloc(ont ? ont : 1, 1);
    if (!tmap || !nmap || !group)
        abort();
    for (size_t k = 0; k < ont; k++)
        tmap[k] = -1;
    for (size_t k = 0; k < onn; k++)
        if (!on[k].dead && on[k].op == OP_RNN)
            mark_group(&on[k], group);
    size_t copied = 0;   /* old tensors below it are placed */
    int rc = 0;
    for (size_t k = 0; k < onn && rc == 0; k++) {
        const Node *n = &on[k];
        nmap[k] = -1;
        if (n->dead || n->op != OP_RNN) {
            VEC_PUSH(g->n, g->nn, g->cn, *n);
            nmap[k] = (int)g->nn - 1;
            continue;
        }
        size_t lo = (size_t)mark_group(n, NULL);
        for (; copied < lo; copied++)
            if (!group[copied]) {
                VEC_PUSH(g->t, g->nt, g->ct, ot[copied]);
                tmap[copied] = (int)g->nt - 1;
            }
        int x = tmap[n->in[0]];
        if (x < 0) {
            rc = diag_error(d, "internal: rnn_unroll: recurrent node '%s' reads a tensor made after it", n->name);
            break;
        }
        int *step_h = arena_array(&g->arena, (size_t)n->attr.rnn.T, sizeof(int));
        RnnSpec s = node_spec(g, n, ot, step_h);
        int out = unroll(g, &s, x, d);
        if (out < 0) {
            rc = -1;
            break;
        }
        tmap[n->out] = out;
        for (int t = 0; n->attr.rnn.steps && t < n->attr.rnn.T; t++)
            tmap[n->attr.rnn.steps[t]] = step_h[t];
    }
    for (; rc == 0 && copied < ont; copied++)
        if (!group[copied]) {
            VEC_PUSH(g->t, g->nt, g->ct, ot[copied]);
            tmap[copied] = (int)g->nt - 1;
        }
    /* the copied nodes, the graph's inputs and outputs: the new tensor ids; producers anew */
    for (size_t k = 0; k < onn && rc == 0; k++) {
        if (nmap[k] < 0)
            continue;
        Node *n = &g->n[nmap[k]];
        for (int j = 0; j < n->nin; j++)
            if (n->in[j] >= 0 && (n->in[j] = tmap[n->in[j]]) < 0)
                rc = diag_error(d, "internal: rnn_unroll: node '%s' reads a tensor the pass dropped", n->name);
        n->out = tmap[n->out];
        if (n->fused_relu >= 0)
            n->fused_relu = nmap[n->fused_relu];
    }
    for (size_t k = 0; k < g->ninputs && rc == 0; k++)
        g->inputs[k] = tmap[g->inputs[k]];
    for (size_t k = 0; k < g->noutputs && rc == 0; k++)
        g->outputs[k] = tmap[g->outputs[k]];
    if (rc == 0) {
        for (size_t k = 0; k < g->nt; k++)
            g->t[k].producer = -1;
        for (size_t k = 0; k < g->nn; k++)
            if (!g->n[k].dead && g->n[k].out >= 0)
                g->t[g->n[k].out].producer = (int)k;
    }
    free(ot);
    free(on);
    free(tmap);
    free(nmap);
    free(group);
    return rc;
}
