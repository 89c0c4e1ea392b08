"""Resource sharing (issue 11, items 2, 3, 6, 7): ReuseFactor R > 1 folds Dense
and Conv layers in the io_parallel circuit.

Every folded design here is checked bit for bit against etchnn's emulator in
RTL simulation: the self-checking Icarus bench that compile writes and, for a
sample, the Verilator run of `etchnn verify`, both written from one description
of the bench (inputs every II clocks, every fourth 1-3 clocks later; out_valid
checked on every clock).  Generated Verilog passes verilator --lint-only -Wall.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import MODELS, ROOT, SANITIZED, run

JET = ROOT / "examples" / "jet_tagger.onnx"
IVERILOG = shutil.which("iverilog")
VERILATOR = shutil.which("verilator")
need_icarus = pytest.mark.skipif(IVERILOG is None, reason="needs iverilog (apt-get install iverilog)")
need_verilator = pytest.mark.skipif(VERILATOR is None, reason="needs verilator (apt-get install verilator)")
no_sim_under_sanitizers = pytest.mark.skipif(SANITIZED, reason="RTL simulation is not repeated under the sanitizers")


def model(rel):
    p = ROOT / rel if rel.startswith("examples") else MODELS / rel
    if not p.exists():
        pytest.skip(f"model {p} not present")
    return p


def compile_rf(tmp_path, rel, reuse, strategy="Latency", mult="csd", extra="", name="out", check=True):
    m = model(rel)
    cfg = tmp_path / f"{name}.yml"
    cfg.write_text(f"Model:\n  ReuseFactor: {reuse}\n  Strategy: {strategy}\n{extra}")
    args = ["compile", m, "-c", cfg, "--multipliers", mult, "-o", tmp_path / name]
    if rel.endswith(".json"):
        args += ["--weights", str(m).replace(".json", "_weights.h5")]
    return run(*args, check=check)


def icarus(out, n=150):
    """Run the Icarus bench compile wrote on its first n vectors (Icarus is slow on wide designs);
    returns its PASS/FAIL line."""
    rep = json.loads((out / "report.json").read_text())
    top = rep["model"]
    rtl = out / "rtl"
    tb = rtl / f"tb_{top}.v"
    text = tb.read_text()
    m = re.search(r"localparam N = (\d+),", text)
    assert m, text[:2000]
    tb.write_text(text.replace(m.group(0), f"localparam N = {min(n, int(m.group(1)))},"))
    subprocess.run([IVERILOG, "-g2005", "-o", "tb.vvp", "-c", "files.f", f"tb_{top}.v"], cwd=rtl, check=True,
                   capture_output=True, text=True)
    r = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=rtl, capture_output=True, text=True, timeout=600)
    lines = [l for l in r.stdout.splitlines() if l.startswith(("PASS", "FAIL"))]
    assert "FAIL" not in r.stdout
    assert lines, r.stdout[-2000:]
    return lines[-1], rep


def lint(out):
    rep = json.loads((out / "report.json").read_text())
    r = subprocess.run([VERILATOR, "--lint-only", "-Wall", "-f", "files.f", "--top-module", rep["model"]],
                       cwd=out / "rtl", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]


# model, R, strategy, multipliers, extra config: dense and conv, signed and unsigned inputs,
# rounding products (RND accumulators), relu fused, R dividing and not dividing the fan-in
CASES = [
    ("onnx/two_layer_keras.onnx", 2, "Latency", "csd", "  Precision: fixed<16,6>\n"),
    ("onnx/two_layer_keras.onnx", 7, "Resource", "dsp", "  Precision: fixed<12,4>\n"),
    ("onnx/two_layer_keras.onnx", 5, "Latency", "auto",
     "  Precision:\n    default: fixed<12,4>\n    accum: fixed<14,5,RND,SAT>\n"),
    pytest.param("examples/jet_tagger.onnx", 3, "Resource", "csd", "  Precision: fixed<8,3>\n",
                 marks=pytest.mark.extended),   # CI time: 28 s of Icarus; Resource at R 6 and 9 stay
    ("examples/jet_tagger.onnx", 16, "Latency", "dsp", "  Precision: fixed<10,4>\n"),
    ("onnx/conv2d_small_keras.onnx", 4, "Latency", "auto", ""),
    ("onnx/conv1d_small_keras.onnx", 9, "Resource", "csd", ""),
    ("qkeras/qkeras_3layer.json", 6, "Resource", "csd", ""),
]


@need_icarus
@no_sim_under_sanitizers
@pytest.mark.parametrize("rel,reuse,strategy,mult,extra", CASES)
def test_folded_bit_exact_icarus(rel, reuse, strategy, mult, extra, tmp_path):
    compile_rf(tmp_path, rel, reuse, strategy, mult, extra)
    line, rep = icarus(tmp_path / "out")
    assert line.startswith("PASS") and f"one every {rep['ii']} clocks" in line, line
    assert rep["ii"] == reuse
    folded = [l for l in rep["layers"] if l.get("ii", 1) > 1]
    assert folded and all(l["strategy"] == strategy for l in folded)
    if VERILATOR:
        lint(tmp_path / "out")


@need_icarus
@no_sim_under_sanitizers
@pytest.mark.parametrize("reuse", [2, 3, 4, 9, 15, 31, 32])
def test_every_reuse_factor_is_built(reuse, tmp_path):
    """Any R from 2 to the layer's multiplication count (two_layer_keras' second layer: 32) is built as
    asked, not snapped: ceil(32 / R) multipliers, the II is R."""
    compile_rf(tmp_path, "onnx/two_layer_keras.onnx", reuse, extra="  Precision: fixed<10,3>\n"
               "LayerName:\n  class_keras_layers_core_dense:\n    ReuseFactor: 1\n")
    line, rep = icarus(tmp_path / "out")
    assert line.startswith("PASS"), line
    (l,) = [l for l in rep["layers"] if l.get("ii", 1) > 1]
    assert l["ii"] == reuse and l["multiplications"] == 32 and l["multipliers"] == math.ceil(32 / reuse)
    assert rep["ii"] == reuse


def test_reuse_above_the_multiplications_is_snapped_with_a_message(tmp_path):
    r = compile_rf(tmp_path, "onnx/two_layer_keras.onnx", 100, extra="  Precision: fixed<10,3>\n")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    last = [l for l in rep["layers"] if l["op"] == "dense"][-1]
    assert last["reuse_factor"] == 100 and last["ii"] == 32 and last["multipliers"] == 1
    assert "ReuseFactor 100 is more than the layer's 32 nonzero multiplications; built with ReuseFactor 32" in r.stderr
    assert rep["ii"] == 100 or rep["ii"] == max(l.get("ii", 1) for l in rep["layers"])


@pytest.mark.parametrize("reuse", [1, 2, 4, 8, 16])
def test_dsp_count_follows_multiplications_over_r(reuse, tmp_path):
    """--multipliers dsp: ceil(nonzero multiplications / R) DSP blocks per layer in the estimate."""
    compile_rf(tmp_path, "examples/jet_tagger.onnx", reuse, mult="dsp", extra="  Precision: fixed<16,6>\n")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    for l in rep["layers"]:
        if l["op"] != "dense" or reuse == 1:
            continue
        assert l["multipliers"] == math.ceil(l["multiplications"] / reuse)
        assert l["dsp_estimate"] == l["multipliers"] and l["multiplier_kind"] == "dsp"
    assert rep["ii"] == reuse


def test_strategies_and_multipliers_change_the_circuit(tmp_path):
    """Latency vs Resource (constants vs ROM) and csd vs dsp (logic vs DSP) each change what is built."""
    outs = {}
    for s in ("Latency", "Resource"):
        for m in ("csd", "dsp"):
            name = f"{s}_{m}"
            compile_rf(tmp_path, "examples/jet_tagger.onnx", 4, s, m, "  Precision: fixed<8,3>\n", name=name)
            outs[name] = {p.name: p.read_bytes() for p in (tmp_path / name / "rtl").glob("*.v")}
    keys = list(outs)
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            assert outs[keys[i]] != outs[keys[j]], (keys[i], keys[j])
    res = b"".join(outs["Resource_dsp"].values())
    lat = b"".join(outs["Latency_dsp"].values())
    assert b"initial begin" in res and b'rom_style' not in res and b'rom_style' not in lat   # 4 words: LUTs
    compile_rf(tmp_path, "examples/jet_tagger.onnx", 64, "Resource", "dsp", "  Precision: fixed<8,3>\n", name="deep")
    deep = b"".join(p.read_bytes() for p in (tmp_path / "deep" / "rtl").glob("*.v"))
    assert b'rom_style = "block"' in deep   # 64 words: block RAM
    assert json.loads((tmp_path / "deep" / "report.json").read_text())["estimate"]["bram"] > 0
    assert b'use_dsp = "yes"' in lat and b'use_dsp = "no"' in b"".join(outs["Latency_csd"].values())
    rep = json.loads((tmp_path / "Resource_dsp" / "report.json").read_text())
    assert all(l["rom_bits"] > 0 for l in rep["layers"] if l.get("ii", 1) > 1)
    assert b"$signed" not in lat or b"xs0 * ws0" in lat   # DSP products are signed wx x ww, not widened


def test_strategy_in_any_case(tmp_path):
    """hls4ml reads Strategy lowercased and etchnn's check accepts any case: 'resource' builds what 'Resource'
    builds (weights in ROM), 'LATENCY' what 'Latency' builds (it was accepted and taken as Latency)"""
    for s in ("Resource", "resource", "LATENCY", "Latency"):
        compile_rf(tmp_path, "examples/jet_tagger.onnx", 4, s, "csd", "  Precision: fixed<8,3>\n", name=s)
    v = {s: b"".join(f.read_bytes() for f in sorted((tmp_path / s / "rtl").glob("*.v")))
         for s in ("Resource", "resource", "LATENCY", "Latency")}
    assert v["resource"] == v["Resource"] and v["LATENCY"] == v["Latency"] and v["Resource"] != v["Latency"]
    assert "weights in ROM (Strategy Resource)" in (tmp_path / "resource" / "report.txt").read_text()


def test_report_text_says_what_was_folded(tmp_path):
    compile_rf(tmp_path, "examples/jet_tagger.onnx", 8, "Resource", "dsp", "  Precision: fixed<8,3>\n")
    t = (tmp_path / "out" / "report.txt").read_text()
    assert "II = 8" in t and "folded: ReuseFactor 8" in t and "weights in ROM (Strategy Resource)" in t, t
    rtl = (tmp_path / "out" / "rtl" / "jet_tagger.v").read_text()
    assert "one new input every 8 clocks (II 8)" in rtl


# io_stream (item 2): a folded conv kernel takes a window every R clocks, its stage holding the
# stream back meanwhile; a folded whole-image layer makes the collectors wait.  model, config,
# multipliers, the II the cycle model must give (cycles per image)
STREAM_CASES = [
    # every conv stage and dense layer at R 4: 10 output positions x 4 clocks per image
    ("keras/KERAS_conv1d_small.json", "Model:\n  ReuseFactor: 4\n  IOType: io_stream\n", "csd", 40),
    # one conv at R 5 (50 clocks per image); the dense layers at 37 and 23 fit in between
    ("keras/KERAS_conv1d_small.json", "Model:\n  ReuseFactor: 1\n  IOType: io_stream\nLayerName:\n  conv2_relu:\n"
     "    ReuseFactor: 5\n  fc1_relu:\n    ReuseFactor: 37\n  output_softmax:\n    ReuseFactor: 23\n", "csd", 50),
    # the whole-image part is the slowest (R 40 > 10 pixels): the collector holds the stream
    ("keras/KERAS_conv1d_small.json", "Model:\n  ReuseFactor: 1\n  IOType: io_stream\nLayerName:\n  fc1_relu:\n"
     "    ReuseFactor: 40\n", "dsp", 40),
    # strided 'same' Conv2D with batch norm, weights in ROM, DSP multipliers
    ("keras/jetTagger_Conv2D_Small.json", "Model:\n  ReuseFactor: 3\n  Strategy: Resource\n  IOType: io_stream\n",
     "dsp", None),
    # channels-first ONNX conv2d, R not dividing the kernel's 18 multiplications per output channel group
    ("onnx/conv2d_small_keras.onnx", "Model:\n  ReuseFactor: 7\n  IOType: io_stream\n", "auto", None),
]


def compile_cfg(tmp_path, rel, text, mult, name="out", extra=()):
    m = model(rel)
    cfg = tmp_path / f"{name}.yml"
    cfg.write_text(text)
    args = ["compile", m, "-c", cfg, "--multipliers", mult, "-o", tmp_path / name, *extra]
    if rel.endswith(".json"):
        args += ["--weights", str(m).replace(".json", "_weights.h5")]
    return run(*args)


@need_icarus
@no_sim_under_sanitizers
@pytest.mark.parametrize("rel,text,mult,ii", [   # cases 1 and 3 in make test-extended (CI time)
    pytest.param(*c, marks=pytest.mark.extended) if k in (1, 3) else c for k, c in enumerate(STREAM_CASES)])
def test_folded_io_stream_bit_exact_icarus(rel, text, mult, ii, tmp_path):
    """The Icarus bench: every output equal to the emulator's, the first three at the cycle model's clocks."""
    compile_cfg(tmp_path, rel, text, mult)
    line, rep = icarus(tmp_path / "out", n=24)
    assert line.startswith("PASS"), line
    assert rep["io_type"] == "io_stream"
    folded = [st for st in rep["stream"]["stages"] if st["reuse_factor"] > 1]
    layers = [l for l in rep["layers"] if l.get("reuse_factor", 1) > 1]
    assert layers, rep["layers"]
    for st in folded:
        assert st["kernel_latency_cycles"] == st["reuse_factor"] + 2
    if ii is not None:
        assert rep["ii"] == ii and rep["stream"]["first_three_images"]["ii_cycles"] == ii
    tb = next((tmp_path / "out" / "rtl").glob("tb_*.v")).read_text()
    assert "localparam LF = %d" % rep["stream"]["first_three_images"]["latency_first_pixel_cycles"] in tb
    if VERILATOR:
        lint(tmp_path / "out")


def test_folded_io_stream_report_and_unfolded_unchanged(tmp_path):
    """R shows per stage; R 1 everywhere gives the same Verilog as no ReuseFactor at all."""
    rel = "keras/KERAS_conv1d_small.json"
    compile_cfg(tmp_path, rel, STREAM_CASES[1][1], "csd")
    t = (tmp_path / "out" / "report.txt").read_text()
    assert "a folded kernel (ReuseFactor > 1) is busy" in t, t
    row = next(l for l in t.splitlines() if l.startswith("conv2_relu"))
    assert row.split()[8] == "5", row   # name op grid / N px lat fifo R
    rtl = (tmp_path / "out" / "rtl" / "KERAS_conv1d_small.v").read_text()
    assert "the kernel is folded (ReuseFactor 5)" in rtl and ".start(k1_fire)" in rtl
    compile_cfg(tmp_path, rel, "Model:\n  ReuseFactor: 1\n  IOType: io_stream\n", "csd", name="r1")
    compile_cfg(tmp_path, rel, "Model:\n  IOType: io_stream\n", "csd", name="none")
    for p in sorted((tmp_path / "r1" / "rtl").iterdir()):
        assert p.read_bytes() == (tmp_path / "none" / "rtl" / p.name).read_bytes(), p.name
    assert "cool" not in (tmp_path / "r1" / "rtl" / "KERAS_conv1d_small.v").read_text()


@need_verilator
@no_sim_under_sanitizers
@pytest.mark.slow
@pytest.mark.parametrize("case", [0, 2])
def test_folded_io_stream_verify_in_verilator(case, tmp_path):
    """etchnn verify: images back to back honouring in_ready, gaps in every fourth; out_valid timing of the first
    three images checked against the report's cycle model."""
    rel, text, mult, ii = STREAM_CASES[case]
    compile_cfg(tmp_path, rel, text, mult)
    r = run("verify", tmp_path / "out", "--n", "400")
    assert r.stdout.startswith("PASS") and " 0 of 2000 outputs differ" in r.stdout, r.stdout + r.stderr
    assert f"{ii} cycles between images" in r.stderr, r.stderr


@no_sim_under_sanitizers
@pytest.mark.parametrize("fraction", ["0.15", "0.3"])
def test_fit_io_stream(fraction, tmp_path):
    """--fit with --io stream: the estimate (line buffers and control included) fits the fraction, the
    quantity minimized is clocks per image, and the circuit is bit-exact (Icarus, timing included)."""
    m = model("keras/KERAS_conv1d_small.json")
    run("compile", m, "--io", "stream", "--part", "xc7z020", "--fit", fraction, "-o", tmp_path / "out")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    u = rep["part"]["utilization"]
    assert all(u[k] <= float(fraction) + 1e-9 for k in ("lut", "ff", "dsp", "bram")), u
    fit = rep["fit"]
    assert fit["fraction"] == float(fraction) and fit["ii"] == rep["ii"], (fit, rep["ii"])
    got = {l["name"]: l.get("reuse_factor", 1) for l in rep["layers"] if l["op"] in ("dense", "conv1d")}
    assert {l["name"]: l["reuse_factor"] for l in fit["layers"]} == got
    assert all("cycles_per_input" in l for l in fit["layers"])
    if fraction == "0.15":
        assert rep["ii"] >= 13 and max(got.values()) > 1, got   # unrolled (19.6 % of the LUTs) does not fit
    else:
        assert rep["ii"] == 13 and set(got.values()) == {1}, got
    if IVERILOG:
        line, _ = icarus(tmp_path / "out", n=30)
        assert line.startswith("PASS"), line


@pytest.mark.extended   # the Icarus twin (test_icarus_io_stream_bench_catches_wrong_timing) stays in make test
def test_verify_checks_io_stream_timing(tmp_path):
    """A report whose cycle model disagrees with the circuit fails verify (the check can fail)."""
    if VERILATOR is None or SANITIZED:
        pytest.skip("needs verilator, not under the sanitizers")
    rel, text, mult, ii = STREAM_CASES[0]
    compile_cfg(tmp_path, rel, text, mult)
    rp = tmp_path / "out" / "report.json"
    rep = json.loads(rp.read_text())
    rep["stream"]["first_three_images"]["ii_cycles"] = ii - 1
    rp.write_text(json.dumps(rep))
    r = run("verify", tmp_path / "out", "--n", "20", check=False)
    assert r.returncode != 0 and "out_valid timing differs from the report's cycle model" in r.stderr, r.stderr


def test_same_inputs_same_bytes(tmp_path):
    compile_rf(tmp_path, "onnx/conv2d_small_keras.onnx", 5, "Resource", "auto", name="a")
    compile_rf(tmp_path, "onnx/conv2d_small_keras.onnx", 5, "Resource", "auto", name="b")
    for p in sorted((tmp_path / "a" / "rtl").iterdir()):
        assert p.read_bytes() == (tmp_path / "b" / "rtl" / p.name).read_bytes(), p.name


@need_verilator
@no_sim_under_sanitizers
@pytest.mark.slow
@pytest.mark.parametrize("rel,reuse,strategy,mult", [
    ("examples/jet_tagger.onnx", 4, "Latency", "dsp"),
    pytest.param("onnx/conv2d_small_keras.onnx", 3, "Resource", "csd", marks=pytest.mark.extended),   # CI time
])
def test_verify_in_verilator_with_gaps(rel, reuse, strategy, mult, tmp_path):
    """etchnn verify: inputs every II clocks, every fourth later by 1-3 clocks; out_valid checked on every clock."""
    compile_rf(tmp_path, rel, reuse, strategy, mult, "  Precision: fixed<10,4>\n" if "jet" in rel else "")
    r = run("verify", tmp_path / "out", "--n", "3000")
    assert r.stdout.startswith("PASS") and f"one per {reuse} clocks (II)" in r.stdout, r.stdout + r.stderr
    assert " 0 of " in r.stdout


def test_python_and_cli_same_folded_circuit(tmp_path):
    sys.path.insert(0, str(ROOT / "python"))
    try:
        import etchnn
    except Exception as e:
        pytest.skip(f"etchnn package not importable: {e}")
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  ReuseFactor: 6\n  Strategy: Resource\n  Precision: fixed<9,3>\n")
    run("compile", JET, "-c", cfg, "-o", tmp_path / "cli")
    fw = etchnn.convert(str(JET), config=str(cfg), output_dir=str(tmp_path / "py"))
    fw.write()
    for p in sorted((tmp_path / "cli" / "rtl").glob("*.v")):
        assert p.read_bytes() == (tmp_path / "py" / "rtl" / p.name).read_bytes(), p.name


@pytest.mark.parametrize("part", ["xc7z020", "xczu9eg-ffvb1156-2-e", "xcvu13p-flga2577-2-e"])
def test_fit_chooses_reuse_to_fit_the_part(part, tmp_path):
    """--fit 0.5 --part P: the estimate fits half of P, the report says what was chosen per layer, and
    a smaller part gets a larger II (the jet tagger at 16 bits does not fit a Z-7020 unrolled)."""
    run("compile", JET, "--precision", "fixed<16,6>", "--part", part, "--fit", "0.5", "-o", tmp_path / "out")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    u = rep["part"]["utilization"]
    assert all(u[k] <= 0.5 + 1e-9 for k in ("lut", "ff", "dsp", "bram")), u
    fit = rep["fit"]
    assert fit["fraction"] == 0.5 and fit["ii"] == rep["ii"]
    got = {l["name"]: l["reuse_factor"] for l in rep["layers"] if l["op"] == "dense"}
    assert {l["name"]: l["reuse_factor"] for l in fit["layers"]} == got
    if part == "xc7z020":
        assert rep["ii"] > 8, rep["ii"]
    if part.startswith("xcvu13p"):
        assert rep["ii"] == 1   # fits unrolled: nothing to share


@pytest.mark.parametrize("args,msg", [
    (["--fit", "0.5"], "--fit 0.5: expected a part to fit (--part or the config's Part), got none"),
    (["--part", "xc9zz"], "--part: expected a part etchnn knows (xcvu13p, "),
    (["--part", "xc7z020", "--fit", "1.5"], "--fit: expected a fraction of the part in (0, 1], got '1.5'"),
    (["--part", "ice40up5k", "--fit", "0.5"], "--fit 0.5: expected a design within 0.5 of ice40up5k"),
    (["--part", "xc7z020", "--fit", "0.5", "--no-rtl"], "--fit 0.5 chooses each layer's ReuseFactor and multipliers "
     "for the RTL: expected an --emit that writes rtl"),
    (["--part", "xc7z020", "--fit", "0.5", "--emit", "c,hls"], "--fit 0.5 chooses each layer's ReuseFactor"),
])
def test_fit_and_part_refused(args, msg, tmp_path):
    r = run("compile", JET, "--precision", "fixed<16,6>", *args, "-o", tmp_path / "out", check=False)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_config_part_is_hls4mls_key(tmp_path):
    """hls4ml's Part (top level of its project YAML) names the device of the report's utilization."""
    cfg = tmp_path / "c.yml"
    cfg.write_text("Part: xcku115-flvb2104-2-i\nHLSConfig:\n  Model:\n    Precision: fixed<8,3>\n")
    run("compile", JET, "-c", cfg, "-o", tmp_path / "out")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    assert rep["part"]["name"] == "xcku115" and 0 < rep["part"]["utilization"]["lut"] < 1
    assert "part xcku115" in (tmp_path / "out" / "report.txt").read_text()
    cfg.write_text("Part: xc3s500e\nModel:\n  Precision: fixed<8,3>\n")
    r = run("compile", JET, "-c", cfg, "-o", tmp_path / "bad", check=False)
    assert r.returncode == 2 and "Part: expected a part etchnn knows" in r.stderr, r.stderr


@need_verilator
@no_sim_under_sanitizers
@pytest.mark.slow
def test_fit_design_verified(tmp_path):
    """The design --fit chose for a Z-7020 (folded, DSP and logic multipliers mixed) in Verilator."""
    run("compile", JET, "--precision", "fixed<12,4>", "--part", "xc7z020", "--fit", "0.3", "-o", tmp_path / "out")
    r = run("verify", tmp_path / "out", "--n", "2000")
    assert r.stdout.startswith("PASS") and " 0 of " in r.stdout, r.stdout + r.stderr


def test_python_fit_and_part_same_as_cli(tmp_path):
    """etchnn.convert(..., part=, fit=, multipliers=) builds what the CLI's --part/--fit/--multipliers build."""
    sys.path.insert(0, str(ROOT / "python"))
    try:
        import etchnn
    except Exception as e:
        pytest.skip(f"etchnn package not importable: {e}")
    run("compile", JET, "--precision", "fixed<12,4>", "--part", "xc7z020", "--fit", "0.4", "--multipliers", "auto",
        "-o", tmp_path / "cli")
    fw = etchnn.convert(str(JET), precision="fixed<12,4>", part="xc7z020", fit=0.4, multipliers="auto",
                        output_dir=str(tmp_path / "py"))
    fw.write()
    for p in sorted((tmp_path / "cli" / "rtl").glob("*.v")):
        assert p.read_bytes() == (tmp_path / "py" / "rtl" / p.name).read_bytes(), p.name
    with pytest.raises(etchnn.EtchnnError, match="--fit: expected a fraction"):
        etchnn.convert(str(JET), part="xc7z020", fit=2)


def test_dump_after_shows_the_fold(tmp_path):
    """--dump-after lower: a folded layer is listed with its reuse, multipliers and terms."""
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  ReuseFactor: 1\nLayerName:\n  output:\n    ReuseFactor: 8\n")
    r = run("compile", JET, "-c", cfg, "--precision", "fixed<8,3>", "--dump-after", "lower", "-o", tmp_path / "out")
    import re
    m = re.search(r"fold: reuse 8, (\d+) terms, (\d+) multipliers", r.stdout)
    assert m and int(m.group(2)) == math.ceil(int(m.group(1)) / 8) and 150 <= int(m.group(1)) <= 160, r.stdout[:3000]
    assert "term 0: x" in r.stdout


def verilator_bench(out, tmp_path):
    """The tb.cpp etchnn verify writes for out, without building it: a stand-in `verilator` that fails."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    exe = fake / "verilator"
    exe.write_text("#!/bin/sh\nexit 1\n")
    exe.chmod(0o755)
    r = run("verify", out, "--n", "8", check=False, env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert r.returncode != 0 and "expected Verilator to build the design" in r.stderr, r.stderr
    return (out / "verify" / "tb.cpp").read_text()


def constant(text, name):
    """The value of constant `name` in a bench (Verilog localparam or C++ static const)."""
    m = re.findall(r"\b%s = (?:64'd)?(-?\d+)(?:ull)?[,;]" % name, text)
    assert len(m) == 1, (name, m)
    return int(m[0])


@pytest.mark.parametrize("case", ["parallel", "stream"])
def test_icarus_and_verilator_benches_share_one_description(case, tmp_path):
    """Both benches are written from one description (TbSpec): compile fills it from the design, verify from
    report.json; each bench states it in a `tb-spec:` line, and runs on its constants."""
    if case == "parallel":
        compile_rf(tmp_path, "examples/jet_tagger.onnx", 4)
    else:
        compile_cfg(tmp_path, *STREAM_CASES[0][:3])
    out = tmp_path / "out"
    rep = json.loads((out / "report.json").read_text())
    icarus_tb = (out / "rtl" / f"tb_{rep['model']}.v").read_text()
    cpp = verilator_bench(out, tmp_path)
    specs = [re.findall(r"^// tb-spec: (.*)$", t, re.M) for t in (icarus_tb, cpp)]
    assert len(specs[0]) == 1 and specs[0] == specs[1], specs
    spec = dict(kv.split("=", 1) for kv in specs[0][0].split())
    assert spec["kind"] == case and spec["top"] == rep["model"], spec
    assert int(spec["ii"]) == rep["ii"] and int(spec["latency"]) == rep["latency_cycles"], (spec, rep["ii"])
    assert int(spec["gap_every"]) > 1, spec   # the schedule has gaps
    for key, name in (("reset", "RESET"), ("gap_every", "GAP_EVERY"), ("gap_mod", "GAP_MOD"), ("drain", "DRAIN"),
                      ("gap_seed", "LCG_SEED")):
        assert constant(icarus_tb, name) == constant(cpp, name) == int(spec[key]), (name, spec)
    n_in, w_in = map(int, spec["in"][:-1].split("x"))
    assert constant(cpp, "NIN") == n_in and constant(cpp, "WIN") == w_in
    assert f"reg [{n_in * w_in - 1}:0] in_data;" in icarus_tb
    if case == "parallel":
        assert rep["ii"] == 4
        for name in ("L", "II"):
            assert constant(icarus_tb, name) == constant(cpp, name)
        assert constant(cpp, "L") == int(spec["latency"]) and constant(cpp, "II") == int(spec["ii"])
    else:
        chk = rep["stream"]["first_three_images"]
        assert (int(spec["lat_first"]), int(spec["lat_last"]), int(spec["lat_ii"])) == (
            chk["latency_first_pixel_cycles"], chk["latency_last_pixel_cycles"], chk["ii_cycles"])
        assert (constant(icarus_tb, "LF"), constant(icarus_tb, "LL"), constant(icarus_tb, "II")) == (
            chk["latency_first_pixel_cycles"], chk["latency_last_pixel_cycles"], chk["ii_cycles"])
        assert constant(icarus_tb, "P") == constant(cpp, "BEATS") == int(spec["beats"]) == rep["stream"]["pixels"]
        base, per = spec["limit"].removesuffix("*n").split("+")
        for name, v in (("LIMIT0", base), ("LIMITN", per)):
            assert constant(icarus_tb, name) == constant(cpp, name) == int(v)


@need_icarus
@no_sim_under_sanitizers
def test_icarus_io_stream_bench_catches_wrong_timing(tmp_path):
    """The Icarus io_stream bench fails when the first images' out_valid timing is not the one it expects."""
    compile_cfg(tmp_path, *STREAM_CASES[0][:3])
    rtl = tmp_path / "out" / "rtl"
    top = json.loads((tmp_path / "out" / "report.json").read_text())["model"]
    tb = rtl / f"tb_{top}.v"
    text = tb.read_text()
    lf = constant(text, "LF")
    text = re.sub(r"localparam N = \d+,", "localparam N = 12,", text).replace(f"LF = {lf},", f"LF = {lf + 1},")
    tb.write_text(text)
    subprocess.run([IVERILOG, "-g2005", "-o", "tb.vvp", "-c", "files.f", tb.name], cwd=rtl, check=True)
    r = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=rtl, capture_output=True, text=True, timeout=600)
    assert "out_valid timing: expected latency" in r.stdout and "FAIL: 0 of 60 outputs differ" in r.stdout, r.stdout
