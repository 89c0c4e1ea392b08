/* act.h — non-linear activations as functions of fixed-point codes: sigmoid,
 * tanh, selu (unary) and softmax (vector), in the two table modes (exact, hls4ml).
 * The emulator and the C back end both call these, so they agree. */
#ifndef ETN_ACT_H
#define ETN_ACT_H
#include "ir/ir.h"
/* after ir.h: fx_act.h needs fx_arith.h first */
#include "ir/fx_act.h"

/* A unary activation: out code = f(in code). */
typedef struct {
    Op op;                 /* OP_SIGMOID, OP_TANH, OP_SELU, OP_ELU, ... or OP_LUT */
    const double *lut;     /* OP_LUT: the node's table (Node.lut, nlut, lut_lo, lut_f) */
    long nlut;
    double lut_lo;
    int lut_f;
    double alpha, gamma;   /* SELU, ELU (gamma 1), exact mode: gamma * (x >= 0 ? x : alpha * (exp(x) - 1)) */
    int64_t lam;           /* SELU, hls4ml mode: lambda as a ufixed<16,1> code */
    int64_t acode;         /* ELU, hls4ml mode: alpha as a code of its type (hls4ml's param_t), fa fraction bits */
    int fa;
    TablesMode mode;       /* as configured, after fall-back */
    FxType in, out;        /* input and result types */
    FxType table_t;        /* hls4ml mode: entry type */
    int table_size;        /* hls4ml mode: entries */
    int64_t *table;        /* hls4ml mode: table_size entries, codes of table_t (arena) */
    int lgt, lgs;          /* hls4ml mode: log2 of table size and of the sampled span */
} UnaryAct;

/* Prepare; may fall back from exact to hls4ml when the input type has more
 * than 2^16 codes (*fell_back set). */
int act_unary_init(UnaryAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n, int *fell_back);
int64_t act_unary_eval(const UnaryAct *a, int64_t code);
/* OP_LUT's table entry for value x (the nearest grid point, clamped to the table) */
double act_lut_value(const double *lut, long nlut, double lo, int f, double x);

typedef struct {
    TablesMode mode;
    FxType in, out;        /* input and result types */
    int n;                 /* length of the softmax axis */
    /* hls4ml mode */
    FxSoftmaxHls p;        /* types and index widths (fx_act.h) */
    long exp_size, inv_size;
    int64_t *exp_table;    /* exp_size codes of exp_table_t (arena) */
    int64_t *inv_table;    /* inv_size codes of inv_table_t (arena) */
    int64_t *scratch;      /* n codes (arena) */
} SoftmaxAct;

int act_softmax_init(SoftmaxAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n, int len);
/* Softmax over n codes with stride `stride` between elements. */
void act_softmax_eval(const SoftmaxAct *a, const int64_t *in, int64_t *out, long stride);

/* A LayerNormalization (OP_LAYERNORM): hls4ml's row arithmetic (fx_layernorm_row) with its table, in either mode:
 * hls4ml: table_size entries 1/sqrt(10^-p + i 2^-r / table_size) computed in float as hls4ml does, indexed by
 *   trunc(var * table_size * 2^r); exact: one entry per non-negative variance code v, 1/sqrt(v + epsilon)
 *   evaluated in double and rounded once to table_t, indexed by the code itself. */
typedef struct {
    FxLayerNorm p;
    long rows;             /* rows per sample (numel / n) */
    int64_t *table;        /* p.size codes of table_t (arena) */
    const int64_t *scale;  /* n codes of the weight type */
    const int64_t *bias;   /* n codes of the bias type */
    int64_t *scratch;      /* n codes (arena) */
} LnAct;

int act_layernorm_init(LnAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n);
/* The hls4ml table's epsilon exponent p = -round(log10(epsilon)) (hls4ml's epsilon_power_of_10). */
int act_layernorm_eps_pow10(double epsilon);

#endif
