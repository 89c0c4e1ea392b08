/* backends.h — writers of compiled models: each reads the typed IR. */
#ifndef ETN_BACKENDS_H
#define ETN_BACKENDS_H
#include "ir/ir.h"

/* Standalone C emulator: DIR/c/NAME.c and NAME.h. */
int cemu_write(const Graph *g, Diag *d, const char *dir);

struct Rtl;
/* OUT/report.json and report.txt from a built circuit; source_json (may be
 * NULL) records how to rebuild the model (for etchnn verify). */
int report_write(const struct Rtl *r, Diag *d, const char *dir, const char *source_json);

/* Write text to path atomically (a temporary file renamed into place);
 * creates missing parent directories. */
int backend_write_file(Diag *d, const char *path, const Buf *text);

#endif
