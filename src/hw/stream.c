/* stream.c — the io_stream circuit's plan: which layers stream (stages) and
 * which run on the gathered image, the stages' geometry, the per-position view
 * of the graph the kernels are built from, the handshake flow (who may hold
 * back whom, where FIFOs go), the estimate of the control, and --fit.
 *
 * The input enters one pixel (all channels of one position, raster order) per
 * clock with in_valid; in_ready says when the circuit takes it.  Each
 * convolution or pooling layer is a stage: a position counter walks the
 * layer's padded grid (padding positions are generated inside, which is why
 * the stage may hold the source back), a line buffer (a shift register of the
 * last KH-1 grid rows plus KW positions) presents the window, and at every
 * output position the kernel — one netlist module (src/hw), built on a view of the graph
 * in which the layer's input is just the window and its output one pixel —
 * computes the output pixel.  The arithmetic is therefore io_parallel's (CSD shift
 * and add, CSE, adder trees, the same casts), and equal to the emulator.
 * Per-pixel layers (activations, per-channel affine) are stages without a
 * line buffer.  A stage's output goes through a register or, when a later
 * stage can hold it back, a small FIFO whose credit counter throttles the
 * stage.  Where a stream tensor is read by a layer that needs the whole image
 * (Flatten, Transpose, Dense, merges, ...), a collector shifts its pixels
 * into a vector; when every collector holds the same image the vectors enter
 * the io_parallel logic of the remaining layers (netlist modules, as in
 * io_parallel), whose output is out_data, one vector per image.
 *
 * stream_timing() runs the same counters in C (images back to back) to
 * report latency and the initiation interval; etchnn verify measures them in
 * Verilator. */
#include "hw/stream.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/names.h"

/* ---- planning -------------------------------------------------------------- */

int stream_bits(long v)
{
    int b = 1;
    while (b < 62 && (1L << b) <= v)
        b++;
    return b;
}

static int is_pointwise(Op op)
{
    return op == OP_RELU || op == OP_LEAKYRELU || op == OP_THRESHRELU || op == OP_CLIP || op == OP_HARDSIGMOID || op == OP_SIGMOID ||
           op == OP_TANH || op == OP_SELU || op == OP_ELU || op == OP_SOFTPLUS || op == OP_SOFTSIGN || op == OP_LUT;
}

/* AFFINE, THRESHOLD per channel: their constants repeat with period C over the image. */
static int affine_per_channel(const Graph *g, const Node *n, int C)
{
    for (int k = 1; k <= 2; k++) {
        if (n->in[k] < 0)
            continue;
        const Tensor *c = &g->t[n->in[k]];
        long nc = ir_const_numel(c);
        if (!c->codes)
            return 0;
        for (long e = C; e < nc; e++)
            if (c->codes[e] != c->codes[e % C])
                return 0;
    }
    return 1;
}

/* QUANT (HGQ): the element types repeat with period C. */
static int quant_per_channel(const Node *n, long numel, int C)
{
    for (long e = C; e < numel; e++)
        if (!fx_type_eq(ir_quant_elem(n, e), ir_quant_elem(n, e % C)))
            return 0;
    return 1;
}

/* The input tensor and, when the first layer is the ONNX reader's move from
 * channels-first to channels-last, that transpose node. */
static int input_move(const Graph *g, int *move)
{
    int t0 = g->inputs[0];
    *move = -1;
    const Tensor *x = &g->t[t0];
    int first = -1;
    if (ir_consumers(g, t0, &first) != 1 || first < 0 || ir_is_output(g, t0))
        return t0;
    const Node *n = &g->n[first];
    if (n->op != OP_TRANSPOSE)
        return t0;
    if (x->rank == 3 && n->perm[0] == 1 && n->perm[1] == 2 && n->perm[2] == 0) {
        *move = first;
        return n->out;
    }
    if (x->rank == 2 && n->perm[0] == 1 && n->perm[1] == 0) {
        *move = first;
        return n->out;
    }
    return t0;
}

/* A Reshape that only appends unit dimensions to the input's shape ([H, W] ->
 * [H, W, 1], [L] -> [L, 1]), reached from the input through per-element layers
 * (quantizers, activations): the raster order is the same, so the stream takes
 * the input as the Reshape's pixels (HGQ's MNIST models: [28, 28] -> 784 pixels
 * of one value).  The node, or -1. */
static int unit_reshape(const Graph *g)
{
    if (g->ninputs != 1)
        return -1;
    int t = g->inputs[0];
    const Tensor *x = &g->t[t];
    if (x->rank > 2)
        return -1;
    for (;;) {
        int k = -1;
        if (ir_consumers(g, t, &k) != 1 || k < 0 || ir_is_output(g, t) || g->n[k].in[0] != t)
            return -1;
        const Node *n = &g->n[k];
        if (n->op == OP_RESHAPE) {
            const Tensor *y = &g->t[n->out];
            if (y->rank <= x->rank || y->rank > 3)
                return -1;
            for (int i = 0; i < y->rank; i++)
                if (y->dims[i] != (i < x->rank ? x->dims[i] : 1))
                    return -1;
            return k;
        }
        if (n->op != OP_QUANT && !is_pointwise(n->op))
            return -1;
        t = n->out;
    }
}

/* s->gv: g with the tensors from the input to unit_reshape() node r in the
 * Reshape's shape, and the Reshape removed. */
static const Graph *fold_unit_reshape(Stream *s, const Graph *g, int r)
{
    Graph *v = &s->gv;
    *v = *g;
    memset(&v->arena, 0, sizeof v->arena);   /* never used: everything new lives in s->arena */
    v->t = arena_array(&s->arena, g->nt + 1, sizeof(Tensor));
    memcpy(v->t, g->t, g->nt * sizeof(Tensor));
    v->n = arena_array(&s->arena, g->nn + 1, sizeof(Node));
    memcpy(v->n, g->n, g->nn * sizeof(Node));
    v->outputs = arena_array(&s->arena, g->noutputs + 1, sizeof(int));
    memcpy(v->outputs, g->outputs, g->noutputs * sizeof(int));
    const Tensor *y = &g->t[g->n[r].out];
    for (int t = g->inputs[0];; ) {
        v->t[t].rank = y->rank;
        memcpy(v->t[t].dims, y->dims, sizeof y->dims);
        int k = -1;
        ir_consumers(g, t, &k);
        if (k == r)
            break;
        t = g->n[k].out;
    }
    v->n[r].dead = true;
    ir_replace_uses(v, g->n[r].out, g->n[r].in[0]);
    return v;
}

int stream_input_order(const Graph *g, Diag *d, int32_t *perm, long *pixels, int *channels)
{
    if (g->ninputs != 1 || g->noutputs != 1)
        return diag_error(d, "%s: io_stream: expected one input and one output, got %zu and %zu (several inputs and outputs are supported by the emulator, the generated C and the io_parallel RTL: --io parallel --emit c,rtl)", g->file, g->ninputs,
                          g->noutputs);
    const Tensor *x = &g->t[g->inputs[0]];
    int r = unit_reshape(g);
    if (r >= 0) {
        int h, w, c;
        ir_hwc(&g->t[g->n[r].out], &h, &w, &c);
        *pixels = (long)h * w;
        *channels = c;
        for (long e = 0; perm && e < ir_numel(x); e++)
            perm[e] = (int32_t)e;
        return 0;
    }
    if (x->rank < 2 || x->rank > 3)
        return diag_error(d, "%s: io_stream: expected an image input [H, W, C] or a sequence [L, C], got the input '%s' of "
                          "rank %d (use io_parallel)", g->file, x->name, x->rank);
    int move;
    int t = input_move(g, &move);
    int h, w, c;
    ir_hwc(&g->t[t], &h, &w, &c);
    *pixels = (long)h * w;
    *channels = c;
    if (perm) {
        long n = ir_numel(x);
        if (move >= 0)
            ir_gather_table(g, &g->n[move], perm);
        else
            for (long e = 0; e < n; e++)
                perm[e] = (int32_t)e;
    }
    return 0;
}

static int plan(Stream *s, Diag *d)
{
    const Graph *g = s->g;
    if (stream_input_order(g, d, NULL, &s->P0, &s->C0) < 0)
        return -1;
    s->node_kind = arena_array(&s->arena, g->nn + 1, 1);
    s->is_stream = arena_array(&s->arena, g->nt + 1, 1);
    s->copy = arena_array(&s->arena, g->nt + 1, sizeof(int));
    for (size_t t = 0; t < g->nt; t++)
        s->copy[t] = -1;
    int move;
    s->in_tensor = input_move(g, &move);
    if (move >= 0)
        s->node_kind[move] = 2;
    s->is_stream[s->in_tensor] = 1;
    s->st = arena_array(&s->arena, g->nn + 1, sizeof(Stage));
    s->col = arena_array(&s->arena, g->nt + 1, sizeof(Collector));
    int *fused_into = ir_fused_into(g, &s->arena);
    for (size_t k = 0; k < g->nn; k++) {
        const Node *n = &g->n[k];
        if (n->dead || n->op == OP_INPUT || s->node_kind[k] == 2)
            continue;
        if (fused_into[k] >= 0) {
            s->node_kind[k] = s->node_kind[fused_into[k]] == 1 ? 3 : 0;
            continue;
        }
        if (n->in[0] < 0 || !s->is_stream[n->in[0]])
            continue;   /* parallel */
        const Tensor *x = &g->t[n->in[0]];
        int h, w, c;
        ir_hwc(x, &h, &w, &c);
        int win = n->op == OP_CONV1D || n->op == OP_CONV2D || n->op == OP_MAXPOOL1D || n->op == OP_MAXPOOL2D ||
                  n->op == OP_AVGPOOL1D || n->op == OP_AVGPOOL2D;
        int avg = n->op == OP_AVGPOOL1D || n->op == OP_AVGPOOL2D;
        int padded = n->pad_lo[0] > 0 || n->pad_lo[1] > 0 || n->pad_hi[0] > 0 || n->pad_hi[1] > 0;
        if (avg && padded && !n->count_pad)
            return diag_error(d, "%s: node '%s' (%s): io_stream: average pooling over padding that is not counted (the "
                              "divisor changes with the position) is not supported in streaming; use io_parallel",
                              g->file, n->name, n->src_op);
        if (win && ir_is_transposed(n) && (ir_in_dil(n, 0) > 1 || ir_in_dil(n, 1) > 1 || n->pad_lo[0] < 0 ||
                                           n->pad_lo[1] < 0 || n->pad_hi[0] < 0 || n->pad_hi[1] < 0))
            return diag_error(d, "%s: node '%s' (%s): io_stream: a transposed convolution with strides %s (zeros "
                              "between the input pixels) or pads beyond the window is not built in streaming (strides 1 "
                              "is); use io_parallel", g->file, n->name, n->src_op,
                              x->rank == 2 ? arena_printf(&s->arena, "%d", ir_in_dil(n, 1))
                                           : arena_printf(&s->arena, "%dx%d", ir_in_dil(n, 0), ir_in_dil(n, 1)));
        int up = n->op == OP_UPSAMPLE;
        int pad = n->op == OP_PAD;
        int merge = 0;
        if ((ir_is_merge_op(n->op) || n->op == OP_CONCAT) && n->in[1] >= 0 && s->is_stream[n->in[1]]) {
            int h2, w2, c2;
            ir_hwc(&g->t[n->in[1]], &h2, &w2, &c2);
            /* per pixel: the same grid, and a concatenation along the channels */
            merge = h2 == h && w2 == w && g->t[n->in[1]].rank == x->rank &&
                    (n->op != OP_CONCAT || n->axis == x->rank - 1 || n->axis == -1);
        }
        win |= pad;
        int point = is_pointwise(n->op) || ((n->op == OP_AFFINE || n->op == OP_THRESHOLD) && affine_per_channel(g, n, c)) ||
                    (n->op == OP_QUANT && quant_per_channel(n, ir_numel(x), c));
        if (n->op == OP_QUANT && !point)
            return diag_error(d, "%s: node '%s' (%s): io_stream: the quantizer's types vary with the position (HGQ "
                              "heterogeneous); streaming needs the same types at every position (one per channel); "
                              "use io_parallel", g->file, n->name, n->src_op);
        if (!win && !point && !up && !merge)
            continue;   /* reads the whole image: parallel, after a collector */
        Stage *st = &s->st[s->nst++];
        memset(st, 0, sizeof *st);
        st->kind = win ? ST_WINDOW : up ? ST_UP : merge ? ST_MERGE : ST_POINT;
        st->in2 = -1;
        if (merge) {
            st->in2 = n->in[1];
            st->cw2 = g->t[n->in[1]].dims[g->t[n->in[1]].rank - 1] * g->t[n->in[1]].type.w;
            st->qa = st->qb = 1L << 30;   /* sized by the cycle model */
        }
        if (up) {
            /* nearest: each pixel fx times, each row fy times (a row buffer replays it) */
            st->H = h, st->W = w, st->C = c;
            st->sh = n->stride[0] > 0 ? n->stride[0] : 1;
            st->sw = n->stride[1] > 0 ? n->stride[1] : 1;
        }
        st->node = (int)k;
        st->in = n->in[0];
        st->out = n->fused_relu >= 0 ? g->n[n->fused_relu].out : n->out;
        st->cw = c * x->type.w;
        int oh, ow, oc;
        ir_hwc(&g->t[st->out], &oh, &ow, &oc);
        st->ow = oc * g->t[st->out].type.w;
        if (win) {
            st->H = h, st->W = w, st->C = c, st->OH = oh, st->OW = ow;
            int conv = n->op == OP_CONV1D || n->op == OP_CONV2D;
            if (pad) {
                /* ZeroPadding / Cropping: a 1x1 window; a crop moves the first output */
                st->kh = st->kw = st->sh = st->sw = 1;
                st->pt = n->pad_lo[0] > 0 ? n->pad_lo[0] : 0;
                st->pl = n->pad_lo[1] > 0 ? n->pad_lo[1] : 0;
                st->y0 = n->pad_lo[0] < 0 ? -n->pad_lo[0] : 0;
                st->x0 = n->pad_lo[1] < 0 ? -n->pad_lo[1] : 0;
            } else {
                st->kh = n->kernel[0], st->kw = n->kernel[1];
                st->sh = n->stride[0], st->sw = n->stride[1];
                st->pt = n->pad_lo[0], st->pl = n->pad_lo[1];
            }
            st->dh = conv && n->dilation[0] > 0 ? n->dilation[0] : 1;
            st->dw = conv && n->dilation[1] > 0 ? n->dilation[1] : 1;
            st->KH = (st->kh - 1) * st->dh + 1, st->KW = (st->kw - 1) * st->dw + 1;
            st->y0 += st->KH - 1;
            st->x0 += st->KW - 1;
            int needh = (oh - 1) * st->sh + st->y0 + 1, needw = (ow - 1) * st->sw + st->x0 + 1;
            st->Gh = needh > h + st->pt ? needh : h + st->pt;
            st->Gw = needw > w + st->pl ? needw : w + st->pl;
            if (st->pt < 0 || st->pl < 0 || st->sh < 1 || st->sw < 1)
                return diag_error(d, "%s: node '%s' (%s): io_stream: expected non-negative padding and strides >= 1", g->file,
                                  n->name, n->src_op);
            st->padded = st->pt > 0 || st->pl > 0 || st->Gh > h + st->pt || st->Gw > w + st->pl;
            st->N = (long)(st->KH - 1) * st->Gw + st->KW;
            int is_max = n->op == OP_MAXPOOL1D || n->op == OP_MAXPOOL2D;
            st->pad = is_max ? fx_type_min(x->type) : 0;
        }
        s->node_kind[k] = 1;
        s->is_stream[st->out] = 1;
        s->is_stream[n->out] = 1;   /* with a fused relu: its input, inside the stage (no wires, no collector) */
    }
    if (s->nst == 0) {
        int first = -1;
        ir_consumers(g, s->in_tensor, &first);
        const Node *n = first >= 0 ? &g->n[first] : NULL;
        return diag_error(d, "%s: node '%s' (%s): io_stream: the first layer reading the image has no streaming form "
                          "(streaming: Conv1D/2D, pooling, per-pixel activations and per-channel BatchNormalization; "
                          "whole-image layers such as Flatten and Dense follow them); use io_parallel",
                          g->file, n ? n->name : "?", n ? n->src_op : "?");
    }
    /* collectors: stream tensors read by parallel nodes or leaving the graph */
    for (size_t t = 0; t < g->nt; t++) {
        if (!s->is_stream[t])
            continue;
        int need = ir_is_output(g, (int)t);
        for (size_t k = 0; k < g->nn && !need; k++) {
            const Node *n = &g->n[k];
            if (n->dead || s->node_kind[k] != 0)
                continue;
            for (int i = 0; i < n->nin; i++)
                if (n->in[i] == (int)t)
                    need = 1;
        }
        if (!need)
            continue;
        Collector *c = &s->col[s->ncol++];
        int h, w, ch;
        ir_hwc(&g->t[t], &h, &w, &ch);
        c->tensor = (int)t;
        c->P = (long)h * w;
        c->cw = ch * g->t[t].type.w;
    }
    if (s->ncol > 64)
        return diag_error(d, "%s: io_stream: expected at most 64 streamed tensors read by whole-image layers, got %zu",
                          g->file, s->ncol);
    return 0;
}

/* ---- the per-position view ------------------------------------------------- */

static int make_view(Stream *s)
{
    const Graph *g = s->g;
    Graph *f = &s->fg;
    *f = *g;
    size_t cap = g->nt + s->nst + s->ncol + 4;
    f->t = arena_array(&s->arena, cap, sizeof(Tensor));
    memcpy(f->t, g->t, g->nt * sizeof(Tensor));
    f->ct = cap;
    f->n = arena_array(&s->arena, g->nn + 1, sizeof(Node));
    memcpy(f->n, g->n, g->nn * sizeof(Node));
    for (size_t t = 0; t < g->nt; t++) {
        if (!s->is_stream[t])
            continue;
        Tensor *x = &f->t[t];
        int c = x->dims[x->rank - 1];
        for (int k = 0; k < x->rank - 1; k++)
            x->dims[k] = 1;
        x->dims[x->rank - 1] = c;
    }
    for (size_t i = 0; i < s->nst; i++) {
        Stage *st = &s->st[i];
        Node *n = &f->n[st->node];
        if (st->kind != ST_WINDOW)
            continue;
        int wt = (int)f->nt++;
        Tensor *x = &f->t[wt];
        *x = g->t[st->in];
        x->name = arena_printf(&s->arena, "%s_window", g->t[st->in].name);
        x->producer = -1;
        if (x->rank == 3) {
            x->dims[0] = st->kh;
            x->dims[1] = st->kw;
            x->dims[2] = st->C;
        } else {
            x->dims[0] = st->kw;
            x->dims[1] = st->C;
        }
        n->in[0] = wt;
        n->stride[0] = n->stride[1] = 1;
        n->dilation[0] = n->dilation[1] = 1;
        n->pad_lo[0] = n->pad_lo[1] = n->pad_hi[0] = n->pad_hi[1] = 0;
    }
    for (size_t j = 0; j < s->ncol; j++) {
        Collector *c = &s->col[j];
        int ct = (int)f->nt++;
        f->t[ct] = g->t[c->tensor];
        f->t[ct].name = arena_printf(&s->arena, "%s_gathered", g->t[c->tensor].name);
        f->t[ct].producer = -1;
        c->copy = ct;
        s->copy[c->tensor] = ct;
    }
    for (size_t k = 0; k < g->nn; k++) {
        Node *n = &f->n[k];
        if (s->node_kind[k] == 2)
            n->dead = true;
        if (n->dead || s->node_kind[k] != 0)
            continue;
        for (int i = 0; i < n->nin; i++)
            if (n->in[i] >= 0 && s->is_stream[n->in[i]])
                n->in[i] = s->copy[n->in[i]];
    }
    f->inputs = &s->in_tensor;
    int out = g->outputs[0];
    s->out_tensor = s->is_stream[out] ? s->copy[out] : out;
    f->outputs = &s->out_tensor;
    return 0;
}

/* Which stages may hold their input back, and which need an output FIFO. */
static void flow(Stream *s)
{
    const Graph *g = s->g;
    for (size_t i = s->nst; i-- > 0;) {
        Stage *st = &s->st[i];
        int down = 0;
        for (size_t k = i + 1; k < s->nst; k++)
            if ((s->st[k].in == st->out || s->st[k].in2 == st->out) && s->st[k].throttles)
                down = 1;
        for (size_t j = 0; j < s->ncol; j++)
            if (s->col[j].tensor == st->out && (s->ncol > 1 || s->pii > 1))
                down = 1;
        st->fifo = down ? st->lat + 3 : 0;
        st->throttles = down || (st->kind == ST_WINDOW && (st->padded || st->reuse > 1)) ||
                        (st->kind == ST_UP && st->sh * st->sw > 1) || st->kind == ST_MERGE;
    }
    s->in_throttles = 0;
    for (size_t i = 0; i < s->nst; i++)
        if ((s->st[i].in == s->in_tensor || s->st[i].in2 == s->in_tensor) && s->st[i].throttles)
            s->in_throttles = 1;
    for (size_t j = 0; j < s->ncol; j++)
        if (s->col[j].tensor == s->in_tensor && (s->ncol > 1 || s->pii > 1))
            s->in_throttles = 1;
    (void)g;
}

/* Cycles of the parallel part after the collectors fire (as hw_build's
 * tensor_cycle: the gathered vectors are registered, cycle 1). */
static void parallel_cycles(Stream *s)
{
    const Graph *f = &s->fg;
    s->tcyc = arena_array(&s->arena, f->nt + 1, sizeof(int));
    for (size_t t = 0; t < f->nt; t++)
        s->tcyc[t] = -1;
    for (size_t j = 0; j < s->ncol; j++)
        s->tcyc[s->col[j].copy] = 1;
    int *mod_of = arena_array(&s->arena, f->nn + 1, sizeof(int));
    for (size_t k = 0; k < f->nn; k++)
        mod_of[k] = -1;
    for (size_t k = 0; k < s->rtl.nm; k++)
        mod_of[s->rtl.m[k].node] = (int)k;
    for (size_t k = 0; k < f->nn; k++) {
        const Node *n = &f->n[k];
        if (n->dead || n->op == OP_INPUT || s->node_kind[k] != 0)
            continue;
        if (n->op == OP_RESHAPE) {
            s->tcyc[n->out] = s->tcyc[n->in[0]];
            continue;
        }
        int mi = mod_of[k];
        if (mi < 0)
            continue;   /* a fused relu */
        const HwModule *m = &s->rtl.m[mi];
        int c = s->tcyc[m->in_tensor[0]];
        if (m->ports == 2 && s->tcyc[m->in_tensor[1]] > c)
            c = s->tcyc[m->in_tensor[1]];
        s->tcyc[m->out_tensor] = c + m->latency;
    }
    s->plat = s->tcyc[s->out_tensor] + 1;
}

Stream *stream_build(const Graph *g, const HwOptions *opt, Diag *d)
{
    Stream *s = calloc(1, sizeof(Stream));
    if (!s) {
        diag_error(d, "internal: out of memory");
        return NULL;
    }
    for (size_t k = 0; k < g->nn; k++)
        if (!g->n[k].dead && g->n[k].acc_chain != ACC_EXACT) {
            diag_error(d, "%s: node '%s' (%s): --io stream with --sat-order hls4ml (SatOrder) and a saturating "
                       "accumulator is not built; use --io parallel, --sat-order exact or a wrapping accum type",
                       g->file, g->n[k].name, g->n[k].src_op);
            free(s);
            return NULL;
        }
    int r = unit_reshape(g);
    s->g = r >= 0 ? fold_unit_reshape(s, g, r) : g;
    g = s->g;
    if (plan(s, d) < 0 || make_view(s) < 0) {
        stream_free(s);
        return NULL;
    }
    HwOptions o = *opt;
    o.all_live = 1;   /* the view's stages do not reach its output through the graph */
    if (hw_build(&s->rtl, &s->fg, &o, d) < 0) {
        stream_free(s);
        return NULL;
    }
    s->built = 1;
    for (size_t i = 0; i < s->nst; i++) {
        Stage *st = &s->st[i];
        st->module = -1;
        for (size_t k = 0; k < s->rtl.nm; k++)
            if (s->rtl.m[k].node == st->node)
                st->module = (int)k;
        if (st->module < 0) {
            diag_error(d, "internal: io_stream: no module for layer '%s'", g->n[st->node].name);
            stream_free(s);
            return NULL;
        }
        st->lat = s->rtl.m[st->module].latency;
        st->reuse = s->rtl.m[st->module].fold ? s->rtl.m[st->module].fold->reuse : 1;
    }
    s->pii = 1;
    for (size_t k = 0; k < s->rtl.nm; k++)
        if (s->node_kind[s->rtl.m[k].node] == 0 && s->rtl.m[k].fold && s->rtl.m[k].fold->reuse > s->pii)
            s->pii = s->rtl.m[k].fold->reuse;
    flow(s);
    parallel_cycles(s);
    int merges = 0;
    for (size_t i = 0; i < s->nst; i++)
        merges |= s->st[i].kind == ST_MERGE;
    if (merges) {
        /* merge input FIFOs: as deep as the cycle model fills them when they are
         * unbounded (images back to back), plus two */
        long *maxq = calloc(2 * s->nst + 2, sizeof(long));
        StreamTiming tm;
        if (!maxq || stream_timing_run(s, &tm, maxq) < 0) {
            free(maxq);
            diag_error(d, "internal: io_stream: the handshake model of '%s' made no progress", g->name);
            stream_free(s);
            return NULL;
        }
        for (size_t i = 0; i < s->nst; i++)
            if (s->st[i].kind == ST_MERGE) {
                s->st[i].qa = maxq[2 * i] + 2;
                s->st[i].qb = maxq[2 * i + 1] + 2;
            }
        free(maxq);
    }
    return s;
}

void stream_free(Stream *s)
{
    if (!s)
        return;
    if (s->built)
        hw_free(&s->rtl);
    arena_free(&s->arena);
    free(s);
}


/* ---- estimate ------------------------------------------------------------------- */

/* The control and storage around the kernels, in the units of rtl.c's estimate:
 * line buffers (shift registers: synthesis maps runs between taps to SRL
 * LUTs, taps stay flip-flops), counters, valid pipelines, FIFOs, collectors. */
void stream_stage_estimate(const Stream *s, size_t i, double *lut, double *ff)
{
    const Stage *st = &s->st[i];
    double l = 0, f = 0;
    if (st->kind == ST_WINDOW) {
        long taps = (long)st->kh * st->kw;
        long *off = malloc(sizeof(long) * (size_t)taps);
        for (long t = 0; t < taps; t++)
            off[t] = (long)(st->KH - 1 - (t / st->kw) * st->dh) * st->Gw + (st->KW - 1 - (t % st->kw) * st->dw);
        /* offsets descend with t: runs between neighbours */
        long prev = -1;
        for (long t = taps - 1; t >= 0; t--) {
            long run = off[t] - prev - 1;   /* positions between two taps */
            if (run >= 3)
                l += st->cw * ceil((double)run / 32.0);
            else
                f += (double)run * st->cw;
            f += st->cw;
            prev = off[t];
        }
        free(off);
        int wy = stream_bits(st->Gh + st->y0 + 1 + (long)st->OH * st->sh);
        int wx = stream_bits(st->Gw + st->x0 + 1 + (long)st->OW * st->sw);
        int wc = 2 * wy + 2 * wx + stream_bits(st->OH) + stream_bits(st->OW);
        f += wc + 1;
        l += 2.0 * wc + (st->padded ? st->cw : 0);
    }
    if (st->kind == ST_MERGE) {
        f += (double)st->qa * st->cw + (double)st->qb * st->cw2 + 4 * stream_bits(st->qa) + 4 * stream_bits(st->qb);
        l += st->cw * ceil(st->qa / 4.0) + st->cw2 * ceil(st->qb / 4.0) + 24;
    }
    if (st->kind == ST_UP) {
        f += (double)st->cw * (1 + (st->sh > 1 ? st->W : 0)) + 3 * stream_bits(st->W);
        l += (double)st->cw * 1.5 + 3 * stream_bits(st->W);
    }
    f += st->lat + 1;
    if (st->fifo) {
        f += (double)st->fifo * st->ow + 16;
        l += st->ow * ceil(st->fifo / 4.0) + 16;
    } else {
        f += st->ow;
    }
    *lut = l;
    *ff = f;
}


void stream_totals(const Stream *s, double *lut, double *ff, long *dsp)
{
    double l = 0, f = 0;
    long d = 0;
    for (size_t k = 0; k < s->rtl.nm; k++) {
        l += s->rtl.m[k].lut;
        f += s->rtl.m[k].ff;
        d += s->rtl.m[k].dsp;
    }
    for (size_t i = 0; i < s->nst; i++) {
        double a, b;
        stream_stage_estimate(s, i, &a, &b);
        l += a;
        f += b;
    }
    for (size_t j = 0; j < s->ncol; j++) {
        const Collector *c = &s->col[j];
        f += (double)(c->P - 1) * c->cw + (double)c->P * c->cw + stream_bits(c->P);   /* shift register, parallel input register */
        l += stream_bits(c->P) * 2;
        if (s->ncol > 1) {
            f += (double)c->P * c->cw + 1;
            l += (double)c->P * c->cw;
        }
    }
    const Tensor *to = &s->g->t[s->g->outputs[0]];
    f += (double)ir_numel(to) * to->type.w + s->plat;
    *lut = l;
    *ff = f;
    *dsp = d;
}

/* ---- --fit ------------------------------------------------------------------------ */

/* One round of stream_fit: the view of g's stream, its periods and control, and hw_fit_periods on it
 * with `add` more fixed cost (LUT, FF, DSP, BRAM). */
static int fit_round(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, const double *add,
                     signed char *node_mult, Buf *why, Diag *d)
{
    Stream *s = stream_build(g, opt, d);
    if (!s)
        return -1;
    Graph *f = &s->fg;
    long *period = malloc((f->nn + 1) * sizeof(long)), *base = malloc((f->nn + 1) * sizeof(long));
    if (!period || !base) {
        free(period);
        free(base);
        stream_free(s);
        return diag_error(d, "out of memory");
    }
    for (size_t k = 0; k < f->nn; k++)
        period[k] = 1, base[k] = 0;
    for (size_t i = 0; i < s->nst; i++)
        if (s->st[i].kind == ST_WINDOW) {
            /* the kernel runs once per output position, R clocks each; the grid's other positions one clock */
            const Stage *st = &s->st[i];
            period[st->node] = (long)st->OH * st->OW;
            base[st->node] = (long)st->Gh * st->Gw - period[st->node];
        }
    /* the control around the kernels: the stream's totals less its modules */
    double lut, ff, scale = hw_part_lut_scale(p);
    long dsp;
    stream_totals(s, &lut, &ff, &dsp);
    for (size_t k = 0; k < s->rtl.nm; k++) {
        lut -= s->rtl.m[k].lut;
        ff -= s->rtl.m[k].ff;
        dsp -= s->rtl.m[k].dsp;
    }
    double extra[4] = {(lut > 0 ? lut * scale : 0) + add[0], (ff > 0 ? ff : 0) + add[1],
                       (dsp > 0 ? (double)dsp : 0) + add[2], add[3]};
    HwOptions o = *opt;
    o.all_live = 1;
    int rc = hw_fit_periods(f, &o, p, fraction, period, base, extra, node_mult, why, d);
    if (rc == 0)
        for (size_t k = 0; k < g->nn && k < f->nn; k++)
            if (!g->n[k].dead && (g->n[k].op == OP_DENSE || g->n[k].op == OP_CONV1D || g->n[k].op == OP_CONV2D))
                g->n[k].reuse = f->n[k].reuse;
    free(period);
    free(base);
    stream_free(s);
    return rc;
}

int stream_fit(Graph *g, const HwOptions *opt, const HwPart *p, double fraction, signed char *node_mult, Buf *why,
               Diag *d)
{
    /* The control's estimate changes a little with the choice (FIFO depths follow the kernels'
     * latency): the chosen design is built and its totals checked against the budget; what the
     * fit did not see is added to its fixed cost and the fit made again (a few rounds at most). */
    double add[4] = {0, 0, 0, 0}, scale = hw_part_lut_scale(p);
    double budget[4] = {fraction * (double)p->lut, fraction * (double)p->ff, fraction * (double)p->dsp,
                        fraction * (double)p->bram};
    for (int pass = 0; pass < 4; pass++) {
        buf_free(why);
        if (fit_round(g, opt, p, fraction, add, node_mult, why, d) < 0)
            return -1;
        HwOptions o = *opt;
        o.node_mult = node_mult;
        Stream *s = stream_build(g, &o, d);
        if (!s)
            return -1;
        double lut, ff, got[4];
        long dsp;
        StreamTiming tm;
        if (stream_timing(s, &tm) < 0) {
            stream_free(s);
            return diag_error(d, "internal: io_stream: the handshake model of '%s' made no progress", g->name);
        }
        stream_totals(s, &lut, &ff, &dsp);
        got[0] = round(lut) * scale, got[1] = round(ff), got[2] = (double)dsp, got[3] = 0;
        for (size_t k = 0; k < s->rtl.nm; k++)
            got[3] += (double)s->rtl.m[k].bram;
        stream_free(s);
        cJSON *w = cJSON_Parse(why->data ? why->data : "");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(w, "estimate");
        const char *keys[4] = {"lut", "ff", "dsp", "bram"};
        int over = 0;
        for (int k = 0; k < 4; k++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(e, keys[k]);
            double est = cJSON_IsNumber(x) ? x->valuedouble : 0;
            if (got[k] > budget[k] + 1e-9) {
                over = 1;
                add[k] += got[k] - est > 1 ? got[k] - est : 1;
            }
        }
        if (!over) {
            /* the record's II: the cycle model's clocks per image (the layers' periods bound it from below) */
            cJSON_ReplaceItemInObjectCaseSensitive(w, "ii", cJSON_CreateNumber((double)tm.ii));
            char *text = cJSON_PrintUnformatted(w);
            buf_free(why);
            if (text)
                buf_printf(why, "%s", text);
            cJSON_free(text);
            cJSON_Delete(w);
            return text ? 0 : diag_error(d, "out of memory");
        }
        cJSON_Delete(w);
    }
    return diag_error(d, "%s: --fit %g: the chosen io_stream design's estimate stayed above %g of %s after four rounds "
                      "(an internal disagreement between the fit and the final estimate)", g->file, fraction, fraction,
                      p->name);
}

