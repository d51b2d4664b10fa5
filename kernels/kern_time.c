/* kern_time.c — the entry points that run the kernels as a measurement
 * harness does: timing on either backend (CPU timing here, CUDA timing in
 * kern_cuda.cu) and the CUDA-vs-CPU numerics check.
 *
 * Invariants: every input comes from a seed (timing: KERN_TIME_SEED), so two
 * runs of the same shape see the same data; this is the only C file that
 * calls into the CUDA backend, so a program that uses only the CPU kernels
 * never pulls the CUDA objects (and their libraries) out of the archive.
 */
#include "kernels/kern_int.h"

#include <math.h>
#include <stdlib.h>

typedef struct attn_bufs {
    size_t nq, nkv, nrow; /* elements of Q-like, K-like and LSE-like tensors */
    float *q, *k, *v, *o, *lse, *dout, *dq, *dk, *dv;
} attn_bufs;

/* Allocates every tensor of s, contents undefined. */
static void attn_bufs_create(attn_bufs *b, const kern_attn_shape *s)
{
    size_t t = kern_attn_tokens(s);
    b->nq = t * (size_t)s->heads_q * (size_t)s->head_dim;
    b->nkv = t * (size_t)s->heads_kv * (size_t)s->head_dim;
    b->nrow = t * (size_t)s->heads_q;
    b->q = sft_xmalloc(b->nq * sizeof(float));
    b->o = sft_xmalloc(b->nq * sizeof(float));
    b->dout = sft_xmalloc(b->nq * sizeof(float));
    b->dq = sft_xmalloc(b->nq * sizeof(float));
    b->k = sft_xmalloc(b->nkv * sizeof(float));
    b->v = sft_xmalloc(b->nkv * sizeof(float));
    b->dk = sft_xmalloc(b->nkv * sizeof(float));
    b->dv = sft_xmalloc(b->nkv * sizeof(float));
    b->lse = sft_xmalloc(b->nrow * sizeof(float));
}

/* Fills the inputs q, k, v, dout from independent streams of seed. */
static void attn_bufs_fill(attn_bufs *b, uint64_t seed)
{
    uint64_t ss[4];
    kern_sub_seeds(seed, ss, 4);
    kern_fill_random(b->q, b->nq, ss[0]);
    kern_fill_random(b->k, b->nkv, ss[1]);
    kern_fill_random(b->v, b->nkv, ss[2]);
    kern_fill_random(b->dout, b->nq, ss[3]);
}

static void attn_bufs_destroy(attn_bufs *b)
{
    free(b->q);
    free(b->k);
    free(b->v);
    free(b->o);
    free(b->lse);
    free(b->dout);
    free(b->dq);
    free(b->dk);
    free(b->dv);
}

static sft_status cpu_time_attn(const kern_attn_shape *s, kern_dir dir, int warmup, int reps,
                                double *median_s, sft_err *e)
{
    attn_bufs b;
    attn_bufs_create(&b, s);
    attn_bufs_fill(&b, KERN_TIME_SEED);
    double *t = sft_xmalloc((size_t)reps * sizeof *t);
    sft_status st = kern_attn_fwd_cpu(s, b.q, b.k, b.v, b.o, b.lse, 0, e);
    for (int i = 0; st == SFT_OK && i < warmup + reps; i++) {
        double t0 = sft_wall();
        if (dir == KERN_FWD)
            st = kern_attn_fwd_cpu(s, b.q, b.k, b.v, b.o, b.lse, 0, e);
        else
            st = kern_attn_bwd_cpu(s, b.q, b.k, b.v, b.o, b.lse, b.dout, b.dq, b.dk, b.dv, 0, e);
        if (i >= warmup) t[i - warmup] = sft_wall() - t0;
    }
    if (st == SFT_OK) *median_s = kern_median(t, (size_t)reps);
    free(t);
    attn_bufs_destroy(&b);
    return st;
}

sft_status kern_time_attn(kern_backend b, const kern_attn_shape *s, kern_dir dir, int warmup,
                          int reps, double *median_s, sft_err *e)
{
    sft_status st = kern_attn_shape_check(s, e);
    if (st) return st;
    if ((st = kern_time_args_check(warmup, reps, median_s, e))) return st;
    if (kern_attn_tokens(s) == 0)
        return sft_errf(e, SFT_EINPUT, "attention timing: the batch has no tokens");
    if (dir != KERN_FWD && dir != KERN_BWD)
        return sft_errf(e, SFT_EINPUT, "timing: direction %d is neither fwd (0) nor bwd (1)",
                        (int)dir);
    switch (b) {
    case KERN_CPU:
        return cpu_time_attn(s, dir, warmup, reps, median_s, e);
    case KERN_CUDA:
        return kern_cuda_time_attn(s, dir, warmup, reps, median_s, e);
    }
    return sft_errf(e, SFT_EINPUT, "timing: backend %d is neither cpu (0) nor cuda (1)", (int)b);
}

static sft_status cpu_time_gemm(int m, int n, int k, int warmup, int reps, double *median_s,
                                sft_err *e)
{
    float *a = sft_xmalloc((size_t)m * (size_t)k * sizeof(float));
    float *bm = sft_xmalloc((size_t)k * (size_t)n * sizeof(float));
    float *c = sft_xmalloc((size_t)m * (size_t)n * sizeof(float));
    double *t = sft_xmalloc((size_t)reps * sizeof *t);
    uint64_t ss[2];
    kern_sub_seeds(KERN_TIME_SEED, ss, 2);
    kern_fill_random(a, (size_t)m * (size_t)k, ss[0]);
    kern_fill_random(bm, (size_t)k * (size_t)n, ss[1]);
    sft_status st = SFT_OK;
    for (int i = 0; st == SFT_OK && i < warmup + reps; i++) {
        double t0 = sft_wall();
        st = kern_gemm_cpu(m, n, k, a, bm, c, 0, e);
        if (i >= warmup) t[i - warmup] = sft_wall() - t0;
    }
    if (st == SFT_OK) *median_s = kern_median(t, (size_t)reps);
    free(t);
    free(a);
    free(bm);
    free(c);
    return st;
}

sft_status kern_time_gemm(kern_backend b, int m, int n, int k, int warmup, int reps,
                          double *median_s, sft_err *e)
{
    sft_status st = kern_gemm_args_check(m, n, k, e);
    if (st) return st;
    if ((st = kern_time_args_check(warmup, reps, median_s, e))) return st;
    switch (b) {
    case KERN_CPU:
        return cpu_time_gemm(m, n, k, warmup, reps, median_s, e);
    case KERN_CUDA:
        return kern_cuda_time_gemm(m, n, k, warmup, reps, median_s, e);
    }
    return sft_errf(e, SFT_EINPUT, "timing: backend %d is neither cpu (0) nor cuda (1)", (int)b);
}

/* ---- CUDA vs CPU ------------------------------------------------------------- */

/* max |x - ref| / max |ref|; a NaN anywhere in x makes it infinite. */
static double rel_err(const float *x, const float *ref, size_t n)
{
    double dmax = 0, rmax = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) return INFINITY;
        double d = fabs((double)x[i] - (double)ref[i]);
        if (d > dmax) dmax = d;
        if (fabs((double)ref[i]) > rmax) rmax = fabs((double)ref[i]);
    }
    return rmax > 0 ? dmax / rmax : dmax;
}

sft_status kern_check_cuda_vs_cpu(const kern_attn_shape *s, uint64_t seed, kern_attn_check *out,
                                  sft_err *e)
{
    sft_status st = kern_attn_shape_check(s, e);
    if (st) return st;
    if (!out) return sft_errf(e, SFT_EINPUT, "cuda check: out is NULL");
    /* Both backends read cpu's inputs; gpu holds only the CUDA outputs. */
    attn_bufs cpu, gpu;
    attn_bufs_create(&cpu, s);
    attn_bufs_fill(&cpu, seed);
    attn_bufs_create(&gpu, s);
    kern_round_bf16(cpu.q, cpu.nq);
    kern_round_bf16(cpu.k, cpu.nkv);
    kern_round_bf16(cpu.v, cpu.nkv);
    kern_round_bf16(cpu.dout, cpu.nq);
    st = kern_attn_fwd_cpu(s, cpu.q, cpu.k, cpu.v, cpu.o, cpu.lse, 0, e);
    if (!st)
        st = kern_attn_bwd_cpu(s, cpu.q, cpu.k, cpu.v, cpu.o, cpu.lse, cpu.dout, cpu.dq, cpu.dk,
                               cpu.dv, 0, e);
    if (!st) st = kern_attn_fwd_cuda(s, cpu.q, cpu.k, cpu.v, gpu.o, gpu.lse, e);
    if (!st)
        st = kern_attn_bwd_cuda(s, cpu.q, cpu.k, cpu.v, gpu.o, gpu.lse, cpu.dout, gpu.dq, gpu.dk,
                                gpu.dv, e);
    if (!st) {
        out->o = rel_err(gpu.o, cpu.o, cpu.nq);
        out->lse = rel_err(gpu.lse, cpu.lse, cpu.nrow);
        out->dq = rel_err(gpu.dq, cpu.dq, cpu.nq);
        out->dk = rel_err(gpu.dk, cpu.dk, cpu.nkv);
        out->dv = rel_err(gpu.dv, cpu.dv, cpu.nkv);
        out->max = fmax(fmax(fmax(out->o, out->lse), fmax(out->dq, out->dk)), out->dv);
    }
    attn_bufs_destroy(&cpu);
    attn_bufs_destroy(&gpu);
    return st;
}
