/* stream.h — the io_stream circuit's plan (src/hw): one pixel per clock
 * through line buffers, each convolution or pooling kernel built once (by the
 * lowering, on a per-position view of the graph) and computed at every output
 * position; layers joined by valid/ready handshakes; the image gathered into a
 * vector where the network stops being spatial (Flatten, Dense, ...), which
 * then runs as io_parallel logic.  The planner and view (stream.c), the cycle
 * model of the handshakes (stream_sim.c), the estimate of the control and the
 * --fit for io_stream live here; the Verilog, the Icarus bench and the report
 * are written by src/backends (verilog_stream.c, testbench.c, report.c).  See
 * README.md ("io_stream"). */
#ifndef ETN_HW_STREAM_H
#define ETN_HW_STREAM_H
#include "hw/hw.h"

typedef struct Stream Stream;

typedef enum { ST_WINDOW, ST_POINT, ST_UP, ST_MERGE } StageKind;

typedef struct {
    StageKind kind;
    int node;           /* graph node */
    int module;         /* index into rtl.m */
    int in, out;        /* stream tensors (out: after a fused relu) */
    int in2;            /* ST_MERGE: the second input, else -1 */
    int cw, ow, cw2;    /* bits per input / output / second input pixel */
    long qa, qb;        /* ST_MERGE: input FIFO depths (sized by the cycle model) */
    /* window geometry (grid = the padded input the counters walk) */
    int H, W, C, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl, KH, KW, Gh, Gw;
    int y0, x0;         /* grid row / column of the first output window's last tap (KH-1, KW-1 plus a crop) */
    long N;             /* line buffer length in positions */
    int64_t pad;        /* code shifted in at padded positions */
    int padded;         /* the grid has padded positions */
    int lat;            /* kernel latency */
    int reuse;          /* the kernel's ReuseFactor (a folded conv, src/hw/fold.c): it takes a window at most
                         * every `reuse` cycles, so the stage holds its input while it is busy; 1: every cycle */
    int fifo;           /* output FIFO depth, 0: a plain register */
    int throttles;      /* may deassert its ready */
} Stage;

typedef struct {
    int tensor;         /* the stream tensor */
    int copy;           /* its whole-image tensor in the view */
    long P;             /* pixels */
    int cw;             /* bits per pixel */
} Collector;

struct Stream {
    Arena arena;
    const Graph *g;     /* the model, or gv */
    Graph gv;           /* the model with a unit-dim Reshape after the input folded (unit_reshape) */
    Graph fg;           /* the view the modules are built from */
    HwDesign rtl;
    int built;
    int in_tensor;      /* stream tensor of the input pixels (in fg) */
    int out_tensor;     /* fg tensor behind out_data */
    char *node_kind;    /* per node: 0 parallel, 1 stage, 2 input layout move, 3 fused relu of a stage */
    char *is_stream;    /* per tensor */
    int *copy;          /* per tensor: whole-image copy in fg, or -1 */
    Stage *st;
    size_t nst;
    Collector *col;
    size_t ncol;
    long P0;            /* input pixels */
    int C0;             /* input channels */
    int *tcyc;          /* parallel part: cycle at which each fg tensor is ready after the collectors fire */
    int plat;           /* cycles from the collectors firing to out_valid */
    int pii;            /* the parallel part's II: its largest ReuseFactor (the collectors wait while it is busy) */
    int in_throttles;   /* in_ready can be low */
};


/* Plan and build the streaming circuit of g; NULL with a message naming the
 * layer when g has no streaming form. */
Stream *stream_build(const Graph *g, const HwOptions *opt, Diag *d);
void stream_free(Stream *s);

/* Inputs of at most this many values also get the io_parallel circuit built,
 * for the side-by-side section of the report. */
#define STREAM_COMPARE_MAX 1024

/* The order in which a model's input elements enter the stream: element j of
 * the pixel stream (pixel j / channels, channel j % channels) is input element
 * perm[j] (perm has numel(input) entries; NULL to query only).  0 or -1. */
int stream_input_order(const Graph *g, Diag *d, int32_t *perm, long *pixels, int *channels);

/* Cycle-level model of the handshakes (the same counters as the Verilog),
 * images back to back at full input rate: cycles from an image's first / last
 * accepted pixel to its output, cycles between outputs (steady state), and
 * whether the source was ever throttled.  0 or -1 (no progress: a bug). */
typedef struct {
    long lat_first, lat_last, ii, pixels;
    int throttled;
    /* the same over the first three images only, as etchnn verify's bench measures them
     * (lat_*: the largest; ii: between the second and third output) */
    long chk_first, chk_last, chk_ii;
} StreamTiming;
int stream_timing(const Stream *s, StreamTiming *t);
/* The same; maxq (may be NULL): per stage, the largest occupancy of the two merge input FIFOs. */
int stream_timing_run(const Stream *s, StreamTiming *tm, long *maxq);

/* The --fit record (stream_fit's `why`) for the report; kept by pointer. */
void stream_set_fit(Stream *s, const char *fit_json);

/* --fit for the io_stream circuit: each Dense/Conv layer's ReuseFactor (set in g) and multiplier
 * kind (node_mult) so that the estimate, line buffers and control included, fits `fraction` of
 * part p with the fewest clocks per image found (a conv kernel at R takes R clocks per output
 * position).  hw_fit_periods on the per-position view; 0, or -1 with a message. */
int stream_fit(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, signed char *node_mult, Buf *why,
               Diag *d);

/* Bits of a counter that holds 0..v. */
int stream_bits(long v);
/* The control and storage around stage i's kernel (LUT, FF), and the design's totals
 * (modules, stages, collectors, output register). */
void stream_stage_estimate(const Stream *s, size_t i, double *lut, double *ff);
void stream_totals(const Stream *s, double *lut, double *ff, long *dsp);

#endif
