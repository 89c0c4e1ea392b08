"""Convolutional networks: Conv, pooling, padding, transposes, concatenation and
merges.  --float equals onnxruntime, the generated C equals the emulator bit for
bit; the shared Keras-exported ONNX conv models and small graphs built here
with onnx.helper (channels-first inputs, as PyTorch writes them) exercise
strides, dilation, groups, asymmetric and SAME padding, NCHW flattening."""
import subprocess

import numpy as np
import pytest

from conftest import MODELS, predict, run
from test_cemu import build_c

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SHARED = ["conv1d_small_keras", "conv2d_small_keras", "conv2d_small_mp_keras"]


def _init(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def _model(nodes, inits, in_shape, out_dim, name, opset=13):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *in_shape])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, out_dim])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    return m


def conv2d_misc(rng):
    """Stride, asymmetric pads, depthwise with dilation, SAME padding, max and
    average pooling with padding, flatten of a channels-first tensor."""
    w1 = rng.standard_normal((4, 3, 3, 3)) * 0.5
    b1 = rng.standard_normal(4) * 0.2
    w2 = rng.standard_normal((4, 1, 3, 3)) * 0.5
    # 9x8 -> conv s2 pads (1,0,2,1): (9+3-3)//2+1 = 5, (8+1-3)//2+1 = 4 -> [4,5,4]
    # depthwise dilation 2 pads 2: [4,5,4]; maxpool 2x2 s1 SAME_UPPER: [4,5,4]
    # avgpool 3x3 s2 pad 1: [4,3,2] -> 24
    wd = rng.standard_normal((24, 5)) * 0.3
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1, 0, 2, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], group=4, dilations=[2, 2], pads=[2, 2, 2, 2],
                         kernel_shape=[3, 3]),
        helper.make_node("MaxPool", ["c2"], ["p1"], kernel_shape=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("AveragePool", ["p1"], ["p2"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["p2"], ["f"]),
        helper.make_node("Gemm", ["f", "wd"], ["y"]),
    ]
    return _model(nodes, [_init("w1", w1), _init("b1", b1), _init("w2", w2), _init("wd", wd)], [3, 9, 8], 5,
                  "conv2d_misc")


def conv1d_misc(rng):
    """1-D: stride and dilation, Pad with a crop, average pooling counting the
    padding, global max pooling."""
    w1 = rng.standard_normal((3, 2, 3)) * 0.5
    b1 = rng.standard_normal(3) * 0.2
    # 12: conv k3 d2 s2 pads 1,1 -> (12+2-5)//2+1 = 5; pad (2, -1) -> 6; avgpool k2 s2 pad 1 count -> 4
    # global max -> [3,1]
    wd = rng.standard_normal((3 * 4 + 3, 4)) * 0.3
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2], dilations=[2], pads=[1, 1]),
        helper.make_node("LeakyRelu", ["c1"], ["r1"], alpha=0.1),
        helper.make_node("Pad", ["r1", "pads"], ["pd"]),
        helper.make_node("AveragePool", ["pd"], ["a1"], kernel_shape=[2], strides=[2], pads=[1, 1],
                         count_include_pad=1),
        helper.make_node("GlobalMaxPool", ["a1"], ["g1"]),
        helper.make_node("Flatten", ["a1"], ["fa"]),
        helper.make_node("Flatten", ["g1"], ["fg"]),
        helper.make_node("Concat", ["fa", "fg"], ["cat"], axis=1),
        helper.make_node("Gemm", ["cat", "wd"], ["y"]),
    ]
    pads = numpy_helper.from_array(np.array([0, 0, 2, 0, 0, -1], dtype=np.int64), "pads")
    return _model(nodes, [_init("w1", w1), _init("b1", b1), pads, _init("wd", wd)], [2, 12], 4, "conv1d_misc")


def merges(rng):
    """Skip connections: Add, Sub, Mul, Max, Min, Mean of two conv branches,
    Concat over channels, a Transpose that moves data, global average pooling."""
    w1 = rng.standard_normal((2, 2, 3, 3)) * 0.5
    w2 = rng.standard_normal((2, 2, 1, 1)) * 0.5
    wd = rng.standard_normal((6 + 72, 3)) * 0.3
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["x", "w2"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["m1"]),
        helper.make_node("Sub", ["a", "b"], ["m2"]),
        helper.make_node("Mul", ["a", "b"], ["m3"]),
        helper.make_node("Max", ["m1", "m2"], ["m4"]),
        helper.make_node("Min", ["m3", "m4"], ["m5"]),
        helper.make_node("Mean", ["m5", "a"], ["m6"]),
        helper.make_node("Concat", ["m6", "m1", "m3"], ["cat"], axis=1),        # [6,6,6]
        helper.make_node("GlobalAveragePool", ["cat"], ["gap"]),                # [6,1,1]
        helper.make_node("Transpose", ["m2"], ["t"], perm=[0, 2, 3, 1]),         # [6,6,2] ONNX order
        helper.make_node("Transpose", ["t"], ["t2"], perm=[0, 2, 1, 3]),         # moves data
        helper.make_node("Flatten", ["gap"], ["f1"]),
        helper.make_node("Flatten", ["t2"], ["f2"]),
        helper.make_node("Concat", ["f1", "f2"], ["f"], axis=1),                 # 6 + 72
        helper.make_node("Gemm", ["f", "wd"], ["y"]),
    ]
    return _model(nodes, [_init("w1", w1), _init("w2", w2), _init("wd", wd)], [2, 6, 6], 3, "merges")


def avgpool_windows(rng):
    """Average pooling whose divisors are not powers of two: 3x3 stride 2 with padding not counted
    (corner 4, edge 6, inside 9 pixels), 3x1 counting the padding, 1x5 valid."""
    w1 = rng.standard_normal((3, 2, 2, 2)) * 0.7
    # [2,9,10] -> conv 2x2 pads 0 -> [3,8,9]; avg 3x3 s2 p1 -> [3,4,5]; avg 3x1 s1 p(1,0) counted -> [3,4,5]
    # avg 1x5 valid -> [3,4,1] -> 12
    wd = rng.standard_normal((3 * 4 * 5 + 12, 4)) * 0.3
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"]),
        helper.make_node("AveragePool", ["c1"], ["a1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("AveragePool", ["a1"], ["a2"], kernel_shape=[3, 1], pads=[1, 0, 1, 0], count_include_pad=1),
        helper.make_node("AveragePool", ["a2"], ["a3"], kernel_shape=[1, 5]),
        helper.make_node("Flatten", ["a2"], ["f2"]),
        helper.make_node("Flatten", ["a3"], ["f3"]),
        helper.make_node("Concat", ["f2", "f3"], ["cat"], axis=1),
        helper.make_node("Gemm", ["cat", "wd"], ["y"]),
    ]
    return _model(nodes, [_init("w1", w1), _init("wd", wd)], [2, 9, 10], 4, "avgpool_windows")


SYNTH = {"conv2d_misc": conv2d_misc, "conv1d_misc": conv1d_misc, "merges": merges,
         "avgpool_windows": avgpool_windows}


def model_path(name, tmp_path):
    if name in SYNTH:
        p = tmp_path / f"{name}.onnx"
        onnx.save(SYNTH[name](np.random.default_rng(5)), str(p))
        return p
    p = MODELS / "onnx" / f"{name}.onnx"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


def ort_reference(path, x):
    """onnxruntime in float32, one batch (Keras exports flatten with axis 0: run them with axis 1)."""
    ort = pytest.importorskip("onnxruntime")
    m = onnx.load(str(path))
    for n in m.graph.node:
        for a in n.attribute:
            if n.op_type == "Flatten" and a.name == "axis" and a.i == 0:
                a.i = 1
    for v in list(m.graph.input) + list(m.graph.output):
        d = v.type.tensor_type.shape.dim
        if len(d) and v.name not in {i.name for i in m.graph.initializer}:
            d[0].ClearField("dim_value")
            d[0].dim_param = "N"
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d.dim_value for d in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[1:]]
    return sess.run(None, {inp.name: x.reshape(len(x), *shape).astype(np.float32)})[0].reshape(len(x), -1)


def n_inputs(path):
    return int(np.prod([d.dim_value for d in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[1:]]))


@pytest.mark.parametrize("name", SHARED + sorted(SYNTH))
def test_float_matches_onnxruntime(name, tmp_path):
    path = model_path(name, tmp_path)
    x = (np.random.default_rng(1).standard_normal((2000, n_inputs(path))) * 2).astype(np.float32).astype(np.float64)
    ref = ort_reference(path, x).astype(np.float64)
    got = predict(path, x, tmp_path, "--float")
    assert got.shape == ref.shape
    err = np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)
    assert err.max() < 1e-5, f"max error {err.max():.3g}"


CONFIGS = {
    "fixed16_6": ["--precision", "fixed<16,6>"],
    "fixed8_3": ["--precision", "fixed<8,3>"],
    "rnd_sat": ["--precision", "fixed<12,4,RND_CONV,SAT>"],
    "hls4ml": ["--precision", "fixed<10,4>", "--hls4ml"],
}


@pytest.mark.parametrize("cfg", sorted(CONFIGS))
@pytest.mark.parametrize("name", SHARED + sorted(SYNTH))
def test_c_equals_emulator(name, cfg, tmp_path):
    path = model_path(name, tmp_path)
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--no-rtl", *CONFIGS[cfg])
    cname = next((out / "c").glob("*.h")).stem
    exe = build_c(out, cname, tmp_path)
    x = np.random.default_rng(7).standard_normal((3000, n_inputs(path))) * 3.0
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    ref = predict(path, x, tmp_path, *CONFIGS[cfg])
    assert got.shape == ref.shape
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ"


# ---- Keras ----------------------------------------------------------------

KERAS = ["KERAS_conv1d_small", "KERAS_conv2d_model", "jetTagger_Conv2D_Small", "jetTagger_Conv2D_Small_NoBatchNorm"]


def keras_files(name):
    j, w = MODELS / "keras" / f"{name}.json", MODELS / "keras" / f"{name}_weights.h5"
    if not j.exists() or not w.exists():
        pytest.skip(f"shared model {j} not present")
    return j, w


def keras_inputs(width, seed, n=10000):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-4, 4, (n // 2, width)), rng.standard_normal((n - n // 2, width)) * 2])


@pytest.mark.parametrize("name", KERAS)
def test_keras_float_equals_keras(name, tmp_path):
    import os
    import sys
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "ref"))
    from keras_ref import keras2_model
    j, w = keras_files(name)
    model = keras2_model(str(j), str(w))
    shape = model.input_shape[1:]
    x = keras_inputs(int(np.prod(shape)), 3, 2000).astype(np.float32)
    ref = np.asarray(model.predict(x.reshape(len(x), *shape), verbose=0), dtype=np.float64).reshape(len(x), -1)
    got = predict(j, x.astype(np.float64), tmp_path, "--float")
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


HLS_CASES = ["fixed<16,6>", "fixed<8,3>",
             {"weight": "fixed<16,6,RND_CONV,SAT>", "bias": "fixed<16,6,RND_CONV,SAT>",
              "result": "fixed<16,6,RND_CONV,SAT>", "accum": "fixed<32,12>"}]


# make test runs one precision per model and the saturating one on the two conv taggers (CI time,
# 2026-12-07); every (model, precision) pair in make test-extended
CSIM_IN_MAKE_TEST = {("KERAS_conv1d_small", "8_3"), ("KERAS_conv2d_model", "rnd_sat"), ("jetTagger_Conv2D_Small", "16_6"),
                     ("jetTagger_Conv2D_Small_NoBatchNorm", "rnd_sat")}


@pytest.mark.parametrize("name,precision", [
    pytest.param(n, p, id=f"{n}-{pid}", marks=() if (n, pid) in CSIM_IN_MAKE_TEST else pytest.mark.extended)
    for n in ["KERAS_conv1d_small", "KERAS_conv2d_model", "jetTagger_Conv2D_Small", "jetTagger_Conv2D_Small_NoBatchNorm"]
    for p, pid in zip(HLS_CASES, ["16_6", "8_3", "rnd_sat"])])
def test_keras_equals_hls4ml_csim(name, precision, tmp_path):
    """hls4ml 1.3, io_parallel, latency, explicit types: 10,000 inputs bit for bit.  The jet taggers
    (25x25x1, 'same' padding with strides 3 and 2, BatchNormalization before each Conv2D, which hls4ml
    keeps as a separate layer, as etchnn does) take hls4ml about 15 s each to build."""
    import sys
    pytest.importorskip("hls4ml")
    pytest.importorskip("keras")
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "ref"))
    from hls4ml_keras_predict import hls4ml_keras_predict
    j, w = keras_files(name)
    width = {"KERAS_conv1d_small": 40, "KERAS_conv2d_model": 64}.get(name, 625)
    x = keras_inputs(width, 5)
    ref = hls4ml_keras_predict(str(j), str(w), precision, x)
    if isinstance(precision, str):
        opts = ["--precision", precision]
    else:
        cfg = tmp_path / "prec.yml"
        cfg.write_text("Model:\n  Precision:\n" + "".join(f"    {k}: {v}\n" for k, v in precision.items()))
        opts = ["-c", cfg]
    got = predict(j, x, tmp_path, "--hls4ml", *opts)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"


# ---- RTL ------------------------------------------------------------------

def _verify(model, tmp_path, *opts, n=2000):
    import shutil
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    out = tmp_path / "out"
    run("compile", model, "-o", out, *opts)
    r = run("verify", out, "--n", n, check=False)
    assert r.returncode == 0 and "PASS" in r.stdout + r.stderr, r.stdout + r.stderr


def test_rtl_verify_keras_conv1d(tmp_path):
    j, _ = keras_files("KERAS_conv1d_small")
    _verify(j, tmp_path, "--precision", "fixed<8,3>")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["KERAS_conv2d_model",   # the two taggers (133 s of Verilator): extended
                                  pytest.param("jetTagger_Conv2D_Small", marks=pytest.mark.extended),
                                  pytest.param("jetTagger_Conv2D_Small_NoBatchNorm", marks=pytest.mark.extended)])
def test_rtl_verify_keras(name, tmp_path):
    j, _ = keras_files(name)
    _verify(j, tmp_path, "--precision", "fixed<8,3>")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv1d_misc"])
def test_rtl_verify_onnx(name, tmp_path):
    _verify(model_path(name, tmp_path), tmp_path, "--precision", "fixed<10,4>")


@pytest.mark.slow
@pytest.mark.parametrize("prec", ["fixed<10,4>", pytest.param("ufixed<8,3>", marks=pytest.mark.extended)])   # CI time
def test_rtl_verify_avgpool_any_window(prec, tmp_path):
    """Division by 3, 5, 6 and 9 in the circuit (a constant reciprocal, truncating toward zero as
    the emulator's integer division) equals the emulator in Verilator."""
    _verify(model_path("avgpool_windows", tmp_path), tmp_path, "--precision", prec, n=3000)


def test_rtl_avgpool_division_too_wide(tmp_path):
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  Precision:\n    default: fixed<10,4>\n    accum: fixed<40,20>\n")
    r = run("compile", model_path("avgpool_windows", tmp_path), "-c", cfg, "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and not (tmp_path / "o").exists()
    assert ("node 'a1' (AveragePool): expected an average pooling accumulator narrow enough to divide by 6 in 62 bits "
            "in RTL, got 40 bits") in r.stderr


@pytest.mark.parametrize("name,opts", [("avgpool_windows", ["--precision", "fixed<10,4>"]),
                                       ("avgpool_windows", ["--precision", "ufixed<8,3>"])])
def test_rtl_lint_new_layers(name, opts, tmp_path):
    """verilator --lint-only -Wall: no warning (the division by a constant reciprocal)."""
    import json
    import shutil
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    out = tmp_path / "out"
    run("compile", model_path(name, tmp_path), "-o", out, *opts)
    top = json.loads((out / "report.json").read_text())["model"]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", top, "-F", str(out / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_keras_avgpool_equals_hls4ml_csim(padding, tmp_path):
    """AveragePooling2D 3x3 stride 2 (divisors 9; with 'same' also 4 and 6, padding not counted) at
    fixed<10,4> everywhere: 10,000 inputs equal hls4ml 1.3's C simulation; the circuit equals the
    emulator in Verilator."""
    import contextlib
    import io
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    hls4ml = pytest.importorskip("hls4ml")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    prec = "fixed<10,4>"
    inp = keras.Input((9, 9, 2))
    m = keras.Model(inp, keras.layers.Flatten()(keras.layers.AveragePooling2D(3, strides=2, padding=padding)(inp)))
    path = tmp_path / "avg.keras"
    m.save(path)
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = hls4ml.utils.config_from_keras_model(m, granularity="name", default_precision=prec, backend="Vivado")
        for layer in cfg["LayerName"].values():
            for k in layer.get("Precision", {}):
                layer["Precision"][k] = prec
        hm = hls4ml.converters.convert_from_keras_model(m, output_dir=str(tmp_path / "prj"), io_type="io_parallel",
                                                        backend="Vivado", hls_config=cfg)
        hm.compile()
    x = np.random.default_rng(0).standard_normal((10000, 162)) * 3
    ref = np.asarray(hm.predict(x.reshape(-1, 9, 9, 2)), dtype=np.float64).reshape(len(x), -1)
    got = predict(path, x, tmp_path, "--precision", prec, "--hls4ml")
    assert np.count_nonzero(got != ref) == 0
    _verify(path, tmp_path, "--precision", prec)


@pytest.mark.slow
@pytest.mark.extended   # hls4ml builds of 35-95 s each (cached under build/hls4ml_cache afterwards)
@pytest.mark.parametrize("precision", ["fixed<16,6,RND_CONV,SAT>", "fixed<12,4,RND,SAT>"])
@pytest.mark.parametrize("name", ["KERAS_conv2d_model", "jetTagger_Conv2D_Small_NoBatchNorm"])
def test_saturating_accumulator_equals_hls4ml(name, precision, tmp_path):
    """A saturating accumulator everywhere: --hls4ml sums each convolution in hls4ml's order (bias, then the
    window in im2col order, every sum saturated) and equals its csim; the exact order, measured 2026-12:
    conv2d_model 0 and 1,211 of 100,000 outputs differ, the jet-image tagger 19,136 and 24,804 of 50,000."""
    import sys
    pytest.importorskip("hls4ml")
    pytest.importorskip("keras")
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "ref"))
    from hls4ml_keras_predict import hls4ml_keras_predict
    j, w = keras_files(name)
    x = keras_inputs({"KERAS_conv2d_model": 64}.get(name, 625), 5)
    ref = hls4ml_keras_predict(str(j), str(w), precision, x)
    got = predict(j, x, tmp_path, "--hls4ml", "--precision", precision)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    exact = predict(j, x, tmp_path, "--tables", "hls4ml", "--weight-quant", "hls4ml", "--precision", precision)
    print(f"{name} {precision}: exact order: {np.count_nonzero(exact != ref)} of {got.size} outputs differ")
