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

#define ETN_OPS(X)                                                                                     \
    X(INPUT,       "input",       "InputLayer",         ETN_V_RESULT)                                  \
    X(DENSE,       "dense",       "Dense",              ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS | ETN_V_ACCUM) \
    X(AFFINE,      "affine",      "BatchNormalization", ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS)      \
    X(ADD,         "add",         "Add",                ETN_V_RESULT)                                  \
    X(RELU,        "relu",        "Activation",         ETN_V_RESULT)                                  \
    X(LEAKYRELU,   "leakyrelu",   "LeakyReLU",          ETN_V_RESULT | ETN_V_WEIGHT)                   \
    X(CLIP,        "clip",        "Clip",               ETN_V_RESULT)                                  \
    X(HARDSIGMOID, "hardsigmoid", "HardActivation",     ETN_V_RESULT | ETN_V_WEIGHT | ETN_V_BIAS)      \
    X(SIGMOID,     "sigmoid",     "Activation",         ETN_V_RESULT | ETN_V_TABLE)                    \
    X(TANH,        "tanh",        "Activation",         ETN_V_RESULT | ETN_V_TABLE)                    \
    X(SOFTMAX,     "softmax",     "Softmax",            ETN_V_RESULT | ETN_V_EXP | ETN_V_INV | ETN_V_ACCUM) \
    X(RESHAPE,     "reshape",     "Reshape",            ETN_V_RESULT)

typedef enum {
#define X(e, n, h, v) OP_##e,
    ETN_OPS(X)
#undef X
    OP_COUNT_
} Op;

extern const char *const op_names[OP_COUNT_];
extern const char *const op_hls_class[OP_COUNT_];
extern const unsigned op_vars[OP_COUNT_];

#endif
