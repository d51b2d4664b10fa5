/* test_validate_paper.c — `sftsim-validate paper` against the Skrull paper's
 * Table 5 (Skrull, arXiv 2505.19609, Appendix C): latency of 8-GPU all_gather, all_to_all,
 * reduce_scatter and all_reduce, 2 MB .. 1 GB. The h100x32 preset is fitted
 * to that table, so every row must be within 15% (the acceptance of the
 * preset, as in test_coll_presets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tutil.h"

static const char *validate_bin(void)
{
    static char path[4096];
    const char *b = getenv("SFT_BIN");
    snprintf(path, sizeof path, "%s/sftsim-validate", b ? b : ".");
    return path;
}

/* print_message truncates long messages: print line by line. */
static void print_lines(const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "\n");
        print_message("%.*s\n", (int)n, s);
        s += n + (s[n] == '\n');
    }
}

static void table5_json(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *argv[] = {validate_bin(), "paper", "--format", "json", NULL};
    assert_int_equal(tu_run(argv, &out, &err), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "cluster")), "h100x32");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "gpus")), 8);
    const cJSON *rows = cJSON_GetObjectItem(j, "rows"), *r;
    assert_int_equal(cJSON_GetArraySize(rows), 40); /* 4 operations x 10 sizes */
    double worst = 0;
    cJSON_ArrayForEach(r, rows)
    {
        double sim = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "simulated_us"));
        double pub = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "published_us"));
        double err_pct = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "error"));
        assert_true(sim > 0 && pub > 0);
        assert_true(fabs(err_pct - 100 * (sim / pub - 1)) < 0.05);
        assert_true(fabs(err_pct) <= 15);
        worst = fmax(worst, fabs(err_pct));
    }
    /* the first row is the table's first entry: all_gather of 2 MB, 53.29 us */
    r = cJSON_GetArrayItem(rows, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r, "op")), "all_gather");
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "bytes")) == 2097152);
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "published_us")) == 53.29);
    assert_true(fabs(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "worst_error")) - worst) < 0.01);
    cJSON_Delete(j);
    free(out);
    free(err);
}

static void table5_text_and_errors(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *text[] = {validate_bin(), "paper", NULL};
    assert_int_equal(tu_run(text, &out, &err), 0);
    print_lines(out);
    assert_non_null(strstr(out, "worst relative error"));
    free(out);
    free(err);
    /* a cluster that does not exist: bad input, named */
    const char *bad[] = {validate_bin(), "paper", "--cluster", "no-such-cluster", NULL};
    assert_int_equal(tu_run(bad, &out, &err), 2);
    assert_non_null(strstr(err, "no-such-cluster"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table5_json),
        cmocka_unit_test(table5_text_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
