/* test_reproduce.c — `sftsim reproduce skrull`'s case study (lab/reproduce.h,
 * Skrull, arXiv 2505.19609): Qwen2.5-0.5B on ChatQA2, DP 1 x CP 8, 64 sequences,
 * bucket 26000, deepspeed, roundrobin and skrull with roll-back and
 * without, each step's lowest and highest GPU peak memory and the OOM
 * flags. The assertions are invariants with their reasons; the figures
 * themselves are the lab's output (the report says what they are). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "lab/reproduce.h"
#include "tutil.h"

#define STEPS 3

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    if (!cJSON_IsNumber(v)) fail_msg("%s is not a number", name);
    return v->valuedouble;
}

static const cJSON *row_of(const cJSON *doc, const char *policy, int rollback)
{
    for (const cJSON *r = cJSON_GetObjectItem(doc, "rows")->child; r; r = r->next)
        if (strcmp(cJSON_GetObjectItem(r, "policy")->valuestring, policy) == 0 &&
            cJSON_IsTrue(cJSON_GetObjectItem(r, "rollback")) == rollback)
            return r;
    fail_msg("no row %s rollback %d", policy, rollback);
    return NULL;
}

static void case_study_invariants(void **state)
{
    (void)state;
    scen_opts o;
    memset(&o, 0, sizeof o);
    o.v[SO_STEPS] = "3";
    cJSON *doc = NULL;
    sft_err e = {0};
    assert_int_equal(repro_case_study(&o, 2, 0, &doc, &e), SFT_OK);
    /* the setting as the paper's case study has it */
    assert_int_equal((int)num(doc, "dp"), 1);
    assert_int_equal((int)num(doc, "cp"), 8);
    assert_int_equal((int)num(doc, "batch"), 64);
    assert_int_equal((int)num(doc, "bucket"), 26000);
    assert_int_equal((int)num(doc, "steps"), STEPS);
    double usable = num(doc, "usable_mem_bytes");
    /* an H100's 80 GB less the runtime's reserve (models/hw/hbm) */
    assert_true(usable > 70e9 && usable <= 80e9);
    /* 3 policies x roll-back on and off */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "rows")), 6);
    for (const cJSON *r = cJSON_GetObjectItem(doc, "rows")->child; r; r = r->next) {
        const cJSON *ps = cJSON_GetObjectItem(r, "per_step");
        /* every policy ran (an OOM is a result, never a failure) */
        const char *st = cJSON_GetObjectItem(r, "status")->valuestring;
        assert_true(strcmp(st, "ok") == 0 || strcmp(st, "oom") == 0);
        assert_int_equal(cJSON_GetArraySize(ps), STEPS);
        int any = 0;
        for (const cJSON *q = ps->child; q; q = q->next) {
            double lo = num(q, "peak_mem_bytes_min"), hi = num(q, "peak_mem_bytes_max");
            /* min and max over the same 8 GPUs; every GPU holds the static
             * memory (parameters, gradients, optimizer states) */
            assert_true(lo > 0 && lo <= hi);
            /* a step's OOM: some GPU above its usable memory (summary.h) */
            int oom = hi > usable;
            assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(q, "oom")), oom);
            any |= oom;
        }
        /* the run's OOM is any step's, and its status says so */
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(r, "oom")), any);
        assert_int_equal(strcmp(st, "oom") == 0, any);
    }
    /* deepspeed shards every sequence and never calls DACP's placement
     * (sched_deepspeed does not read the roll-back flag): its rows with
     * and without roll-back are the same simulation, number for number */
    char *on = cJSON_PrintUnformatted(cJSON_GetObjectItem(row_of(doc, "deepspeed", 1), "per_step"));
    char *off =
        cJSON_PrintUnformatted(cJSON_GetObjectItem(row_of(doc, "deepspeed", 0), "per_step"));
    assert_string_equal(on, off);
    free(on);
    free(off);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case_study_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
