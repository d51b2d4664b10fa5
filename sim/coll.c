/* coll.c — collectives as phases of point-to-point flows (see coll.h). */
#include "sim/coll.h"

#include <limits.h>

#include <stdlib.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/topo.h"

double coll_busbw_factor(int op, int n)
{
    switch (op) {
    case COLL_ALL_REDUCE:
        return 2.0 * (n - 1) / n;
    case COLL_ALL_GATHER:
    case COLL_REDUCE_SCATTER:
    case COLL_ALL_TO_ALL:
        return (double)(n - 1) / n;
    default:
        return 1.0;
    }
}

static void add_flow(coll_plan *p, int s, int d, double bytes)
{
    /* all_to_all is n(n-1) flows: past 46,341 GPUs that leaves int (and
     * needs tens of GB); the engine's mapping check stops far below that on
     * a default kernel, this stops the rest before the count wraps */
    SFT_CHECK(p->nflows < INT_MAX / 2, "collective of more than %d flows", INT_MAX / 2);
    if (p->nflows == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->flows = sft_xrealloc(p->flows, (size_t)p->cap * sizeof *p->flows);
    }
    p->flows[p->nflows].src = s;
    p->flows[p->nflows].dst = d;
    p->flows[p->nflows].bytes = bytes;
    p->nflows++;
    p->phase[p->nphases - 1].nflows++;
}

static void new_phase(coll_plan *p, double latency)
{
    SFT_CHECK(p->nphases < 4, "collective with more than 4 phases");
    coll_phase *ph = &p->phase[p->nphases++];
    ph->latency_s = latency;
    ph->first = p->nflows;
    ph->nflows = 0;
}

/* A ring over m[0..k-1] (stride apart in the array) carrying `edge` bytes on
 * every edge; a chain (no closing edge) when chain != 0, starting at start. */
static void ring(coll_plan *p, const int *m, int k, int stride, double edge, int chain, int start)
{
    if (k < 2) return;
    int edges = chain ? k - 1 : k;
    for (int i = 0; i < edges; i++) {
        int a = (start + i) % k, b = (start + i + 1) % k;
        add_flow(p, m[a * stride], m[b * stride], edge);
    }
}

static void flat(const clu_desc *c, int op, const int *g, int n, double S, int root, int link,
                 coll_plan *p)
{
    double a, eff;
    clu_coll_params(c, op, link, S, &a, &eff);
    switch (op) {
    case COLL_ALL_GATHER:
    case COLL_REDUCE_SCATTER:
        new_phase(p, (n - 1) * a);
        ring(p, g, n, 1, (n - 1) * S / n / eff, 0, 0);
        break;
    case COLL_ALL_REDUCE:
        new_phase(p, 2 * (n - 1) * a);
        ring(p, g, n, 1, 2.0 * (n - 1) * S / n / eff, 0, 0);
        break;
    case COLL_BROADCAST:
        new_phase(p, (n - 1) * a);
        ring(p, g, n, 1, S / eff, 1, root);
        break;
    case COLL_RING_SHIFT:
        new_phase(p, a);
        ring(p, g, n, 1, S / eff, 0, 0);
        break;
    case COLL_ALL_TO_ALL:
        new_phase(p, (n - 1) * a);
        for (int i = 0; i < n; i++)
            for (int j = 1; j < n; j++) {
                int d = g[(i + j) % n];
                double unused, e2;
                int l = clu_node_of(c, g[i]) != clu_node_of(c, d) ? CLU_NET : CLU_NVLINK;
                clu_coll_params(c, op, l, S, &unused, &e2);
                add_flow(p, g[i], d, S / n / e2);
            }
        break;
    default:
        break;
    }
}

/* Groups whose members form m nodes x g local ranks, the same local ranks on
 * every node: fills mat[node*g + j] (node order of first appearance, local
 * ranks ascending). Returns g, or 0 when irregular. */
static int regular(const clu_desc *c, const int *grp, int n, int *mat, int *m_out)
{
    int gpn = c->gpus_per_node;
    int *nodes = sft_xmalloc((size_t)n * sizeof *nodes);
    int m = 0;
    for (int i = 0; i < n; i++) {
        int nd = clu_node_of(c, grp[i]), k;
        for (k = 0; k < m && nodes[k] != nd; k++) continue;
        if (k == m) nodes[m++] = nd;
    }
    int g = n / m, ok = n % m == 0;
    for (int k = 0; ok && k < m; k++) {
        int cnt = 0;
        for (int l = 0; l < gpn; l++) {
            int gpu = nodes[k] * gpn + l, in = 0;
            for (int i = 0; i < n; i++) in |= grp[i] == gpu;
            if (in) {
                if (cnt >= g) {
                    ok = 0;
                    break;
                }
                mat[k * g + cnt++] = gpu;
            }
        }
        if (cnt != g) ok = 0;
        for (int j = 0; ok && j < g; j++)
            if (mat[k * g + j] % gpn != mat[j] % gpn) ok = 0;
    }
    free(nodes);
    *m_out = m;
    return ok ? g : 0;
}

void coll_build(const clu_desc *c, int op, const int *grp, int n, double S, int root, coll_plan *p)
{
    p->nphases = 0;
    p->nflows = 0;
    if (op == COLL_SENDRECV) {
        if (n < 2 || grp[0] == grp[1]) return;
        int link = clu_node_of(c, grp[0]) == clu_node_of(c, grp[1]) ? CLU_NVLINK : CLU_NET;
        double a, eff;
        clu_coll_params(c, op, link, S, &a, &eff);
        new_phase(p, a);
        add_flow(p, grp[0], grp[1], S / eff);
        return;
    }
    if (n < 2) return;
    int node0 = clu_node_of(c, grp[0]), one = 1;
    for (int i = 1; i < n; i++) one &= clu_node_of(c, grp[i]) == node0;
    if (one) {
        flat(c, op, grp, n, S, root, CLU_NVLINK, p);
        return;
    }
    int *mat = sft_xmalloc((size_t)n * sizeof *mat), m = 0;
    int g = op == COLL_ALL_TO_ALL || op == COLL_RING_SHIFT ? 0 : regular(c, grp, n, mat, &m);
    if (!g) {
        flat(c, op, grp, n, S, root, CLU_NET, p);
        free(mat);
        return;
    }
    double an, en, av, ev, sh = S / n;
    clu_coll_params(c, op, CLU_NET, S, &an, &en);
    clu_coll_params(c, op, CLU_NVLINK, S, &av, &ev);
    switch (op) {
    case COLL_ALL_GATHER:
        new_phase(p, (m - 1) * an);
        for (int j = 0; j < g; j++) ring(p, mat + j, m, g, (m - 1) * sh / en, 0, 0);
        if (g > 1) {
            new_phase(p, (g - 1) * av);
            for (int k = 0; k < m; k++) ring(p, mat + k * g, g, 1, (g - 1) * m * sh / ev, 0, 0);
        }
        break;
    case COLL_REDUCE_SCATTER:
        if (g > 1) {
            new_phase(p, (g - 1) * av);
            for (int k = 0; k < m; k++) ring(p, mat + k * g, g, 1, (g - 1) * S / g / ev, 0, 0);
        }
        new_phase(p, (m - 1) * an);
        for (int j = 0; j < g; j++) ring(p, mat + j, m, g, (m - 1) * sh / en, 0, 0);
        break;
    case COLL_ALL_REDUCE:
        if (g > 1) {
            new_phase(p, (g - 1) * av);
            for (int k = 0; k < m; k++) ring(p, mat + k * g, g, 1, (g - 1) * S / g / ev, 0, 0);
        }
        new_phase(p, 2 * (m - 1) * an);
        for (int j = 0; j < g; j++) ring(p, mat + j, m, g, 2.0 * (m - 1) / m * (S / g) / en, 0, 0);
        if (g > 1) {
            new_phase(p, (g - 1) * av);
            for (int k = 0; k < m; k++) ring(p, mat + k * g, g, 1, (g - 1) * S / g / ev, 0, 0);
        }
        break;
    case COLL_BROADCAST: {
        int r = grp[root], rk = 0, rj = 0;
        for (int i = 0; i < m * g; i++)
            if (mat[i] == r) {
                rk = i / g;
                rj = i % g;
            }
        new_phase(p, (m - 1) * an);
        ring(p, mat + rj, m, g, S / en, 1, rk);
        if (g > 1) {
            new_phase(p, (g - 1) * av);
            for (int k = 0; k < m; k++) ring(p, mat + k * g, g, 1, S / ev, 1, rj);
        }
        break;
    }
    default:
        break;
    }
    free(mat);
}

void coll_plan_free(coll_plan *p)
{
    free(p->flows);
    memset(p, 0, sizeof *p);
}

void coll_route(const clu_desc *c, int src, int dst, double *bw, double *lat)
{
    int ids[TOPO_MAX_ROUTE];
    int k = topo_route(c, src, dst, ids);
    *bw = 1e300;
    *lat = 0;
    for (int i = 0; i < k; i++) {
        double b, l;
        topo_kind kind;
        topo_link(c, ids[i], &b, &l, &kind, NULL, 0);
        if (b < *bw) *bw = b;
        *lat += l;
    }
}

typedef struct load {
    int link;
    double bytes;
} load;

static int by_link(const void *a, const void *b)
{
    const load *x = a, *y = b;
    return (x->link > y->link) - (x->link < y->link);
}

double coll_plan_time(const clu_desc *c, const coll_plan *p)
{
    double t = 0;
    for (int ph = 0; ph < p->nphases; ph++) {
        const coll_phase *P = &p->phase[ph];
        load *L = sft_xmalloc((size_t)(P->nflows * TOPO_MAX_ROUTE + 1) * sizeof *L);
        int nl = 0;
        double lat = 0;
        for (int f = P->first; f < P->first + P->nflows; f++) {
            int ids[TOPO_MAX_ROUTE];
            int k = topo_route(c, p->flows[f].src, p->flows[f].dst, ids);
            double rl = 0;
            for (int i = 0; i < k; i++) {
                double b, l;
                topo_kind kind;
                topo_link(c, ids[i], &b, &l, &kind, NULL, 0);
                rl += l;
                L[nl].link = ids[i];
                L[nl++].bytes = p->flows[f].bytes;
            }
            if (rl > lat) lat = rl;
        }
        /* the busiest link sets the phase's transfer time (fair sharing) */
        qsort(L, (size_t)nl, sizeof *L, by_link);
        double worst = 0;
        for (int i = 0; i < nl;) {
            int j = i;
            double sum = 0;
            while (j < nl && L[j].link == L[i].link) sum += L[j++].bytes;
            double b, l;
            topo_kind kind;
            topo_link(c, L[i].link, &b, &l, &kind, NULL, 0);
            if (sum / b > worst) worst = sum / b;
            i = j;
        }
        free(L);
        t += P->latency_s + (P->nflows ? lat + worst : 0);
    }
    return t;
}

double coll_estimate(const clu_desc *c, int op, const int *group, int n, double bytes)
{
    coll_plan p = {0};
    coll_build(c, op, group, n, bytes, 0, &p);
    double t = coll_plan_time(c, &p);
    coll_plan_free(&p);
    return t;
}
