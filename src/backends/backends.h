/* backends.h — writers of compiled models: each reads the typed IR or the
 * finished hardware design (src/hw) and writes files; none builds anything. */
#ifndef ETN_BACKENDS_H
#define ETN_BACKENDS_H
#include "ir/ir.h"

/* Standalone C emulator: DIR/c/NAME.c and NAME.h. */
int cemu_write(const Graph *g, Diag *d, const char *dir);

struct HwDesign;
/* Write DIR/rtl/NAME*.v and the files list. */
int verilog_write(const struct HwDesign *r, Diag *d, const char *dir);
/* Only the layer modules DIR/rtl/MODULE.v, their names appended to files
 * (one per line); for tops written elsewhere (io_stream). */
int verilog_write_modules(const struct HwDesign *r, Diag *d, const char *dir, Buf *files);

/* Verilog pieces shared by the writers of verilog.c and verilog_fold.c: a
 * sized literal (the low w bits of v); a function `name` casting a value of
 * (wi bits, fi fractional, signed si) to `to` as fx_cast does; the module of
 * a folded layer (HwModule.fold). */
void verilog_lit(char *s, size_t n, int w, int64_t v);
void verilog_cast_fn(Buf *b, const char *name, int wi, int fi, int si, FxType to);
struct HwModule;
void verilog_fold_module(Buf *b, const struct HwDesign *r, const struct HwModule *m);
/* One layer's module as verilog.c writes it (its netlist, pipelined). */
void verilog_emit_module(Buf *b, const struct HwDesign *r, const struct HwModule *m);
/* A static recurrent layer (HwModule.rnn): its cell's modules and its own, each DIR/rtl/MODULE.v, their names
 * appended to files (verilog_rnn.c). */
int verilog_write_rnn(const struct HwDesign *r, const struct HwModule *m, Diag *d, const char *dir, Buf *files);

/* OUT/report.json and report.txt from a built circuit; source_json (may be
 * NULL) records how to rebuild the model (for etchnn verify). */
int report_write(const struct HwDesign *r, Diag *d, const char *dir, const char *source_json);

/* Write text to path atomically (a temporary file renamed into place);
 * creates missing parent directories. */
int backend_write_file(Diag *d, const char *path, const Buf *text);

#endif
