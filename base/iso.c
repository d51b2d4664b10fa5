/* iso.c — fork-isolated calls (see iso.h). */
#include "base/iso.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

sft_status iso_run(int (*fn)(void *arg, FILE *out), void *arg, char **out, size_t *len, int *code,
                   sft_err *e)
{
    int fd[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(fd) != 0) return sft_errf(e, SFT_EINTERNAL, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return sft_errf(e, SFT_EINTERNAL, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fd[0]);
        FILE *f = fdopen(fd[1], "w");
        int rc = f ? fn(arg, f) : 1;
        if (f) fclose(f);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    close(fd[1]);
    size_t cap = 4096, n = 0;
    char *buf = sft_xmalloc(cap);
    for (;;) {
        if (n + 1024 + 1 > cap) {
            cap *= 2;
            buf = sft_xrealloc(buf, cap);
        }
        ssize_t r = read(fd[0], buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd[0]);
    buf[n] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;
    *code = WIFEXITED(status) ? WEXITSTATUS(status)
                              : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    *out = buf;
    if (len) *len = n;
    return SFT_OK;
}
