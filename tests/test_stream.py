"""io_stream: one pixel per clock through line buffers (src/backends/stream.c).

- the CICADA-shaped model (tests/cicada_models.py, 8-bit types) and
  tests/test_conv.conv1d_misc (padding: the circuit holds the source back with
  in_ready while it generates padding; Pad/crop, pooling, concat), a
  network with nearest upsampling between convolutions and one with a skip
  connection (Add and Concat of two streams) verify in Verilator bit for bit against
  the emulator: images back to back, every fourth with gaps in in_valid, one
  output per image (the bench counts them); the latency and II the bench
  measures equal the ones the report predicts from its model of the
  handshakes;
- the Verilog passes `verilator --lint-only -Wall`;
- `IOType: io_stream` in the config selects it, `--io parallel` overrides it,
  and the report shows io_parallel beside io_stream;
- bad requests fail with exit status 2 and a message naming the layer;
- conv2d_small_mp_keras.onnx (Selu per pixel) and qkeras_mnist_cnn (28x28,
  its quantizers' types) stream up to their collectors and verify;
  hgq_mnist_homogeneous: a Reshape [28, 28] -> [28, 28, 1] right after the
  input (through its quantizer) streams 784 pixels of one value; a quantizer
  whose types vary with the position (hgq_mnist_heterogeneous) is named;
- slow: the shared conv models (Keras and ONNX), the jet taggers, the
  autoencoder (a hybrid: streamed encoder, the rest io_parallel after the
  collectors) and the Icarus bench written at compile time.
"""
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from cicada_models import CONFIG_8BIT, cicada_onnx, energies
from conftest import MODELS, SANITIZED, run

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

VERILATOR = shutil.which("verilator")
need_verilator = pytest.mark.skipif(VERILATOR is None, reason="verilator not installed (apt-get install verilator)")
not_sanitized = pytest.mark.skipif(SANITIZED, reason="RTL simulation is not repeated under the sanitizers")


@pytest.fixture(scope="module")
def cicada(tmp_path_factory):
    d = tmp_path_factory.mktemp("cicada_stream")
    p = d / "cicada.onnx"
    onnx.save(cicada_onnx(), str(p))
    (d / "cicada8.yml").write_text(CONFIG_8BIT)
    (d / "cicada8_stream.yml").write_text(CONFIG_8BIT.replace("Model:\n", "Model:\n  IOType: io_stream\n", 1))
    return p


@pytest.fixture(scope="module")
def cicada_out(cicada, tmp_path_factory):
    out = tmp_path_factory.mktemp("cicada_stream_out") / "o"
    run("compile", cicada, "-c", cicada.parent / "cicada8_stream.yml", "-o", out)
    return out


def lint(out):
    top = json.loads((out / "report.json").read_text())["model"]
    r = subprocess.run([VERILATOR, "--lint-only", "-Wall", "--top-module", top, "-F", str(out / "rtl" / "files.f")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


def verify(out, *opts):
    """etchnn verify; returns (images, measured latency first, last, ii)."""
    r = run("verify", out, *opts, check=False)
    text = r.stdout + r.stderr
    assert r.returncode == 0 and "PASS" in r.stdout, text
    m = re.search(r"verify: io_stream: (\d+) of (\d+) images came out .*latency (-?\d+) cycles from the first pixel, "
                  r"(-?\d+) from the last, (\d+) cycles between images", text)
    assert m, text
    assert m.group(1) == m.group(2)
    assert re.search(r": 0 of \d+ outputs differ", r.stdout), text
    return int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))


def test_config_selects_stream_and_report_compares(cicada_out, cicada, tmp_path):
    rep = json.loads((cicada_out / "report.json").read_text())
    assert rep["io_type"] == "io_stream"
    s = rep["stream"]
    assert (s["pixels"], s["channels"]) == (252, 1)
    assert [st["name"] for st in s["stages"]] == ["conv"]
    assert s["stages"][0]["kind"] == "window" and s["stages"][0]["line_buffer_pixels"] == 2 * 14 + 3
    assert s["collectors"] == ["r1"]
    assert s["ii_cycles"] == 252                  # one pixel per clock, no padding: never throttled
    assert not s["source_throttled"]
    assert rep["io_parallel"]["latency_cycles"] >= 1 and rep["io_parallel"]["lut"] > rep["estimate"]["lut"]
    txt = (cicada_out / "report.txt").read_text()
    assert "io_parallel and io_stream side by side" in txt
    # --io parallel overrides the config; without either, io_parallel
    for opts in (["-c", cicada.parent / "cicada8_stream.yml", "--io", "parallel"], ["-c", cicada.parent / "cicada8.yml"]):
        run("compile", cicada, *opts, "-o", tmp_path / "p")
        rep = json.loads((tmp_path / "p" / "report.json").read_text())
        assert "io_type" not in rep and rep["ii"] == 1


def test_bad_requests(cicada, tmp_path):
    r = run("compile", cicada, "--io", "pixel", "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and "--io: expected one of parallel, stream, got 'pixel'" in r.stderr
    cfg = tmp_path / "bad.yml"
    cfg.write_text("IOType: io_serial\n")
    r = run("compile", cicada, "-c", cfg, "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and "IOType: expected io_parallel or io_stream, got io_serial" in r.stderr
    # a vector input has no stream
    mlp = MODELS / "onnx" / "three_layer_keras.onnx"
    if mlp.exists():
        r = run("compile", mlp, "--io", "stream", "-o", tmp_path / "o", check=False)
        assert r.returncode == 2 and "io_stream: expected an image input" in r.stderr, r.stderr
    # average pooling whose divisor changes with the position is named
    from test_conv import conv2d_misc
    p = tmp_path / "conv2d_misc.onnx"
    onnx.save(conv2d_misc(np.random.default_rng(0)), str(p))
    r = run("compile", p, "--io", "stream", "--precision", "fixed<8,3>", "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and "(AveragePool): io_stream: average pooling over padding that is not counted" \
        in r.stderr, r.stderr
    # nothing was written for the failed compiles
    assert not (tmp_path / "o").exists()


@not_sanitized
@need_verilator
def test_cicada_lint_and_verify(cicada_out, tmp_path):
    lint(cicada_out)
    rep = json.loads((cicada_out / "report.json").read_text())["stream"]
    n, lf, ll, ii = verify(cicada_out, "--n", 300, "--seed", "3")
    assert n == 300
    # the bench measures what the report predicts
    assert (lf, ll, ii) == (rep["latency_first_pixel_cycles"], rep["latency_last_pixel_cycles"], rep["ii_cycles"])
    xin = tmp_path / "energies.npy"
    np.save(xin, energies(200, seed=4))
    assert verify(cicada_out, "--input", xin)[0] == 200


def _keras(name):
    j = MODELS / "keras" / f"{name}.json"
    if not j.exists():
        pytest.skip(f"shared model {j} not present")
    return j


def _stream_verify(model, tmp_path, n, *opts):
    out = tmp_path / "o"
    run("compile", model, "--io", "stream", "-o", out, *opts)
    lint(out)
    rep = json.loads((out / "report.json").read_text())["stream"]
    got = verify(out, "--n", n)
    assert got[0] == n
    assert got[1:] == (rep["latency_first_pixel_cycles"], rep["latency_last_pixel_cycles"], rep["ii_cycles"])
    return rep


@not_sanitized
@need_verilator
@pytest.mark.slow
def test_keras_conv1d_small_same_padding(tmp_path):
    rep = _stream_verify(_keras("KERAS_conv1d_small"), tmp_path, 500, "--precision", "fixed<8,3>")
    assert [s["kind"] for s in rep["stages"]] == ["window"] * 3
    assert rep["source_throttled"]      # 'same' padding: the grid has 12 positions for 10 pixels
    assert rep["ii_cycles"] > rep["pixels"]


@not_sanitized
@need_verilator
def test_conv1d_pad_crop_pools_concat(tmp_path):
    """tests/test_conv.conv1d_misc: stride and dilation, LeakyReLU, a Pad that pads
    and crops (a 1x1 window stage), average pooling counting its padding, global
    max pooling (a window over the whole sequence), both gathered into a Concat."""
    from test_conv import conv1d_misc
    p = tmp_path / "conv1d_misc.onnx"
    onnx.save(conv1d_misc(np.random.default_rng(0)), str(p))
    rep = _stream_verify(p, tmp_path, 1000, "--precision", "fixed<10,4>")
    assert [s["name"] for s in rep["stages"]] == ["c1", "r1", "pd", "a1", "g1"]
    assert sorted(rep["collectors"]) == ["a1", "g1"]


def upnet():
    """1x9x8 -> Conv 3 3x3 stride 2 -> ReLU -> Resize nearest (2, 3) -> Conv 2 3x3 pads 1 -> ReLU -> Flatten -> Gemm 5."""
    rng = np.random.default_rng(2)

    def init(n, a):
        return numpy_helper.from_array(np.asarray(a, dtype=np.float32), n)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Resize", ["r1", "", "sc"], ["u"], name="up", mode="nearest"),
             helper.make_node("Conv", ["u", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("Flatten", ["r2"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w3"], ["y"], name="dense")]
    inits = [init("w1", rng.standard_normal((3, 1, 3, 3)) * 0.5), init("b1", rng.standard_normal(3) * 0.2),
             init("sc", [1, 1, 2, 3]), init("w2", rng.standard_normal((2, 3, 3, 3)) * 0.4),
             init("b2", rng.standard_normal(2) * 0.1), init("w3", rng.standard_normal((144, 5)) * 0.2)]
    g = helper.make_graph(nodes, "upnet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 9, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    return m


@not_sanitized
@need_verilator
def test_upsampling(tmp_path):
    """Nearest upsampling of a streamed image (x2 rows, x3 columns: a row buffer
    replays each row), then a padded conv: six outputs per input pixel, so the
    source is held back."""
    p = tmp_path / "upnet.onnx"
    onnx.save(upnet(), str(p))
    rep = _stream_verify(p, tmp_path, 500, "--precision", "fixed<10,4>")
    assert [s["kind"] for s in rep["stages"]] == ["window", "upsample", "window"]
    assert rep["source_throttled"] and rep["ii_cycles"] >= 6 * 12


def skipnet():
    """1x8x8 -> Conv 3 (pads 1) -> ReLU (r1) -> Conv 1 (pads 1) -> Add(x, .) -> Concat(., r1) along the
    channels -> Conv 2 3x3 stride 2 -> ReLU -> Flatten -> Gemm 5: a skip connection over two convolutions."""
    rng = np.random.default_rng(3)

    def init(n, a):
        return numpy_helper.from_array(np.asarray(a, dtype=np.float32), n)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["x", "c2"], ["a"], name="skip"),
             helper.make_node("Concat", ["a", "r1"], ["cat"], name="cat", axis=1),
             helper.make_node("Conv", ["cat", "w3", "b3"], ["c3"], name="conv3", kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
             helper.make_node("Flatten", ["r3"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w4"], ["y"], name="dense")]
    inits = [init("w1", rng.standard_normal((3, 1, 3, 3)) * 0.5), init("b1", rng.standard_normal(3) * 0.2),
             init("w2", rng.standard_normal((1, 3, 3, 3)) * 0.4), init("w3", rng.standard_normal((2, 4, 3, 3)) * 0.3),
             init("b3", rng.standard_normal(2) * 0.1), init("w4", rng.standard_normal((18, 5)) * 0.3)]
    g = helper.make_graph(nodes, "skipnet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    return m


@not_sanitized
@need_verilator
def test_skip_connection_merges(tmp_path):
    """Add and Concat of two streams: input FIFOs (sized by the cycle model) let the
    input run ahead of the two convolutions; gaps in in_valid in the bench."""
    p = tmp_path / "skipnet.onnx"
    onnx.save(skipnet(), str(p))
    rep = _stream_verify(p, tmp_path, 1000, "--precision", "fixed<10,4>")
    kinds = {s["name"]: s for s in rep["stages"]}
    assert kinds["skip"]["kind"] == kinds["cat"]["kind"] == "merge"
    assert kinds["skip"]["input_fifo_a"] > 8          # the input waits for two 3x3 convolutions (> a row)
    assert rep["collectors"] == ["r3"]


@not_sanitized
@need_verilator
@pytest.mark.slow
@pytest.mark.parametrize("name,n", [("KERAS_conv2d_model", 1000), ("jetTagger_Conv2D_Small", 300),
                                    ("jetTagger_Conv2D_Small_NoBatchNorm", 300)])
def test_keras_stream_verify(name, n, tmp_path):
    _stream_verify(_keras(name), tmp_path, n, "--precision", "fixed<8,3>")


@not_sanitized
@need_verilator
@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv1d_small_keras", "conv2d_small_keras"])
def test_onnx_stream_verify(name, tmp_path):
    p = MODELS / "onnx" / f"{name}.onnx"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    _stream_verify(p, tmp_path, 1000, "--precision", "fixed<8,3>")


@not_sanitized
@need_verilator
def test_onnx_conv2d_small_mp_selu(tmp_path):
    """conv2d_small_mp_keras.onnx: Conv, Selu (a per-pixel table), BatchNormalization, Conv 5x5,
    Selu, MaxPool all stream; Gemm, Selu, Gemm, Softmax run after the collector."""
    p = MODELS / "onnx" / "conv2d_small_mp_keras.onnx"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    rep = _stream_verify(p, tmp_path, 200, "--precision", "fixed<8,3>")
    assert [(s["name"], s["kind"]) for s in rep["stages"]] == [
        ("conv2d_1", "window"), ("selu", "pixel"), ("batchnormalization_1", "pixel"), ("conv2d_2", "window"),
        ("selu1", "pixel"), ("maxpool2d_1", "window")]
    assert rep["collectors"] == ["pooling_output"]


@not_sanitized
@need_verilator
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_qkeras_mnist_cnn(tmp_path):
    """qkeras_mnist_cnn (QConv2D + relu, QActivation, MaxPool, twice; QDense) with the types of its
    quantizers: 28x28 pixels of one value, every layer up to the second pooling streams."""
    j = MODELS / "qkeras" / "qkeras_mnist_cnn.json"
    if not j.exists():
        pytest.skip(f"shared model {j} not present")
    rep = _stream_verify(j, tmp_path, 20)
    assert [s["kind"] for s in rep["stages"]] == ["window", "pixel", "window"] * 2
    assert (rep["pixels"], rep["channels"], rep["ii_cycles"]) == (784, 1, 784)


def _hgq(name):
    p = MODELS / "hgq" / f"{name}.h5"
    if not p.exists():
        pytest.skip(f"shared model {p} not present")
    return p


@not_sanitized
@need_verilator
def test_hgq_mnist_homogeneous(tmp_path):
    """The [28, 28] input, its quantizer (one type) and the Reshape to [28, 28, 1]: the
    Reshape only appends a unit dimension, so the stream takes 784 pixels of one value and
    every quantizer (one type per channel) is a per-pixel stage."""
    rep = _stream_verify(_hgq("hgq_mnist_homogeneous"), tmp_path, 50)
    assert (rep["pixels"], rep["channels"], rep["ii_cycles"]) == (784, 1, 784)
    names = [s["name"] for s in rep["stages"]]
    assert names[:2] == ["h_quantize_1_quantizer", "h_conv2d_2"] and "p_reshape_1" not in names
    assert rep["collectors"] == ["p_max_pooling2d_3"]


def test_hgq_heterogeneous_quantizer_is_named(tmp_path):
    """A quantizer whose types vary with the position has no per-pixel form."""
    r = run("compile", _hgq("hgq_mnist_heterogeneous"), "--io", "stream", "-o", tmp_path / "o", check=False)
    assert r.returncode == 2 and "node 'h_quantize_quantizer' (FixedPointQuantizer): io_stream: the quantizer's " \
        "types vary with the position" in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


@not_sanitized
@need_verilator
@pytest.mark.slow
@pytest.mark.extended   # one of the longest checks: make test-extended (CI time budget)
def test_autoencoder_stream_verify(tmp_path):
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("tests use Keras 3 with KERAS_BACKEND=torch")
    from cicada_models import AE_CONFIG_8BIT, cicada_autoencoder_keras
    p = tmp_path / "cicada_ae.keras"
    cicada_autoencoder_keras(p)
    cfg = tmp_path / "ae8.yml"
    cfg.write_text(AE_CONFIG_8BIT)
    rep = _stream_verify(p, tmp_path, 300, "-c", cfg)
    assert [s["name"] for s in rep["stages"]] == ["enc_conv1", "enc_conv2"]
    assert sorted(rep["collectors"]) == ["enc_relu2", "x"]   # the input too: Subtract(x, x_rec)


@not_sanitized
@pytest.mark.slow
def test_icarus_bench(cicada_out):
    if not shutil.which("iverilog"):
        pytest.skip("iverilog not installed")
    rtl = cicada_out / "rtl"
    subprocess.run(["iverilog", "-g2005", "-o", "tb.vvp", "-c", "files.f", "tb_cicada.v"], cwd=rtl, check=True)
    r = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=rtl, capture_output=True, text=True, check=True)
    assert "PASS" in r.stdout and "FAIL" not in r.stdout, r.stdout
