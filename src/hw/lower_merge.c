/* lower_merge.c — wiring (Pad, UpSample, Transpose, Concat) and the ops of
 * two tensors (Add, Sub, Mul, Average, Maximum, Minimum) to the netlist, and
 * the multiplication of two signals. */
#include <math.h>
#include <stdlib.h>

#include "hw/cmvm/cmvm.h"
#include "hw/lower.h"

/* a * b of two signals: a DSP multiply (--multipliers dsp, or auto with both operands 10 bits
 * or wider), else in LUTs: one partial product per bit of the narrower operand (its sign
 * bit subtracted), summed in a balanced tree. */
int lower_var_mult(const HwDesign *r, HwModule *m, int a, int b)
{
    const HwNode *x = &m->n[a], *y = &m->n[b];
    if (r->opt.mult == MULT_DSP || (r->opt.mult == MULT_AUTO && x->w >= 10 && y->w >= 10)) {
        HwNode p = hw_node_blank(HW_MUL);
        p.a = a;
        p.b = b;
        double c[4] = {x->lo * y->lo, x->lo * y->hi, x->hi * y->lo, x->hi * y->hi};
        p.lo = fmin(fmin(c[0], c[1]), fmin(c[2], c[3]));
        p.hi = fmax(fmax(c[0], c[1]), fmax(c[2], c[3]));
        p.w = hw_width(p.lo, p.hi, &p.sign);
        m->dsp++;
        return hw_node_push(m, p);
    }
    if (y->w < x->w) {
        int t = a;
        a = b;
        b = t;
    }
    int ws = m->n[a].w, sgn = m->n[a].sign;
    CmvmTerm *t = calloc((size_t)ws, sizeof(CmvmTerm));
    if (!t)
        abort();
    for (int j = 0; j < ws; j++) {
        int bit = hw_shr(m, a, j);
        m->n[bit].w = 1;
        m->n[bit].sign = 0;
        m->n[bit].lo = 0;
        m->n[bit].hi = 1;
        HwNode sel = hw_node_blank(HW_SEL);
        sel.a = bit;
        sel.b = b;
        sel.lo = fmin(0, m->n[b].lo);
        sel.hi = fmax(0, m->n[b].hi);
        sel.w = hw_width(sel.lo, sel.hi, &sel.sign);
        t[j].node = hw_node_push(m, sel);
        t[j].shift = j;
        t[j].neg = sgn && j == ws - 1;
    }
    CmvmTerm s = cmvm_sum(m, t, ws, 0);
    free(t);
    if (s.neg) {
        int z = hw_const(m, 0);
        return hw_add(m, z, 0, s.node, s.shift, 1, 0);
    }
    if (s.shift) {
        int z = hw_const(m, 0);
        m->adders--;   /* a shift is wiring */
        return hw_add(m, s.node, s.shift, z, 0, 0, 0);
    }
    return s.node;
}


/* PAD, UPSAMPLE, TRANSPOSE, CONCAT: wiring, each element cast to the result (a
 * transpose keeps the type: no cast). */
int lower_gather(HwDesign *r, HwModule *m, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *x2 = nd->op == OP_CONCAT ? &g->t[nd->in[1]] : NULL;
    FxType res = g->t[nd->out].type;
    long ny = ir_numel(&g->t[nd->out]), nx = ir_numel(x);
    int32_t *tab = arena_array(&r->arena, (size_t)ny, sizeof(int32_t));
    ir_gather_table(g, nd, tab);
    m->nout = ny;
    m->out = arena_array(&r->arena, (size_t)ny, sizeof(int));
    for (long e = 0; e < ny; e++) {
        long s = tab[e];
        int y;
        if (s < 0)
            y = hw_const(m, 0);
        else if (s < nx)
            y = nd->op == OP_TRANSPOSE ? hw_in(m, 0, s, x->type)
                                       : hw_cast(m, hw_in(m, 0, s, x->type), fx_frac(x->type), res);
        else
            y = hw_cast(m, hw_in(m, 1, s - nx, x2->type), fx_frac(x2->type), res);
        m->out[e] = y;
    }
    return 0;
}

/* ADD, SUB, MUL, AVERAGE, MAXIMUM, MINIMUM of two tensors. */
int lower_merge(HwDesign *r, HwModule *m, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *y = &g->t[nd->in[1]];
    FxType res = g->t[nd->out].type;
    int f1 = fx_frac(x->type), f2 = fx_frac(y->type), f = f1 > f2 ? f1 : f2;
    long n = ir_numel(x);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        int a = hw_in(m, 0, e, x->type), b = hw_in(m, 1, e, y->type), o;
        switch (nd->op) {
        case OP_ADD: o = hw_cast(m, hw_add(m, a, f - f1, b, f - f2, 0, 0), f, res); break;
        case OP_SUB: o = hw_cast(m, hw_add(m, a, f - f1, b, f - f2, 1, 0), f, res); break;
        case OP_AVERAGE: o = hw_cast(m, hw_add(m, a, f - f1, b, f - f2, 0, 0), f + 1, res); break;
        case OP_MUL: o = hw_cast(m, lower_var_mult(r, m, a, b), f1 + f2, res); break;
        default: {   /* MAXIMUM: a - b > 0 ? x : y;  MINIMUM: b - a > 0 ? x : y */
            int dlt = nd->op == OP_MAXIMUM ? hw_add(m, a, f - f1, b, f - f2, 1, 0) : hw_add(m, b, f - f2, a, f - f1, 1, 0);
            o = hw_select_cast(m, dlt, a, f1, b, f2, res);
            break;
        }
        }
        m->out[e] = o;
    }
    if (nd->op == OP_ADD || nd->op == OP_SUB || nd->op == OP_AVERAGE)
        m->adders_naive = n;
    return 0;
}
