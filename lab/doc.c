/* doc.c — the JSON documents of run, compare and schedule (doc.h). Field
 * order is part of the output: the documents print as they are built. */
#include "lab/doc.h"

#include <string.h>

#include "models/sched/estimate.h"
#include "reports/explain.h"

cJSON *doc_run(const scenario *s, const char *policy, const scen_result *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "scenario", scen_json(s));
    cJSON_AddStringToObject(j, "policy", policy);
    cJSON *run = rep_run_json(r->run);
    for (cJSON *it = run->child; it;) {
        cJSON *next = it->next;
        cJSON_AddItemToObject(j, it->string, cJSON_DetachItemViaPointer(run, it));
        it = next;
    }
    cJSON_Delete(run);
    cJSON_AddNumberToObject(j, "clipped_samples", (double)r->clipped);
    return j;
}

cJSON *doc_compare(const scenario *s, const char *const *policies, int n, scen_result *const *res,
                   int explain)
{
    const rep_run *base = NULL;
    for (int i = 0; i < n; i++)
        if (strcmp(policies[i], scen_default.baseline) == 0) base = res[i]->run;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "scenario", scen_json(s));
    cJSON *arr = cJSON_AddArrayToObject(j, "policies");
    for (int i = 0; i < n; i++) {
        cJSON *p = rep_compare_row(policies[i], res[i]->run, base);
        cJSON_AddNumberToObject(p, "schedule_s", res[i]->sched_s);
        if (explain && base && res[i]->run != base) {
            rep_explain x = rep_explain_of(base, res[i]->run);
            cJSON_AddItemToObject(p, "explain", rep_explain_json(&x));
        }
        cJSON_AddItemToArray(arr, p);
    }
    return j;
}

/* One micro-batch: its estimate, its most tokens on one GPU, its
 * sequences. */
static cJSON *mb_json(est *es, const plan_mb *mb, int cp)
{
    cJSON *jm = cJSON_CreateObject();
    cJSON_AddNumberToObject(jm, "est_s", est_mb(es, mb));
    cJSON_AddNumberToObject(jm, "max_tokens_per_gpu", plan_mb_max_tokens(mb, cp));
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
    return jm;
}

/* Step k's plan p: its estimate and, per DP rank, its micro-batches. */
static cJSON *step_json(est *es, const plan *p, int k, int cp)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddNumberToObject(st, "step", k);
    cJSON_AddNumberToObject(st, "est_s", est_plan(es, p));
    cJSON_AddBoolToObject(st, "over_bucket", p->over_bucket);
    if (p->note[0]) cJSON_AddStringToObject(st, "note", p->note);
    cJSON *ranks = cJSON_AddArrayToObject(st, "ranks");
    for (int d = 0; d < p->dp; d++) {
        const plan_rank *R = &p->rank[d];
        cJSON *rk = cJSON_CreateObject();
        cJSON_AddNumberToObject(rk, "dp", d);
        cJSON_AddNumberToObject(rk, "est_s", est_rank(es, R));
        cJSON *mbs = cJSON_AddArrayToObject(rk, "microbatches");
        for (int m = 0; m < R->nmb; m++) cJSON_AddItemToArray(mbs, mb_json(es, &R->mb[m], cp));
        cJSON_AddItemToArray(ranks, rk);
    }
    return st;
}

cJSON *doc_schedule(const scenario *s, const char *policy, const scen_result *r)
{
    /* the estimator the schedulers plan with, on this scenario */
    est *es = scen_estimator(s);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "scenario", scen_json(s));
    cJSON_AddStringToObject(j, "policy", policy);
    cJSON *steps = cJSON_AddArrayToObject(j, "steps");
    for (int k = 0; k < r->nplans; k++)
        cJSON_AddItemToArray(steps, step_json(es, r->plans[k], k, s->par.cp));
    est_destroy(es);
    return j;
}
