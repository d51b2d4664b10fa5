/* memory.h — per-GPU memory: static (weights, gradients, optimizer states by
 * ZeRO stage), activations linear in tokens, and the BucketSize they leave.
 *
 * Static bytes per GPU for P parameters over a data-parallel world of W ranks
 * (every rank of DP x CP holds a replica: CP shards tokens, not weights):
 *   ZeRO-0: 2P weights + 2P grads + 12P fp32 master and Adam m, v
 *   ZeRO-1: 2P + 2P + 12P/W        ZeRO-2: 2P + 2P/W + 12P/W
 *   ZeRO-3: (2P + 2P + 12P)/W
 * plus DeepSpeed's reduce and all-gather buckets (5e8 elements each, bf16)
 * for stages 1-3, and a fixed reserve for the CUDA context, cuBLAS workspace
 * and NCCL buffers. The caching allocator's fragmentation takes a fraction of
 * the device memory (MEM_FRAGMENTATION, models/hw/hbm.h).
 *
 * Activations: arch_act_bytes_per_token_layer per layer + the loss's logits
 * (arch_logit_bytes_per_token), held from forward to backward.
 */
#ifndef SFT_MEMORY_H
#define SFT_MEMORY_H

#include "models/llm/arch.h"
#include "models/hw/hbm.h"
#include "sim/gpu.h"
#include "base/base.h"

#define MEM_ZERO_BUCKETS 2.0e9 /* reduce + all-gather buckets, 5e8 bf16 elements each */

double mem_static_bytes(const arch *a, int zero, int world);
/* Activation bytes per token on one GPU (all layers + logits). */
double mem_act_bytes_per_token(const arch *a);
/* Tokens per GPU that fit beside the static memory (the default BucketSize);
 * 0 if the static memory alone does not fit. */
long mem_bucket_tokens(const arch *a, const hw_gpu *g, int zero, int world);
/* EINFEASIBLE (README.md's exit 3: the scenario cannot run) when the
 * static memory alone exceeds what the GPU's allocator can hand out,
 * whatever BucketSize is asked for: the message names the model, ZeRO
 * stage, GPU count, both sizes and what to raise. OK otherwise. */
sft_status mem_check_static(const arch *a, const hw_gpu *g, int zero, int world, sft_err *e);

#endif
