"""Run the peer suite: each model of tests/peer/cases.py through hls4ml 1.3 (Vivado, its C simulation) and
through `etchnn predict --hls4ml -c <hls4ml's configuration, as YAML>`, compared bit for bit.

    python3 -m tests.peer [--n 200] [--only SUBSTR ...] [--table]   (from the repository root)

Writes tests/peer/results.json (one record per model) and, with --table, the table in tests/ref/NOTES.md
between the peer-suite markers (the reasons column is kept from the notes in tests/peer/reasons.json)."""
import argparse
import contextlib
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ETCHNN = pathlib.Path(os.environ.get("ETCHNN", ROOT / "build" / "etchnn")).absolute()
RESULTS = pathlib.Path(os.environ.get("PEER_RESULTS", HERE / "results.json"))   # another file: runs side by side, merged later
REASONS = HERE / "reasons.json"
NOTES = ROOT / "tests" / "ref" / "NOTES.md"
BEGIN, END = "<!-- peer-suite table: begin (python3 -m tests.peer --table) -->", "<!-- peer-suite table: end -->"


def _quiet():
    s = io.StringIO()
    return contextlib.ExitStack() if os.environ.get("PEER_VERBOSE") else _both(s)


@contextlib.contextmanager
def _both(s):
    with contextlib.redirect_stdout(s), contextlib.redirect_stderr(s):
        yield


def first_line(text):
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def run_case(c, work, n=200, seed=0):
    """One model: {'name', 'file', 'hls4ml': 'ok'|message, 'accepted': bool, 'message', 'outputs', 'differ'}."""
    import hls4ml
    import keras
    import yaml
    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    rec = {"name": c.name, "file": c.file, "hls4ml": "ok", "accepted": None, "message": "", "outputs": 0, "differ": None,
           "seconds": 0.0}
    if c.kind == "qkeras":
        return _run_qkeras(c, work, rec, n, seed)
    keras.utils.set_random_seed(seed)
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in c.inputs(np.random.default_rng(seed), n)]
    if c.kind == "torch":
        import torch
        from etchnn.frontends import to_onnx
        m = c.build(torch)
        model_file = work / "m.onnx"
        convert = hls4ml.converters.convert_from_pytorch_model
        # hls4ml with ChannelsLastConversion 'internal' reads and writes channels last
        hx = [np.ascontiguousarray(np.moveaxis(x, 1, -1)) if c.hls_layout == "last" else x for x in xs]
    else:
        m = c.build(keras)
        m.save(work / "m.keras")
        model_file = work / "m.keras"
        convert = hls4ml.converters.convert_from_keras_model
        hx = xs
    t0 = time.time()
    try:
        with _quiet():
            cfg = c.config(hls4ml, m)
            # the configuration as YAML, as hls4ml writes it (the model object it holds left out)
            (work / "cfg.yml").write_text(yaml.safe_dump({k: v for k, v in cfg.items() if k not in ("PytorchModel", "KerasModel")},
                                                         sort_keys=False))
            if c.convert:   # the test's own route into hls4ml
                hm = c.convert(hls4ml, m, cfg, str(work / "prj"), c.io_type)
            else:
                hm = convert(m, output_dir=str(work / "prj"), io_type=c.io_type, backend="Vivado", hls_config=cfg)
            hm.compile()
            ref = hm.predict(hx if len(hx) > 1 else hx[0])
        ref = ref if isinstance(ref, list) else [ref]
        if c.kind == "torch" and c.hls_layout == "last":   # back to channels first, as the ONNX graph's output
            shp = tuple(m(*[torch.from_numpy(x[:1]).float() for x in xs]).shape[1:])
            ref = [np.moveaxis(np.asarray(r).reshape(n, *shp[1:], shp[0]), -1, 1) for r in ref]
        ref = np.concatenate([np.asarray(r, dtype=np.float64).reshape(n, -1) for r in ref], axis=1)
    except Exception as e:   # hls4ml could not convert or compile it: nothing to compare with
        rec["hls4ml"] = f"{type(e).__name__}: {first_line(e)}"
        rec["seconds"] = round(time.time() - t0, 1)
        return rec
    if c.kind == "torch":   # etchnn reads the module as the ONNX graph its Python package exports
        import onnx
        try:
            onnx.save(to_onnx(m, [tuple(s) for s in c.shapes]), str(model_file))
        except Exception as e:
            rec["accepted"], rec["message"] = False, f"etchnn.frontends.to_onnx: {str(e).splitlines()[0][:250]}"
            return rec
    files = []
    for k, x in enumerate(xs):
        np.save(work / f"x{k}.npy", x)
        files.append(work / f"x{k}.npy")
    _etchnn(model_file, files, work, rec, ref, n)
    rec["seconds"] = round(time.time() - t0, 1)
    return rec


def _etchnn(model_file, xs_files, work, rec, ref, n, extra=()):
    args = []
    for f in xs_files:
        args += ["--input", str(f)]
    r = subprocess.run([str(ETCHNN), "predict", str(model_file), *args, "--output", str(work / "y.npy"),
                        "-c", str(work / "cfg.yml"), "--hls4ml", *extra], capture_output=True, text=True, timeout=600)
    rec["accepted"] = r.returncode == 0
    if r.returncode != 0:
        rec["message"] = (first_line(r.stderr) or f"exit {r.returncode}").replace(str(work) + "/", "")
        return rec
    got = np.load(work / "y.npy").reshape(n, -1)
    rec["outputs"] = int(ref.size)
    if got.shape != ref.shape:
        rec["differ"] = int(ref.size)
        rec["message"] = f"shape {got.shape} vs hls4ml's {ref.shape}"
        return rec
    bad = got != ref
    rec["differ"] = int(np.count_nonzero(bad))
    if rec["differ"]:
        i = tuple(np.argwhere(bad)[0])
        rec["message"] = f"first at {list(map(int, i))}: etchnn {got[i]!r}, hls4ml {ref[i]!r}"
    return rec


def _run_qkeras(c, work, rec, n, seed):
    """A QKeras model: built, converted by hls4ml and simulated in tests/peer/qkeras_child.py (TensorFlow's Keras 2);
    etchnn reads the architecture JSON and weights it saved."""
    t0 = time.time()
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-m", "tests.peer.qkeras_child", c.name, str(work), str(n), str(seed)],
                       capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=1800)
    rec["seconds"] = round(time.time() - t0, 1)
    err = work / "hls4ml_error.txt"
    if r.returncode != 0 or err.exists() or not (work / "y_hls4ml.npy").exists():
        text = err.read_text().splitlines()[0] if err.exists() else first_line(r.stderr) or f"exit {r.returncode}"
        rec["hls4ml"] = text[:300]
        return rec
    ref = np.load(work / "y_hls4ml.npy")
    xs = sorted(work.glob("x*.npy"), key=lambda p: int(p.stem[1:]))
    _etchnn(work / "m.json", xs, work, rec, ref, n)
    rec["seconds"] = round(time.time() - t0, 1)
    return rec


def outcome(r):
    if r["hls4ml"] != "ok":
        return "hls4ml failed"
    if not r["accepted"]:
        return "refused"
    return "equal" if r["differ"] == 0 else "differing"


# refusals whose message says the reason (tests/peer/reasons.json names the others, model by model)
AUTO = [(re.compile(r"width \+ weight width <= 63 bits|at most 64 are supported|at most 64 bits"),
         "ours: values wider than 64 bits (issue 15 item 2)")]


def table(results, reasons):
    rows = ["| model | accepted | equal | outputs differing | reason |", "|---|---|---|---|---|"]
    for r in results:
        o = outcome(r)
        acc = "—" if o == "hls4ml failed" else ("yes" if r["accepted"] else "no")
        eq = {"equal": "yes", "differing": "no"}.get(o, "—")
        dif = f"{r['differ']} of {r['outputs']}" if o in ("equal", "differing") else ""
        why = reasons.get(r["name"], "") or next((w for rx, w in AUTO if rx.search(r["message"])), "")
        if o == "hls4ml failed":
            why = why or f"hls4ml: {r['hls4ml']}"
        elif o == "refused":
            why = f"etchnn: “{r['message'].removeprefix('etchnn: ')[:160]}”" + (f" — {why}" if why else " — not analysed")
        elif o == "differing":
            why = why or f"not analysed ({r['message']})"
        rows.append(f"| {r['name']} | {acc} | {eq} | {dif} | {why.replace('|', '/')} |")
    count = {k: sum(outcome(r) == k for r in results) for k in ("equal", "differing", "refused", "hls4ml failed")}
    files = len({r["file"] for r in results})
    stream = sum(r["name"].endswith("@io_stream") for r in results)
    head = (f"{len(results)} models from {files} of hls4ml 1.3's test files: {count['equal']} equal bit for bit, "
            f"{count['differing']} differing, {count['refused']} refused by etchnn, {count['hls4ml failed']} that "
            f"hls4ml itself could not build (Vivado; {len(results) - stream} io_parallel, {stream} io_stream "
            f"(named '@io_stream'); {results[0].get('n', 200) if results else 200} inputs each).")
    per = ["| hls4ml test file | models | hls4ml builds | equal | differing | refused | hls4ml cannot build |",
           "|---|---|---|---|---|---|---|"]
    for f in sorted({r["file"] for r in results}):
        rs = [r for r in results if r["file"] == f]
        k = {o: sum(outcome(r) == o for r in rs) for o in ("equal", "differing", "refused", "hls4ml failed")}
        per.append(f"| {f} | {len(rs)} | {len(rs) - k['hls4ml failed']} | {k['equal']} | {k['differing']} | "
                   f"{k['refused']} | {k['hls4ml failed']} |")
    return "\n".join([head, "", *per, "", *rows])


def write_table(results, missing=()):
    reasons = json.loads(REASONS.read_text()) if REASONS.exists() else {}
    text = NOTES.read_text()
    tail = (f"\n\nDefined in tests/peer/cases.py, not run yet ({len(missing)}): " + ", ".join(missing) + ".") if missing else ""
    block = f"{BEGIN}\n{table(results, reasons)}{tail}\n{END}"
    if BEGIN in text:
        a, b = text.index(BEGIN), text.index(END) + len(END)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n## The peer suite: hls4ml 1.3's test-suite models (issue 15, item 7)\n\n" + block + "\n"
    NOTES.write_text(text)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m tests.peer")
    ap.add_argument("--n", type=int, default=200, help="inputs per model")
    ap.add_argument("--only", nargs="*", default=[], help="models whose name contains one of these")
    ap.add_argument("--exact", action="store_true", help="--only names whole models, run in the order given")
    ap.add_argument("--table", action="store_true", help="write the table into tests/ref/NOTES.md")
    ap.add_argument("--table-only", action="store_true", help="the table from results.json, nothing run")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "python"))
    from tests.peer.cases import CASES
    old = {r["name"]: r for r in json.loads(RESULTS.read_text())} if RESULTS.exists() else {}
    if not a.table_only:
        if a.exact:
            named = {c.name: c for c in CASES}
            todo = [named[s] for s in a.only]
        else:
            todo = [c for c in CASES if not a.only or any(s in c.name for s in a.only)]
        with tempfile.TemporaryDirectory(prefix="peer") as tmp:
            for k, c in enumerate(todo):
                r = run_case(c, pathlib.Path(tmp) / f"c{k}", n=a.n)
                r["n"] = a.n
                old[c.name] = r
                print(f"{c.name:55s} {outcome(r):14s} {r.get('differ')} {r['message'] or r['hls4ml'][:80]} "
                      f"({r['seconds']} s)", flush=True)
                order = [x.name for x in CASES]
                RESULTS.write_text(json.dumps(sorted(old.values(), key=lambda r: order.index(r["name"])
                                                     if r["name"] in order else 1e9), indent=1) + "\n")
    if a.table or a.table_only:
        order = [x.name for x in CASES]
        write_table([old[nm] for nm in order if nm in old], [nm for nm in order if nm not in old])


if __name__ == "__main__":
    main()
