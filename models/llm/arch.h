/* arch.h — model architectures (models/llm/archs/NAME.json, schema 1) and
 * the exact work of every op of a decoder transformer: GQA attention with
 * RoPE, SwiGLU MLP, RMSNorm, embedding and LM head.
 *
 * A layer's ops are listed once (arch_layer_ops) as templates: GEMMs by
 * their (m, n, k) as functions of the micro-batch's token count T, memory-
 * bound kernels by bytes per token, attention by its own kernel. Backward
 * GEMMs are two ops (dgrad: dX = dY W^T, wgrad: dW = X^T dY) of the forward's
 * FLOPs each. Selective recomputation (the only recomputation modelled, and
 * always on, as in the Skrull setup): SwiGLU's product is recomputed in the
 * backward instead of stored; FlashAttention never stores the score matrix.
 *
 * File (schema 1): family ("llm", optional: models/workload.h), name (1-63
 * bytes), description (up to 159), notes,
 * hidden, layers, heads, kv_heads, intermediate, vocab (integers, required),
 * tie_embeddings, qkv_bias (booleans). heads divides hidden, kv_heads
 * divides heads. Valid ranges with their reasons: arch_range_table at the
 * top of arch.c (arch_ranges() returns it). Strings are UTF-8 without
 * control characters (notes may hold line breaks).
 *
 * Ownership: an arch is a plain value (the loaders fill the caller's); every
 * pointer argument is borrowed; arch_ranges returns static storage.
 */
#ifndef SFT_ARCH_H
#define SFT_ARCH_H

#include "base/base.h"
#include "base/jsonx.h"
#include "models/hw/cost.h"

#define ARCH_SCHEMA 1

typedef struct arch {
    char name[64];
    char description[160];
    int hidden, layers, heads, kv_heads, intermediate, vocab;
    int head_dim;
    int tie_embeddings, qkv_bias;
} arch;

sft_status arch_load(const char *name_or_file, arch *out, sft_err *e);
/* The valid ranges of an architecture file's numbers (static storage); *n
 * rows; "hidden / heads" is the head dimension they imply. */
const jx_range *arch_ranges(size_t *n);
sft_status arch_parse(const char *text, const char *origin, arch *out, sft_err *e);

/* Parameter counts: one layer, the embeddings (input, and output unless tied),
 * and the whole model. */
double arch_layer_params(const arch *a);
double arch_embed_params(const arch *a);
double arch_params(const arch *a);

typedef enum arch_opk { AOP_GEMM, AOP_ATTN, AOP_MEM } arch_opk;

/* Where an op sits relative to the layer's attention: the program builder
 * needs the split (CP traffic overlaps around attention). */
typedef enum arch_where { AW_PRE, AW_ATTN, AW_POST } arch_where;

typedef struct arch_op {
    const char *name;
    arch_opk kind;
    arch_where where;
    /* GEMM: m, n, k = mT*T + mc, nT*T + nc, kT*T + kc (T = tokens) */
    double mT, mc, nT, nc, kT, kc;
    double bytes_per_token; /* MEM */
} arch_op;

/* The most ops arch_layer_ops and arch_head_ops write. */
#define ARCH_MAX_OPS 24

/* Fills out[0..n) (the caller's, ARCH_MAX_OPS entries) with the forward
 * (bwd = 0) or backward (bwd = 1) ops of one layer, in execution order, and
 * returns n. Op names are static strings. */
int arch_layer_ops(const arch *a, int bwd, arch_op *out);
/* The same for the ops before the first layer (embedding) and after the last
 * (final norm, LM head, loss), forward or backward. */
int arch_head_ops(const arch *a, int bwd, int before, arch_op *out);
/* The attention kernel's shape (cost.h) of this architecture. */
cost_heads arch_heads(const arch *a);

/* GEMM dimensions of op for T tokens. */
void arch_gemm_dims(const arch_op *op, double T, double *m, double *n, double *k);

/* Activation bytes one layer keeps per token from forward to backward (bf16,
 * selective recomputation): the inputs of the norms and GEMMs, Q/K/V after
 * RoPE, the attention output, the gate and up projections. */
double arch_act_bytes_per_token_layer(const arch *a);
/* Bytes per token held for the loss: bf16 logits, their fp32 upcast and the
 * fp32 log-softmax kept for the backward (10 bytes per vocabulary entry), as
 * the Hugging Face loss computes them. */
double arch_logit_bytes_per_token(const arch *a);

#endif
