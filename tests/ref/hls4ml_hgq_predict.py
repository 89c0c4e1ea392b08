#!/usr/bin/env python3
"""Reference outputs from hls4ml's C simulation for an HGQ proxy model (a
Keras 2 single .h5 with FixedPointQuantizer layers, e.g. hgq_jet_classifier.h5).

    python tests/ref/hls4ml_hgq_predict.py MODEL.h5 --input X.npy --output Y.npy [--show-layers]

or from Python: hls4ml_hgq_predict(h5_path, x).

The file is read by hls4ml's own Keras 2 file reader (config key KerasH5: h5py
only, no TensorFlow and no HGQ package), converted with the Vivado backend,
io_parallel, latency strategy, reuse factor 1.  No precision is configured
for any layer: hls4ml's bit-exact flow (triggered by the quantizers) derives
every type from them; the model-level precision given below is a placeholder
that the flow overrides (the script checks that no layer kept it).  The
inputs are converted to the input layer's type by hls4ml itself.  Compiled
projects are cached under <repo>/build/hls4ml_cache/hgq-<hash>/.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hls4ml_predict import DEFAULT_WORKDIR, _prepare_x, _run_lib  # noqa: E402

CACHE_FORMAT = 1
PLACEHOLDER = 'fixed<33,17>'   # no quantizer of these models gives this type: a layer that kept it was not typed


def _key(h5_path):
    with open(h5_path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    blob = json.dumps({'format': CACHE_FORMAT, 'hls4ml': importlib.metadata.version('hls4ml'), 'model': digest,
                       'placeholder': PLACEHOLDER}, sort_keys=True)
    return 'hgq-' + hashlib.sha256(blob.encode()).hexdigest()[:24]


def layer_types(hm):
    """[(layer name, class, {variable: type string})] of a converted model."""
    rows = []
    for layer in hm.get_layers():
        types = {k: str(v.precision) for k, v in layer.get_layer_precision().items()}
        types['result'] = str(layer.get_output_variable().type.precision)
        rows.append((layer.name, layer.class_name, types))
    return rows


def _build(h5_path, prj, log):
    with contextlib.redirect_stdout(log):
        from hls4ml.converters.keras_v2_to_hls import keras_v2_to_hls

        cfg = {'KerasH5': os.path.abspath(h5_path), 'OutputDir': prj, 'ProjectName': 'myproject', 'Backend': 'Vivado',
               'IOType': 'io_parallel', 'Part': 'xcvu13p-flga2577-2-e', 'ClockPeriod': 5,
               'HLSConfig': {'Model': {'Precision': PLACEHOLDER, 'ReuseFactor': 1, 'Strategy': 'Latency'}}}
        hm = keras_v2_to_hls(cfg)
        rows = layer_types(hm)
        for name, cls, types in rows:
            print(name, cls, types)
            if cls in ('Dense', 'Conv2D', 'Conv1D', 'Activation', 'Pooling2D', 'FixedPointQuantizer', 'Input') and \
                    'fixed<33,17' in types['result']:
                raise RuntimeError(f'hls4ml left layer {name} ({cls}) at the placeholder precision: {types}')
        hm.compile()
    libs = sorted(glob.glob(os.path.join(prj, 'firmware', 'myproject-*.so')), key=os.path.getmtime)
    if not libs:
        raise RuntimeError(f'hls4ml compile produced no library in {prj}')
    ins, outs = hm.get_input_variables(), hm.get_output_variables()
    meta = {'project': os.path.abspath(prj), 'lib': os.path.abspath(libs[-1]), 'n_in': int(ins[0].size()),
            'n_out': int(outs[0].size()), 'layers': rows}
    return hm, meta


def hls4ml_hgq_project(h5_path, workdir=None, x_check=None):
    """Build (or find in the cache) the compiled project; returns its metadata."""
    import fcntl

    workdir = os.path.abspath(workdir or DEFAULT_WORKDIR)
    os.makedirs(workdir, exist_ok=True)
    key = _key(h5_path)
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
            shutil.rmtree(prj, ignore_errors=True)
            os.makedirs(prj)
            with open(os.path.join(prj, 'etchnn_build.log'), 'w') as log:
                hm, meta = _build(h5_path, prj, log)
            if x_check is not None:
                xx = _prepare_x(x_check, meta['n_in'])[:32]
                y = np.asarray(hm.predict(xx.reshape((len(xx),) + tuple(hm.get_input_variables()[0].shape))),
                               dtype=np.float64).reshape(-1, meta['n_out'])
                if not np.array_equal(_run_lib(meta, xx), y):
                    raise RuntimeError('direct library call disagrees with hls_model.predict()')
            with open(meta_path + '.tmp', 'w') as f:
                json.dump(meta, f, indent=1)
            os.replace(meta_path + '.tmp', meta_path)
    return meta


def hls4ml_hgq_predict(h5_path, x, workdir=None):
    """hls4ml csim outputs (float64, (N, n_out)) for inputs x (N, features...)."""
    meta = hls4ml_hgq_project(h5_path, workdir, x_check=x)
    return _run_lib(meta, _prepare_x(x, meta['n_in']))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('model')
    ap.add_argument('--input')
    ap.add_argument('--output')
    ap.add_argument('--show-layers', action='store_true')
    a = ap.parse_args(argv)
    if a.input:
        y = hls4ml_hgq_predict(a.model, np.load(a.input))
        if a.output:
            np.save(a.output, y)
    if a.show_layers:
        for name, cls, types in hls4ml_hgq_project(a.model)['layers']:
            print(f'{name:28s} {cls:20s} ' + ' '.join(f'{k}={v}' for k, v in sorted(types.items())))


if __name__ == '__main__':
    main()
