/* dataio.c — reading and writing event files (text and .npy). */
#include "tools/dataio.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

static int parse_text(Diag *d, const char *name, const char *s, size_t len, size_t width, double **out, size_t *n)
{
    size_t cap = 0, count = 0, line = 1;
    double *v = NULL;
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        size_t got = 0;
        const char *q = p;
        while (q < eol) {
            while (q < eol && (isspace((unsigned char)*q) || *q == ','))
                q++;
            if (q >= eol || *q == '#')
                break;
            char tok[128];
            size_t k = 0;
            while (q < eol && !isspace((unsigned char)*q) && *q != ',' && k + 1 < sizeof tok)
                tok[k++] = *q++;
            tok[k] = 0;
            if (q < eol && !isspace((unsigned char)*q) && *q != ',') {
                free(v);
                return diag_error(d, "%s: line %zu: expected a number of at most %zu characters, got '%.20s...'", name,
                                  line, sizeof tok - 1, tok);
            }
            char *te;
            errno = 0;
            double x = strtod(tok, &te);
            if (*te || te == tok) {
                free(v);
                return diag_error(d, "%s: line %zu: expected a number, got '%s'", name, line, tok);
            }
            v = vec_grow(v, &cap, count * width + got + 1, sizeof(double));
            v[count * width + got] = x;
            got++;
        }
        if (got && got != width) {
            free(v);
            return diag_error(d, "%s: line %zu: expected %zu values per event, got %zu", name, line, width, got);
        }
        count += got ? 1 : 0;
        p = eol + 1;
        line++;
    }
    if (count == 0) {
        free(v);
        return diag_error(d, "%s: expected at least one event, got none", name);
    }
    *out = v;
    *n = count;
    return 0;
}

static int parse_npy(Diag *d, const char *name, const unsigned char *b, size_t len, size_t width, double **out, size_t *n)
{
    if (len < 10)
        return diag_error(d, "%s: expected a .npy header, got a truncated file", name);
    int major = b[6];
    size_t hlen, hoff;
    if (major == 1) {
        hlen = (size_t)b[8] | ((size_t)b[9] << 8);
        hoff = 10;
    } else {
        if (len < 12)
            return diag_error(d, "%s: expected a .npy header, got a truncated file", name);
        hlen = (size_t)b[8] | ((size_t)b[9] << 8) | ((size_t)b[10] << 16) | ((size_t)b[11] << 24);
        hoff = 12;
    }
    if (hlen > len - hoff)
        return diag_error(d, "%s: expected a .npy header of %zu bytes, got a truncated file", name, hlen);
    char hdr[1024];
    size_t cl = hlen < sizeof hdr - 1 ? hlen : sizeof hdr - 1;
    memcpy(hdr, b + hoff, cl);
    hdr[cl] = 0;
    const char *descr = strstr(hdr, "'descr'");
    const char *fo = strstr(hdr, "'fortran_order'");
    const char *shape = strstr(hdr, "'shape'");
    if (!descr || !fo || !shape)
        return diag_error(d, "%s: expected a .npy header with descr, fortran_order and shape, got '%s'", name, hdr);
    if (strstr(fo, "True"))
        return diag_error(d, "%s: expected a C-ordered array, got fortran_order True", name);
    const char *q = strchr(descr + 7, '\'');
    if (!q)
        return diag_error(d, "%s: expected a quoted dtype after 'descr' in the .npy header, got '%s'", name, hdr);
    char dt[16] = {0};
    size_t k = 0;
    for (q++; *q && *q != '\'' && k + 1 < sizeof dt; q++)
        dt[k++] = *q;
    int kind; /* 0 f8, 1 f4, 2 i8, 3 i4 */
    if (!strcmp(dt, "<f8"))
        kind = 0;
    else if (!strcmp(dt, "<f4"))
        kind = 1;
    else if (!strcmp(dt, "<i8"))
        kind = 2;
    else if (!strcmp(dt, "<i4"))
        kind = 3;
    else
        return diag_error(d, "%s: expected dtype float64, float32, int64 or int32 (little-endian), got '%s'", name, dt);
    size_t esize = kind == 0 || kind == 2 ? 8 : 4;
    const char *sp = strchr(shape, '(');
    const char *sp_end = sp ? strchr(sp, ')') : NULL;
    int shape_len = sp ? (int)(sp_end ? sp_end - sp + 1 : (long)strlen(sp)) : 0;   /* "(3, 16)" in messages */
    if (shape_len > 80)
        shape_len = 80;
    if (!sp)
        return diag_error(d, "%s: expected a shape tuple after 'shape' in the .npy header, got '%s'", name, hdr);
    size_t dims[8], nd = 0, total = 1;
    for (sp++; *sp && *sp != ')';) {
        while (*sp == ' ' || *sp == ',')
            sp++;
        if (*sp == ')')
            break;
        char *e2;
        unsigned long long v = strtoull(sp, &e2, 10);
        if (e2 == sp || nd >= 8 || v > (1ULL << 40))
            return diag_error(d, "%s: expected a shape of at most 8 dimensions, each 0..2^40, got %.*s", name,
                              shape_len, strchr(shape, '('));
        dims[nd++] = (size_t)v;
        if (v && total > SIZE_MAX / 64 / v)
            return diag_error(d, "%s: expected an array of less than 2^58 values, got shape %.*s", name,
                              shape_len, strchr(shape, '('));
        total *= (size_t)v;
        sp = e2;
    }
    size_t events = nd == 0 ? 1 : dims[0];
    size_t per = events ? total / events : 0;
    if (nd == 1 && width != 1 && dims[0] == width) {
        events = 1;
        per = width;
    }
    if (per != width)
        return diag_error(d, "%s: expected %zu values per event, got shape %.*s with %zu", name, width,
                          shape_len, strchr(shape, '('), per);
    size_t data_off = hoff + hlen;
    if (len - data_off < total * esize)
        return diag_error(d, "%s: expected %zu bytes of data, got %zu (truncated)", name, total * esize, len - data_off);
    double *v = malloc((total ? total : 1) * sizeof(double));
    if (!v)
        return diag_error(d, "%s: out of memory for %zu values", name, total);
    const unsigned char *p = b + data_off;
    for (size_t e = 0; e < total; e++, p += esize) {
        uint64_t u = 0;
        for (size_t j = 0; j < esize; j++)
            u |= (uint64_t)p[j] << (8 * j);
        if (kind == 0) {
            memcpy(&v[e], &u, 8);
        } else if (kind == 1) {
            uint32_t u32 = (uint32_t)u;
            float f;
            memcpy(&f, &u32, 4);
            v[e] = f;
        } else if (kind == 2) {
            v[e] = (double)(int64_t)u;
        } else {
            v[e] = (double)(int32_t)(uint32_t)u;
        }
    }
    if (events == 0) {
        free(v);
        return diag_error(d, "%s: expected at least one event, got none", name);
    }
    *out = v;
    *n = events;
    return 0;
}

int data_parse(Diag *d, const char *name, const unsigned char *buf, size_t len, size_t width, double **out, size_t *n)
{
    if (width == 0)
        return diag_error(d, "%s: internal: zero-width events", name);
    if (len >= 6 && !memcmp(buf, "\x93NUMPY", 6))
        return parse_npy(d, name, buf, len, width, out, n);
    return parse_text(d, name, (const char *)buf, len, width, out, n);
}

int data_read(Diag *d, const char *path, size_t width, double **out, size_t *n)
{
    size_t len;
    unsigned char *buf = util_read_file(d, path, &len);
    if (!buf)
        return -1;
    int rc = data_parse(d, path, buf, len, width, out, n);
    free(buf);
    return rc;
}

int data_write_file(Diag *d, const char *path, const void *data, size_t len)
{
    if (!path || !path[0])
        return diag_error(d, "expected an output file name, got an empty one");
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return diag_error(d, "%s: expected a file name shorter than 4096 bytes", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return diag_error(d, "%s: cannot write: %s", path, strerror(errno));
    int bad = len && fwrite(data, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) < 0) {
        int e = errno;
        remove(tmp);
        return diag_error(d, "%s: write failed: %s", path, strerror(e));
    }
    return 0;
}

/* .npy bytes (float64, shape (n, width)) of columns [col, col + width) of n rows of stride values */
static void npy_bytes(Buf *b, const double *v, size_t n, size_t width, size_t stride, size_t col)
{
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }", n, width);
    size_t total = 10 + (size_t)hl + 1;
    size_t pad = (64 - total % 64) % 64;
    unsigned short hlen = (unsigned short)(hl + 1 + pad);
    buf_append(b, "\x93NUMPY\x01\x00", 8);
    unsigned char hb[2] = {(unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    buf_append(b, hb, 2);
    buf_append(b, hdr, (size_t)hl);
    for (size_t k = 0; k < pad; k++)
        buf_append(b, " ", 1);
    buf_append(b, "\n", 1);
    for (size_t r = 0; r < n; r++)
        for (size_t k = 0; k < width; k++) {
            uint64_t u;
            memcpy(&u, &v[r * stride + col + k], 8);
            unsigned char bytes[8];
            for (int j = 0; j < 8; j++)
                bytes[j] = (unsigned char)(u >> (8 * j));
            buf_append(b, bytes, 8);
        }
}

int data_write_npy(Diag *d, const char *path, const double *v, size_t n, size_t width)
{
    Buf b = {0};
    npy_bytes(&b, v, n, width, width, 0);
    int rc = b.failed ? diag_error(d, "%s: out of memory for %zu values", path, n * width)
                      : data_write_file(d, path, b.data, b.len);
    buf_free(&b);
    return rc;
}

static int has_npz_suffix(const char *path)
{
    size_t l = strlen(path);
    return l > 4 && !strcmp(path + l - 4, ".npz");
}

int data_is_npz(const char *path) { return path && has_npz_suffix(path); }

int data_read_npz(Diag *d, const char *path, const char *key, size_t width, double **out, size_t *n)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        int rc = diag_error(d, "%s: expected a NumPy .npz archive (zip), got a file libzip cannot open (%s)", path,
                            zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    char entry[600], name[700];
    snprintf(entry, sizeof entry, "%s.npy", key);
    snprintf(name, sizeof name, "%s:%s", path, entry);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(z, entry, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
        Buf keys = {0};
        zip_int64_t ne = zip_get_num_entries(z, 0);
        for (zip_int64_t k = 0; k < ne && k < 64; k++) {
            const char *en = zip_get_name(z, (zip_uint64_t)k, 0);
            size_t el = en ? strlen(en) : 0;
            if (el > 4 && !strcmp(en + el - 4, ".npy"))
                buf_printf(&keys, "%s'%.*s'", keys.len ? ", " : "", (int)(el - 4), en);
        }
        int rc = diag_error(d, "%s: expected an array named '%s' (the model's input), got %s", path, key,
                            keys.len ? keys.data : "no arrays");
        buf_free(&keys);
        zip_discard(z);
        return rc;
    }
    if (st.size > (1u << 31)) {
        zip_discard(z);
        return diag_error(d, "%s: expected at most 2 GiB, got %llu bytes", name, (unsigned long long)st.size);
    }
    zip_file_t *zf = zip_fopen(z, entry, 0);
    unsigned char *buf = malloc((size_t)st.size + 1);
    zip_int64_t got = zf && buf ? zip_fread(zf, buf, st.size) : -1;
    if (zf)
        zip_fclose(zf);
    zip_discard(z);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        free(buf);
        return diag_error(d, "%s: expected a readable array, got a read error (corrupt archive?)", name);
    }
    int rc = (size_t)st.size >= 6 && !memcmp(buf, "\x93NUMPY", 6)
                 ? parse_npy(d, name, buf, (size_t)st.size, width, out, n)
                 : diag_error(d, "%s: expected a .npy array, got other bytes", name);
    free(buf);
    return rc;
}

int data_write_npz(Diag *d, const char *path, size_t nkeys, const char *const *keys, const size_t *widths,
                   const double *v, size_t n)
{
    if (!path || !path[0])
        return diag_error(d, "expected an output file name, got an empty one");
    size_t stride = 0;
    for (size_t k = 0; k < nkeys; k++)
        stride += widths[k];
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return diag_error(d, "%s: expected a file name shorter than 4096 bytes", path);
    int err = 0;
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z)
        return diag_error(d, "%s: cannot write", path);
    Buf *bufs = calloc(nkeys ? nkeys : 1, sizeof(Buf));
    int bad = !bufs;
    for (size_t k = 0, col = 0; !bad && k < nkeys; col += widths[k], k++) {
        char entry[600];
        snprintf(entry, sizeof entry, "%s.npy", keys[k]);
        npy_bytes(&bufs[k], v, n, widths[k], stride, col);
        zip_source_t *src = bufs[k].failed ? NULL : zip_source_buffer(z, bufs[k].data, bufs[k].len, 0);
        zip_int64_t idx = src ? zip_file_add(z, entry, src, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            if (src)
                zip_source_free(src);
            bad = 1;
            break;
        }
        zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        zip_file_set_mtime(z, (zip_uint64_t)idx, 315532800, 0);   /* 1980-01-01: same outputs, same bytes */
    }
    if (bad) {
        zip_discard(z);
    } else if (zip_close(z) < 0) {
        zip_discard(z);
        bad = 1;
    }
    for (size_t k = 0; bufs && k < nkeys; k++)
        buf_free(&bufs[k]);
    free(bufs);
    if (bad || rename(tmp, path) < 0) {
        remove(tmp);
        return diag_error(d, "%s: write failed", path);
    }
    return 0;
}
