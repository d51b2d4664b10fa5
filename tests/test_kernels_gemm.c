/* test_kernels_gemm.c — the blocked, threaded CPU GEMM against the naive
 * triple loop in double, on sizes that are not multiples of any block size
 * and on one that spans several blocks in every dimension.
 *
 * Error measure: normwise relative, max |x - ref| / max |ref|.
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

static double check_gemm(int m, int n, int k, int nthreads)
{
    const size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    double *ad = malloc(na * sizeof *ad), *bd = malloc(nb * sizeof *bd);
    double *cd = malloc(nc * sizeof *cd);
    kern_fill_random(a, na, 7);
    kern_fill_random(b, nb, 8);
    for (size_t i = 0; i < na; i++) ad[i] = a[i];
    for (size_t i = 0; i < nb; i++) bd[i] = b[i];
    sft_err e = {0};
    assert_int_equal(kern_gemm_cpu(m, n, k, a, b, c, nthreads, &e), SFT_OK);
    assert_int_equal(kern_gemm_naive(m, n, k, ad, bd, cd, &e), SFT_OK);
    double dmax = 0, rmax = 0;
    for (size_t i = 0; i < nc; i++) {
        dmax = isnan(c[i]) ? INFINITY : fmax(dmax, fabs(c[i] - cd[i]));
        rmax = fmax(rmax, fabs(cd[i]));
    }
    free(a), free(b), free(c), free(ad), free(bd), free(cd);
    print_message("%dx%dx%d: rel err %.2e\n", m, n, k, dmax / rmax);
    return dmax / rmax;
}

/* 37x53x71: odd in every dimension, smaller than one block. FP32 sums of 71
 * products of size <= 1 err by ~1e-7 relative; 1e-5 leaves margin while an
 * indexing slip gives an error of order 1. */
static void test_gemm_odd(void **state)
{
    (void)state;
    assert_true(check_gemm(37, 53, 71, 2) < 1e-5);
}

/* 1x1x1 and a single row / column: the degenerate edges of the blocking. */
static void test_gemm_degenerate(void **state)
{
    (void)state;
    assert_true(check_gemm(1, 1, 1, 1) < 1e-6); /* one product: exact up to rounding */
    assert_true(check_gemm(1, 300, 5, 2) < 1e-5);
    assert_true(check_gemm(70, 1, 300, 2) < 1e-5);
}

/* 100x300x400: several row blocks (32), column blocks (256) and K panels
 * (128), each with a ragged tail; sums of 400 terms stay near 1e-6. */
static void test_gemm_large(void **state)
{
    (void)state;
    assert_true(check_gemm(100, 300, 400, 0) < 1e-5);
}

/* Bad sizes are input errors naming the sizes, not crashes. */
static void test_gemm_bad_args(void **state)
{
    (void)state;
    float x = 1;
    sft_err e = {0};
    assert_int_equal(kern_gemm_cpu(0, 1, 1, &x, &x, &x, 1, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "M = 0"));
    assert_int_equal(kern_gemm_cpu(1, 1, 1, NULL, &x, &x, 1, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "array a"));
    assert_int_equal(kern_gemm_cpu(1, 1, 1, &x, &x, &x, -1, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "nthreads"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_odd),
        cmocka_unit_test(test_gemm_degenerate),
        cmocka_unit_test(test_gemm_large),
        cmocka_unit_test(test_gemm_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
