"""SeparableConv1D/2D (Keras 3, built and trained here with KERAS_BACKEND=torch): a depthwise
convolution (depth_multiplier, no bias) then a pointwise 1x1 convolution with the bias.  --float
equals Keras to 1e-5; the generated C equals the emulator; the circuit equals the emulator in
Verilator.  (hls4ml 1.3 cannot be compared: its Keras 3 SeparableConv handler fails with
"'SeparableConv2D' object has no attribute 'kernel'".)"""
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import predict, run
from test_cemu import build_c

os.environ.setdefault("KERAS_BACKEND", "torch")


def build(kind, path):
    """Trained for one epoch on random data, so the weights are not the initializer's."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    keras.utils.set_random_seed(3)
    L = keras.layers
    if kind == "sep2d":
        # 10x9x3 -> 3x3 stride (2,1) same, depth_multiplier 2 (6 channels), 4 filters, relu -> [5,9,4]
        #        -> 2x2 dilation 2 valid, no bias, 3 filters -> [3,7,3]
        inp = keras.Input((10, 9, 3))
        h = L.SeparableConv2D(4, (3, 3), strides=(2, 1), padding="same", depth_multiplier=2, activation="relu")(inp)
        h = L.SeparableConv2D(3, (2, 2), dilation_rate=(2, 2), use_bias=False)(h)
    else:
        # 16x2 -> kernel 3 stride 2 same, depth_multiplier 3, 3 filters, tanh -> [8,3]
        inp = keras.Input((16, 2))
        h = L.SeparableConv1D(3, 3, strides=2, padding="same", depth_multiplier=3, activation="tanh")(inp)
    out = L.Dense(3)(L.Flatten()(h))
    m = keras.Model(inp, out)
    shape = m.input_shape[1:]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1000, *shape)).astype(np.float32)
    m.compile(optimizer="adam", loss="mse")
    m.fit(x, rng.standard_normal((1000, 3)).astype(np.float32), epochs=1, verbose=0)
    m.save(path)
    return m


@pytest.fixture(scope="module", params=["sep2d", "sep1d"])
def model(request, tmp_path_factory):
    path = tmp_path_factory.mktemp(request.param) / f"{request.param}.keras"
    return build(request.param, path), path


def test_float_equals_keras(model, tmp_path):
    m, path = model
    shape = m.input_shape[1:]
    x = (np.random.default_rng(2).standard_normal((10000, int(np.prod(shape)))) * 2).astype(np.float32)
    ref = np.asarray(m.predict(x.reshape(len(x), *shape), verbose=0), dtype=np.float64)
    got = predict(path, x.astype(np.float64), tmp_path, "--float")
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_layers(model, tmp_path):
    _, path = model
    r = run("compile", path, "-o", tmp_path / "o", "--no-rtl", "--precision", "fixed<10,4>")
    names = [ln.split()[0] for ln in r.stdout.splitlines()[1:]]
    assert any(n.endswith("_depthwise") for n in names) and any(n.startswith("separable_conv") and
                                                                 not n.endswith("_depthwise") for n in names)


@pytest.mark.parametrize("opts", [["--precision", "fixed<10,4>"], ["--precision", "fixed<8,3,RND,SAT>", "--hls4ml"]],
                         ids=["10_4", "8_3_rnd_sat"])
def test_c_equals_emulator(model, opts, tmp_path):
    m, path = model
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--no-rtl", *opts)
    cname = next((out / "c").glob("*.h")).stem
    exe = build_c(out, cname, tmp_path)
    x = np.random.default_rng(7).standard_normal((3000, int(np.prod(m.input_shape[1:])))) * 3.0
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    ref = predict(path, x, tmp_path, *opts)
    assert np.count_nonzero(got != ref) == 0


@pytest.mark.slow
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_rtl_verify(model, tmp_path):
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    _, path = model
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--precision", "fixed<8,3>")
    r = run("verify", out, "--n", 2000, check=False)
    assert r.returncode == 0 and "PASS" in r.stdout + r.stderr, r.stdout + r.stderr


def test_rtl_lint(model, tmp_path):
    """verilator --lint-only -Wall: no warning."""
    import json
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    _, path = model
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--precision", "fixed<8,3>")
    top = json.loads((out / "report.json").read_text())["model"]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", top, "-F", str(out / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr
