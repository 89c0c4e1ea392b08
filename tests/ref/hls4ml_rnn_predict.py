#!/usr/bin/env python3
"""hls4ml's C simulation of a Keras 3 model with recurrent layers (LSTM, GRU),
and the configuration that built it, for comparing with etchnn under the same
configuration and --hls4ml.

    python tests/ref/hls4ml_rnn_predict.py MODEL.keras CONFIG.json --input X.npy --output Y.npy

or from Python: hls4ml_rnn_config(model, layers, default) and
hls4ml_rnn_predict(model_path, config, x).

The configuration is hls4ml's own (config_from_keras_model, name granularity,
Vivado back end, io_parallel, latency), with every 'auto' replaced by the
default precision and the per-layer entries `layers` merged in:
{layer: {'Precision': {...}, 'table_t': ..., 'TableSize': ...}}.  The same
JSON is an etchnn configuration.  Compiled projects are cached under
<repo>/build/hls4ml_cache/rnn-<hash>/ (hash of the model file, the
configuration and the hls4ml version).

hls4ml 1.3 facts this relies on (tests/ref/NOTES.md, "Recurrent layers"):
its Vivado LSTM compiles only when the layer's result and accum types equal
its input's type; it has no Vivado SimpleRNN (the C simulation returns
uninitialised memory), and computes a GRU with reset_after=False as if it
were reset_after=True; tests compare those with rnn_semantics.py instead.
"""

from __future__ import annotations

import argparse
import copy
import glob
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys

os.environ.setdefault('KERAS_BACKEND', 'torch')

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hls4ml_predict import DEFAULT_WORKDIR, _prepare_x, _run_lib  # noqa: E402

CACHE_FORMAT = 1


def hls4ml_rnn_config(model, layers=None, default='fixed<16,6>'):
    """The configuration hls4ml's config_from_keras_model writes for a Keras 3 model of an input and recurrent
    layers (name granularity, Vivado; written out here so that a cached comparison need not import hls4ml),
    'auto' made `default`, the per-layer entries `layers` merged in."""
    names = {}
    for L in model.layers:
        cls = type(L).__name__
        if cls == 'InputLayer':
            names[L.name] = {'Precision': {'result': default}}
        elif cls in ('SimpleRNN', 'LSTM', 'GRU'):
            p = {v: default for v in ('result', 'weight', 'bias', 'recurrent_weight', 'recurrent_bias', 'accum')}
            if cls == 'SimpleRNN':
                del p['recurrent_bias']
            names[L.name] = {'Precision': p, 'ReuseFactor': 1, 'RecurrentReuseFactor': 1, 'Static': True,
                             'table_t': 'fixed<18,8>', 'TableSize': 1024}
            if cls == 'SimpleRNN':
                names[L.name]['Direction'] = 'forward'
        elif cls == 'Bidirectional':   # each direction its own weight types and ReuseFactors; accum, result shared
            p = {'result': default, 'accum': default}
            p.update({f'{d}_{v}': default for d in ('forward', 'backward')
                      for v in ('weight', 'bias', 'recurrent_weight', 'recurrent_bias')})
            names[L.name] = {'Precision': p, 'ReuseFactor': 1, 'ForwardReuseFactor': 1, 'BackwardReuseFactor': 1,
                             'ForwardRecurrentReuseFactor': 1, 'BackwardRecurrentReuseFactor': 1, 'Static': True,
                             'table_t': 'fixed<18,8>', 'TableSize': 1024}
        else:
            raise ValueError(f'layer {L.name} ({cls}): not handled here')
    cfg = {'Model': {'Precision': {'default': default}, 'ReuseFactor': 1, 'Strategy': 'Latency'}, 'LayerName': names}
    for name, entry in (layers or {}).items():
        lc = cfg['LayerName'][name]
        for k, v in entry.items():
            if k == 'Precision':
                lc['Precision'].update(v)
            else:
                lc[k] = v
    return cfg


def _key(model_path, cfg):
    """Of the model's architecture and weights (a .keras file also records when it was saved) and the config."""
    import zipfile

    def strip(o):   # Keras records Python object ids ("shared_object_id"), different in every process
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k != 'shared_object_id'}
        return [strip(v) for v in o] if isinstance(o, list) else o

    h = hashlib.sha256()
    with zipfile.ZipFile(model_path) as z:
        h.update(json.dumps(strip(json.loads(z.read('config.json'))), sort_keys=True).encode())
    import keras

    for w in keras.models.load_model(model_path).weights:
        h.update(np.ascontiguousarray(np.asarray(w)).tobytes())
    mh = h.hexdigest()
    blob = json.dumps({'format': CACHE_FORMAT, 'hls4ml': importlib.metadata.version('hls4ml'), 'model': mh,
                       'config': cfg}, sort_keys=True)
    return 'rnn-' + hashlib.sha256(blob.encode()).hexdigest()[:24]


def hls4ml_rnn_predict(model_path, cfg, x, workdir=None, verify=True):
    """hls4ml csim outputs (float64, (N, n_out)) of the .keras model under configuration cfg.  verify: check
    that calling the library directly gives what hls_model.predict() gives (off for a layer hls4ml does not
    build, whose outputs are uninitialised memory)."""
    import contextlib
    import fcntl

    workdir = os.path.abspath(workdir or DEFAULT_WORKDIR)
    os.makedirs(workdir, exist_ok=True)
    key = _key(model_path, cfg)
    prj = os.path.join(workdir, key)
    meta_path = os.path.join(prj, 'etchnn_meta.json')
    with open(os.path.join(workdir, key + '.lock'), 'w') as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        meta = None
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                meta = json.load(f)
            if not os.path.exists(meta.get('lib', '')):
                meta = None
        if meta is None:
            import hls4ml
            import keras

            shutil.rmtree(prj, ignore_errors=True)
            os.makedirs(prj)
            with open(os.path.join(prj, 'etchnn_build.log'), 'w') as log, contextlib.redirect_stdout(log):
                model = keras.models.load_model(model_path)
                hm = hls4ml.converters.convert_from_keras_model(model, output_dir=prj, project_name='myproject',
                                                                io_type='io_parallel', backend='Vivado',
                                                                hls_config=copy.deepcopy(cfg))
                hm.compile()
            libs = sorted(glob.glob(os.path.join(prj, 'firmware', 'myproject-*.so')), key=os.path.getmtime)
            if not libs:
                raise RuntimeError(f'hls4ml compile produced no library in {prj}')
            layers = [{'name': L.name, 'class': L.class_name,
                       'types': {k: str(v.precision) for k, v in L.types.items()}} for L in hm.get_layers()]
            meta = {'project': prj, 'lib': os.path.abspath(libs[-1]), 'n_in': int(hm.get_input_variables()[0].size()),
                    'n_out': int(hm.get_output_variables()[0].size()), 'layers': layers}
            xx = _prepare_x(x, meta['n_in'])
            y = np.asarray(hm.predict(xx[:16]), dtype=np.float64).reshape(-1, meta['n_out'])
            if verify and not np.array_equal(_run_lib(meta, xx[:16]), y):
                raise RuntimeError('direct library call disagrees with hls_model.predict()')
            with open(meta_path + '.tmp', 'w') as f:
                json.dump(meta, f, indent=1)
            os.replace(meta_path + '.tmp', meta_path)
    return _run_lib(meta, _prepare_x(x, meta['n_in']))


def hls4ml_qkeras_config(json_path, default='fixed<16,6>'):
    """The configuration hls4ml gives a QKeras model's layers from their quantizers (config_from_keras_model's
    rule: weight <- kernel_quantizer, recurrent_weight <- recurrent_quantizer, bias <- bias_quantizer, accum <-
    state_quantizer, result <- a quantizer activation), everything else `default`.  hls4ml does not quantize
    a QKeras recurrent layer's weights: they reach the C++ code as floats converted to these types; and it
    leaves a GRU's recurrent bias at the default type, so this sets recurrent_bias to the bias quantizer's type
    (the recurrent bias is a row of the same quantized bias in QKeras).  Needs QKeras (TF_USE_LEGACY_KERAS=1)."""
    from hls4ml.utils.config import _get_precision_from_quantizer

    with open(json_path) as f:
        arch = json.load(f)
    names = {}
    for L in arch['config']['layers']:
        c, p = L['config'], {'result': default}
        if L['class_name'] in ('QSimpleRNN', 'QLSTM', 'QGRU'):
            for q, v in (('kernel_quantizer', 'weight'), ('recurrent_quantizer', 'recurrent_weight'),
                         ('bias_quantizer', 'bias'), ('state_quantizer', 'accum')):
                p[v] = str(_get_precision_from_quantizer(c[q])) if c.get(q) else default
            p['recurrent_bias'] = p['bias']
            if isinstance(c.get('activation'), dict):
                p['result'] = str(_get_precision_from_quantizer(c['activation']))
        names[c['name']] = {'Precision': p}
    return {'Model': {'Precision': {'default': default}, 'ReuseFactor': 1, 'Strategy': 'Latency'}, 'LayerName': names}


def hls4ml_qkeras_rnn_predict(json_path, weights_path, x, workdir=None):
    """(hls4ml csim outputs, the configuration it was built with) for a QKeras model (JSON + .h5), converted by
    hls4ml's Keras 2 file reader in a child process with TensorFlow's Keras 2; cached like hls4ml_rnn_predict."""
    import fcntl
    import subprocess
    import tempfile

    workdir = os.path.abspath(workdir or DEFAULT_WORKDIR)
    os.makedirs(workdir, exist_ok=True)
    h = hashlib.sha256()
    for p in (json_path, weights_path):
        with open(p, 'rb') as f:
            h.update(hashlib.sha256(f.read()).digest())
    key = 'rnnq-' + hashlib.sha256(json.dumps({'format': CACHE_FORMAT, 'model': h.hexdigest(),
                                               'hls4ml': importlib.metadata.version('hls4ml')}).encode()).hexdigest()[:24]
    prj = os.path.join(workdir, key)
    meta_path = os.path.join(prj, 'etchnn_meta.json')
    with open(os.path.join(workdir, key + '.lock'), 'w') as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if not os.path.exists(meta_path) or not os.path.exists(json.load(open(meta_path)).get('lib', '')):
            shutil.rmtree(prj, ignore_errors=True)
            os.makedirs(prj)
            env = dict(os.environ, TF_USE_LEGACY_KERAS='1', TF_CPP_MIN_LOG_LEVEL='3')
            r = subprocess.run([sys.executable, os.path.abspath(__file__), str(json_path), str(weights_path),
                                '--qkeras-build', prj], capture_output=True, text=True, env=env)
            if r.returncode != 0:
                raise RuntimeError(f'hls4ml (QKeras, child process) failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}')
    with open(meta_path) as f:
        meta = json.load(f)
    return _run_lib(meta, _prepare_x(x, meta['n_in'])), meta['config']


def _qkeras_build(json_path, weights_path, prj):
    import contextlib

    import hls4ml

    cfg = hls4ml_qkeras_config(json_path)
    with open(os.path.join(prj, 'etchnn_build.log'), 'w') as log, contextlib.redirect_stdout(log):
        hm = hls4ml.converters.keras_v2_to_hls({'KerasJson': json_path, 'KerasH5': weights_path, 'OutputDir': prj,
                                                'ProjectName': 'myproject', 'Backend': 'Vivado',
                                                'IOType': 'io_parallel', 'HLSConfig': copy.deepcopy(cfg)})
        hm.compile()
    libs = sorted(glob.glob(os.path.join(prj, 'firmware', 'myproject-*.so')), key=os.path.getmtime)
    meta = {'project': prj, 'lib': os.path.abspath(libs[-1]), 'n_in': int(hm.get_input_variables()[0].size()),
            'n_out': int(hm.get_output_variables()[0].size()), 'config': cfg,
            'layers': [{'name': L.name, 'class': L.class_name,
                        'types': {k: str(v.precision) for k, v in L.types.items()}} for L in hm.get_layers()]}
    with open(os.path.join(prj, 'etchnn_meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)


def main(argv=None):
    if argv is None and len(sys.argv) == 5 and sys.argv[3] == '--qkeras-build':
        return _qkeras_build(sys.argv[1], sys.argv[2], sys.argv[4])
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('model')
    ap.add_argument('config', help='a configuration JSON (as hls4ml_rnn_config writes)')
    ap.add_argument('--input', required=True)
    ap.add_argument('--output', required=True)
    ap.add_argument('--workdir')
    a = ap.parse_args(argv)
    with open(a.config) as f:
        cfg = json.load(f)
    np.save(a.output, hls4ml_rnn_predict(a.model, cfg, np.load(a.input), a.workdir))


if __name__ == '__main__':
    main()
