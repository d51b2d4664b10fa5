/* gpu.c — parse GPU datasheet descriptions (see gpu.h).
 *
 * gpu_range_table is the one place that states the valid range of each
 * number of a GPU description, with its unit and reason (README.md, "Inputs,
 * outputs and exit codes"). */
#include "sim/gpu.h"

#include <string.h>

enum { R_TFLOPS, R_HBM, R_MEM, R_NVL, R_LAUNCH, R_COUNT };

static const jx_range gpu_range_table[R_COUNT] = {
    [R_TFLOPS] = {"bf16_tflops", 0.1, 1e5, 0, "TFLOPS",
                  "dense BF16 peak: from an embedded GPU (~1) to 40x a B200 (2250)"},
    [R_HBM] = {"hbm_gbps", 10, 1e5, 0, "GB/s",
               "device memory bandwidth: a laptop GPU's DDR (~50) to 12x a B200 (8000)"},
    [R_MEM] = {"memory_gib", 4, 16384, 0, "GiB",
               "CUDA context and NCCL take 3 GB, the allocator 10% (memory.h): less leaves "
               "nothing; 16 TiB = 50x the largest HBM"},
    [R_NVL] = {"nvlink_gbps", 0.1, 10000, 0, "GB/s",
               "per direction: a PCIe 1.0 lane (0.25) to 10x NVLink 5 (900)"},
    [R_LAUNCH] = {"launch_overhead_us", 0, 1000, 0, "us",
                  "GPU-side gap between kernels: 0 (CUDA graphs) to 200x PyTorch eager's ~5"},
};

const jx_range *hw_gpu_ranges(size_t *n)
{
    *n = R_COUNT;
    return gpu_range_table;
}

static const char *const gpu_keys[] = {
    "schema",      "name",       "description", "bf16_tflops",
    "hbm_gbps",    "memory_gib", "nvlink_gbps", "launch_overhead_us",
    "calibration", "notes",      NULL};

sft_status hw_gpu_parse(const cJSON *j, const char *origin, const char *path, hw_gpu *g, sft_err *e)
{
    jx_ctx root = jx_root(origin, e);
    jx_ctx c = jx_child(&root, path);
    sft_status st;
    const char *notes = "";
    const jx_range *r = gpu_range_table;
    double tf = 0, hbm = 0, mem = 0, nvl = 0, launch = 3.0;
    memset(g, 0, sizeof *g);
    if ((st = jx_keys(&c, j, gpu_keys))) return st;
    if (!path[0] && (st = jx_schema(&c, j, HW_GPU_SCHEMA))) return st;
    if ((st = jx_name(&c, j, "name", JX_REQ, g->name, sizeof g->name))) return st;
    if ((st = jx_name(&c, j, "description", 0, g->description, sizeof g->description))) return st;
    if ((st = jx_str(&c, j, "notes", JX_TEXT, &notes))) return st;
    if ((st = jx_num_in(&c, j, "bf16_tflops", JX_REQ, &r[R_TFLOPS], &tf))) return st;
    if ((st = jx_num_in(&c, j, "hbm_gbps", JX_REQ, &r[R_HBM], &hbm))) return st;
    if ((st = jx_num_in(&c, j, "memory_gib", JX_REQ, &r[R_MEM], &mem))) return st;
    if ((st = jx_num_in(&c, j, "nvlink_gbps", 0, &r[R_NVL], &nvl))) return st;
    if ((st = jx_num_in(&c, j, "launch_overhead_us", 0, &r[R_LAUNCH], &launch))) return st;
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(j, "calibration");
    if (cJSON_IsString(cal)) {
        if ((st = jx_name(&c, j, "calibration", 0, g->calibration[0], sizeof g->calibration[0])))
            return st;
        g->ncalibration = 1;
    } else if (cJSON_IsArray(cal)) {
        int i = 0;
        for (const cJSON *it = cal->child; it; it = it->next, i++) {
            jx_ctx d = jx_elem(&c, "calibration", i);
            if (!cJSON_IsString(it) || i >= 4)
                return jx_fail(&c, "calibration", "expected a name or a list of at most 4 names");
            size_t n = strlen(it->valuestring);
            if ((st = jx_check_str(&d, NULL, it->valuestring, 0))) return st;
            if (n == 0 || n >= sizeof g->calibration[i])
                return jx_fail(&d, NULL, "a table name has 1 to %zu bytes (got %zu)",
                               sizeof g->calibration[i] - 1, n);
            memcpy(g->calibration[i], it->valuestring, n + 1);
        }
        g->ncalibration = i;
    } else if (cal) {
        return jx_fail(&c, "calibration", "expected a name or a list of names");
    }
    g->peak_flops = tf * 1e12;
    g->hbm_bw = hbm * 1e9;
    g->mem_bytes = mem * 1073741824.0;
    g->nvlink_bw = nvl * 1e9;
    g->launch_s = launch * 1e-6;
    return SFT_OK;
}

/* A whole GPU file as sft_load_data's parser: ctx is the hw_gpu it fills. */
static sft_status gpu_parse_data(const char *text, const char *origin, void *ctx, sft_err *e)
{
    cJSON *j = NULL;
    sft_status st = jx_parse(text, origin, &j, e);
    if (!st) st = hw_gpu_parse(j, origin, "", ctx, e);
    cJSON_Delete(j);
    return st;
}

sft_status hw_gpu_load(const char *name_or_file, hw_gpu *out, sft_err *e)
{
    return sft_load_data("gpus", name_or_file, gpu_parse_data, out, e);
}
