#!/usr/bin/env python3
"""Compare tests/ref/hls4ml_semantics.py (our integer model) with hls4ml's
C simulation, bit for bit.

    python tests/ref/check_hls4ml_semantics.py [--quick] [--workdir DIR]

Cases:
  * the shared ONNX models (three_layer_keras: Dense/ReLU/softmax,
    two_layer_keras: Dense/ReLU/sigmoid, and their PyTorch Gemm twins) and
    the helper-built ones in tests/ref/models (gemm_tanh, matmul_tanh) at
    fixed<16,6> and fixed<8,3> on 10,000 inputs (5,000 uniform in [-4,4],
    5,000 normal with sigma 2);
  * sigmoid / tanh alone on every code of the input type (exhaustive);
  * softmax alone on random vectors, including ones spread over the whole
    input range (where x_max - x_i wraps in the normalised type);
  * a few non-default configurations (per-variable precision dict,
    rounding/saturating types, other table types and sizes).
Prints one line per case with the number of mismatching samples and
values; exits 1 if any value differs.
"""

import argparse
import os
import sys
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hls4ml_predict import hls4ml_predict  # noqa: E402
from hls4ml_semantics import SemanticModel, parse_type  # noqa: E402

SHARED = os.path.join(HERE, '..', '..', '..', 'shared', 'models', 'onnx')
if not os.path.isdir(SHARED):
    SHARED = '/work/shared/models/onnx'
LOCAL = os.path.join(HERE, 'models')
RESULTS = []


def model_path(name):
    for d in (LOCAL, SHARED):
        p = os.path.join(d, name + '.onnx')
        if os.path.exists(p):
            return p
    return None


def n_inputs(path):
    import onnx

    m = onnx.load(path)
    inits = {t.name for t in m.graph.initializer}
    inp = [i for i in m.graph.input if i.name not in inits][0]
    return int(np.prod([d.dim_value for d in inp.type.tensor_type.shape.dim[1:]]))


def random_inputs(n_in, n, seed):
    rng = np.random.default_rng(seed)
    h = n // 2
    return np.concatenate([rng.uniform(-4, 4, (h, n_in)), rng.normal(0, 2, (n - h, n_in))])


def all_codes(t, width):
    t = parse_type(t)
    codes = np.arange(t.lo, t.hi + 1, dtype=np.int64)
    pad = (-len(codes)) % width
    codes = np.concatenate([codes, np.zeros(pad, dtype=np.int64)])
    return np.ldexp(codes.astype(np.float64), -t.F).reshape(-1, width)


def run_case(label, path, precision, x, tables=None, workdir=None):
    t0 = time.time()
    h = hls4ml_predict(path, precision, x, tables=tables, workdir=workdir)
    s = SemanticModel(path, precision, tables).predict(x)
    bad = h != s
    rows, vals = int(bad.any(axis=1).sum()), int(bad.sum())
    prec = precision if isinstance(precision, str) else 'dict'
    extra = f' tables={tables}' if tables else ''
    print(f'{label:<34} {prec:<22} samples={x.shape[0]:>6} mismatched samples={rows:>5} values={vals:>6} '
          f'({time.time() - t0:.1f}s){extra}', flush=True)
    RESULTS.append(vals)
    if vals:
        i = int(np.argmax(bad.any(axis=1)))
        print(f'    first bad sample {i}: hls4ml={h[i]} ours={s[i]}')
    return vals


def sensitivity(n, workdir):
    """Re-run some cases with one rule of the model changed on purpose; each
    variant must produce mismatches, otherwise the check could not see it."""
    import hls4ml_semantics as S

    cases = [('three_layer_keras', 'fixed<16,6>'), ('three_layer_keras', 'fixed<8,3>'),
             ('two_layer_keras', 'fixed<16,6>'), ('dense_big_keras', 'fixed<8,3>'),
             ('matmul_tanh', {'weight': 'fixed<6,4>', 'bias': 'fixed<6,4>', 'result': 'fixed<12,4>',
                              'accum': 'fixed<16,6>'}),
             ('sigmoid_only', 'fixed<16,6>'), ('tanh_only', 'fixed<16,6>'), ('softmax_only', 'fixed<16,6>')]

    def count():
        out = []
        for name, prec in cases:
            p = model_path(name)
            if name.endswith('_only'):
                x = all_codes(prec, 256) if name != 'softmax_only' else \
                    np.ldexp(np.random.default_rng(3).integers(-2**15, 2**15, (n, 5)).astype(float), -10)
            else:
                x = random_inputs(n_inputs(p), n, seed=5)
            out.append(int((hls4ml_predict(p, prec, x, workdir=workdir) != SemanticModel(p, prec).predict(x)).sum()))
        return out

    def floor_div(num, den):
        return np.asarray(num) // den

    def direct_weights(w, t):
        return S.double_to_codes(np.asarray(w, dtype=np.float64), t)

    plan0 = S.softmax_plan

    def saturating_diff(*a, **k):
        p = plan0(*a, **k)
        p['inp_norm_t'] = S.FixedType(p['inp_norm_t'].W, p['inp_norm_t'].I, False, 'TRN', 'SAT')
        return p

    tabs0 = S.table_settings

    def fixed_softmax_accum(types, tables=None):
        d = tabs0(types, tables)
        d['softmax_accum_t'] = S.parse_type('fixed<18,8,RND,SAT>')
        return d

    variants = [('table index floored, not truncated', '_trunc_div', floor_div),
                ('weights quantized from the float', 'weight_literal_codes', direct_weights),
                ('softmax x_max-x saturates', 'softmax_plan', saturating_diff),
                ('softmax accum fixed<18,8,RND,SAT>', 'table_settings', fixed_softmax_accum)]
    print('== sensitivity (mismatches per case:', ', '.join(f'{c}/{p if isinstance(p, str) else "dict"}'
                                                              for c, p in cases), ') ==')
    print(f'{"as implemented":<40} {count()}')
    for label, attr, fn in variants:
        orig = getattr(S, attr)
        setattr(S, attr, fn)
        try:
            print(f'{label:<40} {count()}')
        finally:
            setattr(S, attr, orig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true', help='1,000 inputs per model instead of 10,000')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--sensitivity', action='store_true',
                    help='also show that deliberately wrong variants of the model are caught')
    a = ap.parse_args()
    n = 1000 if a.quick else 10000
    total = 0

    print('== models, 10,000 random inputs each ==' if not a.quick else '== models (quick) ==')
    models = ['three_layer_keras', 'two_layer_keras', 'three_layer_pytorch', 'two_layer_pytorch',
              'dense_big_keras', 'gemm_tanh', 'matmul_tanh']
    for name in models:
        p = model_path(name)
        if p is None:
            print(f'{name}: not found, skipped')
            continue
        x = random_inputs(n_inputs(p), n, seed=zlib.crc32(name.encode()) % 1000)
        for prec in ('fixed<16,6>', 'fixed<8,3>'):
            total += run_case(name, p, prec, x, workdir=a.workdir)

    print('== activations alone, every input code ==')
    for name in ('sigmoid_only', 'tanh_only'):
        p = model_path(name)
        for prec in ('fixed<16,6>', 'fixed<8,3>', 'fixed<12,4,RND,SAT>', 'ufixed<10,3>', 'fixed<6,6>', 'fixed<20,10>'):
            total += run_case(name, p, prec, all_codes(prec, 256), workdir=a.workdir)
        total += run_case(name, p, 'fixed<16,6>', all_codes('fixed<16,6>', 256),
                          tables={'table_t': 'fixed<12,2,RND,SAT>', 'table_size': 512}, workdir=a.workdir)
        total += run_case(name, p, 'fixed<10,5>', all_codes('fixed<10,5>', 256),
                          tables={'table_t': 'fixed<24,4>', 'table_size': 1000}, workdir=a.workdir)

    print('== softmax alone ==')
    rng = np.random.default_rng(7)
    for name, width in (('softmax_only', 5), ('softmax16_only', 16)):
        p = model_path(name)
        for prec in ('fixed<16,6>', 'fixed<8,3>', 'fixed<12,5,RND,SAT>', 'ufixed<8,3>'):
            t = parse_type(prec)
            full = np.ldexp(rng.integers(t.lo, t.hi + 1, (n, width)).astype(np.float64), -t.F)
            total += run_case(name + ' [-4,4]', p, prec, random_inputs(width, n, 11), workdir=a.workdir)
            total += run_case(name + ' full range', p, prec, full, workdir=a.workdir)
        total += run_case(name, p, 'fixed<16,6>', random_inputs(width, n, 12),
                          tables={'exp_table_t': 'fixed<16,4,RND,SAT>', 'inv_table_t': 'fixed<16,8,RND_CONV,SAT>',
                                  'softmax_accum_t': 'fixed<18,8,RND,SAT>', 'table_size': 512}, workdir=a.workdir)

    print('== other configurations ==')
    mixed = {'weight': 'fixed<8,2,RND>', 'bias': 'fixed<12,4>', 'result': 'fixed<10,4,RND,SAT>',
             'accum': 'fixed<14,6,RND_CONV,SAT>'}
    for name in ('three_layer_keras', 'two_layer_keras', 'gemm_tanh'):
        p = model_path(name)
        x = random_inputs(n_inputs(p), n, seed=3)
        total += run_case(name, p, mixed, x, workdir=a.workdir)
        total += run_case(name, p, 'fixed<18,8,RND_INF,SAT_SYM>', x, workdir=a.workdir)
    # coarse weight types, where the printed-literal rule decides many weights
    p = model_path('matmul_tanh')
    x = random_inputs(n_inputs(p), n, seed=4)
    for wt in ('fixed<4,4>', 'fixed<6,4>', 'fixed<5,1,RND_CONV>'):
        d = {'weight': wt, 'bias': wt, 'result': 'fixed<12,4>', 'accum': 'fixed<16,6>'}
        total += run_case(f'matmul_tanh w={wt}', p, d, x, workdir=a.workdir)

    if a.sensitivity:
        sensitivity(n, a.workdir)

    print(f'TOTAL mismatching values: {sum(RESULTS)}')
    failed = sum(1 for v in RESULTS if v)
    print(f'{len(RESULTS) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
