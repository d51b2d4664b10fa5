/* gpu.h — GPU datasheet descriptions (sim/gpus/NAME.json, schema 1).
 *
 * A hw_gpu is a plain value: peak dense BF16 throughput, HBM bandwidth and
 * capacity, NVLink per-direction bandwidth (a default for clusters that do
 * not give their own), the GPU-side gap between back-to-back kernels, and the
 * name of the kernel calibration table to use. All quantities in SI units
 * (flop/s, B/s, bytes, seconds).
 *
 * File fields (units as written): bf16_tflops, hbm_gbps, memory_gib
 * (required), nvlink_gbps, launch_overhead_us (default 3), calibration (a
 * name or up to 4), name (1-63 bytes), description (up to 127), notes.
 * Valid ranges, each with its unit and physical reason: gpu_range_table at
 * the top of gpu.c (hw_gpu_ranges() returns it). Strings are UTF-8 without
 * control characters (notes may hold line breaks).
 *
 * Ownership: an hw_gpu is a plain value (the loaders fill the caller's);
 * every pointer argument is borrowed; hw_gpu_ranges returns static storage.
 */
#ifndef SFT_HW_GPU_H
#define SFT_HW_GPU_H

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/jsonx.h"

#define HW_GPU_SCHEMA 1

typedef struct hw_gpu {
    char name[64];
    char description[128];
    double peak_flops; /* dense BF16, flop/s */
    double hbm_bw;     /* B/s */
    double mem_bytes;  /* usable device memory */
    double nvlink_bw;  /* B/s per direction */
    double launch_s;   /* per-kernel launch gap */
    /* kernel calibration tables by preference (a measured table first, the
     * published seed after); names that are not built in are skipped */
    char calibration[4][64];
    int ncalibration;
} hw_gpu;

/* Reads a GPU object (a whole gpus/NAME.json document or an inline object in a
 * cluster file). origin names the file for messages; path is the field path
 * of the object ("" at a document root). */
sft_status hw_gpu_parse(const cJSON *j, const char *origin, const char *path, hw_gpu *out,
                        sft_err *e);
/* The valid ranges of a GPU description's numbers (static storage); *n rows. */
const jx_range *hw_gpu_ranges(size_t *n);
/* Loads a built-in GPU by name or a GPU file by path. */
sft_status hw_gpu_load(const char *name_or_file, hw_gpu *out, sft_err *e);

#endif
