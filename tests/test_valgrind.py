"""The library frees what it allocates and reads no uninitialised memory:
valgrind memcheck on compile (C, RTL, report), predict, config and an error path."""
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ETCHNN, MODELS, ROOT, SANITIZED, onnx_model

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


def test_folded_and_fit_clean(tmp_path):
    """ReuseFactor (both strategies) and --fit --part: the fold, fit and part code paths."""
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  ReuseFactor: 5\n  Strategy: Resource\nLayerName:\n  fc1:\n    Strategy: Latency\n")
    r = memcheck("compile", ROOT / "examples" / "jet_tagger.onnx", "-o", tmp_path / "f", "--precision", "fixed<8,3>",
                 "-c", cfg, "--multipliers", "auto", "--emit", "c,rtl,axis")
    assert r.returncode == 0, r.stderr
    r = memcheck("compile", ROOT / "examples" / "jet_tagger.onnx", "-o", tmp_path / "g", "--precision", "fixed<12,4>",
                 "--part", "xc7z020", "--fit", "0.3")
    assert r.returncode == 0, r.stderr
    # io_stream: folded conv stages and whole-image layers, and the stream's --fit (several rounds)
    cnn = MODELS / "onnx" / "conv1d_small_keras.onnx"   # (HDF5 keeps a few bytes reachable: no Keras here)
    if cnn.exists():
        cfg.write_text("Model:\n  ReuseFactor: 3\n  IOType: io_stream\n")
        r = memcheck("compile", cnn, "-o", tmp_path / "s", "-c", cfg)
        assert r.returncode == 0, r.stderr
        r = memcheck("compile", cnn, "-o", tmp_path / "sf", "--io", "stream", "--part", "xc7z020", "--fit", "0.15")
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


DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "etchnn.h"
/* load_buffer FILE: etn_load_keras_buffer on the file's bytes, compile, predict one event */
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 4;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        return 4;
    fclose(f);
    EtnModel *m = etn_model_new();
    int rc = etn_load_keras_buffer(m, buf, (size_t)n, argc > 2 ? argv[2] : "model.keras");
    if (rc == 0)
        rc = etn_compile(m);
    if (rc == 0) {
        size_t ni = etn_input_size(m), no = etn_output_size(m);
        double *x = calloc(ni, sizeof *x), *y = calloc(no, sizeof *y);
        rc = etn_predict(m, x, y, 1, 0);
        free(x);
        free(y);
    }
    if (rc != 0)
        fprintf(stderr, "%s\n", etn_error(m));
    etn_model_free(m);
    free(buf);
    return rc;
}
"""


def test_keras_buffer_clean(tmp_path):
    """etn_load_keras_buffer (the Python package's way in for Keras objects):
    a Keras 3 archive from memory, a weights-only HDF5 image (an error), and
    bytes that are neither (an error)."""
    import os
    lib = ETCHNN.parent / "libetchnn.a"
    if not lib.exists():
        pytest.skip(f"{lib} not built")
    src = tmp_path / "load_buffer.c"
    src.write_text(DRIVER)
    exe = tmp_path / "load_buffer"
    libs = subprocess.run(["pkg-config", "--libs", "libprotobuf-c", "yaml-0.1", "libcjson", "hdf5", "libzip"],
                          capture_output=True, text=True).stdout.split()
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-g", f"-I{ROOT / 'include'}", str(src), str(lib),
                        *libs, "-lm", "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    def run_checked(path, name):
        # HDF5 keeps 3 blocks of per-thread error-stack state until exit ("still reachable", as for .keras
        # files through the CLI): every other kind of leak counts
        r = subprocess.run(["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect,possible",
                            "--error-exitcode=99", "-q",
                            str(exe), str(path), name], capture_output=True, text=True)
        assert r.returncode != 99, r.stderr[-3000:]
        return r
    archive = MODELS / "qkeras" / "qkeras-v3_3layer.keras"
    weights = MODELS / "keras" / "KERAS_3layer_weights.h5"
    if not archive.exists() or not weights.exists():
        pytest.skip("shared Keras models not present")
    assert run_checked(archive, "m.keras").returncode == 0
    r = run_checked(weights, "w.h5")
    assert r.returncode == 2 and "w.h5: expected a Keras model (HDF5 data with a model_config attribute)" in r.stderr
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is not a zip archive" * 10)
    r = run_checked(junk, "junk.keras")
    assert r.returncode == 2 and "junk.keras: expected a Keras 3 archive (zip) or a Keras .h5 file" in r.stderr
