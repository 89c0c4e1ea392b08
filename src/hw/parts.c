/* parts.c — the devices etchnn knows by name (hls4ml's `Part`, --part): their
 * LUT, flip-flop, DSP and block-RAM counts, from the vendors' product tables.
 * Used for the report's utilization and by --fit (fit.c). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "hw/hw.h"

/* Xilinx block RAM in RAMB18 halves (a RAMB36 is two); Lattice EBR as
 * 18-kbit (ECP5) or 4-kbit (iCE40) blocks; DSP: DSP48E1/E2 slices or the
 * 18x18 (ECP5) / 16x16 (iCE40 UP) multipliers. */
static const HwPart parts[] = {
    {"xcvu13p", "Virtex UltraScale+ VU13P", 6, 1728000, 3456000, 12288, 5376, 18432},
    {"xcvu9p", "Virtex UltraScale+ VU9P", 6, 1182240, 2364480, 6840, 4320, 18432},
    {"xcu250", "Alveo U250 (VU13P die)", 6, 1728000, 3456000, 12288, 5376, 18432},
    {"xcku115", "Kintex UltraScale KU115", 6, 663360, 1326720, 5520, 4320, 18432},
    {"xczu9eg", "Zynq UltraScale+ ZU9EG", 6, 274080, 548160, 2520, 1824, 18432},
    {"xc7vx690t", "Virtex-7 VX690T", 6, 433200, 866400, 3600, 2940, 18432},
    {"xc7z020", "Zynq-7000 Z-7020", 6, 53200, 106400, 220, 280, 18432},
    {"lfe5u-85f", "Lattice ECP5 LFE5U-85F", 4, 83640, 83640, 156, 208, 18432},
    {"lfe5u-45f", "Lattice ECP5 LFE5U-45F", 4, 43848, 43848, 72, 108, 18432},
    {"lfe5u-25f", "Lattice ECP5 LFE5U-25F", 4, 24288, 24288, 28, 56, 18432},
    {"lfe5u-12f", "Lattice ECP5 LFE5U-12F", 4, 12096, 12096, 28, 32, 18432},
    {"ice40up5k", "Lattice iCE40 UP5K", 4, 5280, 5280, 8, 30, 4096},
    {"ice40hx8k", "Lattice iCE40 HX8K", 4, 7680, 7680, 0, 32, 4096},
};

const HwPart *hw_part_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t k = 0; k < ETN_COUNTOF(parts); k++) {
        size_t n = strlen(parts[k].name), i;
        for (i = 0; i < n && name[i] && tolower((unsigned char)name[i]) == parts[k].name[i]; i++)
            ;
        /* the name, or the name followed by package and speed grade ("xcvu13p-flga2577-2-e") */
        if (i == n && (name[n] == 0 || name[n] == '-'))
            return &parts[k];
    }
    return NULL;
}

void hw_part_names(Buf *b)
{
    for (size_t k = 0; k < ETN_COUNTOF(parts); k++)
        buf_printf(b, "%s%s", k ? ", " : "", parts[k].name);
}

/* The estimate is in 7-series LUT6 terms; a LUT4 family needs about 1.6 of
 * its LUTs for what one LUT6 holds (a rough factor: say so where it is used). */
double hw_part_lut_scale(const HwPart *p)
{
    return p->lut_inputs == 4 ? 1.6 : 1.0;
}
