/* cost.c — kernel durations from calibration tables and the roofline. */
#include "models/hw/cost.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cost {
    hw_gpu gpu;
    cal *table;   /* may be NULL: roofline only */
    double scale; /* table device peak / this GPU's peak */
    char name[64];
};

sft_status cost_create(const hw_gpu *g, const char *calibration, cost **out, sft_err *e)
{
    cost *c = sft_xcalloc(1, sizeof *c);
    c->gpu = *g;
    sft_status st = SFT_OK;
    if (calibration) {
        st = cal_load(calibration, &c->table, e);
    } else {
        for (int i = 0; i < g->ncalibration && !c->table; i++)
            if (sft_builtin("calibration", g->calibration[i], NULL))
                st = cal_load(g->calibration[i], &c->table, e);
        if (!st && !c->table) st = cal_load("h100-fa2-published", &c->table, e);
    }
    if (st) {
        free(c);
        return st;
    }
    c->scale = cal_peak(c->table) / g->peak_flops;
    snprintf(c->name, sizeof c->name, "%s%s", cal_name(c->table),
             fabs(c->scale - 1) > 1e-9 ? " (scaled by peak)" : "");
    *out = c;
    return SFT_OK;
}

void cost_destroy(cost *c)
{
    if (!c) return;
    cal_destroy(c->table);
    free(c);
}

const char *cost_calibration(const cost *c)
{
    return c->name;
}
const hw_gpu *cost_gpu(const cost *c)
{
    return &c->gpu;
}

double cost_mem(const cost *c, double bytes)
{
    return bytes / (c->gpu.hbm_bw * cal_memory_efficiency(c->table)) + c->gpu.launch_s;
}

double cost_gemm(const cost *c, double m, double n, double k)
{
    double t = cal_gemm_time(c->table, m, n, k) * c->scale;
    if (t <= 0) {
        double fl = 2 * m * n * k, bytes = 2 * (m * k + k * n + m * n);
        double tc = fl / (c->gpu.peak_flops * cal_gemm_efficiency(c->table));
        double tm = bytes / (c->gpu.hbm_bw * cal_memory_efficiency(c->table));
        t = tc > tm ? tc : tm;
    }
    return t + c->gpu.launch_s;
}

double cost_attn(const cost *c, const cost_heads *a, int bwd, int causal, const cost_seq *s,
                 int nseq)
{
    double t = 0;
    for (int i = 0; i < nseq; i++) {
        if (s[i].q <= 0) continue;
        double fl = cal_attn_flops(bwd, causal, a->head_dim, a->heads, s[i].q, s[i].k);
        double tput = cal_attn_tput(c->table, bwd, causal, a->head_dim, s[i].q, s[i].k);
        if (tput > 0) {
            t += fl / tput * c->scale;
        } else {
            /* roofline: Q, K, V, O (and their gradients backward) in bf16 */
            double kvh = (double)a->kv_heads * a->head_dim;
            double bytes = 2 * (2 * s[i].q * a->hidden + 2 * s[i].k * kvh) * (bwd ? 2 : 1);
            double tc = fl / (c->gpu.peak_flops * cal_attn_efficiency(c->table));
            double tm = bytes / (c->gpu.hbm_bw * cal_memory_efficiency(c->table));
            t += tc > tm ? tc : tm;
        }
    }
    return t + c->gpu.launch_s;
}

cost_seq cost_shard(double len, int n)
{
    /* q = len/n queries and keys k such that q(k-q) + q(q+1)/2 = pairs/n */
    cost_seq s = {len / n, len};
    if (n > 1) {
        double pairs = len * (len + 1) / 2 / n;
        s.k = (pairs - s.q * (s.q + 1) / 2) / s.q + s.q;
    }
    return s;
}
