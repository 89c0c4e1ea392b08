"""etchnn.tune on three models trained here (issue 16's table): a digits MLP,
a jet-tagger-shaped MLP on synthetic data, and a small digits CNN.

Per model: the float accuracy; uniform fixed<16,6> (which is also what
hls4ml's config_from_pytorch_model writes by default: granularity 'model',
ap_fixed<16,6> for every variable; the script asks hls4ml for it when hls4ml
is installed and compiles that config unchanged); the tuned config, and the tuned config with overflow='proven', each
with calibration and held-out accuracy and etchnn's LUT/FF estimate at
200 MHz.  Max loss D = 0.01 (one point of accuracy).

    PYTHONPATH=python python3 bench/tune_models.py [--json out.json] [--only digits_mlp,...]

Prints a Markdown table; the numbers in the README come from one run of it."""
import argparse
import json
import os
import sys
import time

import numpy as np

D = 0.01


def _train(net, x, y, epochs, lr=1e-2, batch=None):
    import torch
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(n, generator=g) if batch else torch.arange(n)
        for k in range(0, n, batch or n):
            idx = order[k:k + (batch or n)]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    return net


def _split(x, y, seed):
    rng = np.random.default_rng(seed)
    p = rng.permutation(len(x))
    x, y = x[p], y[p]
    a, b = int(0.5 * len(x)), int(0.75 * len(x))
    return (x[:a], y[:a]), (x[a:b], y[a:b]), (x[b:], y[b:])


def digits_mlp():
    import torch
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    tr, cal, val = _split(x, d.target.astype(np.int64), 0)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 10))
    _train(net, *tr, epochs=60, batch=64)
    return "digits MLP 64-32-16-10", net, (64,), cal, val


def jet_mlp():
    import torch

    def data(n, seed):   # 16 features of different scales, 5 classes from a fixed random rule (tests/test_tune.py's)
        rng = np.random.default_rng(seed)
        x = (rng.standard_normal((n, 16)) * np.linspace(0.5, 3.0, 16)).astype(np.float32)
        w = np.random.default_rng(99).standard_normal((16, 5)) / np.linspace(0.5, 3.0, 16)[:, None]
        return x, np.argmax(x @ w + 0.3 * np.tanh(x[:, :5]), axis=1).astype(np.int64)

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                              torch.nn.Linear(32, 32), torch.nn.ReLU(), torch.nn.Linear(32, 5))
    _train(net, *data(6000, 0), epochs=40, batch=128)
    return "jet-tagger-shaped MLP 16-64-32-32-5 (synthetic)", net, (16,), data(3000, 1), data(3000, 2)


def digits_cnn():
    import torch
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]   # N, 1, 8, 8
    tr, cal, val = _split(x, d.target.astype(np.int64), 0)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(54, 10))
    _train(net, *tr, epochs=60, batch=64)
    return "digits CNN conv3x3x6-pool2-dense10", net, (1, 8, 8), cal, val


MODELS = {"digits_mlp": digits_mlp, "jet_mlp": jet_mlp, "digits_cnn": digits_cnn}


def hls4ml_default(net, shape):
    """hls4ml's own default config for the model, or None when hls4ml is not installed."""
    try:
        import hls4ml
    except ImportError:
        return None
    return hls4ml.utils.config_from_pytorch_model(net, shape)


def acc(out, y):
    return float(np.mean(np.asarray(out).reshape(len(y), -1).argmax(1) == y))


def row(etchnn, key):
    name, net, shape, (xc, yc), (xv, yv) = MODELS[key]()
    import torch
    with torch.no_grad():
        fc = acc(net(torch.from_numpy(xc)).numpy(), yc)
        fv = acc(net(torch.from_numpy(xv)).numpy(), yv)
    xc2, xv2 = xc.reshape(len(xc), -1), xv.reshape(len(xv), -1)
    out = {"model": name, "params": int(sum(p.numel() for p in net.parameters())), "float": {"cal": fc, "val": fv},
           "events": {"cal": len(xc), "val": len(xv)}}

    def measure(fw):
        e = fw.report()["resources"]
        return {"cal": acc(fw.predict(xc2), yc), "val": acc(fw.predict(xv2), yv), "lut": e["lut"], "ff": e["ff"],
                "dsp": e["dsp"]}

    out["uniform"] = measure(etchnn.convert(net, input_shape=shape, config={"Model": {"Precision": "fixed<16,6>"}}))
    cfg = hls4ml_default(net, shape)
    if cfg is not None:
        out["hls4ml_default"] = measure(etchnn.convert(net, input_shape=shape, config=cfg))
        out["hls4ml_default"]["precision"] = cfg["Model"]["Precision"]
    t0 = time.time()
    r = etchnn.tune(net, xc2, yc, metric="accuracy", max_loss=D, validation=(xv2, yv), input_shape=shape)
    out["tuned"] = measure(r.firmware)
    out["tuned"].update(seconds=round(time.time() - t0, 1), evaluations=r.evaluations,
                        loss_cal=r.loss, loss_val=r.validation["loss"], types=r.types)
    t0 = time.time()
    p = etchnn.tune(net, xc2, yc, metric="accuracy", max_loss=D, validation=(xv2, yv), input_shape=shape,
                    overflow="proven")
    out["proven"] = measure(p.firmware)
    out["proven"].update(seconds=round(time.time() - t0, 1), loss_val=p.validation["loss"],
                         no_overflow=all(a["fits"] and a["accum_fits"] for a in p.firmware.intervals().values()))
    return out


def table(rows):
    lines = ["| model | params | float acc (cal / held-out) | fixed<16,6> = hls4ml default: acc, LUT, FF | "
             "tuned: acc (cal / held-out), LUT, FF | held-out loss | LUT ratio | tune time | "
             "overflow='proven': acc held-out, LUT, proven |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        u, t = r["uniform"], r["tuned"]
        lines.append(f"| {r['model']} | {r['params']:,} | {r['float']['cal']:.3f} / {r['float']['val']:.3f} | "
                     f"{u['val']:.3f}, {u['lut']:,}, {u['ff']:,} | {t['cal']:.3f} / {t['val']:.3f}, {t['lut']:,}, "
                     f"{t['ff']:,} | {t['loss_val']:+.4f} | {t['lut'] / u['lut']:.2f} | {t['seconds']} s "
                     f"({t['evaluations']} evaluations) | {r['proven']['val']:.3f}, {r['proven']['lut']:,}, "
                     f"{r['proven']['no_overflow']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json")
    ap.add_argument("--only", help="comma-separated: " + ", ".join(MODELS))
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import etchnn
    import torch
    torch.set_num_threads(1)
    keys = a.only.split(",") if a.only else list(MODELS)
    rows = []
    for k in keys:
        r = row(etchnn, k)
        rows.append(r)
        print(f"{k}: {json.dumps({s: r[s] for s in ('float', 'uniform', 'tuned') if s in r}, default=str)}",
              file=sys.stderr)
        if "hls4ml_default" in r and (r["hls4ml_default"]["lut"], r["hls4ml_default"]["val"]) != \
                (r["uniform"]["lut"], r["uniform"]["val"]):
            print(f"{k}: note: hls4ml's default config differs from uniform fixed<16,6>: {r['hls4ml_default']}",
                  file=sys.stderr)
    print(table(rows))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)


if __name__ == "__main__":
    main()
