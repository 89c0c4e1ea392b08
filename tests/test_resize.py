"""ONNX Resize / Upsample (nearest, whole factors): --float equals
onnxruntime, the sizes form equals the scales form bit for bit, and the
circuit verifies in Verilator."""
import shutil

import numpy as np
import pytest

from conftest import predict, run

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

VARIANTS = {
    "resize-scales": ("Resize", 13, {"mode": "nearest"}, "scales"),
    "resize-sizes": ("Resize", 13, {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                                    "nearest_mode": "floor"}, "sizes"),
    "upsample-9": ("Upsample", 9, {"mode": "nearest"}, "scales"),
}


def build(tmp_path, variant):
    op, opset, attrs, form = VARIANTS[variant]
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.uniform(-1, 1, (2, 1, 3, 3)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.uniform(-1, 1, (1, 2, 3, 3)).astype(np.float32), "w2")]
    if form == "scales":
        inits.append(numpy_helper.from_array(np.array([1, 1, 2, 3], dtype=np.float32), "sc"))
        ins = ["c1", "sc"] if op == "Upsample" else ["c1", "", "sc"]
    else:
        inits.append(numpy_helper.from_array(np.array([1, 2, 8, 15], dtype=np.int64), "sz"))
        ins = ["c1", "", "", "sz"]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node(op, ins, ["u"], name="up", **attrs),
             helper.make_node("Conv", ["u", "w2"], ["c2"], name="c2", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c2"], ["y"], name="relu")]
    g = helper.make_graph(nodes, "rs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 8, 15])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    p = tmp_path / f"{variant}.onnx"
    onnx.save(m, str(p))
    return p


def inputs(n=1000):
    return np.random.default_rng(1).uniform(-2, 2, (n, 20))


@pytest.mark.parametrize("variant", ["resize-scales", "upsample-9"])
def test_float_matches_onnxruntime(variant, tmp_path):
    p = build(tmp_path, variant)
    x = inputs()
    ref = ort.InferenceSession(str(p)).run(None, {"x": x.reshape(-1, 1, 4, 5).astype(np.float32)})[0].reshape(len(x), -1)
    got = predict(p, x.astype(np.float32).astype(np.float64), tmp_path, "--float")
    assert np.abs(got - ref).max() < 1e-5 * max(1.0, np.abs(ref).max())


def test_sizes_equal_scales(tmp_path):
    x = inputs()
    a = predict(build(tmp_path, "resize-scales"), x, tmp_path, "--precision", "fixed<10,4>")
    b = predict(build(tmp_path, "resize-sizes"), x, tmp_path, "--precision", "fixed<10,4>")
    c = predict(build(tmp_path, "upsample-9"), x, tmp_path, "--precision", "fixed<10,4>")
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_unsupported_mode_is_reported(tmp_path):
    p = build(tmp_path, "resize-scales")
    m = onnx.load(str(p))
    for a in m.graph.node[1].attribute:
        if a.name == "mode":
            a.s = b"linear"
    onnx.save(m, str(p))
    r = run("compile", p, "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and "node 'up' (Resize): expected mode 'nearest', got 'linear'" in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed")
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_rtl_verify(tmp_path):
    out = tmp_path / "out"
    run("compile", build(tmp_path, "resize-scales"), "-o", out, "--precision", "fixed<10,4>")
    r = run("verify", out, "--n", 2000, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
