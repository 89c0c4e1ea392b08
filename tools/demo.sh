#!/bin/sh
# make demo: compile the bundled example model, write every output, print the
# report, then check the generated C against the emulator on the example inputs.
set -e
ETCHNN=${ETCHNN:-build/etchnn}
OUT=${OUT:-build/demo}
MODEL=examples/jet_tagger.onnx
INPUTS=examples/jet_tagger_inputs.dat
rm -rf "$OUT"
echo "== etchnn compile $MODEL -o $OUT --precision 'fixed<16,6>'"
$ETCHNN compile "$MODEL" -o "$OUT" --precision 'fixed<16,6>'
echo
cat "$OUT/report.txt"
echo
echo "== etchnn predict (bit-exact emulator) on $INPUTS, first 5 events"
$ETCHNN predict "$MODEL" --precision 'fixed<16,6>' --input "$INPUTS" --output "$OUT/predictions.dat"
$ETCHNN predict "$MODEL" --precision 'fixed<16,6>' --input "$INPUTS" --output "$OUT/predictions.npy"
head -5 "$OUT/predictions.dat"
echo
echo "== generated C ($OUT/c) compiled with -std=c99 -Wall -Wextra -Werror, run on the same inputs"
cc -std=c99 -O2 -Wall -Wextra -Werror -I "$OUT/c" "$OUT/c/jet_tagger.c" tools/demo_driver.c -o "$OUT/jet_tagger_c" -lm
"$OUT/jet_tagger_c" < "$INPUTS" > "$OUT/predictions_c.bin"
n=$(wc -l < "$INPUTS")
bytes=$((n * 5 * 8))
if tail -c "$bytes" "$OUT/predictions.npy" | cmp -s - "$OUT/predictions_c.bin"; then
    echo "generated C == emulator: all $((n * 5)) outputs of $n events identical"
else
    echo "MISMATCH between generated C and emulator" >&2
    exit 1
fi
