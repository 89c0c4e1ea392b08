"""QONNX channels-last models (Brevitas exports with Conv/MaxPool in the
qonnx.custom_op.channels_last domain, default-domain Resize, Concat, LeakyRelu
and Quant on [N, H, W, C] values), no precision configuration.

- The three shared models (separable_conv_model_ch_last 512x512x3,
  branched_model_ch_last and tiny_unet_ch_last 256x256x3): etchnn predict
  equals the qonnx package's executor on 2 images each (the executor and the
  emulator take seconds and gigabytes per image at these sizes); every scale
  in them is a power of two, so every Quant is an exact fixed-point cast;
- the generated C equals the emulator on branched_model_ch_last;
- io_parallel RTL of such images is refused with one clear error;
- a small channels-last model built here (depthwise Conv, MaxPool, Resize,
  Concat, LeakyRelu, Quant with non-power-of-two scales) equals an exact
  numpy model on 200 inputs; the qonnx executor differs from both only through
  its float32 storage of Quant outputs (checked); its RTL passes Verilator
  verify.

Inputs are multiples of 2^-8 within [-0.7, 0.7]: exact in the default input
type fixed<16,6>, so the input cast loses nothing before the first Quant."""
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import MODELS, ROOT, SANITIZED, predict, run
from test_cemu import build_c

CHLAST = ["separable_conv_model_ch_last", "branched_model_ch_last", "tiny_unet_ch_last"]
QONNX_PREDICT = ROOT / "tests" / "ref" / "qonnx_predict.py"
VERILATOR = shutil.which("verilator")


def model(name):
    p = MODELS / "qonnx" / f"{name}.onnx"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


def images(n, hw, c=3, seed=5):
    rng = np.random.default_rng(seed)
    return np.round(rng.uniform(-0.7, 0.7, (n, hw * hw * c)) * 256) / 256


def executor(path, x, tmp_path):
    pytest.importorskip("qonnx")
    xin, yout = tmp_path / "qx.npy", tmp_path / "qy.npy"
    np.save(xin, x)
    subprocess.run([sys.executable, str(QONNX_PREDICT), str(path), str(xin), str(yout), "--batch", "1"], check=True,
                   capture_output=True)
    return np.load(yout)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHLAST)
def test_equals_qonnx_executor(name, tmp_path):
    path = model(name)
    x = images(2, 512 if name.startswith("separable") else 256)
    ref = executor(path, x, tmp_path)
    got = predict(path, x, tmp_path)
    assert got.shape == ref.shape
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ from the qonnx executor"


def test_no_transposes_and_exact_casts():
    dump = run("compile", model("branched_model_ch_last"), "--no-rtl", "--dump-after", "precision").stdout
    assert "input %" in dump and "global_in [256,256,3]" in dump
    assert " transpose " not in dump and "to_channels" not in dump   # the IR is channels-last throughout
    assert "scaling steps" not in dump and "_prescale" not in dump   # power-of-two scales: exact casts
    assert "upsample 'resize_" in dump and "concat 'concat_" in dump


def test_rtl_too_big_is_a_clear_error(tmp_path):
    r = run("compile", model("separable_conv_model_ch_last"), "-o", tmp_path / "o", check=False)
    assert r.returncode == 2
    err = r.stderr.strip()
    assert err.count("\n") == 0 and "separable_conv_model_ch_last.onnx" in err and "io_parallel RTL" in err \
        and "--no-rtl" in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_c_equals_emulator_branched(tmp_path):
    path = model("branched_model_ch_last")
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--no-rtl")
    exe = build_c(out, "branched_model_ch_last", tmp_path)
    x = images(2, 256, seed=9)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    mism = np.count_nonzero(got != predict(path, x, tmp_path))
    assert mism == 0, f"{mism} of {got.size} outputs differ"


# ---- a small channels-last model built here ------------------------------------------------------

def small_weights():
    rng = np.random.default_rng(3)
    return (rng.uniform(-1, 1, (3, 3, 3, 1)).astype(np.float32), rng.uniform(-1, 1, (4, 1, 1, 3)).astype(np.float32),
            rng.uniform(-1, 1, (4,)).astype(np.float32))


def quant_ref(x, s, bits, narrow=0, f32=False):
    """QONNX Quant (signed, zero point 0, ROUND = half to even): clamp(x / s), round, times s.  f32: the quotient
    in float32, as the executor evaluates constant weights (and etchnn folds them)."""
    s = np.float32(s)
    v = (np.float32(x) / s).astype(np.float64) if f32 else np.asarray(x, dtype=np.float64) / np.float64(s)
    lo, hi = -2.0 ** (bits - 1) + narrow, 2.0 ** (bits - 1) - 1
    return np.round(np.clip(v, lo, hi)) * np.float64(s)


def exact_reference(x):
    """The small model in float64 numpy, channels-last, every step exact here: products of quantized values
    (at most 6 + 24 significant bits) and their short sums are exact in float64, and no quotient x/s lands
    on a rounding tie (s = 0.3f, 0.375 are not dyadic fractions of the values' grids)."""
    n = len(x)
    w0v, w1v, b1v = small_weights()
    w0, w1, b1 = quant_ref(w0v, 0.125, 4, 1, True), quant_ref(w1v, 0.25, 4, 1, True), quant_ref(b1v, 0.0625, 8, 0, True)
    xq = quant_ref(x.reshape(n, 8, 8, 3), 0.0625, 4)
    xp = np.pad(xq, ((0, 0), (1, 1), (1, 1), (0, 0)))
    c0 = np.zeros((n, 8, 8, 3))
    for m in range(3):   # depthwise: output channel m reads input channel m, weights [m, kh, kw, 0]
        for i in range(3):
            for j in range(3):
                c0[..., m] += xp[:, i:i + 8, j:j + 8, m] * w0[m, i, j, 0]
    c0q = quant_ref(c0, 0.3, 6)
    c1 = np.einsum("nhwc,oc->nhwo", c0q, w1[:, 0, 0, :]) + b1
    l1 = np.where(c1 > 0, c1, c1 * 0.1015625)
    l1q = quant_ref(l1, 0.125, 5)
    p1 = l1q.reshape(n, 4, 2, 4, 2, 4).max(axis=(2, 4))
    r1 = p1.repeat(2, axis=1).repeat(2, axis=2)
    cat = np.concatenate([r1, l1q], axis=-1)
    return quant_ref(cat, 0.375, 4).reshape(n, -1)


def small_model(path, cf=False):
    """The model in channels-last form, or (cf) its channels-first twin in standard ONNX ops (input
    [1,3,8,8], output [1,8,8,8] NCHW): the same computation, for the executor in float64."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    inits, nodes = [], []

    def const(name, v):
        inits.append(numpy_helper.from_array(np.asarray(v, dtype=np.float32), name))
        return name

    def quant(x, out, scale, bits, signed=1, narrow=0, mode="ROUND"):
        nm = out + "_q"
        nodes.append(helper.make_node("Quant", [x, const(nm + "_s", scale), const(nm + "_z", 0.0), const(nm + "_b", bits)],
                                      [out], domain="qonnx.custom_op.general", signed=signed, narrow=narrow,
                                      rounding_mode=mode))
        return out

    cl = "" if cf else "qonnx.custom_op.channels_last"
    wt = (lambda w: np.transpose(w, (0, 3, 1, 2))) if cf else (lambda w: w)   # [M, kh, kw, C/g] -> [M, C/g, kh, kw]
    w0v, w1v, b1v = small_weights()
    x = quant("inp", "xq", 0.0625, 4)
    w0 = quant(const("w0", wt(w0v)), "w0q", 0.125, 4, narrow=1)   # depthwise
    nodes.append(helper.make_node("Conv", [x, w0], ["c0"], domain=cl, group=3, kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                  strides=[1, 1], dilations=[1, 1]))
    a = quant("c0", "c0q", 0.3, 6)                                             # not a power of two: scaling steps
    w1 = quant(const("w1", wt(w1v)), "w1q", 0.25, 4, narrow=1)
    b1 = quant(const("b1", b1v), "b1q", 0.0625, 8)
    nodes.append(helper.make_node("Conv", [a, w1, b1], ["c1"], domain=cl, group=1, kernel_shape=[1, 1],
                                  pads=[0, 0, 0, 0], strides=[1, 1], dilations=[1, 1]))
    nodes.append(helper.make_node("LeakyRelu", ["c1"], ["l1"], alpha=0.1015625))
    l1 = quant("l1", "l1q", 0.125, 5)
    nodes.append(helper.make_node("MaxPool", [l1], ["p1"], domain=cl, kernel_shape=[2, 2], pads=[0, 0, 0, 0],
                                  strides=[2, 2]))
    nodes.append(helper.make_node("Resize", ["p1", "", const("sc", [1, 1, 2, 2] if cf else [1, 2, 2, 1])], ["r1"],
                                  mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
    nodes.append(helper.make_node("Concat", ["r1", l1], ["cat"], axis=1 if cf else -1))
    quant("cat", "out", 0.375, 4)                                              # not a power of two
    shp = (lambda h, w, c: [1, c, h, w]) if cf else (lambda h, w, c: [1, h, w, c])
    g = helper.make_graph(nodes, "chlast_small", [helper.make_tensor_value_info("inp", TensorProto.FLOAT, shp(8, 8, 3))],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, shp(8, 8, 8))], inits)
    ops = [helper.make_opsetid("", 13), helper.make_opsetid("qonnx.custom_op.general", 1)]
    m = helper.make_model(g, opset_imports=ops + ([] if cf else [helper.make_opsetid(cl, 1)]))
    if not cf:   # the executor cannot infer channels-last shapes from scratch: give every value's
        shapes = {"xq": [1, 8, 8, 3], "c0": [1, 8, 8, 3], "c0q": [1, 8, 8, 3], "c1": [1, 8, 8, 4], "l1": [1, 8, 8, 4],
                  "l1q": [1, 8, 8, 4], "p1": [1, 4, 4, 4], "r1": [1, 8, 8, 4], "cat": [1, 8, 8, 8],
                  "w0q": [3, 3, 3, 1], "w1q": [4, 1, 1, 3], "b1q": [4]}
        for k, v in shapes.items():
            m.graph.value_info.append(helper.make_tensor_value_info(k, TensorProto.FLOAT, v))
    onnx.save(m, str(path))
    return path


def test_small_model_equals_exact_reference_and_executor(tmp_path):
    """etchnn (channels-last import) equals an exact float64 numpy model of the graph on every output of 200
    inputs.  The qonnx executor stores every Quant output as float32: q * 0.3 is then rounded to float32
    (1.5000000596 becomes 1.5), which moves some later sums across a rounding boundary of the next Quant.
    So against the executor, outputs may differ only where the executor differs from the exact model."""
    path = small_model(tmp_path / "chlast_small.onnx")
    x = images(200, 8, seed=11)
    got = predict(path, x, tmp_path)
    exact = exact_reference(x)
    mism = np.count_nonzero(got != exact)
    assert mism == 0, f"{mism} of {got.size} outputs differ from the exact model"
    ref32 = executor(path, x, tmp_path)
    d32 = got != ref32
    assert np.all(ref32[d32] != exact[d32]), "a difference from the executor that its float32 storage does not explain"
    print(f"qonnx executor (float32): {np.count_nonzero(d32)} of {got.size} outputs differ, each where it differs "
          f"from the exact model")
    dump = run("compile", path, "--dump-after", "precision").stdout
    assert "c0q_prescale" in dump and "out_rescale" in dump   # 0.3 and 0.375: explicit scaling steps


@pytest.mark.skipif(SANITIZED, reason="Verilator time, not our code")
@pytest.mark.skipif(not VERILATOR, reason="verilator not installed")
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_small_model_rtl_verify(tmp_path):
    path = small_model(tmp_path / "chlast_small.onnx")
    out = tmp_path / "out"
    run("compile", path, "-o", out)
    r = run("verify", out, "--n", "2000", "--seed", "1", check=False)
    assert r.returncode == 0 and ": 0 of " in r.stdout, r.stdout + r.stderr
