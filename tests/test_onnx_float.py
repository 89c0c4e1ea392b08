"""--float runs the graph in double precision: it must match onnxruntime."""
import numpy as np
import onnx
import pytest

from conftest import ONNX_MLPS, onnx_model, predict, random_inputs

ort = pytest.importorskip("onnxruntime")


def runnable(path, double=False):
    """Some shared files cannot run in onnxruntime as they are: a fixed huge batch
    dimension (PyTorch 0.3 exports), opset 6 ops, or a BatchNormalization fed
    through a batch-moving Transpose.  Make the smallest edit that lets
    onnxruntime run the same arithmetic."""
    m = onnx.load(str(path))
    g = m.graph
    inits = {i.name for i in g.initializer}
    for v in list(g.input) + list(g.output):
        if v.name in inits:
            continue
        d = v.type.tensor_type.shape.dim
        if len(d):
            d[0].ClearField("dim_value")
            d[0].dim_param = "N"
    # keras2onnx's Transpose → BN → Transpose on [1, C]: the transposes are
    # layout no-ops for the per-feature BN; drop them.
    drop = [n for n in g.node if n.op_type == "Transpose" and not n.attribute
            and not any(n.input[0] == i.name for i in g.initializer)]
    for n in drop:
        for other in g.node:
            for k, name in enumerate(other.input):
                if name == n.output[0]:
                    other.input[k] = n.input[0]
        for o in g.output:
            if o.name == n.output[0]:
                o.name = n.input[0]
        g.node.remove(n)
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 7:
        for n in g.node:
            for a in list(n.attribute):
                if a.name in ("broadcast", "is_test", "consumed_inputs", "spatial"):
                    n.attribute.remove(a)
        for o in m.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = 7
    del g.value_info[:]
    if double:
        # the same graph in float64, so that the comparison measures etchnn, not float32 rounding
        float_inits = {t.name for t in g.initializer if t.data_type == onnx.TensorProto.FLOAT}
        for v in list(g.input) + list(g.output):
            if v.name not in inits or v.name in float_inits:
                v.type.tensor_type.elem_type = onnx.TensorProto.DOUBLE
        for k, t in enumerate(g.initializer):
            if t.data_type == onnx.TensorProto.FLOAT:
                a = onnx.numpy_helper.to_array(t).astype(np.float64)
                g.initializer[k].CopyFrom(onnx.numpy_helper.from_array(a, t.name))
    return m.SerializeToString()


@pytest.mark.parametrize("double", [False, True], ids=["ort-float32", "ort-float64"])
@pytest.mark.parametrize("name", ONNX_MLPS)
def test_float_matches_onnxruntime(name, double, tmp_path):
    path = onnx_model(name)
    sess = ort.InferenceSession(runnable(path, double), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    width = int(np.prod([d for d in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[1:]
                         and [x.dim_value for x in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[1:]]]))
    x = random_inputs(10000, width, seed=1).astype(np.float32).astype(np.float64)
    ref = sess.run(None, {inp.name: x.astype(np.float64 if double else np.float32)})[0]
    ref = ref.reshape(len(x), -1).astype(np.float64)
    got = predict(path, x, tmp_path, "--float")
    assert got.shape == ref.shape
    if double:
        # same arithmetic in double: 1e-5 relative (onnxruntime's double sigmoid is
        # only ~1e-16 absolute for outputs below 1e-9, so those compare absolutely)
        err = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-9)
        assert err.max() < 1e-5, f"max relative error {err.max():.3g}"
    else:
        # onnxruntime's float32 kernels (approximate sigmoid, float32 sums) differ
        # from double by more than 1e-5 relative on tiny outputs: relative 1e-5
        # of the output scale (1 for probabilities) or 1e-4 of the value
        err = np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)
        assert err.max() < 1e-5 or (np.abs(got - ref) / np.abs(ref)).max() < 1e-4, f"max error {err.max():.3g}"


@pytest.mark.parametrize("opset", [22, 25, 28])
def test_recent_opsets(opset, tmp_path):
    """Opsets 23..28 change nothing the reader uses for float data (more tensor types; Cast's round_mode is
    for float8): a Gemm, Cast to float, Relu, Reshape graph at opset 22, 25 and 28 equals numpy; a Cast of
    data to an integer type is refused, naming the node."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(opset)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    def model(to):
        nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc"),
                 helper.make_node("Cast", ["h"], ["c"], to=to, name="cast"),
                 helper.make_node("Relu", ["c"], ["r"], name="relu"),
                 helper.make_node("Reshape", ["r", "shape"], ["y"], name="reshape")]
        g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([-1, 3]), "shape")])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / "m.onnx"
    onnx.save(model(TensorProto.FLOAT), str(path))
    x = rng.standard_normal((200, 4))
    got = predict(path, x, tmp_path, "--float")
    assert np.abs(got - np.maximum(x @ w.astype(np.float64), 0)).max() < 1e-12
    onnx.save(model(TensorProto.INT64), str(path))
    from conftest import run
    r = run("predict", path, "--float", "--input", tmp_path / "x.txt", check=False)
    assert r.returncode != 0 and "node 'cast' (Cast): expected a Cast of data to float or double" in r.stderr, r.stderr
