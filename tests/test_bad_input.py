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
                r"expected ONNX opset 1\.\.28 .*got 30", tmp_path / "out")


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
                r"x\.npy: expected 16 values per event, got shape \(3, 15\) with 15")


# ---- Keras: json + h5, .h5, .keras --------------------------------------

import json  # noqa: E402
import zipfile  # noqa: E402

from conftest import MODELS  # noqa: E402


def keras_files(name, sub="keras"):
    j, w = MODELS / sub / f"{name}.json", MODELS / sub / f"{name}_weights.h5"
    if not j.exists() or not w.exists():
        pytest.skip(f"shared model {j} not present")
    return j, w


def mutated(tmp_path, name, edit, sub="keras"):
    """The model's JSON with edit(layers) applied, written beside nothing (weights via --weights)."""
    j, w = keras_files(name, sub)
    cfg = json.loads(j.read_text())
    edit(cfg["config"] if isinstance(cfg["config"], list) else cfg["config"]["layers"])
    p = tmp_path / f"bad_{name}.json"
    p.write_text(json.dumps(cfg))
    return p, w


def keras_compile(tmp_path, model, *extra):
    return run("compile", model, *extra, "-o", tmp_path / "out", check=False)


def test_keras_corrupt_json(tmp_path):
    _, w = keras_files("KERAS_3layer_binary_smaller")
    p = tmp_path / "broken.json"
    p.write_text('{"class_name": "Sequential", "config": [{"class_name": "BinaryDense", "config": {')
    check_error(keras_compile(tmp_path, p, "--weights", w), r"/broken\.json: .*JSON", tmp_path / "out")


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_keras_corrupt_h5(how, tmp_path):
    j, w = keras_files("KERAS_3layer_binary_smaller")
    data = w.read_bytes()
    p = tmp_path / "bad_weights.h5"
    p.write_bytes(bytes(range(256)) * 8 if how == "garbage" else data[:len(data) // 3])
    check_error(keras_compile(tmp_path, j, "--weights", p), r"bad_weights\.h5", tmp_path / "out")
    m = tmp_path / "model.h5"   # a whole-model .h5 that is not HDF5
    m.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    check_error(keras_compile(tmp_path, m), r"model\.h5: expected", tmp_path / "out")


def test_keras_corrupt_zip(tmp_path):
    p = tmp_path / "bad.keras"
    p.write_bytes(b"PK\x03\x04" + bytes(range(200)))
    check_error(keras_compile(tmp_path, p), r"bad\.keras: expected a Keras 3 archive \(zip\)", tmp_path / "out")
    q = tmp_path / "badcfg.keras"
    with zipfile.ZipFile(q, "w") as z:
        z.writestr("config.json", '{"class_name": "Sequential", "config": {"layers": [')
        z.writestr("model.weights.h5", keras_files("KERAS_3layer_binary_smaller")[1].read_bytes())
    check_error(keras_compile(tmp_path, q), r"badcfg\.keras.*JSON", tmp_path / "out")


def test_keras_unknown_layer_class(tmp_path):
    def edit(layers):
        layers[3]["class_name"] = "BinaryConv3D"
    p, w = mutated(tmp_path, "KERAS_3layer_binary_smaller", edit)
    check_error(keras_compile(tmp_path, p, "--weights", w),
                r"/bad_KERAS_3layer_binary_smaller\.json: layer 'fc2' \(BinaryConv3D\): unsupported layer class: "
                r"expected one of .*BinaryDense", tmp_path / "out")


def test_keras_unknown_quantizer(tmp_path):
    def edit(layers):
        layers[1]["config"]["kernel_quantizer"] = {"class_name": "quantized_ulaw", "config": {"bits": 4}}
    p, w = mutated(tmp_path, "qkeras_3layer", edit, "qkeras")
    check_error(keras_compile(tmp_path, p, "--weights", w),
                r"qkeras_3layer\.json: layer 'fc1' \(QDense\): expected kernel_quantizer to be one of quantized_bits.*"
                r"got 'quantized_ulaw'", tmp_path / "out")


def test_keras_quantizer_too_wide(tmp_path):
    """quantized_po2(8) without max_value spans exponents -64..63, more than a 64-bit type: its weights take the
    type of the powers of two they hold (fixed<W,I> with I the largest exponent + 2).  Powers of two further
    apart than 62 bits are refused (tests/test_qkeras_act.py::test_po2_span_refused)."""
    def edit(layers):
        layers[1]["config"]["kernel_quantizer"] = {"class_name": "quantized_po2", "config": {"bits": 8}}
    p, w = mutated(tmp_path, "qkeras_3layer", edit, "qkeras")
    r = keras_compile(tmp_path, p, "--weights", w)
    assert r.returncode == 0, r.stderr


def test_keras_weight_shape_mismatch(tmp_path):
    def edit(layers):
        layers[3]["config"]["units"] = 31
    p, w = mutated(tmp_path, "KERAS_3layer_ternary_small", edit)
    check_error(keras_compile(tmp_path, p, "--weights", w),
                r"/KERAS_3layer_ternary_small_weights\.h5: layer 'fc2' \(TernaryDense\): expected kernel \[64,31\] "
                r"\(input 64 features, 31 units\), got \[64,32\]", tmp_path / "out")


def test_keras_binary_tanh_without_batchnorm(tmp_path):
    def edit(layers):
        del layers[1]   # bn1: act1 now follows fc1 directly
    p, w = mutated(tmp_path, "KERAS_3layer_binary_smaller", edit)
    check_error(keras_compile(tmp_path, p, "--weights", w),
                r"layer 'act1' \(Activation\): expected binary_tanh right after a BatchNormalization", tmp_path / "out")


def test_keras_binary_dense_h(tmp_path):
    def edit(layers):
        layers[0]["config"]["H"] = 2
    p, w = mutated(tmp_path, "KERAS_3layer_binary_smaller", edit)
    check_error(keras_compile(tmp_path, p, "--weights", w), r"layer 'fc1' \(BinaryDense\): expected H = 1, got 2",
                tmp_path / "out")
