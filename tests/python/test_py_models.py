"""Keras 3 and torch models trained on sklearn's digits: convert, predict bit
for bit against the CLI on the same ONNX graph, accuracy at fixed<16,6> within
1 percentage point of float; the torch layer zoo; Keras errors."""
import numpy as np
import pytest

from helpers import cli_predict


def accuracy(y, labels):
    return float((np.asarray(y).argmax(1) == labels).mean())


def check_trained(etchnn, model, float_acc, digits, suffix, tmp_path):
    _, _, xte, yte = digits
    cfg = etchnn.config_from_model(model, granularity="name")
    fw = etchnn.convert(model, config=cfg, output_dir=tmp_path / "prj")
    y = fw.predict(xte)
    fixed_acc = accuracy(y, yte)
    print(f"\n{type(model).__name__}: float accuracy {float_acc:.4f}, fixed<16,6> accuracy {fixed_acc:.4f} "
          f"on {len(yte)} test digits")
    assert float_acc > 0.85
    assert abs(fixed_acc - float_acc) <= 0.01
    # the CLI on the model file the project holds (written from memory) gives the same bits
    d = fw.write()
    path = d / f"myproject{suffix}"
    assert path.exists()
    assert np.array_equal(y, cli_predict(path, xte, tmp_path, cfg))
    # the same graph in float is the source model
    from etchnn.profiling import float_outputs
    assert np.abs(fw.predict(xte, float_mode=True) - float_outputs(model, xte)).max() < 1e-4
    return fw


def test_torch_digits(etchnn, torch_digits, digits, tmp_path):
    net, acc = torch_digits
    fw = check_trained(etchnn, net, acc, digits, ".onnx", tmp_path)
    d = fw.output_dir   # the in-memory model is written beside the back ends
    assert list((d / "rtl").glob("*.v")) and list((d / "c").glob("*.c"))
    names = [L["name"] for L in fw.layers()]
    assert "fc1" in names and "fc2" in names and "out" in names and "act2" in names   # named after the modules


def test_keras_digits(etchnn, keras_digits, digits, tmp_path):
    m, acc = keras_digits
    fw = check_trained(etchnn, m, acc, digits, ".keras", tmp_path)   # read in memory as a Keras 3 archive
    names = [L["name"] for L in fw.layers()]
    assert names[1:] == ["fc1", "fc1_relu", "bn1", "fc2", "act2", "out", "softmax"]   # Keras names, as hls4ml


def test_torch_layer_zoo(etchnn):
    """Sequential, nested modules, functional forms: every supported layer
    goes through, and the float graph equals torch."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    F = torch.nn.functional
    torch.manual_seed(1)

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(12, 12)

        def forward(self, x):
            return F.hardtanh(F.leaky_relu(self.lin(x), 0.2) + torch.sigmoid(x) * 0.5)

    net = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(12, 12), torch.nn.BatchNorm1d(12), torch.nn.ReLU(),
        Block(),
        torch.nn.Linear(12, 8), torch.nn.Softplus(), torch.nn.Tanh(),
        torch.nn.Linear(8, 8), torch.nn.ELU(0.5), torch.nn.Sigmoid(),
        torch.nn.Linear(8, 8), torch.nn.LeakyReLU(0.05), torch.nn.Hardtanh(),
        torch.nn.Linear(8, 4), torch.nn.Softmax(dim=-1),
    )
    with torch.no_grad():   # a BatchNorm with statistics of its own
        net[2].running_mean.uniform_(-0.5, 0.5)
        net[2].running_var.uniform_(0.5, 2.0)
    net.eval()
    x = np.random.default_rng(0).uniform(-1, 1, (500, 3, 4)).astype(np.float32)
    fw = etchnn.convert(net, input_shape=(3, 4))
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    assert fw.input_size == 12
    assert np.abs(fw.predict(x, float_mode=True) - ref).max() < 1e-5
    assert np.abs(fw.predict(x) - ref).max() < 0.05   # softmax at fixed<16,6>: steps of 2^-10
    with pytest.raises(etchnn.EtchnnError, match="input_shape"):
        etchnn.convert(torch.nn.Sequential(torch.nn.ReLU()))


def _torch_named_nets(torch):
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 8)

        def forward(self, x):
            return torch.relu(self.lin(x))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8)
            self.act = torch.nn.ReLU()
            self.blk = Block()
            self.seq = torch.nn.Sequential(torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1))

        def forward(self, inp):
            h = self.blk(self.act(self.fc1(inp)))
            return self.seq(torch.relu(h) + h)

    torch.manual_seed(4)
    return [(Net().eval(), ["inp", "fc1", "act", "blk_lin", "relu", "relu_1", "add", "seq_0", "seq_1"]),
            (torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval(),
             ["input_1", "_0", "_1", "_2"])]


def test_torch_layer_names_as_hls4ml(etchnn):
    """torch models' layers carry torch.fx's names, as hls4ml's PyTorch reader
    names them (the input after forward()'s argument, 'input_1' for
    nn.Sequential; 'seq.0' -> 'seq_0', '0' -> '_0'; functions 'relu',
    'relu_1'), so that a config hls4ml writes reaches the same layers: a
    narrow result type on one layer of hls4ml's config changes that layer."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    x = np.random.default_rng(5).uniform(-2, 2, (200, 4)).astype(np.float32)
    for net, want in _torch_named_nets(torch):
        names = list(etchnn.config_from_model(net, granularity="name", input_shape=(4,))["LayerName"])
        assert names == want
        try:
            import hls4ml
        except ImportError:
            hls4ml = None
        if hls4ml is not None:
            cfg = hls4ml.utils.config_from_pytorch_model(net, (4,), granularity="name",
                                                         default_precision="fixed<16,6>")
            assert list(cfg["LayerName"]) == want
        else:
            cfg = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {n: {} for n in want}}
        layer = want[1]
        cfg["LayerName"][layer]["Precision"] = {"result": "fixed<4,2>"}
        fw = etchnn.convert(net, config=cfg, input_shape=(4,))
        assert {L["name"]: L for L in fw.layers()}[layer]["type"] == "fixed<4,2>"
        out = fw.trace(x)[layer]
        assert np.all(np.abs(out * 4 - np.round(out * 4)) == 0) and out.max() <= 1.75   # on its grid, clipped
    # a BatchNorm folded into the Linear before it: hls4ml's config names it too; accepted with a warning
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU()).eval()
    cfg = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {n: {} for n in ("input_1", "_0", "_1", "_2")}}
    with pytest.warns(etchnn.EtchnnWarning, match=r"LayerName\._1: folded into '_0'"):
        fw = etchnn.convert(net, config=cfg, input_shape=(4,))
    assert [L["name"] for L in fw.layers()] == ["input_1", "_0", "_2"]


def test_keras_functional_and_errors(etchnn):
    keras = pytest.importorskip("keras")
    pytest.importorskip("onnx")
    keras.utils.set_random_seed(2)
    inp = keras.Input((6,), name="x")
    a = keras.layers.Dense(8, activation="tanh", name="a")(inp)
    b = keras.layers.Dense(8, activation="sigmoid", name="b")(inp)
    s = keras.layers.Add(name="sum")([a, b])
    s = keras.layers.ReLU(max_value=1.5, name="relu6ish")(s)
    out = keras.layers.Dense(3, activation="softmax", name="head")(s)
    m = keras.Model(inp, out)
    x = np.random.default_rng(0).uniform(-1, 1, (300, 6)).astype(np.float32)
    fw = etchnn.convert(m)
    assert np.abs(fw.predict(x, float_mode=True) - m.predict(x, verbose=0)).max() < 1e-5
    bad = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="gelu", name="d")])
    with pytest.raises(etchnn.EtchnnError, match=r"layer 'd' \(Dense\): expected an activation among .*got 'gelu'"):
        etchnn.convert(bad)


def test_keras_conv_in_memory(etchnn, tmp_path):
    """A Keras 3 conv net goes to the C Keras reader as an in-memory archive:
    the float graph equals Keras, the fixed-point outputs equal the CLI on
    the same archive saved to a file."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(3)
    m = keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1"),
        keras.layers.MaxPooling2D(2, name="p1"),
        keras.layers.Conv2D(4, 3, name="c2"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Activation("tanh", name="t"),
        keras.layers.Flatten(name="f"),
        keras.layers.Dense(5, activation="softmax", name="head"),
    ], name="convnet")
    x = np.random.default_rng(4).uniform(-1, 1, (300, 8, 8, 2)).astype(np.float32)
    fw = etchnn.convert(m, tables="exact")   # a softmax rounded once
    assert fw.input_size == 128
    assert np.abs(fw.predict(x, float_mode=True) - m.predict(x, verbose=0)).max() < 1e-5
    y = fw.predict(x)
    assert np.abs(y - m.predict(x, verbose=0)).max() < 0.05
    from etchnn.frontends import serialize
    suffix, data = serialize(m)   # the archive convert() handed the C library
    assert suffix == ".keras"
    (tmp_path / "convnet.keras").write_bytes(data)
    assert np.array_equal(y, cli_predict(tmp_path / "convnet.keras", x, tmp_path, None, "--tables", "exact"))


def test_torch_conv_transpose(etchnn):
    """nn.ConvTranspose2d/1d through etchnn.convert: the float graph equals torch; with no input_shape the
    message asks for it (the first layer is a transposed convolution, not a Linear)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    torch.manual_seed(8)
    nets = [(torch.nn.Sequential(torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
                                 torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4)), (2, 4, 4)),
            (torch.nn.Sequential(torch.nn.ConvTranspose1d(3, 2, 4, stride=2, groups=1), torch.nn.Tanh()), (3, 6))]
    for net, shape in nets:
        net.eval()
        x = np.random.default_rng(2).uniform(-1, 1, (100, *shape)).astype(np.float32)
        fw = etchnn.convert(net, input_shape=shape)
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy().reshape(len(x), -1)
        assert np.abs(fw.predict(x, float_mode=True).reshape(len(x), -1) - ref).max() < 1e-5
    with pytest.raises(etchnn.EtchnnError, match="pass input_shape"):
        etchnn.convert(nets[0][0])


def test_torch_conv_zoo(etchnn):
    """Conv1d, Conv2d (stride, padding, groups), BatchNorm1d/2d, pooling and
    Flatten in a custom forward(): the float graph equals torch, and the
    fixed-point outputs are close."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    F = torch.nn.functional
    torch.manual_seed(5)

    class Net2d(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = torch.nn.Conv2d(2, 4, 3, padding=1)
            self.bn1 = torch.nn.BatchNorm2d(4)
            self.c2 = torch.nn.Conv2d(4, 4, 3, stride=2, groups=2)
            self.fc = torch.nn.Linear(4 * 3 * 3, 3)

        def forward(self, x):
            x = F.relu(self.bn1(self.c1(x)))
            x = F.leaky_relu(self.c2(x), 0.1)
            return F.softmax(self.fc(torch.flatten(x, 1)), dim=1)

    class Net1d(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = torch.nn.Conv1d(3, 6, 3)
            self.bn = torch.nn.BatchNorm1d(6)
            self.pool = torch.nn.MaxPool1d(2)
            self.head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6 * 7, 4), torch.nn.Sigmoid())

        def forward(self, x):
            return self.head(self.pool(torch.tanh(self.bn(self.c1(x)))))

    class Functional(torch.nn.Module):   # parameters used through torch.nn.functional only
        def __init__(self):
            super().__init__()
            self.w1 = torch.nn.Parameter(torch.randn(4, 2, 3) * 0.4)
            self.b1 = torch.nn.Parameter(torch.randn(4) * 0.1)
            self.w2 = torch.nn.Parameter(torch.randn(3, 4 * 8) * 0.3)
            self.b2 = torch.nn.Parameter(torch.randn(3) * 0.1)

        def forward(self, x):
            x = F.hardtanh(F.conv1d(x, self.w1, self.b1, stride=2, padding=1), -0.5, 0.75)
            x = F.max_pool1d(torch.sigmoid(x), 1)
            return F.softmax(F.linear(torch.flatten(x, 1), self.w2, self.b2), dim=-1)

    for net, shape in ((Net2d(), (2, 8, 8)), (Net1d(), (3, 16)), (Functional(), (2, 16))):
        for mod in net.modules():
            if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                with torch.no_grad():
                    mod.running_mean.uniform_(-0.3, 0.3)
                    mod.running_var.uniform_(0.5, 2.0)
        net.eval()
        x = np.random.default_rng(6).uniform(-1, 1, (300, *shape)).astype(np.float32)
        fw = etchnn.convert(net, input_shape=shape, tables="exact")
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        assert np.abs(fw.predict(x, float_mode=True) - ref).max() < 1e-5, type(net).__name__
        assert np.abs(fw.predict(x) - ref).max() < 0.05, type(net).__name__


@pytest.mark.slow
@pytest.mark.parametrize("which", ["torch", pytest.param("keras", marks=pytest.mark.extended)])
def test_trained_verify(etchnn, which, digits, request, tmp_path):
    """The circuits of the trained digits models at fixed<16,6> equal their
    emulators on every test digit (Verilator, one event per clock)."""
    import shutil
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    model, _ = request.getfixturevalue(f"{which}_digits")
    fw = etchnn.convert(model, config=etchnn.config_from_model(model), output_dir=tmp_path / "prj")
    xte = digits[2]
    r = fw.verify(xte, verbose=False)
    print(f"\n{which} digits: {r}")
    assert r.ok and r["events"] == len(xte) and r["mismatches"] == 0 and r["valid_errors"] == 0, str(r)


def test_keras_tensorflow_backend(tmp_path):
    """Keras 3 on the TensorFlow backend (a child process: the backend is
    chosen at import): the in-memory archive path, float graph = Keras."""
    import importlib.util
    import os
    import subprocess
    import sys
    from helpers import ROOT
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
        pytest.skip("keras or tensorflow not installed")
    code = (
        "import numpy as np, keras, etchnn\n"
        "from etchnn.frontends import serialize\n"
        "assert keras.backend.backend() == 'tensorflow'\n"
        "keras.utils.set_random_seed(0)\n"
        "m = keras.Sequential([keras.Input((10,)), keras.layers.Dense(8, activation='relu', name='a'),\n"
        "                      keras.layers.BatchNormalization(name='bn'), keras.layers.Dense(3, name='b')])\n"
        "x = np.random.default_rng(0).uniform(-1, 1, (300, 10)).astype(np.float32)\n"
        "fw = etchnn.convert(m)\n"
        "print(serialize(m)[0], [L['name'] for L in fw.layers()][1:],\n"
        "      float(np.abs(fw.predict(x, float_mode=True) - m.predict(x, verbose=0)).max()))\n")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    last = r.stdout.strip().split("\n")[-1]
    assert last.startswith(".keras ['a', 'a_relu', 'bn', 'b'] ")
    assert float(last.rsplit(" ", 1)[1]) < 1e-5
