/* sched.h — scheduling policies: one global batch in, one plan out.
 * Pure C: policies never touch SimGrid, and never name a workload family.
 * Their time estimates come from an estimator (estimate.h) that the
 * family builds from the cost model its program builder uses and, for
 * communication, from the collectives' closed form on the cluster.
 */
#ifndef SFT_SCHED_H
#define SFT_SCHED_H

#include <stdbool.h>

#include "models/sched/estimate.h"
#include "models/sched/par.h"
#include "models/sched/plan.h"

typedef struct sched_in {
    int dp, cp;
    long bucket;         /* tokens per GPU */
    int ds_pack;         /* deepspeed baseline: pack micro-batches (1) or one sequence each */
    int rollback;        /* DACP roll-back on memory violation (1) or not */
    double time_limit_s; /* optimal: solver time limit */
    est *est;            /* borrowed: the family's estimator for this layout */
} sched_in;

/* The scheduler's input for layout par, bucket tokens per GPU and
 * estimator es (borrowed), with the defaults: packing on, roll-back on, a
 * 10 s solver limit. Callers change the fields they set by name. */
sched_in sched_input(const par_opts *par, long bucket, est *es);

typedef sft_status (*sched_fn)(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                               sft_err *e);

typedef struct sched_policy {
    const char *name;
    sched_fn fn;
    const char *summary;
} sched_policy;

/* The policy called name, or NULL. */
const sched_policy *sched_find(const char *name);
/* The policy called name in tab[0..n) into *out (borrowed from tab), or
 * EINPUT "policy 'name': unknown (valid: ...)" naming tab's policies. */
sft_status sched_lookup(const sched_policy *tab, int n, const char *name, const sched_policy **out,
                        sft_err *e);
/* sched_lookup over every policy: EINPUT for a name that is not one. */
sft_status sched_unknown(const char *name, sft_err *e);
/* All policies (static table); *n receives the count. */
const sched_policy *sched_policies(int *n);
/* Runs policy pol on samples s[0..n) and checks the plan. Creates *out. */
sft_status sched_run(const sched_policy *pol, const sched_in *in, const trace_sample *s, size_t n,
                     plan **out, sft_err *e);

/* Splits n samples over dp ranks in order, as evenly as possible: rank r
 * takes [*first, *first + *count). */
void sched_split(size_t n, int dp, int r, size_t *first, size_t *count);

sft_status sched_deepspeed(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                           sft_err *e);
sft_status sched_sorted(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e);
sft_status sched_roundrobin(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                            sft_err *e);
sft_status sched_dacp(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e);
sft_status sched_skrull(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e);
sft_status sched_optimal(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                         sft_err *e);

/* DACP (Skrull's Algorithm 1, mode DACP_BALANCE) or its round-robin variant
 * (Algorithm 4, DACP_ROUNDROBIN) on one micro-batch: sets every sequence's
 * cp field. With roll-back, returns true when the placement respects the
 * bucket and false when it cannot (no local sequence left to distribute);
 * without, it always returns true and the violations stay in the plan
 * (reported as OOM). A result, not a status: nothing here can fail. */
enum { DACP_BALANCE, DACP_ROUNDROBIN };
bool dacp_place(est *e, plan_mb *mb, int N, long C, int mode, int rollback);

#endif
