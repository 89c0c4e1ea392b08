#!/usr/bin/env python3
"""Build the small ONNX models in tests/ref/models/ with onnx.helper.

    python tests/ref/make_models.py        # (re)writes tests/ref/models/*.onnx

Weights come from a seeded generator, so the files are reproducible.

  gemm_tanh.onnx     x[1,10] -> Gemm(10->16, transB) -> Tanh -> Gemm(16->4) -> Tanh
  matmul_tanh.onnx   x[1,10] -> MatMul+Add(10->16) -> Tanh -> MatMul+Add(16->4) -> Sigmoid
  sigmoid_only.onnx  x[1,256] -> Sigmoid           (exhaustive table checks)
  tanh_only.onnx     x[1,256] -> Tanh
  softmax_only.onnx  x[1,5] -> Softmax(axis=1)
  softmax16_only.onnx x[1,16] -> Softmax(axis=-1)
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'models')


def _io(name, n):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, n])


def _save(graph, name):
    model = helper.make_model(graph, producer_name='etchnn-tests-ref', opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(model, os.path.join(OUT, name))


def _rand(rng, shape, scale):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def gemm_tanh():
    rng = np.random.default_rng(1234)
    w1 = _rand(rng, (16, 10), 0.5)       # transB layout (out, in)
    b1 = _rand(rng, (16,), 0.3)
    w2 = _rand(rng, (4, 16), 0.5)
    b2 = _rand(rng, (4,), 0.3)
    nodes = [
        helper.make_node('Gemm', ['x', 'w1', 'b1'], ['h1'], name='fc1', transB=1),
        helper.make_node('Tanh', ['h1'], ['a1'], name='tanh1'),
        helper.make_node('Gemm', ['a1', 'w2', 'b2'], ['h2'], name='fc2', transB=1),
        helper.make_node('Tanh', ['h2'], ['y'], name='tanh2'),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, 'w1'), (b1, 'b1'), (w2, 'w2'), (b2, 'b2'))]
    _save(helper.make_graph(nodes, 'gemm_tanh', [_io('x', 10)], [_io('y', 4)], inits), 'gemm_tanh.onnx')


def matmul_tanh():
    rng = np.random.default_rng(4321)
    w1 = _rand(rng, (10, 16), 0.5)
    b1 = _rand(rng, (16,), 0.3)
    w2 = _rand(rng, (16, 4), 0.5)
    b2 = _rand(rng, (4,), 0.3)
    nodes = [
        helper.make_node('MatMul', ['x', 'w1'], ['m1'], name='mm1'),
        helper.make_node('Add', ['m1', 'b1'], ['h1'], name='add1'),
        helper.make_node('Tanh', ['h1'], ['a1'], name='tanh1'),
        helper.make_node('MatMul', ['a1', 'w2'], ['m2'], name='mm2'),
        helper.make_node('Add', ['m2', 'b2'], ['h2'], name='add2'),
        helper.make_node('Sigmoid', ['h2'], ['y'], name='sig2'),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, 'w1'), (b1, 'b1'), (w2, 'w2'), (b2, 'b2'))]
    _save(helper.make_graph(nodes, 'matmul_tanh', [_io('x', 10)], [_io('y', 4)], inits), 'matmul_tanh.onnx')


def single(op, n, name, **attrs):
    nodes = [helper.make_node(op, ['x'], ['y'], name=op.lower(), **attrs)]
    _save(helper.make_graph(nodes, name, [_io('x', n)], [_io('y', n)]), name + '.onnx')


def main():
    gemm_tanh()
    matmul_tanh()
    single('Sigmoid', 256, 'sigmoid_only')
    single('Tanh', 256, 'tanh_only')
    single('Softmax', 5, 'softmax_only', axis=1)
    single('Softmax', 16, 'softmax16_only', axis=-1)
    print('wrote', sorted(os.listdir(OUT)))


if __name__ == '__main__':
    main()
