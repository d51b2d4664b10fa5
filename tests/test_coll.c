/* test_coll.c — collectives on the simulated platform against closed forms.
 *
 * Test cluster: 2 nodes x 8 GPUs, NVLink B = 400 GB/s per direction with
 * one-way latency lambda = 1 us, NIC 50 GB/s with 3 us, NVLink collectives
 * with per-step latency a = 2 us and efficiency 0.8, net a = 6 us and 0.9;
 * sendrecv at efficiency 1 and no step latency so raw links show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "sim/cluster.h"
#include "sim/coll.h"
#include "sim/collsim.h"
#include "sim/engine.h"
#include "sim/prog.h"
#include "base/iso.h"

static const char *cluster_json(double oversub, int nodes_per_leaf)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"schema\":1,\"name\":\"test2x8\",\"nodes\":2,\"gpus_per_node\":8,"
             "\"gpu\":\"h100-sxm\",\"nvlink\":{\"bandwidth_gbps\":400,\"latency_us\":1.0},"
             "\"nic\":{\"bandwidth_gbps\":50,\"latency_us\":3.0},"
             "\"fabric\":{\"nodes_per_leaf\":%d,\"oversubscription\":%g,\"latency_us\":1.0},"
             "\"collectives\":{\"nvlink\":{\"step_latency_us\":2.0,\"efficiency\":0.8},"
             "\"net\":{\"step_latency_us\":6.0,\"efficiency\":0.9},"
             "\"rules\":[{\"op\":\"sendrecv\",\"max_bytes\":1e15,\"step_latency_us\":0,"
             "\"efficiency\":1}]},\"comm_compute_slowdown\":0.1}",
             nodes_per_leaf, oversub);
    return buf;
}

static clu_desc C;

static int setup(void **state)
{
    (void)state;
    sft_err e;
    return clu_parse(cluster_json(1, 32), "test2x8", &C, &e) == SFT_OK ? 0 : -1;
}

typedef struct job {
    const clu_desc *c;
    int op, n;
    double bytes;
} job;

static int sim_child(void *arg, FILE *out)
{
    const job *j = arg;
    collsim_row row;
    sft_err e;
    if (collsim_run(j->c, j->op, j->n, &j->bytes, 1, &row, NULL, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    fprintf(out, "%.17g\n", row.time_s);
    return 0;
}

/* Simulates in a child process: SimGrid holds one platform per process, and
 * the tests below use two different ones. */
static double sim_on(const clu_desc *c, int op, int n, double bytes)
{
    job j = {c, op, n, bytes};
    char *out = NULL;
    int code;
    sft_err e;
    assert_int_equal(iso_run(sim_child, &j, &out, NULL, &code, &e), SFT_OK);
    assert_int_equal(code, 0);
    double t = atof(out);
    free(out);
    return t;
}

static double sim1(int op, int n, double bytes)
{
    return sim_on(&C, op, n, bytes);
}

static void close_to(double got, double want, double tol, const char *what)
{
    double rel = fabs(got / want - 1);
    if (rel > tol)
        fail_msg("%s: simulated %.6g s, closed form %.6g s (%.2f%% off, tolerance %.1f%%)", what,
                 got, want, 100 * rel, 100 * tol);
}

/* Ring all-gather inside a node, n GPUs, message S (output bytes): each edge
 * carries (n-1)/n S at efficiency e, after (n-1) step latencies a and one
 * route latency lambda: T = (n-1) a + lambda + (n-1)/n * S / (e B). */
static void ring_allgather_closed_form(void **state)
{
    (void)state;
    const double a = 2e-6, lambda = 1e-6, e = 0.8, B = 400e9;
    const int ns[] = {2, 4, 8};
    const double sizes[] = {1048576.0, 67108864.0, 1073741824.0};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++) {
            int n = ns[i];
            double S = sizes[k];
            double want = (n - 1) * a + lambda + (n - 1.0) / n * S / (e * B);
            char what[64];
            snprintf(what, sizeof what, "all_gather n=%d S=%.0f", n, S);
            close_to(sim1(COLL_ALL_GATHER, n, S), want, 0.01, what);
        }
}

/* Ring all-reduce: 2(n-1) steps, 2(n-1)/n S per edge. reduce_scatter as all_gather. */
static void ring_allreduce_reducescatter(void **state)
{
    (void)state;
    const double a = 2e-6, lambda = 1e-6, e = 0.8, B = 400e9, S = 268435456.0;
    int n = 8;
    close_to(sim1(COLL_ALL_REDUCE, n, S),
             2 * (n - 1) * a + lambda + 2.0 * (n - 1) / n * S / (e * B), 0.01, "all_reduce n=8");
    close_to(sim1(COLL_REDUCE_SCATTER, n, S), (n - 1) * a + lambda + (n - 1.0) / n * S / (e * B),
             0.01, "reduce_scatter n=8");
}

/* One flow between two GPUs of a node sees the NVLink bandwidth:
 * T = lambda + S / B, so S / (T - lambda) = 400 GB/s. */
static void p2p_nvlink_bandwidth(void **state)
{
    (void)state;
    double S = 1073741824.0, t = sim1(COLL_SENDRECV, 2, S);
    close_to(S / (t - 1e-6), 400e9, 0.01, "intra-node flow bandwidth");
}

/* GPU 0 to GPU 15 (rail 7 of the other node): NVLink to GPU 7, its NIC up,
 * NIC down: T = (1 + 3) us + S / 50 GB/s, the NIC's bandwidth. */
static void p2p_nic_bandwidth(void **state)
{
    (void)state;
    double S = 1073741824.0, t = sim1(COLL_SENDRECV, 16, S);
    close_to(S / (t - 4e-6), 50e9, 0.01, "cross-node flow bandwidth");
}

/* All-to-all over both nodes: GPU i sends S/16 to each peer. The NIC of rail
 * j on node x carries the flows of all 8 GPUs of x towards GPU j of the other
 * node (PXN): 8 * S/16 / 0.9 bytes at 50 GB/s, while NVLink-up of a GPU
 * carries 7 intra-node and 7 PXN flows, ~0.9 S at 400 GB/s: NIC-bound.
 * T = 15 a_net + (nvlink + NIC latency) + S / (2 * 0.9 * 50 GB/s). */
static void alltoall_two_nodes_nic_bound(void **state)
{
    (void)state;
    double S = 1073741824.0, t = sim1(COLL_ALL_TO_ALL, 16, S);
    double want = 15 * 6e-6 + 4e-6 + S / (2 * 0.9 * 50e9);
    close_to(t, want, 0.01, "all_to_all 2x8");
    double nvlink_only = 0.9 * S / 400e9;
    assert_true(t > 4 * nvlink_only); /* the NIC, not NVLink, sets the time */
}

/* Hierarchical collectives across nodes: the simulation (links shared for
 * real) agrees with the contention-free closed form of the same plan, which
 * is exact here because every link in a phase carries one flow. */
static void hierarchical_matches_plan(void **state)
{
    (void)state;
    int g[16];
    for (int i = 0; i < 16; i++) g[i] = i;
    const int ops[] = {COLL_ALL_GATHER, COLL_REDUCE_SCATTER, COLL_ALL_REDUCE, COLL_BROADCAST};
    for (int k = 0; k < 4; k++) {
        double S = 536870912.0;
        double want = coll_estimate(&C, ops[k], g, 16, S);
        close_to(sim1(ops[k], 16, S), want, 0.01, coll_op_name(ops[k]));
    }
    /* all_reduce across 2 nodes: intra reduce-scatter (7/8 S at 320 GB/s),
     * inter all-reduce on S/8 per rail (2 nodes: 2*1/2*S/8 at 45 GB/s),
     * intra all-gather: the NIC phase dominates as it should. */
    double S = 536870912.0;
    double hand = 2 * (7 * 2e-6 + 1e-6 + 7.0 / 8 * S / 320e9) + (2 * 6e-6 + 3e-6 + S / 8 / 45e9);
    close_to(sim1(COLL_ALL_REDUCE, 16, S), hand, 0.01, "all_reduce 2x8 by hand");
}

/* Leaves of one node each (nodes_per_leaf = 1), so every cross-node flow
 * crosses the spine. With 2:1 oversubscription a leaf uplink has half the
 * NICs' bandwidth: the cross-node all-to-all takes twice as long in its
 * bandwidth term. Each platform runs in its own process (one per process). */
static void oversubscription_halves_alltoall(void **state)
{
    (void)state;
    double t[2], ov[2] = {1, 2};
    for (int i = 0; i < 2; i++) {
        clu_desc c;
        sft_err e;
        assert_int_equal(clu_parse(cluster_json(ov[i], 1), "oversub", &c, &e), SFT_OK);
        t[i] = sim_on(&c, COLL_ALL_TO_ALL, 16, 1073741824.0);
    }
    double lat = 15 * 6e-6 + 5e-6; /* steps + nvlink, NIC and spine latencies */
    double bw1 = 1073741824.0 / (t[0] - lat), bw2 = 1073741824.0 / (t[1] - lat);
    print_message("cross-node all_to_all: %.2f GB/s at 1:1, %.2f GB/s at 2:1\n", bw1 / 1e9,
                  bw2 / 1e9);
    close_to(bw2 / bw1, 0.5, 0.01, "bandwidth ratio 2:1 vs 1:1");
}

/* Two collectives of disjoint groups at once, each GPU on its own NVLink
 * port (no shared link): each takes its own closed form. A 1 GB all-reduce
 * over GPUs 0-3 and a 1 MB all-gather over GPUs 4-7 both start at t = 0;
 * the all-gather starts while the all-reduce sleeps its step latencies, so
 * an engine sharing one plan between running collectives would run the
 * all-gather's flows for the all-reduce (it did: a bucket reduction beside
 * a K/V all-gather took the all-gather's time). */
static int concurrent_child(void *arg, FILE *out)
{
    (void)arg;
    prog *p = prog_create(16);
    int a[4] = {0, 1, 2, 3}, b[4] = {4, 5, 6, 7};
    int ga = prog_group(p, a, 4), gb = prog_group(p, b, 4), nm = prog_intern(p, "c");
    int ca = prog_coll(p, COLL_ALL_REDUCE, ga, 1e9, 0),
        cb = prog_coll(p, COLL_ALL_GATHER, gb, 1e6, 0);
    for (int g = 0; g < 8; g++) {
        prog_op *o = prog_push(p, g, PROG_DP, PK_COLL, nm);
        o->ref = g < 4 ? ca : cb;
        o->bytes = g < 4 ? 1e9 : 1e6;
    }
    eng_result *r = NULL;
    sft_err e;
    if (eng_run(&C, p, &r, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    fprintf(out, "%.17g %.17g\n", r->coll_end[ca] - r->coll_begin[ca],
            r->coll_end[cb] - r->coll_begin[cb]);
    eng_result_destroy(r);
    prog_destroy(p);
    return 0;
}

static void concurrent_collectives(void **state)
{
    (void)state;
    char *out = NULL;
    int code;
    sft_err e;
    assert_int_equal(iso_run(concurrent_child, NULL, &out, NULL, &code, &e), SFT_OK);
    assert_int_equal(code, 0);
    double ta = 0, tb = 0;
    assert_int_equal(sscanf(out, "%lf %lf", &ta, &tb), 2);
    free(out);
    int a[4] = {0, 1, 2, 3}, b[4] = {4, 5, 6, 7};
    close_to(ta, coll_estimate(&C, COLL_ALL_REDUCE, a, 4, 1e9), 0.005, "all-reduce beside");
    close_to(tb, coll_estimate(&C, COLL_ALL_GATHER, b, 4, 1e6), 0.005, "all-gather beside");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring_allgather_closed_form),
        cmocka_unit_test(ring_allreduce_reducescatter),
        cmocka_unit_test(p2p_nvlink_bandwidth),
        cmocka_unit_test(p2p_nic_bandwidth),
        cmocka_unit_test(alltoall_two_nodes_nic_bound),
        cmocka_unit_test(hierarchical_matches_plan),
        cmocka_unit_test(oversubscription_halves_alltoall),
        cmocka_unit_test(concurrent_collectives),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
