/* fuzz_onnx.c — libFuzzer target for the ONNX front end (protobuf-c decoding
 * and import), then the compiler passes and one emulated event of zeros.
 * Build and run: make fuzz-onnx FUZZ_SECONDS=600 (rules in tests/fuzz/fuzz.mk). */
#include <stdint.h>
#include <stdlib.h>

#include "etchnn.h"

/* Emulate at most this many input values (bigger graphs still compile). */
#define MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    EtnModel *m = etn_model_new();
    if (!m)
        return 0;
    if (etn_load_onnx_buffer(m, data, size, "fuzz.onnx") == ETN_OK && etn_compile(m) == ETN_OK) {
        size_t ni = etn_input_size(m), no = etn_output_size(m);
        if (ni <= MAX_INPUT && no <= MAX_INPUT) {
            double *x = calloc(ni ? ni : 1, sizeof(double));
            double *y = calloc(no ? no : 1, sizeof(double));
            if (x && y) {
                etn_predict(m, x, y, 1, 0);
                etn_predict(m, x, y, 1, 1);
            }
            free(x);
            free(y);
        }
    }
    (void)etn_error(m);
    etn_model_free(m);
    return 0;
}
