/* verilog_stream.c — writes the io_stream circuit (src/hw/stream.h) as
 * Verilog: per stage its counters, line buffer or FIFOs and kernel instance,
 * the collectors, the whole-image part, the top; and, through testbench.c
 * and report.c, the Icarus test bench and the report. */
#include "backends/stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backends.h"
#include "backends/testbench.h"
#include "etchnn.h"
#include "tools/emulate.h"
#include "util/names.h"

/* ---- Verilog ----------------------------------------------------------------- */

static const char *L(char *s, int w, long long v)
{
    snprintf(s, 48, "%d'd%lld", w, v);
    return s;
}

/* the tensor that carries t's bits in the top (reshapes are wiring) */
static int carrier(const Graph *f, int t)
{
    while (f->t[t].producer >= 0 && f->n[f->t[t].producer].op == OP_RESHAPE && !f->n[f->t[t].producer].dead)
        t = f->n[f->t[t].producer].in[0];
    return t;
}

/* A stage's layer name for a comment. */
static const char *stage_name(char *buf, size_t n, const Stream *s, const Stage *st)
{
    return names_comment(buf, n, s->g->n[st->node].name);
}

static void emit_window(Buf *b, const Stream *s, size_t i)
{
    const Stage *st = &s->st[i];
    const HwModule *m = &s->rtl.m[st->module];
    char l1[48], l2[48], l3[48], l4[48], ln[NAMES_TEXT_SIZE];
    int wy = stream_bits(st->Gh + st->y0 + 1 + (long)st->OH * st->sh);
    int wx = stream_bits(st->Gw + st->x0 + 1 + (long)st->OW * st->sw);
    int woy = stream_bits(st->OH), wox = stream_bits(st->OW);
    int cw = st->cw, in = st->in;
    long N = st->N;
    buf_printf(b, "    // stage %zu: '%s' (%s) over a %dx%d grid (input %dx%d, padding top %d left %d), window %dx%d, "
                  "stride %dx%d; line buffer of %ld pixels\n", i, stage_name(ln, sizeof ln, s, st), op_names[s->g->n[st->node].op],
               st->Gh, st->Gw, st->H, st->W, st->pt, st->pl, st->kh, st->kw, st->sh, st->sw, N);
    buf_printf(b, "    reg [%d:0] k%zu_gy, k%zu_ny;\n    reg [%d:0] k%zu_gx, k%zu_nx;\n", wy - 1, i, i, wx - 1, i, i);
    buf_printf(b, "    reg [%d:0] k%zu_oy;\n    reg [%d:0] k%zu_ox;\n    reg k%zu_fire;\n", woy - 1, i, wox - 1, i, i);
    buf_printf(b, "    reg [%ld:0] k%zu_lb;\n", N * cw - 1, i);
    /* real: the grid position is an input pixel */
    Buf real = {0};
    if (st->pt > 0)
        buf_printf(&real, " && k%zu_gy >= %s", i, L(l1, wy, st->pt));
    if (st->Gh > st->pt + st->H)
        buf_printf(&real, " && k%zu_gy < %s", i, L(l1, wy, st->pt + st->H));
    if (st->pl > 0)
        buf_printf(&real, " && k%zu_gx >= %s", i, L(l1, wx, st->pl));
    if (st->Gw > st->pl + st->W)
        buf_printf(&real, " && k%zu_gx < %s", i, L(l1, wx, st->pl + st->W));
    buf_printf(b, "    wire k%zu_real = %s;\n", i, real.data ? real.data + 4 : "1'b1");
    buf_free(&real);
    if (st->fifo)
        buf_printf(b, "    wire k%zu_can;\n", i);
    const char *can = st->fifo ? NULL : "1'b1";
    char canb[32];
    if (!can) {
        snprintf(canb, sizeof canb, "k%zu_can", i);
        can = canb;
    }
    if (st->reuse > 1) {
        /* hit: the position is an output (a window); comes first, for k_go */
        buf_printf(b, "    wire k%zu_hit = k%zu_gy == k%zu_ny && k%zu_oy != %s && k%zu_gx == k%zu_nx && k%zu_ox != %s;\n", i, i, i,
                   i, L(l1, woy, st->OH), i, i, i, L(l2, wox, st->OW));
        buf_printf(b, "    // the kernel is folded (ReuseFactor %d): it takes a window every %d clocks; k%zu_cool counts its\n"
                      "    // busy clocks, and the stage waits at an output position while they last\n",
                   st->reuse, st->reuse, i);
        buf_printf(b, "    reg [%d:0] k%zu_cool;\n    wire k%zu_go = %s & !(k%zu_hit & (k%zu_cool != %s));\n",
                   stream_bits(st->reuse - 1) - 1, i, i, can, i, i, L(l1, stream_bits(st->reuse - 1), 0));
        snprintf(canb, sizeof canb, "k%zu_go", i);
        can = canb;
    }
    buf_printf(b, "    assign k%zu_rdy = %s & k%zu_real;\n", i, can, i);
    buf_printf(b, "    wire k%zu_adv = %s & (k%zu_real ? (s%d_v & s%d_r) : 1'b1);\n", i, can, i, in, in);
    if (st->reuse <= 1)
        buf_printf(b, "    wire k%zu_hit = k%zu_gy == k%zu_ny && k%zu_oy != %s && k%zu_gx == k%zu_nx && k%zu_ox != %s;\n", i, i, i,
                   i, L(l1, woy, st->OH), i, i, i, L(l2, wox, st->OW));
    /* the pixel shifted in */
    if (st->padded) {
        Buf pv = {0};
        int we = st->cw / st->C;
        uint64_t u = (uint64_t)st->pad;
        if (we < 64)
            u &= (UINT64_C(1) << we) - 1u;
        for (int c = st->C - 1; c >= 0; c--)
            buf_printf(&pv, "%s%d'h%llx", c == st->C - 1 ? "" : ", ", we, (unsigned long long)u);
        buf_printf(b, "    wire [%d:0] k%zu_px = k%zu_real ? s%d_d : {%s};\n", cw - 1, i, i, in, pv.data);
        buf_free(&pv);
    } else {
        buf_printf(b, "    wire [%d:0] k%zu_px = s%d_d;\n", cw - 1, i, in);
    }
    if (N > 1)
        buf_printf(b, "    always @(posedge clk)\n        if (k%zu_adv) k%zu_lb <= {k%zu_lb[%ld:0], k%zu_px};\n", i, i, i,
                   (N - 1) * cw - 1, i);
    else
        buf_printf(b, "    always @(posedge clk)\n        if (k%zu_adv) k%zu_lb <= k%zu_px;\n", i, i, i);
    buf_printf(b, "    always @(posedge clk)\n        if (rst) begin\n");
    buf_printf(b, "            k%zu_gy <= %s; k%zu_gx <= %s; k%zu_ny <= %s; k%zu_nx <= %s;\n", i, L(l1, wy, 0), i,
               L(l2, wx, 0), i, L(l3, wy, st->y0), i, L(l4, wx, st->x0));
    buf_printf(b, "            k%zu_oy <= %s; k%zu_ox <= %s; k%zu_fire <= 1'b0;\n        end else begin\n", i, L(l1, woy, 0),
               i, L(l2, wox, 0), i);
    buf_printf(b, "            k%zu_fire <= k%zu_adv & k%zu_hit;\n            if (k%zu_adv) begin\n", i, i, i, i);
    buf_printf(b, "                if (k%zu_gx == %s) begin\n", i, L(l1, wx, st->Gw - 1));
    buf_printf(b, "                    k%zu_gx <= %s; k%zu_nx <= %s; k%zu_ox <= %s;\n", i, L(l1, wx, 0), i,
               L(l2, wx, st->x0), i, L(l3, wox, 0));
    buf_printf(b, "                    if (k%zu_gy == %s) begin\n", i, L(l1, wy, st->Gh - 1));
    buf_printf(b, "                        k%zu_gy <= %s; k%zu_ny <= %s; k%zu_oy <= %s;\n", i, L(l1, wy, 0), i,
               L(l2, wy, st->y0), i, L(l3, woy, 0));
    buf_printf(b, "                    end else begin\n                        k%zu_gy <= k%zu_gy + %s;\n", i, i, L(l1, wy, 1));
    buf_printf(b, "                        if (k%zu_gy == k%zu_ny && k%zu_oy != %s) begin\n", i, i, i, L(l1, woy, st->OH));
    buf_printf(b, "                            k%zu_ny <= k%zu_ny + %s; k%zu_oy <= k%zu_oy + %s;\n", i, i, L(l1, wy, st->sh), i,
               i, L(l2, woy, 1));
    buf_printf(b, "                        end\n                    end\n                end else begin\n");
    buf_printf(b, "                    k%zu_gx <= k%zu_gx + %s;\n", i, i, L(l1, wx, 1));
    buf_printf(b, "                    if (k%zu_gx == k%zu_nx && k%zu_ox != %s) begin\n", i, i, i, L(l1, wox, st->OW));
    buf_printf(b, "                        k%zu_nx <= k%zu_nx + %s; k%zu_ox <= k%zu_ox + %s;\n", i, i, L(l1, wx, st->sw), i, i,
               L(l2, wox, 1));
    buf_printf(b, "                    end\n                end\n            end\n        end\n");
    /* the window: tap t = ky*kw + kx at bits [t*cw +: cw] */
    long taps = (long)st->kh * st->kw;
    buf_printf(b, "    wire [%ld:0] k%zu_win = {", taps * cw - 1, i);
    for (long t = taps - 1; t >= 0; t--) {
        long ky = t / st->kw, kx = t % st->kw;
        long off = (long)(st->KH - 1 - ky * st->dh) * st->Gw + (st->KW - 1 - kx * st->dw);
        buf_printf(b, "k%zu_lb[%ld:%ld]%s", i, off * cw + cw - 1, off * cw, t ? ", " : "};\n");
    }
    buf_printf(b, "    wire [%d:0] k%zu_y;\n    %s u_k%zu (.clk(clk), %s.in0(k%zu_win), .out0(k%zu_y));\n", st->ow - 1, i,
               m->name, i, st->reuse > 1 ? (snprintf(l4, sizeof l4, ".rst(rst), .start(k%zu_fire), ", i), l4) : "", i, i);
    buf_printf(b, "    wire k%zu_f = k%zu_fire;\n    wire k%zu_res = k%zu_adv & k%zu_hit;\n", i, i, i, i, i);
    if (st->reuse > 1) {
        int wc = stream_bits(st->reuse - 1);
        buf_printf(b, "    always @(posedge clk)\n        if (rst) k%zu_cool <= %s;\n", i, L(l1, wc, 0));
        buf_printf(b, "        else k%zu_cool <= k%zu_res ? %s : k%zu_cool != %s ? k%zu_cool - %s : %s;\n", i, i,
                   L(l1, wc, st->reuse - 1), i, L(l2, wc, 0), i, L(l3, wc, 1), L(l4, wc, 0));
    }
}

static void emit_up(Buf *b, const Stream *s, size_t i)
{
    const Stage *st = &s->st[i];
    const HwModule *m = &s->rtl.m[st->module];
    int cw = st->cw, in = st->in;
    int wk = stream_bits(st->sw), wc = stream_bits(st->W), wr = stream_bits(st->sh);
    char l1[48], l2[48], l3[48], ln[NAMES_TEXT_SIZE];
    buf_printf(b, "    // stage %zu: '%s' (%s), nearest x%d x%d of %dx%d: each pixel %d times, each row %d times (row "
                  "buffer of %d pixels)\n", i, stage_name(ln, sizeof ln, s, st), op_names[s->g->n[st->node].op], st->sh, st->sw,
               st->H, st->W, st->sw, st->sh, st->sh > 1 ? st->W : 0);
    buf_printf(b, "    reg [%d:0] k%zu_k;\n    reg [%d:0] k%zu_col;\n    reg [%d:0] k%zu_r;\n    reg [%d:0] k%zu_cur;\n",
               wk - 1, i, wc - 1, i, wr - 1, i, cw - 1, i);
    const char *can = "1'b1";
    char canb[32];
    if (st->fifo) {
        buf_printf(b, "    wire k%zu_can;\n", i);
        snprintf(canb, sizeof canb, "k%zu_can", i);
        can = canb;
    }
    buf_printf(b, "    wire k%zu_first = k%zu_k == %s;\n", i, i, L(l1, wk, 0));
    buf_printf(b, "    wire k%zu_need = k%zu_r == %s && k%zu_first;\n", i, i, L(l1, wr, 0), i);
    buf_printf(b, "    assign k%zu_rdy = %s & k%zu_need;\n", i, can, i);
    buf_printf(b, "    wire k%zu_f = %s & (k%zu_need ? (s%d_v & s%d_r) : 1'b1);\n    wire k%zu_res = k%zu_f;\n", i, can, i, in,
               in, i, i);
    if (st->sh > 1) {
        long rb = (long)st->W * cw;
        buf_printf(b, "    reg [%ld:0] k%zu_rb;\n", rb - 1, i);
        buf_printf(b, "    wire [%d:0] k%zu_head = k%zu_rb[%ld:%ld];\n", cw - 1, i, i, rb - 1, rb - cw);
        buf_printf(b, "    wire [%d:0] k%zu_px = !k%zu_first ? k%zu_cur : k%zu_need ? s%d_d : k%zu_head;\n", cw - 1, i, i, i,
                   i, in, i);
        if (st->W > 1)
            buf_printf(b, "    always @(posedge clk)\n        if (k%zu_f & k%zu_first) k%zu_rb <= {k%zu_rb[%ld:0], k%zu_px};\n",
                       i, i, i, i, rb - cw - 1, i);
        else
            buf_printf(b, "    always @(posedge clk)\n        if (k%zu_f & k%zu_first) k%zu_rb <= k%zu_px;\n", i, i, i, i);
    } else {
        buf_printf(b, "    wire [%d:0] k%zu_px = k%zu_need ? s%d_d : k%zu_cur;\n", cw - 1, i, i, in, i);
    }
    buf_printf(b, "    always @(posedge clk)\n        if (k%zu_f) k%zu_cur <= k%zu_px;\n", i, i, i);
    buf_printf(b, "    always @(posedge clk)\n        if (rst) begin\n            k%zu_k <= %s; k%zu_col <= %s; k%zu_r <= %s;\n"
                  "        end else if (k%zu_f) begin\n", i, L(l1, wk, 0), i, L(l2, wc, 0), i, L(l3, wr, 0), i);
    buf_printf(b, "            if (k%zu_k == %s) begin\n                k%zu_k <= %s;\n", i, L(l1, wk, st->sw - 1), i, L(l2, wk, 0));
    buf_printf(b, "                if (k%zu_col == %s) begin\n                    k%zu_col <= %s;\n", i, L(l1, wc, st->W - 1), i,
               L(l2, wc, 0));
    buf_printf(b, "                    k%zu_r <= k%zu_r == %s ? %s : k%zu_r + %s;\n", i, i, L(l1, wr, st->sh - 1), L(l2, wr, 0), i,
               L(l3, wr, 1));
    buf_printf(b, "                end else begin\n                    k%zu_col <= k%zu_col + %s;\n                end\n", i, i,
               L(l1, wc, 1));
    buf_printf(b, "            end else begin\n                k%zu_k <= k%zu_k + %s;\n            end\n        end\n", i, i,
               L(l1, wk, 1));
    buf_printf(b, "    wire [%d:0] k%zu_y;\n    %s u_k%zu (.clk(clk), .in0(k%zu_px), .out0(k%zu_y));\n", st->ow - 1, i,
               m->name, i, i, i);
}

/* a FIFO of depth D fed by stream tensor t (push when taken), read at its head */
static void emit_in_fifo(Buf *b, const char *nm, long D, int w, int t, const char *rdy)
{
    int pw = stream_bits(D - 1), cwid = stream_bits(D);
    char z[48], c[48], one[48], dd[48], zc[48], onec[48];
    L(z, pw, 0);
    L(c, pw, D - 1);
    L(one, pw, 1);
    L(dd, cwid, D);
    L(zc, cwid, 0);
    L(onec, cwid, 1);
    buf_printf(b, "    reg [%d:0] %s [0:%ld];\n    reg [%d:0] %s_wp, %s_rp;\n    reg [%d:0] %s_n;\n", w - 1, nm, D - 1,
               pw - 1, nm, nm, cwid - 1, nm);
    buf_printf(b, "    assign %s = %s_n < %s;\n    wire %s_push = s%d_v & s%d_r;\n", rdy, nm, dd, nm, t, t);
    buf_printf(b, "    always @(posedge clk)\n        if (%s_push) %s[%s_wp] <= s%d_d;\n", nm, nm, nm, t);
    buf_printf(b, "    always @(posedge clk)\n        if (rst) begin\n            %s_wp <= %s; %s_rp <= %s; %s_n <= %s;\n"
                  "        end else begin\n", nm, z, nm, z, nm, zc);
    buf_printf(b, "            if (%s_push) %s_wp <= %s_wp == %s ? %s : %s_wp + %s;\n", nm, nm, nm, c, z, nm, one);
    buf_printf(b, "            if (%s_pop) %s_rp <= %s_rp == %s ? %s : %s_rp + %s;\n", nm, nm, nm, c, z, nm, one);
    buf_printf(b, "            if (%s_push & !%s_pop) %s_n <= %s_n + %s;\n", nm, nm, nm, nm, onec);
    buf_printf(b, "            else if (!%s_push & %s_pop) %s_n <= %s_n - %s;\n        end\n", nm, nm, nm, nm, onec);
    buf_printf(b, "    wire %s_ne = %s_n != %s;\n", nm, nm, zc);
}

static void emit_merge(Buf *b, const Stream *s, size_t i)
{
    const Stage *st = &s->st[i];
    const HwModule *m = &s->rtl.m[st->module];
    char ln[NAMES_TEXT_SIZE];
    buf_printf(b, "    // stage %zu: '%s' (%s) of two streams, per pixel; input FIFOs of %ld and %ld pixels (the deepest\n"
                  "    // the cycle model fills, plus two) let the earlier stream run ahead\n", i, stage_name(ln, sizeof ln, s, st),
               op_names[s->g->n[st->node].op], st->qa, st->qb);
    char nm[32], nm2[32], r1[32], r2[32];
    snprintf(nm, sizeof nm, "k%zu_qa", i);
    snprintf(nm2, sizeof nm2, "k%zu_qb", i);
    snprintf(r1, sizeof r1, "k%zu_rdy", i);
    snprintf(r2, sizeof r2, "k%zu_rdy2", i);
    if (st->fifo)
        buf_printf(b, "    wire k%zu_can;\n", i);
    buf_printf(b, "    wire k%zu_f;\n    wire k%zu_qa_pop = k%zu_f;\n    wire k%zu_qb_pop = k%zu_f;\n", i, i, i, i, i);
    emit_in_fifo(b, nm, st->qa, st->cw, st->in, r1);
    emit_in_fifo(b, nm2, st->qb, st->cw2, st->in2, r2);
    char can[32];
    snprintf(can, sizeof can, st->fifo ? "k%zu_can" : "1'b1", i);
    buf_printf(b, "    assign k%zu_f = %s & k%zu_qa_ne & k%zu_qb_ne;\n    wire k%zu_res = k%zu_f;\n", i, can, i, i, i, i);
    buf_printf(b, "    wire [%d:0] k%zu_y;\n    %s u_k%zu (.clk(clk), .in0(k%zu_qa[k%zu_qa_rp]), .in1(k%zu_qb[k%zu_qb_rp]), "
                  ".out0(k%zu_y));\n", st->ow - 1, i, m->name, i, i, i, i, i, i);
}

static void emit_point(Buf *b, const Stream *s, size_t i)
{
    const Stage *st = &s->st[i];
    const HwModule *m = &s->rtl.m[st->module];
    char ln[NAMES_TEXT_SIZE];
    buf_printf(b, "    // stage %zu: '%s' (%s), per pixel\n", i, stage_name(ln, sizeof ln, s, st), op_names[s->g->n[st->node].op]);
    if (st->fifo)
        buf_printf(b, "    wire k%zu_can;\n    assign k%zu_rdy = k%zu_can;\n", i, i, i);
    else
        buf_printf(b, "    assign k%zu_rdy = 1'b1;\n", i);
    buf_printf(b, "    wire k%zu_f = s%d_v & s%d_r;\n    wire k%zu_res = k%zu_f;\n", i, st->in, st->in, i, i);
    buf_printf(b, "    wire [%d:0] k%zu_y;\n    %s u_k%zu (.clk(clk), .in0(s%d_d), .out0(k%zu_y));\n", st->ow - 1, i,
               m->name, i, st->in, i);
}

/* the valid pipeline and the output register or FIFO of stage i */
static void emit_stage_out(Buf *b, const Stream *s, size_t i)
{
    const Stage *st = &s->st[i];
    int lat = st->lat, o = st->out;
    char l1[48];
    if (!st->fifo) {
        buf_printf(b, "    /* verilator lint_off UNUSEDSIGNAL */\n    wire k%zu_res_unused = k%zu_res;\n"
                      "    /* verilator lint_on UNUSEDSIGNAL */\n", i, i);
        buf_printf(b, "    reg [%d:0] k%zu_vp;\n    always @(posedge clk)\n        if (rst) k%zu_vp <= %s;\n", lat, i, i,
                   L(l1, lat + 1, 0));
        if (lat)
            buf_printf(b, "        else k%zu_vp <= {k%zu_vp[%d:0], k%zu_f};\n", i, i, lat - 1, i);
        else
            buf_printf(b, "        else k%zu_vp <= k%zu_f;\n", i, i);
        buf_printf(b, "    reg [%d:0] k%zu_o;\n    always @(posedge clk) k%zu_o <= k%zu_y;\n", st->ow - 1, i, i, i);
        buf_printf(b, "    assign s%d_v = k%zu_vp[%d];\n    assign s%d_d = k%zu_o;\n", o, i, lat, o, i);
        return;
    }
    int D = st->fifo, pw = stream_bits(D - 1), cwid = stream_bits(D);
    if (lat) {
        buf_printf(b, "    reg [%d:0] k%zu_vp;\n    always @(posedge clk)\n        if (rst) k%zu_vp <= %s;\n", lat - 1, i, i,
                   L(l1, lat, 0));
        if (lat > 1)
            buf_printf(b, "        else k%zu_vp <= {k%zu_vp[%d:0], k%zu_f};\n", i, i, lat - 2, i);
        else
            buf_printf(b, "        else k%zu_vp <= k%zu_f;\n", i, i);
        buf_printf(b, "    wire k%zu_kv = k%zu_vp[%d];\n", i, i, lat - 1);
    } else {
        buf_printf(b, "    wire k%zu_kv = k%zu_f;\n", i, i);
    }
    char a[48], c[48], z[48], one[48];
    buf_printf(b, "    // output FIFO of %d (a later stage may hold this one back; the credit counter k%zu_occ\n"
                  "    // counts pixels in the FIFO and in flight, so it never overflows)\n", D, i);
    buf_printf(b, "    reg [%d:0] k%zu_q [0:%d];\n    reg [%d:0] k%zu_wp, k%zu_rp;\n    reg [%d:0] k%zu_cnt, k%zu_occ;\n",
               st->ow - 1, i, D - 1, pw - 1, i, i, cwid - 1, i, i);
    buf_printf(b, "    wire k%zu_pop = s%d_v & s%d_r;\n    assign s%d_v = k%zu_cnt != %s;\n    assign s%d_d = k%zu_q[k%zu_rp];\n",
               i, o, o, o, i, L(z, cwid, 0), o, i, i);
    buf_printf(b, "    assign k%zu_can = k%zu_occ < %s;\n", i, i, L(a, cwid, D));
    buf_printf(b, "    always @(posedge clk)\n        if (k%zu_kv) k%zu_q[k%zu_wp] <= k%zu_y;\n", i, i, i, i);
    L(z, pw, 0);
    L(c, pw, D - 1);
    L(one, pw, 1);
    buf_printf(b, "    always @(posedge clk)\n        if (rst) begin\n            k%zu_wp <= %s; k%zu_rp <= %s; k%zu_cnt <= %s; "
                  "k%zu_occ <= %s;\n        end else begin\n", i, z, i, z, i, L(a, cwid, 0), i, a);
    buf_printf(b, "            if (k%zu_kv) k%zu_wp <= k%zu_wp == %s ? %s : k%zu_wp + %s;\n", i, i, i, c, z, i, one);
    buf_printf(b, "            if (k%zu_pop) k%zu_rp <= k%zu_rp == %s ? %s : k%zu_rp + %s;\n", i, i, i, c, z, i, one);
    L(one, cwid, 1);
    buf_printf(b, "            if (k%zu_kv & !k%zu_pop) k%zu_cnt <= k%zu_cnt + %s;\n", i, i, i, i, one);
    buf_printf(b, "            else if (!k%zu_kv & k%zu_pop) k%zu_cnt <= k%zu_cnt - %s;\n", i, i, i, i, one);
    buf_printf(b, "            if (k%zu_res & !k%zu_pop) k%zu_occ <= k%zu_occ + %s;\n", i, i, i, i, one);
    buf_printf(b, "            else if (!k%zu_res & k%zu_pop) k%zu_occ <= k%zu_occ - %s;\n        end\n", i, i, i, i, one);
}

static void emit_collector(Buf *b, const Stream *s, size_t j)
{
    const Collector *c = &s->col[j];
    int t = c->tensor, cw = c->cw;
    long P = c->P;
    char l1[48], l2[48];
    int multi = s->ncol > 1;
    char tn[NAMES_TEXT_SIZE];
    buf_printf(b, "    // collector %zu: the %ld pixels of '%s' into one vector (pixel p at bits [p*%d +: %d])\n", j, P,
               names_comment(tn, sizeof tn, s->g->t[t].name), cw, cw);
    buf_printf(b, "    wire c%zu_take = s%d_v & s%d_r;\n", j, t, t);
    if (P > 1) {
        int wn = stream_bits(P - 1);
        buf_printf(b, "    reg [%d:0] c%zu_n;\n    wire c%zu_last = c%zu_n == %s;\n", wn - 1, j, j, j, L(l1, wn, P - 1));
        buf_printf(b, "    always @(posedge clk)\n        if (rst) c%zu_n <= %s;\n", j, L(l1, wn, 0));
        buf_printf(b, "        else if (c%zu_take) c%zu_n <= c%zu_last ? %s : c%zu_n + %s;\n", j, j, j, L(l1, wn, 0), j,
                   L(l2, wn, 1));
        buf_printf(b, "    reg [%ld:0] c%zu_sr;\n", (P - 1) * cw - 1, j);
        if (P > 2)
            buf_printf(b, "    always @(posedge clk)\n        if (c%zu_take) c%zu_sr <= {s%d_d, c%zu_sr[%ld:%d]};\n", j, j, t, j,
                       (P - 1) * cw - 1, cw);
        else
            buf_printf(b, "    always @(posedge clk)\n        if (c%zu_take) c%zu_sr <= s%d_d;\n", j, j, t);
        buf_printf(b, "    wire [%ld:0] c%zu_vec = {s%d_d, c%zu_sr};\n", P * cw - 1, j, t, j);
    } else {
        buf_printf(b, "    wire c%zu_last = 1'b1;\n    wire [%d:0] c%zu_vec = s%d_d;\n", j, cw - 1, j, t);
    }
    buf_printf(b, "    wire c%zu_done = c%zu_take & c%zu_last;\n", j, j, j);
    if (multi) {
        buf_printf(b, "    reg c%zu_pend;\n    reg [%ld:0] c%zu_hold;\n", j, P * cw - 1, j);
        if (s->pii > 1)
            buf_printf(b, "    assign c%zu_rdy = !(c%zu_last & (c%zu_pend | pbusy));\n", j, j, j);
        else
            buf_printf(b, "    assign c%zu_rdy = !(c%zu_pend & c%zu_last);\n", j, j, j);
        buf_printf(b, "    wire c%zu_av = c%zu_pend | c%zu_done;\n", j, j, j);
        buf_printf(b, "    wire [%ld:0] c%zu_cur = c%zu_pend ? c%zu_hold : c%zu_vec;\n", P * cw - 1, j, j, j, j);
        buf_printf(b, "    always @(posedge clk)\n        if (rst) c%zu_pend <= 1'b0;\n        else if (pfire) c%zu_pend <= 1'b0;\n"
                      "        else if (c%zu_done) c%zu_pend <= 1'b1;\n", j, j, j, j);
        buf_printf(b, "    always @(posedge clk)\n        if (c%zu_done) c%zu_hold <= c%zu_vec;\n", j, j, j);
    } else {
        if (s->pii > 1)
            buf_printf(b, "    assign c%zu_rdy = !(c%zu_last & pbusy);\n", j, j);
        else
            buf_printf(b, "    assign c%zu_rdy = 1'b1;\n", j);
        buf_printf(b, "    wire c%zu_av = c%zu_done;\n    wire [%ld:0] c%zu_cur = c%zu_vec;\n", j, j, P * cw - 1, j, j);
    }
}

/* a stream tensor with handshake wires: the input or a stage's output */
static int wired(const Stream *s, int t)
{
    if (t == s->in_tensor)
        return 1;
    for (size_t i = 0; i < s->nst; i++)
        if (s->st[i].out == t)
            return 1;
    return 0;
}

static void emit_top(Buf *b, const Stream *s, const StreamTiming *tm)
{
    const Graph *g = s->g, *f = &s->fg;
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    int win = s->C0 * ti->type.w;
    long wo = ir_numel(to) * to->type.w;
    char tin[64], tout[64];
    fx_format(ti->type, tin, sizeof tin);
    fx_format(to->type, tout, sizeof tout);
    buf_printf(b, "// %s: generated by etchnn %s, io_stream. One pixel per clock: in_data holds the %d channel(s) of one\n"
                  "// position (%s, channel c in bits [c*%d +: %d]), positions in raster order, %ld per image; a pixel\n"
                  "// is taken on a clock edge where in_valid and in_ready are high.  out_valid pulses once per image with\n"
                  "// out_data: %ld x %s, element k in bits [k*%d +: %d].  Back to back at full rate: %ld cycles from an\n"
                  "// image's first pixel to its output, %ld from its last, one image every %ld cycles.\n",
               s->rtl.top, ETCHNN_VERSION, s->C0, tin, ti->type.w, ti->type.w, s->P0, ir_numel(to), tout, to->type.w,
               to->type.w, tm->lat_first, tm->lat_last, tm->ii);
    buf_printf(b, "module %s (\n    input wire clk,\n    input wire rst,\n    input wire in_valid,\n    output wire in_ready,\n"
                  "    input wire [%d:0] in_data,\n    output wire out_valid,\n    output wire [%ld:0] out_data\n);\n",
               s->rtl.top, win - 1, wo - 1);
    /* stream tensors */
    for (size_t t = 0; t < g->nt; t++) {
        if (!s->is_stream[t] || !wired(s, (int)t))
            continue;
        int h, w, c;
        ir_hwc(&g->t[t], &h, &w, &c);
        char tn[NAMES_TEXT_SIZE];
        buf_printf(b, "    wire s%zu_v, s%zu_r;\n    wire [%d:0] s%zu_d;   // '%s': %dx%d pixels of %d\n", t, t,
                   c * g->t[t].type.w - 1, t, names_comment(tn, sizeof tn, g->t[t].name), h, w, c);
    }
    for (size_t i = 0; i < s->nst; i++)
        buf_printf(b, "    wire k%zu_rdy;\n", i);
    for (size_t i = 0; i < s->nst; i++)
        if (s->st[i].in2 >= 0)
            buf_printf(b, "    wire k%zu_rdy2;\n", i);
    for (size_t j = 0; j < s->ncol; j++)
        buf_printf(b, "    wire c%zu_rdy;\n", j);
    buf_printf(b, "    wire pfire;\n");
    buf_printf(b, "    assign s%d_v = in_valid;\n    assign s%d_d = in_data;\n    assign in_ready = s%d_r;\n", s->in_tensor,
               s->in_tensor, s->in_tensor);
    for (size_t t = 0; t < g->nt; t++) {
        if (!s->is_stream[t] || !wired(s, (int)t))
            continue;
        buf_printf(b, "    assign s%zu_r = 1'b1", t);
        for (size_t i = 0; i < s->nst; i++) {
            if (s->st[i].in == (int)t)
                buf_printf(b, " & k%zu_rdy", i);
            if (s->st[i].in2 == (int)t)
                buf_printf(b, " & k%zu_rdy2", i);
        }
        for (size_t j = 0; j < s->ncol; j++)
            if (s->col[j].tensor == (int)t)
                buf_printf(b, " & c%zu_rdy", j);
        buf_printf(b, ";\n");
    }
    for (size_t i = 0; i < s->nst; i++) {
        if (s->st[i].kind == ST_WINDOW)
            emit_window(b, s, i);
        else if (s->st[i].kind == ST_UP)
            emit_up(b, s, i);
        else if (s->st[i].kind == ST_MERGE)
            emit_merge(b, s, i);
        else
            emit_point(b, s, i);
        emit_stage_out(b, s, i);
    }
    if (s->pii > 1) {
        int wc = stream_bits(s->pii - 1);
        char l1[48], l2[48], l3[48], l4[48];
        buf_printf(b, "    // the whole-image part is folded (ReuseFactor up to %d): it takes the collectors' vectors every %d\n"
                      "    // clocks; pcool counts its busy clocks, and the collectors hold their last pixel while they last\n"
                      "    reg [%d:0] pcool;\n    wire pbusy = pcool != %s;\n", s->pii, s->pii, wc - 1, L(l1, wc, 0));
        buf_printf(b, "    always @(posedge clk)\n        if (rst) pcool <= %s;\n        else pcool <= pfire ? %s : pbusy ? "
                      "pcool - %s : %s;\n", L(l1, wc, 0), L(l2, wc, s->pii - 1), L(l3, wc, 1), L(l4, wc, 0));
        buf_printf(b, "    reg [%d:0] pvalid;\n", s->plat - 1);
    }
    for (size_t j = 0; j < s->ncol; j++)
        emit_collector(b, s, j);
    buf_printf(b, "    // the collectors fire together: the whole-image part (io_parallel logic)\n    assign pfire = 1'b1");
    for (size_t j = 0; j < s->ncol; j++)
        buf_printf(b, " & c%zu_av", j);
    buf_printf(b, ";\n");
    for (size_t j = 0; j < s->ncol; j++) {
        const Collector *c = &s->col[j];
        buf_printf(b, "    reg [%ld:0] t%d;\n    always @(posedge clk)\n        if (pfire) t%d <= c%zu_cur;\n",
                   c->P * c->cw - 1, c->copy, c->copy, j);
    }
    for (size_t k = 0; k < s->rtl.nm; k++) {
        const HwModule *m = &s->rtl.m[k];
        if (s->node_kind[m->node] != 0)
            continue;
        int c = s->tcyc[m->in_tensor[0]];
        if (m->ports == 2 && s->tcyc[m->in_tensor[1]] > c)
            c = s->tcyc[m->in_tensor[1]];
        char src[2][64];
        for (int p = 0; p < m->ports; p++) {
            int t = carrier(f, m->in_tensor[p]);
            int lag = c - s->tcyc[m->in_tensor[p]];
            long w = ir_numel(&f->t[t]) * f->t[t].type.w;
            snprintf(src[p], sizeof src[p], "t%d", t);
            for (int dl = 1; dl <= lag; dl++) {
                buf_printf(b, "    reg [%ld:0] t%d_m%zu_d%d;\n    always @(posedge clk) t%d_m%zu_d%d <= %s;\n", w - 1, t, k, dl, t,
                           k, dl, src[p]);
                snprintf(src[p], sizeof src[p], "t%d_m%zu_d%d", t, k, dl);
            }
        }
        long wout = ir_numel(&f->t[m->out_tensor]) * f->t[m->out_tensor].type.w;
        buf_printf(b, "    wire [%ld:0] t%d;\n", wout - 1, m->out_tensor);
        char start[64] = "";
        if (m->fold)
            snprintf(start, sizeof start, ", .rst(rst), .start(pvalid[%d])", c - 1);
        buf_printf(b, "    %s u%zu (.clk(clk)%s, .in0(%s)%s%s%s, .out0(t%d));\n", m->name, k, start, src[0],
                   m->ports == 2 ? ", .in1(" : "", m->ports == 2 ? src[1] : "", m->ports == 2 ? ")" : "", m->out_tensor);
    }
    int ot = carrier(f, s->out_tensor);
    buf_printf(b, "    reg [%ld:0] out_r;\n    always @(posedge clk) out_r <= t%d;\n    assign out_data = out_r;\n", wo - 1, ot);
    if (s->pii <= 1)
        buf_printf(b, "    reg [%d:0] pvalid;\n", s->plat - 1);
    buf_printf(b, "    always @(posedge clk)\n        if (rst) pvalid <= %d'h0;\n", s->plat);
    if (s->plat > 1)
        buf_printf(b, "        else pvalid <= {pvalid[%d:0], pfire};\n", s->plat - 2);
    else
        buf_printf(b, "        else pvalid <= pfire;\n");
    buf_printf(b, "    assign out_valid = pvalid[%d];\nendmodule\n", s->plat - 1);
}

int stream_write(const Stream *s, Plan *plan, const HwDesign *par, Diag *d, const char *dir, const char *source_json)
{
    StreamTiming tm;
    if (stream_timing(s, &tm) < 0)
        return diag_error(d, "internal: io_stream: the handshake model of '%s' made no progress", s->g->name);
    Buf files = {0}, top = {0};
    int rc = -1;
    if (verilog_write_modules(&s->rtl, d, dir, &files) < 0)
        goto done;
    buf_printf(&top, "// generated by etchnn %s; do not edit\n`default_nettype none\n", ETCHNN_VERSION);
    emit_top(&top, s, &tm);
    buf_printf(&top, "`default_nettype wire\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/rtl/%s.v", dir, s->rtl.top);
    if (backend_write_file(d, path, &top) < 0)
        goto done;
    buf_printf(&files, "%s.v\n", s->rtl.top);
    snprintf(path, sizeof path, "%s/rtl/files.f", dir);
    if (backend_write_file(d, path, &files) < 0)
        goto done;
    if (testbench_write_stream(s, &tm, plan, d, dir) < 0 || report_write_stream(s, par, &tm, d, dir, source_json) < 0)
        goto done;
    rc = 0;
done:
    buf_free(&files);
    buf_free(&top);
    return rc;
}

