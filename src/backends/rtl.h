/* rtl.h — the circuit of a typed graph: one pipelined netlist per layer,
 * built from constant shift-and-add products, adder trees, casts and ROMs, and
 * scheduled into register stages for a target clock.  The Verilog writer and
 * the report read it. */
#ifndef ETN_RTL_H
#define ETN_RTL_H
#include "ir/ir.h"

typedef enum {
    RN_IN,      /* element `k` of the module input port `port` */
    RN_CONST,   /* the constant `k` */
    RN_ADD,     /* (a << sa) + (b << sb), or minus when `sub` */
    RN_SHR,     /* a >> sa (floor): a slice */
    RN_CAST,    /* fixed-point cast of a (frac `fa`) to `to` */
    RN_SEL,     /* a > 0 ? b : c   (c < 0: zero) */
    RN_CLIP,    /* a < k ? lo : a > k2 ? hi : b   (lo/hi in `c`, `sb` codes) */
    RN_ROM,     /* rom[rom](a): address = clamp(a, k, k2) - k, or the hls4ml index of a */
    RN_MUL,     /* a * b (b a signal), or a * k when b < 0 */
    RN_MAX,     /* max(a, b) */
} RtlOp;

typedef struct {
    RtlOp op;
    int w;              /* width in bits */
    int sign;           /* two's complement (1) or unsigned (0) */
    int a, b, c;        /* operand node ids (-1: none) */
    int sa, sb;         /* shifts (ADD, SHR); port (IN) */
    int sub;            /* ADD: subtract b */
    int64_t k, k2;      /* constants: value (CONST), element (IN), thresholds (CLIP), ROM range */
    int fa;             /* CAST: fractional bits of a */
    FxType to;          /* CAST: target type */
    int rom;            /* ROM: table id */
    double lo, hi;      /* value range of the node (integer codes) */
    int stage;          /* pipeline stage in which the value is ready */
    double t;           /* arrival time within the stage, ns */
    int maxdelay;       /* largest number of registers any reader needs */
} RtlNode;

typedef struct {
    int64_t *data;      /* entries (codes of the output type) */
    long n;             /* entries */
    int aw, dw, dsign;  /* address width, data width, data signedness */
    int hls_index;      /* address is hls4ml's sigmoid/tanh index (k = frac of a, k2 = lgt, sa = lgs) */
} RtlRom;

typedef struct {
    const char *name;   /* module name */
    int node;           /* IR node id (the last one, when a relu is fused) */
    int ports;          /* input ports (1 or 2) */
    int in_tensor[2];   /* IR tensors of the input ports */
    int out_tensor;     /* IR tensor of the output */
    const Node *in_quant[2]; /* QUANT node whose output reaches input port p unchanged (or NULL): each element
                                enters only as wide as its own type's range */
    const unsigned char *live; /* per output element: does any graph output depend on it? (dead: constant 0) */
    RtlNode *n;         /* netlist */
    size_t nn, cn;
    RtlRom *rom;        /* tables */
    size_t nrom, crom;
    int *out;           /* output element node ids */
    long nout;
    int latency;        /* registers between input and output (0: combinational) */
    double in_t, out_t; /* arrival time of the inputs / outputs within their cycle, ns */
    long adders_naive;  /* adders of a shift-and-add per product, without sharing */
    long adders;        /* adders emitted */
    double lut, ff;     /* resource estimate */
    long dsp;           /* multipliers left to DSPs */
} RtlModule;

typedef enum { MULT_CSD, MULT_DSP, MULT_AUTO } MultMode;

typedef struct {
    double clock_mhz;   /* target clock */
    MultMode mult;      /* constant multiplications */
    int all_live;       /* build every element (io_stream's per-position view has no path to the output) */
} RtlOptions;

typedef struct Rtl {
    Arena arena;
    const Graph *g;
    const char *top;    /* the top module's name (names_design of the model name): rtl/TOP.v, tb_TOP, report "model" */
    RtlOptions opt;
    RtlModule *m;       /* one per layer, in order */
    size_t nm;
    int *tensor_cycle;  /* cycle at which each tensor is ready at the top (-1: none) */
    double *tensor_t;   /* and its arrival time within that cycle, ns (layers chain combinationally) */
    int latency;        /* total: input register + layers */
    double budget_ns;   /* combinational time per stage */
} Rtl;

/* Build and schedule the circuit; 0 or -1 with a message. */
int rtl_build(Rtl *r, const Graph *g, const RtlOptions *opt, Diag *d);
void rtl_free(Rtl *r);

/* Write DIR/rtl/NAME*.v and the files list. */
int verilog_write(const Rtl *r, Diag *d, const char *dir);
/* Only the layer modules DIR/rtl/MODULE.v, their names appended to files
 * (one per line); for tops written elsewhere (io_stream). */
int verilog_write_modules(const Rtl *r, Diag *d, const char *dir, Buf *files);

#endif
