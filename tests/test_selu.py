"""SELU (ONNX Selu, Keras activation 'selu'): exact tables (the function rounded once) and hls4ml
tables (hls4ml 1.3's selu: lambda in ufixed<16,1> times x for x >= 0, a 1024-entry table over
[-8, 0] below), in the emulator, the generated C and the Verilog.

- conv2d_small_mp_keras.onnx (Conv, Selu, BatchNormalization, MaxPool, Gemm, Softmax): --float
  equals onnxruntime to 1e-5 on 10,000 inputs; the C = the emulator (tests/test_conv.py); the
  circuit equals the emulator in Verilator (hls4ml tables; both modes on a small Gemm/Selu model).
- A Keras 3 Dense + selu built here equals hls4ml's C simulation on 10,000 inputs."""
import shutil

import numpy as np
import pytest

from conftest import MODELS, keras3_or_skip, keras_equals_hls4ml_csim, predict, run
from test_conv import n_inputs, ort_reference

MP = MODELS / "onnx" / "conv2d_small_mp_keras.onnx"


def mp_model():
    if not MP.exists():
        pytest.skip(f"shared model {MP} not present")
    return MP


def test_mp_float_equals_onnxruntime(tmp_path):
    p = mp_model()
    x = (np.random.default_rng(11).standard_normal((10000, n_inputs(p))) * 2).astype(np.float32).astype(np.float64)
    ref = ort_reference(p, x).astype(np.float64)
    got = predict(p, x, tmp_path, "--float")
    err = np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)
    assert err.max() < 1e-5, f"max error {err.max():.3g}"


def test_selu_exact_is_the_rounded_function(tmp_path):
    """Every code of a fixed<10,4> input: exact mode is round-to-nearest (RND) of selu(x); hls4ml
    mode agrees with it within hls4ml's table step below 0 and truncation above."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Selu", ["x"], ["y"])], "selu",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1024])])
    path = tmp_path / "selu.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    codes = np.arange(-512, 512, dtype=np.float64) / 64      # every fixed<10,4> value
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  Precision:\n    default: fixed<10,4>\n    result: fixed<16,6,RND>\n")
    got = predict(path, codes[None, :], tmp_path, "-c", cfg)[0]
    a, s = 1.67326319217681884765625, 1.05070102214813232421875
    real = s * np.where(codes >= 0, codes, a * np.expm1(codes))
    assert np.array_equal(got, np.floor(real * 1024 + 0.5) / 1024)
    hls = predict(path, codes[None, :], tmp_path, "-c", cfg, "--tables", "hls4ml")[0]
    assert np.abs(hls - real).max() < 0.02 and np.count_nonzero(hls != got) > 0


def _verify(model, tmp_path, *opts):
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    out = tmp_path / "out"
    run("compile", model, "-o", out, *opts)
    r = run("verify", out, "--n", 2000, check=False)
    assert r.returncode == 0 and "PASS" in r.stdout + r.stderr, r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_mp_rtl_verify(tmp_path):
    """The whole model (about 5 MB of Verilog) with hls4ml tables."""
    _verify(mp_model(), tmp_path, "--precision", "fixed<8,3>", "--tables", "hls4ml")


def selu_mlp(tmp_path):
    """Gemm, Selu, Gemm, Selu (alpha 1.5, gamma 1.2)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(4)
    inits = [numpy_helper.from_array((rng.standard_normal(s) * 1.5).astype(np.float32), n)
             for n, s in (("w1", (6, 8)), ("w2", (8, 3)))]
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["h"]), helper.make_node("Selu", ["h"], ["s"]),
             helper.make_node("Gemm", ["s", "w2"], ["g"]), helper.make_node("Selu", ["g"], ["y"], alpha=1.5, gamma=1.2)]
    g = helper.make_graph(nodes, "selu_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    path = tmp_path / "selu_mlp.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("tables", [pytest.param("exact", marks=pytest.mark.extended), "hls4ml"])   # CI time
def test_small_selu_rtl_verify(tables, tmp_path):
    """At fixed<12,4>: a 4096-code ROM, in both table modes."""
    _verify(selu_mlp(tmp_path), tmp_path, "--precision", "fixed<12,4>", "--tables", tables)


@pytest.mark.parametrize("tables", ["exact", "hls4ml"])
@pytest.mark.parametrize("prec", ["fixed<12,4>", "fixed<20,8>", "fixed<24,10,RND,SAT>"])
def test_c_equals_emulator(prec, tables, tmp_path):
    """Inputs wider than 16 bits use hls4ml's table (fx_selu_hls4ml) in both modes."""
    from test_cemu import c_and_emulator
    x = np.random.default_rng(7).standard_normal((5000, 6)) * 3
    got, ref = c_and_emulator(selu_mlp(tmp_path), "selu_mlp", x, tmp_path, "--precision", prec, "--tables", tables)
    assert np.count_nonzero(got != ref) == 0 and np.count_nonzero(ref < 0) > 5000


def test_rtl_rejects_wide_selu(tmp_path):
    r = run("compile", mp_model(), "-o", tmp_path / "o", "--precision", "fixed<18,8>", check=False)
    assert r.returncode == 2
    assert "node 'selu' (Selu): expected a selu input of at most 16 bits in RTL, got" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fixed<8,3>", "fixed<20,8>", "fixed<12,4,RND_CONV,SAT>"])
def test_keras_selu_equals_hls4ml_csim(precision, tmp_path):
    """Dense(6, selu), weights wide enough to reach both branches and the table's clamp."""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        6, activation="selu", kernel_initializer=keras.initializers.RandomNormal(stddev=2.0))])
    keras_equals_hls4ml_csim(m, precision, tmp_path, float_too=False)


@pytest.mark.parametrize("tables", ["exact", "hls4ml"])
def test_rtl_lint(tables, tmp_path):
    """verilator --lint-only -Wall on the selu ROMs: no warning."""
    import json
    import subprocess
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    out = tmp_path / "out"
    run("compile", selu_mlp(tmp_path), "-o", out, "--precision", "fixed<12,4>", "--tables", tables)
    top = json.loads((out / "report.json").read_text())["model"]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", top, "-F", str(out / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr
