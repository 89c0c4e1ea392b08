/* keras.c — Keras front end (architecture JSON, .h5, .keras) to IR. */
#include "frontends/frontends.h"

int keras_load(Graph *g, Diag *d, const char *path, const char *weights_path)
{
    (void)g;
    (void)weights_path;
    return diag_error(d, "%s: Keras models are not supported yet", path);
}
