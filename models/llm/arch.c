/* arch.c — architecture configs and the per-op work of a decoder layer.
 *
 * arch_range_table is the one place that states the valid range of each
 * number of an architecture file (and of the head dimension they imply),
 * with the reason (ARCHITECTURE.md, "Formats"). */
#include "models/llm/arch.h"

#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {
    "schema", "family",   "name",         "description", "notes",          "hidden",   "layers",
    "heads",  "kv_heads", "intermediate", "vocab",       "tie_embeddings", "qkv_bias", NULL};

enum { R_HIDDEN, R_LAYERS, R_HEADS, R_KV, R_HEAD_DIM, R_INTER, R_VOCAB, R_COUNT };

static const jx_range arch_range_table[R_COUNT] = {
    [R_HIDDEN] = {"hidden", 64, 131072, JX_INT, "",
                  "model width: toy models (64) to 8x the widest published (16384)"},
    [R_LAYERS] = {"layers", 1, 1000, JX_INT, "",
                  "decoder layers: 1 to 8x the deepest published (126)"},
    [R_HEADS] = {"heads", 1, 1024, JX_INT, "",
                 "query heads (8x the most published, 128); must divide hidden"},
    [R_KV] = {"kv_heads", 1, 1024, JX_INT, "", "KV heads (GQA); must divide heads"},
    [R_HEAD_DIM] = {"hidden / heads", 8, 1024, JX_INT, "",
                    "head dimension: attention kernels take 32-256; the calibration tables "
                    "1-1024"},
    [R_INTER] = {"intermediate", 64, 1048576, JX_INT, "",
                 "SwiGLU width: up to 16x the widest published (53248)"},
    [R_VOCAB] = {"vocab", 2, 16777216, JX_INT, "",
                 "tokenizer size: published 32K-256K; 2^24 bounds the logits' memory"},
};

const jx_range *arch_ranges(size_t *n)
{
    *n = R_COUNT;
    return arch_range_table;
}

sft_status arch_parse(const char *text, const char *origin, arch *a, sft_err *e)
{
    cJSON *j = NULL;
    sft_status st = jx_parse(text, origin, &j, e);
    if (st) return st;
    jx_ctx c = jx_root(origin, e);
    const char *notes = "";
    const jx_range *r = arch_range_table;
    long h = 0, l = 0, nh = 0, kv = 0, inter = 0, v = 0;
    memset(a, 0, sizeof *a);
    const char *family = "llm";
    if ((st = jx_keys(&c, j, keys)) || (st = jx_schema(&c, j, ARCH_SCHEMA)) ||
        (st = jx_str(&c, j, "family", 0, &family)) ||
        (st = jx_name(&c, j, "name", JX_REQ, a->name, sizeof a->name)) ||
        (st = jx_name(&c, j, "description", 0, a->description, sizeof a->description)) ||
        (st = jx_str(&c, j, "notes", JX_TEXT, &notes)) ||
        (st = jx_long_in(&c, j, "hidden", JX_REQ, &r[R_HIDDEN], &h)) ||
        (st = jx_long_in(&c, j, "layers", JX_REQ, &r[R_LAYERS], &l)) ||
        (st = jx_long_in(&c, j, "heads", JX_REQ, &r[R_HEADS], &nh)) ||
        (st = jx_long_in(&c, j, "kv_heads", JX_REQ, &r[R_KV], &kv)) ||
        (st = jx_long_in(&c, j, "intermediate", JX_REQ, &r[R_INTER], &inter)) ||
        (st = jx_long_in(&c, j, "vocab", JX_REQ, &r[R_VOCAB], &v)) ||
        (st = jx_bool(&c, j, "tie_embeddings", 0, &a->tie_embeddings)) ||
        (st = jx_bool(&c, j, "qkv_bias", 0, &a->qkv_bias)))
        goto out;
    if (strcmp(family, "llm") != 0) {
        st = jx_fail(&c, "family", "'%.64s' is not a decoder LLM (this parser reads family llm)",
                     family);
        goto out;
    }
    if (h % nh != 0) {
        st = jx_fail(&c, "heads", "hidden %ld is not a multiple of heads %ld", h, nh);
        goto out;
    }
    if (nh % kv != 0) {
        st = jx_fail(&c, "kv_heads", "heads %ld is not a multiple of kv_heads %ld", nh, kv);
        goto out;
    }
    if (h / nh < r[R_HEAD_DIM].lo || h / nh > r[R_HEAD_DIM].hi) {
        st = jx_fail(&c, "heads",
                     "the head dimension hidden / heads = %ld / %ld = %ld must be in [%.0f, %.0f] "
                     "(%s)",
                     h, nh, h / nh, r[R_HEAD_DIM].lo, r[R_HEAD_DIM].hi, r[R_HEAD_DIM].why);
        goto out;
    }
    a->hidden = (int)h;
    a->layers = (int)l;
    a->heads = (int)nh;
    a->kv_heads = (int)kv;
    a->intermediate = (int)inter;
    a->vocab = (int)v;
    a->head_dim = (int)(h / nh);
out:
    cJSON_Delete(j);
    return st;
}

/* arch_parse as sft_load_data's parser: ctx is the arch it fills. */
static sft_status arch_parse_data(const char *text, const char *origin, void *ctx, sft_err *e)
{
    return arch_parse(text, origin, ctx, e);
}

sft_status arch_load(const char *name_or_file, arch *out, sft_err *e)
{
    return sft_load_data("models", name_or_file, arch_parse_data, out, e);
}

double arch_layer_params(const arch *a)
{
    double h = a->hidden, kvh = (double)a->kv_heads * a->head_dim, I = a->intermediate;
    double attn = h * (h + 2 * kvh) + h * h + (a->qkv_bias ? h + 2 * kvh : 0);
    double mlp = 3 * h * I;
    return attn + mlp + 2 * h; /* two RMSNorm weights */
}

double arch_embed_params(const arch *a)
{
    double e = (double)a->vocab * a->hidden;
    return a->tie_embeddings ? e : 2 * e;
}

double arch_params(const arch *a)
{
    return a->layers * arch_layer_params(a) + arch_embed_params(a) + a->hidden;
}

static arch_op gemm(const char *name, arch_where w, double mT, double mc, double nT, double nc,
                    double kT, double kc)
{
    arch_op o = {name, AOP_GEMM, w, mT, mc, nT, nc, kT, kc, 0};
    return o;
}

static arch_op mem(const char *name, arch_where w, double bytes)
{
    arch_op o = {name, AOP_MEM, w, 0, 0, 0, 0, 0, 0, bytes};
    return o;
}

int arch_layer_ops(const arch *a, int bwd, arch_op *fwd_ops)
{
    arch_op *bwd_ops = fwd_ops;
    double h = a->hidden, kvh = (double)a->kv_heads * a->head_dim, I = a->intermediate;
    double qkv = h + 2 * kvh;
    int k = 0;
    if (!bwd) {
        /* bytes per token: bf16 reads + writes of each elementwise kernel */
        fwd_ops[k++] = mem("attn_norm", AW_PRE, 4 * h);
        fwd_ops[k++] = gemm("qkv_proj", AW_PRE, 1, 0, 0, qkv, 0, h);
        fwd_ops[k++] = mem("rope", AW_PRE, 4 * (h + kvh));
        fwd_ops[k++] = (arch_op){"attention", AOP_ATTN, AW_ATTN, 0, 0, 0, 0, 0, 0, 0};
        fwd_ops[k++] = gemm("o_proj", AW_POST, 1, 0, 0, h, 0, h);
        fwd_ops[k++] = mem("attn_residual", AW_POST, 6 * h);
        fwd_ops[k++] = mem("mlp_norm", AW_POST, 4 * h);
        fwd_ops[k++] = gemm("gate_up_proj", AW_POST, 1, 0, 0, 2 * I, 0, h);
        fwd_ops[k++] = mem("swiglu", AW_POST, 6 * I);
        fwd_ops[k++] = gemm("down_proj", AW_POST, 1, 0, 0, h, 0, I);
        fwd_ops[k++] = mem("mlp_residual", AW_POST, 6 * h);
        return k;
    }
    /* backward, reverse order; "post" ops run before the attention backward */
    bwd_ops[k++] = mem("mlp_residual_bwd", AW_POST, 4 * h);
    bwd_ops[k++] = mem("swiglu_recompute", AW_POST, 6 * I);
    bwd_ops[k++] = gemm("down_proj_dgrad", AW_POST, 1, 0, 0, I, 0, h);
    bwd_ops[k++] = gemm("down_proj_wgrad", AW_POST, 0, I, 0, h, 1, 0);
    bwd_ops[k++] = mem("swiglu_bwd", AW_POST, 10 * I);
    bwd_ops[k++] = gemm("gate_up_proj_dgrad", AW_POST, 1, 0, 0, h, 0, 2 * I);
    bwd_ops[k++] = gemm("gate_up_proj_wgrad", AW_POST, 0, 2 * I, 0, h, 1, 0);
    bwd_ops[k++] = mem("mlp_norm_bwd", AW_POST, 6 * h);
    bwd_ops[k++] = mem("attn_residual_bwd", AW_POST, 4 * h);
    bwd_ops[k++] = gemm("o_proj_dgrad", AW_POST, 1, 0, 0, h, 0, h);
    bwd_ops[k++] = gemm("o_proj_wgrad", AW_POST, 0, h, 0, h, 1, 0);
    bwd_ops[k++] = (arch_op){"attention_bwd", AOP_ATTN, AW_ATTN, 0, 0, 0, 0, 0, 0, 0};
    bwd_ops[k++] = mem("rope_bwd", AW_PRE, 4 * (h + kvh));
    bwd_ops[k++] = gemm("qkv_proj_dgrad", AW_PRE, 1, 0, 0, h, 0, qkv);
    bwd_ops[k++] = gemm("qkv_proj_wgrad", AW_PRE, 0, qkv, 0, h, 1, 0);
    bwd_ops[k++] = mem("attn_norm_bwd", AW_PRE, 6 * h);
    return k;
}

int arch_head_ops(const arch *a, int bwd, int before, arch_op *head_ops)
{
    double h = a->hidden, V = a->vocab;
    int k = 0;
    if (before && !bwd) {
        head_ops[k++] = mem("embedding", AW_PRE, 4 * h);
    } else if (before && bwd) {
        head_ops[k++] = mem("embedding_bwd", AW_PRE, 8 * h);
    } else if (!bwd) {
        head_ops[k++] = mem("final_norm", AW_POST, 4 * h);
        head_ops[k++] = gemm("lm_head", AW_POST, 1, 0, 0, V, 0, h);
        /* bf16 logits read, fp32 upcast written and read by the softmax */
        head_ops[k++] = mem("cross_entropy", AW_POST, 10 * V);
    } else {
        head_ops[k++] = mem("cross_entropy_bwd", AW_POST, 10 * V);
        head_ops[k++] = gemm("lm_head_dgrad", AW_POST, 1, 0, 0, h, 0, V);
        head_ops[k++] = gemm("lm_head_wgrad", AW_POST, 0, V, 0, h, 1, 0);
        head_ops[k++] = mem("final_norm_bwd", AW_POST, 6 * h);
    }
    return k;
}

void arch_gemm_dims(const arch_op *op, double T, double *m, double *n, double *k)
{
    *m = op->mT * T + op->mc;
    *n = op->nT * T + op->nc;
    *k = op->kT * T + op->kc;
}

double arch_act_bytes_per_token_layer(const arch *a)
{
    double h = a->hidden, kvh = (double)a->kv_heads * a->head_dim, I = a->intermediate;
    /* bf16: norm inputs (2 x h), GEMM inputs (qkv, o_proj, gate_up, down
     * recomputed), Q/K/V after RoPE, attention output, gate and up; plus the
     * fp32 log-sum-exp of FlashAttention per query head */
    return 2 * (2 * h)         /* attn_norm and mlp_norm inputs */
           + 2 * h             /* qkv_proj input (normed x) */
           + 2 * (h + 2 * kvh) /* q, k, v after rope */
           + 2 * h             /* attention output = o_proj input */
           + 2 * h             /* gate_up input (normed) */
           + 2 * (2 * I)       /* gate and up outputs */
           + 4.0 * a->heads;   /* softmax log-sum-exp */
}

double arch_logit_bytes_per_token(const arch *a)
{
    return 10.0 * a->vocab;
}

cost_heads arch_heads(const arch *a)
{
    return (cost_heads){a->heads, a->kv_heads, a->head_dim, a->hidden};
}
