#!/usr/bin/env python3
"""Emulation speed: the jet tagger (three_layer_keras.onnx) on the same
100,000 inputs through hls4ml's compiled C simulation (hls_model.predict) and
through etchnn (the CLI as a whole process, and the library in-process), in
one run.  Both use fixed<16,6> with hls4ml's tables, and the outputs are
checked to be bit-identical before any number is reported.

    python3 bench/predict_speed.py [--n 100000] [--precision 'fixed<16,6>']
"""
import argparse
import ctypes
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ref"))
MODEL = ROOT.parent / "shared" / "models" / "onnx" / "three_layer_keras.onnx"


def hls4ml_model(precision, workdir):
    import onnx
    import hls4ml_predict as hp
    from hls4ml_semantics import precision_types, table_settings
    types = precision_types(precision)
    hm, _ = hp._build(str(MODEL), workdir, types, table_settings(types), True, open(os.devnull, "w"))
    return hm


def etchnn_lib(precision):
    lib = ctypes.CDLL(str(ROOT / "build" / "libetchnn.so"))
    lib.etn_model_new.restype = ctypes.c_void_p
    lib.etn_error.restype = ctypes.c_char_p
    lib.etn_error.argtypes = [ctypes.c_void_p]
    for f in ("etn_load", "etn_set_option", "etn_compile", "etn_predict"):
        getattr(lib, f).restype = ctypes.c_int
    lib.etn_load.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.etn_set_option.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.etn_compile.argtypes = [ctypes.c_void_p]
    ptr = np.ctypeslib.ndpointer(ctypes.c_double, flags="C_CONTIGUOUS")
    lib.etn_predict.argtypes = [ctypes.c_void_p, ptr, ptr, ctypes.c_size_t, ctypes.c_int]
    m = lib.etn_model_new()
    for k, v in (("precision", precision), ("tables", "hls4ml"), ("weight_quant", "hls4ml")):
        assert lib.etn_set_option(m, k.encode(), v.encode()) == 0
    assert lib.etn_load(m, str(MODEL).encode()) == 0, lib.etn_error(m)
    assert lib.etn_compile(m) == 0, lib.etn_error(m)
    return lib, m


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--precision", default="fixed<16,6>")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    x = np.random.default_rng(2026).uniform(-4, 4, (a.n, 16))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="etchnn_bench_"))
    np.save(tmp / "x.npy", x)

    hm = hls4ml_model(a.precision, str(tmp / "hls4ml_prj"))
    t_hls, y_hls = best_of(lambda: np.asarray(hm.predict(x)).reshape(a.n, -1), a.repeats)

    cli = [str(ROOT / "build" / "etchnn"), "predict", str(MODEL), "--precision", a.precision, "--hls4ml",
           "--input", str(tmp / "x.npy"), "--output", str(tmp / "y.npy")]
    t_cli, _ = best_of(lambda: subprocess.run(cli, check=True), a.repeats)
    y_cli = np.load(tmp / "y.npy")

    lib, m = etchnn_lib(a.precision)
    y_lib = np.zeros((a.n, 5))
    t_lib, _ = best_of(lambda: lib.etn_predict(m, x, y_lib, a.n, 0), a.repeats)

    assert np.array_equal(y_cli, y_hls), "etchnn CLI and hls4ml outputs differ"
    assert np.array_equal(y_lib, y_hls), "etchnn library and hls4ml outputs differ"
    rows = [("hls4ml 1.3 hls_model.predict (compiled C simulation)", t_hls),
            ("etchnn predict (CLI, whole process incl. load/compile/.npy I/O)", t_cli),
            ("etchnn library etn_predict (in-process)", t_lib)]
    print(f"model: {MODEL.name}, {a.n} events, {a.precision}, hls4ml tables; outputs bit-identical: yes")
    print(f"{'':66s} {'seconds':>9s} {'events/s':>12s} {'vs hls4ml':>10s}")
    for name, t in rows:
        print(f"{name:66s} {t:9.3f} {a.n / t:12.0f} {t_hls / t:9.1f}x")


if __name__ == "__main__":
    main()
