/* lower.h — lowering, one function per op family: each fills module m (its
 * ports, live mask and name already set by hw.c) with the netlist of IR node
 * nd; 0, or -1 with a message naming the layer. */
#ifndef ETN_HW_LOWER_H
#define ETN_HW_LOWER_H
#include "hw/netlist.h"

int lower_dense(HwDesign *r, HwModule *m, Diag *d, const Node *nd, const Node *relu);   /* lower_dense.c */
int lower_conv(HwDesign *r, HwModule *m, const Node *nd, const Node *relu);
/* A Conv as a dense layer over rows (one per output pixel): nin window inputs, nout channels,
 * gather[row * nin + i] the input element (-1: padding), weights wc[i * nout + o] (in r's arena). */
typedef struct {
    long rows, nin, nout;
    int32_t *gather;
    int64_t *wc;
} ConvRows;
ConvRows lower_conv_rows(HwDesign *r, const Node *nd);
/* a0 then the n terms (nodes, values in [lo, hi]) added in order, each sum clamped to [lo, hi], as a balanced
 * tree of composed clamped additions (lower_dense.c); returns the result node. */
int lower_sat_chain(HwModule *m, const int *terms, int n, int64_t a0, int64_t lo, int64_t hi);
int lower_pool(HwDesign *r, HwModule *m, Diag *d, const Node *nd);                     /* lower_pool.c */
int lower_gather(HwDesign *r, HwModule *m, const Node *nd);                            /* lower_merge.c */
int lower_merge(HwDesign *r, HwModule *m, const Node *nd);
int lower_affine(HwDesign *r, HwModule *m, const Node *nd);                            /* lower_act.c */
int lower_unary_table(HwDesign *r, HwModule *m, Diag *d, const Node *nd);
int lower_softmax(HwDesign *r, HwModule *m, Diag *d, const Node *nd);
int lower_elementwise(HwDesign *r, HwModule *m, Diag *d, const Node *nd);
int lower_layernorm(HwDesign *r, HwModule *m, Diag *d, const Node *nd);
int lower_embed(HwDesign *r, HwModule *m, Diag *d, const Node *nd);                            /* lower_embed.c */

/* Dense or Conv with ReuseFactor > 1: a folded layer (fold.c). */
int lower_fold(HwDesign *r, HwModule *m, Diag *d, const Node *nd, const Node *relu);

/* a * b of two signals (lower_merge.c). */
int lower_var_mult(const HwDesign *r, HwModule *m, int a, int b);

#endif
