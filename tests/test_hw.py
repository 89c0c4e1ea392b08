"""The hardware layer (src/hw): --dump-after for each of its steps prints the
netlist, the netlist verifier runs after every step of every compile (it is
always on, as the IR verifier), and the cmvm core's adder graph equals the
exact matrix product (build/test_hw_cmvm; ETCHNN_TEST_HW_CMVM selects another
build)."""
import os
import pathlib
import re
import subprocess

import pytest

from conftest import ETCHNN, MODELS, ROOT, run

JET = ROOT / "examples" / "jet_tagger.onnx"
NODE = re.compile(r"^  %(\d+) = (\w+)(.*)  : ([su])(\d+) \[(\S+), (\S+)\] @(\d+)\+(\S+)ns$")


def _dump(step, *opts, model=JET):
    out = run("compile", model, "--dump-after", step, *opts).stdout
    assert out.startswith(f"## after {step}\n"), out[:200]
    return out


def _modules(text):
    """{module name: [(id, op, operands text, stage, time)]} of a dump."""
    mods, cur = {}, None
    for line in text.splitlines():
        if line.startswith("module "):
            cur = mods.setdefault(line.split()[1].rstrip(":"), [])
        m = NODE.match(line)
        if m:
            cur.append((int(m[1]), m[2], m[3], int(m[8]), float(m[9])))
    return mods


@pytest.mark.parametrize("step", ["lower", "schedule", "estimate"])
def test_dump_after_each_step(step):
    text = _dump(step)
    assert re.search(r"^design jet_tagger: 5 modules", text, re.M)
    mods = _modules(text)
    assert len(mods) == 5 and all(mods.values())
    for nodes in mods.values():
        assert [n[0] for n in nodes] == list(range(len(nodes)))     # ids in order
        for i, op, args, _, _ in nodes:
            assert all(int(a) < i for a in re.findall(r"%(\d+)", args)), (i, op, args)   # operands first
    first = next(iter(mods.values()))
    assert first[0][1] == "in" and any(n[1] == "add" for n in first)
    stages = {n[3] for nodes in mods.values() for n in nodes}
    if step == "lower":
        assert stages == {0}
    else:
        assert max(stages) > 0                     # pipelined at 200 MHz
        assert not re.search(r"latency 0, budget", text)


def test_dump_after_estimate_has_resources():
    text = _dump("estimate")
    luts = [float(x) for x in re.findall(r"lut ([0-9.]+), ff", text)]
    assert luts and all(x > 0 for x in luts)
    assert "lut 0.0, ff 0.0" in _dump("schedule")   # not estimated yet


def test_dump_after_stream_and_tables():
    p = MODELS / "onnx" / "conv2d_small_mp_keras.onnx"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    text = _dump("schedule", "--io", "stream", "--precision", "fixed<8,3>", model=p)
    assert re.search(r"^  rom0: \d+ entries", text, re.M)      # the Selu tables
    assert " = rom rom0[%" in text


def test_dump_after_unknown_step_lists_hw_steps():
    r = run("compile", JET, "--dump-after", "sched", check=False)
    assert r.returncode == 2 and "precision, dot, lower, schedule, estimate, all, got 'sched'" in r.stderr


def test_dump_after_hw_step_writes_the_same_files(tmp_path):
    run("compile", JET, "-o", tmp_path / "a")
    run("compile", JET, "-o", tmp_path / "b", "--dump-after", "schedule")
    for f in (tmp_path / "a").rglob("*"):
        if f.is_file():
            assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes(), f


@pytest.mark.parametrize("model,opts", [
    ("examples/jet_tagger.onnx", ["--multipliers", "auto", "--clock-mhz", "400"]),
    ("onnx/conv2d_small_mp_keras.onnx", []),
    ("onnx/conv1d_small_keras.onnx", ["--io", "stream", "--precision", "fixed<8,3>"]),
    ("keras/KERAS_3layer_ternary_small.json", ["--multipliers", "dsp"]),
    ("hgq/hgq_jet_classifier.h5", []),
])
def test_verifier_passes(model, opts, tmp_path):
    """hw_verify runs after every step of every compile: a clean compile is its pass."""
    p = ROOT / model if model.startswith("examples") else MODELS / model
    if not p.exists():
        pytest.skip(f"model {p} not present")
    run("compile", p, "-o", tmp_path / "o", *opts)
    assert (tmp_path / "o" / "report.json").exists()


def test_cmvm_equals_matrix_product():
    drv = pathlib.Path(os.environ.get("ETCHNN_TEST_HW_CMVM", ETCHNN.parent / "test_hw_cmvm"))
    if not drv.exists():
        pytest.skip(f"{drv} not built (make all)")
    r = subprocess.run([str(drv)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ok "), r.stdout + r.stderr
