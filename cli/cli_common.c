/* cli_common.c — messages, options and JSON printing shared by the
 * subcommands of sftsim and of sftsim-validate (cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_report_as(const char *name, const sft_err *e)
{
    fprintf(stderr, "%s: %s\n", name, e->msg[0] ? e->msg : "error");
    return e->status ? (int)e->status : 1;
}

static int usage_verror(const char *name, const char *sub, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s %s: ", name, sub);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see %s %s --help)\n", name, sub);
    return SFT_EINPUT;
}

int cli_usage_error_as(const char *name, const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = usage_verror(name, sub, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_report(const sft_err *e)
{
    return cli_report_as("sftsim", e);
}

int cli_usage_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = usage_verror("sftsim", sub, fmt, ap);
    va_end(ap);
    return rc;
}

void cli_print_json(cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    cJSON_Delete(j);
}

char *cli_short_jobs(char *arg, char **buf)
{
    if (strcmp(arg, "-j") == 0) return "--jobs";
    if (strncmp(arg, "-j", 2) == 0 && arg[2] >= '0' && arg[2] <= '9') {
        size_t n = strlen(arg) + 8;
        *buf = sft_xmalloc(n);
        snprintf(*buf, n, "--jobs=%s", arg + 2);
        return *buf;
    }
    return arg;
}

/* The array holds the arguments, a NULL, then the strings it made and
 * another NULL: freeing needs no count, and getopt permutes only the
 * first part. */
char **cli_jobs_argv(int argc, char **argv, int drop, int *ac)
{
    char **av = sft_xcalloc(2 * (size_t)argc + 2, sizeof *av);
    char **made = av + argc + 1;
    int n = 0, k = 0;
    if (argc > 0) av[n++] = argv[0];
    for (int i = drop + 1; i < argc; i++) {
        char *buf = NULL;
        av[n++] = cli_short_jobs(argv[i], &buf);
        if (buf) made[k++] = buf;
    }
    *ac = n;
    return av;
}

void cli_jobs_argv_free(char **av)
{
    if (!av) return;
    char **p = av;
    while (*p) p++;
    for (p++; *p; p++) free(*p);
    free(av);
}

long cli_default_jobs(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return ncpu > 0 ? ncpu : 1;
}

int cli_scenario(int argc, char **argv, const char *cmd, void (*help)(void), scen_opts *o,
                 scenario *s, int *rc)
{
    sft_err e = {0};
    sft_status st = scen_parse(argc, argv, cmd, o, NULL, NULL, help, &e);
    if (!st && o->helped) {
        *rc = 0;
        return 1;
    }
    if (st || scen_prepare(o, s, &e)) {
        *rc = cli_report(&e);
        return 1;
    }
    return 0;
}

sft_status cli_parse_jobs(const char *arg, long *jobs, sft_err *e)
{
    if (sft_parse_long(arg, 1, 1024, jobs) != 0)
        return sft_errf(e, SFT_EINPUT, "-j %s: expected a worker count in [1, 1024]", arg);
    return SFT_OK;
}

sft_status cli_parse_list(const char *opt, const char *list, char **buf, const char ***items,
                          int *n, sft_err *e)
{
    int max = 1;
    for (const char *c = list; *c; c++) max += *c == ',';
    *buf = sft_xstrdup(list);
    *items = sft_xcalloc((size_t)max, sizeof **items);
    *n = 0;
    /* every item counts, empty ones too: "a,,b", "a," and "" are mistakes */
    for (char *t = *buf;;) {
        char *comma = strchr(t, ',');
        if (comma) *comma = '\0';
        if (!*t)
            return sft_errf(e, SFT_EINPUT, "%s '%s': empty item in the list (give a,b,...)", opt,
                            list);
        (*items)[(*n)++] = t;
        if (!comma) return SFT_OK;
        t = comma + 1;
    }
}
