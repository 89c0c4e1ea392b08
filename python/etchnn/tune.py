"""tune(): per-layer fixed-point types chosen from data, so that a metric stays
within a given loss of the float model while the estimated LUTs go down.

How it searches (see tune() for the parameters):

1. Integer bits come from the data.  The emulator traces the compiled graph
   in double precision on x (profiling.ranges): each layer's largest
   magnitude and sign give its result type's integer bits, plus `guard_bits`
   against values larger than any seen; a Dense/Conv accumulator gets the
   integer bits of the same sum; weights and biases (float models: types the
   configuration may set) get exactly the integer bits their largest value
   needs.  A layer whose values are never negative on x gets an unsigned type.
2. Fractional bits are searched with the bit-exact emulator (fw.predict):
   first one count F for every variable, the smallest that keeps half of the
   budget the widest types leave (bisection); then a greedy descent, one bit at a time: each
   step takes the variable whose one-bit cut saves the most estimated LUTs
   per unit of metric lost (LUTs per bit measured once per variable with the
   resource estimate), among the cuts that keep the loss within max_loss;
   scores are re-measured lazily (a cut is taken when its fresh score still
   beats every other variable's last score), and a variable whose next cut
   breaks the limit is not tried again.
3. The result is compiled once more; its estimate and the starting one
   (uniform fixed<16,6>, or the given config) are reported.

The result is a local optimum of a greedy search, not a proof of minimality,
and the loss limit holds on x: check held-out data with `validation`."""
import copy
import json
import math
import os
import pathlib
import tempfile
import time

import numpy as np

from . import _lib
from .errors import EtchnnError
from .firmware import _read_config, config_from_model, convert
from .frontends import kind_of, serialize

_TUNED_VARS = ("result", "accum", "weight", "bias")
MAX_FRAC = 24
MAX_WIDTH = 31   # operands of a product stay within the 63 bits the C library multiplies


# ---- metrics ------------------------------------------------------------------
def _labels(y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:   # one-hot
        return y.argmax(1)
    return y.reshape(-1)


def _classes(out):
    out = out.reshape(len(out), -1)
    return out.argmax(1) if out.shape[1] > 1 else (out[:, 0] > 0.5).astype(np.int64)


def accuracy(out, y):
    """Fraction of events whose class (argmax; one output: > 0.5) is y's."""
    return float(np.mean(_classes(out) == _labels(y)))


def auc(out, y):
    """ROC AUC (scikit-learn): one output against 0/1 labels, or the mean of
    the one-vs-rest AUCs of the classes present in y."""
    try:
        from sklearn.metrics import roc_auc_score
    except ImportError as e:
        raise EtchnnError("metric 'auc' needs scikit-learn: pip install scikit-learn") from e
    out = out.reshape(len(out), -1)
    labels = _labels(y)
    if out.shape[1] == 1:
        return float(roc_auc_score(labels, out[:, 0]))
    scores = [roc_auc_score(labels == k, out[:, k]) for k in range(out.shape[1]) if 0 < np.sum(labels == k) < len(labels)]
    return float(np.mean(scores))


def mse(out, y):
    """Mean squared error between the outputs and y (same shape)."""
    out = out.reshape(len(out), -1)
    return float(np.mean((out - np.asarray(y, dtype=np.float64).reshape(out.shape)) ** 2))


METRICS = {"accuracy": (accuracy, True), "auc": (auc, True), "mse": (mse, False)}


def poisson_upper(k, cl=0.95):
    """The one-sided upper limit u of a Poisson mean with k events seen:
    P(X <= k; u) = 1 - cl (3.00 for k = 0, 4.74 for 1, 6.30 for 2 at 95%);
    beyond 500 events (where exp(-u) underflows) the normal approximation."""
    if k > 500:
        return k + 1.645 * math.sqrt(k) + 1.5
    def cdf(mu):
        term = total = math.exp(-mu)
        for i in range(1, k + 1):
            term *= mu / i
            total += term
        return total
    lo, hi = float(k), float(k) + 10.0 * math.sqrt(k + 1) + 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > 1 - cl else (lo, mid)
    return hi


def metric_function(metric):
    """(name, function(outputs, y), higher_is_better) for 'accuracy', 'auc',
    'mse', or a callable(outputs, y) (higher is better)."""
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric, True
    if metric not in METRICS:
        raise EtchnnError(f"metric: expected one of {', '.join(METRICS)} or a callable, got {metric!r}")
    return metric, METRICS[metric][0], METRICS[metric][1]


def default_targets(metric, float_out):
    """What a metric compares with when no labels are given: the float
    model's classes (accuracy, auc) or its outputs (mse)."""
    return float_out if metric == "mse" else _classes(float_out)


# ---- types --------------------------------------------------------------------
def integer_bits(absmax, signed):
    """The fewest integer bits I (sign included when signed) whose type holds
    absmax: 2^(I-1) > absmax signed, 2^I > absmax unsigned."""
    if absmax <= 0:
        return 1 if signed else 0
    return math.floor(math.log2(absmax)) + 1 + (1 if signed else 0)


class _Var:
    """One precision variable of one layer: its integer bits (fixed) and
    signedness; the search moves its fractional bits."""

    def __init__(self, layer, key, ibits, signed):
        self.layer, self.key, self.ibits, self.signed = layer, key, ibits, signed
        self.min_frac = max(0, (2 if signed else 1) - ibits)   # at least 2 bits signed, 1 unsigned
        self.max_frac = max(self.min_frac, min(MAX_FRAC, MAX_WIDTH - ibits))

    def type(self, frac):
        return f"{'' if self.signed else 'u'}fixed<{self.ibits + frac},{self.ibits}>"

    def __repr__(self):
        return f"{self.layer}.{self.key}"


def _materialize(model, input_shape, tmp, project_name):
    """A path the C readers load: the model's own path, or the in-memory
    model serialized once into tmp (so each trial does not export again)."""
    if kind_of(model) == "path":
        return os.fspath(model)
    suffix, data = serialize(model, input_shape)
    p = pathlib.Path(tmp) / f"{project_name}{suffix}"
    p.write_bytes(data)
    return os.fspath(p)


def config_dict(config):
    """A configuration (dict, .yml/.json path, YAML/JSON text) as a dict."""
    cfg, text, origin = _read_config(config)
    if text is not None:
        parser = _lib.Model()
        parser.config_text(text, origin)
        cfg = json.loads(parser.config_json())
    return cfg


def _with_types(base, types):
    """base with LayerName.<layer>.Precision.<var> = type for each (layer, var) -> type."""
    cfg = copy.deepcopy(base)
    root = cfg.get("HLSConfig", cfg)
    names = root.setdefault("LayerName", {})
    for (layer, key), t in types.items():
        entry = names.setdefault(layer, {})
        prec = entry.get("Precision")
        if not isinstance(prec, dict):
            prec = {"default": prec} if prec is not None else {}
            entry["Precision"] = prec
        prec[key] = t
    return cfg


# ---- the result ---------------------------------------------------------------
class TuneResult:
    """What tune() found.  Attributes:

    config           the tuned configuration (dict; write() saves it as YAML)
    types            {layer: {result|accum|weight|bias: type}} that tune() set
    firmware         the tuned Firmware (fw.predict is what was measured)
    metric, max_loss the metric's name and the allowed loss (metric units)
    float_metric     the reference: the float model's metric on x (or `reference`)
    tuned_metric     the tuned firmware's metric on x; loss = how much worse
    before, after    estimates {lut, ff, dsp, latency_cycles, ii} and the
                     metric on x of the starting configuration (uniform
                     fixed<16,6> unless config= says otherwise) and of the
                     tuned one
    validation       None, or {float, tuned, loss} on the validation data
    evaluations      how many configurations the emulator ran; seconds: time
    overflow         'data' or 'proven' (integer bits from interval analysis:
                     no input of the input type overflows a result or an
                     accumulator; Firmware.intervals() shows the bounds)
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def write(self, path):
        """Write the configuration as hls4ml-style YAML (Model, LayerName:
        NAME: Precision: {result, accum, weight, bias}); `etchnn compile MODEL
        -c PATH` and etchnn.convert(model, config=PATH) read it as it is."""
        text = to_yaml(self.config, header=f"etchnn.tune: {self.metric} {self.tuned_metric:.6g} "
                                           f"(float {self.float_metric:.6g}, max loss {self.max_loss:g}); "
                                           f"LUT estimate {self.before['lut']} -> {self.after['lut']}")
        pathlib.Path(path).write_text(text)
        return pathlib.Path(path)

    def as_dict(self):
        d = {k: v for k, v in self.__dict__.items() if k not in ("firmware", "history")}
        return json.loads(json.dumps(d, default=str))

    def __str__(self):
        lines = [f"tune: {self.metric} float {self.float_metric:.6g}, tuned {self.tuned_metric:.6g} "
                 f"(loss {self.loss:.6g}, max {self.max_loss:g}); {self.evaluations} evaluations in {self.seconds:.1f} s"
                 + ("; integer bits proven by interval analysis" if getattr(self, "overflow", "data") == "proven" else ""),
                 f"estimate: LUT {self.before['lut']} -> {self.after['lut']}, FF {self.before['ff']} -> "
                 f"{self.after['ff']}, DSP {self.before['dsp']} -> {self.after['dsp']}; "
                 f"{self.metric} {self.before['metric']:.6g} -> {self.after['metric']:.6g}"]
        if self.validation:
            v = self.validation
            lines.append(f"validation: float {v['float']:.6g}, tuned {v['tuned']:.6g} (loss {v['loss']:.6g})")
        for layer, ts in self.types.items():
            lines.append(f"  {layer}: " + ", ".join(f"{k} {t}" for k, t in ts.items()))
        return "\n".join(lines)

    __repr__ = __str__


def to_yaml(cfg, header=None):
    """A configuration dict as YAML (PyYAML; JSON, which YAML reads, without it)."""
    head = "".join(f"# {line}\n" for line in (header or "").splitlines())
    try:
        import yaml
    except ImportError:
        return head + json.dumps(cfg, indent=2) + "\n"
    return head + yaml.safe_dump(cfg, default_flow_style=False, sort_keys=False)


def _estimate(fw):
    r = fw.report()
    est = r.get("resources") or {}
    return {"lut": est.get("lut"), "ff": est.get("ff"), "dsp": est.get("dsp"),
            "latency_cycles": r.get("latency_cycles"), "ii": r.get("ii")}


# ---- the search ---------------------------------------------------------------
def tune(model, x, y=None, metric="accuracy", max_loss=0.01, config=None, validation=None, clock_mhz=None,
         reference=None, guard_bits=1, strict=True, overflow="data", input_shape=None, project_name="myproject",
         verbose=False):
    """Per-layer result and accumulator types (and weight and bias types of
    float models) that keep `metric` within `max_loss` of the float model on
    x, with the fewest estimated LUTs the search finds (then DSPs).

    model       anything etchnn.convert() takes (a path, torch, Keras, ONNX).
    x, y        data (events, features) and labels: class indices or one-hot
                (accuracy, auc; one output: 0/1 against > 0.5) or targets (mse).
                y=None: the float model's own classes / outputs are the labels.
    metric      'accuracy', 'auc', 'mse', or a callable(outputs, y) where higher
                is better.
    max_loss    in the metric's units: 0.01 is one point of accuracy, for mse
                an increase of the error.
    config      the starting configuration (dict, path, text): its other keys
                (ReuseFactor, Strategy, Tables, ...) are kept; tuned types go
                into LayerName.  Default: uniform fixed<16,6>.
    validation  (x_val, y_val) or x_val: held-out data, measured, not used.
    clock_mhz   the clock of the estimate (default: the config's, else 200).
    reference   the metric value to stay close to, or the outputs of a
                reference model on x (default: the float model, i.e. the
                compiled graph run in double precision).
    guard_bits  extra integer bits on results and accumulators over the
                data's range.
    overflow    'data': integer bits from x's range plus guard_bits (values
                beyond any seen may still overflow); 'proven': every layer's
                result and accumulator integer bits from interval analysis
                (Firmware.intervals()), so that no input the input type holds
                can overflow any of them -- the input layer's type itself
                still comes from x (plus guard_bits): it is the interface.
                The final config is checked by the analysis again.
    strict      (accuracy) the search's loss is an upper bound of the share
                of events the float model gets right and the firmware wrong
                (b of n: the 95% one-sided Poisson upper limit of b, over n:
                3.0/n for b = 0, 4.74/n for b = 1, ...), when
                larger than the net loss: events broken are not offset by
                events fixed.  On x they cancel by chance, and a search over
                many configurations picks lucky cancellations that held-out
                data does not repeat; a rate of broken events carries over
                to new data.  strict=False: the net loss on x.
    Returns a TuneResult; the method is in this module's docstring."""
    t0 = time.time()
    name, fn, higher = metric_function(metric)
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(len(x), -1)
    if max_loss < 0:
        raise EtchnnError(f"max_loss: expected a loss >= 0 in the metric's units, got {max_loss}")
    if overflow not in ("data", "proven"):
        raise EtchnnError(f"overflow: expected 'data' or 'proven', got {overflow!r}")
    say = print if verbose is True else (verbose or (lambda *a: None))
    with tempfile.TemporaryDirectory(prefix="etchnn_tune_") as tmp:
        src = _materialize(model, input_shape, tmp, project_name)
        template = config_from_model(src, granularity="name", project_name=project_name)
        base = config_dict(config) if config is not None else template

        def build(cfg):
            return convert(src, config=cfg, clock_mhz=clock_mhz, project_name=project_name)

        fw0 = build(base)
        float_out = fw0.predict(x, float_mode=True)
        labels = default_targets(name, float_out) if y is None else y
        if reference is None:
            ref = fn(float_out, labels)
        elif np.ndim(reference) == 0:
            ref = float(reference)
        else:
            ref_out = np.asarray(reference, dtype=np.float64)
            labels = default_targets(name, ref_out) if y is None else y
            ref = fn(ref_out, labels)

        float_right = _classes(float_out) == _labels(labels) if name == "accuracy" else None

        def loss_of(out):
            v = fn(out, labels)
            loss = ref - v if higher else v - ref
            if name == "accuracy" and strict:   # events right in float and wrong here, none offset by events fixed
                right = _classes(out) == _labels(labels)
                broken = int(np.count_nonzero(float_right & ~right))
                loss = max(loss, poisson_upper(broken) / len(right))
            return loss, v

        # 1. integer bits from the data's range
        rng = _ranges(fw0, x)
        variables = []
        root = template.get("HLSConfig", template)
        for layer, entry in (root.get("LayerName") or {}).items():
            prec = entry.get("Precision")
            if not isinstance(prec, dict) or layer not in rng:
                continue
            L = rng[layer]
            for key in _TUNED_VARS:
                if key not in prec or (key != "result" and not L["params"]):
                    continue
                if key in ("result", "accum"):
                    s = L["output"]
                    signed = s["min"] < 0
                    ibits = integer_bits(s["absmax"], signed) + guard_bits
                else:
                    params = list(L["params"].values())   # the weights first, then the bias
                    s = params[0 if key == "weight" else 1] if len(params) > (key == "bias") else None
                    if s is None:
                        continue
                    signed = s["min"] < 0
                    ibits = integer_bits(s["absmax"], signed)
                variables.append(_Var(layer, key, ibits, signed))
        if not variables:
            raise EtchnnError("tune: no layer has a precision the configuration can set (a fully quantized model?)")

        evaluations = [0]
        cache = {}
        input_layers = {L["name"] for L in fw0.layers() if L["class"] == "InputLayer"}

        def prove(fracs):
            """Widen the integer bits of results and accumulators until the interval analysis of the config
            with these fractional bits finds no overflow; variables are replaced in place."""
            for _ in range(4 * len(variables) + 4):
                fw = build(_with_types(base, {(v.layer, v.key): v.type(f) for v, f in zip(variables, fracs)}))
                iv = fw.intervals()
                changed = False
                for k, v in enumerate(variables):
                    if v.key not in ("result", "accum") or v.layer in input_layers:
                        continue
                    a = iv[v.layer]
                    lo, hi = a["value"] if v.key == "result" else a["accum"]
                    signed = v.signed or lo < 0
                    need = integer_bits(max(-lo, hi + 2.0 ** -fracs[k]), signed)
                    if need > v.ibits or signed != v.signed:
                        variables[k] = _Var(v.layer, v.key, max(need, v.ibits), signed)
                        if variables[k].max_frac < fracs[k]:
                            fracs[k] = variables[k].max_frac
                        changed = True
                if not changed:
                    bad = [n for n, a in iv.items() if not (a["fits"] and a["accum_fits"]) and n not in input_layers]
                    if not bad:
                        return fw
                    raise EtchnnError(f"tune: overflow='proven': layer '{bad[0]}' may overflow and has no tuned "
                                      f"type to widen (its type comes from the configuration)")
            raise EtchnnError("tune: overflow='proven': the interval analysis did not settle")

        if overflow == "proven":
            prove([min(max(12, v.min_frac), v.max_frac) for v in variables])
            for v in variables:
                if v.ibits + v.min_frac > MAX_WIDTH:
                    raise EtchnnError(f"tune: overflow='proven': {v!r} needs {v.ibits} integer bits, more than the "
                                      f"{MAX_WIDTH}-bit operands etchnn's library multiplies")

        def run(fracs):
            k = tuple(fracs)
            if k not in cache:
                fw = build(_with_types(base, {(v.layer, v.key): v.type(f) for v, f in zip(variables, fracs)}))
                evaluations[0] += 1
                cache[k] = loss_of(fw.predict(x))
            return cache[k]

        # 2a. one fractional count for all: the smallest within half the budget
        lo, hi = 0, MAX_FRAC
        uniform = lambda F: [min(max(F, v.min_frac), v.max_frac) for v in variables]  # noqa: E731
        floor = run(uniform(hi))[0]
        if floor > max_loss:
            raise EtchnnError(f"tune: even {MAX_FRAC} fractional bits everywhere lose {floor:.6g} "
                              f"{name} (max_loss {max_loss:g}): the integer bits (guard_bits={guard_bits}) or "
                              f"the tables limit it" + ("; overflow='proven' widens every layer to its worst case, and a softmax "
                                                            "or sigmoid table then spreads its entries over that range"
                                                            if overflow == "proven" else ""))
        while lo < hi:   # half of what the widest types leave of the budget
            mid = (lo + hi) // 2
            if run(uniform(mid))[0] <= floor + (max_loss - floor) / 2:
                hi = mid
            else:
                lo = mid + 1
        fracs = uniform(lo)
        cur_loss = run(fracs)[0]
        say(f"tune: {len(variables)} variables; uniform start at {lo} fractional bits, loss {cur_loss:.4g}")

        # LUTs saved per bit of each variable, measured once from the start
        est0 = _estimate(build(_with_types(base, {(v.layer, v.key): v.type(f) for v, f in zip(variables, fracs)})))
        lut_per_bit = []
        for i, v in enumerate(variables):
            step = min(2, fracs[i] - v.min_frac)
            if step <= 0:
                lut_per_bit.append(0.0)
                continue
            trial = list(fracs)
            trial[i] -= step
            e = _estimate(build(_with_types(base, {(w.layer, w.key): w.type(f) for w, f in zip(variables, trial)})))
            lut_per_bit.append(max((est0["lut"] - e["lut"]) + (est0["dsp"] - e["dsp"]) * 1e-3, 0.0) / step)

        # 2b. greedy descent, lazily re-scored
        eps = max(max_loss / 10, 1e-9)

        def score(i, new_loss):
            return (lut_per_bit[i] + 0.25) / (max(new_loss - cur_loss, 0.0) + eps)

        active = {i for i, v in enumerate(variables) if fracs[i] > v.min_frac}
        stale = {i: float("inf") for i in active}
        history = []
        while active:
            i = max(active, key=lambda j: (stale[j], -j))
            trial = list(fracs)
            trial[i] -= 1
            new_loss = run(trial)[0]
            if new_loss > max_loss:
                active.discard(i)
                continue
            s = score(i, new_loss)
            others = max((stale[j] for j in active if j != i), default=-1.0)
            if s >= others:
                fracs, cur_loss = trial, new_loss
                history.append((repr(variables[i]), fracs[i], new_loss))
                if fracs[i] <= variables[i].min_frac:
                    active.discard(i)
            stale[i] = s

        # 3. the result (proven: checked again with the final fractional bits, widened where rounding needs it)
        if overflow == "proven":
            prove(fracs)
        types = {(v.layer, v.key): v.type(f) for v, f in zip(variables, fracs)}
        tuned_cfg = _with_types(base, types)
        fw = build(tuned_cfg)
        tuned_value = fn(fw.predict(x), labels)
        tuned_loss = ref - tuned_value if higher else tuned_value - ref
        before, after = _estimate(fw0), _estimate(fw)
        before["metric"], after["metric"] = fn(fw0.predict(x), labels), tuned_value
        val = None
        if validation is not None:
            xv, yv = validation if isinstance(validation, (tuple, list)) else (validation, None)
            xv = np.asarray(xv, dtype=np.float64).reshape(len(xv), -1)
            fo = fw0.predict(xv, float_mode=True)
            lv = default_targets(name, fo) if yv is None else yv
            vf, vt = fn(fo, lv), fn(fw.predict(xv), lv)
            val = {"float": vf, "tuned": vt, "loss": (vf - vt) if higher else (vt - vf)}
        per_layer = {}
        for (layer, key), t in types.items():
            per_layer.setdefault(layer, {})[key] = t
        # the firmware outlives the temporary model file: it holds the compiled graph; write() serializes the model
        fw.model, fw._input_shape = model, input_shape
    return TuneResult(config=fw.config, types=per_layer, firmware=fw, metric=name, max_loss=max_loss,
                      float_metric=ref, tuned_metric=tuned_value, loss=tuned_loss, before=before, after=after,
                      validation=val, evaluations=evaluations[0], seconds=time.time() - t0, history=history,
                      guard_bits=guard_bits, uniform_start_frac=lo, overflow=overflow)


def _ranges(fw, x):
    from .profiling import ranges
    return ranges(fw, x)
