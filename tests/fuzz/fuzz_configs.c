/* fuzz_configs.c — libFuzzer target for the JSON descriptions users write:
 * every input is fed to the cluster, GPU, architecture and calibration
 * parsers. Besides crashes, leaks and undefined behaviour (ASan + UBSan), it
 * checks their promises and aborts when one is broken: a parse fails with
 * SFT_EINPUT and a message, or yields a description whose invariants hold
 * (positive sizes and bandwidths, efficiencies in (0, 1], heads dividing).
 * Built with clang by tests/core.cmake; seeds: the built-in data files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/arch/arch.h"
#include "models/hw/calib.h"
#include "sim/cluster.h"
#include "sim/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_configs: broken promise: %s\n", what);
        abort();
    }
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
        check(c.nodes >= 1 && c.gpus_per_node >= 1, "cluster sizes >= 1");
        check(c.nvl_bw > 0 && c.nic_bw > 0 && c.gpu.hbm_bw > 0, "bandwidths > 0");
        for (int l = 0; l < CLU_NLINK; l++) check(c.eff[l] > 0 && c.eff[l] <= 1, "efficiency");
    } else {
        failed(st, &e);
    }

    arch a;
    st = arch_parse(text, "fuzz", &a, &e);
    if (st == SFT_OK)
        check(a.hidden % a.heads == 0 && a.heads % a.kv_heads == 0 && a.head_dim >= 1,
              "heads divide");
    else
        failed(st, &e);

    cal *t = NULL;
    st = cal_parse(text, "fuzz", &t, &e);
    if (st == SFT_OK) {
        check(cal_peak(t) > 0, "peak > 0");
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
            check(g.peak_flops > 0 && g.mem_bytes > 0, "GPU sizes > 0");
        else
            failed(st, &e);
        cJSON_Delete(j);
    }
    free(text);
    return 0;
}
