/* par.h — how a scenario spreads one training step over the cluster: the
 * data- and context-parallel degrees, how context-parallel traffic is issued,
 * the ZeRO stage and the host's time per micro-batch. One struct, read by the
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

typedef struct par_opts {
    int dp, cp;             /* dp x cp = the cluster's GPUs */
    int cp_impl;            /* par_cp_impl */
    int zero;               /* ZeRO stage 0..3 */
    double host_overhead_s; /* per micro-batch: framework and data loading */
    int cp_exchange;        /* par_cp_exchange (0 = fused) */
    int attn_call;          /* par_attn_call (0 = varlen) */
    double dispatch_s;      /* host cost of issuing one kernel or collective (prog.h); 0 = off */
} par_opts;

/* "allgather", "ulysses", "ring" (static storage), "?" otherwise. */
const char *par_cp_impl_name(int impl);
/* "fused", "per-seq" / "varlen", "per-seq" (static storage), "?" otherwise. */
const char *par_cp_exchange_name(int x);
const char *par_attn_call_name(int x);

#endif
