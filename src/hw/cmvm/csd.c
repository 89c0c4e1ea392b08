/* csd.c — the constant-matrix core by canonical signed digits: each product
 * x * c is shift-and-add over c's signed digits, built once per input and
 * constant (odd part) and shared by every output; exact products are
 * flattened into digits and the most frequent pairs shared (greedy CSE here,
 * or cse.c's depth-bounded one where it needs no more adders and no more
 * depth); each output's summands are summed shallowest first. */
#include "hw/cmvm/cmvm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


int cmvm_csd_digits(int64_t c, int *digit, int *pos, int max)
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

/* a + b as one summand (a positive summand first, so the result is rarely negated) */
static CmvmTerm add_terms(HwModule *m, CmvmTerm a, CmvmTerm b, int cap)
{
    if (a.neg && !b.neg) {
        CmvmTerm tmp = a;
        a = b;
        b = tmp;
    }
    int sh = a.shift < b.shift ? a.shift : b.shift;
    CmvmTerm r;
    r.node = hw_add(m, a.node, a.shift - sh, b.node, b.shift - sh, a.neg != b.neg, cap > 0 ? cap - sh : 0);
    r.shift = sh;
    r.neg = a.neg && b.neg;
    return r;
}

/* Sum terms in a balanced tree; returns one term.  cap as in node_add. */
CmvmTerm cmvm_sum(HwModule *m, CmvmTerm *t, int n, int cap)
{
    while (n > 1) {
        int w = 0;
        for (int i = 0; i + 1 < n; i += 2)
            t[w++] = add_terms(m, t[i], t[i + 1], cap);
        if (n & 1)
            t[w++] = t[n - 1];
        n = w;
    }
    return t[0];
}

int cmvm_const_mult(HwModule *m, int x, int64_t c, int dsp)
{
    if (c == 1)
        return x;
    if (dsp) {
        HwNode n = hw_node_blank(HW_MUL);
        n.a = x;
        n.k = c;
        double p1 = m->n[x].lo * (double)c, p2 = m->n[x].hi * (double)c;
        n.lo = fmin(p1, p2);
        n.hi = fmax(p1, p2);
        n.w = hw_width(n.lo, n.hi, &n.sign);
        m->dsp++;
        return hw_node_push(m, n);
    }
    int dig[64], pos[64];
    int nd = cmvm_csd_digits(c, dig, pos, 64);
    CmvmTerm t[64];
    for (int i = 0; i < nd; i++) {
        t[i].node = x;
        t[i].shift = pos[i];
        t[i].neg = dig[i] < 0;
    }
    /* put a positive digit first so the tree rarely needs a final negation */
    for (int i = 1; i < nd; i++)
        if (t[0].neg && !t[i].neg) {
            CmvmTerm tmp = t[0];
            t[0] = t[i];
            t[i] = tmp;
        }
    CmvmTerm r = cmvm_sum(m, t, nd, 0);
    if (r.neg) {
        int z = hw_const(m, 0);
        return hw_add(m, z, 0, r.node, r.shift, 1, 0);
    }
    if (r.shift) {
        /* a pure shift: express as x*1 << s through an adder-free node */
        int z = hw_const(m, 0);
        m->adders--;   /* adding a shifted value to constant 0 is wiring */
        return hw_add(m, r.node, r.shift, z, 0, 0, 0);
    }
    return r.node;
}

int cmvm_csd_count(int64_t c)
{
    int dig[64], pos[64];
    return cmvm_csd_digits(c, dig, pos, 64);
}

/* Shared products: per input, x * c for each constant (odd part) used, in a
 * hash table (open addressing over indices into the entries). Keys are unique:
 * an entry is only put after a find failed. */
typedef struct {
    int input;     /* identity of the input */
    int64_t c;     /* the constant (odd part) */
    int kind;      /* 0: x*c;  1: floor(x*c / 2^k);  2: quantized with mode */
    int k;         /* bits dropped (kinds 1, 2) */
    int node;      /* the product */
    size_t slot;   /* where the table holds this entry */
} ProdKey;

struct CmvmCache {
    ProdKey *v;    /* entries */
    size_t n, cap; /* entries, capacity */
    int *tab;      /* entry index, or -1; size tcap (a power of two), at most half full */
    size_t tcap;   /* slots */
};

static size_t prod_slot(const CmvmCache *pc, int input, int64_t c, int kind, int k)
{
    uint64_t h = (uint64_t)c * UINT64_C(0x9e3779b97f4a7c15);
    h ^= ((uint64_t)(uint32_t)input << 20) ^ ((uint64_t)(uint32_t)kind << 8) ^ (uint64_t)(uint32_t)k;
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    return (size_t)h & (pc->tcap - 1);
}

static int cache_find(CmvmCache *pc, int input, int64_t c, int kind, int k)
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

static void cache_insert_slot(CmvmCache *pc, size_t e)
{
    const ProdKey *q = &pc->v[e];
    size_t h = prod_slot(pc, q->input, q->c, q->kind, q->k);
    while (pc->tab[h] >= 0)
        h = (h + 1) & (pc->tcap - 1);
    pc->tab[h] = (int)e;
    pc->v[e].slot = h;
}

static void cache_put(CmvmCache *pc, int input, int64_t c, int kind, int k, int node)
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
static void cache_clear(CmvmCache *pc)
{
    for (size_t e = 0; e < pc->n; e++)
        pc->tab[pc->v[e].slot] = -1;
    pc->n = 0;
}

static void cache_free(CmvmCache *pc)
{
    free(pc->v);
    free(pc->tab);
}

int cmvm_use_dsp(MultMode mult, int wx, int64_t c)
{
    if (mult == MULT_DSP)
        return 1;
    if (mult == MULT_CSD)
        return 0;
    return cmvm_csd_count(c) > 3 && wx >= 10;   /* auto: wide inputs times dense constants */
}


/* The product term x_i * c floored to the accumulator LSB (pd = frac bits to drop). */
static CmvmTerm product_term(MultMode mult, HwModule *m, CmvmCache *pc, int input, int x, int64_t c, int pd, FxType acc)
{
    CmvmTerm t = {-1, 0, 0};
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
            node = cmvm_const_mult(m, x, mag, cmvm_use_dsp(mult, wx, mag));
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
            p = cmvm_const_mult(m, x, odd, cmvm_use_dsp(mult, wx, odd));
            cache_put(pc, input, odd, 0, 0, p);
        }
        if (kind == 1) {
            node = hw_shr(m, p, k);
        } else {
            /* round to the accumulator LSB with its mode, no overflow (wide WRAP) */
            FxType wide = {(int16_t)(m->n[p].w + 1 - k > 1 ? m->n[p].w + 1 - k : 2), 0, 1, acc.q, FXO_WRAP};
            wide.i = wide.w;  /* frac 0 at the accumulator LSB */
            node = hw_cast(m, p, k, wide);
        }
        cache_put(pc, input, odd, kind, k, node);
    }
    t.node = node;
    return t;
}


/* ---- common subexpressions of an exact constant matrix-vector product ---- */

typedef struct {
    uint64_t key;  /* a pattern (pair_key) */
    int count;     /* its occurrences */
} PairCount;

/* A pair of terms as a pattern: (p << da) +/- (q << db) with min(da, db) = 0.
 * Returns 0 when the pair cannot be a pattern (shift difference too large). */
int cmvm_pair_key(CmvmTerm p, CmvmTerm q, uint64_t *key, int *base, int *neg)
{
    if (q.node < p.node || (q.node == p.node && q.shift < p.shift)) {
        CmvmTerm t = p;
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

size_t cmvm_key_slot(const uint64_t *keys, uint64_t key, size_t mask)
{
    uint64_t k = key;
    k ^= k >> 29;
    k *= UINT64_C(0xbf58476d1ce4e5b9);
    k ^= k >> 32;
    size_t h = (size_t)k & mask;
    while (keys[h] && keys[h] != key)
        h = (h + 1) & mask;
    return h;
}

/* Greedy two-term common subexpression elimination across all outputs: the
 * most frequent pair (same signals, same relative shift and sign) becomes one
 * adder shared by every output that uses it; repeat until no pair repeats. */
/* Sort pattern keys (below 2^56) in place, least significant byte first; tmp holds n keys. */
void cmvm_sort_keys(uint64_t *k, uint64_t *tmp, size_t n)
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

static void cse_terms(CmvmPlan *pl, CmvmTermList *lists, long nl)
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
                    if (cmvm_pair_key(lists[l].t[i], lists[l].t[j], &key, &base, &neg))
                        keys[nk++] = key;
                }
        if (nk)
            cmvm_sort_keys(keys, tmp, nk);
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
            size_t h = cmvm_key_slot(skey, map[c].key, smask);
            skey[h] = map[c].key;
            snode[h] = -1;
        }
        int applied = 0;
        for (long l = 0; l < nl; l++) {
            CmvmTermList *tl = &lists[l];
            for (int i = 0; i < tl->n; i++)
                for (int j = i + 1; j < tl->n; j++) {
                    uint64_t key;
                    int base, neg;
                    if (!cmvm_pair_key(tl->t[i], tl->t[j], &key, &base, &neg))
                        continue;
                    size_t h = cmvm_key_slot(skey, key, smask);
                    if (!skey[h])
                        continue;
                    if (snode[h] < 0) {
                        int a = (int)(key & 0x1fffff), b = (int)((key >> 21) & 0x1fffff);
                        int da = (int)((key >> 42) & 31), db = (int)((key >> 47) & 31), rel = (int)((key >> 52) & 1);
                        snode[h] = cmvm_plan_add(pl, a, da, b, db, rel);
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

/* Above this many summand pairs per solve (summed over outputs) only the
 * unbounded greedy runs: the bounded one takes several times its rounds
 * (qkeras_mnist_cnn's second convolution: 121 solves of ~390k pairs). */
#define CSE_BOUNDED_PAIRS ((size_t)1 << 18)

/* The adders of a plan and its output trees, and the deepest output. */
static long plan_cost(const CmvmPlan *pl, const CmvmTermList *lists, long nl, const unsigned char *bias, int *depth)
{
    long n = (long)pl->n;
    *depth = 0;
    for (long l = 0; l < nl; l++) {
        int b = bias && bias[l] && lists[l].n;
        n += lists[l].n + b > 1 ? lists[l].n + b - 1 : 0;
        int d = cmvm_sum_depth(pl, &lists[l], b);
        *depth = d > *depth ? d : *depth;
    }
    return n;
}

/* Common subexpressions of the flattened digits: the unbounded greedy
 * (cse_terms), the depth-bounded one (cse.c, bound: the deepest output
 * without sharing) and the one-pattern-at-a-time search (wcse.c, same bound)
 * all planned (small solves); the bounded one is taken where it needs no more
 * adders and no more depth than the unbounded one, the search where it needs
 * fewer adders and no more depth than that.  Returns 0 (unbounded), 1
 * (bounded) or 2 (search). */
static int cse_choose(HwModule *m, CmvmTermList *lists, long nl, const unsigned char *bias)
{
    size_t pairs = 0;
    for (long l = 0; l < nl; l++)
        pairs += (size_t)lists[l].n * (size_t)(lists[l].n > 0 ? lists[l].n - 1 : 0) / 2;
    if (pairs > CSE_BOUNDED_PAIRS) {
        /* too large for the bounded search's many rounds: the unbounded greedy alone */
        CmvmPlan pg = {NULL, 0, 0, (int)m->nn};
        cse_terms(&pg, lists, nl);
        for (size_t k = 0; k < pg.n; k++)
            hw_add(m, pg.v[k].a, pg.v[k].sa, pg.v[k].b, pg.v[k].sb, pg.v[k].sub, 0);
        free(pg.v);
        return 0;
    }
    CmvmTermList *alt = malloc(sizeof *alt * (size_t)(nl ? nl : 1));
    if (!alt)
        abort();
    for (long l = 0; l < nl; l++) {
        alt[l].n = alt[l].cap = lists[l].n;
        alt[l].t = malloc(sizeof(CmvmTerm) * (size_t)(lists[l].n ? lists[l].n : 1));
        if (!alt[l].t)
            abort();
        if (lists[l].n)
            memcpy(alt[l].t, lists[l].t, sizeof(CmvmTerm) * (size_t)lists[l].n);
    }
    CmvmTermList *orig = malloc(sizeof *orig * (size_t)(nl ? nl : 1));
    if (!orig)
        abort();
    for (long l = 0; l < nl; l++) {
        orig[l].n = orig[l].cap = lists[l].n;
        orig[l].t = malloc(sizeof(CmvmTerm) * (size_t)(lists[l].n ? lists[l].n : 1));
        if (!orig[l].t)
            abort();
        if (lists[l].n)
            memcpy(orig[l].t, lists[l].t, sizeof(CmvmTerm) * (size_t)lists[l].n);
    }
    CmvmPlan pg = {NULL, 0, 0, (int)m->nn}, pb = pg;
    int d0;
    plan_cost(&pg, lists, nl, bias, &d0);
    cse_terms(&pg, lists, nl);
    cmvm_cse_bounded(&pb, alt, nl, bias, d0);
    int dg, db;
    long ng = plan_cost(&pg, lists, nl, bias, &dg), nb = plan_cost(&pb, alt, nl, bias, &db);
    const CmvmPlan *pl = &pg;
    int bounded = nb <= ng && db <= dg;
    if (bounded) {
        for (long l = 0; l < nl; l++) {
            CmvmTermList t = lists[l];
            lists[l] = alt[l];
            alt[l] = t;
        }
        pl = &pb;
    }
    /* the one-pattern-at-a-time search (wcse.c, same bound) where it needs fewer adders and no more depth */
    CmvmPlan pw = {NULL, 0, 0, (int)m->nn};
    for (long l = 0; l < nl; l++) {
        size_t c2 = (size_t)alt[l].cap;
        alt[l].t = vec_grow(alt[l].t, &c2, (size_t)orig[l].n + 1, sizeof(CmvmTerm));
        alt[l].cap = (int)c2;
        alt[l].n = orig[l].n;
        if (orig[l].n)
            memcpy(alt[l].t, orig[l].t, sizeof(CmvmTerm) * (size_t)orig[l].n);
    }
    cmvm_cse_search(&pw, alt, nl, bias, d0);
    int dw;
    long nw = plan_cost(&pw, alt, nl, bias, &dw);
    if (nw < (bounded ? nb : ng) && dw <= (bounded ? db : dg)) {
        for (long l = 0; l < nl; l++) {
            CmvmTermList t = lists[l];
            lists[l] = alt[l];
            alt[l] = t;
        }
        pl = &pw;
        bounded = 2;
    }
    for (size_t k = 0; k < pl->n; k++) {
        const CmvmAdd *a = &pl->v[k];
        hw_add(m, a->a, a->sa, a->b, a->sb, a->sub, 0);   /* node pl->base + k */
    }
    for (long l = 0; l < nl; l++) {
        free(alt[l].t);
        free(orig[l].t);
    }
    free(alt);
    free(orig);
    free(pg.v);
    free(pb.v);
    free(pw.v);
    return bounded;
}

/* ---- the solver -------------------------------------------------------------- */

void cmvm_init(Cmvm *c)
{
    memset(c, 0, sizeof *c);
    c->products = calloc(1, sizeof(CmvmCache));
    if (!c->products)
        abort();
}

void cmvm_forget(Cmvm *c)
{
    cache_clear(c->products);
}

void cmvm_free(Cmvm *c)
{
    for (long o = 0; o < c->nlists; o++)
        free(c->lists[o].t);
    free(c->lists);
    if (c->products)
        cache_free(c->products);
    free(c->products);
    free(c->depth);
    memset(c, 0, sizeof *c);
}

void cmvm_csd_solve(Cmvm *c, HwModule *m, const CmvmProblem *p)
{
    long nin = p->nin, nout = p->nout;
    int pd = p->pd;
    int cap = p->acc.o == FXO_WRAP ? p->acc.w : 0;
    /* Exact products (no bit below the accumulator's LSB) may be regrouped
     * freely: flatten them into signed digits and share across outputs. */
    int flat = pd <= 0 && p->mult == MULT_CSD;
    if (c->nlists < nout) {
        c->lists = realloc(c->lists, sizeof(CmvmTermList) * (size_t)nout);
        if (!c->lists)
            abort();
        memset(c->lists + c->nlists, 0, sizeof(CmvmTermList) * (size_t)(nout - c->nlists));
        c->nlists = nout;
    }
    CmvmTermList *lists = c->lists;
    for (long o = 0; o < nout; o++) {
        CmvmTermList *tl = &lists[o];
        tl->n = 0;
        if (p->live && !p->live[o])
            continue;   /* never observed: constant 0 */
        for (long i = 0; i < nin; i++) {
            int64_t w = p->w[i * nout + o];
            if (!w || p->x[i] < 0)
                continue;
            m->adders_naive += cmvm_csd_count(w);   /* digits - 1 inside, + 1 into the sum */
            if (flat) {
                int dig[64], pos[64];
                int nd2 = cmvm_csd_digits(w, dig, pos, 64);
                for (int k = 0; k < nd2; k++) {
                    CmvmTerm t = {p->x[i], pos[k] - pd, dig[k] < 0};
                    if (cap > 0 && t.shift >= cap)
                        continue;
                    size_t c2 = (size_t)tl->cap;
                    tl->t = vec_grow(tl->t, &c2, (size_t)tl->n + 2, sizeof(CmvmTerm));
                    tl->cap = (int)c2;
                    tl->t[tl->n++] = t;
                }
                continue;
            }
            CmvmTerm t = product_term(p->mult, m, c->products, (int)p->xid[i], p->x[i], w, pd, p->acc);
            if (cap > 0 && t.shift >= cap)
                continue;   /* contributes 0 modulo 2^W */
            size_t c2 = (size_t)tl->cap;
            tl->t = vec_grow(tl->t, &c2, (size_t)tl->n + 2, sizeof(CmvmTerm));
            tl->cap = (int)c2;
            tl->t[tl->n++] = t;
        }
        m->adders_naive -= 1;
    }
    if (flat) {
        int kind = cse_choose(m, lists, nout, p->bias);
        if (kind == 2)
            c->cse_search++;
        else if (kind)
            c->cse_bounded++;
        else
            c->cse_greedy++;
    }
}

/* The adder depth of node `node` (adders on its longest path from the module's inputs). */
static int node_depth(Cmvm *c, const HwModule *m, int node)
{
    if (c->ndepth < m->nn) {
        c->depth = vec_grow(c->depth, &c->cdepth, m->nn, sizeof(int));
        for (size_t i = c->ndepth; i < m->nn; i++) {
            const HwNode *n = &m->n[i];
            int d = 0;
            if (n->op != HW_IN && n->op != HW_CONST) {
                int ops[3] = {n->a, n->b, n->c};
                for (int k = 0; k < 3; k++)
                    if (ops[k] >= 0 && (size_t)ops[k] < i && c->depth[ops[k]] > d)
                        d = c->depth[ops[k]];
            }
            c->depth[i] = d + (n->op == HW_ADD);
        }
        c->ndepth = m->nn;
    }
    return c->depth[node];
}

typedef struct {
    CmvmTerm t;
    int depth, order;
} DepthTerm;

static int depth_cmp(const void *x, const void *y)
{
    const DepthTerm *a = x, *b = y;
    if (a->depth != b->depth)
        return a->depth < b->depth ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* Sum n summands, the two shallowest first (two queues: the sorted summands
 * and the sums, whose depths never decrease), so the sum is as shallow as
 * their depths allow. */
static CmvmTerm sum_by_depth(Cmvm *c, HwModule *m, const CmvmTerm *t, int n, int cap)
{
    DepthTerm *q = malloc(sizeof *q * (size_t)(2 * n));
    if (!q)
        abort();
    for (int i = 0; i < n; i++) {
        q[i].t = t[i];
        q[i].depth = node_depth(c, m, t[i].node);
        q[i].order = i;
    }
    qsort(q, (size_t)n, sizeof *q, depth_cmp);
    DepthTerm *s = q + n;   /* the sums */
    int qa = 0, sa = 0, sn = 0;
    while ((n - qa) + (sn - sa) > 1) {
        DepthTerm x[2];
        for (int k = 0; k < 2; k++)
            x[k] = qa < n && (sa == sn || q[qa].depth <= s[sa].depth) ? q[qa++] : s[sa++];
        DepthTerm r;
        r.t = add_terms(m, x[0].t, x[1].t, cap);
        r.depth = (x[0].depth > x[1].depth ? x[0].depth : x[1].depth) + 1;
        r.order = 0;
        s[sn++] = r;
    }
    CmvmTerm r = qa < n ? q[qa].t : s[sa].t;
    free(q);
    return r;
}

int cmvm_output(Cmvm *c, HwModule *m, const CmvmProblem *p, long o, int64_t bias)
{
    int cap = p->acc.o == FXO_WRAP ? p->acc.w : 0;
    CmvmTermList *tl = &c->lists[o];
    size_t c2 = (size_t)tl->cap;
    tl->t = vec_grow(tl->t, &c2, (size_t)tl->n + 2, sizeof(CmvmTerm));
    tl->cap = (int)c2;
    if (bias && (!p->live || p->live[o])) {
        CmvmTerm t = {hw_const(m, bias), 0, 0};
        m->adders_const += tl->n > 0;
        tl->t[tl->n++] = t;
    }
    if (tl->n == 0)
        return hw_const(m, 0);
    CmvmTerm t = sum_by_depth(c, m, tl->t, tl->n, cap);
    int accn = t.node;
    if (t.neg || t.shift) {
        int z = hw_const(m, 0);
        accn = t.neg ? hw_add(m, z, 0, t.node, t.shift, 1, cap) : hw_add(m, t.node, t.shift, z, 0, 0, cap);
        if (!t.neg)
            m->adders--;   /* a shift is wiring */
    }
    return accn;
}
