"""The CLI side of the bit-for-bit checks."""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ETCHNN = pathlib.Path(os.environ.get("ETCHNN", ROOT / "build" / "etchnn"))
MODELS = pathlib.Path(os.environ.get("ETCHNN_MODELS", ROOT.parent / "shared" / "models"))
ONNX_MLPS = ["three_layer_keras", "three_layer_pytorch", "three_layer_bn_keras", "three_layer_bn_pytorch",
             "two_layer_keras", "two_layer_pytorch", "dense_big_keras"]


def shared_onnx(name):
    p = MODELS / "onnx" / f"{name}.onnx"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


def cli_predict(model_path, x, tmp_path, config=None, *opts):
    """`etchnn predict` on x (float64 .npy), with an optional config dict."""
    if not ETCHNN.exists():
        pytest.skip(f"{ETCHNN} not built")
    xin, yout = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(xin, np.asarray(x, dtype=np.float64).reshape(len(x), -1))
    args = [str(ETCHNN), "predict", str(model_path), "--input", str(xin), "--output", str(yout), *opts]
    if config is not None:
        cfg = tmp_path / "cfg.json"
        cfg.write_text(json.dumps(config))
        args += ["-c", str(cfg)]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return np.load(yout)
