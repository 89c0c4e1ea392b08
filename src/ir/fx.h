/* fx.h — fixed-point types: description, parsing, printing.  The arithmetic
 * itself is in fx_arith.h (shared with generated code). */
#ifndef ETN_FX_H
#define ETN_FX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/fx_arith.h"
#include "ir/fx_wide.h"

#define FX_MAX_WIDTH 64          /* signed; unsigned types hold at most 63 bits */

typedef struct {
    int16_t w;       /* total width in bits, 1..64 */
    int16_t i;       /* integer bits, counting the sign bit; may be < 0 or > w */
    uint8_t sign;    /* 1: fixed (two's complement), 0: ufixed */
    uint8_t q;       /* FXQ_* quantization mode */
    uint8_t o;       /* FXO_* overflow mode */
} FxType;

static inline int fx_frac(FxType t) { return t.w - t.i; }
int64_t fx_type_max(FxType t);                /* largest code */
int64_t fx_type_min(FxType t);                /* smallest code */
static inline int64_t fx_cast_to(int64_t m, int fsrc, FxType t)
{
    return fx_cast(m, fsrc, t.w, fx_frac(t), t.sign, t.q, t.o);
}
static inline int64_t fx_cast128_to(fx_i128 m, int fsrc, FxType t)
{
    return fx_cast128(m, fsrc, t.w, fx_frac(t), t.sign, t.q, t.o);
}
static inline int64_t fx_quant_double(double x, FxType t)
{
    return fx_from_double(x, t.w, fx_frac(t), t.sign, t.q, t.o);
}
bool fx_type_eq(FxType a, FxType b);

/* Parse "fixed<8,3,RND,SAT>", "ap_fixed<8,3,AP_RND,AP_SAT>", "ufixed<...>",
 * "ap_ufixed<...>", "int<N>", "ap_int<N>", "uint<N>", "ap_uint<N>".  On error
 * returns -1 and writes a message naming what was expected into err. */
int fx_parse(const char *s, FxType *out, char *err, size_t errlen);

/* Canonical spelling: "fixed<16,6>", with modes only when not TRN/WRAP. */
void fx_format(FxType t, char *out, size_t n);
/* Same, in Vivado HLS spelling: "ap_fixed<16,6>" / "ap_fixed<16,6,AP_RND,AP_SAT>". */
void fx_format_ap(FxType t, char *out, size_t n);

/* The exact decimal value of code m with f fractional bits. */
void fx_format_value(int64_t m, int f, char *out, size_t n);

extern const char *const fx_quant_names[7];     /* "TRN", ... */
extern const char *const fx_overflow_names[4];  /* "WRAP", ... */

#endif
