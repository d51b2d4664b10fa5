/* cli_list.c — `sftsim list clusters|gpus|models|datasets|policies`: what is
 * built in, one line each (or JSON). Files given by path work everywhere a
 * name does; this lists the names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "models/sched/sched.h"
#include "sim/cluster.h"
#include "base/jsonx.h"

static void help(void)
{
    printf("usage: sftsim list clusters|gpus|models|datasets|policies [--format text|json]\n\n"
           "Lists the built-in presets of one kind. Any option that takes a NAME also\n"
           "takes a JSON file of the same schema.\n");
}

/* Reads name and description of a built-in JSON document. */
static void describe(const char *kind, const char *name, char *desc, size_t n)
{
    size_t len;
    const char *text = sft_builtin(kind, name, &len);
    cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *d = j ? cJSON_GetObjectItemCaseSensitive(j, "description") : NULL;
    snprintf(desc, n, "%s", cJSON_IsString(d) ? d->valuestring : "");
    cJSON_Delete(j);
}

int cli_list(int argc, char **argv)
{
    const char *what = NULL;
    scen_format fmt = SCEN_TEXT;
    sft_err e = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 0;
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            if (scen_parse_format(argv[++i], 0, &fmt, &e)) return cli_report(&e);
        } else if (strncmp(argv[i], "--format=", 9) == 0) {
            if (scen_parse_format(argv[i] + 9, 0, &fmt, &e)) return cli_report(&e);
        } else if (argv[i][0] == '-') {
            return cli_usage_error("list", "unknown option '%s'", argv[i]);
        } else if (!what) {
            what = argv[i];
        } else {
            return cli_usage_error("list", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!what)
        return cli_usage_error("list",
                               "say what to list: clusters, gpus, models, datasets or policies");
    const char *kind = NULL;
    if (strcmp(what, "clusters") == 0 || strcmp(what, "gpus") == 0 || strcmp(what, "models") == 0 ||
        strcmp(what, "datasets") == 0)
        kind = what;
    else if (strcmp(what, "policies") != 0)
        return cli_usage_error(
            "list", "'%s': valid kinds are clusters, gpus, models, datasets, policies", what);

    cJSON *arr = cJSON_CreateArray();
    if (!kind) {
        int n;
        const sched_policy *p = sched_policies(&n);
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", p[i].name);
            cJSON_AddStringToObject(o, "description", p[i].summary);
            cJSON_AddItemToArray(arr, o);
        }
    } else {
        for (size_t i = 0; sft_builtin_name(kind, i); i++) {
            const char *name = sft_builtin_name(kind, i);
            char desc[256];
            describe(kind, name, desc, sizeof desc);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", name);
            cJSON_AddStringToObject(o, "description", desc);
            if (strcmp(kind, "clusters") == 0) {
                clu_desc c;
                if (clu_load(name, &c, &e)) {
                    cJSON_Delete(o);
                    cJSON_Delete(arr);
                    return cli_report(&e);
                }
                cJSON_AddNumberToObject(o, "gpus", clu_ngpus(&c));
                cJSON_AddStringToObject(o, "gpu", c.gpu.name);
            } else if (strcmp(kind, "gpus") == 0) {
                hw_gpu g;
                if (hw_gpu_load(name, &g, &e)) {
                    cJSON_Delete(o);
                    cJSON_Delete(arr);
                    return cli_report(&e);
                }
                cJSON_AddNumberToObject(o, "bf16_tflops", g.peak_flops / 1e12);
                cJSON_AddNumberToObject(o, "hbm_gbps", g.hbm_bw / 1e9);
                cJSON_AddNumberToObject(o, "memory_gib", g.mem_bytes / 1073741824.0);
            }
            cJSON_AddItemToArray(arr, o);
        }
    }
    if (fmt == SCEN_JSON) {
        cli_print_json(arr);
        return 0;
    }
    int n = cJSON_GetArraySize(arr);
    if (n == 0) fprintf(stderr, "sftsim list: no %s built into this build yet\n", what);
    for (const cJSON *o = arr->child; o; o = o->next) {
        const char *name = cJSON_GetObjectItem(o, "name")->valuestring;
        const char *desc = cJSON_GetObjectItem(o, "description")->valuestring;
        const cJSON *gp = cJSON_GetObjectItem(o, "gpus");
        const cJSON *tf = cJSON_GetObjectItem(o, "bf16_tflops");
        if (gp)
            printf("%-16s %5d GPUs  %s\n", name, gp->valueint, desc);
        else if (tf)
            printf("%-16s %6.0f TFLOPS %6.0f GB/s %5.1f GiB  %s\n", name, tf->valuedouble,
                   cJSON_GetObjectItem(o, "hbm_gbps")->valuedouble,
                   cJSON_GetObjectItem(o, "memory_gib")->valuedouble, desc);
        else
            printf("%-16s %s\n", name, desc);
    }
    cJSON_Delete(arr);
    return 0;
}
