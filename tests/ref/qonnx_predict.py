"""Reference outputs of a QONNX model from the qonnx package's executor
(qonnx.core.onnx_exec.execute_onnx, which runs QONNX ops in numpy and standard
ops with onnxruntime), on batches of events.

usage: qonnx_predict.py MODEL.onnx X.npy Y.npy [--tensor NAME ...] [--batch N] [--float64]
X: (events, features) flattened per-sample inputs; Y: (events, values) of the
graph output, or of the named tensors concatenated per event."""
import argparse
import warnings

import numpy as np
import onnx
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes


def to_float64(mp):
    """Every float tensor of the model (initializers, Constant nodes, inputs, outputs) as float64."""
    from onnx import numpy_helper
    g = mp.graph
    params = {i for nd in g.node if nd.op_type in ("Resize", "Upsample") for i in nd.input[1:]}   # float by the spec
    for k, t in enumerate(g.initializer):
        if t.data_type == onnx.TensorProto.FLOAT and t.name not in params:
            g.initializer[k].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float64), t.name))
    for nd in g.node:
        for at in nd.attribute:
            if at.name == "value" and at.t.data_type == onnx.TensorProto.FLOAT:
                at.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(at.t).astype(np.float64), at.t.name))
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
            v.type.tensor_type.elem_type = onnx.TensorProto.DOUBLE


def batched(path, n, f64=False, exact=False):
    """The model with batch size n: the batch dimension of inputs and outputs set, other shapes re-inferred."""
    mp = onnx.load(path)
    g = mp.graph
    for nd in g.node:
        # qonnx 1.0.0 runs channels-last ops at ONNX opset 1 (the wrapper class's version), where MaxPool
        # has no ceil_mode attribute: drop it when it is 0, its default (same computation)
        if nd.domain == "qonnx.custom_op.channels_last" and nd.op_type == "MaxPool":
            keep = [a for a in nd.attribute if not (a.name == "ceil_mode" and a.i == 0)]
            del nd.attribute[:]
            nd.attribute.extend(keep)
    inits = {i.name for i in g.initializer}
    ins = [v for v in g.input if v.name not in inits]
    if n == 1 and not f64 and all(v.type.tensor_type.shape.dim[0].dim_value == 1 for v in ins):
        # already batch 1: keep the file's shapes (qonnx's channels-last ops cannot re-infer them from scratch)
        return ModelWrapper(mp)
    del g.value_info[:]
    if f64:
        to_float64(mp)
    for v in list(g.input) + list(g.output):
        if v.name in inits:
            continue
        dims = v.type.tensor_type.shape.dim
        if len(dims):
            dims[0].ClearField("dim_param")
            dims[0].dim_value = n
    for v in g.output:   # let inference fill the output shapes
        for d in v.type.tensor_type.shape.dim[1:]:
            d.ClearField("dim_value")
            d.dim_param = "?"
    m = ModelWrapper(mp).transform(InferShapes())
    if exact:   # Quant outputs stay float64: every inferred float value is a double
        for v in m.graph.value_info:
            if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
                v.type.tensor_type.elem_type = onnx.TensorProto.DOUBLE
    return m


def exact_quant_outputs():
    """Make the executor keep Quant outputs in their computed precision (float64 under --float64)."""
    import qonnx.custom_op.general.intquant as iq

    def execute_node(self, context, graph):
        nd = self.onnx_node
        y = iq.int_quant(context[nd.input[0]], context[nd.input[1]], context[nd.input[2]], context[nd.input[3]],
                         self.get_nodeattr("signed"), self.get_nodeattr("narrow"), self.get_nodeattr("rounding_mode"))
        context[nd.output[0]] = np.asarray(y, dtype=np.float64)

    iq.IntQuant.execute_node = execute_node


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("x")
    ap.add_argument("y")
    ap.add_argument("--tensor", action="append", default=[])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--float64", action="store_true", help="run the graph in float64 (exact sums of quantized values)")
    ap.add_argument("--exact-quant", action="store_true",
                    help="with --float64: Quant outputs stay float64 (qonnx stores them as float32 otherwise, "
                         "which rounds q*scale for scales that are not powers of two)")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    if a.exact_quant:
        exact_quant_outputs()
    x = np.load(a.x).astype(np.float64 if a.float64 else np.float32)
    models = {}
    out = []
    for s in range(0, len(x), a.batch):
        xb = x[s:s + a.batch]
        n = len(xb)
        if n not in models:
            models[n] = batched(a.model, n, a.float64, a.float64 and a.exact_quant)
        m = models[n]
        iname = [i.name for i in m.graph.input if m.get_initializer(i.name) is None][0]
        ishape = m.get_tensor_shape(iname)
        names = a.tensor or [m.graph.output[0].name]
        ctx = execute_onnx(m, {iname: xb.reshape(ishape)}, return_full_exec_context=bool(a.tensor))
        out.append(np.concatenate([np.asarray(ctx[nm], dtype=np.float64).reshape(n, -1) for nm in names], axis=1))
    np.save(a.y, np.concatenate(out))


if __name__ == "__main__":
    main()
