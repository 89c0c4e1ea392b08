/* schedule.c — pipelining for a clock: each node has a delay from a simple
 * model (adders: 0.6 ns + 0.025 ns/bit, ROMs: 0.6 ns + 0.1 ns/address bit, ...).
 * Nodes are placed as soon as possible; a node whose inputs arrive too late
 * for it to finish within the stage budget (clock period minus 0.8 ns of
 * register overhead) starts the next stage.  Stages continue across layers (a
 * layer's outputs leave unregistered, with their arrival time, into the next
 * layer), so registers sit where time runs out; the top registers input and
 * output. */
#include "hw/hw.h"

static double node_delay(const HwModule *m, const HwNode *n)
{
    switch (n->op) {
    case HW_IN:
    case HW_CONST:
    case HW_SHR:
        return 0;
    case HW_ADD:
        return 0.6 + 0.025 * n->w;
    case HW_CAST: {
        /* truncation and wrapping are wiring; rounding is an increment;
         * saturation a range check and a multiplexer */
        int rounds = n->to.q != FXQ_TRN && n->fa > fx_frac(n->to);
        return (rounds ? 0.6 + 0.025 * n->w : 0) + (n->to.o == FXO_WRAP ? 0 : 0.5 + 0.01 * m->n[n->a].w);
    }
    case HW_SEL:
        return 0.5 + 0.02 * n->w;
    case HW_CLIP:
        return 1.0 + 0.03 * m->n[n->a].w;
    case HW_ROM:
        return 0.6 + 0.1 * m->rom[n->rom].aw + (m->rom[n->rom].hls_index ? 0.6 + 0.025 * m->n[n->a].w : 0.4);
    case HW_MUL:
        return n->b >= 0 ? 3.0 : 2.5;
    case HW_MAX:
        return 0.8 + 0.025 * n->w;
    }
    return 1.0;
}

/* Place every node of m in a stage for a combinational budget per stage (ns),
 * its inputs arriving at m->in_t; set m->latency, m->out_t and each node's
 * maxdelay. */
void hw_schedule(HwModule *m, double budget)
{
    for (size_t i = 0; i < m->nn; i++) {
        HwNode *n = &m->n[i];
        int ops[3] = {n->a, n->b, n->c};
        int st = 0;
        double t = n->op == HW_IN ? m->in_t : 0;   /* inputs may arrive late from the previous layer */
        if (n->op == HW_CLIP && n->sb >= 0)
            ops[2] = n->c;  /* sb holds a constant node too: constants are free */
        for (int k = 0; k < 3; k++) {
            if (ops[k] < 0 || n->op == HW_IN || n->op == HW_CONST)
                continue;
            const HwNode *o = &m->n[ops[k]];
            if (o->stage > st) {
                st = o->stage;
                t = o->t;
            } else if (o->stage == st && o->t > t) {
                t = o->t;
            }
        }
        double dl = node_delay(m, n);
        if (dl > 0 && t > 0 && t + dl > budget) {
            st++;
            t = 0;
        }
        n->stage = st;
        n->t = t + dl;
    }
    /* outputs leave in the last stage, unregistered: the next layer continues
     * the same stage, so registers go where time runs out, not at layer ends */
    int last = 0;
    for (long e = 0; e < m->nout; e++)
        if (m->n[m->out[e]].stage > last)
            last = m->n[m->out[e]].stage;
    m->latency = last;
    m->out_t = 0;
    for (long e = 0; e < m->nout; e++) {
        const HwNode *o = &m->n[m->out[e]];
        if (o->stage == last && o->t > m->out_t)
            m->out_t = o->t;
    }
    /* how many delayed copies each node needs */
    for (size_t i = 0; i < m->nn; i++) {
        HwNode *n = &m->n[i];
        int ops[4] = {n->a, n->b, n->c, n->op == HW_CLIP ? n->sb : -1};
        if (n->op == HW_IN || n->op == HW_CONST)
            continue;
        for (int k = 0; k < 4; k++) {
            if (ops[k] < 0)
                continue;
            HwNode *o = &m->n[ops[k]];
            int need = n->stage - o->stage;
            if (o->op != HW_CONST && need > o->maxdelay)
                o->maxdelay = need;
        }
    }
    for (long e = 0; e < m->nout; e++) {
        HwNode *o = &m->n[m->out[e]];
        int need = m->latency - o->stage;
        if (o->op != HW_CONST && need > o->maxdelay)
            o->maxdelay = need;
    }
}

