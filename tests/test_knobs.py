"""No silent knobs (issue 11, item 1, first part): ReuseFactor, Strategy and
ClockPeriod either change what is built, as documented, or are refused with
a message naming the key, the layer and the allowed value."""
import hashlib
import json
import os
import sys

import pytest

from conftest import ROOT, run

JET = ROOT / "examples" / "jet_tagger.onnx"


def rtl_hashes(out):
    d = out / "rtl"
    return {f: hashlib.sha256((d / f).read_bytes()).hexdigest() for f in sorted(os.listdir(d))}


def cfg(tmp_path, text, name="cfg.yml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,folded", [
    ("Model:\n  ReuseFactor: 4\n", {"fc1": 4, "fc2": 4, "fc3": 4, "output": 4}),
    ("Model:\n  ReuseFactor: 1\nLayerName:\n  fc2:\n    ReuseFactor: 2\n", {"fc2": 2}),
    ("Model:\n  ReuseFactor: 1\nLayerType:\n  Dense:\n    ReuseFactor: 64\n", {"fc1": 64, "fc2": 64, "fc3": 64, "output": 64}),
])
def test_reuse_factor_reaches_the_layers_it_names(text, folded, tmp_path):
    """Model, LayerName and LayerType ReuseFactor fold exactly the layers they name (before: refused;
    before that: ignored), and the report says so; the design's II is the largest."""
    run("compile", JET, "-c", cfg(tmp_path, text), "-o", tmp_path / "out")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    got = {l["name"]: l["ii"] for l in rep["layers"] if l["op"] == "dense"}
    assert {k: v for k, v in got.items() if v > 1} == folded, got
    assert rep["ii"] == max(folded.values())
    for l in rep["layers"]:
        if l["op"] == "dense":
            assert l["reuse_factor"] == folded.get(l["name"], 1)
            assert ("multipliers" in l) == (l["name"] in folded)


def test_strategy_resource_said_and_same_circuit(tmp_path):
    run("compile", JET, "-c", cfg(tmp_path, "Model:\n  Strategy: Latency\n", "a.yml"), "-o", tmp_path / "lat")
    r = run("compile", JET, "-c", cfg(tmp_path, "Model:\n  Strategy: Resource\n", "b.yml"), "-o", tmp_path / "res")
    warns = [l for l in r.stderr.splitlines() if "warning:" in l]
    assert len(warns) == 1 and "Strategy Resource at ReuseFactor 1 builds the same" in warns[0], r.stderr
    assert rtl_hashes(tmp_path / "lat") == rtl_hashes(tmp_path / "res")


def test_clock_period_sets_the_clock(tmp_path):
    """Before: the CLI scheduled for 200 MHz whatever ClockPeriod said."""
    run("compile", JET, "-c", cfg(tmp_path, "Model:\n  ClockPeriod: 2.5\n"), "-o", tmp_path / "cp")
    run("compile", JET, "--clock-mhz", "400", "-o", tmp_path / "mhz")
    run("compile", JET, "-o", tmp_path / "default")
    assert "clock 400.0 MHz" in (tmp_path / "cp" / "report.txt").read_text()
    assert rtl_hashes(tmp_path / "cp") == rtl_hashes(tmp_path / "mhz")
    assert rtl_hashes(tmp_path / "cp") != rtl_hashes(tmp_path / "default")
    # hls4ml writes it at the top level of its project YAML
    run("compile", JET, "-c", cfg(tmp_path, "ClockPeriod: 2.5\nHLSConfig:\n  Model:\n    Precision: fixed<16,6>\n",
                                  "top.yml"), "-o", tmp_path / "top")
    assert rtl_hashes(tmp_path / "top") == rtl_hashes(tmp_path / "mhz")
    # --clock-mhz wins over the config
    run("compile", JET, "-c", tmp_path / "cfg.yml", "--clock-mhz", "200", "-o", tmp_path / "both")
    assert rtl_hashes(tmp_path / "both") == rtl_hashes(tmp_path / "default")


@pytest.mark.parametrize("bad", ["0", "-1", "'fast'", "0.1"])
def test_bad_clock_period_refused(bad, tmp_path):
    r = run("compile", JET, "-c", cfg(tmp_path, f"ClockPeriod: {bad}\nModel:\n  Precision: fixed<16,6>\n"),
            "-o", tmp_path / "out", check=False)
    assert r.returncode == 2, r.stderr
    assert "ClockPeriod: expected" in r.stderr, r.stderr


def test_cli_and_python_same_circuit(tmp_path):
    """The same config file (ClockPeriod 3 ns: 333.33... MHz) gives the same Verilog from the CLI and Python."""
    sys.path.insert(0, str(ROOT / "python"))
    try:
        import etchnn
    except Exception as e:
        pytest.skip(f"etchnn package not importable: {e}")
    c = cfg(tmp_path, "Model:\n  Precision: fixed<10,4>\n  ClockPeriod: 3\n")
    run("compile", JET, "-c", c, "-o", tmp_path / "cli")
    fw = etchnn.convert(str(JET), config=str(c), output_dir=str(tmp_path / "py"))
    fw.write()
    assert rtl_hashes(tmp_path / "cli") == rtl_hashes(tmp_path / "py")


@pytest.mark.parametrize("args,msg", [
    (["predict", JET, "--input", "x.dat", "--clock-mhz", "100"], "predict: option '--clock-mhz' does not apply"),
    (["predict", JET, "--input", "x.dat", "--io", "stream"], "predict: option '--io' does not apply"),
    (["compile", JET, "-o", "out", "--n", "5"], "compile: option '--n' does not apply"),
    (["compile", JET, "-o", "out", "--float"], "compile: option '--float' does not apply"),
    (["verify", "out", "--precision", "fixed<8,3>"], "verify: option '--precision' does not apply"),
    (["config", JET, "--clock-mhz", "100"], "config: option '--clock-mhz' does not apply"),
    (["synth", "out", "--target", "xilinx", "--n", "3"], "synth: option '--n' does not apply"),
    (["compile", JET, "-o", "a", "-o", "b"], "option '-o' given twice ('a', then 'b')"),
])
def test_cli_options_that_change_nothing_refused(args, msg, tmp_path):
    """Before: accepted and ignored."""
    r = run(*args, check=False, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert msg in r.stderr, r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "a").exists()


@pytest.mark.parametrize("emit,present,absent", [
    (None, ["c", "rtl", "report.json"], ["hls", "vivado", "jet_tagger.core"]),
    ("c", ["c"], ["rtl", "report.json", "vivado", "jet_tagger.core"]),
    ("c,rtl,fusesoc", ["c", "rtl", "jet_tagger.core"], ["vivado", "hls"]),
    ("all", ["c", "rtl", "hls", "vivado", "jet_tagger.core", "rtl/jet_tagger_axis.v"], []),
])
def test_emit_chooses_the_outputs(emit, present, absent, tmp_path):
    out = tmp_path / "out"
    run("compile", JET, "-o", out, "--precision", "fixed<8,3>", *(["--emit", emit] if emit else []))
    for p in present:
        assert (out / p).exists(), p
    for p in absent:
        assert not (out / p).exists(), p


@pytest.mark.parametrize("emit,msg", [
    ("rtl,vivado", "vivado packages the AXI4-Stream wrapper: expected axis"),
    ("c,axis", "expected rtl in the list too"),
    ("verilog", "got 'verilog' in 'verilog'"),
    ("", "expected at least one output"),
    ("cmssw,rtl,bogus", "c, rtl, hls, axis, vivado, fusesoc, cmssw or all, got 'bogus'"),
])
def test_emit_refused(emit, msg, tmp_path):
    r = run("compile", JET, "-o", tmp_path / "out", "--emit", emit, check=False)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_emit_all_for_io_stream_leaves_out_what_does_not_apply(tmp_path):
    from conftest import MODELS
    cnn = MODELS / "onnx" / "conv2d_small_mp_keras.onnx"
    if not cnn.exists():
        pytest.skip(f"{cnn} not present")
    r = run("compile", cnn, "-o", tmp_path / "s", "--precision", "fixed<8,3>", "--io", "stream", "--emit", "c,rtl,axis",
            check=False)
    assert r.returncode == 2 and "axis and vivado are for io_parallel designs" in r.stderr, r.stderr
    run("compile", cnn, "-o", tmp_path / "s", "--precision", "fixed<8,3>", "--io", "stream", "--emit", "all")
    assert (tmp_path / "s" / "hls").exists() and not (tmp_path / "s" / "vivado").exists()


def test_python_write_emit(tmp_path):
    sys.path.insert(0, str(ROOT / "python"))
    try:
        import etchnn
    except Exception as e:
        pytest.skip(f"etchnn package not importable: {e}")
    fw = etchnn.convert(str(JET), output_dir=str(tmp_path / "py"), precision="fixed<8,3>")
    d = fw.write(emit=["c", "rtl", "axis", "vivado", "fusesoc"])
    assert (d / "vivado" / "package_ip.tcl").exists() and (d / "jet_tagger.core").exists()
