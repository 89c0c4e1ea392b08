/* report.c — OUT/report.json and OUT/report.txt: latency, II, the resource
 * estimate and per-layer types, computed from the scheduled netlist without
 * running any tool. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/backends.h"
#include "hw/hw.h"
#include "util/names.h"

static void add_type(cJSON *o, const char *key, const Tensor *t)
{
    char s[64];
    if (!t || !t->has_type)
        return;
    fx_format(t->type, s, sizeof s);
    cJSON_AddStringToObject(o, key, s);
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
    cJSON *u = cJSON_AddObjectToObject(po, "utilization");
    double used[4] = {round(lut) * hw_part_lut_scale(pt), round(ff), dsp, bram};
    long have[4] = {pt->lut, pt->ff, pt->dsp, pt->bram};
    const char *keys[4] = {"lut", "ff", "dsp", "bram"};
    for (int k = 0; k < 4; k++)
        cJSON_AddNumberToObject(u, keys[k], have[k] ? round(used[k] / (double)have[k] * 1e4) / 1e4 : (used[k] > 0 ? 1e9 : 0));
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
    cJSON_AddNumberToObject(io, "n_in", (double)ir_numel(ti));
    cJSON_AddNumberToObject(io, "w_in", ti->type.w);
    add_type(io, "in_type", ti);
    cJSON_AddNumberToObject(io, "n_out", (double)ir_numel(to));
    cJSON_AddNumberToObject(io, "w_out", to->type.w);
    add_type(io, "out_type", to);
    double lut = 0, ff = 0, dsp = 0, bram = 0;
    long adders = 0, naive = 0;
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (size_t k = 0; k < r->nm; k++) {
        const HwModule *m = &r->m[k];
        const Node *n = &g->n[m->node];
        cJSON *l = cJSON_CreateObject();
        char nu[NAMES_TEXT_SIZE];
        cJSON_AddStringToObject(l, "name", names_utf8(nu, sizeof nu, n->name));
        cJSON_AddStringToObject(l, "op", op_names[n->op]);
        cJSON_AddStringToObject(l, "module", m->name);
        if (n->fused_relu >= 0)
            cJSON_AddStringToObject(l, "fused", names_utf8(nu, sizeof nu, g->n[n->fused_relu].name));
        cJSON_AddItemToObject(l, "input_shape", shape_json(&g->t[n->in[0]]));
        cJSON_AddItemToObject(l, "output_shape", shape_json(&g->t[m->out_tensor]));
        add_type(l, "input_type", &g->t[n->in[0]]);
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
        cJSON_AddItemToArray(layers, l);
        lut += m->lut;
        ff += m->ff;
        dsp += (double)m->dsp;
        bram += (double)m->bram;
        adders += m->adders;
        naive += m->adders_naive;
    }
    /* the top's input register, operand alignment registers and valid pipeline */
    ff += (double)(ir_numel(ti) * ti->type.w) + r->latency;
    cJSON *est = cJSON_AddObjectToObject(root, "estimate");
    cJSON_AddNumberToObject(est, "lut", round(lut));
    cJSON_AddNumberToObject(est, "ff", round(ff));
    cJSON_AddNumberToObject(est, "dsp", dsp);
    cJSON_AddNumberToObject(est, "bram", bram);
    cJSON_AddNumberToObject(est, "adders_naive", (double)naive);
    cJSON_AddNumberToObject(est, "adders", (double)adders);
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
        fx_format(g->t[n->in[0]].type, s1, sizeof s1);
        fx_format(g->t[m->out_tensor].type, s2, sizeof s2);
        snprintf(sh, sizeof sh, "%ld", ir_numel(&g->t[m->out_tensor]));
        char ad[32];
        snprintf(ad, sizeof ad, "%ld/%ld", m->adders, m->adders_naive);
        buf_printf(&t, "%-24s %-10s %-10s %-22s %-22s %4d %4d %8.0f %8.0f %4ld %9s\n",
                   names_comment(ln, sizeof ln, n->name),
                   n->fused_relu < 0 ? op_names[n->op] : n->op == OP_DENSE ? "dense+relu" : "conv+relu", sh, s1, s2,
                   m->latency, m->fold ? m->fold->reuse : 1, m->lut, m->ff, m->dsp, ad);
        if (m->fold)
            buf_printf(&t, "%-24s folded: ReuseFactor %d, %ld multiplications on %ld %s multipliers, weights %s%s\n", "",
                       m->fold->reuse, m->fold->nterm, m->fold->nmult, m->fold->dsp ? "DSP" : "logic",
                       m->fold->rom ? "in ROM" : "as constants", m->fold->rom ? " (Strategy Resource)" : "");
        lut += m->lut;
        ff += m->ff;
        dsp += m->dsp;
    }
    const Tensor *ti = &g->t[g->inputs[0]];
    ff += (double)(ir_numel(ti) * ti->type.w) + r->latency;
    if (r->opt.part) {
        const HwPart *pt = r->opt.part;
        double sc = hw_part_lut_scale(pt);
        buf_printf(&t, "\npart %s (%s): %.1f%% of its LUTs%s, %.1f%% FFs, %.1f%% DSPs\n", pt->name, pt->label,
                   100.0 * lut * sc / (double)pt->lut, sc != 1 ? " (LUT4: estimate x 1.6)" : "",
                   100.0 * (ff + (double)(ir_numel(&g->t[g->inputs[0]]) * g->t[g->inputs[0]].type.w) + r->latency) /
                       (double)pt->ff,
                   pt->dsp ? 100.0 * (double)dsp / (double)pt->dsp : 0.0);
    }
    if (r->fit)
        buf_printf(&t, "fit: every Dense/Conv layer's ReuseFactor and multipliers chosen by --fit (report.json \"fit\")\n");
    buf_printf(&t, "\ntotal: latency %d cycles, II %d, estimate %.0f LUT, %.0f FF, %ld DSP "
                   "(adders: shared/naive per layer; estimate made without running any tool)\n",
               r->latency, r->ii, lut, ff, dsp);
    char path[4096];
    int rc = 0;
    snprintf(path, sizeof path, "%s/report.json", dir);
    rc |= backend_write_file(d, path, &j);
    snprintf(path, sizeof path, "%s/report.txt", dir);
    if (!rc)
        rc |= backend_write_file(d, path, &t);
    buf_free(&j);
    buf_free(&t);
    cJSON_Delete(root);
    return rc ? -1 : 0;
}
