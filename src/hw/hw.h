/* hw.h — the hardware layer's entry point: from a typed graph to a finished,
 * scheduled and estimated netlist (hw.c runs the steps: lower, schedule,
 * estimate; the netlist verifier after each), which the writers read. */
#ifndef ETN_HW_HW_H
#define ETN_HW_HW_H
#include "hw/netlist.h"

/* A device by name (parts.c): hls4ml's Part key and --part. */
typedef struct HwPart {
    const char *name;   /* lower case prefix of the part number ("xcvu13p" matches "xcvu13p-flga2577-2-e") */
    const char *label;  /* for people */
    int lut_inputs;     /* 6 (Xilinx) or 4 (Lattice) */
    long lut, ff, dsp, bram;   /* LUTs, flip-flops, DSP blocks, block RAMs */
    long bram_bits;     /* bits per block RAM */
    const HwDelay *delay;   /* the family's delay model (schedule.c) */
} HwPart;
const HwPart *hw_part_find(const char *name);
/* The delay model of part p's family; the Xilinx-class model when p is NULL. */
const HwDelay *hw_delay_model(const HwPart *p);
void hw_part_names(Buf *b);
double hw_part_lut_scale(const HwPart *p);

/* --fit (fit.c): choose each Dense/Conv layer's ReuseFactor (Node.reuse) and
 * multiplier kind (node_mult, g->nn entries) so that the estimate fits
 * `fraction` of part p with the lowest latency found; `why` gets the record
 * for the report (a JSON object's text) and the CLI.  0, or -1 with a message. */
int hw_fit(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, signed char *node_mult, Buf *why,
           Diag *d);
/* The same on a graph whose layers run `period[k]` times per input (io_stream's per-position
 * view: a conv kernel once per output position; NULL: once): a layer at R then takes
 * base[k] + period[k] x R clocks per input (base may be NULL: 0), the quantity minimized;
 * `extra` (LUT, FF, DSP, BRAM, may be NULL) is logic outside g's modules (line buffers, FIFOs,
 * control). */
int hw_fit_periods(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, const long *period,
                   const long *base, const double *extra, signed char *node_mult, Buf *why, Diag *d);

/* Build the design of g for opt; 0, or -1 with a message (r is then empty). */
int hw_build(HwDesign *r, const Graph *g, const HwOptions *opt, Diag *d);
void hw_free(HwDesign *r);
/* The name of step k (for --dump-after), NULL past the last. */
const char *hw_step_name(size_t k);

/* The steps' work on one module: place its nodes in pipeline stages for a
 * combinational budget per stage in ns (schedule.c); its LUTs and FFs (estimate.c). */
void hw_schedule(HwModule *m, double budget, const HwDelay *dm);
void hw_estimate(HwModule *m);
/* The same for a folded layer (fold.c): latency R + 2; the estimate, given its
 * input elements and output width.  hw_fold_span: the first and last output
 * element multiplier j feeds (1: only one, its products need no gate). */
void hw_fold_schedule(HwModule *m);
void hw_fold_estimate(HwModule *m, long nin_elems, int wo);
int hw_fold_span(const HwFold *f, long j, long *o_first, long *o_last);

/* Lower IR node k into module m (hw.c); cell: a module of a static recurrent cell (inputs at their full types,
 * every element built).  0, or -1 with a message. */
int hw_lower_node(HwDesign *r, HwModule *m, size_t k, const unsigned char *const *live, int cell, Diag *d);

/* A static recurrent layer (rnn_static.c): the nodes of the layer (one direction) that starts at node `first`
 * as one module m holding one cell, its state registers and a sequencer; *last: its last node.  Its schedule
 * (latency T x P + 1, II T x P) and estimate (one cell, the states, the input and output buffers). */
int hw_rnn_lower(HwDesign *r, HwModule *m, size_t first, size_t *last, Diag *d);
void hw_rnn_schedule(HwModule *m);
void hw_rnn_estimate(const HwDesign *r, HwModule *m);

#endif
