"""Interval analysis (src/passes/intervals.c, etn_layer_intervals): on shared
models covering the IR's operations (Dense, BatchNormalization, Conv1D/2D,
pooling, binary thresholds, QONNX quantizers, HGQ, softmax), the bounds it
gives for the output layer hold every output `etchnn predict` computes on
inputs at the corners of the input type and inside it.  Runs through the
build/test_fx driver (ETCHNN_TEST_FX: the ASan+UBSan build under make
sanitize)."""
import os
import pathlib
import subprocess

import numpy as np
import pytest

from conftest import ETCHNN, ROOT, run

M = pathlib.Path(os.environ.get("ETCHNN_MODELS", ROOT.parent / "shared" / "models"))
TEST_FX = pathlib.Path(os.environ.get("ETCHNN_TEST_FX", ROOT / "build" / "test_fx"))

CASES = {   # model, options
    "bn": ("onnx/three_layer_bn_keras.onnx", ["precision", "fixed<16,6>"]),
    "conv2d_maxpool": ("onnx/conv2d_small_mp_keras.onnx", ["precision", "fixed<14,6>"]),
    "conv1d": ("keras/KERAS_conv1d_small.json", ["precision", "fixed<12,5>"]),
    "binary": ("keras/KERAS_3layer_binary_smaller.json", []),
    "qonnx": ("qonnx/TFC_2W2A.onnx", []),
    "qkeras_cnn": ("qkeras/qkeras_mnist_cnn.json", []),
    "hgq": ("hgq/hgq_jet_classifier.h5", []),
    "softmax_narrow": (str(ROOT / "examples" / "jet_tagger.onnx"), ["precision", "fixed<8,3>"]),
}


def intervals(model, options):
    r = subprocess.run([str(TEST_FX), "intervals", str(model)] + options, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = lines[0].split()
    layers = []
    for line in lines[1:]:
        f = line.split()
        layers.append((f[0], float(f[1]), float(f[2]), float(f[3]), float(f[4]), int(f[5]), int(f[6])))
    return int(head[1]), int(head[3]), layers


@pytest.mark.parametrize("case", list(CASES))
def test_output_bounds_hold_predict(case, tmp_path):
    rel, options = CASES[case]
    model = M / rel
    if not model.exists():
        pytest.skip(f"{model} not present")
    nin, nout, layers = intervals(model, options)
    name, _, _, lo_in, hi_in, _, _ = layers[0]
    assert lo_in < hi_in
    for L in layers:   # accumulator bounds contain the value's (sums) and are ordered
        assert L[1] <= L[2] and L[3] <= L[4], L
    rng = np.random.default_rng(7)
    n = 300
    x = np.where(rng.random((n, nin)) < 0.5, lo_in, hi_in)
    x[n // 3:] = rng.uniform(lo_in, hi_in, (n - n // 3, nin))
    np.save(tmp_path / "x.npy", x)
    cli = []
    for k in range(0, len(options), 2):
        cli += ["--" + options[k].replace("_", "-"), options[k + 1]]
    run("predict", model, *cli, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    y = np.load(tmp_path / "y.npy").reshape(n, -1)
    assert y.shape[1] == nout
    _, _, _, lo, hi, _, _ = layers[-1]
    lsb = 2.0 ** -10   # the cast after the bound rounds by less than the output type's step
    assert y.min() >= lo - lsb and y.max() <= hi + lsb, (y.min(), y.max(), lo, hi)


def test_overflow_flags(tmp_path):
    """A type too narrow for its sum is flagged (accumulator or result); a wide
    config proves every layer."""
    model = ROOT / "examples" / "jet_tagger.onnx"
    _, _, narrow = intervals(model, ["precision", "fixed<6,2>"])
    assert any(not (L[5] and L[6]) for L in narrow)
    _, _, wide = intervals(model, ["config", str(_wide(tmp_path))])
    assert all(L[5] and L[6] for L in wide), [L for L in wide if not (L[5] and L[6])]


def _wide(tmp_path):
    p = tmp_path / "wide.yml"
    p.write_text("Model:\n  Precision:\n    default: fixed<30,18>\n    weight: fixed<10,3>\n    bias: fixed<10,3>\n"
                 "LayerName:\n  input:\n    Precision:\n      result: fixed<8,3>\n")
    return p
