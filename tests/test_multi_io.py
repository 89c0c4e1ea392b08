"""Models with several inputs and outputs (issue 15, item 1): Keras functional merges of two inputs, a
two-output model, a shared Dense; an ONNX two-input graph; a torch module with two forward() arguments.
The emulator (etchnn predict: one --input per input or an .npz by input name) and the generated C (one
array per input and output) agree bit for bit; --float equals the framework; hls4ml 1.3's C simulation
equals --hls4ml; bad input gets one clear message."""
import contextlib
import io
import os
import subprocess

import numpy as np
import pytest

from conftest import ETCHNN, hls4ml_uniform_project, keras3_or_skip, run

MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
PREC = "fixed<16,6>"
ACCUM = "fixed<32,12>"


def two_input_model(keras, merge):
    """Inputs a (4) and b (4), a Dense on each, the merge, a Dense (3)."""
    L = keras.layers
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    da = L.Dense(4, name="da")(a)
    db = L.Dense(4, name="db")(b)
    return keras.Model([a, b], L.Dense(3, name="out")(getattr(L, merge)(name="m")([da, db])))


def two_output_model(keras):
    L = keras.layers
    x = keras.Input((4,), name="x")
    h = L.Dense(5, activation="relu", name="h")(x)
    return keras.Model(x, [L.Dense(2, name="o1")(h), L.Dense(3, name="o2")(h)])


def shared_model(keras):
    """One Dense called on both inputs (the same weights twice), then their sum."""
    L = keras.layers
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    d = L.Dense(4, name="shared")
    return keras.Model([a, b], L.Add(name="add")([d(a), d(b)]))


def events(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-4, 4, (n, 4)), rng.standard_normal((n, 4)) * 2


def predict2(model, xs, tmp_path, *opts, out="y.npy"):
    """etchnn predict with one --input file per array of xs; the output file's path."""
    args = []
    for k, x in enumerate(xs):
        np.save(tmp_path / f"x{k}.npy", x)
        args += ["--input", tmp_path / f"x{k}.npy"]
    run("predict", model, *args, "--output", tmp_path / out, *opts)
    return tmp_path / out


@pytest.mark.parametrize("merge", MERGES + ["shared"])
def test_keras_two_inputs_float_equals_keras(merge, tmp_path):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(1)
    m = shared_model(keras) if merge == "shared" else two_input_model(keras, merge)
    m.save(tmp_path / "m.keras")
    a, b = events()
    got = np.load(predict2(tmp_path / "m.keras", [a, b], tmp_path, "--float"))
    assert got.shape == (len(a), 4 if merge == "shared" else 3)
    assert np.abs(got - m.predict([a, b], verbose=0)).max() < 1e-4
    # one .npz by input name: the same events (keys in another order than the model's)
    np.savez(tmp_path / "x.npz", b=b, a=a)
    run("predict", tmp_path / "m.keras", "--input", tmp_path / "x.npz", "--output", tmp_path / "z.npy", "--float")
    assert np.array_equal(np.load(tmp_path / "z.npy"), got)


def test_shared_dense_is_two_nodes_with_the_same_weights(tmp_path, etchnn):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(2)
    m = shared_model(keras)
    fw = etchnn.convert(m, output_dir=tmp_path / "prj", precision=PREC)
    dense = [L for L in fw.layers() if L["class"] == "Dense"]
    assert len(dense) == 2, [L["name"] for L in fw.layers()]
    w0, w1 = fw.weights(dense[0]["name"]), fw.weights(dense[1]["name"])
    assert len(w0) == len(w1) == 2   # kernel and bias of each call, the same values (names follow the node's)
    assert all(np.array_equal(u, v) for u, v in zip(w0.values(), w1.values()))
    a, b = events(100)
    # d(a) + d(b) with the same weights: swapping the inputs leaves every output code unchanged
    assert np.array_equal(fw.predict_codes([a, b]), fw.predict_codes([b, a]))


def test_two_outputs_npz_and_text(tmp_path, etchnn):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(3)
    m = two_output_model(keras)
    m.save(tmp_path / "m.keras")
    a, _ = events()
    z = np.load(predict2(tmp_path / "m.keras", [a], tmp_path, "--float", out="y.npz"))
    assert sorted(z.keys()) == ["o1", "o2"]
    for got, ref in zip((z["o1"], z["o2"]), m.predict(a, verbose=0)):
        assert got.shape == ref.shape and np.abs(got - ref).max() < 1e-4
    # .npy: each event's outputs one after the other, equal to the .npz's arrays
    flat = np.load(predict2(tmp_path / "m.keras", [a], tmp_path))
    zq = np.load(predict2(tmp_path / "m.keras", [a], tmp_path, out="q.npz"))
    assert np.array_equal(flat, np.concatenate([zq["o1"], zq["o2"]], axis=1))
    # Python: a list of arrays, one per output, equal to the CLI's
    fw = etchnn.convert(tmp_path / "m.keras", output_dir=tmp_path / "prj")
    assert [nm for nm, _ in fw.outputs] == ["o1", "o2"]
    y = fw.predict(a)
    assert isinstance(y, list) and np.array_equal(y[0], zq["o1"]) and np.array_equal(y[1], zq["o2"])
    assert [v.shape for v in fw.predict(a[0])] == [(2,), (3,)]


def c_driver(name, nin, nout):
    """A program reading events (each input's doubles in order) on stdin and writing every output's doubles."""
    ins = ", ".join(f"i{k}[{name}_IN{k}_N]" for k in range(nin))
    outs = ", ".join(f"o{k}[{name}_OUT{k}_N]" for k in range(nout))
    reads = " || ".join(f"fread(i{k}, sizeof(double), {name}_IN{k}_N, stdin) != {name}_IN{k}_N" for k in range(nin))
    writes = "".join(f"        fwrite(o{k}, sizeof(double), {name}_OUT{k}_N, stdout);\n" for k in range(nout))
    args = ", ".join([f"i{k}" for k in range(nin)] + [f"o{k}" for k in range(nout)])
    return (f'#include <stdio.h>\n#include "{name}.h"\nint main(void) {{\n    double {ins};\n    double {outs};\n'
            f"    for (;;) {{\n        if ({reads})\n            return 0;\n        {name}_predict({args});\n{writes}"
            f"    }}\n}}\n")


@pytest.mark.parametrize("which", ["Concatenate", "two_outputs"])
def test_c_equals_emulator(which, tmp_path):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(4)
    m = two_output_model(keras) if which == "two_outputs" else two_input_model(keras, which)
    m.save(tmp_path / "m.keras")
    xs = list(events(5000, seed=5))[:len(m.inputs)]
    opts = ["--precision", "fixed<10,4,RND_CONV,SAT>"]
    run("compile", tmp_path / "m.keras", "-o", tmp_path / "out", "--emit", "c", *opts)
    header = (tmp_path / "out" / "c" / "m.h").read_text()
    assert f"#define m_N_INPUTS {len(xs)}" in header and f"#define m_N_OUTPUTS {len(m.outputs)}" in header
    (tmp_path / "drv.c").write_text(c_driver("m", len(xs), len(m.outputs)))
    exe = tmp_path / "model_c"
    subprocess.run(["cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-I", tmp_path / "out" / "c",
                    tmp_path / "out" / "c" / "m.c", tmp_path / "drv.c", "-o", exe, "-lm"], check=True)
    stdin = np.concatenate(xs, axis=1).astype(np.float64).tobytes()
    got = np.frombuffer(subprocess.run([exe], input=stdin, capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(len(xs[0]), -1)
    ref = np.load(predict2(tmp_path / "m.keras", xs, tmp_path, *opts))
    assert got.shape == ref.shape and np.array_equal(got, ref)
    assert np.count_nonzero(ref) > ref.size // 2


def test_bad_inputs(tmp_path):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(6)
    two_input_model(keras, "Add").save(tmp_path / "m.keras")
    a, b = events(10)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b3.npy", b[:, :3])
    np.save(tmp_path / "b5.npy", b[:5])
    np.savez(tmp_path / "onlya.npz", a=a)
    cases = [(["--input", tmp_path / "a.npy"], "expected 2 input files (one per model input, in order: 'a', 'b')"),
             (["--input", tmp_path / "a.npy"] * 3, "got 3 files"),
             (["--input", tmp_path / "a.npy", "--input", tmp_path / "b3.npy"], "expected 4 values per event"),
             (["--input", tmp_path / "a.npy", "--input", tmp_path / "b5.npy"], "expected 10 events for input 'b'"),
             (["--input", tmp_path / "onlya.npz"], "expected an array named 'b' (the model's input), got 'a'")]
    for args, msg in cases:
        r = run("predict", tmp_path / "m.keras", *args, check=False)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)
        assert r.stderr.count("\n") == 1, r.stderr
    # the back ends without several inputs say so, and write nothing
    for opts, msg in [(["--hls"], "not yet by the HLS, AXI, Vivado, FuseSoC or CMSSW back ends"),
                      (["--emit", "c,rtl,cmssw"], "not yet by the HLS, AXI, Vivado, FuseSoC or CMSSW back ends"),
                      (["--io", "stream"], "io_stream: expected one input and one output, got 2 and 1")]:
        r = run("compile", tmp_path / "m.keras", "-o", tmp_path / "out", *opts, check=False)
        assert r.returncode == 2 and msg in r.stderr, (opts, r.stderr)
        assert not (tmp_path / "out").exists()
    # RTL: the inputs (outputs) side by side in the benches need one type
    c = tmp_path / "c.yml"
    c.write_text("Model:\n  Precision: fixed<16,6>\nLayerName:\n  a:\n    Precision:\n      result: fixed<12,4>\n")
    r = run("compile", tmp_path / "m.keras", "-c", c, "-o", tmp_path / "out", check=False)
    assert r.returncode == 2 and "RTL: expected the model's inputs to share one type, got fixed<12,4> ('a') and " \
                                  "fixed<16,6> ('b')" in r.stderr, r.stderr
    run("compile", tmp_path / "m.keras", "-c", c, "-o", tmp_path / "out", "--emit", "c")   # the C takes them


def rtl_model(keras):
    """Two inputs, two outputs ready at different cycles (o2 early: delayed to o1's), a shared Dense."""
    L = keras.layers
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    pa, pb = L.Dense(4, name="pa")(a), L.Dense(4, name="pb")(b)
    d = L.Dense(4, name="shared")
    c = L.Concatenate(name="cat")([L.Add(name="add")([d(pa), d(pb)]), L.Multiply(name="mul")([pa, pb])])
    return keras.Model([a, b], [L.Dense(2, name="o1")(c), L.Maximum(name="o2")([pa, pb])])


@pytest.mark.parametrize("reuse", [1, 4])
def test_rtl_two_inputs_two_outputs_verify(reuse, tmp_path):
    """One port per input and output (lint-clean), NAME_flat for the benches; Verilator verify and the Icarus
    bench: every output bit equals the emulator's."""
    import shutil
    keras = keras3_or_skip()
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    keras.utils.set_random_seed(14)
    rtl_model(keras).save(tmp_path / "m.keras")
    c = tmp_path / "c.yml"
    c.write_text(f"Model:\n  Precision: fixed<10,4>\n  ReuseFactor: {reuse}\n")
    out = tmp_path / "out"
    run("compile", tmp_path / "m.keras", "-c", c, "-o", out)
    top = (out / "rtl" / "m.v").read_text()
    for port in ("input wire [39:0] in0_data", "input wire [29:0] in1_data", "output wire [19:0] out0_data",
                 "output wire [39:0] out1_data"):
        assert port in top, port
    assert "out1_d1" in top   # o2 waits for o1
    for t in ("m", "m_flat"):
        r = subprocess.run(["verilator", "--lint-only", "-Wall", "-F", out / "rtl" / "files.f", "--top-module", t],
                           capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    r = run("verify", out, "--n", "2000")
    assert "PASS" in r.stdout and "0 of 12000 outputs differ" in r.stdout, r.stdout
    if reuse == 1 and shutil.which("iverilog"):
        rtl = out / "rtl"
        subprocess.run(["iverilog", "-g2005", "-o", "tb.vvp", "-c", "files.f", "tb_m_flat.v"], cwd=rtl, check=True)
        sim = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=rtl, capture_output=True, text=True, timeout=600)
        assert "PASS" in sim.stdout and "FAIL" not in sim.stdout, sim.stdout[-2000:]


def test_report_counts_every_input_and_held_output_once(tmp_path):
    """report.json's FF estimate holds the registers of both inputs (4 + 3 values of 10 bits) and of the output
    that waits for the last (o2: 4 x 10 bits per cycle of wait), and report.txt's part percentage is that same
    estimate over the part's FFs (it used to count the input registers a second time; report.json only the
    first input)."""
    import json
    import re
    keras = keras3_or_skip()
    keras.utils.set_random_seed(14)
    rtl_model(keras).save(tmp_path / "m.keras")
    c = tmp_path / "c.yml"
    c.write_text("Model:\n  Precision: fixed<10,4>\n")
    out = tmp_path / "out"
    run("compile", tmp_path / "m.keras", "-c", c, "-o", out, "--part", "xc7z020", "--emit", "rtl")
    r = json.loads((out / "report.json").read_text())
    ff = r["estimate"]["ff"]
    held = ff - sum(layer["ff_estimate"] for layer in r["layers"]) - r["latency_cycles"] - (4 + 3) * 10
    assert held > 0 and held % 40 == 0, held
    pct = float(re.search(r"of its LUTs, ([0-9.]+)% FFs", (out / "report.txt").read_text()).group(1))
    assert pct == round(100 * ff / r["part"]["ff"], 1), (pct, ff)


def test_python_predict_list_dict_and_errors(tmp_path, etchnn):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(7)
    m = two_input_model(keras, "Subtract")
    fw = etchnn.convert(m, output_dir=tmp_path / "prj")
    assert [nm for nm, _ in fw.inputs] == ["a", "b"]
    a, b = events(300)
    y = fw.predict([a, b])
    assert y.shape == (300, 3)
    assert np.array_equal(fw.predict((a, b)), y) and np.array_equal(fw.predict({"b": b, "a": a}), y)
    assert np.array_equal(fw.predict([a[7], b[7]]), y[7])
    m.save(tmp_path / "m.keras")
    assert np.array_equal(np.load(predict2(tmp_path / "m.keras", [a, b], tmp_path)), y)
    for bad, msg in [(a, "expected 2 arrays, one per model input ['a', 'b']"),
                     ([a], "expected 2 arrays"),
                     ({"a": a}, "missing ['b']"),
                     ({"a": a, "b": b, "c": b}, "unknown ['c']"),
                     ([a, b[:, :3]], "x['b']: expected events of 4 values"),
                     ([a, b[:10]], "expected the same number of events for every input")]:
        with pytest.raises(etchnn.EtchnnError, match=None) as e:
            fw.predict(bad)
        assert msg in str(e.value), str(e.value)


class TwoArgs:
    """A torch module of two forward() arguments (built when torch is importable)."""

    @staticmethod
    def make():
        torch = pytest.importorskip("torch")

        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fa, self.fb, self.o = torch.nn.Linear(4, 5), torch.nn.Linear(3, 5), torch.nn.Linear(5, 2)

            def forward(self, left, right):
                return self.o(torch.relu(self.fa(left) + self.fb(right)))

        torch.manual_seed(0)
        return torch, M().double()


def test_torch_two_arguments_and_onnx_graph(tmp_path, etchnn):
    torch, m = TwoArgs.make()
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    rng = np.random.default_rng(8)
    left, right = rng.standard_normal((500, 4)), rng.standard_normal((500, 3))
    fw = etchnn.convert(m, output_dir=tmp_path / "prj", input_shape=[(4,), (3,)])
    assert fw.inputs == [("left", 4), ("right", 3)]
    with torch.no_grad():
        ref = m(torch.from_numpy(left), torch.from_numpy(right)).numpy()
    assert np.abs(fw.predict([left, right], float_mode=True) - ref).max() < 1e-4
    # the same module as an ONNX file with two graph inputs: --float equals onnxruntime, and equals Python's codes
    proto = etchnn.frontends.to_onnx(m, [(4,), (3,)])
    assert [i.name for i in proto.graph.input] == ["left", "right"]
    onnx.save(proto, tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"))
    oref = sess.run(None, {"left": left, "right": right})[0]   # a float64 module: a float64 graph
    np.savez(tmp_path / "x.npz", left=left, right=right)
    run("predict", tmp_path / "m.onnx", "--input", tmp_path / "x.npz", "--output", tmp_path / "y.npy", "--float")
    assert np.abs(np.load(tmp_path / "y.npy") - oref).max() < 1e-4
    run("predict", tmp_path / "m.onnx", "--input", tmp_path / "x.npz", "--output", tmp_path / "q.npy")
    assert np.array_equal(np.load(tmp_path / "q.npy"), fw.predict([left, right]))
    # malformed shapes: one message naming them
    for bad in ([(4,), "x"], [(4,), (0,)], "abc"):
        with pytest.raises(etchnn.EtchnnError, match="input_shape"):
            etchnn.convert(m, output_dir=tmp_path / "bad", input_shape=bad)


def hls4ml_csim_equals(m, tmp_path, xs):
    """hls4ml 1.3's io_parallel csim of Keras model m (every precision PREC, accumulators ACCUM) equals
    `etchnn predict --hls4ml` with the same types on the events xs (one array per input), bit for bit."""
    hm = hls4ml_uniform_project(m, tmp_path, PREC, ACCUM)
    with contextlib.redirect_stdout(io.StringIO()):
        ref = hm.predict([np.ascontiguousarray(x) for x in xs] if len(xs) > 1 else xs[0])
    ref = [np.asarray(r, dtype=np.float64).reshape(len(xs[0]), -1) for r in (ref if isinstance(ref, list) else [ref])]
    c = tmp_path / "c.yml"
    c.write_text(f"Model:\n  Precision:\n    default: '{PREC}'\n    accum: '{ACCUM}'\n")
    got = np.load(predict2(tmp_path / "m.keras", xs, tmp_path, "-c", c, "--hls4ml"))
    ref = np.concatenate(ref, axis=1)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert np.count_nonzero(ref < 0) > ref.size // 10 and np.count_nonzero(ref > 0) > ref.size // 10


@pytest.mark.parametrize("merge", ["Add"])
def test_two_inputs_equal_hls4ml_csim(merge, tmp_path):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(9)
    hls4ml_csim_equals(two_input_model(keras, merge), tmp_path, list(events(5000, seed=10)))


@pytest.mark.extended
@pytest.mark.parametrize("merge", [mg for mg in MERGES if mg != "Add"] + ["shared", "two_outputs"])
def test_more_equal_hls4ml_csim(merge, tmp_path):
    keras = keras3_or_skip()
    keras.utils.set_random_seed(11)
    if merge == "two_outputs":
        hls4ml_csim_equals(two_output_model(keras), tmp_path, [events(5000, seed=12)[0]])
    else:
        m = shared_model(keras) if merge == "shared" else two_input_model(keras, merge)
        hls4ml_csim_equals(m, tmp_path, list(events(5000, seed=12)))


def test_single_input_cli_unchanged(tmp_path):
    """One input, one output: --input given twice is refused as before (one file per model input)."""
    keras = keras3_or_skip()
    keras.utils.set_random_seed(13)
    L = keras.layers
    x = keras.Input((4,), name="x")
    keras.Model(x, L.Dense(2, name="d")(x)).save(tmp_path / "m.keras")
    a, _ = events(20)
    np.save(tmp_path / "a.npy", a)
    r = run("predict", tmp_path / "m.keras", "--input", tmp_path / "a.npy", "--input", tmp_path / "a.npy", check=False)
    assert r.returncode == 2 and "expected 1 input file (one per model input, in order: 'x')" in r.stderr
    np.savez(tmp_path / "a.npz", x=a)
    one = run("predict", tmp_path / "m.keras", "--input", tmp_path / "a.npy").stdout
    assert run("predict", tmp_path / "m.keras", "--input", tmp_path / "a.npz").stdout == one
    assert os.path.exists(ETCHNN)
