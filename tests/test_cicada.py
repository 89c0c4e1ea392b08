"""A CICADA-shaped network and a convolutional autoencoder for the same grid.

CICADA (tests/cicada_models.py): 18x14x1 10-bit unsigned energies, Conv2D 3
filters 3x3 stride 2, ReLU, Flatten, Dense 20, ReLU, Dense 1; ONNX built with
onnx.helper at test time, NCHW as PyTorch exports.

- `--float` equals float64 numpy to 1e-12 and onnxruntime (float32) to 1e-5 on
  10,000 events (1e-4 on the events uniform over the 10-bit range, where
  onnxruntime's own float32 error reaches 1e-5);
- at 8-bit types (tests/cicada_models.CONFIG_8BIT: ufixed<10,10> input, weights
  fixed<8,x>, activations 8-10 bits, exact accumulators) the generated C
  equals `etchnn predict` bit for bit on 10,000 events;
- `etchnn verify` (Verilator, one vector per clock) is bit-exact on 10,000
  random codes and on 10,000 calorimeter-like events;
- the Verilog passes `verilator --lint-only -Wall` without a warning.

The autoencoder (cicada_models.cicada_autoencoder_keras: Keras 3, trained a few
steps at test time) outputs the anomaly score, mean((x - x_rec)^2), computed in
the network (Subtract, Multiply, Dense with constant 1/252 weights): --float
equals Keras to 1e-5, C equals the emulator at AE_CONFIG_8BIT on 10,000 events,
lint clean, and (slow: a 70 s Verilator build) verify on 2 x 10,000 vectors.

The design is compiled into ETCHNN's build directory (test-rtl/cicada-8, test-rtl/cicada_ae-8), so a
rerun with unchanged RTL reuses the Verilator build (about 30 s of it).
"""
import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from cicada_models import CONFIG_8BIT, N_IN, cicada_onnx, energies
from conftest import ETCHNN, SANITIZED, predict, run
from test_cemu import build_c

onnx = pytest.importorskip("onnx")

VERILATOR = shutil.which("verilator")
need_verilator = pytest.mark.skipif(VERILATOR is None, reason="verilator not installed (apt-get install verilator)")
not_sanitized = pytest.mark.skipif(SANITIZED, reason="RTL simulation is not repeated under the sanitizers")
OUT_ROOT = pathlib.Path(os.environ.get("ETCHNN_TEST_RTL", ETCHNN.resolve().parent / "test-rtl"))
N = 10000


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("cicada")
    p = d / "cicada.onnx"
    onnx.save(cicada_onnx(), str(p))
    (d / "cicada8.yml").write_text(CONFIG_8BIT)
    return p


def numpy_float64(m, x):
    """The same network in float64 numpy, straight from the ONNX initializers."""
    from onnx import numpy_helper
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    img = x.reshape(-1, 18, 14)
    c = np.zeros((len(x), 3, 8, 6))
    for f in range(3):
        for i in range(3):
            for j in range(3):
                c[:, f] += w["wc"][f, 0, i, j] * img[:, i:i + 15:2, j:j + 11:2]
        c[:, f] += w["bc"][f]
    h = np.maximum(np.maximum(c, 0).reshape(len(x), -1) @ w["w1"] + w["b1"], 0)
    return h @ w["w2"] + w["b2"]


def test_float_equals_onnxruntime(model, tmp_path):
    """onnxruntime runs in float32 (it has no double Conv): on events with hot regions
    the sums reach thousands and its own error against float64 reaches ~1e-5 of the
    output, so the 1e-5 bound holds against float64 numpy (to 1e-12) and against
    onnxruntime on the calorimeter-like events; full-range events get 1e-4."""
    ort = pytest.importorskip("onnxruntime")
    x = energies(N, seed=1)
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"x": e.reshape(1, 1, 18, 14).astype(np.float32)})[0] for e in x])
    ref = ref.reshape(N, -1).astype(np.float64)
    got = predict(model, x, tmp_path, "--float")
    assert got.shape == ref.shape == (N, 1)
    exact = numpy_float64(onnx.load(str(model)), x)
    assert np.abs(got - exact).max() / np.abs(exact).max() < 1e-12
    err = (np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)).ravel()
    full = np.count_nonzero(x > 500, axis=1) > 50          # the uniform 10-bit events
    assert 500 < full.sum() < 1500
    assert err[~full].max() < 1e-5, f"max error {err[~full].max():.3g}"
    assert err[full].max() < 1e-4, f"max error {err[full].max():.3g}"


def test_types_are_as_configured(model, tmp_path):
    """The summary line: 252 ufixed<10,10> inputs, one fixed<10,6,RND,SAT> output."""
    r = run("compile", model, "-c", model.parent / "cicada8.yml", "-o", tmp_path / "o", "--no-rtl")
    assert "input 252 x ufixed<10,10>, output 1 x fixed<10,6,RND,SAT>" in r.stdout + r.stderr, r.stdout + r.stderr


def test_c_equals_emulator(model, tmp_path):
    out = tmp_path / "out"
    run("compile", model, "-c", model.parent / "cicada8.yml", "-o", out, "--no-rtl")
    exe = build_c(out, "cicada", tmp_path)
    # calorimeter-like events, and codes uniform over the 10-bit range
    x = np.concatenate([energies(N // 2, seed=2), np.random.default_rng(3).integers(0, 1024, (N // 2, N_IN))])
    x = x.astype(np.float64)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(N, -1)
    ref = predict(model, x, tmp_path, "-c", model.parent / "cicada8.yml")
    assert got.shape == ref.shape == (N, 1)
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ"
    # not a degenerate function: many distinct scores
    assert len(np.unique(ref)) > 100


@pytest.fixture(scope="module")
def compiled(model):
    out = OUT_ROOT / "cicada-8"
    run("compile", model, "-c", model.parent / "cicada8.yml", "-o", out)
    return out


@not_sanitized
@need_verilator
def test_lint(compiled):
    top = json.loads((compiled / "report.json").read_text())["model"]
    r = subprocess.run([VERILATOR, "--lint-only", "-Wall", "--top-module", top, "-F", str(compiled / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


@not_sanitized
@need_verilator
def test_verify_random_codes(compiled):
    r = run("verify", compiled, "--n", N, "--seed", "1", check=False)
    lat = json.loads((compiled / "report.json").read_text())["latency_cycles"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{N} vectors, one per clock, latency {lat} cycles: 0 of {N} outputs differ" in r.stdout, r.stdout
    print(r.stdout.strip())


@not_sanitized
@need_verilator
def test_verify_energies(compiled, tmp_path):
    xin = tmp_path / "energies.npy"
    np.save(xin, energies(N, seed=4))
    r = run("verify", compiled, "--input", xin, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{N} vectors" in r.stdout and f"0 of {N} outputs differ" in r.stdout, r.stdout


# ---- the autoencoder: anomaly score = mean squared error, in the circuit -------

@pytest.fixture(scope="module")
def ae_model(tmp_path_factory):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    from cicada_models import AE_CONFIG_8BIT, cicada_autoencoder_keras
    d = tmp_path_factory.mktemp("cicada_ae")
    p = d / "cicada_ae.keras"
    m = cicada_autoencoder_keras(p)
    (d / "ae8.yml").write_text(AE_CONFIG_8BIT)
    return p, m


def test_ae_float_equals_keras(ae_model, tmp_path):
    path, m = ae_model
    x = energies(N, seed=1)
    ref = np.asarray(m.predict(x.reshape(N, 18, 14, 1).astype(np.float32), verbose=0, batch_size=1000),
                     dtype=np.float64).reshape(N, -1)
    got = predict(path, x, tmp_path, "--float")
    assert got.shape == ref.shape == (N, 1)
    err = np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)
    assert err.max() < 1e-5, f"max error {err.max():.3g}"


def test_ae_c_equals_emulator(ae_model, tmp_path):
    path, _ = ae_model
    out = tmp_path / "out"
    run("compile", path, "-c", path.parent / "ae8.yml", "-o", out, "--no-rtl")
    exe = build_c(out, "cicada_ae", tmp_path)
    x = np.concatenate([energies(N // 2, seed=2), np.random.default_rng(3).integers(0, 1024, (N // 2, N_IN))])
    x = x.astype(np.float64)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(N, -1)
    ref = predict(path, x, tmp_path, "-c", path.parent / "ae8.yml")
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ"
    # the 8-bit score tracks the float one on calorimeter-like events (the
    # uniform 10-bit events saturate the score at 2^18 - 1)
    fl = predict(path, x[:N // 2], tmp_path, "--float").ravel()
    assert np.corrcoef(fl[fl < 2 ** 17], ref[:N // 2].ravel()[fl < 2 ** 17])[0, 1] > 0.99


@pytest.fixture(scope="module")
def ae_compiled(ae_model):
    path, _ = ae_model
    out = OUT_ROOT / "cicada_ae-8"
    run("compile", path, "-c", path.parent / "ae8.yml", "-o", out)
    return out


@not_sanitized
@need_verilator
def test_ae_lint(ae_compiled):
    top = json.loads((ae_compiled / "report.json").read_text())["model"]
    r = subprocess.run([VERILATOR, "--lint-only", "-Wall", "--top-module", top, "-F",
                        str(ae_compiled / "rtl" / "files.f")], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


@not_sanitized
@need_verilator
@pytest.mark.slow
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_ae_verify(ae_compiled, tmp_path):
    """Random codes and calorimeter-like events, 10,000 each."""
    r = run("verify", ae_compiled, "--n", N, "--seed", "1", check=False)
    assert r.returncode == 0 and f"0 of {N} outputs differ" in r.stdout, r.stdout + r.stderr
    xin = tmp_path / "energies.npy"
    np.save(xin, energies(N, seed=4))
    r = run("verify", ae_compiled, "--input", xin, check=False)
    assert r.returncode == 0 and f"{N} vectors" in r.stdout and f"0 of {N} outputs differ" in r.stdout, \
        r.stdout + r.stderr
