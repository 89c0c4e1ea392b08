/* fx.c — parsing and printing of fixed-point types and values. */
#include "ir/fx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const fx_quant_names[7] = {"TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV"};
const char *const fx_overflow_names[4] = {"WRAP", "SAT", "SAT_ZERO", "SAT_SYM"};

int64_t fx_type_max(FxType t)
{
    return (int64_t)((UINT64_C(1) << (t.w - (t.sign ? 1 : 0))) - 1u);
}

int64_t fx_type_min(FxType t)
{
    return t.sign ? -fx_type_max(t) - 1 : 0;
}

bool fx_type_eq(FxType a, FxType b)
{
    return a.w == b.w && a.i == b.i && a.sign == b.sign && a.q == b.q && a.o == b.o;
}

static const char *skip_ws(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

static int parse_int(const char **ps, long *v)
{
    const char *s = skip_ws(*ps);
    char *end;
    if (!(*s == '-' || *s == '+' || isdigit((unsigned char)*s)))
        return -1;
    *v = strtol(s, &end, 10);
    if (end == s || *v > 100000 || *v < -100000)
        return -1;
    *ps = skip_ws(end);
    return 0;
}

/* Read an identifier (letters, digits, '_') into buf. */
static int parse_word(const char **ps, char *buf, size_t n)
{
    const char *s = skip_ws(*ps);
    size_t k = 0;
    while (isalnum((unsigned char)*s) || *s == '_') {
        if (k + 1 >= n)
            return -1;
        buf[k++] = (char)toupper((unsigned char)*s++);
    }
    buf[k] = 0;
    *ps = skip_ws(s);
    return k ? 0 : -1;
}

static int lookup_mode(const char *w, const char *const *names, int n)
{
    if (strncmp(w, "AP_", 3) == 0 || strncmp(w, "AC_", 3) == 0)   /* ap_fixed's AP_RND, ac_fixed's AC_RND */
        w += 3;
    for (int k = 0; k < n; k++)
        if (strcmp(w, names[k]) == 0)
            return k;
    return -1;
}

int fx_parse(const char *s, FxType *out, char *err, size_t errlen)
{
    static const char expected[] =
        "expected a type like fixed<W,I>, fixed<W,I,Q,O>, ufixed<W,I>, ap_fixed<W,I,AP_Q,AP_O>, int<W> or ap_uint<W> "
        "(Q: TRN TRN_ZERO RND RND_ZERO RND_MIN_INF RND_INF RND_CONV; O: WRAP SAT SAT_ZERO SAT_SYM), or "
        "ac_fixed<W,I,S,AC_Q,AC_O> / ac_int<W,S> (S: true or false)";
    const char *p = skip_ws(s);
    char word[32];
    FxType t = {0, 0, 1, FXQ_TRN, FXO_WRAP};
    int is_int = 0, is_ac = 0;
    long w = 0, i = 0;

    if (parse_word(&p, word, sizeof word) < 0)
        goto bad;
    const char *base = word;
    if (strncmp(base, "AP_", 3) == 0)
        base += 3;
    else if (!strcmp(base, "AC_FIXED") || !strcmp(base, "AC_INT"))   /* Algorithmic C: signedness is a parameter */
        base += 3, is_ac = 1;
    if (strcmp(base, "FIXED") == 0)
        t.sign = 1;
    else if (strcmp(base, "UFIXED") == 0)
        t.sign = 0;
    else if (strcmp(base, "INT") == 0)
        t.sign = 1, is_int = 1;
    else if (strcmp(base, "UINT") == 0)
        t.sign = 0, is_int = 1;
    else
        goto bad;
    if (*p++ != '<' || parse_int(&p, &w) < 0)
        goto bad;
    if (is_int) {
        i = w;
    } else if (*p++ != ',' || parse_int(&p, &i) < 0) {
        goto bad;
    }
    if (is_ac && *p == ',') {
        /* ac_fixed<W,I,S,...> / ac_int<W,S>: S true or 1 signed, false or 0 unsigned (as hls4ml reads it) */
        p++;
        if (parse_word(&p, word, sizeof word) < 0)
            goto bad;
        if (!strcmp(word, "FALSE") || !strcmp(word, "0"))
            t.sign = 0;
        else if (strcmp(word, "TRUE") && strcmp(word, "1"))
            goto bad;
        if (is_int && *p == ',')
            goto bad;
    }
    if (!is_int) {
        if (*p == ',') {
            p++;
            int q;
            if (parse_word(&p, word, sizeof word) < 0 || (q = lookup_mode(word, fx_quant_names, 7)) < 0)
                goto bad;
            t.q = (uint8_t)q;
            if (*p == ',') {
                p++;
                int o;
                if (parse_word(&p, word, sizeof word) < 0 || (o = lookup_mode(word, fx_overflow_names, 4)) < 0)
                    goto bad;
                t.o = (uint8_t)o;
                if (*p == ',') {        /* saturation bits (ap_fixed's N): only 0 is supported */
                    long nbits;
                    p++;
                    if (parse_int(&p, &nbits) < 0 || nbits != 0)
                        goto bad;
                }
            }
        }
    }
    if (*p++ != '>' || *skip_ws(p) != 0)
        goto bad;
    if (w < 1 || w > FX_MAX_WIDTH - (t.sign ? 0 : 1)) {
        snprintf(err, errlen, "'%s': width %ld is not supported: expected 1..%d bits for %s types", s, w,
                 FX_MAX_WIDTH - (t.sign ? 0 : 1), t.sign ? "signed" : "unsigned");
        return -1;
    }
    if (i < -4096 || i > 4096) {
        snprintf(err, errlen, "'%s': integer bits %ld out of the supported range -4096..4096", s, i);
        return -1;
    }
    t.w = (int16_t)w;
    t.i = (int16_t)i;
    *out = t;
    return 0;
bad:
    snprintf(err, errlen, "'%s': %s", s, expected);
    return -1;
}

static void format_common(FxType t, char *out, size_t n, int ap)
{
    const char *pre = ap ? "AP_" : "";
    char modes[64] = "";
    if (t.q != FXQ_TRN || t.o != FXO_WRAP) {
        if (t.o != FXO_WRAP)
            snprintf(modes, sizeof modes, ",%s%s,%s%s", pre, fx_quant_names[t.q], pre, fx_overflow_names[t.o]);
        else
            snprintf(modes, sizeof modes, ",%s%s", pre, fx_quant_names[t.q]);
    }
    snprintf(out, n, "%s%sfixed<%d,%d%s>", ap ? "ap_" : "", t.sign ? "" : "u", t.w, t.i, modes);
}

void fx_format(FxType t, char *out, size_t n) { format_common(t, out, n, 0); }
void fx_format_ap(FxType t, char *out, size_t n) { format_common(t, out, n, 1); }

/* Exact decimal: |m| * 5^f as a big number in base 1e9, then a decimal point
 * f digits from the right.  For f <= 0 the value is |m| * 2^-f. */
void fx_format_value(int64_t m, int f, char *out, size_t n)
{
    uint32_t d[64];       /* little-endian base-1e9 limbs; enough for 2^64 * 5^4096? no: capped below */
    int nd = 0;
    int neg = m < 0;
    uint64_t a = neg ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
    if (f > 160 || f < -160) {    /* beyond any practical type: fall back to %.17g */
        snprintf(out, n, "%.17g", fx_to_double(m, f));
        return;
    }
    while (a) {
        d[nd++] = (uint32_t)(a % 1000000000u);
        a /= 1000000000u;
    }
    int mul = f > 0 ? 5 : 2, times = f > 0 ? f : -f;
    for (int k = 0; k < times && nd; k++) {
        uint64_t carry = 0;
        for (int j = 0; j < nd; j++) {
            uint64_t v = (uint64_t)d[j] * (uint64_t)mul + carry;
            d[j] = (uint32_t)(v % 1000000000u);
            carry = v / 1000000000u;
        }
        if (carry)
            d[nd++] = (uint32_t)carry;
    }
    char digits[700];
    size_t len = 0;
    if (nd == 0) {
        digits[len++] = '0';
    } else {
        len = (size_t)snprintf(digits, sizeof digits, "%u", d[nd - 1]);
        for (int j = nd - 2; j >= 0; j--)
            len += (size_t)snprintf(digits + len, sizeof digits - len, "%09u", d[j]);
    }
    digits[len] = 0;
    char res[760];
    size_t r = 0;
    if (neg && nd)
        res[r++] = '-';
    if (f <= 0) {
        memcpy(res + r, digits, len + 1);
    } else {
        size_t fl = (size_t)f;
        if (len <= fl) {
            res[r++] = '0';
            res[r++] = '.';
            for (size_t k = len; k < fl; k++)
                res[r++] = '0';
            memcpy(res + r, digits, len);
            r += len;
        } else {
            memcpy(res + r, digits, len - fl);
            r += len - fl;
            res[r++] = '.';
            memcpy(res + r, digits + len - fl, fl);
            r += fl;
        }
        while (res[r - 1] == '0')   /* trailing zeros of the fraction */
            r--;
        if (res[r - 1] == '.')
            r--;
        res[r] = 0;
    }
    snprintf(out, n, "%s", res);
}
