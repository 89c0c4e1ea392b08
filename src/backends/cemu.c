/* cemu.c — the standalone C back end: NAME.c / NAME.h, dependency-free C99
 * with integer arithmetic only (plus <math.h> for exact softmax), weights as
 * constant integer tables.  Every computation mirrors src/tools/emulate.c and
 * uses the same fx_arith.h / fx_act.h text, so the two agree bit for bit. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backends.h"
#include "etchnn.h"
#include "tools/act.h"
#include "tools/emulate.h"
#include "util/names.h"

extern const char etn_fx_arith_text[];
extern const char etn_fx_act_text[];
extern const char etn_fx_wide_text[];

typedef struct {
    Buf *b;
    int indent;
    const unsigned char *wide;   /* per node id: 1 when its products or sums need 128 bits (fx_wide.h) */
} Emit;

/* Which nodes need fx_wide.h's 128-bit intermediates (emulate.c decides the same way); returns how many. */
static int wide_nodes(const Graph *g, Arena *ar, unsigned char *wide)
{
    int cnt = 0;
    for (size_t id = 0; id < g->nn; id++) {
        const Node *n = &g->n[id];
        int w = 0;
        if (n->dead)
            continue;
        if (n->op == OP_DENSE) {
            const Tensor *t = &g->t[n->in[1]];
            w = n->acc_chain != ACC_EXACT ? g->t[n->in[0]].type.w + t->type.w > 63
                                          : emu_dense_wide(g->t[n->in[0]].type, t->type, n->accum, t->codes,
                                                           t->const_dims[0], t->const_dims[1]);
        } else if (n->op == OP_CONV1D || n->op == OP_CONV2D) {
            int ih, iw, cin, oh, ow, cout;
            ir_hwc(&g->t[n->in[0]], &ih, &iw, &cin);
            ir_hwc(&g->t[n->out], &oh, &ow, &cout);
            long nin = (long)n->kernel[0] * n->kernel[1] * cin;
            FxType wt = g->t[n->in[1]].type;
            if (n->acc_chain != ACC_EXACT) {
                w = g->t[n->in[0]].type.w + wt.w > 63;
            } else {
                int64_t *wd = arena_array(ar, (size_t)(nin * cout), sizeof(int64_t));
                ir_conv_dense_weights(g, n, wd, NULL);
                w = emu_dense_wide(g->t[n->in[0]].type, wt, n->accum, wd, nin, cout);
            }
        } else if (n->op != OP_INPUT) {
            w = emu_elem_wide(g, n);
        }
        wide[id] = w > 0;
        cnt += w > 0;
    }
    return cnt;
}

static void emitf(Emit *e, const char *fmt, ...) ETN_PRINTF(2, 3);
static void emitf(Emit *e, const char *fmt, ...)
{
    va_list ap;
    for (int k = 0; k < e->indent; k++)
        buf_append(e->b, "    ", 4);
    va_start(ap, fmt);
    buf_vprintf(e->b, fmt, ap);
    va_end(ap);
}

/* "w, f, sign, q, o" arguments of fx_cast for type t. */
static const char *targs(FxType t, char *buf, size_t n)
{
    snprintf(buf, n, "%d, %d, %d, %d, %d", t.w, fx_frac(t), t.sign, t.q, t.o);
    return buf;
}

static int fits32(const int64_t *v, long n)
{
    for (long k = 0; k < n; k++)
        if (v[k] < INT32_MIN || v[k] > INT32_MAX)
            return 0;
    return 1;
}

static void emit_array_as(Emit *e, const char *name, const int64_t *v, long n, int force64)
{
    int small = !force64 && fits32(v, n);
    emitf(e, "static const %s %s[%ld] = {", small ? "int32_t" : "int64_t", name, n);
    for (long k = 0; k < n; k++) {
        if (k % 12 == 0)
            buf_printf(e->b, "\n    ");
        if (small || v[k] != INT64_MIN)
            buf_printf(e->b, "%lld,", (long long)v[k]);
        else
            buf_printf(e->b, "INT64_MIN,");
    }
    buf_printf(e->b, "\n};\n");
}

static void emit_array(Emit *e, const char *name, const int64_t *v, long n) { emit_array_as(e, name, v, n, 0); }

/* Constant tables of node n, emitted before the function. */
static int emit_node_data(Emit *e, const Graph *g, Diag *d, const Node *n, int id, Arena *ar)
{
    char nm[64], ln[NAMES_TEXT_SIZE], tn[NAMES_TEXT_SIZE];
    names_comment(ln, sizeof ln, n->name);
    switch (n->op) {
    case OP_QUANT:
        if (n->nq > 1) {   /* per-element types, packed: w | (frac + 256) << 7 | sign << 16 | q << 17 | o << 20 */
            int64_t *pk = arena_array(ar, (size_t)n->nq, sizeof(int64_t));
            for (long k = 0; k < n->nq; k++) {
                FxType t = n->qtypes[k];
                pk[k] = t.w ? t.w + ((int64_t)(fx_frac(t) + 256) << 7) + ((int64_t)t.sign << 16) + ((int64_t)t.q << 17) +
                                  ((int64_t)t.o << 20)
                            : 0;
            }
            snprintf(nm, sizeof nm, "n%d_q", id);
            emitf(e, "/* %s: the fixed-point type of each element, packed (0: pruned) */\n", ln);
            emit_array(e, nm, pk, n->nq);
        }
        break;
    case OP_DENSE: {
        const Tensor *w = &g->t[n->in[1]];
        long nin = w->const_dims[0], nout = w->const_dims[1];
        int64_t *wt = arena_array(ar, (size_t)(nin * nout), sizeof(int64_t));
        for (long i = 0; i < nin; i++)
            for (long o = 0; o < nout; o++)
                wt[o * nin + i] = w->codes[i * nout + o];
        snprintf(nm, sizeof nm, "n%d_w", id);
        emitf(e, "/* %s: weights %s, [out][in] */\n", ln, names_comment(tn, sizeof tn, w->name));
        emit_array(e, nm, wt, nin * nout);
        if (n->in[2] >= 0) {
            const Tensor *b = &g->t[n->in[2]];
            int64_t *bv = arena_array(ar, (size_t)nout, sizeof(int64_t));
            for (long o = 0; o < nout; o++)
                bv[o] = fx_cast_to(b->codes[o], fx_frac(b->type), n->accum);
            snprintf(nm, sizeof nm, "n%d_b", id);
            emitf(e, "/* %s: bias in accumulator codes */\n", ln);
            emit_array(e, nm, bv, nout);
        }
        break;
    }
    case OP_CONV1D:
    case OP_CONV2D: {
        const Tensor *b = n->in[2] >= 0 ? &g->t[n->in[2]] : NULL;
        int ih, iw, cin, oh, ow, cout;
        ir_hwc(&g->t[n->in[0]], &ih, &iw, &cin);
        ir_hwc(&g->t[n->out], &oh, &ow, &cout);
        long taps = (long)n->kernel[0] * n->kernel[1], nin = taps * cin, npix = (long)oh * ow;
        int64_t *wd = arena_array(ar, (size_t)(nin * cout), sizeof(int64_t));
        int64_t *wt = arena_array(ar, (size_t)(nin * cout), sizeof(int64_t));
        ir_conv_dense_weights(g, n, wd, NULL);
        for (long i = 0; i < nin; i++)
            for (long o = 0; o < cout; o++)
                wt[o * nin + i] = wd[i * cout + o];
        snprintf(nm, sizeof nm, "n%d_w", id);
        emitf(e, "/* %s: weights %s as a dense matrix over the window, [out][tap][channel] */\n", ln,
              names_comment(tn, sizeof tn, g->t[n->in[1]].name));
        emit_array(e, nm, wt, nin * cout);
        if (b) {
            int64_t *bv = arena_array(ar, (size_t)cout, sizeof(int64_t));
            for (long o = 0; o < cout; o++)
                bv[o] = fx_cast_to(b->codes[o], fx_frac(b->type), n->accum);
            snprintf(nm, sizeof nm, "n%d_b", id);
            emitf(e, "/* %s: bias in accumulator codes */\n", ln);
            emit_array(e, nm, bv, cout);
        }
        int32_t *tab = arena_array(ar, (size_t)(npix * taps), sizeof(int32_t));
        int64_t *tv = arena_array(ar, (size_t)(npix * taps), sizeof(int64_t));
        ir_window_taps(g, n, tab);
        for (long q = 0; q < npix * taps; q++)
            tv[q] = tab[q];
        snprintf(nm, sizeof nm, "n%d_tap", id);
        emitf(e, "/* %s: input pixel of each window tap per output pixel (-1: padding) */\n", ln);
        emit_array(e, nm, tv, npix * taps);
        break;
    }
    case OP_MAXPOOL1D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL1D:
    case OP_AVGPOOL2D:
    case OP_PAD:
    case OP_UPSAMPLE:
    case OP_TRANSPOSE:
    case OP_CONCAT: {
        int pool = ir_is_window_op(n->op);
        int ih, iw, cin, oh, ow, cout;
        ir_hwc(&g->t[n->in[0]], &ih, &iw, &cin);
        ir_hwc(&g->t[n->out], &oh, &ow, &cout);
        long cnt = pool ? (long)oh * ow * n->kernel[0] * n->kernel[1] : ir_numel(&g->t[n->out]);
        int32_t *tab = arena_array(ar, (size_t)cnt, sizeof(int32_t));
        int64_t *tv = arena_array(ar, (size_t)cnt, sizeof(int64_t));
        if (pool)
            ir_window_taps(g, n, tab);
        else
            ir_gather_table(g, n, tab);
        for (long q = 0; q < cnt; q++)
            tv[q] = tab[q];
        snprintf(nm, sizeof nm, "n%d_tap", id);
        emitf(e, "/* %s: %s (-1: zero) */\n", ln,
              pool ? "input pixel of each window tap per output pixel" : "the input element each output element copies");
        emit_array(e, nm, tv, cnt);
        break;
    }
    case OP_EMBED: {   /* the table's rows in output codes */
        const Tensor *w = &g->t[n->in[1]];
        long cnt = ir_const_numel(w);
        int64_t *tv = arena_array(ar, (size_t)cnt, sizeof(int64_t));
        for (long q = 0; q < cnt; q++)
            tv[q] = fx_cast_to(w->codes[q], fx_frac(w->type), g->t[n->out].type);
        snprintf(nm, sizeof nm, "n%d_e", id);
        emitf(e, "/* %s: embedding table [%d][%d] in output codes */\n", ln, w->const_dims[0], w->const_dims[1]);
        emit_array(e, nm, tv, cnt);
        break;
    }
    case OP_PRELU:
        snprintf(nm, sizeof nm, "n%d_s", id);
        emit_array(e, nm, g->t[n->in[1]].codes, ir_const_numel(&g->t[n->in[1]]));
        break;
    case OP_LAYERNORM: {   /* its table, scale and bias codes and row parameters (fx_layernorm_row) */
        LnAct a;
        if (act_layernorm_init(&a, ar, d, g, n) < 0)
            return -1;
        const FxLayerNorm *p = &a.p;
        emitf(e, "/* %s: 1/sqrt table (%s), scale and bias codes, row parameters */\n", ln,
              n->tables == TABLES_HLS4ML ? "hls4ml's, indexed by trunc(var * size * 2^r)" : "exact, indexed by the variance code");
        snprintf(nm, sizeof nm, "n%d_table", id);
        emit_array_as(e, nm, a.table, p->size, 1);
        snprintf(nm, sizeof nm, "n%d_s", id);
        emit_array_as(e, nm, a.scale, p->n, 1);
        snprintf(nm, sizeof nm, "n%d_b", id);
        emit_array_as(e, nm, a.bias, p->n, 1);
        emitf(e, "static const FxLayerNorm n%d_p = {%ld, %d, %d, %d, %d, %d, %d, INT64_C(%lld), %d, %d, %ld, %d, %d, %d, "
                 "%d, %d, %d, %d, %d};\n", id, p->n, p->fin, p->wa, p->fa, p->sa, p->qa, p->oa, (long long)p->kinv,
              p->hls, p->fi, p->size, p->sp, p->sb, p->fc, p->w, p->f, p->s, p->q, p->o);
        break;
    }
    case OP_AFFINE:
    case OP_THRESHOLD:
        for (int j = 1; j < 3; j++)
            if (n->in[j] >= 0) {
                snprintf(nm, sizeof nm, "n%d_%s", id, j == 1 ? "s" : "t");
                emit_array(e, nm, g->t[n->in[j]].codes, ir_const_numel(&g->t[n->in[j]]));
            }
        break;
    case OP_SIGMOID:
    case OP_TANH:
    case OP_SOFTPLUS:
    case OP_SOFTSIGN:
    case OP_LUT:
    case OP_SELU:
    case OP_ELU: {
        UnaryAct a;
        int fell;
        if (act_unary_init(&a, ar, d, g, n, &fell) < 0)
            return -1;
        FxType tin = g->t[n->in[0]].type;
        if (tin.w > 16) {
            /* hls4ml mode (exact falls back to it above 16 bits): its table, indexed at run time */
            snprintf(nm, sizeof nm, "n%d_table", id);
            emitf(e, "/* %s: hls4ml %s table, %d entries of %s codes */\n", ln, op_names[n->op], a.table_size,
                  (fx_format(a.table_t, nm + 32, 32), nm + 32));
            snprintf(nm, sizeof nm, "n%d_table", id);
            emit_array_as(e, nm, a.table, a.table_size, n->op == OP_SELU || n->op == OP_ELU);   /* passed as int64_t * */
            break;
        }
        long codes = (long)(fx_type_max(tin) - fx_type_min(tin) + 1);
        int64_t *tab = arena_array(ar, (size_t)codes, sizeof(int64_t));
        for (long c = 0; c < codes; c++)
            tab[c] = act_unary_eval(&a, fx_type_min(tin) + c);
        snprintf(nm, sizeof nm, "n%d_table", id);
        emitf(e, "/* %s: %s over every input code from %lld (%s tables) */\n", ln, op_names[n->op],
              (long long)fx_type_min(tin), a.mode == TABLES_HLS4ML ? "hls4ml" : "exact");
        emit_array(e, nm, tab, codes);
        break;
    }
    case OP_SOFTMAX:
        if (n->tables == TABLES_HLS4ML) {
            SoftmaxAct a;
            if (act_softmax_init(&a, ar, d, g, n, g->t[n->in[0]].dims[n->axis]) < 0)
                return -1;
            const FxSoftmaxHls *p = &a.p;
            static const char *const impl_names[] = {"stable", "latency", "argmax"};
            emitf(e, "/* %s: hls4ml '%s' softmax tables and parameters */\n", ln, impl_names[p->impl]);
            snprintf(nm, sizeof nm, "n%d_exp", id);
            emit_array_as(e, nm, a.exp_table, a.exp_size, 1);
            snprintf(nm, sizeof nm, "n%d_inv", id);
            emit_array_as(e, nm, a.inv_table, a.inv_size, 1);
            emitf(e, "static const FxSoftmaxHls n%d_p = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, "
                     "%d, %d, %d, %d, %d, %d};\n", id, p->impl, p->fin, p->wn, p->fn, p->ne, p->nv, p->wa, p->fa, p->sa,
                  p->qa, p->oa, p->wi, p->fi, p->si, p->qi, p->oi, p->fe, p->fv, p->w, p->f, p->s, p->q, p->o);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* hls4ml's order of saturating additions (acc_chain in ir.h): the product `prod` (fp fractional bits) of each
 * of the nin inputs cast to the accumulator, added to it and each sum cast; the bias first or last. */
static void emit_chain(Emit *e, const Node *n, int id, const char *prod, long nin, int fp)
{
    char ta[96];
    FxType acc = n->accum;
    int fa = fx_frac(acc);
    targs(acc, ta, sizeof ta);
    bool bias = n->in[2] >= 0;
    if (bias && n->acc_chain == ACC_BIAS_FIRST)
        emitf(e, "        int64_t a = n%d_b[o];\n", id);
    else
        emitf(e, "        int64_t a = 0;\n");
    emitf(e, "        for (i = 0; i < %ld; i++)   /* hls4ml's order: each product and each sum cast */\n", nin);
    if (e->wide[id])   /* the product on 128 bits (fx_wide.h) */
        emitf(e, "            a = fx_cast(a + fx_cast128((fx_i128)%s, %d, %s), %d, %s);\n", prod, fp, ta, fa, ta);
    else
        emitf(e, "            a = fx_cast(a + fx_cast(%s, %d, %s), %d, %s);\n", prod, fp, ta, fa, ta);
    if (bias && n->acc_chain == ACC_BIAS_LAST)
        emitf(e, "        a = fx_cast(a + n%d_b[o], %d, %s);   /* hls4ml's separate bias layer */\n", id, fa, ta);
}

/* The exact sum of a dense/conv output: acc (the bias, at the accumulator's LSB) plus each product `prod`
 * (fp fractional bits) floored or rounded to the accumulator's LSB, then cast to the accumulator; on 64 bits
 * (modulo 2^64) or, for a wide node, 128 (fx_wide.h). */
static void emit_exact_sum(Emit *e, const Graph *g, const Node *n, int id, const char *prod, long nin, int pd)
{
    char ta[96];
    FxType acc = n->accum;
    int wide = e->wide[id];
    const char *u = wide ? "fx_u128" : "uint64_t";
    if (n->in[2] >= 0)
        emitf(e, "        %s acc = (%s)%sn%d_b[o];\n", u, u, wide ? "(fx_i128)" : "", id);
    else
        emitf(e, "        %s acc = 0;\n", u);
    emitf(e, "        int64_t a;\n");
    emitf(e, "        for (i = 0; i < %ld; i++)\n", nin);
    emitf(e, "            acc += ");
    if (!wide) {
        if (acc.q == FXQ_TRN || pd <= 0) {
            /* as the emulator: |product| < 2^63, so flooring by 2^pd for pd >= 63 is flooring by 2^63; a product
             * shifted left by 64 or more adds 0 modulo 2^64 (a shift by the width or more is undefined in C) */
            if (pd >= 0)
                buf_printf(e->b, "(uint64_t)((%s) >> %d)", prod, pd < 63 ? pd : 63);
            else if (-pd < 64)
                buf_printf(e->b, "((uint64_t)(%s) << %d)", prod, -pd);
            else
                buf_printf(e->b, "0;   /* every product shifted out of 64 bits */\n        (void)(%s)", prod);
        } else
            buf_printf(e->b, "(uint64_t)fx_quantize(%s, %d, %d)", prod, pd, acc.q);
    } else if (acc.q == FXQ_TRN || pd <= 0) {
        if (pd >= 0)
            buf_printf(e->b, "(fx_u128)(((fx_i128)%s) >> %d)", prod, pd < 127 ? pd : 127);   /* |product| <= 2^126 */
        else if (-pd < 128)
            buf_printf(e->b, "((fx_u128)((fx_i128)%s) << %d)", prod, -pd);
        else
            buf_printf(e->b, "0;   /* every product shifted out of 128 bits */\n        (void)(%s)", prod);
    } else {
        buf_printf(e->b, "(fx_u128)fx_quantize128((fx_i128)%s, %d, %d)", prod, pd, acc.q);
    }
    buf_printf(e->b, ";\n");
    if (acc.o == FXO_WRAP)
        emitf(e, "        a = fx_wrap(%sacc, %d, %d);\n", wide ? "(uint64_t)" : "", acc.w, acc.sign);
    else
        emitf(e, "        a = fx_cast%s(%sacc, %d, %s);\n", wide ? "128" : "", wide ? "(fx_i128)" : "(int64_t)", fx_frac(acc),
              targs(acc, ta, sizeof ta));
    (void)g;
}

static int emit_node_code(Emit *e, const Graph *g, Diag *d, const Node *n, int id)
{
    char ta[96], tb[96], ln[NAMES_TEXT_SIZE], op[NAMES_TEXT_SIZE];
    const Tensor *y = &g->t[n->out];
    const Tensor *x = n->op != OP_INPUT ? &g->t[n->in[0]] : NULL;
    long ny = ir_numel(y);
    int fin = x ? fx_frac(x->type) : 0;
    FxType to = y->type;
    (void)d;
    fx_format(to, tb, sizeof tb);
    emitf(e, "/* %s: %s (%s) -> %s */\n", names_comment(ln, sizeof ln, n->name), op_names[n->op],
          names_comment(op, sizeof op, n->src_op), tb);
    switch (n->op) {
    case OP_INPUT:
        break;
    case OP_DENSE: {
        const Tensor *w = &g->t[n->in[1]];
        long nin = w->const_dims[0], nout = w->const_dims[1], rows = ir_numel(x) / nin;
        FxType acc = n->accum;
        int pd = fin + fx_frac(w->type) - fx_frac(acc);
        char prod[160];
        snprintf(prod, sizeof prod, "v%d[r * %ld + i] * n%d_w[o * %ld + i]", n->in[0], nin, id, nin);
        emitf(e, "for (r = 0; r < %ld; r++)\n", rows);
        emitf(e, "    for (o = 0; o < %ld; o++) {\n", nout);
        if (n->acc_chain != ACC_EXACT) {
            emit_chain(e, n, id, prod, nin, fin + fx_frac(w->type));
            emitf(e, "        v%d[r * %ld + o] = fx_cast(a, %d, %s);\n    }\n", n->out, nout, fx_frac(acc),
                  targs(to, ta, sizeof ta));
            break;
        }
        emit_exact_sum(e, g, n, id, prod, nin, pd);
        emitf(e, "        v%d[r * %ld + o] = fx_cast(a, %d, %s);\n", n->out, nout, fx_frac(acc), targs(to, ta, sizeof ta));
        emitf(e, "    }\n");
        break;
    }
    case OP_CONV1D:
    case OP_CONV2D: {
        int ih, iw, cin, oh, ow, cout;
        ir_hwc(x, &ih, &iw, &cin);
        ir_hwc(y, &oh, &ow, &cout);
        long taps = (long)n->kernel[0] * n->kernel[1], nin = taps * cin, npix = (long)oh * ow;
        FxType acc = n->accum;
        int pd = fin + fx_frac(g->t[n->in[1]].type) - fx_frac(acc);
        char prod[160];
        snprintf(prod, sizeof prod, "col[i] * n%d_w[o * %ld + i]", id, nin);
        emitf(e, "for (r = 0; r < %ld; r++) {\n", npix);
        emitf(e, "    int64_t col[%ld];   /* the window, zero in the padding */\n", nin);
        emitf(e, "    for (i = 0; i < %ld; i++) {\n", taps);
        emitf(e, "        long s = n%d_tap[r * %ld + i];\n", id, taps);
        emitf(e, "        for (o = 0; o < %d; o++)\n", cin);
        emitf(e, "            col[i * %d + o] = s < 0 ? 0 : v%d[s * %d + o];\n", cin, n->in[0], cin);
        emitf(e, "    }\n");
        emitf(e, "    for (o = 0; o < %d; o++) {\n", cout);
        if (n->acc_chain != ACC_EXACT) {
            emit_chain(e, n, id, prod, nin, fin + fx_frac(g->t[n->in[1]].type));
            emitf(e, "        v%d[r * %d + o] = fx_cast(a, %d, %s);\n    }\n}\n", n->out, cout, fx_frac(acc),
                  targs(to, ta, sizeof ta));
            break;
        }
        emit_exact_sum(e, g, n, id, prod, nin, pd);
        emitf(e, "        v%d[r * %d + o] = fx_cast(a, %d, %s);\n", n->out, cout, fx_frac(acc), targs(to, ta, sizeof ta));
        emitf(e, "    }\n");
        emitf(e, "}\n");
        break;
    }
    case OP_MAXPOOL1D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL1D:
    case OP_AVGPOOL2D: {
        int ih, iw, cin, oh, ow, cout;
        ir_hwc(x, &ih, &iw, &cin);
        ir_hwc(y, &oh, &ow, &cout);
        long taps = (long)n->kernel[0] * n->kernel[1], npix = (long)oh * ow;
        int fa = fx_frac(n->accum), f = fin > fa ? fin : fa;
        int is_max = n->op == OP_MAXPOOL1D || n->op == OP_MAXPOOL2D;
        emitf(e, "for (r = 0; r < %ld; r++)\n", npix);
        emitf(e, "    for (o = 0; o < %d; o++) {\n", cin);
        emitf(e, "        int64_t a = 0, m = 0;\n");
        emitf(e, "        long cnt = 0;\n");
        emitf(e, "        for (i = 0; i < %ld; i++) {\n", taps);
        emitf(e, "            long s = n%d_tap[r * %ld + i];\n", id, taps);
        emitf(e, "            int64_t v;\n");
        emitf(e, "            if (s < 0)\n                continue;\n");
        emitf(e, "            v = v%d[s * %d + o];\n", n->in[0], cin);
        if (is_max)
            emitf(e, "            if (cnt == 0 || v > m)\n                m = v;\n");
        else
            emitf(e, "            a = fx_cast(a * ((int64_t)1 << %d) + v * ((int64_t)1 << %d), %d, %s);\n", f - fa, f - fin, f,
                  targs(n->accum, ta, sizeof ta));
        emitf(e, "            cnt++;\n");
        emitf(e, "        }\n");
        if (is_max)
            emitf(e, "        (void)a;\n        a = fx_cast(m, %d, %s);\n", fin, targs(n->accum, ta, sizeof ta));
        else if (n->count_pad)
            emitf(e, "        (void)m;\n        a = a / %ld;\n", taps);
        else
            emitf(e, "        (void)m;\n        a = cnt ? a / cnt : 0;\n");
        emitf(e, "        v%d[r * %d + o] = fx_cast(a, %d, %s);\n", n->out, cin, fa, targs(to, ta, sizeof ta));
        emitf(e, "    }\n");
        break;
    }
    case OP_PAD:
    case OP_UPSAMPLE:
    case OP_TRANSPOSE:
    case OP_CONCAT: {
        long nx = ir_numel(x);
        emitf(e, "for (e = 0; e < %ld; e++) {\n", ny);
        emitf(e, "    long s = n%d_tap[e];\n", id);
        if (n->op == OP_CONCAT)
            emitf(e, "    v%d[e] = s < %ld ? fx_cast(v%d[s], %d, %s) : fx_cast(v%d[s - %ld], %d, %s);\n", n->out, nx,
                  n->in[0], fin, targs(to, ta, sizeof ta), n->in[1], nx, fx_frac(g->t[n->in[1]].type),
                  targs(to, tb, sizeof tb));
        else
            emitf(e, "    v%d[e] = s < 0 ? 0 : fx_cast(v%d[s], %d, %s);\n", n->out, n->in[0], fin, targs(to, ta, sizeof ta));
        emitf(e, "}\n");
        break;
    }
    case OP_SUB:
    case OP_MUL:
    case OP_AVERAGE:
    case OP_MAXIMUM:
    case OP_MINIMUM: {
        int f2 = fx_frac(g->t[n->in[1]].type), f = fin > f2 ? fin : f2;
        if (n->op == OP_MUL && e->wide[id]) {   /* the exact product on 128 bits (fx_wide.h) */
            emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
            emitf(e, "    v%d[e] = fx_cast128((fx_i128)v%d[e] * v%d[e], %d, %s);\n", n->out, n->in[0], n->in[1], fin + f2,
                  targs(to, ta, sizeof ta));
            break;
        }
        emitf(e, "for (e = 0; e < %ld; e++) {\n", ny);
        emitf(e, "    int64_t a = v%d[e] * ((int64_t)1 << %d), b = v%d[e] * ((int64_t)1 << %d);\n", n->in[0], f - fin,
              n->in[1], f - f2);
        switch (n->op) {
        case OP_SUB: emitf(e, "    v%d[e] = fx_cast(a - b, %d, %s);\n", n->out, f, targs(to, ta, sizeof ta)); break;
        case OP_MUL:
            emitf(e, "    (void)a; (void)b;\n    v%d[e] = fx_cast(v%d[e] * v%d[e], %d, %s);\n", n->out, n->in[0], n->in[1],
                  fin + f2, targs(to, ta, sizeof ta));
            break;
        case OP_AVERAGE: emitf(e, "    v%d[e] = fx_cast(a + b, %d, %s);\n", n->out, f + 1, targs(to, ta, sizeof ta)); break;
        default:
            emitf(e, "    v%d[e] = a %s b ? fx_cast(v%d[e], %d, %s) : fx_cast(v%d[e], %d, %s);\n", n->out,
                  n->op == OP_MAXIMUM ? ">" : "<", n->in[0], fin, targs(to, ta, sizeof ta), n->in[1], f2,
                  targs(to, tb, sizeof tb));
            break;
        }
        emitf(e, "}\n");
        break;
    }
    case OP_AFFINE: {
        int f = fin;
        const char *it = e->wide[id] ? "fx_i128" : "int64_t";   /* 128 bits (fx_wide.h) when 64 may not hold it */
        emitf(e, "for (e = 0; e < %ld; e++) {\n", ny);
        emitf(e, "    %s v = v%d[e];\n", it, n->in[0]);
        if (n->in[1] >= 0) {
            emitf(e, "    v *= n%d_s[e];\n", id);
            f += fx_frac(g->t[n->in[1]].type);
        }
        if (n->in[2] >= 0) {
            int fsh = fx_frac(g->t[n->in[2]].type);
            if (fsh > f) {
                emitf(e, "    v = v * ((%s)1 << %d) + n%d_t[e];\n", it, fsh - f, id);
                f = fsh;
            } else {
                emitf(e, "    v += (%s)n%d_t[e] * ((%s)1 << %d);\n", it, id, it, f - fsh);
            }
        }
        emitf(e, "    v%d[e] = fx_cast%s(v, %d, %s);\n", n->out, e->wide[id] ? "128" : "", f, targs(to, ta, sizeof ta));
        emitf(e, "}\n");
        break;
    }
    case OP_THRESHOLD:   /* thresholds in the input's codes (n_s: upper or only, n_t: lower) */
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        if (n->in[2] < 0)
            emitf(e, "    v%d[e] = v%d[e] >= n%d_s[e] ? 1 : -1;\n", n->out, n->in[0], id);
        else
            emitf(e, "    v%d[e] = v%d[e] > n%d_s[e] ? 1 : v%d[e] <= n%d_t[e] ? -1 : 0;\n", n->out, n->in[0], id, n->in[0],
                  id);
        break;
    case OP_ADD: {
        int f2 = fx_frac(g->t[n->in[1]].type), f = fin > f2 ? fin : f2;
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        emitf(e, "    v%d[e] = fx_cast(v%d[e] * ((int64_t)1 << %d) + v%d[e] * ((int64_t)1 << %d), %d, %s);\n", n->out,
              n->in[0], f - fin, n->in[1], f - f2, f, targs(to, ta, sizeof ta));
        break;
    }
    case OP_RELU:
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        emitf(e, "    v%d[e] = v%d[e] > 0 ? fx_cast(v%d[e], %d, %s) : 0;\n", n->out, n->in[0], n->in[0], fin,
              targs(to, ta, sizeof ta));
        break;
    case OP_QUANT:
        emitf(e, "for (e = 0; e < %ld; e++) {\n", ny);
        if (n->nq == 1 && n->qtypes[0].w == 0) {
            emitf(e, "    v%d[e] = 0;\n", n->out);
        } else if (n->nq == 1) {
            emitf(e, "    v%d[e] = fx_cast(fx_cast(v%d[e], %d, %s), %d, %s);\n", n->out, n->in[0], fin,
                  targs(n->qtypes[0], tb, sizeof tb), fx_frac(n->qtypes[0]), targs(to, ta, sizeof ta));
        } else {
            emitf(e, "    int32_t p = n%d_q[e];\n", id);
            emitf(e, "    int w = p & 127, f = ((p >> 7) & 511) - 256, s = (p >> 16) & 1, q = (p >> 17) & 7, o = (p >> 20) & 3;\n");
            emitf(e, "    v%d[e] = w ? fx_cast(fx_cast(v%d[e], %d, w, f, s, q, o), f, %s) : 0;\n", n->out, n->in[0], fin,
                  targs(to, ta, sizeof ta));
        }
        emitf(e, "}\n");
        break;
    case OP_LEAKYRELU: {
        int64_t ac = fx_quant_double(n->alpha, n->alpha_t);
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        if (e->wide[id])   /* the product on 128 bits (fx_wide.h) */
            emitf(e, "    v%d[e] = v%d[e] > 0 ? fx_cast(v%d[e], %d, %s) : fx_cast128((fx_i128)v%d[e] * INT64_C(%lld), %d, "
                     "%s);\n", n->out, n->in[0], n->in[0], fin, targs(to, ta, sizeof ta), n->in[0], (long long)ac,
                  fin + fx_frac(n->alpha_t), targs(to, tb, sizeof tb));
        else
            emitf(e, "    v%d[e] = v%d[e] > 0 ? fx_cast(v%d[e], %d, %s) : fx_cast(v%d[e] * INT64_C(%lld), %d, %s);\n", n->out,
                  n->in[0], n->in[0], fin, targs(to, ta, sizeof ta), n->in[0], (long long)ac, fin + fx_frac(n->alpha_t),
                  targs(to, tb, sizeof tb));
        break;
    }
    case OP_THRESHRELU: {   /* x > theta: the input code above the cut (ir_threshold_cut) */
        int64_t k = 0;
        int cut = ir_threshold_cut(n, g->t[n->in[0]].type, &k);
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        if (cut < 0)
            emitf(e, "    v%d[e] = fx_cast(v%d[e], %d, %s);\n", n->out, n->in[0], fin, targs(to, ta, sizeof ta));
        else if (cut > 0)
            emitf(e, "    v%d[e] = 0;\n", n->out);
        else
            emitf(e, "    v%d[e] = v%d[e] > INT64_C(%lld) ? fx_cast(v%d[e], %d, %s) : 0;\n", n->out, n->in[0],
                  (long long)k, n->in[0], fin, targs(to, ta, sizeof ta));
        break;
    }
    case OP_EMBED: {   /* the table position ir_embed_pos(); outside the table: 0 */
        const Tensor *w = &g->t[n->in[1]];
        long rows = w->const_dims[0], dd = w->const_dims[1];
        int f = fx_frac(x->type);
        emitf(e, "for (e = 0; e < %ld; e++)\n", ir_numel(x));
        emitf(e, "    for (i = 0; i < %ld; i++) {\n", dd);
        if (f <= 0) {   /* row m << -f */
            emitf(e, "        v%d[e * %ld + i] = v%d[e] >= 0 && v%d[e] <= INT64_C(%lld) ? n%d_e[(v%d[e] << %d) * %ld + i] : 0;\n",
                  n->out, dd, n->in[0], n->in[0], (long long)((rows - 1) >> -f), id, n->in[0], -f, dd);
        } else {        /* trunc(x * dd + i), as hls4ml's */
            emitf(e, "        int64_t q = v%d[e] * %ld + ((int64_t)i << %d);\n", n->in[0], dd, f);
            emitf(e, "        q = q >= 0 ? q >> %d : -((-q) >> %d);\n", f, f);
            emitf(e, "        v%d[e * %ld + i] = q >= 0 && q < %ld ? n%d_e[q] : 0;\n", n->out, dd, rows * dd, id);
        }
        emitf(e, "    }\n");
        break;
    }
    case OP_PRELU:
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        emitf(e, "    v%d[e] = v%d[e] > 0 ? fx_cast(v%d[e], %d, %s) : fx_cast%s(%sv%d[e] * n%d_s[e], %d, %s);\n", n->out,
              n->in[0], n->in[0], fin, targs(to, ta, sizeof ta), e->wide[id] ? "128" : "", e->wide[id] ? "(fx_i128)" : "",
              n->in[0], id, fin + fx_frac(g->t[n->in[1]].type), targs(to, tb, sizeof tb));
        break;
    case OP_HARDSIGMOID: {
        int64_t ac = fx_quant_double(n->alpha, n->alpha_t), bc = fx_quant_double(n->beta, n->beta_t);
        int f = fin + fx_frac(n->alpha_t), fb = fx_frac(n->beta_t);
        emitf(e, "for (e = 0; e < %ld; e++) {\n", ny);
        if (e->wide[id]) {   /* on 128 bits (fx_wide.h) */
            if (fb > f) {
                emitf(e, "    fx_i128 v = (fx_i128)v%d[e] * INT64_C(%lld) * ((fx_i128)1 << %d) + INT64_C(%lld);\n", n->in[0],
                      (long long)ac, fb - f, (long long)bc);
                f = fb;
            } else {
                emitf(e, "    fx_i128 v = (fx_i128)v%d[e] * INT64_C(%lld) + (fx_i128)INT64_C(%lld) * ((fx_i128)1 << %d);\n",
                      n->in[0], (long long)ac, (long long)bc, f - fb);
            }
            if (f >= 0 && f < 126)
                emitf(e, "    if (v > ((fx_i128)1 << %d)) v = (fx_i128)1 << %d;\n    else if (v < 0) v = 0;\n", f, f);
            else
                emitf(e, "    if (v < 0) v = 0;\n");
            emitf(e, "    v%d[e] = fx_cast128(v, %d, %s);\n}\n", n->out, f, targs(to, ta, sizeof ta));
            break;
        }
        if (fb > f) {
            emitf(e, "    int64_t v = v%d[e] * INT64_C(%lld) * ((int64_t)1 << %d) + INT64_C(%lld);\n", n->in[0],
                  (long long)ac, fb - f, (long long)bc);
            f = fb;
        } else {
            emitf(e, "    int64_t v = v%d[e] * INT64_C(%lld) + INT64_C(%lld) * ((int64_t)1 << %d);\n", n->in[0],
                  (long long)ac, (long long)bc, f - fb);
        }
        if (f >= 0)
            emitf(e, "    if (v > ((int64_t)1 << %d)) v = (int64_t)1 << %d;\n    else if (v < 0) v = 0;\n", f, f);
        else
            emitf(e, "    if (v < 0) v = 0;\n");
        emitf(e, "    v%d[e] = fx_cast(v, %d, %s);\n}\n", n->out, f, targs(to, ta, sizeof ta));
        break;
    }
    case OP_CLIP: {
        char lo[64], hi[64];
        util_fmt_double(lo, sizeof lo, n->alpha);
        util_fmt_double(hi, sizeof hi, n->beta);
        int64_t clo = fx_quant_double(n->alpha, to), chi = fx_quant_double(n->beta, to);
        emitf(e, "for (e = 0; e < %ld; e++) {\n", ny);
        emitf(e, "    double v = fx_to_double(v%d[e], %d);\n", n->in[0], fin);
        emitf(e, "    v%d[e] = v < %s ? INT64_C(%lld) : v > %s ? INT64_C(%lld) : fx_cast(v%d[e], %d, %s);\n", n->out,
              n->alpha == -1.0 / 0.0 ? "-HUGE_VAL" : lo, (long long)clo, n->beta == 1.0 / 0.0 ? "HUGE_VAL" : hi,
              (long long)chi, n->in[0], fin, targs(to, ta, sizeof ta));
        emitf(e, "}\n");
        break;
    }
    case OP_SIGMOID:
    case OP_TANH:
    case OP_SOFTPLUS:
    case OP_SOFTSIGN:
    case OP_LUT:
    case OP_SELU:
    case OP_ELU:
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        if (x->type.w > 16) {
            int lgt = 0;
            while ((1L << lgt) < n->table_size)
                lgt++;
            if (n->op == OP_ELU) {
                emitf(e, "    v%d[e] = fx_elu_hls4ml(v%d[e], %d, n%d_table, %d, %d, INT64_C(%lld), %d, %s);\n", n->out,
                      n->in[0], fin, id, lgt, fx_frac(n->table_t), (long long)fx_quant_double(n->alpha, n->alpha_t),
                      fx_frac(n->alpha_t), targs(to, ta, sizeof ta));
                break;
            }
            if (n->op == OP_SELU) {
                emitf(e, "    v%d[e] = fx_selu_hls4ml(v%d[e], %d, n%d_table, %d, %d, FX_SELU_HLS4ML_LAMBDA, %s);\n",
                      n->out, n->in[0], fin, id, lgt, fx_frac(n->table_t), targs(to, ta, sizeof ta));
                break;
            }
            emitf(e, "    v%d[e] = fx_cast(n%d_table[fx_table_index(v%d[e], %d, %d, %d)], %d, %s);\n", n->out, id,
                  n->in[0], fin, lgt, ETN_TABLE_SPAN_LOG2(n->op), fx_frac(n->table_t), targs(to, ta, sizeof ta));
        } else {
            emitf(e, "    v%d[e] = n%d_table[v%d[e] - (%lld)];\n", n->out, id, n->in[0], (long long)fx_type_min(x->type));
        }
        break;
    case OP_SOFTMAX: {
        long outer = 1, inner = 1, len = x->dims[n->axis];
        for (int a = 0; a < x->rank; a++) {
            if (a < n->axis)
                outer *= x->dims[a];
            else if (a > n->axis)
                inner *= x->dims[a];
        }
        emitf(e, "for (r = 0; r < %ld; r++)\n", outer);
        if (n->tables == TABLES_HLS4ML) {
            emitf(e, "    for (i = 0; i < %ld; i++) {\n", inner);
            emitf(e, "        int64_t scratch[%ld];\n", len);
            emitf(e, "        fx_softmax_hls4ml(&n%d_p, n%d_exp, n%d_inv, v%d + r * %ld + i, v%d + r * %ld + i, scratch, %ld, %ld);\n",
                  id, id, id, n->in[0], len * inner, n->out, len * inner, len, inner);
            emitf(e, "    }\n");
            break;
        }
        emitf(e, "    for (i = 0; i < %ld; i++)\n", inner);
        emitf(e, "        fx_softmax_exact(v%d + r * %ld + i, v%d + r * %ld + i, %ld, %ld, %d, %s);\n", n->in[0],
              len * inner, n->out, len * inner, len, inner, fin, targs(to, ta, sizeof ta));
        break;
    }
    case OP_RESHAPE:
        emitf(e, "for (e = 0; e < %ld; e++)\n", ny);
        emitf(e, "    v%d[e] = v%d[e];\n", n->out, n->in[0]);
        break;
    case OP_LAYERNORM: {
        long len = x->dims[x->rank - 1];
        emitf(e, "for (r = 0; r < %ld; r++) {\n", ny / len);
        emitf(e, "    int64_t scratch[%ld];\n", len);
        emitf(e, "    fx_layernorm_row(&n%d_p, n%d_table, n%d_s, n%d_b, v%d + r * %ld, v%d + r * %ld, scratch);\n", id, id,
              id, id, n->in[0], len, n->out, len);
        emitf(e, "}\n");
        break;
    }
    case OP_RNN:   /* unrolled by the rnn_unroll pass */
    case OP_DOT:   /* made a Dense by the dot pass */
    case OP_COUNT_:
        break;
    }
    return 0;
}

int backend_write_file(Diag *d, const char *path, const Buf *text)
{
    char tmp[4200];
    /* create parent directories */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0777) < 0 && errno != EEXIST)
            return diag_error(d, "%s: cannot create directory: %s", dir, strerror(errno));
        *p = '/';
    }
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return diag_error(d, "%s: cannot write: %s", path, strerror(errno));
    size_t len = text->len;
    int bad = text->failed || (len && fwrite(text->data, 1, len, f) != len);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) < 0) {
        remove(tmp);
        return diag_error(d, "%s: write failed", path);
    }
    return 0;
}

/* Up to this many int64 values (1 MiB) live on the stack of the generated predict function. */
#define CEMU_STACK_VALUES 131072L

static int is_graph_input(const Graph *g, int t)
{
    for (size_t k = 0; k < g->ninputs; k++)
        if (g->inputs[k] == t)
            return 1;
    return 0;
}

/* "in0_a" / "out1_y": the C parameter of graph input (output) k, named after the model's tensor */
static const char *io_param(char *out, size_t n, const Graph *g, int is_out, size_t k)
{
    char id[NAMES_IDENT_SIZE];
    names_c_ident(id, sizeof id, g->t[is_out ? g->outputs[k] : g->inputs[k]].name);
    snprintf(out, n, "%s%zu_%s", is_out ? "out" : "in", k, id);
    return out;
}

/* "const int64_t in0_a[NM_IN0_N], ..., int64_t out0_y[NM_OUT0_N]" (elem: int64_t or double) */
static void io_params(Buf *b, const Graph *g, const char *nm, const char *elem)
{
    char pn[NAMES_IDENT_SIZE + 32];
    for (size_t k = 0; k < g->ninputs; k++)
        buf_printf(b, "%sconst %s %s[%s_IN%zu_N]", k ? ", " : "", elem, io_param(pn, sizeof pn, g, 0, k), nm, k);
    for (size_t k = 0; k < g->noutputs; k++)
        buf_printf(b, ", %s %s[%s_OUT%zu_N]", elem, io_param(pn, sizeof pn, g, 1, k), nm, k);
}

int cemu_write(const Graph *g, Diag *d, const char *dir)
{
    Buf c = {0}, h = {0};
    Emit e = {&c, 0, NULL};
    Arena ar = {0};
    int rc = -1;
    unsigned char *wide = arena_array(&ar, g->nn ? g->nn : 1, 1);
    int nwide = wide_nodes(g, &ar, wide);
    e.wide = wide;
    char nm[NAMES_IDENT_SIZE], base[NAMES_TEXT_SIZE], tn[NAMES_TEXT_SIZE];
    names_design(nm, sizeof nm, g->name);   /* the prefix of every symbol; rtl.c's top module has the same name */
    const Tensor *tin = &g->t[g->inputs[0]], *tout = &g->t[g->outputs[0]];
    long nin = ir_numel(tin), nout = ir_numel(tout);
    /* several inputs or outputs: one array per input and per output (C_API in README.md) */
    int multi = g->ninputs != 1 || g->noutputs != 1;
    char pn[NAMES_IDENT_SIZE + 32];
    char ta[96], tyin[64], tyout[64];
    fx_format(tin->type, tyin, sizeof tyin);
    fx_format(tout->type, tyout, sizeof tyout);
    const char *file = strrchr(g->file, '/');
    names_comment(base, sizeof base, file ? file + 1 : g->file);

    /* header */
    buf_printf(&h, "/* %s.h — bit-exact fixed-point model generated by etchnn %s from %s. */\n", nm, ETCHNN_VERSION, base);
    buf_printf(&h, "#ifndef %s_H\n#define %s_H\n#include <stdint.h>\n\n", nm, nm);
    if (multi) {
        buf_printf(&h, "#define %s_N_INPUTS %zu    /* the model's inputs: one array each, in this order */\n", nm, g->ninputs);
        buf_printf(&h, "#define %s_N_OUTPUTS %zu   /* its outputs: one array each, in this order */\n", nm, g->noutputs);
        for (int o = 0; o < 2; o++)
            for (size_t k = 0; k < (o ? g->noutputs : g->ninputs); k++) {
                const Tensor *t = &g->t[o ? g->outputs[k] : g->inputs[k]];
                char ty[64];
                fx_format(t->type, ty, sizeof ty);
                buf_printf(&h, "#define %s_%s%zu_N %ld      /* %s %zu '%s': values per event */\n", nm, o ? "OUT" : "IN", k,
                           ir_numel(t), o ? "output" : "input", k, names_comment(tn, sizeof tn, t->name));
                buf_printf(&h, "#define %s_%s%zu_FRAC %d   /* its type %s: value = code * 2^-FRAC */\n", nm, o ? "OUT" : "IN",
                           k, fx_frac(t->type), ty);
            }
        buf_printf(&h, "\n/* One event on raw codes of the input and output types: one array per input, then one per\n"
                       " * output, in the model's order. */\nvoid %s_predict_codes(", nm);
        io_params(&h, g, nm, "int64_t");
        buf_printf(&h, ");\n/* The same on doubles: inputs quantized to their types, outputs exact. */\nvoid %s_predict(", nm);
        io_params(&h, g, nm, "double");
        buf_printf(&h, ");\n\n#endif\n");
    } else {
    buf_printf(&h, "#define %s_N_IN %ld       /* input values per event */\n", nm, nin);
    buf_printf(&h, "#define %s_N_OUT %ld      /* output values per event */\n", nm, nout);
    buf_printf(&h, "#define %s_IN_FRAC %d     /* input type %s: value = code * 2^-IN_FRAC */\n", nm, fx_frac(tin->type), tyin);
    buf_printf(&h, "#define %s_OUT_FRAC %d    /* output type %s: value = code * 2^-OUT_FRAC */\n\n", nm, fx_frac(tout->type), tyout);
    buf_printf(&h, "/* One event on raw codes of the input and output types. */\n");
    buf_printf(&h, "void %s_predict_codes(const int64_t in[%s_N_IN], int64_t out[%s_N_OUT]);\n", nm, nm, nm);
    buf_printf(&h, "/* The same on doubles: inputs quantized to %s, outputs exact. */\n", tyin);
    buf_printf(&h, "void %s_predict(const double in[%s_N_IN], double out[%s_N_OUT]);\n\n#endif\n", nm, nm, nm);
    }

    /* the layers' values: on the stack, or (large models) in one malloc'd block */
    long total = 0;
    for (size_t t = 0; t < g->nt; t++)
        if (!g->t[t].is_const && (g->t[t].producer >= 0 || is_graph_input(g, (int)t)))
            total += ir_numel(&g->t[t]);
    int heap = total > CEMU_STACK_VALUES || nin + nout > CEMU_STACK_VALUES;

    /* source */
    buf_printf(&c, "/* %s.c — bit-exact fixed-point model generated by etchnn %s from %s.\n", nm, ETCHNN_VERSION, base);
    buf_printf(&c, " * Integer arithmetic only; the casts are etchnn's own fx_arith.h. Do not edit. */\n");
    buf_printf(&c, "#include \"%s.h\"\n\n", nm);
    if (heap)
        buf_printf(&c, "#include <stdlib.h>   /* malloc: this model's values do not fit a stack */\n\n");
    buf_printf(&c, "%s\n%s\n", etn_fx_arith_text, etn_fx_act_text);
    if (nwide)   /* products or sums wider than 63 bits: 128-bit intermediates (a GCC/Clang extension) */
        buf_printf(&c, "%s\n", etn_fx_wide_text);
    for (size_t k = 0; k < g->nn; k++)
        if (!g->n[k].dead && emit_node_data(&e, g, d, &g->n[k], (int)k, &ar) < 0)
            goto done;
    if (multi) {
        buf_printf(&c, "\nvoid %s_predict_codes(", nm);
        io_params(&c, g, nm, "int64_t");
        buf_printf(&c, ")\n{\n");
    } else {
        buf_printf(&c, "\nvoid %s_predict_codes(const int64_t in[%s_N_IN], int64_t out[%s_N_OUT])\n{\n", nm, nm, nm);
    }
    e.indent = 1;
    if (heap)
        emitf(&e, "int64_t *mem = malloc(sizeof(int64_t) * %ld);   /* large model: values on the heap */\n"
                  "if (!mem)\n        abort();\n", total);
    long off = 0;
    for (size_t t = 0; t < g->nt; t++) {
        if (g->t[t].is_const || (g->t[t].producer < 0 && !is_graph_input(g, (int)t)))
            continue;
        fx_format(g->t[t].type, ta, sizeof ta);
        if (heap)
            emitf(&e, "int64_t *v%zu = mem + %ld; /* %s [%ld] %s */\n", t, off, names_comment(tn, sizeof tn, g->t[t].name),
                  ir_numel(&g->t[t]), ta);
        else
            emitf(&e, "int64_t v%zu[%ld]; /* %s %s */\n", t, ir_numel(&g->t[t]), names_comment(tn, sizeof tn, g->t[t].name),
                  ta);
        off += ir_numel(&g->t[t]);
    }
    emitf(&e, "long r, o, i, e;\n");
    emitf(&e, "(void)r; (void)o; (void)i;\n");
    if (multi)
        for (size_t k = 0; k < g->ninputs; k++)
            emitf(&e, "for (e = 0; e < %ld; e++)\n        v%d[e] = %s[e];\n", ir_numel(&g->t[g->inputs[k]]), g->inputs[k],
                  io_param(pn, sizeof pn, g, 0, k));
    else
        emitf(&e, "for (e = 0; e < %ld; e++)\n        v%d[e] = in[e];\n", nin, g->inputs[0]);
    for (size_t k = 0; k < g->nn; k++)
        if (!g->n[k].dead && emit_node_code(&e, g, d, &g->n[k], (int)k) < 0)
            goto done;
    if (multi) {
        for (size_t k = 0; k < g->noutputs; k++)
            emitf(&e, "for (e = 0; e < %ld; e++)\n        %s[e] = v%d[e];\n", ir_numel(&g->t[g->outputs[k]]),
                  io_param(pn, sizeof pn, g, 1, k), g->outputs[k]);
        if (heap)
            emitf(&e, "free(mem);\n");
        e.indent = 0;
        /* NM_predict: each input quantized into its code array, the codes run, each output's codes to values */
        buf_printf(&c, "}\n\nvoid %s_predict(", nm);
        io_params(&c, g, nm, "double");
        buf_printf(&c, ")\n{\n    long e;\n");
        for (int o = 0; o < 2; o++)
            for (size_t k = 0; k < (o ? g->noutputs : g->ninputs); k++) {
                long ne = ir_numel(&g->t[o ? g->outputs[k] : g->inputs[k]]);
                if (heap)
                    buf_printf(&c, "    int64_t *c%s%zu = malloc(sizeof(int64_t) * %ld);\n    if (!c%s%zu)\n        abort();\n",
                               o ? "o" : "i", k, ne, o ? "o" : "i", k);
                else
                    buf_printf(&c, "    int64_t c%s%zu[%ld];\n", o ? "o" : "i", k, ne);
            }
        for (size_t k = 0; k < g->ninputs; k++)
            buf_printf(&c, "    for (e = 0; e < %ld; e++)\n        ci%zu[e] = fx_from_double(%s[e], %s);\n",
                       ir_numel(&g->t[g->inputs[k]]), k, io_param(pn, sizeof pn, g, 0, k),
                       targs(g->t[g->inputs[k]].type, ta, sizeof ta));
        buf_printf(&c, "    %s_predict_codes(", nm);
        for (size_t k = 0; k < g->ninputs; k++)
            buf_printf(&c, "%sci%zu", k ? ", " : "", k);
        for (size_t k = 0; k < g->noutputs; k++)
            buf_printf(&c, ", co%zu", k);
        buf_printf(&c, ");\n");
        for (size_t k = 0; k < g->noutputs; k++)
            buf_printf(&c, "    for (e = 0; e < %ld; e++)\n        %s[e] = fx_to_double(co%zu[e], %d);\n",
                       ir_numel(&g->t[g->outputs[k]]), io_param(pn, sizeof pn, g, 1, k), k,
                       fx_frac(g->t[g->outputs[k]].type));
        if (heap) {
            for (size_t k = 0; k < g->ninputs; k++)
                buf_printf(&c, "    free(ci%zu);\n", k);
            for (size_t k = 0; k < g->noutputs; k++)
                buf_printf(&c, "    free(co%zu);\n", k);
        }
        buf_printf(&c, "}\n");
    } else {
    emitf(&e, "for (e = 0; e < %ld; e++)\n        out[e] = v%d[e];\n", nout, g->outputs[0]);
    if (heap)
        emitf(&e, "free(mem);\n");
    e.indent = 0;
    buf_printf(&c, "}\n\nvoid %s_predict(const double in[%s_N_IN], double out[%s_N_OUT])\n{\n", nm, nm, nm);
    if (heap)
        buf_printf(&c, "    int64_t *ci = malloc(sizeof(int64_t) * %ld), *co = malloc(sizeof(int64_t) * %ld);\n    long e;\n"
                       "    if (!ci || !co)\n        abort();\n", nin, nout);
    else
        buf_printf(&c, "    int64_t ci[%ld], co[%ld];\n    long e;\n", nin, nout);
    buf_printf(&c, "    for (e = 0; e < %ld; e++)\n        ci[e] = fx_from_double(in[e], %s);\n", nin,
               targs(tin->type, ta, sizeof ta));
    buf_printf(&c, "    %s_predict_codes(ci, co);\n", nm);
    buf_printf(&c, "    for (e = 0; e < %ld; e++)\n        out[e] = fx_to_double(co[e], %d);\n", nout,
               fx_frac(tout->type));
    buf_printf(&c, heap ? "    free(ci);\n    free(co);\n}\n" : "}\n");

    }

    char path[4096];
    snprintf(path, sizeof path, "%s/c/%s.h", dir, nm);
    if (backend_write_file(d, path, &h) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/c/%s.c", dir, nm);
    if (backend_write_file(d, path, &c) < 0)
        goto done;
    rc = 0;
done:
    buf_free(&c);
    buf_free(&h);
    arena_free(&ar);
    return rc;
}
