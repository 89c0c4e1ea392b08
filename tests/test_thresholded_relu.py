"""ThresholdedReLU (ONNX ThresholdedRelu, Keras 2 ThresholdedReLU(theta), Keras 3 ReLU(threshold), torch
nn.Threshold(threshold, 0)): x > theta ? x : 0, theta in the layer's param type as hls4ml types it (its
'auto': the input's type), the comparison made exactly between the input and that value.

- ONNX MatMul-ThresholdedRelu-MatMul equals hls4ml 1.3's C simulation on 10,000 events (param fixed<6,2>
  in make test; 'auto', ufixed and RND,SAT param types extended), and a param type other than hls4ml's
  changes outputs (the key is honoured).
- torch nn.Threshold with hls4ml's config_from_pytorch_model config unchanged but the param type, and Keras 3
  ReLU(threshold) with config_from_keras_model's: equal to hls4ml's csim (extended).
- --float equals onnxruntime's/torch's/Keras 2's; the C equals the emulator; the Verilog (io_parallel and
  io_stream) equals the emulator (Icarus; Verilator verify extended); the HLS C++ is written.
- Refused, naming the layer: torch Threshold with a value other than 0, an ONNX alpha that is not finite
  (Keras ReLU with threshold and negative_slope or max_value: test_messages)."""
import contextlib
import copy
import io
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, keras3_or_skip, predict, run

os.environ.setdefault("KERAS_BACKEND", "torch")   # before hls4ml imports Keras (the tests' setting)
THETA = 0.7


def onnx_model(path, theta=THETA, seed=1):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((4, 6)) * 1.5).astype(np.float32)
    w2 = rng.standard_normal((6, 3)).astype(np.float32)
    g = h.make_graph([h.make_node("MatMul", ["x", "W1"], ["h"], name="MatMul_0"),
                      h.make_node("ThresholdedRelu", ["h"], ["r"], name="ThresholdedRelu_0", alpha=theta),
                      h.make_node("MatMul", ["r", "W2"], ["y"], name="MatMul_1")], "g",
                     [h.make_tensor_value_info("x", T.FLOAT, ["N", 4])],
                     [h.make_tensor_value_info("y", T.FLOAT, ["N", 3])],
                     [nh.from_array(w1, "W1"), nh.from_array(w2, "W2")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    onnx.save(m, str(path))
    return w1, w2


def events(n=10000, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-4, 4, (n // 2, 4)), rng.standard_normal((n - n // 2, 4)) * 2])


def write_cfg(path, param):
    path.write_text("Model:\n  Precision:\n    default: fixed<12,4>\n    accum: fixed<32,12>\n"
                    f"LayerName:\n  thresholdedrelu_0:\n    Precision:\n      param: '{param}'\n")
    return path


def onnx_csim(tmp_path, param):
    """The ONNX model through hls4ml 1.3 (qonnx-cleaned, Vivado io_parallel) with param type `param`."""
    hls4ml = pytest.importorskip("hls4ml")
    pytest.importorskip("qonnx")
    import onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.util.cleanup import cleanup_model
    onnx_model(tmp_path / "m.onnx")
    mw = cleanup_model(ModelWrapper(onnx.load(str(tmp_path / "m.onnx"))))
    mw = cleanup_model(mw.transform(ConvertToChannelsLastAndClean()))
    cfg = {"Model": {"Precision": {"default": "fixed<12,4>", "accum": "fixed<32,12>"}, "ReuseFactor": 1,
                     "Strategy": "Latency"},
           "LayerName": {"ThresholdedRelu_0": {"Precision": {"param": param}}}}
    with contextlib.redirect_stdout(io.StringIO()):
        hm = hls4ml.converters.convert_from_onnx_model(mw, output_dir=str(tmp_path / "prj"), io_type="io_parallel",
                                                       backend="Vivado", hls_config=copy.deepcopy(cfg))
        hm.compile()
    x = events()
    return x, np.asarray(hm.predict(x), dtype=np.float64).reshape(len(x), -1)


def check_onnx_csim(tmp_path, param, other=None):
    x, ref = onnx_csim(tmp_path, param)
    got = predict(tmp_path / "m.onnx", x, tmp_path, "-c", write_cfg(tmp_path / "c.yml", param), "--hls4ml")
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert np.count_nonzero(ref < 0) > 1000 and np.count_nonzero(ref > 0) > 1000
    if other:   # the param type is honoured: another one changes outputs
        alt = predict(tmp_path / "m.onnx", x, tmp_path, "-c", write_cfg(tmp_path / "c2.yml", other), "--hls4ml")
        assert np.count_nonzero(alt != ref) > 0
    return ref


REF = pathlib.Path(__file__).parent / "ref" / "csim" / "thresholded_relu_onnx.npy"


def test_onnx_equals_stored_hls4ml_csim(tmp_path):
    """hls4ml's csim outputs of the first 2,000 events (param fixed<6,2>), stored as fixed<12,4> codes (int16);
    test_onnx_equals_hls4ml_csim checks the file against a fresh csim."""
    onnx_model(tmp_path / "m.onnx")
    x, ref = events()[:2000], np.load(REF).astype(np.float64) / 256
    got = predict(tmp_path / "m.onnx", x, tmp_path, "-c", write_cfg(tmp_path / "c.yml", "fixed<6,2>"), "--hls4ml")
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    alt = predict(tmp_path / "m.onnx", x, tmp_path, "-c", write_cfg(tmp_path / "c2.yml", "fixed<12,4>"), "--hls4ml")
    assert np.count_nonzero(alt != ref) > 0   # the param type is honoured


@pytest.mark.extended
def test_onnx_equals_hls4ml_csim(tmp_path):
    ref = check_onnx_csim(tmp_path, "fixed<6,2>", other="fixed<12,4>")
    assert np.array_equal(np.load(REF), np.round(ref[:2000] * 256).astype(np.int16))


@pytest.mark.extended
@pytest.mark.parametrize("param", ["auto", "ufixed<3,1>", "fixed<8,1,RND,SAT>", "fixed<4,4>"])
def test_onnx_equals_hls4ml_csim_param_types(param, tmp_path):
    check_onnx_csim(tmp_path, param)


def test_onnx_float_c_and_hls(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from test_cemu import c_and_emulator
    onnx_model(tmp_path / "m.onnx")
    x = events(3000, seed=2)
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"))
    ref = sess.run(None, {"x": x.astype(np.float32)})[0].astype(np.float64)
    assert np.abs(predict(tmp_path / "m.onnx", x, tmp_path, "--float") - ref).max() < 1e-5
    cfg = write_cfg(tmp_path / "c.yml", "fixed<6,2>")
    got, emu = c_and_emulator(tmp_path / "m.onnx", "m", x, tmp_path, "-c", cfg)
    assert np.count_nonzero(got != emu) == 0 and np.count_nonzero(emu != 0) > 1000
    out = tmp_path / "hls"
    run("compile", tmp_path / "m.onnx", "-o", out, "-c", cfg, "--emit", "c,hls")
    src = "".join(p.read_text() for p in (out / "hls").rglob("*.cpp"))
    assert "theta" in src and "> theta" in src


def onnx_conv_model(path):
    """Conv1D [2 channels, 8 steps] -> ThresholdedRelu (theta 0.7) for io_stream."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh
    w = (np.random.default_rng(3).standard_normal((3, 2, 3)) * 1.5).astype(np.float32)
    g = h.make_graph([h.make_node("Conv", ["x", "W"], ["h"], name="conv", kernel_shape=[3]),
                      h.make_node("ThresholdedRelu", ["h"], ["y"], name="thr", alpha=THETA)], "g",
                     [h.make_tensor_value_info("x", T.FLOAT, ["N", 2, 8])],
                     [h.make_tensor_value_info("y", T.FLOAT, ["N", 3, 6])], [nh.from_array(w, "W")])
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), str(path))


@pytest.mark.skipif(shutil.which("iverilog") is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("io", ["parallel", "stream"])
def test_rtl_icarus(io, tmp_path):
    if io == "parallel":
        onnx_model(tmp_path / "m.onnx")
    else:
        onnx_conv_model(tmp_path / "m.onnx")
    out = tmp_path / "out"
    run("compile", tmp_path / "m.onnx", "-o", out, "--precision", "fixed<10,3>", "--io", io)
    icarus_bench(out, n=300)


@pytest.mark.extended
@pytest.mark.skipif(shutil.which("verilator") is None, reason="needs verilator")
@pytest.mark.parametrize("theta,param", [(THETA, "fixed<6,2>"), (-9.0, "fixed<8,6>"), (9.0, "fixed<8,6>"),
                                         (0.0, "fixed<12,4>")])
def test_rtl_verilator_verify(theta, param, tmp_path):
    """theta inside the input's range [-8, 8), below it (every code passes), above it (none does), 0 (relu)."""
    onnx_model(tmp_path / "m.onnx", theta=theta)
    out = tmp_path / "out"
    run("compile", tmp_path / "m.onnx", "-o", out, "-c", write_cfg(tmp_path / "c.yml", param))
    run("verify", out, "--n", "3000")


def test_refused(tmp_path):
    onnx_model(tmp_path / "nan.onnx", theta=float("nan"))
    r = run("compile", tmp_path / "nan.onnx", "-o", tmp_path / "out", check=False)
    assert r.returncode != 0 and "thresholdedrelu_0" in r.stderr.lower() and "finite alpha" in r.stderr, r.stderr


def test_torch_threshold_value_refused():
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from etchnn.errors import EtchnnError
    from etchnn.frontends import serialize
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Threshold(0.5, -1.0))
    with pytest.raises(EtchnnError, match=r"layer '1' \(Threshold\): expected value 0"):
        serialize(net, input_shape=(4,))


def torch_net():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Threshold(THETA, 0.0), torch.nn.Linear(6, 3))
    return net.eval()


def test_torch_float(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from etchnn.frontends import serialize
    net = torch_net()
    suffix, data = serialize(net, input_shape=(4,))
    (tmp_path / f"m{suffix}").write_bytes(data)
    x = events(2000)
    with torch.no_grad():
        ref = net(torch.from_numpy(x.astype(np.float32))).numpy().astype(np.float64)
    assert np.abs(predict(tmp_path / f"m{suffix}", x, tmp_path, "--float") - ref).max() < 1e-5


@pytest.mark.extended
def test_torch_equals_hls4ml_csim_its_config(tmp_path):
    """config_from_pytorch_model's config, unchanged but the Threshold's param type, given to both."""
    pytest.importorskip("torch")
    hls4ml = pytest.importorskip("hls4ml")
    yaml = pytest.importorskip("yaml")
    from etchnn.frontends import serialize
    net = torch_net()
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = hls4ml.utils.config_from_pytorch_model(net, (4,), granularity="name", default_precision="fixed<12,4>",
                                                     backend="Vivado")
        cfg["LayerName"]["_1"]["Precision"]["param"] = "fixed<6,2>"
        hm = hls4ml.converters.convert_from_pytorch_model(net, output_dir=str(tmp_path / "prj"), io_type="io_parallel",
                                                          backend="Vivado", hls_config=copy.deepcopy(cfg))
        hm.compile()
    x = events()
    ref = np.asarray(hm.predict(x), dtype=np.float64).reshape(len(x), -1)
    suffix, data = serialize(net, input_shape=(4,))
    (tmp_path / f"m{suffix}").write_bytes(data)
    hls = {k: v for k, v in cfg.items() if k in ("Model", "LayerName", "LayerType")}   # without the torch module
    (tmp_path / "c.yml").write_text(yaml.safe_dump({"HLSConfig": hls}))
    got = predict(tmp_path / f"m{suffix}", x, tmp_path, "-c", tmp_path / "c.yml", "--hls4ml")
    assert np.count_nonzero(got != ref) == 0 and np.count_nonzero(ref != 0) > 10000


@pytest.mark.extended
def test_keras3_relu_threshold_equals_hls4ml_csim(tmp_path):
    from conftest import keras_equals_hls4ml_csim
    keras = keras3_or_skip()
    keras.utils.set_random_seed(3)
    init = keras.initializers.RandomNormal(stddev=2.0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, kernel_initializer=init, name="d1"),
                          keras.layers.ReLU(threshold=THETA, name="t1"),
                          keras.layers.Dense(3, kernel_initializer=init, name="d2")])
    keras_equals_hls4ml_csim(m, "fixed<12,4>", tmp_path)


KERAS2 = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tf_keras as k
d = sys.argv[1]
k.utils.set_random_seed(2)
m = k.Sequential([k.Input((4,)), k.layers.Dense(6, name="d1"), k.layers.ThresholdedReLU(theta=0.3, name="t1"),
                  k.layers.Dense(3, name="d2")])
x = np.random.default_rng(5).uniform(-3, 3, (2000, 4)).astype(np.float32)
np.save(os.path.join(d, "x.npy"), x)
np.save(os.path.join(d, "y.npy"), m.predict(x, verbose=0))
m.save(os.path.join(d, "m.h5"))
"""


@pytest.mark.extended
def test_keras2_thresholded_relu_float(tmp_path):
    pytest.importorskip("tf_keras")
    r = subprocess.run([sys.executable, "-c", KERAS2, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    x, ref = np.load(tmp_path / "x.npy").astype(np.float64), np.load(tmp_path / "y.npy").astype(np.float64)
    got = predict(tmp_path / "m.h5", x, tmp_path, "--float")
    assert np.abs(got - ref).max() < 1e-5
    run("compile", tmp_path / "m.h5", "-o", tmp_path / "out", "--no-rtl")


@pytest.mark.extended
def test_hls_cpp_csim_equals_predict(tmp_path):
    """The HLS C++ project (theta in its param type, x > theta with ap_fixed) built with g++ equals the emulator."""
    from test_hls import csim_equals_predict
    onnx_model(tmp_path / "m.onnx")
    csim_equals_predict(tmp_path / "m.onnx", tmp_path, opts=("-c", write_cfg(tmp_path / "c.yml", "fixed<6,2>")),
                        n=3000)
