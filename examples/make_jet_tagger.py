#!/usr/bin/env python3
"""Generate the etchnn example "jet tagger" ONNX model and its test inputs.

The model has the same shape as the hls4ml jet-tagging benchmark MLP:

    16 inputs -> Dense 64 ReLU -> Dense 32 ReLU -> Dense 32 ReLU -> Dense 5 Softmax

Real jet data is not used. A synthetic, deterministic 5-class dataset with 16
features is generated (class-dependent Gaussian mixtures in a low-dimensional
latent space, pushed through a fixed nonlinear map, plus noise, then
standardized). The MLP is trained with plain numpy (mini-batch Adam,
softmax cross-entropy) and exported with onnx.helper as:

    input 'input' float[1,16]
    Gemm 'fc1'    (B = fc1.weight [16,64], transB=0) -> Relu 'relu1'
    Gemm 'fc2'    (B = fc2.weight [64,32])           -> Relu 'relu2'
    Gemm 'fc3'    (B = fc3.weight [32,32])           -> Relu 'relu3'
    Gemm 'output' (B = output.weight [32,5])         -> Softmax 'softmax' (axis=-1)
    output 'probabilities' float[1,5]

Outputs (next to this script):
    jet_tagger.onnx          the model (opset 13, IR version 8)
    jet_tagger_inputs.dat    1000 test-split inputs, one sample per line,
                             16 whitespace-separated floats (hls4ml .dat format)

Dependencies: numpy and onnx. If onnxruntime is installed, the ONNX model is
also run on the test inputs and compared against the numpy forward pass.
Running the script twice produces a byte-identical jet_tagger.onnx.

Usage: python3 examples/make_jet_tagger.py
"""

import os

# Single-threaded BLAS so floating-point summation order (and therefore the
# trained weights) is the same on every run.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SEED = 20240611
N_FEATURES = 16
N_CLASSES = 5
CLASS_NAMES = ("g", "q", "W", "Z", "t")  # as in the hls4ml jet tagger
LAYERS = (("fc1", 64), ("fc2", 32), ("fc3", 32), ("output", N_CLASSES))
N_TRAIN = 40000
N_TEST = 10000
N_DAT = 1000
EPOCHS = 40
BATCH = 256
LR = 2e-3

HERE = os.path.dirname(os.path.abspath(__file__))
ONNX_PATH = os.path.join(HERE, "jet_tagger.onnx")
DAT_PATH = os.path.join(HERE, "jet_tagger_inputs.dat")


# --------------------------------------------------------------------------
# Synthetic dataset
# --------------------------------------------------------------------------
def make_dataset(rng, n):
    """Return (x float64 [n,16], y int64 [n]) with nonlinear class structure."""
    latent_dim = 6
    comps_per_class = 3
    # Fixed generator parameters (drawn from a separate stream so that the
    # dataset definition does not depend on n).
    prng = np.random.default_rng(SEED + 1)
    means = prng.normal(0.0, 1.1, size=(N_CLASSES, comps_per_class, latent_dim))
    scales = prng.uniform(0.5, 1.0, size=(N_CLASSES, comps_per_class, latent_dim))
    a1 = prng.normal(0.0, 1.0, size=(latent_dim, N_FEATURES)) / np.sqrt(latent_dim)
    a2 = prng.normal(0.0, 1.0, size=(latent_dim, N_FEATURES)) / np.sqrt(latent_dim)
    pairs = prng.integers(0, latent_dim, size=(N_FEATURES, 2))

    y = rng.integers(0, N_CLASSES, size=n)
    comp = rng.integers(0, comps_per_class, size=n)
    z = means[y, comp] + scales[y, comp] * rng.normal(size=(n, latent_dim))

    # Nonlinear observables: saturating projection, products of latent pairs,
    # and a "mass-like" positive quantity; plus detector-like noise.
    x = np.tanh(z @ a1) + 0.5 * np.sin(z @ a2)
    x += 0.3 * z[:, pairs[:, 0]] * z[:, pairs[:, 1]]
    x[:, :4] += 0.4 * np.log1p(np.sum(z[:, :3] ** 2, axis=1, keepdims=True))
    x += 0.35 * rng.normal(size=x.shape)
    return x, y.astype(np.int64)


# --------------------------------------------------------------------------
# numpy MLP
# --------------------------------------------------------------------------
def init_params(rng):
    params = []
    fan_in = N_FEATURES
    for _, width in LAYERS:
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, width))
        b = np.zeros(width)
        params.append([w, b])
        fan_in = width
    return params


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def forward(params, x):
    """Return list of activations; last element is the logits."""
    acts = [x]
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.maximum(h, 0.0)
        acts.append(h)
    return acts


def predict_proba(params, x):
    return softmax(forward(params, x)[-1])


def accuracy(params, x, y):
    return float(np.mean(np.argmax(forward(params, x)[-1], axis=1) == y))


def train(params, x, y, rng):
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    n = x.shape[0]
    for epoch in range(EPOCHS):
        perm = rng.permutation(n)
        lr = LR * (0.5 * (1.0 + np.cos(np.pi * epoch / EPOCHS)))  # cosine decay
        loss_sum = 0.0
        for start in range(0, n, BATCH):
            idx = perm[start:start + BATCH]
            xb, yb = x[idx], y[idx]
            acts = forward(params, xb)
            p = softmax(acts[-1])
            loss_sum += -np.sum(np.log(p[np.arange(len(yb)), yb] + 1e-12))
            # Backward pass (mean cross-entropy).
            g = p
            g[np.arange(len(yb)), yb] -= 1.0
            g /= len(yb)
            step += 1
            for i in range(len(params) - 1, -1, -1):
                w, _ = params[i]
                gw = acts[i].T @ g
                gb = g.sum(axis=0)
                if i > 0:
                    g = (g @ w.T) * (acts[i] > 0)
                gw += 1e-5 * w  # light L2
                for j, grad in enumerate((gw, gb)):
                    m[i][j] = b1 * m[i][j] + (1 - b1) * grad
                    v[i][j] = b2 * v[i][j] + (1 - b2) * grad * grad
                    mhat = m[i][j] / (1 - b1 ** step)
                    vhat = v[i][j] / (1 - b2 ** step)
                    params[i][j] -= lr * mhat / (np.sqrt(vhat) + eps)
        if epoch % 10 == 0 or epoch == EPOCHS - 1:
            print(f"  epoch {epoch + 1:3d}/{EPOCHS}  loss {loss_sum / n:.4f}")
    return params


# --------------------------------------------------------------------------
# ONNX export
# --------------------------------------------------------------------------
def build_onnx(params32):
    nodes = []
    inits = []
    prev = "input"
    for i, ((name, width), (w, b)) in enumerate(zip(LAYERS, params32)):
        inits.append(numpy_helper.from_array(w, name=f"{name}.weight"))
        inits.append(numpy_helper.from_array(b, name=f"{name}.bias"))
        gemm_out = f"{name}_out"
        nodes.append(helper.make_node(
            "Gemm", [prev, f"{name}.weight", f"{name}.bias"], [gemm_out],
            name=name, alpha=1.0, beta=1.0, transA=0, transB=0))
        if i < len(LAYERS) - 1:
            act = f"relu{i + 1}"
            nodes.append(helper.make_node("Relu", [gemm_out], [f"{act}_out"], name=act))
            prev = f"{act}_out"
        else:
            nodes.append(helper.make_node("Softmax", [gemm_out], ["probabilities"],
                                          name="softmax", axis=-1))
    graph = helper.make_graph(
        nodes, "jet_tagger",
        inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, N_FEATURES])],
        outputs=[helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                               [1, N_CLASSES])],
        initializer=inits,
        doc_string="hls4ml-style jet tagger MLP 16-64-32-32-5 trained on synthetic "
                   "data; output classes: " + ",".join(CLASS_NAMES))
    model = helper.make_model(
        graph, producer_name="etchnn-examples", producer_version="1.0",
        opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    model.model_version = 1
    return model


def numpy_forward32(params32, x):
    """float32 reference forward pass (same op order as the ONNX graph)."""
    h = x.astype(np.float32)
    for i, (w, b) in enumerate(params32):
        h = h @ w + b
        if i < len(params32) - 1:
            h = np.maximum(h, np.float32(0))
    h = h - h.max(axis=-1, keepdims=True)
    e = np.exp(h)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def main():
    t0 = time.time()
    rng = np.random.default_rng(SEED)

    x_all, y_all = make_dataset(rng, N_TRAIN + N_TEST)
    x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]
    x_test, y_test = x_all[N_TRAIN:], y_all[N_TRAIN:]
    mu = x_train.mean(axis=0)
    sd = x_train.std(axis=0)
    x_train = np.clip((x_train - mu) / sd, -3.0, 3.0)
    x_test = np.clip((x_test - mu) / sd, -3.0, 3.0)
    print(f"dataset: {N_TRAIN} train / {N_TEST} test, {N_FEATURES} features, "
          f"{N_CLASSES} classes; feature range [{x_train.min():.2f}, {x_train.max():.2f}]")

    params = init_params(rng)
    print("training (numpy, Adam, cross-entropy):")
    params = train(params, x_train, y_train, rng)

    params32 = [(w.astype(np.float32), b.astype(np.float32)) for w, b in params]
    x_test32 = x_test.astype(np.float32)
    tr_acc = float(np.mean(np.argmax(numpy_forward32(params32, x_train), 1) == y_train))
    te_acc = float(np.mean(np.argmax(numpy_forward32(params32, x_test32), 1) == y_test))
    print(f"train accuracy: {tr_acc:.4f}")
    print(f"test  accuracy: {te_acc:.4f}")

    model = build_onnx(params32)
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString(deterministic=True)
    with open(ONNX_PATH, "wb") as f:
        f.write(data)
    onnx.checker.check_model(ONNX_PATH, full_check=True)
    print(f"wrote {ONNX_PATH} ({len(data)} bytes); onnx.checker OK")

    x_dat = x_test32[:N_DAT]
    with open(DAT_PATH, "w") as f:
        for row in x_dat:
            f.write(" ".join("%.9g" % v for v in row) + "\n")
    # The .dat text must round-trip exactly to the float32 inputs.
    assert np.array_equal(np.loadtxt(DAT_PATH, dtype=np.float32), x_dat)
    print(f"wrote {DAT_PATH} ({N_DAT} samples)")

    ref = numpy_forward32(params32, x_dat)
    print(f"test accuracy on the {N_DAT} .dat samples: "
          f"{np.mean(np.argmax(ref, 1) == y_test[:N_DAT]):.4f}")
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed; skipping ORT comparison")
    else:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(ONNX_PATH, so, providers=["CPUExecutionProvider"])
        out = np.concatenate([sess.run(None, {"input": row[None, :]})[0] for row in x_dat])
        diff = float(np.max(np.abs(out - ref)))
        print(f"onnxruntime {ort.__version__} vs numpy: max |diff| = {diff:.3g}")
        if not diff <= 1e-6:
            print("ERROR: onnxruntime output differs from numpy reference", file=sys.stderr)
            sys.exit(1)
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
