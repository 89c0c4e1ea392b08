"""PReLU (Keras PReLU, ONNX PRelu, torch nn.PReLU through ONNX): x above 0, else alpha times x with one
alpha per element in the layer's weight type (hls4ml's param_t), in the emulator, the generated C and
the Verilog.

- torch nn.PReLU (one slope per feature, and one shared): --float equals torch; the C equals the
  emulator; the circuit equals the emulator (Icarus).
- Keras 3 Dense then PReLU (alphas of both signs, a shared axis broadcast) equals hls4ml's C simulation."""
import shutil

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, keras3_or_skip, keras_equals_hls4ml_csim, predict, run


def torch_prelu(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from etchnn.frontends import serialize   # python/ is on the path (conftest)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.PReLU(6), torch.nn.Linear(6, 3), torch.nn.PReLU(init=0.4))
    with torch.no_grad():
        net[1].weight.uniform_(-0.5, 0.8)
    net.eval()
    suffix, data = serialize(net, input_shape=(5,))
    path = tmp_path / f"prelu{suffix}"
    path.write_bytes(data)
    return net, path


def test_float_equals_torch_and_c_equals_emulator(tmp_path):
    torch = pytest.importorskip("torch")
    from test_cemu import c_and_emulator
    net, path = torch_prelu(tmp_path)
    x = np.random.default_rng(1).standard_normal((3000, 5)) * 2
    with torch.no_grad():
        ref = net(torch.from_numpy(x.astype(np.float32))).numpy().astype(np.float64)
    assert np.abs(predict(path, x, tmp_path, "--float") - ref).max() < 1e-5
    got, emu = c_and_emulator(path, "prelu", x, tmp_path, "--precision", "fixed<12,4>")
    assert np.count_nonzero(got != emu) == 0 and np.count_nonzero(emu < 0) > 1000
    assert np.abs(emu - ref).max() < 0.1   # a sanity bound: fixed<12,4> truncates weights and results


@pytest.mark.skipif(shutil.which("iverilog") is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
def test_rtl_equals_emulator(tmp_path):
    _, path = torch_prelu(tmp_path)
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--precision", "fixed<10,4>")
    icarus_bench(out, n=300)


@pytest.mark.slow
def test_keras_prelu_equals_hls4ml_csim(tmp_path):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(3)
    init = keras.initializers.RandomNormal(stddev=2.0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, kernel_initializer=init, name="d1"),
                          keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(-0.6, 0.9), name="p1")])
    keras_equals_hls4ml_csim(m, "fixed<12,4>", tmp_path)


def test_keras_prelu_shared_axis_float(tmp_path):
    """PReLU(shared_axes=[1]) on a Conv1D output: alpha [1, C] broadcast over the steps."""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(4)
    m = keras.Sequential([keras.Input((6, 2)), keras.layers.Conv1D(3, 2, name="c1"),
                          keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(-0.6, 0.9),
                                             shared_axes=[1], name="p1"), keras.layers.Flatten(name="f")])
    m.save(tmp_path / "m.keras")
    x = np.random.default_rng(5).standard_normal((400, 12))
    got = predict(tmp_path / "m.keras", x, tmp_path, "--float")
    assert np.abs(got - m.predict(x.reshape(-1, 6, 2), verbose=0)).max() < 1e-5
