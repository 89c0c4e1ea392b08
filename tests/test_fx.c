/* test_fx.c — a driver exposing the fixed-point core to the Python tests:
 *   test_fx cast FSRC W F SIGN Q O       int64 codes on stdin -> int64 codes on stdout (binary, LE)
 *   test_fx fromdouble W F SIGN Q O      float64 on stdin -> int64 codes on stdout
 *   test_fx parse TYPE                   canonical spelling and fields, or the error (exit 2)
 *   test_fx format M F                   exact decimal value of code M with F fractional bits */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    fprintf(stderr, "usage: test_fx cast|fromdouble|parse|format ...\n");
    return 2;
}
