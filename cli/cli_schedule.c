/* cli_schedule.c — `sftsim schedule`: the plan only (no simulation): per
 * step, per DP rank, its micro-batches and where each sequence goes (a CP
 * rank, or distributed), with the schedulers' own time estimate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/sched/estimate.h"
#include "cli/cli.h"
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

int cli_schedule(int argc, char **argv)
{
    scen_opts o;
    scenario s;
    sft_err e = {0};
    int rc = scen_parse(argc, argv, "schedule", &o, NULL, NULL, help, &e);
    if (rc < 0) return 0;
    if (rc) return cli_report(&e);
    if (scen_prepare(&o, &s, &e)) return cli_report(&e);
    scen_result *r = NULL;
    if (scen_schedule(&s, s.policy, &r, &e)) {
        scen_release(&s);
        return cli_report(&e);
    }
    est *es = scen_estimator(&s);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "scenario", scen_json(&s));
    cJSON_AddStringToObject(j, "policy", s.policy->name);
    cJSON *steps = cJSON_AddArrayToObject(j, "steps");
    for (int k = 0; k < r->nplans; k++) {
        const plan *p = r->plans[k];
        cJSON *st = cJSON_CreateObject();
        cJSON_AddNumberToObject(st, "step", k);
        cJSON_AddNumberToObject(st, "est_s", est_plan(es, p));
        cJSON_AddBoolToObject(st, "over_bucket", p->over_bucket);
        if (p->note[0]) cJSON_AddStringToObject(st, "note", p->note);
        cJSON *ranks = cJSON_AddArrayToObject(st, "ranks");
        if (o.fmt != SCEN_JSON)
            printf("step %d: estimated %.4f s%s%s%s\n", k, est_plan(es, p),
                   p->over_bucket ? ", OVER BUCKET (OOM expected)" : "", p->note[0] ? ", " : "",
                   p->note);
        for (int d = 0; d < p->dp; d++) {
            const plan_rank *R = &p->rank[d];
            cJSON *rk = cJSON_CreateObject();
            cJSON_AddNumberToObject(rk, "dp", d);
            cJSON_AddNumberToObject(rk, "est_s", est_rank(es, R));
            cJSON *mbs = cJSON_AddArrayToObject(rk, "microbatches");
            if (o.fmt != SCEN_JSON)
                printf("  DP rank %d: %d micro-batch%s, estimated %.4f s\n", d, R->nmb,
                       R->nmb == 1 ? "" : "es", est_rank(es, R));
            for (int m = 0; m < R->nmb; m++) {
                const plan_mb *mb = &R->mb[m];
                cJSON *jm = cJSON_CreateObject();
                cJSON_AddNumberToObject(jm, "est_s", est_mb(es, mb));
                cJSON_AddNumberToObject(jm, "max_tokens_per_gpu", plan_mb_max_tokens(mb, s.par.cp));
                cJSON *seqs = cJSON_AddArrayToObject(jm, "sequences");
                for (int i = 0; i < mb->n; i++) {
                    cJSON *q = cJSON_CreateObject();
                    cJSON_AddNumberToObject(q, "id", (double)mb->seq[i].id);
                    cJSON_AddNumberToObject(q, "len", (double)mb->seq[i].len);
                    if (mb->seq[i].cp == PLAN_DIST)
                        cJSON_AddStringToObject(q, "cp", "distributed");
                    else
                        cJSON_AddNumberToObject(q, "cp", mb->seq[i].cp);
                    cJSON_AddItemToArray(seqs, q);
                }
                cJSON_AddItemToArray(mbs, jm);
                if (o.fmt == SCEN_JSON) continue;
                printf("    mb %d: %.4f s, max %.0f tokens/GPU\n", m, est_mb(es, mb),
                       plan_mb_max_tokens(mb, s.par.cp));
                for (int c = -1; c < s.par.cp; c++) {
                    int any = 0;
                    for (int i = 0; i < mb->n; i++) {
                        if (mb->seq[i].cp != (c < 0 ? PLAN_DIST : c)) continue;
                        if (!any) printf(c < 0 ? "      distributed:" : "      cp %-2d      :", c);
                        printf(" %lld:%lld", (long long)mb->seq[i].id, (long long)mb->seq[i].len);
                        any = 1;
                    }
                    if (any) printf("\n");
                }
            }
            cJSON_AddItemToArray(ranks, rk);
        }
        cJSON_AddItemToArray(steps, st);
    }
    sft_status st = o.out ? rout_schedule(o.out, &s, s.policy->name, r, j, &e) : SFT_OK;
    if (o.fmt == SCEN_JSON && !st)
        cli_print_json(j);
    else
        cJSON_Delete(j);
    est_destroy(es);
    scen_result_destroy(r);
    scen_release(&s);
    return st ? cli_report(&e) : 0;
}
