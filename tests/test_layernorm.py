"""LayerNormalization (Keras LayerNormalization, ONNX LayerNormalization / torch nn.LayerNorm; OP_LAYERNORM).

- Four models (tests/ref/layernorm_models.py: hls4ml's default configuration, a wrapping accum with test_layernorm's
  custom table keys, a rounding/saturating accum with a 1000-entry table, torch's nn.LayerNorm through ONNX):
  `predict --hls4ml` equals hls4ml 1.3's csim codes stored in tests/ref/csim (a fresh csim: extended).
- --float equals Keras's and torch's outputs (stored); the generated C equals the emulator in both table modes.
- Exact tables: equal to an independent rational-arithmetic model of the documented definition (README).
- Refusals name the layer: an axis other than the last, RMS scaling, an accum wider than 31 bits, an ONNX Mean
  output, TableRangePower2 out of range, epsilon too large for hls4ml's table.
- Verilator verify of the hls4ml-table model and of an exact-table model (extended)."""
import contextlib
import io
import json
import math
import pathlib
import shutil
import subprocess
import sys
import zipfile
from fractions import Fraction

import numpy as np
import pytest

from conftest import SANITIZED, predict, run

REF = pathlib.Path(__file__).parent / "ref"
sys.path.insert(0, str(REF))
import layernorm_models as lm  # noqa: E402

NAMES = sorted(lm.FRAC)


def write_cfg(tmp_path, name, cfg=None):
    p = tmp_path / f"{name}.yml"
    p.write_text(json.dumps(cfg or lm.hls_config(name)))
    return p


@pytest.mark.parametrize("name", NAMES)
def test_equals_stored_hls4ml_csim(name, tmp_path):
    got = predict(lm.model_path(name), lm.events(name), tmp_path, "-c", write_cfg(tmp_path, name), "--hls4ml")
    ref = np.load(REF / "csim" / f"layernorm_{name}.npy").astype(np.float64) / 2.0 ** lm.FRAC[name]
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert len(np.unique(ref)) > 100


@pytest.mark.parametrize("name", NAMES)
def test_float_equals_keras_and_torch(name, tmp_path):
    fl = predict(lm.model_path(name), lm.events(name), tmp_path, "--float")
    ref = np.load(REF / "csim" / f"layernorm_{name}_float.npy").astype(np.float64)
    assert np.abs(fl - ref).max() < 5e-6   # float32 in Keras and torch


DRIVER = r"""
#include <stdio.h>
#include "M.h"
int main(void) {
    double in[M_N_IN], out[M_N_OUT];
    while (fread(in, sizeof(double), M_N_IN, stdin) == M_N_IN) {
        M_predict(in, out);
        fwrite(out, sizeof(double), M_N_OUT, stdout);
    }
    return 0;
}
"""


@pytest.mark.parametrize("opts", [("--hls4ml",), ("--tables", "exact")])
@pytest.mark.parametrize("name", ["k_small", "torch"])
def test_c_equals_emulator(name, opts, tmp_path):
    model, x = lm.model_path(name), lm.events(name)
    cfg = write_cfg(tmp_path, name)
    out = tmp_path / "out"
    run("compile", model, "-o", out, "--no-rtl", "-c", cfg, *opts)
    stem = next((out / "c").glob("*.c")).stem
    (tmp_path / "drv.c").write_text(DRIVER.replace("M", stem))
    exe = tmp_path / "m"
    subprocess.run(["cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-I", str(out / "c"),
                    str(out / "c" / f"{stem}.c"), str(tmp_path / "drv.c"), "-o", str(exe), "-lm"], check=True)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    assert np.array_equal(got, predict(model, x, tmp_path, "-c", cfg, *opts))


def _q(v, w, i, signed=True, rnd=False, sat=False):
    """v (Fraction) cast to fixed<w,i>: floor or round-half-even, wrap or saturate."""
    f = w - i
    t = v * 2 ** f
    c = math.floor(t)
    if rnd and (t - c > Fraction(1, 2) or (t - c == Fraction(1, 2) and c % 2)):
        c += 1
    lo, hi = (-(2 ** (w - 1)), 2 ** (w - 1) - 1) if signed else (0, 2 ** w - 1)
    c = min(max(c, lo), hi) if sat else (c - lo) % 2 ** w + lo
    return Fraction(c, 2 ** f)


def test_exact_tables_definition(tmp_path):
    """Tables exact: hls4ml's casts in accum (fixed<14,4,RND_CONV,SAT>), then the table entry of the variance code v
    itself, 1/sqrt(v + epsilon) rounded to the table type (here fixed<18,4,RND_CONV,SAT>); the output exact, cast once
    to the result type.  Against a rational-arithmetic model of that definition (the square root rounded through
    a float: far from any tie at these widths)."""
    name = "k_default"
    cfg = lm.hls_config(name)
    ln = cfg["LayerName"]["ln"]
    ln["Precision"].update(table="fixed<18,4,RND_CONV,SAT>", result="fixed<20,6,RND,SAT>", scale="fixed<12,2>",
                           bias="fixed<10,1>")
    ln["Tables"] = "exact"
    x = lm.events(name, 20)
    got = predict(lm.model_path(name), x, tmp_path, "-c", write_cfg(tmp_path, name, cfg))
    rng = np.random.default_rng(0)   # the model's weights (layernorm_models.keras_model)
    gam, bet = rng.normal(1.0, 0.1, 8), rng.normal(0.0, 0.1, 8)
    sc = [_q(Fraction(float(v)), 12, 2) for v in gam]
    bi = [_q(Fraction(float(v)), 10, 1) for v in bet]
    acc = lambda v: _q(v, 14, 4, rnd=True, sat=True)  # noqa: E731
    kinv = acc(Fraction(1, 8))
    want = np.zeros_like(got)
    for e in range(len(x)):
        for r in range(10):
            row = [_q(Fraction(float(v)), 16, 6) for v in x[e, r * 8:(r + 1) * 8]]
            s = Fraction(0)
            for v in row:
                s = acc(s + acc(v))
            mean = acc(s * kinv)
            d = [acc(acc(v) - mean) for v in row]
            s2 = Fraction(0)
            for v in d:
                s2 = acc(s2 + acc(v * v))
            var = max(acc(s2 * kinv), Fraction(0))
            t = _q(Fraction(1.0 / math.sqrt(float(var) + 1e-3)), 18, 4, rnd=True, sat=True)
            for i in range(8):
                want[e, r * 8 + i] = float(_q(d[i] * t * sc[i] + bi[i], 20, 6, rnd=True, sat=True))
    assert np.array_equal(got, want)
    # inputs U(-2, 2) (variances about 4/3) and an accum that holds their sums of squares: closer to Keras than
    # hls4ml's table, which ends at variance 1 + 10^-3
    x = 4 * (x - 0.5)
    ln["Precision"]["accum"] = "fixed<16,6,RND_CONV,SAT>"
    fl = predict(lm.model_path(name), x, tmp_path, "--float")
    got = predict(lm.model_path(name), x, tmp_path, "-c", write_cfg(tmp_path, name, cfg))
    ln["Tables"] = "hls4ml"
    hls = predict(lm.model_path(name), x, tmp_path, "-c", write_cfg(tmp_path, name, cfg))
    assert np.abs(got - fl).max() < 0.05 < np.abs(hls - fl).max()


def _keras_with(tmp_path, **changes):
    """layernorm_k_default.keras with its layer's config changed (the archive rewritten: no Keras needed)."""
    src, dst = lm.model_path("k_default"), tmp_path / "m.keras"
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w") as zo:
        for it in zi.infolist():
            data = zi.read(it.filename)
            if it.filename == "config.json":
                c = json.loads(data)
                for layer in c["config"]["layers"]:
                    if layer["class_name"] == "LayerNormalization":
                        layer["config"].update(changes)
                data = json.dumps(c).encode()
            zo.writestr(it, data)
    return dst


def _onnx_ln(tmp_path, axis=-1, outputs=("y",), eps=1e-5):
    onnx = pytest.importorskip("onnx")
    h = onnx.helper
    g = h.make_graph([h.make_node("LayerNormalization", ["x", "s", "b"], list(outputs), name="ln", axis=axis,
                                  epsilon=eps)], "g",
                     [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 6, 4])],
                     [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 6, 4])],
                     [h.make_tensor("s", onnx.TensorProto.FLOAT, [4], [1.0] * 4),
                      h.make_tensor("b", onnx.TensorProto.FLOAT, [4], [0.5] * 4)])
    p = tmp_path / "ln.onnx"
    p.write_bytes(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]).SerializeToString())
    return p


def _refused(*args):
    r = run(*args, check=False)
    assert r.returncode != 0
    return r.stderr


def test_refusals(tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, lm.events("k_default", 2))
    err = _refused("predict", _keras_with(tmp_path, axis=[1]), "--input", x)
    assert "'ln'" in err and "over the last axis only" in err and "[1]" in err
    err = _refused("predict", _keras_with(tmp_path, rms_scaling=True), "--input", x)
    assert "'ln'" in err and "rms_scaling" in err
    cfg = lm.hls_config("k_default")
    cfg["LayerName"]["ln"]["Precision"]["accum"] = "fixed<40,10>"
    err = _refused("predict", lm.model_path("k_default"), "-c", write_cfg(tmp_path, "a", cfg), "--input", x)
    assert "'ln'" in err and "at most 31 bits" in err
    cfg = lm.hls_config("k_default")
    cfg["LayerName"]["ln"]["TableRangePower2"] = 31
    err = _refused("predict", lm.model_path("k_default"), "-c", write_cfg(tmp_path, "b", cfg), "--input", x)
    assert "LayerName.ln.TableRangePower2" in err and "0 to 30" in err
    err = _refused("predict", _keras_with(tmp_path, epsilon=0.5), "--tables", "hls4ml", "--input", x)
    assert "'ln'" in err and "epsilon" in err
    x6 = tmp_path / "x6.npy"
    np.save(x6, np.zeros((1, 24)))
    err = _refused("predict", _onnx_ln(tmp_path, axis=1), "--input", x6)
    assert "'ln'" in err and "over the last axis only" in err
    err = _refused("predict", _onnx_ln(tmp_path, outputs=("y", "mean")), "--input", x6)
    assert "'ln'" in err and "mean" in err
    # the ONNX form with scale 1, bias 0.5: rows of equal values give the bias
    y = predict(_onnx_ln(tmp_path), np.ones((1, 24)), tmp_path, "--precision", "fixed<16,6>")
    assert np.all(y == 0.5)


@pytest.mark.extended
@pytest.mark.skipif(shutil.which("verilator") is None or SANITIZED, reason="needs Verilator")
@pytest.mark.parametrize("name,opts", [("k_small", ("--hls4ml",)), ("k_wrap", ("--hls4ml",)),
                                       ("torch", ("--tables", "exact"))])
def test_verilator_verify(name, opts, tmp_path):
    out = tmp_path / "out"
    run("compile", lm.model_path(name), "-c", write_cfg(tmp_path, name), *opts, "-o", out)
    subprocess.run(["verilator", "--lint-only", "-Wall"] +
                   [str(p) for p in (out / "rtl").glob("*.v") if not p.name.startswith("tb_")], check=True)
    r = run("verify", out, "--n", "2000")
    assert "PASS" in r.stdout + r.stderr and " 0 of " in r.stdout + r.stderr


@pytest.mark.extended
@pytest.mark.parametrize("name", NAMES)
def test_stored_reference_is_hls4ml_csim(name, tmp_path):
    """The stored codes and float outputs against a fresh hls4ml 1.3 csim and Keras / torch."""
    pytest.importorskip("hls4ml")
    pytest.importorskip("torch" if name == "torch" else "keras")
    with contextlib.redirect_stderr(io.StringIO()):
        codes, fl = lm.csim(name, tmp_path / "prj")
    assert np.array_equal(np.load(REF / "csim" / f"layernorm_{name}.npy"), codes)
    assert np.array_equal(np.load(REF / "csim" / f"layernorm_{name}_float.npy"), fl.astype(np.float32))
