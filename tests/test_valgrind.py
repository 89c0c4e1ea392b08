"""The library frees what it allocates and reads no uninitialised memory:
valgrind memcheck on compile (C, RTL, report), predict, config and an error path."""
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ETCHNN, ROOT, SANITIZED, onnx_model

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None or SANITIZED,
                                reason="valgrind not installed (or a sanitizer build, which valgrind cannot run)")


def memcheck(*args):
    r = subprocess.run(["valgrind", "--leak-check=full", "--errors-for-leak-kinds=all", "--error-exitcode=99",
                        "-q", str(ETCHNN), *map(str, args)], capture_output=True, text=True)
    assert r.returncode != 99, r.stderr[-3000:]
    return r


def test_compile_clean(tmp_path):
    r = memcheck("compile", ROOT / "examples" / "jet_tagger.onnx", "-o", tmp_path / "out", "--precision", "fixed<8,3>")
    assert r.returncode == 0, r.stderr


def test_predict_clean(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((200, 10)))
    r = memcheck("predict", onnx_model("two_layer_keras"), "--hls4ml", "--input", tmp_path / "x.npy")
    assert r.returncode == 0, r.stderr


def test_config_and_error_paths_clean(tmp_path):
    assert memcheck("config", onnx_model("three_layer_bn_keras"), "--granularity", "name").returncode == 0
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(onnx_model("three_layer_keras").read_bytes()[:300])
    assert memcheck("compile", bad, "-o", tmp_path / "o").returncode == 2
    cfg = tmp_path / "c.yml"
    cfg.write_text("LayerName:\n  nope:\n    Precision: fixed<8,3>\n")
    assert memcheck("predict", onnx_model("three_layer_keras"), "-c", cfg, "--input", cfg).returncode == 2
