"""Fixtures for the Python package tests: the package from this checkout
(python/), the C library from build/ (or ETCHNN_LIB), sklearn's digits, and
small Keras 3 and torch models trained on them once per session."""
import os
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# tests/python is a package (its conftest must not shadow tests/conftest.py);
# its modules import their helpers by plain name
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
if os.environ.get("ETCHNN_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(ROOT / "python"))

# The sanitizer pass re-runs the suite against build/asan; this package loads
# the normal library into Python, so running it again there would test nothing new.
collect_ignore_glob = ["test_*.py"] if os.environ.get("ETCHNN_SANITIZED") == "1" else []


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: heavy (Verilator builds, Yosys); the sanitizer pass skips it")


@pytest.fixture(scope="session")
def digits():
    """(x_train, y_train, x_test, y_test): 8x8 digits scaled to [0, 1], split 50/50."""
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))
    half = len(x) // 2
    tr, te = idx[:half], idx[half:]
    return x[tr], y[tr], x[te], y[te]


@pytest.fixture(scope="session")
def torch_digits(digits):
    """A torch MLP with a custom forward (functional relu, flatten, BatchNorm)
    trained on digits; returns (model, float accuracy on the test half)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    xtr, ytr, xte, yte = digits
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(64, 32)
            self.bn1 = torch.nn.BatchNorm1d(32)
            self.fc2 = torch.nn.Linear(32, 16)
            self.act2 = torch.nn.LeakyReLU(0.1)
            self.out = torch.nn.Linear(16, 10)

        def forward(self, x):
            x = torch.flatten(x, 1)
            x = torch.nn.functional.relu(self.bn1(self.fc1(x)))
            x = self.act2(self.fc2(x))
            return torch.softmax(self.out(x), dim=1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for epoch in range(40):
        for k in range(0, len(xt), 128):
            opt.zero_grad()
            p = net(xt[k:k + 128])
            loss = torch.nn.functional.nll_loss(torch.log(p + 1e-9), yt[k:k + 128])
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        acc = float((net(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean())
    return net, acc


@pytest.fixture(scope="session")
def keras_digits(digits):
    """A Keras 3 Sequential (torch backend) trained on digits; returns
    (model, float accuracy on the test half)."""
    keras = pytest.importorskip("keras")
    pytest.importorskip("onnx")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras backend is {keras.backend.backend()}; these tests train with KERAS_BACKEND=torch")
    xtr, ytr, xte, yte = digits
    keras.utils.set_random_seed(0)
    m = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu", name="fc1"),
        keras.layers.BatchNormalization(name="bn1"),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(16, name="fc2"),
        keras.layers.LeakyReLU(0.1, name="act2"),
        keras.layers.Dense(10, name="out"),
        keras.layers.Activation("softmax", name="softmax"),
    ], name="digits_keras")
    m.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    m.fit(xtr, ytr, epochs=20, batch_size=128, verbose=0)
    acc = float((m.predict(xte, verbose=0).argmax(1) == yte).mean())
    return m, acc
