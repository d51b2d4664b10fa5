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
 *   grad_comm_s, exposed_grad_comm_s  the same two for the gradient
 *                   collectives alone (rep_inputs.grad_cat: the DP / ZeRO
 *                   bucket reductions and parameter all-gathers), apart
 *                   from the context-parallel traffic; exposed_comm_s -
 *                   exposed_grad_comm_s is the exposed time with only
 *                   other (CP) collectives in transfer
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
    double grad_comm_s, exposed_grad_comm_s;
    int64_t busy_ns;
    double host_bound_s;
} rep_gpu;

typedef struct rep_step {
    double time_s;
    int microbatches;
    int oom;
    double flops;
    /* the lowest and highest of the GPUs' peak memory in this step's window
     * (1e300 and 0 for a program without GPUs) */
    double peak_min, peak_max;
} rep_step;

typedef struct rep_run {
    int ngpus, nsteps;
    rep_step *steps;
    rep_gpu *gpus; /* means over steps */
    double mean_step_s, mfu;
    /* standard error of mean_step_s: the sample standard deviation of the
     * step times (n - 1 in the denominator) / sqrt(n); 0 below 2 steps */
    double mean_step_se_s;
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
    int grad_cat;            /* op category of the gradient collectives; -1: none */
} rep_inputs;

/* Creates the summary of result r of program p (p, r and in borrowed);
 * rep_run_destroy destroys it. */
rep_run *rep_run_create(const prog *p, const eng_result *r, const rep_inputs *in);
void rep_run_destroy(rep_run *s);
/* The run's JSON object (ARCHITECTURE.md "Contracts": the run document, without "scenario" and
 * "policy", which the caller adds). Creates the object; s is borrowed. */
cJSON *rep_run_json(const rep_run *s);

/* The speedup base / s of two runs' mean step times and its standard error
 * (relative errors in quadrature: the two means' errors are treated as
 * independent); 0 and 0 when either mean is not positive. A run against
 * itself, or one with the same mean, error and steps (the same policy run
 * twice), is exactly 1 with error 0. */
double rep_speedup(const rep_run *base, const rep_run *s, double *se);
/* num / den of two means with standard errors, and its error (relative
 * errors in quadrature); 0 and 0 when either is not positive. */
double rep_ratio(double num, double num_se, double den, double den_se, double *se);

/* One policy's row of a comparison (ARCHITECTURE.md "Contracts": the compare document), the one
 * place its figures are assembled: {"policy", "mean_step_time_s",
 * "mean_step_time_se_s", "speedup_vs_deepspeed" (rep_speedup of base, the
 * deepspeed run, over s; null without a baseline, base NULL or its mean
 * not positive), "speedup_se" (null likewise), "oom", "peak_mem_bytes_min",
 * "peak_mem_bytes_max", "mfu", "breakdown" (the busiest GPU's step, as in
 * rep_run_json), "step_causes" (the mean step split into the causes of
 * explain.h), "microbatch_rounds_per_step", "steps" (the count)}.
 * Creates the object; every argument is borrowed. */
cJSON *rep_compare_row(const char *policy, const rep_run *s, const rep_run *base);

#endif
