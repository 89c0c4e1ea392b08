"""`etchnn config` prints a complete configuration that compiles as is, and
configuration values reach the layers they name."""
import numpy as np
import pytest

from conftest import ONNX_MLPS, ROOT, onnx_model, predict, random_inputs, run


@pytest.mark.parametrize("granularity", ["model", "type", "name"])
@pytest.mark.parametrize("name", ONNX_MLPS + ["jet_tagger"])
def test_template_round_trip(name, granularity, tmp_path):
    path = ROOT / "examples" / "jet_tagger.onnx" if name == "jet_tagger" else onnx_model(name)
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(run("config", path, "--granularity", granularity).stdout)
    run("compile", path, "-c", cfg, "-o", tmp_path / "out")
    assert (tmp_path / "out" / "report.json").exists()
    # the template states the defaults: same outputs as no config at all
    x = random_inputs(500, 10 if "two_layer" in name else 16, seed=4)
    assert np.array_equal(predict(path, x, tmp_path, "-c", cfg), predict(path, x, tmp_path))


QUANTIZED = [("qkeras/qkeras_3layer.json", 16), ("qkeras/qkeras_mnist_dense.json", 784), ("hgq/hgq_jet_classifier.h5", 16),
             ("qonnx/qkeras_jettagging.onnx", 16), ("qonnx/TFC_2W2A.onnx", 784)]


@pytest.mark.parametrize("granularity", ["model", "type", "name"])
@pytest.mark.parametrize("rel,nin", QUANTIZED)
def test_quantized_template_round_trip(rel, nin, granularity, tmp_path):
    """A quantized model's template shows its quantizers' types as comments and, fed back,
    keeps its exact arithmetic: the same outputs as no config."""
    from conftest import MODELS
    path = MODELS / rel
    if not path.exists():
        pytest.skip(f"shared model {path} not present")
    text = run("config", path, "--granularity", granularity).stdout
    assert "quantizers type it" in text
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(text)
    x = np.round(random_inputs(300, nin, seed=6) * 16) / 16
    assert np.array_equal(predict(path, x, tmp_path, "-c", cfg), predict(path, x, tmp_path))


def test_layer_name_overrides_reach_the_layer(tmp_path):
    path = onnx_model("three_layer_keras")
    cfg = tmp_path / "c.yml"
    cfg.write_text("Model:\n  Precision: fixed<16,6>\nLayerName:\n  softmax:\n    Precision:\n      result: ufixed<4,0>\n")
    y = predict(path, random_inputs(200, 16, seed=5), tmp_path, "-c", cfg)
    assert np.all(y * 16 == np.round(y * 16)), "softmax outputs must be multiples of 2^-4"
    dump = run("compile", path, "-c", cfg, "--dump-after", "precision").stdout
    assert "softmax 'softmax'" in dump and "ufixed<4,0>" in dump


def test_json_config_and_hls4ml_wrapper(tmp_path):
    """JSON works, and an hls4ml YAML with HLSConfig and project keys works as is."""
    path = onnx_model("two_layer_keras")
    j = tmp_path / "c.json"
    j.write_text('{"Model": {"Precision": "fixed<8,3>", "ReuseFactor": 1, "Strategy": "Latency"}}')
    y = tmp_path / "c.yml"
    y.write_text("OutputDir: prj\nProjectName: myproject\nPart: xcvu13p-flga2577-2-e\nClockPeriod: 5\nIOType: io_parallel\n"
                 "HLSConfig:\n  Model:\n    Precision: ap_fixed<8,3>\n    ReuseFactor: 1\n")
    x = random_inputs(300, 10, seed=6)
    a = predict(path, x, tmp_path, "-c", j)
    b = predict(path, x, tmp_path, "-c", y)
    c = predict(path, x, tmp_path, "--precision", "fixed<8,3>")
    assert np.array_equal(a, c) and np.array_equal(b, c)
