/* bench_core.c — platform construction and one large collective at 1024 GPUs
 * (issue 2 targets: build < 0.5 s, 1 GiB all-reduce over 1024 GPUs < 1 s). */
#include <stdlib.h>

#include "bench/bench.h"
#include "sim/cluster.h"
#include "sim/collsim.h"
#include "base/iso.h"
#include "sim/sgx.h"

static int build_child(void *arg, FILE *out)
{
    long n = *(long *)arg;
    clu_desc c;
    sft_err e;
    if (clu_load("h100x8", &c, &e) || clu_scale(&c, n, &e)) return 1;
    double t0 = sft_wall();
    if (sgx_platform(&c, &e)) return 1;
    fprintf(out, "%.9f\n", sft_wall() - t0);
    return 0;
}

static int allreduce_child(void *arg, FILE *out)
{
    long n = *(long *)arg;
    clu_desc c;
    sft_err e;
    collsim_row row;
    double S = 1073741824.0, wall = 0;
    if (clu_load("h100x8", &c, &e) || clu_scale(&c, n, &e)) return 1;
    double t0 = sft_wall();
    if (collsim_run(&c, COLL_ALL_REDUCE, (int)n, &S, 1, &row, &wall, &e)) return 1;
    fprintf(out, "%.9f %.9f %.3f\n", sft_wall() - t0, row.time_s, row.busbw / 1e9);
    return 0;
}

void bench_core(void)
{
    printf("== core: platform and collectives (h100x8 scaled) ==\n");
    const long sizes[] = {8, 128, 1024};
    for (int i = 0; i < 3; i++) {
        long n = sizes[i];
        double t = 1e9;
        for (int r = 0; r < 3; r++) {
            double v = bench_iso(build_child, &n);
            if (v >= 0 && v < t) t = v;
        }
        printf("platform build, %5ld GPUs: %8.2f ms (best of 3)%s\n", n, t * 1e3,
               n == 1024 ? "   target < 500 ms" : "");
    }
    for (int i = 0; i < 3; i++) {
        long n = sizes[i];
        char *out = NULL;
        int code;
        sft_err e;
        if (iso_run(allreduce_child, &n, &out, NULL, &code, &e) || code) {
            printf("all_reduce 1 GiB, %ld GPUs: failed\n", n);
            free(out);
            continue;
        }
        double wall, sim, bus;
        if (sscanf(out, "%lf %lf %lf", &wall, &sim, &bus) == 3)
            printf("all_reduce 1 GiB, %5ld GPUs: %8.2f ms wall (simulated %.2f ms, busbw %.1f "
                   "GB/s)%s\n",
                   n, wall * 1e3, sim * 1e3, bus, n == 1024 ? "   target < 1000 ms" : "");
        free(out);
    }
}
