/* rnn_static.c — the static form of a recurrent layer (rnn_static.h): the
 * nodes of one unrolled layer (Node.cell.unit) recognised, step 1's nodes
 * lowered as the cell, the other steps checked to be the same cell, and the
 * module's schedule (latency T x P + 1, II T x P) and estimate. */
#include "hw/rnn_static.h"

#include <math.h>
#include <string.h>

#include "hw/hw.h"
#include "util/names.h"

typedef struct {
    const HwDesign *r;
    HwRnn *q;
    size_t first, last;   /* the layer's nodes */
    Diag *d;
} Static;

static int refuse(const Static *s, const char *text, const char *what)
{
    return diag_error(s->d, "%s: layer '%s': LayerName.%s.Static: true: %s%s", s->r->g->file, s->q->layer,
                      s->r->g->n[s->first].layer ? s->r->g->n[s->first].layer : s->q->layer, text, what ? what : "");
}

/* Is node k part of the cell (step 1, not a row crop, reshape or sequence concat)? */
static int in_cell(const Graph *g, size_t k)
{
    const Node *n = &g->n[k];
    return !n->dead && n->cell.step == 1 && n->cell.role != RNN_ROLE_MOVE;
}

/* Nodes of one step's cell, in order: the j-th (j from 0), or -1. */
static long step_node(const Static *s, int step, long j)
{
    const Graph *g = s->r->g;
    for (size_t k = s->first; k <= s->last; k++) {
        const Node *n = &g->n[k];
        if (!n->dead && n->cell.step == step && n->cell.role != RNN_ROLE_MOVE && j-- == 0)
            return (long)k;
    }
    return -1;
}

static int same_const(const Graph *g, int a, int b)
{
    const Tensor *x = &g->t[a], *y = &g->t[b];
    long n = ir_const_numel(x);
    return x->is_const == y->is_const && (!x->is_const || (n == ir_const_numel(y) && fx_type_eq(x->type, y->type) &&
                                                          (!n || !memcmp(x->codes, y->codes, sizeof(int64_t) * (size_t)n))));
}

/* Every step after the first computes what step 1 does: the same operations, types, settings and constants. */
static int check_steps(const Static *s)
{
    const Graph *g = s->r->g;
    for (int step = 2; step < s->q->T; step++)
        for (long j = 0;; j++) {
            long a = step_node(s, 1, j), b = step_node(s, step, j);
            if (a < 0 && b < 0)
                break;
            const Node *x = a >= 0 ? &g->n[a] : NULL, *y = b >= 0 ? &g->n[b] : NULL;
            int same = x && y && x->op == y->op && fx_type_eq(g->t[x->out].type, g->t[y->out].type) &&
                       fx_type_eq(x->accum, y->accum) && fx_type_eq(x->table_t, y->table_t) && x->tables == y->tables &&
                       x->table_size == y->table_size && x->alpha == y->alpha && x->beta == y->beta &&
                       x->reuse == y->reuse && (x->fused_relu < 0) == (y->fused_relu < 0) && x->nin == y->nin;
            for (int p = 0; same && p < x->nin; p++)
                same = (x->in[p] < 0) == (y->in[p] < 0) &&
                       (x->in[p] < 0 || (fx_type_eq(g->t[x->in[p]].type, g->t[y->in[p]].type) &&
                                         same_const(g, x->in[p], y->in[p])));
            if (!same)
                return refuse(s, "expected every time step to compute what step 1 does (one cell reused), got a "
                                 "difference at node ", y ? y->name : x ? x->name : "?");
        }
    return 0;
}

/* The layer's nodes from `first`, its shape (T, direction, sequence output), its states and the cell's input. */
static int find_layer(Static *s, size_t *last)
{
    const Graph *g = s->r->g;
    HwRnn *q = s->q;
    const Node *f = &g->n[s->first];
    size_t k = s->first;
    while (k + 1 < g->nn && (g->n[k + 1].dead || g->n[k + 1].cell.unit == f->cell.unit))
        k++;
    while (g->n[k].dead)
        k--;
    s->last = *last = k;
    const Node *l = &g->n[k];
    /* the last node: the state h of the last step, or with return_sequences the sequence's concat, or its
     * reshape to [T, U] (step T) when no pass merged it into a reshape after the layer */
    q->seq = l->cell.role == RNN_ROLE_MOVE && (l->op == OP_RESHAPE || l->op == OP_CONCAT);
    q->T = l->op == OP_RESHAPE ? l->cell.step : l->cell.step + 1;
    if (f->op != OP_PAD || f->cell.step != 0)
        return refuse(s, "expected the layer to start with its first step's input row", NULL);
    q->x_tensor = f->in[0];
    q->back = q->T > 1 && f->pad_lo[1] != 0;
    if (q->T < 3)
        return refuse(s, "expected 3 or more time steps for the static form (one cell reused), got ",
                      q->T == 1 ? "1" : "2");
    /* states: step 0's as the cell reads them, step 1's as it writes them */
    q->nstate = 0;
    for (int j = 0; j < 2; j++) {
        q->prev[j] = q->next[j] = -1;
        for (size_t i = s->first; i <= s->last; i++) {
            const Node *n = &g->n[i];
            if (!n->dead && n->cell.state == j + 1 && n->cell.step <= 1)
                *(n->cell.step ? &q->next[j] : &q->prev[j]) = n->out;
        }
        if ((q->prev[j] < 0) != (q->next[j] < 0))
            return refuse(s, "internal: a state of step 0 or step 1 not found", NULL);
        if (q->prev[j] >= 0) {
            q->nstate = j + 1;
            if (!fx_type_eq(g->t[q->prev[j]].type, g->t[q->next[j]].type))
                return refuse(s, "expected the state to have one type at every step, got a different type at "
                                 "step 0: ", g->n[g->t[q->prev[j]].producer].name);
        }
    }
    if (q->nstate < 1)
        return refuse(s, "internal: the state h not found", NULL);
    /* the cell's row: the step 1 reshape the cell reads */
    q->xt = -1;
    for (size_t i = s->first; i <= s->last; i++)
        if (!g->n[i].dead && g->n[i].cell.step == 1 && g->n[i].op == OP_RESHAPE && g->n[i].cell.role == RNN_ROLE_MOVE) {
            q->xt = g->n[i].out;
            break;
        }
    return q->xt < 0 ? refuse(s, "internal: step 1's input row not found", NULL) : 0;
}

/* What the static form does not build: the layer's inner values read outside it (a Bidirectional merge, an ONNX
 * sequence output), the stream architecture. */
static int check_uses(const Static *s, int out)
{
    const Graph *g = s->r->g;
    int fin = g->n[s->last].out;
    for (size_t k = 0; k < g->nn; k++) {
        const Node *n = &g->n[k];
        if (n->dead || (k >= s->first && k <= s->last))
            continue;
        for (int p = 0; p < n->nin; p++) {
            int t = n->in[p], pr = t >= 0 ? g->t[t].producer : -1;
            if (pr >= (int)s->first && pr <= (int)s->last && t != fin && t != out)
                return refuse(s, "expected the layer's output alone to be read by other layers (the static form keeps "
                                 "no per-step value, which a Bidirectional layer's or an ONNX layer's sequence "
                                 "output reads), got node ", n->name);
        }
    }
    for (size_t j = 0; j < g->noutputs; j++) {
        int pr = g->t[g->outputs[j]].producer;
        if (pr >= (int)s->first && pr <= (int)s->last && g->outputs[j] != fin && g->outputs[j] != out)
            return refuse(s, "expected the layer's output alone as a model output, got ", g->t[g->outputs[j]].name);
    }
    if (s->r->opt.all_live)
        return refuse(s, "expected io_parallel (the static form is not built in io_stream)", NULL);
    return 0;
}

/* The cell's modules, scheduled from cycle 0 (its row and states registered). */
static int build_cell(const Static *s, Diag *d)
{
    const HwDesign *r = s->r;
    const Graph *g = r->g;
    HwRnn *q = s->q;
    HwDesign *c = &q->cell;
    c->g = g;
    c->opt = r->opt;
    c->top = r->top;
    c->budget_ns = r->budget_ns;
    c->delay = r->delay;
    c->ii = 1;
    c->m = arena_array(&c->arena, s->last - s->first + 1, sizeof(HwModule));
    c->tensor_cycle = arena_array(&c->arena, g->nt, sizeof(int));
    c->tensor_t = arena_array(&c->arena, g->nt, sizeof(double));
    for (size_t t = 0; t < g->nt; t++)
        c->tensor_cycle[t] = -1;
    c->tensor_cycle[q->xt] = 0;
    for (int j = 0; j < q->nstate; j++)
        c->tensor_cycle[q->prev[j]] = 0;
    int *fused_into = ir_fused_into(g, &c->arena);
    for (size_t k = s->first; k <= s->last; k++) {
        if (!in_cell(g, k) || fused_into[k] >= 0)
            continue;
        HwModule *m = &c->m[c->nm];
        int rc = hw_lower_node(c, m, k, NULL, 1, d);
        c->nm++;
        if (rc < 0)
            return -1;
        int cy = -1;
        for (int p = 0; p < m->ports; p++) {
            int t = m->in_tensor[p];
            if (c->tensor_cycle[t] < 0)
                return refuse(s, "expected the cell to read its row, the states and its own values, got node ",
                              g->n[k].name);
            if (c->tensor_cycle[t] > cy)
                cy = c->tensor_cycle[t];
        }
        m->in_t = 0;
        for (int p = 0; p < m->ports; p++)
            if (c->tensor_cycle[m->in_tensor[p]] == cy && c->tensor_t[m->in_tensor[p]] > m->in_t)
                m->in_t = c->tensor_t[m->in_tensor[p]];
        if (m->fold)   /* a shared Dense (ReuseFactor, RecurrentReuseFactor): started each step in cycle cy */
            hw_fold_schedule(m);
        else
            hw_schedule(m, c->budget_ns, c->delay);
        c->tensor_cycle[m->out_tensor] = cy + m->latency;
        c->tensor_t[m->out_tensor] = m->latency ? m->out_t : (m->out_t > m->in_t ? m->out_t : m->in_t);
        if (m->fold)
            hw_fold_estimate(m, ir_numel(&g->t[m->in_tensor[0]]), g->t[m->out_tensor].type.w);
        else
            hw_estimate(m);
    }
    if (hw_verify(c, d, "static cell", 1) < 0)
        return -1;
    q->cell_latency = 0;
    for (int j = 0; j < q->nstate; j++) {
        if (c->tensor_cycle[q->next[j]] < 0)
            return refuse(s, "internal: a new state not computed by the cell", NULL);
        if (c->tensor_cycle[q->next[j]] > q->cell_latency)
            q->cell_latency = c->tensor_cycle[q->next[j]];
    }
    q->period = q->cell_latency + 1;
    q->ii = q->T * q->period;
    return 0;
}

int hw_rnn_lower(HwDesign *r, HwModule *m, size_t first, size_t *last, Diag *d)
{
    const Graph *g = r->g;
    const Node *f = &g->n[first];
    char id[NAMES_IDENT_SIZE];
    memset(m, 0, sizeof(*m));
    HwRnn *q = arena_array(&r->arena, 1, sizeof(HwRnn));
    m->rnn = q;   /* freed with the design from here on */
    /* the layer (direction) name: the node names are NAME_tK_ROLE */
    const char *u = strstr(f->name, "_t0_");
    q->layer = u ? arena_printf(&r->arena, "%.*s", (int)(u - f->name), f->name) : f->name;
    Static s = {r, q, first, first, d};
    if (find_layer(&s, last) < 0)
        return -1;
    int out = g->n[s.last].op == OP_RESHAPE ? g->n[s.last].in[0] : g->n[s.last].out;
    if (check_uses(&s, out) < 0 || check_steps(&s) < 0 || build_cell(&s, d) < 0)
        return -1;
    m->node = g->t[out].producer;
    m->ports = 1;
    m->in_tensor[0] = q->x_tensor;
    m->in_tensor[1] = -1;
    m->out_tensor = out;
    m->nout = ir_numel(&g->t[out]);
    m->name = arena_strdup(&r->arena, names_v_ident(id, sizeof id, arena_printf(&r->arena, "%s_%s_static", r->top,
                                                                                 q->layer)));
    return 0;
}

/* The input captured (1), T steps of P clocks, the output registered with the last state. */
void hw_rnn_schedule(HwModule *m)
{
    m->latency = m->rnn->ii + 1;
    m->out_t = 0;
}

/* One cell's modules, plus: the input held as a shift register of rows (a 2:1 selection per bit: load or
 * shift), the states (their reset to zero a flip-flop's own), the output (a register, or with
 * return_sequences a shift register of T rows), the step and clock counters. */
void hw_rnn_estimate(const HwDesign *r, HwModule *m)
{
    const HwRnn *q = m->rnn;
    const Graph *g = r->g;
    double lut = 0, ff = 0;
    long dsp = 0, bram = 0, adders = 0, naive = 0;
    for (size_t k = 0; k < q->cell.nm; k++) {
        const HwModule *c = &q->cell.m[k];
        lut += c->lut;
        ff += c->ff;
        dsp += c->dsp;
        bram += c->bram;
        adders += c->adders;
        naive += c->adders_naive;
    }
    long xbits = ir_numel(&g->t[q->x_tensor]) * g->t[q->x_tensor].type.w;
    ff += (double)xbits;
    lut += (double)xbits;
    for (int j = 0; j < q->nstate; j++)
        ff += (double)ir_numel(&g->t[q->next[j]]) * g->t[q->next[j]].type.w;
    ff += (double)m->nout * g->t[m->out_tensor].type.w;
    double cw = ceil(log2((double)q->T + 1)) + ceil(log2((double)q->period + 1));
    ff += cw + 1;
    lut += 2 * cw + 4;
    m->lut = lut;
    m->ff = ff;
    m->dsp = dsp;
    m->bram = bram;
    m->adders = adders;
    m->adders_naive = naive;
}
