/* reproduce.c — the Skrull paper's experiment (reproduce.h): its settings
 * table, two passes of the pool over them (the packed deepspeed baseline
 * with sorted and skrull, then the unpacked baseline alone), and the
 * document of step times and speedups. */
#include "lab/reproduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/pool.h"

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
 * unpacked baseline (one sequence per micro-batch). */
enum { PACKED, UNPACKED, NPASS };
static const char *const pol_packed[] = {"deepspeed", "sorted", "skrull"};
static const char *const pol_unpacked[] = {"deepspeed"};

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
    cJSON *rows[NPASS][NSET]; /* what each setting's point gave in each pass */
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

static double field(const cJSON *rows, const char *policy, const char *name)
{
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next) {
        const cJSON *p = cJSON_GetObjectItem(r, "policy"), *v = cJSON_GetObjectItem(r, name);
        if (cJSON_IsString(p) && strcmp(p->valuestring, policy) == 0 && cJSON_IsNumber(v))
            return v->valuedouble;
    }
    return 0;
}

static int oom(const cJSON *rows, const char *policy)
{
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next) {
        const cJSON *p = cJSON_GetObjectItem(r, "policy");
        if (cJSON_IsString(p) && strcmp(p->valuestring, policy) == 0)
            return cJSON_IsTrue(cJSON_GetObjectItem(r, "oom"));
    }
    return 0;
}

/* Speedups over the settings that have one. */
typedef struct speedups {
    double sum, max;
    int n;
} speedups;

static void speedup_add(speedups *a, double v)
{
    if (v <= 0) return;
    a->sum += v;
    a->n++;
    if (v > a->max) a->max = v;
}

/* Setting t's row from its packed (A) and unpacked (B) rows, which it
 * takes. */
static cJSON *setting_json(const setting *t, cJSON *A, cJSON *B, speedups *p, speedups *u)
{
    double dp = field(A, "deepspeed", "mean_step_time_s");
    double du = field(B, "deepspeed", "mean_step_time_s");
    double so = field(A, "sorted", "mean_step_time_s");
    double sk = field(A, "skrull", "mean_step_time_s");
    double spp = sk > 0 ? dp / sk : 0, spu = sk > 0 ? du / sk : 0;
    speedup_add(p, spp);
    speedup_add(u, spu);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "setting", t->label);
    cJSON_AddStringToObject(r, "model", t->model);
    cJSON_AddStringToObject(r, "dataset", t->dataset);
    cJSON_AddNumberToObject(r, "dp", atoi(t->dp));
    cJSON_AddNumberToObject(r, "cp", atoi(t->cp));
    cJSON_AddNumberToObject(r, "batch", atoi(t->batch));
    cJSON_AddNumberToObject(r, "bucket", atoi(t->bucket));
    cJSON_AddNumberToObject(r, "deepspeed_packed_s", dp);
    cJSON_AddNumberToObject(r, "deepspeed_unpacked_s", du);
    cJSON_AddNumberToObject(r, "sorted_s", so);
    cJSON_AddNumberToObject(r, "skrull_s", sk);
    cJSON_AddNumberToObject(r, "speedup_vs_packed", spp);
    cJSON_AddNumberToObject(r, "speedup_vs_unpacked", spu);
    cJSON_AddBoolToObject(r, "skrull_oom", oom(A, "skrull"));
    cJSON_AddBoolToObject(r, "deepspeed_oom", oom(A, "deepspeed") || oom(B, "deepspeed"));
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
    cJSON_AddNumberToObject(h, "max_speedup_vs_packed", p.max);
    cJSON_AddNumberToObject(h, "mean_speedup_vs_unpacked", u.n ? u.sum / u.n : 0);
    cJSON_AddNumberToObject(h, "max_speedup_vs_unpacked", u.max);
    return j;
}

sft_status repro_run(const scen_opts *base, int jobs, int progress, cJSON **doc, sft_err *e)
{
    scen_opts o = *base;
    o.v[SO_CLUSTER] = "h100x32";
    pool_point pts[NSET];
    char outdirs[NSET][4096];
    sft_status st = prepare(&o, pts, outdirs, e);
    if (st) return st;
    rp_ctx x = {0};
    int root = 1;
    for (x.pass = PACKED; x.pass < NPASS && !st; x.pass++) {
        o.v[SO_DS_PACK] = x.pass == UNPACKED ? "off" : "on";
        if (x.pass == UNPACKED) /* the reports are the first pass's */
            for (int k = 0; k < NSET; k++) pts[k].out = NULL;
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
    if (!st) *doc = experiment_json(&x);
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
