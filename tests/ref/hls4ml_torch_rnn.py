#!/usr/bin/env python3
"""hls4ml 1.3's PyTorch LSTM / GRU against torch and etchnn (the table in NOTES.md).

    python3 tests/ref/hls4ml_torch_rnn.py LSTM 'fixed<16,6>' [bias_hh_l0|bias_ih_l0]

A batch-first nn.LSTM or nn.GRU (T=5, F=3, H=4, torch.manual_seed(7)), then
out[:, -1, :] into nn.Linear(4, 2); optionally one torch bias zeroed.  hls4ml:
config_from_pytorch_model(granularity='name', default_precision=P), Vivado,
io_parallel, compile() + predict() (g++, ~10 s).  etchnn: the TorchScript ONNX
export, `etchnn predict --precision P --tables hls4ml` (build/etchnn).  Prints
the median and max absolute differences from torch (float32) on 500 inputs
uniform in +-1.5.  Scratch files go to a temporary directory."""
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
T, F, H = 5, 3, 4


class Net(torch.nn.Module):
    def __init__(self, cls):
        super().__init__()
        self.rnn = getattr(torch.nn, cls)(F, H, batch_first=True)
        self.fc = torch.nn.Linear(H, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])


def main():
    import hls4ml
    warnings.simplefilter("ignore")
    cls, prec = sys.argv[1], sys.argv[2]
    torch.manual_seed(7)
    m = Net(cls).eval()
    if len(sys.argv) > 3:
        with torch.no_grad():
            getattr(m.rnn, sys.argv[3]).zero_()
    x = np.random.default_rng(5).uniform(-1.5, 1.5, (500, T, F))
    with torch.no_grad():
        ref = m(torch.tensor(x, dtype=torch.float32)).numpy()
    work = tempfile.mkdtemp(prefix="hls4ml_torch_rnn_")
    cfg = hls4ml.utils.config_from_pytorch_model(m, (T, F), granularity="name", default_precision=prec,
                                                 backend="Vivado")
    hm = hls4ml.converters.convert_from_pytorch_model(m, hls_config=cfg, output_dir=os.path.join(work, "prj"),
                                                      backend="Vivado", io_type="io_parallel")
    hm.compile()
    yh = np.asarray(hm.predict(np.ascontiguousarray(x.astype(np.float32)))).reshape(ref.shape)
    print(f"hls4ml - torch: median {np.median(np.abs(yh - ref)):.4g}, max {np.abs(yh - ref).max():.4g}; "
          f"median |torch| {np.median(np.abs(ref)):.4g}")
    path = os.path.join(work, f"{cls}.onnx")
    torch.onnx.export(m, (torch.zeros(1, T, F),), path, dynamo=False, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    np.save(os.path.join(work, "x.npy"), x.reshape(len(x), -1))
    r = subprocess.run([os.path.join(ROOT, "build", "etchnn"), "predict", path, "--input", os.path.join(work, "x.npy"),
                        "--output", os.path.join(work, "y.npy"), "--precision", prec, "--tables", "hls4ml"],
                       capture_output=True, text=True)
    if r.returncode:
        print("etchnn:", r.stderr.strip())
        return
    ye = np.load(os.path.join(work, "y.npy")).reshape(ref.shape)
    print(f"etchnn - torch: median {np.median(np.abs(ye - ref)):.4g}, max {np.abs(ye - ref).max():.4g}")


if __name__ == "__main__":
    main()
