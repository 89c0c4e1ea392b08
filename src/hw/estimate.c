/* estimate.c — the resource estimate of a scheduled module: LUTs and
 * flip-flops in 7-series terms, without running any tool. */
#include <math.h>
#include <stdlib.h>

#include "hw/hw.h"

/* Resource estimate in 7-series LUT6/FF terms, calibrated against Yosys
 * synth_xilinx (bench/ESTIMATE.md).  Only nodes that reach an output count.
 * An adder costs one LUT per result bit that needs the carry chain: the low
 * bits that come from one operand only (the other is shifted left past them,
 * or is a constant with trailing zeros) are wires.  Registers hold only the
 * bits that can change (a relu's sign bit is always 0). */
static int trailing_zeros(int64_t v)
{
    int z = 0;
    if (!v)
        return 64;
    while (!(v & 1) && z < 63) {
        v >>= 1;
        z++;
    }
    return z;
}

/* LUTs per adder bit on the carry chain: Yosys packs some of the propagate
 * logic of narrow operands and sign extensions together (fitted on the
 * shared MLPs, bench/ESTIMATE.md). */
#define ADDER_LUT_PER_BIT 0.77

static void need_bits(int *need, const HwNode *nodes, int op, int bits)
{
    if (op < 0)
        return;
    if (bits > nodes[op].w)
        bits = nodes[op].w;
    if (bits > need[op])
        need[op] = bits;
}

/* LUTs of one output bit of a table, over the leaf blocks [lo, lo + cnt) of 64 entries (one LUT6 each): a constant
 * block is wires, equal halves are one function, two different halves a 2:1 multiplexer more (ROM_MUX_LUT: most
 * become MUXF7/MUXF8, which are not LUTs).  A saturating, monotone activation (most of its bits constant over long
 * runs) costs a few LUTs per transition; a table of noise costs every block.  Fitted on tables synthesized alone
 * (bench/rom_estimate.py, bench/ESTIMATE.md). */
#define ROM_MUX_LUT 0.25
/* hls4ml's table index (scale, round, offset, clamp to the table) per bit of the table's input */
#define ROM_HLS_INDEX_LUT_PER_BIT 1.25
static double rom_bit_cost(const uint64_t *leaf, long lo, long cnt)
{
    if (cnt == 1)
        return leaf[lo] == 0 || leaf[lo] == ~(uint64_t)0 ? 0.0 : 1.0;
    long h = cnt / 2;
    int same = 1;
    for (long k = 0; k < h && same; k++)
        same = leaf[lo + k] == leaf[lo + h + k];
    if (same)
        return rom_bit_cost(leaf, lo, h);
    double a = rom_bit_cost(leaf, lo, h), b = rom_bit_cost(leaf, lo + h, h);
    return a + b + ROM_MUX_LUT;
}

/* LUTs of one lookup of table r, bits [0, bits) of its output: the sum over the bits (synthesis shares little
 * between them).  Entries past r->n read 0 (the emitted case's default). */
static double rom_cost(const HwRom *r, int bits)
{
    long words = 1L << (r->aw < 6 ? 6 : r->aw), nleaf = words / 64;
    uint64_t *leaf = malloc(sizeof(uint64_t) * (size_t)nleaf);
    if (!leaf)
        return 0;
    double c = 0;
    for (int b = 0; b < bits && b < r->dw; b++) {
        for (long l = 0; l < nleaf; l++) {
            uint64_t v = 0;
            for (int k = 0; k < 64; k++) {
                long e = l * 64 + k;
                if (e < r->n && (((uint64_t)r->data[e] >> b) & 1))
                    v |= (uint64_t)1 << k;
            }
            leaf[l] = v;
        }
        c += rom_bit_cost(leaf, 0, nleaf);
    }
    free(leaf);
    return c;
}

void hw_estimate(HwModule *m)
{
    double lut = 0, ff = 0;
    /* need[i]: how many low bits of node i some reader uses (0: none) */
    int *need = calloc(m->nn ? m->nn : 1, sizeof(int));
    if (!need) {
        m->lut = m->ff = 0;
        return;
    }
    struct { double lut; int bits; } *romc = m->nrom ? malloc(sizeof *romc * m->nrom) : NULL;   /* a table's cost per
                                                                                              lookup, for `bits` */
    for (size_t k = 0; romc && k < m->nrom; k++)
        romc[k].bits = -1;
    for (long e = 0; e < m->nout; e++)
        need[m->out[e]] = m->n[m->out[e]].w;
    for (size_t i = m->nn; i-- > 0;) {
        const HwNode *n = &m->n[i];
        int u = need[i];
        if (!u || n->op == HW_IN || n->op == HW_CONST)
            continue;
        switch (n->op) {
        case HW_ADD:   /* low result bits depend on low operand bits only */
            need_bits(need, m->n, n->a, u - n->sa);
            need_bits(need, m->n, n->b, u - n->sb);
            break;
        case HW_SHR:
            need_bits(need, m->n, n->a, u + n->sa);
            break;
        case HW_CAST:
            if (n->to.o == FXO_WRAP && n->to.q == FXQ_TRN)
                need_bits(need, m->n, n->a, n->fa - fx_frac(n->to) + u);
            else
                need_bits(need, m->n, n->a, m->n[n->a].w);
            break;
        case HW_SEL:
            need_bits(need, m->n, n->a, m->n[n->a].w);
            need_bits(need, m->n, n->b, u);
            need_bits(need, m->n, n->c, u);
            break;
        default: {
            int ops[4] = {n->a, n->b, n->c, n->op == HW_CLIP ? n->sb : -1};
            for (int k = 0; k < 4; k++)
                if (ops[k] >= 0)
                    need_bits(need, m->n, ops[k], m->n[ops[k]].w);
            break;
        }
        }
    }
    for (size_t i = 0; i < m->nn; i++) {
        const HwNode *n = &m->n[i];
        int bits = need[i];   /* bits kept: unused high bits are trimmed by synthesis */
        if (!bits)
            continue;
        switch (n->op) {
        case HW_ADD: {
            const HwNode *a = &m->n[n->a], *b = &m->n[n->b];
            int za = n->sa + (a->op == HW_CONST ? trailing_zeros(a->k) : 0);
            int zb = n->sb + (b->op == HW_CONST ? trailing_zeros(b->k) : 0);
            int pass;
            if (n->sub)
                pass = zb;                     /* a - (b << zb): bits below zb are a's */
            else
                pass = za > zb ? za : zb;      /* bits below the larger shift come from one side */
            if ((a->op == HW_CONST && a->k == 0 && !n->sub) || (b->op == HW_CONST && b->k == 0 && !n->sub))
                pass = bits;                   /* a shift */
            if (pass < bits)
                lut += ADDER_LUT_PER_BIT * (bits - pass);
            break;
        }
        case HW_CAST:
            lut += n->to.o == FXO_WRAP ? (n->to.q == FXQ_TRN ? 0 : n->w) : 1.5 * n->w;
            break;
        case HW_SEL:
            if (n->c < 0) {
                /* relu: the test of the sign drives the registers' synchronous
                 * reset; the sign bit is always 0 */
                if (n->sign && bits == n->w)
                    bits = n->w - 1;
                lut += n->maxdelay > 0 ? 1 : bits;
            } else {
                lut += bits;
            }
            break;
        case HW_MAX:
            lut += n->w;
            break;
        case HW_CLIP:
            lut += 2.0 * n->w;
            break;
        case HW_ROM: {
            const HwRom *r = &m->rom[n->rom];
            if (!romc)
                lut += rom_cost(r, bits);
            else {   /* every lookup of a table costs the same (per output width) */
                if (romc[n->rom].bits != bits) {
                    romc[n->rom].lut = rom_cost(r, bits);
                    romc[n->rom].bits = bits;
                }
                lut += romc[n->rom].lut;
            }
            if (r->hls_index)
                lut += ROM_HLS_INDEX_LUT_PER_BIT * m->n[n->a].w;
            break;
        }
        case HW_MUL:
        case HW_IN:
        case HW_CONST:
        case HW_SHR:
            break;
        }
        if (n->op == HW_CAST && n->to.o == FXO_WRAP && n->to.q == FXQ_TRN) {
            /* sign copies are one register (merged by synthesis) */
            int sh = n->fa - fx_frac(n->to), sg;
            double lo = floor(ldexp(m->n[n->a].lo, -sh)), hi = floor(ldexp(m->n[n->a].hi, -sh));
            int wr = hw_width(lo, hi, &sg);
            if (lo >= (double)fx_type_min(n->to) && hi <= (double)fx_type_max(n->to) && wr < bits)
                bits = wr;
        }
        int delays = n->maxdelay;
        int slice = n->op == HW_SHR || (n->op == HW_CAST && n->to.o == FXO_WRAP && n->to.q == FXQ_TRN);
        if (n->op == HW_ADD && !n->sub && m->n[n->b].op == HW_CONST && m->n[n->b].k == 0)
            slice = 1;                        /* a shift */
        if (slice)
            delays -= m->n[n->a].maxdelay;   /* registers shared with its source */
        if (n->op != HW_CONST && delays > 0)
            ff += (double)bits * delays;
    }
    free(need);
    free(romc);
    m->lut = lut;
    m->ff = ff;
}

