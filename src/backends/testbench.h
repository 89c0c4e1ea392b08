/* testbench.h — test vectors for the generated circuit: random input codes
 * that span a fixed-point type (shared by the Icarus test bench written at
 * compile time and by etchnn verify), and the self-checking Verilog test
 * bench OUT/rtl/tb_NAME.v. */
#ifndef ETN_TESTBENCH_H
#define ETN_TESTBENCH_H
#include "ir/ir.h"

struct HwDesign;
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

/* DIR/rtl/tb_NAME.v with DIR/rtl/tb_NAME_in.mem and tb_NAME_out.mem: the
 * expected outputs come from the emulator `plan` of the same graph.
 * Deterministic: the same model gives the same bytes.  0 or -1 with a message. */
int testbench_write(const struct HwDesign *r, struct Plan *plan, Diag *d, const char *dir);

#endif
