/* par.h — how a scenario spreads one training step over the cluster: the
 * data- and context-parallel degrees, how context-parallel traffic is issued,
 * the ZeRO stage, how gradients are reduced, and the host's time per
 * micro-batch. One struct, read by the
 * schedulers (sched.h), their estimates (estimate.h) and every family's
 * program builder (ARCHITECTURE.md, "Layers").
 *
 * GPU (DP rank d, CP rank c) is GPU d*cp + c: a CP group is cp consecutive
 * GPUs, inside one node whenever cp divides the node.
 */
#ifndef SFT_PAR_H
#define SFT_PAR_H

/* How the distributed sequences' attention exchanges data in a CP group:
 *   PAR_ALLGATHER: K/V all-gather before attention (DeepSpeed's default);
 *   PAR_ULYSSES:   all-to-all of Q/K/V and O (heads must divide by cp);
 *   PAR_RING:      cp-1 ring shifts of the K/V chunk. */
typedef enum par_cp_impl { PAR_ALLGATHER, PAR_ULYSSES, PAR_RING } par_cp_impl;

/* How ZeRO-1/2 reduce a gradient bucket (DeepSpeed v0.16.5,
 * runtime/zero/stage_1_and_2.py): with its defaults reduce_scatter=True and
 * use_multi_rank_bucket_allreduce=True, average_tensor() hands the whole
 * bucket to allreduce_and_scatter(), which all-reduces it (dist.all_reduce
 * in allreduce_bucket), so PAR_GRAD_ALLREDUCE is DeepSpeed's default;
 * PAR_GRAD_REDUCESCATTER is an NCCL reduce-scatter of the bucket (what a
 * rank keeps of it is its partition). ZeRO-0 always all-reduces (every rank
 * needs every gradient) and ZeRO-3 always reduce-scatters (stage3.py), so
 * this only matters for ZeRO-1/2. 0 is DeepSpeed's default. */
typedef enum par_grad_coll { PAR_GRAD_ALLREDUCE, PAR_GRAD_REDUCESCATTER } par_grad_coll;

typedef struct par_opts {
    int dp, cp;             /* dp x cp = the cluster's GPUs */
    int cp_impl;            /* par_cp_impl */
    int zero;               /* ZeRO stage 0..3 */
    double host_overhead_s; /* per micro-batch: framework and data loading */
    /* Gradient reduction, over the ZeRO group = all dp x cp GPUs (DeepSpeed's
     * seq_data_parallel_group). Zero-initialised = DeepSpeed's defaults for
     * ZeRO-1/2 without sequence parallelism: all-reduce, bf16, not overlapped. */
    int grad_coll;    /* par_grad_coll (ZeRO-1/2) */
    int grad_fp32;    /* 1: gradients travel as fp32 (4 bytes per element), 0: bf16 (2) */
    int overlap_comm; /* 1: reductions on their own stream under the backward;
                       * 0: the compute stream waits for each bucket's reduction */
} par_opts;

/* "allgather", "ulysses", "ring" (static storage), "?" otherwise. */
const char *par_cp_impl_name(int impl);
/* "allreduce", "reducescatter" (static storage), "?" otherwise. */
const char *par_grad_coll_name(int coll);
/* Bytes per gradient element on the wire: 4 (fp32) or 2 (bf16). */
double par_grad_bytes(const par_opts *par);

#endif
