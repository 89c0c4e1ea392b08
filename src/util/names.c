/* names.c — names from models, configurations and paths made safe for the
 * text they go into: comments, C and Verilog identifiers, YAML keys, JSON
 * strings (contracts in names.h). */
#include "util/names.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- output with a limit -------------------------------------------------- */

typedef struct {
    char *s;
    size_t w;       /* bytes written */
    size_t limit;   /* at most this many */
    int full;       /* a unit did not fit: nothing more is written */
} Out;

/* Append a unit of k bytes, whole or not at all. */
static void put(Out *o, const char *p, size_t k)
{
    if (o->full || o->w + k > o->limit) {
        o->full = 1;
        return;
    }
    memcpy(o->s + o->w, p, k);
    o->w += k;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* The length (1..4) of the well-formed UTF-8 sequence at p and its code point,
 * or 0 when p does not start one (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static int utf8_seq(const unsigned char *p, uint32_t *cp)
{
    unsigned c = p[0];
    int len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (int k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)   /* also stops at the NUL */
            return 0;
        v = v << 6 | (p[k] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* ---- comments ------------------------------------------------------------- */

static size_t comment_into(char *s, size_t limit, const char *raw, int *complete)
{
    Out o = {s, 0, limit, 0};
    for (const unsigned char *p = (const unsigned char *)raw; *p && !o.full; p++) {
        unsigned c = *p;
        char unit[8];
        size_t u = 0;
        if (c < 0x20 || c > 0x7e || strchr("\"$%\\`", (int)c)) {
            snprintf(unit, sizeof unit, "%%%02X", c);
            u = 3;
        } else {
            char prev = o.w ? s[o.w - 1] : 0;
            if ((c == '/' && (prev == '/' || prev == '*')) || (c == '*' && prev == '/') || (c == '?' && prev == '?'))
                unit[u++] = ' ';
            unit[u++] = (char)c;
        }
        put(&o, unit, u);
    }
    *complete = !o.full;
    return o.w;
}

/* Run a writer into out; when the text does not fit, run it again into n - 4 bytes and append "...". */
static const char *into_or_cut(char *out, size_t n, const char *raw, size_t (*into)(char *, size_t, const char *, int *))
{
    int complete;
    raw = raw ? raw : "";
    size_t w = into(out, n - 1, raw, &complete);
    if (!complete) {
        w = into(out, n - 4, raw, &complete);
        memcpy(out + w, "...", 3);
        w += 3;
    }
    out[w] = 0;
    return out;
}

const char *names_comment(char *out, size_t n, const char *raw) { return into_or_cut(out, n, raw, comment_into); }

/* ---- identifiers -------------------------------------------------------- */

/* C11 and C23 keywords (C23 adds bool, true, false, ... as keywords). */
static const char *const c_keywords[] = {
    "_Alignas", "_Alignof", "_Atomic", "_BitInt", "_Bool", "_Complex", "_Decimal128", "_Decimal32", "_Decimal64",
    "_Generic", "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local", "alignas", "alignof", "auto", "bool",
    "break", "case", "char", "const", "constexpr", "continue", "default", "do", "double", "else", "enum", "extern",
    "false", "float", "for", "goto", "if", "inline", "int", "long", "nullptr", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "static_assert", "struct", "switch", "thread_local", "true", "typedef",
    "typeof", "typeof_unqual", "union", "unsigned", "void", "volatile", "while", NULL};

/* Verilog-2005 (IEEE 1364-2005 Annex B) and SystemVerilog-2017 (IEEE
 * 1800-2017 Annex B) reserved words. */
static const char *const v_keywords[] = {
    "accept_on", "alias", "always", "always_comb", "always_ff", "always_latch", "and", "assert", "assign", "assume",
    "automatic", "before", "begin", "bind", "bins", "binsof", "bit", "break", "buf", "bufif0", "bufif1", "byte", "case",
    "casex", "casez", "cell", "chandle", "checker", "class", "clocking", "cmos", "config", "const", "constraint",
    "context", "continue", "cover", "covergroup", "coverpoint", "cross", "deassign", "default", "defparam", "design",
    "disable", "dist", "do", "edge", "else", "end", "endcase", "endchecker", "endclass", "endclocking", "endconfig",
    "endfunction", "endgenerate", "endgroup", "endinterface", "endmodule", "endpackage", "endprimitive",
    "endprogram", "endproperty", "endsequence", "endspecify", "endtable", "endtask", "enum", "event", "eventually",
    "expect", "export", "extends", "extern", "final", "first_match", "for", "force", "foreach", "forever", "fork",
    "forkjoin", "function", "generate", "genvar", "global", "highz0", "highz1", "if", "iff", "ifnone", "ignore_bins",
    "illegal_bins", "implements", "implies", "import", "incdir", "include", "initial", "inout", "input", "inside",
    "instance", "int", "integer", "interconnect", "interface", "intersect", "join", "join_any", "join_none", "large",
    "let", "liblist", "library", "local", "localparam", "logic", "longint", "macromodule", "matches", "medium",
    "modport", "module", "nand", "negedge", "nettype", "new", "nexttime", "nmos", "nor", "noshowcancelled", "not",
    "notif0", "notif1", "null", "or", "output", "package", "packed", "parameter", "pmos", "posedge", "primitive",
    "priority", "program", "property", "protected", "pull0", "pull1", "pulldown", "pullup", "pulsestyle_ondetect",
    "pulsestyle_onevent", "pure", "rand", "randc", "randcase", "randsequence", "rcmos", "real", "realtime", "ref",
    "reg", "reject_on", "release", "repeat", "restrict", "return", "rnmos", "rpmos", "rtran", "rtranif0", "rtranif1",
    "s_always", "s_eventually", "s_nexttime", "s_until", "s_until_with", "scalared", "sequence", "shortint",
    "shortreal", "showcancelled", "signed", "small", "soft", "solve", "specify", "specparam", "static", "string",
    "strong", "strong0", "strong1", "struct", "super", "supply0", "supply1", "sync_accept_on", "sync_reject_on",
    "table", "tagged", "task", "this", "throughout", "time", "timeprecision", "timeunit", "tran", "tranif0",
    "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg", "type", "typedef", "union", "unique", "unique0",
    "unsigned", "until", "until_with", "untyped", "use", "uwire", "var", "vectored", "virtual", "void", "wait",
    "wait_order", "wand", "weak", "weak0", "weak1", "while", "wildcard", "wire", "with", "within", "wor", "xnor",
    "xor", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

static int is_alpha(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }

enum { LANG_C = 1, LANG_V = 2 };

static const char *make_ident(char *out, size_t n, const char *raw, int langs)
{
    const unsigned char *r = (const unsigned char *)(raw ? raw : "");
    size_t w = 0, cap = n - 1;
    int cut = 0;
    if (!is_alpha(r[0])) {   /* a leading digit, '_' or other byte: C reserves _X and __x */
        const char *pre = is_digit(r[0]) || !r[0] ? "n_" : "n";
        memcpy(out, pre, strlen(pre));
        w = strlen(pre);
    }
    for (const unsigned char *p = r; *p; p++) {
        if (w == cap) {
            cut = 1;
            break;
        }
        out[w++] = is_alpha(*p) || is_digit(*p) || *p == '_' ? (char)*p : '_';
    }
    out[w] = 0;
    if (cut || ((langs & LANG_C) && in_list(c_keywords, out)) || ((langs & LANG_V) && in_list(v_keywords, out))) {
        if (!cut && w < cap) {   /* a keyword: "module" -> "module_" */
            out[w++] = '_';
            out[w] = 0;
            return out;
        }
        /* too long: a prefix and a hash of the whole name (FNV-1a) */
        uint32_t h = 2166136261u;
        for (const unsigned char *p = r; *p; p++)
            h = (h ^ *p) * 16777619u;
        w = cap - 10 < w ? cap - 10 : w;
        snprintf(out + w, n - w, "_h%08x", (unsigned)h);
    }
    return out;
}

const char *names_c_ident(char *out, size_t n, const char *raw) { return make_ident(out, n, raw, LANG_C); }
const char *names_v_ident(char *out, size_t n, const char *raw) { return make_ident(out, n, raw, LANG_V); }
const char *names_design(char *out, size_t n, const char *raw) { return make_ident(out, n, raw, LANG_C | LANG_V); }

int names_is_v_ident(const char *s)
{
    char buf[NAMES_IDENT_SIZE];
    return s && !strcmp(names_v_ident(buf, sizeof buf, s), s);
}

/* ---- YAML ---------------------------------------------------------------- */

/* Plain scalars that YAML 1.1 (PyYAML) or 1.2 reads as null or a boolean. */
static const char *const yaml_special[] = {
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", NULL};

const char *names_yaml_key(char *out, size_t n, const char *raw)
{
    const unsigned char *r = (const unsigned char *)(raw ? raw : "");
    int plain = (is_alpha(r[0]) || r[0] == '_') && !in_list(yaml_special, raw);
    for (const unsigned char *p = r; *p && plain; p++)
        plain = is_alpha(*p) || is_digit(*p) || *p == '_';
    if (plain && strlen(raw) < n) {
        memcpy(out, raw, strlen(raw) + 1);
        return out;
    }
    Out o = {out, 0, n - 2, 0};   /* room for the closing quote and the NUL */
    put(&o, "\"", 1);
    for (const unsigned char *p = r; *p && !o.full;) {
        char unit[16];
        uint32_t cp;
        int len = utf8_seq(p, &cp);
        if (!len) {
            put(&o, "\\uFFFD", 6);
            p++;
            continue;
        }
        p += len;
        if (cp == '"' || cp == '\\')
            snprintf(unit, sizeof unit, "\\%c", (char)cp);
        else if (cp >= 0x20 && cp < 0x7f)
            snprintf(unit, sizeof unit, "%c", (char)cp);
        else if (cp < 0x100)
            snprintf(unit, sizeof unit, "\\x%02X", (unsigned)cp);
        else if (cp < 0x10000)
            snprintf(unit, sizeof unit, "\\u%04X", (unsigned)cp);
        else
            snprintf(unit, sizeof unit, "\\U%08X", (unsigned)cp);
        put(&o, unit, strlen(unit));
    }
    out[o.w++] = '"';
    out[o.w] = 0;
    return out;
}

/* ---- JSON strings ----------------------------------------------------------- */

static size_t utf8_into(char *s, size_t limit, const char *raw, int *complete)
{
    Out o = {s, 0, limit, 0};
    for (const unsigned char *p = (const unsigned char *)raw; *p && !o.full;) {
        uint32_t cp;
        int len = utf8_seq(p, &cp);
        if (len)
            put(&o, (const char *)p, (size_t)len);
        else
            put(&o, "\xef\xbf\xbd", 3);   /* U+FFFD */
        p += len ? len : 1;
    }
    *complete = !o.full;
    return o.w;
}

const char *names_utf8(char *out, size_t n, const char *raw) { return into_or_cut(out, n, raw, utf8_into); }
