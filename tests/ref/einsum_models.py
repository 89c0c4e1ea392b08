"""Models for tests/test_einsum.py: Keras 3 EinsumDense and torch.einsum (exported to ONNX as Einsum).

    python3 tests/ref/einsum_models.py build   # writes tests/ref/models/einsum_*.keras / .onnx (seeded)
    python3 tests/ref/einsum_models.py cfg     # hls4ml's configs (models/einsum_*.yml), float outputs (csim/einsum_*_float.npy)
    python3 tests/ref/einsum_models.py csim [NAME...]   # hls4ml 1.3's csim codes (csim/einsum_*.npy)

Each model with the configuration hls4ml's config_from_keras_model / config_from_pytorch_model writes (name
granularity), edited where hls_config says so; the inputs are events(name)."""
import contextlib
import copy
import io
import os
import pathlib
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
REF = pathlib.Path(__file__).parent
N = {"ed_flat": 300}   # events per model (csim): 1000 unless named here
NF = 100       # events of the float outputs stored
SCALE = 2 ** 12   # stored csim outputs: codes of 2^-12 (int32)
KERAS = ("ed_flat", "ed_rows", "ed_auto")
TORCH = ("ein_outer", "ein_single")
NAMES = KERAS + TORCH
SHAPES = {"ed_flat": [(5, 4, 3, 2)], "ed_rows": [(3, 8)], "ed_auto": [(10,)], "ein_outer": [(6,), (5,)],
          "ein_single": [(8,)]}


def build_keras(keras, name):
    L = keras.layers
    keras.utils.set_random_seed(3)
    x = keras.Input(SHAPES[name][0], name="x")
    if name == "ed_flat":   # an inplace axis (b), two contracted (c, d), a bias varying along the input's free axis a
        y = L.EinsumDense("...abcd,bcde->...aeb", output_shape=(5, 6, 4), bias_axes="ab", name="ed",
                          bias_initializer="glorot_uniform")(x)
    elif name == "ed_rows":   # a bias along the kernel's free axis only, a relu, then Flatten and Dense
        y = L.EinsumDense("abc,cd->abd", output_shape=(3, 6), bias_axes="d", activation="relu", name="ed",
                          bias_initializer="glorot_uniform")(x)
        y = L.Dense(4, name="fc")(L.Flatten(name="flat")(y))
    else:   # the matrix product, configuration unchanged ('auto': hls4ml's default type)
        y = L.EinsumDense("ab,bc->ac", output_shape=5, bias_axes="c", name="ed", bias_initializer="glorot_uniform")(x)
    return keras.Model(x, y)


def build_torch(torch, name):
    torch.manual_seed(3)

    class Outer(torch.nn.Module):
        def forward(self, x, y):
            return torch.einsum("bi,bj->bij", x, y)

    class Single(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(8, 8)

        def forward(self, x):
            out = self.linear(x)
            return torch.einsum("ij,ij->i", out, out)
    return (Outer() if name == "ein_outer" else Single()).eval()


def events(name, n=None):
    n = n or N.get(name, 1000)
    rng = np.random.default_rng(5)
    return [rng.uniform(-2, 2, (n, *s)) for s in SHAPES[name]]


def hls_config(hls4ml, m, name):
    if name in KERAS:
        c = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vivado",
                                                  default_precision="fixed<16,6>")
        p = c["LayerName"]["ed"]["Precision"]
        if name == "ed_flat":   # narrow weights, a truncating accumulator, a rounding and saturating result
            p.update(weight="fixed<8,2>", bias="fixed<8,2>", accum="fixed<14,5>", result="fixed<10,4,RND,SAT>")
        elif name == "ed_rows":   # a rounding, saturating accumulator: summed in hls4ml's order
            p.update(weight="fixed<8,2>", bias="fixed<8,2>", accum="fixed<9,2,RND,SAT>", result="fixed<12,4>")
            c["LayerName"]["fc"]["Precision"]["result"] = "fixed<16,6>"
        return c
    shapes = [(None, *s) for s in SHAPES[name]]
    c = hls4ml.utils.config_from_pytorch_model(m, shapes, granularity="name", backend="Vivado",
                                                default_precision="ap_fixed<10,3>" if name == "ein_outer"
                                                else "ap_fixed<16,6>",
                                                channels_last_conversion="internal", transpose_outputs=False)
    return {k: v for k, v in c.items() if k != "PytorchModel"}


def codes(y):
    c = np.round(np.asarray(y) * SCALE)
    assert np.array_equal(c / SCALE, y)
    return c.astype(np.int32)


def model_path(name):
    return REF / "models" / f"einsum_{name}.{'keras' if name in KERAS else 'onnx'}"


def cfg_path(name):
    return REF / "models" / f"einsum_{name}.yml"


def load(name):
    if name in KERAS:
        import keras
        return keras.models.load_model(model_path(name))
    import torch
    return build_torch(torch, name)


def csim(name, out_dir):
    import hls4ml
    m = load(name)
    cfg = hls_config(hls4ml, m, name)
    xs = [np.ascontiguousarray(x) for x in events(name)]
    with contextlib.redirect_stdout(io.StringIO()):
        conv = (hls4ml.converters.convert_from_keras_model if name in KERAS
                else hls4ml.converters.convert_from_pytorch_model)
        hm = conv(m, output_dir=str(out_dir), io_type="io_parallel", backend="Vivado", hls_config=copy.deepcopy(cfg))
        hm.compile()
        y = hm.predict(xs if len(xs) > 1 else xs[0])
    return cfg, np.asarray(y, dtype=np.float64).reshape(len(xs[0]), -1)


def float_outputs(name):
    m = load(name)
    xs = [x[:NF] for x in events(name)]
    if name in KERAS:
        import keras
        y = keras.ops.convert_to_numpy(m.predict(xs[0], verbose=0))
    else:
        import torch
        with torch.no_grad():
            y = m(*[torch.from_numpy(x).float() for x in xs]).numpy()
    return np.asarray(y, dtype=np.float32).reshape(NF, -1)


if __name__ == "__main__":
    if sys.argv[1] == "build":
        import keras
        import onnx
        import torch
        sys.path.insert(0, str(REF.parent.parent / "python"))
        from etchnn.frontends import to_onnx
        for nm in KERAS:
            build_keras(keras, nm).save(model_path(nm))
        for nm in TORCH:
            onnx.save(to_onnx(build_torch(torch, nm), SHAPES[nm]), str(model_path(nm)))
    elif sys.argv[1] == "cfg":
        import hls4ml
        import yaml
        for nm in sys.argv[2:] or NAMES:
            cfg = hls_config(hls4ml, load(nm), nm)
            cfg_path(nm).write_text(yaml.safe_dump(cfg, sort_keys=False))
            np.save(REF / "csim" / f"einsum_{nm}_float.npy", float_outputs(nm))
    else:
        import tempfile
        for nm in sys.argv[2:] or NAMES:
            with tempfile.TemporaryDirectory() as d:
                _, y = csim(nm, pathlib.Path(d) / "prj")
            np.save(REF / "csim" / f"einsum_{nm}.npy", codes(y))
            print(nm, y.shape, len(np.unique(y)))
