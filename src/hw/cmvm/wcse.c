/* wcse.c — common subexpressions of an exact constant matrix x vector product:
 * greedy over two-term patterns (two signals, their relative shift and sign),
 * one pattern at a time, with the adder-depth bound of cse.c (a pattern is
 * counted and applied only where the output's Kraft sum stays within
 * 2^depth_max).  Against cse.c's rounds:
 *   (1) exactly one pattern per round, the most frequent; counts, each
 *       pattern's occurrences and each summand's repeated pairs are kept up
 *       to date incrementally (only the pairs of the summands a pattern
 *       changed are recounted: a round costs those outputs and the
 *       occurrences of the most frequent patterns, not a pass and a sort);
 *   (2) among the most frequent, the least conflicting: the one whose
 *       occurrences take a summand from the fewest occurrences of other
 *       repeated patterns (summed over its occurrences, each summand's
 *       repeated pairs besides its own), so more sharing is left for later
 *       rounds; then by a hash of the pattern with a seed;
 *   (3) three searches run on copies and the plan with the fewest adders is
 *       kept: ties by key, ties by a hash of the key, and a trade-off that
 *       also weighs the next less frequent patterns (conflict - 64 x
 *       (count - 1), lowest first).
 * Scoring a pattern by count x the width of the adder it saves (the bits
 * above the larger shift, from the signals' value ranges) was tried and gave
 * more adders (bench/README.md). */
#include "hw/cmvm/cmvm.h"

#include <stdlib.h>
#include <string.h>

/* A search: the patterns seen (an open-addressed table; those occurring at
 * least twice in lists by count, bucket c from head[c]; each pattern's
 * occurrences in a list from occ), and every summand pair of every output,
 * numbered globally (output l's pair (i, j), i < j, is
 * pb[l] + i * n - i * (i + 1) / 2 + j - i - 1 with n = out[l].n). */
typedef struct {
    int n;             /* summands at the start (they stay in place; a consumed one is dead) */
    unsigned char *dead;
    int *depth;        /* adder depth of each summand's signal */
    unsigned char *chg;/* changed in this round */
} Out;

typedef struct {
    uint64_t *key;     /* pattern + 1 (0: empty slot) */
    int *cnt;          /* its occurrences (pairs within the bound) */
    int *prev, *next;  /* bucket links (-1: none) */
    int *occ;          /* first occurrence (a pair; -1: none) */
    size_t cap, n;     /* slots (a power of two), patterns */
    int *head;         /* first pattern of count c (-1: none) */
    int chead, maxc;   /* counts with a bucket, the highest that may be non-empty */
    /* pairs */
    int *slot;         /* the pair's pattern (-1: none: dead summand, no pattern or over the bound) */
    int *pnext, *pprev;/* occurrence links */
    int *pi, *pj;      /* its summands, numbered across the outputs */
    size_t np;
    int *deg;          /* per summand: its pairs whose pattern occurs at least twice */
} Search;

static void bucket_unlink(Search *t, int e)
{
    int c = t->cnt[e];
    if (c < 2)
        return;
    if (t->prev[e] >= 0)
        t->next[t->prev[e]] = t->next[e];
    else
        t->head[c] = t->next[e];
    if (t->next[e] >= 0)
        t->prev[t->next[e]] = t->prev[e];
}

static void bucket_link(Search *t, int e)
{
    int c = t->cnt[e];
    if (c < 2)
        return;
    if (c >= t->chead) {
        int n = t->chead ? t->chead : 16;
        while (n <= c)
            n *= 2;
        t->head = realloc(t->head, sizeof(int) * (size_t)n);
        if (!t->head)
            abort();
        for (int k = t->chead; k < n; k++)
            t->head[k] = -1;
        t->chead = n;
    }
    t->prev[e] = -1;
    t->next[e] = t->head[c];
    if (t->head[c] >= 0)
        t->prev[t->head[c]] = e;
    t->head[c] = e;
    if (c > t->maxc)
        t->maxc = c;
}

/* Pair g becomes an occurrence of pattern e. */
static void pair_on(Search *t, int g, int e)
{
    t->slot[g] = e;
    t->pprev[g] = -1;
    t->pnext[g] = t->occ[e];
    if (t->occ[e] >= 0)
        t->pprev[t->occ[e]] = g;
    t->occ[e] = g;
    bucket_unlink(t, e);
    t->cnt[e]++;
    bucket_link(t, e);
    if (t->cnt[e] == 2) {   /* now repeated: both occurrences count */
        for (int h = t->occ[e]; h >= 0; h = t->pnext[h])
            t->deg[t->pi[h]]++, t->deg[t->pj[h]]++;
    } else if (t->cnt[e] > 2) {
        t->deg[t->pi[g]]++, t->deg[t->pj[g]]++;
    }
}

/* Pair g is no longer an occurrence of its pattern. */
static void pair_off(Search *t, int g)
{
    int e = t->slot[g];
    if (e < 0)
        return;
    if (t->cnt[e] == 2) {   /* no longer repeated */
        for (int h = t->occ[e]; h >= 0; h = t->pnext[h])
            t->deg[t->pi[h]]--, t->deg[t->pj[h]]--;
    } else if (t->cnt[e] > 2) {
        t->deg[t->pi[g]]--, t->deg[t->pj[g]]--;
    }
    if (t->pprev[g] >= 0)
        t->pnext[t->pprev[g]] = t->pnext[g];
    else
        t->occ[e] = t->pnext[g];
    if (t->pnext[g] >= 0)
        t->pprev[t->pnext[g]] = t->pprev[g];
    bucket_unlink(t, e);
    t->cnt[e]--;
    bucket_link(t, e);
    t->slot[g] = -1;
}

static size_t slot_of(const Search *t, uint64_t key1)
{
    return cmvm_key_slot(t->key, key1, t->cap - 1);
}

static void table_alloc(Search *t, size_t cap)
{
    t->cap = cap;
    t->key = calloc(cap, sizeof *t->key);
    t->cnt = calloc(cap, sizeof *t->cnt);
    t->prev = malloc(cap * sizeof *t->prev);
    t->next = malloc(cap * sizeof *t->next);
    t->occ = malloc(cap * sizeof *t->occ);
    if (!t->key || !t->cnt || !t->prev || !t->next || !t->occ)
        abort();
}

static void table_free(Search *t)
{
    free(t->key);
    free(t->cnt);
    free(t->prev);
    free(t->next);
    free(t->occ);
}

/* Room for `more` new patterns; on growing, every pair's slot is renumbered. */
static void table_reserve(Search *t, size_t more)
{
    if ((t->n + more) * 2 <= t->cap)
        return;
    size_t cap = t->cap ? t->cap : 1024;
    while ((t->n + more) * 2 > cap)
        cap *= 2;
    Search o = *t;
    table_alloc(t, cap);
    for (int c = 0; c < t->chead; c++)
        t->head[c] = -1;
    t->maxc = 0;
    int *map = malloc(sizeof(int) * (o.cap ? o.cap : 1));
    if (!map)
        abort();
    for (size_t e = 0; e < o.cap; e++) {
        if (!o.key[e])
            continue;
        size_t h = slot_of(t, o.key[e]);
        t->key[h] = o.key[e];
        t->cnt[h] = o.cnt[e];
        t->occ[h] = o.occ[e];
        map[e] = (int)h;
        bucket_link(t, (int)h);
    }
    for (size_t g = 0; g < t->np; g++)
        if (t->slot[g] >= 0)
            t->slot[g] = map[t->slot[g]];
    free(map);
    table_free(&o);
}

static int pattern_slot(Search *t, uint64_t key)
{
    size_t h = slot_of(t, key + 1);
    if (!t->key[h]) {
        t->key[h] = key + 1;
        t->cnt[h] = 0;
        t->occ[h] = -1;
        t->n++;
    }
    return (int)h;
}

/* Whether summands of depths dp and dq may be added in a sum of Kraft sum s within lim. */
static int fits(int dp, int dq, uint64_t s, uint64_t lim)
{
    int d = (dp > dq ? dp : dq) + 1;
    return d <= 62 && s - ((uint64_t)1 << dp) - ((uint64_t)1 << dq) + ((uint64_t)1 << d) <= lim;
}

/* Whether pair (i, j) of an output makes a pattern within the bound; its key. */
static int pair_ok(const CmvmTermList *tl, const Out *o, int i, int j, uint64_t s, uint64_t lim, uint64_t *key)
{
    int base, neg;
    if (o->dead[i] || o->dead[j] || !cmvm_pair_key(tl->t[i], tl->t[j], key, &base, &neg))
        return 0;
    return fits(o->depth[i], o->depth[j], s, lim);
}

/* Recount pair (i, j) of an output (global number g). */
static void recount(Search *t, const CmvmTermList *tl, const Out *o, int g, int i, int j, uint64_t s, uint64_t lim)
{
    uint64_t key;
    pair_off(t, g);
    if (pair_ok(tl, o, i, j, s, lim, &key))
        pair_on(t, g, pattern_slot(t, key));
}

/* Count an output's pairs (first pair g0): all of them (first time), or
 * those of its changed summands and, where its Kraft sum grew from s0 to s,
 * drop the others that no longer fit (s never shrinks). */
static void count_output(Search *t, const CmvmTermList *tl, const Out *o, int g0, uint64_t s0, uint64_t s,
                         uint64_t lim, int first)
{
    int n = o->n, nc = 0;
    for (int c = 0; c < n && !first; c++)
        nc += o->chg[c];
    table_reserve(t, first ? (size_t)n * (size_t)n / 2 : (size_t)nc * (size_t)n);   /* new patterns at most */
    if (first) {
        for (int i = 0, g = g0; i < n; i++)
            for (int j = i + 1; j < n; j++, g++)
                recount(t, tl, o, g, i, j, s, lim);
        return;
    }
    if (s != s0)
        for (int i = 0, g = g0; i < n; i++)
            for (int j = i + 1; j < n; j++, g++)
                if (t->slot[g] >= 0 && !o->chg[i] && !o->chg[j] && !fits(o->depth[i], o->depth[j], s, lim))
                    pair_off(t, g);
    for (int c = 0; c < n; c++) {
        if (!o->chg[c])
            continue;
        for (int u = 0; u < n; u++) {
            if (u == c || (o->chg[u] && u < c))
                continue;   /* a pair of two changed summands once */
            int i = u < c ? u : c, j = u < c ? c : u;
            recount(t, tl, o, g0 + i * n - i * (i + 1) / 2 + (j - i - 1), i, j, s, lim);
        }
    }
}

static uint64_t mix(uint64_t k)
{
    k ^= k >> 31;
    k *= UINT64_C(0x7fb5d329728ea185);
    k ^= k >> 27;
    k *= UINT64_C(0x81dadef4bc2dd44d);
    k ^= k >> 33;
    return k;
}

/* sum over the summands of 2^depth (the bias at depth 0) */
static uint64_t kraft(const CmvmPlan *pl, const CmvmTermList *tl, int bias)
{
    uint64_t s = bias ? 1 : 0;
    for (int i = 0; i < tl->n; i++)
        s += (uint64_t)1 << cmvm_plan_depth(pl, tl->t[i].node);
    return s;
}

static int int_cmp(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* One greedy search: tie order `seed`, trade-off `per` (conflicts worth one more occurrence; 0: count first). */
static void search(CmvmPlan *pl, CmvmTermList *lists, long nl, const unsigned char *bias, int depth_max, uint64_t seed,
                   int per)
{
    uint64_t lim = (uint64_t)1 << depth_max;
    size_t nn = (size_t)(nl ? nl : 1);
    uint64_t *s = malloc(sizeof(uint64_t) * nn);
    Out *out = calloc(nn, sizeof *out);
    int *pb = malloc(sizeof(int) * (nn + 1)), *tb = malloc(sizeof(int) * (nn + 1));
    if (!s || !out || !pb || !tb)
        abort();
    Search t = {0};
    size_t np = 0, terms = 0;
    for (long l = 0; l < nl; l++) {
        pb[l] = (int)np;
        tb[l] = (int)terms;
        np += (size_t)lists[l].n * (size_t)(lists[l].n > 0 ? lists[l].n - 1 : 0) / 2;
        terms += (size_t)lists[l].n;
    }
    t.np = np;
    t.slot = malloc(sizeof(int) * (np + 1));
    t.pnext = malloc(sizeof(int) * (np + 1));
    t.pprev = malloc(sizeof(int) * (np + 1));
    t.pi = malloc(sizeof(int) * (np + 1));
    t.pj = malloc(sizeof(int) * (np + 1));
    t.deg = calloc(terms + 1, sizeof(int));
    if (!t.slot || !t.pnext || !t.pprev || !t.pi || !t.pj || !t.deg)
        abort();
    for (size_t g = 0; g < np; g++)
        t.slot[g] = -1;
    for (long l = 0; l < nl; l++) {
        Out *o = &out[l];
        o->n = lists[l].n;
        o->dead = calloc((size_t)o->n + 1, 1);
        o->chg = calloc((size_t)o->n + 1, 1);
        o->depth = malloc(sizeof(int) * ((size_t)o->n + 1));
        if (!o->dead || !o->chg || !o->depth)
            abort();
        int g = pb[l];
        for (int i = 0; i < o->n; i++) {
            o->depth[i] = cmvm_plan_depth(pl, lists[l].t[i].node);
            for (int j = i + 1; j < o->n; j++, g++)
                t.pi[g] = tb[l] + i, t.pj[g] = tb[l] + j;
        }
        s[l] = kraft(pl, &lists[l], bias && bias[l]);
        count_output(&t, &lists[l], o, pb[l], s[l], s[l], lim, 1);
    }
    int *occ = NULL;
    size_t cocc = 0;
    for (;;) {
        while (t.maxc >= 2 && t.head[t.maxc] < 0)
            t.maxc--;
        if (t.maxc < 2)
            break;
        /* the most frequent pattern; among those the least conflicting, then by tie.  With a
         * trade-off `per` > 0 also the next less frequent ones, by conflict - per * (count - 1) */
        int best = -1;
        long bc = 0;
        uint64_t bt = 0;
        for (int c = t.maxc; c >= 2 && c >= t.maxc - (per > 0); c--)
            for (int e = t.head[c]; e >= 0; e = t.next[e]) {
                long conf = -(long)per * (c - 1);
                for (int h = t.occ[e]; h >= 0; h = t.pnext[h])
                    conf += t.deg[t.pi[h]] + t.deg[t.pj[h]] - 2;
                uint64_t tie = seed ? mix(t.key[e] ^ seed) : t.key[e];
                if (best < 0 || conf < bc || (conf == bc && (tie < bt || (tie == bt && t.key[e] < t.key[best])))) {
                    best = e;
                    bc = conf;
                    bt = tie;
                }
            }
        /* its occurrences, in output and pair order */
        size_t no = 0;
        for (int h = t.occ[best]; h >= 0; h = t.pnext[h])
            VEC_PUSH(occ, no, cocc, h);
        qsort(occ, no, sizeof *occ, int_cmp);
        uint64_t key = t.key[best] - 1;
        int node = -1;
        long applied = 0;
        for (size_t k = 0; k < no;) {
            long l = 0;
            while (l + 1 < nl && pb[l + 1] <= occ[k])
                l++;
            CmvmTermList *tl = &lists[l];
            Out *o = &out[l];
            memset(o->chg, 0, (size_t)o->n);
            uint64_t s0 = s[l];
            for (; k < no && (l + 1 >= nl || occ[k] < pb[l + 1]); k++) {
                int i = t.pi[occ[k]] - tb[l], j = t.pj[occ[k]] - tb[l];
                uint64_t kk;
                int base, neg;
                if (o->chg[i] || o->chg[j] || !pair_ok(tl, o, i, j, s[l], lim, &kk))
                    continue;
                cmvm_pair_key(tl->t[i], tl->t[j], &kk, &base, &neg);
                if (node < 0) {
                    int a = (int)(key & 0x1fffff), b = (int)((key >> 21) & 0x1fffff);
                    int da = (int)((key >> 42) & 31), db = (int)((key >> 47) & 31), rel = (int)((key >> 52) & 1);
                    node = cmvm_plan_add(pl, a, da, b, db, rel);
                }
                int dn = cmvm_plan_depth(pl, node);
                s[l] += ((uint64_t)1 << dn) - ((uint64_t)1 << o->depth[i]) - ((uint64_t)1 << o->depth[j]);
                tl->t[i].node = node;
                tl->t[i].shift = base;
                tl->t[i].neg = neg;
                o->depth[i] = dn;
                o->dead[j] = 1;
                o->chg[i] = o->chg[j] = 1;
                applied++;
            }
            count_output(&t, tl, o, pb[l], s0, s[l], lim, 0);
        }
        if (!applied)
            break;
    }
    for (long l = 0; l < nl; l++) {
        int w = 0;
        for (int i = 0; i < out[l].n; i++)
            if (!out[l].dead[i])
                lists[l].t[w++] = lists[l].t[i];
        lists[l].n = w;
        free(out[l].dead);
        free(out[l].chg);
        free(out[l].depth);
    }
    free(out);
    free(pb);
    free(tb);
    free(s);
    free(occ);
    free(t.slot);
    free(t.pnext);
    free(t.pprev);
    free(t.pi);
    free(t.pj);
    free(t.deg);
    free(t.head);
    table_free(&t);
}

/* adders of a plan and its output trees */
static long plan_adders(const CmvmPlan *pl, const CmvmTermList *lists, long nl, const unsigned char *bias)
{
    long n = (long)pl->n;
    for (long l = 0; l < nl; l++) {
        int b = bias && bias[l] && lists[l].n;
        n += lists[l].n + b > 1 ? lists[l].n + b - 1 : 0;
    }
    return n;
}

static CmvmTermList *lists_copy(const CmvmTermList *lists, long nl)
{
    CmvmTermList *c = malloc(sizeof *c * (size_t)(nl ? nl : 1));
    if (!c)
        abort();
    for (long l = 0; l < nl; l++) {
        c[l].n = c[l].cap = lists[l].n;
        c[l].t = malloc(sizeof(CmvmTerm) * (size_t)(lists[l].n ? lists[l].n : 1));
        if (!c[l].t)
            abort();
        if (lists[l].n)
            memcpy(c[l].t, lists[l].t, sizeof(CmvmTerm) * (size_t)lists[l].n);
    }
    return c;
}

static void lists_free(CmvmTermList *c, long nl)
{
    for (long l = 0; l < nl; l++)
        free(c[l].t);
    free(c);
}

void cmvm_cse_search(CmvmPlan *pl, CmvmTermList *lists, long nl, const unsigned char *bias, int depth_max)
{
    /* the most frequent first, ties by key and by a hash of it; and a trade-off of count and conflict */
    static const struct {
        uint64_t seed;
        int per;
    } runs[] = {{0, 0}, {UINT64_C(0x9e3779b97f4a7c15), 0}, {0, 64}};
    const int nruns = (int)(sizeof runs / sizeof *runs);
    CmvmTermList *best = NULL;
    CmvmPlan bp = {NULL, 0, 0, pl->base};
    long bn = -1;
    for (int k = 0; k < nruns; k++) {
        CmvmTermList *cur = lists_copy(lists, nl);
        CmvmPlan p = {NULL, 0, 0, pl->base};
        search(&p, cur, nl, bias, depth_max, runs[k].seed, runs[k].per);
        long n = plan_adders(&p, cur, nl, bias);
        if (bn < 0 || n < bn) {
            bn = n;
            free(bp.v);
            bp = p;
            if (best)
                lists_free(best, nl);
            best = cur;
        } else {
            free(p.v);
            lists_free(cur, nl);
        }
    }
    for (long l = 0; l < nl; l++) {
        lists[l].n = best[l].n;
        if (best[l].n)
            memcpy(lists[l].t, best[l].t, sizeof(CmvmTerm) * (size_t)best[l].n);
    }
    lists_free(best, nl);
    free(pl->v);
    *pl = bp;
}
