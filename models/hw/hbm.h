/* hbm.h — the device memory a framework can use on one GPU: its capacity
 * less the CUDA context, cuBLAS workspace and NCCL buffers, and less what
 * PyTorch's caching allocator loses to fragmentation. Every workload
 * family's memory model works within it; the reports state it.
 *
 * Ownership: every pointer argument is borrowed.
 */
#ifndef SFT_HBM_H
#define SFT_HBM_H

#include "sim/gpu.h"

#define MEM_CONTEXT_BYTES 3.0e9 /* CUDA context + cuBLAS workspace + NCCL buffers */
#define MEM_FRAGMENTATION 0.10  /* share of device memory lost to the allocator */

/* Memory the allocator can hand out: capacity minus fragmentation and context. */
double hw_usable_bytes(const hw_gpu *g);

#endif
