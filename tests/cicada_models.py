"""CICADA-shaped models built from a script (nothing binary is committed).

Used by tests/test_cicada.py and bench/cicada.py; needs only numpy and onnx.

CICADA (the CMS calorimeter anomaly trigger) reads the 18x14 grid of regional
calorimeter energies, 10-bit unsigned integers, with one 3x3 stride-2
convolution of 3 filters, then Dense 20 and Dense 1.  The model here has that
shape and random, deterministic weights; it is written as PyTorch would export
it (ONNX, NCHW input [1, 1, 18, 14], so an event is the 252 energies in
row-major order).
"""
import os

import numpy as np

H, W = 18, 14
N_IN = H * W

# 8-bit types: weights fixed<8,x>, activations 8-10 bits, exact accumulators.
# The two Transposes and the Reshape are layout moves the ONNX reader inserts
# (NCHW <-> channels-last); they keep the type of what they move.
CONFIG_8BIT = """\
Model:
  Precision: fixed<8,3>
LayerName:
  x:
    Precision: {result: 'ufixed<10,10>'}
  conv_to_channels_last1:
    Precision: {result: 'ufixed<10,10>'}
  conv:
    Precision: {weight: 'fixed<8,0>', bias: 'fixed<8,4>', accum: auto, result: 'fixed<10,9,RND,SAT>'}
  relu1:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  flatten_to_channels_first4:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  flatten:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  dense1:
    Precision: {weight: 'fixed<8,0>', bias: 'fixed<8,4>', accum: auto, result: 'fixed<10,8,RND,SAT>'}
  relu2:
    Precision: {result: 'ufixed<8,7,TRN,SAT>'}
  dense2:
    Precision: {weight: 'fixed<8,1>', bias: 'fixed<8,4>', accum: auto, result: 'fixed<10,6,RND,SAT>'}
"""


def cicada_onnx(seed=2026):
    """18x14x1 -> Conv 3 filters 3x3 stride 2 (valid: 3x8x6) -> Relu -> Flatten (144)
    -> Dense 20 -> Relu -> Dense 1.  Returns an onnx.ModelProto."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def init(name, a):
        return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)

    rng = np.random.default_rng(seed)
    # scaled for energies of a few tens of counts per region (see energies())
    wc = rng.standard_normal((3, 1, 3, 3)) * 0.08
    bc = rng.standard_normal(3) * 2.0
    w1 = rng.standard_normal((3 * 8 * 6, 20)) * 0.08
    b1 = rng.standard_normal(20) * 0.5
    w2 = rng.standard_normal((20, 1)) * 0.3
    b2 = rng.standard_normal(1) * 0.2
    nodes = [
        helper.make_node("Conv", ["x", "wc", "bc"], ["c"], name="conv", kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Relu", ["c"], ["r1"], name="relu1"),
        helper.make_node("Flatten", ["r1"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w1", "b1"], ["h"], name="dense1"),
        helper.make_node("Relu", ["h"], ["r2"], name="relu2"),
        helper.make_node("Gemm", ["r2", "w2", "b2"], ["y"], name="dense2"),
    ]
    g = helper.make_graph(nodes, "cicada", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, H, W])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
                          [init("wc", wc), init("bc", bc), init("w1", w1), init("b1", b1), init("w2", w2),
                           init("b2", b2)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def energies(n, seed=0):
    """n events of 252 integer energies in [0, 1023]: most regions near zero
    (exponential, mean 6), a few hot regions, and one event in ten uniform over
    the whole 10-bit range (saturating every layer)."""
    rng = np.random.default_rng(seed)
    x = rng.exponential(6.0, (n, N_IN))
    hot = rng.random((n, N_IN)) < 0.03
    x[hot] += rng.exponential(150.0, hot.sum())
    full = rng.random(n) < 0.1
    x[full] = rng.integers(0, 1024, (full.sum(), N_IN))
    return np.clip(np.floor(x), 0, 1023).astype(np.float64)


# The autoencoder at 8-bit weights; the anomaly-score path (diff, square, mean)
# is wider, since the squared error of 10-bit energies needs 20 bits (exact here: diff and square lose nothing).
AE_CONFIG_8BIT = """\
Model:
  Precision: fixed<8,3>
LayerType:
  Conv2D:
    Precision: {weight: 'fixed<8,1>', bias: 'fixed<8,4>', accum: auto}
  Dense:
    Precision: {weight: 'fixed<8,1>', bias: 'fixed<8,4>', accum: auto}
LayerName:
  x:
    Precision: {result: 'ufixed<10,10>'}
  enc_conv1:
    Precision: {result: 'fixed<10,9,RND,SAT>'}
  enc_relu1:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  enc_conv2:
    Precision: {result: 'fixed<10,9,RND,SAT>'}
  enc_relu2:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  flat:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  latent:
    Precision: {result: 'fixed<10,9,RND,SAT>'}
  latent_relu:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  dec_dense:
    Precision: {result: 'fixed<10,9,RND,SAT>'}
  dec_relu:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  dec_reshape:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  dec_up:
    Precision: {result: 'ufixed<8,8,TRN,SAT>'}
  dec_conv:
    Precision: {result: 'fixed<10,10,RND,SAT>'}
  diff:
    Precision: {result: 'fixed<12,12,TRN,SAT>'}
  sq:
    Precision: {result: 'ufixed<20,20,TRN,SAT>'}
  sq_flat:
    Precision: {result: 'ufixed<20,20,TRN,SAT>'}
  mse:
    Precision: {weight: 'ufixed<8,-7>', accum: auto, result: 'ufixed<18,18,RND,SAT>'}
"""


def cicada_autoencoder_keras(path, seed=7, steps=60):
    """A convolutional autoencoder for the 18x14 grid whose output is the anomaly
    score, computed in the network: mean over the 252 regions of (x - x_rec)^2.

    encoder: Conv2D 4 3x3 stride 2 same (9x7x4), ReLU, Conv2D 2 3x3 same, ReLU,
    Flatten (126), Dense 8 (latent), ReLU; decoder: Dense 63, ReLU, Reshape 9x7x1,
    UpSampling2D 2 (nearest, 18x14), Conv2D 1 3x3 same (reconstruction); score:
    Subtract(x, x_rec), Multiply(d, d), Flatten, Dense 1 with constant weights
    1/252 (the mean; GlobalAveragePooling2D would be the same function up to
    the rounding of its division).

    Trained for a few Adam steps on energies() so the reconstruction is not
    trivial; saved as a Keras 3 .keras file at path.  Needs Keras 3 (torch).
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    inp = keras.Input((H, W, 1), name="x")
    h = layers.Conv2D(4, 3, strides=2, padding="same", name="enc_conv1")(inp)
    h = layers.ReLU(name="enc_relu1")(h)
    h = layers.Conv2D(2, 3, padding="same", name="enc_conv2")(h)
    h = layers.ReLU(name="enc_relu2")(h)
    h = layers.Flatten(name="flat")(h)
    z = layers.ReLU(name="latent_relu")(layers.Dense(8, name="latent")(h))
    d = layers.ReLU(name="dec_relu")(layers.Dense(63, name="dec_dense")(z))
    d = layers.Reshape((9, 7, 1), name="dec_reshape")(d)
    d = layers.UpSampling2D(2, name="dec_up")(d)
    rec = layers.Conv2D(1, 3, padding="same", name="dec_conv")(d)
    ae = keras.Model(inp, rec)
    ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    x = energies(2000, seed=seed)
    x = x[x.max(axis=1) < 1023].reshape(-1, H, W, 1).astype(np.float32)    # not the uniform events
    ae.fit(x, x, batch_size=64, epochs=max(1, steps * 64 // len(x)), verbose=0, shuffle=False)
    diff = layers.Subtract(name="diff")([inp, rec])
    sq = layers.Multiply(name="sq")([diff, diff])
    f = layers.Flatten(name="sq_flat")(sq)
    mse = layers.Dense(1, use_bias=False, name="mse", trainable=False,
                       kernel_initializer=keras.initializers.Constant(1.0 / N_IN))(f)
    m = keras.Model(inp, mse, name="cicada_ae")
    m.save(str(path))
    return m
