/* test_cli_core.c — `sftsim collective` and `sftsim list` through the real
 * binary: exit codes, messages naming file and field, JSON output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>

#include "tutil.h"

static void expect(int code, const char *const *argv, const char *in_err1, const char *in_err2)
{
    char *out, *err;
    int rc = tu_run(argv, &out, &err);
    if (rc != code || (in_err1 && !strstr(err, in_err1)) || (in_err2 && !strstr(err, in_err2)))
        fail_msg("%s %s: exit %d (want %d), stderr: %s", argv[1], argv[2] ? argv[2] : "", rc, code,
                 err);
    free(out);
    free(err);
}

static void collective_bad_cluster_files(void **state)
{
    (void)state;
    static const struct {
        const char *file, *json, *want;
    } cases[] = {
        {"trunc.json", "{\"schema\":1,\"name\":\"t\",\"nodes\":1", "truncated"},
        {"malformed.json", "{\"schema\":1 \"name\":\"t\"}", "malformed JSON"},
        {"unknowngpu.json",
         "{\"schema\":1,\"name\":\"t\",\"nodes\":1,\"gpus_per_node\":8,\"gpu\":\"b300\"}", "'gpu'"},
        {"zerogpu.json",
         "{\"schema\":1,\"name\":\"t\",\"nodes\":1,\"gpus_per_node\":0,\"gpu\":\"h100-sxm\"}",
         "'gpus_per_node'"},
        {"negbw.json",
         "{\"schema\":1,\"name\":\"t\",\"nodes\":1,\"gpus_per_node\":8,\"gpu\":\"h100-sxm\","
         "\"nvlink\":{\"bandwidth_gbps\":-450}}",
         "'nvlink.bandwidth_gbps'"},
        {"unknownfield.json",
         "{\"schema\":1,\"name\":\"t\",\"nodes\":1,\"gpus_per_node\":8,\"gpu\":\"h100-sxm\","
         "\"nvswitch\":true}",
         "'nvswitch'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = tu_write(cases[i].file, cases[i].json);
        const char *argv[] = {NULL, "collective", "--op", "all_gather", "--gpus",
                              "8",  "--cluster",  path,   NULL};
        expect(2, argv, cases[i].file, cases[i].want);
    }
}

static void collective_bad_options(void **state)
{
    (void)state;
    const char *a1[] = {NULL, "collective", "--op", "all_gather", "--gpus", "0", NULL};
    expect(2, a1, "--gpus 0", NULL);
    const char *a2[] = {NULL, "collective", "--op", "all_gather", "--gpus", "12", NULL};
    expect(2, a2, "whole nodes", NULL);
    const char *a3[] = {NULL, "collective", "--op", "gossip", "--gpus", "8", NULL};
    expect(2, a3, "--op gossip", "all_reduce");
    const char *a4[] = {NULL, "collective", "--op",    "all_gather", "--gpus",
                        "8",  "--cluster",  "dgx9000", NULL};
    expect(2, a4, "unknown cluster 'dgx9000'", "h100x8");
    const char *a5[] = {NULL, "collective", "--op",  "all_gather", "--gpus",
                        "8",  "--sizes",    "1G:2M", NULL};
    expect(2, a5, "--sizes", NULL);
    const char *a6[] = {NULL, "collective", "--op", "all_gather", NULL};
    expect(2, a6, "--gpus is required", NULL);
    const char *a7[] = {NULL, "collective", "--op", "all_gather", "--gpus", "eight", NULL};
    expect(2, a7, "--gpus eight", NULL);
    const char *a8[] = {NULL, "frobnicate", NULL};
    expect(2, a8, "unknown command", NULL);
    const char *a9[] = {NULL, "list", "bananas", NULL};
    expect(2, a9, "bananas", "clusters");
}

/* JSON contract of ARCHITECTURE.md, "Contracts": {"op","gpus","rows":[{"bytes","time_us",
 * "algbw_gbps","busbw_gbps"}]}; busbw = algbw x (n-1)/n for all_gather. */
static void collective_json(void **state)
{
    (void)state;
    const char *argv[] = {NULL,      "collective", "--op",     "all_gather", "--gpus", "8",
                          "--sizes", "1M,1G",      "--format", "json",       NULL};
    char *out, *err;
    assert_int_equal(tu_run(argv, &out, &err), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "op")->valuestring, "all_gather");
    assert_int_equal(cJSON_GetObjectItem(j, "gpus")->valueint, 8);
    cJSON *rows = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 2);
    cJSON *r = cJSON_GetArrayItem(rows, 1);
    double bytes = cJSON_GetObjectItem(r, "bytes")->valuedouble;
    double us = cJSON_GetObjectItem(r, "time_us")->valuedouble;
    double alg = cJSON_GetObjectItem(r, "algbw_gbps")->valuedouble;
    double bus = cJSON_GetObjectItem(r, "busbw_gbps")->valuedouble;
    assert_true(bytes == 1073741824.0);
    assert_true(fabs(alg - bytes / us / 1e3) < 1e-9 * alg);
    assert_true(fabs(bus - alg * 7 / 8) < 1e-9 * bus);
    cJSON_Delete(j);
    free(out);
    free(err);
}

static void list_and_pending(void **state)
{
    (void)state;
    const char *a1[] = {NULL, "list", "clusters", "--format", "json", NULL};
    char *out, *err;
    assert_int_equal(tu_run(a1, &out, &err), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 4); /* h100x8, h100x32, h800x8, a100x8 */
    cJSON_Delete(j);
    free(out);
    free(err);
    const char *a2[] = {NULL, "--help", NULL};
    expect(0, a2, NULL, NULL);
    const char *a3[] = {NULL, "collective", "--help", NULL};
    expect(0, a3, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(collective_bad_cluster_files),
        cmocka_unit_test(collective_bad_options),
        cmocka_unit_test(collective_json),
        cmocka_unit_test(list_and_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
