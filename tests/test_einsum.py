"""EinsumDense (Keras 3) and Einsum (ONNX, as torch.onnx exports torch.einsum) (issue 15 item 5).

Both are lowered onto ops etchnn has (frontends/einsum.c): an EinsumDense onto transposes, reshapes and one Dense
with a block-diagonal weight matrix (one block per inplace index; with a bias that varies along the input's free
axes, one block per (inplace, free) pair, so that every output has its own bias); an Einsum of two tensors onto
transposes, reshapes, two repeats (UpSampling that only moves bits), their elementwise product typed the layer's
accum and a sum per row (a Dot's sum).  The sums are hls4ml 1.3's (see tests/ref/NOTES.md "EinsumDense and Einsum").

- Five models (tests/ref/einsum_models.py writes them, hls4ml's configs edited as it says, csim codes stored):
  EinsumDense with an inplace axis and a bias along the input's free axis (narrow weights, a truncating accum, a
  rounding and saturating result); one with a saturating accum (hls4ml's order), relu, then Flatten and Dense; one
  with hls4ml's configuration unchanged ('auto' is hls4ml's default type here); torch's outer product of two
  vectors and Linear then einsum('ij,ij->i') of its output with itself.  Equal to hls4ml 1.3's csim on every output;
  --float equals Keras / torch (stored); the generated C equals the emulator.
- Refusals name the node and the equation.  Verilator verify of each model and a fresh csim (extended)."""
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import run

REF = pathlib.Path(__file__).parent / "ref"
sys.path.insert(0, str(REF))
import einsum_models as E  # noqa: E402


def predict(nm, tmp_path, *opts):
    args = []
    xs = E.events(nm)
    for k, x in enumerate(xs):
        np.save(tmp_path / f"x{k}.npy", x.reshape(len(x), -1))
        args += ["--input", tmp_path / f"x{k}.npy"]
    run("predict", E.model_path(nm), *args, "--output", tmp_path / "y.npy", *opts)
    return np.load(tmp_path / "y.npy").reshape(len(xs[0]), -1)


def cfg_args(nm):
    return ["-c", E.cfg_path(nm), "--hls4ml"]


@pytest.mark.parametrize("nm", E.NAMES)
def test_equals_stored_hls4ml_csim(nm, tmp_path):
    ref = np.load(REF / "csim" / f"einsum_{nm}.npy") / E.SCALE
    got = predict(nm, tmp_path, *cfg_args(nm))
    bad = np.argwhere(got != ref)
    assert len(bad) == 0, f"{len(bad)} of {got.size} outputs differ; first at {bad[0]}"
    assert len(np.unique(ref)) > 300
    fl = predict(nm, tmp_path, "--float")[:E.NF]
    want = np.load(REF / "csim" / f"einsum_{nm}_float.npy").astype(np.float64)
    assert np.abs(fl - want).max() < 1e-5 * max(1.0, np.abs(want).max())


def test_saturating_accum_order_matters(tmp_path):
    """ed_rows' accum saturates: summed exactly (SatOrder exact) some outputs differ from hls4ml's chain."""
    import yaml
    cfg = yaml.safe_load(E.cfg_path("ed_rows").read_text())
    cfg["LayerName"]["ed"]["SatOrder"] = "exact"   # a layer setting wins over --hls4ml
    (tmp_path / "c.yml").write_text(json.dumps(cfg))
    ref = np.load(REF / "csim" / "einsum_ed_rows.npy") / E.SCALE
    got = predict("ed_rows", tmp_path, "-c", tmp_path / "c.yml", "--hls4ml")
    assert np.count_nonzero(got != ref) > 0


def test_auto_is_hls4ml_default(tmp_path):
    """ed_auto's configuration is 'auto' everywhere: under --hls4ml that is hls4ml's default type (it infers none
    for an EinsumDense); etchnn's own 'auto' (an exact accumulator and result) gives other, finer outputs."""
    ref = np.load(REF / "csim" / "einsum_ed_auto.npy") / E.SCALE
    exact = predict("ed_auto", tmp_path, "-c", E.cfg_path("ed_auto"))
    assert np.count_nonzero(exact != ref) > 0


C_DRIVER = """#include <stdio.h>
#include "{name}.h"
int main(void) {{
    double x[{nin}], y[{nout}];
    while (fread(x, sizeof x, 1, stdin) == 1) {{
        {call}
        fwrite(y, sizeof y, 1, stdout);
    }}
    return 0;
}}
"""


@pytest.mark.parametrize("nm", ["ed_flat", "ein_outer"])
def test_c_equals_emulator(nm, tmp_path):
    xs = [x[:200] for x in E.events(nm)]
    out = tmp_path / "out"
    run("compile", E.model_path(nm), "-o", out, "--emit", "c", *cfg_args(nm))
    name = next((out / "c").glob("*.h")).stem
    header = (out / "c" / f"{name}.h").read_text()
    nin = sum(int(np.prod(x.shape[1:])) for x in xs)
    want = predict(nm, tmp_path, *cfg_args(nm))[:200]
    ins = ", ".join(f"x + {sum(int(np.prod(x.shape[1:])) for x in xs[:k])}" for k in range(len(xs)))
    fn = f"{name}_predict"
    assert fn in header, header
    (tmp_path / "drv.c").write_text(C_DRIVER.format(name=name, nin=nin, nout=want.shape[1],
                                                    call=f"{fn}({ins}, y);"))
    exe = tmp_path / "model_c"
    subprocess.run(["cc", "-std=c99", "-O1", "-I", out / "c", out / "c" / f"{name}.c", tmp_path / "drv.c", "-o", exe,
                    "-lm"], check=True)
    stdin = np.concatenate([x.reshape(200, -1) for x in xs], axis=1).astype(np.float64).tobytes()
    got = np.frombuffer(subprocess.run([exe], input=stdin, capture_output=True, check=True).stdout,
                        dtype=np.float64).reshape(200, -1)
    assert np.array_equal(got, want)


def onnx_einsum(path, eq, shapes, out_shape, const=None):
    import onnx
    from onnx import TensorProto as T
    from onnx import helper as h
    ins = [h.make_tensor_value_info(f"x{k}", T.FLOAT, [None, *s]) for k, s in enumerate(shapes)]
    names, inits = [f"x{k}" for k in range(len(shapes))], []
    if const is not None:
        inits.append(h.make_tensor("w", T.FLOAT, const.shape, const.ravel().tolist()))
        names.append("w")
    node = h.make_node("Einsum", names, ["y"], equation=eq, name="einsum")
    g = h.make_graph([node], "g", ins, [h.make_tensor_value_info("y", T.FLOAT, [None, *out_shape])], initializer=inits)
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), str(path))
    return path


def test_refused(tmp_path):
    pytest.importorskip("onnx")
    cases = [("bij,bjk->bk", [(3, 4), (4, 5)], (5,), "subscript 'i' is summed within operand 0 alone"),
             ("bii,bj->bj", [(3, 3), (4,)], (4,), "subscript 'i' repeated in operand 0"),
             ("bi,bj,bk->bijk", [(2,), (2,), (2,)], (2, 2, 2), "expected two operands, got 3"),
             ("bi,cj->bij", [(3,), (4,)], (3, 4), "expected the batch axis as the first subscript of both operands"),
             ("bij,bjk->bik", [(3, 4), (5, 5)], (3, 5), "subscript 'j' is 4 in operand 0 and 5 in operand 1")]
    for k, (eq, shapes, out, msg) in enumerate(cases):
        m = onnx_einsum(tmp_path / f"m{k}.onnx", eq, shapes, out)
        r = run("compile", m, "-o", tmp_path / "o", check=False)
        assert r.returncode == 2, r.stderr
        assert f"node 'einsum' (Einsum): " in r.stderr and msg in r.stderr, r.stderr
        assert f"equation '{eq}'" in r.stderr or "operands" in msg, r.stderr
    # one inplace index per block: 4097 blocks of 1 x 1 make a 4097 x 4097 matrix, over the 2^24 entries built
    m = onnx_einsum(tmp_path / "big.onnx", "bij,ijk->bik", [(4097, 1)], (4097, 1), const=np.ones((4097, 1, 1), np.float32))
    r = run("compile", m, "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and "node 'einsum' (Einsum): equation 'bij,ijk->bik': expected a block-diagonal weight " \
        "matrix of at most 16777216 (2^24) entries, got 4097 x 4097" in r.stderr, r.stderr


def test_constant_operand_is_an_einsum_dense(tmp_path):
    """An ONNX Einsum of data and a constant (a weight) is read as an EinsumDense: --float equals numpy."""
    pytest.importorskip("onnx")
    w = np.random.default_rng(2).uniform(-1, 1, (4, 3, 5)).astype(np.float32)
    m = onnx_einsum(tmp_path / "m.onnx", "bij,jik->bkj", [(3, 4)], (5, 4), const=w)
    x = np.random.default_rng(3).uniform(-1, 1, (20, 3, 4))
    np.save(tmp_path / "x.npy", x.reshape(20, -1))
    run("predict", m, "--float", "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    want = np.einsum("bij,jik->bkj", x, w.astype(np.float64)).reshape(20, -1)
    assert np.abs(np.load(tmp_path / "y.npy").reshape(20, -1) - want).max() < 1e-9


def test_inplace_einsum_float(tmp_path):
    """Two tensors with an inplace axis (h), a contracted one (j) and free ones (i, k): --float equals numpy."""
    pytest.importorskip("onnx")
    m = onnx_einsum(tmp_path / "m.onnx", "bhij,bhkj->bhik", [(2, 3, 4), (2, 5, 4)], (2, 3, 5))
    rng = np.random.default_rng(4)
    x0, x1 = rng.uniform(-1, 1, (10, 2, 3, 4)), rng.uniform(-1, 1, (10, 2, 5, 4))
    np.save(tmp_path / "a.npy", x0.reshape(10, -1))
    np.save(tmp_path / "b.npy", x1.reshape(10, -1))
    run("predict", m, "--float", "--input", tmp_path / "a.npy", "--input", tmp_path / "b.npy", "--output",
        tmp_path / "y.npy")
    want = np.einsum("bhij,bhkj->bhik", x0, x1).reshape(10, -1)
    assert np.abs(np.load(tmp_path / "y.npy").reshape(10, -1) - want).max() < 1e-9


@pytest.mark.extended
@pytest.mark.skipif(shutil.which("verilator") is None, reason="needs verilator")
@pytest.mark.parametrize("nm", E.NAMES)
def test_rtl_verilator_verify(nm, tmp_path):
    out = tmp_path / "out"
    run("compile", E.model_path(nm), "-o", out, *cfg_args(nm))
    run("verify", out, "--n", "300")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("verilator") is None, reason="needs verilator")
def test_rtl_verilator_verify_sample(tmp_path):
    """One model under Verilator by default: the outer product (two inputs, repeats, products, sums)."""
    out = tmp_path / "out"
    run("compile", E.model_path("ein_outer"), "-o", out, *cfg_args("ein_outer"))
    run("verify", out, "--n", "200")


@pytest.mark.extended
@pytest.mark.parametrize("nm", E.NAMES)
def test_stored_reference_is_hls4ml_csim(nm, tmp_path):
    pytest.importorskip("hls4ml")
    import yaml
    cfg, y = E.csim(nm, tmp_path / "prj")
    assert np.array_equal(E.codes(y), np.load(REF / "csim" / f"einsum_{nm}.npy"))
    assert yaml.safe_load(E.cfg_path(nm).read_text()) == yaml.safe_load(yaml.safe_dump(cfg, sort_keys=False))


def test_config_names_the_layer_types(tmp_path):
    """LayerType EinsumDense reaches the EinsumDense (not LayerType Dense), and is accepted as a class."""
    base = json.loads(json.dumps(__import__("yaml").safe_load(E.cfg_path("ed_flat").read_text())))
    base["LayerName"].pop("ed")
    base["LayerType"] = {"EinsumDense": {"Precision": {"result": "fixed<6,3>"}},
                         "Dense": {"Precision": {"result": "fixed<16,6>"}}}
    (tmp_path / "c.yml").write_text(json.dumps(base))
    y = predict("ed_flat", tmp_path, "-c", tmp_path / "c.yml", "--hls4ml")
    assert np.array_equal(y * 8, np.round(y * 8)) and np.abs(y).max() <= 4



def test_config_template_by_type_names_the_classes(tmp_path):
    """`etchnn config --granularity type` writes the classes LayerType reads: EinsumDense and Einsum, not the Dense
    and Dot they are built as; the template is accepted back unchanged."""
    for nm, cls, other in (("ed_rows", "EinsumDense", None), ("ein_outer", "Einsum", "Dot")):   # ed_rows has a Dense
        t = run("config", E.model_path(nm), "--granularity", "type").stdout
        classes = [ln.strip()[:-1] for ln in t.split("LayerType:")[1].splitlines() if ln.startswith("  ") and not ln.startswith("   ")]
        assert cls in classes and other not in classes, (nm, classes)   # before: only the op's class (Dense, Dot)
        (tmp_path / f"{nm}.yml").write_text(t)
        run("compile", E.model_path(nm), "-c", tmp_path / f"{nm}.yml", "-o", tmp_path / nm)

@pytest.mark.extended
@pytest.mark.parametrize("nm", ["ed_flat", "ein_single"])
def test_hls_cpp_csim_equals_predict(nm, tmp_path):
    """The HLS C++ project (transposes, the block-diagonal Dense; the products and their sum) built with g++
    equals the emulator."""
    from test_hls import csim_equals_predict
    x = E.events(nm)[0][:300]
    csim_equals_predict(E.model_path(nm), tmp_path, opts=cfg_args(nm), x=x.reshape(len(x), -1))
