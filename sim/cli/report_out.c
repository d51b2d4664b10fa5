/* report_out.c — the files of --out DIR (report_out.h). */
#include "sim/cli/report_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sft_status rout_run(const char *dir, const scenario *s, const char *policy, const scen_result *r,
                    const cJSON *summary, sft_err *e)
{
    (void)s;
    (void)policy;
    (void)r;
    sft_status st = sft_mkdir(dir, e);
    if (st) return st;
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *text = cJSON_Print(summary);
    st = sft_write_file(path, text, strlen(text), e);
    free(text);
    return st;
}

sft_status rout_compare(const char *dir, const scenario *s, const char *const *policies, int n,
                        scen_result *const *res, const cJSON *summary, sft_err *e)
{
    (void)policies;
    (void)n;
    (void)res;
    return rout_run(dir, s, "compare", NULL, summary, e);
}
