/* family.c — the decoder LLM as a workload family (family.h). */
#include "models/llm/family.h"

#include <stdlib.h>

#include "models/llm/build.h"
#include "models/llm/llm_est.h"
#include "models/llm/memory.h"

typedef struct llm_model {
    wl_model base; /* first: the lab holds a wl_model pointer */
    arch a;
} llm_model;

typedef struct llm_builder {
    wl_builder base; /* first */
    bld *b;
} llm_builder;

const arch *llm_arch(const wl_model *m)
{
    return m && m->fam == &wl_family_llm ? &((const llm_model *)m)->a : NULL;
}

static const arch *A(const wl_model *m)
{
    return &((const llm_model *)m)->a;
}

static sft_status parse(const char *text, const char *origin, wl_model **out, sft_err *e)
{
    llm_model *m = sft_xcalloc(1, sizeof *m);
    m->base.fam = &wl_family_llm;
    sft_status st = arch_parse(text, origin, &m->a, e);
    if (st) {
        free(m);
        return st;
    }
    *out = &m->base;
    return SFT_OK;
}

static void destroy(wl_model *m)
{
    free(m);
}

static const char *name(const wl_model *m)
{
    return A(m)->name;
}

static sft_status check_static(const wl_model *m, const hw_gpu *g, const par_opts *par, sft_err *e)
{
    return mem_check_static(A(m), g, par->zero, par->dp * par->cp, e);
}

static long bucket_tokens(const wl_model *m, const hw_gpu *g, const par_opts *par)
{
    return mem_bucket_tokens(A(m), g, par->zero, par->dp * par->cp);
}

static sft_status check_bucket(const wl_model *m, const hw_gpu *g, const par_opts *par, long bucket,
                               sft_err *e)
{
    if (bucket > 0) return SFT_OK;
    /* the static part fits (check_static), one token's activations do not */
    int N = par->dp * par->cp;
    return sft_errf(e, SFT_EINFEASIBLE,
                    "model %s: its static memory with ZeRO-%d over %d GPUs (%.1f GB) leaves no "
                    "room for one token's activations in the %.1f GB usable on a %s; raise "
                    "--zero or --gpus",
                    A(m)->name, par->zero, N, mem_static_bytes(A(m), par->zero, N) / 1e9,
                    hw_usable_bytes(g) / 1e9, g->name);
}

static sft_status check_parallel(const wl_model *m, const par_opts *par, sft_err *e)
{
    const arch *a = A(m);
    if (par->cp_impl == PAR_ULYSSES && a->heads % par->cp != 0)
        return sft_errf(e, SFT_EINPUT,
                        "--cp-impl ulysses: %s has %d attention heads, not divisible by --cp %d "
                        "(use allgather or ring, or a CP degree dividing %d)",
                        a->name, a->heads, par->cp, a->heads);
    return SFT_OK;
}

static est *estimator(const wl_model *m, const cost *c, const clu_desc *cl, const par_opts *par,
                      long bucket)
{
    return llm_est_create(A(m), c, cl, par, bucket);
}

static wl_builder *builder_create(prog *p, const wl_model *m, const cost *c, const clu_desc *cl,
                                  const par_opts *par, int layer_granularity)
{
    llm_builder *b = sft_xcalloc(1, sizeof *b);
    b->base.fam = &wl_family_llm;
    b->b = bld_create(p, A(m), c, cl, par, layer_granularity);
    return &b->base;
}

static sft_status build_step(wl_builder *b, const plan *pl, int step, sft_err *e)
{
    return bld_step(((llm_builder *)b)->b, pl, step, e);
}

static void builder_destroy(wl_builder *b)
{
    if (!b) return;
    bld_destroy(((llm_builder *)b)->b);
    free(b);
}

const wl_family wl_family_llm = {
    .name = "llm",
    .summary = "decoder transformers (GQA, SwiGLU, RMSNorm) fine-tuned on token sequences",
    .sample_kind = "sequence",
    .model_parse = parse,
    .model_destroy = destroy,
    .model_name = name,
    .check_static = check_static,
    .bucket_tokens = bucket_tokens,
    .check_bucket = check_bucket,
    .check_parallel = check_parallel,
    .policies = sched_policies,
    .estimator = estimator,
    .builder_create = builder_create,
    .ncats = BLD_NCATS,
    .cat_name = bld_cat_name,
    .grad_cat = BLD_CAT_GRAD,
    .build_step = build_step,
    .builder_destroy = builder_destroy,
};
