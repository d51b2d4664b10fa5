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
 * steps of 0.4 s and 0.6 s with 3 and 5 micro-batch rounds, mean step
 * 0.5 s, standard error 0.1 s (sample sd sqrt(2 x 0.1^2 / 1) / sqrt(2)).
 * Speedup against a deepspeed step of 0.75 +- 0.075 s is 0.75 / 0.5 = 1.5,
 * its error 1.5 x sqrt(0.2^2 + 0.1^2) = 0.33541 (relative errors in
 * quadrature); deepspeed against itself is 1 with error 0; without a
 * baseline both are null; rounds per step (3 + 5) / 2 = 4. */
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
                 .peak_mem_max = 30e9,
                 .mean_step_se_s = 0.1};
    rep_run B = R;
    B.mean_step_s = 0.75;
    B.mean_step_se_s = 0.075;
    cJSON *row = rep_compare_row("skrull", &R, &B);
    static const char *const order[] = {"policy",
                                        "mean_step_time_s",
                                        "mean_step_time_se_s",
                                        "speedup_vs_deepspeed",
                                        "speedup_se",
                                        "oom",
                                        "peak_mem_bytes_min",
                                        "peak_mem_bytes_max",
                                        "mfu",
                                        "breakdown",
                                        "step_causes",
                                        "microbatch_rounds_per_step",
                                        "steps",
                                        NULL};
    const cJSON *f = row->child;
    for (int k = 0; order[k]; k++, f = f->next) assert_string_equal(f->string, order[k]);
    assert_null(f);
    assert_string_equal(cJSON_GetObjectItem(row, "policy")->valuestring, "skrull");
    assert_true(fabs(cJSON_GetObjectItem(row, "speedup_vs_deepspeed")->valuedouble - 1.5) < 1e-12);
    assert_true(fabs(cJSON_GetObjectItem(row, "speedup_se")->valuedouble - 0.33541) < 1e-5);
    assert_true(cJSON_GetObjectItem(row, "mean_step_time_se_s")->valuedouble == 0.1);
    assert_int_equal(cJSON_GetObjectItem(row, "steps")->valueint, 2);
    assert_true(cJSON_GetObjectItem(row, "peak_mem_bytes_min")->valuedouble == 20e9);
    assert_true(cJSON_GetObjectItem(row, "peak_mem_bytes_max")->valuedouble == 30e9);
    assert_true(cJSON_GetObjectItem(row, "microbatch_rounds_per_step")->valuedouble == 4);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(row, "breakdown"), "gpu")->valueint,
                     1);
    cJSON_Delete(row);
    row = rep_compare_row("deepspeed", &B, &B);
    assert_true(cJSON_GetObjectItem(row, "speedup_vs_deepspeed")->valuedouble == 1);
    assert_true(cJSON_GetObjectItem(row, "speedup_se")->valuedouble == 0);
    cJSON_Delete(row);
    row = rep_compare_row("skrull", &R, NULL);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(row, "speedup_vs_deepspeed")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(row, "speedup_se")));
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

/* Deletes the fields that hold host wall-clock time (wall_s, schedule_s),
 * wherever they are: what is left must be byte-identical between runs. */
static void strip_wall(cJSON *j)
{
    for (cJSON *c = j ? j->child : NULL; c;) {
        cJSON *next = c->next;
        if (c->string && (strcmp(c->string, "wall_s") == 0 || strcmp(c->string, "schedule_s") == 0))
            cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
        else
            strip_wall(c);
        c = next;
    }
}

/* a and b have the same fields, strings and flags, and numbers within a
 * relative 1e-9 plus 10 ns: the SimGrid clock runs on across the
 * simulations of one process (sim/engine.c puts times on a nanosecond grid
 * from the simulation's start, but an activity's rounding still depends on
 * the absolute clock), so a time may move by a nanosecond or so here and
 * there with what ran before it in the process. */
static void assert_close(const cJSON *a, const cJSON *b)
{
    assert_int_equal(a->type & 0xff, b->type & 0xff);
    if (cJSON_IsNumber(a)) {
        double x = a->valuedouble, y = b->valuedouble;
        if (fabs(x - y) > 1e-9 * fmax(fabs(x), fabs(y)) + 1e-8)
            fail_msg("%s: %.17g vs %.17g", a->string ? a->string : "?", x, y);
    } else if (cJSON_IsString(a)) {
        assert_string_equal(a->valuestring, b->valuestring);
    }
    const cJSON *p = a->child, *q = b->child;
    for (; p && q; p = p->next, q = q->next) {
        if (p->string) assert_string_equal(p->string, q->string);
        assert_close(p, q);
    }
    assert_true(!p && !q);
}

static char *stripped_text(cJSON *j)
{
    strip_wall(j);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return t;
}

/* The standard error by hand from the steps a run reports: mean = sum / n,
 * se = sqrt(sum (t - mean)^2 / (n - 1)) / sqrt(n) (summary.h); the compare
 * row of the same scenario (same trace, same steps) carries the same two
 * numbers, and its speedup error is speedup x sqrt(rel_ds^2 + rel^2). */
static void standard_error_by_hand(void **state)
{
    (void)state;
    const char *base[] = {"--cluster", "h100x8", "--model", "qwen2.5-0.5b", "--batch", "16",
                          "--steps",   "6",      NULL};
    double mean[2], se[2];
    const char *pols[2] = {"deepspeed", "skrull"};
    for (int p = 0; p < 2; p++) {
        const char *args[16] = {"run", "--policy", pols[p]};
        for (int i = 0; base[i]; i++) args[3 + i] = base[i];
        cJSON *j = tu_run_json(0, args);
        const cJSON *steps = cJSON_GetObjectItem(j, "steps");
        int n = cJSON_GetArraySize(steps);
        assert_int_equal(n, 6);
        double sum = 0, ss = 0;
        for (const cJSON *q = steps->child; q; q = q->next)
            sum += cJSON_GetObjectItem(q, "time_s")->valuedouble;
        mean[p] = sum / n;
        for (const cJSON *q = steps->child; q; q = q->next) {
            double d = cJSON_GetObjectItem(q, "time_s")->valuedouble - mean[p];
            ss += d * d;
        }
        se[p] = sqrt(ss / (n - 1)) / sqrt((double)n);
        assert_true(se[p] > 0); /* the steps differ: a trace of random lengths */
        assert_true(fabs(cJSON_GetObjectItem(j, "mean_step_time_s")->valuedouble - mean[p]) <
                    1e-12 * mean[p]);
        assert_true(fabs(cJSON_GetObjectItem(j, "mean_step_time_se_s")->valuedouble - se[p]) <
                    1e-9 * se[p]);
        cJSON_Delete(j);
    }
    const char *args[16] = {"compare", "--policies", "deepspeed,skrull"};
    for (int i = 0; base[i]; i++) args[3 + i] = base[i];
    cJSON *j = tu_run_json(0, args);
    const cJSON *ds = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "policies"), 0);
    const cJSON *sk = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "policies"), 1);
    assert_true(fabs(cJSON_GetObjectItem(sk, "mean_step_time_se_s")->valuedouble - se[1]) <
                1e-9 * se[1]);
    double sp = mean[0] / mean[1];
    double spse = sp * sqrt(pow(se[0] / mean[0], 2) + pow(se[1] / mean[1], 2));
    assert_true(fabs(cJSON_GetObjectItem(sk, "speedup_se")->valuedouble - spse) < 1e-9 * spse);
    /* deepspeed against itself: 1 exactly, no error */
    assert_true(cJSON_GetObjectItem(ds, "speedup_vs_deepspeed")->valuedouble == 1);
    assert_true(cJSON_GetObjectItem(ds, "speedup_se")->valuedouble == 0);
    cJSON_Delete(j);
}

/* --steps auto[:CAP] (scen_auto_next): every policy runs the same count N;
 * either N is the cap or every policy's se / mean < 0.02 at N; N > 8 only
 * when the first round (8 steps) missed the rule; the document is that of
 * a fixed --steps N (rounds simulate from step 0; the generator's step k
 * does not depend on the count) to within assert_close's 1e-9, and
 * byte-identical on a second run (wall-clock fields aside). Cases: ChatQA2 with 256 sequences
 * converges below its cap (about 4-5% at 8 steps for 64 sequences, so about half that for 256: 16
 * steps), LMsysChat1M with 8 sequences is stopped by its cap (its long tail leaves 7-11% at 8 steps
 * for 64 sequences). */
static void steps_auto_rule(void **state)
{
    (void)state;
    static const char *const caps[] = {"auto:40", "auto:16"};
    static const char *const batch[] = {"256", "8"};
    static const char *const data[] = {"chatqa2", "lmsyschat1m"};
    int converged = 0, capped = 0;
    for (int c = 0; c < 2; c++) {
        const char *args[] = {
            "compare", "--cluster",  "h100x8",           "--model", "qwen2.5-0.5b", "--batch",
            batch[c],  "--policies", "deepspeed,skrull", "--steps", caps[c],        "--dataset",
            data[c],   NULL};
        cJSON *j = tu_run_json(0, args);
        const cJSON *sc = cJSON_GetObjectItem(j, "scenario");
        int n = cJSON_GetObjectItem(sc, "steps")->valueint;
        int cap = cJSON_GetObjectItem(sc, "steps_auto_cap")->valueint;
        assert_int_equal(cap, atoi(caps[c] + 5));
        int below = 1;
        for (const cJSON *p = cJSON_GetObjectItem(j, "policies")->child; p; p = p->next) {
            assert_int_equal(cJSON_GetObjectItem(p, "steps")->valueint, n);
            double rel = cJSON_GetObjectItem(p, "mean_step_time_se_s")->valuedouble /
                         cJSON_GetObjectItem(p, "mean_step_time_s")->valuedouble;
            if (rel >= 0.02) below = 0;
        }
        assert_true(n == cap || below);
        assert_true(n >= 8 && n <= cap);
        converged += n < cap;
        capped += n == cap;
        char nbuf[16];
        snprintf(nbuf, sizeof nbuf, "%d", n);
        if (n > 8) { /* the first round must have missed the rule */
            const char *first[] = {"compare",
                                   "--cluster",
                                   "h100x8",
                                   "--model",
                                   "qwen2.5-0.5b",
                                   "--batch",
                                   batch[c],
                                   "--policies",
                                   "deepspeed,skrull",
                                   "--steps",
                                   "8",
                                   "--dataset",
                                   data[c],
                                   NULL};
            cJSON *f = tu_run_json(0, first);
            int missed = 0;
            for (const cJSON *p = cJSON_GetObjectItem(f, "policies")->child; p; p = p->next)
                missed |= cJSON_GetObjectItem(p, "mean_step_time_se_s")->valuedouble /
                              cJSON_GetObjectItem(p, "mean_step_time_s")->valuedouble >=
                          0.02;
            assert_true(missed);
            cJSON_Delete(f);
        }
        /* the same as a fixed --steps N, and deterministic */
        const char *fixed[] = {
            "compare", "--cluster",  "h100x8",           "--model", "qwen2.5-0.5b", "--batch",
            batch[c],  "--policies", "deepspeed,skrull", "--steps", nbuf,           "--dataset",
            data[c],   NULL};
        cJSON *x = tu_run_json(0, fixed);
        cJSON_DeleteItemFromObject(cJSON_GetObjectItem(j, "scenario"), "steps_auto_cap");
        strip_wall(j);
        strip_wall(x);
        assert_close(j, x);
        cJSON_Delete(x);
        char *tj = stripped_text(j);
        cJSON *again = tu_run_json(0, args);
        cJSON_DeleteItemFromObject(cJSON_GetObjectItem(again, "scenario"), "steps_auto_cap");
        char *ta = stripped_text(again);
        assert_string_equal(tj, ta);
        free(tj);
        free(ta);
    }
    assert_int_equal(converged, 1);
    assert_int_equal(capped, 1);
}

/* --steps auto with a trace of 3 batches stops at 3: the trace has no
 * more (scen_auto_next), whatever the error. */
/* Peak memory does not depend on what the process simulated before: the
 * engine's times drift by a nanosecond with the absolute SimGrid clock, and
 * a FREE and an ALLOC of one stream at the same instant once sorted by their
 * raw doubles in either order (events.h). Here skrull alone, and skrull
 * after other simulations in the same process, must give every figure of
 * memory identically (an exact comparison: integer-nanosecond order makes
 * the peaks sums of the same terms). In this scenario the drift did flip
 * skrull's peak by 175 MB, and its OOM flag with it. */
static void peak_independent_of_history(void **state)
{
    (void)state;
    const char *alone[] = {"compare", "--cluster",  "h100x8",    "--model", "qwen2.5-0.5b",
                           "--batch", "256",        "--dataset", "chatqa2", "--steps",
                           "16",      "--policies", "skrull",    NULL};
    const char *after[] = {"compare",
                           "--cluster",
                           "h100x8",
                           "--model",
                           "qwen2.5-0.5b",
                           "--batch",
                           "256",
                           "--dataset",
                           "chatqa2",
                           "--steps",
                           "16",
                           "--policies",
                           "deepspeed,skrull,skrull,skrull",
                           NULL};
    cJSON *a = tu_run_json(0, alone), *b = tu_run_json(0, after);
    const cJSON *ra = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "policies"), 0);
    for (int i = 1; i < 4; i++) {
        const cJSON *rb = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "policies"), i);
        static const char *const f[] = {"peak_mem_bytes_min", "peak_mem_bytes_max", "oom"};
        for (int k = 0; k < 3; k++) {
            const cJSON *x = cJSON_GetObjectItem(ra, f[k]), *y = cJSON_GetObjectItem(rb, f[k]);
            assert_int_equal(x->type & 0xff, y->type & 0xff);
            if (cJSON_IsNumber(x) && x->valuedouble != y->valuedouble)
                fail_msg("skrull #%d: %s %.0f, alone %.0f", i, f[k], y->valuedouble,
                         x->valuedouble);
        }
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void steps_auto_trace_ends(void **state)
{
    (void)state;
    const char *f =
        tu_write("three.jsonl",
                 "{\"step\":0,\"samples\":[{\"id\":0,\"len\":900},{\"id\":1,\"len\":30000}]}\n"
                 "{\"step\":1,\"samples\":[{\"id\":0,\"len\":100},{\"id\":1,\"len\":200}]}\n"
                 "{\"step\":2,\"samples\":[{\"id\":0,\"len\":5000},{\"id\":1,\"len\":7000}]}\n");
    const char *args[] = {"run",     "--cluster", "h100x8", "--model", "qwen2.5-0.5b",
                          "--batch", "2",         "--dp",   "1",       "--trace",
                          f,         "--steps",   "auto",   NULL};
    cJSON *j = tu_run_json(0, args);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "steps")), 3);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "scenario"), "steps")->valueint, 3);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compare_contract),
        cmocka_unit_test(schedule_plan),
        cmocka_unit_test(no_rollback_is_oom),
        cmocka_unit_test(compare_row_closed_form),
        cmocka_unit_test(compare_many_policies),
        cmocka_unit_test(standard_error_by_hand),
        cmocka_unit_test(steps_auto_rule),
        cmocka_unit_test(steps_auto_trace_ends),
        cmocka_unit_test(peak_independent_of_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
