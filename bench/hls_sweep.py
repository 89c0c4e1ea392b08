"""Every shared model through the HLS C++ back end: for each model that
`etchnn compile --emit c` accepts, compile with `--emit c,hls`, build the
project's C simulation with g++ against hls4ml's ap_types headers, run N
random events (fewer for large inputs: about 400k input values in all) and
compare every output with `etchnn predict`, exactly.
Prints one line per model (ok / refused by --hls / differs / C back end
refuses / TIMEOUT) with the g++ time (wall seconds, peak MB) and the load
average when g++ started, then a summary and the same rows as a Markdown
table (bench/README.md).  Usage: python3 bench/hls_sweep.py [ETCHNN] [N] [SUBSTRING]
(SUBSTRING: only the models whose path contains it, e.g. keras).  A g++ over
GXX_TIMEOUT seconds (default 600) is killed with its cc1plus and is a TIMEOUT row."""
import glob
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

import numpy as np

GXX_TIMEOUT = int(os.environ.get("GXX_TIMEOUT", "600"))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ETCHNN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "etchnn")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "models")


def ap_types():
    import hls4ml
    return os.path.join(os.path.dirname(hls4ml.__file__), "templates", "vivado", "ap_types")


def models():
    out = [os.path.join(ROOT, "examples", "jet_tagger.onnx")]
    out += sorted(glob.glob(os.path.join(SHARED, "onnx", "*.onnx")))
    out += sorted(glob.glob(os.path.join(SHARED, "qonnx", "*.onnx")))
    out += sorted(p for p in glob.glob(os.path.join(SHARED, "keras", "*.json")))
    out += sorted(glob.glob(os.path.join(SHARED, "qkeras", "*.json"))) + sorted(glob.glob(os.path.join(SHARED, "qkeras", "*.keras")))
    out += sorted(glob.glob(os.path.join(SHARED, "hgq", "*.h5")))
    return out


def run(*a, **kw):
    return subprocess.run([str(x) for x in a], capture_output=True, text=True, **kw)


def gxx(argv, timeout):
    """g++ under /usr/bin/time in its own process group (a timeout kills cc1plus too);
    returns (CompletedProcess, wall seconds, peak MB or None)."""
    timed = os.path.exists("/usr/bin/time")
    cmd = (["/usr/bin/time", "-f", "ETN_TIME %e %M"] if timed else []) + [str(x) for x in argv]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.communicate()
        raise subprocess.TimeoutExpired("g++", timeout) from None
    sec, mb = time.time() - t0, None
    lines = err.splitlines()
    if timed and lines and lines[-1].startswith("ETN_TIME "):
        sec, mb = float(lines[-1].split()[1]), int(lines[-1].split()[2]) // 1024
        err = "\n".join(lines[:-1])
    return subprocess.CompletedProcess(cmd, p.returncode, out, err), sec, mb


def one(m, name, inc, rows):
    with tempfile.TemporaryDirectory() as tmp:
        r = run(ETCHNN, "compile", m, "-o", f"{tmp}/c", "--emit", "c", timeout=600)
        if r.returncode != 0:
            rows.append((name, "C back end refuses", r.stderr.strip().splitlines()[-1][:140]))
            return
        r = run(ETCHNN, "compile", m, "-o", f"{tmp}/o", "--emit", "c,hls", timeout=600)
        if r.returncode != 0:
            rows.append((name, "refused by --emit hls", r.stderr.strip().splitlines()[-1][:140]))
            return
        hls = f"{tmp}/o/hls"
        nm = os.path.basename(glob.glob(f"{hls}/firmware/*.cpp")[0])[:-4]
        h = open(f"{hls}/firmware/{nm}.h").read()
        nin = int(h.split("#define N_INPUT ")[1].split()[0])
        n_ev = max(2, min(N, 400_000 // nin))   # large images: a C simulation of one 256x256x3 event takes ~90 s
        x = np.random.default_rng(1).standard_normal((n_ev, nin)) * 2
        os.makedirs(f"{hls}/tb_data", exist_ok=True)
        np.savetxt(f"{hls}/tb_data/tb_input_features.dat", x, fmt="%.17g")
        load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
        try:
            b, sec, mb = gxx(["g++", "-std=c++14", "-O1", "-Wall", "-Werror", "-isystem", inc, "-I", f"{hls}/firmware",
                              f"{hls}/{nm}_test.cpp", f"{hls}/firmware/{nm}.cpp", "-o", f"{hls}/t"], GXX_TIMEOUT)
        except subprocess.TimeoutExpired:
            rows.append((name, "TIMEOUT", f"g++ over {GXX_TIMEOUT} s (load {load})"))
            return
        gt = f"g++ {sec:.1f} s" + (f", {mb} MB" if mb is not None else "") + f" (load {load})"
        if b.returncode != 0:
            rows.append((name, "g++ FAILED", gt + ": " + b.stderr.strip()[:200]))
            return
        t = run(f"{hls}/t", cwd=hls, timeout=600)
        if t.returncode != 0:
            rows.append((name, "C simulation FAILED", f"exit status {t.returncode}: {t.stderr.strip()[-140:]}; {gt}"))
            return
        got = [[Decimal(v) for v in l.split()] for l in open(f"{hls}/tb_data/csim_results.log") if l.strip()]
        r = run(ETCHNN, "predict", m, "--input", f"{hls}/tb_data/tb_input_features.dat", timeout=600)
        ref = [[Decimal(v) for v in l.split()] for l in r.stdout.splitlines() if l.strip()]
        diff = sum(a != b for ga, ra in zip(got, ref) for a, b in zip(ga, ra)) + abs(len(got) - len(ref))
        rows.append((name, "ok" if diff == 0 and got else "DIFFERS", f"{n_ev} events, {diff} outputs differ; {gt}"))


def main():
    inc = ap_types()
    rows, t0 = [], time.time()
    only = sys.argv[3] if len(sys.argv) > 3 else ""
    for m in (m for m in models() if only in m):
        name = os.path.relpath(m, os.path.dirname(ROOT))
        try:
            one(m, name, inc, rows)
        except subprocess.TimeoutExpired as e:
            rows.append((name, "TIMEOUT", f"{e.cmd[0]} took more than {e.timeout} s"))
        print(f"{rows[-1][0]:60s} {rows[-1][1]:24s} {rows[-1][2]}", flush=True)
    ok = sum(r[1] == "ok" for r in rows)
    handled = sum(r[1] != "C back end refuses" for r in rows)
    print(f"\n{ok} of {handled} models the C back end handles equal `etchnn predict` bit for bit through --emit hls "
          f"({len(rows)} models in all, {time.time() - t0:.0f} s; load: {os.getloadavg()[0]:.1f})")
    print("\n| model | result | details |\n|---|---|---|")
    for r in rows:
        print(f"| `{r[0]}` | {r[1]} | {r[2].replace('|', '/')} |")
    return 0 if all(r[1] in ("ok", "C back end refuses", "refused by --emit hls") for r in rows) else 1
    # TIMEOUT (g++ over 10 minutes on one project) counts as a failure: the project is not usable as it is


if __name__ == "__main__":
    sys.exit(main())
