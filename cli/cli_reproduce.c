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
    printf("usage: sftsim reproduce skrull [-j N] [--steps N] [--seed S] [--out DIR]\n"
           "                               [--format text|json]\n\n"
           "Runs the Skrull paper's six settings (Qwen2.5-0.5B and 7B x Wikipedia,\n"
           "LMsysChat1M, ChatQA2, with the paper's DP/CP/batch/BucketSize on h100x32) under\n"
           "deepspeed (packed micro-batches, and one sequence per micro-batch), sorted and\n"
           "skrull, and prints step times and speedups beside the paper's headline.\n"
           "--out DIR writes each setting's reports under DIR/<setting>/.\n");
}

static double num(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItem(o, name)->valuedouble;
}

static void print_text(const cJSON *doc, const char *steps, double wall_s)
{
    printf("sftsim reproduce skrull: the Skrull paper's six settings on h100x32, %s steps "
           "each (%.0f s)\n",
           steps ? steps : "4", wall_s);
    printf("%-17s %6s %9s | %10s %10s %10s %10s | %12s %12s\n", "setting", "DPxCP", "bucket",
           "DS packed", "DS 1/mb", "sorted", "skrull", "skrull/DSpk", "skrull/DS1mb");
    for (const cJSON *r = cJSON_GetObjectItem(doc, "settings")->child; r; r = r->next)
        printf("%-17s %3dx%-2d %9d | %10.4f %10.4f %10.4f %10.4f | %11.2fx %11.2fx%s\n",
               cJSON_GetObjectItem(r, "setting")->valuestring,
               cJSON_GetObjectItem(r, "dp")->valueint, cJSON_GetObjectItem(r, "cp")->valueint,
               cJSON_GetObjectItem(r, "bucket")->valueint, num(r, "deepspeed_packed_s"),
               num(r, "deepspeed_unpacked_s"), num(r, "sorted_s"), num(r, "skrull_s"),
               num(r, "speedup_vs_packed"), num(r, "speedup_vs_unpacked"),
               cJSON_IsTrue(cJSON_GetObjectItem(r, "skrull_oom")) ? "  (skrull OOM)" : "");
    const cJSON *h = cJSON_GetObjectItem(doc, "headline");
    printf("skrull vs deepspeed: mean %.2fx, max %.2fx (packed baseline); mean %.2fx, max "
           "%.2fx (one sequence per micro-batch). Paper: 3.76x mean, 7.54x max.\n",
           num(h, "mean_speedup_vs_packed"), num(h, "max_speedup_vs_packed"),
           num(h, "mean_speedup_vs_unpacked"), num(h, "max_speedup_vs_unpacked"));
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
            print_text(doc, o.v[SO_STEPS], sft_wall() - t0);
        if (o.out) st = repro_write(o.out, doc, &e);
    }
    cJSON_Delete(doc);
    return st ? cli_report(&e) : 0;
}
