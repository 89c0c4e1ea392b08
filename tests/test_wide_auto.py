"""hls4ml's 'auto' types wider than 64 bits (issue 15 item 2): the type hls4ml declares is kept for the later
'auto' inferences, the value is held in the fewest bits (at most 64) with its fraction bits that hold its exact
interval.  An 'auto' type neither rounds nor overflows, so the value is the one hls4ml computes: checked here
against Python's unbounded integers (the emulator's text output and the generated C); hls4ml 1.3's csim on the
peer-suite models (tests/peer: batchnorm:center_scale=*, pointwiseconv:1d-*)."""
import re
import shutil

import numpy as np
import pytest

from conftest import SANITIZED, run
from test_wide import c_codes, code, exact_outputs, matmul_bias_onnx, write_cfg

onnx = pytest.importorskip("onnx")
from onnx import helper  # noqa: E402

TX = "fixed<32,16>"   # input, weights and bias: hls4ml's Dense 'auto' type is fixed<67,35> (3 inputs)


def model(path, W, B, act="Relu"):
    """x -> MatMul W + B ('mm', accum and result 'auto') -> act ('r') -> Add(mm, r) ('sum', 'auto')"""
    return matmul_bias_onnx(path, W, B, [helper.make_node("Add", ["h", "B"], ["a"], name="bias"),
                                         helper.make_node(act, ["a"], ["r"], name="r"),
                                         helper.make_node("Add", ["a", "r"], ["y"], name="sum")], "wide_auto")


def config(path, tx=TX):
    cfg = write_cfg(path, {"x": {"result": tx}, "mm": {"weight": TX, "bias": TX, "accum": "auto", "result": "auto"},
                           "r": {"result": "fixed<40,20>"}, "sum": {"result": "auto"}})
    cfg.write_text(cfg.read_text().replace("Model:\n", "Model:\n  AutoTypes: hls4ml\n"))
    return cfg


def weights(rng):
    # codes of up to 24 bits at 2^-16 (exact in float32); the extremes of the type's input range reach every
    # product's extreme
    W = np.ldexp(rng.integers(-(1 << 23), 1 << 23, (3, 4)).astype(np.float64), -16)
    B = np.ldexp(rng.integers(-(1 << 23), 1 << 23, 4).astype(np.float64), -16)
    return W, B


def reference(x, W, B):
    """sum = a + r, a = x W + B exact (2^-32), r = relu(a) cast to fixed<40,20> (floor, wrap), as codes at 2^-32"""
    out = []
    for row in x:
        a = [sum(code(row[i], TX) * code(W[i, o], TX) for i in range(3)) + (code(B[o], TX) << 16) for o in range(4)]
        r = []
        for v in a:
            m = max(v, 0) >> 12                               # fixed<40,20>: 20 fraction bits, floor
            m = (m + (1 << 39)) % (1 << 40) - (1 << 39)       # 40 bits, wrap
            r.append(m << 12)
        out.append([u + v for u, v in zip(a, r)])
    return out


def test_auto_wider_than_64_bits_held_exact(tmp_path):
    """Dense 'auto' fixed<67,35> held as its exact interval's type; a later 'auto' Add follows the declared type
    (fixed<68,36>) and is held too; emulator and generated C equal Python's integers, extremes included"""
    rng = np.random.default_rng(15)
    W, B = weights(rng)
    W[0, 0], W[1, 1] = -128.0, 127.0   # near the type's extreme codes
    m = model(tmp_path / "m.onnx", W, B)
    cfg = config(tmp_path / "c.yml")
    r = run("compile", m, "-c", cfg, "-o", tmp_path / "o", "--no-rtl", "--dump-after=precision")
    dump = r.stdout + r.stderr
    assert re.search(r"-> %\d+ a \[4\] fixed<(\d+),(\d+)> \(declared fixed<67,35>\)", dump), dump
    assert "accum=fixed<5" in dump, dump   # the accumulator held in ~59 bits too
    held = re.search(r"-> %\d+ y \[4\] fixed<(\d+),(\d+)> \(declared fixed<68,36>\)", dump)
    assert held and int(held.group(1)) <= 64 and int(held.group(1)) - int(held.group(2)) == 32, dump
    ty = f"fixed<{held.group(1)},{held.group(2)}>"
    lo, hi = -(2.0 ** 15), 2.0 ** 15 - 2.0 ** -16
    x = np.ldexp(rng.integers(-(1 << 31), 1 << 31, (40, 3)).astype(np.float64), -16)
    x[0, :], x[1, :], x[2, :] = lo, hi, [lo, hi, lo]
    ref = reference(x, W, B)
    assert exact_outputs(m, cfg, x, tmp_path, ty) == ref
    got, _ = c_codes(m, cfg, [[code(v, TX) for v in row] for row in x], tmp_path)
    assert got == ref
    assert max(max(abs(v) for v in row) for row in ref) >= 1 << 54   # values beyond 53 bits were reached


@pytest.mark.parametrize("what", ["table", "too_wide"])
def test_auto_wider_than_64_bits_refused(what, tmp_path):
    """refused in one line naming the layer: a table indexed by a wider-than-64-bit type (its index follows the
    declared type's bits), and a value whose exact interval itself needs more than 64 bits"""
    W, B = weights(np.random.default_rng(1))
    m = model(tmp_path / "m.onnx", W, B, act="Sigmoid" if what == "table" else "Relu")
    cfg = config(tmp_path / "c.yml", TX if what == "table" else "fixed<64,40>")
    r = run("compile", m, "-c", cfg, "-o", tmp_path / "o", "--no-rtl", check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    if what == "table":
        assert "node 'r' (Sigmoid): expected an input whose hls4ml 'auto' type has at most 64 bits, got" in r.stderr
        assert "fixed<67,35>" in r.stderr and "give layer 'mm' an explicit result type" in r.stderr, r.stderr
    else:
        assert "node 'mm' (MatMul): expected an 'auto' type of at most 64 bits, got 99" in r.stderr, r.stderr
        assert "the exact value itself needs more than 64 bits" in r.stderr, r.stderr


@pytest.mark.extended   # a Verilator build, ~30 s (make test-extended)
@pytest.mark.skipif(SANITIZED, reason="Verilator runs are not repeated under the sanitizers")
def test_auto_wider_than_64_bits_rtl_verify(tmp_path):
    """the RTL of the held types equals the emulator (Verilator, 3,000 inputs)"""
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    W, B = weights(np.random.default_rng(15))
    m = model(tmp_path / "m.onnx", W, B)
    run("compile", m, "-c", config(tmp_path / "c.yml"), "-o", tmp_path / "o")
    r = run("verify", tmp_path / "o", "--n", "3000", "--seed", "2", check=False)
    assert r.returncode == 0 and "PASS" in r.stdout and " 0 of 12000 outputs differ" in r.stdout, r.stdout + r.stderr
