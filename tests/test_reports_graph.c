/* test_reports_graph.c — the schedule graph of --out: schedule.dot reads back
 * with agread and has exactly the nodes reports/graph.h describes, counted
 * here from the plan (the same scenario scheduled through the library);
 * local and distributed sequences are told apart and sit under their CP rank
 * or the micro-batch's distributed hub; above 1000 nodes it is summarised;
 * schedule.svg is a complete SVG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cgraph.h>

#include "lab/scenario.h"
#include "reports/graph.h"
#include "tutil.h"

/* The plans of the scenario under policy (argv as the subcommand sees it). */
static scen_result *schedule(const char *const *argv, const char *policy, scenario *s)
{
    int argc = 0;
    while (argv[argc]) argc++;
    scen_opts o;
    sft_err e = {0};
    if (scen_parse(argc, (char **)argv, "run", &o, NULL, NULL, NULL, &e) || scen_resolve(&o, s, &e))
        fail_msg("scenario: %s", e.msg);
    scen_result *r = NULL;
    const sched_policy *pol = s->policy;
    if ((policy && scen_policy(s, policy, &pol, &e)) || scen_schedule(s, pol, &r, &e))
        fail_msg("schedule: %s", e.msg);
    return r;
}

/* graph.h: per micro-batch CP + nseq + 1 if any sequence is distributed;
 * above 1000, one node per micro-batch; above that again, one per DP rank. */
static long expected_nodes(const plan *pl, const char **detail)
{
    long full = 0, mbs = 0;
    for (int r = 0; r < pl->dp; r++)
        for (int m = 0; m < pl->rank[r].nmb; m++) {
            const plan_mb *mb = &pl->rank[r].mb[m];
            int dist = 0;
            for (int i = 0; i < mb->n; i++) dist |= mb->seq[i].cp == PLAN_DIST;
            full += pl->cp + mb->n + dist;
            mbs++;
        }
    if (full <= 1000) {
        *detail = "sequences";
        return full;
    }
    if (mbs <= 1000) {
        *detail = "microbatches";
        return mbs;
    }
    *detail = "ranks";
    return pl->dp;
}

static Agraph_t *read_dot(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("no %s", path);
    Agraph_t *g = agread(f, NULL);
    fclose(f);
    if (!g) fail_msg("%s does not read back with agread", path);
    return g;
}

static void check_svg(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = tu_slurp(path);
    /* an XML document holding one whole SVG element */
    assert_true(strncmp(t, "<?xml", 5) == 0);
    assert_non_null(strstr(t, "<svg"));
    assert_non_null(strstr(t, "</svg>"));
    free(t);
}

/* The node a sequence hangs from: up its column to the CP rank or the hub. */
static Agnode_t *column_top(Agraph_t *g, Agnode_t *n)
{
    while (strncmp(agnameof(n), "seq", 3) == 0) {
        Agedge_t *in = agfstin(g, n);
        if (!in) return NULL;
        n = agtail(in);
    }
    return n;
}

static void check_graph(const char *dir, const char *file, const plan *pl)
{
    const char *detail;
    long want = expected_nodes(pl, &detail);
    Agraph_t *g = read_dot(dir, file);
    assert_int_equal(agnnodes(g), want);
    assert_string_equal(agget(g, "sftsim_detail"), detail);
    if (strcmp(detail, "sequences") == 0) {
        char name[96], label[96];
        for (int r = 0; r < pl->dp; r++)
            for (int m = 0; m < pl->rank[r].nmb; m++) {
                const plan_mb *mb = &pl->rank[r].mb[m];
                snprintf(name, sizeof name, "cluster_dp%d", r);
                Agraph_t *rg = agsubg(g, name, 0);
                snprintf(name, sizeof name, "cluster_dp%d_mb%d", r, m);
                Agraph_t *mg = rg ? agsubg(rg, name, 0) : NULL;
                /* clusters for DP ranks and their micro-batches */
                if (!mg) fail_msg("%s: no cluster %s in cluster_dp%d", file, name, r);
                for (int i = 0; i < mb->n; i++) {
                    const plan_seq *q = &mb->seq[i];
                    snprintf(name, sizeof name, "seq%lld", (long long)q->id);
                    Agnode_t *n = agnode(g, name, 0);
                    if (!n) fail_msg("%s: no node for sequence %lld", file, (long long)q->id);
                    assert_non_null(agsubnode(mg, n, 0));
                    /* lengths on labels */
                    snprintf(label, sizeof label, "%lld:%lld", (long long)q->id, (long long)q->len);
                    assert_string_equal(agget(n, "label"), label);
                    /* local and distributed told apart, each under its owner */
                    if (q->cp == PLAN_DIST) {
                        assert_string_equal(agget(n, "shape"), "octagon");
                        snprintf(name, sizeof name, "dp%d_mb%d_dist", r, m);
                    } else {
                        assert_string_equal(agget(n, "shape"), "ellipse");
                        snprintf(name, sizeof name, "dp%d_mb%d_cp%d", r, m, q->cp);
                    }
                    Agnode_t *top = column_top(g, n);
                    assert_non_null(top);
                    assert_string_equal(agnameof(top), name);
                }
            }
    }
    agclose(g);
}

/* deepspeed shards every sequence: all distributed. */
static void run_graph(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps", "1", NULL};
    const char *dir = tu_run_out("run", args);
    scenario s;
    scen_result *r = schedule(args, NULL, &s);
    check_graph(dir, "schedule.dot", r->plans[0]);
    check_svg(dir, "schedule.svg");
    /* the DP ranks' clusters in creation order, 0 to 3: cgraph's default
     * IDs (the names' addresses) ordered them by heap layout, so a file
     * could differ between two runs of one scenario (graph.c, seq_iddisc) */
    char path[700];
    snprintf(path, sizeof path, "%s/schedule.dot", dir);
    char *dot = tu_slurp(path);
    const char *at = dot;
    for (int d = 0; d < s.par.dp; d++) {
        char want[48];
        snprintf(want, sizeof want, "subgraph cluster_dp%d {", d);
        const char *f = strstr(at, want);
        if (!f) fail_msg("schedule.dot: '%s' missing or before cluster_dp%d", want, d - 1);
        at = f;
    }
    free(dot);
    scen_result_destroy(r);
    scen_release(&s);
}

/* compare: one graph per policy, skrull mixing local and distributed. */
static void compare_graphs(void **state)
{
    (void)state;
    const char *args[] = {"compare", "--steps", "1", NULL};
    const char *dir = tu_run_out("compare", args);
    static const char *const pols[] = {"deepspeed", "sorted", "dacp", "skrull"};
    for (int i = 0; i < 4; i++) {
        scenario s;
        const char *rargs[] = {"run", "--steps", "1", NULL};
        scen_result *r = schedule(rargs, pols[i], &s);
        char dot[64], svg[64];
        snprintf(dot, sizeof dot, "schedule-%s.dot", pols[i]);
        snprintf(svg, sizeof svg, "schedule-%s.svg", pols[i]);
        check_graph(dir, dot, r->plans[0]);
        check_svg(dir, svg);
        scen_result_destroy(r);
        scen_release(&s);
    }
}

/* ChatQA2's long sequences: skrull distributes them and keeps short ones
 * whole, so one graph holds both kinds. */
static void mixed_graph(void **state)
{
    (void)state;
    const char *args[] = {"run",     "--steps", "1",  "--policy",      "skrull", "--dataset",
                          "chatqa2", "--batch", "16", "--granularity", "layer",  NULL};
    const char *dir = tu_run_out("mixed", args);
    scenario s;
    scen_result *r = schedule(args, NULL, &s);
    int kinds[2] = {0, 0};
    const plan *pl = r->plans[0];
    for (int d = 0; d < pl->dp; d++)
        for (int m = 0; m < pl->rank[d].nmb; m++)
            for (int i = 0; i < pl->rank[d].mb[m].n; i++)
                kinds[pl->rank[d].mb[m].seq[i].cp == PLAN_DIST]++;
    assert_true(kinds[0] > 0 && kinds[1] > 0); /* the case this test is for */
    check_graph(dir, "schedule.dot", r->plans[0]);
    scen_result_destroy(r);
    scen_release(&s);
}

/* 1200 sequences: over 1000 nodes, one box per micro-batch. */
static void summarised_microbatches(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps", "1", "--batch", "300", "--granularity", "layer", NULL};
    const char *dir = tu_run_out("summary-mb", args);
    scenario s;
    scen_result *r = schedule(args, NULL, &s);
    const char *detail;
    expected_nodes(r->plans[0], &detail);
    assert_string_equal(detail, "microbatches"); /* the case this test is for */
    check_graph(dir, "schedule.dot", r->plans[0]);
    check_svg(dir, "schedule.svg");
    scen_result_destroy(r);
    scen_release(&s);
}

/* 64 DP ranks x 16 single-sequence micro-batches = 1024 micro-batches: one
 * box per DP rank. */
static void summarised_ranks(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps",       "1",     "--gpus",  "64", "--dp",
                          "64",  "--cp",          "1",     "--batch", "16", "--ds-pack",
                          "off", "--granularity", "layer", NULL};
    const char *dir = tu_run_out("summary-ranks", args);
    scenario s;
    scen_result *r = schedule(args, NULL, &s);
    const char *detail;
    expected_nodes(r->plans[0], &detail);
    assert_string_equal(detail, "ranks");
    check_graph(dir, "schedule.dot", r->plans[0]);
    scen_result_destroy(r);
    scen_release(&s);
}

/* The same plan gives the same bytes whatever the heap looked like before:
 * cgraph's default IDs are name addresses and its subgraphs are written in ID
 * order, so a DOT file once followed the --out path's length. Here the heap
 * is fragmented between two writes (every other block of a spread of sizes
 * freed, so the graph's strings land in scattered holes). A first write
 * warms Graphviz up: its first layout in a process declares defaults (a
 * node label) that later DOT files of the process carry. */
static void same_bytes_whatever_the_heap(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps", "1", "--policy", "skrull", NULL};
    scenario s;
    scen_result *r = schedule(args, NULL, &s);
    rep_src src = {.policy = "skrull",
                   .plans = (const plan *const *)r->plans,
                   .nplans = 1,
                   .dp = s.par.dp,
                   .cp = s.par.cp};
    char dot[3][700], svg[3][700];
    enum { NB = 4096 };
    void **junk = malloc(NB * sizeof *junk);
    for (int k = 0; k < 3; k++) {
        if (k == 2) {
            for (int i = 0; i < NB; i++) junk[i] = malloc((size_t)(8 + (i * 37) % 200));
            for (int i = 0; i < NB; i += 2) free(junk[i]);
        }
        snprintf(dot[k], sizeof dot[k], "%s/heap%d.dot", tu_tmpdir(), k);
        snprintf(svg[k], sizeof svg[k], "%s/heap%d.svg", tu_tmpdir(), k);
        sft_err e = {0};
        if (rep_graph_write(dot[k], svg[k], &src, 0, &e)) fail_msg("graph: %s", e.msg);
    }
    for (int i = 1; i < NB; i += 2) free(junk[i]);
    free(junk);
    for (int f = 0; f < 2; f++) {
        char *a = tu_slurp(f ? svg[1] : dot[1]), *b = tu_slurp(f ? svg[2] : dot[2]);
        if (strcmp(a, b) != 0)
            fail_msg("%s and %s differ", f ? svg[1] : dot[1], f ? svg[2] : dot[2]);
        free(a);
        free(b);
    }
    scen_result_destroy(r);
    scen_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_graph),        cmocka_unit_test(compare_graphs),
        cmocka_unit_test(mixed_graph),      cmocka_unit_test(summarised_microbatches),
        cmocka_unit_test(summarised_ranks), cmocka_unit_test(same_bytes_whatever_the_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
