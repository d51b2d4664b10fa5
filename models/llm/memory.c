/* memory.c — static and activation memory, BucketSize (memory.h).
 *
 * The default BucketSize against the Skrull paper's (80 GB H100, ZeRO-2 over
 * 32 GPUs): Qwen2.5-7B gives ~11K tokens here against the paper's 13K, and
 * Qwen2.5-0.5B ~31K against 26K. The logits dominate the small model's
 * activations (vocabulary 152K, 10 bytes per token and vocabulary entry:
 * bf16 logits, the fp32 upcast and the fp32 log-softmax kept for the loss's
 * backward, as Hugging Face's loss computes them); a fused or chunked loss
 * would raise both figures, a framework that stores more per layer (fp32 norm
 * copies, pre-RoPE Q/K) would lower them. The gap (-16% and +19%) is the
 * spread between implementations, not something to tune away: scenarios that
 * reproduce the paper pass its BucketSize with --bucket.
 */
#include "models/llm/memory.h"

#include <math.h>

double mem_static_bytes(const arch *a, int zero, int world)
{
    double P = arch_params(a), W = world > 0 ? world : 1;
    double s;
    switch (zero) {
    case 0:
        s = 16 * P;
        break;
    case 1:
        s = 4 * P + 12 * P / W;
        break;
    case 2:
        s = 2 * P + 14 * P / W;
        break;
    default:
        s = 16 * P / W;
        break;
    }
    return s + (zero > 0 ? MEM_ZERO_BUCKETS : 0);
}

double mem_act_bytes_per_token(const arch *a)
{
    return a->layers * arch_act_bytes_per_token_layer(a) + arch_logit_bytes_per_token(a);
}

long mem_bucket_tokens(const arch *a, const hw_gpu *g, int zero, int world)
{
    double room = hw_usable_bytes(g) - mem_static_bytes(a, zero, world);
    if (room <= 0) return 0;
    return (long)floor(room / mem_act_bytes_per_token(a));
}

sft_status mem_check_static(const arch *a, const hw_gpu *g, int zero, int world, sft_err *e)
{
    double need = mem_static_bytes(a, zero, world), have = hw_usable_bytes(g);
    if (need < have) return SFT_OK;
    return sft_errf(e, SFT_EINFEASIBLE,
                    "model %s does not fit: its static memory with ZeRO-%d over %d GPUs (%.1f GB) "
                    "exceeds the %.1f GB usable on a %s; raise --zero or --gpus",
                    a->name, zero, world, need / 1e9, have / 1e9, g->name);
}
