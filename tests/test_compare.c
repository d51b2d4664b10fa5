/* test_compare.c — `sftsim compare` and `sftsim schedule` end to end: the
 * JSON contract, speedups computed against deepspeed, and the roll-back
 * switch reaching the simulation as an OOM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>

#include "reports/summary.h"
#include "tutil.h"

/* ARCHITECTURE.md, "Contracts": {"scenario","policies":[{"policy","mean_step_time_s",
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

/* rep_compare_row on a run made by hand: 2 GPUs peaking at 30 and 20 GB, 2
 * steps of 3 and 5 micro-batch rounds, mean step 0.5 s. Speedup against a
 * deepspeed step of 0.75 s is 0.75 / 0.5 = 1.5; without a baseline it is
 * null; rounds per step (3 + 5) / 2 = 4. */
static void compare_row_closed_form(void **state)
{
    (void)state;
    rep_gpu gpus[2] = {{.peak_mem = 30e9, .compute_s = 0.3}, {.peak_mem = 20e9, .compute_s = 0.4}};
    rep_step steps[2] = {{.time_s = 0.4, .microbatches = 3}, {.time_s = 0.6, .microbatches = 5}};
    rep_run R = {.ngpus = 2,
                 .nsteps = 2,
                 .steps = steps,
                 .gpus = gpus,
                 .mean_step_s = 0.5,
                 .mfu = 0.25,
                 .oom = 0,
                 .busiest = 1,
                 .peak_mem_min = 20e9,
                 .peak_mem_max = 30e9};
    cJSON *row = rep_compare_row("skrull", &R, 0.75);
    static const char *const order[] = {
        "policy", "mean_step_time_s",   "speedup_vs_deepspeed",
        "oom",    "peak_mem_bytes_min", "peak_mem_bytes_max",
        "mfu",    "breakdown",          "microbatch_rounds_per_step",
        NULL};
    const cJSON *f = row->child;
    for (int k = 0; order[k]; k++, f = f->next) assert_string_equal(f->string, order[k]);
    assert_null(f);
    assert_string_equal(cJSON_GetObjectItem(row, "policy")->valuestring, "skrull");
    assert_true(fabs(cJSON_GetObjectItem(row, "speedup_vs_deepspeed")->valuedouble - 1.5) < 1e-12);
    assert_true(cJSON_GetObjectItem(row, "peak_mem_bytes_min")->valuedouble == 20e9);
    assert_true(cJSON_GetObjectItem(row, "peak_mem_bytes_max")->valuedouble == 30e9);
    assert_true(cJSON_GetObjectItem(row, "microbatch_rounds_per_step")->valuedouble == 4);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(row, "breakdown"), "gpu")->valueint,
                     1);
    cJSON_Delete(row);
    row = rep_compare_row("skrull", &R, 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(row, "speedup_vs_deepspeed")));
    cJSON_Delete(row);
}

/* --policies has no fixed limit: 17 items (policies may repeat) give 17
 * rows, and a policy's rows agree wherever it stands. */
static void compare_many_policies(void **state)
{
    (void)state;
    const char *args[] = {"compare",
                          "--cluster",
                          "h100x8",
                          "--dp",
                          "2",
                          "--cp",
                          "4",
                          "--batch",
                          "4",
                          "--steps",
                          "1",
                          "--policies",
                          "deepspeed,skrull,sorted,deepspeed,skrull,sorted,deepspeed,skrull,"
                          "sorted,deepspeed,skrull,sorted,deepspeed,skrull,sorted,deepspeed,skrull",
                          NULL};
    cJSON *j = tu_run_json(0, args);
    cJSON *pols = cJSON_GetObjectItem(j, "policies");
    assert_int_equal(cJSON_GetArraySize(pols), 17);
    for (int i = 3; i < 17; i++) {
        const cJSON *a = cJSON_GetArrayItem(pols, i), *b = cJSON_GetArrayItem(pols, i % 3);
        assert_true(cJSON_GetObjectItem(a, "mean_step_time_s")->valuedouble ==
                    cJSON_GetObjectItem(b, "mean_step_time_s")->valuedouble);
        assert_true(cJSON_GetObjectItem(a, "peak_mem_bytes_max")->valuedouble ==
                    cJSON_GetObjectItem(b, "peak_mem_bytes_max")->valuedouble);
    }
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compare_contract),      cmocka_unit_test(schedule_plan),
        cmocka_unit_test(no_rollback_is_oom),    cmocka_unit_test(compare_row_closed_form),
        cmocka_unit_test(compare_many_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
