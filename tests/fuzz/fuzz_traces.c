/* fuzz_traces.c — libFuzzer target for the parsers that read users' files:
 * every input is fed both to the trace-file reader (JSONL traces, plain
 * lengths, records; read from a memory stream) and to the dataset JSON
 * parser. Besides crashes, leaks and undefined behaviour (ASan + UBSan), it
 * checks the readers' promises and aborts when one is broken: a parse either
 * fails with a message and status SFT_EINPUT, or yields samples with
 * 1 <= len <= TRACE_MAX_LEN and distinct ids in non-empty batches; a dataset
 * that loads draws lengths within [1, max_len].
 *
 * Built with clang by tests/traces.cmake; run by ctest (label fuzz) for 30 s
 * on the seed corpus in tests/data/traces/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_traces: broken promise: %s\n", what);
        abort();
    }
}

static void check_error(sft_status st, const sft_err *e)
{
    check(st == SFT_EINPUT, "a bad file is reported as bad input (exit 2)");
    check(e->msg[0] != '\0', "an error carries a message");
}

static void fuzz_trace_file(const uint8_t *data, size_t size)
{
    /* fmemopen refuses a zero-sized buffer: an empty input is read from an
     * empty but valid one-byte buffer of which nothing is exposed */
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    FILE *fp = size ? fmemopen(copy, size, "r") : fopen("/dev/null", "r");
    check(fp != NULL, "the memory stream opens");
    long per_step = size ? 1 + data[0] % 7 : 1;
    sft_err e = {0};
    trace_src *src = NULL;
    sft_status st = trace_src_fp(fp, "fuzz", per_step, &src, &e);
    if (st == SFT_OK) {
        trace_batch b;
        int eof = 0;
        while ((st = trace_src_next(src, &b, &eof, &e)) == SFT_OK && !eof) {
            check(b.n >= 1, "a batch holds at least one sample");
            for (size_t i = 0; i < b.n; i++) {
                check(b.s[i].len >= 1 && b.s[i].len <= TRACE_MAX_LEN, "1 <= len <= 10M");
                for (size_t k = 0; k < i && b.n <= 256; k++)
                    check(b.s[k].id != b.s[i].id, "the ids of a batch are distinct");
            }
        }
        trace_src_destroy(src);
    }
    if (st != SFT_OK) check_error(st, &e);
    fclose(fp);
    free(copy);
}

static void fuzz_dataset(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    sft_err e = {0};
    trace_dist *d = NULL;
    sft_status st = trace_dist_parse(text, "fuzz.json", &d, &e);
    if (st == SFT_OK) {
        gsl_rng *r = trace_rng_create(size);
        for (int i = 0; i < 64; i++) {
            int64_t len = trace_dist_sample(d, r);
            check(len >= 1 && len <= trace_dist_max_len(d), "1 <= drawn length <= max_len");
        }
        gsl_rng_free(r);
        trace_dist_destroy(d);
    } else {
        check_error(st, &e);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_trace_file(data, size);
    fuzz_dataset(data, size);
    return 0;
}
