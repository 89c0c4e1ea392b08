/* fuzz_config.c — libFuzzer target for the configuration reader (JSON via
 * cJSON, YAML via libyaml, then validation).  A configuration that parses is
 * applied to the model in $ETCHNN_FUZZ_MODEL (if set): compile (precision
 * resolution per layer), report layer types, and emulate one event of zeros.
 * Build and run: make fuzz-config FUZZ_SECONDS=600 (rules in tests/fuzz/fuzz.mk). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etchnn.h"
#include "fuzz_common.h"

#define MAX_INPUT 65536

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_load_model();
    return 0;
}

static void exercise(EtnModel *m)
{
    for (size_t k = 0; k < etn_layer_count(m); k++) {
        (void)etn_layer_name(m, k);
        (void)etn_layer_class(m, k);
        (void)etn_layer_type(m, k);
    }
    (void)etn_input_type(m);
    (void)etn_output_type(m);
    size_t ni = etn_input_size(m), no = etn_output_size(m);
    if (ni > MAX_INPUT || no > MAX_INPUT)
        return;
    double *x = calloc(ni ? ni : 1, sizeof(double)), *y = calloc(no ? no : 1, sizeof(double));
    int64_t *c = calloc(no ? no : 1, sizeof(int64_t));
    if (x && y && c) {
        for (size_t k = 0; k < ni; k++)   /* not only zeros: a value that rounds and saturates */
            x[k] = k % 2 ? 1e6 : -0.3;
        etn_predict(m, x, y, 1, 0);
        if (etn_predict_raw(m, x, c, 1) == ETN_OK)
            for (size_t k = 0; k < no; k++) {
                char buf[800];
                etn_format_code(m, c[k], buf, sizeof buf);
                (void)etn_code_value(m, c[k]);
            }
        memset(x, 0, ni * sizeof(double));
        etn_predict(m, x, y, 1, 0);
    }
    free(x);
    free(y);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    EtnModel *m = etn_model_new();
    if (m && etn_config_text(m, text, "fuzz.yml") == ETN_OK && fuzz_model) {
        if (etn_load_onnx_buffer(m, fuzz_model, fuzz_model_len, fuzz_model_path) != ETN_OK)
            abort();   /* the same bytes loaded in LLVMFuzzerInitialize */
        if (etn_compile(m) == ETN_OK)
            exercise(m);
    }
    if (m)
        (void)etn_error(m);
    etn_model_free(m);
    free(text);
    return 0;
}
