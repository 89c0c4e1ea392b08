/* test_fx.c — a driver exposing the fixed-point core to the Python tests:
 *   test_fx cast FSRC W F SIGN Q O       int64 codes on stdin -> int64 codes on stdout (binary, LE)
 *   test_fx cast128 FSRC W F SIGN Q O    128-bit codes (low, high int64 words) on stdin -> int64 codes (fx_wide.h)
 *   test_fx fromdouble W F SIGN Q O      float64 on stdin -> int64 codes on stdout
 *   test_fx parse TYPE                   canonical spelling and fields, or the error (exit 2)
 *   test_fx format M F                   exact decimal value of code M with F fractional bits */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etchnn.h"
#include "ir/fx.h"

int main(int argc, char **argv)
{
    if (argc >= 8 && !strcmp(argv[1], "cast")) {
        int fsrc = atoi(argv[2]), w = atoi(argv[3]), f = atoi(argv[4]), s = atoi(argv[5]), q = atoi(argv[6]),
            o = atoi(argv[7]);
        int64_t buf[4096];
        size_t n;
        while ((n = fread(buf, sizeof(int64_t), 4096, stdin)) > 0) {
            for (size_t k = 0; k < n; k++)
                buf[k] = fx_cast(buf[k], fsrc, w, f, s, q, o);
            fwrite(buf, sizeof(int64_t), n, stdout);
        }
        return 0;
    }
    if (argc >= 8 && !strcmp(argv[1], "cast128")) {
        int fsrc = atoi(argv[2]), w = atoi(argv[3]), f = atoi(argv[4]), s = atoi(argv[5]), q = atoi(argv[6]),
            o = atoi(argv[7]);
        uint64_t in[2];
        while (fread(in, sizeof(uint64_t), 2, stdin) == 2) {
            fx_i128 m = (fx_i128)(((fx_u128)in[1] << 64) | in[0]);
            int64_t c = fx_cast128(m, fsrc, w, f, s, q, o);
            fwrite(&c, sizeof c, 1, stdout);
        }
        return 0;
    }
    if (argc >= 7 && !strcmp(argv[1], "fromdouble")) {
        int w = atoi(argv[2]), f = atoi(argv[3]), s = atoi(argv[4]), q = atoi(argv[5]), o = atoi(argv[6]);
        double in[4096];
        int64_t out[4096];
        size_t n;
        while ((n = fread(in, sizeof(double), 4096, stdin)) > 0) {
            for (size_t k = 0; k < n; k++)
                out[k] = fx_from_double(in[k], w, f, s, q, o);
            fwrite(out, sizeof(int64_t), n, stdout);
        }
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "parse")) {
        FxType t;
        char err[512], canon[96], ap[96];
        if (fx_parse(argv[2], &t, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        fx_format(t, canon, sizeof canon);
        fx_format_ap(t, ap, sizeof ap);
        printf("%s %s %d %d %d %d %d\n", canon, ap, t.w, t.i, t.sign, t.q, t.o);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "format")) {
        char out[800];
        fx_format_value(strtoll(argv[2], NULL, 10), atoi(argv[3]), out, sizeof out);
        printf("%s\n", out);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "intervals")) {   /* test_fx intervals MODEL [KEY VALUE]...: etn_layer_intervals */
        EtnModel *m = etn_model_new();
        int rc = m ? etn_load(m, argv[2]) : ETN_EINTERNAL;
        for (int a = 3; rc == ETN_OK && a + 1 < argc; a += 2)
            rc = etn_set_option(m, argv[a], argv[a + 1]);
        if (rc == ETN_OK)
            rc = etn_compile(m);
        size_t n = rc == ETN_OK ? etn_layer_count(m) : 0;
        double *iv = n ? malloc(sizeof(double) * 6 * n) : NULL;
        if (rc == ETN_OK && (rc = etn_layer_intervals(m, iv, n)) == ETN_OK)
            printf("inputs %zu outputs %zu\n", etn_input_size(m), etn_output_size(m));
        if (rc == ETN_OK)
            for (size_t k = 0; k < n; k++)
                printf("%s %.17g %.17g %.17g %.17g %d %d\n", etn_layer_name(m, k), iv[6 * k], iv[6 * k + 1],
                       iv[6 * k + 2], iv[6 * k + 3], (int)iv[6 * k + 4], (int)iv[6 * k + 5]);
        if (rc != ETN_OK)
            fprintf(stderr, "test_fx intervals: %s\n", m ? etn_error(m) : "out of memory");
        free(iv);
        etn_model_free(m);
        return rc == ETN_OK ? 0 : 1;
    }
    fprintf(stderr, "usage: test_fx cast|fromdouble|parse|format|intervals ...\n");
    return 2;
}
