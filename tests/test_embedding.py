"""Embedding (Keras Embedding(input_dim, output_dim); OP_EMBED): integer indices in, the quantized table row out.

hls4ml 1.3 (nnet_embed.h, io_parallel) copies embeddings[x * output_dim + i] (the table in its 'embeddings' type)
into the result type; its test (test_embed.py) builds Embedding(13, 8) on 100 indices and types the input
ap_uint<4> by hand.  An index outside the table reads past hls4ml's array (undefined); etchnn gives 0 there.
An index type with fractional bits is read as hls4ml reads it, as the flat table position trunc(x * D + i)
(mixing rows), with a warning; the RTL refuses it.

- hls4ml's test model and an Embedding -> Flatten -> Dense model: equal to hls4ml 1.3's C simulation on every
  in-range index (stored codes in tests/ref/csim, a fresh csim extended); outside the table 0.  hls4ml's test
  model with config_from_keras_model's configuration unchanged (fractional fixed<16,6> indices): equal too.
- --float equals Keras and torch (stored), the generated C equals the emulator, Verilator verify with unsigned
  and signed index types (extended); ONNX Gather of a constant table against numpy's floored table.
- Precision.embeddings changes the outputs; Precision.weight on an Embedding changes nothing (one line).
- The HLS C++ project's g++ csim equals the emulator, integer and fractional index types (extended)."""
import contextlib
import io
import json
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from conftest import SANITIZED, predict, run

REF = pathlib.Path(__file__).parent / "ref"
MODELS = {
    # name: (model file, input length, rows, index type, default precision)
    "embedding13": ("embedding13.keras", 100, 13, "ap_uint<4>", "ap_fixed<16,6>"),
    "embedding_dense": ("embedding_dense.keras", 6, 20, "ap_uint<5>", "ap_fixed<12,4>"),
}
INPUT_NAME = {"embedding13": "embedding_input", "embedding_dense": "idx"}


def hls_config(name, embeddings="auto"):
    """config_from_keras_model's configuration (name granularity), the index type set as hls4ml's test sets it."""
    _, _, _, itype, default = MODELS[name]
    ln = {INPUT_NAME[name]: {"Trace": False, "Precision": {"result": itype}}}
    if name == "embedding13":
        ln["embedding"] = {"Trace": False, "Precision": {"result": "auto", "embeddings": embeddings}, "ReuseFactor": 1}
    else:
        ln["emb"] = {"Trace": False, "Precision": {"result": "auto", "embeddings": embeddings}, "ReuseFactor": 1}
        ln["flat"] = {"Trace": False, "Precision": {"result": "auto"}}
        ln["fc"] = {"Trace": False, "Precision": {"result": "auto", "weight": "auto", "bias": "auto",
                                                  "accum": "auto"}, "ReuseFactor": 1}
    return {"Model": {"Precision": {"default": default}, "ReuseFactor": 1, "Strategy": "Latency",
                      "BramFactor": 1000000000, "TraceOutput": False}, "LayerName": ln}


def events(name, n=500, inside=True):
    _, length, rows, itype, _ = MODELS[name]
    hi = rows if inside else 2 ** int(itype.split("<")[1].rstrip(">"))
    return np.random.default_rng(7).integers(0, hi, (n, length)).astype(np.float64)


def write_cfg(tmp_path, name, **kw):
    p = tmp_path / f"{name}.yml"
    p.write_text(json.dumps({"HLSConfig": hls_config(name, **kw)}))
    return p


def frac_bits(name):
    return 10 if name == "embedding13" else 16   # fixed<16,6>; the Dense's auto result fixed<30,14>


@pytest.mark.parametrize("name", sorted(MODELS))
def test_equals_stored_hls4ml_csim(name, tmp_path):
    model = REF / "models" / MODELS[name][0]
    got = predict(model, events(name), tmp_path, "-c", write_cfg(tmp_path, name), "--hls4ml")
    ref = np.load(REF / "csim" / f"{name}.npy").astype(np.float64) / 2 ** frac_bits(name)
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert len(np.unique(ref)) > 20
    fl = predict(model, events(name), tmp_path, "--float")
    assert np.abs(fl - np.load(REF / "csim" / f"{name}_keras.npy")).max() < 1e-5


def test_outside_the_table_is_zero(tmp_path):
    x = events("embedding13", 200, inside=False)
    got = predict(REF / "models" / "embedding13.keras", x, tmp_path, "-c", write_cfg(tmp_path, "embedding13"))
    got = got.reshape(200, 100, 8)
    out = x >= 13
    assert out.sum() > 1000 and np.all(got[out] == 0) and np.count_nonzero(got[~out]) > 1000


def test_embeddings_type_and_refusals(tmp_path):
    model = REF / "models" / "embedding13.keras"
    base = predict(model, events("embedding13"), tmp_path, "-c", write_cfg(tmp_path, "embedding13"))
    alt = predict(model, events("embedding13"), tmp_path, "-c", write_cfg(tmp_path, "embedding13",
                                                                           embeddings="fixed<6,1>"))
    assert np.count_nonzero(alt != base) > 1000
    cfg = hls_config("embedding13")
    cfg["LayerName"]["embedding"]["Precision"]["weight"] = "fixed<6,1>"
    (tmp_path / "w.yml").write_text(json.dumps({"HLSConfig": cfg}))
    r = run("compile", model, "-c", tmp_path / "w.yml", "-o", tmp_path / "o1")
    assert "LayerName.embedding.Precision.weight accepted; it changes nothing here" in r.stderr, r.stderr
    r = run("compile", model, "-c", frac_cfg(tmp_path), "-o", tmp_path / "o2", check=False)
    assert r.returncode != 0 and "node 'embedding' (Embedding): expected an integer index type in RTL" in r.stderr


def frac_cfg(tmp_path):
    """config_from_keras_model's configuration unchanged: the indices in the default fixed<16,6>."""
    cfg = hls_config("embedding13")
    del cfg["LayerName"]["embedding_input"]
    (tmp_path / "frac.yml").write_text(json.dumps({"HLSConfig": cfg}))
    return tmp_path / "frac.yml"


def frac_events():
    """Fractional indices whose positions trunc(x * 8 + i) stay inside hls4ml's array (x in (-0.1, 12])."""
    return np.round(np.random.default_rng(8).uniform(-0.1, 12, (500, 100)) * 1024) / 1024


def test_fractional_index_as_hls4ml(tmp_path):
    """hls4ml reads a fractional index x as table position trunc(x * 8 + i): rows mixed, equal to its csim."""
    model = REF / "models" / "embedding13.keras"
    xin, yout = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(xin, frac_events())
    r = run("predict", model, "--input", xin, "--output", yout, "-c", frac_cfg(tmp_path), "--hls4ml")
    assert "index type fixed<16,6> has fractional bits" in r.stderr, r.stderr
    got = np.load(yout)
    ref = np.load(REF / "csim" / "embedding13_frac.npy").astype(np.float64) / 1024
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    out = tmp_path / "c"
    run("compile", model, "-c", frac_cfg(tmp_path), "--emit", "c", "-o", out)
    assert np.array_equal(c_predict(out, frac_events()[:100], 100, 800, tmp_path), got[:100])


def c_predict(out, x, nin, nout, tmp_path):
    """The generated C's NAME_predict on the rows of x."""
    c = next((out / "c").glob("*.c"))
    main = tmp_path / "main.c"
    main.write_text('#include <stdio.h>\n#include "%s.h"\nint main(void){static double x[%d],y[%d];for(;;){'
                    'for(int k=0;k<%d;k++)if(scanf("%%lf",x+k)!=1)return 0;%s_predict(x,y);'
                    'for(int k=0;k<%d;k++)printf("%%.17g ",y[k]);printf("\\n");}}\n' % (c.stem, nin, nout, nin, c.stem, nout))
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-I", str(out / "c"), str(c), str(main),
                    "-o", str(tmp_path / "m"), "-lm"], check=True)
    r = subprocess.run([str(tmp_path / "m")], input="\n".join(" ".join("%.17g" % v for v in row) for row in x), text=True,
                       capture_output=True, check=True)
    return np.loadtxt(io.StringIO(r.stdout), ndmin=2)


@pytest.mark.skipif(SANITIZED, reason="compiles the generated C")
def test_c_equals_emulator(tmp_path):
    name = "embedding_dense"
    model = REF / "models" / MODELS[name][0]
    out = tmp_path / "out"
    run("compile", model, "-c", write_cfg(tmp_path, name), "--hls4ml", "-o", out, "--emit", "c")
    x = events(name, 300, inside=False)
    emu = predict(model, x, tmp_path, "-c", write_cfg(tmp_path, name), "--hls4ml")
    assert np.array_equal(c_predict(out, x, 6, 3, tmp_path), emu)


@pytest.mark.extended
@pytest.mark.skipif(shutil.which("verilator") is None or SANITIZED, reason="needs Verilator")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_verilator_verify(name, tmp_path):
    model = REF / "models" / MODELS[name][0]
    out = tmp_path / "out"
    r = run("compile", model, "-c", write_cfg(tmp_path, name), "--hls4ml", "-o", out)
    subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", name] +
                   [str(p) for p in (out / "rtl").glob("*.v") if not p.name.startswith("tb_")], check=True)
    r = run("verify", out, "--n", "3000")
    assert "PASS" in r.stdout + r.stderr and " 0 of " in r.stdout + r.stderr


@pytest.mark.extended
@pytest.mark.parametrize("name", sorted(MODELS))
def test_stored_reference_is_hls4ml_csim(name, tmp_path):
    """The stored codes against a fresh hls4ml 1.3 csim of the stored model, and Keras's float outputs."""
    pytest.importorskip("hls4ml")
    keras = pytest.importorskip("keras")
    import hls4ml
    m = keras.models.load_model(REF / "models" / MODELS[name][0])
    with contextlib.redirect_stdout(io.StringIO()):
        hm = hls4ml.converters.convert_from_keras_model(m, backend="Vivado", hls_config=hls_config(name),
                                                        io_type="io_parallel", output_dir=str(tmp_path / "prj"))
        hm.compile()
    x = events(name)
    ref = np.asarray(hm.predict(x.astype(np.float32)), dtype=np.float64).reshape(len(x), -1)
    codes = np.round(ref * 2 ** frac_bits(name))
    assert np.array_equal(np.load(REF / "csim" / f"{name}.npy"), codes)
    fl = np.asarray(m.predict(x, verbose=0), dtype=np.float64).reshape(len(x), -1)
    assert np.array_equal(np.load(REF / "csim" / f"{name}_keras.npy"), fl)
    if name == "embedding13":   # config_from_keras_model's configuration unchanged: fractional indices
        cfg = hls_config(name)
        del cfg["LayerName"]["embedding_input"]
        with contextlib.redirect_stdout(io.StringIO()):
            hm = hls4ml.converters.convert_from_keras_model(m, backend="Vivado", hls_config=cfg,
                                                            io_type="io_parallel", output_dir=str(tmp_path / "prj2"))
            hm.compile()
        ref = np.asarray(hm.predict(frac_events().astype(np.float32)), dtype=np.float64).reshape(500, -1)
        assert np.array_equal(np.load(REF / "csim" / "embedding13_frac.npy"), np.round(ref * 1024))


def test_onnx_gather_table(tmp_path):
    """ONNX Gather(constant table, data indices) (torch's nn.Embedding): the table row quantized to the
    embeddings type (floor, fixed<8,2>: an independent numpy reference), 0 outside 0..rows-1 (negative too)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    table = np.random.default_rng(10).normal(0, 1, (11, 5)).astype(np.float32)
    g = helper.make_graph([helper.make_node("Gather", ["table", "idx"], ["y"], name="emb", axis=0)], "g",
                          [helper.make_tensor_value_info("idx", TensorProto.INT64, [None, 7])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 7, 5])],
                          [numpy_helper.from_array(table, "table")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "g.onnx")
    (tmp_path / "c.yml").write_text(json.dumps({"Model": {"Precision": "fixed<16,6>"}, "LayerName": {
        "idx": {"Precision": {"result": "fixed<6,6>"}}, "emb": {"Precision": {"embeddings": "fixed<8,2>"}}}}))
    x = np.random.default_rng(11).integers(-20, 20, (300, 7)).astype(np.float64)
    got = predict(tmp_path / "g.onnx", x, tmp_path, "-c", tmp_path / "c.yml").reshape(300, 7, 5)
    q = np.floor(table.astype(np.float64) * 64) / 64
    inside = (x >= 0) & (x < 11)
    assert np.array_equal(got[inside], q[x[inside].astype(int)]) and np.all(got[~inside] == 0)
    assert inside.sum() > 500 and (~inside).sum() > 500
    fl = predict(tmp_path / "g.onnx", np.clip(x, 0, 10), tmp_path, "--float").reshape(300, 7, 5)
    assert np.array_equal(fl, table[np.clip(x, 0, 10).astype(int)].astype(np.float64))


def test_torch_export_float(tmp_path):
    """A torch nn.Embedding -> relu -> Linear model exported by etchnn.frontends.torch_to_onnx (stored, layer 'emb'):
    --float equals torch's outputs (stored); the LayerName entry 'emb' types its table."""
    model = REF / "models" / "embedding_torch.onnx"
    x = np.random.default_rng(9).integers(0, 13, (300, 6)).astype(np.float64)
    fl = predict(model, x, tmp_path, "--float")
    assert np.abs(fl - np.load(REF / "csim" / "embedding_torch_float.npy")).max() < 1e-5
    (tmp_path / "c.yml").write_text(json.dumps({"LayerName": {"x": {"Precision": {"result": "ufixed<4,4>"}},
                                                              "emb": {"Precision": {"embeddings": "fixed<4,1>"}}}}))
    (tmp_path / "d.yml").write_text(json.dumps({"LayerName": {"x": {"Precision": {"result": "ufixed<4,4>"}}}}))
    a = predict(model, x, tmp_path, "-c", tmp_path / "c.yml")
    b = predict(model, x, tmp_path, "-c", tmp_path / "d.yml")
    assert np.count_nonzero(a != b) > 100 and np.abs(b - fl).max() < 0.05


@pytest.mark.extended
def test_torch_export_names(tmp_path):
    """torch_to_onnx: indices as int64 for a model whose first layer is an nn.Embedding, the Gather named after its
    module; without input_shape a message asks for it."""
    torch = pytest.importorskip("torch")
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "python"))
    from etchnn.frontends import EtchnnError, torch_to_onnx

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(13, 4)
            self.fc = torch.nn.Linear(24, 3)

        def forward(self, x):
            return self.fc(torch.relu(self.emb(x)).flatten(1))

    torch.manual_seed(0)
    m = M().eval()
    with pytest.raises(EtchnnError, match=r"pass input_shape=\(indices"):
        torch_to_onnx(m)
    p = torch_to_onnx(m, (6,))
    assert [n.name for n in p.graph.node] == ["emb", "relu", "flatten", "fc"]
    assert p.graph.input[0].type.tensor_type.elem_type == 7   # int64
    import onnx
    onnx.save(p, tmp_path / "m.onnx")
    x = np.random.default_rng(9).integers(0, 13, (300, 6))
    ref = m(torch.tensor(x)).detach().numpy().astype(np.float64)
    assert np.abs(predict(tmp_path / "m.onnx", x.astype(np.float64), tmp_path, "--float") - ref).max() < 1e-5


@pytest.mark.extended
@pytest.mark.skipif(shutil.which("verilator") is None or SANITIZED, reason="needs Verilator")
def test_verilator_verify_signed_index(tmp_path):
    """A signed index type (fixed<6,6>: -32..31 around a 13-row table): the ROMs' clamp on both sides."""
    (tmp_path / "c.yml").write_text(json.dumps({"LayerName": {"x": {"Precision": {"result": "fixed<6,6>"}}}}))
    out = tmp_path / "out"
    run("compile", REF / "models" / "embedding_torch.onnx", "-c", tmp_path / "c.yml", "-o", out)
    r = run("verify", out, "--n", "2000")
    assert "PASS" in r.stdout + r.stderr and " 0 of 6000 " in r.stdout + r.stderr


@pytest.mark.extended
@pytest.mark.skipif(shutil.which("g++") is None or SANITIZED, reason="needs g++")
@pytest.mark.parametrize("frac", [False, True])
def test_hls_csim_equals_emulator(frac, tmp_path):
    """The HLS C++ project (g++ against the ap_types headers) equals etchnn predict on indices in and out of the
    table, with an integer (ap_uint<4>) and a fractional (fixed<16,6>, hls4ml's flat position) index type."""
    from test_hls import csim_equals_predict
    model = REF / "models" / "embedding13.keras"
    cfg = frac_cfg(tmp_path) if frac else write_cfg(tmp_path, "embedding13")
    x = frac_events()[:200] if frac else events("embedding13", 200, inside=False)
    hls, _ = csim_equals_predict(model, tmp_path, ("-c", cfg, "--hls4ml"), x=x, emit="c,hls")
    assert "etn_raw<emb" in "".join(p.read_text() for p in (hls / "firmware").rglob("*.cpp"))
