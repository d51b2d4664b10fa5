/* tutil.h — helpers shared by the tests: run the sftsim binary and capture
 * its exit code, stdout and stderr; write scratch files; parse inline
 * clusters. Header-only (static functions) so each test links what it uses. */
#ifndef SFT_TUTIL_H
#define SFT_TUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base.h"

/* Path of the sftsim binary (SFT_BIN is set by ctest). */
static inline const char *tu_sftsim(void)
{
    static char path[4096];
    const char *b = getenv("SFT_BIN");
    snprintf(path, sizeof path, "%s/sftsim", b ? b : ".");
    return path;
}

/* A scratch directory for this test executable, created once. */
static inline const char *tu_tmpdir(void)
{
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/sftsim-test-XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    return dir;
}

/* Writes text to a file in the scratch dir; returns its path (static buffer rotation). */
static inline const char *tu_write(const char *name, const char *text)
{
    static char paths[8][512];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 512, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
    return p;
}

static inline char *tu_slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    sft_err e;
    if (sft_read_file(path, &s, &n, &e) != SFT_OK) return sft_xstrdup("");
    return s;
}

/* Runs argv (argv[0] replaced by the sftsim binary when NULL); captures
 * stdout and stderr (caller frees); returns the exit code (128+sig if killed). */
static inline int tu_run(const char *const *argv, char **out, char **err)
{
    char fo[600], fe[600];
    snprintf(fo, sizeof fo, "%s/run.out", tu_tmpdir());
    snprintf(fe, sizeof fe, "%s/run.err", tu_tmpdir());
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(fo, "wb", stdout) || !freopen(fe, "wb", stderr)) _exit(127);
        const char *args[64];
        int n = 0;
        args[n++] = argv[0] ? argv[0] : tu_sftsim();
        for (int i = 1; argv[i] && n < 63; i++) args[n++] = argv[i];
        args[n] = NULL;
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (out) *out = tu_slurp(fo);
    if (err) *err = tu_slurp(fe);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
