/* emulate.h — the in-process bit-exact interpreter of a typed graph, and the
 * same graph in double precision. */
#ifndef ETN_EMULATE_H
#define ETN_EMULATE_H
#include "ir/ir.h"

typedef struct Plan Plan;

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
