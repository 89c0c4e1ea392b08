"""Recurrent layers in the static form (issue 12, item 4): LayerName.<layer>.Static: true builds one cell
reused over the T time steps (src/hw/rnn_static.c), with state registers zeroed at the start and a step
sequencer; II = T x (the cell's latency + 1).  The emulator and the C do not change; the RTL must equal them
bit for bit.

Checked: the self-checking Icarus bench (every output against the emulator's, at the report's latency and
II) on an LSTM, a GRU (reset_after false, the sequence out), the recurrent products shared
(RecurrentReuseFactor), a SimpleRNN (the sequence out), a backwards LSTM
with hard_sigmoid, a PyTorch GRU through ONNX, a stacked pair and a Bidirectional with its final states
merged; that the report's latency and II are what the circuit needs (one clock less of either and outputs
differ); the estimate counts one cell, not T; Verilator (etchnn verify) in make test-extended; what the
static form does not build is refused naming the layer and the key."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, run

os.environ.setdefault("KERAS_BACKEND", "torch")
IVERILOG = shutil.which("iverilog")
VERILATOR = shutil.which("verilator")
NO_SIM = IVERILOG is None or SANITIZED


def trained(name, tmp_path):
    from test_recurrent import trained as tr
    return tr(name, tmp_path)


def static_cfg(tmp_path, layers=("rnn",), **extra):
    cfg = {"LayerName": {name: {"Static": True, **extra} for name in layers}}
    path = tmp_path / "static.json"
    path.write_text(json.dumps(cfg))
    return path


def compile_static(path, tmp_path, layers=("rnn",), out="out", *opts):
    o = tmp_path / out
    run("compile", path, "-c", static_cfg(tmp_path, layers), "-o", o, "--precision", "fixed<10,4>", "--tables",
        "hls4ml", *opts)
    return o, json.loads((o / "report.json").read_text())


def bench(out, n=None, **params):
    """The Icarus bench of OUT with its localparams changed (N, L, II); its last line."""
    rtl = out / "rtl"
    model = json.loads((out / "report.json").read_text())["model"]
    tb = rtl / f"tb_{model}.v"
    text = tb.read_text()
    for k, v in params.items():
        old = [l for l in text.splitlines() if "localparam N = " in l][0]
        import re
        text = text.replace(old, re.sub(rf"\b{k} = \d+", f"{k} = {v}", old))
    if n is not None:
        text = text.replace("localparam N = 1000,", f"localparam N = {n},")
    tb.write_text(text)
    subprocess.run([IVERILOG, "-g2005", "-o", "tb.vvp", "-c", "files.f", tb.name], cwd=rtl, check=True,
                   capture_output=True, text=True)
    r = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=rtl, capture_output=True, text=True, timeout=600)
    return [l for l in r.stdout.splitlines() if l.startswith(("PASS", "FAIL"))][-1]


def static_layer(rep, name="rnn"):
    return next(l for l in rep["layers"] if l.get("architecture") == "static" and l["name"] == name)


# the models of test_recurrent (T = 5 steps of F = 3 features): one per kind in make test, the others extended
@pytest.mark.skipif(NO_SIM, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("name", [pytest.param("lstm", marks=pytest.mark.extended),   # make test: the next test
                                  "gru_v1_seq", "simplernn_seq",
                                  pytest.param("lstm_back_hard", marks=pytest.mark.extended),
                                  pytest.param("gru", marks=pytest.mark.extended)])
def test_static_rtl_bit_exact_icarus(name, tmp_path):
    """Every output of the static circuit equals the emulator's (the bench feeds one sequence per II clocks,
    some later, and checks each output L clocks after its input); the report says the static form."""
    _, path = trained(name, tmp_path)
    out, rep = compile_static(path, tmp_path)
    lay = static_layer(rep)
    assert lay["time_steps"] == 5 and lay["ii"] == 5 * lay["step_clocks"] == rep["ii"]
    assert lay["step_clocks"] == lay["cell_latency"] + 1
    assert lay["backwards"] == (name == "lstm_back_hard") and lay["return_sequences"] == name.endswith("_seq")
    icarus_bench(out, 100)


@pytest.mark.skipif(NO_SIM, reason="needs iverilog; not under the sanitizers")
def test_static_latency_and_ii_are_tight(tmp_path):
    """The report's latency and II are what the circuit does: at them every output equals the emulator's (the
    static LSTM's bit-exact check in make test);
    sampled one clock earlier, or fed one clock sooner, outputs differ."""
    _, path = trained("lstm", tmp_path)
    out, rep = compile_static(path, tmp_path)
    L, II = rep["latency_cycles"], rep["ii"]
    lay = static_layer(rep)
    assert lay["latency_cycles"] == II + 1   # the input captured, T steps, the output registered
    assert bench(out, 40).startswith("PASS")
    early = bench(out, 40, L=L - 1)
    assert early.startswith("FAIL") and not early.startswith("FAIL: 0 of"), early
    fast = bench(out, 40, L=L, II=II - 1)
    assert fast.startswith("FAIL") and not fast.startswith("FAIL: 0 of"), fast


@pytest.mark.skipif(NO_SIM, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("name, extra", [("lstm", {"RecurrentReuseFactor": 4}),
                                         pytest.param("gru_v1_seq", {"ReuseFactor": 2, "RecurrentReuseFactor": 3},
                                                      marks=pytest.mark.extended)])
def test_static_recurrent_reuse_icarus(name, extra, tmp_path):
    """RecurrentReuseFactor R (hls4ml's: the recurrent products' sharing; ReuseFactor the input products'):
    the cell's h R Dense layers folded R ways (hw/fold.c, started each step), so each step takes longer; the
    outputs are the same integers."""
    _, path = trained(name, tmp_path)
    _, plain = compile_static(path, tmp_path, ("rnn",), "plain")
    cf = tmp_path / "r.json"
    cf.write_text(json.dumps({"LayerName": {"rnn": {"Static": True, **extra}}}))
    out = tmp_path / "shared"
    run("compile", path, "-c", cf, "-o", out, "--precision", "fixed<10,4>", "--tables", "hls4ml")
    rep = json.loads((out / "report.json").read_text())
    lay, lay0 = static_layer(rep), static_layer(plain)
    assert lay["cell_latency"] >= max(extra.values()) + 2 and lay["ii"] > lay0["ii"]
    icarus_bench(out, 60)


def test_static_estimate_counts_one_cell(tmp_path):
    """The estimate of the static layer is one cell plus its registers: far below the unrolled layer's T
    cells, above one of them; the unrolled form (Static false, or no entry) is unchanged and has II 1."""
    _, path = trained("lstm", tmp_path)
    _, rep = compile_static(path, tmp_path, ("rnn",), "s")
    u = tmp_path / "u"
    run("compile", path, "-o", u, "--precision", "fixed<10,4>", "--tables", "hls4ml")
    unrolled = json.loads((u / "report.json").read_text())
    assert unrolled["ii"] == 1 and all("architecture" not in l for l in unrolled["layers"])
    lut_u = sum(l["lut_estimate"] for l in unrolled["layers"] if l["name"].startswith("rnn_t"))
    lay = static_layer(rep)
    T = lay["time_steps"]   # one cell's worth (the unrolled cells differ: the first sees a zero state), not T
    assert T >= 5 and lut_u / (T + 1) < lay["lut_estimate"] < lut_u / 2.5, (lay["lut_estimate"], lut_u, T)
    txt = (tmp_path / "s" / "report.txt").read_text()
    assert "static: one cell" in txt and f"II = {rep['ii']}" in txt


@pytest.mark.skipif(NO_SIM, reason="needs iverilog; not under the sanitizers")
def test_static_torch_gru_icarus(tmp_path):
    """A PyTorch GRU (through ONNX, its final state read): the layer's ONNX name takes Static."""
    import test_recurrent_torch as tt
    path = tt.export(tt.model("gru_h"), tmp_path / "gru_h.onnx")
    out, rep = compile_static(path, tmp_path, ("rnn_gru",))
    assert static_layer(rep, "rnn_gru")["ii"] == rep["ii"] > 5
    icarus_bench(out, 100)


def stacked(tmp_path):
    """LSTM (the sequence out) then GRU then Dense, trained briefly."""
    from test_recurrent import keras3
    keras = keras3()
    keras.utils.set_random_seed(4)
    x = np.random.default_rng(2).uniform(-1, 1, (256, 5, 3)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.float32)
    inp = keras.Input((5, 3))
    h = keras.layers.LSTM(4, return_sequences=True, name="rnn")(inp)
    h = keras.layers.GRU(3, name="rnn2")(h)
    m = keras.Model(inp, keras.layers.Dense(1, name="out")(h))
    m.compile(optimizer="adam", loss="mse")
    m.fit(x, y, epochs=1, batch_size=64, verbose=0)
    path = tmp_path / "stacked.keras"
    m.save(path)
    return path


@pytest.mark.extended
@pytest.mark.skipif(NO_SIM, reason="needs iverilog; not under the sanitizers")
def test_static_stacked_and_bidirectional_icarus(tmp_path):
    """Two static layers in a row (the design's II the larger), one static beside an unrolled one, and a
    Bidirectional whose final states are merged (each direction static)."""
    path = stacked(tmp_path)
    out, rep = compile_static(path, tmp_path, ("rnn", "rnn2"), "both")
    assert rep["ii"] == max(static_layer(rep, n)["ii"] for n in ("rnn", "rnn2"))
    icarus_bench(out, 100)
    out, rep = compile_static(path, tmp_path, ("rnn2",), "second")
    assert [l["name"] for l in rep["layers"] if l.get("architecture")] == ["rnn2"]
    icarus_bench(out, 100)
    _, path = trained("bi_gru_sum", tmp_path)
    out, rep = compile_static(path, tmp_path, ("rnn",), "bi")
    assert sorted(l["name"] for l in rep["layers"] if l.get("architecture")) == ["rnn_backward", "rnn_forward"]
    icarus_bench(out, 100)


@pytest.mark.extended
@pytest.mark.skipif(VERILATOR is None or SANITIZED, reason="needs verilator; not under the sanitizers")
@pytest.mark.parametrize("name", ["lstm", "gru_v1_seq", "simplernn_seq"])
def test_static_verilator(name, tmp_path):
    _, path = trained(name, tmp_path)
    out, rep = compile_static(path, tmp_path)
    r = run("verify", out, "--n", "300")
    assert r.stdout.startswith("PASS") and " 0 of 300" in r.stdout and f"one per {rep['ii']} clocks" in r.stdout, \
        r.stdout + r.stderr


def short(tmp_path):
    """A SimpleRNN of 2 time steps (untrained)."""
    from test_recurrent import keras3
    keras = keras3()
    keras.utils.set_random_seed(5)
    inp = keras.Input((2, 3))
    m = keras.Model(inp, keras.layers.Dense(1, name="out")(keras.layers.SimpleRNN(3, name="rnn")(inp)))
    m.save(tmp_path / "short.keras")
    return tmp_path / "short.keras"


def test_static_snake_case(tmp_path):
    """hls4ml reads layer keys snake-cased, so its own tests write `static`: the same as `Static` (byte-identical
    RTL); with both in one entry the later is taken, with one line saying so."""
    _, path = trained("lstm", tmp_path)
    outs = {}
    for tag, entry in (("Static", {"Static": True}), ("static", {"static": True}),
                       ("both", {"Static": True, "static": False})):
        cf = tmp_path / f"{tag}.json"
        cf.write_text(json.dumps({"LayerName": {"rnn": entry}}))
        o = tmp_path / tag
        r = run("compile", path, "-c", cf, "-o", o, "--precision", "fixed<10,4>", "--tables", "hls4ml")
        outs[tag] = (json.loads((o / "report.json").read_text()), r.stderr)
        rtl = sorted((o / "rtl").glob("*.v"))
        outs[tag] += ({f.name: f.read_bytes() for f in rtl},)
    assert outs["Static"][2] == outs["static"][2] and outs["static"][0]["ii"] > 1
    assert outs["both"][0]["ii"] == 1 and "the later, static: false, is taken" in outs["both"][1]


REFUSED = {
    # what, config, message
    "bidirectional_seq": ("bi_lstm_concat_seq_td", {"LayerName": {"rnn": {"Static": True}}},
                          "layer 'rnn_forward': LayerName.rnn.Static: true: expected the layer's output alone to be "
                          "read by other layers"),
    "not_recurrent": ("lstm", {"LayerName": {"out": {"Static": True}}},
                      "LayerName.out.Static: expected it only for a recurrent layer"),
    "model_level": ("lstm", {"Model": {"Static": True}}, "unknown key 'Model.Static'"),
    "snake_not_recurrent": ("lstm", {"LayerName": {"out": {"static": True}}},
                            "LayerName.out.static: expected it only for a recurrent layer"),
    "recurrent_reuse_not_recurrent": ("lstm", {"LayerName": {"out": {"RecurrentReuseFactor": 2}}},
                                      "LayerName.out.RecurrentReuseFactor: expected it only for a recurrent layer"),
    "short": ("short", {"LayerName": {"rnn": {"Static": True}}},
              "layer 'rnn': LayerName.rnn.Static: true: expected 3 or more time steps for the static form"),
    "io_stream": ("lstm", {"IOType": "io_stream", "LayerName": {"rnn": {"Static": True}}},
                  "layer 'rnn': LayerName.rnn.Static: true: expected io_parallel"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_static_refused(case, tmp_path):
    """What the static form does not build is refused (not built unrolled instead), naming layer and key."""
    name, cfg, msg = REFUSED[case]
    path = short(tmp_path) if name == "short" else trained(name, tmp_path)[1]
    cf = tmp_path / "c.json"
    cf.write_text(json.dumps(cfg))
    r = run("compile", path, "-c", cf, "-o", tmp_path / "o", "--precision", "fixed<10,4>", check=False)
    assert r.returncode != 0 and msg in r.stderr, r.stderr
