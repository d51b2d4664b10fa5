/* bench.c — `sftsim-bench [SECTION...]`: runs the benchmark sections (all by
 * default) and prints their figures. */
#include "bench/bench.h"

#include <stdlib.h>
#include <string.h>

#include "base/iso.h"

double bench_iso(int (*fn)(void *arg, FILE *out), void *arg)
{
    char *out = NULL;
    int code;
    sft_err e;
    if (iso_run(fn, arg, &out, NULL, &code, &e) || code != 0) {
        fprintf(stderr, "sftsim-bench: a benchmark child failed (exit %d)\n", code);
        free(out);
        return -1;
    }
    double v = atof(out);
    free(out);
    return v;
}

typedef struct section {
    const char *name;
    void (*fn)(void);
} section;

static const section sections[] = {
    {"core", bench_core},   {"run", bench_run},     {"sched", bench_sched},
    {"scale", bench_scale}, {"repro", bench_repro}, {"reports", bench_reports},
    {"steps", bench_steps},
};

int main(int argc, char **argv)
{
    size_t n = sizeof sections / sizeof sections[0];
    for (size_t i = 0; i < n; i++) {
        int want = argc < 2;
        for (int a = 1; a < argc; a++) want |= strcmp(argv[a], sections[i].name) == 0;
        if (want) sections[i].fn();
    }
    return 0;
}
