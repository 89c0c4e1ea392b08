"""Bad input gets one clear message naming the file, the node and what was
expected; exit status 2; no crash; no output directory left behind."""
import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import onnx_model, run


def mlp(nodes_extra=None, w_shape=(4, 3), drop_init=None, op="Gemm", opset=13):
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(w_shape).astype(np.float32), "W"),
             numpy_helper.from_array(rng.standard_normal(w_shape[-1]).astype(np.float32), "B")]
    if drop_init:
        inits = [i for i in inits if i.name != drop_init]
    nodes = [helper.make_node(op, ["x", "W", "B"] if op == "Gemm" else ["x", "W"], ["h"], name="dense_1")]
    nodes += nodes_extra or [helper.make_node("Relu", ["h"], ["y"], name="relu_1")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def check_error(r, pattern, out_dir=None):
    assert r.returncode == 2, f"exit {r.returncode}, stderr: {r.stderr}"
    lines = [l for l in r.stderr.strip().splitlines() if l]
    assert len(lines) == 1, r.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr
    if out_dir is not None:
        assert not out_dir.exists(), "an output directory was left behind"


def write(tmp_path, model, name="bad.onnx"):
    p = tmp_path / name
    p.write_bytes(model.SerializeToString() if hasattr(model, "SerializeToString") else model)
    return p


def test_truncated_onnx(tmp_path):
    data = onnx_model("three_layer_keras").read_bytes()
    p = write(tmp_path, data[: len(data) // 2])
    r = run("compile", p, "-o", tmp_path / "out", check=False)
    check_error(r, r"bad\.onnx: expected an ONNX model .*got data that does not decode", tmp_path / "out")


def test_corrupt_onnx(tmp_path):
    data = bytearray(onnx_model("two_layer_keras").read_bytes())
    for k in range(40, len(data), 97):
        data[k] ^= 0x5A
    p = write(tmp_path, bytes(data))
    r = run("compile", p, "-o", tmp_path / "out", check=False)
    assert r.returncode == 2 and "bad.onnx" in r.stderr and not (tmp_path / "out").exists()


def test_not_a_model(tmp_path):
    p = write(tmp_path, b"hello, this is not protobuf at all\n" * 10)
    check_error(run("predict", p, "--input", p, check=False), r"bad\.onnx: expected")


def test_missing_file(tmp_path):
    check_error(run("compile", tmp_path / "nope.onnx", "-o", tmp_path / "out", check=False),
                r"nope\.onnx: cannot open", tmp_path / "out")


def test_unsupported_op(tmp_path):
    m = mlp([helper.make_node("Erf", ["h"], ["y"], name="erf_1")])
    check_error(run("compile", write(tmp_path, m), "-o", tmp_path / "out", check=False),
                r"bad\.onnx: node 'erf_1' \(Erf\): unsupported operator: expected one of Gemm", tmp_path / "out")


def test_wrong_weight_shape(tmp_path):
    m = mlp(w_shape=(5, 3))
    check_error(run("compile", write(tmp_path, m), "-o", tmp_path / "out", check=False),
                r"node 'dense_1' \(Gemm\): expected an input whose last dimension is 5 .*got \[4\]", tmp_path / "out")


def test_weights_not_2d(tmp_path):
    m = mlp(w_shape=(4, 3, 2), op="MatMul")
    check_error(run("compile", write(tmp_path, m), "-o", tmp_path / "out", check=False),
                r"node 'dense_1' \(MatMul\): expected 2-D weights, got \[4,3,2\]", tmp_path / "out")


def test_missing_initializer(tmp_path):
    m = mlp(drop_init="B")
    check_error(run("compile", write(tmp_path, m), "-o", tmp_path / "out", check=False),
                r"node 'dense_1' \(Gemm\): expected input 'B' to be a graph input, initializer or earlier output",
                tmp_path / "out")


def test_bad_opset(tmp_path):
    m = mlp(opset=30)
    check_error(run("compile", write(tmp_path, m), "-o", tmp_path / "out", check=False),
                r"expected ONNX opset 6\.\.21 .*got 30", tmp_path / "out")


BAD_CONFIGS = {
    "unknown_top": ("Modle:\n  Precision: fixed<16,6>\n", r"unknown key 'Modle': expected one of HLSConfig, Model"),
    "unknown_model_key": ("Model:\n  Precison: fixed<16,6>\n",
                          r"unknown key 'Model\.Precison': expected one of Precision, ReuseFactor"),
    "bad_type": ("Model:\n  Precision: fixed<16;6>\n", r"Model\.Precision: 'fixed<16;6>': expected a type like"),
    "too_wide": ("Model:\n  Precision: fixed<80,6>\n", r"width 80 is not supported: expected 1\.\.64"),
    "bad_var": ("LayerType:\n  Dense:\n    Precision:\n      wieght: fixed<8,3>\n",
                r"unknown precision variable 'wieght': expected one of default, result, weight"),
    "bad_class": ("LayerType:\n  Dens:\n    Precision: fixed<8,3>\n", r"unknown layer type 'LayerType\.Dens': expected one of"),
    "bad_layer": ("LayerName:\n  fc9:\n    Precision: fixed<8,3>\n", r"unknown layer 'LayerName\.fc9': expected one of input_1_0"),
    "bad_reuse": ("Model:\n  ReuseFactor: zero\n", r"Model\.ReuseFactor: expected a positive integer"),
    "bad_tables": ("Model:\n  Tables: fast\n", r"Model\.Tables: expected one of exact, hls4ml, got 'fast'"),
    "bad_yaml": ("Model: [unclosed\n", r"expected valid YAML or JSON"),
    "bad_json": ('{"Model": {"Precision": }', r"expected valid JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config(case, tmp_path):
    text, pattern = BAD_CONFIGS[case]
    cfg = tmp_path / ("c.json" if text.startswith("{") else "c.yml")
    cfg.write_text(text)
    r = run("compile", onnx_model("three_layer_keras"), "-c", cfg, "-o", tmp_path / "out", check=False)
    check_error(r, pattern, tmp_path / "out")
    assert str(cfg) in r.stderr


def test_bad_precision_option(tmp_path):
    r = run("compile", onnx_model("three_layer_keras"), "--precision", "fixed<8>", "-o", tmp_path / "out", check=False)
    check_error(r, r"--precision: 'fixed<8>': expected a type like", tmp_path / "out")


def test_bad_events(tmp_path):
    x = tmp_path / "x.dat"
    x.write_text("1 2 3\n")
    check_error(run("predict", onnx_model("three_layer_keras"), "--input", x, check=False),
                r"x\.dat: line 1: expected 16 values per event, got 3")
    x.write_text("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 abc\n")
    check_error(run("predict", onnx_model("three_layer_keras"), "--input", x, check=False),
                r"x\.dat: line 1: expected a number, got 'abc'")
    np.save(tmp_path / "x.npy", np.zeros((3, 15)))
    check_error(run("predict", onnx_model("three_layer_keras"), "--input", tmp_path / "x.npy", check=False),
                r"x\.npy: expected 16 values per event, got shape with 15")
