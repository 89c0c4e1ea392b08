/* rtl.c — from the typed IR to a scheduled netlist per layer.
 *
 * Arithmetic follows FIXED_POINT.md exactly, so the circuit computes the
 * emulator's bits: a dense layer floors each product to the accumulator's LSB
 * and sums modulo 2^W (WRAP) or exactly (other overflow modes, cast once).
 * Products by constants are shift-and-add over the canonical signed digits of
 * the weight; x*c for each input x and odd constant c is built once and shared
 * by every output that needs it (a multiple-constant-multiplication block per
 * input), and zero weights cost nothing.
 *
 * Pipelining: each node has a delay from a simple model (adders: 0.6 ns +
 * 0.025 ns/bit, ROMs: 0.6 ns + 0.1 ns/address bit, ...).  Nodes are placed as
 * soon as possible; a node whose inputs arrive too late for it to finish
 * within the stage budget (clock period minus 0.8 ns of register overhead)
 * starts the next stage.  Stages continue across layers (a layer's outputs
 * leave unregistered, with their arrival time, into the next layer), so
 * registers sit where time runs out; the top registers input and output. */
#include "backends/rtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/act.h"
#include "util/names.h"

/* ---- nodes --------------------------------------------------------------- */

static int width_of(double lo, double hi, int *sign)
{
    int w = 1;
    if (lo < 0) {
        *sign = 1;
        while (w < 64 && (lo < -ldexp(1.0, w - 1) || hi > ldexp(1.0, w - 1) - 1))
            w++;
    } else {
        *sign = 0;
        while (w < 64 && hi > ldexp(1.0, w) - 1)
            w++;
    }
    return w;
}

static int add_node(RtlModule *m, RtlNode n)
{
    n.maxdelay = 0;
    VEC_PUSH(m->n, m->nn, m->cn, n);
    return (int)m->nn - 1;
}

static RtlNode blank(RtlOp op)
{
    RtlNode n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.a = n.b = n.c = -1;
    return n;
}

/* A table lookup of node a in table `rom`, giving values of type out; k, k2
 * as RtlNode (address range, or the hls4ml index parameters). */
static int node_rom(RtlModule *m, int a, int rom, int64_t k, int64_t k2, FxType out)
{
    RtlNode t = blank(RN_ROM);
    t.a = a;
    t.rom = rom;
    t.k = k;
    t.k2 = k2;
    t.w = out.w;
    t.sign = out.sign;
    t.lo = (double)fx_type_min(out);
    t.hi = (double)fx_type_max(out);
    return add_node(m, t);
}

static int node_const(RtlModule *m, int64_t v)
{
    RtlNode n = blank(RN_CONST);
    n.k = v;
    n.lo = n.hi = (double)v;
    n.w = width_of(n.lo, n.hi, &n.sign);
    return add_node(m, n);
}

static int node_in(RtlModule *m, int port, long k, FxType t)
{
    RtlNode n = blank(RN_IN);
    n.sa = port;
    n.k = k;
    n.w = t.w;
    n.sign = t.sign;
    n.lo = (double)fx_type_min(t);
    n.hi = (double)fx_type_max(t);
    const Node *q = m->in_quant[port];
    if (q) {   /* a quantizer's element: its own range (pruned: 0), in the container's codes */
        FxType et = ir_quant_elem(q, k);
        int sh = fx_frac(t) - fx_frac(et);
        n.lo = et.w ? ldexp((double)fx_type_min(et), sh) : 0;
        n.hi = et.w ? ldexp((double)fx_type_max(et), sh) : 0;
        n.w = width_of(n.lo, n.hi, &n.sign);
    }
    return add_node(m, n);
}

/* cap: when > 0, results are kept modulo 2^cap (the accumulator wraps). */
static int node_add(RtlModule *m, int a, int sa, int b, int sb, int sub, int cap)
{
    RtlNode n = blank(RN_ADD);
    const RtlNode *x = &m->n[a], *y = &m->n[b];
    double xl = ldexp(x->lo, sa), xh = ldexp(x->hi, sa), yl = ldexp(y->lo, sb), yh = ldexp(y->hi, sb);
    n.a = a, n.b = b, n.sa = sa, n.sb = sb, n.sub = sub;
    n.lo = sub ? xl - yh : xl + yl;
    n.hi = sub ? xh - yl : xh + yh;
    n.w = width_of(n.lo, n.hi, &n.sign);
    if (cap > 0 && n.w >= cap) {
        n.w = cap;
        n.sign = 1;
        n.lo = -ldexp(1.0, cap - 1);
        n.hi = ldexp(1.0, cap - 1) - 1;
    }
    m->adders++;
    return add_node(m, n);
}

static int node_shr(RtlModule *m, int a, int k)
{
    RtlNode n = blank(RN_SHR);
    n.a = a;
    n.sa = k;
    n.lo = floor(ldexp(m->n[a].lo, -k));
    n.hi = floor(ldexp(m->n[a].hi, -k));
    n.w = width_of(n.lo, n.hi, &n.sign);
    if (m->n[a].sign)
        n.sign = 1;
    if (n.sign && n.w < 1)
        n.w = 1;
    return add_node(m, n);
}

static int node_cast(RtlModule *m, int a, int fa, FxType to)
{
    RtlNode n = blank(RN_CAST);
    n.a = a;
    n.fa = fa;
    n.to = to;
    n.w = to.w;
    n.sign = to.sign;
    n.lo = (double)fx_type_min(to);
    n.hi = (double)fx_type_max(to);
    return add_node(m, n);
}

/* ---- constant products ---------------------------------------------------- */

/* Canonical signed digits of c (non-adjacent form), least significant first. */
static int csd_digits(int64_t c, int *digit, int *pos, int max)
{
    int n = 0, p = 0;
    uint64_t u = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
    int s = c < 0 ? -1 : 1;
    while (u && n < max) {
        if (u & 1) {
            int d = (u & 2) ? -1 : 1;   /* ...11 -> -1 and carry */
            digit[n] = d * s;
            pos[n] = p;
            n++;
            u = d > 0 ? u - 1 : u + 1;
        }
        u >>= 1;
        p++;
    }
    return n;
}

typedef struct {
    int node;      /* signal */
    int shift;     /* left shift */
    int neg;       /* subtract */
} Term;

/* Sum terms in a balanced tree; returns one term.  cap as in node_add. */
static Term sum_terms(RtlModule *m, Term *t, int n, int cap)
{
    while (n > 1) {
        int w = 0;
        for (int i = 0; i + 1 < n; i += 2) {
            Term a = t[i], b = t[i + 1];
            if (a.neg && !b.neg) {
                Term tmp = a;
                a = b;
                b = tmp;
            }
            int sh = a.shift < b.shift ? a.shift : b.shift;
            Term r;
            r.node = node_add(m, a.node, a.shift - sh, b.node, b.shift - sh, a.neg != b.neg, cap > 0 ? cap - sh : 0);
            r.shift = sh;
            r.neg = a.neg && b.neg;
            t[w++] = r;
        }
        if (n & 1)
            t[w++] = t[n - 1];
        n = w;
    }
    return t[0];
}

/* x * c for a constant c: shift-and-add of its signed digits (or a DSP multiply). */
static int const_mult(RtlModule *m, int x, int64_t c, int dsp)
{
    if (c == 1)
        return x;
    if (dsp) {
        RtlNode n = blank(RN_MUL);
        n.a = x;
        n.k = c;
        double p1 = m->n[x].lo * (double)c, p2 = m->n[x].hi * (double)c;
        n.lo = fmin(p1, p2);
        n.hi = fmax(p1, p2);
        n.w = width_of(n.lo, n.hi, &n.sign);
        m->dsp++;
        return add_node(m, n);
    }
    int dig[64], pos[64];
    int nd = csd_digits(c, dig, pos, 64);
    Term t[64];
    for (int i = 0; i < nd; i++) {
        t[i].node = x;
        t[i].shift = pos[i];
        t[i].neg = dig[i] < 0;
    }
    /* put a positive digit first so the tree rarely needs a final negation */
    for (int i = 1; i < nd; i++)
        if (t[0].neg && !t[i].neg) {
            Term tmp = t[0];
            t[0] = t[i];
            t[i] = tmp;
        }
    Term r = sum_terms(m, t, nd, 0);
    if (r.neg) {
        int z = node_const(m, 0);
        return node_add(m, z, 0, r.node, r.shift, 1, 0);
    }
    if (r.shift) {
        /* a pure shift: express as x*1 << s through an adder-free node */
        int z = node_const(m, 0);
        m->adders--;   /* adding a shifted value to constant 0 is wiring */
        return node_add(m, r.node, r.shift, z, 0, 0, 0);
    }
    return r.node;
}

static int popcount_csd(int64_t c)
{
    int dig[64], pos[64];
    return csd_digits(c, dig, pos, 64);
}

/* Shared products: per input, x * c for each constant (odd part) used, in a
 * hash table (open addressing over indices into the entries). Keys are unique:
 * an entry is only put after a find failed. */
typedef struct {
    int input;
    int64_t c;
    int kind;      /* 0: x*c;  1: floor(x*c / 2^k);  2: quantized with mode */
    int k;
    int node;
    size_t slot;   /* where the table holds this entry */
} ProdKey;

typedef struct {
    ProdKey *v;
    size_t n, cap;
    int *tab;      /* entry index, or -1; size tcap (a power of two), at most half full */
    size_t tcap;
} ProdCache;

static size_t prod_slot(const ProdCache *pc, int input, int64_t c, int kind, int k)
{
    uint64_t h = (uint64_t)c * UINT64_C(0x9e3779b97f4a7c15);
    h ^= ((uint64_t)(uint32_t)input << 20) ^ ((uint64_t)(uint32_t)kind << 8) ^ (uint64_t)(uint32_t)k;
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    return (size_t)h & (pc->tcap - 1);
}

static int cache_find(ProdCache *pc, int input, int64_t c, int kind, int k)
{
    if (!pc->tcap)
        return -1;
    for (size_t h = prod_slot(pc, input, c, kind, k);; h = (h + 1) & (pc->tcap - 1)) {
        int e = pc->tab[h];
        if (e < 0)
            return -1;
        const ProdKey *q = &pc->v[e];
        if (q->input == input && q->c == c && q->kind == kind && q->k == k)
            return q->node;
    }
}

static void cache_insert_slot(ProdCache *pc, size_t e)
{
    const ProdKey *q = &pc->v[e];
    size_t h = prod_slot(pc, q->input, q->c, q->kind, q->k);
    while (pc->tab[h] >= 0)
        h = (h + 1) & (pc->tcap - 1);
    pc->tab[h] = (int)e;
    pc->v[e].slot = h;
}

static void cache_put(ProdCache *pc, int input, int64_t c, int kind, int k, int node)
{
    ProdKey key = {input, c, kind, k, node, 0};
    VEC_PUSH(pc->v, pc->n, pc->cap, key);
    if (2 * pc->n > pc->tcap) {
        size_t nc = pc->tcap ? 2 * pc->tcap : 256;
        while (2 * pc->n > nc)
            nc *= 2;
        size_t got = 0;
        free(pc->tab);
        pc->tab = vec_grow(NULL, &got, nc, sizeof(int));   /* aborts when out of memory */
        pc->tcap = nc;
        for (size_t h = 0; h < nc; h++)
            pc->tab[h] = -1;
        for (size_t e = 0; e < pc->n; e++)
            cache_insert_slot(pc, e);
    } else {
        cache_insert_slot(pc, pc->n - 1);
    }
}

/* Forget every entry (rows that share no input). */
static void cache_clear(ProdCache *pc)
{
    for (size_t e = 0; e < pc->n; e++)
        pc->tab[pc->v[e].slot] = -1;
    pc->n = 0;
}

static void cache_free(ProdCache *pc)
{
    free(pc->v);
    free(pc->tab);
}

/* ---- layers --------------------------------------------------------------- */

static int use_dsp(const Rtl *r, int wx, int64_t c)
{
    if (r->opt.mult == MULT_DSP)
        return 1;
    if (r->opt.mult == MULT_CSD)
        return 0;
    return popcount_csd(c) > 3 && wx >= 10;   /* auto: wide inputs times dense constants */
}

/* a * b of two signals: a DSP multiply (--multipliers dsp, or auto with both operands 10 bits
 * or wider), else in LUTs: one partial product per bit of the narrower operand (its sign
 * bit subtracted), summed in a balanced tree. */
static int var_mult(const Rtl *r, RtlModule *m, int a, int b)
{
    const RtlNode *x = &m->n[a], *y = &m->n[b];
    if (r->opt.mult == MULT_DSP || (r->opt.mult == MULT_AUTO && x->w >= 10 && y->w >= 10)) {
        RtlNode p = blank(RN_MUL);
        p.a = a;
        p.b = b;
        double c[4] = {x->lo * y->lo, x->lo * y->hi, x->hi * y->lo, x->hi * y->hi};
        p.lo = fmin(fmin(c[0], c[1]), fmin(c[2], c[3]));
        p.hi = fmax(fmax(c[0], c[1]), fmax(c[2], c[3]));
        p.w = width_of(p.lo, p.hi, &p.sign);
        m->dsp++;
        return add_node(m, p);
    }
    if (y->w < x->w) {
        int t = a;
        a = b;
        b = t;
    }
    int ws = m->n[a].w, sgn = m->n[a].sign;
    Term *t = calloc((size_t)ws, sizeof(Term));
    if (!t)
        abort();
    for (int j = 0; j < ws; j++) {
        int bit = node_shr(m, a, j);
        m->n[bit].w = 1;
        m->n[bit].sign = 0;
        m->n[bit].lo = 0;
        m->n[bit].hi = 1;
        RtlNode sel = blank(RN_SEL);
        sel.a = bit;
        sel.b = b;
        sel.lo = fmin(0, m->n[b].lo);
        sel.hi = fmax(0, m->n[b].hi);
        sel.w = width_of(sel.lo, sel.hi, &sel.sign);
        t[j].node = add_node(m, sel);
        t[j].shift = j;
        t[j].neg = sgn && j == ws - 1;
    }
    Term s = sum_terms(m, t, ws, 0);
    free(t);
    if (s.neg) {
        int z = node_const(m, 0);
        return node_add(m, z, 0, s.node, s.shift, 1, 0);
    }
    if (s.shift) {
        int z = node_const(m, 0);
        m->adders--;   /* a shift is wiring */
        return node_add(m, s.node, s.shift, z, 0, 0, 0);
    }
    return s.node;
}

/* The product term x_i * c floored to the accumulator LSB (pd = frac bits to drop). */
static Term product_term(const Rtl *r, RtlModule *m, ProdCache *pc, int input, int x, int64_t c, int pd, FxType acc)
{
    Term t = {-1, 0, 0};
    int s = 0;
    int64_t odd = c;
    while (!(odd & 1)) {
        odd >>= 1;
        s++;
    }
    int wx = m->n[x].w;
    if (pd <= s) {
        /* no bit below the accumulator's LSB: exact */
        int64_t mag = odd < 0 ? -odd : odd;
        int node = cache_find(pc, input, mag, 0, 0);
        if (node < 0) {
            node = const_mult(m, x, mag, use_dsp(r, wx, mag));
            cache_put(pc, input, mag, 0, 0, node);
        }
        t.node = node;
        t.shift = s - pd;
        t.neg = odd < 0;
        return t;
    }
    int k = pd - s;
    int kind = acc.q == FXQ_TRN ? 1 : 2;
    int node = cache_find(pc, input, odd, kind, k);
    if (node < 0) {
        int p = cache_find(pc, input, odd, 0, 0);
        if (p < 0) {
            p = const_mult(m, x, odd, use_dsp(r, wx, odd));
            cache_put(pc, input, odd, 0, 0, p);
        }
        if (kind == 1) {
            node = node_shr(m, p, k);
        } else {
            /* round to the accumulator LSB with its mode, no overflow (wide WRAP) */
            FxType wide = {(int16_t)(m->n[p].w + 1 - k > 1 ? m->n[p].w + 1 - k : 2), 0, 1, acc.q, FXO_WRAP};
            wide.i = wide.w;  /* frac 0 at the accumulator LSB */
            node = node_cast(m, p, k, wide);
        }
        cache_put(pc, input, odd, kind, k, node);
    }
    t.node = node;
    return t;
}

/* ---- common subexpressions of an exact constant matrix-vector product ---- */

typedef struct {
    Term *t;
    int n, cap;
} TermList;

typedef struct {
    uint64_t key;
    int count;
} PairCount;

/* A pair of terms as a pattern: (p << da) +/- (q << db) with min(da, db) = 0.
 * Returns 0 when the pair cannot be a pattern (shift difference too large). */
static int pair_key(Term p, Term q, uint64_t *key, int *base, int *neg)
{
    if (q.node < p.node || (q.node == p.node && q.shift < p.shift)) {
        Term t = p;
        p = q;
        q = t;
    }
    int b = p.shift < q.shift ? p.shift : q.shift;
    int da = p.shift - b, db = q.shift - b;
    if (da > 31 || db > 31 || p.node >= (1 << 21) || q.node >= (1 << 21))
        return 0;
    int rel = p.neg != q.neg;
    *key = (uint64_t)p.node | ((uint64_t)q.node << 21) | ((uint64_t)da << 42) | ((uint64_t)db << 47) | ((uint64_t)rel << 52);
    *base = b;
    *neg = p.neg;
    return 1;
}

static size_t hash_slot(uint64_t key, size_t mask)
{
    key ^= key >> 29;
    key *= UINT64_C(0xbf58476d1ce4e5b9);
    key ^= key >> 32;
    return (size_t)key & mask;
}

/* Greedy two-term common subexpression elimination across all outputs: the
 * most frequent pair (same signals, same relative shift and sign) becomes one
 * adder shared by every output that uses it; repeat until no pair repeats. */
/* Sort pattern keys (below 2^56) in place, least significant byte first; tmp holds n keys. */
static void sort_keys(uint64_t *k, uint64_t *tmp, size_t n)
{
    for (int b = 0; b < 56; b += 8) {
        size_t cnt[257] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[((k[i] >> b) & 255) + 1]++;
        if (cnt[((k[0] >> b) & 255) + 1] == n)
            continue;   /* every key has the same byte here */
        for (int d = 0; d < 256; d++)
            cnt[d + 1] += cnt[d];
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(k[i] >> b) & 255]++] = k[i];
        memcpy(k, tmp, n * sizeof *k);
    }
}

static void cse_terms(RtlModule *m, TermList *lists, long nl)
{
    size_t cap = 0;
    uint64_t *keys = NULL, *tmp = NULL;
    PairCount *map = NULL, *sorted = NULL;
    for (int round = 0; round < 4096; round++) {
        size_t pairs = 0;
        for (long l = 0; l < nl; l++)
            pairs += (size_t)lists[l].n * (size_t)(lists[l].n > 0 ? lists[l].n - 1 : 0) / 2;
        if (pairs + 1 > cap) {
            size_t c = cap;
            keys = vec_grow(keys, &c, pairs + 1, sizeof *keys);
            c = cap;
            tmp = vec_grow(tmp, &c, pairs + 1, sizeof *tmp);
            c = cap;
            map = vec_grow(map, &c, pairs + 1, sizeof *map);
            c = cap;
            sorted = vec_grow(sorted, &c, pairs + 1, sizeof *sorted);
            cap = c;
        }
        /* every pattern of every output, counted by sorting */
        size_t nk = 0;
        for (long l = 0; l < nl; l++)
            for (int i = 0; i < lists[l].n; i++)
                for (int j = i + 1; j < lists[l].n; j++) {
                    uint64_t key;
                    int base, neg;
                    if (pair_key(lists[l].t[i], lists[l].t[j], &key, &base, &neg))
                        keys[nk++] = key;
                }
        if (nk)
            sort_keys(keys, tmp, nk);
        /* the candidates, most frequent first */
        size_t nc = 0;
        for (size_t i = 0, j; i < nk; i = j) {
            for (j = i + 1; j < nk && keys[j] == keys[i]; j++)
                ;
            if (j - i >= 2) {
                map[nc].key = keys[i];
                map[nc++].count = (int)(j - i);
            }
        }
        if (nc == 0)
            break;
        /* most frequent first, then by key: a stable counting sort of the key-ordered candidates */
        int top = 0;
        for (size_t c = 0; c < nc; c++)
            top = map[c].count > top ? map[c].count : top;
        size_t *at = calloc((size_t)top + 2, sizeof(size_t));
        for (size_t c = 0; c < nc; c++)
            at[top - map[c].count + 1]++;
        for (int v = 0; v <= top; v++)
            at[v + 1] += at[v];
        for (size_t c = 0; c < nc; c++)
            sorted[at[top - map[c].count]++] = map[c];
        free(at);
        memcpy(map, sorted, nc * sizeof *map);
        /* this round: the most frequent patterns (at least half as frequent as
         * the best), applied in one pass over the outputs */
        int best = map[0].count;
        size_t sel = 0;
        while (sel < nc && map[sel].count * 4 >= best * 3)
            sel++;
        size_t scap = 16;
        while (scap < 2 * sel)
            scap *= 2;
        uint64_t *skey = calloc(scap, sizeof(uint64_t));
        int *snode = malloc(scap * sizeof(int));
        size_t smask = scap - 1;
        for (size_t c = 0; c < sel; c++) {
            size_t h = hash_slot(map[c].key, smask);
            while (skey[h])
                h = (h + 1) & smask;
            skey[h] = map[c].key;
            snode[h] = -1;
        }
        int applied = 0;
        for (long l = 0; l < nl; l++) {
            TermList *tl = &lists[l];
            for (int i = 0; i < tl->n; i++)
                for (int j = i + 1; j < tl->n; j++) {
                    uint64_t key;
                    int base, neg;
                    if (!pair_key(tl->t[i], tl->t[j], &key, &base, &neg))
                        continue;
                    size_t h = hash_slot(key, smask);
                    while (skey[h] && skey[h] != key)
                        h = (h + 1) & smask;
                    if (!skey[h])
                        continue;
                    if (snode[h] < 0) {
                        int a = (int)(key & 0x1fffff), b = (int)((key >> 21) & 0x1fffff);
                        int da = (int)((key >> 42) & 31), db = (int)((key >> 47) & 31), rel = (int)((key >> 52) & 1);
                        snode[h] = node_add(m, a, da, b, db, rel, 0);
                    }
                    tl->t[i].node = snode[h];
                    tl->t[i].shift = base;
                    tl->t[i].neg = neg;
                    tl->t[j] = tl->t[--tl->n];
                    applied++;
                    j = tl->n;   /* term i is consumed: next i */
                }
        }
        free(skey);
        free(snode);
        if (!applied)
            break;
    }
    free(map);
    free(sorted);
    free(keys);
    free(tmp);
}

/* A dense layer over `rows` rows of nin inputs with weights wcodes [nin][nout].
 * gather (CONV: the window of each output pixel) maps (row, i) to the input
 * element, -1 for padding (no term); NULL: row * nin + i.  Input elements and
 * their products are shared by every row that reads them. */
static int build_dense_rows(Rtl *r, RtlModule *m, const Node *nd, const Node *relu, const int64_t *wcodes, long nin,
                            long nout, long rows, const int32_t *gather)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *w = &g->t[nd->in[1]];
    const Tensor *b = nd->in[2] >= 0 ? &g->t[nd->in[2]] : NULL;
    long nx = ir_numel(x);
    int *innode = malloc(sizeof(int) * (size_t)(nx ? nx : 1));
    for (long e = 0; e < nx; e++)
        innode[e] = -1;
    FxType acc = nd->accum, res = g->t[nd->out].type;
    int fx = fx_frac(x->type), fw = fx_frac(w->type), fa = fx_frac(acc);
    int pd = fx + fw - fa;
    int cap = acc.o == FXO_WRAP ? acc.w : 0;
    /* Exact products (no bit below the accumulator's LSB) may be regrouped
     * freely: flatten them into signed digits and share across outputs. */
    int flat = pd <= 0 && r->opt.mult == MULT_CSD;
    m->nout = rows * nout;
    m->out = arena_array(&r->arena, (size_t)m->nout, sizeof(int));
    TermList *lists = calloc((size_t)nout, sizeof(TermList));
    ProdCache pc = {0};
    for (long row = 0; row < rows; row++) {
        if (!gather)
            cache_clear(&pc);   /* rows share no input */
        int *xs = malloc(sizeof(int) * (size_t)nin);
        long *xi = malloc(sizeof(long) * (size_t)nin);
        for (long i = 0; i < nin; i++) {
            long e = gather ? gather[row * nin + i] : row * nin + i;
            xi[i] = e;
            if (e >= 0 && innode[e] < 0)
                innode[e] = node_in(m, 0, e, x->type);
            xs[i] = e >= 0 ? innode[e] : -1;
        }
        for (long o = 0; o < nout; o++) {
            TermList *tl = &lists[o];
            tl->n = 0;
            if (m->live && !m->live[row * nout + o])
                continue;   /* never observed: constant 0 */
            for (long i = 0; i < nin; i++) {
                int64_t c = wcodes[i * nout + o];
                if (!c || xs[i] < 0)
                    continue;
                m->adders_naive += popcount_csd(c);   /* digits - 1 inside, + 1 into the sum */
                if (flat) {
                    int dig[64], pos[64];
                    int nd2 = csd_digits(c, dig, pos, 64);
                    for (int k = 0; k < nd2; k++) {
                        Term t = {xs[i], pos[k] - pd, dig[k] < 0};
                        if (cap > 0 && t.shift >= cap)
                            continue;
                        size_t c2 = (size_t)tl->cap;
                        tl->t = vec_grow(tl->t, &c2, (size_t)tl->n + 2, sizeof(Term));
                        tl->cap = (int)c2;
                        tl->t[tl->n++] = t;
                    }
                    continue;
                }
                Term t = product_term(r, m, &pc, (int)xi[i], xs[i], c, pd, acc);
                if (cap > 0 && t.shift >= cap)
                    continue;   /* contributes 0 modulo 2^W */
                size_t c2 = (size_t)tl->cap;
                tl->t = vec_grow(tl->t, &c2, (size_t)tl->n + 2, sizeof(Term));
                tl->cap = (int)c2;
                tl->t[tl->n++] = t;
            }
            m->adders_naive -= 1;
        }
        if (flat)
            cse_terms(m, lists, nout);
        for (long o = 0; o < nout; o++) {
            TermList *tl = &lists[o];
            size_t c2 = (size_t)tl->cap;
            tl->t = vec_grow(tl->t, &c2, (size_t)tl->n + 2, sizeof(Term));
            tl->cap = (int)c2;
            int64_t bacc = b ? fx_cast_to(b->codes[o], fx_frac(b->type), acc) : 0;
            if (bacc && (!m->live || m->live[row * nout + o])) {
                Term t = {node_const(m, bacc), 0, 0};
                tl->t[tl->n++] = t;
            }
            int accn;
            if (tl->n == 0) {
                accn = node_const(m, 0);
            } else {
                Term t = sum_terms(m, tl->t, tl->n, cap);
                accn = t.node;
                if (t.neg || t.shift) {
                    int z = node_const(m, 0);
                    accn = t.neg ? node_add(m, z, 0, t.node, t.shift, 1, cap) : node_add(m, t.node, t.shift, z, 0, 0, cap);
                    if (!t.neg)
                        m->adders--;   /* a shift is wiring */
                }
            }
            /* the accumulator: modulo 2^W (a cast with frac 0 keeps the low bits), or saturated once */
            FxType acc_int = acc;
            acc_int.i = acc.w;   /* same bits, frac 0: overflow handling only */
            accn = node_cast(m, accn, 0, acc_int);
            int y = node_cast(m, accn, fa, res);
            if (relu) {
                FxType rt = g->t[relu->out].type;
                RtlNode s = blank(RN_SEL);
                s.a = y;
                s.b = node_cast(m, y, fx_frac(res), rt);
                s.c = -1;
                s.w = rt.w;
                s.sign = rt.sign;
                s.lo = fmin(0, (double)fx_type_min(rt));
                s.hi = (double)fx_type_max(rt);
                y = add_node(m, s);
            }
            m->out[row * nout + o] = y;
        }
        free(xs);
        free(xi);
    }
    free(innode);
    if (m->adders_naive < 0)
        m->adders_naive = 0;
    for (long o = 0; o < nout; o++)
        free(lists[o].t);
    free(lists);
    cache_free(&pc);
    return 0;
}

static int build_dense(Rtl *r, RtlModule *m, Diag *d, const Node *nd, const Node *relu)
{
    const Tensor *w = &r->g->t[nd->in[1]];
    long nin = w->const_dims[0], nout = w->const_dims[1];
    (void)d;
    return build_dense_rows(r, m, nd, relu, w->codes, nin, nout, ir_numel(&r->g->t[nd->in[0]]) / nin, NULL);
}

/* Conv: every output pixel a dense output over its window (padding adds no term). */
static int build_conv(Rtl *r, RtlModule *m, const Node *nd, const Node *relu)
{
    const Graph *g = r->g;
    int ih, iw, cin, oh, ow, cout;
    ir_hwc(&g->t[nd->in[0]], &ih, &iw, &cin);
    ir_hwc(&g->t[nd->out], &oh, &ow, &cout);
    long taps = (long)nd->kernel[0] * nd->kernel[1], npix = (long)oh * ow, nin = taps * cin;
    int32_t *tab = arena_array(&r->arena, (size_t)(npix * taps), sizeof(int32_t));
    int32_t *gather = arena_array(&r->arena, (size_t)(npix * nin), sizeof(int32_t));
    int64_t *wc = arena_array(&r->arena, (size_t)(nin * cout), sizeof(int64_t));
    ir_window_taps(g, nd, tab);
    ir_conv_dense_weights(g, nd, wc, NULL);
    for (long q = 0; q < npix * taps; q++)
        for (int c = 0; c < cin; c++)
            gather[q * cin + c] = tab[q] < 0 ? -1 : (int32_t)((long)tab[q] * cin + c);
    return build_dense_rows(r, m, nd, relu, wc, nin, cout, npix, gather);
}

/* Max pooling: a tree of comparisons, cast to the accumulator, then to the result.
 * Average pooling: exact sum (TRN/WRAP accumulators only), and a division that is
 * a shift (power-of-two pixel counts only). */
/* trunc0(s / div) for a constant div > 1 that is not a power of two (C's integer division, as
 * the emulator): |s| < 2^n times mul = ceil(2^k / div), k = n + ceil(log2 div), shifted right by
 * k is floor(|s| / div) exactly (mul * div - 2^k < div <= 2^(k - n)); negated back when s < 0.
 * Returns -1 when the product would not fit 62 bits. */
static int div_trunc_const(RtlModule *m, int s, long div)
{
    const RtlNode *x = &m->n[s];
    double maxabs = fmax(fabs(x->lo), fabs(x->hi));
    int n = 0, l = 0;
    while (n < 62 && ldexp(1.0, n) <= maxabs)
        n++;
    while ((1L << l) < div)
        l++;
    int k = n + l;
    if (n + k + 1 > 62)
        return -1;
    int64_t mul = (int64_t)((((uint64_t)1 << k) + (uint64_t)div - 1) / (uint64_t)div);
    int zero = node_const(m, 0), negs = -1, abs = s;
    if (x->sign && x->lo < 0) {
        negs = node_add(m, zero, 0, s, 0, 1, 0);   /* -s > 0  <=>  s < 0 */
        RtlNode sel = blank(RN_SEL);
        sel.a = negs;
        sel.b = negs;
        sel.c = s;
        sel.lo = 0;
        sel.hi = maxabs;
        sel.w = width_of(sel.lo, sel.hi, &sel.sign);
        abs = add_node(m, sel);
    }
    int q = node_shr(m, const_mult(m, abs, mul, 0), k);
    if (negs < 0)
        return q;
    int nq = node_add(m, zero, 0, q, 0, 1, 0);
    RtlNode sel = blank(RN_SEL);
    sel.a = negs;
    sel.b = nq;
    sel.c = q;
    sel.lo = -m->n[q].hi;
    sel.hi = m->n[q].hi;
    sel.w = width_of(sel.lo, sel.hi, &sel.sign);
    return add_node(m, sel);
}

static int build_pool(Rtl *r, RtlModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType acc = nd->accum, res = g->t[nd->out].type;
    int ih, iw, cin, oh, ow, cout, fin = fx_frac(x->type), fa = fx_frac(acc);
    ir_hwc(x, &ih, &iw, &cin);
    ir_hwc(&g->t[nd->out], &oh, &ow, &cout);
    long taps = (long)nd->kernel[0] * nd->kernel[1], npix = (long)oh * ow;
    int is_max = nd->op == OP_MAXPOOL1D || nd->op == OP_MAXPOOL2D;
    if (!is_max && (acc.q != FXQ_TRN || acc.o != FXO_WRAP || fa < fin))
        return diag_error(d, "%s: node '%s' (%s): the Verilog back end supports average pooling with a TRN, WRAP "
                          "accumulator at least as fine as the input only, got another accumulator", g->file, nd->name,
                          nd->src_op);
    int32_t *tab = arena_array(&r->arena, (size_t)(npix * taps), sizeof(int32_t));
    ir_window_taps(g, nd, tab);
    long nx = ir_numel(x);
    int *innode = arena_array(&r->arena, (size_t)nx, sizeof(int));
    for (long e = 0; e < nx; e++)
        innode[e] = node_in(m, 0, e, x->type);
    m->nout = npix * cin;
    m->out = arena_array(&r->arena, (size_t)m->nout, sizeof(int));
    int *v = malloc(sizeof(int) * (size_t)taps);
    for (long q = 0; q < npix; q++)
        for (int c = 0; c < cin; c++) {
            int n = 0;
            for (long t = 0; t < taps; t++)
                if (tab[q * taps + t] >= 0)
                    v[n++] = innode[(long)tab[q * taps + t] * cin + c];
            long div = nd->count_pad ? taps : n;
            int sh = 0;
            while ((1L << sh) < div)
                sh++;
            /* a balanced tree */
            for (int len = n; len > 1; len = (len + 1) / 2)
                for (int k = 0; k < len / 2; k++) {
                    if (is_max) {
                        RtlNode mx = blank(RN_MAX);
                        mx.a = v[2 * k];
                        mx.b = v[2 * k + 1];
                        mx.w = m->n[mx.a].w;
                        mx.sign = m->n[mx.a].sign;
                        mx.lo = m->n[mx.a].lo;
                        mx.hi = m->n[mx.a].hi;
                        v[k] = add_node(m, mx);
                    } else {
                        v[k] = node_add(m, v[2 * k], 0, v[2 * k + 1], 0, 0, 0);
                    }
                    if (len % 2 && k == len / 2 - 1)
                        v[k + 1] = v[len - 1];
                }
            int a;
            if (is_max) {
                a = node_cast(m, v[0], fin, acc);
            } else {
                /* the sum (exact, input LSB) cast to the accumulator, then divided toward zero:
                 * (s + (s < 0 ? div - 1 : 0)) >> sh, done as a cast of s + bias on the sign */
                FxType acc_int = acc;
                acc_int.i = acc.w;
                int s = node_cast(m, node_cast(m, v[0], fin, acc), 0, acc_int);
                if ((1L << sh) != div) {
                    a = div_trunc_const(m, s, div);
                    if (a < 0) {
                        free(v);
                        return diag_error(d, "%s: node '%s' (%s): expected an average pooling accumulator narrow "
                                          "enough to divide by %ld in 62 bits in RTL, got %d bits", g->file, nd->name,
                                          nd->src_op, div, acc.w);
                    }
                } else if (sh) {
                    RtlNode sel = blank(RN_SEL);   /* s > 0 ? 0 : div - 1, as s < 0 needs the bias */
                    int zero = node_const(m, 0), bias = node_const(m, div - 1);
                    int negs = node_add(m, zero, 0, s, 0, 1, 0);   /* -s > 0  <=>  s < 0 */
                    sel.a = negs;
                    sel.b = bias;
                    sel.c = zero;
                    sel.w = m->n[bias].w;
                    sel.sign = 0;
                    sel.lo = 0;
                    sel.hi = (double)(div - 1);
                    int bsel = add_node(m, sel);
                    int sum = node_add(m, s, 0, bsel, 0, 0, 0);
                    a = node_shr(m, sum, sh);
                } else {
                    a = s;
                }
            }
            m->out[q * cin + c] = node_cast(m, a, fa, res);
        }
    free(v);
    return 0;
}

/* PAD, UPSAMPLE, TRANSPOSE, CONCAT: wiring, each element cast to the result (a
 * transpose keeps the type: no cast). */
static int build_gather(Rtl *r, RtlModule *m, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *x2 = nd->op == OP_CONCAT ? &g->t[nd->in[1]] : NULL;
    FxType res = g->t[nd->out].type;
    long ny = ir_numel(&g->t[nd->out]), nx = ir_numel(x);
    int32_t *tab = arena_array(&r->arena, (size_t)ny, sizeof(int32_t));
    ir_gather_table(g, nd, tab);
    m->nout = ny;
    m->out = arena_array(&r->arena, (size_t)ny, sizeof(int));
    for (long e = 0; e < ny; e++) {
        long s = tab[e];
        int y;
        if (s < 0)
            y = node_const(m, 0);
        else if (s < nx)
            y = nd->op == OP_TRANSPOSE ? node_in(m, 0, s, x->type)
                                       : node_cast(m, node_in(m, 0, s, x->type), fx_frac(x->type), res);
        else
            y = node_cast(m, node_in(m, 1, s - nx, x2->type), fx_frac(x2->type), res);
        m->out[e] = y;
    }
    return 0;
}

/* ADD, SUB, MUL, AVERAGE, MAXIMUM, MINIMUM of two tensors. */
static int build_merge(Rtl *r, RtlModule *m, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]], *y = &g->t[nd->in[1]];
    FxType res = g->t[nd->out].type;
    int f1 = fx_frac(x->type), f2 = fx_frac(y->type), f = f1 > f2 ? f1 : f2;
    long n = ir_numel(x);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        int a = node_in(m, 0, e, x->type), b = node_in(m, 1, e, y->type), o;
        switch (nd->op) {
        case OP_ADD: o = node_cast(m, node_add(m, a, f - f1, b, f - f2, 0, 0), f, res); break;
        case OP_SUB: o = node_cast(m, node_add(m, a, f - f1, b, f - f2, 1, 0), f, res); break;
        case OP_AVERAGE: o = node_cast(m, node_add(m, a, f - f1, b, f - f2, 0, 0), f + 1, res); break;
        case OP_MUL: o = node_cast(m, var_mult(r, m, a, b), f1 + f2, res); break;
        default: {   /* MAXIMUM: a - b > 0 ? x : y;  MINIMUM: b - a > 0 ? x : y */
            int dlt = nd->op == OP_MAXIMUM ? node_add(m, a, f - f1, b, f - f2, 1, 0) : node_add(m, b, f - f2, a, f - f1, 1, 0);
            RtlNode s = blank(RN_SEL);
            s.a = dlt;
            s.b = node_cast(m, a, f1, res);
            s.c = node_cast(m, b, f2, res);
            s.w = res.w;
            s.sign = res.sign;
            s.lo = (double)fx_type_min(res);
            s.hi = (double)fx_type_max(res);
            o = add_node(m, s);
            break;
        }
        }
        m->out[e] = o;
    }
    if (nd->op == OP_ADD || nd->op == OP_SUB || nd->op == OP_AVERAGE)
        m->adders_naive = n;
    return 0;
}

static int build_affine(Rtl *r, RtlModule *m, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    const Tensor *sc = nd->in[1] >= 0 ? &g->t[nd->in[1]] : NULL, *sh = nd->in[2] >= 0 ? &g->t[nd->in[2]] : NULL;
    FxType res = g->t[nd->out].type;
    long n = ir_numel(x);
    int fx = fx_frac(x->type);
    int fp = fx + (sc ? fx_frac(sc->type) : 0), ft = sh ? fx_frac(sh->type) : fp;
    int f = fp > ft ? fp : ft;
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        int xi = node_in(m, 0, e, x->type);
        Term t[2];
        int nt = 0;
        int64_t c = sc ? sc->codes[e] : 1;
        if (c) {
            int64_t mag = c < 0 ? -c : c;
            t[nt].node = const_mult(m, xi, mag, use_dsp(r, x->type.w, mag));
            t[nt].shift = f - fp;
            t[nt].neg = c < 0;
            nt++;
        }
        if (sh && sh->codes[e]) {
            t[nt].node = node_const(m, sh->codes[e]);
            t[nt].shift = f - ft;
            t[nt].neg = 0;
            nt++;
        }
        int v;
        if (nt == 0) {
            v = node_const(m, 0);
        } else {
            Term s = sum_terms(m, t, nt, 0);
            v = s.node;
            if (s.neg || s.shift) {
                int z = node_const(m, 0);
                v = s.neg ? node_add(m, z, 0, s.node, s.shift, 1, 0) : node_add(m, s.node, s.shift, z, 0, 0, 0);
            }
        }
        m->out[e] = node_cast(m, v, f, res);
    }
    return 0;
}

static int rom_add(Rtl *r, RtlModule *m, int64_t *data, long n, int aw, FxType out, int hls)
{
    RtlRom rom = {data, n, aw, out.w, out.sign, hls};
    (void)r;
    VEC_PUSH(m->rom, m->nrom, m->crom, rom);
    return (int)m->nrom - 1;
}

static int build_unary_table(Rtl *r, RtlModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType res = g->t[nd->out].type;
    UnaryAct a;
    int fell;
    if (act_unary_init(&a, &r->arena, d, g, nd, &fell) < 0)
        return -1;
    /* selu (either mode) is a ROM over every input code */
    if (nd->op == OP_SELU && x->type.w > 16)
        return diag_error(d, "%s: node '%s' (%s): expected a selu input of at most 16 bits in RTL, got %d", g->file,
                          nd->name, nd->src_op, x->type.w);
    int indexed = a.mode == TABLES_HLS4ML && nd->op != OP_SELU;
    int rom;
    int64_t lo = 0, hi = 0;
    if (indexed) {
        /* the table, with the output cast folded in */
        int64_t *data = arena_array(&r->arena, (size_t)a.table_size, sizeof(int64_t));
        for (long i = 0; i < a.table_size; i++)
            data[i] = fx_cast_to(a.table[i], fx_frac(a.table_t), res);
        rom = rom_add(r, m, data, a.table_size, a.lgt, res, 1);
    } else {
        /* every input code, trimmed to where the output changes */
        int64_t cmin = fx_type_min(x->type), cmax = fx_type_max(x->type);
        int64_t vmin = act_unary_eval(&a, cmin), vmax = act_unary_eval(&a, cmax);
        lo = cmin;
        while (lo < cmax && act_unary_eval(&a, lo + 1) == vmin)
            lo++;
        hi = cmax;
        while (hi > lo && act_unary_eval(&a, hi - 1) == vmax)
            hi--;
        long n = (long)(hi - lo + 1);
        int aw = 1;
        while ((1L << aw) < n)
            aw++;
        int64_t *data = arena_array(&r->arena, (size_t)n, sizeof(int64_t));
        for (long i = 0; i < n; i++)
            data[i] = act_unary_eval(&a, lo + i);
        rom = rom_add(r, m, data, n, aw, res, 0);
    }
    long n = ir_numel(x);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        int t = node_rom(m, node_in(m, 0, e, x->type), rom, indexed ? fx_frac(x->type) : lo, indexed ? a.lgt : hi,
                         res);
        m->n[t].sa = a.lgs;   /* hls4ml index: log2 of the sampled span */
        m->out[e] = t;
    }
    return 0;
}

static int build_softmax(Rtl *r, RtlModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType res = g->t[nd->out].type;
    if (nd->tables != TABLES_HLS4ML)
        return diag_error(d, "%s: node '%s' (%s): exact softmax has no circuit: expected Tables: hls4ml for this "
                          "layer (the default) to build RTL", g->file, nd->name, nd->src_op);
    if (x->rank != 1)
        return diag_error(d, "%s: node '%s' (%s): expected a softmax over a vector in RTL", g->file, nd->name, nd->src_op);
    long n = x->dims[0];
    SoftmaxAct sa;
    if (act_softmax_init(&sa, &r->arena, d, g, nd, (int)n) < 0)
        return -1;
    const FxSoftmaxHls *p = &sa.p;
    FxType acc = {(int16_t)p->wa, (int16_t)(p->wa - p->fa), (uint8_t)p->sa, (uint8_t)p->qa, (uint8_t)p->oa};
    FxType inv_inp = {(int16_t)p->wi, (int16_t)(p->wi - p->fi), (uint8_t)p->si, (uint8_t)p->qi, (uint8_t)p->oi};
    FxType inv_t = nd->inv_t;
    /* ROM contents: exp entries already cast to the accumulator */
    int64_t *exps = arena_array(&r->arena, (size_t)sa.exp_size, sizeof(int64_t));
    for (long i = 0; i < sa.exp_size; i++)
        exps[i] = fx_cast_to(sa.exp_table[i], p->fe, acc);
    int rom_e = rom_add(r, m, exps, sa.exp_size, p->ne, acc, 0);
    int rom_v = rom_add(r, m, sa.inv_table, sa.inv_size, p->nv, inv_t, 0);
    int *xs = malloc(sizeof(int) * (size_t)n), *e = malloc(sizeof(int) * (size_t)n);
    for (long i = 0; i < n; i++)
        xs[i] = node_in(m, 0, i, x->type);
    /* maximum: a balanced tree */
    int *t = malloc(sizeof(int) * (size_t)n);
    memcpy(t, xs, sizeof(int) * (size_t)n);
    for (long cnt = n; cnt > 1;) {
        long w = 0;
        for (long i = 0; i + 1 < cnt; i += 2) {
            RtlNode mx = blank(RN_MAX);
            mx.a = t[i];
            mx.b = t[i + 1];
            mx.w = x->type.w;
            mx.sign = x->type.sign;
            mx.lo = m->n[t[i]].lo;
            mx.hi = m->n[t[i]].hi;
            t[w++] = add_node(m, mx);
        }
        if (cnt & 1)
            t[w++] = t[cnt - 1];
        cnt = w;
    }
    int mx = t[0];
    FxType norm = {(int16_t)p->wn, (int16_t)(p->wn - p->fn), 0, FXQ_TRN, FXO_WRAP};
    for (long i = 0; i < n; i++) {
        int diff = node_add(m, mx, 0, xs[i], 0, 1, 0);
        int dn = node_cast(m, diff, p->fn, norm);               /* wraps to inp_norm_t */
        int idx = node_shr(m, dn, p->wn - p->ne);                /* top bits */
        m->n[idx].sign = 0;
        e[i] = node_rom(m, idx, rom_e, 0, sa.exp_size - 1, acc);
    }
    /* hls4ml's pairwise sum, cast after every addition */
    FxType acc_int = acc;
    acc_int.i = acc.w;
    int sum;
    {
        /* iterative form of fx_tree_sum: recursion on (start, count) */
        typedef struct { long s, c; } Span;
        (void)sizeof(Span);
    }
    int (*dummy)(void) = NULL;
    (void)dummy;
    /* recursive helper via explicit stack is verbose; use a small recursive lambda-like function */
    sum = -1;
    {
        /* the same split as fx_tree_sum */
        long stack_s[64], stack_c[64];
        int stack_state[64], stack_left[64];
        int sp = 0;
        stack_s[0] = 0;
        stack_c[0] = n;
        stack_state[0] = 0;
        int ret = -1;
        while (sp >= 0) {
            long s0 = stack_s[sp], c0 = stack_c[sp];
            if (c0 == 1) {
                ret = e[s0];
                sp--;
                continue;
            }
            if (c0 == 2) {
                ret = node_cast(m, node_add(m, e[s0], 0, e[s0 + 1], 0, 0, 0), 0, acc_int);
                sp--;
                continue;
            }
            long l = 1;
            while (l * 2 <= c0 - 1)
                l *= 2;
            if (stack_state[sp] == 0) {
                stack_state[sp] = 1;
                sp++;
                stack_s[sp] = s0;
                stack_c[sp] = l;
                stack_state[sp] = 0;
            } else if (stack_state[sp] == 1) {
                stack_left[sp] = ret;
                stack_state[sp] = 2;
                sp++;
                stack_s[sp] = s0 + l;
                stack_c[sp] = c0 - l;
                stack_state[sp] = 0;
            } else {
                ret = node_cast(m, node_add(m, stack_left[sp], 0, ret, 0, 0, 0), 0, acc_int);
                sp--;
            }
        }
        sum = ret;
    }
    int s = node_cast(m, sum, p->fa, inv_inp);
    int iv = node_shr(m, s, p->wi - p->nv);
    m->n[iv].sign = 0;
    m->n[iv].w = p->nv;
    int inv = node_rom(m, iv, rom_v, 0, sa.inv_size - 1, inv_t);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long i = 0; i < n; i++) {
        m->out[i] = node_cast(m, var_mult(r, m, e[i], inv), p->fa + p->fv, res);
    }
    free(xs);
    free(e);
    free(t);
    return 0;
}

static int build_elementwise(Rtl *r, RtlModule *m, Diag *d, const Node *nd)
{
    const Graph *g = r->g;
    const Tensor *x = &g->t[nd->in[0]];
    FxType res = g->t[nd->out].type;
    long n = ir_numel(x);
    int fx = fx_frac(x->type);
    m->nout = n;
    m->out = arena_array(&r->arena, (size_t)n, sizeof(int));
    for (long e = 0; e < n; e++) {
        if (m->live && !m->live[e]) {
            m->out[e] = node_const(m, 0);   /* never observed */
            continue;
        }
        int xi = node_in(m, 0, e, x->type), y;
        switch (nd->op) {
        case OP_RELU: {
            RtlNode s = blank(RN_SEL);
            s.a = xi;
            s.b = node_cast(m, xi, fx, res);
            s.w = res.w;
            s.sign = res.sign;
            s.lo = fmin(0, (double)fx_type_min(res));
            s.hi = (double)fx_type_max(res);
            y = add_node(m, s);
            break;
        }
        case OP_LEAKYRELU: {
            int64_t ac = fx_quant_double(nd->alpha, nd->alpha_t);
            int prod;
            if (ac == 0) {
                prod = node_const(m, 0);
            } else {
                int64_t mag = ac < 0 ? -ac : ac;
                prod = const_mult(m, xi, mag, use_dsp(r, x->type.w, mag));
                if (ac < 0) {
                    int z = node_const(m, 0);
                    prod = node_add(m, z, 0, prod, 0, 1, 0);
                }
            }
            RtlNode s = blank(RN_SEL);
            s.a = xi;
            s.b = node_cast(m, xi, fx, res);
            s.c = node_cast(m, prod, fx + fx_frac(nd->alpha_t), res);
            s.w = res.w;
            s.sign = res.sign;
            s.lo = (double)fx_type_min(res);
            s.hi = (double)fx_type_max(res);
            y = add_node(m, s);
            break;
        }
        case OP_QUANT: {
            FxType et = ir_quant_elem(nd, e);
            if (!et.w) {
                y = node_const(m, 0);   /* pruned */
                break;
            }
            /* the element's cast, then placed in the container: constant high and low bits are wiring */
            y = node_cast(m, node_cast(m, xi, fx, et), fx_frac(et), res);
            int sh = fx_frac(res) - fx_frac(et);
            m->n[y].lo = ldexp((double)fx_type_min(et), sh);
            m->n[y].hi = ldexp((double)fx_type_max(et), sh);
            break;
        }
        case OP_CLIP: {
            RtlNode s = blank(RN_CLIP);
            s.a = xi;
            s.b = node_cast(m, xi, fx, res);
            /* x < lo  <=>  code < ceil(lo * 2^f);  x > hi  <=>  code > floor(hi * 2^f) */
            double lt = ceil(ldexp(nd->alpha, fx)), ht = floor(ldexp(nd->beta, fx));
            double cmin = (double)fx_type_min(x->type), cmax = (double)fx_type_max(x->type);
            s.k = (int64_t)fmax(fmin(lt, cmax + 1), cmin);
            s.k2 = (int64_t)fmin(fmax(ht, cmin - 1), cmax);
            s.c = node_const(m, fx_quant_double(nd->alpha, res));
            s.sb = node_const(m, fx_quant_double(nd->beta, res));
            s.w = res.w;
            s.sign = res.sign;
            s.lo = (double)fx_type_min(res);
            s.hi = (double)fx_type_max(res);
            y = add_node(m, s);
            break;
        }
        case OP_THRESHOLD: {
            /* binary: x < t ? -1 : 1;  ternary: x <= lo ? -1 : x > hi ? 1 : 0 (hi checked first, as hls4ml: when
             * wrapped thresholds give hi < lo, every x <= hi is 1 and the rest -1) */
            const int64_t *hi = g->t[nd->in[1]].codes, *lo = nd->in[2] >= 0 ? g->t[nd->in[2]].codes : NULL;
            int64_t cmin = fx_type_min(x->type), cmax = fx_type_max(x->type);
            RtlNode s = blank(RN_CLIP);
            s.a = xi;
            s.c = node_const(m, -1);
            s.sb = node_const(m, 1);
            if (!lo || hi[e] < lo[e]) {
                s.k = hi[e] + (lo ? 1 : 0);     /* x < k: -1 (binary x >= t is 1; ternary x > hi is 1) */
                s.k2 = cmax;
                s.b = s.sb;
            } else {
                s.k = lo[e] + 1;
                s.k2 = hi[e];
                s.b = node_const(m, 0);
            }
            s.k = s.k < cmin ? cmin : s.k > cmax + 1 ? cmax + 1 : s.k;
            s.k2 = s.k2 < cmin - 1 ? cmin - 1 : s.k2 > cmax ? cmax : s.k2;
            s.w = res.w;
            s.sign = res.sign;
            s.lo = -1;
            s.hi = 1;
            y = add_node(m, s);
            break;
        }
        default:
            return diag_error(d, "%s: node '%s' (%s): the Verilog back end does not support %s yet", g->file, nd->name,
                              nd->src_op, op_names[nd->op]);
        }
        m->out[e] = y;
    }
    return 0;
}

/* ---- scheduling ------------------------------------------------------------ */

static double node_delay(const RtlModule *m, const RtlNode *n)
{
    switch (n->op) {
    case RN_IN:
    case RN_CONST:
    case RN_SHR:
        return 0;
    case RN_ADD:
        return 0.6 + 0.025 * n->w;
    case RN_CAST: {
        /* truncation and wrapping are wiring; rounding is an increment;
         * saturation a range check and a multiplexer */
        int rounds = n->to.q != FXQ_TRN && n->fa > fx_frac(n->to);
        return (rounds ? 0.6 + 0.025 * n->w : 0) + (n->to.o == FXO_WRAP ? 0 : 0.5 + 0.01 * m->n[n->a].w);
    }
    case RN_SEL:
        return 0.5 + 0.02 * n->w;
    case RN_CLIP:
        return 1.0 + 0.03 * m->n[n->a].w;
    case RN_ROM:
        return 0.6 + 0.1 * m->rom[n->rom].aw + (m->rom[n->rom].hls_index ? 0.6 + 0.025 * m->n[n->a].w : 0.4);
    case RN_MUL:
        return n->b >= 0 ? 3.0 : 2.5;
    case RN_MAX:
        return 0.8 + 0.025 * n->w;
    }
    return 1.0;
}

static void schedule(RtlModule *m, double budget)
{
    for (size_t i = 0; i < m->nn; i++) {
        RtlNode *n = &m->n[i];
        int ops[3] = {n->a, n->b, n->c};
        int st = 0;
        double t = n->op == RN_IN ? m->in_t : 0;   /* inputs may arrive late from the previous layer */
        if (n->op == RN_CLIP && n->sb >= 0)
            ops[2] = n->c;  /* sb holds a constant node too: constants are free */
        for (int k = 0; k < 3; k++) {
            if (ops[k] < 0 || n->op == RN_IN || n->op == RN_CONST)
                continue;
            const RtlNode *o = &m->n[ops[k]];
            if (o->stage > st) {
                st = o->stage;
                t = o->t;
            } else if (o->stage == st && o->t > t) {
                t = o->t;
            }
        }
        double dl = node_delay(m, n);
        if (dl > 0 && t > 0 && t + dl > budget) {
            st++;
            t = 0;
        }
        n->stage = st;
        n->t = t + dl;
    }
    /* outputs leave in the last stage, unregistered: the next layer continues
     * the same stage, so registers go where time runs out, not at layer ends */
    int last = 0;
    for (long e = 0; e < m->nout; e++)
        if (m->n[m->out[e]].stage > last)
            last = m->n[m->out[e]].stage;
    m->latency = last;
    m->out_t = 0;
    for (long e = 0; e < m->nout; e++) {
        const RtlNode *o = &m->n[m->out[e]];
        if (o->stage == last && o->t > m->out_t)
            m->out_t = o->t;
    }
    /* how many delayed copies each node needs */
    for (size_t i = 0; i < m->nn; i++) {
        RtlNode *n = &m->n[i];
        int ops[4] = {n->a, n->b, n->c, n->op == RN_CLIP ? n->sb : -1};
        if (n->op == RN_IN || n->op == RN_CONST)
            continue;
        for (int k = 0; k < 4; k++) {
            if (ops[k] < 0)
                continue;
            RtlNode *o = &m->n[ops[k]];
            int need = n->stage - o->stage;
            if (o->op != RN_CONST && need > o->maxdelay)
                o->maxdelay = need;
        }
    }
    for (long e = 0; e < m->nout; e++) {
        RtlNode *o = &m->n[m->out[e]];
        int need = m->latency - o->stage;
        if (o->op != RN_CONST && need > o->maxdelay)
            o->maxdelay = need;
    }
}

/* Resource estimate in 7-series LUT6/FF terms, calibrated against Yosys
 * synth_xilinx (bench/ESTIMATE.md).  Only nodes that reach an output count.
 * An adder costs one LUT per result bit that needs the carry chain: the low
 * bits that come from one operand only (the other is shifted left past them,
 * or is a constant with trailing zeros) are wires.  Registers hold only the
 * bits that can change (a relu's sign bit is always 0). */
static int trailing_zeros(int64_t v)
{
    int z = 0;
    if (!v)
        return 64;
    while (!(v & 1) && z < 63) {
        v >>= 1;
        z++;
    }
    return z;
}

/* LUTs per adder bit on the carry chain: Yosys packs some of the propagate
 * logic of narrow operands and sign extensions together (fitted on the
 * shared MLPs, bench/ESTIMATE.md). */
#define ADDER_LUT_PER_BIT 0.77

static void need_bits(int *need, const RtlNode *nodes, int op, int bits)
{
    if (op < 0)
        return;
    if (bits > nodes[op].w)
        bits = nodes[op].w;
    if (bits > need[op])
        need[op] = bits;
}

static void estimate(RtlModule *m)
{
    double lut = 0, ff = 0;
    /* need[i]: how many low bits of node i some reader uses (0: none) */
    int *need = calloc(m->nn ? m->nn : 1, sizeof(int));
    if (!need) {
        m->lut = m->ff = 0;
        return;
    }
    for (long e = 0; e < m->nout; e++)
        need[m->out[e]] = m->n[m->out[e]].w;
    for (size_t i = m->nn; i-- > 0;) {
        const RtlNode *n = &m->n[i];
        int u = need[i];
        if (!u || n->op == RN_IN || n->op == RN_CONST)
            continue;
        switch (n->op) {
        case RN_ADD:   /* low result bits depend on low operand bits only */
            need_bits(need, m->n, n->a, u - n->sa);
            need_bits(need, m->n, n->b, u - n->sb);
            break;
        case RN_SHR:
            need_bits(need, m->n, n->a, u + n->sa);
            break;
        case RN_CAST:
            if (n->to.o == FXO_WRAP && n->to.q == FXQ_TRN)
                need_bits(need, m->n, n->a, n->fa - fx_frac(n->to) + u);
            else
                need_bits(need, m->n, n->a, m->n[n->a].w);
            break;
        case RN_SEL:
            need_bits(need, m->n, n->a, m->n[n->a].w);
            need_bits(need, m->n, n->b, u);
            need_bits(need, m->n, n->c, u);
            break;
        default: {
            int ops[4] = {n->a, n->b, n->c, n->op == RN_CLIP ? n->sb : -1};
            for (int k = 0; k < 4; k++)
                if (ops[k] >= 0)
                    need_bits(need, m->n, ops[k], m->n[ops[k]].w);
            break;
        }
        }
    }
    for (size_t i = 0; i < m->nn; i++) {
        const RtlNode *n = &m->n[i];
        int bits = need[i];   /* bits kept: unused high bits are trimmed by synthesis */
        if (!bits)
            continue;
        switch (n->op) {
        case RN_ADD: {
            const RtlNode *a = &m->n[n->a], *b = &m->n[n->b];
            int za = n->sa + (a->op == RN_CONST ? trailing_zeros(a->k) : 0);
            int zb = n->sb + (b->op == RN_CONST ? trailing_zeros(b->k) : 0);
            int pass;
            if (n->sub)
                pass = zb;                     /* a - (b << zb): bits below zb are a's */
            else
                pass = za > zb ? za : zb;      /* bits below the larger shift come from one side */
            if ((a->op == RN_CONST && a->k == 0 && !n->sub) || (b->op == RN_CONST && b->k == 0 && !n->sub))
                pass = bits;                   /* a shift */
            if (pass < bits)
                lut += ADDER_LUT_PER_BIT * (bits - pass);
            break;
        }
        case RN_CAST:
            lut += n->to.o == FXO_WRAP ? (n->to.q == FXQ_TRN ? 0 : n->w) : 1.5 * n->w;
            break;
        case RN_SEL:
            if (n->c < 0) {
                /* relu: the test of the sign drives the registers' synchronous
                 * reset; the sign bit is always 0 */
                if (n->sign && bits == n->w)
                    bits = n->w - 1;
                lut += n->maxdelay > 0 ? 1 : bits;
            } else {
                lut += bits;
            }
            break;
        case RN_MAX:
            lut += n->w;
            break;
        case RN_CLIP:
            lut += 2.0 * n->w;
            break;
        case RN_ROM: {
            const RtlRom *r = &m->rom[n->rom];
            double words = (double)r->n;
            lut += r->dw * (words <= 64 ? 1.0 : words / 64.0 * 1.3);
            if (r->hls_index)
                lut += m->n[n->a].w;
            break;
        }
        case RN_MUL:
        case RN_IN:
        case RN_CONST:
        case RN_SHR:
            break;
        }
        if (n->op == RN_CAST && n->to.o == FXO_WRAP && n->to.q == FXQ_TRN) {
            /* sign copies are one register (merged by synthesis) */
            int sh = n->fa - fx_frac(n->to), sg;
            double lo = floor(ldexp(m->n[n->a].lo, -sh)), hi = floor(ldexp(m->n[n->a].hi, -sh));
            int wr = width_of(lo, hi, &sg);
            if (lo >= (double)fx_type_min(n->to) && hi <= (double)fx_type_max(n->to) && wr < bits)
                bits = wr;
        }
        int delays = n->maxdelay;
        int slice = n->op == RN_SHR || (n->op == RN_CAST && n->to.o == FXO_WRAP && n->to.q == FXQ_TRN);
        if (n->op == RN_ADD && !n->sub && m->n[n->b].op == RN_CONST && m->n[n->b].k == 0)
            slice = 1;                        /* a shift */
        if (slice)
            delays -= m->n[n->a].maxdelay;   /* registers shared with its source */
        if (n->op != RN_CONST && delays > 0)
            ff += (double)bits * delays;
    }
    free(need);
    m->lut = lut;
    m->ff = ff;
}

/* ---- the whole graph -------------------------------------------------------- */

/* Which elements of each tensor some graph output depends on.  A quantizer's pruned element (type
 * width 0) needs nothing of its input; elementwise layers need the same element of their input;
 * every other layer, if any of its outputs is needed, all of its inputs.  Dead elements are built
 * as constant 0 (they are never observed). */
static unsigned char **element_liveness(Arena *a, const Graph *g)
{
    unsigned char **live = arena_array(a, g->nt, sizeof(unsigned char *));
    for (size_t t = 0; t < g->nt; t++)
        if (!g->t[t].is_const)
            live[t] = arena_array(a, (size_t)(ir_numel(&g->t[t]) ? ir_numel(&g->t[t]) : 1), 1);
    for (size_t k = 0; k < g->noutputs; k++)
        memset(live[g->outputs[k]], 1, (size_t)ir_numel(&g->t[g->outputs[k]]));
    for (size_t k = g->nn; k-- > 0;) {
        const Node *n = &g->n[k];
        if (n->dead || n->op == OP_INPUT)
            continue;
        long no = ir_numel(&g->t[n->out]);
        const unsigned char *lo = live[n->out];
        int elementwise = n->op == OP_QUANT || n->op == OP_RELU || n->op == OP_LEAKYRELU || n->op == OP_CLIP ||
                          n->op == OP_SIGMOID || n->op == OP_TANH || n->op == OP_RESHAPE || n->op == OP_AFFINE;
        if (elementwise && ir_numel(&g->t[n->in[0]]) == no) {
            unsigned char *li = live[n->in[0]];
            for (long e = 0; e < no; e++)
                li[e] |= lo[e] && (n->op != OP_QUANT || ir_quant_elem(n, e).w > 0);
            continue;
        }
        int any = 0;
        for (long e = 0; e < no && !any; e++)
            any = lo[e];
        for (int j = 0; j < n->nin && any; j++)
            if (n->in[j] >= 0 && live[n->in[j]])
                memset(live[n->in[j]], 1, (size_t)ir_numel(&g->t[n->in[j]]));
    }
    return live;
}

int rtl_build(Rtl *r, const Graph *g, const RtlOptions *opt, Diag *d)
{
    memset(r, 0, sizeof(*r));
    r->g = g;
    r->opt = *opt;
    if (opt->clock_mhz <= 0 || opt->clock_mhz > 2000)
        return diag_error(d, "--clock-mhz: expected a clock between 0 and 2000 MHz, got %g", opt->clock_mhz);
    r->budget_ns = 1000.0 / opt->clock_mhz - 0.8;
    if (r->budget_ns < 0.5)
        r->budget_ns = 0.5;
    if (g->ninputs != 1 || g->noutputs != 1)
        return diag_error(d, "%s: expected one input and one output for RTL, got %zu and %zu", g->file, g->ninputs,
                          g->noutputs);
    char id[NAMES_IDENT_SIZE];
    r->top = arena_strdup(&r->arena, names_design(id, sizeof id, g->name));
    r->m = arena_array(&r->arena, g->nn, sizeof(RtlModule));
    r->tensor_cycle = arena_array(&r->arena, g->nt, sizeof(int));
    for (size_t t = 0; t < g->nt; t++)
        r->tensor_cycle[t] = -1;
    r->tensor_cycle[g->inputs[0]] = 1;  /* the top registers its input */
    r->tensor_t = arena_array(&r->arena, g->nt, sizeof(double));
    int *fused_into = arena_array(&r->arena, g->nn, sizeof(int));
    unsigned char **live = opt->all_live ? NULL : element_liveness(&r->arena, g);
    for (size_t k = 0; k < g->nn; k++)
        fused_into[k] = -1;
    for (size_t k = 0; k < g->nn; k++)
        if (!g->n[k].dead && g->n[k].fused_relu >= 0)
            fused_into[g->n[k].fused_relu] = (int)k;
    for (size_t k = 0; k < g->nn; k++) {
        const Node *nd = &g->n[k];
        if (nd->dead || nd->op == OP_INPUT || fused_into[k] >= 0)
            continue;
        if (nd->op == OP_RESHAPE) {
            r->tensor_cycle[nd->out] = r->tensor_cycle[nd->in[0]];
            r->tensor_t[nd->out] = r->tensor_t[nd->in[0]];
            continue;
        }
        RtlModule *m = &r->m[r->nm];
        memset(m, 0, sizeof(*m));
        m->node = (int)k;
        m->ports = ir_is_merge_op(nd->op) || nd->op == OP_CONCAT ? 2 : 1;
        m->in_tensor[0] = nd->in[0];
        m->in_tensor[1] = m->ports == 2 ? nd->in[1] : -1;
        m->out_tensor = nd->out;
        for (int p = 0; p < m->ports; p++) {
            int t = m->in_tensor[p];
            while (g->t[t].producer >= 0 && g->n[g->t[t].producer].op == OP_RESHAPE)
                t = g->n[g->t[t].producer].in[0];
            m->in_quant[p] = g->t[t].producer >= 0 && g->n[g->t[t].producer].op == OP_QUANT ? &g->n[g->t[t].producer] : NULL;
        }
        const Node *relu = nd->fused_relu >= 0 ? &g->n[nd->fused_relu] : NULL;
        if (relu)
            m->out_tensor = relu->out;
        m->live = live ? live[m->out_tensor] : NULL;
        /* TOP_LAYER, never a keyword (a model "always" with a layer "comb") */
        m->name = arena_strdup(&r->arena, names_v_ident(id, sizeof id, arena_printf(&r->arena, "%s_%s", r->top, nd->name)));
        for (int suffix = 1, clash = 1; clash; suffix++) {   /* unique even if two names map to one identifier */
            clash = 0;
            for (size_t j = 0; j < r->nm && !clash; j++)
                clash = !strcmp(r->m[j].name, m->name);
            if (clash)
                m->name = arena_printf(&r->arena, "%s_%d", id, suffix);
        }
        int rc;
        switch (nd->op) {
        case OP_DENSE: rc = build_dense(r, m, d, nd, relu); break;
        case OP_AFFINE: rc = build_affine(r, m, nd); break;
        case OP_CONV1D:
        case OP_CONV2D: rc = build_conv(r, m, nd, relu); break;
        case OP_MAXPOOL1D:
        case OP_MAXPOOL2D:
        case OP_AVGPOOL1D:
        case OP_AVGPOOL2D: rc = build_pool(r, m, d, nd); break;
        case OP_PAD:
        case OP_UPSAMPLE:
        case OP_TRANSPOSE:
        case OP_CONCAT: rc = build_gather(r, m, nd); break;
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_AVERAGE:
        case OP_MAXIMUM:
        case OP_MINIMUM: rc = build_merge(r, m, nd); break;
        case OP_SIGMOID:
        case OP_TANH:
        case OP_SELU: rc = build_unary_table(r, m, d, nd); break;
        case OP_SOFTMAX: rc = build_softmax(r, m, d, nd); break;
        default: rc = build_elementwise(r, m, d, nd); break;
        }
        if (rc < 0) {
            r->nm++;   /* its nodes and ROMs are freed with the others */
            rtl_free(r);
            return -1;
        }
        /* the operands meet in the later one's cycle; an earlier one is
         * delayed by registers and arrives at the start of that cycle */
        int c = r->tensor_cycle[m->in_tensor[0]];
        if (m->ports == 2 && r->tensor_cycle[m->in_tensor[1]] > c)
            c = r->tensor_cycle[m->in_tensor[1]];
        m->in_t = 0;
        for (int p = 0; p < m->ports; p++)
            if (r->tensor_cycle[m->in_tensor[p]] == c && r->tensor_t[m->in_tensor[p]] > m->in_t)
                m->in_t = r->tensor_t[m->in_tensor[p]];
        schedule(m, r->budget_ns);
        estimate(m);
        r->tensor_cycle[m->out_tensor] = c + m->latency;
        r->tensor_t[m->out_tensor] = m->latency ? m->out_t : (m->out_t > m->in_t ? m->out_t : m->in_t);
        if (relu)
            r->tensor_cycle[nd->out] = -1;
        r->nm++;
    }
    r->latency = r->tensor_cycle[g->outputs[0]] + 1;   /* the top registers its output */
    return 0;
}

void rtl_free(Rtl *r)
{
    for (size_t k = 0; k < r->nm; k++) {
        free(r->m[k].n);
        free(r->m[k].rom);
    }
    arena_free(&r->arena);
    memset(r, 0, sizeof(*r));
}
