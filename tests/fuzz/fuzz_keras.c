/* fuzz_keras.c — libFuzzer target for the Keras front end in its three forms:
 * architecture JSON + weights HDF5, a Keras 2 .h5 (model_config attribute +
 * model_weights), a Keras 3 .keras archive (config.json + model.weights.h5).
 * Input: a byte choosing the form (mod 3), a byte choosing a weights file
 * (mod the number of .h5 files in $ETCHNN_FUZZ_KERAS_WEIGHTS, sorted by name),
 * then the architecture JSON.  The harness writes the model in the chosen form
 * around the fuzzed JSON and that (valid) weights file — the HDF5 bytes are not
 * mutated: libhdf5 1.10 itself reads out of bounds on corrupt files (README) —
 * loads it with etn_load, and if that works compiles it and emulates one event
 * of zeros (fixed point and float).  Seeds: make_keras_seeds.py.
 * Build and run: make fuzz-keras FUZZ_SECONDS=600 (rules in tests/fuzz/fuzz.mk). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <zip.h>

#include "etchnn.h"

#define MAX_INPUT 65536
#define MAX_WEIGHTS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char path_json[4200], path_weights[4200], path_h5[4200], path_keras[4200];
static char *wpath[MAX_WEIGHTS];     /* the valid weights files */
static unsigned char *wdata[MAX_WEIGHTS];
static size_t wlen[MAX_WEIGHTS];
static int nweights;

static void cleanup(void)
{
    unlink(path_json);
    unlink(path_weights);
    unlink(path_h5);
    unlink(path_keras);
    rmdir(dir);
    for (int k = 0; k < nweights; k++) {
        free(wpath[k]);
        free(wdata[k]);
    }
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return b;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *wd = getenv("ETCHNN_FUZZ_KERAS_WEIGHTS");
    DIR *d = wd && wd[0] ? opendir(wd) : NULL;
    if (!d) {
        fprintf(stderr, "fuzz_keras: needs ETCHNN_FUZZ_KERAS_WEIGHTS, a directory of valid weights .h5 files\n");
        exit(1);
    }
    for (struct dirent *e; (e = readdir(d)) != NULL && nweights < MAX_WEIGHTS;) {
        size_t l = strlen(e->d_name);
        if (l > 3 && !strcmp(e->d_name + l - 3, ".h5")) {
            size_t n = strlen(wd) + l + 2;
            wpath[nweights] = malloc(n);
            snprintf(wpath[nweights], n, "%s/%s", wd, e->d_name);
            nweights++;
        }
    }
    closedir(d);
    qsort(wpath, (size_t)nweights, sizeof wpath[0], cmp_str);
    for (int k = 0; k < nweights; k++)
        if (!(wdata[k] = read_all(wpath[k], &wlen[k]))) {
            fprintf(stderr, "fuzz_keras: cannot read %s\n", wpath[k]);
            exit(1);
        }
    if (!nweights) {
        fprintf(stderr, "fuzz_keras: no .h5 files in %s\n", wd);
        exit(1);
    }
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/etchnn_fuzz_keras_XXXXXX", t && t[0] ? t : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz_keras: mkdtemp");
        exit(1);
    }
    snprintf(path_json, sizeof path_json, "%s/m.json", dir);
    snprintf(path_weights, sizeof path_weights, "%s/m_weights.h5", dir);
    snprintf(path_h5, sizeof path_h5, "%s/m.h5", dir);
    snprintf(path_keras, sizeof path_keras, "%s/m.keras", dir);
    atexit(cleanup);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return 0;
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

/* A Keras 2 .h5: attribute model_config = json, group model_weights = the weights file's root. */
static void write_h5_model(const char *json, int w)
{
    hid_t f = H5Fcreate(path_h5, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t src = H5Fopen(wpath[w], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0 || src < 0)
        abort();
    hid_t st = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(st, strlen(json) + 1);
    hid_t a = H5Acreate2(f, "model_config", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, st, json) < 0)
        abort();
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
    if (H5Ocopy(src, "/", f, "model_weights", H5P_DEFAULT, H5P_DEFAULT) < 0)
        abort();
    H5Fclose(src);
    H5Fclose(f);
}

/* A Keras 3 archive: config.json = json, model.weights.h5 = the weights file. */
static void write_keras_archive(const char *json, size_t jl, int w)
{
    unlink(path_keras);
    int err = 0;
    zip_t *z = zip_open(path_keras, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z)
        abort();
    zip_source_t *s1 = zip_source_buffer(z, json, jl, 0), *s2 = zip_source_buffer(z, wdata[w], wlen[w], 0);
    if (!s1 || zip_file_add(z, "config.json", s1, ZIP_FL_OVERWRITE) < 0 || !s2 ||
        zip_file_add(z, "model.weights.h5", s2, ZIP_FL_OVERWRITE) < 0 || zip_close(z) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int form = data[0] % 3, w = data[1] % nweights;
    size_t jl = size - 2;
    char *json = malloc(jl + 1);
    if (!json)
        return 0;
    memcpy(json, data + 2, jl);
    json[jl] = 0;
    const char *model_path;
    if (form == 0) {
        write_file(path_json, json, jl);
        write_file(path_weights, wdata[w], wlen[w]);
        model_path = path_json;
    } else if (form == 1) {
        write_h5_model(json, w);
        model_path = path_h5;
    } else {
        write_keras_archive(json, jl, w);
        model_path = path_keras;
    }
    EtnModel *m = etn_model_new();
    if (m && etn_load(m, model_path) == ETN_OK && etn_compile(m) == ETN_OK) {
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
    if (m)
        (void)etn_error(m);
    etn_model_free(m);
    free(json);
    return 0;
}
