"""Products and exact sums wider than 63 bits (issue 15 item 2): every variable type is at most 64 bits, but
a fixed<32,12> x fixed<32,12> product needs 64 and a 64 x 63-bit one 127; the emulator and the generated C
compute them on 128 bits (src/ir/fx_wide.h).  Checked against an independent reference on Python's unbounded
integers, the generated C (-std=c99 -Wpedantic -Werror) against the emulator, and hls4ml 1.3's C simulation
of a Dense-ReLU-Dense model with fixed<32,12> everywhere."""
import subprocess
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from conftest import ETCHNN, SANITIZED, hls4ml_uniform_project, keras3_or_skip, predict, run

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


# ---- the reference: FIXED_POINT.md's casts on Python integers -----------------------------------------
def parse(t):
    """'fixed<W,I[,Q,O]>' -> (w, f, sign, q, o)"""
    sign = not t.startswith("ufixed")
    parts = t[t.index("<") + 1:-1].split(",")
    w, i = int(parts[0]), int(parts[1])
    q = parts[2] if len(parts) > 2 else "TRN"
    o = parts[3] if len(parts) > 3 else "WRAP"
    return w, w - i, sign, q, o


def cast(m, fsrc, t):
    """the code of the exact value m * 2^-fsrc in type t (TRN/RND, WRAP/SAT)"""
    w, f, sign, q, o = parse(t)
    d = fsrc - f
    if d > 0:
        m = (m + (1 << (d - 1)) if q == "RND" else m) >> d   # floor, or round half up
    else:
        m <<= -d
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if sign else (0, (1 << w) - 1)
    if lo <= m <= hi:
        return m
    if o == "SAT":
        return hi if m > hi else lo
    m &= (1 << w) - 1
    return m - (1 << w) if sign and m >> (w - 1) else m


def code(v, t):
    """the exact code of a value that the type holds (inputs and weights are chosen so)"""
    w, f, *_ = parse(t)
    c = Fraction(v) * (1 << f) if f >= 0 else Fraction(v) / (1 << -f)
    assert c.denominator == 1, (v, t)
    return int(c)


def dense_ref(x, W, B, tx, tw, tb, ta, ty):
    """exact sum: bias cast to the accumulator, each product floored to its LSB, the sum cast to it, then the
    result type"""
    fx, fw, fa = parse(tx)[1], parse(tw)[1], parse(ta)[1]
    pd = fx + fw - fa
    out = []
    for o in range(W.shape[1]):
        s = cast(code(B[o], tb), parse(tb)[1], ta)
        for i in range(W.shape[0]):
            p = code(x[i], tx) * code(W[i, o], tw)
            s += p >> pd if pd >= 0 else p << -pd
        out.append(cast(cast(s, fa, ta), fa, ty))
    return out


# ---- models and running them ----------------------------------------------------------------------------
def matmul_bias_onnx(path, W, B, nodes, name):
    """x -> MatMul W ('mm' to 'h') -> Add B, then `nodes`, to y: an ONNX file of W and B as initializers."""
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["h"], name="mm")] + nodes, name,
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, W.shape[0]])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, W.shape[1]])],
                          [numpy_helper.from_array(W.astype(np.float32), "W"),
                           numpy_helper.from_array(B.astype(np.float32), "B")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


def dense_onnx(path, W, B):
    return matmul_bias_onnx(path, W, B, [helper.make_node("Add", ["h", "B"], ["y"], name="add")], "wide")


def write_cfg(path, layers):
    lines = ["Model:", "  Precision:", "    default: fixed<16,6>", "LayerName:"]
    for name, prec in layers.items():
        lines += [f"  {name}:", "    Precision:"] + [f"      {k}: '{v}'" for k, v in prec.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def exact_outputs(model, cfg, x, tmp_path, ty):
    """etchnn predict's text outputs (every digit exact) as codes of type ty"""
    xin = tmp_path / "x.dat"
    xin.write_text("\n".join(" ".join(repr(float(v)) for v in row) for row in x) + "\n")
    r = run("predict", model, "-c", cfg, "--input", xin)
    f = parse(ty)[1]
    return [[code(Fraction(Decimal(v)), ty) if f >= 0 else None for v in ln.split()] for ln in r.stdout.splitlines()]


C_DRIVER = r"""
#include <stdio.h>
#include "MODEL.h"
int main(void) {
    int64_t in[NIN], out[NOUT];
    while (fread(in, sizeof in, 1, stdin) == 1) {
        MODEL_predict_codes(ARGS);
        fwrite(out, sizeof out, 1, stdout);
    }
    return 0;
}
"""


def c_codes(model, cfg, xcodes, tmp_path, two_inputs=False):
    """the generated C (compiled -std=c99 -Wpedantic -Werror) on input codes; returns output codes"""
    out = tmp_path / "out"
    run("compile", model, "-c", cfg, "-o", out, "--no-rtl")
    name = next((out / "c").glob("*.h")).stem
    drv = C_DRIVER.replace("NIN", "MODEL_IN0_N + MODEL_IN1_N" if two_inputs else "MODEL_N_IN")
    drv = drv.replace("NOUT", "MODEL_OUT0_N" if two_inputs else "MODEL_N_OUT")
    drv = drv.replace("ARGS", "in, in + MODEL_IN0_N, out" if two_inputs else "in, out")
    (tmp_path / "drv.c").write_text(drv.replace("MODEL", name))
    exe = tmp_path / "model_c"
    subprocess.run(["cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-I", str(out / "c"),
                    str(out / "c" / f"{name}.c"), str(tmp_path / "drv.c"), "-o", str(exe), "-lm"], check=True)
    xs = np.asarray(xcodes, dtype=np.int64)
    y = subprocess.run([str(exe)], input=xs.tobytes(), capture_output=True, check=True).stdout
    return np.frombuffer(y, dtype=np.int64).reshape(len(xs), -1).tolist(), (out / "c" / f"{name}.c").read_text()


# (input, weight, accumulator, result) types: products of exactly 64, 65 and 127 bits, a saturating 80-bit sum
# into a 40-bit accumulator, a wide wrapping sum saturated into a 16-bit result
CASES = {
    "p64": ("fixed<32,12>", "fixed<32,2>", "fixed<32,12>", "fixed<32,12>"),
    "p65": ("fixed<33,13>", "fixed<32,2>", "fixed<33,13>", "fixed<24,10,RND,SAT>"),
    "p127": ("fixed<64,20>", "fixed<63,2>", "fixed<64,20>", "fixed<16,6,RND,SAT>"),
    "sat_acc": ("fixed<40,20>", "fixed<40,4>", "fixed<40,20,TRN,SAT>", "fixed<40,20>"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wide_dense_equals_python_integers(case, tmp_path):
    tx, tw, ta, ty = CASES[case]
    wx, fxb = parse(tx)[0], parse(tx)[1]
    ww, fwb = parse(tw)[0], parse(tw)[1]
    rng = np.random.default_rng(len(case))
    nin, nout = 5, 3
    # weights: the most negative and large codes (exact in float32: at most 24 significant bits)
    wmin = -(2.0 ** (ww - 1 - fwb))
    W = np.ldexp(rng.integers(-(1 << 23), 1 << 23, (nin, nout)).astype(np.float64), ww - 1 - fwb - 23)
    W[0, 0], W[1, 1], W[2, 2], W[3, 0] = wmin, wmin, wmin, -wmin * (1 - 2.0 ** -23)
    B = np.ldexp(rng.integers(-(1 << 20), 1 << 20, nout).astype(np.float64), -12)
    model = dense_onnx(tmp_path / "m.onnx", W, B)
    prec = {"weight": tw, "bias": "fixed<32,12>", "accum": ta, "result": ty}
    cfg = write_cfg(tmp_path / "c.yml", {"x": {"result": tx}, "mm": prec})
    # inputs: the most negative, the largest exact in a double, random large ones of both signs
    k = min(wx - 1, 53)
    xmin, xmax = -(2.0 ** (wx - 1 - fxb)), (2.0 ** k - 1) * 2.0 ** (wx - 1 - fxb - k)
    x = np.ldexp(rng.integers(-(1 << (k - 1)), 1 << (k - 1), (40, nin)).astype(np.float64), wx - fxb - k)
    x[0, :], x[1, :], x[2, :] = xmin, xmax, [xmin, xmax, xmin, xmax, xmin]
    x[3, :] = np.ldexp(rng.integers(-(1 << 30), 1 << 30, nin).astype(np.float64), -fxb)   # small: no overflow
    ref = [dense_ref(row, W, B, tx, tw, "fixed<32,12>", ta, ty) for row in x]
    assert exact_outputs(model, cfg, x, tmp_path, ty) == ref
    got, src = c_codes(model, cfg, [[code(v, tx) for v in row] for row in x], tmp_path)
    assert got == ref
    assert "fx_i128" in src   # the 128-bit path was taken
    lo, hi = -(1 << (parse(ty)[0] - 1)), (1 << (parse(ty)[0] - 1)) - 1
    if "SAT" in ty or "SAT" in ta:   # the saturation was reached, both ways
        assert any(hi in r for r in ref) and any(lo in r for r in ref)


def test_narrow_models_keep_64_bit_c(tmp_path):
    """a model whose sums fit 63 bits gets the C it had: no fx_wide.h, no __int128"""
    W = np.array([[0.5, -0.25], [1.0, 0.75]])
    model = dense_onnx(tmp_path / "m.onnx", W, np.zeros(2))
    cfg = write_cfg(tmp_path / "c.yml", {"mm": {"weight": "fixed<16,6>", "accum": "fixed<31,12>"}})
    _, src = c_codes(model, cfg, [[1, 2]], tmp_path)
    assert "__int128" not in src and "fx_cast128" not in src


def elementwise_onnx(path, ops, n=6):
    """Mul(x, x2), then (ops) LeakyRelu, PRelu, BatchNormalization: each multiplies two 32-bit codes"""
    rng = np.random.default_rng(5)
    inits = [numpy_helper.from_array(np.round(rng.uniform(0.05, 0.4, n) * 4096).astype(np.float32) / 4096, "slope")]
    for nm, v in [("g", rng.uniform(0.5, 2, n)), ("b", rng.uniform(-1, 1, n)), ("mu", rng.uniform(-1, 1, n)),
                  ("var", rng.uniform(0.5, 2, n))]:
        inits.append(numpy_helper.from_array(v.astype(np.float32), nm))
    nodes = [helper.make_node("Mul", ["x", "x2"], ["m"], name="mul"),
             helper.make_node("LeakyRelu", ["m"], ["l"], name="lrelu", alpha=0.3),
             helper.make_node("PRelu", ["l", "slope"], ["p"], name="prelu"),
             helper.make_node("BatchNormalization", ["p", "g", "b", "mu", "var"], ["y"], name="bn")]
    last = nodes[ops]
    nodes = nodes[:ops + 1]
    g = helper.make_graph(nodes, "wide_elem", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n]),
                                               helper.make_tensor_value_info("x2", TensorProto.FLOAT, [1, n])],
                          [helper.make_tensor_value_info(last.output[0], TensorProto.FLOAT, [1, n])],
                          inits if ops else [])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


@pytest.mark.parametrize("ops", [0, 3])
def test_wide_elementwise(ops, tmp_path):
    """Multiply (ops=0: alone, against Python's integers), then LeakyReLU (alpha), PReLU and BatchNormalization
    (scale) on fixed<33,13>: 66-bit products; the generated C equals the emulator"""
    model = elementwise_onnx(tmp_path / "e.onnx", ops)
    t = "fixed<33,13>"
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"Model:\n  Precision:\n    default: '{t}'\n")
    rng = np.random.default_rng(1)
    x = np.round(rng.uniform(-40, 40, (300, 12)) * 2 ** 20) / 2 ** 20
    x[0, :], x[1, :6], x[1, 6:] = -4096.0, -4096.0, 4096.0 - 2.0 ** -20   # the most negative code, squared: 2^64
    xin = tmp_path / "x.npz"
    np.savez(xin, x=x[:, :6], x2=x[:, 6:])
    emu = [code(Fraction(Decimal(v)), t) for v in run("predict", model, "-c", cfg, "--input", xin).stdout.split()]
    got, src = c_codes(model, cfg, [[code(v, t) for v in row] for row in x], tmp_path, two_inputs=True)
    assert [c for r in got for c in r] == emu
    assert "fx_cast128((fx_i128)" in src   # a product of more than 62 bits: on 128
    if ops == 0:
        ref = [cast(code(a, t) * code(b, t), 2 * parse(t)[1], t) for r in x for a, b in zip(r[:6], r[6:])]
        assert emu == ref and ref[0] == 0 and ref[6] == cast(-(1 << 32) * ((1 << 32) - 1), 40, t)
    else:   # the exact arithmetic is near the double one where nothing wrapped (|x * x2| < 2048)
        run("predict", model, "--float", "--input", xin, "--output", tmp_path / "f.npy")
        fl = np.load(tmp_path / "f.npy").ravel()
        y = np.array(emu, dtype=np.float64) / 2 ** 20
        p = np.abs(x[:, :6] * x[:, 6:]).ravel()
        ok = p < 1500   # the parameters' quantization (20 fractional bits) is the difference
        assert ok.sum() > 1000 and np.all(np.abs(y - fl)[ok] < 1e-5 + 4e-6 * p[ok])


def fixed32_equals_csim(m, tmp_path, nin, span, scale):
    """hls4ml 1.3's csim of Keras model m at fixed<32,12> everywhere against etchnn predict --hls4ml on 2,500 inputs
    (uniform in +-span, then normal x scale): every output equal, both signs well represented; returns the csim's"""
    t = "fixed<32,12>"
    hm = hls4ml_uniform_project(m, tmp_path, t, t)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-span, span, (1500, nin)), rng.standard_normal((1000, nin)) * scale])
    ref = np.asarray(hm.predict(x), dtype=np.float64).reshape(len(x), -1)
    c = tmp_path / "c.yml"
    c.write_text(f"Model:\n  Precision:\n    default: '{t}'\n    accum: '{t}'\n")
    got = predict(tmp_path / "m.keras", x, tmp_path, "-c", c, "--hls4ml")
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert np.count_nonzero(ref < 0) > 500 and np.count_nonzero(ref > 0) > 500
    return ref


@pytest.mark.extended   # 36 s, an hls4ml csim build (make test-extended)
@pytest.mark.skipif(SANITIZED, reason="hls4ml's C simulation is not repeated under the sanitizers")
def test_dense_relu_dense_fixed32_equals_hls4ml_csim(tmp_path):
    """hls4ml's usual 32-bit validation types: fixed<32,12> inputs, weights, biases, results and accumulators
    (64-bit products) -- etchnn predict --hls4ml equals hls4ml 1.3's csim on 2,500 inputs, bit for bit"""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(4)
    L = keras.layers
    i = keras.Input((10,), name="inp")
    m = keras.Model(i, L.Dense(5, name="d2")(L.Activation("relu", name="r1")(L.Dense(16, name="d1")(i))))
    ref = fixed32_equals_csim(m, tmp_path, 10, 8, 300)
    assert np.count_nonzero(np.abs(ref) > 100) > 100   # large values: the products' high bits matter


# ---- the RTL: no width limit, the same sums --------------------------------------------------------------
def wide_rtl(tmp_path, case, reuse=1):
    """CASES[case]'s Dense layer compiled with its RTL (reuse > 1: folded, one multiplier per reuse products)"""
    tx, tw, ta, ty = CASES[case]
    rng = np.random.default_rng(9)
    W = np.ldexp(rng.integers(-(1 << 23), 1 << 23, (5, 3)).astype(np.float64), parse(tw)[0] - 1 - parse(tw)[1] - 23)
    W[0, 0] = -(2.0 ** (parse(tw)[0] - 1 - parse(tw)[1]))
    model = dense_onnx(tmp_path / "m.onnx", W, np.array([0.5, -0.25, 1.0]))
    prec = {"weight": tw, "bias": "fixed<32,12>", "accum": ta, "result": ty}
    cfg = write_cfg(tmp_path / "c.yml", {"x": {"result": tx}, "mm": prec})
    if reuse > 1:
        cfg.write_text(cfg.read_text().replace("  mm:\n", f"  mm:\n    ReuseFactor: {reuse}\n"))
    out = tmp_path / f"out_{case}_{reuse}"
    run("compile", model, "-c", cfg, "-o", out)
    return out


@pytest.mark.skipif(SANITIZED, reason="Verilator runs are not repeated under the sanitizers")
def test_wide_rtl_lint(tmp_path):
    """127-bit products: the Verilog's nodes and constants are as wide as the values (a 64-bit node held the
    products modulo 2^64 before), verilator --lint-only -Wall is silent"""
    import shutil
    verilator = shutil.which("verilator")
    if not verilator:
        pytest.skip("verilator not installed")
    for reuse in (1, 3):
        out = wide_rtl(tmp_path, "p127", reuse)
        v = "".join(p.read_text() for p in (out / "rtl").glob("m*.v"))
        assert "[63:0]" in v and any(f"[{w}:0]" in v for w in range(66, 200)), "no node wider than 64 bits"
        r = subprocess.run([verilator, "--lint-only", "-Wall", "--top-module", "m", "-F", str(out / "rtl" / "files.f")],
                           capture_output=True, text=True)
        assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


@pytest.mark.extended   # Verilator builds, ~20-45 s each (make test-extended)
@pytest.mark.skipif(SANITIZED, reason="Verilator runs are not repeated under the sanitizers")
@pytest.mark.parametrize("case,reuse", [("p127", 1), ("p127", 3), ("sat_acc", 1), ("p65", 1)])
def test_wide_rtl_verify(case, reuse, tmp_path):
    out = wide_rtl(tmp_path, case, reuse)
    r = run("verify", out, "--n", "3000", "--seed", "2", check=False)
    assert r.returncode == 0 and "PASS" in r.stdout and " 0 of 9000 outputs differ" in r.stdout, r.stdout + r.stderr


def test_wide_conv_c_equals_emulator(tmp_path):
    """a Conv2D/MaxPool/Dense model at fixed<32,12> (64-bit products in every layer): the C equals the emulator"""
    from conftest import onnx_model
    from test_cemu import c_and_emulator
    path = onnx_model("conv2d_small_mp_keras")
    run("compile", path, "-o", tmp_path / "probe", "--no-rtl", "--precision", "fixed<32,12>")
    h = next((tmp_path / "probe" / "c").glob("*.h"))
    name = h.stem
    width = int(h.read_text().split(f"#define {name}_N_IN ")[1].split()[0])
    x = np.random.default_rng(2).standard_normal((200, width)) * 3
    got, ref = c_and_emulator(path, name, x, tmp_path, "--precision", "fixed<32,12>")
    assert np.array_equal(got, ref) and np.count_nonzero(ref) > 100
    assert "fx_i128" in (tmp_path / "out" / "c" / f"{name}.c").read_text()


def test_wider_than_64_bit_values_refused(tmp_path):
    """values (not intermediates) wider than 64 bits stay refused, in one line naming the layer and the width:
    hls4ml's 'auto' result of a Multiply of two 48-bit Dense results has 96 bits"""
    W = np.array([[0.5, -0.25], [1.0, 0.75]], dtype=np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["a"], name="da"),
                           helper.make_node("MatMul", ["x", "W"], ["b"], name="db"),
                           helper.make_node("Mul", ["a", "b"], ["y"], name="mul")], "m",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                          [numpy_helper.from_array(W, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, tmp_path / "m.onnx")
    t = "fixed<48,20>"
    cfg = write_cfg(tmp_path / "c.yml", {"da": {"result": t, "accum": t}, "db": {"result": t, "accum": t},
                                         "mul": {"result": "auto"}})
    r = run("compile", tmp_path / "m.onnx", "-c", cfg, "--auto-types", "hls4ml", "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "node 'mul' (Mul): expected an 'auto' type of at most 64 bits, got 96" in r.stderr, r.stderr


@pytest.mark.extended   # an hls4ml csim build, ~40 s (make test-extended)
@pytest.mark.skipif(SANITIZED, reason="hls4ml's C simulation is not repeated under the sanitizers")
def test_multiply_bn_leaky_prelu_fixed32_equals_hls4ml_csim(tmp_path):
    """fixed<32,12> everywhere: Multiply of two Dense results, BatchNormalization (its own layer: scale x input),
    LeakyReLU and PReLU -- 32 x 32-bit products (the Dense layers' sums on 128 bits, refused before); etchnn
    predict --hls4ml equals hls4ml 1.3's csim on 2,500 inputs"""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(6)
    L = keras.layers
    i = keras.Input((6,), name="inp")
    h = L.Multiply(name="mul")([L.Dense(8, name="da")(i), L.Dense(8, name="db")(i)])
    h = L.PReLU(name="prelu", alpha_initializer=keras.initializers.RandomUniform(0.05, 0.4))(
        L.LeakyReLU(negative_slope=0.3, name="lrelu")(L.BatchNormalization(name="bn")(h)))
    m = keras.Model(i, L.Dense(3, name="out")(h))
    for w, v in zip(m.get_layer("bn").weights, [1.5, 0.25, 0.5, 2.0]):   # gamma, beta, mean, variance
        w.assign(np.full(w.shape, v))
    fixed32_equals_csim(m, tmp_path, 6, 4, 20)


@pytest.mark.parametrize("acc, ty", [("fixed<8,75>", "fixed<16,6,TRN,SAT>"), ("fixed<16,-64>", "fixed<16,6>")])
def test_narrow_products_shifted_64_or_more_c_equals_emulator(acc, ty, tmp_path):
    """8-bit products into an accumulator whose LSB is 2^77 coarser (floored: 0 or -1 per product) or 2^70 finer
    (shifted out of 64 bits: 0 modulo 2^W): the 64-bit C path caps its shifts as the emulator does (a shift by 64
    or more is undefined in C; x86 takes it modulo 64)"""
    rng = np.random.default_rng(9)
    W = np.round(rng.uniform(-4, 4, (4, 3)) * 16) / 16
    model = dense_onnx(tmp_path / "m.onnx", W, np.zeros(3))
    cfg = write_cfg(tmp_path / "c.yml", {"x": {"result": "fixed<8,3>"},
                                         "mm": {"weight": "fixed<8,3>", "bias": "fixed<8,3>", "accum": acc,
                                                "result": ty}})
    x = np.round(rng.uniform(-4, 4, (50, 4)) * 32) / 32
    ref = exact_outputs(model, cfg, x, tmp_path, ty)
    got, src = c_codes(model, cfg, [[code(v, "fixed<8,3>") for v in row] for row in x], tmp_path)
    assert got == ref and "fx_i128" not in src
    if "SAT" in ty:   # floored to -2^67 (saturated) where a product is negative, 0 where none is
        assert {v for r in ref for v in r} == {-(1 << 15), 0}
    else:
        assert all(v == 0 for r in ref for v in r)
