"""profiling.numerical renders (saved to a non-empty PNG) and profiling.compare
measures per-layer error; both on a shared ONNX model and a trained torch model."""
import numpy as np
import pytest

from helpers import shared_onnx


def test_numerical_png(etchnn, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from etchnn import profiling
    p = shared_onnx("three_layer_bn_keras")
    fw = etchnn.convert(p, precision="fixed<10,3>")
    x = np.random.default_rng(0).standard_normal((400, fw.input_size))
    fig = profiling.numerical(p, fw, x)
    out = tmp_path / "profile.png"
    fig.savefig(out, dpi=60)
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 2 and "overflow" in " ".join(t.get_text() for t in fig.axes[1].get_yticklabels())


def test_fixed_type_ranges():
    from etchnn.profiling import FixedType
    t = FixedType("fixed<8,3>")
    assert (t.min, t.max, t.lsb) == (-4.0, 4.0 - 1 / 32, 1 / 32)
    u = FixedType("ufixed<6,0,RND,SAT>")
    assert (u.min, u.max) == (0.0, 1 - 1 / 64)
    assert t.overflow([5.0, 0.0, -4.0, -4.1]) == 0.5


def test_compare_onnx(etchnn):
    pytest.importorskip("onnxruntime")
    from etchnn import profiling
    p = shared_onnx("three_layer_keras")
    x = np.random.default_rng(1).standard_normal((300, 16)) * 0.5
    # exact tables: the default softmax is hls4ml's table form, coarse by design
    wide = profiling.compare(p, etchnn.convert(p, precision="fixed<24,8>", tables="exact"), x)
    narrow = profiling.compare(p, etchnn.convert(p, precision="fixed<8,3>", tables="exact"), x)
    layers = [k for k in wide if not k.startswith("_")]
    assert all(wide[k]["max_abs"] <= narrow[k]["max_abs"] for k in layers)
    assert wide["_model"]["float_vs_model"] < 1e-5          # the float graph is the ONNX model
    assert wide["_model"]["fixed_vs_model"] < 1e-3
    assert layers[-1] in str(narrow)


def test_profile_trained_torch(etchnn, torch_digits, digits, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from etchnn import profiling
    net, _ = torch_digits
    fw = etchnn.convert(net)
    xte = digits[2]
    cmp = profiling.compare(net, fw, xte)
    assert cmp["_model"]["float_vs_model"] < 1e-4
    logits = [L["name"] for L in fw.layers()][-2]
    # fixed<16,6> truncates weights and sums to 2^-10: small errors, no overflow
    assert cmp[logits]["overflow"] == 0 and cmp[logits]["mean_abs"] < 0.1 and cmp[logits]["max_abs"] < 1.0
    fig = profiling.numerical(net, fw, xte)
    fig.savefig(tmp_path / "torch.png", dpi=50)
    assert (tmp_path / "torch.png").stat().st_size > 5_000
