/* test_traces_stats.c — `trace stats` on files whose statistics are known
 * by hand: nearest-rank percentiles, mean, cumulative % below the cuts
 * (strictly below), tokens per step and the power-of-two histogram; through
 * the library and through `sftsim trace stats --format json`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "test_traces_util.h"
#include "traces/trace.h"

/* tests/data/traces/good_lengths.txt holds, one per line (with a blank line
 * and a CRLF line in between), 500 1024 700 800 900 2000 3000 6000 20000
 * 150000. Sorted: 500 700 800 900 1024 2000 3000 6000 20000 150000. */
#define G_SAMPLES 10
#define G_TOKENS  184924 /* their sum */
#define G_MEAN    18492.4
#define G_P50     1024   /* rank ceil(0.50 x 10) = 5 */
#define G_P90     20000  /* rank ceil(0.90 x 10) = 9 */
#define G_P99     150000 /* rank ceil(0.99 x 10) = 10 */
#define G_MIN     500
#define G_MAX     150000
/* below 1024: 500 700 800 900 (1024 itself is not below) = 4 of 10; below
 * 4096: +2000 3000 = 7; below 8192: +6000 = 8; below 32768: +20000 = 9;
 * below 131072: still 9 (150000 is above) */
static const double g_percent[TRACE_NCUTS] = {40, 70, 80, 90, 90};
/* grouped 4 per step (--batch 4): 500+1024+700+800, 900+2000+3000+6000,
 * 20000+150000 */
#define G_STEPS    3
#define G_STEP_MIN 3024
#define G_STEP_MAX 170000

static void summarize_file(const char *path, long per_step, trace_summary *s)
{
    trace_src *src = NULL;
    sft_err e = {0};
    assert_int_equal(trace_src_file(path, per_step, &src, &e), SFT_OK);
    trace_stats *st = trace_stats_create();
    trace_batch b;
    int eof = 0;
    while (trace_src_next(src, &b, &eof, &e) == SFT_OK && !eof) trace_stats_add(st, &b);
    assert_int_equal(e.status, SFT_OK);
    trace_stats_summarize(st, s);
    trace_stats_destroy(st);
    trace_src_destroy(src);
}

static void test_known_file(void **state)
{
    (void)state;
    char *path = tt_data("good_lengths.txt");
    trace_summary s;
    summarize_file(path, 4, &s);
    assert_int_equal(s.samples, G_SAMPLES);
    assert_int_equal(s.tokens, G_TOKENS);
    assert_true(s.mean == G_MEAN);
    assert_int_equal(s.min, G_MIN);
    assert_int_equal(s.p50, G_P50);
    assert_int_equal(s.p90, G_P90);
    assert_int_equal(s.p99, G_P99);
    assert_int_equal(s.max, G_MAX);
    for (int k = 0; k < TRACE_NCUTS; k++) assert_true(s.percent[k] == g_percent[k]);
    assert_int_equal(s.steps, G_STEPS);
    assert_true(s.tokens_per_step_mean == (double)G_TOKENS / G_STEPS);
    assert_int_equal(s.tokens_per_step_min, G_STEP_MIN);
    assert_int_equal(s.tokens_per_step_max, G_STEP_MAX);
    /* bin k counts [2^k, 2^(k+1)): 500 in 8; 700 800 900 in 9; 1024 2000 in
     * 10; 3000 in 11; 6000 in 12; 20000 in 14; 150000 in 17 */
    static const int64_t hist[TRACE_HIST_BINS] = {
        [8] = 1, [9] = 3, [10] = 2, [11] = 1, [12] = 1, [14] = 1, [17] = 1};
    for (int k = 0; k < TRACE_HIST_BINS; k++) assert_int_equal(s.hist[k], hist[k]);
    free(path);
}

/* Lengths 1..100: the p-th nearest-rank percentile is p itself, and the
 * mean is 50.5. One length: every statistic is that length. */
static void test_percentile_definition(void **state)
{
    (void)state;
    trace_sample smp[100];
    for (int i = 0; i < 100; i++) smp[i] = (trace_sample){.id = i, .len = 100 - i};
    trace_batch b = {.step = 0, .n = 100, .s = smp};
    trace_stats *st = trace_stats_create();
    trace_stats_add(st, &b);
    trace_summary s;
    trace_stats_summarize(st, &s);
    trace_stats_destroy(st);
    assert_int_equal(s.p50, 50);
    assert_int_equal(s.p90, 90);
    assert_int_equal(s.p99, 99);
    assert_true(s.mean == 50.5);
    assert_int_equal(s.steps, 1);

    b.n = 1;
    b.s[0].len = 777;
    st = trace_stats_create();
    trace_stats_add(st, &b);
    trace_stats_summarize(st, &s);
    trace_stats_destroy(st);
    assert_int_equal(s.min, 777);
    assert_int_equal(s.p50, 777);
    assert_int_equal(s.p99, 777);
    assert_int_equal(s.max, 777);
    for (int k = 0; k < TRACE_NCUTS; k++) assert_true(s.percent[k] == 100);

    /* nothing added: all zero (and no division by zero) */
    st = trace_stats_create();
    trace_stats_summarize(st, &s);
    trace_stats_destroy(st);
    assert_int_equal(s.samples, 0);
    assert_true(s.mean == 0);
    assert_int_equal(s.below[0], 1024);
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(v)) fail_msg("JSON output lacks number '%s'", key);
    return v->valuedouble;
}

/* The number after the row label key at the start of a line of the text table. */
static long text_value(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n') p++;
        if (strncmp(p, key, n) == 0 && p[n] == ' ') return strtol(p + n, NULL, 10);
    }
    fail_msg("no row '%s' in: %s", key, text);
    return 0;
}

static void test_cli_json(void **state)
{
    (void)state;
    char *dir = tt_dir("stats");
    char *out = tt_path(dir, "stdout"), *err = tt_path(dir, "stderr");
    char *path = tt_data("good_lengths.txt");
    const char *args[] = {"trace", "stats", path,       "--batch", "2",
                          "--dp",  "2",     "--format", "json",    NULL};
    assert_int_equal(tt_sftsim(NULL, out, err, args), 0);
    char *text = tt_read(out, NULL);
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    /* the ARCHITECTURE.md, "Contracts" fields */
    assert_true(num(j, "samples") == G_SAMPLES);
    assert_true(num(j, "mean") == G_MEAN);
    assert_true(num(j, "p50") == G_P50);
    assert_true(num(j, "p90") == G_P90);
    assert_true(num(j, "p99") == G_P99);
    assert_true(num(j, "max") == G_MAX);
    const cJSON *cdf = cJSON_GetObjectItemCaseSensitive(j, "cdf");
    assert_int_equal(cJSON_GetArraySize(cdf), TRACE_NCUTS);
    static const double below[TRACE_NCUTS] = {1024, 4096, 8192, 32768, 131072};
    for (int k = 0; k < TRACE_NCUTS; k++) {
        const cJSON *p = cJSON_GetArrayItem(cdf, k);
        assert_true(num(p, "below") == below[k]);
        assert_true(num(p, "percent") == g_percent[k]);
    }
    /* --batch 2 x --dp 2 groups 4 per step, as in test_known_file */
    assert_true(num(j, "steps") == G_STEPS);
    assert_true(num(j, "tokens_per_step_min") == G_STEP_MIN);
    assert_true(num(j, "tokens_per_step_max") == G_STEP_MAX);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "format")->valuestring, "lengths");
    cJSON_Delete(j);
    free(text);

    /* the text table carries the same numbers */
    const char *targs[] = {"trace", "stats", path, NULL};
    assert_int_equal(tt_sftsim(NULL, out, err, targs), 0);
    text = tt_read(out, NULL);
    assert_int_equal(text_value(text, "p90"), G_P90);
    assert_int_equal(text_value(text, "mean"), 18492); /* printed with one decimal */
    assert_non_null(strstr(text, "   4K (   4096)     70.00%"));
    assert_non_null(strstr(text, "131072 ..   262143          1   10.00%"));
    free(text);
    free(path);
    free(out);
    free(err);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_file),
        cmocka_unit_test(test_percentile_definition),
        cmocka_unit_test(test_cli_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
