/* bench_run.c — wall time per simulated step of whole scenarios (issue 4
 * target: Qwen2.5-7B on 32 GPUs <= 50 ms per step). Each scenario runs in a
 * child process with its own platform. */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "lab/scenario.h"
#include "base/iso.h"

typedef struct job {
    const char *const *args;
} job;

static int child(void *arg, FILE *out)
{
    const job *j = arg;
    char *argv[64];
    int argc = 0;
    for (int i = 0; j->args[i] && argc < 63; i++) argv[argc++] = (char *)j->args[i];
    argv[argc] = NULL;
    scen_opts o;
    scenario s;
    sft_err e;
    if (scen_parse(argc, argv, "bench", &o, NULL, NULL, NULL, &e) || scen_resolve(&o, &s, &e)) {
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
    fprintf(out, "%.6f %d %.6f %llu %.4f\n", wall, r->run->nsteps, r->run->wall_s,
            (unsigned long long)r->run->sim_events, r->run->mean_step_s);
    scen_result_destroy(r);
    scen_release(&s);
    return 0;
}

void bench_run_scenarios(const char *title, const char *const *const *cases,
                         const char *const *names, int n)
{
    printf("== %s ==\n", title);
    for (int i = 0; i < n; i++) {
        job j = {cases[i]};
        char *out = NULL;
        int code;
        sft_err e;
        if (iso_run(child, &j, &out, NULL, &code, &e) || code) {
            printf("%-44s failed\n", names[i]);
            free(out);
            continue;
        }
        double wall, simw, step;
        int steps;
        unsigned long long ev;
        if (sscanf(out, "%lf %d %lf %llu %lf", &wall, &steps, &simw, &ev, &step) == 5)
            printf("%-44s %8.1f ms wall per simulated step (engine %.1f ms; %llu activities, "
                   "%.0f ns each; simulated step %.3f s)\n",
                   names[i], 1e3 * wall / steps, 1e3 * simw / steps, ev / (unsigned long long)steps,
                   ev ? 1e9 * simw / (double)ev : 0, step);
        free(out);
    }
}

void bench_run(void)
{
    static const char *const def[] = {"bench", NULL};
    static const char *const layer[] = {"bench", "--granularity", "layer", NULL};
    static const char *const nopack[] = {"bench", "--ds-pack", "off", "--steps", "1", NULL};
    static const char *const *const cases[] = {def, layer, nopack};
    static const char *const names[] = {"default (Qwen2.5-7B, 32 GPUs, deepspeed)",
                                        "default, --granularity layer",
                                        "default, --ds-pack off (64 micro-batches)"};
    bench_run_scenarios("run: whole scenarios (target <= 50 ms/step at 32 GPUs)", cases, names, 3);
}
