/* trace_dist.c — dataset length distributions: parse and validate the
 * datasets/NAME.json files (schema 1) and draw lengths from them.
 *
 * A distribution is a CDF given at a few cut points ("percent of samples
 * with length below `below`"), a shortest length min_len and a longest
 * max_len. Inside each interval between cuts lengths are log-uniform (method
 * "loguniform"): a Long-SFT length distribution spans four decades, and a
 * density uniform in log(length) is the least informative shape that keeps
 * every interval's probability exactly as the table gives it.
 *
 * Invariants after parsing: bins hold only intervals of positive probability,
 * in increasing order; bin[i] covers integer lengths [lo, hi) with
 * min_len <= lo < hi <= max_len + 1; cum is strictly increasing and the last
 * bin's cum is exactly 1.
 *
 * Determinism: a draw uses one gsl_rng_uniform (the bin) and one 32-bit
 * gsl_rng_get (the position inside it, u = k / 2^32). The log-uniform point
 * lo * (hi/lo)^u is computed as lo times the product of the roots
 * (hi/lo)^(2^-j) for the bits j set in k; the roots come from repeated
 * square roots. IEEE-754 makes sqrt and multiplication correctly rounded, so
 * unlike exp/log from a libm, which may differ in the last bit between
 * machines, every machine gets the same lengths (the compiler must not fuse or
 * reorder floating-point operations: no -ffast-math, which the build never uses).
 */
#include "traces/trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"

#define DIST_MAX_POINTS 64
#define DIST_UBITS      32 /* bits of the within-bin position: one gsl_rng_get of mt19937 */

typedef struct dist_bin {
    double cum;              /* probability that a length falls in this bin or an earlier one */
    int64_t lo, hi;          /* lengths in [lo, hi) */
    double root[DIST_UBITS]; /* root[j] = (hi/lo)^(2^-(j+1)) */
} dist_bin;

struct trace_dist {
    char *name, *origin;
    int64_t min_len, max_len;
    int nbins;
    dist_bin *bin;
};

static const char *const top_keys[] = {"schema", "name",    "description", "source", "notes",
                                       "method", "min_len", "max_len",     "cdf",    NULL};
static const char *const point_keys[] = {"below", "percent", NULL};

/* The valid range of every number of a dataset file (README.md, "Inputs,
 * outputs and exit codes"), with its reason: the one place they are stated
 * (traces/README.md shows them). */
enum { R_MIN_LEN, R_MAX_LEN, R_BELOW, R_PERCENT, R_COUNT };

#define LEN_WHY "a sample length: 1 token to TRACE_MAX_LEN, far above any real sequence"

static const jx_range dist_range_table[R_COUNT] = {
    [R_MIN_LEN] = {"min_len", 1, TRACE_MAX_LEN, JX_INT, "tokens", LEN_WHY},
    [R_MAX_LEN] = {"max_len", 1, TRACE_MAX_LEN, JX_INT, "tokens", LEN_WHY "; >= min_len"},
    [R_BELOW] = {"cdf[].below", 2, TRACE_MAX_LEN, JX_INT, "tokens",
                 "a cut above min_len (its lower bound is min_len + 1), increasing"},
    [R_PERCENT] = {"cdf[].percent", 0, 100, 0, "%", "a cumulative percentage, never decreasing"},
};

const jx_range *trace_dist_ranges(size_t *n)
{
    *n = R_COUNT;
    return dist_range_table;
}

static void add_bin(trace_dist *d, int64_t lo, int64_t hi, double cum)
{
    d->bin = sft_xrealloc(d->bin, (size_t)(d->nbins + 1) * sizeof *d->bin);
    dist_bin *b = &d->bin[d->nbins++];
    b->lo = lo;
    b->hi = hi;
    b->cum = cum;
    double r = sqrt((double)hi / (double)lo);
    for (int j = 0; j < DIST_UBITS; j++) {
        b->root[j] = r;
        r = sqrt(r);
    }
}

/* Reads the "cdf" array into bins, checking that it is a CDF over
 * [min_len, max_len]. */
static sft_status parse_cdf(const jx_ctx *c, const cJSON *j, trace_dist *d)
{
    const cJSON *arr;
    sft_status st = jx_arr(c, j, "cdf", JX_REQ, &arr);
    if (st) return st;
    int n = cJSON_GetArraySize(arr);
    if (n < 1 || n > DIST_MAX_POINTS)
        return jx_fail(c, "cdf",
                       "expected 1 to %d points like {\"below\":1024,\"percent\":87.9} "
                       "(got %d)",
                       DIST_MAX_POINTS, n);
    int64_t lo = d->min_len;
    double prev = 0;
    int i = 0;
    for (const cJSON *p = arr->child; p; p = p->next, i++) {
        jx_ctx pc = jx_elem(c, "cdf", i);
        long below = 0;
        double pct = 0;
        jx_range rb = dist_range_table[R_BELOW];
        rb.lo = (double)d->min_len + 1;
        if ((st = jx_keys(&pc, p, point_keys))) return st;
        if ((st = jx_long_in(&pc, p, "below", JX_REQ, &rb, &below))) return st;
        if ((st = jx_num_in(&pc, p, "percent", JX_REQ, &dist_range_table[R_PERCENT], &pct)))
            return st;
        if (i > 0 && below <= lo)
            return jx_fail(&pc, "below", "cuts must increase: %ld is not above the previous %lld",
                           below, (long long)lo);
        if (pct < prev)
            return jx_fail(&pc, "percent",
                           "a CDF cannot decrease: %g is below the previous point's %g", pct, prev);
        if (below > d->max_len && pct != 100)
            return jx_fail(&pc, "percent",
                           "must be 100: no length exceeds max_len %lld, so all are below %ld "
                           "(got %g)",
                           (long long)d->max_len, below, pct);
        if (pct > prev) {
            int64_t hi = below < d->max_len + 1 ? below : d->max_len + 1;
            add_bin(d, lo, hi, pct / 100.0);
        }
        lo = below;
        prev = pct;
    }
    /* The tail: lengths from the last cut to max_len (reachable by the check
     * above whenever it has mass). */
    if (prev < 100) add_bin(d, lo, d->max_len + 1, 1.0);
    d->bin[d->nbins - 1].cum = 1.0;
    return SFT_OK;
}

sft_status trace_dist_parse(const char *text, const char *origin, trace_dist **out, sft_err *e)
{
    cJSON *j = NULL;
    sft_status st = jx_parse(text, origin, &j, e);
    if (st) return st;
    jx_ctx c = jx_root(origin, e);
    trace_dist *d = sft_xcalloc(1, sizeof *d);
    d->origin = sft_xstrdup(origin);
    const char *method = NULL, *desc = NULL, *source = NULL, *notes = NULL;
    char name[64];
    long min_len = 0, max_len = 0;
    if ((st = jx_keys(&c, j, top_keys))) goto fail;
    if ((st = jx_schema(&c, j, TRACE_DIST_SCHEMA))) goto fail;
    if ((st = jx_name(&c, j, "name", JX_REQ, name, sizeof name))) goto fail;
    if ((st = jx_str(&c, j, "description", 0, &desc))) goto fail;
    if ((st = jx_str(&c, j, "source", JX_TEXT, &source))) goto fail;
    if ((st = jx_str(&c, j, "notes", JX_TEXT, &notes))) goto fail;
    if ((st = jx_str(&c, j, "method", JX_REQ, &method))) goto fail;
    if (strcmp(method, "loguniform") != 0) {
        st = jx_fail(&c, "method",
                     "unknown method '%s' (valid: loguniform = log-uniform inside each CDF "
                     "interval)",
                     method);
        goto fail;
    }
    if ((st = jx_long_in(&c, j, "min_len", JX_REQ, &dist_range_table[R_MIN_LEN], &min_len)))
        goto fail;
    if ((st = jx_long_in(&c, j, "max_len", JX_REQ, &dist_range_table[R_MAX_LEN], &max_len)))
        goto fail;
    if (max_len < min_len) {
        st = jx_fail(&c, "max_len", "must be at least min_len %ld (got %ld)", min_len, max_len);
        goto fail;
    }
    d->min_len = min_len;
    d->max_len = max_len;
    if ((st = parse_cdf(&c, j, d))) goto fail;
    d->name = sft_xstrdup(name);
    cJSON_Delete(j);
    *out = d;
    return SFT_OK;
fail:
    cJSON_Delete(j);
    trace_dist_destroy(d);
    return st;
}

/* trace_dist_parse as sft_load_data's parser: ctx is the trace_dist ** it sets. */
static sft_status dist_parse_data(const char *text, const char *origin, void *ctx, sft_err *e)
{
    return trace_dist_parse(text, origin, ctx, e);
}

sft_status trace_dist_load(const char *name_or_file, trace_dist **out, sft_err *e)
{
    return sft_load_data("datasets", name_or_file, dist_parse_data, out, e);
}

void trace_dist_destroy(trace_dist *d)
{
    if (!d) return;
    free(d->name);
    free(d->origin);
    free(d->bin);
    free(d);
}

const char *trace_dist_name(const trace_dist *d)
{
    return d->name;
}
const char *trace_dist_origin(const trace_dist *d)
{
    return d->origin;
}
int64_t trace_dist_max_len(const trace_dist *d)
{
    return d->max_len;
}

int64_t trace_dist_sample(const trace_dist *d, gsl_rng *rng)
{
    double u = gsl_rng_uniform(rng);
    int i = 0;
    while (u >= d->bin[i].cum) i++; /* ends: the last cum is 1 > u */
    const dist_bin *b = &d->bin[i];
    unsigned long k = gsl_rng_get(rng);
    double x = (double)b->lo;
    for (int j = 0; j < DIST_UBITS; j++)
        if (k >> (DIST_UBITS - 1 - j) & 1) x *= b->root[j];
    int64_t len = (int64_t)x;
    /* x < hi in exact arithmetic; 32 roundings may push a point of a
     * one-token-wide bin near 10M over the edge */
    return len < b->hi ? len : b->hi - 1;
}

gsl_rng *trace_rng_create(uint64_t seed)
{
    SFT_CHECK(seed <= TRACE_SEED_MAX, "trace seed %llu above %lu", (unsigned long long)seed,
              TRACE_SEED_MAX);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    SFT_CHECK(r != NULL, "cannot allocate the random number generator");
    gsl_rng_set(r, (unsigned long)seed + 1);
    return r;
}
