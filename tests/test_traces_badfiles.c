/* test_traces_badfiles.c — bad input through the real binary: every bad
 * trace file and every bad dataset makes `sftsim trace stats` exit 2 with a
 * message that names the file and the line (trace files) or the field
 * (dataset files), and prints nothing on stdout.
 *
 * The bad files are committed in tests/data/traces/ (they also seed the fuzz
 * corpus); each row says which line is at fault and a fragment the message
 * must contain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_traces_util.h"

typedef struct bad_case {
    const char *file;
    int line;         /* the line the message names */
    const char *what; /* fragment the message must contain */
} bad_case;

static const bad_case bad_traces[] = {
    /* line 3 is "step 2: 12 34" */
    {"bad_not_json.jsonl", 3, "cannot parse"},
    /* the second sample of line 2 has no "len" */
    {"bad_missing_len.jsonl", 2, "samples[1].len': missing length"},
    {"bad_zero_len.jsonl", 2, "length 0 is zero"},
    /* line 2 is blank: the bad length is on physical line 3 */
    {"bad_negative_len.jsonl", 3, "length -4096 is negative"},
    {"bad_fraction_len.jsonl", 1, "length 812.5 is not an integer"},
    {"bad_huge_len.jsonl", 2, "length 10000001 is above the limit"},
    {"bad_string_len.jsonl", 1, "length \"812\" is not a number"},
    {"bad_empty.jsonl", 1, "empty trace"},
    {"bad_blank.txt", 1, "empty trace"},
    /* the third line stops in the middle of a key, with no newline */
    {"bad_truncated.jsonl", 3, "file ends mid-line"},
    {"bad_unknown_field.jsonl", 1, "samples[0].shape': unknown field"},
    {"bad_step_order.jsonl", 2, "steps must increase"},
    {"bad_lengths_zero.txt", 3, "length 0 is zero"},
    {"bad_lengths_negative.txt", 3, "length -7 is negative"},
    {"bad_lengths_fraction.txt", 2, "length 3.5 is not an integer"},
    {"bad_lengths_huge.txt", 3, "length 99999999 is above the limit"},
    {"bad_lengths_word.txt", 2, "cannot parse 'abc'"},
    {"bad_records_missing.jsonl", 2, "missing length"},
    {"bad_records_both.jsonl", 2, "'len' and 'num_tokens' both give a length"},
};

/* Runs `sftsim trace stats ARGS...`; checks exit 2, empty stdout, and that
 * stderr holds every fragment given (NULL-terminated). */
static void expect_exit2(const char *dir, const char *const *args, const char *const *frags)
{
    char *out = tt_path(dir, "stdout"), *err = tt_path(dir, "stderr");
    int rc = tt_sftsim(NULL, out, err, args);
    char *o = tt_read(out, NULL), *m = tt_read(err, NULL);
    if (rc != 2) fail_msg("exit %d, expected 2; stderr: %s", rc, m);
    assert_string_equal(o, "");
    for (const char *const *f = frags; *f; f++)
        if (!strstr(m, *f)) fail_msg("stderr lacks '%s': %s", *f, m);
    free(o);
    free(m);
    free(out);
    free(err);
}

static void test_bad_trace_files(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    for (size_t i = 0; i < sizeof bad_traces / sizeof bad_traces[0]; i++) {
        const bad_case *c = &bad_traces[i];
        char *path = tt_data(c->file);
        char where[4096];
        snprintf(where, sizeof where, "%s:%d:", path, c->line);
        const char *args[] = {"trace", "stats", path, NULL};
        const char *frags[] = {where, c->what, NULL};
        print_message("  %-28s -> line %d: %s\n", c->file, c->line, c->what);
        expect_exit2(dir, args, frags);
        free(path);
    }
    free(dir);
}

static void test_missing_file(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    char *path = tt_path(dir, "no-such-trace.jsonl");
    const char *args[] = {"trace", "stats", path, NULL};
    const char *frags[] = {path, "cannot open", NULL};
    expect_exit2(dir, args, frags);
    free(path);
    free(dir);
}

static void test_unknown_dataset(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    /* the message lists the valid built-in names */
    const char *args[] = {"trace", "stats", "--dataset", "nosuchset", NULL};
    const char *frags[] = {
        "unknown dataset 'nosuchset'", "chatqa2", "llama3-sft", "lmsyschat1m", "wikipedia", NULL};
    expect_exit2(dir, args, frags);
    const char *gen[] = {"trace", "gen", "--dataset", "nosuchset", NULL};
    expect_exit2(dir, gen, frags);
    free(dir);
}

typedef struct bad_dataset {
    const char *file;
    const char *what; /* the field (or line:column) and the reason */
} bad_dataset;

static const bad_dataset bad_datasets[] = {
    /* the trailing comma in the cdf array, line 2 */
    {"bad_dataset_malformed.json", ":2:"},
    {"bad_dataset_unknown.json", "field 'colour': unknown field"},
    {"bad_dataset_decreasing.json", "field 'cdf[1].percent': a CDF cannot decrease"},
    {"bad_dataset_huge.json", "field 'max_len': must be in [1, 10000000]"},
};

static void test_bad_dataset_files(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    for (size_t i = 0; i < sizeof bad_datasets / sizeof bad_datasets[0]; i++) {
        char *path = tt_data(bad_datasets[i].file);
        const char *args[] = {"trace", "stats", "--dataset", path, NULL};
        const char *frags[] = {path, bad_datasets[i].what, NULL};
        print_message("  %-28s -> %s\n", bad_datasets[i].file, bad_datasets[i].what);
        expect_exit2(dir, args, frags);
        const char *gen[] = {"trace", "gen", "--dataset", path, NULL};
        expect_exit2(dir, gen, frags);
        free(path);
    }
    free(dir);
}

static void test_bad_options(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    char *good = tt_data("good_trace.jsonl");
    const char *seed[] = {"trace", "gen", "--seed", "4294967295", NULL};
    const char *seed_f[] = {"--seed 4294967295", "[0, 4294967294]", NULL};
    expect_exit2(dir, seed, seed_f);
    const char *both[] = {"trace", "stats", good, "--dataset", "wikipedia", NULL};
    const char *both_f[] = {"one", NULL};
    expect_exit2(dir, both, both_f);
    const char *none[] = {"trace", "stats", NULL};
    expect_exit2(dir, none, both_f);
    const char *big[] = {"trace", "gen", "--batch", "100000", "--dp", "100", NULL};
    const char *big_f[] = {"samples per step", NULL};
    expect_exit2(dir, big, big_f);
    const char *sub[] = {"trace", "shuffle", NULL};
    const char *sub_f[] = {"gen and stats", NULL};
    expect_exit2(dir, sub, sub_f);
    const char *fmt[] = {"trace", "stats", good, "--format", "yaml", NULL};
    const char *fmt_f[] = {"text, json", NULL};
    expect_exit2(dir, fmt, fmt_f);
    free(good);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_trace_files), cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_unknown_dataset), cmocka_unit_test(test_bad_dataset_files),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
