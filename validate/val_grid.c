/* val_grid.c — which kernel shapes `sftsim-validate measure` times (val.h).
 *
 * Built-in grids, all derived from the shipped models (models/llm/archs):
 * - default: attention over sequence lengths 128 .. 131072 (doubling), fwd
 *   and bwd, causal and not, head_dim 128 with Qwen2.5-7B's heads (28 q / 4
 *   kv) and head_dim 64 with Qwen2.5-0.5B's (14 / 2); batch = max(1, 16384 /
 *   len) sequences so that short lengths still fill a GPU. GEMMs: every
 *   distinct weight shape of every shipped model's layer and head GEMMs, as
 *   the cost model sweeps them — forward and dgrad (m = tokens) and wgrad
 *   (k = tokens) — with tokens 128 .. 65536 (doubling), up to 2^44 FLOPs per
 *   call (above that cuBLAS sits on its plateau and the table holds the last
 *   throughput, calib.h).
 * - heldout: the geometric midpoints between consecutive default points
 *   (lengths 181, 362, ..., 92682; token dimensions between two default
 *   points of the same GEMM series), for checking interpolation.
 * - small / heldout-small: the same construction at CPU scale (lengths 64 ..
 *   1024, one head, 512 tokens a batch; the GEMMs of the smallest model whose
 *   weight has at most 2^20 elements, tokens 64 .. 512 up to 2^29 FLOPs):
 *   about 12 s and 6 s of one core of a small VM.
 * - a grid file (schema 1, validate/README.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/llm/arch.h"
#include "base/jsonx.h"
#include "validate/val.h"

#define GRID_SCHEMA 1
/* The CPU grids' GEMMs stop at 2^29 FLOPs (~0.1 s on one core). */
#define VAL_CPU_GEMM_MAX_FLOPS 536870912.0

/* One GEMM series of a model: the weight's two dimensions fixed, the token
 * dimension varying (vary = 0: m = T, n = a, k = b; vary = 2: m = a, n = b,
 * k = T). */
typedef struct series {
    int vary;
    long a, b;
} series;

/* ---- point sizes and labels --------------------------------------------------- */

double val_attn_flops(const val_attn *a)
{
    double L = (double)a->len;
    double pairs = a->causal ? L * (L + 1) / 2 : L * L;
    return 4.0 * a->head_dim * a->heads_q * pairs * (a->bwd ? 2.5 : 1.0) * (double)a->batch;
}

double val_gemm_flops(const val_gemm *g)
{
    return 2.0 * (double)g->m * (double)g->n * (double)g->k;
}

double val_attn_bytes(const val_attn *a)
{
    double t = (double)a->len * (double)a->batch;
    double nq = t * a->heads_q * a->head_dim, nkv = t * a->heads_kv * a->head_dim;
    double rows = t * a->heads_q;
    /* q, k, v, o in bf16 and the fp32 log-sum-exp; backward adds dO, dQ, dK,
     * dV in bf16, their fp32 accumulators and the fp32 rowsum(dO*O) */
    double fwd = 2 * (2 * nq + 2 * nkv) + 4 * rows;
    return a->bwd ? fwd + 2 * (2 * nq + 2 * nkv) + 4 * (nq + 2 * nkv) + 4 * rows : fwd;
}

double val_gemm_bytes(const val_gemm *g)
{
    double m = (double)g->m, n = (double)g->n, k = (double)g->k;
    return 2 * (m * k + k * n + m * n) + 32.0 * 1048576; /* + cuBLASLt workspace */
}

void val_attn_kernel(int bwd, int causal, int head_dim, char *buf, size_t n)
{
    snprintf(buf, n, "attn %s %s d%d", bwd ? "bwd" : "fwd", causal ? "causal" : "non-causal",
             head_dim);
}

void val_attn_label(const val_attn *a, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s d%d %d/%d %ldx%ld", a->bwd ? "bwd" : "fwd",
             a->causal ? "causal" : "non-causal", a->head_dim, a->heads_q, a->heads_kv, a->batch,
             a->len);
}

/* ---- building ------------------------------------------------------------------ */

typedef struct builder {
    val_grid *g;
    size_t acap, gcap;
} builder;

static void add_attn(builder *b, int bwd, int causal, int hd, int hq, int hkv, long len, long batch)
{
    val_grid *g = b->g;
    SFT_GROW(g->attn, b->acap, g->nattn + 1);
    g->attn[g->nattn++] = (val_attn){bwd, causal, hd, hq, hkv, len, batch};
}

/* Adds (m, n, k) unless the grid has it already (a shape shared by two
 * series, e.g. a dgrad at T = a model dimension, is timed once). */
static void add_gemm(builder *b, long m, long n, long k)
{
    val_grid *g = b->g;
    for (size_t i = 0; i < g->ngemm; i++)
        if (g->gemm[i].m == m && g->gemm[i].n == n && g->gemm[i].k == k) return;
    SFT_GROW(g->gemm, b->gcap, g->ngemm + 1);
    g->gemm[g->ngemm++] = (val_gemm){m, n, k};
}

static int attn_order(const void *x, const void *y)
{
    const val_attn *a = x, *b = y;
    if (a->bwd != b->bwd) return a->bwd - b->bwd;
    if (a->causal != b->causal) return a->causal - b->causal;
    if (a->head_dim != b->head_dim) return a->head_dim - b->head_dim;
    return (a->len > b->len) - (a->len < b->len);
}

static int series_order(const void *x, const void *y)
{
    const series *a = x, *b = y;
    if (a->vary != b->vary) return a->vary - b->vary;
    if (a->a != b->a) return (a->a > b->a) - (a->a < b->a);
    return (a->b > b->b) - (a->b < b->b);
}

/* Appends the GEMM series of ops to *s (duplicates removed later). */
static void ops_series(const arch_op *ops, int n, series **s, size_t *ns, size_t *cap)
{
    for (int i = 0; i < n; i++) {
        const arch_op *o = &ops[i];
        if (o->kind != AOP_GEMM) continue;
        series x;
        if (o->mT == 1 && o->nT == 0 && o->kT == 0)
            x = (series){0, (long)o->nc, (long)o->kc};
        else if (o->kT == 1 && o->mT == 0 && o->nT == 0)
            x = (series){2, (long)o->mc, (long)o->nc};
        else
            SFT_CHECK(0, "val_grid: GEMM %s varies in a dimension the grids do not sweep", o->name);
        SFT_GROW(*s, *cap, *ns + 1);
        (*s)[(*ns)++] = x;
    }
}

/* The distinct GEMM series of one model (sorted). Creates *out. */
static void arch_series(const arch *a, series **out, size_t *n)
{
    series *s = NULL;
    size_t ns = 0, cap = 0;
    arch_op ops[ARCH_MAX_OPS];
    for (int bwd = 0; bwd < 2; bwd++) {
        int k = arch_layer_ops(a, bwd, ops);
        ops_series(ops, k, &s, &ns, &cap);
        for (int before = 0; before < 2; before++) {
            k = arch_head_ops(a, bwd, before, ops);
            ops_series(ops, k, &s, &ns, &cap);
        }
    }
    qsort(s, ns, sizeof *s, series_order);
    size_t m = 0;
    for (size_t i = 0; i < ns; i++)
        if (m == 0 || series_order(&s[m - 1], &s[i]) != 0) s[m++] = s[i];
    *out = s;
    *n = m;
}

static val_gemm series_point(const series *s, long T)
{
    return s->vary == 0 ? (val_gemm){T, s->a, s->b} : (val_gemm){s->a, s->b, T};
}

/* Adds every point of series s at the token counts T0 * 2^i (i = 0..steps-1)
 * within the FLOP cap, or, heldout, at the geometric midpoints of two
 * consecutive such points. */
static void add_series(builder *b, const series *s, long T0, int steps, int heldout, double cap)
{
    for (int i = 0; i < steps; i++) {
        long T = T0 << i;
        val_gemm p = series_point(s, T);
        if (val_gemm_flops(&p) > cap) break;
        if (heldout) {
            if (i + 1 >= steps) break;
            val_gemm next = series_point(s, T << 1);
            if (val_gemm_flops(&next) > cap) break;
            p = series_point(s, lround((double)T * M_SQRT2));
        }
        add_gemm(b, p.m, p.n, p.k);
    }
}

/* Attention points of one head layout: lengths T0 * 2^i (i = 0..steps-1),
 * or their geometric midpoints (heldout), batch = max(1, tokens / len). */
static void add_layout(builder *b, int hd, int hq, int hkv, long T0, int steps, int heldout,
                       long tokens)
{
    for (int bwd = 0; bwd < 2; bwd++)
        for (int causal = 0; causal < 2; causal++)
            for (int i = 0; i < steps - (heldout ? 1 : 0); i++) {
                long len = heldout ? lround((double)(T0 << i) * M_SQRT2) : T0 << i;
                long batch = tokens / len > 1 ? tokens / len : 1;
                add_attn(b, bwd, causal, hd, hq, hkv, len, batch);
            }
}

/* The GPU grids: default (heldout = 0) and heldout. */
static sft_status build_gpu(builder *b, int heldout, sft_err *e)
{
    arch a64, a128;
    sft_status st;
    if ((st = arch_load("qwen2.5-0.5b", &a64, e)) || (st = arch_load("qwen2.5-7b", &a128, e)))
        return st;
    SFT_CHECK(a64.head_dim == 64 && a128.head_dim == 128,
              "val_grid: the reference models' head dims changed (%d, %d)", a64.head_dim,
              a128.head_dim);
    add_layout(b, 64, a64.heads, a64.kv_heads, 128, 11, heldout, VAL_BATCH_TOKENS);
    add_layout(b, 128, a128.heads, a128.kv_heads, 128, 11, heldout, VAL_BATCH_TOKENS);

    series *all = NULL;
    size_t nall = 0, cap = 0;
    for (size_t i = 0; sft_builtin_name("models", i); i++) {
        arch a;
        if ((st = arch_load(sft_builtin_name("models", i), &a, e))) {
            free(all);
            return st;
        }
        series *s;
        size_t ns;
        arch_series(&a, &s, &ns);
        SFT_GROW(all, cap, nall + ns);
        memcpy(all + nall, s, ns * sizeof *s);
        nall += ns;
        free(s);
    }
    qsort(all, nall, sizeof *all, series_order);
    for (size_t i = 0; i < nall; i++)
        if (i == 0 || series_order(&all[i - 1], &all[i]) != 0)
            add_series(b, &all[i], 128, 10, heldout, VAL_GEMM_MAX_FLOPS);
    free(all);
    return SFT_OK;
}

/* The CPU grids: small (heldout = 0) and heldout-small. */
static sft_status build_cpu(builder *b, int heldout, sft_err *e)
{
    add_layout(b, 64, 1, 1, 64, 5, heldout, 512);
    add_layout(b, 128, 1, 1, 64, 5, heldout, 512);
    /* the smallest shipped model's GEMMs with small weights */
    arch best = {0};
    double best_params = 0;
    for (size_t i = 0; sft_builtin_name("models", i); i++) {
        arch a;
        sft_status st = arch_load(sft_builtin_name("models", i), &a, e);
        if (st) return st;
        if (i == 0 || arch_params(&a) < best_params) {
            best = a;
            best_params = arch_params(&a);
        }
    }
    SFT_CHECK(best_params > 0, "val_grid: no built-in models");
    series *s;
    size_t ns;
    arch_series(&best, &s, &ns);
    for (size_t i = 0; i < ns; i++)
        if ((double)s[i].a * (double)s[i].b <= 1048576.0)
            add_series(b, &s[i], 64, 4, heldout, VAL_CPU_GEMM_MAX_FLOPS);
    free(s);
    return SFT_OK;
}

/* ---- grid files ------------------------------------------------------------------ */

static const char *const file_keys[] = {"schema", "name",      "notes", "warmup",
                                        "reps",   "attention", "gemm",  NULL};
static const char *const fattn_keys[] = {"head_dim", "heads_q", "heads_kv",     "lengths",
                                         "dirs",     "causal",  "batch_tokens", NULL};
static const char *const fgemm_keys[] = {"m", "n", "k", NULL};

/* Reads the array of positive integers at key (required, non-empty). Creates
 * *out. */
static sft_status int_list(const jx_ctx *c, const cJSON *obj, const char *key, long **out, int *n)
{
    const cJSON *arr;
    sft_status st = jx_arr(c, obj, key, JX_REQ, &arr);
    if (st) return st;
    int k = cJSON_GetArraySize(arr), i = 0;
    if (k == 0) return jx_fail(c, key, "empty list: give at least one value");
    long *v = sft_xmalloc((size_t)k * sizeof *v);
    for (const cJSON *x = arr->child; x; x = x->next, i++) {
        double d = cJSON_IsNumber(x) ? x->valuedouble : -1;
        if (d < 1 || d > 1 << 30 || d != floor(d)) {
            free(v);
            return jx_fail(c, key, "element %d: expected an integer from 1 to 2^30", i);
        }
        v[i] = (long)d;
    }
    *out = v;
    *n = k;
    return SFT_OK;
}

/* Reads an optional array of strings (dirs) or booleans (causal) into
 * flags[2]: which of the two values are listed. Both when absent. */
static sft_status two_values(const jx_ctx *c, const cJSON *obj, const char *key, int *flags)
{
    const cJSON *arr;
    sft_status st = jx_arr(c, obj, key, 0, &arr);
    if (st) return st;
    if (!arr) {
        flags[0] = flags[1] = 1;
        return SFT_OK;
    }
    int i = 0;
    flags[0] = flags[1] = 0;
    for (const cJSON *x = arr->child; x; x = x->next, i++) {
        if (strcmp(key, "dirs") == 0 && cJSON_IsString(x) &&
            (strcmp(x->valuestring, "fwd") == 0 || strcmp(x->valuestring, "bwd") == 0))
            flags[x->valuestring[0] == 'b'] = 1;
        else if (strcmp(key, "causal") == 0 && cJSON_IsBool(x))
            flags[cJSON_IsTrue(x)] = 1;
        else
            return jx_fail(c, key, "element %d: valid values are %s", i,
                           strcmp(key, "dirs") == 0 ? "\"fwd\", \"bwd\"" : "true, false");
    }
    if (!flags[0] && !flags[1]) return jx_fail(c, key, "empty list");
    return SFT_OK;
}

static sft_status file_attn(const jx_ctx *c, const cJSON *p, builder *b)
{
    long hd = 0, hq = 0, hkv = 0;
    double tokens = VAL_BATCH_TOKENS;
    long *len = NULL;
    int nlen = 0, dirs[2], causal[2];
    sft_status st;
    if ((st = jx_keys(c, p, fattn_keys)) ||
        (st = jx_long(c, p, "head_dim", JX_REQ, 64, 128, &hd)) ||
        (st = jx_long(c, p, "heads_q", JX_REQ, 1, 1024, &hq)) ||
        (st = jx_long(c, p, "heads_kv", JX_REQ, 1, 1024, &hkv)) ||
        (st = jx_num(c, p, "batch_tokens", JX_POS | JX_INT, &tokens)) ||
        (st = two_values(c, p, "dirs", dirs)) || (st = two_values(c, p, "causal", causal)))
        return st;
    if (hd != 64 && hd != 128)
        return jx_fail(c, "head_dim", "%ld: the kernels have 64 and 128", hd);
    if (hq % hkv != 0)
        return jx_fail(c, "heads_q", "%ld is not a multiple of heads_kv %ld", hq, hkv);
    if ((st = int_list(c, p, "lengths", &len, &nlen))) return st;
    for (int bwd = 0; bwd < 2; bwd++)
        for (int cz = 0; cz < 2; cz++)
            for (int i = 0; dirs[bwd] && causal[cz] && i < nlen; i++) {
                for (size_t j = 0; j < b->g->nattn; j++) {
                    const val_attn *o = &b->g->attn[j];
                    if (o->bwd == bwd && o->causal == cz && o->head_dim == hd && o->len == len[i]) {
                        long dup = len[i];
                        free(len);
                        return jx_fail(c, "lengths",
                                       "length %ld of head_dim %ld appears twice (a calibration "
                                       "table holds one point per kernel and length)",
                                       dup, hd);
                    }
                }
                long batch = (long)tokens / len[i] > 1 ? (long)tokens / len[i] : 1;
                add_attn(b, bwd, cz, (int)hd, (int)hq, (int)hkv, len[i], batch);
            }
    free(len);
    return SFT_OK;
}

static sft_status file_gemm(const jx_ctx *c, const cJSON *p, builder *b)
{
    long *d[3] = {NULL, NULL, NULL};
    int nd[3] = {0, 0, 0};
    static const char *const names[3] = {"m", "n", "k"};
    sft_status st = jx_keys(c, p, fgemm_keys);
    for (int i = 0; i < 3 && !st; i++) st = int_list(c, p, names[i], &d[i], &nd[i]);
    for (int x = 0; !st && x < nd[0]; x++)
        for (int y = 0; y < nd[1]; y++)
            for (int z = 0; z < nd[2]; z++) add_gemm(b, d[0][x], d[1][y], d[2][z]);
    for (int i = 0; i < 3; i++) free(d[i]);
    return st;
}

static sft_status build_file(builder *b, const char *path, sft_err *e)
{
    char *text = NULL;
    size_t len;
    cJSON *j = NULL;
    sft_status st = sft_read_file(path, &text, &len, e);
    if (st) return st;
    st = jx_parse(text, path, &j, e);
    free(text);
    if (st) return st;
    jx_ctx c = jx_root(path, e);
    const char *name = NULL, *notes;
    long warmup = 2, reps = 5;
    const cJSON *arr;
    if ((st = jx_keys(&c, j, file_keys)) || (st = jx_schema(&c, j, GRID_SCHEMA)) ||
        (st = jx_str(&c, j, "name", JX_REQ, &name)) || (st = jx_str(&c, j, "notes", 0, &notes)) ||
        (st = jx_long(&c, j, "warmup", 0, 1, 100, &warmup)) ||
        (st = jx_long(&c, j, "reps", 0, 1, 1000, &reps)))
        goto out;
    snprintf(b->g->name, sizeof b->g->name, "file %s (%s)", path, name);
    b->g->warmup = (int)warmup;
    b->g->reps = (int)reps;
    if ((st = jx_arr(&c, j, "attention", 0, &arr))) goto out;
    int i = 0;
    for (const cJSON *p = arr ? arr->child : NULL; p; p = p->next, i++) {
        jx_ctx d = jx_elem(&c, "attention", i);
        if ((st = file_attn(&d, p, b))) goto out;
    }
    if ((st = jx_arr(&c, j, "gemm", 0, &arr))) goto out;
    i = 0;
    for (const cJSON *p = arr ? arr->child : NULL; p; p = p->next, i++) {
        jx_ctx d = jx_elem(&c, "gemm", i);
        if ((st = file_gemm(&d, p, b))) goto out;
    }
    if (b->g->nattn + b->g->ngemm == 0)
        st = jx_fail(&c, "attention", "the grid has no points: give attention or gemm entries");
out:
    cJSON_Delete(j);
    return st;
}

/* ---- public ---------------------------------------------------------------------- */

sft_status val_grid_create(const char *spec, val_grid **out, sft_err *e)
{
    builder b = {sft_xcalloc(1, sizeof(val_grid)), 0, 0};
    sft_status st;
    snprintf(b.g->name, sizeof b.g->name, "%s", spec);
    b.g->warmup = 2;
    b.g->reps = 5;
    if (strcmp(spec, "default") == 0 || strcmp(spec, "heldout") == 0) {
        st = build_gpu(&b, spec[0] == 'h', e);
    } else if (strcmp(spec, "small") == 0 || strcmp(spec, "heldout-small") == 0) {
        /* the probe call is the only warm-up (CPU kernels have no lazy setup),
         * and one thread's CPU clock is steady enough for a median of 3 */
        b.g->warmup = 1;
        b.g->reps = 3;
        st = build_cpu(&b, spec[0] == 'h', e);
    } else if (sft_file_exists(spec) || strchr(spec, '/') || strstr(spec, ".json")) {
        st = build_file(&b, spec, e);
    } else {
        st = sft_errf(e, SFT_EINPUT,
                      "--grid %s: valid grids are small, heldout-small, default, heldout, or a "
                      "grid file (validate/README.md)",
                      spec);
    }
    if (st) {
        val_grid_destroy(b.g);
        return st;
    }
    qsort(b.g->attn, b.g->nattn, sizeof *b.g->attn, attn_order);
    *out = b.g;
    return SFT_OK;
}

void val_grid_destroy(val_grid *g)
{
    if (!g) return;
    free(g->attn);
    free(g->gemm);
    free(g);
}
