/* graph.c — the schedule graph through cgraph and gvc (graph.h). */
#include "reports/graph.h"

#include <errno.h>

#include <cgraph.h>
#include <dlfcn.h>
#include <gvc.h>
#include <stdlib.h>
#include <string.h>

typedef enum detail { D_SEQUENCES, D_MICROBATCHES, D_RANKS } detail;

static const char *const detail_name[] = {"sequences", "microbatches", "ranks"};

/* cgraph takes char * for names and values it only reads. */
static void set(void *obj, const char *name, const char *value)
{
    agsafeset(obj, (char *)name, (char *)value, "");
}

static Agnode_t *node(Agraph_t *g, const char *name, const char *label, const char *shape,
                      const char *fill)
{
    Agnode_t *n = agnode(g, (char *)name, 1);
    set(n, "label", label);
    set(n, "shape", shape);
    set(n, "fillcolor", fill);
    return n;
}

static Agedge_t *edge(Agraph_t *g, Agnode_t *t, Agnode_t *h)
{
    return agedge(g, t, h, NULL, 1);
}

static Agraph_t *cluster(Agraph_t *g, const char *name, const char *label, const char *fill)
{
    Agraph_t *c = agsubg(g, (char *)name, 1);
    set(c, "label", label);
    set(c, "style", "filled,rounded");
    set(c, "fillcolor", fill);
    return c;
}

typedef struct mb_stats {
    int local, dist;
    double tokens, dist_tokens, max_gpu;
} mb_stats;

static mb_stats stats(const plan_mb *mb, int cp)
{
    mb_stats s = {0};
    for (int i = 0; i < mb->n; i++) {
        s.tokens += (double)mb->seq[i].len;
        if (mb->seq[i].cp == PLAN_DIST) {
            s.dist++;
            s.dist_tokens += (double)mb->seq[i].len;
        } else {
            s.local++;
        }
    }
    s.max_gpu = plan_mb_max_tokens(mb, cp);
    return s;
}

static long nodes_at(const plan *pl, detail d)
{
    long n = 0;
    for (int r = 0; r < pl->dp; r++) {
        if (d == D_RANKS) {
            n++;
            continue;
        }
        for (int m = 0; m < pl->rank[r].nmb; m++) {
            const plan_mb *mb = &pl->rank[r].mb[m];
            if (d == D_MICROBATCHES) {
                n++;
                continue;
            }
            n += pl->cp + mb->n;
            for (int i = 0; i < mb->n; i++)
                if (mb->seq[i].cp == PLAN_DIST) {
                    n++;
                    break;
                }
        }
    }
    return n;
}

/* Layout. dot orders the nodes of one rank freely unless flat edges inside
 * one cluster say otherwise, and it swaps sibling clusters of one rank at
 * will; ranks, though, it always keeps. So the graph is built as bands
 * stacked down the ranks (one per micro-batch, or per DP rank when
 * summarised), each band a row of nodes tied left to right by invisible flat
 * edges inside its cluster, with columns hanging below by invisible edges:
 * plan order reads left to right and top to bottom. */
#define COL_MAX 12 /* nodes per column below a CP rank or the distributed hub */
#define ROW_MAX 8  /* summary boxes per row */

static void invis(Agraph_t *g, Agnode_t *a, Agnode_t *b, int minlen)
{
    Agedge_t *ed = edge(g, a, b);
    set(ed, "style", "invis");
    if (minlen != 1) {
        char v[16];
        snprintf(v, sizeof v, "%d", minlen);
        set(ed, "minlen", v);
    }
}

/* The bands so far: each new band's first row goes below the last one's
 * deepest rank. The tie runs between the rows' last nodes: down the right
 * edge, where it crosses nothing, so dot has no reason to reorder a row. */
typedef struct bands {
    Agraph_t *root;
    Agnode_t *tail; /* the last band's first row's last node */
    int depth;      /* ranks its columns or rows reach below that row */
} bands;

static void band_end(bands *b, Agnode_t *tail, int depth)
{
    /* two free ranks: room for the next cluster's label */
    if (b->tail) invis(b->root, b->tail, tail, b->depth + 2);
    b->tail = tail;
    b->depth = depth;
}

/* A row of n nodes under construction: flat edges keep its order. */
typedef struct rowb {
    Agraph_t *g;
    Agnode_t *prev;
} rowb;

static Agnode_t *row_add(rowb *r, Agnode_t *n)
{
    if (r->prev) invis(r->g, r->prev, n, 0);
    r->prev = n;
    return n;
}

/* Hangs the k-th node of a column group under head: columns of COL_MAX,
 * column heads ordered by flat edges. *last is the previous node added. */
static void hang(Agraph_t *g, Agnode_t *head, Agnode_t **colhead, Agnode_t **last, int k,
                 Agnode_t *n, int *depth)
{
    if (k % COL_MAX == 0) {
        invis(g, head, n, 1);
        if (*colhead) invis(g, *colhead, n, 0);
        *colhead = n;
    } else {
        invis(g, *last, n, 1);
    }
    *last = n;
    if (k % COL_MAX + 1 > *depth) *depth = k % COL_MAX + 1;
}

static void build_sequences(Agraph_t *mbg, bands *b, const plan_mb *mb, int r, int m, int cp)
{
    char name[96], label[256];
    rowb row = {mbg, NULL};
    int depth = 0;
    for (int j = 0; j < cp; j++) {
        snprintf(name, sizeof name, "dp%d_mb%d_cp%d", r, m, j);
        snprintf(label, sizeof label, "CP %d / GPU %d\\n%.0f tokens", j, r * cp + j,
                 plan_mb_tokens(mb, j, cp));
        Agnode_t *h = row_add(&row, node(mbg, name, label, "box", "gray92"));
        Agnode_t *colhead = NULL, *last = NULL;
        for (int i = 0, k = 0; i < mb->n; i++) {
            const plan_seq *q = &mb->seq[i];
            if (q->cp != j) continue;
            snprintf(name, sizeof name, "seq%lld", (long long)q->id);
            snprintf(label, sizeof label, "%lld:%lld", (long long)q->id, (long long)q->len);
            hang(mbg, h, &colhead, &last, k++, node(mbg, name, label, "ellipse", "lightblue"),
                 &depth);
        }
    }
    mb_stats s = stats(mb, cp);
    if (!s.dist) {
        band_end(b, row.prev, depth);
        return;
    }
    snprintf(name, sizeof name, "dp%d_mb%d_dist", r, m);
    snprintf(label, sizeof label,
             "distributed over CP 0..%d\\n%d sequences, %.0f tokens\\n1/%d of each on every GPU",
             cp - 1, s.dist, s.dist_tokens, cp);
    Agnode_t *hub = row_add(&row, node(mbg, name, label, "hexagon", "orange"));
    Agnode_t *colhead = NULL, *last = NULL;
    for (int i = 0, k = 0; i < mb->n; i++) {
        const plan_seq *q = &mb->seq[i];
        if (q->cp != PLAN_DIST) continue;
        snprintf(name, sizeof name, "seq%lld", (long long)q->id);
        snprintf(label, sizeof label, "%lld:%lld", (long long)q->id, (long long)q->len);
        hang(mbg, hub, &colhead, &last, k++, node(mbg, name, label, "octagon", "navajowhite"),
             &depth);
    }
    band_end(b, hub, depth);
}

/* A grid of summary boxes in g: rows of ROW_MAX hanging below the first;
 * grid_end closes it as one band. */
typedef struct grid {
    Agraph_t *g;
    rowb row;
    Agnode_t *rowhead, *tail;
    int k;
} grid;

static void grid_add(grid *G, Agnode_t *n)
{
    if (G->k % ROW_MAX == 0) {
        if (G->rowhead) invis(G->g, G->rowhead, n, 1);
        G->rowhead = n;
        G->row.prev = NULL;
    }
    row_add(&G->row, n);
    if (G->k < ROW_MAX) G->tail = n;
    G->k++;
}

static void grid_end(grid *G, bands *b)
{
    if (G->k) band_end(b, G->tail, (G->k - 1) / ROW_MAX);
}

/* Object IDs in creation order. cgraph's default discipline makes a named
 * object's ID the address of its interned name, and writes subgraphs in
 * ID order: the DOT file's cluster order then followed the heap layout,
 * which any allocation earlier in the process could change (a run into a
 * directory a killed run had left wrote its DP ranks in another order).
 * Here map() declines names, so cgraph keeps them in its internal name
 * map and asks for an anonymous ID, which is a counter (odd, as cgraph's
 * own anonymous IDs are). */
typedef struct seq_ids {
    IDTYPE next;
} seq_ids;

static void *seq_open(Agraph_t *g, Agdisc_t *d)
{
    (void)g, (void)d;
    return sft_xcalloc(1, sizeof(seq_ids));
}

static long seq_map(void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
    (void)objtype;
    if (str || !createflag) return 0;
    seq_ids *s = state;
    *id = 2 * s->next++ + 1;
    return 1;
}

static long seq_alloc(void *state, int objtype, IDTYPE id)
{
    (void)state, (void)objtype, (void)id;
    return 0; /* no object is created by a caller's ID */
}

static void seq_free(void *state, int objtype, IDTYPE id)
{
    (void)state, (void)objtype, (void)id;
}

static char *seq_print(void *state, int objtype, IDTYPE id)
{
    (void)state, (void)objtype, (void)id;
    return NULL; /* names come from cgraph's internal map */
}

static void seq_close(void *state)
{
    free(state);
}

static void seq_register(void *state, int objtype, void *obj)
{
    (void)state, (void)objtype, (void)obj;
}

static Agiddisc_t seq_iddisc = {seq_open,  seq_map,   seq_alloc,   seq_free,
                                seq_print, seq_close, seq_register};
static Agdisc_t seq_disc = {&AgMemDisc, &seq_iddisc, &AgIoDisc};

static Agraph_t *build(const rep_src *src, const plan *pl, int step, detail d)
{
    Agraph_t *g = agopen("schedule", Agdirected, &seq_disc);
    char name[96], label[512];
    long nseq = 0, nloc = 0;
    double tokens = 0;
    for (int r = 0; r < pl->dp; r++)
        for (int m = 0; m < pl->rank[r].nmb; m++) {
            mb_stats s = stats(&pl->rank[r].mb[m], pl->cp);
            nseq += s.local + s.dist;
            nloc += s.local;
            tokens += s.tokens;
        }
    static const char *const how[] = {
        "per micro-batch: a box per CP rank (GPU), the sequences it holds whole below it (blue "
        "ellipses, id:tokens);\\nan orange hexagon, the sequences sharded over the whole CP group "
        "below it (octagons)",
        "summarised (over %d nodes with every sequence): one box per micro-batch, orange when "
        "some of its sequences are distributed",
        "summarised (over %d nodes with every micro-batch): one box per DP rank"};
    char legend[300];
    snprintf(legend, sizeof legend, how[d], REP_GRAPH_MAX_NODES);
    snprintf(label, sizeof label,
             "sftsim schedule: policy %s, step %d: DP %d x CP %d, %ld sequences (%ld local, %ld "
             "distributed), %.0f tokens\\n%s",
             src->policy, step, pl->dp, pl->cp, nseq, nloc, nseq - nloc, tokens, legend);
    set(g, "label", label);
    set(g, "labelloc", "t");
    set(g, "fontname", "Helvetica");
    set(g, "nodesep", "0.12");
    set(g, "ranksep", "0.15");
    set(g, "sftsim_detail", detail_name[d]);
    agattr(g, AGNODE, "style", "filled");
    agattr(g, AGNODE, "fontname", "Helvetica");
    agattr(g, AGNODE, "fontsize", "10");
    agattr(g, AGNODE, "height", "0.3");
    bands b = {g, NULL, 0};
    grid ranks = {g, {g, NULL}, NULL, NULL, 0};
    for (int r = 0; r < pl->dp; r++) {
        const plan_rank *R = &pl->rank[r];
        long rseq = 0;
        double rtok = 0;
        for (int m = 0; m < R->nmb; m++) {
            mb_stats s = stats(&R->mb[m], pl->cp);
            rseq += s.local + s.dist;
            rtok += s.tokens;
        }
        snprintf(label, sizeof label,
                 "DP rank %d (GPUs %d..%d): %d micro-batch%s, %ld sequences, %.0f tokens", r,
                 r * pl->cp, (r + 1) * pl->cp - 1, R->nmb, R->nmb == 1 ? "" : "es", rseq, rtok);
        if (d == D_RANKS) {
            snprintf(name, sizeof name, "dp%d", r);
            grid_add(&ranks, node(g, name, label, "box", "gray92"));
            continue;
        }
        snprintf(name, sizeof name, "cluster_dp%d", r);
        Agraph_t *rg = cluster(g, name, label, "whitesmoke");
        grid mbs = {rg, {rg, NULL}, NULL, NULL, 0};
        for (int m = 0; m < R->nmb; m++) {
            const plan_mb *mb = &R->mb[m];
            mb_stats s = stats(mb, pl->cp);
            if (d == D_MICROBATCHES) {
                snprintf(name, sizeof name, "dp%d_mb%d", r, m);
                snprintf(label, sizeof label,
                         "micro-batch %d\\n%d sequences: %d local, %d distributed\\n%.0f "
                         "tokens, at most %.0f on one GPU",
                         m, s.local + s.dist, s.local, s.dist, s.tokens, s.max_gpu);
                grid_add(&mbs, node(rg, name, label, "box", s.dist ? "navajowhite" : "lightblue"));
                continue;
            }
            snprintf(name, sizeof name, "cluster_dp%d_mb%d", r, m);
            snprintf(label, sizeof label,
                     "micro-batch %d: %d sequences, at most %.0f tokens on one GPU", m,
                     s.local + s.dist, s.max_gpu);
            build_sequences(cluster(rg, name, label, "white"), &b, mb, r, m, pl->cp);
        }
        grid_end(&mbs, &b);
    }
    grid_end(&ranks, &b);
    return g;
}

/* Graphviz with exactly two plugins, loaded here instead of through its
 * configuration: dot layout, and core (SVG). The configuration would also
 * bring graphviz 2.42/2.43's pango text layout, which keeps a pointer to the
 * previous graph's font name (a use after free on a process's second graph)
 * and leaks fontconfig's caches; without it graphviz measures text with its
 * own font metrics. The plugin files' paths come from the build (pkg-config
 * libgvc: <libdir>/graphviz). */
typedef struct gv {
    GVC_t *gvc;
    void *lib[2];
    lt_symlist_t builtins[3]; /* the context refers to it */
} gv;

static void gv_close(gv *g)
{
    if (g->gvc) gvFreeContext(g->gvc);
    for (int i = 0; i < 2; i++)
        if (g->lib[i]) dlclose(g->lib[i]);
}

static sft_status gv_open(gv *g, const char *path, sft_err *e)
{
    static const char *const file[2] = {SFT_GV_PLUGIN_DOT, SFT_GV_PLUGIN_CORE};
    static const char *const sym[2] = {"gvplugin_dot_layout_LTX_library",
                                       "gvplugin_core_LTX_library"};
    memset(g, 0, sizeof *g);
    for (int i = 0; i < 2; i++) {
        g->lib[i] = dlopen(file[i], RTLD_NOW | RTLD_LOCAL);
        void *addr = g->lib[i] ? dlsym(g->lib[i], sym[i]) : NULL;
        if (!addr) {
            const char *why = dlerror();
            sft_errf(e, SFT_EINTERNAL, "%s: cannot load the graphviz plugin %s: %s", path, file[i],
                     why ? why : "symbol missing");
            gv_close(g);
            return e ? e->status : SFT_EINTERNAL;
        }
        g->builtins[i].name = sym[i];
        g->builtins[i].address = addr;
    }
    g->gvc = gvContextPlugins(g->builtins, 0);
    return SFT_OK;
}

sft_status rep_graph_write(const char *dot_path, const char *svg_path, const rep_src *src, int step,
                           sft_err *e)
{
    if (step < 0 || step >= src->nplans || !src->plans[step])
        return sft_errf(e, SFT_EINPUT, "%s: policy %s has no plan for step %d (%d steps)", dot_path,
                        src->policy, step, src->nplans);
    const plan *pl = src->plans[step];
    detail d = D_SEQUENCES;
    while (d < D_RANKS && nodes_at(pl, d) > REP_GRAPH_MAX_NODES) d++;
    Agraph_t *g = build(src, pl, step, d);
    sft_ofile *of = sft_ofile_open(dot_path, e);
    if (!of) {
        agclose(g);
        return e ? e->status : SFT_EINTERNAL;
    }
    if (agwrite(g, sft_ofile_fp(of)) != 0) {
        int err = errno;
        sft_ofile_abort(of);
        agclose(g);
        return sft_errf(e, SFT_EOUTPUT, "%s: write failed: %s", dot_path,
                        strerror(err ? err : EIO));
    }
    sft_status st = sft_ofile_commit(of, e);
    gv v;
    if (!st) st = gv_open(&v, svg_path, e);
    if (st) {
        agclose(g);
        return st;
    }
    char *svg = NULL;
    unsigned int len = 0;
    if (gvLayout(v.gvc, g, "dot") != 0) {
        st = sft_errf(e, SFT_EINTERNAL, "%s: graphviz cannot lay out the graph", svg_path);
    } else {
        if (gvRenderData(v.gvc, g, "svg", &svg, &len) != 0 || !svg)
            st = sft_errf(e, SFT_EINTERNAL, "%s: graphviz cannot render SVG", svg_path);
        else
            st = sft_write_file(svg_path, svg, len, e);
        gvFreeRenderData(svg);
        gvFreeLayout(v.gvc, g);
    }
    agclose(g);
    gv_close(&v);
    return st;
}
