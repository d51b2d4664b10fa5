/* par.h — how a scenario spreads one training step over the cluster: the
 * data- and context-parallel degrees, how context-parallel traffic is issued,
 * the ZeRO stage, how gradients are reduced, and the host's time per
 * micro-batch. One struct, read by the
 * schedulers (sched.h), their estimates (estimate.h) and every family's
 * program builder (ARCHITECTURE.md, "Layers").
 *
 * GPU (DP rank d, CP rank c) is GPU d*cp + c: a CP group is cp consecutive
 * GPUs, inside one node whenever cp divides the node.
 *
 * Ownership: par_opts is a plain value, copied by whoever keeps it;
 * par_cp_impl_name returns static storage.
 */
#ifndef SFT_PAR_H
#define SFT_PAR_H

/* How the distributed sequences' attention exchanges data in a CP group:
 *   PAR_ALLGATHER: K/V all-gather before attention (DeepSpeed's default);
 *   PAR_ULYSSES:   all-to-all of Q/K/V and O (heads must divide by cp);
 *   PAR_RING:      cp-1 ring shifts of the K/V chunk. */
typedef enum par_cp_impl { PAR_ALLGATHER, PAR_ULYSSES, PAR_RING } par_cp_impl;

/* How a packed micro-batch's CP traffic and attention are issued (issue 13).
 *   PAR_XCHG_FUSED:  one exchange per layer (and direction) for all the
 *                    distributed sequences, their K/V packed in one buffer;
 *   PAR_XCHG_PERSEQ: one exchange per distributed sequence, each paying the
 *                    collective's fixed cost (sim/coll.c: (n-1) step
 *                    latencies plus the route's latency);
 *   PAR_ATTN_VARLEN: one varlen attention kernel over the packed sequences
 *                    (flash_attn_varlen_func with cu_seqlens), local and
 *                    distributed each;
 *   PAR_ATTN_PERSEQ: one attention kernel per sequence, each with its own
 *                    launch gap and its own length's efficiency.
 * The defaults, fused and varlen, are what the public CP code does with a
 * packed varlen batch: ring-flash-attention's llama3_flash_attn_varlen_func
 * all-gathers the packed K/V of every sequence at once (in heads_k_stride
 * slices) and runs _flash_attn_varlen_forward over cu_seqlens, not a loop
 * over sequences (zhuzilin/ring-flash-attention,
 * ring_flash_attn/llama3_flash_attn_varlen.py); its ring varlen variants
 * shift the packed K/V buffer once per ring step for all sequences; and
 * DeepSpeed-Ulysses' DistributedAttention all-to-alls the packed Q, K, V
 * tensors before the local attention and the output after it
 * (deepspeed/sequence/layer.py). Per-sequence loops are what a CP
 * implementation without varlen support forces on packed batches. */
typedef enum par_cp_exchange { PAR_XCHG_FUSED, PAR_XCHG_PERSEQ } par_cp_exchange;
typedef enum par_attn_call { PAR_ATTN_VARLEN, PAR_ATTN_PERSEQ } par_attn_call;
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
    int cp_exchange;        /* par_cp_exchange (0 = fused) */
    int attn_call;          /* par_attn_call (0 = varlen) */
    /* Gradient reduction, over the ZeRO group = all dp x cp GPUs (DeepSpeed's
     * seq_data_parallel_group). Zero-initialised = DeepSpeed's defaults for
     * ZeRO-1/2 without sequence parallelism: all-reduce, bf16, not overlapped. */
    int grad_coll;     /* par_grad_coll (ZeRO-1/2) */
    int grad_fp32;     /* 1: gradients travel as fp32 (4 bytes per element), 0: bf16 (2) */
    int overlap_comm;  /* 1: reductions on their own stream under the backward;
                        * 0: the compute stream waits for each bucket's reduction */
    double dispatch_s; /* host cost of issuing one kernel or collective (prog.h); 0 = off */
} par_opts;

/* "allgather", "ulysses", "ring" (static storage), "?" otherwise. */
const char *par_cp_impl_name(int impl);
/* "fused", "per-seq" / "varlen", "per-seq" (static storage), "?" otherwise. */
const char *par_cp_exchange_name(int x);
const char *par_attn_call_name(int x);
/* "allreduce", "reducescatter" (static storage), "?" otherwise. */
const char *par_grad_coll_name(int coll);
/* Bytes per gradient element on the wire: 4 (fp32) or 2 (bf16). */
double par_grad_bytes(const par_opts *par);

#endif
