#!/usr/bin/env python3
"""etchnn against da4ml (and hls4ml's front half) on the jet tagger with
6-bit weights and 8-bit activations, in one run:

  1. Quantize examples/jet_tagger.onnx once: weights and biases to fixed<6,I>
     with the smallest I per layer that holds the layer's largest |weight|
     (round to nearest, saturate), written as exactly representable floats
     into a copy of the model without the softmax (da4ml has none; the
     comparison is the dense/relu stack).  Both tools get these integers.
  2. Model to Verilog, whole process, best of --repeats, interleaved:
     `etchnn compile` (quantized ONNX + config), da4ml's Python flow
     (quantized weights -> trace -> comb_trace -> VerilogModel.write) and
     hls4ml 1.3 (import + convert_from_onnx_model + write of the HLS project,
     no HLS synthesis).
  3. Same function: etchnn predict against da4ml's bit-exact interpreter
     (CombLogic.predict) on --n random input codes plus the 1000 example
     inputs; with --rtl-sim also `etchnn verify` (Verilator, etchnn's RTL)
     and da4ml's Verilog streamed under Icarus, one vector per clock.
  4. Both designs through the same Yosys script as `etchnn synth --target
     xilinx` (read_verilog; synth_xilinx -flatten; stat -json), run
     concurrently: LUT (LUT1-6), FF, CARRY4, DSP, and the latency in cycles
     (register levels from the input port to the output port).

Types (etchnn config / da4ml quantizers):
  input  fixed<8,3>                     quantize(x, 1, 2, 5)
  dense  accum auto (exact), result fixed<32,16> (holds every exact sum)
  relu   ufixed<8,4,TRN,SAT>            quantize(relu(y), 0, 4, 4, 'SAT', 'TRN')
  output fixed<8,5,TRN,SAT>             quantize(y, 1, 4, 3, 'SAT', 'TRN')
da4ml uses its command line's defaults for a 5 ns clock: HWConfig(1, -1, -1),
hard_dc=2, latency_cutoff=5; etchnn uses --clock-mhz 200.

    make BUILD=build/bench && python3 bench/vs_da4ml.py [--rtl-sim] [--etchnn build/bench/etchnn]
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "jet_tagger.onnx"
EXAMPLES = ROOT / "examples" / "jet_tagger_inputs.dat"
LAYERS = ["fc1", "fc2", "fc3", "output"]
W_BITS = 6
IN_KIF = (1, 2, 5)             # fixed<8,3>
RELU_KIF = (0, 4, 4)           # ufixed<8,4,TRN,SAT>
OUT_KIF = (1, 4, 3)            # fixed<8,5,TRN,SAT>
CLOCK_MHZ = 200
DA_HWCONF = (1, -1, -1)        # da4ml CLI defaults (`da4ml convert`): --hw-config, -dc, -lc, -c
DA_HARD_DC = 2
DA_LATENCY_CUTOFF = 5


def kif_type(k, i, f, tail=""):
    return f"{'fixed' if k else 'ufixed'}<{k + i + f},{k + i}{tail}>"


# ---- 1. one quantization for both tools ------------------------------------------------

def weight_int_bits(w):
    """Smallest I such that fixed<6,I> holds max|w| after rounding."""
    for i in range(-8, 9):
        f = W_BITS - i
        codes = np.rint(w * 2.0 ** f)
        if codes.max() <= 2 ** (W_BITS - 1) - 1 and codes.min() >= -(2 ** (W_BITS - 1)):
            return i
    raise ValueError("weights out of range")


def prepare(work):
    import onnx
    from onnx import helper, numpy_helper as nh

    m = onnx.load(str(MODEL))
    g = m.graph
    init = {t.name: nh.to_array(t).astype(np.float64) for t in g.initializer}
    q = {}
    for l in LAYERS:
        i = weight_int_bits(init[l + ".weight"])
        f = W_BITS - i
        lo, hi = -(2 ** (W_BITS - 1)), 2 ** (W_BITS - 1) - 1
        q[l] = dict(int_bits=i, frac=f,
                    w=np.clip(np.rint(init[l + ".weight"] * 2.0 ** f), lo, hi).astype(np.int64),
                    b=np.clip(np.rint(init[l + ".bias"] * 2.0 ** f), lo, hi).astype(np.int64))
    for t in g.initializer:
        l, kind = t.name.split(".")
        v = (q[l]["w"] if kind == "weight" else q[l]["b"]) / 2.0 ** q[l]["frac"]
        t.CopyFrom(nh.from_array(v.astype(np.float32), t.name))
    # drop the softmax; rename the input (hls4ml reserves the layer name 'input')
    nodes = [n for n in g.node if n.op_type != "Softmax"]
    del g.node[:]
    g.node.extend(nodes)
    for n in g.node:
        n.input[:] = ["x_in" if s == "input" else s for s in n.input]
    g.input[0].name = "x_in"
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info(nodes[-1].output[0], onnx.TensorProto.FLOAT, [1, 5])])
    onnx.checker.check_model(m)
    onnx.save(m, str(work / "jet_q.onnx"))
    np.savez(work / "weights.npz", **{f"{l}_{k}": q[l][k] for l in LAYERS for k in ("w", "b", "frac")})

    relu_t = kif_type(*RELU_KIF, ",TRN,SAT")
    lines = ["Model:", f"  Precision: {{default: '{kif_type(*IN_KIF)}'}}", "LayerName:",
             f"  x_in: {{Precision: {{result: '{kif_type(*IN_KIF)}'}}}}"]
    for k, l in enumerate(LAYERS):
        wt = f"fixed<{W_BITS},{q[l]['int_bits']}>"
        res = "fixed<32,16>" if l != "output" else kif_type(*OUT_KIF, ",TRN,SAT")
        lines.append(f"  {l}: {{Precision: {{weight: '{wt}', bias: '{wt}', accum: auto, result: '{res}'}}}}")
        if l != "output":
            lines.append(f"  relu{k + 1}: {{Precision: {{result: '{relu_t}'}}}}")
    (work / "etchnn.yml").write_text("\n".join(lines) + "\n")
    return q


def inputs(work, n):
    """--n random input codes over the whole fixed<8,3> range, then the example inputs (floored to it)."""
    k, i, f = IN_KIF
    rng = np.random.default_rng(2026)
    xr = rng.integers(-(2 ** (i + f)), 2 ** (i + f), (n, 16)) / 2.0 ** f
    xe = np.clip(np.floor(np.loadtxt(EXAMPLES) * 2.0 ** f), -(2 ** (i + f)), 2 ** (i + f) - 1) / 2.0 ** f
    x = np.concatenate([xr, xe])
    np.save(work / "x.npy", x)
    return x


# ---- 2. the three flows (each as its own process) -------------------------------------

def da4ml_flow(work, out, hard_dc=DA_HARD_DC, latency_cutoff=DA_LATENCY_CUTOFF, write=True):
    t0 = time.perf_counter()
    from da4ml.codegen import VerilogModel
    from da4ml.trace import FixedVariableArrayInput, HWConfig, comb_trace
    from da4ml.trace.ops import quantize, relu
    t1 = time.perf_counter()
    z = np.load(work / "weights.npz")
    inp = FixedVariableArrayInput((16,), hwconf=HWConfig(*DA_HWCONF), solver_options={"hard_dc": hard_dc})
    x = quantize(inp, *IN_KIF)
    for l in LAYERS:
        s = 2.0 ** -int(z[l + "_frac"])
        x = x @ (z[l + "_w"] * s) + z[l + "_b"] * s
        x = quantize(relu(x), *RELU_KIF, "SAT", "TRN") if l != "output" else quantize(x, *OUT_KIF, "SAT", "TRN")
    comb = comb_trace(inp, x)
    t2 = time.perf_counter()
    rm = VerilogModel(comb, "da4ml_jet", str(out), latency_cutoff=latency_cutoff, clock_period=1000.0 / CLOCK_MHZ)
    if write:
        rm.write()
    t3 = time.perf_counter()
    return comb, rm, {"import": t1 - t0, "trace+cmvm": t2 - t1, "write": t3 - t2}


def hls4ml_flow(work, out):
    t0 = time.perf_counter()
    sys.path.insert(0, str(ROOT / "tests" / "ref"))
    import contextlib
    import onnx
    import hls4ml
    from hls4ml_predict import prepare_onnx      # Gemm -> MatMul + Add, names, shapes: what hls4ml 1.3 needs
    t1 = time.perf_counter()
    z = np.load(work / "weights.npz")
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        m = prepare_onnx(onnx.load(str(work / "jet_q.onnx")))
        cfg = hls4ml.utils.config_from_onnx_model(m, granularity="name", default_precision=kif_type(*IN_KIF),
                                                  backend="Vitis")
        cfg["Model"].update(Strategy="Latency", ReuseFactor=1)
        for name, lc in cfg["LayerName"].items():
            p = lc.setdefault("Precision", {})
            l = name.split("_")[0]
            if l in LAYERS:
                wt = f"fixed<{W_BITS},{W_BITS - int(z[l + '_frac'])}>"
                p.update(weight=wt, bias=wt, accum="fixed<24,12>", result="fixed<24,12>")
            elif name.startswith("relu"):
                p["result"] = kif_type(*RELU_KIF, ",TRN,SAT")
        hm = hls4ml.converters.convert_from_onnx_model(m, output_dir=str(out), project_name="jet_q",
                                                       io_type="io_parallel", backend="Vitis", hls_config=cfg)
        t2 = time.perf_counter()
        hm.write()
    t3 = time.perf_counter()
    return {"import": t1 - t0, "convert": t2 - t1, "write": t3 - t2}


def child(flow, work, out):
    shutil.rmtree(out, ignore_errors=True)
    if flow == "da4ml":
        phases = da4ml_flow(work, out)[2]
    else:
        phases = hls4ml_flow(work, out)
    print("PHASES " + json.dumps(phases))


def timed(cmd, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    t = time.perf_counter() - t0
    if r.returncode:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    ph = [json.loads(l[7:]) for l in r.stdout.splitlines() if l.startswith("PHASES ")]
    return t, ph[0] if ph else {}


# ---- 4. synthesis -----------------------------------------------------------------------

def yosys_script(files, top, stat):
    return "".join(f'read_verilog "{f}"\n' for f in files) + \
        f"synth_xilinx -flatten -top {top}\ntee -q -o {stat} stat -json\n"


def tally(stat_json, top):
    cells = json.load(open(stat_json))["modules"]["\\" + top]["num_cells_by_type"]
    t = {"LUT": 0, "FF": 0, "CARRY": 0, "DSP": 0, "SRL": 0, "INV": 0, "MUXF": 0}
    for c, n in cells.items():
        if re.fullmatch(r"LUT[1-6]", c):
            t["LUT"] += n
        elif c.startswith("FD"):
            t["FF"] += n
        elif c.startswith("CARRY"):
            t["CARRY"] += n
        elif c.startswith("DSP48"):
            t["DSP"] += n
        elif c.startswith("SRL"):
            t["SRL"] += n
        elif c == "INV":
            t["INV"] += n
        elif c.startswith("MUXF"):
            t["MUXF"] += n
    t["cells"] = cells
    return t


def da4ml_files(out):
    src = out / "src"
    files = sorted(str(p) for p in src.glob("*.v") if not p.name.endswith("_wrapper.v"))
    used = {p.stem for p in (src / "static").glob("*.v")
            if any(re.search(r"\b" + p.stem + r"\s*#", open(f).read()) for f in files)}
    return files + sorted(str(src / "static" / (s + ".v")) for s in used)


def register_levels_da4ml(out):
    """Nonblocking assignments in the top's clocked block: stageN_inp <= ... and model_out <= ..."""
    top = (out / "src" / "da4ml_jet.v").read_text()
    return len(re.findall(r"^\s*\w+\s*<=", top, re.M))


def sim_da4ml_icarus(work, out, x, y_ref, latency):
    """Stream x through da4ml's top one vector per clock under Icarus and compare with y_ref.
    (da4ml's own Verilator binder does not build with Debian's Verilator 5.006.)"""
    k, i, f = IN_KIF
    n_in, n_out, ow = x.shape[1], y_ref.shape[1], sum(OUT_KIF)
    codes = np.rint(x * 2.0 ** f).astype(np.int64) & 0xFF
    sdir = work / "sim_da4ml"
    sdir.mkdir(exist_ok=True)
    (sdir / "x.hex").write_text("".join("".join(f"{c:02x}" for c in row[::-1]) + "\n" for row in codes))
    n = x.shape[0]
    (sdir / "tb.v").write_text(f"""`timescale 1ns/1ps
module tb;
    reg clk = 0;
    reg [{8 * n_in - 1}:0] mem [0:{n - 1}];
    reg [{8 * n_in - 1}:0] din = 0;
    wire [{ow * n_out - 1}:0] dout;
    integer c, fd;
    da4ml_jet dut (.clk(clk), .model_inp(din), .model_out(dout));
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
    subprocess.run(["iverilog", "-g2005", "-o", str(sdir / "tb"), str(sdir / "tb.v")] + da4ml_files(out), check=True)
    subprocess.run(["vvp", "-n", str(sdir / "tb")], check=True, capture_output=True)
    lines = (sdir / "y.hex").read_text().split()
    # after the c-th rising edge (c from 1) the output register holds vector c - latency
    got = np.array([[int(l, 16) >> (ow * j) & ((1 << ow) - 1) for j in range(n_out)]
                    for l in lines[latency - 1:latency - 1 + n]])
    got = np.where(got >= 1 << (ow - 1), got - (1 << ow), got) / 2.0 ** OUT_KIF[2]
    return int(np.sum(got != y_ref))


# ---- main --------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--etchnn", default=str(ROOT / "build" / "bench" / "etchnn"))
    ap.add_argument("--work", default=None, help="working directory (default: a new temporary one)")
    ap.add_argument("--n", type=int, default=500, help="random input vectors for the equivalence check")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rtl-sim", action="store_true", help="also simulate both Verilog designs with Verilator")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--_flow", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._flow:
        return child(a._flow[0], pathlib.Path(a._flow[1]), pathlib.Path(a._flow[2]))

    work = pathlib.Path(a.work or tempfile.mkdtemp(prefix="etchnn_vs_da4ml_")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    q = prepare(work)
    x = inputs(work, a.n)
    import da4ml
    import hls4ml
    versions = {"da4ml": da4ml.__version__ if hasattr(da4ml, "__version__") else "?",
                "hls4ml": hls4ml.__version__,
                "etchnn": subprocess.run([a.etchnn, "version"], capture_output=True, text=True).stdout.strip(),
                "etchnn_git": subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                             capture_output=True, text=True).stdout.strip(),
                "yosys": subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()}
    print(f"work: {work}")
    print("weights: " + ", ".join(f"{l} fixed<{W_BITS},{q[l]['int_bits']}>" for l in LAYERS))
    print("versions: " + json.dumps(versions))

    # 2. model to Verilog
    e_out, d_out, h_out = work / "etchnn", work / "da4ml", work / "hls4ml"
    me = [sys.executable, str(pathlib.Path(__file__).resolve()), "--_flow"]
    cmds = {"etchnn": [a.etchnn, "compile", str(work / "jet_q.onnx"), "-c", str(work / "etchnn.yml"),
                       "-o", str(e_out), "--clock-mhz", str(CLOCK_MHZ)],
            "da4ml": me + ["da4ml", str(work), str(d_out)],
            "hls4ml": me + ["hls4ml", str(work), str(h_out)]}
    times = {k: [] for k in cmds}
    for _ in range(a.repeats):
        for k, c in cmds.items():
            times[k].append(timed(c))
    best = {k: min(v, key=lambda r: r[0]) for k, v in times.items()}
    for k, (t, ph) in best.items():
        print(f"model->Verilog {k:7s} {t:8.3f} s  " + " ".join(f"{p}={s:.3f}" for p, s in ph.items()))

    # 3. same function
    subprocess.run([a.etchnn, "predict", str(work / "jet_q.onnx"), "-c", str(work / "etchnn.yml"),
                    "--input", str(work / "x.npy"), "--output", str(work / "y_etchnn.npy")], check=True)
    y_e = np.load(work / "y_etchnn.npy")
    comb, rm, _ = da4ml_flow(work, d_out, write=False)
    y_d = comb.predict(x)
    mism = int(np.sum(y_e != y_d))
    print(f"etchnn predict vs da4ml CombLogic.predict: {mism} differing outputs of {y_e.size} "
          f"({x.shape[0]} vectors)")
    check = {"vectors": int(x.shape[0]), "interp_mismatches": mism}
    if a.rtl_sim:
        r = subprocess.run([a.etchnn, "verify", str(e_out), "--input", str(work / "x.npy")],
                           capture_output=True, text=True)
        check["etchnn_verify"] = "pass" if r.returncode == 0 else "FAIL"
        print(f"etchnn verify (Verilator, etchnn RTL vs emulator): {check['etchnn_verify']}: {r.stdout.strip()[-300:]}")
        bad = sim_da4ml_icarus(work, d_out, x, y_e, register_levels_da4ml(d_out))
        check["da4ml_rtl_mismatches"] = bad
        print(f"da4ml Verilog (Icarus, one vector per clock) vs etchnn predict: {bad} differing outputs of {y_e.size}")

    # design facts
    rep = json.load(open(e_out / "report.json"))
    d_ops = [op for op in comb.ops]
    d_add = sum(1 for op in d_ops if op.opcode in (0, 1))
    facts = {
        "etchnn": {"latency": rep["latency_cycles"], "adders": rep["estimate"].get("adders"),
                   "adders_naive": rep["estimate"].get("adders_naive"),
                   "per_layer_latency": {l["name"]: l["latency_cycles"] for l in rep["layers"]}},
        "da4ml": {"latency": register_levels_da4ml(d_out), "adders": d_add,
                  "stages": len(rm._pipe.solutions), "cost_estimate": float(comb.cost)},
    }
    print("etchnn: " + json.dumps(facts["etchnn"]))
    print("da4ml:  " + json.dumps(facts["da4ml"]))

    # 4. synthesis, both at once
    synth = {}
    if not a.no_synth:
        e_files = [str(e_out / "rtl" / f.strip()) for f in open(e_out / "rtl" / "files.f") if f.strip()]
        jobs = {"etchnn": (e_files, rep["model"]), "da4ml": (da4ml_files(d_out), "da4ml_jet")}
        procs = {}
        for k, (files, top) in jobs.items():
            sdir = work / f"synth_{k}"
            sdir.mkdir(exist_ok=True)
            (sdir / "synth.ys").write_text(yosys_script(files, top, sdir / "stat.json"))
            procs[k] = subprocess.Popen(["yosys", "-q", "-l", str(sdir / "yosys.log"), str(sdir / "synth.ys")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for k, p in procs.items():
            _, err = p.communicate()
            if p.returncode:
                sys.exit(f"yosys ({k}) failed: {err.decode()[-2000:]}")
            synth[k] = tally(work / f"synth_{k}" / "stat.json", jobs[k][1])

    # table
    print()
    print(f"{'':34s} {'etchnn':>10s} {'da4ml':>10s} {'etchnn/da4ml':>13s}")
    rows = []
    if synth:
        for key in ("LUT", "FF", "CARRY", "DSP", "SRL", "INV"):
            rows.append((f"Yosys synth_xilinx {key}", synth["etchnn"][key], synth["da4ml"][key]))
    rows.append(("latency, cycles (in -> out regs)", facts["etchnn"]["latency"], facts["da4ml"]["latency"]))
    rows.append(("adders (own count)", facts["etchnn"]["adders"], facts["da4ml"]["adders"]))
    for name, e, d in rows:
        ratio = f"{e / d:.2f}x" if d else "-"
        print(f"{name:34s} {e:>10} {d:>10} {ratio:>13s}")
    print()
    th = best["hls4ml"][0]
    for k in ("etchnn", "da4ml", "hls4ml"):
        print(f"model->Verilog (whole process) {k:7s} {best[k][0]:8.3f} s   hls4ml/{k} = {th / best[k][0]:7.1f}x")
    res = {"versions": versions, "weights": {l: f"fixed<{W_BITS},{q[l]['int_bits']}>" for l in LAYERS},
           "check": check, "facts": facts, "synth": synth,
           "model_to_verilog": {k: {"best_s": best[k][0], "phases": best[k][1], "all_s": [t for t, _ in times[k]]}
                                for k in best}}
    (work / "results.json").write_text(json.dumps(res, indent=1))
    print(f"\nresults: {work / 'results.json'}")


if __name__ == "__main__":
    main()
