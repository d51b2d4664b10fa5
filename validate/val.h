/* val.h — the validation harness behind `sftsim-validate`: measurement grids
 * (which kernel shapes to time), the three subcommands, and the helpers they
 * share (messages, options and output come from cli/).
 *
 * A grid is a list of attention points (one packed batch of `batch` whole
 * sequences of `len` tokens; q_tokens = k_tokens = len in the calibration
 * table) and GEMM points (m, n, k), plus the repetition policy. Invariants of
 * every grid val_grid_create returns: head_dim is 64 or 128, heads_q is a
 * multiple of heads_kv, every size >= 1, no shape appears twice, no kernel
 * (dir, causal, head_dim) has two points of the same length (the calibration
 * format rejects that), and the points are in a fixed order (attention by
 * dir, causal, head_dim, len as calib.c sorts them; GEMMs as generated), so
 * two runs of one grid write their points in the same order.
 */
#ifndef SFT_VAL_H
#define SFT_VAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "cli/cli.h"

typedef struct val_attn {
    int bwd, causal, head_dim, heads_q, heads_kv;
    long len, batch;
} val_attn;

typedef struct val_gemm {
    long m, n, k;
} val_gemm;

typedef struct val_grid {
    char name[160]; /* recorded in the table's "grid" field */
    int warmup;     /* calls before the timed ones, the probe call included */
    int reps;       /* timed calls whose median is the point's time */
    val_attn *attn;
    size_t nattn;
    val_gemm *gemm;
    size_t ngemm;
} val_grid;

/* Token counts of the built-in grids. The default grid sweeps sequence
 * lengths 128 .. 131072 (doubling) with batch = max(1, VAL_BATCH_TOKENS /
 * len), and GEMM token dimensions 128 .. 65536 (doubling) up to
 * VAL_GEMM_MAX_FLOPS per call. */
#define VAL_BATCH_TOKENS   16384
#define VAL_GEMM_MAX_FLOPS 17592186044416.0 /* 2^44 */

/* spec: "small", "heldout-small" (CPU, seconds), "default", "heldout" (a
 * GPU, minutes), or a grid file (validate/README.md). Creates *out. Errors
 * (EINPUT) name the grid or the file and field. */
sft_status val_grid_create(const char *spec, val_grid **out, sft_err *e);
void val_grid_destroy(val_grid *g);

/* Model FLOPs of one point (calib.h's accounting: the whole packed batch). */
double val_attn_flops(const val_attn *a);
double val_gemm_flops(const val_gemm *g);
/* Bytes the timing call allocates for one point on the device (CUDA: BF16
 * tensors, FP32 accumulators and statistics; GEMM: A, B, C and the cuBLASLt
 * workspace). The CPU backend holds the same tensors in FP32: twice that. */
double val_attn_bytes(const val_attn *a);
double val_gemm_bytes(const val_gemm *g);
/* "fwd causal d128 28/4 8x2048": the point for messages (buffer of n bytes). */
void val_attn_label(const val_attn *a, char *buf, size_t n);
/* "attn fwd causal d128": the kernel a point belongs to, for per-kernel errors. */
void val_attn_kernel(int bwd, int causal, int head_dim, char *buf, size_t n);

/* ---- subcommands: argc/argv start at the subcommand's name; exit codes are
 * sft_status values (0 ok, 1 internal, 2 bad input, 3 cannot run here) ---- */
int val_measure(int argc, char **argv);
int val_compare(int argc, char **argv);
int val_paper(int argc, char **argv);

/* ---- shared helpers: the messages, option parsers and JSON output are
 * cli/'s (cli.h), under this program's name ---- */
#define VAL_PROG "sftsim-validate"
/* Prints "sftsim-validate: <message>" to stderr; returns the exit code. */
#define val_report(e) cli_report_as(VAL_PROG, (e))
/* Prints a usage error for subcommand sub; returns SFT_EINPUT. */
#define val_usage_error(...) cli_usage_error_as(VAL_PROG, __VA_ARGS__)
/* The current time as UTC ISO-8601 ("2025-01-31T12:00:00Z") into buf (n
 * bytes). */
void val_utc_now(char *buf, size_t n);

#endif
