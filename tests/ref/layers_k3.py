"""Keras 3 models for tests/test_layers_k3.py: Dot of two vectors, DepthwiseConv1D, Conv1D with causal padding.

    python3 tests/ref/layers_k3.py build    # writes tests/ref/models/layers_k3_*.keras (seeded)
    python3 tests/ref/layers_k3.py csim [NAME...]    # runs hls4ml 1.3's csim, writes tests/ref/csim/layers_k3_*.npy
    python3 tests/ref/layers_k3.py cfg      # hls4ml's config (models/layers_k3_*.yml), Keras's float outputs
                                            # (csim/layers_k3_*_keras.npy)

Each model with the configuration hls4ml's config_from_keras_model writes (name granularity, default
precision as below), edited where a row says so; the inputs are events(name)."""
import contextlib
import copy
import io
import os
import pathlib
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
REF = pathlib.Path(__file__).parent
N = {"dot": 2000, "dot_sat": 2000, "dot_auto": 2000, "dwconv1d": 1000}   # events per model
NK = 200   # events of Keras's float outputs stored
SCALE = 1024   # stored csim outputs: codes of 2^-10 (int32)


def build(keras, name):
    L = keras.layers
    keras.utils.set_random_seed(7)
    if name == "dot":
        a, b = keras.Input((12,), name="a"), keras.Input((12,), name="b")
        return keras.Model([a, b], L.Dot(axes=1, name="dot")([a, b]))
    if name == "dwconv1d":   # DepthwiseConv1D 'same' and strided 'valid', Conv1D 'causal' with strides 1 and 2
        x = keras.Input((16, 3), name="x")
        y = L.DepthwiseConv1D(3, padding="same", name="dw1", bias_initializer="glorot_uniform")(x)
        y = L.Conv1D(4, 3, padding="causal", name="causal", bias_initializer="glorot_uniform")(y)
        y = L.DepthwiseConv1D(2, strides=2, padding="valid", name="dw2", activation="relu")(y)
        y = L.Conv1D(3, 3, strides=2, padding="causal", name="causal_s2")(y)
        return keras.Model(x, y)
    raise KeyError(name)


NAMES = ("dot", "dot_sat", "dot_auto", "dwconv1d")
MODEL = {"dot_sat": "dot", "dot_auto": "dot"}   # variants: the same model, another configuration


def events(name):
    rng, n = np.random.default_rng(11), N[name]
    if name.startswith("dot"):
        return [rng.uniform(-4, 4, (n, 12)), rng.uniform(-4, 4, (n, 12))]
    return [rng.uniform(-2, 2, (n, 16, 3))]


def hls_config(hls4ml, m, name):
    c = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado",
                                              default_precision="fixed<16,6>")
    if name == "dot":   # a narrow accumulator (products rounded down to 2^-6 and wrapped at 8) and result
        c["LayerName"]["dot"]["Precision"].update(accum="fixed<10,4>", result="fixed<9,3,RND,SAT>")
    elif name == "dot_sat":   # a rounding, saturating accum: the order of the sum matters (hls4ml's: in index order)
        c["LayerName"]["dot"]["Precision"].update(accum="fixed<12,5,RND,SAT>", result="fixed<8,3>")
    elif name == "dot_auto":   # hls4ml's 'auto' result: fixed<36,16> here
        c["LayerName"]["dot"]["Precision"].update(accum="fixed<10,4>", result="auto")
    else:   # the convolutions' results fixed<16,6> ('auto' accumulators as hls4ml infers them: 35 to 37 bits)
        for ln in ("dw1", "causal", "dw2", "causal_s2"):
            c["LayerName"][ln]["Precision"]["result"] = "fixed<16,6>"
    return c


def codes(y):
    c = np.round(np.asarray(y) * SCALE)
    assert np.array_equal(c / SCALE, y)
    return c.astype(np.int32)


def model_path(name):
    return REF / "models" / f"layers_k3_{MODEL.get(name, name)}.keras"


def cfg_path(name):
    return REF / "models" / f"layers_k3_{name}.yml"


def csim(name, out_dir):
    import hls4ml
    import keras
    m = keras.models.load_model(model_path(name))
    cfg = hls_config(hls4ml, m, name)
    xs = events(name)
    with contextlib.redirect_stdout(io.StringIO()):
        hm = hls4ml.converters.convert_from_keras_model(m, output_dir=str(out_dir), io_type="io_parallel",
                                                        backend="Vivado", hls_config=copy.deepcopy(cfg))
        hm.compile()
        y = hm.predict([np.ascontiguousarray(x) for x in xs] if len(xs) > 1 else np.ascontiguousarray(xs[0]))
    return cfg, np.asarray(y, dtype=np.float64).reshape(N[name], -1)


if __name__ == "__main__":
    import keras
    if sys.argv[1] == "build":
        for nm in NAMES:
            if nm not in MODEL:
                build(keras, nm).save(model_path(nm))
    elif sys.argv[1] == "cfg":
        import hls4ml
        import yaml
        for nm in sys.argv[2:] or NAMES:
            m = keras.models.load_model(model_path(nm))
            cfg = hls_config(hls4ml, m, nm)
            cfg_path(nm).write_text(yaml.safe_dump({"HLSConfig": cfg}, sort_keys=False))
            xs = [x[:NK] for x in events(nm)]
            y = m.predict(xs if len(xs) > 1 else xs[0], verbose=0)
            np.save(REF / "csim" / f"layers_k3_{nm}_keras.npy", np.asarray(y, dtype=np.float32).reshape(NK, -1))
    else:
        import tempfile
        for nm in sys.argv[2:] or NAMES:
            with tempfile.TemporaryDirectory() as d:
                _, y = csim(nm, pathlib.Path(d) / "prj")
            np.save(REF / "csim" / f"layers_k3_{nm}.npy", codes(y))
            print(nm, y.shape, len(np.unique(y)))
