/* test_kernels_gpu.c — the CUDA backend against the CPU reference (label
 * gpu): flash attention forward and backward on packed variable-length
 * batches (causal and not, head dim 64 and 128, GQA and plain multi-head),
 * and the cuBLASLt GEMM. Exits 77 (a ctest skip) when no CUDA device can be
 * used, so it passes vacuously on machines without a GPU.
 *
 * Both backends read the same BF16-rounded inputs; the error measure is
 * normwise relative, max |x - ref| / max |ref|. The CUDA side rounds P to
 * BF16 before the P V and dS products and rounds its outputs to BF16 (a
 * relative step of 2^-8 = 3.9e-3), so 2e-2 bounds honest BF16 error while an
 * indexing, masking or GQA slip gives errors of order 1.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kernels/kern.h"

#define BF16_TOL 2e-2

/* Lengths: a single token, partial tiles, exact tile multiples, one past a
 * multiple, an empty sequence and a few multi-tile ones with ragged tails. */
static const int LENS[] = {1, 7, 64, 65, 200, 0, 333, 128, 31};
#define NLENS ((int)(sizeof LENS / sizeof LENS[0]))

static void check_attn(int hq, int hkv, int d, int causal)
{
    int32_t cu[NLENS + 1] = {0};
    for (int i = 0; i < NLENS; i++) cu[i + 1] = cu[i] + LENS[i];
    const kern_attn_shape s = {.nseq = NLENS,
                               .cu_seqlens = cu,
                               .heads_q = hq,
                               .heads_kv = hkv,
                               .head_dim = d,
                               .causal = causal};
    kern_attn_check c;
    sft_err e = {0};
    sft_status st = kern_check_cuda_vs_cpu(&s, 1234, &c, &e);
    if (st) fail_msg("%s", e.msg);
    print_message("hq=%d hkv=%d d=%d causal=%d: O %.2e LSE %.2e dQ %.2e dK %.2e dV %.2e\n", hq, hkv,
                  d, causal, c.o, c.lse, c.dq, c.dk, c.dv);
    assert_true(c.o < BF16_TOL);
    assert_true(c.lse < BF16_TOL);
    assert_true(c.dq < BF16_TOL);
    assert_true(c.dk < BF16_TOL);
    assert_true(c.dv < BF16_TOL);
}

/* 8 q heads over 2 kv heads: the GQA case the sums over q heads matter for. */
static void test_attn_gqa_d64_causal(void **state)
{
    (void)state;
    check_attn(8, 2, 64, 1);
}

static void test_attn_gqa_d64_full(void **state)
{
    (void)state;
    check_attn(8, 2, 64, 0);
}

static void test_attn_gqa_d128_causal(void **state)
{
    (void)state;
    check_attn(8, 2, 128, 1);
}

static void test_attn_gqa_d128_full(void **state)
{
    (void)state;
    check_attn(8, 2, 128, 0);
}

/* Plain multi-head (group of one) and Qwen2.5-7B's 28 over 4. */
static void test_attn_mha_and_qwen(void **state)
{
    (void)state;
    check_attn(3, 3, 128, 1);
    check_attn(28, 4, 128, 1);
}

static void check_gemm(int m, int n, int k)
{
    const size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *c = malloc(nc * sizeof *c), *r = malloc(nc * sizeof *r);
    kern_fill_random(a, na, 5);
    kern_fill_random(b, nb, 6);
    kern_round_bf16(a, na);
    kern_round_bf16(b, nb);
    sft_err e = {0};
    if (kern_gemm_cuda(m, n, k, a, b, c, &e)) fail_msg("%s", e.msg);
    assert_int_equal(kern_gemm_cpu(m, n, k, a, b, r, 0, &e), SFT_OK);
    double dmax = 0, rmax = 0;
    for (size_t i = 0; i < nc; i++) {
        dmax = isnan(c[i]) ? INFINITY : fmax(dmax, fabs((double)c[i] - r[i]));
        rmax = fmax(rmax, fabs((double)r[i]));
    }
    print_message("gemm %dx%dx%d: rel err %.2e\n", m, n, k, dmax / rmax);
    /* Exact BF16 inputs, FP32 accumulation: only the BF16 output rounding
     * (2^-9 relative) and summation order differ. */
    assert_true(dmax / rmax < BF16_TOL);
    free(a), free(b), free(c), free(r);
}

/* Odd sizes (no 16-byte aligned rows: cuBLASLt must pick a general kernel)
 * and an aligned one; the row-major convention shows as a transposed or
 * scrambled result if wrong. */
static void test_gemm(void **state)
{
    (void)state;
    check_gemm(37, 53, 71);
    check_gemm(256, 384, 512);
}

/* The timing entries run on the device and report throughput; the numbers
 * are printed for the record, the assertion is only that they are sane. */
static void test_timing(void **state)
{
    (void)state;
    const int32_t cu[] = {0, 8192, 12288, 16384};
    const kern_attn_shape s = {
        .nseq = 3, .cu_seqlens = cu, .heads_q = 28, .heads_kv = 4, .head_dim = 128, .causal = 1};
    sft_err e = {0};
    for (int dir = KERN_FWD; dir <= KERN_BWD; dir++) {
        double med = 0;
        if (kern_time_attn(KERN_CUDA, &s, (kern_dir)dir, 2, 5, &med, &e)) fail_msg("%s", e.msg);
        print_message("attention %s 8K+4K+4K causal 28/4 heads d=128: %.3f ms, %.1f TFLOP/s\n",
                      kern_dir_name((kern_dir)dir), med * 1e3,
                      kern_attn_flops(&s, (kern_dir)dir) / med * 1e-12);
        assert_true(med > 0 && med < 10); /* seconds: anything else is a broken timer */
    }
    double med = 0;
    if (kern_time_gemm(KERN_CUDA, 4096, 4096, 4096, 2, 5, &med, &e)) fail_msg("%s", e.msg);
    print_message("gemm 4096^3: %.3f ms, %.1f TFLOP/s\n", med * 1e3,
                  kern_gemm_flops(4096, 4096, 4096) / med * 1e-12);
    assert_true(med > 0 && med < 10);
}

int main(void)
{
    char name[256], driver[256];
    if (!kern_cuda_available(name, sizeof name, driver, sizeof driver)) {
        printf("skipping the GPU tests: %s\n", driver);
        return 77;
    }
    printf("CUDA device: %s (%s)\n", name, driver);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attn_gqa_d64_causal),
        cmocka_unit_test(test_attn_gqa_d64_full),
        cmocka_unit_test(test_attn_gqa_d128_causal),
        cmocka_unit_test(test_attn_gqa_d128_full),
        cmocka_unit_test(test_attn_mha_and_qwen),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_timing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
