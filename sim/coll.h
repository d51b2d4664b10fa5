/* coll.h — NCCL-style collectives decomposed into point-to-point flows.
 *
 * A collective over a group of GPUs becomes a sequence of phases; a phase is
 * a set of concurrent flows (src, dst, bytes) that starts after a fixed
 * latency (the ring's per-step latencies). The engine runs the phases on the
 * SimGrid platform, where flows share links for real; coll_estimate() gives
 * the same decomposition's contention-free closed form, used by tests and by
 * the schedulers' cost estimates.
 *
 * Size convention (nccl-tests "size"): all_gather = output bytes, reduce_scatter
 * = input bytes, all_reduce and broadcast = buffer bytes, all_to_all = bytes a
 * rank sends in all (n chunks of size/n), sendrecv = bytes sent.
 *
 * Algorithms, for a group of n GPUs:
 *  - inside one node, rings in group order: all_gather / reduce_scatter send
 *    (n-1)/n*S on every ring edge after (n-1) step latencies; ring_shift sends
 *    S on every edge after one step latency; all_reduce
 *    2(n-1)/n*S after 2(n-1); broadcast is a pipelined chain from the root
 *    (S on each of n-1 edges, n-1 steps); all_to_all is n(n-1) concurrent
 *    pairwise flows of S/n after (n-1) steps; bytes are divided by the
 *    protocol efficiency so that the bandwidth reached is line rate x eff.
 *  - across m nodes of g GPUs each with the same local ranks (every CP and DP
 *    group sftsim builds): hierarchical — all_gather = inter-node ring per rail
 *    ((m-1) shards) then intra-node ring (g-1 shards of m); reduce_scatter the
 *    reverse; all_reduce = intra reduce_scatter, inter all_reduce on S/g per
 *    rail, intra all_gather; broadcast = chain over the root's rail then a chain
 *    in every node; all_to_all stays pairwise (rails reached through NVLink,
 *    PXN-style routing in the platform). Irregular groups spanning nodes run one
 *    flat ring at the net class's parameters.
 *
 * Ownership: every pointer argument is borrowed; coll_build fills the
 * caller's coll_plan, which owns its arrays until coll_plan_free.
 */
#ifndef SFT_COLL_H
#define SFT_COLL_H

#include "base/base.h"
#include "sim/cluster.h" /* the cluster description, and coll_op */

/* nccl-tests bus-bandwidth factor: busbw = algbw * factor(n). */
double coll_busbw_factor(int op, int n);

typedef struct coll_flow {
    int src, dst;
    double bytes;
} coll_flow;

typedef struct coll_phase {
    double latency_s;  /* before the flows start */
    int first, nflows; /* slice of coll_plan.flows */
} coll_phase;

typedef struct coll_plan {
    coll_phase phase[4];
    int nphases;
    coll_flow *flows; /* owned */
    int nflows, cap;
} coll_plan;

/* Decomposes op over group[0..n-1] (GPU ids, distinct) into plan (which it
 * fills; reuse across calls, release with coll_plan_free). root indexes group
 * (broadcast; for sendrecv group = {src, dst}). */
void coll_build(const struct clu_desc *c, int op, const int *group, int n, double bytes, int root,
                coll_plan *plan);
void coll_plan_free(coll_plan *plan);
/* Contention-free time of the plan: per phase, latency + the slowest flow's
 * route latency + bytes / bottleneck bandwidth of its route. */
double coll_plan_time(const struct clu_desc *c, const coll_plan *plan);
/* coll_build + coll_plan_time. */
double coll_estimate(const struct clu_desc *c, int op, const int *group, int n, double bytes);
/* Route of a flow as the platform builds it: bottleneck bandwidth and summed
 * latency, contention-free. */
void coll_route(const struct clu_desc *c, int src, int dst, double *bw, double *lat);

#endif
