"""--sat-order hls4ml (set by --hls4ml): a Dense/Conv whose accumulator
saturates adds its products one at a time in hls4ml's order, each sum cast to
the accumulator.  The generated C equals the emulator, the RTL (a balanced
tree of composed clamped additions) equals it in Icarus and Verilator, the
option changes nothing where no accumulator saturates, and what is not built
is refused naming the layer and the option.  The jet tagger against hls4ml's
csim: test_keras.py and test_hls4ml.py; the composition rule at random small
widths: test_hw_cmvm.c (test_hw.py)."""
import json
import shutil
import subprocess

import numpy as np
import pytest

from conftest import MODELS, icarus_bench, predict, run
from test_cemu import build_c

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SAT = "fixed<8,3,RND,SAT>"
EXACT = ("--tables", "hls4ml", "--weight-quant", "hls4ml")   # --hls4ml without the order


def _save(tmp_path, nodes, inits, in_shape, out_dim, name):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *in_shape])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, out_dim])],
                          [numpy_helper.from_array(np.asarray(a, dtype=np.float32), k) for k, a in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    p = tmp_path / f"{name}.onnx"
    onnx.save(m, str(p))
    return p


def tiny_dense(tmp_path):
    """12 inputs -> MatMul + Add (bias last in hls4ml) -> Relu -> Gemm (bias last too): large weights, so
    that an 8-bit accumulator saturates often."""
    rng = np.random.default_rng(4)
    inits = {"w1": rng.uniform(-3, 3, (12, 6)), "b1": rng.uniform(-2, 2, 6), "w2": rng.uniform(-3, 3, (5, 6)),
             "b2": rng.uniform(-2, 2, 5)}
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["m"]), helper.make_node("Add", ["m", "b1"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]), helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], transB=1)]
    return _save(tmp_path, nodes, inits, [12], 5, "tiny_dense")


def tiny_conv(tmp_path):
    """A 1-D convolution (6 positions x 3 channels, kernel 3, 'same' padding: the window's zeros) with its
    bias (first in hls4ml), flattened into a Gemm."""
    rng = np.random.default_rng(5)
    inits = {"w": rng.uniform(-3, 3, (4, 3, 3)), "b": rng.uniform(-2, 2, 4), "wd": rng.uniform(-2, 2, (24, 3))}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1]),
             helper.make_node("Flatten", ["c"], ["f"]), helper.make_node("Gemm", ["f", "wd"], ["y"])]
    return _save(tmp_path, nodes, inits, [3, 6], 3, "tiny_conv")


MODELS_TINY = {"dense": tiny_dense, "conv": tiny_conv}


def lint(out):
    """verilator --lint-only -Wall on the design (skipped without Verilator)."""
    if not shutil.which("verilator"):
        return
    top = json.loads((out / "report.json").read_text())["model"]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", top, "-F", str(out / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


def x_for(path, n=3000, seed=1):
    m = onnx.load(str(path))
    width = int(np.prod([d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim[1:]]))
    return np.random.default_rng(seed).uniform(-4, 4, (n, width))


@pytest.mark.parametrize("kind", sorted(MODELS_TINY))
def test_order_matters_and_c_equals_emulator(kind, tmp_path):
    """The chain differs from the exact sum on these models (so the checks below see it), and the C back end
    computes the same chain as the emulator."""
    path = MODELS_TINY[kind](tmp_path)
    x = x_for(path)
    chain = predict(path, x, tmp_path, "--precision", SAT, "--hls4ml")
    exact = predict(path, x, tmp_path, "--precision", SAT, *EXACT)
    assert np.count_nonzero(chain != exact) > 100
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--precision", SAT, "--hls4ml", "--no-rtl")
    cname = next((out / "c").glob("*.h")).stem
    exe = build_c(out, cname, tmp_path)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    assert np.count_nonzero(got != chain) == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(MODELS_TINY))
def test_rtl_equals_emulator_icarus(kind, tmp_path):
    """The tree of composed clamped additions in Icarus: the bench's random input codes, every output equal
    to the emulator's (--sat-order hls4ml)."""
    if not shutil.which("iverilog"):
        pytest.skip("iverilog not installed")
    out = tmp_path / "out"
    run("compile", MODELS_TINY[kind](tmp_path), "-o", out, "--precision", SAT, "--hls4ml")
    lint(out)
    icarus_bench(out, n=400)


@pytest.mark.slow
@pytest.mark.extended
@pytest.mark.parametrize("model,precision", [(MODELS / "onnx" / "two_layer_keras.onnx", "fixed<12,4,RND,SAT>"),
                                             (MODELS / "keras" / "KERAS_conv2d_model.json", "fixed<12,4,RND,SAT>")])
def test_rtl_verify_verilator(model, precision, tmp_path):
    """etchnn verify (Verilator): shared models in hls4ml's order, 2,000 random vectors."""
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    if not model.exists():
        pytest.skip(f"{model} not present")
    out = tmp_path / "out"
    run("compile", model, "-o", out, "--precision", precision, "--hls4ml")
    lint(out)
    r = run("verify", out, "--n", 2000, check=False)
    assert r.returncode == 0 and "PASS" in r.stdout + r.stderr, r.stdout + r.stderr


def test_nothing_changes_without_saturation(tmp_path):
    """A wrapping accumulator: --sat-order hls4ml builds byte-identical C and Verilog, and says nothing."""
    path = tiny_dense(tmp_path)
    outs = []
    for order in ("exact", "hls4ml"):
        out = tmp_path / order
        r = run("compile", path, "-o", out, "--precision", "fixed<8,3>", "--sat-order", order)
        assert "sat" not in (r.stdout + r.stderr).lower()
        outs.append(out)
    for sub in ("c", "rtl"):
        for f in sorted((outs[0] / sub).iterdir()):
            assert f.read_bytes() == (outs[1] / sub / f.name).read_bytes(), f.name


def test_config_key_and_python_keyword(tmp_path):
    """SatOrder in the config (Model or per layer) is the option; a layer's setting wins."""
    path = tiny_dense(tmp_path)
    x = x_for(path, 500)
    chain = predict(path, x, tmp_path, "--precision", SAT, "--hls4ml")
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"Model:\n  Precision: {SAT}\n  SatOrder: hls4ml\n")
    assert np.array_equal(predict(path, x, tmp_path, "-c", cfg, *EXACT), chain)
    cfg.write_text(f"Model:\n  Precision: {SAT}\n  SatOrder: nope\n")
    r = run("predict", path, "--input", tmp_path / "x.npy", "-c", cfg, check=False)
    assert r.returncode == 2 and "SatOrder" in r.stderr


@pytest.mark.parametrize("case", ["stream", "reuse", "resource", "sat_zero"])
def test_not_built_is_refused(case, tmp_path):
    path = tiny_conv(tmp_path) if case == "stream" else tiny_dense(tmp_path)
    cfg = tmp_path / "c.yml"
    text = f"Model:\n  Precision: {SAT}\n"
    if case == "sat_zero":   # the RTL's tree of clamps does not model SAT_ZERO's jump to 0
        text = f"Model:\n  Precision:\n    default: {SAT}\n    accum: fixed<8,3,RND,SAT_ZERO>\n"
    elif case != "stream":
        text += "  ReuseFactor: 2\n" + ("  Strategy: Resource\n" if case == "resource" else "")
    cfg.write_text(text)
    opts = ["--io", "stream"] if case == "stream" else []
    r = run("compile", path, "-o", tmp_path / "o", "-c", cfg, "--hls4ml", *opts, check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    msg = r.stderr
    assert "--sat-order hls4ml" in msg and "node '" in msg, msg
    assert {"stream": "--io stream", "reuse": "ReuseFactor 2", "resource": "Strategy Resource",
            "sat_zero": "SAT_ZERO"}[case] in msg, msg
    # the exact order builds them
    run("compile", path, "-o", tmp_path / "o2", "-c", cfg, *EXACT, *opts)


def test_python_keyword(tmp_path):
    """etchnn.convert(sat_order='hls4ml') is the CLI's --sat-order hls4ml."""
    from test_options import etchnn_pkg
    etchnn, _ = etchnn_pkg()
    path = tiny_dense(tmp_path)
    x = x_for(path, 500)
    fw = etchnn.convert(str(path), output_dir=str(tmp_path / "py"), precision=SAT, tables="hls4ml",
                        weight_quant="hls4ml", sat_order="hls4ml")
    assert np.array_equal(np.asarray(fw.predict(x)).reshape(len(x), -1),
                          predict(path, x, tmp_path, "--precision", SAT, "--hls4ml"))
