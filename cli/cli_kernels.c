/* cli_kernels.c — `sftsim kernels attn-cp`: what the kernel cost model
 * charges one CP rank for the causal attention of one sequence sharded over
 * CP ranks (Skrull, arXiv 2505.19609, the effect of the Skrull paper's Figure 1b: a
 * short sequence split over many GPUs runs small, inefficient kernels).
 * Parses, calls models/ (llm_attn_cp), prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/scen_values.h"
#include "models/hw/cost.h"
#include "models/llm/arch.h"
#include "models/llm/opcost.h"

#define MAX_ITEMS 64
#define MAX_LEN   10000000 /* calib.c TOK_WHY: the longest sample a trace may hold */

static void help(void)
{
    printf("usage: sftsim kernels attn-cp [--model M] [--gpu G] [--calibration C]\n"
           "                              [--len L,...] [--cp N,...] [--format text|json]\n\n"
           "For a causal sequence of L tokens sharded over N context-parallel ranks in\n"
           "load-balanced chunks (the K/V all-gather and ring flavours), one rank's\n"
           "attention kernel as the simulator charges it: forward and backward time\n"
           "(launch gap included), the throughput the calibration gives the kernel\n"
           "(TFLOPS, model FLOPs over the time without the launch gap), and the slowdown\n"
           "per token against N = 1: N x (fwd + bwd time) / (fwd + bwd time at N = 1).\n\n"
           "  --model M        decoder model name or file (%s; sftsim list models)\n"
           "  --gpu G          GPU name or file (h100-sxm; sftsim list gpus)\n"
           "  --calibration C  kernel calibration table (default: the GPU's)\n"
           "  --len L,...      sequence lengths in tokens, 1..%d (1024,4096,32768)\n"
           "  --cp N,...       CP degrees, 1..64 (1,2,4,8,16)\n"
           "  --format F       text (default) or json\n",
           scen_default.model, MAX_LEN);
}

/* A comma list of integers in [lo, hi] into v (at most MAX_ITEMS). */
static sft_status int_list(const char *opt, const char *list, long lo, long hi, long *v, int *n,
                           sft_err *e)
{
    char *buf = NULL;
    const char **items = NULL;
    int k = 0;
    sft_status st = cli_parse_list(opt, list, &buf, &items, &k, e);
    if (!st && k > MAX_ITEMS)
        st = sft_errf(e, SFT_EINPUT, "%s %s: at most %d items", opt, list, MAX_ITEMS);
    for (int i = 0; !st && i < k; i++)
        if (sft_parse_long(items[i], lo, hi, &v[i]) != 0)
            st = sft_errf(e, SFT_EINPUT, "%s %s: item '%s': expected an integer in [%ld, %ld]", opt,
                          list, items[i], lo, hi);
    free(buf);
    free(items);
    *n = k;
    return st;
}

static int attn_cp(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"gpu", required_argument, 0, 'g'},
                                         {"calibration", required_argument, 0, 'c'},
                                         {"len", required_argument, 0, 'l'},
                                         {"cp", required_argument, 0, 'p'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = scen_default.model, *gpu = "h100-sxm", *calib = NULL;
    const char *lens = "1024,4096,32768", *cps = "1,2,4,8,16";
    scen_format fmt = SCEN_TEXT;
    sft_err e = {0};
    int ch;
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            model = optarg;
            break;
        case 'g':
            gpu = optarg;
            break;
        case 'c':
            calib = optarg;
            break;
        case 'l':
            lens = optarg;
            break;
        case 'p':
            cps = optarg;
            break;
        case 'f':
            if (scen_parse_format(optarg, 0, &fmt, &e)) return cli_report(&e);
            break;
        case 'h':
            help();
            return 0;
        default:
            return cli_usage_error("kernels attn-cp", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("kernels attn-cp", "unexpected argument '%s'", argv[optind]);
    long len[MAX_ITEMS], cp[MAX_ITEMS];
    int nlen = 0, ncp = 0;
    const scen_value_rule *cr = scen_value_rule_of("cp");
    if (int_list("--len", lens, 1, MAX_LEN, len, &nlen, &e) ||
        int_list("--cp", cps, (long)cr->lo, (long)cr->hi, cp, &ncp, &e))
        return cli_report(&e);
    arch a;
    hw_gpu g;
    cost *c = NULL;
    if (arch_load(model, &a, &e) || hw_gpu_load(gpu, &g, &e) || cost_create(&g, calib, &c, &e))
        return cli_report(&e);
    cJSON *j = NULL, *rows = NULL;
    if (fmt == SCEN_JSON) {
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", a.name);
        cJSON_AddStringToObject(j, "gpu", g.name);
        cJSON_AddStringToObject(j, "calibration", cost_calibration(c));
        cJSON_AddNumberToObject(j, "launch_us", g.launch_s * 1e6);
        rows = cJSON_AddArrayToObject(j, "rows");
    } else {
        printf("# sftsim kernels attn-cp: %s on %s (%s), causal, one sequence per kernel,\n"
               "# load-balanced CP shards; times include the %.1f us launch gap, TFLOPS do not;\n"
               "# slowdown = cp x (fwd+bwd) / (fwd+bwd at cp 1) per token\n",
               a.name, g.name, cost_calibration(c), g.launch_s * 1e6);
        printf("# %7s %3s %8s %10s %9s %10s %9s %9s\n", "len", "cp", "q/rank", "fwd(us)", "fwd_TF",
               "bwd(us)", "bwd_TF", "slowdown");
    }
    for (int i = 0; i < nlen; i++)
        for (int k = 0; k < ncp; k++) {
            llm_attn_cp_pt pt;
            llm_attn_cp(c, &a, (double)len[i], (int)cp[k], &pt);
            if (j) {
                cJSON *r = cJSON_CreateObject();
                cJSON_AddNumberToObject(r, "len", (double)len[i]);
                cJSON_AddNumberToObject(r, "cp", (double)cp[k]);
                cJSON_AddNumberToObject(r, "q_tokens", pt.q);
                cJSON_AddNumberToObject(r, "k_tokens", pt.k);
                cJSON_AddNumberToObject(r, "fwd_time_us", pt.time_s[0] * 1e6);
                cJSON_AddNumberToObject(r, "fwd_tflops", pt.tflops[0]);
                cJSON_AddNumberToObject(r, "fwd_tflops_with_launch", pt.tflops_eff[0]);
                cJSON_AddNumberToObject(r, "bwd_time_us", pt.time_s[1] * 1e6);
                cJSON_AddNumberToObject(r, "bwd_tflops", pt.tflops[1]);
                cJSON_AddNumberToObject(r, "bwd_tflops_with_launch", pt.tflops_eff[1]);
                cJSON_AddNumberToObject(r, "slowdown", pt.slowdown);
                cJSON_AddItemToArray(rows, r);
            } else {
                printf("  %7ld %3ld %8.0f %10.2f %9.1f %10.2f %9.1f %9.2f\n", len[i], cp[k], pt.q,
                       pt.time_s[0] * 1e6, pt.tflops[0], pt.time_s[1] * 1e6, pt.tflops[1],
                       pt.slowdown);
            }
        }
    if (j) cli_print_json(j);
    cost_destroy(c);
    return 0;
}

int cli_kernels(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        help();
        return 0;
    }
    if (argc < 2) return cli_usage_error("kernels", "expected a table: attn-cp");
    if (strcmp(argv[1], "attn-cp") == 0) return attn_cp(argc - 1, argv + 1);
    return cli_usage_error("kernels", "'%s': valid tables are attn-cp", argv[1]);
}
