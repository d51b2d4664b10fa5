/* summary.h — what a simulated run amounts to: step times, MFU, and per GPU
 * where the time goes and the memory it needs.
 *
 * Definitions (per GPU, per step window [end of step s-1, end of step s],
 * where a step ends when its last op ends on any GPU):
 *   compute_s       kernels on the compute stream (launch gaps included)
 *   host_s          host overhead the compute stream waited on
 *   comm_s          time with a collective of this GPU in transfer (union)
 *   host_bound_s    the compute stream waiting for the host to issue its
 *                   next op (host dispatch, engine.h; 0 without it)
 *   exposed_comm_s  comm_s not hidden under compute, host work or
 *                   host-bound time
 *   idle_s          window - compute - host - host-bound - exposed comm:
 *                   waiting for peers (imbalance) or for the data
 *   peak_mem_bytes  highest allocation of the window
 *   busy_ns         over the whole run (not a mean): integer nanoseconds the
 *                   compute stream spent in kernels and host work, summed op
 *                   by op from the times every report uses (events.h), so the
 *                   timeline's durations add up to it exactly
 * GPU figures in the JSON are means over the simulated steps. MFU = model
 * FLOPs of the step / (step time x GPUs x peak). OOM: a GPU's peak above its
 * usable memory (hw_usable_bytes).
 *
 * Ownership: the functions that return a pointer create what it points to;
 * every argument is borrowed.
 */
#ifndef SFT_SUMMARY_H
#define SFT_SUMMARY_H

#include <cjson/cJSON.h>

#include "sim/engine.h"
#include "sim/prog.h"

typedef struct rep_gpu {
    double compute_s, host_s, comm_s, exposed_comm_s, idle_s, peak_mem;
    int64_t busy_ns;
    double host_bound_s;
} rep_gpu;

typedef struct rep_step {
    double time_s;
    int microbatches;
    int oom;
    double flops;
} rep_step;

typedef struct rep_run {
    int ngpus, nsteps;
    rep_step *steps;
    rep_gpu *gpus; /* means over steps */
    double mean_step_s, mfu;
    int oom;
    int busiest;     /* GPU with the most compute + exposed communication */
    double launch_s; /* the busiest GPU's kernel launch gaps per step */
    double mean_idle_s;
    /* the lowest and highest of the GPUs' peak_mem: what a comparison shows
     * (1e300 and 0 for a program without GPUs) */
    double peak_mem_min, peak_mem_max;
    uint64_t sim_events;
    double wall_s;
} rep_run;

typedef struct rep_inputs {
    double peak_flops;       /* per GPU */
    double usable_mem;       /* per GPU */
    double launch_s;         /* per kernel */
    const int *microbatches; /* per step (the plan's rounds) */
} rep_inputs;

/* Creates the summary of result r of program p (p, r and in borrowed);
 * rep_run_destroy destroys it. */
rep_run *rep_run_create(const prog *p, const eng_result *r, const rep_inputs *in);
void rep_run_destroy(rep_run *s);
/* The run's JSON object (ARCHITECTURE.md "Contracts": the run document, without "scenario" and
 * "policy", which the caller adds). Creates the object; s is borrowed. */
cJSON *rep_run_json(const rep_run *s);

/* One policy's row of a comparison (ARCHITECTURE.md "Contracts": the compare document), the one
 * place its figures are assembled: {"policy", "mean_step_time_s",
 * "speedup_vs_deepspeed" (base_s / the mean step time, where base_s is
 * deepspeed's mean step time; null when base_s <= 0, no baseline), "oom",
 * "peak_mem_bytes_min", "peak_mem_bytes_max", "mfu", "breakdown" (the
 * busiest GPU's step, as in rep_run_json), "microbatch_rounds_per_step"}.
 * Creates the object; policy and s are borrowed. */
cJSON *rep_compare_row(const char *policy, const rep_run *s, double base_s);

#endif
