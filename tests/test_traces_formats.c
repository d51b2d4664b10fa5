/* test_traces_formats.c — the file formats: users' plain lengths and
 * len/length/num_tokens records grouped into batches of K in file order (a
 * short last group kept), blank lines and CRLF, a final line without a
 * newline, the JSONL writer's exact text and a write/read round trip,
 * streaming from standard input, and trace_src_open's rules for the
 * scenario options --dataset / --trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_traces_util.h"
#include "traces/trace.h"

/* Reads every batch of src into flat arrays; returns the number of batches.
 * sizes[b] = samples in batch b, steps[b] its step, lens/ids in order. */
static int read_all(trace_src *src, size_t *sizes, long *steps, int64_t *ids, int64_t *lens,
                    int max)
{
    trace_batch b;
    int eof = 0, nb = 0;
    size_t k = 0;
    sft_err e = {0};
    while (trace_src_next(src, &b, &eof, &e) == SFT_OK && !eof) {
        assert_true(nb < max);
        sizes[nb] = b.n;
        steps[nb++] = b.step;
        for (size_t i = 0; i < b.n; i++) {
            ids[k] = b.s[i].id;
            lens[k++] = b.s[i].len;
        }
    }
    if (e.status) fail_msg("%s", e.msg);
    /* past the end it stays at the end */
    assert_int_equal(trace_src_next(src, &b, &eof, &e), SFT_OK);
    assert_int_equal(eof, 1);
    assert_int_equal(b.n, 0);
    return nb;
}

static void test_plain_lengths_grouped(void **state)
{
    (void)state;
    char *dir = tt_dir("formats");
    char *path = tt_path(dir, "five.txt");
    /* 5 lengths in batches of 2: [10 20] [30 40] [50], the last one short */
    tt_write(path, "10\n20\n30\n40\n50\n");
    trace_src *src = NULL;
    sft_err e = {0};
    assert_int_equal(trace_src_file(path, 2, &src, &e), SFT_OK);
    assert_string_equal(trace_src_format(src), "lengths");
    size_t sizes[8];
    long steps[8];
    int64_t ids[16], lens[16];
    assert_int_equal(read_all(src, sizes, steps, ids, lens, 8), 3);
    trace_src_destroy(src);
    static const size_t want_sizes[] = {2, 2, 1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sizes[i], want_sizes[i]);
        assert_int_equal(steps[i], i);
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ids[i], i); /* ids: the 0-based sample index */
        assert_int_equal(lens[i], 10 * (i + 1));
    }
    free(path);
    free(dir);
}

static void test_records_grouped(void **state)
{
    (void)state;
    /* good_records.jsonl: {"len":10,...}, {"length":20}, a blank line,
     * {"num_tokens":30,"meta":{...}}, {"len":40} without a final newline.
     * Batches of 3: [10 20 30] [40]. Other fields of a record are ignored. */
    char *path = tt_data("good_records.jsonl");
    trace_src *src = NULL;
    sft_err e = {0};
    assert_int_equal(trace_src_file(path, 3, &src, &e), SFT_OK);
    assert_string_equal(trace_src_format(src), "records");
    assert_string_equal(trace_src_origin(src), path);
    size_t sizes[8];
    long steps[8];
    int64_t ids[16], lens[16];
    assert_int_equal(read_all(src, sizes, steps, ids, lens, 8), 2);
    trace_src_destroy(src);
    assert_int_equal(sizes[0], 3);
    assert_int_equal(sizes[1], 1);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(lens[i], 10 * (i + 1));
        assert_int_equal(ids[i], i);
    }
    free(path);
}

static void test_blank_crlf_no_final_newline(void **state)
{
    (void)state;
    char *dir = tt_dir("formats");
    char *path = tt_path(dir, "crlf.txt");
    /* leading blank lines, CRLF endings, a whitespace-only line, and a last
     * line with no newline that is complete: 3 samples, one batch of 64 */
    tt_write(path, "\n \r\n10\r\n\r\n20\n \t \n30");
    trace_src *src = NULL;
    sft_err e = {0};
    assert_int_equal(trace_src_file(path, 64, &src, &e), SFT_OK);
    size_t sizes[4];
    long steps[4];
    int64_t ids[8], lens[8];
    assert_int_equal(read_all(src, sizes, steps, ids, lens, 4), 1);
    assert_int_equal(sizes[0], 3);
    assert_int_equal(lens[2], 30);
    trace_src_destroy(src);
    free(path);
    free(dir);
}

static void test_writer_exact_and_round_trip(void **state)
{
    (void)state;
    char *dir = tt_dir("formats");
    char *path = tt_path(dir, "rt.jsonl");
    trace_sample a[] = {{0, 812}, {1, 5}}, c[] = {{2, 10000000}};
    trace_batch b0 = {.step = 0, .n = 2, .s = a}, b1 = {.step = 7, .n = 1, .s = c};
    trace_writer *w = NULL;
    sft_err e = {0};
    assert_int_equal(trace_writer_open(path, &w, &e), SFT_OK);
    assert_int_equal(trace_writer_put(w, &b0, &e), SFT_OK);
    assert_int_equal(trace_writer_put(w, &b1, &e), SFT_OK);
    assert_int_equal(trace_writer_close(w, &e), SFT_OK);
    char *text = tt_read(path, NULL);
    /* ARCHITECTURE.md, "Formats", compact, one batch per line, newline-terminated */
    assert_string_equal(text,
                        "{\"step\":0,\"samples\":[{\"id\":0,\"len\":812},{\"id\":1,\"len\":5}]}\n"
                        "{\"step\":7,\"samples\":[{\"id\":2,\"len\":10000000}]}\n");
    free(text);

    /* JSONL: the batches come from the file, samples_per_step is ignored */
    trace_src *src = NULL;
    assert_int_equal(trace_src_file(path, 1, &src, &e), SFT_OK);
    assert_string_equal(trace_src_format(src), "jsonl");
    size_t sizes[4];
    long steps[4];
    int64_t ids[8], lens[8];
    assert_int_equal(read_all(src, sizes, steps, ids, lens, 4), 2);
    trace_src_destroy(src);
    assert_int_equal(sizes[0], 2);
    assert_int_equal(steps[1], 7);
    assert_int_equal(lens[1], 5);
    assert_int_equal(ids[2], 2);
    assert_int_equal(lens[2], 10000000);

    /* an aborted writer leaves the earlier file as it was, and no temporary */
    assert_int_equal(trace_writer_open(path, &w, &e), SFT_OK);
    assert_int_equal(trace_writer_put(w, &b1, &e), SFT_OK);
    trace_writer_abort(w);
    size_t len = 0;
    text = tt_read(path, &len);
    assert_int_equal(len, 106);
    free(text);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
    free(path);
    free(dir);
}

static void test_stdin(void **state)
{
    (void)state;
    char *dir = tt_dir("formats");
    char *out = tt_path(dir, "stdout"), *err = tt_path(dir, "stderr");
    char *in = tt_data("good_trace.jsonl");
    /* `sftsim trace stats -` streams standard input: good_trace.jsonl holds 6
     * samples in 3 batches, the longest 10000000 */
    const char *args[] = {"trace", "stats", "-", "--format", "json", NULL};
    assert_int_equal(tt_sftsim(in, out, err, args), 0);
    char *text = tt_read(out, NULL);
    assert_non_null(strstr(text, "\"samples\":6,"));
    assert_non_null(strstr(text, "\"max\":10000000,"));
    assert_non_null(strstr(text, "\"source\":\"<stdin>\""));
    assert_non_null(strstr(text, "\"steps\":3,"));
    free(text);
    free(in);
    free(out);
    free(err);
    free(dir);
}

static void test_scenario_open(void **state)
{
    (void)state;
    char *path = tt_data("good_trace.jsonl");
    trace_src *src = NULL;
    sft_err e = {0};
    /* --dataset and --trace together: bad input */
    assert_int_equal(trace_src_open("wikipedia", path, 4, 64, 0, &src, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "--trace"));
    /* --trace with --steps 2 replays the first two of its three batches */
    assert_int_equal(trace_src_open(NULL, path, 2, 64, 0, &src, &e), SFT_OK);
    size_t sizes[4];
    long steps[4];
    int64_t ids[8], lens[8];
    assert_int_equal(read_all(src, sizes, steps, ids, lens, 4), 2);
    trace_src_destroy(src);
    /* steps 0: the whole file */
    assert_int_equal(trace_src_open(NULL, path, 0, 64, 0, &src, &e), SFT_OK);
    assert_int_equal(read_all(src, sizes, steps, ids, lens, 4), 3);
    assert_int_equal(steps[2], 5);
    trace_src_destroy(src);
    /* no option: the default scenario's dataset (ARCHITECTURE.md, "Default scenario"), 4 steps of 8
     */
    assert_int_equal(trace_src_open(NULL, NULL, 4, 8, 0, &src, &e), SFT_OK);
    assert_string_equal(trace_src_origin(src), "built-in " TRACE_DEFAULT_DATASET);
    assert_string_equal(trace_src_format(src), "dataset");
    int64_t gids[32], glens[32];
    assert_int_equal(read_all(src, sizes, steps, gids, glens, 4), 4);
    for (int i = 0; i < 32; i++) assert_int_equal(gids[i], i);
    trace_src_destroy(src);
    /* a generated trace needs steps >= 1 */
    assert_int_equal(trace_src_open(NULL, NULL, 0, 8, 0, &src, &e), SFT_EINPUT);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lengths_grouped),
        cmocka_unit_test(test_records_grouped),
        cmocka_unit_test(test_blank_crlf_no_final_newline),
        cmocka_unit_test(test_writer_exact_and_round_trip),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_scenario_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
