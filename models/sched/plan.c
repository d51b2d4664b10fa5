/* plan.c — plan storage and the one validity check (plan.h). */
#include "models/sched/plan.h"

#include <stdlib.h>
#include <string.h>

plan *plan_create(int dp, int cp, long bucket)
{
    plan *p = sft_xcalloc(1, sizeof *p);
    p->dp = dp;
    p->cp = cp;
    p->bucket = bucket;
    p->rank = sft_xcalloc((size_t)dp, sizeof *p->rank);
    return p;
}

void plan_destroy(plan *p)
{
    if (!p) return;
    for (int r = 0; r < p->dp; r++) {
        for (int m = 0; m < p->rank[r].nmb; m++) free(p->rank[r].mb[m].seq);
        free(p->rank[r].mb);
    }
    free(p->rank);
    free(p);
}

plan_mb *plan_add_mb(plan *p, int r)
{
    plan_rank *R = &p->rank[r];
    if (R->nmb == R->cap) {
        R->cap = R->cap ? 2 * R->cap : 8;
        R->mb = sft_xrealloc(R->mb, (size_t)R->cap * sizeof *R->mb);
    }
    plan_mb *mb = &R->mb[R->nmb++];
    memset(mb, 0, sizeof *mb);
    return mb;
}

void plan_mb_add(plan_mb *mb, int64_t id, int64_t len, int cp)
{
    if (mb->n == mb->cap) {
        mb->cap = mb->cap ? 2 * mb->cap : 8;
        mb->seq = sft_xrealloc(mb->seq, (size_t)mb->cap * sizeof *mb->seq);
    }
    mb->seq[mb->n].id = id;
    mb->seq[mb->n].len = len;
    mb->seq[mb->n].cp = cp;
    mb->n++;
}

double plan_mb_tokens(const plan_mb *mb, int j, int n)
{
    double t = 0;
    for (int i = 0; i < mb->n; i++) {
        if (mb->seq[i].cp == PLAN_DIST)
            t += (double)mb->seq[i].len / n;
        else if (mb->seq[i].cp == j)
            t += (double)mb->seq[i].len;
    }
    return t;
}

double plan_mb_max_tokens(const plan_mb *mb, int n)
{
    double worst = 0;
    for (int j = 0; j < n; j++) {
        double t = plan_mb_tokens(mb, j, n);
        if (t > worst) worst = t;
    }
    return worst;
}

int plan_max_mbs(const plan *p)
{
    int m = 0;
    for (int r = 0; r < p->dp; r++)
        if (p->rank[r].nmb > m) m = p->rank[r].nmb;
    return m;
}

typedef struct idcount {
    int64_t id;
    int64_t len;
    int seen;
} idcount;

static int by_id(const void *a, const void *b)
{
    const idcount *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

sft_status plan_check(plan *p, const trace_sample *s, size_t n, sft_err *e)
{
    idcount *ids = sft_xmalloc((n + 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        ids[i].id = s[i].id;
        ids[i].len = s[i].len;
        ids[i].seen = 0;
    }
    qsort(ids, n, sizeof *ids, by_id);
    sft_status st = SFT_OK;
    for (size_t i = 1; i < n && !st; i++)
        if (ids[i].id == ids[i - 1].id)
            st = sft_errf(e, SFT_EINPUT, "sample id %lld appears twice in step's batch",
                          (long long)ids[i].id);
    p->over_bucket = 0;
    for (int r = 0; r < p->dp && !st; r++) {
        for (int m = 0; m < p->rank[r].nmb && !st; m++) {
            const plan_mb *mb = &p->rank[r].mb[m];
            for (int k = 0; k < mb->n && !st; k++) {
                const plan_seq *q = &mb->seq[k];
                idcount key = {q->id, 0, 0}, *hit = bsearch(&key, ids, n, sizeof *ids, by_id);
                if (!hit)
                    st = sft_errf(e, SFT_EINTERNAL, "plan: rank %d mb %d holds unknown id %lld", r,
                                  m, (long long)q->id);
                else if (hit->seen++)
                    st = sft_errf(e, SFT_EINTERNAL, "plan: id %lld placed twice", (long long)q->id);
                else if (hit->len != q->len)
                    st = sft_errf(e, SFT_EINTERNAL, "plan: id %lld has length %lld, not %lld",
                                  (long long)q->id, (long long)q->len, (long long)hit->len);
                else if (q->cp != PLAN_DIST && (q->cp < 0 || q->cp >= p->cp))
                    st = sft_errf(e, SFT_EINTERNAL, "plan: id %lld on CP rank %d of %d",
                                  (long long)q->id, q->cp, p->cp);
            }
            if (plan_mb_max_tokens(mb, p->cp) > (double)p->bucket + 1e-9) p->over_bucket = 1;
        }
    }
    for (size_t i = 0; i < n && !st; i++)
        if (!ids[i].seen)
            st =
                sft_errf(e, SFT_EINTERNAL, "plan: sample id %lld not placed", (long long)ids[i].id);
    free(ids);
    return st;
}
