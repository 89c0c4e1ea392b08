#!/usr/bin/env python3
"""Write the small hand-built ONNX seeds in tests/fuzz/corpus_onnx/.

    python3 tests/fuzz/make_onnx_seeds.py

Each seed reaches a different part of the ONNX importer (every supported
operator, constant folding, old-opset attribute forms), and is tiny so that
libFuzzer's mutations stay cheap.  Needs numpy and onnx; the weights come
from a seeded generator, so the files are reproducible.
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus_onnx')
RNG = np.random.default_rng(20241125)


def io(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name, shape, scale=0.5, dtype=np.float32):
    return numpy_helper.from_array((RNG.standard_normal(shape) * scale).astype(dtype), name)


def save(name, nodes, inputs, outputs, inits, opset=13, check=True):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, producer_name='etchnn-fuzz-seeds', opset_imports=[helper.make_opsetid('', opset)])
    m.ir_version = 7
    if check:   # the regress-* seeds are invalid on purpose
        onnx.checker.check_model(m)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(m, os.path.join(OUT, name + '.onnx'))


def main():
    # Flatten, BatchNormalization, LeakyRelu, Gemm (transB, alpha, beta), Softmax
    save('flatten_bn_gemm', [
        helper.make_node('Flatten', ['x'], ['f'], axis=1),
        helper.make_node('BatchNormalization', ['f', 'g', 'b', 'mu', 'var'], ['n'], name='bn', epsilon=1e-3),
        helper.make_node('LeakyRelu', ['n'], ['l'], alpha=0.1),
        helper.make_node('Gemm', ['l', 'w', 'c'], ['h'], name='fc', transB=1, alpha=0.5, beta=2.0),
        helper.make_node('Softmax', ['h'], ['y'], axis=-1),
    ], [io('x', [1, 2, 3])], [io('y', [1, 4])], [
        const('g', [6]), const('b', [6]), const('mu', [6]),
        numpy_helper.from_array((np.abs(RNG.standard_normal(6)) + 0.5).astype(np.float32), 'var'),
        const('w', [4, 6]), const('c', [4]),
    ])
    # Constant + Reshape (with 0 and -1), MatMul, Add/Sub/Mul/Div by constants, Sigmoid
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), 'shape')
    save('reshape_matmul_affine', [
        helper.make_node('Constant', [], ['s'], value=shape),
        helper.make_node('Reshape', ['x', 's'], ['r']),
        helper.make_node('MatMul', ['r', 'w'], ['m']),
        helper.make_node('Add', ['m', 'b'], ['a']),
        helper.make_node('Sub', ['k', 'a'], ['s2']),
        helper.make_node('Mul', ['s2', 'k'], ['s3']),
        helper.make_node('Div', ['s3', 'k'], ['s4']),
        helper.make_node('Sigmoid', ['s4'], ['y']),
    ], [io('x', [1, 2, 2])], [io('y', [1, 3])], [const('w', [4, 3]), const('b', [3]), const('k', [3])])
    # Unsqueeze / Squeeze (axes input, opset 13), Transpose that does not move
    # data, Clip with min/max inputs, HardSigmoid, Tanh, Add of two data tensors
    save('squeeze_clip_add', [
        helper.make_node('Unsqueeze', ['x', 'ax'], ['u']),
        helper.make_node('Squeeze', ['u', 'ax'], ['q']),
        helper.make_node('Transpose', ['q'], ['t'], perm=[0, 1]),
        helper.make_node('Clip', ['t', 'lo', 'hi'], ['c']),
        helper.make_node('HardSigmoid', ['c'], ['hs'], alpha=0.25, beta=0.5),
        helper.make_node('Tanh', ['x'], ['th']),
        helper.make_node('Add', ['hs', 'th'], ['y']),
    ], [io('x', [1, 5])], [io('y', [1, 5])], [
        numpy_helper.from_array(np.array([2], np.int64), 'ax'),
        numpy_helper.from_array(np.array(-1.0, np.float32), 'lo'),
        numpy_helper.from_array(np.array(1.5, np.float32), 'hi'),
    ])
    # Constant folding in the importer: Transpose, Add, Pow and Reshape of
    # constants (double and int32 data), used as Gemm weights; Relu
    save('constfold_gemm', [
        helper.make_node('Transpose', ['w0'], ['wt']),
        helper.make_node('Add', ['wt', 'd'], ['w1']),
        helper.make_node('Pow', ['w1', 'two'], ['w2']),
        helper.make_node('Cast', ['w2'], ['w3'], to=TensorProto.FLOAT),
        helper.make_node('Gemm', ['x', 'w3'], ['h'], name='dense'),
        helper.make_node('Relu', ['h'], ['y']),
    ], [io('x', [1, 3])], [io('y', [1, 2])], [
        const('w0', [2, 3], dtype=np.float64),
        numpy_helper.from_array(np.array([1, 2], np.int32), 'd'),
        numpy_helper.from_array(np.array(2.0, np.float32), 'two'),
    ])
    # opset 9: Clip with attributes, Dropout, Identity, Softmax (axis=1 over
    # the flattened rest), Unsqueeze with an axes attribute
    save('opset9_clip_dropout', [
        helper.make_node('Identity', ['x'], ['i']),
        helper.make_node('Dropout', ['i'], ['d']),
        helper.make_node('Clip', ['d'], ['c'], min=-0.5, max=0.5),
        helper.make_node('Unsqueeze', ['c'], ['u'], axes=[1]),
        helper.make_node('Flatten', ['u'], ['f']),
        helper.make_node('Softmax', ['f'], ['y'], axis=1),
    ], [io('x', [1, 4])], [io('y', [1, 4])], [], opset=9)
    # Every layer class a configuration can name, with fixed layer names: the
    # model the config and events fuzzers apply their inputs to (FUZZ_MODEL).
    save('all_ops', [
        helper.make_node('BatchNormalization', ['x', 'g', 'b', 'mu', 'var'], ['n'], name='bn'),
        helper.make_node('Gemm', ['n', 'w', 'c'], ['h'], name='fc1'),
        helper.make_node('LeakyRelu', ['h'], ['l'], name='lrelu', alpha=0.2),
        helper.make_node('HardSigmoid', ['l'], ['hs'], name='hsig'),
        helper.make_node('Clip', ['hs', 'lo', 'hi'], ['cl'], name='clip'),
        helper.make_node('Sigmoid', ['h'], ['sg'], name='sig'),
        helper.make_node('Tanh', ['h'], ['th'], name='tanh'),
        helper.make_node('Add', ['sg', 'th'], ['a'], name='add'),
        helper.make_node('Add', ['a', 'cl'], ['a2'], name='add2'),
        helper.make_node('Relu', ['a2'], ['r'], name='relu'),
        helper.make_node('MatMul', ['r', 'w2'], ['m'], name='fc2'),
        helper.make_node('Reshape', ['m', 'shape'], ['rs'], name='reshape'),
        helper.make_node('Softmax', ['rs'], ['y'], name='softmax', axis=-1),
    ], [io('x', [1, 6])], [io('y', [1, 2, 2])], [
        const('g', [6]), const('b', [6]), const('mu', [6]),
        numpy_helper.from_array((np.abs(RNG.standard_normal(6)) + 0.5).astype(np.float32), 'var'),
        const('w', [6, 5]), const('c', [5]), const('w2', [5, 4]),
        numpy_helper.from_array(np.array([1, 2, 2], np.int64), 'shape'),
        numpy_helper.from_array(np.array(-0.75, np.float32), 'lo'),
        numpy_helper.from_array(np.array(0.75, np.float32), 'hi'),
    ])
    # Regressions (invalid models that once crashed the importer): Transpose
    # perm entries out of range (data input), repeated (constant input)
    save('regress-transpose-perm-range', [
        helper.make_node('Transpose', ['x'], ['y'], perm=[0, 64]),
    ], [io('x', [1, 3])], [io('y', [1, 3])], [], check=False)
    save('regress-transpose-perm-repeat', [
        helper.make_node('Transpose', ['w0'], ['wt'], perm=[0, 0]),
        helper.make_node('MatMul', ['x', 'wt'], ['y']),
    ], [io('x', [1, 2])], [io('y', [1, 2])], [const('w0', [2, 3])], check=False)
    # ... per-sample input size beyond 2^26 values (numel overflow)
    save('regress-input-numel', [
        helper.make_node('Relu', ['x'], ['y']),
    ], [io('x', [1, 1 << 24, 1 << 24, 1 << 24])], [io('y', [1, 1])], [], check=False)
    # ... Reshape target shapes whose product overflows, and float shapes/axes out of long's range
    save('regress-reshape-overflow', [
        helper.make_node('Reshape', ['x', 's'], ['y']),
    ], [io('x', [1, 4])], [io('y', [1, 4])], [numpy_helper.from_array(np.array([1, 1 << 40, 1 << 40, 4], np.int64), 's')],
        check=False)
    save('regress-reshape-float-shape', [
        helper.make_node('Reshape', ['x', 's'], ['y']),
    ], [io('x', [1, 4])], [io('y', [1, 4])], [numpy_helper.from_array(np.array([1, 1e30, 4], np.float32), 's')],
        check=False)
    save('regress-unsqueeze-float-axes', [
        helper.make_node('Unsqueeze', ['x', 'a'], ['y']),
    ], [io('x', [1, 4])], [io('y', [1, 4])], [numpy_helper.from_array(np.array([1e30], np.float32), 'a')], check=False)
    # ... Reshape of a constant to a shape with more values than it has (heap over-read)
    save('regress-const-reshape-size', [
        helper.make_node('Reshape', ['w', 's'], ['w2']),
        helper.make_node('MatMul', ['x', 'w2'], ['y']),
    ], [io('x', [1, 4])], [io('y', [1, 4])], [numpy_helper.from_array(np.ones((4, 4), np.float32), 'w'),
                                              numpy_helper.from_array(np.array([4, 100000], np.int64), 's')],
        check=False)
    recurrent_seeds()
    conv_transpose_seeds()


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def recurrent_seeds():
    """An LSTM and a GRU as torch.onnx.export writes them (batch-first input, time-major recurrent node,
    the zero initial state built from the input's Shape), read through Squeeze/Transpose/Gather/Slice/
    Reshape/Concat; weights from their own generator, so that the seeds above stay as they were."""
    rng = np.random.default_rng(20251207)

    def w(name, shape):
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.5).astype(np.float32), name)
    T, F, H = 3, 2, 2
    zero_state = [   # Shape(x)[0] -> [1, batch, H] zeros, as torch builds initial_h / initial_c
        helper.make_node('Shape', ['x'], ['sh']),
        helper.make_node('Gather', ['sh', 'i0'], ['nb'], axis=0),
        helper.make_node('Unsqueeze', ['nb', 'a0'], ['nb1']),
        helper.make_node('Concat', ['one', 'nb1', 'hs'], ['h0shape'], axis=0),
        helper.make_node('ConstantOfShape', ['h0shape'], ['h0'],
                         value=numpy_helper.from_array(np.zeros(1, np.float32))),
    ]
    plumbing = [numpy_helper.from_array(np.array(0, np.int64), 'i0'), ints('a0', [0]), ints('one', [1]),
                ints('hs', [H])]
    # LSTM, forward, layout 0: out[:, -1] and h[-1], summed
    save('lstm_torch', zero_state + [
        helper.make_node('Transpose', ['x'], ['xt'], perm=[1, 0, 2]),
        helper.make_node('LSTM', ['xt', 'W', 'R', 'B', '', 'h0', 'h0'], ['Y', 'Y_h', 'Y_c'], name='lstm',
                         hidden_size=H),
        helper.make_node('Squeeze', ['Y', 'a1'], ['ys']),
        helper.make_node('Transpose', ['ys'], ['yb'], perm=[1, 0, 2]),
        helper.make_node('Gather', ['yb', 'im1'], ['ylast'], axis=1),
        helper.make_node('Gather', ['Y_h', 'im1'], ['hlast'], axis=0),
        helper.make_node('Add', ['ylast', 'hlast'], ['s']),
        helper.make_node('Gemm', ['s', 'fw', 'fb'], ['y'], name='fc', transB=1),
    ], [io('x', ['batch', T, F])], [io('y', ['batch', 1])], plumbing + [
        w('W', [1, 4 * H, F]), w('R', [1, 4 * H, H]), w('B', [1, 8 * H]), ints('a1', [1]),
        numpy_helper.from_array(np.array(-1, np.int64), 'im1'), w('fw', [1, H]), w('fb', [1]),
    ], opset=14)
    # GRU, bidirectional, linear_before_reset, HardSigmoid gates, layout 1; both layers' final states
    # (Slice, Concat), the sequence reshaped (direction and unit merged) and flattened
    save('gru_bi_torch', zero_state + [
        helper.make_node('Concat', ['h0', 'h0'], ['h02'], axis=0),
        helper.make_node('Transpose', ['h02'], ['h0b'], perm=[1, 0, 2]),
        helper.make_node('GRU', ['x', 'W', 'R', 'B', '', 'h0b'], ['Y', 'Y_h'], name='gru', hidden_size=H,
                         direction='bidirectional', linear_before_reset=1, layout=1,
                         activations=['HardSigmoid', 'Tanh', 'Sigmoid', 'Relu'], activation_alpha=[0.25],
                         activation_beta=[0.5]),
        helper.make_node('Reshape', ['Y', 'shp'], ['ym']),
        helper.make_node('Slice', ['ym', 'st', 'en', 'ax', 'sp'], ['ysl']),
        helper.make_node('Flatten', ['ysl'], ['yf'], axis=1),
        helper.make_node('Transpose', ['Y_h'], ['yht'], perm=[1, 0, 2]),
        helper.make_node('Concat', ['yht', 'yht'], ['yh2'], axis=0),
        helper.make_node('Gather', ['yh2', 'i0'], ['yh0'], axis=0),
        helper.make_node('Flatten', ['yh0'], ['yhf'], axis=1),
        helper.make_node('Concat', ['yf', 'yhf'], ['c'], axis=1),
        helper.make_node('Gemm', ['c', 'fw', 'fb'], ['y'], name='fc', transB=1),
    ], [io('x', ['batch', T, F])], [io('y', ['batch', 1])], plumbing + [
        w('W', [2, 3 * H, F]), w('R', [2, 3 * H, H]), w('B', [2, 6 * H]), ints('shp', [0, 0, -1]),
        ints('st', [-1]), ints('en', [-4]), ints('ax', [1]), ints('sp', [-2]),
        w('fw', [1, 2 * 2 * H + H]), w('fb', [1]),
    ], opset=14)
    # Elu, PRelu (slopes broadcast), Softplus, Softsign at opset 28 (last: the seeds above keep their bytes)
    save('elu_prelu_soft', [
        helper.make_node('Gemm', ['x', 'ew', 'eb'], ['h'], name='fc'),
        helper.make_node('Elu', ['h'], ['e'], name='elu', alpha=0.7),
        helper.make_node('PRelu', ['e', 'slope'], ['p'], name='prelu'),
        helper.make_node('Softplus', ['p'], ['sp'], name='softplus'),
        helper.make_node('Softsign', ['sp'], ['y'], name='softsign'),
    ], [io('x', [1, 4])], [io('y', [1, 3])], [const('ew', [4, 3]), const('eb', [3]), const('slope', [3])], opset=28)
    # ThresholdedRelu (last: the seeds above keep their bytes)
    save('thresholded_relu', [
        helper.make_node('Gemm', ['x', 'tw', 'tb'], ['h'], name='fc'),
        helper.make_node('ThresholdedRelu', ['h'], ['y'], name='thr', alpha=0.3),
    ], [io('x', [1, 4])], [io('y', [1, 3])], [const('tw', [4, 3]), const('tb', [3])], opset=28)
    # Gather of a constant table by data indices: an Embedding (torch's nn.Embedding)
    save('embedding', [
        helper.make_node('Gather', ['table', 'idx'], ['e'], name='emb', axis=0),
        helper.make_node('Flatten', ['e'], ['y'], name='flat', axis=1),
    ], [helper.make_tensor_value_info('idx', TensorProto.INT64, [1, 4])], [io('y', [1, 12])], [const('table', [7, 3])])
    # Einsum: two tensors with an inplace axis (repeats, products, row sums); data and a constant (an EinsumDense)
    save('einsum', [
        helper.make_node('Einsum', ['a', 'b'], ['p'], name='ein', equation='bhij,bhkj->bhik'),
        helper.make_node('Einsum', ['p', 'ew'], ['y'], name='ein_w', equation='bhik,kho->boi'),
    ], [io('a', [1, 2, 3, 4]), io('b', [1, 2, 5, 4])], [io('y', [1, 6, 3])], [const('ew', [5, 2, 6])])




def conv_transpose_seeds():
    """ConvTranspose: strides, pads, output_padding; then group 2, dilations and pads beyond the window (a
    crop).  Weights from their own generator, so that the seeds above stay as they were."""
    rng = np.random.default_rng(20261207)
    w = lambda name, shape: numpy_helper.from_array((rng.standard_normal(shape) * 0.5).astype(np.float32), name)
    save('conv_transpose', [
        helper.make_node('ConvTranspose', ['x', 'w1', 'b1'], ['h'], name='up1', strides=[2, 2], pads=[1, 0, 1, 1],
                         output_padding=[1, 0]),
        helper.make_node('Relu', ['h'], ['r']),
        helper.make_node('ConvTranspose', ['r', 'w2'], ['y'], name='up2', group=2, dilations=[2, 1], strides=[1, 2],
                         pads=[5, 1, 0, 3], kernel_shape=[3, 2]),
    ], [io('x', [1, 2, 3, 3])], [io('y', [1, 2, 5, 8])], [w('w1', [2, 4, 3, 3]), w('b1', [4]), w('w2', [4, 1, 3, 2])])


if __name__ == '__main__':
    main()
