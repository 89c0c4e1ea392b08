"""An independent integer model of a recurrent layer as hls4ml 1.3's
Vivado cells compute it (io_parallel, latency; tests/ref/NOTES.md,
"Recurrent layers"), for the cases hls4ml itself gets wrong: SimpleRNN
(no Vivado implementation) and GRU with reset_after=False (computed as
reset_after=True).  Those follow the same rules: products with the input
in accum (weight, bias), products with the state in accum (recurrent_weight,
recurrent_bias), their sum in accum, gate activations from accum to accum,
state updates summed exactly and cast once to the result type.

    rnn_layer(kind, x_codes, x_t, kernel, recurrent_kernel, bias, types, ...)

Built on hls4ml_semantics.py (casts, weight literals, sigmoid/tanh tables).
"""

from __future__ import annotations

import numpy as np

from hls4ml_semantics import (FixedType, cast_codes, dense_latency, parse_type, sigmoid, sigmoid_table, tanh,
                              tanh_table, weight_literal_codes)


def _mul(a, fa, b, fb):
    """Exact elementwise product of codes: (codes, fractional bits)."""
    return np.asarray(a, dtype=object) * np.asarray(b, dtype=object), fa + fb


def _add(a, fa, b, fb):
    """Exact sum of codes at the finer LSB."""
    f = max(fa, fb)
    a = np.asarray(a, dtype=object) * (1 << (f - fa))
    b = np.asarray(b, dtype=object) * (1 << (f - fb))
    return a + b, f


def _cast(v, f, t):
    return np.asarray(cast_codes(np.asarray(v, dtype=object), f, t), dtype=np.int64)


def rnn_layer(kind, x, x_t, W, R, b, types, table_size=1024, br=None, reset_after=True, return_sequences=False,
              act='tanh', ract='sigmoid'):
    """kind: 'SimpleRNN', 'LSTM' or 'GRU'.  x: (N, T, F) input codes of type x_t; W [F, G*U], R [U, G*U],
    b [G*U] (or None), br [G*U] (GRU reset_after: the recurrent bias) as floats from the model (Keras gate
    order).  types: {weight, recurrent_weight, bias, recurrent_bias, accum, result, table} type strings.
    Returns codes in the result type: (N, U) or (N, T, U)."""
    t = {k: parse_type(v) if not isinstance(v, FixedType) else v for k, v in types.items()}
    acc, res = t['accum'], t['result']
    gates = {'SimpleRNN': 1, 'LSTM': 4, 'GRU': 3}[kind]
    U = R.shape[0]
    G = gates * U
    Wc = weight_literal_codes(W, t['weight'])
    Rc = weight_literal_codes(R, t['recurrent_weight'])
    bc = weight_literal_codes(np.zeros(G) if b is None else b, t['bias'])
    brc = weight_literal_codes(np.zeros(G) if br is None else br, t['recurrent_bias'])
    tabs = {'sigmoid': sigmoid_table(table_size, t['table']), 'tanh': tanh_table(table_size, t['table'])}

    def activation(name, v, v_t, out_t):
        if name == 'sigmoid':
            return sigmoid(v, v_t, out_t, t['table'], table_size, tabs['sigmoid'])
        if name == 'tanh':
            return tanh(v, v_t, out_t, t['table'], table_size, tabs['tanh'])
        if name == 'linear':
            return _cast(v, v_t.F, out_t)
        raise ValueError(name)

    N, T, _ = x.shape
    h = np.zeros((N, U), dtype=np.int64)       # result type
    c = np.zeros((N, U), dtype=np.int64)       # LSTM cell state, result type
    outs = []
    for step in range(T):
        tx = dense_latency(x[:, step, :], x_t, Wc, t['weight'], bc, t['bias'], acc, acc)
        if kind == 'GRU' and not reset_after:
            # Keras' reset_after=False: the reset gate multiplies the state before its product
            th = dense_latency(h, res, Rc[:, :2 * U], t['recurrent_weight'], brc[:2 * U], t['recurrent_bias'], acc,
                               acc)
        else:
            th = dense_latency(h, res, Rc, t['recurrent_weight'], brc, t['recurrent_bias'], acc, acc)
        if kind == 'SimpleRNN':
            pre = _cast(tx + th, acc.F, acc)
            h = activation(act, pre, acc, res)
        elif kind == 'LSTM':
            pre = _cast(tx + th, acc.F, acc)
            i = activation(ract, pre[:, :U], acc, acc)
            f = activation(ract, pre[:, U:2 * U], acc, acc)
            g = activation(act, pre[:, 2 * U:3 * U], acc, acc)
            o = activation(ract, pre[:, 3 * U:], acc, acc)
            ig, fig = _mul(g, acc.F, i, acc.F)
            fc, ffc = _mul(c, res.F, f, acc.F)
            c = _cast(*_add(ig, fig, fc, ffc), res)
            ca = activation(act, c, res, acc)
            h = _cast(*_mul(o, acc.F, ca, acc.F), res)
        else:
            zr = activation(ract, _cast(tx[:, :2 * U] + th[:, :2 * U], acc.F, acc), acc, acc)
            z, r = zr[:, :U], zr[:, U:]
            if reset_after:
                gated = _cast(*_mul(r, acc.F, th[:, 2 * U:], acc.F), acc)
            else:
                rh = _cast(*_mul(r, acc.F, h, res.F), acc)
                gated = dense_latency(rh, acc, Rc[:, 2 * U:], t['recurrent_weight'], np.zeros(U, dtype=np.int64),
                                      t['recurrent_bias'], acc, acc)
            n = activation(act, _cast(tx[:, 2 * U:] + gated, acc.F, acc), acc, acc)
            one_minus_z = (1 << acc.F) - np.asarray(z, dtype=object)
            a, fa = _mul(n, acc.F, one_minus_z, acc.F)
            bb, fb = _mul(h, res.F, z, acc.F)
            h = _cast(*_add(a, fa, bb, fb), res)
        outs.append(h)
    return np.stack(outs, axis=1) if return_sequences else h
