"""hls4ml's softmax Implementation latency and argmax, and Skip: true (issue 15 item 4): the emulator
against hls4ml 1.3's C simulation with its own configuration (config_from_keras_model, granularity
'name', the softmax layer's key set), the generated C against the emulator, the RTL in Icarus, and the
refusals."""
import contextlib
import io
import shutil

import numpy as np
import pytest

from conftest import icarus_bench, keras3_or_skip, predict, run
from test_cemu import c_and_emulator


def _model(keras, seed=3):
    """8 inputs, Dense relu, Dense 5, a softmax layer 'sm'; weights on a 1/64 (d2: 1/512) grid."""
    keras.utils.set_random_seed(seed)
    L = keras.layers
    i = keras.Input((8,), name="inp")
    h = L.Dense(8, activation="relu", name="d1")(i)
    m = keras.Model(i, L.Activation("softmax", name="sm")(L.Dense(5, name="d2")(h)))
    for layer in m.layers:   # d2 scaled down: its outputs within about +-4, where exp does not saturate
        for w in layer.weights:
            w.assign(np.round(np.asarray(w) * 64) / (64 if layer.name != "d2" else 512))
    return m


def _inputs(n=10000, width=8):
    rng = np.random.default_rng(0)
    return np.concatenate([rng.uniform(-4, 4, (n // 2, width)), rng.standard_normal((n - n // 2, width)) * 2])


def _csim_equal(tmp_path, key, value):
    """hls4ml's configuration with the softmax layer's `key` set to `value` (and d2's result type): its csim equals
    `etchnn predict --hls4ml -c cfg` on 10,000 inputs; returns the outputs."""
    keras = keras3_or_skip()
    hls4ml = pytest.importorskip("hls4ml")
    yaml = pytest.importorskip("yaml")
    m = _model(keras)
    m.save(tmp_path / "m.keras")
    x = _inputs()
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado")
        cfg["LayerName"]["sm"][key] = value
        # the softmax's input: 12 bits (the 'auto' 36-bit sum would leave latency's 10-bit index two values)
        cfg["LayerName"]["d2"]["Precision"]["result"] = "fixed<12,4>"
        (tmp_path / "cfg.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        hm = hls4ml.converters.convert_from_keras_model(m, output_dir=str(tmp_path / "prj"), io_type="io_parallel",
                                                        backend="Vivado", hls_config=cfg)
        hm.compile()
    ref = np.asarray(hm.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
    got = predict(tmp_path / "m.keras", x, tmp_path, "-c", tmp_path / "cfg.yml", "--hls4ml").reshape(len(x), -1)
    assert got.shape == ref.shape
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    return got


def test_softmax_latency_equals_hls4ml_csim(tmp_path):
    got = _csim_equal(tmp_path, "Implementation", "latency")
    assert len(np.unique(got)) > 50   # not a constant: the tables are read
    c = tmp_path / "cfg.yml"
    c.write_text(c.read_text().replace("Implementation: latency", "Implementation: stable"))
    stable = predict(tmp_path / "m.keras", _inputs(), tmp_path, "-c", c, "--hls4ml").reshape(got.shape)
    assert np.count_nonzero(stable != got) > 1000   # another computation than 'stable'


@pytest.mark.extended   # further hls4ml csim builds (make test-extended)
def test_softmax_argmax_equals_hls4ml_csim(tmp_path):
    got = _csim_equal(tmp_path, "Implementation", "argmax")
    assert set(np.unique(got)) == {0.0, 1.0} and np.all(got.sum(axis=1) == 1)


@pytest.mark.extended
def test_softmax_skip_equals_hls4ml_csim(tmp_path):
    got = _csim_equal(tmp_path, "Skip", True)
    assert np.count_nonzero(got < 0) > 1000   # the Dense's outputs, not probabilities


def _cfg(tmp_path, impl):
    """d2's result in 6 bits: equal maxima (ties) are frequent"""
    c = tmp_path / f"{impl}.yml"
    c.write_text("Model:\n  Precision: fixed<16,6>\nLayerName:\n  d2:\n    Precision:\n      result: fixed<6,3>\n"
                 "  sm:\n    Precision:\n      result: fixed<18,8>\n"
                 f"    {'Skip: true' if impl == 'skip' else 'Implementation: ' + impl}\n")
    return c


@pytest.mark.parametrize("impl", ["latency", "argmax"])
def test_softmax_impl_c_equals_emulator(impl, tmp_path):
    keras = keras3_or_skip()
    _model(keras).save(tmp_path / "m.keras")
    x = _inputs(4000)
    got, ref = c_and_emulator(tmp_path / "m.keras", "m", x, tmp_path, "-c", _cfg(tmp_path, impl))
    assert got.shape == ref.shape and np.count_nonzero(got != ref) == 0
    if impl == "argmax":   # one-hot at the first maximum of the logits (the softmax skipped), ties included
        assert np.all(ref.sum(axis=1) == 1)
        logits = predict(tmp_path / "m.keras", x, tmp_path, "-c", _cfg(tmp_path, "skip"))
        assert np.array_equal(ref.argmax(axis=1), logits.argmax(axis=1))
        assert np.count_nonzero((logits == logits.max(axis=1, keepdims=True)).sum(axis=1) > 1) > 100
    # the interval analysis bounds the softmax's outputs (argmax: exactly [0, 1])
    from test_intervals import intervals
    _, _, layers = intervals(tmp_path / "m.keras", ["config", str(_cfg(tmp_path, impl))])
    name, _, _, lo, hi, _, _ = layers[-1]
    assert name == "sm" and lo <= ref.min() and ref.max() <= hi, (lo, hi, ref.min(), ref.max())
    if impl == "argmax":
        assert (lo, hi) == (0, 1)


@pytest.mark.parametrize("impl", ["latency", pytest.param("argmax", marks=pytest.mark.extended)])   # CI time
def test_softmax_impl_hls_csim_equals_predict(impl, tmp_path):
    """the HLS C++ project (--hls): its C simulation (g++, hls4ml's ap_types) equals etchnn predict exactly"""
    from test_hls import csim_equals_predict
    keras = keras3_or_skip()
    _model(keras).save(tmp_path / "m.keras")
    hls, name = csim_equals_predict(tmp_path / "m.keras", tmp_path, ("-c", str(_cfg(tmp_path, impl))), x=_inputs(1000))
    cpp = (hls / "firmware" / f"{name}.cpp").read_text()
    assert ("argmax" in cpp) == (impl == "argmax") and ("mx - x0" in cpp) is False


@pytest.mark.skipif(not shutil.which("iverilog"), reason="needs Icarus Verilog")
@pytest.mark.parametrize("impl", ["latency", "argmax"])
def test_softmax_impl_rtl_icarus_and_lint(impl, tmp_path):
    keras = keras3_or_skip()
    _model(keras).save(tmp_path / "m.keras")
    out = tmp_path / "out"
    run("compile", tmp_path / "m.keras", "-o", out, "-c", _cfg(tmp_path, impl))
    icarus_bench(out, n=500)
    if shutil.which("verilator"):
        import subprocess
        rtl = out / "rtl"
        r = subprocess.run(["verilator", "--lint-only", "-Wall", "-f", "files.f", "--top-module", "m"], cwd=rtl,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.skipif(not shutil.which("iverilog"), reason="needs Icarus Verilog")
@pytest.mark.parametrize("impl", [pytest.param("latency", marks=pytest.mark.extended), "argmax"])   # CI time
def test_softmax_impl_io_stream_icarus(impl, tmp_path):
    """io_stream: the softmax reads the whole vector after the stream's collector, with the same circuit"""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(1)
    L = keras.layers
    i = keras.Input((4, 4, 1), name="inp")
    h = L.Flatten(name="fl")(L.Conv2D(2, 3, activation="relu", name="conv")(i))
    keras.Model(i, L.Activation("softmax", name="sm")(L.Dense(4, name="d2")(h))).save(tmp_path / "m.keras")
    c = tmp_path / "c.yml"
    c.write_text(f"IOType: io_stream\nModel:\n  Precision: fixed<12,4>\nLayerName:\n  sm:\n    Implementation: {impl}\n")
    run("compile", tmp_path / "m.keras", "-o", tmp_path / "out", "-c", c)
    icarus_bench(tmp_path / "out", n=300)


def test_softmax_impl_refusals(tmp_path):
    keras = keras3_or_skip()
    _model(keras).save(tmp_path / "m.keras")
    cases = [("LayerName:\n  sm:\n    Implementation: legacy\n", "Implementation"),
             ("LayerName:\n  d2:\n    Skip: true\n", "expected a softmax layer"),
             ("Model:\n  Skip: true\n", "unknown key 'Model.Skip'"),
             ("LayerName:\n  sm:\n    Implementation: latency\n    Tables: exact\n", "Tables: hls4ml"),
             ("LayerName:\n  sm:\n    Implementation: fast\n", "expected one of"),
             ("LayerName:\n  d2:\n    skip: true\n", "expected a softmax layer")]
    i = keras.Input((4,), name="inp")   # a softmax on the model's input cannot be left out
    keras.Model(i, keras.layers.Activation("softmax", name="sm")(i)).save(tmp_path / "bare.keras")
    c = tmp_path / "bare.yml"
    c.write_text("LayerName:\n  sm:\n    Skip: true\n")
    r = run("compile", tmp_path / "bare.keras", "-o", tmp_path / "ob", "-c", c, check=False)
    assert r.returncode != 0 and "node 'sm' (Activation): Skip: true: expected the softmax to follow a layer" in r.stderr
    for k, (text, msg) in enumerate(cases):
        c = tmp_path / f"c{k}.yml"
        c.write_text(text)
        r = run("compile", tmp_path / "m.keras", "-o", tmp_path / f"o{k}", "-c", c, check=False)
        assert r.returncode != 0 and msg in r.stderr, (text, r.stderr)


def test_lowercase_skip_as_hls4ml_tests_write_it(tmp_path):
    """hls4ml reads layer keys in snake case (its own softmax test writes 'skip'): 'skip: true' leaves the softmax
    out as 'Skip: true' does, in LayerName and LayerType entries"""
    keras = keras3_or_skip()
    _model(keras).save(tmp_path / "m.keras")
    x = _inputs(500)
    ref = predict(tmp_path / "m.keras", x, tmp_path, "-c", _cfg(tmp_path, "skip"))
    c = tmp_path / "lower.yml"
    c.write_text(_cfg(tmp_path, "skip").read_text().replace("Skip: true", "skip: true"))
    assert np.array_equal(predict(tmp_path / "m.keras", x, tmp_path, "-c", c), ref)
    c.write_text("Model:\n  Precision: fixed<16,6>\nLayerName:\n  d2:\n    Precision:\n      result: fixed<6,3>\n"
                 "LayerType:\n  Softmax:\n    skip: true\n")
    assert np.array_equal(predict(tmp_path / "m.keras", x, tmp_path, "-c", c), ref)
    assert not np.array_equal(predict(tmp_path / "m.keras", x, tmp_path, "-c", _cfg(tmp_path, "latency")), ref)
    # config_from_keras_model writes Skip: false, hls4ml's test then adds skip: true; hls4ml reads both as 'skip',
    # the later wins (one line says so)
    c.write_text(_cfg(tmp_path, "skip").read_text().replace("Skip: true", "Skip: false\n    skip: true"))
    r = run("predict", tmp_path / "m.keras", "--input", tmp_path / "x.npy", "--output", tmp_path / "y2.npy", "-c", c)
    assert np.array_equal(np.load(tmp_path / "y2.npy"), ref) and "the later, skip: true, is taken" in r.stderr
