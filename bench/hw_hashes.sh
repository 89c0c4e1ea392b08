#!/bin/sh
# hw_hashes.sh — compile a fixed set of models and options with one etchnn
# binary and print the sha256 of every file written, so that two binaries (a
# refactoring of the hardware half, say) can be proved byte-identical:
#   sh bench/hw_hashes.sh build/etchnn /tmp/a > a.txt
#   sh bench/hw_hashes.sh build/new/etchnn /tmp/b > b.txt && diff a.txt b.txt
# One "sha256  CASE/relative/path" line per file, sorted; a case that fails
# prints "FAILED  CASE" (the set of failures is compared too).  Models under
# ../shared/models (MODELS=...) that are absent are skipped with a note on
# stderr.  Needs only sh, timeout and sha256sum.
set -u
ETCHNN=${1:?usage: hw_hashes.sh ETCHNN OUTDIR}
OUT=${2:?usage: hw_hashes.sh ETCHNN OUTDIR}
HERE=$(cd "$(dirname "$0")/.." && pwd)
MODELS=${MODELS:-$HERE/../shared/models}
case $ETCHNN in /*) ;; *) ETCHNN=$PWD/$ETCHNN ;; esac
rm -rf "$OUT"
mkdir -p "$OUT"
LIST=$OUT/.list
: > "$LIST"

# run NAME MODEL [OPTIONS...]: compile MODEL into OUT/NAME
run() {
    name=$1 model=$2
    shift 2
    if [ ! -e "$model" ]; then
        echo "hw_hashes: skipped $name: $model not present" >&2
        return
    fi
    if ! timeout 300 "$ETCHNN" compile "$model" -o "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1; then
        echo "FAILED  $name" >> "$LIST"
        return
    fi
    (cd "$OUT" && find "$name" -type f -print | LC_ALL=C sort | xargs sha256sum) >> "$LIST"
}

O=$MODELS/onnx K=$MODELS/keras
# io_parallel, default settings
run jet_tagger "$HERE/examples/jet_tagger.onnx"
for m in conv1d_small_keras conv2d_small_keras conv2d_small_mp_keras dense_big_keras three_layer_bn_keras three_layer_bn_pytorch \
         three_layer_keras three_layer_pytorch two_layer_keras two_layer_pytorch; do
    run "$m" "$O/$m.onnx"
done
run KERAS_3layer "$K/KERAS_3layer.json"
run KERAS_3layer_binary_smaller "$K/KERAS_3layer_binary_smaller.json"
run KERAS_3layer_ternary_small "$K/KERAS_3layer_ternary_small.json"
run KERAS_conv1d_small "$K/KERAS_conv1d_small.json"
for m in KERAS_3layer_batch_norm KERAS_conv2d_model KERAS_dense_16x200x200x200x200x200x5 keras_bnn; do
    run "$m" "$K/$m.json"
done
run qkeras_mnist_dense "$MODELS/qkeras/qkeras_mnist_dense.json"
run jetTagger_Conv2D_Small "$K/jetTagger_Conv2D_Small.json" --io parallel
run qkeras_3layer "$MODELS/qkeras/qkeras_3layer.json"
run hgq_jet_classifier "$MODELS/hgq/hgq_jet_classifier.h5"
# io_stream (the models and options of tests/test_stream.py)
for m in conv1d_small_keras conv2d_small_keras conv2d_small_mp_keras; do
    run "${m}_stream" "$O/$m.onnx" --io stream --precision 'fixed<8,3>'
done
run KERAS_conv1d_small_stream "$K/KERAS_conv1d_small.json" --io stream --precision 'fixed<8,3>'
run KERAS_conv2d_model_stream "$K/KERAS_conv2d_model.json" --io stream --precision 'fixed<8,3>'
run jetTagger_Conv2D_Small_stream "$K/jetTagger_Conv2D_Small.json" --io stream --precision 'fixed<8,3>'
run qkeras_mnist_cnn_stream "$MODELS/qkeras/qkeras_mnist_cnn.json" --io stream
run hgq_mnist_homogeneous_stream "$MODELS/hgq/hgq_mnist_homogeneous.h5" --io stream
# options, on two models
for m in jet_tagger:"$HERE/examples/jet_tagger.onnx" conv2d_small_keras:"$O/conv2d_small_keras.onnx"; do
    base=${m%%:*} file=${m#*:}
    run "${base}_dsp" "$file" --multipliers dsp
    run "${base}_auto" "$file" --multipliers auto
    run "${base}_400mhz" "$file" --clock-mhz 400
    run "${base}_fixed8_3" "$file" --precision 'fixed<8,3>'
done
run conv2d_small_keras_stream_dsp "$O/conv2d_small_keras.onnx" --io stream --precision 'fixed<8,3>' --multipliers dsp

LC_ALL=C sort -k2 "$LIST"
