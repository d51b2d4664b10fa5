/* workload.h — the seam between the lab and a workload family
 * (ARCHITECTURE.md, "How to add a workload family").
 *
 * A family is a folder under models/ (llm/: decoder transformers) that
 * implements this table: it parses its model files, says what its trace
 * samples are, lists its scheduling policies, builds the schedulers'
 * estimator, checks and sizes its memory, and turns plans into programs.
 * lab/ reaches a family only through this table: it never names one. The
 * families are listed by the build (models/CMakeLists.txt, SFT_FAMILIES),
 * which generates the registry; a model file's "family" field selects one
 * (absent: the first listed, "llm").
 *
 * Objects a family creates start with the header the table's functions
 * take (wl_model, wl_builder): a family's own struct embeds it as its first
 * member.
 */
#ifndef SFT_WORKLOAD_H
#define SFT_WORKLOAD_H

#include "models/hw/cost.h"
#include "models/sched/par.h"
#include "models/sched/plan.h"
#include "models/sched/sched.h"
#include "sim/cluster.h"
#include "sim/prog.h"

struct wl_family;

typedef struct wl_model {
    const struct wl_family *fam;
} wl_model;

typedef struct wl_builder {
    const struct wl_family *fam;
} wl_builder;

typedef struct wl_family {
    const char *name;        /* the model files' "family" value */
    const char *summary;     /* one line, for listings */
    const char *sample_kind; /* what one trace sample is, e.g. "sequence" (its tokens) */

    /* Parses a model file's text (origin names it in messages). Creates *out
     * (destroy with model_destroy). */
    sft_status (*model_parse)(const char *text, const char *origin, wl_model **out, sft_err *e);
    void (*model_destroy)(wl_model *m);
    const char *(*model_name)(const wl_model *m); /* borrowed from m */

    /* Memory. EINFEASIBLE when the layout's static memory alone does not fit
     * the GPU, whatever the bucket. */
    sft_status (*check_static)(const wl_model *m, const hw_gpu *g, const par_opts *par, sft_err *e);
    /* Tokens per GPU the memory model leaves for a micro-batch (0: none). */
    long (*bucket_tokens)(const wl_model *m, const hw_gpu *g, const par_opts *par);
    /* EINFEASIBLE when a memory-model bucket leaves no room for one token. */
    sft_status (*check_bucket)(const wl_model *m, const hw_gpu *g, const par_opts *par, long bucket,
                               sft_err *e);
    /* EINPUT when the model cannot run under the layout (e.g. heads that
     * Ulysses cannot split). */
    sft_status (*check_parallel)(const wl_model *m, const par_opts *par, sft_err *e);

    /* The policies that schedule this family's samples (static table). */
    const sched_policy *(*policies)(int *n);
    /* Creates the schedulers' estimator (destroy with est_destroy); m, c and
     * cl are borrowed and must outlive it. */
    est *(*estimator)(const wl_model *m, const cost *c, const clu_desc *cl, const par_opts *par,
                      long bucket);

    /* Creates a builder appending to p (borrowed, like m, c and cl); par is
     * copied. Destroy with builder_destroy. */
    wl_builder *(*builder_create)(prog *p, const wl_model *m, const cost *c, const clu_desc *cl,
                                  const par_opts *par, int layer_granularity);
    /* The categories of the ops its programs hold (prog_op.cat), for the
     * reports' breakdown: names of 0..ncats-1 (static storage). */
    int ncats;
    const char *(*cat_name)(int cat);
    /* The category of its gradient (data-parallel / ZeRO) collectives, which
     * the summary reports apart from the rest (grad_comm_s); -1: none. */
    int grad_cat;
    /* Appends one training step of plan pl. */
    sft_status (*build_step)(wl_builder *b, const plan *pl, int step, sft_err *e);
    void (*builder_destroy)(wl_builder *b);
} wl_family;

/* The families the build lists (static storage); *n receives the count. */
const wl_family *const *wl_families(int *n);
/* The family called name, or NULL. */
const wl_family *wl_find(const char *name);
/* Loads a model by built-in name ("models" data) or file: its "family" field
 * selects the family, which parses it. Creates *out (destroy with
 * wl_model_destroy). */
sft_status wl_load(const char *name_or_file, wl_model **out, sft_err *e);
void wl_model_destroy(wl_model *m);
/* The policy of m's family called name: EINPUT naming the valid ones when
 * there is none. *out is static storage. */
sft_status wl_policy(const wl_family *f, const char *name, const sched_policy **out, sft_err *e);

#endif
