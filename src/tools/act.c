/* act.c — sigmoid, tanh and softmax on fixed-point codes.
 * exact mode: the real function of the input value, rounded once into the
 * result type (evaluated in double precision).
 * hls4ml mode: the table sizes, table contents, index arithmetic and casts of
 * hls4ml's default io_parallel implementation, so outputs equal its C
 * simulation (see tests/ref/NOTES.md for the measured behaviour). */
#include "tools/act.h"

#include <math.h>
#include <string.h>

#include "ir/fx_act.h"

#define EXACT_MAX_CODES (1L << 16)

static double unary_real(Op op, double x)
{
    return op == OP_SIGMOID ? 1.0 / (1.0 + exp(-x)) : tanh(x);
}

static int node_err(Diag *d, const Graph *g, const Node *n, const char *msg)
{
    return diag_error(d, "%s: node '%s' (%s): %s", g->file, n->name, n->src_op, msg);
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
    *fell_back = 0;
    if (a->mode == TABLES_EXACT && a->in.w > 16) {
        a->mode = TABLES_HLS4ML;
        *fell_back = 1;
    }
    if (a->mode == TABLES_EXACT)
        return 0;
    if (a->table_size < 2 || (a->table_size & (a->table_size - 1)))
        return node_err(d, g, n, "expected table_size to be a power of two >= 2 for hls4ml tables");
    a->table = arena_array(ar, (size_t)a->table_size, sizeof(int64_t));
    /* hls4ml: the table samples the input range [-8, 8) in table_size steps;
     * entry i holds f(8 * (2i - N) / N) quantized to table_t. */
    for (int i = 0; i < a->table_size; i++) {
        double x = 8.0 * (2.0 * i - a->table_size) / a->table_size;
        a->table[i] = fx_quant_double(unary_real(a->op, x), a->table_t);
    }
    return 0;
}

int64_t act_unary_eval(const UnaryAct *a, int64_t code)
{
    int fin = fx_frac(a->in);
    if (a->mode == TABLES_EXACT)
        return fx_quant_double(unary_real(a->op, fx_to_double(code, fin)), a->out);
    /* hls4ml: index = (x * N/16) + N/2 computed in ap_fixed arithmetic of the
     * input type widened as hls4ml does, truncated toward -inf, clamped. */
    long N = a->table_size;
    int lg = 0;
    while ((1L << lg) < N)
        lg++;
    /* x * N / 16 as an exact value: code * 2^(lg-4-fin); its integer part (floor) */
    int64_t idx;
    int sh = fin - (lg - 4);
    if (sh > 0)
        idx = code >> (sh < 63 ? sh : 63);
    else
        idx = code * ((int64_t)1 << (-sh < 62 ? -sh : 62));
    idx += N / 2;
    if (idx < 0)
        idx = 0;
    if (idx > N - 1)
        idx = N - 1;
    return fx_cast_to(a->table[idx], fx_frac(a->table_t), a->out);
}

int act_softmax_init(SoftmaxAct *a, Arena *ar, Diag *d, const Graph *g, const Node *n, int len)
{
    memset(a, 0, sizeof(*a));
    a->mode = n->tables;
    a->in = g->t[n->in[0]].type;
    a->out = g->t[n->out].type;
    a->exp_t = n->exp_t;
    a->inv_t = n->inv_t;
    a->accum = n->accum;
    a->table_size = n->table_size;
    a->n = len;
    if (a->mode == TABLES_EXACT)
        return 0;
    (void)ar;
    return node_err(d, g, n, "hls4ml-compatible softmax tables are not implemented yet");
}

void act_softmax_eval(const SoftmaxAct *a, const int64_t *in, int64_t *out, long stride)
{
    fx_softmax_exact(in, out, a->n, stride, fx_frac(a->in), a->out.w, fx_frac(a->out), a->out.sign, a->out.q, a->out.o);
}
