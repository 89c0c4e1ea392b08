"""ELU (ONNX Elu, Keras activation 'elu' and the ELU layer, torch nn.ELU through ONNX): exact tables
(the function rounded once) and hls4ml tables (hls4ml 1.3's elu: x for x >= 0; below, alpha in the
layer's param type times a 1024-entry table of e^x - 1 over [-8, 0]), in the emulator, the
generated C and the Verilog (a ROM over every input code, as selu).

- Every code of a fixed<10,4> input: exact mode is round-to-nearest of elu(x).
- --float equals onnxruntime; the C equals the emulator; the circuit equals the emulator (Icarus).
- Keras 3 Dense(activation='elu') and ELU(alpha=0.5) built here equal hls4ml's C simulation."""
import shutil
import subprocess

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, keras3_or_skip, keras_equals_hls4ml_csim, predict, run


def elu_mlp(tmp_path, alpha2=0.6):
    """Gemm, Elu (alpha 1), Gemm, Elu (alpha2)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(4)
    inits = [numpy_helper.from_array((rng.standard_normal(s) * 1.5).astype(np.float32), n)
             for n, s in (("w1", (6, 8)), ("w2", (8, 3)))]
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["h"]), helper.make_node("Elu", ["h"], ["s"]),
             helper.make_node("Gemm", ["s", "w2"], ["g"]), helper.make_node("Elu", ["g"], ["y"], alpha=alpha2)]
    g = helper.make_graph(nodes, "elu_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    path = tmp_path / "elu_mlp.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_elu_exact_is_the_rounded_function(tmp_path):
    """Every code of a fixed<10,4> input: exact mode is RND of elu(x); hls4ml mode is within its table
    step below 0 and the identity above."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Elu", ["x"], ["y"], alpha=0.75)], "elu",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1024])])
    path = tmp_path / "elu.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    codes = np.arange(-512, 512, dtype=np.float64) / 64      # every fixed<10,4> value
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  Precision:\n    default: fixed<10,4>\n    result: fixed<16,6,RND>\n")
    got = predict(path, codes[None, :], tmp_path, "-c", cfg)[0]
    real = np.where(codes >= 0, codes, 0.75 * np.expm1(codes))
    assert np.array_equal(got, np.floor(real * 1024 + 0.5) / 1024)
    hls = predict(path, codes[None, :], tmp_path, "-c", cfg, "--tables", "hls4ml")[0]
    assert np.array_equal(hls[codes >= 0], codes[codes >= 0])
    assert np.abs(hls - real).max() < 0.02 and np.count_nonzero(hls != got) > 0
    fl = predict(path, codes[None, :], tmp_path, "--float")[0]
    assert np.abs(fl - np.where(codes >= 0, codes, np.float32(0.75) * np.expm1(codes))).max() < 1e-12


def test_float_equals_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path = elu_mlp(tmp_path)
    x = np.random.default_rng(2).standard_normal((500, 6)) * 2
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"x": r[None, :].astype(np.float32)})[0] for r in x]).astype(np.float64)
    got = predict(path, x, tmp_path, "--float")
    assert np.abs(got - ref).max() < 1e-4 * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("tables", ["exact", "hls4ml"])
@pytest.mark.parametrize("prec", ["fixed<12,4>", "fixed<20,8>"])
def test_c_equals_emulator(prec, tables, tmp_path):
    """Inputs wider than 16 bits use hls4ml's table (fx_elu_hls4ml) in both modes."""
    from test_cemu import c_and_emulator
    x = np.random.default_rng(7).standard_normal((5000, 6)) * 3
    got, ref = c_and_emulator(elu_mlp(tmp_path), "elu_mlp", x, tmp_path, "--precision", prec, "--tables", tables)
    assert np.count_nonzero(got != ref) == 0 and np.count_nonzero(ref < 0) > 3000


@pytest.mark.skipif(shutil.which("iverilog") is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("tables", ["exact", "hls4ml"])
def test_rtl_equals_emulator(tables, tmp_path):
    """At fixed<10,4>: two ROMs over every input code; the Icarus bench checks every output; the
    Verilog passes verilator --lint-only -Wall."""
    import json
    out = tmp_path / "out"
    run("compile", elu_mlp(tmp_path), "-o", out, "--precision", "fixed<10,4>", "--tables", tables)
    icarus_bench(out, n=300)
    if shutil.which("verilator"):
        top = json.loads((out / "report.json").read_text())["model"]
        r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", top, "-F", str(out / "rtl" / "files.f")],
                           capture_output=True, text=True)
        assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


def test_rtl_rejects_wide_elu(tmp_path):
    r = run("compile", elu_mlp(tmp_path), "-o", tmp_path / "o", "--precision", "fixed<18,8>", check=False)
    assert r.returncode == 2
    assert "(Elu): expected an elu input of at most 16 bits in RTL, got 18" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("precision", [
    "fixed<12,4>",
    pytest.param("fixed<8,3>", marks=pytest.mark.extended),
    pytest.param("fixed<14,5,RND_CONV,SAT>", marks=pytest.mark.extended)])
def test_keras_elu_equals_hls4ml_csim(precision, tmp_path):
    """Dense(6, elu) then ELU(alpha=0.5) after a Dense: both of hls4ml's forms (alpha 1 and alpha in
    the layer's param type), weights wide enough to reach both branches and the table's clamp."""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(1)
    init = keras.initializers.RandomNormal(stddev=2.0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="elu", kernel_initializer=init, name="d1"),
                          keras.layers.Dense(5, kernel_initializer=init, name="d2"), keras.layers.ELU(alpha=0.5, name="e2")])
    keras_equals_hls4ml_csim(m, precision, tmp_path)
