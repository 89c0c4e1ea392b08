/* fx_act.h — activation arithmetic on fixed-point codes shared by the
 * emulator and the generated C (copied verbatim into it, after fx_arith.h).
 * Plain C99 + <math.h>; include fx_arith.h first. */
#ifndef ETN_FX_ACT_H
#define ETN_FX_ACT_H
#include <math.h>
#include <stdint.h>

/* exact-mode softmax: y_i = 1 / sum_j exp(x_j - x_i), evaluated in double from
 * the exact differences of the input codes (fin fractional bits), rounded once
 * into the result type.  Elements are `stride` apart. */
static inline void fx_softmax_exact(const int64_t *x, int64_t *y, long n, long stride, int fin, int w, int f,
                                    int sign, int q, int o)
{
    long i, j;
    for (i = 0; i < n; i++) {
        double s = 0;
        for (j = 0; j < n; j++)
            s += exp(fx_to_double(x[j * stride] - x[i * stride], fin));
        y[i * stride] = fx_from_double(1.0 / s, w, f, sign, q, o);
    }
}

/* hls4ml's SELU lambda, 1.0507009873554805 in ufixed<16,1> (truncated) */
#define FX_SELU_HLS4ML_LAMBDA INT64_C(34429)

/* hls4ml's selu/elu table index for x = m * 2^-f < 0: trunc(x * T / -8),
 * at most T - 1 (T = 2^lgt entries over [-8, 0]). */
static inline long fx_neg_table_index(int64_t m, int f, int lgt)
{
    long t = 1L << lgt, idx;
    int k = f + 3 - lgt;            /* |x| * T / 8 = |m| * 2^-k */
    uint64_t a = (uint64_t)0 - (uint64_t)m;
    if (k >= 64)
        idx = 0;
    else if (k >= 0)
        idx = (a >> k) > (uint64_t)(t - 1) ? t - 1 : (long)(a >> k);
    else
        idx = -k >= 62 || a > ((uint64_t)t >> -k) ? t - 1 : (long)(a << -k);
    return idx > t - 1 ? t - 1 : idx;
}

/* hls4ml-mode SELU of x = m * 2^-f: x >= 0 gives lambda * x with lambda the
 * ufixed<16,1> code lam (15 fractional bits), cast to the result; x < 0 the
 * table entry trunc0(x * T / -8) (clamped to T - 1, T = 2^lgt, entries with ft
 * fractional bits), cast to the result.  The caller keeps m * lam in 63 bits. */
static inline int64_t fx_selu_hls4ml(int64_t m, int f, const int64_t *tab, int lgt, int ft, int64_t lam, int w,
                                     int fo, int sign, int q, int o)
{
    if (m >= 0)
        return fx_cast(m * lam, f + 15, w, fo, sign, q, o);
    return fx_cast(tab[fx_neg_table_index(m, f, lgt)], ft, w, fo, sign, q, o);
}

/* hls4ml's elu: x (cast) for x >= 0; below, alpha (code acode, fa fraction
 * bits: hls4ml's param_t) times the entry exp(-8 i / T) - 1 at the index selu
 * uses (tab: T = 2^lgt codes with ft fraction bits), the product cast once. */
static inline int64_t fx_elu_hls4ml(int64_t m, int f, const int64_t *tab, int lgt, int ft, int64_t acode, int fa,
                                    int w, int fo, int sign, int q, int o)
{
    if (m >= 0)
        return fx_cast(m, f, w, fo, sign, q, o);
    return fx_cast(acode * tab[fx_neg_table_index(m, f, lgt)], fa + ft, w, fo, sign, q, o);
}

/* hls4ml-mode sigmoid/tanh index: trunc0(x * T / S) + T/2, clamped to
 * [0, T-1], for x = m * 2^-f, table size T = 2^lgt and input span S = 2^lgs
 * (16 for sigmoid, 8 for tanh).  Truncation is toward zero, as hls4ml's. */
static inline long fx_table_index(int64_t m, int f, int lgt, int lgs)
{
    int k = f + lgs - lgt;          /* x*T/S = m * 2^-k */
    int64_t q;
    long idx, t = 1L << lgt;
    if (k <= 0) {
        /* an exact multiple: clamp before it can overflow */
        if (-k >= 62 || m > (INT64_C(1) << (62 + k)) || m < -(INT64_C(1) << (62 + k)))
            q = m > 0 ? t : (m < 0 ? -t : 0);
        else
            q = m * (INT64_C(1) << -k);
    } else if (k >= 64) {
        q = 0;
    } else if (m >= 0) {
        q = m >> k;
    } else {
        q = -(int64_t)(((uint64_t)0 - (uint64_t)m) >> k);
    }
    if (q > t)
        q = t;
    if (q < -t)
        q = -t;
    idx = (long)q + t / 2;
    return idx < 0 ? 0 : idx > t - 1 ? t - 1 : idx;
}

/* hls4ml's pairwise sum of n accumulator codes: n = 1: the item; n = 2:
 * cast(a + b); else split at L = 2^floor(log2(n-1)) and cast(sum(first L) +
 * sum(rest)).  All items share the accumulator's LSB, so only its overflow
 * mode acts. */
static int64_t fx_tree_sum(const int64_t *e, long n, int w, int sign, int o)
{
    long l = 1;
    if (n == 1)
        return e[0];
    if (n == 2)
        return fx_cast(e[0] + e[1], 0, w, 0, sign, FXQ_TRN, o);
    while (l * 2 <= n - 1)
        l *= 2;
    return fx_cast(fx_tree_sum(e, l, w, sign, o) + fx_tree_sum(e + l, n - l, w, sign, o), 0, w, 0, sign, FXQ_TRN, o);
}

/* The top `bits` bits of a code as a `w`-bit two's complement pattern. */
static inline long fx_top_bits(int64_t code, int w, int bits)
{
    uint64_t raw = (uint64_t)code;
    if (w < 64)
        raw &= (UINT64_C(1) << w) - 1u;
    return (long)((raw >> (w - bits)) & ((UINT64_C(1) << bits) - 1u));
}

/* Parameters of hls4ml's table softmax (see src/tools/act.c).  impl 0 'stable': the exp table is indexed by the
 * top bits of max - x in inp_norm_t; 1 'latency': by the top bits of x itself (wn = the input width); 2 'argmax':
 * one-hot of the first maximum, no tables. */
typedef struct {
    int impl;                   /* 0 stable, 1 latency, 2 argmax */
    int fin;                    /* input fractional bits */
    int wn, fn;                 /* inp_norm_t (stable: unsigned) or the input (latency): width, fractional bits */
    int ne, nv;                 /* index bits of the exp and inverse tables */
    int wa, fa, sa, qa, oa;     /* accumulator type */
    int wi, fi, si, qi, oi;     /* inv_inp_t type */
    int fe, fv;                 /* fractional bits of exp / inverse table entries */
    int w, f, s, q, o;          /* result type */
} FxSoftmaxHls;

/* One softmax vector of n codes, `stride` apart; e is scratch of n codes. */
static inline void fx_softmax_hls4ml(const FxSoftmaxHls *p, const int64_t *exp_tab, const int64_t *inv_tab,
                                     const int64_t *x, int64_t *y, int64_t *e, long n, long stride)
{
    long i, at = 0;
    int64_t mx = x[0], sum, s;
    for (i = 1; i < n; i++)
        if (x[i * stride] > mx) {
            mx = x[i * stride];
            at = i;
        }
    if (p->impl == 2) {
        for (i = 0; i < n; i++)
            y[i * stride] = fx_cast(i == at ? 1 : 0, 0, p->w, p->f, p->s, p->q, p->o);
        return;
    }
    for (i = 0; i < n; i++) {
        int64_t d = p->impl == 1 ? x[i * stride] : fx_cast(mx - x[i * stride], p->fin, p->wn, p->fn, 0, FXQ_TRN, FXO_WRAP);
        e[i] = fx_cast(exp_tab[fx_top_bits(d, p->wn, p->ne)], p->fe, p->wa, p->fa, p->sa, p->qa, p->oa);
    }
    sum = fx_tree_sum(e, n, p->wa, p->sa, p->oa);
    s = fx_cast(sum, p->fa, p->wi, p->fi, p->si, p->qi, p->oi);
    s = inv_tab[fx_top_bits(s, p->wi, p->nv)];
    for (i = 0; i < n; i++)
        y[i * stride] = fx_cast(e[i] * s, p->fa + p->fv, p->w, p->f, p->s, p->q, p->o);
}

/* Parameters of a LayerNormalization row (see src/tools/act.c act_layernorm_init): hls4ml's layernorm_1d order of
 * casts in the accumulator type, a 1/sqrt table indexed by the variance, and the exact output expression. */
typedef struct {
    long n;                     /* elements per row (the normalised last axis) */
    int fin;                    /* input fractional bits */
    int wa, fa, sa, qa, oa;     /* accumulator type */
    int64_t kinv;               /* 1 / n as an accumulator code */
    int hls;                    /* index: 1 hls4ml's trunc(var * size * 2^r) as a C int, 0 the variance code */
    int fi;                     /* hls: fractional bits of var * size (fa - r) */
    long size;                  /* table entries; the index is clamped to 0..size-1 */
    int sp, sb, fc;             /* the product d * t * scale shifted left sp, the bias sb, to fc fractional bits */
    int w, f, s, q, o;          /* result type */
} FxLayerNorm;

/* One row of p->n codes: y_i = (x_i - mean) * tab[index(var)] * scale_i + bias_i (d: scratch of n codes). */
static inline void fx_layernorm_row(const FxLayerNorm *p, const int64_t *tab, const int64_t *scale,
                                    const int64_t *bias, const int64_t *x, int64_t *y, int64_t *d)
{
    long i;
    int64_t s = 0, mean, var, idx, t;
    for (i = 0; i < p->n; i++)
        s = fx_cast(s + fx_cast(x[i], p->fin, p->wa, p->fa, p->sa, p->qa, p->oa), p->fa, p->wa, p->fa, p->sa, p->qa, p->oa);
    mean = fx_cast(s * p->kinv, 2 * p->fa, p->wa, p->fa, p->sa, p->qa, p->oa);
    s = 0;
    for (i = 0; i < p->n; i++) {
        int64_t xi = fx_cast(x[i], p->fin, p->wa, p->fa, p->sa, p->qa, p->oa);
        d[i] = fx_cast(xi - mean, p->fa, p->wa, p->fa, p->sa, p->qa, p->oa);
        s = fx_cast(s + fx_cast(d[i] * d[i], 2 * p->fa, p->wa, p->fa, p->sa, p->qa, p->oa), p->fa, p->wa, p->fa, p->sa,
                    p->qa, p->oa);
    }
    var = fx_cast(s * p->kinv, 2 * p->fa, p->wa, p->fa, p->sa, p->qa, p->oa);
    idx = p->hls ? fx_cast(var * (int64_t)p->size, p->fi, 32, 0, 1, FXQ_TRN_ZERO, FXO_WRAP) : var;
    idx = idx < 0 ? 0 : idx > p->size - 1 ? p->size - 1 : idx;
    t = tab[idx];
    for (i = 0; i < p->n; i++)
        y[i] = fx_cast((d[i] * t * scale[i]) * ((int64_t)1 << p->sp) + bias[i] * ((int64_t)1 << p->sb), p->fc, p->w,
                       p->f, p->s, p->q, p->o);
}

#endif
