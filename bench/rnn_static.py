#!/usr/bin/env python3
"""Recurrent layers, unrolled next to static (issue 12, item 4): an LSTM and a
GRU of the jet/top-tagging shape (20 steps x 6 features, 20 units, then
Dense 1), Keras 3 (torch back end) with seeded, untrained weights, at
fixed<8,3> and fixed<16,6> (--precision; --tables hls4ml: 1024-entry
sigmoid/tanh tables, as hls4ml builds them).

For each model, precision and architecture (unrolled: no config; static:
LayerName.rnn.Static: true):
  1. `etchnn compile`, whole process, best of --repeats;
  2. latency (cycles), II and the tool-free LUT/FF estimate from report.json;
  3. static only: `etchnn verify` (Verilator, --verify N vectors; 0 skips) and
     `etchnn synth --target xilinx` (Yosys synth_xilinx: LUT/FF, its time;
     --no-synth skips).  The unrolled circuits (20 cells) are not given to
     Yosys: too large for it on this machine.

    make && python3 bench/rnn_static.py [--etchnn build/etchnn] [--work DIR] [--verify 200] [--no-synth]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
T, F, U = 20, 6, 20


def etchnn(exe, *args):
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
    t = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"etchnn {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr}")
    return r, t


def model(kind, path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    keras.utils.set_random_seed(1)
    inp = keras.Input((T, F))
    h = getattr(keras.layers, kind)(U, name="rnn")(inp)
    m = keras.Model(inp, keras.layers.Dense(1, name="out")(h))
    m.save(path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--etchnn", default=str(ROOT / "build" / "etchnn"))
    ap.add_argument("--work", help="keep everything here (default: a temporary directory)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--verify", type=int, default=200, help="vectors for etchnn verify of the static form (0: none)")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--models", default="LSTM,GRU")
    ap.add_argument("--tables", default="hls4ml", help="sigmoid/tanh tables: hls4ml (1024 entries) or exact")
    ap.add_argument("--precisions", default="fixed<8,3>;fixed<16,6>", help="separated by ;")
    a = ap.parse_args()
    work = pathlib.Path(a.work or tempfile.mkdtemp(prefix="rnn_static_"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "static.json"
    cfg.write_text(json.dumps({"LayerName": {"rnn": {"Static": True}}}))
    rows = []
    paths = {kind: model(kind, work / f"{kind.lower()}.keras") for kind in a.models.split(",")}
    for prec in a.precisions.split(";"):
        for kind, path in paths.items():
            for arch in ("unrolled", "static"):
                out = work / f"{kind.lower()}_{prec[6:-1].replace(',', '_')}_{arch}"
                args = ["compile", path, "-o", out, "--precision", prec, "--tables", a.tables] + \
                    (["-c", cfg] if arch == "static" else [])
                best = min(etchnn(a.etchnn, *args)[1] for _ in range(a.repeats))
                rep = json.loads((out / "report.json").read_text())
                res = dict(model=kind, precision=prec, arch=arch, compile_s=round(best, 2),
                           latency=rep["latency_cycles"], ii=rep["ii"], lut_est=rep["estimate"]["lut"],
                           ff_est=rep["estimate"]["ff"])
                if arch == "static" and a.verify:
                    r, t = etchnn(a.etchnn, "verify", out, "--n", a.verify)
                    res["verify"] = r.stdout.strip().splitlines()[-1][:4]
                if arch == "static" and not a.no_synth:
                    r, t = etchnn(a.etchnn, "synth", out, "--target", "xilinx")
                    y = json.loads((out / "report.json").read_text()).get("synth") or {}
                    res.update(synth_lut=y.get("lut"), synth_ff=y.get("ff"), synth_s=round(t, 1))
                print(json.dumps(res), flush=True)
                rows.append(res)
    print("\n| model | type | form | compile s | latency | II | LUT est | FF est | Yosys LUT | Yosys FF | Yosys s |"
          " verify |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | `{r['precision']}` | {r['arch']} | {r['compile_s']} | {r['latency']} | {r['ii']} | "
              f"{r['lut_est']:.0f} | {r['ff_est']:.0f} | {r.get('synth_lut', '-')} | {r.get('synth_ff', '-')} | "
              f"{r.get('synth_s', '-')} | {r.get('verify', '-')} |")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
