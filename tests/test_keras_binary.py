"""Binary and ternary Keras 2 models (BinaryDense, TernaryDense, binary_tanh,
ternary_tanh, relu1; the hls4ml example models): fixed point equals hls4ml's
C simulation of the same files (hls4ml's own Keras 2 file reader) on 10,000
inputs, every output; --float equals an independent numpy forward pass of the
layers' documented semantics (Keras 3 cannot load these custom classes)."""
import json
import sys

import numpy as np
import pytest

from conftest import MODELS, ROOT, predict

sys.path.insert(0, str(ROOT / "tests" / "ref"))

N = 10000
KDIR = MODELS / "keras"
BINARY = ["KERAS_3layer_binary_smaller", "KERAS_3layer_ternary_small", "KERAS_3layer_binarydense_relu_max", "keras_bnn"]
PERVAR = {"weight": "fixed<16,6>", "bias": "fixed<16,6>", "result": "fixed<18,8>", "accum": "fixed<18,8>"}


def files(name):
    j, w = KDIR / f"{name}.json", KDIR / f"{name}_weights.h5"
    if not j.exists() or not w.exists():
        pytest.skip(f"shared model {j} not present")
    return j, w


def inputs(seed, n=N):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-4, 4, (n // 2, 16)), rng.standard_normal((n - n // 2, 16)) * 2])


def _types_args(precision, tmp_path):
    if isinstance(precision, str):
        return ["--precision", precision]
    cfg = tmp_path / "prec.yml"
    cfg.write_text("Model:\n  Precision:\n" + "".join(f"    {k}: {v}\n" for k, v in precision.items()))
    return ["-c", cfg]


CASES = [(m, p) for m in BINARY for p in ("fixed<16,6>", "fixed<8,3>")]
CASES += [("KERAS_3layer_binary_smaller", PERVAR), ("KERAS_3layer_binarydense_relu_max", PERVAR),
          # rounding, saturating types with an accumulator that cannot overflow (hls4ml saturates after every
          # addition, etchnn once at the end: README, "Differences from hls4ml")
          ("KERAS_3layer_ternary_small", {"weight": "fixed<12,4,RND_CONV,SAT>", "bias": "fixed<12,4,RND_CONV,SAT>",
                                          "result": "fixed<12,4,RND_CONV,SAT>", "accum": "fixed<32,12>"})]


@pytest.mark.parametrize("name,precision", CASES, ids=[f"{m}-{json.dumps(p)}" for m, p in CASES])
def test_equals_hls4ml_csim(name, precision, tmp_path):
    pytest.importorskip("hls4ml")
    from hls4ml_keras_predict import hls4ml_keras_predict

    j, w = files(name)
    x = inputs(len(name))
    ref = hls4ml_keras_predict(j, w, precision, x, files=True)
    got = predict(j, x, tmp_path, "--hls4ml", *_types_args(precision, tmp_path))
    assert got.shape == ref.shape == (N, 5)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, (f"{len(bad)} of {got.size} outputs differ; first: event {bad[0][0]}: "
                           f"hls4ml {ref[tuple(bad[0])]!r}, etchnn {got[tuple(bad[0])]!r}")


# ---- float: an independent forward pass --------------------------------

def numpy_forward(j, w, x):
    """The layers' semantics as hls4ml documents them, in float64: BinaryDense
    weights sign(w) (w >= 0: +1), TernaryDense w > 0.5: 1, w <= -0.5: -1, else 0
    (H = 1); BatchNormalization (x - mean) / sqrt(var + eps) * gamma + beta;
    binary_tanh x >= 0: 1 else -1; ternary_tanh x > 0.5: 1, x <= -0.5: -1,
    else 0; relu1 min(max(x, 0), 1)."""
    h5py = pytest.importorskip("h5py")
    arch = json.loads(j.read_text())
    h5 = h5py.File(w, "r")

    def var(layer, short):
        g = h5[layer]
        names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
        return np.asarray(g[next(n for n in names if n.split("/")[-1].startswith(short))], dtype=np.float64)

    a = np.asarray(x, dtype=np.float64)
    layers = arch["config"] if isinstance(arch["config"], list) else arch["config"]["layers"]
    for L in layers:
        cls, c = L["class_name"], L["config"]
        if cls in ("BinaryDense", "TernaryDense"):
            assert c.get("H", 1) == 1 and not c.get("use_bias", False)
            k = var(c["name"], "kernel")
            k = np.where(k >= 0, 1.0, -1.0) if cls == "BinaryDense" else np.where(k > 0.5, 1.0, np.where(k <= -0.5, -1.0, 0.0))
            a = a @ k
        elif cls == "BatchNormalization":
            g, b, m, v = (var(c["name"], s) for s in ("gamma", "beta", "moving_mean", "moving_variance"))
            a = (a - m) / np.sqrt(v + c["epsilon"]) * g + b
        elif cls == "Activation":
            f = c["activation"]
            if f == "binary_tanh":
                a = np.where(a >= 0, 1.0, -1.0)
            elif f == "ternary_tanh":
                a = np.where(a > 0.5, 1.0, np.where(a <= -0.5, -1.0, 0.0))
            elif f == "relu1":
                a = np.clip(a, 0.0, 1.0)
            else:
                raise ValueError(f)
        else:
            raise ValueError(cls)
    return a


@pytest.mark.parametrize("name", BINARY)
def test_float_equals_numpy(name, tmp_path):
    j, w = files(name)
    x = inputs(100 + len(name))
    ref = numpy_forward(j, w, x)
    got = predict(j, x, tmp_path, "--float")
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
