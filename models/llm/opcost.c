/* opcost.c — decoder ops on the kernel cost model (opcost.h). */
#include "models/llm/opcost.h"

#include <string.h>

#include "models/hw/calib.h"

double llm_op_time(const cost *c, const arch *a, const arch_op *op, double T, const cost_seq *s,
                   int nseq)
{
    double m, n, k;
    cost_heads h;
    switch (op->kind) {
    case AOP_GEMM:
        arch_gemm_dims(op, T, &m, &n, &k);
        return T > 0 ? cost_gemm(c, m, n, k) : 0;
    case AOP_MEM:
        return T > 0 ? cost_mem(c, op->bytes_per_token * T) : 0;
    case AOP_ATTN:
        h = arch_heads(a);
        return nseq > 0 ? cost_attn(c, &h, strstr(op->name, "bwd") != NULL, 1, s, nseq) : 0;
    }
    return 0;
}

double llm_op_flops(const arch *a, const arch_op *op, double T, const cost_seq *s, int nseq)
{
    double m, n, k, fl = 0;
    switch (op->kind) {
    case AOP_GEMM:
        arch_gemm_dims(op, T, &m, &n, &k);
        return 2 * m * n * k;
    case AOP_MEM:
        return 0;
    case AOP_ATTN:
        for (int i = 0; i < nseq; i++)
            fl += cal_attn_flops(strstr(op->name, "bwd") != NULL, 1, a->head_dim, a->heads, s[i].q,
                                 s[i].k);
        return fl;
    }
    return 0;
}

double llm_mb_fixed(const cost *c, const arch *a)
{
    arch_op ops[ARCH_MAX_OPS];
    int n0 = arch_layer_ops(a, 0, ops), n1 = arch_layer_ops(a, 1, ops), h[4];
    h[0] = arch_head_ops(a, 0, 1, ops);
    h[1] = arch_head_ops(a, 0, 0, ops);
    h[2] = arch_head_ops(a, 1, 1, ops);
    h[3] = arch_head_ops(a, 1, 0, ops);
    return cost_gpu(c)->launch_s * (a->layers * (n0 + n1) + h[0] + h[1] + h[2] + h[3]);
}

void llm_attn_cp(const cost *c, const arch *a, double len, int cp, llm_attn_cp_pt *out)
{
    cost_heads h = arch_heads(a);
    cost_seq whole = {len, len}, s = cost_shard(len, cp);
    double launch = cost_gpu(c)->launch_s, t1 = 0, tn = 0;
    out->q = s.q;
    out->k = s.k;
    for (int bwd = 0; bwd < 2; bwd++) {
        double t = cost_attn(c, &h, bwd, 1, &s, 1);
        out->flops[bwd] = cal_attn_flops(bwd, 1, a->head_dim, a->heads, s.q, s.k);
        out->time_s[bwd] = t;
        out->tflops[bwd] = t > launch ? out->flops[bwd] / (t - launch) / 1e12 : 0;
        out->tflops_eff[bwd] = out->flops[bwd] / t / 1e12;
        t1 += cost_attn(c, &h, bwd, 1, &whole, 1);
        tn += t;
    }
    out->slowdown = cp * tn / t1;
}
