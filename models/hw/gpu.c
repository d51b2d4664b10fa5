/* gpu.c — parse GPU datasheet descriptions (see gpu.h). */
#include "models/hw/gpu.h"

#include <stdlib.h>
#include <string.h>

#include "sim/jsonx.h"

static const char *const gpu_keys[] = {
    "schema",      "name",       "description", "bf16_tflops",
    "hbm_gbps",    "memory_gib", "nvlink_gbps", "launch_overhead_us",
    "calibration", "notes",      NULL};

sft_status hw_gpu_parse(const cJSON *j, const char *origin, const char *path, hw_gpu *g, sft_err *e)
{
    jx_ctx root = jx_root(origin, e);
    jx_ctx c = jx_child(&root, path);
    sft_status st;
    const char *name = NULL, *desc = "", *notes = "";
    double tf = 0, hbm = 0, mem = 0, nvl = 0, launch = 3.0;
    memset(g, 0, sizeof *g);
    if ((st = jx_keys(&c, j, gpu_keys))) return st;
    if (!path[0] && (st = jx_schema(&c, j, HW_GPU_SCHEMA))) return st;
    if ((st = jx_str(&c, j, "name", JX_REQ, &name))) return st;
    if ((st = jx_str(&c, j, "description", 0, &desc))) return st;
    if ((st = jx_str(&c, j, "notes", 0, &notes))) return st;
    if ((st = jx_num(&c, j, "bf16_tflops", JX_REQ | JX_POS, &tf))) return st;
    if ((st = jx_num(&c, j, "hbm_gbps", JX_REQ | JX_POS, &hbm))) return st;
    if ((st = jx_num(&c, j, "memory_gib", JX_REQ | JX_POS, &mem))) return st;
    if ((st = jx_num(&c, j, "nvlink_gbps", JX_POS, &nvl))) return st;
    if ((st = jx_num(&c, j, "launch_overhead_us", JX_NONNEG, &launch))) return st;
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(j, "calibration");
    if (cJSON_IsString(cal)) {
        snprintf(g->calibration[0], sizeof g->calibration[0], "%s", cal->valuestring);
        g->ncalibration = 1;
    } else if (cJSON_IsArray(cal)) {
        int i = 0;
        for (const cJSON *it = cal->child; it; it = it->next, i++) {
            if (!cJSON_IsString(it) || i >= 4)
                return jx_fail(&c, "calibration", "expected a name or a list of at most 4 names");
            snprintf(g->calibration[i], sizeof g->calibration[i], "%s", it->valuestring);
        }
        g->ncalibration = i;
    } else if (cal) {
        return jx_fail(&c, "calibration", "expected a name or a list of names");
    }
    if (strlen(name) >= sizeof g->name || !name[0])
        return jx_fail(&c, "name", "must be 1 to %zu characters", sizeof g->name - 1);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->description, sizeof g->description, "%s", desc);
    g->peak_flops = tf * 1e12;
    g->hbm_bw = hbm * 1e9;
    g->mem_bytes = mem * 1073741824.0;
    g->nvlink_bw = nvl * 1e9;
    g->launch_s = launch * 1e-6;
    return SFT_OK;
}

sft_status hw_gpu_load(const char *name_or_file, hw_gpu *out, sft_err *e)
{
    char *text = NULL, *origin = NULL;
    cJSON *j = NULL;
    sft_status st = sft_resolve_data("gpus", name_or_file, &text, &origin, e);
    if (st) return st;
    st = jx_parse(text, origin, &j, e);
    if (!st) st = hw_gpu_parse(j, origin, "", out, e);
    cJSON_Delete(j);
    free(text);
    free(origin);
    return st;
}
