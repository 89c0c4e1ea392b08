/* hw.c — the hardware layer's driver: its steps in one list (lower every
 * layer, schedule for the clock, estimate), the netlist verifier after each
 * step and --dump-after for them. */
#include "hw/hw.h"

#include <stdlib.h>
#include <string.h>

#include "hw/lower.h"
#include "hw/rnn_static.h"
#include "util/names.h"

/* Which elements of each tensor some graph output depends on.  A quantizer's pruned element (type
 * width 0) needs nothing of its input; elementwise layers need the same element of their input;
 * every other layer, if any of its outputs is needed, all of its inputs.  Dead elements are built
 * as constant 0 (they are never observed). */
static unsigned char **element_liveness(Arena *a, const Graph *g)
{
    unsigned char **live = arena_array(a, g->nt, sizeof(unsigned char *));
    for (size_t t = 0; t < g->nt; t++)
        if (!g->t[t].is_const)
            live[t] = arena_array(a, (size_t)(ir_numel(&g->t[t]) ? ir_numel(&g->t[t]) : 1), 1);
    for (size_t k = 0; k < g->noutputs; k++)
        memset(live[g->outputs[k]], 1, (size_t)ir_numel(&g->t[g->outputs[k]]));
    for (size_t k = g->nn; k-- > 0;) {
        const Node *n = &g->n[k];
        if (n->dead || n->op == OP_INPUT)
            continue;
        long no = ir_numel(&g->t[n->out]);
        const unsigned char *lo = live[n->out];
        int elementwise = n->op == OP_QUANT || n->op == OP_RELU || n->op == OP_LEAKYRELU || n->op == OP_CLIP ||
                          n->op == OP_THRESHRELU ||
                          n->op == OP_HARDSIGMOID ||
                          n->op == OP_SIGMOID || n->op == OP_TANH || n->op == OP_RESHAPE || n->op == OP_AFFINE;
        if (elementwise && ir_numel(&g->t[n->in[0]]) == no) {
            unsigned char *li = live[n->in[0]];
            for (long e = 0; e < no; e++)
                li[e] |= lo[e] && (n->op != OP_QUANT || ir_quant_elem(n, e).w > 0);
            continue;
        }
        int any = 0;
        for (long e = 0; e < no && !any; e++)
            any = lo[e];
        for (int j = 0; j < n->nin && any; j++)
            if (n->in[j] >= 0 && live[n->in[j]])
                memset(live[n->in[j]], 1, (size_t)ir_numel(&g->t[n->in[j]]));
    }
    return live;
}

/* Lower node k into module m (its ports, name and live mask set here); cell: a module of a static recurrent
 * cell (rnn_static.c), whose inputs are registers of the full types and all of whose elements are built. */
int hw_lower_node(HwDesign *r, HwModule *m, size_t k, const unsigned char *const *live, int cell, Diag *d)
{
    const Graph *g = r->g;
    const Node *nd = &g->n[k];
    char id[NAMES_IDENT_SIZE];
    memset(m, 0, sizeof(*m));
    m->node = (int)k;
    m->ports = ir_is_merge_op(nd->op) || nd->op == OP_CONCAT ? 2 : 1;
    m->in_tensor[0] = nd->in[0];
    m->in_tensor[1] = m->ports == 2 ? nd->in[1] : -1;
    m->out_tensor = nd->out;
    for (int p = 0; p < m->ports && !cell; p++) {
        int t = m->in_tensor[p];
        while (g->t[t].producer >= 0 && g->n[g->t[t].producer].op == OP_RESHAPE)
            t = g->n[g->t[t].producer].in[0];
        m->in_quant[p] = g->t[t].producer >= 0 && g->n[g->t[t].producer].op == OP_QUANT ? &g->n[g->t[t].producer] : NULL;
    }
    const Node *relu = nd->fused_relu >= 0 ? &g->n[nd->fused_relu] : NULL;
    if (relu)
        m->out_tensor = relu->out;
    m->live = live ? live[m->out_tensor] : NULL;
    /* TOP_LAYER, never a keyword (a model "always" with a layer "comb") */
    m->name = arena_strdup(&r->arena, names_v_ident(id, sizeof id, arena_printf(&r->arena, "%s_%s", r->top, nd->name)));
    for (int suffix = 1, clash = 1; clash; suffix++) {   /* unique even if two names map to one identifier */
        clash = 0;
        for (size_t j = 0; j < r->nm && !clash; j++)
            clash = !strcmp(r->m[j].name, m->name);
        if (clash)
            m->name = arena_printf(&r->arena, "%s_%d", id, suffix);
    }
    if (nd->acc_chain != ACC_EXACT && nd->accum.o == FXO_SAT_ZERO)
        return diag_error(d, "%s: node '%s' (%s): --sat-order hls4ml (SatOrder) with a SAT_ZERO accumulator: its "
                          "chain is not a clamp and is not built in the RTL (the emulator and C compute it); use "
                          "SAT or SAT_SYM, --sat-order exact or --no-rtl", r->g->file, nd->name, nd->src_op);
    switch (nd->op) {
    case OP_DENSE: return nd->reuse > 1 ? lower_fold(r, m, d, nd, relu) : lower_dense(r, m, d, nd, relu);
    case OP_AFFINE: return lower_affine(r, m, nd);
    case OP_CONV1D:
    case OP_CONV2D: return nd->reuse > 1 ? lower_fold(r, m, d, nd, relu) : lower_conv(r, m, nd, relu);
    case OP_MAXPOOL1D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL1D:
    case OP_AVGPOOL2D: return lower_pool(r, m, d, nd);
    case OP_PAD:
    case OP_UPSAMPLE:
    case OP_TRANSPOSE:
    case OP_CONCAT: return lower_gather(r, m, nd);
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_AVERAGE:
    case OP_MAXIMUM:
    case OP_MINIMUM: return lower_merge(r, m, nd);
    case OP_SIGMOID:
    case OP_TANH:
    case OP_SOFTPLUS:
    case OP_SOFTSIGN:
    case OP_LUT:
    case OP_SELU:
    case OP_ELU: return lower_unary_table(r, m, d, nd);
    case OP_SOFTMAX: return lower_softmax(r, m, d, nd);
    case OP_EMBED: return lower_embed(r, m, d, nd);
    case OP_LAYERNORM: return lower_layernorm(r, m, d, nd);
    default: return lower_elementwise(r, m, d, nd);
    }
}

/* Lower every layer into its module (in graph order; a Reshape is wiring
 * and a relu fused into the layer before it); a static recurrent layer
 * into one module (rnn_static.c). */
static int step_lower(HwDesign *r, Diag *d)
{
    const Graph *g = r->g;
    int *fused_into = ir_fused_into(g, &r->arena);
    unsigned char **live = r->opt.all_live ? NULL : element_liveness(&r->arena, g);
    for (size_t k = 0; k < g->nn; k++) {
        const Node *nd = &g->n[k];
        if (nd->dead || nd->op == OP_INPUT || fused_into[k] >= 0)
            continue;
        HwModule *m = &r->m[r->nm];
        int rc;
        if (nd->cell.is_static) {   /* the whole layer (one direction), nodes first..last: one module */
            size_t last = k;
            rc = hw_rnn_lower(r, m, k, &last, d);
            k = last;
        } else if (nd->op == OP_RESHAPE) {
            continue;
        } else {
            rc = hw_lower_node(r, m, k, (const unsigned char *const *)live, 0, d);
        }
        r->nm++;   /* on failure too: its nodes and ROMs are freed with the others */
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Schedule the modules in graph order: each starts in the cycle and at the
 * time its inputs arrive, and its outputs' cycle and time feed the next. */
static int step_schedule(HwDesign *r, Diag *d)
{
    const Graph *g = r->g;
    (void)d;
    size_t mi = 0;
    for (size_t k = 0; k < g->nn; k++) {
        const Node *nd = &g->n[k];
        if (!nd->dead && nd->op == OP_RESHAPE) {
            r->tensor_cycle[nd->out] = r->tensor_cycle[nd->in[0]];
            r->tensor_t[nd->out] = r->tensor_t[nd->in[0]];
            continue;
        }
        if (mi >= r->nm || r->m[mi].node != (int)k)
            continue;
        HwModule *m = &r->m[mi++];
        /* the operands meet in the later one's cycle; an earlier one is
         * delayed by registers and arrives at the start of that cycle */
        int c = r->tensor_cycle[m->in_tensor[0]];
        if (m->ports == 2 && r->tensor_cycle[m->in_tensor[1]] > c)
            c = r->tensor_cycle[m->in_tensor[1]];
        m->in_t = 0;
        for (int p = 0; p < m->ports; p++)
            if (r->tensor_cycle[m->in_tensor[p]] == c && r->tensor_t[m->in_tensor[p]] > m->in_t)
                m->in_t = r->tensor_t[m->in_tensor[p]];
        if (m->rnn) {
            hw_rnn_schedule(m);
            if (m->rnn->ii > r->ii)
                r->ii = m->rnn->ii;
        } else if (m->fold) {
            hw_fold_schedule(m);
            if (m->fold->reuse > r->ii)
                r->ii = m->fold->reuse;
        } else {
            hw_schedule(m, r->budget_ns, r->delay);
        }
        r->tensor_cycle[m->out_tensor] = c + m->latency;
        r->tensor_t[m->out_tensor] = m->latency ? m->out_t : (m->out_t > m->in_t ? m->out_t : m->in_t);
        if (nd->fused_relu >= 0)
            r->tensor_cycle[nd->out] = -1;
    }
    r->latency = r->tensor_cycle[g->outputs[0]] + 1;   /* the top registers its output */
    for (size_t k = 1; k < g->noutputs; k++)            /* the earlier outputs wait for the last */
        if (r->tensor_cycle[g->outputs[k]] + 1 > r->latency)
            r->latency = r->tensor_cycle[g->outputs[k]] + 1;
    return 0;
}

static int step_estimate(HwDesign *r, Diag *d)
{
    (void)d;
    for (size_t k = 0; k < r->nm; k++) {
        HwModule *m = &r->m[k];
        if (m->rnn)
            hw_rnn_estimate(r, m);
        else if (m->fold)
            hw_fold_estimate(m, ir_numel(&r->g->t[m->in_tensor[0]]), r->g->t[m->out_tensor].type.w);
        else
            hw_estimate(m);
    }
    return 0;
}

/* The steps: one readable list. */
static const struct {
    const char *name;
    int (*run)(HwDesign *, Diag *);
    int scheduled;   /* the netlist has stages from here on (hw_verify checks them) */
} hw_steps[] = {
    {"lower", step_lower, 0},
    {"schedule", step_schedule, 1},
    {"estimate", step_estimate, 1},
};

const char *hw_step_name(size_t k)
{
    return k < ETN_COUNTOF(hw_steps) ? hw_steps[k].name : NULL;
}

int hw_build(HwDesign *r, const Graph *g, const HwOptions *opt, Diag *d)
{
    memset(r, 0, sizeof(*r));
    r->g = g;
    r->opt = *opt;
    if (opt->clock_mhz <= 0 || opt->clock_mhz > 2000)
        return diag_error(d, "--clock-mhz: expected a clock between 0 and 2000 MHz, got %g", opt->clock_mhz);
    r->delay = hw_delay_model(opt->part);
    r->budget_ns = 1000.0 / opt->clock_mhz - r->delay->reg_ns;
    if (r->budget_ns < 0.5)
        r->budget_ns = 0.5;
    /* several inputs (outputs): one port each; the test benches see them side by side as one vector of one type */
    for (int o = 0; o < 2; o++) {
        const int *io = o ? g->outputs : g->inputs;
        size_t nio = o ? g->noutputs : g->ninputs;
        char t0[64], tk[64];
        fx_format(g->t[io[0]].type, t0, sizeof t0);
        for (size_t k = 1; k < nio; k++)
            if (fx_format(g->t[io[k]].type, tk, sizeof tk), strcmp(t0, tk))
                return diag_error(d, "%s: RTL: expected the model's %s to share one type, got %s ('%s') and %s ('%s') "
                                  "(give them one precision in the configuration; the emulator and the generated C take "
                                  "them as they are: --emit c)", g->file, o ? "outputs" : "inputs", t0,
                                  g->t[io[0]].name, tk, g->t[io[k]].name);
    }
    char id[NAMES_IDENT_SIZE];
    r->top = arena_strdup(&r->arena, names_design(id, sizeof id, g->name));
    r->m = arena_array(&r->arena, g->nn, sizeof(HwModule));
    r->tensor_cycle = arena_array(&r->arena, g->nt, sizeof(int));
    for (size_t t = 0; t < g->nt; t++)
        r->tensor_cycle[t] = -1;
    for (size_t k = 0; k < g->ninputs; k++)
        r->tensor_cycle[g->inputs[k]] = 1;  /* the top registers its inputs */
    r->ii = 1;
    r->tensor_t = arena_array(&r->arena, g->nt, sizeof(double));
    for (size_t k = 0; k < ETN_COUNTOF(hw_steps); k++) {
        if (hw_steps[k].run(r, d) < 0 || hw_verify(r, d, hw_steps[k].name, hw_steps[k].scheduled) < 0) {
            hw_free(r);
            return -1;
        }
        if (opt->dump && opt->dump_after && !strcmp(opt->dump_after, hw_steps[k].name)) {
            buf_printf(opt->dump, "## after %s\n", hw_steps[k].name);
            hw_dump(r, opt->dump);
        }
    }
    r->opt.dump = NULL;   /* the caller's buffer: not kept */
    r->opt.dump_after = NULL;
    return 0;
}

void hw_free(HwDesign *r)
{
    for (size_t k = 0; k < r->nm; k++) {
        free(r->m[k].n);
        free(r->m[k].rom);
        if (r->m[k].rnn)
            hw_free(&r->m[k].rnn->cell);
    }
    arena_free(&r->arena);
    memset(r, 0, sizeof(*r));
}
