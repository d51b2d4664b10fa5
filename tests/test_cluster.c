/* test_cluster.c — cluster descriptions: presets load, scaling, and every bad
 * input gives EINPUT with a message naming the file and the field: every
 * row of the range table below, above and far outside its bounds, strings
 * that are not UTF-8 or hold control characters, and files that are not
 * regular files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cluster.h"
#include "sim/coll.h"
#include "sim/topo.h"
#include "trange.h"

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
               "'nvlink.bandwidth_gbps'", "must be > 0, in [0.1, 10000] GB/s (got -5)");
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
               "'collectives.nvlink.efficiency'", "must be in [0.01, 1] (got 1.5)");
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

/* ---- every range of the table, on the real h100x32 file ---------------------- */

static sft_status parse_cluster(const char *text, sft_err *e)
{
    clu_desc c;
    return clu_parse(text, "bad.json", &c, e);
}

/* For every row: lo and hi load; below lo, above hi, +-1e308, 1e999 (JSON
 * has no infinity: cJSON reads it as one), a string and, for integers, a
 * fraction are EINPUT with the field, the range "[lo, hi] unit" and the
 * value. The one exception to "the bounds load" is named with its reason. */
static void every_cluster_range(void **state)
{
    (void)state;
    size_t n, len;
    const jx_range *r = clu_ranges(&n);
    const char *base = sft_builtin("clusters", "h100x32", &len);
    assert_non_null(base);
    assert_int_equal(n, 17); /* every number of the schema (cluster.h) */
    check_table("cluster", parse_cluster, base, r, n, 0);
    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < 2; b++) {
            /* 65536 nodes of 8 GPUs exceed the 131072-GPU cap: its own error */
            if (b == 1 && strcmp(r[i].field, "nodes") == 0) {
                expect_range_error(parse_cluster, base, &r[i], r[i].hi, NULL, "at most 131072");
                continue;
            }
            char *t = with_value(base, &r[i], b ? r[i].hi : r[i].lo, NULL);
            sft_err e = {0};
            if (parse_cluster(t, &e) != SFT_OK)
                fail_msg("%s = %g must load: %s", r[i].field, b ? r[i].hi : r[i].lo, e.msg);
            free(t);
        }
    }
}

/* The brief's cases, message in full: the inline GPU's field is named with
 * its path under "gpu", and the value and range are as written. */
static void physically_impossible_values(void **state)
{
    (void)state;
    expect_bad(HEAD "\"gpu\":{\"name\":\"g\",\"bf16_tflops\":1e-300,\"hbm_gbps\":1000,"
                    "\"memory_gib\":80},\"nic\":{\"bandwidth_gbps\":50}}",
               "bad.json: field 'gpu.bf16_tflops': must be in [0.1, 100000] TFLOPS (got 1e-300)",
               NULL);
    expect_bad(HEAD "\"gpu\":{\"name\":\"g\",\"bf16_tflops\":1e308,\"hbm_gbps\":1000,"
                    "\"memory_gib\":80},\"nic\":{\"bandwidth_gbps\":50}}",
               "field 'gpu.bf16_tflops': must be in [0.1, 100000] TFLOPS (got 1e+308)", NULL);
    /* 0.001 GiB ran before and reported "usable -3.0 GB" */
    expect_bad(HEAD "\"gpu\":{\"name\":\"g\",\"bf16_tflops\":100,\"hbm_gbps\":1000,"
                    "\"memory_gib\":0.001},\"nic\":{\"bandwidth_gbps\":50}}",
               "field 'gpu.memory_gib': must be in [4, 16384] GiB (got 0.001)", NULL);
    /* a non-positive value says so first */
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":0}}",
               "field 'nic.bandwidth_gbps': must be > 0, in [0.1, 10000] GB/s (got 0)", NULL);
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":50,"
                    "\"latency_us\":2e6}}",
               "field 'nic.latency_us': must be in [0, 1000000] us (got 2000000)", NULL);
    /* JSON has no NaN: a syntax error with line and column */
    expect_bad(HEAD "\"gpu\":\"h100-sxm\",\"nic\":{\"bandwidth_gbps\":NaN}}",
               "bad.json:1:", "malformed JSON");
}

/* Names are printed into JSON output and terminals: not UTF-8 (a lone
 * continuation byte, an overlong '/', a surrogate, a truncated sequence) or
 * a control character is EINPUT naming the field and the byte offset;
 * valid multi-byte UTF-8 loads. */
static void strings_utf8_and_printable(void **state)
{
    (void)state;
    static const struct {
        const char *name, *want;
    } bad[] = {
        {"h100\x80x", "not valid UTF-8 (byte 0x80 at offset 4"},
        {"\xc0\xaf", "not valid UTF-8 (byte 0xC0 at offset 0"},
        {"a\xed\xa0\x80", "not valid UTF-8 (byte 0xED at offset 1"},
        {"ab\xe2\x82", "not valid UTF-8 (byte 0xE2 at offset 2"},
        {"\xff", "not valid UTF-8 (byte 0xFF at offset 0"},
        {"tab\\there", "control character U+0009 at offset 3"},
        {"esc\\u001b[31m", "control character U+001B at offset 3"},
        {"del\x7f", "control character U+007F at offset 3"},
        {"csi\xc2\x9b", "control character U+009B at offset 3"},
        {"", "must not be empty"},
        {"0123456789012345678901234567890123456789012345678901234567890123",
         "at most 63 bytes (got 64)"},
    };
    char json[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"schema\":1,\"name\":\"%s\",\"nodes\":1,\"gpus_per_node\":8,"
                 "\"gpu\":\"h100-sxm\"}",
                 bad[i].name);
        expect_bad(json, "field 'name': ", bad[i].want);
    }
    /* the description and the inline GPU's name too; notes may hold line breaks */
    expect_bad("{\"schema\":1,\"name\":\"x\",\"description\":\"caf\xe9\",\"nodes\":1,"
               "\"gpus_per_node\":8,\"gpu\":\"h100-sxm\"}",
               "field 'description': not valid UTF-8", NULL);
    expect_bad("{\"schema\":1,\"name\":\"x\",\"nodes\":1,\"gpus_per_node\":8,\"gpu\":{"
               "\"name\":\"g\\n\",\"bf16_tflops\":100,\"hbm_gbps\":1000,\"memory_gib\":80}}",
               "field 'gpu.name': control character U+000A", NULL);
    expect_bad("{\"schema\":1,\"name\":\"x\",\"nodes\":1,\"gpus_per_node\":8,"
               "\"gpu\":\"h100\xff\"}",
               "field 'gpu': not valid UTF-8", NULL);
    expect_bad("{\"schema\":1,\"name\":\"x\",\"nodes\":1,\"gpus_per_node\":8,"
               "\"gpu\":\"h100-sxm\",\"notes\":\"\xfe\"}",
               "field 'notes': not valid UTF-8", NULL);
    /* an unknown field whose name is not UTF-8 is not echoed */
    expect_bad("{\"schema\":1,\"name\":\"x\",\"n\xffodes\":1}", "unknown field whose name", NULL);
    clu_desc c;
    sft_err e = {0};
    const char *ok = "{\"schema\":1,\"name\":\"\xc3\xa9t\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x9a\x80\","
                     "\"notes\":\"line 1\\nline 2\\tend\",\"nodes\":1,\"gpus_per_node\":8,"
                     "\"gpu\":\"h100-sxm\"}";
    assert_int_equal(clu_parse(ok, "ok.json", &c, &e), SFT_OK);
    assert_string_equal(
        c.name, "\xc3\xa9t\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x9a\x80"); /* 12 bytes kept whole */
}

/* A cluster file that is a FIFO (no writer: opening must not block), a
 * device (/dev/zero: reading must not fill memory), a directory or an
 * oversized file is EINPUT naming the path and what it is. */
static void not_a_regular_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/sft-clu-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[64], big[64];
    snprintf(fifo, sizeof fifo, "%s/fifo.json", dir);
    snprintf(big, sizeof big, "%s/big.json", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    FILE *f = fopen(big, "wb");
    assert_non_null(f);
    /* sparse: 64 MiB + 1 byte, one over SFT_INPUT_MAX, written in no time */
    assert_int_equal(fseek(f, (long)SFT_INPUT_MAX, SEEK_SET), 0);
    fputc(' ', f);
    fclose(f);
    const struct {
        const char *path, *want;
    } cases[] = {
        {fifo, "is a FIFO; expected a regular file"},
        {"/dev/zero", "/dev/zero: is a character device"},
        {dir, "is a directory"},
        {big, "67108865 bytes, more than the 64 MiB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clu_desc c;
        sft_err e = {0};
        assert_int_equal(clu_load(cases[i].path, &c, &e), SFT_EINPUT);
        if (!strstr(e.msg, cases[i].path) || !strstr(e.msg, cases[i].want))
            fail_msg("%s: '%s' lacks '%s'", cases[i].path, e.msg, cases[i].want);
    }
    unlink(fifo);
    unlink(big);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_inputs_name_file_and_field),
        cmocka_unit_test(scaling_whole_nodes),
        cmocka_unit_test(presets_load),
        cmocka_unit_test(routes),
        cmocka_unit_test(every_cluster_range),
        cmocka_unit_test(physically_impossible_values),
        cmocka_unit_test(strings_utf8_and_printable),
        cmocka_unit_test(not_a_regular_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
