/* stream.h — the io_stream writers: the Verilog, the Icarus bench and the
 * report of a Stream (its plan: src/hw/stream.h). */
#ifndef ETN_STREAM_H
#define ETN_STREAM_H
#include "hw/stream.h"

struct Plan;

/* DIR/rtl (modules, top, files.f, Icarus bench), DIR/report.{json,txt};
 * par (may be NULL): the io_parallel circuit of the same model, for the
 * side-by-side section of the report. */
int stream_write(const Stream *s, struct Plan *plan, const HwDesign *par, Diag *d, const char *dir, const char *source_json);

/* report.c: DIR/report.{json,txt} of the io_stream circuit. */
int report_write_stream(const Stream *s, const HwDesign *par, const StreamTiming *tm, Diag *d, const char *dir,
                        const char *source_json);

#endif
