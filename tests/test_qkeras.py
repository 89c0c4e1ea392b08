"""QKeras models compile with no precision configuration (types come from
the quantizers) and equal QKeras's own quantized forward pass bit for bit
(TensorFlow + QKeras 0.9, run in a separate process by
tests/ref/qkeras_predict.py), on 10,000 inputs on the input type's grid.
The float softmax at the end of each model is dropped (etchnn's is fixed
point); the logits of the last quantized layer are compared."""
import importlib.util
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from conftest import MODELS, ROOT, predict, run

N = 10000
QDIR = MODELS / "qkeras"
REF = ROOT / "tests" / "ref" / "qkeras_predict.py"


def need_qkeras():
    for mod in ("tensorflow", "tf_keras", "qkeras"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} not installed (pip install tensorflow-cpu tf-keras qkeras)")


def shared(name):
    p = QDIR / name
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


def grid_inputs(width, seed, lo, hi, frac=10):
    """Inputs exactly representable in fixed<16,6> (the default input type)."""
    x = np.random.default_rng(seed).uniform(lo, hi, (N, width))
    return np.floor(x * 2**frac) / 2**frac


def qkeras_ref(tmp_path, json_path, weights, x, layer, *extra):
    xin, yout = tmp_path / "qx.npy", tmp_path / "qy.npy"
    np.save(xin, x)
    r = subprocess.run([sys.executable, str(REF), str(json_path), str(weights), str(xin), str(yout), "--layer", layer,
                        *extra], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return np.load(yout)


def without_last_layer(src, dst, out_layer):
    cfg = json.loads(src.read_text())
    cfg["config"]["layers"] = cfg["config"]["layers"][:-1]
    if "output_layers" in cfg["config"]:
        cfg["config"]["output_layers"] = [[out_layer, 0, 0]]
    dst.write_text(json.dumps(cfg))
    return dst


def assert_equal(got, ref):
    assert got.shape == ref.shape
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, (f"{len(bad)} of {got.size} outputs differ; first: event {bad[0][0]}: "
                           f"QKeras {ref[tuple(bad[0])]!r}, etchnn {got[tuple(bad[0])]!r}")


def test_types_from_quantizers(tmp_path):
    """No config: weights, biases and activations take the quantizers' types,
    dense layers between them sum exactly."""
    j = shared("qkeras_3layer.json")
    r = run("compile", j, "-o", tmp_path / "o")
    for line in ("relu1", "relu2", "relu3"):
        assert any(line in ln and "ufixed<6,0,RND_CONV,SAT>" in ln for ln in r.stdout.splitlines()), r.stdout
    assert any("fc1 " in ln and "fixed<24,9>" in ln for ln in r.stdout.splitlines()), r.stdout


def test_qkeras_3layer(tmp_path):
    need_qkeras()
    j, w = shared("qkeras_3layer.json"), shared("qkeras_3layer_weights.h5")
    x = grid_inputs(16, 0, -8, 8)
    ref = qkeras_ref(tmp_path, j, w, x, "output")
    got = predict(without_last_layer(j, tmp_path / "logits.json", "output"), x, tmp_path, "--weights", w)
    assert_equal(got, ref)


def test_qkeras_mnist_dense(tmp_path):
    """quantized_relu(2) on the input, quantized_po2(4) kernel, symmetric
    quantized_bits biases.  QKeras's po2 quantizer fails in float64, so the
    reference runs in float32 (exact here: every sum fits 24 bits)."""
    need_qkeras()
    j, w = shared("qkeras_mnist_dense.json"), shared("qkeras_mnist_dense_weights.h5")
    x = grid_inputs(784, 1, -0.5, 1.5)
    ref = qkeras_ref(tmp_path, j, w, x, "q_dense_3", "--floatx", "float32")
    got = predict(without_last_layer(j, tmp_path / "logits.json", "q_dense_3"), x, tmp_path, "--weights", w)
    assert_equal(got, ref)


def test_qkeras_v3_archive(tmp_path):
    """The Keras 3 QKeras archive, read by etchnn from the .keras file;
    QKeras 0.9 (Keras 2) runs the same architecture (qkeras_3layer.json)
    with the archive's weights."""
    need_qkeras()
    src, j = shared("qkeras-v3_3layer.keras"), shared("qkeras_3layer.json")
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(members["config.json"])
    cfg["config"]["layers"] = cfg["config"]["layers"][:-1]
    trimmed = tmp_path / "logits.keras"
    with zipfile.ZipFile(trimmed, "w") as z:
        for n, v in members.items():
            z.writestr(n, json.dumps(cfg) if n == "config.json" else v)
    x = grid_inputs(16, 2, -8, 8)
    ref = qkeras_ref(tmp_path, j, "", x, "output", "--keras3-archive", src)
    got = predict(trimmed, x, tmp_path)
    assert_equal(got, ref)


def test_whole_model_runs(tmp_path):
    """The full models (with softmax) predict without any configuration."""
    for name, width in (("qkeras_3layer.json", 16), ("qkeras_mnist_dense.json", 784), ("qkeras-v3_3layer.keras", 16)):
        y = predict(shared(name), grid_inputs(width, 3, 0, 1)[:100], tmp_path)
        assert y.shape[0] == 100 and np.all(y >= 0) and np.all(y <= 1.0001)


def test_qkeras_mnist_cnn(tmp_path):
    """QConv2D(16, 3x3, relu) -> quantized_relu(6) -> MaxPool 2x2, twice, Flatten, QDense(10); 6-bit
    quantized_bits weights and biases.  QConv2D's activation 'relu' is QKeras's float relu (exact; the
    QActivation after it rounds); max pooling keeps the quantized type.  Inputs: half uniform in [0, 1),
    half MNIST-like (about 80% zeros), on the fixed<16,6> grid."""
    need_qkeras()
    j, w = shared("qkeras_mnist_cnn.json"), shared("qkeras_mnist_cnn_weights.h5")
    x = grid_inputs(784, 4, 0, 1)
    x[N // 2:] *= np.random.default_rng(5).uniform(0, 1, (N - N // 2, 784)) < 0.2
    ref = qkeras_ref(tmp_path, j, w, x, "q_dense")
    assert ref.shape == (N, 10)
    got = predict(without_last_layer(j, tmp_path / "logits.json", "q_dense"), x, tmp_path, "--weights", w)
    assert_equal(got, ref)
    r = run("compile", j, "-o", tmp_path / "o", "--no-rtl")
    for name, t in (("q_conv2d_relu", "fixed<24,9>"), ("max_pooling2d", "ufixed<6,0,RND_CONV,SAT>"),
                    ("flatten", "ufixed<6,0,RND_CONV,SAT>")):
        assert any(ln.split()[:1] == [name] and ln.endswith(t) for ln in r.stdout.splitlines()), r.stdout


# ---- hls4ml's C simulation with the same types ---------------------------
# hls4ml pins a QKeras layer's weight and bias types to its quantizers'
# (fixed<6,1> here, whatever the configuration says) and converts a
# QActivation to a plain activation whose result type comes from the config;
# its own config_from_keras_model gives that result the quantizer's type
# (quantized_relu(6,0): ufixed<6,0,RND_CONV,SAT>).  etchnn pins the same types
# from the quantizers; every other variable (input, Dense accumulator and
# result, softmax) gets the requested types on both sides.  The softmax is
# included and runs on hls4ml's tables on both sides (--hls4ml).

HLS_CASES = ["fixed<16,6>", "fixed<8,3>", "fixed<16,6,RND_CONV,SAT>",
             {"weight": "fixed<16,6>", "bias": "fixed<16,6>", "result": "fixed<18,8>", "accum": "fixed<18,8>"}]


@pytest.mark.parametrize("precision", [pytest.param(p, id=json.dumps(p), marks=pytest.mark.extended if k < 2 else ())
                                       for k, p in enumerate(HLS_CASES)])   # CI time: the two plain types extended
def test_qkeras_3layer_equals_hls4ml_csim(precision, tmp_path):
    need_qkeras()
    pytest.importorskip("hls4ml")
    sys.path.insert(0, str(ROOT / "tests" / "ref"))
    from hls4ml_keras_predict import hls4ml_keras_predict, hls4ml_keras_layers

    j, w = shared("qkeras_3layer.json"), shared("qkeras_3layer_weights.h5")
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-4, 4, (N // 2, 16)), rng.standard_normal((N - N // 2, 16)) * 2])
    ref = hls4ml_keras_predict(j, w, precision, x, qkeras=True)
    # hls4ml really used the quantizers' types
    layers = {L["name"]: L["types"] for L in hls4ml_keras_layers(j, w, precision, qkeras=True)}
    assert layers["fc1"]["weight_t"].startswith("fixed<6,1,") and layers["fc1"]["bias_t"].startswith("fixed<6,1,")
    assert layers["relu1"]["result_t"].startswith("ufixed<6,0,RND_CONV,SAT")
    if isinstance(precision, str):
        args = ["--precision", precision]
    else:
        cfg = tmp_path / "prec.yml"
        cfg.write_text("Model:\n  Precision:\n" + "".join(f"    {k}: {v}\n" for k, v in precision.items()))
        args = ["-c", cfg]
    got = predict(j, x, tmp_path, "--hls4ml", *args)
    assert got.shape == ref.shape == (N, 5)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, (f"{len(bad)} of {got.size} outputs differ; first: event {bad[0][0]}: "
                           f"hls4ml {ref[tuple(bad[0])]!r}, etchnn {got[tuple(bad[0])]!r}")


def test_qkeras_3layer_rtl_uses_no_dsp(tmp_path):
    """With no options the quantizers give every type, constant products are
    shift-and-add and the softmax's products are built in LUTs."""
    j = shared("qkeras_3layer.json")
    run("compile", j, "-o", tmp_path / "out")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    assert rep["multipliers"] == "csd"
    assert rep["estimate"]["dsp"] == 0, rep["estimate"]
    run("compile", j, "-o", tmp_path / "dsp", "--multipliers", "dsp")
    assert json.loads((tmp_path / "dsp" / "report.json").read_text())["estimate"]["dsp"] > 0
