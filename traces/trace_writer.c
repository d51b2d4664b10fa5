/* trace_writer.c — the JSONL trace writer: one global batch per line, in the
 * compact form {"step":S,"samples":[{"id":I,"len":L},...]} that the reader
 * (trace_src.c) accepts, each line ending in a newline.
 *
 * Invariant: a file target is written under a temporary name (sft_ofile) and
 * appears only when trace_writer_close succeeds, so a failed or interrupted
 * generation never leaves a truncated trace behind.
 */
#include "traces/trace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
    fprintf(w->fp, "{\"step\":%ld,\"samples\":[", b->step);
    for (size_t i = 0; i < b->n; i++)
        fprintf(w->fp, "%s{\"id\":%" PRId64 ",\"len\":%" PRId64 "}", i ? "," : "", b->s[i].id,
                b->s[i].len);
    fputs("]}\n", w->fp);
    if (ferror(w->fp)) return sft_errf(e, SFT_EINTERNAL, "%s: write failed", w->name);
    return SFT_OK;
}

sft_status trace_writer_close(trace_writer *w, sft_err *e)
{
    sft_status st = SFT_OK;
    if (w->of)
        st = sft_ofile_commit(w->of, e);
    else if (fflush(w->fp) != 0 || ferror(w->fp))
        st = sft_errf(e, SFT_EINTERNAL, "%s: write failed", w->name);
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
