/* emulate.h — the in-process bit-exact interpreter of a typed graph, and the
 * same graph in double precision. */
#ifndef ETN_EMULATE_H
#define ETN_EMULATE_H
#include "ir/ir.h"

typedef struct Plan Plan;

/* Whether a node's arithmetic needs 128-bit intermediates (fx_wide.h): 1 yes, 0 no (64 bits are exact), -1 it
 * would need more than 127 bits.  Dense/conv from their weights [nin][nout]; the others from their types. */
int emu_dense_wide(FxType tin, FxType wtype, FxType acc, const int64_t *wcodes, long nin, long nout);
int emu_elem_wide(const Graph *g, const Node *n);

/* Build an execution plan for a graph after the precision pass. */
Plan *emu_plan_new(const Graph *g, Diag *d);
void emu_plan_free(Plan *p);

long emu_input_size(const Plan *p);
long emu_output_size(const Plan *p);
/* Fractional bits of output element e of an event (0 <= e < emu_output_size). */
int emu_output_frac(const Plan *p, long e);

/* Events are flat: x holds every graph input's elements one after the other (graph order),
 * y every graph output's. */

/* n events: x[n*in] doubles → y[n*out] output codes. */
void emu_run(Plan *p, const double *x, int64_t *y, size_t n);
/* n events from input codes. */
void emu_run_codes(Plan *p, const int64_t *x, int64_t *y, size_t n);
/* n events in double precision (weights unquantized). */
void emu_run_float(Plan *p, const double *x, double *y, size_t n);
/* One event; copy tensor `tensor`'s values (as doubles) into out. */
void emu_trace(Plan *p, const double *x, int tensor, double *out, int float_mode);

#endif
