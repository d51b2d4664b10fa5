/* sched.h — scheduling policies: one global batch in, one plan out.
 * Pure C: policies never touch SimGrid. Their time estimates come from the
 * cost model the simulator uses (cost.h) and, for communication, from the
 * collectives' closed form on the cluster (coll_estimate).
 */
#ifndef SFT_SCHED_H
#define SFT_SCHED_H

#include "models/llm/arch.h"
#include "models/hw/cost.h"
#include "models/sched/plan.h"
#include "sim/cluster.h"

typedef struct sched_in {
    const arch *a;      /* borrowed */
    const cost *c;      /* borrowed */
    const clu_desc *cl; /* borrowed: the cluster, for communication estimates */
    int dp, cp;
    long bucket;         /* tokens per GPU */
    int ds_pack;         /* deepspeed baseline: pack micro-batches (1) or one sequence each */
    int rollback;        /* DACP roll-back on memory violation (1) or not */
    double time_limit_s; /* optimal: solver time limit */
    int cp_impl, zero;   /* as in bld_opts: what the estimates model */
    double host_s;       /* host overhead per micro-batch */
} sched_in;

typedef sft_status (*sched_fn)(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                               sft_err *e);

typedef struct sched_policy {
    const char *name;
    sched_fn fn;
    const char *summary;
} sched_policy;

/* The policy called name, or NULL. */
const sched_policy *sched_find(const char *name);
/* EINPUT "policy 'name': unknown (valid: ...)". */
sft_status sched_unknown(const char *name, sft_err *e);
/* All policies (static table); *n receives the count. */
const sched_policy *sched_policies(int *n);
/* Runs policy name on samples s[0..n) and checks the plan. Creates *out. */
sft_status sched_run(const char *name, const sched_in *in, const trace_sample *s, size_t n,
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
 * cp field. With roll-back, returns 0 when the placement respects the bucket
 * and -1 when it cannot (no local sequence left to distribute); without, it
 * always returns 0 and the violations stay in the plan (reported as OOM). */
enum { DACP_BALANCE, DACP_ROUNDROBIN };
struct est;
int dacp_place(struct est *e, plan_mb *mb, int N, long C, int mode, int rollback);

#endif
