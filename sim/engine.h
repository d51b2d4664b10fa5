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
 * Host dispatch (prog.h, prog_set_dispatch > 0): each GPU's host thread
 * issues its ops in the program's issue order at H_k = H_{k-1} + the op's
 * dispatch cost, running ahead of the GPU and stopping only at DELAY ops
 * (synchronisations: its clock becomes their end). No op starts before its
 * issue time: a stream that gets there first sleeps, and that sleep is the
 * op's host wait (host-bound time). Runs of compute work stay one activity
 * while the host is ahead and split where it is not (engine.c). There is no
 * extra actor: the host's clock is bookkeeping the stream actors share.
 *
 * A program needs one actor per non-empty stream; one whose actors would
 * exhaust the process's memory mappings is EINFEASIBLE before anything runs
 * (eng_check_maps).
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
    /* host_wait[s][off[g] + i]: seconds op i waited for the host to issue
     * it, right before its start; NULL without the host model */
    double *host_wait[PROG_NSTREAMS];
    uint64_t activities; /* SimGrid activities this run started */
    uint64_t ops;        /* ops executed */
    double wall_s;       /* host time the simulation took */
} eng_result;

/* Runs p on cluster c (the platform is built on first use; a second, different
 * cluster in one process is EINTERNAL — run it in a child, see iso.h).
 * Creates *out (eng_result_destroy). */
sft_status eng_run(const clu_desc *c, const prog *p, eng_result **out, sft_err *e);
void eng_result_destroy(eng_result *r);

/* Memory mappings: every actor costs ENG_MAPS_PER_ACTOR of the kernel's
 * per-process mappings while it lives (its stack and guard page, measured:
 * engine.c), and the kernel caps them at vm.max_map_count; SimGrid aborts
 * when a stack cannot be mapped. eng_run checks, before it spawns anything,
 * that the program's actors fit with ENG_MAPS_MARGIN to spare for what the
 * simulation maps as it runs. Measured at 1024 and 4096 GPUs (3072 and
 * 12288 actors): the mappings in use during the run were those at the
 * check plus exactly 2 per actor; the margin is for malloc's separately
 * mapped large blocks and costs about 1.5% of the largest cluster. */
#define ENG_MAPS_PER_ACTOR 2
#define ENG_MAPS_MARGIN    1024
/* The lines of /proc/self/maps, or -1 where there is none. */
long eng_maps_in_use(void);
/* vm.max_map_count, or -1 where it cannot be read (no check then). */
long eng_max_map_count(void);
/* EINFEASIBLE when `actors` actors for a program over ngpus GPUs do not
 * fit under limit mappings with in_use already taken; the message names
 * the limit and the largest GPU count that fits at the same actors per
 * GPU. A limit or in_use below 0 (unknown) passes. */
sft_status eng_check_maps(long actors, int ngpus, long limit, long in_use, sft_err *e);

#endif
