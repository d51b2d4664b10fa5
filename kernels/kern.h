/* kern.h — the attention and GEMM kernels that the validation harness measures
 * and the cost models are calibrated against, behind one C interface for every
 * backend: a threaded FlashAttention-2 style CPU reference (FP32), naive
 * O(n^2) oracles in double for the tests, and CUDA (BF16 tensor-core flash
 * attention, cuBLASLt GEMM) when the library is built with CUDA.
 *
 * Conventions (all backends):
 * - Attention runs over a packed variable-length batch: sequence i owns tokens
 *   cu_seqlens[i] .. cu_seqlens[i+1]-1; its query length equals its key length.
 *   Q, O, dQ, dO are laid out [token][heads_q][head_dim], K, V, dK, dV
 *   [token][heads_kv][head_dim], LSE [token][heads_q]; all row-major, dense.
 * - GQA: q head h reads kv head h / (heads_q / heads_kv); dK and dV of a kv head
 *   are summed over the q heads that share it.
 * - Causal masking is within each sequence: query i sees keys j <= i.
 * - The softmax scale is 1/sqrt(head_dim); LSE is the natural-log log-sum-exp
 *   of the scaled scores of each (token, q head) row.
 * - GEMM is row-major: C[M,N] = A[M,K] * B[K,N], leading dimensions K, N, N.
 * - CUDA entry points that take host arrays round the float inputs to BF16
 *   (round to nearest even), compute with FP32 accumulation and return the
 *   BF16 results widened to float (LSE stays FP32).
 * - Functions that can fail return sft_status and write a message into the
 *   caller's sft_err. A CUDA entry point of a build without CUDA, or on a
 *   machine without a usable device, returns SFT_EINFEASIBLE with a message
 *   saying so ("not built with CUDA", or the CUDA runtime's own reason).
 *
 * Ownership: every pointer argument is borrowed for the duration of the call;
 * nothing is retained, and output arrays are allocated by the caller.
 * When the library is built with CUDA, SFT_HAVE_CUDA is defined to 1 for
 * everything that links it.
 */
#ifndef SFT_KERN_H
#define SFT_KERN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" { /* base.h has no C++ guard of its own; the .cu files include this */
#endif

#include "base/base.h"

typedef enum kern_backend {
    KERN_CPU = 0,  /* FlashAttention-2 style reference / blocked GEMM, FP32, pthreads */
    KERN_CUDA = 1, /* BF16 tensor-core flash attention / cuBLASLt GEMM */
} kern_backend;

typedef enum kern_dir {
    KERN_FWD = 0,
    KERN_BWD = 1,
} kern_dir;

/* One packed attention problem. cu_seqlens is borrowed by whoever receives the
 * shape: nseq+1 nondecreasing int32 offsets starting at 0 (empty sequences
 * allowed). head_dim is 64 or 128; heads_q is a multiple of heads_kv. */
typedef struct kern_attn_shape {
    int nseq;
    const int32_t *cu_seqlens;
    int heads_q;
    int heads_kv;
    int head_dim;
    int causal; /* nonzero: causal within each sequence */
} kern_attn_shape;

/* Max normwise relative errors (max |x - ref| / max |ref| over the tensor) of
 * one backend against another, as kern_check_cuda_vs_cpu reports them. */
typedef struct kern_attn_check {
    double o, lse, dq, dk, dv;
    double max; /* the largest of the five */
} kern_attn_check;

/* ---- shape helpers --------------------------------------------------------- */

/* Checks s (see kern_attn_shape). Returns SFT_EINPUT naming the bad field. */
sft_status kern_attn_shape_check(const kern_attn_shape *s, sft_err *e);
/* Total tokens of the packed batch (cu_seqlens[nseq]); s must be valid. */
size_t kern_attn_tokens(const kern_attn_shape *s);

/* FLOP count, the FlashAttention-2 convention: forward = 4 * head_dim * heads_q
 * * sum over sequences of pairs(S), where pairs(S) = S(S+1)/2 when causal and
 * S^2 otherwise (two matmuls, QK^T and PV, of 2 FLOPs per multiply-add over the
 * (query, key) pairs actually computed); backward = 2.5 x forward (five
 * matmuls instead of two). Softmax and masking are not counted. */
double kern_attn_flops(const kern_attn_shape *s, kern_dir dir);
/* 2 * M * N * K. */
double kern_gemm_flops(int m, int n, int k);

/* ---- inputs ------------------------------------------------------------------ */

/* Fills x[0..n) with uniform values in [-1, 1) from a splitmix64 stream
 * seeded by seed: the same seed gives the same values on every machine. */
void kern_fill_random(float *x, size_t n, uint64_t seed);
/* Rounds x[0..n) in place to the nearest BF16 value (ties to even). */
void kern_round_bf16(float *x, size_t n);

/* ---- CPU reference (FP32, FlashAttention-2 structure) ---------------------------
 * nthreads: worker threads, 0 = the number of online CPUs. */

/* Forward: borrows q, k, v; writes o and lse. */
sft_status kern_attn_fwd_cpu(const kern_attn_shape *s, const float *q, const float *k,
                             const float *v, float *o, float *lse, int nthreads, sft_err *e);
/* Backward: borrows q, k, v, the forward's o and lse, and dout; writes dq, dk,
 * dv. Recomputes the probabilities from lse. */
sft_status kern_attn_bwd_cpu(const kern_attn_shape *s, const float *q, const float *k,
                             const float *v, const float *o, const float *lse, const float *dout,
                             float *dq, float *dk, float *dv, int nthreads, sft_err *e);
/* Blocked row-major GEMM C = A * B in float; borrows a, b; writes c. */
sft_status kern_gemm_cpu(int m, int n, int k, const float *a, const float *b, float *c,
                         int nthreads, sft_err *e);

/* ---- naive oracles (double, single-threaded, for tests) -------------------- */

/* Forward with the full score matrix; borrows q, k, v; writes o and lse. */
sft_status kern_attn_fwd_naive(const kern_attn_shape *s, const double *q, const double *k,
                               const double *v, double *o, double *lse, sft_err *e);
/* Backward from first principles (recomputes the forward, no O/LSE input);
 * borrows q, k, v, dout; writes dq, dk, dv. */
sft_status kern_attn_bwd_naive(const kern_attn_shape *s, const double *q, const double *k,
                               const double *v, const double *dout, double *dq, double *dk,
                               double *dv, sft_err *e);
/* Triple-loop C = A * B; borrows a, b; writes c. */
sft_status kern_gemm_naive(int m, int n, int k, const double *a, const double *b, double *c,
                           sft_err *e);

/* ---- CUDA (host arrays; see the BF16 convention above) ----------------------- */

/* Whether the current CUDA device (device 0 unless the caller chose another)
 * can run these kernels (compute capability 8.0 or newer). Writes its name
 * into device_name (n bytes) and "driver X.Y, runtime X.Y" into driver (m
 * bytes); when it returns 0, device_name is empty and driver says why (never
 * crashes without a driver). Either buffer may be NULL when its size is 0. */
int kern_cuda_available(char *device_name, size_t n, char *driver, size_t m);
/* Forward on the current CUDA device; borrows q, k, v; writes o and lse. */
sft_status kern_attn_fwd_cuda(const kern_attn_shape *s, const float *q, const float *k,
                              const float *v, float *o, float *lse, sft_err *e);
/* Backward on the current CUDA device; borrows q, k, v, o, lse, dout; writes
 * dq, dk, dv. */
sft_status kern_attn_bwd_cuda(const kern_attn_shape *s, const float *q, const float *k,
                              const float *v, const float *o, const float *lse, const float *dout,
                              float *dq, float *dk, float *dv, sft_err *e);
/* cuBLASLt GEMM C = A * B (BF16 in and out, FP32 compute); borrows a, b;
 * writes c. */
sft_status kern_gemm_cuda(int m, int n, int k, const float *a, const float *b, float *c,
                          sft_err *e);

/* Runs both backends on the same random BF16-rounded inputs (q, k, v, dO from
 * seed): CUDA forward and backward against the CPU reference. Writes the
 * errors into *out. */
sft_status kern_check_cuda_vs_cpu(const kern_attn_shape *s, uint64_t seed, kern_attn_check *out,
                                  sft_err *e);

/* ---- timing (the measurement harness) ------------------------------------------
 * Allocates seeded random inputs, runs `warmup` untimed and `reps` timed
 * calls, and writes the median seconds of one call into *median_s. CUDA times
 * each call with events on one stream (inputs resident on the device); the
 * CPU backend uses CLOCK_MONOTONIC and all online CPUs. A backward call
 * includes everything the backward needs after the forward (CUDA: the
 * rowsum(dO*O) pass, the dQ accumulator reset and conversion). */
sft_status kern_time_attn(kern_backend b, const kern_attn_shape *s, kern_dir dir, int warmup,
                          int reps, double *median_s, sft_err *e);
sft_status kern_time_gemm(kern_backend b, int m, int n, int k, int warmup, int reps,
                          double *median_s, sft_err *e);

/* Name of a backend ("cpu", "cuda") and of a direction ("fwd", "bwd");
 * static storage. */
const char *kern_backend_name(kern_backend b);
const char *kern_dir_name(kern_dir d);

#ifdef __cplusplus
}
#endif

#endif
