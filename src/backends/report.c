/* report.c — OUT/report.json and OUT/report.txt: latency, II, the resource
 * estimate and per-layer types, computed from the scheduled netlist without
 * running any tool. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/backends.h"
#include "backends/stream.h"
#include "hw/hw.h"
#include "hw/rnn_static.h"
#include "util/names.h"

static void add_type(cJSON *o, const char *key, const Tensor *t)
{
    char s[64];
    if (!t || !t->has_type)
        return;
    fx_format(t->type, s, sizeof s);
    cJSON_AddStringToObject(o, key, s);
}

/* A static recurrent layer (hw/rnn_static.h): its architecture, steps and clocks. */
static void add_static(cJSON *l, const HwRnn *q)
{
    cJSON_AddStringToObject(l, "architecture", "static");
    cJSON_AddNumberToObject(l, "time_steps", q->T);
    cJSON_AddNumberToObject(l, "step_clocks", q->period);
    cJSON_AddNumberToObject(l, "cell_latency", q->cell_latency);
    cJSON_AddNumberToObject(l, "cell_modules", (double)q->cell.nm);
    cJSON_AddNumberToObject(l, "ii", q->ii);
    cJSON_AddBoolToObject(l, "backwards", q->back);
    cJSON_AddBoolToObject(l, "return_sequences", q->seq);
}

static cJSON *shape_json(const Tensor *t)
{
    cJSON *a = cJSON_CreateArray();
    int rank = t->is_const ? t->const_rank : t->rank;
    const int *dims = t->is_const ? t->const_dims : t->dims;
    for (int k = 0; k < rank; k++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(dims[k]));
    return a;
}

/* Build the report as JSON (the caller owns it). */
/* report.json "part": the device and its utilization by the estimate (LUT6 terms, scaled for
 * LUT4 families, parts.c); replaces an earlier "part".  Nothing when pt is NULL. */
void report_part(cJSON *root, const HwPart *pt, double lut, double ff, double dsp, double bram);
void report_part(cJSON *root, const HwPart *pt, double lut, double ff, double dsp, double bram)
{
    if (!pt)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "part");
    cJSON *po = cJSON_AddObjectToObject(root, "part");
    cJSON_AddStringToObject(po, "name", pt->name);
    cJSON_AddStringToObject(po, "label", pt->label);
    cJSON_AddNumberToObject(po, "lut", (double)pt->lut);
    cJSON_AddNumberToObject(po, "ff", (double)pt->ff);
    cJSON_AddNumberToObject(po, "dsp", (double)pt->dsp);
    cJSON_AddNumberToObject(po, "bram", (double)pt->bram);
    cJSON_AddNumberToObject(po, "lut_scale", hw_part_lut_scale(pt));
    cJSON_AddStringToObject(po, "delay_model", hw_delay_model(pt)->family);   /* the schedule's (parts.c) */
    cJSON *u = cJSON_AddObjectToObject(po, "utilization");
    double used[4] = {round(lut) * hw_part_lut_scale(pt), round(ff), dsp, bram};
    long have[4] = {pt->lut, pt->ff, pt->dsp, pt->bram};
    const char *keys[4] = {"lut", "ff", "dsp", "bram"};
    for (int k = 0; k < 4; k++)
        cJSON_AddNumberToObject(u, keys[k], have[k] ? round(used[k] / (double)have[k] * 1e4) / 1e4 : (used[k] > 0 ? 1e9 : 0));
}

/* DIR/report.json and DIR/report.txt; frees the texts and the JSON tree. */
static int write_both(Diag *d, const char *dir, Buf *j, Buf *t, cJSON *root)
{
    char path[4096];
    int rc = 0;
    snprintf(path, sizeof path, "%s/report.json", dir);
    rc |= backend_write_file(d, path, j);
    snprintf(path, sizeof path, "%s/report.txt", dir);
    if (!rc)
        rc |= backend_write_file(d, path, t);
    buf_free(j);
    buf_free(t);
    cJSON_Delete(root);
    return rc ? -1 : 0;
}

/* The top's registers of its inputs, and (several outputs) of the outputs that wait for the last. */
static double io_ff(const HwDesign *r)
{
    const Graph *g = r->g;
    double f = 0;
    for (size_t k = 0; k < g->ninputs; k++)
        f += (double)(ir_numel(&g->t[g->inputs[k]]) * g->t[g->inputs[k]].type.w);
    for (size_t k = 0; g->noutputs > 1 && k < g->noutputs; k++)
        f += (double)(ir_numel(&g->t[g->outputs[k]]) * g->t[g->outputs[k]].type.w) *
             (r->latency - 1 - r->tensor_cycle[g->outputs[k]]);
    return f;
}

cJSON *report_json(const HwDesign *r, const char *source_json)
{
    const Graph *g = r->g;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", r->top);   /* the top module; etchnn verify and synth read it */
    char file[4096 * 3 + 4];
    cJSON_AddStringToObject(root, "file", names_utf8(file, sizeof file, g->file));
    cJSON_AddNumberToObject(root, "clock_mhz", r->opt.clock_mhz);
    cJSON_AddNumberToObject(root, "latency_cycles", r->latency);
    cJSON_AddNumberToObject(root, "latency_ns", round(r->latency * 1000.0 / r->opt.clock_mhz * 1000) / 1000);
    cJSON_AddNumberToObject(root, "ii", r->ii);
    cJSON_AddStringToObject(root, "multipliers",
                            r->opt.mult == MULT_DSP ? "dsp" : r->opt.mult == MULT_AUTO ? "auto" : "csd");
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    cJSON *io = cJSON_AddObjectToObject(root, "io");
    long n_in = 0, n_out = 0;   /* several inputs (outputs): all of them, of one type (hw_build) */
    for (size_t k = 0; k < g->ninputs; k++)
        n_in += ir_numel(&g->t[g->inputs[k]]);
    for (size_t k = 0; k < g->noutputs; k++)
        n_out += ir_numel(&g->t[g->outputs[k]]);
    cJSON_AddNumberToObject(io, "n_in", (double)n_in);
    cJSON_AddNumberToObject(io, "w_in", ti->type.w);
    add_type(io, "in_type", ti);
    cJSON_AddNumberToObject(io, "n_out", (double)n_out);
    cJSON_AddNumberToObject(io, "w_out", to->type.w);
    add_type(io, "out_type", to);
    if (g->ninputs != 1 || g->noutputs != 1) {   /* one port each: in<k>_data, out<k>_data */
        cJSON *ins = cJSON_AddArrayToObject(io, "inputs"), *outs = cJSON_AddArrayToObject(io, "outputs");
        char nu[NAMES_TEXT_SIZE];
        for (int o = 0; o < 2; o++)
            for (size_t k = 0; k < (o ? g->noutputs : g->ninputs); k++) {
                const Tensor *t = &g->t[o ? g->outputs[k] : g->inputs[k]];
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "name", names_utf8(nu, sizeof nu, t->name));
                cJSON_AddNumberToObject(e, "n", (double)ir_numel(t));
                cJSON_AddItemToArray(o ? outs : ins, e);
            }
    }
    double lut = 0, ff = 0, dsp = 0, bram = 0;
    long adders = 0, adders_const = 0, naive = 0;
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (size_t k = 0; k < r->nm; k++) {
        const HwModule *m = &r->m[k];
        const Node *n = &g->n[m->node];
        cJSON *l = cJSON_CreateObject();
        char nu[NAMES_TEXT_SIZE];
        cJSON_AddStringToObject(l, "name", names_utf8(nu, sizeof nu, m->rnn ? m->rnn->layer : n->name));
        cJSON_AddStringToObject(l, "op", m->rnn ? n->src_op : op_names[n->op]);
        cJSON_AddStringToObject(l, "module", m->name);
        if (m->rnn)
            add_static(l, m->rnn);
        if (n->fused_relu >= 0)
            cJSON_AddStringToObject(l, "fused", names_utf8(nu, sizeof nu, g->n[n->fused_relu].name));
        cJSON_AddItemToObject(l, "input_shape", shape_json(&g->t[m->in_tensor[0]]));
        cJSON_AddItemToObject(l, "output_shape", shape_json(&g->t[m->out_tensor]));
        add_type(l, "input_type", &g->t[m->in_tensor[0]]);
        if (n->op == OP_DENSE || n->op == OP_AFFINE) {
            if (n->in[1] >= 0) {
                add_type(l, "weight_type", &g->t[n->in[1]]);
                cJSON_AddItemToObject(l, "weight_shape", shape_json(&g->t[n->in[1]]));
            }
            if (n->in[2] >= 0)
                add_type(l, "bias_type", &g->t[n->in[2]]);
        }
        if (n->op == OP_DENSE || n->op == OP_SOFTMAX) {
            char s[64];
            fx_format(n->accum, s, sizeof s);
            cJSON_AddStringToObject(l, "accum_type", s);
        }
        add_type(l, "result_type", &g->t[m->out_tensor]);
        cJSON_AddNumberToObject(l, "latency_cycles", m->latency);
        if (n->op == OP_DENSE || n->op == OP_CONV1D || n->op == OP_CONV2D) {
            /* resource sharing: what was asked and what was built (src/hw/fold.c) */
            const HwFold *f = m->fold;
            cJSON_AddNumberToObject(l, "reuse_factor", n->reuse);
            cJSON_AddNumberToObject(l, "ii", f ? f->reuse : 1);
            if (f) {
                cJSON_AddStringToObject(l, "strategy", f->rom ? "Resource" : "Latency");
                cJSON_AddNumberToObject(l, "multiplications", (double)f->nterm);
                cJSON_AddNumberToObject(l, "multipliers", (double)f->nmult);
                cJSON_AddStringToObject(l, "multiplier_kind", f->dsp ? "dsp" : "logic");
                cJSON_AddNumberToObject(l, "rom_bits", f->rom ? (double)f->rom_bits : 0);
            }
        }
        cJSON_AddNumberToObject(l, "lut_estimate", round(m->lut));
        cJSON_AddNumberToObject(l, "ff_estimate", round(m->ff));
        cJSON_AddNumberToObject(l, "dsp_estimate", (double)m->dsp);
        cJSON *a = cJSON_AddObjectToObject(l, "adders");
        cJSON_AddNumberToObject(a, "naive", (double)m->adders_naive);
        cJSON_AddNumberToObject(a, "shared", (double)m->adders);
        cJSON_AddNumberToObject(a, "constant", (double)m->adders_const);
        cJSON_AddItemToArray(layers, l);
        lut += m->lut;
        ff += m->ff;
        dsp += (double)m->dsp;
        bram += (double)m->bram;
        adders += m->adders;
        adders_const += m->adders_const;
        naive += m->adders_naive;
    }
    /* the top's input registers (and several outputs' hold registers), the valid pipeline */
    ff += io_ff(r) + r->latency;
    cJSON *est = cJSON_AddObjectToObject(root, "estimate");
    cJSON_AddNumberToObject(est, "lut", round(lut));
    cJSON_AddNumberToObject(est, "ff", round(ff));
    cJSON_AddNumberToObject(est, "dsp", dsp);
    cJSON_AddNumberToObject(est, "bram", bram);
    cJSON_AddNumberToObject(est, "adders_naive", (double)naive);
    cJSON_AddNumberToObject(est, "adders", (double)adders);
    cJSON_AddNumberToObject(est, "adders_const", (double)adders_const);
    report_part(root, r->opt.part, lut, ff, dsp, bram);
    if (r->fit) {
        cJSON *f = cJSON_Parse(r->fit);
        if (f) {
            /* node ids become layer names */
            cJSON *ls = cJSON_GetObjectItemCaseSensitive(f, "layers"), *l;
            cJSON_ArrayForEach(l, ls) {
                cJSON *id = cJSON_GetObjectItemCaseSensitive(l, "node");
                if (cJSON_IsNumber(id) && id->valueint >= 0 && (size_t)id->valueint < g->nn) {
                    char nu[NAMES_TEXT_SIZE];
                    cJSON_AddStringToObject(l, "name", names_utf8(nu, sizeof nu, g->n[id->valueint].name));
                }
                cJSON_DeleteItemFromObjectCaseSensitive(l, "node");
            }
            cJSON_AddItemToObject(root, "fit", f);
        }
    }
    if (source_json) {
        cJSON *src = cJSON_Parse(source_json);
        if (src)
            cJSON_AddItemToObject(root, "source", src);
    }
    return root;
}

int report_write(const HwDesign *r, Diag *d, const char *dir, const char *source_json)
{
    cJSON *root = report_json(r, source_json);
    char *text = cJSON_Print(root);
    Buf j = {0}, t = {0};
    buf_printf(&j, "%s\n", text ? text : "{}");
    cJSON_free(text);
    const Graph *g = r->g;
    char file[4096 * 3 + 4], ln[NAMES_TEXT_SIZE];
    buf_printf(&t, "etchnn report: %s (%s)\n", r->top, names_comment(file, sizeof file, g->file));
    buf_printf(&t, "clock %.1f MHz, latency %d cycles = %.2f ns, II = %d\n\n", r->opt.clock_mhz, r->latency,
               r->latency * 1000.0 / r->opt.clock_mhz, r->ii);
    buf_printf(&t, "%-24s %-10s %-10s %-22s %-22s %4s %4s %8s %8s %4s %9s\n", "layer", "op", "shape", "input", "result",
               "lat", "II", "LUT est", "FF est", "DSP", "adders");
    double lut = 0, ff = 0;
    long dsp = 0;
    for (size_t k = 0; k < r->nm; k++) {
        const HwModule *m = &r->m[k];
        const Node *n = &g->n[m->node];
        char s1[64], s2[64], sh[32];
        fx_format(g->t[m->in_tensor[0]].type, s1, sizeof s1);
        fx_format(g->t[m->out_tensor].type, s2, sizeof s2);
        snprintf(sh, sizeof sh, "%ld", ir_numel(&g->t[m->out_tensor]));
        char ad[32];
        snprintf(ad, sizeof ad, "%ld/%ld", m->adders, m->adders_naive);
        buf_printf(&t, "%-24s %-10s %-10s %-22s %-22s %4d %4d %8.0f %8.0f %4ld %9s\n",
                   names_comment(ln, sizeof ln, m->rnn ? m->rnn->layer : n->name),
                   m->rnn ? n->src_op : n->fused_relu < 0 ? op_names[n->op] : n->op == OP_DENSE ? "dense+relu" : "conv+relu",
                   sh, s1, s2, m->latency, m->fold ? m->fold->reuse : m->rnn ? m->rnn->ii : 1, m->lut, m->ff, m->dsp, ad);
        if (m->rnn)
            buf_printf(&t, "%-24s static: one cell (%zu modules, latency %d) reused over %d steps%s of %d clocks; "
                       "estimate: the cell, %d state register(s), the input and output buffers\n", "",
                       m->rnn->cell.nm, m->rnn->cell_latency, m->rnn->T, m->rnn->back ? " (last row first)" : "",
                       m->rnn->period, m->rnn->nstate);
        if (m->fold)
            buf_printf(&t, "%-24s folded: ReuseFactor %d, %ld multiplications on %ld %s multipliers, weights %s%s\n", "",
                       m->fold->reuse, m->fold->nterm, m->fold->nmult, m->fold->dsp ? "DSP" : "logic",
                       m->fold->rom ? "in ROM" : "as constants", m->fold->rom ? " (Strategy Resource)" : "");
        lut += m->lut;
        ff += m->ff;
        dsp += m->dsp;
    }
    ff += io_ff(r) + r->latency;
    if (r->opt.part) {
        const HwPart *pt = r->opt.part;
        double sc = hw_part_lut_scale(pt);
        buf_printf(&t, "\npart %s (%s): %.1f%% of its LUTs%s, %.1f%% FFs, %.1f%% DSPs\n", pt->name, pt->label,
                   100.0 * lut * sc / (double)pt->lut, sc != 1 ? " (LUT4: estimate x 1.6)" : "",
                   100.0 * ff / (double)pt->ff,
                   pt->dsp ? 100.0 * (double)dsp / (double)pt->dsp : 0.0);
        buf_printf(&t, "delay model: %s (the schedule follows the part's family)\n", hw_delay_model(pt)->family);
    }
    if (r->fit)
        buf_printf(&t, "fit: every Dense/Conv layer's ReuseFactor and multipliers chosen by --fit (report.json \"fit\")\n");
    buf_printf(&t, "\ntotal: latency %d cycles, II %d, estimate %.0f LUT, %.0f FF, %ld DSP "
                   "(adders: shared/naive per layer; estimate made without running any tool)\n",
               r->latency, r->ii, lut, ff, dsp);
    return write_both(d, dir, &j, &t, root);
}

/* ---- io_stream ------------------------------------------------------------------- */

static void par_totals(const HwDesign *r, double *lut, double *ff, long *dsp)
{
    double l = 0, f = 0;
    long d = 0;
    for (size_t k = 0; k < r->nm; k++) {
        l += r->m[k].lut;
        f += r->m[k].ff;
        d += r->m[k].dsp;
    }
    f += io_ff(r) + r->latency;
    *lut = l;
    *ff = f;
    *dsp = d;
}

int report_write_stream(const Stream *s, const HwDesign *par, const StreamTiming *tm, Diag *d, const char *dir,
                        const char *source_json)
{
    const Graph *g = s->g;
    cJSON *root = report_json(&s->rtl, source_json);
    double mhz = s->rtl.opt.clock_mhz;
    /* latency_cycles: from the first pixel (from the last one can be <= 0: trailing rows no window reads) */
    cJSON_ReplaceItemInObject(root, "latency_cycles", cJSON_CreateNumber((double)tm->lat_first));
    cJSON_ReplaceItemInObject(root, "latency_ns", cJSON_CreateNumber(round(tm->lat_first * 1000.0 / mhz * 1000) / 1000));
    cJSON_ReplaceItemInObject(root, "ii", cJSON_CreateNumber((double)tm->ii));
    cJSON_AddStringToObject(root, "io_type", "io_stream");
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    char ty[64];
    cJSON *io = cJSON_CreateObject();
    cJSON_AddNumberToObject(io, "n_in", (double)ir_numel(ti));
    cJSON_AddNumberToObject(io, "w_in", ti->type.w);
    fx_format(ti->type, ty, sizeof ty);
    cJSON_AddStringToObject(io, "in_type", ty);
    cJSON_AddNumberToObject(io, "n_out", (double)ir_numel(to));
    cJSON_AddNumberToObject(io, "w_out", to->type.w);
    fx_format(to->type, ty, sizeof ty);
    cJSON_AddStringToObject(io, "out_type", ty);
    cJSON_ReplaceItemInObject(root, "io", io);
    double lut, ff;
    long dsp;
    stream_totals(s, &lut, &ff, &dsp);
    cJSON *est = cJSON_GetObjectItem(root, "estimate");
    cJSON_ReplaceItemInObject(est, "lut", cJSON_CreateNumber(round(lut)));
    cJSON_ReplaceItemInObject(est, "ff", cJSON_CreateNumber(round(ff)));
    cJSON_ReplaceItemInObject(est, "dsp", cJSON_CreateNumber((double)dsp));
    double bram = 0;
    for (size_t k = 0; k < s->rtl.nm; k++)
        bram += (double)s->rtl.m[k].bram;
    report_part(root, s->rtl.opt.part, lut, ff, (double)dsp, bram);
    cJSON *so = cJSON_AddObjectToObject(root, "stream");
    cJSON_AddNumberToObject(so, "pixels", (double)s->P0);
    cJSON_AddNumberToObject(so, "channels", s->C0);
    cJSON_AddNumberToObject(so, "latency_first_pixel_cycles", (double)tm->lat_first);
    cJSON_AddNumberToObject(so, "latency_last_pixel_cycles", (double)tm->lat_last);
    cJSON_AddNumberToObject(so, "ii_cycles", (double)tm->ii);
    cJSON_AddBoolToObject(so, "source_throttled", tm->throttled);
    cJSON *chk = cJSON_AddObjectToObject(so, "first_three_images");
    cJSON_AddNumberToObject(chk, "latency_first_pixel_cycles", (double)tm->chk_first);
    cJSON_AddNumberToObject(chk, "latency_last_pixel_cycles", (double)tm->chk_last);
    cJSON_AddNumberToObject(chk, "ii_cycles", (double)tm->chk_ii);
    cJSON *sts = cJSON_AddArrayToObject(so, "stages");
    for (size_t i = 0; i < s->nst; i++) {
        const Stage *st = &s->st[i];
        cJSON *o = cJSON_CreateObject();
        double a, b;
        stream_stage_estimate(s, i, &a, &b);
        char nu[NAMES_TEXT_SIZE];
        cJSON_AddStringToObject(o, "name", names_utf8(nu, sizeof nu, g->n[st->node].name));
        cJSON_AddStringToObject(o, "kind", st->kind == ST_WINDOW ? "window" : st->kind == ST_UP ? "upsample" :
                                           st->kind == ST_MERGE ? "merge" : "pixel");
        if (st->kind == ST_MERGE) {
            cJSON_AddNumberToObject(o, "input_fifo_a", (double)st->qa);
            cJSON_AddNumberToObject(o, "input_fifo_b", (double)st->qb);
        }
        cJSON_AddNumberToObject(o, "kernel_latency_cycles", st->lat);
        cJSON_AddNumberToObject(o, "reuse_factor", st->reuse);
        if (st->kind == ST_WINDOW) {
            cJSON_AddNumberToObject(o, "line_buffer_pixels", (double)st->N);
            cJSON_AddNumberToObject(o, "grid_h", st->Gh);
            cJSON_AddNumberToObject(o, "grid_w", st->Gw);
        }
        cJSON_AddNumberToObject(o, "fifo", st->fifo);
        cJSON_AddNumberToObject(o, "control_lut_estimate", round(a));
        cJSON_AddNumberToObject(o, "control_ff_estimate", round(b));
        cJSON_AddItemToArray(sts, o);
    }
    cJSON *cols = cJSON_AddArrayToObject(so, "collectors");
    for (size_t j = 0; j < s->ncol; j++) {
        char nu[NAMES_TEXT_SIZE];
        cJSON_AddItemToArray(cols, cJSON_CreateString(names_utf8(nu, sizeof nu, g->t[s->col[j].tensor].name)));
    }
    double plut = 0, pff = 0;
    long pdsp = 0;
    if (par) {
        par_totals(par, &plut, &pff, &pdsp);
        cJSON *po = cJSON_AddObjectToObject(root, "io_parallel");
        cJSON_AddNumberToObject(po, "latency_cycles", par->latency);
        cJSON_AddNumberToObject(po, "ii", par->ii > 1 ? par->ii : 1);
        cJSON_AddNumberToObject(po, "lut", round(plut));
        cJSON_AddNumberToObject(po, "ff", round(pff));
        cJSON_AddNumberToObject(po, "dsp", (double)pdsp);
    }
    char *text = cJSON_Print(root);
    Buf j = {0}, t = {0};
    buf_printf(&j, "%s\n", text ? text : "{}");
    cJSON_free(text);
    char file[4096 * 3 + 4], ln[NAMES_TEXT_SIZE];
    buf_printf(&t, "etchnn report: %s (%s), io_stream\n", s->rtl.top, names_comment(file, sizeof file, g->file));
    buf_printf(&t, "clock %.1f MHz; one pixel of %d channel(s) per clock, %ld pixels per image\n", mhz, s->C0, s->P0);
    buf_printf(&t, "latency: %ld cycles (%.2f ns) from an image's first pixel to its output, %ld cycles (%.2f ns) from its "
               "last%s\n", tm->lat_first, tm->lat_first * 1000.0 / mhz, tm->lat_last, tm->lat_last * 1000.0 / mhz,
               tm->lat_last <= 0 ? " (the last rows/columns are read by no window: the output is ready before they arrive)" : "");
    int folded = s->pii > 1;
    for (size_t i = 0; i < s->nst; i++)
        folded |= s->st[i].reuse > 1;
    buf_printf(&t, "initiation interval: %ld cycles per image, images back to back (%ld pixels%s)\n\n", tm->ii, s->P0,
               !tm->throttled ? "" : folded ? "; in_ready holds the source back while padding is generated or a folded "
               "kernel (ReuseFactor > 1) is busy" : "; in_ready holds the source back while padding is generated");
    buf_printf(&t, "%-24s %-10s %-22s %4s %6s %5s %8s %8s %4s\n", "streamed layer", "op", "grid / line buffer", "lat", "fifo",
               "R", "LUT est", "FF est", "DSP");
    for (size_t i = 0; i < s->nst; i++) {
        const Stage *st = &s->st[i];
        const HwModule *m = &s->rtl.m[st->module];
        const Node *n = &g->n[st->node];
        char geo[64];
        if (st->kind == ST_WINDOW)
            snprintf(geo, sizeof geo, "%dx%d / %ld px", st->Gh, st->Gw, st->N);
        else if (st->kind == ST_UP)
            snprintf(geo, sizeof geo, "x%dx%d / %d px", st->sh, st->sw, st->sh > 1 ? st->W : 0);
        else if (st->kind == ST_MERGE)
            snprintf(geo, sizeof geo, "FIFOs %ld + %ld px", st->qa, st->qb);
        else
            snprintf(geo, sizeof geo, "per pixel");
        double a, b;
        stream_stage_estimate(s, i, &a, &b);
        buf_printf(&t, "%-24s %-10s %-22s %4d %6d %5d %8.0f %8.0f %4ld\n", names_comment(ln, sizeof ln, n->name),
                   n->fused_relu < 0 ? op_names[n->op] : "conv+relu", geo, st->lat, st->fifo, st->reuse, m->lut + a,
                   m->ff + b, m->dsp);
    }
    int any = 0;
    for (size_t k = 0; k < s->rtl.nm; k++) {
        const HwModule *m = &s->rtl.m[k];
        const Node *n = &g->n[m->node];
        if (s->node_kind[m->node] != 0)
            continue;
        if (!any++) {
            buf_printf(&t, "\ngathered into a vector:");
            for (size_t c = 0; c < s->ncol; c++)
                buf_printf(&t, " '%s' (%ld pixels)", names_comment(ln, sizeof ln, g->t[s->col[c].tensor].name), s->col[c].P);
            buf_printf(&t, "; then, as io_parallel:\n");
            buf_printf(&t, "%-24s %-10s %-10s %4s %5s %8s %8s %4s\n", "layer", "op", "outputs", "lat", "R", "LUT est", "FF est",
                       "DSP");
        }
        buf_printf(&t, "%-24s %-10s %-10ld %4d %5d %8.0f %8.0f %4ld\n", names_comment(ln, sizeof ln, n->name),
                   n->fused_relu < 0 ? op_names[n->op] : n->op == OP_DENSE ? "dense+relu" : "conv+relu",
                   ir_numel(&s->fg.t[m->out_tensor]), m->latency, m->fold ? m->fold->reuse : 1, m->lut, m->ff, m->dsp);
    }
    buf_printf(&t, "\ntotal (io_stream): estimate %.0f LUT, %.0f FF, %ld DSP (estimate made without running any tool)\n", lut,
               ff, dsp);
    if (s->rtl.opt.part) {
        const HwPart *pt = s->rtl.opt.part;
        double sc = hw_part_lut_scale(pt);
        buf_printf(&t, "part %s (%s): %.1f%% of its LUTs%s, %.1f%% FFs, %.1f%% DSPs, %.1f%% block RAMs\n", pt->name,
                   pt->label, pt->lut ? 100.0 * round(lut) * sc / (double)pt->lut : 0, sc != 1.0 ? " (LUT4 terms)" : "",
                   pt->ff ? 100.0 * round(ff) / (double)pt->ff : 0, pt->dsp ? 100.0 * (double)dsp / (double)pt->dsp : 0,
                   pt->bram ? 100.0 * bram / (double)pt->bram : 0);
        buf_printf(&t, "delay model: %s (the schedule follows the part's family)\n", hw_delay_model(pt)->family);
    }
    if (s->rtl.fit)
        buf_printf(&t, "fit: every Dense/Conv layer's ReuseFactor and multipliers chosen by --fit for the fewest clocks per "
                   "image (report.json \"fit\")\n");
    if (par) {
        buf_printf(&t, "\nio_parallel and io_stream side by side (the same model, types and clock):\n");
        buf_printf(&t, "%-12s %16s %16s %14s %10s %10s %6s\n", "", "latency (cycles)", "II (cycles)", "input / clock", "LUT est",
                   "FF est", "DSP");
        buf_printf(&t, "%-12s %16d %16d %14s %10.0f %10.0f %6ld\n", "io_parallel", par->latency, par->ii > 1 ? par->ii : 1,
                   "image", plut, pff, pdsp);
        char lat[48];
        snprintf(lat, sizeof lat, "%ld / %ld", tm->lat_first, tm->lat_last);
        buf_printf(&t, "%-12s %16s %16ld %14s %10.0f %10.0f %6ld\n", "io_stream", lat, tm->ii, "pixel", lut, ff, dsp);
        buf_printf(&t, "(io_stream latency: from the first / the last pixel of an image)\n");
    }
    else
        buf_printf(&t, "\nio_parallel: not built for comparison (an input of %ld values, more than %d; compile with --io "
                       "parallel to see it)\n", ir_numel(ti), STREAM_COMPARE_MAX);
    return write_both(d, dir, &j, &t, root);
}

