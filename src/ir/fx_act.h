/* fx_act.h — activation arithmetic on fixed-point codes shared by the
 * emulator and the generated C (copied verbatim into it, after fx_arith.h).
 * Plain C99 + <math.h>. */
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

#endif
