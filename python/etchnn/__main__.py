"""python3 -m etchnn tune|sweep|merge|profile: the commands written in Python
(the C CLI's `etchnn tune|sweep|profile` are meant to run these).

  tune MODEL --input X.npy [--labels Y.npy] [--metric accuracy|auc|mse] [--max-loss D] -o CFG.yml
       [-c BASE.yml] [--validation XV.npy [YV.npy]] [--clock-mhz F] [--guard-bits N] [--no-overflow]
  sweep MODEL --space SPACE.yml -o RESULTS.jsonl [--workers N] [--cluster ADDR] [--index I]
       [--input X.npy [--labels Y.npy] [--metric M]] [--trials N] [--seed S] [--plot PARETO.png]
       [--synth xilinx|ice40|ecp5|nexus] [--synth-timeout S]
  merge -o RESULTS.jsonl PART.jsonl...
  profile MODEL --input X.npy [-c CFG.yml | --precision T] [--plot PROFILE.png]

Inputs are .npy arrays (events, features) or text, one event per line.
Exit status 2 on a user error, with the message on stderr."""
import argparse
import pathlib
import sys

import numpy as np


def _array(path):
    p = pathlib.Path(path)
    return np.load(p) if p.suffix == ".npy" else np.loadtxt(p, ndmin=2)


def _parser():
    ap = argparse.ArgumentParser(prog="python3 -m etchnn", description="etchnn: tune, sweep, merge, profile")
    sub = ap.add_subparsers(dest="command", required=True)

    t = sub.add_parser("tune", help="per-layer types from data within a metric's loss")
    t.add_argument("model")
    t.add_argument("--input", required=True)
    t.add_argument("--labels")
    t.add_argument("--metric", default="accuracy", choices=["accuracy", "auc", "mse"])
    t.add_argument("--max-loss", type=float, default=0.01)
    t.add_argument("-o", "--output", required=True, help="the tuned configuration (YAML)")
    t.add_argument("-c", "--config", help="the starting configuration")
    t.add_argument("--validation", nargs="+", metavar="FILE", help="held-out inputs [and labels]")
    t.add_argument("--clock-mhz", type=float)
    t.add_argument("--guard-bits", type=int, default=1)
    t.add_argument("--no-strict", action="store_true", help="accuracy: hold the net loss, not its bound")
    t.add_argument("--no-overflow", action="store_true",
                   help="integer bits proven by interval analysis: no input of the input type overflows a layer")

    s = sub.add_parser("sweep", help="compile and estimate every point of a design space")
    s.add_argument("model")
    s.add_argument("--space", required=True)
    s.add_argument("-o", "--output", required=True, help="results, one JSON line per point")
    s.add_argument("--workers", type=int, help="local worker processes (default: one per core; 1: serially)")
    s.add_argument("--cluster", help="tcp://HOST:PORT (Dask), ray or ray://HOST:PORT (Ray)")
    s.add_argument("--index", type=int, help="run only this point of the grid (array jobs)")
    s.add_argument("--input")
    s.add_argument("--labels")
    s.add_argument("--metric", choices=["accuracy", "auc", "mse"])
    s.add_argument("--trials", type=int, help="Optuna: this many trials instead of the grid")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--plot", help="Pareto plots (PNG)")
    s.add_argument("--synth", choices=["xilinx", "ice40", "ecp5", "nexus"], help="also synthesize every point (Yosys)")
    s.add_argument("--synth-timeout", type=float, default=600, help="seconds per point for the synthesis tools")

    m = sub.add_parser("merge", help="gather the per-point files of array jobs")
    m.add_argument("-o", "--output", required=True)
    m.add_argument("parts", nargs="+")
    m.add_argument("--plot")

    p = sub.add_parser("profile", help="per-layer ranges on data against the configured types")
    p.add_argument("model")
    p.add_argument("--input", required=True)
    p.add_argument("-c", "--config")
    p.add_argument("--precision")
    p.add_argument("--plot", help="the numerical profile (PNG)")
    return ap


def main(argv=None):
    args = _parser().parse_args(argv)
    import etchnn
    sweep_mod = sys.modules["etchnn.sweep"]   # the module (etchnn.sweep is the function)
    try:
        if args.command == "tune":
            val = None
            if args.validation:
                val = (_array(args.validation[0]), _array(args.validation[1]) if len(args.validation) > 1 else None)
            r = etchnn.tune(args.model, _array(args.input), _array(args.labels) if args.labels else None,
                            metric=args.metric, max_loss=args.max_loss, config=args.config, validation=val,
                            clock_mhz=args.clock_mhz, guard_bits=args.guard_bits, strict=not args.no_strict,
                            overflow="proven" if args.no_overflow else "data")
            r.write(args.output)
            print(r)
            print(f"wrote {args.output}")
        elif args.command == "sweep":
            x = _array(args.input) if args.input else None
            y = _array(args.labels) if args.labels else None
            res = etchnn.sweep(args.model, args.space, x=x, y=y, metric=args.metric, workers=args.workers,
                               cluster=args.cluster, out=args.output, index=args.index, n_trials=args.trials,
                               seed=args.seed, plot_path=args.plot, verbose=sys.stderr.isatty(),
                               synth=args.synth, synth_timeout=args.synth_timeout)
            bad = sum("error" in r for r in res)
            print(f"sweep: {len(res)} points ({bad} did not compile) -> {args.output}")
            for r in res.pareto():
                print(f"  Pareto (LUT, latency): LUT {r['estimate']['lut']}, latency {r['latency_cycles']} cycles, "
                      f"II {r['ii']}: {r['point']}")
        elif args.command == "merge":
            res = sweep_mod.merge(args.parts, args.output)
            if args.plot:
                sweep_mod.plot(res, args.plot)
            print(f"merge: {len(res)} points -> {args.output}")
        else:
            fw = etchnn.convert(args.model, config=args.config, precision=args.precision)
            x = _array(args.input)
            print(etchnn.profiling.ranges(fw, x))
            if args.plot:
                etchnn.profiling.numerical(None, fw, x).savefig(args.plot, dpi=110)
    except etchnn.EtchnnError as e:
        print(f"etchnn: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
