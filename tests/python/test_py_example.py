"""examples/train_and_convert.py runs from start to end as a script: it trains
the jet-tagger-shaped Keras model, converts it, saves the profiling figure
(a non-empty PNG), writes the project, verifies it with Verilator and prints
the report."""
import os
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT

EXAMPLE = ROOT / "examples" / "train_and_convert.py"


@pytest.mark.slow
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_example_runs(tmp_path):
    for mod in ("keras", "torch", "matplotlib"):
        pytest.importorskip(mod)
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    env = {**os.environ, "KERAS_BACKEND": "torch", "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=1200)
    print(r.stdout)
    assert r.returncode == 0, r.stderr[-4000:]
    png = tmp_path / "etchnn_prj" / "jet_tagger_profile.png"
    assert png.exists() and png.stat().st_size > 20_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = r.stdout
    assert "accuracy: float" in out and "verify PASSED" in out and "latency" in out
    prj = tmp_path / "etchnn_prj" / "jet_tagger"
    assert (prj / "report.json").exists() and list((prj / "rtl").glob("*.v")) and (prj / "jet_tagger.keras").exists()
    assert "verify: building" in r.stderr   # the progress line
