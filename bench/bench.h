/* bench.h — the simulator's own benchmarks (`make bench`): each section
 * prints its figures; nothing here is a test (targets are printed beside the
 * measurements, ARCHITECTURE.md, "Formats": performance targets live in bench/). */
#ifndef SFT_BENCH_H
#define SFT_BENCH_H

#include <stdio.h>

#include "base/base.h"

/* Runs fn in a child (fresh SimGrid) and returns the first number it printed. */
double bench_iso(int (*fn)(void *arg, FILE *out), void *arg);

void bench_core(void);
void bench_run(void);
void bench_sched(void);
void bench_scale(void);
void bench_repro(void);
void bench_reports(void);
void bench_steps(void);
/* Runs scenarios (argv-style, argv[0] ignored) in children and prints the
 * wall time per simulated step of each. */
void bench_run_scenarios(const char *title, const char *const *const *cases,
                         const char *const *names, int n);

#endif
