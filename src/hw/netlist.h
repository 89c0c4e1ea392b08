/* netlist.h — the hardware IR: one netlist of integer nodes per layer (adds,
 * shifts, casts, selections, ROM reads, multiplies), its constructors, a
 * textual dump and a verifier.  Lowering builds it, scheduling and the
 * estimate annotate it, the writers (Verilog, test bench, report) read it. */
#ifndef ETN_HW_NETLIST_H
#define ETN_HW_NETLIST_H
#include "ir/ir.h"

#define HW_OPS(X) \
    X(IN, "in")       /* element `k` of the module input port `sa` */ \
    X(CONST, "const") /* the constant `k` */ \
    X(ADD, "add")     /* (a << sa) + (b << sb), or minus when `sub` */ \
    X(SHR, "shr")     /* a >> sa (floor): a slice */ \
    X(CAST, "cast")   /* fixed-point cast of a (frac `fa`) to `to` */ \
    X(SEL, "sel")     /* a > 0 ? b : c   (c < 0: zero) */ \
    X(CLIP, "clip")   /* a < k ? lo : a > k2 ? hi : b   (lo/hi in `c`, `sb` codes) */ \
    X(ROM, "rom")     /* rom[rom](a): address = clamp(a, k, k2) - k, or the hls4ml index of a */ \
    X(MUL, "mul")     /* a * b (b a signal), or a * k when b < 0 */ \
    X(MAX, "max")     /* max(a, b) */

typedef enum {
#define HW_ENUM(e, s) HW_##e,
    HW_OPS(HW_ENUM)
#undef HW_ENUM
} HwOp;

extern const char *const hw_op_names[];

typedef struct {
    HwOp op;            /* what the node computes */
    int w;              /* width in bits */
    int sign;           /* two's complement (1) or unsigned (0) */
    int a, b, c;        /* operand node ids (-1: none) */
    int sa, sb;         /* shifts (ADD, SHR); port (IN); the `hi` node (CLIP) */
    int sub;            /* ADD: subtract b */
    int64_t k, k2;      /* constants: value (CONST), element (IN), thresholds (CLIP), ROM range */
    int fa;             /* CAST: fractional bits of a */
    FxType to;          /* CAST: target type */
    int rom;            /* ROM: table id */
    double lo, hi;      /* value range of the node (integer codes) */
    int stage;          /* pipeline stage in which the value is ready */
    double t;           /* arrival time within the stage, ns */
    int maxdelay;       /* largest number of registers any reader needs */
} HwNode;

typedef struct {
    int64_t *data;      /* entries (codes of the output type) */
    long n;             /* entries */
    int aw;             /* address width */
    int dw, dsign;      /* data width and signedness */
    int hls_index;      /* address is hls4ml's sigmoid/tanh index (k = frac of a, k2 = lgt, sa = lgs) */
} HwRom;

/* One multiplication of a folded layer: input element x times the weight code w, into output element o. */
typedef struct {
    long x;             /* element of input port 0 */
    int64_t w;          /* weight code (nonzero) */
    long o;             /* output element */
} HwTerm;

/* A folded (time-multiplexed) Dense or Conv: ReuseFactor R.  Its nonzero
 * multiplications, sorted by output element, are dealt to ceil(n / R)
 * general multipliers: multiplier j computes term j*R + s in slot s (0..R-1).
 * Each output element accumulates the exact sum of its terms (each rounded to
 * the accumulator LSB as FIXED_POINT.md says), starting from its bias; after
 * slot R-1 the accumulator's overflow mode, the result cast and a fused relu
 * give the output, held in a register until the next input's result.  fold.c
 * builds it, verilog.c writes it. */
typedef struct {
    int reuse;          /* R: slots per input, the layer's initiation interval */
    int rom;            /* 1: weights in ROM arrays (Strategy Resource); 0: constants selected per slot (Latency) */
    int dsp;            /* multipliers on DSP blocks (1) or as logic (0) */
    HwTerm *term;       /* the multiplications, by output element then input */
    long nterm;         /* multiplications */
    long nmult;         /* multipliers: ceil(nterm / reuse) */
    int wx;             /* input width as a signed operand (an unsigned input gets a zero sign bit) */
    int sx;             /* input type signed */
    int ww;             /* weight width (signed) */
    int pd;             /* product frac bits minus the accumulator's (> 0: each product rounded with acc.q) */
    FxType acc;         /* accumulator type: its overflow mode applies once, to the exact sum */
    int accw;           /* width of the exact sum */
    int64_t *bias;      /* per output element, in accumulator LSBs */
    FxType res;         /* result type */
    int relu;           /* a relu fused: relu_t is the output type */
    FxType relu_t;
    long rom_bits;      /* weight bits stored (R x multipliers x ww) */
    int cw;             /* slot counter width: 2^cw >= R, also the ROMs' depth */
    int rom_group;      /* Strategy Resource: weights (multipliers) per ROM word, at most 72 bits wide */
} HwFold;

struct HwRnn;   /* a static recurrent layer (hw/rnn_static.h) */

typedef struct HwModule {
    const char *name;   /* module name */
    int node;           /* IR node id (the last one, when a relu is fused) */
    int ports;          /* input ports (1 or 2) */
    int in_tensor[2];   /* IR tensors of the input ports */
    int out_tensor;     /* IR tensor of the output */
    const Node *in_quant[2]; /* QUANT node whose output reaches input port p unchanged (or NULL): each element
                                enters only as wide as its own type's range */
    const unsigned char *live; /* per output element: does any graph output depend on it? (dead: constant 0) */
    HwNode *n;          /* netlist, operands before their users */
    size_t nn, cn;      /* nodes, capacity */
    HwRom *rom;         /* tables */
    size_t nrom, crom;  /* tables, capacity */
    int *out;           /* output element node ids */
    long nout;          /* output elements */
    int latency;        /* registers between input and output (0: combinational) */
    double in_t, out_t; /* arrival time of the inputs / outputs within their cycle, ns */
    long adders_naive;  /* adders of a shift-and-add per product, without sharing */
    long adders;        /* adders emitted */
    long adders_const;  /* of them, additions of a constant (a bias) */
    double lut, ff;     /* resource estimate */
    long dsp;           /* multipliers left to DSPs */
    long bram;          /* block RAMs (18-kbit) of the weight ROMs (Strategy Resource) */
    HwFold *fold;       /* a folded layer (no netlist nodes; out unused), or NULL */
    struct HwRnn *rnn;  /* a static recurrent layer: one cell reused over its steps (no netlist nodes of its own;
                           its cell's modules in rnn->cell), or NULL */
} HwModule;

typedef enum { MULT_CSD, MULT_DSP, MULT_AUTO } MultMode;

/* The scheduler's delay model of one device family (parts.c hw_delay_model),
 * in ns: a node's delay is base + per-bit x width (schedule.c node_delay);
 * each stage loses reg_ns to the registers (clock-to-out, setup). */
typedef struct HwDelay {
    const char *family;         /* "xilinx", "ecp5", "ice40" */
    double reg_ns;              /* register overhead per stage */
    double add0, add_bit;       /* an adder (also a rounding increment, an hls4ml table index) */
    double sat0, sat_bit;       /* a saturating cast: range check and multiplexer, per source bit */
    double sel0, sel_bit;       /* a multiplexer */
    double clip0, clip_bit;     /* a clip (two comparisons and a multiplexer), per source bit */
    double rom0, rom_abit;      /* a table, per address bit */
    double rom_index;           /* a table's own index logic (not hls4ml's) */
    double mul_const, mul_var;  /* a DSP multiplication by a constant, by a variable */
    double max0, max_bit;       /* a comparison and multiplexer (max pooling) */
} HwDelay;

typedef struct {
    double clock_mhz;   /* target clock */
    MultMode mult;      /* constant multiplications */
    int all_live;       /* build every element (io_stream's per-position view has no path to the output) */
    const char *dump_after; /* a step name (hw_steps) or "" / NULL: dump the netlist into `dump` after it */
    Buf *dump;          /* where dumps go (NULL: none) */
    const signed char *node_mult; /* per IR node: its MultMode, overriding mult (-1: mult); NULL: none (--fit sets it) */
    const struct HwPart *part;    /* the target device (--part, Part), or NULL: the report's utilization */
} HwOptions;

/* The multiplier mode of IR node `node`. */
#define HW_NODE_MULT(opt, node) \
    ((opt)->node_mult && (opt)->node_mult[(node)] >= 0 ? (MultMode)(opt)->node_mult[(node)] : (opt)->mult)

typedef struct HwDesign {
    Arena arena;        /* names, tables and per-layer arrays */
    const Graph *g;     /* the typed graph it realises (outlives the design) */
    const char *top;    /* the top module's name (names_design of the model name): rtl/TOP.v, tb_TOP, report "model" */
    HwOptions opt;      /* as given to hw_build */
    HwModule *m;        /* one per layer, in order */
    size_t nm;          /* modules */
    int *tensor_cycle;  /* cycle at which each tensor is ready at the top (-1: none) */
    double *tensor_t;   /* and its arrival time within that cycle, ns (layers chain combinationally) */
    int latency;        /* total: input register + layers */
    int ii;             /* initiation interval: the largest ReuseFactor of a folded layer (1: none) */
    const char *fit;    /* --fit: what was chosen and why (a JSON object's text, hw_fit), or NULL */
    double budget_ns;   /* combinational time per stage */
    const HwDelay *delay;   /* the delay model (the part's family; Xilinx without a part) */
} HwDesign;

/* ---- constructors: each appends one node and returns its id ---- */

/* The width (and signedness, in *sign) of the integer range [lo, hi], at most 64. */
/* Widest node: variables have at most 64 bits, products and exact sums of them up to ~128 (Verilog has no limit;
 * a node reaching this one is refused by hw_verify). */
#define HW_MAX_WIDTH 256
int hw_width(double lo, double hi, int *sign);
/* A node with op set and no operands, for the caller to fill in. */
HwNode hw_node_blank(HwOp op);
/* Append a filled-in node. */
int hw_node_push(HwModule *m, HwNode n);
int hw_const(HwModule *m, int64_t v);
/* Element k of input port `port`, of type t (narrower when m->in_quant says so). */
int hw_in(HwModule *m, int port, long k, FxType t);
/* (a << sa) +/- (b << sb); cap > 0: the result is kept modulo 2^cap (a wrapping accumulator). */
int hw_add(HwModule *m, int a, int sa, int b, int sb, int sub, int cap);
int hw_shr(HwModule *m, int a, int k);
/* a (with fa fractional bits) cast to `to`. */
int hw_cast(HwModule *m, int a, int fa, FxType to);
/* cond > 0 ? x : y, with x (fx fraction bits) and y (fy) each cast to `to`. */
int hw_select_cast(HwModule *m, int cond, int x, int fx, int y, int fy, FxType to);
/* A lookup of node a in table `rom`, giving values of type out; k, k2 as in HwNode. */
int hw_rom_read(HwModule *m, int a, int rom, int64_t k, int64_t k2, FxType out);
/* A table of n entries (codes of out) addressed by aw bits; returns its id. */
int hw_rom_add(HwModule *m, int64_t *data, long n, int aw, FxType out, int hls);

/* ---- reading and checking ---- */

/* The netlist in text: one line per module, ROM and node ("%3 = add %1<<2, %2 ..."). */
void hw_dump(const HwDesign *r, Buf *b);
/* Check the invariants after hardware step `step` (operands defined before their
 * users, widths 1..64, ports and ROM ids valid, outputs defined; once scheduled
 * (`scheduled`), operands ready no later than their users).  0, or -1 with an
 * internal error naming the step, module and node. */
int hw_verify(const HwDesign *r, Diag *d, const char *step, int scheduled);

#endif
