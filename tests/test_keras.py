"""The Keras front end: --float equals Keras 3 itself (torch backend) on
10,000 inputs; fixed point equals the same model read from ONNX and
hls4ml's C simulation; Keras 3's own .keras / .h5 / json+weights files;
bad files give one clear message and exit status 2."""
import json
import os
import sys
import zipfile

import numpy as np
import pytest

from conftest import MODELS, ROOT, icarus_bench, predict, run

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(ROOT / "tests" / "ref"))

N = 10000
KDIR = MODELS / "keras"

# (architecture, weights)
SHARED = [
    ("KERAS_3layer", "KERAS_3layer_weights"),
    ("KERAS_3layer", "KERAS_3layer_70pruned_retrained_weights"),
    ("KERAS_3layer", "KERAS_3layer_95pruned_retrained_weights"),
    ("KERAS_1layer", "KERAS_1layer_weights"),
    ("KERAS_3layer_batch_norm", "KERAS_3layer_batch_norm_weights"),
    ("KERAS_dense_16x100x100x100x100x100x5", "KERAS_dense_16x100x100x100x100x100x5_weights"),
]


def shared(name, weights):
    j, w = KDIR / f"{name}.json", KDIR / f"{weights}.h5"
    if not j.exists() or not w.exists():
        pytest.skip(f"shared model {j} not present")
    return j, w


def inputs(width, seed, n=N):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-4, 4, (n // 2, width)), rng.standard_normal((n - n // 2, width)) * 2])


@pytest.fixture(scope="module")
def keras3():
    """Keras 3, torch backend, float32 (its default).  Keras's torch matmul
    does not compute in float64 even with floatx float64 (measured: 5e-7
    errors), so the reference is float32 and the tolerance is 1e-5 relative
    or 1e-5 absolute (outputs here are O(1): probabilities and activations)."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    return keras


TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,weights", SHARED, ids=[w for _, w in SHARED])
def test_float_equals_keras(name, weights, keras3, tmp_path):
    from keras_ref import keras2_model

    j, w = shared(name, weights)
    model = keras2_model(j, w)
    x = inputs(model.inputs[0].shape[1], seed=len(weights))
    ref = np.asarray(model.predict(x.astype(np.float32), verbose=0, batch_size=2000), dtype=np.float64)
    got = predict(j, x, tmp_path, "--float", "--weights", w)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, **TOL)


def test_weights_found_beside_json(tmp_path):
    """NAME_weights.h5 beside NAME.json is found without --weights; --weights overrides it."""
    j, w = shared("KERAS_3layer", "KERAS_3layer_weights")
    _, w95 = shared("KERAS_3layer", "KERAS_3layer_95pruned_retrained_weights")
    x = inputs(16, 1, 200)
    a = predict(j, x, tmp_path, "--float")
    b = predict(j, x, tmp_path, "--float", "--weights", w)
    c = predict(j, x, tmp_path, "--float", "--weights", w95)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("precision", ["fixed<16,6>", "fixed<8,3>", "fixed<12,4,RND_CONV,SAT>"])
def test_fixed_equals_onnx_export(precision, tmp_path):
    """onnx/three_layer_keras.onnx holds KERAS_3layer's weights: the two
    front ends must give the same graph, so the same bits."""
    j, _ = shared("KERAS_3layer", "KERAS_3layer_weights")
    onnx = MODELS / "onnx" / "three_layer_keras.onnx"
    if not onnx.exists():
        pytest.skip("three_layer_keras.onnx not present")
    x = inputs(16, 7)
    # hls4ml's tables and weights, the exact sum (--hls4ml's order of saturating additions puts an ONNX
    # Dense's bias last, as hls4ml's split MatMul+Add does, a Keras Dense's first)
    opts = ("--tables", "hls4ml", "--weight-quant", "hls4ml")
    a = predict(j, x, tmp_path, "--precision", precision, *opts)
    b = predict(onnx, x, tmp_path, "--precision", precision, *opts)
    assert np.array_equal(a, b)


def test_layer_names_are_keras_names(tmp_path):
    """LayerName configs use Keras layer names (and hls4ml's NAME_ACTIVATION
    for the activation split off a Dense)."""
    j, _ = shared("KERAS_3layer", "KERAS_3layer_weights")
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  Precision: fixed<16,6>\nLayerName:\n  fc1_relu:\n    Precision:\n      result: fixed<6,2>\n"
                   "  fc1_relu_relu:\n    Precision:\n      result: ufixed<4,2>\n")
    r = run("compile", j, "-c", cfg, "-o", tmp_path / "out")
    assert "fc1_relu_relu" in r.stdout and "ufixed<4,2>" in r.stdout
    x = inputs(16, 2, 500)
    assert not np.array_equal(predict(j, x, tmp_path, "-c", cfg), predict(j, x, tmp_path))


# ---- hls4ml ------------------------------------------------------------

HLS_CASES = ["fixed<16,6>", "fixed<8,3>",
             {"weight": "fixed<16,6>", "bias": "fixed<16,6>", "result": "fixed<18,8>", "accum": "fixed<18,8>"},
             {"weight": "fixed<16,6,RND_CONV,SAT>", "bias": "fixed<16,6,RND_CONV,SAT>",
              "result": "fixed<16,6,RND_CONV,SAT>", "accum": "fixed<32,12>"}]


def _config_for(precision, tmp_path):
    if isinstance(precision, str):
        return ["--precision", precision]
    cfg = tmp_path / "prec.yml"
    cfg.write_text("Model:\n  Precision:\n" + "".join(f"    {k}: {v}\n" for k, v in precision.items()))
    return ["-c", cfg]


@pytest.mark.parametrize("precision", HLS_CASES, ids=[json.dumps(p) for p in HLS_CASES])
def test_equals_hls4ml_csim(precision, tmp_path):
    pytest.importorskip("hls4ml")
    pytest.importorskip("keras")
    from hls4ml_keras_predict import hls4ml_keras_predict

    j, w = shared("KERAS_3layer", "KERAS_3layer_weights")
    x = inputs(16, 5)
    ref = hls4ml_keras_predict(str(j), str(w), precision, x)
    got = predict(j, x, tmp_path, "--hls4ml", *_config_for(precision, tmp_path))
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, (f"{len(bad)} of {got.size} outputs differ; first: event {bad[0][0]}: "
                           f"hls4ml {ref[tuple(bad[0])]!r}, etchnn {got[tuple(bad[0])]!r}")


@pytest.mark.parametrize("precision", ["fixed<16,6>", pytest.param("fixed<12,4>", marks=pytest.mark.extended)])
def test_batchnorm_folds_where_hls4ml_folds(precision, tmp_path):
    """hls4ml folds a BatchNormalization into the Dense before it only when that Dense's result type is
    'auto'; with a model-wide precision it computes the normalization as a layer of its own (scale and
    shift in their types, one more cast).  Under --hls4ml etchnn does the same: 0 of 15,000 outputs
    differ from hls4ml's csim (6,921 differed when etchnn always folded).  Without --hls4ml it folds."""
    pytest.importorskip("hls4ml")
    pytest.importorskip("keras")
    from hls4ml_keras_predict import hls4ml_keras_predict
    j, w = shared("KERAS_3layer_batch_norm", "KERAS_3layer_batch_norm_weights")
    x = inputs(16, 6, n=3000)
    ref = hls4ml_keras_predict(str(j), str(w), precision, x)
    got = predict(j, x, tmp_path, "--hls4ml", "--precision", precision)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ"
    assert np.count_nonzero(predict(j, x, tmp_path, "--precision", precision) != ref) > 0   # folded
    dump = run("compile", j, "--hls4ml", "--precision", precision, "--dump-after", "bnfold").stdout
    assert "affine 'bn1'" in dump and "affine 'bn4'" in dump
    cfg = tmp_path / "auto.yml"   # fc1's result 'auto' (as hls4ml's name-granularity config writes it): bn1 folds
    cfg.write_text(f"Model:\n  Precision: '{precision}'\nLayerName:\n  fc1_relu:\n    Precision:\n      result: auto\n")
    dump = run("compile", j, "--hls4ml", "-c", cfg, "--dump-after", "bnfold").stdout
    assert "affine 'bn1'" not in dump and "affine 'bn2'" in dump
    assert "affine" not in run("compile", j, "--precision", precision, "--dump-after", "bnfold").stdout
    # a LayerName entry for a folded BatchNormalization: accepted, with a warning that it sets nothing
    cfg.write_text(f"Model:\n  Precision: '{precision}'\nLayerName:\n  bn1:\n    Precision:\n      result: fixed<10,4>\n")
    r = run("compile", j, "-c", cfg, "-o", tmp_path / "o1")
    assert "LayerName.bn1: folded into 'fc1_relu'" in r.stderr
    r = run("compile", j, "-c", cfg, "--hls4ml", "-o", tmp_path / "o2")   # a layer of its own there
    assert "folded" not in r.stderr and "bn1 " in r.stdout


@pytest.mark.parametrize("precision", ["fixed<16,6,RND_CONV,SAT>", "fixed<12,4,RND,SAT>"])
def test_saturating_accumulator_equals_hls4ml(precision, tmp_path):
    """A saturating accumulator: hls4ml saturates after every addition, bias first, inputs in index order;
    --hls4ml (--sat-order hls4ml) does the same and equals its C simulation; the exact order (the default)
    saturates once at the end and differs (README, "Differences from hls4ml")."""
    pytest.importorskip("hls4ml")
    pytest.importorskip("keras")
    from hls4ml_keras_predict import hls4ml_keras_predict

    j, w = shared("KERAS_3layer", "KERAS_3layer_weights")
    x = inputs(16, 5)
    ref = hls4ml_keras_predict(str(j), str(w), precision, x)
    got = predict(j, x, tmp_path, "--hls4ml", "--precision", precision)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first: event {bad[0][0]}"
    exact = predict(j, x, tmp_path, "--tables", "hls4ml", "--weight-quant", "hls4ml", "--precision", precision)
    differ = np.count_nonzero(exact != ref)
    print(f"{precision}: exact order: {differ} of {got.size} outputs differ from hls4ml")
    assert differ > 0


# ---- Keras 3 files -----------------------------------------------------

def _keras3_model(keras):
    """A functional model with a nested Sequential and most supported layers."""
    L = keras.layers
    inp = keras.Input((12,), name="x")
    h = L.Dense(10, activation="tanh", name="d1")(inp)
    sub = keras.Sequential([keras.Input((10,)), L.Dense(8, name="inner_d"), L.BatchNormalization(name="inner_bn"),
                            L.LeakyReLU(negative_slope=0.1, name="lrelu")], name="sub")
    h = sub(h)
    h = L.Reshape((2, 4), name="rs")(h)
    h = L.Dense(3, activation="hard_sigmoid", name="per_row")(h)
    h = L.Flatten(name="fl")(h)
    h = L.Dropout(0.5, name="drop")(h)
    h = L.ReLU(max_value=0.75, name="relu_cap")(h)
    h = L.Dense(6, activation="sigmoid", name="d2")(h)
    h = L.BatchNormalization(name="bn_last")(h)
    out = L.Softmax(name="sm")(L.Dense(4, name="out")(h))
    m = keras.Model(inp, out, name="nested")
    rng = np.random.default_rng(3)
    for layer in m.layers + sub.layers:
        if isinstance(layer, L.BatchNormalization):
            g, b, mu, var = layer.get_weights()
            layer.set_weights([1 + 0.3 * rng.standard_normal(g.shape), 0.2 * rng.standard_normal(b.shape),
                               0.1 * rng.standard_normal(mu.shape), 0.5 + rng.uniform(size=var.shape)])
    return m


@pytest.fixture(scope="module")
def keras3_files(keras3, tmp_path_factory):
    d = tmp_path_factory.mktemp("k3")
    m = _keras3_model(keras3)
    m.save(d / "nested.keras")
    m.save(d / "nested.h5")
    m.save_weights(d / "nested.weights.h5")
    (d / "nested.json").write_text(m.to_json())
    return m, d


@pytest.mark.parametrize("form", ["nested.keras", "nested.h5", "nested.json"])
def test_keras3_files_float(form, keras3_files, tmp_path):
    m, d = keras3_files
    x = inputs(12, 9)
    ref = np.asarray(m.predict(x.astype(np.float32), verbose=0, batch_size=2000), dtype=np.float64)
    got = predict(d / form, x, tmp_path, "--float")
    np.testing.assert_allclose(got, ref, **TOL)


def test_keras3_forms_same_bits(keras3_files, tmp_path):
    _, d = keras3_files
    x = inputs(12, 10, 2000)
    outs = [predict(d / f, x, tmp_path, "--precision", "fixed<18,8>") for f in ("nested.keras", "nested.h5", "nested.json")]
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])


# ---- bad input ---------------------------------------------------------

def _fails(args, *needles):
    r = run(*args, check=False)
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr}"
    msg = r.stderr.strip()
    assert msg.count("\n") == 0, msg
    for n in needles:
        assert n in msg, msg
    return msg


def _mutated_json(tmp_path, name, fn):
    j, w = shared("KERAS_3layer", "KERAS_3layer_weights")
    cfg = json.loads(j.read_text())
    fn(cfg)
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(cfg))
    return p, w


def test_bad_json_syntax(tmp_path):
    _, w = shared("KERAS_3layer", "KERAS_3layer_weights")
    p = tmp_path / "broken.json"
    p.write_text('{"class_name": "Model", "config": {')
    _fails(["predict", p, "--weights", w, "--input", "x"], "broken.json", "JSON")


def test_unknown_layer_class(tmp_path):
    def f(cfg):
        cfg["config"]["layers"][2]["class_name"] = "Conv3DTranspose"
    p, w = _mutated_json(tmp_path, "unknown", f)
    _fails(["compile", p, "--weights", w, "-o", tmp_path / "o"], "unknown.json", "layer 'fc2_relu' (Conv3DTranspose)",
           "expected one of")


def test_unknown_activation(tmp_path):
    def f(cfg):
        cfg["config"]["layers"][1]["config"]["activation"] = "mish"
    p, w = _mutated_json(tmp_path, "act", f)
    _fails(["compile", p, "--weights", w, "-o", tmp_path / "o"], "layer 'fc1_relu' (Dense)", "'mish'")


def test_weight_shape_mismatch(tmp_path):
    def f(cfg):
        cfg["config"]["layers"][2]["config"]["units"] = 31
    p, w = _mutated_json(tmp_path, "units", f)
    _fails(["compile", p, "--weights", w, "-o", tmp_path / "o"], "KERAS_3layer_weights.h5", "layer 'fc2_relu' (Dense)",
           "expected kernel [64,31]", "got [64,32]")


def test_wrong_weights_file(tmp_path):
    j, _ = shared("KERAS_3layer", "KERAS_3layer_weights")
    w1 = KDIR / "KERAS_1layer_weights.h5"
    _fails(["compile", j, "--weights", w1, "-o", tmp_path / "o"], "KERAS_1layer_weights.h5", "layer 'fc1_relu' (Dense)",
           "expected kernel [16,64]")


def test_missing_weights(tmp_path):
    j, _ = shared("KERAS_3layer", "KERAS_3layer_weights")
    p = tmp_path / "alone.json"
    p.write_text(j.read_text())
    _fails(["compile", p, "-o", tmp_path / "o"], "alone.json", "alone_weights.h5")


@pytest.mark.parametrize("cut", [0, 100, 2048, 20000])
def test_truncated_h5(cut, tmp_path):
    j, w = shared("KERAS_3layer", "KERAS_3layer_weights")
    p = tmp_path / "cut.h5"
    p.write_bytes(w.read_bytes()[:cut])
    _fails(["compile", j, "--weights", p, "-o", tmp_path / "o"], "cut.h5")


def test_weights_only_h5_as_model(tmp_path):
    _, w = shared("KERAS_3layer", "KERAS_3layer_weights")
    _fails(["compile", w, "-o", tmp_path / "o"], "model_config", "--weights")


def test_corrupt_keras_archive(tmp_path):
    p = tmp_path / "bad.keras"
    p.write_bytes(b"PK\x03\x04 this is not a zip archive")
    _fails(["compile", p, "-o", tmp_path / "o"], "bad.keras", "zip")
    q = tmp_path / "noconfig.keras"
    with zipfile.ZipFile(q, "w") as z:
        z.writestr("metadata.json", "{}")
    _fails(["compile", q, "-o", tmp_path / "o"], "noconfig.keras", "config.json")


def test_corrupt_archive_members(tmp_path):
    src = MODELS / "qkeras" / "qkeras-v3_3layer.keras"
    if not src.exists():
        pytest.skip("qkeras-v3_3layer.keras not present")
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for member, data in [("config.json", members["config.json"][:500]),
                         ("model.weights.h5", members["model.weights.h5"][:3000])]:
        q = tmp_path / f"bad_{member.split('.')[0]}.keras"
        with zipfile.ZipFile(q, "w") as z:
            for n, v in members.items():
                z.writestr(n, data if n == member else v)
        _fails(["compile", q, "-o", tmp_path / "o"], q.name)


def test_unknown_quantizer(tmp_path):
    src = MODELS / "qkeras" / "qkeras_3layer.json"
    if not src.exists():
        pytest.skip("qkeras_3layer.json not present")
    cfg = json.loads(src.read_text())
    cfg["config"]["layers"][2]["config"]["activation"] = {"class_name": "quantized_ulaw", "config": {"bits": 4}}
    p = tmp_path / "q.json"
    p.write_text(json.dumps(cfg))
    _fails(["compile", p, "--weights", MODELS / "qkeras" / "qkeras_3layer_weights.h5", "-o", tmp_path / "o"],
           "layer 'relu1' (QActivation)", "quantized_ulaw")


@pytest.mark.parametrize("prec", ["fixed<10,4>", "fixed<7,2,RND,SAT>"])
def test_activation_strings_leaky_relu_and_hard_tanh(prec, keras3, tmp_path):
    """Keras 3's activation='leaky_relu' (slope 0.2, not the LeakyReLU
    layer's 0.3) and 'hard_tanh' (clip to [-1, 1]): --float equals Keras,
    and the Verilog equals the emulator bit for bit (Icarus bench)."""
    import shutil
    keras3.utils.set_random_seed(11)
    L = keras3.layers
    inp = keras3.Input((6,))
    h = L.Dense(7, activation="leaky_relu", name="d1")(inp)
    out = L.Activation("hard_tanh", name="ht")(L.Dense(4, name="d2")(h))
    m = keras3.Model(inp, out)
    path = tmp_path / "acts.keras"
    m.save(path)
    x = inputs(6, 12)
    ref = np.asarray(m.predict(x.astype(np.float32), verbose=0, batch_size=2000), dtype=np.float64)
    np.testing.assert_allclose(predict(path, x, tmp_path, "--float"), ref, **TOL)
    assert ref.min() == -1.0 and ref.max() == 1.0   # the clip is reached both ways
    iverilog = shutil.which("iverilog")
    if iverilog is None or os.environ.get("ETCHNN_SANITIZED"):
        return
    o = tmp_path / "out"
    run("compile", path, "-o", o, "--precision", prec)
    icarus_bench(o, timeout=600)
