/* calib.c — calibration tables and their interpolation (calib.h).
 *
 * cal_range_table is the one place that states the valid range of each
 * number of a calibration table, with its reason (README.md, "Inputs,
 * outputs and exit codes"). Tables are also measured on the CPU reference
 * kernels (validate/), so the bounds on the device's peak and efficiencies
 * reach down to one slow CPU core. */
#include "models/hw/calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    R_PEAK,
    R_GEMM_EFF,
    R_ATTN_EFF,
    R_MEM_EFF,
    R_A_HEAD_DIM,
    R_A_HEADS_Q,
    R_A_HEADS_KV,
    R_A_Q,
    R_A_K,
    R_A_BATCH,
    R_A_TIME,
    R_G_M,
    R_G_N,
    R_G_K,
    R_G_TIME,
    R_COUNT
};

#define EFF_WHY                                                                                    \
    "fraction of peak (of HBM bandwidth: memory) reached outside the table: 1e-4 (naive CPU "      \
    "kernels; validate/ writes 4 decimals) to 1"
#define TIME_WHY "kernel time: 1 ns (the harness's resolution) to 10^4 s"
#define TOK_WHY  "tokens per sequence: 1 to 10^7, the longest sample a trace may hold"
#define DIM_WHY  "GEMM side: tokens of a micro-batch (<= 10^8, --bucket's limit) or a weight side"

static const jx_range cal_range_table[R_COUNT] = {
    [R_PEAK] = {"peak_tflops", 1e-4, 1e5, 0, "TFLOPS",
                "dense peak of the table's device: one CPU core (~1e-3) to 40x a B200 (2250)"},
    [R_GEMM_EFF] = {"gemm_efficiency", 1e-4, 1, 0, "", EFF_WHY},
    [R_ATTN_EFF] = {"attention_efficiency", 1e-4, 1, 0, "", EFF_WHY},
    [R_MEM_EFF] = {"memory_efficiency", 1e-4, 1, 0, "", EFF_WHY},
    [R_A_HEAD_DIM] = {"attention[].head_dim", 1, 1024, JX_INT, "",
                      "head dimension: attention kernels take 32-256"},
    [R_A_HEADS_Q] = {"attention[].heads_q", 1, 4096, JX_INT, "",
                     "query heads of the measured kernel; a multiple of heads_kv"},
    [R_A_HEADS_KV] = {"attention[].heads_kv", 1, 4096, JX_INT, "", "KV heads (GQA)"},
    [R_A_Q] = {"attention[].q_tokens", 1, 1e7, JX_INT, "", TOK_WHY},
    [R_A_K] = {"attention[].k_tokens", 1, 1e7, JX_INT, "", TOK_WHY},
    [R_A_BATCH] = {"attention[].batch", 1, 1e7, JX_INT, "",
                   "sequences per launch: 1 to 10^7 (a batch of one-token sequences)"},
    [R_A_TIME] = {"attention[].time_us", 1e-3, 1e10, 0, "us", TIME_WHY},
    [R_G_M] = {"gemm[].m", 1, 1e8, JX_INT, "", DIM_WHY},
    [R_G_N] = {"gemm[].n", 1, 1e8, JX_INT, "", DIM_WHY},
    [R_G_K] = {"gemm[].k", 1, 1e8, JX_INT, "", DIM_WHY},
    [R_G_TIME] = {"gemm[].time_us", 1e-3, 1e10, 0, "us", TIME_WHY},
};

const jx_range *cal_ranges(size_t *n)
{
    *n = R_COUNT;
    return cal_range_table;
}

typedef struct attn_pt {
    int bwd, causal, head_dim;
    double L;     /* sqrt(q k) */
    double tput;  /* flop/s */
    double tnorm; /* time per sequence per query head */
} attn_pt;

typedef struct gemm_pt {
    double m, n, k, tput;
} gemm_pt;

struct cal {
    char name[64], device[128];
    double peak, gemm_eff, attn_eff, mem_eff;
    attn_pt *attn;
    int nattn;
    gemm_pt *gemm;
    int ngemm;
};

static const char *const top_keys[] = {"schema",
                                       "name",
                                       "device",
                                       "driver",
                                       "date",
                                       "grid",
                                       "source",
                                       "notes",
                                       "peak_tflops",
                                       "gemm_efficiency",
                                       "attention_efficiency",
                                       "memory_efficiency",
                                       "attention",
                                       "gemm",
                                       NULL};
static const char *const attn_keys[] = {"dir",      "causal",   "head_dim", "heads_q", "heads_kv",
                                        "q_tokens", "k_tokens", "batch",    "time_us", NULL};
static const char *const gemm_keys[] = {"m", "n", "k", "time_us", NULL};

double cal_attn_flops(int bwd, int causal, int head_dim, int heads_q, double q, double k)
{
    double pairs = causal ? q * (k - q) + q * (q + 1) / 2 : q * k;
    return 4.0 * head_dim * heads_q * pairs * (bwd ? 2.5 : 1.0);
}

static int by_L(const void *a, const void *b)
{
    const attn_pt *x = a, *y = b;
    if (x->bwd != y->bwd) return x->bwd - y->bwd;
    if (x->causal != y->causal) return x->causal - y->causal;
    if (x->head_dim != y->head_dim) return x->head_dim - y->head_dim;
    return (x->L > y->L) - (x->L < y->L);
}

static sft_status parse_attn(const jx_ctx *c, const cJSON *arr, cal *t)
{
    int i = 0;
    t->attn = sft_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *t->attn);
    for (const cJSON *p = arr->child; p; p = p->next, i++) {
        jx_ctx d = jx_elem(c, "attention", i);
        const char *dir = NULL;
        int causal = 0;
        long hd = 0, hq = 0, hk = 0;
        double q = 0, k = 0, batch = 0, us = 0;
        sft_status st;
        const jx_range *r = cal_range_table;
        if ((st = jx_keys(&d, p, attn_keys)) || (st = jx_str(&d, p, "dir", JX_REQ, &dir)) ||
            (st = jx_bool(&d, p, "causal", JX_REQ, &causal)) ||
            (st = jx_long_in(&d, p, "head_dim", JX_REQ, &r[R_A_HEAD_DIM], &hd)) ||
            (st = jx_long_in(&d, p, "heads_q", JX_REQ, &r[R_A_HEADS_Q], &hq)) ||
            (st = jx_long_in(&d, p, "heads_kv", JX_REQ, &r[R_A_HEADS_KV], &hk)) ||
            (st = jx_num_in(&d, p, "q_tokens", JX_REQ, &r[R_A_Q], &q)) ||
            (st = jx_num_in(&d, p, "k_tokens", JX_REQ, &r[R_A_K], &k)) ||
            (st = jx_num_in(&d, p, "batch", JX_REQ, &r[R_A_BATCH], &batch)) ||
            (st = jx_num_in(&d, p, "time_us", JX_REQ, &r[R_A_TIME], &us)))
            return st;
        if (strcmp(dir, "fwd") != 0 && strcmp(dir, "bwd") != 0)
            return jx_fail(&d, "dir", "'%s': valid values are fwd, bwd", dir);
        if (hq % hk != 0)
            return jx_fail(&d, "heads_q", "%ld is not a multiple of heads_kv %ld", hq, hk);
        if (q > k) return jx_fail(&d, "q_tokens", "%g exceeds k_tokens %g", q, k);
        attn_pt *a = &t->attn[t->nattn++];
        a->bwd = dir[0] == 'b';
        a->causal = causal;
        a->head_dim = (int)hd;
        a->L = sqrt(q * k);
        a->tput = batch * cal_attn_flops(a->bwd, causal, (int)hd, (int)hq, q, k) / (us * 1e-6);
        a->tnorm = us / (batch * (double)hq);
    }
    qsort(t->attn, (size_t)t->nattn, sizeof *t->attn, by_L);
    /* along one kernel's grid a longer sequence never takes less time (2%
     * measurement slack); the same length twice is ambiguous */
    for (int j = 1; j < t->nattn; j++) {
        const attn_pt *x = &t->attn[j - 1], *y = &t->attn[j];
        if (x->bwd != y->bwd || x->causal != y->causal || x->head_dim != y->head_dim) continue;
        const char *kn = x->bwd ? "bwd" : "fwd", *cn = x->causal ? "causal" : "non-causal";
        if (x->L == y->L)
            return jx_fail(c, "attention",
                           "two points for %s %s head_dim %d at length %.0f: keep one", kn, cn,
                           x->head_dim, x->L);
        if (y->tnorm < 0.98 * x->tnorm)
            return jx_fail(c, "attention",
                           "non-monotone grid: %s %s head_dim %d takes %.3g us per sequence and "
                           "head at length %.0f but %.3g us at %.0f",
                           kn, cn, x->head_dim, y->tnorm, y->L, x->tnorm, x->L);
    }
    return SFT_OK;
}

static sft_status parse_gemm(const jx_ctx *c, const cJSON *arr, cal *t)
{
    int i = 0;
    t->gemm = sft_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *t->gemm);
    for (const cJSON *p = arr->child; p; p = p->next, i++) {
        jx_ctx d = jx_elem(c, "gemm", i);
        double m = 0, n = 0, k = 0, us = 0;
        sft_status st;
        const jx_range *r = cal_range_table;
        if ((st = jx_keys(&d, p, gemm_keys)) ||
            (st = jx_num_in(&d, p, "m", JX_REQ, &r[R_G_M], &m)) ||
            (st = jx_num_in(&d, p, "n", JX_REQ, &r[R_G_N], &n)) ||
            (st = jx_num_in(&d, p, "k", JX_REQ, &r[R_G_K], &k)) ||
            (st = jx_num_in(&d, p, "time_us", JX_REQ, &r[R_G_TIME], &us)))
            return st;
        gemm_pt *g = &t->gemm[t->ngemm++];
        g->m = m;
        g->n = n;
        g->k = k;
        g->tput = 2 * m * n * k / (us * 1e-6);
    }
    return SFT_OK;
}

sft_status cal_parse(const char *text, const char *origin, cal **out, sft_err *e)
{
    cJSON *j = NULL;
    sft_status st = jx_parse(text, origin, &j, e);
    if (st) return st;
    cal *t = sft_xcalloc(1, sizeof *t);
    jx_ctx c = jx_root(origin, e);
    const char *s;
    const jx_range *r = cal_range_table;
    double tf = 0;
    const cJSON *arr;
    t->gemm_eff = 0.7;
    t->attn_eff = 0.35;
    t->mem_eff = 0.8;
    if ((st = jx_keys(&c, j, top_keys)) || (st = jx_schema(&c, j, CAL_SCHEMA)) ||
        (st = jx_name(&c, j, "name", JX_REQ, t->name, sizeof t->name)) ||
        (st = jx_name(&c, j, "device", 0, t->device, sizeof t->device)) ||
        (st = jx_str(&c, j, "driver", 0, &s)) || (st = jx_str(&c, j, "date", 0, &s)) ||
        (st = jx_str(&c, j, "grid", 0, &s)) || (st = jx_str(&c, j, "source", JX_TEXT, &s)) ||
        (st = jx_str(&c, j, "notes", JX_TEXT, &s)) ||
        (st = jx_num_in(&c, j, "peak_tflops", JX_REQ, &r[R_PEAK], &tf)) ||
        (st = jx_num_in(&c, j, "gemm_efficiency", 0, &r[R_GEMM_EFF], &t->gemm_eff)) ||
        (st = jx_num_in(&c, j, "attention_efficiency", 0, &r[R_ATTN_EFF], &t->attn_eff)) ||
        (st = jx_num_in(&c, j, "memory_efficiency", 0, &r[R_MEM_EFF], &t->mem_eff)))
        goto fail;
    t->peak = tf * 1e12;
    if ((st = jx_arr(&c, j, "attention", 0, &arr))) goto fail;
    if (arr && (st = parse_attn(&c, arr, t))) goto fail;
    if ((st = jx_arr(&c, j, "gemm", 0, &arr))) goto fail;
    if (arr && (st = parse_gemm(&c, arr, t))) goto fail;
    cJSON_Delete(j);
    *out = t;
    return SFT_OK;
fail:
    cJSON_Delete(j);
    cal_destroy(t);
    return st;
}

/* cal_parse as sft_load_data's parser: ctx is the cal ** it sets. */
static sft_status cal_parse_data(const char *text, const char *origin, void *ctx, sft_err *e)
{
    return cal_parse(text, origin, ctx, e);
}

sft_status cal_load(const char *name_or_file, cal **out, sft_err *e)
{
    return sft_load_data("calibration", name_or_file, cal_parse_data, out, e);
}

void cal_destroy(cal *c)
{
    if (!c) return;
    free(c->attn);
    free(c->gemm);
    free(c);
}

const char *cal_name(const cal *c)
{
    return c->name;
}
const char *cal_device(const cal *c)
{
    return c->device;
}
double cal_peak(const cal *c)
{
    return c->peak;
}
double cal_memory_efficiency(const cal *c)
{
    return c->mem_eff;
}
double cal_gemm_efficiency(const cal *c)
{
    return c->gemm_eff;
}
double cal_attn_efficiency(const cal *c)
{
    return c->attn_eff;
}

int cal_npoints(const cal *c, int *nattn, int *ngemm)
{
    if (nattn) *nattn = c->nattn;
    if (ngemm) *ngemm = c->ngemm;
    return c->nattn + c->ngemm;
}

/* Log-log interpolation of y over x among sorted (x[i], y[i]); power-law
 * extrapolation below, constant above. */
static double loglog(const double *x, const double *y, int n, double q)
{
    if (n == 1) return y[0];
    if (q >= x[n - 1]) return y[n - 1];
    int i = 0;
    if (q <= x[0])
        i = 0;
    else
        while (i + 2 < n && q > x[i + 1]) i++;
    double lx0 = log(x[i]), lx1 = log(x[i + 1]);
    if (lx1 == lx0) return y[i];
    double f = (log(q) - lx0) / (lx1 - lx0);
    return exp(log(y[i]) + f * (log(y[i + 1]) - log(y[i])));
}

double cal_attn_tput(const cal *c, int bwd, int causal, int head_dim, double q, double k)
{
    /* the points of this kernel are contiguous (sorted by kernel, then L) */
    int first = -1, n = 0;
    for (int i = 0; i < c->nattn; i++) {
        const attn_pt *a = &c->attn[i];
        if (a->bwd == bwd && a->causal == causal && a->head_dim == head_dim) {
            if (first < 0) first = i;
            n++;
        }
    }
    if (n == 0) return 0;
    double xs[256], ys[256];
    int m = 0;
    for (int i = first; i < first + n && m < 256; i++) {
        if (m && c->attn[i].L == xs[m - 1]) continue;
        xs[m] = c->attn[i].L;
        ys[m++] = c->attn[i].tput;
    }
    return loglog(xs, ys, m, sqrt(q * k));
}

static int by_x(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

double cal_gemm_time(const cal *c, double m, double n, double k)
{
    /* try the dimension that varies along the table's rows: m (forward and
     * dgrad sweeps over tokens), then k (wgrad sweeps), then n */
    const double q[3] = {m, n, k};
    for (int vary = 0; vary < 3; vary++) {
        int a = vary == 0 ? 1 : 0, b = vary == 2 ? 1 : 2;
        double pts[512][2];
        int np = 0;
        for (int i = 0; i < c->ngemm && np < 512; i++) {
            const gemm_pt *g = &c->gemm[i];
            const double d[3] = {g->m, g->n, g->k};
            if (d[a] == q[a] && d[b] == q[b]) {
                pts[np][0] = d[vary];
                pts[np++][1] = g->tput;
            }
        }
        if (!np) continue;
        qsort(pts, (size_t)np, sizeof pts[0], by_x);
        double xs[512], ys[512];
        for (int i = 0; i < np; i++) {
            xs[i] = pts[i][0];
            ys[i] = pts[i][1];
        }
        double tput;
        if (q[vary] < xs[0]) {
            /* below the smallest: same time per row as the smallest point
             * (a GEMM does not get faster than its tile) scaled linearly */
            tput = ys[0] * q[vary] / xs[0];
        } else {
            tput = loglog(xs, ys, np, q[vary]);
        }
        return 2 * m * n * k / tput;
    }
    return 0;
}
