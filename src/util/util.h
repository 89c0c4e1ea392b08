/* util.h — arena allocation, growable buffers, string builder, diagnostics.
 * Everything the library allocates lives in an Arena owned by its context. */
#ifndef ETN_UTIL_H
#define ETN_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ETN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ETN_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* An arena: chunks freed all at once. */
typedef struct ArenaChunk ArenaChunk;
typedef struct {
    ArenaChunk *head;   /* most recent chunk */
} Arena;

void *arena_alloc(Arena *a, size_t n);                   /* zeroed, 16-aligned */
void *arena_array(Arena *a, size_t count, size_t size);  /* overflow-checked */
char *arena_strdup(Arena *a, const char *s);
char *arena_printf(Arena *a, const char *fmt, ...) ETN_PRINTF(2, 3);
void arena_free(Arena *a);

/* A growable byte buffer on the heap (not the arena): for output text and
 * vectors whose size is unknown until the end. */
typedef struct {
    char *data;   /* NUL-terminated when used as text */
    size_t len;   /* bytes used */
    size_t cap;   /* bytes allocated */
    int failed;   /* an allocation failed; content is truncated */
} Buf;

void buf_reserve(Buf *b, size_t extra);
void buf_append(Buf *b, const void *p, size_t n);
void buf_printf(Buf *b, const char *fmt, ...) ETN_PRINTF(2, 3);
void buf_vprintf(Buf *b, const char *fmt, va_list ap);
void buf_free(Buf *b);

/* Vectors of fixed-size elements on the heap: VEC_PUSH(ptr, len, cap, value). */
void *vec_grow(void *p, size_t *cap, size_t need, size_t size);
#define VEC_PUSH(p, len, cap, v)                                            \
    do {                                                                    \
        (p) = vec_grow((p), &(cap), (size_t)(len) + 1, sizeof(*(p)));       \
        (p)[(len)++] = (v);                                                 \
    } while (0)

/* Diagnostics: a user error is a message in the context plus a non-zero return.
 * Internal bugs are assertions. */
typedef struct {
    char msg[1024];   /* first error reported; later ones are dropped */
    int set;          /* an error is pending */
    Buf warn;         /* warnings, one per line ("warning: ...\n"); heap, freed by diag_free */
    int nwarn;        /* warnings in warn */
} Diag;

/* Messages never carry control characters from names: each byte below 0x20
 * (and 0x7f) of the formatted text becomes '?'. */
int diag_error(Diag *d, const char *fmt, ...) ETN_PRINTF(2, 3);  /* returns -1 */
/* A warning: the compile goes on; the text says what and where, with a count. */
void diag_warn(Diag *d, const char *fmt, ...) ETN_PRINTF(2, 3);
void diag_free(Diag *d);

/* Read a whole file into malloc'd memory; returns NULL and sets d on failure. */
unsigned char *util_read_file(Diag *d, const char *path, size_t *len);

/* Format a double with the fewest digits that read back to the same value. */
void util_fmt_double(char *out, size_t n, double v);

#endif
