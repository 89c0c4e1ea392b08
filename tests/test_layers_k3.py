"""Dot of two vectors, DepthwiseConv1D and Conv1D padding='causal' (issue 15 item 5), Keras 3.

- Dot(axes=1) of two 12-vectors as hls4ml's dot1d: each product cast to the layer's accum, the products summed in
  accum, the sum cast to the result (read as the products <dot>_product, then a sum made a Dense over ones); three
  configurations: a wrapping accum, a rounding and saturating one (summed in hls4ml's order), an 'auto' result.
  DepthwiseConv1D ('same', and strided 'valid' with relu) as a grouped Conv1D; causal padding: (kernel - 1) *
  dilation zeros before the sequence, none after (Keras's, and hls4ml 1.3's Keras 3 reader's).
- The models and hls4ml 1.3's csim outputs are stored (tests/ref/layers_k3.py writes them: .keras models, the
  config config_from_keras_model writes, edited as that file says, csim codes on 2,000 (Dot) and 1,000 (conv)
  events, Keras's float outputs on 200).  make test compares with the stored outputs; a fresh csim (extended)
  checks the stored files.
- C equals the emulator; Icarus runs the conv model's RTL (io_parallel and io_stream); Verilator verify of both, the HLS C++ project of the
  conv model built with g++ equals the emulator (extended).
- Refusals: a Dot of rank-2 inputs, normalize=True, padding='causal' on a 2-D convolution."""
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import SANITIZED, icarus_bench, run

REF = pathlib.Path(__file__).parent / "ref"
sys.path.insert(0, str(REF))
import layers_k3 as L  # noqa: E402

NAMES = L.NAMES


def etchnn_predict(nm, tmp_path, *opts):
    args = []
    for k, x in enumerate(L.events(nm)):
        np.save(tmp_path / f"x{k}.npy", x)
        args += ["--input", tmp_path / f"x{k}.npy"]
    run("predict", L.model_path(nm), *args, "--output", tmp_path / "y.npy", *opts)
    return np.load(tmp_path / "y.npy").reshape(L.N[nm], -1)


def cfg_args(nm):
    return ["-c", L.cfg_path(nm), "--hls4ml"]


@pytest.mark.parametrize("nm", NAMES)
def test_equals_stored_hls4ml_csim(nm, tmp_path):
    ref = np.load(REF / "csim" / f"layers_k3_{nm}.npy") / L.SCALE
    got = etchnn_predict(nm, tmp_path, *cfg_args(nm))
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert len(np.unique(ref)) > 150
    fl = etchnn_predict(nm, tmp_path, "--float")[:L.NK]
    keras_y = np.load(REF / "csim" / f"layers_k3_{nm}_keras.npy").astype(np.float64)
    assert np.abs(fl - keras_y).max() < 1e-4 * max(1.0, np.abs(keras_y).max())


def test_dot_accum_type_matters(tmp_path):
    """The products are cast to the Dot's accum: a wider accum changes the outputs."""
    import yaml
    cfg = yaml.safe_load(L.cfg_path("dot").read_text())
    cfg["HLSConfig"]["LayerName"]["dot"]["Precision"]["accum"] = "fixed<20,8>"
    (tmp_path / "c.yml").write_text(json.dumps(cfg))
    wide = etchnn_predict("dot", tmp_path, "-c", tmp_path / "c.yml", "--hls4ml")
    assert np.count_nonzero(wide != np.load(REF / "csim" / "layers_k3_dot.npy") / L.SCALE) > 500
    # 'auto' accum: hls4ml 1.3 infers none for a Dot (its inference asserts); refused naming the layer
    cfg["HLSConfig"]["LayerName"]["dot"]["Precision"]["accum"] = "auto"
    (tmp_path / "c.yml").write_text(json.dumps(cfg))
    r = run("compile", L.model_path("dot"), "-c", tmp_path / "c.yml", "--hls4ml", "-o", tmp_path / "o", check=False)
    assert r.returncode != 0 and "node 'dot' (Dot): precision accum: 'auto'" in r.stderr, r.stderr


def test_dot_saturating_accum_in_hls4ml_order(tmp_path):
    """accum fixed<12,5,RND,SAT>: hls4ml saturates after each addition in index order (the stored csim equals
    --hls4ml, which sets --sat-order hls4ml); the order-free exact sum, saturated once, differs."""
    ref = np.load(REF / "csim" / "layers_k3_dot_sat.npy") / L.SCALE
    exact = etchnn_predict("dot_sat", tmp_path, "-c", L.cfg_path("dot_sat"), "--tables", "hls4ml", "--weight-quant",
                           "hls4ml", "--auto-types", "hls4ml", "--sat-order", "exact")
    assert np.count_nonzero(exact != ref) > 300


def c_driver(name, nin):
    if nin == 1:   # a single-input model's header: NAME_N_IN, NAME_N_OUT
        return (f'#include <stdio.h>\n#include "{name}.h"\nint main(void) {{\n    double i0[{name}_N_IN], o0[{name}_N_OUT];\n'
                f"    while (fread(i0, sizeof(double), {name}_N_IN, stdin) == {name}_N_IN) {{\n"
                f"        {name}_predict(i0, o0);\n        fwrite(o0, sizeof(double), {name}_N_OUT, stdout);\n    }}\n"
                f"    return 0;\n}}\n")
    ins = ", ".join(f"i{k}[{name}_IN{k}_N]" for k in range(nin))
    reads = " || ".join(f"fread(i{k}, sizeof(double), {name}_IN{k}_N, stdin) != {name}_IN{k}_N" for k in range(nin))
    args = ", ".join([f"i{k}" for k in range(nin)] + ["o0"])
    return (f'#include <stdio.h>\n#include "{name}.h"\nint main(void) {{\n    double {ins};\n    double o0[{name}_OUT0_N];\n'
            f"    for (;;) {{\n        if ({reads})\n            return 0;\n        {name}_predict({args});\n"
            f"        fwrite(o0, sizeof(double), {name}_OUT0_N, stdout);\n    }}\n}}\n")


@pytest.mark.parametrize("nm", NAMES)
def test_c_equals_emulator(nm, tmp_path):
    xs = L.events(nm)
    out = tmp_path / "out"
    run("compile", L.model_path(nm), "-o", out, "--emit", "c", *cfg_args(nm))
    name = next((out / "c").glob("*.h")).stem
    (tmp_path / "drv.c").write_text(c_driver(name, len(xs)))
    exe = tmp_path / "model_c"
    subprocess.run(["cc", "-std=c99", "-O1", "-I", out / "c", out / "c" / f"{name}.c", tmp_path / "drv.c", "-o", exe,
                    "-lm"], check=True)
    stdin = np.concatenate([x.reshape(L.N[nm], -1) for x in xs], axis=1).astype(np.float64).tobytes()
    got = np.frombuffer(subprocess.run([exe], input=stdin, capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(L.N[nm], -1)
    assert np.array_equal(got, etchnn_predict(nm, tmp_path, *cfg_args(nm)))


@pytest.mark.skipif(shutil.which("iverilog") is None or SANITIZED, reason="needs iverilog; not under the sanitizers")
@pytest.mark.parametrize("io", ["parallel", "stream"])
def test_rtl_icarus(io, tmp_path):
    """The conv model, io_parallel and io_stream (the Icarus bench takes one input; the two-input Dot is verified
    under Verilator, extended)."""
    out = tmp_path / "out"
    run("compile", L.model_path("dwconv1d"), "-o", out, "--io", io, *cfg_args("dwconv1d"))
    icarus_bench(out, n=40)


def test_refused(tmp_path):
    """Hand-written Keras 2 JSON (no Keras import): a Dot of matrices, normalize, causal on Conv2D."""
    import h5py

    def func(layers, name):
        j = tmp_path / f"{name}.json"
        j.write_text(json.dumps({"class_name": "Functional", "config": {"name": name, "layers": layers,
                                 "input_layers": [[lay["name"], 0, 0] for lay in layers if lay["class_name"] == "InputLayer"],
                                 "output_layers": [[layers[-1]["name"], 0, 0]]}, "keras_version": "2.0.5"}))
        with h5py.File(tmp_path / f"{name}_weights.h5", "w") as f:
            f.attrs["layer_names"] = []
        return j

    def inp(nm, shape):
        return {"class_name": "InputLayer", "name": nm, "config": {"name": nm, "batch_input_shape": [None, *shape]},
                "inbound_nodes": []}

    def dot(shape, **cfg):
        return [inp("a", shape), inp("b", shape),
                {"class_name": "Dot", "name": "dot", "config": {"name": "dot", "axes": 1, "normalize": False, **cfg},
                 "inbound_nodes": [[["a", 0, 0, {}], ["b", 0, 0, {}]]]}]
    for layers, msg in ((dot((3, 4)), "layer 'dot' (Dot): expected two vectors of the same length"),
                        (dot((4,), normalize=True), "layer 'dot' (Dot): expected normalize false"),
                        (dot((4,), axes=2), "layer 'dot' (Dot): expected axes 1 or -1")):
        r = run("compile", func(layers, "m"), "-o", tmp_path / "o", check=False)
        assert r.returncode != 0 and msg in r.stderr, r.stderr
    conv = [inp("x", (6, 6, 2)), {"class_name": "Conv2D", "name": "c", "config": {
        "name": "c", "filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "causal",
        "activation": "linear", "use_bias": False}, "inbound_nodes": [[["x", 0, 0, {}]]]}]
    r = run("compile", func(conv, "c2"), "-o", tmp_path / "o", check=False)
    assert r.returncode != 0 and "layer 'c' (Conv2D): expected padding 'valid' or 'same', got 'causal'" in r.stderr, r.stderr


@pytest.mark.extended
@pytest.mark.skipif(shutil.which("verilator") is None, reason="needs verilator")
@pytest.mark.parametrize("nm", NAMES)
def test_rtl_verilator_verify(nm, tmp_path):
    out = tmp_path / "out"
    run("compile", L.model_path(nm), "-o", out, *cfg_args(nm))
    run("verify", out, "--n", "2000")


@pytest.mark.extended
@pytest.mark.parametrize("nm", NAMES)
def test_stored_reference_is_hls4ml_csim(nm, tmp_path):
    pytest.importorskip("hls4ml")
    import yaml
    cfg, y = L.csim(nm, tmp_path / "prj")
    assert np.array_equal(L.codes(y), np.load(REF / "csim" / f"layers_k3_{nm}.npy"))
    assert yaml.safe_load(L.cfg_path(nm).read_text())["HLSConfig"] == yaml.safe_load(
        yaml.safe_dump(cfg, sort_keys=False))


@pytest.mark.extended
def test_hls_cpp_csim_equals_predict(tmp_path):
    """The conv model's HLS C++ project (a depthwise conv as a grouped conv, the causal padding) built with g++
    equals the emulator.  (The HLS back end takes single-input models: the Dot model is refused there, saying so.)"""
    from test_hls import csim_equals_predict
    x = L.events("dwconv1d")[0].reshape(L.N["dwconv1d"], -1)[:500]
    csim_equals_predict(L.model_path("dwconv1d"), tmp_path, opts=tuple(cfg_args("dwconv1d")), x=x)
