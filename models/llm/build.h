/* build.h — the program builder: plans become per-GPU programs (ARCHITECTURE.md, "Data flow").
 *
 * GPU (DP rank d, CP rank c) is GPU d*CP + c: a CP group is CP consecutive
 * GPUs, inside one node whenever CP divides the node. Per micro-batch: host
 * overhead, forward over all layers, loss, backward. Context-parallel traffic
 * of the distributed sequences runs on the CP comm stream and overlaps the
 * attention of the local sequences (DACP's point):
 *   allgather (default): K/V all-gather before attention, forward and again
 *     backward, dK/dV reduce-scatter after the backward attention;
 *   ulysses: all-to-all of Q/K/V before and of O after attention (heads must
 *     divide by CP); backward the mirror image;
 *   ring: CP-1 ring shifts of the K/V chunk, each overlapping the attention on
 *     the chunk before it; backward shifts K/V and dK/dV.
 * Gradients: every GPU holds a replica (CP shards tokens, not weights), so the
 * data-parallel world is all DP x CP GPUs (DeepSpeed's seq_data_parallel_group).
 * ZeRO-2 reduces each micro-batch's gradients over the world in DeepSpeed's
 * 5e8-element buckets during its backward; ZeRO-0/1 accumulate and reduce
 * once per step, from the last micro-batch; ZeRO-3 reduce-scatters each
 * layer's gradients and all-gathers each layer's parameters before its
 * forward and backward. A bucket is all-reduced (DeepSpeed's default for
 * ZeRO-1/2) or reduce-scattered (par.grad_coll; ZeRO-3 always), in fp32 or
 * bf16 (par.grad_fp32). Without overlap_comm (DeepSpeed's default for
 * ZeRO-0..2) the compute stream waits for each bucket's reduction, and
 * ZeRO-0/1 reduce every bucket after the backward; with it the reductions
 * run on the DP stream under the backward, one bucket at a time, and the
 * micro-step ends waiting for the last (see grad_bucket in build.c). A DP
 * rank with fewer micro-batches than the busiest runs the missing rounds'
 * world collectives without compute (the collectives need every rank). Then
 * the optimizer (Adam, memory-bound) and, for ZeRO-1/2, the parameter
 * all-gather; the next step's forward waits for it.
 * Memory: static bytes at the start; each layer's activations from its
 * forward to its backward; logits from the loss's forward to its backward;
 * gathered K/V for the duration of the attention that needs them.
 */
#ifndef SFT_BUILD_H
#define SFT_BUILD_H

#include "models/llm/arch.h"
#include "models/hw/cost.h"
#include "models/sched/par.h"
#include "models/sched/plan.h"
#include "sim/cluster.h"
#include "sim/prog.h"

/* op categories (prog_op.cat), for the reports' breakdown */
typedef enum bld_cat {
    BLD_CAT_GEMM,
    BLD_CAT_ATTN,
    BLD_CAT_ELEM,
    BLD_CAT_HOST,
    BLD_CAT_OPTIM,
    BLD_CAT_CP,   /* CP traffic */
    BLD_CAT_GRAD, /* DP / ZeRO traffic */
    BLD_CAT_SYNC, /* events, memory */
    BLD_NCATS
} bld_cat;

typedef struct bld bld;

/* Creates a builder appending to p (borrowed, like a, c, cl) for the layout
 * par (copied); layer_granularity merges compute between synchronisation
 * points. Destroy with bld_destroy. */
bld *bld_create(prog *p, const arch *a, const cost *c, const clu_desc *cl, const par_opts *par,
                int layer_granularity);
void bld_destroy(bld *b);
/* Appends one training step of plan pl. */
sft_status bld_step(bld *b, const plan *pl, int step, sft_err *e);
/* The time of one full gradient reduction as the builder issues it, from
 * the collectives' closed form (coll_estimate) over the ZeRO group (all
 * dp x cp GPUs): *total = every bucket (ZeRO-3: every layer's
 * reduce-scatter), *last = the last one (the one the micro-step's epilogue
 * waits for). 0 on one GPU. For the schedulers' estimate. */
void bld_grad_times(const arch *a, const clu_desc *cl, const par_opts *par, double *total,
                    double *last);
/* FLOPs of the model work of the steps built so far (for MFU). */
double bld_model_flops(const bld *b);
const char *bld_cat_name(int cat);

#endif
