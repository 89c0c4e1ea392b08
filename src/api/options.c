/* options.c — every model option once: its etn_set_option key, report.json
 * "source" key, Python keyword, CLI flags and commands, what it takes, and
 * how it is parsed and read back.  etn_set_option, etn_get_option, the
 * "source" record (model.c), etchnn verify's reload (tools/verify.c), the CLI
 * (cli/main.c, through etn_option) and Python's convert() all derive from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "api/options.h"
#include "backends/cmssw.h"
#include "hw/hw.h"

/* ---- parsing helpers ------------------------------------------------------ */

/* The flag an option's messages name: its CLI flag, else "option KEY". */
static const char *opt_name(const OptDef *d, char *buf, size_t n)
{
    if (d->info.flag)
        return d->info.flag;
    snprintf(buf, n, "option %s", d->info.key);
    return buf;
}

/* "FLAG: expected VALUES, got 'value'" */
static int refuse(EtnModel *m, const OptDef *d, const char *value)
{
    char nb[64];
    return diag_error(&m->diag, "%s: expected %s, got '%s'", opt_name(d, nb, sizeof nb), d->info.values, value);
}

/* value's position in the option's "one of a, b, c" list, or -1. */
static int choice(const OptDef *d, const char *value)
{
    const char *p = d->info.values;
    if (strncmp(p, "one of ", 7))
        return -1;
    p += 7;
    size_t n = strlen(value);
    for (int k = 0; *p; k++) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, value, n))
            return k;
        p += len;
        p += strspn(p, ", ");
    }
    return -1;
}

/* value is the text of a number in (0, hi]: *f and 1; else 0. */
static int number_in(const char *value, double hi, double *f)
{
    char *end;
    *f = strtod(value, &end);
    return !*end && end != value && *f > 0 && *f <= hi;
}

static int put(char *buf, size_t n, const char *s)
{
    if (!s || !s[0])
        return 0;
    snprintf(buf, n, "%s", s);
    return 1;
}

static int put_number(char *buf, size_t n, double x)
{
    snprintf(buf, n, "%.17g", x);
    return 1;
}

/* ---- emit ----------------------------------------------------------------- */

#define EMIT_ALL (EMIT_C | EMIT_RTL | EMIT_HLS | EMIT_AXIS | EMIT_VIVADO | EMIT_FUSESOC | EMIT_CMSSW)

/* "c,rtl,axis" or "all" -> EMIT_* bits.  What needs the Verilog needs rtl in the list. */
static int parse_emit(EtnModel *m, const char *value, unsigned *out)
{
    unsigned bits = 0;
    const char *p = value;
    size_t nw;
    const Writer *emit_names = writers(&nw);   /* the back ends' table (backends/writers.c) */
    while (*p) {
        size_t len = strcspn(p, ",");
        size_t k = 0;
        if (len == 3 && !strncmp(p, "all", 3))
            bits |= EMIT_ALL | EMIT_ASKED_ALL;
        else {
            for (; k < nw; k++)
                if (strlen(emit_names[k].name) == len && !strncmp(p, emit_names[k].name, len))
                    break;
            if (k == nw)
                return diag_error(&m->diag, "--emit: expected a comma-separated list of c, rtl, hls, axis, vivado, fusesoc, "
                                  "cmssw or all, got '%.*s' in '%s'", (int)len, p, value);
            bits |= emit_names[k].bit;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (!bits)
        return diag_error(&m->diag, "--emit: expected at least one output, got '%s'", value);
    if ((bits & EMIT_VIVADO) && !(bits & EMIT_AXIS))
        return diag_error(&m->diag, "--emit: vivado packages the AXI4-Stream wrapper: expected axis in the list too, got "
                          "'%s'", value);
    if ((bits & (EMIT_AXIS | EMIT_VIVADO | EMIT_FUSESOC)) && !(bits & EMIT_RTL))
        return diag_error(&m->diag, "--emit: axis, vivado and fusesoc package the Verilog: expected rtl in the list too, "
                          "got '%s'", value);
    *out = bits;
    return 0;
}

/* ---- one setter and one getter per option ---------------------------------- */

static int set_weights(EtnModel *m, const char *key, const char *value)
{
    (void)key;
    snprintf(m->weights_file, sizeof m->weights_file, "%s", value);
    return 0;
}
static int get_weights(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->weights_file); }

static int set_config(EtnModel *m, const char *key, const char *value)
{
    (void)key;
    return etn_config_file(m, value) == ETN_OK ? 0 : -1;
}
static int get_config(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->config_path); }

static int set_precision(EtnModel *m, const char *key, const char *value)
{
    (void)key;
    FxType t;
    char err[512];
    if (fx_parse(value, &t, err, sizeof err) < 0)
        return diag_error(&m->diag, "--precision: %s", err);
    snprintf(m->cfg.precision_opt, sizeof m->cfg.precision_opt, "%s", value);
    snprintf(m->opt_precision, sizeof m->opt_precision, "%s", value);
    return 0;
}
static int get_precision(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->opt_precision); }

static int set_tables(EtnModel *m, const char *key, const char *value)
{
    static const TablesMode mode[] = {TABLES_EXACT, TABLES_HLS4ML};   /* in the order of "values" */
    int k = choice(opt_find(key), value);
    if (k < 0)
        return refuse(m, opt_find(key), value);
    m->cfg.tables_opt = mode[k];
    snprintf(m->opt_tables, sizeof m->opt_tables, "%s", value);
    return 0;
}
static int get_tables(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->opt_tables); }

/* An exact|hls4ml option: *field 0 or 1, its text kept for get. */
static int set_exact_hls4ml(EtnModel *m, const char *key, const char *value, int *field, char *text, size_t n)
{
    int k = choice(opt_find(key), value);   /* 0 exact, 1 hls4ml */
    if (k < 0)
        return refuse(m, opt_find(key), value);
    *field = k;
    snprintf(text, n, "%s", value);
    return 0;
}

static int set_weight_quant(EtnModel *m, const char *key, const char *value)
{
    return set_exact_hls4ml(m, key, value, &m->cfg.weights_opt, m->opt_weight_quant, sizeof m->opt_weight_quant);
}
static int get_weight_quant(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->opt_weight_quant); }

static int set_sat_order(EtnModel *m, const char *key, const char *value)
{
    return set_exact_hls4ml(m, key, value, &m->cfg.sat_order_opt, m->opt_sat_order, sizeof m->opt_sat_order);
}
static int get_sat_order(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->opt_sat_order); }

static int set_auto_types(EtnModel *m, const char *key, const char *value)
{
    return set_exact_hls4ml(m, key, value, &m->cfg.auto_types_opt, m->opt_auto_types, sizeof m->opt_auto_types);
}
static int get_auto_types(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->opt_auto_types); }

static int set_clock(EtnModel *m, const char *key, const char *value)
{
    double f;
    if (!number_in(value, 2000, &f))
        return refuse(m, opt_find(key), value);
    m->clock_mhz = f;
    m->clock_set = 1;
    return 0;
}
/* as etn_write resolves it: --clock-mhz, else 1000 / ClockPeriod, else 200 */
static int get_clock(const EtnModel *m, char *buf, size_t n)
{
    double ns = 0;
    Diag d = {0};
    if (!m->clock_set && config_clock_period(&m->cfg, &d, &ns) < 0)
        ns = 0;
    diag_free(&d);
    return put_number(buf, n, m->clock_set ? m->clock_mhz : ns > 0 ? 1000.0 / ns : 200);
}

static int set_part(EtnModel *m, const char *key, const char *value)
{
    (void)key;
    if (!hw_part_find(value)) {
        Buf names = {0};
        hw_part_names(&names);
        diag_error(&m->diag, "--part: expected a part etchnn knows (%s, with or without package and speed grade), "
                   "got '%s'", names.data, value);
        buf_free(&names);
        return -1;
    }
    snprintf(m->part, sizeof m->part, "%s", value);
    return 0;
}
/* the part's canonical name, as etn_write resolves it: --part, else the config's Part */
static int get_part(const EtnModel *m, char *buf, size_t n)
{
    const char *name = m->part[0] ? m->part : NULL;
    Diag d = {0};
    if (!name && config_part(&m->cfg, &d, &name) < 0)
        name = NULL;
    diag_free(&d);
    const HwPart *p = name ? hw_part_find(name) : NULL;
    return put(buf, n, p ? p->name : NULL);
}

static int set_fit(EtnModel *m, const char *key, const char *value)
{
    double f;
    if (!number_in(value, 1, &f))
        return refuse(m, opt_find(key), value);
    m->fit = f;
    return 0;
}
static int get_fit(const EtnModel *m, char *buf, size_t n) { return m->fit > 0 && put_number(buf, n, m->fit); }

static int set_multipliers(EtnModel *m, const char *key, const char *value)
{
    static const MultMode mode[] = {MULT_CSD, MULT_DSP, MULT_AUTO};   /* in the order of "values" */
    int k = choice(opt_find(key), value);
    if (k < 0)
        return refuse(m, opt_find(key), value);
    m->multipliers = mode[k];
    return 0;
}
static int get_multipliers(const EtnModel *m, char *buf, size_t n)
{
    return put(buf, n, m->multipliers == MULT_DSP ? "dsp" : m->multipliers == MULT_AUTO ? "auto" : "csd");
}

static int set_io(EtnModel *m, const char *key, const char *value)
{
    int k = choice(opt_find(key), !strncmp(value, "io_", 3) ? value + 3 : value);   /* hls4ml's io_parallel, io_stream */
    if (k < 0)
        return refuse(m, opt_find(key), value);
    m->io = k;
    return 0;
}
/* as etn_write resolves it: --io, else the config's IOType, else parallel */
static int get_io(const EtnModel *m, char *buf, size_t n)
{
    int io = m->io;
    Diag d = {0};
    if (io < 0 && config_io_stream(&m->cfg, &d, &io) < 0)
        io = 0;
    diag_free(&d);
    return put(buf, n, io == 1 ? "stream" : "parallel");
}

static int set_emit(EtnModel *m, const char *key, const char *value)
{
    (void)key;
    return parse_emit(m, value, &m->emit);
}
static int get_emit(const EtnModel *m, char *buf, size_t n)
{
    if (m->emit & EMIT_ASKED_ALL)
        return put(buf, n, "all");
    size_t nw;
    const Writer *w = writers(&nw);
    buf[0] = 0;
    for (size_t k = 0; k < nw; k++)
        if (m->emit & w[k].bit)
            snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? "," : "", w[k].name);
    return 1;
}

/* shorthands: --no-rtl (rtl 0: no Verilog nor what packages it), --hls (hls 1) */
static int set_bit(EtnModel *m, const char *key, const char *value)
{
    int k = choice(opt_find(key), value);   /* 0, 1 */
    if (k < 0)
        return refuse(m, opt_find(key), value);
    int hls = !strcmp(key, "hls");
    if (k)
        m->emit |= hls ? EMIT_HLS : EMIT_RTL;
    else
        m->emit &= ~(hls ? EMIT_HLS : EMIT_RTL | EMIT_AXIS | EMIT_VIVADO | EMIT_FUSESOC);
    return 0;
}
static int get_rtl(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->emit & EMIT_RTL ? "1" : "0"); }
static int get_hls(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->emit & EMIT_HLS ? "1" : "0"); }

static int set_cmssw(EtnModel *m, const char *key, const char *value)   /* refused at etn_write unless cmssw is emitted */
{
    (void)key;
    int v = cmssw_parse_version(&m->diag, value);
    if (v < 0)
        return -1;
    m->cmssw_version = v;
    return 0;
}
static int get_cmssw(const EtnModel *m, char *buf, size_t n)
{
    snprintf(buf, n, "%d", m->cmssw_version);
    return m->cmssw_version > 0;
}

static int set_dump_after(EtnModel *m, const char *key, const char *value)
{
    (void)key;
    int ok = !strcmp(value, "all") || !strcmp(value, "import");
    for (size_t k = 0; model_pass_name(k); k++)
        ok |= !strcmp(value, model_pass_name(k));
    for (size_t k = 0; hw_step_name(k); k++)   /* the hardware steps (hw.c) */
        ok |= !strcmp(value, hw_step_name(k));
    if (!ok) {
        Buf names = {0};
        for (size_t k = 0; model_pass_name(k); k++)
            buf_printf(&names, ", %s", model_pass_name(k));
        for (size_t k = 0; hw_step_name(k); k++)
            buf_printf(&names, ", %s", hw_step_name(k));
        diag_error(&m->diag, "--dump-after: expected one of import%s, all, got '%s'", names.data, value);
        buf_free(&names);
        return -1;
    }
    snprintf(m->dump_after, sizeof m->dump_after, "%s", value);
    return 0;
}
static int get_dump_after(const EtnModel *m, char *buf, size_t n) { return put(buf, n, m->dump_after); }

/* ---- the table ------------------------------------------------------------- */

#define CP "compile predict"

/* In report.json "source" order (after "model"); etchnn verify re-applies the recorded ones in this order. */
static const OptDef opts[] = {
    /* key, source, python, flag, alt, switch, its value, commands, values, help */
    {{"weights_file", "weights", "keras_weights", "--weights", NULL, NULL, NULL, CP " config", "a Keras weights file (.h5)",
      "the weights of a Keras architecture .json (default: NAME_weights.h5 beside it)"},
     OPT_PATH, 1, set_weights, get_weights},
    {{"config", "config", "config", "-c", "--config", NULL, NULL, CP, "a configuration file (.json, .yml, .yaml)",
      "hls4ml's keys: Model / LayerType / LayerName: Precision, ReuseFactor, Strategy, ..."},
     OPT_PATH, 1, set_config, get_config},
    {{"precision", "precision", "precision", "--precision", NULL, NULL, NULL, CP,
      "a type such as fixed<16,6>, ufixed<8,0>, fixed<W,I,Q,O>, ap_fixed<W,I,AP_RND,AP_SAT>, int<W>",
      "the type of every variable the configuration does not set"},
     OPT_TEXT, 1, set_precision, get_precision},
    {{"tables", "tables", "tables", "--tables", NULL, "--hls4ml", "hls4ml", CP, "one of exact, hls4ml",
      "sigmoid, tanh, softmax, LayerNormalization's 1/sqrt: exact, or hls4ml's lookup tables"},
     OPT_TEXT, 1, set_tables, get_tables},
    {{"weight_quant", "weight_quant", "weight_quant", "--weight-quant", NULL, "--hls4ml", "hls4ml", CP,
      "one of exact, hls4ml", "weights rounded to their type exactly, or as hls4ml does (and a "
      "BatchNormalization folded into the layer before only where hls4ml folds it: that layer's result 'auto')"},
     OPT_TEXT, 1, set_weight_quant, get_weight_quant},
    {{"sat_order", "sat_order", "sat_order", "--sat-order", NULL, "--hls4ml", "hls4ml", CP, "one of exact, hls4ml",
      "a saturating (SAT, SAT_SYM, SAT_ZERO) Dense/Conv accumulator: exact sum saturated once, or saturated after each "
      "addition in hls4ml's order"},
     OPT_TEXT, 1, set_sat_order, get_sat_order},
    {{"auto_types", "auto_types", "auto_types", "--auto-types", NULL, "--hls4ml", "hls4ml", CP, "one of exact, hls4ml",
      "a precision variable set to 'auto': the narrowest type holding every value (Dense/Conv/pooling sums; other "
      "layers the default), or the type hls4ml infers from the input, weight and bias types"},
     OPT_TEXT, 1, set_auto_types, get_auto_types},
    {{"clock_mhz", "clock_mhz", "clock_mhz", "--clock-mhz", NULL, NULL, NULL, "compile",
      "a frequency in MHz between 0 and 2000", "the RTL clock (default: the config's ClockPeriod, else 200 MHz)"},
     OPT_NUMBER, 0, set_clock, get_clock},
    {{"part", "part", "part", "--part", NULL, NULL, NULL, "compile",
      "a part etchnn knows, with or without package and speed grade", "the device (default: the config's Part): "
      "the report's utilization"},
     OPT_TEXT, 0, set_part, get_part},
    {{"fit", "fit", "fit", "--fit", NULL, NULL, NULL, "compile", "a fraction of the part in (0, 1]",
      "choose each layer's ReuseFactor and multipliers so that the estimate fits this fraction of the part"},
     OPT_NUMBER, 0, set_fit, get_fit},
    {{"multipliers", "multipliers", "multipliers", "--multipliers", NULL, NULL, NULL, "compile", "one of csd, dsp, auto",
      "constant and folded multiplications on logic (csd), DSP blocks, or the cheaper per layer"},
     OPT_TEXT, 0, set_multipliers, get_multipliers},
    {{"io", "io", "io_type", "--io", NULL, NULL, NULL, "compile", "one of parallel, stream",
      "io_parallel or io_stream (one pixel per clock); default: the config's IOType, else parallel"},
     OPT_TEXT, 0, set_io, get_io},
    {{"emit", NULL, NULL, "--emit", NULL, NULL, NULL, "compile",
      "a comma-separated list of c, rtl, hls, axis, vivado, fusesoc, cmssw or all", "what to write (default c,rtl)"},
     OPT_TEXT, 0, set_emit, get_emit},
    {{"rtl", NULL, NULL, NULL, NULL, "--no-rtl", "0", "compile", "one of 0, 1", "0: no Verilog (--no-rtl is --emit c)"},
     OPT_TEXT, 0, set_bit, get_rtl},
    {{"hls", NULL, NULL, NULL, NULL, "--hls", "1", "compile", "one of 0, 1", "1: also the Vitis HLS project (OUT/hls)"},
     OPT_TEXT, 0, set_bit, get_hls},
    {{"cmssw_version", NULL, NULL, "--cmssw-version", NULL, NULL, NULL, "compile", "a positive integer",
      "N of OUT/cmssw's NAME_vN.so (default 1; needs cmssw in --emit)"},
     OPT_TEXT, 0, set_cmssw, get_cmssw},
    {{"dump_after", NULL, NULL, "--dump-after", NULL, NULL, NULL, CP, "an IR pass, a hardware step, import or all",
      "print the IR (or the netlist) after that pass or step"},
     OPT_TEXT, 0, set_dump_after, get_dump_after},
};

const OptDef *opt_def(size_t k) { return k < ETN_COUNTOF(opts) ? &opts[k] : NULL; }

const OptDef *opt_find(const char *key)
{
    for (size_t k = 0; k < ETN_COUNTOF(opts); k++)
        if (!strcmp(opts[k].info.key, key))
            return &opts[k];
    return NULL;
}

size_t etn_option_count(void) { return ETN_COUNTOF(opts); }

const EtnOption *etn_option(size_t k) { return k < ETN_COUNTOF(opts) ? &opts[k].info : NULL; }

static int unknown(EtnModel *m, const char *key)
{
    Buf names = {0};
    for (size_t k = 0; k < ETN_COUNTOF(opts); k++)
        buf_printf(&names, "%s%s", k ? ", " : "", opts[k].info.key);
    diag_error(&m->diag, "unknown option '%s': expected one of %s", key, names.data);
    buf_free(&names);
    return -1;
}

int etn_set_option(EtnModel *m, const char *key, const char *value)
{
    model_reset_error(m);
    const OptDef *d = opt_find(key);
    if (!d) {
        unknown(m, key);
        return ETN_EUSER;
    }
    if (d->set(m, key, value) < 0)
        return m->diag.set && !strncmp(m->diag.msg, "internal", 8) ? ETN_EINTERNAL : ETN_EUSER;
    m->compiled = 0;
    return ETN_OK;
}

const char *etn_get_option(EtnModel *m, const char *key)
{
    model_reset_error(m);
    const OptDef *d = opt_find(key);
    if (!d) {
        unknown(m, key);
        return NULL;
    }
    return d->get(m, m->opt_text, sizeof m->opt_text) ? m->opt_text : NULL;
}
