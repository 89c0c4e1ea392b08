"""Transposed convolutions: ONNX ConvTranspose (torch nn.ConvTranspose1d/2d), Keras 3 Conv1DTranspose /
Conv2DTranspose.  hls4ml 1.3 converts none of them, so there is no csim reference: the fixed-point
reference is an exact integer model written here (numpy: every input pixel scattered through the kernel
onto the output, integer products summed exactly, then etchnn's cast to the result type, RND and SAT),
and the float one is torch / Keras (`--float`).

etchnn builds them as the convolution, stride 1, of the input with stride - 1 zeros inserted between its
pixels; the taps on those zeros add no term (no multiplier, no adder in the circuit), as padding."""
import json
import shutil

import numpy as np
import pytest

from conftest import SANITIZED, keras3_or_skip, predict, run


# ---- models ---------------------------------------------------------------------------------------------

def convt_onnx(path, cin, shape, w, b, **attrs):
    """One ConvTranspose node (weights w [C, M/group, k...], bias b or None) on input [1, cin, *shape]."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    inits = [numpy_helper.from_array(w.astype(np.float32), "w")]
    ins = ["x", "w"]
    if b is not None:
        inits.append(numpy_helper.from_array(b.astype(np.float32), "b"))
        ins.append("b")
    node = helper.make_node("ConvTranspose", ins, ["y"], name="up", **attrs)
    g = helper.make_graph([node], "convt", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, *shape])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


# (name, cin, spatial shape, cout per group, kernel, attributes)
CASES = [
    ("s2_p1_op1", 3, (5, 4), 4, (3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])),
    ("groups_dil", 4, (3, 5), 3, (2, 3), dict(strides=[2, 1], pads=[0, 1, 0, 1], dilations=[1, 2], group=2)),
    ("crop", 2, (6, 6), 3, (3, 3), dict(strides=[2, 2], pads=[4, 3, 2, 4])),   # pads beyond the window crop
    ("1d_s3", 3, (6,), 2, (4,), dict(strides=[3], pads=[2, 2])),
    ("1d_k1_s2", 2, (5,), 2, (1,), dict(strides=[2])),   # every other output sees only inserted zeros
    ("1d_dil_op", 2, (5,), 3, (3,), dict(strides=[2], pads=[1, 1], output_padding=[1], dilations=[2])),
    ("1d_s1", 2, (5,), 3, (3,), dict()),
]


def case_model(tmp_path, case, seed=5):
    """The case's model with weights on a 1/16 grid in [-2, 2) (fixed<6,2> exactly) and biases on a 1/32 grid."""
    name, cin, shape, og, kernel, attrs = case
    rng = np.random.default_rng(seed)
    w = rng.integers(-32, 32, (cin, og, *kernel)) / 16
    b = rng.integers(-64, 64, og * attrs.get("group", 1)) / 32
    return convt_onnx(tmp_path / f"{name}.onnx", cin, shape, w, b, **attrs), w, b


def convt_reference(x, w, b, strides, pads, dilations, output_padding, group):
    """Transposed convolution by its definition: input pixel i adds x[c, i] * w[c, m, t] at output position
    i * stride + t * dilation - pad_begin.  x [N, C, *S]; exact for integer arrays (object dtype)."""
    ns = x.ndim - 2
    cin, og = w.shape[0], w.shape[1]
    cg = cin // group
    full = [(x.shape[2 + a] - 1) * strides[a] + (w.shape[2 + a] - 1) * dilations[a] + 1 + output_padding[a]
            for a in range(ns)]
    out_sz = [full[a] - pads[a] - pads[a + ns] for a in range(ns)]
    y = np.zeros((x.shape[0], og * group, *out_sz), dtype=x.dtype)
    for c in range(cin):
        gi = c // cg
        for idx in np.ndindex(*x.shape[2:]):
            for t in np.ndindex(*w.shape[2:]):
                pos = [idx[a] * strides[a] + t[a] * dilations[a] - pads[a] for a in range(ns)]
                if all(0 <= pos[a] < out_sz[a] for a in range(ns)):
                    y[(slice(None), slice(gi * og, gi * og + og), *pos)] += (
                        x[(slice(None), c, *idx)][:, None] * w[(c, slice(None), *t)][None, :])
    if b is not None:
        y += b.reshape(1, -1, *([1] * ns))
    return y


def ref_args(case):
    name, cin, shape, og, kernel, attrs = case
    ns = len(shape)
    return dict(strides=attrs.get("strides", [1] * ns), pads=attrs.get("pads", [0] * 2 * ns),
                dilations=attrs.get("dilations", [1] * ns), output_padding=attrs.get("output_padding", [0] * ns),
                group=attrs.get("group", 1))


CFG = """Model:
  Precision:
    default: fixed<8,3>
LayerName:
  up:
    Precision:
      weight: fixed<6,2>
      bias: fixed<8,3>
      accum: auto
      result: fixed<10,3,RND,SAT>
"""


def integer_reference(case, x, w, b):
    """Codes of fixed<10,3,RND,SAT> (7 fraction bits): input codes (5 fraction bits) times weight codes (4) summed
    exactly with the bias (5, moved to 9), rounded to nearest (ties up) by 2 bits, then clamped."""
    xc = np.round(x * 32).astype(np.int64).astype(object)
    wc = np.round(w * 16).astype(np.int64).astype(object)
    bc = np.round(b * 32).astype(np.int64).astype(object) * 16
    s = convt_reference(xc, wc, bc, **ref_args(case))
    r = np.vectorize(lambda v: (v + 2) >> 2, otypes=[object])(s)
    return np.clip(r.astype(np.int64), -512, 511).reshape(len(x), -1)


# ---- the emulator against the integer model --------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_emulator_equals_integer_reference(case, tmp_path):
    """Inputs on fixed<8,3>'s grid, over its whole range and beyond (saturated by the input cast first);
    the sums exceed fixed<10,3> often enough that SAT is exercised."""
    path, w, b = case_model(tmp_path, case)
    cfg = tmp_path / "c.yml"
    cfg.write_text(CFG)
    cin, shape = case[1], case[2]
    rng = np.random.default_rng(11)
    x = rng.integers(-128, 128, (120, cin, *shape)) / 32
    got = predict(path, x.reshape(len(x), -1), tmp_path, "-c", cfg)
    ref = integer_reference(case, x, w, b)
    assert got.shape == ref.shape
    codes = got * 128
    assert np.array_equal(codes, np.round(codes)) and np.array_equal(codes.astype(np.int64), ref), \
        f"{np.count_nonzero(codes != ref)} of {ref.size} outputs differ"
    assert np.count_nonzero(np.abs(ref) == 512) + np.count_nonzero(ref == 511) > 0 or case[0] == "1d_k1_s2"


def test_accumulator_config_reaches_the_layer(tmp_path):
    """LayerName.up's accum: a 12-bit wrapping accumulator changes the outputs (the exact sum does not fit)
    where 'auto' does not; the dump shows the transposed geometry."""
    case = CASES[0]
    path, w, b = case_model(tmp_path, case)
    cfg = tmp_path / "c.yml"
    cfg.write_text(CFG.replace("accum: auto", "accum: fixed<12,3>"))
    x = np.random.default_rng(3).integers(-128, 128, (200, 3 * 20)) / 32
    wrapped = predict(path, x, tmp_path, "-c", cfg)
    cfg.write_text(CFG)
    exact = predict(path, x, tmp_path, "-c", cfg)
    assert np.count_nonzero(wrapped != exact) > 0
    r = run("compile", path, "-c", cfg, "--dump-after", "shapes", "-o", tmp_path / "o", check=False)
    assert "kernel=3x3 stride=1x1 pad=1,1,2,2 transposed input_dilation=2x2" in r.stdout + r.stderr


# ---- float ----------------------------------------------------------------------------------------------

def test_float_equals_torch(tmp_path):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    mods = [(nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (3, 5, 4)),
            (nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), padding=(0, 1), groups=2, dilation=(1, 2)), (4, 3, 5)),
            (nn.ConvTranspose1d(3, 2, 4, stride=3, padding=2), (3, 6)),
            (nn.ConvTranspose2d(2, 3, 3, stride=2, padding=2, bias=False), (2, 6, 6)),
            (nn.Sequential(nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1, output_padding=1, dilation=2), nn.ReLU(),
                           nn.Flatten(), nn.Linear(36, 4)), (2, 5))]
    for k, (m, shape) in enumerate(mods):
        m.eval()
        path = tmp_path / f"t{k}.onnx"
        torch.onnx.export(m, torch.randn(1, *shape), str(path), dynamo=False, opset_version=13)
        x = np.random.default_rng(k).standard_normal((50, int(np.prod(shape))))
        got = predict(path, x, tmp_path, "--float")
        with torch.no_grad():
            ref = m(torch.tensor(x, dtype=torch.float32).reshape(-1, *shape)).reshape(len(x), -1).double().numpy()
        assert got.shape == ref.shape and np.abs(got - ref).max() < 1e-5, (k, np.abs(got - ref).max())


KERAS_CASES = [("Conv1DTranspose", dict(filters=3, kernel_size=k, strides=s, padding=p, output_padding=o), (6, 2))
               for p in ("valid", "same") for k, s, o in ((3, 2, None), (2, 3, None), (4, 3, 2), (5, 2, 0))] + \
              [("Conv2DTranspose", dict(filters=4, kernel_size=(3, 2), strides=(2, 3), padding=p, activation="relu"),
                (5, 4, 3)) for p in ("valid", "same")] + \
              [("Conv2DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"), (5, 4, 3)),
               ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=(1, 0),
                                        use_bias=False), (5, 4, 3))]


@pytest.mark.parametrize("cases", [pytest.param(KERAS_CASES[2:], marks=pytest.mark.slow), KERAS_CASES[:2]],
                         ids=["all", "sample"])
def test_keras_float_equals_keras(cases, tmp_path):
    """Keras's output sizes ('valid': (in - 1) * stride + window, or in * stride when the stride is larger; 'same':
    in * stride; with output_padding) and where its crop falls, against Keras's own numbers."""
    keras = keras3_or_skip()
    for k, (cls, kw, shape) in enumerate(cases):
        keras.utils.set_random_seed(k)
        m = keras.Sequential([keras.Input(shape), getattr(keras.layers, cls)(**kw)])
        m.set_weights([np.random.default_rng(k).standard_normal(a.shape) for a in m.get_weights()])
        path = tmp_path / f"k{k}.keras"
        m.save(path)
        x = np.random.default_rng(k).standard_normal((20, int(np.prod(shape))))
        got = predict(path, x, tmp_path, "--float")
        ref = m.predict(x.reshape(-1, *shape), verbose=0).reshape(len(x), -1)
        assert got.shape == ref.shape and np.abs(got - ref).max() < 1e-5, (cls, kw, np.abs(got - ref).max())


# ---- C, RTL, HLS ----------------------------------------------------------------------------------------

def test_c_equals_emulator(tmp_path):
    from test_cemu import c_and_emulator
    path, _, _ = case_model(tmp_path, CASES[1])
    x = np.random.default_rng(2).standard_normal((2000, 4 * 15)) * 2
    got, ref = c_and_emulator(path, "groups_dil", x, tmp_path, "--precision", "fixed<10,4>")
    assert np.count_nonzero(got != ref) == 0


def test_rtl_skips_the_inserted_zeros(tmp_path):
    """The stride-2 3x3 kernel: an output pixel sees 4, 2, 2 or 1 taps (2.25 on average, not 9).  With every
    weight a power of two (one shifted term each), the report's naive adder count is that of the terms on
    input pixels (n - 1 additions for n terms; the bias is counted apart): none for the inserted zeros."""
    name, cin, shape, og, kernel, attrs = CASES[0]
    rng = np.random.default_rng(1)
    w = rng.choice([-1, 1], (cin, og, *kernel)) * 2.0 ** rng.integers(-3, 2, (cin, og, *kernel))
    path = convt_onnx(tmp_path / "p2.onnx", cin, shape, w, np.ones(og) / 8, **attrs)
    run("compile", path, "-o", tmp_path / "o", "--precision", "fixed<8,3>")
    lay = next(L for L in json.loads((tmp_path / "o" / "report.json").read_text())["layers"] if L["name"] == "up")
    terms = int(convt_reference(np.ones((1, cin, *shape)), np.ones_like(w), None, **ref_args(CASES[0])).sum())
    assert terms == 1848 and 9 * 3 * 4 * 80 == 8640   # the terms on input pixels; a window's taps
    assert lay["adders"]["naive"] == terms - 320, (lay["adders"], terms)   # n terms: n - 1 additions per output


def _verify(model, tmp_path, *opts, n=1000):
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    if SANITIZED:
        pytest.skip("RTL simulations are not repeated under the sanitizers")
    out = tmp_path / "out"
    run("compile", model, "-o", out, *opts)
    r = run("verify", out, "--n", n, check=False)
    assert r.returncode == 0 and "PASS" in r.stdout + r.stderr, r.stdout + r.stderr
    return out


def test_rtl_verify(tmp_path):
    """1-D, stride 2, dilation 2, output_padding: Verilator equals the emulator bit for bit."""
    path, _, _ = case_model(tmp_path, CASES[5])
    _verify(path, tmp_path, "--precision", "fixed<8,3>")


@pytest.mark.slow
def test_rtl_verify_reuse_and_stream(tmp_path):
    """ReuseFactor 3 on the layer (folded: II 3); and a stride-1 transposed convolution in io_stream."""
    path, _, _ = case_model(tmp_path, CASES[1])
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  Precision: fixed<10,4>\nLayerName:\n  up:\n    ReuseFactor: 3\n")
    out = _verify(path, tmp_path, "-c", cfg)
    assert json.loads((out / "report.json").read_text())["ii"] == 3
    s1 = case_model(tmp_path, CASES[6])[0]
    shutil.rmtree(out)
    _verify(s1, tmp_path, "--precision", "fixed<8,3>", "--io", "stream")


@pytest.mark.slow
def test_hls_project_equals_emulator(tmp_path):
    from test_hls import csim_equals_predict
    path, _, _ = case_model(tmp_path, CASES[2])
    csim_equals_predict(path, tmp_path, opts=("--precision", "fixed<10,4>"), n=300)


# ---- refused --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("attrs,msg", [
    (dict(strides=[2, 2], auto_pad="SAME_UPPER"), "expected attribute auto_pad NOTSET or VALID, got 'SAME_UPPER'"),
    (dict(strides=[2, 2], output_shape=[10, 10]), "attribute output_shape is not supported"),
    (dict(strides=[2, 2], output_padding=[2, 0]), "expected attribute output_padding in 0..1"),
    (dict(strides=[1, 1], pads=[3, 3, 3, 3]), "expected an output of 1 to 16777216 pixels on spatial axis 0, got -2"),
])
def test_onnx_refusals(attrs, msg, tmp_path):
    path = convt_onnx(tmp_path / "bad.onnx", 2, (2, 2), np.ones((2, 3, 3, 3)), None, **attrs)
    r = run("compile", path, "-o", tmp_path / "o", check=False)
    assert r.returncode != 0 and f"node 'up' (ConvTranspose): {msg}" in r.stderr, r.stderr


def test_stream_refuses_strides(tmp_path):
    path, _, _ = case_model(tmp_path, CASES[0])
    r = run("compile", path, "-o", tmp_path / "o", "--io", "stream", check=False)
    assert r.returncode != 0 and "node 'up' (ConvTranspose): io_stream: a transposed convolution with strides 2x2" in \
        r.stderr, r.stderr
    path, _, _ = case_model(tmp_path, CASES[3])
    r = run("compile", path, "-o", tmp_path / "o", "--io", "stream", check=False)
    assert r.returncode != 0 and "transposed convolution with strides 3 " in r.stderr, r.stderr
