"""'auto' precision variables (issue 15 item 4): `--auto-types hls4ml` (set by
--hls4ml, config AutoTypes) types them as hls4ml 1.3 infers them, from the
input, weight and bias types, so that a configuration hls4ml writes
(config_from_keras_model, every result 'auto') gives hls4ml's numbers unchanged.
`--auto-types exact` (the default) keeps the narrowest type holding every value."""

import contextlib
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ETCHNN, MODELS, ROOT, keras3_or_skip, predict, run

sys.path.insert(0, str(ROOT / "python"))   # the etchnn fixture's package: this checkout's

HLS = ["--tables", "hls4ml", "--weight-quant", "hls4ml", "--sat-order", "hls4ml"]


def compile_types(model, out, *args):
    r = subprocess.run([str(ETCHNN), "compile", str(model), "--no-rtl", "-o", str(out), *map(str, args)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    types = {}
    for ln in r.stdout.splitlines():
        m = re.match(r"\s+(\S+)\s+\S+\s+[\dx ]+ x (\S+)$", ln)
        if m:
            types[m.group(1)] = m.group(2)
    return types


def shared(name):
    p = MODELS / "qkeras" / name
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


# ---- the QKeras jet tagger of the issue, no hls4ml needed ----------------------------------------
# hls4ml 1.3 (keras_v2_to_hls of qkeras_3layer with this configuration) typed the Dense layers
# fc1 fixed<27,12>, fc2 fixed<19,8>, fc3 and output fixed<18,7>: the 6-bit weights and biases are
# fixed<6,1> (their quantizers), relu outputs ufixed<6,0>.
QK_CFG = {"Model": {"Precision": {"default": "fixed<16,6>"}, "ReuseFactor": 1, "Strategy": "Latency"},
          "LayerName": {**{n: {"Precision": {"weight": "fixed<6,1>", "bias": "fixed<6,1>", "result": "auto",
                                             "accum": "auto"}} for n in ["fc1", "fc2", "fc3", "output"]},
                        **{n: {"Precision": {"result": "ufixed<6,0,RND_CONV,SAT>"}} for n in ["relu1", "relu2", "relu3"]},
                        "softmax": {"Precision": {"result": "auto"}}}}


def test_qkeras_jet_tagger_auto_types_as_hls4ml(tmp_path):
    cfg = tmp_path / "qk.json"
    cfg.write_text(json.dumps(QK_CFG))
    j = shared("qkeras_3layer.json")
    hls = compile_types(j, tmp_path / "h", "-c", cfg, "--hls4ml")
    assert {k: hls[k] for k in ["fc1", "fc2", "fc3", "output"]} == {
        "fc1": "fixed<27,12>", "fc2": "fixed<19,8>", "fc3": "fixed<18,7>", "output": "fixed<18,7>"}
    assert compile_types(j, tmp_path / "a", "-c", cfg, "--auto-types", "hls4ml") == hls
    exact = compile_types(j, tmp_path / "e", "-c", cfg, *HLS)   # --auto-types exact: from the weights' values
    assert exact["output"] == "fixed<16,5>" and exact["fc1"] == "fixed<24,9>"
    # Model.Precision.maximum caps the inferred widths and integer bits
    capped = dict(QK_CFG, Model=dict(QK_CFG["Model"], Precision={"default": "fixed<16,6>", "maximum": "fixed<20,8>"}))
    cfg.write_text(json.dumps(capped))
    cap = compile_types(j, tmp_path / "c", "-c", cfg, "--hls4ml")
    assert {k: cap[k] for k in ["fc1", "fc2", "output"]} == {"fc1": "fixed<20,8>", "fc2": "fixed<19,8>",
                                                             "output": "fixed<18,7>"}


def test_auto_types_refusals(tmp_path):
    j = shared("qkeras_3layer.json")
    cases = [({"Model": {"AutoTypes": "bogus"}}, "AutoTypes"),
             ({"Model": {"Precision": {"default": "fixed<16,6>", "maximum": "fixed<20,8>"}}},
              "Model.Precision.maximum caps the types hls4ml infers"),
             ({"LayerName": {"fc1": {"Precision": {"maximum": "fixed<20,8>"}}}},
              "is read from Model.Precision only"),
             ({"LayerName": {"fc1": {"Algorithm": "bilinear"}}}, "bilinear is not supported")]
    for cfg, msg in cases:
        (tmp_path / "c.json").write_text(json.dumps(cfg))
        r = run("compile", j, "--no-rtl", "-o", tmp_path / "o", "-c", tmp_path / "c.json", check=False)
        assert r.returncode != 0 and msg in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1, r.stderr   # one line
    r = run("compile", j, "--no-rtl", "-o", tmp_path / "o", "--hls4ml", "--auto-types", "exact", check=False)
    assert r.returncode != 0 and "'--hls4ml' and '--auto-types' set the same thing" in r.stderr, r.stderr
    r = run("compile", j, "--no-rtl", "-o", tmp_path / "o", "--auto-types", "hls", check=False)
    assert r.returncode != 0 and "--auto-types" in r.stderr, r.stderr


def test_python_auto_types(etchnn, tmp_path):
    cfg = dict(QK_CFG)
    fw = etchnn.convert(str(shared("qkeras_3layer.json")), config=cfg, output_dir=str(tmp_path / "p"),
                        auto_types="hls4ml")
    fx = etchnn.convert(str(shared("qkeras_3layer.json")), config=cfg, output_dir=str(tmp_path / "q"),
                        auto_types="exact")
    x = np.random.default_rng(3).uniform(-4, 4, (300, 16))
    a, b = fw.predict(x), fx.predict(x)
    assert a.shape == b.shape == (300, 5) and not np.array_equal(a, b)   # the softmax reads another input type


# ---- hls4ml's own configuration, unchanged, against its C simulation --------------------------------
def _hls4ml_csim(m, tmp_path, x):
    """config_from_keras_model(granularity='name') as hls4ml writes it, unchanged: the configuration (saved
    as YAML), hls4ml's layer types and its csim outputs."""
    hls4ml = pytest.importorskip("hls4ml")
    yaml = pytest.importorskip("yaml")
    m.save(tmp_path / "m.keras")
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado")
        (tmp_path / "cfg.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        hm = hls4ml.converters.convert_from_keras_model(m, output_dir=str(tmp_path / "prj"), io_type="io_parallel",
                                                        backend="Vivado", hls_config=cfg, allow_da_fallback=False)
        hm.compile()
    types = {L.name: str(L.types["result_t"].precision) for L in hm.get_layers()}
    ref = np.asarray(hm.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
    return types, ref


def _check_equal(m, x, tmp_path):
    types, ref = _hls4ml_csim(m, tmp_path, x)
    ours = compile_types(tmp_path / "m.keras", tmp_path / "o", "-c", tmp_path / "cfg.yml", "--hls4ml")
    for name, t in ours.items():   # every layer etchnn lists has hls4ml's result type (modes TRN, WRAP dropped)
        if name in types:
            assert re.sub(r",TRN,WRAP,0>$", ">", types[name]) == t, (name, types[name], t)
    got = predict(tmp_path / "m.keras", x, tmp_path, "-c", tmp_path / "cfg.yml", "--hls4ml").reshape(len(x), -1)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    exact = predict(tmp_path / "m.keras", x, tmp_path, "-c", tmp_path / "cfg.yml", *HLS).reshape(len(x), -1)
    return int(np.count_nonzero(exact != ref))


def _round_weights(m):
    for L in m.layers:
        for w in L.weights:
            w.assign(np.round(np.asarray(w) * 64) / 64)


def test_keras_merges_and_activations_config_unchanged_equal_hls4ml_csim(tmp_path):
    """BatchNormalization as its own layer, Subtract / Add / Maximum / Concatenate of two Dense results,
    LeakyReLU and ELU (alpha types from their values), PReLU (slopes in the input type), a softmax reading
    a 37-bit Dense result."""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(1)
    L = keras.layers
    i = keras.Input((16,), name="inp")
    h = L.Activation("relu", name="r0")(L.BatchNormalization(name="bn")(i))
    a, b = L.Dense(8, name="da")(h), L.Dense(8, name="db")(h)
    c = L.Concatenate(name="cat")([L.Add(name="add")([a, b]), L.Maximum(name="mx")([a, L.Subtract(name="sub")([a, b])])])
    h = L.PReLU(name="prelu", alpha_initializer=keras.initializers.RandomUniform(0.05, 0.4))(
        L.LeakyReLU(negative_slope=0.3, name="lrelu")(c))
    h = L.ELU(alpha=0.7, name="elu")(L.Dense(8, name="d3")(h))
    m = keras.Model(i, L.Activation("softmax", name="sm")(L.Dense(4, name="out")(h)))
    _round_weights(m)
    for w, v in zip(m.get_layer("bn").weights, [1.5, 0.25, 0.5, 2.0]):   # gamma, beta, mean, variance
        w.assign(np.full(w.shape, v))
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-4, 4, (5000, 16)), rng.standard_normal((5000, 16)) * 2])
    differ_exact = _check_equal(m, x, tmp_path)
    assert differ_exact > 1000   # the exact 'auto' types give other numbers here


@pytest.mark.extended   # a second hls4ml csim build (make test-extended)
def test_keras_conv_pooling_config_unchanged_equal_hls4ml_csim(tmp_path):
    """ZeroPadding2D, Conv2D, AveragePooling2D (its accumulator), UpSampling2D, MaxPooling2D, Flatten and a
    Dense reading them: 60-bit inferred types."""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(2)
    L = keras.layers
    i = keras.Input((6, 6, 2), name="inp")
    h = L.Conv2D(3, 3, name="conv")(L.ZeroPadding2D(1, name="pad")(i))
    h = L.MaxPooling2D(2, name="mx")(L.UpSampling2D(2, name="up")(L.AveragePooling2D(2, name="avg")(h)))
    m = keras.Model(i, L.Dense(4, name="out")(L.Flatten(name="fl")(h)))
    _round_weights(m)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-4, 4, (3000, 72)), rng.standard_normal((3000, 72)) * 2]).reshape(-1, 6, 6, 2)
    _check_equal(m, x, tmp_path)
