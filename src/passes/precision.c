/* precision.c — precision assignment: every tensor and every layer variable
 * gets its fixed-point type from the configuration (LayerName > LayerType >
 * Model > fixed<16,6>); constants are quantized to their types; 'auto'
 * accumulators are sized so that they cannot overflow.
 * requires: shapes, bnfold, fuse; keeps: shapes; sets: types, codes, tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "passes/passes.h"
#include "ir/fx_wide.h"

/* The widest type hls4ml's 'auto' inference may declare here (held in at most 64 bits, hls_hold) */
#define HLS_DECL_MAX 1024

/* The layer variable that types `var` of node n: a node of an unrolled recurrent layer that the
 * configuration reaches through its layer (not by its own name) takes hls4ml's variable for its part
 * in the cell (RnnRole in ir.h). */
static const char *role_var(const Config *c, const Node *n, const char *var)
{
    if (n->cell.role == RNN_ROLE_NONE || config_names_node(c, n))
        return var;
    bool res = !strcmp(var, "result");
    /* a bidirectional layer's direction: hls4ml's forward_weight, backward_recurrent_bias, ... where the layer's
     * entry sets them, else the variable both directions share */
    static const char *const dvar[2][2][2] = {{{"forward_weight", "forward_bias"},
                                               {"forward_recurrent_weight", "forward_recurrent_bias"}},
                                              {{"backward_weight", "backward_bias"},
                                               {"backward_recurrent_weight", "backward_recurrent_bias"}}};
    int wb = !strcmp(var, "weight") ? 0 : !strcmp(var, "bias") ? 1 : -1;
    if (n->cell.dir != RNN_DIR_NONE && wb >= 0 &&
        (n->cell.role == RNN_ROLE_XDENSE || n->cell.role == RNN_ROLE_HDENSE)) {
        const char *dv = dvar[n->cell.dir == RNN_DIR_BACKWARD][n->cell.role == RNN_ROLE_HDENSE][wb];
        if (config_layer_sets_var(c, n, dv))
            return dv;
    }
    switch (n->cell.role) {
    case RNN_ROLE_HDENSE:
        if (!strcmp(var, "weight"))
            return "recurrent_weight";
        if (!strcmp(var, "bias"))
            return "recurrent_bias";
        return res ? "accum" : var;
    case RNN_ROLE_XDENSE:
    case RNN_ROLE_ACCUM:
        return res ? "accum" : var;
    case RNN_ROLE_NONE:
    case RNN_ROLE_EXACT:
    case RNN_ROLE_STATE:
    case RNN_ROLE_MOVE:
        break;
    }
    return var;
}

static int get(const Config *c, Diag *d, const Node *n, const char *var, FxType *t, bool *is_auto)
{
    return config_precision(c, d, n, role_var(c, n, var), t, is_auto);
}

static int no_auto(Diag *d, const Graph *g, const Node *n, const char *var)
{
    return diag_error(d, "%s: node '%s' (%s): precision %s: 'auto' is supported for accum and result only", g->file,
                      n->name, n->src_op, var);
}

/* Quantize a weight.  hls4ml mode: as hls4ml does, through a decimal literal
 * with as many digits as the type has fractional bits, converted with the
 * type's quantization mode. */
static int64_t quant_weight(double v, FxType t, bool hls)
{
    if (hls) {
        char buf[400];
        int f = fx_frac(t);
        int len = snprintf(buf, sizeof buf, "%.*f", f > 0 ? f : 0, v);
        if (len > 0 && (size_t)len < sizeof buf)
            v = strtod(buf, NULL);
    }
    return fx_quant_double(v, t);
}

/* Say how many of a layer's constants lie outside type t's range (they wrap,
 * saturate or become zero by t's overflow mode): a warning, never silent. */
static void warn_const_overflow(Diag *d, const Graph *g, const Node *n, const char *var, const Tensor *c, FxType t)
{
    if (!d || t.w + 2 > (t.sign ? 64 : 63))   /* the wider type must exist (unsigned: 63 bits at most) */
        return;
    FxType wide = t;   /* the same grid and rounding, two more integer bits, saturating */
    wide.w = (int16_t)(t.w + 2);
    wide.i = (int16_t)(t.i + 2);
    wide.o = FXO_SAT;
    int64_t lo = fx_type_min(t), hi = fx_type_max(t);
    long n_out = 0, n_all = ir_const_numel(c);
    double worst = 0;
    for (long k = 0; k < n_all; k++) {
        int64_t code = fx_quant_double(c->data[k], wide);
        if (code < lo || code > hi) {
            n_out++;
            if (fabs(c->data[k]) > worst)
                worst = fabs(c->data[k]);
        }
    }
    if (!n_out)
        return;
    char ts[64];
    fx_format(t, ts, sizeof ts);
    double f = ldexp(1.0, -fx_frac(t));
    diag_warn(d, "%s: node '%s' (%s): %ld of %ld %s values lie outside %s's range [%.17g, %.17g] (largest magnitude %.17g) "
              "and %s; widen the %s type",
              g->file, n->name, n->src_op, n_out, n_all, var, ts, (double)lo * f, (double)hi * f, worst,
              t.o == FXO_WRAP ? "wrap around (two's complement)" : t.o == FXO_SAT_ZERO ? "become zero" : "saturate", var);
}

/* Give constant `id` type t and quantize it; clone it if another layer typed it differently.
 * A constant whose type a quantizer pinned keeps that type, quantized exactly.
 * With d set, values outside t's range are counted in a warning naming n and var. */
static int type_const(Graph *g, int *id, FxType t, bool hls, Diag *d, const Node *n, const char *var)
{
    Tensor *c = &g->t[*id];
    if (c->type_pinned) {
        t = c->type;
        hls = false;   /* its values are on the type's grid already */
    }
    if (c->has_type && (!fx_type_eq(c->type, t) || c->codes_hls4ml != hls)) {
        int nid = ir_add_const(g, c->name, g->t[*id].const_rank, g->t[*id].const_dims, g->t[*id].data);
        *id = nid;
        c = &g->t[nid];
    } else if (c->has_type) {
        return 0;
    }
    long nv = ir_const_numel(c);
    c->type = t;
    c->has_type = true;
    c->codes_hls4ml = hls;
    c->codes = arena_array(&g->arena, (size_t)(nv ? nv : 1), sizeof(int64_t));
    for (long k = 0; k < nv; k++)
        c->codes[k] = quant_weight(c->data[k], t, hls);
    if (!c->type_pinned)
        warn_const_overflow(d, g, n, var, c, t);
    return 0;
}

/* Smallest signed type with f fractional bits holding every integer code in [lo, hi]. */
static int fit_type(Diag *d, const Graph *g, const Node *n, double lo, double hi, int f, FxType *out)
{
    int w = 1;
    while (w <= 64) {
        double mx = ldexp(1.0, w - 1) - 1, mn = -ldexp(1.0, w - 1);
        if (lo >= mn && hi <= mx)
            break;
        w++;
    }
    if (w > 64)
        return diag_error(d, "%s: node '%s' (%s): expected an 'auto' accumulator of at most 64 bits, got one that needs more; "
                          "give accum an explicit type", g->file, n->name, n->src_op);
    FxType t = {(int16_t)w, (int16_t)(w - f), 1, FXQ_TRN, FXO_WRAP};
    *out = t;
    return 0;
}

/* The exact accumulator for a dense layer: no bit of any product or sum lost. */
static int auto_accum(Diag *d, const Graph *g, const Node *n, FxType *out)
{
    const Tensor *x = &g->t[n->in[0]], *w = &g->t[n->in[1]];
    int fx = fx_frac(x->type), fw = fx_frac(w->type);
    int f = fx + fw;
    long nout = w->const_dims[w->const_rank - 1], nin = ir_const_numel(w) / nout;   /* CONV: [taps*cin/groups][cout] */
    const Tensor *b = n->in[2] >= 0 ? &g->t[n->in[2]] : NULL;
    if (b && fx_frac(b->type) > f)
        f = fx_frac(b->type);
    double xmax = (double)fx_type_max(x->type), xmin = (double)fx_type_min(x->type);
    double lo = 0, hi = 0;
    for (long o = 0; o < nout; o++) {
        double l = 0, h = 0;
        for (long i = 0; i < nin; i++) {
            double wv = (double)w->codes[i * nout + o];
            double p1 = wv * xmax, p2 = wv * xmin;
            l += p1 < p2 ? p1 : p2;
            h += p1 > p2 ? p1 : p2;
        }
        double sc = ldexp(1.0, f - (fx + fw));  /* products at the accumulator's LSB */
        l *= sc;
        h *= sc;
        if (b) {
            double bv = ldexp((double)b->codes[o], f - fx_frac(b->type));
            l += bv;
            h += bv;
        }
        lo = l < lo ? l : lo;
        hi = h > hi ? h : hi;
    }
    return fit_type(d, g, n, lo, hi, f, out);
}

static int hls_type_cap(Diag *d, const Graph *g, const Node *n, int w, int i, int sign, const FxType *cap, FxType *out);

/* --auto-types hls4ml: 'auto' types as hls4ml 1.3 infers them from the types of the inputs, weights and
 * biases (never from their values), TRN and WRAP.  See README "'auto' types". */
static int hls_type(Diag *d, const Graph *g, const Node *n, int w, int i, int sign, FxType *out)
{
    return hls_type_cap(d, g, n, w, i, sign, NULL, out);
}

/* ... capped by Model.Precision.maximum (cap; NULL: none) in width and integer bits.  The type may be wider than
 * 64 bits: hls_hold() then gives the type that holds the value. */
static int hls_type_cap(Diag *d, const Graph *g, const Node *n, int w, int i, int sign, const FxType *cap, FxType *out)
{
    if (cap) {
        w = w < cap->w ? w : cap->w;
        i = i < cap->i ? i : cap->i;
    }
    if (w < 1 || w > HLS_DECL_MAX)
        return diag_error(d, "%s: node '%s' (%s): expected an 'auto' type of 1 to %d bits, got %d from hls4ml's "
                          "inference: give this layer explicit result/accum types, or cap them with "
                          "Model.Precision.maximum", g->file, n->name, n->src_op, HLS_DECL_MAX, w);
    FxType t = {(int16_t)w, (int16_t)i, (uint8_t)(sign != 0), FXQ_TRN, FXO_WRAP};
    *out = t;
    return 0;
}

/* The type hls4ml declares for tensor t: what its later 'auto' inferences follow. */
static FxType hls_in(const Tensor *t) { return t->wide_decl ? t->decl : t->type; }

/* Exact bounds, in units of 2^-f, with |bound| < 2^120 (beyond that the value is far wider than 64 bits). */
#define WIDE_LIM ((fx_i128)1 << 120)

enum { IV_OK, IV_OP, IV_ROUND, IV_WIDE };

/* v 2^s into *out: IV_ROUND for s < 0 (the finer value would be rounded), IV_WIDE beyond the limit. */
static int iv_shift(fx_i128 v, int s, fx_i128 *out)
{
    if (s < 0)
        return IV_ROUND;
    fx_i128 m = v < 0 ? -v : v;
    if (m && (s >= 120 || m >= (WIDE_LIM >> s)))
        return IV_WIDE;
    *out = v * ((fx_i128)1 << s);
    return IV_OK;
}

/* [lo, hi] += [a, b] 2^s, within the limit */
static int iv_add(fx_i128 *lo, fx_i128 *hi, fx_i128 a, fx_i128 b, int s)
{
    fx_i128 x, y;
    int r = iv_shift(a, s, &x);
    if (r == IV_OK)
        r = iv_shift(b, s, &y);
    if (r != IV_OK)
        return r;
    *lo += x < y ? x : y;
    *hi += x > y ? x : y;
    fx_i128 m = -*lo > *hi ? -*lo : *hi;
    return m >= WIDE_LIM ? IV_WIDE : IV_OK;
}

/* A layer whose result holds values of its input (or zero): ReLU, max pooling, padding, moves. */
static bool moves_values(Op op)
{
    switch (op) {
    case OP_RELU:
    case OP_MAXPOOL1D:
    case OP_MAXPOOL2D:
    case OP_PAD:
    case OP_UPSAMPLE:
    case OP_RESHAPE:
    case OP_TRANSPOSE:
        return true;
    default:
        return false;
    }
}

static int exact_interval(const Graph *g, const Node *n, int f, const FxType *acc, fx_i128 *lo, fx_i128 *hi);

/* A Dense's or Conv's result: its accumulator's value (type acc), cast to the result's f fraction bits.  The exact
 * sum's interval where acc holds every product and the bias without rounding and that interval, else acc's range. */
static int sum_interval(const Graph *g, const Node *n, int f, FxType acc, fx_i128 *lo, fx_i128 *hi)
{
    int fa = fx_frac(acc), r = exact_interval(g, n, fa, NULL, lo, hi);
    if (r != IV_OK || *lo < fx_type_min(acc) || *hi > fx_type_max(acc)) {
        *lo = fx_type_min(acc);
        *hi = fx_type_max(acc);
    }
    fx_i128 l = 0, h = 0;
    if ((r = iv_add(&l, &h, *lo, *hi, f - fa)) != IV_OK)
        return r;
    *lo = l;
    *hi = h;
    return IV_OK;
}

/* The exact interval of node n's value in units of 2^-f, from the types its inputs are held in and its constants'
 * codes.  A Dense or Conv: its exact sum (acc NULL), or its result with accumulator type acc.  IV_OP: not known
 * for this op. */
static int exact_interval(const Graph *g, const Node *n, int f, const FxType *acc, fx_i128 *lo, fx_i128 *hi)
{
    FxType ta = g->t[n->in[0]].type, tb = ta;
    if (n->nin > 1 && n->in[1] >= 0)
        tb = g->t[n->in[1]].type;
    fx_i128 al = fx_type_min(ta), ah = fx_type_max(ta), bl = fx_type_min(tb), bh = fx_type_max(tb);
    int fa = fx_frac(ta), fb = fx_frac(tb), r = IV_OK;
    *lo = *hi = 0;
    switch (n->op) {
    case OP_DENSE:
    case OP_CONV1D:
    case OP_CONV2D:
    case OP_AFFINE: {   /* per output: the sum of each product's extremes, plus the bias */
        if (acc && n->op != OP_AFFINE)
            return sum_interval(g, n, f, *acc, lo, hi);
        const Tensor *w = n->in[1] >= 0 ? &g->t[n->in[1]] : NULL, *b = n->in[2] >= 0 ? &g->t[n->in[2]] : NULL;
        bool affine = n->op == OP_AFFINE;
        long nout = affine ? ir_numel(&g->t[n->in[0]]) : w->const_dims[w->const_rank - 1];
        long nin = affine ? 1 : ir_const_numel(w) / nout, nw = w ? ir_const_numel(w) : 1, nb = b ? ir_const_numel(b) : 1;
        int fw = w ? fx_frac(w->type) : 0;
        for (long o = 0; o < nout && r == IV_OK; o++) {
            fx_i128 l = 0, h = 0;
            for (long i = 0; i < nin && r == IV_OK; i++) {
                fx_i128 wc = w ? w->codes[affine ? o % nw : i * nout + o] : 1;
                r = iv_add(&l, &h, wc * al, wc * ah, f - fa - fw);
            }
            if (b && r == IV_OK)
                r = iv_add(&l, &h, b->codes[o % nb], b->codes[o % nb], f - fx_frac(b->type));
            if (o == 0 || l < *lo)
                *lo = l;
            if (o == 0 || h > *hi)
                *hi = h;
        }
        return r;
    }
    case OP_ADD:
    case OP_SUB:
        if ((r = iv_add(lo, hi, al, ah, f - fa)) != IV_OK)
            return r;
        return n->op == OP_ADD ? iv_add(lo, hi, bl, bh, f - fb) : iv_add(lo, hi, -bh, -bl, f - fb);
    case OP_MUL: {
        fx_i128 p[4] = {al * bl, al * bh, ah * bl, ah * bh}, l = p[0], h = p[0];
        for (int k = 1; k < 4; k++) {
            l = p[k] < l ? p[k] : l;
            h = p[k] > h ? p[k] : h;
        }
        return iv_add(lo, hi, l, h, f - fa - fb);
    }
    case OP_CONCAT:
    case OP_MAXIMUM:
    case OP_MINIMUM: {   /* one of the two values */
        fx_i128 l2 = 0, h2 = 0;
        if ((r = iv_add(lo, hi, al, ah, f - fa)) != IV_OK || (r = iv_add(&l2, &h2, bl, bh, f - fb)) != IV_OK)
            return r;
        *lo = l2 < *lo ? l2 : *lo;
        *hi = h2 > *hi ? h2 : *hi;
        return IV_OK;
    }
    case OP_DOT:   /* its result: a cast of its accumulator's value */
        if (!acc)
            return IV_OP;
        return iv_add(lo, hi, fx_type_min(*acc), fx_type_max(*acc), f - fx_frac(*acc));
    default:
        /* values of the input, or zero (in every type's range) */
        return moves_values(n->op) ? iv_add(lo, hi, al, ah, f - fa) : IV_OP;
    }
}

/* The type that holds node n's value whose hls4ml 'auto' type (of its accum or result: var) is t.  Up to 64 bits: t.
 * Wider: t's fraction bits and the fewest integer bits that hold the value's exact interval (signed; t's modes).
 * An 'auto' type neither rounds nor overflows, so the value is the same in either; refused where that is not known
 * or the exact value itself needs more than 64 bits. */
static int hls_hold(Diag *d, const Graph *g, const Node *n, const char *var, FxType t, FxType *held)
{
    *held = t;
    if (t.w <= 64)
        return 0;
    fx_i128 lo, hi;
    bool res = !strcmp(var, "result");
    int f = fx_frac(t), r = exact_interval(g, n, f, res ? &n->accum : NULL, &lo, &hi), w = 1;
    while (r == IV_OK && w <= 64 && (lo < -((fx_i128)1 << (w - 1)) || hi > ((fx_i128)1 << (w - 1)) - 1))
        w++;
    char ts[64];
    fx_format(t, ts, sizeof ts);
    if (r == IV_OK && w <= 64) {
        held->w = (int16_t)w;
        held->i = (int16_t)(w - f);
        held->sign = 1;
        return 0;
    }
    const char *why = r == IV_OP ? "a value wider than 64 bits is held in fewer bits only for Dense, Conv, "
                                   "BatchNormalization, Add, Subtract, Multiply, Concatenate, Maximum, Minimum and the "
                                   "layers that move values"
                    : r == IV_ROUND ? "its fraction bits (Model.Precision.maximum) drop bits of the exact value"
                                    : "the exact value itself needs more than 64 bits";
    return diag_error(d, "%s: node '%s' (%s): expected an 'auto' type of at most 64 bits, got %d (%s %s) from "
                      "hls4ml's inference, and %s: give this layer explicit result/accum types, or cap them with "
                      "Model.Precision.maximum", g->file, n->name, n->src_op, t.w, var, ts, why);
}

/* A layer that reads a value whose hls4ml 'auto' type is wider than 64 bits: only those whose result depends on
 * the value alone (not on the declared type's bits, as a table's index does) are built. */
static int check_wide_reader(Diag *d, const Graph *g, const Node *n)
{
    for (int j = 0; j < n->nin; j++) {
        const Tensor *x = n->in[j] >= 0 ? &g->t[n->in[j]] : NULL;
        if (!x || !x->wide_decl)
            continue;
        switch (n->op) {
        case OP_DENSE:
        case OP_CONV1D:
        case OP_CONV2D:
        case OP_AFFINE:
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_CONCAT:
        case OP_MAXIMUM:
        case OP_MINIMUM:
            continue;
        default:
            if (moves_values(n->op))
                continue;
            break;
        }
        char ts[64];
        fx_format(x->decl, ts, sizeof ts);
        const char *p = x->producer >= 0 ? g->n[x->producer].name : x->name;
        return diag_error(d, "%s: node '%s' (%s): expected an input whose hls4ml 'auto' type has at most 64 bits, got "
                          "'%s' of %s: a %s's result depends on the bits of its input's declared type, which is not "
                          "built wider than 64 bits; give layer '%s' an explicit result type", g->file, n->name,
                          n->src_op, x->name, ts, op_names[n->op], p);
    }
    return 0;
}

static int ceil_log2(long v)
{
    int k = 0;
    while ((1L << k) < v)
        k++;
    return k;
}

static int imax(int a, int b) { return a > b ? a : b; }

/* x + b where x has sign sx, i integer bits and f fraction bits, b is of type tb: hls4ml's sum rule (one more
 * integer bit than the wider operand, a sign bit for an unsigned operand next to a signed one). */
static int hls_add(Diag *d, const Graph *g, const Node *n, int sx, int ix, int fx, FxType tb, int force_sign,
                   const FxType *cap, FxType *out)
{
    int i = imax(ix + (tb.sign && !sx), tb.i + (sx && !tb.sign)) + 1;
    return hls_type_cap(d, g, n, i + imax(fx, fx_frac(tb)), i, sx || tb.sign || force_sign, cap, out);
}

/* Dense / Conv: the products' widths plus ceil(log2(products per output)), then the bias added (hls4ml assumes
 * one, of type tb, even when the layer has none). */
static int hls_auto_sum(Diag *d, const Graph *g, const Node *n, FxType tb, const FxType *cap, FxType *out)
{
    FxType tx = hls_in(&g->t[n->in[0]]), tw = g->t[n->in[1]].type;
    const Tensor *w = &g->t[n->in[1]];
    long nout = w->const_dims[w->const_rank - 1], nin = ir_const_numel(w) / nout;   /* CONV: [taps*cin/groups][cout] */
    int lg = ceil_log2(nin);
    int wd = tw.w + tx.w + lg, i = tw.i + tx.i + lg, sign = tw.sign || tx.sign;
    return hls_add(d, g, n, sign, i, wd - i, tb, 0, cap, out);
}

/* LeakyReLU's, ELU's 'auto' alpha: the fewest integer and fraction bits holding v exactly (fraction bits
 * searched up to 32), at most 8 bits besides the sign, truncated. */
static FxType hls_const_type(double v)
{
    FxType t = {1, 1, 0, FXQ_TRN, FXO_WRAP};
    if (v == 0)
        return t;
    int lo = -32, hi = 32;   /* the smallest f with v 2^f an integer (32 if none below) */
    while (lo < hi - 1) {
        int mid = lo + (hi - lo) / 2;
        double s = ldexp(v, mid);
        if (nearbyint(s) != s)
            lo = mid;
        else
            hi = mid;
    }
    int f = hi, k = v < 0, i = (int)ceil(log2(fmax(v + ldexp(1.0, -f), -v)));
    int w = k + i + f < k + 8 ? k + i + f : k + 8;
    t.w = (int16_t)w;
    t.i = (int16_t)(k + i);
    t.sign = (uint8_t)k;
    return t;
}

/* Merges, BatchNormalization, pooling and the layers that move values: their 'auto' result. */
static int hls_auto_result(Diag *d, const Graph *g, const Node *n, FxType tb, const FxType *cap, FxType *out)
{
    FxType a = hls_in(&g->t[n->in[0]]);
    switch (n->op) {
    case OP_ADD:
    case OP_SUB:
    case OP_AVERAGE: {
        FxType b = hls_in(&g->t[n->in[1]]);
        return hls_add(d, g, n, a.sign, a.i, fx_frac(a), b, n->op == OP_SUB, cap, out);
    }
    case OP_MUL: {
        FxType b = hls_in(&g->t[n->in[1]]);
        return hls_type_cap(d, g, n, a.w + b.w, a.i + b.i, a.sign || b.sign, cap, out);
    }
    case OP_MAXIMUM:
    case OP_MINIMUM:
    case OP_CONCAT: {
        FxType b = hls_in(&g->t[n->in[1]]);
        if (fx_type_eq(a, b)) {
            *out = a;
            return 0;
        }
        int sign = a.sign || b.sign, ia = a.i + (sign && !a.sign), ib = b.i + (sign && !b.sign);
        /* hls4ml caps a concatenation's type, not a maximum's or minimum's */
        if (hls_type_cap(d, g, n, imax(fx_frac(a), fx_frac(b)) + imax(ia, ib), imax(ia, ib), sign,
                         n->op == OP_CONCAT ? cap : NULL, out) < 0)
            return -1;
        if (n->op == OP_CONCAT) {   /* a concatenation keeps a rounding and an overflow mode of its inputs */
            out->q = a.q != FXQ_TRN ? a.q : b.q;
            out->o = a.o != FXO_WRAP ? a.o : b.o;
        }
        return 0;
    }
    case OP_AFFINE:      /* x * scale + bias */
    case OP_LAYERNORM: { /* hls4ml types it as a BatchNormalization: input x scale + bias */
        FxType ts = g->t[n->in[1]].type;
        int sign = ts.sign || a.sign, w = a.w + ts.w, i = a.i + ts.i;
        return hls_add(d, g, n, sign, i, w - i, tb, 0, cap, out);
    }
    default:   /* pooling, padding, upsampling: the input's type */
        *out = a;
        return 0;
    }
}

/* Does the configuration give node n a precision at all (--precision,
 * Model, LayerType or LayerName)? */
static bool precision_configured(const Config *c, const Node *n)
{
    if (c->precision_opt[0])
        return true;
    if (!c->root)
        return false;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c->root, "Model"), *e;
    if (s && cJSON_GetObjectItemCaseSensitive(s, "Precision"))
        return true;
    if ((s = cJSON_GetObjectItemCaseSensitive(c->root, "LayerType")) &&
        (e = cJSON_GetObjectItemCaseSensitive(s, op_hls_class[n->op])) && cJSON_GetObjectItemCaseSensitive(e, "Precision"))
        return true;
    if ((s = cJSON_GetObjectItemCaseSensitive(c->root, "LayerName")) &&
        ((e = cJSON_GetObjectItemCaseSensitive(s, n->name)) || (n->src_name && (e = cJSON_GetObjectItemCaseSensitive(s, n->src_name))) ||
         (n->layer && (e = cJSON_GetObjectItemCaseSensitive(s, n->layer)))) &&
        cJSON_GetObjectItemCaseSensitive(e, "Precision"))
        return true;
    return false;
}

/* Quantized models (QONNX): an unquantized constant of a quantized layer with no
 * precision configured gets the narrowest type holding its values exactly, or,
 * failing that within maxw bits, maxw - 1 significant bits rounded to nearest. */
static FxType exact_const_type(const Tensor *c, int maxw)
{
    long n = ir_const_numel(c);
    double mx = 0;
    for (long k = 0; k < n; k++)
        mx = fabs(c->data[k]) > mx ? fabs(c->data[k]) : mx;
    FxType t = {1, 1, 1, FXQ_RND_CONV, FXO_SAT};
    if (mx == 0)
        return t;
    int e;
    frexp(mx, &e);                          /* mx < 2^e */
    for (int f = -e; f <= maxw - e - 1; f++) {
        int ok = 1;
        for (long k = 0; k < n && ok; k++) {
            double v = ldexp(c->data[k], f);
            ok = v == nearbyint(v);
        }
        if (ok) {
            double lo = 0, hi = 0;
            for (long k = 0; k < n; k++) {
                double v = ldexp(c->data[k], f);
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            int w = 1;
            while (w < maxw && (hi > ldexp(1.0, w - 1) - 1 || lo < -ldexp(1.0, w - 1)))
                w++;
            t.w = (int16_t)w;
            t.i = (int16_t)(w - f);
            return t;
        }
    }
    t.w = (int16_t)maxw;
    t.i = (int16_t)(e + 1);
    return t;
}

/* Quantized models: the result of x*s + t (AFFINE) or a + b (ADD) with no bit lost,
 * unless that needs more than maxw bits: then the low bits are rounded to nearest. */
static FxType exact_result_type(const Graph *g, const Node *n, int maxw)
{
    const Tensor *x = &g->t[n->in[0]];
    FxType tx = x->type;
    double xmin = (double)fx_type_min(tx), xmax = (double)fx_type_max(tx), lo = 0, hi = 0;
    int f = fx_frac(tx);
    if (n->op == OP_ADD) {
        FxType t2 = g->t[n->in[1]].type;
        int f2 = fx_frac(t2), ff = f > f2 ? f : f2;
        lo = ldexp(xmin, ff - f) + ldexp((double)fx_type_min(t2), ff - f2);
        hi = ldexp(xmax, ff - f) + ldexp((double)fx_type_max(t2), ff - f2);
        f = ff;
    } else {
        const Tensor *s = n->in[1] >= 0 ? &g->t[n->in[1]] : NULL, *b = n->in[2] >= 0 ? &g->t[n->in[2]] : NULL;
        int fs = s ? fx_frac(s->type) : 0, fb = b ? fx_frac(b->type) : 0;
        int ff = f + fs > fb ? f + fs : fb;
        long ne = ir_numel(x);
        for (long e = 0; e < ne; e++) {
            double sc = s ? (double)s->codes[e] : 1.0;
            double p1 = ldexp(xmin * sc, ff - f - fs), p2 = ldexp(xmax * sc, ff - f - fs);
            double l = p1 < p2 ? p1 : p2, h = p1 > p2 ? p1 : p2;
            if (b) {
                l += ldexp((double)b->codes[e], ff - fb);
                h += ldexp((double)b->codes[e], ff - fb);
            }
            lo = e == 0 || l < lo ? l : lo;
            hi = e == 0 || h > hi ? h : hi;
        }
        f = ff;
    }
    int w = 1;
    while (w < 120 && (hi > ldexp(1.0, w - 1) - 1 || lo < -ldexp(1.0, w - 1)))
        w++;
    FxType t = {(int16_t)w, (int16_t)(w - f), 1, FXQ_TRN, FXO_WRAP};
    if (w > maxw) {
        t.i = (int16_t)(t.i + 1);   /* room for rounding up */
        t.w = (int16_t)maxw;
        t.q = FXQ_RND_CONV;
        t.o = FXO_SAT;
    }
    return t;
}

/* Widths for exact typing that keep the emulator's products within 62 bits: constants of
 * an affine layer get what its input leaves (26..44 bits); a result read by a layer that
 * multiplies it gets 36 bits, else 60. */
static int qconst_width(const Graph *g, const Node *n)
{
    if (n->op != OP_AFFINE)
        return 26;
    int w = 60 - g->t[n->in[0]].type.w;
    return w < 26 ? 26 : w > 44 ? 44 : w;
}

static int qresult_width(const Graph *g, const Node *n)
{
    for (size_t k = 0; k < g->nn; k++) {
        const Node *r = &g->n[k];
        if (r->dead)
            continue;
        for (int j = 0; j < r->nin; j++)
            if (r->in[j] == n->out && r->op != OP_CLIP && r->op != OP_RELU && r->op != OP_RESHAPE)
                return 36;
    }
    return 60;
}

/* Quantized models: LeakyRelu computed exactly.  The exact type of alpha (at most 24 bits), and
 * of the result x*alpha / x once alpha_t is set; false when not possible within the emulator's
 * 62-bit products (then the configuration's types apply). */
static bool leaky_alpha_exact(const Node *n, FxType *ta)
{
    int fa = 0;
    while (fa < 40 && ldexp(n->alpha, fa) != nearbyint(ldexp(n->alpha, fa)))
        fa++;
    double ac = ldexp(n->alpha, fa);
    if (ac != nearbyint(ac) || fabs(ac) >= ldexp(1.0, 23))
        return false;
    int wa = 1;
    while (ac > ldexp(1.0, wa - 1) - 1 || ac < -ldexp(1.0, wa - 1))
        wa++;
    FxType t = {(int16_t)wa, (int16_t)(wa - fa), 1, FXQ_TRN, FXO_WRAP};
    *ta = t;
    return true;
}

static bool leaky_result_exact(const Graph *g, const Node *n, FxType *res)
{
    FxType ta;
    if (!leaky_alpha_exact(n, &ta) || !fx_type_eq(ta, n->alpha_t))
        return false;
    FxType tx = g->t[n->in[0]].type;
    int fa = fx_frac(ta);
    double ac = (double)fx_quant_double(n->alpha, ta);
    double xmin = (double)fx_type_min(tx), xmax = (double)fx_type_max(tx);
    double lo = fmin(ldexp(xmin, fa) * (xmin < 0 ? 0 : 1), fmin(xmin * ac, xmax * ac));
    double hi = fmax(ldexp(xmax, fa), fmax(xmin * ac, xmax * ac));
    lo = fmin(lo, 0);
    int w = 1;
    while (w < 64 && (hi > ldexp(1.0, w - 1) - 1 || lo < -ldexp(1.0, w - 1)))
        w++;
    if (w > 60 || tx.w + ta.w > 60)
        return false;
    FxType t = {(int16_t)w, (int16_t)(w - fx_frac(tx) - fa), 1, FXQ_TRN, FXO_WRAP};
    *res = t;
    return true;
}

/* The smallest signed type with f fractional bits holding codes lo..hi; false beyond 62 bits. */
static bool signed_fit(double lo, double hi, int f, FxType *out)
{
    int w = 1;
    while (w <= 62 && (hi > ldexp(1.0, w - 1) - 1 || lo < -ldexp(1.0, w - 1)))
        w++;
    FxType t = {(int16_t)w, (int16_t)(w - f), 1, FXQ_TRN, FXO_WRAP};
    *out = t;
    return w <= 62;
}

/* Bounds on the codes of tensor x: its type's range, or with narrow, tighter where x is a sigmoid's, hard
 * sigmoid's or tanh's output: the function's range, widened by one LSB of its table's and of its own type for
 * the roundings on the way (an entry rounded to table_t, then cast), when its type holds all of that (else a cast
 * may have wrapped: the whole range).  A recurrent cell's state update multiplies its gates by the state: with
 * 32-bit types these bounds keep the exact products and sums within 62 bits (declared wider, held in fewer). */
static void code_range(const Graph *g, int x, bool narrow, double *lo, double *hi)
{
    FxType t = g->t[x].type;
    *lo = (double)fx_type_min(t);
    *hi = (double)fx_type_max(t);
    const Node *p = g->t[x].producer >= 0 ? &g->n[g->t[x].producer] : NULL;
    if (!narrow || !p || (p->op != OP_SIGMOID && p->op != OP_HARDSIGMOID && p->op != OP_TANH))
        return;
    double m = 1.0 + ldexp(1.0, -fx_frac(t)) + (p->op == OP_HARDSIGMOID ? 0.0 : ldexp(1.0, -fx_frac(p->table_t)));
    double l = p->op == OP_TANH ? -ceil(ldexp(m, fx_frac(t))) : 0.0, h = ceil(ldexp(m, fx_frac(t)));
    if (l >= *lo && h <= *hi) {
        *lo = l;
        *hi = h;
    }
}

/* The exact result of n = a * b, a + b, a - b (elementwise) or concat(a, b): no bit lost; false beyond
 * 62 bits.  narrow: the inputs' codes bounded by code_range() (the type then holds the exact value only). */
static bool exact_merge_type(const Graph *g, const Node *n, bool narrow, FxType *out)
{
    FxType ta = g->t[n->in[0]].type, tb = g->t[n->in[1]].type;
    int fa = fx_frac(ta), fb = fx_frac(tb), f = fa > fb ? fa : fb;
    double al, ah, bl, bh;
    code_range(g, n->in[0], narrow, &al, &ah);
    code_range(g, n->in[1], narrow, &bl, &bh);
    if (n->op == OP_MUL) {
        double p[4] = {al * bl, al * bh, ah * bl, ah * bh}, lo = p[0], hi = p[0];
        for (int k = 1; k < 4; k++) {
            lo = p[k] < lo ? p[k] : lo;
            hi = p[k] > hi ? p[k] : hi;
        }
        return signed_fit(lo, hi, fa + fb, out);
    }
    al = ldexp(al, f - fa);
    ah = ldexp(ah, f - fa);
    bl = ldexp(bl, f - fb);
    bh = ldexp(bh, f - fb);
    if (n->op == OP_SUB)
        return signed_fit(al - bh, ah - bl, f, out);
    if (n->op == OP_ADD)
        return signed_fit(al + bl, ah + bh, f, out);
    return signed_fit(al < bl ? al : bl, ah > bh ? ah : bh, f, out);   /* CONCAT */
}

/* The type holding v exactly with at most 24 bits; false if none. */
static bool exact_value_type(double v, FxType *out)
{
    int f = 0;
    while (f < 40 && ldexp(v, f) != nearbyint(ldexp(v, f)))
        f++;
    double m = ldexp(v, f);
    if (m != nearbyint(m) || fabs(m) >= ldexp(1.0, 23))
        return false;
    return signed_fit(m, m, f, out);
}

/* SatOrder / --sat-order: a Dense or Conv whose accumulator saturates sums in hls4ml's order, each addition
 * cast to the accumulator (ACC_* in ir.h), when the mode is hls4ml; nothing changes for a wrapping one. */
static int sat_order(const Graph *g, Diag *d, const Config *c, Node *n)
{
    n->acc_chain = ACC_EXACT;
    if ((n->op != OP_DENSE && n->op != OP_DOT && n->op != OP_CONV1D && n->op != OP_CONV2D) || n->accum.o == FXO_WRAP)
        return 0;
    if (!config_hls4ml_mode(c, n, "SatOrder", c->sat_order_opt))
        return 0;
    if (n->reuse > 1 && !strcmp(n->strategy, "Resource"))
        return diag_error(d, "%s: node '%s' (%s): --sat-order hls4ml (SatOrder) with Strategy Resource and "
                          "ReuseFactor %d: hls4ml sums in the order of its reuse loop, which is not built; use "
                          "Strategy Latency, --sat-order exact or a wrapping accum type", g->file, n->name, n->src_op,
                          n->reuse);
    /* hls4ml reads an ONNX Gemm/MatMul+Add as a Dense without bias followed by a bias layer; a recurrent
     * layer's input and state products are each a Dense with its bias first */
    bool split = n->op == OP_DENSE && (!strcmp(n->src_op, "Gemm") || !strcmp(n->src_op, "MatMul"));
    n->acc_chain = split ? ACC_BIAS_LAST : ACC_BIAS_FIRST;
    return 0;
}

/* The Dot node whose products node n computes (keras.c's import_dot: a MUL of the layer, read only by the
 * layer's OP_DOT), or NULL. */
static const Node *dot_of_product(const Graph *g, const Node *n)
{
    int first;
    if (n->op != OP_MUL || !n->layer || ir_consumers(g, n->out, &first) != 1)
        return NULL;
    const Node *s = &g->n[first];
    return s->op == OP_DOT && !strcmp(s->name, n->layer) ? s : NULL;
}

/* Skip: true leaves a softmax out, as hls4ml's skip does: its readers and the graph's outputs take its input
 * (in that input's type).  Here, after the LayerName check, so that the entry names a layer of the model. */
static int skip_layers(Graph *g, Diag *d, const Config *c)
{
    int skipped = 0;
    for (size_t k = 0; k < g->nn; k++) {
        Node *n = &g->n[k];
        if (n->dead || !config_skip(c, n))
            continue;
        if (n->op != OP_SOFTMAX)
            return diag_error(d, "%s: node '%s' (%s): Skip: true: expected a softmax layer (only a softmax can be "
                                 "left out), got %s", g->file, n->name, n->src_op, op_names[n->op]);
        if (g->t[n->in[0]].producer < 0 || g->n[g->t[n->in[0]].producer].op == OP_INPUT)
            return diag_error(d, "%s: node '%s' (%s): Skip: true: expected the softmax to follow a layer, got it on "
                                 "the model's input", g->file, n->name, n->src_op);
        ir_replace_uses(g, n->out, n->in[0]);
        n->dead = true;
        skipped = 1;
    }
    if (skipped)
        ir_compact(g);
    return 0;
}

/* An Embedding's index type: one with fractional bits is read as hls4ml reads it (ir_embed_pos), with one line
 * saying so; refused where the position's arithmetic could leave 62 bits. */
static int embed_index_check(const Graph *g, Diag *d, const Node *n)
{
    FxType t = g->t[n->in[0]].type;
    const Tensor *w = &g->t[n->in[1]];
    long rows = w->const_dims[0], dd = w->const_dims[1];
    int f = fx_frac(t), b = 1;
    while ((1L << b) < rows)
        b++;
    if (f <= 0)
        return 0;
    char s[64];
    fx_format(t, s, sizeof s);
    if (t.w + ceil_log2(dd) + 1 > 61 || f + ceil_log2(dd) > 60)
        return diag_error(d, "%s: node '%s' (%s): expected an index type of at most %d bits, got %s for input '%s' (give "
                             "it an integer type such as ufixed<%d,%d>)", g->file, n->name, n->src_op,
                          60 - ceil_log2(dd), s, g->t[n->in[0]].name, b, b);
    diag_warn(d, "%s: node '%s' (%s): index type %s has fractional bits: a fractional index x reads table position "
                 "trunc(x * %ld + column), as hls4ml does (mixing rows; RTL refuses it); give input '%s' an integer "
                 "type such as ufixed<%d,%d> (hls4ml's ap_uint<%d>)", g->file, n->name, n->src_op, s, dd,
              g->t[n->in[0]].name, b, b, b);
    return 0;
}

int pass_precision(Graph *g, Diag *d, const Config *c)
{
    bool is_auto;
    FxType t;
    int warned_resource = 0;
    if (config_check_layers(c, d, g) < 0)
        return -1;
    if (skip_layers(g, d, c) < 0)
        return -1;
    FxType cap, *capp = NULL;   /* Model.Precision.maximum: a cap on the types hls4ml infers */
    int has_cap = config_max_precision(c, d, &cap);
    if (has_cap < 0)
        return -1;
    if (has_cap)
        capp = &cap;
    for (size_t k = 0; k < g->nn; k++) {
        Node *n = &g->n[k];
        if (n->dead)
            continue;
        unsigned vars = op_vars[n->op];
        bool hls_auto = config_auto_hls4ml(c, n);
        if (check_wide_reader(d, g, n) < 0)
            return -1;
        if (n->op == OP_EMBED && embed_index_check(g, d, n) < 0)
            return -1;
        FxType bias_t = {0, 0, 1, FXQ_TRN, FXO_WRAP};   /* the bias type, for hls4ml's 'auto' inference */
        /* how constants are quantized: layer settings, then --weights, then Model */
        n->weights_hls4ml = config_hls4ml_mode(c, n, "WeightQuant", c->weights_opt);
        /* constants first: the accumulator and result may depend on them */
        /* a quantized model's layer with no precision configured computes exactly */
        bool qexact = n->quantized && !precision_configured(c, n) &&
                      (n->op == OP_DENSE || n->op == OP_AFFINE || n->op == OP_CONV1D || n->op == OP_CONV2D);
        if (vars & ETN_V_WEIGHT) {
            if (get(c, d, n, "weight", &t, &is_auto) < 0)
                return -1;
            if (is_auto && hls_auto && n->op == OP_PRELU)
                t = g->t[n->in[0]].type;   /* hls4ml's 'auto' slopes: the input's type */
            else if (is_auto && hls_auto && n->op == OP_THRESHRELU)
                t = g->t[n->in[0]].type;   /* hls4ml's 'auto' theta: the input's type */
            else if (is_auto && hls_auto && (n->op == OP_LEAKYRELU || n->op == OP_ELU))
                t = hls_const_type(n->alpha);
            else if (is_auto)
                return no_auto(d, g, n, "weight");
            if (qexact && n->in[1] >= 0)
                t = exact_const_type(&g->t[n->in[1]], qconst_width(g, n));
            if (n->op == OP_LEAKYRELU && n->quantized && !precision_configured(c, n) && leaky_alpha_exact(n, &n->alpha_t)) {
                /* a quantized model's leaky relu with no precision configured: exact alpha and result */
            } else if (n->op == OP_HARDSIGMOID && n->quantized && !precision_configured(c, n) &&
                       exact_value_type(n->alpha, &n->alpha_t)) {
                /* a quantized model's hard sigmoid (QKeras' recurrent layers) with no precision configured: exact */
            } else if (n->op == OP_LEAKYRELU || n->op == OP_HARDSIGMOID || n->op == OP_ELU || n->op == OP_THRESHRELU) {
                n->alpha_t = t;   /* alpha / slope / theta type (hls4ml's param_t) */
            } else if (n->in[1] >= 0) {
                type_const(g, &n->in[1], t, n->weights_hls4ml, d, n, "weight");
            }
        }
        if (vars & ETN_V_EMBED) {   /* hls4ml's 'embeddings' ('auto': the default, as hls4ml's) */
            if (get(c, d, n, "embeddings", &t, &is_auto) < 0)
                return -1;
            if (is_auto)
                return no_auto(d, g, n, "embeddings");
            type_const(g, &n->in[1], t, n->weights_hls4ml, d, n, "embeddings");
        }
        if (vars & ETN_V_BIAS) {
            if (get(c, d, n, "bias", &t, &is_auto) < 0)
                return -1;
            if (is_auto)
                return no_auto(d, g, n, "bias");
            bias_t = t;
            if (qexact && n->in[2] >= 0)
                t = exact_const_type(&g->t[n->in[2]], qconst_width(g, n) - 8);   /* room to align with the product */
            if (n->op == OP_HARDSIGMOID && n->quantized && !precision_configured(c, n) &&
                exact_value_type(n->beta, &n->beta_t)) {
                /* exact, as the slope */
            } else if (n->op == OP_HARDSIGMOID)
                n->beta_t = t;    /* shift type */
            else if (n->in[2] >= 0)
                type_const(g, &n->in[2], t, n->weights_hls4ml, d, n, "bias");
        }
        /* a quantized dense layer with no precision configured sums exactly */
        bool sums = n->op == OP_DENSE || n->op == OP_CONV1D || n->op == OP_CONV2D;
        bool pool = n->op == OP_MAXPOOL1D || n->op == OP_MAXPOOL2D || n->op == OP_AVGPOOL1D || n->op == OP_AVGPOOL2D;
        bool exact = sums && n->quantized && !precision_configured(c, n);
        /* a quantized model's max pooling with no precision configured keeps its input's type */
        bool qmax = (n->op == OP_MAXPOOL1D || n->op == OP_MAXPOOL2D) && n->quantized && !precision_configured(c, n);
        if (sums && n->accum_pinned) {
            /* the front end fixed it (hls4ml's binary/ternary dense) */
        } else if (n->op == OP_DOT) {
            /* hls4ml infers no 'auto' accum for a Dot (only its result) */
            if (get(c, d, n, "accum", &t, &is_auto) < 0 || (is_auto && no_auto(d, g, n, "accum") < 0))
                return -1;
            n->accum = t;
        } else if (sums || pool || n->op == OP_SOFTMAX || n->op == OP_LAYERNORM) {
            if (exact || qmax)
                is_auto = true;
            else if (get(c, d, n, "accum", &t, &is_auto) < 0)
                return -1;
            if (is_auto && sums && hls_auto) {
                if (hls_auto_sum(d, g, n, bias_t, capp, &t) < 0 || hls_hold(d, g, n, "accum", t, &t) < 0)
                    return -1;
            } else if (is_auto && sums) {
                if (auto_accum(d, g, n, &t) < 0)
                    return -1;
            } else if (is_auto && pool && hls_auto) {
                /* max: the input type; average: room for the window's sum, and as many more fraction bits */
                t = hls_in(&g->t[n->in[0]]);
                if (n->op == OP_AVGPOOL1D || n->op == OP_AVGPOOL2D) {
                    int e = ceil_log2((long)n->kernel[0] * n->kernel[1]);
                    if (hls_type(d, g, n, t.w + 2 * e, t.i + e, t.sign, &t) < 0)
                        return -1;
                }
                if (hls_hold(d, g, n, "accum", t, &t) < 0)
                    return -1;
            } else if (is_auto && pool) {
                /* max: the input type; average: room for the sum of the window */
                t = g->t[n->in[0]].type;
                if (n->op == OP_AVGPOOL1D || n->op == OP_AVGPOOL2D) {
                    int extra = 0;
                    while ((1L << extra) < (long)n->kernel[0] * n->kernel[1])
                        extra++;
                    t.w = (int16_t)(t.w + extra);
                    t.i = (int16_t)(t.i + extra);
                    t.q = FXQ_TRN;
                    t.o = FXO_WRAP;
                }
            } else if (is_auto) {
                return no_auto(d, g, n, "accum");
            }
            n->accum = t;
        }
        if (vars & ETN_V_TABLE) {
            if (get(c, d, n, "table", &t, &is_auto) < 0)
                return -1;
            if (is_auto)
                return no_auto(d, g, n, "table");
            n->table_t = t;
        }
        if (vars & ETN_V_EXP) {
            if (get(c, d, n, "exp_table", &t, &is_auto) < 0 || (is_auto && no_auto(d, g, n, "exp_table") < 0))
                return -1;
            n->exp_t = t;
            if (get(c, d, n, "inv_table", &t, &is_auto) < 0 || (is_auto && no_auto(d, g, n, "inv_table") < 0))
                return -1;
            n->inv_t = t;
            if (get(c, d, n, "inv_inp", &t, &is_auto) < 0 || (is_auto && no_auto(d, g, n, "inv_inp") < 0))
                return -1;
            n->inv_inp_t = t;
        }
        if (vars & (ETN_V_TABLE | ETN_V_EXP)) {
            int ts;
            ts = config_table_size(c, n);
            n->table_size = ts;
            /* layer settings win over --tables, which wins over Model */
            const char *mode = config_layer_str(c, n, "Tables");
            if (!mode && c->tables_opt >= 0)
                mode = c->tables_opt == TABLES_HLS4ML ? "hls4ml" : "exact";
            /* default: exact sigmoid/tanh; softmax as hls4ml's 'stable' tables, the
             * form that exists in hardware (exact softmax is emulator/C only) */
            if (!mode)
                mode = config_str(c, NULL, "Tables", n->op == OP_SOFTMAX ? "hls4ml" : "exact");
            n->tables = !strcmp(mode, "hls4ml") ? TABLES_HLS4ML : TABLES_EXACT;
        }
        if (n->op == OP_SOFTMAX) {
            const char *impl = config_layer_key_str(c, n, "implementation");   /* Implementation or implementation */
            if (!impl)
                impl = "stable";
            n->smax_impl = !strcmp(impl, "latency") ? SMAX_LATENCY : !strcmp(impl, "argmax") ? SMAX_ARGMAX : SMAX_STABLE;
            if (n->smax_impl == SMAX_ARGMAX)
                n->tables = TABLES_HLS4ML;   /* no tables: the one-hot is the same in either mode */
            if (n->smax_impl == SMAX_LATENCY && n->tables != TABLES_HLS4ML)
                return diag_error(d, "%s: node '%s' (%s): Implementation latency is hls4ml's table softmax: expected "
                                     "Tables: hls4ml for this layer, got exact", g->file, n->name, n->src_op);
        }
        if (n->op == OP_LAYERNORM) {
            n->table_range = config_table_range(c, n);
            FxType at = n->accum;
            if (n->tables == TABLES_EXACT && at.w - (at.sign ? 1 : 0) > 16) {
                diag_warn(d, "%s: node '%s' (%s): exact tables: an accum of %d bits has more than 2^16 variance codes; "
                          "hls4ml's table (table_size %d, TableRangePower2 %d) is used for this layer", g->file, n->name,
                          n->src_op, at.w, n->table_size, n->table_range);
                n->tables = TABLES_HLS4ML;
            }
        }
        if (n->op == OP_THRESHOLD) {
            /* thresholds in the input's type, floored to its LSB (as hls4ml computes them), then its overflow mode */
            FxType tt = g->t[n->in[0]].type;
            tt.q = FXQ_TRN;
            for (int j = 1; j < 3; j++)
                if (n->in[j] >= 0)
                    type_const(g, &n->in[j], tt, false, NULL, n, "threshold");
        }
        if (config_int(c, d, n, "ReuseFactor", 1, &n->reuse) < 0)
            return -1;
        n->strategy = config_strategy(c, n);
        n->cell.is_static = config_rnn_static(c, n);
        /* a recurrent layer's h R products: RecurrentReuseFactor (hls4ml's), else the layer's ReuseFactor; in a
         * bidirectional layer each direction's own (Forward/Backward[Recurrent]ReuseFactor) before those */
        if (n->cell.role == RNN_ROLE_HDENSE && config_int(c, d, n, "RecurrentReuseFactor", n->reuse, &n->reuse) < 0)
            return -1;
        if (n->cell.dir != RNN_DIR_NONE && (n->cell.role == RNN_ROLE_XDENSE || n->cell.role == RNN_ROLE_HDENSE)) {
            static const char *const drf[2][2] = {{"ForwardReuseFactor", "ForwardRecurrentReuseFactor"},
                                                  {"BackwardReuseFactor", "BackwardRecurrentReuseFactor"}};
            const char *key = drf[n->cell.dir == RNN_DIR_BACKWARD][n->cell.role == RNN_ROLE_HDENSE];
            if (config_int(c, d, n, key, n->reuse, &n->reuse) < 0)
                return -1;
        }
        if (sat_order(g, d, c, n) < 0)
            return -1;
        /* ReuseFactor > 1 on Dense and Conv folds the layer in the hardware layer (src/hw/fold.c) */
        bool mults = n->op == OP_DENSE || n->op == OP_CONV1D || n->op == OP_CONV2D;
        if (mults && n->reuse == 1 && !strcmp(n->strategy, "Resource") && !warned_resource) {
            warned_resource = 1;
            diag_warn(d, "%s: node '%s' (%s): Strategy Resource at ReuseFactor 1 builds the same fully parallel "
                      "circuit as Latency (weights as constants, no ROM); this holds for every layer", g->file, n->name,
                      n->src_op);
        }

        /* the result type */
        Tensor *out = &g->t[n->out];
        out->wide_decl = false;
        /* a recurrent layer's state update, and a quantized one's (QKeras) cell with no precision configured,
         * compute exactly */
        bool rnn_exact = !config_names_node(c, n) &&
                         (n->cell.role == RNN_ROLE_EXACT || n->cell.role == RNN_ROLE_MOVE ||
                          (n->cell.role != RNN_ROLE_NONE && n->quantized && !precision_configured(c, n)));
        if (n->op == OP_RESHAPE || n->op == OP_TRANSPOSE || n->moves) {
            out->type = g->t[n->in[0]].type;   /* a reshape or transpose moves bits without changing them */
            out->wide_decl = g->t[n->in[0]].wide_decl;
            out->decl = g->t[n->in[0]].decl;
        } else if (out->type_pinned) {
            /* a quantizer in the model file fixed this type: a result set for this node in LayerName is said to
             * change nothing (HGQ2's quantizers and table layers, QONNX's Quant) */
            if (config_names_node(c, n) && config_layer_sets_var(c, n, "result")) {
                char ts[64];
                fx_format(out->type, ts, sizeof ts);
                diag_warn(d, "%s: LayerName.%s.Precision.result accepted; it changes nothing here: node '%s' (%s) has "
                             "its type %s from the model's quantizer (change the quantizer to change it)",
                          g->file, n->name, n->name, n->src_op, ts);
            }
        } else if (dot_of_product(g, n) && !config_names_node(c, n)) {
            /* a Dot's products: each cast to the layer's accum, as hls4ml's dot1d stores them */
            if (get(c, d, dot_of_product(g, n), "accum", &t, &is_auto) < 0 ||
                (is_auto && no_auto(d, g, dot_of_product(g, n), "accum") < 0))
                return -1;
            out->type = t;
        } else if (n->op == OP_DOT) {
            if (get(c, d, n, "result", &t, &is_auto) < 0)
                return -1;
            const Node *pm = g->t[n->in[0]].producer >= 0 ? &g->n[g->t[n->in[0]].producer] : NULL;
            if (is_auto && hls_auto && pm && pm->op == OP_MUL) {
                /* hls4ml: the inputs' widths and integer bits added, and ceil(log2(n)) more of each */
                FxType a = hls_in(&g->t[pm->in[0]]), b = hls_in(&g->t[pm->in[1]]);
                int e = ceil_log2(ir_numel(&g->t[n->in[0]]));
                if (hls_type_cap(d, g, n, a.w + b.w + e, a.i + b.i + e, a.sign || b.sign, capp, &t) < 0)
                    return -1;
                if (t.w > 64) {
                    out->wide_decl = true;
                    out->decl = t;
                    if (hls_hold(d, g, n, "result", t, &t) < 0)
                        return -1;
                }
            } else if (is_auto) {
                t = n->accum;   /* etchnn's 'auto': the accumulator */
            }
            out->type = t;
        } else if (rnn_exact && n->op == OP_PAD) {
            out->type = g->t[n->in[0]].type;   /* the step's input row */
        } else if (rnn_exact && (n->op == OP_MUL || n->op == OP_ADD || n->op == OP_SUB || n->op == OP_CONCAT)) {
            /* wider than 62 bits from the types alone (32-bit types): held in fewer where the gates' ranges
             * bound the value (code_range) */
            if (!exact_merge_type(g, n, false, &out->type) && !exact_merge_type(g, n, true, &out->type)) {
                char s1[64], s2[64];
                fx_format(g->t[n->in[0]].type, s1, sizeof s1);
                fx_format(g->t[n->in[1]].type, s2, sizeof s2);
                return diag_error(d, "%s: node '%s' (%s): expected the exact %s of %s and %s within 62 bits, got more; "
                                  "narrow the layer's accum and result types (or give this node a precision)", g->file,
                                  n->name, n->src_op, n->op == OP_MUL ? "product" : "sum", s1, s2);
            }
        } else if (rnn_exact && n->op == OP_HARDSIGMOID &&
                   n->quantized && !precision_configured(c, n)) {
            /* clip(x slope + shift, 0, 1) exactly: the finer LSB of the two terms */
            int fx = fx_frac(g->t[n->in[0]].type) + fx_frac(n->alpha_t), fb = fx_frac(n->beta_t);
            signed_fit(0, ldexp(1.0, fx > fb ? fx : fb), fx > fb ? fx : fb, &out->type);
        } else if (rnn_exact && n->op == OP_DENSE) {
            out->type = n->accum;   /* its exact ('auto') accumulator */
        } else if (n->quantized && !precision_configured(c, n) && (n->op == OP_AFFINE || n->op == OP_ADD)) {
            out->type = exact_result_type(g, n, qresult_width(g, n));
        } else if (n->quantized && !precision_configured(c, n) && n->nin == 2 &&
                   (n->op == OP_SUB || n->op == OP_MUL || n->op == OP_MAXIMUM || n->op == OP_MINIMUM)) {
            /* a quantized model's (HGQ2) difference, product, maximum or minimum with no precision configured:
             * exact */
            if (!exact_merge_type(g, n, false, &out->type)) {
                char s1[64], s2[64];
                fx_format(g->t[n->in[0]].type, s1, sizeof s1);
                fx_format(g->t[n->in[1]].type, s2, sizeof s2);
                return diag_error(d, "%s: node '%s' (%s): expected the exact result of %s and %s within 62 bits, got "
                                  "more; give this node a precision", g->file, n->name, n->src_op, s1, s2);
            }
        } else if (n->op == OP_LEAKYRELU && n->quantized && !precision_configured(c, n) &&
                   leaky_result_exact(g, n, &out->type)) {
            /* exact */
        } else if (qmax || (n->quantized && !precision_configured(c, n) && n->op == OP_RELU)) {
            out->type = g->t[n->in[0]].type;   /* exact */
        } else {
            if (exact)
                is_auto = true;
            else if (get(c, d, n, "result", &t, &is_auto) < 0)
                return -1;
            if (n->result_auto && !is_auto && config_names_node(c, n))
                diag_warn(d, "%s: node '%s' (%s): the configured result precision is not used: this alpha layer's "
                             "result is 'auto', as hls4ml sets it", g->file, n->name, n->src_op);
            if (n->result_auto)
                is_auto = true;
            if (is_auto && hls_auto && (sums ? hls_auto_sum(d, g, n, bias_t, capp, &t)   /* apart from the accum */
                                             : hls_auto_result(d, g, n, bias_t, capp, &t)) < 0)
                return -1;
            if (is_auto && hls_auto && t.w > 64) {   /* hls4ml declares t; the value is held in fewer bits */
                out->wide_decl = true;
                out->decl = t;
                if (hls_hold(d, g, n, "result", t, &t) < 0)
                    return -1;
            } else if (is_auto && !hls_auto && n->result_auto) {
                t = exact_result_type(g, n, qresult_width(g, n));   /* etchnn's 'auto': exact */
            } else if (is_auto && !hls_auto) {
                if (!sums && !pool)
                    return no_auto(d, g, n, "result");
                t = n->accum;
            }
            out->type = t;
        }
        out->has_type = true;
    }
    for (size_t k = 0; k < g->nt; k++)
        if (!g->t[k].is_const && g->t[k].producer >= 0 && !g->t[k].has_type)
            return diag_error(d, "internal: tensor '%s' has no type after precision", g->t[k].name);
    return 0;
}
