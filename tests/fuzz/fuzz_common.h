/* fuzz_common.h — shared by the fuzz targets that need a valid model: the
 * ONNX file named by $ETCHNN_FUZZ_MODEL, read once at start-up. */
#ifndef ETN_FUZZ_COMMON_H
#define ETN_FUZZ_COMMON_H
#include <stdio.h>
#include <stdlib.h>

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
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
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
}

#endif
