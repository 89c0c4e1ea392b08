/* passes.h — IR → IR transformations, one file each, one entry point each.
 * The order of work is the list in src/api/model.c. */
#ifndef ETN_PASSES_H
#define ETN_PASSES_H
#include "config/config.h"
#include "ir/ir.h"

/* Each recurrent layer (OP_RNN) unrolled into the IR's own operations, one cell per time step (first: every
 * later pass sees the cells). */
int pass_rnn_unroll(Graph *g, Diag *d, const Config *c);
int pass_shapes(Graph *g, Diag *d, const Config *c);
int pass_constfold(Graph *g, Diag *d, const Config *c);
int pass_bnfold(Graph *g, Diag *d, const Config *c);
int pass_fuse(Graph *g, Diag *d, const Config *c);
int pass_precision(Graph *g, Diag *d, const Config *c);
/* After precision: each Dot's sum (OP_DOT) made a Dense over ones (dot.c). */
int pass_dot(Graph *g, Diag *d, const Config *c);

/* Analysis (intervals.c), not a pass: after precision, bounds on every live node's values for any input of
 * the graph inputs' types.  out: 6 doubles per live node in order: the accumulator's bounds (sums; else the
 * value's), the value's bounds before the result cast, whether the accumulator and the result type hold them. */
int ir_intervals(const Graph *g, Diag *d, double *out);

#endif
