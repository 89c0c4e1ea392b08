/* names.h — the one place where a name from a model file, a configuration or
 * a path becomes generated text.  Every back end passes tensor, node, model
 * and file names through one of these, per output language, and never prints
 * them raw: a name is data, and may hold any bytes (comment terminators,
 * newlines, backticks, `$display(...)`, bytes that are not UTF-8, keywords).
 *
 * Each function writes a NUL-terminated string into out (n bytes, n >= 32)
 * and returns out.  A name that is already plain (an identifier, or printable
 * ASCII without the characters listed below) comes out unchanged, so normal
 * models give the same files as before these functions existed. */
#ifndef ETN_NAMES_H
#define ETN_NAMES_H
#include <stddef.h>

/* Buffer sizes that never truncate what the front ends produce. */
#define NAMES_TEXT_SIZE 256    /* names_comment: longer text is cut and ends in "..." */
#define NAMES_IDENT_SIZE 240   /* identifiers (+ ".v", "tb_", "_out.mem" stays a legal file name) */

/* Text for a comment or a report line, safe inside C block and line comments,
 * Verilog line and block comments, YAML '#' comments, C++ line comments and
 * plain text:
 * - only printable ASCII (0x20..0x7e) is written;
 * - every other byte (control characters: newline, CR, tab, ...; DEL; every
 *   byte >= 0x80, so also UTF-8 such as U+202E, which could reorder the
 *   text a reviewer sees) and the characters `"`, `$`, `%`, `\`, and
 *   backtick become %XX (upper-case hex, as in URLs): no line break, no
 *   backslash-newline, no Verilog macro (`define, `include), no system task
 *   ($display), no string delimiter; '%' itself is escaped so that the text
 *   decodes back to the name unambiguously;
 * - "/" after "/" or "*", "*" after "/", and "?" after "?" get a space in
 *   between: no comment opener or closer (slash-star, star-slash,
 *   slash-slash) and no trigraph (??/ is a backslash in C99);
 * - more than n - 1 bytes of output: cut on a whole character and "..."
 *   appended.
 * The caller puts the text between characters other than '/', '*' and '?'. */
const char *names_comment(char *out, size_t n, const char *raw);

/* A C identifier: [A-Za-z_][A-Za-z0-9_]*, not a C11/C23 keyword.  Bytes other
 * than letters, digits and '_' become '_'; a leading digit (or an empty name)
 * gets the prefix "n_"; a keyword gets the suffix '_' ("int" -> "int_"); a name
 * longer than n - 1 is cut and ends in "_h" + 8 hex digits of a hash of the
 * whole name (still unique, still deterministic). */
const char *names_c_ident(char *out, size_t n, const char *raw);

/* A Verilog identifier, the same way, avoiding the keywords of Verilog-2005
 * (IEEE 1364) and SystemVerilog-2017 (IEEE 1800: "always_comb", "logic",
 * "int", ...), since Verilator reads .v files as SystemVerilog. */
const char *names_v_ident(char *out, size_t n, const char *raw);

/* The design's name, for OUT/c/NAME.{c,h} (the prefix of every C symbol), the
 * Verilog top module, rtl/NAME.v, tb_NAME and report.json "model": an
 * identifier that is a keyword of neither language. */
const char *names_design(char *out, size_t n, const char *raw);

/* Is s already what names_v_ident makes of it (a usable module name)? */
int names_is_v_ident(const char *s);

/* A YAML mapping key (block style, before ':') that yaml.safe_load and
 * libyaml read back as the string raw itself: plain when raw is an
 * identifier that YAML would not read as something else (null, true, yes,
 * on, ~, ... in YAML 1.1 or 1.2), else double-quoted: '"' and '\' escaped,
 * control characters as \xXX, UTF-8 characters as \uXXXX or \UXXXXXXXX (the
 * file stays ASCII), bytes that are not UTF-8 as \uFFFD (such a key cannot
 * match its layer; the front ends never make one).  Cut at n - 1 bytes. */
const char *names_yaml_key(char *out, size_t n, const char *raw);

/* Valid UTF-8 for a JSON string value (cJSON escapes quotes and control
 * characters, but passes bytes through): each byte that does not start a
 * well-formed UTF-8 sequence becomes U+FFFD.  Cut on a whole character and
 * "..." appended when more than n - 1 bytes. */
const char *names_utf8(char *out, size_t n, const char *raw);

#endif
