"""Names from a model file never become code (issue 10, item 1).

ONNX tensor, node and graph names, and the model's path, reach the generated
C, Verilog, test benches, reports and config templates.  Here they carry
comment terminators (`*/`, `/*`, `//`), newlines and carriage returns,
backticks (`define), `$display("PWNED")`, `#include`, quotes, a trigraph, a
backslash-newline, U+202E (right-to-left override), bytes that are not UTF-8
(patched into the serialized protobuf), names of 300+ characters, and C and
Verilog keywords as whole layer names and as the model's file name (`module`,
`always` + a layer `comb` = SystemVerilog's `always_comb`).  For an MLP, a
Sigmoid/Softmax net and a small conv net compiled with `--io stream`:

- `etchnn compile` succeeds;
- the C compiles with `gcc -std=c99 -Wall -Wextra -Werror -c` and defines no
  symbol from a payload;
- `verilator --lint-only -Wall` is clean and the Icarus bench says PASS and
  nothing from a payload;
- no generated file holds a payload raw (checked byte by byte on every file
  under OUT), report.json is valid UTF-8 JSON;
- `etchnn config` writes YAML that yaml.safe_load reads back with every layer
  name as a string key, and `etchnn compile -c` accepts it;
- `etchnn verify` (Verilator) passes on the MLP; output is deterministic;
- a Keras model named module.json with a payload in its input layer's and
  model's name gives the same guarantees;
- verify refuses a report.json whose "model" (the top module, passed to
  Verilator and written into tb.cpp) is not an identifier.
"""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import MODELS as MODELS_DIR, SANITIZED, run

onnx = pytest.importorskip("onnx")
yaml = pytest.importorskip("yaml")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

VERILATOR = shutil.which("verilator")
IVERILOG = shutil.which("iverilog")
VVP = shutil.which("vvp")
GCC = shutil.which("gcc")

PWN = '$display("PWNED");'
# A placeholder patched to bytes that are not UTF-8 after serializing (same length: the protobuf stays valid).
RAW_MARK = b"QQRAWBYTESQQ"
RAW_BYTES = b"\xff\xfe\xc0\xaf\xed\xa0\x80\x80\x9f*/\n"
assert len(RAW_MARK) == len(RAW_BYTES)

# tensor names (payloads), each with a marker the scan looks for
T_IN = 'in */ ' + PWN + ' /* `define PWN 1\n#include "pwned.h"\n'
T_H1 = 'h1 \r\n' + PWN + ' // NL\nNL */ int pwned_c = 1; /* ' + 'L' * 320
T_H2 = "h2 `PWN ' \" ??/\nbs\\\nBS \u202e RLO " + RAW_MARK.decode()
T_H3 = 'h3 */\n`include "pwned.vh"\n/* begin end ' + 'M' * 300
T_OUT = 'y */ int pwned_y = 2; /* endmodule\nmodule pwned; initial ' + PWN + ' endmodule //'
T_W = 'w1 */ int pwned_w = 3; /*'
T_B = 'b1 \n' + PWN
GRAPH = 'g */ ' + PWN + ' /*\n`define G 1'

# raw byte sequences that must not appear in any generated file
FORBIDDEN = [b'$display("PWNED")', b"`define PWN", b"`define G", b'#include "pwned.h"', b'`include "pwned.vh"',
             b"*/ int pwned", b"NL\nNL", b"\r", b"\xff", b"\xfe", b"\xed\xa0\x80", b"\xe2\x80\xae", b"??/",
             b"bs\\", b"\nmodule pwned", b"`PWN", b"/* begin end", b"PWNED\""]


def _init(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def _model(nodes, inits, x_shape, y_shape):
    g = helper.make_graph(nodes, GRAPH, [helper.make_tensor_value_info(T_IN, TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info(T_OUT, TensorProto.FLOAT, y_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m.SerializeToString().replace(RAW_MARK, RAW_BYTES)


def mlp():
    """Gemm 'module' -> Relu 'always' -> Gemm 'int'; 6 -> 5 -> 3."""
    rng = np.random.default_rng(10)
    nodes = [helper.make_node("Gemm", [T_IN, T_W, T_B], [T_H1], name="module"),
             helper.make_node("Relu", [T_H1], [T_H2], name="always"),
             helper.make_node("Gemm", [T_H2, "w2 */ /*", "b2 //\n"], [T_OUT], name="int")]
    inits = [_init(T_W, rng.standard_normal((6, 5)) * 0.5), _init(T_B, rng.standard_normal(5) * 0.2),
             _init("w2 */ /*", rng.standard_normal((5, 3)) * 0.5), _init("b2 //\n", rng.standard_normal(3) * 0.2)]
    return _model(nodes, inits, [1, 6], [1, 3])


def sigsoft():
    """Gemm 'wire' -> Sigmoid 'begin' -> Gemm 'void' -> Softmax 'comb' (in always.onnx: always_comb)."""
    rng = np.random.default_rng(11)
    nodes = [helper.make_node("Gemm", [T_IN, T_W, T_B], [T_H1], name="wire"),
             helper.make_node("Sigmoid", [T_H1], [T_H2], name="begin"),
             helper.make_node("Gemm", [T_H2, "w2", "b2"], [T_H3], name="void"),
             helper.make_node("Softmax", [T_H3], [T_OUT], name="comb", axis=-1)]
    inits = [_init(T_W, rng.standard_normal((4, 6)) * 0.5), _init(T_B, rng.standard_normal(6) * 0.2),
             _init("w2", rng.standard_normal((6, 3)) * 0.5), _init("b2", rng.standard_normal(3) * 0.2)]
    return _model(nodes, inits, [1, 4], [1, 3])


def conv():
    """1x6x6 -> Conv 'return' 2x3x3 -> Relu 'end' -> Flatten 'input' -> Gemm 'null' 3 (--io stream)."""
    rng = np.random.default_rng(12)
    nodes = [helper.make_node("Conv", [T_IN, T_W, T_B], [T_H1], name="return", kernel_shape=[3, 3]),
             helper.make_node("Relu", [T_H1], [T_H2], name="end"),
             helper.make_node("Flatten", [T_H2], [T_H3], name="input"),
             helper.make_node("Gemm", [T_H3, "w2 `x", "b2"], [T_OUT], name="null")]
    inits = [_init(T_W, rng.standard_normal((2, 1, 3, 3)) * 0.5), _init(T_B, rng.standard_normal(2) * 0.2),
             _init("w2 `x", rng.standard_normal((32, 3)) * 0.3), _init("b2", rng.standard_normal(3) * 0.2)]
    return _model(nodes, inits, [1, 1, 6, 6], [1, 3])


MODELS = {"mlp": (mlp, []), "sig": (sigsoft, []), "conv": (conv, ["--io", "stream", "--precision", "fixed<10,4>"])}
# a directory whose name ends in '*' puts "*/" into the path; the file name itself carries the rest
EVIL_DIR = 'd $display("PWNED"); `define PWN\r\u202e *'
EVIL_FILE = 'm \n' + PWN + '\n`define PWN */.onnx'.replace("/", "_")
CASES = [("mlp", "evil"), ("mlp", "module.onnx"), ("sig", "evil"), ("sig", "always.onnx"), ("conv", "evil"),
         ("conv", "begin.onnx")]


def model_file(tmp_path, kind, where):
    d = tmp_path / EVIL_DIR if where == "evil" else tmp_path
    d.mkdir(parents=True, exist_ok=True)
    p = d / (EVIL_FILE if where == "evil" else where)
    p.write_bytes(MODELS[kind][0]())
    return p


def compile_model(tmp_path, kind, where, out_name="out", *extra):
    p = model_file(tmp_path, kind, where)
    out = tmp_path / out_name
    run("compile", p, "-o", out, *MODELS[kind][1], *extra)
    return p, out


def top(out):
    return json.loads((out / "report.json").read_bytes().decode("utf-8"))["model"]


def scan(out):
    """Every generated text file: no payload byte sequence (report.json: valid UTF-8 JSON, names escaped
    by the JSON writer); every file name an identifier."""
    files = [f for f in out.rglob("*") if f.is_file() and f.suffix != ".bin" and "obj" not in f.relative_to(out).parts]
    assert files
    bad = []
    for f in files:
        data = f.read_bytes()
        if f.name == "report.json":
            json.loads(data.decode("utf-8"))
            assert not any(b < 0x20 and b not in b"\n\t" for b in data), f
            continue
        for pat in FORBIDDEN:
            if pat in data:
                k = data.index(pat)
                bad.append(f"{f.relative_to(out)}: {pat!r} in ...{data[max(0, k - 60):k + 60]!r}...")
    assert not bad, "payloads in generated files:\n" + "\n".join(bad)
    for f in files:
        assert all(c.isalnum() or c in "_.-" for c in f.name), f.name


def check_c(out, tmp_path):
    if GCC is None:
        pytest.skip("gcc not installed")
    for c in (out / "c").glob("*.c"):
        obj = tmp_path / (c.stem + ".o")
        r = subprocess.run([GCC, "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", str(c), "-o", str(obj)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"gcc on {c}:\n{r.stderr[:4000]}"
        syms = subprocess.run(["nm", str(obj)], capture_output=True, text=True).stdout
        assert not any(f"pwned_{v}" in syms for v in "cwy"), syms   # no variable from a payload


def check_lint(out):
    if VERILATOR is None:
        pytest.skip("verilator not installed")
    r = subprocess.run([VERILATOR, "--lint-only", "-Wall", "--top-module", top(out), "-F", str(out / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr[:4000]


def check_icarus(out):
    if IVERILOG is None or VVP is None:
        pytest.skip("iverilog not installed")
    rtl = out / "rtl"
    name = top(out)
    r = subprocess.run([IVERILOG, "-g2005", "-o", "tb.vvp", "-c", "files.f", f"tb_{name}.v"], cwd=rtl,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr[:4000]
    r = subprocess.run([VVP, "-n", "tb.vvp"], cwd=rtl, capture_output=True, text=True, timeout=600)
    text = r.stdout + r.stderr
    assert "PWNED" not in text, text
    assert "PASS" in r.stdout and "FAIL" not in r.stdout, text
    (rtl / "tb.vvp").unlink()


def check_config(model, out, tmp_path, extra):
    layers = [l["name"] for l in json.loads((out / "report.json").read_bytes().decode("utf-8"))["layers"]]
    for gran in ("model", "type", "name"):
        r = run("config", model, "--granularity", gran)
        text = r.stdout
        assert "PWNED\"" not in text and "\r" not in text and "\u202e" not in text, text
        cfg = yaml.safe_load(text)
        assert isinstance(cfg, dict) and "Model" in cfg, text
        if gran == "name":
            keys = cfg["LayerName"]
            assert all(isinstance(k, str) for k in keys), keys
            assert set(layers) <= set(keys), (layers, list(keys))
        yml = tmp_path / f"cfg_{gran}.yml"
        yml.write_text(text)
        run("compile", model, "-c", yml, "-o", tmp_path / f"out_cfg_{gran}", *extra)


@pytest.mark.parametrize("kind,where", CASES, ids=[f"{k}-{w}" for k, w in CASES])
def test_names_never_become_code(kind, where, tmp_path):
    model, out = compile_model(tmp_path, kind, where)
    scan(out)
    check_c(out, tmp_path)
    if where != "evil":   # the keyword file names give the keyword-free top module names
        stem = where[:-5]
        assert top(out) != stem and top(out).startswith(stem)
    if not SANITIZED:
        check_lint(out)
        check_icarus(out)
    check_config(model, out, tmp_path, MODELS[kind][1])


def test_layer_module_names_avoid_keywords(tmp_path):
    """always.onnx with a layer 'comb': the module is not SystemVerilog's always_comb."""
    _, out = compile_model(tmp_path, "sig", "always.onnx")
    mods = [l["module"] for l in json.loads((out / "report.json").read_text())["layers"]]
    assert "always_comb" not in mods, mods
    names = [l["name"] for l in json.loads((out / "report.json").read_text())["layers"]]
    assert "comb" in names and "begin" in names   # the layer names (config keys) stay the model's


def test_deterministic(tmp_path):
    _, a = compile_model(tmp_path, "conv", "evil", "a")
    _, b = compile_model(tmp_path, "conv", "evil", "b")
    fa = sorted(f.relative_to(a) for f in a.rglob("*") if f.is_file())
    fb = sorted(f.relative_to(b) for f in b.rglob("*") if f.is_file())
    assert fa == fb
    for f in fa:
        if f.name == "report.json":   # holds the output directory
            continue
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


@pytest.mark.skipif(VERILATOR is None, reason="verilator not installed")
def test_verify_mlp(tmp_path):
    _, out = compile_model(tmp_path, "mlp", "evil")
    r = run("verify", out, "--n", "100", check=False)
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr
    scan(out)   # verify/tb.cpp too


def test_tampered_report_model_is_refused(tmp_path):
    """etchnn verify puts report.json's "model" on Verilator's command line and into tb.cpp: only an identifier."""
    _, out = compile_model(tmp_path, "mlp", "module.onnx")
    rep = json.loads((out / "report.json").read_text())
    rep["model"] = 'module_\n' + PWN
    (out / "report.json").write_text(json.dumps(rep))
    r = run("verify", out, "--n", "10", check=False)
    assert r.returncode == 2 and "expected the top module's name (a Verilog identifier)" in r.stderr, r.stderr
    assert not (out / "verify" / "tb.cpp").exists()


def test_keras_names(tmp_path):
    """Keras: a payload in the input layer's and the model's name, the file named module.json."""
    src = MODELS_DIR / "keras" / "KERAS_3layer.json"
    if not src.exists():
        pytest.skip(f"shared model {src} not present")
    text = src.read_text().replace('"input_1"', json.dumps('input_1 */ ' + PWN + ' /*\n`define PWN\n'))
    d = json.loads(text)
    d["config"]["name"] = GRAPH
    (tmp_path / "module.json").write_text(json.dumps(d))
    shutil.copy(src.with_name("KERAS_3layer_weights.h5"), tmp_path / "module_weights.h5")
    out = tmp_path / "out"
    run("compile", tmp_path / "module.json", "-o", out, "--precision", "fixed<8,3>")
    assert top(out) == "module_"
    scan(out)
    check_c(out, tmp_path)
    if not SANITIZED:
        check_lint(out)   # (the Icarus bench of this size takes a minute; the ONNX cases run theirs)
    check_config(tmp_path / "module.json", out, tmp_path, ["--precision", "fixed<8,3>"])
