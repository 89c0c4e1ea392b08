/* einsum.c — an einsum of two operands lowered onto transposes, reshapes and a Dense (see einsum.h).
 *
 * hls4ml 1.3 computes an einsum in a fixed order: operand 0 transposed to [I, L0, C], operand 1 to [I, L1, C]; for
 * each inplace index i and free index l0 of operand 0, the L1 sums over C of operand 0's row times operand 1's rows
 * (contract subscripts in operand 1's order, the first summed first); the result [I, L0, L1] transposed to the
 * output's order.  An EinsumDense is hls4ml's Dense (latency) for each (i, l0): its weights are kernel block i, its
 * bias the bias broadcast over the whole output.  Here:
 *
 *   EinsumDense (operand 1 constant): one OP_DENSE over rows of I*C values with a block-diagonal weight matrix
 *   [I*C][I*L1] (block i is kernel block i, zeros elsewhere): the rows are the L0 positions when the bias is the
 *   same for every l0, else there is one row of I*L0*C values and L0*I blocks, so that every output has its own
 *   bias.  Each output's sum is hls4ml's: its C products in hls4ml's order, the other blocks' zero products add
 *   nothing (also to a saturating chain).
 *
 *   Einsum (two tensors): operand 0 as [I*L0, 1, C] repeated L1 times along its middle axis, operand 1 as
 *   [I, 1, L1*C] repeated L0 times (OP_UPSAMPLE, which only moves bits: Node.moves), their elementwise product
 *   typed the layer's accum and an OP_DOT summing each row of C products (made a Dense over ones after precision).
 *
 * Transposes and reshapes that change nothing are left out. */
#include "frontends/einsum.h"

#include <stdio.h>
#include <string.h>

static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int fail(char *msg, size_t n, const char *eq, const char *why)
{
    snprintf(msg, n, "equation '%s': %s", eq, why);
    return -1;
}

/* One operand's subscripts (eq[a..b)), without batch: '...' replaced by the letters in fill. */
static int operand(const char *s, size_t len, int batched, char *out, const char *fill, int nfill, int *ell)
{
    size_t k = 0;
    int w = 0;
    *ell = 0;
    while (k < len && s[k] == ' ')
        k++;
    int first = 1;
    for (; k < len; k++) {
        if (s[k] == ' ')
            continue;
        if (s[k] == '.') {
            if (k + 3 > len || s[k + 1] != '.' || s[k + 2] != '.' || *ell)
                return -1;
            *ell = 1;
            k += 2;
            for (int j = 0; j < nfill; j++) {
                if (w >= IR_MAX_RANK)
                    return -1;
                out[w++] = fill[j];
            }
            first = 0;
            continue;
        }
        if (!is_letter(s[k]))
            return -1;
        if (first && batched) {   /* the batch subscript */
            first = 0;
            continue;
        }
        first = 0;
        if (w >= IR_MAX_RANK)
            return -1;
        out[w++] = s[k];
    }
    out[w] = 0;
    return w;
}

static char batch_letter(const char *s, size_t len)
{
    size_t k = 0;
    while (k < len && s[k] == ' ')
        k++;
    return k < len ? s[k] : 0;
}

static int count_letters(const char *s, size_t len)
{
    int c = 0;
    for (size_t k = 0; k < len; k++)
        c += is_letter(s[k]);
    return c;
}

static int has_ell(const char *s, size_t len)
{
    for (size_t k = 0; k + 3 <= len; k++)
        if (s[k] == '.' && s[k + 1] == '.' && s[k + 2] == '.')
            return 1;
    return 0;
}

int einsum_plan(const char *eq, int batch1, int r0, const int *d0, int r1, const int *d1, EinsumPlan *p, char *msg,
                size_t nmsg)
{
    memset(p, 0, sizeof *p);
    const char *arrow = strstr(eq, "->"), *comma = strchr(eq, ',');
    if (!arrow || !comma || comma > arrow || (strchr(comma + 1, ',') && strchr(comma + 1, ',') < arrow))
        return fail(msg, nmsg, eq, "expected two operands and an explicit output ('ab,bc->ac')");
    const char *s0 = eq, *s1 = comma + 1, *so = arrow + 2;
    size_t l0 = (size_t)(comma - eq), l1 = (size_t)(arrow - s1), lo = strlen(so);
    for (const char *c = eq; *c; c++)
        if (!is_letter(*c) && *c != '.' && *c != ',' && *c != '-' && *c != '>' && *c != ' ')
            return fail(msg, nmsg, eq, "expected subscripts a-z, A-Z and '...'");
    int e0 = has_ell(s0, l0), e1 = has_ell(s1, l1), eo = has_ell(so, lo);
    /* the batch axis: a leading '...' of every batched operand, or their common first subscript */
    int bat_ell = e0 && batch_letter(s0, l0) == '.';
    if (bat_ell) {
        if (!eo || batch_letter(so, lo) != '.' || (batch1 && batch_letter(s1, l1) != '.'))
            return fail(msg, nmsg, eq, "expected the batch axis where operand 0 has it (a leading '...') in the output"
                                       " and every batched operand too");
    } else {
        char b = batch_letter(s0, l0);
        if (!is_letter(b) || batch_letter(so, lo) != b || (batch1 && batch_letter(s1, l1) != b))
            return fail(msg, nmsg, eq, batch1 ? "expected the batch axis as the first subscript of both operands and "
                                                "of the output (or a leading '...' in each)"
                                              : "expected the batch axis as the first subscript of the input and of "
                                                "the output (or a leading '...' in both)");
        if (!batch1)
            for (size_t k = 0; k < l1; k++)
                if (s1[k] == b)
                    return fail(msg, nmsg, eq, "expected the batch subscript absent from the kernel");
    }
    if (!batch1 && e1)
        return fail(msg, nmsg, eq, "expected no '...' in the kernel's subscripts");
    if (e0 != eo || (batch1 && e1 != eo))
        return fail(msg, nmsg, eq, "expected '...' in the output exactly when the operands have it");
    /* letters for '...': unused ones */
    char fill[IR_MAX_RANK + 1];
    int used[128] = {0};
    for (const char *c = eq; *c; c++)
        if (is_letter(*c))
            used[(unsigned char)*c] = 1;
    int nf = e0 ? r0 - (count_letters(s0, l0) - !bat_ell) : 0, w = 0;
    if (nf < 0 || nf > IR_MAX_RANK)
        return fail(msg, nmsg, eq, "expected operand 0's subscripts to match its rank");
    for (int c = 'A'; c <= 'z' && w < nf; c++)
        if (is_letter((char)c) && !used[c])
            fill[w++] = (char)c;
    fill[w] = 0;
    if (batch1 && e1 && r1 - (count_letters(s1, l1) - !bat_ell) != nf)
        return fail(msg, nmsg, eq, "expected '...' to stand for the same axes in both operands (no broadcasting)");
    int ell;
    int n0 = operand(s0, l0, !bat_ell, p->in0, fill, nf, &ell);
    int n1 = operand(s1, l1, batch1 && !bat_ell, p->in1, fill, nf, &ell);
    int no = operand(so, lo, !bat_ell, p->out, fill, nf, &ell);
    if (n0 < 0 || n1 < 0 || no < 0)
        return fail(msg, nmsg, eq, "expected at most one '...' per operand and at most 6 axes per sample");
    if (n0 != r0 || n1 != r1) {
        char m[160];
        snprintf(m, sizeof m, "expected %d and %d subscripts (per sample) for operands of rank %d and %d, got %d and %d",
                 r0, r1, r0, r1, n0, n1);
        return fail(msg, nmsg, eq, m);
    }
    int seen[3][128];
    memset(seen, 0, sizeof seen);
    const char *ops[3] = {p->in0, p->in1, p->out};
    for (int k = 0; k < 3; k++)
        for (const char *c = ops[k]; *c; c++)
            if (seen[k][(unsigned char)*c]++) {
                char m[96];
                snprintf(m, sizeof m, "subscript '%c' repeated in %s (a trace or a diagonal is not built)", *c,
                         k == 2 ? "the output" : k ? "operand 1" : "operand 0");
                return fail(msg, nmsg, eq, m);
            }
    for (int k = 0; k < r0; k++)
        p->dim[(unsigned char)p->in0[k]] = d0[k];
    for (int k = 0; k < r1; k++) {
        unsigned char c = (unsigned char)p->in1[k];
        if (seen[0][c] && p->dim[c] != d1[k]) {
            char m[128];
            snprintf(m, sizeof m, "subscript '%c' is %d in operand 0 and %d in operand 1", c, p->dim[c], d1[k]);
            return fail(msg, nmsg, eq, m);
        }
        p->dim[c] = d1[k];
    }
    for (const char *c = p->out; *c; c++)
        if (!seen[0][(unsigned char)*c] && !seen[1][(unsigned char)*c]) {
            char m[96];
            snprintf(m, sizeof m, "output subscript '%c' is in neither operand", *c);
            return fail(msg, nmsg, eq, m);
        }
    for (int k = 0; k < 2; k++)
        for (const char *c = ops[k]; *c; c++)
            if (!seen[1 - k][(unsigned char)*c] && !seen[2][(unsigned char)*c]) {
                char m[160];
                snprintf(m, sizeof m, "subscript '%c' is summed within operand %d alone (hls4ml refuses such a direct "
                                      "sum too; sum that axis before the einsum)", *c, k);
                return fail(msg, nmsg, eq, m);
            }
    /* hls4ml's split: inplace and contract in operand 1's order, the free ones in their operand's order */
    int ni = 0, nc = 0, nf0 = 0, nf1 = 0;
    p->I = p->C = p->L0 = p->L1 = 1;
    for (const char *c = p->in1; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (seen[0][u] && seen[2][u]) {
            p->inplace[ni++] = *c;
            p->I *= p->dim[u];
        } else if (seen[0][u]) {
            p->contract[nc++] = *c;
            p->C *= p->dim[u];
        } else {
            p->free1[nf1++] = *c;
            p->L1 *= p->dim[u];
        }
    }
    for (const char *c = p->in0; *c; c++)
        if (!seen[1][(unsigned char)*c]) {
            p->free0[nf0++] = *c;
            p->L0 *= p->dim[(unsigned char)*c];
        }
    return 0;
}

int einsum_out_shape(const EinsumPlan *p, int *dims)
{
    int r = 0;
    for (const char *c = p->out; *c; c++)
        dims[r++] = p->dim[(unsigned char)*c];
    if (!r)
        dims[r++] = 1;
    return r;
}

/* Row-major offset of the element at coordinates coord (per letter) in an operand with subscripts s. */
static long offset(const EinsumPlan *p, const char *s, const int *coord)
{
    long o = 0;
    for (; *s; s++)
        o = o * p->dim[(unsigned char)*s] + coord[(unsigned char)*s];
    return o;
}

/* Set the coordinates of letters s from their row-major rank idx. */
static void unrank(const EinsumPlan *p, const char *s, long idx, int *coord)
{
    for (int k = (int)strlen(s) - 1; k >= 0; k--) {
        int d = p->dim[(unsigned char)s[k]];
        coord[(unsigned char)s[k]] = (int)(idx % d);
        idx /= d;
    }
}

static const char *fresh(Graph *g, const char *base, const char *sfx)
{
    const char *nm = arena_printf(&g->arena, "%s_%s", base, sfx);
    for (int k = 2; ir_find_tensor(g, nm) >= 0; k++)
        nm = arena_printf(&g->arena, "%s_%s%d", base, sfx, k);
    return nm;
}

static int add_node(Graph *g, Op op, const char *name, const char *src_op, const int *in, int nin, int rank,
                    const int *dims)
{
    int d[IR_MAX_RANK];
    memcpy(d, dims, sizeof(int) * (size_t)rank);
    int out = ir_add_tensor(g, name, rank, d);
    ir_add_node(g, op, name, src_op, in, nin, out);
    return out;
}

/* x (subscripts `from`) transposed to the order of `to` (the same letters), then reshaped to rank/dims. */
static int arrange(Graph *g, const EinsumPlan *p, const char *lname, const char *sfx, const char *src_op, int x,
                   const char *from, const char *to, int rank, const int *dims)
{
    int n = (int)strlen(from), perm[IR_MAX_RANK], ident = 1, tdims[IR_MAX_RANK];
    for (int k = 0; k < n; k++) {
        perm[k] = (int)(strchr(from, to[k]) - from);
        tdims[k] = p->dim[(unsigned char)to[k]];
        ident = ident && perm[k] == k;
    }
    if (!ident) {
        x = add_node(g, OP_TRANSPOSE, fresh(g, lname, arena_printf(&g->arena, "tpose_%s", sfx)), src_op, &x, 1, n, tdims);
        memcpy(g->n[g->nn - 1].perm, perm, sizeof perm);
    }
    const Tensor *t = &g->t[x];
    int same = t->rank == rank;
    for (int k = 0; same && k < rank; k++)
        same = t->dims[k] == dims[k];
    if (!same)
        x = add_node(g, OP_RESHAPE, fresh(g, lname, arena_printf(&g->arena, "reshape_%s", sfx)), src_op, &x, 1, rank,
                     dims);
    return x;
}

/* The result y, laid out as the letters `logical`, reshaped and transposed to the output. */
static int finish(Graph *g, const EinsumPlan *p, const char *lname, const char *src_op, int y, const char *logical)
{
    int od[IR_MAX_RANK], ro = einsum_out_shape(p, od);
    if (!*p->out)
        return arrange(g, p, lname, "out", src_op, y, "", "", ro, od);
    int ld[IR_MAX_RANK], n = (int)strlen(logical);
    for (int k = 0; k < n; k++)
        ld[k] = p->dim[(unsigned char)logical[k]];
    y = arrange(g, p, lname, "res", src_op, y, "", "", n, ld);   /* reshape only */
    return arrange(g, p, lname, "out", src_op, y, logical, p->out, ro, od);
}

int einsum_emit_dense(Graph *g, const EinsumPlan *p, const char *lname, const char *src_op, const char *hls_class,
                      int x, const double *kernel, const double *bias, char *msg, size_t nmsg)
{
    int coord[128] = {0};
    long I = p->I, C = p->C, L0 = p->L0, L1 = p->L1, nout = I * L0 * L1;
    /* rows of the L0 positions when the bias does not change along them */
    int rows = 1;
    if (bias)
        for (long e = 0; e < nout && rows; e++) {
            unrank(p, p->out, e, coord);
            double v = bias[e];
            for (const char *c = p->free0; *c; c++)
                coord[(unsigned char)*c] = 0;
            rows = bias[offset(p, p->out, coord)] == v;
        }
    long R = rows ? L0 : 1, B = rows ? I : I * L0, K = B * C, N = B * L1;
    if (K * N > (1L << 24) || K > (1L << 24) / (N > 0 ? N : 1)) {
        snprintf(msg, nmsg, "expected a block-diagonal weight matrix of at most 16777216 (2^24) entries, got %ld x %ld "
                 "(%ld blocks of %ld x %ld)%s", K, N, B, C, L1, rows ? "" : "; a bias that does not vary along the "
                 "input's free axes keeps one block per inplace index");
        return -1;
    }
    char xo[3 * IR_MAX_RANK + 1], lg[3 * IR_MAX_RANK + 1];
    snprintf(xo, sizeof xo, "%s%s%s", rows ? p->free0 : p->inplace, rows ? p->inplace : p->free0, p->contract);
    snprintf(lg, sizeof lg, "%s%s%s", rows ? p->free0 : p->inplace, rows ? p->inplace : p->free0, p->free1);
    int xd[2] = {(int)R, (int)K};
    x = R > 1 ? arrange(g, p, lname, "in", src_op, x, p->in0, xo, 2, xd) : arrange(g, p, lname, "in", src_op, x, p->in0,
                                                                                    xo, 1, &xd[1]);
    int wd[2] = {(int)K, (int)N}, nb = (int)N;
    double *W = arena_array(&g->arena, (size_t)(K * N), sizeof(double));
    memset(W, 0, (size_t)(K * N) * sizeof(double));
    for (long b = 0; b < B; b++) {
        long i = rows ? b : b / L0;
        unrank(p, p->inplace, i, coord);
        for (long c = 0; c < C; c++) {
            unrank(p, p->contract, c, coord);
            for (long l1 = 0; l1 < L1; l1++) {
                unrank(p, p->free1, l1, coord);
                W[(b * C + c) * N + b * L1 + l1] = kernel[offset(p, p->in1, coord)];
            }
        }
    }
    int in[3] = {x, ir_add_const(g, fresh(g, lname, "weight"), 2, wd, W), -1};
    if (bias) {
        double *bv = arena_array(&g->arena, (size_t)N, sizeof(double));
        for (long j = 0; j < N; j++) {   /* the logical output element of row 0, column j */
            unrank(p, lg, j, coord);
            bv[j] = bias[p->out[0] ? offset(p, p->out, coord) : 0];
        }
        in[2] = ir_add_const(g, fresh(g, lname, "bias"), 1, &nb, bv);
    }
    int yd[2] = {(int)R, (int)N};
    int y = R > 1 ? add_node(g, OP_DENSE, lname, src_op, in, 3, 2, yd) : add_node(g, OP_DENSE, lname, src_op, in, 3, 1,
                                                                                   &yd[1]);
    g->n[g->nn - 1].hls_class = hls_class;
    return finish(g, p, lname, src_op, y, lg);
}

int einsum_emit(Graph *g, const EinsumPlan *p, const char *lname, const char *src_op, int x0, int x1)
{
    long I = p->I, C = p->C, L0 = p->L0, L1 = p->L1;
    char o0[3 * IR_MAX_RANK + 1], o1[3 * IR_MAX_RANK + 1], lg[3 * IR_MAX_RANK + 1];
    snprintf(o0, sizeof o0, "%s%s%s", p->inplace, p->free0, p->contract);
    snprintf(o1, sizeof o1, "%s%s%s", p->inplace, p->free1, p->contract);
    snprintf(lg, sizeof lg, "%s%s%s", p->inplace, p->free0, p->free1);
    int d0[3] = {(int)(I * L0), 1, (int)C}, d1[3] = {(int)I, 1, (int)(L1 * C)};
    int a = arrange(g, p, lname, "in0", src_op, x0, p->in0, o0, 3, d0);
    int b = arrange(g, p, lname, "in1", src_op, x1, p->in1, o1, 3, d1);
    if (L1 > 1) {   /* [I*L0, L1, C] */
        int rd[3] = {(int)(I * L0), (int)L1, (int)C};
        a = add_node(g, OP_UPSAMPLE, fresh(g, lname, "repeat0"), src_op, &a, 1, 3, rd);
        g->n[g->nn - 1].stride[1] = (int)L1;
        g->n[g->nn - 1].moves = true;
        g->n[g->nn - 1].layer = lname;
    }
    if (L0 > 1) {   /* [I, L0, L1*C] */
        int rd[3] = {(int)I, (int)L0, (int)(L1 * C)};
        b = add_node(g, OP_UPSAMPLE, fresh(g, lname, "repeat1"), src_op, &b, 1, 3, rd);
        g->n[g->nn - 1].stride[1] = (int)L0;
        g->n[g->nn - 1].moves = true;
        g->n[g->nn - 1].layer = lname;
    }
    int two[2] = {a, b}, pd[3] = {(int)(I * L0), (int)L1, (int)C}, sd[3] = {(int)(I * L0), (int)L1, 1};
    int prod = add_node(g, OP_MUL, fresh(g, lname, "product"), src_op, two, 2, 3, pd);
    g->n[g->nn - 1].layer = lname;
    int y = add_node(g, OP_DOT, lname, src_op, &prod, 1, 3, sd);
    g->n[g->nn - 1].hls_class = "Einsum";
    return finish(g, p, lname, src_op, y, lg);
}
