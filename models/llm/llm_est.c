/* llm_est.c — the decoder family's estimator terms (llm_est.h). */
#include "models/llm/llm_est.h"

#include <stdlib.h>

#include "models/llm/build.h"
#include "models/llm/opcost.h"
#include "sim/coll.h"

typedef struct llm_est {
    const arch *a;
    const cost *c;
    const clu_desc *cl;
    par_opts par;
    int *group; /* 0..world-1: the world and, as its prefix, a CP group */
} llm_est;

static double attn(const void *ctx, double len, int shard, int bwd)
{
    const llm_est *x = ctx;
    const arch *a = x->a;
    cost_seq s = cost_shard(len, shard);
    cost_heads h = arch_heads(a);
    if (shard > 1 && x->par.cp_impl == PAR_ULYSSES) {
        s.q = s.k = len;
        if (a->heads % shard == 0) h.heads = a->heads / shard;
    }
    return cost_attn(x->c, &h, bwd, 1, &s, 1) - cost_gpu(x->c)->launch_s;
}

static void comm(const void *ctx, double V, double *fwd, double *bwd_pre, double *bwd_post)
{
    const llm_est *x = ctx;
    const arch *a = x->a;
    int N = x->par.cp;
    double kvh = (double)a->kv_heads * a->head_dim;
    const clu_desc *cl = x->cl;
    if (x->par.cp_impl == PAR_ULYSSES) {
        double kvu = (double)(a->kv_heads >= N ? a->kv_heads : N) * a->head_dim;
        double qkv = V / N * (a->hidden + 2 * kvu) * 2, o = V / N * a->hidden * 2;
        double tq = coll_estimate(cl, COLL_ALL_TO_ALL, x->group, N, qkv);
        double to = coll_estimate(cl, COLL_ALL_TO_ALL, x->group, N, o);
        *fwd = tq + to;
        *bwd_post = tq + to;
    } else if (x->par.cp_impl == PAR_RING) {
        double chunk = V / N * 2 * kvh * 2;
        *fwd = (N - 1) * coll_estimate(cl, COLL_RING_SHIFT, x->group, N, chunk);
        *bwd_post = (N - 1) * coll_estimate(cl, COLL_RING_SHIFT, x->group, N, 2 * chunk);
    } else {
        double kv = V * 2 * kvh * 2;
        *fwd = coll_estimate(cl, COLL_ALL_GATHER, x->group, N, kv);
        *bwd_pre = *fwd;
        *bwd_post = coll_estimate(cl, COLL_REDUCE_SCATTER, x->group, N, kv);
    }
}

static void ctx_destroy(void *ctx)
{
    llm_est *x = ctx;
    free(x->group);
    free(x);
}

est *llm_est_create(const arch *a, const cost *c, const clu_desc *cl, const par_opts *par,
                    long bucket)
{
    llm_est *x = sft_xcalloc(1, sizeof *x);
    x->a = a;
    x->c = c;
    x->cl = cl;
    x->par = *par;
    int world = par->dp * par->cp;
    x->group = sft_xmalloc((size_t)world * sizeof *x->group);
    for (int i = 0; i < world; i++) x->group[i] = i;
    est_model m = {.cp = par->cp,
                   .layers = a->layers,
                   .host = par->host_overhead_s,
                   .attn = attn,
                   .comm = comm,
                   .ctx_destroy = ctx_destroy,
                   .ctx = x,
                   .comm_per_seq = par->cp_exchange == PAR_XCHG_PERSEQ,
                   .attn_launch = par->attn_call == PAR_ATTN_PERSEQ ? cost_gpu(c)->launch_s : 0};
    double tref = bucket > 0 ? (double)bucket : 8192, L = cost_gpu(c)->launch_s;
    arch_op ops[ARCH_MAX_OPS];
    for (int bwd = 0; bwd < 2; bwd++) {
        int n = arch_layer_ops(a, bwd, ops);
        for (int i = 0; i < n; i++) {
            if (ops[i].kind == AOP_ATTN) continue;
            double t = (llm_op_time(c, a, &ops[i], tref, NULL, 0) - L) / tref;
            if (!bwd)
                m.lin_fwd += t;
            else if (ops[i].where == AW_POST)
                m.lin_bwd_post += t;
            else
                m.lin_bwd_pre += t;
        }
    }
    m.fixed = llm_mb_fixed(c, a);
    /* the builder's gradient reductions (build.h, grad_bucket in build.c) */
    double total, last;
    bld_grad_times(a, cl, par, &total, &last);
    if (par->zero >= 2 && !par->overlap_comm) {
        m.grad_mb = total; /* every bucket, the backward waiting */
    } else if (par->zero == 2) {
        m.grad_rs = total - last; /* under the backward, */
        m.grad_mb = last;         /* the last after it (the epilogue waits) */
    } else if (par->zero == 3) {
        m.grad_rs = total;
    } else {
        /* ZeRO-0/1, at the boundary: after the backward, or from its hooks
         * with only the last after it */
        m.grad_step = par->overlap_comm ? last : total;
    }
    return est_create(&m);
}
