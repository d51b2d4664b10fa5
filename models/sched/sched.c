/* sched.c — the policy registry and the DeepSpeed baseline.
 *
 * deepspeed: DP rank r takes its share of the global batch in trace order;
 * with packing (--ds-pack on) consecutive sequences fill a micro-batch up to
 * BucketSize x CP tokens (the next sequence that would overflow starts a new
 * one); without, every sequence is its own micro-batch (micro-batch size 1,
 * as many long-context recipes run). Every sequence is sharded over the whole
 * CP group (load-balanced causal chunks), short ones included — the cost
 * DACP removes.
 */
#include "models/sched/sched.h"

#include <stdlib.h>
#include <string.h>

static const sched_policy policies[] = {
    {"deepspeed", sched_deepspeed,
     "every sequence sharded over the CP group; micro-batches packed in trace order"},
    {"sorted", sched_sorted,
     "LongAlign sorted batching: lengths sorted, similar lengths batched; all sharded"},
    {"roundrobin", sched_roundrobin,
     "Skrull Alg. 4 on deepspeed's micro-batches: local where space, no load balance"},
    {"dacp", sched_dacp, "Skrull's DACP (Alg. 1, roll-back) on deepspeed's micro-batches"},
    {"skrull", sched_skrull, "Skrull: GDS (Alg. 2) over DP ranks and micro-batches + DACP"},
    {"optimal", sched_optimal,
     "exact MILP (GLPK) of the joint problem for small batches, under a time limit"},
};

const sched_policy *sched_policies(int *n)
{
    *n = (int)(sizeof policies / sizeof policies[0]);
    return policies;
}

const sched_policy *sched_find(const char *name)
{
    int n;
    const sched_policy *p = sched_policies(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0) return &p[i];
    return NULL;
}

sft_status sched_lookup(const sched_policy *tab, int n, const char *name, const sched_policy **out,
                        sft_err *e)
{
    for (int i = 0; i < n; i++)
        if (strcmp(tab[i].name, name) == 0) {
            *out = &tab[i];
            return SFT_OK;
        }
    char list[512] = "";
    size_t off = 0;
    for (int i = 0; i < n && off < sizeof list; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", tab[i].name);
    return sft_errf(e, SFT_EINPUT, "policy '%s': unknown (valid: %s)", name, list);
}

sft_status sched_unknown(const char *name, sft_err *e)
{
    int n;
    const sched_policy *p = sched_policies(&n), *found;
    return sched_lookup(p, n, name, &found, e);
}

sched_in sched_input(const par_opts *par, long bucket, est *es)
{
    return (sched_in){.dp = par->dp,
                      .cp = par->cp,
                      .bucket = bucket,
                      .ds_pack = 1,
                      .rollback = 1,
                      .time_limit_s = 10.0,
                      .est = es};
}

sft_status sched_run(const sched_policy *pol, const sched_in *in, const trace_sample *s, size_t n,
                     plan **out, sft_err *e)
{
    plan *p = plan_create(in->dp, in->cp, in->bucket);
    sft_status st = pol->fn(in, s, n, p, e);
    if (!st) st = plan_check(p, s, n, e);
    if (st) {
        plan_destroy(p);
        return st;
    }
    *out = p;
    return SFT_OK;
}

void sched_split(size_t n, int dp, int r, size_t *first, size_t *count)
{
    size_t base = n / (size_t)dp, extra = n % (size_t)dp;
    *first = (size_t)r * base + ((size_t)r < extra ? (size_t)r : extra);
    *count = base + ((size_t)r < extra ? 1 : 0);
}

sft_status sched_deepspeed(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                           sft_err *e)
{
    (void)e;
    double cap = (double)in->bucket * in->cp;
    for (int r = 0; r < in->dp; r++) {
        size_t first, count;
        sched_split(n, in->dp, r, &first, &count);
        plan_mb *mb = NULL;
        double used = 0;
        for (size_t i = first; i < first + count; i++) {
            double len = (double)s[i].len;
            if (!mb || !in->ds_pack || used + len > cap) {
                mb = plan_add_mb(out, r);
                used = 0;
            }
            plan_mb_add(mb, s[i].id, s[i].len, PLAN_DIST);
            used += len;
        }
    }
    return SFT_OK;
}

typedef struct lenid {
    int64_t len, id;
} lenid;

static int by_len(const void *a, const void *b)
{
    const lenid *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* sorted: the global batch sorted by length, dealt to the DP ranks in turn
 * (rank r takes sorted positions r, r+dp, ...: every rank gets the same mix),
 * then each rank packs consecutive lengths into micro-batches of at most
 * bucket x CP tokens; every sequence sharded (no DACP). */
sft_status sched_sorted(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e)
{
    (void)e;
    lenid *v = sft_xmalloc((n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].len = s[i].len;
        v[i].id = s[i].id;
    }
    qsort(v, n, sizeof *v, by_len);
    double cap = (double)in->bucket * in->cp;
    for (int r = 0; r < in->dp; r++) {
        plan_mb *mb = NULL;
        double used = 0;
        for (size_t i = (size_t)r; i < n; i += (size_t)in->dp) {
            if (!mb || used + (double)v[i].len > cap) {
                mb = plan_add_mb(out, r);
                used = 0;
            }
            plan_mb_add(mb, v[i].id, v[i].len, PLAN_DIST);
            used += (double)v[i].len;
        }
    }
    free(v);
    return SFT_OK;
}

/* deepspeed's micro-batches (packed in trace order), then a placement. */
static sft_status place_on_deepspeed(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                                     int mode, sft_err *e)
{
    sched_in packed = *in;
    packed.ds_pack = 1;
    sft_status st = sched_deepspeed(&packed, s, n, out, e);
    if (st) return st;
    for (int r = 0; r < out->dp; r++)
        for (int m = 0; m < out->rank[r].nmb; m++) {
            plan_mb *mb = &out->rank[r].mb[m];
            if (!dacp_place(in->est, mb, in->cp, in->bucket, mode, in->rollback))
                for (int k = 0; k < mb->n; k++) mb->seq[k].cp = PLAN_DIST; /* always fits */
        }
    return SFT_OK;
}

sft_status sched_roundrobin(const sched_in *in, const trace_sample *s, size_t n, plan *out,
                            sft_err *e)
{
    return place_on_deepspeed(in, s, n, out, DACP_ROUNDROBIN, e);
}

sft_status sched_dacp(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e)
{
    return place_on_deepspeed(in, s, n, out, DACP_BALANCE, e);
}

typedef struct loaded {
    int64_t len, id;
    double load;
} loaded;

static int by_load_desc(const void *a, const void *b)
{
    const loaded *x = a, *y = b;
    if (x->load != y->load) return x->load > y->load ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* GDS for one DP rank's sequences v[0..k): the fewest micro-batches m =
 * ceil(sum / (C N)) first; sorted ascending, micro-batch j takes elements j,
 * j+m, j+2m, ...; if one exceeds C N tokens or DACP fails on it, m + 1. */
static void gds_rank(const sched_in *in, est *e, lenid *v, size_t k, plan *out, int r)
{
    if (k == 0) return;
    qsort(v, k, sizeof *v, by_len);
    double total = 0, cap = (double)in->bucket * in->cp;
    for (size_t i = 0; i < k; i++) total += (double)v[i].len;
    size_t m = (size_t)(total / cap);
    if ((double)m * cap < total) m++;
    if (m < 1) m = 1;
    plan tmp;
    for (;; m++) {
        memset(&tmp, 0, sizeof tmp);
        tmp.dp = 1;
        tmp.cp = in->cp;
        plan_rank R = {0};
        tmp.rank = &R;
        int ok = 1;
        for (size_t j = 0; j < m && ok; j++) {
            plan_mb *mb = plan_add_mb(&tmp, 0);
            double used = 0;
            for (size_t i = j; i < k; i += m) {
                plan_mb_add(mb, v[i].id, v[i].len, PLAN_DIST);
                used += (double)v[i].len;
            }
            if (used > cap || !dacp_place(e, mb, in->cp, in->bucket, DACP_BALANCE, in->rollback))
                ok = 0;
        }
        if (ok || m >= k) {
            if (!ok) /* one sequence per micro-batch: each fits sharded */
                for (int j = 0; j < R.nmb; j++)
                    for (int q = 0; q < R.mb[j].n; q++) R.mb[j].seq[q].cp = PLAN_DIST;
            for (int j = 0; j < R.nmb; j++) {
                plan_mb *dst = plan_add_mb(out, r);
                *dst = R.mb[j];
            }
            free(R.mb);
            return;
        }
        for (int j = 0; j < R.nmb; j++) free(R.mb[j].seq);
        free(R.mb);
    }
}

/* skrull = GDS + DACP: bin-pack the global batch over the DP ranks by
 * estimated compute (longest first, onto the least-loaded rank), then GDS
 * per rank. Every rank can run this deterministic schedule itself and take
 * its bin: no coordination traffic.
 *
 * What the paper leaves open, decided here: the bin-packing heuristic is
 * LPT (largest load first onto the least-loaded bin; the paper says only
 * "bin-pack by FLOPs"); equal loads go by sample id and ties between bins
 * to the lowest rank; bin r runs on DP rank r (DP ranks are alike, so any
 * assignment gives the same step); a sequence longer than the bucket is
 * loaded as N shards, the only way it can run; and when no micro-batch
 * count up to one sequence each lets DACP place a rank's sequences, they
 * all run sharded, one per micro-batch (deepspeed's fallback, always
 * feasible). */
sft_status sched_skrull(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e)
{
    (void)e;
    est *es = in->est;
    loaded *v = sft_xmalloc((n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].len = s[i].len;
        v[i].id = s[i].id;
        /* a sequence longer than the bucket can only run sharded */
        v[i].load = est_load(es, (double)s[i].len, s[i].len > in->bucket ? in->cp : 1) *
                    (s[i].len > in->bucket ? in->cp : 1);
    }
    qsort(v, n, sizeof *v, by_load_desc);
    double *tot = sft_xcalloc((size_t)in->dp, sizeof *tot);
    lenid **bins = sft_xcalloc((size_t)in->dp, sizeof *bins);
    size_t *cnt = sft_xcalloc((size_t)in->dp, sizeof *cnt);
    for (int r = 0; r < in->dp; r++) bins[r] = sft_xmalloc((n + 1) * sizeof **bins);
    for (size_t i = 0; i < n; i++) {
        int r = 0;
        for (int q = 1; q < in->dp; q++)
            if (tot[q] < tot[r]) r = q;
        tot[r] += v[i].load;
        bins[r][cnt[r]].len = v[i].len;
        bins[r][cnt[r]++].id = v[i].id;
    }
    for (int r = 0; r < in->dp; r++) {
        gds_rank(in, es, bins[r], cnt[r], out, r);
        free(bins[r]);
    }
    free(bins);
    free(cnt);
    free(tot);
    free(v);
    return SFT_OK;
}
