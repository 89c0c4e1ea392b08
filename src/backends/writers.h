/* writers.h — the back ends as one table: each output etn_write can write
 * (--emit NAME), what it needs, and the function that writes it from the
 * compiled model and its circuit.  etn_write builds the circuit once and runs
 * the table in order; --emit's names and its messages come from it too. */
#ifndef ETN_WRITERS_H
#define ETN_WRITERS_H
#include "ir/ir.h"

struct Plan;
struct HwDesign;
struct Stream;

/* The outputs (--emit LIST), one bit each. */
enum {
    EMIT_C = 1,         /* OUT/c/: the standalone C emulator */
    EMIT_RTL = 2,       /* OUT/rtl/ (Verilog, test bench), report.json, report.txt */
    EMIT_HLS = 4,       /* OUT/hls/: the Vitis HLS C++ project */
    EMIT_AXIS = 8,      /* OUT/rtl/NAME_axis.v: the AXI4-Stream wrapper (io_parallel) */
    EMIT_VIVADO = 16,   /* OUT/vivado/: IP packaging and out-of-context synthesis scripts (io_parallel) */
    EMIT_FUSESOC = 32,  /* OUT/NAME.core */
    EMIT_CMSSW = 64,    /* OUT/cmssw/: the hls4mlEmulator library */
    EMIT_ASKED_ALL = 128, /* "all" was asked: what does not apply to the design (axis, vivado for io_stream) is left out */
};

/* What the writers read. */
typedef struct {
    const Graph *g;
    struct Plan *plan;              /* the emulator's plan (test vectors) */
    const struct HwDesign *rtl;     /* the io_parallel circuit, or NULL */
    const struct Stream *st;        /* the io_stream circuit, or NULL */
    double clock_mhz;
    int cmssw_version;
    unsigned emit;                  /* EMIT_* bits to write */
    const char *source_json;        /* report.json "source": how to rebuild the model */
} WriteJob;

typedef struct {
    const char *name;               /* --emit name */
    unsigned bit;
    int parallel_only;              /* written for io_parallel designs only */
    int always;                     /* runs whatever is asked (it checks options that only it reads) */
    int (*write)(const WriteJob *j, Diag *d, const char *dir);
} Writer;

/* The table, in the order the writers run; *n entries. */
const Writer *writers(size_t *n);

/* Run every writer j->emit asks for (and those that always run), in order; 0 or -1
 * with the first writer's message. */
int writers_run(const WriteJob *j, Diag *d, const char *dir);

#endif
