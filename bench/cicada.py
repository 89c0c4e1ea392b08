#!/usr/bin/env python3
"""The CICADA-shaped network (tests/cicada_models.py: 18x14 10-bit energies,
Conv2D 3 filters 3x3 stride 2, ReLU, Flatten, Dense 20, ReLU, Dense 1) at
8-bit types (tests/cicada_models.CONFIG_8BIT), io_parallel:

  1. model -> C + Verilog: `etchnn compile`, whole process, best of --repeats;
  2. latency (cycles, ns) and the tool-free estimate from report.json;
  3. `etchnn verify --n 10000` (Verilator, one vector per clock; --no-verify skips);
  4. `etchnn synth --target xilinx` (Yosys synth_xilinx): LUT/FF/CARRY/DSP, and its time.

    make BUILD=build/bench && python3 bench/cicada.py [--etchnn build/bench/etchnn] [--work DIR] [--clock-mhz 200]

io_stream (line buffers, one pixel per clock) does not exist yet; only the
parallel architecture (the whole 252-value image in one word, II = 1) is measured.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from cicada_models import CONFIG_8BIT, cicada_onnx  # noqa: E402


def etchnn(exe, *args):
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
    t = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"etchnn {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r, t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--etchnn", default=str(ROOT / "build" / "bench" / "etchnn"))
    ap.add_argument("--work", help="keep everything here (default: a temporary directory)")
    ap.add_argument("--clock-mhz", type=float, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--no-synth", action="store_true")
    a = ap.parse_args()
    import onnx
    work = pathlib.Path(a.work or tempfile.mkdtemp(prefix="etchnn-cicada-"))
    work.mkdir(parents=True, exist_ok=True)
    model, cfg, out = work / "cicada.onnx", work / "cicada8.yml", work / "out"
    onnx.save(cicada_onnx(), str(model))
    cfg.write_text(CONFIG_8BIT)

    times = []
    for _ in range(a.repeats):
        r, t = etchnn(a.etchnn, "compile", model, "-c", cfg, "-o", out, "--clock-mhz", a.clock_mhz)
        times.append(t)
    rep = json.loads((out / "report.json").read_text())
    res = {"model": "cicada (tests/cicada_models.py)", "config": "tests/cicada_models.CONFIG_8BIT",
           "clock_mhz": rep["clock_mhz"], "latency_cycles": rep["latency_cycles"], "latency_ns": rep["latency_ns"],
           "ii": rep["ii"], "compile_s": min(times), "estimate": rep["estimate"]}
    print(f"compile (whole process, best of {a.repeats}): {min(times):.3f} s")
    print(f"latency: {rep['latency_cycles']} cycles = {rep['latency_ns']} ns at {rep['clock_mhz']} MHz, II = {rep['ii']}")
    e = rep["estimate"]
    print(f"estimate: {e['lut']} LUT, {e['ff']} FF, {e['dsp']} DSP; adders {e['adders']} (naive {e['adders_naive']})")

    if not a.no_verify:
        r, t = etchnn(a.etchnn, "verify", out, "--n", 10000, "--seed", 1)
        line = next(x for x in r.stdout.splitlines() if x.startswith(("PASS", "FAIL")))
        print(line)
        res["verify"] = line
    if not a.no_synth:
        r, t = etchnn(a.etchnn, "synth", out, "--target", "xilinx")
        rep = json.loads((out / "report.json").read_text())
        res["synth"] = rep.get("synth")
        res["synth_s"] = t
        y = rep.get("synth") or {}
        print(f"etchnn synth --target xilinx ({t:.0f} s): {y.get('lut')} LUT, {y.get('ff')} FF, "
              f"{y.get('carry')} CARRY4, {y.get('dsp')} DSP, {y.get('bram')} BRAM")
    (work / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    print(f"results: {work / 'results.json'}")


if __name__ == "__main__":
    main()
