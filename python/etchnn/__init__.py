"""etchnn: trained neural networks to bit-exact fixed-point firmware.

    import etchnn
    cfg = etchnn.config_from_model(model, granularity='name')
    fw = etchnn.convert(model, config=cfg, output_dir='prj')
    y = fw.predict(x)          # bit-exact, in-process
    fw.write(); print(fw.report())

A thin layer over the C library (libetchnn.so, include/etchnn.h) through
ctypes; numpy is the only dependency, torch/keras/onnx/matplotlib are imported
when used."""
from .errors import EtchnnError, EtchnnWarning, NotAvailableError
from .firmware import Firmware, Report, config_from_model, convert, options
# the functions shadow their modules' names on the package (etchnn.tune is the function;
# the modules stay importable as sys.modules['etchnn.tune'], 'etchnn.sweep')
from .tune import TuneResult, tune
from .sweep import objective, sweep


try:   # an installed package: written into the wheel by the build from include/etchnn.h (pyproject.toml)
    from ._version import __version__
except ImportError:   # a source checkout (PYTHONPATH=python): the one definition, include/etchnn.h
    def _checkout_version():
        import pathlib
        import re
        header = pathlib.Path(__file__).resolve().parents[2] / "include" / "etchnn.h"
        try:
            m = re.search(r'#define\s+ETCHNN_VERSION\s+"([^"]+)"', header.read_text())
        except OSError:
            m = None
        return m.group(1) if m else "0+unknown"
    __version__ = _checkout_version()
    del _checkout_version

__all__ = ["EtchnnError", "EtchnnWarning", "NotAvailableError", "Firmware", "Report", "config_from_model", "convert", "options", "profiling",
           "library_path", "tune", "TuneResult", "sweep", "objective"]


def library_path():
    """The path of the C library this package uses."""
    from . import _lib
    return _lib.lib().path


def __getattr__(name):   # etchnn.profiling without importing matplotlib up front
    if name == "profiling":
        import importlib
        return importlib.import_module(".profiling", __name__)
    raise AttributeError(f"module 'etchnn' has no attribute '{name}'")
