/* fit.c — --fit FRACTION --part P: choose each Dense/Conv layer's ReuseFactor
 * and multiplier kind so that the resource estimate fits FRACTION of the part,
 * with the lowest latency found.
 *
 * How: the design is built once per candidate (R, kind) with every foldable
 * layer at min(R, its multiplications) — R in 1, 2, 3, 4, 6, 8, 12, 16, ...,
 * kind logic or DSP — and each layer's estimate (LUT, FF, DSP, BRAM, latency)
 * is kept per candidate; the rest of the design costs the same in all of them.
 * Then, for each initiation interval II in ascending order, every layer takes
 * its smallest option with R <= II (cost: its largest share of a resource
 * budget); the first II whose total fits is kept, and while it still fits,
 * the layer whose next faster option saves the most cycles per unit of cost
 * moves to it.  Layers are independent in the estimate, so no further builds
 * are needed until the final one (made by the caller). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"

typedef struct {
    int reuse;          /* R built (after the layer's own snapping) */
    long period;        /* clocks per input: R x the layer's runs per input */
    int dsp;            /* multipliers: 1 DSP, 0 logic */
    double lut, ff, dsp_n, bram;
    int latency;
} Opt;

typedef struct {
    int node;           /* IR node */
    Opt *o;             /* options */
    size_t no, co;
    int pick;           /* chosen option */
} Layer;

static int foldable(const Node *n)
{
    return !n->dead && (n->op == OP_DENSE || n->op == OP_CONV1D || n->op == OP_CONV2D);
}

/* Largest share of the budget b (lut, ff, dsp, bram) that the totals t use. */
static double share(const double *t, const double *b)
{
    double s = 0;
    for (int k = 0; k < 4; k++) {
        double x = b[k] > 0 ? t[k] / b[k] : (t[k] > 0 ? 1e30 : 0);
        if (x > s)
            s = x;
    }
    return s;
}

static void totals(const Layer *L, int nl, const double *fixed, double *t)
{
    memcpy(t, fixed, 4 * sizeof(double));
    for (int i = 0; i < nl; i++) {
        const Opt *o = &L[i].o[L[i].pick];
        t[0] += o->lut;
        t[1] += o->ff;
        t[2] += o->dsp_n;
        t[3] += o->bram;
    }
}

/* The multiplications of a Dense or Conv layer (zero weights included). */
static long layer_terms(const Graph *g, const Node *n)
{
    const Tensor *w = &g->t[n->in[1]];
    if (n->op == OP_DENSE)
        return ir_numel(w) * (ir_numel(&g->t[n->in[0]]) / w->const_dims[0]);
    int oh, ow, oc;
    ir_hwc(&g->t[n->out], &oh, &ow, &oc);
    return ir_numel(w) * oh * ow;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int hw_fit(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, signed char *node_mult, Buf *why, Diag *d)
{
    return hw_fit_periods(g, opt, p, fraction, NULL, NULL, NULL, node_mult, why, d);
}

int hw_fit_periods(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, const long *period,
                   const long *base, const double *extra, signed char *node_mult, Buf *why, Diag *d)
{
    long *iis = NULL;
    int nl = 0;
    long maxterms = 1;
    for (size_t k = 0; k < g->nn; k++)
        if (foldable(&g->n[k])) {
            nl++;
            long n = layer_terms(g, &g->n[k]);
            if (n > maxterms)
                maxterms = n;
        }
    if (!nl)
        return diag_error(d, "%s: --fit: expected a Dense or Conv layer to fold, got none", g->file);
    Layer *L = calloc((size_t)nl, sizeof(Layer));
    int *saved = calloc(g->nn, sizeof(int));
    if (!L || !saved) {
        free(L);
        free(saved);
        return diag_error(d, "out of memory");
    }
    for (size_t k = 0, i = 0; k < g->nn; k++) {
        saved[k] = g->n[k].reuse;
        if (foldable(&g->n[k]))
            L[i++].node = (int)k;
    }
    double lscale = hw_part_lut_scale(p);
    double budget[4] = {fraction * (double)p->lut, fraction * (double)p->ff, fraction * (double)p->dsp,
                        fraction * (double)p->bram};
    double fixed[4] = {0, 0, 0, 0};
    if (extra)
        memcpy(fixed, extra, sizeof fixed);
    int builds = 0, rc = -1;
    HwOptions o = *opt;
    o.dump = NULL;
    o.dump_after = NULL;
    o.node_mult = NULL;
    /* the candidates: R = 1, 2, 3, 4, 6, 8, 12, 16, ... up to the largest layer's multiplications */
    for (long p2 = 1; p2 <= maxterms; p2 *= 2)
    for (int half = 0; half < 2; half++) {
        long R = half ? p2 + p2 / 2 : p2;
        if ((half && p2 < 2) || R > maxterms)
            continue;
        /* a bound without building: every multiplier's product enters an adder of a few LUTs at least */
        double mults = 0;
        for (int i = 0; i < nl; i++)
            mults += ceil((double)layer_terms(g, &g->n[L[i].node]) / (double)R);
        if (mults * 4.0 * lscale > budget[0])
            continue;
        for (int kind = 0; kind < 2; kind++) {
            o.mult = kind ? MULT_DSP : MULT_CSD;
            for (int i = 0; i < nl; i++)
                g->n[L[i].node].reuse = (int)R;
            Diag quiet = {0};
            HwDesign r;
            if (hw_build(&r, g, &o, &quiet) < 0) {
                diag_error(d, "%s", quiet.msg);
                diag_free(&quiet);
                goto done;
            }
            diag_free(&quiet);
            builds++;
            if (builds == 1) {
                /* everything that does not fold, and the top's registers */
                const Tensor *ti = &g->t[g->inputs[0]];
                fixed[1] += (double)(ir_numel(ti) * ti->type.w) + 1;
                for (size_t k = 0; k < r.nm; k++)
                    if (!foldable(&g->n[r.m[k].node])) {
                        fixed[0] += r.m[k].lut * lscale;
                        fixed[1] += r.m[k].ff + r.m[k].latency;
                        fixed[2] += (double)r.m[k].dsp;
                    }
            }
            for (size_t k = 0; k < r.nm; k++) {
                const HwModule *m = &r.m[k];
                int i;
                for (i = 0; i < nl && L[i].node != m->node; i++)
                    ;
                if (i == nl)
                    continue;
                int built = m->fold ? m->fold->reuse : 1;
                int dup = 0;   /* the same option again (R past the layer's multiplications, or no multiplier) */
                for (size_t j = 0; j < L[i].no && !dup; j++)
                    dup = L[i].o[j].reuse == built && L[i].o[j].lut == m->lut * lscale && L[i].o[j].dsp_n == m->dsp;
                if (dup)
                    continue;
                /* the top's valid pipeline is one register per cycle of latency; with periods, the
                 * clocks per input are what a faster option saves */
                long per = (long)built * (period ? period[m->node] : 1) + (base ? base[m->node] : 0);
                Opt x = {built, per, kind, m->lut * lscale, m->ff + m->latency, (double)m->dsp, (double)m->bram,
                         period ? (int)(per < 1000000000L ? per : 1000000000L) : m->latency};
                VEC_PUSH(L[i].o, L[i].no, L[i].co, x);
            }
            hw_free(&r);
        }
    }
    /* the smallest II that fits (clocks per input: the candidates are the options' own), then
     * faster layers while it still fits */
    size_t nii = 0;
    for (int i = 0; i < nl; i++)
        nii += L[i].no;
    iis = malloc((nii ? nii : 1) * sizeof(long));
    if (!iis) {
        diag_error(d, "out of memory");
        goto done;
    }
    nii = 0;
    for (int i = 0; i < nl; i++)
        for (size_t j = 0; j < L[i].no; j++)
            iis[nii++] = L[i].o[j].period;
    qsort(iis, nii, sizeof(long), cmp_long);
    long best_ii = -1;
    double t[4];
    for (size_t q = 0; q < nii && best_ii < 0; q++) {
        long ii = iis[q];
        if (q && ii == iis[q - 1])
            continue;
        for (int i = 0; i < nl; i++) {
            int b = -1;
            double bc = 0;
            for (int j = 0; j < (int)L[i].no; j++) {
                if (L[i].o[j].period > ii)
                    continue;
                double v[4] = {L[i].o[j].lut, L[i].o[j].ff, L[i].o[j].dsp_n, L[i].o[j].bram};
                double c = share(v, budget);
                if (b < 0 || c < bc || (c == bc && L[i].o[j].latency < L[i].o[b].latency))
                    b = j, bc = c;
            }
            L[i].pick = b < 0 ? 0 : b;
        }
        totals(L, nl, fixed, t);
        /* each layer's cheapest option by its own share can overfill one resource (every layer on
         * DSPs, say): while over, move the layer whose option change lowers the total's share most */
        for (double cur = share(t, budget); cur > 1.0;) {
            int bi = -1, bj = -1;
            double bs = cur;
            for (int i = 0; i < nl; i++) {
                const Opt *c = &L[i].o[L[i].pick];
                for (int j = 0; j < (int)L[i].no; j++) {
                    const Opt *x = &L[i].o[j];
                    if (j == L[i].pick || x->period > ii)
                        continue;
                    double tt[4] = {t[0] - c->lut + x->lut, t[1] - c->ff + x->ff, t[2] - c->dsp_n + x->dsp_n,
                                    t[3] - c->bram + x->bram};
                    double sj = share(tt, budget);
                    if (sj < bs - 1e-12)
                        bi = i, bj = j, bs = sj;
                }
            }
            if (bi < 0)
                break;
            L[bi].pick = bj;
            totals(L, nl, fixed, t);
            cur = share(t, budget);
        }
        if (share(t, budget) <= 1.0)
            best_ii = ii;
    }
    if (best_ii < 0) {
        for (int i = 0; i < nl; i++) {   /* the smallest design of all, for the message */
            int b = 0;
            for (int j = 1; j < (int)L[i].no; j++) {
                double v[4] = {L[i].o[j].lut, L[i].o[j].ff, L[i].o[j].dsp_n, L[i].o[j].bram};
                double w[4] = {L[i].o[b].lut, L[i].o[b].ff, L[i].o[b].dsp_n, L[i].o[b].bram};
                if (share(v, budget) < share(w, budget))
                    b = j;
            }
            L[i].pick = b;
        }
        totals(L, nl, fixed, t);
        diag_error(d, "%s: --fit %g: expected a design within %g of %s (%.0f LUT, %.0f FF, %.0f DSP, %.0f BRAM), got "
                   "at least %.0f LUT, %.0f FF, %.0f DSP, %.0f BRAM at every ReuseFactor tried (%d builds); a larger "
                   "part or fraction, or narrower types, are needed", g->file, fraction, fraction, p->name, budget[0],
                   budget[1], budget[2], budget[3], t[0], t[1], t[2], t[3], builds);
        goto done;
    }
    for (;;) {   /* faster while it fits: most cycles saved per unit of budget */
        int bi = -1, bj = -1;
        double bv = 0;
        totals(L, nl, fixed, t);
        double now = share(t, budget);
        for (int i = 0; i < nl; i++) {
            const Opt *cur = &L[i].o[L[i].pick];
            for (int j = 0; j < (int)L[i].no; j++) {
                const Opt *x = &L[i].o[j];
                if (x->latency >= cur->latency || x->period > best_ii)
                    continue;
                double tt[4] = {t[0] - cur->lut + x->lut, t[1] - cur->ff + x->ff, t[2] - cur->dsp_n + x->dsp_n,
                                t[3] - cur->bram + x->bram};
                double s = share(tt, budget);
                if (s > 1.0)
                    continue;
                double v = (cur->latency - x->latency) / (s - now + 1e-9);
                if (bi < 0 || v > bv)
                    bi = i, bj = j, bv = v;
            }
        }
        if (bi < 0)
            break;
        L[bi].pick = bj;
    }
    totals(L, nl, fixed, t);
    best_ii = 1;
    for (int i = 0; i < nl; i++)
        if (L[i].o[L[i].pick].period > best_ii)
            best_ii = L[i].o[L[i].pick].period;
    for (size_t k = 0; k < g->nn; k++)
        node_mult[k] = -1;
    buf_printf(why, "{\"part\": \"%s\", \"fraction\": %g, \"budget\": {\"lut\": %.0f, \"ff\": %.0f, \"dsp\": %.0f, "
               "\"bram\": %.0f}, \"estimate\": {\"lut\": %.0f, \"ff\": %.0f, \"dsp\": %.0f, \"bram\": %.0f}, "
               "\"ii\": %ld, \"builds\": %d, \"lut_scale\": %g, \"layers\": [",
               p->name, fraction, budget[0], budget[1], budget[2], budget[3], t[0], t[1], t[2], t[3], best_ii, builds,
               lscale);
    for (int i = 0; i < nl; i++) {
        const Opt *x = &L[i].o[L[i].pick];
        Node *n = &g->n[L[i].node];
        n->reuse = x->reuse;
        node_mult[L[i].node] = (signed char)(x->dsp ? MULT_DSP : MULT_CSD);
        buf_printf(why, "%s{\"node\": %d, \"reuse_factor\": %d, \"multipliers\": \"%s\", \"lut\": %.0f, \"ff\": %.0f, "
                   "\"dsp\": %.0f, \"bram\": %.0f, \"%s\": %d}", i ? ", " : "", L[i].node, x->reuse,
                   x->dsp ? "dsp" : "logic", x->lut, x->ff, x->dsp_n, x->bram, period ? "cycles_per_input" : "latency_cycles",
                   x->latency);
    }
    buf_printf(why, "]}");
    rc = 0;
done:
    if (rc < 0)
        for (size_t k = 0; k < g->nn; k++)
            g->n[k].reuse = saved[k];
    for (int i = 0; i < nl; i++)
        free(L[i].o);
    free(L);
    free(saved);
    free(iis);
    return rc;
}
