"""ctypes binding of the C library (include/etchnn.h) and a small owner of
one EtnModel.  Every call that can fail goes through Model._check, which turns
the C error message into an EtchnnError."""
import ctypes
import os
import pathlib
import warnings

import numpy as np

from .errors import EtchnnError, EtchnnWarning

_HERE = pathlib.Path(__file__).resolve().parent
_P = ctypes.c_void_p
_S = ctypes.c_char_p
_Z = ctypes.c_size_t
_I = ctypes.c_int
_D = ctypes.POINTER(ctypes.c_double)
_I64 = ctypes.POINTER(ctypes.c_int64)

# name: (restype, argtypes).  Functions marked optional may be absent from an
# older library; Model.has() tells.  New C entry points are one line here.
_SIGNATURES = {
    "etn_model_new": (_P, []),
    "etn_model_free": (None, [_P]),
    "etn_error": (_S, [_P]),
    "etn_warnings": (_S, [_P]),
    "etn_load": (_I, [_P, _S]),
    "etn_load_onnx_buffer": (_I, [_P, ctypes.c_char_p, _Z, _S]),
    "etn_load_keras_buffer": (_I, [_P, ctypes.c_char_p, _Z, _S]),
    "etn_config_text": (_I, [_P, _S, _S]),
    "etn_config_file": (_I, [_P, _S]),
    "etn_set_option": (_I, [_P, _S, _S]),
    "etn_compile": (_I, [_P]),
    "etn_dump_text": (_S, [_P]),
    "etn_input_size": (_Z, [_P]),
    "etn_output_size": (_Z, [_P]),
    "etn_input_count": (_Z, [_P]),
    "etn_output_count": (_Z, [_P]),
    "etn_input_name": (_S, [_P, _Z]),
    "etn_output_name": (_S, [_P, _Z]),
    "etn_input_numel": (_Z, [_P, _Z]),
    "etn_output_numel": (_Z, [_P, _Z]),
    "etn_predict": (_I, [_P, _D, _D, _Z, _I]),
    "etn_predict_raw": (_I, [_P, _D, _I64, _Z]),
    "etn_predict_codes": (_I, [_P, _I64, _I64, _Z]),
    "etn_layer_count": (_Z, [_P]),
    "etn_layer_name": (_S, [_P, _Z]),
    "etn_layer_class": (_S, [_P, _Z]),
    "etn_layer_size": (_Z, [_P, _Z]),
    "etn_layer_type": (_S, [_P, _Z]),
    "etn_trace": (_I, [_P, _D, _Z, _D, _I]),
    "etn_input_type": (_S, [_P]),
    "etn_output_type": (_S, [_P]),
    "etn_config_template": (_S, [_P, _S]),
    "etn_write": (_I, [_P, _S]),
    "etn_free": (None, [_P]),
    # src/api/python_support.c
    "etn_config_json": (_P, [_P]),
    "etn_layer_param_count": (_Z, [_P, _Z]),
    "etn_layer_param_name": (_S, [_P, _Z, _Z]),
    "etn_layer_param_size": (_Z, [_P, _Z, _Z]),
    "etn_layer_param_type": (_S, [_P, _Z, _Z]),
    "etn_layer_param_values": (_I, [_P, _Z, _Z, _D, _I]),
    "etn_trace_batch": (_I, [_P, _D, _Z, _Z, _D, _I]),
    "etn_layer_intervals": (_I, [_P, _D, _Z]),
    # src/api/options.c: the one options table
    "etn_option_count": (_Z, []),
    "etn_option": (_P, [_Z]),
    "etn_get_option": (_S, [_P, _S]),
}
PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)


class Option(ctypes.Structure):          # EtnOption
    _fields_ = [(name, _S) for name in ("key", "source", "python", "flag", "alt", "switch_flag", "switch_value",
                                        "commands", "values", "help")]


def options():
    """The library's options table: [{key, source, python, flag, alt, switch_flag, switch_value, commands, values,
    help}], one dict per etn_set_option key (None where an entry has no such name)."""
    out = []
    for k in range(lib().etn_option_count()):
        o = ctypes.cast(lib().etn_option(k), ctypes.POINTER(Option)).contents
        out.append({name: _str(getattr(o, name)) for name, _ in Option._fields_})
    return out


class VerifyOptions(ctypes.Structure):   # EtnVerifyOptions
    _fields_ = [("codes", _I64), ("x", _D), ("input_file", _S), ("n", _Z), ("seed", ctypes.c_uint64),
                ("verilator", _S), ("jobs", _I), ("rebuild", _I), ("progress", PROGRESS), ("ctx", _P)]


class Mismatch(ctypes.Structure):        # EtnMismatch
    _fields_ = [("event", _Z), ("output", _Z), ("expected", ctypes.c_int64), ("got", ctypes.c_int64)]


VERIFY_KEEP = 20                          # ETN_VERIFY_KEEP


class VerifyResult(ctypes.Structure):    # EtnVerifyResult
    _fields_ = [("events", _Z), ("outputs", _Z), ("mismatches", _Z), ("first", Mismatch * VERIFY_KEEP),
                ("valid_errors", _Z), ("first_valid_error", ctypes.c_long), ("latency", _I), ("rebuilt", _I),
                ("build_seconds", ctypes.c_double), ("run_seconds", ctypes.c_double), ("ii", _I)]


class SynthOptions(ctypes.Structure):    # EtnSynthOptions
    _fields_ = [("device", _S), ("timeout_s", ctypes.c_double), ("force", _I), ("progress", PROGRESS), ("ctx", _P)]


SYNTH_TIMEOUT_DEFAULT = 3600.0            # ETN_SYNTH_TIMEOUT_DEFAULT


# Tools that land over time; bound when the library has them (Model.has).
_OPTIONAL = {
    "etn_verify": (_I, [_P, _S, ctypes.POINTER(VerifyOptions), ctypes.POINTER(VerifyResult)]),
    "etn_synth": (_I, [_S, _S, _S, PROGRESS, _P, ctypes.POINTER(_P), ctypes.c_char_p, _Z]),
    "etn_synth_opts": (_I, [_S, _S, ctypes.POINTER(SynthOptions), ctypes.POINTER(_P), ctypes.c_char_p, _Z]),
}


def _candidates():
    env = os.environ.get("ETCHNN_LIB")
    if env:
        yield pathlib.Path(env)
        return
    yield _HERE / "libetchnn.so"                      # installed by pip
    root = _HERE.parent.parent                        # a source checkout: python/etchnn/
    yield root / "build" / "libetchnn.so"
    yield root / "build" / "py" / "libetchnn.so"


def _load():
    tried = []
    for p in _candidates():
        tried.append(str(p))
        if p.exists():
            lib = ctypes.CDLL(str(p))
            for name, (res, args) in _SIGNATURES.items():
                f = getattr(lib, name)
                f.restype, f.argtypes = res, args
            for name, (res, args) in _OPTIONAL.items():
                f = getattr(lib, name, None)
                if f is not None:
                    f.restype, f.argtypes = res, args
            lib.path = str(p)
            return lib
    raise EtchnnError("the etchnn C library was not found; looked at: " + ", ".join(tried) +
                      " (build it with `make`, install the package with `pip install .`, or set ETCHNN_LIB)")


_lib = None


def lib():
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def _dptr(a):
    return a.ctypes.data_as(_D)


def _i64ptr(a):
    return a.ctypes.data_as(_I64)


def _str(b):
    return None if b is None else b.decode()


class Model:
    """One EtnModel: freed with the Python object."""

    def __init__(self):
        self.lib = lib()
        self.ptr = self.lib.etn_model_new()
        if not self.ptr:
            raise MemoryError("etn_model_new")

    def __del__(self):
        ptr, self.ptr = getattr(self, "ptr", None), None
        if ptr:
            self.lib.etn_model_free(ptr)

    def has(self, name):
        """Whether the library has C function `name` (back ends land over time)."""
        return getattr(self.lib, name, None) is not None

    def error(self):
        return _str(self.lib.etn_error(self.ptr)) or "unknown error"

    def _check(self, rc):
        if rc != 0:
            raise EtchnnError(self.error(), internal=(rc == 3))
        for line in (_str(self.lib.etn_warnings(self.ptr)) or "").splitlines():
            warnings.warn(line[len("warning: "):] if line.startswith("warning: ") else line, EtchnnWarning,
                          stacklevel=3)

    def _check_ptr(self, p):
        if p is None:
            raise EtchnnError(self.error())
        return p

    # loading and configuring
    def load(self, path):
        self._check(self.lib.etn_load(self.ptr, os.fsencode(path)))

    def load_onnx(self, data, name):
        self._check(self.lib.etn_load_onnx_buffer(self.ptr, data, len(data), name.encode()))

    def load_keras(self, data, name):
        self._check(self.lib.etn_load_keras_buffer(self.ptr, data, len(data), name.encode()))

    def config_text(self, text, origin="<config>"):
        self._check(self.lib.etn_config_text(self.ptr, text.encode(), origin.encode()))

    def config_file(self, path):
        self._check(self.lib.etn_config_file(self.ptr, os.fsencode(path)))

    def set_option(self, key, value):
        self._check(self.lib.etn_set_option(self.ptr, key.encode(), str(value).encode()))

    def get_option(self, key):
        """The option's canonical value in effect, or None when unset (unknown keys raise)."""
        v = self.lib.etn_get_option(self.ptr, key.encode())
        if v is None and self.lib.etn_error(self.ptr):
            raise EtchnnError(self.error())
        return _str(v)

    def compile(self):
        self._check(self.lib.etn_compile(self.ptr))

    def dump_text(self):
        return _str(self.lib.etn_dump_text(self.ptr))

    def config_template(self, granularity):
        return _str(self._check_ptr(self.lib.etn_config_template(self.ptr, granularity.encode())))

    def config_json(self):
        p = self._check_ptr(self.lib.etn_config_json(self.ptr))
        try:
            return ctypes.string_at(p).decode()
        finally:
            self.lib.etn_free(p)

    # shapes and types
    def input_size(self):
        return self.lib.etn_input_size(self.ptr)

    def output_size(self):
        return self.lib.etn_output_size(self.ptr)

    def inputs(self):
        """[(name, values per event)] of the graph inputs, in order."""
        L = self.lib
        return [(_str(L.etn_input_name(self.ptr, k)), L.etn_input_numel(self.ptr, k))
                for k in range(L.etn_input_count(self.ptr))]

    def outputs(self):
        """[(name, values per event)] of the graph outputs, in order."""
        L = self.lib
        return [(_str(L.etn_output_name(self.ptr, k)), L.etn_output_numel(self.ptr, k))
                for k in range(L.etn_output_count(self.ptr))]

    def input_type(self):
        return _str(self.lib.etn_input_type(self.ptr))

    def output_type(self):
        return _str(self.lib.etn_output_type(self.ptr))

    # running
    def predict(self, x, float_mode=False):
        n = x.shape[0]
        y = np.empty((n, self.output_size()), dtype=np.float64)
        self._check(self.lib.etn_predict(self.ptr, _dptr(x), _dptr(y), n, int(bool(float_mode))))
        return y

    def predict_raw(self, x):
        n = x.shape[0]
        y = np.empty((n, self.output_size()), dtype=np.int64)
        self._check(self.lib.etn_predict_raw(self.ptr, _dptr(x), _i64ptr(y), n))
        return y

    def predict_codes(self, x):
        n = x.shape[0]
        y = np.empty((n, self.output_size()), dtype=np.int64)
        self._check(self.lib.etn_predict_codes(self.ptr, _i64ptr(x), _i64ptr(y), n))
        return y

    # layers
    def layers(self):
        L = self.lib
        out = []
        for k in range(L.etn_layer_count(self.ptr)):
            params = []
            for j in range(L.etn_layer_param_count(self.ptr, k)):
                params.append({"name": _str(L.etn_layer_param_name(self.ptr, k, j)),
                               "size": L.etn_layer_param_size(self.ptr, k, j),
                               "type": _str(L.etn_layer_param_type(self.ptr, k, j))})
            out.append({"index": k,
                        "name": _str(L.etn_layer_name(self.ptr, k)),
                        "class": _str(L.etn_layer_class(self.ptr, k)),
                        "size": L.etn_layer_size(self.ptr, k),
                        "type": _str(L.etn_layer_type(self.ptr, k)),
                        "params": params})
        return out

    def param_values(self, layer, k, size, float_mode=False):
        out = np.empty(size, dtype=np.float64)
        self._check(self.lib.etn_layer_param_values(self.ptr, layer, k, _dptr(out), int(bool(float_mode))))
        return out

    def intervals(self, nlayers):
        out = np.empty((nlayers, 6), dtype=np.float64)
        self._check(self.lib.etn_layer_intervals(self.ptr, _dptr(out), nlayers))
        return out

    def trace(self, x, layer, size, float_mode=False):
        n = x.shape[0]
        out = np.empty((n, size), dtype=np.float64)
        self._check(self.lib.etn_trace_batch(self.ptr, _dptr(x), n, layer, _dptr(out), int(bool(float_mode))))
        return out

    def verify(self, out_dir, x=None, n=0, seed=0, rebuild=False, progress=None):
        """etn_verify; returns (status, VerifyResult): 0 equal, 1 mismatch."""
        opt = VerifyOptions(n=n, seed=seed, rebuild=int(bool(rebuild)))
        if x is not None:
            opt.x, opt.n = _dptr(x), x.shape[0]
        cb = PROGRESS(lambda msg, ctx: progress(msg.decode())) if progress else PROGRESS()
        opt.progress = cb
        res = VerifyResult()
        rc = self.lib.etn_verify(self.ptr, os.fsencode(out_dir), ctypes.byref(opt), ctypes.byref(res))
        if rc not in (0, 1):
            self._check(rc)
        return rc, res

    def synth(self, out_dir, target, device=None, progress=None, timeout=SYNTH_TIMEOUT_DEFAULT, force=False):
        """etn_synth_opts on a written project; returns its "synth" summary
        (JSON text).  timeout: seconds for all tools (None or 0: no limit);
        force: run even when the estimate says the design cannot fit."""
        cb = PROGRESS(lambda msg, ctx: progress(msg.decode())) if progress else PROGRESS()
        summary = _P()
        err = ctypes.create_string_buffer(4096)
        limit = -1.0 if not timeout else float(timeout)
        if limit != -1.0 and not limit > 0:
            raise EtchnnError(f"synth: timeout: expected seconds (None or 0: no limit), got {timeout!r}")
        if self.has("etn_synth_opts"):
            opt = SynthOptions(device=(device or "").encode(), timeout_s=limit, force=int(bool(force)), progress=cb)
            rc = self.lib.etn_synth_opts(os.fsencode(out_dir), target.encode(), ctypes.byref(opt),
                                         ctypes.byref(summary), err, len(err))
        elif force or limit != SYNTH_TIMEOUT_DEFAULT:
            raise EtchnnError("synth: timeout and force need etn_synth_opts, which this etchnn library does not have "
                              f"({self.lib.path}): rebuild it")
        else:
            rc = self.lib.etn_synth(os.fsencode(out_dir), target.encode(), (device or "").encode(), cb, None,
                                    ctypes.byref(summary), err, len(err))
        text = None
        if summary.value:
            text = ctypes.string_at(summary.value).decode()
            self.lib.etn_free(summary.value)
        if rc != 0:
            raise EtchnnError(err.value.decode() or "synthesis failed")
        return text

    def write(self, directory):
        self._check(self.lib.etn_write(self.ptr, os.fsencode(directory)))
