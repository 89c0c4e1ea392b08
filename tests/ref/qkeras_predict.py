#!/usr/bin/env python3
"""QKeras's own forward pass, for comparing etchnn's bit-exact emulation of
QKeras models.  Runs in its own process: QKeras 0.9 needs TensorFlow with
Keras 2 (tf_keras, TF_USE_LEGACY_KERAS=1), which must not meet the Keras 3
that the other tests import.

    python tests/ref/qkeras_predict.py MODEL.json WEIGHTS.h5 X.npy Y.npy [--layer NAME] [--weights-out W.npz]
        [--keras3-archive MODEL.keras] [--floatx float32]

The model is built with floatx float64 (or --floatx float32), so sums of
products are exact and the quantizers see the exact values (quantized_relu
itself computes in float32; the tests keep values within float32's 24 bits).  --layer takes
the output of that layer instead of the model's; --weights-out saves every
layer's kernel and bias after QKeras's quantizers.
"""

import argparse
import os
import sys

os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # noqa: E402


def _load_keras3_weights(model, archive):
    """Set each layer's variables from a Keras 3 archive whose vars groups
    name their layers (layers/<class>/vars/<i>, attribute name)."""
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(archive) as z:
        f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
    found = {}

    def visit(name, obj):
        if name.endswith('vars') and 'name' in obj.attrs:
            found[obj.attrs['name']] = obj

    f.visititems(visit)
    for layer in model.layers:
        g = found.get(layer.name)
        if g is not None and len(g):
            layer.set_weights([np.asarray(g[str(i)]) for i in range(len(g))])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument('json')
    ap.add_argument('weights')
    ap.add_argument('input')
    ap.add_argument('output')
    ap.add_argument('--layer')
    ap.add_argument('--weights-out')
    ap.add_argument('--keras3-archive', help='take the weights from this Keras 3 .keras archive (same architecture)')
    ap.add_argument('--floatx', default='float64', help='float64 (default) or float32 (quantized_po2 fails in float64)')
    a = ap.parse_args(argv)
    import tensorflow as tf
    import tf_keras as keras
    from qkeras.utils import _add_supported_quantized_objects

    from tensorflow.python.ops import array_ops
    from tensorflow.python.util import nest
    if not hasattr(nest, 'is_sequence'):   # QKeras 0.9's QSimpleRNN/QGRU cells use names TensorFlow 2.21 dropped
        nest.is_sequence = nest.is_nested
    if not hasattr(array_ops, 'unstack'):
        array_ops.unstack = tf.unstack
    keras.backend.set_floatx(a.floatx)
    co = {}
    _add_supported_quantized_objects(co)
    text = open(a.json).read().replace('"float32"', f'"{a.floatx}"')   # layer dtypes saved with the model
    model = keras.models.model_from_json(text, custom_objects=co)
    if a.keras3_archive:
        _load_keras3_weights(model, a.keras3_archive)
    else:
        model.load_weights(a.weights)
    if a.layer:
        model = keras.Model(model.inputs, model.get_layer(a.layer).output)
    x = np.load(a.input).astype(np.float64)
    x = x.reshape(len(x), *model.input_shape[1:])          # flat rows -> the model's (channels-last) shape
    y = model.predict(x, batch_size=2048, verbose=0)
    np.save(a.output, np.asarray(y, dtype=np.float64).reshape(len(x), -1))
    if a.weights_out:
        out = {}
        for layer in model.layers:
            for q, attr in (('kernel_quantizer_internal', 'kernel'), ('bias_quantizer_internal', 'bias')):
                qz = getattr(layer, q, None)
                w = getattr(layer, attr, None)
                if w is not None:
                    v = w.numpy()
                    out[f'{layer.name}/{attr}'] = np.asarray(qz(tf.constant(v)) if qz is not None else v, dtype=np.float64)
        np.savez(a.weights_out, **out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
