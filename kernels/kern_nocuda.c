/* kern_nocuda.c — the CUDA entry points of a build without CUDA (no nvcc at
 * configure time): each reports that it cannot run, so callers and tests
 * behave the same way as on a machine without a GPU.
 *
 * Invariants: compiled instead of kern_cuda.cu, never beside it; every
 * function returns SFT_EINFEASIBLE (kern_cuda_available: 0) and touches no
 * output array.
 */
#include "kernels/kern_int.h"

#define NO_CUDA "sftsim was built without CUDA (no nvcc found at configure time)"

static void put(char *buf, size_t n, const char *text)
{
    if (buf && n) snprintf(buf, n, "%s", text);
}

int kern_cuda_available(char *device_name, size_t n, char *driver, size_t m)
{
    put(device_name, n, "");
    put(driver, m, NO_CUDA);
    return 0;
}

sft_status kern_attn_fwd_cuda(const kern_attn_shape *s, const float *q, const float *k,
                              const float *v, float *o, float *lse, sft_err *e)
{
    (void)s, (void)q, (void)k, (void)v, (void)o, (void)lse;
    return sft_errf(e, SFT_EINFEASIBLE, "attention forward (cuda): " NO_CUDA);
}

sft_status kern_attn_bwd_cuda(const kern_attn_shape *s, const float *q, const float *k,
                              const float *v, const float *o, const float *lse, const float *dout,
                              float *dq, float *dk, float *dv, sft_err *e)
{
    (void)s, (void)q, (void)k, (void)v, (void)o, (void)lse, (void)dout, (void)dq, (void)dk,
        (void)dv;
    return sft_errf(e, SFT_EINFEASIBLE, "attention backward (cuda): " NO_CUDA);
}

sft_status kern_gemm_cuda(int m, int n, int k, const float *a, const float *b, float *c, sft_err *e)
{
    (void)m, (void)n, (void)k, (void)a, (void)b, (void)c;
    return sft_errf(e, SFT_EINFEASIBLE, "gemm (cuda): " NO_CUDA);
}

sft_status kern_cuda_time_attn(const kern_attn_shape *s, kern_dir dir, int warmup, int reps,
                               double *median_s, sft_err *e)
{
    (void)s, (void)dir, (void)warmup, (void)reps, (void)median_s;
    return sft_errf(e, SFT_EINFEASIBLE, "attention timing (cuda): " NO_CUDA);
}

sft_status kern_cuda_time_gemm(int m, int n, int k, int warmup, int reps, double *median_s,
                               sft_err *e)
{
    (void)m, (void)n, (void)k, (void)warmup, (void)reps, (void)median_s;
    return sft_errf(e, SFT_EINFEASIBLE, "gemm timing (cuda): " NO_CUDA);
}
