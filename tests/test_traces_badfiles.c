/* test_traces_badfiles.c — bad input through the real binary: every bad
 * trace file and every bad dataset makes `sftsim trace stats` exit 2 with a
 * message that names the file and the line (trace files) or the field
 * (dataset files), and prints nothing on stdout.
 *
 * The bad files are committed in tests/data/traces/ (they also seed the fuzz
 * corpus); each row says which line is at fault and a fragment the message
 * must contain. Files that are not regular files (a FIFO, /dev/zero, a
 * directory), oversized ones, repeated sample ids, strings that are not
 * UTF-8 and every range of the dataset schema are written here at run time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "test_traces_util.h"
#include "traces/trace.h"

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

/* A trace named by path must be a regular file: a FIFO with no writer (it
 * would block an open(2) forever), /dev/zero (it would fill memory), a
 * directory and a file over 4 GiB (sparse: no disk used) exit 2 at once,
 * naming the path and what it is, for `trace stats` and `run --trace`. */
static void test_not_regular_files(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    char *fifo = tt_path(dir, "fifo.jsonl"), *big = tt_path(dir, "big.jsonl");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    FILE *f = fopen(big, "wb");
    assert_non_null(f);
    assert_int_equal(fseeko(f, (off_t)SFT_TRACE_MAX, SEEK_SET), 0); /* 4 GiB + 1 byte */
    fputc('\n', f);
    assert_int_equal(fclose(f), 0);
    /* what: the trace's message (it may be "-"); kind: a JSON description's */
    const struct {
        const char *path, *what, *kind;
    } cases[] = {
        {fifo, "is a FIFO; expected a regular file (or - for standard input)", "is a FIFO"},
        {"/dev/zero", "is a character device", "is a character device"},
        {dir, "is a directory", "is a directory"},
        {big, "4294967297 bytes, more than the 4096 MiB", "more than the 64 MiB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[4200];
        snprintf(want, sizeof want, "%s: %s", cases[i].path, cases[i].what);
        print_message("  %s\n", want);
        const char *stats[] = {"trace", "stats", cases[i].path, NULL};
        const char *frags[] = {want, NULL};
        expect_exit2(dir, stats, frags);
        const char *run[] = {"run", "--trace", cases[i].path, "--steps", "1", NULL};
        expect_exit2(dir, run, frags);
        /* a JSON description through the same gate (64 MiB for those) */
        const char *ds[] = {"trace", "stats", "--dataset", cases[i].path, NULL};
        const char *dfrag[] = {cases[i].path, cases[i].kind, NULL};
        expect_exit2(dir, ds, dfrag);
    }
    unlink(fifo);
    unlink(big);
    free(fifo);
    free(big);
    free(dir);
}

/* Standard input is "-": the same trace gives the same statistics from
 * stdin as from the file; a stream of NUL bytes with no newline is a bad
 * line (never an unbounded buffer; cJSON alone would skip NULs as blanks), and a line over 128 MiB
 * (a batch of 10^6 samples takes under 48 MiB) is refused as such. */
static void test_stdin(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    char *good = tt_data("good_trace.jsonl"), *out = tt_path(dir, "stdout"),
         *err = tt_path(dir, "stderr");
    const char *args[] = {"trace", "stats", "-", "--format", "json", NULL};
    assert_int_equal(tt_sftsim(good, out, err, args), 0);
    char *o = tt_read(out, NULL);
    cJSON *j = cJSON_Parse(o);
    assert_non_null(j);
    /* good_trace.jsonl: 6 samples, 812 + 31000 + 95 + 4096 + 1 + 10^7 tokens */
    assert_int_equal((int)cJSON_GetObjectItem(j, "samples")->valuedouble, 6);
    assert_true(cJSON_GetObjectItem(j, "max")->valuedouble == 10000000);
    cJSON_Delete(j);
    free(o);
    char *zeros = tt_path(dir, "zeros.bin"), *huge = tt_path(dir, "hugeline.bin");
    FILE *f = fopen(zeros, "wb");
    assert_non_null(f);
    static char z[1 << 16];
    for (int i = 0; i < 16; i++) assert_int_equal(fwrite(z, 1, sizeof z, f), sizeof z); /* 1 MiB */
    assert_int_equal(fclose(f), 0);
    f = fopen(huge, "wb");
    assert_non_null(f);
    assert_int_equal(fseeko(f, (off_t)(129 << 20), SEEK_SET), 0);
    fputc('\n', f);
    assert_int_equal(fclose(f), 0);
    char *nul = tt_path(dir, "nul.jsonl");
    f = fopen(nul, "wb");
    assert_non_null(f);
    /* a NUL where the batch's closing brace should be: byte 39 */
    const char line[] = "{\"step\":0,\"samples\":[{\"id\":0,\"len\":5}]\0}\n";
    assert_int_equal(fwrite(line, 1, sizeof line - 1, f), sizeof line - 1);
    assert_int_equal(fclose(f), 0);
    const char *plain[] = {"trace", "stats", "-", NULL};
    const struct {
        const char *in, *want;
    } cases[] = {
        {zeros, "<stdin>:1: NUL byte at column 1"},
        {huge, "<stdin>:1: line longer than 128 MiB"},
        {nul, "<stdin>:1: NUL byte at column 39"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(tt_sftsim(cases[i].in, out, err, plain), 2);
        char *m = tt_read(err, NULL);
        if (!strstr(m, cases[i].want)) fail_msg("stderr lacks '%s': %s", cases[i].want, m);
        free(m);
    }
    unlink(zeros);
    unlink(huge);
    unlink(nul);
    free(nul);
    free(zeros);
    free(huge);
    free(good);
    free(out);
    free(err);
    free(dir);
}

/* A sample may appear once per step: a repeat in a batch names the file,
 * the line, the sample's position, the id and where it was first; the same
 * id in a later step (another epoch) is fine. */
static void test_duplicate_ids(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    char *path = tt_path(dir, "dup.jsonl");
    tt_write(path, "{\"step\":0,\"samples\":[{\"id\":7,\"len\":10},{\"id\":8,\"len\":10}]}\n"
                   "{\"step\":1,\"samples\":[{\"id\":7,\"len\":10},{\"id\":9,\"len\":5},"
                   "{\"id\":3,\"len\":5},{\"id\":9,\"len\":5},{\"id\":3,\"len\":5}]}\n");
    char want[4200];
    /* line 2 repeats 9 at samples[3] (first at [1]) before 3 at samples[4] */
    snprintf(want, sizeof want,
             "%s:2: field 'samples[3].id': sample id 9 appears twice in step 1 (first as "
             "samples[1]",
             path);
    const char *args[] = {"trace", "stats", path, NULL};
    const char *frags[] = {want, NULL};
    expect_exit2(dir, args, frags);
    char *out = tt_path(dir, "stdout"), *err = tt_path(dir, "stderr");
    tt_write(path, "{\"step\":0,\"samples\":[{\"id\":7,\"len\":10},{\"id\":8,\"len\":10}]}\n"
                   "{\"step\":1,\"samples\":[{\"id\":8,\"len\":10},{\"id\":7,\"len\":5}]}\n");
    assert_int_equal(tt_sftsim(NULL, out, err, args), 0); /* epochs repeat ids across steps */
    free(out);
    free(err);
    free(path);
    free(dir);
}

/* Dataset strings: the name is printed into JSON (`trace stats --format
 * json` "source") and tables, so bytes that are not UTF-8 or a control
 * character exit 2 naming the field; a UTF-8 name loads and the JSON
 * output stays valid. */
static void test_dataset_strings(void **state)
{
    (void)state;
    char *dir = tt_dir("badfiles");
    char *path = tt_path(dir, "utf8.json");
    const char *tail = "\"method\":\"loguniform\",\"min_len\":16,\"max_len\":5000,"
                       "\"cdf\":[{\"below\":1024,\"percent\":100}]}";
    const struct {
        const char *head, *want;
    } cases[] = {
        {"{\"schema\":1,\"name\":\"wiki\xff\",",
         "field 'name': not valid UTF-8 (byte 0xFF at offset 4"},
        {"{\"schema\":1,\"name\":\"a\\u0000b\",", ":1:22: \\u0000 in a string"},
        {"{\"schema\":1,\"name\":\"w\\r\",", "field 'name': control character U+000D at offset 1"},
        {"{\"schema\":1,\"name\":\"w\",\"description\":\"\xc3\x28\",",
         "field 'description': not valid UTF-8 (byte 0xC3 at offset 0"},
        {"{\"schema\":1,\"name\":\"w\",\"notes\":\"\xe0\x80\x80\",",
         "field 'notes': not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json, "%s%s", cases[i].head, tail);
        tt_write(path, json);
        const char *args[] = {"trace", "stats", "--dataset", path, "--samples", "10", NULL};
        const char *frags[] = {path, cases[i].want, NULL};
        expect_exit2(dir, args, frags);
    }
    char json[1024];
    snprintf(json, sizeof json,
             "{\"schema\":1,\"name\":\"\xe6\x97\xa5\xe6\x9c\xac\",\"notes\":\"two\\nlines\",%s",
             tail);
    tt_write(path, json);
    char *out = tt_path(dir, "stdout"), *err = tt_path(dir, "stderr");
    const char *args[] = {"trace", "stats",    "--dataset", path, "--samples",
                          "10",    "--format", "json",      NULL};
    assert_int_equal(tt_sftsim(NULL, out, err, args), 0);
    char *o = tt_read(out, NULL);
    cJSON *j = cJSON_Parse(o);
    assert_non_null(j);
    assert_int_equal((int)cJSON_GetObjectItem(j, "samples")->valuedouble, 10);
    cJSON_Delete(j);
    free(o);
    free(out);
    free(err);
    free(path);
    free(dir);
}

/* Every row of the dataset range table on the lmsyschat1m file (min_len
 * set to 1, so that the cut's lower bound min_len + 1 is the table's 2):
 * below, above, 1e308 and 1e999 (infinity to cJSON) exit with the field,
 * the range and the value; both bounds of min_len, max_len and percent load
 * where the CDF stays a CDF. */
static void test_dataset_ranges(void **state)
{
    (void)state;
    size_t n, len;
    const jx_range *r = trace_dist_ranges(&n);
    assert_int_equal(n, 4);
    cJSON *doc = cJSON_Parse(sft_builtin("datasets", "lmsyschat1m", &len));
    cJSON_ReplaceItemInObject(doc, "min_len", cJSON_CreateNumber(1));
    for (size_t i = 0; i < n; i++) {
        char lo[32], hi[32], rg[96];
        jx_fmt_num(lo, sizeof lo, r[i].lo);
        jx_fmt_num(hi, sizeof hi, r[i].hi);
        snprintf(rg, sizeof rg, "[%s, %s] %s", lo, hi, r[i].unit);
        print_message("  %-14s %-26s %s\n", r[i].field, rg, r[i].why);
        assert_true(strlen(r[i].why) > 10);
        const char *key;
        cJSON *o = jx_field_parent(doc, r[i].field, &key);
        assert_non_null(o);
        cJSON *keep = cJSON_Duplicate(cJSON_GetObjectItem(o, key), 1);
        const double bad[] = {r[i].lo - 1, r[i].hi + 1, 1e308, INFINITY};
        for (int k = 0; k < 4; k++) {
            cJSON_ReplaceItemInObject(o, key, cJSON_CreateNumber(bad[k]));
            char *t = cJSON_PrintUnformatted(doc);
            if (k == 3) { /* cJSON prints infinity as null: write 1e999 instead */
                char *at = strstr(t, "null");
                assert_non_null(at);
                size_t head = (size_t)(at - t), tl = strlen(t);
                char *u = sft_xmalloc(tl + 2); /* one byte longer, and the NUL */
                memcpy(u, t, head);
                memcpy(u + head, "1e999", 5);
                memcpy(u + head + 5, at + 4, tl - head - 4 + 1);
                cJSON_free(t);
                t = u;
            }
            trace_dist *d = NULL;
            sft_err e = {0};
            char field[64], got[32];
            snprintf(field, sizeof field, "x.json: field '%s", r[i].field);
            char *br = strstr(field, "[]");
            if (br) memmove(br + 3, br + 2, strlen(br + 2) + 1), br[1] = '0', br[2] = ']';
            jx_fmt_num(got, sizeof got, bad[k]);
            assert_int_equal(trace_dist_parse(t, "x.json", &d, &e), SFT_EINPUT);
            if (!strstr(e.msg, field) || !strstr(e.msg, rg) ||
                !strstr(e.msg, k == 3 ? "finite" : got))
                fail_msg("%s = %s: '%s'", r[i].field, got, e.msg);
            free(t);
        }
        cJSON_ReplaceItemInObject(o, key, keep);
    }
    /* at the bounds: min_len 1, max_len 10^7 (its interval widens), a 0% cut */
    cJSON_ReplaceItemInObject(doc, "max_len", cJSON_CreateNumber(TRACE_MAX_LEN));
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "cdf"), 0), "percent",
                              cJSON_CreateNumber(0));
    char *t = cJSON_PrintUnformatted(doc);
    trace_dist *d = NULL;
    sft_err e = {0};
    assert_int_equal(trace_dist_parse(t, "x.json", &d, &e), SFT_OK);
    assert_int_equal(trace_dist_max_len(d), 10000000);
    trace_dist_destroy(d);
    free(t);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_trace_files), cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_unknown_dataset), cmocka_unit_test(test_bad_dataset_files),
        cmocka_unit_test(test_bad_options),     cmocka_unit_test(test_not_regular_files),
        cmocka_unit_test(test_stdin),           cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_dataset_strings), cmocka_unit_test(test_dataset_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
