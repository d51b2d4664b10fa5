/* bench_steps.c — `sftsim run --steps 100` against `--steps 1000` on the
 * default scenario (issue 11 target: ten times the steps in at most 12x the
 * wall time). Every step is the same work, so anything beyond 10x is a pass
 * whose cost grows faster than the run (the summary once walked every op
 * once per step: 184 s for 1000 steps of a 25 s simulation). Each run is
 * the command itself (cli_run, its JSON discarded after reading the
 * engine's own time) in a child with its own platform. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "base/iso.h"

#define TARGET_RATIO 12.0

static int child(void *arg, FILE *out)
{
    const char *steps = arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/sftsim-bench-steps.%ld.json", (long)getpid());
    if (!freopen(path, "w", stdout) || !freopen("/dev/null", "w", stderr)) return 1;
    char *argv[] = {"run", "--steps", (char *)steps, "--format", "json", NULL};
    double t0 = sft_wall();
    int rc = cli_run(5, argv);
    double wall = sft_wall() - t0;
    fflush(stdout);
    char *text = NULL;
    size_t len;
    sft_err e;
    double engine = -1;
    if (!rc && !sft_read_file(path, &text, &len, &e)) {
        cJSON *j = cJSON_Parse(text);
        const cJSON *w = cJSON_GetObjectItem(j, "wall_s");
        if (cJSON_IsNumber(w)) engine = w->valuedouble;
        cJSON_Delete(j);
    }
    free(text);
    remove(path);
    fprintf(out, "%.6f %.6f\n", wall, engine);
    return rc;
}

void bench_steps(void)
{
    printf("== steps: sftsim run --steps 100 vs 1000, default scenario (target <= %.0fx) ==\n",
           TARGET_RATIO);
    static const char *const steps[2] = {"100", "1000"};
    double wall[2] = {-1, -1}, engine[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        char *out = NULL;
        int code;
        sft_err e;
        if (iso_run(child, (void *)steps[i], &out, NULL, &code, &e) || code ||
            sscanf(out, "%lf %lf", &wall[i], &engine[i]) != 2) {
            printf("--steps %-5s failed (exit %d)\n", steps[i], code);
            free(out);
            return;
        }
        free(out);
        printf("--steps %-5s %8.1f s wall (engine %.1f s, everything else %.1f s)\n", steps[i],
               wall[i], engine[i], wall[i] - engine[i]);
    }
    double r = wall[1] / wall[0], re = engine[1] / engine[0];
    double rest = (wall[1] - engine[1]) / (wall[0] - engine[0]);
    printf("ratio 1000/100: %.1fx wall (target <= %.0fx: %s); engine %.1fx, everything else "
           "%.1fx\n",
           r, TARGET_RATIO, r <= TARGET_RATIO ? "met" : "MISSED", re, rest);
}
