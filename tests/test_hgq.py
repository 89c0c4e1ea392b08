"""HGQ proxy models (Keras 2 .h5 with FixedPointQuantizer layers, per-element
fixed-point formats): compiled with no precision configuration.

- etchnn predict equals hls4ml 1.3's C simulation of the same file (hls4ml's
  own bit-exact flow, tests/ref/hls4ml_hgq_predict.py), every output of 10,000
  inputs per model;
- the generated C equals the emulator on the same inputs;
- hgq_jet_classifier's RTL: verilator lint and Verilator verify on 10,000
  vectors; hgq_mnist_heterogeneous's RTL is linted (its Verilator verify,
  2,000 vectors, 0 differences, was run by hand: the build takes minutes);
- broken quantizer arrays give one clear error, exit status 2."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ETCHNN, MODELS, ROOT, SANITIZED, predict, run
from test_cemu import build_c

HGQ = ["hgq_jet_classifier", "hgq_mnist_homogeneous", "hgq_mnist_heterogeneous"]
VERILATOR = shutil.which("verilator")


def hgq_model(name):
    p = MODELS / "hgq" / f"{name}.h5"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


def inputs(name, n=10000, seed=1):
    """Jet features: half normal (sigma 3), half uniform over [-40, 40] (beyond the input types: wrapping).
    MNIST-sized images: half uniform [0, 1] pixels, half uniform [-1.5, 2.5] (negative and > 1: wrapping)."""
    rng = np.random.default_rng(seed)
    if "jet" in name:
        return np.concatenate([rng.normal(0, 3, (n // 2, 16)), rng.uniform(-40, 40, (n - n // 2, 16))])
    return np.concatenate([rng.uniform(0, 1, (n // 2, 784)), rng.uniform(-1.5, 2.5, (n - n // 2, 784))])


def hls4ml_ref(path, x):
    pytest.importorskip("hls4ml")
    import sys
    sys.path.insert(0, str(ROOT / "tests" / "ref"))
    from hls4ml_hgq_predict import hls4ml_hgq_predict
    return hls4ml_hgq_predict(str(path), x)


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow, pytest.mark.extended]) if "homogeneous" in n
                                  else pytest.param(n, marks=[pytest.mark.slow, pytest.mark.extended]) if "mnist" in n
                                  else n for n in HGQ])
def test_equals_hls4ml_csim(name, tmp_path):   # the MNIST models in make test-extended (CI time); the jet one here
    path = hgq_model(name)
    x = inputs(name)
    ref = hls4ml_ref(path, x)
    got = predict(path, x, tmp_path)
    assert got.shape == ref.shape
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ from hls4ml's C simulation"


def mode_variant(tmp_path, rnd, sat):
    """hgq_jet_classifier with every quantizer's RND and SAT changed (same arrays, same weights)."""
    h5py = pytest.importorskip("h5py")
    dst = tmp_path / f"jet_{rnd}_{sat}.h5"
    shutil.copy(hgq_model("hgq_jet_classifier"), dst)
    os.chmod(dst, 0o644)
    with h5py.File(dst, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        for layer in cfg["config"]["layers"]:
            if layer["class_name"] == "FixedPointQuantizer":
                layer["config"]["RND"], layer["config"]["SAT"] = rnd, sat
        f.attrs["model_config"] = json.dumps(cfg)
    return dst


@pytest.mark.slow
@pytest.mark.parametrize("rnd,sat", [("RND", "SAT"), ("RND_CONV", "WRAP")])
def test_modes_equal_hls4ml_csim(rnd, sat, tmp_path):
    """Per-element rounding and saturation: the jet classifier with every quantizer rounding (RND: half up;
    RND_CONV: half to even, for which hls4ml and etchnn give the input 24 fractional bits) and saturating."""
    path = mode_variant(tmp_path, rnd, sat)
    x = inputs("hgq_jet_classifier")
    ref = hls4ml_ref(path, x)
    got = predict(path, x, tmp_path)
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ from hls4ml's C simulation"


def test_types_from_quantizers():
    """No precision config: the input gets the quantizer's container (one more fractional bit when it
    rounds), every quantizer its per-element types, dense layers exact accumulators."""
    dump = run("compile", hgq_model("hgq_jet_classifier"), "--dump-after", "precision").stdout
    assert "input %0 input_1 [16] fixed<12,5>" in dump
    assert "quant 'inp_q_quantizer'" in dump and "elements=16 types=10 pruned=0" in dump
    assert "-> %7 dense_1_relu_quantizer [64] ufixed<11,8> elements=64 types=6 pruned=57" in dump
    assert "dense_1_weight [16,64] fixed<10,5" in dump   # the stored (quantized) weights, exactly
    dump = run("compile", hgq_model("hgq_mnist_homogeneous"), "--dump-after", "precision").stdout
    assert "input %0 input_8 [28,28] ufixed<6,1>" in dump          # RND quantizer ufixed<5,1>: + 1 bit
    assert "elements=ufixed<5,1,RND>" in dump
    assert "maxpool2d 'p_max_pooling2d_2' (%8 h_conv2d_2_relu_quantizer [26,26,4] ufixed<6,2>) -> " \
           "%9 p_max_pooling2d_2 [13,13,4] ufixed<6,2>" in dump


@pytest.mark.parametrize("name", HGQ)
def test_c_equals_emulator(name, tmp_path):
    path = hgq_model(name)
    out = tmp_path / "out"
    run("compile", path, "-o", out, "--no-rtl")
    exe = build_c(out, name, tmp_path)
    x = inputs(name, n=2000 if SANITIZED else 10000, seed=3)
    got = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(x), -1)
    ref = predict(path, x, tmp_path)
    mism = np.count_nonzero(got != ref)
    assert mism == 0, f"{mism} of {got.size} outputs differ"


@pytest.mark.skipif(SANITIZED, reason="Verilator time, not our code")
@pytest.mark.skipif(not VERILATOR, reason="verilator not installed")
@pytest.mark.parametrize("name", ["hgq_jet_classifier",   # mnist: about a minute alone, make test-extended
                                  pytest.param("hgq_mnist_heterogeneous", marks=pytest.mark.extended)])
def test_rtl_lint(name, tmp_path):
    out = tmp_path / "out"
    run("compile", hgq_model(name), "-o", out)
    topm = json.loads((out / "report.json").read_text())["model"]
    r = subprocess.run([VERILATOR, "--lint-only", "-Wall", "--top-module", topm, "-F", str(out / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.skipif(not VERILATOR, reason="verilator not installed")
def test_rtl_verify_jet(tmp_path):
    out = tmp_path / "out"
    run("compile", hgq_model("hgq_jet_classifier"), "-o", out)
    r = run("verify", out, "--n", "10000", "--seed", "1", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "10000 vectors, one per clock" in r.stdout and ": 0 of 50000 outputs differ" in r.stdout, r.stdout
    print(r.stdout.strip())


def broken_copy(tmp_path, edit):
    h5py = pytest.importorskip("h5py")
    dst = tmp_path / "broken.h5"
    shutil.copy(hgq_model("hgq_jet_classifier"), dst)
    os.chmod(dst, 0o644)
    with h5py.File(dst, "r+") as f:
        edit(f)
    return dst


@pytest.mark.parametrize("case", ["shape", "bits", "rnd"])
def test_bad_quantizer(case, tmp_path):
    def edit(f):
        g = f["model_weights/inp_q_quantizer"]
        if case == "shape":
            del g["bits:0"]
            g.create_dataset("bits:0", data=np.full((1, 15), 8, dtype=np.int8))
        elif case == "bits":
            g["bits:0"][0, 3] = 70
        else:
            cfg = json.loads(f.attrs["model_config"])
            cfg["config"]["layers"][1]["config"]["RND"] = "ROUND_UP"
            f.attrs["model_config"] = json.dumps(cfg)
    path = broken_copy(tmp_path, edit)
    r = run("compile", path, "-o", tmp_path / "o", check=False)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip()
    assert err.count("\n") == 0 and "inp_q_quantizer" in err and str(path) in err, err
    want = {"shape": "expected bits of shape (1, ...) broadcastable to the input [16], got [1,15]",
            "bits": "bits 0..64", "rnd": "expected RND among TRN, TRN_ZERO, RND"}[case]
    assert want in err, err


@pytest.mark.skipif(shutil.which("valgrind") is None or SANITIZED, reason="valgrind not installed (or a sanitizer build)")
def test_valgrind_clean(tmp_path):
    """compile (C, RTL, report) of the per-element model and predict of the convolutional one: no leak, no
    uninitialised read.  (libhdf5 keeps about 1.9 kB of per-thread state reachable until exit, for every
    Keras .h5: "still reachable" blocks are not counted.)"""
    x = tmp_path / "x.npy"
    np.save(x, inputs("hgq_mnist_heterogeneous", n=4))
    for args in (["compile", hgq_model("hgq_jet_classifier"), "-o", tmp_path / "out"],
                 ["predict", hgq_model("hgq_mnist_heterogeneous"), "--input", x]):
        r = subprocess.run(["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect,possible",
                            "--error-exitcode=99", "-q",
                            str(ETCHNN), *map(str, args)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
