/* model.h — the EtnModel context behind the public API. */
#ifndef ETN_MODEL_H
#define ETN_MODEL_H
#include "backends/writers.h"
#include "config/config.h"
#include "etchnn.h"
#include "ir/ir.h"
#include "tools/emulate.h"

struct EtnModel {
    Diag diag;              /* the last error */
    Graph g;                /* the model (transformed in place by etn_compile) */
    Config cfg;             /* configuration and option overrides */
    char *cfg_origin;       /* config file name (heap) */
    char dump_after[32];    /* pass name to dump after, "all", or "" */
    char weights_file[4096];/* Keras weights (.h5) for an architecture .json, or "" */
    char model_path[4096];  /* the loaded model file (absolute when known) */
    char config_path[4096]; /* the configuration file (absolute), or "" */
    char opt_precision[96], opt_tables[16], opt_weight_quant[16], opt_sat_order[16], opt_auto_types[16]; /* options as given */
    double clock_mhz;       /* RTL target clock: --clock-mhz, else the config's ClockPeriod, else 200 MHz */
    int clock_set;          /* clock_mhz was given as an option (it wins over ClockPeriod) */
    int multipliers;        /* MultMode */
    char part[64];          /* --part (wins over the config's Part); "" none */
    signed char *node_mult; /* --fit: per IR node its multiplier kind (heap), and why, for the report */
    Buf fit_json;
    double fit;             /* --fit FRACTION of the part (0: none): ReuseFactor and multipliers chosen (src/hw/fit.c) */
    unsigned emit;          /* EMIT_* bits: the outputs etn_write writes (--emit; default c,rtl) */
    int cmssw_version;      /* --cmssw-version N: OUT/cmssw/NAME_vN (0: not given, 1) */
    int io;                 /* --io: -1 unset (config IOType, else parallel), 0 io_parallel, 1 io_stream */
    Buf dump;               /* dump text */
    Buf tmpl;               /* last config template */
    Plan *plan;             /* emulator, once compiled */
    char type_str[64];      /* scratch for returned type strings */
    char opt_text[4200];    /* scratch for etn_get_option */
    int loaded;             /* a model is loaded */
    int compiled;           /* passes ran and the plan is current */
    int passes_ran;         /* the graph has been transformed */
};

/* Clear the last error and warnings (every public call starts with it). */
void model_reset_error(EtnModel *m);
/* The k-th compile pass's name (--dump-after takes them), or NULL past the last. */
const char *model_pass_name(size_t k);

#endif
