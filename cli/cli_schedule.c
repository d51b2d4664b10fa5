/* cli_schedule.c — `sftsim schedule`: the plan only (no simulation): per
 * step, per DP rank, its micro-batches and where each sequence goes (a CP
 * rank, or distributed), with the schedulers' own time estimate. The text
 * is printed from the JSON document (doc_schedule), so the two agree. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/doc.h"
#include "lab/report_out.h"
#include "lab/scenario.h"

static void help(void)
{
    printf("usage: sftsim schedule [scenario options]\n\n"
           "Schedules the scenario's steps with the policy and prints the plan: for each\n"
           "DP rank its micro-batches, each sequence (id:length) on its CP rank or\n"
           "distributed over the CP group, and the estimated micro-batch time (the\n"
           "schedulers' cost model). --format json prints it as one document; --out DIR\n"
           "writes it as summary.json with the graph of step 0 (schedule.dot, .svg).\n\n");
    scen_help();
}

static double num(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItem(o, name)->valuedouble;
}

/* A sequence's CP rank, -1 when distributed. */
static int seq_cp(const cJSON *q)
{
    const cJSON *c = cJSON_GetObjectItem(q, "cp");
    return cJSON_IsNumber(c) ? c->valueint : -1;
}

/* One micro-batch: its line, then its sequences by where they run (the
 * distributed ones first, then CP rank by rank). */
static void print_mb(int m, const cJSON *mb, int cp)
{
    printf("    mb %d: %.4f s, max %.0f tokens/GPU\n", m, num(mb, "est_s"),
           num(mb, "max_tokens_per_gpu"));
    const cJSON *seqs = cJSON_GetObjectItem(mb, "sequences");
    for (int c = -1; c < cp; c++) {
        int any = 0;
        for (const cJSON *q = seqs->child; q; q = q->next) {
            if (seq_cp(q) != c) continue;
            if (!any) printf(c < 0 ? "      distributed:" : "      cp %-2d      :", c);
            printf(" %lld:%lld", (long long)num(q, "id"), (long long)num(q, "len"));
            any = 1;
        }
        if (any) printf("\n");
    }
}

static void print_text(const cJSON *doc, int cp)
{
    for (const cJSON *st = cJSON_GetObjectItem(doc, "steps")->child; st; st = st->next) {
        const cJSON *note = cJSON_GetObjectItem(st, "note");
        printf("step %d: estimated %.4f s%s%s%s\n", cJSON_GetObjectItem(st, "step")->valueint,
               num(st, "est_s"),
               cJSON_IsTrue(cJSON_GetObjectItem(st, "over_bucket")) ? ", OVER BUCKET (OOM expected)"
                                                                    : "",
               note ? ", " : "", note ? note->valuestring : "");
        for (const cJSON *rk = cJSON_GetObjectItem(st, "ranks")->child; rk; rk = rk->next) {
            const cJSON *mbs = cJSON_GetObjectItem(rk, "microbatches");
            int nmb = cJSON_GetArraySize(mbs), m = 0;
            printf("  DP rank %d: %d micro-batch%s, estimated %.4f s\n",
                   cJSON_GetObjectItem(rk, "dp")->valueint, nmb, nmb == 1 ? "" : "es",
                   num(rk, "est_s"));
            for (const cJSON *mb = mbs->child; mb; mb = mb->next) print_mb(m++, mb, cp);
        }
    }
}

int cli_schedule(int argc, char **argv)
{
    scen_opts o;
    scenario s;
    int rc;
    if (cli_scenario(argc, argv, "schedule", help, &o, &s, &rc)) return rc;
    sft_err e = {0};
    scen_result *r = NULL;
    cJSON *j = NULL;
    sft_status st = scen_schedule(&s, s.policy, &r, &e);
    if (!st) j = doc_schedule(&s, s.policy->name, r);
    if (!st && o.fmt != SCEN_JSON) print_text(j, s.par.cp);
    if (!st && o.out) st = rout_schedule(o.out, &s, s.policy->name, r, j, &e);
    if (!st && o.fmt == SCEN_JSON) {
        cli_print_json(j); /* takes it */
        j = NULL;
    }
    cJSON_Delete(j);
    scen_result_destroy(r);
    scen_release(&s);
    return st ? cli_report(&e) : 0;
}
