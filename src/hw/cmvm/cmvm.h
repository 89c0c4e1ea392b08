/* cmvm.h — constant matrix x vector: integer weights, input signals (their
 * value ranges on the nodes) -> an adder graph in the netlist, one file per
 * algorithm (csd.c: canonical signed digits, shared products, pairwise CSE;
 * cse.c: pairwise CSE with a bound on adder depth; wcse.c: the same bound,
 * one least-conflicting most frequent pattern at a time). */
#ifndef ETN_HW_CMVM_H
#define ETN_HW_CMVM_H
#include "hw/netlist.h"

/* A signed, shifted signal: one summand of an output. */
typedef struct {
    int node;           /* signal */
    int shift;          /* left shift */
    int neg;            /* subtract */
} CmvmTerm;

/* y = W^T x, one output per column of W, in integer codes.  Each product x_i * w_io
 * has `pd` fractional bits below the accumulator's LSB: they are dropped as
 * the accumulator's quantization says (floored for TRN, rounded otherwise),
 * per product, as the emulator does. */
typedef struct {
    const int64_t *w;   /* weights [nin][nout] (0: no term) */
    long nin, nout;     /* inputs, outputs */
    const int *x;       /* the node of each input (-1: none, such as padding) */
    const long *xid;    /* the identity of each input (its tensor element): products are shared by identity */
    int pd;             /* fractional bits of a product below the accumulator's LSB (<= 0: exact) */
    FxType acc;         /* the accumulator: quantization of dropped bits; WRAP: sums modulo 2^acc.w */
    const unsigned char *live; /* per output: observed (NULL: all); others are constant 0 */
    MultMode mult;      /* shift-and-add (CSD), DSP multiplies, or auto per constant */
    const unsigned char *bias; /* per output: a bias joins its sum (NULL: none); bounds the adder depth */
} CmvmProblem;

typedef struct CmvmCache CmvmCache;

/* The summands of one output. */
typedef struct {
    CmvmTerm *t;   /* summands */
    int n, cap;    /* summands, capacity */
} CmvmTermList;

/* The state of one algorithm across solves: products x_i * c already built
 * (shared by every later solve that reads the same input identity), and the
 * summands of each output of the last solve. */
typedef struct {
    CmvmCache *products;    /* built products, by input identity and constant */
    CmvmTermList *lists;    /* per output of the last solve: its summands */
    long nlists;            /* outputs allocated in lists */
    int *depth;             /* adder depth of each netlist node, for the output trees */
    size_t ndepth, cdepth;  /* nodes with a depth, capacity */
    long cse_bounded, cse_greedy; /* solves that took the bounded CSE / the unbounded one */
    long cse_search;        /* solves that took the scored search (wcse.c) */
} Cmvm;

void cmvm_init(Cmvm *c);
void cmvm_free(Cmvm *c);
/* Forget the shared products (the next solve reads other inputs). */
void cmvm_forget(Cmvm *c);

/* CSD: build every product of p (x_i times the canonical signed digits of
 * w_io; exact products are flattened into digits and common pairs shared by
 * greedy pairwise CSE) and leave each output's summands in c; m->adders and
 * m->adders_naive count the adders built and those of a shift-and-add per
 * product.  Then cmvm_output sums one output. */
void cmvm_csd_solve(Cmvm *c, HwModule *m, const CmvmProblem *p);
/* Output o of the last solve plus the constant `bias` (accumulator codes):
 * its summands in an adder tree, the two shallowest first; returns the node (accumulator LSB,
 * modulo 2^acc.w for WRAP, otherwise exact). */
int cmvm_output(Cmvm *c, HwModule *m, const CmvmProblem *p, long o, int64_t bias);

/* ---- common subexpressions of exact products: adders planned before they are built ---- */

/* A planned adder (a << sa) +/- (b << sb); operands below base are netlist
 * nodes, base + k the k-th planned adder.  Built in order from node base on,
 * planned adder k becomes node base + k. */
typedef struct {
    int a, sa, b, sb, sub;
    int depth;     /* adders on its longest path from a netlist node */
} CmvmAdd;

typedef struct {
    CmvmAdd *v;
    size_t n, cap;
    int base;      /* the netlist's node count when planning started */
} CmvmPlan;

/* Plan an adder; returns its node id (base + k). */
int cmvm_plan_add(CmvmPlan *pl, int a, int sa, int b, int sb, int sub);
/* The adder depth of a node (0: a netlist node). */
int cmvm_plan_depth(const CmvmPlan *pl, int node);
/* A pair of summands as a pattern key (0: not representable); base shift and sign of the pair. */
int cmvm_pair_key(CmvmTerm p, CmvmTerm q, uint64_t *key, int *base, int *neg);
/* In an open-addressed table of nonzero keys (0: empty) of mask + 1 slots: the slot holding key, or the
 * empty slot where it goes. */
size_t cmvm_key_slot(const uint64_t *keys, uint64_t key, size_t mask);
/* Sort pattern keys (below 2^56) in place; tmp holds n keys. */
void cmvm_sort_keys(uint64_t *k, uint64_t *tmp, size_t n);
/* Greedy pairwise CSE with a bound on adder depth (cse.c): the most frequent
 * patterns first, each output's depth (its summands in a tree by depth, plus
 * its bias) kept within depth_max. */
void cmvm_cse_bounded(CmvmPlan *pl, CmvmTermList *lists, long nl, const unsigned char *bias, int depth_max);
/* Greedy pairwise CSE one pattern at a time (wcse.c), with the bound of
 * cmvm_cse_bounded: the most frequent pattern first, among equals the one
 * that takes summands from the fewest occurrences of other repeated patterns
 * (three such searches, the fewest adders kept).  pl is a fresh plan
 * (nothing planned yet). */
void cmvm_cse_search(CmvmPlan *pl, CmvmTermList *lists, long nl, const unsigned char *bias, int depth_max);
/* The adder depth of output o's sum: its summands and bias in a tree by depth. */
int cmvm_sum_depth(const CmvmPlan *pl, const CmvmTermList *tl, int bias);

/* ---- the primitives, shared with lowering ---- */

/* Canonical signed digits of c (non-adjacent form), least significant first: n digits (+-1) at pos. */
int cmvm_csd_digits(int64_t c, int *digit, int *pos, int max);
/* The number of nonzero canonical signed digits of c. */
int cmvm_csd_count(int64_t c);
/* Whether x * c (x of wx bits) goes to a DSP multiply under mode `mult`. */
int cmvm_use_dsp(MultMode mult, int wx, int64_t c);
/* Sum n terms (t is scratch) in a balanced tree; returns one term; cap as in hw_add. */
CmvmTerm cmvm_sum(HwModule *m, CmvmTerm *t, int n, int cap);
/* x * c for a constant c: shift-and-add of its signed digits, or a DSP multiply (dsp). */
int cmvm_const_mult(HwModule *m, int x, int64_t c, int dsp);

#endif
