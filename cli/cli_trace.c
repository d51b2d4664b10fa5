/* cli_trace.c — `sftsim trace gen|stats`: make a step trace from a dataset's
 * length distribution, and show the length statistics of a trace file or a
 * dataset (ARCHITECTURE.md, "Contracts"). The trace itself goes to stdout only when gen has no
 * -o; everything human goes to stderr, so stdout stays a clean trace or
 * table or JSON document.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "traces/trace.h"

#define MAX_STEPS   100000000L
#define MAX_SAMPLES 100000000L
#define MAX_DP      65536L

static void help(void)
{
    printf("usage: sftsim trace gen [--dataset NAME|FILE] [--steps N] [--batch K] [--dp D]\n"
           "                        [--seed S] [-o FILE]\n"
           "       sftsim trace stats FILE|- [--batch K] [--dp D] [--format text|json]\n"
           "       sftsim trace stats --dataset NAME|FILE [--samples N] [--seed S]\n"
           "                        [--batch K] [--dp D] [--format text|json]\n\n"
           "gen draws N global batches of K x D lengths from a dataset's length distribution\n"
           "(sftsim list datasets, or a dataset JSON file) and writes the JSONL trace, one\n"
           "batch per line: {\"step\":0,\"samples\":[{\"id\":0,\"len\":812},...]}; ids run from 0\n"
           "across the trace. The same seed gives the same file, byte for byte.\n\n"
           "stats reads a JSONL trace, a file of lengths (one integer per line) or JSONL\n"
           "records with len, length or num_tokens (grouped K x D per step in file order),\n"
           "or draws --samples lengths from a dataset, and prints count, mean, nearest-rank\n"
           "p50/p90/p99, longest, cumulative %% below 1K/4K/8K/32K/128K (K = 1024 tokens),\n"
           "tokens per step and a histogram over power-of-two length bins.\n\n"
           "  --dataset D    built-in name or dataset JSON (gen default: %s)\n"
           "  --steps N      global batches to generate (default 4)\n"
           "  --batch K      sequences per DP rank (default 64)\n"
           "  --dp D         data-parallel ranks; a step holds K x D samples (default 1)\n"
           "  --seed S       0..%lu (default 0)\n"
           "  --samples N    stats --dataset: lengths to draw (default 100000)\n"
           "  -o, --output F gen: write the trace to F (atomically) instead of stdout\n"
           "  --format F     stats: text (default) or json\n",
           TRACE_DEFAULT_DATASET, TRACE_SEED_MAX);
}

/* Options shared by gen and stats; 0 in a numeric field = not given. */
typedef struct trace_opts {
    const char *dataset, *output, *file;
    long steps, batch, dp, samples;
    unsigned long seed;
    int seed_given;
    scen_format fmt;
} trace_opts;

static int parse_opts(const char *sub, int argc, char **argv, trace_opts *o)
{
    static const struct option opts[] = {
        {"dataset", required_argument, 0, 'd'}, {"steps", required_argument, 0, 'n'},
        {"batch", required_argument, 0, 'b'},   {"dp", required_argument, 0, 'p'},
        {"seed", required_argument, 0, 's'},    {"samples", required_argument, 0, 'N'},
        {"output", required_argument, 0, 'o'},  {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    sft_err e = {0};
    long v = 0;
    int ch;
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            o->dataset = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'n':
            if (sft_parse_long(optarg, 1, MAX_STEPS, &o->steps))
                return cli_usage_error(sub, "--steps %s: expected an integer in [1, %ld]", optarg,
                                       MAX_STEPS);
            break;
        case 'b':
            if (sft_parse_long(optarg, 1, TRACE_MAX_PER_STEP, &o->batch))
                return cli_usage_error(sub, "--batch %s: expected an integer in [1, %ld]", optarg,
                                       TRACE_MAX_PER_STEP);
            break;
        case 'p':
            if (sft_parse_long(optarg, 1, MAX_DP, &o->dp))
                return cli_usage_error(sub, "--dp %s: expected an integer in [1, %ld]", optarg,
                                       MAX_DP);
            break;
        case 'N':
            if (sft_parse_long(optarg, 1, MAX_SAMPLES, &o->samples))
                return cli_usage_error(sub, "--samples %s: expected an integer in [1, %ld]", optarg,
                                       MAX_SAMPLES);
            break;
        case 's':
            if (sft_parse_long(optarg, 0, (long)TRACE_SEED_MAX, &v))
                return cli_usage_error(sub, "--seed %s: expected an integer in [0, %lu]", optarg,
                                       TRACE_SEED_MAX);
            o->seed = (unsigned long)v;
            o->seed_given = 1;
            break;
        case 'f':
            if (scen_parse_format(optarg, 0, &o->fmt, &e)) return cli_report(&e);
            break;
        case 'h':
            help();
            return -1;
        default:
            return cli_usage_error(sub, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) o->file = argv[optind++];
    if (optind < argc) return cli_usage_error(sub, "unexpected argument '%s'", argv[optind]);
    if (!o->batch) o->batch = 64;
    if (!o->dp) o->dp = 1;
    if (o->batch * o->dp > TRACE_MAX_PER_STEP)
        return cli_usage_error(sub, "--batch %ld x --dp %ld = %ld samples per step: at most %ld",
                               o->batch, o->dp, o->batch * o->dp, TRACE_MAX_PER_STEP);
    return 0;
}

static int trace_gen(int argc, char **argv)
{
    trace_opts o = {0};
    int rc = parse_opts("trace gen", argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.file) return cli_usage_error("trace gen", "unexpected argument '%s'", o.file);
    if (o.samples)
        return cli_usage_error("trace gen", "--samples applies to trace stats; use --steps");
    if (o.fmt != SCEN_TEXT)
        return cli_usage_error("trace gen", "--format applies to trace stats (gen writes JSONL)");
    if (!o.dataset) o.dataset = TRACE_DEFAULT_DATASET;
    if (!o.steps) o.steps = 4;

    sft_err e = {0};
    trace_src *src = NULL;
    trace_writer *w = NULL;
    if (trace_src_dataset(o.dataset, o.steps, o.batch * o.dp, o.seed, &src, &e) ||
        trace_writer_open(o.output, &w, &e)) {
        trace_src_destroy(src);
        return cli_report(&e);
    }
    trace_batch b;
    int eof = 0;
    int64_t samples = 0;
    sft_status st = SFT_OK;
    while (!(st = trace_src_next(src, &b, &eof, &e)) && !eof) {
        samples += (int64_t)b.n;
        if ((st = trace_writer_put(w, &b, &e))) break;
    }
    trace_src_destroy(src);
    if (st) {
        trace_writer_abort(w);
        return cli_report(&e);
    }
    if (trace_writer_close(w, &e)) return cli_report(&e);
    fprintf(stderr,
            "sftsim trace gen: %ld steps x %ld samples = %" PRId64
            " samples of %s (seed %lu) -> %s\n",
            o.steps, o.batch * o.dp, samples, o.dataset, o.seed,
            o.output && strcmp(o.output, "-") != 0 ? o.output : "stdout");
    return 0;
}

static cJSON *summary_json(const trace_opts *o, const trace_src *src, const trace_summary *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "samples", (double)s->samples);
    cJSON_AddNumberToObject(j, "mean", s->mean);
    cJSON_AddNumberToObject(j, "p50", (double)s->p50);
    cJSON_AddNumberToObject(j, "p90", (double)s->p90);
    cJSON_AddNumberToObject(j, "p99", (double)s->p99);
    cJSON_AddNumberToObject(j, "max", (double)s->max);
    cJSON *cdf = cJSON_AddArrayToObject(j, "cdf");
    for (int k = 0; k < TRACE_NCUTS; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "below", (double)s->below[k]);
        cJSON_AddNumberToObject(p, "percent", s->percent[k]);
        cJSON_AddItemToArray(cdf, p);
    }
    cJSON_AddNumberToObject(j, "min", (double)s->min);
    cJSON_AddStringToObject(j, "source", trace_src_origin(src));
    cJSON_AddStringToObject(j, "format", trace_src_format(src));
    if (o->dataset) cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "steps", (double)s->steps);
    cJSON_AddNumberToObject(j, "tokens", (double)s->tokens);
    cJSON_AddNumberToObject(j, "tokens_per_step_mean", s->tokens_per_step_mean);
    cJSON_AddNumberToObject(j, "tokens_per_step_min", (double)s->tokens_per_step_min);
    cJSON_AddNumberToObject(j, "tokens_per_step_max", (double)s->tokens_per_step_max);
    cJSON *h = cJSON_AddArrayToObject(j, "histogram");
    for (int k = 0; k < TRACE_HIST_BINS; k++) {
        if (!s->hist[k]) continue;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "from", (double)(1L << k));
        cJSON_AddNumberToObject(p, "to", (double)(1L << (k + 1)));
        cJSON_AddNumberToObject(p, "count", (double)s->hist[k]);
        cJSON_AddItemToArray(h, p);
    }
    return j;
}

static void summary_text(const trace_opts *o, const trace_src *src, const trace_summary *s)
{
    printf("# sftsim trace stats: %s (%s", trace_src_origin(src), trace_src_format(src));
    if (o->dataset) printf(", seed %lu", o->seed);
    printf(")\n");
    printf("samples          %12" PRId64 "\n", s->samples);
    printf("steps            %12ld\n", s->steps);
    printf("mean             %12.1f tokens\n", s->mean);
    printf("min              %12" PRId64 "\n", s->min);
    printf("p50              %12" PRId64 "\n", s->p50);
    printf("p90              %12" PRId64 "\n", s->p90);
    printf("p99              %12" PRId64 "\n", s->p99);
    printf("max              %12" PRId64 "\n", s->max);
    printf("tokens per step  %12.1f mean, %" PRId64 " min, %" PRId64 " max\n",
           s->tokens_per_step_mean, s->tokens_per_step_min, s->tokens_per_step_max);
    printf("cumulative %% of samples below:\n");
    for (int k = 0; k < TRACE_NCUTS; k++)
        printf("  %4" PRId64 "K (%7" PRId64 ")   %7.2f%%\n", s->below[k] / 1024, s->below[k],
               s->percent[k]);
    int first = 0, last = TRACE_HIST_BINS - 1;
    while (first < last && !s->hist[first]) first++;
    while (last > first && !s->hist[last]) last--;
    int64_t most = 1;
    for (int k = first; k <= last; k++)
        if (s->hist[k] > most) most = s->hist[k];
    printf("histogram (length bins [2^k, 2^(k+1)), bars scaled to the fullest bin):\n");
    for (int k = first; k <= last; k++) {
        int bar = (int)((50 * s->hist[k] + most - 1) / most);
        printf("  %8ld .. %8ld %10" PRId64 " %7.2f%% %.*s\n", 1L << k, (1L << (k + 1)) - 1,
               s->hist[k], 100.0 * (double)s->hist[k] / (double)s->samples, bar,
               "##################################################");
    }
}

static int trace_stats_cmd(int argc, char **argv)
{
    trace_opts o = {0};
    int rc = parse_opts("trace stats", argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.output) return cli_usage_error("trace stats", "-o applies to trace gen");
    if (o.steps)
        return cli_usage_error("trace stats", "--steps applies to trace gen; use --samples");
    if (!o.file == !o.dataset)
        return cli_usage_error("trace stats", "give a trace FILE or --dataset NAME|FILE (one)");
    if (o.file && (o.samples || o.seed_given))
        return cli_usage_error("trace stats", "--samples and --seed apply to --dataset only");

    sft_err e = {0};
    trace_src *src = NULL;
    sft_status st = o.file ? trace_src_file(o.file, o.batch * o.dp, &src, &e)
                           : trace_src_dataset_samples(o.dataset, o.samples ? o.samples : 100000,
                                                       o.batch * o.dp, o.seed, &src, &e);
    if (st) return cli_report(&e);
    trace_stats *acc = trace_stats_create();
    trace_batch b;
    int eof = 0;
    while (!(st = trace_src_next(src, &b, &eof, &e)) && !eof) trace_stats_add(acc, &b);
    if (st) {
        trace_stats_destroy(acc);
        trace_src_destroy(src);
        return cli_report(&e);
    }
    trace_summary s;
    trace_stats_summarize(acc, &s);
    trace_stats_destroy(acc);
    if (o.fmt == SCEN_JSON)
        cli_print_json(summary_json(&o, src, &s));
    else
        summary_text(&o, src, &s);
    trace_src_destroy(src);
    return 0;
}

int cli_trace(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("trace", "say what to do: gen (make a trace) or stats (show one)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        help();
        return 0;
    }
    if (strcmp(argv[1], "gen") == 0) return trace_gen(argc - 1, argv + 1);
    if (strcmp(argv[1], "stats") == 0) return trace_stats_cmd(argc - 1, argv + 1);
    return cli_usage_error("trace", "'%s': valid subcommands are gen and stats", argv[1]);
}
