/* parts.c — the devices etchnn knows by name (hls4ml's `Part`, --part): their
 * LUT, flip-flop, DSP and block-RAM counts, from the vendors' product tables.
 * Used for the report's utilization and by --fit (fit.c). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "hw/hw.h"

/* The delay models (schedule.c), one per family.  The Xilinx-class one is
 * the original hand model (bench/README.md, "The delay model": not checked by
 * place and route).  The Lattice ones are the Xilinx coefficients times a
 * scale (tables: their own scale) with their own register overhead, fitted by
 * bench/delay_model.py to nextpnr's Fmax on small designs (least squares of
 * the period on the model's stage paths, then the overhead raised until every
 * bench run is covered; the runs and the fit are in bench/README.md). */
static const HwDelay xilinx_delay = {"xilinx", 0.8, 0.6, 0.025, 0.5, 0.01, 0.5, 0.02, 1.0, 0.03, 0.6, 0.1, 0.4, 2.5, 3.0,
                                     0.8, 0.025};
#define SCALED(fam, s, rs, reg)                                                                                      \
    {fam, reg, 0.6 * (s), 0.025 * (s), 0.5 * (s), 0.01 * (s), 0.5 * (s), 0.02 * (s), 1.0 * (s), 0.03 * (s), 0.6 * (rs), \
     0.1 * (rs), 0.4 * (rs), 2.5 * (s), 3.0 * (s), 0.8 * (s), 0.025 * (s)}
/* bench/delay_model.py fit, 2026-12-07: ECP5 LFE5U-25F (40 runs, rms 0.51 ns), iCE40 HX8K (30 runs, rms 0.70 ns) */
#define ECP5_SCALE 2.19
#define ECP5_ROM_SCALE 5.13
#define ECP5_REG_NS 2.3
#define ICE40_SCALE 2.57
#define ICE40_ROM_SCALE 5.06
#define ICE40_REG_NS 2.65
/* bench/delay_model.py fit, 2026-12-08: Nexus LIFCL-40-9BG400C (40 runs, rms 0.42 ns; etchnn synth --target nexus) */
#define NEXUS_SCALE 1.18
#define NEXUS_ROM_SCALE 1.77
#define NEXUS_REG_NS 2.05
static const HwDelay ecp5_delay = SCALED("ecp5", ECP5_SCALE, ECP5_ROM_SCALE, ECP5_REG_NS);
static const HwDelay ice40_delay = SCALED("ice40", ICE40_SCALE, ICE40_ROM_SCALE, ICE40_REG_NS);
static const HwDelay nexus_delay = SCALED("nexus", NEXUS_SCALE, NEXUS_ROM_SCALE, NEXUS_REG_NS);

/* Xilinx block RAM in RAMB18 halves (a RAMB36 is two); Lattice EBR as
 * 18-kbit (ECP5, Nexus) or 4-kbit (iCE40) blocks; DSP: DSP48E1/E2 slices or
 * the 18x18 (ECP5, Nexus) / 16x16 (iCE40 UP) multipliers.  Nexus: Lattice's
 * CrossLink-NX table (logic cells; the 512-kbit large RAMs are not counted);
 * the LIFCL-17 uses the model fitted on the LIFCL-40, untested. */
static const HwPart parts[] = {
    {"xcvu13p", "Virtex UltraScale+ VU13P", 6, 1728000, 3456000, 12288, 5376, 18432, &xilinx_delay},
    {"xcvu9p", "Virtex UltraScale+ VU9P", 6, 1182240, 2364480, 6840, 4320, 18432, &xilinx_delay},
    {"xcu250", "Alveo U250 (VU13P die)", 6, 1728000, 3456000, 12288, 5376, 18432, &xilinx_delay},
    {"xcku115", "Kintex UltraScale KU115", 6, 663360, 1326720, 5520, 4320, 18432, &xilinx_delay},
    {"xczu9eg", "Zynq UltraScale+ ZU9EG", 6, 274080, 548160, 2520, 1824, 18432, &xilinx_delay},
    {"xc7vx690t", "Virtex-7 VX690T", 6, 433200, 866400, 3600, 2940, 18432, &xilinx_delay},
    {"xc7z020", "Zynq-7000 Z-7020", 6, 53200, 106400, 220, 280, 18432, &xilinx_delay},
    {"lfe5u-85f", "Lattice ECP5 LFE5U-85F", 4, 83640, 83640, 156, 208, 18432, &ecp5_delay},
    {"lfe5u-45f", "Lattice ECP5 LFE5U-45F", 4, 43848, 43848, 72, 108, 18432, &ecp5_delay},
    {"lfe5u-25f", "Lattice ECP5 LFE5U-25F", 4, 24288, 24288, 28, 56, 18432, &ecp5_delay},
    {"lfe5u-12f", "Lattice ECP5 LFE5U-12F", 4, 12096, 12096, 28, 32, 18432, &ecp5_delay},
    {"ice40up5k", "Lattice iCE40 UP5K", 4, 5280, 5280, 8, 30, 4096, &ice40_delay},
    {"ice40hx8k", "Lattice iCE40 HX8K", 4, 7680, 7680, 0, 32, 4096, &ice40_delay},
    {"lifcl-40", "Lattice CrossLink-NX LIFCL-40", 4, 39600, 39600, 56, 84, 18432, &nexus_delay},
    {"lifcl-17", "Lattice CrossLink-NX LIFCL-17", 4, 17000, 17000, 24, 24, 18432, &nexus_delay},
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

const HwDelay *hw_delay_model(const HwPart *p)
{
    return p ? p->delay : &xilinx_delay;
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
