/* dataio.h — event files: whitespace-separated text (one event per line, as
 * hls4ml's .dat test vectors) and NumPy .npy. */
#ifndef ETN_DATAIO_H
#define ETN_DATAIO_H
#include <stddef.h>

#include "util/util.h"

/* Read events of `width` values each; *out is malloc'd (n*width doubles). */
int data_read(Diag *d, const char *path, size_t width, double **out, size_t *n);
/* Same from memory (format chosen by content: .npy magic or text). */
int data_parse(Diag *d, const char *name, const unsigned char *buf, size_t len, size_t width, double **out, size_t *n);
/* Write len bytes to path all or nothing (a temporary file renamed into place). */
int data_write_file(Diag *d, const char *path, const void *data, size_t len);
/* Write n events of width doubles as .npy (float64, shape (n, width)), all or nothing. */
int data_write_npy(Diag *d, const char *path, const double *v, size_t n, size_t width);
/* Does path name a NumPy .npz archive (by its suffix)? */
int data_is_npz(const char *path);
/* Events of array `key` (key.npy) of the .npz archive at path, as data_read; a missing key names those present. */
int data_read_npz(Diag *d, const char *path, const char *key, size_t width, double **out, size_t *n);
/* n rows of v (each the widths[k] values of key k, one key after the other) as a .npz archive of one float64
 * array (n, widths[k]) per key, stored (not compressed), all or nothing. */
int data_write_npz(Diag *d, const char *path, size_t nkeys, const char *const *keys, const size_t *widths,
                   const double *v, size_t n);

#endif
