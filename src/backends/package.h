/* package.h — what an FPGA flow needs around the generated circuit: the
 * AXI4-Stream wrapper OUT/rtl/NAME_axis.v, Vivado scripts in OUT/vivado/
 * (IP packaging, out-of-context synthesis, the clock constraint) and the
 * FuseSoC core OUT/NAME.core.  Runs after the Verilog writers, on the same
 * folder: it reads DIR/rtl/files.f, which they wrote. */
#ifndef ETN_PACKAGE_H
#define ETN_PACKAGE_H
#include "ir/ir.h"

struct HwDesign;

/* par: the io_parallel design written into DIR/rtl, or NULL for an io_stream
 * design (then only NAME.core may be written: the AXI wrapper and the Vivado
 * scripts are for io_parallel designs).  axis, vivado, fusesoc: which to write
 * (--emit); the Vivado scripts and the core name the wrapper only when it is written.  Every name comes from names_design
 * and from files.f, whose entries must be plain file names.  Deterministic;
 * 0 or -1 with a message. */
int package_write(const Graph *g, const struct HwDesign *par, int axis, int vivado, int fusesoc, Diag *d,
                  const char *dir);

#endif
