"""Recurrent layers from PyTorch (issue 12): nn.RNN (tanh, relu), nn.LSTM and nn.GRU
with batch_first True/False, num_layers 2, bidirectional, followed by nn.Linear,
exported to ONNX (RNN/LSTM/GRU nodes) and unrolled by the ONNX reader through
the Keras path's unroller (src/frontends/rnn.c).

Models are built here with fixed seeds and random weights (no training: the
checks are about the arithmetic, not the task).  Checked:
- `--float` equals torch run in float64 on the same (float32) weights, to 1e-9
  relative: both compute in double, so only the order of additions and libm's
  tanh/exp differ (~1e-15); and onnxruntime (float32) to 1e-5;
- the TorchScript exporter (what the Python package uses) and the default
  (dynamo) exporter both read;
- fixed<16,6> with hls4ml tables close to torch (a sanity bound, not exact);
- the generated C equals the emulator bit for bit, the RTL equals the emulator
  bit for bit (Icarus);
- the Python package converts the torch modules (input_shape given);
- refusals name the file and the node: a non-zero initial state, clip, an
  unsupported activation."""
import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from conftest import ROOT, SANITIZED, icarus_bench, predict, run
from test_cemu import build_c

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
IVERILOG = shutil.which("iverilog")
sys.path.insert(0, str(ROOT / "python"))   # the etchnn fixture's package
T, F, H = 5, 3, 4


class Net(torch.nn.Module):
    """A recurrent layer read as torch users do, then a Linear: 'last' out[:, -1] (out[-1] time-major),
    'h' the final state of the last layer (both directions concatenated), 'seq' the whole sequence."""

    def __init__(self, cls, batch_first=True, layers=1, bi=False, read="last", **kw):
        super().__init__()
        self.rnn = getattr(torch.nn, cls)(F, H, num_layers=layers, bidirectional=bi, batch_first=batch_first, **kw)
        d = 2 if bi else 1
        self.fc = torch.nn.Linear(H * d * (T if read == "seq" else 1), 2)
        self.bf, self.read, self.bi = batch_first, read, bi

    def forward(self, x):   # x: [batch, T, F]
        if not self.bf:
            x = x.transpose(0, 1)
        out, h = self.rnn(x)
        if isinstance(h, tuple):
            h = h[0]
        if self.read == "last":
            y = out[:, -1, :] if self.bf else out[-1]
        elif self.read == "h":
            y = torch.cat([h[-2], h[-1]], 1) if self.bi else h[-1]
        else:
            y = (out if self.bf else out.transpose(0, 1)).flatten(1)
        return self.fc(y)


# name -> (class, keyword arguments)
CASES = {
    "lstm_last": ("LSTM", dict()),
    "lstm_tm_2l_bi_seq": ("LSTM", dict(batch_first=False, layers=2, bi=True, read="seq")),
    "gru_h": ("GRU", dict(read="h")),
    "gru_2l_bi_h": ("GRU", dict(layers=2, bi=True, read="h")),
    "rnn_tanh_tm_bi_last": ("RNN", dict(batch_first=False, bi=True)),
    "rnn_relu_2l_seq": ("RNN", dict(layers=2, read="seq", nonlinearity="relu")),
}


def model(name):
    cls, kw = CASES[name]
    torch.manual_seed(7)
    return Net(cls, **kw).eval()


def export(m, path, dynamo=False, opset=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = (torch.zeros(1, T, F),)
        if dynamo is None:   # the default exporter of this torch (weights inside the file: the reader
            # does not read external data, which it writes by default)
            torch.onnx.export(m, x, str(path), input_names=["input"], output_names=["output"], external_data=False)
        elif dynamo:
            torch.onnx.export(m, x, str(path), dynamo=True, input_names=["input"], output_names=["output"],
                              dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False,
                              opset_version=opset)
        else:
            torch.onnx.export(m, x, str(path), dynamo=False, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset)
    return path


def xs(n, seed=5):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, (n, T, F))


def torch64(m, x):
    """The model in float64 on its float32 weights."""
    import copy
    m64 = copy.deepcopy(m).double()
    with torch.no_grad():
        return m64(torch.tensor(x, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_float_equals_torch(name, tmp_path):
    m = model(name)
    path = export(m, tmp_path / f"{name}.onnx")
    x = xs(500)
    got = predict(path, x.reshape(len(x), -1), tmp_path, "--float")
    np.testing.assert_allclose(got, torch64(m, x), rtol=1e-9, atol=1e-12)
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref32 = sess.run(None, {"input": x.astype(np.float32)})[0]
    np.testing.assert_allclose(got, ref32, rtol=1e-5, atol=1e-5)
    # fixed<16,6> with hls4ml-style tables: close (a sanity bound; the outputs are ~0.1-1)
    fx = predict(path, x.reshape(len(x), -1), tmp_path, "--precision", "fixed<16,6>", "--tables", "hls4ml")
    assert np.abs(fx - got).max() < 0.05, np.abs(fx - got).max()


@pytest.mark.parametrize("name,dynamo,opset", [("lstm_tm_2l_bi_seq", None, None), ("gru_2l_bi_h", True, 22),
                                               ("rnn_relu_2l_seq", False, 7), ("gru_2l_bi_h", False, 9)])
def test_other_exporter(name, dynamo, opset, tmp_path):
    """The default exporter (dynamo in torch 2.9+: LSTM/GRU nodes with no Y_h) and old opsets (7: ConstantFill
    and Slice attributes in the zero-state plumbing) read too."""
    m = model(name)
    path = export(m, tmp_path / f"{name}.onnx", dynamo=dynamo, opset=opset)
    x = xs(200)
    got = predict(path, x.reshape(len(x), -1), tmp_path, "--float")
    np.testing.assert_allclose(got, torch64(m, x), rtol=1e-9, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm_tm_2l_bi_seq", "gru_h"])
def test_c_equals_emulator(name, tmp_path):
    path = export(model(name), tmp_path / f"{name}.onnx")
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--no-rtl", "--precision", "fixed<12,5>", "--tables", "hls4ml")
    cname = next((out / "c").glob("*.h")).stem
    exe = build_c(out, cname, tmp_path)
    x = xs(2000, seed=9).reshape(2000, -1)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    ref = predict(path, x, tmp_path, "--precision", "fixed<12,5>", "--tables", "hls4ml")
    assert got.shape == ref.shape and np.count_nonzero(got != ref) == 0


@pytest.mark.skipif(IVERILOG is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("name", ["gru_h", "rnn_tanh_tm_bi_last"])
def test_unrolled_rtl_bit_exact_icarus(name, tmp_path):
    """The self-checking Icarus bench: every output of the unrolled circuit equals the emulator's."""
    path = export(model(name), tmp_path / f"{name}.onnx")
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--precision", "fixed<10,4>", "--tables", "hls4ml")
    rep = json.loads((out / "report.json").read_text())
    assert rep["ii"] == 1
    icarus_bench(out, 200)


def test_layer_names(tmp_path):
    """Each recurrent node is one layer for LayerName: its unrolled nodes carry its name."""
    path = export(model("gru_2l_bi_h"), tmp_path / "m.onnx")
    cfg = tmp_path / "c.yml"
    cfg.write_text("LayerName:\n  rnn_gru_1:\n    Precision:\n      result: fixed<11,4>\n      accum: fixed<13,5>\n")
    r = run("compile", path, "-c", cfg, "-o", tmp_path / "out", "--no-rtl")
    rows = [l.split() for l in r.stdout.splitlines() if l.strip().startswith("rnn_gru_1_")]
    assert any(row[0].startswith("rnn_gru_1_forward_t") for row in rows) and \
        any(row[0].startswith("rnn_gru_1_backward_t") for row in rows), r.stdout
    # each node typed by its part in the cell (as hls4ml's cells): new states in result, gates in accum
    import re
    states = [row for row in rows if re.search(r"_t\d+_out$", row[0])]
    gates = [row for row in rows if re.search(r"_t\d+_[zrh]_(x|h|sum|act)$", row[0])]
    assert states and gates
    assert all(row[-1] == "fixed<11,4>" for row in states), [row for row in states if row[-1] != "fixed<11,4>"][:5]
    assert all(row[-1] == "fixed<13,5>" for row in gates), [row for row in gates if row[-1] != "fixed<13,5>"][:5]


def test_python_package(etchnn, tmp_path):
    m = model("lstm_tm_2l_bi_seq")
    with pytest.raises(etchnn.EtchnnError, match=r"input_shape=\(time_steps, 3\)"):
        etchnn.convert(m, output_dir=tmp_path / "a")
    fw = etchnn.convert(m, input_shape=(T, F), output_dir=tmp_path / "b", tables="hls4ml")
    x = xs(300)
    got = fw.predict(x.reshape(len(x), -1), float_mode=True).reshape(len(x), -1)
    np.testing.assert_allclose(got, torch64(m, x), rtol=1e-9, atol=1e-12)
    assert m.training is False


class InitState(torch.nn.Module):
    """An LSTM started from a given state: constant ones, or computed from the input."""

    def __init__(self, kind):
        super().__init__()
        self.rnn = torch.nn.LSTM(F, H, batch_first=True)
        self.h0 = torch.nn.Linear(T * F, H)
        self.fc = torch.nn.Linear(H, 1)
        self.kind = kind

    def forward(self, x):
        if self.kind == "ones":
            h0 = torch.ones(1, x.shape[0], H)
        else:
            h0 = torch.tanh(self.h0(x.flatten(1))).unsqueeze(0)
        out, _ = self.rnn(x, (h0, torch.zeros(1, x.shape[0], H)))
        return self.fc(out[:, -1])


def edited(path, op, **attrs):
    """The exported file with attributes of its `op` node set (strings: lists of activations)."""
    mp = onnx.load(str(path))
    node = next(n for n in mp.graph.node if n.op_type == op)
    for k, v in attrs.items():
        for a in list(node.attribute):
            if a.name == k:
                node.attribute.remove(a)
        node.attribute.append(onnx.helper.make_attribute(k, v))
    onnx.save(mp, str(path))
    return path


@pytest.mark.parametrize("case,msg", [
    ("ones", "node 'rnn_lstm' (LSTM): expected a zero initial_h (absent or constant zeros), got "),
    ("data", "node 'rnn_lstm' (LSTM): expected a zero initial_h (absent or constant zeros), got "),
    ("clip", "node 'rnn_lstm' (LSTM): expected no clip attribute, got clip = 3 (cell clipping is not supported)"),
    ("act", "node 'rnn_rnn' (RNN): expected activations among Sigmoid, Tanh, Relu and HardSigmoid, got 'Softsign'"),
    ("hs_beta", "node 'rnn_gru' (GRU): expected HardSigmoid with beta 0.5, got 0.3"),
])
def test_refused(case, msg, tmp_path):
    path = tmp_path / f"{case}.onnx"
    if case in ("ones", "data"):
        torch.manual_seed(0)
        export(InitState(case), path)
    elif case == "clip":
        edited(export(model("lstm_last"), path), "LSTM", clip=3.0)
    elif case == "act":
        edited(export(model("rnn_tanh_tm_bi_last"), path), "RNN", activations=["Softsign", "Tanh"])
    else:
        edited(export(model("gru_h"), path), "GRU", activations=["HardSigmoid", "Tanh"], activation_alpha=[0.2],
               activation_beta=[0.3])
    r = run("compile", path, "-o", tmp_path / "out", check=False)
    assert r.returncode == 2 and f"{path}: " in r.stderr and msg in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_activations_per_direction(tmp_path):
    """ONNX activations per direction (HardSigmoid gates with alpha from activation_alpha forward; Relu
    candidates backward) equal onnxruntime."""
    ort = pytest.importorskip("onnxruntime")
    path = edited(export(model("gru_2l_bi_h"), tmp_path / "g.onnx"), "GRU",
                  activations=["HardSigmoid", "Tanh", "Sigmoid", "Relu"], activation_alpha=[0.25],
                  activation_beta=[0.5])
    x = xs(300)
    got = predict(path, x.reshape(len(x), -1), tmp_path, "--float")
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x.astype(np.float32)})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_layout_1_hand_built(tmp_path):
    """layout 1 (batch-first X, Y, Y_h; torch never writes it): the GRU fuzz seed (bidirectional,
    linear_before_reset, Reshape/Slice/Concat/Gather of its outputs) with default activations equals onnx's
    reference evaluator (onnxruntime has no layout 1; the evaluator ignores activations)."""
    from onnx.reference import ReferenceEvaluator
    mp = onnx.load(str(ROOT / "tests" / "fuzz" / "corpus_onnx" / "gru_bi_torch.onnx"))
    node = next(n for n in mp.graph.node if n.op_type == "GRU")
    for a in [a for a in node.attribute if a.name.startswith("activation")]:
        node.attribute.remove(a)
    path = tmp_path / "g.onnx"
    onnx.save(mp, str(path))
    x = np.random.default_rng(3).uniform(-2, 2, (20, 3, 2))
    ev = ReferenceEvaluator(mp)
    ref = np.concatenate([ev.run(None, {"x": x[i:i + 1].astype(np.float32)})[0] for i in range(len(x))])
    got = predict(path, x.reshape(len(x), -1), tmp_path, "--float")
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.extended
@pytest.mark.parametrize("name", [n for n in sorted(CASES) if CASES[n][0] != "RNN"])
def test_dynamo_equals_torchscript_export(name, tmp_path):
    """torch.onnx.export(..., dynamo=True) (opset 20 here: LSTM/GRU nodes, a dynamic batch, no Y_h read) against
    the TorchScript export of the same module: etchnn's fixed-point outputs equal integers (fixed<16,6>, hls4ml
    tables), and the float ones equal torch."""
    m = model(name)
    x = xs(300).reshape(300, -1)
    outs = []
    for dyn in (False, True):
        path = export(m, tmp_path / f"{name}_{int(dyn)}.onnx", dynamo=dyn)
        outs.append(predict(path, x, tmp_path, "--precision", "fixed<16,6>", "--tables", "hls4ml"))
    assert np.array_equal(outs[0], outs[1]) and np.unique(outs[1]).size > 20
    np.testing.assert_allclose(predict(path, x, tmp_path, "--float"), torch64(m, xs(300)), rtol=1e-9, atol=1e-12)


@pytest.mark.extended
def test_dynamo_rnn_refused(tmp_path):
    """The dynamo exporter writes nn.RNN as explicit steps (MatMul, Slice, Add, Tanh per step, no RNN node):
    refused naming the node, with the way out."""
    path = export(model("rnn_tanh_tm_bi_last"), tmp_path / "rnn.onnx", dynamo=True)
    r = run("compile", path, "-o", tmp_path / "o", "--no-rtl", check=False)
    assert r.returncode == 2 and "(Slice)" in r.stderr and "export it with dynamo=False" in r.stderr, r.stderr


def test_bidirectional_per_direction_keys(tmp_path):
    """An ONNX bidirectional GRU takes hls4ml's Bidirectional keys under its layer name (etchnn config writes them
    there), and backward_weight changes what is computed."""
    m = model("gru_2l_bi_h")
    path = export(m, tmp_path / "g.onnx")
    layer = run("config", path, "--granularity", "name").stdout
    assert "forward_recurrent_weight:" in layer and "BackwardRecurrentReuseFactor: 1" in layer, layer
    name = next(l.split(":")[0].strip() for l in layer.splitlines() if "# GRU, unrolled" in l)
    x = xs(200).reshape(200, -1)
    base = predict(path, x, tmp_path, "--precision", "fixed<16,6>")
    cf = tmp_path / "c.json"
    cf.write_text(json.dumps({"LayerName": {name: {"Precision": {"backward_weight": "fixed<5,1>"}}}}))
    assert np.count_nonzero(predict(path, x, tmp_path, "--precision", "fixed<16,6>", "-c", cf) != base) > 0
