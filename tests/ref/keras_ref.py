"""Keras 3 reference models for etchnn's Keras front end.

Keras 3 cannot deserialize the Keras 2 architecture JSON of the shared
example models (class 'Model', 'batch_input_shape', ...).  `keras2_model`
rebuilds such a model layer by layer with Keras 3 layers and sets the
weights read with h5py from the Keras 2 weights file (groups with a
`weight_names` attribute), so that the forward pass is Keras's own.

    from keras_ref import keras2_model
    m = keras2_model('KERAS_3layer.json', 'KERAS_3layer_weights.h5')
    y = m.predict(x)

Set KERAS_BACKEND before importing (the tests use torch).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault('KERAS_BACKEND', 'torch')

import h5py  # noqa: E402
import numpy as np  # noqa: E402


def _layers(cfg):
    c = cfg['config']
    return c if isinstance(c, list) else c['layers']


def _weights(h5, name):
    """The stored arrays of layer `name`, by short name (kernel, bias, ...)."""
    root = h5['model_weights'] if 'model_weights' in h5 else h5
    if name not in root:
        return {}
    g = root[name]
    out = {}
    for wn in g.attrs.get('weight_names', []):
        wn = wn.decode() if isinstance(wn, bytes) else str(wn)
        short = wn.split('/')[-1].split(':')[0]
        out[short] = np.asarray(g[wn])
    return out


def keras2_model(json_path, weights_path):
    """A Keras 3 model equal to a Keras 2 chain model (Sequential, or a
    Functional model whose layers form a chain) with its weights."""
    import keras

    cfg = json.load(open(json_path))
    layers = _layers(cfg)
    h5 = h5py.File(weights_path, 'r')
    x = inp = None
    built = []
    for L in layers:
        cls, c = L['class_name'], L['config']
        name = c['name']
        shape = c.get('batch_input_shape') or c.get('batch_shape')
        if inp is None:
            inp = x = keras.Input(tuple(shape[1:]), name=name if cls == 'InputLayer' else name + '_input')
            if cls == 'InputLayer':
                continue
        if cls == 'InputLayer':
            continue
        if cls == 'Dense':
            layer = keras.layers.Dense(c['units'], activation=c.get('activation') or 'linear',
                                       use_bias=c.get('use_bias', True), name=name)
        elif cls == 'Activation':
            layer = keras.layers.Activation(c['activation'], name=name)
        elif cls == 'BatchNormalization':
            ax = c.get('axis', -1)
            layer = keras.layers.BatchNormalization(axis=ax[0] if isinstance(ax, list) else ax, epsilon=c.get('epsilon', 1e-3),
                                                    center=c.get('center', True), scale=c.get('scale', True), name=name)
        elif cls == 'Dropout':
            layer = keras.layers.Dropout(c['rate'], name=name)
        elif cls == 'Flatten':
            layer = keras.layers.Flatten(name=name)
        elif cls in ('Conv1D', 'Conv2D'):
            layer = getattr(keras.layers, cls)(c['filters'], c['kernel_size'], strides=c.get('strides', 1),
                                               padding=c.get('padding', 'valid'), dilation_rate=c.get('dilation_rate', 1),
                                               activation=c.get('activation') or 'linear',
                                               use_bias=c.get('use_bias', True), name=name)
        elif cls in ('MaxPooling1D', 'MaxPooling2D', 'AveragePooling1D', 'AveragePooling2D'):
            layer = getattr(keras.layers, cls)(c['pool_size'], strides=c.get('strides'), padding=c.get('padding', 'valid'),
                                               name=name)
        else:
            raise ValueError(f'keras2_model: unsupported layer class {cls}')
        x = layer(x)
        built.append((layer, name, cls))
    model = keras.Model(inp, x)
    for layer, name, cls in built:
        w = _weights(h5, name)
        if cls in ('Dense', 'Conv1D', 'Conv2D'):
            layer.set_weights([w['kernel']] + ([w['bias']] if layer.use_bias else []))
        elif cls == 'BatchNormalization':
            vals = ([w['gamma']] if layer.scale else []) + ([w['beta']] if layer.center else [])
            layer.set_weights(vals + [w['moving_mean'], w['moving_variance']])
    h5.close()
    return model
