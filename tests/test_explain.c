/* test_explain.c — the attribution of a step-time difference
 * (reports/explain.h): on hand-made runs, each cause is the closed form of
 * explain.h; on simulated runs, the causes add up to the step-time
 * difference, because every GPU's window is compute + host + exposed
 * communication + idle by construction (summary.h). */
#include <math.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab/scenario.h"
#include "reports/explain.h"
#include "tutil.h"

/* Two GPUs; GPU 1 is the busiest. All figures per step. */
static void hand_made(void **state)
{
    (void)state;
    rep_gpu ga[2] = {{.compute_s = 0.30,
                      .host_s = 0.01,
                      .exposed_comm_s = 0.20,
                      .exposed_grad_comm_s = 0.05,
                      .idle_s = 0.09},
                     {.compute_s = 0.40,
                      .host_s = 0.01,
                      .exposed_comm_s = 0.19,
                      .exposed_grad_comm_s = 0.05,
                      .idle_s = 0.00}};
    rep_gpu gb[2] = {{.compute_s = 0.20,
                      .host_s = 0.01,
                      .exposed_comm_s = 0.06,
                      .exposed_grad_comm_s = 0.05,
                      .idle_s = 0.03},
                     {.compute_s = 0.10,
                      .host_s = 0.01,
                      .exposed_comm_s = 0.05,
                      .exposed_grad_comm_s = 0.05,
                      .idle_s = 0.14}};
    /* base: step 0.6 on both GPUs (0.4 + 0.01 + 0.19 + 0 on GPU 1) */
    rep_run base = {.ngpus = 2, .gpus = ga, .busiest = 1, .launch_s = 0.002, .mean_step_s = 0.60};
    /* x: step 0.30 (GPU 0: 0.2 + 0.01 + 0.06 + 0.03), GPU 0 busiest */
    rep_run x = {.ngpus = 2, .gpus = gb, .busiest = 0, .launch_s = 0.002, .mean_step_s = 0.30};
    double c[REP_NCAUSES];
    rep_step_causes(&base, c);
    /* kernel = mean compute (0.35) - launch; imbalance = 0.40 - 0.35 + 0 */
    assert_true(fabs(c[REP_KERNEL] - 0.348) < 1e-12);
    assert_true(fabs(c[REP_EXPOSED_CP] - 0.14) < 1e-12);
    assert_true(fabs(c[REP_EXPOSED_GRAD] - 0.05) < 1e-12);
    assert_true(fabs(c[REP_LAUNCH_HOST] - 0.012) < 1e-12);
    assert_true(fabs(c[REP_IMBALANCE] - 0.05) < 1e-12);
    double sum = 0;
    for (int k = 0; k < REP_NCAUSES; k++) sum += c[k];
    assert_true(fabs(sum - 0.60) < 1e-12);
    rep_explain e = rep_explain_of(&base, &x);
    assert_true(fabs(e.diff_s + 0.30) < 1e-12);
    /* x: kernel 0.15 - 0.002; cp 0.01; grad 0.05; launch+host 0.012;
     * imbalance 0.20 - 0.15 + 0.03 = 0.08 */
    assert_true(fabs(e.cause[REP_KERNEL] - (0.148 - 0.348)) < 1e-12);
    assert_true(fabs(e.cause[REP_EXPOSED_CP] - (0.01 - 0.14)) < 1e-12);
    assert_true(fabs(e.cause[REP_EXPOSED_GRAD]) < 1e-12);
    assert_true(fabs(e.cause[REP_LAUNCH_HOST]) < 1e-12);
    assert_true(fabs(e.cause[REP_IMBALANCE] - (0.08 - 0.05)) < 1e-12);
    int order[REP_NCAUSES];
    rep_explain_rank(&e, order);
    assert_int_equal(order[0], REP_KERNEL);     /* -0.20 */
    assert_int_equal(order[1], REP_EXPOSED_CP); /* -0.13 */
    cJSON *j = rep_explain_json(&e);
    assert_true(fabs(cJSON_GetObjectItem(j, "kernel_efficiency_s")->valuedouble + 0.2) < 1e-12);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "largest"), 1)->valuestring,
                        "exposed_cp_comm");
    cJSON_Delete(j);
}

static scen_result *simulate(const char *const *argv, const char *policy)
{
    int argc = 0;
    while (argv[argc]) argc++;
    scen_opts o;
    scenario s;
    sft_err e = {0};
    if (scen_parse(argc, (char **)argv, "run", &o, NULL, NULL, NULL, &e) ||
        scen_resolve(&o, &s, &e))
        fail_msg("scenario: %s", e.msg);
    const sched_policy *pol;
    scen_result *r = NULL;
    if (scen_policy(&s, policy, &pol, &e) || scen_simulate(&s, pol, 0, &r, &e))
        fail_msg("%s: %s", policy, e.msg);
    scen_release(&s);
    return r;
}

/* Simulated: the causes of each run sum to its mean step time, and the
 * differences to the difference, within 1e-9 of the step (sums of means in
 * another order). ChatQA2 on 0.5B mixes local and distributed sequences. */
static void adds_up(void **state)
{
    (void)state;
    const char *args[] = {
        "run",     "--cluster", "h100x8",  "--dp", "2",       "--cp",         "4",
        "--batch", "16",        "--steps", "2",    "--model", "qwen2.5-0.5b", "--dataset",
        "chatqa2", "--bucket",  "26624",   NULL};
    static const char *const pols[] = {"sorted", "dacp", "skrull"};
    scen_result *base = simulate(args, "deepspeed");
    double c[REP_NCAUSES], sum = 0;
    rep_step_causes(base->run, c);
    for (int k = 0; k < REP_NCAUSES; k++) sum += c[k];
    assert_true(fabs(sum - base->run->mean_step_s) < 1e-9 * base->run->mean_step_s);
    for (int i = 0; i < 3; i++) {
        scen_result *x = simulate(args, pols[i]);
        rep_explain e = rep_explain_of(base->run, x->run);
        double d = 0;
        for (int k = 0; k < REP_NCAUSES; k++) d += e.cause[k];
        print_message("%s: diff %.6f s, causes sum %.6f s\n", pols[i], e.diff_s, d);
        assert_true(fabs(d - e.diff_s) < 1e-9 * base->run->mean_step_s);
        scen_result_destroy(x);
    }
    scen_result_destroy(base);
}

/* compare --explain: every row but the baseline's carries "explain", its
 * causes add up to its diff_s, diff_s is the difference of the rows' mean
 * step times, and "largest" names the two largest |causes|. */
static void compare_explain(void **state)
{
    (void)state;
    const char *args[] = {"compare",    "--cluster",
                          "h100x8",     "--dp",
                          "2",          "--cp",
                          "4",          "--batch",
                          "16",         "--steps",
                          "2",          "--explain",
                          "--policies", "deepspeed,sorted,skrull",
                          NULL};
    cJSON *j = tu_run_json(0, args);
    const cJSON *rows = cJSON_GetObjectItem(j, "policies");
    double base = cJSON_GetObjectItem(rows->child, "mean_step_time_s")->valuedouble;
    assert_null(cJSON_GetObjectItem(rows->child, "explain"));
    int n = 0;
    for (const cJSON *r = rows->child->next; r; r = r->next, n++) {
        const cJSON *x = cJSON_GetObjectItem(r, "explain");
        assert_non_null(x);
        double d = cJSON_GetObjectItem(x, "diff_s")->valuedouble, sum = 0, top = 0, lv = -1;
        assert_true(fabs(d - (cJSON_GetObjectItem(r, "mean_step_time_s")->valuedouble - base)) <
                    1e-12);
        const char *largest = cJSON_GetArrayItem(cJSON_GetObjectItem(x, "largest"), 0)->valuestring;
        for (int c = 0; c < REP_NCAUSES; c++) {
            double v = cJSON_GetObjectItem(x, rep_cause_key(c))->valuedouble;
            sum += v;
            if (fabs(v) > top) top = fabs(v);
            if (strcmp(largest, rep_cause_name(c)) == 0) lv = fabs(v);
        }
        assert_true(lv == top); /* the first named is the largest */
        assert_true(fabs(sum - d) < 1e-9 * base);
    }
    assert_int_equal(n, 2);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(hand_made), cmocka_unit_test(adds_up),
                                       cmocka_unit_test(compare_explain)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
