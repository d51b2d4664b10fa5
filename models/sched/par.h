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

typedef struct par_opts {
    int dp, cp;             /* dp x cp = the cluster's GPUs */
    int cp_impl;            /* par_cp_impl */
    int zero;               /* ZeRO stage 0..3 */
    double host_overhead_s; /* per micro-batch: framework and data loading */
} par_opts;

/* "allgather", "ulysses", "ring" (static storage), "?" otherwise. */
const char *par_cp_impl_name(int impl);

#endif
