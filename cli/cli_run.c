/* cli_run.c — `sftsim run`: one policy over the scenario's steps; summary on
 * stdout (text or JSON), reports under --out. */
#include <stdio.h>

#include "models/hw/hbm.h"
#include "cli/cli.h"
#include "lab/doc.h"
#include "lab/report_out.h"
#include "lab/scenario.h"

static void help(void)
{
    printf("usage: sftsim run [scenario options]\n\n"
           "Simulates the scenario's steps under one policy and prints the step time, MFU,\n"
           "where each GPU's time goes and the memory it needs. With no options: the Skrull\n"
           "paper's setting (32 H100 as 4 x 8, Qwen2.5-7B, LMsysChat1M lengths, DP 4 x CP 8,\n"
           "64 sequences per DP rank, BucketSize 13K, 4 steps, policy deepspeed).\n\n");
    scen_help();
}

static void text_summary(const scenario *s, const char *policy, const scen_result *r)
{
    const rep_run *R = r->run;
    printf("sftsim run: %s on %s (%d GPUs = DP %d x CP %d), %s, %s, policy %s\n",
           scen_model_name(s), s->cl.name, clu_ngpus(&s->cl), s->par.dp, s->par.cp,
           s->trace     ? s->trace
           : s->dataset ? s->dataset
                        : "lmsyschat1m",
           cost_calibration(s->c), policy);
    printf("  bucket %ld tokens/GPU%s, batch %ld/DP rank, %d step%s, %ld samples (%ld clipped to "
           "%ld), ZeRO-%d, CP %s, ds-pack %s\n",
           s->bucket, s->bucket_from_memory ? " (memory model)" : "", s->batch, R->nsteps,
           R->nsteps == 1 ? "" : "s", r->samples, r->clipped, s->max_len, s->par.zero,
           par_cp_impl_name(s->par.cp_impl), s->ds_pack ? "on" : "off");
    printf("  gradients: %s in %s over all %d GPUs, overlap-comm %s\n",
           par_grad_coll_name(s->par.zero == 0 ? PAR_GRAD_ALLREDUCE : s->par.grad_coll),
           s->par.grad_fp32 ? "fp32" : "bf16", clu_ngpus(&s->cl),
           s->par.overlap_comm ? "on" : "off");
    printf("  mean step time %.4f ± %.4f s   MFU %.1f%%   %s\n", R->mean_step_s, R->mean_step_se_s,
           100 * R->mfu, R->oom ? "OUT OF MEMORY on some GPU" : "fits in memory");
    for (int k = 0; k < R->nsteps; k++)
        printf("    step %d: %.4f s, %d micro-batch round%s%s\n", k, R->steps[k].time_s,
               R->steps[k].microbatches, R->steps[k].microbatches == 1 ? "" : "s",
               R->steps[k].oom ? ", OOM" : "");
    const rep_gpu *B = &R->gpus[R->busiest];
    printf("  busiest GPU %d per step: compute %.4f s (launch gaps %.4f), host %.4f s, "
           "host-bound %.4f s, exposed comm %.4f s (gradients %.4f of %.4f), idle %.4f s\n",
           R->busiest, B->compute_s, R->launch_s, B->host_s, B->host_bound_s, B->exposed_comm_s,
           B->exposed_grad_comm_s, B->grad_comm_s, B->idle_s);
    printf("  peak memory per GPU: %.1f .. %.1f GB (usable %.1f GB)   mean idle %.4f s/step\n",
           R->peak_mem_min / 1e9, R->peak_mem_max / 1e9, hw_usable_bytes(&s->cl.gpu) / 1e9,
           R->mean_idle_s);
    printf("  simulator: %llu SimGrid activities, %.3f s wall (schedule %.3f s, build %.3f s)\n",
           (unsigned long long)R->sim_events, R->wall_s, r->sched_s, r->build_s);
}

int cli_run(int argc, char **argv)
{
    scen_opts o;
    scenario s;
    int rc;
    if (cli_scenario(argc, argv, "run", help, &o, &s, &rc)) return rc;
    sft_err e = {0};
    scen_result *r = NULL;
    const char *pol[1] = {s.policy->name};
    /* --steps auto: rounds until the error of its mean is small enough */
    sft_status st = scen_simulate_set(&s, pol, 1, o.out != NULL, 1, NULL, &r, &e);
    cJSON *j = st ? NULL : doc_run(&s, s.policy->name, r);
    if (!st && o.out) st = rout_run(o.out, &s, s.policy->name, r, j, &e);
    if (!st && o.fmt == SCEN_JSON) cli_print_json(cJSON_Duplicate(j, 1));
    if (!st && o.fmt != SCEN_JSON) text_summary(&s, s.policy->name, r);
    int oom = r && r->run->oom;
    cJSON_Delete(j);
    scen_result_destroy(r);
    scen_release(&s);
    if (st) return cli_report(&e);
    if (oom && o.strict) {
        fprintf(stderr, "sftsim run: out of memory on some GPU (--strict)\n");
        return SFT_EINFEASIBLE;
    }
    return 0;
}
