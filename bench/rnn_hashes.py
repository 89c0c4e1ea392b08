"""rnn_hashes.py — hw_hashes.sh for recurrent layers: compile a fixed set of
recurrent models (built by the test suite's own builders) with one etchnn
binary and print the sha256 of every file written (C, Verilog, report, HLS
project) and of the --dump-after precision text and messages (the time a
compile took left out), so that two binaries can be
proved byte-identical on them (no shared model is recurrent):

    python bench/rnn_hashes.py models DIR          # build the models once (Keras 3, QKeras, torch)
    python bench/rnn_hashes.py hash ETCHNN DIR OUT > a.txt
    python bench/rnn_hashes.py hash build/etchnn DIR OUT2 > b.txt && diff a.txt b.txt

One "sha256  CASE/relative/path" line per file, sorted; a failing case prints
"FAILED  CASE" (the message's hash too: errors are compared).  A model whose
builder is unavailable (no QKeras, no torch) is skipped with a note on stderr."""
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
os.environ.setdefault("KERAS_BACKEND", "torch")


def make_models(d):
    d = pathlib.Path(d)
    d.mkdir(parents=True, exist_ok=True)
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "ref")]
    import test_recurrent as tr
    for name in tr.CASES:   # Keras 3: SimpleRNN, LSTM, GRU, Bidirectional (seq, merges), TimeDistributed
        _, p = tr.trained(name, d)
        print("built", p, file=sys.stderr)
    import test_recurrent_static as ts
    ts.stacked(d)
    try:
        import test_qkeras_rnn as tq
        for name in tq.EXACT + tq.FLOAT:   # QSimpleRNN, QLSTM, QGRU
            j, w = tq.model(name)
            shutil.copy(j, d / f"{name}.json")
            shutil.copy(w, d / f"{name}_weights.h5")
    except BaseException as e:   # pytest.skip is a BaseException
        print("rnn_hashes: no QKeras models:", e, file=sys.stderr)
    try:
        import test_recurrent_torch as tt
        for name in tt.CASES:   # ONNX RNN, LSTM, GRU from torch: layers, directions, layouts
            tt.export(tt.model(name), d / f"torch_{name}.onnx", dynamo=False)
    except BaseException as e:
        print("rnn_hashes: no torch models:", e, file=sys.stderr)


def cases(d):
    """(case name, model file, options, config or None)"""
    d = pathlib.Path(d)
    prec = ["--precision", "fixed<10,4>", "--tables", "hls4ml"]
    out = []
    for p in sorted(d.glob("*.keras")) + sorted(d.glob("q*.json")) + sorted(d.glob("torch_*.onnx")):
        out.append((p.stem, p, [], None))
        out.append((p.stem + "_10_4", p, prec, None))
    static = {"LayerName": {"rnn": {"Static": True}}}
    for m in ["lstm", "gru", "simplernn_seq", "bi_lstm_concat_seq_td", "lstm_back_hard"]:
        out.append((m + "_static", d / f"{m}.keras", prec, static))
    out.append(("stacked_static", d / "stacked.keras", prec,
                {"LayerName": {"rnn": {"Static": True}, "rnn2": {"Static": True, "RecurrentReuseFactor": 2}}}))
    out.append(("torch_gru_h_static", d / "torch_gru_h.onnx", prec, {"LayerName": {"rnn_gru": {"Static": True}}}))
    layer = {"LayerName": {"rnn": {"Precision": {"result": "fixed<11,4>", "accum": "fixed<13,5>"}},
                           "rnn_t3_state": {"Precision": {"result": "fixed<9,3>"}}}}
    out.append(("lstm_layername", d / "lstm.keras", ["--no-rtl"], layer))
    out.append(("lstm_hls", d / "lstm.keras", prec + ["--hls"], None))
    out.append(("qlstm_hls", d / "qlstm.json", ["--hls"], None))
    return out


def sha(p):
    return hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest()


def hash_all(etchnn, d, outdir):
    etchnn, outdir = os.path.abspath(etchnn), pathlib.Path(outdir)
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    lines = []
    for name, model, opts, cfg in cases(d):
        if not model.exists():
            print(f"rnn_hashes: skipped {name}: {model} not present", file=sys.stderr)
            continue
        args = [etchnn, "compile", str(model), "-o", str(outdir / name), *opts]
        if cfg is not None:
            cp = outdir / f"{name}.cfg.json"
            cp.write_text(json.dumps(cfg))
            args += ["-c", str(cp)]
        r = subprocess.run(args + ["--dump-after", "precision"], capture_output=True, timeout=900)
        (outdir / f"{name}.log").write_bytes(r.stdout + r.stderr)
        if r.returncode:
            lines.append(f"FAILED  {name} rc={r.returncode} {hashlib.sha256(r.stderr).hexdigest()}")
            continue
        text = re.sub(rb" in [0-9.]+ ms", b" in (time)", r.stdout + r.stderr)   # the compile's own time
        lines.append(f"{hashlib.sha256(text).hexdigest()}  {name}/(stdout+stderr)")
        for f in sorted((outdir / name).rglob("*")):
            if f.is_file():
                lines.append(f"{sha(f)}  {f.relative_to(outdir)}")
    for l in sorted(lines, key=lambda s: s.split("  ", 1)[1]):
        print(l)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "models":
        make_models(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "hash":
        hash_all(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
