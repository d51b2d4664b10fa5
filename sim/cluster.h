/* cluster.h — cluster descriptions (sim/clusters/NAME.json, schema 1).
 *
 * A cluster is `nodes` x `gpus_per_node` identical GPUs. Inside a node each GPU
 * has a split-duplex NVLink to a non-blocking NVSwitch; across nodes each GPU
 * has its own NIC (rail-optimised: NIC i of every node sits on rail i) into a
 * leaf/spine fabric: a leaf per (rail, scalable unit of `nodes_per_leaf`
 * nodes), leaf uplinks oversubscribed by `oversubscription`, non-blocking
 * spine. Collective calibration gives, per link class (nvlink, net), the
 * per-step latency and protocol efficiency (fraction of line rate NCCL
 * reaches), with optional rules that override both by operation and size
 * (NCCL switches protocol, LL/LL128/Simple, with the message size).
 *
 * Valid ranges: every number of the file has one, with its unit and its
 * physical reason, in the table clu_range_table at the top of cluster.c
 * (clu_ranges() returns it); strings are UTF-8 without control characters
 * (notes may hold line breaks), the name at most 63 bytes, the description
 * at most 159. A value outside its range is EINPUT naming the file, the
 * field and the range.
 *
 * Invariants after clu_load: every number within its range, so bandwidths
 * >= 0.1 GB/s, latencies in [0, 1 s], efficiencies in [0.01, 1],
 * nodes x gpus_per_node <= 131072, and name/description valid UTF-8.
 */
#ifndef SFT_CLUSTER_H
#define SFT_CLUSTER_H

#include <cjson/cJSON.h>

#include "sim/gpu.h"
#include "base/base.h"
#include "base/jsonx.h"

/* The collective operations, by the names a cluster file's calibration rules
 * use for them (collectives.rules[].op). Here, below the collectives
 * (sim/coll.h), so that a cluster is parsed without them. */
typedef enum coll_op {
    COLL_ALL_GATHER = 0,
    COLL_REDUCE_SCATTER,
    COLL_ALL_REDUCE,
    COLL_ALL_TO_ALL,
    COLL_BROADCAST,
    COLL_SENDRECV,
    COLL_RING_SHIFT, /* every member sends S to the next (ring attention's step) */
    COLL_NOPS
} coll_op;

const char *coll_op_name(int op);
/* Returns the op for a name ("all_gather", "allgather", ...) or -1. */
int coll_op_parse(const char *name);

#define CLU_SCHEMA   1
#define CLU_MAXRULES 32

enum { CLU_NVLINK = 0, CLU_NET = 1, CLU_NLINK = 2 };

typedef struct clu_rule {
    int op;           /* coll_op, or -1 for any */
    int link;         /* CLU_NVLINK / CLU_NET, or -1 for any */
    double max_bytes; /* applies to messages of at most this size */
    double alpha_s;   /* per-step latency */
    double eff;       /* protocol efficiency */
} clu_rule;

typedef struct clu_desc {
    char name[64];
    char description[160];
    char origin[256]; /* file or "built-in NAME", for messages */
    int nodes, gpus_per_node;
    hw_gpu gpu;
    double nvl_bw, nvl_lat;  /* per direction, B/s; one-way latency, s */
    double nic_bw, nic_lat;  /* per GPU NIC, per direction */
    int nodes_per_leaf;      /* scalable unit: nodes whose rail-i NICs share leaf i */
    double oversub;          /* leaf uplink oversubscription (1 = non-blocking) */
    double fabric_lat;       /* extra one-way latency when a flow crosses the spine */
    double alpha[CLU_NLINK]; /* default per-step latency */
    double eff[CLU_NLINK];   /* default protocol efficiency */
    clu_rule rules[CLU_MAXRULES];
    int nrules;
    double comm_slowdown; /* fraction of compute throughput NCCL kernels take while running */
} clu_desc;

/* The valid ranges of a cluster file's numbers (static storage); *n rows.
 * Fields are paths from the root ("collectives.rules[].max_bytes"). */
const jx_range *clu_ranges(size_t *n);
/* Loads a built-in cluster by name or a cluster file. */
sft_status clu_load(const char *name_or_file, clu_desc *out, sft_err *e);
sft_status clu_parse(const char *text, const char *origin, clu_desc *out, sft_err *e);
/* Rescales to `gpus` GPUs: whole nodes when gpus > gpus_per_node, else one
 * node holding `gpus` GPUs. Errors (EINPUT) name the cluster and the count. */
sft_status clu_scale(clu_desc *c, long gpus, sft_err *e);
static inline int clu_ngpus(const clu_desc *c)
{
    return c->nodes * c->gpus_per_node;
}
static inline int clu_node_of(const clu_desc *c, int gpu)
{
    return gpu / c->gpus_per_node;
}
/* Step latency and efficiency for op over link class with a message of bytes. */
void clu_coll_params(const clu_desc *c, int op, int link, double bytes, double *alpha, double *eff);
/* The cluster as a JSON object (for the scenario record). Creates the object. */
cJSON *clu_to_json(const clu_desc *c);

#endif
