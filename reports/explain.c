/* explain.c — the attribution of a step-time difference (explain.h). */
#include "reports/explain.h"

#include <math.h>

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
    cause[REP_LAUNCH_HOST] = s->launch_s + b->host_s + b->host_bound_s;
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

const char *rep_cause_key(int c)
{
    static const char *const k[REP_NCAUSES] = {"kernel_efficiency_s", "exposed_cp_comm_s",
                                               "exposed_grad_comm_s", "launch_and_host_s",
                                               "imbalance_s"};
    return c >= 0 && c < REP_NCAUSES ? k[c] : "?";
}

/* Adds the causes c under their keys to j. */
static void add_causes(cJSON *j, const double c[REP_NCAUSES])
{
    for (int k = 0; k < REP_NCAUSES; k++) cJSON_AddNumberToObject(j, rep_cause_key(k), c[k]);
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
    add_causes(j, x->cause);
    int order[REP_NCAUSES];
    rep_explain_rank(x, order);
    cJSON *l = cJSON_AddArrayToObject(j, "largest");
    for (int k = 0; k < 2; k++)
        cJSON_AddItemToArray(l, cJSON_CreateString(rep_cause_name(order[k])));
    return j;
}

cJSON *rep_causes_json(const rep_run *s)
{
    double c[REP_NCAUSES];
    rep_step_causes(s, c);
    cJSON *j = cJSON_CreateObject();
    add_causes(j, c);
    return j;
}

/* A row's mean step time and causes; 0 when it lacks one. */
static int row_causes(const cJSON *row, double *t, double c[REP_NCAUSES])
{
    const cJSON *m = cJSON_GetObjectItem(row, "mean_step_time_s");
    const cJSON *sc = cJSON_GetObjectItem(row, "step_causes");
    if (!cJSON_IsNumber(m) || !cJSON_IsObject(sc)) return 0;
    *t = m->valuedouble;
    for (int k = 0; k < REP_NCAUSES; k++) {
        const cJSON *v = cJSON_GetObjectItem(sc, rep_cause_key(k));
        if (!cJSON_IsNumber(v)) return 0;
        c[k] = v->valuedouble;
    }
    return 1;
}

sft_status rep_explain_rows(const cJSON *base_row, const cJSON *row, rep_explain *out, sft_err *e)
{
    double ta, tb, a[REP_NCAUSES], b[REP_NCAUSES];
    if (!row_causes(base_row, &ta, a) || !row_causes(row, &tb, b))
        return sft_errf(e, SFT_EINTERNAL, "explain: a comparison row lacks its step causes");
    out->diff_s = tb - ta;
    for (int k = 0; k < REP_NCAUSES; k++) out->cause[k] = b[k] - a[k];
    return SFT_OK;
}
