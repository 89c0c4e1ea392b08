/* fuzz_events.c — libFuzzer target for the event-file reader (hls4ml .dat
 * text and .npy) through the public API: the bytes are written to a
 * temporary file, read with etn_read_events against the model in
 * $ETCHNN_FUZZ_MODEL (compiled once), and up to 16 events are emulated.
 * Build and run: make fuzz-events FUZZ_SECONDS=600 (rules in tests/fuzz/fuzz.mk). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etchnn.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EtnModel *model;
static char tmp_path[4096];

static void remove_tmp(void)
{
    if (tmp_path[0])
        unlink(tmp_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_load_model();
    if (!fuzz_model) {
        fprintf(stderr, "fuzz_events: needs ETCHNN_FUZZ_MODEL (an ONNX model) for the event width\n");
        exit(1);
    }
    model = etn_model_new();
    if (!model || etn_load_onnx_buffer(model, fuzz_model, fuzz_model_len, fuzz_model_path) != ETN_OK ||
        etn_compile(model) != ETN_OK)
        exit(1);
    const char *dir = getenv("TMPDIR");
    snprintf(tmp_path, sizeof tmp_path, "%s/etchnn_fuzz_events_XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(tmp_path);
    if (fd < 0) {
        perror("fuzz_events: mkstemp");
        exit(1);
    }
    close(fd);
    atexit(remove_tmp);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(tmp_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    double *x = NULL;
    size_t n = 0;
    if (etn_read_events(model, tmp_path, &x, &n) == ETN_OK) {
        size_t ne = n < 16 ? n : 16, no = etn_output_size(model);
        double *y = malloc(ne * (no ? no : 1) * sizeof(double));
        if (y) {
            etn_predict(model, x, y, ne, 0);
            etn_predict(model, x, y, ne, 1);
        }
        free(y);
        etn_free(x);
    }
    return 0;
}
