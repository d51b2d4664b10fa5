/* calib.h — kernel calibration tables: measured (or published) kernel times,
 * and the interpolation that predicts any shape from them.
 *
 * Format (models/hw/calibration/NAME.json, schema 1; validate/README.md):
 *   {"schema":1, "name", "device", "driver", "date", "grid", "source", "notes",
 *    "peak_tflops":   dense BF16 peak of the device the table was taken on,
 *    "gemm_efficiency":      fraction of peak for GEMMs outside the table,
 *    "attention_efficiency": fraction of peak for attention outside the table,
 *    "memory_efficiency":    fraction of HBM bandwidth of elementwise kernels,
 *    "attention": [{"dir":"fwd"|"bwd", "causal":bool, "head_dim", "heads_q",
 *                   "heads_kv", "q_tokens", "k_tokens", "batch", "time_us"}],
 *    "gemm":      [{"m","n","k","time_us"}]}
 * An attention point is `batch` sequences of q_tokens queries against
 * k_tokens keys each (causal: the query chunk is the last q_tokens of the k
 * keys), heads_q query heads over heads_kv KV heads.
 *
 * Prediction. Attention: the throughput (model FLOPs / time) of the points of
 * the same (dir, causal, head_dim) is interpolated linearly in log-log space
 * over the per-sequence length L = sqrt(q_tokens * k_tokens) (the length of a
 * local sequence; a CP shard's query chunk against the whole sequence sits
 * between its two lengths), extrapolated below the smallest point along the
 * first segment's power law and held constant above the largest. A packed
 * batch costs the sum over its sequences of FLOPs / throughput(L). GEMM: the
 * throughput of the points sharing two of (m, n, k) with the query is
 * interpolated log-log over the third. Outside the tables: roofline,
 * max(FLOPs / (peak x efficiency), bytes / (HBM x memory efficiency)).
 * Valid ranges of every number, with their reasons: cal_range_table at the
 * top of calib.c (cal_ranges() returns it). name: 1-63 bytes, device up to
 * 127; strings UTF-8 without control characters (source and notes may hold
 * line breaks).
 * Invariants after cal_load: every number within its range, so times in
 * [1 ns, 10^4 s], sizes >= 1, efficiencies in [1e-4, 1].
 */
#ifndef SFT_CALIB_H
#define SFT_CALIB_H

#include "sim/gpu.h"
#include "base/base.h"
#include "base/jsonx.h"

#define CAL_SCHEMA 1

typedef struct cal cal;

/* The valid ranges of a table's numbers (static storage); *n rows. */
const jx_range *cal_ranges(size_t *n);
/* Loads a built-in table by name or a table file. Creates *out. */
sft_status cal_load(const char *name_or_file, cal **out, sft_err *e);
/* Parses table text (borrowed); origin names it in messages. Creates *out. */
sft_status cal_parse(const char *text, const char *origin, cal **out, sft_err *e);
void cal_destroy(cal *c);
const char *cal_name(const cal *c);   /* borrowed from c */
const char *cal_device(const cal *c); /* borrowed from c */
double cal_peak(const cal *c);        /* flop/s of the device the table was taken on */
double cal_memory_efficiency(const cal *c);

/* FLOPs of attention over one sequence: 4 * head_dim * heads_q * pairs
 * (QK^T and PV), x2.5 backward (FA2's five matmuls vs two), where pairs =
 * q*k (non-causal) or, causal, the pairs of the last q queries of k keys:
 * q*(k-q) + q(q+1)/2. */
double cal_attn_flops(int bwd, int causal, int head_dim, int heads_q, double q, double k);
/* Predicted throughput (flop/s on the table's device) for one sequence of
 * q queries against k keys; 0 when the table has no point for this kernel. */
double cal_attn_tput(const cal *c, int bwd, int causal, int head_dim, double q, double k);
/* Predicted GEMM time (s, on the table's device) of C[m,n] = A[m,k] B[k,n],
 * or 0 when no point shares two dimensions with it. */
double cal_gemm_time(const cal *c, double m, double n, double k);
double cal_gemm_efficiency(const cal *c);
double cal_attn_efficiency(const cal *c);

/* Number of points, for reports. */
int cal_npoints(const cal *c, int *nattn, int *ngemm);

#endif
