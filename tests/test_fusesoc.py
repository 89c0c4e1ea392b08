"""The FuseSoC core OUT/NAME.core (CAPI2), run by FuseSoC itself in a temporary folder:

- `--target lint` (Verilator, lint-only, -Wall) on jet_tagger's core (the AXI4-Stream wrapper
  as top) and on an io_stream design's core (conv1d_small_keras, also `--target sim`);
- `--target sim` (Icarus, the self-checking tb_NAME.v with its .mem files copied into
  FuseSoC's work folder) prints PASS;
- `--target synth` (Yosys synth_xilinx) on a tiny model writes a netlist;
- the core's rtl fileset is rtl/files.f plus the wrapper, and it names no path outside OUT.

Skipped without fusesoc (pip install fusesoc) or the tool a target runs.
"""
import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import MODELS, ROOT, SANITIZED, run

FUSESOC = shutil.which("fusesoc")
if FUSESOC is None:
    try:
        import fusesoc  # noqa: F401
        FUSESOC = [sys.executable, "-m", "fusesoc.main"]
    except ImportError:
        pass
need_fusesoc = pytest.mark.skipif(FUSESOC is None, reason="fusesoc not installed (pip install fusesoc)")
not_sanitized = pytest.mark.skipif(SANITIZED, reason="RTL simulation is not repeated under the sanitizers")
JET = ROOT / "examples" / "jet_tagger.onnx"


def fusesoc(out, target, vlnv, cwd):
    cmd = FUSESOC if isinstance(FUSESOC, list) else [FUSESOC]
    r = subprocess.run([*cmd, "--cores-root", str(out), "run", "--target", target, vlnv], cwd=cwd,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"fusesoc --target {target} {vlnv}:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r.stdout + r.stderr


@pytest.fixture(scope="module")
def jet(tmp_path_factory):
    out = tmp_path_factory.mktemp("jet") / "out"
    run("compile", JET, "-o", out, "--precision", "fixed<8,3>", "--emit", "c,rtl,axis,vivado,fusesoc")
    return out


def test_core_filesets(jet):
    core = (jet / "jet_tagger.core").read_text()
    assert core.startswith("CAPI=2:\n")
    assert 'name: "etchnn:nn:jet_tagger:' in core
    rtl = core.split("\n  rtl:\n")[1].split("\n  tb:\n")[0]
    listed = re.findall(r'^      - "rtl/([^"]+)"$', rtl, re.M)
    files = (jet / "rtl" / "files.f").read_text().split()
    assert listed == files + ["jet_tagger_axis.v"]
    for t in ["default", "lint", "sim", "synth", "synth_vivado"]:
        assert re.search(rf"^  {t}:$", core, re.M), t
    assert str(jet) not in core and "/work" not in core and ".." not in core


@need_fusesoc
@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed (apt-get install verilator)")
def test_fusesoc_lint(jet, tmp_path):
    text = fusesoc(jet, "lint", "etchnn:nn:jet_tagger", tmp_path)
    assert "%Warning" not in text and "%Error" not in text, text[-4000:]
    vc = next(tmp_path.glob("build/*/lint-verilator/*.vc")).read_text()
    assert "--top-module jet_tagger_axis" in vc and "jet_tagger_axis.v" in vc
    assert "-Wall" in next(tmp_path.glob("build/*/lint-verilator/config.mk")).read_text()


@not_sanitized
@need_fusesoc
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not installed (apt-get install iverilog)")
def test_fusesoc_sim(jet, tmp_path):
    text = fusesoc(jet, "sim", "etchnn:nn:jet_tagger", tmp_path)
    assert "PASS: 1000 vectors" in text and "FAIL" not in text, text[-4000:]


@need_fusesoc
@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed (apt-get install verilator)")
def test_fusesoc_stream(tmp_path):
    """An io_stream design: its core has no wrapper; lint on the stream top, sim on its test bench."""
    cnn = MODELS / "onnx" / "conv1d_small_keras.onnx"
    if not cnn.exists():
        pytest.skip(f"model {cnn} not present")
    out = tmp_path / "out"
    run("compile", cnn, "-o", out, "--precision", "fixed<8,3>", "--io", "stream", "--emit", "c,rtl,fusesoc")
    name = json.loads((out / "report.json").read_text())["model"]
    core = (out / f"{name}.core").read_text()
    assert "_axis" not in core and "synth_vivado" not in core
    text = fusesoc(out, "lint", f"etchnn:nn:{name}", tmp_path)
    assert "%Warning" not in text and "%Error" not in text, text[-4000:]
    if shutil.which("iverilog") and not SANITIZED:
        text = fusesoc(out, "sim", f"etchnn:nn:{name}", tmp_path)
        assert "PASS: 1000 images" in text and "FAIL" not in text, text[-4000:]


def tiny_model(path):
    """3 inputs -> Gemm -> Relu, 2 outputs."""
    import numpy as np
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, 2).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc1"), helper.make_node("Relu", ["h"], ["y"], name="relu1")],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


@not_sanitized
@need_fusesoc
@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed (apt-get install yosys)")
def test_fusesoc_synth(tmp_path):
    """Yosys synth_xilinx of the wrapper and a tiny design through FuseSoC: an EDIF netlist."""
    out = tmp_path / "out"
    run("compile", tiny_model(tmp_path / "tiny.onnx"), "-o", out, "--precision", "fixed<6,2>", "--emit",
        "c,rtl,axis,vivado,fusesoc")
    name = json.loads((out / "report.json").read_text())["model"]
    fusesoc(out, "synth", f"etchnn:nn:{name}", tmp_path)
    edif = list(tmp_path.glob("build/*/synth-yosys/*.edif"))
    assert edif and f"{name}_axis" in edif[0].read_text(), list(tmp_path.glob("build/*/synth-yosys/*"))
