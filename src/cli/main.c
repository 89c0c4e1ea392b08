/* main.c — the `etchnn` command line: a thin client of include/etchnn.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "etchnn.h"

static const char usage[] =
    "usage: etchnn <command> [options]\n"
    "\n"
    "commands:\n"
    "  compile MODEL -o OUT [-c CONFIG] [--precision T] [--tables exact|hls4ml] [--weight-quant exact|hls4ml]\n"
    "          [--sat-order exact|hls4ml] [--auto-types exact|hls4ml] [--hls4ml] [--weights FILE.h5] [--clock-mhz F]\n"
    "          [--multipliers csd|dsp|auto] [--no-rtl]\n"
    "          [--io parallel|stream] [--emit LIST] [--cmssw-version N] [--hls] [--dump-after PASS]\n"
    "          [--part PART] [--fit FRACTION]\n"
    "      compile and write OUT/c/NAME.{c,h} (standalone C), OUT/rtl/*.v (pipelined Verilog, II=1, or II=R\n"
    "      with ReuseFactor R: each multiplier used R times), OUT/report.json and OUT/report.txt (latency,\n"
    "      resource estimate, per-layer types; with --part or Part: utilization of that device).\n"
    "      --fit F (needs a part): choose each layer's ReuseFactor and multipliers so that the estimate fits\n"
    "      the fraction F of the part, with the lowest latency found (report.json \"fit\" says what and why)\n"
    "      --io stream (or IOType: io_stream): one pixel per clock through line buffers, report beside io_parallel\n"
    "      --emit LIST: what to write, of c (OUT/c), rtl (OUT/rtl, report), hls (OUT/hls: a Vitis HLS C++ project),\n"
    "      axis (rtl/NAME_axis.v: AXI4-Stream wrapper), vivado (OUT/vivado: IP and synthesis scripts; needs axis),\n"
    "      fusesoc (OUT/NAME.core), all; default c,rtl.  --no-rtl is --emit c; --hls adds hls\n"
    "      cmssw (OUT/cmssw: hls4mlEmulator::Model library NAME_vN.so for CMSSW); --cmssw-version N (default 1)\n"
    "  predict MODEL --input X [--output Y] [-c CONFIG] [--precision T] [--tables exact|hls4ml] [--float]\n"
    "      bit-exact emulation; X, Y: text (one event per line) or .npy; stdout without --output.\n"
    "      Several model inputs: one --input per input, in the model's order, or one X.npz with an\n"
    "      array per input name; several outputs: Y.npz (an array per output name), else each\n"
    "      event's outputs one after the other on a line / in a row of the .npy\n"
    "  verify OUT [--input X | --n 10000] [--seed S]\n"
    "      simulate OUT/rtl with Verilator, one vector per clock, and compare every output bit with the\n"
    "      emulator (X: text or .npy; else random input codes); exit 1 on any mismatch\n"
    "  config MODEL [--granularity model|type|name]\n"
    "      print a complete configuration to edit\n"
    "  synth OUT --target xilinx|ice40|ecp5|nexus [--device D] [--timeout SECONDS] [--force]\n"
    "      synthesize OUT/rtl with Yosys (xilinx: LUT/FF/CARRY/DSP/BRAM; ice40, ecp5, nexus: + nextpnr place and\n"
    "      route, Fmax at the report's clock; nexus: a LIFCL-40 CABGA400, every port bit on one of its 168 IO balls\n"
    "      by a generated PDC); results merged into OUT/report.json (\"synth\", per target) and report.txt;\n"
    "      tools stopped after --timeout (default 3600 s, 0: none); ice40/ecp5/nexus refuse a design whose estimate\n"
    "      is over 2x the device's logic cells unless --force\n"
    "  tune | sweep | merge | profile ...\n"
    "      the Python package's commands (the etchnn module of python3): per-layer types from data, design-space sweeps\n"
    "      locally or on Dask/Ray, array-job merges, per-layer ranges; `etchnn tune --help` (sweep, ...) lists\n"
    "      their options\n"
    "  options\n"
    "      list every option: its flags, etn_set_option key, Python keyword, report.json \"source\" key, commands\n"
    "  version\n"
    "\n"
    "CONFIG is JSON or YAML with hls4ml's keys: Model / LayerType / LayerName, Precision\n"
    "(one type or per variable: weight, bias, result, accum, table), ReuseFactor, Strategy, Tables.\n"
    "MODEL: .onnx, Keras .keras / .h5 / .json (+ NAME_weights.h5 beside it, or --weights FILE.h5).\n"
    "--hls4ml is --tables hls4ml --weight-quant hls4ml --sat-order hls4ml --auto-types hls4ml: outputs equal hls4ml's C\n"
    "simulation for the same configuration ('auto' types inferred as hls4ml infers them).\n"
    "Types: fixed<W,I>, fixed<W,I,Q,O>, ufixed<W,I>, ap_fixed<W,I,AP_RND,AP_SAT>, int<W>.\n";

/* Options of the command line alone; the model options are the library's table (etn_option). */
enum { CLI_OUT, CLI_INPUT, CLI_OUTPUT, CLI_FLOAT, CLI_N, CLI_SEED, CLI_GRANULARITY, CLI_TARGET, CLI_DEVICE, CLI_TIMEOUT,
       CLI_FORCE, CLI_COUNT };
static const struct {
    const char *flag, *alt;   /* spellings */
    const char *cmds;         /* the commands it applies to; any other use is refused (no silent knobs) */
    int takes_value;          /* 0: a switch (its value is "1") */
    const char *help;
} cli_opts[CLI_COUNT] = {
    [CLI_OUT] = {"-o", "--out", "compile", 1, "the output folder"},
    [CLI_INPUT] = {"--input", "-i", "predict verify", 1, "events: text (one per line), .npy, or .npz (an array per input name); predict: once per model input"},
    [CLI_OUTPUT] = {"--output", NULL, "predict", 1, "where the outputs go: text, .npy or .npz (an array per output name) (default: stdout)"},
    [CLI_FLOAT] = {"--float", NULL, "predict", 0, "run the compiled graph in double precision"},
    [CLI_N] = {"--n", NULL, "verify", 1, "random events (default 10000)"},
    [CLI_SEED] = {"--seed", NULL, "verify", 1, "their seed"},
    [CLI_GRANULARITY] = {"--granularity", NULL, "config", 1, "model, type or name (default name)"},
    [CLI_TARGET] = {"--target", NULL, "synth", 1, "xilinx, ice40, ecp5 or nexus"},
    [CLI_DEVICE] = {"--device", NULL, "synth", 1, "the device (default: the smallest that holds the design; nexus: LIFCL-40-9BG400C)"},
    [CLI_TIMEOUT] = {"--timeout", NULL, "synth", 1, "seconds for all tools (default 3600, 0: none)"},
    [CLI_FORCE] = {"--force", NULL, "synth", 0, "ice40, ecp5, nexus: run even when the estimate says it cannot fit"},
};

#define MAX_INPUT_FILES 16   /* predict --input files (one per model input) */
#define MAX_OPTIONS 64   /* model options the CLI can hold (etn_option_count(), checked in main) */

typedef struct {
    const char *cmd, *model;
    const char *opt[MAX_OPTIONS];      /* model option k's value (etn_option(k)), or NULL */
    const char *opt_flag[MAX_OPTIONS]; /* the flag that gave it */
    const char *cli[CLI_COUNT];        /* CLI_* values ("1" for a switch), or NULL */
    const char *inputs[MAX_INPUT_FILES];/* predict: every --input, in order (cli[CLI_INPUT] is the first) */
    int ninputs;
} Args;

/* The value given for model option key, or NULL. */
static const char *opt_value(const Args *a, const char *key)
{
    for (size_t k = 0; k < etn_option_count(); k++)
        if (!strcmp(etn_option(k)->key, key))
            return a->opt[k];
    return NULL;
}

static int die(const char *msg)
{
    fprintf(stderr, "etchnn: %s\n", msg);
    return 2;
}

/* Warnings of the last library call, on stderr, before anything else it says. */
static void show_warnings(const EtnModel *m)
{
    const char *w = etn_warnings(m);
    for (const char *p = w; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        fprintf(stderr, "etchnn: %.*s\n", (int)len, p);
        p += len + (e != NULL);
    }
}

static int model_error(EtnModel *m, int rc)
{
    show_warnings(m);
    fprintf(stderr, "etchnn: %s\n", etn_error(m));
    return rc == ETN_EINTERNAL ? 3 : 2;
}

static int word_in(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return 1;
    return 0;
}

static int is(const char *name, const char *flag) { return flag && !strcmp(name, flag); }

/* 0 if an option for commands `cmds` applies to command cmd (or cmd is not a known command: reported later), else a
 * message. */
static int option_applies(const char *cmd, const char *name, const char *cmds)
{
    static const char known[] = "compile predict verify config synth options";
    if (!word_in(cmd, known) || word_in(cmd, cmds))
        return 0;
    fprintf(stderr, "etchnn: %s: option '%s' does not apply (it would change nothing); it is for: %s\n", cmd, name, cmds);
    return -1;
}

/* Store a value: once per option (a switch may repeat the value another flag gave).  name: a flag as the
 * tables spell it (it outlives the parse). */
static int store(const char **slot, const char **slot_flag, const char *name, const char *value, int is_switch)
{
    if (*slot && !(is_switch && !strcmp(*slot, value))) {
        if (slot_flag && strcmp(*slot_flag, name))
            fprintf(stderr, "etchnn: options '%s' and '%s' set the same thing ('%s', then '%s'): expected one of them\n",
                    *slot_flag, name, *slot, value);
        else
            fprintf(stderr, "etchnn: option '%s' given twice ('%s', then '%s'): expected it once\n", name, *slot, value);
        return -1;
    }
    *slot = value;
    if (slot_flag)
        *slot_flag = name;
    return 0;
}

static int parse_args(int argc, char **argv, Args *a)
{
    memset(a, 0, sizeof(*a));
    if (argc < 2)
        return -1;
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] != '-' || !s[1]) {
            if (a->model) {
                fprintf(stderr, "etchnn: unexpected argument '%s'\n", s);
                return -2;
            }
            a->model = s;
            continue;
        }
        /* --flag=value or --flag value */
        char name[64];
        const char *eq = s[1] == '-' ? strchr(s, '=') : NULL, *inline_value = eq ? eq + 1 : NULL;
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - s) : (int)strlen(s), s);
        int found = 0, takes_value = 0;
        for (size_t k = 0; k < etn_option_count(); k++) {   /* model options, from the library's table */
            const EtnOption *o = etn_option(k);
            int by_flag = is(name, o->flag) || is(name, o->alt), by_switch = is(name, o->switch_flag);
            if (!by_flag && !by_switch)
                continue;
            if (option_applies(a->cmd, name, o->commands) < 0)
                return -2;
            found = 1;
            takes_value = by_flag;
            if (by_switch && store(&a->opt[k], &a->opt_flag[k], o->switch_flag, o->switch_value, 1) < 0)
                return -2;
        }
        for (int k = 0; !found && k < CLI_COUNT; k++) {
            if (!is(name, cli_opts[k].flag) && !is(name, cli_opts[k].alt))
                continue;
            if (option_applies(a->cmd, name, cli_opts[k].cmds) < 0)
                return -2;
            found = 1;
            takes_value = cli_opts[k].takes_value;
            if (!takes_value && store(&a->cli[k], NULL, name, "1", 1) < 0)
                return -2;
        }
        if (!found) {
            fprintf(stderr, "etchnn: unknown option '%s'\n", name);
            return -2;
        }
        if (!takes_value) {
            if (inline_value) {
                fprintf(stderr, "etchnn: option '%s' takes no value, got '%s'\n", name, inline_value);
                return -2;
            }
            continue;
        }
        if (!inline_value && i + 1 >= argc) {
            fprintf(stderr, "etchnn: option '%s' needs a value\n", name);
            return -2;
        }
        const char *value = inline_value ? inline_value : argv[++i];
        for (size_t k = 0; k < etn_option_count(); k++) {
            const EtnOption *o = etn_option(k);
            if ((is(name, o->flag) || is(name, o->alt)) &&
                store(&a->opt[k], &a->opt_flag[k], is(name, o->flag) ? o->flag : o->alt, value, 0) < 0)
                return -2;
        }
        for (int k = 0; k < CLI_COUNT; k++) {
            if (!is(name, cli_opts[k].flag) && !is(name, cli_opts[k].alt))
                continue;
            if (k == CLI_INPUT && !strcmp(a->cmd, "predict")) {   /* one --input per model input, in order */
                if (a->ninputs >= MAX_INPUT_FILES) {
                    fprintf(stderr, "etchnn: predict: expected at most %d --input files, got more\n", MAX_INPUT_FILES);
                    return -2;
                }
                a->inputs[a->ninputs++] = value;
                if (!a->cli[k])
                    a->cli[k] = value;
                continue;
            }
            if (store(&a->cli[k], NULL, name, value, 0) < 0)
                return -2;
        }
    }
    return 0;
}

/* Every model option given, through etn_set_option, in the table's order. */
static int apply_options(EtnModel *m, const Args *a)
{
    for (size_t k = 0; k < etn_option_count(); k++) {
        int rc;
        if (a->opt[k] && (rc = etn_set_option(m, etn_option(k)->key, a->opt[k])) != ETN_OK)
            return model_error(m, rc);
    }
    return 0;
}

/* etchnn options: the table, and the options of the command line alone. */
static int cmd_options(void)
{
    printf("model options (the library's one table: the same key for etn_set_option and report.json \"source\";\n"
           "etchnn verify re-applies what \"source\" records; Python: etchnn.convert(KEYWORD=...)):\n");
    for (size_t k = 0; k < etn_option_count(); k++) {
        const EtnOption *o = etn_option(k);
        char flags[128] = "";
        if (o->flag)
            snprintf(flags, sizeof flags, "%s%s%s VALUE", o->flag, o->alt ? ", " : "", o->alt ? o->alt : "");
        if (o->switch_flag)
            snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s (%s %s)", flags[0] ? ", " : "",
                     o->switch_flag, o->key, o->switch_value);
        printf("  %-16s %s\n      %s; takes %s\n      for: %s; source: %s; Python: %s\n", o->key, flags, o->help,
               o->values, o->commands, o->source ? o->source : "-", o->python ? o->python : "-");
    }
    printf("command-line options:\n");
    for (int k = 0; k < CLI_COUNT; k++)
        printf("  %s%s%s%s\n      %s\n      for: %s\n", cli_opts[k].flag, cli_opts[k].alt ? ", " : "",
               cli_opts[k].alt ? cli_opts[k].alt : "", cli_opts[k].takes_value ? " VALUE" : "", cli_opts[k].help,
               cli_opts[k].cmds);
    return 0;
}

/* Load, configure and compile. */
static int prepare(EtnModel *m, const Args *a)
{
    int rc;
    if (!a->model)
        return die("expected a model file (.onnx, .keras, .h5 or .json), got none");
    if (opt_value(a, "rtl") && opt_value(a, "emit"))
        return die("compile: --no-rtl and --emit: expected one of them (--no-rtl is --emit c)");
    if ((rc = apply_options(m, a)) != 0)
        return rc;
    if ((rc = etn_load(m, a->model)) != ETN_OK)
        return model_error(m, rc);
    show_warnings(m);
    rc = etn_compile(m);
    if (rc == ETN_OK)
        show_warnings(m);
    if (opt_value(a, "dump_after"))
        fputs(etn_dump_text(m), stdout);
    if (rc != ETN_OK)
        return model_error(m, rc);
    return 0;
}

static int cmd_predict(EtnModel *m, const Args *a)
{
    int rc = prepare(m, a);
    if (rc)
        return rc;
    if (!a->cli[CLI_INPUT] || !a->cli[CLI_INPUT][0])
        return die("predict: expected --input X (a file name), got none");
    for (int k = 1; k < a->ninputs; k++)
        if (!a->inputs[k][0])
            return die("predict: expected --input X (a file name), got an empty name");
    if (a->cli[CLI_OUTPUT] && !a->cli[CLI_OUTPUT][0])
        return die("predict: expected --output Y to name a file, got an empty name");
    double *x = NULL;
    size_t n = 0;
    size_t ilen = strlen(a->cli[CLI_INPUT]);
    int npz_in = ilen > 4 && !strcmp(a->cli[CLI_INPUT] + ilen - 4, ".npz");
    if (a->ninputs > 1 || npz_in || etn_input_count(m) > 1)
        rc = etn_read_inputs(m, a->inputs, (size_t)a->ninputs, &x, &n);
    else
        rc = etn_read_events(m, a->cli[CLI_INPUT], &x, &n);
    if (rc != ETN_OK)
        return model_error(m, rc);
    show_warnings(m);
    size_t no = etn_output_size(m);
    double *y = malloc(n * no * sizeof(double));
    int64_t *codes = a->cli[CLI_FLOAT] ? NULL : malloc(n * no * sizeof(int64_t));
    if (!y || (!a->cli[CLI_FLOAT] && !codes)) {
        etn_free(x);
        free(y);
        free(codes);
        return die("out of memory");
    }
    if (a->cli[CLI_FLOAT])
        rc = etn_predict(m, x, y, n, 1);
    else
        rc = etn_predict_raw(m, x, codes, n);
    etn_free(x);
    if (rc != ETN_OK) {
        free(y);
        free(codes);
        return model_error(m, rc);
    }
    if (!a->cli[CLI_FLOAT])
        for (size_t k = 0; k < n * no; k++)   /* each output its own type */
            y[k] = etn_output_code_value(m, k % no, codes[k]);
    size_t olen = a->cli[CLI_OUTPUT] ? strlen(a->cli[CLI_OUTPUT]) : 0;
    if (a->cli[CLI_OUTPUT] && olen > 4 && !strcmp(a->cli[CLI_OUTPUT] + olen - 4, ".npz")) {
        rc = etn_write_outputs_npz(m, a->cli[CLI_OUTPUT], y, n);   /* one array per output, by name */
        free(y);
        free(codes);
        return rc == ETN_OK ? 0 : model_error(m, rc);
    }
    if (a->cli[CLI_OUTPUT] && olen > 4 && !strcmp(a->cli[CLI_OUTPUT] + olen - 4, ".npy")) {
        rc = etn_write_npy(m, a->cli[CLI_OUTPUT], y, n, no);
        free(y);
        free(codes);
        return rc == ETN_OK ? 0 : model_error(m, rc);
    }
    /* text: built in memory, then written all or nothing (or to stdout) */
    size_t cap = n * no * 24 + 1, len = 0;
    char *text = malloc(cap);
    if (!text) {
        free(y);
        free(codes);
        return die("out of memory");
    }
    char buf[800];
    for (size_t ev = 0; ev < n; ev++) {
        for (size_t k = 0; k < no; k++) {
            if (a->cli[CLI_FLOAT])
                snprintf(buf, sizeof buf, "%.17g", y[ev * no + k]);
            else
                etn_format_output_code(m, k, codes[ev * no + k], buf, sizeof buf);
            size_t bl = strlen(buf);
            if (len + bl + 2 > cap) {
                char *t2 = realloc(text, cap * 2 + bl + 2);
                if (!t2) {
                    free(text);
                    free(y);
                    free(codes);
                    return die("out of memory");
                }
                text = t2;
                cap = cap * 2 + bl + 2;
            }
            memcpy(text + len, buf, bl);
            len += bl;
            text[len++] = k + 1 < no ? ' ' : '\n';
        }
    }
    free(y);
    free(codes);
    if (a->cli[CLI_OUTPUT]) {
        rc = etn_write_file(m, a->cli[CLI_OUTPUT], text, len);
        free(text);
        return rc == ETN_OK ? 0 : model_error(m, rc);
    }
    int bad = len && fwrite(text, 1, len, stdout) != len;
    free(text);
    if (bad || fflush(stdout) != 0) {
        fprintf(stderr, "etchnn: stdout: write failed\n");
        return 2;
    }
    return 0;
}

static int cmd_compile(EtnModel *m, const Args *a)
{
    if (!a->cli[CLI_OUT] && !opt_value(a, "dump_after"))
        return die("compile: expected -o OUT (the output folder), got none");
    if (a->cli[CLI_OUT] && !a->cli[CLI_OUT][0])
        return die("compile: expected -o OUT to name a folder, got an empty name");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = prepare(m, a);
    if (rc)
        return rc;
    if (!a->cli[CLI_OUT])
        return 0;
    if ((rc = etn_write(m, a->cli[CLI_OUT])) != ETN_OK)
        return model_error(m, rc);
    show_warnings(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    char tin[64];   /* the type strings share one buffer in the model */
    snprintf(tin, sizeof tin, "%s", etn_input_type(m));
    printf("%s: %zu layers, input %zu x %s, output %zu x %s\n", a->model, etn_layer_count(m), etn_input_size(m), tin,
           etn_output_size(m), etn_output_type(m));
    for (size_t k = 0; k < etn_layer_count(m); k++)
        printf("  %-28s %-20s %6zu x %s\n", etn_layer_name(m, k), etn_layer_class(m, k), etn_layer_size(m, k),
               etn_layer_type(m, k));
    printf("wrote %s (%s) in %.1f ms\n", a->cli[CLI_OUT],
           opt_value(a, "rtl") ? "c/" : opt_value(a, "emit") ? opt_value(a, "emit") : "c/, rtl/, report.json, report.txt",
           ms);
    return 0;
}

static void verify_progress(const char *msg, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "%s\n", msg);
}

/* etchnn verify OUT: the circuit against the emulator (src/tools/verify.c). */
static int cmd_verify(EtnModel *m, const Args *a)
{
    if (!a->model || !a->model[0])
        return die("verify: expected the directory written by etchnn compile -o OUT, got none");
    EtnVerifyOptions o = {0};
    char *end;
    if (a->cli[CLI_N] && (o.n = strtoul(a->cli[CLI_N], &end, 10), *end || !o.n || a->cli[CLI_N][0] == '-')) {
        fprintf(stderr, "etchnn: verify: --n: expected a number of events >= 1, got '%s'\n", a->cli[CLI_N]);
        return 2;
    }
    if (a->cli[CLI_SEED] && (o.seed = strtoull(a->cli[CLI_SEED], &end, 0), *end || !*a->cli[CLI_SEED])) {
        fprintf(stderr, "etchnn: verify: --seed: expected an integer, got '%s'\n", a->cli[CLI_SEED]);
        return 2;
    }
    o.input_file = a->cli[CLI_INPUT];
    o.progress = verify_progress;
    EtnVerifyResult r;
    int rc = etn_verify(m, a->model, &o, &r);
    if (rc != ETN_OK && rc != ETN_VERIFY_MISMATCH)
        return model_error(m, rc);
    char e[800], g[800];
    for (size_t k = 0; k < r.mismatches && k < ETN_VERIFY_KEEP; k++) {
        etn_format_code(m, r.first[k].expected, e, sizeof e);
        etn_format_code(m, r.first[k].got, g, sizeof g);
        printf("mismatch: event %zu output %zu: expected %lld (%s), got %lld (%s)\n", r.first[k].event, r.first[k].output,
               (long long)r.first[k].expected, e, (long long)r.first[k].got, g);
    }
    if (r.valid_errors)
        printf("out_valid: wrong at %zu clock edges, the first at edge %ld (edge 0 samples event 0; expected high "
               "from edge %d for %zu edges)\n", r.valid_errors, r.first_valid_error, r.latency - 1, r.events);
    /* io_stream designs take a pixel per clock (report.json says which) */
    int stream = 0;
    char rp[4200];
    snprintf(rp, sizeof rp, "%s/report.json", a->model);
    FILE *rf = fopen(rp, "r");
    if (rf) {
        char line[512];
        while (fgets(line, sizeof line, rf))
            if (strstr(line, "\"io_type\"") && strstr(line, "io_stream"))
                stream = 1;
        fclose(rf);
    }
    char per[64];
    if (r.ii > 1)
        snprintf(per, sizeof per, "vectors, one per %d clocks (II)", r.ii);
    printf("%s: %s: %zu %s, latency %d cycles%s: %zu of %zu outputs differ "
           "(Verilator build %.1f s%s, simulation %.2f s)\n",
           rc == ETN_OK ? "PASS" : "FAIL", a->model, r.events,
           stream ? "images, one pixel per clock" : r.ii > 1 ? per : "vectors, one per clock", r.latency, stream ? " from the first pixel" : "", r.mismatches, r.outputs, r.build_seconds,
           r.rebuilt ? "" : ", reused", r.run_seconds);
    return rc == ETN_OK ? 0 : 1;
}

static int cmd_config(EtnModel *m, const Args *a)
{
    int rc;
    if (!a->model)
        return die("config: expected a model file (.onnx, .keras, .h5 or .json), got none");
    if ((rc = apply_options(m, a)) != 0)
        return rc;
    if ((rc = etn_load(m, a->model)) != ETN_OK)
        return model_error(m, rc);
    const char *t = etn_config_template(m, a->cli[CLI_GRANULARITY] ? a->cli[CLI_GRANULARITY] : "name");
    if (!t)
        return model_error(m, ETN_EUSER);
    fputs(t, stdout);
    return 0;
}

static void synth_progress(const char *msg, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "etchnn %s\n", msg);
}

static int cmd_synth(const Args *a)
{
    if (!a->model || !a->model[0])
        return die("synth: expected the output directory of `etchnn compile`, got none");
    if (!a->cli[CLI_TARGET])
        return die("synth: --target: expected xilinx, ice40, ecp5 or nexus, got none");
    EtnSynthOptions opt;
    memset(&opt, 0, sizeof opt);
    opt.device = a->cli[CLI_DEVICE];
    opt.force = a->cli[CLI_FORCE] != NULL;
    opt.progress = synth_progress;
    if (a->cli[CLI_TIMEOUT]) {
        char *end;
        errno = 0;
        double t = strtod(a->cli[CLI_TIMEOUT], &end);
        if (end == a->cli[CLI_TIMEOUT] || *end || errno || !(t >= 0) || t > 1e9) {
            fprintf(stderr, "etchnn: synth: --timeout: expected seconds (0: no limit), got '%s'\n", a->cli[CLI_TIMEOUT]);
            return 2;
        }
        opt.timeout_s = t > 0 ? t : -1;
    }
    char err[1200], *summary = NULL;
    int rc = etn_synth_opts(a->model, a->cli[CLI_TARGET], &opt, &summary, err, sizeof err);
    if (rc != ETN_OK) {
        etn_free(summary);   /* a design that does not fit still gets its summary */
        fprintf(stderr, "etchnn: %s\n", err);
        return rc == ETN_EINTERNAL ? 3 : 2;
    }
    fprintf(stderr, "etchnn synth: results merged into %s/report.json and report.txt\n", a->model);
    if (summary)
        puts(summary);
    etn_free(summary);
    return 0;
}

/* etchnn tune|sweep|merge|profile: the Python package's commands (python3 -m etchnn CMD ARGS), which
 * need numpy and, for sweeps on a cluster, Dask or Ray.  In a source checkout the package beside the
 * binary (build/etchnn -> python/) is put first on PYTHONPATH; an installed package is found as it is. */
static int python_command(int argc, char **argv)
{
    char exe[4096], dir[4200] = "", init[4300];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(dir, sizeof dir, "%s/../python", exe);
        }
    }
    struct stat st;
    snprintf(init, sizeof init, "%s/etchnn/__init__.py", dir);
    if (dir[0] && stat(init, &st) == 0) {
        const char *old = getenv("PYTHONPATH");
        size_t len = strlen(dir) + (old ? strlen(old) + 1 : 0) + 1;
        char *pp = malloc(len);
        if (!pp)
            return die("out of memory");
        snprintf(pp, len, "%s%s%s", dir, old && old[0] ? ":" : "", old && old[0] ? old : "");
        setenv("PYTHONPATH", pp, 1);
        free(pp);
    }
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (!args)
        return die("out of memory");
    const char *py = getenv("ETCHNN_PYTHON") ? getenv("ETCHNN_PYTHON") : "python3";
    args[0] = (char *)py;
    args[1] = "-m";
    args[2] = "etchnn";
    for (int k = 1; k < argc; k++)
        args[k + 2] = argv[k];
    execvp(py, args);
    fprintf(stderr, "etchnn: %s: expected to run `%s -m etchnn %s` (the Python package), got: %s\n", argv[1], py, argv[1],
            strerror(errno));
    free(args);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "tune") || !strcmp(argv[1], "sweep") || !strcmp(argv[1], "merge") ||
                      !strcmp(argv[1], "profile")))
        return python_command(argc, argv);
    Args a;
    if (etn_option_count() > MAX_OPTIONS)
        return die("internal: more model options than the command line holds (MAX_OPTIONS)");
    int prc = parse_args(argc, argv, &a);
    if (prc == -1 || (prc == 0 && (!strcmp(a.cmd, "help") || !strcmp(a.cmd, "--help") || !strcmp(a.cmd, "-h")))) {
        fputs(usage, prc == -1 ? stderr : stdout);
        return prc == -1 ? 2 : 0;
    }
    if (prc < 0)
        return 2;
    if (!strcmp(a.cmd, "version") || !strcmp(a.cmd, "--version")) {
        printf("etchnn %s\n", ETCHNN_VERSION);
        return 0;
    }
    if (!strcmp(a.cmd, "synth"))
        return cmd_synth(&a);
    if (!strcmp(a.cmd, "options"))
        return cmd_options();
    EtnModel *m = etn_model_new();
    if (!m)
        return die("out of memory");
    int rc;
    if (!strcmp(a.cmd, "predict"))
        rc = cmd_predict(m, &a);
    else if (!strcmp(a.cmd, "compile"))
        rc = cmd_compile(m, &a);
    else if (!strcmp(a.cmd, "verify"))
        rc = cmd_verify(m, &a);
    else if (!strcmp(a.cmd, "config"))
        rc = cmd_config(m, &a);
    else {
        fprintf(stderr, "etchnn: unknown command '%s'\n%s", a.cmd, usage);
        rc = 2;
    }
    etn_model_free(m);
    return rc;
}
