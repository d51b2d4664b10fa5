/* cost.h — kernel durations on one GPU: GEMMs, attention over packed
 * sequences, memory-bound kernels. One source of truth: the program builder
 * and the schedulers' estimates both call these.
 *
 * Durations come from the GPU's calibration table (a measured one preferred,
 * the published seed after, see hw_gpu.calibration) interpolated (calib.h);
 * a table taken on another device is scaled by the ratio of peaks; shapes no
 * table covers use the roofline. Every kernel adds the GPU's launch gap.
 */
#ifndef SFT_COST_H
#define SFT_COST_H

#include "models/hw/calib.h"
#include "sim/gpu.h"

typedef struct cost cost;

/* One sequence's share of an attention kernel on this GPU: q query tokens
 * against k key tokens (causal: the queries are the last q of the k keys,
 * or for a CP shard the load-balanced equivalent). */
typedef struct cost_seq {
    double q, k;
} cost_seq;

/* calibration: a table name or file, or NULL for the GPU's preference list
 * (first built-in found), falling back to the published H100 seed scaled to
 * this GPU's peak. Creates *out. */
sft_status cost_create(const hw_gpu *g, const char *calibration, cost **out, sft_err *e);
void cost_destroy(cost *c);
const char *cost_calibration(const cost *c); /* table name in use */
const hw_gpu *cost_gpu(const cost *c);

double cost_gemm(const cost *c, double m, double n, double k);
double cost_mem(const cost *c, double bytes);
/* The shape of an attention kernel: query and KV heads, head dimension, and
 * the model width its Q and O rows have (the roofline's bytes). */
typedef struct cost_heads {
    int heads, kv_heads, head_dim, hidden;
} cost_heads;

/* One attention kernel over nseq packed sequences (forward or backward). */
double cost_attn(const cost *c, const cost_heads *h, int bwd, int causal, const cost_seq *s,
                 int nseq);
/* The (q, k) equivalent of one rank's share of a causal sequence of len
 * tokens sharded over n ranks in load-balanced chunks: len/n queries doing
 * 1/n of the pairs. */
cost_seq cost_shard(double len, int n);

#endif
