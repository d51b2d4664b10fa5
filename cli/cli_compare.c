/* cli_compare.c — `sftsim compare`: the same trace under several policies,
 * side by side: step time, speedup against deepspeed, memory, OOM, and where
 * the busiest GPU's step goes. */
#include <stdio.h>
#include <stdlib.h>

#include "models/sched/sched.h"
#include "cli/cli.h"
#include "lab/doc.h"
#include "lab/report_out.h"
#include "lab/scenario.h"
#include "reports/explain.h"

#define DEFAULT_POLICIES "deepspeed,sorted,dacp,skrull"

typedef struct cmp_ctx {
    const char *policies;
    int explain;
} cmp_ctx;

static sft_status set_explain(void *ctx, const char *arg, sft_err *e)
{
    (void)arg, (void)e;
    ((cmp_ctx *)ctx)->explain = 1;
    return SFT_OK;
}

static sft_status set_policies(void *ctx, const char *arg, sft_err *e)
{
    (void)e;
    ((cmp_ctx *)ctx)->policies = arg;
    return 0;
}

static void help(void)
{
    printf("usage: sftsim compare [--policies a,b,...] [--explain] [scenario options]\n\n"
           "Simulates the same trace under each policy (default %s) and prints\n"
           "per policy the mean step time and its standard error (sample standard deviation\n"
           "of the step times / sqrt(steps)), the speedup over deepspeed (its error from the\n"
           "two relative errors in quadrature), peak memory per GPU\n"
           "(min, max), OOM, and the busiest GPU's step: compute (launch gaps apart), launch\n"
           "gaps, host overhead, exposed communication, idle (waiting for other GPUs).\n"
           "--explain adds, per policy, its step-time difference against deepspeed split\n"
           "into kernel efficiency, exposed CP communication, exposed gradient\n"
           "communication, launch and host overhead, and imbalance, which add up to it\n"
           "(in the JSON: \"explain\" in each row).\n\n",
           DEFAULT_POLICIES);
    scen_help();
}

/* The table: per policy its step time, speedup, MFU, OOM, the range of
 * the GPUs' peak memory and the busiest GPU's step. */
static void print_text(const scenario *s, const char *const *pol, int np, scen_result *const *res,
                       const cJSON *doc)
{
    printf("sftsim compare: %s on %s (%d GPUs = DP %d x CP %d), bucket %ld, batch %ld/DP "
           "rank, %ld step(s)%s, ds-pack %s, %s\n",
           scen_model_name(s), s->cl.name, clu_ngpus(&s->cl), s->par.dp, s->par.cp, s->bucket,
           s->batch, (long)res[0]->run->nsteps,
           s->steps_cap ? " (--steps auto: every standard error < 2% of its mean, or the cap)" : "",
           s->ds_pack ? "on" : "off",
           s->trace     ? s->trace
           : s->dataset ? s->dataset
                        : "lmsyschat1m");
    printf("%-11s %17s %14s %6s %5s %13s | busiest GPU per step (s): %7s %7s %7s %7s %7s\n",
           "policy", "step(s) mean ± se", "speedup ± se", "MFU", "OOM", "peak GB", "compute",
           "launch", "host", "expcomm", "idle");
    const cJSON *row = cJSON_GetObjectItem(doc, "policies")->child;
    for (int i = 0; i < np; i++, row = row->next) {
        const rep_run *R = res[i]->run;
        const rep_gpu *B = &R->gpus[R->busiest];
        const cJSON *speedup = cJSON_GetObjectItem(row, "speedup_vs_deepspeed");
        const cJSON *spse = cJSON_GetObjectItem(row, "speedup_se");
        char sp[48] = "-", t[48];
        if (cJSON_IsNumber(speedup) && cJSON_IsNumber(spse))
            snprintf(sp, sizeof sp, "%.2fx ± %.2f", speedup->valuedouble, spse->valuedouble);
        snprintf(t, sizeof t, "%.4f ± %.4f", R->mean_step_s, R->mean_step_se_s);
        /* "±" is 2 bytes for 1 column: one more byte of width */
        printf("%-11s %18s %15s %5.1f%% %5s %6.1f-%-6.1f | %26s %7.4f %7.4f %7.4f %7.4f "
               "%7.4f\n",
               pol[i], t, sp, 100 * R->mfu, R->oom ? "yes" : "no", R->peak_mem_min / 1e9,
               R->peak_mem_max / 1e9, "", B->compute_s - R->launch_s, R->launch_s, B->host_s,
               B->exposed_comm_s, B->idle_s);
    }
}

/* --explain: per policy, the step-time difference against the baseline
 * and its causes (reports/explain.h), largest first marked. */
static void print_explain(const char *const *pol, int np, const cJSON *doc)
{
    const cJSON *row = cJSON_GetObjectItem(doc, "policies")->child;
    printf("\nwhy, against %s (seconds per step, the busiest GPU; + = slower, the causes add up "
           "to the difference):\n",
           scen_default.baseline);
    printf("%-11s %9s", "policy", "diff");
    for (int c = 0; c < REP_NCAUSES; c++) printf(" %18s", rep_cause_name(c));
    printf("  largest\n");
    int any = 0;
    for (int i = 0; i < np; i++, row = row->next) {
        const cJSON *x = cJSON_GetObjectItem(row, "explain");
        if (!x) continue;
        any = 1;
        printf("%-11s %+9.4f", pol[i], cJSON_GetObjectItem(x, "diff_s")->valuedouble);
        for (int c = 0; c < REP_NCAUSES; c++)
            printf(" %+18.4f", cJSON_GetObjectItem(x, rep_cause_key(c))->valuedouble);
        const cJSON *l = cJSON_GetObjectItem(x, "largest");
        printf("  %s, %s\n", cJSON_GetArrayItem(l, 0)->valuestring,
               cJSON_GetArrayItem(l, 1)->valuestring);
    }
    if (!any) printf("(no %s in --policies: nothing to explain against)\n", scen_default.baseline);
}

/* --policies: any number of known policies. Creates *buf and *pol (the
 * caller frees both, also on failure). */
static sft_status parse_policies(const char *list, char **buf, const char ***pol, int *np,
                                 sft_err *e)
{
    sft_status st = cli_parse_list("--policies", list, buf, pol, np, e);
    for (int i = 0; i < *np && !st; i++)
        if (!sched_find((*pol)[i])) st = sched_unknown((*pol)[i], e);
    return st;
}

int cli_compare(int argc, char **argv)
{
    static const scen_extra extra[] = {
        {"policies", 1, set_policies}, {"explain", 0, set_explain}, {NULL, 0, NULL}};
    cmp_ctx cx = {DEFAULT_POLICIES, 0};
    scen_opts o;
    scenario s;
    sft_err e = {0};
    sft_status rc = scen_parse(argc, argv, "compare", &o, extra, &cx, help, &e);
    if (rc) return cli_report(&e);
    if (o.helped) return 0;
    char *buf = NULL;
    const char **pol = NULL;
    int np = 0;
    /* parse_policies gives at least one policy */
    if (parse_policies(cx.policies, &buf, &pol, &np, &e) || scen_prepare(&o, &s, &e)) {
        free(buf);
        free(pol);
        return cli_report(&e);
    }
    scen_result **res = sft_xcalloc((size_t)np, sizeof *res);
    sft_err *errs = sft_xcalloc((size_t)np, sizeof *errs);
    /* every policy over the same steps; --steps auto: until all converge */
    sft_status st = scen_simulate_set(&s, pol, np, o.out != NULL, 1,
                                      o.fmt != SCEN_JSON ? "sftsim compare" : NULL, res, errs);
    for (int i = 0; i < np && st; i++)
        if (errs[i].status) {
            e = errs[i];
            break;
        }
    free(errs);
    cJSON *j = st ? NULL : doc_compare(&s, pol, np, res, cx.explain);
    if (!st && o.out) st = rout_compare(o.out, &s, pol, np, res, j, &e);
    if (!st) {
        if (o.fmt == SCEN_JSON)
            cli_print_json(cJSON_Duplicate(j, 1));
        else
            print_text(&s, pol, np, res, j);
        if (o.fmt != SCEN_JSON && cx.explain) print_explain(pol, np, j);
    }
    cJSON_Delete(j);
    for (int i = 0; i < np; i++) scen_result_destroy(res[i]);
    free(res);
    free(buf);
    free(pol);
    scen_release(&s);
    return st ? cli_report(&e) : 0;
}
