/* estimate.h — the schedulers' time estimates: the micro-batch time model
 * the policies reason about, in terms a workload family supplies from the
 * simulator's own cost model (one source of truth: the family's estimator
 * uses the kernel costs and the collectives' closed form its program builder
 * uses).
 *
 * A micro-batch on a CP group of N GPUs, per layer, mirrors what the program
 * builders emit: linear work (GEMMs, elementwise) on each GPU's tokens;
 * forward, the CP exchange of the distributed sequences overlaps the local
 * sequences' attention, then the distributed attention; backward, the
 * exchange overlaps the linear backward after the attention, the reduction
 * of the distributed gradients the local attention backward. The
 * micro-batch takes its slowest GPU's time, plus the launch gaps and host
 * overhead, and no less than its forward plus the gradient reductions
 * running under its backward (grad_rs, overlapped), plus the reductions the
 * backward waits for (grad_mb). A DP rank's step adds, once, the
 * reductions of the accumulation boundary (grad_step, ZeRO-0/1).
 */
#ifndef SFT_ESTIMATE_H
#define SFT_ESTIMATE_H

#include "models/sched/plan.h"

typedef struct est est;

/* What a family tells the estimator (its constructor fills it). */
typedef struct est_model {
    int cp;                                    /* N: GPUs of a CP group */
    double layers;                             /* the per-layer terms repeat this many times */
    double lin_fwd, lin_bwd_post, lin_bwd_pre; /* per token and layer: the linear
                                                * work forward, backward before the
                                                * attention's backward, after it */
    double fixed;                              /* per micro-batch: every kernel's launch gap */
    double host;                               /* per micro-batch: host overhead */
    /* per micro-batch: gradient reductions under the backward (overlapped),
     * and those the compute waits for (not overlapped, or an epilogue's);
     * per DP rank and step: those at the accumulation boundary (ZeRO-0/1) */
    double grad_rs, grad_mb, grad_step;
    /* One sequence's attention per layer without its launch gap: shard 1 =
     * local, else one rank's share of it distributed over shard ranks. */
    double (*attn)(const void *ctx, double len, int shard, int bwd);
    /* CP communication per layer for V > 0 distributed tokens (N > 1):
     * before the forward attention, before the backward one, after it. */
    void (*comm)(const void *ctx, double V, double *fwd, double *bwd_pre, double *bwd_post);
    void (*ctx_destroy)(void *ctx);
    void *ctx; /* the family's; the estimator owns it once created */
    /* How the program builder issues a packed micro-batch (par.h): comm is
     * called once per distributed sequence (comm_per_seq) instead of once
     * for all; with attn_launch > 0 every sequence's attention is its own
     * kernel, and each one past the first of a kernel that fixed already
     * counts adds attn_launch per layer and direction. */
    int comm_per_seq;
    double attn_launch;
} est_model;

/* Creates an estimator from m (copied; m->ctx is then the estimator's, freed
 * with ctx_destroy by est_destroy). */
est *est_create(const est_model *m);
void est_destroy(est *e);
/* Compute load of one sequence for DACP's balance: local (shard 1) or one
 * rank's share of it distributed. */
double est_load(est *e, double len, int shard);
/* The estimate's linear pieces, for the exact optimum's linear model
 * (optimal.c): per token and layer, the linear work forward, backward before
 * the attention and backward after it; per micro-batch, the launch gaps and
 * host overhead and the gradient reductions the compute waits for (fixed),
 * and those under the backward (grad_rs). The once-per-step grad_step is a
 * constant of every DP rank with samples and left out. */
typedef struct est_terms {
    double layers;
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
