/* test_traces_dist.c — dataset distributions: the built-ins load and carry
 * their own name, the sampler keeps every bin's probability and bounds
 * (including one-token bins and lengths at the 10M limit), and each way a
 * dataset file can be wrong is rejected with a message naming the file and
 * the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "test_traces_util.h"
#include "traces/trace.h"

static void test_builtins_load(void **state)
{
    (void)state;
    size_t n = 0;
    for (const char *name; (name = sft_builtin_name("datasets", n)); n++) {
        trace_dist *d = NULL;
        sft_err e = {0};
        if (trace_dist_load(name, &d, &e)) fail_msg("%s", e.msg);
        assert_string_equal(trace_dist_name(d), name);
        trace_dist_destroy(d);
    }
    /* wikipedia, lmsyschat1m, chatqa2 (Table 1) and llama3-sft */
    assert_int_equal(n, 4);
}

/* tests/data/traces/good_dataset.json: 80% in [16, 1024), 19.5% in
 * [1024, 4096), 0.5% in [4096, 8192) capped by max_len 5000. With 100,000
 * draws the standard error of a percentage is <= 0.16 points: 1 point of
 * tolerance is over six. */
static void test_sampler_bins(void **state)
{
    (void)state;
    char *path = tt_data("good_dataset.json");
    trace_dist *d = NULL;
    sft_err e = {0};
    if (trace_dist_load(path, &d, &e)) fail_msg("%s", e.msg);
    assert_string_equal(trace_dist_name(d), "tiny");
    assert_string_equal(trace_dist_origin(d), path);
    assert_int_equal(trace_dist_max_len(d), 5000);
    gsl_rng *r = trace_rng_create(1);
    long below1k = 0, below4k = 0, n = 100000;
    int64_t lo = INT64_MAX, hi = 0;
    for (long i = 0; i < n; i++) {
        int64_t len = trace_dist_sample(d, r);
        below1k += len < 1024;
        below4k += len < 4096;
        if (len < lo) lo = len;
        if (len > hi) hi = len;
    }
    assert_true(fabs(100.0 * (double)below1k / (double)n - 80) <= 1);
    assert_true(fabs(100.0 * (double)below4k / (double)n - 99.5) <= 1);
    assert_true(lo >= 16);
    assert_true(hi <= 5000 && hi > 4096);
    gsl_rng_free(r);
    trace_dist_destroy(d);
    free(path);
}

static trace_dist *parse_ok(const char *json)
{
    trace_dist *d = NULL;
    sft_err e = {0};
    if (trace_dist_parse(json, "inline.json", &d, &e)) fail_msg("%s", e.msg);
    return d;
}

/* Degenerate but valid: every length 5 (one-token bin [5, 6)); and lengths
 * at the limit, half 9999999 and half 10000000. */
static void test_narrow_bins(void **state)
{
    (void)state;
    trace_dist *d =
        parse_ok("{\"schema\":1,\"name\":\"five\",\"method\":\"loguniform\","
                 "\"min_len\":5,\"max_len\":5,\"cdf\":[{\"below\":6,\"percent\":100}]}");
    gsl_rng *r = trace_rng_create(0);
    for (int i = 0; i < 1000; i++) assert_int_equal(trace_dist_sample(d, r), 5);
    trace_dist_destroy(d);
    d = parse_ok("{\"schema\":1,\"name\":\"edge\",\"method\":\"loguniform\",\"min_len\":9999999,"
                 "\"max_len\":10000000,\"cdf\":[{\"below\":10000000,\"percent\":50}]}");
    int top = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t len = trace_dist_sample(d, r);
        assert_true(len == 9999999 || len == TRACE_MAX_LEN);
        top += len == TRACE_MAX_LEN;
    }
    /* binomial(10000, 0.5): standard deviation 50, allow 6 of them */
    assert_true(abs(top - 5000) <= 300);
    gsl_rng_free(r);
    trace_dist_destroy(d);
}

typedef struct bad_dist {
    const char *json;
    const char *what; /* the message must contain "inline.json: " and this */
} bad_dist;

#define HEAD "{\"schema\":1,\"name\":\"x\",\"method\":\"loguniform\",\"min_len\":16,"
static const bad_dist bad[] = {
    {HEAD "\"max_len\":5000}", "field 'cdf': missing (required)"},
    {HEAD "\"max_len\":5000,\"cdf\":[]}", "field 'cdf': expected 1 to 64 points"},
    {"{\"schema\":1,\"name\":\"x\",\"method\":\"normal\",\"min_len\":16,\"max_len\":5000,"
     "\"cdf\":[{\"below\":1024,\"percent\":50}]}",
     "field 'method': unknown method 'normal'"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":1024,\"percent\":101}]}",
     "field 'cdf[0].percent': must be in [0, 100]"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":1024,\"percent\":-1}]}",
     "field 'cdf[0].percent': must be in [0, 100]"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":1024,\"percent\":\"50\"}]}",
     "field 'cdf[0].percent': expected a number"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":2048,\"percent\":50},{\"below\":1024,"
          "\"percent\":60}]}",
     "field 'cdf[1].below': cuts must increase"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":2048,\"percent\":50},{\"below\":4096,"
          "\"percent\":40}]}",
     "field 'cdf[1].percent': a CDF cannot decrease"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":16,\"percent\":50}]}",
     "field 'cdf[0].below': must be in [17, 10000000]"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":1024,\"percent\":50},{\"below\":8192,"
          "\"percent\":99}]}",
     "field 'cdf[1].percent': must be 100"},
    {HEAD "\"max_len\":10,\"cdf\":[{\"below\":1024,\"percent\":100}]}",
     "field 'max_len': must be at least min_len 16"},
    {HEAD "\"max_len\":10000001,\"cdf\":[{\"below\":1024,\"percent\":100}]}",
     "field 'max_len': must be in [1, 10000000]"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":1024,\"pct\":100}]}",
     "field 'cdf[0].pct': unknown field"},
    {HEAD "\"max_len\":5000,\"cdf\":[{\"below\":1024.5,\"percent\":100}]}",
     "field 'cdf[0].below': expected an integer"},
    {"{\"schema\":2,\"name\":\"x\"}", "field 'schema': unsupported schema version 2"},
    {"{\"schema\":1,\"method\":\"loguniform\"}", "field 'name': missing (required)"},
    {"{\"schema\":1,\"name\":\"\"}", "field 'name': must not be empty"},
    {"[1,2,3]", "expected an object"},
    {"{\"schema\":1,\n\"name\":\"x\"", "inline.json:2:"},
};

static void test_bad_datasets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trace_dist *d = NULL;
        sft_err e = {0};
        assert_int_equal(trace_dist_parse(bad[i].json, "inline.json", &d, &e), SFT_EINPUT);
        assert_null(d);
        if (strncmp(e.msg, "inline.json", 11) != 0 || !strstr(e.msg, bad[i].what))
            fail_msg("case %zu: expected '%s' in: %s", i, bad[i].what, e.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_load),
        cmocka_unit_test(test_sampler_bins),
        cmocka_unit_test(test_narrow_bins),
        cmocka_unit_test(test_bad_datasets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
