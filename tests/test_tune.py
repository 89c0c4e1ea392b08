"""etchnn.tune (precision from data) and etchnn.sweep (design-space sweeps,
locally, with process workers, on Dask and Ray, as array jobs), on a small
torch MLP trained here on synthetic data in a few seconds."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from conftest import ETCHNN, ROOT, run

sys.path.insert(0, str(ROOT / "python"))
os.environ.setdefault("PYTHONPATH", str(ROOT / "python"))   # worker processes (Dask, Ray) import etchnn too

D = 0.01   # one point of accuracy


def _data(n, seed):
    """16 features of different scales; 5 classes from a fixed random linear
    rule with a mild nonlinearity (a well-learnable problem)."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, 16)) * np.linspace(0.5, 3.0, 16)).astype(np.float32)
    w = np.random.default_rng(99).standard_normal((16, 5)) / np.linspace(0.5, 3.0, 16)[:, None]
    y = np.argmax(x @ w + 0.3 * np.tanh(x[:, :5]), axis=1)
    return x, y


@pytest.fixture(scope="module")
def mlp(etchnn, tmp_path_factory):
    """(torch model, its ONNX file, (x_cal, y_cal), (x_val, y_val))."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    xtr, ytr = _data(4000, 0)
    net = torch.nn.Sequential(torch.nn.Linear(16, 24), torch.nn.ReLU(), torch.nn.Linear(24, 12), torch.nn.ReLU(),
                              torch.nn.Linear(12, 5), torch.nn.Softmax(dim=1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.nll_loss(torch.log(net(xt) + 1e-9), yt).backward()
        opt.step()
    net.eval()
    from etchnn.frontends import serialize
    suffix, data = serialize(net)
    path = tmp_path_factory.mktemp("mlp") / f"mlp{suffix}"
    path.write_bytes(data)
    return net, path, _data(3000, 1), _data(3000, 2)


@pytest.fixture(scope="module")
def tuned(etchnn, mlp):
    net, _, (xc, yc), (xv, yv) = mlp
    return etchnn.tune(net, xc, yc, metric="accuracy", max_loss=D, validation=(xv, yv))


def test_tune_keeps_accuracy_on_held_out_data_and_saves_luts(etchnn, mlp, tuned):
    net, _, (xc, yc), (xv, yv) = mlp
    r = tuned
    assert r.float_metric > 0.85, "the test model did not learn the problem"
    # the float reference is the float model itself
    import torch
    with torch.no_grad():
        assert r.float_metric == pytest.approx(float(np.mean(net(torch.from_numpy(xc)).argmax(1).numpy() == yc)), abs=2e-3)
    assert r.loss <= D
    assert r.tuned_metric == pytest.approx(float(np.mean(r.firmware.predict(xc).argmax(1) == yc)))
    # held-out data: measured by tune() and again here
    assert r.validation["loss"] <= D, r
    assert r.validation["tuned"] == pytest.approx(float(np.mean(r.firmware.predict(xv).argmax(1) == yv)))
    # fewer LUTs than uniform fixed<16,6>, which is what 'before' is
    uniform = etchnn.convert(net, config=None)
    assert r.before["lut"] == uniform.report()["resources"]["lut"]
    assert r.after["lut"] < 0.8 * r.before["lut"], r
    assert r.after["ff"] < r.before["ff"]
    # every Dense layer got its result, accumulator, weight and bias types; none as wide as 16 bits everywhere
    dense = [L["name"] for L in r.firmware.layers() if L["class"] == "Dense"]
    assert dense and all(set(r.types[d]) == {"result", "accum", "weight", "bias"} for d in dense)
    assert {L["name"]: L["type"] for L in r.firmware.layers()} == {k: v["result"] for k, v in r.types.items()}


def test_tune_integer_bits_hold_held_out_data(etchnn, mlp, tuned):
    """Integer bits come from the calibration data's range plus a guard bit:
    nothing on held-out data lies outside any tuned result or accumulator type."""
    _, _, _, (xv, _) = mlp
    rng = etchnn.profiling.ranges(tuned.firmware, xv)
    for name, L in rng.items():
        assert L["output"]["outside"] == 0, (name, L["output"])
        if L["accum"] is not None:
            assert L["accum"]["type"] == tuned.types[name]["accum"]
            assert L["accum"]["outside"] == 0, (name, L["accum"])
        for p, s in L["params"].items():   # weights and biases: exactly enough integer bits, none outside
            assert s["outside"] == 0, (name, p)
    # ReLU outputs are never negative: unsigned types
    relus = [L["name"] for L in tuned.firmware.layers() if L["name"] in tuned.types and rng[L["name"]]["output"]["min"] >= 0
             and L["class"] != "Softmax"]
    assert relus and all(tuned.types[n]["result"].startswith("ufixed") for n in relus)


def test_tuned_yaml_compiles_with_the_cli_to_the_same_predictions(etchnn, mlp, tuned, tmp_path):
    _, path, _, (xv, _) = mlp
    cfg = tuned.write(tmp_path / "tuned.yml")
    text = cfg.read_text()
    assert "LayerName:" in text and "Precision:" in text and "accum:" in text
    run("compile", path, "-c", cfg, "-o", tmp_path / "out")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    assert rep["estimate"]["lut"] == tuned.after["lut"]
    x = xv[:500].astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    run("predict", path, "-c", cfg, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    expected = tuned.firmware.predict(x)
    assert np.array_equal(np.load(tmp_path / "y.npy"), expected)
    # and the Python package reads the same file as it is
    assert np.array_equal(etchnn.convert(path, config=cfg).predict(x), expected)


def test_tune_mse_without_labels(etchnn, mlp):
    """y=None: the float model's outputs are the targets; the mean squared
    error against them stays within max_loss."""
    net, _, (xc, _), (xv, _) = mlp
    r = etchnn.tune(net, xc[:1500], metric="mse", max_loss=1e-3, validation=xv[:1500])
    assert r.float_metric == 0.0
    assert 0 < r.loss <= 1e-3
    float_out = r.firmware.predict(xv[:1500], float_mode=True)
    measured = float(np.mean((r.firmware.predict(xv[:1500]) - float_out) ** 2))
    assert measured == pytest.approx(r.validation["tuned"])
    assert measured <= 2e-3
    assert r.after["lut"] < r.before["lut"]


def test_tune_auc(etchnn, mlp):
    """metric='auc' (one-vs-rest, averaged over classes): the tuned AUC is
    what scikit-learn computes from the firmware's outputs, within max_loss
    of the float model's, with fewer LUTs."""
    from sklearn.metrics import roc_auc_score
    net, _, (xc, yc), (xv, yv) = mlp
    r = etchnn.tune(net, xc[:2000], yc[:2000], metric="auc", max_loss=0.01, validation=(xv, yv))
    out = r.firmware.predict(xc[:2000])
    expected = np.mean([roc_auc_score(yc[:2000] == k, out[:, k]) for k in range(5)])
    assert r.tuned_metric == pytest.approx(expected, abs=1e-12)
    fo = r.firmware.predict(xc[:2000], float_mode=True)
    assert r.float_metric == pytest.approx(np.mean([roc_auc_score(yc[:2000] == k, fo[:, k]) for k in range(5)]))
    assert 0.9 < r.float_metric < 1 and r.loss <= 0.01
    assert r.validation["loss"] <= 0.015, r.validation
    assert r.after["lut"] < r.before["lut"]


@pytest.mark.parametrize("key", ["digits_mlp", "jet_mlp", "digits_cnn"])
def test_tune_table_models(etchnn, key):
    """bench/tune_models.py's three models (README table): trained here; the
    tuned config loses at most D on held-out events and needs under half the
    LUTs of uniform fixed<16,6> -- which is also hls4ml's default config
    (config_from_pytorch_model, compiled here unchanged)."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(ROOT / "bench"))
    import tune_models
    with warnings.catch_warnings():   # hls4ml's config: etchnn notes the keys it accepts without a change
        warnings.simplefilter("ignore", etchnn.EtchnnWarning)
        r = tune_models.row(etchnn, key)
    assert r["float"]["val"] > 0.9, "the model did not learn"
    assert r["tuned"]["loss_val"] <= tune_models.D, r
    assert r["tuned"]["lut"] < 0.5 * r["uniform"]["lut"], r
    assert r["tuned"]["ff"] < r["uniform"]["ff"]
    if "hls4ml_default" in r:
        assert r["hls4ml_default"]["precision"] == {"default": "ap_fixed<16,6>"}
        assert {k: r["hls4ml_default"][k] for k in ("lut", "ff", "val")} == \
            {k: r["uniform"][k] for k in ("lut", "ff", "val")}


def _widened(types, extra):
    """The same fractional bits with `extra` more integer bits on every result and accumulator."""
    import re
    out = {}
    for layer, d in types.items():
        out[layer] = {}
        for k, t in d.items():
            m = re.fullmatch(r"(u?fixed)<(-?\d+),(-?\d+)>", t)
            w, i = int(m.group(2)), int(m.group(3))
            grow = extra if k in ("result", "accum") and layer not in ("input", "input_1") else 0
            out[layer][k] = f"{m.group(1)}<{w + grow},{i + grow}>"
    return {"LayerName": {layer: {"Precision": d} for layer, d in out.items()}}


def _corner_inputs(fw, n, seed):
    """Inputs at the extremes of the input layer's type, and uniform inside it."""
    import re
    t = next(L["type"] for L in fw.layers() if L["class"] == "InputLayer")
    m = re.fullmatch(r"(u?)fixed<(-?\d+),(-?\d+)>", t)
    w, i = int(m.group(2)), int(m.group(3))
    hi = 2.0 ** (i - (0 if m.group(1) else 1)) - 2.0 ** (i - w)
    lo = 0.0 if m.group(1) else -(2.0 ** (i - 1))
    rng = np.random.default_rng(seed)
    size = next(L["size"] for L in fw.layers() if L["class"] == "InputLayer")
    x = np.where(rng.random((n, size)) < 0.5, lo, hi)
    x[n // 2:] = rng.uniform(lo, hi, (n - n // 2, size))
    return x


def test_tune_overflow_proven(etchnn, mlp):
    """overflow='proven': integer bits from interval analysis.  No input the
    input type holds overflows a layer: on inputs at the type's corners the
    firmware equals the same config with 8 more integer bits everywhere --
    where the data-mode config (tuned) differs, it wraps."""
    net, _, (xc, yc), (xv, yv) = mlp
    logits = net[:-1]   # without the softmax: proven integer bits widen a softmax's input, which coarsens its tables
    r = etchnn.tune(logits, xc, yc, max_loss=D, validation=(xv, yv), overflow="proven")
    data = etchnn.tune(logits, xc, yc, max_loss=D)
    assert r.overflow == "proven" and "proven by interval analysis" in str(r)
    iv = r.firmware.intervals()
    assert all(a["fits"] and a["accum_fits"] for a in iv.values()), iv
    assert r.loss <= D and r.validation["loss"] <= D
    assert r.after["lut"] < r.before["lut"]
    for res, expect_equal in ((r, True), (data, False)):
        x = _corner_inputs(res.firmware, 3000, 5)
        wide = etchnn.convert(logits, config=_widened(res.types, 8))
        same = np.array_equal(res.firmware.predict(x), wide.predict(x))
        assert same == expect_equal, (res.types, expect_equal)
    # the data-mode config's analysis says so too
    assert not all(a["fits"] and a["accum_fits"] for a in data.firmware.intervals().values())
    assert r.after["lut"] > data.after["lut"]   # the proof costs LUTs


def test_intervals_bound_the_emulator(etchnn, mlp):
    """Firmware.intervals(): every traced value on corner and random inputs
    lies within its layer's bounds; the first Dense layer's bounds are
    reached (they are tight there: each weight meets its own input's end)."""
    _, path, _, _ = mlp
    cfg = {"Model": {"Precision": {"default": "fixed<24,14>", "weight": "fixed<8,2>", "bias": "fixed<8,2>"}},
           "LayerName": {"input_1": {"Precision": {"result": "fixed<6,3>"}}}}
    fw = etchnn.convert(path, config=cfg)
    iv = fw.intervals()
    x = _corner_inputs(fw, 4000, 1)
    w = fw.weights("_0")["_0_weight"].reshape(16, -1) if "_0_weight" in fw.weights("_0") else None
    tr = fw.trace(x)
    for name, v in tr.items():
        lo, hi = iv[name]["value"]
        assert iv[name]["fits"] and iv[name]["accum_fits"]
        assert v.min() >= lo and v.max() <= hi, (name, v.min(), v.max(), lo, hi)
    # tight on _0: an input at each weight's sign-matched end reaches the upper bound exactly
    assert w is not None
    b = fw.weights("_0")["_0_bias"]
    xs = np.where(w > 0, 3.875, -4.0).T   # one event per output neuron
    out = fw.trace(xs)["_0"]
    assert np.max(np.diag(out)) == pytest.approx(iv["_0"]["value"][1], abs=2 ** -10)


def test_tune_refuses_what_it_cannot_reach(etchnn, mlp):
    net, _, (xc, yc), _ = mlp
    with pytest.raises(etchnn.EtchnnError, match="max_loss"):
        etchnn.tune(net, xc[:200], yc[:200], max_loss=-1)
    with pytest.raises(etchnn.EtchnnError, match="metric"):
        etchnn.tune(net, xc[:200], yc[:200], metric="f1")


def test_ranges_count_overflows_of_a_narrow_config(etchnn, mlp):
    """profiling.ranges: the same trace counts the values a too narrow type
    wraps; the counts equal a direct count over the float trace."""
    _, path, (xc, _), _ = mlp
    fw = etchnn.convert(path, precision="fixed<6,2>")
    rng = etchnn.profiling.ranges(fw, xc[:500])
    tr = fw.trace(xc[:500], float_mode=True)
    total = 0
    for L in fw.layers():
        v = tr[L["name"]]
        if L["type"] == "fixed<6,2>":
            assert rng[L["name"]]["output"]["outside"] == int(np.count_nonzero((v < -2) | (v >= 2)))
        total += rng[L["name"]]["output"]["outside"]
    assert total > 0
    assert "outside" in str(rng) and "_0" in str(rng)


# ---- sweep ----------------------------------------------------------------------
SPACE = {"precision": ["fixed<16,6>", "fixed<10,5>", {"default": "fixed<8,4>", "accum": "fixed<14,7>"}],
         "ReuseFactor": [1, 4], "multipliers": ["csd", "dsp"]}   # 12 points


def _strip(records):
    """Records without the one field that may differ between runs: the time."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def _lines(path):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in pathlib.Path(path).read_text().splitlines()]


@pytest.fixture(scope="module")
def serial(etchnn, mlp, tmp_path_factory):
    _, path, (xc, yc), _ = mlp
    out = tmp_path_factory.mktemp("sweep") / "serial.jsonl"
    return etchnn.sweep(path, SPACE, x=xc[:500], y=yc[:500], metric="accuracy", out=out, workers=1), out


def test_sweep_grid_records(etchnn, mlp, serial):
    _, path, (xc, yc), _ = mlp
    res, out = serial
    assert len(res) == 12 and [r["index"] for r in res] == list(range(12))
    assert _lines(out) == _strip(res)   # the file holds the same records, in index order
    hashes = {r["hash"] for r in res}
    assert len(hashes) == 12
    for r in res:
        assert "error" not in r, r
        assert set(r) >= {"config", "point", "options", "hash", "ii", "latency_cycles", "estimate", "metric"}
        assert r["ii"] == r["point"]["ReuseFactor"]
        # the record is what convert() gives for its config and options
    r = res[7]
    fw = etchnn.convert(path, config=r["config"], **r["options"])
    assert fw.report()["resources"] == r["estimate"]
    assert r["metric"] == float(np.mean(fw.predict(xc[:500]).argmax(1) == yc[:500]))
    # DSP multipliers only in folded layers: more DSPs at R=4 with dsp than with csd
    by = {(json.dumps(r["point"]["precision"]), r["point"]["ReuseFactor"], r["point"]["multipliers"]): r for r in res}
    k = json.dumps("fixed<16,6>")
    assert by[(k, 4, "dsp")]["estimate"]["dsp"] > by[(k, 4, "csd")]["estimate"]["dsp"]
    # the hash is stable: the same config hashes the same in a new run (and elsewhere)
    sweep_mod = sys.modules["etchnn.sweep"]
    assert sweep_mod.config_hash(r["config"], r["options"]) == r["hash"]
    front = res.pareto()
    assert front and all(not (o["estimate"]["lut"] <= f["estimate"]["lut"] and o["latency_cycles"] < f["latency_cycles"])
                         for f in front for o in res)


def test_sweep_workers_equal_serial(etchnn, mlp, serial, tmp_path):
    _, path, (xc, yc), _ = mlp
    res = etchnn.sweep(path, SPACE, x=xc[:500], y=yc[:500], metric="accuracy", workers=2, out=tmp_path / "w2.jsonl")
    assert _strip(res) == _strip(serial[0])
    assert _lines(tmp_path / "w2.jsonl") == _lines(serial[1])


def test_sweep_index_and_merge_equal_the_full_run(etchnn, mlp, serial, tmp_path):
    _, path, (xc, yc), _ = mlp
    sweep_mod = sys.modules["etchnn.sweep"]
    parts = []
    for i in reversed(range(12)):   # any order, as array jobs finish
        p = tmp_path / f"part{i}.jsonl"
        res = etchnn.sweep(path, SPACE, x=xc[:500], y=yc[:500], metric="accuracy", index=i, out=p)
        assert len(res) == 1 and res[0]["index"] == i
        parts.append(p)
    merged = sweep_mod.merge(parts, tmp_path / "merged.jsonl")
    assert _strip(merged) == _strip(serial[0])
    assert _lines(tmp_path / "merged.jsonl") == _lines(serial[1])
    with pytest.raises(etchnn.EtchnnError, match="missing"):
        sweep_mod.merge(parts[1:])
    with pytest.raises(etchnn.EtchnnError, match="index"):
        etchnn.sweep(path, SPACE, index=12)


def _free_port():
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def test_sweep_cli_on_a_running_dask_scheduler_equals_the_local_run(etchnn, mlp, serial, tmp_path):
    """A Dask cluster as a user runs one: `dask scheduler` and `dask worker`
    processes started apart from the sweep; `python3 -m etchnn sweep
    --cluster tcp://HOST:PORT` sends the points there.  The records equal the
    serial run's, and the cluster's workers executed every point (which worker
    runs which point is Dask's choice: under load one worker may take all 12,
    so the test counts the points, not the workers)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    _, path, (xc, yc), _ = mlp
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nworkers", "2",
                                       "--nthreads", "1", "--no-dashboard"], env=env, cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with distributed.Client(addr, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            np.save(tmp_path / "x.npy", xc[:500])
            np.save(tmp_path / "y.npy", yc[:500])
            (tmp_path / "space.json").write_text(json.dumps(SPACE))
            r = subprocess.run([sys.executable, "-m", "etchnn", "sweep", path, "--space", tmp_path / "space.json",
                                "-o", tmp_path / "d.jsonl", "--cluster", addr, "--input", tmp_path / "x.npy",
                                "--labels", tmp_path / "y.npy", "--metric", "accuracy"],
                               capture_output=True, text=True, env=env, timeout=600)
            assert r.returncode == 0, r.stderr
            ran = client.run(lambda dask_worker: dask_worker.state.executed_count)
        assert len(ran) == 2 and sum(ran.values()) >= 12, ran   # the points ran on the cluster, not in the sweep
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    assert _lines(tmp_path / "d.jsonl") == _strip(serial[0])


@pytest.mark.extended   # Ray's start-up (head, client server) is the longest wait of the file: make test-extended
def test_sweep_cli_on_a_running_ray_cluster_equals_the_local_run(etchnn, mlp, serial, tmp_path):
    """A Ray cluster started apart from the sweep (`ray start --head`, as on a
    cluster's head node), reached two ways: `--cluster ray` on a node of the
    cluster (ray.init() finds it) and `--cluster ray://HOST:PORT` through a Ray
    Client server (Ray 2.60's token authentication: the client needs
    RAY_AUTH_MODE=token and the cluster's token; Ray's proxying client server
    does not start on this machine, so the test runs a legacy one).  Both
    records equal the serial run's, and the cluster is left running."""
    pytest.importorskip("ray", reason="ray is not installed")
    if not shutil.which("ray"):
        pytest.skip("the ray command is not installed")
    _, path, (xc, yc), _ = mlp
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"), RAY_USAGE_STATS_ENABLED="0")
    port, cport = _free_port(), _free_port()
    r = subprocess.run(["ray", "start", "--head", "--port", str(port), "--num-cpus", "2", "--include-dashboard=false"],
                       capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 0, r.stderr
    client_server = None
    try:
        np.save(tmp_path / "x.npy", xc[:500])
        np.save(tmp_path / "y.npy", yc[:500])
        (tmp_path / "space.json").write_text(json.dumps(SPACE))
        cenv = dict(env, RAY_AUTH_MODE="token")
        client_server = subprocess.Popen([sys.executable, "-m", "ray.util.client.server", "--mode", "legacy",
                                          "--address", f"127.0.0.1:{port}", "--host", "127.0.0.1", "--port", str(cport)],
                                         env=cenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, cluster, e in (("r.jsonl", "ray", env), ("c.jsonl", f"ray://127.0.0.1:{cport}", cenv)):
            r = subprocess.run([sys.executable, "-m", "etchnn", "sweep", path, "--space", tmp_path / "space.json",
                                "-o", tmp_path / name, "--cluster", cluster, "--input", tmp_path / "x.npy",
                                "--labels", tmp_path / "y.npy", "--metric", "accuracy"],
                               capture_output=True, text=True, env=e, timeout=600)
            assert r.returncode == 0, (cluster, r.stderr[-3000:])
            assert _lines(tmp_path / name) == _strip(serial[0]), cluster
        st = subprocess.run([sys.executable, "-c", "import ray; ray.init(log_to_driver=False); "
                             "print('CPU', ray.cluster_resources()['CPU'])"],
                            capture_output=True, text=True, env=env, timeout=120)
        assert st.returncode == 0 and "CPU 2.0" in st.stdout, st.stdout + st.stderr   # still running afterwards
    finally:
        if client_server:
            client_server.terminate()
            client_server.wait(timeout=60)
        subprocess.run(["ray", "stop", "--force"], capture_output=True, env=env, timeout=120)


def test_sweep_optuna_and_objective(etchnn, mlp):
    optuna = pytest.importorskip("optuna", reason="optuna is not installed")
    _, path, (xc, yc), _ = mlp
    res = etchnn.sweep(path, SPACE, x=xc[:300], y=yc[:300], metric="accuracy", n_trials=6, seed=1)
    assert len(res) == 6 and [r["index"] for r in res] == list(range(6))
    again = etchnn.sweep(path, SPACE, x=xc[:300], y=yc[:300], metric="accuracy", n_trials=6, seed=1)
    assert _strip(again) == _strip(res)   # seeded: the same trials and records run to run
    grid_hashes = {r["hash"] for r in etchnn.sweep(path, SPACE, workers=1)}
    assert all(r["hash"] in grid_hashes for r in res)   # trials are points of the space
    f = etchnn.objective(path, xc[:300], yc[:300], "accuracy", space=SPACE)
    assert f.directions == ["minimize", "maximize"]
    lut, acc = f({"precision": "fixed<16,6>", "ReuseFactor": 1})
    fw = etchnn.convert(path, config={"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}})
    assert lut == fw.report()["resources"]["lut"]
    assert acc == float(np.mean(fw.predict(xc[:300]).argmax(1) == yc[:300]))
    study = optuna.create_study(directions=f.directions, sampler=optuna.samplers.NSGAIISampler(seed=0))
    study.optimize(f, n_trials=4)
    assert len(f.records) == 5 and study.best_trials
    with pytest.raises(etchnn.EtchnnError, match="unknown key"):
        f({"Precision": "fixed<8,3>"})


def test_python_m_etchnn_tune_sweep_merge_profile(etchnn, mlp, tmp_path):
    """The entry points the C CLI's tune/sweep/profile are to run."""
    _, path, (xc, yc), _ = mlp
    np.save(tmp_path / "x.npy", xc[:1500].astype(np.float64))
    np.save(tmp_path / "y.npy", yc[:1500])
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))

    def py(*args):
        r = subprocess.run([sys.executable, "-m", "etchnn", *map(str, args)], capture_output=True, text=True, env=env,
                           cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return r.stdout
    out = py("tune", path, "--input", "x.npy", "--labels", "y.npy", "--max-loss", "0.02", "-o", "cfg.yml")
    assert "LUT" in out and (tmp_path / "cfg.yml").exists()
    run("compile", path, "-c", tmp_path / "cfg.yml", "-o", tmp_path / "out")
    space = tmp_path / "space.yml"
    space.write_text("precision: ['fixed<16,6>', cfg.yml]\nReuseFactor: [1, 2]\n")
    py("sweep", path, "--space", space, "-o", "all.jsonl", "--input", "x.npy", "--labels", "y.npy", "--plot", "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    full = _lines(tmp_path / "all.jsonl")
    assert len(full) == 4 and full[2]["config"] != full[0]["config"]   # the tuned config file is a point
    for i in range(4):
        py("sweep", path, "--space", space, "-o", f"part{i}.jsonl", "--index", i, "--input", "x.npy", "--labels", "y.npy")
    py("merge", "-o", "merged.jsonl", *[f"part{i}.jsonl" for i in range(4)])
    assert _lines(tmp_path / "merged.jsonl") == full
    # the C CLI runs the same commands (etchnn sweep -> python3 -m etchnn sweep, the package beside the binary)
    cli_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([str(ETCHNN), "sweep", path, "--space", space, "-o", "cli.jsonl", "--input", "x.npy", "--labels",
                        "y.npy"], capture_output=True, text=True, env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _lines(tmp_path / "cli.jsonl") == full
    r = subprocess.run([str(ETCHNN), "tune", "--help"], capture_output=True, text=True, env=cli_env)
    assert r.returncode == 0 and "--max-loss" in r.stdout
    out = py("profile", path, "--input", "x.npy", "-c", "cfg.yml")
    assert "accum" in out and "outside" in out
    r = subprocess.run([sys.executable, "-m", "etchnn", "sweep", path, "--space", tmp_path / "nope.yml", "-o", "o.jsonl"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 2 and "nope.yml" in r.stderr


@pytest.mark.extended   # CI time (a Yosys run per point)
def test_sweep_synthesizes_each_point(etchnn, tmp_path):
    """synth='xilinx': every point is also synthesized by Yosys; the record's
    synth holds Yosys's counts (not the estimate), equal with 2 workers and
    serially (Yosys is deterministic), and the CLI takes --synth."""
    if not shutil.which("yosys"):
        pytest.skip("yosys not installed")
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    space = {"precision": ["fixed<6,3>", "fixed<4,2>"]}
    serial = etchnn.sweep(net, space, input_shape=(4,), synth="xilinx", synth_timeout=300, workers=1)
    assert len(serial) == 2
    for r in serial:
        assert "error" not in r and "synth_error" not in r, r
        assert r["synth"]["target"] == "xilinx" and r["synth"]["lut"] > 0 and "seconds" not in r["synth"]
    by = {r["point"]["precision"]: r["synth"] for r in serial}
    assert by["fixed<4,2>"]["lut"] < by["fixed<6,3>"]["lut"]
    assert by["fixed<4,2>"]["lut"] != serial[1]["estimate"]["lut"]   # Yosys's count, not the estimate
    par = etchnn.sweep(net, space, input_shape=(4,), synth="xilinx", workers=2)
    assert _strip(par) == _strip(serial)
    assert [r["index"] for r in serial.pareto(x="synth_lut")]
    with pytest.raises(etchnn.EtchnnError, match="synth: expected"):
        etchnn.sweep(net, space, input_shape=(4,), synth="vivado")
    from etchnn.frontends import serialize
    suffix, data = serialize(net, (4,))
    (tmp_path / f"m{suffix}").write_bytes(data)
    (tmp_path / "space.json").write_text(json.dumps(space))
    r = subprocess.run([sys.executable, "-m", "etchnn", "sweep", tmp_path / f"m{suffix}", "--space",
                        tmp_path / "space.json", "-o", tmp_path / "r.jsonl", "--index", "1", "--synth", "xilinx"],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT / "python")))
    assert r.returncode == 0, r.stderr
    assert _lines(tmp_path / "r.jsonl")[0]["synth"] == serial[1]["synth"]
