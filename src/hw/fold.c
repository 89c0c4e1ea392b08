/* fold.c — resource sharing (ReuseFactor R > 1) for Dense and Conv: the
 * layer's multiplications dealt to ceil(n / R) general multipliers, each used
 * in R time slots, with one accumulator per output element (HwFold in
 * netlist.h says how).  Also its schedule (a fixed latency of R + 2 cycles)
 * and its resource estimate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "hw/lower.h"

static int cmp_term(const void *a, const void *b)
{
    const HwTerm *x = a, *y = b;
    if (x->o != y->o)
        return x->o < y->o ? -1 : 1;
    return x->x < y->x ? -1 : x->x > y->x;
}

/* The multiplier kind: --multipliers dsp puts every general multiplier on a
 * DSP block, csd builds it as logic (shift-and-add over the weight's bits),
 * auto uses a DSP block when the operands together are 16 bits or wider. */
static int fold_dsp(MultMode mult, int wx, int ww)
{
    return mult == MULT_DSP || (mult == MULT_AUTO && wx + ww >= 16);
}

int lower_fold(HwDesign *r, HwModule *m, Diag *d, const Node *nd, const Node *relu)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *w = &g->t[nd->in[1]];
    const Tensor *b = nd->in[2] >= 0 ? &g->t[nd->in[2]] : NULL;
    long nin, nout, rows;
    const int64_t *wc;
    int32_t *gather = NULL;
    if (nd->acc_chain != ACC_EXACT)
        return diag_error(d, "%s: node '%s' (%s): ReuseFactor %d with --sat-order hls4ml (SatOrder) and a saturating "
                          "accumulator: the folded layer's chain of saturating additions is not built; use ReuseFactor "
                          "1, --sat-order exact or a wrapping accum type", g->file, nd->name, nd->src_op, nd->reuse);
    if (nd->op == OP_DENSE) {
        nin = w->const_dims[0];
        nout = w->const_dims[1];
        rows = ir_numel(x) / nin;
        wc = w->codes;
    } else {
        ConvRows c = lower_conv_rows(r, nd);
        rows = c.rows;
        nin = c.nin;
        nout = c.nout;
        gather = c.gather;
        wc = c.wc;
    }
    HwFold *f = arena_array(&r->arena, 1, sizeof(HwFold));
    m->fold = f;
    m->nout = rows * nout;
    f->acc = nd->accum;
    f->res = g->t[nd->out].type;
    f->relu = relu != NULL;
    if (relu)
        f->relu_t = g->t[relu->out].type;
    f->rom = nd->strategy && !strcmp(nd->strategy, "Resource");
    /* the multiplications: nonzero weights of live outputs, padding adds nothing */
    long cap = 0;
    for (long row = 0; row < rows; row++)
        for (long o = 0; o < nout; o++)
            if (!m->live || m->live[row * nout + o])
                for (long i = 0; i < nin; i++)
                    cap += wc[i * nout + o] != 0 && (!gather || gather[row * nin + i] >= 0);
    f->term = arena_array(&r->arena, (size_t)(cap ? cap : 1), sizeof(HwTerm));
    int64_t wmin = 0, wmax = 0;
    for (long row = 0; row < rows; row++)
        for (long o = 0; o < nout; o++) {
            if (m->live && !m->live[row * nout + o])
                continue;
            for (long i = 0; i < nin; i++) {
                int64_t c = wc[i * nout + o];
                long e = gather ? gather[row * nin + i] : row * nin + i;
                if (!c || e < 0)
                    continue;
                f->term[f->nterm++] = (HwTerm){e, c, row * nout + o};
                wmin = c < wmin ? c : wmin;
                wmax = c > wmax ? c : wmax;
            }
        }
    qsort(f->term, (size_t)f->nterm, sizeof(HwTerm), cmp_term);
    f->reuse = nd->reuse;
    if (f->nterm < 2) {
        /* nothing to share: the fully parallel circuit */
        diag_warn(d, "%s: node '%s' (%s): ReuseFactor %d: the layer has %ld nonzero multiplication%s, nothing to share; "
                  "built with ReuseFactor 1", g->file, nd->name, nd->src_op, nd->reuse, f->nterm, f->nterm == 1 ? "" : "s");
        m->fold = NULL;
        m->nout = 0;
        return nd->op == OP_DENSE ? lower_dense(r, m, d, nd, relu) : lower_conv(r, m, nd, relu);
    }
    if (f->reuse > f->nterm) {
        diag_warn(d, "%s: node '%s' (%s): ReuseFactor %d is more than the layer's %ld nonzero multiplications; built "
                  "with ReuseFactor %ld (one multiplier)", g->file, nd->name, nd->src_op, nd->reuse, f->nterm, f->nterm);
        f->reuse = (int)f->nterm;
    }
    f->nmult = (f->nterm + f->reuse - 1) / f->reuse;
    int s;
    f->ww = hw_width((double)wmin, (double)wmax, &s);
    if (!s)
        f->ww++;   /* a signed operand */
    f->sx = x->type.sign;
    f->wx = x->type.w + !f->sx;
    f->dsp = fold_dsp(HW_NODE_MULT(&r->opt, nd - g->n), f->wx, f->ww);
    int fa = fx_frac(f->acc);
    f->pd = fx_frac(x->type) + fx_frac(w->type) - fa;
    f->rom_bits = (long)f->reuse * f->nmult * f->ww;
    for (f->cw = 1; (1L << f->cw) < f->reuse; f->cw++)
        ;
    f->rom_group = 72 / f->ww > 0 ? 72 / f->ww : 1;
    /* the exact sum's range, output by output: its register is as wide as the widest */
    f->bias = arena_array(&r->arena, (size_t)m->nout, sizeof(int64_t));
    double *lo = calloc((size_t)m->nout, sizeof(double)), *hi = calloc((size_t)m->nout, sizeof(double));
    if (!lo || !hi) {
        free(lo);
        free(hi);
        return diag_error(d, "out of memory");
    }
    for (long e = 0; e < m->nout; e++) {
        f->bias[e] = b ? fx_cast_to(b->codes[e % nout], fx_frac(b->type), f->acc) : 0;
        lo[e] = hi[e] = (double)f->bias[e];
    }
    double xmin = (double)fx_type_min(x->type), xmax = (double)fx_type_max(x->type), scale = ldexp(1.0, -f->pd);
    for (long q = 0; q < f->nterm; q++) {
        double c = (double)f->term[q].w, p1 = c * xmin * scale, p2 = c * xmax * scale;
        lo[f->term[q].o] += floor(fmin(p1, p2));
        hi[f->term[q].o] += ceil(fmax(p1, p2));
    }
    f->accw = 2;
    for (long e = 0; e < m->nout; e++) {
        int wd = hw_width(lo[e], hi[e], &s) + !s;
        if (wd > f->accw)
            f->accw = wd;
    }
    free(lo);
    free(hi);
    int wp = f->wx + f->ww;
    if (f->accw >= HW_MAX_WIDTH || wp >= HW_MAX_WIDTH || wp - f->pd >= HW_MAX_WIDTH)
        return diag_error(d, "%s: node '%s' (%s): ReuseFactor %d: expected sums and products of at most %d bits, got "
                          "a %d-bit sum of %d-bit products", g->file, nd->name, nd->src_op, nd->reuse, HW_MAX_WIDTH - 1,
                          f->accw, wp);
    m->adders = m->nout * (f->nterm / m->nout / f->reuse + 1);
    m->adders_naive = m->adders;
    return 0;
}

/* Input captured (1), operands of slot s registered (2), products summed into
 * the accumulators (3, the last slot R cycles after the first): the result
 * register is written R + 2 clocks after the input arrives. */
void hw_fold_schedule(HwModule *m)
{
    m->latency = m->fold->reuse + 2;
    m->out_t = 0;
}

/* Which outputs multiplier j feeds, in slots lo..hi (s1 is the slot), and
 * whether its whole run feeds one output (no gate). */
int hw_fold_span(const HwFold *f, long j, long *o_first, long *o_last)
{
    long q0 = j * f->reuse, q1 = q0 + f->reuse - 1;
    if (q1 >= f->nterm)
        q1 = f->nterm - 1;
    *o_first = f->term[q0].o;
    *o_last = f->term[q1].o;
    return *o_first == *o_last;
}

/* 7-series terms, as estimate.c: an R:1 selection costs (R - 1) / 3 LUT6 per
 * bit (a LUT6 is a 4:1 multiplexer); a weight selected among R constants
 * ceil(R / 64) per bit (a LUT as a ROM); a multiplier on logic about
 * wx * ww / 2 LUTs; an accumulator one LUT per bit per operand. */
void hw_fold_estimate(HwModule *m, long nin_elems, int wo)
{
    long *seen = calloc((size_t)(nin_elems > 0 ? nin_elems : 1), sizeof(long));
    const HwFold *f = m->fold;
    double R = f->reuse, lut = 0, ff = 0;
    ff += (double)nin_elems * (f->wx - !f->sx);            /* the input held for R slots */
    if (!f->dsp)
        ff += (double)f->nmult * (f->wx + f->ww);          /* operand registers (a DSP block holds its own) */
    ff += (double)m->nout * (f->accw + wo);                /* accumulators, result registers */
    ff += 2 * ceil(log2(R + 1)) + 2;                       /* slot counters, valid */
    /* input selection: a multiplexer over the distinct elements a multiplier reads (terms are sorted by
     * output then input, so consecutive slots mostly read different elements of few outputs' windows) */
    for (long j = 0; j < f->nmult; j++) {
        long q0 = j * f->reuse, q1 = q0 + f->reuse < f->nterm ? q0 + f->reuse : f->nterm, distinct = 0;
        for (long q = q0; q < q1; q++) {
            long x = f->term[q].x;
            if (!seen) {
                distinct = q1 - q0;   /* out of memory: the bound */
                break;
            }
            distinct += seen[x] != j + 1;
            seen[x] = j + 1;
        }
        lut += f->wx * ceil((double)(distinct - 1) / 3.0) + (distinct > 1 ? ceil(log2(R)) : 0);
    }
    if (!f->rom || f->reuse <= 32)
        lut += (double)f->nmult * f->ww * ceil(R / 64.0);  /* constants per slot, or a distributed ROM */
    long gated = 0, feeds = 0;
    for (long j = 0; j < f->nmult; j++) {
        long a, b;
        int one = hw_fold_span(f, j, &a, &b);
        feeds += b - a + 1;
        gated += one ? 0 : b - a + 1;
    }
    int wt = f->wx + f->ww - (f->pd > 0 ? f->pd - 1 : f->pd);
    lut += (double)feeds * f->accw * 0.77;                 /* accumulator adders (carry chains) */
    lut += (double)gated * wt * 0.5;                       /* gates of shared multipliers */
    lut += (double)m->nout * (wo + 2);                     /* result casts */
    m->dsp = f->dsp ? f->nmult : 0;
    /* Strategy Resource: ROMs of up to 72-bit words, 2^ceil(log2 R) deep; an 18-kbit block is 512 x 36 */
    m->bram = 0;
    if (f->rom && f->reuse > 32) {   /* shallower ROMs are distributed RAM (verilog_fold.c) */
        int group = f->rom_group;
        long depth = 1L << f->cw;
        for (long j = 0; j < f->nmult; j += group) {
            long width = (f->nmult - j < group ? f->nmult - j : group) * f->ww;
            m->bram += ((width + 35) / 36) * ((depth + 511) / 512);
        }
    }
    if (!f->dsp)
        lut += (double)f->nmult * f->wx * f->ww * 0.5;
    m->lut = lut;
    m->ff = ff;
    free(seen);
}
