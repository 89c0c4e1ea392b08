#!/usr/bin/env python3
"""Table (ROM) lookups: etchnn's tool-free LUT estimate against Yosys synth_xilinx.

Each design is Input(16) -> Dense(16) -> one table activation (sigmoid, tanh,
softmax) at a precision, with hls4ml's tables (--tables hls4ml: 1024-entry
sigmoid/tanh tables, exp/inverse tables for softmax) or exact ones.  The
activation's module (and the modules it instantiates) is synthesized alone,
`synth_xilinx -flatten -top MODEL_act`; its estimate is the layer's
`lut_estimate` in report.json.  --old BIN adds the estimate of another etchnn
binary (e.g. one built before a change to src/hw/estimate.c) as a column.

    make && python3 bench/rom_estimate.py [--old build/old/etchnn] [--work DIR] [--yosys yosys]
"""
import argparse
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DESIGNS = [(act, prec, tables) for tables in ("hls4ml", "exact")
           for act in (("sigmoid", "tanh", "softmax") if tables == "hls4ml" else ("sigmoid", "tanh"))   # no exact
           for prec in ("fixed<8,3>", "fixed<12,4>", "fixed<16,6>")]                                # softmax RTL


def model(path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    keras.utils.set_random_seed(3)
    out = {}
    for act in ("sigmoid", "tanh", "softmax"):
        inp = keras.Input((16,))
        m = keras.Model(inp, keras.layers.Activation(act, name="act")(keras.layers.Dense(16, name="d")(inp)))
        p = path / f"{act}.keras"
        m.save(p)
        out[act] = p
    return out


def estimate(exe, src, prec, tables, out):
    r = subprocess.run([str(exe), "compile", str(src), "--precision", prec, "--tables", tables, "-o", str(out)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"
    layers = json.loads((out / "report.json").read_text())["layers"]
    return sum(layer["lut_estimate"] for layer in layers if layer["name"] == "act"), None


def yosys_luts(yosys, rtl, top):
    """LUT1-6 of synth_xilinx on module TOP; reused while the Verilog is unchanged (stat.txt keeps its hash)."""
    files = [ln.strip() for ln in (rtl / "files.f").read_text().splitlines() if ln.strip()]
    h = hashlib.sha256(b"".join((rtl / f).read_bytes() for f in files)).hexdigest()
    stat = rtl.parent / "yosys_stat.txt"
    if not (stat.exists() and stat.read_text().startswith(h)):
        script = f"read_verilog {' '.join(files)}; synth_xilinx -flatten -top {top}; tee -o stat.txt stat"
        r = subprocess.run([yosys, "-q", "-p", script], cwd=rtl, capture_output=True, text=True)
        if r.returncode != 0:
            return None
        stat.write_text(h + "\n" + (rtl / "stat.txt").read_text())
    return sum(int(n) for n in re.findall(r"^\s+LUT\d\s+(\d+)", stat.read_text(), re.M))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--etchnn", default=str(ROOT / "build" / "etchnn"))
    ap.add_argument("--old", help="a second etchnn binary whose estimate is shown beside")
    ap.add_argument("--yosys", default=shutil.which("yosys") or "yosys")
    ap.add_argument("--work", help="keep the designs here (default: a temporary directory)")
    a = ap.parse_args()
    work = pathlib.Path(a.work or tempfile.mkdtemp(prefix="rom_estimate_"))
    work.mkdir(parents=True, exist_ok=True)
    srcs = model(work)
    print(f"| activation | type | tables | Yosys LUT | estimate | / Yosys |{' old estimate | / Yosys |' if a.old else ''}")
    print(f"|---|---|---|---:|---:|---:|{'---:|---:|' if a.old else ''}")
    ratios, old_ratios = [], []
    for act, prec, tables in DESIGNS:
        d = work / f"{act}_{re.sub(r'[^0-9]+', '_', prec).strip('_')}_{tables}"
        est, err = estimate(a.etchnn, srcs[act], prec, tables, d)
        if est is None:
            print(f"| {act} | `{prec}` | {tables} | - | {err or 'no act module'} | |")
            continue
        y = yosys_luts(a.yosys, d / "rtl", f"{act}_act")
        row = f"| {act} | `{prec}` | {tables} | {y} | {est:.0f} | {est / y:.2f}x |" if y else \
            f"| {act} | `{prec}` | {tables} | failed | {est:.0f} | |"
        if y:
            ratios.append(est / y)
        if a.old:
            old, _ = estimate(a.old, srcs[act], prec, tables, work / "old" / d.name)
            row += f" {old:.0f} | {old / y:.2f}x |" if old is not None and y else " - | |"
            if old is not None and y:
                old_ratios.append(old / y)
        print(row, flush=True)
    if ratios:
        print(f"\nestimate / Yosys: {min(ratios):.2f}x to {max(ratios):.2f}x over {len(ratios)} designs"
              + (f"; old estimate: {min(old_ratios):.2f}x to {max(old_ratios):.2f}x" if old_ratios else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
