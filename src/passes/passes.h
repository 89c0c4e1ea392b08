/* passes.h — IR → IR transformations, one file each, one entry point each.
 * The order of work is the list in src/api/compile.c. */
#ifndef ETN_PASSES_H
#define ETN_PASSES_H
#include "config/config.h"
#include "ir/ir.h"

int pass_shapes(Graph *g, Diag *d, const Config *c);
int pass_constfold(Graph *g, Diag *d, const Config *c);
int pass_bnfold(Graph *g, Diag *d, const Config *c);
int pass_fuse(Graph *g, Diag *d, const Config *c);
int pass_precision(Graph *g, Diag *d, const Config *c);

#endif
