/* test_cluster.c — cluster descriptions: presets load, scaling, and every bad
 * input gives EINPUT with a message naming the file and the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/topo.h"

static void expect_bad(const char *json, const char *want1, const char *want2)
{
    clu_desc c;
    sft_err e = {0};
    assert_int_equal(clu_parse(json, "bad.json", &c, &e), SFT_EINPUT);
    if (!strstr(e.msg, "bad.json") || (want1 && !strstr(e.msg, want1)) ||
        (want2 && !strstr(e.msg, want2)))
        fail_msg("message '%s' lacks 'bad.json' / '%s' / '%s'", e.msg, want1 ? want1 : "",
                 want2 ? want2 : "");
}

#define HEAD "{\"schema\":1,\"name\":\"x\",\"nodes\":2,\"gpus_per_node\":8,"

static void bad_inputs_name_file_and_field(void **state)
{
    (void)state;
    /* malformed and truncated JSON: file, line and column */
    expect_bad("{\"schema\":1,,}", "bad.json:1:", "malformed JSON");
    expect_bad(HEAD "\"gpu\":\"h100-sxm\"", "1:", "truncated");
    /* unknown GPU names the field and lists the valid names */
    expect_bad(HEAD "\"gpu\":\"h999\",\"nic\":{\"bandwidth_gbps\":50}}", "'gpu'", "h100-sxm");
    /* zero GPUs */
    expect_bad("{\"schema\":1,\"name\":\"x\",\"nodes\":0,\"gpus_per_node\":8,\"gpu\":\"h100-sxm\"}",
               "'nodes'", "[1, 65536]");
    expect_bad("{\"schema\":1,\"name\":\"x\",\"nodes\":1,\"gpus_per_node\":0,\"gpu\":\"h100-sxm\"}",
               "'gpus_per_node'", NULL);
    /* negative bandwidth */
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nvlink\":{\"bandwidth_gbps\":-5},"
                    "\"nic\":{\"bandwidth_gbps\":50}}",
               "'nvlink.bandwidth_gbps'", "> 0");
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":-1}}", "'nic.bandwidth_gbps'",
               NULL);
    /* unknown field at the top and nested */
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":50},\"colour\":1}",
               "'colour'", "unknown field");
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":50,\"mtu\":4096}}",
               "'nic.mtu'", "unknown field");
    /* wrong schema, efficiency out of range, unknown collective in a rule */
    expect_bad("{\"schema\":7,\"name\":\"x\"}", "'schema'", "unsupported");
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":50},"
                    "\"collectives\":{\"nvlink\":{\"efficiency\":1.5}}}",
               "'collectives.nvlink.efficiency'", "(0, 1]");
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":50},"
                    "\"collectives\":{\"rules\":[{\"op\":\"gossip\",\"max_bytes\":1}]}}",
               "'collectives.rules[0].op'", "all_gather");
    /* a multi-node cluster needs its NICs */
    expect_bad(HEAD "\"gpu\":\"h100-sxm\"}", "'nic'", "required");
    /* inline GPU missing a datasheet figure */
    expect_bad(HEAD "\"gpu\":{\"name\":\"g\",\"bf16_tflops\":100,\"hbm_gbps\":1000},"
                    "\"nic\":{\"bandwidth_gbps\":50}}",
               "'gpu.memory_gib'", "required");
}

static void scaling_whole_nodes(void **state)
{
    (void)state;
    clu_desc c;
    sft_err e = {0};
    assert_int_equal(clu_load("h100x8", &c, &e), SFT_OK);
    assert_int_equal(clu_ngpus(&c), 8);
    assert_int_equal(clu_scale(&c, 1024, &e), SFT_OK);
    assert_int_equal(c.nodes, 128); /* 1024 / 8 GPUs per node */
    assert_int_equal(clu_scale(&c, 0, &e), SFT_EINPUT);
    assert_non_null(strstr(e.msg, "--gpus 0"));
    assert_int_equal(clu_scale(&c, 12, &e), SFT_EINPUT); /* 1.5 nodes */
    assert_non_null(strstr(e.msg, "multiple of 8"));
    assert_int_equal(clu_scale(&c, 4, &e), SFT_OK); /* part of one node */
    assert_int_equal(c.nodes * 10 + c.gpus_per_node, 14);
}

/* Every preset loads; its link table has 5 links per GPU plus 2 per leaf. */
static void presets_load(void **state)
{
    (void)state;
    const char *names[] = {"h100x8", "h100x32", "h800x8", "a100x8"};
    const int gpus[] = {8, 32, 8, 8};
    for (int i = 0; i < 4; i++) {
        clu_desc c;
        sft_err e = {0};
        assert_int_equal(clu_load(names[i], &c, &e), SFT_OK);
        assert_int_equal(clu_ngpus(&c), gpus[i]);
        assert_int_equal(topo_nlinks(&c), 5 * gpus[i] + 2 * c.gpus_per_node);
    }
}

/* Routes: within a node HBM-NVLink-NVLink-HBM; same rail across nodes through
 * the NICs; another rail first crosses NVLink to the rail's GPU (PXN); across
 * scalable units the spine (leaf up + leaf down) too. */
static void routes(void **state)
{
    (void)state;
    clu_desc c;
    sft_err e = {0};
    assert_int_equal(clu_load("h100x8", &c, &e), SFT_OK);
    assert_int_equal(clu_scale(&c, 64 * 8, &e), SFT_OK); /* 2 scalable units of 32 nodes */
    int ids[TOPO_MAX_ROUTE];
    assert_int_equal(topo_route(&c, 3, 3, ids), 1);
    assert_int_equal(topo_route(&c, 0, 5, ids), 4);
    assert_int_equal(topo_route(&c, 0, 8, ids), 4);      /* rail 0 to rail 0 */
    assert_int_equal(topo_route(&c, 1, 8, ids), 6);      /* PXN through GPU 0 */
    assert_int_equal(topo_route(&c, 0, 32 * 8, ids), 6); /* spine */
    double bw, lat;
    coll_route(&c, 1, 32 * 8 + 2, &bw, &lat);
    assert_true(bw == 50e9);                     /* NIC-bound */
    assert_true(lat > 3.99e-6 && lat < 4.01e-6); /* NVLink 1 + NIC 2 + spine 1 us */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_inputs_name_file_and_field),
        cmocka_unit_test(scaling_whole_nodes),
        cmocka_unit_test(presets_load),
        cmocka_unit_test(routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
