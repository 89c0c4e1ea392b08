/* verilog_fold.c — writes a folded layer (HwFold, src/hw/fold.c) as a
 * Verilog-2001 module: the input held for R slots, per multiplier an operand
 * pair selected by the slot (weights as constants or read from a ROM), the
 * product rounded to the accumulator LSB, one accumulator per output element,
 * and the result register written after the last slot.
 *
 * Strategy Resource: ROMs of 64 words or more are block RAM (rom_style
 * "block"); shallower ones carry no attribute, and synthesis builds them in
 * LUTs (a block RAM for 2-32 words wastes most of it; Yosys 0.23 rejects
 * rom_style "distributed" on such a ROM).
 *
 * Timing, for an input presented with `start` in cycle c (II >= R apart):
 *   edge c:          xr <= in0, slot counter cnt <= 0
 *   edge c+1+s:      operands of slot s registered (x_j, w_j), s1 <= s
 *   edge c+2+s:      acc_o <= (s1 == 0 ? bias : acc_o) + products of slot s1
 *   edge c+R+1:      y_o <= result(acc after slot R-1): out0 valid in cycle c+R+2 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backends.h"
#include "hw/hw.h"
#include "util/names.h"

/* Node t_j (tw bits, signed) as aw bits: sign-extended or its low bits. */
static void ext(char *s, size_t n, const char *name, int tw, int aw)
{
    if (tw == aw)
        snprintf(s, n, "%s", name);
    else if (tw > aw)
        snprintf(s, n, "%s[%d:0]", name, aw - 1);
    else
        snprintf(s, n, "{{%d{%s[%d]}}, %s}", aw - tw, name, tw - 1, name);
}

void verilog_fold_module(Buf *b, const HwDesign *r, const HwModule *m)
{
    const Graph *g = r->g;
    const HwFold *f = m->fold;
    const Tensor *ti = &g->t[m->in_tensor[0]], *to = &g->t[m->out_tensor];
    long ni = ir_numel(ti), no = m->nout;
    int wi = ti->type.w, wo = to->type.w, R = f->reuse, cw = f->cw;
    int wx = f->wx, ww = f->ww, wp = wx + ww, aw = f->accw;
    int tw = f->pd > 0 ? wp - f->pd + 1 : wp - f->pd;
    char lname[NAMES_TEXT_SIZE], l1[96], l2[96], e1[256];
    buf_printf(b, "// %s: layer '%s' (%s), folded: ReuseFactor %d (a new input every %d clocks), %ld multiplications on "
               "%ld %s multipliers, weights %s; latency %d cycles\n",
               m->name, names_comment(lname, sizeof lname, g->n[m->node].name), op_names[g->n[m->node].op], R, R,
               f->nterm, f->nmult, f->dsp ? "DSP" : "logic", f->rom ? "in ROM (Strategy Resource)" : "as constants",
               m->latency);
    buf_printf(b, "/* verilator lint_off UNUSEDSIGNAL */\n");
    buf_printf(b, "module %s (\n    input wire clk,\n    input wire rst,\n    input wire start,\n"
               "    input wire [%ld:0] in0,\n    output wire [%ld:0] out0\n);\n", m->name, ni * wi - 1, no * wo - 1);
    /* the result: the accumulator's overflow mode on the exact sum, the result cast, a relu */
    FxType acc_int = f->acc;
    acc_int.i = f->acc.w;
    verilog_cast_fn(b, "cast_acc", aw, 0, 1, acc_int);
    verilog_cast_fn(b, "cast_res", f->acc.w, fx_frac(f->acc), f->acc.sign, f->res);
    if (f->relu)
        verilog_cast_fn(b, "cast_relu", f->res.w, fx_frac(f->res), f->res.sign, f->relu_t);
    if (f->pd > 0) {
        FxType rt = {(int16_t)tw, (int16_t)tw, 1, f->acc.q, FXO_WRAP};
        verilog_cast_fn(b, "cast_prod", wp, f->pd, 1, rt);
    }
    buf_printf(b, "    function [%d:0] result;\n        input [%d:0] a;\n        reg [%d:0] y;\n        begin\n"
               "            y = cast_res(cast_acc(a));\n", wo - 1, aw - 1, f->res.w - 1);
    if (f->relu) {
        if (f->res.sign)
            buf_printf(b, "            result = (!y[%d] && (|y)) ? cast_relu(y) : %d'h0;\n", f->res.w - 1, wo);
        else
            buf_printf(b, "            result = (|y) ? cast_relu(y) : %d'h0;\n", wo);
    } else {
        buf_printf(b, "            result = y;\n");
    }
    buf_printf(b, "        end\n    endfunction\n");
    /* the input, held; the slot counter */
    verilog_lit(l1, sizeof l1, cw, R - 1);
    buf_printf(b,
               "    reg [%ld:0] xr;\n    reg [%d:0] cnt;\n    reg run;\n"
               "    always @(posedge clk) begin\n"
               "        if (start)\n            xr <= in0;\n"
               "        if (rst) begin\n            run <= 1'b0;\n            cnt <= %d'h0;\n"
               "        end else if (start) begin\n            run <= 1'b1;\n            cnt <= %d'h0;\n"
               "        end else if (run) begin\n            if (cnt == %s)\n                run <= 1'b0;\n"
               "            cnt <= cnt + %d'h1;\n        end\n    end\n",
               ni * wi - 1, cw - 1, cw, cw, l1, cw);
    buf_printf(b, "    reg [%d:0] s1;\n    reg v1;\n    always @(posedge clk) begin\n        s1 <= cnt;\n"
               "        v1 <= run && !rst;\n    end\n", cw - 1);
    verilog_lit(l2, sizeof l2, cw, 0);
    buf_printf(b, "    wire first = s1 == %s;\n    wire last = v1 && s1 == %s;\n", l2, l1);
    /* operands of each multiplier, slot by slot */
    int group = f->rom_group;
    long depth = 1L << cw;
    for (long j = 0; j < f->nmult; j++) {
        long q0 = j * R;
        buf_printf(b, "    reg [%d:0] x%ld;\n    always @(posedge clk)\n        case (cnt)\n", wx - 1, j);
        for (int s = 0; s < R && q0 + s < f->nterm; s++) {
            long e = f->term[q0 + s].x;
            verilog_lit(l1, sizeof l1, cw, s);
            if (f->sx)
                buf_printf(b, "        %s: x%ld <= xr[%ld:%ld];\n", l1, j, e * wi + wi - 1, e * wi);
            else
                buf_printf(b, "        %s: x%ld <= {1'b0, xr[%ld:%ld]};\n", l1, j, e * wi + wi - 1, e * wi);
        }
        buf_printf(b, "        default: x%ld <= %d'h0;\n        endcase\n", j, wx);
        if (!f->rom) {
            buf_printf(b, "    reg [%d:0] w%ld;\n    always @(posedge clk)\n        case (cnt)\n", ww - 1, j);
            for (int s = 0; s < R && q0 + s < f->nterm; s++) {
                verilog_lit(l1, sizeof l1, cw, s);
                verilog_lit(l2, sizeof l2, ww, f->term[q0 + s].w);
                buf_printf(b, "        %s: w%ld <= %s;\n", l1, j, l2);
            }
            buf_printf(b, "        default: w%ld <= %d'h0;\n        endcase\n", j, ww);
        } else if (j % group == 0) {
            /* Strategy Resource: the weights of `group` multipliers in one ROM word per slot, read registered */
            long k = j / group, n = f->nmult - j < group ? f->nmult - j : group;
            buf_printf(b, "    %sreg [%ld:0] rom%ld [0:%ld];\n    initial begin\n",
                       depth >= 64 ? "(* rom_style = \"block\" *) " : "", n * ww - 1, k, depth - 1);
            for (long s = 0; s < depth; s++) {
                buf_printf(b, "        rom%ld[%ld] = {", k, s);
                for (long i = n - 1; i >= 0; i--) {
                    long q = (j + i) * R + s;
                    verilog_lit(l2, sizeof l2, ww, s < R && q < f->nterm ? f->term[q].w : 0);
                    buf_printf(b, "%s%s", l2, i ? ", " : "};\n");
                }
            }
            buf_printf(b, "    end\n    reg [%ld:0] wr%ld;\n    always @(posedge clk)\n        wr%ld <= rom%ld[cnt];\n",
                       n * ww - 1, k, k, k);
            for (long i = 0; i < n; i++)
                buf_printf(b, "    wire [%d:0] w%ld = wr%ld[%ld:%ld];\n", ww - 1, j + i, k, (i + 1) * ww - 1, i * ww);
        }
        /* the product, exact in wp bits */
        if (f->dsp) {
            /* a signed wx x ww multiplication (one DSP block where it fits), not a wp x wp one */
            buf_printf(b, "    wire signed [%d:0] xs%ld = x%ld;\n    wire signed [%d:0] ws%ld = w%ld;\n", wx - 1, j, j,
                       ww - 1, j, j);
            buf_printf(b, "    (* use_dsp = \"yes\" *) wire signed [%d:0] p%ld;\n    assign p%ld = xs%ld * ws%ld;\n", wp - 1,
                       j, j, j, j);
        } else {
            buf_printf(b, "    wire [%d:0] xe%ld = {{%d{x%ld[%d]}}, x%ld};\n", wp - 1, j, ww, j, wx - 1, j);
            /* as logic: shift-and-add over the weight's bits, the top bit weighing -2^(ww-1) */
            buf_printf(b, "    (* use_dsp = \"no\" *) wire [%d:0] p%ld;\n    assign p%ld =", wp - 1, j, j);
            for (int k = 0; k < ww; k++) {
                if (k)
                    snprintf(e1, sizeof e1, "{xe%ld[%d:0], %d'h0}", j, wp - 1 - k, k);
                else
                    snprintf(e1, sizeof e1, "xe%ld", j);
                buf_printf(b, "%s(w%ld[%d] ? %s : %d'h0)", k == 0 ? " " : k == ww - 1 ? "\n        - " : "\n        + ", j,
                           k, e1, wp);
            }
            buf_printf(b, ";\n");
        }
        if (f->pd > 0)
            buf_printf(b, "    wire [%d:0] t%ld = cast_prod(p%ld);\n", tw - 1, j, j);
        else if (f->pd < 0)
            buf_printf(b, "    wire [%d:0] t%ld = {p%ld, %d'h0};\n", tw - 1, j, j, -f->pd);
        else
            buf_printf(b, "    wire [%d:0] t%ld = p%ld;\n", tw - 1, j, j);
    }
    /* the accumulators, output by output: the terms of output o are a run q in [qa, qb] */
    long qa = 0;
    for (long o = 0; o < no; o++) {
        long qb = qa;
        while (qb < f->nterm && f->term[qb].o == o)
            qb++;
        /* terms qa .. qb-1 */
        verilog_lit(l1, sizeof l1, aw, f->bias[o]);
        if (qb == qa) {
            buf_printf(b, "    wire [%d:0] y%ld = result(%s);\n", wo - 1, o, l1);
            continue;
        }
        buf_printf(b, "    reg [%d:0] acc%ld;\n    wire [%d:0] a%ld = (first ? %s : acc%ld)", aw - 1, o, aw - 1, o, l1, o);
        for (long j = qa / R; j <= (qb - 1) / R; j++) {
            long lo = (qa > j * R ? qa : j * R) - j * R, hi = (qb - 1 < j * R + R - 1 ? qb - 1 : j * R + R - 1) - j * R;
            char tn[32];
            snprintf(tn, sizeof tn, "t%ld", j);
            ext(e1, sizeof e1, tn, tw, aw);
            long fa, fl;
            if (hw_fold_span(f, j, &fa, &fl)) {
                buf_printf(b, "\n        + %s", e1);
                continue;
            }
            char cond[160] = "";
            verilog_lit(l1, sizeof l1, cw, lo);
            verilog_lit(l2, sizeof l2, cw, hi);
            if (lo > 0 && hi < R - 1)
                snprintf(cond, sizeof cond, "s1 >= %s && s1 <= %s", l1, l2);
            else if (lo > 0)
                snprintf(cond, sizeof cond, "s1 >= %s", l1);
            else
                snprintf(cond, sizeof cond, "s1 <= %s", l2);
            buf_printf(b, "\n        + (%s ? %s : %d'h0)", cond, e1, aw);
        }
        buf_printf(b, ";\n    reg [%d:0] y%ld;\n    always @(posedge clk) begin\n        if (v1)\n            acc%ld <= a%ld;\n"
                   "        if (last)\n            y%ld <= result(a%ld);\n    end\n", wo - 1, o, o, o, o, o);
        qa = qb;
    }
    buf_printf(b, "    assign out0 = {");
    for (long o = no - 1; o >= 0; o--)
        buf_printf(b, "y%ld%s", o, o ? ", " : "};\n");
    buf_printf(b, "endmodule\n/* verilator lint_on UNUSEDSIGNAL */\n");
}
