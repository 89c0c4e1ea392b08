/* stream_sim.c — the io_stream handshakes in C: the same counters, credits
 * and FIFOs as the Verilog, cycle by cycle, images back to back at full input
 * rate.  Gives the latency and II the report states, sizes the merge FIFOs,
 * and the first three images' timing that the test benches check. */
#include <stdlib.h>
#include <string.h>

#include "hw/stream.h"

/* ---- timing: the handshakes in C ------------------------------------------ */

typedef struct {
    long gy, gx, ny, nx, oy, ox;   /* ST_UP: gx input column, ox repeat, gy row repeat */
    long qa, qb;                   /* ST_MERGE: input FIFO items */
    int fire;
    int *vp;        /* valid pipeline, lat + 1 entries */
    long cnt, occ;  /* FIFO items, FIFO items + reservations */
    long cool;      /* a folded kernel's busy cycles left */
} StageSim;

/* A window stage's position produces an output (a window for the kernel). */
static int sim_hit(const Stage *st, const StageSim *q)
{
    return q->gy == q->ny && q->oy != st->OH && q->gx == q->nx && q->ox != st->OW;
}

/* maxq (may be NULL): per stage, the largest occupancy of the two merge input FIFOs */
int stream_timing_run(const Stream *s, StreamTiming *tm, long *maxq)
{
    const int NIMG = 4;
    memset(tm, 0, sizeof *tm);
    tm->pixels = s->P0;
    StageSim *ss = calloc(s->nst + 1, sizeof(StageSim));
    long *cn = calloc(s->ncol + 1, sizeof(long));
    int *pend = calloc(s->ncol + 1, sizeof(int));
    size_t nt = s->fg.nt + 1;
    int *sv = calloc(nt, sizeof(int)), *sr = calloc(nt, sizeof(int));
    int *rdy = calloc(s->nst + 1, sizeof(int)), *rdy2 = calloc(s->nst + 1, sizeof(int));
    int *crdy = calloc(s->ncol + 1, sizeof(int));
    long first[4], last[4], outc[4];
    int rc = -1;
    int *vpar = NULL;
    if (!ss || !cn || !pend || !sv || !sr || !rdy || !rdy2 || !crdy)
        goto done;
    for (size_t i = 0; i < s->nst; i++) {
        const Stage *st = &s->st[i];
        ss[i].vp = calloc((size_t)st->lat + 2, sizeof(int));
        ss[i].ny = st->y0;
        ss[i].nx = st->x0;
    }
    vpar = calloc((size_t)s->plat + 1, sizeof(int));
    if (!vpar)
        goto done;
    long fed = 0, nout = 0;   /* pixels accepted, images out */
    long pcool = 0;           /* the parallel part's busy cycles left */
    long slow = s->pii;       /* the largest ReuseFactor: a bound on the cycles each image may take */
    for (size_t i = 0; i < s->nst; i++)
        slow = s->st[i].reuse > slow ? s->st[i].reuse : slow;
    long bound = (long)NIMG * (s->P0 + 64) * 64 * slow + 100000;
    for (long cyc = 0; cyc < bound && (nout < NIMG || fed < (long)NIMG * s->P0); cyc++) {
        /* ready and valid from the state */
        for (size_t i = 0; i < s->nst; i++) {
            const Stage *st = &s->st[i];
            StageSim *q = &ss[i];
            int can = st->fifo ? q->occ < st->fifo : 1;
            int real = 1;
            if (st->kind == ST_WINDOW) {
                real = q->gy >= st->pt && q->gy < st->pt + st->H && q->gx >= st->pl && q->gx < st->pl + st->W;
                can &= !(q->cool > 0 && sim_hit(st, q));
            }
            if (st->kind == ST_UP)
                real = q->gy == 0 && q->ox == 0;
            rdy[i] = can && real;
            if (st->kind == ST_MERGE) {
                rdy[i] = q->qa < st->qa;
                rdy2[i] = q->qb < st->qb;
            }
            sv[st->out] = st->fifo ? q->cnt > 0 : q->vp[st->lat];
        }
        for (size_t j = 0; j < s->ncol; j++)
            crdy[j] = !(cn[j] == s->col[j].P - 1 && ((s->ncol > 1 && pend[j]) || pcool > 0));
        sv[s->in_tensor] = fed < (long)NIMG * s->P0;
        for (size_t t = 0; t < nt; t++)
            sr[t] = 1;
        for (size_t i = 0; i < s->nst; i++) {
            sr[s->st[i].in] &= rdy[i];
            if (s->st[i].in2 >= 0)
                sr[s->st[i].in2] &= rdy2[i];
        }
        for (size_t j = 0; j < s->ncol; j++)
            sr[s->col[j].tensor] &= crdy[j];
        /* the source */
        if (sv[s->in_tensor] && sr[s->in_tensor]) {
            long img = fed / s->P0, px = fed % s->P0;
            if (px == 0)
                first[img] = cyc;
            if (px == s->P0 - 1)
                last[img] = cyc;
            fed++;
        } else if (sv[s->in_tensor]) {
            tm->throttled = 1;
        }
        /* collectors */
        int fire = 1;
        int done[64];
        for (size_t j = 0; j < s->ncol && j < 64; j++) {
            const Collector *c = &s->col[j];
            int take = sv[c->tensor] && sr[c->tensor];
            done[j] = take && cn[j] == c->P - 1;
            if (take)
                cn[j] = cn[j] == c->P - 1 ? 0 : cn[j] + 1;
            fire &= pend[j] || done[j];
        }
        for (size_t j = 0; j < s->ncol && j < 64; j++)
            pend[j] = fire ? 0 : pend[j] || done[j];
        pcool = fire ? s->pii - 1 : pcool > 0 ? pcool - 1 : 0;
        /* stages */
        for (size_t i = 0; i < s->nst; i++) {
            const Stage *st = &s->st[i];
            StageSim *q = &ss[i];
            int take = sv[st->in] && sr[st->in];
            int f, res;
            if (st->kind == ST_WINDOW) {
                int hit = sim_hit(st, q);
                int can = (st->fifo ? q->occ < st->fifo : 1) && !(q->cool > 0 && hit);
                int real = q->gy >= st->pt && q->gy < st->pt + st->H && q->gx >= st->pl && q->gx < st->pl + st->W;
                int adv = can && (real ? take : 1);
                f = q->fire;
                q->fire = adv && hit;
                res = adv && hit;
                q->cool = res ? st->reuse - 1 : q->cool > 0 ? q->cool - 1 : 0;
                if (adv) {
                    if (q->gx == st->Gw - 1) {
                        q->gx = 0, q->nx = st->x0, q->ox = 0;
                        if (q->gy == st->Gh - 1) {
                            q->gy = 0, q->ny = st->y0, q->oy = 0;
                        } else {
                            if (q->gy == q->ny && q->oy != st->OH)
                                q->ny += st->sh, q->oy++;
                            q->gy++;
                        }
                    } else {
                        if (q->gx == q->nx && q->ox != st->OW)
                            q->nx += st->sw, q->ox++;
                        q->gx++;
                    }
                }
            } else if (st->kind == ST_UP) {
                int can = st->fifo ? q->occ < st->fifo : 1;
                int need = q->gy == 0 && q->ox == 0;
                f = can && (need ? take : 1);
                res = f;
                if (f && ++q->ox == st->sw) {
                    q->ox = 0;
                    if (++q->gx == st->W) {
                        q->gx = 0;
                        if (++q->gy == st->sh)
                            q->gy = 0;
                    }
                }
            } else if (st->kind == ST_MERGE) {
                int can = st->fifo ? q->occ < st->fifo : 1;
                int take2 = sv[st->in2] && sr[st->in2];
                f = can && q->qa > 0 && q->qb > 0;
                res = f;
                q->qa += take - f;
                q->qb += take2 - f;
                if (maxq && q->qa > maxq[2 * i])
                    maxq[2 * i] = q->qa;
                if (maxq && q->qb > maxq[2 * i + 1])
                    maxq[2 * i + 1] = q->qb;
            } else {
                f = take;
                res = take;
            }
            int kv = st->lat == 0 ? f : q->vp[st->lat - 1];
            int pop = st->fifo && q->cnt > 0 && sr[st->out];
            for (int k = st->lat; k > 0; k--)
                q->vp[k] = q->vp[k - 1];
            q->vp[0] = f;
            if (st->fifo) {
                q->cnt += kv - pop;
                q->occ += res - pop;
                if (q->cnt > st->fifo || q->occ > st->fifo)
                    goto done;   /* cannot happen: the credit bounds it */
            }
        }
        /* the parallel part */
        if (vpar[s->plat - 1]) {
            if (nout < NIMG)
                outc[nout] = cyc;
            nout++;
        }
        for (int k = s->plat - 1; k > 0; k--)
            vpar[k] = vpar[k - 1];
        vpar[0] = fire;
    }
    if (nout >= NIMG) {
        /* out_valid is seen after the edge of cycle outc: count edges */
        for (int i = 0; i < NIMG; i++) {
            long a = outc[i] - first[i], b = outc[i] - last[i];
            if (i == 0 || a > tm->lat_first)
                tm->lat_first = a;
            if (i == 0 || b > tm->lat_last)
                tm->lat_last = b;
        }
        tm->ii = outc[NIMG - 1] - outc[NIMG - 2];
        for (int i = 0; i < 3; i++) {
            long a = outc[i] - first[i], b = outc[i] - last[i];
            if (i == 0 || a > tm->chk_first)
                tm->chk_first = a;
            if (i == 0 || b > tm->chk_last)
                tm->chk_last = b;
        }
        tm->chk_ii = outc[2] - outc[1];
        rc = 0;
    }
done:
    free(vpar);
    for (size_t i = 0; ss && i < s->nst; i++)
        free(ss[i].vp);
    free(ss);
    free(cn);
    free(pend);
    free(sv);
    free(sr);
    free(rdy);
    free(rdy2);
    free(crdy);
    return rc;
}

void stream_set_fit(Stream *s, const char *fit_json)
{
    s->rtl.fit = fit_json;
}

int stream_timing(const Stream *s, StreamTiming *tm)
{
    return stream_timing_run(s, tm, NULL);
}

