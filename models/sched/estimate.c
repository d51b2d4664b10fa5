/* estimate.c — scheduler time estimates (estimate.h). */
#include "models/sched/estimate.h"

#include <stdlib.h>
#include <string.h>

#include "sim/coll.h"

#define CACHE 4096

struct est {
    sched_in in;
    int impl, zero;
    double host, fixed;
    double lin_fwd, lin_bwd_post, lin_bwd_pre; /* per token per layer */
    int *group;
    double grad_rs; /* whole-model gradient reduce-scatter over the world */
    /* cache of per-length attention times: len -> (loc fwd, loc bwd, dst fwd, dst bwd) */
    double ckey[CACHE], cval[CACHE][4];
};

static double attn(const est *e, double len, int shard, int bwd)
{
    cost_seq s = cost_shard(len, shard);
    const arch *a = e->in.a;
    arch au = *a;
    if (shard > 1 && e->impl == BLD_ULYSSES) {
        s.q = s.k = len;
        if (a->heads % shard == 0) au.heads = a->heads / shard;
    }
    return cost_attn(e->in.c, &au, bwd, 1, &s, 1) - cost_gpu(e->in.c)->launch_s;
}

static const double *attn4(est *e, double len)
{
    unsigned long h = (unsigned long)len * 2654435761u % CACHE;
    if (e->ckey[h] != len) {
        e->ckey[h] = len;
        e->cval[h][0] = attn(e, len, 1, 0);
        e->cval[h][1] = attn(e, len, 1, 1);
        e->cval[h][2] = e->in.cp > 1 ? attn(e, len, e->in.cp, 0) : e->cval[h][0];
        e->cval[h][3] = e->in.cp > 1 ? attn(e, len, e->in.cp, 1) : e->cval[h][1];
    }
    return e->cval[h];
}

est *est_create(const sched_in *in, int cp_impl, int zero, double host_s)
{
    est *e = sft_xcalloc(1, sizeof *e);
    e->in = *in;
    e->impl = cp_impl;
    e->zero = zero;
    e->host = host_s;
    for (int i = 0; i < CACHE; i++) e->ckey[i] = -1;
    const arch *a = in->a;
    double tref = in->bucket > 0 ? (double)in->bucket : 8192, L = cost_gpu(in->c)->launch_s;
    for (int bwd = 0; bwd < 2; bwd++) {
        int n;
        const arch_op *ops = arch_layer_ops(a, bwd, &n);
        for (int i = 0; i < n; i++) {
            if (ops[i].kind == AOP_ATTN) continue;
            double t = (cost_op(in->c, a, &ops[i], tref, NULL, 0) - L) / tref;
            if (!bwd)
                e->lin_fwd += t;
            else if (ops[i].where == AW_POST)
                e->lin_bwd_post += t;
            else
                e->lin_bwd_pre += t;
        }
    }
    e->fixed = cost_mb_fixed(in->c, a);
    e->group = sft_xmalloc((size_t)(in->dp * in->cp) * sizeof *e->group);
    for (int i = 0; i < in->dp * in->cp; i++) e->group[i] = i;
    if (zero == 2 && in->dp * in->cp > 1)
        e->grad_rs = coll_estimate(in->cl, COLL_REDUCE_SCATTER, e->group, in->dp * in->cp,
                                   2 * arch_params(a));
    return e;
}

void est_destroy(est *e)
{
    if (!e) return;
    free(e->group);
    free(e);
}

double est_load(est *e, double len, int shard)
{
    const double *v = attn4(e, len);
    double lin = e->lin_fwd + e->lin_bwd_post + e->lin_bwd_pre;
    return e->in.a->layers * (lin * len / shard + (shard > 1 ? v[2] + v[3] : v[0] + v[1]));
}

void est_get_terms(const est *e, est_terms *t)
{
    t->lin_fwd = e->lin_fwd;
    t->lin_bwd_post = e->lin_bwd_post;
    t->lin_bwd_pre = e->lin_bwd_pre;
    t->fixed = e->fixed + e->host;
    t->grad_rs = e->grad_rs;
}

void est_attn(est *e, double len, double out[4])
{
    const double *v = attn4(e, len);
    for (int i = 0; i < 4; i++) out[i] = v[i];
}

void est_comm(est *e, double V, double *fwd, double *bwd_pre, double *bwd_post)
{
    *fwd = *bwd_pre = *bwd_post = 0;
    int N = e->in.cp;
    if (V <= 0 || N < 2) return;
    const arch *a = e->in.a;
    double kvh = (double)a->kv_heads * a->head_dim;
    const clu_desc *cl = e->in.cl;
    if (e->impl == BLD_ULYSSES) {
        double kvu = (double)(a->kv_heads >= N ? a->kv_heads : N) * a->head_dim;
        double qkv = V / N * (a->hidden + 2 * kvu) * 2, o = V / N * a->hidden * 2;
        double tq = coll_estimate(cl, COLL_ALL_TO_ALL, e->group, N, qkv);
        double to = coll_estimate(cl, COLL_ALL_TO_ALL, e->group, N, o);
        *fwd = tq + to;
        *bwd_post = tq + to;
    } else if (e->impl == BLD_RING) {
        double chunk = V / N * 2 * kvh * 2;
        *fwd = (N - 1) * coll_estimate(cl, COLL_RING_SHIFT, e->group, N, chunk);
        *bwd_post = (N - 1) * coll_estimate(cl, COLL_RING_SHIFT, e->group, N, 2 * chunk);
    } else {
        double kv = V * 2 * kvh * 2;
        *fwd = coll_estimate(cl, COLL_ALL_GATHER, e->group, N, kv);
        *bwd_pre = *fwd;
        *bwd_post = coll_estimate(cl, COLL_REDUCE_SCATTER, e->group, N, kv);
    }
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

double est_mb(est *e, const plan_mb *mb)
{
    int N = e->in.cp;
    double V = 0, dist_f = 0, dist_b = 0;
    double Tj[64] = {0}, locf[64] = {0}, locb[64] = {0};
    for (int i = 0; i < mb->n; i++) {
        double len = (double)mb->seq[i].len;
        const double *v = attn4(e, len);
        if (mb->seq[i].cp == PLAN_DIST && N > 1) {
            V += len;
            dist_f += v[2];
            dist_b += v[3];
            for (int j = 0; j < N; j++) Tj[j] += len / N;
        } else {
            int j = mb->seq[i].cp == PLAN_DIST ? 0 : mb->seq[i].cp;
            Tj[j] += len;
            locf[j] += v[0];
            locb[j] += v[1];
        }
    }
    double cf, cbp, cbq;
    est_comm(e, V, &cf, &cbp, &cbq);
    double worst = 0, worst_fwd = 0;
    for (int j = 0; j < N && j < 64; j++) {
        double fwd = e->lin_fwd * Tj[j] + max2(cf, locf[j]) + dist_f;
        double bwd = max2(cbp, e->lin_bwd_post * Tj[j]) + dist_b + max2(cbq, locb[j]) +
                     e->lin_bwd_pre * Tj[j];
        double t = e->in.a->layers * (fwd + bwd);
        if (t > worst) {
            worst = t;
            worst_fwd = e->in.a->layers * fwd;
        }
    }
    return max2(worst, worst_fwd + e->grad_rs) + e->fixed + e->host;
}

double est_rank(est *e, const plan_rank *r)
{
    double t = 0;
    for (int m = 0; m < r->nmb; m++) t += est_mb(e, &r->mb[m]);
    return t;
}

double est_plan(est *e, const plan *p)
{
    double worst = 0;
    for (int r = 0; r < p->dp; r++) worst = max2(worst, est_rank(e, &p->rank[r]));
    return worst;
}
