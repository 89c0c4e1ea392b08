#!/usr/bin/env python3
"""Convolutional networks at 8-bit types, io_parallel next to io_stream:

  cicada     the CICADA-shaped network (tests/cicada_models.py: 18x14 10-bit
             energies, Conv2D 3 filters 3x3 stride 2, ReLU, Flatten, Dense 20,
             ReLU, Dense 1) at tests/cicada_models.CONFIG_8BIT;
  jettagger  jetTagger_Conv2D_Small (../shared/models/keras: 25x25x1,
             BatchNorm, Conv2D 5 3x3 stride 3 same, Conv2D 2 5x5 stride 2
             same, Dense 5 softmax), every variable fixed<8,3>;
  img100     a 100x100x1 image (built here with onnx.helper): Conv 4 3x3,
             ReLU, MaxPool 2, Conv 8 3x3 stride 2, ReLU, MaxPool 4, Dense 10,
             fixed<8,3>: io_stream only (the io_parallel circuit has a
             kernel per output pixel: estimate only, --img100-parallel).

For each model and architecture:
  1. model -> C + Verilog: `etchnn compile [--io stream]`, whole process, best of --repeats;
  2. latency (cycles; io_stream: from the first / the last pixel), II and the
     tool-free estimate from report.json;
  3. `etchnn verify` (Verilator; --no-verify skips);
  4. `etchnn synth --target xilinx` (Yosys synth_xilinx): LUT/FF/CARRY/DSP, and its time.

    make BUILD=build/bench && python3 bench/cicada.py [--etchnn build/bench/etchnn] [--work DIR]
        [--models cicada,jettagger,img100] [--io parallel,stream] [--no-synth-parallel MODEL,...]
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from cicada_models import CONFIG_8BIT, cicada_onnx  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"


def etchnn(exe, *args):
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
    t = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"etchnn {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r, t


def img100_onnx():
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)

    def init(n, a):
        return numpy_helper.from_array(np.asarray(a, dtype=np.float32), n)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[4, 4], strides=[4, 4]),
             helper.make_node("Flatten", ["p2"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], name="dense")]
    inits = [init("w1", rng.standard_normal((4, 1, 3, 3)) * 0.5), init("b1", rng.standard_normal(4) * 0.1),
             init("w2", rng.standard_normal((8, 4, 3, 3)) * 0.3), init("b2", rng.standard_normal(8) * 0.1),
             init("w3", rng.standard_normal((288, 10)) * 0.1), init("b3", rng.standard_normal(10) * 0.1)]
    g = helper.make_graph(nodes, "img100", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 100, 100])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--etchnn", default=str(ROOT / "build" / "bench" / "etchnn"))
    ap.add_argument("--work", help="keep everything here (default: a temporary directory)")
    ap.add_argument("--clock-mhz", type=float, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", default="cicada,jettagger,img100")
    ap.add_argument("--io", default="parallel,stream")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--no-synth-parallel", default="img100", help="models whose io_parallel design is not synthesized")
    ap.add_argument("--img100-parallel", action="store_true", help="also compile img100 as io_parallel (minutes)")
    a = ap.parse_args()
    import onnx
    work = pathlib.Path(a.work or tempfile.mkdtemp(prefix="etchnn-conv-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cases = {}
    if "cicada" in a.models:
        onnx.save(cicada_onnx(), str(work / "cicada.onnx"))
        (work / "cicada8.yml").write_text(CONFIG_8BIT)
        cases["cicada"] = (work / "cicada.onnx", ["-c", work / "cicada8.yml"], 2000)
    if "jettagger" in a.models:
        cases["jettagger"] = (MODELS / "keras" / "jetTagger_Conv2D_Small.json", ["--precision", "fixed<8,3>"], 300)
    if "img100" in a.models:
        onnx.save(img100_onnx(), str(work / "img100.onnx"))
        cases["img100"] = (work / "img100.onnx", ["--precision", "fixed<8,3>"], 20)
    results = []
    for name, (model, opts, nver) in cases.items():
        for io in a.io.split(","):
            if name == "img100" and io == "parallel" and not a.img100_parallel:
                continue
            out = work / f"{name}-{io}"
            times = []
            for _ in range(a.repeats if not (name == "img100" and io == "parallel") else 1):
                r, t = etchnn(a.etchnn, "compile", model, *opts, "--io", io, "-o", out, "--clock-mhz", a.clock_mhz)
                times.append(t)
            rep = json.loads((out / "report.json").read_text())
            res = {"model": name, "io": io, "clock_mhz": rep["clock_mhz"], "compile_s": round(min(times), 3),
                   "latency_cycles": rep["latency_cycles"], "ii": rep["ii"], "estimate": rep["estimate"]}
            if io == "stream":
                s = rep["stream"]
                res.update(latency_first_pixel=s["latency_first_pixel_cycles"],
                           latency_last_pixel=s["latency_last_pixel_cycles"], pixels=s["pixels"])
            print(f"{name} io_{io}: compile {min(times):.3f} s; latency {rep['latency_cycles']} cycles"
                  + (f" from the first pixel, {res['latency_last_pixel']} from the last" if io == "stream" else "")
                  + f"; II {rep['ii']}; estimate {rep['estimate']['lut']} LUT, {rep['estimate']['ff']} FF, "
                  f"{rep['estimate']['dsp']} DSP", flush=True)
            if not a.no_verify and not (name == "img100" and io == "parallel"):
                r, t = etchnn(a.etchnn, "verify", out, "--n", nver, "--seed", 1)
                line = next(x for x in r.stdout.splitlines() if x.startswith(("PASS", "FAIL")))
                print("  " + line, flush=True)
                res["verify"] = line
            if not a.no_synth and not (io == "parallel" and name in a.no_synth_parallel.split(",")):
                r, t = etchnn(a.etchnn, "synth", out, "--target", "xilinx")
                y = json.loads((out / "report.json").read_text()).get("synth") or {}
                res["synth"] = y
                res["synth_s"] = round(t, 1)
                print(f"  etchnn synth --target xilinx ({t:.0f} s): {y.get('lut')} LUT, {y.get('ff')} FF, "
                      f"{y.get('carry')} CARRY4, {y.get('dsp')} DSP, {y.get('bram')} BRAM", flush=True)
            results.append(res)
            (work / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {work / 'results.json'}")


if __name__ == "__main__":
    main()
