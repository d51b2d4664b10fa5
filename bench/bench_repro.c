/* bench_repro.c — wall time of `sftsim reproduce skrull` (issue 8 target:
 * under 2 minutes here), run in a child with its tables discarded. */
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "base/iso.h"

static int child(void *arg, FILE *out)
{
    (void)arg;
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) return 1;
    char *argv[] = {"reproduce", "skrull", NULL};
    double t0 = sft_wall();
    int rc = cli_reproduce(2, argv);
    fprintf(out, "%.3f %d\n", sft_wall() - t0, rc);
    return rc;
}

void bench_repro(void)
{
    printf("== reproduce: sftsim reproduce skrull (target < 120 s) ==\n");
    char *out = NULL;
    int code;
    sft_err e;
    double wall = -1;
    if (!iso_run(child, NULL, &out, NULL, &code, &e) && !code && sscanf(out, "%lf", &wall) == 1)
        printf("six settings x (deepspeed packed and unpacked, sorted, skrull), 4 steps each: "
               "%.1f s wall\n",
               wall);
    else
        printf("failed (exit %d)\n", code);
    free(out);
}
