/* trace_writer.c — the JSONL trace writer: one global batch per line, in the
 * compact form {"step":S,"samples":[{"id":I,"len":L},...]} that the reader
 * (trace_src.c) accepts, each line ending in a newline.
 *
 * Invariant: a file target is written under a temporary name (sft_ofile) and
 * appears only when trace_writer_close succeeds, so a failed or interrupted
 * generation never leaves a truncated trace behind. The target is checked
 * before anything is generated (README.md: bad input is found before any
 * work): an empty name, one too long, a directory, or a parent that cannot
 * be created (missing parents are made, like mkdir -p) is bad input; a write that fails later (a
 * full disk) is an output failure (EOUTPUT) naming the file and strerror.
 */
#include "traces/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#ifndef NAME_MAX
#define NAME_MAX 255
#endif

/* The target is a name this system can create: EINPUT otherwise. Creates
 * the missing parent directories. */
static sft_status check_target(const char *path, sft_err *e)
{
    if (!path[0]) return sft_errf(e, SFT_EINPUT, "-o '': expected a file name for the trace");
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return sft_errf(e, SFT_EINPUT, "-o %.64s...: file name too long (%zu bytes; at most %d)",
                        path, n, PATH_MAX - 1);
    for (const char *p = path; *p;) {
        const char *q = strchr(p, '/');
        size_t k = q ? (size_t)(q - p) : strlen(p);
        if (k > NAME_MAX)
            return sft_errf(e, SFT_EINPUT,
                            "%s: file name too long (a component of %zu bytes; at most %d)", path,
                            k, NAME_MAX);
        p += k + (q != NULL);
    }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return sft_errf(e, SFT_EINPUT, "%s: is a directory (-o takes the trace file's name)", path);
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char *dir = sft_xstrdup(path);
        dir[slash - path] = '\0';
        sft_status r = sft_mkdir(dir, e);
        free(dir);
        if (r) return sft_err_prefix(e, "-o %s", path);
    }
    return SFT_OK;
}

struct trace_writer {
    sft_ofile *of; /* NULL when writing to standard output */
    FILE *fp;
    char *name; /* for messages */
};

sft_status trace_writer_open(const char *path, trace_writer **out, sft_err *e)
{
    trace_writer *w = sft_xcalloc(1, sizeof *w);
    if (!path || strcmp(path, "-") == 0) {
        w->fp = stdout;
        w->name = sft_xstrdup("<stdout>");
    } else {
        sft_status st = check_target(path, e);
        if (st) {
            free(w);
            return st;
        }
        w->of = sft_ofile_open(path, e);
        if (!w->of) {
            free(w);
            return e ? e->status : SFT_EINPUT;
        }
        w->fp = sft_ofile_fp(w->of);
        w->name = sft_xstrdup(path);
    }
    *out = w;
    return SFT_OK;
}

sft_status trace_writer_put(trace_writer *w, const trace_batch *b, sft_err *e)
{
    errno = 0;
    fprintf(w->fp, "{\"step\":%ld,\"samples\":[", b->step);
    for (size_t i = 0; i < b->n; i++)
        fprintf(w->fp, "%s{\"id\":%" PRId64 ",\"len\":%" PRId64 "}", i ? "," : "", b->s[i].id,
                b->s[i].len);
    fputs("]}\n", w->fp);
    /* stdio keeps the errno of the write(2) that failed (ENOSPC, EIO) */
    if (ferror(w->fp))
        return sft_errf(e, SFT_EOUTPUT, "%s: write failed: %s", w->name,
                        strerror(errno ? errno : EIO));
    return SFT_OK;
}

sft_status trace_writer_close(trace_writer *w, sft_err *e)
{
    sft_status st = SFT_OK;
    if (w->of) {
        st = sft_ofile_commit(w->of, e);
    } else {
        errno = 0;
        if (fflush(w->fp) != 0 || ferror(w->fp))
            st = sft_errf(e, SFT_EOUTPUT, "%s: write failed: %s", w->name,
                          strerror(errno ? errno : EIO));
    }
    free(w->name);
    free(w);
    return st;
}

void trace_writer_abort(trace_writer *w)
{
    if (!w) return;
    if (w->of) sft_ofile_abort(w->of);
    free(w->name);
    free(w);
}
