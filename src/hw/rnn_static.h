/* rnn_static.h — a recurrent layer in the static form (Static: true): one
 * cell reused over the time steps, its state registers and a sequencer,
 * as one module of the design (rnn_static.c builds it, verilog_rnn.c
 * writes it). */
#ifndef ETN_HW_RNN_STATIC_H
#define ETN_HW_RNN_STATIC_H
#include "hw/netlist.h"

/* The cell is the IR nodes of time step 1 (the first to read a state), lowered
 * and scheduled as a small design of its own from cycle 0: inputs the step's
 * input row and the previous states, outputs the new states.  Its inputs are
 * held for the P = cell_latency + 1 clocks of a step, after which the new
 * states are registered; the zero initial state reproduces step 0, which the
 * unrolled form builds without the zero state's products. */
typedef struct HwRnn {
    HwDesign cell;      /* the cell's modules, one per IR node of step 1 (its own arena) */
    const char *layer;  /* the layer's name (of this direction), for messages and the report */
    int T;              /* time steps */
    int back;           /* rows taken last first (go_backwards, a backward direction) */
    int seq;            /* return_sequences: the output is [T, U], row s the state after step s */
    int x_tensor;       /* the layer's input [T, F] */
    int xt;             /* the cell's input row (a tensor of step 1) */
    int nstate;         /* states: 1 (h) or 2 (h, then an LSTM's c) */
    int prev[2];        /* the states as the cell reads them (tensors of step 0) */
    int next[2];        /* the new states the cell computes (tensors of step 1, the same types) */
    int cell_latency;   /* cycles from the cell's inputs to its last new state */
    int period;         /* P: clocks per step, cell_latency + 1 (the states are registered) */
    int ii;             /* T x P: clocks between sequences */
} HwRnn;

#endif
