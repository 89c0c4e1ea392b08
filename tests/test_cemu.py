"""The standalone C back end: compiles cleanly, equals the emulator bit for
bit, and is byte-identical across runs."""
import filecmp
import subprocess

import numpy as np
import pytest

from conftest import ONNX_MLPS, ROOT, onnx_model, predict, random_inputs, run

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "MODEL.h"
int main(void) {
    double in[MODEL_N_IN], out[MODEL_N_OUT];
    while (fread(in, sizeof(double), MODEL_N_IN, stdin) == MODEL_N_IN) {
        MODEL_predict(in, out);
        fwrite(out, sizeof(double), MODEL_N_OUT, stdout);
    }
    return 0;
}
"""

CONFIGS = {
    "fixed16_6": ["--precision", "fixed<16,6>"],
    "fixed8_3": ["--precision", "fixed<8,3>"],
    "rnd_sat": ["--precision", "fixed<12,4,RND_CONV,SAT>"],
    "exact_tables": ["--precision", "fixed<16,6>", "--tables", "exact", "--no-rtl"],
    "hls4ml": ["--precision", "fixed<8,3>", "--hls4ml"],
}


def build_c(out, name, tmp_path):
    src = out / "c" / f"{name}.c"
    drv = tmp_path / "driver.c"
    drv.write_text(DRIVER.replace("MODEL", name))
    exe = tmp_path / "model_c"
    subprocess.run(["cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic-errors" if False else "-Wpedantic",
                    "-I", str(out / "c"), str(src), str(drv), "-o", str(exe), "-lm"], check=True)
    return exe


def c_and_emulator(path, name, x, work, *opts):
    """Model `path` compiled to C alone (opts: --precision, --tables, ...) in work/out, built and run on the
    float64 events x; returns (the C's outputs, `etchnn predict`'s with the same options)."""
    out = work / "out"
    run("compile", path, "-o", out, "--no-rtl", *opts)
    exe = build_c(out, name, work)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    return got, predict(path, x, work, *opts)


@pytest.mark.parametrize("cfg", sorted(CONFIGS))
@pytest.mark.parametrize("name", ONNX_MLPS)
def test_c_equals_emulator(name, cfg, tmp_path):
    path = onnx_model(name)
    out = tmp_path / "out"
    run("compile", path, "-o", out, *CONFIGS[cfg])
    cname = next((out / "c").glob("*.h")).stem
    exe = build_c(out, cname, tmp_path)
    width = int(open(out / "c" / f"{cname}.h").read().split(f"#define {cname}_N_IN ")[1].split()[0])
    x = random_inputs(10000, width, seed=7, scale=3.0)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    ref = predict(path, x, tmp_path, *[o for o in CONFIGS[cfg] if o != "--no-rtl"])   # --no-rtl is compile's
    assert got.shape == ref.shape
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ"


@pytest.mark.parametrize("name", ["three_layer_keras", "two_layer_keras"])
def test_output_is_byte_identical(name, tmp_path):
    path = onnx_model(name)
    a, b = tmp_path / "a", tmp_path / "b"
    run("compile", path, "-o", a, "--precision", "fixed<8,3>")
    run("compile", path, "-o", b, "--precision", "fixed<8,3>")
    cmp = filecmp.dircmp(a / "c", b / "c")
    assert not cmp.diff_files and not cmp.left_only and not cmp.right_only
    for f in (a / "c").iterdir():
        assert f.read_bytes() == (b / "c" / f.name).read_bytes()
