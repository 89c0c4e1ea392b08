"""LayerNormalization models for tests/test_layernorm.py, their hls4ml configurations and inputs.

    python3 tests/ref/layernorm_models.py build   # tests/ref/models/layernorm_*.keras, layernorm_torch.onnx (seeded)
    python3 tests/ref/layernorm_models.py csim    # hls4ml 1.3's csim codes (tests/ref/csim/layernorm_*.npy) and
                                                  # Keras's / torch's float outputs (layernorm_*_float.npy)

Models (gamma N(1, 0.1), beta N(0, 0.1), seeded):
- k_default: Keras LayerNormalization(axis=2) on (10, 8), epsilon 1e-3, config_from_keras_model's configuration
  unchanged (accum fixed<14,4,RND_CONV,SAT>, table ufixed<8,5,RND_CONV,SAT>, TableSize 4096), inputs U(0, 1).
- k_wrap: epsilon 1e-2, accum ap_fixed<10,4> (TRN, WRAP: the sums overflow), the layer key table_t ap_fixed<12,5>,
  TableSize 2048, TableRangePower2 1 (test_layernorm's custom configuration), inputs U(-3, 3).
- k_small: (4, 6), epsilon 1e-5, accum ap_fixed<18,6,AP_RND_CONV,AP_SAT>, table_t ap_ufixed<12,6,...>, TableSize
  1000 (not a power of two: the index is a product), TableRangePower2 2, result ap_fixed<12,4,AP_RND,AP_SAT>,
  inputs U(-1, 1).
- torch: nn.LayerNorm(8) on (10, 8) through hls4ml's PyTorch reader (config_from_pytorch_model unchanged) and
  through etchnn's ONNX export (opset 20: one LayerNormalization node), inputs U(-2, 2)."""
import contextlib
import copy
import io
import os
import pathlib
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
REF = pathlib.Path(__file__).parent
N = 100            # events per model
FRAC = {"k_default": 20, "k_wrap": 20, "k_small": 8, "torch": 20}   # fraction bits of the result type
SHAPE = {"k_default": (10, 8), "k_wrap": (10, 8), "k_small": (4, 6), "torch": (10, 8)}
EPS = {"k_default": 1e-3, "k_wrap": 1e-2, "k_small": 1e-5}
RANGE = {"k_default": (0, 1), "k_wrap": (-3, 3), "k_small": (-1, 1), "torch": (-2, 2)}


def model_path(name):
    return REF / "models" / (f"layernorm_{name}.keras" if name != "torch" else "layernorm_torch.onnx")


def events(name, n=N):
    lo, hi = RANGE[name]
    x = np.random.default_rng(11).uniform(lo, hi, (n, *SHAPE[name]))
    return x.reshape(n, -1)


def hls_config(name):
    """The configuration hls4ml's config_from_*_model writes (name granularity, default fixed<16,6>), edited as the
    module's docstring says."""
    ln = {"Trace": False, "Precision": {"result": "auto", "scale": "auto", "bias": "auto",
                                        "accum": "fixed<14,4,RND_CONV,SAT,0>", "table": "ufixed<8,5,RND_CONV,SAT,0>"},
          "ReuseFactor": 1, "TableRangePower2": 0, "TableSize": 4096}
    if name == "k_wrap":
        ln["Precision"]["accum"] = "ap_fixed<10,4>"
        ln.update(table_t="ap_fixed<12,5>", TableSize=2048, TableRangePower2=1)
    if name == "k_small":
        ln["Precision"].update(accum="ap_fixed<18,6,AP_RND_CONV,AP_SAT>", result="ap_fixed<12,4,AP_RND,AP_SAT>")
        ln.update(table_t="ap_ufixed<12,6,AP_RND_CONV,AP_SAT>", TableSize=1000, TableRangePower2=2)
    cfg = {"Model": {"Precision": {"default": "fixed<16,6>"}, "ReuseFactor": 1, "Strategy": "Latency",
                     "BramFactor": 1000000000, "TraceOutput": False},
           "LayerName": {"ln": ln}}
    if name == "torch":   # config_from_pytorch_model's keys
        cfg["Model"].update(ChannelsLastConversion="full", TransposeOutputs=False)
        cfg["InputShape"] = tuple(SHAPE[name])
    return cfg


def keras_model(keras, name):
    inp = keras.Input(SHAPE[name], name="x")
    layer = keras.layers.LayerNormalization(axis=2, epsilon=EPS[name], name="ln")
    m = keras.Model(inp, layer(inp))
    rng = np.random.default_rng(0)
    layer.set_weights([rng.normal(1.0, 0.1, SHAPE[name][-1]), rng.normal(0.0, 0.1, SHAPE[name][-1])])
    return m


def torch_model():
    import torch

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = torch.nn.LayerNorm(8)
            g = torch.Generator().manual_seed(0)
            with torch.no_grad():
                self.ln.weight.copy_(1 + 0.1 * torch.randn(8, generator=g))
                self.ln.bias.copy_(0.1 * torch.randn(8, generator=g))

        def forward(self, x):
            return self.ln(x)
    return M().eval()


def csim(name, workdir):
    """hls4ml 1.3's csim outputs for events(name), as codes of the result type (int64), and the float model's."""
    import hls4ml
    x = events(name)
    cfg = copy.deepcopy(hls_config(name))
    with contextlib.redirect_stdout(io.StringIO()):
        if name == "torch":
            import torch
            m = torch_model()
            hm = hls4ml.converters.convert_from_pytorch_model(m, backend="Vivado", hls_config=cfg,
                                                              io_type="io_parallel", output_dir=str(workdir))
            fl = m(torch.tensor(x.reshape(-1, *SHAPE[name]), dtype=torch.float32)).detach().numpy()
        else:
            import keras
            m = keras.models.load_model(model_path(name))
            hm = hls4ml.converters.convert_from_keras_model(m, backend="Vivado", hls_config=cfg,
                                                            io_type="io_parallel", output_dir=str(workdir))
            fl = m.predict(x.reshape(-1, *SHAPE[name]), verbose=0)
        hm.compile()
        y = np.asarray(hm.predict(x.reshape(-1, *SHAPE[name])), dtype=np.float64).reshape(len(x), -1)
    return np.round(y * 2.0 ** FRAC[name]).astype(np.int64), np.asarray(fl, dtype=np.float64).reshape(len(x), -1)


def main(argv):
    import tempfile
    if argv[1:2] == ["build"]:
        import keras
        for name in ("k_default", "k_wrap", "k_small"):
            keras_model(keras, name).save(model_path(name))
        sys.path.insert(0, str(REF.parent.parent / "python"))
        from etchnn.frontends import to_onnx
        model_path("torch").write_bytes(to_onnx(torch_model(), SHAPE["torch"]).SerializeToString())
    elif argv[1:2] == ["csim"]:
        for name in argv[2:] or FRAC:
            with tempfile.TemporaryDirectory() as d:
                codes, fl = csim(name, pathlib.Path(d) / "prj")
            np.save(REF / "csim" / f"layernorm_{name}.npy", codes)
            np.save(REF / "csim" / f"layernorm_{name}_float.npy", fl.astype(np.float32))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
