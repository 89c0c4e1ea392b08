/* hls.h — the HLS C++ back end (--hls): DIR/hls/, a Vitis HLS project in
 * hls4ml's io_parallel layout whose arithmetic equals the emulator bit for bit. */
#ifndef ETN_HLS_H
#define ETN_HLS_H
#include "ir/ir.h"

/* Write DIR/hls/ (firmware/NAME.{cpp,h}, firmware/parameters.h, firmware/etn_fx.h,
 * firmware/weights/, NAME_test.cpp, build_prj.tcl, README.md).  A layer whose op
 * this writer does not support yet is refused (-1, a message naming the layer and
 * the op) before anything is written.  clock_mhz sets build_prj.tcl's clock. */
int hls_write(const Graph *g, Diag *d, const char *dir, double clock_mhz);

#endif
