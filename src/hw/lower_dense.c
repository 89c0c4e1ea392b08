/* lower_dense.c — Dense and Conv to the netlist: each output (each output
 * pixel's, for Conv) a constant matrix x vector product by the cmvm core,
 * then the bias, the accumulator's overflow, the result cast and a fused relu.
 * Under --sat-order hls4ml (acc_chain) a saturating accumulator's chain of
 * clamped additions instead, as a balanced tree of their compositions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/cmvm/cmvm.h"
#include "hw/lower.h"

/* ---- hls4ml's order of saturating additions (acc_chain) ----------------------
 * Adding p and clamping to [L, H] is x -> clamp(x + p, L, H).  Two such maps,
 * A then B, compose into one of the same form:
 *   clamp(clamp(x + sA, lA, hA) + sB, lB, hB) = clamp(x + s, l, h),
 *   s = sA + sB,  l = clamp(lA + sB, lB, hB),  h = clamp(hA + sB, lB, hB),
 * (l <= h follows from lA <= hA), and composition is associative: a balanced
 * tree over the products in hls4ml's order gives the chain's result at
 * logarithmic depth. */

typedef struct {
    int s, l, h;    /* nodes: the sum and the clamp bounds */
} ClampMap;

/* c > 0 ? b : d, of range [lo, hi] */
static int select_node(HwModule *m, int c, int b, int d, double lo, double hi)
{
    HwNode n = hw_node_blank(HW_SEL);
    n.a = c;
    n.b = b;
    n.c = d;
    n.lo = lo;
    n.hi = hi;
    n.w = hw_width(lo, hi, &n.sign);
    return hw_node_push(m, n);
}

/* min(max(v, lo), hi), lo <= hi; a bound v cannot cross is left out */
static int clamp_node(HwModule *m, int v, int lo, int hi)
{
    double vl = m->n[v].lo, vh = m->n[v].hi, ll = m->n[lo].lo, lh = m->n[lo].hi, hl = m->n[hi].lo, hh = m->n[hi].hi;
    if (vl < lh) {
        double l1 = fmax(vl, ll), h1 = fmax(vh, lh);
        v = select_node(m, hw_add(m, v, 0, lo, 0, 1, 0), v, lo, l1, h1);
        vl = l1;
        vh = h1;
    }
    if (vh > hl)
        v = select_node(m, hw_add(m, v, 0, hi, 0, 1, 0), hi, v, fmin(vl, hl), fmin(vh, hh));
    return v;
}

static ClampMap compose(HwModule *m, ClampMap a, ClampMap b)
{
    ClampMap c;
    c.s = hw_add(m, a.s, 0, b.s, 0, 0, 0);
    c.l = clamp_node(m, hw_add(m, a.l, 0, b.s, 0, 0, 0), b.l, b.h);
    c.h = clamp_node(m, hw_add(m, a.h, 0, b.s, 0, 0, 0), b.l, b.h);
    return c;
}

int lower_sat_chain(HwModule *m, const int *terms, int n, int64_t a0, int64_t lo, int64_t hi)
{
    int cl = hw_const(m, lo), ch = hw_const(m, hi);
    ClampMap *t = malloc(sizeof(ClampMap) * (size_t)(n ? n : 1));
    for (int k = 0; k < n; k++)
        t[k] = (ClampMap){terms[k], cl, ch};
    for (; n > 1; n = (n + 1) / 2)   /* neighbours only: the order is kept */
        for (int k = 0; k < n / 2; k++) {
            t[k] = compose(m, t[2 * k], t[2 * k + 1]);
            if (n % 2 && k == n / 2 - 1)
                t[k + 1] = t[n - 1];
        }
    int a = hw_const(m, a0);
    if (n == 1)
        a = clamp_node(m, hw_add(m, a, 0, t[0].s, 0, 0, 0), t[0].l, t[0].h);
    free(t);
    return a;
}

/* Output o of one row: x (its nodes, -1 none) times w[i][o] in input order, each product cast to the
 * accumulator, each sum clamped; the bias (accumulator codes) first or last.  Returns the accumulator. */
static int chain_output(HwModule *m, const Node *nd, MultMode mult, const int64_t *w, long nin, long nout, long o,
                        const int *xs, int fp, int64_t bias)
{
    FxType acc = nd->accum;
    int64_t hi = fx_type_max(acc), lo = acc.o == FXO_SAT_SYM && acc.sign ? -hi : fx_type_min(acc);
    int *t = malloc(sizeof(int) * (size_t)(nin + 1));
    int n = 0;
    for (long i = 0; i < nin; i++) {
        int64_t c = w[i * nout + o];
        if (!c || xs[i] < 0)
            continue;   /* adds 0: the identity */
        int p = cmvm_const_mult(m, xs[i], c, cmvm_use_dsp(mult, m->n[xs[i]].w, c));
        t[n++] = hw_cast(m, p, fp, acc);
    }
    bool last = nd->acc_chain == ACC_BIAS_LAST && bias;
    if (last)
        t[n++] = hw_const(m, bias);   /* hls4ml's separate bias layer: one more clamped addition */
    int a = lower_sat_chain(m, t, n, last ? 0 : bias, lo, hi);
    free(t);
    return a;
}

/* A dense layer over `rows` rows of nin inputs with weights wcodes [nin][nout].
 * gather (CONV: the window of each output pixel) maps (row, i) to the input
 * element, -1 for padding (no term); NULL: row * nin + i.  Input elements and
 * their products are shared by every row that reads them. */
static int dense_rows(HwDesign *r, HwModule *m, const Node *nd, const Node *relu, const int64_t *wcodes, long nin,
                            long nout, long rows, const int32_t *gather)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *w = &g->t[nd->in[1]];
    const Tensor *b = nd->in[2] >= 0 ? &g->t[nd->in[2]] : NULL;
    long nx = ir_numel(x);
    int *innode = malloc(sizeof(int) * (size_t)(nx ? nx : 1));
    for (long e = 0; e < nx; e++)
        innode[e] = -1;
    FxType acc = nd->accum, res = g->t[nd->out].type;
    int fx = fx_frac(x->type), fw = fx_frac(w->type), fa = fx_frac(acc);
    int pd = fx + fw - fa;
    m->nout = rows * nout;
    m->out = arena_array(&r->arena, (size_t)m->nout, sizeof(int));
    int64_t *bacc = malloc(sizeof(int64_t) * (size_t)(nout ? nout : 1));
    unsigned char *hasb = malloc((size_t)(nout ? nout : 1));
    for (long o = 0; o < nout; o++) {
        bacc[o] = b ? fx_cast_to(b->codes[o], fx_frac(b->type), acc) : 0;
        hasb[o] = bacc[o] != 0;
    }
    Cmvm cm;
    cmvm_init(&cm);
    for (long row = 0; row < rows; row++) {
        if (!gather)
            cmvm_forget(&cm);   /* rows share no input */
        int *xs = malloc(sizeof(int) * (size_t)nin);
        long *xi = malloc(sizeof(long) * (size_t)nin);
        for (long i = 0; i < nin; i++) {
            long e = gather ? gather[row * nin + i] : row * nin + i;
            xi[i] = e;
            if (e >= 0 && innode[e] < 0)
                innode[e] = hw_in(m, 0, e, x->type);
            xs[i] = e >= 0 ? innode[e] : -1;
        }
        CmvmProblem p = {wcodes, nin, nout, xs, xi, pd, acc, m->live ? m->live + row * nout : NULL,
                         HW_NODE_MULT(&r->opt, nd - g->n), hasb};
        if (nd->acc_chain == ACC_EXACT)
            cmvm_csd_solve(&cm, m, &p);
        for (long o = 0; o < nout; o++) {
            int accn;
            if (nd->acc_chain != ACC_EXACT) {
                accn = p.live && !p.live[o] ? hw_const(m, 0)
                                            : chain_output(m, nd, p.mult, wcodes, nin, nout, o, xs, fx + fw, bacc[o]);
            } else {
                accn = cmvm_output(&cm, m, &p, o, bacc[o]);
                /* the accumulator: modulo 2^W (a cast with frac 0 keeps the low bits), or saturated once */
                FxType acc_int = acc;
                acc_int.i = acc.w;   /* same bits, frac 0: overflow handling only */
                accn = hw_cast(m, accn, 0, acc_int);
            }
            int y = hw_cast(m, accn, fa, res);
            if (relu) {
                FxType rt = g->t[relu->out].type;
                HwNode s = hw_node_blank(HW_SEL);
                s.a = y;
                s.b = hw_cast(m, y, fx_frac(res), rt);
                s.c = -1;
                s.w = rt.w;
                s.sign = rt.sign;
                s.lo = fmin(0, (double)fx_type_min(rt));
                s.hi = (double)fx_type_max(rt);
                y = hw_node_push(m, s);
            }
            m->out[row * nout + o] = y;
        }
        free(xs);
        free(xi);
    }
    free(innode);
    free(bacc);
    free(hasb);
    if (m->adders_naive < 0)
        m->adders_naive = 0;
    cmvm_free(&cm);
    return 0;
}

int lower_dense(HwDesign *r, HwModule *m, Diag *d, const Node *nd, const Node *relu)
{
    const Tensor *w = &r->g->t[nd->in[1]];
    long nin = w->const_dims[0], nout = w->const_dims[1];
    (void)d;
    return dense_rows(r, m, nd, relu, w->codes, nin, nout, ir_numel(&r->g->t[nd->in[0]]) / nin, NULL);
}

ConvRows lower_conv_rows(HwDesign *r, const Node *nd)
{
    const Graph *g = r->g;
    int ih, iw, cin, oh, ow, cout;
    ir_hwc(&g->t[nd->in[0]], &ih, &iw, &cin);
    ir_hwc(&g->t[nd->out], &oh, &ow, &cout);
    long taps = (long)nd->kernel[0] * nd->kernel[1];
    ConvRows c = {(long)oh * ow, taps * cin, cout, NULL, NULL};
    int32_t *tab = arena_array(&r->arena, (size_t)(c.rows * taps), sizeof(int32_t));
    c.gather = arena_array(&r->arena, (size_t)(c.rows * c.nin), sizeof(int32_t));
    c.wc = arena_array(&r->arena, (size_t)(c.nin * cout), sizeof(int64_t));
    ir_window_taps(g, nd, tab);
    ir_conv_dense_weights(g, nd, c.wc, NULL);
    for (long q = 0; q < c.rows * taps; q++)
        for (int k = 0; k < cin; k++)
            c.gather[q * cin + k] = tab[q] < 0 ? -1 : (int32_t)((long)tab[q] * cin + k);
    return c;
}

/* Conv: every output pixel a dense output over its window (padding adds no term). */
int lower_conv(HwDesign *r, HwModule *m, const Node *nd, const Node *relu)
{
    ConvRows c = lower_conv_rows(r, nd);
    return dense_rows(r, m, nd, relu, c.wc, c.nin, c.nout, c.rows, c.gather);
}
