/* main.c — the `etchnn` command line: a thin client of include/etchnn.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etchnn.h"

static const char usage[] =
    "usage: etchnn <command> [options]\n"
    "\n"
    "commands:\n"
    "  compile MODEL -o OUT [-c CONFIG] [--precision T] [--tables exact|hls4ml] [--weight-quant exact|hls4ml]\n"
    "          [--hls4ml] [--weights FILE.h5] [--clock-mhz F] [--multipliers csd|dsp|auto] [--no-rtl]\n"
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
    "      bit-exact emulation; X, Y: text (one event per line) or .npy; stdout without --output\n"
    "  verify OUT [--input X | --n 10000] [--seed S]\n"
    "      simulate OUT/rtl with Verilator, one vector per clock, and compare every output bit with the\n"
    "      emulator (X: text or .npy; else random input codes); exit 1 on any mismatch\n"
    "  config MODEL [--granularity model|type|name]\n"
    "      print a complete configuration to edit\n"
    "  synth OUT --target xilinx|ice40|ecp5 [--device D] [--timeout SECONDS] [--force]\n"
    "      synthesize OUT/rtl with Yosys (xilinx: LUT/FF/CARRY/DSP/BRAM; ice40, ecp5: + nextpnr place and route,\n"
    "      Fmax at the report's clock); results merged into OUT/report.json (\"synth\", per target) and report.txt;\n"
    "      tools stopped after --timeout (default 3600 s, 0: none); ice40/ecp5 refuse a design whose estimate is\n"
    "      over 2x the device's logic cells unless --force\n"
    "  version\n"
    "\n"
    "CONFIG is JSON or YAML with hls4ml's keys: Model / LayerType / LayerName, Precision\n"
    "(one type or per variable: weight, bias, result, accum, table), ReuseFactor, Strategy, Tables.\n"
    "MODEL: .onnx, Keras .keras / .h5 / .json (+ NAME_weights.h5 beside it, or --weights FILE.h5).\n"
    "--hls4ml is --tables hls4ml --weight-quant hls4ml: outputs equal hls4ml's C simulation for the same types.\n"
    "Types: fixed<W,I>, fixed<W,I,Q,O>, ufixed<W,I>, ap_fixed<W,I,AP_RND,AP_SAT>, int<W>.\n";

typedef struct {
    const char *cmd, *model, *config, *precision, *tables, *weight_quant, *weights_file, *clock_mhz, *multipliers, *part, *fit, *io, *dump_after, *out, *input, *output, *granularity, *n_events, *seed, *target, *device;
    int float_mode;
    int no_rtl;
    int hls;               /* compile --hls */
    const char *emit;      /* compile --emit LIST */
    const char *cmssw_version; /* compile --cmssw-version N */
    const char *timeout;   /* synth */
    int force;             /* synth */
} Args;

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

/* Which commands each option changes; any other use is refused (no silent knobs). */
static const struct {
    const char *flag, *alt, *cmds;
} option_cmds[] = {
    {"-c", "--config", "compile predict"},          {"--precision", NULL, "compile predict"},
    {"--tables", NULL, "compile predict"},         {"--weight-quant", NULL, "compile predict"},
    {"--hls4ml", NULL, "compile predict"},         {"--weights", NULL, "compile predict config"},
    {"--clock-mhz", NULL, "compile"},              {"--multipliers", NULL, "compile"},
    {"--part", NULL, "compile"},                   {"--fit", NULL, "compile"},
    {"--io", NULL, "compile"},                     {"--no-rtl", NULL, "compile"},
    {"--hls", NULL, "compile"},                    {"--emit", NULL, "compile"},
    {"--cmssw-version", NULL, "compile"},
    {"--dump-after", NULL, "compile predict"},     {"-o", "--out", "compile"},
    {"--input", "-i", "predict verify"},           {"--output", NULL, "predict"},
    {"--float", NULL, "predict"},                  {"--n", NULL, "verify"},
    {"--seed", NULL, "verify"},                    {"--granularity", NULL, "config"},
    {"--target", NULL, "synth"},                   {"--device", NULL, "synth"},
    {"--timeout", NULL, "synth"},                  {"--force", NULL, "synth"},
};

static int word_in(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return 1;
    return 0;
}

/* 0 if option s applies to command cmd (or cmd is not a known command: reported later), else a message. */
static int option_applies(const char *cmd, const char *s)
{
    static const char known[] = "compile predict verify config synth";
    if (!word_in(cmd, known))
        return 0;
    for (size_t k = 0; k < sizeof option_cmds / sizeof option_cmds[0]; k++) {
        if (strcmp(s, option_cmds[k].flag) && (!option_cmds[k].alt || strcmp(s, option_cmds[k].alt)) &&
            !(!strcmp(option_cmds[k].flag, "--dump-after") && !strncmp(s, "--dump-after=", 13)))
            continue;
        if (word_in(cmd, option_cmds[k].cmds))
            return 0;
        fprintf(stderr, "etchnn: %s: option '%s' does not apply (it would change nothing); it is for: %s\n", cmd, s,
                option_cmds[k].cmds);
        return -1;
    }
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
        const char **slot = NULL;
        if (s[0] == '-' && s[1] && option_applies(a->cmd, s) < 0)
            return -2;
        if (!strcmp(s, "-c") || !strcmp(s, "--config"))
            slot = &a->config;
        else if (!strcmp(s, "--precision"))
            slot = &a->precision;
        else if (!strcmp(s, "--tables"))
            slot = &a->tables;
        else if (!strcmp(s, "--weight-quant"))
            slot = &a->weight_quant;
        else if (!strcmp(s, "--weights"))
            slot = &a->weights_file;
        else if (!strcmp(s, "--hls4ml"))
            a->tables = a->weight_quant = "hls4ml";
        else if (!strcmp(s, "--clock-mhz"))
            slot = &a->clock_mhz;
        else if (!strcmp(s, "--multipliers"))
            slot = &a->multipliers;
        else if (!strcmp(s, "--part"))
            slot = &a->part;
        else if (!strcmp(s, "--fit"))
            slot = &a->fit;
        else if (!strcmp(s, "--io"))
            slot = &a->io;
        else if (!strcmp(s, "--dump-after"))
            slot = &a->dump_after;
        else if (!strcmp(s, "-o") || !strcmp(s, "--out"))
            slot = &a->out;
        else if (!strcmp(s, "--input") || !strcmp(s, "-i"))
            slot = &a->input;
        else if (!strcmp(s, "--output"))
            slot = &a->output;
        else if (!strcmp(s, "--n"))
            slot = &a->n_events;
        else if (!strcmp(s, "--seed"))
            slot = &a->seed;
        else if (!strcmp(s, "--granularity"))
            slot = &a->granularity;
        else if (!strcmp(s, "--target"))
            slot = &a->target;
        else if (!strcmp(s, "--device"))
            slot = &a->device;
        else if (!strcmp(s, "--timeout"))
            slot = &a->timeout;
        else if (!strcmp(s, "--force"))
            a->force = 1;
        else if (!strcmp(s, "--float"))
            a->float_mode = 1;
        else if (!strcmp(s, "--no-rtl"))
            a->no_rtl = 1;
        else if (!strcmp(s, "--emit"))
            slot = &a->emit;
        else if (!strcmp(s, "--cmssw-version"))
            slot = &a->cmssw_version;
        else if (!strcmp(s, "--hls"))
            a->hls = 1;
        else if (!strncmp(s, "--dump-after=", 13))
            a->dump_after = s + 13;
        else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "etchnn: unknown option '%s'\n", s);
            return -2;
        } else if (!a->model)
            a->model = s;
        else {
            fprintf(stderr, "etchnn: unexpected argument '%s'\n", s);
            return -2;
        }
        if (slot) {
            if (*slot) {
                fprintf(stderr, "etchnn: option '%s' given twice ('%s', then '%s'): expected it once\n", s, *slot,
                        i + 1 < argc ? argv[i + 1] : "");
                return -2;
            }
            if (i + 1 >= argc) {
                fprintf(stderr, "etchnn: option '%s' needs a value\n", s);
                return -2;
            }
            *slot = argv[++i];
        }
    }
    return 0;
}

/* Load, configure and compile. */
static int prepare(EtnModel *m, const Args *a)
{
    int rc;
    if (!a->model)
        return die("expected a model file (.onnx, .keras, .h5 or .json), got none");
    if (a->config && (rc = etn_config_file(m, a->config)) != ETN_OK)
        return model_error(m, rc);
    if (a->precision && (rc = etn_set_option(m, "precision", a->precision)) != ETN_OK)
        return model_error(m, rc);
    if (a->tables && (rc = etn_set_option(m, "tables", a->tables)) != ETN_OK)
        return model_error(m, rc);
    if (a->weight_quant && (rc = etn_set_option(m, "weight_quant", a->weight_quant)) != ETN_OK)
        return model_error(m, rc);
    if (a->weights_file && (rc = etn_set_option(m, "weights_file", a->weights_file)) != ETN_OK)
        return model_error(m, rc);
    if (a->clock_mhz && (rc = etn_set_option(m, "clock_mhz", a->clock_mhz)) != ETN_OK)
        return model_error(m, rc);
    if (a->io && (rc = etn_set_option(m, "io", a->io)) != ETN_OK)
        return model_error(m, rc);
    if (a->multipliers && (rc = etn_set_option(m, "multipliers", a->multipliers)) != ETN_OK)
        return model_error(m, rc);
    if (a->part && (rc = etn_set_option(m, "part", a->part)) != ETN_OK)
        return model_error(m, rc);
    if (a->fit && (rc = etn_set_option(m, "fit", a->fit)) != ETN_OK)
        return model_error(m, rc);
    if (a->no_rtl && a->emit)
        return die("compile: --no-rtl and --emit: expected one of them (--no-rtl is --emit c)");
    if (a->no_rtl && (rc = etn_set_option(m, "rtl", "0")) != ETN_OK)
        return model_error(m, rc);
    if (a->emit && (rc = etn_set_option(m, "emit", a->emit)) != ETN_OK)
        return model_error(m, rc);
    if (a->hls && (rc = etn_set_option(m, "hls", "1")) != ETN_OK)
        return model_error(m, rc);
    if (a->cmssw_version && (rc = etn_set_option(m, "cmssw_version", a->cmssw_version)) != ETN_OK)
        return model_error(m, rc);
    if (a->dump_after && (rc = etn_set_option(m, "dump_after", a->dump_after)) != ETN_OK)
        return model_error(m, rc);
    if ((rc = etn_load(m, a->model)) != ETN_OK)
        return model_error(m, rc);
    show_warnings(m);
    rc = etn_compile(m);
    if (rc == ETN_OK)
        show_warnings(m);
    if (a->dump_after)
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
    if (!a->input || !a->input[0])
        return die("predict: expected --input X (a file name), got none");
    if (a->output && !a->output[0])
        return die("predict: expected --output Y to name a file, got an empty name");
    double *x = NULL;
    size_t n = 0;
    if ((rc = etn_read_events(m, a->input, &x, &n)) != ETN_OK)
        return model_error(m, rc);
    show_warnings(m);
    size_t no = etn_output_size(m);
    double *y = malloc(n * no * sizeof(double));
    int64_t *codes = a->float_mode ? NULL : malloc(n * no * sizeof(int64_t));
    if (!y || (!a->float_mode && !codes)) {
        etn_free(x);
        free(y);
        free(codes);
        return die("out of memory");
    }
    if (a->float_mode)
        rc = etn_predict(m, x, y, n, 1);
    else
        rc = etn_predict_raw(m, x, codes, n);
    etn_free(x);
    if (rc != ETN_OK) {
        free(y);
        free(codes);
        return model_error(m, rc);
    }
    if (!a->float_mode)
        for (size_t k = 0; k < n * no; k++)
            y[k] = etn_code_value(m, codes[k]);
    size_t olen = a->output ? strlen(a->output) : 0;
    if (a->output && olen > 4 && !strcmp(a->output + olen - 4, ".npy")) {
        rc = etn_write_npy(m, a->output, y, n, no);
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
            if (a->float_mode)
                snprintf(buf, sizeof buf, "%.17g", y[ev * no + k]);
            else
                etn_format_code(m, codes[ev * no + k], buf, sizeof buf);
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
    if (a->output) {
        rc = etn_write_file(m, a->output, text, len);
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
    if (!a->out && !a->dump_after)
        return die("compile: expected -o OUT (the output folder), got none");
    if (a->out && !a->out[0])
        return die("compile: expected -o OUT to name a folder, got an empty name");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = prepare(m, a);
    if (rc)
        return rc;
    if (!a->out)
        return 0;
    if ((rc = etn_write(m, a->out)) != ETN_OK)
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
    printf("wrote %s (%s) in %.1f ms\n", a->out,
           a->no_rtl ? "c/" : a->emit ? a->emit : "c/, rtl/, report.json, report.txt",
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
    if (a->n_events && (o.n = strtoul(a->n_events, &end, 10), *end || !o.n || a->n_events[0] == '-')) {
        fprintf(stderr, "etchnn: verify: --n: expected a number of events >= 1, got '%s'\n", a->n_events);
        return 2;
    }
    if (a->seed && (o.seed = strtoull(a->seed, &end, 0), *end || !*a->seed)) {
        fprintf(stderr, "etchnn: verify: --seed: expected an integer, got '%s'\n", a->seed);
        return 2;
    }
    o.input_file = a->input;
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
    if (a->weights_file && (rc = etn_set_option(m, "weights_file", a->weights_file)) != ETN_OK)
        return model_error(m, rc);
    if ((rc = etn_load(m, a->model)) != ETN_OK)
        return model_error(m, rc);
    const char *t = etn_config_template(m, a->granularity ? a->granularity : "name");
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
    if (!a->target)
        return die("synth: --target: expected xilinx, ice40 or ecp5, got none");
    EtnSynthOptions opt;
    memset(&opt, 0, sizeof opt);
    opt.device = a->device;
    opt.force = a->force;
    opt.progress = synth_progress;
    if (a->timeout) {
        char *end;
        errno = 0;
        double t = strtod(a->timeout, &end);
        if (end == a->timeout || *end || errno || !(t >= 0) || t > 1e9) {
            fprintf(stderr, "etchnn: synth: --timeout: expected seconds (0: no limit), got '%s'\n", a->timeout);
            return 2;
        }
        opt.timeout_s = t > 0 ? t : -1;
    }
    char err[1200], *summary = NULL;
    int rc = etn_synth_opts(a->model, a->target, &opt, &summary, err, sizeof err);
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

int main(int argc, char **argv)
{
    Args a;
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
