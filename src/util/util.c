/* util.c — arena, buffers, diagnostics, file reading. */
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ArenaChunk {
    ArenaChunk *next;   /* older chunk */
    size_t used, size;  /* bytes used / available in data */
    _Alignas(16) unsigned char data[];
};

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    if (!a->head || a->head->size - a->head->used < n) {
        size_t size = n > 65536 ? n : 65536;
        ArenaChunk *c = malloc(sizeof(ArenaChunk) + size);
        if (!c) {
            fprintf(stderr, "etchnn: out of memory\n");
            abort();
        }
        c->next = a->head;
        c->used = 0;
        c->size = size;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

void *arena_array(Arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size / 2) {
        fprintf(stderr, "etchnn: allocation too large\n");
        abort();
    }
    return arena_alloc(a, count * size != 0 ? count * size : 1);
}

char *arena_strdup(Arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(a, n);
    memcpy(p, s, n);
    return p;
}

char *arena_printf(Arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void arena_free(Arena *a)
{
    ArenaChunk *c = a->head;
    while (c) {
        ArenaChunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void buf_reserve(Buf *b, size_t extra)
{
    if (b->failed)
        return;
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return;
    }
    b->data = p;
    b->cap = cap;
}

void buf_append(Buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (b->failed)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void buf_vprintf(Buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    buf_reserve(b, (size_t)n);
    if (!b->failed) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_free(Buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void *vec_grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    if (c > SIZE_MAX / size) {
        fprintf(stderr, "etchnn: allocation too large\n");
        abort();
    }
    void *q = realloc(p, c * size);
    if (!q) {
        fprintf(stderr, "etchnn: out of memory\n");
        abort();
    }
    *cap = c;
    return q;
}

int diag_error(Diag *d, const char *fmt, ...)
{
    if (d->set)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    for (char *c = d->msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    d->set = 1;
    return -1;
}

#define DIAG_MAX_WARNINGS 100

void diag_warn(Diag *d, const char *fmt, ...)
{
    if (++d->nwarn > DIAG_MAX_WARNINGS) {
        if (d->nwarn == DIAG_MAX_WARNINGS + 1)
            buf_printf(&d->warn, "warning: more than %d warnings; the rest are not shown\n", DIAG_MAX_WARNINGS);
        return;
    }
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    buf_printf(&d->warn, "warning: %s\n", line);
}

void diag_free(Diag *d)
{
    buf_free(&d->warn);
    d->nwarn = 0;
}

unsigned char *util_read_file(Diag *d, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_error(d, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    Buf b = {0};
    unsigned char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, n);
    int err = ferror(f);
    fclose(f);
    if (err || b.failed) {
        buf_free(&b);
        diag_error(d, "%s: read error", path);
        return NULL;
    }
    if (!b.data)
        buf_append(&b, "", 0);
    *len = b.len;
    return (unsigned char *)b.data;
}

void util_fmt_double(char *out, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}
