#!/usr/bin/env python3
"""Reference outputs from hls4ml's C simulation for an ONNX model.

    python tests/ref/hls4ml_predict.py MODEL.onnx --precision 'fixed<16,6>' \
        --input X.npy --output Y.npy [--tables JSON] [--workdir DIR] [--show-layers]

or from Python:

    from hls4ml_predict import hls4ml_predict
    y = hls4ml_predict('model.onnx', 'fixed<16,6>', x)

The model is converted with hls4ml (Vivado backend, io_parallel, latency
strategy, reuse factor 1), compiled with hls_model.compile() and run with
hls_model.predict() on float64 inputs, so the outputs are the exact
fixed-point values. `precision` is one type string used for everything
(model default, and every layer's weight, bias, result and accumulator,
including the input layer and softmax's accumulator) or a dict with keys
weight, bias, result, accum. Table types and sizes stay at hls4ml's
defaults unless `tables` overrides them; keys: table_t, table_size,
exp_table_t, inv_table_t, inv_inp_t, softmax_accum_t.

ONNX Gemm nodes are rewritten to MatMul + Add first (hls4ml 1.3 reads only
the MatMul form); pass gemm_rewrite=False to feed the model unchanged.

Compiled projects are cached under workdir (default <repo>/build/hls4ml_cache)
by a hash of the model bytes and the configuration; a cache hit loads the
compiled library directly and does not import hls4ml at all.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import glob
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hls4ml_semantics import gemm_to_matmul_add, precision_types, table_settings  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DEFAULT_WORKDIR = os.path.join(REPO_ROOT, 'build', 'hls4ml_cache')
CACHE_FORMAT = 3   # bump when the way projects are configured changes

_loaded_libs = {}


def _config_key(model_bytes, types, tabs, gemm_rewrite):
    blob = json.dumps(
        {
            'format': CACHE_FORMAT,
            'hls4ml': importlib.metadata.version('hls4ml'),
            'model': hashlib.sha256(model_bytes).hexdigest(),
            'types': {k: str(v) for k, v in sorted(types.items())},
            'tables': {k: str(v) for k, v in sorted(tabs.items())},
            'gemm_rewrite': bool(gemm_rewrite),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _hls_config(model, types, tabs):
    import hls4ml

    R = types['result'].hls4ml_str()
    cfg = hls4ml.utils.config_from_onnx_model(model, granularity='name', default_precision=R, backend='Vivado')
    return apply_types(cfg, types, tabs)


def apply_types(cfg, types, tabs):
    """Set every layer of an hls4ml name-granularity config to the
    requested types (shared by the ONNX and Keras references)."""
    R = types['result'].hls4ml_str()
    cfg['Model']['Strategy'] = 'Latency'
    cfg['Model']['ReuseFactor'] = 1
    cfg['Model']['Precision'] = {'default': R}
    for lc in cfg.get('LayerName', {}).values():
        p = lc.setdefault('Precision', {})
        p['result'] = R
        # Table types must be given as '<name>_t' keys of the layer config:
        # hls4ml 1.3 ignores Precision: {table: ...} for activations.
        if 'exp_table' in p or 'inv_table' in p:          # Softmax
            p['accum'] = tabs['softmax_accum_t'].hls4ml_str()
            for k in ('exp_table', 'inv_table', 'inv_inp', 'table'):
                p.pop(k, None)
                lc[k + '_t'] = tabs[k + '_t'].hls4ml_str()
            lc['TableSize'] = tabs['table_size']
            lc['Implementation'] = 'stable'
        elif 'table' in p:                                 # table-based activation
            p.pop('table')
            lc['table_t'] = tabs['table_t'].hls4ml_str()
            lc['TableSize'] = tabs['table_size']
        else:                                              # MatMul/Dense, Add (bias), constants, input
            p['weight'] = types['weight'].hls4ml_str()
            p['bias'] = types['bias'].hls4ml_str()
            p['accum'] = types['accum'].hls4ml_str()
        for k, v in list(p.items()):
            if v == 'auto':
                p[k] = R
    return cfg


def _describe_and_verify(hm, types, tabs):
    """List the layers hls4ml built, with their types; fail loudly if a
    type is not the one we asked for."""
    want_all = {'result_t': types['result'].hls4ml_str()}
    want = {
        'Dense': {'weight_t': types['weight'], 'bias_t': types['bias'], 'accum_t': types['accum']},
        'ApplyAlpha': {'bias_t': types['bias']},
        'Activation': {'table_t': tabs['table_t']},
        'Softmax': {
            'accum_t': tabs['softmax_accum_t'],
            'exp_table_t': tabs['exp_table_t'],
            'inv_table_t': tabs['inv_table_t'],
            'inv_inp_t': tabs['inv_inp_t'],
        },
    }
    layers, problems = [], []
    for layer in hm.get_layers():
        cls = layer.class_name
        tys = {k: str(v.precision) for k, v in layer.types.items()}
        info = {'name': layer.name, 'class': cls, 'types': tys}
        for a in ('activation', 'table_size', 'implementation', 'n_in', 'n_out'):
            if layer.get_attr(a) is not None:
                info[a] = str(layer.get_attr(a))
        layers.append(info)
        exp = dict(want_all)
        exp.update({k: v.hls4ml_str() for k, v in want.get(cls, {}).items()})
        if cls == 'Activation' and str(layer.get_attr('activation')).lower() in ('relu', 'linear'):
            exp.pop('table_t', None)
        for k, v in exp.items():
            if k in tys and tys[k] != v:
                problems.append(f'{layer.name} ({cls}) {k} = {tys[k]}, wanted {v}')
            if k not in tys and k != 'result_t':
                problems.append(f'{layer.name} ({cls}) has no {k}')
    if problems:
        raise RuntimeError('hls4ml did not take the requested types:\n  ' + '\n  '.join(problems))
    return layers


def _softmax_params(prj):
    """Table sizes as written into parameters.h (after hls4ml's passes)."""
    path = os.path.join(prj, 'firmware', 'parameters.h')
    out = {}
    if os.path.exists(path):
        txt = open(path).read()
        for m in re.finditer(r'struct (softmax_config\d+)[^{]*\{(.*?)\n\};', txt, re.S):
            body = m.group(2)
            d = {}
            for key in ('exp_table_size', 'inv_table_size', 'n_slice'):
                mm = re.search(key + r'\s*=\s*(\d+)', body)
                if mm:
                    d[key] = int(mm.group(1))
            mm = re.search(r'typedef (.*?) inp_norm_t;', body)
            if mm:
                d['inp_norm_t'] = mm.group(1)
            out[m.group(1)] = d
    return out


def _sanitize_names(g):
    """Give tensors C-friendly names (PyTorch exports use '0', '1', ...,
    which hls4ml renames inconsistently)."""
    names = set()
    for n in g.node:
        names.update(n.input)
        names.update(n.output)
    names.update(v.name for v in list(g.input) + list(g.output) + list(g.value_info))
    names.update(t.name for t in g.initializer)
    names.discard('')
    mapping, taken = {}, set(names)
    for nm in sorted(names):
        if re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', nm):
            continue
        base = 't_' + re.sub(r'[^A-Za-z0-9_]', '_', nm)
        new, k = base, 0
        while new in taken:
            k += 1
            new = f'{base}_{k}'
        taken.add(new)
        mapping[nm] = new
    if not mapping:
        return
    for n in g.node:
        for i, v in enumerate(n.input):
            n.input[i] = mapping.get(v, v)
        for i, v in enumerate(n.output):
            n.output[i] = mapping.get(v, v)
    for v in list(g.input) + list(g.output) + list(g.value_info):
        v.name = mapping.get(v.name, v.name)
    for t in g.initializer:
        t.name = mapping.get(t.name, t.name)


def prepare_onnx(model, gemm_rewrite=True):
    """Put a plain ONNX model into the form hls4ml 1.3's reader needs:
    Gemm as MatMul + Add (optional), every node named, every tensor's shape known (shape
    inference fills value_info), and a shape entry for every initializer
    (the reader looks shapes up in value_info / outputs / inputs only)."""
    import onnx
    from onnx import helper

    if gemm_rewrite:
        model = gemm_to_matmul_add(model)
    else:
        model = onnx.ModelProto.FromString(model.SerializeToString())
    _sanitize_names(model.graph)
    model = onnx.shape_inference.infer_shapes(model)
    g = model.graph
    for k, node in enumerate(g.node):          # the reader needs node names
        if not node.name:
            node.name = f'{node.op_type.lower()}_{k}'
    known = {v.name for v in g.value_info} | {v.name for v in g.input} | {v.name for v in g.output}
    for t in g.initializer:
        if t.name not in known:
            g.value_info.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    return model


def _build(model_path, prj, types, tabs, gemm_rewrite, log):
    import onnx

    model = prepare_onnx(onnx.load(model_path), gemm_rewrite)
    with contextlib.redirect_stdout(log):
        import hls4ml

        cfg = _hls_config(model, types, tabs)
        hm = hls4ml.converters.convert_from_onnx_model(
            model, output_dir=prj, project_name='myproject', io_type='io_parallel', backend='Vivado', hls_config=cfg
        )
        layers = _describe_and_verify(hm, types, tabs)
        hm.compile()
    libs = sorted(glob.glob(os.path.join(prj, 'firmware', 'myproject-*.so')), key=os.path.getmtime)
    if not libs:
        raise RuntimeError(f'hls4ml compile produced no library in {prj}')
    ins, outs = hm.get_input_variables(), hm.get_output_variables()
    if len(ins) != 1 or len(outs) != 1:
        raise RuntimeError('only single-input, single-output models are supported')
    meta = {
        'project': os.path.abspath(prj),
        'lib': os.path.abspath(libs[-1]),
        'n_in': int(ins[0].size()),
        'n_out': int(outs[0].size()),
        'input_type': str(ins[0].type.precision),
        'output_type': str(outs[0].type.precision),
        'layers': layers,
        'softmax': _softmax_params(prj),
        'types': {k: str(v) for k, v in types.items()},
        'tables': {k: str(v) for k, v in tabs.items()},
        'hls4ml_version': hls4ml.__version__,
        'model': os.path.abspath(model_path),
    }
    return hm, meta


def _run_lib(meta, x):
    lib = _loaded_libs.get(meta['lib'])
    if lib is None:
        lib = ctypes.CDLL(meta['lib'])
        fn = lib.myproject_double
        ptr = np.ctypeslib.ndpointer(ctypes.c_double, flags='C_CONTIGUOUS')
        fn.argtypes = [ptr, ptr]
        fn.restype = None
        _loaded_libs[meta['lib']] = lib
    fn = lib.myproject_double
    y = np.zeros((x.shape[0], meta['n_out']), dtype=np.float64)
    for i in range(x.shape[0]):
        row = np.ascontiguousarray(x[i])
        out = np.zeros(meta['n_out'], dtype=np.float64)
        fn(row, out)
        y[i] = out
    return y


def _prepare_x(x, n_in=None):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    x = np.ascontiguousarray(x.reshape(x.shape[0], -1))
    if n_in is not None and x.shape[1] != n_in:
        raise ValueError(f'input has {x.shape[1]} features per sample, the model expects {n_in}')
    return x


def hls4ml_project(model_path, precision, tables=None, workdir=None, gemm_rewrite=True, verbose=False):
    """Build (or find in the cache) the compiled hls4ml project; returns its
    metadata dict (library path, sizes, the layers hls4ml created with their
    types, softmax table sizes)."""
    meta, _ = _project(model_path, precision, tables, workdir, gemm_rewrite, verbose, None)
    return meta


def _project(model_path, precision, tables, workdir, gemm_rewrite, verbose, x):
    types = precision_types(precision)
    tabs = table_settings(types, tables)
    with open(model_path, 'rb') as f:
        model_bytes = f.read()
    key = _config_key(model_bytes, types, tabs, gemm_rewrite)
    workdir = os.path.abspath(workdir or DEFAULT_WORKDIR)
    os.makedirs(workdir, exist_ok=True)
    prj = os.path.join(workdir, key)
    meta_path = os.path.join(prj, 'etchnn_meta.json')
    with open(os.path.join(workdir, key + '.lock'), 'w') as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        meta = None
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                meta = json.load(f)
            if meta.get('project') != prj or not os.path.exists(meta.get('lib', '')):
                meta = None
        y = None
        if meta is None:
            import shutil

            shutil.rmtree(prj, ignore_errors=True)
            os.makedirs(prj)
            t0 = time.time()
            with open(os.path.join(prj, 'etchnn_build.log'), 'w') as log:
                hm, meta = _build(model_path, prj, types, tabs, gemm_rewrite, log)
            if x is not None:
                xx = _prepare_x(x, meta['n_in'])
                y = np.asarray(hm.predict(xx), dtype=np.float64).reshape(xx.shape[0], meta['n_out'])
                # the cache-hit path must give the same numbers as predict()
                k = min(len(xx), 64)
                if not np.array_equal(_run_lib(meta, xx[:k]), y[:k]):
                    raise RuntimeError('direct library call disagrees with hls_model.predict()')
            with open(meta_path + '.tmp', 'w') as f:
                json.dump(meta, f, indent=1)
            os.replace(meta_path + '.tmp', meta_path)
            if verbose:
                print(f'[hls4ml_predict] built {prj} in {time.time() - t0:.1f}s', file=sys.stderr)
        elif verbose:
            print(f'[hls4ml_predict] cache hit {prj}', file=sys.stderr)
    return meta, y


def hls4ml_predict(model_path, precision, x, tables=None, workdir=None, gemm_rewrite=True, verbose=False):
    """hls4ml csim outputs (float64, shape (N, n_out)) for inputs x (N, n_in)."""
    meta, y = _project(model_path, precision, tables, workdir, gemm_rewrite, verbose, x)
    if y is None:
        y = _run_lib(meta, _prepare_x(x, meta['n_in']))
    return y


def _parse_precision(s):
    s = s.strip()
    return json.loads(s) if s.startswith('{') else s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('model', help='ONNX model')
    ap.add_argument('--precision', required=True, help="type string, or JSON {weight,bias,result,accum}")
    ap.add_argument('--input', help='.npy input, shape (N, n_in) or (n_in,)')
    ap.add_argument('--output', help='.npy to write, float64 (N, n_out)')
    ap.add_argument('--tables', help='JSON: table_t, table_size, exp_table_t, inv_table_t, inv_inp_t, softmax_accum_t')
    ap.add_argument('--workdir', default=None, help=f'cache folder (default {DEFAULT_WORKDIR})')
    ap.add_argument('--no-gemm-rewrite', action='store_true', help='do not turn Gemm into MatMul+Add')
    ap.add_argument('--show-layers', action='store_true', help='print the layers hls4ml created and their types')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args(argv)
    prec = _parse_precision(a.precision)
    tables = json.loads(a.tables) if a.tables else None
    if a.input:
        if not a.output:
            ap.error('--output is required with --input')
        y = hls4ml_predict(a.model, prec, np.load(a.input), tables, a.workdir, not a.no_gemm_rewrite, a.verbose)
        np.save(a.output, y)
    meta = hls4ml_project(a.model, prec, tables, a.workdir, not a.no_gemm_rewrite, a.verbose)
    if a.show_layers or not a.input:
        for L in meta['layers']:
            extra = ' '.join(f'{k}={L[k]}' for k in ('activation', 'table_size', 'implementation') if k in L)
            tys = ', '.join(f'{k}={v}' for k, v in L['types'].items())
            print(f"{L['name']:<45} {L['class']:<11} {extra}\n    {tys}")
        for name, d in meta['softmax'].items():
            print(f'{name}: {d}')
        print(f"library: {meta['lib']}")


if __name__ == '__main__':
    main()
