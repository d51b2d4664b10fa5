/* val_common.c — messages, options and times shared by the subcommands of
 * `sftsim-validate` (val.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "validate/val.h"

int val_report(const sft_err *e)
{
    fprintf(stderr, "sftsim-validate: %s\n", e->msg[0] ? e->msg : "error");
    return e->status ? (int)e->status : 1;
}

int val_usage_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sftsim-validate %s: ", sub);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see sftsim-validate %s --help)\n", sub);
    va_end(ap);
    return SFT_EINPUT;
}

sft_status val_parse_format(const char *v, int *json, sft_err *e)
{
    if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0) {
        *json = v[0] == 'j';
        return SFT_OK;
    }
    return sft_errf(e, SFT_EINPUT, "--format %s: valid formats are text, json", v);
}

void val_utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void val_print_json(cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    cJSON_Delete(j);
}
