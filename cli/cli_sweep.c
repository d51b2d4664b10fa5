/* cli_sweep.c — `sftsim sweep`: what-if grids over any scenario option
 * (lab/sweep.h: the grid, its checks, --resume, the pool, the files). This
 * file parses the options and prints the rows: one JSON document or a
 * table. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "lab/pool.h"
#include "lab/scenario.h"
#include "lab/sweep.h"

typedef struct sw_opts {
    const char *policies;
    long jobs;
    int resume;
} sw_opts;

static sft_status set_policies(void *ctx, const char *arg, sft_err *e)
{
    (void)e;
    ((sw_opts *)ctx)->policies = arg;
    return 0;
}

static sft_status set_jobs(void *ctx, const char *arg, sft_err *e)
{
    return cli_parse_jobs(arg, &((sw_opts *)ctx)->jobs, e);
}

static sft_status set_resume(void *ctx, const char *arg, sft_err *e)
{
    (void)arg;
    (void)e;
    ((sw_opts *)ctx)->resume = 1;
    return 0;
}

static void help(void)
{
    printf("usage: sftsim sweep [-j N] [--resume] [--policies a,b] [--out DIR] [options]\n\n"
           "Runs the grid of every combination of comma-listed scenario options (e.g.\n"
           "--gpus 8,16,32 --cp 4,8 --dataset wikipedia,chatqa2) under each policy\n"
           "(default deepspeed,skrull) and prints one row per point and policy. Points that\n"
           "cannot run (impossible degrees, a sequence that cannot fit) or run out of\n"
           "memory are rows with a status and a reason, not failures of the sweep; a value\n"
           "that is bad on its own (--gpus 8,abc, an empty item, an unknown model) is an\n"
           "error before anything runs.\n\n"
           "  -j N, --jobs N   worker processes (default: the core count); under mpirun the\n"
           "                   points are dealt to the ranks, rank 0 writes the files\n"
           "  --out DIR        sweep.json, sweep.csv, sweep.h5, sweep.png and sweep.svg,\n"
           "                   rewritten as points complete (in point order); sweep.json\n"
           "                   records each point's resolved scenario and the version\n"
           "  --resume         reuse the points DIR/sweep.json already holds (those with an\n"
           "                   error row run again); refused when the version, the policies,\n"
           "                   the grid or any point's scenario differs from that run's\n\n");
    scen_help();
}

static void print_table(const cJSON *doc)
{
    printf("%-6s %-40s %-10s %-10s %10s %8s %6s %s\n", "point", "options", "policy", "status",
           "step(s)", "speedup", "MFU", "reason");
    for (const cJSON *r = cJSON_GetObjectItem(doc, "points")->child; r; r = r->next) {
        const cJSON *t = cJSON_GetObjectItem(r, "mean_step_time_s");
        const cJSON *sp = cJSON_GetObjectItem(r, "speedup_vs_deepspeed");
        const cJSON *mfu = cJSON_GetObjectItem(r, "mfu");
        char ts[32] = "-", ss[32] = "-", ms[32] = "-";
        if (cJSON_IsNumber(t)) snprintf(ts, sizeof ts, "%.4f", t->valuedouble);
        if (cJSON_IsNumber(sp)) snprintf(ss, sizeof ss, "%.2fx", sp->valuedouble);
        if (cJSON_IsNumber(mfu)) snprintf(ms, sizeof ms, "%.1f%%", 100 * mfu->valuedouble);
        printf("%-6d %-40s %-10s %-10s %10s %8s %6s %s\n",
               cJSON_GetObjectItem(r, "point")->valueint,
               cJSON_GetObjectItem(r, "key")->valuestring,
               cJSON_GetObjectItem(r, "policy")->valuestring,
               cJSON_GetObjectItem(r, "status")->valuestring, ts, ss, ms,
               cJSON_GetObjectItem(r, "reason")->valuestring);
    }
}

int cli_sweep(int argc, char **argv)
{
    static const scen_extra extra[] = {{"policies", 1, set_policies},
                                       {"jobs", 1, set_jobs},
                                       {"resume", 0, set_resume},
                                       {NULL, 0, NULL}};
    sw_opts x = {"deepspeed,skrull", cli_default_jobs(), 0};
    int ac;
    char **av = cli_jobs_argv(argc, argv, 0, &ac);
    pool_mpi_init(&argc, &argv);
    scen_opts o;
    sft_err e = {0};
    sft_status rc = scen_parse(ac, av, "sweep", &o, extra, &x, help, &e);
    cli_jobs_argv_free(av);
    if (!rc && o.helped) {
        pool_mpi_finalize();
        return 0;
    }
    sweep *w = NULL;
    int root = 0;
    if (!rc) rc = sweep_create(&o, x.policies, x.resume, &w, &e);
    if (!rc) rc = sweep_run(w, (int)x.jobs, o.fmt != SCEN_JSON, &root, &e);
    if (!rc && root) {
        if (o.fmt == SCEN_JSON) {
            cli_print_json(sweep_doc(w));
        } else {
            cJSON *doc = sweep_doc(w);
            print_table(doc);
            cJSON_Delete(doc);
        }
    }
    sweep_destroy(w);
    pool_mpi_finalize();
    return rc ? cli_report(&e) : 0;
}
