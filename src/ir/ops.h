/* ops.h — the IR's operations, declared once.  X(ENUM, ir_name, hls4ml_class, vars)
 * vars: the precision variables a layer of this op has (ETN_V_* bits). */
#ifndef ETN_OPS_H
#define ETN_OPS_H

#define ETN_V_RESULT 0x01u   /* output tensor type */
#define ETN_V_WEIGHT 0x02u   /* weight (or scale) constants */
#define ETN_V_BIAS   0x04u   /* bias (or shift) constants */
#define ETN_V_ACCUM  0x08u   /* accumulator of a sum of products */
#define ETN_V_TABLE  0x10u   /* activation lookup table entries */
#define ETN_V_EXP    0x20u   /* softmax exp table entries */
#define ETN_V_INV    0x40u   /* softmax inverse table entries */
#define ETN_V_EMBED  0x80u   /* an embedding's table entries (hls4ml's 'embeddings') */

#define ETN_OPS(X)                                                                                     \
    X(INPUT,       "input",       "InputLayer",         ETN_V_RESULT)                                  \
    X(DENSE,       "dense",       "Dense",              ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS | ETN_V_ACCUM) \
    X(AFFINE,      "affine",      "BatchNormalization", ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS)      \
    X(ADD,         "add",         "Add",                ETN_V_RESULT)                                  \
    X(RELU,        "relu",        "Activation",         ETN_V_RESULT)                                  \
    X(LEAKYRELU,   "leakyrelu",   "LeakyReLU",          ETN_V_RESULT | ETN_V_WEIGHT)                   \
    X(PRELU,       "prelu",       "PReLU",              ETN_V_RESULT | ETN_V_WEIGHT)                   \
    X(CLIP,        "clip",        "Clip",               ETN_V_RESULT)                                  \
    X(HARDSIGMOID, "hardsigmoid", "HardActivation",     ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS)      \
    X(SIGMOID,     "sigmoid",     "Activation",         ETN_V_RESULT | ETN_V_TABLE)                    \
    X(TANH,        "tanh",        "Activation",         ETN_V_RESULT | ETN_V_TABLE)                    \
    X(SELU,        "selu",        "Activation",         ETN_V_RESULT | ETN_V_TABLE)                    \
    X(ELU,         "elu",         "ELU",                ETN_V_RESULT | ETN_V_TABLE | ETN_V_WEIGHT)     \
    X(SOFTPLUS,    "softplus",    "Activation",         ETN_V_RESULT | ETN_V_TABLE)                    \
    X(SOFTSIGN,    "softsign",    "Activation",         ETN_V_RESULT | ETN_V_TABLE)                    \
    X(SOFTMAX,     "softmax",     "Softmax",            ETN_V_RESULT | ETN_V_EXP | ETN_V_INV | ETN_V_ACCUM) \
    X(RESHAPE,     "reshape",     "Reshape",            ETN_V_RESULT)                                  \
    X(CONV1D,      "conv1d",      "Conv1D",             ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS | ETN_V_ACCUM) \
    X(CONV2D,      "conv2d",      "Conv2D",             ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS | ETN_V_ACCUM) \
    X(MAXPOOL1D,   "maxpool1d",   "MaxPooling1D",       ETN_V_RESULT | ETN_V_ACCUM)                    \
    X(MAXPOOL2D,   "maxpool2d",   "MaxPooling2D",       ETN_V_RESULT | ETN_V_ACCUM)                    \
    X(AVGPOOL1D,   "avgpool1d",   "AveragePooling1D",   ETN_V_RESULT | ETN_V_ACCUM)                    \
    X(AVGPOOL2D,   "avgpool2d",   "AveragePooling2D",   ETN_V_RESULT | ETN_V_ACCUM)                    \
    X(PAD,         "pad",         "ZeroPadding2D",      ETN_V_RESULT)                                  \
    X(UPSAMPLE,    "upsample",    "UpSampling2D",       ETN_V_RESULT)                                  \
    X(TRANSPOSE,   "transpose",   "Transpose",          ETN_V_RESULT)                                  \
    X(CONCAT,      "concat",      "Concatenate",        ETN_V_RESULT)                                  \
    X(SUB,         "sub",         "Subtract",           ETN_V_RESULT)                                  \
    X(MUL,         "mul",         "Multiply",           ETN_V_RESULT)                                  \
    X(AVERAGE,     "average",     "Average",            ETN_V_RESULT)                                  \
    X(MAXIMUM,     "maximum",     "Maximum",            ETN_V_RESULT)                                  \
    X(MINIMUM,     "minimum",     "Minimum",            ETN_V_RESULT)                                  \
    X(THRESHOLD,   "threshold",   "BatchNormalizationQuantizedTanh", ETN_V_RESULT)                                  \
    X(QUANT,       "quant",       "FixedPointQuantizer", ETN_V_RESULT)                               \
    X(RNN,         "rnn",         "Recurrent",          ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS | ETN_V_ACCUM) \
    X(THRESHRELU,  "thresholdedrelu", "ThresholdedReLU", ETN_V_RESULT | ETN_V_WEIGHT) \
    X(EMBED,       "embedding",   "Embedding",          ETN_V_RESULT | ETN_V_EMBED)                  \
    X(DOT,         "dot",         "Dot",                ETN_V_RESULT | ETN_V_ACCUM)                    \
    X(LAYERNORM,   "layernorm",   "LayerNormalization", ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS | ETN_V_ACCUM | ETN_V_TABLE) \
    X(LUT,         "unarylut",    "UnaryLUT",           ETN_V_RESULT)

/* Windowed ops (CONV*, *POOL*, PAD, UPSAMPLE) read channels-last per-sample
 * data, [H,W,C] (2-D) or [L,C] (1-D, handled as H = 1); see ir_window_*(). */
typedef enum {
#define X(e, n, h, v) OP_##e,
    ETN_OPS(X)
#undef X
    OP_COUNT_
} Op;

extern const char *const op_names[OP_COUNT_];

/* hls4ml's indexed activation tables (sigmoid, tanh, softplus, softsign): log2 of
 * the input span they sample, [-8, 8) or [-4, 4) for tanh. */
#define ETN_TABLE_SPAN_LOG2(op) ((op) == OP_TANH ? 3 : 4)
extern const char *const op_hls_class[OP_COUNT_];
extern const unsigned op_vars[OP_COUNT_];

#endif
