/* frontends.h — model readers: each turns a file into IR, nothing else. */
#ifndef ETN_FRONTENDS_H
#define ETN_FRONTENDS_H
#include <stddef.h>

#include "ir/ir.h"

/* Read an ONNX model from memory; `file` names it in messages.  Fills g
 * (initialised by the caller).  Returns 0, or -1 with a message in d. */
int onnx_load(Graph *g, Diag *d, const void *buf, size_t len, const char *file);

/* Read a Keras model: architecture JSON (+ weights .h5: weights_path, or
 * NAME_weights.h5 beside NAME.json), a Keras 2 .h5, or a Keras 3 .keras. */
int keras_load(Graph *g, Diag *d, const char *path, const char *weights_path);
/* Read a Keras model from memory: the bytes of a Keras 3 .keras archive or of
 * a Keras 2 .h5 file (told apart by the HDF5 signature); `name` names it in
 * messages and gives the model its name. */
int keras_load_buffer(Graph *g, Diag *d, const void *buf, size_t len, const char *name);

#endif
