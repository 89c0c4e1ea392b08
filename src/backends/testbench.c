/* testbench.c — the description of a design's test benches (TbSpec): filled
 * from the design, its schedule and checks derived in one place
 * (tb_spec_init); the Icarus bench written beside the circuit (OUT/rtl/
 * tb_NAME.v with its .mem files, text by tb_icarus.c); and the random input
 * codes it shares with etchnn verify (src/tools/verify.c, whose Verilator
 * bench tb_verilator.c writes from the same description). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backends.h"
#include "backends/testbench.h"
#include "etchnn.h"
#include "hw/hw.h"
#include "tools/emulate.h"

/* splitmix64: a small, well-mixed generator; the state lives with the caller */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The code of type t whose low w bits are u. */
static int64_t code_of_bits(FxType t, uint64_t u)
{
    if (t.w < 64)
        u &= (UINT64_C(1) << t.w) - 1u;
    if (t.sign && t.w < 64 && (u >> (t.w - 1)) & 1u)
        u |= ~UINT64_C(0) << t.w;
    return (int64_t)u;
}

void tb_random_codes(FxType t, long nin, size_t n, uint64_t seed, int64_t *out)
{
    uint64_t s = seed;
    int64_t hi = fx_type_max(t), lo = fx_type_min(t);
    int mag = t.sign ? t.w - 1 : t.w;   /* magnitude bits */
    for (size_t ev = 0; ev < n; ev++) {
        int64_t *x = out + ev * (size_t)nin;
        for (long e = 0; e < nin; e++) {
            int64_t c;
            if (ev == 0)
                c = 0;
            else if (ev == 1)
                c = hi;
            else if (ev == 2)
                c = lo;
            else if (ev == 3)
                c = e % 2 ? lo : hi;
            else if (ev % 2 == 0)
                c = code_of_bits(t, next_u64(&s));
            else {
                /* |c| < 2^s, s uniform in 0..mag */
                int sb = (int)(next_u64(&s) % (uint64_t)(mag + 1));
                uint64_t u = next_u64(&s);
                uint64_t m = sb >= 63 ? u >> 1 : u & ((UINT64_C(1) << sb) - 1u);
                c = (int64_t)m;
                if (t.sign && (next_u64(&s) & 1u))
                    c = -c - 1;   /* -2^s .. -1 */
                if (c > hi)
                    c = hi;
                if (c < lo)
                    c = lo;
            }
            x[e] = c;
        }
    }
}

/* One memory line: n codes of w bits packed (element k at bits [k*w +: w]), in hex, MSB first. */
void tb_hex_line(Buf *b, const int64_t *codes, long n, int w, uint32_t *words)
{
    long bits = n * w, nw = (bits + 31) / 32;
    memset(words, 0, (size_t)nw * sizeof(uint32_t));
    for (long k = 0; k < n; k++) {
        uint64_t u = (uint64_t)codes[k];
        for (int i = 0; i < w; i++)
            if ((u >> i) & 1u) {
                long bit = k * w + i;
                words[bit / 32] |= UINT32_C(1) << (bit % 32);
            }
    }
    char *line = malloc((size_t)(bits + 3) / 4 + 2);
    if (!line) {
        b->failed = 1;
        return;
    }
    long nd = (bits + 3) / 4;
    for (long d = 0; d < nd; d++) {
        long bit = (nd - 1 - d) * 4;
        unsigned v = (words[bit / 32] >> (bit % 32)) & 0xfu;
        line[d] = "0123456789abcdef"[v];
    }
    line[nd] = '\n';
    buf_append(b, line, (size_t)nd + 1);
    free(line);
}

/* ---- the description ------------------------------------------------------ */

void tb_spec_init(TbSpec *s)
{
    s->reset_clocks = 3;
    s->reset_in_valid = s->kind == TB_PARALLEL;
    s->gap_every = 4;
    s->gap_mod = 3;
    s->gap_seed = 12345;
    if (s->kind == TB_PARALLEL) {
        s->drain = s->latency + 2;
        s->limit_base = s->limit_per = 0;
    } else {
        s->drain = 4 * s->beats + 200;
        /* the gaps of every fourth image cost it about beats / 2 clocks */
        s->limit_base = s->latency + 1000;
        s->limit_per = s->ii + s->beats + 16;
    }
}

static void set_port(TbPort *p, long n, FxType t)
{
    p->n = n;
    p->w = t.w;
    p->sign = t.sign;
}

void tb_spec_design(TbSpec *s, const HwDesign *r, size_t n)
{
    const Graph *g = r->g;
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    memset(s, 0, sizeof *s);
    s->kind = TB_PARALLEL;
    snprintf(s->top, sizeof s->top, "%s", r->top);
    set_port(&s->in, ir_numel(ti), ti->type);
    set_port(&s->out, ir_numel(to), to->type);
    if (g->ninputs != 1 || g->noutputs != 1) {   /* NAME_flat: every input (output) side by side, of one type */
        snprintf(s->top, sizeof s->top, "%s_flat", r->top);
        s->in.n = s->out.n = 0;
        for (size_t k = 0; k < g->ninputs; k++)
            s->in.n += ir_numel(&g->t[g->inputs[k]]);
        for (size_t k = 0; k < g->noutputs; k++)
            s->out.n += ir_numel(&g->t[g->outputs[k]]);
    }
    s->beats = 1;
    s->ii = r->ii;
    s->latency = r->latency;
    s->lat_first = s->lat_last = s->lat_ii = TB_UNKNOWN;
    s->n = n;
    tb_spec_init(s);
}

void tb_spec_stream(TbSpec *s, const Stream *st, const StreamTiming *tm, size_t n)
{
    const Graph *g = st->g;
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    memset(s, 0, sizeof *s);
    s->kind = TB_STREAM;
    snprintf(s->top, sizeof s->top, "%s", st->rtl.top);
    set_port(&s->in, st->C0, ti->type);
    set_port(&s->out, ir_numel(to), to->type);
    s->beats = st->P0;
    s->ii = tm->ii;
    s->latency = tm->lat_first;
    s->lat_first = tm->chk_first;
    s->lat_last = tm->chk_last;
    s->lat_ii = tm->chk_ii;
    s->n = n;
    tb_spec_init(s);
}

void tb_spec_dump(Buf *b, const TbSpec *s, const char *prefix)
{
    buf_printf(b, "%stb-spec: kind=%s top=%s in=%ldx%d%s beats=%ld out=%ldx%d%s reset=%d reset_in_valid=%d ii=%ld "
               "gap_every=%d gap_mod=%d gap_seed=%llu latency=%ld", prefix, s->kind == TB_PARALLEL ? "parallel" : "stream",
               s->top, s->in.n, s->in.w, s->in.sign ? "s" : "u", s->beats, s->out.n, s->out.w, s->out.sign ? "s" : "u",
               s->reset_clocks, s->reset_in_valid, s->ii, s->gap_every, s->gap_mod, (unsigned long long)s->gap_seed,
               s->latency);
    if (s->kind == TB_STREAM)
        buf_printf(b, " lat_first=%ld lat_last=%ld lat_ii=%ld limit=%ld+%ld*n", s->lat_first, s->lat_last, s->lat_ii,
                   s->limit_base, s->limit_per);
    buf_printf(b, " drain=%ld\n", s->drain);
}

/* ---- the Icarus bench and its data ---------------------------------------- */

void tb_port_order(const TbSpec *s, const int32_t *perm, const int64_t *x, size_t n, int64_t *xs)
{
    size_t nin = (size_t)(s->in.n * s->beats);
    for (size_t ev = 0; ev < n; ev++)
        for (size_t e = 0; e < nin; e++)
            xs[ev * nin + e] = x[ev * nin + (perm ? (size_t)perm[e] : e)];
}

/* s->n vectors of random codes of type tin, the emulator's outputs; perm: as
 * for tb_port_order. */
static int write_icarus(const TbSpec *s, FxType tin, Plan *plan, const int32_t *perm, Diag *d, const char *dir)
{
    size_t n = s->n;
    long nin = s->in.n * s->beats, nout = s->out.n;
    long wi = s->in.n * s->in.w, wo = s->out.n * s->out.w, maxw = wi > wo ? wi : wo;
    int64_t *x = malloc(n * (size_t)nin * sizeof(int64_t));
    int64_t *y = malloc(n * (size_t)nout * sizeof(int64_t));
    int64_t *xs = malloc(n * (size_t)nin * sizeof(int64_t));
    uint32_t *words = malloc((size_t)(maxw + 31) / 32 * sizeof(uint32_t));
    Buf tb = {0}, min = {0}, mout = {0};
    int rc = -1;
    if (!x || !y || !xs || !words) {
        diag_error(d, "internal: out of memory writing the test bench");
        goto done;
    }
    tb_random_codes(tin, nin, n, TB_SEED, x);
    emu_run_codes(plan, x, y, n);
    tb_port_order(s, perm, x, n, xs);
    for (size_t ev = 0; ev < n; ev++) {
        for (long bt = 0; bt < s->beats; bt++)
            tb_hex_line(&min, xs + (ev * (size_t)s->beats + (size_t)bt) * (size_t)s->in.n, s->in.n, s->in.w, words);
        tb_hex_line(&mout, y + ev * (size_t)nout, nout, s->out.w, words);
    }
    tb_emit_icarus(&tb, s);
    const char *nm = s->top;
    char path[4096];
    snprintf(path, sizeof path, "%s/rtl/tb_%s_in.mem", dir, nm);
    if (backend_write_file(d, path, &min) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/rtl/tb_%s_out.mem", dir, nm);
    if (backend_write_file(d, path, &mout) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/rtl/tb_%s.v", dir, nm);
    if (backend_write_file(d, path, &tb) < 0)
        goto done;
    rc = 0;
done:
    free(x);
    free(y);
    free(xs);
    free(words);
    buf_free(&tb);
    buf_free(&min);
    buf_free(&mout);
    return rc;
}

int testbench_write(const HwDesign *r, Plan *plan, Diag *d, const char *dir)
{
    TbSpec s;
    tb_spec_design(&s, r, TB_VECTORS);
    return write_icarus(&s, r->g->t[r->g->inputs[0]].type, plan, NULL, d, dir);
}

int testbench_write_stream(const Stream *st, const StreamTiming *tm, Plan *plan, Diag *d, const char *dir)
{
    /* about 20000 pixels: Icarus is slow on wide designs */
    size_t n = (size_t)(20000 / st->P0);
    if (n > TB_VECTORS)
        n = TB_VECTORS;
    if (n < 8)
        n = 8;
    TbSpec s;
    tb_spec_stream(&s, st, tm, n);
    const Graph *g = st->g;
    long nin = ir_numel(&g->t[g->inputs[0]]), p0;
    int c0;
    int32_t *perm = malloc((size_t)nin * sizeof(int32_t));
    if (!perm)
        return diag_error(d, "internal: out of memory writing the test bench");
    int rc = stream_input_order(g, d, perm, &p0, &c0) < 0 ? -1 : write_icarus(&s, g->t[g->inputs[0]].type, plan, perm, d, dir);
    free(perm);
    return rc;
}
