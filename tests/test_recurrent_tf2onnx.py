"""Recurrent layers from Keras 2 (tf_keras) through tf2onnx (issue 12, the ONNX path tf2onnx writes): small
seeded models (no training) exported with tf2onnx.convert.from_keras at opsets 13 and 18, then read by etchnn.
Checked on 1,000 inputs per model:
- `--float` on the .onnx equals onnxruntime (float32) to 1e-5 (measured: at most 3e-7);
- `--precision fixed<16,6>` on the .onnx equals the same on the Keras .h5 bit for bit (tf2onnx's LSTM/GRU
  node with its Transpose/Squeeze/Unsqueeze plumbing, a ReverseSequence before it for go_backwards, is the
  Keras layer's computation);
- what tf2onnx writes as a TensorFlow while loop (SimpleRNN; GRU with reset_after=False: a Loop node) is
  refused naming the Loop node.
Extended: TensorFlow and tf2onnx take ~20 s to export the models; skipped without tf2onnx."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import predict, run

pytestmark = pytest.mark.extended

GEN = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf, tf_keras as k, tf2onnx
d, opset = sys.argv[1], int(sys.argv[2])
L = k.layers
CASES = {
    "lstm": lambda: L.LSTM(4, name="lstm"),
    "lstm_back": lambda: L.LSTM(4, go_backwards=True, name="lstm"),
    "lstm_seq_back": lambda: L.LSTM(4, return_sequences=True, go_backwards=True, name="lstm"),
    "gru_ra": lambda: L.GRU(4, reset_after=True, name="gru"),
    "gru_back_seq": lambda: L.GRU(4, go_backwards=True, return_sequences=True, name="gru"),
    "bi_lstm": lambda: L.Bidirectional(L.LSTM(4), name="bi"),
    "bi_gru_seq": lambda: L.Bidirectional(L.GRU(3, return_sequences=True), name="bi"),
    "rnn": lambda: L.SimpleRNN(4, name="rnn"),
    "gru_rb": lambda: L.GRU(4, reset_after=False, name="gru"),
}
for name, make in CASES.items():
    k.utils.set_random_seed(7)
    m = k.Sequential([L.Input((5, 3), name="x"), make(), L.Flatten(name="flat"), L.Dense(2, name="out")])
    m.save(os.path.join(d, name + ".h5"))
    tf2onnx.convert.from_keras(m, input_signature=(tf.TensorSpec((None, 5, 3), tf.float32, name="x"),),
                               opset=opset, output_path=os.path.join(d, name + ".onnx"))
"""
READ = ["lstm", "lstm_back", "lstm_seq_back", "gru_ra", "gru_back_seq", "bi_lstm", "bi_gru_seq"]
LOOP = ["rnn", "gru_rb"]


@pytest.fixture(scope="module", params=[13, 18])
def exported(request, tmp_path_factory):
    pytest.importorskip("tf2onnx")
    pytest.importorskip("tf_keras")
    d = tmp_path_factory.mktemp(f"tf2onnx{request.param}")
    r = subprocess.run([sys.executable, "-c", GEN, str(d), str(request.param)], capture_output=True, text=True,
                       timeout=900, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 0, r.stderr[-3000:]
    return d


def test_tf2onnx_equals_ort_and_keras(exported, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    x = np.random.default_rng(5).uniform(-1.5, 1.5, (1000, 5, 3))
    flat = x.reshape(len(x), -1)
    for name in READ:
        onnx_path, h5 = exported / f"{name}.onnx", exported / f"{name}.h5"
        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        ref = sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})[0]
        got = predict(onnx_path, flat, tmp_path, "--float")
        np.testing.assert_allclose(got.reshape(ref.shape), ref, rtol=1e-5, atol=1e-5, err_msg=name)
        a = predict(onnx_path, flat, tmp_path, "--precision", "fixed<16,6>")
        b = predict(h5, flat, tmp_path, "--precision", "fixed<16,6>")
        assert np.array_equal(a, b), (name, int((a != b).sum()))


def test_tf2onnx_loop_refused(exported, tmp_path):
    """SimpleRNN and GRU reset_after=False become a TF while loop (a Loop node): refused naming it."""
    for name in LOOP:
        r = run("predict", exported / f"{name}.onnx", "--input", tmp_path / "none.npy", "--output",
                tmp_path / "y.npy", "--float", check=False)
        assert r.returncode != 0, r.stderr
        assert f"{name}.onnx: node '" in r.stderr and "while_loop' (Loop): expected no Loop" in r.stderr, r.stderr


def test_reverse_sequence_read_elsewhere_refused(exported, tmp_path):
    """A ReverseSequence output read by anything but a forward recurrent node is refused naming it."""
    onnx = pytest.importorskip("onnx")
    mp = onnx.load(str(exported / "lstm_seq_back.onnx"))
    lstm = next(n for n in mp.graph.node if n.op_type == "LSTM")
    for a in lstm.attribute:
        if a.name == "direction":
            a.s = b"reverse"
    onnx.save(mp, str(tmp_path / "m.onnx"))
    r = run("predict", tmp_path / "m.onnx", "--input", tmp_path / "none.npy", "--output", tmp_path / "y.npy",
            "--float", check=False)
    assert r.returncode != 0 and "expected direction forward on the ReverseSequence output" in r.stderr, r.stderr
