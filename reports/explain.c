/* explain.c — the attribution of a step-time difference (explain.h). */
#include "reports/explain.h"

#include <math.h>
#include <stdio.h>

void rep_step_causes(const rep_run *s, double cause[REP_NCAUSES])
{
    for (int c = 0; c < REP_NCAUSES; c++) cause[c] = 0;
    if (s->ngpus <= 0) return;
    double mean = 0;
    for (int g = 0; g < s->ngpus; g++) mean += s->gpus[g].compute_s;
    mean /= s->ngpus;
    const rep_gpu *b = &s->gpus[s->busiest];
    cause[REP_KERNEL] = mean - s->launch_s;
    cause[REP_EXPOSED_CP] = b->exposed_comm_s - b->exposed_grad_comm_s;
    cause[REP_EXPOSED_GRAD] = b->exposed_grad_comm_s;
    cause[REP_LAUNCH_HOST] = s->launch_s + b->host_s;
    cause[REP_IMBALANCE] = b->compute_s - mean + b->idle_s;
}

rep_explain rep_explain_of(const rep_run *base, const rep_run *x)
{
    rep_explain r = {.diff_s = x->mean_step_s - base->mean_step_s};
    double a[REP_NCAUSES], b[REP_NCAUSES];
    rep_step_causes(base, a);
    rep_step_causes(x, b);
    for (int c = 0; c < REP_NCAUSES; c++) r.cause[c] = b[c] - a[c];
    return r;
}

const char *rep_cause_name(int c)
{
    static const char *const n[REP_NCAUSES] = {"kernel_efficiency", "exposed_cp_comm",
                                               "exposed_grad_comm", "launch_and_host", "imbalance"};
    return c >= 0 && c < REP_NCAUSES ? n[c] : "?";
}

void rep_explain_rank(const rep_explain *x, int order[REP_NCAUSES])
{
    for (int c = 0; c < REP_NCAUSES; c++) order[c] = c;
    /* insertion sort, stable: five entries */
    for (int i = 1; i < REP_NCAUSES; i++)
        for (int j = i; j > 0 && fabs(x->cause[order[j]]) > fabs(x->cause[order[j - 1]]); j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
}

cJSON *rep_explain_json(const rep_explain *x)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "diff_s", x->diff_s);
    char key[64];
    for (int c = 0; c < REP_NCAUSES; c++) {
        snprintf(key, sizeof key, "%s_s", rep_cause_name(c));
        cJSON_AddNumberToObject(j, key, x->cause[c]);
    }
    int order[REP_NCAUSES];
    rep_explain_rank(x, order);
    cJSON *l = cJSON_AddArrayToObject(j, "largest");
    for (int k = 0; k < 2; k++)
        cJSON_AddItemToArray(l, cJSON_CreateString(rep_cause_name(order[k])));
    return j;
}
