/* act.h — non-linear activations as functions of fixed-point codes: sigmoid,
 * tanh (unary) and softmax (vector), in the two table modes (exact, hls4ml).
 * The emulator and the C back end both call these, so they agree. */
#ifndef ETN_ACT_H
#define ETN_ACT_H
#include "ir/ir.h"

/* A unary activation: out code = f(in code). */
typedef struct {
    Op op;                 /* OP_SIGMOID or OP_TANH */
    TablesMode mode;       /* as configured, after fall-back */
    FxType in, out;        /* input and result types */
    FxType table_t;        /* hls4ml mode: entry type */
    int table_size;        /* hls4ml mode: entries */
    int64_t *table;        /* hls4ml mode: table_size entries, codes of table_t (arena) */
} UnaryAct;

/* Prepare; may fall back from exact to hls4ml when the input type has more
 * than 2^16 codes (*fell_back set). */
int act_unary_init(UnaryAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n, int *fell_back);
int64_t act_unary_eval(const UnaryAct *a, int64_t code);

typedef struct {
    TablesMode mode;
    FxType in, out;        /* input and result types */
    FxType exp_t, inv_t;   /* hls4ml mode: table entry types */
    FxType accum;          /* hls4ml mode: type of the sum of exponentials */
    int table_size;        /* hls4ml mode: entries of each table */
    int64_t *exp_table;    /* hls4ml mode (arena) */
    int64_t *inv_table;    /* hls4ml mode (arena) */
    int n;                 /* length of the softmax axis */
} SoftmaxAct;

int act_softmax_init(SoftmaxAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n, int len);
/* Softmax over n codes with stride `stride` between elements. */
void act_softmax_eval(const SoftmaxAct *a, const int64_t *in, int64_t *out, long stride);

#endif
