/* onnx.c — ONNX front end: protobuf (protobuf-c, generated from Debian's
 * onnx.proto) to IR.  Constant subgraphs are evaluated here; data tensors get
 * per-sample shapes (the batch dimension is dropped). */
#include "frontends/frontends.h"
#include "frontends/einsum.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/qonnx.h"
#include "frontends/rnn.h"
#include "onnx.pb-c.h"

#define MAX_FULL_RANK (IR_MAX_RANK - 1)   /* batch + per-sample dims */

/* An output of a recurrent node (RNN, LSTM, GRU), kept as its per-step state vectors until an op reads it
 * whole: torch reads Y and Y_h through Squeeze, Transpose, Gather, Slice and Reshape, mostly to take one
 * step, which then costs no node. */
typedef struct {
    int nt, nd, h;             /* steps, directions, units of each state vector */
    const int *cell;           /* [nt][nd] tensor ids of the [h] state vectors; NULL: LSTM's Y_c (not supported) */
    int rank;                  /* the ONNX value's rank, batch axis included */
    char ax[MAX_FULL_RANK];    /* ONNX axis k: 't' step, 'd' direction, 'n' batch, 'h' unit, 'm' direction and
                                  unit merged (direction major) */
    const char *src, *src_op;  /* the recurrent node's layer name and op, for messages and node names */
} SeqVal;

typedef struct {
    const char *name;          /* ONNX value name */
    int id;                    /* IR tensor id (-1: a recurrent output not built yet, see seq) */
    int cl;                    /* layout: 0: the IR tensor holds the value in ONNX order; 1: the value is
                                  channels-first [C, spatial...] and the IR tensor holds it channels-last */
    int bax;                   /* the ONNX axis of the batch: 0 but after a Transpose that moved it (1 for
                                  time-major data [T, N, F], as recurrent nodes read and write it); the IR
                                  tensor holds the value without it (batch 1: the same data), and only Shape,
                                  Transpose and the recurrent nodes look at bax */
    const SeqVal *seq;         /* a recurrent node's output, or NULL */
    int rev;                   /* 1: the value is the IR tensor with its steps reversed (a full-length
                                  ReverseSequence, tf2onnx's go_backwards); only a forward recurrent node's X reads it */
} Alias;

typedef struct {
    Graph *g;
    Diag *d;
    const char *file;
    int opset;                 /* default-domain opset version */
    Alias *alias;              /* ONNX value names mapped to tensors */
    size_t nalias, calias;
    const char **used_names;   /* layer names handed out so far */
    size_t nused, cused;
    /* the node being imported, for messages */
    const char *node_name;
    const char *node_op;
    QonnxState qonnx;          /* QONNX quantizers seen (qonnx.c) */
} Importer;

#define NODE_ERR(im, ...) node_error((im), __VA_ARGS__)

static int node_error(Importer *im, const char *fmt, ...) ETN_PRINTF(2, 3);
static int node_error(Importer *im, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return diag_error(im->d, "%s: node '%s' (%s): %s", im->file, im->node_name, im->node_op, msg);
}

/* ---- value lookup ------------------------------------------------------ */

static void alias_add(Importer *im, const char *name, int id)
{
    Alias a = {arena_strdup(&im->g->arena, name), id, 0, 0, NULL, 0};
    VEC_PUSH(im->alias, im->nalias, im->calias, a);
}

static void alias_add_cl(Importer *im, const char *name, int id, int cl)
{
    alias_add(im, name, id);
    im->alias[im->nalias - 1].cl = cl;
}

static int lookup_cl(Importer *im, const char *name, int *cl)
{
    for (size_t k = im->nalias; k-- > 0;)
        if (strcmp(im->alias[k].name, name) == 0) {
            *cl = im->alias[k].cl;
            return im->alias[k].id;
        }
    return -1;
}

static int to_layout(Importer *im, const char *name, int id, int cl);
static int alias_tensor(Importer *im, size_t k);

static int lookup(Importer *im, const char *name)
{
    for (size_t k = im->nalias; k-- > 0;)
        if (strcmp(im->alias[k].name, name) == 0)
            return im->alias[k].id;
    return -1;
}

/* The alias of value `name` (the latest), or -1. */
static long alias_find(Importer *im, const char *name)
{
    for (size_t k = im->nalias; k-- > 0;)
        if (strcmp(im->alias[k].name, name) == 0)
            return (long)k;
    return -1;
}

/* Node n's input k as a tensor: its id and layout as stored, or an error. */
static int input_tensor(Importer *im, const Onnx__NodeProto *n, size_t k, int *id, int *cl)
{
    long a = alias_find(im, n->input[k]);
    if (a < 0)
        return NODE_ERR(im, "expected input '%s' to be a graph input, initializer or earlier output, got an undefined name",
                        n->input[k]);
    if ((*id = alias_tensor(im, (size_t)a)) < 0)
        return -1;
    *cl = im->alias[a].cl;   /* a time-major value (bax 1) reads as its per-sample data, as it always did */
    return 0;
}

/* A node's input k: a tensor id, -1 if absent/empty (and optional), or an error. */
static int input_id(Importer *im, const Onnx__NodeProto *n, size_t k, int optional, int *id)
{
    if (k >= n->n_input || n->input[k][0] == 0) {
        if (optional) {
            *id = -1;
            return 0;
        }
        if (k < n->n_input)
            return NODE_ERR(im, "expected input %zu to name a value, got an empty name (an omitted input)", k);
        return NODE_ERR(im, "expected at least %zu input%s, got %zu", k + 1, k ? "s" : "", n->n_input);
    }
    int cl = 0;
    if (input_tensor(im, n, k, id, &cl) < 0)
        return -1;
    if (cl)   /* a channels-last tensor read by an op that expects ONNX order */
        *id = to_layout(im, n->input[k], *id, 0);
    return 0;
}

/* Input k of a layout-aware op: its tensor id and layout as stored. */
static int input_id_cl(Importer *im, const Onnx__NodeProto *n, size_t k, int *id, int *cl)
{
    if (k < n->n_input && n->input[k][0] == 0)
        return NODE_ERR(im, "expected input %zu to name a value, got an empty name (an omitted input)", k);
    if (k >= n->n_input)
        return NODE_ERR(im, "expected at least %zu input%s, got %zu", k + 1, k ? "s" : "", n->n_input);
    *cl = 0;
    return input_tensor(im, n, k, id, cl);
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t k = 0; k < n->n_attribute; k++)
        if (n->attribute[k]->name && strcmp(n->attribute[k]->name, name) == 0)
            return n->attribute[k];
    return NULL;
}

static double attr_f(const Onnx__NodeProto *n, const char *name, double def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    if (!a)
        return def;
    if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT || (a->has_i && !a->has_f))
        return (double)a->i;
    return a->f;
}

/* A float used as an integer (shape, axis): clamped to +-2^40 (NaN: -2^40) so
 * that the conversion is defined; range checks downstream reject such values. */
static long to_long(double v)
{
    return v < 0x1p40 ? (v > -0x1p40 ? (long)v : -(1L << 40)) : v == v ? 1L << 40 : -(1L << 40);
}

/* a*b for a, b >= 0, saturating at LONG_MAX. */
static long mul_sat(long a, long b) { return b && a > LONG_MAX / b ? LONG_MAX : a * b; }

/* "[d0,d1,...]" of n dimensions given as longs. */
static void lshape_str(int n, const long *d, char *out, size_t len)
{
    size_t w = (size_t)snprintf(out, len, "[");
    for (int k = 0; k < n && w < len; k++)
        w += (size_t)snprintf(out + w, len - w, "%s%ld", k ? "," : "", d[k]);
    if (w < len)
        snprintf(out + w, len - w, "]");
}

/* The name of an ONNX TensorProto data type, for messages. */
static const char *dtype_name(int dt)
{
    static const char *const names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64",
                                        "string", "bool", "float16", "double", "uint32", "uint64", "complex64",
                                        "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
                                        "float8e5m2fnuz", "uint4", "int4"};
    return dt >= 0 && dt < (int)(sizeof names / sizeof names[0]) ? names[dt] : "unknown";
}

static long attr_i(const Onnx__NodeProto *n, const char *name, long def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    if (!a)
        return def;
    if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
        return to_long(a->f);
    return (long)a->i;
}

/* ---- constants --------------------------------------------------------- */

static int tensor_to_double(Importer *im, const Onnx__TensorProto *tp, const char *what, int *rank, int *dims,
                            double **out)
{
    if (tp->n_dims > MAX_FULL_RANK)
        return NODE_ERR(im, "expected %s of rank <= %d, got rank %zu", what, MAX_FULL_RANK, tp->n_dims);
    long n = 1, ld[MAX_FULL_RANK];
    char s[160];
    for (size_t k = 0; k < tp->n_dims; k++)
        ld[k] = (long)tp->dims[k];
    lshape_str((int)tp->n_dims, ld, s, sizeof s);
    for (size_t k = 0; k < tp->n_dims; k++)
        if (tp->dims[k] < 0 || tp->dims[k] > (1L << 24))
            return NODE_ERR(im, "expected %s dimensions in 0..16777216 (2^24), got %lld on axis %zu of %s", what,
                            (long long)tp->dims[k], k, s);
    for (size_t k = 0; k < tp->n_dims; k++) {
        dims[k] = (int)tp->dims[k];
        n = mul_sat(n, dims[k]);
    }
    if (n > (1L << 26))
        return NODE_ERR(im, "expected %s of at most 67108864 (2^26) elements, got %ld (%s)", what, n, s);
    *rank = (int)tp->n_dims;
    double *v = arena_array(&im->g->arena, (size_t)(n ? n : 1), sizeof(double));
    size_t esize;
    int dt = tp->has_data_type ? tp->data_type : 0;
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: esize = 4; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: esize = 8; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: esize = 8; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: esize = 4; break;
    default:
        return NODE_ERR(im, "expected %s of type float, double, int32 or int64, got ONNX data type %d (%s)", what, dt,
                        dtype_name(dt));
    }
    if (tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return NODE_ERR(im, "expected %s '%s' with its data inside the model file, got external data (not supported)",
                        what, tp->name ? tp->name : "");
    if (tp->has_raw_data) {
        if (tp->raw_data.len != (size_t)n * esize)
            return NODE_ERR(im, "expected %ld bytes of raw data in %s '%s' (%s %s), got %zu", (long)n * (long)esize, what,
                            tp->name ? tp->name : "", s, dtype_name(dt), tp->raw_data.len);
        const unsigned char *p = tp->raw_data.data;
        for (long k = 0; k < n; k++, p += esize) {
            uint64_t u = 0;
            for (size_t b = 0; b < esize; b++)
                u |= (uint64_t)p[b] << (8 * b);
            switch (dt) {
            case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
                uint32_t u32 = (uint32_t)u;
                float f;
                memcpy(&f, &u32, 4);
                v[k] = f;
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
                double f;
                memcpy(&f, &u, 8);
                v[k] = f;
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: v[k] = (double)(int64_t)u; break;
            default: v[k] = (double)(int32_t)(uint32_t)u; break;
            }
        }
    } else {
        size_t have = dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT    ? tp->n_float_data
                      : dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ? tp->n_double_data
                      : dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64  ? tp->n_int64_data
                                                                    : tp->n_int32_data;
        if (have != (size_t)n)
            return NODE_ERR(im, "expected %ld values in %s '%s' (%s), got %zu", n, what, tp->name ? tp->name : "", s, have);
        for (long k = 0; k < n; k++)
            v[k] = dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT    ? (double)tp->float_data[k]
                   : dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ? tp->double_data[k]
                   : dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64  ? (double)tp->int64_data[k]
                                                                 : (double)tp->int32_data[k];
    }
    for (long k = 0; k < n; k++)
        if (!isfinite(v[k]))
            return NODE_ERR(im, "expected finite values in %s '%s', got %g at element %ld", what, tp->name ? tp->name : "",
                            v[k], k);
    *out = v;
    return 0;
}

static int new_const(Importer *im, const char *name, int rank, const int *dims, const double *data)
{
    int id = ir_add_const(im->g, name, rank, dims, data);
    alias_add(im, name, id);
    return id;
}

static int is_const(Importer *im, int id) { return id >= 0 && im->g->t[id].is_const; }

static void shape_str(int rank, const int *dims, char *out, size_t n)
{
    size_t len = (size_t)snprintf(out, n, "[");
    for (int k = 0; k < rank && len < n; k++)
        len += (size_t)snprintf(out + len, n - len, "%s%d", k ? "," : "", dims[k]);
    if (len < n)
        snprintf(out + len, n - len, "]");
}

/* numpy-style broadcast of two constants with op; result becomes a new const. */
static int fold_binary(Importer *im, const char *opname, int a, int b, const char *outname)
{
    Tensor *ta = &im->g->t[a], *tb = &im->g->t[b];
    int rank = ta->const_rank > tb->const_rank ? ta->const_rank : tb->const_rank;
    int dims[MAX_FULL_RANK], da[MAX_FULL_RANK], db[MAX_FULL_RANK];
    for (int k = 0; k < rank; k++) {
        int ka = k - (rank - ta->const_rank), kb = k - (rank - tb->const_rank);
        da[k] = ka >= 0 ? ta->const_dims[ka] : 1;
        db[k] = kb >= 0 ? tb->const_dims[kb] : 1;
        if (da[k] != db[k] && da[k] != 1 && db[k] != 1) {
            char s1[96], s2[96];
            shape_str(ta->const_rank, ta->const_dims, s1, sizeof s1);
            shape_str(tb->const_rank, tb->const_dims, s2, sizeof s2);
            return NODE_ERR(im, "expected constant shapes that broadcast together, got %s and %s", s1, s2);
        }
        dims[k] = da[k] > db[k] ? da[k] : db[k];
    }
    long n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    double *v = arena_array(&im->g->arena, (size_t)(n ? n : 1), sizeof(double));
    for (long e = 0; e < n; e++) {
        long ia, ib;
        ir_broadcast_index(e, rank, dims, da, db, &ia, &ib);
        double x = im->g->t[a].data[ia], y = im->g->t[b].data[ib];
        v[e] = strcmp(opname, "Add") == 0   ? x + y
               : strcmp(opname, "Sub") == 0 ? x - y
               : strcmp(opname, "Mul") == 0 ? x * y
               : strcmp(opname, "Div") == 0 ? x / y
                                            : pow(x, y);
    }
    new_const(im, outname, rank, dims, v);
    return 0;
}

static int fold_transpose(Importer *im, const Onnx__NodeProto *n, int a)
{
    Tensor *t = &im->g->t[a];
    int rank = t->const_rank, perm[MAX_FULL_RANK], dims[MAX_FULL_RANK];
    const Onnx__AttributeProto *p = attr(n, "perm");
    for (int k = 0; k < rank; k++)
        perm[k] = rank - 1 - k;
    if (p) {
        if ((int)p->n_ints != rank)
            return NODE_ERR(im, "expected perm of length %d, got %zu", rank, p->n_ints);
        for (int k = 0; k < rank; k++) {
            if (p->ints[k] < 0 || p->ints[k] >= rank)
                return NODE_ERR(im, "expected perm entries in 0..%d, got %lld", rank - 1, (long long)p->ints[k]);
            perm[k] = (int)p->ints[k];
            for (int j = 0; j < k; j++)
                if (perm[j] == perm[k])
                    return NODE_ERR(im, "expected a permutation, got axis %d twice in perm", perm[k]);
        }
    }
    for (int k = 0; k < rank; k++)
        dims[k] = t->const_dims[perm[k]];
    long n_el = ir_const_numel(t);
    double *v = arena_array(&im->g->arena, (size_t)(n_el ? n_el : 1), sizeof(double));
    long stride[MAX_FULL_RANK];
    long s = 1;
    for (int k = rank - 1; k >= 0; k--) {
        stride[k] = s;
        s *= t->const_dims[k];
    }
    for (long e = 0; e < n_el; e++) {
        long rem = e, src = 0;
        for (int k = rank - 1; k >= 0; k--) {
            long c = rem % dims[k];
            rem /= dims[k];
            src += c * stride[perm[k]];
        }
        v[e] = t->data[src];
    }
    ir_pin_from(im->g, new_const(im, n->output[0], rank, dims, v), a);
    return 0;
}

/* ---- naming ------------------------------------------------------------ */

/* A unique layer name that is also a C/Verilog identifier. */
static const char *unique_name(Importer *im, const char *src, const char *fallback);

static const char *layer_name(Importer *im, const Onnx__NodeProto *n, size_t index)
{
    const char *src = n->name && n->name[0] ? n->name : NULL;
    if (!src && n->n_output && n->output[0][0] && !isdigit((unsigned char)n->output[0][0]))
        src = n->output[0];
    const char *fallback = arena_printf(&im->g->arena, "%s_%zu", n->op_type, index);
    return unique_name(im, src ? src : fallback, fallback);
}

/* src as an identifier not handed out before (fallback where nothing of src is left). */
static const char *unique_name(Importer *im, const char *src, const char *fallback)
{
    char base[128];
    snprintf(base, sizeof base, "%s", src);
    /* lower case; runs of other characters become one '_'; no '_' at the ends */
    size_t w = 0;
    for (const char *c = base; *c; c++) {
        char ch = isalnum((unsigned char)*c) ? (char)tolower((unsigned char)*c) : '_';
        if (ch == '_' && (w == 0 || base[w - 1] == '_'))
            continue;
        base[w++] = ch;
    }
    while (w > 0 && base[w - 1] == '_')
        w--;
    base[w] = 0;
    if (!w)
        snprintf(base, sizeof base, "%s", fallback);
    if (!isalpha((unsigned char)base[0])) {
        /* 'l0'; but '_0' stays '_0' (torch.fx's name for nn.Sequential's module 0, hls4ml's layer name) */
        memmove(base + 1, base, strlen(base) + 1 < sizeof base - 1 ? strlen(base) + 1 : sizeof base - 2);
        base[0] = src[0] == '_' && isdigit((unsigned char)base[1]) ? '_' : 'l';
        base[sizeof base - 1] = 0;
    }
    char cand[160];
    snprintf(cand, sizeof cand, "%s", base);
    for (int suffix = 1;; suffix++) {
        int clash = 0;
        for (size_t k = 0; k < im->nused && !clash; k++)
            clash = strcmp(im->used_names[k], cand) == 0;
        if (!clash)
            break;
        snprintf(cand, sizeof cand, "%s_%d", base, suffix);
    }
    const char *name = arena_strdup(&im->g->arena, cand);
    VEC_PUSH(im->used_names, im->nused, im->cused, name);
    return name;
}

/* ---- data nodes -------------------------------------------------------- */

static int new_data_node(Importer *im, Op op, const char *lname, int *in, int nin, const char *outname, int rank,
                         const int *dims)
{
    int out = ir_add_tensor(im->g, outname, rank, dims);
    ir_add_node(im->g, op, lname, im->node_op, in, nin, out);
    alias_add(im, outname, out);
    return im->g->nn - 1;
}

/* Expand constant c against per-sample data shape (batch prepended) into a
 * per-element vector; returns a new const id or -1 (error set). */
static int broadcast_to_data(Importer *im, int c, const Tensor *data, const char *name)
{
    Tensor *tc = &im->g->t[c];
    int rank = data->rank + 1;
    int dims[MAX_FULL_RANK];
    dims[0] = 1;
    for (int k = 0; k < data->rank; k++)
        dims[k + 1] = data->dims[k];
    if (tc->const_rank > rank) {
        char s1[96], s2[96];
        shape_str(tc->const_rank, tc->const_dims, s1, sizeof s1);
        shape_str(data->rank, data->dims, s2, sizeof s2);
        NODE_ERR(im, "expected a constant that broadcasts to the per-sample shape %s, got %s", s2, s1);
        return -1;
    }
    int dc[MAX_FULL_RANK];
    for (int k = 0; k < rank; k++) {
        int kc = k - (rank - tc->const_rank);
        dc[k] = kc >= 0 ? tc->const_dims[kc] : 1;
        if (dc[k] != 1 && dc[k] != dims[k]) {
            char s1[96], s2[96];
            shape_str(tc->const_rank, tc->const_dims, s1, sizeof s1);
            shape_str(data->rank, data->dims, s2, sizeof s2);
            NODE_ERR(im, "expected a constant that broadcasts to the per-sample shape %s, got %s", s2, s1);
            return -1;
        }
    }
    long n = ir_numel(data);
    double *v = arena_array(&im->g->arena, (size_t)(n ? n : 1), sizeof(double));
    for (long e = 0; e < n; e++) {
        long rem = e, ic = 0, sc = 1;
        for (int k = rank - 1; k >= 0; k--) {
            long cc = rem % dims[k];
            rem /= dims[k];
            ic += (dc[k] == 1 ? 0 : cc) * sc;
            sc *= dc[k];
        }
        v[e] = tc->data[ic];
    }
    int id = ir_add_const(im->g, name, data->rank, data->dims, v);
    ir_pin_from(im->g, id, c);
    return id;
}

/* x*scale + shift with per-element constants (either may be NULL). */
static int add_affine(Importer *im, const char *lname, int x, const double *scale, const double *shift,
                      const char *outname)
{
    Tensor *tx = &im->g->t[x];
    int rank = tx->rank, dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    int in[3] = {x, -1, -1};
    if (scale)
        in[1] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_scale", lname), rank, dims, scale);
    if (shift)
        in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_shift", lname), rank, dims, shift);
    new_data_node(im, OP_AFFINE, lname, in, 3, outname, rank, dims);
    return 0;
}

static int import_merge(Importer *im, const Onnx__NodeProto *n, Op o, const char *lname);

static int import_binary(Importer *im, const Onnx__NodeProto *n, const char *op, const char *lname)
{
    int a, b, ca, cb;
    if (input_id_cl(im, n, 0, &a, &ca) < 0 || input_id_cl(im, n, 1, &b, &cb) < 0)
        return -1;
    if (!is_const(im, a) && !is_const(im, b) && n->n_input == 2 &&
        (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul")))
        return import_merge(im, n, op[0] == 'A' ? OP_ADD : op[0] == 'S' ? OP_SUB : OP_MUL, lname);
    if (input_id(im, n, 0, 0, &a) < 0 || input_id(im, n, 1, 0, &b) < 0)
        return -1;
    if (is_const(im, a) && is_const(im, b))
        return fold_binary(im, op, a, b, n->output[0]);
    if (!is_const(im, a) && !is_const(im, b)) {
        Tensor *ta = &im->g->t[a], *tb = &im->g->t[b];
        if (strcmp(op, "Add") != 0)
            return NODE_ERR(im, "expected one constant operand (%s of two data tensors is not supported yet), got data "
                                "tensors '%s' and '%s'", op, n->input[0], n->input[1]);
        if (ir_numel(ta) != ir_numel(tb) || ta->rank != tb->rank) {
            char s1[96], s2[96];
            ir_shape_str(ta, s1, sizeof s1);
            ir_shape_str(tb, s2, sizeof s2);
            return NODE_ERR(im, "expected operands of the same shape, got %s and %s", s1, s2);
        }
        int in[2] = {a, b};
        new_data_node(im, OP_ADD, lname, in, 2, n->output[0], ta->rank, ta->dims);
        return 0;
    }
    int x = is_const(im, a) ? b : a, c = is_const(im, a) ? a : b;
    int const_first = c == a;
    int cv = broadcast_to_data(im, c, &im->g->t[x], arena_printf(&im->g->arena, "%s_const", lname));
    if (cv < 0)
        return -1;
    long ne = ir_numel(&im->g->t[x]);
    double *v = im->g->t[cv].data;
    double *scale = NULL, *shift = NULL;
    if (strcmp(op, "Add") == 0) {
        shift = v;
    } else if (strcmp(op, "Sub") == 0) {
        shift = v;
        if (const_first) {  /* c - x */
            scale = arena_array(&im->g->arena, (size_t)ne, sizeof(double));
            for (long e = 0; e < ne; e++)
                scale[e] = -1.0;
        } else {
            for (long e = 0; e < ne; e++)
                v[e] = -v[e];
        }
    } else if (strcmp(op, "Mul") == 0) {
        scale = v;
    } else if (strcmp(op, "Div") == 0) {
        if (const_first)
            return NODE_ERR(im, "expected a constant divisor, got a constant divided by a tensor");
        for (long e = 0; e < ne; e++) {
            if (v[e] == 0.0)
                return NODE_ERR(im, "expected a non-zero constant divisor, got 0 at element %ld", e);
            v[e] = 1.0 / v[e];
        }
        scale = v;
    } else {
        return NODE_ERR(im, "expected both operands constant for %s, got data tensor '%s'", op, n->input[x == a ? 0 : 1]);
    }
    if (add_affine(im, lname, x, scale, shift, n->output[0]) < 0)
        return -1;
    if (!strcmp(op, "Add"))   /* a quantized shift keeps its type into the bias it becomes */
        ir_pin_from(im->g, im->g->n[im->g->nn - 1].in[2], cv);
    return 0;
}

static int import_dense(Importer *im, const Onnx__NodeProto *n, int gemm, const char *lname)
{
    int x, w, c = -1;
    if (input_id(im, n, 0, 0, &x) < 0 || input_id(im, n, 1, 0, &w) < 0)
        return -1;
    if (gemm && input_id(im, n, 2, 1, &c) < 0)
        return -1;
    if (is_const(im, x))
        return NODE_ERR(im, "expected the first operand to be data and the second constant weights, got a constant first operand");
    if (!is_const(im, w))
        return NODE_ERR(im, "expected constant weights as second input, got data tensor '%s'", n->input[1]);
    Tensor *tx = &im->g->t[x], *tw = &im->g->t[w];
    if (tw->const_rank != 2) {
        char s[96];
        ir_shape_str(tw, s, sizeof s);
        return NODE_ERR(im, "expected 2-D weights, got %s", s);
    }
    long transA = gemm ? attr_i(n, "transA", 0) : 0;
    int transB = gemm ? attr_i(n, "transB", 0) != 0 : 0;
    double alpha = gemm ? attr_f(n, "alpha", 1.0) : 1.0, beta = gemm ? attr_f(n, "beta", 1.0) : 1.0;
    if (transA)
        return NODE_ERR(im, "expected transA=0, got transA=%ld", transA);
    if (tw->const_dims[0] < 1 || tw->const_dims[1] < 1) {
        char s[96];
        ir_shape_str(tw, s, sizeof s);
        return NODE_ERR(im, "expected 2-D weights with at least one input and one output, got %s", s);
    }
    int nin = transB ? tw->const_dims[1] : tw->const_dims[0], nout = transB ? tw->const_dims[0] : tw->const_dims[1];
    if (tx->rank < 1 || tx->dims[tx->rank - 1] != nin) {
        char s[96];
        ir_shape_str(tx, s, sizeof s);
        return NODE_ERR(im, "expected an input whose last dimension is %d (weights [%d,%d]), got %s", nin,
                        tw->const_dims[0], tw->const_dims[1], s);
    }
    int wd[2] = {nin, nout};
    double *wv = arena_array(&im->g->arena, (size_t)nin * (size_t)nout, sizeof(double));
    for (int i = 0; i < nin; i++)
        for (int o = 0; o < nout; o++)
            wv[(long)i * nout + o] = alpha * (transB ? tw->data[(long)o * nin + i] : tw->data[(long)i * nout + o]);
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", lname), 2, wd, wv), -1};
    if (alpha == 1.0)
        ir_pin_from(im->g, in[1], w);
    if (c >= 0) {
        if (!is_const(im, c))
            return NODE_ERR(im, "expected a constant bias C, got data tensor '%s'", n->input[2]);
        Tensor *tc = &im->g->t[c];
        long cn = ir_const_numel(tc);
        if (cn != 1 && cn != nout) {
            char s[96];
            ir_shape_str(tc, s, sizeof s);
            return NODE_ERR(im, "expected a bias of %d values (or 1), got %s", nout, s);
        }
        double *bv = arena_array(&im->g->arena, (size_t)nout, sizeof(double));
        for (int o = 0; o < nout; o++)
            bv[o] = beta * tc->data[cn == 1 ? 0 : o];
        in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &nout, bv);
        if (beta == 1.0)
            ir_pin_from(im->g, in[2], c);
    }
    int odims[IR_MAX_RANK];
    tx = &im->g->t[x];   /* adding constants may have moved the tensor array */
    memcpy(odims, tx->dims, sizeof odims);
    odims[tx->rank - 1] = nout;
    new_data_node(im, OP_DENSE, lname, in, 3, n->output[0], tx->rank, odims);
    return 0;
}

static int import_batchnorm(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    int x, p[4], xcl;
    if (input_id_cl(im, n, 0, &x, &xcl) < 0)
        return -1;
    for (int k = 0; k < 4; k++) {
        if (input_id(im, n, (size_t)k + 1, 0, &p[k]) < 0)
            return -1;
        if (!is_const(im, p[k]))
            return NODE_ERR(im, "expected constant scale, bias, mean and variance, got data tensor '%s'", n->input[k + 1]);
    }
    Tensor *tx = &im->g->t[x];
    if (is_const(im, x))
        return NODE_ERR(im, "expected a data input, got constant '%s'", n->input[0]);
    static const char *const pname[4] = {"scale", "bias", "mean", "variance"};
    long ch = ir_const_numel(&im->g->t[p[0]]);
    for (int k = 1; k < 4; k++)
        if (ir_const_numel(&im->g->t[p[k]]) != ch)
            return NODE_ERR(im, "expected scale, bias, mean and variance of equal length, got scale %ld and %s %ld", ch,
                            pname[k], ir_const_numel(&im->g->t[p[k]]));
    /* Channels: ONNX's axis 1, the first per-sample axis: the last one as stored
     * channels-last, the only one of flat feature vectors */
    int first = !xcl && tx->rank >= 2;
    int cdim = tx->rank ? tx->dims[first ? 0 : tx->rank - 1] : 1;
    long ne = ir_numel(tx);
    if (ch != cdim && ch != ne) {
        char s[96];
        ir_shape_str(tx, s, sizeof s);
        return NODE_ERR(im, "expected scale, bias, mean and variance of %d values (the channels of input %s), got %ld",
                        cdim, s, ch);
    }
    double eps = attr_f(n, "epsilon", 1e-5);
    double *scale = arena_array(&im->g->arena, (size_t)ne, sizeof(double));
    double *shift = arena_array(&im->g->arena, (size_t)ne, sizeof(double));
    for (long e = 0; e < ne; e++) {
        long c = ch == ne ? e : first ? e / (ne / cdim) : e % cdim;
        double g = im->g->t[p[0]].data[c], b = im->g->t[p[1]].data[c];
        double mean = im->g->t[p[2]].data[c], var = im->g->t[p[3]].data[c];
        if (var + eps <= 0)
            return NODE_ERR(im, "expected variance + epsilon > 0, got %g at channel %ld", var + eps, c);
        scale[e] = g / sqrt(var + eps);
        shift[e] = b - mean * scale[e];
    }
    if (add_affine(im, lname, x, scale, shift, n->output[0]) < 0)
        return -1;
    im->alias[im->nalias - 1].cl = xcl;
    return 0;
}

/* Per-sample shape after a reshape to a full target shape (batch first). */
static int reshape_to(Importer *im, int x, const char *lname, const char *outname, int frank, const long *fdims)
{
    Tensor *tx = &im->g->t[x];
    long numel = ir_numel(tx);
    if (frank < 1 || frank > MAX_FULL_RANK)
        return NODE_ERR(im, "expected a target rank of 1..%d, got %d", MAX_FULL_RANK, frank);
    char ts[160];
    lshape_str(frank, fdims, ts, sizeof ts);
    long known = 1;
    int infer = -1;
    long d[MAX_FULL_RANK];
    for (int k = 0; k < frank; k++) {
        d[k] = fdims[k];
        if (d[k] == 0)
            d[k] = k == 0 ? 1 : (k - 1 < tx->rank ? tx->dims[k - 1] : 0);
        if (d[k] == -1) {
            if (infer >= 0)
                return NODE_ERR(im, "expected at most one -1 in the target shape, got %s", ts);
            infer = k;
            continue;
        }
        if (d[k] <= 0)
            return NODE_ERR(im, "expected positive target dimensions (or 0, or one -1), got %ld in %s%s", fdims[k], ts,
                            fdims[k] == 0 ? " (a 0 copies an input dimension, and there is none there)" : "");
        known = mul_sat(known, d[k]);
    }
    if (infer >= 0) {
        if (known == 0 || numel % known)
            return NODE_ERR(im, "expected a target shape whose known dimensions divide the %ld elements per sample, got "
                                "%s", numel, ts);
        d[infer] = numel / known;
    }
    /* the batch dimension: the first must be the batch (1 per sample) */
    long total = 1;
    for (int k = 0; k < frank; k++)
        total = mul_sat(total, d[k]);
    if (total != numel || d[0] != 1) {
        if (total == mul_sat(numel, d[0]) && total != numel) {
            /* leading dim given as the batch size N: treat as per-sample */
        } else if (total != numel) {
            return NODE_ERR(im, "expected a target shape with %ld elements per sample, got %ld (%s)", numel,
                            total / (d[0] ? d[0] : 1), ts);
        }
    }
    int dims[IR_MAX_RANK];
    int rank = frank - 1;
    for (int k = 0; k < rank; k++)
        dims[k] = (int)d[k + 1];
    if (rank == 0) {
        rank = 1;
        dims[0] = 1;
    }
    int in[1] = {x};
    new_data_node(im, OP_RESHAPE, lname, in, 1, outname, rank, dims);
    return 0;
}

/* Does a permutation (of the full shape, batch first, batch size 1) move data? */
static int perm_is_noop(const Tensor *tx, const long *perm, int frank)
{
    int fd[MAX_FULL_RANK];
    fd[0] = 1;
    for (int k = 0; k < tx->rank; k++)
        fd[k + 1] = tx->dims[k];
    int last = -1;
    for (int k = 0; k < frank; k++) {
        if (fd[perm[k]] == 1)
            continue;
        if (perm[k] < last)
            return 0;
        last = (int)perm[k];
    }
    return 1;
}

/* ---- convolutional networks --------------------------------------------- */
/* Layout: ONNX data is channels-first ([C,L] or [C,H,W] per sample); the IR is
 * channels-last.  A value keeps its ONNX order until an op that needs channels
 * last reads it (Conv, pooling, Pad); from there on it stays channels-last
 * (Alias.cl) through layout-free ops, and is transposed back only where an op
 * needs ONNX order (Flatten, Reshape, Gemm, graph outputs, ...), so that
 * flattening keeps ONNX's order.  Transposes between the two orders in the
 * file itself (as Keras exports write them) cost nothing. */

/* Convert tensor id holding ONNX value `name` to layout cl; returns the new id. */
static int to_layout(Importer *im, const char *name, int id, int cl)
{
    Tensor *t = &im->g->t[id];
    int r = t->rank, dims[IR_MAX_RANK], perm[IR_MAX_RANK];
    if (r < 2)
        return id;
    for (int k = 0; k < r; k++) {
        perm[k] = cl ? (k + 1) % r : (k + r - 1) % r;
        dims[k] = t->dims[perm[k]];
    }
    const char *lname = arena_printf(&im->g->arena, "%s_%s%zu", im->node_name[0] ? im->node_name : "output",
                                     cl ? "to_channels_last" : "to_channels_first", im->g->nn);
    int in[1] = {id};
    int out = ir_add_tensor(im->g, arena_printf(&im->g->arena, "%s_%s", name, cl ? "cl" : "cf"), r, dims);
    int nid = ir_add_node(im->g, OP_TRANSPOSE, lname, "Transpose", in, 1, out);
    memcpy(im->g->n[nid].perm, perm, sizeof perm);
    alias_add_cl(im, name, out, cl);
    return out;
}

static int attr_ints(Importer *im, const Onnx__NodeProto *n, const char *name, int count, int def, int *out)
{
    const Onnx__AttributeProto *a = attr(n, name);
    for (int k = 0; k < count; k++)
        out[k] = def;
    if (!a)
        return 0;
    if ((int)a->n_ints != count)
        return NODE_ERR(im, "expected %d values in attribute %s, got %zu", count, name, a->n_ints);
    for (size_t k = 0; k < a->n_ints; k++) {
        if (a->ints[k] < -(1 << 20) || a->ints[k] > (1 << 20))
            return NODE_ERR(im, "expected attribute %s values within +-2^20, got %lld", name, (long long)a->ints[k]);
        out[k] = (int)a->ints[k];
    }
    return 0;
}

/* Window geometry of a Conv or pooling node over ns spatial dims (1 or 2) of
 * input size in[]: kernel[] already set; reads strides, dilations, pads, auto_pad
 * and stores it in node fields (1-D: index 1, index 0 is the unit axis). */
static int window_geometry(Importer *im, const Onnx__NodeProto *n, int ns, const int *in, const int *kernel,
                           int dil_ok, Node *nd)
{
    int st[2], dl[2], pads[4];
    if (attr_ints(im, n, "strides", ns, 1, st) < 0 || attr_ints(im, n, "dilations", ns, 1, dl) < 0 ||
        attr_ints(im, n, "pads", 2 * ns, 0, pads) < 0)
        return -1;
    const Onnx__AttributeProto *ap = attr(n, "auto_pad");
    char mode[32] = "NOTSET";
    if (ap && ap->has_s)
        snprintf(mode, sizeof mode, "%.*s", (int)ap->s.len, (const char *)ap->s.data);
    for (int a = 0; a < ns; a++) {
        if (st[a] < 1 || dl[a] < 1 || kernel[a] < 1)
            return NODE_ERR(im, "expected kernel, strides and dilations >= 1 on every spatial axis, got kernel %d, "
                                "stride %d, dilation %d on spatial axis %d", kernel[a], st[a], dl[a], a);
        if (!dil_ok && dl[a] != 1)
            return NODE_ERR(im, "expected dilations 1, got %d", dl[a]);
        int lo = pads[a], hi = pads[a + ns];
        if (!strcmp(mode, "SAME_UPPER") || !strcmp(mode, "SAME_LOWER")) {
            int outsz = (in[a] + st[a] - 1) / st[a];
            int total = (outsz - 1) * st[a] + (kernel[a] - 1) * dl[a] + 1 - in[a];
            total = total > 0 ? total : 0;
            lo = mode[5] == 'U' ? total / 2 : total - total / 2;
            hi = total - lo;
        } else if (!strcmp(mode, "VALID")) {
            lo = hi = 0;
        } else if (strcmp(mode, "NOTSET")) {
            return NODE_ERR(im, "expected auto_pad NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '%s'", mode);
        }
        if (lo < 0 || hi < 0)
            return NODE_ERR(im, "expected pads >= 0, got %d and %d on spatial axis %d", lo, hi, a);
        int d = ns == 1 ? 1 : a;
        nd->kernel[d] = kernel[a];
        nd->stride[d] = st[a];
        nd->dilation[d] = dl[a];
        nd->pad_lo[d] = lo;
        nd->pad_hi[d] = hi;
    }
    return 0;
}

/* Output dims (channels-last) of a window op on channels-last input tx. */
static int window_out_dims(Importer *im, const Tensor *tx, const Node *nd, int cout, int *dims)
{
    int ns = tx->rank - 1;
    for (int a = 0; a < ns; a++) {
        int d = ns == 1 ? 1 : a;
        int span = (nd->kernel[d] - 1) * nd->dilation[d] + 1;
        int padded = tx->dims[a] + nd->pad_lo[d] + nd->pad_hi[d];
        if (padded < span)
            return NODE_ERR(im, "expected an input of at least %d pixels (the window) on spatial axis %d with padding, got "
                                "%d (%d pixels, padding %d and %d)", span, a, padded, tx->dims[a], nd->pad_lo[d],
                            nd->pad_hi[d]);
        if (nd->pad_lo[d] >= span || nd->pad_hi[d] >= span)
            return NODE_ERR(im, "expected padding smaller than the window (%d) on spatial axis %d, got %d and %d", span, a,
                            nd->pad_lo[d], nd->pad_hi[d]);
        dims[a] = (padded - span) / nd->stride[d] + 1;
    }
    dims[ns] = cout;
    return 0;
}

/* A channels-last data input of logical rank 2 or 3 ([C,L] or [C,H,W]). */
static int spatial_input(Importer *im, const Onnx__NodeProto *n, int *x)
{
    int cl;
    if (input_id_cl(im, n, 0, x, &cl) < 0)
        return -1;
    if (is_const(im, *x))
        return NODE_ERR(im, "expected a data input, got constant '%s'", n->input[0]);
    Tensor *tx = &im->g->t[*x];
    if (tx->rank != 2 && tx->rank != 3) {
        char s[96];
        ir_shape_str(tx, s, sizeof s);
        return NODE_ERR(im, "expected an input [N,C,L] or [N,C,H,W] (per sample %s), got per-sample shape %s",
                        "[C,L] or [C,H,W]", s);
    }
    if (!cl)
        *x = to_layout(im, n->input[0], *x, 1);
    return 0;
}

/* A Conv's or ConvTranspose's operands: the spatial input x, constant weights w and an optional constant bias b
 * (-1 when absent). */
static int conv_operands(Importer *im, const Onnx__NodeProto *n, int *x, int *w, int *b)
{
    if (spatial_input(im, n, x) < 0 || input_id(im, n, 1, 0, w) < 0 || input_id(im, n, 2, 1, b) < 0)
        return -1;
    if (!is_const(im, *w))
        return NODE_ERR(im, "expected constant weights as second input, got data tensor '%s'", n->input[1]);
    if (*b >= 0 && !is_const(im, *b))
        return NODE_ERR(im, "expected a constant bias, got data tensor '%s'", n->input[2]);
    return 0;
}

static int import_conv(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    int x, w, b;
    if (conv_operands(im, n, &x, &w, &b) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x], *tw = &im->g->t[w];
    int ns = tx->rank - 1, cin = tx->dims[ns];
    long groups = attr_i(n, "group", 1);
    char s1[96], s2[96];
    ir_shape_str(tx, s1, sizeof s1);
    ir_shape_str(tw, s2, sizeof s2);
    if (groups < 1 || cin % groups || tw->const_rank != ns + 2 || tw->const_dims[1] * groups != cin ||
        tw->const_dims[0] % groups)
        return NODE_ERR(im, "expected weights [M,C/group,k...] for %d input channels and group %ld (input %s "
                            "channels-last), got %s", cin, groups, s1, s2);
    int cout = tw->const_dims[0], cg = tw->const_dims[1], kernel[2] = {1, 1}, ks[2];
    for (int a = 0; a < ns; a++)
        kernel[a] = tw->const_dims[2 + a];
    if (attr(n, "kernel_shape")) {
        if (attr_ints(im, n, "kernel_shape", ns, 1, ks) < 0)
            return -1;
        for (int a = 0; a < ns; a++)
            if (ks[a] != kernel[a]) {
                char s3[96], s4[96];
                shape_str(ns, kernel, s3, sizeof s3);
                shape_str(ns, ks, s4, sizeof s4);
                return NODE_ERR(im, "expected kernel_shape %s (from the weights %s), got %s", s3, s2, s4);
            }
    }
    int bn = b >= 0 ? (int)ir_const_numel(&im->g->t[b]) : cout;
    if (bn != cout)
        return NODE_ERR(im, "expected %d bias values, got %d", cout, bn);
    /* weights [M, C/g, kh, kw] -> [kh, kw, C/g, M] */
    long taps = (long)kernel[0] * kernel[1];
    double *wv = arena_array(&im->g->arena, (size_t)(taps * cg * cout), sizeof(double));
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cg; c++)
            for (long t = 0; t < taps; t++)
                wv[(t * cg + c) * cout + o] = tw->data[((long)o * cg + c) * taps + t];
    int wd[4], wr = 0;
    for (int a = 0; a < ns; a++)
        wd[wr++] = kernel[a];
    wd[wr++] = cg;
    wd[wr++] = cout;
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", lname), wr, wd, wv), -1};
    ir_pin_from(im->g, in[1], w);
    if (b >= 0) {
        in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &cout, im->g->t[b].data);
        ir_pin_from(im->g, in[2], b);
    }
    Node tmp;
    memset(&tmp, 0, sizeof tmp);
    int insz[2];
    tx = &im->g->t[x];
    for (int a = 0; a < ns; a++)
        insz[a] = tx->dims[a];
    for (int a = 0; a < 2; a++)
        tmp.kernel[a] = tmp.stride[a] = tmp.dilation[a] = 1;
    int dims[IR_MAX_RANK];
    if (window_geometry(im, n, ns, insz, kernel, 1, &tmp) < 0 || window_out_dims(im, tx, &tmp, cout, dims) < 0)
        return -1;
    int id = new_data_node(im, ns == 1 ? OP_CONV1D : OP_CONV2D, lname, in, 3, n->output[0], tx->rank, dims);
    Node *nd = &im->g->n[id];
    memcpy(nd->kernel, tmp.kernel, sizeof nd->kernel);
    memcpy(nd->stride, tmp.stride, sizeof nd->stride);
    memcpy(nd->dilation, tmp.dilation, sizeof nd->dilation);
    memcpy(nd->pad_lo, tmp.pad_lo, sizeof nd->pad_lo);
    memcpy(nd->pad_hi, tmp.pad_hi, sizeof nd->pad_hi);
    nd->groups = (int)groups;
    im->alias[im->nalias - 1].cl = 1;
    return 0;
}

/* ConvTranspose: the convolution, stride 1, of the input with strides - 1 zeros inserted between its pixels
 * (Node.in_dil: those taps add no term), padded by (window - 1) - pads before and (window - 1) - pads +
 * output_padding after (a pad beyond the window crops), with the kernel flipped and its channel axes swapped:
 * W [C, M/group, k...] -> [k..., C/group, M]. */
static int import_conv_transpose(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    int x, w, b;
    if (conv_operands(im, n, &x, &w, &b) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x], *tw = &im->g->t[w];
    int ns = tx->rank - 1, cin = tx->dims[ns];
    long groups = attr_i(n, "group", 1);
    char s1[96], s2[96];
    ir_shape_str(tx, s1, sizeof s1);
    ir_shape_str(tw, s2, sizeof s2);
    if (groups < 1 || groups > cin || cin % groups || tw->const_rank != ns + 2 || tw->const_dims[0] != cin ||
        (long)tw->const_dims[1] * groups > (1 << 24))
        return NODE_ERR(im, "expected weights [C,M/group,k...] for %d input channels and group %ld (input %s "
                            "channels-last), got %s", cin, groups, s1, s2);
    int cg = cin / (int)groups, og = tw->const_dims[1], cout = og * (int)groups, kernel[2] = {1, 1}, ks[2];
    for (int a = 0; a < ns; a++)
        kernel[a] = tw->const_dims[2 + a];
    if (attr(n, "kernel_shape")) {
        if (attr_ints(im, n, "kernel_shape", ns, 1, ks) < 0)
            return -1;
        for (int a = 0; a < ns; a++)
            if (ks[a] != kernel[a]) {
                char s3[96], s4[96];
                shape_str(ns, kernel, s3, sizeof s3);
                shape_str(ns, ks, s4, sizeof s4);
                return NODE_ERR(im, "expected kernel_shape %s (from the weights %s), got %s", s3, s2, s4);
            }
    }
    if (attr(n, "output_shape"))
        return NODE_ERR(im, "attribute output_shape is not supported (give pads and output_padding instead)");
    int bn = b >= 0 ? (int)ir_const_numel(&im->g->t[b]) : cout;
    if (bn != cout)
        return NODE_ERR(im, "expected %d bias values, got %d", cout, bn);
    int st[2], dl[2], pads[4], opad[2];
    if (attr_ints(im, n, "strides", ns, 1, st) < 0 || attr_ints(im, n, "dilations", ns, 1, dl) < 0 ||
        attr_ints(im, n, "pads", 2 * ns, 0, pads) < 0 || attr_ints(im, n, "output_padding", ns, 0, opad) < 0)
        return -1;
    const Onnx__AttributeProto *ap = attr(n, "auto_pad");
    char mode[32] = "NOTSET";
    if (ap && ap->has_s)
        snprintf(mode, sizeof mode, "%.*s", (int)ap->s.len, (const char *)ap->s.data);
    if (strcmp(mode, "NOTSET") && strcmp(mode, "VALID"))
        return NODE_ERR(im, "expected attribute auto_pad NOTSET or VALID, got '%s' (SAME_UPPER/SAME_LOWER are not "
                            "supported: give pads)", mode);
    Node geo;
    memset(&geo, 0, sizeof geo);
    for (int a = 0; a < 2; a++)
        geo.kernel[a] = geo.stride[a] = geo.dilation[a] = geo.in_dil[a] = 1;
    int dims[IR_MAX_RANK];
    for (int a = 0; a < ns; a++) {
        if (st[a] < 1 || dl[a] < 1 || kernel[a] < 1)
            return NODE_ERR(im, "expected kernel, strides and dilations >= 1 on every spatial axis, got kernel %d, "
                                "stride %d, dilation %d on spatial axis %d", kernel[a], st[a], dl[a], a);
        int lo = strcmp(mode, "VALID") ? pads[a] : 0, hi = strcmp(mode, "VALID") ? pads[a + ns] : 0;
        if (lo < 0 || hi < 0)
            return NODE_ERR(im, "expected pads >= 0, got %d and %d on spatial axis %d", lo, hi, a);
        int mx = st[a] > dl[a] ? st[a] : dl[a];
        if (opad[a] < 0 || opad[a] >= mx)
            return NODE_ERR(im, "expected attribute output_padding in 0..%d (below the stride or the dilation) on "
                                "spatial axis %d, got %d", mx - 1, a, opad[a]);
        long span = (long)(kernel[a] - 1) * dl[a] + 1;
        long osz = (long)(tx->dims[a] - 1) * st[a] + span - lo - hi + opad[a];
        if (osz < 1 || osz > (1 << 24))
            return NODE_ERR(im, "expected an output of 1 to 16777216 pixels on spatial axis %d, got %ld (input %d, "
                                "stride %d, window %ld, pads %d and %d, output_padding %d)", a, osz, tx->dims[a], st[a],
                            span, lo, hi, opad[a]);
        int d = ns == 1 ? 1 : a;
        geo.kernel[d] = kernel[a];
        geo.dilation[d] = dl[a];
        geo.in_dil[d] = st[a];
        geo.pad_lo[d] = (int)span - 1 - lo;
        geo.pad_hi[d] = (int)span - 1 - hi + opad[a];
        dims[a] = (int)osz;
    }
    dims[ns] = cout;
    /* W [C, M/g, kh, kw] -> [kh, kw, C/g, M], the taps reversed: output channel gi*og + j reads input channels
     * gi*cg .. gi*cg + cg - 1 */
    long taps = (long)kernel[0] * kernel[1];
    double *wv = arena_array(&im->g->arena, (size_t)(taps * cg * cout), sizeof(double));
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cg; i++)
            for (long t = 0; t < taps; t++) {
                long c = (long)(o / og) * cg + i;
                wv[(t * cg + i) * cout + o] = tw->data[(c * og + o % og) * taps + (taps - 1 - t)];
            }
    int wd[4], wr = 0;
    for (int a = 0; a < ns; a++)
        wd[wr++] = kernel[a];
    wd[wr++] = cg;
    wd[wr++] = cout;
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", lname), wr, wd, wv), -1};
    ir_pin_from(im->g, in[1], w);
    if (b >= 0) {
        in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &cout, im->g->t[b].data);
        ir_pin_from(im->g, in[2], b);
    }
    tx = &im->g->t[x];
    int id = new_data_node(im, ns == 1 ? OP_CONV1D : OP_CONV2D, lname, in, 3, n->output[0], tx->rank, dims);
    Node *nd = &im->g->n[id];
    memcpy(nd->kernel, geo.kernel, sizeof nd->kernel);
    memcpy(nd->stride, geo.stride, sizeof nd->stride);
    memcpy(nd->dilation, geo.dilation, sizeof nd->dilation);
    memcpy(nd->in_dil, geo.in_dil, sizeof nd->in_dil);
    memcpy(nd->pad_lo, geo.pad_lo, sizeof nd->pad_lo);
    memcpy(nd->pad_hi, geo.pad_hi, sizeof nd->pad_hi);
    nd->groups = (int)groups;
    im->alias[im->nalias - 1].cl = 1;
    return 0;
}

static int import_pool(Importer *im, const Onnx__NodeProto *n, const char *op, const char *lname)
{
    int x;
    if (spatial_input(im, n, &x) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    int ns = tx->rank - 1, global = !strncmp(op, "Global", 6), is_max = strstr(op, "Max") != NULL;
    int kernel[2] = {1, 1}, insz[2];
    for (int a = 0; a < ns; a++)
        insz[a] = tx->dims[a];
    Node tmp;
    memset(&tmp, 0, sizeof tmp);
    for (int a = 0; a < 2; a++)
        tmp.kernel[a] = tmp.stride[a] = tmp.dilation[a] = 1;
    if (global) {
        for (int a = 0; a < ns; a++) {
            int d = ns == 1 ? 1 : a;
            tmp.kernel[d] = tmp.stride[d] = insz[a];
        }
    } else {
        if (!attr(n, "kernel_shape"))
            return NODE_ERR(im, "expected a kernel_shape attribute, got none");
        if (attr_ints(im, n, "kernel_shape", ns, 1, kernel) < 0 || window_geometry(im, n, ns, insz, kernel, is_max, &tmp) < 0)
            return -1;
        if (attr_i(n, "ceil_mode", 0)) {
            for (int a = 0; a < ns; a++) {
                int d = ns == 1 ? 1 : a, span = (tmp.kernel[d] - 1) * tmp.dilation[d] + 1;
                if ((insz[a] + tmp.pad_lo[d] + tmp.pad_hi[d] - span) % tmp.stride[d])
                    return NODE_ERR(im, "expected ceil_mode 0 (or windows that tile the input exactly), got ceil_mode 1");
            }
        }
    }
    int dims[IR_MAX_RANK];
    if (window_out_dims(im, tx, &tmp, tx->dims[ns], dims) < 0)
        return -1;
    int in[1] = {x};
    Op o = is_max ? (ns == 1 ? OP_MAXPOOL1D : OP_MAXPOOL2D) : (ns == 1 ? OP_AVGPOOL1D : OP_AVGPOOL2D);
    int id = new_data_node(im, o, lname, in, 1, n->output[0], tx->rank, dims);
    Node *nd = &im->g->n[id];
    memcpy(nd->kernel, tmp.kernel, sizeof nd->kernel);
    memcpy(nd->stride, tmp.stride, sizeof nd->stride);
    memcpy(nd->dilation, tmp.dilation, sizeof nd->dilation);
    memcpy(nd->pad_lo, tmp.pad_lo, sizeof nd->pad_lo);
    memcpy(nd->pad_hi, tmp.pad_hi, sizeof nd->pad_hi);
    nd->count_pad = !is_max && attr_i(n, "count_include_pad", 0) != 0;
    im->alias[im->nalias - 1].cl = 1;
    return 0;
}

static void attr_str(const Onnx__NodeProto *n, const char *name, const char *def, char *out, size_t len)
{
    const Onnx__AttributeProto *a = attr(n, name);
    if (a && a->has_s)
        snprintf(out, len, "%.*s", (int)a->s.len, (const char *)a->s.data);
    else
        snprintf(out, len, "%s", def);
}

/* Resize / Upsample, nearest neighbour by whole factors: output pixel o reads
 * input pixel floor(o / s).  That is ONNX's 'asymmetric' + 'floor', and also
 * 'half_pixel' + either rounding preference, for integer s. */
static int import_upsample(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    int x;
    if (spatial_input(im, n, &x) < 0)
        return -1;
    int ns = im->g->t[x].rank - 1, full = ns + 2;
    char mode[32], ctm[32], nm[32];
    attr_str(n, "mode", "nearest", mode, sizeof mode);
    attr_str(n, "coordinate_transformation_mode", strcmp(n->op_type, "Upsample") ? "half_pixel" : "asymmetric", ctm,
             sizeof ctm);
    attr_str(n, "nearest_mode", strcmp(n->op_type, "Upsample") ? "round_prefer_floor" : "floor", nm, sizeof nm);
    if (strcmp(mode, "nearest"))
        return NODE_ERR(im, "expected mode 'nearest', got '%s'", mode);
    int asym = !strcmp(ctm, "asymmetric"), half = !strcmp(ctm, "half_pixel") || !strcmp(ctm, "pytorch_half_pixel");
    if (!(asym && !strcmp(nm, "floor")) && !(half && strncmp(nm, "round_prefer", 12) == 0))
        return NODE_ERR(im, "expected coordinate_transformation_mode 'asymmetric' with nearest_mode 'floor', or "
                            "'half_pixel' with round_prefer_floor/ceil, got '%s' with '%s'", ctm, nm);
    double scale[MAX_FULL_RANK];
    int have = 0;
    const Onnx__AttributeProto *as = attr(n, "scales");
    if (as && (int)as->n_floats == full) {
        for (int k = 0; k < full; k++)
            scale[k] = as->floats[k];
        have = 1;
    }
    /* scales: input 1 (Upsample, Resize-10) or 2 (Resize-11+); sizes: input 3 */
    int si = !strcmp(n->op_type, "Upsample") || im->opset < 11 ? 1 : 2;
    for (int slot = si; !have && slot <= 3; slot += 1) {
        int c;
        if (slot == 1 && si == 2)
            continue;
        if (input_id(im, n, (size_t)slot, 1, &c) < 0)
            return -1;
        if (c < 0 || ir_const_numel(&im->g->t[c]) == 0)
            continue;
        if (!is_const(im, c))
            return NODE_ERR(im, "expected constant %s of %d values, got data tensor '%s'", slot == 3 ? "sizes" : "scales",
                            full, n->input[slot]);
        if (ir_const_numel(&im->g->t[c]) != full)
            return NODE_ERR(im, "expected constant %s of %d values, got %ld values", slot == 3 ? "sizes" : "scales", full,
                            ir_const_numel(&im->g->t[c]));
        const Tensor *tc = &im->g->t[c];
        const Tensor *tx = &im->g->t[x];
        for (int k = 0; k < full; k++) {
            double in = k == 0 ? 1 : k == 1 ? tx->dims[ns] : tx->dims[k - 2];
            scale[k] = slot == 3 ? tc->data[k] / in : tc->data[k];
        }
        have = 1;
    }
    if (!have)
        return NODE_ERR(im, "expected scales or sizes, got neither");
    if (scale[0] != 1 || scale[1] != 1)
        return NODE_ERR(im, "expected scale 1 on the batch and channel axes, got %g and %g", scale[0], scale[1]);
    const Tensor *tx = &im->g->t[x];
    int dims[IR_MAX_RANK];
    Node tmp;
    memset(&tmp, 0, sizeof tmp);
    for (int a = 0; a < ns; a++) {
        double s = scale[2 + a];
        if (!(s >= 1 && s <= 64) || s != floor(s))
            return NODE_ERR(im, "expected whole upsampling factors from 1 to 64, got %g on spatial axis %d", s, a);
        tmp.stride[ns == 1 ? 1 : a] = (int)s;
        dims[a] = tx->dims[a] * (int)s;
    }
    for (int d = 0; d < 2; d++) {
        if (!tmp.stride[d])
            tmp.stride[d] = 1;
        tmp.kernel[d] = tmp.dilation[d] = 1;
    }
    dims[ns] = tx->dims[ns];
    int in[1] = {x};
    int id = new_data_node(im, OP_UPSAMPLE, lname, in, 1, n->output[0], tx->rank, dims);
    memcpy(im->g->n[id].stride, tmp.stride, sizeof tmp.stride);
    memcpy(im->g->n[id].kernel, tmp.kernel, sizeof tmp.kernel);
    memcpy(im->g->n[id].dilation, tmp.dilation, sizeof tmp.dilation);
    im->alias[im->nalias - 1].cl = 1;
    return 0;
}

static int import_pad(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    int x;
    if (spatial_input(im, n, &x) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    int ns = tx->rank - 1, full = tx->rank + 1;
    long pads[2 * MAX_FULL_RANK];
    double padv[2 * MAX_FULL_RANK];   /* as given, for messages */
    double value = 0;
    char mode[32] = "constant";
    const Onnx__AttributeProto *am = attr(n, "mode");
    if (am && am->has_s)
        snprintf(mode, sizeof mode, "%.*s", (int)am->s.len, (const char *)am->s.data);
    if (strcmp(mode, "constant"))
        return NODE_ERR(im, "expected mode 'constant', got '%s'", mode);
    if (im->opset < 11) {
        const Onnx__AttributeProto *a = attr(n, "pads");
        if (!a || (int)a->n_ints != 2 * full)
            return NODE_ERR(im, "expected %d pads, got %zu", 2 * full, a ? a->n_ints : 0);
        for (int k = 0; k < 2 * full; k++) {
            pads[k] = (long)a->ints[k];
            padv[k] = (double)a->ints[k];
        }
        value = attr_f(n, "value", 0.0);
    } else {
        int p, v = -1;
        if (input_id(im, n, 1, 0, &p) < 0 || input_id(im, n, 2, 1, &v) < 0)
            return -1;
        if (n->n_input > 3 && n->input[3][0])
            return NODE_ERR(im, "expected no axes input, got '%s'", n->input[3]);
        if (!is_const(im, p) || (v >= 0 && !is_const(im, v)))
            return NODE_ERR(im, "expected constant pads and value, got data tensor '%s'",
                            !is_const(im, p) ? n->input[1] : n->input[2]);
        if (ir_const_numel(&im->g->t[p]) != 2 * full)
            return NODE_ERR(im, "expected %d pads, got %ld", 2 * full, ir_const_numel(&im->g->t[p]));
        for (int k = 0; k < 2 * full; k++) {
            pads[k] = to_long(im->g->t[p].data[k]);
            padv[k] = im->g->t[p].data[k];
        }
        if (v >= 0)
            value = im->g->t[v].data[0];
    }
    if (value != 0)
        return NODE_ERR(im, "expected a zero pad value, got %g", value);
    if (pads[0] || pads[1] || pads[full] || pads[full + 1])
        return NODE_ERR(im, "expected padding of the spatial axes only, got pads %g, %g on the batch axis and %g, %g "
                            "on the channel axis", padv[0], padv[full], padv[1], padv[full + 1]);
    tx = &im->g->t[x];
    int dims[IR_MAX_RANK];
    Node tmp;
    memset(&tmp, 0, sizeof tmp);
    for (int a = 0; a < ns; a++) {
        int d = ns == 1 ? 1 : a;
        long lo = pads[2 + a], hi = pads[full + 2 + a];
        if (lo < -(1L << 20) || hi < -(1L << 20) || lo > (1L << 20) || hi > (1L << 20) || tx->dims[a] + lo + hi < 1)
            return NODE_ERR(im, "expected pads that leave at least one pixel (each within +-2^20), got %g and %g on "
                                "spatial axis %d of %d pixels", padv[2 + a], padv[full + 2 + a], a, tx->dims[a]);
        tmp.pad_lo[d] = (int)lo;
        tmp.pad_hi[d] = (int)hi;
        dims[a] = tx->dims[a] + (int)lo + (int)hi;
    }
    dims[ns] = tx->dims[ns];
    int in[1] = {x};
    int id = new_data_node(im, OP_PAD, lname, in, 1, n->output[0], tx->rank, dims);
    memcpy(im->g->n[id].pad_lo, tmp.pad_lo, sizeof tmp.pad_lo);
    memcpy(im->g->n[id].pad_hi, tmp.pad_hi, sizeof tmp.pad_hi);
    im->alias[im->nalias - 1].cl = 1;
    return 0;
}

/* Concat of data tensors, as a chain of two-input concatenations. */
static int import_concat(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    if (n->n_input < 1)
        return NODE_ERR(im, "expected at least one input, got none");
    int ids[64], cls[64], all_cl = 1;
    if (n->n_input > 64)
        return NODE_ERR(im, "expected at most 64 inputs, got %zu", n->n_input);
    for (size_t k = 0; k < n->n_input; k++) {
        if (input_id_cl(im, n, k, &ids[k], &cls[k]) < 0)
            return -1;
        if (is_const(im, ids[k]))
            return NODE_ERR(im, "expected data inputs, got constant '%s'", n->input[k]);
        all_cl &= cls[k];
    }
    if (!all_cl)
        for (size_t k = 0; k < n->n_input; k++)
            if (cls[k])
                ids[k] = to_layout(im, n->input[k], ids[k], 0);
    int r = im->g->t[ids[0]].rank;
    long axis = attr_i(n, "axis", 1);
    if (axis < 0)
        axis += r + 1;
    if (axis < 1 || axis > r)
        return NODE_ERR(im, "expected an axis other than the batch axis (1..%d), got %ld", r, axis);
    int ax = (int)axis - 1;
    if (all_cl && r >= 2)
        ax = ax == 0 ? r - 1 : ax - 1;
    int cur = ids[0];
    for (size_t k = 1; k < n->n_input; k++) {
        const Tensor *a = &im->g->t[cur], *b = &im->g->t[ids[k]];
        int ok = a->rank == b->rank, dims[IR_MAX_RANK];
        for (int j = 0; ok && j < a->rank; j++) {
            ok = j == ax || a->dims[j] == b->dims[j];
            dims[j] = j == ax ? a->dims[j] + b->dims[j] : a->dims[j];
        }
        if (!ok) {
            char s1[96], s2[96];
            ir_shape_str(a, s1, sizeof s1);
            ir_shape_str(b, s2, sizeof s2);
            return NODE_ERR(im, "expected inputs of equal shape except on axis %ld, got %s and %s", axis, s1, s2);
        }
        int in[2] = {cur, ids[k]};
        const char *on = k + 1 == n->n_input ? n->output[0] : arena_printf(&im->g->arena, "%s_part%zu", n->output[0], k);
        const char *ln = k + 1 == n->n_input ? lname : arena_printf(&im->g->arena, "%s_part%zu", lname, k);
        int id = new_data_node(im, OP_CONCAT, ln, in, 2, on, a->rank, dims);
        im->g->n[id].axis = ax;
        im->alias[im->nalias - 1].cl = all_cl;
        cur = im->g->n[id].out;
    }
    if (n->n_input == 1)
        alias_add_cl(im, n->output[0], cur, all_cl);
    return 0;
}

/* Elementwise op of two data tensors (same shape); keeps a common layout. */
static int import_merge(Importer *im, const Onnx__NodeProto *n, Op o, const char *lname)
{
    if (n->n_input != 2)
        return NODE_ERR(im, "expected two data inputs, got %zu input%s", n->n_input, n->n_input == 1 ? "" : "s");
    int a, b, ca, cb;
    if (input_id_cl(im, n, 0, &a, &ca) < 0 || input_id_cl(im, n, 1, &b, &cb) < 0)
        return -1;
    if (is_const(im, a) || is_const(im, b))
        return NODE_ERR(im, "expected two data inputs, got constant '%s'", n->input[is_const(im, a) ? 0 : 1]);
    if (ca != cb) {
        if (ca)
            a = to_layout(im, n->input[0], a, 0);
        if (cb)
            b = to_layout(im, n->input[1], b, 0);
        ca = 0;
    }
    const Tensor *ta = &im->g->t[a], *tb = &im->g->t[b];
    if (ta->rank != tb->rank || memcmp(ta->dims, tb->dims, sizeof(int) * (size_t)ta->rank)) {
        char s1[96], s2[96];
        ir_shape_str(ta, s1, sizeof s1);
        ir_shape_str(tb, s2, sizeof s2);
        return NODE_ERR(im, "expected operands of the same shape, got %s and %s", s1, s2);
    }
    int in[2] = {a, b};
    new_data_node(im, o, lname, in, 2, n->output[0], ta->rank, ta->dims);
    im->alias[im->nalias - 1].cl = ca;
    return 0;
}

/* ---- recurrent layers: RNN, LSTM, GRU ------------------------------------
 * Each direction is unrolled by rnn.c (one cell per time step, the Keras
 * path's unroller); the weights are brought to its Keras layout and gate
 * order.  The outputs Y [T, dirs, N, H] and Y_h [dirs, N, H] (layout 0) stay
 * per-step state vectors (SeqVal) through the Squeeze / Transpose / Gather /
 * Slice / Reshape that torch puts behind them; an op that reads one whole
 * gets it built (concatenated) then.  Time-major data ([T, N, F]) is held
 * without its batch axis like any other value, with Alias.bax = 1. */

/* A node on g's tensors that defines no ONNX value; returns the output tensor id. */
static int plain_node(Importer *im, Op op, const char *lname, const char *src_op, const int *in, int nin, int rank,
                      const int *dims)
{
    int dd[IR_MAX_RANK];
    memcpy(dd, dims, sizeof(int) * (size_t)rank);   /* dims may point into g->t */
    int out = ir_add_tensor(im->g, lname, rank, dd);
    ir_add_node(im->g, op, lname, src_op, in, nin, out);
    return out;
}

static int seq_dim(const SeqVal *s, int k)
{
    return s->ax[k] == 't' ? s->nt : s->ax[k] == 'd' ? s->nd : s->ax[k] == 'n' ? 1 : s->ax[k] == 'h' ? s->h : s->nd * s->h;
}

static void seq_shape_str(const SeqVal *s, char *out, size_t len)
{
    long d[MAX_FULL_RANK];
    for (int k = 0; k < s->rank; k++)
        d[k] = seq_dim(s, k);
    lshape_str(s->rank, d, out, len);
}

/* The tensor of alias k for an op that reads the value whole: a recurrent output's state vectors are
 * concatenated in the value's order (and reshaped) the first time; -1 on error. */
static int alias_tensor(Importer *im, size_t k)
{
    if (im->alias[k].rev)
        return NODE_ERR(im, "expected the ReverseSequence output '%s' to be read only as input X of a forward RNN, LSTM "
                            "or GRU node (a go_backwards layer), got a read by this node (not supported)",
                        im->alias[k].name);
    if (im->alias[k].id >= 0 || !im->alias[k].seq)
        return im->alias[k].id;
    const SeqVal *s = im->alias[k].seq;
    char ss[160];
    seq_shape_str(s, ss, sizeof ss);
    if (!s->cell)
        return NODE_ERR(im, "expected no use of the cell state Y_c ('%s') of LSTM node '%s', got one (not supported)",
                        im->alias[k].name, s->src);
    int last = s->rank - 1;
    if (s->ax[last] != 'h' && s->ax[last] != 'm')
        return NODE_ERR(im, "expected recurrent output '%s' with the units on its last axis here, got shape %s with them "
                            "on axis %d", im->alias[k].name, ss, (int)(strchr(s->ax, 'h') - s->ax));
    /* the state vectors in row-major order of the axes before the last (and the direction within 'm') */
    int axk[MAX_FULL_RANK + 1], lim[MAX_FULL_RANK + 1], na = 0, dims[IR_MAX_RANK], r = 0, bax = 0;
    for (int j = 0; j < s->rank; j++) {
        if (s->ax[j] == 'n')
            bax = j;
        else
            dims[r++] = seq_dim(s, j);
        if (j < last && s->ax[j] != 'n') {
            axk[na] = s->ax[j];
            lim[na++] = seq_dim(s, j);
        }
    }
    if (s->ax[last] == 'm') {
        axk[na] = 'd';
        lim[na++] = s->nd;
    }
    long count = 1;
    for (int j = 0; j < na; j++)
        count *= lim[j];
    int cur = -1, total = 0, idx[MAX_FULL_RANK + 1] = {0};
    const char *base = unique_name(im, arena_printf(&im->g->arena, "%s_seq", s->src), "seq");
    for (long e = 0; e < count; e++) {
        int t = 0, d = 0;
        for (int j = 0; j < na; j++) {
            if (axk[j] == 't')
                t = idx[j];
            else
                d = idx[j];
        }
        int v = s->cell[t * s->nd + d];
        total += s->h;
        if (cur < 0) {
            cur = v;
        } else {
            int two[2] = {cur, v};
            cur = plain_node(im, OP_CONCAT, arena_printf(&im->g->arena, "%s_cat%ld", base, e), s->src_op, two, 2, 1, &total);
            im->g->n[im->g->nn - 1].axis = 0;
        }
        for (int j = na - 1; j >= 0 && ++idx[j] == lim[j]; j--)   /* next index, last axis fastest */
            idx[j] = 0;
    }
    if (r != 1 || dims[0] != total) {
        int in1[1] = {cur};
        cur = plain_node(im, OP_RESHAPE, base, s->src_op, in1, 1, r, dims);
    }
    im->alias[k].id = cur;
    im->alias[k].bax = bax;
    return cur;
}

/* A constant input k of node n (what: for messages); -1 if absent (optional), -2 on error. */
static int const_input(Importer *im, const Onnx__NodeProto *n, size_t k, const char *what, int optional)
{
    int id;
    if (k >= n->n_input || !n->input[k][0]) {
        if (optional)
            return -1;
        NODE_ERR(im, "expected %s (input %zu), got none", what, k);
        return -2;
    }
    long a = alias_find(im, n->input[k]);
    if (a < 0) {
        NODE_ERR(im, "expected input '%s' to be a graph input, initializer or earlier output, got an undefined name",
                 n->input[k]);
        return -2;
    }
    id = im->alias[a].id;
    if (id < 0 || !is_const(im, id)) {
        NODE_ERR(im, "expected a constant %s, got data tensor '%s'", what, n->input[k]);
        return -2;
    }
    return id;
}

/* The integers of a constant 1-D input k, or of attribute attr_name before opset `since` (absent: *cnt = -1). */
static int ints_param(Importer *im, const Onnx__NodeProto *n, size_t k, const char *attr_name, int since, long *out,
                      int cap, int *cnt)
{
    *cnt = -1;
    if (im->opset < since) {
        const Onnx__AttributeProto *a = attr(n, attr_name);
        if (!a)
            return 0;
        if ((int)a->n_ints > cap)
            return NODE_ERR(im, "expected at most %d %s, got %zu", cap, attr_name, a->n_ints);
        for (size_t j = 0; j < a->n_ints; j++)
            out[j] = (long)a->ints[j];
        *cnt = (int)a->n_ints;
        return 0;
    }
    int c = const_input(im, n, k, attr_name, 1);
    if (c == -2)
        return -1;
    if (c < 0)
        return 0;
    long ne = ir_const_numel(&im->g->t[c]);
    if (ne > cap)
        return NODE_ERR(im, "expected at most %d %s, got %ld", cap, attr_name, ne);
    for (long j = 0; j < ne; j++)
        out[j] = to_long(im->g->t[c].data[j]);
    *cnt = (int)ne;
    return 0;
}

/* Slice's starts, ends, axes and steps as, per axis of a rank-r value of dimensions dims, the list of
 * indices taken (sel[k] = NULL: the whole axis). */
static int slice_params(Importer *im, const Onnx__NodeProto *n, int r, const int *dims, int **sel, int *cnt)
{
    long st[MAX_FULL_RANK], en[MAX_FULL_RANK], ax[MAX_FULL_RANK], sp[MAX_FULL_RANK];
    int nst, nen, nax, nsp;
    if (ints_param(im, n, 1, "starts", 10, st, MAX_FULL_RANK, &nst) < 0 ||
        ints_param(im, n, 2, "ends", 10, en, MAX_FULL_RANK, &nen) < 0 ||
        ints_param(im, n, 3, "axes", 10, ax, MAX_FULL_RANK, &nax) < 0 ||
        ints_param(im, n, 4, "steps", 10, sp, MAX_FULL_RANK, &nsp) < 0)
        return -1;
    if (nst < 0 || nen != nst || (nax >= 0 && nax != nst) || (nsp >= 0 && nsp != nst))
        return NODE_ERR(im, "expected starts and ends (and axes, steps if given) of one length, got %d, %d, %d, %d", nst,
                        nen, nax, nsp);
    for (int k = 0; k < r; k++) {
        sel[k] = NULL;
        cnt[k] = dims[k];
    }
    for (int j = 0; j < nst; j++) {
        long a = nax >= 0 ? ax[j] : j, step = nsp >= 0 ? sp[j] : 1;
        if (a < 0)
            a += r;
        if (a < 0 || a >= r)
            return NODE_ERR(im, "expected axes in -%d..%d, got %ld", r, r - 1, nax >= 0 ? ax[j] : j);
        if (sel[a])
            return NODE_ERR(im, "expected distinct axes, got axis %ld twice", a);
        if (step == 0)
            return NODE_ERR(im, "expected non-zero steps, got 0 on axis %ld", a);
        long D = dims[a], s = st[j], e = en[j];
        s = s < 0 ? s + D : s;
        e = e < 0 ? e + D : e;
        if (step > 0) {
            s = s < 0 ? 0 : s > D ? D : s;
            e = e < 0 ? 0 : e > D ? D : e;
        } else {
            s = s < 0 ? -1 : s > D - 1 ? D - 1 : s;
            e = e < -1 ? -1 : e > D - 1 ? D - 1 : e;
        }
        long count = step > 0 ? (s < e ? (e - s + step - 1) / step : 0) : (s > e ? (s - e - step - 1) / -step : 0);
        int *list = arena_array(&im->g->arena, (size_t)(count ? count : 1), sizeof(int)), c = 0;
        for (long i = s; step > 0 ? i < e : i > e; i += step)
            list[c++] = (int)i;
        sel[a] = list;
        cnt[a] = c;
    }
    return 0;
}

/* ConstantOfShape (ConstantFill before opset 9), Expand and Slice of constants (the zero initial states torch
 * builds for recurrent nodes). */
static int import_const_op(Importer *im, const Onnx__NodeProto *n, const char *op)
{
    int c = const_input(im, n, 0, op[0] == 'C' ? "shape" : "input", 0);
    if (c < 0)
        return -1;
    const Tensor *t = &im->g->t[c];
    int r = t->const_rank, dims[MAX_FULL_RANK], src[MAX_FULL_RANK];
    char s1[160];
    if (op[0] == 'C' || op[0] == 'E') {   /* the result's shape from a 1-D constant */
        int sh = op[0] == 'C' ? c : const_input(im, n, 1, "shape", 0);
        if (sh < 0)
            return -1;
        long ne = ir_const_numel(&im->g->t[sh]), d[MAX_FULL_RANK] = {0}, total = 1;
        if (ne > MAX_FULL_RANK)
            return NODE_ERR(im, "expected a shape of at most %d dimensions, got %ld", MAX_FULL_RANK, ne);
        for (long k = 0; k < ne; k++)
            d[k] = to_long(im->g->t[sh].data[k]);
        lshape_str((int)ne, d, s1, sizeof s1);
        int rank = op[0] == 'C' || ne > r ? (int)ne : r;
        for (int k = 0; k < rank; k++) {
            long kd = k - (rank - ne), kt = k - (rank - r);
            long a = kd >= 0 ? d[kd] : 1, b = op[0] == 'E' && kt >= 0 ? t->const_dims[kt] : 1;
            if (a < 0 || a > (1L << 24) || (a != b && a != 1 && b != 1))
                return NODE_ERR(im, "expected a shape of dimensions in 0..2^24%s, got %s", op[0] == 'E' ?
                                " that the input broadcasts to" : "", s1);
            dims[k] = (int)(a == 1 ? b : a);
            src[k] = op[0] == 'E' && kt >= 0 ? t->const_dims[kt] : 1;
            total = mul_sat(total, dims[k]);
        }
        if (total > (1L << 26))
            return NODE_ERR(im, "expected at most 2^26 elements, got shape %s", s1);
        double *v = arena_array(&im->g->arena, (size_t)(total ? total : 1), sizeof(double));
        int cfill = !strcmp(op, "ConstantFill");   /* opset < 9: the value is a float attribute */
        double fill = cfill ? attr_f(n, "value", 0.0) : 0.0;
        const Onnx__AttributeProto *va = attr(n, "value");
        if (cfill && attr_i(n, "input_as_shape", 0) != 1)
            return NODE_ERR(im, "expected input_as_shape 1 (the input is the shape), got %ld",
                            attr_i(n, "input_as_shape", 0));
        if (op[0] == 'C' && !cfill && va && va->t) {
            int vr, vd[MAX_FULL_RANK];
            double *vv;
            if (tensor_to_double(im, va->t, "value", &vr, vd, &vv) < 0)
                return -1;
            long vn = 1;
            for (int k = 0; k < vr; k++)
                vn *= vd[k];
            if (vn != 1)
                return NODE_ERR(im, "expected a one-element value, got %ld elements", vn);
            fill = vv[0];
        }
        for (long e = 0; e < total; e++) {
            long ia = 0, ib = 0;
            if (op[0] == 'E')
                ir_broadcast_index(e, rank, dims, src, src, &ia, &ib);
            v[e] = op[0] == 'C' ? fill : t->data[ia];
        }
        new_const(im, n->output[0], rank, dims, v);
        return 0;
    }
    /* Slice */
    int *sel[MAX_FULL_RANK], cnt[MAX_FULL_RANK];
    if (slice_params(im, n, r, t->const_dims, sel, cnt) < 0)
        return -1;
    long total = 1;
    for (int k = 0; k < r; k++)
        total *= cnt[k];
    double *v = arena_array(&im->g->arena, (size_t)(total ? total : 1), sizeof(double));
    for (long e = 0; e < total; e++) {
        long rem = e, ic = 0, stride = 1;
        for (int k = r - 1; k >= 0; k--) {
            long i = rem % cnt[k];
            rem /= cnt[k];
            ic += (sel[k] ? sel[k][i] : i) * stride;
            stride *= t->const_dims[k];
        }
        v[e] = t->data[ic];
    }
    new_const(im, n->output[0], r, cnt, v);
    return 0;
}

/* A transpose that moves the batch axis (into or out of time-major order): the data stays as it is where
 * only size-1 axes move, else the per-sample axes are transposed; the result's batch axis is recorded. */
static int transpose_batch(Importer *im, int x, int xbax, const long *perm, int frank, const char *lname,
                           const char *out)
{
    const Tensor *tx = &im->g->t[x];
    int r = tx->rank, p[IR_MAX_RANK], dims[IR_MAX_RANK], j = 0, obax = 0, ident = 1, last = -1;
    for (int k = 0; k < frank; k++) {
        if (perm[k] == xbax) {
            obax = k;
            continue;
        }
        p[j] = (int)perm[k] - (perm[k] > xbax);
        dims[j] = tx->dims[p[j]];
        if (dims[j] != 1) {
            ident &= p[j] > last;
            last = p[j];
        }
        j++;
    }
    int id = x;
    if (!ident) {
        int in1[1] = {x};
        id = plain_node(im, OP_TRANSPOSE, lname, im->node_op, in1, 1, r, dims);
        memcpy(im->g->n[im->g->nn - 1].perm, p, sizeof(int) * (size_t)r);
    }
    alias_add(im, out, id);
    im->alias[im->nalias - 1].bax = obax;
    return 0;
}

/* A new recurrent output value like s (arena), defined as ONNX value `out`. */
static SeqVal *seq_new(Importer *im, const SeqVal *s, const char *out)
{
    SeqVal *ns = arena_array(&im->g->arena, 1, sizeof *ns);
    *ns = *s;
    alias_add(im, out, -1);
    im->alias[im->nalias - 1].seq = ns;
    return ns;
}

/* ns with its steps (axis 't') or directions ('d') reduced to those listed in sel (c of them). */
static void seq_select(Importer *im, SeqVal *ns, char which, const int *sel, int c)
{
    int nt = which == 't' ? c : ns->nt, nd = which == 'd' ? c : ns->nd;
    if (ns->cell) {
        int *cell = arena_array(&im->g->arena, (size_t)(nt * nd > 0 ? nt * nd : 1), sizeof(int));
        for (int t = 0; t < nt; t++)
            for (int d = 0; d < nd; d++)
                cell[t * nd + d] = ns->cell[(which == 't' ? sel[t] : t) * ns->nd + (which == 'd' ? sel[d] : d)];
        ns->cell = cell;
    }
    ns->nt = nt;
    ns->nd = nd;
}

static void seq_drop_axis(SeqVal *ns, int k)
{
    memmove(ns->ax + k, ns->ax + k + 1, (size_t)(ns->rank - k - 1));
    ns->rank--;
}

/* Shape, Transpose, Squeeze, Reshape, Gather and Slice of a recurrent output (no data moves; the value
 * stays per-step vectors), Shape and Transpose of time-major data.  Returns 1 when the node is none of
 * these (it then reads the value whole, or refuses a time-major value). */
static int import_view(Importer *im, const Onnx__NodeProto *n, const char *op, const char *lname)
{
    if (!n->n_input || !n->input[0][0] || !n->n_output)
        return 1;
    long a = alias_find(im, n->input[0]);
    if (a < 0 || (!im->alias[a].seq && !im->alias[a].bax) || (im->alias[a].rev && strcmp(op, "Shape")))
        return 1;
    const SeqVal *s = im->alias[a].seq;
    int bax = im->alias[a].bax, x = im->alias[a].id;
    const char *out = n->output[0];
    int r = s ? s->rank : im->g->t[x].rank + 1, dims[MAX_FULL_RANK];
    if (s) {
        for (int k = 0; k < r; k++)
            dims[k] = seq_dim(s, k);
    } else {
        for (int k = 0, j = 0; k < r; k++)
            dims[k] = k == bax ? 1 : im->g->t[x].dims[j++];
    }
    char ss[160];
    long ld[MAX_FULL_RANK];
    for (int k = 0; k < r; k++)
        ld[k] = dims[k];
    lshape_str(r, ld, ss, sizeof ss);
    if (!strcmp(op, "Shape")) {
        long st = attr_i(n, "start", 0), en = attr_i(n, "end", r);
        st = st < 0 ? st + r : st;
        en = en < 0 ? en + r : en;
        st = st < 0 ? 0 : st > r ? r : st;
        en = en < st ? st : en > r ? r : en;
        int len = (int)(en - st);
        double v[MAX_FULL_RANK];
        for (int k = 0; k < len; k++)
            v[k] = dims[st + k];
        new_const(im, out, 1, &len, v);
        return 0;
    }
    if (!strcmp(op, "Transpose")) {
        long perm[MAX_FULL_RANK];
        const Onnx__AttributeProto *p = attr(n, "perm");
        for (int k = 0; k < r; k++)
            perm[k] = r - 1 - k;
        if (p && (int)p->n_ints != r)
            return NODE_ERR(im, "expected perm of length %d, got %zu", r, p->n_ints);
        for (int k = 0; p && k < r; k++) {
            perm[k] = (long)p->ints[k];
            if (perm[k] < 0 || perm[k] >= r)
                return NODE_ERR(im, "expected perm entries in 0..%d, got %ld", r - 1, perm[k]);
            for (int j = 0; j < k; j++)
                if (perm[j] == perm[k])
                    return NODE_ERR(im, "expected a permutation, got axis %ld twice in perm", perm[k]);
        }
        if (!s)
            return transpose_batch(im, x, bax, perm, r, lname, out);
        SeqVal *ns = seq_new(im, s, out);
        for (int k = 0; k < r; k++)
            ns->ax[k] = s->ax[perm[k]];
        return 0;
    }
    if (!s)
        return 1;
    if (!strcmp(op, "Concat") && n->n_input > 1) {
        /* of recurrent outputs along steps or directions (torch stacks the layers' Y_h) */
        long axis = attr_i(n, "axis", 0);
        axis = axis < 0 ? axis + r : axis;
        if (axis < 0 || axis >= r || (s->ax[axis] != 't' && s->ax[axis] != 'd'))
            return 1;
        char w = s->ax[axis];
        const SeqVal *parts[64];
        int tot = 0, all_cells = 1;
        if (n->n_input > 64)
            return NODE_ERR(im, "expected at most 64 inputs, got %zu", n->n_input);
        for (size_t k = 0; k < n->n_input; k++) {
            long pa = n->input[k][0] ? alias_find(im, n->input[k]) : -1;
            const SeqVal *q = pa >= 0 ? im->alias[pa].seq : NULL;
            if (!q || q->rank != r || memcmp(q->ax, s->ax, (size_t)r) || q->h != s->h ||
                (w == 't' ? q->nd != s->nd : q->nt != s->nt))
                return 1;
            parts[k] = q;
            tot += w == 't' ? q->nt : q->nd;
            all_cells &= q->cell != NULL;
        }
        SeqVal *ns = seq_new(im, s, out);
        int nt = w == 't' ? tot : s->nt, nd = w == 'd' ? tot : s->nd, *cell = NULL;
        if (all_cells) {
            cell = arena_array(&im->g->arena, (size_t)nt * (size_t)nd, sizeof(int));
            for (int t = 0; t < nt; t++)
                for (int d = 0; d < nd; d++) {
                    int tt = t, dd = d, *pos = w == 't' ? &tt : &dd;
                    size_t k = 0;
                    while (*pos >= (w == 't' ? parts[k]->nt : parts[k]->nd)) {   /* the part holding it */
                        *pos -= w == 't' ? parts[k]->nt : parts[k]->nd;
                        k++;
                    }
                    cell[t * nd + d] = parts[k]->cell[tt * parts[k]->nd + dd];
                }
        }
        ns->cell = cell;
        ns->nt = nt;
        ns->nd = nd;
        return 0;
    }
    if (!strcmp(op, "Squeeze")) {
        long axes[MAX_FULL_RANK];
        int na;
        const Onnx__AttributeProto *at = attr(n, "axes");
        if (at) {
            na = (int)(at->n_ints < MAX_FULL_RANK ? at->n_ints : MAX_FULL_RANK);
            for (int k = 0; k < na; k++)
                axes[k] = (long)at->ints[k];
        } else if (ints_param(im, n, 1, "axes", 0, axes, MAX_FULL_RANK, &na) < 0) {
            return -1;
        }
        char drop[MAX_FULL_RANK] = {0};
        for (int k = 0; k < na; k++) {
            long ax = axes[k] < 0 ? axes[k] + r : axes[k];
            if (ax < 0 || ax >= r)
                return NODE_ERR(im, "expected axes in -%d..%d, got %ld", r, r - 1, axes[k]);
            if (dims[ax] != 1 || s->ax[ax] == 'n' || s->ax[ax] == 'h' || s->ax[ax] == 'm')
                return NODE_ERR(im, "expected to squeeze a step or direction axis of size 1 of recurrent output '%s' "
                                    "(shape %s), got axis %ld", n->input[0], ss, ax);
            drop[ax] = 1;
        }
        for (int k = 0; na < 0 && k < r; k++)   /* no axes: every size-1 step or direction axis */
            drop[k] = dims[k] == 1 && (s->ax[k] == 't' || s->ax[k] == 'd');
        SeqVal *ns = seq_new(im, s, out);
        for (int k = r - 1; k >= 0; k--)
            if (drop[k])
                seq_drop_axis(ns, k);
        return 0;
    }
    if (!strcmp(op, "Gather")) {
        long axis = attr_i(n, "axis", 0);
        axis = axis < 0 ? axis + r : axis;
        if (axis < 0 || axis >= r)
            return NODE_ERR(im, "expected axis in -%d..%d, got %ld", r, r - 1, attr_i(n, "axis", 0));
        int c = const_input(im, n, 1, "indices", 0);
        if (c < 0)
            return -1;
        const Tensor *ti = &im->g->t[c];
        char w = s->ax[axis];
        if (ti->const_rank > 1 || (w != 't' && w != 'd'))
            return NODE_ERR(im, "expected a Gather of steps or directions of recurrent output '%s' (shape %s) with a "
                                "scalar or 1-D index, got axis %ld and indices of rank %d", n->input[0], ss, axis,
                            ti->const_rank);
        long ne = ir_const_numel(ti);
        if (ne < 1 || ne > 4096)
            return NODE_ERR(im, "expected 1..4096 indices, got %ld", ne);
        int *sel = arena_array(&im->g->arena, (size_t)ne, sizeof(int));
        for (long k = 0; k < ne; k++) {
            long i = to_long(ti->data[k]);
            i = i < 0 ? i + dims[axis] : i;
            if (i < 0 || i >= dims[axis])
                return NODE_ERR(im, "expected indices in -%d..%d, got %g", dims[axis], dims[axis] - 1, ti->data[k]);
            sel[k] = (int)i;
        }
        SeqVal *ns = seq_new(im, s, out);
        seq_select(im, ns, w, sel, (int)ne);
        if (ti->const_rank == 0)
            seq_drop_axis(ns, (int)axis);
        return 0;
    }
    if (!strcmp(op, "Slice")) {
        int *sel[MAX_FULL_RANK], cnt[MAX_FULL_RANK];
        if (slice_params(im, n, r, dims, sel, cnt) < 0)
            return -1;
        SeqVal *ns = NULL;
        for (int k = 0; k < r; k++) {
            int whole = cnt[k] == dims[k];
            for (int i = 0; sel[k] && whole && i < cnt[k]; i++)
                whole = sel[k][i] == i;
            if (whole)
                continue;
            if (s->ax[k] != 't' && s->ax[k] != 'd')
                return NODE_ERR(im, "expected a Slice of steps or directions of recurrent output '%s' (shape %s), "
                                    "got one of axis %d", n->input[0], ss, k);
            if (!cnt[k])
                return NODE_ERR(im, "expected a non-empty Slice, got none of axis %d of '%s' (shape %s)", k, n->input[0], ss);
            if (!ns)
                ns = seq_new(im, s, out);
            seq_select(im, ns, s->ax[k], sel[k], cnt[k]);
        }
        if (!ns)
            seq_new(im, s, out);
        return 0;
    }
    if (!strcmp(op, "Reshape")) {
        long fd[MAX_FULL_RANK];
        int nf;
        if (ints_param(im, n, 1, "shape", 0, fd, MAX_FULL_RANK, &nf) < 0)
            return -1;
        if (nf < 0)
            return NODE_ERR(im, "expected a target shape, got none");
        long known = 1, total = 1;
        int infer = -1;
        for (int k = 0; k < r; k++)
            total *= dims[k];
        for (int k = 0; k < nf; k++) {
            if (fd[k] == 0 && !attr_i(n, "allowzero", 0))
                fd[k] = k < r ? dims[k] : 0;
            if (fd[k] == -1 && infer < 0)
                infer = k;
            else
                known = mul_sat(known, fd[k] < 0 ? 0 : fd[k]);
        }
        if (infer >= 0 && known > 0)
            fd[infer] = total / known;
        int same = nf == r, merge = -1;
        for (int k = 0; same && k < r; k++)
            same = fd[k] == dims[k];
        for (int k = 0; k + 1 < r && !same && merge < 0 && nf == r - 1; k++) {
            int ok = s->ax[k] == 'd' && s->ax[k + 1] == 'h' && fd[k] == (long)dims[k] * dims[k + 1];
            for (int j = 0; ok && j < nf; j++)
                ok = j == k || fd[j] == dims[j < k ? j : j + 1];
            if (ok)
                merge = k;
        }
        if (!same && merge < 0)
            return 1;   /* read whole */
        SeqVal *ns = seq_new(im, s, out);
        if (merge >= 0) {
            ns->ax[merge] = 'm';
            seq_drop_axis(ns, merge + 1);
        }
        return 0;
    }
    return 1;
}

/* An activation of a recurrent node by its ONNX name, as rnn.c names it; NULL if not supported. */
static const char *rnn_act_name(const char *a)
{
    static const char *const map[][2] = {{"sigmoid", "sigmoid"}, {"tanh", "tanh"}, {"relu", "relu"},
                                         {"hardsigmoid", "hard_sigmoid"}};
    char low[32];
    size_t k = 0;
    for (; a[k] && k + 1 < sizeof low; k++)
        low[k] = (char)tolower((unsigned char)a[k]);
    low[k] = 0;
    for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
        if (!strcmp(low, map[j][0]))
            return map[j][1];
    return NULL;
}

/* RNN, LSTM and GRU: each direction unrolled by rnn.c; the outputs become SeqVals. */
/* ReverseSequence over all steps of sequence data (tf2onnx writes a Keras go_backwards layer as one before a
 * forward RNN/LSTM/GRU node): no data moves; the value is marked reversed and only that recurrent node reads it
 * (as go_backwards, its Y in processing order, as Keras returns it). */
static int import_reverse_sequence(Importer *im, const Onnx__NodeProto *n)
{
    if (n->n_input != 2 || !n->input[0][0] || !n->input[1][0])
        return NODE_ERR(im, "expected inputs input and sequence_lens, got %zu", n->n_input);
    long xa = alias_find(im, n->input[0]);
    if (xa < 0)
        return NODE_ERR(im, "expected input '%s' to be a graph input, initializer or earlier output, got an undefined name",
                        n->input[0]);
    Alias a = im->alias[xa];
    long ta = attr_i(n, "time_axis", 0), ba = attr_i(n, "batch_axis", 1);
    if (a.seq || a.cl || a.id < 0 || is_const(im, a.id) || im->g->t[a.id].rank != 2 || ba != a.bax ||
        ta != 1 - a.bax)
        return NODE_ERR(im, "expected sequence data [steps, features] per sample with time_axis and batch_axis on its "
                            "steps and batch (the input X of a recurrent node), got '%s' with time_axis %ld, batch_axis "
                            "%ld (not supported)", n->input[0], ta, ba);
    int T = im->g->t[a.id].dims[0], sl = const_input(im, n, 1, "sequence_lens", 0);
    if (sl < 0)
        return -1;
    for (long k = 0; k < ir_const_numel(&im->g->t[sl]); k++)
        if (im->g->t[sl].data[k] != T)
            return NODE_ERR(im, "expected sequence_lens equal to the %d time steps, got %g (sequences of other lengths "
                                "are not supported)", T, im->g->t[sl].data[k]);
    alias_add(im, n->output[0], a.id);
    im->alias[im->nalias - 1].bax = a.bax;
    im->alias[im->nalias - 1].rev = !a.rev;
    return 0;
}

static int import_recurrent(Importer *im, const Onnx__NodeProto *n, const char *op, const char *lname)
{
    Graph *g = im->g;
    int kind = op[0] == 'R' ? 0 : op[0] == 'L' ? 1 : 2, G = kind == 0 ? 1 : kind == 1 ? 4 : 3;
    if (n->n_input < 3 || !n->input[0][0])
        return NODE_ERR(im, "expected inputs X, W and R, got %zu input%s", n->n_input, n->n_input == 1 ? "" : "s");
    long layout = attr_i(n, "layout", 0);
    if (layout != 0 && layout != 1)
        return NODE_ERR(im, "expected layout 0 or 1, got %ld", layout);
    /* X: [T, N, F] (layout 0) or [N, T, F] per the batch axis; per sample [T, F] */
    long xa = alias_find(im, n->input[0]);
    if (xa < 0)
        return NODE_ERR(im, "expected input '%s' to be a graph input, initializer or earlier output, got an undefined name",
                        n->input[0]);
    int rev = im->alias[xa].rev;
    int x = rev ? im->alias[xa].id : alias_tensor(im, (size_t)xa);
    if (x < 0)
        return -1;
    if (im->alias[xa].cl)
        x = to_layout(im, n->input[0], x, 0), xa = (long)im->nalias - 1;
    if (is_const(im, x))
        return NODE_ERR(im, "expected a data input X, got constant '%s'", n->input[0]);
    const Tensor *tx = &g->t[x];
    char s1[160], s2[160];
    ir_shape_str(tx, s1, sizeof s1);
    if (tx->rank != 2 || im->alias[xa].bax != (layout ? 0 : 1))
        return NODE_ERR(im, "expected X of shape %s with the batch on axis %d (layout %ld), got '%s': %s per sample "
                            "with the batch on axis %d", layout ? "[batch, seq_length, input_size]"
                                                                : "[seq_length, batch, input_size]",
                        layout ? 0 : 1, layout, n->input[0], s1, im->alias[xa].bax);
    int T = tx->dims[0], F = tx->dims[1];
    if (T > 4096)
        return NODE_ERR(im, "expected at most 4096 time steps (the layer is unrolled), got %d", T);
    /* attributes */
    char dir[32];
    attr_str(n, "direction", "forward", dir, sizeof dir);
    int D = !strcmp(dir, "bidirectional") ? 2 : 1;
    if (strcmp(dir, "forward") && strcmp(dir, "reverse") && D != 2)
        return NODE_ERR(im, "expected direction forward, reverse or bidirectional, got '%s'", dir);
    if (rev && strcmp(dir, "forward"))
        return NODE_ERR(im, "expected direction forward on the ReverseSequence output '%s', got %s (not supported)",
                        n->input[0], dir);
    if (attr(n, "clip"))
        return NODE_ERR(im, "expected no clip attribute, got clip = %g (cell clipping is not supported)",
                        attr_f(n, "clip", 0));
    if (kind == 1 && attr_i(n, "input_forget", 0))
        return NODE_ERR(im, "expected input_forget 0, got %ld (coupled input and forget gates are not supported)",
                        attr_i(n, "input_forget", 0));
    long lbr = kind == 2 ? attr_i(n, "linear_before_reset", 0) : 0;
    if (lbr != 0 && lbr != 1)
        return NODE_ERR(im, "expected linear_before_reset 0 or 1, got %ld", lbr);
    /* W [D, G*H, F], R [D, G*H, H], B [D, 2*G*H] */
    int w = const_input(im, n, 1, "W", 0), rr = w < 0 ? -2 : const_input(im, n, 2, "R", 0);
    int b = rr < 0 ? -2 : const_input(im, n, 3, "B", 1);
    if (w < 0 || rr < 0 || b == -2)
        return -1;
    const Tensor *tw = &g->t[w], *tr = &g->t[rr], *tb = b >= 0 ? &g->t[b] : NULL;
    long hs = attr_i(n, "hidden_size", tw->const_rank == 3 ? tw->const_dims[1] / G : 0);
    if (hs < 1 || hs > 65536)
        return NODE_ERR(im, "expected hidden_size in 1..65536, got %ld", hs);
    int H = (int)hs, want[3] = {D, G * H, F};
    const char *gl = kind == 0 ? "1 gate" : kind == 1 ? "4 gates" : "3 gates";
    shape_str(3, want, s1, sizeof s1);
    shape_str(tw->const_rank, tw->const_dims, s2, sizeof s2);
    if (tw->const_rank != 3 || memcmp(tw->const_dims, want, sizeof want))
        return NODE_ERR(im, "expected W %s (%d direction%s, %s x %d units, %d features), got %s", s1, D, D > 1 ? "s" : "",
                        gl, H, F, s2);
    want[2] = H;
    shape_str(3, want, s1, sizeof s1);
    shape_str(tr->const_rank, tr->const_dims, s2, sizeof s2);
    if (tr->const_rank != 3 || memcmp(tr->const_dims, want, sizeof want))
        return NODE_ERR(im, "expected R %s, got %s", s1, s2);
    int bwant[2] = {D, 2 * G * H};
    if (tb && (tb->const_rank != 2 || memcmp(tb->const_dims, bwant, sizeof bwant))) {
        shape_str(2, bwant, s1, sizeof s1);
        shape_str(tb->const_rank, tb->const_dims, s2, sizeof s2);
        return NODE_ERR(im, "expected B %s, got %s", s1, s2);
    }
    double unrolled = (double)T * D * (F + H) * G * H;   /* weights the unrolled steps hold */
    if (unrolled > (double)(1 << 25))
        return NODE_ERR(im, "expected at most 33554432 (2^25) weights in the unrolled layer (steps x directions x "
                            "weights), got %.0f (%d steps, %d direction%s, %d weights each)", unrolled, T, D,
                        D > 1 ? "s" : "", (F + H) * G * H);
    const double *Wd = tw->data, *Rd = tr->data, *Bd = tb ? tb->data : NULL;   /* (g->t moves as nodes are added) */
    /* sequence_lens: all T; initial_h, initial_c: zeros; no peepholes */
    int sl = const_input(im, n, 4, "sequence_lens", 1);
    if (sl == -2)
        return -1;
    for (long k = 0; sl >= 0 && k < ir_const_numel(&g->t[sl]); k++)
        if (g->t[sl].data[k] != T)
            return NODE_ERR(im, "expected sequence_lens equal to the %d time steps, got %g (sequences of other lengths "
                                "are not supported)", T, g->t[sl].data[k]);
    static const char *const init_name[2] = {"initial_h", "initial_c"};
    for (int k = 0; k < (kind == 1 ? 2 : 1); k++) {
        size_t in = 5 + (size_t)k;
        if (in >= n->n_input || !n->input[in][0])
            continue;
        long ia = alias_find(im, n->input[in]);
        if (ia < 0)
            return NODE_ERR(im, "expected input '%s' to be a graph input, initializer or earlier output, got an "
                                "undefined name", n->input[in]);
        int id = im->alias[ia].id;
        if (id < 0 || !is_const(im, id))
            return NODE_ERR(im, "expected a zero %s (absent or constant zeros), got '%s' computed from data (a "
                                "non-zero initial state is not supported)", init_name[k], n->input[in]);
        for (long e = 0; e < ir_const_numel(&g->t[id]); e++)
            if (g->t[id].data[e] != 0)
                return NODE_ERR(im, "expected a zero %s (absent or constant zeros), got '%s' with %g at element %ld (a "
                                    "non-zero initial state is not supported)", init_name[k], n->input[in],
                                g->t[id].data[e], e);
    }
    if (kind == 1 && n->n_input > 7 && n->input[7][0])
        return NODE_ERR(im, "expected no peephole weights P, got '%s' (not supported)", n->input[7]);
    /* activations per direction: RNN f; LSTM f, g, h; GRU f, g */
    int na = kind == 0 ? 1 : kind == 1 ? 3 : 2;
    const char *acts[6];
    double alpha[6];
    static const char *const defaults[3][3] = {{"Tanh"}, {"Sigmoid", "Tanh", "Tanh"}, {"Sigmoid", "Tanh"}};
    const Onnx__AttributeProto *aa = attr(n, "activations"), *al = attr(n, "activation_alpha"),
                               *ab = attr(n, "activation_beta");
    size_t nact = aa ? aa->n_strings : 0, ia = 0, ib = 0;
    if (nact && nact != (size_t)na && nact != (size_t)(na * D))
        return NODE_ERR(im, "expected %d activations (or %d per direction), got %zu", na * D, na, nact);
    for (int k = 0; k < na * D; k++) {
        char an[32];
        if (nact) {
            const ProtobufCBinaryData *bs = &aa->strings[(size_t)k % nact];
            size_t len = bs->len < sizeof an - 1 ? bs->len : sizeof an - 1;
            memcpy(an, bs->data, len);
            an[len] = 0;
            for (size_t j = 0; j < len; j++)
                if (!isprint((unsigned char)an[j]))
                    an[j] = '?';
        } else {
            snprintf(an, sizeof an, "%s", defaults[kind][k % na]);
        }
        acts[k] = rnn_act_name(an);
        if (!acts[k])
            return NODE_ERR(im, "expected activations among Sigmoid, Tanh, Relu and HardSigmoid, got '%s' (not "
                                "supported in a recurrent layer yet)", an);
        alpha[k] = 0.2;
        double beta = 0.5;
        if (!strcmp(acts[k], "hard_sigmoid")) {   /* HardSigmoid takes an alpha and a beta, in list order */
            if (al && ia < al->n_floats)
                alpha[k] = al->floats[ia++];
            if (ab && ib < ab->n_floats)
                beta = ab->floats[ib++];
            if (beta != 0.5)
                return NODE_ERR(im, "expected HardSigmoid with beta 0.5, got %g (not supported)", beta);
        }
    }
    /* each direction: Keras layout [F][G*H] / [H][G*H], Keras gate order (LSTM: ONNX i o f c -> i f c o) */
    static const int lstm_gate[4] = {0, 2, 3, 1};
    int *steps = arena_array(&g->arena, (size_t)(D * T), sizeof(int)), last[2];
    size_t first = g->nn;
    for (int d = 0; d < D; d++) {
        const char *f = acts[d * na], *ga = acts[d * na + (na > 1)], *ha = acts[d * na + (na > 2 ? 2 : na - 1)];
        if (kind == 1 && strcmp(ga, ha))
            return NODE_ERR(im, "expected the same activation for the cell input and the output (g and h), got %s and %s",
                            ga, ha);
        double slope = 0.2;
        int nhs = 0;
        for (int k = 0; k < na; k++)
            if (!strcmp(acts[d * na + k], "hard_sigmoid")) {
                if (nhs++ && alpha[d * na + k] != slope)
                    return NODE_ERR(im, "expected one HardSigmoid alpha per direction, got %g and %g", slope,
                                    alpha[d * na + k]);
                slope = alpha[d * na + k];
            }
        size_t GH = (size_t)G * (size_t)H;
        double *Wk = arena_array(&g->arena, (size_t)F * GH, sizeof(double));
        double *Rk = arena_array(&g->arena, (size_t)H * GH, sizeof(double));
        double *bx = arena_array(&g->arena, GH, sizeof(double)), *bh = NULL;
        if (kind == 2 && lbr)
            bh = arena_array(&g->arena, GH, sizeof(double));
        const double *Wo = Wd + (size_t)d * GH * (size_t)F, *Ro = Rd + (size_t)d * GH * (size_t)H;
        const double *Bo = Bd ? Bd + (size_t)d * 2 * GH : NULL;
        for (int kg = 0; kg < G; kg++) {
            int og = kind == 1 ? lstm_gate[kg] : kg;
            for (int u = 0; u < H; u++) {
                size_t col = (size_t)kg * (size_t)H + (size_t)u, row = (size_t)og * (size_t)H + (size_t)u;
                for (int i = 0; i < F; i++)
                    Wk[(size_t)i * GH + col] = Wo[row * (size_t)F + (size_t)i];
                for (int i = 0; i < H; i++)
                    Rk[(size_t)i * GH + col] = Ro[row * (size_t)H + (size_t)i];
                double wb = Bo ? Bo[row] : 0.0, rb = Bo ? Bo[GH + row] : 0.0;
                /* GRU with linear_before_reset: the recurrent bias stays with the recurrent products (Keras
                 * reset_after); elsewhere both biases add up */
                bx[col] = bh ? wb : wb + rb;
                if (bh)
                    bh[col] = rb;
            }
        }
        const char *layer = D == 1 ? lname : unique_name(im, arena_printf(&g->arena, "%s_%s", lname, d ? "backward"
                                                                                                         : "forward"), "rnn");
        RnnSpec sp = {.kind = kind == 0 ? RNN_SIMPLE : kind == 1 ? RNN_LSTM : RNN_GRU, .T = T, .F = F, .U = H,
                      .W = Wk, .R = Rk, .bx = Bo ? bx : NULL, .bh = bh, .act = kind == 0 ? f : ga,
                      .ract = kind == 0 ? NULL : f, .hs_slope = {slope, slope}, .reset_after = kind == 2 ? (int)lbr : 0,
                      .go_backwards = rev || d == 1 || !strcmp(dir, "reverse"), .return_sequences = 0, .layer = layer,
                      .dir = D == 1 ? RNN_DIR_NONE : d ? RNN_DIR_BACKWARD : RNN_DIR_FORWARD,
                      .src_op = im->node_op, .step_h = steps + d * T};
        last[d] = rnn_add_node(g, &sp, x);
    }
    for (size_t k = first; k < g->nn; k++)
        g->n[k].layer = lname;
    /* outputs: Y [T, D, N, H] / [N, T, D, H]; Y_h, Y_c [D, N, H] / [N, D, H] */
    SeqVal y = {T, D, H, NULL, 4, {0}, lname, im->node_op};
    int *cell = arena_array(&g->arena, (size_t)(T * D), sizeof(int));
    for (int t = 0; t < T; t++)
        for (int d = 0; d < D; d++)
            cell[t * D + d] = steps[d * T + (rev ? T - 1 - t : t)];   /* reversed input: Y in processing order */
    y.cell = cell;
    memcpy(y.ax, layout ? "ntdh" : "tdnh", 4);
    SeqVal yh = {1, D, H, NULL, 3, {0}, lname, im->node_op};
    int *lc = arena_array(&g->arena, (size_t)D, sizeof(int));
    memcpy(lc, last, sizeof(int) * (size_t)D);
    memcpy(yh.ax, layout ? "ndh" : "dnh", 3);
    for (size_t k = 0; k < n->n_output && k < (size_t)(kind == 1 ? 3 : 2); k++) {
        if (!n->output[k][0])
            continue;
        SeqVal *ns = seq_new(im, k ? &yh : &y, n->output[k]);
        ns->cell = k == 0 ? cell : k == 1 ? lc : NULL;
    }
    return 0;
}

/* QONNX quantizers and constant Shape/Gather/Concat (qonnx.c): 0, -1 (error), or 1: not for it. */
static int import_qonnx(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    int in[8], cl[8] = {0}, nin = n->n_input < 8 ? (int)n->n_input : 8, ocl = 0;
    if (!qonnx_is_quantizer(n))   /* Shape/Gather/Concat: constants only, else the ONNX reader's */
        for (int k = 0; k < nin; k++)
            if (n->input[k][0] && strcmp(n->op_type, "Shape") && !is_const(im, lookup(im, n->input[k])))
                return 1;
    for (int k = 0; k < nin; k++)
        if (input_id(im, n, (size_t)k, 1, &in[k]) < 0)
            return -1;
    QonnxNode q = {im->g, im->d, im->file, lname, &im->qonnx};
    int out = qonnx_import(&q, n, in, cl, nin, &ocl);
    if (out == -2)
        return 1;
    if (out < 0)
        return -1;
    alias_add(im, n->output[0], out);   /* inputs come in ONNX order (cl all 0) */
    return 0;
}

/* ---- channels-last models (qonnx.custom_op.channels_last) ------------------ */
/* Brevitas/QONNX channels-last exports keep every value [N, spatial..., C]: Conv and MaxPool in the
 * domain qonnx.custom_op.channels_last (Conv weights [M, k..., C/group]), and default-domain ops
 * (Resize with scales [1, s..., 1], Concat on axis -1, LeakyRelu, Quant) on the same values.  Such
 * a node's data input, an ONNX-order [spatial..., C] value, is viewed as a channels-first value held
 * channels-last (no data moves), the op is imported as its channels-first twin, and its output is
 * viewed back: the IR holds every value channels-last, with no transposes. */
static int is_chlast_domain(const Onnx__NodeProto *n)
{
    return n->domain && !strcmp(n->domain, "qonnx.custom_op.channels_last");
}

/* Constant input k permuted so that axis order[j] of the stored constant becomes axis j; registered
 * under the input's name; returns the alias index (to retire after the node), or -1. */
static long chlast_const(Importer *im, const Onnx__NodeProto *n, size_t k, const char *what, const int *order, int rank)
{
    int c;
    if (input_id(im, n, k, 0, &c) < 0)
        return -1;
    const Tensor *t = &im->g->t[c];
    if (!is_const(im, c) || t->const_rank != rank) {
        char s[96];
        ir_shape_str(t, s, sizeof s);
        NODE_ERR(im, "expected constant %s of rank %d (channels-last), got %s%s%s", what, rank,
                 is_const(im, c) ? s : "data tensor '", is_const(im, c) ? "" : n->input[k], is_const(im, c) ? "" : "'");
        return -1;
    }
    int dims[IR_MAX_RANK];
    long stride[IR_MAX_RANK], ne = ir_const_numel(t);
    for (int a = rank - 1, s = 1; a >= 0; a--) {
        stride[a] = s;
        s *= t->const_dims[a];
    }
    for (int j = 0; j < rank; j++)
        dims[j] = t->const_dims[order[j]];
    double *v = arena_array(&im->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
    for (long e = 0; e < ne; e++) {
        long rem = e, src = 0;
        for (int j = rank - 1; j >= 0; j--) {
            src += (rem % dims[j]) * stride[order[j]];
            rem /= dims[j];
        }
        v[e] = t->data[src];
    }
    int id = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_cf", n->input[k]), rank, dims, v);
    ir_pin_from(im->g, id, c);
    alias_add(im, n->input[k], id);
    return (long)im->nalias - 1;
}

static int import_chlast(Importer *im, const Onnx__NodeProto *n, const char *op, const char *lname)
{
    int x;
    if (input_id(im, n, 0, 0, &x) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    if (is_const(im, x) || (tx->rank != 2 && tx->rank != 3)) {
        char s[96];
        ir_shape_str(tx, s, sizeof s);
        return NODE_ERR(im, "expected channels-last data [N,L,C] or [N,H,W,C] (per sample [L,C] or [H,W,C]), got %s%s",
                        is_const(im, x) ? "a constant " : "per-sample shape ", s);
    }
    int r = tx->rank + 1, order[MAX_FULL_RANK];
    long temp[2] = {-1, -1};
    alias_add_cl(im, n->input[0], x, 1);
    temp[0] = (long)im->nalias - 1;
    int rc = 0;
    if (!strcmp(op, "Conv")) {   /* weights [M, k..., C/g] -> [M, C/g, k...] */
        order[0] = 0;
        order[1] = r - 1;
        for (int a = 2; a < r; a++)
            order[a] = a - 1;
        temp[1] = chlast_const(im, n, 1, "weights", order, r);
        rc = temp[1] < 0 ? -1 : import_conv(im, n, lname);
    } else if (!strcmp(op, "Resize")) {   /* scales [1, s..., 1] -> [1, 1, s...] */
        order[0] = 0;
        order[1] = r - 1;
        for (int a = 2; a < r; a++)
            order[a] = a - 1;
        temp[1] = chlast_const(im, n, im->opset < 11 ? 1 : 2, "scales", order, 1);
        if (temp[1] >= 0) {   /* a rank-1 constant: permute its values */
            Tensor *ts = &im->g->t[im->alias[temp[1]].id];
            if (ts->const_dims[0] != r) {
                rc = NODE_ERR(im, "expected %d scales, got %d", r, ts->const_dims[0]);
            } else {
                double v[MAX_FULL_RANK];
                for (int a = 0; a < r; a++)
                    v[a] = ts->data[order[a]];
                memcpy(ts->data, v, sizeof(double) * (size_t)r);
            }
        }
        rc = rc < 0 || temp[1] < 0 ? -1 : import_upsample(im, n, lname);
    } else {
        rc = import_pool(im, n, op, lname);
    }
    for (int k = 0; k < 2; k++)   /* the views exist for this node only */
        if (temp[k] >= 0)
            im->alias[temp[k]].name = "";
    if (rc < 0)
        return -1;
    int cl, id = lookup_cl(im, n->output[0], &cl);
    if (id < 0)
        return NODE_ERR(im, "internal: no output");
    alias_add_cl(im, n->output[0], id, 0);
    return 0;
}

/* A default-domain Resize on channels-last data: scales (or sizes) 1 on the batch and last axes. */
static int resize_is_chlast(Importer *im, const Onnx__NodeProto *n)
{
    int cl, x = n->n_input ? lookup_cl(im, n->input[0], &cl) : -1;
    size_t si = im->opset < 11 ? 1 : 2;
    if (x < 0 || cl || strcmp(n->op_type, "Resize") || n->n_input <= si || !n->input[si][0])
        return 0;
    int c = lookup(im, n->input[si]);
    const Tensor *tx = &im->g->t[x];
    if (c < 0 || !is_const(im, c) || (tx->rank != 2 && tx->rank != 3))
        return 0;
    const Tensor *t = &im->g->t[c];
    long r = tx->rank + 1;
    return ir_const_numel(t) == r && t->data[0] == 1 && t->data[r - 1] == 1 && t->data[1] != 1;
}

/* Gather(table, indices) with a constant table [rows, columns] and data indices (PyTorch's nn.Embedding): an
 * Embedding.  An index outside 0..rows-1 reads 0 (ONNX counts a negative one from the end; torch refuses it). */
static int import_embedding(Importer *im, const Onnx__NodeProto *n, const char *lname, const char *out, int table)
{
    long axis = attr_i(n, "axis", 0);
    const Tensor *tw = &im->g->t[table];
    if (axis != 0)
        return NODE_ERR(im, "expected a Gather of a constant table by rows (axis 0, an embedding), got axis %ld", axis);
    if (tw->const_rank != 2) {
        char s[96];
        shape_str(tw->const_rank, tw->const_dims, s, sizeof s);
        return NODE_ERR(im, "expected a constant table [rows, columns] (an embedding), got '%s' of shape %s",
                        n->input[0], s);
    }
    int idx, cl;
    if (input_id_cl(im, n, 1, &idx, &cl) < 0)
        return -1;
    if (cl)
        idx = to_layout(im, n->input[1], idx, 0);
    const Tensor *ti = &im->g->t[idx];
    if (ti->rank + 1 > 6)
        return NODE_ERR(im, "expected indices of rank 5 or less, got rank %d", ti->rank);
    int dims[IR_MAX_RANK], in[2] = {idx, table};
    memcpy(dims, ti->dims, sizeof dims);
    dims[ti->rank] = tw->const_dims[1];
    new_data_node(im, OP_EMBED, lname, in, 2, out, ti->rank + 1, dims);
    return 0;
}

static int import_node_as(Importer *im, const Onnx__NodeProto *n, const char *op, const char *lname);

static int import_node(Importer *im, const Onnx__NodeProto *n, size_t index)
{
    const char *op = n->op_type ? n->op_type : "";
    const char *lname = layer_name(im, n, index);
    im->node_name = lname;
    im->node_op = op;
    size_t first = im->g->nn;
    int r = import_node_as(im, n, op, lname);
    /* hls4ml names an ONNX layer by its node's own name, case kept (a qonnx-cleaned graph's ThresholdedRelu_0):
     * the nodes built under lname keep that name too, for LayerName */
    if (r >= 0 && n->name && n->name[0] && strcmp(n->name, lname))
        for (size_t k = first; k < im->g->nn; k++)
            if (!strcmp(im->g->n[k].name, lname))
                im->g->n[k].src_name = arena_strdup(&im->g->arena, n->name);
    return r;
}

/* Einsum of two operands (torch.einsum's export; one operand twice when the model passes it twice), lowered by
 * frontends/einsum.c: two data tensors as hls4ml's Einsum, data and a constant as its EinsumDense without bias. */
static int import_einsum(Importer *im, const Onnx__NodeProto *n, const char *lname)
{
    const Onnx__AttributeProto *a = attr(n, "equation");
    if (!a || a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
        return NODE_ERR(im, "expected a string attribute 'equation', got none");
    if (n->n_input != 2)
        return NODE_ERR(im, "expected two operands, got %zu (an einsum of one or of three or more operands is not "
                            "built)", n->n_input);
    char eq[256];
    if (a->s.len >= sizeof eq)
        return NODE_ERR(im, "expected an equation of at most %zu characters, got %zu", sizeof eq - 1, a->s.len);
    snprintf(eq, sizeof eq, "%.*s", (int)a->s.len, (const char *)a->s.data);
    int x0, x1;
    if (input_id(im, n, 0, 0, &x0) < 0 || input_id(im, n, 1, 0, &x1) < 0)
        return -1;
    if (is_const(im, x0))
        return NODE_ERR(im, "equation '%s': expected data as the first operand, got a constant (write the data "
                            "operand first)", eq);
    int c1 = is_const(im, x1);
    const Tensor *t0 = &im->g->t[x0], *t1 = &im->g->t[x1];
    EinsumPlan p;
    char msg[400];
    if (einsum_plan(eq, !c1, t0->rank, t0->dims, c1 ? t1->const_rank : t1->rank, c1 ? t1->const_dims : t1->dims, &p,
                    msg, sizeof msg) < 0)
        return NODE_ERR(im, "%s", msg);
    int y = c1 ? einsum_emit_dense(im->g, &p, lname, im->node_op, "EinsumDense", x0, im->g->t[x1].data, NULL, msg,
                                   sizeof msg)
               : einsum_emit(im->g, &p, lname, im->node_op, x0, x1);
    if (y < 0)
        return NODE_ERR(im, "equation '%s': %s", eq, msg);
    im->g->t[y].name = arena_strdup(&im->g->arena, n->output[0]);   /* the value the graph names, as other ops' */
    alias_add(im, n->output[0], y);
    return 0;
}

static int import_node_as(Importer *im, const Onnx__NodeProto *n, const char *op, const char *lname)
{
    int vr = import_view(im, n, op, lname);
    if (vr <= 0)
        return vr;
    int qr = qonnx_claims(n) ? import_qonnx(im, n, lname) : 1;
    if (qr <= 0)
        return qr;
    if (is_chlast_domain(n) && (!strcmp(op, "Conv") || !strcmp(op, "MaxPool")))
        return import_chlast(im, n, op, lname);
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return NODE_ERR(im, "expected an operator of the default ONNX domain (or Conv, MaxPool in "
                            "qonnx.custom_op.channels_last), got domain '%s'", n->domain);
    if (resize_is_chlast(im, n))
        return import_chlast(im, n, op, lname);
    if (n->n_output < 1)
        return NODE_ERR(im, "expected an output, got none");
    const char *out = n->output[0];
    int x;

    if (strcmp(op, "Constant") == 0) {
        const Onnx__AttributeProto *a = attr(n, "value");
        int rank, dims[MAX_FULL_RANK];
        double *v;
        if (a && a->t) {
            if (tensor_to_double(im, a->t, "constant", &rank, dims, &v) < 0)
                return -1;
            new_const(im, out, rank, dims, v);
            return 0;
        }
        if ((a = attr(n, "value_float")) != NULL) {
            double f = a->f;
            new_const(im, out, 0, dims, &f);
            return 0;
        }
        return NODE_ERR(im, "expected a 'value' tensor attribute, got none");
    }
    if (strcmp(op, "Gemm") == 0 || strcmp(op, "MatMul") == 0)
        return import_dense(im, n, op[0] == 'G', lname);
    if (strcmp(op, "Einsum") == 0)
        return import_einsum(im, n, lname);
    if (strcmp(op, "RNN") == 0 || strcmp(op, "LSTM") == 0 || strcmp(op, "GRU") == 0)
        return import_recurrent(im, n, op, lname);
    if (strcmp(op, "ReverseSequence") == 0)
        return import_reverse_sequence(im, n);
    if (strcmp(op, "ConstantOfShape") == 0 || strcmp(op, "ConstantFill") == 0 || strcmp(op, "Expand") == 0 ||
        (strcmp(op, "Slice") == 0 && n->n_input && is_const(im, lookup(im, n->input[0]))))
        return import_const_op(im, n, op);
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0 || strcmp(op, "Mul") == 0 || strcmp(op, "Div") == 0 ||
        strcmp(op, "Pow") == 0)
        return import_binary(im, n, op, lname);
    if (strcmp(op, "BatchNormalization") == 0)
        return import_batchnorm(im, n, lname);
    if (strcmp(op, "Conv") == 0)
        return import_conv(im, n, lname);
    if (strcmp(op, "ConvTranspose") == 0)
        return import_conv_transpose(im, n, lname);
    if (strcmp(op, "MaxPool") == 0 || strcmp(op, "AveragePool") == 0 || strcmp(op, "GlobalMaxPool") == 0 ||
        strcmp(op, "GlobalAveragePool") == 0)
        return import_pool(im, n, op, lname);
    if (strcmp(op, "Pad") == 0)
        return import_pad(im, n, lname);
    if (strcmp(op, "Resize") == 0 || strcmp(op, "Upsample") == 0)
        return import_upsample(im, n, lname);
    if (strcmp(op, "Concat") == 0)
        return import_concat(im, n, lname);
    if (strcmp(op, "Max") == 0 || strcmp(op, "Min") == 0 || strcmp(op, "Mean") == 0)
        return import_merge(im, n, op[1] == 'a' ? OP_MAXIMUM : op[1] == 'i' ? OP_MINIMUM : OP_AVERAGE, lname);

    /* ops that work in either layout keep it; every other op reads ONNX order */
    static const char *const layout_free[] = {"Identity", "Dropout", "Cast", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
                                              "Selu", "Elu", "Softplus", "Softsign", "HardSigmoid", "Clip", "Transpose",
                                              "ThresholdedRelu"};
    int free_op = 0, xcl = 0;
    for (size_t k = 0; k < sizeof layout_free / sizeof layout_free[0]; k++)
        free_op |= strcmp(op, layout_free[k]) == 0;
    if (input_id_cl(im, n, 0, &x, &xcl) < 0)
        return -1;
    if (xcl && !free_op) {
        x = to_layout(im, n->input[0], x, 0);
        xcl = 0;
    }
    Tensor *tx = &im->g->t[x];

    if (strcmp(op, "Cast") == 0 && !is_const(im, x)) {
        /* data stays in float: a Cast to float or double is the identity, any other type changes values */
        long to = attr_i(n, "to", 0);
        if (to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && to != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
            return NODE_ERR(im, "expected a Cast of data to float or double (to = 1 or 11), got to = %ld", to);
    }
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0 || strcmp(op, "Cast") == 0) {
        alias_add_cl(im, out, x, xcl);   /* a Dropout mask output, if any, stays undefined */
        return 0;
    }
    if (strcmp(op, "Transpose") == 0) {
        if (is_const(im, x))
            return fold_transpose(im, n, x);
        int frank = tx->rank + 1;
        long perm[MAX_FULL_RANK];
        const Onnx__AttributeProto *p = attr(n, "perm");
        for (int k = 0; k < frank; k++)
            perm[k] = frank - 1 - k;
        if (p) {
            if ((int)p->n_ints != frank)
                return NODE_ERR(im, "expected perm of length %d, got %zu", frank, p->n_ints);
            for (int k = 0; k < frank; k++) {
                if (p->ints[k] < 0 || p->ints[k] >= frank)
                    return NODE_ERR(im, "expected perm entries in 0..%d, got %lld", frank - 1, (long long)p->ints[k]);
                perm[k] = (long)p->ints[k];
                for (int j = 0; j < k; j++)
                    if (perm[j] == perm[k])
                        return NODE_ERR(im, "expected a permutation, got axis %ld twice in perm", perm[k]);
            }
        }
        /* between ONNX order and channels-last: a change of layout, no data moves */
        int r = tx->rank, to_cl = r >= 2 && perm[0] == 0, to_cf = r >= 2 && perm[0] == 0;
        for (int k = 0; k < r; k++) {
            to_cl &= perm[k + 1] - 1 == (k + 1) % r;       /* [C, spatial...] -> [spatial..., C] */
            to_cf &= perm[k + 1] - 1 == (k + r - 1) % r;   /* [spatial..., C] -> [C, spatial...] */
        }
        if (xcl && to_cl) {
            alias_add_cl(im, out, x, 0);
            return 0;
        }
        if (!xcl && to_cf) {
            alias_add_cl(im, out, x, 1);
            return 0;
        }
        if (xcl) {
            x = to_layout(im, n->input[0], x, 0);
            tx = &im->g->t[x];
        }
        if (perm[0] != 0)   /* the batch moves: into time-major order */
            return transpose_batch(im, x, 0, perm, frank, lname, out);
        if (perm_is_noop(tx, perm, frank)) {
            alias_add(im, out, x);  /* same data order: keep the per-sample view */
            return 0;
        }
        int dims[IR_MAX_RANK], in1t[1] = {x};
        for (int k = 0; k < r; k++)
            dims[k] = tx->dims[perm[k + 1] - 1];
        int id = new_data_node(im, OP_TRANSPOSE, lname, in1t, 1, out, r, dims);
        for (int k = 0; k < r; k++)
            im->g->n[id].perm[k] = (int)perm[k + 1] - 1;
        return 0;
    }
    if (strcmp(op, "Reshape") == 0 || strcmp(op, "Flatten") == 0 || strcmp(op, "Squeeze") == 0 ||
        strcmp(op, "Unsqueeze") == 0) {
        long fd[MAX_FULL_RANK + 1];
        int frank = 0;
        int src_rank = is_const(im, x) ? tx->const_rank : tx->rank + 1;
        int sd[MAX_FULL_RANK + 1];
        if (is_const(im, x))
            for (int k = 0; k < src_rank; k++)
                sd[k] = tx->const_dims[k];
        else {
            sd[0] = 1;
            for (int k = 0; k < tx->rank; k++)
                sd[k + 1] = tx->dims[k];
        }
        if (op[0] == 'R') {
            int s;
            if (input_id(im, n, 1, 0, &s) < 0)
                return -1;
            if (!is_const(im, s))
                return NODE_ERR(im, "expected a constant target shape, got data tensor '%s'", n->input[1]);
            frank = (int)ir_const_numel(&im->g->t[s]);
            if (frank > MAX_FULL_RANK || frank < 1)
                return NODE_ERR(im, "expected a target shape of 1..%d dims, got %d", MAX_FULL_RANK, frank);
            for (int k = 0; k < frank; k++)
                fd[k] = to_long(im->g->t[s].data[k]);
        } else if (op[0] == 'F') {
            long axis = attr_i(n, "axis", 1);
            if (axis < 0)
                axis += src_rank;
            if (axis < 0 || axis > src_rank)
                return NODE_ERR(im, "expected axis in -%d..%d, got %ld", src_rank, src_rank, attr_i(n, "axis", 1));
            long a = 1, b = 1;
            for (int k = 0; k < src_rank; k++) {
                if (k < axis)
                    a *= sd[k];
                else
                    b *= sd[k];
            }
            fd[0] = a;
            fd[1] = b;
            frank = 2;
        } else {
            long axes[MAX_FULL_RANK];
            int naxes = 0;
            const Onnx__AttributeProto *a = attr(n, "axes");
            if (a) {
                for (size_t k = 0; k < a->n_ints && k < MAX_FULL_RANK; k++)
                    axes[naxes++] = (long)a->ints[k];
            } else if (n->n_input > 1) {
                int s;
                if (input_id(im, n, 1, 0, &s) < 0)
                    return -1;
                if (!is_const(im, s))
                    return NODE_ERR(im, "expected constant axes, got data tensor '%s'", n->input[1]);
                for (long k = 0; k < ir_const_numel(&im->g->t[s]) && k < MAX_FULL_RANK; k++)
                    axes[naxes++] = to_long(im->g->t[s].data[k]);
            }
            int unsq = op[0] == 'U';
            int orank = unsq ? src_rank + naxes : src_rank;
            if (orank > MAX_FULL_RANK)
                return NODE_ERR(im, "expected a result of rank <= %d, got rank %d", MAX_FULL_RANK, orank);
            char mark[MAX_FULL_RANK + 8] = {0};
            for (int k = 0; k < naxes; k++) {
                long ax = axes[k] < 0 ? axes[k] + orank : axes[k];
                if (ax < 0 || ax >= orank)
                    return NODE_ERR(im, "expected axes in -%d..%d, got %ld", orank, orank - 1, axes[k]);
                if (mark[ax] && unsq) {   /* it would read past the input's dimensions */
                    char s[160];
                    lshape_str(naxes, axes, s, sizeof s);
                    return NODE_ERR(im, "expected distinct axes, got axis %ld twice in %s", ax, s);
                }
                mark[ax] = 1;
            }
            int j = 0;
            if (unsq) {
                for (int k = 0; k < orank; k++)
                    fd[frank++] = mark[k] ? 1 : sd[j++];
            } else {
                for (int k = 0; k < src_rank; k++) {
                    if ((naxes ? mark[k] : sd[k] == 1) && k != 0) {
                        if (sd[k] != 1)
                            return NODE_ERR(im, "expected squeezed axis %d of size 1, got %d", k, sd[k]);
                        continue;
                    }
                    fd[frank++] = sd[k];
                }
            }
        }
        if (is_const(im, x)) {
            int dims[MAX_FULL_RANK];
            long total = 1, n_el = ir_const_numel(tx), got = 1;
            for (int k = 0; k < frank; k++) {
                if (fd[k] == 0)
                    fd[k] = k < src_rank ? sd[k] : 1;
                total = mul_sat(total, fd[k] > 0 ? fd[k] : 1);
            }
            for (int k = 0; k < frank; k++) {
                if (fd[k] < 0)
                    fd[k] = n_el / total;
                if (fd[k] > (1L << 24))
                    return NODE_ERR(im, "expected target dimensions in 0..2^24, got %ld", fd[k]);
                dims[k] = (int)fd[k];
                got = mul_sat(got, fd[k]);
            }
            if (got != n_el)   /* the new shape must hold exactly the constant's values */
                return NODE_ERR(im, "expected a target shape with %ld elements, got %ld", n_el, got);
            new_const(im, out, frank, dims, tx->data);
            return 0;
        }
        return reshape_to(im, x, lname, out, frank, fd);
    }
    if (strcmp(op, "Gather") == 0 && is_const(im, x) && n->n_input == 2 && !is_const(im, lookup(im, n->input[1])))
        return import_embedding(im, n, lname, out, x);
    if (is_const(im, x))
        return NODE_ERR(im, "expected a data input, got constant '%s' (constant folding of %s is not supported)", n->input[0], op);

    int in1[1] = {x};
    if (strcmp(op, "Relu") == 0) {
        new_data_node(im, OP_RELU, lname, in1, 1, out, tx->rank, tx->dims);
    } else if (strcmp(op, "PRelu") == 0) {   /* slopes broadcast to one per element */
        int s = const_input(im, n, 1, "slope", 0);
        if (s < 0)
            return -1;
        int in2[2] = {x, broadcast_to_data(im, s, tx, arena_printf(&im->g->arena, "%s_slope", lname))};
        if (in2[1] < 0)
            return -1;
        tx = &im->g->t[x];   /* the new constant may have moved the tensors */
        new_data_node(im, OP_PRELU, lname, in2, 2, out, tx->rank, tx->dims);
    } else if (strcmp(op, "LeakyRelu") == 0) {
        int id = new_data_node(im, OP_LEAKYRELU, lname, in1, 1, out, tx->rank, tx->dims);
        im->g->n[id].alpha = attr_f(n, "alpha", 0.01);
    } else if (strcmp(op, "Sigmoid") == 0) {
        new_data_node(im, OP_SIGMOID, lname, in1, 1, out, tx->rank, tx->dims);
    } else if (strcmp(op, "Tanh") == 0) {
        new_data_node(im, OP_TANH, lname, in1, 1, out, tx->rank, tx->dims);
    } else if (strcmp(op, "Softplus") == 0) {
        new_data_node(im, OP_SOFTPLUS, lname, in1, 1, out, tx->rank, tx->dims);
    } else if (strcmp(op, "Softsign") == 0) {
        new_data_node(im, OP_SOFTSIGN, lname, in1, 1, out, tx->rank, tx->dims);
    } else if (strcmp(op, "ThresholdedRelu") == 0) {
        double th = attr_f(n, "alpha", 1.0);
        if (!isfinite(th))
            return NODE_ERR(im, "expected a finite alpha (the threshold), got %g", th);
        int id = new_data_node(im, OP_THRESHRELU, lname, in1, 1, out, tx->rank, tx->dims);
        im->g->n[id].alpha = th;
    } else if (strcmp(op, "Elu") == 0) {
        int id = new_data_node(im, OP_ELU, lname, in1, 1, out, tx->rank, tx->dims);
        im->g->n[id].alpha = attr_f(n, "alpha", 1.0);
    } else if (strcmp(op, "Selu") == 0) {
        int id = new_data_node(im, OP_SELU, lname, in1, 1, out, tx->rank, tx->dims);
        im->g->n[id].alpha = attr_f(n, "alpha", 1.67326319217681884765625);
        im->g->n[id].beta = attr_f(n, "gamma", 1.05070102214813232421875);
    } else if (strcmp(op, "HardSigmoid") == 0) {
        int id = new_data_node(im, OP_HARDSIGMOID, lname, in1, 1, out, tx->rank, tx->dims);
        im->g->n[id].alpha = attr_f(n, "alpha", 0.2);
        im->g->n[id].beta = attr_f(n, "beta", 0.5);
    } else if (strcmp(op, "Clip") == 0) {
        double lo = -INFINITY, hi = INFINITY;
        if (im->opset < 11) {
            lo = attr_f(n, "min", -INFINITY);
            hi = attr_f(n, "max", INFINITY);
        } else {
            int a, b;
            if (input_id(im, n, 1, 1, &a) < 0 || input_id(im, n, 2, 1, &b) < 0)
                return -1;
            if ((a >= 0 && !is_const(im, a)) || (b >= 0 && !is_const(im, b)))
                return NODE_ERR(im, "expected constant min and max, got data tensor '%s'",
                                a >= 0 && !is_const(im, a) ? n->input[1] : n->input[2]);
            if (a >= 0)
                lo = im->g->t[a].data[0];
            if (b >= 0)
                hi = im->g->t[b].data[0];
        }
        int id = new_data_node(im, OP_CLIP, lname, in1, 1, out, tx->rank, tx->dims);
        im->g->n[id].alpha = lo;
        im->g->n[id].beta = hi;
    } else if (strcmp(op, "Softmax") == 0) {
        long axis = attr_i(n, "axis", im->opset < 13 ? 1 : -1);
        int frank = tx->rank + 1;
        if (axis < 0)
            axis += frank;
        if (axis < 1 || axis >= frank)
            return NODE_ERR(im, "expected a softmax axis other than the batch axis (1..%d), got %ld", frank - 1, axis);
        if (im->opset < 13 && axis != frank - 1) {
            /* opset < 13 normalises over all dims from axis on */
            long inner = 1;
            for (int k = (int)axis; k < frank; k++)
                inner *= tx->dims[k - 1];
            if (inner != tx->dims[tx->rank - 1])
                return NODE_ERR(im, "expected softmax over the last dimension, got axis %ld of a rank-%d input", axis, frank);
        }
        int xrank = tx->rank;
        int id = new_data_node(im, OP_SOFTMAX, lname, in1, 1, out, tx->rank, tx->dims);
        im->g->n[id].axis = im->opset < 13 ? xrank - 1 : (int)axis - 1;
    } else if (strcmp(op, "LayerNormalization") == 0) {
        /* over the last axis: Scale and B (optional) of its length, epsilon on the node (OP_LAYERNORM) */
        long axis = attr_i(n, "axis", -1);
        int frank = tx->rank + 1, m = tx->dims[tx->rank - 1];
        if (axis < 0)
            axis += frank;
        if (axis != frank - 1)
            return NODE_ERR(im, "expected a LayerNormalization over the last axis only (axis -1 or %d), got axis %ld "
                                "of a rank-%d input", frank - 1, attr_i(n, "axis", -1), frank);
        for (size_t k = 1; k < n->n_output; k++)
            if (n->output[k][0])
                return NODE_ERR(im, "expected only output Y, got output %zu ('%s': the mean or inverse deviation)", k,
                                n->output[k]);
        double eps = attr_f(n, "epsilon", 1e-5);
        if (!(eps > 0) || !isfinite(eps))
            return NODE_ERR(im, "expected a positive finite epsilon, got %g", eps);
        int sc = const_input(im, n, 1, "Scale", 0), bc = const_input(im, n, 2, "B", 1);
        if (sc < -1 || bc < -1)
            return -1;
        double *gv = arena_array(&im->g->arena, (size_t)m, sizeof(double));
        double *bv = arena_array(&im->g->arena, (size_t)m, sizeof(double));
        for (int j = 0; j < 2; j++) {
            int c = j ? bc : sc;
            if (c < 0)
                continue;
            const Tensor *tc = &im->g->t[c];
            long cnt = ir_const_numel(tc);
            if (cnt != m && cnt != 1)
                return NODE_ERR(im, "expected %s of %d values (the last axis) or one, got %ld", j ? "B" : "Scale", m, cnt);
            for (int e = 0; e < m; e++)
                (j ? bv : gv)[e] = tc->data[cnt == 1 ? 0 : e];
        }
        if (bc < 0)
            memset(bv, 0, sizeof(double) * (size_t)m);
        int in3[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_scale", lname), 1, &m, gv), -1};
        in3[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &m, bv);
        tx = &im->g->t[x];
        int id = new_data_node(im, OP_LAYERNORM, lname, in3, 3, out, tx->rank, tx->dims);
        im->g->n[id].epsilon = eps;
    } else if (strcmp(op, "ReduceMean") == 0) {
        return NODE_ERR(im, "ReduceMean of data is not supported: PyTorch writes nn.LayerNorm below opset 17 as "
                            "ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul and Add; export it at opset 17 or "
                            "later (torch.onnx.export(..., opset_version=17)), which writes one LayerNormalization node");
    } else if (strcmp(op, "Slice") == 0 || strcmp(op, "Gather") == 0 || strcmp(op, "Expand") == 0) {
        return NODE_ERR(im, "expected a constant input or a recurrent node's output Y or Y_h (%s of their steps or "
                            "directions), got data tensor '%s' (%s of other data is not supported%s)", op, n->input[0], op,
                        strcmp(op, "Slice") ? "" : "; torch.onnx.export(..., dynamo=True) writes a PyTorch nn.RNN as "
                                                   "MatMul, Slice and Tanh/Relu steps like these: export it with "
                                                   "dynamo=False, which writes an RNN node");
    } else {
        return NODE_ERR(im, "unsupported operator: expected one of Gemm, MatMul, Einsum, Conv, ConvTranspose, MaxPool, AveragePool, "
                            "GlobalMaxPool, GlobalAveragePool, Pad, Resize, Upsample, Concat, Add, Sub, Mul, Div, Pow, "
                            "Max, Min, Mean, Relu, LeakyRelu, ThresholdedRelu, Sigmoid, Tanh, Selu, Elu, Softplus, Softsign, PRelu, Softmax, "
                            "HardSigmoid, Clip, LayerNormalization, "
                            "BatchNormalization, Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout, Cast, "
                            "Transpose, Constant, Shape, Gather, RNN, LSTM, GRU, ConstantOfShape, Expand, Slice (QONNX: Quant, IntQuant, BipolarQuant, Trunc), got '%s'",
                        op);
    }
    im->alias[im->nalias - 1].cl = xcl;   /* an elementwise activation keeps the layout */
    return 0;
}

int onnx_load(Graph *g, Diag *d, const void *buf, size_t len, const char *file)
{
    Importer im;
    memset(&im, 0, sizeof im);
    im.g = g;
    im.d = d;
    im.file = file;
    im.node_name = "";
    im.node_op = "";
    int rc = -1;

    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m) {
        diag_error(d, "%s: expected an ONNX model (protobuf ModelProto), got data that does not decode (truncated or corrupt)", file);
        return -1;
    }
    if (!m->graph) {
        diag_error(d, "%s: expected an ONNX model with a graph, got none", file);
        goto done;
    }
    long long opset = 1;
    int have_default = 0;
    for (size_t k = 0; k < m->n_opset_import; k++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[k];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0) {
            opset = (long long)o->version;
            have_default = 1;
        }
    }
    if (!have_default && m->n_opset_import == 0)
        opset = 7;
    /* 23..28 change none of the ops read here for float data: more tensor types, Cast's round_mode (float8) */
    if (opset < 1 || opset > 28) {
        diag_error(d, "%s: expected ONNX opset 1..28 for the default domain, got %lld", file, opset);
        goto done;
    }
    im.opset = (int)opset;
    Onnx__GraphProto *gp = m->graph;
    if (g->name && strcmp(g->name, "model") == 0) {
        /* model name: the file stem, as an identifier */
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        char stem[96];
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot)
            *dot = 0;
        for (char *c = stem; *c; c++)
            if (!isalnum((unsigned char)*c))
                *c = '_';
        if (!isalpha((unsigned char)stem[0]))
            g->name = arena_printf(&g->arena, "m_%s", stem);
        else
            g->name = arena_strdup(&g->arena, stem);
    }
    im.node_name = "initializer";
    im.node_op = "Initializer";
    for (size_t k = 0; k < gp->n_initializer; k++) {
        const Onnx__TensorProto *tp = gp->initializer[k];
        int rank, dims[MAX_FULL_RANK];
        double *v;
        if (!tp->name) {
            diag_error(d, "%s: expected named initializers, got an unnamed one", file);
            goto done;
        }
        im.node_name = tp->name;
        if (tensor_to_double(&im, tp, "initializer", &rank, dims, &v) < 0)
            goto done;
        new_const(&im, tp->name, rank, dims, v);
    }
    for (size_t k = 0; k < gp->n_input; k++) {
        const Onnx__ValueInfoProto *vi = gp->input[k];
        if (!vi->name || lookup(&im, vi->name) >= 0)
            continue;  /* initializers are listed as inputs in old IR versions */
        im.node_name = vi->name;
        im.node_op = "Input";
        const Onnx__TypeProto *tpt = vi->type;
        if (!tpt || !tpt->tensor_type || !tpt->tensor_type->shape) {
            diag_error(d, "%s: input '%s': expected a tensor with a known shape, got none", file, vi->name);
            goto done;
        }
        const Onnx__TensorShapeProto *sh = tpt->tensor_type->shape;
        int dims[IR_MAX_RANK], rank = 0;
        long nel = 1, ld[IR_MAX_RANK];
        if (sh->n_dim < 1 || sh->n_dim > MAX_FULL_RANK) {
            diag_error(d, "%s: input '%s': expected a shape of rank 1..%d (batch first), got rank %zu", file, vi->name,
                       MAX_FULL_RANK, sh->n_dim);
            goto done;
        }
        for (size_t j = sh->n_dim == 1 ? 0 : 1; j < sh->n_dim; j++) {
            const Onnx__TensorShapeProto__Dimension *dm = sh->dim[j];
            if (dm->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || dm->dim_value < 1 ||
                dm->dim_value > (1 << 24)) {
                const char *what = "an unset dimension";
                if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
                    what = arena_printf(&g->arena, "the symbolic dimension '%s'", dm->dim_param ? dm->dim_param : "");
                else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                    what = arena_printf(&g->arena, "%lld", (long long)dm->dim_value);
                diag_error(d, "%s: input '%s': expected fixed per-sample dimensions in 1..16777216 (2^24), got %s on axis %zu",
                           file, vi->name, what, j);
                goto done;
            }
            dims[rank] = (int)dm->dim_value;
            ld[rank++] = dm->dim_value;
            nel = mul_sat(nel, dims[rank - 1]);
        }
        if (nel > (1L << 26)) {
            char s[160];
            lshape_str(rank, ld, s, sizeof s);
            diag_error(d, "%s: input '%s': expected at most 67108864 (2^26) values per sample, got %ld (%s)", file, vi->name,
                       nel, s);
            goto done;
        }
        int id = ir_add_tensor(g, vi->name, rank, dims);
        alias_add(&im, vi->name, id);
        const char *iname = vi->name;
        char nm[128];
        snprintf(nm, sizeof nm, "%s", iname);
        for (char *c = nm; *c; c++)
            *c = isalnum((unsigned char)*c) ? (char)tolower((unsigned char)*c) : '_';
        const char *lname = isalpha((unsigned char)nm[0]) ? arena_strdup(&g->arena, nm) : arena_printf(&g->arena, "input_%s", nm);
        VEC_PUSH(im.used_names, im.nused, im.cused, lname);
        ir_add_node(g, OP_INPUT, lname, "Input", NULL, 0, id);
        VEC_PUSH(g->inputs, g->ninputs, g->cinputs, id);
    }
    if (g->ninputs == 0) {
        diag_error(d, "%s: expected at least one graph input that is not an initializer, got none", file);
        goto done;
    }
    /* a control-flow subgraph is refused before the nodes that feed it (tf2onnx's loop counter would be
     * refused first, with a message about the counter rather than the loop) */
    for (size_t k = 0; k < gp->n_node; k++) {
        const Onnx__NodeProto *n = gp->node[k];
        if (n->op_type && (!strcmp(n->op_type, "Loop") || !strcmp(n->op_type, "Scan") || !strcmp(n->op_type, "If"))) {
            diag_error(d, "%s: node '%s' (%s): expected no Loop, Scan or If (control flow is not supported; tf2onnx "
                          "writes a Keras SimpleRNN and a GRU with reset_after=False as a Loop: read the Keras file "
                          "instead), got one", file, n->name ? n->name : "", n->op_type);
            goto done;
        }
    }
    for (size_t k = 0; k < gp->n_node; k++) {
        const Onnx__NodeProto *n = gp->node[k];
        if (!n->op_type || !n->op_type[0]) {
            diag_error(d, "%s: node %zu ('%s'): expected an op_type (the operator's name), got none", file, k,
                       n->name ? n->name : "");
            goto done;
        }
        if (import_node(&im, n, k) < 0)
            goto done;
    }
    for (size_t k = 0; k < gp->n_output; k++) {
        long a = gp->output[k]->name ? alias_find(&im, gp->output[k]->name) : -1;
        im.node_name = "output";
        im.node_op = "Output";
        int id = a >= 0 ? alias_tensor(&im, (size_t)a) : -1;
        if (a >= 0 && id < 0)
            goto done;
        if (id >= 0 && im.alias[a].cl)   /* outputs in ONNX order */
            id = to_layout(&im, gp->output[k]->name, id, 0);
        if (id < 0) {
            diag_error(d, "%s: output '%s': expected a value computed by the graph, got an undefined name", file,
                       gp->output[k]->name ? gp->output[k]->name : "");
            goto done;
        }
        if (g->t[id].is_const) {
            diag_error(d, "%s: output '%s': expected an output that depends on the input, got a constant", file,
                       gp->output[k]->name ? gp->output[k]->name : "");
            goto done;
        }
        VEC_PUSH(g->outputs, g->noutputs, g->coutputs, id);
    }
    if (g->noutputs == 0) {
        diag_error(d, "%s: expected at least one graph output, got none", file);
        goto done;
    }
    QonnxNode qf = {g, d, file, "", &im.qonnx};
    if (qonnx_finish(&qf) < 0)
        goto done;
    rc = 0;
done:
    qonnx_free(&im.qonnx);
    free(im.alias);
    free(im.used_names);
    onnx__model_proto__free_unpacked(m, NULL);
    return rc;
}
