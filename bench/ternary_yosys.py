#!/usr/bin/env python3
"""Ternary adders under Yosys (issue 13, item 2/3): is a + b + c cheaper than
two chained two-input adders after `synth_xilinx -flatten`?

Writes one module of N independent registered sums s = a + (b << SHIFT) +/- c
of W-bit signed inputs in three forms and prints the cells Yosys maps each to:
  chain  t = a + (b << SHIFT); s = t +/- c           (two carry chains, as etchnn emits)
  expr   s = a + (b << SHIFT) +/- c in one expression (Yosys: alumacc -> $macc -> maccmap,
                                                         a 3:2 compressor and one carry chain)
  csa    the 3:2 compressor written out: p = x ^ y ^ z, g = majority(x, y, z),
         s = p + {g, cin} (a negative term as ~c with the +1 in cin)
Every sum is as wide as its exact range; the three designs compute the same
function (checked with Icarus on random vectors when `iverilog` is present).

    python3 bench/ternary_yosys.py [--n 32] [--w 10] [--shift 0] [--sub]
"""
import argparse
import pathlib
import random
import re
import shutil
import subprocess
import tempfile


def module(form, n, w, shift, sub):
    ws = w + shift + 2   # the exact width of a + (b << shift) +/- c
    lines = [f"module top(input clk, input [{3 * n * w - 1}:0] x, output [{n * ws - 1}:0] y);"]
    for i in range(n):
        for j, v in enumerate("abc"):
            lines.append(f"  wire [{w - 1}:0] {v}{i} = x[{(3 * i + j) * w + w - 1}:{(3 * i + j) * w}];")

        def ext(v, width, sh=0):
            body = f"{{{{{width - w - sh}{{{v}{i}[{w - 1}]}}}}, {v}{i}}}"
            return f"{{{body}, {sh}'b0}}" if sh else body
        op = "-" if sub else "+"
        if form == "chain":
            wt = w + shift + 1
            lines.append(f"  wire [{wt - 1}:0] t{i} = {ext('a', wt)} + {ext('b', wt, shift)};")
            lines.append(f"  wire [{ws - 1}:0] s{i} = {{t{i}[{wt - 1}], t{i}}} {op} {ext('c', ws)};")
        elif form == "expr":
            lines.append(f"  wire [{ws - 1}:0] s{i} = {ext('a', ws)} + {ext('b', ws, shift)} {op} {ext('c', ws)};")
        else:
            lines.append(f"  wire [{ws - 1}:0] p{i} = {ext('a', ws)}, q{i} = {ext('b', ws, shift)}, "
                         f"r{i} = {'~' if sub else ''}{ext('c', ws)};")
            lines.append(f"  wire [{ws - 1}:0] x{i} = p{i} ^ q{i} ^ r{i};")
            lines.append(f"  wire [{ws - 1}:0] g{i} = (p{i} & q{i}) | (p{i} & r{i}) | (q{i} & r{i});")
            lines.append(f"  wire [{ws - 1}:0] s{i} = x{i} + {{g{i}[{ws - 2}:0], 1'b{int(sub)}}};")
        lines.append(f"  reg [{ws - 1}:0] r_{i}; always @(posedge clk) r_{i} <= s{i};")
    lines.append("  assign y = {" + ", ".join(f"r_{i}" for i in reversed(range(n))) + "};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def cells(path, work):
    stat = work / (path.stem + ".stat")
    subprocess.run(["yosys", "-q", "-p", f"read_verilog {path}; synth_xilinx -flatten -top top; tee -q -o {stat} stat"],
                   check=True, stdout=subprocess.DEVNULL)
    got = dict((k, int(v)) for k, v in re.findall(r"^\s+(\w+)\s+(\d+)$", stat.read_text(), re.M))
    lut = sum(v for k, v in got.items() if re.fullmatch(r"LUT[1-6]", k))
    return lut, got.get("CARRY4", 0), sum(v for k, v in got.items() if k.startswith("FD"))


def same_function(files, work, n, w, ws):
    """The three designs on the same random vectors under Icarus: outputs equal."""
    rng = random.Random(1)
    vecs = [rng.getrandbits(3 * n * w) for _ in range(200)]
    outs = []
    for f in files:
        tb = work / f"tb_{f.stem}.v"
        body = "".join(f"    x = {3 * n * w}'h{v:x}; #1 clk = 1; #1 clk = 0; $display(\"%h\", y);\n" for v in vecs)
        tb.write_text(f"module tb;\n  reg clk = 0;\n  reg [{3 * n * w - 1}:0] x;\n  wire [{n * ws - 1}:0] y;\n"
                      f"  top dut(.clk(clk), .x(x), .y(y));\n  initial begin\n{body}  end\nendmodule\n")
        exe = work / f"sim_{f.stem}"
        subprocess.run(["iverilog", "-o", str(exe), str(tb), str(f)], check=True)
        outs.append(subprocess.run(["vvp", "-n", str(exe)], check=True, capture_output=True, text=True).stdout)
    return all(o == outs[0] for o in outs) and len(set(outs[0].split())) > 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=32, help="independent sums")
    ap.add_argument("--w", type=int, default=10, help="input width")
    ap.add_argument("--shift", type=int, default=0, help="left shift of the second operand")
    ap.add_argument("--sub", action="store_true", help="subtract the third operand")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        work = pathlib.Path(d)
        files = []
        for form in ("chain", "expr", "csa"):
            f = work / f"{form}.v"
            f.write_text(module(form, a.n, a.w, a.shift, a.sub))
            files.append(f)
        if shutil.which("iverilog"):
            print("same function under Icarus:", same_function(files, work, a.n, a.w, a.w + a.shift + 2))
        print(f"{a.n} sums a + (b << {a.shift}) {'-' if a.sub else '+'} c, {a.w}-bit inputs; Yosys synth_xilinx -flatten")
        print(f"{'form':6} {'LUT':>6} {'CARRY4':>7} {'FF':>5}")
        for f in files:
            lut, carry, ff = cells(f, work)
            print(f"{f.stem:6} {lut:6d} {carry:7d} {ff:5d}")


if __name__ == "__main__":
    main()
