"""The AXI4-Stream wrapper OUT/rtl/NAME_axis.v and the Vivado scripts OUT/vivado/.

- `verilator --lint-only -Wall` on the wrapper with the design, without a warning;
- cocotb + cocotbext-axi on Icarus Verilog (this machine's Verilator is older than the
  5.036 that cocotb 2 needs): AxiStreamSource/AxiStreamSink with random valid and ready
  gaps, 1,200 events on jet_tagger (fixed<8,3>: 128-bit input, 40-bit output) and on
  two_layer_pytorch (fixed<11,4,RND_CONV,SAT>: 110 bits padded to 112, 11 to 16), bit for bit
  against `etchnn predict`; a back-pressure run (the sink stalls for 20-300 clocks at a
  time: no event lost, duplicated or reordered) and a full-rate run (one event per clock);
- package_ip.tcl and synth_ooc.tcl, sourced in tclsh against stub Vivado commands (Vivado
  is not installed here): every command they use is known, every file they read exists;
- the same model compiled twice gives byte-identical files; io_stream designs get neither
  the wrapper nor vivado/.

Tests that need cocotb, cocotbext-axi, iverilog, verilator or tclsh are skipped without them
(pip install cocotb cocotbext-axi; apt-get install iverilog verilator tcl).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ETCHNN, MODELS, ROOT, SANITIZED, run

VERILATOR = shutil.which("verilator")
IVERILOG = shutil.which("iverilog")
TCLSH = shutil.which("tclsh")
try:
    import cocotb  # noqa: F401
    import cocotbext.axi  # noqa: F401
    from cocotb_tools.runner import get_results, get_runner
    HAVE_COCOTB = True
except ImportError:
    HAVE_COCOTB = False

need_cocotb = pytest.mark.skipif(not HAVE_COCOTB or IVERILOG is None,
                                 reason="needs cocotb, cocotbext-axi (pip install cocotb cocotbext-axi) and "
                                        "iverilog (apt-get install iverilog)")
not_sanitized = pytest.mark.skipif(SANITIZED, reason="RTL simulation is not repeated under the sanitizers")

JET = ROOT / "examples" / "jet_tagger.onnx"
COCOTB_DIR = ROOT / "tests" / "cocotb"
MODELS_AXIS = {
    "jet_tagger": (JET, ["--precision", "fixed<8,3>"]),
    "two_layer_pytorch": (MODELS / "onnx" / "two_layer_pytorch.onnx", ["--precision", "fixed<11,4,RND_CONV,SAT>"]),
    # folded: the wrapper takes an event at most every II = 4 clocks
    "two_layer_rf4": (MODELS / "onnx" / "two_layer_pytorch.onnx",
                      ["--precision", "fixed<10,4>", "-c", ROOT / "tests" / "cocotb" / "reuse4.yml"]),
}
N_EVENTS = 1200


def compile_model(key, out):
    model, opts = MODELS_AXIS[key]
    if not model.exists():
        pytest.skip(f"model {model} not present")
    run("compile", model, "-o", out, "--emit", "c,rtl,axis,vivado,fusesoc", *opts)
    rep = json.loads((out / "report.json").read_text())
    return rep


def parse_type(t):
    m = re.match(r"(u?)fixed<(\d+),(-?\d+)", t)
    assert m, t
    return m.group(1) != "u", int(m.group(2)), int(m.group(2)) - int(m.group(3))   # signed, W, fraction bits


def random_codes(rng, n, width, signed, w):
    """Half uniform over every code, half small magnitudes (as the etchnn test vectors)."""
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
    x = rng.integers(lo, hi + 1, size=(n, width))
    small = rng.integers(0, 1 << rng.integers(0, w - 1, size=(n, 1)), size=(n, width))
    small = np.where(rng.random((n, width)) < 0.5, -small, small) if signed else small
    x[1::2] = np.clip(small[1::2], lo, hi)
    x[0], x[1], x[2] = 0, hi, lo
    return x


def pack(codes, w):
    """One event's codes as the integer of in_data/out_data: element k in bits [k*w +: w]."""
    v = 0
    for k, c in enumerate(codes):
        v |= (int(c) & ((1 << w) - 1)) << (k * w)
    return v


def vectors(key, out, rep, tmp_path, seed):
    """N_EVENTS random input events and the emulator's results, as hex files for axis_tb.py."""
    model, opts = MODELS_AXIS[key]
    io = rep["io"]
    si, wi, fi = parse_type(io["in_type"])
    so, wo, fo = parse_type(io["out_type"])
    rng = np.random.default_rng(seed)
    xc = random_codes(rng, N_EVENTS, io["n_in"], si, wi)
    np.save(tmp_path / "x.npy", xc.astype(np.float64) / (1 << fi))
    run("predict", model, *opts, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    y = np.load(tmp_path / "y.npy").reshape(N_EVENTS, -1)
    yc = np.rint(y * (1 << fo)).astype(np.int64)
    assert np.array_equal(yc.astype(np.float64) / (1 << fo), y)   # the outputs are codes of the type
    fin, fout = tmp_path / "in.hex", tmp_path / "out.hex"
    fin.write_text("".join(f"{pack(e, wi):x}\n" for e in xc))
    fout.write_text("".join(f"{pack(e, wo):x}\n" for e in yc))
    return fin, fout


def sources(out):
    rtl = out / "rtl"
    name = json.loads((out / "report.json").read_text())["model"]
    files = [rtl / f for f in (rtl / "files.f").read_text().split()]
    return name, files + [rtl / f"{name}_axis.v"]


def simulate(out, fin, fout, mode, seed, tmp_path):
    name, srcs = sources(out)
    runner = get_runner("icarus")
    build = tmp_path / f"sim_{mode}"
    runner.build(sources=srcs, hdl_toplevel=f"{name}_axis", build_dir=build, timescale=("1ns", "1ps"))
    env = {"AXIS_IN": str(fin), "AXIS_OUT": str(fout), "AXIS_MODE": mode, "AXIS_SEED": str(seed)}
    if str(COCOTB_DIR) not in sys.path:   # the runner gives the simulator's Python this process's sys.path
        sys.path.insert(0, str(COCOTB_DIR))
    log = build / "sim.log"
    try:
        xml = runner.test(test_module="axis_tb", hdl_toplevel=f"{name}_axis", build_dir=build, test_dir=build,
                          extra_env=env, log_file=log, results_xml=str(build / "results.xml"))
    except SystemExit as e:   # the runner exits when the simulation ends abnormally
        text = log.read_text(errors="replace") if log.exists() else ""
        raise AssertionError(f"cocotb run ended with {e.code}:\n{text[-6000:]}")
    text = log.read_text(errors="replace") if log.exists() else ""
    ntests, nfail = get_results(xml)
    assert ntests == 1 and nfail == 0, text[-6000:]
    m = re.search(r"AXIS-RESULT (.*)", text)
    assert m, text[-4000:]
    res = dict(kv.split("=") for kv in m.group(1).split())
    print(f"{name} {mode}: {m.group(1)}")
    assert res["mismatches"] == "0" and res["extra"] == "0" and int(res["received"]) == N_EVENTS, res
    return res


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The two designs, compiled once for this module."""
    outs = {}

    def get(key):
        if key not in outs:
            out = tmp_path_factory.mktemp(key) / "out"
            outs[key] = (out, compile_model(key, out))
        return outs[key]
    return get


@pytest.mark.skipif(VERILATOR is None, reason="verilator not installed (apt-get install verilator)")
@pytest.mark.parametrize("key", list(MODELS_AXIS))
def test_axis_lint(key, compiled):
    out, _ = compiled(key)
    name, srcs = sources(out)
    r = subprocess.run([VERILATOR, "--lint-only", "-Wall", "--top-module", f"{name}_axis", *map(str, srcs)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr[:4000]


def test_axis_ports_and_packing(compiled):
    """The AXI4-Stream port names Vivado infers, tdata widths rounded up to whole bytes."""
    for key in MODELS_AXIS:
        out, rep = compiled(key)
        name = rep["model"]
        text = (out / "rtl" / f"{name}_axis.v").read_text()
        io = rep["io"]
        wi, wo = io["n_in"] * io["w_in"], io["n_out"] * io["w_out"]
        tdi, tdo = (wi + 7) // 8 * 8, (wo + 7) // 8 * 8
        for port in [f"input wire aclk", "input wire aresetn", f"input wire [{tdi - 1}:0] s_axis_tdata",
                     "input wire s_axis_tvalid", "output wire s_axis_tready", "input wire s_axis_tlast",
                     f"output wire [{tdo - 1}:0] m_axis_tdata", "output wire m_axis_tvalid",
                     "input wire m_axis_tready", "output wire m_axis_tlast"]:
            assert port in text, (key, port)
        lat = rep["latency_cycles"]
        depth = int(re.search(r"reg \[\d+:0\] fifo \[0:(\d+)\]", text).group(1)) + 1
        assert depth >= lat + 2, (depth, lat)
        assert f"{name}_axis.v" not in (out / "rtl" / "files.f").read_text()   # files.f: the design only


@not_sanitized
@need_cocotb
@pytest.mark.slow
@pytest.mark.parametrize("key", list(MODELS_AXIS))
def test_axis_cocotb_random_gaps(key, compiled, tmp_path):
    """1,200 events, random valid/ready gaps on both sides, packets of 1-8 events in."""
    out, rep = compiled(key)
    fin, fout = vectors(key, out, rep, tmp_path, seed=7)
    res = simulate(out, fin, fout, "random", 11, tmp_path)
    assert int(res["in_stalled"]) > 0 and int(res["out_stalled"]) > 0, res


@not_sanitized
@need_cocotb
@pytest.mark.slow
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_axis_cocotb_backpressure_and_full_rate(compiled, tmp_path):
    """two_layer_pytorch: the sink stalls for 20-300 clocks at a time (no loss, no duplicate, in
    order), then no pause at all (one event per clock, s_axis_tready never low)."""
    out, rep = compiled("two_layer_pytorch")
    fin, fout = vectors("two_layer_pytorch", out, rep, tmp_path, seed=8)
    simulate(out, fin, fout, "backpressure", 12, tmp_path)
    simulate(out, fin, fout, "throughput", 13, tmp_path)


VIVADO_STUBS = r"""
# stub Vivado commands: record the call, check the files read exist
set ::calls {}
proc record {name args} { lappend ::calls [concat $name $args] }
proc need_file {f} { if {![file exists $f]} { error "missing file $f" } }
foreach cmd {create_project set_property update_compile_order close_project synth_design
             report_utilization report_timing_summary write_checkpoint} {
    proc $cmd args "record $cmd {*}\$args"
}
proc current_fileset args { record current_fileset; return sources_1 }
proc add_files args { record add_files {*}$args; foreach f [lindex $args end] { need_file $f } }
proc read_verilog args { record read_verilog {*}$args; foreach f [lindex $args end] { need_file $f } }
proc read_xdc args { record read_xdc {*}$args; need_file [lindex $args end] }
namespace eval ipx {}
foreach cmd {package_project associate_bus_interfaces create_xgui_files update_checksums check_integrity save_core} {
    proc ipx::$cmd args "record ipx::$cmd {*}\$args"
}
proc ipx::current_core args { record ipx::current_core; return core0 }
set argv {}
"""


@pytest.mark.skipif(TCLSH is None, reason="tclsh not installed (apt-get install tcl)")
def test_vivado_scripts_parse(compiled, tmp_path):
    """Vivado is not installed here: the scripts run in tclsh against stubs of every Vivado
    command they use (an unknown command fails), from another folder."""
    out, rep = compiled("jet_tagger")
    name = rep["model"]
    viv = out / "vivado"
    assert sorted(p.name for p in viv.iterdir()) == sorted([f"{name}.xdc", "package_ip.tcl", "synth_ooc.tcl"])
    xdc = (viv / f"{name}.xdc").read_text()
    assert f"create_clock -period {1000 / rep['clock_mhz']:.3f} -name aclk [get_ports aclk]" in xdc
    calls = {}
    for script in ["package_ip.tcl", "synth_ooc.tcl"]:
        drv = tmp_path / f"run_{script}"
        drv.write_text(VIVADO_STUBS + f"source {{{viv / script}}}\nforeach c $::calls {{ puts $c }}\n")
        r = subprocess.run([TCLSH, str(drv)], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        calls[script] = r.stdout
    p = calls["package_ip.tcl"]
    assert f"set_property top {name}_axis sources_1" in p
    assert "ipx::package_project" in p and "-vendor etchnn -library nn" in p
    assert "ipx::associate_bus_interfaces -busif s_axis -clock aclk core0" in p
    assert "ipx::associate_bus_interfaces -busif m_axis -clock aclk core0" in p
    assert "ipx::save_core core0" in p
    s = calls["synth_ooc.tcl"]
    assert f"synth_design -top {name}_axis -part xcvu13p-flga2577-2-e -mode out_of_context" in s
    assert f"read_xdc -mode out_of_context {viv / (name + '.xdc')}" in s
    assert str(tmp_path / f"{name}_axis_utilization.rpt") in s   # results in the folder Vivado runs in
    # a part given on the command line
    drv = tmp_path / "run_part.tcl"
    drv.write_text(VIVADO_STUBS.replace("set argv {}", "set argv {xc7a35tcpg236-1}") +
                   f"source {{{viv / 'synth_ooc.tcl'}}}\nforeach c $::calls {{ puts $c }}\n")
    r = subprocess.run([TCLSH, str(drv)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and "-part xc7a35tcpg236-1" in r.stdout, r.stdout + r.stderr


def test_deterministic_and_stream(tmp_path):
    """Two compiles give byte-identical wrapper, scripts and core; an io_stream design gets only
    its core (the wrapper is for io_parallel designs)."""
    a, b = tmp_path / "a", tmp_path / "b"
    compile_model("jet_tagger", a)
    compile_model("jet_tagger", b)
    for rel in ["rtl/jet_tagger_axis.v", "vivado/package_ip.tcl", "vivado/synth_ooc.tcl", "vivado/jet_tagger.xdc",
                "jet_tagger.core"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
        assert str(tmp_path) not in (a / rel).read_text(), rel
    cnn = MODELS / "onnx" / "conv2d_small_mp_keras.onnx"
    if not cnn.exists():
        pytest.skip(f"model {cnn} not present")
    s = tmp_path / "s"
    run("compile", cnn, "-o", s, "--precision", "fixed<8,3>", "--io", "stream", "--emit", "all")
    name = json.loads((s / "report.json").read_text())["model"]
    assert (s / f"{name}.core").exists()
    assert not (s / "vivado").exists() and not list((s / "rtl").glob("*_axis.v"))
