"""Small HGQ2 (hgq2 0.2, Keras 3) models for tests/test_hgq2.py, with every quantizer's bit widths
randomized per element (heterogeneous: k, i, f or k, b, i drawn at random, some elements pruned to
0 bits), and their references: hgq2's own Keras forward pass and hls4ml 1.3's C simulation
(Vivado, io_parallel; no precision configured: hls4ml's bit-exact flow derives every type from the
quantizers; the model-level precision is a placeholder).

The model input goes through one wrapping Quantizer ('inq', fixed i = 4, f = 8 or b = 12) that is not
randomized: both hls4ml and etchnn derive the input type from it; inputs beyond +-16 wrap there."""
import contextlib
import io
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")


def randomize(m, seed):
    """Random per-element bit widths for every fixed-point quantizer but the input's; random biases."""
    import keras
    rng = np.random.default_rng(seed)
    skip = {id(layer.quantizer) for layer in m._flatten_layers() if layer.name == "inq"}
    skip |= {id(layer.oq.quantizer) for layer in m._flatten_layers()   # tables: hgq2's default oq, 8 bits
             if type(layer).__name__ == "QUnaryFunctionLUT"}
    for layer in m._flatten_layers():
        cls = type(layer).__name__
        if id(layer) in skip or cls not in ("FixedPointQuantizerKIF", "FixedPointQuantizerKBI"):
            continue
        shp = layer._k.shape
        if cls == "FixedPointQuantizerKIF":   # i with fractional parts: the stored floats are rounded half to even
            layer._i.assign(rng.integers(-1, 4, shp).astype("float32") + rng.choice([0, 0.3, -0.3, 0.5], shp).astype("float32"))
            layer._f.assign(rng.integers(0, 6, shp).astype("float32"))
            layer._k.assign(rng.integers(0, 2, shp).astype("uint8"))
        else:
            layer._b.assign(rng.integers(0, 7, shp).astype("float32"))
            layer._i.assign(rng.integers(-2, 3, shp).astype("float32"))
            layer._k.assign((rng.random(shp) < 0.75).astype("uint8"))
    for layer in m.layers:
        for w in layer.weights:
            if w.path.endswith("/bias"):
                w.assign(np.random.default_rng(seed + 1).normal(0, 1, w.shape).astype("float32"))
            bn = {"bn_gamma": (1, 0.5), "bn_beta": (0, 1), "moving_mean": (0, 1)}.get(w.path.rsplit("/", 1)[-1])
            if bn:
                w.assign(rng.normal(*bn, w.shape).astype("float32"))
            elif w.path.endswith("/moving_variance"):
                w.assign(rng.uniform(0.2, 3, w.shape).astype("float32"))
    keras.utils.set_random_seed(seed)


def _input_quantizer(qtype, rnd):
    from hgq.config import QuantizerConfig
    from hgq.quantizer import Quantizer
    kw = dict(i0=4, f0=8) if qtype == "kif" else dict(i0=4, b0=12)
    return Quantizer(QuantizerConfig(qtype, "datalane", overflow_mode="WRAP", round_mode=rnd, **kw), name="inq")


def build(kind, rnd="RND", ovf="WRAP", qtype="kif", seed=0):
    """kind 'dense': Quantizer, QDense(relu), QDense(oq), QDense on 6 features;
    'einsum': on (4, 3): QEinsumDense abc,cd->abd (bias d, relu), QEinsumDense abd,bde->ae (bias e), QDense;
    'lut': on 6 features, QDense and QUnaryFunctionLUT (tanh, sigmoid, silu; one output type per table), QDense;
    'bn': on (4, 3): QBatchNormalization (per channel of 3), QBatchNormDense(relu) on the 12 flattened,
    QBatchNormalization (center and scale false; oq), QDense;
    'conv': on (10, 3): two QConv1D (one relu), QAdd, QSubtract, QMaximum, QDense(oq); a QConv2D
    branch (relu) and QDense; QMultiply of the two.  Datalane quantizers (iq, oq) of type qtype
    with rnd/ovf; weights and biases rnd with SAT_SYM (ovf WRAP) or ovf."""
    import keras
    from hgq.config import QuantizerConfigScope
    from hgq.layers import (QAdd, QBatchNormalization, QBatchNormDense, QConv1D, QConv2D, QDense, QEinsumDense, QMaximum,
                            QMultiply, QSubtract, QUnaryFunctionLUT)
    keras.utils.set_random_seed(seed)
    with QuantizerConfigScope(place="datalane", default_q_type=qtype, round_mode=rnd, overflow_mode=ovf), \
         QuantizerConfigScope(place=("weight", "bias"), round_mode=rnd, overflow_mode="SAT_SYM" if ovf == "WRAP" else ovf):
        if kind == "dense":
            inp = keras.Input((6,))
            x = _input_quantizer(qtype, rnd)(inp)
            x = QDense(8, activation="relu")(x)
            x = QDense(5, enable_oq=True)(x)
            out = QDense(3)(x)
        elif kind == "bn":
            inp = keras.Input((4, 3))
            x = _input_quantizer(qtype, rnd)(inp)
            x = QBatchNormalization()(x)
            x = QBatchNormDense(8, activation="relu")(keras.layers.Flatten()(x))
            x = QBatchNormalization(center=False, scale=False, enable_oq=True)(x)
            out = QDense(3)(x)
        elif kind == "einsum":
            inp = keras.Input((4, 3))
            x = _input_quantizer(qtype, rnd)(inp)
            x = QEinsumDense("abc,cd->abd", output_shape=(4, 5), bias_axes="d", activation="relu")(x)
            x = QEinsumDense("abd,bde->ae", output_shape=(6,), bias_axes="e")(x)
            out = QDense(3)(x)
        elif kind == "lut":
            inp = keras.Input((6,))
            x = _input_quantizer(qtype, rnd)(inp)
            x = QDense(8)(x)
            x = QUnaryFunctionLUT("tanh", allow_heterogeneous_table=False)(x)
            x = QDense(6)(x)
            x = QUnaryFunctionLUT("sigmoid", allow_heterogeneous_table=False)(x)
            x = QDense(4)(x)
            x = QUnaryFunctionLUT("silu", allow_heterogeneous_table=False)(x)
            out = QDense(3)(x)
        else:
            inp = keras.Input((10, 3))
            q = _input_quantizer(qtype, rnd)(inp)
            a = QConv1D(4, 3, activation="relu")(q)
            b = QConv1D(4, 3)(q)
            x = QMaximum()([QAdd()([a, b]), QSubtract()([a, b])])
            x = QDense(3, enable_oq=True)(keras.layers.Flatten()(x))
            y = QConv2D(2, (3, 3), activation="relu")(keras.layers.Reshape((5, 6, 1))(q))
            y = QDense(3)(keras.layers.Flatten()(y))
            out = QMultiply()([x, y])
        m = keras.Model(inp, out)
    randomize(m, seed)
    return m


def inputs(m, n=2000, seed=0):
    """Half normal (sigma 2), half uniform over [-20, 20] (beyond the input quantizer's +-16: wrapping);
    float32 values (Keras computes in float32)."""
    rng = np.random.default_rng(seed)
    shape = tuple(m.inputs[0].shape[1:])
    x = np.concatenate([rng.normal(0, 2, (n // 2,) + shape), rng.uniform(-20, 20, (n - n // 2,) + shape)])
    return x.astype(np.float32).astype(np.float64)


def keras_predict(m, x):
    return np.asarray(m.predict(x.astype(np.float32), verbose=0, batch_size=4096), dtype=np.float64).reshape(len(x), -1)


def overflows(m, x):
    """How many values the input quantizers (iq) of the Q layers saturated or wrapped: changed by more than
    one LSB (2^-f) of their element's type."""
    import keras
    from keras import ops
    pairs = []
    for layer in m.layers:
        if getattr(layer, "enable_iq", False) and hasattr(layer, "_iq"):
            multi = isinstance(layer.input, (list, tuple))
            pairs += list(zip(list(layer._iq) if multi else [layer._iq], layer.input if multi else [layer.input]))
    vs = keras.Model(m.inputs, [s for _, s in pairs]).predict(x.astype(np.float32), verbose=0, batch_size=4096)
    total = 0
    for (q, _), v in zip(pairs, vs if len(pairs) > 1 else [vs]):
        qv = ops.convert_to_numpy(q(v))
        f = np.broadcast_to(ops.convert_to_numpy(q.quantizer.kif[2]), v.shape)
        total += int(np.count_nonzero(np.abs(qv - v) > 2.0 ** -f))
    return total


def hls4ml_predict(m, x, prj):
    """hls4ml 1.3's csim of Keras model m (converted in memory) on x."""
    import hls4ml
    import torch   # hls4ml reads hgq2's bit widths with numpy(), which fails on tensors that require grad
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        hm = hls4ml.converters.convert_from_keras_model(
            m, output_dir=str(prj), backend="Vivado", io_type="io_parallel",
            hls_config={"Model": {"Precision": "fixed<33,17>", "ReuseFactor": 1, "Strategy": "Latency"}})
        hm.compile()
        y = hm.predict(x)
    return np.asarray(y, dtype=np.float64).reshape(len(x), -1)
