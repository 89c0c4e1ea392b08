"""convert() and config_from_model(): from a trained model to a Firmware, the
compiled network with its bit-exact emulator, back ends and report."""
import copy
import json
import os
import pathlib
import re
import sys
import tempfile

import numpy as np

from . import _lib
from .errors import EtchnnError, NotAvailableError
from .frontends import load_into

DEFAULT_PRECISION = "fixed<16,6>"
_PRECISION_VARS = ("default", "result", "weight", "bias", "accum")


def _check_project_name(name):
    """A project name becomes file names (NAME.onnx in the output folder) and C/Verilog names: an
    identifier, so that no name can point outside the output folder."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
        raise EtchnnError(f"project_name: expected an identifier (letters, digits, '_'; at most 64 characters), "
                          f"got {name!r}")


def _load(model, input_shape, project_name, keras_weights=None):
    _check_project_name(project_name)
    m = _lib.Model()
    load_into(m, model, input_shape=input_shape, name=project_name, keras_weights=keras_weights)
    return m


def config_from_model(model, granularity="model", default_precision=DEFAULT_PRECISION, input_shape=None,
                      project_name="myproject", keras_weights=None):
    """A complete configuration for `model` as a dict with the keys the CLI
    reads (Model, and LayerType or LayerName), every precision set to
    default_precision (table types keep their own defaults).  Edit it and pass
    it to convert(config=...)."""
    if granularity not in ("model", "type", "name"):
        raise EtchnnError(f"granularity: expected one of model, type, name, got '{granularity}'")
    m = _load(model, input_shape, project_name, keras_weights)
    text = m.config_template(granularity)
    # the template's Model.Weights key is read as WeightQuant (see the note in python/README.md)
    text = re.sub(r"(?m)^(\s+)Weights:", r"\1WeightQuant:", text)
    parser = _lib.Model()
    parser.config_text(text, "<template>")
    cfg = json.loads(parser.config_json())

    def walk(d):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v)
            elif k in _PRECISION_VARS and v == DEFAULT_PRECISION:
                d[k] = default_precision
    walk(cfg)
    # the template writes 'Tables: exact' as a placeholder; left out, each layer
    # keeps the C default (exact sigmoid/tanh, hls4ml softmax: the one with a circuit)
    if cfg.get("Model", {}).get("Tables") == "exact":
        del cfg["Model"]["Tables"]
    return cfg


_MODEL_OBJECT_KEYS = ("PytorchModel", "KerasModel", "OnnxModel")


def _read_config(config):
    """config (None, dict, path or YAML/JSON text) -> (dict or None, text, origin)."""
    if config is None:
        return None, None, None
    if isinstance(config, dict):
        # hls4ml's config_from_pytorch_model/keras_model put the model object itself under a project key, which
        # the library accepts and ignores (the model is convert()'s argument): its description stands in for it
        cfg = {k: (v if k not in _MODEL_OBJECT_KEYS or isinstance(v, (str, type(None))) else str(v))
               for k, v in config.items()}
        try:
            return copy.deepcopy(cfg), None, "<config dict>"
        except TypeError as e:
            raise EtchnnError(f"config: a value of the dict cannot be copied: {e}") from e
    if isinstance(config, (str, os.PathLike)) and (isinstance(config, os.PathLike) or "\n" not in config) \
            and pathlib.Path(config).suffix in (".yml", ".yaml", ".json"):
        p = pathlib.Path(config)
        if not p.exists():
            raise EtchnnError(f"{p}: cannot open the configuration: no such file")
        return None, p.read_text(), str(p)
    if isinstance(config, str):
        return None, config, "<config text>"
    raise EtchnnError(f"config: expected a dict, a .yml/.json path or YAML/JSON text, got {type(config).__name__}")


# convert()'s arguments that are not model options; every other keyword is the `python` name of an entry of the
# library's options table (src/api/options.c, etchnn.options()), set through it.
_CONVERT_ARGS = ("model", "output_dir", "input_shape", "project_name")


def options():
    """Every model option, from the C library's one table (the CLI's `etchnn options` prints the same): a list of
    dicts {key: the set_option and report.json "source" key, python: convert()'s keyword (None: not one), flag, alt,
    switch_flag, switch_value: the CLI's spellings, commands, values: what it takes, help, source: the report.json
    "source" key (None: not recorded)}."""
    return _lib.options()


def _option_text(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def _refuse_unknown(unknown):
    table = _lib.options()
    keywords = [o["python"] for o in table if o["python"]]
    name = sorted(unknown)[0]
    hint = next((f" (the option {name} is the keyword {o['python']} here)" for o in table
                 if o["key"] == name and o["python"]), "")
    raise EtchnnError(f"convert(): unknown keyword '{name}'{hint}: expected one of the options {', '.join(keywords)} "
                      f"(etchnn.options() says what each takes) or {', '.join(_CONVERT_ARGS)}")


def convert(model, config=None, output_dir="etchnn_prj", clock_mhz=None, input_shape=None, project_name="myproject",
            precision=None, tables=None, weight_quant=None, sat_order=None, auto_types=None, keras_weights=None,
            multipliers=None, part=None, fit=None, io_type=None, **unknown):
    """Compile `model` into a Firmware.

    model        a path to a file the CLI reads (.onnx, .keras, .h5, .json),
                 an onnx.ModelProto or its bytes, a torch.nn.Module (with
                 input_shape, the shape of one event; inferred from a first
                 Linear layer), or a Keras 3 keras.Model.
    config       a dict as config_from_model() returns (or hls4ml writes),
                 a .yml/.json path, or YAML/JSON text; None: the CLI's
                 defaults (fixed<16,6>; a quantized model's own types).
    clock_mhz    target clock; written to the config's Model.ClockPeriod
                 (default 200 MHz, or the config's ClockPeriod).
    precision    a type for every variable not set by the config (the CLI's
                 --precision); tables 'exact'|'hls4ml'; weight_quant
                 'exact'|'hls4ml'; sat_order 'exact'|'hls4ml'; auto_types
                 'exact'|'hls4ml' (the CLI's --tables, --weight-quant, --sat-order,
                 --auto-types).
    multipliers  'csd'|'dsp'|'auto' (the CLI's --multipliers: constant and, in layers
                 folded by ReuseFactor, general multiplications on logic or DSP blocks).
    part         a device (the CLI's --part, e.g. 'xcvu13p-flga2577-2-e'): the report's
                 utilization; the config's Part is used when not given.
    fit          a fraction of the part (the CLI's --fit): each Dense/Conv layer's
                 ReuseFactor and multipliers chosen so the estimate fits it.
    io_type      'io_parallel'|'io_stream' (the CLI's --io; default: the config's IOType).
    Every keyword but model, output_dir, input_shape and project_name is an entry of
    the library's options table (etchnn.options()); any other keyword is refused.
    """
    if unknown:
        _refuse_unknown(unknown)
    m = _load(model, input_shape, project_name, keras_weights)
    cfg, text, origin = _read_config(config)
    if text is not None:
        m.config_text(text, origin)
        cfg = json.loads(m.config_json())
        origin = "<config>"
    # no config: the C defaults, as the CLI without -c (fixed<16,6> where no
    # quantizer gives a type; quantized models' layers exact)
    cfg = cfg if cfg is not None else {"Model": {}}
    root = cfg.get("HLSConfig", cfg)
    model_cfg = root.setdefault("Model", {})
    if clock_mhz is None:
        period = model_cfg.get("ClockPeriod") or cfg.get("ClockPeriod")   # hls4ml puts it at the top
        clock_mhz = 1000.0 / float(period) if period else 200.0
    if clock_mhz <= 0:
        raise EtchnnError(f"clock_mhz: expected a positive frequency, got {clock_mhz}")
    model_cfg["ClockPeriod"] = 1000.0 / clock_mhz
    try:
        text = json.dumps(cfg)
    except TypeError as e:
        raise EtchnnError(f"config: expected JSON-like values (str, number, bool, list, dict): {e}") from e
    m.config_text(text, origin or "<config dict>")
    given = {"precision": precision, "tables": tables, "weight_quant": weight_quant, "sat_order": sat_order,
             "auto_types": auto_types, "clock_mhz": float(clock_mhz), "multipliers": multipliers, "part": part, "fit": fit, "io_type": io_type}
    key_of = {o["python"]: o["key"] for o in _lib.options() if o["python"]}
    if set(given) - set(key_of):
        raise EtchnnError(f"internal: convert() keywords {sorted(set(given) - set(key_of))} are not in the options table",
                          internal=True)
    options = {key_of[kw]: _option_text(v) for kw, v in given.items() if v is not None}
    for key, value in options.items():
        m.set_option(key, value)
    m.compile()
    fw = Firmware(m, model, cfg, output_dir, clock_mhz, project_name)
    fw._options, fw._keras_weights, fw._input_shape = options, keras_weights, input_shape
    return fw


class Report(dict):
    """fw.report(): a dict; printing it gives a table."""

    def __str__(self):
        lines = [f"etchnn {self['version']}  project {self['project']}  model {self['model']}  "
                 f"clock {self['clock_mhz']:g} MHz",
                 f"input  {self['input']['size']:>5} x {self['input']['type']}",
                 f"output {self['output']['size']:>5} x {self['output']['type']}",
                 f"parameters {self['parameters']}"]
        if self.get("latency_cycles") is not None:
            lines.append(f"latency {self['latency_cycles']} cycles = {self['latency_ns']:g} ns, II = {self['ii']}")
        rows = [("#", "layer", "class", "out", "result type", "weight type", "bias type", "params", "cycles", "LUT est")]
        for L in self["layers"]:
            ps = L["params"]
            rows.append((str(L["index"]), L["name"], L["class"], str(L["size"]), L["type"] or "-",
                         ps[0]["type"] if len(ps) > 0 else "", ps[1]["type"] if len(ps) > 1 else "",
                         str(sum(p["size"] for p in ps)) if ps else "",
                         str(L.get("rtl", {}).get("latency_cycles", "")), str(L.get("rtl", {}).get("lut_estimate", ""))))
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        for i, r in enumerate(rows):
            lines.append("  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.get("resources"):
            lines.append("estimate (no tool run): " + ", ".join(f"{k} {v}" for k, v in self["resources"].items()))
        elif self.get("rtl_error"):
            lines.append(f"no circuit: {self['rtl_error']}")
        else:
            lines.append("latency and resources: not available in this build of etchnn")
        return "\n".join(lines)

    __repr__ = __str__


class VerifyResult(dict):
    """fw.verify(): ok, events, mismatches, first (the first mismatches), latency, timings."""

    def __bool__(self):
        return bool(self["ok"])

    @property
    def ok(self):
        return bool(self["ok"])

    def __str__(self):
        head = (f"verify {'PASSED' if self['ok'] else 'FAILED'}: {self['events']} events, {self['outputs']} output codes, "
                f"{self['mismatches']} mismatches, {self['valid_errors']} out_valid errors, latency {self['latency']} "
                f"cycles, II {self.get('ii', 1)} (build {self['build_seconds']:.1f} s{'' if self['rebuilt'] else ', reused'}, "
                f"run {self['run_seconds']:.2f} s)")
        rows = [f"  event {m['event']} output {m['output']}: expected code {m['expected']}, got {m['got']}"
                for m in self["first"]]
        return "\n".join([head, *rows])

    __repr__ = __str__


class Firmware:
    """A compiled network.  predict/trace run the bit-exact C emulator in this
    process; write() writes the back ends into output_dir."""

    def __init__(self, m, model, config, output_dir, clock_mhz, project_name):
        self._m = m
        self.model = model
        self.config = config
        self.output_dir = pathlib.Path(output_dir)
        self.clock_mhz = clock_mhz
        self.project_name = project_name
        self.input_size = m.input_size()
        self.output_size = m.output_size()
        self.input_type = m.input_type()
        self.output_type = m.output_type()
        self.inputs = m.inputs()     # [(name, values per event)] of the model's inputs, in order
        self.outputs = m.outputs()   # ... and of its outputs
        self._layers = m.layers()
        self._options, self._keras_weights, self._input_shape = {}, None, None

    def __repr__(self):
        return (f"<etchnn.Firmware {self.project_name}: {self.input_size} x {self.input_type} -> "
                f"{self.output_size} x {self.output_type}, {len(self._layers)} layers>")

    # ---- running ----------------------------------------------------------
    def _events(self, x):
        if len(self.inputs) > 1:
            return self._events_multi(x)
        if isinstance(x, dict):
            name = self.inputs[0][0]
            if set(x) != {name}:
                raise EtchnnError(f"x: expected a dict with the model's one input '{name}', got keys {sorted(x)}")
            x = x[name]
        return self._events_one(x, self.input_size, "x")

    def _events_one(self, x, width, what):
        x = np.asarray(x)
        if x.dtype == object or not np.issubdtype(x.dtype, np.number):
            raise EtchnnError(f"{what}: expected a numeric array, got dtype {x.dtype}")
        single = x.ndim == 1 and x.size == width
        x = x.reshape(1, -1) if single else x.reshape(x.shape[0], -1) if x.ndim >= 1 else x
        if x.ndim != 2 or x.shape[1] != width:
            raise EtchnnError(f"{what}: expected events of {width} values (shape (n, {width})), "
                              f"got shape {np.shape(x)}")
        return np.ascontiguousarray(x, dtype=np.float64), single

    def _events_multi(self, x):
        """Several inputs: a list/tuple of arrays (the model's order) or a dict by input name -> the flat events
        the library takes (each event's inputs one after the other)."""
        names = [nm for nm, _ in self.inputs]
        if isinstance(x, dict):
            missing, extra = [nm for nm in names if nm not in x], sorted(set(x) - set(names))
            if missing or extra:
                raise EtchnnError(f"x: expected a dict with the model's inputs {names}, got keys {sorted(x)}"
                                  + (f" (missing {missing})" if missing else "") + (f" (unknown {extra})" if extra else ""))
            x = [x[nm] for nm in names]
        if not isinstance(x, (list, tuple)) or len(x) != len(names):
            got = f"{len(x)} arrays" if isinstance(x, (list, tuple)) else f"one {type(x).__name__}"
            raise EtchnnError(f"x: expected {len(names)} arrays, one per model input {names} (a list in that order, "
                              f"or a dict by name), got {got}")
        parts = [self._events_one(a, w, f"x['{nm}']") for a, (nm, w) in zip(x, self.inputs)]
        singles = {s for _, s in parts}
        counts = {len(a) for a, _ in parts}
        if len(singles) != 1 or len(counts) != 1:
            raise EtchnnError(f"x: expected the same number of events for every input {names}, got "
                              f"{[a.shape[0] for a, _ in parts]}")
        return np.ascontiguousarray(np.concatenate([a for a, _ in parts], axis=1)), singles.pop()

    def _split(self, y, single):
        """One array (one output), or a list of arrays, one per model output, in order."""
        if len(self.outputs) > 1:
            cols = np.cumsum([w for _, w in self.outputs])[:-1]
            parts = np.split(y, cols, axis=1)
            return [p[0] for p in parts] if single else parts
        return y[0] if single else y

    def predict(self, x, float_mode=False):
        """Outputs for events x (n, inputs): the exact value of every
        fixed-point output, as float64 (n, outputs).  float_mode=True runs the
        same compiled graph in double precision.  Several model inputs: x is a
        list/tuple of arrays (one per input, in the model's order: self.inputs) or
        a dict by input name; several outputs: a list of arrays (self.outputs)."""
        x, single = self._events(x)
        return self._split(self._m.predict(x, float_mode), single)

    def predict_codes(self, x):
        """The raw integer codes of the output type (int64); several inputs or outputs as predict."""
        x, single = self._events(x)
        return self._split(self._m.predict_raw(x), single)

    def trace(self, x, float_mode=False):
        """Per-layer outputs: {layer name: array (n, layer size)}, in
        execution order (a dict keeps it)."""
        x, single = self._events(x)
        out = {}
        for L in self._layers:
            y = self._m.trace(x, L["index"], L["size"], float_mode)
            out[L["name"]] = y[0] if single else y
        return out

    def intervals(self):
        """Interval analysis: {layer name: {accum: (lo, hi), value: (lo, hi), accum_fits, fits}} for any input
        the input types hold, in the emulator's arithmetic (sound bounds, not tight: see src/passes/intervals.c).
        accum is the accumulator of Dense/Conv layers (else the value); value is before the cast to the layer's
        type; fits: the type holds it, so no input can overflow it."""
        iv = self._m.intervals(len(self._layers))
        return {L["name"]: {"accum": (float(r[0]), float(r[1])), "value": (float(r[2]), float(r[3])),
                            "accum_fits": bool(r[4]), "fits": bool(r[5])} for L, r in zip(self._layers, iv)}

    def layers(self):
        """[{index, name, class, size, type, params: [{name, size, type}]}]."""
        return copy.deepcopy(self._layers)

    def weights(self, layer, float_mode=False):
        """{param name: values} of a layer (by name or index): the exact
        values of their fixed-point codes, or (float_mode) the float values
        after folding."""
        L = self._layer(layer)
        return {p["name"]: self._m.param_values(L["index"], j, p["size"], float_mode)
                for j, p in enumerate(L["params"])}

    def _layer(self, layer):
        for L in self._layers:
            if layer in (L["name"], L["index"]):
                return L
        raise EtchnnError(f"layer '{layer}': expected one of {', '.join(L['name'] for L in self._layers)}")

    def compile(self):
        """For hls4ml habits: the emulator is already compiled in-process."""
        return self

    # ---- back ends --------------------------------------------------------
    def write(self, output_dir=None, emit=None):
        """Write every back end into output_dir: c/NAME.{c,h} (standalone C),
        rtl/ (Verilog), report.json and report.txt, with the model and its
        configuration beside them (NAME.onnx for in-memory models,
        etchnn_config.json) so that the CLI can rebuild the project from the
        directory alone.  emit: what to write, as the CLI's --emit (a list or
        a comma-separated string of c, rtl, hls, axis, vivado, fusesoc, all;
        default c, rtl).  Returns the directory."""
        d = pathlib.Path(output_dir) if output_dir is not None else self.output_dir
        d.mkdir(parents=True, exist_ok=True)
        cfg = d / "etchnn_config.json"
        cfg.write_text(json.dumps(self.config, indent=2) + "\n")
        source = self.model
        if not isinstance(source, (str, os.PathLike)):
            from .frontends import serialize
            suffix, data = serialize(self.model, self._input_shape)
            source = d / f"{self.project_name}{suffix}"
            source.write_bytes(data)
        m = _lib.Model()   # rebuilt from the files, so the written project names them
        load_into(m, source, keras_weights=self._keras_weights)
        m.config_file(os.fspath(cfg))
        for key, value in self._options.items():
            m.set_option(key, value)
        if emit is not None:
            m.set_option("emit", emit if isinstance(emit, str) else ",".join(emit))
        m.write(os.fspath(d))
        return d

    def report(self):
        """A Report (dict): types, sizes and parameters per layer, and from
        the Verilog back end latency (cycles, ns), II and a resource estimate
        (estimate: lut, ff, dsp; per layer too).  Printing it gives a table."""
        r = Report(version=version(), project=self.project_name, model=_describe(self.model),
                   clock_mhz=self.clock_mhz,
                   input={"size": self.input_size, "type": self.input_type},
                   output={"size": self.output_size, "type": self.output_type},
                   parameters=sum(p["size"] for L in self._layers for p in L["params"]),
                   layers=self.layers(), latency_cycles=None, latency_ns=None, ii=None, resources=None)
        with tempfile.TemporaryDirectory(prefix="etchnn_report_") as tmp:
            try:
                self._m.write(tmp)
            except EtchnnError as e:   # e.g. a layer with no circuit: the report says why
                r["rtl_error"] = str(e)
            rj = pathlib.Path(tmp) / "report.json"
            hw = json.loads(rj.read_text()) if rj.exists() else None
        if hw:
            r.update(latency_cycles=hw.get("latency_cycles"), latency_ns=hw.get("latency_ns"), ii=hw.get("ii"),
                     resources=hw.get("estimate"), rtl=hw)
            per = {L["name"]: L for L in hw.get("layers", [])}
            for L in r["layers"]:
                h = per.get(L["name"])
                if h:
                    L["rtl"] = {k: h[k] for k in ("latency_cycles", "lut_estimate", "ff_estimate", "dsp_estimate")
                                if k in h}
        return r

    def verify(self, x=None, n=10000, seed=0, rebuild=False, verbose=True, progress=None):
        """Write the project, simulate its Verilog with Verilator one event
        per clock, and compare every output code with the emulator's, and
        out_valid's timing.  x: events to use (default: n random events from
        seed, corner cases first).  verbose: a live progress line on stderr
        (the step, a bar of the C++ objects compiled, the time); False: silent.
        progress: a callable(message) that also gets each step.  Returns a
        VerifyResult (dict; ok is True when every code matched); errors (no
        Verilator, ...) raise EtchnnError."""
        from .progress import Progress, verilator_build
        self._need("etn_verify", "verify", "the C library's etn_verify and Verilator")
        verbose, progress = _progress_args(verbose, progress)
        d = self.write()
        xs = self._events(x)[0] if x is not None else None
        measures = {"verify: building": ("verify: Verilator build", verilator_build(d))}
        with Progress(verbose, progress, measures) as p:
            rc, res = self._m.verify(os.fspath(d), x=xs, n=0 if xs is not None else n, seed=seed, rebuild=rebuild,
                                     progress=p.say)
        first = [{"event": f.event, "output": f.output, "expected": f.expected, "got": f.got}
                 for f in res.first[:min(res.mismatches, len(res.first))]]
        return VerifyResult(ok=(rc == 0), events=res.events, outputs=res.outputs, mismatches=res.mismatches,
                            first=first, valid_errors=res.valid_errors, latency=res.latency, ii=res.ii,
                            rebuilt=bool(res.rebuilt), build_seconds=res.build_seconds, run_seconds=res.run_seconds,
                            directory=str(d))

    def synth(self, target="xilinx", device=None, verbose=True, progress=None, timeout=3600, force=False):
        """Write the project and synthesize its Verilog with open-source tools
        (Yosys; nextpnr for ice40/ecp5/nexus): target 'xilinx', 'ice40', 'ecp5'
        or 'nexus' (a LIFCL-40 CABGA400, every port bit on a ball by a PDC).
        Returns the synthesis summary (dict: tool versions, resources such as
        LUT/FF/CARRY/DSP/BRAM, Fmax where placed and routed), also merged into
        OUTPUT_DIR/report.json ("synth"; "synth"["by_target"] keeps every
        target's latest run).  verbose: a live progress line on stderr (the
        Yosys pass or nextpnr phase running, the time); False: silent.
        progress: a callable(message) that also gets each step and, every few
        seconds, where the running tool is.  timeout: seconds for all tools
        together (None or 0: no limit); past it they are stopped and
        EtchnnError says so.  force: for ice40/ecp5/nexus, run even when the
        design's estimate is over twice the device's logic cells (refused
        otherwise, before Yosys)."""
        from .progress import Progress, yosys_log
        self._need("etn_synth", "synth", "the C library's etn_synth and Yosys")
        verbose, progress = _progress_args(verbose, progress)
        d = self.write()
        phase = {}

        def pnr_phase():
            return phase.get("nextpnr")

        measures = {"synth: [1/": ("synth: yosys", yosys_log(d, target)), "synth: [2/": ("synth: nextpnr", pnr_phase)}
        with Progress(verbose, progress, measures) as p:
            def say(msg):
                m = _SYNTH_TICK.match(msg)
                if m:   # where the running tool is: the live line shows it, the callback gets it
                    phase["nextpnr" if m.group(1).startswith("nextpnr") else "yosys"] = m.group(2)
                    if progress:
                        progress(msg)
                else:
                    p.say(msg)
            text = self._m.synth(os.fspath(d), target, device, say, timeout=timeout, force=force)
        return json.loads(text) if text else {}

    def _need(self, cfunc, what, needs):
        if not self._m.has(cfunc):
            raise NotAvailableError(f"fw.{what}(): not in this build of etchnn yet ({what} needs {needs}); "
                                    "write() already writes the Verilog (rtl/) and the C emulator (c/)")


# etn_synth's periodic "synth: TOOL running 41 s: PHASE" messages
_SYNTH_TICK = re.compile(r"^synth: (\S+) running \d+ s: (.*)$")


def _progress_args(verbose, progress):
    """(verbose, callback): progress=False is verbose=False; a callable
    progress is called with each step."""
    if progress is False:
        return False, None
    return bool(verbose), (progress if callable(progress) else None)


def _describe(model):
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    return f"{type(model).__module__}.{type(model).__name__}"


def version():
    from . import __version__
    return __version__
