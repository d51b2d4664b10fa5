/* engine.c — stream actors, events and collectives on SimGrid (engine.h).
 *
 * Invariants: every op is executed exactly once, in stream order; an event's
 * waiters are resumed exactly once, when it is recorded; a collective's
 * waiters are resumed when its last phase has finished. SimGrid runs actors
 * one at a time, so the bookkeeping below needs no locks: between two SimGrid
 * calls nothing else runs.
 */
#include "sim/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/coll.h"
#include "sim/sgx.h"

typedef struct waitlist {
    void **actor;
    int n, cap;
} waitlist;

typedef struct coll_rt {
    int arrived;
    waitlist w;
} coll_rt;

typedef struct ev_rt {
    int done;
    waitlist w;
} ev_rt;

typedef struct eng eng;

/* One GPU's host thread (the host model, engine.h): it walks the GPU's
 * issue order (prog_issue_order) and gives every op its issue time,
 * H_k = H_{k-1} + cost_k, until it reaches a DELAY that has not ended yet
 * (a synchronisation), where it stops; the DELAY's end becomes the clock and
 * the walk resumes. Actors that need an issue time the walk has not reached
 * wait in `w`. */
typedef struct host_rt {
    const uint8_t *order;
    size_t n, pos;          /* next entry of order to issue */
    int cnt[PROG_NSTREAMS]; /* ops of each stream issued (pos passed them) */
    int delay_reached;      /* order[pos] is a DELAY whose issue time is set */
    double H;               /* the host clock: when it issued its last op */
    waitlist w;
} host_rt;

typedef struct actor_ctx {
    eng *E;
    int gpu, stream;
    int done;
    int at; /* op being executed, for deadlock reports */
} actor_ctx;

struct eng {
    const clu_desc *c;
    const prog *p;
    eng_result *r;
    double t0;
    coll_rt *colls;
    ev_rt *evs;
    actor_ctx *actors;
    /* host model (prog_dispatch > 0), else NULL */
    double dispatch;
    host_rt *host;                /* per GPU */
    double *issue[PROG_NSTREAMS]; /* per op, indexed like eng_result.start */
};

static void wl_add(waitlist *w, void *a)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 4;
        w->actor = sft_xrealloc(w->actor, (size_t)w->cap * sizeof *w->actor);
    }
    w->actor[w->n++] = a;
}

static void wl_wake(waitlist *w)
{
    for (int i = 0; i < w->n; i++) sgx_resume(w->actor[i]);
    w->n = 0;
}

/* Seconds since this simulation began, on a nanosecond grid: the SimGrid
 * clock keeps running across the simulations of one process, and without
 * the grid the last bits of a time would depend on how many ran before. */
static double now(const eng *E)
{
    return nearbyint((sgx_now() - E->t0) * 1e9) * 1e-9;
}

static void run_collective(eng *E, int id)
{
    int op, group, root, n;
    double bytes;
    prog_coll_get(E->p, id, &op, &group, &bytes, &root);
    const int *m = prog_group_members(E->p, group, &n);
    E->r->coll_begin[id] = now(E);
    /* the plan is this collective's own: sgx_sleep and sgx_flows yield to
     * the other actors, and a collective of another group (the CP traffic
     * of another DP rank, a gradient bucket beside a K/V all-gather) may
     * start meanwhile; a plan shared by the engine would be rebuilt under
     * this one, which would then run the other's flows */
    coll_plan plan = {0};
    coll_build(E->c, op, m, n, bytes, root, &plan);
    if (plan.nphases) {
        for (int i = 0; i < n; i++) sgx_set_slow(m[i], 1);
        for (int ph = 0; ph < plan.nphases; ph++) {
            const coll_phase *P = &plan.phase[ph];
            if (P->latency_s > 0) sgx_sleep(P->latency_s);
            sgx_flows(P->nflows, plan.flows + P->first);
        }
        for (int i = 0; i < n; i++) sgx_set_slow(m[i], 0);
    }
    coll_plan_free(&plan);
    E->r->coll_end[id] = now(E);
}

/* ---- the host model ----------------------------------------------------
 * Assumptions (stated, not measured): the host runs ahead of the GPU
 * without bound (PyTorch's launch queue, about a thousand kernels deep, is
 * not modelled); it blocks only at DELAY ops (the per-micro-batch framework
 * and data-loading time, and the step boundary that precedes the first
 * one: the loss / optimizer synchronisation); NCCL launches cost one
 * dispatch like a kernel. An op of n merged kernels (layer granularity)
 * and duration t is issued at H + max(d, n d - t): its first kernel cannot
 * start before one dispatch, and its last cannot end before the n-th
 * dispatch (exact when the kernels are equal; off by at most one kernel
 * otherwise); the host clock then moves by n d. */

/* Advances GPU g's host walk as far as it can go without a DELAY's end. */
static void host_advance(eng *E, int g)
{
    host_rt *h = &E->host[g];
    while (h->pos < h->n) {
        int s = h->order[h->pos];
        int i = h->cnt[s];
        const prog_op *o = &prog_ops(E->p, g, s)[i];
        double *iss = E->issue[s] + E->r->off[s][g];
        if (o->kind == PK_DELAY) {
            if (!h->delay_reached) {
                iss[i] = h->H;
                h->delay_reached = 1;
            }
            return; /* host_delay_done moves on */
        }
        double d = E->dispatch * o->launches, first = E->dispatch;
        if (o->launches > 1 && o->kind == PK_COMPUTE && d - o->t > first) first = d - o->t;
        iss[i] = o->launches ? h->H + first : h->H;
        h->H += d;
        h->cnt[s]++;
        h->pos++;
    }
}

/* The DELAY op at order[pos] of GPU g ended at t1: the host resumes. */
static void host_delay_done(eng *E, int g, double t1)
{
    host_rt *h = &E->host[g];
    SFT_DASSERT(h->delay_reached, "engine: gpu %d: a DELAY ended before the host reached it", g);
    h->H = t1;
    h->cnt[h->order[h->pos]]++;
    h->pos++;
    h->delay_reached = 0;
    host_advance(E, g);
    /* wake from a detached list: a resume yields to SimGrid, which may run
     * the woken actor at once, and one whose op the walk has still not
     * reached adds itself again; waking the live list would resume it
     * forever at the same instant */
    waitlist w = h->w;
    h->w = (waitlist){0};
    wl_wake(&w);
    free(w.actor);
}

/* Whether op i of stream s of GPU g has its issue time. */
static int host_known(const eng *E, int g, int s, int i)
{
    const host_rt *h = &E->host[g];
    return i < h->cnt[s] || (h->delay_reached && h->order[h->pos] == s && h->cnt[s] == i);
}

/* Op i's issue time, suspending until the host walk reaches it. */
static double host_issue(eng *E, int g, int s, int i)
{
    while (!host_known(E, g, s, i)) {
        wl_add(&E->host[g].w, sgx_self());
        sgx_suspend();
    }
    return E->issue[s][E->r->off[s][g] + i];
}

/* Sleeps until op i of the actor's stream is issued; the time slept is the
 * op's host wait (eng_result.host_wait). */
static void host_gate(actor_ctx *A, int i)
{
    eng *E = A->E;
    double t = host_issue(E, A->gpu, A->stream, i), t0 = now(E);
    if (t > t0) {
        sgx_sleep(t - t0);
        E->r->host_wait[A->stream][E->r->off[A->stream][A->gpu] + i] = now(E) - t0;
    }
}

/* The ops [i, j) that ran as one activity of `total` seconds at full speed
 * from t0 to t1: each op's start and end, in proportion to its own time
 * (when NCCL's share of the SMs slows the activity, its ops stretch alike);
 * the last ends exactly at t1. */
static void spread(const prog_op *ops, int i, int j, double t0, double t1, double total, double *st,
                   double *en)
{
    double scale = total > 0 ? (t1 - t0) / total : 0, acc = t0;
    for (int k = i; k < j; k++) {
        st[k] = acc;
        if (ops[k].kind == PK_COMPUTE || ops[k].kind == PK_DELAY) acc += ops[k].t * scale;
        en[k] = k == j - 1 ? t1 : acc;
        if (en[k] < st[k]) en[k] = st[k];
    }
}

/* A run of COMPUTE/DELAY/ALLOC/FREE ops [i, n) under the host model:
 * consecutive ops run as one activity while the host is ahead of them
 * (each one's issue time at or before its predicted start, so merging
 * changes nothing), and the run is split where an op waits for the host
 * (one sleep, then a new activity) and after every DELAY (the host's
 * synchronisation: its end releases the walk). Returns the index past the
 * run. */
static int host_run(actor_ctx *A, const prog_op *ops, int i, int n, double *st, double *en)
{
    eng *E = A->E;
    int g = A->gpu, s = A->stream;
#define SEG_KIND(k) ((k) == PK_COMPUTE || (k) == PK_DELAY || (k) == PK_ALLOC || (k) == PK_FREE)
    while (i < n && SEG_KIND(ops[i].kind)) {
        A->at = i;
        host_gate(A, i);
        double t0 = now(E), total = 0;
        int j = i, delay = 0;
        while (j < n && SEG_KIND(ops[j].kind)) {
            if (j > i && (!host_known(E, g, s, j) || host_issue(E, g, s, j) > t0 + total)) break;
            if (ops[j].kind == PK_COMPUTE || ops[j].kind == PK_DELAY) total += ops[j].t;
            delay = ops[j++].kind == PK_DELAY;
            if (delay) break;
        }
        if (total > 0) sgx_exec(total);
        double t1 = now(E);
        spread(ops, i, j, t0, t1, total, st, en);
        if (delay) host_delay_done(E, g, t1);
        i = j;
    }
#undef SEG_KIND
    return i;
}

static void stream_main(void *arg)
{
    actor_ctx *A = arg;
    eng *E = A->E;
    const prog_op *ops = prog_ops(E->p, A->gpu, A->stream);
    int n = prog_nops(E->p, A->gpu, A->stream);
    uint64_t base = E->r->off[A->stream][A->gpu];
    double *st = E->r->start[A->stream] + base, *en = E->r->end[A->stream] + base;
    int i = 0;
    while (i < n) {
        const prog_op *o = &ops[i];
        A->at = i;
        int seg = o->kind == PK_COMPUTE || o->kind == PK_DELAY || o->kind == PK_ALLOC ||
                  o->kind == PK_FREE;
        if (E->host && seg) {
            i = host_run(A, ops, i, n, st, en);
            continue;
        }
        if (E->host) host_gate(A, i);
        switch ((prog_kind)o->kind) {
        case PK_COMPUTE:
        case PK_DELAY:
        case PK_ALLOC:
        case PK_FREE: {
            /* one activity for the whole run of unsynchronised work */
            int j = i;
            double total = 0;
            while (j < n && (ops[j].kind == PK_COMPUTE || ops[j].kind == PK_DELAY ||
                             ops[j].kind == PK_ALLOC || ops[j].kind == PK_FREE)) {
                if (ops[j].kind == PK_COMPUTE || ops[j].kind == PK_DELAY) total += ops[j].t;
                j++;
            }
            double t0 = now(E);
            if (total > 0) sgx_exec(total);
            spread(ops, i, j, t0, now(E), total, st, en);
            i = j;
            continue;
        }
        case PK_MEMORY: {
            st[i] = now(E);
            coll_flow f = {A->gpu, A->gpu, o->bytes};
            sgx_flows(1, &f);
            en[i] = now(E);
            break;
        }
        case PK_RECORD: {
            ev_rt *v = &E->evs[o->ref];
            /* prog_check proved it once per program; a second record would
             * resume the waiters of a later use */
            SFT_DASSERT(!v->done, "engine: event %d recorded twice (gpu %d stream %d op %d)",
                        o->ref, A->gpu, A->stream, i);
            st[i] = en[i] = now(E);
            v->done = 1;
            wl_wake(&v->w);
            break;
        }
        case PK_WAIT: {
            ev_rt *v = &E->evs[o->ref];
            st[i] = now(E);
            if (!v->done) {
                wl_add(&v->w, sgx_self());
                sgx_suspend();
            }
            en[i] = now(E);
            break;
        }
        case PK_COLL: {
            coll_rt *c = &E->colls[o->ref];
            int op, group, gn;
            prog_coll_get(E->p, o->ref, &op, &group, NULL, NULL);
            prog_group_members(E->p, group, &gn);
            /* one COLL op per member (prog_check): an extra arrival would
             * start the collective twice or never */
            SFT_DASSERT(c->arrived < gn,
                        "engine: collective %d: gpu %d arrives after all %d members", o->ref,
                        A->gpu, gn);
            st[i] = now(E);
            if (++c->arrived < gn) {
                wl_add(&c->w, sgx_self());
                sgx_suspend();
            } else {
                run_collective(E, o->ref);
                wl_wake(&c->w);
            }
            en[i] = now(E);
            break;
        }
        case PK_NKINDS:
            break;
        }
        i++;
    }
    A->at = n;
    A->done = 1;
}

/* ---- address-space mappings ----------------------------------------------
 * Each SimGrid actor's stack is an mmap with an mprotect'ed guard page: two
 * kernel mappings (VMAs) for as long as the actor exists. Measured by
 * counting /proc/self/maps lines before and after spawning 100 to 32,670
 * actors on a 1024- and a 12288-host platform: 2.000 per actor (the same
 * with the sanitizer build's thread contexts), and spawning failed exactly
 * when the count would pass vm.max_map_count. The kernel refuses the
 * mapping past that limit (65530 by default) and SimGrid aborts ("Failed to
 * protect stack"), so the engine checks before it spawns anything. */

long eng_maps_in_use(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    long n = 0;
    char buf[8192];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < k; i++) n += buf[i] == '\n';
    fclose(f);
    return n;
}

long eng_max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (!f) return -1;
    long v = -1;
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

sft_status eng_check_maps(long actors, int ngpus, long limit, long in_use, sft_err *e)
{
    if (limit <= 0 || in_use < 0 || actors <= 0 || ngpus <= 0)
        return SFT_OK; /* unknown: no check */
    long need = in_use + ENG_MAPS_MARGIN + ENG_MAPS_PER_ACTOR * actors;
    if (need <= limit) return SFT_OK;
    /* the largest cluster with this program's actors per GPU that fits */
    long room = limit - in_use - ENG_MAPS_MARGIN;
    long long fit =
        room > 0 ? (long long)room * ngpus / ((long long)ENG_MAPS_PER_ACTOR * actors) : 0;
    return sft_errf(e, SFT_EINFEASIBLE,
                    "%d GPUs cannot be simulated on this machine: %ld SimGrid actors (%.3g per "
                    "GPU) need %ld memory mappings (%d each, plus %ld in use and a margin of %d), "
                    "more than vm.max_map_count = %ld allows; at most %lld GPUs fit (raise the "
                    "limit with sysctl -w vm.max_map_count=%ld to run %d)",
                    ngpus, actors, (double)actors / ngpus, need, ENG_MAPS_PER_ACTOR, in_use,
                    ENG_MAPS_MARGIN, limit, fit, need, ngpus);
}

void eng_result_destroy(eng_result *r)
{
    if (!r) return;
    for (int s = 0; s < PROG_NSTREAMS; s++) {
        free(r->start[s]);
        free(r->end[s]);
        free(r->off[s]);
        free(r->host_wait[s]);
    }
    free(r->coll_begin);
    free(r->coll_end);
    free(r);
}

sft_status eng_run(const clu_desc *c, const prog *p, eng_result **out, sft_err *e)
{
    *out = NULL;
    int ng = prog_ngpus(p);
    if (ng > clu_ngpus(c))
        return sft_errf(e, SFT_EINTERNAL, "program for %d GPUs on a cluster of %d", ng,
                        clu_ngpus(c));
    sft_status st = prog_check(p, e);
    if (st) return st;
    long actors = 0;
    for (int g = 0; g < ng; g++)
        for (int s = 0; s < PROG_NSTREAMS; s++) actors += prog_nops(p, g, s) > 0;
    st = eng_check_maps(actors, ng, eng_max_map_count(), eng_maps_in_use(), e);
    if (st) return st;
    if ((st = sgx_platform(c, e))) return st;
    double w0 = sft_wall();
    eng_result *r = sft_xcalloc(1, sizeof *r);
    r->ngpus = ng;
    for (int s = 0; s < PROG_NSTREAMS; s++) {
        r->off[s] = sft_xcalloc((size_t)ng + 1, sizeof *r->off[s]);
        for (int g = 0; g < ng; g++) r->off[s][g + 1] = r->off[s][g] + (uint64_t)prog_nops(p, g, s);
        r->start[s] = sft_xcalloc(r->off[s][ng] + 1, sizeof(double));
        r->end[s] = sft_xcalloc(r->off[s][ng] + 1, sizeof(double));
        r->ops += r->off[s][ng];
    }
    int nc = prog_ncolls(p), nv = prog_nevents(p);
    r->coll_begin = sft_xcalloc((size_t)nc + 1, sizeof(double));
    r->coll_end = sft_xcalloc((size_t)nc + 1, sizeof(double));

    eng E = {0};
    E.c = c;
    E.p = p;
    E.r = r;
    E.colls = sft_xcalloc((size_t)nc + 1, sizeof *E.colls);
    E.evs = sft_xcalloc((size_t)nv + 1, sizeof *E.evs);
    E.actors = sft_xcalloc((size_t)ng * PROG_NSTREAMS, sizeof *E.actors);
    E.dispatch = prog_dispatch(p);
    if (E.dispatch > 0) {
        E.host = sft_xcalloc((size_t)ng, sizeof *E.host);
        for (int s = 0; s < PROG_NSTREAMS; s++) {
            E.issue[s] = sft_xcalloc(r->off[s][ng] + 1, sizeof(double));
            r->host_wait[s] = sft_xcalloc(r->off[s][ng] + 1, sizeof(double));
        }
        for (int g = 0; g < ng; g++) {
            E.host[g].order = prog_issue_order(p, g, &E.host[g].n);
            host_advance(&E, g);
        }
    }
    E.t0 = sgx_now();
    uint64_t a0 = sgx_activities();
    for (int g = 0; g < ng; g++) {
        for (int s = 0; s < PROG_NSTREAMS; s++) {
            actor_ctx *A = &E.actors[g * PROG_NSTREAMS + s];
            A->E = &E;
            A->gpu = g;
            A->stream = s;
            if (prog_nops(p, g, s) == 0) {
                A->done = 1;
                continue;
            }
            char name[48];
            static const char *const sn[PROG_NSTREAMS] = {"compute", "comm", "dp"};
            snprintf(name, sizeof name, "gpu%d-%s", g, sn[s]);
            sgx_spawn(name, g, stream_main, A);
        }
    }
    sgx_run();
    for (int i = 0; i < ng * PROG_NSTREAMS && !st; i++) {
        const actor_ctx *A = &E.actors[i];
        if (!A->done) {
            const prog_op *o = &prog_ops(p, A->gpu, A->stream)[A->at];
            st = sft_errf(e, SFT_EINTERNAL,
                          "deadlock: gpu %d stream %d blocked at op %d (%s, kind %d, ref %d)",
                          A->gpu, A->stream, A->at, prog_string(p, o->name), o->kind, o->ref);
        }
    }
    double mk = 0;
    for (int s = 0; s < PROG_NSTREAMS; s++)
        for (uint64_t i = 0; i < r->off[s][ng]; i++)
            if (r->end[s][i] > mk) mk = r->end[s][i];
    r->makespan = mk;
    r->activities = sgx_activities() - a0;
    for (int i = 0; i < nc; i++) free(E.colls[i].w.actor);
    for (int i = 0; i < nv; i++) free(E.evs[i].w.actor);
    free(E.colls);
    free(E.evs);
    free(E.actors);
    if (E.host)
        for (int g = 0; g < ng; g++) free(E.host[g].w.actor);
    free(E.host);
    for (int s = 0; s < PROG_NSTREAMS; s++) free(E.issue[s]);
    if (st) {
        eng_result_destroy(r);
        return st;
    }
    r->wall_s = sft_wall() - w0;
    *out = r;
    return SFT_OK;
}
