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

#include "models/build.h"
#include "models/sched/sched.h"

typedef struct est est;

/* Creates an estimator for the scheduler inputs (borrowed); cp_impl and zero
 * as in bld_opts, host overhead in seconds. */
est *est_create(const sched_in *in, int cp_impl, int zero, double host_s);
void est_destroy(est *e);
/* Compute load of one sequence for DACP's balance: local (shard 1) or one
 * rank's share of it distributed. */
double est_load(est *e, double len, int shard);
/* Estimated time of a micro-batch / of a DP rank's micro-batches / of the
 * whole plan (slowest DP rank). */
double est_mb(est *e, const plan_mb *mb);
double est_rank(est *e, const plan_rank *r);
double est_plan(est *e, const plan *p);

#endif
