/* schedule.c — pipelining for a clock: each node has a delay from a simple
 * model of the part's family (parts.c hw_delay_model; the Xilinx-class one:
 * adders 0.6 ns + 0.025 ns/bit, ROMs 0.6 ns + 0.1 ns/address bit, ...).
 * Nodes are placed as soon as possible; a node whose inputs arrive too late
 * for it to finish within the stage budget (clock period minus the model's
 * register overhead, 0.8 ns for Xilinx) starts the next stage.  Stages continue across layers (a
 * layer's outputs leave unregistered, with their arrival time, into the next
 * layer), so registers sit where time runs out; the top registers input and
 * output. */
#include "hw/hw.h"

static double node_delay(const HwModule *m, const HwNode *n, const HwDelay *dm)
{
    switch (n->op) {
    case HW_IN:
    case HW_CONST:
    case HW_SHR:
        return 0;
    case HW_ADD:
        return dm->add0 + dm->add_bit * n->w;
    case HW_CAST: {
        /* truncation and wrapping are wiring; rounding is an increment;
         * saturation a range check and a multiplexer */
        int rounds = n->to.q != FXQ_TRN && n->fa > fx_frac(n->to);
        return (rounds ? dm->add0 + dm->add_bit * n->w : 0) +
               (n->to.o == FXO_WRAP ? 0 : dm->sat0 + dm->sat_bit * m->n[n->a].w);
    }
    case HW_SEL:
        return dm->sel0 + dm->sel_bit * n->w;
    case HW_CLIP:
        return dm->clip0 + dm->clip_bit * m->n[n->a].w;
    case HW_ROM:
        return dm->rom0 + dm->rom_abit * m->rom[n->rom].aw +
               (m->rom[n->rom].hls_index ? dm->add0 + dm->add_bit * m->n[n->a].w : dm->rom_index);
    case HW_MUL:
        return n->b >= 0 ? dm->mul_var : dm->mul_const;
    case HW_MAX:
        return dm->max0 + dm->max_bit * n->w;
    }
    return 1.0;
}

/* Place every node of m in a stage for a combinational budget per stage (ns),
 * its inputs arriving at m->in_t; set m->latency, m->out_t and each node's
 * maxdelay. */
void hw_schedule(HwModule *m, double budget, const HwDelay *dm)
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
        double dl = node_delay(m, n, dm);
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

