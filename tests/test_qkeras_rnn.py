"""QKeras recurrent layers (QSimpleRNN, QLSTM, QGRU; issue 12).

Models are built and trained briefly by tests/ref/qkeras_rnn_models.py (TensorFlow's
Keras 2, own process; cached in build/qkeras_rnn_models/).  Checked:
- with hard activations (QKeras' hard_sigmoid, quantized_tanh / quantized_sigmoid
  without use_real_*, quantized_bits) and a state quantizer, QKeras' forward pass is
  exact in fixed point, and etchnn with no configuration equals it bit for bit on
  inputs on the input type's grid (tests/ref/qkeras_predict.py, float64);
- with float tanh / sigmoid, --float equals QKeras (weights through the quantizers),
  and etchnn --hls4ml equals hls4ml's C simulation of the same model under the
  configuration hls4ml derives from the quantizers;
- what cannot be represented is refused, naming the layer."""
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, icarus_bench, predict, run
from test_qkeras import need_qkeras, qkeras_ref

sys.path.insert(0, str(ROOT / "tests" / "ref"))
BUILD = ROOT / "tests" / "ref" / "qkeras_rnn_models.py"
T, F, N = 5, 3, 3000
EXACT = ["qlstm", "qgru", "qsimplernn", "qlstm_seq_qsig", "qgru_v1_seq"]
FLOAT = ["qlstm_float", "qgru_float"]


def model(name):
    """NAME.json, NAME.h5 (built once per version of the builder script)."""
    need_qkeras()
    tag = hashlib.sha256(BUILD.read_bytes()).hexdigest()[:12]
    d = ROOT / "build" / "qkeras_rnn_models" / tag
    j, w = d / f"{name}.json", d / f"{name}.h5"
    if not (j.exists() and w.exists()):
        d.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([sys.executable, str(BUILD), str(d), name], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0 and j.exists(), r.stderr[-3000:]
    return j, w


def grid_inputs(n=N, seed=0):
    """On fixed<16,6>'s grid (the input type), half in the training range, half wider."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(-1.5, 1.5, (n // 2, T * F)), rng.uniform(-6, 6, (n - n // 2, T * F))])
    return np.floor(x * 1024) / 1024


def differ(got, ref):
    assert got.shape == ref.shape
    bad = np.argwhere(got != ref)
    return len(bad), (f"{len(bad)} of {got.size} outputs differ; first: event {bad[0][0]}: reference "
                      f"{ref[tuple(bad[0])]!r}, etchnn {got[tuple(bad[0])]!r}" if len(bad) else "")


@pytest.mark.parametrize("name", [n if n == "qlstm" else pytest.param(n, marks=pytest.mark.extended) for n in EXACT])
def test_exact_equals_qkeras(name, tmp_path):
    j, w = model(name)
    x = grid_inputs()
    ref = qkeras_ref(tmp_path, j, w, x, "rnn")
    got = predict(j, x, tmp_path, "--weights", w).reshape(ref.shape)
    n, msg = differ(got, ref)
    assert n == 0, msg
    assert np.unique(got).size > 100


@pytest.mark.extended
@pytest.mark.parametrize("name", FLOAT)
def test_float_equals_qkeras(name, tmp_path):
    j, w = model(name)
    x = grid_inputs(1000)
    ref = qkeras_ref(tmp_path, j, w, x, "rnn")
    got = predict(j, x, tmp_path, "--weights", w, "--float").reshape(ref.shape)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@pytest.mark.extended
@pytest.mark.parametrize("name", FLOAT)
def test_hls4ml_bit_exact(name, tmp_path):
    """hls4ml converts QLSTM/QGRU with float activations (it refuses hard ones): same integers as etchnn
    --hls4ml under the configuration hls4ml derives from the quantizers."""
    pytest.importorskip("hls4ml")
    from hls4ml_rnn_predict import hls4ml_qkeras_rnn_predict
    j, w = model(name)
    x = grid_inputs()
    ref, cfg = hls4ml_qkeras_rnn_predict(j, w, x)
    cf = tmp_path / "config.json"
    cf.write_text(json.dumps(cfg))
    got = predict(j, x, tmp_path, "--weights", w, "-c", cf, "--hls4ml").reshape(ref.shape)
    n, msg = differ(got, ref)
    assert n == 0, msg


def test_types_and_warning(tmp_path):
    """Weights take their quantizers' types; a cell that is not exact says so and takes the configuration."""
    j, w = model("qlstm")
    r = run("compile", j, "--weights", w, "-o", tmp_path / "o", "--no-rtl")
    rows = {l.split()[0]: l.split()[-1] for l in r.stdout.splitlines() if l.strip().startswith("rnn_t")}
    assert rows["rnn_t1_h_prev"] == "fixed<8,2,RND_CONV,SAT>" and rows["rnn_t1_c_act_quant"] == "fixed<8,1,RND_CONV,SAT>"
    assert "not exact" not in r.stderr
    data = json.loads(j.read_text())
    data["config"]["layers"][1]["config"]["state_quantizer"] = None
    j2 = tmp_path / "nostate.json"
    j2.write_text(json.dumps(data))
    r = run("compile", j2, "--weights", w, "-o", tmp_path / "o2", "--no-rtl")
    assert "layer 'rnn' (QLSTM): its forward pass is not exact in fixed point (no state_quantizer)" in r.stderr


@pytest.mark.parametrize("key,spec,msg", [
    ("activation", {"class_name": "binary", "config": {}},
     "expected activation among tanh, sigmoid, hard_sigmoid, relu, linear, quantized_tanh"),
    ("activation", "quantized_tanh(4,1)", "expected activation quantized_tanh with 2..24 bits and no stochastic rounding"),
    ("recurrent_activation", "quantized_sigmoid(6,1)", "expected recurrent_activation quantized_sigmoid with 2..24 bits, "
                                                       "not symmetric"),
    ("recurrent_activation", "softsign", "expected an activation of tanh, sigmoid, hard_sigmoid, relu or linear, got "
                                         "'softsign'"),
    ("state_quantizer", {"class_name": "quantized_po2", "config": {"bits": 4}},
     "expected state_quantizer quantized_bits (2 bits or more) or quantized_relu without negative_slope, got "
     "quantized_po2"),
    ("kernel_quantizer", {"class_name": "quantized_bits", "config": {"bits": 6, "alpha": "auto_po2"}},
     "expected kernel_quantizer quantized_bits with alpha 1 or a power of two"),
])
def test_refused(key, spec, msg, tmp_path):
    j, w = model("qlstm")
    data = json.loads(j.read_text())
    data["config"]["layers"][1]["config"][key] = spec
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    r = run("compile", bad, "--weights", w, "-o", tmp_path / "o", "--no-rtl", check=False)
    assert r.returncode == 2 and "layer 'rnn' (QLSTM)" in r.stderr and msg in r.stderr, r.stderr


IVERILOG = __import__("shutil").which("iverilog")


@pytest.mark.parametrize("name", ["qlstm", pytest.param("qgru_v1_seq", marks=pytest.mark.extended)])
def test_c_and_rtl_equal_emulator(name, tmp_path):
    """The exact cell's generated C and unrolled RTL (Icarus bench) equal the emulator bit for bit."""
    from conftest import SANITIZED
    from test_cemu import build_c
    j, w = model(name)
    out = tmp_path / "out"
    run("compile", j, "--weights", w, "-o", out)
    cname = next((out / "c").glob("*.h")).stem
    exe = build_c(out, cname, tmp_path)
    x = grid_inputs(2000, seed=5)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    ref = predict(j, x, tmp_path, "--weights", w)
    n, msg = differ(got, ref)
    assert n == 0, msg
    if IVERILOG is None or SANITIZED:
        return
    icarus_bench(out, 200)


@pytest.mark.extended
def test_hls_project_equals_predict(tmp_path):
    """The Vitis HLS project of an exact QLSTM cell (g++ against the ap_types headers) equals etchnn predict."""
    from test_hls import csim_equals_predict
    j, w = model("qlstm")
    csim_equals_predict(j, tmp_path, opts=("--weights", str(w)), x=grid_inputs(500, seed=9))


PY_CHILD = """
import os, sys
os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
import numpy as np, tf_keras as keras, etchnn
from qkeras.utils import _add_supported_quantized_objects
co = {}
_add_supported_quantized_objects(co)
m = keras.models.model_from_json(open(sys.argv[1]).read(), custom_objects=co)
m.load_weights(sys.argv[2])
fw = etchnn.convert(m, output_dir=sys.argv[3])
np.save(sys.argv[5], fw.predict(np.load(sys.argv[4])))
"""


@pytest.mark.extended
def test_python_package(tmp_path):
    """A QLSTM model object (tf_keras) through the Python package equals the CLI on its files."""
    j, w = model("qlstm")
    x = grid_inputs(300, seed=4)
    np.save(tmp_path / "x.npy", x)
    env = dict(__import__("os").environ, PYTHONPATH=str(ROOT / "python"))
    r = subprocess.run([sys.executable, "-c", PY_CHILD, str(j), str(w), str(tmp_path / "fw"), str(tmp_path / "x.npy"),
                        str(tmp_path / "y.npy")], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    got = np.load(tmp_path / "y.npy").reshape(len(x), -1)
    assert np.array_equal(got, predict(j, x, tmp_path, "--weights", w))
