/* sweep_out.c — writes a sweep's rows as JSON, CSV, HDF5 and plots, and
 * splits its comma lists (sweep_out.h).
 * Column order is fixed: point, the swept options, then the result fields;
 * numbers print with 9 significant digits (17 in the JSON), so equal rows
 * give equal bytes. A list that splits is non-empty, has no blank or
 * repeated item, and joins back with commas into exactly the text given. */
#include "lab/sweep_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/h5x.h"
#include "reports/sweepplot.h"
#include "lab/scen_values.h"

static const char *const result_cols[] = {"policy",
                                          "status",
                                          "mean_step_time_s",
                                          "speedup_vs_deepspeed",
                                          "mfu",
                                          "oom",
                                          "peak_mem_bytes_min",
                                          "peak_mem_bytes_max",
                                          "bucket",
                                          "reason",
                                          NULL};

static void csv_value(FILE *f, const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        fprintf(f, "%.9g", v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        fputs(cJSON_IsTrue(v) ? "true" : "false", f);
    } else if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (strpbrk(s, ",\"\n")) {
            fputc('"', f);
            for (; *s; s++) {
                if (*s == '"') fputc('"', f);
                fputc(*s == '\n' ? ' ' : *s, f);
            }
            fputc('"', f);
        } else {
            fputs(s, f);
        }
    }
}

static sft_status write_csv(const char *path, const cJSON *pts, const char *const *swept, int ns,
                            sft_err *e)
{
    sft_ofile *of = sft_ofile_open(path, e);
    if (!of) return e->status;
    FILE *f = sft_ofile_fp(of);
    fputs("point", f);
    for (int k = 0; k < ns; k++) fprintf(f, ",%s", swept[k]);
    for (int k = 0; result_cols[k]; k++) fprintf(f, ",%s", result_cols[k]);
    fputc('\n', f);
    for (const cJSON *r = pts->child; r; r = r->next) {
        csv_value(f, cJSON_GetObjectItem(r, "point"));
        for (int k = 0; k < ns; k++) {
            fputc(',', f);
            csv_value(f, cJSON_GetObjectItem(r, swept[k]));
        }
        for (int k = 0; result_cols[k]; k++) {
            fputc(',', f);
            csv_value(f, cJSON_GetObjectItem(r, result_cols[k]));
        }
        fputc('\n', f);
    }
    return sft_ofile_commit(of, e);
}

/* sweep.h5: one table /sweep, the CSV's columns (swept options as strings,
 * a missing speedup as NaN). */
#define H5_OPT_LEN    64
#define H5_REASON_LEN 256

static void put_str(char *dst, size_t n, const cJSON *v)
{
    char tmp[64];
    const char *s = "";
    if (cJSON_IsString(v))
        s = v->valuestring;
    else if (cJSON_IsNumber(v)) {
        snprintf(tmp, sizeof tmp, "%.9g", v->valuedouble);
        s = tmp;
    }
    snprintf(dst, n, "%s", s);
}

static double put_num(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static sft_status write_h5(const char *path, const cJSON *pts, const char *const *swept, int ns,
                           sft_err *e)
{
    enum { NFIXED = 11 };
    h5x_col cols[NFIXED + 32];
    size_t off = 0;
    int nc = 0;
    cols[nc++] = (h5x_col){"point", H5X_I32, off, 0};
    off += 4;
    for (int k = 0; k < ns && k < 32; k++) {
        cols[nc++] = (h5x_col){swept[k], H5X_STR, off, H5_OPT_LEN};
        off += H5_OPT_LEN;
    }
    size_t o_pol = off, o_st = off + 32, o_t = o_st + 16;
    cols[nc++] = (h5x_col){"policy", H5X_STR, o_pol, 32};
    cols[nc++] = (h5x_col){"status", H5X_STR, o_st, 16};
    static const char *const nums[] = {"mean_step_time_s",   "speedup_vs_deepspeed", "mfu",
                                       "peak_mem_bytes_min", "peak_mem_bytes_max",   "bucket"};
    for (int k = 0; k < 6; k++) cols[nc++] = (h5x_col){nums[k], H5X_F64, o_t + 8 * (size_t)k, 0};
    size_t o_oom = o_t + 48, o_reason = o_oom + 1;
    cols[nc++] = (h5x_col){"oom", H5X_U8, o_oom, 0};
    cols[nc++] = (h5x_col){"reason", H5X_STR, o_reason, H5_REASON_LEN};
    size_t rowsize = o_reason + H5_REASON_LEN;
    int n = cJSON_GetArraySize(pts);
    unsigned char *rows = sft_xcalloc((size_t)n + 1, rowsize);
    int i = 0;
    for (const cJSON *r = pts->child; r; r = r->next, i++) {
        unsigned char *row = rows + (size_t)i * rowsize;
        int32_t p = (int32_t)put_num(cJSON_GetObjectItem(r, "point"));
        memcpy(row, &p, 4);
        for (int k = 0; k < ns && k < 32; k++)
            put_str((char *)row + cols[1 + k].offset, H5_OPT_LEN, cJSON_GetObjectItem(r, swept[k]));
        put_str((char *)row + o_pol, 32, cJSON_GetObjectItem(r, "policy"));
        put_str((char *)row + o_st, 16, cJSON_GetObjectItem(r, "status"));
        for (int k = 0; k < 6; k++) {
            double v = put_num(cJSON_GetObjectItem(r, nums[k]));
            memcpy(row + o_t + 8 * (size_t)k, &v, 8);
        }
        row[o_oom] = (unsigned char)cJSON_IsTrue(cJSON_GetObjectItem(r, "oom"));
        put_str((char *)row + o_reason, H5_REASON_LEN, cJSON_GetObjectItem(r, "reason"));
    }
    sft_status st = SFT_OK;
    h5x_file *f = h5x_create(path, e);
    if (!f) {
        free(rows);
        return e->status;
    }
    h5x_table *t = h5x_table_create(f, h5x_root(f), "sweep",
                                    "sftsim sweep: one row per point "
                                    "and policy",
                                    cols, nc, rowsize, 1024, e);
    if (!t) st = e->status;
    if (!st && n) st = h5x_table_append(t, rows, (size_t)n, e);
    if (t) {
        sft_status cst = h5x_table_close(t, e);
        if (!st) st = cst;
    }
    if (!st) st = h5x_attr_int(f, h5x_root(f), "schema", 1, e);
    if (!st) st = h5x_attr_str(f, h5x_root(f), "units", "times in s, memory in bytes", e);
    if (st)
        h5x_abort(f);
    else
        st = h5x_commit(f, e);
    free(rows);
    return st;
}

sft_status sweep_write(const char *dir, const cJSON *doc, const char *const *swept, int nswept,
                       sft_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    char *text = cJSON_Print(doc);
    sft_status st = sft_write_file(path, text, strlen(text), e);
    free(text);
    if (st) return st;
    const cJSON *pts = cJSON_GetObjectItem(doc, "points");
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    if ((st = write_csv(path, pts, swept, nswept, e))) return st;
    snprintf(path, sizeof path, "%s/sweep.h5", dir);
    if ((st = write_h5(path, pts, swept, nswept, e))) return st;
    char png[4096], svg[4096];
    snprintf(png, sizeof png, "%s/sweep.png", dir);
    snprintf(svg, sizeof svg, "%s/sweep.svg", dir);
    return rep_sweep_plot(png, svg, pts, swept, nswept, e);
}

/* ---- sweep lists ---------------------------------------------------------- */

sft_status sweep_value_check(const char *opt, const char *v, sft_err *e)
{
    char why[256];
    if (scen_value_bad(opt, v, why, sizeof why)) return sft_errf(e, SFT_EINPUT, "%s", why);
    return SFT_OK;
}

/* Names the option, the list and, when there are several, the item before
 * the reason. */
static sft_status bad_item(const char *opt, const char *list, int nitems, int k, const char *item,
                           const char *why, sft_err *e)
{
    if (nitems > 1)
        return sft_errf(e, SFT_EINPUT, "--%s '%.200s': item %d '%.200s': %s", opt, list, k + 1,
                        item, why);
    return sft_errf(e, SFT_EINPUT, "--%s '%.200s': %s", opt, list, why);
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

sft_status sweep_list_split(const char *opt, const char *list, sweep_list *out, sft_err *e)
{
    memset(out, 0, sizeof *out);
    if (!sft_utf8_valid(list, strlen(list)) || has_control(list))
        return sft_errf(e, SFT_EINPUT,
                        "--%s: its value is not UTF-8 text without control characters", opt);
    if (!list[0])
        return sft_errf(e, SFT_EINPUT,
                        "--%s '': no value (give one, or several separated by commas)", opt);
    int nitems = 1;
    for (const char *c = list; *c; c++) nitems += *c == ',';
    if (nitems > SWEEP_MAX_VALUES)
        return sft_errf(e, SFT_EINPUT, "--%s '%.200s%s': %d values, at most %d", opt, list,
                        strlen(list) > 200 ? "..." : "", nitems, SWEEP_MAX_VALUES);
    sweep_list l = {sft_xstrdup(list), {NULL}, 0};
    for (char *t = l.buf;; t++) {
        char *end = strchr(t, ',');
        if (end) *end = '\0';
        l.item[l.n++] = t;
        if (!end) break;
        t = end;
    }
    sft_status st = SFT_OK;
    for (int k = 0; k < l.n && !st; k++) {
        const char *it = l.item[k];
        if (!it[0]) {
            st = sft_errf(e, SFT_EINPUT,
                          "--%s '%.200s': item %d is empty (separate values by single commas, "
                          "none before the first or after the last)",
                          opt, list, k + 1);
            break;
        }
        for (int j = 0; j < k && !st; j++)
            if (strcmp(l.item[j], it) == 0) {
                char why[64];
                snprintf(why, sizeof why, "repeats item %d (give each value once)", j + 1);
                st = bad_item(opt, list, l.n, k, it, why, e);
            }
        sft_err r = {0};
        if (!st && sweep_value_check(opt, it, &r)) st = bad_item(opt, list, l.n, k, it, r.msg, e);
    }
    if (st) {
        free(l.buf);
        return st;
    }
    *out = l;
    return SFT_OK;
}

void sweep_list_free(sweep_list *l)
{
    free(l->buf);
    memset(l, 0, sizeof *l);
}
