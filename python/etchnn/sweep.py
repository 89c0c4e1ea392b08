"""sweep(): compile and estimate a model at every point of a design space (a
grid, or trials chosen by Optuna), optionally scored on data, one JSON line
per point; locally, in worker processes, on a Dask distributed scheduler or a
Ray cluster, or one point per array job (index=) merged afterwards (merge()).

A space is a dict (or a YAML/JSON file of one) of lists:

    precision:   [fixed<16,6>, fixed<10,4>, tuned.yml]   # a type for Model.Precision, a dict of
                                                       # per-variable types, or a config file (tune's)
    ReuseFactor: [1, 2, 4]                             # Model.ReuseFactor
    Strategy:    [Latency, Resource]                   # Model.Strategy
    clock_mhz:   [200, 300]                            # Model.ClockPeriod = 1000 / clock_mhz
    IOType:      [io_parallel, io_stream]
    multipliers: [csd, dsp, auto]                      # convert(multipliers=), the CLI's --multipliers
    config:      base.yml                              # not swept: the configuration every point starts from

Each point's record (one JSON line, keys sorted): index, of (the number of
points), hash (of the point's config and options: stable across runs and
machines), point (the swept values), config (the full configuration
compiled), options, ii, latency_cycles, latency_ns, estimate (report.json's
LUT/FF/DSP/...), metric and metric_name when data is given, synth (Yosys's
counts, synth='xilinx'|'ice40'|'ecp5'|'nexus') or synth_error, error when the point
does not compile, seconds (the only field that differs between runs).

Dask, Ray and Optuna are imported only when asked for; workers need etchnn
importable (installed, or on PYTHONPATH) and receive the model as bytes."""
import copy
import hashlib
import itertools
import json
import math
import os
import pathlib
import tempfile
import time

import numpy as np

from .errors import EtchnnError

SYNTH_VOLATILE = ("seconds", "seconds_by_step", "logs")   # synth summary fields that differ between runs or hosts
SPACE_KEYS = ("precision", "ReuseFactor", "Strategy", "clock_mhz", "IOType", "multipliers")   # the grid's axis order


# ---- the space ----------------------------------------------------------------
def load_space(space):
    """A space (dict, or a .yml/.yaml/.json path) as {key: [values]} in
    SPACE_KEYS order plus 'config' (a dict or None); config files named in
    it are read here, relative to the space file."""
    where = pathlib.Path(".")
    if isinstance(space, (str, os.PathLike)):
        p = pathlib.Path(space)
        if not p.exists():
            raise EtchnnError(f"{p}: cannot open the space: no such file")
        where = p.parent
        text = p.read_text()
        if p.suffix == ".json":
            space = json.loads(text)
        else:
            try:
                import yaml
            except ImportError as e:
                raise EtchnnError("a YAML space needs PyYAML: pip install pyyaml (or give JSON)") from e
            space = yaml.safe_load(text)
    if not isinstance(space, dict):
        raise EtchnnError(f"space: expected a mapping of {', '.join(SPACE_KEYS)} to lists, got {type(space).__name__}")
    unknown = sorted(set(space) - set(SPACE_KEYS) - {"config"})
    if unknown:
        raise EtchnnError(f"space: unknown key '{unknown[0]}': expected {', '.join(SPACE_KEYS)} or config")
    out = {}
    for k in SPACE_KEYS:
        if k in space:
            v = space[k]
            v = list(v) if isinstance(v, (list, tuple)) else [v]
            if not v:
                raise EtchnnError(f"space: '{k}' has no values")
            out[k] = v
    base = space.get("config")
    out["config"] = _config_dict(_resolve(base, where)) if base is not None else None
    out["_files"] = {}
    for v in out.get("precision", []):   # config files: read once, here (workers get the dicts)
        if isinstance(v, str) and pathlib.Path(v).suffix in (".yml", ".yaml", ".json"):
            out["_files"][v] = _config_dict(_resolve(v, where))
    return out


def _resolve(p, where):
    if isinstance(p, (str, os.PathLike)) and not pathlib.Path(p).is_absolute() and "\n" not in str(p) \
            and pathlib.Path(p).suffix in (".yml", ".yaml", ".json"):
        q = where / p
        return q if q.exists() else pathlib.Path(p)
    return p


def _config_dict(config):
    from .tune import config_dict
    return config_dict(config)


def grid(space):
    """Every point of a (loaded) space, in a fixed order: the product of the
    axes in SPACE_KEYS order, the last axis varying fastest."""
    keys = [k for k in SPACE_KEYS if k in space]
    return [dict(zip(keys, vals)) for vals in itertools.product(*(space[k] for k in keys))]


def point_config(space, point):
    """(config dict, options dict) of one point."""
    base = space.get("config")
    cfg = copy.deepcopy(base) if base is not None else {"Model": {}}
    prec = point.get("precision")
    if isinstance(prec, str) and prec in space.get("_files", {}):
        cfg = copy.deepcopy(space["_files"][prec])
    root = cfg.get("HLSConfig", cfg)
    model = root.setdefault("Model", {})
    if prec is not None and not (isinstance(prec, str) and prec in space.get("_files", {})):
        model["Precision"] = copy.deepcopy(prec)
    for key in ("ReuseFactor", "Strategy", "IOType"):
        if key in point:
            model[key] = point[key]
    if "clock_mhz" in point:
        model["ClockPeriod"] = 1000.0 / float(point["clock_mhz"])
    options = {"multipliers": point["multipliers"]} if "multipliers" in point else {}
    return cfg, options


def config_hash(config, options):
    """16 hex digits of the SHA-256 of the point's config and options (canonical JSON)."""
    text = json.dumps({"config": config, "options": options}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---- one point ----------------------------------------------------------------
def _payload(model, x, y, metric, input_shape, project_name, synth=None, synth_timeout=600):
    """What every worker needs once: the model as bytes, the data, the metric."""
    from .frontends import kind_of, serialize
    if kind_of(model) == "path":
        p = pathlib.Path(model)
        suffix, data = p.suffix, p.read_bytes()
        if suffix == ".json":
            raise EtchnnError(f"{p}: sweep ships the model to workers as one file: give .onnx, .keras or .h5")
    else:
        suffix, data = serialize(model, input_shape)
    if x is not None:
        x = np.asarray(x, dtype=np.float64)
        x = x.reshape(len(x), -1)
    if x is not None and metric is None:
        metric = "accuracy"
    return {"name": f"{project_name}{suffix}", "model": data, "sha": hashlib.sha256(data).hexdigest()[:16],
            "project": project_name, "x": x, "y": None if y is None else np.asarray(y), "metric": metric,
            "synth": synth, "synth_timeout": synth_timeout}


_MODEL_FILES = {}   # per process: payload sha -> the model written once into a temporary folder


def _model_file(payload):
    key = payload["sha"]
    if key not in _MODEL_FILES:
        d = tempfile.mkdtemp(prefix="etchnn_sweep_")
        p = pathlib.Path(d) / payload["name"]
        p.write_bytes(payload["model"])
        _MODEL_FILES[key] = os.fspath(p)
    return _MODEL_FILES[key]


def evaluate(payload, index, config, options, point, total):
    """Compile and estimate one point (and score it when the payload has
    data); returns its record.  Runs in workers: only picklable arguments."""
    from .firmware import convert
    from .tune import default_targets, metric_function
    t0 = time.time()
    rec = {"index": index, "of": total, "hash": config_hash(config, options), "point": point, "config": config,
           "options": options}
    src = _model_file(payload)
    tmp = tempfile.TemporaryDirectory(prefix="etchnn_synth_") if payload.get("synth") else None
    try:
        fw = convert(src, config=config, project_name=payload["project"],
                     **({"output_dir": os.path.join(tmp.name, "prj")} if tmp else {}), **options)
        r = fw.report()
        if r.get("rtl_error"):
            rec["error"] = r["rtl_error"].replace(src, payload["name"])
        rec.update(ii=r.get("ii"), latency_cycles=r.get("latency_cycles"), latency_ns=r.get("latency_ns"),
                   estimate=r.get("resources"))
        if tmp and "error" not in rec:
            try:
                syn = fw.synth(payload["synth"], verbose=False, timeout=payload.get("synth_timeout") or 600)
                rec["synth"] = {k: v for k, v in syn.items() if k not in SYNTH_VOLATILE}
            except EtchnnError as e:   # the point compiled; its synthesis did not (time limit, tool missing)
                rec["synth_error"] = str(e).replace(tmp.name, "<tmp>")
        if payload["x"] is not None:
            name, fn, _ = metric_function(payload["metric"])
            y = payload["y"]
            if y is None:
                y = default_targets(name, fw.predict(payload["x"], float_mode=True))
            rec["metric"], rec["metric_name"] = fn(fw.predict(payload["x"]), y), name
    except EtchnnError as e:
        rec["error"] = str(e).replace(src, payload["name"])
    finally:
        if tmp:
            tmp.cleanup()
    rec["seconds"] = round(time.time() - t0, 4)
    return rec


# ---- where points run ---------------------------------------------------------
_WORKER_PAYLOAD = {}


def _init_worker(payload):
    _WORKER_PAYLOAD["p"] = payload


def _evaluate_in_worker(task):
    return evaluate(_WORKER_PAYLOAD["p"], *task)


class _Runner:
    """Runs evaluate() over tasks (index, config, options, point, total) and
    yields records as they finish: serially, in a process pool, on Dask or on Ray."""

    def __init__(self, payload, workers=None, cluster=None):
        self.payload, self.kind, self._close = payload, "serial", []
        if cluster is not None:
            if isinstance(cluster, str) and (cluster == "ray" or cluster.startswith("ray://")):
                self._ray(cluster)
            else:
                self._dask(cluster)
        elif workers is not None and workers > 1:
            import concurrent.futures
            import multiprocessing
            self.kind = "processes"
            self.pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(payload,))
            self._close.append(self.pool.shutdown)

    def _dask(self, cluster):
        try:
            from distributed import Client
        except ImportError as e:
            raise EtchnnError('cluster: a Dask scheduler needs dask.distributed: pip install "dask[distributed]"') from e
        self.kind = "dask"
        if isinstance(cluster, Client):
            self.client = cluster
        else:
            address = getattr(cluster, "scheduler_address", cluster)   # a LocalCluster object, or "tcp://HOST:PORT"
            self.client = Client(address)
            self._close.append(self.client.close)
        self.remote_payload = self.client.scatter(self.payload, broadcast=True)

    def _ray(self, cluster):
        try:
            import ray
        except ImportError as e:
            raise EtchnnError("cluster: Ray needs ray: pip install ray") from e
        self.kind = "ray"
        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=None if cluster == "ray" else cluster, include_dashboard=False, log_to_driver=False)
            self._close.append(ray.shutdown)
        self.remote_payload = ray.put(self.payload)
        self.remote = ray.remote(evaluate)

    def run(self, tasks):
        tasks = list(tasks)
        if self.kind == "serial":
            for t in tasks:
                yield evaluate(self.payload, *t)
        elif self.kind == "processes":
            import concurrent.futures
            futures = [self.pool.submit(_evaluate_in_worker, t) for t in tasks]
            for f in concurrent.futures.as_completed(futures):
                yield f.result()
        elif self.kind == "dask":
            from distributed import as_completed
            futures = [self.client.submit(evaluate, self.remote_payload, *t, pure=False) for t in tasks]
            for f in as_completed(futures):
                yield f.result()
        else:
            pending = [self.remote.remote(self.remote_payload, *t) for t in tasks]
            while pending:
                done, pending = self.ray.wait(pending, num_returns=1)
                yield self.ray.get(done[0])

    def close(self):
        for f in reversed(self._close):
            f()


# ---- results ------------------------------------------------------------------
class SweepResults(list):
    """A list of records (dicts) in index order; pareto() and plot()."""

    def pareto(self, y="latency_cycles", x="lut"):
        """The records no other record beats in both x and y (lower is better;
        y='metric' is higher-is-better unless the metric is mse)."""
        return pareto(self, y=y, x=x)

    def plot(self, path=None):
        return plot(self, path)


def _value(rec, key):
    if key in ("lut", "ff", "dsp", "bram"):
        return (rec.get("estimate") or {}).get(key)
    if key.startswith("synth_"):
        return (rec.get("synth") or {}).get(key[len("synth_"):])
    return rec.get(key)


def pareto(records, y="latency_cycles", x="lut"):
    """Records on the Pareto front of (x, y): no other record is as good in
    both and better in one.  Lower is better, except a higher-is-better metric."""
    ok = [r for r in records if "error" not in r and _value(r, x) is not None and _value(r, y) is not None]
    higher = y == "metric" and ok and ok[0].get("metric_name") != "mse"

    def key(r):
        vy = _value(r, y)
        return _value(r, x), (-vy if higher else vy)
    front = []
    for r in sorted(ok, key=lambda r: (*key(r), r["index"])):
        if not front or key(r)[1] < key(front[-1])[1]:
            front.append(r)
    return front


def plot(records, path=None):
    """Pareto plots (matplotlib): latency vs LUT, and metric vs LUT when the
    records have a metric; every point grey, the front in colour.  Saved to
    path (PNG) when given; returns the Figure."""
    try:
        import matplotlib
        if path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise EtchnnError("plots need matplotlib: pip install matplotlib") from e
    panels = [("latency_cycles", "latency (cycles)")]
    if any("metric" in r for r in records):
        name = next(r["metric_name"] for r in records if "metric" in r)
        panels.insert(0, ("metric", name))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (y, label) in zip(axes[0], panels):
        pts = [r for r in records if "error" not in r and _value(r, "lut") is not None and _value(r, y) is not None]
        ax.scatter([_value(r, "lut") for r in pts], [_value(r, y) for r in pts], s=14, color="0.6", label="points")
        front = pareto(records, y=y)
        ax.plot([_value(r, "lut") for r in front], [_value(r, y) for r in front], "o-", color="tab:red",
                label="Pareto front")
        ax.set_xlabel("LUT (estimate)")
        ax.set_ylabel(label)
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _line(rec):
    return json.dumps(rec, sort_keys=True, default=_json_default)


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON: {type(v).__name__}")


def read(path):
    """The records of a JSON-lines results file."""
    return SweepResults(json.loads(line) for line in pathlib.Path(path).read_text().splitlines() if line.strip())


def merge(paths, out=None):
    """Gather per-point files (index= runs) into one result, in index order.
    A point found twice must be the same point (same hash); points missing
    from 0..of-1 are an error naming them.  Writes out when given."""
    recs = {}
    for p in paths:
        for r in read(p):
            old = recs.get(r["index"])
            if old is not None and old["hash"] != r["hash"]:
                raise EtchnnError(f"{p}: point {r['index']} has hash {r['hash']}, another file {old['hash']}: "
                                  f"files from different spaces")
            recs[r["index"]] = r
    if not recs:
        raise EtchnnError("merge: no records in " + ", ".join(map(str, paths)))
    total = max(r["of"] for r in recs.values())
    missing = [i for i in range(total) if i not in recs]
    if missing:
        raise EtchnnError(f"merge: {len(missing)} of {total} points missing (first: {missing[:10]})")
    res = SweepResults(recs[i] for i in range(total))
    if out is not None:
        _write(res, out)
    return res


def _write(records, out):
    p = pathlib.Path(out)
    tmp = p.with_name(p.name + ".partial")
    tmp.write_text("".join(_line(r) + "\n" for r in records))
    os.replace(tmp, p)


# ---- the entry points ---------------------------------------------------------
def sweep(model, space, x=None, y=None, metric=None, workers=None, cluster=None, out=None, index=None,
          n_trials=None, seed=0, plot_path=None, input_shape=None, project_name="myproject", verbose=False,
          synth=None, synth_timeout=600):
    """Compile and estimate `model` at every point of `space` (a grid), or
    at n_trials points chosen by Optuna; returns SweepResults (records in
    index order) and writes them as JSON lines to `out`.

    x, y, metric  score each point on data ('accuracy', 'auc', 'mse' or a
                  callable(outputs, y); y=None: against the float model).
    workers       N > 1: N local worker processes; 1: serially in this
                  process; None (default): one process per core this process
                  may use (serially for a single point).
    cluster       'tcp://HOST:PORT' (or a distributed.Client / LocalCluster):
                  a Dask distributed scheduler; 'ray' (ray.init() here, or
                  the Ray already initialized) or 'ray://HOST:PORT': Ray.
    index         run only grid point `index` (array jobs: Slurm's
                  $SLURM_ARRAY_TASK_ID); merge() gathers the files.
    n_trials      Optuna mode: a multi-objective study (NSGA-II, seeded)
                  minimizing LUTs and maximizing the metric (or minimizing
                  latency without data); trials run in batches of `workers`
                  (or the cluster's) at a time.
    plot_path     write the Pareto plots (PNG).
    synth         'xilinx', 'ice40', 'ecp5' or 'nexus': also synthesize every point
                  that compiles (Fw.synth(): Yosys, nextpnr for ice40/ecp5/nexus;
                  on the worker, which needs the tools); the record's `synth`
                  holds the summary (lut, ff, carry, dsp, bram, cells, tool
                  versions; Fmax where placed and routed), or `synth_error`.
                  Pareto keys synth_lut, synth_ff, synth_dsp use it.
    synth_timeout seconds per point for the synthesis tools."""
    sp = load_space(space)
    points = grid(sp)
    if synth is not None and synth not in ("xilinx", "ice40", "ecp5", "nexus"):
        raise EtchnnError(f"synth: expected 'xilinx', 'ice40', 'ecp5' or 'nexus', got {synth!r}")
    payload = _payload(model, x, y, metric, input_shape, project_name, synth, synth_timeout)
    say = print if verbose is True else (verbose or (lambda *a: None))
    if index is not None:
        if not 0 <= index < len(points):
            raise EtchnnError(f"index: expected 0..{len(points) - 1} (the space has {len(points)} points), got {index}")
        cfg, opts = point_config(sp, points[index])
        res = SweepResults([evaluate(payload, index, cfg, opts, points[index], len(points))])
        if out is not None:
            _write(res, out)
        return res
    if workers is None and cluster is None:   # every core
        workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
                      n_trials or len(points))
    runner = _Runner(payload, workers, cluster)
    try:
        if n_trials is not None:
            res = _optuna(runner, sp, payload, n_trials, seed, max(workers or 1, 1), out, say)
        else:
            tasks = []
            for i, pt in enumerate(points):
                cfg, opts = point_config(sp, pt)
                tasks.append((i, cfg, opts, pt, len(points)))
            res = _collect(runner.run(tasks), len(tasks), out, say)
    finally:
        runner.close()
    if plot_path is not None:
        plot(res, plot_path)
    return res


def _collect(records, total, out, say, done=None):
    """Gather records as they finish (appended to out as they come), then
    write them in index order."""
    got = list(done or [])
    stream = open(out, "a" if done else "w") if out is not None else None
    t0 = time.time()
    try:
        for r in records:
            got.append(r)
            if stream:
                stream.write(_line(r) + "\n")
                stream.flush()
            say(f"sweep: {len(got)}/{total} points, {time.time() - t0:.1f} s")
    finally:
        if stream:
            stream.close()
    res = SweepResults(sorted(got, key=lambda r: r["index"]))
    if out is not None:
        _write(res, out)
    return res


def _optuna(runner, sp, payload, n_trials, seed, batch, out, say):
    try:
        import optuna
    except ImportError as e:
        raise EtchnnError("n_trials: the Optuna mode needs optuna: pip install optuna") from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = _directions(payload)
    study = optuna.create_study(directions=directions, sampler=optuna.samplers.NSGAIISampler(seed=seed))
    if runner.kind == "dask":
        batch = max(batch, len(runner.client.scheduler_info().get("workers", {})))
    elif runner.kind == "ray":
        batch = max(batch, int(runner.ray.cluster_resources().get("CPU", 1)))
    records = []
    if out is not None:
        pathlib.Path(out).write_text("")
    while len(records) < n_trials:
        trials = [study.ask() for _ in range(min(batch, n_trials - len(records)))]
        tasks = []
        for t in trials:
            pt = {k: t.suggest_categorical(k, [_categorical(v) for v in sp[k]]) for k in SPACE_KEYS if k in sp}
            pt = {k: _uncategorical(sp[k], v) for k, v in pt.items()}
            cfg, opts = point_config(sp, pt)
            tasks.append((t.number, cfg, opts, pt, n_trials))
        got = sorted(runner.run(tasks), key=lambda r: r["index"])   # told in trial order: the same study every run
        for r in got:
            t = next(t for t in trials if t.number == r["index"])
            vals = _objective_values(r, payload)
            study.tell(t, vals if vals is not None else None,
                       state=None if vals is not None else optuna.trial.TrialState.FAIL)
        records = list(_collect(got, n_trials, out, say, done=records))
    return SweepResults(sorted(records, key=lambda r: r["index"]))


def _categorical(v):   # Optuna's choices are None, bool, int, float or str
    return v if v is None or isinstance(v, (bool, int, float, str)) else json.dumps(v, sort_keys=True)


def _uncategorical(values, chosen):
    for v in values:
        if _categorical(v) == chosen:
            return v
    return chosen


def _directions(payload):
    if payload["x"] is None:
        return ["minimize", "minimize"]
    from .tune import metric_function
    _, _, higher = metric_function(payload["metric"])
    return ["minimize", "maximize" if higher else "minimize"]


def _objective_values(rec, payload):
    if "error" in rec or not rec.get("estimate"):
        return None
    lut = (rec.get("synth") or rec["estimate"])["lut"]   # Yosys's count when the sweep synthesizes
    second = rec["metric"] if payload["x"] is not None else rec["latency_cycles"]
    return (lut, second) if second is not None and not (isinstance(second, float) and math.isnan(second)) else None


def objective(model, x=None, y=None, metric=None, space=None, input_shape=None, project_name="myproject"):
    """An objective for Optuna users: f(point) compiles and estimates one
    point (a dict with the space keys: precision, ReuseFactor, Strategy,
    clock_mhz, IOType, multipliers) and returns (estimated LUTs, metric) with
    data, (estimated LUTs, latency in cycles) without; f.directions gives the
    study's directions.  With space=, f(trial) also takes an Optuna trial and
    draws the point from the space:

        f = etchnn.objective(model, x, y, 'accuracy', space='examples/sweep.yml')
        study = optuna.create_study(directions=f.directions)
        study.optimize(f, n_trials=50)

    A point that does not compile raises optuna.TrialPruned under Optuna (and
    EtchnnError when called with a plain dict).  f.records holds every record."""
    payload = _payload(model, x, y, metric, input_shape, project_name)
    sp = load_space(space) if space is not None else {"config": None, "_files": {}}

    def f(point):
        is_trial = hasattr(point, "suggest_categorical")
        if is_trial:
            if space is None:
                raise EtchnnError("objective: give space= to draw points from an Optuna trial")
            pt = {k: _uncategorical(sp[k], point.suggest_categorical(k, [_categorical(v) for v in sp[k]]))
                  for k in SPACE_KEYS if k in sp}
        else:
            pt = dict(point)
            unknown = sorted(set(pt) - set(SPACE_KEYS))
            if unknown:
                raise EtchnnError(f"objective: unknown key '{unknown[0]}': expected {', '.join(SPACE_KEYS)}")
        cfg, opts = point_config(sp, pt)
        rec = evaluate(payload, len(f.records), cfg, opts, pt, None)
        f.records.append(rec)
        vals = _objective_values(rec, payload)
        if vals is None:
            if is_trial:
                import optuna
                raise optuna.TrialPruned(rec.get("error", "no estimate"))
            raise EtchnnError(rec.get("error", "objective: no estimate for this point"))
        return vals

    f.directions = _directions(payload)
    f.records = []
    return f
