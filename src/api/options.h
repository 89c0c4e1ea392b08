/* options.h — the one table of model options (src/api/options.c): etn_set_option
 * dispatches through it, etn_write's report.json "source" record and etchnn
 * verify's reload iterate it, the CLI and the Python package read it through
 * etn_option() (include/etchnn.h). */
#ifndef ETN_OPTIONS_H
#define ETN_OPTIONS_H
#include "etchnn.h"

/* How an option's value is written in report.json "source". */
typedef enum {
    OPT_TEXT,     /* a string */
    OPT_NUMBER,   /* a JSON number (the value's text is its %.17g) */
    OPT_PATH,     /* a file name: a string, and KEY_hex when it is not UTF-8 */
} OptKind;

typedef struct {
    EtnOption info;   /* what the API exports: key, source key, Python keyword, CLI flags, values, help */
    OptKind kind;
    int always;       /* "source" holds it even when unset (as ""): reports have always had the key */
    /* parse and apply value (0), or a message naming the flag and the allowed values (-1) */
    int (*set)(EtnModel *m, const char *key, const char *value);
    /* the canonical value in effect into buf (1), or 0 when unset */
    int (*get)(const EtnModel *m, char *buf, size_t n);
} OptDef;

/* The table, in report.json "source" order; NULL past the end. */
const OptDef *opt_def(size_t k);
const OptDef *opt_find(const char *key);

#endif
