"""Recurrent layers with 32-bit types (issue 15 item 2, issue 12): hls4ml's test_rnn types, `fixed<32,16>` on
every variable of an LSTM and a GRU.  A gate's products (32 x 32 bits) run on 128 bits as a Dense's do
(src/ir/fx_wide.h); the state update's exact products and sums (a gate times the state: 64 bits and more from
the types alone) are held in fewer bits because a sigmoid's or tanh's output is within [-1, 1]
(precision.c code_range()).

- etchnn predict --hls4ml equals hls4ml 1.3's C simulation, stored as tests/ref/csim/rnn_wide_{lstm,gru}.npy
  (codes of 2^-16; the extended test rebuilds them with hls4ml and compares), and the generated C
  (-std=c99 -Wpedantic -Werror) equals the emulator (make test);
- a static GRU's RTL equals the emulator (Verilator, etchnn verify; slow);
- a cell whose gate is unbounded (recurrent_activation 'linear') still needs more than 62 bits there and is
  refused naming the node."""
import json
import shutil
import sys

import numpy as np
import pytest

from conftest import ROOT, predict, run, keras3_or_skip
from test_wide import c_codes

sys.path.insert(0, str(ROOT / "tests" / "ref"))
T, F, U, N = 4, 3, 3, 400
TYPE = "fixed<32,16>"
REF = ROOT / "tests" / "ref" / "csim"


def model(kind, tmp_path, shape=(T, F, U), **kw):
    """LSTM(3) or GRU(3) on (4, 3) (or shape: steps, features, units) named 'rnn', weights drawn here (not Keras'
    initialisers): the same model everywhere."""
    keras = keras3_or_skip()
    m = keras.Sequential([keras.Input(shape[:2], name="x"), getattr(keras.layers, kind)(shape[2], name="rnn", **kw)])
    rng = np.random.default_rng({"LSTM": 1, "GRU": 2}[kind])
    m.set_weights([rng.uniform(-0.9, 0.9, w.shape).astype(np.float32) for w in m.get_weights()])
    path = tmp_path / f"{kind}.keras"
    m.save(path)
    return m, path


def inputs(n=N, seed=5):
    """Within the training-like range and far outside it (states of several units)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-1, 1, (n // 2, T * F)), rng.normal(0, 6, (n - n // 2, T * F))])


def config(m, tmp_path):
    """hls4ml's configuration (config_from_keras_model, name granularity) with every precision fixed<32,16>;
    the same JSON for etchnn."""
    from hls4ml_rnn_predict import hls4ml_rnn_config
    cfg = hls4ml_rnn_config(m, {}, TYPE)
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    return cfg, path


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_fixed32_equals_stored_hls4ml_csim_and_c(kind, tmp_path):
    m, path = model(kind, tmp_path)
    _, cfg = config(m, tmp_path)
    x = inputs()
    got = predict(path, x, tmp_path, "-c", cfg, "--hls4ml").reshape(N, -1)
    ref = np.load(REF / f"rnn_wide_{kind.lower()}.npy").astype(np.float64) / 65536
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} differ from hls4ml's stored csim; first {bad[0]}"
    assert len(np.unique(ref)) > N   # not a constant or saturated output
    # the generated C (128-bit products) equals the emulator
    xc = np.floor(x * 65536).astype(np.int64)   # the inputs' codes in fixed<32,16> (TRN: floor)
    yc, src = c_codes(path, cfg, xc[:100], tmp_path)
    assert "__int128" in src
    assert np.array_equal(np.asarray(yc, dtype=np.float64) / 65536, got[:100])


def test_unbounded_gate_refused(tmp_path):
    """A linear recurrent activation bounds nothing: f * c needs 64 bits, their sum 65: refused by name."""
    _, path = model("LSTM", tmp_path, recurrent_activation="linear")
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(f"Model:\n  Precision: {TYPE}\n")
    np.save(tmp_path / "x.npy", inputs(4))
    r = run("predict", path, "-c", cfg, "--input", tmp_path / "x.npy", check=False)
    assert r.returncode != 0
    assert "node 'rnn_t1_fc'" in r.stderr and "within 62 bits" in r.stderr, r.stderr


@pytest.mark.slow   # a Verilator build, ~11 s of CPU
@pytest.mark.skipif(not shutil.which("verilator"), reason="verilator not installed")
def test_static_gru_fixed32_verify(tmp_path):
    """GRU(2) on 3 steps of 2 features (the static form needs 3 steps or more), one cell reused."""
    m, path = model("GRU", tmp_path, shape=(3, 2, 2))
    _, cfg = config(m, tmp_path)   # Static: true, as hls4ml writes it
    out = tmp_path / "out"
    run("compile", path, "-c", cfg, "--hls4ml", "-o", out)
    assert "static" in (out / "report.txt").read_text().lower()
    r = run("verify", out, "--n", "300", check=False)
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr


@pytest.mark.extended   # two hls4ml csim builds
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_stored_csim_is_hls4mls(kind, tmp_path):
    """Rebuilds tests/ref/csim/rnn_wide_<kind>.npy with hls4ml (set ETCHNN_WRITE_REF=1 to write it)."""
    import os
    pytest.importorskip("hls4ml")
    from hls4ml_rnn_predict import hls4ml_rnn_predict
    m, path = model(kind, tmp_path)
    cfg, _ = config(m, tmp_path)
    y = np.asarray(hls4ml_rnn_predict(str(path), cfg, inputs()), dtype=np.float64).reshape(N, -1)
    codes = np.round(y * 65536)
    assert np.array_equal(codes / 65536, y) and np.abs(codes).max() < 2**31
    f = REF / f"rnn_wide_{kind.lower()}.npy"
    if os.environ.get("ETCHNN_WRITE_REF"):
        np.save(f, codes.astype(np.int32))
    assert np.array_equal(np.load(f), codes.astype(np.int32))
