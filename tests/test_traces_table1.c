/* test_traces_table1.c — the dataset distributions reproduce the Skrull
 * paper's Table 1, and llama3-sft the published Llama-3 SFT mix.
 *
 * The numbers below are the paper's (Skrull, arXiv 2505.19609, its experimental setup), typed in
 * here independently of traces/datasets/NAME.json, so the test checks the whole chain: dataset file
 * -> parser -> sampler -> statistics. The generated and the published tables are printed side by
 * side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>

#include <cmocka.h>

#include "traces/trace.h"

/* 100,000 samples, as the acceptance criterion asks: the standard error of a
 * cumulative percentage is at most 100 x sqrt(0.25 / 1e5) = 0.16 points, so
 * the 1.0-point tolerance is over six standard errors. */
#define TABLE_SAMPLES 100000L
#define TABLE_TOL_PP  1.0

typedef struct paper_row {
    const char *dataset, *label;
    double below[TRACE_NCUTS]; /* cumulative % below 1K, 4K, 8K, 32K, 128K */
    int64_t longest;           /* the table's "longest", in K = 1024 tokens */
} paper_row;

/* Skrull paper, Table 1. */
static const paper_row paper[] = {
    {"wikipedia", "Wikipedia (zh)", {87.88, 99.34, 99.92, 99.99, 100.0}, 78 * 1024},
    {"lmsyschat1m", "LMsysChat1M", {87.12, 99.35, 99.87, 99.98, 99.99}, 1643 * 1024},
    {"chatqa2", "ChatQA2-Long-SFT", {21.92, 31.48, 40.43, 99.86, 100.0}, 99 * 1024},
};

static void summarize(trace_src *src, trace_summary *out, int64_t *min_seen)
{
    trace_stats *st = trace_stats_create();
    trace_batch b;
    int eof = 0;
    sft_err e = {0};
    *min_seen = INT64_MAX;
    while (trace_src_next(src, &b, &eof, &e) == SFT_OK && !eof) {
        for (size_t i = 0; i < b.n; i++)
            if (b.s[i].len < *min_seen) *min_seen = b.s[i].len;
        trace_stats_add(st, &b);
    }
    assert_int_equal(e.status, SFT_OK);
    trace_stats_summarize(st, out);
    trace_stats_destroy(st);
}

static void test_table1(void **state)
{
    (void)state;
    print_message("\nTable 1, cumulative %% of sequences below each length: generated "
                  "(%ld samples, seed 0) / paper\n",
                  TABLE_SAMPLES);
    print_message("%-18s %15s %15s %15s %15s %15s %17s\n", "dataset", "<1K", "<4K", "<8K", "<32K",
                  "<128K", "longest");
    for (size_t r = 0; r < sizeof paper / sizeof paper[0]; r++) {
        const paper_row *p = &paper[r];
        trace_src *src = NULL;
        sft_err e = {0};
        assert_int_equal(trace_src_dataset_samples(p->dataset, TABLE_SAMPLES, 256, 0, &src, &e),
                         SFT_OK);
        trace_summary s;
        int64_t lo;
        summarize(src, &s, &lo);
        trace_src_destroy(src);
        assert_int_equal(s.samples, TABLE_SAMPLES);
        char line[256];
        int off = snprintf(line, sizeof line, "%-18s", p->label);
        for (int k = 0; k < TRACE_NCUTS; k++)
            off += snprintf(line + off, sizeof line - (size_t)off, "  %6.2f/%6.2f", s.percent[k],
                            p->below[k]);
        snprintf(line + off, sizeof line - (size_t)off, " %8ldK/%6ldK\n", (long)(s.max / 1024),
                 (long)(p->longest / 1024));
        print_message("%s", line);
        for (int k = 0; k < TRACE_NCUTS; k++) {
            if (fabs(s.percent[k] - p->below[k]) > TABLE_TOL_PP)
                fail_msg("%s: %.2f%% below %lld, the paper has %.2f%%", p->dataset, s.percent[k],
                         (long long)s.below[k], p->below[k]);
        }
        /* the table's longest is a hard cap */
        assert_true(s.max <= p->longest);
        assert_true(lo >= 1);
    }
}

/* Llama-3 SFT mix (Skrull, arXiv 2505.19609, its experimental setup): 99.89% short with mean ~1K
 * tokens, 0.11% long with mean ~37K. traces/datasets/llama3-sft.json puts the boundary between the
 * components at 16K = 16384 tokens. */
#define LLAMA_SAMPLES 1000000L
#define LLAMA_SPLIT   16384

static void test_llama3_mix(void **state)
{
    (void)state;
    trace_src *src = NULL;
    sft_err e = {0};
    assert_int_equal(trace_src_dataset_samples("llama3-sft", LLAMA_SAMPLES, 1024, 0, &src, &e),
                     SFT_OK);
    int64_t nshort = 0, nlong = 0, tshort = 0, tlong = 0, longest = 0;
    trace_batch b;
    int eof = 0;
    while (trace_src_next(src, &b, &eof, &e) == SFT_OK && !eof)
        for (size_t i = 0; i < b.n; i++) {
            int64_t len = b.s[i].len;
            if (len < LLAMA_SPLIT) {
                nshort++;
                tshort += len;
            } else {
                nlong++;
                tlong += len;
            }
            if (len > longest) longest = len;
        }
    assert_int_equal(e.status, SFT_OK);
    trace_src_destroy(src);
    double fshort = 100.0 * (double)nshort / LLAMA_SAMPLES;
    double mshort = (double)tshort / (double)nshort, mlong = (double)tlong / (double)nlong;
    print_message("\nllama3-sft (%ld samples, seed 0): generated / published\n"
                  "  short: %6.3f%% / 99.89%%, mean %7.0f / ~1K tokens\n"
                  "  long:  %6.3f%% /  0.11%%, mean %7.0f / ~37K tokens (longest %lld)\n",
                  LLAMA_SAMPLES, fshort, mshort, 100.0 - fshort, mlong, (long long)longest);
    /* fraction: standard error 100 x sqrt(0.0011 x 0.9989 / 1e6) = 0.0033
     * points; 0.02 points is six of them */
    assert_true(fabs(fshort - 99.89) <= 0.02);
    /* "mean ~1K": the model's short mean is 1023.7 tokens (K = 1024);
     * standard error ~1.5 tokens; allow 5% around 1024 for "~" */
    assert_true(fabs(mshort - 1024) <= 0.05 * 1024);
    /* "mean ~37K": the model's long mean is 37466 tokens; with ~1100 long
     * samples the standard error is ~450 tokens; allow 5% around 37000 */
    assert_true(fabs(mlong - 37000) <= 0.05 * 37000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table1),
        cmocka_unit_test(test_llama3_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
