/* testbench.h — the test benches of a generated circuit, both written from
 * one description (TbSpec): the self-checking Icarus bench OUT/rtl/tb_NAME.v
 * written at compile time (tb_icarus.c) and the Verilator bench
 * OUT/verify/tb.cpp of etchnn verify (tb_verilator.c); and the random input
 * codes they share. */
#ifndef ETN_TESTBENCH_H
#define ETN_TESTBENCH_H
#include "hw/stream.h"

struct Plan;

/* n events of nin input codes of type t into out[n*nin], the same for the
 * same seed: events 0-3 are all zeros, all largest, all smallest and
 * alternating largest/smallest codes; then even events are uniform over
 * every code of t and odd events are small, log-uniform magnitudes
 * (|code| < 2^s with s uniform in 0..w-1), so that both saturating and
 * ordinary values are exercised. */
void tb_random_codes(FxType t, long nin, size_t n, uint64_t seed, int64_t *out);

/* One line of a $readmemh file: n codes of w bits packed (element k at bits
 * [k*w +: w]), in hex, MSB first; words: scratch of (n*w+31)/32 entries. */
void tb_hex_line(Buf *b, const int64_t *codes, long n, int w, uint32_t *words);

/* The number of vectors in the Icarus test bench and their seed. */
#define TB_VECTORS 1000
#define TB_SEED 1

/* ---- the description ------------------------------------------------------ */

typedef enum {
    TB_PARALLEL,        /* io_parallel: in_valid/in_data, out_valid/out_data; a whole vector per beat */
    TB_STREAM           /* io_stream: in_valid/in_ready/in_data, out_valid/out_data; a pixel per beat */
} TbKind;

/* A data port: n elements of w bits, element k at bits [k*w +: w] (also one
 * line of a .mem file); the codes are signed (two's complement) when sign. */
typedef struct {
    long n;             /* elements per beat */
    int w;              /* bits per element */
    int sign;           /* elements are signed codes */
} TbPort;

/* Not known (a stream timing absent from an old report.json). */
#define TB_UNKNOWN (-1000000000L)

/* Everything both benches state about a design, filled once from the design
 * (tb_spec_design, tb_spec_stream) or from report.json (etchnn verify) through
 * tb_spec_init, which derives the schedule and the checks from the design's
 * facts.  Edges are rising clock edges counted from 0 after reset. */
typedef struct {
    TbKind kind;
    char top[256];      /* the top module (a Verilog identifier) */
    TbPort in;          /* in_data: a vector (parallel) or a pixel of its channels (stream), in stream order */
    TbPort out;         /* out_data: one output vector */
    long beats;         /* in_data beats per vector: pixels per image (stream), 1 (parallel) */
    /* the schedule */
    int reset_clocks;   /* edges with rst high before edge 0 (out_valid must stay low) */
    int reset_in_valid; /* in_valid high, in_data all ones during reset (parallel), else low and zero */
    long ii;            /* parallel: edges between vectors; stream: the cycle model's clocks between
                         * images (for the time limit; pixels are fed whenever in_ready is high) */
    int gap_every;      /* gaps in every gap_every-th vector (e % gap_every == gap_every - 1):
                         * parallel: it comes gap draw % gap_mod + 1 edges later;
                         * stream: in_valid is low on the clocks whose draw % gap_mod == 0 */
    int gap_mod;
    uint64_t gap_seed;  /* draws: lcg = lcg * TB_LCG_MUL + TB_LCG_ADD from gap_seed, draw = lcg >> 33;
                         * parallel: one per gapped vector; stream: one per clock */
    /* the expected timing */
    long latency;       /* parallel: out_valid is high after edge at[e] + latency - 1 (with vector e's output)
                         * and low otherwise; stream: the cycle model's latency from the first pixel */
    long lat_first, lat_last, lat_ii;   /* stream: the cycle model over the first three images (no gaps in
                         * them): largest clocks from first / last accepted pixel to out_valid (inclusive),
                         * clocks between the second and third outputs; TB_UNKNOWN: unchecked */
    long drain;         /* edges run after the last input (parallel) / the last output (stream); out_valid
                         * must stay low in them */
    long limit_base, limit_per;   /* stream: give up after limit_base + vectors * limit_per edges */
    size_t n;           /* vectors (images) in the data files (the Verilator bench counts IN.bin's) */
} TbSpec;

#define TB_LCG_MUL UINT64_C(6364136223846793005)
#define TB_LCG_ADD UINT64_C(1442695040888963407)

/* Sets the schedule and the checks of s from its design facts (kind, top,
 * in, out, beats, ii, latency, lat_*, n), which the caller filled. */
void tb_spec_init(TbSpec *s);
/* The description from a design: the io_parallel circuit r, or the io_stream
 * circuit st with its cycle model tm; n vectors. */
void tb_spec_design(TbSpec *s, const HwDesign *r, size_t n);
void tb_spec_stream(TbSpec *s, const Stream *st, const StreamTiming *tm, size_t n);
/* One comment line naming everything in s but n, the same in both benches:
 * prefix (e.g. "// ") + "tb-spec: ..." + "\n". */
void tb_spec_dump(Buf *b, const TbSpec *s, const char *prefix);

/* The stimulus in in_data order, both benches' data: n vectors of s->beats *
 * s->in.n codes into xs, element e of a vector (beat e / in.n, element e %
 * in.n of in_data) being the model's input element perm[e] (NULL: e) in x. */
void tb_port_order(const TbSpec *s, const int32_t *perm, const int64_t *x, size_t n, int64_t *xs);

/* The Icarus bench tb_NAME.v (reads tb_NAME_in.mem, tb_NAME_out.mem: s->n *
 * s->beats lines of s->in, s->n lines of s->out; prints PASS or FAIL). */
void tb_emit_icarus(Buf *b, const TbSpec *s);
/* The Verilator bench tb.cpp for a model Vdut (usage: Vtb IN.bin OUT.bin
 * STATUS.txt; IN.bin: int64 codes, s->in.n per beat, vectors back to back;
 * OUT.bin: s->out.n int64 codes per vector; STATUS.txt: "edges E valid_errors
 * V first_bad_edge B", for io_stream followed by " outputs K lat_first F
 * lat_last L ii I", measured over the first three images). */
void tb_emit_verilator(Buf *b, const TbSpec *s);

/* DIR/rtl/tb_NAME.v with DIR/rtl/tb_NAME_in.mem and tb_NAME_out.mem: the
 * expected outputs come from the emulator `plan` of the same graph.
 * Deterministic: the same model gives the same bytes.  0 or -1 with a message. */
int testbench_write(const HwDesign *r, struct Plan *plan, Diag *d, const char *dir);
/* The same for the io_stream circuit st (tm: its cycle model). */
int testbench_write_stream(const Stream *st, const StreamTiming *tm, struct Plan *plan, Diag *d,
                           const char *dir);

#endif
