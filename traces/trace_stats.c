/* trace_stats.c — length statistics of a trace (`sftsim trace stats`).
 *
 * Definitions (traces/README.md): mean = tokens / samples; percentiles are
 * nearest-rank: the p-th percentile is the smallest length L such that at
 * least p% of the samples are <= L, i.e. the ceil(p x n / 100)-th smallest;
 * "percent below C" counts lengths strictly less than C; histogram bin k
 * counts lengths in [2^k, 2^(k+1)).
 *
 * Invariants: lens holds every length added (as uint32: TRACE_MAX_LEN fits),
 * so percentiles are exact; memory is 4 bytes a sample (4 MB per million).
 */
#include "traces/trace.h"

#include <stdlib.h>
#include <string.h>

struct trace_stats {
    uint32_t *lens;
    size_t n, cap;
    long steps;
    int64_t tokens, step_min, step_max;
};

static const int64_t cuts[TRACE_NCUTS] = {1024, 4096, 8192, 32768, 131072};

trace_stats *trace_stats_create(void)
{
    return sft_xcalloc(1, sizeof(trace_stats));
}

void trace_stats_add(trace_stats *st, const trace_batch *b)
{
    SFT_GROW(st->lens, st->cap, st->n + b->n);
    int64_t tok = 0;
    for (size_t i = 0; i < b->n; i++) {
        SFT_CHECK(b->s[i].len >= 1 && b->s[i].len <= TRACE_MAX_LEN,
                  "trace sample %lld has length %lld outside [1, %d]", (long long)b->s[i].id,
                  (long long)b->s[i].len, TRACE_MAX_LEN);
        st->lens[st->n++] = (uint32_t)b->s[i].len;
        tok += b->s[i].len;
    }
    if (st->steps == 0 || tok < st->step_min) st->step_min = tok;
    if (st->steps == 0 || tok > st->step_max) st->step_max = tok;
    st->steps++;
    st->tokens += tok;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The ceil(p x n / 100)-th smallest of the n sorted lengths. */
static int64_t nearest_rank(const uint32_t *sorted, size_t n, int p)
{
    size_t rank = ((size_t)p * n + 99) / 100;
    return sorted[rank - 1];
}

/* How many sorted lengths are < cut. */
static size_t count_below(const uint32_t *sorted, size_t n, int64_t cut)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)sorted[mid] < cut)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void trace_stats_summarize(trace_stats *st, trace_summary *out)
{
    memset(out, 0, sizeof *out);
    for (int k = 0; k < TRACE_NCUTS; k++) out->below[k] = cuts[k];
    if (st->n == 0) return;
    qsort(st->lens, st->n, sizeof *st->lens, cmp_u32);
    size_t n = st->n;
    out->samples = (int64_t)n;
    out->tokens = st->tokens;
    out->steps = st->steps;
    out->mean = (double)st->tokens / (double)n;
    out->min = st->lens[0];
    out->max = st->lens[n - 1];
    out->p50 = nearest_rank(st->lens, n, 50);
    out->p90 = nearest_rank(st->lens, n, 90);
    out->p99 = nearest_rank(st->lens, n, 99);
    for (int k = 0; k < TRACE_NCUTS; k++)
        out->percent[k] = 100.0 * (double)count_below(st->lens, n, cuts[k]) / (double)n;
    out->tokens_per_step_mean = (double)st->tokens / (double)st->steps;
    out->tokens_per_step_min = st->step_min;
    out->tokens_per_step_max = st->step_max;
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        while (st->lens[i] >> (k + 1)) k++;
        out->hist[k]++;
    }
}

void trace_stats_destroy(trace_stats *st)
{
    if (!st) return;
    free(st->lens);
    free(st);
}
