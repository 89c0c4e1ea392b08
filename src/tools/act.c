/* act.c — sigmoid, tanh, selu and softmax on fixed-point codes.
 * exact mode: the real function of the input value, rounded once into the
 * result type (evaluated in double precision).
 * hls4ml mode: the table sizes, table contents, index arithmetic and casts of
 * hls4ml's default io_parallel implementation, so outputs equal its C
 * simulation (see tests/ref/NOTES.md for the measured behaviour). */
#include "tools/act.h"

#include <math.h>
#include <string.h>


#define EXACT_MAX_CODES (1L << 16)

/* OP_LUT's entry for value x: the nearest grid point within the table (values between or outside the
 * grid are not the input quantizer's; the ROM and the C table still cover every code of the input type). */
double act_lut_value(const double *lut, long nlut, double lo, int f, double x)
{
    double k = nearbyint(ldexp(x - lo, f));
    long i = k < 0 ? 0 : k > (double)(nlut - 1) ? nlut - 1 : (long)k;
    return lut[i];
}

static double unary_real(const UnaryAct *a, double x)
{
    if (a->op == OP_LUT)
        return act_lut_value(a->lut, a->nlut, a->lut_lo, a->lut_f, x);
    if (a->op == OP_SELU || a->op == OP_ELU)
        return a->gamma * (x >= 0 ? x : a->alpha * expm1(x));
    if (a->op == OP_SOFTPLUS)
        return x > 30 ? x + log1p(exp(-x)) : log1p(exp(x));
    if (a->op == OP_SOFTSIGN)
        return x / (fabs(x) + 1);
    return a->op == OP_SIGMOID ? 1.0 / (1.0 + exp(-x)) : tanh(x);
}

static int node_err(Diag *d, const Graph *g, const Node *n, const char *msg)
{
    return diag_error(d, "%s: node '%s' (%s): %s", g->file, n->name, n->src_op, msg);
}

static int log2_exact(long v)
{
    int k = 0;
    while ((1L << k) < v)
        k++;
    return (1L << k) == v ? k : -1;
}

int act_unary_init(UnaryAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n, int *fell_back)
{
    memset(a, 0, sizeof(*a));
    a->op = n->op;
    a->mode = n->tables;
    a->in = g->t[n->in[0]].type;
    a->out = g->t[n->out].type;
    a->table_t = n->table_t;
    a->table_size = n->table_size;
    a->alpha = n->alpha;
    a->gamma = n->op == OP_ELU ? 1.0 : n->beta;
    *fell_back = 0;
    if (n->op == OP_LUT) {   /* its own table: exact mode, every input code */
        a->mode = TABLES_EXACT;
        a->lut = n->lut;
        a->nlut = n->nlut;
        a->lut_lo = n->lut_lo;
        a->lut_f = n->lut_f;
        if (a->in.w > 16)
            return node_err(d, g, n, "expected a table input of at most 16 bits");
        return 0;
    }
    if (a->mode == TABLES_EXACT && a->in.w > 16) {
        a->mode = TABLES_HLS4ML;
        *fell_back = 1;
    }
    if (a->mode == TABLES_EXACT)
        return 0;
    a->lgt = log2_exact(a->table_size);
    if (a->lgt < 1 || a->lgt > 24)
        return node_err(d, g, n, "expected table_size to be a power of two from 2 to 2^24 for hls4ml tables");
    a->lgs = a->op == OP_SELU || a->op == OP_ELU ? 3 : ETN_TABLE_SPAN_LOG2(a->op);   /* selu and elu: [-8, 0] */
    a->table = arena_array(ar, (size_t)a->table_size, sizeof(int64_t));
    if (a->op == OP_SELU) {
        /* hls4ml: lambda * x for x >= 0 (lambda in ufixed<16,1>), else entry i = selu(-8 i / T) */
        if (a->in.w + 17 > 63)
            return node_err(d, g, n, "expected a selu input of at most 46 bits for hls4ml tables");
        a->lam = FX_SELU_HLS4ML_LAMBDA;
        for (long i = 0; i < a->table_size; i++) {
            float in = (float)(-8.0 * (double)i / (double)(float)a->table_size);
            float v = (float)(1.0507009873554804934193349852946 *
                              (1.6732632423543772848170429916717 * ((double)expf(in) - 1.)));
            a->table[i] = fx_quant_double((double)v, a->table_t);
        }
        return 0;
    }
    if (a->op == OP_ELU) {
        /* hls4ml: x for x >= 0, else alpha (in its param type) times entry i = exp(-8 i / T) - 1 */
        a->acode = fx_quant_double(n->alpha, n->alpha_t);
        a->fa = fx_frac(n->alpha_t);
        if (n->alpha_t.w + a->table_t.w > 62)
            return node_err(d, g, n, "expected alpha width + table width <= 62 bits for hls4ml's elu, got wider");
        for (long i = 0; i < a->table_size; i++) {
            float in = (float)(-8.0 * (double)i / (double)(float)a->table_size);
            float v = (float)((double)expf(in) - 1.);
            a->table[i] = fx_quant_double((double)v, a->table_t);
        }
        return 0;
    }
    /* entry i: f((i - T/2) * S / T), computed in float as hls4ml does */
    long t = a->table_size;
    for (long i = 0; i < t; i++) {
        double span = a->op == OP_TANH ? 8.0 : 16.0;
        float in = (float)(span * ((double)i - (double)t / 2.0) / (double)t);
        float v;
        if (a->op == OP_SIGMOID) {
            float e = expf(-in);
            v = (float)(1.0 / (double)(1.0f + e));
        } else if (a->op == OP_SOFTPLUS) {   /* log(exp(x) + 1): exp in float, the rest in double */
            v = (float)log((double)expf(in) + 1.);
        } else if (a->op == OP_SOFTSIGN) {   /* x / (|x| + 1) in double */
            v = (float)((double)in / ((double)fabsf(in) + 1.));
        } else {
            v = tanhf(in);
        }
        a->table[i] = fx_quant_double((double)v, a->table_t);
    }
    return 0;
}

int64_t act_unary_eval(const UnaryAct *a, int64_t code)
{
    if (a->mode == TABLES_EXACT)
        return fx_quant_double(unary_real(a, fx_to_double(code, fx_frac(a->in))), a->out);
    if (a->op == OP_ELU)
        return fx_elu_hls4ml(code, fx_frac(a->in), a->table, a->lgt, fx_frac(a->table_t), a->acode, a->fa, a->out.w,
                             fx_frac(a->out), a->out.sign, a->out.q, a->out.o);
    if (a->op == OP_SELU)
        return fx_selu_hls4ml(code, fx_frac(a->in), a->table, a->lgt, fx_frac(a->table_t), a->lam, a->out.w,
                              fx_frac(a->out), a->out.sign, a->out.q, a->out.o);
    long idx = fx_table_index(code, fx_frac(a->in), a->lgt, a->lgs);
    return fx_cast_to(a->table[idx], fx_frac(a->table_t), a->out);
}

/* ceil(log2(x)) as hls4ml computes it (1 for x <= 2). */
static int ceillog2(long x) { return x <= 2 ? 1 : 1 + ceillog2((x + 1) / 2); }

int act_softmax_init(SoftmaxAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n, int len)
{
    memset(a, 0, sizeof(*a));
    a->mode = n->tables;
    a->in = g->t[n->in[0]].type;
    a->out = g->t[n->out].type;
    a->n = len;
    if (n->smax_impl == SMAX_ARGMAX) {
        /* no tables: one-hot of the first maximum, in either Tables mode */
        FxSoftmaxHls *p = &a->p;
        a->mode = TABLES_HLS4ML;
        p->impl = 2;
        p->w = a->out.w, p->f = fx_frac(a->out), p->s = a->out.sign, p->q = a->out.q, p->o = a->out.o;
        a->exp_size = a->inv_size = 1;
        a->exp_table = a->inv_table = arena_array(ar, 1, sizeof(int64_t));   /* zeroed: unused */
        return 0;
    }
    if (a->mode == TABLES_EXACT)
        return 0;
    FxType in = a->in, acc = n->accum, it = n->inv_inp_t, et = n->exp_t, vt = n->inv_t;
    if (log2_exact(n->table_size) < 1 || n->table_size > (1L << 24))
        return node_err(d, g, n, "expected table_size to be a power of two from 2 to 2^24 for hls4ml tables");
    /* table sizes: shrunk for narrow inputs, as hls4ml does */
    long t = n->table_size;
    int mw = in.w < vt.w ? in.w : vt.w;
    if (mw < 24 && (1L << mw) < t)
        t = 1L << mw;
    a->inv_size = t;
    int lat = n->smax_impl == SMAX_LATENCY;
    /* stable: the exp table shrinks further for signed inputs (it reads max - x >= 0); latency: not */
    a->exp_size = !lat && in.sign && in.w - 1 < 24 && (1L << (in.w - 1)) < t ? (1L << (in.w - 1)) : t;
    FxSoftmaxHls *p = &a->p;
    p->impl = lat;
    p->fin = fx_frac(in);
    p->wn = lat ? in.w : in.w - (in.sign ? 1 : 0);     /* latency: the input; stable: inp_norm_t = ufixed<W-s, I-s> */
    p->fn = p->fin;
    p->ne = ceillog2(a->exp_size);
    p->nv = ceillog2(a->inv_size);
    if (p->wn < p->ne || it.w < p->nv)
        return node_err(d, g, n, "expected a softmax input and inv_inp type wide enough to index the hls4ml tables");
    if (acc.w + vt.w > 62 || acc.w > 62)
        return node_err(d, g, n, "expected softmax accum + inv_table widths <= 62 bits");
    p->wa = acc.w, p->fa = fx_frac(acc), p->sa = acc.sign, p->qa = acc.q, p->oa = acc.o;
    p->wi = it.w, p->fi = fx_frac(it), p->si = it.sign, p->qi = it.q, p->oi = it.o;
    p->fe = fx_frac(et);
    p->fv = fx_frac(vt);
    p->w = a->out.w, p->f = fx_frac(a->out), p->s = a->out.sign, p->q = a->out.q, p->o = a->out.o;
    a->exp_table = arena_array(ar, (size_t)a->exp_size, sizeof(int64_t));
    a->inv_table = arena_array(ar, (size_t)a->inv_size, sizeof(int64_t));
    a->scratch = arena_array(ar, (size_t)(len > 0 ? len : 1), sizeof(int64_t));
    /* latency: entry i is exp(x), x the input type's value whose top bits are i (two's complement) */
    for (long i = 0; lat && i < a->exp_size; i++) {
        float x = (float)fx_to_double(fx_wrap((uint64_t)i << (p->wn - p->ne), in.w, in.sign), p->fin);
        float e = expf(x * 1.0f);
        a->exp_table[i] = fx_quant_double((double)e, et);
    }
    /* stable: entry i is exp(-x), x the inp_norm_t value whose top bits are i */
    for (long i = 0; !lat && i < a->exp_size; i++) {
        float x = (float)fx_to_double((int64_t)i << (p->wn - p->ne), p->fn);
        float e = expf(-(x * 1.0f));
        a->exp_table[i] = fx_quant_double((double)e, et);
    }
    /* inverse table: entry j is 1/v, v the inv_inp_t value whose top bits are j */
    for (long j = 0; j < a->inv_size; j++) {
        int64_t code = fx_wrap((uint64_t)j << (it.w - p->nv), it.w, it.sign);
        float v = (float)fx_to_double(code, fx_frac(it));
        a->inv_table[j] = fx_quant_double((double)(1.0f / v), vt);
    }
    return 0;
}

void act_softmax_eval(const SoftmaxAct *a, const int64_t *in, int64_t *out, long stride)
{
    if (a->mode == TABLES_HLS4ML) {
        fx_softmax_hls4ml(&a->p, a->exp_table, a->inv_table, in, out, a->scratch, a->n, stride);
        return;
    }
    fx_softmax_exact(in, out, a->n, stride, fx_frac(a->in), a->out.w, fx_frac(a->out), a->out.sign, a->out.q, a->out.o);
}

int act_layernorm_eps_pow10(double epsilon)
{
    return (int)-nearbyint(log10(epsilon));   /* Python's round(): ties to even */
}

int act_layernorm_init(LnAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n)
{
    memset(a, 0, sizeof(*a));
    const Tensor *x = &g->t[n->in[0]], *ts = &g->t[n->in[1]], *tb = &g->t[n->in[2]];
    FxType acc = n->accum, tt = n->table_t, out = g->t[n->out].type, wt = ts->type, bt = tb->type;
    FxLayerNorm *p = &a->p;
    p->n = x->dims[x->rank - 1];
    a->rows = ir_numel(x) / p->n;
    if (acc.w > 31)
        return node_err(d, g, n, "expected an accum type of at most 31 bits for LayerNormalization (its sums of "
                                 "squares are products of two accum values)");
    p->fin = fx_frac(x->type);
    p->wa = acc.w, p->fa = fx_frac(acc), p->sa = acc.sign, p->qa = acc.q, p->oa = acc.o;
    p->kinv = fx_quant_double(1.0 / (double)p->n, acc);   /* hls4ml: accum_t k_inv = 1.0 / dim */
    p->hls = n->tables == TABLES_HLS4ML;
    int fp = p->fa + fx_frac(tt) + fx_frac(wt), fb = fx_frac(bt);
    p->fc = fp > fb ? fp : fb;
    p->sp = p->fc - fp;
    p->sb = p->fc - fb;
    if (acc.w + tt.w + wt.w + p->sp > 62 || bt.w + p->sb > 62)
        return node_err(d, g, n, "expected accum + table + weight widths (aligned with the bias) of at most 62 bits");
    p->w = out.w, p->f = fx_frac(out), p->s = out.sign, p->q = out.q, p->o = out.o;
    if (p->hls) {
        int e10 = act_layernorm_eps_pow10(n->epsilon);
        if (n->table_size < 1 || n->table_size > (1 << 24))
            return node_err(d, g, n, "expected table_size from 1 to 2^24");
        if (e10 < 1 || e10 > 30)
            return node_err(d, g, n, "expected epsilon from 1e-30 to about 0.3 for hls4ml's table (it starts at "
                                     "10^-p, p = -round(log10(epsilon)) from 1 to 30)");
        p->size = n->table_size;
        p->fi = p->fa - n->table_range;
        a->table = arena_array(ar, (size_t)p->size, sizeof(int64_t));
        /* hls4ml's init_invert_sqr_table: min and step in float, sqrt in float, 1 / it in double */
        float mn = (float)pow(10.0, (double)-e10), mx = (float)ldexp(1.0, -n->table_range);
        float step = mx / (float)p->size;
        for (long i = 0; i < p->size; i++) {
            float off = step * (float)i;
            float iv = mn + off;
            a->table[i] = fx_quant_double(1.0 / (double)sqrtf(iv), tt);
        }
    } else {
        int vb = acc.w - (acc.sign ? 1 : 0);   /* non-negative variance codes */
        if (vb > 16)
            return node_err(d, g, n, "internal: exact LayerNormalization table over more than 2^16 codes");
        p->size = 1L << vb;
        a->table = arena_array(ar, (size_t)p->size, sizeof(int64_t));
        for (long i = 0; i < p->size; i++)
            a->table[i] = fx_quant_double(1.0 / sqrt(fx_to_double(i, p->fa) + n->epsilon), tt);
    }
    a->scale = ts->codes;
    a->bias = tb->codes;
    a->scratch = arena_array(ar, (size_t)p->n, sizeof(int64_t));
    return 0;
}
