/* netlist.c — the hardware IR's constructors (each node's width and value
 * range follow from its operands), its textual dump and its verifier. */
#include "hw/netlist.h"
#include "hw/rnn_static.h"

#include <math.h>
#include <string.h>

const char *const hw_op_names[] = {
#define HW_NAME(e, s) s,
    HW_OPS(HW_NAME)
#undef HW_NAME
};

/* ---- constructors ---------------------------------------------------------- */

int hw_width(double lo, double hi, int *sign)
{
    int w = 1;
    if (lo < 0) {
        *sign = 1;
        while (w < HW_MAX_WIDTH && (lo < -ldexp(1.0, w - 1) || hi > ldexp(1.0, w - 1) - 1))
            w++;
    } else {
        *sign = 0;
        while (w < HW_MAX_WIDTH && hi > ldexp(1.0, w) - 1)
            w++;
    }
    /* beyond 64 bits (a product or an exact sum of products wider than the variables) the range, a double,
     * may have been rounded toward zero by up to 2^(w-54): one more bit keeps it */
    if (w > 64 && w < HW_MAX_WIDTH)
        w++;
    return w;
}

int hw_node_push(HwModule *m, HwNode n)
{
    n.maxdelay = 0;
    VEC_PUSH(m->n, m->nn, m->cn, n);
    return (int)m->nn - 1;
}

HwNode hw_node_blank(HwOp op)
{
    HwNode n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.a = n.b = n.c = -1;
    return n;
}

int hw_rom_read(HwModule *m, int a, int rom, int64_t k, int64_t k2, FxType out)
{
    HwNode t = hw_node_blank(HW_ROM);
    t.a = a;
    t.rom = rom;
    t.k = k;
    t.k2 = k2;
    t.w = out.w;
    t.sign = out.sign;
    t.lo = (double)fx_type_min(out);
    t.hi = (double)fx_type_max(out);
    return hw_node_push(m, t);
}

int hw_const(HwModule *m, int64_t v)
{
    HwNode n = hw_node_blank(HW_CONST);
    n.k = v;
    n.lo = n.hi = (double)v;
    n.w = hw_width(n.lo, n.hi, &n.sign);
    return hw_node_push(m, n);
}

int hw_in(HwModule *m, int port, long k, FxType t)
{
    HwNode n = hw_node_blank(HW_IN);
    n.sa = port;
    n.k = k;
    n.w = t.w;
    n.sign = t.sign;
    n.lo = (double)fx_type_min(t);
    n.hi = (double)fx_type_max(t);
    const Node *q = m->in_quant[port];
    if (q) {   /* a quantizer's element: its own range (pruned: 0), in the container's codes */
        FxType et = ir_quant_elem(q, k);
        int sh = fx_frac(t) - fx_frac(et);
        n.lo = et.w ? ldexp((double)fx_type_min(et), sh) : 0;
        n.hi = et.w ? ldexp((double)fx_type_max(et), sh) : 0;
        n.w = hw_width(n.lo, n.hi, &n.sign);
    }
    return hw_node_push(m, n);
}

/* cap: when > 0, results are kept modulo 2^cap (the accumulator wraps). */
int hw_add(HwModule *m, int a, int sa, int b, int sb, int sub, int cap)
{
    HwNode n = hw_node_blank(HW_ADD);
    const HwNode *x = &m->n[a], *y = &m->n[b];
    double xl = ldexp(x->lo, sa), xh = ldexp(x->hi, sa), yl = ldexp(y->lo, sb), yh = ldexp(y->hi, sb);
    n.a = a, n.b = b, n.sa = sa, n.sb = sb, n.sub = sub;
    n.lo = sub ? xl - yh : xl + yl;
    n.hi = sub ? xh - yl : xh + yh;
    n.w = hw_width(n.lo, n.hi, &n.sign);
    if (cap > 0 && n.w >= cap) {
        n.w = cap;
        n.sign = 1;
        n.lo = -ldexp(1.0, cap - 1);
        n.hi = ldexp(1.0, cap - 1) - 1;
    }
    m->adders++;
    return hw_node_push(m, n);
}

int hw_shr(HwModule *m, int a, int k)
{
    HwNode n = hw_node_blank(HW_SHR);
    n.a = a;
    n.sa = k;
    n.lo = floor(ldexp(m->n[a].lo, -k));
    n.hi = floor(ldexp(m->n[a].hi, -k));
    n.w = hw_width(n.lo, n.hi, &n.sign);
    if (m->n[a].sign)
        n.sign = 1;
    if (n.sign && n.w < 1)
        n.w = 1;
    return hw_node_push(m, n);
}

int hw_cast(HwModule *m, int a, int fa, FxType to)
{
    HwNode n = hw_node_blank(HW_CAST);
    n.a = a;
    n.fa = fa;
    n.to = to;
    n.w = to.w;
    n.sign = to.sign;
    n.lo = (double)fx_type_min(to);
    n.hi = (double)fx_type_max(to);
    return hw_node_push(m, n);
}

int hw_select_cast(HwModule *m, int cond, int x, int fx, int y, int fy, FxType to)
{
    HwNode s = hw_node_blank(HW_SEL);
    s.a = cond;
    s.b = hw_cast(m, x, fx, to);
    s.c = hw_cast(m, y, fy, to);
    s.w = to.w;
    s.sign = to.sign;
    s.lo = (double)fx_type_min(to);
    s.hi = (double)fx_type_max(to);
    return hw_node_push(m, s);
}

int hw_rom_add(HwModule *m, int64_t *data, long n, int aw, FxType out, int hls)
{
    HwRom rom = {data, n, aw, out.w, out.sign, hls};
    VEC_PUSH(m->rom, m->nrom, m->crom, rom);
    return (int)m->nrom - 1;
}

/* ---- dump ------------------------------------------------------------------ */

static void dump_node(Buf *b, const HwModule *m, int i)
{
    const HwNode *n = &m->n[i];
    buf_printf(b, "  %%%d = %s", i, hw_op_names[n->op]);
    switch (n->op) {
    case HW_IN: buf_printf(b, " port%d[%lld]", n->sa, (long long)n->k); break;
    case HW_CONST: buf_printf(b, " %lld", (long long)n->k); break;
    case HW_ADD: buf_printf(b, " %%%d<<%d %s %%%d<<%d", n->a, n->sa, n->sub ? "-" : "+", n->b, n->sb); break;
    case HW_SHR: buf_printf(b, " %%%d>>%d", n->a, n->sa); break;
    case HW_CAST: {
        char t[64];
        fx_format(n->to, t, sizeof t);
        buf_printf(b, " %%%d frac %d to %s", n->a, n->fa, t);
        break;
    }
    case HW_SEL: buf_printf(b, " %%%d > 0 ? %%%d : %%%d", n->a, n->b, n->c); break;
    case HW_CLIP:
        buf_printf(b, " %%%d < %lld ? %%%d : %%%d > %lld ? %%%d : %%%d", n->a, (long long)n->k, n->c, n->a,
                   (long long)n->k2, n->sb, n->b);
        break;
    case HW_ROM: buf_printf(b, " rom%d[%%%d] %lld..%lld", n->rom, n->a, (long long)n->k, (long long)n->k2); break;
    case HW_MUL:
        if (n->b >= 0)
            buf_printf(b, " %%%d * %%%d", n->a, n->b);
        else
            buf_printf(b, " %%%d * %lld", n->a, (long long)n->k);
        break;
    case HW_MAX: buf_printf(b, " %%%d, %%%d", n->a, n->b); break;
    }
    buf_printf(b, "  : %c%d [%.17g, %.17g] @%d+%.3fns\n", n->sign ? 's' : 'u', n->w, n->lo, n->hi, n->stage, n->t);
}

void hw_dump(const HwDesign *r, Buf *b)
{
    buf_printf(b, "design %s: %zu modules, latency %d, budget %.3f ns", r->top ? r->top : "?", r->nm, r->latency,
               r->budget_ns);
    if (r->ii > 1)
        buf_printf(b, ", ii %d", r->ii);
    buf_printf(b, "\n");
    for (size_t k = 0; k < r->nm; k++) {
        const HwModule *m = &r->m[k];
        buf_printf(b, "module %s: node %d, %d port(s), %zu nodes, %zu roms, %ld outputs, latency %d, "
                   "in %.3f ns, out %.3f ns, adders %ld (naive %ld), dsp %ld, lut %.1f, ff %.1f\n",
                   m->name, m->node, m->ports, m->nn, m->nrom, m->nout, m->latency, m->in_t, m->out_t, m->adders,
                   m->adders_naive, m->dsp, m->lut, m->ff);
        if (m->fold) {
            const HwFold *f = m->fold;
            buf_printf(b, "  fold: reuse %d, %ld terms, %ld multipliers (%s), weights %s (%ld bits), x %c%d, w s%d, "
                       "pd %d, sum s%d\n", f->reuse, f->nterm, f->nmult, f->dsp ? "dsp" : "logic",
                       f->rom ? "in rom" : "constants", f->rom_bits, f->sx ? 's' : 'u', f->wx, f->ww, f->pd, f->accw);
            for (long q = 0; q < f->nterm; q++)
                buf_printf(b, "  term %ld: x%ld * %lld -> y%ld\n", q, f->term[q].x, (long long)f->term[q].w,
                           f->term[q].o);
            continue;
        }
        if (m->rnn) {
            const HwRnn *q = m->rnn;
            buf_printf(b, "  static: %d steps%s%s, %d state(s), cell latency %d, %d clocks a step, ii %d; its cell:\n",
                       q->T, q->back ? " backwards" : "", q->seq ? ", the sequence out" : "", q->nstate,
                       q->cell_latency, q->period, q->ii);
            hw_dump(&q->cell, b);
            continue;
        }
        for (size_t t = 0; t < m->nrom; t++)
            buf_printf(b, "  rom%zu: %ld entries, %d address bits, %c%d%s\n", t, m->rom[t].n, m->rom[t].aw,
                       m->rom[t].dsign ? 's' : 'u', m->rom[t].dw, m->rom[t].hls_index ? ", hls4ml index" : "");
        for (size_t i = 0; i < m->nn; i++)
            dump_node(b, m, (int)i);
        buf_printf(b, "  out");
        for (long e = 0; e < m->nout; e++)
            buf_printf(b, " %%%d", m->out[e]);
        buf_printf(b, "\n");
    }
}

/* ---- verifier -------------------------------------------------------------- */

static int bad(Diag *d, const char *step, const HwModule *m, long i, const char *what)
{
    return diag_error(d, "internal: hardware netlist after %s: module %s, node %%%ld: %s", step, m->name, i, what);
}

/* A folded layer: terms by output element, inside the ports, every one dealt to a multiplier. */
static int verify_fold(const HwDesign *r, Diag *d, const char *step, const HwModule *m)
{
    const HwFold *f = m->fold;
    long nx = ir_numel(&r->g->t[m->in_tensor[0]]);
    if (f->reuse < 2 || f->nterm < 2 || f->nmult * f->reuse < f->nterm || (f->nmult - 1) * f->reuse >= f->nterm)
        return diag_error(d, "internal: hardware netlist after %s: folded module %s: %ld terms on %ld multipliers "
                          "at reuse %d", step, m->name, f->nterm, f->nmult, f->reuse);
    if (f->wx < 1 || f->ww < 1 || f->wx + f->ww >= HW_MAX_WIDTH || f->accw < 2 || f->accw >= HW_MAX_WIDTH)
        return diag_error(d, "internal: hardware netlist after %s: folded module %s: widths outside 1..255", step, m->name);
    for (long q = 0; q < f->nterm; q++) {
        const HwTerm *t = &f->term[q];
        if (t->x < 0 || t->x >= nx || t->o < 0 || t->o >= m->nout || !t->w ||
            (q && (t->o < f->term[q - 1].o || (t->o == f->term[q - 1].o && t->x < f->term[q - 1].x))))
            return diag_error(d, "internal: hardware netlist after %s: folded module %s: term %ld out of range or order",
                              step, m->name, q);
    }
    return 0;
}

int hw_verify(const HwDesign *r, Diag *d, const char *step, int scheduled)
{
    for (size_t k = 0; k < r->nm; k++) {
        const HwModule *m = &r->m[k];
        if (m->rnn) {   /* its cell: verified when built (rnn_static.c) */
            if (m->nn || m->in_tensor[0] != m->rnn->x_tensor || m->rnn->T < 3 || m->rnn->period < 1)
                return diag_error(d, "internal: hardware netlist after %s: static module %s malformed", step, m->name);
            continue;
        }
        if (m->fold) {
            if (verify_fold(r, d, step, m) < 0)
                return -1;
            continue;
        }
        for (size_t i = 0; i < m->nn; i++) {
            const HwNode *n = &m->n[i];
            int ops[4] = {n->a, n->b, n->c, n->op == HW_CLIP ? n->sb : -1};
            if ((unsigned)n->op > HW_MAX)
                return bad(d, step, m, (long)i, "unknown op");
            if (n->w < 1 || n->w >= HW_MAX_WIDTH)
                return bad(d, step, m, (long)i, "width outside 1..255");
            if (n->op == HW_IN && (n->sa < 0 || n->sa >= m->ports))
                return bad(d, step, m, (long)i, "input port out of range");
            if (n->op == HW_ROM && (n->rom < 0 || (size_t)n->rom >= m->nrom))
                return bad(d, step, m, (long)i, "ROM id out of range");
            int need = n->op == HW_IN || n->op == HW_CONST ? 0 : n->op == HW_ADD || n->op == HW_MAX ? 2 : 1;
            for (int j = 0; j < need; j++)
                if (ops[j] < 0)
                    return bad(d, step, m, (long)i, "missing operand");
            for (int j = 0; j < 4; j++) {
                if (ops[j] < 0 || n->op == HW_IN || n->op == HW_CONST)
                    continue;
                if ((size_t)ops[j] >= i)
                    return bad(d, step, m, (long)i, "operand not defined before its user");
                const HwNode *o = &m->n[ops[j]];
                if (scheduled && o->op != HW_CONST && (o->stage > n->stage || (o->stage == n->stage && o->t > n->t)))
                    return bad(d, step, m, (long)i, "operand ready after its user");
            }
        }
        if (m->nout < 0 || (m->nout && !m->out))
            return diag_error(d, "internal: hardware netlist after %s: module %s: outputs missing", step, m->name);
        for (long e = 0; e < m->nout; e++)
            if (m->out[e] < 0 || (size_t)m->out[e] >= m->nn)
                return diag_error(d, "internal: hardware netlist after %s: module %s: output %ld undefined", step,
                                  m->name, e);
            else if (scheduled && m->n[m->out[e]].stage > m->latency)
                return diag_error(d, "internal: hardware netlist after %s: module %s: output %ld after the module's "
                                  "latency", step, m->name, e);
    }
    return 0;
}
