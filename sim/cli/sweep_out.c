/* sweep_out.c — writes a sweep's rows as JSON and CSV (sweep_out.h).
 * Column order is fixed: point, the swept options, then the result fields;
 * numbers print with 9 significant digits (17 in the JSON), so equal rows
 * give equal bytes. */
#include "sim/cli/sweep_out.h"

#include <stdlib.h>
#include <string.h>

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

sft_status sweep_write(const char *dir, const cJSON *doc, const char *const *swept, int nswept,
                       sft_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    char *text = cJSON_Print(doc);
    sft_status st = sft_write_file(path, text, strlen(text), e);
    free(text);
    if (st) return st;
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    return write_csv(path, cJSON_GetObjectItem(doc, "points"), swept, nswept, e);
}
