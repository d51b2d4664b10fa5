/* tutil.h — helpers shared by the tests: run the sftsim binary and capture
 * its exit code, stdout and stderr; write scratch files; parse inline
 * clusters. Header-only (static functions) so each test links what it uses. */
#ifndef SFT_TUTIL_H
#define SFT_TUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"

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

/* Runs sftsim with args (NULL-terminated, without argv[0]) followed by the
 * two extra arguments a and b when not NULL; as tu_run. */
static inline int tu_run_with(const char *const *args, const char *a, const char *b, char **out,
                              char **err)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = NULL;
    for (int i = 0; args[i] && n < 60; i++) argv[n++] = args[i];
    if (a) argv[n++] = a;
    if (b) argv[n++] = b;
    argv[n] = NULL;
    return tu_run(argv, out, err);
}

/* `sftsim <args> --format json` must exit with code; returns the parsed
 * document (cJSON_Delete it). */
static inline cJSON *tu_run_json(int code, const char *const *args)
{
    char *out, *err;
    int rc = tu_run_with(args, "--format", "json", &out, &err);
    if (rc != code) fail_msg("exit %d, want %d: %s", rc, code, err);
    cJSON *j = cJSON_Parse(out);
    if (!j) fail_msg("not JSON: %.200s", out);
    free(out);
    free(err);
    return j;
}

/* `sftsim <args> --out <scratch>/<name>` must exit 0; returns the directory
 * (static storage, overwritten by the next call). */
static inline const char *tu_run_out(const char *name, const char *const *args)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tu_tmpdir(), name);
    char *out, *err;
    int rc = tu_run_with(args, "--out", dir, &out, &err);
    if (rc != 0) fail_msg("sftsim exit %d: %s", rc, err);
    free(out);
    free(err);
    return dir;
}

#endif
