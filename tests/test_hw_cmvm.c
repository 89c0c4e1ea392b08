/* test_hw_cmvm.c — the cmvm core alone: random integer matrices and inputs,
 * the adder graph it builds evaluated node by node, against the exact matrix
 * product (each product floored to the accumulator's LSB when pd > 0); for
 * exact shift-and-add problems also no more adders than canonical signed
 * digits without sharing, and where the depth-bounded CSE was built, no output
 * deeper than without sharing; and the tree of composed clamped additions
 * (lower_sat_chain, --sat-order hls4ml) at random small widths against the
 * literal chain of clamps.  Prints "ok N (bounded B, greedy G)" and exits 0,
 * or names the first failure and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/cmvm/cmvm.h"
#include "hw/hw.h"
#include "hw/lower.h"

static uint64_t rng = 88172645463325252ULL;

static int64_t rnd(int64_t lo, int64_t hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (int64_t)(rng % (uint64_t)(hi - lo + 1));
}

static int64_t floor_shr(int64_t v, int s)
{
    return v >= 0 ? v >> s : -((-v + ((int64_t)1 << s) - 1) >> s);
}

static long n_bounded, n_greedy, n_search;
static long search_adders, bounded_adders;   /* search_trial: adders of wcse.c's and cse.c's plans, summed */

/* The adder depth of every node (adders on its longest path from an input). */
static void depths(const HwModule *m, int *d)
{
    for (size_t i = 0; i < m->nn; i++) {
        const HwNode *n = &m->n[i];
        int x = 0;
        if (n->op == HW_ADD)
            x = 1 + (d[n->a] > d[n->b] ? d[n->a] : d[n->b]);
        else if (n->op == HW_SHR || n->op == HW_MUL || n->op == HW_CAST)
            x = d[n->a];
        d[i] = x;
    }
}

/* The value of every node for inputs x (by element). */
/* Input vector vec of xbits-bit values: all largest (0), all smallest (1), then random. */
static void draw_inputs(int64_t *x, long nin, int xbits, int vec)
{
    int64_t xmax = ((int64_t)1 << (xbits - 1)) - 1;
    for (long i = 0; i < nin; i++)
        x[i] = vec == 0 ? xmax : vec == 1 ? -xmax - 1 : rnd(-xmax - 1, xmax);
}

static int eval(const HwModule *m, const int64_t *x, int64_t *v)
{
    for (size_t i = 0; i < m->nn; i++) {
        const HwNode *n = &m->n[i];
        switch (n->op) {
        case HW_IN: v[i] = x[n->k]; break;
        case HW_CONST: v[i] = n->k; break;
        case HW_ADD: {
            int64_t a = v[n->a] * ((int64_t)1 << n->sa), b = v[n->b] * ((int64_t)1 << n->sb);
            v[i] = n->sub ? a - b : a + b;
            break;
        }
        case HW_SHR: v[i] = floor_shr(v[n->a], n->sa); break;
        case HW_MUL: v[i] = v[n->a] * (n->b >= 0 ? v[n->b] : n->k); break;
        case HW_SEL: v[i] = v[n->a] > 0 ? v[n->b] : n->c >= 0 ? v[n->c] : 0; break;
        default:
            fprintf(stderr, "test_hw_cmvm: unexpected node %s\n", hw_op_names[n->op]);
            return -1;
        }
        if ((double)v[i] < n->lo || (double)v[i] > n->hi) {
            fprintf(stderr, "test_hw_cmvm: node %zu (%s) = %lld outside its range [%g, %g]\n", i, hw_op_names[n->op],
                    (long long)v[i], n->lo, n->hi);
            return -1;
        }
    }
    return 0;
}

/* One random problem: nin x nout weights of up to wbits, inputs of xbits, pd dropped bits. */
static int trial(int t, long nin, long nout, int wbits, int xbits, int pd, MultMode mult, int sparse)
{
    HwModule m;
    memset(&m, 0, sizeof m);
    int64_t *w = malloc(sizeof(int64_t) * (size_t)(nin * nout)), *x = malloc(sizeof(int64_t) * (size_t)nin);
    int *xn = malloc(sizeof(int) * (size_t)nin), *out = malloc(sizeof(int) * (size_t)nout);
    long *xid = malloc(sizeof(long) * (size_t)nin);
    int64_t wmax = ((int64_t)1 << (wbits - 1)) - 1;
    for (long k = 0; k < nin * nout; k++)
        w[k] = rnd(0, 99) < sparse ? 0 : rnd(-wmax, wmax);
    FxType xt = {(int16_t)xbits, (int16_t)xbits, 1, FXQ_TRN, FXO_WRAP};
    for (long i = 0; i < nin; i++) {
        xn[i] = i % 7 == 3 ? -1 : hw_in(&m, 0, i, xt);   /* some inputs absent (padding) */
        xid[i] = i;
    }
    FxType acc = {48, 24, 1, FXQ_TRN, FXO_SAT};   /* no wrap: the exact sum */
    unsigned char *hasb = malloc((size_t)nout);
    for (long o = 0; o < nout; o++)
        hasb[o] = o % 3 == 0;
    CmvmProblem p = {w, nin, nout, xn, xid, pd, acc, NULL, mult, hasb};
    Cmvm c;
    cmvm_init(&c);
    cmvm_csd_solve(&c, &m, &p);
    for (long o = 0; o < nout; o++)
        out[o] = cmvm_output(&c, &m, &p, o, o % 3 ? 0 : o + 1);
    long bounded = c.cse_bounded + c.cse_search;
    n_bounded += c.cse_bounded;
    n_greedy += c.cse_greedy;
    n_search += c.cse_search;
    cmvm_free(&c);
    int64_t *v = malloc(sizeof(int64_t) * (m.nn ? m.nn : 1));
    int rc = 0;
    if (pd <= 0 && mult == MULT_CSD) {
        /* without sharing: each output's digits and bias in a balanced tree */
        long plain = 0, negs = 0;
        int dmax = 0, got = 0;
        int *d = malloc(sizeof(int) * (m.nn ? m.nn : 1));
        depths(&m, d);
        for (long o = 0; o < nout; o++) {
            long terms = hasb[o];
            for (long i = 0; i < nin; i++)
                if (xn[i] >= 0)
                    terms += cmvm_csd_count(w[i * nout + o]);
            plain += terms > 1 ? terms - 1 : 0;
            int dd = 0;
            while ((1L << dd) < terms)
                dd++;
            dmax = dd > dmax ? dd : dmax;
            const HwNode *r = &m.n[out[o]];
            int neg = r->op == HW_ADD && r->sub && m.n[r->a].op == HW_CONST && m.n[r->a].k == 0;
            negs += neg;   /* a negated sum: the plain sum negates too */
            int shl = r->op == HW_ADD && !r->sub && m.n[r->b].op == HW_CONST && m.n[r->b].k == 0;   /* a shift */
            int od = neg ? d[r->b] : shl ? d[r->a] : d[out[o]];
            got = od > got ? od : got;
        }
        free(d);
        if (m.adders - negs > plain) {
            fprintf(stderr, "test_hw_cmvm: trial %d: %ld adders, %ld without sharing\n", t, m.adders - negs, plain);
            rc = 1;
        }
        if (bounded && got > dmax) {
            fprintf(stderr, "test_hw_cmvm: trial %d: depth %d, %d without sharing\n", t, got, dmax);
            rc = 1;
        }
    }
    for (int vec = 0; vec < 20 && !rc; vec++) {
        draw_inputs(x, nin, xbits, vec);
        if (eval(&m, x, v) < 0) {
            rc = 1;
            break;
        }
        for (long o = 0; o < nout && !rc; o++) {
            int64_t want = o % 3 ? 0 : o + 1;
            for (long i = 0; i < nin; i++)
                if (xn[i] >= 0)
                    want += pd > 0 ? floor_shr(x[i] * w[i * nout + o], pd) : x[i] * w[i * nout + o] * ((int64_t)1 << -pd);
            if (v[out[o]] != want) {
                fprintf(stderr, "test_hw_cmvm: trial %d (mult %d, pd %d), vector %d, output %ld: got %lld, expected %lld\n",
                        t, (int)mult, pd, vec, o, (long long)v[out[o]], (long long)want);
                rc = 1;
            }
        }
    }
    free(v);
    free(hasb);
    free(m.n);
    free(m.rom);
    free(w);
    free(x);
    free(xn);
    free(out);
    free(xid);
    return rc;
}

/* The adders of a plan and its output sums. */
static long plan_adders(const CmvmPlan *pl, const CmvmTermList *tl, long nl, const unsigned char *bias)
{
    long n = (long)pl->n;
    for (long l = 0; l < nl; l++)
        n += tl[l].n + (bias[l] && tl[l].n) > 1 ? tl[l].n + (bias[l] && tl[l].n) - 1 : 0;
    return n;
}

/* cmvm_cse_search (wcse.c) alone: the signed digits of a random nin x nout matrix
 * as summands, the plan built into a netlist, each output's summands evaluated
 * against the exact product on random inputs; no output deeper than the bound
 * (the deepest output without sharing), no more adders than without sharing.
 * Also plans cse.c's bounded CSE on the same summands (adders summed for the report). */
static int search_trial(int t, long nin, long nout, int wbits, int xbits, int sparse)
{
    HwModule m;
    memset(&m, 0, sizeof m);
    int64_t *w = malloc(sizeof(int64_t) * (size_t)(nin * nout)), *x = malloc(sizeof(int64_t) * (size_t)nin);
    int *xn = malloc(sizeof(int) * (size_t)nin);
    unsigned char *bias = malloc((size_t)nout);
    CmvmTermList *tl = calloc((size_t)nout, sizeof *tl), *tb = calloc((size_t)nout, sizeof *tb);
    int64_t wmax = ((int64_t)1 << (wbits - 1)) - 1;
    for (long k = 0; k < nin * nout; k++)
        w[k] = rnd(0, 99) < sparse ? 0 : rnd(-wmax, wmax);
    FxType xt = {(int16_t)xbits, (int16_t)xbits, 1, FXQ_TRN, FXO_WRAP};
    for (long i = 0; i < nin; i++)
        xn[i] = hw_in(&m, 0, i, xt);
    int d0 = 0;
    long plain = 0;
    for (long o = 0; o < nout; o++) {
        bias[o] = o % 4 == 1;
        for (long i = 0; i < nin; i++) {
            int dig[64], pos[64];
            int nd = cmvm_csd_digits(w[i * nout + o], dig, pos, 64);
            for (int k = 0; k < nd; k++) {
                CmvmTerm term = {xn[i], pos[k], dig[k] < 0};
                size_t c2 = (size_t)tl[o].cap;
                tl[o].t = vec_grow(tl[o].t, &c2, (size_t)tl[o].n + 1, sizeof(CmvmTerm));
                tl[o].cap = (int)c2;
                tl[o].t[tl[o].n++] = term;
            }
        }
        tb[o].n = tb[o].cap = tl[o].n;
        tb[o].t = malloc(sizeof(CmvmTerm) * (size_t)(tl[o].n + 1));
        if (tl[o].n)   /* an output with no terms has no list (memcpy from NULL is undefined) */
            memcpy(tb[o].t, tl[o].t, sizeof(CmvmTerm) * (size_t)tl[o].n);
        long terms = tl[o].n + (bias[o] && tl[o].n);
        plain += terms > 1 ? terms - 1 : 0;
        int dd = 0;
        while ((1L << dd) < terms)
            dd++;
        d0 = dd > d0 ? dd : d0;
    }
    CmvmPlan pl = {NULL, 0, 0, (int)m.nn}, pb = pl;
    cmvm_cse_search(&pl, tl, nout, bias, d0);
    cmvm_cse_bounded(&pb, tb, nout, bias, d0);
    long na = plan_adders(&pl, tl, nout, bias);
    search_adders += na;
    bounded_adders += plan_adders(&pb, tb, nout, bias);
    for (size_t k = 0; k < pl.n; k++)
        hw_add(&m, pl.v[k].a, pl.v[k].sa, pl.v[k].b, pl.v[k].sb, pl.v[k].sub, 0);
    int rc = 0;
    if (na > plain) {
        fprintf(stderr, "test_hw_cmvm: search trial %d: %ld adders, %ld without sharing\n", t, na, plain);
        rc = 1;
    }
    for (long o = 0; o < nout && !rc; o++) {
        int d = cmvm_sum_depth(&pl, &tl[o], bias[o] && tl[o].n);
        if (d > d0) {
            fprintf(stderr, "test_hw_cmvm: search trial %d, output %ld: depth %d over the bound %d\n", t, o, d, d0);
            rc = 1;
        }
    }
    int64_t *v = malloc(sizeof(int64_t) * (m.nn ? m.nn : 1));
    for (int vec = 0; vec < 20 && !rc; vec++) {
        draw_inputs(x, nin, xbits, vec);
        if (eval(&m, x, v) < 0) {
            rc = 1;
            break;
        }
        for (long o = 0; o < nout && !rc; o++) {
            int64_t want = 0, got = 0;
            for (long i = 0; i < nin; i++)
                want += x[i] * w[i * nout + o];
            for (int k = 0; k < tl[o].n; k++) {
                int64_t y = v[tl[o].t[k].node] * ((int64_t)1 << tl[o].t[k].shift);
                got += tl[o].t[k].neg ? -y : y;
            }
            if (got != want) {
                fprintf(stderr, "test_hw_cmvm: search trial %d, vector %d, output %ld: got %lld, expected %lld\n", t,
                        vec, o, (long long)got, (long long)want);
                rc = 1;
            }
        }
    }
    for (long o = 0; o < nout; o++) {
        free(tl[o].t);
        free(tb[o].t);
    }
    free(tl);
    free(tb);
    free(pl.v);
    free(pb.v);
    free(v);
    free(bias);
    free(m.n);
    free(m.rom);
    free(w);
    free(x);
    free(xn);
    return rc;
}

/* n terms in [lo, hi] of an accumulator of w bits (SAT, or SAT_SYM when sym), a start a0, random vectors:
 * the netlist of lower_sat_chain against a = clamp(a + x_i, lo, hi) one term at a time. */
static int chain_trial(int t, int n, int w, int sym)
{
    HwModule m;
    memset(&m, 0, sizeof m);
    int64_t hi = ((int64_t)1 << (w - 1)) - 1, lo = sym ? -hi : -hi - 1;
    FxType xt = {(int16_t)w, (int16_t)w, 1, FXQ_TRN, FXO_WRAP};
    int *xn = malloc(sizeof(int) * (size_t)(n ? n : 1));
    int64_t *x = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        xn[i] = hw_in(&m, 0, i, xt);
        if (sym)
            m.n[xn[i]].lo = (double)lo;
    }
    int64_t a0 = rnd(lo, hi);
    int out = lower_sat_chain(&m, xn, n, a0, lo, hi);
    int64_t *v = malloc(sizeof(int64_t) * (m.nn ? m.nn : 1));
    int rc = 0;
    for (int vec = 0; vec < 200 && !rc; vec++) {
        int64_t want = a0;
        for (int i = 0; i < n; i++) {
            /* runs of one sign drive the chain into its bounds */
            x[i] = vec % 4 == 0 ? hi - rnd(0, 1) : vec % 4 == 1 ? lo + rnd(0, 1) : rnd(lo, hi);
            want += x[i];
            want = want > hi ? hi : want < lo ? lo : want;
        }
        if (eval(&m, x, v) < 0)
            rc = 1;
        else if (v[out] != want) {
            fprintf(stderr, "test_hw_cmvm: chain trial %d (%d terms, %d bits, sym %d), vector %d: got %lld, "
                    "expected %lld\n", t, n, w, sym, vec, (long long)v[out], (long long)want);
            rc = 1;
        }
    }
    free(v);
    free(m.n);
    free(xn);
    free(x);
    return rc;
}

/* The LUT estimate of one lookup of a 1024 x 8-bit table (hw_estimate): a constant table is wires, a step
 * (every bit 0 below entry 600, 1 from it) one LUT6 block per bit plus the 2:1 multiplexers on its path
 * (4 per bit, 0.25 LUT each), a table of noise every block (16 per bit) and every multiplexer (15 per bit). */
static int rom_trial(int kind, double want)
{
    HwModule m = {0};
    FxType ti = {10, 10, 0, FXQ_TRN, FXO_WRAP}, to = {8, 8, 0, FXQ_TRN, FXO_WRAP};
    int64_t *data = malloc(sizeof(int64_t) * 1024);
    if (!data)
        return 1;
    for (long e = 0; e < 1024; e++)
        data[e] = kind == 0 ? 5 : kind == 1 ? (e < 600 ? 0 : 255) : rnd(0, 255);
    int x = hw_in(&m, 0, 0, ti);
    int rom = hw_rom_add(&m, data, 1024, 10, to, 0);
    int y = hw_rom_read(&m, x, rom, 0, 0, to);
    m.out = &y;
    m.nout = 1;
    hw_estimate(&m);
    int bad = m.lut != want;
    if (bad)
        printf("FAIL rom estimate: table kind %d: %.2f LUT, expected %.2f\n", kind, m.lut, want);
    free(data);
    free(m.n);
    free(m.rom);
    return bad;
}

int main(void)
{
    int n = 0;
    if (rom_trial(0, 0) || rom_trial(1, 8 * (1 + 4 * 0.25)) || rom_trial(2, 8 * (16 + 15 * 0.25)))
        return 1;
    n += 3;
    for (int t = 0; t < 200; t++, n++)
        if (chain_trial(t, (int)rnd(0, 37), (int)rnd(2, 9), t % 3 == 2))
            return 1;
    for (int t = 0; t < 120; t++) {
        MultMode mult = t % 3 == 0 ? MULT_CSD : t % 3 == 1 ? MULT_DSP : MULT_AUTO;
        int pd = t % 4 == 0 ? 0 : t % 4 == 1 ? -2 : t % 4 == 2 ? 3 : 0;
        int big = t >= 60 && t % 5 == 0;   /* layer-sized: many CSE rounds */
        long nin = big ? rnd(32, 64) : rnd(1, 40), nout = big ? rnd(16, 32) : rnd(1, 24);
        int wbits = (int)rnd(2, 12), xbits = (int)rnd(2, 16), sparse = (int)rnd(0, 60);   /* in this order */
        if (trial(t, nin, nout, wbits, xbits, pd, t < 30 || t >= 60 ? MULT_CSD : mult, sparse))
            return 1;
        n++;
    }
    for (int t = 0; t < 80; t++, n++) {
        int big = t % 8 == 7;   /* layer-sized: the pattern table grows */
        long nin = big ? rnd(32, 64) : rnd(1, 24), nout = big ? rnd(16, 32) : rnd(1, 16);
        int wbits = (int)rnd(2, big ? 8 : 12), xbits = (int)rnd(2, 12), sparse = (int)rnd(0, 70);
        if (search_trial(t, nin, nout, wbits, xbits, sparse))
            return 1;
    }
    printf("ok %d (bounded %ld, greedy %ld, search %ld; search trials: %ld adders, cse.c %ld)\n", n, n_bounded,
           n_greedy, n_search, search_adders, bounded_adders);
    return 0;
}
