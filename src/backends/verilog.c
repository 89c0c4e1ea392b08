/* verilog.c — writes the scheduled netlist (rtl.c) as Verilog-2001: one
 * module per layer and a top module with a valid pipeline.  No vendor
 * primitives; every wire as wide as its value needs, arithmetic written with
 * explicit extension so that Verilog's sizing rules never act. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backends.h"
#include "etchnn.h"
#include "hw/hw.h"
#include "util/names.h"

static void out(Buf *b, const char *fmt, ...) ETN_PRINTF(2, 3);
static void out(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* A sized constant: the low w bits of v. */
void verilog_lit(char *s, size_t n, int w, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (w < 64)
        u &= (UINT64_C(1) << w) - 1u;
    if (w > 64 && v < 0) {   /* sign-extended beyond 64 bits: 'f' digits, the top one holding the rest */
        char top[80];
        int extra = w - 64, nf = (extra - 1) / 4, tb = extra - 4 * nf;
        snprintf(top, sizeof top, "%x", (1u << tb) - 1u);
        for (int k = 0; k < nf && (size_t)k + 2 < sizeof top; k++)
            strcat(top, "f");
        snprintf(s, n, "%d'h%s%016llx", w, top, (unsigned long long)u);
        return;
    }
    snprintf(s, n, "%d'h%llx", w, (unsigned long long)u);
}

#define lit verilog_lit

/* The name of node i as seen at stage `at` (a delayed copy when produced earlier). */
static void ref(const HwModule *m, int i, int at, char *s, size_t n)
{
    const HwNode *x = &m->n[i];
    if (x->op == HW_CONST) {
        lit(s, n, x->w, x->k);
        return;
    }
    int d = at - x->stage;
    if (d > 0)
        snprintf(s, n, "n%d_d%d", i, d);
    else
        snprintf(s, n, "n%d", i);
}

/* ref extended (sign or zero) or truncated to w bits, shifted left by sh (result w bits). */
static void ext_shift(const HwModule *m, int i, int at, int sh, int w, char *s, size_t n)
{
    const HwNode *x = &m->n[i];
    char r[64], body[400];
    ref(m, i, at, r, sizeof r);
    if (w <= sh) {
        snprintf(s, n, "{%d{1'b0}}", w);
        return;
    }
    int need = w - sh;
    if (x->op == HW_CONST) {
        lit(body, sizeof body, need, x->k);
    } else if (need == x->w) {
        snprintf(body, sizeof body, "%s", r);
    } else if (need < x->w) {
        snprintf(body, sizeof body, "%s[%d:0]", r, need - 1);
    } else if (x->sign) {
        snprintf(body, sizeof body, "{{%d{%s[%d]}}, %s}", need - x->w, r, x->w - 1, r);
    } else {
        snprintf(body, sizeof body, "{{%d{1'b0}}, %s}", need - x->w, r);
    }
    if (sh)
        snprintf(s, n, "{%s, {%d{1'b0}}}", body, sh);
    else
        snprintf(s, n, "%s", body);
}

/* Node i (or, when is_const, the constant k) as a signed Verilog operand: $signed(ref), with a zero
 * sign bit prepended to an unsigned node; returns its width. */
static int signed_operand(const HwModule *m, int i, int at, int is_const, int64_t k, char *s, size_t n)
{
    char r[64], l[96];
    if (is_const > 0 || (i >= 0 && m->n[i].op == HW_CONST)) {
        int64_t v = is_const > 0 ? k : m->n[i].k, one = 1;
        int w = 1;
        while (w < 64 && (v < -(one << (w - 1)) || v > (one << (w - 1)) - 1))
            w++;
        lit(l, sizeof l, w, v);
        snprintf(s, n, "$signed(%s)", l);
        return w;
    }
    const HwNode *x = &m->n[i];
    ref(m, i, at, r, sizeof r);
    if (x->sign) {
        snprintf(s, n, "$signed(%s)", r);
        return x->w;
    }
    snprintf(s, n, "$signed({1'b0, %s})", r);
    return x->w + 1;
}

/* "value > 0" of node i at stage at. */
static void positive(const HwModule *m, int i, int at, char *s, size_t n)
{
    char r[64];
    const HwNode *x = &m->n[i];
    ref(m, i, at, r, sizeof r);
    if (x->sign)
        snprintf(s, n, "(!%s[%d] && (|%s))", r, x->w - 1, r);
    else
        snprintf(s, n, "(|%s)", r);
}

/* A Verilog function implementing fx_cast from (wi, fi, si) to `to`. */
void verilog_cast_fn(Buf *b, const char *name, int wi, int fi, int si, FxType to)
{
    int w = to.w, f = fx_frac(to), d = fi - f;
    int wq, qsign = si;
    out(b, "    function [%d:0] %s;\n        input [%d:0] x;\n", w - 1, name, wi - 1);
    if (d > 0) {
        int wx = wi > d + 1 ? wi : d + 1;
        int wfl = wx - d;
        int round = to.q != FXQ_TRN;
        wq = wfl + (round ? 1 : 0);
        out(b, "        reg [%d:0] xe;\n        reg [%d:0] q;\n", wx - 1, wq - 1);
        if (round)
            out(b, "        reg up;\n");
        out(b, "        begin\n");
        if (wx > wi && si)
            out(b, "            xe = {{%d{x[%d]}}, x};\n", wx - wi, wi - 1);
        else if (wx > wi)
            out(b, "            xe = {{%d{1'b0}}, x};\n", wx - wi);
        else
            out(b, "            xe = x;\n");
        if (round) {
            const char *neg = si ? "xe[" : NULL;
            char negs[32], rest[64];
            if (neg)
                snprintf(negs, sizeof negs, "xe[%d]", wx - 1);
            else
                snprintf(negs, sizeof negs, "1'b0");
            if (d >= 2)
                snprintf(rest, sizeof rest, "(|xe[%d:0])", d - 2);
            else
                snprintf(rest, sizeof rest, "1'b0");
            char half[32];
            snprintf(half, sizeof half, "xe[%d]", d - 1);
            switch (to.q) {
            case FXQ_TRN_ZERO: out(b, "            up = %s & (%s | %s);\n", negs, half, rest); break;
            case FXQ_RND: out(b, "            up = %s;\n", half); break;
            case FXQ_RND_ZERO: out(b, "            up = %s & (%s | %s);\n", half, rest, negs); break;
            case FXQ_RND_MIN_INF: out(b, "            up = %s & %s;\n", half, rest); break;
            case FXQ_RND_INF: out(b, "            up = %s & (%s | !%s);\n", half, rest, negs); break;
            case FXQ_RND_CONV: out(b, "            up = %s & (%s | xe[%d]);\n", half, rest, d); break;
            default: out(b, "            up = 1'b0;\n"); break;
            }
            if (si)
                out(b, "            q = {xe[%d], xe[%d:%d]} + {{%d{1'b0}}, up};\n", wx - 1, wx - 1, d, wq - 1);
            else
                out(b, "            q = {1'b0, xe[%d:%d]} + {{%d{1'b0}}, up};\n", wx - 1, d, wq - 1);
        } else {
            out(b, "            q = xe[%d:%d];\n", wx - 1, d);
        }
    } else {
        wq = wi - d;
        out(b, "        reg [%d:0] q;\n        begin\n", wq - 1);
        if (d < 0)
            out(b, "            q = {x, {%d{1'b0}}};\n", -d);
        else
            out(b, "            q = x;\n");
    }
    /* overflow into w bits */
    char low[128];
    if (wq >= w)
        snprintf(low, sizeof low, "q[%d:0]", w - 1);
    else if (qsign)
        snprintf(low, sizeof low, "{{%d{q[%d]}}, q}", w - wq, wq - 1);
    else
        snprintf(low, sizeof low, "{{%d{1'b0}}, q}", w - wq);
    char inr[160], neg[32];
    snprintf(neg, sizeof neg, "%s", qsign ? "" : "1'b0");
    if (qsign)
        snprintf(neg, sizeof neg, "q[%d]", wq - 1);
    if (to.sign) {
        if (qsign)
            snprintf(inr, sizeof inr, wq <= w ? "1'b1" : "((&q[%d:%d]) | ~(|q[%d:%d]))", wq - 1, w - 1, wq - 1, w - 1);
        else
            snprintf(inr, sizeof inr, wq < w ? "1'b1" : "~(|q[%d:%d])", wq - 1, w - 1);
    } else {
        if (qsign)
            snprintf(inr, sizeof inr, wq - 1 <= w ? "~q[%d]" : "(~q[%d] & ~(|q[%d:%d]))", wq - 1, wq - 2, w);
        else
            snprintf(inr, sizeof inr, wq <= w ? "1'b1" : "~(|q[%d:%d])", wq - 1, w);
    }
    char hi[64], lo[64], symlo[64];
    lit(hi, sizeof hi, w, fx_type_max(to));
    lit(lo, sizeof lo, w, fx_type_min(to));
    lit(symlo, sizeof symlo, w, to.sign ? -fx_type_max(to) : 0);
    switch (to.o) {
    case FXO_SAT:
        out(b, "            %s = %s ? %s : (%s ? %s : %s);\n", name, inr, low, neg, lo, hi);
        break;
    case FXO_SAT_ZERO:
        out(b, "            %s = %s ? %s : %d'h0;\n", name, inr, low, w);
        break;
    case FXO_SAT_SYM:
        if (to.sign)
            out(b, "            %s = %s ? ((%s == %s) ? %s : %s) : (%s ? %s : %s);\n", name, inr, low, lo, symlo, low, neg,
                symlo, hi);
        else
            out(b, "            %s = %s ? %s : (%s ? %s : %s);\n", name, inr, low, neg, lo, hi);
        break;
    default:
        out(b, "            %s = %s;\n", name, low);
        break;
    }
    out(b, "        end\n    endfunction\n");
}

static void emit_rom_fn(Buf *b, const char *name, const HwRom *r)
{
    out(b, "    function [%d:0] %s;\n        input [%d:0] a;\n        begin\n            case (a)\n", r->dw - 1, name,
        r->aw - 1);
    char v[40];
    for (long i = 0; i < r->n; i++) {
        lit(v, sizeof v, r->dw, r->data[i]);
        out(b, "            %d'd%ld: %s = %s;\n", r->aw, i, name, v);
    }
    lit(v, sizeof v, r->dw, r->data[r->n - 1]);
    out(b, "            default: %s = %s;\n            endcase\n        end\n    endfunction\n", name, v);
}

/* The ROM address expression of a ROM node. */
static void rom_addr(Buf *b, const HwModule *m, int i, char *s, size_t n)
{
    const HwNode *x = &m->n[i];
    const HwNode *a = &m->n[x->a];
    const HwRom *r = &m->rom[x->rom];
    char ra[64];
    ref(m, x->a, x->stage, ra, sizeof ra);
    if (!r->hls_index && x->k == 0 && (int64_t)((1LL << r->aw) - 1) >= x->k2 && a->w <= r->aw && !a->sign) {
        /* the operand already is the address */
        char e[300];
        ext_shift(m, x->a, x->stage, 0, r->aw, e, sizeof e);
        snprintf(s, n, "%s", e);
        return;
    }
    /* an address computed in a local wire, wide enough for the operand, the range's ends and the address (an
     * operand narrower than the table's input type: a quantizer's element) */
    int wa = a->w + 2;
    if (!r->hls_index)
        while (wa < r->aw + 1 || (wa < 62 && (x->k < -(1LL << (wa - 1)) || x->k2 >= (1LL << (wa - 1)))))
            wa++;
    char xe[300];
    ext_shift(m, x->a, x->stage, 0, wa, xe, sizeof xe);
    out(b, "    wire [%d:0] n%d_x = %s;\n", wa - 1, i, xe);
    if (r->hls_index) {
        /* idx = trunc0(x * T / S) + T/2, clamped to [0, T-1] (fx_table_index) */
        int f = (int)x->k, lgt = (int)x->k2, lgs = x->sa;
        int k = f + lgs - lgt;
        long t = 1L << lgt;
        int wt = wa + (k < 0 ? -k : 0) + 2;
        if (wt < lgt + 3)
            wt = lgt + 3;
        char xw[300];
        snprintf(xw, sizeof xw, "{{%d{n%d_x[%d]}}, n%d_x}", wt - wa, i, wa - 1, i);
        if (!a->sign)
            snprintf(xw, sizeof xw, "{{%d{1'b0}}, n%d_x}", wt - wa, i);
        out(b, "    wire [%d:0] n%d_xw = %s;\n", wt - 1, i, xw);
        if (k > 0) {
            /* toward zero: add 2^k - 1 to negative values before the floor shift */
            char bias[64];
            lit(bias, sizeof bias, wt, ((int64_t)1 << (k < 62 ? k : 62)) - 1);
            out(b, "    wire [%d:0] n%d_xb = n%d_xw + (n%d_xw[%d] ? %s : %d'h0);\n", wt - 1, i, i, i, wt - 1, bias, wt);
            if (k >= wt)
                out(b, "    wire [%d:0] n%d_q = {%d{1'b0}};\n", wt - 1, i, wt);
            else
                out(b, "    wire [%d:0] n%d_q = {{%d{n%d_xb[%d]}}, n%d_xb[%d:%d]};\n", wt - 1, i, k, i, wt - 1, i, wt - 1, k);
        } else if (k < 0) {
            out(b, "    wire [%d:0] n%d_q = {n%d_xw[%d:0], {%d{1'b0}}};\n", wt - 1, i, i, wt - 1 + k, -k);
        } else {
            out(b, "    wire [%d:0] n%d_q = n%d_xw;\n", wt - 1, i, i);
        }
        char half[64], top[64];
        lit(half, sizeof half, wt, t / 2);
        lit(top, sizeof top, wt, t - 1);
        out(b, "    wire [%d:0] n%d_i = n%d_q + %s;\n", wt - 1, i, i, half);
        out(b, "    wire [%d:0] n%d_a = n%d_i[%d] ? %d'd0 : ($signed(n%d_i) > $signed(%s)) ? %d'd%ld : n%d_i[%d:0];\n",
            r->aw - 1, i, i, wt - 1, r->aw, i, top, r->aw, t - 1, i, r->aw - 1);
    } else {
        char lo[64], hi[64];
        lit(lo, sizeof lo, wa, x->k);
        lit(hi, sizeof hi, wa, x->k2);
        out(b, "    wire [%d:0] n%d_c = ($signed(n%d_x) < $signed(%s)) ? %s : ($signed(n%d_x) > $signed(%s)) ? %s : n%d_x;\n",
            wa - 1, i, i, lo, lo, i, hi, hi, i);
        out(b, "    wire [%d:0] n%d_o = n%d_c - %s;\n", wa - 1, i, i, lo);
        out(b, "    wire [%d:0] n%d_a = n%d_o[%d:0];\n", r->aw - 1, i, i, r->aw - 1);
    }
    snprintf(s, n, "n%d_a", i);
}

void verilog_emit_module(Buf *b, const HwDesign *r, const HwModule *m)
{
    const Graph *g = r->g;
    const Tensor *ti = &g->t[m->in_tensor[0]], *to = &g->t[m->out_tensor];
    long ni = ir_numel(ti), no = ir_numel(to);
    char lname[NAMES_TEXT_SIZE];
    out(b, "// %s: layer '%s' (%s), latency %d cycles\n", m->name, names_comment(lname, sizeof lname, g->n[m->node].name),
        op_names[g->n[m->node].op], m->latency);
    out(b, "/* verilator lint_off UNUSEDSIGNAL */\n");
    out(b, "module %s (\n    input wire clk,\n    input wire [%ld:0] in0,\n", m->name, ni * ti->type.w - 1);
    if (m->ports == 2) {
        const Tensor *t2 = &g->t[m->in_tensor[1]];
        out(b, "    input wire [%ld:0] in1,\n", ir_numel(t2) * t2->type.w - 1);
    }
    out(b, "    output wire [%ld:0] out0\n);\n", no * to->type.w - 1);
    /* functions: one cast per node that casts (deduplicated by signature) */
    typedef struct { int wi, fi, si; FxType to; } Sig;
    Sig *sigs = NULL;
    size_t ns = 0, cs = 0;
    int *fn_of = calloc(m->nn ? m->nn : 1, sizeof(int));
    for (size_t i = 0; i < m->nn; i++) {
        const HwNode *x = &m->n[i];
        if (x->op != HW_CAST)
            continue;
        Sig s = {m->n[x->a].w, x->fa, m->n[x->a].sign, x->to};
        size_t k;
        for (k = 0; k < ns; k++)
            if (sigs[k].wi == s.wi && sigs[k].fi == s.fi && sigs[k].si == s.si && fx_type_eq(sigs[k].to, s.to))
                break;
        if (k == ns) {
            VEC_PUSH(sigs, ns, cs, s);
            char nm[32];
            snprintf(nm, sizeof nm, "cast%zu", k);
            verilog_cast_fn(b, nm, s.wi, s.fi, s.si, s.to);
        }
        fn_of[i] = (int)k;
    }
    for (size_t k = 0; k < m->nrom; k++) {
        char nm[32];
        snprintf(nm, sizeof nm, "rom%zu", k);
        emit_rom_fn(b, nm, &m->rom[k]);
    }
    /* nodes */
    char e1[400], e2[400], e3[400], r1[64];
    for (size_t i = 0; i < m->nn; i++) {
        const HwNode *x = &m->n[i];
        int st = x->stage;
        switch (x->op) {
        case HW_CONST:
            continue;
        case HW_IN: {
            const Tensor *t = &g->t[m->in_tensor[x->sa]];
            out(b, "    wire [%d:0] n%zu = in%d[%lld:%lld];\n", x->w - 1, i, x->sa, (long long)(x->k * t->type.w + x->w - 1),
                (long long)(x->k * t->type.w));
            break;
        }
        case HW_ADD:
            ext_shift(m, x->a, st, x->sa, x->w, e1, sizeof e1);
            ext_shift(m, x->b, st, x->sb, x->w, e2, sizeof e2);
            out(b, "    wire [%d:0] n%zu = %s %c %s;\n", x->w - 1, i, e1, x->sub ? '-' : '+', e2);
            break;
        case HW_SHR: {
            const HwNode *a = &m->n[x->a];
            ref(m, x->a, st, r1, sizeof r1);
            if (x->sa >= a->w) {
                if (a->sign)
                    out(b, "    wire [%d:0] n%zu = {%d{%s[%d]}};\n", x->w - 1, i, x->w, r1, a->w - 1);
                else
                    out(b, "    wire [%d:0] n%zu = %d'h0;\n", x->w - 1, i, x->w);
            } else {
                int avail = a->w - x->sa;
                if (avail >= x->w)
                    out(b, "    wire [%d:0] n%zu = %s[%d:%d];\n", x->w - 1, i, r1, x->sa + x->w - 1, x->sa);
                else if (a->sign)
                    out(b, "    wire [%d:0] n%zu = {{%d{%s[%d]}}, %s[%d:%d]};\n", x->w - 1, i, x->w - avail, r1, a->w - 1,
                        r1, a->w - 1, x->sa);
                else
                    out(b, "    wire [%d:0] n%zu = {{%d{1'b0}}, %s[%d:%d]};\n", x->w - 1, i, x->w - avail, r1, a->w - 1,
                        x->sa);
            }
            break;
        }
        case HW_CAST:
            ref(m, x->a, st, r1, sizeof r1);
            if (m->n[x->a].op == HW_CONST) {
                int64_t v = fx_cast_to(m->n[x->a].k, x->fa, x->to);
                lit(e1, sizeof e1, x->w, v);
                out(b, "    wire [%d:0] n%zu = %s;\n", x->w - 1, i, e1);
            } else {
                out(b, "    wire [%d:0] n%zu = cast%d(%s);\n", x->w - 1, i, fn_of[i], r1);
            }
            break;
        case HW_SEL:
            positive(m, x->a, st, e1, sizeof e1);
            ext_shift(m, x->b, st, 0, x->w, e2, sizeof e2);
            if (x->c >= 0)
                ext_shift(m, x->c, st, 0, x->w, e3, sizeof e3);
            else
                snprintf(e3, sizeof e3, "%d'h0", x->w);
            out(b, "    wire [%d:0] n%zu = %s ? %s : %s;\n", x->w - 1, i, e1, e2, e3);
            break;
        case HW_CLIP: {
            const HwNode *a = &m->n[x->a];
            int wa = a->w + 1;
            char lo[64], hi[64];
            ext_shift(m, x->a, st, 0, wa, e1, sizeof e1);
            lit(lo, sizeof lo, wa, x->k);
            lit(hi, sizeof hi, wa, x->k2);
            ext_shift(m, x->b, st, 0, x->w, e2, sizeof e2);
            char clo[64], chi[64];
            lit(clo, sizeof clo, x->w, m->n[x->c].k);
            lit(chi, sizeof chi, x->w, m->n[x->sb].k);
            out(b, "    wire [%d:0] n%zu_x = %s;\n", wa - 1, i, e1);
            out(b, "    wire [%d:0] n%zu = ($signed(n%zu_x) < $signed(%s)) ? %s : ($signed(n%zu_x) > $signed(%s)) ? %s : %s;\n",
                x->w - 1, i, i, lo, clo, i, hi, chi, e2);
            break;
        }
        case HW_ROM: {
            char addr[64];
            rom_addr(b, m, (int)i, addr, sizeof addr);
            out(b, "    wire [%d:0] n%zu = rom%d(%s);\n", x->w - 1, i, x->rom, addr);
            break;
        }
        case HW_MUL: {
            /* a signed wa x wb product (one DSP block where it fits), then the bits the node keeps;
             * operands widened to the result's width made Yosys map a w x w multiplier (3 DSP48s) */
            int wa = signed_operand(m, x->a, st, -1, 0, e1, sizeof e1);
            int wb = signed_operand(m, x->b, st, x->b < 0 ? 1 : -1, x->k, e2, sizeof e2);
            int pw = wa + wb;
            out(b, "    wire signed [%d:0] n%zu_p = %s * %s;\n", pw - 1, i, e1, e2);
            if (x->w <= pw)
                out(b, "    wire [%d:0] n%zu = n%zu_p[%d:0];\n", x->w - 1, i, i, x->w - 1);
            else
                out(b, "    wire [%d:0] n%zu = {{%d{n%zu_p[%d]}}, n%zu_p};\n", x->w - 1, i, x->w - pw, i, pw - 1, i);
            break;
        }
        case HW_MAX: {
            ext_shift(m, x->a, st, 0, x->w + 1, e1, sizeof e1);
            ext_shift(m, x->b, st, 0, x->w + 1, e2, sizeof e2);
            char ra[64], rb[64];
            ref(m, x->a, st, ra, sizeof ra);
            ref(m, x->b, st, rb, sizeof rb);
            out(b, "    wire [%d:0] n%zu = ($signed(%s) >= $signed(%s)) ? %s : %s;\n", x->w - 1, i, e1, e2, ra, rb);
            break;
        }
        }
        /* delayed copies */
        for (int dly = 1; dly <= x->maxdelay; dly++)
            out(b, "    reg [%d:0] n%zu_d%d;\n", x->w - 1, i, dly);
        if (x->maxdelay) {
            out(b, "    always @(posedge clk) begin\n");
            for (int dly = 1; dly <= x->maxdelay; dly++) {
                if (dly == 1)
                    out(b, "        n%zu_d1 <= n%zu;\n", i, i);
                else
                    out(b, "        n%zu_d%d <= n%zu_d%d;\n", i, dly, i, dly - 1);
            }
            out(b, "    end\n");
        }
    }
    /* the registered output */
    int wo = to->type.w;
    out(b, "    assign out0 = {");
    for (long e = no - 1; e >= 0; e--) {
        int id = m->out[e];
        char rr[400];
        ext_shift(m, id, m->latency, 0, wo, rr, sizeof rr);
        if (m->n[id].op == HW_CONST) {
            /* a constant output still goes through a register for a uniform latency */
        }
        out(b, "%s%s", rr, e ? ", " : "");
    }
    out(b, "};\n");
    out(b, "endmodule\n/* verilator lint_on UNUSEDSIGNAL */\n");
    free(sigs);
    free(fn_of);
}

/* The top of a model with several inputs or outputs: one port per input (in<k>_data) and per output
 * (out<k>_data), each output delayed to the latest; then NAME_flat, the same with every input side by
 * side in in_data and every output in out_data (input 0's elements first), which the test benches drive. */
static void emit_top_multi(Buf *b, const HwDesign *r)
{
    const Graph *g = r->g;
    char ty[64], tn[NAMES_TEXT_SIZE];
    out(b, "// %s: generated by etchnn %s. Latency %d cycles at %.1f MHz, one new input every %d clock%s.\n", r->top,
        ETCHNN_VERSION, r->latency, r->opt.clock_mhz, r->ii, r->ii > 1 ? "s" : "");
    for (int o = 0; o < 2; o++)
        for (size_t k = 0; k < (o ? g->noutputs : g->ninputs); k++) {
            const Tensor *t = &g->t[o ? g->outputs[k] : g->inputs[k]];
            fx_format(t->type, ty, sizeof ty);
            out(b, "// %s%zu_data: %s '%s', %ld x %s, element j in bits [j*%d +: %d].\n", o ? "out" : "in", k,
                o ? "output" : "input", names_comment(tn, sizeof tn, t->name), ir_numel(t), ty, t->type.w, t->type.w);
        }
    out(b, "module %s (\n    input wire clk,\n    input wire rst,\n    input wire in_valid,\n", r->top);
    for (size_t k = 0; k < g->ninputs; k++)
        out(b, "    input wire [%ld:0] in%zu_data,\n", ir_numel(&g->t[g->inputs[k]]) * g->t[g->inputs[k]].type.w - 1, k);
    out(b, "    output wire out_valid");
    for (size_t k = 0; k < g->noutputs; k++)
        out(b, ",\n    output wire [%ld:0] out%zu_data", ir_numel(&g->t[g->outputs[k]]) * g->t[g->outputs[k]].type.w - 1, k);
    out(b, "\n);\n");
    for (size_t k = 0; k < g->ninputs; k++)
        out(b, "    reg [%ld:0] t%d;\n    always @(posedge clk) t%d <= in%zu_data;\n",
            ir_numel(&g->t[g->inputs[k]]) * g->t[g->inputs[k]].type.w - 1, g->inputs[k], g->inputs[k], k);
}

static void emit_top_modules(Buf *b, const HwDesign *r);
static void emit_top_valid(Buf *b, const HwDesign *r);

static void emit_top_multi_outputs(Buf *b, const HwDesign *r)
{
    const Graph *g = r->g;
    for (size_t k = 0; k < g->noutputs; k++) {
        int ot = g->outputs[k];
        long w = ir_numel(&g->t[ot]) * g->t[ot].type.w;
        int lag = r->latency - 1 - r->tensor_cycle[ot];
        while (g->t[ot].producer >= 0 && g->n[g->t[ot].producer].op == OP_RESHAPE)
            ot = g->n[g->t[ot].producer].in[0];
        char src[64];
        snprintf(src, sizeof src, "t%d", ot);
        for (int dl = 1; dl <= lag; dl++) {
            out(b, "    reg [%ld:0] out%zu_d%d;\n    always @(posedge clk) out%zu_d%d <= %s;\n", w - 1, k, dl, k, dl, src);
            snprintf(src, sizeof src, "out%zu_d%d", k, dl);
        }
        out(b, "    reg [%ld:0] out%zu_r;\n    always @(posedge clk) out%zu_r <= %s;\n    assign out%zu_data = out%zu_r;\n",
            w - 1, k, k, src, k, k);
    }
}

static void emit_flat(Buf *b, const HwDesign *r)
{
    const Graph *g = r->g;
    long wi = 0, wo = 0;
    for (size_t k = 0; k < g->ninputs; k++)
        wi += ir_numel(&g->t[g->inputs[k]]) * g->t[g->inputs[k]].type.w;
    for (size_t k = 0; k < g->noutputs; k++)
        wo += ir_numel(&g->t[g->outputs[k]]) * g->t[g->outputs[k]].type.w;
    out(b, "// %s_flat: %s with its inputs side by side in in_data (in0_data in the low bits) and its outputs in\n"
        "// out_data (out0_data in the low bits): the interface of the test benches.\n", r->top, r->top);
    out(b, "module %s_flat (\n    input wire clk,\n    input wire rst,\n    input wire in_valid,\n"
        "    input wire [%ld:0] in_data,\n    output wire out_valid,\n    output wire [%ld:0] out_data\n);\n", r->top,
        wi - 1, wo - 1);
    out(b, "    %s core (.clk(clk), .rst(rst), .in_valid(in_valid), .out_valid(out_valid)", r->top);
    long lo = 0;
    for (size_t k = 0; k < g->ninputs; k++) {
        long w = ir_numel(&g->t[g->inputs[k]]) * g->t[g->inputs[k]].type.w;
        out(b, ",\n        .in%zu_data(in_data[%ld:%ld])", k, lo + w - 1, lo);
        lo += w;
    }
    lo = 0;
    for (size_t k = 0; k < g->noutputs; k++) {
        long w = ir_numel(&g->t[g->outputs[k]]) * g->t[g->outputs[k]].type.w;
        out(b, ",\n        .out%zu_data(out_data[%ld:%ld])", k, lo + w - 1, lo);
        lo += w;
    }
    out(b, ");\nendmodule\n");
}

static void emit_top(Buf *b, const HwDesign *r)
{
    const Graph *g = r->g;
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    long wi = ir_numel(ti) * ti->type.w, wo = ir_numel(to) * to->type.w;
    char tin[64], tout[64];
    fx_format(ti->type, tin, sizeof tin);
    fx_format(to->type, tout, sizeof tout);
    if (r->ii > 1)
        out(b, "// %s: generated by etchnn %s. Latency %d cycles at %.1f MHz, one new input every %d clocks (II %d):\n"
            "// in_valid may be high at most once in any %d consecutive clocks; out_valid is in_valid %d clocks later.\n",
            r->top, ETCHNN_VERSION, r->latency, r->opt.clock_mhz, r->ii, r->ii, r->ii, r->latency);
    else
        out(b, "// %s: generated by etchnn %s. Latency %d cycles at %.1f MHz, one new input every clock.\n", r->top,
            ETCHNN_VERSION, r->latency, r->opt.clock_mhz);
    out(b, "// in_data: %ld x %s, element k in bits [k*%d +: %d]; out_data: %ld x %s, element k in bits [k*%d +: %d].\n",
        ir_numel(ti), tin, ti->type.w, ti->type.w, ir_numel(to), tout, to->type.w, to->type.w);
    out(b, "module %s (\n    input wire clk,\n    input wire rst,\n    input wire in_valid,\n    input wire [%ld:0] in_data,\n",
        r->top, wi - 1);
    out(b, "    output wire out_valid,\n    output wire [%ld:0] out_data\n);\n", wo - 1);
    out(b, "    reg [%ld:0] t%d;\n    always @(posedge clk) t%d <= in_data;\n", wi - 1, g->inputs[0], g->inputs[0]);
    if (r->ii > 1)   /* folded and static recurrent layers start on the valid bit of their input's cycle */
        out(b, "    reg [%d:0] valid;\n", r->latency - 1);
    emit_top_modules(b, r);
    int ot = g->outputs[0];
    while (g->t[ot].producer >= 0 && g->n[g->t[ot].producer].op == OP_RESHAPE)
        ot = g->n[g->t[ot].producer].in[0];
    out(b, "    reg [%ld:0] out_r;\n    always @(posedge clk) out_r <= t%d;\n    assign out_data = out_r;\n", wo - 1, ot);
    emit_top_valid(b, r);
}

static void emit_top_modules(Buf *b, const HwDesign *r)
{
    const Graph *g = r->g;
    /* each module's inputs aligned to the later of its operands */
    for (size_t k = 0; k < r->nm; k++) {
        const HwModule *m = &r->m[k];
        int c = r->tensor_cycle[m->in_tensor[0]];
        if (m->ports == 2 && r->tensor_cycle[m->in_tensor[1]] > c)
            c = r->tensor_cycle[m->in_tensor[1]];
        char src[2][64];
        for (int p = 0; p < m->ports; p++) {
            int t = m->in_tensor[p];
            /* follow reshapes back to the tensor that carries the bits */
            while (g->t[t].producer >= 0 && g->n[g->t[t].producer].op == OP_RESHAPE)
                t = g->n[g->t[t].producer].in[0];
            int lag = c - r->tensor_cycle[m->in_tensor[p]];
            long w = ir_numel(&g->t[t]) * g->t[t].type.w;
            snprintf(src[p], sizeof src[p], "t%d", t);
            for (int dl = 1; dl <= lag; dl++) {
                out(b, "    reg [%ld:0] t%d_m%zu_d%d;\n", w - 1, t, k, dl);
                out(b, "    always @(posedge clk) t%d_m%zu_d%d <= %s;\n", t, k, dl, src[p]);
                snprintf(src[p], sizeof src[p], "t%d_m%zu_d%d", t, k, dl);
            }
        }
        long wout = ir_numel(&g->t[m->out_tensor]) * g->t[m->out_tensor].type.w;
        out(b, "    wire [%ld:0] t%d;\n", wout - 1, m->out_tensor);
        if (m->fold || m->rnn)
            out(b, "    %s u%zu (.clk(clk), .rst(rst), .start(valid[%d]), .in0(%s), .out0(t%d));\n", m->name, k, c - 1,
                src[0], m->out_tensor);
        else
            out(b, "    %s u%zu (.clk(clk), .in0(%s)%s%s%s, .out0(t%d));\n", m->name, k, src[0],
                m->ports == 2 ? ", .in1(" : "", m->ports == 2 ? src[1] : "", m->ports == 2 ? ")" : "", m->out_tensor);
    }
}

static void emit_top_valid(Buf *b, const HwDesign *r)
{
    if (r->ii == 1)
        out(b, "    reg [%d:0] valid;\n", r->latency - 1);
    out(b, "    always @(posedge clk)\n        if (rst) valid <= %d'h0;\n", r->latency);
    if (r->latency > 1)
        out(b, "        else valid <= {valid[%d:0], in_valid};\n", r->latency - 2);
    else
        out(b, "        else valid <= in_valid;\n");
    out(b, "    assign out_valid = valid[%d];\nendmodule\n", r->latency - 1);
}

int verilog_write_modules(const HwDesign *r, Diag *d, const char *dir, Buf *files)
{
    char path[4096];
    for (size_t k = 0; k < r->nm; k++) {
        if (r->m[k].rnn) {
            if (verilog_write_rnn(r, &r->m[k], d, dir, files) < 0)
                return -1;
            continue;
        }
        Buf b = {0};
        out(&b, "// generated by etchnn %s; do not edit\n`default_nettype none\n", ETCHNN_VERSION);
        if (r->m[k].fold)
            verilog_fold_module(&b, r, &r->m[k]);
        else
            verilog_emit_module(&b, r, &r->m[k]);
        out(&b, "`default_nettype wire\n");
        snprintf(path, sizeof path, "%s/rtl/%s.v", dir, r->m[k].name);
        int w = backend_write_file(d, path, &b);
        buf_free(&b);
        if (w < 0)
            return -1;
        out(files, "%s.v\n", r->m[k].name);
    }
    return 0;
}

int verilog_write(const HwDesign *r, Diag *d, const char *dir)
{
    Buf files = {0};
    char path[4096];
    int rc = -1, flat = 0;
    if (verilog_write_modules(r, d, dir, &files) < 0)
        goto done;
    {
        Buf b = {0};
        out(&b, "// generated by etchnn %s; do not edit\n`default_nettype none\n", ETCHNN_VERSION);
        if (r->g->ninputs != 1 || r->g->noutputs != 1) {
            emit_top_multi(&b, r);
            if (r->ii > 1)
                out(&b, "    reg [%d:0] valid;\n", r->latency - 1);
            emit_top_modules(&b, r);
            emit_top_multi_outputs(&b, r);
            emit_top_valid(&b, r);
            Buf fl = {0};
            out(&fl, "// generated by etchnn %s; do not edit\n`default_nettype none\n", ETCHNN_VERSION);
            emit_flat(&fl, r);
            out(&fl, "`default_nettype wire\n");
            snprintf(path, sizeof path, "%s/rtl/%s_flat.v", dir, r->top);
            int wf = backend_write_file(d, path, &fl);
            buf_free(&fl);
            if (wf < 0) {
                buf_free(&b);
                goto done;
            }
            flat = 1;
        } else {
            emit_top(&b, r);
        }
        out(&b, "`default_nettype wire\n");
        snprintf(path, sizeof path, "%s/rtl/%s.v", dir, r->top);
        int w = backend_write_file(d, path, &b);
        buf_free(&b);
        if (w < 0)
            goto done;
        out(&files, "%s.v\n", r->top);
        if (flat)
            out(&files, "%s_flat.v\n", r->top);
    }
    snprintf(path, sizeof path, "%s/rtl/files.f", dir);
    if (backend_write_file(d, path, &files) < 0)
        goto done;
    rc = 0;
done:
    buf_free(&files);
    return rc;
}
