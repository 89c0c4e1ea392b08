/* testbench.c — the self-checking Verilog test bench written beside the
 * circuit (OUT/rtl/tb_NAME.v, for Icarus Verilog and other simulators), and
 * the random input codes it shares with etchnn verify (src/tools/verify.c).
 * Expected outputs come from the emulator; the bench streams one vector per
 * clock, checks out_valid against the latency and every output bit. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backends.h"
#include "backends/testbench.h"
#include "etchnn.h"
#include "hw/hw.h"
#include "tools/emulate.h"

/* splitmix64: a small, well-mixed generator; the state lives with the caller */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The code of type t whose low w bits are u. */
static int64_t code_of_bits(FxType t, uint64_t u)
{
    if (t.w < 64)
        u &= (UINT64_C(1) << t.w) - 1u;
    if (t.sign && t.w < 64 && (u >> (t.w - 1)) & 1u)
        u |= ~UINT64_C(0) << t.w;
    return (int64_t)u;
}

void tb_random_codes(FxType t, long nin, size_t n, uint64_t seed, int64_t *out)
{
    uint64_t s = seed;
    int64_t hi = fx_type_max(t), lo = fx_type_min(t);
    int mag = t.sign ? t.w - 1 : t.w;   /* magnitude bits */
    for (size_t ev = 0; ev < n; ev++) {
        int64_t *x = out + ev * (size_t)nin;
        for (long e = 0; e < nin; e++) {
            int64_t c;
            if (ev == 0)
                c = 0;
            else if (ev == 1)
                c = hi;
            else if (ev == 2)
                c = lo;
            else if (ev == 3)
                c = e % 2 ? lo : hi;
            else if (ev % 2 == 0)
                c = code_of_bits(t, next_u64(&s));
            else {
                /* |c| < 2^s, s uniform in 0..mag */
                int sb = (int)(next_u64(&s) % (uint64_t)(mag + 1));
                uint64_t u = next_u64(&s);
                uint64_t m = sb >= 63 ? u >> 1 : u & ((UINT64_C(1) << sb) - 1u);
                c = (int64_t)m;
                if (t.sign && (next_u64(&s) & 1u))
                    c = -c - 1;   /* -2^s .. -1 */
                if (c > hi)
                    c = hi;
                if (c < lo)
                    c = lo;
            }
            x[e] = c;
        }
    }
}

/* One memory line: n codes of w bits packed (element k at bits [k*w +: w]), in hex, MSB first. */
void tb_hex_line(Buf *b, const int64_t *codes, long n, int w, uint32_t *words)
{
    long bits = n * w, nw = (bits + 31) / 32;
    memset(words, 0, (size_t)nw * sizeof(uint32_t));
    for (long k = 0; k < n; k++) {
        uint64_t u = (uint64_t)codes[k];
        for (int i = 0; i < w; i++)
            if ((u >> i) & 1u) {
                long bit = k * w + i;
                words[bit / 32] |= UINT32_C(1) << (bit % 32);
            }
    }
    char *line = malloc((size_t)(bits + 3) / 4 + 2);
    if (!line) {
        b->failed = 1;
        return;
    }
    long nd = (bits + 3) / 4;
    for (long d = 0; d < nd; d++) {
        long bit = (nd - 1 - d) * 4;
        unsigned v = (words[bit / 32] >> (bit % 32)) & 0xfu;
        line[d] = "0123456789abcdef"[v];
    }
    line[nd] = '\n';
    buf_append(b, line, (size_t)nd + 1);
    free(line);
}

int testbench_write(const struct HwDesign *r, struct Plan *plan, Diag *d, const char *dir)
{
    const Graph *g = r->g;
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    long nin = ir_numel(ti), nout = ir_numel(to);
    int win = ti->type.w, wout = to->type.w;
    long wi = nin * win, wo = nout * wout;
    size_t n = TB_VECTORS;
    const char *nm = r->top;   /* an identifier (names_design) */
    int64_t *x = malloc(n * (size_t)nin * sizeof(int64_t));
    int64_t *y = malloc(n * (size_t)nout * sizeof(int64_t));
    long maxw = wi > wo ? wi : wo;
    uint32_t *words = malloc((size_t)(maxw + 31) / 32 * sizeof(uint32_t));
    Buf tb = {0}, min = {0}, mout = {0};
    int rc = -1;
    if (!x || !y || !words) {
        diag_error(d, "internal: out of memory writing the test bench");
        goto done;
    }
    tb_random_codes(ti->type, nin, n, TB_SEED, x);
    emu_run_codes(plan, x, y, n);
    for (size_t ev = 0; ev < n; ev++) {
        tb_hex_line(&min, x + ev * (size_t)nin, nin, win, words);
        tb_hex_line(&mout, y + ev * (size_t)nout, nout, wout, words);
    }

    char tin[64], tout[64];
    fx_format(ti->type, tin, sizeof tin);
    fx_format(to->type, tout, sizeof tout);
    int L = r->latency;
    const char *sg = to->type.sign ? "$signed" : "";
    /* II > 1 (folded layers): one vector every II clocks, the checker expects outputs II clocks apart */
    int ii = r->ii;
    char per[64], want[96], ev[48], lp[32], idle[96];
    snprintf(per, sizeof per, ii > 1 ? "one every %d clocks" : "one per clock", ii);
    snprintf(want, sizeof want, ii > 1 ? "k >= L && (k - L) %% II == 0 && (k - L) / II < N" : "k >= L && k < L + N");
    snprintf(ev, sizeof ev, ii > 1 ? "(k - L) / II" : "k - L");
    lp[0] = idle[0] = 0;
    if (ii > 1) {
        snprintf(lp, sizeof lp, ", II = %d", ii);
        snprintf(idle, sizeof idle, "            in_valid = 1'b1;\n");
    }
    buf_printf(&tb,
               "// tb_%s: self-checking test bench for %s, generated by etchnn %s; do not edit.\n"
               "// %zu vectors (tb_%s_in.mem: %ld x %s per line) are streamed %s; every\n"
               "// output (tb_%s_out.mem: %ld x %s, from etchnn's bit-exact emulator) must appear\n"
               "// exactly %d clocks after its input with out_valid high, and out_valid must be low\n"
               "// otherwise (also while rst is held with in_valid high).  Prints PASS or FAIL.\n"
               "// Run in this directory:\n"
               "//   iverilog -g2005 -o tb_%s.vvp -c files.f tb_%s.v && vvp -n tb_%s.vvp\n"
               "`timescale 1ns / 1ps\n"
               "`default_nettype none\n"
               "module tb_%s;\n"
               "    localparam N = %zu, L = %d, NOUT = %ld, WO = %d%s;\n"
               "    reg clk, rst, in_valid;\n"
               "    reg [%ld:0] in_data;\n"
               "    wire out_valid;\n"
               "    wire [%ld:0] out_data;\n"
               "    reg [%ld:0] vin [0:N-1];\n"
               "    reg [%ld:0] vout [0:N-1];\n"
               "    integer i, j, k, errors, valid_errors;\n"
               "    %s dut (.clk(clk), .rst(rst), .in_valid(in_valid), .in_data(in_data), .out_valid(out_valid),\n"
               "        .out_data(out_data));\n"
               "    initial clk = 1'b0;\n"
               "    always #5 clk = ~clk;\n"
               "    // the checker: k counts rising edges since rst was released; the input\n"
               "    // sampled at edge e is on the outputs, valid, when edge e + L samples them\n"
               "    always @(posedge clk)\n"
               "        if (!rst) begin\n"
               "            if (out_valid !== (%s)) begin\n"
               "                if (valid_errors < 20)\n"
               "                    $display(\"edge %%0d: out_valid is %%b, expected %%b\", k, out_valid, %s);\n"
               "                valid_errors = valid_errors + 1;\n"
               "            end\n"
               "            if (%s && out_data !== vout[%s])\n"
               "                for (j = 0; j < NOUT; j = j + 1)\n"
               "                    if (out_data[j*WO +: WO] !== vout[%s][j*WO +: WO]) begin\n"
               "                        if (errors < 20)\n"
               "                            $display(\"event %%0d output %%0d: expected %%0d, got %%0d\", %s, j,\n"
               "                                     %s(vout[%s][j*WO +: WO]), %s(out_data[j*WO +: WO]));\n"
               "                        errors = errors + 1;\n"
               "                    end\n"
               "            k = k + 1;\n"
               "        end\n"
               "    initial begin\n"
               "        $readmemh(\"tb_%s_in.mem\", vin);\n"
               "        $readmemh(\"tb_%s_out.mem\", vout);\n"
               "        errors = 0;\n"
               "        valid_errors = 0;\n"
               "        k = 0;\n"
               "        rst = 1'b1;\n"
               "        in_valid = 1'b1;\n"
               "        in_data = {%ld{1'b1}};\n"
               "        repeat (3) @(negedge clk);\n"
               "        rst = 1'b0;\n"
               "        for (i = 0; i < N; i = i + 1) begin\n"
               "%s"
               "            in_data = vin[i];\n"
               "            @(negedge clk);\n"
               "%s"
               "        end\n"
               "        in_valid = 1'b0;\n"
               "        in_data = {%ld{1'b0}};\n"
               "        repeat (L + 2) @(negedge clk);\n"
               "        if (errors == 0 && valid_errors == 0)\n"
               "            $display(\"PASS: %%0d vectors, %s, latency %%0d cycles: all %%0d outputs equal\", N, L,\n"
               "                     N * NOUT);\n"
               "        else\n"
               "            $display(\"FAIL: %%0d of %%0d outputs differ, %%0d out_valid errors\", errors, N * NOUT,\n"
               "                     valid_errors);\n"
               "        $finish;\n"
               "    end\n"
               "endmodule\n"
               "`default_nettype wire\n",
               nm, nm, ETCHNN_VERSION, n, nm, nin, tin, per, nm, nout, tout, L, nm, nm, nm, nm, n, L, nout, wout, lp,
               wi - 1, wo - 1, wi - 1, wo - 1, nm, want, want, want, ev, ev, ev, sg, ev, sg, nm, nm, wi, idle,
               ii > 1 ? "            in_valid = 1'b0;\n            repeat (II - 1) @(negedge clk);\n" : "", wi, per);

    char path[4096];
    snprintf(path, sizeof path, "%s/rtl/tb_%s_in.mem", dir, nm);
    if (backend_write_file(d, path, &min) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/rtl/tb_%s_out.mem", dir, nm);
    if (backend_write_file(d, path, &mout) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/rtl/tb_%s.v", dir, nm);
    if (backend_write_file(d, path, &tb) < 0)
        goto done;
    rc = 0;
done:
    free(x);
    free(y);
    free(words);
    buf_free(&tb);
    buf_free(&min);
    buf_free(&mout);
    return rc;
}
