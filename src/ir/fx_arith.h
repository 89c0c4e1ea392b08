/* fx_arith.h — the one implementation of fixed-point casts (FIXED_POINT.md).
 * Used by the compiler's constant evaluator, the emulator, and copied verbatim
 * into every generated C file, so the three cannot disagree.  Plain C99. */
#ifndef ETN_FX_ARITH_H
#define ETN_FX_ARITH_H
#include <stdint.h>

/* Quantization modes (order is part of the ABI of generated code). */
enum { FXQ_TRN, FXQ_TRN_ZERO, FXQ_RND, FXQ_RND_ZERO, FXQ_RND_MIN_INF, FXQ_RND_INF, FXQ_RND_CONV };
/* Overflow modes. */
enum { FXO_WRAP, FXO_SAT, FXO_SAT_ZERO, FXO_SAT_SYM };

/* Round m * 2^-d (d >= 1) to an integer with quantization mode q. */
static inline int64_t fx_quantize(int64_t m, int d, int q)
{
    int64_t fl;
    uint64_t r, half;
    int up;
    while (d > 63) {            /* keep a sticky bit; the rounding decision is unchanged */
        m = (int64_t)((m >> 1) | (m & 1));
        d--;
    }
    fl = m >> d;                /* arithmetic shift: floor */
    r = (uint64_t)m & ((UINT64_C(1) << d) - 1u);
    half = UINT64_C(1) << (d - 1);
    switch (q) {
    case FXQ_TRN_ZERO:   up = m < 0 && r != 0; break;
    case FXQ_RND:        up = r >= half; break;
    case FXQ_RND_ZERO:   up = r > half || (r == half && m < 0); break;
    case FXQ_RND_MIN_INF:up = r > half; break;
    case FXQ_RND_INF:    up = r > half || (r == half && m >= 0); break;
    case FXQ_RND_CONV:   up = r > half || (r == half && (fl & 1)); break;
    default:             up = 0; break;     /* FXQ_TRN */
    }
    return fl + up;
}

/* Keep the low w bits of x (1 <= w <= 64), sign-extended when sign. */
static inline int64_t fx_wrap(uint64_t x, int w, int sign)
{
    if (w < 64) {
        uint64_t mask = (UINT64_C(1) << w) - 1u;
        x &= mask;
        if (sign && (x >> (w - 1)) & 1u)
            x |= ~mask;
    } else if (!sign) {
        return (int64_t)(x & ~(UINT64_C(1) << 63)); /* unreachable: unsigned w <= 63 */
    }
    if (x >> 63)
        return -(int64_t)(~x) - 1;
    return (int64_t)x;
}

/* Cast the exact value m * 2^-fsrc to the type (w, f = fractional bits, sign, q, o):
 * quantize first, then handle overflow.  Returns the target's integer code.
 * Signed w <= 64, unsigned w <= 63. */
static inline int64_t fx_cast(int64_t m, int fsrc, int w, int f, int sign, int q, int o)
{
    int d = fsrc - f, s = 0, over = 0;
    int64_t lo, hi;
    if (d > 0) {
        m = fx_quantize(m, d, q);
    } else {
        s = -d;
    }
    hi = sign ? (int64_t)((UINT64_C(1) << (w - 1)) - 1u) : (int64_t)((UINT64_C(1) << w) - 1u);
    lo = sign ? -hi - 1 : 0;
    /* Does m * 2^s leave [lo, hi]? */
    if (m > 0)
        over = s >= 63 ? 1 : m > (hi >> s);
    else if (m < 0)
        over = !sign ? 1 : (s >= w ? 1 : m < (lo >> s));
    if (!over) {
        if (m != 0)             /* m == 0 may come with any s, even >= 64 */
            m = (int64_t)((uint64_t)m << s);
        /* SAT_SYM keeps the range symmetric: the most negative code is never produced. */
        return (o == FXO_SAT_SYM && sign && m == lo) ? -hi : m;
    }
    switch (o) {
    case FXO_SAT:      return m > 0 ? hi : lo;
    case FXO_SAT_ZERO: return 0;
    case FXO_SAT_SYM:  return m > 0 ? hi : (sign ? -hi : 0);
    default:           return fx_wrap(s >= 64 ? 0 : (uint64_t)m << s, w, sign); /* FXO_WRAP */
    }
}

/* Quantize a double to the type (w, f, sign, q, o), exactly: the IEEE-754 bits are
 * split into an integer mantissa and a power of two.  NaN gives 0; infinities
 * overflow like any huge value. */
static inline int64_t fx_from_double(double x, int w, int f, int sign, int q, int o)
{
    uint64_t bits = 0;
    const unsigned char *src = (const unsigned char *)&x;
    unsigned char *dst = (unsigned char *)&bits;
    int i, ex, e;
    int64_t m;
    for (i = 0; i < 8; i++)
        dst[i] = src[i];
    ex = (int)((bits >> 52) & 0x7ffu);
    m = (int64_t)(bits & ((UINT64_C(1) << 52) - 1u));
    if (ex == 0x7ff) {
        if (m != 0)
            return 0;                       /* NaN */
        m = INT64_C(1) << 52;               /* infinity: a value far out of range */
        ex = 0x7fe;
    }
    if (ex == 0)
        ex = 1;                             /* subnormal */
    else
        m |= INT64_C(1) << 52;
    if (m == 0)
        return 0;
    if (bits >> 63)
        m = -m;
    e = 1075 - ex;                          /* x = m * 2^-e */
    if (e - f > 127) {                      /* far below the LSB: only the sign matters */
        m = m < 0 ? -1 : 1;
        e = f + 64;
    }
    if (f - e > 200)
        e = f - 200;                        /* far above any range: still overflows */
    return fx_cast(m, e, w, f, sign, q, o);
}

/* The double value of a code of a type with f fractional bits. */
static inline double fx_to_double(int64_t m, int f)
{
    double v = (double)m;
    int i;
    if (f > 0)
        for (i = 0; i < f; i++) v *= 0.5;
    else
        for (i = 0; i < -f; i++) v *= 2.0;
    return v;
}

#endif
