"""The models of hls4ml 1.3's own test files (test/pytest/test_*.py), rebuilt here from what each test
builds: layer kinds, shapes, precisions, the configuration keys it sets and the inputs it draws.  No code of
hls4ml's tests is copied; each builder below is written from the description in its docstring.

A case: name (hls4ml test file : parametrisation), the file, a builder returning a Keras 3 model (Keras on the
torch backend, as the other tests here), a function making hls4ml's configuration from the model (given the
hls4ml module), and the inputs (one array per model input) for n events."""
import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass
class Case:
    name: str
    file: str
    build: Callable          # keras -> model
    config: Callable         # (hls4ml, model) -> dict
    inputs: Callable         # (rng, n) -> list of arrays
    io_type: str = "io_parallel"
    kind: str = "keras"      # 'torch': build(torch) returns a module, config gets it, inputs are channels first;
                             # 'qkeras': build(tf_keras, qkeras), run by tests/peer/qkeras_child.py (TensorFlow's Keras 2)
    shapes: tuple = ()       # torch: the input shapes (without the batch), for etchnn.frontends.to_onnx
    hls_layout: str = "first"   # torch: 'last' when hls4ml reads and writes channels last (conversion 'internal')
    convert: Callable = None   # (hls4ml, model, config, output_dir, io_type) -> hls model, when the test does not
                               # call convert_from_keras/pytorch_model


CASES = []


def case(*a, **kw):
    CASES.append(Case(*a, **kw))


def by_name():
    return {c.name: c for c in CASES}


def uniform(shape, lo=0.0, hi=1.0):
    return lambda rng, n: [rng.uniform(lo, hi, (n, *shape))]


def name_cfg(precision=None, **kw):
    """config_from_keras_model(granularity='name'), with default_precision when given."""
    def f(hls4ml, m):
        args = {"granularity": "name", "backend": "Vivado", **kw}
        if precision:
            args["default_precision"] = precision
        return hls4ml.utils.config_from_keras_model(m, **args)
    return f


def seq(keras, shape, *layers):
    m = keras.Sequential([keras.Input(shape)] + list(layers))
    return m


# ---- test_activations: one activation layer on 8 inputs drawn from U(-0.5, 0.5), the name-granularity
# config hls4ml writes, unchanged
def _activations():
    acts = {
        "relu": lambda L, k: L.ReLU(),
        "leaky_relu": lambda L, k: L.LeakyReLU(negative_slope=1.5),
        "leaky_relu_act": lambda L, k: L.Activation("leaky_relu"),
        "threshold_relu": None,   # Keras 3 has no ThresholdedReLU layer
        "elu": lambda L, k: L.ELU(alpha=1.25),
        "selu": lambda L, k: L.Activation("selu"),
        "prelu": lambda L, k: L.PReLU(alpha_initializer=k.initializers.Constant(0.25)),
        "softplus": lambda L, k: L.Activation("softplus"),
        "softsign": lambda L, k: L.Activation("softsign"),
        "tanh": lambda L, k: L.Activation("tanh"),
        "sigmoid": lambda L, k: L.Activation("sigmoid"),
        "hard_sigmoid": lambda L, k: L.Activation("hard_sigmoid"),
    }
    for nm, mk in acts.items():
        if mk is None:
            continue
        case(f"activations:{nm}", "test_activations.py", lambda k, mk=mk: seq(k, (8,), mk(k.layers, k)),
             name_cfg(), uniform((8,), -0.5, 0.5))
    # the (8, 8, 3) rows are io_stream only, and the test leaves PReLU out of them
    for nm, mk in acts.items():
        if mk is None or nm == "prelu":
            continue
        case(f"activations:{nm}-8x8x3@io_stream", "test_activations.py", lambda k, mk=mk: seq(k, (8, 8, 3), mk(k.layers, k)),
             name_cfg(), uniform((8, 8, 3), -0.5, 0.5), io_type="io_stream")


# ---- test_softmax: a lone softmax on 8 inputs N(0,2) (some moved up by x5+10), clipped to [-32, 31]; the input
# layer's result fixed<input_bits>; the softmax's Strategy and its table types (fixed<table_bits,RND,SAT>);
# custom_accum: accum_t fixed<W+3,I+3>, inv_inp_t fixed<W+2,I+2>
def _softmax_inputs(rng, n, shape=(8,)):
    # the test means to move 5% of the entries, but its mask (an integer draw from [0, 1), always 0, compared
    # with 0.05) is true everywhere: every entry is x*5 + 10, so the inputs are N(10, 10) clipped
    d = rng.normal(0, 2, (n, *shape))
    return [np.clip(d * 5 + 10, -32, 31)]


def _softmax():
    rows = [("16,6", "18,8", False, (8,)), ("16,6", "18,8", True, (8,)), ("16,6", "9,6", False, (8,)),
            ("9,6", "18,8", False, (8,)), ("16,6", "18,8", False, (8, 8, 3))]   # the (8, 8, 3) row: io_stream only
    for strategy in ("stable", "latency", "argmax"):
        for bits, table, custom, shape in rows:
            def cfg(hls4ml, m, strategy=strategy, bits=bits, table=table, custom=custom):
                c = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado")
                sm = c["LayerName"]["softmax"]
                t = f"fixed<{table}, RND, SAT>"
                sm.update(Strategy=strategy, inv_table_t=t, exp_table_t=t, accum_t=t, inv_inp_t=t)
                if custom:
                    W, I = map(int, bits.split(","))
                    sm["accum_t"], sm["inv_inp_t"] = f"fixed<{W + 3},{I + 3}>", f"fixed<{W + 2},{I + 2}>"
                first = next(iter(c["LayerName"]))
                c["LayerName"][first]["Precision"]["result"] = f"fixed<{bits}>"
                return c
            nm = f"softmax:{strategy}-in{bits}-table{table}{'-accum' if custom else ''}".replace(",", ".")
            if shape != (8,):
                nm += "-8x8x3@io_stream"
            case(nm, "test_softmax.py", lambda k, shape=shape: seq(k, shape, k.layers.Activation("softmax", name="softmax")),
                 cfg, lambda rng, n, shape=shape: _softmax_inputs(rng, n, shape),
                 io_type="io_parallel" if shape == (8,) else "io_stream")

    def skip_cfg(hls4ml, m):
        c = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado")
        c["LayerName"]["softmax"]["skip"] = True
        return c
    case("softmax:skipped", "test_softmax.py",
         lambda k: seq(k, (10,), k.layers.Dense(14, name="dense"), k.layers.Activation("softmax", name="softmax")),
         skip_cfg, uniform((10,)))


# ---- test_merge: two (10,10,3) inputs 'inp1' and 'inp2' in U(0,1), a merge layer (inputs in either order);
# config written by hand: Model Precision fixed<32,16>, ReuseFactor 1, inp2 Precision fixed<32,15>.
# Dot (axes 1) of two (10,) inputs, Concatenate 1d/2d/3d: config_from_keras_model(default ap_fixed<32,16>)
def _merge():
    hand = lambda hls4ml, m: {"Model": {"Precision": "fixed<32,16>", "ReuseFactor": 1},   # noqa: E731
                              "LayerName": {"inp2": {"Precision": "fixed<32,15>"}}}
    for merge in ("Add", "Average", "Maximum", "Minimum", "Multiply", "Subtract"):
        for swap in (False, True):
            def build(k, merge=merge, swap=swap):
                a, b = k.Input((10, 10, 3), name="inp1"), k.Input((10, 10, 3), name="inp2")
                return k.Model([a, b], getattr(k.layers, merge)()([b, a] if swap else [a, b]))
            case(f"merge:{merge}{'-swap' if swap else ''}", "test_merge.py", build, hand,
                 lambda rng, n: [rng.uniform(size=(n, 10, 10, 3)), rng.uniform(size=(n, 10, 10, 3))])
    p32 = lambda hls4ml, m: hls4ml.utils.config_from_keras_model(m, default_precision="ap_fixed<32,16>")  # noqa: E731

    def two(s1, s2, layer):
        def build(k):
            a, b = k.Input(s1), k.Input(s2)
            return k.Model([a, b], layer(k)([a, b]))
        return build, lambda rng, n: [rng.uniform(size=(n, *s1)), rng.uniform(size=(n, *s2))]
    b, x = two((10,), (10,), lambda k: k.layers.Dot(axes=1))
    case("merge:dot", "test_merge.py", b, p32, x)
    b, x = two((10,), (8,), lambda k: k.layers.Concatenate())
    case("merge:concatenate1d", "test_merge.py", b, p32, x)
    for axis in (1, 2):
        s1, s2 = [10, 3], [10, 4]
        s1.insert(axis - 1, s1.pop(1))
        s2.insert(axis - 1, s2.pop(1))
        b, x = two(tuple(s1), tuple(s2), lambda k, axis=axis: k.layers.Concatenate(axis=axis))
        case(f"merge:concatenate2d-axis{axis}", "test_merge.py", b, p32, x)
    for axis in (1, 2, 3):
        s1, s2 = [10, 10, 3], [10, 10, 4]
        s1.insert(axis - 1, s1.pop(2))
        s2.insert(axis - 1, s2.pop(2))
        b, x = two(tuple(s1), tuple(s2), lambda k, axis=axis: k.layers.Concatenate(axis=axis))
        case(f"merge:concatenate3d-axis{axis}", "test_merge.py", b, p32, x)


# ---- test_batchnorm: a lone BatchNormalization on 16 inputs U(0,1), with and without center/scale,
# name-granularity config, default fixed<32, 1>
def _batchnorm():
    for cs in (True, False):
        case(f"batchnorm:center_scale={cs}", "test_batchnorm.py",
             lambda k, cs=cs: seq(k, (16,), k.layers.BatchNormalization(center=cs, scale=cs)),
             name_cfg("fixed<32, 1>"), uniform((16,)))


# ---- test_pooling: Max/AveragePooling1D (pool 3) on (124, 5), Max/AveragePooling2D (pool 2) on (124, 124, 5),
# paddings valid/same and strides as parametrised; name config, default ap_fixed<32,9>; inputs U(0,1)
def _pooling():
    p1 = [("max", "valid", None), ("max", "same", None), ("avg", "valid", None), ("avg", "same", None),
          ("max", "same", 4), ("avg", "valid", 1)]
    for t, pad, st in p1:
        L = "MaxPooling1D" if t == "max" else "AveragePooling1D"
        kw = {} if t == "max" else {"strides": st}
        case(f"pooling:1d-{t}-{pad}-strides{st}", "test_pooling.py",
             lambda k, L=L, pad=pad, kw=kw: seq(k, (124, 5), getattr(k.layers, L)(pool_size=3, padding=pad, **kw)),
             name_cfg("ap_fixed<32,9>"), uniform((124, 5)))
    p2 = [("max", "valid", None), ("max", "same", None), ("avg", "valid", None), ("avg", "same", None),
          ("max", "same", (4, 2)), ("avg", "valid", (1, 3))]
    for t, pad, st in p2:
        L = "MaxPooling2D" if t == "max" else "AveragePooling2D"
        case(f"pooling:2d-{t}-{pad}-strides{st}", "test_pooling.py",
             lambda k, L=L, pad=pad, st=st: seq(k, (124, 124, 5), getattr(k.layers, L)(pool_size=(2, 2), padding=pad, strides=st)),
             name_cfg("ap_fixed<32,9>"), uniform((124, 124, 5)))


# ---- test_globalpooling: GlobalMax/AveragePooling1D on (18, 6) and 2D on (18, 18, 6), keepdims both ways;
# name config, default ap_fixed<32,9>
def _globalpooling():
    for d, shape in (("1D", (18, 6)), ("2D", (18, 18, 6))):
        for t in ("Max", "Average"):
            for keep in (True, False):
                L = f"Global{t}Pooling{d}"
                case(f"globalpooling:{L}-keepdims={keep}", "test_globalpooling.py",
                     lambda k, L=L, keep=keep, shape=shape: seq(k, shape, getattr(k.layers, L)(keepdims=keep)),
                     name_cfg("ap_fixed<32,9>"), uniform(shape))


# ---- test_upsampling / test_zeropadding / test_cropping: 1D on (8, 4), 2D on (6, 8, 4); UpSampling size 2;
# ZeroPadding (3,4) / ((1,2),(3,4)); Cropping the same amounts; name config, default ap_fixed<32,1>
def _shape_layers():
    for d, shape in (("1d", (8, 4)), ("2d", (6, 8, 4))):
        one = d == "1d"
        case(f"upsampling:{d}", "test_upsampling.py",
             lambda k, one=one, shape=shape: seq(k, shape, k.layers.UpSampling1D(2) if one else k.layers.UpSampling2D((2, 2))),
             name_cfg("ap_fixed<32,1>"), uniform(shape))
        case(f"zeropadding:{d}", "test_zeropadding.py",
             lambda k, one=one, shape=shape: seq(k, shape, k.layers.ZeroPadding1D((3, 4)) if one
                                                 else k.layers.ZeroPadding2D(((1, 2), (3, 4)))),
             name_cfg("ap_fixed<32,1>"), uniform(shape))
        case(f"cropping:{d}", "test_cropping.py",
             lambda k, one=one, shape=shape: seq(k, shape, k.layers.Cropping1D((3, 4)) if one
                                                 else k.layers.Cropping2D(((1, 2), (3, 4)))),
             name_cfg("ap_fixed<32,1>"), uniform(shape))


# ---- test_reshape: Dense(30) on 10 inputs, Reshape (10, 3), ReLU; config_from_keras_model(default fixed<32,16>)
def _reshape():
    case("reshape:dense-reshape-relu", "test_reshape.py",
         lambda k: seq(k, (10,), k.layers.Dense(30), k.layers.Reshape((10, 3)), k.layers.ReLU()),
         lambda hls4ml, m: hls4ml.utils.config_from_keras_model(m, default_precision="fixed<32,16>"), uniform((10,)))


# ---- test_softsign: a lone softsign on 8 inputs U(0,1) rounded to 2^-10; name config default fixed<20,4>,
# table_t fixed<20,4>, table_size 2048
def _softsign():
    def cfg(hls4ml, m):
        c = hls4ml.utils.config_from_keras_model(m, granularity="name", default_precision="fixed<20,4>", backend="Vivado")
        c["LayerName"]["softsign"].update(table_t="fixed<20,4>", table_size=2048)
        return c
    case("softsign:tables", "test_softsign.py",
         lambda k: seq(k, (8,), k.layers.Activation("softsign", name="softsign")), cfg,
         lambda rng, n: [np.round(rng.uniform(size=(n, 8)) * 1024) / 1024])
    case("softsign:tables-8x8x3@io_stream", "test_softsign.py",
         lambda k: seq(k, (8, 8, 3), k.layers.Activation("softsign", name="softsign")), cfg,
         lambda rng, n: [np.round(rng.uniform(size=(n, 8, 8, 3)) * 1024) / 1024], io_type="io_stream")


# ---- test_keras_api: Dense(2) on 1 input, kernel U(1,10), zero bias, then ELU (model-granularity config);
# Dense(64) on 1 input (lecun_uniform) then relu / LeakyReLU(1) / ELU(1) / PReLU(zeros) / sigmoid;
# Conv1D(32, 3, relu, no bias, normal init) on (128, 4) same/valid then relu, Latency/Resource;
# Conv2D(32, 4x4, strides 4, no bias) on (28, 28, 3) same/valid then relu
def _keras_api():
    mcfg = lambda hls4ml, m: hls4ml.utils.config_from_keras_model(m)  # noqa: E731
    case("keras_api:dense-elu", "test_keras_api.py",
         lambda k: seq(k, (1,), k.layers.Dense(2, name="Dense", kernel_initializer=k.initializers.RandomUniform(1, 10)),
                       k.layers.Activation("elu", name="Activation")), mcfg, uniform((1,)))
    acts = {"relu": lambda L, k: L.Activation("relu", name="relu"), "leaky_relu": lambda L, k: L.LeakyReLU(negative_slope=1.0),
            "elu": lambda L, k: L.ELU(alpha=1.0), "prelu": lambda L, k: L.PReLU(alpha_initializer="zeros"),
            "sigmoid": lambda L, k: L.Activation("sigmoid", name="sigmoid")}
    for nm, mk in acts.items():
        case(f"keras_api:dense64-{nm}", "test_keras_api.py",
             lambda k, mk=mk: seq(k, (1,), k.layers.Dense(64, name="Dense", kernel_initializer="lecun_uniform"),
                                  mk(k.layers, k)), mcfg, uniform((1,)))
    for strategy in ("Latency", "Resource"):
        for pad in ("same", "valid"):
            def cfg(hls4ml, m, strategy=strategy):
                c = hls4ml.utils.config_from_keras_model(m)
                c["Model"]["Strategy"] = strategy
                return c
            case(f"keras_api:conv1d-{pad}-{strategy}", "test_keras_api.py",
                 lambda k, pad=pad: seq(k, (128, 4), k.layers.Conv1D(32, 3, padding=pad, activation="relu", use_bias=False,
                                                                     kernel_initializer="random_normal"),
                                        k.layers.Activation("relu")), cfg, uniform((128, 4)))
            case(f"keras_api:conv2d-{pad}-{strategy}", "test_keras_api.py",
                 lambda k, pad=pad: seq(k, (28, 28, 3), k.layers.Conv2D(32, (4, 4), strides=(4, 4), padding=pad, use_bias=False,
                                                                        kernel_initializer="random_normal"),
                                        k.layers.Activation("relu")), cfg, uniform((28, 28, 3)))


# ---- test_multiout_network: Dense1(10) and Dense2(10) of one 10-input, two outputs, config written by hand
# Model Precision fixed<32,5>; inputs N(0,1) clipped to [-16, 15].  The corner cases: a (24, 8) input through
# Conv1D(1, 3), Flatten; Dense(16, relu) of it added to a second (16,) input; Dense(2) of the flatten and of the
# sum; four outputs; Strategy latency/resource at the config's top
def _multiout():
    hand = lambda hls4ml, m: {"Model": {"Precision": "fixed<32,5>", "ReuseFactor": 1}}  # noqa: E731

    def build(k):
        i = k.Input((10,))
        return k.Model(i, [k.layers.Dense(10, name="dense1")(i), k.layers.Dense(10, name="dense2")(i)])
    case("multiout_network:two-dense", "test_multiout_network.py", build, hand,
         lambda rng, n: [np.clip(rng.normal(0, 1, (n, 10)), -16, 15)])

    def corner(k):
        L = k.layers
        a, b = k.Input((24, 8)), k.Input((16,))
        o1 = L.Flatten()(L.Conv1D(1, 3)(a))
        o2 = L.Add()([L.Dense(16, activation="relu")(o1), b])
        return k.Model([a, b], [o1, o2, L.Dense(2)(o1), L.Flatten()(L.Dense(2)(o2))])
    for strategy in ("latency", "resource"):
        case(f"multiout_network:corner-{strategy}", "test_multiout_network.py", corner,
             lambda hls4ml, m, s=strategy: {"Model": {"Precision": "fixed<32,5>", "ReuseFactor": 1}, "Strategy": s},
             lambda rng, n: [np.clip(rng.normal(0, 1, (n, 24, 8)), -16, 15), np.clip(rng.normal(0, 1, (n, 16)), -16, 15)])


# ---- PyTorch (hls4ml's config_from_pytorch_model; etchnn reads the module exported by etchnn.frontends.to_onnx,
# whose layer names are hls4ml's)
def _torch():
    def seqm(*mk):
        return lambda t: t.nn.Sequential(*[f(t.nn) for f in mk]).eval()

    # test_merge_pytorch: torch.<op>(x, y) (or cat on dim 1) of two (3, 10, 10) inputs U(0,1);
    # config_from_pytorch_model(default ap_fixed<32,16>, channels_last_conversion 'internal', transpose_outputs False)
    for op in ("cat", "add", "mul", "sub", "minimum", "maximum"):
        def build(t, op=op):
            class M(t.nn.Module):
                def forward(self, x, y):
                    return t.cat([x, y], dim=1) if op == "cat" else getattr(t, op)(x, y)
            return M().eval()
        cfg = lambda hls4ml, m: hls4ml.utils.config_from_pytorch_model(   # noqa: E731
            m, [(3, 10, 10), (3, 10, 10)], default_precision="ap_fixed<32,16>", channels_last_conversion="internal",
            transpose_outputs=False)
        case(f"merge_pytorch:{op}", "test_merge_pytorch.py", build, cfg,
             lambda rng, n: [rng.uniform(size=(n, 3, 10, 10)), rng.uniform(size=(n, 3, 10, 10))],
             kind="torch", shapes=((3, 10, 10), (3, 10, 10)), hls_layout="last")
    # test_batchnorm_pytorch: BatchNorm1d(16) on 16 inputs U(0,1), default 'ac_fixed<32, 1>', name granularity
    case("batchnorm_pytorch:bn1d", "test_batchnorm_pytorch.py", seqm(lambda nn: nn.BatchNorm1d(16)),
         lambda hls4ml, m: hls4ml.utils.config_from_pytorch_model(m, (16,), default_precision="ac_fixed<32, 1>",
                                                                   granularity="name", backend="Vivado"),
         uniform((16,)), kind="torch", shapes=((16,),))
    # test_pytorch_api: Linear(1, 1); Linear(1, 1) then an activation module; inputs U(0,1) rounded to 2^-10;
    # config_from_pytorch_model(model, (1,)) unchanged
    pcfg = lambda shape: lambda hls4ml, m: hls4ml.utils.config_from_pytorch_model(m, shape)  # noqa: E731
    x1 = lambda rng, n: [np.round(rng.uniform(size=(n, 1)) * 1024) / 1024]  # noqa: E731
    case("pytorch_api:linear", "test_pytorch_api.py", seqm(lambda nn: nn.Linear(1, 1)), pcfg((1,)), x1,
         kind="torch", shapes=((1,),))
    acts = {"softmax": lambda nn: nn.Softmax(dim=-1), "relu": lambda nn: nn.ReLU(), "tanh": lambda nn: nn.Tanh(),
            "leaky_relu": lambda nn: nn.LeakyReLU(negative_slope=1.0), "elu": lambda nn: nn.ELU(alpha=1.0),
            "prelu": lambda nn: nn.PReLU(init=0.25), "sigmoid": lambda nn: nn.Sigmoid(),
            "threshold": lambda nn: nn.Threshold(threshold=1.0, value=0.0)}
    for nm, mk in acts.items():
        case(f"pytorch_api:linear-{nm}", "test_pytorch_api.py", seqm(lambda nn: nn.Linear(1, 1), mk), pcfg((1,)), x1,
             kind="torch", shapes=((1,),))

    # a Linear(5, 8), ReLU, BatchNorm1d(8) (the ReLU keeps the BatchNorm apart); inputs U(0,1)
    case("pytorch_api:linear-relu-bn", "test_pytorch_api.py",
         seqm(lambda nn: nn.Linear(5, 8), lambda nn: nn.ReLU(), lambda nn: nn.BatchNorm1d(8)), pcfg((5,)),
         uniform((5,)), kind="torch", shapes=((5,),))

    # skipped layers: Conv1d(3->6, k3, no bias), ReLU, Conv1d(6->5, k3, no bias), ReLU, Dropout, Flatten,
    # Linear(20->6, no bias), Dropout, Linear(6->5, no bias) on (3, 8); default ap_fixed<32,16>, conversion 'full',
    # transpose_outputs False; inputs N(0,1)
    case("pytorch_api:skipped_layers", "test_pytorch_api.py",
         seqm(lambda nn: nn.Conv1d(3, 6, 3, bias=False), lambda nn: nn.ReLU(), lambda nn: nn.Conv1d(6, 5, 3, bias=False),
              lambda nn: nn.ReLU(), lambda nn: nn.Dropout(), lambda nn: nn.Flatten(), lambda nn: nn.Linear(20, 6, bias=False),
              lambda nn: nn.Dropout(), lambda nn: nn.Linear(6, 5, bias=False)),
         lambda hls4ml, m: hls4ml.utils.config_from_pytorch_model(m, (3, 8), default_precision="ap_fixed<32,16>",
                                                                   channels_last_conversion="full", transpose_outputs=False),
         lambda rng, n: [rng.standard_normal((n, 3, 8))], kind="torch", shapes=((3, 8),))


# ---- test_pointwiseconv: Conv1D(32, kernel 1, no bias, normal init) named pointwise1d on (28, 3), strides 1/2,
# padding same/valid; name config default fixed<32,16>, Model Strategy, the layer's ReuseFactor; inputs U(0,1)
# ---- test_depthconv2d / test_sepconv2d: DepthwiseConv2D / SeparableConv2D(8) with kernels 2x2/3x3, strides 1/2,
# padding same/valid, no bias, normal init, on (16, 16, 3); default ap_fixed<32,8>, Model Strategy latency and
# ReuseFactor 1 (the io_parallel rows); inputs U(0,1)
# ---- test_conv2d_narrow: Conv2D(5, 4x4) on (5, 5, 3); model config with Strategy and ConvImplementation
# ---- test_bram_factor: keras_api's Dense(2)+elu with Model BramFactor 0
# ---- test_transpose_concat: Permute((2, 1)) of a (2, 3) input, concatenated with itself, relu of it concatenated
# with that; name config default ap_fixed<16,3,AP_RND_CONV,AP_SAT>, relu Precision ap_ufixed<17,3>
def _convs():
    for pad in ("same", "valid"):
        for st in (1, 2):
            for strategy, rf in (("latency", 1), ("resource", 1), ("latency", 14)):
                if (strategy, rf) != ("latency", 1) and (pad, st) != ("same", 1):
                    continue
                def cfg(hls4ml, m, strategy=strategy, rf=rf):
                    c = hls4ml.utils.config_from_keras_model(m, default_precision="fixed<32,16>", granularity="name")
                    c["Model"]["Strategy"] = strategy
                    c["LayerName"]["pointwise1d"]["ReuseFactor"] = rf
                    return c
                case(f"pointwiseconv:1d-{pad}-strides{st}-{strategy}-rf{rf}", "test_pointwiseconv.py",
                     lambda k, pad=pad, st=st: seq(k, (28, 3), k.layers.Conv1D(32, 1, strides=st, padding=pad, use_bias=False,
                                                                               kernel_initializer="random_normal",
                                                                               name="pointwise1d")),
                     cfg, uniform((28, 3)))
    for layer, file in (("DepthwiseConv2D", "test_depthconv2d.py"), ("SeparableConv2D", "test_sepconv2d.py")):
        for pad in ("same", "valid"):
            for st in (1, 2):
                for ker in (2, 3):
                    def cfg(hls4ml, m, layer=layer):
                        kw = {"granularity": "name", "backend": "Vivado"} if layer == "SeparableConv2D" else {}
                        c = hls4ml.utils.config_from_keras_model(m, default_precision="ap_fixed<32,8>", **kw)
                        c["Model"]["Strategy"], c["Model"]["ReuseFactor"] = "latency", 1
                        return c
                    def build(k, layer=layer, pad=pad, st=st, ker=ker):
                        args = ([8] if layer == "SeparableConv2D" else []) + [(ker, ker)]
                        return seq(k, (16, 16, 3), getattr(k.layers, layer)(*args, strides=(st, st), padding=pad, use_bias=False,
                                                                            **({"depthwise_initializer": "random_normal",
                                                                                "pointwise_initializer": "random_normal"}
                                                                               if layer == "SeparableConv2D" else
                                                                               {"depthwise_initializer": "random_normal"})))
                    case(f"{file[5:-3]}:{pad}-strides{st}-kernel{ker}", file, build, cfg, uniform((16, 16, 3)))
    for strategy in ("latency", "resource"):
        for conv in ("Encoded", "LineBuffer"):
            def cfg(hls4ml, m, strategy=strategy, conv=conv):
                c = hls4ml.utils.config_from_keras_model(m)
                c["Model"]["Strategy"], c["Model"]["ConvImplementation"] = strategy, conv
                return c
            case(f"conv2d_narrow:{strategy}-{conv}", "test_conv2d_narrow.py",
                 lambda k: seq(k, (5, 5, 3), k.layers.Conv2D(5, (4, 4))), cfg, uniform((5, 5, 3)))

    def bram(hls4ml, m):
        c = hls4ml.utils.config_from_keras_model(m)
        c["Model"]["BramFactor"] = 0
        return c
    case("bram_factor:dense-elu", "test_bram_factor.py",
         lambda k: seq(k, (1,), k.layers.Dense(2, name="Dense", kernel_initializer=k.initializers.RandomUniform(1, 10)),
                       k.layers.Activation("elu", name="Activation")), bram, uniform((1,)))

    def tc(k):
        L = k.layers
        i = k.Input((2, 3), name="input_1")
        x = L.Permute((2, 1))(i)
        y = L.Concatenate(axis=1)([x, x])
        return k.Model(i, L.Concatenate(axis=1)([L.Activation("relu", name="relu")(x), y]))

    def tcfg(hls4ml, m):
        c = hls4ml.utils.config_from_keras_model(m, default_precision="ap_fixed<16,3,AP_RND_CONV,AP_SAT>",
                                                 granularity="name", backend="Vivado")
        c["LayerName"]["relu"]["Precision"] = "ap_ufixed<17,3>"
        return c
    case("transpose_concat:permute-concat", "test_transpose_concat.py", tc, tcfg, uniform((2, 3)))


# ---- test_sepconv1d / test_depthconv1d: SeparableConv1D(8) / DepthwiseConv1D with kernel 2/3, strides 1/2, padding
# same/valid, no bias, 'normal' init, on (16, 4); config_from_keras_model(default ap_fixed<32,8>) with Model Strategy
# and ReuseFactor; inputs U(0,1).  Rows: Vivado io_parallel latency and io_stream latency at ReuseFactor 1 for every
# geometry; io_stream resource at ReuseFactor 1, 4 and 6 (the three depthwise resource forms) for kernel 3, same,
# strides 1
def _conv1d_depthwise():
    for layer, file in (("SeparableConv1D", "test_sepconv1d.py"), ("DepthwiseConv1D", "test_depthconv1d.py")):
        rows = [(pad, st, ker, io, "latency", 1) for io in ("io_parallel", "io_stream") for pad in ("same", "valid")
                for st in (1, 2) for ker in (2, 3)]
        rows += [("same", 1, 3, "io_stream", "resource", rf) for rf in (1, 4, 6)]
        for pad, st, ker, io, strategy, rf in rows:
            def cfg(hls4ml, m, strategy=strategy, rf=rf):
                c = hls4ml.utils.config_from_keras_model(m, default_precision="ap_fixed<32,8>")
                c["Model"]["Strategy"], c["Model"]["ReuseFactor"] = strategy, rf
                return c

            def build(k, layer=layer, pad=pad, st=st, ker=ker):
                args = [8] if layer == "SeparableConv1D" else []
                init = ({"depthwise_initializer": "normal", "pointwise_initializer": "normal"} if layer == "SeparableConv1D"
                        else {"depthwise_initializer": "normal"})
                return seq(k, (16, 4), getattr(k.layers, layer)(*args, ker, strides=st, padding=pad, use_bias=False, **init))
            nm = f"{file[5:-3]}:{pad}-strides{st}-kernel{ker}-{strategy}-rf{rf}" + ("@io_stream" if io == "io_stream" else "")
            case(nm, file, build, cfg, uniform((16, 4)), io_type=io)


# ---- test_causalpadding: Conv1D(1, 5, padding 'causal') on (100, 1), inputs integers 0..9 (the test draws one
# event); name config, default ap_fixed<32,16>; io_parallel and io_stream
def _causalpadding():
    for io in ("io_parallel", "io_stream"):
        case("causalpadding:conv1d-causal" + ("@io_stream" if io == "io_stream" else ""), "test_causalpadding.py",
             lambda k: seq(k, (100, 1), k.layers.Conv1D(1, 5, padding="causal")),
             name_cfg("ap_fixed<32,16>", backend="Vivado"),
             lambda rng, n: [rng.integers(0, 10, (n, 100, 1)).astype(float)], io_type=io)


# ---- test_time_distributed: io_parallel; the test calls hls4ml's keras_v2_to_hls; these go through
# convert_from_keras_model (on a Keras 3 model both fail alike, in config_from_keras_model already: measured); TimeDistributed
# Conv2D(4, 3x3, ones, no bias) then TimeDistributed MaxPooling2D(2x2) on (5, 10, 10, 3), default fixed<10,8>,
# inputs integers 0..4; LSTM(4, return_sequences) then TimeDistributed Dense(1) on (8, 8), default fixed<32,16>,
# inputs U(-0.5, 0.5); a TimeDistributed nested Sequential (the Conv2D and the pooling) on (5, 10, 10, 3)
def _time_distributed():
    def layers(k):
        i = k.layers.Input((5, 10, 10, 3))
        x = k.layers.TimeDistributed(k.layers.Conv2D(4, (3, 3), kernel_initializer="ones", use_bias=False))(i)
        return k.Model(i, k.layers.TimeDistributed(k.layers.MaxPooling2D((2, 2)))(x))

    def lstm(k):
        i = k.layers.Input((8, 8))
        return k.Model(i, k.layers.TimeDistributed(k.layers.Dense(1))(k.layers.LSTM(4, return_sequences=True)(i)))

    def nested(k):
        inner = k.Sequential([k.layers.Conv2D(4, (3, 3), kernel_initializer="ones", use_bias=False),
                              k.layers.MaxPooling2D((2, 2))])
        return k.Sequential([k.layers.Input((5, 10, 10, 3)), k.layers.TimeDistributed(inner)])
    ints = lambda rng, n: [rng.integers(0, 5, (n, 5, 10, 10, 3)).astype(float)]  # noqa: E731
    case("time_distributed:conv2d-maxpool", "test_time_distributed.py", layers,
         lambda hls4ml, m: hls4ml.utils.config_from_keras_model(m, default_precision="fixed<10,8>"), ints)
    case("time_distributed:lstm-dense", "test_time_distributed.py", lstm,
         lambda hls4ml, m: hls4ml.utils.config_from_keras_model(m, default_precision="fixed<32,16>"),
         uniform((8, 8), -0.5, 0.5))
    case("time_distributed:nested-model", "test_time_distributed.py", nested,
         lambda hls4ml, m: hls4ml.utils.config_from_keras_model(m, default_precision="fixed<10,8>"), ints)


# ---- test_embed: Embedding(13, 8) named 'embedding' of a 100-long input 'embedding_input' (integers 0..9); name
# config default ap_fixed<16,6>, the input's result ap_uint<4>; io_parallel and io_stream
def _embed():
    def build(k):
        i = k.layers.Input((100,), name="embedding_input")
        return k.Model(i, k.layers.Embedding(13, 8, name="embedding")(i))

    def cfg(hls4ml, m):
        c = hls4ml.utils.config_from_keras_model(m, default_precision="ap_fixed<16,6>", granularity="name", backend="Vivado")
        c["LayerName"]["embedding_input"]["Precision"]["result"] = "ap_uint<4>"
        return c
    for io in ("io_parallel", "io_stream"):
        case("embed:embedding" + ("@io_stream" if io == "io_stream" else ""), "test_embed.py", build, cfg,
             lambda rng, n: [rng.integers(0, 10, (n, 100)).astype(float)], io_type=io)


# ---- test_einsum_dense (Keras 3): EinsumDense named einsum_dense, equations and shapes as parametrised, a bias
# (where bias_axes is given) set to U(0,1); config by hand: Model Precision ap_fixed<32,8>, ReuseFactor 1, and
# Strategy latency at the top (where hls4ml reads nothing); inputs U(0,1); io_parallel
def _einsum_dense():
    ops = [("bi,j->bij", (8,), (8, 7), None), ("bi,j->bij", (8,), (8, 7), "i"), ("bi,j->bij", (8,), (8, 7), "j"),
           ("bi,io->bo", (8,), 7, None), ("...i,oi->...o", (4, 3), (5,), None),
           ("...abcd,bcde->...aeb", (5, 4, 3, 2), (5, 6, 4), None), ("...abcd,bcde->...aeb", (5, 4, 3, 2), (5, 6, 4), "aeb"),
           ("...abcd,bcde->...aeb", (5, 4, 3, 2), (5, 6, 4), "ab"), ("...abcd,bcde->...aeb", (5, 4, 3, 2), (5, 6, 4), "a")]
    for eq, shp, out, bias in ops:
        def build(k, eq=eq, shp=shp, out=out, bias=bias):
            m = seq(k, shp, k.layers.EinsumDense(eq, output_shape=out, bias_axes=bias, name="einsum_dense"))
            if bias is not None:
                b = m.get_layer("einsum_dense").bias
                b.assign(np.random.default_rng(1).uniform(size=tuple(b.shape)))
            return m
        case(f"einsum_dense:{eq.replace('...', '~')}-bias={bias}", "test_einsum_dense.py", build,
             lambda hls4ml, m: {"Model": {"Precision": "ap_fixed<32,8>", "ReuseFactor": 1}, "Strategy": "latency"},
             uniform(shp))


# ---- test_layernorm: LayerNormalization on (10, 8), gamma N(1, 0.1), beta N(0, 0.1); name config; inputs U(0,1);
# io_parallel.  The parsing test's model (epsilon 1e-2, gamma 1, beta 0) with its configuration (accum
# ap_fixed<10,4>, table_t ap_fixed<12,5>, TableSize 2048, TableRangePower2 1): hls4ml's test only writes that
# project; here it is compiled and compared too.  Both layers are built with axis=2, the same axis as the default -1 on a
# (10, 8) input: hls4ml 1.3 reads a Keras 3 LayerNormalization with its Keras 2 handler, which refuses anything but
# axis [2] ("assigning the axis is not currently supported"), and Keras 3 keeps the default as [-1]
def _layernorm():
    def build(k):
        m = seq(k, (10, 8), k.layers.LayerNormalization(axis=2))
        rng = np.random.default_rng(0)
        m.layers[0].set_weights([rng.normal(1.0, 0.1, 8), rng.normal(0.0, 0.1, 8)])
        return m
    case("layernorm:accuracy", "test_layernorm.py", build, name_cfg(backend="Vivado"), uniform((10, 8)))

    def custom(hls4ml, m):
        c = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado")
        ln = c["LayerName"]["layer_normalization"]
        ln["Precision"]["accum"] = "ap_fixed<10,4>"
        ln.update(table_t="ap_fixed<12,5>", TableSize=2048, TableRangePower2=1)
        return c
    case("layernorm:custom-epsilon-config", "test_layernorm.py",
         lambda k: seq(k, (10, 8), k.layers.LayerNormalization(axis=2, epsilon=1e-2, name="layer_normalization")), custom,
         uniform((10, 8)))


# ---- test_layernorm_pytorch: nn.Sequential(nn.LayerNorm(5)) on (4, 5) (weight 1, bias 0 as torch initialises them),
# inputs U(0, 1), config_from_pytorch_model(granularity='name', backend='Vivado') unchanged; io_parallel
def _layernorm_pytorch():
    def build(t):
        return t.nn.Sequential(t.nn.LayerNorm(5)).eval()
    case("layernorm_pytorch:accuracy", "test_layernorm_pytorch.py", build,
         lambda hls4ml, m: hls4ml.utils.config_from_pytorch_model(m, (4, 5), granularity="name", backend="Vivado"),
         uniform((4, 5)), kind="torch", shapes=((4, 5),))


# ---- test_pytorch_api, the other tests: torch.nn.functional activations on one input U(0,1) (config_from_pytorch_model
# unchanged), io_parallel and io_stream; Conv1d(2, 2, 3) + ReLU on (2, 4) and Conv2d(2, 2, 3) + ReLU on (2, 4, 4) with
# padding 0/1 (io_parallel: conversion 'full', transpose_outputs True; io_stream: 'internal', False, channels-last
# data); Max/AvgPool1d(2) on (2, 121) and Max/AvgPool2d(2) on (2, 15, 18), padding 0/1, transpose_outputs True;
# unsqueeze, Linear(5, 3, ones, no bias), squeeze, relu on 5 inputs (ChannelsLastConversion removed from the config);
# Conv2d(1, 32, 5, 1, 1), Flatten, ReLU on (1, 5, 5); the transpose-removal models (Conv1d(1, 4, 3)/Conv2d(1, 4, 3),
# ReLU, Flatten, Linear(.., 5), ReLU on (1, 8)/(1, 8, 8), default ap_fixed<32,16>, 'full', inputs N(0,1));
# Conv1d(2, 4, 3, padding 1, no bias) on (2, 128) then view(-1, 512) ('internal', channels-last data);
# einsum 'bi,bj->bij' of (4,) and (5,), 'bij,bjk->bik' of (2, 5) and (5, 4) (default ap_fixed<16,6>), Linear(8, 8)
# then einsum 'ij,ij->i' of it with itself (ap_fixed<32,12>), all 'internal'
def _torch_more():
    pcfg = lambda shape, **kw: lambda hls4ml, m: hls4ml.utils.config_from_pytorch_model(m, shape, **kw)  # noqa: E731

    def fmod(fn, two=False):   # torch.fx (hls4ml's reader) traces a forward of fixed arity only
        def build(t):
            class M(t.nn.Module):
                def forward(self, x):
                    return fn(t, x)

            class M2(t.nn.Module):
                def forward(self, x, y):
                    return fn(t, x, y)
            return (M2 if two else M)().eval()
        return build
    funcs = {"softmax": lambda t, x: t.nn.functional.softmax(x, dim=-1), "relu": lambda t, x: t.nn.functional.relu(x),
             "tanh": lambda t, x: t.nn.functional.tanh(x),
             "leaky_relu": lambda t, x: t.nn.functional.leaky_relu(x, negative_slope=1.0),
             "elu": lambda t, x: t.nn.functional.elu(x, alpha=1.0), "sigmoid": lambda t, x: t.nn.functional.sigmoid(x),
             "threshold": lambda t, x: t.nn.functional.threshold(x, threshold=1.0, value=0.0)}
    for io in ("io_parallel", "io_stream"):
        sfx = "@io_stream" if io == "io_stream" else ""
        for nm, fn in funcs.items():
            case(f"pytorch_api:functional-{nm}{sfx}", "test_pytorch_api.py", fmod(fn), pcfg((1,)), uniform((1,)),
                 io_type=io, kind="torch", shapes=((1,),))
        for pad in (0, 1):
            kw = (dict(channels_last_conversion="internal", transpose_outputs=False) if io == "io_stream"
                  else dict(channels_last_conversion="full", transpose_outputs=True))
            lay = "last" if io == "io_stream" else "first"
            case(f"pytorch_api:conv1d-pad{pad}{sfx}", "test_pytorch_api.py",
                 lambda t, pad=pad: t.nn.Sequential(t.nn.Conv1d(2, 2, 3, padding=pad), t.nn.ReLU()).eval(),
                 pcfg((2, 4), **kw), uniform((2, 4)), io_type=io, kind="torch", shapes=((2, 4),), hls_layout=lay)
            case(f"pytorch_api:conv2d-pad{pad}{sfx}", "test_pytorch_api.py",
                 lambda t, pad=pad: t.nn.Sequential(t.nn.Conv2d(2, 2, 3, padding=pad), t.nn.ReLU()).eval(),
                 pcfg((2, 4, 4), **kw), uniform((2, 4, 4)), io_type=io, kind="torch", shapes=((2, 4, 4),), hls_layout=lay)

        def squeeze_cfg(hls4ml, m):
            c = hls4ml.utils.config_from_pytorch_model(m, (5,))
            del c["Model"]["ChannelsLastConversion"]
            return c

        def squeeze(t):
            class M(t.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.linear = t.nn.Linear(5, 3, bias=False)
                    self.bn = t.nn.BatchNorm1d(3)   # unused in forward, as in the test
                    t.nn.init.ones_(self.linear.weight)

                def forward(self, x):
                    return t.relu(t.squeeze(self.linear(t.unsqueeze(x, dim=1))))
            return M().eval()
        case(f"pytorch_api:squeeze{sfx}", "test_pytorch_api.py", squeeze, squeeze_cfg, uniform((5,)), io_type=io,
             kind="torch", shapes=((5,),))

        def view(t):
            class M(t.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv1 = t.nn.Conv1d(2, 4, kernel_size=3, padding=1, bias=False)

                def forward(self, x):
                    return self.conv1(x).view(-1, 512)
            return M().eval()
        case(f"pytorch_api:view{sfx}", "test_pytorch_api.py", view,
             pcfg((2, 128), channels_last_conversion="internal", transpose_outputs=False), uniform((2, 128)), io_type=io,
             kind="torch", shapes=((2, 128),), hls_layout="last")
    for p in ("Max", "Avg"):
        for d, shape in (("1d", (2, 121)), ("2d", (2, 15, 18))):
            for pad in (0, 1):
                case(f"pytorch_api:{p}Pool{d}-pad{pad}", "test_pytorch_api.py",
                     lambda t, p=p, d=d, pad=pad: t.nn.Sequential(getattr(t.nn, f"{p}Pool{d}")(2, padding=pad)).eval(),
                     pcfg(shape, transpose_outputs=True), uniform(shape), kind="torch", shapes=(shape,))
    case("pytorch_api:flatten", "test_pytorch_api.py",
         lambda t: t.nn.Sequential(t.nn.Conv2d(1, 32, 5, 1, 1), t.nn.Flatten(), t.nn.ReLU()).eval(), pcfg((1, 5, 5)),
         lambda rng, n: [rng.standard_normal((n, 1, 5, 5))], kind="torch", shapes=((1, 5, 5),))
    for rank, shape in ((2, (1, 8)), (3, (1, 8, 8))):
        def rt(t, rank=rank):
            conv = t.nn.Conv1d(1, 4, 3, bias=False) if rank == 2 else t.nn.Conv2d(1, 4, 3, bias=False)
            return t.nn.Sequential(conv, t.nn.ReLU(), t.nn.Flatten(),
                                   t.nn.Linear(4 * 6 if rank == 2 else 4 * 36, 5, bias=False), t.nn.ReLU()).eval()
        case(f"pytorch_api:remove_transpose-rank{rank}", "test_pytorch_api.py", rt,
             pcfg(shape, default_precision="ap_fixed<32,16>", channels_last_conversion="full"),
             lambda rng, n, shape=shape: [rng.standard_normal((n, *shape))], kind="torch", shapes=(shape,))
    ein = dict(channels_last_conversion="internal", transpose_outputs=False)
    case("pytorch_api:einsum_outer_product", "test_pytorch_api.py", fmod(lambda t, x, y: t.einsum("bi,bj->bij", x, y), two=True),
         pcfg([(None, 4), (None, 5)], default_precision="ap_fixed<16,6>", **ein),
         lambda rng, n: [rng.uniform(size=(n, 4)), rng.uniform(size=(n, 5))], kind="torch", shapes=((4,), (5,)))
    case("pytorch_api:einsum_batch_matmul", "test_pytorch_api.py", fmod(lambda t, x, y: t.einsum("bij,bjk->bik", x, y), two=True),
         pcfg([(None, 2, 5), (None, 5, 4)], default_precision="ap_fixed<16,6>", **ein),
         lambda rng, n: [rng.uniform(size=(n, 2, 5)), rng.uniform(size=(n, 5, 4))], kind="torch", shapes=((2, 5), (5, 4)))

    def single(t):
        class M(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = t.nn.Linear(8, 8)

            def forward(self, x):
                out = self.linear(x)
                return t.einsum("ij,ij->i", out, out)
        return M().eval()
    case("pytorch_api:einsum_single_input", "test_pytorch_api.py", single,
         pcfg([(None, 8)], default_precision="ap_fixed<32,12>", **ein), uniform((8,)), kind="torch", shapes=((8,),))



# ---- test_rnn (Keras 3), test_rnn_accuracy's Vivado rows: LSTM(32) / GRU(32) named as their class (lecun_uniform
# kernel, recurrent kernel and bias), or Bidirectional(LSTM(15), backward GRU(17, go_backwards)) named
# 'Bidirectional', on (12, 8), return_sequences both ways; name config default ap_fixed<32, 16>, the layer's
# `static` and `Strategy` (latency/resource); LSTM and GRU io_parallel and io_stream, Bidirectional io_parallel;
# inputs U(-0.5, 0.5)
def _rnn():
    def build(k, layer, seqs):
        L = k.layers
        init = dict(kernel_initializer="lecun_uniform", recurrent_initializer="lecun_uniform",
                    bias_initializer="lecun_uniform", return_sequences=seqs)
        if layer == "Bidirectional":
            lay = L.Bidirectional(L.LSTM(15, **init), backward_layer=L.GRU(17, go_backwards=True, **init), name=layer)
        else:
            lay = getattr(L, layer)(32, name=layer, **init)
        return seq(k, (12, 8), lay)
    rows = [(lay, io, st) for lay in ("LSTM", "GRU") for io in ("io_parallel", "io_stream") for st in ("resource", "latency")]
    rows += [("Bidirectional", "io_parallel", st) for st in ("resource", "latency")]
    for lay, io, strategy in rows:
        for seqs in (True, False):
            for static in (True, False):
                def cfg(hls4ml, m, lay=lay, strategy=strategy, static=static):
                    c = hls4ml.utils.config_from_keras_model(m, granularity="name", default_precision="ap_fixed<32, 16>",
                                                             backend="Vivado")
                    c["LayerName"][lay]["static"], c["LayerName"][lay]["Strategy"] = static, strategy
                    return c
                nm = (f"rnn:{lay}-{strategy}-return_sequences={seqs}-static={static}"
                      + ("@io_stream" if io == "io_stream" else ""))
                case(nm, "test_rnn.py", lambda k, lay=lay, seqs=seqs: build(k, lay, seqs), cfg, uniform((12, 8), -0.5, 0.5),
                     io_type=io)



# ---- test_qkeras (QKeras 0.9 on TensorFlow's Keras 2; hls4ml reads it with its Keras 2 reader): the name config
# config_from_keras_model writes, unchanged.  test_single_dense_activation_exact: QActivation quantized_bits(4, 0,
# alpha 1) 'inp_quant' on 16 inputs U(0,1), QDense(16) 'fc1' (kernel quantized_bits(4, 0, alpha 1 or 'auto_po2'), bias
# quantized_bits(4, 0, alpha 1), lecun_uniform), QActivation quantized_relu(4, 0) 'relu1'; converted with bit_exact
# when alpha is 1.  test_quantizer: one QActivation 'quantizer' on 1 input U(0,1) rounded to 2^-10;
# test_relu_negative_slope: the same with quantized_relu(.., negative_slope) on -U(0,1).  io_parallel and io_stream
def _qkeras():
    for alpha in (1, "auto_po2"):
        def build(k, q, alpha=alpha):
            Q = q.quantizers
            return k.Sequential([
                q.QActivation(activation=Q.quantized_bits(4, 0, alpha=1), input_shape=(16,), name="inp_quant"),
                q.QDense(16, name="fc1", kernel_quantizer=Q.quantized_bits(4, 0, alpha=alpha),
                         bias_quantizer=Q.quantized_bits(4, 0, alpha=1), kernel_initializer="lecun_uniform"),
                q.QActivation(activation=Q.quantized_relu(4, 0), name="relu1")])

        def conv(hls4ml, m, cfg, out, io, alpha=alpha):
            return hls4ml.converters.convert_from_keras_model(m, hls_config=cfg, output_dir=out, backend="Vivado",
                                                              io_type=io, bit_exact=alpha == 1)
        for io in ("io_parallel", "io_stream"):
            case(f"qkeras:single_dense_activation_exact-alpha={alpha}" + ("@io_stream" if io == "io_stream" else ""),
                 "test_qkeras.py", build, name_cfg(backend="Vivado"), uniform((16,)), io_type=io, kind="qkeras", convert=conv)
    quants = [("quantized_bits", (8, 0), {}), ("quantized_bits", (8, 4), {}), ("quantized_bits", (4, 2), {}),
              ("quantized_bits", (4, 0), {}), ("quantized_bits", (10, 0), {}), ("quantized_relu", (4,), {}),
              ("quantized_relu", (4, 2), {}), ("quantized_relu", (8,), {}), ("quantized_relu", (8, 4), {}),
              ("quantized_relu", (10,), {}), ("quantized_relu", (10, 5), {}),
              ("quantized_relu", (4,), {"negative_slope": 0.5}), ("quantized_relu", (8, 4), {"negative_slope": 1.0}),
              ("quantized_relu", (10, 2), {"negative_slope": 0.25})]
    for fn, args, kw in quants:
        neg = "negative_slope" in kw
        label = f"{fn}({','.join(map(str, args))}{''.join(f',{a}={b}' for a, b in kw.items())})"
        for io in ("io_parallel", "io_stream"):
            case(f"qkeras:{'relu_negative_slope' if neg else 'quantizer'}-{label}" + ("@io_stream" if io == "io_stream" else ""),
                 "test_qkeras.py",
                 lambda k, q, fn=fn, args=args, kw=kw: k.Sequential(
                     [q.QActivation(input_shape=(1,), activation=getattr(q.quantizers, fn)(*args, **kw), name="quantizer")]),
                 name_cfg(backend="Vivado"),
                 lambda rng, n, neg=neg: [(-1 if neg else 1) * np.round(rng.uniform(size=(n, 1)) * 1024) / 1024],
                 io_type=io, kind="qkeras")



# ---- io_stream: the rows of the files above whose hls4ml test runs the same model with io_type 'io_stream' too
# (Vivado).  etchnn's answer does not depend on it (the configuration hls4ml writes is the same; etchnn predict is
# one emulator), so these compare hls4ml's stream C simulation with the same numbers.  Named '<case>@io_stream'.
STREAM_OF = (
    "activations:", "softmax:", "merge:Add", "merge:Average", "merge:Maximum", "merge:Minimum", "merge:Multiply",
    "merge:Subtract", "merge:concatenate", "batchnorm:", "globalpooling:", "upsampling:", "zeropadding:", "cropping:",
    "reshape:", "softsign:", "keras_api:", "multiout_network:", "bram_factor:", "transpose_concat:", "merge_pytorch:",
    "batchnorm_pytorch:", "pytorch_api:linear", "pytorch_api:skipped_layers", "depthconv2d:", "sepconv2d:",
    "conv2d_narrow:",
    # test_pointwiseconv's Vivado io_stream rows are latency and resource with ReuseFactor 1
    "pointwiseconv:1d-same-strides1-resource-rf1", "pointwiseconv:1d-same-strides1-latency-rf1",
    "pointwiseconv:1d-same-strides2-latency-rf1", "pointwiseconv:1d-valid-strides1-latency-rf1",
    "pointwiseconv:1d-valid-strides2-latency-rf1",
    # test_pool1d_stream / test_pool2d_stream: max and average, valid padding, default strides
    "pooling:1d-max-valid-stridesNone", "pooling:1d-avg-valid-stridesNone", "pooling:2d-max-valid-stridesNone",
    "pooling:2d-avg-valid-stridesNone",
)


def _stream():
    for c in list(CASES):
        if c.io_type == "io_parallel" and c.name.startswith(STREAM_OF):
            CASES.append(dataclasses.replace(c, name=c.name + "@io_stream", io_type="io_stream"))


for _f in (_torch, _activations, _softmax, _merge, _batchnorm, _globalpooling, _shape_layers, _reshape, _softsign,
           _keras_api, _multiout, _convs, _pooling, _conv1d_depthwise, _causalpadding,
           _time_distributed, _embed, _einsum_dense, _layernorm, _layernorm_pytorch, _torch_more, _rnn, _qkeras, _stream):
    _f()
