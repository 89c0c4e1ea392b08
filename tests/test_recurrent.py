"""Recurrent layers (issue 12, first part): Keras 3 SimpleRNN, LSTM and GRU
(and Bidirectional, TimeDistributed(Dense)), unrolled into one cell per time
step (the io_parallel "unrolled" form).

Models are built and trained here (a few epochs on synthetic sequences, torch
backend).  Checked: --float equals Keras itself; the generated C equals the
emulator bit for bit; the RTL equals the emulator bit for bit (Icarus bench;
Verilator in make test-extended); a LayerName entry for the layer reaches
every node the layer became; what is not supported is refused naming the
layer."""
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, predict, run
from test_cemu import build_c

os.environ.setdefault("KERAS_BACKEND", "torch")
IVERILOG = shutil.which("iverilog")
VERILATOR = shutil.which("verilator")
T, F = 5, 3


def keras3():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    return keras


# name -> (layer class, its keyword arguments, units)
CASES = {
    "simplernn_seq": ("SimpleRNN", dict(return_sequences=True), 4),
    "lstm": ("LSTM", dict(), 4),
    "lstm_back_hard": ("LSTM", dict(go_backwards=True, recurrent_activation="hard_sigmoid"), 3),
    "gru": ("GRU", dict(), 4),
    "gru_v1_seq": ("GRU", dict(reset_after=False, return_sequences=True), 3),
    "bi_lstm_concat_seq_td": ("Bidirectional", dict(inner="LSTM", args=dict(return_sequences=True),
                                                    merge_mode="concat", time_distributed=True), 3),
    "bi_gru_sum": ("Bidirectional", dict(inner="GRU", merge_mode="sum"), 3),
    "bi_rnn_ave_seq": ("Bidirectional", dict(inner="SimpleRNN", args=dict(return_sequences=True), merge_mode="ave"), 3),
}


_CACHE = {}


def trained(name, tmp_path):
    """The model, trained for a few epochs on sequences whose label is the sign of a weighted sum; its file
    (trained once per test session)."""
    if name in _CACHE:
        return _CACHE[name]
    keras = keras3()
    cls, kw, units = CASES[name]
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (512, T, F)).astype(np.float32)
    y = (x[:, :, 0].sum(1) - x[:, -1, 1] > 0).astype(np.float32)
    inp = keras.Input((T, F))
    L = keras.layers
    if cls == "Bidirectional":   # kw: the wrapped class, its arguments, merge_mode
        inner = getattr(L, kw["inner"])(units, **kw.get("args", {}))
        h = L.Bidirectional(inner, merge_mode=kw["merge_mode"], name="rnn")(inp)
        seq = kw.get("args", {}).get("return_sequences")
    else:
        h = getattr(L, cls)(units, name="rnn", **kw)(inp)
        seq = kw.get("return_sequences")
    if kw.get("time_distributed"):
        h = L.TimeDistributed(L.Dense(2, activation="relu"), name="td")(h)
    if seq:
        h = keras.layers.Flatten(name="flat")(h)
    out = keras.layers.Dense(1, activation="sigmoid", name="out")(h)
    m = keras.Model(inp, out)
    m.compile(optimizer="adam", loss="binary_crossentropy")
    m.fit(x, y, epochs=3, batch_size=64, verbose=0)
    path = tmp_path / f"{name}.keras"
    m.save(path)
    _CACHE[name] = (m, path)
    return m, path


def xs(n, seed=5):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, (n, T, F)).astype(np.float32)


# one model per kind in make test; the other variants in make test-extended (CI time)
FLOAT_EXTENDED = {"lstm_back_hard", "bi_gru_sum", "bi_rnn_ave_seq"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.extended) if n in FLOAT_EXTENDED else n
                                  for n in sorted(CASES)])
def test_float_equals_keras(name, tmp_path):
    m, path = trained(name, tmp_path)
    x = xs(2000)
    ref = m.predict(x, verbose=0).astype(np.float64)
    got = predict(path, x.reshape(len(x), -1).astype(np.float64), tmp_path, "--float").reshape(ref.shape)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    # and the fixed-point emulator is close at fixed<16,6> with hls4ml-style tables (not exact: a sanity bound)
    fx = predict(path, x.reshape(len(x), -1).astype(np.float64), tmp_path, "--tables", "hls4ml").reshape(ref.shape)
    assert np.abs(fx - ref).max() < 0.05, np.abs(fx - ref).max()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "gru_v1_seq"])
def test_c_equals_emulator(name, tmp_path):
    _, path = trained(name, tmp_path)
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--no-rtl", "--precision", "fixed<12,5>", "--tables", "hls4ml")
    cname = next((out / "c").glob("*.h")).stem
    exe = build_c(out, cname, tmp_path)
    x = xs(3000, seed=9).reshape(3000, -1).astype(np.float64)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    ref = predict(path, x, tmp_path, "--precision", "fixed<12,5>", "--tables", "hls4ml")
    assert got.shape == ref.shape and np.count_nonzero(got != ref) == 0


@pytest.mark.skipif(IVERILOG is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("name", ["simplernn_seq", "gru", "lstm_back_hard", "bi_lstm_concat_seq_td"])
def test_unrolled_rtl_bit_exact_icarus(name, tmp_path):
    """The self-checking Icarus bench: every output of the unrolled circuit equals the emulator's."""
    _, path = trained(name, tmp_path)
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--precision", "fixed<10,4>", "--tables", "hls4ml")
    import json
    rep = json.loads((out / "report.json").read_text())
    assert rep["ii"] == 1
    icarus_bench(out, 200)


@pytest.mark.extended
@pytest.mark.skipif(VERILATOR is None or SANITIZED, reason="needs verilator; not under the sanitizers")
def test_unrolled_lstm_verilator(tmp_path):
    _, path = trained("lstm", tmp_path)
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--tables", "hls4ml", "--multipliers", "auto")
    r = run("verify", out, "--n", "500")
    assert r.stdout.startswith("PASS") and " 0 of " in r.stdout, r.stdout + r.stderr


KERAS2_BI = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tf_keras as k
d = sys.argv[1]
x = np.random.default_rng(5).uniform(-1.5, 1.5, (1000, 5, 3)).astype(np.float32)
np.save(os.path.join(d, "x.npy"), x)
L = k.layers
for name, make in [
    ("lstm_concat", lambda: L.Bidirectional(L.LSTM(4), name="bi")),
    ("gru_sum_seq", lambda: L.Bidirectional(L.GRU(3, reset_after=True, return_sequences=True), merge_mode="sum", name="bi")),
    ("gru_v1_mul", lambda: L.Bidirectional(L.GRU(3, recurrent_activation="hard_sigmoid"), merge_mode="mul", name="bi")),
    ("rnn_ave_own_backward", lambda: L.Bidirectional(L.SimpleRNN(3, activation="relu"), merge_mode="ave", name="bi",
                                                     backward_layer=L.SimpleRNN(3, go_backwards=True, name="back"))),
]:
    k.utils.set_random_seed(7)
    m = k.Sequential([L.Input((5, 3)), make(), L.Flatten(name="flat"), L.Dense(2, name="out")])
    m.save(os.path.join(d, name + ".h5"))
    np.save(os.path.join(d, name + ".npy"), m.predict(x, verbose=0))
"""


@pytest.mark.slow
def test_keras2_bidirectional_float(tmp_path):
    """Bidirectional in Keras 2 .h5 files (tf_keras; the weights of the two layers under forward_* and
    backward_*): --float equals tf_keras for LSTM, GRU (reset_after true and false) and SimpleRNN, every
    merge mode, return_sequences and a backward layer of its own."""
    pytest.importorskip("tf_keras")
    import sys
    r = subprocess.run([sys.executable, "-c", KERAS2_BI, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    x = np.load(tmp_path / "x.npy")
    for name in ("lstm_concat", "gru_sum_seq", "gru_v1_mul", "rnn_ave_own_backward"):
        ref = np.load(tmp_path / f"{name}.npy").astype(np.float64)
        got = predict(tmp_path / f"{name}.h5", x.reshape(len(x), -1).astype(np.float64), tmp_path, "--float")
        np.testing.assert_allclose(got.reshape(ref.shape), ref, rtol=1e-5, atol=1e-5, err_msg=name)


def test_layer_name_reaches_every_node(tmp_path):
    """LayerName.<layer> types every node the layer became, each by its part in the cell as hls4ml types
    it: new states (cell state, output) in result, gates and their products in accum, the state update
    exact in between; LayerName.<node> one node."""
    _, path = trained("lstm", tmp_path)
    cfg = tmp_path / "c.yml"
    cfg.write_text("LayerName:\n  rnn:\n    Precision:\n      result: fixed<11,4>\n      accum: fixed<13,5>\n"
                   "  rnn_t3_state:\n    Precision:\n      result: fixed<9,3>\n")
    r = run("compile", path, "-c", cfg, "-o", tmp_path / "out", "--no-rtl")
    rows = {l.split()[0]: l.split()[-1] for l in r.stdout.splitlines() if l.strip().startswith("rnn_t")}
    assert len(rows) > 5 * 10, r.stdout
    for name, t in rows.items():
        role = name.split("_", 2)[2]
        want = ("fixed<9,3>" if name == "rnn_t3_state" else "fixed<11,4>" if role in ("state", "out") or name == "rnn_t0_ic"
                else "fixed<13,5>" if role.endswith(("_x", "_h", "_sum", "_act")) else None)
        if want:
            assert t == want, (name, t, want)
    assert rows["rnn_t2_fc"] not in ("fixed<11,4>", "fixed<13,5>")   # exact
    out_row = next(l for l in r.stdout.splitlines() if l.strip().startswith("out "))
    assert "fixed<11,4>" not in out_row
    cfg.write_text("LayerName:\n  rnnx:\n    Precision:\n      result: fixed<11,4>\n")
    r = run("compile", path, "-c", cfg, "-o", tmp_path / "bad", "--no-rtl", check=False)
    assert r.returncode == 2 and "unknown layer 'LayerName.rnnx': expected one of" in r.stderr and ", rnn, " in r.stderr


def test_one_node_until_unrolled(tmp_path):
    """The front end builds the layer as one rnn node with inputs X, W, R, B (the dump after import); the
    rnn_unroll pass makes it the cells, which a LayerName entry for the layer reaches (after precision)."""
    keras = keras3()
    keras.utils.set_random_seed(2)
    inp = keras.Input((T, F))
    m = keras.Model(inp, keras.layers.Dense(1, name="out")(keras.layers.GRU(3, name="rnn")(inp)))
    path = tmp_path / "gru.keras"
    m.save(path)
    cfg = tmp_path / "c.yml"
    cfg.write_text("LayerName:\n  rnn:\n    Precision:\n      result: fixed<11,4>\n")
    dump = run("compile", path, "-c", cfg, "--dump-after", "all").stdout
    parts = {p.split("\n", 1)[0]: p for p in dump.split("## after ")[1:]}
    rnn = [l for l in parts["import"].splitlines() if " rnn 'rnn' (" in l]
    assert len(rnn) == 1 and len(parts["import"].splitlines()) < 10, parts["import"]
    ins = rnn[0].split(" (", 1)[1].split(") -> ")[0].split(", ")
    assert len(ins) == 4 and ins[0].endswith(f"[{T},{F}] ?"), ins
    assert [i.split()[1:3] for i in ins[1:]] == [["rnn.W", "[3,9]"], ["rnn.R", "[3,9]"], ["rnn.B", "[2,9]"]], ins
    assert " kind=gru T=5 F=3 U=3 act=tanh ract=sigmoid bx bh reset_after layer=rnn" in rnn[0], rnn[0]
    unrolled = parts["rnn_unroll"].splitlines()
    assert not any(" rnn '" in l for l in unrolled)
    states = [l for l in parts["precision"].splitlines() if l.strip().split()[2:3] in (["'rnn_t4_out'"],)]
    assert len(states) == 1 and states[0].endswith("fixed<11,4>"), states
    assert sum(" 'rnn_t" in l for l in unrolled) > 5 * 10


@pytest.mark.parametrize("kw,msg", [
    (dict(stateful=True), "expected stateful false"),
    (dict(return_state=True), "expected return_state false"),
    (dict(activation="selu"), "expected an activation of tanh, sigmoid, hard_sigmoid, relu or linear, got 'selu'"),
])
def test_unsupported_is_refused(kw, msg, tmp_path):
    keras = keras3()
    inp = keras.Input((T, F), batch_size=1 if kw.get("stateful") else None)
    o = keras.layers.LSTM(3, name="rnn", **kw)(inp)
    if isinstance(o, (list, tuple)):
        o = o[0]
    m = keras.Model(inp, keras.layers.Dense(1, name="out")(o))
    path = tmp_path / "m.keras"
    m.save(path)
    r = run("compile", path, "-o", tmp_path / "out", check=False)
    assert r.returncode == 2 and "layer 'rnn' (LSTM)" in r.stderr and msg in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(IVERILOG is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("prec", ["fixed<10,4>", "fixed<6,1>", "fixed<9,2,RND,SAT>"])
def test_hard_sigmoid_rtl_bit_exact(prec, tmp_path):
    """hard_sigmoid (LSTM/GRU's Keras 2 recurrent activation) in the Verilog: clip(x*slope + shift, 0, 1),
    including a result type that cannot hold 1 (fixed<6,1>)."""
    keras = keras3()
    keras.utils.set_random_seed(4)
    inp = keras.Input((6,))
    m = keras.Model(inp, keras.layers.Dense(5, activation="hard_sigmoid", name="d")(inp))
    path = tmp_path / "hs.keras"
    m.save(path)
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--precision", prec)
    icarus_bench(out, timeout=600)
