"""Hardening (issue 10): a node without an op is one clear error, an empty
output path is refused, a failed compile leaves OUT as it was (all or
nothing), odd values (NaN/Inf inputs, weights outside their type, very large
designs) are said, not silently changed."""
import hashlib
import os
import resource
import signal
import subprocess
import warnings

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import ETCHNN, ROOT, run

JET = ROOT / "examples" / "jet_tagger.onnx"


def check_one_error(r, pattern):
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr}"
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert pattern in lines[0], lines[0]
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr


def tree_hashes(root):
    out = {}
    for dirpath, dirnames, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root) + "/"] = "dir"
    return out


def model_without_op(tmp_path):
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "W")
    n = helper.make_node("Gemm", ["x", "W"], ["y"], name="fc")
    n.ClearField("op_type")
    g = helper.make_graph([n], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w])
    p = tmp_path / "noop.onnx"
    p.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    return p


# ---- 2: a node with no op_type (was a segfault, exit 139) -----------------------

@pytest.mark.parametrize("cmd", ["compile", "predict", "config"])
def test_node_without_op_type(cmd, tmp_path):
    p = model_without_op(tmp_path)
    (tmp_path / "x.dat").write_text("1 2 3 4\n")
    args = {"compile": ["-o", tmp_path / "out"], "predict": ["--input", tmp_path / "x.dat"], "config": []}[cmd]
    r = run(cmd, p, *args, check=False)
    check_one_error(r, "noop.onnx: node 0 ('fc'): expected an op_type")
    assert not (tmp_path / "out").exists()


# ---- 3: empty output paths ---------------------------------------------------------

def test_empty_output_folder_refused(tmp_path):
    before = sorted(os.listdir(tmp_path))
    r = subprocess.run([os.path.abspath(ETCHNN), "compile", str(JET), "-o", ""], capture_output=True, text=True, cwd=tmp_path)
    check_one_error(r, "expected -o OUT to name a folder, got an empty name")
    assert sorted(os.listdir(tmp_path)) == before


def test_empty_predict_output_refused(tmp_path):
    (tmp_path / "x.dat").write_text(" ".join(["0.5"] * 16) + "\n")
    r = run("predict", JET, "--input", tmp_path / "x.dat", "--output", "", check=False)
    check_one_error(r, "expected --output Y to name a file")
    r = run("predict", JET, "--input", "", check=False)
    check_one_error(r, "expected --input X")


def test_output_folder_that_is_a_file(tmp_path):
    f = tmp_path / "out"
    f.write_text("mine")
    r = run("compile", JET, "-o", f, check=False)
    check_one_error(r, "expected an output folder, got a file of that name")
    assert f.read_text() == "mine"


# ---- 5: all or nothing ----------------------------------------------------------------

def limited_files(limit):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def test_failed_write_leaves_old_output(tmp_path):
    """The C files (41 kB) fit under the limit, the Verilog (up to 730 kB per module) does not: before,
    OUT/c/jet_tagger.{c,h} stayed beside the previous run's rtl/ and report."""
    out = tmp_path / "out"
    three = ROOT.parent / "shared" / "models" / "onnx" / "three_layer_keras.onnx"
    first = three if three.exists() else JET
    run("compile", first, "-o", out, "--precision", "fixed<8,3>")
    (out / "mine.txt").write_text("a user's file")
    before = tree_hashes(out)
    r = subprocess.run([str(ETCHNN), "compile", str(JET), "-o", str(out)], capture_output=True, text=True,
                       preexec_fn=limited_files(200_000))
    assert r.returncode == 2, r.stderr
    assert "write failed" in r.stderr or "cannot write" in r.stderr, r.stderr
    assert tree_hashes(out) == before
    # and a folder that did not exist is not left behind
    fresh = tmp_path / "fresh"
    r = subprocess.run([str(ETCHNN), "compile", str(JET), "-o", str(fresh)], capture_output=True, text=True,
                       preexec_fn=limited_files(200_000))
    assert r.returncode == 2, r.stderr
    assert not fresh.exists()


def test_success_replaces_owned_entries_only(tmp_path):
    out = tmp_path / "out"
    (out / "rtl").mkdir(parents=True)
    (out / "rtl" / "stale_module.v").write_text("module stale; endmodule\n")
    (out / "notes.txt").write_text("keep me")
    run("compile", JET, "-o", out)
    assert not (out / "rtl" / "stale_module.v").exists()      # rtl/ is this run's, as a whole
    assert (out / "notes.txt").read_text() == "keep me"        # other entries are left alone
    assert (out / "c" / "jet_tagger.c").exists() and (out / "report.json").exists()
    assert not [p for p in os.listdir(out) if p.startswith(".etchnn")]


# ---- 6: odd values ----------------------------------------------------------------------

@pytest.mark.parametrize("bad,word", [("nan", "NaN"), ("inf", "+inf"), ("-inf", "-inf"), ("1e999", "+inf")])
def test_nonfinite_inputs_refused(bad, word, tmp_path):
    x = np.full((3, 16), 0.25)
    rows = [" ".join(map(str, r)) for r in x]
    rows[1] = rows[1].split()
    rows[1][5] = bad
    rows[1] = " ".join(rows[1])
    (tmp_path / "x.dat").write_text("\n".join(rows) + "\n")
    r = run("predict", JET, "--input", tmp_path / "x.dat", check=False)
    check_one_error(r, f"input event 1, value 5: expected a finite number, got {word}")
    # --float computes in double precision: NaN goes through as IEEE arithmetic says
    r = run("predict", JET, "--input", tmp_path / "x.dat", "--float")
    assert len(r.stdout.splitlines()) == 3


def test_nonfinite_npy_refused(tmp_path):
    x = np.zeros((4, 16))
    x[2, 3] = np.nan
    x[3, 0] = np.inf
    np.save(tmp_path / "x.npy", x)
    r = run("predict", JET, "--input", tmp_path / "x.npy", check=False)
    check_one_error(r, "input event 2, value 3: expected a finite number, got NaN (1 NaN and 1 infinite values in 4 events)")


def test_weights_outside_their_type_warn(tmp_path):
    r = run("compile", JET, "-o", tmp_path / "out", "--precision", "fixed<4,1>")
    warns = [l for l in r.stderr.splitlines() if "warning:" in l]
    assert any("node 'fc1' (Gemm): 7 of 1024 weight values lie outside fixed<4,1>'s range [-1, 0.875]" in l
               and "wrap around" in l for l in warns), r.stderr
    r = run("compile", JET, "-o", tmp_path / "out2", "--precision", "fixed<4,1,TRN,SAT>")
    assert "and saturate" in r.stderr, r.stderr
    # the default types hold the weights: no warning
    r = run("compile", JET, "-o", tmp_path / "out3")
    assert "warning" not in r.stderr, r.stderr


def test_python_warnings(tmp_path):
    pytest.importorskip("numpy")
    import sys
    sys.path.insert(0, str(ROOT / "python"))
    try:
        from etchnn import _lib
        from etchnn.errors import EtchnnWarning
    except Exception as e:   # the package needs the shared library next to the build
        pytest.skip(f"etchnn package not importable: {e}")
    m = _lib.Model()
    m.load(str(JET))
    m.set_option("precision", "fixed<4,1>")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m.compile()
    msgs = [str(x.message) for x in w if issubclass(x.category, EtchnnWarning)]
    assert any("weight values lie outside fixed<4,1>" in s for s in msgs), msgs


@pytest.mark.slow
@pytest.mark.extended   # 420 MB of Verilog on disk; make test-extended
def test_very_large_design_warns(tmp_path):
    """KERAS_conv1d (251k parameters) unrolled: about 420 MB of Verilog, said in one warning."""
    from conftest import MODELS
    p = MODELS / "keras" / "KERAS_conv1d.json"
    if not p.exists():
        pytest.skip(f"{p} not present")
    r = run("compile", p, "-o", tmp_path / "out")
    warns = [l for l in r.stderr.splitlines() if "warning:" in l]
    assert len(warns) == 1, r.stderr
    assert "MB (more than 64 MB; largest: rtl/KERAS_conv1d_conv2_relu.v" in warns[0], warns[0]


@pytest.mark.parametrize("bad", ["../escape", "/tmp/x", "a/b", "", "my project", "x" * 65])
def test_python_project_name_cannot_escape(bad, tmp_path):
    import sys
    sys.path.insert(0, str(ROOT / "python"))
    try:
        import etchnn
    except Exception as e:
        pytest.skip(f"etchnn package not importable: {e}")
    with pytest.raises(etchnn.EtchnnError, match="project_name: expected an identifier"):
        etchnn.convert(str(JET), output_dir=str(tmp_path / "prj"), project_name=bad)
    assert not (tmp_path / "prj").exists()
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize("suffix", [".dat", ".npy"])
def test_predict_output_all_or_nothing(suffix, tmp_path):
    x = np.random.default_rng(1).standard_normal((2000, 16))
    np.save(tmp_path / "x.npy", x)
    y = tmp_path / f"y{suffix}"
    y.write_text("previous results")
    r = subprocess.run([os.path.abspath(ETCHNN), "predict", str(JET), "--input", str(tmp_path / "x.npy"),
                        "--output", str(y)], capture_output=True, text=True, preexec_fn=limited_files(4096))
    assert r.returncode == 2, r.stderr
    assert "write failed" in r.stderr, r.stderr
    assert y.read_text() == "previous results"
    assert sorted(os.listdir(tmp_path)) == ["x.npy", f"y{suffix}"]   # no temporary file left
    run("predict", JET, "--input", tmp_path / "x.npy", "--output", y)
    assert y.stat().st_size > 4096


def test_non_utf8_model_path_report_stays_json(tmp_path):
    """A model file whose path is not UTF-8: report.json stays valid JSON (the path readable, and exact in
    model_hex), and etchnn verify reloads the model from it."""
    import json
    import shutil
    d = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(d)
    model = os.path.join(d, b"jet.onnx")
    shutil.copyfile(JET, model)
    out = tmp_path / "out"
    r = subprocess.run([os.fsencode(os.path.abspath(ETCHNN)), b"compile", model, b"-o", os.fsencode(out),
                        b"--precision", b"fixed<8,3>"], capture_output=True)
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "report.json").read_bytes().decode("utf-8"))   # valid UTF-8 JSON
    src = rep["source"]
    assert "\ufffd" in src["model"] and bytes.fromhex(src["model_hex"]) == os.path.realpath(model)
    from conftest import SANITIZED
    import shutil as sh
    if SANITIZED or not sh.which("verilator"):
        return
    r = subprocess.run([os.path.abspath(ETCHNN), "verify", str(out), "--n", "50"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_nan_input_refused_by_rtl_check(tmp_path):
    """etchnn verify --input with a NaN: refused like predict (it became code 0 before)."""
    run("compile", JET, "-o", tmp_path / "out", "--precision", "fixed<8,3>")
    (tmp_path / "x.dat").write_text(" ".join(["0.5"] * 16) + "\n" + " ".join(["0.5"] * 5 + ["nan"] + ["1"] * 10) + "\n")
    r = run("verify", tmp_path / "out", "--input", tmp_path / "x.dat", check=False)
    assert r.returncode == 2, r.stderr
    assert "x.dat: event 1, value 5: expected a finite number, got NaN" in r.stderr, r.stderr


@pytest.mark.parametrize("edit", [
    lambda r: r.__setitem__("latency_cycles", 1e300),
    lambda r: r["io"].__setitem__("n_in", 1e300),
    lambda r: r["io"].__setitem__("n_in", -5),
    lambda r: r["io"].__setitem__("w_out", 2.5),
])
def test_tampered_report_refused_by_rtl_check(edit, tmp_path):
    """report.json is read back by verify: huge or fractional numbers get a message (were converted with UB)."""
    import json
    out = tmp_path / "out"
    run("compile", JET, "-o", out, "--precision", "fixed<8,3>")
    rep = json.loads((out / "report.json").read_text())
    edit(rep)
    (out / "report.json").write_text(json.dumps(rep))
    r = run("verify", out, "--n", "10", check=False)
    assert r.returncode == 2, r.stderr
    assert "report.json" in r.stderr and "expected" in r.stderr, r.stderr
    assert "runtime error" not in r.stderr
