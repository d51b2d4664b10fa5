/* test_kernels_attn.c — the CPU flash attention (FP32, FlashAttention-2
 * structure) against the naive O(n^2) oracle in double, and the backward
 * against central finite differences of the naive forward.
 *
 * Error measure everywhere: normwise relative, max |x - ref| / max |ref| over
 * the whole tensor (per-element relative error is meaningless for gradients
 * that cross zero).
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

/* A packed batch of the given lengths; cu lives in the struct. */
typedef struct batch {
    kern_attn_shape s;
    int32_t cu[16];
    size_t t, nq, nkv, nrow;
} batch;

static void batch_init(batch *b, const int *lens, int nseq, int hq, int hkv, int d, int causal)
{
    assert_true(nseq < 16);
    b->cu[0] = 0;
    for (int i = 0; i < nseq; i++) b->cu[i + 1] = b->cu[i] + lens[i];
    b->s = (kern_attn_shape){.nseq = nseq,
                             .cu_seqlens = b->cu,
                             .heads_q = hq,
                             .heads_kv = hkv,
                             .head_dim = d,
                             .causal = causal};
    b->t = (size_t)b->cu[nseq];
    b->nq = b->t * (size_t)hq * (size_t)d;
    b->nkv = b->t * (size_t)hkv * (size_t)d;
    b->nrow = b->t * (size_t)hq;
}

static float *frand(size_t n, uint64_t seed)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    kern_fill_random(x, n, seed);
    return x;
}

static double *to_double(const float *x, size_t n)
{
    double *y = malloc((n ? n : 1) * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}

static double rel_f(const float *x, const double *ref, size_t n)
{
    double dmax = 0, rmax = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) return INFINITY;
        dmax = fmax(dmax, fabs(x[i] - ref[i]));
        rmax = fmax(rmax, fabs(ref[i]));
    }
    return rmax > 0 ? dmax / rmax : dmax;
}

static double rel_d(const double *x, const double *ref, size_t n)
{
    double dmax = 0, rmax = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) return INFINITY;
        dmax = fmax(dmax, fabs(x[i] - ref[i]));
        rmax = fmax(rmax, fabs(ref[i]));
    }
    return rmax > 0 ? dmax / rmax : dmax;
}

/* Lengths: 1 (a single token), tile multiples (64), one past (65), several
 * tiles with a ragged tail (100, 130), short odd ones, and an empty sequence. */
static const int LENS[] = {1, 17, 64, 65, 130, 0, 3, 100};
#define NLENS ((int)(sizeof LENS / sizeof LENS[0]))

/* Forward and backward of one configuration, flash (FP32) against naive
 * (double), 8 q heads over 2 kv heads. */
static void check_flash_vs_naive(int d, int causal)
{
    batch b;
    batch_init(&b, LENS, NLENS, 8, 2, d, causal);
    float *q = frand(b.nq, 1), *k = frand(b.nkv, 2), *v = frand(b.nkv, 3), *g = frand(b.nq, 4);
    float *o = malloc(b.nq * sizeof *o), *lse = malloc(b.nrow * sizeof *lse);
    float *dq = malloc(b.nq * sizeof *dq), *dk = malloc(b.nkv * sizeof *dk);
    float *dv = malloc(b.nkv * sizeof *dv);
    double *qd = to_double(q, b.nq), *kd = to_double(k, b.nkv), *vd = to_double(v, b.nkv);
    double *gd = to_double(g, b.nq);
    double *od = malloc(b.nq * sizeof *od), *lsed = malloc(b.nrow * sizeof *lsed);
    double *dqd = malloc(b.nq * sizeof *dqd), *dkd = malloc(b.nkv * sizeof *dkd);
    double *dvd = malloc(b.nkv * sizeof *dvd);
    sft_err e = {0};

    assert_int_equal(kern_attn_fwd_cpu(&b.s, q, k, v, o, lse, 2, &e), SFT_OK);
    assert_int_equal(kern_attn_fwd_naive(&b.s, qd, kd, vd, od, lsed, &e), SFT_OK);
    assert_int_equal(kern_attn_bwd_cpu(&b.s, q, k, v, o, lse, g, dq, dk, dv, 2, &e), SFT_OK);
    assert_int_equal(kern_attn_bwd_naive(&b.s, qd, kd, vd, gd, dqd, dkd, dvd, &e), SFT_OK);
    /* FP32 sums of at most 130 terms of size <= 1 against double: errors of a
     * few 1e-7 relative; 1e-5 leaves two orders of magnitude of margin while
     * any indexing, masking or rescaling mistake gives errors near 1. */
    double eo = rel_f(o, od, b.nq), el = rel_f(lse, lsed, b.nrow);
    double eq = rel_f(dq, dqd, b.nq), ek = rel_f(dk, dkd, b.nkv), ev = rel_f(dv, dvd, b.nkv);
    print_message("d=%d causal=%d: O %.2e LSE %.2e dQ %.2e dK %.2e dV %.2e\n", d, causal, eo, el,
                  eq, ek, ev);
    assert_true(eo < 1e-5);
    assert_true(el < 1e-5);
    assert_true(eq < 1e-5);
    assert_true(ek < 1e-5);
    assert_true(ev < 1e-5);

    free(q), free(k), free(v), free(g), free(o), free(lse), free(dq), free(dk), free(dv);
    free(qd), free(kd), free(vd), free(gd), free(od), free(lsed), free(dqd), free(dkd), free(dvd);
}

static void test_flash_vs_naive_d64_causal(void **state)
{
    (void)state;
    check_flash_vs_naive(64, 1);
}

static void test_flash_vs_naive_d64_full(void **state)
{
    (void)state;
    check_flash_vs_naive(64, 0);
}

static void test_flash_vs_naive_d128_causal(void **state)
{
    (void)state;
    check_flash_vs_naive(128, 1);
}

static void test_flash_vs_naive_d128_full(void **state)
{
    (void)state;
    check_flash_vs_naive(128, 0);
}

/* L = sum(O * W) for the naive forward. */
static double loss(const batch *b, const double *q, const double *k, const double *v,
                   const double *w, double *o, double *lse)
{
    sft_err e = {0};
    assert_int_equal(kern_attn_fwd_naive(&b->s, q, k, v, o, lse, &e), SFT_OK);
    double l = 0;
    for (size_t i = 0; i < b->nq; i++) l += o[i] * w[i];
    return l;
}

/* Central differences of L over every element of x (one of q, k, v). */
static void finite_diff(const batch *b, double *q, double *k, double *v, const double *w, double *x,
                        size_t n, double *grad)
{
    const double h = 1e-3;
    double *o = malloc(b->nq * sizeof *o), *lse = malloc(b->nrow * sizeof *lse);
    for (size_t i = 0; i < n; i++) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double lp = loss(b, q, k, v, w, o, lse);
        x[i] = x0 - h;
        const double lm = loss(b, q, k, v, w, o, lse);
        x[i] = x0;
        grad[i] = (lp - lm) / (2 * h);
    }
    free(o);
    free(lse);
}

static void check_finite_diff(int causal)
{
    static const int lens[] = {3, 1, 5};
    batch b;
    batch_init(&b, lens, 3, 4, 2, 64, causal);
    float *qf = frand(b.nq, 11), *kf = frand(b.nkv, 12), *vf = frand(b.nkv, 13);
    float *wf = frand(b.nq, 14);
    double *q = to_double(qf, b.nq), *k = to_double(kf, b.nkv), *v = to_double(vf, b.nkv);
    double *w = to_double(wf, b.nq);
    double *dq = malloc(b.nq * sizeof *dq), *dk = malloc(b.nkv * sizeof *dk);
    double *dv = malloc(b.nkv * sizeof *dv);
    double *fq = malloc(b.nq * sizeof *fq), *fk = malloc(b.nkv * sizeof *fk);
    double *fv = malloc(b.nkv * sizeof *fv);
    float *o = malloc(b.nq * sizeof *o), *lse = malloc(b.nrow * sizeof *lse);
    float *gq = malloc(b.nq * sizeof *gq), *gk = malloc(b.nkv * sizeof *gk);
    float *gv = malloc(b.nkv * sizeof *gv);
    sft_err e = {0};

    /* dL/dO = W. */
    assert_int_equal(kern_attn_bwd_naive(&b.s, q, k, v, w, dq, dk, dv, &e), SFT_OK);
    assert_int_equal(kern_attn_fwd_cpu(&b.s, qf, kf, vf, o, lse, 1, &e), SFT_OK);
    assert_int_equal(kern_attn_bwd_cpu(&b.s, qf, kf, vf, o, lse, wf, gq, gk, gv, 1, &e), SFT_OK);
    finite_diff(&b, q, k, v, w, q, b.nq, fq);
    finite_diff(&b, q, k, v, w, k, b.nkv, fk);
    finite_diff(&b, q, k, v, w, v, b.nkv, fv);

    double nq = rel_d(dq, fq, b.nq), nk = rel_d(dk, fk, b.nkv), nv = rel_d(dv, fv, b.nkv);
    double cq = rel_f(gq, fq, b.nq), ck = rel_f(gk, fk, b.nkv), cv = rel_f(gv, fv, b.nkv);
    print_message("causal=%d naive vs FD: dQ %.2e dK %.2e dV %.2e; flash vs FD: %.2e %.2e %.2e\n",
                  causal, nq, nk, nv, cq, ck, cv);
    /* Central differences err by h^2/6 * L''' ~ 1e-7 here (h = 1e-3, inputs
     * and derivatives of order 1) plus rounding eps*|L|/h ~ 1e-13: 1e-6 holds
     * with margin for the double backward; a wrong term (a missing rowsum or
     * scale, a GQA head summed into the wrong kv head) is of order 1. */
    assert_true(nq < 1e-6);
    assert_true(nk < 1e-6);
    assert_true(nv < 1e-6);
    /* The FP32 flash backward adds its own ~1e-7 rounding: 1e-5. */
    assert_true(cq < 1e-5);
    assert_true(ck < 1e-5);
    assert_true(cv < 1e-5);

    free(qf), free(kf), free(vf), free(wf), free(q), free(k), free(v), free(w);
    free(dq), free(dk), free(dv), free(fq), free(fk), free(fv);
    free(o), free(lse), free(gq), free(gk), free(gv);
}

static void test_bwd_finite_diff_causal(void **state)
{
    (void)state;
    check_finite_diff(1);
}

static void test_bwd_finite_diff_full(void **state)
{
    (void)state;
    check_finite_diff(0);
}

/* The pool hands out items whose outputs are disjoint and whose arithmetic
 * is sequential: any thread count must give the same bits. */
static void test_threads_bitwise_equal(void **state)
{
    (void)state;
    batch b;
    batch_init(&b, LENS, NLENS, 4, 2, 64, 1);
    float *q = frand(b.nq, 21), *k = frand(b.nkv, 22), *v = frand(b.nkv, 23), *g = frand(b.nq, 24);
    float *o[2], *lse[2], *dq[2], *dk[2], *dv[2];
    const int threads[2] = {1, 3};
    sft_err e = {0};
    for (int r = 0; r < 2; r++) {
        o[r] = malloc(b.nq * sizeof(float));
        lse[r] = malloc(b.nrow * sizeof(float));
        dq[r] = malloc(b.nq * sizeof(float));
        dk[r] = malloc(b.nkv * sizeof(float));
        dv[r] = malloc(b.nkv * sizeof(float));
        assert_int_equal(kern_attn_fwd_cpu(&b.s, q, k, v, o[r], lse[r], threads[r], &e), SFT_OK);
        assert_int_equal(
            kern_attn_bwd_cpu(&b.s, q, k, v, o[r], lse[r], g, dq[r], dk[r], dv[r], threads[r], &e),
            SFT_OK);
    }
    assert_memory_equal(o[0], o[1], b.nq * sizeof(float));
    assert_memory_equal(lse[0], lse[1], b.nrow * sizeof(float));
    assert_memory_equal(dq[0], dq[1], b.nq * sizeof(float));
    assert_memory_equal(dk[0], dk[1], b.nkv * sizeof(float));
    assert_memory_equal(dv[0], dv[1], b.nkv * sizeof(float));
    for (int r = 0; r < 2; r++) free(o[r]), free(lse[r]), free(dq[r]), free(dk[r]), free(dv[r]);
    free(q), free(k), free(v), free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flash_vs_naive_d64_causal),
        cmocka_unit_test(test_flash_vs_naive_d64_full),
        cmocka_unit_test(test_flash_vs_naive_d128_causal),
        cmocka_unit_test(test_flash_vs_naive_d128_full),
        cmocka_unit_test(test_bwd_finite_diff_causal),
        cmocka_unit_test(test_bwd_finite_diff_full),
        cmocka_unit_test(test_threads_bitwise_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
