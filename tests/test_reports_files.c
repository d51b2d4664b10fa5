/* test_reports_files.c — the files of --out as a whole: every report is
 * there and well-formed (PNG and SVG magic, the Gantt's page width), and a
 * failure on any one file stops the output with a message naming that file
 * and leaves no temporary or partial file behind (ARCHITECTURE.md, "Contracts"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "tutil.h"

static char *dir_of(const char *name)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tu_tmpdir(), name);
    return dir;
}

/* Runs `sftsim <args> --out dir`; returns the exit code, *err the stderr. */
static int run_out(const char *dir, const char *const *args, char **err)
{
    char *out;
    int rc = tu_run_with(args, "--out", dir, &out, err);
    free(out);
    return rc;
}

static long file_size(const char *dir, const char *name)
{
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (long)st.st_size : -1;
}

static unsigned char *head(const char *dir, const char *name, size_t n)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("no %s", path);
    unsigned char *b = calloc(n + 1, 1);
    if (fread(b, 1, n, f) != n) fail_msg("%s: shorter than %zu bytes", path, n);
    fclose(f);
    return b;
}

/* A PNG (signature, IHDR) of the Gantt's page width; returns its height. */
static unsigned png_height(const char *dir, const char *name)
{
    unsigned char *b = head(dir, name, 24);
    assert_memory_equal(b, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    unsigned w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
    unsigned h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
    assert_int_equal(w, 1600); /* reports/gantt.c PAGE_W */
    free(b);
    return h;
}

static void is_svg(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = tu_slurp(path);
    assert_true(strncmp(t, "<?xml", 5) == 0);
    assert_non_null(strstr(t, "<svg"));
    assert_non_null(strstr(t, "</svg>"));
    free(t);
}

/* No "<file>.tmp.<pid>" left in dir. */
static void no_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *x; (x = readdir(d));)
        if (strstr(x->d_name, ".tmp.")) fail_msg("temporary file left behind: %s", x->d_name);
    closedir(d);
}

static void run_files(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps", "1", NULL};
    char *dir = dir_of("run"), *err;
    assert_int_equal(run_out(dir, args, &err), 0);
    free(err);
    static const char *const files[] = {"summary.json", "timeline.h5",  "trace.json.gz",
                                        "schedule.dot", "schedule.svg", "gantt.png",
                                        "gantt.svg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (file_size(dir, files[i]) <= 0) fail_msg("%s missing or empty", files[i]);
    unsigned char *h5 = head(dir, "timeline.h5", 8), *gz = head(dir, "trace.json.gz", 2);
    assert_memory_equal(h5, "\x89HDF\r\n\x1a\n", 8);
    assert_memory_equal(gz, "\x1f\x8b", 2);
    free(h5);
    free(gz);
    unsigned h1 = png_height(dir, "gantt.png");
    is_svg(dir, "gantt.svg");
    no_tmp(dir);
    /* compare: a panel per policy, so a taller page with the same width */
    const char *cargs[] = {"compare", "--steps", "1", NULL};
    dir = dir_of("compare");
    assert_int_equal(run_out(dir, cargs, &err), 0);
    free(err);
    assert_true(png_height(dir, "gantt.png") > h1);
    is_svg(dir, "gantt.svg");
    static const char *const pols[] = {"deepspeed", "sorted", "dacp", "skrull"};
    for (int i = 0; i < 4; i++) {
        char f[64];
        snprintf(f, sizeof f, "schedule-%s.dot", pols[i]);
        assert_true(file_size(dir, f) > 0);
        snprintf(f, sizeof f, "schedule-%s.svg", pols[i]);
        is_svg(dir, f);
    }
    no_tmp(dir);
}

/* 128 GPUs: more than the Gantt's 64 rows, every other GPU is drawn. */
static void gantt_many_gpus(void **state)
{
    (void)state;
    const char *args[] = {"run",  "--steps", "1",       "--gpus", "128",           "--dp",  "16",
                          "--cp", "8",       "--batch", "8",      "--granularity", "layer", NULL};
    char *dir = dir_of("g128"), *err;
    assert_int_equal(run_out(dir, args, &err), 0);
    free(err);
    png_height(dir, "gantt.png");
    is_svg(dir, "gantt.svg");
    no_tmp(dir);
}

/* --out names a regular file: nothing can be written; the message says so. */
static void out_is_a_file(void **state)
{
    (void)state;
    const char *path = tu_write("not-a-dir", "x");
    const char *args[] = {"run", "--steps", "1", NULL};
    char *err;
    assert_int_equal(run_out(path, args, &err), SFT_EINPUT);
    assert_non_null(strstr(err, path));
    free(err);
}

/* One report's name is taken by a directory: writing it fails at the
 * rename. The run exits 4 (an output could not be written) naming that file; the reports before it
 * are complete, none after it is written, nothing temporary remains. */
static void fail_at(const char *name, const char *const *before, const char *const *after)
{
    char sub[64];
    snprintf(sub, sizeof sub, "fail-%s", name);
    char *dir = dir_of(sub);
    char path[700];
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/keep", dir, name);
    fclose(fopen(path, "w")); /* non-empty: rename cannot replace it */
    const char *args[] = {"run", "--steps", "1", NULL};
    char *err;
    assert_int_equal(run_out(dir, args, &err), SFT_EOUTPUT);
    if (!strstr(err, name)) fail_msg("the message does not name %s: %s", name, err);
    free(err);
    for (int i = 0; before[i]; i++)
        if (file_size(dir, before[i]) <= 0) fail_msg("%s should be complete", before[i]);
    for (int i = 0; after[i]; i++)
        if (file_size(dir, after[i]) >= 0) fail_msg("%s written after a failure", after[i]);
    no_tmp(dir);
}

static void fail_timeline(void **state)
{
    (void)state;
    const char *before[] = {"summary.json", NULL};
    const char *after[] = {"trace.json.gz", "schedule.dot", "gantt.png", NULL};
    fail_at("timeline.h5", before, after);
}

static void fail_trace(void **state)
{
    (void)state;
    const char *before[] = {"summary.json", "timeline.h5", NULL};
    const char *after[] = {"schedule.dot", "gantt.png", NULL};
    fail_at("trace.json.gz", before, after);
}

static void fail_graph(void **state)
{
    (void)state;
    const char *before[] = {"summary.json", "timeline.h5", "trace.json.gz", "schedule.dot", NULL};
    const char *after[] = {"gantt.png", NULL};
    fail_at("schedule.svg", before, after);
}

static void fail_gantt(void **state)
{
    (void)state;
    const char *before[] = {"timeline.h5", "schedule.svg", "gantt.png", NULL};
    const char *after[] = {NULL};
    fail_at("gantt.svg", before, after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_files),     cmocka_unit_test(gantt_many_gpus),
        cmocka_unit_test(out_is_a_file), cmocka_unit_test(fail_timeline),
        cmocka_unit_test(fail_trace),    cmocka_unit_test(fail_graph),
        cmocka_unit_test(fail_gantt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
