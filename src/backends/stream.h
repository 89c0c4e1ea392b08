/* stream.h — the io_stream architecture: one pixel per clock through line
 * buffers, each convolution or pooling kernel built once (by src/hw's lowering,
 * on a per-position view of the graph) and computed at every output position;
 * layers joined by valid/ready handshakes; the image gathered into a vector
 * where the network stops being spatial (Flatten, Dense, ...), which then runs
 * as io_parallel logic.  See docs in README.md ("io_stream"). */
#ifndef ETN_STREAM_H
#define ETN_STREAM_H
#include "hw/hw.h"

typedef struct Stream Stream;
struct Plan;

/* Plan and build the streaming circuit of g; NULL with a message naming the
 * layer when g has no streaming form. */
Stream *stream_build(const Graph *g, const HwOptions *opt, Diag *d);
void stream_free(Stream *s);

/* Inputs of at most this many values also get the io_parallel circuit built,
 * for the side-by-side section of the report. */
#define STREAM_COMPARE_MAX 1024

/* DIR/rtl (modules, top, files.f, Icarus bench), DIR/report.{json,txt};
 * par (may be NULL): the io_parallel circuit of the same model, for the
 * side-by-side section of the report. */
int stream_write(const Stream *s, struct Plan *plan, const HwDesign *par, Diag *d, const char *dir, const char *source_json);

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

/* The --fit record (stream_fit's `why`) for the report; kept by pointer. */
void stream_set_fit(Stream *s, const char *fit_json);

/* --fit for the io_stream circuit: each Dense/Conv layer's ReuseFactor (set in g) and multiplier
 * kind (node_mult) so that the estimate, line buffers and control included, fits `fraction` of
 * part p with the fewest clocks per image found (a conv kernel at R takes R clocks per output
 * position).  hw_fit_periods on the per-position view; 0, or -1 with a message. */
int stream_fit(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, signed char *node_mult, Buf *why,
               Diag *d);

#endif
