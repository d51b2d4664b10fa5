/* test_traces_util.c — see test_traces_util.h. */
#include "test_traces_util.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

char *tt_dir(const char *name)
{
    const char *bin = getenv("SFT_BIN");
    if (!bin) {
        print_message("SFT_BIN is not set: run this test through ctest\n");
        skip();
    }
    char *top = join(bin, "test_traces");
    assert_true(mkdir(top, 0777) == 0 || errno == EEXIST);
    char *d = join(top, name);
    assert_true(mkdir(d, 0777) == 0 || errno == EEXIST);
    free(top);
    return d;
}

char *tt_path(const char *dir, const char *name)
{
    return join(dir, name);
}

char *tt_data(const char *name)
{
    const char *src = getenv("SFT_SRC");
    if (!src) {
        print_message("SFT_SRC is not set: run this test through ctest\n");
        skip();
    }
    char *d = join(src, "tests/data/traces");
    char *p = join(d, name);
    free(d);
    return p;
}

void tt_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size_t n = strlen(text);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

char *tt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static void redirect(const char *path, int fd, int flags)
{
    int f = open(path, flags, 0666);
    if (f < 0 || dup2(f, fd) < 0) _exit(127);
    close(f);
}

int tt_sftsim(const char *in, const char *out, const char *err, const char *const *args)
{
    const char *bin = getenv("SFT_BIN");
    if (!bin) {
        print_message("SFT_BIN is not set: run this test through ctest\n");
        skip();
    }
    char *exe = join(bin, "sftsim");
    size_t n = 0;
    while (args[n]) n++;
    char **argv = calloc(n + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = exe;
    for (size_t i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        redirect(in ? in : "/dev/null", 0, O_RDONLY);
        redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC);
        redirect(err, 2, O_WRONLY | O_CREAT | O_TRUNC);
        execv(exe, argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    free(argv);
    free(exe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
