/* stream.c — the io_stream circuit.
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
#include "backends/stream.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backends.h"
#include "backends/testbench.h"
#include "etchnn.h"
#include "tools/emulate.h"
#include "util/names.h"

typedef enum { ST_WINDOW, ST_POINT, ST_UP, ST_MERGE } StageKind;

typedef struct {
    StageKind kind;
    int node;           /* graph node */
    int module;         /* index into rtl.m */
    int in, out;        /* stream tensors (out: after a fused relu) */
    int in2;            /* ST_MERGE: the second input, else -1 */
    int cw, ow, cw2;    /* bits per input / output / second input pixel */
    long qa, qb;        /* ST_MERGE: input FIFO depths (sized by the cycle model) */
    /* window geometry (grid = the padded input the counters walk) */
    int H, W, C, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl, KH, KW, Gh, Gw;
    int y0, x0;         /* grid row / column of the first output window's last tap (KH-1, KW-1 plus a crop) */
    long N;             /* line buffer length in positions */
    int64_t pad;        /* code shifted in at padded positions */
    int padded;         /* the grid has padded positions */
    int lat;            /* kernel latency */
    int reuse;          /* the kernel's ReuseFactor (a folded conv, src/hw/fold.c): it takes a window at most
                         * every `reuse` cycles, so the stage holds its input while it is busy; 1: every cycle */
    int fifo;           /* output FIFO depth, 0: a plain register */
    int throttles;      /* may deassert its ready */
} Stage;

typedef struct {
    int tensor;         /* the stream tensor */
    int copy;           /* its whole-image tensor in the view */
    long P;             /* pixels */
    int cw;             /* bits per pixel */
} Collector;

struct Stream {
    Arena arena;
    const Graph *g;     /* the model, or gv */
    Graph gv;           /* the model with a unit-dim Reshape after the input folded (unit_reshape) */
    Graph fg;           /* the view the modules are built from */
    HwDesign rtl;
    int built;
    int in_tensor;      /* stream tensor of the input pixels (in fg) */
    int out_tensor;     /* fg tensor behind out_data */
    char *node_kind;    /* per node: 0 parallel, 1 stage, 2 input layout move, 3 fused relu of a stage */
    char *is_stream;    /* per tensor */
    int *copy;          /* per tensor: whole-image copy in fg, or -1 */
    Stage *st;
    size_t nst;
    Collector *col;
    size_t ncol;
    long P0;            /* input pixels */
    int C0;             /* input channels */
    int *tcyc;          /* parallel part: cycle at which each fg tensor is ready after the collectors fire */
    int plat;           /* cycles from the collectors firing to out_valid */
    int pii;            /* the parallel part's II: its largest ReuseFactor (the collectors wait while it is busy) */
    int in_throttles;   /* in_ready can be low */
};

/* ---- planning -------------------------------------------------------------- */

static int pow2_ceil_bits(long v)
{
    int b = 1;
    while (b < 62 && (1L << b) <= v)
        b++;
    return b;
}

static int is_pointwise(Op op)
{
    return op == OP_RELU || op == OP_LEAKYRELU || op == OP_CLIP || op == OP_HARDSIGMOID || op == OP_SIGMOID ||
           op == OP_TANH || op == OP_SELU;
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
        return diag_error(d, "%s: io_stream: expected one input and one output, got %zu and %zu", g->file, g->ninputs,
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

static int timing_run(const Stream *s, StreamTiming *tm, long *maxq);

Stream *stream_build(const Graph *g, const HwOptions *opt, Diag *d)
{
    Stream *s = calloc(1, sizeof(Stream));
    if (!s) {
        diag_error(d, "internal: out of memory");
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
        if (!maxq || timing_run(s, &tm, maxq) < 0) {
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

/* ---- timing: the handshakes in C ------------------------------------------ */

typedef struct {
    long gy, gx, ny, nx, oy, ox;   /* ST_UP: gx input column, ox repeat, gy row repeat */
    long qa, qb;                   /* ST_MERGE: input FIFO items */
    int fire;
    int *vp;        /* valid pipeline, lat + 1 entries */
    long cnt, occ;  /* FIFO items, FIFO items + reservations */
    long cool;      /* a folded kernel's busy cycles left */
} StageSim;

/* A window stage's position produces an output (a window for the kernel). */
static int sim_hit(const Stage *st, const StageSim *q)
{
    return q->gy == q->ny && q->oy != st->OH && q->gx == q->nx && q->ox != st->OW;
}

/* maxq (may be NULL): per stage, the largest occupancy of the two merge input FIFOs */
static int timing_run(const Stream *s, StreamTiming *tm, long *maxq)
{
    const int NIMG = 4;
    memset(tm, 0, sizeof *tm);
    tm->pixels = s->P0;
    StageSim *ss = calloc(s->nst + 1, sizeof(StageSim));
    long *cn = calloc(s->ncol + 1, sizeof(long));
    int *pend = calloc(s->ncol + 1, sizeof(int));
    size_t nt = s->fg.nt + 1;
    int *sv = calloc(nt, sizeof(int)), *sr = calloc(nt, sizeof(int));
    int *rdy = calloc(s->nst + 1, sizeof(int)), *rdy2 = calloc(s->nst + 1, sizeof(int));
    int *crdy = calloc(s->ncol + 1, sizeof(int));
    long first[4], last[4], outc[4];
    int rc = -1;
    int *vpar = NULL;
    if (!ss || !cn || !pend || !sv || !sr || !rdy || !rdy2 || !crdy)
        goto done;
    for (size_t i = 0; i < s->nst; i++) {
        const Stage *st = &s->st[i];
        ss[i].vp = calloc((size_t)st->lat + 2, sizeof(int));
        ss[i].ny = st->y0;
        ss[i].nx = st->x0;
    }
    vpar = calloc((size_t)s->plat + 1, sizeof(int));
    if (!vpar)
        goto done;
    long fed = 0, nout = 0;   /* pixels accepted, images out */
    long pcool = 0;           /* the parallel part's busy cycles left */
    long slow = s->pii;       /* the largest ReuseFactor: a bound on the cycles each image may take */
    for (size_t i = 0; i < s->nst; i++)
        slow = s->st[i].reuse > slow ? s->st[i].reuse : slow;
    long bound = (long)NIMG * (s->P0 + 64) * 64 * slow + 100000;
    for (long cyc = 0; cyc < bound && (nout < NIMG || fed < (long)NIMG * s->P0); cyc++) {
        /* ready and valid from the state */
        for (size_t i = 0; i < s->nst; i++) {
            const Stage *st = &s->st[i];
            StageSim *q = &ss[i];
            int can = st->fifo ? q->occ < st->fifo : 1;
            int real = 1;
            if (st->kind == ST_WINDOW) {
                real = q->gy >= st->pt && q->gy < st->pt + st->H && q->gx >= st->pl && q->gx < st->pl + st->W;
                can &= !(q->cool > 0 && sim_hit(st, q));
            }
            if (st->kind == ST_UP)
                real = q->gy == 0 && q->ox == 0;
            rdy[i] = can && real;
            if (st->kind == ST_MERGE) {
                rdy[i] = q->qa < st->qa;
                rdy2[i] = q->qb < st->qb;
            }
            sv[st->out] = st->fifo ? q->cnt > 0 : q->vp[st->lat];
        }
        for (size_t j = 0; j < s->ncol; j++)
            crdy[j] = !(cn[j] == s->col[j].P - 1 && ((s->ncol > 1 && pend[j]) || pcool > 0));
        sv[s->in_tensor] = fed < (long)NIMG * s->P0;
        for (size_t t = 0; t < nt; t++)
            sr[t] = 1;
        for (size_t i = 0; i < s->nst; i++) {
            sr[s->st[i].in] &= rdy[i];
            if (s->st[i].in2 >= 0)
                sr[s->st[i].in2] &= rdy2[i];
        }
        for (size_t j = 0; j < s->ncol; j++)
            sr[s->col[j].tensor] &= crdy[j];
        /* the source */
        if (sv[s->in_tensor] && sr[s->in_tensor]) {
            long img = fed / s->P0, px = fed % s->P0;
            if (px == 0)
                first[img] = cyc;
            if (px == s->P0 - 1)
                last[img] = cyc;
            fed++;
        } else if (sv[s->in_tensor]) {
            tm->throttled = 1;
        }
        /* collectors */
        int fire = 1;
        int done[64];
        for (size_t j = 0; j < s->ncol && j < 64; j++) {
            const Collector *c = &s->col[j];
            int take = sv[c->tensor] && sr[c->tensor];
            done[j] = take && cn[j] == c->P - 1;
            if (take)
                cn[j] = cn[j] == c->P - 1 ? 0 : cn[j] + 1;
            fire &= pend[j] || done[j];
        }
        for (size_t j = 0; j < s->ncol && j < 64; j++)
            pend[j] = fire ? 0 : pend[j] || done[j];
        pcool = fire ? s->pii - 1 : pcool > 0 ? pcool - 1 : 0;
        /* stages */
        for (size_t i = 0; i < s->nst; i++) {
            const Stage *st = &s->st[i];
            StageSim *q = &ss[i];
            int take = sv[st->in] && sr[st->in];
            int f, res;
            if (st->kind == ST_WINDOW) {
                int hit = sim_hit(st, q);
                int can = (st->fifo ? q->occ < st->fifo : 1) && !(q->cool > 0 && hit);
                int real = q->gy >= st->pt && q->gy < st->pt + st->H && q->gx >= st->pl && q->gx < st->pl + st->W;
                int adv = can && (real ? take : 1);
                f = q->fire;
                q->fire = adv && hit;
                res = adv && hit;
                q->cool = res ? st->reuse - 1 : q->cool > 0 ? q->cool - 1 : 0;
                if (adv) {
                    if (q->gx == st->Gw - 1) {
                        q->gx = 0, q->nx = st->x0, q->ox = 0;
                        if (q->gy == st->Gh - 1) {
                            q->gy = 0, q->ny = st->y0, q->oy = 0;
                        } else {
                            if (q->gy == q->ny && q->oy != st->OH)
                                q->ny += st->sh, q->oy++;
                            q->gy++;
                        }
                    } else {
                        if (q->gx == q->nx && q->ox != st->OW)
                            q->nx += st->sw, q->ox++;
                        q->gx++;
                    }
                }
            } else if (st->kind == ST_UP) {
                int can = st->fifo ? q->occ < st->fifo : 1;
                int need = q->gy == 0 && q->ox == 0;
                f = can && (need ? take : 1);
                res = f;
                if (f && ++q->ox == st->sw) {
                    q->ox = 0;
                    if (++q->gx == st->W) {
                        q->gx = 0;
                        if (++q->gy == st->sh)
                            q->gy = 0;
                    }
                }
            } else if (st->kind == ST_MERGE) {
                int can = st->fifo ? q->occ < st->fifo : 1;
                int take2 = sv[st->in2] && sr[st->in2];
                f = can && q->qa > 0 && q->qb > 0;
                res = f;
                q->qa += take - f;
                q->qb += take2 - f;
                if (maxq && q->qa > maxq[2 * i])
                    maxq[2 * i] = q->qa;
                if (maxq && q->qb > maxq[2 * i + 1])
                    maxq[2 * i + 1] = q->qb;
            } else {
                f = take;
                res = take;
            }
            int kv = st->lat == 0 ? f : q->vp[st->lat - 1];
            int pop = st->fifo && q->cnt > 0 && sr[st->out];
            for (int k = st->lat; k > 0; k--)
                q->vp[k] = q->vp[k - 1];
            q->vp[0] = f;
            if (st->fifo) {
                q->cnt += kv - pop;
                q->occ += res - pop;
                if (q->cnt > st->fifo || q->occ > st->fifo)
                    goto done;   /* cannot happen: the credit bounds it */
            }
        }
        /* the parallel part */
        if (vpar[s->plat - 1]) {
            if (nout < NIMG)
                outc[nout] = cyc;
            nout++;
        }
        for (int k = s->plat - 1; k > 0; k--)
            vpar[k] = vpar[k - 1];
        vpar[0] = fire;
    }
    if (nout >= NIMG) {
        /* out_valid is seen after the edge of cycle outc: count edges */
        for (int i = 0; i < NIMG; i++) {
            long a = outc[i] - first[i], b = outc[i] - last[i];
            if (i == 0 || a > tm->lat_first)
                tm->lat_first = a;
            if (i == 0 || b > tm->lat_last)
                tm->lat_last = b;
        }
        tm->ii = outc[NIMG - 1] - outc[NIMG - 2];
        for (int i = 0; i < 3; i++) {
            long a = outc[i] - first[i], b = outc[i] - last[i];
            if (i == 0 || a > tm->chk_first)
                tm->chk_first = a;
            if (i == 0 || b > tm->chk_last)
                tm->chk_last = b;
        }
        tm->chk_ii = outc[2] - outc[1];
        rc = 0;
    }
done:
    free(vpar);
    for (size_t i = 0; ss && i < s->nst; i++)
        free(ss[i].vp);
    free(ss);
    free(cn);
    free(pend);
    free(sv);
    free(sr);
    free(rdy);
    free(rdy2);
    free(crdy);
    return rc;
}

void stream_set_fit(Stream *s, const char *fit_json)
{
    s->rtl.fit = fit_json;
}

int stream_timing(const Stream *s, StreamTiming *tm)
{
    return timing_run(s, tm, NULL);
}

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
    int wy = pow2_ceil_bits(st->Gh + st->y0 + 1 + (long)st->OH * st->sh);
    int wx = pow2_ceil_bits(st->Gw + st->x0 + 1 + (long)st->OW * st->sw);
    int woy = pow2_ceil_bits(st->OH), wox = pow2_ceil_bits(st->OW);
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
                   pow2_ceil_bits(st->reuse - 1) - 1, i, i, can, i, i, L(l1, pow2_ceil_bits(st->reuse - 1), 0));
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
        int wc = pow2_ceil_bits(st->reuse - 1);
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
    int wk = pow2_ceil_bits(st->sw), wc = pow2_ceil_bits(st->W), wr = pow2_ceil_bits(st->sh);
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
    int pw = pow2_ceil_bits(D - 1), cwid = pow2_ceil_bits(D);
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
    int D = st->fifo, pw = pow2_ceil_bits(D - 1), cwid = pow2_ceil_bits(D);
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
        int wn = pow2_ceil_bits(P - 1);
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
        int wc = pow2_ceil_bits(s->pii - 1);
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

/* ---- the Icarus test bench -------------------------------------------------- */

static int write_tb(const Stream *s, Plan *plan, Diag *d, const char *dir, const StreamTiming *tm)
{
    const Graph *g = s->g;
    const Tensor *ti = &g->t[g->inputs[0]], *to = &g->t[g->outputs[0]];
    long nin = ir_numel(ti), nout = ir_numel(to);
    int wi = ti->type.w, wout = to->type.w, cw = s->C0 * wi;
    size_t n = (size_t)(20000 / s->P0);
    if (n > TB_VECTORS)
        n = TB_VECTORS;
    if (n < 8)
        n = 8;
    const char *nm = s->rtl.top;   /* an identifier (names_design) */
    int64_t *x = malloc(n * (size_t)nin * sizeof(int64_t));
    int64_t *y = malloc(n * (size_t)nout * sizeof(int64_t));
    int64_t *px = malloc((size_t)s->C0 * sizeof(int64_t));
    int32_t *perm = malloc((size_t)nin * sizeof(int32_t));
    long maxw = (long)cw > nout * wout ? (long)cw : nout * wout;
    uint32_t *words = malloc((size_t)(maxw + 31) / 32 * sizeof(uint32_t));
    Buf tb = {0}, min = {0}, mout = {0};
    int rc = -1;
    long p0;
    int c0;
    if (!x || !y || !px || !perm || !words) {
        diag_error(d, "internal: out of memory writing the test bench");
        goto done;
    }
    if (stream_input_order(g, d, perm, &p0, &c0) < 0)
        goto done;
    tb_random_codes(ti->type, nin, n, TB_SEED, x);
    emu_run_codes(plan, x, y, n);
    for (size_t ev = 0; ev < n; ev++) {
        for (long p = 0; p < s->P0; p++) {
            for (int c = 0; c < s->C0; c++)
                px[c] = x[ev * (size_t)nin + (size_t)perm[p * s->C0 + c]];
            tb_hex_line(&min, px, s->C0, wi, words);
        }
        tb_hex_line(&mout, y + ev * (size_t)nout, nout, wout, words);
    }
    long timeout = (long)n * (tm->ii + 16) + tm->lat_first + 1000;
    const char *sg = to->type.sign ? "$signed" : "";
    buf_printf(&tb,
               "// tb_%s: self-checking test bench for %s (io_stream), generated by etchnn %s; do not edit.\n"
               "// %zu images (tb_%s_in.mem: one pixel per line, %ld lines per image) are fed back to back,\n"
               "// a pixel per clock whenever in_ready is high; every output (tb_%s_out.mem, one image per\n"
               "// line, from etchnn's bit-exact emulator) must appear with out_valid, in order, exactly once\n"
               "// per image, and the first three at the clocks etchnn's cycle model gives (LF, LL: clocks from\n"
               "// an image's first / last pixel to its output; II: between the second and third outputs).\n"
               "// Prints PASS or FAIL.  Run in this directory:\n"
               "//   iverilog -g2005 -o tb_%s.vvp -c files.f tb_%s.v && vvp -n tb_%s.vvp\n"
               "`timescale 1ns / 1ps\n`default_nettype none\n"
               "module tb_%s;\n"
               "    localparam N = %zu, P = %ld, NOUT = %ld, WO = %d, TIMEOUT = %ld;\n"
               "    localparam LF = %ld, LL = %ld, II = %ld;\n"
               "    reg clk, rst, in_valid;\n    wire in_ready, out_valid;\n"
               "    reg [%d:0] in_data;\n    wire [%ld:0] out_data;\n"
               "    reg [%d:0] vin [0:N*P-1];\n    reg [%ld:0] vout [0:N-1];\n"
               "    integer i, j, k, errors, extra, cyc, ec, late;\n    integer tf [0:2];\n    integer tl [0:2];\n"
               "    integer to [0:2];\n"
               "    %s dut (.clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),\n"
               "        .out_valid(out_valid), .out_data(out_data));\n"
               "    initial clk = 1'b0;\n    always #5 clk = ~clk;\n"
               "    always @(posedge clk)\n"
               "        if (!rst) begin\n"
               "            ec = ec + 1;\n"
               "            if (in_valid && in_ready) begin\n"
               "                if (i %% P == 0 && i / P < 3)\n                    tf[i / P] = ec;\n"
               "                if (i %% P == P - 1 && i / P < 3)\n                    tl[i / P] = ec;\n"
               "                i = i + 1;\n            end\n"
               "            if (out_valid && k < 3)\n                to[k] = ec - 1;\n"
               "            if (out_valid) begin\n"
               "                if (k >= N)\n                    extra = extra + 1;\n"
               "                else if (out_data !== vout[k])\n"
               "                    for (j = 0; j < NOUT; j = j + 1)\n"
               "                        if (out_data[j*WO +: WO] !== vout[k][j*WO +: WO]) begin\n"
               "                            if (errors < 20)\n"
               "                                $display(\"image %%0d output %%0d: expected %%0d, got %%0d\", k, j,\n"
               "                                         %s(vout[k][j*WO +: WO]), %s(out_data[j*WO +: WO]));\n"
               "                            errors = errors + 1;\n"
               "                        end\n"
               "                k = k + 1;\n"
               "            end\n"
               "        end else if (out_valid)\n            extra = extra + 1;\n"
               "    initial begin\n"
               "        $readmemh(\"tb_%s_in.mem\", vin);\n        $readmemh(\"tb_%s_out.mem\", vout);\n"
               "        errors = 0; extra = 0; i = 0; k = 0; ec = 0; late = 0;\n"
               "        rst = 1'b1;\n        in_valid = 1'b0;\n        in_data = {%d{1'b0}};\n"
               "        repeat (3) @(negedge clk);\n        rst = 1'b0;\n"
               "        for (cyc = 0; cyc < TIMEOUT && k < N; cyc = cyc + 1) begin\n"
               "            in_valid = i < N*P;\n"
               "            in_data = i < N*P ? vin[i] : {%d{1'b0}};\n"
               "            @(negedge clk);\n"
               "        end\n"
               "        in_valid = 1'b0;\n"
               "        repeat (P + 20) @(negedge clk);\n"
               "        if (N >= 3 && k >= 3) begin\n"
               "            for (j = 0; j < 3; j = j + 1)\n"
               "                if (to[j] - tf[j] + 1 > LF || to[j] - tl[j] + 1 > LL)\n                    late = late + 1;\n"
               "            if (to[0] - tf[0] + 1 != LF && to[1] - tf[1] + 1 != LF && to[2] - tf[2] + 1 != LF)\n"
               "                late = late + 1;\n"
               "            if (to[2] - to[1] != II)\n                late = late + 1;\n"
               "            if (late)\n"
               "                $display(\"out_valid timing: expected latency %%0d / %%0d and %%0d clocks between images, got %%0d / %%0d, %%0d / %%0d, %%0d / %%0d and %%0d\",\n"
               "                         LF, LL, II, to[0] - tf[0] + 1,\n"
               "                         to[0] - tl[0] + 1, to[1] - tf[1] + 1, to[1] - tl[1] + 1, to[2] - tf[2] + 1,\n"
               "                         to[2] - tl[2] + 1, to[2] - to[1]);\n"
               "        end\n"
               "        if (errors == 0 && extra == 0 && k == N && late == 0)\n"
               "            $display(\"PASS: %%0d images of %%0d pixels, back to back: all %%0d outputs equal\", N, P, N * NOUT);\n"
               "        else\n"
               "            $display(\"FAIL: %%0d of %%0d outputs differ; %%0d images out of %%0d, %%0d extra out_valid, %%0d timing errors\",\n"
               "                     errors, N * NOUT, k, N, extra, late);\n"
               "        $finish;\n"
               "    end\nendmodule\n`default_nettype wire\n",
               nm, nm, ETCHNN_VERSION, n, nm, s->P0, nm, nm, nm, nm, nm, n, s->P0, nout, wout, timeout, tm->chk_first,
               tm->chk_last, tm->chk_ii, cw - 1,
               nout * wout - 1, cw - 1, nout * wout - 1, nm, sg, sg, nm, nm, cw, cw);
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
    free(px);
    free(perm);
    free(words);
    buf_free(&tb);
    buf_free(&min);
    buf_free(&mout);
    return rc;
}

/* ---- estimate and report -------------------------------------------------------- */

/* The control and storage around the kernels, in the units of rtl.c's estimate:
 * line buffers (shift registers: synthesis maps runs between taps to SRL
 * LUTs, taps stay flip-flops), counters, valid pipelines, FIFOs, collectors. */
static void stage_estimate(const Stream *s, size_t i, double *lut, double *ff)
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
        int wy = pow2_ceil_bits(st->Gh + st->y0 + 1 + (long)st->OH * st->sh);
        int wx = pow2_ceil_bits(st->Gw + st->x0 + 1 + (long)st->OW * st->sw);
        int wc = 2 * wy + 2 * wx + pow2_ceil_bits(st->OH) + pow2_ceil_bits(st->OW);
        f += wc + 1;
        l += 2.0 * wc + (st->padded ? st->cw : 0);
    }
    if (st->kind == ST_MERGE) {
        f += (double)st->qa * st->cw + (double)st->qb * st->cw2 + 4 * pow2_ceil_bits(st->qa) + 4 * pow2_ceil_bits(st->qb);
        l += st->cw * ceil(st->qa / 4.0) + st->cw2 * ceil(st->qb / 4.0) + 24;
    }
    if (st->kind == ST_UP) {
        f += (double)st->cw * (1 + (st->sh > 1 ? st->W : 0)) + 3 * pow2_ceil_bits(st->W);
        l += (double)st->cw * 1.5 + 3 * pow2_ceil_bits(st->W);
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

cJSON *report_json(const HwDesign *r, const char *source_json);
void report_part(cJSON *root, const HwPart *pt, double lut, double ff, double dsp, double bram);

static void stream_totals(const Stream *s, double *lut, double *ff, long *dsp)
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
        stage_estimate(s, i, &a, &b);
        l += a;
        f += b;
    }
    for (size_t j = 0; j < s->ncol; j++) {
        const Collector *c = &s->col[j];
        f += (double)(c->P - 1) * c->cw + (double)c->P * c->cw + pow2_ceil_bits(c->P);   /* shift register, parallel input register */
        l += pow2_ceil_bits(c->P) * 2;
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

static void par_totals(const HwDesign *r, double *lut, double *ff, long *dsp)
{
    double l = 0, f = 0;
    long d = 0;
    for (size_t k = 0; k < r->nm; k++) {
        l += r->m[k].lut;
        f += r->m[k].ff;
        d += r->m[k].dsp;
    }
    const Tensor *ti = &r->g->t[r->g->inputs[0]];
    f += (double)(ir_numel(ti) * ti->type.w) + r->latency;
    *lut = l;
    *ff = f;
    *dsp = d;
}

static int write_report(const Stream *s, const HwDesign *par, const StreamTiming *tm, Diag *d, const char *dir,
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
        stage_estimate(s, i, &a, &b);
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
        stage_estimate(s, i, &a, &b);
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
    if (write_tb(s, plan, d, dir, &tm) < 0 || write_report(s, par, &tm, d, dir, source_json) < 0)
        goto done;
    rc = 0;
done:
    buf_free(&files);
    buf_free(&top);
    return rc;
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
