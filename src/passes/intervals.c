/* intervals.c — interval analysis of a compiled graph: for every element of
 * every tensor, bounds on the value it can take when the graph inputs take
 * any value of their types, following the emulator's arithmetic (constants
 * at their codes, accumulators rounding each product to their LSB, one cast
 * per node).  etchnn.tune's overflow='proven' mode takes integer bits from
 * it, and checks its final types against it.
 *
 * Bounds are sound, not tight: sums take every term's extreme independently,
 * table activations are bounded by the function's range plus one table LSB,
 * a softmax by [0, 1] when its tables and sums cannot overflow (else by its
 * exp and inverse table types' products),
 * a value that may not fit its type continues as the whole type's range. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

typedef struct {
    double *lo, *hi;
} Iv;

static double lsb(FxType t) { return ldexp(1.0, -fx_frac(t)); }
static double type_lo(FxType t) { return (double)fx_type_min(t) * lsb(t); }   /* the type's smallest value */
static double type_hi(FxType t) { return (double)fx_type_max(t) * lsb(t); }   /* its largest */

/* Bounds of the value after the cast to t from [lo, hi]; *fits = whether t holds it without overflow. */
static void cast_iv(FxType t, double *lo, double *hi, int *fits)
{
    double s = lsb(t), tmin = type_lo(t), tmax = type_hi(t);
    double l = floor(*lo / s) * s, h = ceil(*hi / s) * s;   /* any rounding mode stays within one LSB step */
    if (l < tmin || h > tmax) {
        *fits = 0;
        l = tmin;    /* wrapped or saturated: anywhere in the type */
        h = tmax;
    }
    *lo = l;
    *hi = h;
}

static void widen(double *lo, double *hi)   /* double rounding of long sums: a relative hair outward */
{
    double m = fmax(fabs(*lo), fabs(*hi)) * 1e-12 + 1e-300;
    *lo -= m;
    *hi += m;
}

static double cval(const Tensor *c, long e)   /* a constant's value as the emulator computes with it */
{
    return c->codes ? ldexp((double)c->codes[e], -fx_frac(c->type)) : c->data[e];
}

static void unary(double (*f)(double, const Node *), const Node *n, const Iv *x, Iv *y, long ne, double slack)
{
    for (long e = 0; e < ne; e++) {   /* f non-decreasing */
        y->lo[e] = f(x->lo[e], n) - slack;
        y->hi[e] = f(x->hi[e], n) + slack;
    }
}

static double f_relu(double v, const Node *n) { (void)n; return v > 0 ? v : 0; }
static double f_sig(double v, const Node *n) { (void)n; return 1.0 / (1.0 + exp(-v)); }
static double f_tanh(double v, const Node *n) { (void)n; return tanh(v); }
static double f_softplus(double v, const Node *n) { (void)n; return log1p(exp(v)); }
static double f_softsign(double v, const Node *n) { (void)n; return v / (fabs(v) + 1); }
static double f_selu(double v, const Node *n) { return v > 0 ? n->beta * v : n->beta * n->alpha * (exp(v) - 1); }
static double f_hsig(double v, const Node *n)
{
    double y = v * n->alpha + n->beta;
    return y < 0 ? 0 : y > 1 ? 1 : y;
}
static double f_leaky(double v, const Node *n) { return v > 0 ? v : n->alpha * v; }
static double f_clip(double v, const Node *n) { return v < n->alpha ? n->alpha : v > n->beta ? n->beta : v; }

/* elu: x above 0; below, alpha times e^x - 1 (a table entry within one LSB of it, sampled between x and 0 in
 * hls4ml's form, alpha as its type holds it) — monotonic on each side of 0, either sign of alpha. */
static void elu_bounds(const Node *n, const Iv *x, Iv *y, long ne)
{
    int hls = n->tables == TABLES_HLS4ML;
    double a = hls ? ldexp((double)fx_quant_double(n->alpha, n->alpha_t), -fx_frac(n->alpha_t)) : n->alpha;
    double tl = lsb(n->table_t) + 1e-9;
    for (long e = 0; e < ne; e++) {
        double lo = x->lo[e], hi = x->hi[e];
        y->lo[e] = INFINITY;
        y->hi[e] = -INFINITY;
        if (hi >= 0) {
            y->lo[e] = fmax(lo, 0);
            y->hi[e] = hi;
        }
        if (lo < 0) {
            double t0 = expm1(lo) - tl, t1 = (hls ? 0 : expm1(fmin(hi, 0))) + tl;
            y->lo[e] = fmin(y->lo[e], fmin(a * t0, a * t1));
            y->hi[e] = fmax(y->hi[e], fmax(a * t0, a * t1));
        }
    }
}

static int ceil_log2(long x) { return x <= 2 ? 1 : 1 + ceil_log2((x + 1) / 2); }

/* hls4ml-table softmax: every output is in [0, 1] when the exp and inverse tables hold 1, the sum of at most
 * len exp entries (each <= 1, the largest input's exactly 1) fits the accumulator and the inverse table's
 * input type, and that input's index step is at most 1: the sum then indexes a value v >= 1, and an entry
 * <= 1 times 1/v <= 1 stays <= 1. */
static int softmax_within_one(const Graph *g, const Node *n)
{
    const Tensor *X = &g->t[n->in[0]], *Y = &g->t[n->out];
    int ax = n->axis < 0 ? Y->rank + n->axis : n->axis;
    long len = ax >= 0 && ax < Y->rank ? Y->dims[ax] : ir_numel(Y);
    FxType it = n->inv_inp_t, vt = n->inv_t, in = X->type;
    double one_e = type_hi(n->exp_t), one_v = type_hi(vt);
    double acc_max = type_hi(n->accum), it_max = type_hi(it);
    long t = n->table_size > 0 ? n->table_size : 1024;
    int mw = in.w < vt.w ? in.w : vt.w;
    if (mw < 24 && (1L << mw) < t)
        t = 1L << mw;
    int nv = ceil_log2(t);
    return one_e >= 1 && one_v >= 1 && acc_max >= (double)len && it_max >= (double)len && it.i - nv <= 0;
}

int ir_intervals(const Graph *g, Diag *d, double *out)
{
    int rc = 0;
    Iv *t = calloc(g->nt, sizeof *t);
    if (!t)
        return diag_error(d, "internal: out of memory in the interval analysis");
    for (size_t k = 0; k < g->nt && rc == 0; k++) {
        const Tensor *T = &g->t[k];
        long ne = T->is_const ? ir_const_numel(T) : ir_numel(T);
        if (ne < 1)
            ne = 1;
        t[k].lo = malloc(sizeof(double) * (size_t)ne);
        t[k].hi = malloc(sizeof(double) * (size_t)ne);
        if (!t[k].lo || !t[k].hi)
            rc = diag_error(d, "internal: out of memory in the interval analysis");
        else if (T->is_const)
            for (long e = 0; e < ne; e++)
                t[k].lo[e] = t[k].hi[e] = cval(T, e);
    }
    size_t live = 0;
    for (size_t ni = 0; ni < g->nn && rc == 0; ni++) {
        const Node *n = &g->n[ni];
        if (n->dead)
            continue;
        const Tensor *Y = &g->t[n->out];
        Iv *y = &t[n->out], *x = n->nin > 0 && n->in[0] >= 0 ? &t[n->in[0]] : NULL;
        Iv *x2 = n->nin > 1 && n->in[1] >= 0 ? &t[n->in[1]] : NULL;
        long ny = ir_numel(Y), nx = x ? ir_numel(&g->t[n->in[0]]) : 0;
        int fits = 1, acc_fits = 1;
        double alo = INFINITY, ahi = -INFINITY;   /* the accumulator's bounds, over elements (sums only) */
        switch (n->op) {
        case OP_INPUT:   /* any value of the input's type */
        case OP_LAYERNORM:   /* any value of its result type (a quotient by the table's 1/sqrt: not bounded here) */
            for (long e = 0; e < ny; e++) {
                y->lo[e] = type_lo(Y->type);
                y->hi[e] = type_hi(Y->type);
            }
            break;
        case OP_EMBED: {   /* a table row (any entry for a fractional index), or 0 for an index outside the table */
            const Tensor *W = &g->t[n->in[1]];
            long rows = W->const_dims[0], dd = W->const_dims[1];
            int whole = fx_frac(g->t[n->in[0]].type) > 0;
            for (long i = 0; i < dd; i++) {
                double l = INFINITY, h = -INFINITY;
                for (long r = 0; r < rows * (whole ? dd : 1); r++) {
                    double v = cval(W, whole ? r : r * dd + i);
                    l = fmin(l, v);
                    h = fmax(h, v);
                }
                if (type_lo(g->t[n->in[0]].type) < 0 || type_hi(g->t[n->in[0]].type) >= (double)rows) {
                    l = fmin(l, 0);
                    h = fmax(h, 0);
                }
                for (long e = i; e < ny; e += dd) {
                    y->lo[e] = l;
                    y->hi[e] = h;
                }
            }
            break;
        }
        case OP_RESHAPE:
            memcpy(y->lo, x->lo, sizeof(double) * (size_t)ny);
            memcpy(y->hi, x->hi, sizeof(double) * (size_t)ny);
            break;
        case OP_DENSE:
        case OP_CONV1D:
        case OP_CONV2D: {
            const Tensor *W = &g->t[n->in[1]], *B = n->in[2] >= 0 ? &g->t[n->in[2]] : NULL;
            long nout = W->const_dims[W->const_rank - 1], nin = ir_const_numel(W) / nout, rows, taps = 1;
            int32_t *tab = NULL;
            int64_t *wc = NULL;
            double *wv = NULL;
            if (n->op == OP_DENSE) {
                rows = ny / nout;
            } else {
                int h, w, c;
                ir_hwc(&g->t[n->in[0]], &h, &w, &c);
                taps = (long)n->kernel[0] * n->kernel[1];
                rows = ny / nout;
                nin = taps * c;
                tab = malloc(sizeof(int32_t) * (size_t)(rows * taps));
                wc = malloc(sizeof(int64_t) * (size_t)(nin * nout));
                wv = malloc(sizeof(double) * (size_t)(nin * nout));
                if (!tab || !wc || !wv) {
                    free(tab), free(wc), free(wv);
                    rc = diag_error(d, "internal: out of memory in the interval analysis");
                    break;
                }
                ir_window_taps(g, n, tab);
                ir_conv_dense_weights(g, n, wc, wv);
            }
            int fa = fx_frac(n->accum), fw = fx_frac(W->type);
            double as = lsb(n->accum);
            for (long r = 0; r < rows; r++)
                for (long o = 0; o < nout; o++) {
                    double l = B ? cval(B, o) : 0, h = l;
                    long terms = 0;
                    for (long i = 0; i < nin; i++) {
                        double w, xl, xh;
                        if (tab) {
                            long c = nin / taps, tp = i / c, pix = tab[r * taps + tp];
                            w = W->codes ? ldexp((double)wc[i * nout + o], -fw) : wv[i * nout + o];
                            if (pix < 0)
                                continue;   /* padding: 0 */
                            xl = x->lo[pix * c + i % c];
                            xh = x->hi[pix * c + i % c];
                        } else {
                            w = cval(W, i * nout + o);
                            xl = x->lo[r * nin + i];
                            xh = x->hi[r * nin + i];
                        }
                        if (w == 0)
                            continue;
                        double p1 = w * xl, p2 = w * xh;
                        l += fmin(p1, p2);
                        h += fmax(p1, p2);
                        terms++;
                    }
                    widen(&l, &h);
                    if (fa < fx_frac(g->t[n->in[0]].type) + fw) {   /* products rounded to the accumulator's LSB */
                        l -= (double)terms * as;
                        h += (double)terms * as;
                    }
                    alo = fmin(alo, l);   /* before the accumulator's own overflow */
                    ahi = fmax(ahi, h);
                    cast_iv(n->accum, &l, &h, &acc_fits);
                    y->lo[r * nout + o] = l;
                    y->hi[r * nout + o] = h;
                }
            free(tab), free(wc), free(wv);
            break;
        }
        case OP_MAXPOOL1D:
        case OP_MAXPOOL2D:
        case OP_AVGPOOL1D:
        case OP_AVGPOOL2D: {   /* max and mean both lie within the window's bounds (padding: 0) */
            int h, w, c;
            ir_hwc(&g->t[n->in[0]], &h, &w, &c);
            long taps = (long)n->kernel[0] * n->kernel[1], pixels = ny / c;
            int32_t *tab = malloc(sizeof(int32_t) * (size_t)(pixels * taps));
            if (!tab) {
                rc = diag_error(d, "internal: out of memory in the interval analysis");
                break;
            }
            ir_window_taps(g, n, tab);
            for (long p = 0; p < pixels; p++)
                for (long ch = 0; ch < c; ch++) {
                    double l = INFINITY, hh = -INFINITY;
                    for (long tp = 0; tp < taps; tp++) {
                        long pix = tab[p * taps + tp];
                        l = fmin(l, pix < 0 ? 0 : x->lo[pix * c + ch]);
                        hh = fmax(hh, pix < 0 ? 0 : x->hi[pix * c + ch]);
                    }
                    y->lo[p * c + ch] = l;
                    y->hi[p * c + ch] = hh;
                }
            free(tab);
            break;
        }
        case OP_PAD:
        case OP_UPSAMPLE:
        case OP_TRANSPOSE:
        case OP_CONCAT: {
            int32_t *tab = malloc(sizeof(int32_t) * (size_t)ny);
            if (!tab) {
                rc = diag_error(d, "internal: out of memory in the interval analysis");
                break;
            }
            ir_gather_table(g, n, tab);
            for (long e = 0; e < ny; e++) {
                long s = tab[e];
                const Iv *src = s < nx ? x : x2;
                y->lo[e] = s < 0 ? 0 : src->lo[s < nx ? s : s - nx];
                y->hi[e] = s < 0 ? 0 : src->hi[s < nx ? s : s - nx];
            }
            free(tab);
            break;
        }
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_AVERAGE:
        case OP_MAXIMUM:
        case OP_MINIMUM:
            for (long e = 0; e < ny; e++) {
                double al = x->lo[e], ah = x->hi[e], bl = x2->lo[e], bh = x2->hi[e], l, h;
                switch (n->op) {
                case OP_ADD: l = al + bl, h = ah + bh; break;
                case OP_SUB: l = al - bh, h = ah - bl; break;
                case OP_AVERAGE: l = (al + bl) / 2, h = (ah + bh) / 2; break;
                case OP_MAXIMUM: l = fmax(al, bl), h = fmax(ah, bh); break;
                case OP_MINIMUM: l = fmin(al, bl), h = fmin(ah, bh); break;
                default: {
                    double p[4] = {al * bl, al * bh, ah * bl, ah * bh};
                    l = fmin(fmin(p[0], p[1]), fmin(p[2], p[3]));
                    h = fmax(fmax(p[0], p[1]), fmax(p[2], p[3]));
                }
                }
                widen(&l, &h);
                y->lo[e] = l;
                y->hi[e] = h;
            }
            break;
        case OP_AFFINE: {
            const Tensor *S = n->in[1] >= 0 ? &g->t[n->in[1]] : NULL, *B = n->in[2] >= 0 ? &g->t[n->in[2]] : NULL;
            for (long e = 0; e < ny; e++) {
                double s = S ? cval(S, e) : 1, b = B ? cval(B, e) : 0;
                double p1 = x->lo[e] * s, p2 = x->hi[e] * s, l = fmin(p1, p2) + b, h = fmax(p1, p2) + b;
                widen(&l, &h);
                y->lo[e] = l;
                y->hi[e] = h;
            }
            break;
        }
        case OP_RELU: unary(f_relu, n, x, y, ny, 0); break;
        case OP_PRELU: {   /* per element: the extremes are at the ends or at 0 */
            const Tensor *sl = &g->t[n->in[1]];
            for (long e = 0; e < ny; e++) {
                double a = ldexp((double)sl->codes[e], -fx_frac(sl->type)), l = x->lo[e], h = x->hi[e];
                double c0 = l > 0 ? l : a * l, c1 = h > 0 ? h : a * h, c2 = l < 0 && h > 0 ? 0 : c0;
                y->lo[e] = fmin(fmin(c0, c1), c2);
                y->hi[e] = fmax(fmax(c0, c1), c2);
            }
            break;
        }
        case OP_LEAKYRELU:
        case OP_HARDSIGMOID: {   /* with the constants at their codes; the extremes are at the ends or at 0 */
            Node q = *n;
            q.alpha = ldexp((double)fx_quant_double(n->alpha, n->alpha_t), -fx_frac(n->alpha_t));
            if (n->op == OP_HARDSIGMOID)
                q.beta = ldexp((double)fx_quant_double(n->beta, n->beta_t), -fx_frac(n->beta_t));
            for (long e = 0; e < ny; e++) {
                double l = x->lo[e], h = x->hi[e];
                double c0 = n->op == OP_LEAKYRELU ? f_leaky(l, &q) : f_hsig(l, &q);
                double c1 = n->op == OP_LEAKYRELU ? f_leaky(h, &q) : f_hsig(h, &q);
                double c2 = l < 0 && h > 0 ? (n->op == OP_LEAKYRELU ? 0 : f_hsig(0, &q)) : c0;
                y->lo[e] = fmin(fmin(c0, c1), c2);
                y->hi[e] = fmax(fmax(c0, c1), c2);
            }
            break;
        }
        case OP_THRESHRELU: {   /* x above theta (as its type holds it), else 0 */
            double th = ldexp((double)fx_quant_double(n->alpha, n->alpha_t), -fx_frac(n->alpha_t));
            for (long e = 0; e < ny; e++) {
                double l = x->lo[e], h = x->hi[e];
                if (h <= th) {
                    y->lo[e] = y->hi[e] = 0;
                } else if (l > th) {
                    y->lo[e] = l;
                    y->hi[e] = h;
                } else {
                    y->lo[e] = fmin(0, fmax(l, th));
                    y->hi[e] = fmax(0, h);
                }
            }
            break;
        }
        case OP_CLIP: unary(f_clip, n, x, y, ny, 0); break;
        case OP_LUT:   /* the entries on the input's interval (grid points k: lut_lo + k 2^-lut_f) */
            for (long e = 0; e < ny; e++) {
                double kl = ceil(ldexp(x->lo[e] - n->lut_lo, n->lut_f)), kh = floor(ldexp(x->hi[e] - n->lut_lo, n->lut_f));
                long k0 = kl < 0 ? 0 : kl > (double)(n->nlut - 1) ? n->nlut - 1 : (long)kl;
                long k1 = kh < 0 ? 0 : kh > (double)(n->nlut - 1) ? n->nlut - 1 : (long)kh;
                if (k1 < k0)   /* no grid point inside: the nearest entry */
                    k1 = k0 = kh < 0 ? 0 : k0;
                y->lo[e] = y->hi[e] = n->lut[k0];
                for (long k = k0 + 1; k <= k1; k++) {
                    y->lo[e] = fmin(y->lo[e], n->lut[k]);
                    y->hi[e] = fmax(y->hi[e], n->lut[k]);
                }
            }
            break;
        case OP_SIGMOID:
        case OP_TANH:
        case OP_SOFTPLUS:
        case OP_SOFTSIGN:
        case OP_ELU:
            elu_bounds(n, x, y, ny);
            break;
        case OP_SELU: {
            unary(n->op == OP_SIGMOID ? f_sig : n->op == OP_TANH ? f_tanh : n->op == OP_SOFTPLUS ? f_softplus
                  : n->op == OP_SOFTSIGN ? f_softsign : f_selu, n, x, y, ny, lsb(n->table_t) + 1e-9);
            /* a table whose type cannot hold the function's values: its entries are anywhere in that type */
            double tl = type_lo(n->table_t), th = type_hi(n->table_t);
            for (long e = 0; e < ny; e++)
                if (y->lo[e] < tl || y->hi[e] > th) {
                    y->lo[e] = fmin(y->lo[e], tl);
                    y->hi[e] = fmax(y->hi[e], th);
                }
            break;
        }
        case OP_SOFTMAX: {
            double l = 0, h = 1;   /* exact: a share */
            if (n->smax_impl == SMAX_ARGMAX) {
                /* 0 or 1, each in the result type */
                FxType r = g->t[n->out].type;
                double one = ldexp((double)fx_cast(1, 0, r.w, fx_frac(r), r.sign, r.q, r.o), -fx_frac(r));
                l = fmin(0, one);
                h = fmax(0, one);
            } else if (n->tables != TABLES_EXACT && (n->smax_impl == SMAX_LATENCY || !softmax_within_one(g, n))) {
                /* latency's exp entries exceed 1 (no max subtraction); else some table or sum may overflow */
                /* any exp entry times any inverse entry */
                double el = type_lo(n->exp_t), eh = type_hi(n->exp_t);
                double vl = type_lo(n->inv_t), vh = type_hi(n->inv_t);
                double p[4] = {el * vl, el * vh, eh * vl, eh * vh};
                l = fmin(fmin(p[0], p[1]), fmin(p[2], p[3]));
                h = fmax(fmax(p[0], p[1]), fmax(p[2], p[3]));
            }
            for (long e = 0; e < ny; e++) {
                y->lo[e] = l;
                y->hi[e] = h;
            }
            break;
        }
        case OP_THRESHOLD:
            for (long e = 0; e < ny; e++) {
                y->lo[e] = -1;
                y->hi[e] = 1;
            }
            break;
        case OP_QUANT:
            for (long e = 0; e < ny; e++) {
                FxType q = n->qtypes[n->nq == 1 ? 0 : e];
                double l = x->lo[e], h = x->hi[e];
                if (!q.w) {
                    l = h = 0;
                } else {
                    int f = 1;
                    cast_iv(q, &l, &h, &f);   /* a quantizer's own overflow is the model's, not a type choice */
                }
                y->lo[e] = l;
                y->hi[e] = h;
            }
            break;
        case OP_RNN:   /* unrolled by the rnn_unroll pass */
        case OP_DOT:   /* made a Dense by the dot pass */
        case OP_COUNT_:
            rc = diag_error(d, "internal: %s: node '%s' (%s): no operation", g->file, n->name, n->src_op);
            break;
        }
        if (rc)
            break;
        double plo = INFINITY, phi = -INFINITY;   /* the value before the result cast, over elements */
        for (long e = 0; e < ny; e++) {
            plo = fmin(plo, y->lo[e]);
            phi = fmax(phi, y->hi[e]);
            if (n->op != OP_QUANT && n->op != OP_THRESHOLD)
                cast_iv(Y->type, &y->lo[e], &y->hi[e], &fits);
        }
        double *o = out + 6 * live++;
        int sums = n->op == OP_DENSE || n->op == OP_CONV1D || n->op == OP_CONV2D;
        o[0] = sums ? alo : plo;
        o[1] = sums ? ahi : phi;
        o[2] = plo;
        o[3] = phi;
        o[4] = acc_fits;
        o[5] = fits;
    }
    for (size_t k = 0; k < g->nt; k++) {
        free(t[k].lo);
        free(t[k].hi);
    }
    free(t);
    return rc;
}
