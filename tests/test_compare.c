/* test_compare.c — `sftsim compare` and `sftsim schedule` end to end: the
 * JSON contract, speedups computed against deepspeed, and the roll-back
 * switch reaching the simulation as an OOM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>

#include "tutil.h"

/* DESIGN §3: {"scenario","policies":[{"policy","mean_step_time_s",
 * "speedup_vs_deepspeed","oom","peak_mem_bytes_min","peak_mem_bytes_max"}]};
 * speedup = deepspeed's step time / the policy's. */
static void compare_contract(void **state)
{
    (void)state;
    const char *args[] = {"compare", "--steps", "2", NULL};
    cJSON *j = tu_run_json(0, args);
    assert_non_null(cJSON_GetObjectItem(j, "scenario"));
    cJSON *pols = cJSON_GetObjectItem(j, "policies");
    assert_int_equal(cJSON_GetArraySize(pols), 4); /* deepspeed, sorted, dacp, skrull */
    double base = 0;
    for (cJSON *p = pols->child; p; p = p->next) {
        const char *name = cJSON_GetObjectItem(p, "policy")->valuestring;
        double t = cJSON_GetObjectItem(p, "mean_step_time_s")->valuedouble;
        if (strcmp(name, "deepspeed") == 0) base = t;
        assert_true(cJSON_IsBool(cJSON_GetObjectItem(p, "oom")));
        assert_true(cJSON_GetObjectItem(p, "peak_mem_bytes_min")->valuedouble <=
                    cJSON_GetObjectItem(p, "peak_mem_bytes_max")->valuedouble);
        assert_non_null(cJSON_GetObjectItem(p, "breakdown"));
    }
    for (cJSON *p = pols->child; p; p = p->next) {
        double t = cJSON_GetObjectItem(p, "mean_step_time_s")->valuedouble;
        double sp = cJSON_GetObjectItem(p, "speedup_vs_deepspeed")->valuedouble;
        assert_true(fabs(sp - base / t) < 1e-9 * sp);
    }
    cJSON_Delete(j);
}

/* The plan of `schedule` places each sample of the trace exactly once. */
static void schedule_plan(void **state)
{
    (void)state;
    const char *args[] = {"schedule", "--policy", "skrull", "--steps", "1", NULL};
    cJSON *j = tu_run_json(0, args);
    cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "steps"), 0);
    int count = 0;
    char seen[256] = {0};
    for (cJSON *r = cJSON_GetObjectItem(st, "ranks")->child; r; r = r->next)
        for (cJSON *m = cJSON_GetObjectItem(r, "microbatches")->child; m; m = m->next)
            for (cJSON *q = cJSON_GetObjectItem(m, "sequences")->child; q; q = q->next) {
                int id = cJSON_GetObjectItem(q, "id")->valueint;
                assert_true(id >= 0 && id < 256);
                assert_false(seen[id]);
                seen[id] = 1;
                count++;
            }
    assert_int_equal(count, 256); /* 64 sequences x 4 DP ranks */
    cJSON_Delete(j);
    /* --out: the plan document and its graph */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/sched", tu_tmpdir());
    const char *a2[] = {NULL, "schedule", "--policy", "dacp", "--steps", "1", "--out", dir, NULL};
    char *out, *err;
    assert_int_equal(tu_run(a2, &out, &err), 0);
    free(out);
    free(err);
    char path[700];
    snprintf(path, sizeof path, "%s/schedule.dot", dir);
    char *dot = tu_slurp(path);
    assert_non_null(strstr(dot, "digraph"));
    free(dot);
    snprintf(path, sizeof path, "%s/schedule.svg", dir);
    char *svg = tu_slurp(path);
    assert_non_null(strstr(svg, "<svg"));
    free(svg);
}

/* Qwen2.5-0.5B on 2 GPUs (CP 2), ZeRO-2: the memory model's bucket is 29883
 * tokens per GPU (73.9 GB usable - 6.4 GB static, over 2.26 MB per token).
 * Lengths 4000, 20000, 30000: DACP places 4000 on rank 0, 20000 on rank 1
 * (least loaded); 30000 fits neither locally (25883 left on rank 0) nor, at
 * 15000 per rank, beside 20000 on rank 1 (9883 left). With roll-back 20000
 * becomes distributed and 30000 then fits distributed (rank 0: 4000 + 10000 +
 * 15000 = 29000 <= 29883); without, rank 1 holds 20000 + 15000 = 35000
 * tokens, 17% over the bucket: the run reports OOM. */
static void no_rollback_is_oom(void **state)
{
    (void)state;
    const char *f = tu_write("dacp.txt", "4000\n20000\n30000\n");
    const char *on[] = {"run",          "--cluster", "h100x8", "--gpus",  "2",
                        "--dp",         "1",         "--cp",   "2",       "--model",
                        "qwen2.5-0.5b", "--policy",  "dacp",   "--batch", "3",
                        "--trace",      f,           NULL};
    cJSON *j = tu_run_json(0, on);
    assert_int_equal(
        (int)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "scenario"), "bucket")->valuedouble, 29883);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "oom")));
    cJSON_Delete(j);
    const char *off[] = {"run",          "--cluster", "h100x8",     "--gpus",  "2",
                         "--dp",         "1",         "--cp",       "2",       "--model",
                         "qwen2.5-0.5b", "--policy",  "dacp",       "--batch", "3",
                         "--trace",      f,           "--rollback", "off",     NULL};
    j = tu_run_json(0, off);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "oom")));
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compare_contract),
        cmocka_unit_test(schedule_plan),
        cmocka_unit_test(no_rollback_is_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
