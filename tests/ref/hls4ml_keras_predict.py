#!/usr/bin/env python3
"""Reference outputs from hls4ml's C simulation for a Keras model given as
architecture JSON + weights h5 (the example-models form).

    python tests/ref/hls4ml_keras_predict.py MODEL.json WEIGHTS.h5 --precision 'fixed<16,6>' \
        --input X.npy --output Y.npy

or from Python: hls4ml_keras_predict(json_path, weights_path, precision, x).

The Keras 2 JSON is rebuilt as a Keras 3 model (keras_ref.keras2_model,
weights read with h5py), converted with hls4ml.converters.convert_from_keras_model
(Vivado backend, io_parallel, latency, reuse factor 1), compiled and run
on float64 inputs.  `precision` and `tables` mean what they mean in
hls4ml_predict.py.

Models with layers Keras 3 does not have (BinaryDense, TernaryDense,
binary_tanh, ...) are converted by hls4ml straight from the two files
(`files=True`: hls4ml's own Keras 2 file reader, config keys KerasJson /
KerasH5), with every layer named in the configuration; BatchNormalization
scales get the weight type (hls4ml calls that variable 'scale').

QKeras models (`qkeras=True`, implies files): hls4ml converts QKeras
quantizers by calling QKeras, which needs TensorFlow's Keras 2 (tf_keras,
TF_USE_LEGACY_KERAS=1) and must not meet the Keras 3 of the other tests, so
the project is built in a child process.  Types as hls4ml gives a QKeras
model: weights and biases take the quantizers' types (hls4ml pins them,
whatever the configuration says), a QActivation's result takes the type
hls4ml's own config_from_keras_model derives from its quantizer
(quantized_relu(6,0): ufixed<6,0,RND_CONV,SAT>); every other variable
(input, Dense accumulator and result, softmax) the requested types.  Compiled projects are cached under
<repo>/build/hls4ml_cache/keras-<hash>/.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
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
from hls4ml_predict import (DEFAULT_WORKDIR, _describe_and_verify, _prepare_x, _run_lib,  # noqa: E402
                            apply_types)
from hls4ml_semantics import precision_types, table_settings  # noqa: E402

CACHE_FORMAT = 1


def _key(json_path, weights_path, types, tabs, files=False, qkeras=False):
    h = hashlib.sha256()
    for p in (json_path, weights_path):
        with open(p, 'rb') as f:
            h.update(hashlib.sha256(f.read()).digest())
    blob = json.dumps({'format': CACHE_FORMAT, 'hls4ml': importlib.metadata.version('hls4ml'), 'model': h.hexdigest(),
                       'types': {k: str(v) for k, v in sorted(types.items())},
                       'tables': {k: str(v) for k, v in sorted(tabs.items())}, 'files': files, 'qkeras': qkeras},
                      sort_keys=True)
    return 'keras-' + hashlib.sha256(blob.encode()).hexdigest()[:24]


def _files_config(json_path, types, tabs, qkeras=False):
    """A name-granularity hls4ml config for every layer of the Keras 2 JSON."""
    with open(json_path) as f:
        arch = json.load(f)
    c = arch['config']
    layers = c if isinstance(c, list) else c['layers']
    names = {}
    for L in layers:
        p = {'weight': 'x', 'bias': 'x', 'accum': 'x'}
        if L['class_name'] == 'BatchNormalization':
            p['scale'] = types['weight'].hls4ml_str()
        if L['class_name'] == 'Softmax' or L['config'].get('activation') == 'softmax':
            p = {'exp_table': 'x', 'inv_table': 'x'}
        names[L['config']['name']] = {'Precision': p}
    cfg = apply_types({'Model': {}, 'LayerName': names}, types, tabs)
    if qkeras:
        from hls4ml.utils.config import _get_precision_from_quantizer

        for L in layers:
            act = L['config'].get('activation')
            if L['class_name'] == 'QActivation' and isinstance(act, (dict, str)):   # a quantizer, or its call as a string
                cfg['LayerName'][L['config']['name']]['Precision']['result'] = str(_get_precision_from_quantizer(act))
    return cfg


def _build(json_path, weights_path, prj, types, tabs, log, files=False, qkeras=False):
    if not hasattr(np, 'product'):   # hls4ml 1.3 writes quantized_po2 weights with numpy.product, gone in NumPy 2
        np.product = np.prod
    with contextlib.redirect_stdout(log):
        import hls4ml

        R = types['result'].hls4ml_str()
        if files:
            cfg = _files_config(json_path, types, tabs, qkeras)
            hm = hls4ml.converters.keras_v2_to_hls({'KerasJson': json_path, 'KerasH5': weights_path, 'OutputDir': prj,
                                                    'ProjectName': 'myproject', 'Backend': 'Vivado',
                                                    'IOType': 'io_parallel', 'HLSConfig': cfg})
            layers = [{'name': L.name, 'class': L.class_name,
                       'types': {k: str(v.precision) for k, v in L.types.items()}} for L in hm.get_layers()]
        else:
            from keras_ref import keras2_model

            model = keras2_model(json_path, weights_path)
            # hls4ml's Keras 3 reader has no BatchNormalization handler; its default fallback (da4ml) fails
            # on a Keras layer, so use only the Keras 2 handlers as fallback (config and conversion alike).
            parse = hls4ml.converters.parse_keras_v3_model
            hls4ml.converters.parse_keras_v3_model = functools.partial(parse, allow_da_fallback=False)
            try:
                cfg = hls4ml.utils.config_from_keras_model(model, granularity='name', default_precision=R,
                                                           backend='Vivado')
            finally:
                hls4ml.converters.parse_keras_v3_model = parse
            cfg = apply_types(cfg, types, tabs)
            hm = hls4ml.converters.convert_from_keras_model(model, output_dir=prj, project_name='myproject',
                                                            io_type='io_parallel', backend='Vivado', hls_config=cfg,
                                                            allow_da_fallback=False)
            layers = _describe_and_verify(hm, types, tabs)
        hm.compile()
    libs = sorted(glob.glob(os.path.join(prj, 'firmware', 'myproject-*.so')), key=os.path.getmtime)
    if not libs:
        raise RuntimeError(f'hls4ml compile produced no library in {prj}')
    ins, outs = hm.get_input_variables(), hm.get_output_variables()
    meta = {'project': os.path.abspath(prj), 'lib': os.path.abspath(libs[-1]), 'n_in': int(ins[0].size()),
            'n_out': int(outs[0].size()), 'layers': layers}
    return hm, meta


def _qkeras_child(json_path, weights_path, precision, x, tables, workdir):
    """Build and run the project in a process with TensorFlow's Keras 2."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        xin, yout = os.path.join(d, 'x.npy'), os.path.join(d, 'y.npy')
        np.save(xin, np.asarray(x, dtype=np.float64))
        cmd = [sys.executable, os.path.abspath(__file__), str(json_path), str(weights_path), '--precision',
               json.dumps(precision) if isinstance(precision, dict) else precision, '--input', xin, '--output', yout,
               '--qkeras', '--workdir', workdir] + (['--tables', json.dumps(tables)] if tables else [])
        env = dict(os.environ, TF_USE_LEGACY_KERAS='1', TF_CPP_MIN_LOG_LEVEL='3')
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f'hls4ml (QKeras, child process) failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}')
        return np.load(yout)


def hls4ml_keras_predict(json_path, weights_path, precision, x, tables=None, workdir=None, files=False, qkeras=False):
    """hls4ml csim outputs (float64, (N, n_out)) for inputs x (N, n_in)."""
    import fcntl

    files = files or qkeras
    types = precision_types(precision)
    tabs = table_settings(types, tables)
    workdir = os.path.abspath(workdir or DEFAULT_WORKDIR)
    os.makedirs(workdir, exist_ok=True)
    key = _key(json_path, weights_path, types, tabs, files, qkeras)
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
        if meta is None and qkeras and os.environ.get('TF_USE_LEGACY_KERAS') != '1':
            fcntl.flock(lockf, fcntl.LOCK_UN)
            return _qkeras_child(json_path, weights_path, precision, x, tables, workdir)
        if meta is None:
            shutil.rmtree(prj, ignore_errors=True)
            os.makedirs(prj)
            with open(os.path.join(prj, 'etchnn_build.log'), 'w') as log:
                hm, meta = _build(str(json_path), str(weights_path), prj, types, tabs, log, files, qkeras)
            xx = _prepare_x(x, meta['n_in'])
            y = np.asarray(hm.predict(xx[:64]), dtype=np.float64).reshape(-1, meta['n_out'])
            if not np.array_equal(_run_lib(meta, xx[:64]), y):
                raise RuntimeError('direct library call disagrees with hls_model.predict()')
            with open(meta_path + '.tmp', 'w') as f:
                json.dump(meta, f, indent=1)
            os.replace(meta_path + '.tmp', meta_path)
    return _run_lib(meta, _prepare_x(x, meta['n_in']))


def hls4ml_keras_layers(json_path, weights_path, precision, tables=None, workdir=None, files=False, qkeras=False):
    """The layers of a project built by hls4ml_keras_predict, with their types."""
    types = precision_types(precision)
    tabs = table_settings(types, tables)
    key = _key(json_path, weights_path, types, tabs, files or qkeras, qkeras)
    with open(os.path.join(os.path.abspath(workdir or DEFAULT_WORKDIR), key, 'etchnn_meta.json')) as f:
        return json.load(f)['layers']


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('json')
    ap.add_argument('weights')
    ap.add_argument('--precision', required=True)
    ap.add_argument('--input', required=True)
    ap.add_argument('--output', required=True)
    ap.add_argument('--tables')
    ap.add_argument('--files', action='store_true', help="hls4ml's own Keras 2 file reader (custom layer classes)")
    ap.add_argument('--qkeras', action='store_true', help='a QKeras model (run with TF_USE_LEGACY_KERAS=1)')
    ap.add_argument('--workdir')
    a = ap.parse_args(argv)
    prec = json.loads(a.precision) if a.precision.strip().startswith('{') else a.precision
    y = hls4ml_keras_predict(a.json, a.weights, prec, np.load(a.input), json.loads(a.tables) if a.tables else None,
                             a.workdir, files=a.files, qkeras=a.qkeras)
    np.save(a.output, y)


if __name__ == '__main__':
    main()
