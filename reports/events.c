/* events.c — nanosecond times, step windows and memory curves shared by the
 * reports (events.h). */
#include "reports/events.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int64_t rep_ns(double seconds)
{
    return (int64_t)llround(seconds * 1e9);
}

void rep_stream_ns(const prog *p, const eng_result *r, int gpu, int stream, int64_t *start,
                   int64_t *end)
{
    int n = prog_nops(p, gpu, stream);
    const double *st = r->start[stream] + r->off[stream][gpu];
    const double *en = r->end[stream] + r->off[stream][gpu];
    int64_t prev = INT64_MIN;
    for (int i = 0; i < n; i++) {
        /* the engine's ends of merged runs can exceed the next start by an
         * ulp; rounding must not turn that into an overlap */
        int64_t a = rep_ns(st[i]), b = rep_ns(en[i]);
        if (a < prev) a = prev;
        if (b < a) b = a;
        start[i] = a;
        end[i] = b;
        prev = b;
    }
}

int64_t rep_busy_ns(const prog *p, const eng_result *r, int gpu)
{
    int n = prog_nops(p, gpu, PROG_COMPUTE);
    if (n == 0) return 0;
    int64_t *a = sft_xmalloc((size_t)n * 2 * sizeof *a), *b = a + n;
    rep_stream_ns(p, r, gpu, PROG_COMPUTE, a, b);
    const prog_op *o = prog_ops(p, gpu, PROG_COMPUTE);
    int64_t busy = 0;
    for (int i = 0; i < n; i++)
        if (o[i].kind == PK_COMPUTE || o[i].kind == PK_DELAY) busy += b[i] - a[i];
    free(a);
    return busy;
}

double *rep_step_ends(const prog *p, const eng_result *r, int *nsteps)
{
    int G = prog_ngpus(p), ns = 0;
    for (int g = 0; g < G; g++)
        for (int s = 0; s < PROG_NSTREAMS; s++) {
            const prog_op *o = prog_ops(p, g, s);
            for (int i = 0; i < prog_nops(p, g, s); i++)
                if (o[i].step + 1 > ns) ns = o[i].step + 1;
        }
    *nsteps = ns;
    if (ns == 0) return NULL;
    double *tend = sft_xcalloc((size_t)ns, sizeof *tend);
    for (int g = 0; g < G; g++)
        for (int s = 0; s < PROG_NSTREAMS; s++) {
            const prog_op *o = prog_ops(p, g, s);
            const double *en = r->end[s] + r->off[s][g];
            for (int i = 0; i < prog_nops(p, g, s); i++)
                if (o[i].step >= 0 && en[i] > tend[o[i].step]) tend[o[i].step] = en[i];
        }
    for (int k = 1; k < ns; k++)
        if (tend[k] < tend[k - 1]) tend[k] = tend[k - 1];
    return tend;
}

const char *rep_kind_name(int kind)
{
    static const char *const names[PK_NKINDS] = {"compute", "delay", "memory", "coll",
                                                 "record",  "wait",  "alloc",  "free"};
    return kind >= 0 && kind < PK_NKINDS ? names[kind] : "?";
}

const char *rep_stream_name(int stream)
{
    static const char *const names[PROG_NSTREAMS] = {"compute", "comm", "dp"};
    return stream >= 0 && stream < PROG_NSTREAMS ? names[stream] : "?";
}

const char *rep_cat_name(const rep_src *src, int cat, char *buf, size_t len)
{
    if (src->cat_name && cat >= 0 && cat < src->ncats) return src->cat_name(cat);
    snprintf(buf, len, "%d", cat);
    return buf;
}

static int by_time(const void *x, const void *y)
{
    const rep_memev *a = x, *b = y;
    if (a->ns != b->ns) return a->ns < b->ns ? -1 : 1;
    return (a->ord > b->ord) - (a->ord < b->ord);
}

rep_memev *rep_memory_events(const prog *p, const eng_result *r, int gpu, int *n)
{
    rep_memev *v = NULL;
    size_t cap = 0, k = 0;
    int64_t *a = NULL, *b = NULL;
    size_t nab = 0;
    for (int s = 0; s < PROG_NSTREAMS; s++) {
        const prog_op *o = prog_ops(p, gpu, s);
        int nops = prog_nops(p, gpu, s);
        if ((size_t)nops > nab) {
            nab = (size_t)nops;
            a = sft_xrealloc(a, nab * sizeof *a);
            b = sft_xrealloc(b, nab * sizeof *b);
        }
        rep_stream_ns(p, r, gpu, s, a, b);
        for (int i = 0; i < nops; i++) {
            if (o[i].kind != PK_ALLOC && o[i].kind != PK_FREE) continue;
            SFT_GROW(v, cap, k + 1);
            v[k].ns = a[i];
            v[k].t = (double)a[i] * 1e-9;
            v[k].delta = o[i].kind == PK_ALLOC ? o[i].bytes : -o[i].bytes;
            v[k].ord = (uint64_t)s << 40 | (uint64_t)i;
            v[k++].step = o[i].step;
        }
    }
    free(a);
    free(b);
    if (k > 1) qsort(v, k, sizeof *v, by_time);
    *n = (int)k;
    return v;
}

#if defined(SFT_SANITIZE)
/* LeakSanitizer's hook, called if the program defines it: what the
 * libraries behind the reports never free, none of it ours. Graphviz
 * 2.42/2.43 drops the virtual edges of cluster skeletons (dot layout);
 * fontconfig keeps its configuration and the font patterns cairo's text
 * resolves to for the process's lifetime, out of LeakSanitizer's sight.
 * Every report links this file. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libgvc.so\n"
           "leak:libgvplugin_dot_layout.so\n"
           "leak:libfontconfig.so\n";
}
#endif
