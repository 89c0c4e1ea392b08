/* ir.h — the graph: nodes over tensors, every tensor with a per-sample shape
 * and a fixed-point type.  Flat and index-based: ids are array indices and
 * are the stable names used in dumps. */
#ifndef ETN_IR_H
#define ETN_IR_H
#include <stdbool.h>
#include <stdint.h>

#include "ir/fx.h"
#include "ir/ops.h"
#include "util/util.h"

#define IR_MAX_RANK 8   /* array capacity; per-sample ranks <= 6, constants <= 7 */
#define IR_MAX_IN 4   /* OP_RNN: X, W, R, B */

typedef enum { TABLES_EXACT, TABLES_HLS4ML } TablesMode;
/* hls4ml's softmax implementations (Implementation): stable (max-normalised), latency (exp of the input),
 * argmax (one-hot of the first maximum) */
typedef enum { SMAX_STABLE, SMAX_LATENCY, SMAX_ARGMAX } SoftmaxImpl;

/* The part a node plays in an unrolled recurrent layer (rnn.c), which says which of hls4ml's precision
 * variables of the layer types it (hls4ml's recurrent cells, io_parallel):
 *   XDENSE  x W + b:       weight, bias, accum; result accum
 *   HDENSE  h R + b_r:     recurrent_weight, recurrent_bias, accum; result accum
 *   ACCUM   gate sums, gate activations, reset-gated products: result accum (activations: table)
 *   EXACT   the products and sums of a state update: exact (no bit lost), cast once by the STATE after them
 *   STATE   the new state (LSTM cell state, the output h): result
 *   MOVE    the step's input row, the sequence of states: the inputs' types, unchanged */
typedef enum {
    RNN_ROLE_NONE, RNN_ROLE_XDENSE, RNN_ROLE_HDENSE, RNN_ROLE_ACCUM, RNN_ROLE_EXACT, RNN_ROLE_STATE, RNN_ROLE_MOVE
} RnnRole;

/* A node of an unrolled recurrent layer (passes/rnn_unroll.c): its part in the cell; all zero elsewhere. */
typedef struct {
    RnnRole role;               /* which layer variable types it (above) */
    int unit;                   /* the nodes of one unrolled layer (one direction): the same id > 0; 0: none */
    int step;                   /* the time step (in processing order) the node belongs to; T: the layer's output
                                   reshape */
    int state;                  /* 1: the node's output is the state h the next step reads, 2: the LSTM cell state c
                                   (before any state quantizer); 0: neither */
    bool is_static;             /* LayerName[layer].Static: true: one cell reused over the steps (hw/rnn_static.c) */
    int dir;                    /* RNN_DIR_*: the direction of a bidirectional layer the node is part of, whose
                                   per-direction precision variables and ReuseFactors (forward_weight,
                                   BackwardRecurrentReuseFactor, ...) reach it; 0 elsewhere */
} RnnCell;

/* RnnCell.dir, RnnAttr.dir: not bidirectional; the forward / backward layer of a bidirectional one */
enum { RNN_DIR_NONE, RNN_DIR_FORWARD, RNN_DIR_BACKWARD };

typedef enum { RNN_SIMPLE, RNN_LSTM, RNN_GRU } RnnKind;

/* OP_RNN: one recurrent layer (one direction) before the rnn_unroll pass makes it one cell per time step.
 * Inputs X [T, F], W [F][G*U], R [U][G*U], B [2][G*U] (row 0 the input bias bx, row 1 the recurrent bias bh; -1
 * when the layer has neither); G gates in Keras's order: LSTM i f c o, GRU z r h, SimpleRNN one.  Types a QKeras
 * quantizer gave W, R and the biases are pinned on those constants.  Output: the last state [U], or the states
 * [T, U] with return_sequences.  Node.name: the prefix of the unrolled nodes' names (NAME_tK_ROLE); Node.layer:
 * the layer every unrolled node keeps (LayerName); Node.quantized: every unrolled node's. */
typedef struct {
    RnnKind kind;
    int T, F, U;                /* time steps, input features, units */
    const char *act, *ract;     /* activation, recurrent activation: tanh, sigmoid, hard_sigmoid, relu, linear */
    double hs_slope[2];         /* hard_sigmoid's slope (shift 0.5), of act and of ract */
    const FxType *act_q[2];     /* QKeras: act's, ract's output quantizer, a rounding and saturating cast to this
                                   type after a clip to its range (NULL: none) */
    const FxType *state_q;      /* QKeras: the state quantizer, the same cast on the state each step reads (h, and
                                   an LSTM's cell state) (NULL: none) */
    bool has_bx, has_bh;        /* which rows of B the layer has (B absent: neither) */
    bool reset_after, go_backwards, return_sequences;
    int dir;                    /* RNN_DIR_*: which layer of a bidirectional one this is (RnnCell.dir) */
    const int *steps;           /* NULL, or T tensor ids (input order): the state after each input step, read by a
                                   Bidirectional or ONNX merge; the unroll pass replaces them by the cells' states */
} RnnAttr;

typedef struct {
    const char *name;           /* unique name (from the model file) */
    int rank;                   /* number of per-sample dimensions (batch excluded) */
    int dims[IR_MAX_RANK];      /* per-sample shape, row-major */
    FxType type;                /* fixed-point type; valid once has_type */
    bool has_type;              /* set by the precision pass */
    bool type_pinned;           /* `type` was fixed by a quantizer in the model file: the precision pass keeps it */
    bool wide_decl;             /* --hls4ml 'auto': the type hls4ml infers for this value has more than 64 bits */
    FxType decl;                /* with wide_decl: that declared type (W > 64), which later 'auto' inferences
                                   follow; `type` then holds the same value: decl's fraction bits, the fewest
                                   integer bits holding the value's exact interval (README "'auto' types") */
    int producer;               /* node id, or -1 for graph inputs and constants */
    bool is_const;              /* a constant (weights); data holds its float values */
    double *data;               /* constants: numel() float values (arena) */
    int64_t *codes;             /* constants: numel() codes in `type` (arena; after precision) */
    bool codes_hls4ml;          /* constants: codes made through hls4ml's decimal literals */
    int const_rank;             /* constants: rank of data as stored (may differ from per-sample view) */
    int const_dims[IR_MAX_RANK];/* constants: full shape */
} Tensor;

typedef struct {
    Op op;
    const char *name;           /* layer name: the key for LayerName config */
    const char *layer;          /* the source layer this node is part of when a front end built one layer from
                                   several nodes (an unrolled LSTM), else NULL: LayerName[layer] reaches it too */
    const char *src_op;         /* the source model's op type, for messages */
    const char *src_name;       /* the ONNX node's own name where `name` differs from it (lower case, '_' for
                                   other characters), else NULL: hls4ml's configs name the node so, and
                                   LayerName[src_name] reaches it too */
    int in[IR_MAX_IN];          /* tensor ids: data input first, then constants; -1 if absent */
    int nin;                    /* number of used slots in in[] */
    int out;                    /* output tensor id */
    bool dead;                  /* removed by a pass; skipped everywhere */
    /* attributes */
    double alpha, beta;         /* LeakyRelu alpha; HardSigmoid slope/shift; Clip min/max; Selu alpha/gamma */
    int axis;                   /* Softmax axis, per-sample (negative counts from the end) */
    /* precision and implementation (set by the precision pass from the config) */
    FxType accum;               /* DENSE/SOFTMAX: accumulator type */
    FxType table_t;             /* SIGMOID/TANH: table entry type */
    FxType exp_t, inv_t;        /* SOFTMAX: exp and inverse table types */
    FxType alpha_t, beta_t;     /* LEAKYRELU alpha; HARDSIGMOID slope and shift types */
    FxType inv_inp_t;           /* SOFTMAX (hls4ml tables): type of the sum indexing the inverse table */
    bool weights_hls4ml;        /* constants quantized through hls4ml's decimal literals */
    int acc_chain;              /* DENSE/CONV*: ACC_EXACT, or (--sat-order hls4ml, accumulator SAT/SAT_SYM/SAT_ZERO)
                                   each product cast to accum, then added one at a time in input order, each sum
                                   cast to accum; the bias first (ACC_BIAS_FIRST) or last (ACC_BIAS_LAST: hls4ml
                                   splits an ONNX MatMul+Add into a bias-less Dense and a bias layer) */
    int table_size;             /* hls4ml-mode table entries (SIGMOID/TANH/SOFTMAX/LAYERNORM) */
    int table_range;            /* LAYERNORM, hls4ml tables: hls4ml's table_range_power2 r (the table spans 2^-r) */
    double epsilon;             /* LAYERNORM: added to the variance (in[1] the scale, in[2] the bias, one per element
                                   of the last axis, which the layer normalises) */
    TablesMode tables;          /* how non-linear activations are tabulated */
    SoftmaxImpl smax_impl;      /* SOFTMAX: hls4ml's Implementation (TABLES_HLS4ML; argmax in either mode) */
    int reuse;                  /* ReuseFactor (kept for back ends) */
    const char *strategy;       /* "Latency" or "Resource" (kept for back ends) */
    int fused_relu;             /* DENSE: id of a RELU node computed inline, or -1 */
    /* CONV*, *POOL*, PAD, UPSAMPLE geometry, [0] = height, [1] = width (1-D: [0] is the unit axis) */
    int kernel[2];              /* window size in input pixels (before dilation) */
    int stride[2];              /* window step; UPSAMPLE: the repeat factor */
    int dilation[2];            /* CONV*: distance between window taps */
    int pad_lo[2], pad_hi[2];   /* zero padding before / after (PAD: negative values crop) */
    int groups;                 /* CONV*: channel groups (cin for depthwise); 0 or 1: dense over all channels */
    int in_dil[2];              /* CONV*: 0: an ordinary convolution; >= 1: a transposed convolution's stride: the
                                   window reads the input as if in_dil - 1 zeros stood between neighbouring pixels
                                   (those taps add no term, as padding adds none), and pad_lo/pad_hi may be negative
                                   (a crop).  ir_in_dil() reads it (1 where 0). */
    bool count_pad;             /* AVGPOOL*: divide by the whole window, not only the pixels inside the image */
    int perm[IR_MAX_RANK];      /* TRANSPOSE: output axis k is input axis perm[k] */
    int levels;                 /* THRESHOLD: 2: y = x >= in[1] ? 1 : -1;  3: y = x > in[1] ? 1 : x <= in[2] ? -1 : 0
                                   (hls4ml's BatchNormalization + binary/ternary tanh; thresholds at x's LSB, floored) */
    bool accum_pinned;          /* DENSE: `accum` was set by the front end (hls4ml's binary/ternary dense after a THRESHOLD) */
    bool result_auto;           /* AFFINE: the result is 'auto' whatever the configuration says (hls4ml's ApplyAlpha
                                   after a QKeras kernel with alpha 'auto', whose precision hls4ml sets to 'auto') */
    FxType *qtypes;             /* QUANT: the type of each output element (nq entries; nq = 1: every element), cast
                                   from the input; w = 0: the element is pruned to 0.  The output tensor's
                                   type is a container holding every element's values exactly. */
    long nq;
    const double *lut;          /* LUT: the result for every input value lut_lo + k 2^-lut_f, k < nlut (HGQ2's
                                   QUnaryFunctionLUT, its output quantizer applied); the result type is pinned */
    long nlut;
    double lut_lo;
    int lut_f;
    const char *folded;         /* DENSE/CONV/AFFINE: the names of the affine layers (BatchNormalization) folded
                                   into it, comma-separated (NULL: none), so that a LayerName entry for one still names
                                   something */
    RnnCell cell;               /* nodes of an unrolled recurrent layer: their part in it */
    const char *hls_class;      /* hls4ml's class of the layer this node computes when it differs from its op's
                                   (op_hls_class): a Dense lowered from an EinsumDense, a Dot summing an Einsum's
                                   products (frontends/einsum.c); its LayerType entry, and under --auto-types hls4ml
                                   'auto' is the default (hls4ml infers no type for these), else NULL */
    bool moves;                 /* part of a lowered layer that only moves bits (an Einsum's repeat): its result
                                   is its input's type, whatever the configuration says */
    bool quantized;             /* set by front ends for quantized layers (QKeras, QONNX): with no precision
                                   configured for it, a DENSE gets exact ('auto') accum and result types */
    union {                     /* the attributes of some ops, selected by op */
        RnnAttr rnn;            /* OP_RNN */
    } attr;
} Node;

enum { ACC_EXACT, ACC_BIAS_FIRST, ACC_BIAS_LAST };

typedef struct {
    Arena arena;                /* owns every name and constant */
    const char *file;           /* the model file, for messages */
    const char *name;           /* model name (file stem), a C identifier */
    Tensor *t;                  /* tensors */
    size_t nt, ct;
    Node *n;                    /* nodes, in topological order */
    size_t nn, cn;
    int *inputs;                /* graph input tensor ids */
    size_t ninputs, cinputs;
    int *outputs;               /* graph output tensor ids */
    size_t noutputs, coutputs;
} Graph;

void ir_init(Graph *g, const char *file);
void ir_free(Graph *g);
int ir_add_tensor(Graph *g, const char *name, int rank, const int *dims);
int ir_add_const(Graph *g, const char *name, int rank, const int *dims, const double *data);
/* Constant dst holds src's values (rearranged): it keeps a type a quantizer pinned on src. */
void ir_pin_from(Graph *g, int dst, int src);
int ir_add_node(Graph *g, Op op, const char *name, const char *src_op, const int *in, int nin, int out);
int ir_find_tensor(const Graph *g, const char *name);
long ir_numel(const Tensor *t);
long ir_const_numel(const Tensor *t);
int ir_consumers(const Graph *g, int tensor, int *first);  /* count of live nodes reading it */
bool ir_is_output(const Graph *g, int tensor);
void ir_replace_uses(Graph *g, int from, int to);          /* rewire readers and outputs */
void ir_compact(Graph *g);                                  /* drop dead nodes */
void ir_shape_str(const Tensor *t, char *out, size_t n);
/* numpy broadcasting of two operands of shapes da, db (rank dims each, 1 where
 * broadcast) to dims: the operands' element indices for result element e. */
void ir_broadcast_index(long e, int rank, const int *dims, const int *da, const int *db, long *ia, long *ib);

/* Windowed ops: is op one of them, and the geometry of node n's input and output
 * as (H, W, C) with H = 1 for 1-D tensors. */
bool ir_is_window_op(Op op);
bool ir_is_merge_op(Op op);   /* ADD SUB MUL AVERAGE MAXIMUM MINIMUM: elementwise over two tensors */
void ir_hwc(const Tensor *t, int *h, int *w, int *c);
/* Per node id: the node whose relu was fused into it (n->fused_relu), or -1; nn entries in arena a. */
int *ir_fused_into(const Graph *g, Arena *a);
/* Window taps of CONV* and POOL* nodes: tab[(p*taps + t)] = input pixel index (row-major over
 * H,W) of tap t of output pixel p, or -1 where the tap lies in the padding.
 * taps = kernel[0]*kernel[1]; tab has (output pixels * taps) entries. */
void ir_window_taps(const Graph *g, const Node *n, int32_t *tab);
/* n->in_dil[a], 1 where 0; ir_is_transposed(): a transposed convolution */
static inline int ir_in_dil(const Node *n, int a) { return n->in_dil[a] > 1 ? n->in_dil[a] : 1; }
static inline bool ir_is_transposed(const Node *n) { return n->in_dil[0] > 0 || n->in_dil[1] > 0; }
/* Data movement ops (PAD, UPSAMPLE, TRANSPOSE, CONCAT): tab[e] = the input element
 * output element e copies (CONCAT: >= numel(in[0]) means in[1] at tab[e] - numel(in[0])),
 * or -1 for zero.  tab has numel(out) entries. */
void ir_gather_table(const Graph *g, const Node *n, int32_t *tab);
/* CONV*: the weights as a dense matrix [taps*cin][cout] (zero across groups), codes and/or floats. */
void ir_conv_dense_weights(const Graph *g, const Node *n, int64_t *codes, double *vals);

/* QUANT: the smallest type holding every value of every element type in t[0..n-1] (pruned ones,
 * w = 0, hold only 0); -1 if that needs more than 64 bits (63 unsigned). */
int ir_quant_container(const FxType *t, long n, FxType *out);
/* QUANT node n: the type of output element e (w = 0: pruned). */
static inline FxType ir_quant_elem(const Node *n, long e) { return n->qtypes[n->nq == 1 ? 0 : e]; }

/* ThresholdedReLU (OP_THRESHRELU) compares x > theta with theta as its type (alpha_t) holds it: in the input's
 * codes, x > k for the largest code k at or below theta.  Returns -1 when every code of tin is above theta, 1
 * when none is, else 0 with *k (lo <= k < hi of tin). */
int ir_threshold_cut(const Node *n, FxType tin, int64_t *k);

/* Embedding (OP_EMBED, in[1] the table [rows, dd] row-major): the table position that output column i of index
 * code m (type tin) reads, as hls4ml's nnet_embed.h computes it: trunc(x * dd + i) for the index's value x (with
 * an integer type: row x, column i); -1 outside the table (hls4ml reads past its array there; etchnn gives 0).
 * A fractional x mixes rows as hls4ml's does.  The precision pass refuses types where m * dd + (i << F)
 * could leave 62 bits. */
static inline long ir_embed_pos(FxType tin, int64_t m, long rows, long dd, long i)
{
    int f = tin.w - tin.i;
    if (f <= 0) {   /* row m << -f */
        if (m < 0 || -f > 62 || m > (int64_t)((rows - 1) >> -f))
            return -1;
        return (long)(m << -f) * dd + i;
    }
    int64_t q = m * dd + ((int64_t)i << f);
    q = q >= 0 ? q >> f : -((-q) >> f);   /* toward zero */
    return q >= 0 && q < (int64_t)rows * dd ? (long)q : -1;
}

/* hls4ml's class of node n (its LayerType key): n->hls_class, else its op's. */
static inline const char *ir_hls_class(const Node *n) { return n->hls_class ? n->hls_class : op_hls_class[n->op]; }

/* Text dump: one line per tensor and node. */
void ir_dump(const Graph *g, Buf *out);
/* Structural checks; returns 0 or -1 with a message naming the node. */
int ir_verify(const Graph *g, Diag *d, const char *after);

#endif
