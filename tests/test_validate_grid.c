/* test_validate_grid.c — the measurement grids of validate/val_grid.c:
 * - default: lengths 128 .. 131072 doubling, batch = max(1, 16384 / len),
 *   head layouts of the shipped models (Qwen2.5-0.5B for d=64, 7B for
 *   d=128), every GEMM of every shipped model at 128 tokens, no GEMM above
 *   2^44 FLOPs, no shape twice;
 * - heldout (and heldout-small vs small): every point is the geometric
 *   midpoint of two consecutive points of the same kernel or GEMM series,
 *   so held-out errors measure interpolation, never extrapolation;
 * - the small grid stays small (the CPU loop test's time budget);
 * - grid files: counts, repetition policy, canonical order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/llm/arch.h"
#include "validate/val.h"

static val_grid *grid(const char *spec)
{
    val_grid *g = NULL;
    sft_err e;
    sft_status st = val_grid_create(spec, &g, &e);
    if (st) print_message("%s\n", e.msg);
    assert_int_equal(st, SFT_OK);
    return g;
}

static int has_gemm(const val_grid *g, long m, long n, long k)
{
    for (size_t i = 0; i < g->ngemm; i++)
        if (g->gemm[i].m == m && g->gemm[i].n == n && g->gemm[i].k == k) return 1;
    return 0;
}

static int has_attn(const val_grid *g, const val_attn *a, long len)
{
    for (size_t i = 0; i < g->nattn; i++) {
        const val_attn *b = &g->attn[i];
        if (b->bwd == a->bwd && b->causal == a->causal && b->head_dim == a->head_dim &&
            b->len == len)
            return 1;
    }
    return 0;
}

static void no_duplicates(const val_grid *g)
{
    for (size_t i = 0; i < g->ngemm; i++)
        for (size_t j = i + 1; j < g->ngemm; j++)
            assert_false(g->gemm[i].m == g->gemm[j].m && g->gemm[i].n == g->gemm[j].n &&
                         g->gemm[i].k == g->gemm[j].k);
    for (size_t i = 1; i < g->nattn; i++) {
        const val_attn *a = &g->attn[i - 1], *b = &g->attn[i];
        /* canonical order: (dir, causal, head_dim, len) strictly increasing */
        long ka = ((a->bwd * 2L + a->causal) * 256 + a->head_dim) * (1L << 20) + a->len;
        long kb = ((b->bwd * 2L + b->causal) * 256 + b->head_dim) * (1L << 20) + b->len;
        assert_true(ka < kb);
    }
}

static void default_grid(void **state)
{
    (void)state;
    val_grid *g = grid("default");
    sft_err e;
    arch a64, a128;
    assert_int_equal(arch_load("qwen2.5-0.5b", &a64, &e), SFT_OK);
    assert_int_equal(arch_load("qwen2.5-7b", &a128, &e), SFT_OK);
    assert_int_equal(g->nattn, 88); /* 11 lengths x 2 dirs x 2 masks x 2 head dims */
    assert_int_equal(g->warmup, 2);
    assert_int_equal(g->reps, 5);
    for (size_t i = 0; i < g->nattn; i++) {
        const val_attn *a = &g->attn[i];
        const arch *m = a->head_dim == 64 ? &a64 : &a128;
        assert_int_equal(a->heads_q, m->heads);
        assert_int_equal(a->heads_kv, m->kv_heads);
        assert_true(a->len >= 128 && a->len <= 131072 && (a->len & (a->len - 1)) == 0);
        assert_int_equal(a->batch, a->len < 16384 ? 16384 / a->len : 1);
    }
    /* every GEMM of every shipped model appears at 128 tokens */
    for (size_t mi = 0; sft_builtin_name("models", mi); mi++) {
        arch a;
        assert_int_equal(arch_load(sft_builtin_name("models", mi), &a, &e), SFT_OK);
        for (int bwd = 0; bwd < 2; bwd++) {
            arch_op ops[ARCH_MAX_OPS];
            int n = arch_layer_ops(&a, bwd, ops);
            for (int i = 0; i < n; i++) {
                double m, nn, k;
                if (ops[i].kind != AOP_GEMM) continue;
                arch_gemm_dims(&ops[i], 128, &m, &nn, &k);
                if (!has_gemm(g, (long)m, (long)nn, (long)k))
                    print_message("%s %s at 128 tokens missing\n", a.name, ops[i].name);
                assert_true(has_gemm(g, (long)m, (long)nn, (long)k));
            }
            for (int before = 0; before < 2; before++) {
                n = arch_head_ops(&a, bwd, before, ops);
                for (int i = 0; i < n; i++) {
                    double m, nn, k;
                    if (ops[i].kind != AOP_GEMM) continue;
                    arch_gemm_dims(&ops[i], 128, &m, &nn, &k);
                    assert_true(has_gemm(g, (long)m, (long)nn, (long)k));
                }
            }
        }
    }
    for (size_t i = 0; i < g->ngemm; i++)
        assert_true(val_gemm_flops(&g->gemm[i]) <= VAL_GEMM_MAX_FLOPS);
    no_duplicates(g);
    print_message("default grid: %zu attention + %zu GEMM points\n", g->nattn, g->ngemm);
    val_grid_destroy(g);
}

/* Every point of h lies at the geometric midpoint of two consecutive points
 * of d (same kernel; same GEMM series). */
static void between(const char *dspec, const char *hspec)
{
    val_grid *d = grid(dspec), *h = grid(hspec);
    assert_true(h->nattn > 0 && h->ngemm > 0);
    for (size_t i = 0; i < h->nattn; i++) {
        const val_attn *a = &h->attn[i];
        long lo = 1L << (long)floor(log2((double)a->len)), hi = lo * 2;
        assert_true(lo < a->len && a->len < hi);
        assert_true(labs(a->len - lround(lo * M_SQRT2)) <= 1);
        assert_true(has_attn(d, a, lo) && has_attn(d, a, hi));
    }
    for (size_t i = 0; i < h->ngemm; i++) {
        const val_gemm *g = &h->gemm[i];
        /* the token dimension is the one that is not a power of two */
        int m_var = (g->m & (g->m - 1)) != 0 && g->m % 128 != 0;
        long t = m_var ? g->m : g->k;
        long lo = 1L << (long)floor(log2((double)t)), hi = lo * 2;
        assert_true(labs(t - lround(lo * M_SQRT2)) <= 1);
        if (m_var)
            assert_true(has_gemm(d, lo, g->n, g->k) && has_gemm(d, hi, g->n, g->k));
        else
            assert_true(has_gemm(d, g->m, g->n, lo) && has_gemm(d, g->m, g->n, hi));
    }
    no_duplicates(h);
    val_grid_destroy(d);
    val_grid_destroy(h);
}

static void heldout_between_default(void **state)
{
    (void)state;
    between("default", "heldout");
}

static void heldout_small_between_small(void **state)
{
    (void)state;
    between("small", "heldout-small");
}

/* The CPU loop test measures small and heldout-small in well under a minute
 * on 2 cores at ~5 GFLOP/s per core: keep their work bounded. */
static void small_is_small(void **state)
{
    (void)state;
    val_grid *g = grid("small");
    double fl = 0;
    for (size_t i = 0; i < g->nattn; i++) fl += val_attn_flops(&g->attn[i]);
    for (size_t i = 0; i < g->ngemm; i++) fl += val_gemm_flops(&g->gemm[i]);
    print_message("small grid: %zu + %zu points, %.3g FLOPs a pass\n", g->nattn, g->ngemm, fl);
    assert_true(fl < 1.5e10);
    assert_int_equal(g->nattn, 40);
    assert_int_equal(g->warmup, 1);
    val_grid_destroy(g);
}

static void grid_file(void **state)
{
    (void)state;
    char path[600];
    const char *src = getenv("SFT_SRC");
    snprintf(path, sizeof path, "%s/tests/data/validate/grid-tiny.json", src ? src : "..");
    val_grid *g = grid(path);
    assert_int_equal(g->nattn, 14);
    assert_int_equal(g->ngemm, 2);
    assert_int_equal(g->warmup, 1);
    assert_int_equal(g->reps, 3);
    assert_non_null(strstr(g->name, "tiny"));
    /* batch = batch_tokens / len, at least 1 */
    assert_int_equal(g->attn[0].len, 32);
    assert_int_equal(g->attn[0].batch, 4);
    no_duplicates(g);
    val_grid_destroy(g);

    val_grid *bad = NULL;
    sft_err e;
    assert_int_equal(val_grid_create("huge", &bad, &e), SFT_EINPUT);
    assert_null(bad);
    assert_non_null(strstr(e.msg, "huge"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_grid),
        cmocka_unit_test(heldout_between_default),
        cmocka_unit_test(heldout_small_between_small),
        cmocka_unit_test(small_is_small),
        cmocka_unit_test(grid_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
