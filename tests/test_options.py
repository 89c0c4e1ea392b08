"""No silent knobs (issue 11, item 1): one options table (src/api/options.c)
shared by etn_set_option, the CLI, report.json's "source" record, etchnn
verify's reload and Python's convert().  These tests fail when one of them
drifts from the table."""
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import MODELS, ROOT, SANITIZED, ETCHNN, run

JET = ROOT / "examples" / "jet_tagger.onnx"
CONV1D = MODELS / "keras" / "KERAS_conv1d_small.json"
COMMANDS = ("compile", "predict", "verify", "config", "synth")


def etchnn_pkg():
    sys.path.insert(0, str(ROOT / "python"))
    try:
        import etchnn
        from etchnn import _lib
    except Exception as e:
        pytest.skip(f"etchnn package not importable: {e}")
    return etchnn, _lib


def table():
    return etchnn_pkg()[0].options()


def tree_hashes(d):
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


# a valid value for every option; a new option fails test_every_key_has_a_sample until it gets one here
def samples(tmp_path):
    cfg = tmp_path / "cfg.yml"
    cfg.write_text("Model:\n  Precision: fixed<12,5>\n")
    return {"weights_file": "w.h5", "config": str(cfg), "precision": "fixed<8,3>", "tables": "hls4ml",
            "weight_quant": "hls4ml", "sat_order": "hls4ml", "auto_types": "hls4ml", "clock_mhz": "250",
            "part": "xc7z020", "fit": "0.5", "multipliers": "dsp",
            "io": "stream", "emit": "c,rtl,hls", "rtl": "0", "hls": "1", "cmssw_version": "3", "dump_after": "fuse"}


def test_every_key_has_a_sample(tmp_path):
    assert set(samples(tmp_path)) == {o["key"] for o in table()}


def test_every_table_key_accepted_and_read_back(tmp_path):
    _, lib = etchnn_pkg()
    for key, value in samples(tmp_path).items():
        m = lib.Model()
        m.set_option(key, value)
        got = m.get_option(key)
        want = {"config": str(tmp_path.resolve() / "cfg.yml"), "clock_mhz": "250", "emit": "c,hls,rtl"}.get(key, value)
        assert got == want, (key, got)


def test_unknown_key_refused_listing_the_table():
    _, lib = etchnn_pkg()
    keys = [o["key"] for o in table()]
    for bad in ("ReuseFactor", "reuse_factor", "io_type", "keras_weights", "weights", ""):
        m = lib.Model()
        with pytest.raises(Exception) as e:
            m.set_option(bad, "1")
        assert str(e.value) == f"unknown option '{bad}': expected one of {', '.join(keys)}"
        with pytest.raises(Exception) as e:
            m.get_option(bad)
        assert f"unknown option '{bad}'" in str(e.value)


def test_choices_are_the_values_the_messages_give():
    """Each "one of a, b" option takes exactly a, b, and refuses anything else naming its flag and that list."""
    _, lib = etchnn_pkg()
    enums = [o for o in table() if o["values"].startswith("one of ")]
    assert {o["key"] for o in enums} >= {"tables", "weight_quant", "multipliers", "io", "rtl", "hls"}
    for o in enums:
        for v in o["values"][len("one of "):].split(", "):
            m = lib.Model()
            m.set_option(o["key"], v)
            assert m.get_option(o["key"]) == v, o["key"]
        m = lib.Model()
        with pytest.raises(Exception) as e:
            m.set_option(o["key"], "bogus")
        name = o["flag"] or f"option {o['key']}"
        assert str(e.value) == f"{name}: expected {o['values']}, got 'bogus'"


def test_table_entries_well_formed():
    t = table()
    keys = [o["key"] for o in t]
    assert len(keys) == len(set(keys))
    for o in t:
        assert o["help"] and o["values"] and o["commands"], o
        assert set(o["commands"].split()) <= set(COMMANDS), o
        assert o["flag"] or o["switch_flag"], f"{o['key']}: no way to give it on the command line"
        assert (o["switch_flag"] is None) == (o["switch_value"] is None), o
    spellings = [f for o in t for f in (o["flag"], o["alt"]) if f]
    assert len(spellings) == len(set(spellings))
    sources = [o["source"] for o in t if o["source"]]
    assert len(sources) == len(set(sources)) and "model" not in sources


def cli_lists():
    """(model option flags, CLI-only flags) as `etchnn options` prints them."""
    out = run("options").stdout
    model_part, cli_part = out.split("command-line options:")
    flags = lambda text: set(re.findall(r"(?<![\w<-])(--?[a-z][a-z0-9-]*)", text))
    return model_part, flags(cli_part)


def test_help_flags_are_the_tables():
    """Every flag `etchnn --help` shows is in the options table or the CLI's own list, and every option's
    primary flag is in the help."""
    t = table()
    model_flags = {f for o in t for f in (o["flag"], o["alt"], o["switch_flag"]) if f}
    model_text, cli_flags = cli_lists()
    for o in t:
        assert re.search(rf"^  {o['key']}\s", model_text, re.M), f"etchnn options does not list {o['key']}"
    assert not model_flags & cli_flags, model_flags & cli_flags
    usage = run("--help").stdout
    in_help = set(re.findall(r"(?<![\w<-])(--?[a-z][a-z0-9-]*)", usage)) - {"--help"}
    assert in_help <= model_flags | cli_flags, in_help - model_flags - cli_flags
    primary = {o["flag"] or o["switch_flag"] for o in t}
    assert primary <= in_help, primary - in_help


def test_each_model_flag_refused_where_it_changes_nothing(tmp_path):
    """The commands a flag applies to come from the table: on any other command it is refused."""
    for o in table():
        flag = o["flag"] or o["switch_flag"]
        args = [flag, "x"] if o["flag"] else [flag]
        for cmd in COMMANDS:
            if cmd in o["commands"].split():
                continue
            r = run(cmd, "nothing", *args, check=False, cwd=tmp_path)
            assert r.returncode == 2, (cmd, flag, r.stderr)
            assert f"{cmd}: option '{flag}' does not apply (it would change nothing); it is for: {o['commands']}" \
                in r.stderr, r.stderr


@pytest.mark.parametrize("args,msg", [
    (["--tables", "exact", "--hls4ml"], "options '--tables' and '--hls4ml' set the same thing ('exact', then 'hls4ml')"),
    (["-c", "a.yml", "--config", "b.yml"], "options '-c' and '--config' set the same thing"),
    (["--part", "xc7z020", "--part", "xcvu9p"], "option '--part' given twice ('xc7z020', then 'xcvu9p')"),
    (["--no-rtl=1"], "option '--no-rtl' takes no value, got '1'"),
    (["--fit"], "option '--fit' needs a value"),
    (["--fit=2"], "--fit: expected a fraction of the part in (0, 1], got '2'"),
    (["--io=io_foo"], "--io: expected one of parallel, stream, got 'io_foo'"),
    (["--reuse-factor", "2"], "unknown option '--reuse-factor'"),
])
def test_cli_refusals(args, msg, tmp_path):
    r = run("compile", JET, "-o", tmp_path / "out", *args, check=False)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_flag_equals_value(tmp_path):
    run("compile", JET, "-o", tmp_path / "a", "--precision=fixed<10,4>", "--clock-mhz=300", "--part=xc7z020")
    run("compile", JET, "-o", tmp_path / "b", "--precision", "fixed<10,4>", "--clock-mhz", "300", "--part", "xc7z020")
    assert tree_hashes(tmp_path / "a" / "rtl") == tree_hashes(tmp_path / "b" / "rtl")
    assert json.loads((tmp_path / "a" / "report.json").read_text())["source"]["part"] == "xc7z020"


def test_python_keywords_are_table_entries():
    etchnn, _ = etchnn_pkg()
    from etchnn import firmware
    params = set(inspect.signature(etchnn.convert).parameters) - {"unknown"}
    py = {o["python"] for o in table() if o["python"]}
    assert params - set(firmware._CONVERT_ARGS) == py
    assert not set(firmware._CONVERT_ARGS) & py


@pytest.mark.parametrize("kw,hint", [("reuse_factor", ""), ("io", " (the option io is the keyword io_type here)"),
                                     ("emit", "")])
def test_python_unknown_keyword_refused(kw, hint):
    etchnn, _ = etchnn_pkg()
    with pytest.raises(etchnn.EtchnnError) as e:
        etchnn.convert(str(JET), **{kw: "1"})
    assert str(e.value).startswith(f"convert(): unknown keyword '{kw}'{hint}: expected one of the options "), e.value
    assert "io_type" in str(e.value) and "fit" in str(e.value)


def source_used_line(stderr):
    m = re.search(r"^verify: options from report\.json: (.*)$", stderr, re.M)
    assert m, stderr
    return dict(kv.split("=", 1) for kv in m.group(1).split(", "))


CASES = [
    ("parallel", JET, ["--precision", "fixed<16,6>", "--part", "xc7z020", "--fit", "0.5", "--multipliers", "auto",
                       "--clock-mhz", "250", "--io", "parallel"]),
    ("stream", CONV1D, ["--part", "xc7z020", "--fit", "0.5", "--multipliers", "auto", "--clock-mhz", "250",
                        "--io", "stream"]),
]


# the io_parallel case (a longer Verilator build) runs in make test-extended
@pytest.mark.parametrize("name,model,args", [pytest.param(*c, marks=pytest.mark.extended) if c[0] == "parallel" else c
                                             for c in CASES], ids=[c[0] for c in CASES])
def test_verify_reapplies_every_recorded_option(name, model, args, tmp_path):
    """etchnn verify rebuilds the model with every option "source" records (part, fit and io too) and says so."""
    if not model.exists():
        pytest.skip(f"{model} not present")
    if SANITIZED or not shutil.which("verilator"):
        pytest.skip("verilator not installed (or a sanitizer run)")
    out = tmp_path / "out"
    run("compile", model, "-o", out, *args)
    src = json.loads((out / "report.json").read_text())["source"]
    recorded = {o["source"] for o in table() if o["source"]}
    assert set(src) - {"model"} == recorded, src
    r = run("verify", out, "--n", "50")
    assert r.stdout.startswith("PASS"), r.stdout
    used = source_used_line(r.stderr)
    want = {k: (f"{v:.17g}" if isinstance(v, float) else str(v)) for k, v in src.items()
            if k != "model" and v != ""}
    assert used == want, (used, want)
    assert used["part"] == "xc7z020" and used["fit"] == "0.5" and used["io"] == name


@pytest.mark.parametrize("name,model,args", CASES, ids=[c[0] for c in CASES])
def test_cli_and_python_same_design(name, model, args, tmp_path):
    """The same config file and options give the same rtl/ (and the same "source" but for the config's path) from
    the CLI and Python."""
    if not model.exists():
        pytest.skip(f"{model} not present")
    etchnn, _ = etchnn_pkg()
    cfg = tmp_path / "cfg.yml"
    cfg.write_text("Model:\n  Precision: fixed<14,5>\n  ClockPeriod: 4\n")
    run("compile", model, "-c", cfg, "-o", tmp_path / "cli", *args)
    kw = {a[2:].replace("-", "_"): v for a, v in zip(args[::2], args[1::2])}
    kw["io_type"] = "io_" + kw.pop("io")
    kw["clock_mhz"], kw["fit"] = float(kw["clock_mhz"]), float(kw["fit"])
    fw = etchnn.convert(str(model), config=str(cfg), output_dir=str(tmp_path / "py"), **kw)
    fw.write()
    assert tree_hashes(tmp_path / "cli" / "rtl") == tree_hashes(tmp_path / "py" / "rtl")
    a, b = (json.loads((tmp_path / d / "report.json").read_text())["source"] for d in ("cli", "py"))
    assert a.pop("config") != b.pop("config")
    assert a == b


def test_config_part_and_io_recorded_as_resolved(tmp_path):
    """Part and IOType from the config, ClockPeriod: "source" records what was built, and etn_get_option says the
    same before writing."""
    if not CONV1D.exists():
        pytest.skip(f"{CONV1D} not present")
    _, lib = etchnn_pkg()
    cfg = tmp_path / "cfg.yml"
    cfg.write_text("Part: xc7z020-clg400-1\nIOType: io_stream\nClockPeriod: 4\nModel:\n  Precision: fixed<14,5>\n")
    run("compile", CONV1D, "-c", cfg, "-o", tmp_path / "out")
    src = json.loads((tmp_path / "out" / "report.json").read_text())["source"]
    assert (src["part"], src["io"], src["clock_mhz"]) == ("xc7z020", "stream", 250)
    m = lib.Model()
    m.set_option("config", str(cfg))
    assert (m.get_option("part"), m.get_option("io"), m.get_option("clock_mhz")) == ("xc7z020", "stream", "250")
    m.set_option("io", "io_parallel")
    assert m.get_option("io") == "parallel" and m.get_option("fit") is None and m.get_option("precision") is None
