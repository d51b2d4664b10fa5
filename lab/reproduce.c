/* reproduce.c — the Skrull paper's experiment (reproduce.h): its settings
 * table, two passes of the pool over them (the packed deepspeed baseline
 * with sorted and skrull, then the unpacked baseline alone), and the
 * document of step times and speedups. */
#include "lab/reproduce.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/pool.h"
#include "reports/explain.h"
#include "lab/scen_values.h"
#include "models/hw/hbm.h"

#define NSET 6

typedef struct setting {
    const char *model, *dataset, *dp, *cp, *batch, *bucket, *label;
} setting;

static const setting settings[NSET] = {
    {"qwen2.5-0.5b", "wikipedia", "4", "8", "64", "26624", "0.5B Wikipedia"},
    {"qwen2.5-0.5b", "lmsyschat1m", "4", "8", "64", "26624", "0.5B LMsysChat1M"},
    {"qwen2.5-0.5b", "chatqa2", "4", "8", "64", "26624", "0.5B ChatQA2"},
    {"qwen2.5-7b", "wikipedia", "4", "8", "64", "13312", "7B Wikipedia"},
    {"qwen2.5-7b", "lmsyschat1m", "4", "8", "64", "13312", "7B LMsysChat1M"},
    {"qwen2.5-7b", "chatqa2", "2", "16", "40", "13312", "7B ChatQA2"},
};

/* The passes: the packed baseline beside sorted and skrull, then the
 * unpacked baseline (one sequence per micro-batch), then the case study.
 * The unpacked pass runs the first pass's step count for each setting or,
 * under --steps auto, auto capped at that count: its own error is mostly
 * below 2% at the first round, and its simulation costs most of the
 * experiment (64 micro-batches a rank), so it often stops at a prefix of
 * the first pass's batches (same seed, same trace). */
enum { PACKED, UNPACKED, CASE, NPASS };
static const char *const pol_packed[] = {"deepspeed", "sorted", "skrull"};
static const char *const pol_unpacked[] = {"deepspeed"};

/* The case study (Skrull, arXiv 2505.19609: without roll-back, round-robin and
 * Skrull ran out of memory): Qwen2.5-0.5B on ChatQA2, DP 1 x CP 8 on 8
 * GPUs of the paper's cluster, 64 sequences, BucketSize 26000, each policy
 * with roll-back and without. */
#define NCASE     2
#define NCASE_POL 3
static const char *const pol_case[NCASE_POL] = {"deepspeed", "roundrobin", "skrull"};
static const char *const case_rollback[NCASE] = {"on", "off"};

static void set_case(int k, const char *steps, const char **v)
{
    v[SO_GPUS] = "8";
    v[SO_MODEL] = "qwen2.5-0.5b";
    v[SO_DATASET] = "chatqa2";
    v[SO_DP] = "1";
    v[SO_CP] = "8";
    v[SO_BATCH] = "64";
    v[SO_BUCKET] = "26000";
    v[SO_ROLLBACK] = case_rollback[k];
    v[SO_STEPS] = steps;
}

/* The case study's step count: --steps N when given a number, else the
 * first round of auto (it shows memory per step, not a converged mean). */
static const char *case_steps(const scen_opts *o)
{
    long cap;
    return o->v[SO_STEPS] && scen_steps_auto(o->v[SO_STEPS], &cap) == 0 ? o->v[SO_STEPS] : "8";
}

int repro_fixed_option(const scen_opts *o)
{
    for (int i = 0; i < SO_NOPTS; i++)
        if (o->v[i] && i != SO_STEPS && i != SO_SEED && i != SO_GRANULARITY &&
            i != SO_CALIBRATION && i != SO_HOST_OVERHEAD && i != SO_DISPATCH)
            return i;
    return -1;
}

/* Setting t's values into the options v (the cluster is the base's). */
static void set_point(const setting *t, const char **v)
{
    v[SO_MODEL] = t->model;
    v[SO_DATASET] = t->dataset;
    v[SO_DP] = t->dp;
    v[SO_CP] = t->cp;
    v[SO_BATCH] = t->batch;
    v[SO_BUCKET] = t->bucket;
}

typedef struct rp_ctx {
    cJSON *rows[NPASS][NSET]; /* what each setting's point gave in each pass
                               * (CASE: the case study's NCASE points) */
    int pass;
} rp_ctx;

static sft_status on_point(void *ctx, int p, const cJSON *rows, sft_err *e)
{
    (void)e;
    rp_ctx *x = ctx;
    x->rows[x->pass][p] = cJSON_Duplicate(rows, 1);
    return SFT_OK;
}

/* Every setting resolves (the options given are valid for each) and every
 * output directory is ready (cleared of a killed run's temporaries) before
 * the first setting runs; fills the points. */
static sft_status prepare(const scen_opts *o, pool_point *pts, char (*outdirs)[4096], sft_err *e)
{
    for (int k = 0; k < NSET; k++) {
        scen_opts so = *o;
        set_point(&settings[k], so.v);
        scenario sc;
        sft_status rs = scen_resolve(&so, &sc, e);
        if (rs) return rs;
        scen_release(&sc);
    }
    sft_status st = o->out ? sft_outdir_prepare("--out", o->out, e) : SFT_OK;
    for (int k = 0; k < NSET && !st; k++) {
        memset(&pts[k], 0, sizeof pts[k]);
        set_point(&settings[k], pts[k].v);
        if (o->out) {
            snprintf(outdirs[k], sizeof outdirs[k], "%s/%s-%s", o->out, settings[k].model,
                     settings[k].dataset);
            pts[k].out = outdirs[k];
            st = sft_outdir_prepare("--out", outdirs[k], e);
        }
    }
    return st;
}

/* The row of policy in rows, or NULL. */
static const cJSON *row_of(const cJSON *rows, const char *policy)
{
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next) {
        const cJSON *p = cJSON_GetObjectItem(r, "policy");
        if (cJSON_IsString(p) && strcmp(p->valuestring, policy) == 0) return r;
    }
    return NULL;
}

static double field(const cJSON *rows, const char *policy, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(row_of(rows, policy), name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int oom(const cJSON *rows, const char *policy)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(row_of(rows, policy), "oom"));
}

/* Speedups over the settings that have one; var: the sum of their
 * squared standard errors (the mean's error is sqrt(var) / n). */
typedef struct speedups {
    double sum, max, var;
    int n;
} speedups;

static void speedup_add(speedups *a, double v, double se)
{
    if (v <= 0) return;
    a->sum += v;
    a->var += se * se;
    a->n++;
    if (v > a->max) a->max = v;
}

/* skrull's row of A against deepspeed's of base (reports/explain.h), added
 * to r as key; nothing when a row is missing (a setting that failed). */
static void add_explain(cJSON *r, const char *key, const cJSON *base, const cJSON *A)
{
    const cJSON *b = row_of(base, "deepspeed"), *x = row_of(A, "skrull");
    rep_explain ex;
    sft_err e = {0};
    if (b && x && !rep_explain_rows(b, x, &ex, &e))
        cJSON_AddItemToObject(r, key, rep_explain_json(&ex));
}

/* Setting t's row from its packed (A) and unpacked (B) rows, which it
 * takes. */
static cJSON *setting_json(const setting *t, cJSON *A, cJSON *B, speedups *p, speedups *u)
{
    static const char *const T = "mean_step_time_s", *const SE = "mean_step_time_se_s";
    double dp = field(A, "deepspeed", T), dp_se = field(A, "deepspeed", SE);
    double du = field(B, "deepspeed", T), du_se = field(B, "deepspeed", SE);
    double so = field(A, "sorted", T), so_se = field(A, "sorted", SE);
    double sk = field(A, "skrull", T), sk_se = field(A, "skrull", SE);
    double spp_se, spu_se;
    double spp = rep_ratio(dp, dp_se, sk, sk_se, &spp_se),
           spu = rep_ratio(du, du_se, sk, sk_se, &spu_se);
    speedup_add(p, spp, spp_se);
    speedup_add(u, spu, spu_se);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "setting", t->label);
    cJSON_AddStringToObject(r, "model", t->model);
    cJSON_AddStringToObject(r, "dataset", t->dataset);
    cJSON_AddNumberToObject(r, "dp", atoi(t->dp));
    cJSON_AddNumberToObject(r, "cp", atoi(t->cp));
    cJSON_AddNumberToObject(r, "batch", atoi(t->batch));
    cJSON_AddNumberToObject(r, "bucket", atoi(t->bucket));
    cJSON_AddNumberToObject(r, "steps", field(A, "deepspeed", "steps"));
    cJSON_AddNumberToObject(r, "steps_unpacked", field(B, "deepspeed", "steps"));
    cJSON_AddNumberToObject(r, "deepspeed_packed_s", dp);
    cJSON_AddNumberToObject(r, "deepspeed_packed_se_s", dp_se);
    cJSON_AddNumberToObject(r, "deepspeed_unpacked_s", du);
    cJSON_AddNumberToObject(r, "deepspeed_unpacked_se_s", du_se);
    cJSON_AddNumberToObject(r, "sorted_s", so);
    cJSON_AddNumberToObject(r, "sorted_se_s", so_se);
    cJSON_AddNumberToObject(r, "skrull_s", sk);
    cJSON_AddNumberToObject(r, "skrull_se_s", sk_se);
    cJSON_AddNumberToObject(r, "speedup_vs_packed", spp);
    cJSON_AddNumberToObject(r, "speedup_vs_packed_se", spp_se);
    cJSON_AddNumberToObject(r, "speedup_vs_unpacked", spu);
    cJSON_AddNumberToObject(r, "speedup_vs_unpacked_se", spu_se);
    cJSON_AddBoolToObject(r, "skrull_oom", oom(A, "skrull"));
    cJSON_AddBoolToObject(r, "deepspeed_oom", oom(A, "deepspeed") || oom(B, "deepspeed"));
    add_explain(r, "explain_vs_packed", A, A);
    add_explain(r, "explain_vs_unpacked", B, A);
    if (A) cJSON_AddItemToObject(r, "rows_packed", A);
    if (B) cJSON_AddItemToObject(r, "rows_unpacked", B);
    return r;
}

/* The document from both passes' rows (it takes them). */
static cJSON *experiment_json(rp_ctx *x)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(j, "settings");
    speedups p = {0}, u = {0};
    for (int k = 0; k < NSET; k++) {
        cJSON_AddItemToArray(
            arr, setting_json(&settings[k], x->rows[PACKED][k], x->rows[UNPACKED][k], &p, &u));
        x->rows[PACKED][k] = x->rows[UNPACKED][k] = NULL;
    }
    cJSON *h = cJSON_AddObjectToObject(j, "headline");
    cJSON_AddNumberToObject(h, "paper_mean_speedup", 3.76);
    cJSON_AddNumberToObject(h, "paper_max_speedup", 7.54);
    cJSON_AddNumberToObject(h, "mean_speedup_vs_packed", p.n ? p.sum / p.n : 0);
    cJSON_AddNumberToObject(h, "mean_speedup_vs_packed_se", p.n ? sqrt(p.var) / p.n : 0);
    cJSON_AddNumberToObject(h, "max_speedup_vs_packed", p.max);
    cJSON_AddNumberToObject(h, "mean_speedup_vs_unpacked", u.n ? u.sum / u.n : 0);
    cJSON_AddNumberToObject(h, "mean_speedup_vs_unpacked_se", u.n ? sqrt(u.var) / u.n : 0);
    cJSON_AddNumberToObject(h, "max_speedup_vs_unpacked", u.max);
    return j;
}

/* The case study's document from its rows (borrowed). */
static cJSON *case_json(const rp_ctx *x, const char *steps, double usable)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", "qwen2.5-0.5b");
    cJSON_AddStringToObject(j, "dataset", "chatqa2");
    cJSON_AddNumberToObject(j, "gpus", 8);
    cJSON_AddNumberToObject(j, "dp", 1);
    cJSON_AddNumberToObject(j, "cp", 8);
    cJSON_AddNumberToObject(j, "batch", 64);
    cJSON_AddNumberToObject(j, "bucket", 26000);
    cJSON_AddNumberToObject(j, "steps", atoi(steps));
    cJSON_AddNumberToObject(j, "usable_mem_bytes", usable);
    cJSON *arr = cJSON_AddArrayToObject(j, "rows");
    for (int k = 0; k < NCASE; k++)
        for (const cJSON *r = x->rows[CASE][k] ? x->rows[CASE][k]->child : NULL; r; r = r->next) {
            cJSON *o = cJSON_CreateObject();
            const cJSON *st = cJSON_GetObjectItem(r, "status");
            cJSON_AddStringToObject(o, "policy", cJSON_GetObjectItem(r, "policy")->valuestring);
            cJSON_AddBoolToObject(o, "rollback", k == 0);
            cJSON_AddStringToObject(o, "status", cJSON_IsString(st) ? st->valuestring : "");
            cJSON_AddBoolToObject(o, "oom", cJSON_IsTrue(cJSON_GetObjectItem(r, "oom")));
            cJSON *ps = cJSON_AddArrayToObject(o, "per_step");
            int n = 0;
            for (const cJSON *q = cJSON_GetObjectItem(r, "per_step")
                                      ? cJSON_GetObjectItem(r, "per_step")->child
                                      : NULL;
                 q; q = q->next) {
                cJSON *w = cJSON_CreateObject();
                cJSON_AddNumberToObject(w, "step", n++);
                cJSON_AddItemToObject(
                    w, "peak_mem_bytes_min",
                    cJSON_Duplicate(cJSON_GetObjectItem(q, "peak_mem_bytes_min"), 1));
                cJSON_AddItemToObject(
                    w, "peak_mem_bytes_max",
                    cJSON_Duplicate(cJSON_GetObjectItem(q, "peak_mem_bytes_max"), 1));
                cJSON_AddItemToObject(w, "oom", cJSON_Duplicate(cJSON_GetObjectItem(q, "oom"), 1));
                cJSON_AddItemToArray(ps, w);
            }
            cJSON_AddItemToArray(arr, o);
        }
    return j;
}

/* The case study's points resolved (its usable memory per GPU in
 * *usable), then run in the pool into x->rows[CASE]. */
static sft_status case_run(const scen_opts *o, int jobs, int progress, rp_ctx *x, double *usable,
                           sft_err *e)
{
    pool_point pts[NCASE];
    const char *steps = case_steps(o);
    for (int k = 0; k < NCASE; k++) {
        memset(&pts[k], 0, sizeof pts[k]);
        set_case(k, steps, pts[k].v);
        pts[k].per_step = 1;
        scen_opts so = *o;
        set_case(k, steps, so.v);
        scenario sc;
        sft_status rs = scen_resolve(&so, &sc, e);
        if (rs) return rs;
        *usable = hw_usable_bytes(&sc.cl.gpu);
        scen_release(&sc);
    }
    int root = 1;
    x->pass = CASE;
    pool_cfg cfg = {o, pts, NCASE, pol_case, NCASE_POL, jobs, NULL, progress, on_point, x};
    return pool_run(&cfg, &root, e);
}

sft_status repro_case_study(const scen_opts *base, int jobs, int progress, cJSON **doc, sft_err *e)
{
    scen_opts o = *base;
    o.v[SO_CLUSTER] = "h100x32";
    rp_ctx x = {0};
    double usable = 0;
    sft_status st = case_run(&o, jobs, progress, &x, &usable, e);
    if (!st) *doc = case_json(&x, case_steps(&o), usable);
    for (int k = 0; k < NCASE; k++) cJSON_Delete(x.rows[CASE][k]);
    return st;
}

sft_status repro_run(const scen_opts *base, int jobs, int progress, cJSON **doc, sft_err *e)
{
    scen_opts o = *base;
    o.v[SO_CLUSTER] = "h100x32";
    if (!o.v[SO_STEPS]) o.v[SO_STEPS] = REPRO_STEPS;
    long cap;
    int is_auto = scen_steps_auto(o.v[SO_STEPS], &cap) == 1;
    pool_point pts[NSET];
    char outdirs[NSET][4096], steps[NSET][32];
    sft_status st = prepare(&o, pts, outdirs, e);
    if (st) return st;
    rp_ctx x = {0};
    int root = 1;
    for (x.pass = PACKED; x.pass < CASE && !st; x.pass++) {
        o.v[SO_DS_PACK] = x.pass == UNPACKED ? "off" : "on";
        if (x.pass == UNPACKED) /* the reports are the first pass's */
            for (int k = 0; k < NSET; k++) {
                pts[k].out = NULL;
                double n = field(x.rows[PACKED][k], "deepspeed", "steps");
                if (n > 0) {
                    snprintf(steps[k], sizeof steps[k], "%s%.0f", is_auto ? "auto:" : "", n);
                    pts[k].v[SO_STEPS] = steps[k];
                }
            }
        pool_cfg cfg = {&o,
                        pts,
                        NSET,
                        x.pass == UNPACKED ? pol_unpacked : pol_packed,
                        x.pass == UNPACKED ? 1 : 3,
                        jobs,
                        NULL,
                        progress,
                        on_point,
                        &x};
        st = pool_run(&cfg, &root, e);
    }
    o.v[SO_DS_PACK] = NULL;
    double usable = 0;
    if (!st) st = case_run(&o, jobs, progress, &x, &usable, e);
    if (!st) {
        *doc = experiment_json(&x);
        cJSON_AddStringToObject(*doc, "steps_option", o.v[SO_STEPS]);
        cJSON_AddItemToObject(*doc, "case_study", case_json(&x, case_steps(&o), usable));
    }
    for (int p = 0; p < NPASS; p++)
        for (int k = 0; k < NSET; k++) cJSON_Delete(x.rows[p][k]);
    return st;
}

sft_status repro_write(const char *dir, const cJSON *doc, sft_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/reproduce.json", dir);
    char *text = cJSON_Print(doc);
    sft_status st = sft_write_file(path, text, strlen(text), e);
    free(text);
    return st;
}
