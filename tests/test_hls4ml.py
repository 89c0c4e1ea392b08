"""Bit-exact agreement with hls4ml's C simulation (hls_model.compile() +
predict()) for the same types: every output equal, 10,000 inputs per case."""
import sys

import numpy as np
import pytest

from conftest import ROOT, onnx_model, predict

pytest.importorskip("hls4ml")
sys.path.insert(0, str(ROOT / "tests" / "ref"))
from hls4ml_predict import hls4ml_predict  # noqa: E402

N = 10000

CASES = [
    # (model, precision, etchnn options)
    ("three_layer_keras", "fixed<16,6>", ["--hls4ml"]),
    ("three_layer_keras", "fixed<8,3>", ["--hls4ml"]),
    ("two_layer_keras", "fixed<16,6>", ["--hls4ml"]),
    ("two_layer_keras", "fixed<8,3>", ["--hls4ml"]),
    ("three_layer_keras", "fixed<16,6>", ["--tables", "hls4ml"]),
    ("two_layer_keras", "fixed<8,3>", ["--tables", "hls4ml"]),
    ("dense_big_keras", "fixed<8,3>", ["--hls4ml"]),
    ("three_layer_pytorch", "fixed<8,3>", ["--hls4ml"]),
    ("two_layer_pytorch", "fixed<16,6>", ["--hls4ml"]),
    ("three_layer_keras", "ap_fixed<16,6,AP_RND_CONV,AP_WRAP>", ["--hls4ml"]),
]


def inputs(width, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-4, 4, (N // 2, width)), rng.standard_normal((N - N // 2, width)) * 2])


@pytest.mark.parametrize("name,precision,opts", CASES, ids=[f"{m}-{p}-{'+'.join(o)}" for m, p, o in CASES])
def test_equals_hls4ml_csim(name, precision, opts, tmp_path):
    path = onnx_model(name)
    width = 10 if name.startswith("two_layer") else 16
    x = inputs(width, seed=hash((name, precision)) % 1000)
    ref = hls4ml_predict(str(path), precision, x).reshape(N, -1)
    got = predict(path, x, tmp_path, "--precision", precision, *opts)
    assert got.shape == ref.shape
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, (f"{len(bad)} of {got.size} outputs differ; first: event {bad[0][0]} output {bad[0][1]}: "
                           f"hls4ml {ref[tuple(bad[0])]!r}, etchnn {got[tuple(bad[0])]!r}")


def test_weights_rounding_matters(tmp_path):
    """dense_big_keras at fixed<8,3>: hls4ml's decimal-literal weights differ
    from quantizing the float weights; --weights exact shows the difference,
    so the test above really exercises --weights hls4ml."""
    path = onnx_model("dense_big_keras")
    x = inputs(16, seed=3)
    ref = hls4ml_predict(str(path), "fixed<8,3>", x).reshape(N, -1)
    exact = predict(path, x, tmp_path, "--precision", "fixed<8,3>", "--tables", "hls4ml", "--weight-quant", "exact")
    assert np.count_nonzero(exact != ref) > 0


def etchnn_semantics(path, precision, x, chain=False):
    """An independent model of etchnn's own Dense semantics (FIXED_POINT.md),
    built from the Python integer primitives of tests/ref: the bias is cast to
    the accumulator, each product is quantized to the accumulator's LSB, the
    sum is exact and the accumulator's overflow mode acts once; MatMul+Add is
    one layer.  Tables and weights as hls4ml's (--hls4ml).  chain: --sat-order
    hls4ml instead: each product cast to the accumulator, added in input order
    with each sum cast, then the bias (an ONNX Dense's bias last)."""
    import onnx
    from onnx import numpy_helper
    import hls4ml_semantics as hs

    m = onnx.load(str(path))
    t = hs.precision_types(precision)
    tabs = hs.table_settings(t)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    R, A, W, B = t["result"], t["accum"], t["weight"], t["bias"]
    a = hs.double_to_codes(x, R)
    nodes = list(m.graph.node)
    k = 0
    while k < len(nodes):
        n = nodes[k]
        if n.op_type == "MatMul":
            w = hs.weight_literal_codes(inits[n.input[1]].astype(np.float32), W).astype(object)
            b = hs.weight_literal_codes(inits[nodes[k + 1].input[1]].astype(np.float32), B)
            prods = [hs.quantize_codes(a[:, i:i + 1].astype(object) * w[i:i + 1, :], R.F + W.F, A.F, A.q)
                     for i in range(w.shape[0])]
            if chain:
                acc = np.zeros(prods[0].shape, dtype=object)
                for p in prods:
                    acc = hs.overflow_codes(acc + hs.overflow_codes(p, A), A)
                acc = acc + hs.cast_codes(b, B.F, A).astype(object)
            else:
                acc = hs.cast_codes(b, B.F, A).astype(object) + sum(prods)
            a = hs.cast_codes(hs.overflow_codes(acc, A), A.F, R)
            k += 2
            continue
        if n.op_type == "Relu":
            a = hs.relu(a, R, R)
        elif n.op_type == "Softmax":
            plan = hs.softmax_plan(R, tabs["table_size"], tabs["inv_table_t"], tabs["exp_table_t"], tabs["inv_inp_t"],
                                   tabs["softmax_accum_t"])
            a = hs.softmax_stable(a, R, R, plan, hs.SoftmaxTables(plan))
        else:
            raise ValueError(n.op_type)
        k += 1
    return R.to_float(np.asarray(a, dtype=np.int64))


@pytest.mark.parametrize("precision", ["fixed<16,6,RND_CONV,SAT>",
                                       pytest.param("fixed<12,4,RND,SAT>", marks=pytest.mark.extended)])   # CI time
def test_rounding_saturating_types(precision, tmp_path):
    """Rounding/saturating types everywhere: hls4ml reads an ONNX MatMul+Add
    as a Dense without bias and a separate bias layer, and saturates after
    every addition.  --hls4ml (--sat-order hls4ml) sums in that order and
    equals both an independent model of that chain and hls4ml's csim; the
    exact order (the default) equals its own semantics and differs from hls4ml."""
    path = onnx_model("three_layer_keras")
    x = inputs(16, seed=11)
    ref = hls4ml_predict(str(path), precision, x).reshape(N, -1)
    got = predict(path, x, tmp_path, "--precision", precision, "--hls4ml")
    # the Python chain is slow (object integers, one addition at a time): its first 1,000 events
    assert np.count_nonzero(got[:1000] != etchnn_semantics(path, precision, x[:1000], chain=True)) == 0
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ from hls4ml; first: event {bad[0][0]}"
    exact = predict(path, x, tmp_path, "--precision", precision, "--tables", "hls4ml", "--weight-quant", "hls4ml")
    assert np.count_nonzero(exact != etchnn_semantics(path, precision, x)) == 0
    differ = np.count_nonzero(exact != ref)
    print(f"{precision}: exact order: {differ} of {got.size} outputs differ from hls4ml")
    assert differ > 0
