"""Shared test fixtures: where the binaries and the shared models are."""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = pathlib.Path(os.environ.get("ETCHNN_MODELS", ROOT.parent / "shared" / "models"))
ETCHNN = pathlib.Path(os.environ.get("ETCHNN", ROOT / "build" / "etchnn")).absolute()   # tests may change directory
SANITIZED = os.environ.get("ETCHNN_SANITIZED") == "1"
# the Python package importable in every process pytest runs, the xdist controller included: a worker reporting an
# etchnn.EtchnnWarning makes the controller import its class (it brought a worker down when it could not)
if str(ROOT / "python") not in sys.path:
    sys.path.insert(0, str(ROOT / "python"))

ONNX_MLPS = ["three_layer_keras", "three_layer_pytorch", "three_layer_bn_keras", "three_layer_bn_pytorch",
             "two_layer_keras", "two_layer_pytorch", "dense_big_keras"]


def onnx_model(name):
    p = MODELS / "onnx" / f"{name}.onnx"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


def run(*args, check=True, **kw):
    """Run the etchnn CLI; returns CompletedProcess (text)."""
    r = subprocess.run([str(ETCHNN), *map(str, args)], capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"etchnn {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}")
    return r


def predict(model, x, tmp_path, *opts):
    """etchnn predict on array x; returns float64 outputs read from .npy."""
    xin = tmp_path / "x.npy"
    yout = tmp_path / "y.npy"
    np.save(xin, np.asarray(x, dtype=np.float64))
    run("predict", model, "--input", xin, "--output", yout, *opts)
    return np.load(yout)


def icarus_bench(out, n=None, timeout=900):
    """Run a compiled project's self-checking Icarus bench (OUT/rtl/tb_MODEL.v, every output against the
    emulator's); n: only its first n vectors.  Asserts PASS.  Under the sanitizers the test stops here,
    skipped: its time would go into Icarus, not our code (the compile before it ran under ASan+UBSan)."""
    import json
    import shutil
    if SANITIZED:
        pytest.skip("RTL simulations are not repeated under the sanitizers")
    rtl = pathlib.Path(out) / "rtl"
    tb = rtl / f"tb_{json.loads((pathlib.Path(out) / 'report.json').read_text())['model']}.v"
    if n is not None:
        tb.write_text(tb.read_text().replace("localparam N = 1000,", f"localparam N = {n},"))
    subprocess.run([shutil.which("iverilog"), "-g2005", "-o", "tb.vvp", "-c", "files.f", tb.name], cwd=rtl,
                   check=True, capture_output=True, text=True)
    r = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=rtl, capture_output=True, text=True, timeout=timeout)
    assert "PASS" in r.stdout and "FAIL" not in r.stdout, r.stdout[-2000:]


def random_inputs(n, width, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, width)) * scale).astype(np.float64)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long cross-checks (run by make test; skipped by the sanitizer pass)")
    config.addinivalue_line("markers", "extended: the longest cross-checks, beyond the sample make test runs "
                            "(make test-extended runs them)")


def pytest_collection_modifyitems(config, items):
    """Under the sanitizers (make sanitize) RTL simulations and hls4ml C simulations are
    not repeated: their time goes into Verilator and g++ builds of other programs, and
    the compiler paths they drive run under ASan+UBSan in the other tests (compile,
    lint, C = emulator, predict)."""
    if not SANITIZED:
        return
    skip = pytest.mark.skip(reason="RTL and hls4ml simulations are not repeated under the sanitizers")
    for item in items:
        name = item.name.lower()
        if "verify" in name or "csim" in name or "icarus" in name:
            item.add_marker(skip)


# The Python package (from this checkout, or the installed one for tests/python with
# ETCHNN_TEST_INSTALLED=1: whichever the importing test module put on sys.path), its C library found.
@pytest.fixture(scope="session")
def etchnn():
    import etchnn as e
    try:
        e.library_path()
    except e.EtchnnError as err:
        pytest.skip(str(err))
    return e


def keras3_or_skip():
    """Keras 3 on the torch backend (the tests' setting), else skip."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    return keras


def hls4ml_uniform_project(m, tmp_path, precision, accum):
    """Keras 3 model m saved as tmp_path/m.keras and built by hls4ml 1.3 (Vivado, io_parallel, compiled for
    its C simulation) with config_from_keras_model's name-granularity config, every result, weight, bias and
    param set to `precision` and every accumulator to `accum`; returns the compiled project."""
    import contextlib
    import io
    hls4ml = pytest.importorskip("hls4ml")
    m.save(tmp_path / "m.keras")
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = hls4ml.utils.config_from_keras_model(m, granularity="name", default_precision=precision,
                                                   backend="Vivado")
        for layer in cfg["LayerName"].values():
            for k in ("result", "weight", "bias", "accum", "param"):
                if k in layer.get("Precision", {}):
                    layer["Precision"][k] = accum if k == "accum" else precision
        hm = hls4ml.converters.convert_from_keras_model(m, output_dir=str(tmp_path / "prj"), io_type="io_parallel",
                                                        backend="Vivado", hls_config=cfg)
        hm.compile()
    return hm


def keras_equals_hls4ml_csim(m, precision, tmp_path, float_too=True):
    """Keras 3 model m (saved here) through hls4ml 1.3's Vivado io_parallel C simulation, with every
    precision hls4ml's config names set to `precision` and a wide wrapping accumulator (hls4ml saturates
    after every addition otherwise), and through `etchnn predict --hls4ml` with the same types: equal
    outputs on 10,000 inputs reaching both signs; and (float_too) --float equals Keras."""
    accum = "fixed<32,12>"
    hm = hls4ml_uniform_project(m, tmp_path, precision, accum)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-4, 4, (5000, 4)), rng.standard_normal((5000, 4)) * 2])
    ref = np.asarray(hm.predict(x), dtype=np.float64).reshape(len(x), -1)
    c = tmp_path / "c.yml"
    c.write_text(f"Model:\n  Precision:\n    default: '{precision}'\n    accum: '{accum}'\n")
    got = predict(tmp_path / "m.keras", x, tmp_path, "-c", c, "--hls4ml")
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert np.count_nonzero(ref < 0) > 1000 and np.count_nonzero(ref > 0) > 1000
    if float_too:
        fl = predict(tmp_path / "m.keras", x, tmp_path, "--float")
        assert np.abs(fl - m.predict(x, verbose=0)).max() < 1e-4
