/* rnn.h — recurrent layers (SimpleRNN, LSTM, GRU) as one OP_RNN node per
 * direction (ir.h: RnnAttr), unrolled by the rnn_unroll pass; shared by the
 * front ends, which read the layer's configuration and weights into an RnnSpec. */
#ifndef ETN_RNN_H
#define ETN_RNN_H
#include "ir/ir.h"

typedef struct {
    RnnKind kind;
    int T, F, U;                /* time steps, input features, units */
    const double *W;            /* [F][G*U], G gates in Keras's order: LSTM i f c o, GRU z r h, SimpleRNN one */
    const double *R;            /* [U][G*U] */
    const double *bx;           /* [G*U] or NULL: the input bias */
    const double *bh;           /* GRU reset_after (torch/ONNX linear_before_reset): the recurrent bias, or NULL */
    const char *act, *ract;     /* activation, recurrent activation: tanh, sigmoid, hard_sigmoid, relu, linear */
    double hs_slope[2];         /* hard_sigmoid's slope (shift 0.5), of act and of ract */
    const FxType *act_q[2];     /* QKeras: act's, ract's output quantizer, a rounding and saturating cast to this
                                   type after a clip to its range (NULL: none) */
    const FxType *state_q;      /* QKeras: the state quantizer, the same cast on the state each step reads (h, and
                                   an LSTM's cell state) (NULL: none) */
    const FxType *W_t, *R_t, *b_t; /* QKeras: the types of W, R, bx and bh that their quantizers gave them (pinned),
                                   or NULL */
    int quantized;              /* QKeras: every node is a quantized layer's (Node.quantized) */
    int reset_after, go_backwards, return_sequences;
    int dir;                    /* RNN_DIR_*: the forward or backward layer of a bidirectional one, else 0 */
    const char *layer;          /* the layer's unique name: the node's (unrolled: LAYER_tK_ROLE), and Node.layer */
    const char *src_op;         /* the source op, for messages */
    int *step_h;                /* if not NULL: T entries, set to tensors standing for the state after each input
                                   step t (in input order), which later nodes may read (RnnAttr.steps) */
} RnnSpec;

/* The OP_RNN node of s on x ([T, F]) in g, with constants W, R, B; its output tensor ([U], or [T, U] with
 * return_sequences). */
int rnn_add_node(Graph *g, const RnnSpec *s, int x);

#endif
