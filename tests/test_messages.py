"""Front-end messages say the right thing (issue 10, item 7): one line, exit status 2, in the
house form `FILE: node 'NAME' (OP): expected X, got Y` (Keras: `layer 'NAME' (CLASS)`), naming
the file, the node or layer, what was expected and what was seen (values, shapes, limits: not
positions alone, not "invalid"), with correct grammar and never "(null)"."""
import io
import json

import h5py
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import run

RNG = np.random.default_rng(0)


def check(r, *patterns, out_dir=None):
    import re
    assert r.returncode == 2, f"exit {r.returncode}, stderr: {r.stderr}"
    lines = [l for l in r.stderr.strip().splitlines() if l]
    assert len(lines) == 1, r.stderr
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr
    assert "(null)" not in lines[0], lines[0]
    for p in patterns:
        assert re.search(p, lines[0]), f"{p!r} not in: {lines[0]}"
    if out_dir is not None:
        assert not out_dir.exists(), "an output directory was left behind"


def compile_err(tmp_path, *args):
    out = tmp_path / "out"
    return run("compile", *args, "-o", out, check=False), out


# ---- ONNX --------------------------------------------------------------------


def arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def onnx_file(tmp_path, nodes, inits=None, inputs=None, outputs=("y",), opset=13, name="bad.onnx", extra_opsets=()):
    inits = inits or {}
    init_protos = [v if isinstance(v, TensorProto) else numpy_helper.from_array(np.asarray(v), k)
                   for k, v in inits.items()]
    ins = inputs if inputs is not None else [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    g = helper.make_graph(nodes, "g", ins, outs, init_protos)
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in extra_opsets]
    m = helper.make_model(g, opset_imports=ops)
    p = tmp_path / name
    p.write_bytes(m.SerializeToString())
    return p


def x_in(shape):
    return [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)]


def dense(tmp_path, w=None, b=None, attrs=None, after=None, **kw):
    """x[1,4] -> Gemm 'dense_1' (W [4,3], B [3]) -> h -> after (default Relu 'relu_1') -> y."""
    inits = {"W": arr(4, 3) if w is None else w}
    if b is not False:
        inits["B"] = arr(3) if b is None else b
    nodes = [helper.make_node("Gemm", ["x", "W", "B"] if b is not False else ["x", "W"], ["h"], name="dense_1",
                              **(attrs or {}))]
    nodes += after if after is not None else [helper.make_node("Relu", ["h"], ["y"], name="relu_1")]
    return onnx_file(tmp_path, nodes, {**inits, **kw.pop("inits", {})}, **kw)


def conv_model(tmp_path, attrs=None, w=None, op="Conv", inputs=("x", "W"), extra=None, **kw):
    """x [1,2,6,6] -> op 'conv_1' -> y."""
    inits = {"W": arr(3, 2, 3, 3) if w is None else w, **(extra or {})}
    nodes = [helper.make_node(op, list(inputs), ["y"], name="conv_1", **(attrs or {}))]
    return onnx_file(tmp_path, nodes, inits, x_in([1, 2, 6, 6]), **kw)


def raw_tensor(name, dims, dtype=TensorProto.FLOAT, raw=None, external=False):
    t = TensorProto()
    t.name = name
    t.dims.extend(dims)
    t.data_type = dtype
    if raw is not None:
        t.raw_data = raw
    if external:
        t.data_location = TensorProto.EXTERNAL
        e = t.external_data.add()
        e.key, e.value = "location", "weights.bin"
    return t


def one(tmp_path, op, inputs, attrs=None, inits=None, shape=(1, 4), name="op_1", **kw):
    n = helper.make_node(op, inputs, ["y"], name=name, **(attrs or {}))
    return onnx_file(tmp_path, [n], inits or {}, x_in(list(shape)), **kw)


ONNX = {
    # graph inputs: which input, which axis, the value (or the symbolic name) and the range
    "dim_symbolic": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["y"], name="r")], {}, x_in(["N", "feat"])),
                     [r"bad\.onnx: input 'x': expected fixed per-sample dimensions in 1\.\.16777216 \(2\^24\), "
                      r"got the symbolic dimension 'feat' on axis 1"]),
    "dim_zero": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["y"], name="r")], {}, x_in([1, 3, 0])),
                 [r"bad\.onnx: input 'x': expected .*1\.\.16777216.*got 0 on axis 2"]),
    "dim_negative": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["y"], name="r")], {}, x_in([1, -3])),
                     [r"bad\.onnx: input 'x': expected .*1\.\.16777216.*got -3 on axis 1"]),
    "dim_huge": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["y"], name="r")], {}, x_in([1, 1 << 25])),
                 [r"input 'x': expected .*1\.\.16777216.*got 33554432 on axis 1"]),
    "dim_unset": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["y"], name="r")], {}, x_in([1, None])),
                  [r"input 'x': expected .*1\.\.16777216.*got an unset dimension on axis 1"]),
    "too_many_values": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["y"], name="r")], {},
                                            x_in([1, 4096, 4096, 8])),
                        [r"input 'x': expected at most 67108864 \(2\^26\) values per sample, got 134217728 \(\[4096,4096,8\]\)"]),
    "input_rank0": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["y"], name="r")], {}, x_in([])),
                    [r"input 'x': expected a shape of rank 1\.\.\d \(batch first\), got rank 0"]),
    # node inputs
    "one_input_plural": (lambda t: one(t, "Max", ["x"], name="max_1"),
                         [r"bad\.onnx: node 'max_1' \(Max\): expected two data inputs, got 1 input$"]),
    "three_inputs": (lambda t: onnx_file(t, [helper.make_node("Max", ["x", "x", "x"], ["y"], name="max_1")]),
                     [r"node 'max_1' \(Max\): expected two data inputs, got 3 inputs"]),
    "gemm_missing_input": (lambda t: one(t, "Gemm", ["x"], name="dense_1"),
                           [r"node 'dense_1' \(Gemm\): expected at least 2 inputs, got 1$"]),
    "empty_input_name": (lambda t: one(t, "Gemm", ["x", "", "B"], inits={"B": arr(3)}, name="dense_1"),
                         [r"node 'dense_1' \(Gemm\): expected input 1 to name a value, got an empty name"]),
    "undefined_input": (lambda t: one(t, "Gemm", ["x", "W9"], name="dense_1"),
                        [r"node 'dense_1' \(Gemm\): expected input 'W9' to be a graph input, initializer or earlier "
                         r"output, got an undefined name"]),
    "unknown_op": (lambda t: one(t, "Erf", ["x"], name="erf_1"),
                   [r"node 'erf_1' \(Erf\): unsupported operator: expected one of Gemm, .*Resize.*, got 'Erf'"]),
    "unknown_domain": (lambda t: one(t, "Conv", ["x"], name="c1", attrs={"domain": "com.example"},
                                     extra_opsets=["com.example"]),
                       [r"node 'c1' \(Conv\): expected an operator of the default ONNX domain .*got domain 'com\.example'"]),
    "no_output": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], [], name="r1"),
                                          helper.make_node("Relu", ["x"], ["y"], name="r2")]),
                  [r"node 'r1' \(Relu\): expected an output, got none"]),
    "undefined_output": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["h"], name="r1")]),
                         [r"bad\.onnx: output 'y': expected a value computed by the graph, got an undefined name"]),
    # Gemm / MatMul
    "transA": (lambda t: dense(t, attrs={"transA": 2}),
               [r"node 'dense_1' \(Gemm\): expected transA=0, got transA=2"]),
    "weights_rank": (lambda t: dense(t, w=arr(4, 3, 2)),
                     [r"node 'dense_1' \(Gemm\): expected 2-D weights, got \[4,3,2\]"]),
    "weights_last_dim": (lambda t: dense(t, w=arr(5, 3)),
                         [r"node 'dense_1' \(Gemm\): expected an input whose last dimension is 5 \(weights \[5,3\]\), got \[4\]"]),
    "weights_zero_outputs": (lambda t: dense(t, w=arr(4, 0), b=False, after=[helper.make_node("Relu", ["h"], ["y"])]),
                             [r"node 'dense_1' \(Gemm\): expected 2-D weights with at least one input and one output, got \[4,0\]"]),
    "bias_length": (lambda t: dense(t, b=arr(5)),
                    [r"node 'dense_1' \(Gemm\): expected a bias of 3 values \(or 1\), got \[5\]"]),
    "data_weights": (lambda t: one(t, "MatMul", ["x", "x"], name="mm"),
                     [r"node 'mm' \(MatMul\): expected constant weights as second input, got data tensor 'x'"]),
    # initializers
    "init_dtype": (lambda t: dense(t, inits={"W": raw_tensor("W", [4, 3], TensorProto.FLOAT16, bytes(24))}),
                   [r"bad\.onnx: node 'W' \(Initializer\): expected initializer of type float, double, int32 or int64, "
                    r"got ONNX data type 10 \(float16\)"]),
    "init_raw_length": (lambda t: dense(t, inits={"W": raw_tensor("W", [4, 3], raw=bytes(20))}),
                        [r"node 'W' \(Initializer\): expected 48 bytes of raw data in initializer 'W' \(\[4,3\] float\), got 20"]),
    "init_external": (lambda t: dense(t, inits={"W": raw_tensor("W", [4, 3], external=True)}),
                      [r"node 'W' \(Initializer\): expected initializer 'W' with its data inside the model file, "
                       r"got external data"]),
    "init_negative_dim": (lambda t: dense(t, inits={"W": raw_tensor("W", [4, -3], raw=b"")}),
                          [r"node 'W' \(Initializer\): expected initializer dimensions in 0\.\.16777216 \(2\^24\), "
                           r"got -3 on axis 1 of \[4,-3\]"]),
    "init_too_big": (lambda t: dense(t, inits={"W": raw_tensor("W", [8192, 8192, 2], raw=b"")}),
                     [r"node 'W' \(Initializer\): expected initializer of at most 67108864 \(2\^26\) elements, "
                      r"got 134217728 \(\[8192,8192,2\]\)"]),
    "init_nan": (lambda t: dense(t, w=np.full((4, 3), np.nan, np.float32)),
                 [r"node 'W' \(Initializer\): expected finite values in initializer 'W', got nan at element 0"]),
    # Conv / pooling / Pad / Resize
    "conv_kernel_shape": (lambda t: conv_model(t, {"kernel_shape": [2, 2]}),
                          [r"node 'conv_1' \(Conv\): expected kernel_shape \[3,3\] \(from the weights \[3,2,3,3\]\), "
                           r"got \[2,2\]"]),
    "conv_auto_pad": (lambda t: conv_model(t, {"auto_pad": "SAME_WHATEVER"}),
                      [r"node 'conv_1' \(Conv\): expected auto_pad NOTSET, SAME_UPPER, SAME_LOWER or VALID, got 'SAME_WHATEVER'"]),
    "conv_strides": (lambda t: conv_model(t, {"strides": [1, 0]}),
                     [r"node 'conv_1' \(Conv\): expected kernel, strides and dilations >= 1 on every spatial axis, "
                      r"got kernel 3, stride 0, dilation 1 on spatial axis 1"]),
    "conv_window_too_big": (lambda t: conv_model(t, w=arr(3, 2, 7, 7)),
                            [r"node 'conv_1' \(Conv\): expected an input of at least 7 pixels \(the window\) on spatial "
                             r"axis 0 with padding, got 6 \(6 pixels, padding 0 and 0\)"]),
    "conv_weights_rank": (lambda t: conv_model(t, w=arr(3, 2, 3)),
                          [r"node 'conv_1' \(Conv\): expected weights \[M,C/group,k\.\.\.\] for 2 input channels .*got \[3,2,3\]"]),
    "pool_no_kernel": (lambda t: conv_model(t, op="MaxPool", inputs=("x",)),
                       [r"node 'conv_1' \(MaxPool\): expected a kernel_shape attribute, got none"]),
    "avgpool_dilation": (lambda t: conv_model(t, {"kernel_shape": [2, 2], "dilations": [2, 2]}, op="AveragePool",
                                              inputs=("x",), opset=19),
                         [r"node 'conv_1' \(AveragePool\): expected dilations 1, got 2"]),
    "pool_attr_count": (lambda t: conv_model(t, {"kernel_shape": [2, 2, 2]}, op="MaxPool", inputs=("x",)),
                        [r"node 'conv_1' \(MaxPool\): expected 2 values in attribute kernel_shape, got 3"]),
    "pad_mode": (lambda t: conv_model(t, {"mode": "reflect"}, op="Pad", inputs=("x", "P"),
                                      extra={"P": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)}),
                 [r"node 'conv_1' \(Pad\): expected mode 'constant', got 'reflect'"]),
    "pad_huge_float": (lambda t: conv_model(t, op="Pad", inputs=("x", "P"),
                                            extra={"P": np.array([0, 0, 1e30, 1, 0, 0, 1, 1], np.float32)}),
                       [r"node 'conv_1' \(Pad\): expected pads that leave at least one pixel .*got 1e\+30"]),
    "resize_scales_count": (lambda t: conv_model(t, op="Resize", inputs=("x", "", "S"),
                                                 extra={"S": np.array([1, 1, 2], np.float32)}),
                            [r"node 'conv_1' \(Resize\): expected constant scales of 4 values, got 3 values"]),
    "resize_mode": (lambda t: conv_model(t, {"mode": "cubic"}, op="Resize", inputs=("x", "", "S"),
                                         extra={"S": np.array([1, 1, 2, 2], np.float32)}),
                    [r"node 'conv_1' \(Resize\): expected mode 'nearest', got 'cubic'"]),
    # shapes
    "reshape_two_minus1": (lambda t: one(t, "Reshape", ["x", "S"], inits={"S": np.array([1, -1, -1], np.int64)},
                                         name="rs"),
                           [r"node 'rs' \(Reshape\): expected at most one -1 in the target shape, got \[1,-1,-1\]"]),
    "reshape_count": (lambda t: one(t, "Reshape", ["x", "S"], inits={"S": np.array([1, 5], np.int64)}, name="rs"),
                      [r"node 'rs' \(Reshape\): expected a target shape with 4 elements per sample, got 5 \(\[1,5\]\)"]),
    "reshape_negative": (lambda t: one(t, "Reshape", ["x", "S"], inits={"S": np.array([1, -2, 2], np.int64)}, name="rs"),
                         [r"node 'rs' \(Reshape\): expected positive target dimensions \(or 0, or one -1\), "
                          r"got -2 in \[1,-2,2\]"]),
    "reshape_infer": (lambda t: one(t, "Reshape", ["x", "S"], inits={"S": np.array([1, 3, -1], np.int64)}, name="rs"),
                      [r"node 'rs' \(Reshape\): expected a target shape whose known dimensions divide the 4 elements "
                       r"per sample, got \[1,3,-1\]"]),
    "flatten_axis": (lambda t: one(t, "Flatten", ["x"], {"axis": 5}, name="fl"),
                     [r"node 'fl' \(Flatten\): expected axis in -2\.\.2, got 5"]),
    "softmax_axis": (lambda t: one(t, "Softmax", ["x"], {"axis": 0}, name="sm"),
                     [r"node 'sm' \(Softmax\): expected a softmax axis other than the batch axis \(1\.\.1\), got 0"]),
    "transpose_perm": (lambda t: one(t, "Transpose", ["x"], {"perm": [0, 1, 2]}, name="tr"),
                       [r"node 'tr' \(Transpose\): expected perm of length 2, got 3"]),
    "concat_axis": (lambda t: one(t, "Concat", ["x", "x"], {"axis": 0}, name="cat"),
                    [r"node 'cat' \(Concat\): expected an axis other than the batch axis \(1\.\.1\), got 0"]),
    "unsqueeze_dup": (lambda t: one(t, "Unsqueeze", ["x"], {"axes": [1, 1]}, name="us", opset=11),
                      [r"node 'us' \(Unsqueeze\): expected distinct axes, got axis 1 twice in \[1,1\]"]),
    "squeeze_size": (lambda t: one(t, "Squeeze", ["x"], {"axes": [1]}, name="sq", opset=11),
                     [r"node 'sq' \(Squeeze\): expected squeezed axis 1 of size 1, got 4"]),
    "add_shapes": (lambda t: onnx_file(t, [helper.make_node("Relu", ["x"], ["a"], name="r1"),
                                           helper.make_node("Reshape", ["x", "S"], ["b"], name="rs"),
                                           helper.make_node("Add", ["a", "b"], ["y"], name="add_1")],
                                       {"S": np.array([1, 2, 2], np.int64)}),
                   [r"node 'add_1' \(Add\): expected operands of the same shape, got \[4\] and \[2,2\]"]),
    "div_zero": (lambda t: one(t, "Div", ["x", "C"], inits={"C": np.array([1, 0, 2, 3], np.float32)}, name="dv"),
                 [r"node 'dv' \(Div\): expected a non-zero constant divisor, got 0 at element 1"]),
    "batchnorm_lengths": (lambda t: one(t, "BatchNormalization", ["x", "s", "b", "m", "v"], name="bn",
                                        inits={"s": arr(4), "b": arr(4), "m": arr(3), "v": np.ones(4, np.float32)}),
                          [r"node 'bn' \(BatchNormalization\): expected scale, bias, mean and variance of equal length, "
                           r"got scale 4 and mean 3"]),
    "clip_data": (lambda t: one(t, "Clip", ["x", "x"], name="cl"),
                  [r"node 'cl' \(Clip\): expected constant min and max, got data tensor 'x'"]),
    "constant_no_value": (lambda t: onnx_file(t, [helper.make_node("Constant", [], ["c"], name="k"),
                                                  helper.make_node("Relu", ["x"], ["y"], name="r")]),
                          [r"node 'k' \(Constant\): expected a 'value' tensor attribute, got none"]),
    "opset": (lambda t: dense(t, opset=30), [r"bad\.onnx: expected ONNX opset 1\.\.28 for the default domain, got 30"]),
    "layernorm": (lambda t: one(t, "LayerNormalization", ["x", "g", "b"], name="ln", opset=17, attrs={"axis": 0},
                                inits={"g": arr(4), "b": arr(4)}),
                  [r"node 'ln' \(LayerNormalization\): expected a LayerNormalization over the last axis only "
                   r"\(axis -1 or 1\), got axis 0 of a rank-2 input"]),
    "layernorm_scale": (lambda t: one(t, "LayerNormalization", ["x", "g", "b"], name="ln", opset=17,
                                      inits={"g": arr(3), "b": arr(4)}),
                        [r"node 'ln' \(LayerNormalization\): expected Scale of 4 values \(the last axis\) or one, "
                         r"got 3"]),
    "reducemean": (lambda t: one(t, "ReduceMean", ["x"], name="rm", attrs={"axes": [-1]}),
                   [r"node 'rm' \(ReduceMean\): ReduceMean of data is not supported: PyTorch writes nn\.LayerNorm "
                    r"below opset 17 as ReduceMean, .*export it at opset 17 or later"]),
    "gather_axis": (lambda t: one(t, "Gather", ["T", "x"], name="emb", attrs={"axis": 1}, inits={"T": arr(5, 3)}),
                    [r"node 'emb' \(Gather\): expected a Gather of a constant table by rows \(axis 0, an embedding\), "
                     r"got axis 1"]),
}


@pytest.mark.parametrize("case", sorted(ONNX))
def test_onnx_message(case, tmp_path):
    build, patterns = ONNX[case]
    r, out = compile_err(tmp_path, build(tmp_path))
    check(r, *patterns, out_dir=out)


def test_onnx_truncated(tmp_path):
    p = dense(tmp_path)
    p.write_bytes(p.read_bytes()[:40])
    r, out = compile_err(tmp_path, p)
    check(r, r"bad\.onnx: expected an ONNX model .*got data that does not decode", out_dir=out)


# ---- QONNX --------------------------------------------------------------------

QD = "qonnx.custom_op.general"


def quant(tmp_path, op="Quant", ins=None, attrs=None, inits=None):
    """x[1,4] -> op 'q_1' (domain qonnx) -> y."""
    inits = {"s": np.array(0.25, np.float32), "z": np.array(0, np.float32), "b": np.array(4, np.float32),
             **(inits or {})}
    ins = ins or ["x", "s", "z", "b"]
    n = helper.make_node(op, ins, ["y"], name="q_1", domain=QD, **(attrs or {}))
    return onnx_file(tmp_path, [n], {k: v for k, v in inits.items() if k in ins}, extra_opsets=[QD])


QONNX = {
    "bit_width": (lambda t: quant(t, inits={"b": np.array(40, np.float32)}),
                  [r"bad\.onnx: node 'q_1' \(Quant\): expected an integer bit_width in 1\.\.32, got 40"]),
    "bit_width_unsigned_narrow": (lambda t: quant(t, attrs={"signed": 0, "narrow": 1}, inits={"b": np.array(1, np.float32)}),
                                  [r"node 'q_1' \(Quant\): expected an integer bit_width in 2\.\.32 \(unsigned narrow\), got 1"]),
    "unknown_attr": (lambda t: quant(t, attrs={"flavour": 1}),
                     [r"node 'q_1' \(Quant\): expected attributes among signed, narrow, rounding_mode, "
                      r"got unknown attribute 'flavour'"]),
    "rounding": (lambda t: quant(t, attrs={"rounding_mode": "BANANA"}),
                 [r"node 'q_1' \(Quant\): expected rounding_mode ROUND, .*got 'BANANA'"]),
    "zero_point_values": (lambda t: quant(t, inits={"z": np.array([0, 1, 0, 0], np.float32)}),
                          [r"node 'q_1' \(Quant\): expected a single zero_point value, got 4 values \(0 and 1 differ\)"]),
    "negative_scale": (lambda t: quant(t, inits={"s": np.array(-0.5, np.float32)}),
                       [r"node 'q_1' \(Quant\): expected positive scales, got -0\.5"]),
    "missing_inputs": (lambda t: quant(t, ins=["x", "s", "z"]),
                       [r"node 'q_1' \(Quant\): expected 4 inputs \(x, scale, zero_point, bit_width\), got 3"]),
    "empty_scale_name": (lambda t: quant(t, ins=["x", "", "z", "b"]),
                         [r"node 'q_1' \(Quant\): expected input 1 \(scale\), got an empty name"]),
    "signed_value": (lambda t: quant(t, attrs={"signed": 2}),
                     [r"node 'q_1' \(Quant\): expected signed and narrow to be 0 or 1, got signed=2 narrow=0"]),
    "trunc_ceil": (lambda t: quant(t, "Trunc", ["x", "s", "z", "b", "b"], {"rounding_mode": "CEIL"}),
                   [r"node 'q_1' \(Trunc\): expected a Trunc rounding_mode among FLOOR, .*got CEIL"]),
    "bipolar_attr": (lambda t: quant(t, "BipolarQuant", ["x", "s"], {"narrow": 1}),
                     [r"node 'q_1' \(BipolarQuant\): expected no attributes, got unknown attribute 'narrow'"]),
    "unknown_qop": (lambda t: quant(t, "Quantize", ["x", "s"]),
                    [r"node 'q_1' \(Quantize\): expected a QONNX operator among Quant, IntQuant, BipolarQuant, Trunc "
                     r"in domain 'qonnx\.custom_op\.general', got 'Quantize'"]),
    "scale_broadcast": (lambda t: quant(t, inits={"s": np.full((1, 3), 0.25, np.float32)}),
                        [r"node 'q_1' \(Quant\): expected a scale that broadcasts to the data \[1,4\], got \[1,3\]"]),
    "trunc_scale": (lambda t: quant(t, "Trunc", ["x", "s", "z", "b", "b"], inits={"s": np.array(0.3, np.float32)}),
                    [r"node 'q_1' \(Trunc\): expected power-of-two scales and zero point 0, got scale 0\.3, zero point 0 "]),
    "gather_index": (lambda t: onnx_file(t, [helper.make_node("Shape", ["x"], ["s"], name="shp"),
                                             helper.make_node("Gather", ["s", "i"], ["g"], name="ga"),
                                             helper.make_node("Relu", ["x"], ["y"], name="r")],
                                         {"i": np.array(7, np.int64)}),
                     [r"node 'ga' \(Gather\): expected indices in -2\.\.1, got 7"]),
    "gather_huge_index": (lambda t: onnx_file(t, [helper.make_node("Shape", ["x"], ["s"], name="shp"),
                                                  helper.make_node("Gather", ["s", "i"], ["g"], name="ga"),
                                                  helper.make_node("Relu", ["x"], ["y"], name="r")],
                                              {"i": np.array(1e30, np.float32)}),
                          [r"node 'ga' \(Gather\): expected indices in -2\.\.1, got 1e\+30"]),
    "concat_const_shapes": (lambda t: onnx_file(t, [helper.make_node("Concat", ["a", "c"], ["k"], name="cc", axis=0),
                                                    helper.make_node("Relu", ["x"], ["y"], name="r")],
                                                {"a": arr(2, 3), "c": arr(2, 4)}),
                            [r"node 'cc' \(Concat\): expected inputs of equal shape except along axis 0, "
                             r"got \[2,3\] and \[2,4\]"]),
}


@pytest.mark.parametrize("case", sorted(QONNX))
def test_qonnx_message(case, tmp_path):
    build, patterns = QONNX[case]
    r, out = compile_err(tmp_path, build(tmp_path))
    check(r, *patterns, out_dir=out)


# ---- Keras: architecture JSON + weights .h5 (Keras 2 layout), built without TensorFlow ----


def h5_bytes(layers):
    """Keras 2 save_weights layout: a group per layer with weight_names."""
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.attrs["layer_names"] = [n.encode() for n in layers]
        for name, ws in layers.items():
            g = f.create_group(name)
            g.attrs["weight_names"] = [f"{name}/{k}:0".encode() for k in ws]
            for k, v in ws.items():
                g.create_dataset(f"{name}/{k}:0", data=np.asarray(v, dtype=np.float32))
    return bio.getvalue()


def keras(tmp_path, layers, inp=(4,), weights=None, name="m"):
    """A Sequential model m.json (first layer gets batch_input_shape) with m_weights.h5 beside it."""
    ls = []
    for i, (cls, cfg) in enumerate(layers):
        c = dict(cfg)
        if i == 0 and "batch_input_shape" not in c:
            c["batch_input_shape"] = [None] + list(inp)
        ls.append({"class_name": cls, "config": c})
    j = tmp_path / f"{name}.json"
    j.write_text(json.dumps({"class_name": "Sequential", "config": ls, "keras_version": "2.0.5"}))
    (tmp_path / f"{name}_weights.h5").write_bytes(h5_bytes(weights or {}))
    return j


def kdense(name="d1", units=3, **cfg):
    return ("Dense", {"name": name, "units": units, "activation": "linear", "use_bias": True, **cfg})


def kw(nin=4, units=3, name="d1"):
    return {name: {"kernel": RNG.standard_normal((nin, units)), "bias": RNG.standard_normal(units)}}


def conv2d(**cfg):
    return ("Conv2D", {"name": "c1", "filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                       "activation": "linear", "use_bias": True, **cfg})


def conv_w():
    return {"c1": {"kernel": RNG.standard_normal((3, 3, 2, 2)), "bias": np.zeros(2)}}


Q = {"class_name": "quantized_bits", "config": {"bits": 6, "integer": 0, "keep_negative": True, "alpha": 1}}

KERAS = {
    "unknown_class": (lambda t: keras(t, [("Conv3DTranspose", {"name": "c3"})]),
                      [r"m\.json: layer 'c3' \(Conv3DTranspose\): unsupported layer class: expected one of .*Dense.*, "
                       r"got 'Conv3DTranspose'"]),
    "bad_activation": (lambda t: keras(t, [kdense(activation="swishy")], weights=kw()),
                       [r"m\.json: layer 'd1' \(Dense\): expected an activation among linear, relu, .*got 'swishy'"]),
    "missing_weights": (lambda t: keras(t, [kdense(), kdense("d2")], weights=kw()),
                        [r"m_weights\.h5: layer 'd2' \(Dense\): expected a weights group 'd2', got none"]),
    "missing_weight_variable": (lambda t: keras(t, [kdense()], weights={"d1": {"kernel": np.zeros((4, 3))}}),
                                [r"m_weights\.h5: layer 'd1' \(Dense\): expected a weight 'bias' in group 'd1', "
                                 r"got d1/kernel:0"]),
    "kernel_shape": (lambda t: keras(t, [kdense()], weights=kw(4, 5)),
                     [r"m_weights\.h5: layer 'd1' \(Dense\): expected kernel \[4,3\] \(input 4 features, 3 units\), got \[4,5\]"]),
    "bias_shape": (lambda t: keras(t, [kdense()], weights={"d1": {"kernel": np.zeros((4, 3)), "bias": np.zeros(2)}}),
                   [r"m_weights\.h5: layer 'd1' \(Dense\): expected bias \[3\], got \[2\]"]),
    "nan_weight": (lambda t: keras(t, [kdense()], weights={"d1": {"kernel": np.full((4, 3), np.nan), "bias": np.zeros(3)}}),
                   [r"m_weights\.h5: layer 'd1' \(Dense\): expected finite values in kernel 'd1/kernel:0', got nan"]),
    "units_zero": (lambda t: keras(t, [kdense(units=0)], weights=kw()),
                   [r"m\.json: layer 'd1' \(Dense\): expected 'units' a positive integer up to 16777216, got 0"]),
    "units_huge": (lambda t: keras(t, [kdense(units=1e300)], weights=kw()),
                   [r"m\.json: layer 'd1' \(Dense\): expected 'units' a positive integer up to 16777216, got 1e\+300"]),
    "units_string": (lambda t: keras(t, [kdense(units="three")], weights=kw()),
                     [r"m\.json: layer 'd1' \(Dense\): expected 'units' a positive integer up to 16777216, got 'three'"]),
    "input_none": (lambda t: keras(t, [kdense(batch_input_shape=[None, None])], weights=kw()),
                   [r"m\.json: layer 'd1' \(Dense\): expected fixed per-sample dimensions in 1\.\.16777216 "
                    r"\(2\^24\), got None on axis 1 of \[None,None\]"]),
    "input_zero": (lambda t: keras(t, [kdense(batch_input_shape=[None, 4, 0])], weights=kw()),
                   [r"layer 'd1' \(Dense\): expected fixed per-sample dimensions in 1\.\.16777216 \(2\^24\), "
                    r"got 0 on axis 2 of \[None,4,0\]"]),
    "input_huge": (lambda t: keras(t, [kdense(batch_input_shape=[None, 1e12])], weights=kw()),
                   [r"layer 'd1' \(Dense\): expected .*1\.\.16777216.*got 1e\+12 on axis 1"]),
    "input_rank": (lambda t: keras(t, [kdense(batch_input_shape=[None, 1, 1, 1, 1, 1, 1, 1, 4])], weights=kw()),
                   [r"layer 'd1' \(Dense\): expected an input shape \[batch, d1, \.\.\.\] of rank 2\.\.\d+, got rank 9"]),
    "bn_axis": (lambda t: keras(t, [kdense(), ("BatchNormalization", {"name": "bn", "axis": 5})], weights=kw()),
                [r"m\.json: layer 'bn' \(BatchNormalization\): expected one axis other than the batch axis "
                 r"\(1\.\.1 or -1\), got 5"]),
    "bn_axis_huge": (lambda t: keras(t, [kdense(), ("BatchNormalization", {"name": "bn", "axis": 1e300})], weights=kw()),
                     [r"layer 'bn' \(BatchNormalization\): expected one axis .*got 1e\+300"]),
    "reshape_zero": (lambda t: keras(t, [kdense(), ("Reshape", {"name": "rs", "target_shape": [0, 3]})], weights=kw()),
                     [r"m\.json: layer 'rs' \(Reshape\): expected positive target dimensions \(or one -1\), "
                      r"got 0 in \[0,3\]"]),
    "reshape_count": (lambda t: keras(t, [kdense(), ("Reshape", {"name": "rs", "target_shape": [2, 2]})], weights=kw()),
                      [r"layer 'rs' \(Reshape\): expected a target_shape of 3 elements, got 4 \(\[2,2\]\)"]),
    "reshape_two_minus1": (lambda t: keras(t, [kdense(), ("Reshape", {"name": "rs", "target_shape": [-1, -1]})],
                                           weights=kw()),
                           [r"layer 'rs' \(Reshape\): expected at most one -1 in target_shape, got \[-1,-1\]"]),
    "conv_padding": (lambda t: keras(t, [conv2d(padding="causal")], (6, 6, 2), conv_w()),
                     [r"m\.json: layer 'c1' \(Conv2D\): expected padding 'valid' or 'same', got 'causal'"]),
    "conv_data_format": (lambda t: keras(t, [conv2d(data_format="channels_first")], (6, 6, 2), conv_w()),
                         [r"layer 'c1' \(Conv2D\): expected data_format 'channels_last', got 'channels_first'"]),
    "conv_strides": (lambda t: keras(t, [conv2d(strides=[1, 0])], (6, 6, 2), conv_w()),
                     [r"layer 'c1' \(Conv2D\): expected kernel_size, strides and dilation_rate >= 1 on every spatial "
                      r"axis, got 3, 0 and 1 on spatial axis 1"]),
    "conv_strides_huge": (lambda t: keras(t, [conv2d(strides=1e300)], (6, 6, 2), conv_w()),
                          [r"layer 'c1' \(Conv2D\): expected integers within \+-1048576 \(2\^20\) in 'strides', got 1e\+300"]),
    "conv_filters": (lambda t: keras(t, [conv2d(filters=0)], (6, 6, 2), conv_w()),
                     [r"layer 'c1' \(Conv2D\): expected positive filters \(up to 16777216\) and groups dividing 2 input "
                      r"channels, got filters 0 and groups 1"]),
    "conv_window": (lambda t: keras(t, [conv2d(kernel_size=[7, 7])], (6, 6, 2), conv_w()),
                    [r"layer 'c1' \(Conv2D\): expected an input of at least 7 pixels \(the window\) on spatial axis 0, got 6"]),
    "conv_kernel_shape": (lambda t: keras(t, [conv2d()], (6, 6, 2), {"c1": {"kernel": np.zeros((3, 3, 2, 5)),
                                                                              "bias": np.zeros(2)}}),
                          [r"m_weights\.h5: layer 'c1' \(Conv2D\): expected kernel \[3,3,2,2\], got \[3,3,2,5\]"]),
    "conv_input_rank": (lambda t: keras(t, [conv2d()], (4,), conv_w()),
                        [r"layer 'c1' \(Conv2D\): expected a channels-last input of rank 3 \(\[H,W,C\]\), got \[4\]"]),
    "permute": (lambda t: keras(t, [kdense(), ("Permute", {"name": "pm", "dims": [2]})], weights=kw()),
                [r"layer 'pm' \(Permute\): expected dims as a permutation of 1\.\.1, got \[2\]"]),
    "relu_threshold": (lambda t: keras(t, [kdense(), ("ReLU", {"name": "re", "threshold": 0.5, "max_value": 2})],
                                       weights=kw()),
                       [r"layer 're' \(ReLU\): expected threshold 0\.5 with negative_slope 0 and no max_value \(a "
                        r"ThresholdedReLU\), got negative_slope 0 and max_value 2 \(not supported\)"]),
    "layernorm": (lambda t: keras(t, [kdense(), ("LayerNormalization", {"name": "ln", "axis": [0]})], weights=kw()),
                  [r"layer 'ln' \(LayerNormalization\): expected a LayerNormalization over the last axis only "
                   r"\(axis -1 or 1 of a rank-2 input with its batch axis\), got axis \[0\]"]),
    "layernorm_gamma": (lambda t: keras(t, [kdense(), ("LayerNormalization", {"name": "ln", "axis": [1]})],
                                        weights={**kw(), "ln": {"gamma": arr(2), "beta": arr(3)}}),
                        [r"layer 'ln' \(LayerNormalization\).*expected gamma of 3 values \(the last axis\), got \[2\]"]),
    "embedding_mask": (lambda t: keras(t, [("Embedding", {"name": "e", "input_dim": 5, "output_dim": 2,
                                                          "mask_zero": True})], weights={"e": {"embeddings": arr(5, 2)}}),
                       [r"layer 'e' \(Embedding\): expected mask_zero false, got true"]),
    "embedding_shape": (lambda t: keras(t, [("Embedding", {"name": "e", "input_dim": 6, "output_dim": 2})],
                                        weights={"e": {"embeddings": arr(5, 2)}}),
                        [r"layer 'e' \(Embedding\): expected embeddings \[input_dim 6, output_dim 2\], got \[5,2\]"]),
    "softmax_axis": (lambda t: keras(t, [kdense(), ("Softmax", {"name": "sm", "axis": 0})], weights=kw()),
                     [r"layer 'sm' \(Softmax\): expected a softmax axis other than the batch axis \(1\.\.1 or -1\), got 0"]),
    "quantizer_bits": (lambda t: keras(t, [("QDense", {"name": "q1", "units": 3, "use_bias": True,
                                                                          "kernel_quantizer": {"class_name": "quantized_bits",
                                                                                               "config": {"bits": 40}}})],
                                       weights=kw(name="q1")),
                       [r"layer 'q1' \(QDense\): expected kernel_quantizer quantized_bits with 1\.\.32 bits and integer "
                        r"in -32\.\.32, got bits=40 integer=0"]),
    "quantizer_class": (lambda t: keras(t, [("QDense", {"name": "q1", "units": 3, "use_bias": True,
                                                        "kernel_quantizer": {"class_name": "quantized_ulaw", "config": {}}})],
                                        weights=kw(name="q1")),
                        [r"layer 'q1' \(QDense\): expected kernel_quantizer to be one of quantized_bits, .*got 'quantized_ulaw'"]),
    "quantizer_po2": (lambda t: keras(t, [("QDense", {"name": "q1", "units": 3, "use_bias": True,
                                                      "kernel_quantizer": {"class_name": "quantized_po2",
                                                                           "config": {"bits": 4, "max_value": -1}}})],
                                      weights=kw(name="q1")),
                      [r"layer 'q1' \(QDense\): expected kernel_quantizer quantized_po2 with 2\.\.32 bits and a positive "
                       r"max_value, got bits=4 max_value=-1"]),
    "quantizer_string_args": (lambda t: keras(t, [("QDense", {"name": "q1", "units": 3, "use_bias": True,
                                                              "kernel_quantizer": "binary(0,1,0,7)"})],
                                              weights=kw(name="q1")),
                              [r"layer 'q1' \(QDense\): expected at most 3 positional arguments in 'binary\(0,1,0,7\)', "
                               r"got 4"]),
    "qactivation": (lambda t: keras(t, [kdense(), ("QActivation", {"name": "qa", "activation": "binary"})], weights=kw()),
                    [r"layer 'qa' \(QActivation\): expected an activation quantizer among quantized_bits \(2 bits or "
                     r"more\), quantized_relu, quantized_tanh, quantized_sigmoid, got binary"]),
    "zero_padding": (lambda t: keras(t, [("ZeroPadding2D", {"name": "zp", "padding": [[1, -1], [0, 0]]})], (6, 6, 2)),
                     [r"layer 'zp' \(ZeroPadding2D\): expected 'padding' values in 0\.\.1048576 \(2\^20\), got 1 and -1"]),
    "zero_padding_scalar": (lambda t: keras(t, [("ZeroPadding2D", {"name": "zp", "padding": -1})], (6, 6, 2)),
                            [r"layer 'zp' \(ZeroPadding2D\): expected 'padding' values in 0\.\.1048576 \(2\^20\), "
                             r"got -1 and -1"]),
    "cropping": (lambda t: keras(t, [("Cropping2D", {"name": "cr", "cropping": [[3, 3], [0, 0]]})], (6, 6, 2)),
                 [r"layer 'cr' \(Cropping2D\): expected cropping that leaves at least one pixel, got 3 and 3 of 6 "
                  r"on spatial axis 0"]),
    "upsampling": (lambda t: keras(t, [("UpSampling2D", {"name": "up", "size": [2, 0]})], (6, 6, 2)),
                   [r"layer 'up' \(UpSampling2D\): expected size >= 1, got 0"]),
}


@pytest.mark.parametrize("case", sorted(KERAS))
def test_keras_message(case, tmp_path):
    build, patterns = KERAS[case]
    r, out = compile_err(tmp_path, build(tmp_path))
    check(r, *patterns, out_dir=out)


def test_keras_no_weights_file(tmp_path):
    j = keras(tmp_path, [kdense()], weights=kw())
    (tmp_path / "m_weights.h5").unlink()
    r, out = compile_err(tmp_path, j)
    check(r, r"m\.json: expected weights in .*m_weights\.h5 beside it .*got no such file", out_dir=out)


def test_keras_truncated_h5(tmp_path):
    j = keras(tmp_path, [kdense()], weights=kw())
    w = tmp_path / "m_weights.h5"
    w.write_bytes(w.read_bytes()[:700])
    r, out = compile_err(tmp_path, j)
    check(r, r"m_weights\.h5: expected", out_dir=out)


def test_keras_unknown_model_class(tmp_path):
    j = tmp_path / "m.json"
    j.write_text(json.dumps({"class_name": "Graph", "config": []}))
    (tmp_path / "m_weights.h5").write_bytes(h5_bytes({}))
    r, out = compile_err(tmp_path, j)
    check(r, r"m\.json: expected a Keras model of class Sequential, Functional or Model, got 'Graph'", out_dir=out)


def test_keras_functional_input_not_inputlayer(tmp_path):
    cfg = {"class_name": "Functional", "config": {"name": "fm", "layers": [
        {"class_name": "Dense", "name": "d1", "config": {"name": "d1", "units": 3}, "inbound_nodes": []}],
        "input_layers": [["d1", 0, 0]], "output_layers": [["d1", 0, 0]]}}
    j = tmp_path / "m.json"
    j.write_text(json.dumps(cfg))
    (tmp_path / "m_weights.h5").write_bytes(h5_bytes({}))
    r, out = compile_err(tmp_path, j)
    check(r, r"m\.json: layer 'd1' \(Dense\): expected model input 'd1' to be an InputLayer, got a Dense", out_dir=out)


def test_keras_functional_unknown_reference(tmp_path):
    cfg = {"class_name": "Functional", "config": {"name": "fm", "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_input_shape": [None, 4]},
         "inbound_nodes": []},
        {"class_name": "Dense", "name": "d1", "config": {"name": "d1", "units": 3},
         "inbound_nodes": [[["ghost", 0, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["d1", 0, 0]]}}
    j = tmp_path / "m.json"
    j.write_text(json.dumps(cfg))
    (tmp_path / "m_weights.h5").write_bytes(h5_bytes({}))
    r, out = compile_err(tmp_path, j)
    check(r, r"m\.json: layer 'd1' \(Dense\): expected inputs computed by other layers of the model, got a reference "
             r"to 'ghost' \(tensor 0\)", out_dir=out)
