"""A QKeras model object (tf_keras, Keras 2) goes to the C Keras reader as
an .h5 image built in memory.  QKeras needs TensorFlow with Keras 2
(TF_USE_LEGACY_KERAS=1), which must not meet the Keras 3 the other tests
import, so the model lives in a child process; it checks etchnn.convert's
outputs against QKeras's own forward pass, and the parent checks them against
the CLI on the .h5 file tf_keras saves itself."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT, cli_predict

CHILD = r'''
import os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tf_keras as keras
from qkeras import QActivation, QDense, quantized_bits, quantized_relu
import etchnn
out = sys.argv[1]
keras.utils.set_random_seed(1)
inp = keras.Input((16,), name="x")
h = QDense(12, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
           name="fc1")(inp)
h = QActivation(quantized_relu(6, 2), name="relu1")(h)
h = QDense(5, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
           name="fc2")(h)
m = keras.Model(inp, h, name="qmlp")
x = np.floor(np.random.default_rng(0).uniform(-2, 2, (2000, 16)) * 1024) / 1024   # on the input type's grid
fw = etchnn.convert(m)   # no configuration: the quantizers give the types
print("layers", [L["name"] for L in fw.layers()])
print("output_type", fw.output_type)
y = fw.predict(x)
ref = m.predict(x, verbose=0).astype(np.float64)
print("differ_from_qkeras", int((y != ref).sum()), "of", y.size)
m.save(os.path.join(out, "qmlp.h5"))
np.save(os.path.join(out, "x.npy"), x)
np.save(os.path.join(out, "y.npy"), y)
'''


def test_qkeras_object_in_memory(etchnn, tmp_path):
    for mod in ("tensorflow", "tf_keras", "qkeras", "h5py"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} not installed")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    env.pop("KERAS_BACKEND", None)
    r = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    print(r.stdout)
    assert lines["layers"] == "['x', 'fc1', 'relu1', 'fc2']"
    assert lines["differ_from_qkeras"].startswith("0 of 10000")
    x, y = np.load(tmp_path / "x.npy"), np.load(tmp_path / "y.npy")
    assert np.array_equal(y, cli_predict(tmp_path / "qmlp.h5", x, tmp_path))
