/* emulate.c — bit-exact interpreter of the typed IR (FIXED_POINT.md), plus
 * the same graph in double precision.  Every cast goes through fx_arith.h. */
#include "tools/emulate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/act.h"

#define UNARY_TABLE_MAX_CODES (1L << 16)

typedef struct {
    Op op;
    int node;                /* node id in the graph */
    long x, x2, y;           /* buffer offsets of input(s) and output */
    long nx, ny;             /* elements per event */
    FxType tin, tin2, tout;  /* input and output types */
    /* DENSE */
    long nin, nout, rows;
    long *nzs;               /* per output: start of its non-zero weights in nzi/nzw (nout+1) */
    int32_t *nzi;            /* input index of each non-zero weight */
    int64_t *nzw;            /* its code */
    int64_t *bacc;           /* bias cast to the accumulator (nout), or NULL */
    int pd;                  /* product fractional bits minus accumulator's */
    FxType acc;
    int chain;               /* the node's acc_chain: ACC_EXACT, or hls4ml's order of saturating additions */
    const double *wf, *bf;   /* float weights [nin][nout] and bias */
    int narrow;              /* fast path: products fit 31 bits, TRN, WRAP accumulator of <= 32 bits */
    int wide;                /* products or the exact sum may need more than 63 bits: 128-bit path (fx_wide.h) */
    int32_t *w32;            /* narrow path: dense weights [nout][nin] */
    int32_t *b32;            /* narrow path: bias in accumulator codes */
    /* AFFINE / LEAKYRELU / HARDSIGMOID constants */
    const int64_t *sc, *sh;  /* per-element scale/shift codes, or NULL */
    const double *scf, *shf; /* their float values */
    int fsc, fsh;            /* their fractional bits */
    int64_t a_code, b_code;  /* alpha/slope and shift codes */
    double alpha, beta;      /* float attributes (LeakyRelu alpha, HardSigmoid, Clip bounds) */
    int fa, fb;              /* fractional bits of a_code / b_code */
    int64_t clip_lo, clip_hi;/* CLIP bounds in the output type */
    const FxType *qt;        /* QUANT: element types */
    long nq;
    /* SIGMOID / TANH */
    UnaryAct ua;
    int64_t *utab;           /* output code per input code from ulo, or NULL */
    int64_t ulo;
    /* SOFTMAX */
    SoftmaxAct sa;
    long outer, len, inner;
    /* LAYERNORM (len: row length, outer: rows; scf/shf its float scale and bias, alpha its epsilon) */
    LnAct ln;
    /* CONV*: window gathered into buf[x] (im2col) from buf[xsrc], then DENSE over it.
     * POOL*: taps from buf[x].  PAD/UPSAMPLE/TRANSPOSE/CONCAT: gather table. */
    int32_t *tab;            /* ir_window_taps() or ir_gather_table() */
    long xsrc, nsrc;         /* CONV*: the real input and its element count */
    long npix, taps, cin;    /* output pixels, window taps, input channels */
    int fin2;                /* CONCAT/merges: second input's fractional bits */
} Kernel;

struct Plan {
    Arena arena;
    const Graph *g;
    long *coloff;            /* CONV* nodes: buffer offset of their im2col scratch (by node id) */
    Kernel *k;
    size_t nk;
    long *off;               /* buffer offset per tensor id (-1: constant) */
    long nbuf;               /* buffer elements */
    int64_t *buf;            /* fixed-point scratch (codes) */
    double *fbuf;            /* float scratch */
    int32_t *xs;             /* narrow dense input scratch (largest dense input) */
    long nin, nout;          /* elements per event: every input's, then every output's, in graph order */
    int *ofrac;              /* fractional bits of each output element (nout) */
};

static int is_input(const Graph *g, int t)
{
    for (size_t k = 0; k < g->ninputs; k++)
        if (g->inputs[k] == t)
            return 1;
    return 0;
}

long emu_input_size(const Plan *p) { return p->nin; }
long emu_output_size(const Plan *p) { return p->nout; }

static int plan_err(Diag *d, const Graph *g, const Node *n, const char *msg)
{
    return diag_error(d, "%s: node '%s' (%s): %s", g->file, n->name, n->src_op, msg);
}

/* Bits of magnitude of a type's codes: |code| <= 2^mag_bits. */
static int mag_bits(FxType t) { return t.sign ? t.w - 1 : t.w; }

int emu_dense_wide(FxType tin, FxType wtype, FxType acc, const int64_t *wcodes, long nin, long nout)
{
    int pd = fx_frac(tin) + fx_frac(wtype) - fx_frac(acc);
    double worst = 0;
    for (long o = 0; o < nout; o++) {
        double s = 0;
        for (long i = 0; i < nin; i++)
            s += fabs((double)wcodes[i * nout + o]) * ldexp(1.0, tin.w);
        worst = s > worst ? s : worst;
    }
    /* a saturating accumulator needs the exact sum at its LSB (products shifted left when pd < 0): the bound
     * of the 64-bit path is 2^62 (as before fx_wide.h), of the 128-bit one 2^126 */
    double bound = pd < 0 ? worst * ldexp(1.0, -pd) : worst;
    if (acc.o != FXO_WRAP && bound > ldexp(1.0, 126))
        return -1;
    return tin.w + wtype.w > 63 || (acc.o != FXO_WRAP && bound > ldexp(1.0, 62));
}

int emu_elem_wide(const Graph *g, const Node *n)
{
    FxType tin = g->t[n->in[0]].type;
    int fin = fx_frac(tin);
    switch (n->op) {
    case OP_MUL:
        return mag_bits(tin) + mag_bits(g->t[n->in[1]].type) > 62;
    case OP_PRELU:
        return mag_bits(tin) + mag_bits(g->t[n->in[1]].type) > 62;
    case OP_LEAKYRELU:
        return mag_bits(tin) + mag_bits(n->alpha_t) > 62;
    case OP_AFFINE:
    case OP_HARDSIGMOID: {
        /* x*s + t summed at the finer LSB of the two: each aligned term must fit 61 bits (64-bit path) or
         * 125 bits (128-bit path) */
        const FxType *ts = n->op == OP_HARDSIGMOID ? &n->alpha_t : n->in[1] >= 0 ? &g->t[n->in[1]].type : NULL;
        const FxType *tt = n->op == OP_HARDSIGMOID ? &n->beta_t : n->in[2] >= 0 ? &g->t[n->in[2]].type : NULL;
        int f = fin + (ts ? fx_frac(*ts) : 0), pb = mag_bits(tin) + (ts ? mag_bits(*ts) : 0);
        int a = pb, b = 0;
        if (tt) {
            int fsh = fx_frac(*tt);
            a = pb + (fsh > f ? fsh - f : 0);
            b = mag_bits(*tt) + (f > fsh ? f - fsh : 0);
        }
        if (a > 125 || b > 125)
            return -1;
        return a > 61 || b > 61;
    }
    default:
        return 0;
    }
}

/* A dense layer over rows of nin inputs; wcodes/wdata [nin][nout] (a CONV passes
 * its weights as a dense matrix over the window). */
static int build_dense_w(Plan *p, Kernel *k, Diag *d, const Node *n, const int64_t *wcodes, const double *wdata,
                         long nin, long nout)
{
    const Graph *g = p->g;
    FxType wtype = g->t[n->in[1]].type;
    const Tensor *b = n->in[2] >= 0 ? &g->t[n->in[2]] : NULL;
    k->nin = nin;
    k->nout = nout;
    k->rows = k->nx / k->nin;
    k->acc = n->accum;
    k->chain = n->acc_chain;
    if (k->chain != ACC_EXACT && k->acc.w > 62)
        return plan_err(d, g, n, "expected an accumulator of at most 62 bits with --sat-order hls4ml, got a wider one");
    k->wf = wdata;
    k->bf = b ? b->data : NULL;
    int fx = fx_frac(k->tin), fw = fx_frac(wtype), fa = fx_frac(k->acc);
    k->pd = fx + fw - fa;
    /* products of more than 63 bits, or a saturating sum that may not fit 63, run on 128 bits (fx_wide.h) */
    k->wide = emu_dense_wide(k->tin, wtype, k->acc, wcodes, nin, nout);
    if (k->wide < 0)
        return plan_err(d, g, n, "expected an accumulator whose exact sum fits 127 bits, got a wider one with saturation");
    /* non-zero weights, output-major */
    long nnz = 0;
    for (long e = 0; e < k->nin * k->nout; e++)
        nnz += wcodes[e] != 0;
    k->nzs = arena_array(&p->arena, (size_t)k->nout + 1, sizeof(long));
    k->nzi = arena_array(&p->arena, (size_t)(nnz ? nnz : 1), sizeof(int32_t));
    k->nzw = arena_array(&p->arena, (size_t)(nnz ? nnz : 1), sizeof(int64_t));
    long at = 0;
    for (long o = 0; o < k->nout; o++) {
        k->nzs[o] = at;
        for (long i = 0; i < k->nin; i++) {
            int64_t c = wcodes[i * k->nout + o];
            if (!c)
                continue;
            k->nzi[at] = (int32_t)i;
            k->nzw[at] = c;
            at++;
        }
    }
    k->nzs[k->nout] = at;
    if (b) {
        k->bacc = arena_array(&p->arena, (size_t)k->nout, sizeof(int64_t));
        for (long o = 0; o < k->nout; o++)
            k->bacc[o] = fx_cast_to(b->codes[o], fx_frac(b->type), k->acc);
    }
    /* The common case runs in 32-bit integers: each product fits, the
     * accumulator wraps to at most 32 bits, so summing modulo 2^32 keeps
     * every bit that survives (same result as the general path). */
    double xmax = fmax(fabs((double)fx_type_min(k->tin)), (double)fx_type_max(k->tin));
    double wmax = 0;
    for (long e = 0; e < k->nin * k->nout; e++)
        wmax = fmax(wmax, fabs((double)wcodes[e]));
    k->narrow = !k->wide && xmax * wmax < 2147483648.0 && k->acc.o == FXO_WRAP && k->acc.w <= 32 && k->pd >= 0 && k->pd < 32 &&
                (k->acc.q == FXQ_TRN || k->pd == 0) && k->nin <= (1L << 20);
    if (k->narrow) {
        k->w32 = arena_array(&p->arena, (size_t)(k->nin * k->nout), sizeof(int32_t));
        k->b32 = arena_array(&p->arena, (size_t)k->nout, sizeof(int32_t));
        for (long o = 0; o < k->nout; o++) {
            for (long i = 0; i < k->nin; i++)
                k->w32[o * k->nin + i] = (int32_t)wcodes[i * k->nout + o];
            k->b32[o] = k->bacc ? (int32_t)(uint32_t)(uint64_t)k->bacc[o] : 0;
        }
    }
    return 0;
}

static int build_dense(Plan *p, Kernel *k, Diag *d, const Node *n)
{
    const Tensor *w = &p->g->t[n->in[1]];
    return build_dense_w(p, k, d, n, w->codes, w->data, w->const_dims[0], w->const_dims[1]);
}

/* Windowed layers (conv, pooling): channels, output pixels and each pixel's input taps. */
static void build_window(Plan *p, Kernel *k, const Node *n, int *oc)
{
    int ih, iw, ic, oh, ow;
    ir_hwc(&p->g->t[n->in[0]], &ih, &iw, &ic);
    k->cin = ic;
    ir_hwc(&p->g->t[n->out], &oh, &ow, oc);
    k->npix = (long)oh * ow;
    k->taps = (long)n->kernel[0] * n->kernel[1];
    k->tab = arena_array(&p->arena, (size_t)(k->npix * k->taps), sizeof(int32_t));
    ir_window_taps(p->g, n, k->tab);
}

static int build_conv(Plan *p, Kernel *k, Diag *d, const Node *n, int id)
{
    const Graph *g = p->g;
    int oc;
    build_window(p, k, n, &oc);
    long nin = k->taps * k->cin;
    int64_t *wc = arena_array(&p->arena, (size_t)(nin * oc), sizeof(int64_t));
    double *wd = arena_array(&p->arena, (size_t)(nin * oc), sizeof(double));
    ir_conv_dense_weights(g, n, wc, wd);
    k->xsrc = k->x;
    k->nsrc = k->nx;
    k->x = p->coloff[id];
    k->nx = k->npix * nin;
    return build_dense_w(p, k, d, n, wc, wd, nin, oc);
}

static int build_kernel(Plan *p, Kernel *k, Diag *d, int id)
{
    const Graph *g = p->g;
    const Node *n = &g->n[id];
    k->op = n->op;
    k->node = id;
    k->y = p->off[n->out];
    k->ny = ir_numel(&g->t[n->out]);
    k->tout = g->t[n->out].type;
    if (n->op != OP_INPUT) {
        k->x = p->off[n->in[0]];
        k->nx = ir_numel(&g->t[n->in[0]]);
        k->tin = g->t[n->in[0]].type;
    }
    switch (n->op) {
    case OP_INPUT:
    case OP_RELU:
    case OP_RESHAPE:
        break;
    case OP_DENSE:
        return build_dense(p, k, d, n);
    case OP_CONV1D:
    case OP_CONV2D:
        return build_conv(p, k, d, n, id);
    case OP_MAXPOOL1D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL1D:
    case OP_AVGPOOL2D: {
        int oc;
        build_window(p, k, n, &oc);
        k->acc = n->accum;
        k->alpha = n->count_pad;
        int f = fx_frac(k->tin) > fx_frac(k->acc) ? fx_frac(k->tin) : fx_frac(k->acc);
        if (mag_bits(k->tin) + (f - fx_frac(k->tin)) > 61 || mag_bits(k->acc) + (f - fx_frac(k->acc)) > 61)
            return plan_err(d, g, n, "expected the input and accumulator types to align within 62 bits, got types "
                                     "whose fractional bits are too far apart");
        break;
    }
    case OP_PAD:
    case OP_UPSAMPLE:
    case OP_TRANSPOSE:
    case OP_CONCAT:
        k->tab = arena_array(&p->arena, (size_t)k->ny, sizeof(int32_t));
        ir_gather_table(g, n, k->tab);
        if (n->op == OP_CONCAT) {
            k->x2 = p->off[n->in[1]];
            k->tin2 = g->t[n->in[1]].type;
            k->fin2 = fx_frac(k->tin2);
        }
        break;
    case OP_SUB:
    case OP_MUL:
    case OP_AVERAGE:
    case OP_MAXIMUM:
    case OP_MINIMUM: {
        k->x2 = p->off[n->in[1]];
        k->tin2 = g->t[n->in[1]].type;
        k->fin2 = fx_frac(k->tin2);
        int f1 = fx_frac(k->tin), f2 = k->fin2, f = f1 > f2 ? f1 : f2;
        if (n->op != OP_MUL && (mag_bits(k->tin) + (f - f1) > 60 || mag_bits(k->tin2) + (f - f2) > 60))
            return plan_err(d, g, n, "expected the two inputs to combine within 62 bits, got types that are too wide "
                                     "or whose fractional bits are too far apart");
        break;
    }
    case OP_AFFINE:
        if (n->in[1] >= 0) {
            k->sc = g->t[n->in[1]].codes;
            k->scf = g->t[n->in[1]].data;
            k->fsc = fx_frac(g->t[n->in[1]].type);
        }
        if (n->in[2] >= 0) {
            k->sh = g->t[n->in[2]].codes;
            k->shf = g->t[n->in[2]].data;
            k->fsh = fx_frac(g->t[n->in[2]].type);
        }
        if (emu_elem_wide(g, n) < 0)   /* computed on 128 bits (fx_wide.h) */
            return plan_err(d, g, n, "expected the product and the shift to align within 126 bits, got types "
                                     "whose fractional bits are too far apart");
        break;
    case OP_ADD: {
        k->x2 = p->off[n->in[1]];
        k->tin2 = g->t[n->in[1]].type;
        /* the two inputs are summed at the finer LSB: each aligned term must fit 61 bits */
        int f1 = fx_frac(k->tin), f2 = fx_frac(k->tin2), f = f1 > f2 ? f1 : f2;
        if (mag_bits(k->tin) + (f - f1) > 61 || mag_bits(k->tin2) + (f - f2) > 61)
            return plan_err(d, g, n, "expected the two inputs to align within 62 bits, got types whose fractional "
                                     "bits are too far apart");
        break;
    }
    case OP_EMBED: {   /* the table's rows cast once to the output type: utab[row * nout + i] */
        const Tensor *W = &g->t[n->in[1]];
        k->nin = W->const_dims[0];
        k->nout = W->const_dims[1];
        k->wf = W->data;
        k->utab = arena_array(&p->arena, (size_t)(k->nin * k->nout), sizeof(int64_t));
        for (long e = 0; e < k->nin * k->nout; e++)
            k->utab[e] = fx_cast_to(W->codes[e], fx_frac(W->type), k->tout);
        break;
    }
    case OP_PRELU:   /* per-element slopes: codes of their (weight) type */
        k->sc = g->t[n->in[1]].codes;
        k->scf = g->t[n->in[1]].data;
        k->fsc = fx_frac(g->t[n->in[1]].type);   /* products on 128 bits (fx_wide.h) */
        break;
    case OP_LEAKYRELU:
        k->alpha = n->alpha;
        k->a_code = fx_quant_double(n->alpha, n->alpha_t);
        k->fa = fx_frac(n->alpha_t);   /* products on 128 bits (fx_wide.h) */
        break;
    case OP_THRESHRELU:   /* x > theta as the input code x > a_code; fa: -1 every code passes, 1 none does */
        k->alpha = n->alpha;
        k->fa = ir_threshold_cut(n, k->tin, &k->a_code);
        break;
    case OP_HARDSIGMOID:
        k->alpha = n->alpha;
        k->beta = n->beta;
        k->a_code = fx_quant_double(n->alpha, n->alpha_t);
        k->fa = fx_frac(n->alpha_t);
        k->b_code = fx_quant_double(n->beta, n->beta_t);
        k->fb = fx_frac(n->beta_t);
        if (emu_elem_wide(g, n) < 0)   /* x*slope + shift on 128 bits (fx_wide.h) */
            return plan_err(d, g, n, "expected the product and the shift to align within 126 bits, got types "
                                     "whose fractional bits are too far apart");
        break;
    case OP_THRESHOLD:   /* thresholds in the input's type: sc = upper (or only), sh = lower */
        k->sc = g->t[n->in[1]].codes;
        k->scf = g->t[n->in[1]].data;
        if (n->in[2] >= 0) {
            k->sh = g->t[n->in[2]].codes;
            k->shf = g->t[n->in[2]].data;
        }
        if (fx_frac(g->t[n->in[1]].type) != fx_frac(k->tin))
            return plan_err(d, g, n, "internal: thresholds not at the input's LSB");
        break;
    case OP_QUANT:
        k->qt = n->qtypes;
        k->nq = n->nq;
        break;
    case OP_CLIP:
        k->alpha = n->alpha;
        k->beta = n->beta;
        k->clip_lo = fx_quant_double(n->alpha, k->tout);
        k->clip_hi = fx_quant_double(n->beta, k->tout);
        break;
    case OP_SIGMOID:
    case OP_TANH:
    case OP_SOFTPLUS:
    case OP_SOFTSIGN:
    case OP_LUT:
    case OP_SELU:
    case OP_ELU: {
        int fell;
        k->alpha = n->alpha;   /* the --float path */
        k->beta = n->op == OP_ELU ? 1.0 : n->beta;
        if (act_unary_init(&k->ua, &p->arena, d, g, n, &fell) < 0)
            return -1;
        long codes = k->tin.w <= 16 ? (long)(fx_type_max(k->tin) - fx_type_min(k->tin) + 1) : 0;
        if (k->tin.w <= 16 && codes <= UNARY_TABLE_MAX_CODES) {
            k->ulo = fx_type_min(k->tin);
            k->utab = arena_array(&p->arena, (size_t)codes, sizeof(int64_t));
            for (long c = 0; c < codes; c++)
                k->utab[c] = act_unary_eval(&k->ua, k->ulo + c);
        }
        break;
    }
    case OP_SOFTMAX: {
        const Tensor *x = &g->t[n->in[0]];
        k->outer = 1;
        k->inner = 1;
        for (int a = 0; a < x->rank; a++) {
            if (a < n->axis)
                k->outer *= x->dims[a];
            else if (a > n->axis)
                k->inner *= x->dims[a];
        }
        k->len = x->dims[n->axis];
        if (act_softmax_init(&k->sa, &p->arena, d, g, n, (int)k->len) < 0)
            return -1;
        break;
    }
    case OP_LAYERNORM:
        if (act_layernorm_init(&k->ln, &p->arena, d, g, n) < 0)
            return -1;
        k->len = k->ln.p.n;
        k->outer = k->ln.rows;
        k->scf = g->t[n->in[1]].data;
        k->shf = g->t[n->in[2]].data;
        k->alpha = n->epsilon;
        break;
    case OP_RNN:   /* unrolled by the rnn_unroll pass */
    case OP_DOT:   /* made a Dense by the dot pass */
    case OP_COUNT_:
        break;
    }
    return 0;
}

Plan *emu_plan_new(const Graph *g, Diag *d)
{
    Plan *p = calloc(1, sizeof(Plan));
    if (!p)
        return NULL;
    p->g = g;
    if (g->ninputs < 1 || g->noutputs < 1) {
        diag_error(d, "%s: expected at least one input and one output, got %zu inputs and %zu outputs", g->file,
                   g->ninputs, g->noutputs);
        free(p);
        return NULL;
    }
    p->off = arena_array(&p->arena, g->nt, sizeof(long));
    for (size_t t = 0; t < g->nt; t++) {
        p->off[t] = -1;
        if (g->t[t].is_const)
            continue;
        if (g->t[t].producer < 0 && !is_input(g, (int)t))
            continue;
        p->off[t] = p->nbuf;
        p->nbuf += ir_numel(&g->t[t]);
    }
    /* im2col scratch of convolutions (output pixels x window x input channels): one region,
     * as large as the largest, shared by every convolution (each fills it and reads it back
     * before the next kernel runs) */
    long maxcol = 1, maxscratch = 0;
    p->coloff = arena_array(&p->arena, g->nn ? g->nn : 1, sizeof(long));
    for (size_t id = 0; id < g->nn; id++) {
        const Node *n = &g->n[id];
        if (n->dead || (n->op != OP_CONV1D && n->op != OP_CONV2D))
            continue;
        int h, w, c;
        ir_hwc(&g->t[n->out], &h, &w, &c);
        long ncol = (long)n->kernel[0] * n->kernel[1] * g->t[n->in[0]].dims[g->t[n->in[0]].rank - 1];
        maxcol = ncol > maxcol ? ncol : maxcol;
        p->coloff[id] = p->nbuf;
        if ((long)h * w * ncol > maxscratch)
            maxscratch = (long)h * w * ncol;
    }
    p->nbuf += maxscratch;
    p->buf = arena_array(&p->arena, (size_t)p->nbuf, sizeof(int64_t));
    p->fbuf = arena_array(&p->arena, (size_t)p->nbuf, sizeof(double));
    for (size_t k = 0; k < g->ninputs; k++)
        p->nin += ir_numel(&g->t[g->inputs[k]]);
    for (size_t k = 0; k < g->noutputs; k++)
        p->nout += ir_numel(&g->t[g->outputs[k]]);
    p->ofrac = arena_array(&p->arena, (size_t)p->nout + 1, sizeof(int));
    for (size_t k = 0, e = 0; k < g->noutputs; k++)
        for (long i = 0; i < ir_numel(&g->t[g->outputs[k]]); i++)
            p->ofrac[e++] = fx_frac(g->t[g->outputs[k]].type);
    long maxin = maxcol;
    for (size_t t = 0; t < g->nt; t++)
        if (!g->t[t].is_const && ir_numel(&g->t[t]) > maxin)
            maxin = ir_numel(&g->t[t]);
    p->xs = arena_array(&p->arena, (size_t)maxin, sizeof(int32_t));
    p->k = arena_array(&p->arena, g->nn, sizeof(Kernel));
    for (size_t id = 0; id < g->nn; id++) {
        if (g->n[id].dead)
            continue;
        if (build_kernel(p, &p->k[p->nk], d, (int)id) < 0) {
            emu_plan_free(p);
            return NULL;
        }
        p->nk++;
    }
    return p;
}

void emu_plan_free(Plan *p)
{
    if (!p)
        return;
    arena_free(&p->arena);
    free(p);
}

/* ---- fixed point ------------------------------------------------------- */

/* The narrow path: 32-bit products and a 32-bit modular sum (vectorizes). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static void run_dense_narrow(const Kernel *k, int64_t *buf, int32_t *xs)
{
    const int64_t *x = buf + k->x;
    int64_t *y = buf + k->y;
    int fa = fx_frac(k->acc), pd = k->pd;
    for (long r = 0; r < k->rows; r++, x += k->nin, y += k->nout) {
        for (long i = 0; i < k->nin; i++)
            xs[i] = (int32_t)x[i];
        for (long o = 0; o < k->nout; o++) {
            const int32_t *w = k->w32 + o * k->nin;
            uint32_t acc = (uint32_t)k->b32[o];
            for (long i = 0; i < k->nin; i++)
                acc += (uint32_t)((xs[i] * w[i]) >> pd);
            int64_t a = fx_wrap(acc, k->acc.w, k->acc.sign);
            y[o] = fx_cast_to(a, fa, k->tout);
        }
    }
}

/* hls4ml's order (ACC_* in ir.h): each product cast to the accumulator, then added one at a time, each sum cast */
static void run_dense_chain(const Kernel *k, int64_t *buf)
{
    const int64_t *x = buf + k->x;
    int64_t *y = buf + k->y;
    int fa = fx_frac(k->acc), fp = fa + k->pd;   /* fp: the products' fractional bits */
    for (long r = 0; r < k->rows; r++, x += k->nin, y += k->nout) {
        for (long o = 0; o < k->nout; o++) {
            int64_t b = k->bacc ? k->bacc[o] : 0;
            int64_t a = k->chain == ACC_BIAS_FIRST ? b : 0;
            for (long e = k->nzs[o]; e < k->nzs[o + 1]; e++)
                a = fx_cast_to(a + fx_cast128_to((fx_i128)x[k->nzi[e]] * k->nzw[e], fp, k->acc), fa, k->acc);
            if (k->chain == ACC_BIAS_LAST)
                a = fx_cast_to(a + b, fa, k->acc);
            y[o] = fx_cast_to(a, fa, k->tout);
        }
    }
}

/* The 128-bit path: products exact, summed modulo 2^128 (exact when the sum fits 127 bits, checked at
 * plan time for a saturating accumulator; a wrapping one keeps only the low acc.w <= 64 bits anyway) */
static void run_dense_wide(const Kernel *k, int64_t *buf)
{
    const int64_t *x = buf + k->x;
    int64_t *y = buf + k->y;
    int fa = fx_frac(k->acc);
    int simple = k->acc.q == FXQ_TRN || k->pd <= 0;
    int rs = k->pd < 127 ? k->pd : 127, ls = -k->pd;   /* |product| <= 2^126 */
    for (long r = 0; r < k->rows; r++, x += k->nin, y += k->nout) {
        for (long o = 0; o < k->nout; o++) {
            fx_u128 acc = k->bacc ? (fx_u128)(fx_i128)k->bacc[o] : 0;
            long e = k->nzs[o], end = k->nzs[o + 1];
            if (simple && k->pd >= 0) {
                for (; e < end; e++)
                    acc += (fx_u128)(((fx_i128)x[k->nzi[e]] * k->nzw[e]) >> rs);
            } else if (simple) {
                for (; e < end && ls < 128; e++)
                    acc += (fx_u128)((fx_i128)x[k->nzi[e]] * k->nzw[e]) << ls;
            } else {
                for (; e < end; e++)
                    acc += (fx_u128)fx_quantize128((fx_i128)x[k->nzi[e]] * k->nzw[e], k->pd, k->acc.q);
            }
            int64_t a = k->acc.o == FXO_WRAP ? fx_wrap((uint64_t)acc, k->acc.w, k->acc.sign)
                                             : fx_cast128_to((fx_i128)acc, fa, k->acc);
            y[o] = fx_cast_to(a, fa, k->tout);
        }
    }
}

static void run_dense(const Kernel *k, int64_t *buf)
{
    const int64_t *x = buf + k->x;
    int64_t *y = buf + k->y;
    int fa = fx_frac(k->acc), fy = fx_frac(k->tout);
    int simple = k->acc.q == FXQ_TRN || k->pd <= 0;
    /* |product| < 2^63, so flooring by 2^pd for pd >= 63 is the same as by 2^63;
     * products shifted left by 64 or more add 0 modulo 2^64 */
    int rs = k->pd < 63 ? k->pd : 63, ls = -k->pd;
    for (long r = 0; r < k->rows; r++, x += k->nin, y += k->nout) {
        for (long o = 0; o < k->nout; o++) {
            /* unsigned arithmetic: wraps modulo 2^64, exact when the sum fits */
            uint64_t acc = k->bacc ? (uint64_t)k->bacc[o] : 0;
            long e = k->nzs[o], end = k->nzs[o + 1];
            if (simple && k->pd >= 0) {
                for (; e < end; e++)
                    acc += (uint64_t)((x[k->nzi[e]] * k->nzw[e]) >> rs);
            } else if (simple) {
                for (; e < end && ls < 64; e++)
                    acc += (uint64_t)(x[k->nzi[e]] * k->nzw[e]) << ls;
            } else {
                for (; e < end; e++)
                    acc += (uint64_t)fx_quantize(x[k->nzi[e]] * k->nzw[e], k->pd, k->acc.q);
            }
            int64_t a = k->acc.o == FXO_WRAP ? fx_wrap(acc, k->acc.w, k->acc.sign)
                                             : fx_cast_to((int64_t)acc, fa, k->acc);
            y[o] = fx_cast_to(a, fa, k->tout);
        }
    }
    (void)fy;
}

/* im2col: the window of every output pixel, zero in the padding (it adds nothing) */
static void gather_windows(const Kernel *k, int64_t *buf)
{
    int64_t *col = buf + k->x;
    const int64_t *src = buf + k->xsrc;
    for (long q = 0; q < k->npix * k->taps; q++, col += k->cin) {
        int32_t s = k->tab[q];
        if (s < 0)
            memset(col, 0, sizeof(int64_t) * (size_t)k->cin);
        else
            memcpy(col, src + (long)s * k->cin, sizeof(int64_t) * (size_t)k->cin);
    }
}

static void gather_windows_float(const Kernel *k, double *buf)
{
    double *col = buf + k->x;
    const double *src = buf + k->xsrc;
    for (long q = 0; q < k->npix * k->taps; q++, col += k->cin) {
        int32_t s = k->tab[q];
        for (long c = 0; c < k->cin; c++)
            col[c] = s < 0 ? 0.0 : src[(long)s * k->cin + c];
    }
}

/* Pooling as hls4ml computes it: max cast to the accumulator, or the window
 * summed into the accumulator (each addition cast to it, padding skipped) and
 * divided by the pixel count with truncation toward zero; then the result cast. */
static void run_pool(const Kernel *k, int64_t *buf)
{
    const int64_t *x = buf + k->x;
    int64_t *y = buf + k->y;
    int fin = fx_frac(k->tin), fa = fx_frac(k->acc), f = fin > fa ? fin : fa;
    int is_max = k->op == OP_MAXPOOL1D || k->op == OP_MAXPOOL2D;
    for (long q = 0; q < k->npix; q++) {
        const int32_t *t = k->tab + q * k->taps;
        for (long c = 0; c < k->cin; c++) {
            int64_t a = 0, m = 0;
            long cnt = 0;
            for (long j = 0; j < k->taps; j++) {
                if (t[j] < 0)
                    continue;
                int64_t v = x[(long)t[j] * k->cin + c];
                if (is_max)
                    m = cnt == 0 || v > m ? v : m;
                else
                    a = fx_cast_to(a * ((int64_t)1 << (f - fa)) + v * ((int64_t)1 << (f - fin)), f, k->acc);
                cnt++;
            }
            if (is_max) {
                a = fx_cast_to(m, fin, k->acc);
            } else {
                long div = k->alpha != 0 ? k->taps : cnt;
                a = div > 0 ? a / div : 0;
            }
            y[q * k->cin + c] = fx_cast_to(a, fa, k->tout);
        }
    }
}

static void run_kernel(const Plan *p, const Kernel *k, int64_t *buf)
{
    const int64_t *x = buf + k->x;
    int64_t *y = buf + k->y;
    int fin = fx_frac(k->tin);
    switch (k->op) {
    case OP_INPUT:
        break;
    case OP_CONV1D:
    case OP_CONV2D:
        gather_windows(k, buf);
        /* fall through */
    case OP_DENSE:
        if (k->narrow)
            run_dense_narrow(k, buf, p->xs);
        else if (k->chain != ACC_EXACT)
            run_dense_chain(k, buf);
        else if (k->wide)
            run_dense_wide(k, buf);
        else
            run_dense(k, buf);
        break;
    case OP_MAXPOOL1D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL1D:
    case OP_AVGPOOL2D:
        run_pool(k, buf);
        break;
    case OP_PAD:
    case OP_UPSAMPLE:
    case OP_TRANSPOSE:
    case OP_CONCAT: {
        const int64_t *x2 = buf + k->x2;
        for (long e = 0; e < k->ny; e++) {
            int32_t s = k->tab[e];
            y[e] = s < 0 ? 0 : s < k->nx ? fx_cast_to(x[s], fin, k->tout) : fx_cast_to(x2[s - k->nx], k->fin2, k->tout);
        }
        break;
    }
    case OP_SUB:
    case OP_MUL:
    case OP_AVERAGE:
    case OP_MAXIMUM:
    case OP_MINIMUM: {
        const int64_t *x2 = buf + k->x2;
        int f2 = k->fin2, f = fin > f2 ? fin : f2;
        if (k->op == OP_MUL) {   /* the exact product on 128 bits */
            for (long e = 0; e < k->ny; e++)
                y[e] = fx_cast128_to((fx_i128)x[e] * x2[e], fin + f2, k->tout);
            break;
        }
        for (long e = 0; e < k->ny; e++) {
            int64_t a = x[e] * ((int64_t)1 << (f - fin)), b = x2[e] * ((int64_t)1 << (f - f2));
            switch (k->op) {
            case OP_SUB: y[e] = fx_cast_to(a - b, f, k->tout); break;
            case OP_AVERAGE: y[e] = fx_cast_to(a + b, f + 1, k->tout); break;   /* (a + b) * 2^-1, exact */
            case OP_MAXIMUM: y[e] = a > b ? fx_cast_to(x[e], fin, k->tout) : fx_cast_to(x2[e], f2, k->tout); break;
            default: y[e] = a < b ? fx_cast_to(x[e], fin, k->tout) : fx_cast_to(x2[e], f2, k->tout); break;
            }
        }
        break;
    }
    case OP_AFFINE:
        for (long e = 0; e < k->ny; e++) {
            /* exact x*s + t on 128 bits, then one cast */
            fx_i128 v = x[e];
            int f = fin;
            if (k->sc) {
                v *= k->sc[e];
                f += k->fsc;
            }
            if (k->sh) {
                fx_i128 t = k->sh[e];
                if (k->fsh > f) {
                    v *= (fx_i128)1 << (k->fsh - f);
                    f = k->fsh;
                } else {
                    t *= (fx_i128)1 << (f - k->fsh);
                }
                v += t;
            }
            y[e] = fx_cast128_to(v, f, k->tout);
        }
        break;
    case OP_ADD: {
        const int64_t *x2 = buf + k->x2;
        int f2 = fx_frac(k->tin2), f = fin > f2 ? fin : f2;
        for (long e = 0; e < k->ny; e++)
            y[e] = fx_cast_to(x[e] * ((int64_t)1 << (f - fin)) + x2[e] * ((int64_t)1 << (f - f2)), f, k->tout);
        break;
    }
    case OP_RELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > 0 ? fx_cast_to(x[e], fin, k->tout) : 0;
        break;
    case OP_LEAKYRELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > 0 ? fx_cast_to(x[e], fin, k->tout) : fx_cast128_to((fx_i128)x[e] * k->a_code, fin + k->fa, k->tout);
        break;
    case OP_EMBED:
        for (long j = 0; j < k->nx; j++)
            for (long i = 0; i < k->nout; i++) {
                long q = ir_embed_pos(k->tin, x[j], k->nin, k->nout, i);
                y[j * k->nout + i] = q < 0 ? 0 : k->utab[q];
            }
        break;
    case OP_PRELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > 0 ? fx_cast_to(x[e], fin, k->tout) : fx_cast128_to((fx_i128)x[e] * k->sc[e], fin + k->fsc, k->tout);
        break;
    case OP_THRESHRELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = k->fa < 0 || (k->fa == 0 && x[e] > k->a_code) ? fx_cast_to(x[e], fin, k->tout) : 0;
        break;
    case OP_HARDSIGMOID:
        for (long e = 0; e < k->ny; e++) {
            int f = fin + k->fa;
            fx_i128 v = (fx_i128)x[e] * k->a_code, t = k->b_code;   /* on 128 bits (fx_wide.h) */
            if (k->fb > f) {
                v *= (fx_i128)1 << (k->fb - f);
                f = k->fb;
            } else {
                t *= (fx_i128)1 << (f - k->fb);
            }
            v += t;
            if (f >= 0 && f < 126 && v > ((fx_i128)1 << f))   /* |v| <= 2^126: no clamp needed above */
                v = (fx_i128)1 << f;   /* 1 */
            else if (v < 0)
                v = 0;
            y[e] = fx_cast128_to(v, f, k->tout);
        }
        break;
    case OP_THRESHOLD:   /* values +-1 (and 0) in the output's int<2> codes */
        for (long e = 0; e < k->ny; e++)
            y[e] = !k->sh ? (x[e] >= k->sc[e] ? 1 : -1) : x[e] > k->sc[e] ? 1 : x[e] <= k->sh[e] ? -1 : 0;
        break;
    case OP_QUANT:
        for (long e = 0; e < k->ny; e++) {
            FxType t = k->qt[k->nq == 1 ? 0 : e];   /* each element cast to its type, held in the container */
            y[e] = t.w ? fx_cast_to(fx_cast_to(x[e], fin, t), fx_frac(t), k->tout) : 0;
        }
        break;
    case OP_CLIP:
        for (long e = 0; e < k->ny; e++) {
            double v = fx_to_double(x[e], fin);
            y[e] = v < k->alpha ? k->clip_lo : v > k->beta ? k->clip_hi : fx_cast_to(x[e], fin, k->tout);
        }
        break;
    case OP_SIGMOID:
    case OP_TANH:
    case OP_SOFTPLUS:
    case OP_SOFTSIGN:
    case OP_LUT:
    case OP_SELU:
    case OP_ELU:
        if (k->utab)
            for (long e = 0; e < k->ny; e++)
                y[e] = k->utab[x[e] - k->ulo];
        else
            for (long e = 0; e < k->ny; e++)
                y[e] = act_unary_eval(&k->ua, x[e]);
        break;
    case OP_SOFTMAX:
        for (long o = 0; o < k->outer; o++)
            for (long i = 0; i < k->inner; i++) {
                long base = o * k->len * k->inner + i;
                act_softmax_eval(&k->sa, x + base, y + base, k->inner);
            }
        break;
    case OP_RESHAPE:
        memmove(y, x, sizeof(int64_t) * (size_t)k->ny);
        break;
    case OP_LAYERNORM:
        for (long r = 0; r < k->outer; r++)
            fx_layernorm_row(&k->ln.p, k->ln.table, k->ln.scale, k->ln.bias, x + r * k->len, y + r * k->len,
                             k->ln.scratch);
        break;
    case OP_RNN:   /* unrolled by the rnn_unroll pass */
    case OP_DOT:   /* made a Dense by the dot pass */
    case OP_COUNT_:
        break;
    }
    (void)p;
}

static void run_event_codes(Plan *p)
{
    for (size_t i = 0; i < p->nk; i++)
        run_kernel(p, &p->k[i], p->buf);
}

int emu_output_frac(const Plan *p, long e) { return p->ofrac[e]; }

/* the event's inputs (one after the other, in graph order) into the buffer, and its outputs out of it */
static void put_inputs(const Plan *p, int64_t *buf, const int64_t *x)
{
    for (size_t k = 0; k < p->g->ninputs; k++) {
        int t = p->g->inputs[k];
        long n = ir_numel(&p->g->t[t]);
        memcpy(buf + p->off[t], x, sizeof(int64_t) * (size_t)n);
        x += n;
    }
}

static void get_outputs(const Plan *p, const int64_t *buf, int64_t *y)
{
    for (size_t k = 0; k < p->g->noutputs; k++) {
        int t = p->g->outputs[k];
        long n = ir_numel(&p->g->t[t]);
        memcpy(y, buf + p->off[t], sizeof(int64_t) * (size_t)n);
        y += n;
    }
}

void emu_run(Plan *p, const double *x, int64_t *y, size_t n)
{
    for (size_t ev = 0; ev < n; ev++) {
        const double *xe = x + ev * (size_t)p->nin;
        for (size_t k = 0; k < p->g->ninputs; k++) {
            int t = p->g->inputs[k];
            FxType tin = p->g->t[t].type;
            int64_t *in = p->buf + p->off[t];
            for (long e = 0, ne = ir_numel(&p->g->t[t]); e < ne; e++)
                in[e] = fx_quant_double(*xe++, tin);
        }
        run_event_codes(p);
        get_outputs(p, p->buf, y + ev * (size_t)p->nout);
    }
}

void emu_run_codes(Plan *p, const int64_t *x, int64_t *y, size_t n)
{
    for (size_t ev = 0; ev < n; ev++) {
        put_inputs(p, p->buf, x + ev * (size_t)p->nin);
        run_event_codes(p);
        get_outputs(p, p->buf, y + ev * (size_t)p->nout);
    }
}

/* ---- double precision -------------------------------------------------- */

static void run_kernel_float(const Kernel *k, double *buf)
{
    const double *x = buf + k->x;
    double *y = buf + k->y;
    switch (k->op) {
    case OP_INPUT:
        break;
    case OP_MAXPOOL1D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL1D:
    case OP_AVGPOOL2D:
        for (long q = 0; q < k->npix; q++)
            for (long c = 0; c < k->cin; c++) {
                const int32_t *t = k->tab + q * k->taps;
                double a = 0, m = 0;
                long cnt = 0;
                for (long j = 0; j < k->taps; j++) {
                    if (t[j] < 0)
                        continue;
                    double v = x[(long)t[j] * k->cin + c];
                    m = cnt == 0 || v > m ? v : m;
                    a += v;
                    cnt++;
                }
                long div = k->alpha != 0 ? k->taps : cnt;
                y[q * k->cin + c] = k->op == OP_MAXPOOL1D || k->op == OP_MAXPOOL2D ? m : a / (double)(div ? div : 1);
            }
        break;
    case OP_PAD:
    case OP_UPSAMPLE:
    case OP_TRANSPOSE:
    case OP_CONCAT:
        for (long e = 0; e < k->ny; e++) {
            int32_t s = k->tab[e];
            y[e] = s < 0 ? 0.0 : s < k->nx ? x[s] : buf[k->x2 + s - k->nx];
        }
        break;
    case OP_SUB:
    case OP_MUL:
    case OP_AVERAGE:
    case OP_MAXIMUM:
    case OP_MINIMUM:
        for (long e = 0; e < k->ny; e++) {
            double a = x[e], b = buf[k->x2 + e];
            y[e] = k->op == OP_SUB ? a - b : k->op == OP_MUL ? a * b : k->op == OP_AVERAGE ? (a + b) * 0.5
                 : k->op == OP_MAXIMUM ? (a > b ? a : b) : (a < b ? a : b);
        }
        break;
    case OP_CONV1D:
    case OP_CONV2D:
        gather_windows_float(k, buf);
        /* fall through */
    case OP_DENSE:
        for (long r = 0; r < k->rows; r++)
            for (long o = 0; o < k->nout; o++) {
                double acc = k->bf ? k->bf[o] : 0.0;
                for (long i = 0; i < k->nin; i++)
                    acc += x[r * k->nin + i] * k->wf[i * k->nout + o];
                y[r * k->nout + o] = acc;
            }
        break;
    case OP_AFFINE:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] * (k->scf ? k->scf[e] : 1.0) + (k->shf ? k->shf[e] : 0.0);
        break;
    case OP_ADD:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] + buf[k->x2 + e];
        break;
    case OP_RELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > 0 ? x[e] : 0.0;
        break;
    case OP_LEAKYRELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > 0 ? x[e] : k->alpha * x[e];
        break;
    case OP_EMBED:   /* the index as Keras casts it (toward zero); none outside the table: 0 */
        for (long j = 0; j < k->nx; j++) {
            double r = trunc(x[j]);
            for (long i = 0; i < k->nout; i++)
                y[j * k->nout + i] = r >= 0 && r < (double)k->nin ? k->wf[(long)r * k->nout + i] : 0.0;
        }
        break;
    case OP_PRELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > 0 ? x[e] : k->scf[e] * x[e];
        break;
    case OP_THRESHRELU:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > k->alpha ? x[e] : 0.0;
        break;
    case OP_HARDSIGMOID:
        for (long e = 0; e < k->ny; e++) {
            double v = k->alpha * x[e] + k->beta;
            y[e] = v > 1 ? 1 : v < 0 ? 0 : v;
        }
        break;
    case OP_CLIP:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] < k->alpha ? k->alpha : x[e] > k->beta ? k->beta : x[e];
        break;
    case OP_THRESHOLD:
        for (long e = 0; e < k->ny; e++)
            y[e] = !k->shf ? (x[e] >= k->scf[e] ? 1.0 : -1.0) : x[e] > k->scf[e] ? 1.0 : x[e] <= k->shf[e] ? -1.0 : 0.0;
        break;
    case OP_SIGMOID:
        for (long e = 0; e < k->ny; e++)
            y[e] = 1.0 / (1.0 + exp(-x[e]));
        break;
    case OP_TANH:
        for (long e = 0; e < k->ny; e++)
            y[e] = tanh(x[e]);
        break;
    case OP_SOFTPLUS:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] > 30 ? x[e] : log1p(exp(x[e]));
        break;
    case OP_SOFTSIGN:
        for (long e = 0; e < k->ny; e++)
            y[e] = x[e] / (fabs(x[e]) + 1);
        break;
    case OP_LUT:   /* the table at the nearest grid point */
        for (long e = 0; e < k->ny; e++)
            y[e] = act_lut_value(k->ua.lut, k->ua.nlut, k->ua.lut_lo, k->ua.lut_f, x[e]);
        break;
    case OP_SELU:
    case OP_ELU:   /* beta (the scale) is 1 */
        for (long e = 0; e < k->ny; e++)
            y[e] = k->beta * (x[e] >= 0 ? x[e] : k->alpha * expm1(x[e]));
        break;
    case OP_SOFTMAX:
        for (long o = 0; o < k->outer; o++)
            for (long i = 0; i < k->inner; i++) {
                long base = o * k->len * k->inner + i;
                double mx = x[base];
                for (long j = 1; j < k->len; j++)
                    mx = x[base + j * k->inner] > mx ? x[base + j * k->inner] : mx;
                double s = 0;
                for (long j = 0; j < k->len; j++)
                    s += exp(x[base + j * k->inner] - mx);
                for (long j = 0; j < k->len; j++)
                    y[base + j * k->inner] = exp(x[base + j * k->inner] - mx) / s;
            }
        break;
    case OP_QUANT:   /* --float: quantizers are the identity, except that pruned elements are 0 */
        for (long e = 0; e < k->ny; e++)
            y[e] = k->qt[k->nq == 1 ? 0 : e].w ? x[e] : 0.0;
        break;
    case OP_RESHAPE:
        memmove(y, x, sizeof(double) * (size_t)k->ny);
        break;
    case OP_LAYERNORM:   /* (x - mean) / sqrt(var + epsilon) * scale + bias, the biased variance, in double */
        for (long r = 0; r < k->outer; r++) {
            const double *xr = x + r * k->len;
            double m = 0, v = 0;
            for (long j = 0; j < k->len; j++)
                m += xr[j];
            m /= (double)k->len;
            for (long j = 0; j < k->len; j++)
                v += (xr[j] - m) * (xr[j] - m);
            v /= (double)k->len;
            for (long j = 0; j < k->len; j++)
                y[r * k->len + j] = (xr[j] - m) / sqrt(v + k->alpha) * k->scf[j] + k->shf[j];
        }
        break;
    case OP_RNN:   /* unrolled by the rnn_unroll pass */
    case OP_DOT:   /* made a Dense by the dot pass */
    case OP_COUNT_:
        break;
    }
}

void emu_run_float(Plan *p, const double *x, double *y, size_t n)
{
    for (size_t ev = 0; ev < n; ev++) {
        const double *xe = x + ev * (size_t)p->nin;
        for (size_t k = 0; k < p->g->ninputs; k++) {
            int t = p->g->inputs[k];
            long ne = ir_numel(&p->g->t[t]);
            memcpy(p->fbuf + p->off[t], xe, sizeof(double) * (size_t)ne);
            xe += ne;
        }
        for (size_t i = 0; i < p->nk; i++)
            run_kernel_float(&p->k[i], p->fbuf);
        double *ye = y + ev * (size_t)p->nout;
        for (size_t k = 0; k < p->g->noutputs; k++) {
            int t = p->g->outputs[k];
            long ne = ir_numel(&p->g->t[t]);
            memcpy(ye, p->fbuf + p->off[t], sizeof(double) * (size_t)ne);
            ye += ne;
        }
    }
}

void emu_trace(Plan *p, const double *x, int tensor, double *out, int float_mode)
{
    long n = ir_numel(&p->g->t[tensor]);
    if (float_mode) {
        double tmp[1];
        (void)tmp;
        double *y = malloc(sizeof(double) * (size_t)(p->nout ? p->nout : 1));
        emu_run_float(p, x, y, 1);
        free(y);
        memcpy(out, p->fbuf + p->off[tensor], sizeof(double) * (size_t)n);
        return;
    }
    int64_t *y = malloc(sizeof(int64_t) * (size_t)(p->nout ? p->nout : 1));
    emu_run(p, x, y, 1);
    free(y);
    int f = fx_frac(p->g->t[tensor].type);
    for (long e = 0; e < n; e++)
        out[e] = fx_to_double(p->buf[p->off[tensor] + e], f);
}
