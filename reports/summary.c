/* summary.c — step times, breakdown and memory from the event log.
 *
 * Cost: linear in ops (plus a log of the step count per op). Each GPU's
 * ops and collective intervals are visited once for all steps together,
 * never once per step: an op adds its share to the step windows it overlaps
 * (found by binary search over the sorted step ends), and the windows'
 * intersections with the merged communication intervals are walked with
 * pointers that only move forward.
 *
 * Invariant: every figure is the same sum, term for term and in the same
 * order, as the plain per-window definition (summary.h) would add: a
 * window's terms are the ops overlapping it in stream order; the terms that
 * the linear walk skips are exact zeros, which leave a sum unchanged. So
 * the numbers do not depend on how the walk is organised.
 */
#include "reports/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/events.h"
#include "reports/explain.h"

typedef struct iv {
    double a, b;
} iv;

static int by_start(const void *x, const void *y)
{
    const iv *p = x, *q = y;
    return (p->a > q->a) - (p->a < q->a);
}

/* Merges intervals in place into disjoint sorted ones; returns the count. */
static int merge(iv *v, int n)
{
    if (n <= 1) return n;
    qsort(v, (size_t)n, sizeof *v, by_start);
    int k = 0;
    for (int i = 1; i < n; i++) {
        if (v[i].a <= v[k].b) {
            if (v[i].b > v[k].b) v[k].b = v[i].b;
        } else {
            v[++k] = v[i];
        }
    }
    return k + 1;
}

static double clip(double a, double b, double lo, double hi)
{
    if (a < lo) a = lo;
    if (b > hi) b = hi;
    return b > a ? b - a : 0;
}

/* The first index k in [0, n) with v[k] > x (n if none); v non-decreasing. */
static int first_above(const double *v, int n, double x)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The measure of A (disjoint, sorted) inside every step window, and that
 * measure minus its overlap with B (B's intervals as the compute stream
 * left them: sorted by start, ends allowed to step back by rounding), for
 * windows [lo_k, hi_k] = [tend[k-1] (0 for k = 0), tend[k]]: tot[k] and
 * net[k], k < nsteps. bmax[j] = max(B[0..j].b). Per window this adds the
 * same terms in the same order as the direct scan
 *     for each A[i] clipped to the window, [a, b] with b > a:
 *         tot += b - a;
 *         advance j (from 0, kept across i) past B[j].b <= a;
 *         for k = j.. while B[k].a < b: ov += clip(B[k], a, b)
 *     net = tot - ov
 * but starts each window at its first overlapping A (A is disjoint and
 * sorted, so those form one run) and its j by binary search on bmax (the
 * direct scan stops at the first j with B[j].b > a, which is the first j
 * with bmax[j] > a). */
static void window_overlaps(const iv *A, int na, const iv *B, const double *bmax, int nb,
                            const double *tend, int nsteps, double *tot, double *net)
{
    int i0 = 0;
    for (int k = 0; k < nsteps; k++) {
        double lo = k ? tend[k - 1] : 0, hi = tend[k];
        double t = 0, ov = 0;
        /* A's ends increase: skip those ending at or before lo for good */
        while (i0 < na && A[i0].b <= lo) i0++;
        int j = -1;
        for (int i = i0; i < na && A[i].a < hi; i++) {
            double a = A[i].a > lo ? A[i].a : lo, b = A[i].b < hi ? A[i].b : hi;
            if (b <= a) continue;
            t += b - a;
            if (j < 0) j = first_above(bmax, nb, a);
            while (j < nb && B[j].b <= a) j++;
            for (int q = j; q < nb && B[q].a < b; q++) ov += clip(B[q].a, B[q].b, a, b);
        }
        tot[k] = t;
        net[k] = t - ov;
    }
}

/* Sizes s->steps from the ops' step numbers, adds each step's model FLOPs
 * and returns the step ends: the last op of each step, any GPU, any stream,
 * made non-decreasing (creates the array, nsteps + 1 entries). */
static double *step_ends(const prog *p, const eng_result *r, rep_run *s)
{
    int G = s->ngpus, nsteps = 0;
    for (int g = 0; g < G; g++)
        for (int st = 0; st < PROG_NSTREAMS; st++) {
            const prog_op *o = prog_ops(p, g, st);
            for (int i = 0; i < prog_nops(p, g, st); i++)
                if (o[i].step + 1 > nsteps) nsteps = o[i].step + 1;
        }
    s->nsteps = nsteps;
    s->steps = sft_xcalloc((size_t)nsteps + 1, sizeof *s->steps);
    double *tend = sft_xcalloc((size_t)nsteps + 1, sizeof *tend);
    for (int g = 0; g < G; g++)
        for (int st = 0; st < PROG_NSTREAMS; st++) {
            const prog_op *o = prog_ops(p, g, st);
            const double *en = r->end[st] + r->off[st][g];
            for (int i = 0; i < prog_nops(p, g, st); i++) {
                if (o[i].step < 0) continue;
                if (en[i] > tend[o[i].step]) tend[o[i].step] = en[i];
                if (st == PROG_COMPUTE && o[i].kind == PK_COMPUTE)
                    s->steps[o[i].step].flops += o[i].flops;
            }
        }
    for (int k = 1; k < nsteps; k++)
        if (tend[k] < tend[k - 1]) tend[k] = tend[k - 1];
    return tend;
}

/* Step times, their mean and the MFU. */
static void step_times(rep_run *s, const double *tend, const rep_inputs *in)
{
    int nsteps = s->nsteps;
    double total = 0;
    for (int k = 0; k < nsteps; k++) {
        s->steps[k].time_s = tend[k] - (k ? tend[k - 1] : 0);
        s->steps[k].microbatches = in->microbatches ? in->microbatches[k] : 0;
        total += s->steps[k].time_s;
        if (s->steps[k].time_s > 0)
            s->mfu += s->steps[k].flops / (s->steps[k].time_s * s->ngpus * in->peak_flops);
    }
    s->mean_step_s = nsteps ? total / nsteps : 0;
    s->mfu = nsteps ? s->mfu / nsteps : 0;
    /* two passes (mean, then squared deviations): no cancellation */
    double ss = 0;
    for (int k = 0; k < nsteps; k++) {
        double d = s->steps[k].time_s - s->mean_step_s;
        ss += d * d;
    }
    s->mean_step_se_s = nsteps > 1 ? sqrt(ss / (nsteps - 1)) / sqrt((double)nsteps) : 0;
}

/* Scratch space of the per-GPU walk, grown as GPUs need it: the compute
 * stream's intervals (cv, with bmax their running maximum end), the
 * collective intervals (mv), and per step window the GPU's compute, host,
 * communication and exposed communication time. */
typedef struct gpu_walk {
    iv *cv, *mv, *gv;
    double *bmax;
    size_t ccap, mcap, bcap, gcap;
    double *wcomp, *whost, *wcomm, *wexp, *wgcomm, *wgexp, *whb;
    double ncompute_ops; /* kernels on the compute stream */
} gpu_walk;

/* Fills w's windows for GPU g: compute and host time from its compute
 * stream, communication (and the part of it no compute hides) from its
 * collectives. */
static void gpu_windows(const prog *p, const eng_result *r, int g, const double *tend, int nsteps,
                        int grad_cat, gpu_walk *w)
{
    /* compute-stream intervals (ordered; ends may step back by an ulp), by kind */
    const prog_op *o = prog_ops(p, g, PROG_COMPUTE);
    int n = prog_nops(p, g, PROG_COMPUTE), nc = 0, nm = 0, ng = 0;
    const double *st = r->start[PROG_COMPUTE] + r->off[PROG_COMPUTE][g];
    const double *en = r->end[PROG_COMPUTE] + r->off[PROG_COMPUTE][g];
    const double *hw =
        r->host_wait[PROG_COMPUTE] ? r->host_wait[PROG_COMPUTE] + r->off[PROG_COMPUTE][g] : NULL;
    SFT_GROW(w->cv, w->ccap, (size_t)(hw ? 2 * n : n) + 1);
    SFT_GROW(w->bmax, w->bcap, (size_t)(hw ? 2 * n : n) + 1);
    memset(w->wcomp, 0, 2 * ((size_t)nsteps + 1) * sizeof *w->wcomp);
    memset(w->whb, 0, ((size_t)nsteps + 1) * sizeof *w->whb);
    w->ncompute_ops = 0;
    for (int i = 0; i < n; i++) {
        if (hw && hw[i] > 0) {
            /* the compute stream waiting for the host to issue op i: host-bound
             * time, which hides communication as work does */
            double a = st[i] - hw[i];
            w->cv[nc].a = a;
            w->cv[nc].b = st[i];
            w->bmax[nc] = nc && w->bmax[nc - 1] > st[i] ? w->bmax[nc - 1] : st[i];
            nc++;
            for (int k = first_above(tend, nsteps, a); k < nsteps && (k ? tend[k - 1] : 0) < st[i];
                 k++)
                w->whb[k] += clip(a, st[i], k ? tend[k - 1] : 0, tend[k]);
        }
        if (o[i].kind != PK_COMPUTE && o[i].kind != PK_DELAY) continue;
        w->cv[nc].a = st[i];
        w->cv[nc].b = en[i];
        w->bmax[nc] = nc && w->bmax[nc - 1] > en[i] ? w->bmax[nc - 1] : en[i];
        nc++;
        if (o[i].kind == PK_COMPUTE) w->ncompute_ops++;
        /* the windows this op overlaps: hi_k > start and lo_k < end */
        double *win = o[i].kind == PK_COMPUTE ? w->wcomp : w->whost;
        for (int k = first_above(tend, nsteps, st[i]); k < nsteps && (k ? tend[k - 1] : 0) < en[i];
             k++)
            win[k] += clip(st[i], en[i], k ? tend[k - 1] : 0, tend[k]);
    }
    for (int sidx = PROG_COMM; sidx < PROG_NSTREAMS; sidx++) {
        const prog_op *q = prog_ops(p, g, sidx);
        for (int i = 0; i < prog_nops(p, g, sidx); i++) {
            if (q[i].kind != PK_COLL) continue;
            SFT_GROW(w->mv, w->mcap, (size_t)nm + 1);
            w->mv[nm].a = r->coll_begin[q[i].ref];
            w->mv[nm++].b = r->coll_end[q[i].ref];
            if ((int)q[i].cat != grad_cat) continue;
            SFT_GROW(w->gv, w->gcap, (size_t)ng + 1);
            w->gv[ng++] = w->mv[nm - 1];
        }
    }
    nm = merge(w->mv, nm);
    window_overlaps(w->mv, nm, w->cv, w->bmax, nc, tend, nsteps, w->wcomm, w->wexp);
    ng = merge(w->gv, ng);
    window_overlaps(w->gv, ng, w->cv, w->bmax, nc, tend, nsteps, w->wgcomm, w->wgexp);
}

/* GPU g's figures (rep_gpu) from its windows in w and its memory events:
 * sums over the steps, then means; marks the steps where it runs out of
 * memory. */
static void gpu_figures(rep_run *s, int g, const prog *p, const eng_result *r, const rep_inputs *in,
                        const double *tend, const gpu_walk *w)
{
    rep_gpu *R = &s->gpus[g];
    int nsteps = s->nsteps, nmem = 0;
    rep_memev *mem = rep_memory_events(p, r, g, &nmem);
    double cur = 0;
    int mi = 0;
    for (int k = 0; k < nsteps; k++) {
        double lo = k ? tend[k - 1] : 0, hi = tend[k];
        double comp = w->wcomp[k], host = w->whost[k], exposed = w->wexp[k], hb = w->whb[k];
        double peak = cur;
        while (mi < nmem && mem[mi].t <= hi) {
            cur += mem[mi++].delta;
            if (cur > peak) peak = cur;
        }
        R->compute_s += comp;
        R->host_s += host;
        R->comm_s += w->wcomm[k];
        R->exposed_comm_s += exposed;
        R->grad_comm_s += w->wgcomm[k];
        R->exposed_grad_comm_s += w->wgexp[k];
        R->host_bound_s += hb;
        double idle = (hi - lo) - comp - host - exposed - hb;
        R->idle_s += idle > 0 ? idle : 0; /* rounding can leave -1e-17 */
        if (peak > R->peak_mem) R->peak_mem = peak;
        if (peak < s->steps[k].peak_min) s->steps[k].peak_min = peak;
        if (peak > s->steps[k].peak_max) s->steps[k].peak_max = peak;
        if (peak > in->usable_mem) s->steps[k].oom = 1;
    }
    if (nsteps) {
        R->compute_s /= nsteps;
        R->host_s /= nsteps;
        R->comm_s /= nsteps;
        R->exposed_comm_s /= nsteps;
        R->grad_comm_s /= nsteps;
        R->exposed_grad_comm_s /= nsteps;
        R->idle_s /= nsteps;
        R->host_bound_s /= nsteps;
    }
    R->busy_ns = rep_busy_ns(p, r, g);
    free(mem);
}

rep_run *rep_run_create(const prog *p, const eng_result *r, const rep_inputs *in)
{
    rep_run *s = sft_xcalloc(1, sizeof *s);
    int G = prog_ngpus(p);
    s->ngpus = G;
    double *tend = step_ends(p, r, s);
    int nsteps = s->nsteps;
    step_times(s, tend, in);

    s->gpus = sft_xcalloc((size_t)G, sizeof *s->gpus);
    gpu_walk w = {0};
    w.wcomp = sft_xmalloc(7 * ((size_t)nsteps + 1) * sizeof *w.wcomp);
    w.whost = w.wcomp + nsteps + 1;
    w.wcomm = w.whost + nsteps + 1;
    w.wexp = w.wcomm + nsteps + 1;
    w.wgcomm = w.wexp + nsteps + 1;
    w.wgexp = w.wgcomm + nsteps + 1;
    w.whb = w.wgexp + nsteps + 1;
    double best_busy = -1;
    s->peak_mem_min = 1e300;
    s->peak_mem_max = 0;
    for (int k = 0; k < nsteps; k++) s->steps[k].peak_min = 1e300;
    for (int g = 0; g < G; g++) {
        gpu_windows(p, r, g, tend, nsteps, in->grad_cat, &w);
        gpu_figures(s, g, p, r, in, tend, &w);
        const rep_gpu *R = &s->gpus[g];
        double busy = R->compute_s + R->exposed_comm_s;
        if (busy > best_busy) {
            best_busy = busy;
            s->busiest = g;
            s->launch_s = nsteps ? w.ncompute_ops * in->launch_s / nsteps : 0;
        }
        s->mean_idle_s += R->idle_s / G;
        if (R->peak_mem < s->peak_mem_min) s->peak_mem_min = R->peak_mem;
        if (R->peak_mem > s->peak_mem_max) s->peak_mem_max = R->peak_mem;
    }
    for (int k = 0; k < nsteps; k++) s->oom |= s->steps[k].oom;
    s->sim_events = r->activities;
    s->wall_s = r->wall_s;
    free(w.cv);
    free(w.mv);
    free(w.gv);
    free(w.bmax);
    free(w.wcomp);
    free(tend);
    return s;
}

void rep_run_destroy(rep_run *s)
{
    if (!s) return;
    free(s->steps);
    free(s->gpus);
    free(s);
}

/* Where the busiest GPU's step goes (the "breakdown" of a run and of a
 * comparison row). Creates the object. */
static cJSON *breakdown_json(const rep_run *s)
{
    const rep_gpu *B = &s->gpus[s->busiest];
    cJSON *br = cJSON_CreateObject();
    cJSON_AddNumberToObject(br, "gpu", s->busiest);
    cJSON_AddNumberToObject(br, "compute_s", B->compute_s - s->launch_s);
    cJSON_AddNumberToObject(br, "launch_s", s->launch_s);
    cJSON_AddNumberToObject(br, "host_s", B->host_s);
    cJSON_AddNumberToObject(br, "exposed_comm_s", B->exposed_comm_s);
    cJSON_AddNumberToObject(br, "grad_comm_s", B->grad_comm_s);
    cJSON_AddNumberToObject(br, "exposed_grad_comm_s", B->exposed_grad_comm_s);
    cJSON_AddNumberToObject(br, "host_bound_s", B->host_bound_s);
    cJSON_AddNumberToObject(br, "idle_s", B->idle_s);
    cJSON_AddNumberToObject(br, "mean_idle_all_gpus_s", s->mean_idle_s);
    return br;
}

cJSON *rep_run_json(const rep_run *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "mean_step_time_s", s->mean_step_s);
    cJSON_AddNumberToObject(j, "mean_step_time_se_s", s->mean_step_se_s);
    cJSON_AddNumberToObject(j, "mfu", s->mfu);
    cJSON_AddBoolToObject(j, "oom", s->oom);
    cJSON_AddNumberToObject(j, "sim_events", (double)s->sim_events);
    cJSON_AddNumberToObject(j, "wall_s", s->wall_s);
    cJSON *st = cJSON_AddArrayToObject(j, "steps");
    for (int k = 0; k < s->nsteps; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", k);
        cJSON_AddNumberToObject(o, "time_s", s->steps[k].time_s);
        cJSON_AddNumberToObject(o, "microbatches", s->steps[k].microbatches);
        cJSON_AddBoolToObject(o, "oom", s->steps[k].oom);
        cJSON_AddNumberToObject(o, "peak_mem_bytes_min", s->steps[k].peak_min);
        cJSON_AddNumberToObject(o, "peak_mem_bytes_max", s->steps[k].peak_max);
        cJSON_AddItemToArray(st, o);
    }
    cJSON *gp = cJSON_AddArrayToObject(j, "gpus");
    for (int g = 0; g < s->ngpus; g++) {
        const rep_gpu *R = &s->gpus[g];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "gpu", g);
        cJSON_AddNumberToObject(o, "compute_s", R->compute_s);
        cJSON_AddNumberToObject(o, "comm_s", R->comm_s);
        cJSON_AddNumberToObject(o, "idle_s", R->idle_s);
        cJSON_AddNumberToObject(o, "peak_mem_bytes", R->peak_mem);
        cJSON_AddNumberToObject(o, "host_s", R->host_s);
        cJSON_AddNumberToObject(o, "exposed_comm_s", R->exposed_comm_s);
        cJSON_AddNumberToObject(o, "grad_comm_s", R->grad_comm_s);
        cJSON_AddNumberToObject(o, "exposed_grad_comm_s", R->exposed_grad_comm_s);
        cJSON_AddNumberToObject(o, "host_bound_s", R->host_bound_s);
        cJSON_AddNumberToObject(o, "busy_ns", (double)R->busy_ns);
        cJSON_AddItemToArray(gp, o);
    }
    cJSON_AddItemToObject(j, "breakdown", breakdown_json(s));
    return j;
}

double rep_speedup(const rep_run *base, const rep_run *s, double *se)
{
    *se = 0;
    if (!base || !s || base->mean_step_s <= 0 || s->mean_step_s <= 0) return 0;
    double sp = base->mean_step_s / s->mean_step_s;
    /* a run against itself (or a copy: the same policy twice on the same
     * steps gives the same figures): exactly 1, no error */
    if (base == s || (base->mean_step_s == s->mean_step_s &&
                      base->mean_step_se_s == s->mean_step_se_s && base->nsteps == s->nsteps))
        return sp;
    return rep_ratio(base->mean_step_s, base->mean_step_se_s, s->mean_step_s, s->mean_step_se_s,
                     se);
}

double rep_ratio(double num, double num_se, double den, double den_se, double *se)
{
    *se = 0;
    if (num <= 0 || den <= 0) return 0;
    double r = num / den, a = num_se / num, b = den_se / den;
    *se = r * sqrt(a * a + b * b);
    return r;
}

cJSON *rep_compare_row(const char *policy, const rep_run *s, const rep_run *base)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "policy", policy);
    cJSON_AddNumberToObject(p, "mean_step_time_s", s->mean_step_s);
    cJSON_AddNumberToObject(p, "mean_step_time_se_s", s->mean_step_se_s);
    double se, sp = rep_speedup(base, s, &se);
    if (sp > 0) {
        cJSON_AddNumberToObject(p, "speedup_vs_deepspeed", sp);
        cJSON_AddNumberToObject(p, "speedup_se", se);
    } else {
        cJSON_AddNullToObject(p, "speedup_vs_deepspeed");
        cJSON_AddNullToObject(p, "speedup_se");
    }
    cJSON_AddBoolToObject(p, "oom", s->oom);
    cJSON_AddNumberToObject(p, "peak_mem_bytes_min", s->peak_mem_min);
    cJSON_AddNumberToObject(p, "peak_mem_bytes_max", s->peak_mem_max);
    cJSON_AddNumberToObject(p, "mfu", s->mfu);
    cJSON_AddItemToObject(p, "breakdown", breakdown_json(s));
    cJSON_AddItemToObject(p, "step_causes", rep_causes_json(s));
    int rounds = 0;
    for (int k = 0; k < s->nsteps; k++) rounds += s->steps[k].microbatches;
    cJSON_AddNumberToObject(p, "microbatch_rounds_per_step",
                            s->nsteps ? (double)rounds / s->nsteps : 0);
    cJSON_AddNumberToObject(p, "steps", s->nsteps);
    return p;
}
