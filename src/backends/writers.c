/* writers.c — the table of back ends (writers.h). */
#include "backends/writers.h"

#include "backends/backends.h"
#include "backends/cmssw.h"
#include "backends/hls.h"
#include "backends/package.h"
#include "backends/stream.h"
#include "backends/testbench.h"

static int w_cmssw(const WriteJob *j, Diag *d, const char *dir)
{
    /* always runs: --cmssw-version without cmssw in --emit is refused here */
    return cmssw_write(j->g, d, dir, j->cmssw_version, !!(j->emit & EMIT_CMSSW));
}

static int w_c(const WriteJob *j, Diag *d, const char *dir)
{
    return cemu_write(j->g, d, dir);
}

static int w_hls(const WriteJob *j, Diag *d, const char *dir)
{
    return hls_write(j->g, d, dir, j->clock_mhz);
}

static int w_rtl(const WriteJob *j, Diag *d, const char *dir)
{
    if (j->st)
        return stream_write(j->st, j->plan, j->rtl, d, dir, j->source_json);
    if (!j->rtl)
        return 0;
    if (verilog_write(j->rtl, d, dir) < 0 || testbench_write(j->rtl, j->plan, d, dir) < 0 ||
        report_write(j->rtl, d, dir, j->source_json) < 0)
        return -1;
    return 0;
}

/* the AXI4-Stream wrapper, the Vivado scripts and the FuseSoC core: one writer, beside the Verilog */
static int w_package(const WriteJob *j, Diag *d, const char *dir)
{
    unsigned pk = j->emit & (EMIT_AXIS | EMIT_VIVADO | EMIT_FUSESOC);
    if (!pk || (!j->rtl && !j->st))
        return 0;
    return package_write(j->g, j->st ? NULL : j->rtl, !!(pk & EMIT_AXIS), !!(pk & EMIT_VIVADO), !!(pk & EMIT_FUSESOC), d,
                         dir);
}

/* name, bit, io_parallel only, always, writer (axis, vivado and fusesoc: package.c, run once) */
static const Writer table[] = {
    {"cmssw", EMIT_CMSSW, 0, 1, w_cmssw},
    {"c", EMIT_C, 0, 0, w_c},
    {"hls", EMIT_HLS, 0, 0, w_hls},
    {"rtl", EMIT_RTL, 0, 0, w_rtl},
    {"axis", EMIT_AXIS, 1, 0, w_package},
    {"vivado", EMIT_VIVADO, 1, 0, w_package},
    {"fusesoc", EMIT_FUSESOC, 0, 0, w_package},
};

const Writer *writers(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

int writers_run(const WriteJob *j, Diag *d, const char *dir)
{
    int packaged = 0;
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        const Writer *w = &table[k];
        if (!w->always && !(j->emit & w->bit))
            continue;
        if (w->write == w_package) {
            if (packaged)
                continue;
            packaged = 1;
        }
        if (w->write(j, d, dir) < 0)
            return -1;
    }
    return 0;
}
