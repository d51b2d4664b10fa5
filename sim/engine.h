/* engine.h — executes a program on the SimGrid platform.
 *
 * One SimGrid actor per (GPU, stream) walks its op list. Runs of consecutive
 * COMPUTE/DELAY/ALLOC/FREE ops (no synchronisation inside) execute as ONE
 * SimGrid activity, and the log expands the run back into its ops with
 * offsets proportional to their durations (exact unless the NCCL slowdown
 * changed speed mid-run, then proportional). A collective starts when its
 * last member arrives: that member's actor runs the phases (latency, then
 * the concurrent flows) while the others wait; the GPUs involved compute at
 * reduced speed meanwhile (cluster comm_compute_slowdown).
 *
 * The result gives, for every op, its start and end (seconds from the start
 * of this simulation); for a COLL op start is the GPU's arrival, and the
 * collective's own begin (all arrived) and end are in coll_begin/coll_end.
 */
#ifndef SFT_ENGINE_H
#define SFT_ENGINE_H

#include <stdint.h>

#include "sim/cluster.h"
#include "sim/prog.h"

typedef struct eng_result {
    int ngpus;
    double makespan;              /* seconds: the last op's end */
    double *start[PROG_NSTREAMS]; /* start[s][off[g] + i] for op i of GPU g's stream s */
    double *end[PROG_NSTREAMS];
    uint64_t *off[PROG_NSTREAMS];  /* ngpus + 1 offsets */
    double *coll_begin, *coll_end; /* per collective instance */
    uint64_t activities;           /* SimGrid activities this run started */
    uint64_t ops;                  /* ops executed */
    double wall_s;                 /* host time the simulation took */
} eng_result;

/* Runs p on cluster c (the platform is built on first use; a second, different
 * cluster in one process is EINTERNAL — run it in a child, see iso.h).
 * Creates *out (eng_result_destroy). */
sft_status eng_run(const clu_desc *c, const prog *p, eng_result **out, sft_err *e);
void eng_result_destroy(eng_result *r);

#endif
