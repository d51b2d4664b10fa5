/* cli_compare.c — `sftsim compare`: the same trace under several policies,
 * side by side: step time, speedup against deepspeed, memory, OOM, and where
 * the busiest GPU's step goes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/sched/sched.h"
#include "cli/cli.h"
#include "lab/report_out.h"
#include "lab/scenario.h"

#define DEFAULT_POLICIES "deepspeed,sorted,dacp,skrull"

typedef struct cmp_ctx {
    const char *policies;
} cmp_ctx;

static sft_status set_policies(void *ctx, const char *arg, sft_err *e)
{
    (void)e;
    ((cmp_ctx *)ctx)->policies = arg;
    return 0;
}

static void help(void)
{
    printf("usage: sftsim compare [--policies a,b,...] [scenario options]\n\n"
           "Simulates the same trace under each policy (default %s) and prints\n"
           "per policy the mean step time, the speedup over deepspeed, peak memory per GPU\n"
           "(min, max), OOM, and the busiest GPU's step: compute (launch gaps apart), launch\n"
           "gaps, host overhead, exposed communication, idle (waiting for other GPUs).\n\n",
           DEFAULT_POLICIES);
    scen_help();
}

int cli_compare(int argc, char **argv)
{
    static const scen_extra extra[] = {{"policies", 1, set_policies}, {NULL, 0, NULL}};
    cmp_ctx cx = {DEFAULT_POLICIES};
    scen_opts o;
    scenario s;
    sft_err e = {0};
    int rc = scen_parse(argc, argv, "compare", &o, extra, &cx, help, &e);
    if (rc < 0) return 0;
    if (rc) return cli_report(&e);
    char *buf;
    const char *pol[16];
    int np = 0;
    if (cli_parse_list("--policies", cx.policies, 16, &buf, pol, &np, &e)) {
        free(buf);
        return cli_report(&e);
    }
    const sched_policy *rp[16];
    if (scen_prepare(&o, &s, &e)) { /* cli_parse_list gave at least one policy */
        free(buf);
        return cli_report(&e);
    }
    for (int i = 0; i < np; i++)
        if (scen_policy(&s, pol[i], &rp[i], &e)) {
            scen_release(&s);
            free(buf);
            return cli_report(&e);
        }
    scen_result *res[16] = {0};
    sft_status st = SFT_OK;
    double base = 0;
    for (int i = 0; i < np && !st; i++) {
        if (o.fmt != SCEN_JSON)
            fprintf(stderr, "sftsim compare: %s (%d/%d)...\n", pol[i], i + 1, np);
        st = scen_simulate(&s, rp[i], o.out != NULL, &res[i], &e);
        if (!st && strcmp(pol[i], scen_default.baseline) == 0) base = res[i]->run->mean_step_s;
    }
    cJSON *j = NULL;
    if (!st) {
        j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "scenario", scen_json(&s));
        cJSON *arr = cJSON_AddArrayToObject(j, "policies");
        for (int i = 0; i < np; i++) {
            const rep_run *R = res[i]->run;
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "policy", pol[i]);
            cJSON_AddNumberToObject(p, "mean_step_time_s", R->mean_step_s);
            if (base > 0)
                cJSON_AddNumberToObject(p, "speedup_vs_deepspeed", base / R->mean_step_s);
            else
                cJSON_AddNullToObject(p, "speedup_vs_deepspeed");
            cJSON_AddBoolToObject(p, "oom", R->oom);
            double mn = 1e300, mx = 0;
            for (int g = 0; g < R->ngpus; g++) {
                if (R->gpus[g].peak_mem < mn) mn = R->gpus[g].peak_mem;
                if (R->gpus[g].peak_mem > mx) mx = R->gpus[g].peak_mem;
            }
            cJSON_AddNumberToObject(p, "peak_mem_bytes_min", mn);
            cJSON_AddNumberToObject(p, "peak_mem_bytes_max", mx);
            cJSON_AddNumberToObject(p, "mfu", R->mfu);
            cJSON *run = rep_run_json(R);
            cJSON_AddItemToObject(p, "breakdown", cJSON_DetachItemFromObject(run, "breakdown"));
            cJSON_Delete(run);
            int rounds = 0;
            for (int k = 0; k < R->nsteps; k++) rounds += R->steps[k].microbatches;
            cJSON_AddNumberToObject(p, "microbatch_rounds_per_step",
                                    R->nsteps ? (double)rounds / R->nsteps : 0);
            cJSON_AddNumberToObject(p, "schedule_s", res[i]->sched_s);
            cJSON_AddItemToArray(arr, p);
        }
    }
    if (!st && o.out) st = rout_compare(o.out, &s, pol, np, res, j, &e);
    if (!st) {
        if (o.fmt == SCEN_JSON) {
            cli_print_json(cJSON_Duplicate(j, 1));
        } else {
            printf("sftsim compare: %s on %s (%d GPUs = DP %d x CP %d), bucket %ld, batch %ld/DP "
                   "rank, %ld step(s), ds-pack %s, %s\n",
                   scen_model_name(&s), s.cl.name, clu_ngpus(&s.cl), s.par.dp, s.par.cp, s.bucket,
                   s.batch, (long)res[0]->run->nsteps, s.ds_pack ? "on" : "off",
                   s.trace     ? s.trace
                   : s.dataset ? s.dataset
                               : "lmsyschat1m");
            printf("%-11s %9s %8s %6s %5s %13s | busiest GPU per step (s): %7s %7s %7s %7s %7s\n",
                   "policy", "step(s)", "speedup", "MFU", "OOM", "peak GB", "compute", "launch",
                   "host", "expcomm", "idle");
            for (int i = 0; i < np; i++) {
                const rep_run *R = res[i]->run;
                const rep_gpu *B = &R->gpus[R->busiest];
                double mn = 1e300, mx = 0;
                for (int g = 0; g < R->ngpus; g++) {
                    if (R->gpus[g].peak_mem < mn) mn = R->gpus[g].peak_mem;
                    if (R->gpus[g].peak_mem > mx) mx = R->gpus[g].peak_mem;
                }
                char sp[16] = "-";
                if (base > 0) snprintf(sp, sizeof sp, "%.2fx", base / R->mean_step_s);
                printf("%-11s %9.4f %8s %5.1f%% %5s %6.1f-%-6.1f | %26s %7.4f %7.4f %7.4f %7.4f "
                       "%7.4f\n",
                       pol[i], R->mean_step_s, sp, 100 * R->mfu, R->oom ? "yes" : "no", mn / 1e9,
                       mx / 1e9, "", B->compute_s - R->launch_s, R->launch_s, B->host_s,
                       B->exposed_comm_s, B->idle_s);
            }
        }
    }
    cJSON_Delete(j);
    for (int i = 0; i < np; i++) scen_result_destroy(res[i]);
    free(buf);
    scen_release(&s);
    return st ? cli_report(&e) : 0;
}
