#!/usr/bin/env python3
"""QKeras recurrent models (QSimpleRNN, QLSTM, QGRU) for tests/test_qkeras_rnn.py,
built and trained briefly (a few epochs on synthetic sequences) in TensorFlow's
Keras 2 (its own process: TF_USE_LEGACY_KERAS=1), saved as NAME.json + NAME.h5.

    python tests/ref/qkeras_rnn_models.py OUTDIR NAME [NAME ...]

Each model is Input(T, F) -> the recurrent layer 'rnn' -> Dense(1) head; the
files hold the model up to 'rnn' (its output is the model's).
"""

import json
import os
import sys

os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # noqa: E402

T, F = 5, 3
WQ = 'quantized_bits(6,0,alpha=1)'
BQ = 'quantized_bits(8,2,alpha=1)'
SQ = 'quantized_bits(8,1,alpha=1)'

# name -> (class, keyword arguments); hard activations and a state quantizer make QKeras' forward pass
# exactly representable in fixed point; 'tanh'/'sigmoid' strings are float (compared with --float and hls4ml)
MODELS = {
    'qlstm': ('QLSTM', dict(units=4, activation='quantized_tanh(8)', recurrent_activation='hard_sigmoid',
                            kernel_quantizer=WQ, recurrent_quantizer=WQ, bias_quantizer=BQ, state_quantizer=SQ)),
    'qlstm_seq_qsig': ('QLSTM', dict(units=3, activation='quantized_tanh(6,symmetric=True)',
                                     recurrent_activation='quantized_sigmoid(7)', return_sequences=True,
                                     kernel_quantizer=WQ, recurrent_quantizer=WQ, bias_quantizer=BQ,
                                     state_quantizer='quantized_bits(10,2,alpha=1)')),
    'qgru': ('QGRU', dict(units=4, activation='quantized_tanh(8)', recurrent_activation='hard_sigmoid',
                          reset_after=True, kernel_quantizer=WQ, recurrent_quantizer=WQ, bias_quantizer=BQ,
                          state_quantizer=SQ)),
    'qgru_v1_seq': ('QGRU', dict(units=3, activation='quantized_tanh(8)', recurrent_activation='quantized_sigmoid(8)',
                                 reset_after=False, return_sequences=True, kernel_quantizer=WQ,
                                 recurrent_quantizer=WQ, bias_quantizer=BQ, state_quantizer=SQ)),
    'qsimplernn': ('QSimpleRNN', dict(units=4, activation='quantized_tanh(8)', kernel_quantizer=WQ,
                                      recurrent_quantizer=WQ, bias_quantizer=BQ, state_quantizer=SQ)),
    'qlstm_float': ('QLSTM', dict(units=4, activation='tanh', recurrent_activation='sigmoid', kernel_quantizer=WQ,
                                  recurrent_quantizer=WQ, bias_quantizer=BQ)),
    'qgru_float': ('QGRU', dict(units=4, activation='tanh', recurrent_activation='sigmoid', reset_after=True,
                                kernel_quantizer=WQ, recurrent_quantizer=WQ, bias_quantizer=BQ)),
}


def patch_nest():
    """QKeras 0.9's QSimpleRNN and QGRU cells call tensorflow's nest.is_sequence and array_ops.unstack,
    which newer TensorFlow (2.21 here) renamed or dropped; give them back."""
    import tensorflow as tf
    from tensorflow.python.ops import array_ops
    from tensorflow.python.util import nest
    if not hasattr(nest, 'is_sequence'):
        nest.is_sequence = nest.is_nested
    if not hasattr(array_ops, 'unstack'):
        array_ops.unstack = tf.unstack


def build(name, outdir):
    import tf_keras as keras
    import qkeras

    patch_nest()

    cls, kw = MODELS[name]
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (512, T, F)).astype(np.float32)
    y = (x[:, :, 0].sum(1) - x[:, -1, 1] > 0).astype(np.float32)
    inp = keras.Input((T, F), name='x')
    h = getattr(qkeras, cls)(name='rnn', **kw)(inp)
    flat = keras.layers.Flatten()(h) if kw.get('return_sequences') else h
    m = keras.Model(inp, keras.layers.Dense(1, activation='sigmoid', name='out')(flat))
    m.compile(optimizer='adam', loss='binary_crossentropy')
    m.fit(x, y, epochs=3, batch_size=64, verbose=0)
    sub = keras.Model(inp, h)
    with open(os.path.join(outdir, name + '.json'), 'w') as f:
        json.dump(json.loads(sub.to_json()), f)
    sub.save_weights(os.path.join(outdir, name + '.h5'))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for name in argv[1:]:
        build(name, argv[0])


if __name__ == '__main__':
    main()
