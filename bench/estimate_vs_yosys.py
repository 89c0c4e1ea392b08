#!/usr/bin/env python3
"""The resource estimate of `etchnn compile` (report.json "estimate") against
Yosys synth_xilinx (`etchnn synth OUT --target xilinx`) on the shared ONNX MLPs
and the bundled jet tagger.  Prints a Markdown table (bench/ESTIMATE.md).

    python3 bench/estimate_vs_yosys.py                 # the default set (~10 min on 2 cores)
    python3 bench/estimate_vs_yosys.py --quick         # the small designs only (~2 min)
    python3 bench/estimate_vs_yosys.py --designs two_layer_keras:6,2 jet_tagger:8,3

ETCHNN selects the binary (default build/etchnn).  Designs are compiled into
--work (default build/estimate/NAME_W); a design whose Verilog is unchanged
since its last synthesis is not synthesized again (--force to redo)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "..", "shared", "models", "onnx")

QUICK = ["two_layer_keras:6,2", "two_layer_keras:8,3", "two_layer_pytorch:6,2", "two_layer_pytorch:8,3"]
DEFAULT = QUICK + ["two_layer_keras:16,6", "three_layer_pytorch:6,2", "three_layer_pytorch:8,3",
                   "three_layer_keras:6,2", "jet_tagger:6,2", "jet_tagger:8,3", "dense_big_keras:6,2"]


def model_path(name):
    for p in (os.path.join(MODELS, name + ".onnx"), os.path.join(ROOT, "examples", name + ".onnx")):
        if os.path.exists(p):
            return p
    return None


def rtl_files(d):
    r = os.path.join(d, "rtl")
    if not os.path.isdir(r):
        return {}
    out = {}
    for f in sorted(os.listdir(r)):
        if f.endswith(".v") or f == "files.f":
            with open(os.path.join(r, f), "rb") as fh:
                out[f] = fh.read()
    return out


def run_design(etchnn, spec, work, force):
    name, prec = spec.split(":")
    src = model_path(name)
    if not src:
        return None, f"{name}: model not found"
    out = os.path.join(work, f"{name}_{prec.split(',')[0]}")
    tmp = tempfile.mkdtemp(prefix="etn_est_")
    try:
        subprocess.run([etchnn, "compile", src, "--precision", f"fixed<{prec}>", "-o", tmp], check=True,
                       capture_output=True, text=True)
        old = None
        if os.path.exists(os.path.join(out, "report.json")):
            with open(os.path.join(out, "report.json")) as f:
                old = json.load(f)
        same = old is not None and rtl_files(tmp) == rtl_files(out) and (old.get("synth") or {}).get("target") == "xilinx"
        if same and not force:
            # the same circuit: keep the synthesis, take the new estimate
            with open(os.path.join(tmp, "report.json")) as f:
                new = json.load(f)
            new["synth"] = old["synth"]
            with open(os.path.join(out, "report.json"), "w") as f:
                json.dump(new, f, indent=1)
        else:
            if os.path.exists(out):
                shutil.rmtree(out)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copytree(tmp, out)
            t0 = time.time()
            print(f"synth {name} fixed<{prec}> ...", file=sys.stderr, flush=True)
            subprocess.run([etchnn, "synth", out, "--target", "xilinx"], check=True, stdout=subprocess.DEVNULL)
            print(f"  {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    return (name, prec, rep), None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--designs", nargs="*", help="MODEL:W,I items (default: the standard set)")
    ap.add_argument("--quick", action="store_true", help="the small designs only")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "estimate"))
    ap.add_argument("--force", action="store_true", help="synthesize again even when the Verilog is unchanged")
    a = ap.parse_args()
    etchnn = os.environ.get("ETCHNN", os.path.join(ROOT, "build", "etchnn"))
    designs = a.designs or (QUICK if a.quick else DEFAULT)
    rows = []
    for spec in designs:
        r, err = run_design(etchnn, spec, a.work, a.force)
        if err:
            print(err, file=sys.stderr)
            continue
        rows.append(r)
    print("| design | precision | estimate LUT | estimate FF | Yosys LUT | Yosys FF | LUT error | FF error | CARRY4 | Yosys s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for name, prec, rep in rows:
        e, s = rep["estimate"], rep["synth"]
        el = 100.0 * (e["lut"] / s["lut"] - 1) if s["lut"] else float("nan")
        ef = 100.0 * (e["ff"] / s["ff"] - 1) if s["ff"] else float("nan")
        worst = max(worst, abs(el), abs(ef))
        print(f"| {name} | fixed<{prec}> | {e['lut']:.0f} | {e['ff']:.0f} | {s['lut']:.0f} | {s['ff']:.0f} | "
              f"{el:+.0f}% | {ef:+.0f}% | {s['carry']:.0f} | {s['seconds']:.0f} |")
    tool = rows[0][2]["synth"]["tools"]["yosys"] if rows else "?"
    print(f"\n{tool}, `synth_xilinx -flatten`; LUT = LUT1..LUT6 (INV cells not counted), FF = FD*. "
          f"Largest error: {worst:.0f}%.")


if __name__ == "__main__":
    main()
