"""hard_sigmoid's slope and shift types (hls4ml's HardActivation slope_t / shift_t).

hls4ml 1.3 types a HardActivation's slope ufixed<16,0> and its shift ufixed<2,0> whatever its configuration
says (Precision.slope / shift and the slope_t / shift_t keys change nothing there; measured).  etchnn, under
--auto-types hls4ml (set by --hls4ml), takes those types unless the layer sets its own: Precision.slope
(or weight), Precision.shift (or bias), or the layer keys slope_t / shift_t; 'auto' is hls4ml's.  Outside
hls4ml mode the layer's weight / bias precision as before.

- A Keras 2 model (tf_keras .json + weights, stored in tests/ref/models: Dense, Activation('hard_sigmoid'),
  Dense(activation='hard_sigmoid'), slope 0.2) with config_from_keras_model's hard_sigmoid entry (slope and
  shift 'auto'): equal to hls4ml 1.3's C simulation on 2,000 events (stored codes; a fresh csim checks
  them, extended).  Before this change 888 of the 6,000 outputs differed.
- A slope type set at the layer changes the outputs; slope_t equals Precision.slope; --float equals tf_keras.
- The slope keys on a layer that is not a hard_sigmoid are refused, naming it.
- Keras 3's hard_sigmoid is relu6(x + 3) / 6 (slope 1/6); hls4ml 1.3's Keras 3 reader gives it slope 0.2
  (its HardActivation default), so it differs from Keras there; etchnn keeps Keras's 1/6 (test_keras)."""
import contextlib
import copy
import io
import pathlib
import shutil

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, predict, run

REF = pathlib.Path(__file__).parent / "ref"
MODEL = REF / "models" / "hard_sigmoid_k2.json"
CSIM = REF / "csim" / "hard_sigmoid_k2.npy"   # hls4ml csim outputs, fixed<12,4> codes
KERAS = REF / "csim" / "hard_sigmoid_k2_keras.npy"   # tf_keras's float outputs


def events():
    return np.random.default_rng(5).uniform(-3, 3, (2000, 4)).astype(np.float32).astype(np.float64)


def hls_config(slope="auto", shift="auto", extra=None):
    """config_from_keras_model's entries (name granularity) for the Activation layer 'hs'."""
    hs = {"Precision": {"result": "auto", "slope": slope, "shift": shift, "table": "fixed<18,8,TRN,WRAP,0>"},
          "TableSize": 1024, "ReuseFactor": 1, "Trace": False}
    hs.update(extra or {})
    return {"Model": {"Precision": {"default": "fixed<12,4>"}, "ReuseFactor": 1, "Strategy": "Latency",
                      "BramFactor": 1000000000},
            "LayerName": {"hs": hs}}


def etchnn_predict(tmp_path, cfg, name="c.yml", *opts):
    import json
    (tmp_path / name).write_text(json.dumps({"HLSConfig": cfg}))
    return predict(MODEL, events(), tmp_path, "-c", tmp_path / name, *opts)


def test_equals_stored_hls4ml_csim(tmp_path):
    ref = np.load(CSIM).astype(np.float64) / 256
    got = etchnn_predict(tmp_path, hls_config(), "c.yml", "--hls4ml")
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert len(np.unique(ref)) > 200
    # a slope type set at the layer is honoured (hls4ml's own csim ignores it); slope_t says the same
    alt = etchnn_predict(tmp_path, hls_config(slope="fixed<8,3>"), "c2.yml", "--hls4ml")
    assert np.count_nonzero(alt != ref) > 100
    alt_t = etchnn_predict(tmp_path, hls_config(extra={"slope_t": "fixed<8,3>"}), "c3.yml", "--hls4ml")
    assert np.array_equal(alt, alt_t)
    shift = etchnn_predict(tmp_path, hls_config(extra={"shift_t": "ufixed<1,0>"}), "c4.yml", "--hls4ml")
    assert np.array_equal(shift, got)   # 0.5 in ufixed<1,0> is still 0.5
    fl = predict(MODEL, events(), tmp_path, "--float")
    assert np.abs(fl - np.load(KERAS)).max() < 1e-6


def test_slope_keys_only_on_hard_sigmoid(tmp_path):
    import json
    for entry, key in (({"slope_t": "fixed<8,3>"}, "d1.slope_t"), ({"Precision": {"slope": "fixed<8,3>"}},
                                                                   "d1.Precision.slope")):
        (tmp_path / "c.yml").write_text(json.dumps({"Model": {"Precision": "fixed<12,4>"}, "LayerName": {"d1": entry}}))
        r = run("compile", MODEL, "-c", tmp_path / "c.yml", "-o", tmp_path / "out", check=False)
        assert r.returncode != 0 and f"LayerName.{key}: expected it only for a hard_sigmoid layer" in r.stderr, r.stderr
    (tmp_path / "c.yml").write_text(json.dumps({"LayerName": {"hs": {"slope_t": "fixed<8"}}}))
    r = run("compile", MODEL, "-c", tmp_path / "c.yml", "-o", tmp_path / "out", check=False)
    assert r.returncode != 0 and "slope_t" in r.stderr, r.stderr


@pytest.mark.skipif(shutil.which("iverilog") is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
def test_rtl_icarus(tmp_path):
    import json
    (tmp_path / "c.yml").write_text(json.dumps({"HLSConfig": hls_config()}))
    out = tmp_path / "out"
    run("compile", MODEL, "-c", tmp_path / "c.yml", "--hls4ml", "-o", out)
    icarus_bench(out, n=300)


@pytest.mark.extended
def test_stored_reference_is_hls4ml_csim(tmp_path):
    """The stored outputs against a fresh hls4ml 1.3 csim (its Keras 2 reader on the .json and weights)."""
    pytest.importorskip("hls4ml")
    from hls4ml.converters import keras_v2_to_hls
    cfg = {"KerasJson": str(MODEL), "KerasH5": str(MODEL.with_name("hard_sigmoid_k2_weights.h5")),
           "OutputDir": str(tmp_path / "prj"), "ProjectName": "myproject", "Backend": "Vivado",
           "IOType": "io_parallel", "Part": "xcvu13p-flga2577-2-e", "ClockPeriod": 5,
           "HLSConfig": copy.deepcopy(hls_config(slope="fixed<8,3>", extra={"slope_t": "fixed<6,2>"}))}
    with contextlib.redirect_stdout(io.StringIO()):
        hm = keras_v2_to_hls(cfg)
        hm.compile()
    ref = np.asarray(hm.predict(events()), dtype=np.float64).reshape(2000, -1)
    # the slope keys given to hls4ml change nothing there: its types stay ufixed<16,0> / ufixed<2,0>
    defines = (tmp_path / "prj" / "firmware" / "defines.h").read_text()
    assert "ap_ufixed<16,0> slope" in defines and "ap_ufixed<2,0> shift" in defines
    assert np.array_equal(np.load(CSIM), np.round(ref * 256).astype(np.int16))
