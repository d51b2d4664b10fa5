/* kern_int.h — what the kernels/ files share and nothing else sees: the
 * worker pool, the splitmix64 generator, BF16 conversion, and the CUDA
 * timing entries that kern_time_* dispatches to.
 *
 * Invariants: helpers here never fail on valid arguments except where they
 * return sft_status; everything is usable from C and from the .cu files.
 */
#ifndef SFT_KERN_INT_H
#define SFT_KERN_INT_H

#include "kernels/kern.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, full period. */
static inline uint64_t kern_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1) from the top 24 bits: exact in float. */
static inline float kern_u64_to_unit(uint64_t r)
{
    return (float)(r >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/* n independent stream seeds derived from one seed. */
static inline void kern_sub_seeds(uint64_t seed, uint64_t *out, int n)
{
    uint64_t st = seed;
    for (int i = 0; i < n; i++) out[i] = kern_splitmix64(&st);
}

/* The seed of every timing input, so that every measurement sees the same
 * data: kern_sub_seeds(KERN_TIME_SEED, .., 4) gives q, k, v, dO (attention)
 * or A, B (GEMM). */
#define KERN_TIME_SEED 0x5f7a11ce5eedULL

/* Float to BF16 bits, round to nearest even; NaN stays a (quiet) NaN. */
static inline uint16_t kern_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float kern_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* fn(ctx, item, worker) for every item in [0, nitems), spread over nthreads
 * workers (0 = online CPUs, capped at nitems); worker is in [0, *nworkers).
 * Items are handed out in index order from a shared counter, so callers put
 * the most expensive first. The caller's thread is worker 0. */
typedef void (*kern_task_fn)(void *ctx, size_t item, int worker);
/* Number of workers kern_parallel_for will use for (nitems, nthreads). */
int kern_workers(size_t nitems, int nthreads);
sft_status kern_parallel_for(size_t nitems, int nthreads, kern_task_fn fn, void *ctx, sft_err *e);

/* Median of x[0..n) (n >= 1); reorders x. */
double kern_median(double *x, size_t n);

/* Checks the common arguments of the timing entries. */
sft_status kern_time_args_check(int warmup, int reps, double *median_s, sft_err *e);
sft_status kern_gemm_args_check(int m, int n, int k, sft_err *e);
/* SFT_EINPUT "<what>: array <names[i]> is NULL" for the first NULL ptrs[i]. */
sft_status kern_ptrs_check(const char *what, const void *const *ptrs, const char *const *names,
                           int n, sft_err *e);

/* CUDA timing (kern_cuda.cu, or kern_nocuda.c in a build without CUDA);
 * arguments already checked by kern_time_attn / kern_time_gemm. */
sft_status kern_cuda_time_attn(const kern_attn_shape *s, kern_dir dir, int warmup, int reps,
                               double *median_s, sft_err *e);
sft_status kern_cuda_time_gemm(int m, int n, int k, int warmup, int reps, double *median_s,
                               sft_err *e);

#ifdef __cplusplus
}
#endif

#endif
