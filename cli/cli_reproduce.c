/* cli_reproduce.c — `sftsim reproduce skrull`: the Skrull paper's experiment
 * (REFERENCE §1.4) in one command: Qwen2.5-0.5B and 7B x Wikipedia,
 * LMsysChat1M, ChatQA2 on its 32-H100 cluster (h100x32), DP 4 x CP 8 with 64
 * sequences per DP rank (7B on ChatQA2: DP 2 x CP 16, 40 per rank),
 * BucketSize 26K (0.5B) and 13K (7B); deepspeed (both baseline variants:
 * packed micro-batches, and one sequence per micro-batch), sorted and skrull;
 * step times and speedups beside the paper's headline (3.76x on average, up
 * to 7.54x). Settings run in parallel workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/pool.h"
#include "lab/scenario.h"

#define NSET 6

typedef struct setting {
    const char *model, *dataset, *dp, *cp, *batch, *bucket, *label;
} setting;

static const setting settings[NSET] = {
    {"qwen2.5-0.5b", "wikipedia", "4", "8", "64", "26624", "0.5B Wikipedia"},
    {"qwen2.5-0.5b", "lmsyschat1m", "4", "8", "64", "26624", "0.5B LMsysChat1M"},
    {"qwen2.5-0.5b", "chatqa2", "4", "8", "64", "26624", "0.5B ChatQA2"},
    {"qwen2.5-7b", "wikipedia", "4", "8", "64", "13312", "7B Wikipedia"},
    {"qwen2.5-7b", "lmsyschat1m", "4", "8", "64", "13312", "7B LMsysChat1M"},
    {"qwen2.5-7b", "chatqa2", "2", "16", "40", "13312", "7B ChatQA2"},
};

typedef struct rp_ctx {
    long jobs;
    cJSON *rows[2][NSET]; /* [unpacked baseline?][setting] */
    int pass;
} rp_ctx;

static int set_jobs(void *ctx, const char *arg, sft_err *e)
{
    return cli_parse_jobs(arg, &((rp_ctx *)ctx)->jobs, e);
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

static sft_status on_point(void *ctx, int p, const cJSON *rows, sft_err *e)
{
    (void)e;
    rp_ctx *x = ctx;
    x->rows[x->pass][p] = cJSON_Duplicate(rows, 1);
    return SFT_OK;
}

static double field(const cJSON *rows, const char *policy, const char *name)
{
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next) {
        const cJSON *p = cJSON_GetObjectItem(r, "policy"), *v = cJSON_GetObjectItem(r, name);
        if (cJSON_IsString(p) && strcmp(p->valuestring, policy) == 0 && cJSON_IsNumber(v))
            return v->valuedouble;
    }
    return 0;
}

static int oom(const cJSON *rows, const char *policy)
{
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next) {
        const cJSON *p = cJSON_GetObjectItem(r, "policy");
        if (cJSON_IsString(p) && strcmp(p->valuestring, policy) == 0)
            return cJSON_IsTrue(cJSON_GetObjectItem(r, "oom"));
    }
    return 0;
}

int cli_reproduce(int argc, char **argv)
{
    static const scen_extra extra[] = {{"jobs", 1, set_jobs}, {NULL, 0, NULL}};
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        help();
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "skrull") != 0)
        return cli_usage_error("reproduce", "say which experiment: skrull");
    rp_ctx x = {0};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    x.jobs = ncpu > 0 ? ncpu : 1;
    char **av = sft_xcalloc((size_t)argc, sizeof *av);
    int ac = 0;
    av[ac++] = argv[0];
    char **jbuf = sft_xcalloc((size_t)argc, sizeof *jbuf);
    for (int i = 2; i < argc; i++) av[ac++] = cli_short_jobs(argv[i], &jbuf[i]);
    scen_opts o;
    sft_err e = {0};
    int rc = scen_parse(ac, av, "reproduce", &o, extra, &x, help, &e);
    free(av);
    for (int i = 0; i < argc; i++) free(jbuf[i]);
    free(jbuf);
    if (rc < 0) return 0;
    if (rc) return cli_report(&e);
    for (int i = 0; i < SO_NOPTS; i++)
        if (o.v[i] && i != SO_STEPS && i != SO_SEED && i != SO_GRANULARITY && i != SO_CALIBRATION &&
            i != SO_HOST_OVERHEAD)
            return cli_usage_error("reproduce",
                                   "--%s: the experiment fixes it (reproduce takes --steps, "
                                   "--seed, --granularity, --calibration, --host-overhead-ms)",
                                   scen_opt_name(i));
    o.v[SO_CLUSTER] = "h100x32";
    pool_point pts[NSET];
    char outdirs[NSET][4096];
    /* every setting resolves (the options given are valid for each) and
     * every output directory is ready (cleared of a killed run's
     * temporaries) before the first setting runs */
    for (int s = 0; s < NSET; s++) {
        scen_opts so = o;
        so.v[SO_MODEL] = settings[s].model;
        so.v[SO_DATASET] = settings[s].dataset;
        so.v[SO_DP] = settings[s].dp;
        so.v[SO_CP] = settings[s].cp;
        so.v[SO_BATCH] = settings[s].batch;
        so.v[SO_BUCKET] = settings[s].bucket;
        scenario sc;
        if (scen_resolve(&so, &sc, &e)) return cli_report(&e);
        scen_release(&sc);
    }
    if (o.out && sft_outdir_prepare("--out", o.out, &e)) return cli_report(&e);
    for (int s = 0; s < NSET; s++) {
        memset(&pts[s], 0, sizeof pts[s]);
        pts[s].v[SO_MODEL] = settings[s].model;
        pts[s].v[SO_DATASET] = settings[s].dataset;
        pts[s].v[SO_DP] = settings[s].dp;
        pts[s].v[SO_CP] = settings[s].cp;
        pts[s].v[SO_BATCH] = settings[s].batch;
        pts[s].v[SO_BUCKET] = settings[s].bucket;
        if (o.out) {
            snprintf(outdirs[s], sizeof outdirs[s], "%s/%s-%s", o.out, settings[s].model,
                     settings[s].dataset);
            pts[s].out = outdirs[s];
            if (sft_outdir_prepare("--out", outdirs[s], &e)) return cli_report(&e);
        }
    }
    static const char *const pol_packed[] = {"deepspeed", "sorted", "skrull"};
    static const char *const pol_unpacked[] = {"deepspeed"};
    double t0 = sft_wall();
    int root = 1;
    for (x.pass = 0; x.pass < 2 && !rc; x.pass++) {
        o.v[SO_DS_PACK] = x.pass ? "off" : "on";
        if (x.pass)
            for (int s = 0; s < NSET; s++) pts[s].out = NULL;
        pool_cfg cfg = {&o,
                        pts,
                        NSET,
                        x.pass ? pol_unpacked : pol_packed,
                        x.pass ? 1 : 3,
                        (int)x.jobs,
                        NULL,
                        o.fmt != SCEN_JSON,
                        on_point,
                        &x};
        rc = pool_run(&cfg, &root, &e);
    }
    double wall = sft_wall() - t0;
    if (!rc) {
        cJSON *j = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(j, "settings");
        double sum_p = 0, sum_u = 0, max_p = 0, max_u = 0;
        int n_p = 0, n_u = 0;
        if (o.fmt != SCEN_JSON) {
            printf("sftsim reproduce skrull: the Skrull paper's six settings on h100x32, %s steps "
                   "each (%.0f s)\n",
                   o.v[SO_STEPS] ? o.v[SO_STEPS] : "4", wall);
            printf("%-17s %6s %9s | %10s %10s %10s %10s | %12s %12s\n", "setting", "DPxCP",
                   "bucket", "DS packed", "DS 1/mb", "sorted", "skrull", "skrull/DSpk",
                   "skrull/DS1mb");
        }
        for (int s = 0; s < NSET; s++) {
            const cJSON *A = x.rows[0][s], *B = x.rows[1][s];
            double dp = field(A, "deepspeed", "mean_step_time_s");
            double du = field(B, "deepspeed", "mean_step_time_s");
            double so = field(A, "sorted", "mean_step_time_s");
            double sk = field(A, "skrull", "mean_step_time_s");
            double spp = sk > 0 ? dp / sk : 0, spu = sk > 0 ? du / sk : 0;
            if (spp > 0) {
                sum_p += spp;
                n_p++;
                if (spp > max_p) max_p = spp;
            }
            if (spu > 0) {
                sum_u += spu;
                n_u++;
                if (spu > max_u) max_u = spu;
            }
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "setting", settings[s].label);
            cJSON_AddStringToObject(r, "model", settings[s].model);
            cJSON_AddStringToObject(r, "dataset", settings[s].dataset);
            cJSON_AddNumberToObject(r, "dp", atoi(settings[s].dp));
            cJSON_AddNumberToObject(r, "cp", atoi(settings[s].cp));
            cJSON_AddNumberToObject(r, "batch", atoi(settings[s].batch));
            cJSON_AddNumberToObject(r, "bucket", atoi(settings[s].bucket));
            cJSON_AddNumberToObject(r, "deepspeed_packed_s", dp);
            cJSON_AddNumberToObject(r, "deepspeed_unpacked_s", du);
            cJSON_AddNumberToObject(r, "sorted_s", so);
            cJSON_AddNumberToObject(r, "skrull_s", sk);
            cJSON_AddNumberToObject(r, "speedup_vs_packed", spp);
            cJSON_AddNumberToObject(r, "speedup_vs_unpacked", spu);
            cJSON_AddBoolToObject(r, "skrull_oom", oom(A, "skrull"));
            cJSON_AddBoolToObject(r, "deepspeed_oom", oom(A, "deepspeed") || oom(B, "deepspeed"));
            cJSON_AddItemReferenceToObject(r, "rows_packed", (cJSON *)A);
            cJSON_AddItemReferenceToObject(r, "rows_unpacked", (cJSON *)B);
            cJSON_AddItemToArray(arr, r);
            if (o.fmt != SCEN_JSON)
                printf("%-17s %3sx%-2s %9s | %10.4f %10.4f %10.4f %10.4f | %11.2fx %11.2fx%s\n",
                       settings[s].label, settings[s].dp, settings[s].cp, settings[s].bucket, dp,
                       du, so, sk, spp, spu, oom(A, "skrull") ? "  (skrull OOM)" : "");
        }
        cJSON *h = cJSON_AddObjectToObject(j, "headline");
        cJSON_AddNumberToObject(h, "paper_mean_speedup", 3.76);
        cJSON_AddNumberToObject(h, "paper_max_speedup", 7.54);
        cJSON_AddNumberToObject(h, "mean_speedup_vs_packed", n_p ? sum_p / n_p : 0);
        cJSON_AddNumberToObject(h, "max_speedup_vs_packed", max_p);
        cJSON_AddNumberToObject(h, "mean_speedup_vs_unpacked", n_u ? sum_u / n_u : 0);
        cJSON_AddNumberToObject(h, "max_speedup_vs_unpacked", max_u);
        if (o.fmt == SCEN_JSON) {
            cli_print_json(cJSON_Duplicate(j, 1));
        } else {
            printf("skrull vs deepspeed: mean %.2fx, max %.2fx (packed baseline); mean %.2fx, max "
                   "%.2fx (one sequence per micro-batch). Paper: 3.76x mean, 7.54x max.\n",
                   n_p ? sum_p / n_p : 0, max_p, n_u ? sum_u / n_u : 0, max_u);
        }
        if (o.out) {
            char path[4096];
            snprintf(path, sizeof path, "%s/reproduce.json", o.out);
            char *text = cJSON_Print(j);
            rc = sft_write_file(path, text, strlen(text), &e);
            free(text);
        }
        cJSON_Delete(j);
    }
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < NSET; s++) cJSON_Delete(x.rows[p][s]);
    return rc ? cli_report(&e) : 0;
}
