/* val_paper.c — `sftsim-validate paper`: simulated against published figures
 * (the figures the team's reference notes collect). Now: the Skrull paper's Table 5 (arXiv
 * 2505.19609, Appendix C; Skrull, arXiv 2505.19609, Appendix C), latencies of 8-GPU collectives on
 * the paper's H100 cluster from 2 MB to 1 GB (MB = 2^20 bytes), against the
 * h100x32 preset (calibrated to that table) or another cluster.
 *
 * Each collective is simulated in a child process (base/iso.h): SimGrid
 * allows one platform per process. Errors are in percent: 100 (simulated /
 * published - 1). Invariant: rows in the table's order (operation, then size).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/collsim.h"
#include "base/iso.h"
#include "validate/val.h"

#define T5_GPUS  8
#define T5_SIZES 10

/* Skrull Table 5, microseconds; sizes 2 MB * 2^i. */
static const int t5_ops[4] = {COLL_ALL_GATHER, COLL_ALL_TO_ALL, COLL_REDUCE_SCATTER,
                              COLL_ALL_REDUCE};
static const double t5_us[4][T5_SIZES] = {
    {53.29, 72.52, 97.86, 199.3, 286.2, 488.6, 910.6, 1758.4, 3416.4, 6467.9},
    {80.62, 78.63, 110.9, 163.2, 277.5, 502.4, 939.2, 1803.9, 3411.2, 6629.6},
    {59.48, 79.26, 104.7, 177.4, 269.5, 458.8, 864.3, 1663.9, 3239.5, 6294.3},
    {84.65, 113.3, 168.4, 312.2, 479.2, 859.7, 1642.9, 3197.9, 6181.2, 12126}};

typedef struct job {
    const char *cluster;
    int op;
    const double *sizes;
} job;

static void help(void)
{
    printf(
        "usage: sftsim-validate paper [--cluster NAME|FILE] [--format text|json]\n\n"
        "Simulates published figures (today the Skrull paper's Table 5) and prints simulated vs\n"
        "published with the relative error (percent: 100 x (simulated / published - 1))\n"
        "and the worst error. Now: the Skrull paper's Table 5, latency of all_gather,\n"
        "all_to_all, reduce_scatter and all_reduce over 8 GPUs, 2 MB .. 1 GB\n"
        "(MB = 2^20 bytes).\n\n"
        "  --cluster C  the simulated cluster (default h100x32, the preset calibrated to\n"
        "               that table)\n"
        "  --format F   text (default) or json:\n"
        "               "
        "{\"table\",\"cluster\",\"gpus\",\"worst_error\",\"rows\":[{\"op\",\"bytes\",\n"
        "               \"simulated_us\",\"published_us\",\"error\"}]}\n");
}

/* In the child: one collective at every size, one "time_s" line each. */
static int child(void *arg, FILE *out)
{
    const job *j = arg;
    clu_desc c;
    sft_err e = {0};
    collsim_row rows[T5_SIZES];
    if (clu_load(j->cluster, &c, &e) || clu_scale(&c, T5_GPUS, &e) ||
        collsim_run(&c, j->op, T5_GPUS, j->sizes, T5_SIZES, rows, NULL, &e))
        return val_report(&e);
    for (int k = 0; k < T5_SIZES; k++) fprintf(out, "%.17g\n", rows[k].time_s);
    return 0;
}

/* Simulates op at every size into t_us. */
static sft_status simulate(const char *cluster, int op, const double *sizes, double *t_us,
                           sft_err *e)
{
    job j = {cluster, op, sizes};
    char *out = NULL, *p, *end;
    int code = 0;
    sft_status st = iso_run(child, &j, &out, NULL, &code, e);
    if (st) return st;
    if (code != 0) {
        free(out);
        /* the child printed its message; keep its status (2: a bad cluster) */
        return sft_errf(e, code == SFT_EINPUT ? SFT_EINPUT : SFT_EINTERNAL,
                        "paper: simulating %s on %s failed (exit %d)", coll_op_name(op), cluster,
                        code);
    }
    p = out;
    for (int k = 0; k < T5_SIZES; k++) {
        t_us[k] = strtod(p, &end) * 1e6;
        if (end == p) {
            free(out);
            return sft_errf(e, SFT_EINTERNAL, "paper: %s: the simulation returned %d of %d rows",
                            coll_op_name(op), k, T5_SIZES);
        }
        p = end;
    }
    free(out);
    return SFT_OK;
}

int val_paper(int argc, char **argv)
{
    static const struct option lo[] = {{"cluster", required_argument, 0, 'c'},
                                       {"format", required_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *cluster = "h100x32";
    scen_format fmt = SCEN_TEXT;
    int ch;
    sft_err e = {0};
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 'c':
            cluster = optarg;
            break;
        case 'f':
            if (scen_parse_format(optarg, 0, &fmt, &e)) return val_report(&e);
            break;
        case 'h':
            help();
            return 0;
        default:
            return val_usage_error("paper", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return val_usage_error("paper", "unexpected argument '%s'", argv[optind]);
    /* a bad cluster is reported here, not once per child */
    clu_desc c;
    if (clu_load(cluster, &c, &e) || clu_scale(&c, T5_GPUS, &e)) return val_report(&e);

    double sizes[T5_SIZES], sim[4][T5_SIZES], worst = 0;
    for (int k = 0; k < T5_SIZES; k++) sizes[k] = 2097152.0 * (double)(1 << k);
    for (int o = 0; o < 4; o++)
        if (simulate(cluster, t5_ops[o], sizes, sim[o], &e)) return val_report(&e);
    for (int o = 0; o < 4; o++)
        for (int k = 0; k < T5_SIZES; k++) worst = fmax(worst, fabs(sim[o][k] / t5_us[o][k] - 1));

    if (fmt == SCEN_JSON) {
        cJSON *j = cJSON_CreateObject(), *rows;
        cJSON_AddStringToObject(j, "table",
                                "Skrull (arXiv 2505.19609) Table 5: collective latency");
        cJSON_AddStringToObject(j, "cluster", c.name);
        cJSON_AddNumberToObject(j, "gpus", T5_GPUS);
        cJSON_AddNumberToObject(j, "worst_error", round(1e4 * worst) / 100);
        rows = cJSON_AddArrayToObject(j, "rows");
        for (int o = 0; o < 4; o++)
            for (int k = 0; k < T5_SIZES; k++) {
                cJSON *r = cJSON_CreateObject();
                cJSON_AddStringToObject(r, "op", coll_op_name(t5_ops[o]));
                cJSON_AddNumberToObject(r, "bytes", sizes[k]);
                cJSON_AddNumberToObject(r, "simulated_us", round(sim[o][k] * 100) / 100);
                cJSON_AddNumberToObject(r, "published_us", t5_us[o][k]);
                cJSON_AddNumberToObject(r, "error",
                                        round(1e4 * (sim[o][k] / t5_us[o][k] - 1)) / 100);
                cJSON_AddItemToArray(rows, r);
            }
        cli_print_json(j);
        return 0;
    }
    printf("# Skrull (arXiv 2505.19609) Table 5: latency (us) of %d-GPU collectives, simulated on "
           "%s vs published\n",
           T5_GPUS, c.name);
    printf("# %6s |", "");
    for (int o = 0; o < 4; o++) printf(" %-27s |", coll_op_name(t5_ops[o]));
    printf("\n# %6s |", "size");
    for (int o = 0; o < 4; o++) printf(" %9s %9s %7s |", "sim", "paper", "err");
    printf("\n");
    for (int k = 0; k < T5_SIZES; k++) {
        printf("  %4dMB |", 2 << k);
        for (int o = 0; o < 4; o++)
            printf(" %9.1f %9.1f %+6.1f%% |", sim[o][k], t5_us[o][k],
                   100 * (sim[o][k] / t5_us[o][k] - 1));
        printf("\n");
    }
    printf("worst relative error: %.1f%%\n", 100 * worst);
    return 0;
}
