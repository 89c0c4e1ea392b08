/* fx_wide.h — exact products and sums wider than 63 bits (FIXED_POINT.md casts,
 * fx_arith.h's rules, on 128-bit intermediates).  Every variable (input, weight,
 * result, accumulator) still has a type of at most 64 bits and an int64_t code;
 * only a product of two such codes, or an exact sum of products, may need up to
 * 127 bits.  Used by the emulator and copied verbatim into a generated C file
 * when one of its layers needs it (then the file needs GCC or Clang).
 *
 * Why __int128 and not two 64-bit words: GCC and Clang have it on every 64-bit
 * target etchnn builds on, a product of two int64_t codes is one exact
 * (fx_i128)a * b (|a * b| <= 2^126), a sum is one addition modulo 2^128, and
 * shifts and comparisons are the C operators — a two-word type would need its
 * own multiply, add-with-carry, shift and compare, each a place to be wrong, for
 * a case (values wider than 32 bits) that is rare and not speed-critical.
 * __extension__ keeps -std=c99/c11 -Wpedantic -Werror quiet.  Values wider than
 * 64 bits (variables, not intermediates) are refused where types are assigned. */
#ifndef ETN_FX_WIDE_H
#define ETN_FX_WIDE_H

__extension__ typedef __int128 fx_i128;
__extension__ typedef unsigned __int128 fx_u128;

/* Round m * 2^-d (d >= 1) to an integer with quantization mode q (fx_quantize on 128 bits). */
static inline fx_i128 fx_quantize128(fx_i128 m, int d, int q)
{
    fx_i128 fl;
    fx_u128 r, half;
    int up;
    while (d > 127) {           /* keep a sticky bit; the rounding decision is unchanged */
        m = (m >> 1) | (m & 1);
        d--;
    }
    fl = m >> d;                /* arithmetic shift: floor */
    r = (fx_u128)m & (((fx_u128)1 << d) - 1u);
    half = (fx_u128)1 << (d - 1);
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

/* Cast the exact value m * 2^-fsrc (|m| < 2^127) to the type (w <= 64, f, sign, q, o): fx_cast on a 128-bit m. */
static inline int64_t fx_cast128(fx_i128 m, int fsrc, int w, int f, int sign, int q, int o)
{
    int d = fsrc - f, s = 0, over = 0;
    int64_t lo, hi;
    if (d > 0)
        m = fx_quantize128(m, d, q);
    else
        s = -d;
    hi = sign ? (int64_t)((UINT64_C(1) << (w - 1)) - 1u) : (int64_t)((UINT64_C(1) << w) - 1u);
    lo = sign ? -hi - 1 : 0;
    /* Does m * 2^s leave [lo, hi]? */
    if (m > 0)
        over = s >= 63 ? 1 : m > (fx_i128)(hi >> s);
    else if (m < 0)
        over = !sign ? 1 : (s >= w ? 1 : m < (fx_i128)(lo >> s));
    if (!over) {
        int64_t c = m != 0 ? (int64_t)((uint64_t)m << s) : 0;   /* m fits 64 bits here; m == 0 may come with any s */
        return (o == FXO_SAT_SYM && sign && c == lo) ? -hi : c;
    }
    switch (o) {
    case FXO_SAT:      return m > 0 ? hi : lo;
    case FXO_SAT_ZERO: return 0;
    case FXO_SAT_SYM:  return m > 0 ? hi : (sign ? -hi : 0);
    default:           return fx_wrap(s >= 64 ? 0 : (uint64_t)m << s, w, sign); /* FXO_WRAP: the low 64 bits decide */
    }
}

#endif
