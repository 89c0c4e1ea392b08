/* qonnx.h — QONNX quantizers for the ONNX reader: Quant, BipolarQuant and Trunc
 * (domains qonnx.custom_op.general, onnx.brevitas, finn.custom_op.general),
 * and the constant ops that exporters leave around them (Shape, Gather, Concat
 * of constants).  onnx.c resolves a node's inputs and hands it here. */
#ifndef ETN_QONNX_H
#define ETN_QONNX_H
#include "ir/ir.h"
#include "onnx.pb-c.h"

/* Scales seen on weight quantizers that are not powers of two: qonnx_finish
 * factors them out of dense layers (integer weights, then a scaling step). */
typedef struct {
    double *scale;             /* distinct scale values */
    size_t n, cap;
    int any_quant;             /* a quantizer was imported: the graph is a quantized model */
} QonnxState;

typedef struct {
    Graph *g;
    Diag *d;
    const char *file;
    const char *lname;         /* layer name of the node */
    QonnxState *st;
} QonnxNode;

/* Is node n one that qonnx_import takes (a QONNX quantizer, or Shape / Gather / Concat)? */
int qonnx_claims(const Onnx__NodeProto *n);
/* Is it a QONNX-domain node (not one of the constant ops)? */
int qonnx_is_quantizer(const Onnx__NodeProto *n);
/* Import n.  in[k]: tensor id of input k (-1: absent), cl[k]: 1 if stored channels-last.
 * Returns the output tensor id, -1 on error (message in d), or -2 when the node is not
 * for this reader after all (Gather/Concat with a data operand).  *out_cl: output layout. */
int qonnx_import(QonnxNode *q, const Onnx__NodeProto *n, const int *in, const int *cl, int nin, int *out_cl);
/* After the last node: dense layers with non-power-of-two weight scales get integer
 * weights and a scaling step; a quantized model's layers are marked `quantized`. */
int qonnx_finish(QonnxNode *q);
void qonnx_free(QonnxState *st);

#endif
