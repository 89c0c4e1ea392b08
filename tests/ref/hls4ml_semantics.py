"""Integer-level model of what hls4ml 1.3 (Vivado backend, io_parallel,
latency strategy) computes in its C simulation.

Written from scratch for etchnn; see tests/ref/NOTES.md for the rules it
encodes. Everything here works on integer codes: a value of a type
fixed<W,I> is held as the integer m with value m * 2**-(W-I).

Public pieces:
  FixedType, parse_type          type strings such as 'fixed<16,6>',
                                 'ap_fixed<8,3,AP_RND,AP_SAT>', 'ufixed<8,0>'
  cast_codes                     any cast (quantization then overflow)
  double_to_codes                C double -> fixed (the input cast)
  weight_literal_codes           float weights -> printed literal -> fixed
  sigmoid_table, tanh_table,
  softmax_exp_table, softmax_inv_table
  dense_latency, bias_add, relu, sigmoid, tanh, softmax_stable
  softmax_plan                   table sizes / types hls4ml derives
  SemanticModel                  evaluate an ONNX MLP the way hls4ml does

Run `python tests/ref/check_hls4ml_semantics.py` to compare against hls4ml.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import re
from dataclasses import dataclass

import numpy as np

QUANT_MODES = ('TRN', 'TRN_ZERO', 'RND', 'RND_ZERO', 'RND_MIN_INF', 'RND_INF', 'RND_CONV')
OVF_MODES = ('WRAP', 'SAT', 'SAT_ZERO', 'SAT_SYM')

# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedType:
    W: int
    I: int
    signed: bool = True
    q: str = 'TRN'
    o: str = 'WRAP'

    @property
    def F(self) -> int:
        return self.W - self.I

    @property
    def lo(self) -> int:
        return -(1 << (self.W - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.W - 1)) - 1 if self.signed else (1 << self.W) - 1

    def hls4ml_str(self) -> str:
        """The spelling hls4ml prints for a FixedPrecisionType."""
        return f'{"" if self.signed else "u"}fixed<{self.W},{self.I},{self.q},{self.o},0>'

    def __str__(self) -> str:
        s = f'{"" if self.signed else "u"}fixed<{self.W},{self.I}'
        if self.q != 'TRN' or self.o != 'WRAP':
            s += f',{self.q},{self.o}'
        return s + '>'

    def to_float(self, codes) -> np.ndarray:
        """Exact value of codes as float64 (exact while W <= 53)."""
        c = np.asarray(codes)
        if c.dtype == object:
            return np.array([math.ldexp(int(v), -self.F) for v in c.ravel()], dtype=np.float64).reshape(c.shape)
        return np.ldexp(c.astype(np.float64), -self.F)


_TYPE_RE = re.compile(r'^\s*(ap_)?(u?)(fixed|int)\s*<([^>]*)>\s*$', re.IGNORECASE)


def parse_type(spec) -> FixedType:
    """Parse 'fixed<W,I[,Q[,O[,N]]]>', 'ufixed<..>', 'ap_fixed<..>',
    'int<W>', 'uint<W>' (AP_ prefixes on modes are accepted)."""
    if isinstance(spec, FixedType):
        return spec
    m = _TYPE_RE.match(str(spec))
    if not m:
        raise ValueError(f'cannot parse fixed-point type {spec!r}')
    signed = m.group(2) == ''
    kind = m.group(3).lower()
    parts = [p.strip() for p in m.group(4).split(',') if p.strip()]
    if kind == 'int':
        if len(parts) != 1:
            raise ValueError(f'bad integer type {spec!r}')
        w = int(parts[0])
        return FixedType(w, w, signed)
    if len(parts) < 2:
        raise ValueError(f'fixed type needs width and integer bits: {spec!r}')
    w, i = int(parts[0]), int(parts[1])
    q = parts[2].upper().removeprefix('AP_') if len(parts) > 2 else 'TRN'
    o = parts[3].upper().removeprefix('AP_') if len(parts) > 3 else 'WRAP'
    if len(parts) > 4 and int(parts[4]) != 0:
        raise ValueError('saturation bits (N) other than 0 are not modelled')
    if q not in QUANT_MODES or o not in OVF_MODES:
        raise ValueError(f'unknown mode in {spec!r}')
    if w < 1:
        raise ValueError(f'width must be >= 1: {spec!r}')
    return FixedType(w, i, signed, q, o)


# --------------------------------------------------------------------------
# Casting integer codes
# --------------------------------------------------------------------------

_SAFE_BITS = 62


def _as_int(a, bits_needed: int):
    """int64 array if bits_needed fit, else a Python-int object array."""
    a = np.asarray(a)
    if bits_needed > _SAFE_BITS and a.dtype != object:
        return a.astype(object)
    if a.dtype != object and a.dtype != np.int64:
        return a.astype(np.int64)
    return a


def quantize_codes(codes, f_src: int, f_dst: int, q: str):
    """Requantize integer codes from f_src to f_dst fractional bits."""
    a = np.asarray(codes)
    if f_dst >= f_src:
        sh = f_dst - f_src
        if sh == 0:
            return a
        if a.dtype != object:
            mx = int(np.max(np.abs(a))) if a.size else 0
            if mx.bit_length() + sh > _SAFE_BITS:
                a = a.astype(object)
        return a << sh
    k = f_src - f_dst
    fl = a >> k
    if q == 'TRN':
        return fl
    rem = a & ((1 << k) - 1)
    half = 1 << (k - 1)
    neg = a < 0
    if q == 'TRN_ZERO':
        inc = neg & (rem != 0)
    elif q == 'RND':
        inc = rem >= half
    elif q == 'RND_ZERO':
        inc = (rem > half) | ((rem == half) & neg)
    elif q == 'RND_MIN_INF':
        inc = rem > half
    elif q == 'RND_INF':
        inc = (rem > half) | ((rem == half) & ~neg)
    elif q == 'RND_CONV':
        inc = (rem > half) | ((rem == half) & ((fl & 1) == 1))
    else:
        raise ValueError(q)
    return fl + np.where(inc, 1, 0)


def overflow_codes(codes, t: FixedType):
    a = np.asarray(codes)
    lo, hi = t.lo, t.hi
    if t.o == 'WRAP':
        mod = 1 << t.W
        if t.signed:
            return ((a - lo) % mod) + lo
        return a % mod
    if t.o == 'SAT':
        return np.where(a > hi, hi, np.where(a < lo, lo, a))
    if t.o == 'SAT_ZERO':
        return np.where((a > hi) | (a < lo), 0, a)
    if t.o == 'SAT_SYM':
        slo = -hi if t.signed else lo
        return np.where(a > hi, hi, np.where(a < slo, slo, a))
    raise ValueError(t.o)


def cast_codes(codes, f_src: int, t: FixedType):
    """The ap_fixed assignment rule: quantize to t.F with t.q, then apply
    t.o to the quantized value. Result dtype int64 when it fits."""
    a = quantize_codes(codes, f_src, t.F, t.q)
    r = overflow_codes(a, t)
    if np.asarray(r).dtype == object and t.W <= _SAFE_BITS:
        r = np.asarray(r).astype(np.int64)
    return np.asarray(r)


def double_to_codes(x, t: FixedType):
    """Convert C doubles to t exactly as ap_fixed's double constructor does
    (exact value of the double, t.q quantization, t.o overflow).
    +inf/-inf: saturating modes clamp, WRAP gives 0 (as ap_fixed does)."""
    x = np.asarray(x, dtype=np.float64)
    if np.isnan(x).any():
        raise ValueError('NaN cannot be converted to fixed point')
    inf = np.isinf(x)
    xs = np.where(inf, 0.0, x)
    y = np.ldexp(xs, t.F)                       # exact (no over/underflow here)
    fl = np.floor(y)
    frac = y - fl                               # exact
    if np.max(np.abs(fl), initial=0.0) < 2.0 ** 61:
        base = fl.astype(np.int64)
    else:
        base = np.array([int(v) for v in fl.ravel()], dtype=object).reshape(fl.shape)
    # quantization decided from the exact fractional part
    neg = xs < 0
    q = t.q
    if q == 'TRN':
        inc = np.zeros(fl.shape, dtype=bool)
    elif q == 'TRN_ZERO':
        inc = neg & (frac != 0)
    elif q == 'RND':
        inc = frac >= 0.5
    elif q == 'RND_ZERO':
        inc = (frac > 0.5) | ((frac == 0.5) & neg)
    elif q == 'RND_MIN_INF':
        inc = frac > 0.5
    elif q == 'RND_INF':
        inc = (frac > 0.5) | ((frac == 0.5) & ~neg)
    elif q == 'RND_CONV':
        inc = (frac > 0.5) | ((frac == 0.5) & ((base & 1) == 1))
    else:
        raise ValueError(q)
    codes = base + np.where(inc, 1, 0)
    codes = overflow_codes(codes, t)
    if inf.any():
        if t.o in ('SAT', 'SAT_SYM'):
            big_lo = -t.hi if (t.o == 'SAT_SYM' and t.signed) else t.lo
            codes = np.where(inf & (x > 0), t.hi, np.where(inf, big_lo, codes))
        else:
            codes = np.where(inf, 0, codes)
    return np.asarray(codes).astype(np.int64) if t.W <= _SAFE_BITS else np.asarray(codes)


def weight_literal_codes(w, t: FixedType):
    """Weights/biases as hls4ml hands them to the C++ code: each float is
    printed with Python's '{:.Nf}' (N = max(0, fractional bits), correctly
    rounded decimal of the exact binary value), the text is read back as a
    double (correctly rounded) and that double is converted to t."""
    w = np.asarray(w)
    n = max(0, t.F)
    fmt = '{:.%df}' % n
    d = np.array([float(fmt.format(float(v))) for v in w.ravel()], dtype=np.float64).reshape(w.shape)
    return double_to_codes(d, t)


def raw_bits(codes, t: FixedType):
    """Two's-complement bit pattern (unsigned, t.W bits) of codes."""
    return np.asarray(codes) & ((1 << t.W) - 1)


# --------------------------------------------------------------------------
# libm in single precision (the tables are built with float math)
# --------------------------------------------------------------------------

_libm = ctypes.CDLL(ctypes.util.find_library('m') or 'libm.so.6')
for _n in ('expf', 'tanhf'):
    getattr(_libm, _n).restype = ctypes.c_float
    getattr(_libm, _n).argtypes = [ctypes.c_float]

f32 = np.float32


def _c_float_table_in(i: int, n: int, span: float) -> float:
    """float in_val = span * (i - float(n)/2.0) / float(n), evaluated in
    double and rounded once to float."""
    fn = float(f32(n))
    return float(f32((span * (i - fn / 2.0)) / fn))


def ceillog2(x: int) -> int:
    return 1 if x <= 2 else 1 + ceillog2((x + 1) // 2)


def floorlog2(x: int) -> int:
    return 0 if x < 2 else 1 + floorlog2(x // 2)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def sigmoid_table(n: int, table_t: FixedType) -> np.ndarray:
    vals = []
    for i in range(n):
        x = _c_float_table_in(i, n, 16.0)
        e = f32(_libm.expf(-x))
        den = f32(f32(1.0) + e)                 # float addition
        s = f32(1.0 / float(den))               # double division, back to float
        vals.append(float(s))
    return double_to_codes(np.array(vals), table_t)


def tanh_table(n: int, table_t: FixedType) -> np.ndarray:
    vals = [float(_libm.tanhf(_c_float_table_in(i, n, 8.0))) for i in range(n)]
    return double_to_codes(np.array(vals), table_t)


def _slice_value(i: int, nbits: int, t: FixedType) -> float:
    """Value of type t whose top nbits are i and the rest 0."""
    code = i << (t.W - nbits)
    if t.signed and code >= (1 << (t.W - 1)):
        code -= 1 << t.W
    return math.ldexp(code, -t.F)


def softmax_exp_table(n: int, inp_norm_t: FixedType, exp_table_t: FixedType, exp_scale: float = 1.0) -> np.ndarray:
    nb = ceillog2(n)
    vals = []
    for i in range(n):
        x = f32(f32(_slice_value(i, nb, inp_norm_t)) * f32(exp_scale))
        vals.append(float(_libm.expf(-x)))
    return double_to_codes(np.array(vals), exp_table_t)


def softmax_inv_table(n: int, inv_inp_t: FixedType, inv_table_t: FixedType) -> np.ndarray:
    nb = ceillog2(n)
    vals = []
    for i in range(n):
        x = f32(_slice_value(i, nb, inv_inp_t))
        vals.append(math.copysign(math.inf, float(x)) if x == 0 else float(f32(f32(1.0) / x)))
    return double_to_codes(np.array(vals), inv_table_t)


# --------------------------------------------------------------------------
# Layers (io_parallel). Inputs/outputs are (batch, n) integer code arrays.
# --------------------------------------------------------------------------


def dense_latency(x, x_t, w, w_t, b, b_t, accum_t, res_t):
    """x: (B, n_in) codes, w: (n_in, n_out) codes, b: (n_out,) codes.
    mult = accum_t(x*w); acc = accum_t(bias); acc = accum_t(acc + mult)
    in order ii = 0..n_in-1; res = res_t(acc)."""
    x = np.asarray(x)
    w = np.asarray(w)
    bsz = x.shape[0]
    acc = np.broadcast_to(cast_codes(b, b_t.F, accum_t), (bsz, w.shape[1])).copy()
    wide = x_t.W + w_t.W + 1 > _SAFE_BITS or accum_t.W + 2 > _SAFE_BITS
    if wide:
        x, w, acc = x.astype(object), w.astype(object), acc.astype(object)
    for ii in range(w.shape[0]):
        prod = x[:, ii:ii + 1] * w[ii:ii + 1, :]
        m = cast_codes(prod, x_t.F + w_t.F, accum_t)
        acc = overflow_codes(acc + m, accum_t)   # same LSB: only overflow can act
    return cast_codes(acc, accum_t.F, res_t)


def bias_add(x, x_t, b, b_t, res_t):
    """hls4ml's ApplyAlpha/normalize with scale 1: res = res_t(x*1 + b),
    the sum exact."""
    f = max(x_t.F, b_t.F)
    xs = quantize_codes(x, x_t.F, f, 'TRN')
    bs = quantize_codes(b, b_t.F, f, 'TRN')
    return cast_codes(xs + bs, f, res_t)


def relu(x, x_t, res_t):
    x = np.asarray(x)
    return np.where(x > 0, cast_codes(x, x_t.F, res_t), 0)


def _trunc_div(num, den: int):
    """Integer division rounding toward zero (den > 0)."""
    q = np.abs(num) // den
    return np.where(np.asarray(num) < 0, -q, q)


def _table_index(x, x_t: FixedType, n: int, span: int):
    """index = int(x * n / span) + (span/2) * n / span, clamped.
    The product and the division are exact ap_fixed operations whose
    result is truncated toward zero by the conversion to int."""
    x = _as_int(x, x_t.W + 34)
    if x_t.F >= 0:
        num, den = x * n, span << x_t.F
    else:
        num, den = (x * n) << (-x_t.F), span
    idx = _trunc_div(num, den) + (span // 2) * n // span
    return np.clip(idx, 0, n - 1).astype(np.int64)


def sigmoid(x, x_t, res_t, table_t=None, n=1024, table=None):
    table_t = table_t or parse_type('fixed<18,8>')
    table = sigmoid_table(n, table_t) if table is None else table
    return cast_codes(table[_table_index(x, x_t, n, 16)], table_t.F, res_t)


def tanh(x, x_t, res_t, table_t=None, n=1024, table=None):
    table_t = table_t or parse_type('fixed<18,8>')
    table = tanh_table(n, table_t) if table is None else table
    return cast_codes(table[_table_index(x, x_t, n, 8)], table_t.F, res_t)


DEFAULT_SOFTMAX_T = 'fixed<18,8,RND,SAT>'


def softmax_plan(in_t: FixedType, table_size: int = 1024, inv_table_t=None, exp_table_t=None,
                 inv_inp_t=None, accum_t=None, inp_norm_t=None):
    """Sizes and types hls4ml uses for a stable softmax whose input has
    type in_t. accum_t defaults to fixed<18,8,RND,SAT> here, but note that
    hls4ml_predict passes the model precision (see NOTES.md)."""
    inv_table_t = parse_type(inv_table_t or DEFAULT_SOFTMAX_T)
    exp_table_t = parse_type(exp_table_t or DEFAULT_SOFTMAX_T)
    inv_inp_t = parse_type(inv_inp_t or DEFAULT_SOFTMAX_T)
    accum_t = parse_type(accum_t or DEFAULT_SOFTMAX_T)
    # table shrink pass: both tables are limited by the input width and the
    # inverse table's width
    lim = 2 ** min(in_t.W, inv_table_t.W)
    if lim < table_size:
        table_size = lim
    inv_size = table_size
    exp_size = table_size
    if inp_norm_t is None:
        s = 1 if in_t.signed else 0
        inp_norm_t = FixedType(in_t.W - s, in_t.I - s, False)
        if in_t.signed:
            exp_size = min(inv_size, 2 ** (in_t.W - 1))
    else:
        inp_norm_t = parse_type(inp_norm_t)
    return dict(exp_table_size=exp_size, inv_table_size=inv_size, inp_norm_t=inp_norm_t,
                exp_table_t=exp_table_t, inv_table_t=inv_table_t, inv_inp_t=inv_inp_t, accum_t=accum_t)


def _tree_sum(cols, t: FixedType):
    """hls4ml's reduce(): split at pow2(floorlog2(N-1)); every add cast to t."""
    n = len(cols)
    if n == 1:
        return cols[0]
    if n == 2:
        return overflow_codes(cols[0] + cols[1], t)
    left = 2 ** floorlog2(n - 1)
    return overflow_codes(_tree_sum(cols[:left], t) + _tree_sum(cols[left:], t), t)


class SoftmaxTables:
    def __init__(self, plan, exp_scale=1.0):
        self.plan = plan
        self.exp = softmax_exp_table(plan['exp_table_size'], plan['inp_norm_t'], plan['exp_table_t'], exp_scale)
        self.inv = softmax_inv_table(plan['inv_table_size'], plan['inv_inp_t'], plan['inv_table_t'])


def softmax_stable(x, x_t: FixedType, res_t: FixedType, plan=None, tables: SoftmaxTables | None = None):
    plan = plan or softmax_plan(x_t)
    tables = tables or SoftmaxTables(plan)
    x = np.asarray(x)
    nt, acc_t, ivi_t = plan['inp_norm_t'], plan['accum_t'], plan['inv_inp_t']
    ext, ivt = plan['exp_table_t'], plan['inv_table_t']
    nb_e, nb_v = ceillog2(plan['exp_table_size']), ceillog2(plan['inv_table_size'])
    xmax = x.max(axis=1, keepdims=True)
    d = cast_codes(xmax - x, x_t.F, nt)                       # x_max - x_i, exact, then inp_norm_t
    ie = (raw_bits(d, nt) >> (nt.W - nb_e)) & ((1 << nb_e) - 1)
    e = cast_codes(tables.exp[ie], ext.F, acc_t)              # exp_res[i] is accum_t
    s = _tree_sum([e[:, j] for j in range(e.shape[1])], acc_t)
    s = cast_codes(s, acc_t.F, ivi_t)                          # exp_sum is inv_inp_t
    iv = (raw_bits(s, ivi_t) >> (ivi_t.W - nb_v)) & ((1 << nb_v) - 1)
    inv = tables.inv[iv][:, None]
    prod = _as_int(e, acc_t.W + ivt.W + 1) * inv
    return cast_codes(prod, acc_t.F + ivt.F, res_t)


# --------------------------------------------------------------------------
# ONNX model evaluation, mirroring the layers hls4ml builds
# --------------------------------------------------------------------------

DEFAULT_TABLE_T = 'fixed<18,8>'


def precision_types(precision):
    """'fixed<16,6>' -> same type for weight/bias/result/accum; or a dict
    with keys weight, bias, result, accum."""
    if isinstance(precision, (str, FixedType)):
        t = parse_type(precision)
        return dict(weight=t, bias=t, result=t, accum=t)
    d = {k: parse_type(v) for k, v in precision.items()}
    missing = {'weight', 'bias', 'result', 'accum'} - set(d)
    if missing:
        raise ValueError(f'precision dict lacks {sorted(missing)}')
    return d


def table_settings(types, tables=None):
    """Resolve the table-related settings (defaults as hls4ml has them;
    the softmax accumulator follows the model accum, as with a model-level
    hls4ml config)."""
    tables = dict(tables or {})
    out = dict(
        table_t=parse_type(tables.pop('table_t', DEFAULT_TABLE_T)),
        table_size=int(tables.pop('table_size', 1024)),
        exp_table_t=parse_type(tables.pop('exp_table_t', DEFAULT_SOFTMAX_T)),
        inv_table_t=parse_type(tables.pop('inv_table_t', DEFAULT_SOFTMAX_T)),
        inv_inp_t=parse_type(tables.pop('inv_inp_t', DEFAULT_SOFTMAX_T)),
        softmax_accum_t=parse_type(tables.pop('softmax_accum_t', types['accum'])),
    )
    if tables:
        raise ValueError(f'unknown table settings {sorted(tables)}')
    return out


def gemm_to_matmul_add(model):
    """Rewrite ONNX Gemm (transA=0) as MatMul + Add with initializers, the
    form hls4ml 1.3's ONNX reader accepts (it has no Gemm handler).
    alpha/beta are folded into the constants in float32."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes = []
    changed = False
    for k, node in enumerate(g.node):
        if node.op_type != 'Gemm':
            new_nodes.append(node)
            continue
        at = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if at.get('transA', 0):
            raise ValueError('Gemm with transA is not supported')
        if node.input[1] not in inits:
            raise ValueError('Gemm weight must be an initializer')
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        if at.get('transB', 0):
            w = w.T
        alpha = f32(at.get('alpha', 1.0))
        if alpha != 1:
            w = (w * alpha).astype(np.float32)
        base = f'{node.name or "gemm"}_{k}'
        wname = base + '_W'
        g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w), wname))
        has_c = len(node.input) > 2 and node.input[2] != ''
        mm_out = node.output[0] if not has_c else base + '_mm'
        new_nodes.append(helper.make_node('MatMul', [node.input[0], wname], [mm_out], name=base + '_MatMul'))
        if has_c:
            c = numpy_helper.to_array(inits[node.input[2]]).astype(np.float32)
            beta = f32(at.get('beta', 1.0))
            if beta != 1:
                c = (c * beta).astype(np.float32)
            cname = base + '_B'
            g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(c), cname))
            new_nodes.append(helper.make_node('Add', [mm_out, cname], [node.output[0]], name=base + '_Add'))
        changed = True
    if changed:
        del g.node[:]
        g.node.extend(new_nodes)
        used = {i for n in g.node for i in n.input}
        dropped = {t.name for t in g.initializer if t.name not in used}
        keep = [t for t in g.initializer if t.name in used]
        del g.initializer[:]
        g.initializer.extend(keep)
        keep_in = [v for v in g.input if v.name not in dropped]
        del g.input[:]
        g.input.extend(keep_in)
    return model


class SemanticModel:
    """Evaluate an ONNX MLP (MatMul/Add/Gemm/Relu/Sigmoid/Tanh/Softmax)
    with the layer structure and arithmetic of hls4ml 1.3:
      input cast -> for MatMul: Dense (zero bias) -> [Add: bias layer] -> ...
    """

    def __init__(self, model, precision, tables=None):
        import onnx
        from onnx import numpy_helper

        if isinstance(model, (str, bytes)) or hasattr(model, '__fspath__'):
            model = onnx.load(model)
        model = gemm_to_matmul_add(model)
        self.types = precision_types(precision)
        self.tabs = table_settings(self.types, tables)
        g = model.graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        ins = [i for i in g.input if i.name not in self.inits]
        if len(ins) != 1 or len(g.output) != 1:
            raise ValueError('only single-input single-output models are modelled')
        self.input_name = ins[0].name
        self.output_name = g.output[0].name
        self.nodes = list(g.node)
        self.layers = []            # (kind, details) in hls4ml's order
        self._cache = {}
        for n in self.nodes:
            if n.op_type not in ('MatMul', 'Add', 'Relu', 'Sigmoid', 'Tanh', 'Softmax', 'Identity', 'Dropout'):
                raise ValueError(f'op {n.op_type} not modelled')

    def _tbl(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def predict_codes(self, x):
        t = self.types
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        x = x.reshape(x.shape[0], -1)
        env = {self.input_name: (double_to_codes(x, t['result']), t['result'])}
        alias = {}
        for n in self.nodes:
            ins = [alias.get(i, i) for i in n.input]
            op = n.op_type
            if op in ('Identity', 'Dropout'):
                alias[n.output[0]] = ins[0]
                continue
            if op == 'MatMul':
                a, at = env[ins[0]]
                w = self.inits[ins[1]].astype(np.float32)
                wc = weight_literal_codes(w, t['weight'])
                bc = np.zeros(w.shape[1], dtype=np.int64)
                y = dense_latency(a, at, wc, t['weight'], bc, t['bias'], t['accum'], t['result'])
            elif op == 'Add':
                cst = [i for i in ins if i in self.inits]
                var = [i for i in ins if i not in self.inits]
                if len(cst) != 1:
                    raise ValueError('Add must have exactly one constant input')
                a, at = env[var[0]]
                b = np.broadcast_to(self.inits[cst[0]].astype(np.float32), (a.shape[1],))
                bc = weight_literal_codes(b, t['bias'])
                y = bias_add(a, at, bc, t['bias'], t['result'])
            elif op == 'Relu':
                a, at = env[ins[0]]
                y = relu(a, at, t['result'])
            elif op in ('Sigmoid', 'Tanh'):
                a, at = env[ins[0]]
                tt, ts = self.tabs['table_t'], self.tabs['table_size']
                if op == 'Sigmoid':
                    tb = self._tbl(('sig', tt, ts), lambda: sigmoid_table(ts, tt))
                    y = sigmoid(a, at, t['result'], tt, ts, tb)
                else:
                    tb = self._tbl(('tanh', tt, ts), lambda: tanh_table(ts, tt))
                    y = tanh(a, at, t['result'], tt, ts, tb)
            elif op == 'Softmax':
                a, at = env[ins[0]]
                plan = softmax_plan(at, self.tabs['table_size'], self.tabs['inv_table_t'], self.tabs['exp_table_t'],
                                    self.tabs['inv_inp_t'], self.tabs['softmax_accum_t'])
                key = ('smx', tuple(sorted((k, str(v)) for k, v in plan.items())))
                tb = self._tbl(key, lambda: SoftmaxTables(plan))
                y = softmax_stable(a, at, t['result'], plan, tb)
            env[n.output[0]] = (np.asarray(y), t['result'])
        out = alias.get(self.output_name, self.output_name)
        return env[out]

    def predict(self, x):
        codes, rt = self.predict_codes(x)
        return rt.to_float(codes)


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description='integer model of hls4ml 1.3 csim for an ONNX MLP')
    ap.add_argument('model')
    ap.add_argument('--precision', default='fixed<16,6>')
    ap.add_argument('--input', required=True, help='.npy, shape (N, n_in)')
    ap.add_argument('--output', required=True, help='.npy to write (float64)')
    a = ap.parse_args(argv)
    y = SemanticModel(a.model, a.precision).predict(np.load(a.input))
    np.save(a.output, y)


if __name__ == '__main__':
    main()
