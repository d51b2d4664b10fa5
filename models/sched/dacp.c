/* dacp.c — Skrull's DACP (Algorithm 1) and its round-robin variant
 * (Algorithm 4), Skrull, arXiv 2505.19609, Algorithm 1. Per micro-batch, on a CP group of N ranks
 * with bucket C tokens each:
 *   sort ascending; remaining bucket RB[j] = C, load L[j] = 0;
 *   each sequence s: local on argmin(L) if it fits there (DACP only);
 *   else local on argmax(RB) if it fits; else distributed if s/N fits on
 *   argmin(RB); else roll back: the shortest local sequence of argmin(RB)
 *   becomes distributed, and s is retried.
 * Loads come from the cost model (est_load), not a FLOP formula.
 * Invariant on success: every rank's local tokens + distributed tokens / N
 * <= C.
 *
 * What the paper leaves open, decided here:
 *   - equal lengths sort by sample id, so the order is total;
 *   - argmin / argmax ties go to the lowest CP rank;
 *   - RollBack(t) distributes t's shortest local sequence (the paper's
 *     "first"); a distributed sequence holds len/N on every rank, so the
 *     roll-back gives t back len and takes len/N from each rank (t's net
 *     gain len - len/N, the paper's figure), and loads move the same way;
 *   - after the pass, a rank a roll-back pushed over C is rolled back again
 *     until none is (the paper retries s only);
 *   - without roll-back (the case study's ablation) a sequence that fits
 *     nowhere is distributed anyway and the overflow stays in the plan, where
 *     the memory model reports it as OOM.
 */
#include <stdlib.h>
#include <string.h>

#include "models/sched/sched.h"

typedef struct ord {
    int i;
    int64_t len, id;
} ord;

static int ascending(const void *a, const void *b)
{
    const ord *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int argmin(const double *v, int n)
{
    int k = 0;
    for (int j = 1; j < n; j++)
        if (v[j] < v[k]) k = j;
    return k;
}

static int argmax(const double *v, int n)
{
    int k = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[k]) k = j;
    return k;
}

/* Turns the shortest local sequence of rank t into a distributed one. */
static int rollback(est *e, plan_mb *mb, const ord *o, int N, int t, double *RB, double *L)
{
    for (int k = 0; k < mb->n; k++) {
        plan_seq *q = &mb->seq[o[k].i];
        if (q->cp != t) continue;
        double len = (double)q->len;
        q->cp = PLAN_DIST;
        RB[t] += len;
        L[t] -= est_load(e, len, 1);
        for (int j = 0; j < N; j++) {
            RB[j] -= len / N;
            L[j] += est_load(e, len, N);
        }
        return 0;
    }
    return -1;
}

bool dacp_place(est *e, plan_mb *mb, int N, long C, int mode, int rollback_on)
{
    ord *o = sft_xmalloc((size_t)(mb->n + 1) * sizeof *o);
    double *RB = sft_xmalloc((size_t)N * sizeof *RB), *L = sft_xcalloc((size_t)N, sizeof *L);
    for (int j = 0; j < N; j++) RB[j] = (double)C;
    for (int k = 0; k < mb->n; k++) {
        o[k].i = k;
        o[k].len = mb->seq[k].len;
        o[k].id = mb->seq[k].id;
        mb->seq[k].cp = -2; /* unplaced */
    }
    qsort(o, (size_t)mb->n, sizeof *o, ascending);
    int rc = 0;
    for (int k = 0; k < mb->n && !rc; k++) {
        plan_seq *q = &mb->seq[o[k].i];
        double len = (double)q->len;
        for (;;) {
            int t = mode == DACP_BALANCE ? argmin(L, N) : -1;
            if (t < 0 || RB[t] < len) t = argmax(RB, N);
            if (RB[t] >= len) {
                q->cp = t;
                RB[t] -= len;
                L[t] += est_load(e, len, 1);
                break;
            }
            t = argmin(RB, N);
            if (RB[t] >= len / N || !rollback_on) {
                /* distributed; without roll-back also when it does not fit:
                 * the violation stays and the simulation reports the OOM */
                q->cp = PLAN_DIST;
                for (int j = 0; j < N; j++) {
                    RB[j] -= len / N;
                    L[j] += est_load(e, len, N);
                }
                break;
            }
            if (rollback(e, mb, o, N, t, RB, L)) {
                rc = -1;
                break;
            }
        }
    }
    /* a roll-back may have pushed another rank over: repair until none is */
    while (!rc && rollback_on) {
        int t = argmin(RB, N);
        if (RB[t] >= -1e-9) break;
        if (rollback(e, mb, o, N, t, RB, L)) rc = -1;
    }
    for (int k = 0; k < mb->n; k++)
        if (mb->seq[k].cp == -2) mb->seq[k].cp = PLAN_DIST;
    free(o);
    free(RB);
    free(L);
    return rc == 0;
}
