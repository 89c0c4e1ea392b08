/* cse.c — common subexpressions of an exact constant matrix x vector product
 * with a bound on adder depth.  Greedy over two-term patterns (two signals,
 * their relative shift and sign) across all outputs, as csd.c's cse_terms,
 * several patterns per round for speed, but (1) a round takes only patterns
 * that share no signal with a more frequent one taken, so none takes the
 * summands another would have had (one pattern at a time would do the same;
 * csd.c's rounds lose ~10% of the sharing there); (2) each output applies
 * them in rank order; (3) a pattern is only counted and applied where the
 * output's sum keeps within the depth bound: a tree over summands of depths
 * d_i with the sum at depth D exists iff sum 2^d_i <= 2^D (Kraft), and
 * cmvm_output builds such a tree (the two shallowest summands first). */
#include "hw/cmvm/cmvm.h"

#include <stdlib.h>
#include <string.h>

int cmvm_plan_add(CmvmPlan *pl, int a, int sa, int b, int sb, int sub)
{
    int da = cmvm_plan_depth(pl, a), db = cmvm_plan_depth(pl, b);
    CmvmAdd ad = {a, sa, b, sb, sub, (da > db ? da : db) + 1};
    VEC_PUSH(pl->v, pl->n, pl->cap, ad);
    return pl->base + (int)pl->n - 1;
}

int cmvm_plan_depth(const CmvmPlan *pl, int node)
{
    return node >= pl->base ? pl->v[node - pl->base].depth : 0;
}

/* sum over the summands of 2^depth (the bias at depth 0) */
static uint64_t kraft(const CmvmPlan *pl, const CmvmTermList *tl, int bias)
{
    uint64_t s = bias ? 1 : 0;
    for (int i = 0; i < tl->n; i++)
        s += (uint64_t)1 << cmvm_plan_depth(pl, tl->t[i].node);
    return s;
}

int cmvm_sum_depth(const CmvmPlan *pl, const CmvmTermList *tl, int bias)
{
    uint64_t s = kraft(pl, tl, bias);
    int d = 0;
    while (((uint64_t)1 << d) < s)
        d++;
    return d;
}

/* Whether replacing summands p and q of a sum with Kraft sum s by their adder keeps s <= lim. */
static int fits(const CmvmPlan *pl, CmvmTerm p, CmvmTerm q, uint64_t s, uint64_t lim, uint64_t *ns)
{
    int dp = cmvm_plan_depth(pl, p.node), dq = cmvm_plan_depth(pl, q.node);
    int d = (dp > dq ? dp : dq) + 1;
    if (d > 62)
        return 0;
    *ns = s - ((uint64_t)1 << dp) - ((uint64_t)1 << dq) + ((uint64_t)1 << d);
    return *ns <= lim;
}

typedef struct {
    uint64_t key;  /* a pattern (cmvm_pair_key) */
    int count;     /* its occurrences */
} Cand;

typedef struct {
    int rank;      /* the pattern's rank this round */
    int i, j;      /* the summands */
} Hit;

static int hit_cmp(const void *x, const void *y)
{
    const Hit *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->i != b->i)
        return a->i < b->i ? -1 : 1;
    return (a->j > b->j) - (a->j < b->j);
}

/* The patterns of this round, most frequent first (ties by key): every pair of
 * every output that fits the bound, counted by sorting.  Returns how many. */
static size_t count_patterns(const CmvmPlan *pl, CmvmTermList *lists, long nl, const uint64_t *s, uint64_t lim,
                             uint64_t **keys, uint64_t **tmp, size_t *cap, Cand **cand)
{
    size_t pairs = 0;
    for (long l = 0; l < nl; l++)
        pairs += (size_t)lists[l].n * (size_t)(lists[l].n > 0 ? lists[l].n - 1 : 0) / 2;
    if (pairs + 1 > *cap) {
        size_t c = *cap;
        *keys = vec_grow(*keys, &c, pairs + 1, sizeof **keys);
        c = *cap;
        *tmp = vec_grow(*tmp, &c, pairs + 1, sizeof **tmp);
        c = *cap;
        *cand = vec_grow(*cand, &c, pairs + 1, sizeof **cand);
        *cap = c;
    }
    size_t nk = 0;
    for (long l = 0; l < nl; l++)
        for (int i = 0; i < lists[l].n; i++)
            for (int j = i + 1; j < lists[l].n; j++) {
                uint64_t key, ns;
                int base, neg;
                if (cmvm_pair_key(lists[l].t[i], lists[l].t[j], &key, &base, &neg) &&
                    fits(pl, lists[l].t[i], lists[l].t[j], s[l], lim, &ns))
                    (*keys)[nk++] = key;
            }
    if (nk)
        cmvm_sort_keys(*keys, *tmp, nk);
    size_t nc = 0;
    for (size_t i = 0, j; i < nk; i = j) {
        for (j = i + 1; j < nk && (*keys)[j] == (*keys)[i]; j++)
            ;
        if (j - i >= 2) {
            (*cand)[nc].key = (*keys)[i];
            (*cand)[nc++].count = (int)(j - i);
        }
    }
    if (nc == 0)
        return 0;
    /* most frequent first, key order among equals: a stable counting sort */
    int top = 0;
    for (size_t c = 0; c < nc; c++)
        top = (*cand)[c].count > top ? (*cand)[c].count : top;
    size_t *at = calloc((size_t)top + 2, sizeof(size_t));
    Cand *sorted = malloc(nc * sizeof *sorted);
    if (!at || !sorted)
        abort();
    for (size_t c = 0; c < nc; c++)
        at[top - (*cand)[c].count + 1]++;
    for (int v = 0; v <= top; v++)
        at[v + 1] += at[v];
    for (size_t c = 0; c < nc; c++)
        sorted[at[top - (*cand)[c].count]++] = (*cand)[c];
    memcpy(*cand, sorted, nc * sizeof *sorted);
    free(sorted);
    free(at);
    return nc;
}

/* Apply the selected patterns (sel of them, rank = index) to every output,
 * most frequent first within each output.  Returns the replacements made. */
static long apply_patterns(CmvmPlan *pl, CmvmTermList *lists, long nl, uint64_t *s, uint64_t lim, const Cand *cand,
                           size_t sel)
{
    size_t scap = 16;
    while (scap < 2 * sel)
        scap *= 2;
    uint64_t *skey = calloc(scap, sizeof(uint64_t));
    int *srank = malloc(scap * sizeof(int)), *snode = malloc(sel * sizeof(int));
    if (!skey || !srank || !snode)
        abort();
    size_t smask = scap - 1;
    for (size_t c = 0; c < sel; c++) {
        size_t h = cmvm_key_slot(skey, cand[c].key, smask);
        skey[h] = cand[c].key;
        srank[h] = (int)c;
        snode[c] = -1;
    }
    Hit *hit = NULL;
    size_t nh = 0, ch = 0;
    unsigned char *gone = NULL;
    size_t cg = 0;
    long applied = 0;
    for (long l = 0; l < nl; l++) {
        CmvmTermList *tl = &lists[l];
        nh = 0;
        for (int i = 0; i < tl->n; i++)
            for (int j = i + 1; j < tl->n; j++) {
                uint64_t key;
                int base, neg;
                if (!cmvm_pair_key(tl->t[i], tl->t[j], &key, &base, &neg))
                    continue;
                size_t h = cmvm_key_slot(skey, key, smask);
                if (!skey[h])
                    continue;
                Hit x = {srank[h], i, j};
                VEC_PUSH(hit, nh, ch, x);
            }
        if (!nh)
            continue;
        qsort(hit, nh, sizeof *hit, hit_cmp);
        gone = vec_grow(gone, &cg, (size_t)tl->n, 1);
        memset(gone, 0, (size_t)tl->n);
        int n0 = tl->n;
        for (size_t k = 0; k < nh; k++) {
            int i = hit[k].i, j = hit[k].j;
            uint64_t key, ns;
            int base, neg;
            if (gone[i] || gone[j] || !fits(pl, tl->t[i], tl->t[j], s[l], lim, &ns))
                continue;
            cmvm_pair_key(tl->t[i], tl->t[j], &key, &base, &neg);
            int r = hit[k].rank;
            if (snode[r] < 0) {
                int a = (int)(key & 0x1fffff), b = (int)((key >> 21) & 0x1fffff);
                int da = (int)((key >> 42) & 31), db = (int)((key >> 47) & 31), rel = (int)((key >> 52) & 1);
                snode[r] = cmvm_plan_add(pl, a, da, b, db, rel);
            }
            s[l] = ns;
            tl->t[i].node = snode[r];
            tl->t[i].shift = base;
            tl->t[i].neg = neg;
            gone[i] = 1;   /* replaced by the new summand: pairs again next round */
            gone[j] = 2;   /* consumed */
            applied++;
        }
        int w = 0;
        for (int i = 0; i < n0; i++)
            if (gone[i] != 2)
                tl->t[w++] = tl->t[i];
        tl->n = w;
    }
    free(gone);
    free(hit);
    free(skey);
    free(srank);
    free(snode);
    return applied;
}

void cmvm_cse_bounded(CmvmPlan *pl, CmvmTermList *lists, long nl, const unsigned char *bias, int depth_max)
{
    uint64_t lim = (uint64_t)1 << depth_max;
    uint64_t *s = malloc(sizeof(uint64_t) * (size_t)(nl ? nl : 1));
    if (!s)
        abort();
    for (long l = 0; l < nl; l++)
        s[l] = kraft(pl, &lists[l], bias && bias[l]);
    size_t cap = 0;
    uint64_t *keys = NULL, *tmp = NULL;
    Cand *cand = NULL;
    unsigned char *used = NULL;   /* signals taken by this round's patterns */
    size_t nused = 0, cused = 0;
    for (;;) {
        size_t nc = count_patterns(pl, lists, nl, s, lim, &keys, &tmp, &cap, &cand);
        if (nc == 0)
            break;
        /* this round: the patterns at least 3/4 as frequent as the best that
         * share no signal with a more frequent one (they cannot take each
         * other's summands, so the round is what one-at-a-time greedy would do) */
        size_t need = (size_t)pl->base + pl->n + 1;
        if (need > nused) {
            used = vec_grow(used, &cused, need, 1);
            memset(used + nused, 0, need - nused);
            nused = need;
        }
        size_t sel = 0;
        for (size_t c = 0; c < nc && (long)cand[c].count * 4 >= (long)cand[0].count * 3; c++) {
            int a = (int)(cand[c].key & 0x1fffff), b = (int)((cand[c].key >> 21) & 0x1fffff);
            if (used[a] || used[b])
                continue;
            used[a] = used[b] = 1;
            cand[sel++] = cand[c];
        }
        for (size_t c = 0; c < sel; c++)
            used[cand[c].key & 0x1fffff] = used[(cand[c].key >> 21) & 0x1fffff] = 0;
        if (!apply_patterns(pl, lists, nl, s, lim, cand, sel))
            break;
    }
    free(s);
    free(keys);
    free(tmp);
    free(cand);
    free(used);
}
