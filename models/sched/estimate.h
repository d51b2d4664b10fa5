/* estimate.h — the schedulers' time estimates, from the simulator's own cost
 * model (cost.h) and the collectives' closed form (coll_estimate): one
 * source of truth.
 *
 * A micro-batch on a CP group of N GPUs, per layer, mirrors what the program
 * builder emits: linear work (GEMMs, elementwise) on each GPU's tokens;
 * forward, the K/V all-gather of the distributed sequences overlaps the local
 * sequences' attention, then the distributed attention; backward, the
 * all-gather overlaps the MLP backward, the dK/dV reduce-scatter the local
 * attention backward. The micro-batch takes its slowest GPU's time, plus the
 * launch gaps and host overhead, and no less than its forward plus the
 * gradient reduce-scatter running under its backward (ZeRO-2).
 */
#ifndef SFT_ESTIMATE_H
#define SFT_ESTIMATE_H

#include "models/llm/build.h"
#include "models/sched/sched.h"

typedef struct est est;

/* Creates an estimator for the scheduler inputs (borrowed); cp_impl and zero
 * as in bld_opts, host overhead in seconds. */
est *est_create(const sched_in *in, int cp_impl, int zero, double host_s);
void est_destroy(est *e);
/* Compute load of one sequence for DACP's balance: local (shard 1) or one
 * rank's share of it distributed. */
double est_load(est *e, double len, int shard);
/* The estimate's pieces, for the exact optimum's linear model (optimal.c):
 * per token and layer, the linear work forward, backward before the
 * attention and backward after it; per micro-batch, the launch gaps and host
 * overhead (fixed) and the gradient reduce-scatter (ZeRO-2, else 0). */
typedef struct est_terms {
    double lin_fwd, lin_bwd_post, lin_bwd_pre;
    double fixed, grad_rs;
} est_terms;
void est_get_terms(const est *e, est_terms *t);
/* One sequence's attention per layer: out[0..3] = local forward, local
 * backward, distributed share forward, distributed share backward. */
void est_attn(est *e, double len, double out[4]);
/* CP communication per layer for V distributed tokens: before the forward
 * attention, before the backward one (prefetch) and after it. */
void est_comm(est *e, double V, double *fwd, double *bwd_pre, double *bwd_post);
/* Estimated time of a micro-batch / of a DP rank's micro-batches / of the
 * whole plan (slowest DP rank). */
double est_mb(est *e, const plan_mb *mb);
double est_rank(est *e, const plan_rank *r);
double est_plan(est *e, const plan *p);

#endif
