/* plan.h — a schedule of one global batch (ARCHITECTURE.md, "Data flow"): for each DP rank its
 * micro-batches; in each micro-batch every sequence is either local (whole on
 * one CP rank) or distributed (sharded evenly over the CP group, load-balanced
 * causal chunks).
 *
 * Invariants checked by plan_check: every sample of the batch appears exactly
 * once; CP ranks in range; a micro-batch's tokens on each GPU (its local
 * sequences plus 1/CP of every distributed one) stay within the bucket unless
 * the plan is flagged over_bucket (the memory model then reports the OOM).
 *
 * Ownership: plan_create creates a plan and plan_destroy destroys it, with
 * every micro-batch in it; plan_add_mb returns a micro-batch the plan owns;
 * every other pointer argument is borrowed.
 */
#ifndef SFT_PLAN_H
#define SFT_PLAN_H

#include <stdint.h>

#include "base/base.h"
#include "traces/trace.h"

#define PLAN_DIST (-1)

typedef struct plan_seq {
    int64_t id;
    int64_t len;
    int cp; /* CP rank holding it whole, or PLAN_DIST */
} plan_seq;

typedef struct plan_mb {
    int n, cap;
    plan_seq *seq;
} plan_mb;

typedef struct plan_rank {
    int nmb, cap;
    plan_mb *mb;
} plan_rank;

typedef struct plan {
    int dp, cp;
    long bucket;     /* tokens per GPU */
    plan_rank *rank; /* dp entries */
    int over_bucket; /* some GPU holds more than bucket tokens in a micro-batch */
    char note[256];  /* why (policy's own words), "" if nothing to say */
} plan;

plan *plan_create(int dp, int cp, long bucket);
void plan_destroy(plan *p);
/* Appends an empty micro-batch to DP rank r; returns it (valid until the next
 * append on that rank). */
plan_mb *plan_add_mb(plan *p, int r);
void plan_mb_add(plan_mb *mb, int64_t id, int64_t len, int cp);
/* Tokens GPU (cp rank j) holds in micro-batch mb of a CP group of n. */
double plan_mb_tokens(const plan_mb *mb, int j, int n);
/* Largest of plan_mb_tokens over the micro-batch's CP ranks. */
double plan_mb_max_tokens(const plan_mb *mb, int n);
int plan_max_mbs(const plan *p);

/* Checks the invariants against the batch the plan was made from; sets
 * p->over_bucket. EINTERNAL names the first violation (a scheduler bug). */
sft_status plan_check(plan *p, const trace_sample *s, size_t n, sft_err *e);

#endif
