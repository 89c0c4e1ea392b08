"""Sweep throughput on this machine: points per minute of etchnn.sweep over
examples/sweep.yml (24 points) on examples/jet_tagger.onnx, scored on 2,000
random events: serially, with 2 worker processes, and on a local Dask
cluster of 2 worker processes (its start-up timed apart).  Prints a Markdown
table row per mode and the load average.

    PYTHONPATH=python python3 bench/sweep_throughput.py [--repeat 2]"""
import argparse
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
os.environ.setdefault("PYTHONPATH", str(ROOT / "python"))

import etchnn  # noqa: E402

MODEL = ROOT / "examples" / "jet_tagger.onnx"
SPACE = ROOT / "examples" / "sweep.yml"


def timed(label, fn, repeat):
    best = None
    for _ in range(repeat):
        t0 = time.time()
        res = fn()
        dt = time.time() - t0
        best = dt if best is None else min(best, dt)
    n = len(res)
    print(f"| {label} | {n} | {best:.1f} s | {60 * n / best:.0f} | {os.getloadavg()[0]:.1f} |", flush=True)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    x = np.random.default_rng(0).standard_normal((2000, 16))
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}, {os.cpu_count()} cores")
    print("| mode | points | time (best of %d) | points/min | load (1 min) |" % args.repeat)
    print("|---|---|---|---|---|")
    kw = dict(x=x, metric="accuracy")
    serial = timed("serial", lambda: etchnn.sweep(MODEL, SPACE, workers=1, **kw), args.repeat)
    timed("workers=2 (process start included)", lambda: etchnn.sweep(MODEL, SPACE, workers=2, **kw), args.repeat)
    try:
        from distributed import LocalCluster
    except ImportError:
        print("| Dask | skipped: dask.distributed not installed |")
        return
    t0 = time.time()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        print(f"(Dask LocalCluster start-up: {time.time() - t0:.1f} s, not counted)")
        res = timed("Dask, 2 worker processes", lambda: etchnn.sweep(MODEL, SPACE, cluster=cl.scheduler_address, **kw),
                    args.repeat)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]  # noqa: E731
    print(f"Dask records equal the serial ones: {strip(res) == strip(serial)}")
    per = sorted(r["seconds"] for r in serial)
    print(f"per point (serial): median {per[len(per) // 2]:.3f} s, max {per[-1]:.3f} s")


if __name__ == "__main__":
    main()
