/* lower_embed.c — an Embedding (OP_EMBED) in logic: per output column one ROM over the index codes, read by
 * every index; a code that selects no row (ir_embed_row) reads 0. */
#include "hw/lower.h"

int lower_embed(HwDesign *r, HwModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *w = &g->t[nd->in[1]];
    FxType res = g->t[nd->out].type;
    long rows = w->const_dims[0], dd = w->const_dims[1], nx = ir_numel(x);
    int s = x->type.i - x->type.w;   /* the index is code << s */
    if (s < 0) {
        char t[64];
        fx_format(x->type, t, sizeof t);
        return diag_error(d, "%s: node '%s' (%s): expected an integer index type in RTL, got %s (give input '%s' an "
                             "integer type; the emulator and C read a fractional index as hls4ml does)", g->file,
                          nd->name, nd->src_op, t, x->name);
    }
    /* codes below -1 read as -1 and above the last row + 1 as that: both select no row */
    int64_t cmin = fx_type_min(x->type), cmax = fx_type_max(x->type), last = (int64_t)((rows - 1) >> s);
    int64_t lo = cmin > -1 ? cmin : -1, hi = cmax < last + 1 ? cmax : last + 1;
    long n = (long)(hi - lo + 1);
    int aw = 1;
    while ((1L << aw) < n)
        aw++;
    int *rom = arena_array(&r->arena, (size_t)dd, sizeof(int));
    for (long i = 0; i < dd; i++) {
        int64_t *data = arena_array(&r->arena, (size_t)n, sizeof(int64_t));
        for (long a = 0; a < n; a++) {
            long q = ir_embed_pos(x->type, lo + a, rows, dd, i);
            data[a] = q < 0 ? 0 : fx_cast_to(w->codes[q], fx_frac(w->type), res);
        }
        rom[i] = hw_rom_add(m, data, n, aw, res, 0);
    }
    m->nout = nx * dd;
    m->out = arena_array(&r->arena, (size_t)m->nout, sizeof(int));
    for (long j = 0; j < nx; j++) {
        int xi = hw_in(m, 0, j, x->type);
        for (long i = 0; i < dd; i++)
            m->out[j * dd + i] = hw_rom_read(m, xi, rom[i], lo, hi, res);
    }
    return 0;
}
