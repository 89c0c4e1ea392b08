"""Where the bits go: per-layer distributions against each fixed-point type's
range (numerical), and per-layer error of the firmware against float (compare).

numerical() draws, per layer, the magnitudes of weights and of activations on
x (log2 |value|, as box plots) over a shaded band from the type's smallest
step to its largest value: values right of the band overflow, values left of
it round to zero, a band far right of the values wastes integer bits.
matplotlib is imported only here."""
import re

import numpy as np

from .errors import EtchnnError

_TYPE = re.compile(r"^(u?)fixed<(-?\d+),(-?\d+)(?:,([A-Z_]+))?(?:,([A-Z_]+))?>$")


class FixedType:
    """A canonical etchnn type string, e.g. 'fixed<16,6>' or 'ufixed<8,0,RND,SAT>'."""

    def __init__(self, text):
        mt = _TYPE.match(text or "")
        if not mt:
            raise EtchnnError(f"type '{text}': expected [u]fixed<W,I[,Q[,O]]>")
        self.text = text
        self.signed = mt.group(1) != "u"
        self.width, self.integer = int(mt.group(2)), int(mt.group(3))
        self.frac = self.width - self.integer
        self.lsb = 2.0 ** -self.frac
        if self.signed:
            self.min, self.max = -(2.0 ** (self.integer - 1)), 2.0 ** (self.integer - 1) - self.lsb
        else:
            self.min, self.max = 0.0, 2.0 ** self.integer - self.lsb

    def __repr__(self):
        return self.text

    def overflow(self, v):
        """Fraction of values outside [min, max]."""
        v = np.asarray(v)
        return float(np.mean((v < self.min) | (v > self.max))) if v.size else 0.0


def _float_trace(fw, x, max_events):
    x = np.asarray(x)[:max_events]
    return x, fw.trace(x, float_mode=True)


def _log2_abs(v):
    v = np.abs(np.asarray(v, dtype=np.float64).ravel())
    v = v[v > 0]
    return np.log2(v)


def numerical(model=None, fw=None, x=None, max_events=2000):
    """A matplotlib Figure: per layer, weights (left) and activations on x
    (right) as log2|value| box plots, each over its type's representable
    band [log2 lsb, log2 max], shaded.  model is accepted for hls4ml's
    signature (the firmware holds the float weights after folding)."""
    if fw is None:
        raise EtchnnError("profiling.numerical: pass fw, the Firmware from etchnn.convert()")
    try:
        import matplotlib
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise EtchnnError("profiling needs matplotlib: pip install matplotlib") from e
    del matplotlib
    wrows = []   # (label, values, type)
    for L in fw.layers():
        if not L["params"]:
            continue
        vals = fw.weights(L["index"], float_mode=True)
        for p in L["params"]:
            role = "w" if p is L["params"][0] else "b"
            wrows.append((f"{L['name']} {role}", vals[p["name"]], p["type"]))
    arows = []
    if x is not None:
        _, tr = _float_trace(fw, x, max_events)
        for L in fw.layers():
            arows.append((L["name"], tr[L["name"]], L["type"]))
    ncols = 2 if arows else 1
    height = max(3.0, 0.45 * max(len(wrows), len(arows), 1) + 1.5)
    fig, axes = plt.subplots(1, ncols, figsize=(6.5 * ncols, height), squeeze=False)
    _panel(axes[0][0], wrows, "weights and biases (float) vs their types")
    if arows:
        _panel(axes[0][1], arows, f"activations on {min(len(x), max_events)} events (float) vs result types")
    fig.tight_layout()
    return fig


def _panel(ax, rows, title):
    ax.set_title(title, fontsize=10)
    if not rows:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    labels, lo, hi_all = [], [], []
    for k, (label, values, tname) in enumerate(rows):
        y = len(rows) - 1 - k
        if tname:
            t = FixedType(tname)
            hi = np.log2(max(abs(t.min), abs(t.max)))
            ax.add_patch(_rect(np.log2(t.lsb), y - 0.4, hi - np.log2(t.lsb), 0.8))
            lo.append(np.log2(t.lsb))
            hi_all.append(hi)
            of = t.overflow(values)
            tname = f"{tname}" + (f"  {of:.1%} overflow" if of else "")
        lv = _log2_abs(values)
        if lv.size:
            lo.append(np.percentile(lv, 1))
            hi_all.append(lv.max())
            ax.boxplot([lv], positions=[y], vert=False, widths=0.5, showfliers=True,
                       flierprops={"markersize": 2}, manage_ticks=False)
        labels.append((y, f"{label}\n{tname or ''}"))
    ax.set_yticks([y for y, _ in labels], [s for _, s in labels], fontsize=7)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    if lo:   # tiny values (softmax tails) would squash the plot: show from the 1st percentile
        ax.set_xlim(min(lo) - 1, max(hi_all) + 1)
    ax.set_xlabel("log2 |value|  (shaded: from the type's step to its largest value)")
    ax.grid(axis="x", alpha=0.3)


def _rect(x0, y0, w, h):
    from matplotlib.patches import Rectangle
    return Rectangle((x0, y0), w, h, color="tab:green", alpha=0.2, lw=0)


class Comparison(dict):
    """compare(): {layer: {max_abs, mean_abs, rms, overflow, type}}; prints as a table."""

    def __str__(self):
        rows = [("layer", "type", "max |err|", "mean |err|", "rms", "overflow")]
        for name, r in self.items():
            if name.startswith("_"):
                continue
            rows.append((name, r["type"] or "-", f"{r['max_abs']:.3g}", f"{r['mean_abs']:.3g}", f"{r['rms']:.3g}",
                         f"{r['overflow']:.2%}"))
        w = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        out = ["  ".join(s.ljust(n) for s, n in zip(r, w)).rstrip() for r in rows]
        out.insert(1, "  ".join("-" * n for n in w))
        if "_model" in self:
            m = self["_model"]
            out.append(f"source model vs firmware in float: max |diff| {m['float_vs_model']:.3g}; "
                       f"firmware vs source model: max |err| {m['fixed_vs_model']:.3g}")
        return "\n".join(out)

    __repr__ = __str__


def compare(model, fw, x, max_events=2000):
    """Per-layer error of the firmware (fixed point) against the same graph in
    float on x: {layer: {max_abs, mean_abs, rms, overflow, type}} with
    '_model' holding the final outputs checked against the source model
    itself when it can be run here (torch, Keras, ONNX with onnxruntime)."""
    x = np.asarray(x)[:max_events]
    fl = fw.trace(x, float_mode=True)
    fx = fw.trace(x)
    out = Comparison()
    for L in fw.layers():
        a, b = fl[L["name"]], fx[L["name"]]
        d = np.abs(b - a)
        out[L["name"]] = {"type": L["type"], "max_abs": float(d.max()) if d.size else 0.0,
                          "mean_abs": float(d.mean()) if d.size else 0.0,
                          "rms": float(np.sqrt(np.mean(d ** 2))) if d.size else 0.0,
                          "overflow": FixedType(L["type"]).overflow(a) if L["type"] else 0.0}
    ref = float_outputs(model, x) if model is not None else None
    if ref is not None:
        ref = ref.reshape(len(x), -1)
        out["_model"] = {"float_vs_model": float(np.abs(fw.predict(x, float_mode=True) - ref).max()),
                         "fixed_vs_model": float(np.abs(fw.predict(x) - ref).max())}
    return out


def float_outputs(model, x):
    """The source model's own float outputs on x, or None when it cannot be
    run here."""
    from .frontends import kind_of
    kind = kind_of(model)
    x = np.asarray(x, dtype=np.float32)
    if kind == "keras":
        return np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    if kind in ("torch", "brevitas"):
        import torch
        with torch.no_grad():
            was = model.training
            model.eval()
            try:
                y = model(torch.from_numpy(x))
            finally:
                model.train(was)
        y = getattr(y, "value", y)   # a Brevitas QuantTensor: its dequantized value
        return y.detach().double().numpy()
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    if kind == "path" and not str(model).endswith(".onnx"):
        return None
    data = model if kind in ("path", "bytes") else model.SerializeToString()
    sess = ort.InferenceSession(str(data) if kind == "path" else bytes(data), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    xin = x.astype(np.float64 if "double" in inp.type else np.float32)
    per_event = [d if isinstance(d, int) else -1 for d in inp.shape[1:]]
    if isinstance(inp.shape[0], int):   # a fixed batch size (often 1): event by event
        ys = [sess.run(None, {inp.name: xin[k:k + 1].reshape([1] + per_event)})[0] for k in range(len(x))]
        return np.concatenate(ys).astype(np.float64)
    return np.asarray(sess.run(None, {inp.name: xin.reshape([len(x)] + per_event)})[0], dtype=np.float64)


class Ranges(dict):
    """ranges(): {layer: {class, type, output: stats, accum: stats (layers
    with weights), params: {name: stats}}}; prints as a table.  stats: min,
    max, absmax, quantiles {q: value}, the type's [lo, hi] and how many values
    lie outside it (overflows)."""

    def __str__(self):
        rows = [("layer", "what", "type", "min", "max", "q0.1%", "q99.9%", "type range", "outside")]
        for name, L in self.items():
            items = [("out", L["output"])] + ([("accum", L["accum"])] if L.get("accum") else [])
            items += [(p, s) for p, s in L["params"].items()]
            for what, s in items:
                q = s["quantiles"]
                rng = f"[{s['type_min']:g}, {s['type_max']:g}]" if s["type"] else "-"
                rows.append((name, what, s["type"] or "-", f"{s['min']:.4g}", f"{s['max']:.4g}",
                             f"{q.get(0.001, float('nan')):.4g}", f"{q.get(0.999, float('nan')):.4g}", rng,
                             f"{s['outside']}/{s['count']}"))
        w = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        out = ["  ".join(s.ljust(n) for s, n in zip(r, w)).rstrip() for r in rows]
        out.insert(1, "  ".join("-" * n for n in w))
        return "\n".join(out)

    __repr__ = __str__


def _stats(values, tname, quantiles):
    v = np.asarray(values, dtype=np.float64).ravel()
    s = {"type": tname, "count": int(v.size),
         "min": float(v.min()) if v.size else 0.0, "max": float(v.max()) if v.size else 0.0}
    s["absmax"] = max(abs(s["min"]), abs(s["max"]))
    s["quantiles"] = {q: float(np.quantile(v, q)) for q in quantiles} if v.size else {}
    if tname:
        t = FixedType(tname)
        s["type_min"], s["type_max"] = t.min, t.max
        # a value overflows when its quantized code does: truncation keeps [min, max + lsb), rounding [.., max + lsb/2)
        mode = _TYPE.match(tname).group(4) or "TRN"
        top = t.max + (t.lsb if mode.startswith("TRN") else t.lsb / 2)
        s["outside"] = int(np.count_nonzero((v < t.min - (0 if mode.startswith("TRN") else t.lsb / 2)) | (v >= top)))
    else:
        s["type_min"] = s["type_max"] = None
        s["outside"] = 0
    return s


def ranges(fw, x, quantiles=(0.001, 0.5, 0.999), max_events=None, config=None):
    """Per-layer value ranges on data x, beside the configured types.

    Values come from the emulator's trace of the same compiled graph in double
    precision (fw.trace(x, float_mode=True)): what each layer would hold with
    no rounding and no overflow.  'output' is a layer's result before its
    result cast; for layers with weights (Dense, Conv) 'accum' is the same sum
    (bias included), which the accumulator must hold, against the accumulator
    type; 'params' are the weights and biases after folding, against their
    types.  'outside' counts the values that the configured type cannot hold
    once quantized (below its smallest value, or at or above its largest plus
    one step under truncation, half a step under rounding): each would wrap
    (or saturate) in the fixed-point firmware.
    config: the configuration (dict) whose accumulator types to show;
    default fw.config."""
    x = np.asarray(x)
    if max_events is not None:
        x = x[:max_events]
    tr = fw.trace(x, float_mode=True)
    cfg = fw.config if config is None else config
    out = Ranges()
    for L in fw.layers():
        entry = {"class": L["class"], "type": L["type"], "output": _stats(tr[L["name"]], L["type"], quantiles),
                 "params": {}, "accum": None}
        if L["params"]:
            vals = fw.weights(L["index"], float_mode=True)
            for p in L["params"]:
                entry["params"][p["name"]] = _stats(vals[p["name"]], p["type"], quantiles)
            entry["accum"] = _stats(tr[L["name"]], _accum_type(cfg, L["name"], L["class"]), quantiles)
        out[L["name"]] = entry
    return out


def _accum_type(cfg, layer, cls):
    """The accumulator type a configuration names for a layer, when it names
    one as a type (not 'auto'), by the lookup order LayerName, LayerType, Model."""
    root = (cfg or {}).get("HLSConfig", cfg or {})
    for prec in ((root.get("LayerName") or {}).get(layer, {}).get("Precision"),
                 (root.get("LayerType") or {}).get(cls, {}).get("Precision"),
                 (root.get("Model") or {}).get("Precision")):
        if isinstance(prec, dict):
            t = prec.get("accum") or prec.get("default")
        else:
            t = prec
        if isinstance(t, str) and _TYPE.match(t):
            return t
    return None
