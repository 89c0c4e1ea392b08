"""The HLS C++ back end (compile --hls, OUT/hls/): the generated Vitis HLS
project compiles with g++ -Wall -Werror against the open-source ap_types
headers that hls4ml ships, its C simulation test bench gives exactly the
values of `etchnn predict` (parsed as exact decimals, 0 differences), the
output is deterministic, constants are integer-code ROMs (the large shared
models build in seconds, not the >10 minutes of ap_fixed initializers), build_prj.tcl parses in tclsh with a stub for every
Vitis command, names from the model reach the C++ only as comments, and an
op the writer does not support is refused naming the layer."""
import filecmp
import os
import re
import shutil
import subprocess
from decimal import Decimal

import numpy as np
import pytest

from conftest import MODELS, ROOT, onnx_model, run

GXX = shutil.which("g++")
TCLSH = shutil.which("tclsh")


def ap_types():
    try:
        import hls4ml
    except Exception as e:   # noqa: BLE001 - any import failure means: no headers
        pytest.skip(f"hls4ml (which ships the ap_types headers) is not importable: {e}")
    p = os.path.join(os.path.dirname(hls4ml.__file__), "templates", "vivado", "ap_types")
    if not os.path.exists(os.path.join(p, "ap_fixed.h")):
        pytest.skip(f"ap_types headers not found under {p}")
    if GXX is None:
        pytest.skip("g++ not installed")
    return p


def compile_hls(model, out, *opts, emit=None):
    run("compile", model, "-o", out, *(("--emit", emit) if emit else ("--hls", "--no-rtl")), *opts)
    name = next((out / "hls" / "firmware").glob("*.cpp")).stem
    return out / "hls", name


def build(hls, name):
    """g++ as the README says: -Wall -Werror, ap_types as a system include path."""
    exe = hls / f"{name}_test"
    r = subprocess.run([GXX, "-std=c++14", "-O1", "-Wall", "-Werror", "-isystem", ap_types(), "-I", str(hls / "firmware"),
                        str(hls / f"{name}_test.cpp"), str(hls / "firmware" / f"{name}.cpp"), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"g++ failed:\n{r.stderr[:6000]}"
    return exe


def exact_rows(text):
    return [[Decimal(v) for v in line.split()] for line in text.splitlines() if line.strip()]


def n_input(hls, name):
    h = (hls / "firmware" / f"{name}.h").read_text()
    return int(h.split("#define N_INPUT ")[1].split()[0])


def csim_equals_predict(model, tmp_path, opts=(), n=1000, seed=7, scale=3.0, x=None, emit=None):
    """Compile with --hls (or --emit EMIT), build and run NAME_test on the inputs, compare with etchnn predict exactly."""
    ap_types()
    out = tmp_path / "out"
    hls, name = compile_hls(model, out, *opts, emit=emit)
    exe = build(hls, name)
    if x is None:
        x = np.random.default_rng(seed).standard_normal((n, n_input(hls, name))) * scale
    xin = tmp_path / "x.dat"
    np.savetxt(xin, x, fmt="%.17g")
    (hls / "tb_data").mkdir(exist_ok=True)
    shutil.copy(xin, hls / "tb_data" / "tb_input_features.dat")
    r = subprocess.run([str(exe)], cwd=hls, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = exact_rows((hls / "tb_data" / "csim_results.log").read_text())
    yout = tmp_path / "y.txt"
    run("predict", model, "--input", xin, "--output", yout, *opts)
    ref = exact_rows(yout.read_text())
    assert len(got) == len(ref) == len(x)
    diff = sum(a != b for g, f in zip(got, ref) for a, b in zip(g, f)) + sum(len(g) != len(f) for g, f in zip(got, ref))
    assert diff == 0, f"{diff} outputs differ; first: {next((g, f) for g, f in zip(got, ref) if g != f)}"
    return hls, name


JET = ROOT / "examples" / "jet_tagger.onnx"


# ---- a sample, always run ----------------------------------------------------

def test_jet_tagger_default(tmp_path):
    hls, name = csim_equals_predict(JET, tmp_path)
    for f in ("firmware/parameters.h", f"firmware/{name}.h", "firmware/etn_fx.h", "build_prj.tcl", "README.md",
              f"{name}_test.cpp", "firmware/weights/w1.h"):
        assert (hls / f).is_file(), f
    cpp = (hls / "firmware" / f"{name}.cpp").read_text()
    assert f"void {name}(input_t x[N_INPUT], result_t y[N_OUTPUT])" in cpp
    assert "#pragma HLS PIPELINE II=1" in cpp and "#pragma HLS INTERFACE ap_vld port=x,y" in cpp
    assert "typedef ap_fixed<16,6> layer" in (hls / "firmware" / "parameters.h").read_text()
    # constants as integer codes, read through etn_raw: no array of ap_fixed objects (a constructor per entry)
    w1 = (hls / "firmware" / "weights" / "w1.h").read_text()
    assert re.search(r"static const int(8|16|32|64)_t w1\[1024\] = \{", w1) and "etn_raw<weight1_t>(w1[" in cpp
    for f in (hls / "firmware" / "weights").glob("*.h"):
        assert "ap_fixed" not in f.read_text().split("#define")[1], f


def test_jet_tagger_8_3_hls4ml(tmp_path):
    csim_equals_predict(JET, tmp_path, ("--precision", "fixed<8,3>", "--hls4ml"))


def test_conv_synthetic(tmp_path):
    """Conv1D with padding, a merge and pooling (tests/test_conv.py's builders)."""
    from test_conv import model_path
    csim_equals_predict(model_path("conv1d_misc", tmp_path), tmp_path, ("--precision", "fixed<12,5,RND,SAT>"), n=300)


def test_refuses_unsupported_op(tmp_path):
    """SELU with an input wider than 16 bits (hls4ml's run-time table) is not written yet: refused with --hls only."""
    pytest.importorskip("onnx")
    from test_selu import selu_mlp
    p = selu_mlp(tmp_path)
    r = run("compile", p, "-o", tmp_path / "o", "--hls", "--no-rtl", "--precision", "fixed<20,8>", check=False)
    assert r.returncode == 2
    assert "op selu): the HLS C++ back end (--hls) does not support selu with hls4ml tables" in r.stderr, r.stderr
    assert not (tmp_path / "o" / "hls").exists() and not (tmp_path / "o" / "c").exists()
    run("compile", p, "-o", tmp_path / "o2", "--no-rtl", "--precision", "fixed<20,8>")   # fine without --hls


# ---- ReuseFactor > 1: hls4ml's pragmas, the arithmetic unchanged ----------------

REUSE_CASES = {
    # Strategy Resource, R = 4 on every layer: weights in BRAM
    "resource_r4": ("Model:\n  ReuseFactor: 4\n  Strategy: Resource\n",
                    {1: (4, "Resource", 16, 64), 3: (4, "Resource", 64, 32), 5: (4, "Resource", 32, 32),
                     7: (4, "Resource", 32, 5)}),
    # Strategy Latency, R = 3 on fc2 only: the others stay fully parallel (inline, complete partitioning)
    "latency_fc2_r3": ("Model:\n  Strategy: Latency\nLayerName:\n  fc2:\n    ReuseFactor: 3\n",
                       {1: (1, "Latency", 16, 64), 3: (3, "Latency", 64, 32), 5: (1, "Latency", 32, 32),
                        7: (1, "Latency", 32, 5)}),
}


def layer_fn(cpp, lid):
    """The text of layerLID's function in NAME.cpp."""
    body = cpp.split(f"static void layer{lid}(")[1]
    return body.split("\n}\n")[0]


@pytest.mark.parametrize("case", sorted(REUSE_CASES))
def test_reuse_factor_pragmas(case, tmp_path):
    """ReuseFactor R > 1 as hls4ml writes it: reuse_factor = R in the layer's config, PIPELINE II=R for the layer,
    ceil(n_mult / R) multipliers (ALLOCATION), weights cyclic-partitioned by that factor (Resource: bound to BRAM),
    the top's II = the largest R; the C simulation still equals etchnn predict bit for bit.  Compiled with
    --emit c,rtl,hls: skipped while src/api/model.c still refuses ReuseFactor > 1 with --emit hls."""
    text, layers = REUSE_CASES[case]
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(text)
    probe = run("compile", JET, "-o", tmp_path / "probe", "-c", cfg, "--emit", "c,rtl,hls", check=False)
    if probe.returncode != 0 and "expected 1 for --emit hls" in probe.stderr:
        pytest.skip("the CLI still refuses ReuseFactor > 1 with --emit hls (reuse_applies in src/api/model.c); "
                    "hls.c writes the ReuseFactor pragmas, the refusal can be lifted")
    assert probe.returncode == 0, probe.stderr
    assert (tmp_path / "probe" / "rtl").is_dir() and (tmp_path / "probe" / "c").is_dir()
    hls, name = csim_equals_predict(JET, tmp_path, ("-c", cfg), n=500, emit="c,rtl,hls")
    cpp = (hls / "firmware" / f"{name}.cpp").read_text()
    par = (hls / "firmware" / "parameters.h").read_text()
    readme = (hls / "README.md").read_text()
    top = cpp.split(f"void {name}(input_t x[N_INPUT], result_t y[N_OUTPUT])\n{{")[1]
    rmax = max(r for r, *_ in layers.values())
    assert f"#pragma HLS PIPELINE II={rmax}\n" in top and f"io_parallel, II={rmax} (the largest ReuseFactor)" in cpp
    assert f"`PIPELINE II={rmax}` (the largest ReuseFactor)" in readme
    for lid, (r, strategy, nin, nout) in layers.items():
        nmult = nin * nout
        lim = -(-nmult // r)
        cfg_l = par.split(f"struct config{lid} {{")[1].split("};")[0]
        assert f"n_in = {nin};" in cfg_l and f"n_out = {nout};" in cfg_l, cfg_l
        assert f"reuse_factor = {r};   // Strategy {strategy}" in cfg_l and f"multiplier_limit = {lim};" in cfg_l, cfg_l
        fn = layer_fn(cpp, lid)
        pragmas = re.findall(r"#pragma HLS .*", fn)
        if r == 1:   # fully parallel, as before
            assert "#pragma HLS INLINE" in pragmas and f"#pragma HLS ARRAY_PARTITION variable=w{lid} complete" in pragmas
            assert not any("PIPELINE" in p or "ALLOCATION" in p or "BIND_STORAGE" in p or "cyclic" in p for p in pragmas)
            continue
        assert f"// reuse_factor = {r} (Strategy {strategy}): {lim} multipliers" in fn
        assert "#pragma HLS INLINE off" in pragmas and f"#pragma HLS PIPELINE II={r}" in pragmas, pragmas
        assert f"#pragma HLS ALLOCATION operation instances=mul limit={lim}" in pragmas, pragmas
        assert f"#pragma HLS ARRAY_PARTITION variable=w{lid} cyclic factor={lim}" in pragmas, pragmas
        assert f"#pragma HLS ARRAY_PARTITION variable=w{lid} complete" not in pragmas
        bram = f"#pragma HLS BIND_STORAGE variable=w{lid} type=rom_np impl=bram"
        assert (bram in pragmas) == (strategy == "Resource"), pragmas
    # every pragma is for Vitis only: g++ never sees one (csim_equals_predict built with -Wall -Werror)
    for line_no, line in enumerate(cpp.splitlines()):
        if line.startswith("#pragma"):
            before = cpp.splitlines()[:line_no]
            opened = max(i for i, x in enumerate(before) if x == "#ifdef __SYNTHESIS__")
            assert "#endif" not in before[opened:], (line_no, line)


def test_hls_only_with_compile(tmp_path):
    r = run("predict", JET, "--hls", "--input", tmp_path / "x.dat", check=False)
    assert r.returncode == 2 and "--hls" in r.stderr


def test_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    compile_hls(JET, a, "--precision", "fixed<8,3>")
    compile_hls(JET, b, "--precision", "fixed<8,3>")
    files = sorted(p.relative_to(a / "hls") for p in (a / "hls").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b / "hls") for p in (b / "hls").rglob("*") if p.is_file())
    for f in files:
        assert filecmp.cmp(a / "hls" / f, b / "hls" / f, shallow=False), f


def tcl_log(hls, argv):
    """Source build_prj.tcl in tclsh with a stub for every Vitis command; the commands it ran."""
    stub = (
        "set log {}\n"
        "foreach c {open_project set_top add_files open_solution set_part create_clock csim_design csynth_design "
        "cosim_design export_design} {\n"
        "    proc $c {args} \"lappend ::log \\[list $c {*}\\$args\\]\"\n"
        "}\n"
        "rename exit real_exit\n"
        "proc exit {args} { foreach l $::log { puts $l }; real_exit 0 }\n"
        f"set ::argv [list {{{argv}}}]\n"
        f"cd {{{hls}}}\n"
        "source build_prj.tcl\n"
        "puts stderr {build_prj.tcl did not exit}\n"
        "real_exit 1\n")
    r = subprocess.run([TCLSH], input=stub, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.splitlines() if not x.startswith("*****")]


def test_build_prj_tcl_parses(tmp_path):
    if TCLSH is None:
        pytest.skip("tclsh not installed")
    hls, name = compile_hls(JET, tmp_path / "out")
    log = tcl_log(hls, "reset=1 csim=1 synth=1 cosim=1 export=1")
    assert log[0] == f"open_project -reset {name}_prj"
    assert f"set_top {name}" in log
    assert f"add_files firmware/{name}.cpp -cflags -std=c++14" in log
    assert "create_clock -period 5 -name default" in log
    for step in ("csim_design", "csynth_design", "cosim_design -trace_level all", "export_design -format ip_catalog"):
        assert step in log, (step, log)
    log = tcl_log(hls, "")   # defaults: csim and synth only
    assert "csim_design" in log and "csynth_design" in log and not any("cosim" in x or "export" in x for x in log)


def test_names_never_become_code(tmp_path):
    """Payload names (comment terminators, newlines, keywords; tests/test_names_injection.py) only as comments."""
    pytest.importorskip("onnx")
    import test_names_injection as ni
    for kind, where in (("mlp", "evil"), ("sig", "always.onnx")):
        d = tmp_path / kind
        p = ni.model_file(d, kind, where)
        out = d / "out"
        run("compile", p, "-o", out, "--hls", "--no-rtl", *ni.MODELS[kind][1])
        ni.scan(out)
        hls = out / "hls"
        name = next((hls / "firmware").glob("*.cpp")).stem
        build(hls, name)


# ---- the other shared models (make test) -------------------------------------

def keras(name):
    j = MODELS / "keras" / f"{name}.json"
    if not j.exists():
        pytest.skip(f"shared model {j} not present")
    return j


@pytest.mark.slow
@pytest.mark.extended   # also in bench/hls_sweep.py (every shared model); make test-extended
@pytest.mark.parametrize("name", ["three_layer_keras", "two_layer_pytorch", "three_layer_bn_keras", "dense_big_keras"])
def test_onnx_mlps(name, tmp_path):
    csim_equals_predict(onnx_model(name), tmp_path, n=500)


@pytest.mark.slow
@pytest.mark.extended   # also in bench/hls_sweep.py (every shared model); make test-extended
@pytest.mark.parametrize("opts", [("--precision", "fixed<12,4,RND_CONV,SAT>"), ("--tables", "exact")])
def test_jet_tagger_modes(opts, tmp_path):
    csim_equals_predict(JET, tmp_path, opts)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["KERAS_3layer", "KERAS_3layer_batch_norm"])
def test_keras(name, tmp_path):
    csim_equals_predict(keras(name), tmp_path, ("--precision", "fixed<16,6>"), n=500)


@pytest.mark.slow
def test_qkeras_3layer(tmp_path):
    j = MODELS / "qkeras" / "qkeras_3layer.json"
    if not j.exists():
        pytest.skip(f"shared model {j} not present")
    x = np.random.default_rng(3).uniform(-1, 1, (500, 16))
    csim_equals_predict(j, tmp_path, x=x)


@pytest.mark.slow
def test_hgq_jet(tmp_path):
    from test_hgq import hgq_model, inputs
    csim_equals_predict(hgq_model("hgq_jet_classifier"), tmp_path, x=inputs("jet", n=500))


@pytest.mark.slow
@pytest.mark.extended   # also in bench/hls_sweep.py (every shared model); make test-extended
@pytest.mark.parametrize("name", ["conv1d_small_keras", "conv2d_small_keras", "conv2d_small_mp_keras"])
def test_conv_shared(name, tmp_path):
    csim_equals_predict(onnx_model(name), tmp_path, n=100)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv2d_misc", "merges", "avgpool_windows"])
def test_conv_synthetic_more(name, tmp_path):
    from test_conv import model_path
    csim_equals_predict(model_path(name, tmp_path), tmp_path, n=200)


# ---- the largest shared models: g++ in seconds (make test-extended) ------------

@pytest.mark.slow
@pytest.mark.extended   # also in bench/hls_sweep.py
@pytest.mark.parametrize("model", ["qonnx/TFC_1W1A.onnx", "keras/KERAS_dense_16x200x200x200x200x200x5.json",
                                   "keras/KERAS_conv1d.json"])
def test_large_models_build_fast(model, tmp_path):
    """These took g++ -O1 more than 10 minutes (TFC_1W1A: 14 min, 1.6 GB) while weights were ap_fixed arrays;
    as integer-code ROMs about 5 s.  A minute is allowed for a loaded machine."""
    p = MODELS / model
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    import time
    t0 = time.time()
    csim_equals_predict(p, tmp_path, n=200, scale=2.0)
    assert time.time() - t0 < 240
