/* explain.h — why one policy's step is faster or slower than the
 * baseline's: the difference of the busiest GPU's mean step split into
 * causes that add up to it exactly.
 *
 * A GPU's mean step window is, term for term (summary.h),
 *   compute (kernels) + launch gaps + host + host-bound + exposed CP
 *   communication + exposed gradient communication + idle.
 * Each run's busiest GPU b is decomposed, and kernel time is split into the
 * mean over all GPUs (what the kernels cost at their shapes: the efficiency
 * a policy's sequence placement buys or loses) and b's excess over that mean
 * (work placed unevenly), which joins b's idle time as imbalance:
 *   kernel        mean_g compute[g] - launch
 *   exposed_cp    exposed communication - exposed gradient communication
 *   exposed_grad  exposed gradient communication
 *   launch_host   launch gaps + host time + host-bound time (the GPU
 *                 waiting for the host to issue its next kernel)
 *   imbalance     compute[b] - mean_g compute[g] + idle[b]
 * which sum to the mean step time. A term of the explanation is the
 * policy's minus the baseline's: positive means the policy spends more
 * there. The terms sum to the step-time difference (to rounding).
 *
 * Ownership: every pointer argument is borrowed; rep_explain_json creates
 * its object.
 */
#ifndef SFT_EXPLAIN_H
#define SFT_EXPLAIN_H

#include <cjson/cJSON.h>

#include "reports/summary.h"

typedef enum rep_cause {
    REP_KERNEL,
    REP_EXPOSED_CP,
    REP_EXPOSED_GRAD,
    REP_LAUNCH_HOST,
    REP_IMBALANCE,
    REP_NCAUSES
} rep_cause;

typedef struct rep_explain {
    double diff_s;             /* policy's mean step time - baseline's */
    double cause[REP_NCAUSES]; /* policy's minus baseline's, seconds */
} rep_explain;

/* The mean step of run s split into the causes (they sum to mean_step_s). */
void rep_step_causes(const rep_run *s, double cause[REP_NCAUSES]);
/* x against baseline base. */
rep_explain rep_explain_of(const rep_run *base, const rep_run *x);
/* "kernel_efficiency", "exposed_cp_comm", "exposed_grad_comm",
 * "launch_and_host", "imbalance" (static storage). */
const char *rep_cause_name(int c);
/* The cause's JSON key: its name and "_s" (static storage). */
const char *rep_cause_key(int c);
/* The causes ordered by how much of the difference they explain: largest
 * |cause| first; ties keep the order above. */
void rep_explain_rank(const rep_explain *x, int order[REP_NCAUSES]);
/* {"diff_s", "<cause>_s": ..., "largest": [name, name]}. */
cJSON *rep_explain_json(const rep_explain *x);
/* {"<cause>_s": ...}: run s's mean step split into the causes, what a
 * comparison row carries ("step_causes") so that any two rows explain
 * their difference (rep_explain_rows). */
cJSON *rep_causes_json(const rep_run *s);
/* row against base_row, two comparison rows (rep_compare_row): their
 * "mean_step_time_s" and "step_causes". SFT_EINTERNAL when either lacks
 * them. */
sft_status rep_explain_rows(const cJSON *base_row, const cJSON *row, rep_explain *out, sft_err *e);

#endif
