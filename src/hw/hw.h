/* hw.h — the hardware layer's entry point: from a typed graph to a finished,
 * scheduled and estimated netlist (hw.c runs the steps: lower, schedule,
 * estimate; the netlist verifier after each), which the writers read. */
#ifndef ETN_HW_HW_H
#define ETN_HW_HW_H
#include "hw/netlist.h"

/* Build the design of g for opt; 0, or -1 with a message (r is then empty). */
int hw_build(HwDesign *r, const Graph *g, const HwOptions *opt, Diag *d);
void hw_free(HwDesign *r);
/* The name of step k (for --dump-after), NULL past the last. */
const char *hw_step_name(size_t k);

/* The steps' work on one module: place its nodes in pipeline stages for a
 * combinational budget per stage in ns (schedule.c); its LUTs and FFs (estimate.c). */
void hw_schedule(HwModule *m, double budget);
void hw_estimate(HwModule *m);
/* The same for a folded layer (fold.c): latency R + 2; the estimate, given its
 * input elements and output width.  hw_fold_span: the first and last output
 * element multiplier j feeds (1: only one, its products need no gate). */
void hw_fold_schedule(HwModule *m);
void hw_fold_estimate(HwModule *m, long nin_elems, int wo);
int hw_fold_span(const HwFold *f, long j, long *o_first, long *o_last);

#endif
