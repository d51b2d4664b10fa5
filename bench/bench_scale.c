/* bench_scale.c — the simulator's speed against cluster size (issue 8):
 * wall time per simulated step at 32, 128, 512 and 1024 GPUs, op and layer
 * granularity; peak RSS; simulated activities per second; and the cost per
 * activity against a bare SimGrid loop of the same number of activities on
 * the same platform (the floor for any SimGrid tool). Targets: 32 GPUs <= 50
 * ms per step; 1024 GPUs <= 2 s per step at layer granularity and <= 2 GB
 * RSS; cost per activity <= 2x the bare loop. Each measurement runs in a
 * child process (fresh SimGrid, its own RSS). */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/bench.h"
#include "lab/scenario.h"
#include "base/iso.h"
#include "sim/sgx.h"

typedef struct job {
    long gpus;
    int layer;
    uint64_t activities; /* bare loop: how many */
} job;

static long rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int scenario_child(void *arg, FILE *out)
{
    const job *j = arg;
    char gpus[32];
    snprintf(gpus, sizeof gpus, "%ld", j->gpus);
    char *argv[] = {
        "bench", "--gpus", gpus, "--steps", "2", "--granularity", j->layer ? "layer" : "op", NULL};
    scen_opts o;
    scenario s;
    sft_err e;
    if (scen_parse(7, argv, "bench", &o, NULL, NULL, NULL, &e) || scen_resolve(&o, &s, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double t0 = sft_wall();
    scen_result *r;
    if (scen_simulate(&s, s.policy, 0, &r, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double wall = sft_wall() - t0;
    fprintf(out, "%.6f %d %.6f %llu %ld %.6f %.6f\n", wall, r->run->nsteps, r->run->wall_s,
            (unsigned long long)r->run->sim_events, rss_kb(), r->build_s, r->sched_s);
    scen_result_destroy(r);
    scen_release(&s);
    return 0;
}

typedef struct bare {
    long n;
} bare;

static void bare_actor(void *arg)
{
    const bare *b = arg;
    for (long i = 0; i < b->n; i++) sgx_exec(1e-6);
}

/* The same number of activities as plain back-to-back executions, spread
 * over three actors per GPU like the engine's streams. */
static int bare_child(void *arg, FILE *out)
{
    const job *j = arg;
    clu_desc c;
    sft_err e;
    if (clu_load("h100x32", &c, &e) || clu_scale(&c, j->gpus, &e)) return 1;
    if (sgx_platform(&c, &e)) return 1;
    long actors = 3 * j->gpus;
    bare b = {(long)(j->activities / (uint64_t)actors) + 1};
    for (long a = 0; a < actors; a++) sgx_spawn("bare", (int)(a % j->gpus), bare_actor, &b);
    double t0 = sft_wall();
    uint64_t a0 = sgx_activities();
    sgx_run();
    fprintf(out, "%.6f %llu\n", sft_wall() - t0, (unsigned long long)(sgx_activities() - a0));
    return 0;
}

void bench_scale(void)
{
    printf("== scale: default scenario (Qwen2.5-7B, LMsysChat1M, deepspeed, CP 8) scaled ==\n");
    printf("%6s %6s %12s %10s %10s %12s %12s %10s\n", "GPUs", "gran", "ms/step", "RSS MB",
           "activities", "activities/s", "ns/activity", "vs bare");
    static const long sizes[] = {32, 128, 512, 1024};
    for (int i = 0; i < 4; i++) {
        for (int layer = 1; layer >= 0; layer--) {
            job j = {sizes[i], layer, 0};
            char *out = NULL;
            int code;
            sft_err e;
            if (iso_run(scenario_child, &j, &out, NULL, &code, &e) || code) {
                printf("%6ld %6s failed\n", j.gpus, layer ? "layer" : "op");
                free(out);
                continue;
            }
            double wall, eng, build, sched;
            int steps;
            unsigned long long ev;
            long rss;
            if (sscanf(out, "%lf %d %lf %llu %ld %lf %lf", &wall, &steps, &eng, &ev, &rss, &build,
                       &sched) != 7) {
                free(out);
                continue;
            }
            free(out);
            j.activities = ev;
            double bwall = -1;
            unsigned long long bev = 0;
            if (!iso_run(bare_child, &j, &out, NULL, &code, &e) && !code)
                if (sscanf(out, "%lf %llu", &bwall, &bev) != 2) bwall = -1;
            free(out);
            double per = ev ? 1e9 * eng / (double)ev : 0,
                   bper = bev ? 1e9 * bwall / (double)bev : 0;
            printf("%6ld %6s %12.1f %10.1f %10llu %12.0f %12.0f %9.2fx\n", j.gpus,
                   layer ? "layer" : "op", 1e3 * wall / steps, rss / 1024.0,
                   ev / (unsigned long long)steps, eng > 0 ? (double)ev / eng : 0, per,
                   bper > 0 ? per / bper : 0);
        }
    }
    printf("targets: 32 GPUs <= 50 ms/step; 1024 GPUs layer <= 2000 ms/step and <= 2048 MB; "
           "<= 2x bare\n");
}
