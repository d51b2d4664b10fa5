/* val_compare.c — `sftsim-validate compare`: predicts every measured point of
 * table B with the cost model calibrated on table A and reports the error per
 * kernel and the MAPE.
 *
 * The prediction goes through the cost model the simulator uses (cost.h) on
 * a pseudo-GPU that is A's device: its peak is A's peak_tflops (so the table
 * is not rescaled) and its launch gap is 0, because both sides are kernel
 * times — a measured point is the kernel alone, and the simulator adds the
 * GPU's launch gap on top of what this compares. The HBM bandwidth (used
 * only by the roofline, for shapes A does not cover) is that of the built-in
 * GPU whose calibration list names A, or of --gpu; without either the
 * memory roofline is off. Errors are in percent: error = 100 (predicted /
 * measured - 1); MAPE = the mean of |error| over the points.
 *
 * Invariants: both files pass cal_parse before anything is predicted (a bad
 * file exits 2 naming the file and field); rows keep B's order; kernels are
 * reported in a fixed order (attention by dir, causal, head_dim; then GEMM).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "models/hw/cost.h"
#include "base/jsonx.h"
#include "validate/val.h"

typedef struct kstat {
    int gemm, bwd, causal, head_dim;
    int n;
    double sum_abs, max_abs, sum;
} kstat;

typedef struct cmp {
    kstat *k;
    size_t nk, kcap;
    cJSON *rows;
    int n;
    double sum_abs, max_abs;
    int rows_text;
} cmp;

static void help(void)
{
    printf("usage: sftsim-validate compare --calibration A --measured B [--gpu NAME|FILE]\n"
           "                               [--format text|json] [--rows]\n\n"
           "Predicts every point of the measured table B (e.g. a held-out grid) with the cost\n"
           "model calibrated on table A, and prints the error per kernel and the MAPE.\n"
           "A and B are calibration tables (built-in names or files). Kernel times are\n"
           "compared without launch gaps: the pseudo-GPU has A's peak and no launch gap.\n\n"
           "  --calibration A  the table the cost model uses\n"
           "  --measured B     the table whose points are predicted\n"
           "  --gpu G          HBM bandwidth for the roofline of shapes A does not cover\n"
           "                   (default: the built-in GPU whose calibration list names A)\n"
           "  --format F       text (default) or json:\n"
           "                   {\"calibration\",\"measured\": {\"name\",\"device\",\"driver\",\n"
           "                   \"date\",\"grid\"}, \"date\",\"mape\",\"shapes\",\"max_error\",\n"
           "                   "
           "\"kernels\":[{\"kernel\",\"shapes\",\"mape\",\"max_error\",\"bias\"}],\n"
           "                   \"rows\":[{\"kernel\",\"shape\",...,\"measured_us\",\n"
           "                   \"predicted_us\",\"error\",\"covered\"}]}\n"
           "  --rows           text: print every point, not only the per-kernel summary\n\n"
           "Errors are in percent: error = 100 x (predicted / measured - 1); MAPE is the\n"
           "mean |error|, bias the mean error. covered = A has points of the kernel (else\n"
           "the roofline predicted it).\n");
}

/* x rounded to 2 decimals, without a negative zero. */
static double r2(double x)
{
    double y = round(x * 100) / 100;
    return y == 0 ? 0 : y;
}

static kstat *kernel_of(cmp *c, int gemm, int bwd, int causal, int hd)
{
    for (size_t i = 0; i < c->nk; i++)
        if (c->k[i].gemm == gemm && c->k[i].bwd == bwd && c->k[i].causal == causal &&
            c->k[i].head_dim == hd)
            return &c->k[i];
    SFT_GROW(c->k, c->kcap, c->nk + 1);
    c->k[c->nk] = (kstat){gemm, bwd, causal, hd, 0, 0, 0, 0};
    return &c->k[c->nk++];
}

static int kernel_order(const void *x, const void *y)
{
    const kstat *a = x, *b = y;
    if (a->gemm != b->gemm) return a->gemm - b->gemm;
    if (a->bwd != b->bwd) return a->bwd - b->bwd;
    if (a->causal != b->causal) return a->causal - b->causal;
    return a->head_dim - b->head_dim;
}

static void kernel_name(const kstat *k, char *buf, size_t n)
{
    if (k->gemm)
        snprintf(buf, n, "gemm");
    else
        val_attn_kernel(k->bwd, k->causal, k->head_dim, buf, n);
}

/* Records one prediction; row is the JSON row with its shape fields, taken. */
static void add_row(cmp *c, kstat *k, cJSON *row, const char *shape, double meas, double pred,
                    int covered)
{
    double err = 100 * (pred / meas - 1);
    char kn[64];
    kernel_name(k, kn, sizeof kn);
    k->n++;
    k->sum_abs += fabs(err);
    k->sum += err;
    k->max_abs = fmax(k->max_abs, fabs(err));
    c->n++;
    c->sum_abs += fabs(err);
    c->max_abs = fmax(c->max_abs, fabs(err));
    cJSON_AddStringToObject(row, "kernel", kn);
    cJSON_AddStringToObject(row, "shape", shape);
    cJSON_AddNumberToObject(row, "measured_us", meas);
    cJSON_AddNumberToObject(row, "predicted_us", round(pred * 1000) / 1000);
    cJSON_AddNumberToObject(row, "error", r2(err));
    cJSON_AddBoolToObject(row, "covered", covered);
    cJSON_AddItemToArray(c->rows, row);
    if (c->rows_text)
        printf("  %-24s %-36s %12.3f %12.3f %+8.2f%s\n", kn, shape, meas, pred, r2(err),
               covered ? "" : "  (roofline)");
}

static double num(const cJSON *o, const char *key)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Predicts every point of b (already validated by cal_parse). */
static void predict(cmp *c, const cost *model, const cal *ta, const cJSON *b)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(b, "attention");
    for (const cJSON *p = arr ? arr->child : NULL; p; p = p->next) {
        val_attn a = {0};
        a.bwd =
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "dir")), "bwd") == 0;
        a.causal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "causal"));
        a.head_dim = (int)num(p, "head_dim");
        a.heads_q = (int)num(p, "heads_q");
        a.heads_kv = (int)num(p, "heads_kv");
        a.batch = (long)num(p, "batch");
        double q = num(p, "q_tokens"), k = num(p, "k_tokens"), us = num(p, "time_us");
        a.len = (long)k;
        cost_heads ar = {a.heads_q, a.heads_kv, a.head_dim, a.heads_q * a.head_dim};
        cost_seq *s = sft_xmalloc((size_t)a.batch * sizeof *s);
        for (long i = 0; i < a.batch; i++) s[i] = (cost_seq){q, k};
        double pred = cost_attn(model, &ar, a.bwd, a.causal, s, (int)a.batch) * 1e6;
        free(s);
        char shape[128];
        if (q == k)
            val_attn_label(&a, shape, sizeof shape);
        else
            snprintf(shape, sizeof shape, "%s %s d%d %d/%d %ldx(%.0f of %.0f)",
                     a.bwd ? "bwd" : "fwd", a.causal ? "causal" : "non-causal", a.head_dim,
                     a.heads_q, a.heads_kv, a.batch, q, k);
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "dir", a.bwd ? "bwd" : "fwd");
        cJSON_AddBoolToObject(row, "causal", a.causal);
        cJSON_AddNumberToObject(row, "head_dim", a.head_dim);
        cJSON_AddNumberToObject(row, "heads_q", a.heads_q);
        cJSON_AddNumberToObject(row, "heads_kv", a.heads_kv);
        cJSON_AddNumberToObject(row, "q_tokens", q);
        cJSON_AddNumberToObject(row, "k_tokens", k);
        cJSON_AddNumberToObject(row, "batch", (double)a.batch);
        add_row(c, kernel_of(c, 0, a.bwd, a.causal, a.head_dim), row, shape, us, pred,
                cal_attn_tput(ta, a.bwd, a.causal, a.head_dim, q, k) > 0);
    }
    arr = cJSON_GetObjectItemCaseSensitive(b, "gemm");
    for (const cJSON *p = arr ? arr->child : NULL; p; p = p->next) {
        double m = num(p, "m"), n = num(p, "n"), k = num(p, "k"), us = num(p, "time_us");
        char shape[128];
        snprintf(shape, sizeof shape, "m=%.0f n=%.0f k=%.0f", m, n, k);
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "m", m);
        cJSON_AddNumberToObject(row, "n", n);
        cJSON_AddNumberToObject(row, "k", k);
        add_row(c, kernel_of(c, 1, 0, 0, 0), row, shape, us, cost_gemm(model, m, n, k) * 1e6,
                cal_gemm_time(ta, m, n, k) > 0);
    }
}

/* The pseudo-GPU of table a (see the file comment). */
static sft_status table_gpu(const cal *a, const char *gpu_arg, hw_gpu *g, sft_err *e)
{
    memset(g, 0, sizeof *g);
    if (gpu_arg) {
        sft_status st = hw_gpu_load(gpu_arg, g, e);
        if (st) return st;
    } else {
        int found = 0;
        for (size_t i = 0; !found && sft_builtin_name("gpus", i); i++) {
            hw_gpu x;
            if (hw_gpu_load(sft_builtin_name("gpus", i), &x, e)) continue;
            for (int j = 0; j < x.ncalibration && !found; j++)
                if (strcmp(x.calibration[j], cal_name(a)) == 0) {
                    *g = x;
                    found = 1;
                }
        }
        sft_err_clear(e);
        if (!found) {
            snprintf(g->name, sizeof g->name, "table device");
            g->hbm_bw = 1e30; /* memory roofline off */
            g->mem_bytes = 1e30;
            g->nvlink_bw = 1e30;
        }
    }
    g->peak_flops = cal_peak(a);
    g->launch_s = 0;
    g->ncalibration = 0;
    return SFT_OK;
}

/* A table's provenance: name, device, driver, date, grid. */
static cJSON *table_json(const cJSON *t)
{
    static const char *const keys[] = {"name", "device", "driver", "date", "grid"};
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, keys[i]));
        cJSON_AddStringToObject(o, keys[i], v ? v : "");
    }
    return o;
}

static void print_table(const char *role, const cJSON *t)
{
    cJSON *o = table_json(t);
    printf("# %-11s '%s': %s; %s; %s; grid %s\n", role,
           cJSON_GetStringValue(cJSON_GetObjectItem(o, "name")),
           cJSON_GetStringValue(cJSON_GetObjectItem(o, "device")),
           cJSON_GetStringValue(cJSON_GetObjectItem(o, "driver")),
           cJSON_GetStringValue(cJSON_GetObjectItem(o, "date")),
           cJSON_GetStringValue(cJSON_GetObjectItem(o, "grid")));
    cJSON_Delete(o);
}

static void print_summary(const cmp *c, const cJSON *ja, const cJSON *jb)
{
    printf("# sftsim-validate compare: the cost model on the calibration table predicts the "
           "measured one\n");
    print_table("calibration", ja);
    print_table("measured", jb);
    printf("# kernel times without launch gaps; error = predicted / measured - 1\n");
    printf("# %-24s %7s %9s %12s %9s\n", "kernel", "shapes", "MAPE(%)", "max|err|(%)", "bias(%)");
    for (size_t i = 0; i < c->nk; i++) {
        char kn[64];
        kernel_name(&c->k[i], kn, sizeof kn);
        printf("  %-24s %7d %9.2f %12.2f %+9.2f\n", kn, c->k[i].n, c->k[i].sum_abs / c->k[i].n,
               c->k[i].max_abs, r2(c->k[i].sum / c->k[i].n));
    }
    printf("  %-24s %7d %9.2f %12.2f\n", "all", c->n, c->n ? c->sum_abs / c->n : 0, c->max_abs);
}

static cJSON *summary_json(cmp *c, const cJSON *ja, const cJSON *jb)
{
    char date[32];
    val_utc_now(date, sizeof date);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "calibration", table_json(ja));
    cJSON_AddItemToObject(j, "measured", table_json(jb));
    cJSON_AddStringToObject(j, "date", date);
    cJSON_AddNumberToObject(j, "mape", c->n ? r2(c->sum_abs / c->n) : 0);
    cJSON_AddNumberToObject(j, "shapes", c->n);
    cJSON_AddNumberToObject(j, "max_error", r2(c->max_abs));
    cJSON *ks = cJSON_AddArrayToObject(j, "kernels");
    for (size_t i = 0; i < c->nk; i++) {
        const kstat *k = &c->k[i];
        char kn[64];
        kernel_name(k, kn, sizeof kn);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kernel", kn);
        cJSON_AddNumberToObject(o, "shapes", k->n);
        cJSON_AddNumberToObject(o, "mape", r2(k->sum_abs / k->n));
        cJSON_AddNumberToObject(o, "max_error", r2(k->max_abs));
        cJSON_AddNumberToObject(o, "bias", r2(k->sum / k->n));
        cJSON_AddItemToArray(ks, o);
    }
    cJSON_AddItemToObject(j, "rows", c->rows);
    c->rows = NULL;
    return j;
}

/* Loads a table (built-in name or file): validated by cal_parse into *t, and
 * its JSON into *j for what the cal API does not expose. Creates both. */
static sft_status load_table(const char *arg, cal **t, cJSON **j, sft_err *e)
{
    char *text = NULL, *origin = NULL;
    sft_status st = sft_resolve_data("calibration", arg, &text, &origin, e);
    if (!st) st = cal_parse(text, origin, t, e);
    if (!st) st = jx_parse(text, origin, j, e);
    free(text);
    free(origin);
    return st;
}

int val_compare(int argc, char **argv)
{
    static const struct option lo[] = {{"calibration", required_argument, 0, 'a'},
                                       {"measured", required_argument, 0, 'b'},
                                       {"gpu", required_argument, 0, 'g'},
                                       {"format", required_argument, 0, 'f'},
                                       {"rows", no_argument, 0, 'r'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *pa = NULL, *pb = NULL, *gpu = NULL;
    scen_format fmt = SCEN_TEXT;
    int rows = 0, ch;
    sft_err e = {0};
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 'a':
            pa = optarg;
            break;
        case 'b':
            pb = optarg;
            break;
        case 'g':
            gpu = optarg;
            break;
        case 'f':
            if (scen_parse_format(optarg, 0, &fmt, &e)) return val_report(&e);
            break;
        case 'r':
            rows = 1;
            break;
        case 'h':
            help();
            return 0;
        default:
            return val_usage_error("compare", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc) return val_usage_error("compare", "unexpected argument '%s'", argv[optind]);
    if (!pa || !pb)
        return val_usage_error("compare", "--calibration A and --measured B are required");

    cal *ta = NULL, *tb = NULL;
    cost *model = NULL;
    cJSON *ja = NULL, *jb = NULL;
    hw_gpu g;
    cmp c = {0};
    sft_status st;
    if ((st = load_table(pa, &ta, &ja, &e)) || (st = load_table(pb, &tb, &jb, &e)) ||
        (st = table_gpu(ta, gpu, &g, &e)) || (st = cost_create(&g, pa, &model, &e)))
        goto out;
    c.rows = cJSON_CreateArray();
    c.rows_text = rows && fmt != SCEN_JSON;
    if (c.rows_text)
        printf("# %-24s %-36s %12s %12s %8s\n", "kernel", "shape", "measured_us", "predicted_us",
               "error(%)");
    predict(&c, model, ta, jb);
    qsort(c.k, c.nk, sizeof *c.k, kernel_order);
    if (fmt == SCEN_JSON)
        cli_print_json(summary_json(&c, ja, jb));
    else
        print_summary(&c, ja, jb);
out:
    cJSON_Delete(c.rows);
    free(c.k);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    cost_destroy(model);
    cal_destroy(ta);
    cal_destroy(tb);
    return st ? val_report(&e) : 0;
}
