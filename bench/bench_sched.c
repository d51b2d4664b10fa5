/* bench_sched.c — the schedulers' own cost: median microseconds to schedule
 * one global batch (issue 5: K = 256 on DP 4 x CP 8, K = 8192 on DP 128 x
 * CP 8), LMsysChat1M lengths, Qwen2.5-7B, bucket 13312. The estimator is
 * built once per layout, as a scenario builds it once for all its steps. */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "models/llm/llm_est.h"
#include "models/sched/sched.h"
#include "traces/trace.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_sched(void)
{
    printf("== sched: median us per global batch (LMsysChat1M, Qwen2.5-7B, bucket 13312) ==\n");
    static const char *const pols[] = {"deepspeed", "sorted", "roundrobin", "dacp", "skrull"};
    static const int layouts[2][3] = {{4, 8, 256}, {128, 8, 8192}};
    arch a;
    hw_gpu g;
    cost *c = NULL;
    clu_desc cl;
    sft_err e;
    if (arch_load("qwen2.5-7b", &a, &e) || hw_gpu_load("h100-sxm", &g, &e) ||
        cost_create(&g, NULL, &c, &e) || clu_load("h100x8", &cl, &e) || clu_scale(&cl, 1024, &e)) {
        printf("setup failed: %s\n", e.msg);
        return;
    }
    for (int l = 0; l < 2; l++) {
        int dp = layouts[l][0], cp = layouts[l][1], K = layouts[l][2];
        int reps = K > 1000 ? 7 : 41;
        printf("K=%d on DP %d x CP %d:\n", K, dp, cp);
        par_opts par = {
            .dp = dp, .cp = cp, .cp_impl = PAR_ALLGATHER, .zero = 2, .host_overhead_s = 0.002};
        est *es = llm_est_create(&a, c, &cl, &par, 13312);
        sched_in in = sched_input(&par, 13312, es);
        for (int p = 0; p < 5; p++) {
            const sched_policy *pol = sched_find(pols[p]);
            double t[64];
            for (int r = 0; r < reps; r++) {
                trace_src *src = NULL;
                trace_batch b;
                int eof;
                if (trace_src_dataset("lmsyschat1m", 1, K, (uint64_t)r, &src, &e) ||
                    trace_src_next(src, &b, &eof, &e)) {
                    printf("trace failed: %s\n", e.msg);
                    trace_src_destroy(src);
                    est_destroy(es);
                    cost_destroy(c);
                    return;
                }
                for (size_t i = 0; i < b.n; i++)
                    if (b.s[i].len > 13312L * cp) b.s[i].len = 13312L * cp;
                plan *pl = NULL;
                double t0 = sft_wall();
                if (sched_run(pol, &in, b.s, b.n, &pl, &e))
                    printf("%s failed: %s\n", pols[p], e.msg);
                t[r] = sft_wall() - t0;
                plan_destroy(pl);
                trace_src_destroy(src);
            }
            qsort(t, (size_t)reps, sizeof t[0], cmp);
            printf("  %-11s %10.1f us\n", pols[p], 1e6 * t[reps / 2]);
        }
        est_destroy(es);
    }
    cost_destroy(c);
}
