/* einsum.h — an einsum of two operands (Keras 3's EinsumDense, ONNX's Einsum) lowered onto the IR's ops, shared by
 * the front ends.  The equation is split as hls4ml 1.3 splits it (its recipe: subscripts in both operands and the
 * output "inplace" (I), in both only "contract" (C), in one operand and the output "free" (L0 of operand 0, L1 of
 * operand 1)); what is built from it is written at the top of einsum.c and in tests/ref/NOTES.md. */
#ifndef ETN_EINSUM_H
#define ETN_EINSUM_H
#include <stddef.h>

#include "ir/ir.h"

typedef struct {
    char in0[IR_MAX_RANK + 1], in1[IR_MAX_RANK + 1], out[IR_MAX_RANK + 1];   /* per-sample subscripts, '...' spelled
                                                                              out in unused letters */
    int dim[128];                  /* each subscript's extent */
    char inplace[IR_MAX_RANK + 1], contract[IR_MAX_RANK + 1], free0[IR_MAX_RANK + 1], free1[IR_MAX_RANK + 1];
    long I, C, L0, L1;             /* the products of their extents */
} EinsumPlan;

/* Parse equation eq (as the model writes it, batch axis included) for operands of per-sample shapes d0 (rank r0)
 * and d1 (rank r1).  batch1: operand 1 has a batch axis too (an ONNX Einsum of two tensors); 0: it is a constant
 * (EinsumDense's kernel).  The batch axis is the first subscript of each batched operand and of the output (the
 * same letter, absent from an unbatched operand) or part of a leading '...'.  0, or -1 with a message in msg
 * saying what is not supported. */
int einsum_plan(const char *eq, int batch1, int r0, const int *d0, int r1, const int *d1, EinsumPlan *p, char *msg,
                size_t nmsg);

/* The output's per-sample shape (rank 0 is made [1]). */
int einsum_out_shape(const EinsumPlan *p, int *dims);

/* Operand 1 constant (kernel: row-major over p->in1), bias NULL or one value per output element (row-major over
 * the output): transposes and reshapes around one OP_DENSE named lname (hls_class as given).  Returns the output
 * tensor, or -1 with a message in msg when the weight matrix would exceed 2^24 entries. */
int einsum_emit_dense(Graph *g, const EinsumPlan *p, const char *lname, const char *src_op, const char *hls_class,
                      int x, const double *kernel, const double *bias, char *msg, size_t nmsg);

/* Two tensors: transposes, reshapes and repeats (OP_UPSAMPLE, Node.moves) making every product's operands meet,
 * their elementwise product <lname>_product typed the layer's accum, and an OP_DOT named lname (hls_class "Einsum")
 * summing each row.  Returns the output tensor. */
int einsum_emit(Graph *g, const EinsumPlan *p, const char *lname, const char *src_op, int x0, int x1);

#endif
