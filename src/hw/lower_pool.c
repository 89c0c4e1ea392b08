/* lower_pool.c — max and average pooling to the netlist: trees of
 * comparisons or additions over each window, and the average's division. */
#include <math.h>
#include <stdlib.h>

#include "hw/cmvm/cmvm.h"
#include "hw/lower.h"

/* Max pooling: a tree of comparisons, cast to the accumulator, then to the result.
 * Average pooling: exact sum (TRN/WRAP accumulators only), and a division that is
 * a shift (power-of-two pixel counts only). */
/* trunc0(s / div) for a constant div > 1 that is not a power of two (C's integer division, as
 * the emulator): |s| < 2^n times mul = ceil(2^k / div), k = n + ceil(log2 div), shifted right by
 * k is floor(|s| / div) exactly (mul * div - 2^k < div <= 2^(k - n)); negated back when s < 0.
 * Returns -1 when the product would not fit 62 bits. */
static int div_trunc_const(HwModule *m, int s, long div)
{
    const HwNode *x = &m->n[s];
    double maxabs = fmax(fabs(x->lo), fabs(x->hi));
    int n = 0, l = 0;
    while (n < 62 && ldexp(1.0, n) <= maxabs)
        n++;
    while ((1L << l) < div)
        l++;
    int k = n + l;
    if (n + k + 1 > 62)
        return -1;
    int64_t mul = (int64_t)((((uint64_t)1 << k) + (uint64_t)div - 1) / (uint64_t)div);
    int zero = hw_const(m, 0), negs = -1, abs = s;
    if (x->sign && x->lo < 0) {
        negs = hw_add(m, zero, 0, s, 0, 1, 0);   /* -s > 0  <=>  s < 0 */
        HwNode sel = hw_node_blank(HW_SEL);
        sel.a = negs;
        sel.b = negs;
        sel.c = s;
        sel.lo = 0;
        sel.hi = maxabs;
        sel.w = hw_width(sel.lo, sel.hi, &sel.sign);
        abs = hw_node_push(m, sel);
    }
    int q = hw_shr(m, cmvm_const_mult(m, abs, mul, 0), k);
    if (negs < 0)
        return q;
    int nq = hw_add(m, zero, 0, q, 0, 1, 0);
    HwNode sel = hw_node_blank(HW_SEL);
    sel.a = negs;
    sel.b = nq;
    sel.c = q;
    sel.lo = -m->n[q].hi;
    sel.hi = m->n[q].hi;
    sel.w = hw_width(sel.lo, sel.hi, &sel.sign);
    return hw_node_push(m, sel);
}

int lower_pool(HwDesign *r, HwModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType acc = nd->accum, res = g->t[nd->out].type;
    int ih, iw, cin, oh, ow, cout, fin = fx_frac(x->type), fa = fx_frac(acc);
    ir_hwc(x, &ih, &iw, &cin);
    ir_hwc(&g->t[nd->out], &oh, &ow, &cout);
    long taps = (long)nd->kernel[0] * nd->kernel[1], npix = (long)oh * ow;
    int is_max = nd->op == OP_MAXPOOL1D || nd->op == OP_MAXPOOL2D;
    if (!is_max && (acc.q != FXQ_TRN || acc.o != FXO_WRAP || fa < fin))
        return diag_error(d, "%s: node '%s' (%s): the Verilog back end supports average pooling with a TRN, WRAP "
                          "accumulator at least as fine as the input only, got another accumulator", g->file, nd->name,
                          nd->src_op);
    int32_t *tab = arena_array(&r->arena, (size_t)(npix * taps), sizeof(int32_t));
    ir_window_taps(g, nd, tab);
    long nx = ir_numel(x);
    int *innode = arena_array(&r->arena, (size_t)nx, sizeof(int));
    for (long e = 0; e < nx; e++)
        innode[e] = hw_in(m, 0, e, x->type);
    m->nout = npix * cin;
    m->out = arena_array(&r->arena, (size_t)m->nout, sizeof(int));
    int *v = malloc(sizeof(int) * (size_t)taps);
    for (long q = 0; q < npix; q++)
        for (int c = 0; c < cin; c++) {
            int n = 0;
            for (long t = 0; t < taps; t++)
                if (tab[q * taps + t] >= 0)
                    v[n++] = innode[(long)tab[q * taps + t] * cin + c];
            long div = nd->count_pad ? taps : n;
            int sh = 0;
            while ((1L << sh) < div)
                sh++;
            /* a balanced tree */
            for (int len = n; len > 1; len = (len + 1) / 2)
                for (int k = 0; k < len / 2; k++) {
                    if (is_max) {
                        HwNode mx = hw_node_blank(HW_MAX);
                        mx.a = v[2 * k];
                        mx.b = v[2 * k + 1];
                        mx.w = m->n[mx.a].w;
                        mx.sign = m->n[mx.a].sign;
                        mx.lo = m->n[mx.a].lo;
                        mx.hi = m->n[mx.a].hi;
                        v[k] = hw_node_push(m, mx);
                    } else {
                        v[k] = hw_add(m, v[2 * k], 0, v[2 * k + 1], 0, 0, 0);
                    }
                    if (len % 2 && k == len / 2 - 1)
                        v[k + 1] = v[len - 1];
                }
            int a;
            if (is_max) {
                a = hw_cast(m, v[0], fin, acc);
            } else {
                /* the sum (exact, input LSB) cast to the accumulator, then divided toward zero:
                 * (s + (s < 0 ? div - 1 : 0)) >> sh, done as a cast of s + bias on the sign */
                FxType acc_int = acc;
                acc_int.i = acc.w;
                int s = hw_cast(m, hw_cast(m, v[0], fin, acc), 0, acc_int);
                if ((1L << sh) != div) {
                    a = div_trunc_const(m, s, div);
                    if (a < 0) {
                        free(v);
                        return diag_error(d, "%s: node '%s' (%s): expected an average pooling accumulator narrow "
                                          "enough to divide by %ld in 62 bits in RTL, got %d bits", g->file, nd->name,
                                          nd->src_op, div, acc.w);
                    }
                } else if (sh) {
                    HwNode sel = hw_node_blank(HW_SEL);   /* s > 0 ? 0 : div - 1, as s < 0 needs the bias */
                    int zero = hw_const(m, 0), bias = hw_const(m, div - 1);
                    int negs = hw_add(m, zero, 0, s, 0, 1, 0);   /* -s > 0  <=>  s < 0 */
                    sel.a = negs;
                    sel.b = bias;
                    sel.c = zero;
                    sel.w = m->n[bias].w;
                    sel.sign = 0;
                    sel.lo = 0;
                    sel.hi = (double)(div - 1);
                    int bsel = hw_node_push(m, sel);
                    int sum = hw_add(m, s, 0, bsel, 0, 0, 0);
                    a = hw_shr(m, sum, sh);
                } else {
                    a = s;
                }
            }
            m->out[q * cin + c] = hw_cast(m, a, fa, res);
        }
    free(v);
    return 0;
}

