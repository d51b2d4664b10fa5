/* estimate.c — the schedulers' micro-batch time model (estimate.h) over a
 * family's terms, with a cache of per-length attention times. */
#include "models/sched/estimate.h"

#include <stdlib.h>

#define CACHE 4096

struct est {
    est_model m;
    /* cache of per-length attention times: len -> (loc fwd, loc bwd, dst fwd, dst bwd) */
    double ckey[CACHE], cval[CACHE][4];
};

static const double *attn4(est *e, double len)
{
    unsigned long h = (unsigned long)len * 2654435761u % CACHE;
    if (e->ckey[h] != len) {
        const est_model *m = &e->m;
        e->ckey[h] = len;
        e->cval[h][0] = m->attn(m->ctx, len, 1, 0);
        e->cval[h][1] = m->attn(m->ctx, len, 1, 1);
        e->cval[h][2] = m->cp > 1 ? m->attn(m->ctx, len, m->cp, 0) : e->cval[h][0];
        e->cval[h][3] = m->cp > 1 ? m->attn(m->ctx, len, m->cp, 1) : e->cval[h][1];
    }
    return e->cval[h];
}

est *est_create(const est_model *m)
{
    est *e = sft_xcalloc(1, sizeof *e);
    e->m = *m;
    for (int i = 0; i < CACHE; i++) e->ckey[i] = -1;
    return e;
}

void est_destroy(est *e)
{
    if (!e) return;
    if (e->m.ctx_destroy) e->m.ctx_destroy(e->m.ctx);
    free(e);
}

double est_load(est *e, double len, int shard)
{
    const double *v = attn4(e, len);
    const est_model *m = &e->m;
    double lin = m->lin_fwd + m->lin_bwd_post + m->lin_bwd_pre;
    return m->layers *
           (lin * len / shard + (shard > 1 ? v[2] + v[3] : v[0] + v[1]) + 2 * m->attn_launch);
}

void est_get_terms(const est *e, est_terms *t)
{
    t->layers = e->m.layers;
    t->lin_fwd = e->m.lin_fwd;
    t->lin_bwd_post = e->m.lin_bwd_post;
    t->lin_bwd_pre = e->m.lin_bwd_pre;
    t->fixed = e->m.fixed + e->m.host + e->m.grad_mb;
    t->grad_rs = e->m.grad_rs;
}

void est_attn(est *e, double len, double out[4])
{
    const double *v = attn4(e, len);
    for (int i = 0; i < 4; i++) out[i] = v[i];
}

void est_comm(est *e, double V, double *fwd, double *bwd_pre, double *bwd_post)
{
    *fwd = *bwd_pre = *bwd_post = 0;
    if (V <= 0 || e->m.cp < 2) return;
    e->m.comm(e->m.ctx, V, fwd, bwd_pre, bwd_post);
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

double est_mb(est *e, const plan_mb *mb)
{
    const est_model *m = &e->m;
    int N = m->cp;
    double V = 0, dist_f = 0, dist_b = 0, cf = 0, cbp = 0, cbq = 0;
    double Tj[64] = {0}, locf[64] = {0}, locb[64] = {0};
    int nloc[64] = {0}, ndist = 0;
    for (int i = 0; i < mb->n; i++) {
        double len = (double)mb->seq[i].len;
        const double *v = attn4(e, len);
        if (mb->seq[i].cp == PLAN_DIST && N > 1) {
            V += len;
            ndist++;
            dist_f += v[2];
            dist_b += v[3];
            for (int j = 0; j < N; j++) Tj[j] += len / N;
            if (m->comm_per_seq) {
                double f, bp, bq;
                est_comm(e, len, &f, &bp, &bq);
                cf += f;
                cbp += bp;
                cbq += bq;
            }
        } else {
            int j = mb->seq[i].cp == PLAN_DIST ? 0 : mb->seq[i].cp;
            Tj[j] += len;
            locf[j] += v[0];
            locb[j] += v[1];
            if (j < 64) nloc[j]++;
        }
    }
    if (!m->comm_per_seq) est_comm(e, V, &cf, &cbp, &cbq);
    if (ndist > 1) {
        dist_f += (ndist - 1) * m->attn_launch;
        dist_b += (ndist - 1) * m->attn_launch;
    }
    for (int j = 0; j < N && j < 64; j++)
        if (nloc[j] > 1) {
            locf[j] += (nloc[j] - 1) * m->attn_launch;
            locb[j] += (nloc[j] - 1) * m->attn_launch;
        }
    double worst = 0, worst_fwd = 0;
    for (int j = 0; j < N && j < 64; j++) {
        double fwd = m->lin_fwd * Tj[j] + max2(cf, locf[j]) + dist_f;
        double bwd = max2(cbp, m->lin_bwd_post * Tj[j]) + dist_b + max2(cbq, locb[j]) +
                     m->lin_bwd_pre * Tj[j];
        double t = m->layers * (fwd + bwd);
        if (t > worst) {
            worst = t;
            worst_fwd = m->layers * fwd;
        }
    }
    return max2(worst, worst_fwd + m->grad_rs) + m->grad_mb + m->fixed + m->host;
}

double est_rank(est *e, const plan_rank *r)
{
    double t = 0;
    for (int m = 0; m < r->nmb; m++) t += est_mb(e, &r->mb[m]);
    return r->nmb ? t + e->m.grad_step : t;
}

double est_plan(est *e, const plan *p)
{
    double worst = 0;
    for (int r = 0; r < p->dp; r++) worst = max2(worst, est_rank(e, &p->rank[r]));
    return worst;
}
