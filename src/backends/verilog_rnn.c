/* verilog_rnn.c — writes a recurrent layer in the static form (HwModule.rnn,
 * hw/rnn_static.h): its cell's modules, each in its own file as verilog.c
 * writes any layer, and the layer's module: the input captured as a shift
 * register of rows, the state registers (zero at the start), the cell, a
 * step sequencer, and the output (the last state, or the sequence of states
 * as a shift register of rows). */
#include <stdio.h>
#include <string.h>

#include "backends/backends.h"
#include "etchnn.h"
#include "hw/hw.h"
#include "hw/rnn_static.h"
#include "util/names.h"

/* The wire carrying tensor t inside the layer's module. */
static void src_name(const HwRnn *q, const Graph *g, int t, char *s, size_t n)
{
    for (;;) {
        if (t == q->xt) {
            snprintf(s, n, "x_t");
            return;
        }
        for (int j = 0; j < q->nstate; j++)
            if (t == q->prev[j]) {
                snprintf(s, n, "st%d", j);
                return;
            }
        int p = g->t[t].producer;
        if (p < 0 || g->n[p].op != OP_RESHAPE)
            break;
        t = g->n[p].in[0];
    }
    snprintf(s, n, "t%d", t);
}

static int bits_for(long v)   /* bits to count 0..v */
{
    int w = 1;
    while ((1L << w) <= v)
        w++;
    return w;
}

static long tensor_bits(const Graph *g, int t)
{
    return ir_numel(&g->t[t]) * g->t[t].type.w;
}

static void emit_layer(Buf *b, const HwDesign *r, const HwModule *m)
{
    const Graph *g = r->g;
    const HwRnn *q = m->rnn;
    long ni = tensor_bits(g, q->x_tensor), no = tensor_bits(g, m->out_tensor), fw = ni / q->T;
    long hw = tensor_bits(g, q->next[0]);
    int sw = bits_for(q->T), kw = bits_for(q->period - 1);
    char lname[NAMES_TEXT_SIZE], c[64];
    buf_printf(b, "// %s: layer '%s' in the static form: one cell reused over %d time steps%s of %d clocks (the cell's "
               "latency %d, then the states registered);\n// start with in0 valid; out0 is valid %d clocks later and "
               "held until the next result; start again at the earliest %d clocks after a start.\n",
               m->name, names_comment(lname, sizeof lname, q->layer), q->T, q->back ? " (last row first)" : "",
               q->period, q->cell_latency, m->latency, q->ii);
    buf_printf(b, "/* verilator lint_off UNUSEDSIGNAL */\nmodule %s (\n    input wire clk,\n    input wire rst,\n"
               "    input wire start,\n    input wire [%ld:0] in0,\n    output wire [%ld:0] out0\n);\n",
               m->name, ni - 1, no - 1);
    buf_printf(b, "    reg busy;\n    reg [%d:0] step;\n", sw - 1);
    if (q->period > 1)
        buf_printf(b, "    reg [%d:0] k;\n", kw - 1);
    buf_printf(b, "    reg [%ld:0] xs;\n", ni - 1);
    if (q->back)
        buf_printf(b, "    wire [%ld:0] x_t = xs[%ld:%ld];\n", fw - 1, ni - 1, ni - fw);
    else
        buf_printf(b, "    wire [%ld:0] x_t = xs[%ld:0];\n", fw - 1, fw - 1);
    for (int j = 0; j < q->nstate; j++)
        buf_printf(b, "    reg [%ld:0] st%d;\n", tensor_bits(g, q->prev[j]) - 1, j);
    if (q->period > 1) {
        verilog_lit(c, sizeof c, kw, q->period - 1);
        buf_printf(b, "    wire last = busy && k == %s;\n", c);
    } else {
        buf_printf(b, "    wire last = busy;\n");
    }
    verilog_lit(c, sizeof c, sw, q->T - 1);
    buf_printf(b, "    wire done = last && step == %s;\n", c);
    /* the cell */
    const HwDesign *cd = &q->cell;
    for (size_t k = 0; k < cd->nm; k++) {
        const HwModule *cm = &cd->m[k];
        char s0[64], s1[64];
        src_name(q, g, cm->in_tensor[0], s0, sizeof s0);
        if (cm->ports == 2)
            src_name(q, g, cm->in_tensor[1], s1, sizeof s1);
        buf_printf(b, "    wire [%ld:0] t%d;\n", tensor_bits(g, cm->out_tensor) - 1, cm->out_tensor);
        if (cm->fold) {   /* a shared Dense: started in the step's clock its input is ready (P > R + 2 > 1) */
            verilog_lit(c, sizeof c, kw, cd->tensor_cycle[cm->in_tensor[0]]);
            buf_printf(b, "    %s c%zu (.clk(clk), .rst(rst), .start(busy && k == %s), .in0(%s), .out0(t%d));\n",
                       cm->name, k, c, s0, cm->out_tensor);
        } else {
            buf_printf(b, "    %s c%zu (.clk(clk), .in0(%s)%s%s%s, .out0(t%d));\n", cm->name, k, s0,
                       cm->ports == 2 ? ", .in1(" : "", cm->ports == 2 ? s1 : "", cm->ports == 2 ? ")" : "",
                       cm->out_tensor);
        }
    }
    /* the sequencer: start captures the input and zeroes the states; each step's last clock registers them */
    buf_printf(b, "    always @(posedge clk)\n        if (rst) busy <= 1'b0;\n        else if (start) busy <= 1'b1;\n"
               "        else if (done) busy <= 1'b0;\n");
    buf_printf(b, "    always @(posedge clk)\n        if (start) begin\n            xs <= in0;\n");
    for (int j = 0; j < q->nstate; j++)
        buf_printf(b, "            st%d <= %ld'h0;\n", j, tensor_bits(g, q->prev[j]));
    buf_printf(b, "            step <= %d'h0;\n", sw);
    if (q->period > 1)
        buf_printf(b, "            k <= %d'h0;\n", kw);
    buf_printf(b, "        end else if (last) begin\n");
    if (q->back)
        buf_printf(b, "            xs <= {xs[%ld:0], %ld'h0};\n", ni - fw - 1, fw);
    else
        buf_printf(b, "            xs <= {%ld'h0, xs[%ld:%ld]};\n", fw, ni - 1, fw);
    for (int j = 0; j < q->nstate; j++) {
        char nx[64];
        src_name(q, g, q->next[j], nx, sizeof nx);
        buf_printf(b, "            st%d <= %s;\n", j, nx);
    }
    verilog_lit(c, sizeof c, sw, 1);
    buf_printf(b, "            step <= step + %s;\n", c);
    if (q->period > 1) {
        buf_printf(b, "            k <= %d'h0;\n", kw);
        verilog_lit(c, sizeof c, kw, 1);
        buf_printf(b, "        end else if (busy) begin\n            k <= k + %s;\n", c);
    }
    buf_printf(b, "        end\n");
    char h[64];
    src_name(q, g, q->next[0], h, sizeof h);
    buf_printf(b, "    reg [%ld:0] o;\n", no - 1);
    if (q->seq)   /* row s: the state after step s; the last row shifted in last */
        buf_printf(b, "    always @(posedge clk)\n        if (last) o <= {%s, o[%ld:%ld]};\n", h, no - 1, hw);
    else
        buf_printf(b, "    always @(posedge clk)\n        if (done) o <= %s;\n", h);
    buf_printf(b, "    assign out0 = o;\nendmodule\n/* verilator lint_on UNUSEDSIGNAL */\n");
}

int verilog_write_rnn(const HwDesign *r, const HwModule *m, Diag *d, const char *dir, Buf *files)
{
    char path[4096];
    const HwDesign *cd = &m->rnn->cell;
    for (size_t k = 0; k <= cd->nm; k++) {
        Buf b = {0};
        const HwModule *w = k < cd->nm ? &cd->m[k] : m;
        buf_printf(&b, "// generated by etchnn %s; do not edit\n`default_nettype none\n", ETCHNN_VERSION);
        if (k < cd->nm && w->fold)
            verilog_fold_module(&b, cd, w);
        else if (k < cd->nm)
            verilog_emit_module(&b, cd, w);
        else
            emit_layer(&b, r, m);
        buf_printf(&b, "`default_nettype wire\n");
        snprintf(path, sizeof path, "%s/rtl/%s.v", dir, w->name);
        int rc = backend_write_file(d, path, &b);
        buf_free(&b);
        if (rc < 0)
            return -1;
        buf_printf(files, "%s.v\n", w->name);
    }
    return 0;
}
