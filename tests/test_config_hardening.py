"""The configuration reader under hostile and hls4ml-written input: YAML bombs
(alias expansion, deep nesting) and huge files are refused quickly with a message
naming the limit; hls4ml 1.3's own configs are accepted; every message says what
was expected and what was seen."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import ETCHNN, ROOT, predict, random_inputs

MODEL = ROOT / "examples" / "jet_tagger.onnx"   # input, fc1, relu1, fc2, relu2, fc3, relu3, output, softmax
TIMEOUT = 10   # seconds: a hang or a quadratic blow-up fails, no tight timing


def compile_cfg(tmp_path, text, name="cfg.yml", model=MODEL, timeout=TIMEOUT):
    cfg = tmp_path / name
    cfg.write_text(text) if isinstance(text, str) else cfg.write_bytes(text)
    r = subprocess.run([str(ETCHNN), "compile", str(model), "-c", str(cfg), "-o", str(tmp_path / "out"), "--no-rtl"],
                       capture_output=True, text=True, timeout=timeout)
    return r, cfg


def refused(tmp_path, text, *fragments, name="cfg.yml"):
    r, cfg = compile_cfg(tmp_path, text, name)
    assert r.returncode == 2, r.stderr
    msg = r.stderr
    assert f"{cfg}:" in msg, msg
    for f in fragments:
        assert f in msg, msg
    assert not (tmp_path / "out").exists()
    return msg


def warnings(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("etchnn: warning:")]


# ---- bombs -------------------------------------------------------------------

def laughs(levels, width=9):
    """A 'billion laughs': each level a list of `width` aliases of the one before (width**levels values)."""
    lines = ["  l0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "InputData:\n" + "\n".join(lines) + f"\nOutputDir: *a{levels - 1}\n"


def test_aliases_within_the_limits_work(tmp_path):
    r, _ = compile_cfg(tmp_path, "Model:\n  Precision: &p fixed<8,3>\nLayerType:\n  Dense:\n    Precision: *p\n"
                                 + laughs(4))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("levels,width", [(6, 9), (9, 9), (4, 40), (20, 2)])
def test_billion_laughs_refused(levels, width, tmp_path):
    text = laughs(levels, width)
    assert len(text) < 2000
    refused(tmp_path, text, "expected at most 1000000 values (YAML aliases expanded), got more")


@pytest.mark.parametrize("kind", ["flow_seq", "flow_seq_closed", "flow_map", "block_map", "json_array", "json_object",
                                  "json_under_key"])
def test_deep_nesting_refused(kind, tmp_path):
    n = 100000
    text, name, what = {
        "flow_seq": ("[" * n + "\n", "cfg.yml", "got a list at level 65"),
        "flow_seq_closed": ("[" * n + "]" * n + "\n", "cfg.yml", "got a list at level 65"),
        "flow_map": ("Model: " + "{a: " * n + "1" + "}" * n + "\n", "cfg.yml", "got a mapping at level 65"),
        "block_map": ("".join(" " * i + "a:\n" for i in range(3000)), "cfg.yml", "got a mapping at level 65"),
        "json_array": ('{"Model": ' + "[" * n + "]" * n + "}", "cfg.json", "got an array at level 65"),
        "json_object": ('{"a":' * n + "1" + "}" * n, "cfg.json", "got an object at level 65"),
        "json_under_key": ('{"Model":' + "[" * n, "cfg.json", "got an array at level 65"),
    }[kind]
    refused(tmp_path, text, "expected at most 64 levels of nesting", what, name=name)


def test_nesting_through_an_alias_counts(tmp_path):
    text = "x: &d " + "[" * 40 + "]" * 40 + "\ny: " + "[" * 30 + "*d" + "]" * 30 + "\n"
    refused(tmp_path, text, "expected at most 64 levels of nesting, got 71 with alias '*d' expanded")


@pytest.mark.parametrize("name", ["cfg.json", "cfg.yml"])
def test_huge_config_refused_by_size(name, tmp_path):
    big = "x" * (17 << 20)
    text = '{"InputData": "' + big + '"}' if name.endswith(".json") else "InputData: " + big + "\n"
    refused(tmp_path, text, "expected a configuration of at most 16777216 bytes (16 MiB), got a larger file", name=name)


def test_too_many_values_refused(tmp_path):
    refused(tmp_path, '{"InputData": [' + ",".join(["1"] * 1000001) + "]}",
            "expected at most 1000000 values, got more", name="cfg.json")


@pytest.mark.parametrize("text,fragments", [
    ("Model: &m\n  Precision: *m\n", ["line 2: expected an alias outside the node it names, got '*m' inside '&m' (a cycle)"]),
    ("x: &a [*a, *a]\n", ["(a cycle)"]),
    ("Model:\n  Precision: *p\n", ["line 2: expected an alias to a defined anchor, got '*p' (no '&p' before it)"]),
    ("Model:\n  ReuseFactor: 1\n---\nModel:\n  ReuseFactor: 2\n", ["line 3: expected one YAML document, got a second one"]),
    ("Model:\n  ReuseFactor: 1\nModel:\n  ReuseFactor: 2\n", ["Model: expected each key once, got 'Model' twice"]),
    ("LayerName:\n  fc1:\n    Trace: false\n    Trace: true\n",
     ["LayerName.fc1.Trace: expected each key once, got 'Trace' twice"]),
    ("HLSConfig:\n  Model:\n    ReuseFactor: 1\nModel:\n  ReuseFactor: 2\n",
     ["Model: expected it either at the top level or under HLSConfig, got both"]),
    ("[a]: 1\n", ["line 1, column 1: expected a plain key (a name) in a mapping, got a list"]),
])
def test_yaml_structure_errors(text, fragments, tmp_path):
    refused(tmp_path, text, *fragments)


def test_anchor_and_alias_counts_are_bounded(tmp_path):
    anchors = "InputData:\n" + "".join(f"  k{i}: &a{i} 1\n" for i in range(1001))
    refused(tmp_path, anchors, "expected at most 1000 YAML anchors, got more")
    aliases = "InputData: &a 1\nOutputDir: [" + ", ".join(["*a"] * 10001) + "]\n"
    refused(tmp_path, aliases, "expected at most 10000 YAML aliases, got more")


def test_json_trailing_text_refused(tmp_path):
    refused(tmp_path, '{"Model": {"ReuseFactor": 1}} {"Model": 2}', "line 1, column 31: expected valid JSON, got a "
            "syntax error at '{\"Model\": 2}'", name="cfg.json")


# ---- messages ------------------------------------------------------------------

@pytest.mark.parametrize("value,got", [("-1", "got -1"), ("0", "got 0"), ("1.5", "got 1.5"), ("x", "got 'x' (a string)"),
                                       ("'4'", "got '4' (a string)"), ("[1]", "got a list")])
def test_reuse_factor_messages(value, got, tmp_path):
    msg = refused(tmp_path, f"Model:\n  ReuseFactor: {value}\n",
                  "Model.ReuseFactor: expected a positive integer (1 to 16777216), " + got)
    assert "non-integer" not in msg


@pytest.mark.parametrize("text,fragment", [
    ("LayerName:\n  fc1:\n    Precision:\n      weight: fixd<8,3>\n",
     "LayerName.fc1.Precision.weight: 'fixd<8,3>': expected a type like fixed<W,I>"),
    ("LayerName:\n  fc1:\n    Precision:\n      weight: 7\n",
     "LayerName.fc1.Precision.weight: expected a fixed-point type string such as 'fixed<16,6>' or 'auto', got 7"),
    ("Model:\n  Precision: [fixed<8,3>]\n",
     "Model.Precision: expected a type string or a mapping of variables to types, got a list"),
    ("Model:\n  Precision:\n    maximum: fixed<20,8>\n", "Model.Precision.maximum caps the types hls4ml infers"),
    ("Model: 3\n", "Model: expected a mapping of settings, got 3"),
    ("LayerName: [fc1]\n", "LayerName: expected a mapping of layer names, got a list"),
    ("LayerType: fc1\n", "LayerType: expected a mapping of layer classes, got 'fc1'"),
    ("HLSConfig: 1\n", "HLSConfig: expected a mapping of Model, LayerType, LayerName, got 1"),
    ("just text\n", "expected a mapping of configuration keys (Model, LayerType, LayerName, ...) at the top level, "
                    "got 'just text'"),
    ("Model:\n  Strategy: 3\n", "Model.Strategy: expected one of Latency, Resource, got 3"),
    ("Model:\n  Tables: true\n", "Model.Tables: expected one of exact, hls4ml, got true"),
    ("Model:\n  ClockPeriod: -5\n", "Model.ClockPeriod: expected a positive number of ns, got -5"),
    ("Model:\n  IOType: stream\n", "Model.IOType: expected io_parallel or io_stream, got stream"),
    ("IOType: 1\n", "IOType: expected io_parallel or io_stream, got 1"),
    ("Model:\n  BramFactor: -1\n", "Model.BramFactor: expected an integer >= 0 (hls4ml writes 1000000000), got -1"),
    ("Model:\n  BitExact: 'yes'\n", "Model.BitExact: expected true, null or false, got 'yes' (a string)"),
    ("Model:\n  TraceOutput: 1\n", "Model.TraceOutput: expected true or false, got 1"),
    ("Model:\n  ChannelsLastConversion: on\n", "Model.ChannelsLastConversion: expected one of full, internal, off, got 'on'"),
    ("LayerName:\n  softmax:\n    Implementation: legacy\n",
     "LayerName.softmax.Implementation: expected one of stable, latency, argmax (hls4ml's softmax implementations; "
     "its legacy is not supported), got 'legacy'"),
    ("LayerName:\n  softmax:\n    Skip: 1\n", "LayerName.softmax.Skip: expected true or false, got 1"),
    ("LayerType:\n  Conv2D:\n    ConvImplementation: Pointwise\n",
     "LayerType.Conv2D.ConvImplementation: expected one of LineBuffer, Encoded (hls4ml's Pointwise is not supported), "
     "got 'Pointwise'"),
    ("LayerName:\n  fc1:\n    table_size: 0\n",
     "LayerName.fc1.table_size: expected a positive integer (1 to 16777216), got 0"),
    ("Model:\n  Precision: fixed<8,3>\n  ReuseFactor: 1\n\t\n", "line 4, column 1: expected valid YAML or JSON, got a "
                                                               "syntax error"),
    ('{"Model": {"ReuseFactor": }}', "line 1, column 27: expected valid JSON, got a syntax error at '}}'"),
])
def test_messages_say_expected_and_got(text, fragment, tmp_path):
    refused(tmp_path, text, fragment, name="cfg.json" if text.startswith("{") else "cfg.yml")


def test_binary_config_names_the_offset(tmp_path):
    refused(tmp_path, b"Model:\n  ReuseFactor: 1\x00\n", "got binary data (a NUL byte at offset 23)")


# ---- hls4ml's keys -------------------------------------------------------------

def test_bram_factor_accepted_with_one_warning(tmp_path):
    r, cfg = compile_cfg(tmp_path, "Model:\n  Precision: fixed<16,6>\n  BramFactor: 1000000000\n")
    assert r.returncode == 0, r.stderr
    w = warnings(r.stderr)
    assert len(w) == 1, r.stderr
    assert f"{cfg}: Model.BramFactor: 1000000000 accepted; it changes nothing here" in w[0] and "BRAM" in w[0]


def test_precision_variable_a_layer_lacks_accepted_with_one_warning_each(tmp_path):
    """a precision variable the layer has no use for (a table type on a Dense, as hls4ml's config_from_* writes
    'table' for layers without one) is named in one line and changes nothing; the weight type beside it does"""
    import filecmp
    base = "Model:\n  Precision: fixed<16,6>\nLayerName:\n  fc1:\n    Precision:\n      weight: fixed<8,2>\n"
    outs = []
    for k, extra in enumerate(["", "      table: fixed<18,8>\n    exp_table_t: fixed<18,8>\n"]):
        (tmp_path / str(k)).mkdir()
        r, cfg = compile_cfg(tmp_path / str(k), base + extra)
        assert r.returncode == 0, r.stderr
        outs.append((r, cfg, next((tmp_path / str(k) / "out" / "c").glob("*.c"))))
    assert not warnings(outs[0][0].stderr), outs[0][0].stderr
    w, cfg = warnings(outs[1][0].stderr), outs[1][1]
    assert len(w) == 2, outs[1][0].stderr
    assert f"{cfg}: LayerName.fc1.Precision.table accepted; it changes nothing here: layer 'fc1'" in w[0]
    assert "LayerName.fc1.exp_table_t accepted" in w[1] and "(it has: result, weight, bias, accum)" in w[1]
    assert filecmp.cmp(outs[0][2], outs[1][2], shallow=False)
    (tmp_path / "2").mkdir()
    r, _ = compile_cfg(tmp_path / "2", "Model:\n  Precision: fixed<16,6>\n")
    assert not filecmp.cmp(outs[0][2], next((tmp_path / "2" / "out" / "c").glob("*.c")), shallow=False)


@pytest.mark.parametrize("value,nwarn", [("true", 1), ("false", 1), ("null", 0), ("", 0)])
def test_bit_exact_accepted(value, nwarn, tmp_path):
    r, cfg = compile_cfg(tmp_path, f"HLSConfig:\n  Model:\n    Precision: fixed<16,6>\n    BitExact: {value}\n")
    assert r.returncode == 0, r.stderr
    w = warnings(r.stderr)
    assert len(w) == nwarn, r.stderr
    if nwarn:
        assert f"{cfg}: HLSConfig.Model.BitExact: {value} accepted" in w[0]


def test_trace_keys_one_warning(tmp_path):
    r, cfg = compile_cfg(tmp_path, "Model:\n  TraceOutput: true\nLayerName:\n  fc1:\n    Trace: true\n"
                                   "  fc2:\n    Trace: true\n  fc3:\n    Trace: false\n")
    assert r.returncode == 0, r.stderr
    w = warnings(r.stderr)
    assert len(w) == 1 and "Model.TraceOutput: true (and 2 more Trace/TraceOutput keys set to true) accepted" in w[0]
    r, _ = compile_cfg(tmp_path, "Model:\n  TraceOutput: false\nLayerName:\n  fc1:\n    Trace: false\n")
    assert r.returncode == 0 and not warnings(r.stderr), r.stderr


def test_pytorch_model_keys(tmp_path):
    """config_from_pytorch_model's Model keys: a vector input/output is the same in every layout."""
    text = ("Model:\n  Precision:\n    default: ap_fixed<16,6>\n  ReuseFactor: 1\n  ChannelsLastConversion: full\n"
            "  TransposeOutputs: false\n  Strategy: Latency\n  BramFactor: 1000000000\n  TraceOutput: false\n"
            "InputShape: [16]\n")
    r, _ = compile_cfg(tmp_path, text)
    assert r.returncode == 0, r.stderr
    assert len(warnings(r.stderr)) == 1   # BramFactor
    r, _ = compile_cfg(tmp_path, text.replace("full", "internal"))
    assert r.returncode == 0, r.stderr


def test_auto_is_hls4ml_default_inference(tmp_path):
    """'auto' on weights, biases and the results of activations / softmax / input is hls4ml's default precision."""
    auto = ("Model:\n  Precision:\n    default: fixed<12,5>\nLayerName:\n  input:\n    Precision:\n      result: auto\n"
            "  fc1:\n    Precision:\n      weight: auto\n      bias: auto\n  relu1:\n    Precision:\n      result: auto\n"
            "  softmax:\n    Precision:\n      result: auto\n")
    plain = "Model:\n  Precision:\n    default: fixed<12,5>\n"
    (tmp_path / "a.yml").write_text(auto)
    (tmp_path / "p.yml").write_text(plain)
    x = random_inputs(300, 16, seed=11)
    assert np.array_equal(predict(MODEL, x, tmp_path, "-c", tmp_path / "a.yml"),
                          predict(MODEL, x, tmp_path, "-c", tmp_path / "p.yml"))


# The hls4ml_config.yml that hls4ml 1.3.0 writes into its project (convert_from_keras_model with a
# config_from_keras_model(granularity='name') config, backend Vitis, then write()), for the model below.
HLS4ML_PROJECT_YML = textwrap.dedent("""\
    Backend: Vitis
    ClockPeriod: 5
    ClockUncertainty: 27%
    HLSConfig:
      LayerName:
        fc1:
          Precision:
            bias: auto
            result: auto
            weight: auto
          Trace: false
        fc1_relu:
          Precision:
            result: auto
          Trace: false
        fc2:
          Precision:
            bias: auto
            result: auto
            weight: auto
          Trace: false
        input_layer:
          Precision:
            result: auto
          Trace: false
        softmax:
          Precision:
            result: auto
          Trace: false
      Model:
        BitExact: null
        BramFactor: 1000000000
        Precision:
          default: fixed<16,6>
        ReuseFactor: 1
        Strategy: Latency
        TraceOutput: false
    IOType: io_parallel
    InputData: null
    InputShapes:
      input_layer:
      - 16
    KerasModel: !keras_model 'prj/keras_model.keras'
    OutputDir: prj
    OutputPredictions: null
    OutputShapes:
      layer5_out:
      - 4
    Part: xcvu13p-flga2577-2-e
    ProjectName: myproject
    Stamp: 70c54312
    Version: 1.0.0
    WriterConfig:
      Namespace: null
      TBOutputStream: both
      WriteEmulationConstants: false
      WriteTar: false
      WriteWeightsTxt: true
    """)

KERAS_SCRIPT = """
import os, sys
os.environ["KERAS_BACKEND"] = "torch"
import keras, hls4ml, yaml
out = sys.argv[1]
m = keras.Sequential([keras.Input((16,), name="input_layer"), keras.layers.Dense(8, activation="relu", name="fc1"),
                      keras.layers.Dense(4, name="fc2"), keras.layers.Activation("softmax", name="softmax")])
m.save(os.path.join(out, "small.keras"))
for g in ["model", "type", "name"]:
    for be in [None, "Vitis"]:
        c = hls4ml.utils.config_from_keras_model(m, granularity=g, backend=be)
        with open(os.path.join(out, f"hls4ml_{g}_{be}.yml"), "w") as f:
            yaml.safe_dump(c, f, sort_keys=False)
"""


@pytest.fixture(scope="module")
def hls4ml_keras(tmp_path_factory):
    d = tmp_path_factory.mktemp("hls4ml_keras")
    r = subprocess.run([sys.executable, "-c", KERAS_SCRIPT, str(d)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "KERAS_BACKEND": "torch"})
    if r.returncode != 0:
        if "ModuleNotFoundError" in r.stderr:
            pytest.skip("keras / hls4ml / torch not installed")
        raise AssertionError(r.stderr)
    return d


@pytest.mark.parametrize("granularity", ["model", "type", "name"])
@pytest.mark.parametrize("backend", ["None", "Vitis"])
def test_hls4ml_config_from_keras_model_accepted(hls4ml_keras, granularity, backend, tmp_path):
    cfg = hls4ml_keras / f"hls4ml_{granularity}_{backend}.yml"
    r = subprocess.run([str(ETCHNN), "compile", str(hls4ml_keras / "small.keras"), "-c", str(cfg), "-o",
                        str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    w = warnings(r.stderr)
    assert "BramFactor: 1000000000 accepted" in w[0], r.stderr
    if granularity == "name" and backend == "Vitis":   # its 'table' types for a relu and the softmax: one line
        assert len(w) == 2 and "LayerName.<layer>.Precision.table accepted; it changes nothing here: 2 layers" in w[1]
        assert "'fc1_relu'" in w[1] and "'softmax'" in w[1], w[1]
    else:
        assert len(w) == 1, r.stderr


def test_hls4ml_project_config_accepted(hls4ml_keras, tmp_path):
    r, _ = compile_cfg(tmp_path, HLS4ML_PROJECT_YML, model=hls4ml_keras / "small.keras", timeout=120)
    assert r.returncode == 0, r.stderr
    w = warnings(r.stderr)
    assert len(w) == 1 and "HLSConfig.Model.BramFactor: 1000000000 accepted" in w[0], r.stderr
