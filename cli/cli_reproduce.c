/* cli_reproduce.c — `sftsim reproduce skrull`: the Skrull paper's experiment
 * in one command (lab/reproduce.h runs it). This file parses the options
 * and prints the document: as JSON, or as a table beside the paper's
 * headline. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/reproduce.h"
#include "lab/scenario.h"

static sft_status set_jobs(void *ctx, const char *arg, sft_err *e)
{
    return cli_parse_jobs(arg, (long *)ctx, e);
}

static void help(void)
{
    printf("usage: sftsim reproduce skrull [-j N] [--steps N|auto[:CAP]] [--seed S] [--out DIR]\n"
           "                               [--format text|json]\n\n"
           "Runs the Skrull paper's six settings (Qwen2.5-0.5B and 7B x Wikipedia,\n"
           "LMsysChat1M, ChatQA2, with the paper's DP/CP/batch/BucketSize on h100x32) under\n"
           "deepspeed (packed micro-batches, and one sequence per micro-batch), sorted and\n"
           "skrull, and prints mean step times ± their standard errors and the speedups ±\n"
           "theirs beside the paper's headline. --steps defaults to %s: each setting runs\n"
           "until the standard errors of deepspeed's, sorted's and skrull's mean step times\n"
           "are below 2%% of them, at most 16 steps (auto's usual cap of 64 takes this past\n"
           "two minutes on 2 cores); the unpacked baseline (the costliest to simulate)\n"
           "runs auto on its own, capped at that count: the first of the same batches.\n"
           "Then the paper's case study: Qwen2.5-0.5B on ChatQA2, DP 1 x CP 8 on 8 GPUs,\n"
           "64 sequences, bucket 26000: deepspeed, roundrobin and skrull with roll-back\n"
           "and without, each step's peak memory (lowest and highest GPU) and whether it\n"
           "runs out of memory, over --steps N (8 under auto).\n"
           "--out DIR writes each setting's reports under DIR/<setting>/.\n",
           REPRO_STEPS);
}

static double num(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItem(o, name)->valuedouble;
}

/* "t ± se" (s) into buf */
static const char *pm(char *buf, size_t n, const cJSON *r, const char *t, const char *se,
                      const char *unit)
{
    snprintf(buf, n, "%.4f±%.4f%s", num(r, t), num(r, se), unit);
    return buf;
}

static void print_case(const cJSON *c)
{
    printf("\ncase study: %s on %s, DP %d x CP %d (%d GPUs), batch %d, bucket %d; peak memory "
           "per step, lowest-highest GPU (GB; usable %.1f)\n",
           cJSON_GetObjectItem(c, "model")->valuestring,
           cJSON_GetObjectItem(c, "dataset")->valuestring, cJSON_GetObjectItem(c, "dp")->valueint,
           cJSON_GetObjectItem(c, "cp")->valueint, cJSON_GetObjectItem(c, "gpus")->valueint,
           cJSON_GetObjectItem(c, "batch")->valueint, cJSON_GetObjectItem(c, "bucket")->valueint,
           num(c, "usable_mem_bytes") / 1e9);
    for (const cJSON *r = cJSON_GetObjectItem(c, "rows")->child; r; r = r->next) {
        printf("%-10s roll-back %-3s OOM %-3s |", cJSON_GetObjectItem(r, "policy")->valuestring,
               cJSON_IsTrue(cJSON_GetObjectItem(r, "rollback")) ? "on" : "off",
               cJSON_IsTrue(cJSON_GetObjectItem(r, "oom")) ? "yes" : "no");
        for (const cJSON *q = cJSON_GetObjectItem(r, "per_step")->child; q; q = q->next)
            printf(" %.1f-%.1f%s", num(q, "peak_mem_bytes_min") / 1e9,
                   num(q, "peak_mem_bytes_max") / 1e9,
                   cJSON_IsTrue(cJSON_GetObjectItem(q, "oom")) ? "!" : "");
        printf("\n");
    }
    printf("(! marks a step where some GPU exceeds its usable memory)\n");
}

/* "a +x s, b +y s": the two largest causes of an explanation (seconds per
 * step, skrull's minus deepspeed's), or "-" without one. */
static const char *causes(char *buf, size_t n, const cJSON *x)
{
    if (!x) return "-";
    const cJSON *l = cJSON_GetObjectItem(x, "largest");
    char k0[64], k1[64];
    snprintf(k0, sizeof k0, "%s_s", cJSON_GetArrayItem(l, 0)->valuestring);
    snprintf(k1, sizeof k1, "%s_s", cJSON_GetArrayItem(l, 1)->valuestring);
    snprintf(buf, n, "%s %+.4f, %s %+.4f", cJSON_GetArrayItem(l, 0)->valuestring, num(x, k0),
             cJSON_GetArrayItem(l, 1)->valuestring, num(x, k1));
    return buf;
}

/* Per setting and baseline variant, the speedup and its two largest
 * causes (compare --explain's attribution). */
static void print_why(const cJSON *doc)
{
    char c[2][160];
    printf(
        "\nwhy (skrull minus deepspeed, s per step on the busiest GPU; - is time skrull saves):\n");
    for (const cJSON *r = cJSON_GetObjectItem(doc, "settings")->child; r; r = r->next)
        printf("%-17s vs packed %.2fx: %s\n%-17s vs 1/mb   %.2fx: %s\n",
               cJSON_GetObjectItem(r, "setting")->valuestring, num(r, "speedup_vs_packed"),
               causes(c[0], sizeof c[0], cJSON_GetObjectItem(r, "explain_vs_packed")), "",
               num(r, "speedup_vs_unpacked"),
               causes(c[1], sizeof c[1], cJSON_GetObjectItem(r, "explain_vs_unpacked")));
}

static void print_text(const cJSON *doc, double wall_s)
{
    char a[4][48], b[2][48], n[32];
    printf("sftsim reproduce skrull: the Skrull paper's six settings on h100x32, --steps %s "
           "(%.0f s)\n",
           cJSON_GetObjectItem(doc, "steps_option")->valuestring, wall_s);
    printf("%-17s %6s %6s %7s | %15s %15s %15s %15s | %12s %12s\n", "setting", "DPxCP", "bucket",
           "steps*", "DS packed", "DS 1/mb", "sorted", "skrull", "skrull/DSpk", "skrull/DS1mb");
    for (const cJSON *r = cJSON_GetObjectItem(doc, "settings")->child; r; r = r->next) {
        snprintf(b[0], sizeof b[0], "%.2f±%.2fx", num(r, "speedup_vs_packed"),
                 num(r, "speedup_vs_packed_se"));
        snprintf(b[1], sizeof b[1], "%.2f±%.2fx", num(r, "speedup_vs_unpacked"),
                 num(r, "speedup_vs_unpacked_se"));
        snprintf(n, sizeof n, "%d/%d", (int)num(r, "steps"), (int)num(r, "steps_unpacked"));
        /* "±" is 2 bytes for one column: widths one more */
        printf("%-17s %3dx%-2d %6d %7s | %16s %16s %16s %16s | %13s %13s%s\n",
               cJSON_GetObjectItem(r, "setting")->valuestring,
               cJSON_GetObjectItem(r, "dp")->valueint, cJSON_GetObjectItem(r, "cp")->valueint,
               cJSON_GetObjectItem(r, "bucket")->valueint, n,
               pm(a[0], sizeof a[0], r, "deepspeed_packed_s", "deepspeed_packed_se_s", ""),
               pm(a[1], sizeof a[1], r, "deepspeed_unpacked_s", "deepspeed_unpacked_se_s", ""),
               pm(a[2], sizeof a[2], r, "sorted_s", "sorted_se_s", ""),
               pm(a[3], sizeof a[3], r, "skrull_s", "skrull_se_s", ""), b[0], b[1],
               cJSON_IsTrue(cJSON_GetObjectItem(r, "skrull_oom")) ? "  (skrull OOM)" : "");
    }
    const cJSON *h = cJSON_GetObjectItem(doc, "headline");
    printf("skrull vs deepspeed: mean %.2f±%.2fx, max %.2fx (packed baseline); mean %.2f±%.2fx, "
           "max %.2fx (one sequence per micro-batch). Paper: 3.76x mean, 7.54x max.\n",
           num(h, "mean_speedup_vs_packed"), num(h, "mean_speedup_vs_packed_se"),
           num(h, "max_speedup_vs_packed"), num(h, "mean_speedup_vs_unpacked"),
           num(h, "mean_speedup_vs_unpacked_se"), num(h, "max_speedup_vs_unpacked"));
    printf("* steps: the packed pass's (deepspeed, sorted, skrull) / the unpacked baseline's\n");
    print_why(doc);
    print_case(cJSON_GetObjectItem(doc, "case_study"));
}

/* Parses `reproduce skrull [options]` into *o and *jobs. Returns 1 when the
 * command ends here, with *rc its exit code (0 after --help). */
static int parse(int argc, char **argv, scen_opts *o, long *jobs, int *rc)
{
    static const scen_extra extra[] = {{"jobs", 1, set_jobs}, {NULL, 0, NULL}};
    *rc = 0;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        help();
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "skrull") != 0) {
        *rc = cli_usage_error("reproduce", "say which experiment: skrull");
        return 1;
    }
    int ac;
    char **av = cli_jobs_argv(argc, argv, 1, &ac);
    sft_err e = {0};
    sft_status st = scen_parse(ac, av, "reproduce", o, extra, jobs, help, &e);
    cli_jobs_argv_free(av);
    if (st || o->helped) {
        *rc = st ? cli_report(&e) : 0;
        return 1;
    }
    int fixed = repro_fixed_option(o);
    if (fixed >= 0) {
        *rc = cli_usage_error(
            "reproduce",
            "--%s: the experiment fixes it (reproduce takes --steps, "
            "--seed, --granularity, --calibration, --host-overhead-ms, --dispatch-us)",
            scen_opt_name(fixed));
        return 1;
    }
    return 0;
}

int cli_reproduce(int argc, char **argv)
{
    scen_opts o;
    long jobs = cli_default_jobs();
    int rc;
    if (parse(argc, argv, &o, &jobs, &rc)) return rc;
    sft_err e = {0};
    cJSON *doc = NULL;
    double t0 = sft_wall();
    sft_status st = repro_run(&o, (int)jobs, o.fmt != SCEN_JSON, &doc, &e);
    if (!st) {
        if (o.fmt == SCEN_JSON)
            cli_print_json(cJSON_Duplicate(doc, 1));
        else
            print_text(doc, sft_wall() - t0);
        if (o.out) st = repro_write(o.out, doc, &e);
    }
    cJSON_Delete(doc);
    return st ? cli_report(&e) : 0;
}
