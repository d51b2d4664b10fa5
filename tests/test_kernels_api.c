/* test_kernels_api.c — the contract of kernels/kern.h around the numerics:
 * shape validation messages, FLOP accounting, seeded inputs, BF16 rounding,
 * the CPU timing entries, and the CUDA entry points on a machine (or build)
 * without a usable GPU.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernels/kern.h"

static kern_attn_shape shape(const int32_t *cu, int nseq, int hq, int hkv, int d, int causal)
{
    return (kern_attn_shape){.nseq = nseq,
                             .cu_seqlens = cu,
                             .heads_q = hq,
                             .heads_kv = hkv,
                             .head_dim = d,
                             .causal = causal};
}

/* Each bad field is an input error whose message names that field. */
static void test_shape_errors(void **state)
{
    (void)state;
    sft_err e = {0};
    const int32_t good[] = {0, 3, 7}, start1[] = {1, 3}, down[] = {0, 5, 4};
    kern_attn_shape s = shape(good, 2, 8, 2, 64, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_OK);

    s = shape(start1, 1, 8, 2, 64, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "cu_seqlens[0]"));
    s = shape(down, 2, 8, 2, 64, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "nondecreasing"));
    s = shape(NULL, 2, 8, 2, 64, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "cu_seqlens is NULL"));
    s = shape(good, 2, 8, 3, 64, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "not a multiple"));
    s = shape(good, 2, 8, 0, 64, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "heads_kv = 0"));
    s = shape(good, 2, 8, 2, 96, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "head_dim is 96"));
    s = shape(good, -1, 8, 2, 64, 1);
    assert_int_equal(kern_attn_shape_check(&s, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "nseq is -1"));
    assert_int_equal(kern_attn_shape_check(NULL, &e), SFT_EINPUT);

    /* The compute entries check the shape and the arrays before any work. */
    float x = 0;
    s = shape(good, 2, 8, 2, 64, 1);
    assert_int_equal(kern_attn_fwd_cpu(&s, &x, &x, NULL, &x, &x, 1, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "array v"));
}

/* Lengths 3 and 4: causal pairs 3*4/2 + 4*5/2 = 16, full pairs 9 + 16 = 25;
 * forward = 4 * d * heads_q * pairs, backward 2.5 times that. */
static void test_flops(void **state)
{
    (void)state;
    const int32_t cu[] = {0, 3, 7};
    kern_attn_shape s = shape(cu, 2, 8, 2, 64, 1);
    assert_true(kern_attn_flops(&s, KERN_FWD) == 4.0 * 64 * 8 * 16);
    assert_true(kern_attn_flops(&s, KERN_BWD) == 2.5 * 4.0 * 64 * 8 * 16);
    s.causal = 0;
    assert_true(kern_attn_flops(&s, KERN_FWD) == 4.0 * 64 * 8 * 25);
    /* GEMM: one multiply-add is 2 FLOPs. */
    assert_true(kern_gemm_flops(2, 3, 5) == 60.0);
    assert_int_equal(kern_attn_tokens(&s), 7);
}

/* Same seed, same values; another seed, other values; all in [-1, 1). */
static void test_random_and_bf16(void **state)
{
    (void)state;
    float a[64], b[64], c[64];
    kern_fill_random(a, 64, 42);
    kern_fill_random(b, 64, 42);
    kern_fill_random(c, 64, 43);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    for (int i = 0; i < 64; i++) assert_true(a[i] >= -1.0f && a[i] < 1.0f);

    /* BF16 keeps 8 significant bits: 1 + 2^-8 is a tie between 1 and
     * 1 + 2^-7 and rounds to even (1); 1 + 3*2^-8 rounds up to 1 + 2^-6. */
    float r[4] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -2.5f, 0.0f};
    kern_round_bf16(r, 4);
    assert_true(r[0] == 1.0f);
    assert_true(r[1] == 1.0f + 0x1p-6f);
    assert_true(r[2] == -2.5f); /* exactly representable: unchanged */
    assert_true(r[3] == 0.0f);
}

/* The CPU timing entries run and return a positive median; bad counts are
 * input errors. */
static void test_time_cpu(void **state)
{
    (void)state;
    const int32_t cu[] = {0, 70, 100};
    kern_attn_shape s = shape(cu, 2, 4, 2, 64, 1);
    sft_err e = {0};
    double med = -1;
    assert_int_equal(kern_time_attn(KERN_CPU, &s, KERN_FWD, 1, 3, &med, &e), SFT_OK);
    assert_true(med > 0);
    med = -1;
    assert_int_equal(kern_time_attn(KERN_CPU, &s, KERN_BWD, 0, 1, &med, &e), SFT_OK);
    assert_true(med > 0);
    med = -1;
    assert_int_equal(kern_time_gemm(KERN_CPU, 33, 65, 17, 1, 3, &med, &e), SFT_OK);
    assert_true(med > 0);
    assert_int_equal(kern_time_attn(KERN_CPU, &s, KERN_FWD, 0, 0, &med, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "reps is 0"));
    const int32_t empty[] = {0, 0};
    kern_attn_shape z = shape(empty, 1, 4, 2, 64, 0);
    assert_int_equal(kern_time_attn(KERN_CPU, &z, KERN_FWD, 0, 1, &med, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "no tokens"));
}

/* An empty batch is valid and produces nothing (no work items at all). */
static void test_empty_batch(void **state)
{
    (void)state;
    const int32_t cu[] = {0, 0, 0};
    kern_attn_shape s = shape(cu, 2, 4, 2, 128, 1);
    sft_err e = {0};
    assert_int_equal(kern_attn_fwd_cpu(&s, NULL, NULL, NULL, NULL, NULL, 0, &e), SFT_OK);
    assert_int_equal(
        kern_attn_bwd_cpu(&s, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, &e), SFT_OK);
}

/* Without a usable GPU (or without CUDA in the build) the CUDA entries say
 * so with SFT_EINFEASIBLE instead of crashing; with one, this is the GPU
 * test's business. */
static void test_cuda_unavailable(void **state)
{
    (void)state;
    char name[128], why[256];
    if (kern_cuda_available(name, sizeof name, why, sizeof why)) {
        print_message("CUDA device %s (%s): covered by test_kernels_gpu\n", name, why);
        skip();
    }
    print_message("no CUDA: %s\n", why);
    assert_string_equal(name, ""); /* documented: empty name when unavailable */
    assert_true(why[0] != '\0');   /* ... and a reason */
    const int32_t cu[] = {0, 5};
    kern_attn_shape s = shape(cu, 1, 2, 1, 64, 0);
    float buf[5 * 2 * 64] = {0}, lse[10];
    sft_err e = {0};
    assert_int_equal(kern_attn_fwd_cuda(&s, buf, buf, buf, buf, lse, &e), SFT_EINFEASIBLE);
    assert_true(e.msg[0] != '\0');
    double med;
    assert_int_equal(kern_time_attn(KERN_CUDA, &s, KERN_FWD, 0, 1, &med, &e), SFT_EINFEASIBLE);
    assert_int_equal(kern_time_gemm(KERN_CUDA, 8, 8, 8, 0, 1, &med, &e), SFT_EINFEASIBLE);
    float a[4] = {0}, c[4];
    assert_int_equal(kern_gemm_cuda(2, 2, 1, a, a, c, &e), SFT_EINFEASIBLE);
    kern_attn_check chk;
    assert_int_equal(kern_check_cuda_vs_cpu(&s, 1, &chk, &e), SFT_EINFEASIBLE);
    /* NULL buffers with zero sizes are allowed. */
    assert_int_equal(kern_cuda_available(NULL, 0, NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_errors),    cmocka_unit_test(test_flops),
        cmocka_unit_test(test_random_and_bf16), cmocka_unit_test(test_time_cpu),
        cmocka_unit_test(test_empty_batch),     cmocka_unit_test(test_cuda_unavailable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
