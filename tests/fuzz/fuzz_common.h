/* fuzz_common.h — shared by the fuzz targets that need a valid model: the
 * ONNX file named by $ETCHNN_FUZZ_MODEL, read once at start-up. */
#ifndef ETN_FUZZ_COMMON_H
#define ETN_FUZZ_COMMON_H
#include <stdio.h>
#include <stdlib.h>

#include "etchnn.h"

static unsigned char *fuzz_model;
static size_t fuzz_model_len;
static const char *fuzz_model_path;

/* Read $ETCHNN_FUZZ_MODEL; without it the targets only exercise parsing. */
static void fuzz_load_model(void)
{
    const char *path = getenv("ETCHNN_FUZZ_MODEL");
    if (!path || !path[0]) {
        fprintf(stderr, "fuzz: ETCHNN_FUZZ_MODEL not set: skipping the model-dependent part\n");
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz: cannot open ETCHNN_FUZZ_MODEL=%s\n", path);
        exit(1);
    }
    size_t cap = 1 << 16, len = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "fuzz: out of memory reading %s\n", path);
        exit(1);
    }
    fuzz_model = buf;
    fuzz_model_len = len;
    fuzz_model_path = path;
    /* fail loudly if the model itself is unusable: the target would test nothing */
    EtnModel *m = etn_model_new();
    if (!m || etn_load_onnx_buffer(m, fuzz_model, fuzz_model_len, path) != ETN_OK || etn_compile(m) != ETN_OK) {
        fprintf(stderr, "fuzz: ETCHNN_FUZZ_MODEL=%s does not compile: %s\n", path, m ? etn_error(m) : "out of memory");
        exit(1);
    }
    etn_model_free(m);
}

#endif
