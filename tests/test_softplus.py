"""Softplus and softsign (ONNX Softplus/Softsign, Keras activations 'softplus'/'softsign', torch
nn.Softplus/nn.Softsign through ONNX): exact tables (the function rounded once) and hls4ml tables
(hls4ml 1.3's: 1024 entries over [-8, 8), indexed as its sigmoid), in the emulator, the generated C
and the Verilog.

- Every code of a fixed<10,4> input: exact mode is round-to-nearest of the function.
- --float equals onnxruntime; the C equals the emulator; the circuit equals the emulator (Icarus).
- Keras 3 Dense(softplus) then Dense(softsign) built here equal hls4ml's C simulation."""
import shutil

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, keras3_or_skip, keras_equals_hls4ml_csim, predict, run

FUNCS = {"Softplus": lambda x: np.logaddexp(0, x), "Softsign": lambda x: x / (np.abs(x) + 1)}


def soft_mlp(tmp_path):
    """Gemm, Softplus, Gemm, Softsign."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(4)
    inits = [numpy_helper.from_array((rng.standard_normal(s) * 1.5).astype(np.float32), n)
             for n, s in (("w1", (6, 8)), ("w2", (8, 3)))]
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["h"]), helper.make_node("Softplus", ["h"], ["s"]),
             helper.make_node("Gemm", ["s", "w2"], ["g"]), helper.make_node("Softsign", ["g"], ["y"])]
    g = helper.make_graph(nodes, "soft_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    path = tmp_path / "soft_mlp.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


@pytest.mark.parametrize("op", sorted(FUNCS))
def test_exact_is_the_rounded_function(op, tmp_path):
    """Every code of a fixed<10,4> input: exact mode is RND of f(x); hls4ml mode is within its table
    step (16/1024) times the slope, plus the table's LSB."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node(op, ["x"], ["y"])], op.lower(),
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1024])])
    path = tmp_path / f"{op}.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    codes = np.arange(-512, 512, dtype=np.float64) / 64      # every fixed<10,4> value
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  Precision:\n    default: fixed<10,4>\n    result: fixed<16,6,RND>\n")
    real = FUNCS[op](codes)
    got = predict(path, codes[None, :], tmp_path, "-c", cfg)[0]
    assert np.array_equal(got, np.floor(real * 1024 + 0.5) / 1024)
    hls = predict(path, codes[None, :], tmp_path, "-c", cfg, "--tables", "hls4ml")[0]
    assert np.abs(hls - real).max() < 0.02 and np.count_nonzero(hls != got) > 0
    fl = predict(path, codes[None, :], tmp_path, "--float")[0]
    assert np.abs(fl - real).max() < 1e-12


def test_float_equals_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path = soft_mlp(tmp_path)
    x = np.random.default_rng(2).standard_normal((300, 6)) * 2
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"x": r[None, :].astype(np.float32)})[0] for r in x]).astype(np.float64)
    got = predict(path, x, tmp_path, "--float")
    assert np.abs(got - ref).max() < 1e-5


@pytest.mark.parametrize("tables", ["exact", "hls4ml"])
def test_c_equals_emulator(tables, tmp_path):
    """fixed<20,8>: exact falls back to hls4ml's tables above 16 bits; the C indexes them at run time."""
    from test_cemu import c_and_emulator
    for prec in ("fixed<12,4>", "fixed<20,8>"):
        (tmp_path / f"b{prec[6:8]}").mkdir()
        x = np.random.default_rng(7).standard_normal((4000, 6)) * 3
        got, ref = c_and_emulator(soft_mlp(tmp_path), "soft_mlp", x, tmp_path / f"b{prec[6:8]}", "--precision", prec,
                                  "--tables", tables)
        assert np.count_nonzero(got != ref) == 0 and np.count_nonzero(ref < 0) > 1000


@pytest.mark.skipif(shutil.which("iverilog") is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("tables", ["exact", "hls4ml"])
def test_rtl_equals_emulator(tables, tmp_path):
    out = tmp_path / "out"
    run("compile", soft_mlp(tmp_path), "-o", out, "--precision", "fixed<10,4>", "--tables", tables)
    icarus_bench(out, n=300)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fixed<12,4>", pytest.param("fixed<9,3,RND,SAT>", marks=pytest.mark.extended)])
def test_keras_equals_hls4ml_csim(precision, tmp_path):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(2)
    init = keras.initializers.RandomNormal(stddev=2.0)
    m = keras.Sequential([keras.Input((4,)),
                          keras.layers.Dense(6, activation="softplus", kernel_initializer=init, name="d1"),
                          keras.layers.Dense(5, activation="softsign", kernel_initializer=init, name="d2")])
    keras_equals_hls4ml_csim(m, precision, tmp_path)
