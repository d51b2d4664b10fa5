/* test_base.c — the input, output and signal contract of base/base.c: inputs
 * are regular files under a limit (a FIFO or a device never hangs or
 * exhausts memory), output directories are made like mkdir -p and proved
 * writable, dead runs' temporaries are cleared, a fatal signal removes this
 * process's temporaries, a full disk is EOUTPUT with strerror. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tutil.h"

static const char *path_in(const char *name)
{
    static char p[4][512];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, 512, "%s/%s", tu_tmpdir(), name);
    return s;
}

static void inputs_must_be_regular_files(void **state)
{
    (void)state;
    sft_err e = {0};
    char *text = NULL;
    /* a FIFO with no writer: open(2) without O_NONBLOCK would block forever */
    const char *fifo = path_in("fifo");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(sft_read_file(fifo, &text, NULL, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "is a FIFO"));
    assert_non_null(strstr(e.msg, fifo));
    /* /dev/zero never ends: refused before the first byte is read */
    assert_int_equal(sft_read_file("/dev/zero", &text, NULL, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "/dev/zero: is a character device"));
    assert_int_equal(sft_read_file(tu_tmpdir(), &text, NULL, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "is a directory"));
    assert_int_equal(sft_read_file(path_in("missing.json"), &text, NULL, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "No such file"));
}

static void inputs_have_a_size_limit(void **state)
{
    (void)state;
    sft_err e = {0};
    char *text = NULL;
    size_t n = 0;
    const char *f = tu_write("ten.txt", "0123456789");
    /* limit 9 < 10 bytes: refused by fstat's size, nothing read */
    assert_int_equal(sft_read_input(f, 9, 0, &text, &n, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "10 bytes"));
    /* exactly at the limit: read whole */
    assert_int_equal(sft_read_input(f, 10, 0, &text, &n, &e), SFT_OK);
    assert_int_equal(n, 10);
    assert_string_equal(text, "0123456789");
    free(text);
    /* "-" is standard input only where the caller allows it */
    assert_int_equal(sft_read_input("-", 10, 0, &text, &n, &e), SFT_EINPUT);
}

static void mkdir_makes_parents_and_refuses_files(void **state)
{
    (void)state;
    sft_err e = {0};
    const char *deep = path_in("a/b//c/d");
    assert_int_equal(sft_mkdir(deep, &e), SFT_OK);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(sft_mkdir(deep, &e), SFT_OK); /* idempotent, like mkdir -p */
    const char *file = tu_write("plain", "x");
    assert_int_equal(sft_outdir_prepare("--out", file, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "--out"));
    assert_non_null(strstr(e.msg, "not a directory"));
    char under[600];
    snprintf(under, sizeof under, "%s/sub", file);
    assert_int_equal(sft_outdir_prepare("--out", under, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "not a directory"));
    assert_int_equal(sft_outdir_prepare("--out", "", &e), SFT_EINPUT);
}

/* A pid that names no process: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static void stale_temporaries_of_dead_runs_are_removed(void **state)
{
    (void)state;
    sft_err e = {0};
    const char *dir = path_in("stale");
    assert_int_equal(sft_mkdir(dir, &e), SFT_OK);
    char dead[600], live[600], other[600];
    snprintf(dead, sizeof dead, "%s/summary.json.tmp.%ld", dir, (long)dead_pid());
    snprintf(live, sizeof live, "%s/trace.json.gz.tmp.%ld", dir, (long)getppid());
    snprintf(other, sizeof other, "%s/notes.tmp.txt", dir);
    tu_write("stale/summary.json.tmp.0", ""); /* pid 0 is no run's: not ours to judge */
    FILE *f;
    assert_non_null(f = fopen(dead, "w"));
    fclose(f);
    assert_non_null(f = fopen(live, "w"));
    fclose(f);
    assert_non_null(f = fopen(other, "w"));
    fclose(f);
    assert_int_equal(sft_outdir_prepare("--out", dir, &e), SFT_OK);
    assert_int_equal(access(dead, F_OK), -1); /* its process is gone */
    assert_int_equal(access(live, F_OK), 0);  /* a live process's (our parent's) */
    assert_int_equal(access(other, F_OK), 0); /* not of the "<name>.tmp.<pid>" form */
    char zero[600];
    snprintf(zero, sizeof zero, "%s/summary.json.tmp.0", dir);
    assert_int_equal(access(zero, F_OK), 0);
}

/* A child opens an output, writes, and is killed by sig before commit. */
static void signal_removes_open_temporaries(void **state)
{
    (void)state;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/sig%d.json", tu_tmpdir(), sigs[i]);
        int fd[2];
        assert_int_equal(pipe(fd), 0);
        pid_t p = fork();
        if (p == 0) {
            close(fd[0]);
            sft_cleanup_on_signals();
            sft_err ce = {0};
            sft_ofile *of = sft_ofile_open(path, &ce);
            if (!of) _exit(9);
            fputs("{\"half\":", sft_ofile_fp(of));
            fflush(sft_ofile_fp(of));
            char pidbuf[32];
            int k = snprintf(pidbuf, sizeof pidbuf, "%ld\n", (long)getpid());
            if (write(fd[1], pidbuf, (size_t)k) != k) _exit(9);
            for (;;) pause();
        }
        close(fd[1]);
        char got[32] = {0};
        assert_true(read(fd[0], got, sizeof got - 1) > 0);
        close(fd[0]);
        char tmp[700];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)p);
        assert_int_equal(access(tmp, F_OK), 0); /* the temporary exists mid-write */
        kill(p, sigs[i]);
        int status = 0;
        waitpid(p, &status, 0);
        /* died of the signal itself (default action re-raised), file gone */
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), sigs[i]);
        assert_int_equal(access(tmp, F_OK), -1);
        assert_int_equal(access(path, F_OK), -1);
    }
}

/* A 64 KiB tmpfs filled by a 1 MiB write: commit is EOUTPUT with ENOSPC's
 * text, and neither the final name nor the temporary remains. Needs root
 * and mount(2); skipped otherwise. */
static void full_disk_is_an_output_error(void **state)
{
    (void)state;
    const char *mnt = path_in("full");
    sft_err e = {0};
    assert_int_equal(sft_mkdir(mnt, &e), SFT_OK);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
        print_message("no tmpfs mount here (%s): skipped\n", strerror(errno));
        skip();
    }
    char path[600];
    snprintf(path, sizeof path, "%s/big.bin", mnt);
    size_t n = 1 << 20;
    char *buf = sft_xcalloc(n, 1);
    sft_status st = sft_write_file(path, buf, n, &e);
    free(buf);
    int gone = access(path, F_OK) == -1;
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int tmp_gone = access(tmp, F_OK) == -1;
    umount(mnt);
    assert_int_equal(st, SFT_EOUTPUT);
    assert_non_null(strstr(e.msg, "big.bin"));
    assert_non_null(strstr(e.msg, strerror(ENOSPC)));
    assert_true(gone);
    assert_true(tmp_gone);
}

static void utf8_validation(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"h100-sxm", 1},
        {"caf\xc3\xa9", 1},      /* U+00E9 */
        {"\xe2\x82\xac", 1},     /* U+20AC */
        {"\xf0\x9f\x98\x80", 1}, /* U+1F600 */
        {"\xff", 0},             /* never valid */
        {"\xc3", 0},             /* truncated two-byte */
        {"\xc0\xaf", 0},         /* overlong '/' */
        {"\xe0\x80\xaf", 0},     /* overlong, three bytes */
        {"\xed\xa0\x80", 0},     /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
        {"ab\xe2\x82", 0},       /* truncated at the end */
        {"\xe2\x28\xa1", 0},     /* bad continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sft_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu: want %d", i, cases[i].ok);
}

/* What sft_load_data hands its parser: a record of the call. */
typedef struct load_seen {
    int calls;
    char origin[64];
    size_t len;
} load_seen;

static sft_status record_load(const char *text, const char *origin, void *ctx, sft_err *e)
{
    load_seen *s = ctx;
    s->calls++;
    snprintf(s->origin, sizeof s->origin, "%s", origin);
    s->len = strlen(text);
    return strstr(text, "\"schema\"") ? SFT_OK : sft_errf(e, SFT_EINPUT, "%s: no schema", origin);
}

/* The loader of every NAME|FILE option: a built-in by name, a file by path
 * (its origin the path, so messages name the file), and an unknown name
 * refused before any parser runs. */
static void load_data_finds_builtins_and_files(void **state)
{
    (void)state;
    sft_err e = {0};
    load_seen s = {0};
    assert_int_equal(sft_load_data("clusters", "h100x8", record_load, &s, &e), SFT_OK);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.origin, "built-in h100x8");
    size_t len = 0;
    assert_non_null(sft_builtin("clusters", "h100x8", &len));
    assert_int_equal(s.len, len);

    const char *f = path_in("load.json");
    assert_int_equal(sft_write_file(f, "{}", 2, &e), SFT_OK);
    assert_int_equal(sft_load_data("clusters", f, record_load, &s, &e), SFT_EINPUT);
    assert_int_equal(s.calls, 2);
    assert_string_equal(s.origin, f);
    assert_non_null(strstr(e.msg, "load.json: no schema"));

    assert_int_equal(sft_load_data("clusters", "no-such-cluster", record_load, &s, &e), SFT_EINPUT);
    assert_int_equal(s.calls, 2);
    assert_non_null(strstr(e.msg, "unknown cluster 'no-such-cluster'"));
}

/* SFT_DASSERT: on in the Debug and sanitizer builds, compiled out of
 * Release (-O2 without NDEBUG) without evaluating its condition. */
static void debug_assert_tier(void **state)
{
    (void)state;
    int evaluated = 0;
    SFT_DASSERT((evaluated = 1) != 0, "never fails");
    assert_int_equal(evaluated, SFT_DASSERT_ON);
#if defined(__OPTIMIZE__) && !defined(SFT_SANITIZE)
    assert_int_equal(SFT_DASSERT_ON, 0);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inputs_must_be_regular_files),
        cmocka_unit_test(inputs_have_a_size_limit),
        cmocka_unit_test(mkdir_makes_parents_and_refuses_files),
        cmocka_unit_test(stale_temporaries_of_dead_runs_are_removed),
        cmocka_unit_test(signal_removes_open_temporaries),
        cmocka_unit_test(full_disk_is_an_output_error),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(load_data_finds_builtins_and_files),
        cmocka_unit_test(debug_assert_tier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
