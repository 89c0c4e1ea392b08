#!/usr/bin/env python3
"""QKeras Dense models for tests/test_qkeras_act.py: the activation quantizers etchnn reads
beyond quantized_bits/quantized_relu (quantized_relu with negative_slope, quantized_tanh,
quantized_sigmoid, hard and real, symmetric) and quantized_po2 weights above 8 bits.  Built in
TensorFlow's Keras 2 (its own process: TF_USE_LEGACY_KERAS=1), seeded, trained 2 epochs on
synthetic data, saved as NAME.json + NAME.h5.

    python tests/ref/qkeras_act_models.py OUTDIR NAME [NAME ...]
"""

import json
import os
import sys

os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # noqa: E402

NIN = 8
WQ = 'quantized_bits(6,0,alpha=1)'
BQ = 'quantized_bits(8,2,alpha=1)'

# name -> [(units, kernel quantizer, activation quantizer), ...]; the last layer's activation is the output
MODELS = {
    # hard (piecewise-linear) forms: exact in fixed point, QKeras equals etchnn bit for bit
    'qact': [(16, WQ, 'quantized_relu(8,2,negative_slope=0.25)'),
             (16, WQ, 'quantized_tanh(8)'),
             (12, 'quantized_po2(10,max_value=1)', 'quantized_sigmoid(7)'),
             (8, 'quantized_po2(12)', 'quantized_tanh(6,symmetric=True)')],
    # the real functions (tables in hardware)
    'qreal': [(12, WQ, 'quantized_tanh(8,use_real_tanh=True)'),
              (10, WQ, 'quantized_sigmoid(8,use_real_sigmoid=True)'),
              (6, WQ, 'quantized_tanh(6,symmetric=True,use_real_tanh=True)')],
    # a QConv1D (input 8 steps x 2 channels) with per-filter scales, then a QDense
    'qconv_alpha': [('conv', 4, 'quantized_bits(5,0,1,alpha="auto_po2")', 'quantized_relu(8,3)'),
                    (6, 'quantized_bits(6,0,1,alpha="auto_po2")', 'quantized_relu(8,3)')],
    # QSeparableConv1D (input 4 steps x 2 channels) and QSeparableConv2D (2 x 4 x 1); depth_multiplier 1 (hls4ml's only)
    'qsep1d': [('sep1d', 3, WQ, 'quantized_relu(8,3)'), (4, WQ, 'quantized_tanh(8)')],
    'qsep2d': [('sep2d', 3, WQ, 'quantized_relu(8,3)'), (4, WQ, 'quantized_bits(8,2)')],
    # where hls4ml 1.3 differs from QKeras: the leaky relu's lower bound, the symmetric sigmoid's 1/2^bits
    # per-unit scales: alpha 'auto_po2' (exact) and 'auto' (float32 scales); after an alpha layer hls4ml 1.3
    # drops a QActivation(quantized_bits) (tests/ref/NOTES.md), so the activations here are quantized_relu
    'qalpha': [(16, 'quantized_bits(4,0,1,alpha="auto_po2")', 'quantized_relu(8,3)'),
               (8, 'quantized_bits(6,1,1,alpha="auto_po2")', 'quantized_relu(8,2)')],
    'qalpha_f': [(12, 'quantized_bits(5,0,1,alpha="auto")', 'quantized_relu(8,3)'),
                 (6, 'quantized_bits(6,0,1,alpha="auto")', 'quantized_relu(10,3)')],
    'qsym': [(8, WQ, 'quantized_relu(6,1,negative_slope=0.5)'),
             (6, WQ, 'quantized_sigmoid(6,symmetric=True)')],
}


def build(name, outdir):
    import tf_keras as keras
    import qkeras

    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (1024, NIN)).astype(np.float32)
    first = MODELS[name][0][0]
    shape = {'conv': (NIN // 2, 2), 'sep1d': (NIN // 2, 2), 'sep2d': (2, NIN // 2, 1)}.get(first, (NIN,))
    h = inp = keras.Input(shape, name='x')
    x = x.reshape(len(x), *inp.shape[1:])
    for k, spec in enumerate(MODELS[name]):
        if spec[0] in ('conv', 'sep1d', 'sep2d'):
            if spec[0] == 'conv':
                h = qkeras.QConv1D(spec[1], 3, kernel_quantizer=spec[2], bias_quantizer=BQ, name=f'conv{k + 1}')(h)
            else:
                cls = qkeras.QSeparableConv1D if spec[0] == 'sep1d' else qkeras.QSeparableConv2D
                h = cls(spec[1], 2, depthwise_quantizer=spec[2], pointwise_quantizer=spec[2],
                        bias_quantizer=BQ, name=f'sep{k + 1}')(h)
            h = qkeras.QActivation(spec[3], name=f'act{k + 1}')(h)
            h = keras.layers.Flatten(name='flatten')(h)
            continue
        units, kq, act = spec
        h = qkeras.QDense(units, kernel_quantizer=kq, bias_quantizer=BQ, name=f'fc{k + 1}')(h)
        h = qkeras.QActivation(act, name=f'act{k + 1}')(h)
    m = keras.Model(inp, h)
    y = np.tanh(x.reshape(len(x), -1) @ rng.normal(0, 0.7, (NIN, m.output_shape[-1]))).astype(np.float32)
    m.compile(optimizer='adam', loss='mse')
    m.fit(x, y, epochs=2, batch_size=64, verbose=0)
    with open(os.path.join(outdir, name + '.json'), 'w') as f:
        json.dump(json.loads(m.to_json()), f)
    m.save_weights(os.path.join(outdir, name + '.h5'))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for name in argv[1:]:
        build(name, argv[0])


if __name__ == '__main__':
    main()
