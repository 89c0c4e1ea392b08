"""Brevitas models through their QONNX export: a quantization-aware MLP
(QuantLinear / QuantReLU, 4-bit weights and activations, 8-bit input and
output) trained on sklearn's digits, converted in memory with
etchnn.convert(), and compared bit for bit with three independent references:
the qonnx executor on the exported QONNX model, Brevitas's own forward pass,
and (Verilator) the generated circuit.

With power-of-two scales (Brevitas's *FixedPoint quantizers) every quantized
tensor is an exact fixed-point type, and Brevitas's float32 forward pass is
exact too (every sum fits in float32's 24-bit mantissa), so the outputs are
equal as values.  With Brevitas's default float scales, etchnn keeps each
quantizer's integer code exact and the output value code * scale in a wide
fixed-point type, while Brevitas and the executor round code * scale to
float32: the outputs are compared as integer codes (value / scale)."""
import importlib.util
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from helpers import ROOT, cli_predict

REF = ROOT / "tests" / "ref" / "qonnx_predict.py"


def need_brevitas():
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("brevitas")
    if importlib.util.find_spec("onnxoptimizer") is None:
        pytest.skip("Brevitas's ONNX export needs onnxoptimizer")


def train(net, digits, epochs):
    import torch
    xtr, ytr, xte, yte = digits
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs):
            for k in range(0, len(xt), 128):
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(xt[k:k + 128]), yt[k:k + 128])
                loss.backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            ref = net(torch.from_numpy(xte))
    return net, np.asarray(getattr(ref, "value", ref).numpy(), dtype=np.float64)


def mlp(fixed_point):
    """64 -> QuantLinear 32 -> QuantReLU -> QuantLinear 10 -> 8-bit output quantizer."""
    import torch
    import brevitas.nn as qnn
    from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Int16Bias, \
        Uint8ActPerTensorFixedPoint
    torch.manual_seed(0)
    if fixed_point:
        w = {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": 4, "bias_quant": Int16Bias}
        a_in, a_relu, a_out = ({"act_quant": Uint8ActPerTensorFixedPoint}, {"act_quant": Uint8ActPerTensorFixedPoint},
                               {"act_quant": Int8ActPerTensorFixedPoint})
    else:   # Brevitas's defaults: learned float scales, float biases
        w = {"weight_bit_width": 4}
        a_in = a_relu = a_out = {}
    return torch.nn.Sequential(
        qnn.QuantIdentity(bit_width=8, return_quant_tensor=True, **a_in),
        qnn.QuantLinear(64, 32, bias=True, return_quant_tensor=True, **w),
        qnn.QuantReLU(bit_width=4, return_quant_tensor=True, **a_relu),
        qnn.QuantLinear(32, 10, bias=True, return_quant_tensor=True, **w),
        qnn.QuantIdentity(bit_width=8, return_quant_tensor=False, **a_out))


@pytest.fixture(scope="module")
def brevitas_po2(digits):
    need_brevitas()
    return train(mlp(True), digits, 20)


def qonnx_executor(model_path, x, tmp_path):
    if importlib.util.find_spec("qonnx") is None:
        pytest.skip("qonnx not installed")
    xin, yout = tmp_path / "xq.npy", tmp_path / "yq.npy"
    np.save(xin, np.asarray(x, dtype=np.float64))
    r = subprocess.run([sys.executable, str(REF), str(model_path), str(xin), str(yout)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return np.load(yout)


def exported(etchnn, net, tmp_path):
    """The QONNX model convert() reads, saved for the CLI and the executor."""
    from etchnn.frontends import serialize
    suffix, data = serialize(net, (64,))
    assert suffix == ".onnx"
    p = tmp_path / "brevitas_mlp.onnx"
    p.write_bytes(data)
    return p


def test_brevitas_fixed_point_scales(etchnn, brevitas_po2, digits, tmp_path):
    net, ref = brevitas_po2
    _, _, xte, yte = digits
    fw = etchnn.convert(net, input_shape=(64,))
    names = [L["name"] for L in fw.layers()]
    assert any(n.endswith("_gemm") or n[-1].isdigit() for n in names), names   # named after the modules
    y = fw.predict(xte)
    acc_brevitas = float((ref.argmax(1) == yte).mean())
    acc_fw = float((y.argmax(1) == yte).mean())
    print(f"\nBrevitas w4a4 (power-of-two scales): Brevitas accuracy {acc_brevitas:.4f}, firmware {acc_fw:.4f} "
          f"on {len(yte)} test digits; output type {fw.output_type}")
    assert acc_brevitas > 0.85
    # Brevitas's own forward pass: equal values (its float32 arithmetic is exact here)
    assert np.array_equal(y, ref), f"{int((y != ref).sum())} of {y.size} outputs differ from Brevitas"
    # the qonnx executor on the exported model, and the CLI on the same file
    path = exported(etchnn, net, tmp_path)
    q = qonnx_executor(path, xte, tmp_path)
    assert q.shape == y.shape and np.array_equal(y, q), f"{int((y != q).sum())} outputs differ from the executor"
    assert np.array_equal(y, cli_predict(path, xte, tmp_path))
    # no precision configuration needed: the quantizers give the types
    assert fw.output_type.startswith("fixed<8,") and "SAT" in fw.output_type
    # profiling runs the Brevitas model itself as the reference
    from etchnn import profiling
    cmp = profiling.compare(net, fw, xte)
    assert cmp["_model"]["fixed_vs_model"] == 0.0


def test_brevitas_float_scales(etchnn, digits, tmp_path):
    """Brevitas's default quantizers (float scales): equal integer codes."""
    need_brevitas()
    import onnx
    from onnx import numpy_helper
    net, ref = train(mlp(False), digits, 15)
    _, _, xte, yte = digits
    fw = etchnn.convert(net, input_shape=(64,))
    y = fw.predict(xte)
    path = exported(etchnn, net, tmp_path)
    q = qonnx_executor(path, xte, tmp_path)
    mp = onnx.load(str(path))
    inits = {t.name: numpy_helper.to_array(t) for t in mp.graph.initializer}
    last = mp.graph.node[-1]
    assert last.op_type == "Quant"
    scale = np.float64(inits[last.input[1]])

    def codes(v):
        return np.rint(v / scale)
    assert np.array_equal(codes(y), codes(q)), f"{int((codes(y) != codes(q)).sum())} codes differ from the executor"
    assert np.array_equal(codes(y), codes(ref)), f"{int((codes(y) != codes(ref)).sum())} codes differ from Brevitas"
    assert np.abs(y - ref).max() < 1e-5   # the values: float32 rounding of code * scale
    assert abs(float((y.argmax(1) == yte).mean()) - float((ref.argmax(1) == yte).mean())) == 0


def test_brevitas_verilator(etchnn, brevitas_po2, digits, tmp_path):
    """The circuit for the Brevitas model equals the emulator on the test digits."""
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    net, _ = brevitas_po2
    xte = digits[2]
    fw = etchnn.convert(net, input_shape=(64,), output_dir=tmp_path / "prj")
    r = fw.verify(xte, verbose=False)
    assert r.ok and r["events"] == len(xte) and r["mismatches"] == 0, str(r)
    assert (tmp_path / "prj" / "myproject.onnx").exists()   # the exported QONNX model, beside rtl/ and c/


def test_brevitas_conv(etchnn, tmp_path):
    """QuantConv2d (padding, stride) + QuantReLU + Flatten + QuantLinear with
    power-of-two scales: equal to Brevitas's forward pass and to the qonnx
    executor.  Inputs on the input type's grid (fixed<16,6>): off the grid,
    etchnn first casts them to the input type (truncating) where Brevitas's
    input quantizer rounds the raw float."""
    need_brevitas()
    import torch
    import brevitas.nn as qnn
    from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Int16Bias, \
        Uint8ActPerTensorFixedPoint
    torch.manual_seed(0)
    w = {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": 4, "bias_quant": Int16Bias,
         "return_quant_tensor": True}
    relu = {"act_quant": Uint8ActPerTensorFixedPoint, "bit_width": 4, "return_quant_tensor": True}
    net = torch.nn.Sequential(
        qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, bit_width=8, return_quant_tensor=True),
        qnn.QuantConv2d(2, 4, 3, padding=1, **w), qnn.QuantReLU(**relu),
        qnn.QuantConv2d(4, 4, 3, stride=2, **w), qnn.QuantReLU(**relu),
        torch.nn.Flatten(),
        qnn.QuantLinear(4 * 3 * 3, 5, **w),
        qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, bit_width=8, return_quant_tensor=False))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        net.train()   # a few batches set the activation scales
        for _ in range(3):
            net(torch.randn(64, 2, 8, 8))
        net.eval()
        x = (np.floor(np.random.default_rng(1).uniform(-1, 1, (1000, 2, 8, 8)) * 1024) / 1024).astype(np.float32)
        ref = net(torch.from_numpy(x)).numpy().astype(np.float64)
    fw = etchnn.convert(net, input_shape=(2, 8, 8))
    assert [L["class"] for L in fw.layers()].count("Conv2D") == 2
    y = fw.predict(x)
    assert np.array_equal(y, ref), f"{int((y != ref).sum())} of {y.size} outputs differ from Brevitas"
    from etchnn.frontends import serialize
    path = tmp_path / "bconv.onnx"
    path.write_bytes(serialize(net, (2, 8, 8))[1])
    q = qonnx_executor(path, x.reshape(len(x), -1), tmp_path)
    assert np.array_equal(y, q), f"{int((y != q).sum())} outputs differ from the executor"
