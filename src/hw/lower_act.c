/* lower_act.c — elementwise layers to the netlist: affine (folded
 * BatchNormalization), ROM tables (sigmoid, tanh, selu), softmax as hls4ml
 * builds it, and relu, leaky relu, quantizers, clip, thresholds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/cmvm/cmvm.h"
#include "hw/lower.h"
#include "tools/act.h"

int lower_affine(HwDesign *r, HwModule *m, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    const Tensor *sc = nd->in[1] >= 0 ? &g->t[nd->in[1]] : NULL, *sh = nd->in[2] >= 0 ? &g->t[nd->in[2]] : NULL;
    FxType res = g->t[nd->out].type;
    long n = ir_numel(x);
    int fx = fx_frac(x->type);
    int fp = fx + (sc ? fx_frac(sc->type) : 0), ft = sh ? fx_frac(sh->type) : fp;
    int f = fp > ft ? fp : ft;
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        int xi = hw_in(m, 0, e, x->type);
        CmvmTerm t[2];
        int nt = 0;
        int64_t c = sc ? sc->codes[e] : 1;
        if (c) {
            int64_t mag = c < 0 ? -c : c;
            t[nt].node = cmvm_const_mult(m, xi, mag, cmvm_use_dsp(r->opt.mult, x->type.w, mag));
            t[nt].shift = f - fp;
            t[nt].neg = c < 0;
            nt++;
        }
        if (sh && sh->codes[e]) {
            t[nt].node = hw_const(m, sh->codes[e]);
            t[nt].shift = f - ft;
            t[nt].neg = 0;
            nt++;
        }
        int v;
        if (nt == 0) {
            v = hw_const(m, 0);
        } else {
            CmvmTerm s = cmvm_sum(m, t, nt, 0);
            v = s.node;
            if (s.neg || s.shift) {
                int z = hw_const(m, 0);
                v = s.neg ? hw_add(m, z, 0, s.node, s.shift, 1, 0) : hw_add(m, s.node, s.shift, z, 0, 0, 0);
            }
        }
        m->out[e] = hw_cast(m, v, f, res);
    }
    return 0;
}


int lower_unary_table(HwDesign *r, HwModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType res = g->t[nd->out].type;
    UnaryAct a;
    int fell;
    if (act_unary_init(&a, &r->arena, d, g, nd, &fell) < 0)
        return -1;
    /* selu and elu (either mode) are a ROM over every input code */
    int every_code = nd->op == OP_SELU || nd->op == OP_ELU;
    if (every_code && x->type.w > 16)
        return diag_error(d, "%s: node '%s' (%s): expected a%s %s input of at most 16 bits in RTL, got %d", g->file,
                          nd->name, nd->src_op, nd->op == OP_ELU ? "n" : "", op_names[nd->op], x->type.w);
    int indexed = a.mode == TABLES_HLS4ML && !every_code;
    int rom;
    int64_t lo = 0, hi = 0;
    if (indexed) {
        /* the table, with the output cast folded in */
        int64_t *data = arena_array(&r->arena, (size_t)a.table_size, sizeof(int64_t));
        for (long i = 0; i < a.table_size; i++)
            data[i] = fx_cast_to(a.table[i], fx_frac(a.table_t), res);
        rom = hw_rom_add(m, data, a.table_size, a.lgt, res, 1);
    } else {
        /* every input code, trimmed to where the output changes */
        int64_t cmin = fx_type_min(x->type), cmax = fx_type_max(x->type);
        int64_t vmin = act_unary_eval(&a, cmin), vmax = act_unary_eval(&a, cmax);
        lo = cmin;
        while (lo < cmax && act_unary_eval(&a, lo + 1) == vmin)
            lo++;
        hi = cmax;
        while (hi > lo && act_unary_eval(&a, hi - 1) == vmax)
            hi--;
        long n = (long)(hi - lo + 1);
        int aw = 1;
        while ((1L << aw) < n)
            aw++;
        int64_t *data = arena_array(&r->arena, (size_t)n, sizeof(int64_t));
        for (long i = 0; i < n; i++)
            data[i] = act_unary_eval(&a, lo + i);
        rom = hw_rom_add(m, data, n, aw, res, 0);
    }
    long n = ir_numel(x);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        int t = hw_rom_read(m, hw_in(m, 0, e, x->type), rom, indexed ? fx_frac(x->type) : lo, indexed ? a.lgt : hi,
                         res);
        m->n[t].sa = a.lgs;   /* hls4ml index: log2 of the sampled span */
        m->out[e] = t;
    }
    return 0;
}

/* A select a > 0 ? b : c (c < 0: 0) whose value lies in [lo, hi] of a w-bit word */
static int select_node(HwModule *m, int a, int b, int c, int w, int sign, double lo, double hi)
{
    HwNode s = hw_node_blank(HW_SEL);
    s.a = a;
    s.b = b;
    s.c = c;
    s.w = w;
    s.sign = sign;
    s.lo = lo;
    s.hi = hi;
    return hw_node_push(m, s);
}

/* 1 (unsigned, 1 bit) when both 0/1 nodes a and b are 1 */
static int bit_and(HwModule *m, int a, int b)
{
    return select_node(m, a, b, -1, 1, 0, 0, 1);
}

/* hls4ml's argmax softmax: output i is 1 (in the result type) when x_i > x_j for every j < i and x_i >= x_j for
 * every j > i (the first maximum), else 0. */
static int lower_argmax(HwDesign *r, HwModule *m, const Tensor *x, FxType res, long n)
{
    int *xs = malloc(sizeof(int) * (size_t)n), *c = malloc(sizeof(int) * (size_t)n);
    for (long i = 0; i < n; i++)
        xs[i] = hw_in(m, 0, i, x->type);
    int one = hw_const(m, 1), zero = hw_const(m, 0);
    int one_r = hw_const(m, fx_cast(1, 0, res.w, fx_frac(res), res.sign, res.q, res.o));
    int zero_r = hw_const(m, fx_cast(0, 0, res.w, fx_frac(res), res.sign, res.q, res.o));
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long i = 0; i < n; i++) {
        long nc = 0;
        for (long j = 0; j < n; j++) {
            if (j == i)
                continue;
            if (j < i)   /* x_i > x_j: x_i - x_j > 0 */
                c[nc++] = select_node(m, hw_add(m, xs[i], 0, xs[j], 0, 1, 0), one, -1, 1, 0, 0, 1);
            else         /* x_i >= x_j: not x_j - x_i > 0 */
                c[nc++] = select_node(m, hw_add(m, xs[j], 0, xs[i], 0, 1, 0), zero, one, 1, 0, 0, 1);
        }
        /* all of them: a balanced tree of ands */
        for (long cnt = nc; cnt > 1;) {
            long w = 0;
            for (long k = 0; k + 1 < cnt; k += 2)
                c[w++] = bit_and(m, c[k], c[k + 1]);
            if (cnt & 1)
                c[w++] = c[cnt - 1];
            cnt = w;
        }
        m->out[i] = select_node(m, nc ? c[0] : one, one_r, zero_r, res.w, res.sign, (double)fx_type_min(res),
                                (double)fx_type_max(res));
    }
    free(xs);
    free(c);
    return 0;
}

int lower_softmax(HwDesign *r, HwModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType res = g->t[nd->out].type;
    if (nd->tables != TABLES_HLS4ML)
        return diag_error(d, "%s: node '%s' (%s): exact softmax has no circuit: expected Tables: hls4ml for this "
                          "layer (the default) to build RTL", g->file, nd->name, nd->src_op);
    if (x->rank != 1)
        return diag_error(d, "%s: node '%s' (%s): expected a softmax over a vector in RTL", g->file, nd->name, nd->src_op);
    long n = x->dims[0];
    SoftmaxAct sa;
    if (act_softmax_init(&sa, &r->arena, d, g, nd, (int)n) < 0)
        return -1;
    const FxSoftmaxHls *p = &sa.p;
    if (p->impl == 2)
        return lower_argmax(r, m, x, res, n);
    FxType acc = {(int16_t)p->wa, (int16_t)(p->wa - p->fa), (uint8_t)p->sa, (uint8_t)p->qa, (uint8_t)p->oa};
    FxType inv_inp = {(int16_t)p->wi, (int16_t)(p->wi - p->fi), (uint8_t)p->si, (uint8_t)p->qi, (uint8_t)p->oi};
    FxType inv_t = nd->inv_t;
    /* ROM contents: exp entries already cast to the accumulator */
    int64_t *exps = arena_array(&r->arena, (size_t)sa.exp_size, sizeof(int64_t));
    for (long i = 0; i < sa.exp_size; i++)
        exps[i] = fx_cast_to(sa.exp_table[i], p->fe, acc);
    int rom_e = hw_rom_add(m, exps, sa.exp_size, p->ne, acc, 0);
    int rom_v = hw_rom_add(m, sa.inv_table, sa.inv_size, p->nv, inv_t, 0);
    int *xs = malloc(sizeof(int) * (size_t)n), *e = malloc(sizeof(int) * (size_t)n);
    for (long i = 0; i < n; i++)
        xs[i] = hw_in(m, 0, i, x->type);
    /* maximum: a balanced tree (stable only) */
    int *t = malloc(sizeof(int) * (size_t)n);
    memcpy(t, xs, sizeof(int) * (size_t)n);
    for (long cnt = p->impl == 1 ? 1 : n; cnt > 1;) {
        long w = 0;
        for (long i = 0; i + 1 < cnt; i += 2) {
            HwNode mx = hw_node_blank(HW_MAX);
            mx.a = t[i];
            mx.b = t[i + 1];
            mx.w = x->type.w;
            mx.sign = x->type.sign;
            mx.lo = m->n[t[i]].lo;
            mx.hi = m->n[t[i]].hi;
            t[w++] = hw_node_push(m, mx);
        }
        if (cnt & 1)
            t[w++] = t[cnt - 1];
        cnt = w;
    }
    int mx = t[0];
    FxType norm = {(int16_t)p->wn, (int16_t)(p->wn - p->fn), 0, FXQ_TRN, FXO_WRAP};
    for (long i = 0; i < n && p->impl == 1; i++) {
        /* latency: the top bits of the input code itself, as an unsigned address */
        int idx = hw_shr(m, xs[i], p->wn - p->ne);
        m->n[idx].sign = 0;
        m->n[idx].w = p->ne;
        m->n[idx].lo = 0;
        m->n[idx].hi = (double)(sa.exp_size - 1);
        e[i] = hw_rom_read(m, idx, rom_e, 0, sa.exp_size - 1, acc);
    }
    for (long i = 0; i < n && p->impl != 1; i++) {
        int diff = hw_add(m, mx, 0, xs[i], 0, 1, 0);
        int dn = hw_cast(m, diff, p->fn, norm);               /* wraps to inp_norm_t */
        int idx = hw_shr(m, dn, p->wn - p->ne);                /* top bits */
        m->n[idx].sign = 0;
        e[i] = hw_rom_read(m, idx, rom_e, 0, sa.exp_size - 1, acc);
    }
    /* hls4ml's pairwise sum, cast after every addition */
    FxType acc_int = acc;
    acc_int.i = acc.w;
    int sum;
    {
        /* fx_tree_sum's split, its recursion on (start, count) as an explicit stack */
        long stack_s[64], stack_c[64];
        int stack_state[64], stack_left[64];
        int sp = 0;
        stack_s[0] = 0;
        stack_c[0] = n;
        stack_state[0] = 0;
        int ret = -1;
        while (sp >= 0) {
            long s0 = stack_s[sp], c0 = stack_c[sp];
            if (c0 == 1) {
                ret = e[s0];
                sp--;
                continue;
            }
            if (c0 == 2) {
                ret = hw_cast(m, hw_add(m, e[s0], 0, e[s0 + 1], 0, 0, 0), 0, acc_int);
                sp--;
                continue;
            }
            long l = 1;
            while (l * 2 <= c0 - 1)
                l *= 2;
            if (stack_state[sp] == 0) {
                stack_state[sp] = 1;
                sp++;
                stack_s[sp] = s0;
                stack_c[sp] = l;
                stack_state[sp] = 0;
            } else if (stack_state[sp] == 1) {
                stack_left[sp] = ret;
                stack_state[sp] = 2;
                sp++;
                stack_s[sp] = s0 + l;
                stack_c[sp] = c0 - l;
                stack_state[sp] = 0;
            } else {
                ret = hw_cast(m, hw_add(m, stack_left[sp], 0, ret, 0, 0, 0), 0, acc_int);
                sp--;
            }
        }
        sum = ret;
    }
    int s = hw_cast(m, sum, p->fa, inv_inp);
    int iv = hw_shr(m, s, p->wi - p->nv);
    m->n[iv].sign = 0;
    m->n[iv].w = p->nv;
    int inv = hw_rom_read(m, iv, rom_v, 0, sa.inv_size - 1, inv_t);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long i = 0; i < n; i++) {
        m->out[i] = hw_cast(m, lower_var_mult(r, m, e[i], inv), p->fa + p->fv, res);
    }
    free(xs);
    free(e);
    free(t);
    return 0;
}

/* x (w bits) times the constant code c: shift-and-add or a DSP (--multipliers), negated for c < 0. */
static int const_product(HwDesign *r, HwModule *m, int xi, int w, int64_t c)
{
    if (c == 0)
        return hw_const(m, 0);
    int64_t mag = c < 0 ? -c : c;
    int prod = cmvm_const_mult(m, xi, mag, cmvm_use_dsp(r->opt.mult, w, mag));
    if (c < 0) {
        int z = hw_const(m, 0);
        prod = hw_add(m, z, 0, prod, 0, 1, 0);
    }
    return prod;
}

int lower_elementwise(HwDesign *r, HwModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType res = g->t[nd->out].type;
    long n = ir_numel(x);
    int fx = fx_frac(x->type);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        if (m->live && !m->live[e]) {
            m->out[e] = hw_const(m, 0);   /* never observed */
            continue;
        }
        int xi = hw_in(m, 0, e, x->type), y;
        switch (nd->op) {
        case OP_RELU: {
            HwNode s = hw_node_blank(HW_SEL);
            s.a = xi;
            s.b = hw_cast(m, xi, fx, res);
            s.w = res.w;
            s.sign = res.sign;
            s.lo = fmin(0, (double)fx_type_min(res));
            s.hi = (double)fx_type_max(res);
            y = hw_node_push(m, s);
            break;
        }
        case OP_PRELU: {   /* a slope per element */
            const Tensor *sl = &g->t[nd->in[1]];
            int prod = const_product(r, m, xi, x->type.w, sl->codes[e]);
            y = hw_select_cast(m, xi, xi, fx, prod, fx + fx_frac(sl->type), res);
            break;
        }
        case OP_LEAKYRELU: {
            int prod = const_product(r, m, xi, x->type.w, fx_quant_double(nd->alpha, nd->alpha_t));
            y = hw_select_cast(m, xi, xi, fx, prod, fx + fx_frac(nd->alpha_t), res);
            break;
        }
        case OP_HARDSIGMOID: {
            /* clip(x * slope + shift, 0, 1), as the emulator: the product at fx + fa, the shift aligned to the
             * finer LSB, the sum compared with 0 and with 1 at that LSB */
            int64_t bc = fx_quant_double(nd->beta, nd->beta_t);
            int fa = fx_frac(nd->alpha_t), fb = fx_frac(nd->beta_t), f = fx + fa;
            int prod = const_product(r, m, xi, x->type.w, fx_quant_double(nd->alpha, nd->alpha_t));
            int v = fb > f ? hw_add(m, prod, fb - f, hw_const(m, bc), 0, 0, 0)
                           : hw_add(m, prod, 0, hw_const(m, bc), f - fb, 0, 0);
            f = fb > f ? fb : f;
            HwNode s = hw_node_blank(HW_CLIP);
            s.a = v;
            s.b = hw_cast(m, v, f, res);
            double cmin = m->n[v].lo, cmax = m->n[v].hi;
            s.k = (int64_t)fmax(fmin(0, cmax + 1), cmin);   /* v < 0: 0 */
            s.c = hw_const(m, 0);
            if (f >= 0 && f < 62) {
                double one = ldexp(1.0, f);
                s.k2 = (int64_t)fmin(fmax(one, cmin - 1), cmax);   /* v > 1: 1 in the result type */
                s.sb = hw_const(m, fx_cast_to((int64_t)1 << f, f, res));
            } else {
                s.k2 = (int64_t)cmax;
                s.sb = s.b;
            }
            s.w = res.w;
            s.sign = res.sign;
            s.lo = (double)fx_type_min(res);
            s.hi = (double)fx_type_max(res);
            y = hw_node_push(m, s);
            break;
        }
        case OP_QUANT: {
            FxType et = ir_quant_elem(nd, e);
            if (!et.w) {
                y = hw_const(m, 0);   /* pruned */
                break;
            }
            /* the element's cast, then placed in the container: constant high and low bits are wiring */
            y = hw_cast(m, hw_cast(m, xi, fx, et), fx_frac(et), res);
            int sh = fx_frac(res) - fx_frac(et);
            m->n[y].lo = ldexp((double)fx_type_min(et), sh);
            m->n[y].hi = ldexp((double)fx_type_max(et), sh);
            break;
        }
        case OP_CLIP: {
            HwNode s = hw_node_blank(HW_CLIP);
            s.a = xi;
            s.b = hw_cast(m, xi, fx, res);
            /* x < lo  <=>  code < ceil(lo * 2^f);  x > hi  <=>  code > floor(hi * 2^f) */
            double lt = ceil(ldexp(nd->alpha, fx)), ht = floor(ldexp(nd->beta, fx));
            double cmin = (double)fx_type_min(x->type), cmax = (double)fx_type_max(x->type);
            s.k = (int64_t)fmax(fmin(lt, cmax + 1), cmin);
            s.k2 = (int64_t)fmin(fmax(ht, cmin - 1), cmax);
            s.c = hw_const(m, fx_quant_double(nd->alpha, res));
            s.sb = hw_const(m, fx_quant_double(nd->beta, res));
            s.w = res.w;
            s.sign = res.sign;
            s.lo = (double)fx_type_min(res);
            s.hi = (double)fx_type_max(res);
            y = hw_node_push(m, s);
            break;
        }
        case OP_THRESHRELU: {   /* x > theta ? x : 0, theta as the input code k (ir_threshold_cut) */
            int64_t k = 0;
            int cut = ir_threshold_cut(nd, x->type, &k);
            if (cut < 0) {
                y = hw_cast(m, xi, fx, res);
            } else if (cut > 0) {
                y = hw_const(m, 0);
            } else {
                HwNode s = hw_node_blank(HW_CLIP);   /* x < k + 1: 0; else the cast */
                s.a = xi;
                s.b = hw_cast(m, xi, fx, res);
                s.k = k + 1;
                s.k2 = fx_type_max(x->type);
                s.c = hw_const(m, 0);
                s.sb = s.c;   /* never: no code is above the type's largest */
                s.w = res.w;
                s.sign = res.sign;
                s.lo = fmin(0, m->n[s.b].lo);
                s.hi = fmax(0, m->n[s.b].hi);
                y = hw_node_push(m, s);
            }
            break;
        }
        case OP_THRESHOLD: {
            /* binary: x < t ? -1 : 1;  ternary: x <= lo ? -1 : x > hi ? 1 : 0 (hi checked first, as hls4ml: when
             * wrapped thresholds give hi < lo, every x <= hi is 1 and the rest -1) */
            const int64_t *hi = g->t[nd->in[1]].codes, *lo = nd->in[2] >= 0 ? g->t[nd->in[2]].codes : NULL;
            int64_t cmin = fx_type_min(x->type), cmax = fx_type_max(x->type);
            HwNode s = hw_node_blank(HW_CLIP);
            s.a = xi;
            s.c = hw_const(m, -1);
            s.sb = hw_const(m, 1);
            if (!lo || hi[e] < lo[e]) {
                s.k = hi[e] + (lo ? 1 : 0);     /* x < k: -1 (binary x >= t is 1; ternary x > hi is 1) */
                s.k2 = cmax;
                s.b = s.sb;
            } else {
                s.k = lo[e] + 1;
                s.k2 = hi[e];
                s.b = hw_const(m, 0);
            }
            s.k = s.k < cmin ? cmin : s.k > cmax + 1 ? cmax + 1 : s.k;
            s.k2 = s.k2 < cmin - 1 ? cmin - 1 : s.k2 > cmax ? cmax : s.k2;
            s.w = res.w;
            s.sign = res.sign;
            s.lo = -1;
            s.hi = 1;
            y = hw_node_push(m, s);
            break;
        }
        default:
            return diag_error(d, "%s: node '%s' (%s): the Verilog back end does not support %s yet", g->file, nd->name,
                              nd->src_op, op_names[nd->op]);
        }
        m->out[e] = y;
    }
    return 0;
}

/* A LayerNormalization per row of its last axis, in fx_layernorm_row's order: each input cast to the accumulator
 * and summed one at a time (each sum cast), the mean a product by 1/n (cast), each difference cast, squared
 * (cast) and summed likewise, the variance a product by 1/n (cast); its table read (act_layernorm_init), and
 * each output d * t * scale + bias exact, cast once. */
int lower_layernorm(HwDesign *r, HwModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType res = g->t[nd->out].type, acc = nd->accum;
    LnAct a;
    if (act_layernorm_init(&a, &r->arena, d, g, nd) < 0)
        return -1;
    const FxLayerNorm *p = &a.p;
    int aw = 1;
    while ((1L << aw) < p->size)
        aw++;
    int rom = hw_rom_add(m, a.table, p->size, aw, nd->table_t, 0);
    FxType idx_t = {32, 32, 1, FXQ_TRN_ZERO, FXO_WRAP};   /* hls4ml's C int index, truncated toward zero */
    int lg = -1;   /* log2 of a power-of-two table size: var * size is a shift */
    if (p->hls && (p->size & (p->size - 1)) == 0)
        for (lg = 0; (1L << lg) < p->size; lg++)
            ;
    long n = p->n;
    int *xa = malloc(sizeof(int) * (size_t)n), *df = malloc(sizeof(int) * (size_t)n);
    if (!xa || !df)
        abort();
    m->nout = ir_numel(x);
    m->out = arena_array(&r->arena, (size_t)m->nout, sizeof(int));
    for (long row = 0; row < a.rows; row++) {
        int s = -1;
        for (long i = 0; i < n; i++) {
            xa[i] = hw_cast(m, hw_in(m, 0, row * n + i, x->type), p->fin, acc);
            s = i == 0 ? xa[0] : hw_cast(m, hw_add(m, s, 0, xa[i], 0, 0, 0), p->fa, acc);
        }
        int mean = hw_cast(m, const_product(r, m, s, m->n[s].w, p->kinv), 2 * p->fa, acc);
        int s2 = -1;
        for (long i = 0; i < n; i++) {
            df[i] = hw_cast(m, hw_add(m, xa[i], 0, mean, 0, 1, 0), p->fa, acc);
            int sq = hw_cast(m, lower_var_mult(r, m, df[i], df[i]), 2 * p->fa, acc);
            s2 = i == 0 ? sq : hw_cast(m, hw_add(m, s2, 0, sq, 0, 0, 0), p->fa, acc);
        }
        int var = hw_cast(m, const_product(r, m, s2, m->n[s2].w, p->kinv), 2 * p->fa, acc);
        int idx = var;
        if (p->hls && lg >= 0)
            idx = hw_cast(m, var, p->fi - lg, idx_t);
        else if (p->hls)
            idx = hw_cast(m, const_product(r, m, var, m->n[var].w, p->size), p->fi, idx_t);
        int t = hw_rom_read(m, idx, rom, 0, p->size - 1, nd->table_t);
        for (long i = 0; i < n; i++) {
            int dt = lower_var_mult(r, m, df[i], t);
            int q = const_product(r, m, dt, m->n[dt].w, a.scale[i]);
            int sum = hw_add(m, q, p->sp, hw_const(m, a.bias[i]), p->sb, 0, 0);
            m->out[row * n + i] = hw_cast(m, sum, p->fc, res);
        }
    }
    free(xa);
    free(df);
    return 0;
}
