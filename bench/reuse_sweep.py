#!/usr/bin/env python3
"""ReuseFactor sweep: II, latency, estimate and Yosys synth_xilinx counts of folded
circuits (issue 11) for R in {1, 2, 4, 8, 16, 32, 64}, Strategy Latency and Resource,
--multipliers dsp (and csd for the jet tagger).  Prints a Markdown table and writes
bench/REUSE.md (table + machine load + commit; the analysis text is kept from the
existing file between the markers).

    python3 bench/reuse_sweep.py [ETCHNN] [--quick] [--timeout S] [--budget S]
    python3 bench/reuse_sweep.py [ETCHNN] --fit-only [--fit-synth S]
    python3 bench/reuse_sweep.py [ETCHNN] --quick --only jet16:Resource:dsp:4,16 jet6:*:dsp:64 ...

--only SPEC ... synthesizes just the designs that match a SPEC, in the order of the
SPECs (model:strategy:mult:R, model jet16/jet6/dense8, R a comma list, "*" any);
every design is still compiled, and the others keep an earlier synthesis from --work
or read "not run".  --verify SPEC ... picks the designs Verilator checks (default:
jet16 dsp at R = 4 and 16, both strategies).

--fit-only compiles the FITS list (jet tagger on xc7z020 and xczu9eg, dense200 on
xcvu13p, all --fit 0.5) and writes their table between the "fit table" markers of
bench/REUSE.md (Yosys on the jet tagger ones with --fit-synth S).

Models: examples/jet_tagger.onnx at fixed<16,6> and with 6-bit weights (per layer
fixed<6,I,RND,SAT>, I the smallest that holds the layer's weights, the rest
fixed<16,6>), ../shared/models/keras/KERAS_dense_16x200x200x200x200x200x5 at
fixed<8,3>.  Every design is compiled (cheap); Yosys runs one at a time, each
stopped after --timeout (a TIMEOUT row); designs whose multiplier count is above
--max-mult are not synthesized (a "skipped" row: Yosys would not finish within the
timeout; R=1 of the 165k-multiplication dense model is one).  --budget caps the
total Yosys time: later designs get a "budget" row.  A design whose Verilog is
unchanged since its last synthesis in --work keeps that synthesis (--force redoes
it), so an interrupted sweep resumes.  Verilator (`etchnn verify --n 2000`) checks
the jet tagger at R = 4 and 16, both strategies (dsp), beside the Yosys runs.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JET = os.path.join(ROOT, "examples", "jet_tagger.onnx")
DENSE = os.path.join(ROOT, "..", "shared", "models", "keras", "KERAS_dense_16x200x200x200x200x200x5.json")
DENSE_W = DENSE.replace(".json", "_weights.h5")
RS = [1, 2, 4, 8, 16, 32, 64]
# 6-bit weights: the smallest integer bits per layer that hold its largest |weight| (as bench/vs_da4ml.py)
JET_W6 = {"fc1": "fixed<6,2,RND,SAT>", "fc2": "fixed<6,1,RND,SAT>", "fc3": "fixed<6,2,RND,SAT>",
          "output": "fixed<6,1,RND,SAT>"}
VERIFY = {("jet16", "Latency", "dsp", 4), ("jet16", "Resource", "dsp", 4),
          ("jet16", "Latency", "dsp", 16), ("jet16", "Resource", "dsp", 16)}


def config_text(model, strategy, r):
    if model == "dense8":
        return f"Model:\n  ReuseFactor: {r}\n  Strategy: {strategy}\n  Precision: fixed<8,3>\n"
    s = f"Model:\n  ReuseFactor: {r}\n  Strategy: {strategy}\n  Precision: fixed<16,6>\n"
    if model == "jet6":
        s += "LayerName:\n"
        for name, t in JET_W6.items():
            s += f"  {name}:\n    Precision:\n      weight: '{t}'\n"
    return s


def cases(quick):
    out = []
    models = ["jet16", "jet6"] if quick else ["jet16", "jet6", "dense8"]
    for model in models:
        for mult in (["dsp", "csd"] if model != "dense8" else ["dsp"]):
            for strategy in ("Latency", "Resource"):
                for r in RS:
                    out.append((model, strategy, mult, r))
    return out


def parse_specs(specs):
    """["jet16:Resource:dsp:4,16", ...] -> list of (model, strategy, mult, set of R or None)"""
    out = []
    for spec in specs:
        f = spec.split(":")
        if len(f) != 4:
            raise SystemExit(f"bad spec {spec!r}: want model:strategy:mult:R (R a comma list, '*' any)")
        rs = None if f[3] == "*" else {int(x) for x in f[3].split(",")}
        out.append((f[0], f[1], f[2], rs))
    return out


def spec_index(c, specs):
    """index of the first spec that matches case c, or None"""
    for i, (m, st, mu, rs) in enumerate(specs):
        if m in ("*", c[0]) and st in ("*", c[1]) and mu in ("*", c[2]) and (rs is None or c[3] in rs):
            return i
    return None


def priority(c, quick):
    """synthesis order: the cheap, most informative designs first (large R, dsp, 16-bit)"""
    model, strategy, mult, r = c
    return ({"jet16": 0, "jet6": 1, "dense8": 2}[model], mult != "dsp", r == 1, -r, strategy)


def rtl_hash(d):
    h = hashlib.sha256()
    r = os.path.join(d, "rtl")
    if not os.path.isdir(r):
        return None
    for f in sorted(os.listdir(r)):
        if f.endswith(".v") and not f.startswith("tb_"):
            h.update(f.encode())
            with open(os.path.join(r, f), "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def etchnn_run(etchnn, args, **kw):
    for _ in range(60):  # others rebuild build/etchnn: wait for it to come back
        if os.path.exists(etchnn):
            break
        time.sleep(5)
    return subprocess.run([etchnn] + args, **kw)


def compile_case(etchnn, c, work):
    model, strategy, mult, r = c
    name = f"{model}_{strategy}_{mult}_R{r}"
    d = os.path.join(work, name)
    tmp = d + ".new"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    os.makedirs(os.path.join(work, "cfg"), exist_ok=True)
    cfg = os.path.join(work, "cfg", name + ".yml")  # a stable path: verify reloads it
    with open(cfg, "w") as f:
        f.write(config_text(model, strategy, r))
    src = DENSE if model == "dense8" else JET
    args = ["compile", src, "-c", cfg, "-o", tmp, "--multipliers", mult]
    if model == "dense8":
        args += ["--weights", DENSE_W]
    t0 = time.time()
    p = etchnn_run(etchnn, args, capture_output=True, text=True)
    secs = time.time() - t0
    if p.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return name, d, None, secs, (p.stderr.strip().splitlines() or ["?"])[-1]
    # keep an earlier synthesis of the same Verilog
    old = os.path.join(d, "report.json")
    with open(os.path.join(tmp, "report.json")) as f:
        rep = json.load(f)
    if os.path.exists(old) and rtl_hash(d) == rtl_hash(tmp):
        with open(old) as f:
            o = json.load(f)
        if (o.get("synth") or {}).get("target") == "xilinx":
            rep["synth"] = o["synth"]
        for k in ("sweep_synth", "sweep_verify"):
            if k in o:
                rep[k] = o[k]
    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)
    with open(os.path.join(d, "report.json"), "w") as f:
        json.dump(rep, f, indent=1)
    return name, d, rep, secs, None


def save(d, rep):
    with open(os.path.join(d, "report.json")) as f:
        cur = json.load(f)
    for k in ("sweep_synth", "sweep_verify"):
        if k in rep:
            cur[k] = rep[k]
    with open(os.path.join(d, "report.json"), "w") as f:
        json.dump(cur, f, indent=1)


def synth(etchnn, d, timeout):
    t0 = time.time()
    p = etchnn_run(etchnn, ["synth", d, "--target", "xilinx", "--timeout", str(timeout)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    secs = time.time() - t0
    with open(os.path.join(d, "report.json")) as f:
        rep = json.load(f)
    s = rep.get("synth") or {}
    if p.returncode == 0 and s.get("target") == "xilinx" and "lut" in s:
        return {"status": "ok", "seconds": secs}
    tail = (p.stderr.strip().splitlines() or [""])[-1]
    st = "TIMEOUT" if secs >= timeout - 5 or "timeout" in tail.lower() or "time" in tail.lower() else "FAIL"
    return {"status": st, "seconds": secs, "message": tail[:200]}


def verify(etchnn, d):
    t0 = time.time()
    p = etchnn_run(etchnn, ["verify", d, "--n", "2000"], capture_output=True, text=True)
    last = (p.stdout.strip().splitlines() or p.stderr.strip().splitlines() or [""])[-1]
    return {"status": "PASS" if p.returncode == 0 else "FAIL", "seconds": time.time() - t0, "message": last[:200]}


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def fmt(v):
    if v is None or v == "":
        return "–"
    if isinstance(v, float):
        return f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


LABEL = {"jet16": "jet fixed<16,6>", "jet6": "jet w6", "dense8": "dense200 fixed<8,3>"}


def table(rows):
    out = ["| model | strategy | mult | R | compile ms | II | latency | mults | multipliers | est LUT | est FF | "
           "est DSP | ROM bits | Yosys LUT | Yosys FF | Yosys DSP | RAMB18/36 | Yosys s | verify |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    nmul = {}
    for c, rep, _, _ in rows:
        if rep and any(l.get("multiplications") for l in rep["layers"]):
            nmul[c[0]] = sum(l.get("multiplications", 0) for l in rep["layers"] if l.get("reuse_factor"))
    for c, rep, csecs, err in rows:
        model, strategy, mult, r = c
        if rep is None:
            out.append(f"| {LABEL[model]} | {strategy} | {mult} | {r} | compile failed: {err} |" + " |" * 14)
            continue
        L = [l for l in rep["layers"] if l.get("reuse_factor") is not None and l.get("multiplications")]
        mults = nmul.get(model)
        nm = sum(l["multipliers"] for l in L) if L else "const"
        rom = sum(l.get("rom_bits", 0) for l in rep["layers"])
        e = rep["estimate"]
        ss = rep.get("sweep_synth") or {}
        s = rep.get("synth") if ss.get("status") == "ok" else None
        if s:
            cells = s.get("cells", {})
            bram = f"{cells.get('RAMB18E1', 0)}/{cells.get('RAMB36E1', 0)}"
            ys = [fmt(s.get("lut")), fmt(s.get("ff")), fmt(s.get("dsp")), bram, fmt(ss.get("seconds"))]
        else:
            st = ss.get("status", "not run")
            if st in ("TIMEOUT", "FAIL"):
                st = f"{st} ({ss.get('seconds', 0):.0f} s)"
            ys = [st, "", "", "", ""]
        v = rep.get("sweep_verify", {}).get("status", "")
        out.append(f"| {LABEL[model]} | {strategy} | {mult} | {r} | {csecs * 1000:.0f} | {rep['ii']} | "
                   f"{rep['latency_cycles']} | {fmt(mults)} | {fmt(nm)} | {fmt(e['lut'])} | {fmt(e['ff'])} | "
                   f"{fmt(e['dsp'])} | {fmt(rom)} | " + " | ".join(ys) + f" | {v} |")
    return "\n".join(out)


FITS = [  # (label, model args, part): --fit 0.5 (bench/REUSE.md, "--fit")
    ("jet fixed<16,6>", [JET, "--precision", "fixed<16,6>"], "xc7z020"),
    ("jet fixed<16,6>", [JET, "--precision", "fixed<16,6>"], "xczu9eg"),
    ("dense200 fixed<8,3>", [DENSE, "--weights", DENSE_W, "--precision", "fixed<8,3>"], "xcvu13p-flga2577-2-e"),
]


def fit_runs(etchnn, work, synth_timeout, fraction=0.5):
    """compile each FITS entry with --part P --fit F; Yosys (7-series cells) on the jet tagger ones
    when synth_timeout > 0.  Returns a Markdown table."""
    out = ["| model | part | compile s | builds | II | latency | per layer R/kind | est LUT | est FF | est DSP | "
           "est BRAM | util LUT/FF/DSP/BRAM | Yosys LUT | Yosys FF | Yosys DSP | RAMB18/36 | Yosys s |",
           "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for label, margs, part in FITS:
        d = os.path.join(work, "fit", ("dense200_" if "dense" in label else "jet16_") + part)
        shutil.rmtree(d, ignore_errors=True)
        t0 = time.time()
        p = etchnn_run(etchnn, ["compile"] + margs + ["--part", part, "--fit", str(fraction), "-o", d],
                       capture_output=True, text=True)
        secs = time.time() - t0
        if p.returncode != 0:
            out.append(f"| {label} | {part} | {secs:.1f} | compile failed: "
                       f"{(p.stderr.strip().splitlines() or ['?'])[-1][:120]} |" + " |" * 13)
            continue
        with open(os.path.join(d, "report.json")) as f:
            rep = json.load(f)
        f_ = rep.get("fit") or {}
        kinds = {"dsp": "d", "logic": "l", "csd": "c"}
        per = " ".join(f"{l['reuse_factor']}{kinds.get(l['multipliers'], l['multipliers'])}" for l in f_.get("layers", []))
        e, u = rep["estimate"], (rep.get("part") or {}).get("utilization", {})
        util = "/".join(f"{100 * u.get(k, 0):.0f}%" for k in ("lut", "ff", "dsp", "bram"))
        ys = ["not run", "", "", "", ""]
        if synth_timeout > 0 and "dense" not in label:
            print(f"synth {os.path.basename(d)} (load {load()}) ...", file=sys.stderr, flush=True)
            s = synth(etchnn, d, synth_timeout)
            if s["status"] == "ok":
                with open(os.path.join(d, "report.json")) as f:
                    sy = json.load(f)["synth"]
                c = sy.get("cells", {})
                ys = [fmt(sy.get("lut")), fmt(sy.get("ff")), fmt(sy.get("dsp")),
                      f"{c.get('RAMB18E1', 0)}/{c.get('RAMB36E1', 0)}", fmt(s["seconds"])]
            else:
                ys = [f"{s['status']} ({s['seconds']:.0f} s)", "", "", "", ""]
            print(f"  {ys[0]}", file=sys.stderr, flush=True)
        out.append(f"| {label} | {part} | {secs:.2f} | {f_.get('builds', '')} | {rep['ii']} | {rep['latency_cycles']} | "
                   f"{per} | {fmt(e['lut'])} | {fmt(e['ff'])} | {fmt(e['dsp'])} | {fmt(e.get('bram'))} | {util} | "
                   + " | ".join(ys) + " |")
    return "\n".join(out)


def replace_block(md, begin, end, block, fallback_after=None):
    text = ""
    if os.path.exists(md):
        with open(md) as f:
            text = f.read()
    block = f"{begin}\n{block}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(md, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("etchnn", nargs="?", default=os.environ.get("ETCHNN", os.path.join(ROOT, "build", "etchnn")))
    ap.add_argument("--quick", action="store_true",
                    help="jet tagger only; synthesized: fixed<16,6> dsp at R in {64, 16, 4}, then csd and "
                         "6-bit weights at R >= 16 (use --budget)")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "reuse"))
    ap.add_argument("--timeout", type=int, default=900, help="Yosys seconds per design (default 900)")
    ap.add_argument("--budget", type=int, default=0, help="total Yosys seconds, 0: none")
    ap.add_argument("--max-mult", type=int, default=3000,
                    help="do not synthesize designs with more multipliers (default 3000)")
    ap.add_argument("--force", action="store_true", help="synthesize again even when the Verilog is unchanged")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--md", default=os.path.join(ROOT, "bench", "REUSE.md"))
    ap.add_argument("--fit-only", action="store_true",
                    help="only the --part/--fit compiles (FITS); Yosys on the jet tagger ones with --fit-synth S")
    ap.add_argument("--fit-synth", type=int, default=0, help="Yosys timeout (s) for the --fit jet tagger designs")
    ap.add_argument("--only", nargs="+", metavar="SPEC",
                    help="synthesize only these designs, in this order: model:strategy:mult:R "
                         "(e.g. jet16:Resource:dsp:4,16 or jet6:*:csd:64; R a comma list, '*' any)")
    ap.add_argument("--verify", nargs="+", metavar="SPEC",
                    help="Verilator-check these designs (same SPEC form; default jet16 dsp R 4 and 16)")
    a = ap.parse_args()
    etchnn = os.path.abspath(a.etchnn)
    os.makedirs(a.work, exist_ok=True)
    load0 = load()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    yosys = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()
    if a.fit_only:
        t = fit_runs(etchnn, a.work, a.fit_synth)
        print(t)
        head = (f"Run: etchnn `{commit}` (build/etchnn of {time.strftime('%Y-%m-%d %H:%M', time.gmtime(os.path.getmtime(etchnn)))} UTC), "
                f"`--fit 0.5`; Yosys {'timeout %d s' % a.fit_synth if a.fit_synth else 'not run'}; "
                f"load average at start {load0}, at end {load()} (2 cores, shared).\n")
        replace_block(a.md, "<!-- fit table: begin -->", "<!-- fit table: end -->", head + "\n" + t)
        return

    cs = cases(a.quick)
    rows = {}
    for c in cs:
        name, d, rep, secs, err = compile_case(etchnn, c, a.work)
        rows[c] = [d, rep, secs, err]
        print(f"compiled {name}: {secs * 1000:.0f} ms" + (f" FAILED {err}" if err else ""), file=sys.stderr)

    # Verilator beside Yosys (a different tool; Yosys itself runs one at a time)
    vset = sorted(VERIFY)
    if a.verify:
        vs = parse_specs(a.verify)
        vset = sorted((c for c in cs if spec_index(c, vs) is not None), key=lambda c: spec_index(c, vs))

    def verifier():
        for c in vset:
            if c not in rows or rows[c][1] is None:
                continue
            d, rep = rows[c][0], rows[c][1]
            if rep.get("sweep_verify", {}).get("status") == "PASS" and not a.force:
                continue
            v = verify(etchnn, d)
            rep["sweep_verify"] = v
            save(d, rep)
            print(f"verify {os.path.basename(d)}: {v['status']} ({v['seconds']:.0f} s) {v['message']}",
                  file=sys.stderr)
    vt = threading.Thread(target=verifier)
    vt.start()

    spent = 0.0
    order = sorted(cs, key=lambda c: priority(c, a.quick))
    if a.quick:
        # jet16 dsp at R = 64, 16, 4 first, then csd / 6-bit-weight rows at R >= 16 while the budget lasts
        order = [c for c in order if c[0] != "dense8" and (c[3] in (4, 16, 64) if (c[0], c[2]) == ("jet16", "dsp")
                                                           else c[3] >= 16)]
    if a.only:
        specs = parse_specs(a.only)
        order = sorted((c for c in cs if spec_index(c, specs) is not None),
                       key=lambda c: (spec_index(c, specs), priority(c, a.quick)))
    done = {}  # Verilog hash -> a synthesized design (Strategy Resource at R=1 is Latency's circuit)
    for c in order:
        d, rep, _, err = rows[c]
        if rep is None or a.no_synth:
            continue
        nm = sum(l.get("multipliers", 0) for l in rep["layers"] if l.get("reuse_factor") is not None)
        h = rtl_hash(d)
        if (rep.get("sweep_synth") or {}).get("status") == "ok" and rep.get("synth") and not a.force:
            done[h] = rep
            continue
        if h in done:
            rep["synth"], rep["sweep_synth"] = done[h]["synth"], dict(done[h]["sweep_synth"], same_as=True)
            save(d, rep)
            with open(os.path.join(d, "report.json")) as f:
                cur = json.load(f)
            cur["synth"] = rep["synth"]
            with open(os.path.join(d, "report.json"), "w") as f:
                json.dump(cur, f, indent=1)
            continue
        if nm > a.max_mult:
            rep["sweep_synth"] = {"status": f"skipped: {nm:,} multipliers > {a.max_mult:,}"}
            save(d, rep)
            continue
        if a.budget and spent >= a.budget:
            rep["sweep_synth"] = {"status": "not run (budget)"}
            save(d, rep)
            continue
        print(f"synth {os.path.basename(d)} (load {load()}) ...", file=sys.stderr, flush=True)
        t = a.timeout if not a.budget else max(60, min(a.timeout, int(a.budget - spent)))
        s = synth(etchnn, d, t)
        spent += s["seconds"]
        with open(os.path.join(d, "report.json")) as f:
            rep.update({k: v for k, v in json.load(f).items() if k == "synth"})
        rep["sweep_synth"] = s
        save(d, rep)
        rows[c][1] = rep
        if s["status"] == "ok":
            done[h] = rep
        print(f"  {s['status']} {s['seconds']:.0f} s", file=sys.stderr, flush=True)
    vt.join()

    # reload (verify results were saved by the other thread)
    final = []
    for c in cs:
        d, rep, secs, err = rows[c]
        if rep is not None:
            with open(os.path.join(d, "report.json")) as f:
                rep = json.load(f)
        final.append((c, rep, secs, err))
    t = table(final)
    print(t)
    load1 = load()
    head = (f"Run: etchnn `{commit}`, {yosys} `synth_xilinx -flatten` (via `etchnn synth --target xilinx`), "
            f"{'--quick, ' if a.quick else ''}{'--only ' + ' '.join(a.only) + ', ' if a.only else ''}"
            f"Yosys timeout {a.timeout} s"
            f"{', budget %d s' % a.budget if a.budget else ''}; load average (1/5/15 min) at start {load0}, "
            f"at end {load1} (2 cores, shared).\n")
    begin, end = "<!-- sweep table: begin -->", "<!-- sweep table: end -->"
    text = ""
    if os.path.exists(a.md):
        with open(a.md) as f:
            text = f.read()
    block = f"{begin}\n{head}\n{t}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = "# ReuseFactor sweep\n\n" + block + "\n" + text
    with open(a.md, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
