#!/bin/sh
# Install what etchnn needs and is missing: Debian packages (apt-get) for the
# build, Python packages (pip) for the tests.  Safe to run again: it only
# installs what is absent.  Set ETCHNN_NO_INSTALL=1 to skip.
set -e
[ "${ETCHNN_NO_INSTALL:-0}" = 1 ] && exit 0

need_apt=""
have() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
for p in build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev libonnx-dev libcjson-dev libyaml-dev libhdf5-dev libzip-dev \
         clang valgrind; do
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
need_pip=""
for m in numpy:numpy onnx:onnx onnxruntime:onnxruntime pytest:pytest yaml:pyyaml; do
    mod=${m%%:*}; pkg=${m#*:}
    $PY -c "import $mod" >/dev/null 2>&1 || need_pip="$need_pip $pkg"
done
if [ "${ETCHNN_WITH_HLS4ML:-1}" = 1 ]; then
    $PY -c "import hls4ml" >/dev/null 2>&1 || need_pip="$need_pip hls4ml==1.3.0"
fi
if [ -n "$need_pip" ]; then
    echo "install-deps: pip install$need_pip"
    $PY -m pip install -q $need_pip
fi
