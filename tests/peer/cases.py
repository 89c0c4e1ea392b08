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
    kind: str = "keras"      # 'torch': build(torch) returns a module, config gets it, inputs are channels first
    shapes: tuple = ()       # torch: the input shapes (without the batch), for etchnn.frontends.to_onnx
    hls_layout: str = "first"   # torch: 'last' when hls4ml reads and writes channels last (conversion 'internal')


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


# ---- test_softmax: a lone softmax on 8 inputs N(0,2) (some moved up by x5+10), clipped to [-32, 31]; the input
# layer's result fixed<input_bits>; the softmax's Strategy and its table types (fixed<table_bits,RND,SAT>);
# custom_accum: accum_t fixed<W+3,I+3>, inv_inp_t fixed<W+2,I+2>
def _softmax_inputs(rng, n):
    d = rng.normal(0, 2, (n, 8))
    mod = rng.uniform(size=d.shape) < 0.05
    d[mod] = d[mod] * 5 + 10
    return [np.clip(d, -32, 31)]


def _softmax():
    rows = [("16,6", "18,8", False), ("16,6", "18,8", True), ("16,6", "9,6", False), ("9,6", "18,8", False)]
    for strategy in ("stable", "latency", "argmax"):
        for bits, table, custom in rows:
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
            case(nm, "test_softmax.py", lambda k: seq(k, (8,), k.layers.Activation("softmax", name="softmax")),
                 cfg, _softmax_inputs)

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


for _f in (_torch, _activations, _softmax, _merge, _batchnorm, _globalpooling, _shape_layers, _reshape, _softsign,
           _keras_api, _multiout, _convs, _pooling):
    _f()
