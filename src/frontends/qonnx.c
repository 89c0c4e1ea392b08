/* qonnx.c — QONNX quantizers in the ONNX reader.
 *
 * Quant(x, scale, zero_point, bit_width; signed, narrow, rounding_mode):
 *   y = clamp(x/scale + zero_point, qmin, qmax), rounded, minus zero_point, times scale,
 *   with qmin/qmax the signed/unsigned, narrow or full range of bit_width bits
 *   (1-bit signed: the sign, +1 for x/scale + zero_point >= 0).
 * BipolarQuant(x, scale): scale * (x >= 0 ? +1 : -1).
 * Trunc(x, scale, zero_point, in_bits, [out_scale,] out_bits; rounding_mode):
 *   the low bits of an integer on the scale's grid dropped with the rounding mode.
 *
 * On a constant (weights, biases) the quantizer is evaluated here, as the qonnx
 * executor does it (float32 quotient, then clamp and rounding).  On data it
 * becomes a CLIP whose result type is pinned: with a power-of-two scale and no
 * zero point, the clip bounds are the quantizer's range and the type is
 * fixed<bits, bits + log2(scale)> (SAT_SYM when narrow and signed) with the
 * rounding mode as quantization mode — the cast then is the quantizer.  Other
 * scales and zero points get explicit scaling steps (AFFINE nodes named
 * <layer>_prescale / <layer>_rescale, source op "Quant (scale ...)") around an
 * integer-valued cast.  CEIL is floor of the negation.  The sign of BipolarQuant
 * is a cast to fixed<1,1,TRN,SAT> (0 for x >= 0, -1 below), then 2*v + 1.
 *
 * qonnx_finish then factors non-power-of-two weight scales out of dense layers
 * (integer weights, then a per-output scaling step) and marks every layer of a
 * quantized model `quantized`, so that the precision pass types unquantized
 * constants and intermediate results exactly rather than from the default. */
#include "frontends/qonnx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QMAX_RANK (IR_MAX_RANK - 1)
#define MODE_CEIL 100   /* rounding mode not among FXQ_*: floor of the negation */
#define MODE_UP 101     /* away from zero: constants only */

static int qerr(QonnxNode *q, const Onnx__NodeProto *n, const char *fmt, ...) ETN_PRINTF(3, 4);
static int qerr(QonnxNode *q, const Onnx__NodeProto *n, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return diag_error(q->d, "%s: node '%s' (%s): %s", q->file, q->lname, n->op_type ? n->op_type : "", msg);
}

static int is_qdomain(const char *d)
{
    return d && (!strcmp(d, "qonnx.custom_op.general") || !strcmp(d, "onnx.brevitas") ||
                 !strcmp(d, "finn.custom_op.general"));
}

int qonnx_is_quantizer(const Onnx__NodeProto *n) { return is_qdomain(n->domain); }

int qonnx_claims(const Onnx__NodeProto *n)
{
    const char *op = n->op_type ? n->op_type : "";
    if (is_qdomain(n->domain))
        return 1;
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
        return 0;
    return !strcmp(op, "Shape") || !strcmp(op, "Gather") || !strcmp(op, "Concat");
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t k = 0; k < n->n_attribute; k++)
        if (n->attribute[k]->name && !strcmp(n->attribute[k]->name, name))
            return n->attribute[k];
    return NULL;
}

static long attr_int(const Onnx__NodeProto *n, const char *name, long def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a ? (long)a->i : def;
}

/* Every attribute of n is one of the allowed names (NULL-terminated). */
static int check_attrs(QonnxNode *q, const Onnx__NodeProto *n, const char *const *allowed, const char *list)
{
    for (size_t k = 0; k < n->n_attribute; k++) {
        const char *nm = n->attribute[k]->name ? n->attribute[k]->name : "";
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(nm, *a);
        if (!ok)
            return *allowed ? qerr(q, n, "expected attributes among %s, got unknown attribute '%s'", list, nm)
                            : qerr(q, n, "expected no attributes, got unknown attribute '%s'", nm);
    }
    return 0;
}

static int rounding_mode(QonnxNode *q, const Onnx__NodeProto *n, const char *def, int *mode)
{
    const Onnx__AttributeProto *a = attr(n, "rounding_mode");
    char s[32] = {0};
    if (a && a->has_s) {
        size_t len = a->s.len < sizeof s - 1 ? a->s.len : sizeof s - 1;
        for (size_t k = 0; k < len; k++)
            s[k] = (char)(a->s.data[k] >= 'a' && a->s.data[k] <= 'z' ? a->s.data[k] - 32 : a->s.data[k]);
    } else {
        snprintf(s, sizeof s, "%s", def);
    }
    static const struct { const char *name; int mode; } modes[] = {
        {"ROUND", FXQ_RND_CONV}, {"HALF_EVEN", FXQ_RND_CONV}, {"FLOOR", FXQ_TRN},      {"CEIL", MODE_CEIL},
        {"ROUND_TO_ZERO", FXQ_TRN_ZERO}, {"DOWN", FXQ_TRN_ZERO}, {"HALF_UP", FXQ_RND_INF}, {"HALF_DOWN", FXQ_RND_ZERO},
        {"UP", MODE_UP},
    };
    for (size_t k = 0; k < ETN_COUNTOF(modes); k++)
        if (!strcmp(s, modes[k].name)) {
            *mode = modes[k].mode;
            return 0;
        }
    return qerr(q, n, "expected rounding_mode ROUND, HALF_EVEN, FLOOR, CEIL, ROUND_TO_ZERO, DOWN, UP, HALF_UP or HALF_DOWN, "
                      "got '%s'", s);
}

/* Round v (already clamped) as mode does. */
static double round_mode(double v, int mode)
{
    switch (mode) {
    case FXQ_RND_CONV: return nearbyint(v);   /* default FP rounding: ties to even */
    case FXQ_TRN: return floor(v);
    case MODE_CEIL: return ceil(v);
    case FXQ_TRN_ZERO: return trunc(v);
    case MODE_UP: return v < 0 ? -ceil(-v) : ceil(v);
    case FXQ_RND_INF: return v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
    default: return v < 0 ? -ceil(-v - 0.5) : ceil(v - 0.5);   /* FXQ_RND_ZERO: ties toward zero */
    }
}

static void shape_str(int rank, const int *dims, char *out, size_t n)
{
    size_t len = (size_t)snprintf(out, n, "[");
    for (int k = 0; k < rank && len < n; k++)
        len += (size_t)snprintf(out + len, n - len, "%s%d", k ? "," : "", dims[k]);
    if (len < n)
        snprintf(out + len, n - len, "]");
}

static int is_pow2(double v, int *e)
{
    int ex;
    if (!(v > 0) || frexp(v, &ex) != 0.5)
        return 0;
    *e = ex - 1;
    return 1;
}

/* A constant input: its tensor, or an error naming what it is. */
static const Tensor *const_in(QonnxNode *q, const Onnx__NodeProto *n, const int *in, int nin, int k, const char *what)
{
    if (k >= nin || in[k] < 0) {
        if ((size_t)k < n->n_input)
            qerr(q, n, "expected input %d (%s), got an empty name (an omitted input)", k, what);
        else
            qerr(q, n, "expected input %d (%s), got %zu input%s", k, what, n->n_input, n->n_input == 1 ? "" : "s");
        return NULL;
    }
    const Tensor *t = &q->g->t[in[k]];
    if (!t->is_const) {
        qerr(q, n, "expected a constant %s (input %d), got data tensor '%s' (computed scales are not supported)", what, k,
             t->name);
        return NULL;
    }
    return t;
}

static int const_scalar(QonnxNode *q, const Onnx__NodeProto *n, const int *in, int nin, int k, const char *what, double *v)
{
    const Tensor *t = const_in(q, n, in, nin, k, what);
    if (!t)
        return -1;
    long ne = ir_const_numel(t);
    for (long e = 1; e < ne; e++)
        if (t->data[e] != t->data[0])
            return qerr(q, n, "expected a single %s value, got %ld values (%g and %g differ)", what, ne, t->data[0],
                        t->data[e]);
    if (ne < 1)
        return qerr(q, n, "expected a %s value, got an empty tensor", what);
    *v = t->data[0];
    return 0;
}

/* ---- graph building ------------------------------------------------------- */

static const char *uniq(Graph *g, const char *base)
{
    const char *cand = base;
    for (int s = 1;; s++) {
        int clash = 0;
        for (size_t k = 0; k < g->nn && !clash; k++)
            clash = !strcmp(g->n[k].name, cand);
        if (!clash)
            return cand;
        cand = arena_printf(&g->arena, "%s_%d", base, s);
    }
}

static int add_node(QonnxNode *q, Op op, const char *name, const char *src, int *in, int nin, const char *outname)
{
    Tensor *tx = &q->g->t[in[0]];
    int rank = tx->rank, dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    int out = ir_add_tensor(q->g, outname, rank, dims);
    ir_add_node(q->g, op, uniq(q->g, name), src, in, nin, out);
    return out;
}

/* Per-sample element values of constant c broadcast (ONNX rules, batch first) to data x. */
static double *bcast(QonnxNode *q, const Onnx__NodeProto *n, const Tensor *c, int x, int xcl, const char *what)
{
    const Tensor *tx = &q->g->t[x];
    long ne = ir_numel(tx), nc = ir_const_numel(c);
    double *v = arena_array(&q->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
    if (nc == 1) {
        for (long e = 0; e < ne; e++)
            v[e] = c->data[0];
        return v;
    }
    if (xcl) {
        qerr(q, n, "expected a single %s for a channels-last tensor, got %ld values (per-channel quantizers on "
                   "convolution data are not supported yet)", what, nc);
        return NULL;
    }
    int rank = tx->rank + 1, dims[QMAX_RANK + 1], dc[QMAX_RANK + 1];
    dims[0] = 1;
    for (int k = 0; k < tx->rank; k++)
        dims[k + 1] = tx->dims[k];
    char s1[96], s2[96];
    shape_str(rank, dims, s1, sizeof s1);
    shape_str(c->const_rank, c->const_dims, s2, sizeof s2);
    if (c->const_rank > rank) {
        qerr(q, n, "expected a %s that broadcasts to the data %s, got %s", what, s1, s2);
        return NULL;
    }
    for (int k = 0; k < rank; k++) {
        int kc = k - (rank - c->const_rank);
        dc[k] = kc >= 0 ? c->const_dims[kc] : 1;
        if (dc[k] != 1 && dc[k] != dims[k]) {
            qerr(q, n, "expected a %s that broadcasts to the data %s, got %s", what, s1, s2);
            return NULL;
        }
    }
    for (long e = 0; e < ne; e++) {
        long rem = e, ic = 0, sc = 1;
        for (int k = rank - 1; k >= 0; k--) {
            long cc = rem % dims[k];
            rem /= dims[k];
            ic += (dc[k] == 1 ? 0 : cc) * sc;
            sc *= dc[k];
        }
        v[e] = c->data[ic];
    }
    return v;
}

/* x*scale + shift (either NULL), per element; returns the output tensor. */
static int add_affine(QonnxNode *q, const char *name, const char *src, int x, const double *scale, const double *shift,
                      const char *outname)
{
    Tensor *tx = &q->g->t[x];
    int rank = tx->rank, dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    int in[3] = {x, -1, -1};
    if (scale)
        in[1] = ir_add_const(q->g, arena_printf(&q->g->arena, "%s_scale", name), rank, dims, scale);
    if (shift)
        in[2] = ir_add_const(q->g, arena_printf(&q->g->arena, "%s_shift", name), rank, dims, shift);
    return add_node(q, OP_AFFINE, name, src, in, 3, outname);
}

/* Clip x to [lo, hi] and cast to t (pinned). */
static int add_cast(QonnxNode *q, const char *name, const char *src, int x, double lo, double hi, FxType t,
                    const char *outname)
{
    int in[1] = {x};
    int out = add_node(q, OP_CLIP, name, src, in, 1, outname);
    Node *nd = &q->g->n[q->g->nn - 1];
    nd->alpha = lo;
    nd->beta = hi;
    nd->quantized = true;
    q->g->t[out].type = t;
    q->g->t[out].type_pinned = true;
    return out;
}

static double *filled(QonnxNode *q, long ne, double v)
{
    double *a = arena_array(&q->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
    for (long e = 0; e < ne; e++)
        a[e] = v;
    return a;
}

/* Signed/unsigned width holding integer codes lo..hi. */
static int width_for(double lo, double hi, int sign)
{
    int w = 1;
    while (w < 64) {
        double mx = sign ? ldexp(1.0, w - 1) - 1 : ldexp(1.0, w) - 1, mn = sign ? -ldexp(1.0, w - 1) : 0;
        if (lo >= mn && hi <= mx)
            break;
        w++;
    }
    return w;
}

static void record_scale(QonnxState *st, const double *s, long ns)
{
    for (long k = 0; k < ns; k++) {
        int e, seen = 0;
        if (is_pow2(s[k], &e))
            continue;
        for (size_t j = 0; j < st->n && !seen; j++)
            seen = st->scale[j] == s[k];
        if (!seen)
            VEC_PUSH(st->scale, st->n, st->cap, s[k]);
    }
}

/* Quant / BipolarQuant of data x.  s: per-element scale (ne values), zp: zero point;
 * bip: the sign quantizer (+1 for x/s + zp >= 0). */
static int quant_data(QonnxNode *q, const Onnx__NodeProto *n, int x, const double *s, double zp, int bits, int sgn,
                      int narrow, int mode, int bip, const char *outname)
{
    Graph *g = q->g;
    long ne = ir_numel(&g->t[x]);
    const char *L = q->lname;
    int e2 = 0, pow2 = is_pow2(s[0], &e2);
    for (long e = 1; e < ne && pow2; e++)
        pow2 = s[e] == s[0];
    const char *src = pow2 && zp == 0 ? n->op_type
                                      : arena_printf(&g->arena, "%s (scale %s%.9g, zero point %g: scaling steps)",
                                                     n->op_type, pow2 ? "" : "not a power of two, ", s[0], zp);
    if (bip) {
        if (zp != 0) {
            double *sh = arena_array(&g->arena, (size_t)ne, sizeof(double));
            for (long e = 0; e < ne; e++)
                sh[e] = zp * s[e];
            x = add_affine(q, arena_printf(&g->arena, "%s_prescale", L), src, x, NULL, sh,
                           arena_printf(&g->arena, "%s_prescaled", outname));
        }
        FxType t1 = {1, 1, 1, FXQ_TRN, FXO_SAT};   /* 0 for x >= 0, -1 below */
        int v = add_cast(q, arena_printf(&g->arena, "%s_sign", L), src, x, -1.0, 0.0, t1,
                         arena_printf(&g->arena, "%s_sign", outname));
        double *sc = arena_array(&g->arena, (size_t)ne, sizeof(double)), *sh = arena_array(&g->arena, (size_t)ne, sizeof(double));
        for (long e = 0; e < ne; e++) {
            sc[e] = 2.0 * s[e];
            sh[e] = (1.0 - zp) * s[e];
        }
        int out = add_affine(q, L, src, v, sc, sh, outname);
        if (pow2 && zp == 0) {
            FxType t = {2, (int16_t)(2 + e2), 1, FXQ_TRN, FXO_WRAP};
            g->t[out].type = t;
            g->t[out].type_pinned = true;
        }
        return out;
    }
    double qmin = sgn ? (narrow ? -ldexp(1.0, bits - 1) + 1 : -ldexp(1.0, bits - 1)) : 0.0;
    double qmax = sgn ? ldexp(1.0, bits - 1) - 1 : ldexp(1.0, bits) - 1 - narrow;
    int neg = mode == MODE_CEIL;   /* ceil(v) = -floor(-v) */
    int fq = neg ? FXQ_TRN : mode;
    double sg = neg ? -1.0 : 1.0;
    double lo = neg ? -qmax : qmin, hi = neg ? -qmin : qmax;
    int direct = pow2 && zp == 0;
    int unit_e = direct ? e2 : 0;   /* the cast's grid is 2^unit_e */
    if (!direct || neg) {
        double *sc = arena_array(&g->arena, (size_t)ne, sizeof(double)), *sh = NULL;
        for (long e = 0; e < ne; e++)
            sc[e] = direct ? sg : sg / s[e];
        if (zp != 0)
            sh = filled(q, ne, sg * zp);
        x = add_affine(q, arena_printf(&g->arena, "%s_prescale", L), src, x, sc, sh,
                       arena_printf(&g->arena, "%s_prescaled", outname));
    }
    int tsign = lo < 0;
    FxType t = {0, 0, (uint8_t)tsign, (uint8_t)fq, FXO_SAT};
    t.w = (int16_t)width_for(lo, hi, tsign);
    t.i = (int16_t)(t.w + unit_e);
    if (tsign && lo == -hi)
        t.o = FXO_SAT_SYM;
    int needs_post = !direct || neg;
    int v = add_cast(q, needs_post ? arena_printf(&g->arena, "%s_int", L) : L, src, x, ldexp(lo, unit_e), ldexp(hi, unit_e),
                     t, needs_post ? arena_printf(&g->arena, "%s_int", outname) : outname);
    if (!needs_post)
        return v;
    double *sc = arena_array(&g->arena, (size_t)ne, sizeof(double)), *sh = NULL;
    for (long e = 0; e < ne; e++)
        sc[e] = direct ? sg : sg * s[e];
    if (zp != 0) {
        sh = arena_array(&g->arena, (size_t)ne, sizeof(double));
        for (long e = 0; e < ne; e++)
            sh[e] = -zp * s[e];
    }
    int out = add_affine(q, arena_printf(&g->arena, "%s_rescale", L), src, v, sc, sh, outname);
    if (direct) {   /* CEIL with a power-of-two scale: the quantizer's own type */
        FxType tq = {(int16_t)bits, (int16_t)(bits + e2), (uint8_t)sgn, FXQ_TRN, (uint8_t)(sgn && narrow ? FXO_SAT_SYM : FXO_SAT)};
        g->t[out].type = tq;
        g->t[out].type_pinned = true;
    }
    return out;
}

/* A constant quantized with power-of-two scales (zero point zp) keeps the
 * quantizer's type, pinned, like a QKeras weight: codes qmin..qmax on the finest
 * scale's grid.  A configured precision then cannot cut its bits. */
static void pin_quant_const(Graph *g, int id, int sid, double qmin, double qmax, double zp)
{
    const Tensor *ts = &g->t[sid];
    long nsc = ir_const_numel(ts);
    int emin = 0, emax = 0, e;
    for (long k = 0; k < nsc; k++) {
        if (!is_pow2(ts->data[k], &e))
            return;
        emin = k == 0 || e < emin ? e : emin;
        emax = k == 0 || e > emax ? e : emax;
    }
    double lo = ldexp(qmin - zp, emax - emin), hi = ldexp(qmax - zp, emax - emin);
    lo = lo < qmin - zp ? lo : qmin - zp;
    hi = hi > qmax - zp ? hi : qmax - zp;
    int sgn = lo < 0, w = width_for(lo, hi, sgn);
    if (w + (emax - emin) > 64)
        return;
    FxType t = {(int16_t)w, (int16_t)(w + emin), (uint8_t)sgn, FXQ_TRN, FXO_WRAP};
    g->t[id].type = t;
    g->t[id].type_pinned = true;
}

static int import_quant(QonnxNode *q, const Onnx__NodeProto *n, const int *in, const int *cl, int nin)
{
    static const char *const allowed[] = {"signed", "narrow", "rounding_mode", NULL};
    if (check_attrs(q, n, allowed, "signed, narrow, rounding_mode") < 0)
        return -1;
    long sgn = attr_int(n, "signed", 1), narrow = attr_int(n, "narrow", 0);
    if ((sgn != 0 && sgn != 1) || (narrow != 0 && narrow != 1))
        return qerr(q, n, "expected signed and narrow to be 0 or 1, got signed=%ld narrow=%ld", sgn, narrow);
    int mode;
    if (rounding_mode(q, n, "ROUND", &mode) < 0)
        return -1;
    if (nin < 4)
        return qerr(q, n, "expected 4 inputs (x, scale, zero_point, bit_width), got %d", nin);
    const Tensor *ts = const_in(q, n, in, nin, 1, "scale");
    double zp, bw;
    if (!ts || const_scalar(q, n, in, nin, 2, "zero_point", &zp) < 0 || const_scalar(q, n, in, nin, 3, "bit_width", &bw) < 0)
        return -1;
    if (bw != floor(bw) || bw < 1 || bw > 32 || (!sgn && narrow && bw < 2))
        return qerr(q, n, "expected an integer bit_width in %s, got %g", !sgn && narrow ? "2..32 (unsigned narrow)" : "1..32",
                    bw);
    if (zp != floor(zp))
        return qerr(q, n, "expected an integer zero_point, got %g", zp);
    long nsc = ir_const_numel(ts);
    for (long e = 0; e < nsc; e++)
        if (!(ts->data[e] > 0) || !isfinite(ts->data[e]))
            return qerr(q, n, "expected positive scales, got %g", ts->data[e]);
    int bits = (int)bw, bip = bits == 1 && sgn;
    double qmin = sgn ? (narrow ? -ldexp(1.0, bits - 1) + 1 : -ldexp(1.0, bits - 1)) : 0.0;
    double qmax = sgn ? ldexp(1.0, bits - 1) - 1 : ldexp(1.0, bits) - 1 - (double)narrow;
    const Tensor *tx = &q->g->t[in[0]];
    if (tx->is_const) {
        /* weights: evaluated here as the qonnx executor does (float32 quotient) */
        int rank = tx->const_rank > ts->const_rank ? tx->const_rank : ts->const_rank, dims[QMAX_RANK], dx[QMAX_RANK],
            ds[QMAX_RANK];
        long ne = 1;
        for (int k = 0; k < rank; k++) {
            int kx = k - (rank - tx->const_rank), ks = k - (rank - ts->const_rank);
            dx[k] = kx >= 0 ? tx->const_dims[kx] : 1;
            ds[k] = ks >= 0 ? ts->const_dims[ks] : 1;
            if (dx[k] != ds[k] && dx[k] != 1 && ds[k] != 1) {
                char s1[96], s2[96];
                shape_str(tx->const_rank, tx->const_dims, s1, sizeof s1);
                shape_str(ts->const_rank, ts->const_dims, s2, sizeof s2);
                return qerr(q, n, "expected a scale that broadcasts to the weights %s, got %s", s1, s2);
            }
            dims[k] = dx[k] > ds[k] ? dx[k] : ds[k];
            ne *= dims[k];
        }
        double *v = arena_array(&q->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
        for (long e = 0; e < ne; e++) {
            long ix, is;
            ir_broadcast_index(e, rank, dims, dx, ds, &ix, &is);
            float f = (float)tx->data[ix] / (float)ts->data[is];
            f = f + (float)zp;
            double y;
            if (bip) {
                y = f >= 0 ? 1.0 : -1.0;
            } else {
                y = f > qmax ? qmax : f < qmin ? qmin : (double)f;
                y = round_mode(y, mode);
            }
            v[e] = (y - zp) * ts->data[is];
        }
        record_scale(q->st, ts->data, nsc);
        q->st->any_quant = 1;
        int sid = (int)(ts - q->g->t);   /* ir_add_const may move the tensor array */
        int id = ir_add_const(q->g, n->output[0], rank, dims, v);
        if (id >= 0)
            pin_quant_const(q->g, id, sid, bip ? -1.0 : qmin, bip ? 1.0 : qmax, bip ? 0.0 : zp);
        return id;
    }
    if (mode == MODE_UP)
        return qerr(q, n, "expected a rounding_mode other than UP on data (rounding away from zero is not a fixed-point "
                          "quantization mode), got UP");
    double *s = bcast(q, n, ts, in[0], cl[0], "scale");
    if (!s)
        return -1;
    q->st->any_quant = 1;
    return quant_data(q, n, in[0], s, zp, bits, (int)sgn, (int)narrow, mode, bip, n->output[0]);
}

static int import_bipolar(QonnxNode *q, const Onnx__NodeProto *n, const int *in, const int *cl, int nin)
{
    static const char *const allowed[] = {NULL};
    if (check_attrs(q, n, allowed, "(none)") < 0)
        return -1;
    if (nin < 2)
        return qerr(q, n, "expected 2 inputs (x, scale), got %d", nin);
    const Tensor *ts = const_in(q, n, in, nin, 1, "scale");
    if (!ts)
        return -1;
    long nsc = ir_const_numel(ts);
    for (long e = 0; e < nsc; e++)
        if (!(ts->data[e] > 0) || !isfinite(ts->data[e]))
            return qerr(q, n, "expected positive scales, got %g", ts->data[e]);
    const Tensor *tx = &q->g->t[in[0]];
    q->st->any_quant = 1;
    if (tx->is_const) {
        if (nsc != 1) {
            /* per-channel bipolar weights: broadcast like Quant (rare); reuse the generic path */
            int rank = tx->const_rank, dims[QMAX_RANK];
            memcpy(dims, tx->const_dims, sizeof(int) * (size_t)rank);
            long ne = ir_const_numel(tx);
            char s1[96], s2[96];
            shape_str(rank, dims, s1, sizeof s1);
            shape_str(ts->const_rank, ts->const_dims, s2, sizeof s2);
            if (ts->const_rank > rank)
                return qerr(q, n, "expected a scale that broadcasts to the weights %s, got %s", s1, s2);
            double *v = arena_array(&q->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
            for (long e = 0; e < ne; e++) {
                long rem = e, is = 0, ss = 1;
                for (int k = rank - 1; k >= 0; k--) {
                    long c = rem % dims[k];
                    rem /= dims[k];
                    int ks = k - (rank - ts->const_rank);
                    int d = ks >= 0 ? ts->const_dims[ks] : 1;
                    if (d != 1 && d != dims[k])
                        return qerr(q, n, "expected a scale that broadcasts to the weights %s, got %s", s1, s2);
                    is += (d == 1 ? 0 : c) * ss;
                    ss *= d;
                }
                v[e] = (tx->data[e] >= 0 ? 1.0 : -1.0) * ts->data[is];
            }
            record_scale(q->st, ts->data, nsc);
            int sid = (int)(ts - q->g->t);
            int id = ir_add_const(q->g, n->output[0], rank, dims, v);
            pin_quant_const(q->g, id, sid, -1.0, 1.0, 0.0);
            return id;
        }
        long ne = ir_const_numel(tx);
        double *v = arena_array(&q->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
        for (long e = 0; e < ne; e++)
            v[e] = (tx->data[e] >= 0 ? 1.0 : -1.0) * ts->data[0];
        record_scale(q->st, ts->data, 1);
        int sid = (int)(ts - q->g->t);
        int id = ir_add_const(q->g, n->output[0], tx->const_rank, tx->const_dims, v);
        pin_quant_const(q->g, id, sid, -1.0, 1.0, 0.0);
        return id;
    }
    double *s = bcast(q, n, ts, in[0], cl[0], "scale");
    if (!s)
        return -1;
    /* x >= 0, with the scale positive, is x/scale >= 0 */
    return quant_data(q, n, in[0], s, 0.0, 1, 1, 0, FXQ_RND_CONV, 1, n->output[0]);
}

/* Trunc: v1 (x, scale, zero_point, in_bits, out_bits) and v2 (x, scale, zero_point, in_bits,
 * out_scale, out_bits; signed, narrow).  Power-of-two scales and zero point 0. */
static int import_trunc(QonnxNode *q, const Onnx__NodeProto *n, const int *in, int nin)
{
    static const char *const allowed[] = {"rounding_mode", "signed", "narrow", NULL};
    if (check_attrs(q, n, allowed, "rounding_mode, signed, narrow") < 0)
        return -1;
    int mode;
    if (rounding_mode(q, n, "FLOOR", &mode) < 0)
        return -1;
    if (mode == MODE_CEIL || mode == MODE_UP)
        return qerr(q, n, "expected a Trunc rounding_mode among FLOOR, ROUND, HALF_EVEN, ROUND_TO_ZERO, DOWN, HALF_UP, "
                          "HALF_DOWN, got %s (not supported yet)", mode == MODE_CEIL ? "CEIL" : "UP");
    if (nin != 5 && nin != 6)
        return qerr(q, n, "expected 5 inputs (x, scale, zero_point, in_bit_width, out_bit_width) or 6 (with out_scale), got %d",
                    nin);
    int v2 = nin == 6;
    double s, zp, ibw, os = 0, obw;
    if (const_scalar(q, n, in, nin, 1, "scale", &s) < 0 || const_scalar(q, n, in, nin, 2, "zero_point", &zp) < 0 ||
        const_scalar(q, n, in, nin, 3, "input bit width", &ibw) < 0 ||
        (v2 && const_scalar(q, n, in, nin, 4, "output scale", &os) < 0) ||
        const_scalar(q, n, in, nin, v2 ? 5 : 4, "output bit width", &obw) < 0)
        return -1;
    int es, eo = 0;
    if (!is_pow2(s, &es) || (v2 && !is_pow2(os, &eo)) || zp != 0)
        return qerr(q, n, "expected power-of-two scales and zero point 0, got scale %g%s, zero point %g (not supported "
                          "yet)", s, v2 ? arena_printf(&q->g->arena, ", output scale %g", os) : "", zp);
    if (ibw != floor(ibw) || obw != floor(obw) || ibw < 1 || ibw > 40 || obw < 1 || obw > ibw)
        return qerr(q, n, "expected integer bit widths with 1 <= output <= input <= 40, got input %g, output %g", ibw, obw);
    if (q->g->t[in[0]].is_const)
        return qerr(q, n, "expected a data input, got constant '%s' (Trunc of constants is not supported)", n->input[0]);
    q->st->any_quant = 1;
    int sgn = (int)attr_int(n, "signed", 1), narrow = (int)attr_int(n, "narrow", 0);
    const char *L = q->lname, *out = n->output[0];
    Graph *g = q->g;
    if (v2) {
        int k = eo - es;   /* trunc scale 2^k */
        double lo2 = sgn ? (narrow ? -ldexp(1.0, (int)obw - 1) + 1 : -ldexp(1.0, (int)obw - 1)) : 0.0;
        double hi2 = sgn ? ldexp(1.0, (int)obw - 1) - 1 : ldexp(1.0, (int)obw) - 1 - narrow;
        /* 1: to the input grid, half to even, kept within one step beyond the output range */
        double lo1 = (lo2 - 1) * ldexp(1.0, k), hi1 = (hi2 + 1) * ldexp(1.0, k);
        FxType t1 = {(int16_t)width_for(lo1, hi1, 1), 0, 1, FXQ_RND_CONV, FXO_SAT};
        t1.i = (int16_t)(t1.w + es);
        int v = add_cast(q, arena_printf(&g->arena, "%s_in", L), n->op_type, in[0], ldexp(lo1, es), ldexp(hi1, es), t1,
                         arena_printf(&g->arena, "%s_in", out));
        FxType t2 = {(int16_t)width_for(lo2, hi2, sgn), 0, (uint8_t)sgn, (uint8_t)mode, FXO_SAT};
        t2.i = (int16_t)(t2.w + es + k);
        return add_cast(q, L, n->op_type, v, ldexp(lo2, es + k), ldexp(hi2, es + k), t2, out);
    }
    /* v1: y = rmode(round(x/s) / 2^k) * s, no clamp */
    int k = (int)(ibw - obw);
    double lim = ldexp(1.0, (int)ibw);
    FxType t1 = {(int16_t)((int)ibw + 2), 0, 1, FXQ_RND_CONV, FXO_SAT};
    t1.i = (int16_t)(t1.w + es);
    int v = add_cast(q, arena_printf(&g->arena, "%s_in", L), n->op_type, in[0], -ldexp(lim, es), ldexp(lim, es), t1,
                     arena_printf(&g->arena, "%s_in", out));
    double *sc = filled(q, ir_numel(&g->t[v]), ldexp(1.0, -k));
    v = add_affine(q, arena_printf(&g->arena, "%s_shift", L), n->op_type, v, sc, NULL, arena_printf(&g->arena, "%s_shifted", out));
    FxType t2 = {(int16_t)((int)obw + 2), 0, 1, (uint8_t)mode, FXO_SAT};
    t2.i = (int16_t)(t2.w + es);
    double lim2 = ldexp(1.0, (int)obw);
    return add_cast(q, L, n->op_type, v, -ldexp(lim2, es), ldexp(lim2, es), t2, out);
}

/* ---- constant ops exporters leave -------------------------------------- */

static int import_shape(QonnxNode *q, const Onnx__NodeProto *n, const int *in, const int *cl, int nin)
{
    if (nin < 1 || in[0] < 0)
        return qerr(q, n, "expected an input, got none");
    const Tensor *t = &q->g->t[in[0]];
    long d[QMAX_RANK + 1];
    int r = 0;
    if (t->is_const) {
        for (int k = 0; k < t->const_rank; k++)
            d[r++] = t->const_dims[k];
    } else {
        d[r++] = 1;   /* the batch */
        if (cl[0] && t->rank >= 2) {   /* channels-last in the IR, channels-first in ONNX */
            d[r++] = t->dims[t->rank - 1];
            for (int k = 0; k < t->rank - 1; k++)
                d[r++] = t->dims[k];
        } else {
            for (int k = 0; k < t->rank; k++)
                d[r++] = t->dims[k];
        }
    }
    long start = attr_int(n, "start", 0), end = attr_int(n, "end", r);
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = start < 0 ? 0 : start > r ? r : start;
    end = end < start ? start : end > r ? r : end;
    int len = (int)(end - start);
    double v[QMAX_RANK + 1];
    for (int k = 0; k < len; k++)
        v[k] = (double)d[start + k];
    return ir_add_const(q->g, n->output[0], 1, &len, v);
}

static long flat_index(const Tensor *t, const long *c)
{
    long e = 0;
    for (int k = 0; k < t->const_rank; k++)
        e = e * t->const_dims[k] + c[k];
    return e;
}

static int import_gather(QonnxNode *q, const Onnx__NodeProto *n, const int *in, int nin)
{
    if (nin < 2 || in[0] < 0 || in[1] < 0)
        return qerr(q, n, "expected 2 inputs (data, indices), got %s", nin < 2 ? (nin == 1 ? "1 input" : "none")
                                                                             : "an empty name (an omitted input)");
    const Tensor *t = &q->g->t[in[0]], *ti = &q->g->t[in[1]];
    if (!t->is_const || !ti->is_const)
        return -2;
    int r = t->const_rank;
    long axis = attr_int(n, "axis", 0);
    if (axis < 0)
        axis += r;
    if (r < 1 || axis < 0 || axis >= r)
        return qerr(q, n, "expected axis in -%d..%d, got %ld", r, r - 1, attr_int(n, "axis", 0));
    int ri = ti->const_rank, ro = r - 1 + ri;
    if (ro > QMAX_RANK)
        return qerr(q, n, "expected a result of rank <= %d, got %d", QMAX_RANK, ro);
    int dims[QMAX_RANK + 1], k2 = 0;
    for (int k = 0; k < axis; k++)
        dims[k2++] = t->const_dims[k];
    for (int k = 0; k < ri; k++)
        dims[k2++] = ti->const_dims[k];
    for (int k = (int)axis + 1; k < r; k++)
        dims[k2++] = t->const_dims[k];
    long ne = 1;
    for (int k = 0; k < ro; k++)
        ne *= dims[k];
    double *v = arena_array(&q->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
    for (long e = 0; e < ne; e++) {
        long oc[QMAX_RANK + 1], rem = e;
        for (int k = ro - 1; k >= 0; k--) {
            oc[k] = rem % dims[k];
            rem /= dims[k];
        }
        long ic[QMAX_RANK + 1], ii = 0;
        for (int k = 0; k < ri; k++)
            ii = ii * ti->const_dims[k] + oc[axis + k];
        double di = ti->data[ii];
        long idx = di > -0x1p40 && di < 0x1p40 ? (long)di : -(1L << 41);   /* defined conversion; out of range below */
        if (idx < 0)
            idx += t->const_dims[axis];
        if (idx < 0 || idx >= t->const_dims[axis])
            return qerr(q, n, "expected indices in -%d..%d, got %g", t->const_dims[axis], t->const_dims[axis] - 1, ti->data[ii]);
        for (int k = 0; k < axis; k++)
            ic[k] = oc[k];
        ic[axis] = idx;
        for (int k = (int)axis + 1; k < r; k++)
            ic[k] = oc[k - 1 + ri];
        v[e] = t->data[flat_index(t, ic)];
    }
    return ir_add_const(q->g, n->output[0], ro, dims, v);
}

static int import_concat(QonnxNode *q, const Onnx__NodeProto *n, const int *in, int nin)
{
    if (nin < 1)
        return qerr(q, n, "expected at least one input, got none");
    for (int k = 0; k < nin; k++)
        if (in[k] < 0 || !q->g->t[in[k]].is_const)
            return -2;
    const Tensor *t0 = &q->g->t[in[0]];
    int r = t0->const_rank;
    long axis = attr_int(n, "axis", 0);
    if (axis < 0)
        axis += r;
    if (r < 1 || axis < 0 || axis >= r)
        return qerr(q, n, "expected axis in -%d..%d, got %ld", r, r - 1, attr_int(n, "axis", 0));
    int dims[QMAX_RANK];
    memcpy(dims, t0->const_dims, sizeof(int) * (size_t)r);
    dims[axis] = 0;
    for (int j = 0; j < nin; j++) {
        const Tensor *t = &q->g->t[in[j]];
        for (int k = 0; k < r; k++)
            if (t->const_rank != r || (k != axis && t->const_dims[k] != t0->const_dims[k])) {
                char s1[96], s2[96];
                shape_str(t0->const_rank, t0->const_dims, s1, sizeof s1);
                shape_str(t->const_rank, t->const_dims, s2, sizeof s2);
                return qerr(q, n, "expected inputs of equal shape except along axis %ld, got %s and %s", axis, s1, s2);
            }
        dims[axis] += t->const_dims[axis];
    }
    long outer = 1, inner = 1, ne;
    for (int k = 0; k < axis; k++)
        outer *= dims[k];
    for (int k = (int)axis + 1; k < r; k++)
        inner *= dims[k];
    ne = outer * inner * dims[axis];
    double *v = arena_array(&q->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
    long w = 0;
    for (long o = 0; o < outer; o++)
        for (int j = 0; j < nin; j++) {
            const Tensor *t = &q->g->t[in[j]];
            long chunk = (long)t->const_dims[axis] * inner;
            memcpy(v + w, t->data + o * chunk, sizeof(double) * (size_t)chunk);
            w += chunk;
        }
    return ir_add_const(q->g, n->output[0], r, dims, v);
}

int qonnx_import(QonnxNode *q, const Onnx__NodeProto *n, const int *in, const int *cl, int nin, int *out_cl)
{
    const char *op = n->op_type ? n->op_type : "";
    *out_cl = 0;
    if (n->n_output < 1)
        return qerr(q, n, "expected an output, got none");
    if (!strcmp(op, "Shape"))
        return import_shape(q, n, in, cl, nin);
    if (!strcmp(op, "Gather"))
        return import_gather(q, n, in, nin);
    if (!strcmp(op, "Concat"))
        return import_concat(q, n, in, nin);
    if (nin < 1 || in[0] < 0)
        return qerr(q, n, "expected a data input, got none");
    int rc;
    if (!strcmp(op, "Quant") || !strcmp(op, "IntQuant"))
        rc = import_quant(q, n, in, cl, nin);
    else if (!strcmp(op, "BipolarQuant"))
        rc = import_bipolar(q, n, in, cl, nin);
    else if (!strcmp(op, "Trunc"))
        rc = import_trunc(q, n, in, nin);
    else
        return qerr(q, n, "expected a QONNX operator among Quant, IntQuant, BipolarQuant, Trunc in domain '%s', got '%s'",
                    n->domain ? n->domain : "", op);
    if (rc >= 0 && !q->g->t[rc].is_const)
        *out_cl = cl[0];   /* elementwise: the layout is kept */
    return rc;
}

/* ---- after the graph ------------------------------------------------------ */

/* Move the last node to position `at`, shifting the ones after it. */
static void move_last_to(Graph *g, size_t at)
{
    size_t m = g->nn - 1;
    Node tmp = g->n[m];
    memmove(&g->n[at + 1], &g->n[at], (m - at) * sizeof(Node));
    g->n[at] = tmp;
    for (size_t k = 0; k < g->nt; k++)
        if (g->t[k].producer >= (int)at && g->t[k].producer < (int)m)
            g->t[k].producer++;
    g->t[tmp.out].producer = (int)at;
}

/* Dense weights w [nin][nout] = q * s[column], q integer, s a recorded scale that is
 * not a power of two in at least one column.  Returns 0 if they do not factor so. */
static int factor_weights(const QonnxState *st, const Tensor *w, double *qv, double *s)
{
    long nout = w->const_dims[w->const_rank - 1], nin = ir_const_numel(w) / nout;
    int any_np2 = 0;
    for (long o = 0; o < nout; o++) {
        int found = 0;
        for (size_t j = 0; j < st->n && !found; j++) {
            double sc = st->scale[j];
            int ok = 1;
            for (long i = 0; i < nin && ok; i++) {
                double v = w->data[i * nout + o], r = v / sc;
                ok = fabs(r) < 16777216.0 && r == nearbyint(r) && nearbyint(r) * sc == v;
            }
            if (ok) {
                found = 1;
                s[o] = sc;
                for (long i = 0; i < nin; i++)
                    qv[i * nout + o] = nearbyint(w->data[i * nout + o] / sc);
            }
        }
        if (!found) {
            for (long i = 0; i < nin; i++)
                qv[i * nout + o] = w->data[i * nout + o];
            s[o] = 1.0;
            continue;
        }
        any_np2 = 1;
    }
    return any_np2;
}

/* The uniform scale of a scaling step feeding dense layer k (through reshapes), which can
 * move behind the dense layer: an AFFINE with one value of scale, no shift, one reader.
 * Returns the scale (0 if none) and the tensor the AFFINE reads; *reshape: the reshape
 * between them, or -1. */
static double input_scale(const Graph *g, size_t k, int *src, int *reshape)
{
    int x = g->n[k].in[0], p = g->t[x].producer;
    *reshape = -1;
    if (p >= 0 && g->n[p].op == OP_RESHAPE && ir_consumers(g, x, NULL) == 1 && !ir_is_output(g, x)) {
        *reshape = p;
        x = g->n[p].in[0];
        p = g->t[x].producer;
    }
    if (p < 0 || g->n[p].op != OP_AFFINE || g->n[p].in[1] < 0 || g->n[p].in[2] >= 0 || ir_consumers(g, x, NULL) != 1 ||
        ir_is_output(g, x))
        return 0;
    const Tensor *sc = &g->t[g->n[p].in[1]];
    long n = ir_const_numel(sc);
    for (long e = 1; e < n; e++)
        if (sc->data[e] != sc->data[0])
            return 0;
    if (!(sc->data[0] > 0))
        return 0;
    *src = g->n[p].in[0];
    return sc->data[0];
}

int qonnx_finish(QonnxNode *q)
{
    Graph *g = q->g;
    if (!q->st->any_quant)
        return 0;
    /* Dense layers compute on integers where the model allows it: a non-power-of-two weight
     * scale and a uniform non-power-of-two activation scale move to one scaling step after
     * the sum, x.(q*s_w) + b = (x_int.q) * (s_x*s_w) + b. */
    for (size_t k = 0; k < g->nn; k++) {
        Node *nd = &g->n[k];
        if (nd->dead || nd->op != OP_DENSE || nd->in[1] < 0 || g->t[nd->in[1]].type_pinned)
            continue;
        const Tensor *w = &g->t[nd->in[1]];
        if (w->const_rank != 2)
            continue;
        long nout = w->const_dims[1], nw = ir_const_numel(w);
        double *qv = arena_array(&g->arena, (size_t)(nw ? nw : 1), sizeof(double));
        double *s = arena_array(&g->arena, (size_t)(nout ? nout : 1), sizeof(double));
        int wf = factor_weights(q->st, w, qv, s);
        int src = -1, rs = -1, e2;
        double sx = input_scale(g, k, &src, &rs);
        if (sx > 0 && is_pow2(sx, &e2))
            sx = 0;   /* a power-of-two step is exact where it is */
        if (!wf && !(sx > 0))
            continue;
        if (sx > 0) {
            if (rs >= 0) {
                g->n[rs].in[0] = src;   /* the reshape reads the integers */
            } else {
                g->n[k].in[0] = src;
            }
            for (long o = 0; o < nout; o++)
                s[o] *= sx;
        }
        int wd[2] = {w->const_dims[0], w->const_dims[1]};
        int qid = wf ? ir_add_const(g, arena_printf(&g->arena, "%s_int", w->name), 2, wd, qv) : g->n[k].in[1];
        int out = g->n[k].out, bias = g->n[k].in[2];
        const Tensor *to = &g->t[out];
        int rank = to->rank, dims[IR_MAX_RANK];
        memcpy(dims, to->dims, sizeof dims);
        long ne = ir_numel(to);
        double *sc = arena_array(&g->arena, (size_t)(ne ? ne : 1), sizeof(double)), *sh = NULL;
        for (long e = 0; e < ne; e++)
            sc[e] = s[e % nout];
        if (bias >= 0) {
            sh = arena_array(&g->arena, (size_t)(ne ? ne : 1), sizeof(double));
            for (long e = 0; e < ne; e++)
                sh[e] = g->t[bias].data[e % nout];
        }
        const char *name = g->n[k].name;
        int acc = ir_add_tensor(g, arena_printf(&g->arena, "%s_int", g->t[out].name), rank, dims);
        int in[3] = {acc, ir_add_const(g, arena_printf(&g->arena, "%s_rescale_scale", name), rank, dims, sc),
                     sh ? ir_add_const(g, arena_printf(&g->arena, "%s_rescale_shift", name), rank, dims, sh) : -1};
        nd = &g->n[k];
        nd->in[1] = qid;
        nd->in[2] = -1;
        nd->out = acc;
        g->t[acc].producer = (int)k;
        ir_add_node(g, OP_AFFINE, uniq(g, arena_printf(&g->arena, "%s_rescale", name)),
                    "Quant (scale not a power of two: scaling step after the sum)", in, 3, out);
        move_last_to(g, k + 1);
    }
    /* A quantizer's scaling step behind a relu joins the affine layer before the relu
     * (relu(y)*c = relu(y*c) for c > 0): the relu then feeds the cast directly. */
    for (size_t k = 0; k < g->nn; k++) {
        Node *p = &g->n[k];
        if (p->dead || p->op != OP_AFFINE || p->in[1] < 0 || p->in[2] >= 0)
            continue;
        int r = g->t[p->in[0]].producer;
        if (r < 0 || g->n[r].op != OP_RELU || ir_consumers(g, p->in[0], NULL) != 1 || ir_is_output(g, p->in[0]))
            continue;
        int ai = g->t[g->n[r].in[0]].producer;
        if (ai < 0 || g->n[ai].op != OP_AFFINE || ir_consumers(g, g->n[r].in[0], NULL) != 1 || ir_is_output(g, g->n[r].in[0]))
            continue;
        const Tensor *cs = &g->t[p->in[1]];
        long ne = ir_numel(&g->t[p->out]);
        int uniform = cs->data[0] > 0;
        for (long e = 1; e < ne && uniform; e++)
            uniform = cs->data[e] == cs->data[0];
        if (!uniform || ir_numel(&g->t[g->n[ai].out]) != ne)
            continue;
        double c = cs->data[0];
        double *sc = arena_array(&g->arena, (size_t)(ne ? ne : 1), sizeof(double));
        double *sh = arena_array(&g->arena, (size_t)(ne ? ne : 1), sizeof(double));
        for (long e = 0; e < ne; e++) {
            sc[e] = (g->n[ai].in[1] >= 0 ? g->t[g->n[ai].in[1]].data[e] : 1.0) * c;
            sh[e] = (g->n[ai].in[2] >= 0 ? g->t[g->n[ai].in[2]].data[e] : 0.0) * c;
        }
        int rank = g->t[p->out].rank, dims[IR_MAX_RANK];
        memcpy(dims, g->t[p->out].dims, sizeof dims);
        int sid = ir_add_const(g, arena_printf(&g->arena, "%s_scale", g->n[ai].name), rank, dims, sc);
        int tid = ir_add_const(g, arena_printf(&g->arena, "%s_shift", g->n[ai].name), rank, dims, sh);
        g->n[ai].in[1] = sid;
        g->n[ai].in[2] = tid;
        ir_replace_uses(g, g->n[k].out, g->n[k].in[0]);
        g->n[k].dead = true;
    }
    /* Only the sign of an affine layer read by a bipolar quantizer matters: scaling each
     * element's scale and shift by a power of two leaves it unchanged and keeps small
     * channels (a batchnorm gamma near 0) precise in a per-tensor fixed-point type. */
    for (size_t k = 0; k < g->nn; k++) {
        Node *a = &g->n[k];
        int rd = -1;
        if (a->dead || a->op != OP_AFFINE || ir_is_output(g, a->out) || ir_consumers(g, a->out, &rd) != 1 ||
            g->n[rd].op != OP_CLIP || !g->t[g->n[rd].out].type_pinned || g->t[g->n[rd].out].type.w != 1 ||
            g->n[rd].alpha != -1.0 || g->n[rd].beta != 0.0)
            continue;
        long ne = ir_numel(&g->t[a->out]);
        const double *sc0 = a->in[1] >= 0 ? g->t[a->in[1]].data : NULL, *sh0 = a->in[2] >= 0 ? g->t[a->in[2]].data : NULL;
        double *sc = arena_array(&g->arena, (size_t)(ne ? ne : 1), sizeof(double));
        double *sh = arena_array(&g->arena, (size_t)(ne ? ne : 1), sizeof(double));
        for (long e = 0; e < ne; e++) {
            double s1 = sc0 ? sc0[e] : 1.0, t1 = sh0 ? sh0[e] : 0.0, m = fabs(s1) > fabs(t1) ? fabs(s1) : fabs(t1);
            int ex = 0;
            if (m > 0)
                frexp(m, &ex);
            sc[e] = ldexp(s1, -ex);
            sh[e] = ldexp(t1, -ex);
        }
        int rank = g->t[a->out].rank, dims[IR_MAX_RANK];
        memcpy(dims, g->t[a->out].dims, sizeof dims);
        const char *nm = g->n[k].name;
        int sid = ir_add_const(g, arena_printf(&g->arena, "%s_scale_norm", nm), rank, dims, sc);
        int tid = ir_add_const(g, arena_printf(&g->arena, "%s_shift_norm", nm), rank, dims, sh);
        g->n[k].in[1] = sid;
        g->n[k].in[2] = tid;
    }
    for (size_t k = 0; k < g->nn; k++)
        g->n[k].quantized = true;
    return 0;
}

void qonnx_free(QonnxState *st)
{
    free(st->scale);
    st->scale = NULL;
    st->n = st->cap = 0;
}
