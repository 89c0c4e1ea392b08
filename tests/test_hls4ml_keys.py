"""Keys hls4ml 1.3's own tests write into its configuration, accepted with hls4ml's meaning (issue 15 item 4):
a softmax's Strategy (stable, latency, argmax: an attribute hls4ml's softmax does not read) and its layer keys
accum_t / inv_inp_t / exp_table_t / inv_table_t (set after Precision is read, so they win over it); table_size
and TableSize in one entry (hls4ml snake-cases both, the later wins); Strategy at the top level (read by nothing);
Model.ConvImplementation (io_stream only); ac_fixed / ac_int spellings.  The softmax numbers are checked against
hls4ml's csim stored in tests/ref/csim/softmax_keys.npz (rebuilt and compared by the extended test)."""
import contextlib
import io
import pathlib

import numpy as np
import pytest

from conftest import ROOT, keras3_or_skip, predict, run

JET = ROOT / "examples" / "jet_tagger.onnx"   # input, fc1, relu1, fc2, relu2, fc3, relu3, output, softmax
CSIM = pathlib.Path(__file__).parent / "ref" / "csim" / "softmax_keys.npz"
SOFTMAX8 = pathlib.Path(__file__).parent / "ref" / "models" / "softmax8.keras"   # a lone softmax on 8 inputs
SCALE = 1 << 10   # the softmax's result type fixed<16,6>: outputs are multiples of 2^-10

# hls4ml's test_softmax edits of config_from_keras_model's name-granularity config (the input layer's result
# fixed<16,6>): the softmax's Strategy and its table/accumulator types as layer keys (the accumulator and
# inv_inp types narrowed here so that taking them or not shows in the outputs)
T18, T9 = "fixed<18,8, RND, SAT>", "fixed<9,6, RND, SAT>"
EDITS = {
    "latency_accum": {"Strategy": "latency", "inv_table_t": T18, "exp_table_t": T18, "accum_t": "fixed<14,5>",
                      "inv_inp_t": "fixed<18,8>"},
    "argmax_table9": {"Strategy": "argmax", "inv_table_t": T9, "exp_table_t": T9, "accum_t": T9, "inv_inp_t": T9},
    "stable_accum": {"Strategy": "stable", "inv_table_t": T18, "exp_table_t": T18, "accum_t": "fixed<19,9>",
                     "inv_inp_t": "fixed<10,5>"},
}


def _inputs(n=2000):
    rng = np.random.default_rng(5)
    d = rng.normal(0, 2, (n, 8))
    mod = rng.uniform(size=d.shape) < 0.05
    d[mod] = d[mod] * 5 + 10
    return np.clip(d, -32, 31)


def _softmax_model(tmp_path):
    keras = keras3_or_skip()
    m = keras.Sequential([keras.Input((8,)), keras.layers.Activation("softmax", name="softmax")])
    m.save(tmp_path / "m.keras")
    return m   # tests/ref/models/softmax8.keras is one such file


def _hls4ml_cfg(hls4ml, m, edit):
    c = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado")
    c["LayerName"]["softmax"].update(edit)
    first = next(iter(c["LayerName"]))
    c["LayerName"][first]["Precision"]["result"] = "fixed<16,6>"
    return c


def _yaml(path, cfg):
    yaml = pytest.importorskip("yaml")
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _stored_cfg(tmp_path, name, drop=()):
    """config_from_keras_model's config for the lone softmax as hls4ml 1.3 writes it, with EDITS[name] added."""
    sm = {"Trace": False, "Precision": {"result": "auto", "table": "fixed<18,8,TRN,WRAP,0>",
                                        "exp_table": "fixed<18,8,RND,SAT,0>", "inv_table": "fixed<18,8,RND,SAT,0>",
                                        "inv_inp": "fixed<18,8,RND,SAT,0>", "accum": "fixed<18,8,RND,SAT,0>"},
          "ReuseFactor": 1, "TableSize": 1024, "Implementation": "stable", "Skip": False}
    sm.update({k: v for k, v in EDITS[name].items() if k not in drop})
    cfg = {"Model": {"Precision": {"default": "fixed<16,6>"}, "ReuseFactor": 1, "Strategy": "Latency",
                     "BramFactor": 1000000000, "TraceOutput": False},
           "LayerName": {"softmax": sm}}   # the input layer's result: the default, fixed<16,6>
    return _yaml(tmp_path / f"{name}.yml", cfg)


@pytest.mark.parametrize("name", sorted(EDITS))
def test_softmax_keys_equal_stored_hls4ml_csim(name, tmp_path):
    """etchnn predict --hls4ml with hls4ml's test_softmax keys equals hls4ml 1.3's csim (stored) on 2,000 inputs;
    the accum_t / inv_inp_t / table keys are taken (without them the outputs differ) and Strategy changes nothing"""
    m = SOFTMAX8
    x, ref = _inputs(), np.load(CSIM)[name].astype(np.float64) / SCALE
    r = run("predict", m, "--input", _npy(tmp_path, x), "--output", tmp_path / "y.npy",
            "-c", _stored_cfg(tmp_path, name), "--hls4ml")
    got = np.load(tmp_path / "y.npy")
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert f"LayerName.softmax.Strategy: '{EDITS[name]['Strategy']}' accepted" in r.stderr or name == "latency_accum"
    same = predict(m, x, tmp_path, "-c", _stored_cfg(tmp_path, name, drop=("Strategy",)), "--hls4ml")
    assert np.array_equal(same, ref)
    without = predict(m, x, tmp_path, "-c",
                      _stored_cfg(tmp_path, name, drop=("accum_t", "inv_inp_t", "exp_table_t", "inv_table_t")),
                      "--hls4ml")
    assert np.count_nonzero(without != ref) > 0


def _npy(tmp_path, x):
    np.save(tmp_path / "x.npy", np.asarray(x, dtype=np.float64))
    return tmp_path / "x.npy"


def csim_outputs(tmp_path):
    """hls4ml 1.3's csim of the lone softmax under each of EDITS, as fixed<16,6> codes."""
    hls4ml = pytest.importorskip("hls4ml")
    m, x, out = _softmax_model(tmp_path), _inputs(), {}
    for name, edit in EDITS.items():
        with contextlib.redirect_stdout(io.StringIO()):
            cfg = _hls4ml_cfg(hls4ml, m, edit)
            hm = hls4ml.converters.convert_from_keras_model(m, output_dir=str(tmp_path / f"prj_{name}"), backend="Vivado",
                                                            io_type="io_parallel", hls_config=cfg)
            hm.compile()
        y = np.asarray(hm.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
        assert np.array_equal(np.round(y * SCALE), y * SCALE)
        out[name] = np.round(y * SCALE).astype(np.int32)
    return out


@pytest.mark.extended
def test_stored_csim_is_hls4ml_csim(tmp_path):
    stored = np.load(CSIM)
    for name, codes in csim_outputs(tmp_path).items():
        assert np.array_equal(stored[name], codes), name


def _cfg(tmp_path, text, name="c.yml"):
    (tmp_path / name).write_text(text)
    return tmp_path / name


def _jet_x():
    return np.random.default_rng(1).uniform(-2, 2, (300, 16))


def test_strategy_stable_only_on_a_softmax(tmp_path):
    for text, msg in [
        ("LayerName:\n  fc1:\n    Strategy: stable\n",
         "LayerName.fc1.Strategy: expected one of Latency, Resource, got 'stable' (stable and argmax on a softmax "
         "layer only; this is a Gemm layer)"),
        ("LayerType:\n  Dense:\n    Strategy: argmax\n",
         "LayerType.Dense.Strategy: expected one of Latency, Resource, got 'argmax'"),
        ("Model:\n  Strategy: stable\n", "Model.Strategy: expected one of Latency, Resource, got 'stable'"),
        ("LayerName:\n  softmax:\n    Strategy: legacy\n",
         "LayerName.softmax.Strategy: expected one of Latency, Resource, stable, argmax (stable and argmax on a "
         "softmax layer only), got 'legacy'"),
        ("Strategy: [latency]\n", "Strategy: expected a string, got a list"),
    ]:
        r = run("compile", JET, "-c", _cfg(tmp_path, text), "-o", tmp_path / "o", "--no-rtl", check=False)
        assert r.returncode == 2 and msg in r.stderr, (text, r.stderr)


def test_top_level_strategy_and_conv_implementation_change_nothing(tmp_path):
    x = _jet_x()
    base = "Model:\n  Precision: fixed<16,6>\n"
    ref = predict(JET, x, tmp_path, "-c", _cfg(tmp_path, base))
    for extra, note in [("Strategy: resource\n", "Strategy: 'resource' at the top level accepted; it changes nothing"),
                        ("LayerType:\n  Softmax:\n    Strategy: stable\n",
                         "LayerType.Softmax.Strategy: 'stable' accepted; it changes nothing"),
                        ("", "Model.ConvImplementation: Encoded accepted; it changes nothing under io_parallel")]:
        text = base + ("  ConvImplementation: Encoded\n" if not extra else "") + extra
        r = run("predict", JET, "--input", _npy(tmp_path, x), "--output", tmp_path / "y2.npy", "-c", _cfg(tmp_path, text))
        assert np.array_equal(np.load(tmp_path / "y2.npy"), ref) and note in r.stderr, (text, r.stderr)
    # io_stream builds line buffers: Encoded is refused there, LineBuffer (any case, as hls4ml lowercases it) is not
    enc = _cfg(tmp_path, base + "  ConvImplementation: encoded\n", "enc.yml")
    r = run("compile", JET, "-c", enc, "-o", tmp_path / "s", "--io", "stream", check=False)
    assert r.returncode != 0 and "Model.ConvImplementation: expected LineBuffer under io_stream, got Encoded" in r.stderr
    assert not (tmp_path / "s").exists()
    run("compile", JET, "-c", _cfg(tmp_path, base + "  ConvImplementation: linebuffer\n", "lb.yml"), "-o",
        tmp_path / "s2", "--io", "stream", "--emit", "c")
    r = run("compile", JET, "-c", _cfg(tmp_path, base + "  ConvImplementation: Pointwise\n", "pw.yml"), "-o",
            tmp_path / "s3", check=False)
    assert r.returncode == 2 and "expected one of LineBuffer, Encoded (hls4ml's Pointwise is not supported)" in r.stderr


def test_ac_fixed_spellings_are_their_ap_types(tmp_path):
    """hls4ml reads ac_fixed<W,I> as signed (ac_fixed<W,I,false> unsigned) and writes the ap_fixed of the same
    parameters for Vivado: the same outputs as the ap spelling"""
    x = _jet_x()
    for ac, ap in [("ac_fixed<16, 6>", "ap_fixed<16,6>"), ("ac_fixed<12,4,true,AC_RND,AC_SAT>", "fixed<12,4,RND,SAT>")]:
        ref = predict(JET, x, tmp_path, "-c", _cfg(tmp_path, f"Model:\n  Precision: {ap}\n"))
        got = predict(JET, x, tmp_path, "-c", _cfg(tmp_path, f"Model:\n  Precision: '{ac}'\n"))
        assert np.array_equal(got, ref), ac
    relu = "Model:\n  Precision: fixed<16,6>\nLayerName:\n  relu1:\n    Precision:\n      result: '{}'\n"
    ref = predict(JET, x, tmp_path, "-c", _cfg(tmp_path, relu.format("ufixed<8,3>")))
    assert np.array_equal(predict(JET, x, tmp_path, "-c", _cfg(tmp_path, relu.format("ac_fixed<8,3,false>"))), ref)
    assert not np.array_equal(predict(JET, x, tmp_path, "-c", _cfg(tmp_path, relu.format("ac_fixed<8,3,true>"))), ref)
    r = run("compile", JET, "-c", _cfg(tmp_path, "Model:\n  Precision: ac_fixed<8,3,AC_RND>\n"), "-o", tmp_path / "o",
            check=False)
    assert r.returncode == 2 and "ac_fixed<W,I,S,AC_Q,AC_O>" in r.stderr


def test_layer_keys_later_spelling_wins_and_accum_t(tmp_path):
    """table_size / TableSize, Implementation / implementation: hls4ml snake-cases both, the later in the entry
    wins (one line says so); accum_t wins over Precision.accum, in a Dense as in a softmax"""
    x = _jet_x()
    sm = "Model:\n  Precision: fixed<16,6>\nLayerName:\n  softmax:\n{}"
    y = {}
    for tag, keys in [("512", "    table_size: 512\n"), ("2048", "    table_size: 2048\n"),
                      ("then", "    TableSize: 2048\n    table_size: 512\n"), ("else", "    table_size: 512\n    TableSize: 2048\n")]:
        r = run("predict", JET, "--input", _npy(tmp_path, x), "--output", tmp_path / f"{tag}.npy", "-c",
                _cfg(tmp_path, sm.format(keys)), "--hls4ml")
        y[tag] = np.load(tmp_path / f"{tag}.npy")
        if tag in ("then", "else"):
            later = "table_size: 512" if tag == "then" else "TableSize: 2048"
            assert f"the later, {later}, is taken (hls4ml reads both as 'table_size')" in r.stderr, r.stderr
    assert not np.array_equal(y["512"], y["2048"])
    assert np.array_equal(y["then"], y["512"]) and np.array_equal(y["else"], y["2048"])
    impl = {k: predict(JET, x, tmp_path, "-c", _cfg(tmp_path, sm.format(v)), "--hls4ml")
            for k, v in [("lat", "    Implementation: latency\n"),
                         ("both", "    Implementation: stable\n    implementation: latency\n"),
                         ("st", "    Implementation: stable\n")]}
    assert np.array_equal(impl["both"], impl["lat"]) and not np.array_equal(impl["lat"], impl["st"])
    fc = "Model:\n  Precision: fixed<16,6>\nLayerName:\n  fc1:\n    Precision:\n      accum: {}\n{}"
    narrow = predict(JET, x, tmp_path, "-c", _cfg(tmp_path, fc.format("fixed<10,2>", "")))
    wide = predict(JET, x, tmp_path, "-c", _cfg(tmp_path, fc.format("fixed<30,12>", "")))
    assert not np.array_equal(narrow, wide)
    keyed = predict(JET, x, tmp_path, "-c", _cfg(tmp_path, fc.format("fixed<30,12>", "    accum_t: fixed<10,2>\n")))
    assert np.array_equal(keyed, narrow)


def _onnx_gemm_relu(path):
    """x (4) -> Gemm 'Gemm_0' (3) -> Relu 'Relu_1', as a qonnx-cleaned graph names its nodes (hls4ml keeps the case)"""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    w = np.array([[0.75, -1.5, 0.3125], [1.25, 0.5, -0.625], [-0.875, 1.0, 0.25], [0.5, -0.25, 1.5]], dtype=np.float32)
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "B"], ["h"], name="Gemm_0"), helper.make_node("Relu", ["h"], ["y"], name="Relu_1")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor("W", TensorProto.FLOAT, [4, 3], w.ravel()),
         helper.make_tensor("B", TensorProto.FLOAT, [3], [0.125, -0.25, 0.0625])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_onnx_layer_names_as_hls4ml_writes_them(tmp_path):
    """hls4ml names an ONNX layer by its node's name, case kept; etchnn's names are lower case: a LayerName entry
    reaches the node by either"""
    m = _onnx_gemm_relu(tmp_path / "m.onnx")
    x = np.random.default_rng(2).uniform(-3, 3, (500, 4))
    cfg = "Model:\n  Precision: fixed<16,6>\nLayerName:\n  {}:\n    Precision:\n      result: fixed<6,2,RND,SAT>\n"
    base = predict(m, x, tmp_path, "-c", _cfg(tmp_path, "Model:\n  Precision: fixed<16,6>\n"))
    low = predict(m, x, tmp_path, "-c", _cfg(tmp_path, cfg.format("gemm_0")))
    assert not np.array_equal(low, base)
    assert np.array_equal(predict(m, x, tmp_path, "-c", _cfg(tmp_path, cfg.format("Gemm_0"))), low)
    r = run("compile", m, "-c", _cfg(tmp_path, cfg.format("Gemm_9")), "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and "unknown layer 'LayerName.Gemm_9'" in r.stderr
