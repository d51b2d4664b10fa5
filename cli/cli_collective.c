/* cli_collective.c — `sftsim collective`: an nccl-tests style table of one
 * collective on the simulated platform (size, time, algbw, busbw). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/cluster.h"
#include "sim/collsim.h"

static void help(void)
{
    printf("usage: sftsim collective --op OP --gpus N [--cluster NAME|FILE] [--sizes SPEC]\n"
           "                         [--format text|json]\n\n"
           "Simulates one collective over GPUs 0..N-1 of the cluster (scaled to N GPUs)\n"
           "and prints an nccl-tests style table.\n\n"
           "  --op OP        all_gather, reduce_scatter, all_reduce, all_to_all, broadcast,\n"
           "                 sendrecv, ring_shift\n"
           "  --gpus N       GPUs taking part (whole nodes when N exceeds a node);\n"
           "                 sendrecv sends from GPU 0 to GPU N-1\n"
           "  --cluster C    preset name (sftsim list clusters) or cluster JSON file\n"
           "                 (default h100x8)\n"
           "  --sizes SPEC   A:B = powers of two from A to B; or a comma list; suffixes K,M,G\n"
           "                 (binary); default 2M:1G\n"
           "  --format F     text (default) or json\n\n"
           "size is nccl-tests' size: all_gather output, reduce_scatter input, all_to_all\n"
           "bytes sent per rank. algbw = size / time; busbw = algbw x factor with factor\n"
           "2(n-1)/n for all_reduce, (n-1)/n for all_gather, reduce_scatter, all_to_all,\n"
           "1 for broadcast and sendrecv.\n");
}

/* A message size must be a whole number of bytes a GPU could send: past
 * 1 TiB no cluster of ours holds the buffer, and doubles stop being exact. */
#define SIZE_MAX_BYTES 1099511627776.0
#define SIZES_MAX      64

/* One size of spec into *v; item (borrowed) is quoted in the message. */
static sft_status one_size(const char *spec, const char *item, double *v, sft_err *e)
{
    double s = sft_parse_bytes(item);
    if (s < 1 || s > SIZE_MAX_BYTES || s != floor(s))
        return sft_errf(e, SFT_EINPUT,
                        "--sizes %s: '%s' is not a byte size in [1, 1T] (a whole number of bytes, "
                        "e.g. 4096, 2M, 1G)",
                        spec, item);
    *v = s;
    return SFT_OK;
}

static sft_status parse_sizes(const char *spec, double **out, int *n, sft_err *e)
{
    double *v = sft_xcalloc(SIZES_MAX, sizeof *v);
    int k = 0;
    char *dup = sft_xstrdup(spec);
    sft_status st = SFT_OK;
    char *colon = strchr(dup, ':');
    if (colon) {
        *colon = '\0';
        double lo = 0, hi = 0;
        if ((st = one_size(spec, dup, &lo, e)) || (st = one_size(spec, colon + 1, &hi, e)))
            goto done;
        if (hi < lo) {
            st = sft_errf(e, SFT_EINPUT, "--sizes %s: expected A:B with A <= B (e.g. 2M:1G)", spec);
            goto done;
        }
        for (double s = lo; s <= hi && k < SIZES_MAX; s *= 2) v[k++] = s;
    } else {
        /* every item, empty ones included: "4K,,8K" and "4K," are mistakes */
        char *t = dup;
        for (;;) {
            char *comma = strchr(t, ',');
            if (comma) *comma = '\0';
            if (k == SIZES_MAX) {
                st = sft_errf(e, SFT_EINPUT, "--sizes %s: at most %d sizes", spec, SIZES_MAX);
                goto done;
            }
            if ((st = one_size(spec, t, &v[k], e))) goto done;
            k++;
            if (!comma) break;
            t = comma + 1;
        }
    }
done:
    free(dup);
    if (st) {
        free(v);
        return st;
    }
    *out = v;
    *n = k;
    return SFT_OK;
}

int cli_collective(int argc, char **argv)
{
    static const struct option opts[] = {{"op", required_argument, 0, 'o'},
                                         {"gpus", required_argument, 0, 'g'},
                                         {"cluster", required_argument, 0, 'c'},
                                         {"sizes", required_argument, 0, 's'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *opname = NULL, *cluster = "h100x8", *sizes = "2M:1G", *gpus = NULL;
    scen_format fmt = SCEN_TEXT;
    sft_err e = {0};
    int ch;
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            opname = optarg;
            break;
        case 'g':
            gpus = optarg;
            break;
        case 'c':
            cluster = optarg;
            break;
        case 's':
            sizes = optarg;
            break;
        case 'f':
            if (scen_parse_format(optarg, 0, &fmt, &e)) return cli_report(&e);
            break;
        case 'h':
            help();
            return 0;
        default:
            return cli_usage_error("collective", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("collective", "unexpected argument '%s'", argv[optind]);
    if (!opname) return cli_usage_error("collective", "--op is required");
    int op = coll_op_parse(opname);
    if (op < 0)
        return cli_usage_error("collective",
                               "--op %s: valid operations are all_gather, reduce_scatter, "
                               "all_reduce, all_to_all, broadcast, sendrecv, ring_shift",
                               opname);
    if (!gpus) return cli_usage_error("collective", "--gpus is required");
    long n;
    if (sft_parse_long(gpus, 1, 131072, &n) != 0) /* clu_scale's bound */
        return cli_usage_error("collective", "--gpus %s: expected an integer in [1, 131072]", gpus);

    clu_desc c;
    double *sz = NULL;
    int nsz = 0;
    if (clu_load(cluster, &c, &e) || clu_scale(&c, n, &e) || parse_sizes(sizes, &sz, &nsz, &e))
        return cli_report(&e);
    collsim_row *rows = sft_xcalloc((size_t)nsz, sizeof *rows);
    sft_status st = collsim_run(&c, op, (int)n, sz, nsz, rows, NULL, &e);
    if (st) {
        free(rows);
        free(sz);
        return cli_report(&e);
    }
    if (fmt == SCEN_JSON) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "op", coll_op_name(op));
        cJSON_AddNumberToObject(j, "gpus", (double)n);
        cJSON_AddStringToObject(j, "cluster", c.name);
        cJSON *arr = cJSON_AddArrayToObject(j, "rows");
        for (int k = 0; k < nsz; k++) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "bytes", rows[k].bytes);
            cJSON_AddNumberToObject(r, "time_us", rows[k].time_s * 1e6);
            cJSON_AddNumberToObject(r, "algbw_gbps", rows[k].algbw / 1e9);
            cJSON_AddNumberToObject(r, "busbw_gbps", rows[k].busbw / 1e9);
            cJSON_AddItemToArray(arr, r);
        }
        cli_print_json(j);
    } else {
        printf("# sftsim collective: %s on %ld GPUs of %s (%d node%s x %d %s)\n", coll_op_name(op),
               n, c.name, c.nodes, c.nodes > 1 ? "s" : "", c.gpus_per_node, c.gpu.name);
        printf("# %14s %12s %12s %12s\n", "size(B)", "time(us)", "algbw(GB/s)", "busbw(GB/s)");
        for (int k = 0; k < nsz; k++)
            printf("  %14.0f %12.2f %12.2f %12.2f\n", rows[k].bytes, rows[k].time_s * 1e6,
                   rows[k].algbw / 1e9, rows[k].busbw / 1e9);
    }
    free(rows);
    free(sz);
    return 0;
}
