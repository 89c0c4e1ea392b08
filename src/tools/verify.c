/* verify.c — `etchnn verify OUT`: the Verilog in OUT/rtl simulated cycle by
 * cycle with Verilator against the bit-exact emulator.
 *
 * The model is reloaded from OUT/report.json's "source" (or the caller's
 * model is used), input codes are drawn or read, expected output codes come
 * from the emulator in-process, and a generated C++ test bench
 * (OUT/verify/tb.cpp, written by src/backends/tb_verilator.c from the same
 * description as the Icarus bench, filled here from report.json) feeds every
 * vector into the design on the bench's schedule (gaps included), checks
 * out_valid on every clock (also during reset), and records every output.
 * The comparison is done here, code by code.  The Verilator build (OUT/verify/obj) is reused
 * while the RTL, the bench and the command line are unchanged (a hash of them
 * is kept beside the binary).  Tools run as child processes (fork/exec) with
 * their output in OUT/verify/ (build.log, run.log); the library never prints. */
#define _XOPEN_SOURCE 700   /* realpath */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/model.h"
#include "api/options.h"
#include "backends/backends.h"
#include "backends/stream.h"
#include "backends/testbench.h"
#include "etchnn.h"
#include "tools/dataio.h"
#include "util/names.h"

typedef struct {
    EtnModel *m;
    const EtnVerifyOptions *opt;
    const char *out;        /* OUT as given (for messages) */
    char dir[4096];         /* OUT, absolute */
    char vdir[4200];        /* OUT/verify */
} Vfy;

static void say(const Vfy *v, const char *fmt, ...) ETN_PRINTF(2, 3);
static void say(const Vfy *v, const char *fmt, ...)
{
    if (!v->opt || !v->opt->progress)
        return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->opt->progress(msg, v->opt->ctx);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- report.json ------------------------------------------------------- */

typedef struct {
    char top[256];
    int latency;
    int ii;                 /* initiation interval: clocks between inputs (folded layers) */
    long n_in, w_in, n_out, w_out;
    char in_type[64], out_type[64];
    cJSON *root;
    const cJSON *source;
    int stream;             /* io_stream: one pixel per clock */
    long pixels, channels;
    long chk[3];            /* io_stream: the cycle model's latency (first, last pixel) and II over the first three
                             * images, as the bench measures them; LONG_MIN: not in the report */
    TbSpec tb;              /* the Verilator bench, described from the above (n: set once the events are known) */
} Report;

/* A count from report.json as a long; anything that is not an integer of at most 2^40 becomes -1
 * (out of range for every check below: a tampered report gets a message, never a bad conversion). */
static long json_count(const cJSON *x)
{
    double d = x->valuedouble;
    return d >= -1099511627776.0 && d <= 1099511627776.0 && d == (double)(long)d ? (long)d : -1;
}

static const cJSON *member(Vfy *v, const char *file, const cJSON *o, const char *key, int want_string)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x || (want_string ? !cJSON_IsString(x) : !cJSON_IsNumber(x))) {
        diag_error(&v->m->diag, "%s: '%s': expected a %s, got %s", file, key, want_string ? "string" : "number",
                   !x ? "nothing" : cJSON_IsString(x) ? "a string" : cJSON_IsNumber(x) ? "a number" : "another value");
        return NULL;
    }
    return x;
}

/* The test bench's description from what read_report read. */
static int bench_spec(Vfy *v, const char *path, Report *r)
{
    TbSpec *s = &r->tb;
    FxType ti, to;
    char err[200];
    if (fx_parse(r->in_type, &ti, err, sizeof err) < 0 || fx_parse(r->out_type, &to, err, sizeof err) < 0)
        return diag_error(&v->m->diag, "%s: io: expected fixed-point types in in_type and out_type, got %s", path, err);
    memset(s, 0, sizeof *s);
    s->kind = r->stream ? TB_STREAM : TB_PARALLEL;
    snprintf(s->top, sizeof s->top, "%s", r->top);   /* NAME_flat for several inputs or outputs: after check_io */
    s->in = (TbPort){r->stream ? r->channels : r->n_in, (int)r->w_in, ti.sign};
    s->out = (TbPort){r->n_out, (int)r->w_out, to.sign};
    s->beats = r->stream ? r->pixels : 1;
    s->ii = r->ii;
    s->latency = r->latency;
    s->lat_first = r->stream && r->chk[0] != LONG_MIN ? r->chk[0] : TB_UNKNOWN;
    s->lat_last = r->stream && r->chk[1] != LONG_MIN ? r->chk[1] : TB_UNKNOWN;
    s->lat_ii = r->stream && r->chk[2] != LONG_MIN ? r->chk[2] : TB_UNKNOWN;
    tb_spec_init(s);
    return 0;
}

static int read_report(Vfy *v, Report *r)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/report.json", v->out);
    size_t len;
    unsigned char *text = util_read_file(&v->m->diag, path, &len);
    if (!text) {
        v->m->diag.set = 0;
        diag_error(&v->m->diag, "%s: expected a directory written by etchnn compile -o %s, got no report.json in it", v->out,
                   v->out);
        return -1;
    }
    r->root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    if (!r->root || !cJSON_IsObject(r->root))
        return diag_error(&v->m->diag, "%s: expected a JSON object written by etchnn compile, got unreadable JSON", path);
    const cJSON *x, *io = cJSON_GetObjectItemCaseSensitive(r->root, "io");
    if (!(x = member(v, path, r->root, "model", 1)))
        return -1;
    /* it names the top module on Verilator's command line and in tb.cpp: an identifier as etchnn compile wrote it */
    if (strlen(x->valuestring) >= sizeof r->top || !names_is_v_ident(x->valuestring))
        return diag_error(&v->m->diag, "%s: 'model': expected the top module's name (a Verilog identifier), got '%.80s'",
                          path, x->valuestring);
    snprintf(r->top, sizeof r->top, "%s", x->valuestring);
    if (!(x = member(v, path, r->root, "latency_cycles", 0)))
        return -1;
    r->latency = json_count(x) > 1000000 ? -1 : (int)json_count(x);
    /* "ii": absent in reports of etchnn before resource sharing (always 1 then) */
    const cJSON *iix = cJSON_GetObjectItemCaseSensitive(r->root, "ii");
    r->ii = iix ? (json_count(iix) > 1000000 ? -1 : (int)json_count(iix)) : 1;
    if (r->ii < 1)
        return diag_error(&v->m->diag, "%s: 'ii': expected a count of clocks >= 1, got another value", path);
    if (!cJSON_IsObject(io))
        return diag_error(&v->m->diag, "%s: 'io': expected an object {n_in, w_in, in_type, n_out, w_out, out_type}, got %s",
                          path, io ? "another value" : "nothing");
    long *nums[] = {&r->n_in, &r->w_in, &r->n_out, &r->w_out};
    const char *keys[] = {"n_in", "w_in", "n_out", "w_out"};
    for (int k = 0; k < 4; k++) {
        if (!(x = member(v, path, io, keys[k], 0)))
            return -1;
        *nums[k] = json_count(x);
    }
    if (!(x = member(v, path, io, "in_type", 1)))
        return -1;
    snprintf(r->in_type, sizeof r->in_type, "%s", x->valuestring);
    if (!(x = member(v, path, io, "out_type", 1)))
        return -1;
    snprintf(r->out_type, sizeof r->out_type, "%s", x->valuestring);
    if (r->latency < 1 || r->n_in < 1 || r->n_out < 1 || r->n_in > (1L << 26) || r->n_out > (1L << 26) || r->w_in < 1 || r->w_in > 64 || r->w_out < 1 || r->w_out > 64)
        return diag_error(&v->m->diag, "%s: expected latency_cycles >= 1 and io widths 1..64, got latency %d, w_in %ld, w_out %ld",
                          path, r->latency, r->w_in, r->w_out);
    r->source = cJSON_GetObjectItemCaseSensitive(r->root, "source");
    const cJSON *iot = cJSON_GetObjectItemCaseSensitive(r->root, "io_type");
    if (cJSON_IsString(iot) && !strcmp(iot->valuestring, "io_stream")) {
        const cJSON *so = cJSON_GetObjectItemCaseSensitive(r->root, "stream");
        r->stream = 1;
        if (!cJSON_IsObject(so) || !(x = member(v, path, so, "pixels", 0)))
            return -1;
        r->pixels = json_count(x);
        if (!(x = member(v, path, so, "channels", 0)))
            return -1;
        r->channels = json_count(x);
        const cJSON *c3 = cJSON_GetObjectItemCaseSensitive(so, "first_three_images");
        static const char *const ck[3] = {"latency_first_pixel_cycles", "latency_last_pixel_cycles", "ii_cycles"};
        for (int k = 0; k < 3; k++) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(c3, ck[k]);
            r->chk[k] = cJSON_IsNumber(e) && fabs(e->valuedouble) < 1e12 &&
                        e->valuedouble == floor(e->valuedouble) ? (long)e->valuedouble : LONG_MIN;
        }
        if (r->pixels < 1 || r->channels < 1 || r->pixels > r->n_in || r->channels > r->n_in ||
            r->pixels * r->channels != r->n_in)
            return diag_error(&v->m->diag, "%s: stream: expected pixels x channels = n_in (%ld), got %ld x %ld", path, r->n_in,
                              r->pixels, r->channels);
    }
    return bench_spec(v, path, r);
}

/* A path of report.json "source": KEY, or exactly from KEY_hex when it was not UTF-8 (written by add_path, model.c). */
static int source_path(Vfy *v, const char *path, const cJSON *src, const char *key, char *out, size_t n)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(src, key);
    snprintf(out, n, "%s", cJSON_IsString(x) ? x->valuestring : "");
    char hk[64];
    snprintf(hk, sizeof hk, "%s_hex", key);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(src, hk);
    if (!cJSON_IsString(h))
        return 0;
    size_t len = strlen(h->valuestring), j;
    if (len % 2 || len / 2 >= n)
        return diag_error(&v->m->diag, "%s: source.%s: expected an even number of hex digits, got %zu", path, hk, len);
    for (j = 0; j < len / 2; j++) {
        unsigned b;
        if (sscanf(h->valuestring + 2 * j, "%2x", &b) != 1 || !b)
            return diag_error(&v->m->diag, "%s: source.%s: expected hex digits, got '%.8s'", path, hk,
                              h->valuestring + 2 * j);
        out[j] = (char)b;
    }
    out[j] = 0;
    return 0;
}

/* Load and compile the model the way etchnn compile did: every option of the table (api/options.c) that
 * report.json "source" records is applied again.  The emulator depends only on config, weights, precision,
 * tables and weight_quant; clock_mhz, part, fit, multipliers and io shape the circuit, which is read from
 * OUT/rtl and report.json as written, and are applied too so that the model is configured as it was (the
 * progress line lists them).  --fit's per-layer ReuseFactor and multipliers change when products are
 * computed and on what, never their values. */
static int reload(Vfy *v, const Report *r)
{
    EtnModel *m = v->m;
    char path[4300], model[4200];
    snprintf(path, sizeof path, "%s/report.json", v->out);
    if (!cJSON_IsObject(r->source))
        return diag_error(&m->diag, "%s: 'source': expected how the model was compiled {model, config, precision, ...}, "
                          "got nothing (written by an older etchnn: compile again)", path);
    const cJSON *src = r->source;
    if (source_path(v, path, src, "model", model, sizeof model) < 0)
        return -1;
    if (!model[0])
        return diag_error(&m->diag, "%s: source.model: expected the model file, got an empty string (compiled from memory: "
                          "pass the compiled model to etn_verify)", path);
    Buf used = {0};
    for (size_t k = 0; opt_def(k); k++) {
        const OptDef *o = opt_def(k);
        const cJSON *x = o->info.source ? cJSON_GetObjectItemCaseSensitive(src, o->info.source) : NULL;
        char val[4200];
        if (!x)
            continue;
        if (o->kind == OPT_PATH) {
            if (source_path(v, path, src, o->info.source, val, sizeof val) < 0) {
                buf_free(&used);
                return -1;
            }
        } else if (o->kind == OPT_NUMBER && cJSON_IsNumber(x))
            snprintf(val, sizeof val, "%.17g", x->valuedouble);
        else if (o->kind == OPT_TEXT && cJSON_IsString(x))
            snprintf(val, sizeof val, "%s", x->valuestring);
        else {
            buf_free(&used);
            return diag_error(&m->diag, "%s: source.%s: expected a %s, got another value", path, o->info.source,
                              o->kind == OPT_NUMBER ? "number" : "string");
        }
        if (!val[0])
            continue;
        if (etn_set_option(m, o->info.key, val) != ETN_OK) {
            buf_free(&used);
            return -1;
        }
        buf_printf(&used, "%s %s=%s", used.len ? "," : "", o->info.source, val);
    }
    say(v, "verify: options from report.json:%s", used.data ? used.data : " none");
    buf_free(&used);
    if (etn_load(m, model) != ETN_OK || etn_compile(m) != ETN_OK)
        return -1;
    return 0;
}

/* The model and the written design must agree on the interface. */
static int check_io(Vfy *v, const Report *r)
{
    EtnModel *m = v->m;
    const Tensor *ti = &m->g.t[m->g.inputs[0]], *to = &m->g.t[m->g.outputs[0]];
    char tin[64], tout[64];
    fx_format(ti->type, tin, sizeof tin);
    fx_format(to->type, tout, sizeof tout);
    long nin = 0, nout = 0;   /* several inputs (outputs): all of them, side by side */
    for (size_t k = 0; k < m->g.ninputs; k++)
        nin += ir_numel(&m->g.t[m->g.inputs[k]]);
    for (size_t k = 0; k < m->g.noutputs; k++)
        nout += ir_numel(&m->g.t[m->g.outputs[k]]);
    if (strcmp(tin, r->in_type) || strcmp(tout, r->out_type) || nin != r->n_in || nout != r->n_out || ti->type.w != r->w_in ||
        to->type.w != r->w_out)
        return diag_error(&m->diag, "%s/report.json: io: expected the model's %ld x %s -> %ld x %s, got %ld x %s -> %ld x %s "
                          "(the model or its configuration changed since compiling: compile again)",
                          v->out, nin, tin, nout, tout, r->n_in, r->in_type, r->n_out, r->out_type);
    return 0;
}

/* ---- processes --------------------------------------------------------- */

/* The full path of an executable: name itself when it has a '/', else the
 * first match on PATH; 0 when there is none. */
static int find_exe(const char *name, char *out, size_t n)
{
    if (strchr(name, '/')) {
        snprintf(out, n, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len) {
            snprintf(out, n, "%.*s/%s", (int)len, path, name);
            if (access(out, X_OK) == 0)
                return 1;
        }
        path += len + (end ? 1 : 0);
    }
    return 0;
}

/* Run argv with stdout and stderr appended to log; the exit status, or -1. */
static int run(const char *const *argv, const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The first line of a log that looks like an error (for the message). */
static void first_error(const char *log, char *out, size_t n)
{
    snprintf(out, n, "no error message");
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f))
        if (strstr(line, "%Error") || strstr(line, "error:") || strstr(line, "Error ")) {
            line[strcspn(line, "\n")] = 0;
            snprintf(out, n, "%s", line);
            break;
        }
    fclose(f);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* A hash of everything the build depends on: the command line, the bench,
 * files.f and every file it names; 0 when a file cannot be read. */
static uint64_t build_hash(Vfy *v, const char *const *argv, const Buf *tb)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (int i = 0; argv[i]; i++)
        h = fnv(h, argv[i], strlen(argv[i]) + 1);
    h = fnv(h, tb->data, tb->len);
    char path[4400];
    snprintf(path, sizeof path, "%s/rtl/files.f", v->dir);
    Diag d = {0};
    size_t len;
    char *list = (char *)util_read_file(&d, path, &len);
    if (!list)
        return 0;
    h = fnv(h, list, len);
    char *save = NULL;
    for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line)
            continue;
        snprintf(path, sizeof path, "%s/rtl/%s", v->dir, line);
        unsigned char *text = util_read_file(&d, path, &len);
        if (!text) {
            free(list);
            return 0;
        }
        h = fnv(h, line, strlen(line) + 1);
        h = fnv(h, text, len);
        free(text);
    }
    free(list);
    return h ? h : 1;
}

static int write_bytes(Vfy *v, const char *name, const void *p, size_t n)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", v->vdir, name);
    Buf b = {(char *)p, n, n, 0};
    return backend_write_file(&v->m->diag, path, &b);
}

/* ---- the whole check --------------------------------------------------- */

static int codes_for(Vfy *v, const Report *r, int64_t **x, size_t *n)
{
    EtnModel *m = v->m;
    const EtnVerifyOptions *o = v->opt;
    FxType t = m->g.t[m->g.inputs[0]].type;
    size_t nin = (size_t)r->n_in;
    double *vals = NULL;
    size_t nv = 0;
    if (o && o->codes) {
        nv = o->n;
        *x = malloc((nv ? nv : 1) * nin * sizeof(int64_t));
        if (!*x)
            return diag_error(&m->diag, "internal: out of memory for %zu events", nv);
        for (size_t k = 0; k < nv * nin; k++) {
            if (o->codes[k] < fx_type_min(t) || o->codes[k] > fx_type_max(t)) {
                free(*x);
                *x = NULL;
                return diag_error(&m->diag, "verify: input code %zu (event %zu): expected a code of %s (%lld..%lld), got %lld", k % nin,
                                  k / nin, r->in_type, (long long)fx_type_min(t), (long long)fx_type_max(t),
                                  (long long)o->codes[k]);
            }
            (*x)[k] = o->codes[k];
        }
        *n = nv;
        return 0;
    }
    if (o && o->x) {
        vals = (double *)o->x;
        nv = o->n;
    } else if (o && o->input_file) {
        if (data_read(&m->diag, o->input_file, nin, &vals, &nv) < 0)
            return -1;
    }
    if (vals) {
        *x = malloc((nv ? nv : 1) * nin * sizeof(int64_t));
        if (!*x) {
            if (vals != o->x)
                free(vals);
            return diag_error(&m->diag, "internal: out of memory for %zu events", nv);
        }
        for (size_t k = 0; k < nv * nin; k++) {
            if (!isfinite(vals[k])) {   /* as predict: a fixed-point input has no code for NaN or an infinity */
                diag_error(&m->diag, "%s: event %zu, value %zu: expected a finite number, got %s; replace it first "
                           "(e.g. numpy.nan_to_num)", o->input_file ? o->input_file : "verify", k / nin, k % nin,
                           isnan(vals[k]) ? "NaN" : vals[k] > 0 ? "+inf" : "-inf");
                free(*x);
                *x = NULL;
                if (vals != o->x)
                    free(vals);
                return -1;
            }
            (*x)[k] = fx_quant_double(vals[k], t);
        }
        if (vals != o->x)
            free(vals);
        *n = nv;
        if (!nv)
            return diag_error(&m->diag, "%s: expected at least one event, got none", o->input_file ? o->input_file : "verify");
        return 0;
    }
    nv = o && o->n ? o->n : 10000;
    *x = malloc(nv * nin * sizeof(int64_t));
    if (!*x)
        return diag_error(&m->diag, "internal: out of memory for %zu events", nv);
    tb_random_codes(t, (long)nin, nv, o ? o->seed : 0, *x);
    *n = nv;
    return 0;
}

int etn_verify(EtnModel *m, const char *out_dir, const EtnVerifyOptions *opt, EtnVerifyResult *res)
{
    Vfy v = {m, opt, out_dir, {0}, {0}};
    Report r = {0};
    EtnVerifyResult local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    res->first_valid_error = -1;
    m->diag.set = 0;
    m->diag.msg[0] = 0;
    int rc = ETN_EUSER;
    int64_t *x = NULL, *y = NULL, *got = NULL;
    Buf tb = {0};
    if (!realpath(out_dir, v.dir)) {
        diag_error(&m->diag, "%s: expected a directory written by etchnn compile, got %s", out_dir, strerror(errno));
        goto done;
    }
    snprintf(v.vdir, sizeof v.vdir, "%s/verify", v.dir);
    if (read_report(&v, &r) < 0)
        goto done;
    res->latency = r.latency;
    res->ii = r.ii;
    if (!m->loaded) {
        say(&v, "verify: reloading the model from %s/report.json", out_dir);
        if (reload(&v, &r) < 0)
            goto done;
    } else if (!m->compiled && etn_compile(m) != ETN_OK) {
        goto done;
    }
    if (check_io(&v, &r) < 0)
        goto done;
    if (m->g.ninputs != 1 || m->g.noutputs != 1)   /* the model is loaded now: the wrapper with every port side by side */
        snprintf(r.tb.top, sizeof r.tb.top, "%s_flat", r.top);

    /* vectors and the emulator's answers */
    size_t n;
    if (codes_for(&v, &r, &x, &n) < 0)
        goto done;
    size_t nout = (size_t)r.n_out;
    y = malloc(n * nout * sizeof(int64_t));
    got = malloc(n * nout * sizeof(int64_t));
    if (!y || !got) {
        diag_error(&m->diag, "internal: out of memory for %zu events", n);
        rc = ETN_EINTERNAL;
        goto done;
    }
    if (etn_predict_codes(m, x, y, n) != ETN_OK)
        goto done;
    res->events = n;
    res->outputs = n * nout;

    /* the bench and the build */
    const char *vname = opt && opt->verilator && *opt->verilator ? opt->verilator : "verilator";
    char vexe[4096];
    if (!find_exe(vname, vexe, sizeof vexe)) {
        diag_error(&m->diag, "verify: expected Verilator (%s) on PATH, got none: install verilator (apt-get install verilator)",
                   vname);
        goto done;
    }
    r.tb.n = n;
    tb_emit_verilator(&tb, &r.tb);
    if (r.stream) {
        /* the pixels in stream order */
        int32_t *perm = malloc((size_t)r.n_in * sizeof(int32_t));
        int64_t *xs = malloc(n * (size_t)r.n_in * sizeof(int64_t));
        long pix;
        int ch;
        if (!perm || !xs || stream_input_order(&m->g, &m->diag, perm, &pix, &ch) < 0 || pix != r.pixels || ch != r.channels) {
            free(perm);
            free(xs);
            if (!m->diag.set)
                diag_error(&m->diag, "%s/report.json: stream: expected %ld pixels of %ld channels, got another layout "
                           "(compile again)", out_dir, r.pixels, r.channels);
            goto done;
        }
        tb_port_order(&r.tb, perm, x, n, xs);
        int wr = write_bytes(&v, "tb.cpp", tb.data, tb.len) < 0 || write_bytes(&v, "in.bin", xs, n * (size_t)r.n_in * sizeof(int64_t)) < 0;
        free(perm);
        free(xs);
        if (wr)
            goto done;
    } else {
        if (write_bytes(&v, "tb.cpp", tb.data, tb.len) < 0 || write_bytes(&v, "in.bin", x, n * (size_t)r.n_in * sizeof(int64_t)) < 0)
            goto done;
    }
    char mdir[4400], tbp[4400], ff[4400], jobs[16], logp[4400], hashp[4400], exe[4400];
    snprintf(mdir, sizeof mdir, "%s/obj", v.vdir);
    snprintf(tbp, sizeof tbp, "%s/tb.cpp", v.vdir);
    snprintf(ff, sizeof ff, "%s/rtl/files.f", v.dir);
    snprintf(jobs, sizeof jobs, "%d", opt && opt->jobs > 0 ? opt->jobs : 2);
    snprintf(logp, sizeof logp, "%s/build.log", v.vdir);
    snprintf(hashp, sizeof hashp, "%s/obj/etchnn-build.hash", v.vdir);
    snprintf(exe, sizeof exe, "%s/obj/Vtb", v.vdir);
    /* The C++ compile dominates: at -O0 it takes half the CPU time of -O1 and
     * a third of Verilator's default -Os (three_layer_keras at fixed<16,6>:
     * 21 s, 40 s, 60+ s), and simulating 10^4 clocks still takes about a
     * second.  Split functions keep the two compile jobs busy. */
    const char *argv[] = {vexe, "--cc", "--exe", "--build", "-j", jobs, "-Wno-fatal", "--top-module", r.tb.top, "--prefix", "Vdut",
                          "--output-split-cfuncs", "2000", "-Mdir", mdir, "-o", "Vtb", "-MAKEFLAGS",
                          "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0", "-F", ff, tbp, NULL};
    uint64_t h = build_hash(&v, argv, &tb);
    char want[32], have[32] = "";
    snprintf(want, sizeof want, "%016llx", (unsigned long long)h);
    FILE *hf = fopen(hashp, "r");
    if (hf) {
        if (!fgets(have, sizeof have, hf))
            have[0] = 0;
        have[strcspn(have, "\n")] = 0;
        fclose(hf);
    }
    double t0 = now_s();
    if (h && !(opt && opt->rebuild) && !strcmp(have, want) && access(exe, X_OK) == 0) {
        say(&v, "verify: %s/rtl unchanged: reusing the Verilator build in %s/verify/obj", out_dir, out_dir);
    } else {
        say(&v, "verify: building %s with Verilator (log: %s/verify/build.log)", r.top, out_dir);
        remove(hashp);
        int st = run(argv, logp);
        if (st != 0) {
            char e[600];
            first_error(logp, e, sizeof e);
            diag_error(&m->diag, "%s/rtl: expected Verilator to build the design, got exit status %d (see %s/verify/build.log): %s",
                       out_dir, st, out_dir, e);
            goto done;
        }
        Buf hb = {want, strlen(want), 0, 0};
        if (backend_write_file(&m->diag, hashp, &hb) < 0)
            goto done;
        res->rebuilt = 1;
    }
    res->build_seconds = now_s() - t0;

    /* the simulation */
    if (r.stream)
        say(&v, "verify: io_stream: feeding %zu images of %ld pixels back to back, honouring in_ready", n, r.pixels);
    else
        say(&v, "verify: streaming %zu vectors, %s (latency %d cycles)", n,
            r.ii > 1 ? "one per II clocks" : "one per clock", r.latency);
    char inp[4400], outp[4400], stp[4400], runlog[4400];
    snprintf(inp, sizeof inp, "%s/in.bin", v.vdir);
    snprintf(outp, sizeof outp, "%s/out.bin", v.vdir);
    snprintf(stp, sizeof stp, "%s/status.txt", v.vdir);
    snprintf(runlog, sizeof runlog, "%s/run.log", v.vdir);
    remove(outp);
    remove(stp);
    const char *rargv[] = {exe, inp, outp, stp, NULL};
    t0 = now_s();
    int st = run(rargv, runlog);
    res->run_seconds = now_s() - t0;
    if (st != 0) {
        char e[600];
        first_error(runlog, e, sizeof e);
        diag_error(&m->diag, "%s/verify/obj/Vtb: expected the simulation to finish, got exit status %d (see %s/verify/run.log): %s",
                   out_dir, st, out_dir, e);
        goto done;
    }
    size_t len;
    unsigned char *data = util_read_file(&m->diag, outp, &len);
    if (!data)
        goto done;
    if (len != n * nout * sizeof(int64_t)) {
        free(data);
        diag_error(&m->diag, "%s: expected %zu output codes, got %zu bytes", outp, n * nout, len);
        goto done;
    }
    memcpy(got, data, len);
    free(data);
    FILE *sf = fopen(stp, "r");
    long edges = 0, verr = 0, bad = 0, outs = 0, lf = 0, ll = 0, ii = 0;
    if (!sf || fscanf(sf, "edges %ld valid_errors %ld first_bad_edge %ld", &edges, &verr, &bad) != 3 ||
        (r.stream && fscanf(sf, " outputs %ld lat_first %ld lat_last %ld ii %ld", &outs, &lf, &ll, &ii) != 4)) {
        if (sf)
            fclose(sf);
        diag_error(&m->diag, "%s: expected \"edges E valid_errors V first_bad_edge B\", got something else", stp);
        goto done;
    }
    fclose(sf);
    if (r.stream)
        say(&v, "verify: io_stream: %ld of %zu images came out (%ld cycles); measured at full rate: latency %ld cycles from "
            "the first pixel, %ld from the last, %ld cycles between images", outs, n, edges, lf, ll, ii);
    res->valid_errors = (size_t)verr;
    res->first_valid_error = verr ? bad : -1;
    if (r.stream && n >= 3 && outs >= 3 && r.chk[0] != LONG_MIN && r.chk[1] != LONG_MIN && r.chk[2] != LONG_MIN &&
        (lf != r.chk[0] || ll != r.chk[1] || ii != r.chk[2])) {
        /* out_valid timing: the first three images (no gaps) against the report's cycle model */
        say(&v, "verify: io_stream: out_valid timing differs from the report's cycle model over the first three images: "
            "expected latency %ld / %ld cycles and %ld between images, measured %ld / %ld and %ld",
            r.chk[0], r.chk[1], r.chk[2], lf, ll, ii);
        if (!verr)
            res->first_valid_error = 0;
        res->valid_errors++;
    }

    /* bit for bit */
    for (size_t k = 0; k < n * nout; k++) {
        if (got[k] == y[k])
            continue;
        if (res->mismatches < ETN_VERIFY_KEEP) {
            EtnMismatch *mm = &res->first[res->mismatches];
            mm->event = k / nout;
            mm->output = k % nout;
            mm->expected = y[k];
            mm->got = got[k];
        }
        res->mismatches++;
    }
    rc = res->mismatches || res->valid_errors ? ETN_VERIFY_MISMATCH : ETN_OK;
    if (rc)
        diag_error(&m->diag, "%s/rtl: expected the emulator's outputs, got %zu of %zu outputs different and %zu out_valid errors",
                   out_dir, res->mismatches, res->outputs, res->valid_errors);
done:
    if (rc == ETN_EUSER && m->diag.set && !strncmp(m->diag.msg, "internal", 8))
        rc = ETN_EINTERNAL;
    free(x);
    free(y);
    free(got);
    buf_free(&tb);
    cJSON_Delete(r.root);
    return rc;
}
