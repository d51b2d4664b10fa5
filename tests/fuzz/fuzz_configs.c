/* fuzz_configs.c — libFuzzer target for the JSON descriptions users write:
 * every input is fed to the cluster, GPU, architecture and calibration
 * parsers. Besides crashes, leaks and undefined behaviour (ASan + UBSan), it
 * checks their promises and aborts when one is broken: a parse fails with
 * SFT_EINPUT and a message, or yields a description whose invariants hold:
 * every number within its schema's range table (clu_ranges, hw_gpu_ranges,
 * arch_ranges, cal_ranges: bandwidths >= 0.1 GB/s, at least 4 GiB of
 * memory, efficiencies in [0.01, 1], heads dividing), and every name valid
 * UTF-8 with no control character, so nothing loaded can break the JSON or
 * the text sftsim prints.
 * Built with clang by tests/core.cmake; seeds: the built-in data files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/llm/arch.h"
#include "models/hw/calib.h"
#include "sim/cluster.h"
#include "base/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_configs: broken promise: %s\n", what);
        abort();
    }
}

/* s is valid UTF-8 without C0 control characters or DEL */
static int printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return sft_utf8_valid(s, strlen(s));
}

static void gpu_ok(const hw_gpu *g)
{
    check(printable(g->name) && g->name[0] && printable(g->description), "GPU strings printable");
    check(g->peak_flops >= 0.1e12 && g->peak_flops <= 1e17, "peak in [0.1, 1e5] TFLOPS");
    check(g->hbm_bw >= 10e9 && g->hbm_bw <= 1e14, "HBM in [10, 1e5] GB/s");
    check(g->mem_bytes >= 4 * 1073741824.0 && g->mem_bytes <= 16384 * 1073741824.0,
          "memory in [4, 16384] GiB");
    check(g->nvlink_bw == 0 || (g->nvlink_bw >= 0.1e9 && g->nvlink_bw <= 1e13), "NVLink range");
    check(g->launch_s >= 0 && g->launch_s <= 1e-3, "launch gap in [0, 1 ms]");
    for (int i = 0; i < g->ncalibration; i++)
        check(printable(g->calibration[i]) && g->calibration[i][0], "table names printable");
}

static void failed(sft_status st, const sft_err *e)
{
    check(st == SFT_EINPUT, "bad input is reported as such (exit 2)");
    check(e->msg[0] != '\0', "an error carries a message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    sft_err e = {0};

    clu_desc c;
    sft_status st = clu_parse(text, "fuzz", &c, &e);
    if (st == SFT_OK) {
        check(c.nodes >= 1 && c.gpus_per_node >= 1 && clu_ngpus(&c) <= 131072, "cluster sizes");
        check(printable(c.name) && c.name[0] && printable(c.description), "names printable");
        check(c.nvl_bw >= 0.1e9 && c.nvl_bw <= 1e13 && c.nic_bw >= 0.1e9 && c.nic_bw <= 1e13,
              "link bandwidths in [0.1, 10000] GB/s");
        check(c.nvl_lat >= 0 && c.nvl_lat <= 1 && c.nic_lat >= 0 && c.nic_lat <= 1 &&
                  c.fabric_lat >= 0 && c.fabric_lat <= 1,
              "latencies in [0, 1 s]");
        check(c.oversub >= 1 && c.oversub <= 100, "oversubscription in [1, 100]");
        check(c.comm_slowdown >= 0 && c.comm_slowdown <= 0.9, "slowdown in [0, 0.9]");
        for (int l = 0; l < CLU_NLINK; l++)
            check(c.eff[l] >= 0.01 && c.eff[l] <= 1 && c.alpha[l] >= 0 && c.alpha[l] <= 1,
                  "link class efficiency and step latency");
        for (int r = 0; r < c.nrules; r++)
            check(c.rules[r].max_bytes >= 1 && c.rules[r].max_bytes <= 1e18 &&
                      (c.rules[r].eff < 0 || (c.rules[r].eff >= 0.01 && c.rules[r].eff <= 1)) &&
                      c.rules[r].alpha_s <= 1,
                  "rule ranges");
        gpu_ok(&c.gpu);
    } else {
        failed(st, &e);
    }

    arch a;
    st = arch_parse(text, "fuzz", &a, &e);
    if (st == SFT_OK) {
        check(a.hidden % a.heads == 0 && a.heads % a.kv_heads == 0, "heads divide");
        check(a.head_dim >= 8 && a.head_dim <= 1024, "head dimension in [8, 1024]");
        check(a.hidden >= 64 && a.layers >= 1 && a.layers <= 1000 && a.vocab >= 2 &&
                  a.intermediate >= 64,
              "architecture ranges");
        check(printable(a.name) && a.name[0] && printable(a.description), "names printable");
    } else {
        failed(st, &e);
    }

    cal *t = NULL;
    st = cal_parse(text, "fuzz", &t, &e);
    if (st == SFT_OK) {
        check(cal_peak(t) >= 1e8 && cal_peak(t) <= 1e17, "peak in [1e-4, 1e5] TFLOPS");
        check(cal_gemm_efficiency(t) >= 1e-4 && cal_gemm_efficiency(t) <= 1 &&
                  cal_attn_efficiency(t) >= 1e-4 && cal_memory_efficiency(t) <= 1,
              "efficiencies in [1e-4, 1]");
        check(printable(cal_name(t)) && printable(cal_device(t)), "names printable");
        /* predictions stay finite and positive wherever the table has data */
        double tp = cal_attn_tput(t, 0, 1, 128, 1000, 1000);
        check(tp >= 0 && tp < 1e30, "attention throughput finite");
        double g = cal_gemm_time(t, 1000, 1000, 1000);
        check(g >= 0 && g < 1e30, "GEMM time finite");
        cal_destroy(t);
    } else {
        failed(st, &e);
    }

    cJSON *j = NULL;
    if (jx_parse(text, "fuzz", &j, &e) == SFT_OK) {
        hw_gpu g;
        st = hw_gpu_parse(j, "fuzz", "", &g, &e);
        if (st == SFT_OK)
            gpu_ok(&g);
        else
            failed(st, &e);
        cJSON_Delete(j);
    }
    free(text);
    return 0;
}
