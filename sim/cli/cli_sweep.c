/* cli_sweep.c — `sftsim sweep`: what-if grids over any scenario option.
 *
 * Every scenario option may be a comma list; the grid is their cartesian
 * product (options in the order of `sftsim run --help`, the first listed
 * varying slowest), each point run under every policy of --policies. Points
 * run in parallel worker processes (-j) and across MPI ranks under mpirun.
 * With --out DIR, sweep.json (the JSON contract), sweep.csv, sweep.h5 and the
 * plots are rewritten (under temporary names, then renamed) each time the
 * next point in order completes: a killed sweep keeps every point written,
 * and --resume runs only the points missing from DIR/sweep.json. Wall-clock
 * figures stay out of the files so that any worker count, rank count or
 * resumption gives the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/sched/sched.h"
#include "sim/cli/pool.h"
#include "sim/cli/scenario.h"
#include "sim/cli/sweep_out.h"
#include "sim/jsonx.h"

typedef struct sw_ctx {
    const char *policies;
    long jobs;
    int resume;
    /* the grid */
    int nvar, var[SO_NOPTS];
    char *lists[SO_NOPTS];
    const char *vals[SO_NOPTS][64];
    int nvals[SO_NOPTS];
    /* results, in point order */
    cJSON *points; /* array of rows */
    const char *out;
    int nrows_written;
} sw_ctx;

static int set_policies(void *ctx, const char *arg, sft_err *e)
{
    (void)e;
    ((sw_ctx *)ctx)->policies = arg;
    return 0;
}

static int set_jobs(void *ctx, const char *arg, sft_err *e)
{
    return cli_parse_jobs(arg, &((sw_ctx *)ctx)->jobs, e);
}

static int set_resume(void *ctx, const char *arg, sft_err *e)
{
    (void)arg;
    (void)e;
    ((sw_ctx *)ctx)->resume = 1;
    return 0;
}

static void help(void)
{
    printf("usage: sftsim sweep [-j N] [--resume] [--policies a,b] [--out DIR] [options]\n\n"
           "Runs the grid of every combination of comma-listed scenario options (e.g.\n"
           "--gpus 8,16,32 --cp 4,8 --dataset wikipedia,chatqa2) under each policy\n"
           "(default deepspeed,skrull) and prints one row per point and policy. Points that\n"
           "cannot run (impossible degrees, a sequence that cannot fit) or run out of\n"
           "memory are rows with a status and a reason, not failures of the sweep.\n\n"
           "  -j N, --jobs N   worker processes (default: the core count); under mpirun the\n"
           "                   points are dealt to the ranks, rank 0 writes the files\n"
           "  --out DIR        sweep.json, sweep.csv, sweep.h5, sweep.png and sweep.svg,\n"
           "                   rewritten as points complete (in point order)\n"
           "  --resume         skip the points DIR/sweep.json already holds\n\n");
    scen_help();
}

static int is_number(const char *s)
{
    double d;
    return sft_parse_double(s, &d) == 0;
}

/* The row fields of point p: its index, key and the swept values. */
static void point_fields(const sw_ctx *x, int p, cJSON *row, char *key, size_t keylen)
{
    int rem = p;
    int idx[SO_NOPTS];
    for (int k = x->nvar - 1; k >= 0; k--) {
        int o = x->var[k];
        idx[k] = rem % x->nvals[o];
        rem /= x->nvals[o];
    }
    size_t off = 0;
    key[0] = '\0';
    cJSON_AddNumberToObject(row, "point", p);
    for (int k = 0; k < x->nvar; k++) {
        int o = x->var[k];
        const char *v = x->vals[o][idx[k]];
        off += (size_t)snprintf(key + off, off < keylen ? keylen - off : 0, "%s%s=%s", k ? "," : "",
                                scen_opt_name(o), v);
    }
    cJSON_AddStringToObject(row, "key", key);
    for (int k = 0; k < x->nvar; k++) {
        int o = x->var[k];
        const char *v = x->vals[o][idx[k]];
        if (is_number(v))
            cJSON_AddNumberToObject(row, scen_opt_name(o), atof(v));
        else
            cJSON_AddStringToObject(row, scen_opt_name(o), v);
    }
}

static sft_status write_outputs(sw_ctx *x, sft_err *e)
{
    if (!x->out) return SFT_OK;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(doc, "points", x->points);
    const char *swept[SO_NOPTS];
    for (int k = 0; k < x->nvar; k++) swept[k] = scen_opt_name(x->var[k]);
    sft_status st = sweep_write(x->out, doc, swept, x->nvar, e);
    cJSON_Delete(doc);
    return st;
}

static int on_point(void *ctx, int p, const cJSON *rows, sft_err *e)
{
    sw_ctx *x = ctx;
    char key[1024];
    for (const cJSON *r = rows->child; r; r = r->next) {
        cJSON *row = cJSON_CreateObject();
        point_fields(x, p, row, key, sizeof key);
        for (const cJSON *f = r->child; f; f = f->next)
            cJSON_AddItemToObject(row, f->string, cJSON_Duplicate(f, 1));
        cJSON_AddItemToArray(x->points, row);
    }
    /* keep rows in point order (resumed points may sit before this one) */
    int n = cJSON_GetArraySize(x->points);
    for (int i = n - 1; i > 0; i--) {
        cJSON *a = cJSON_GetArrayItem(x->points, i - 1), *b = cJSON_GetArrayItem(x->points, i);
        if (cJSON_GetObjectItem(a, "point")->valueint <= cJSON_GetObjectItem(b, "point")->valueint)
            break;
        cJSON_DetachItemViaPointer(x->points, b);
        cJSON_InsertItemInArray(x->points, i - 1, b);
    }
    return write_outputs(x, e);
}

/* Reads DIR/sweep.json of an earlier run of the same grid: marks its points
 * done and keeps their rows. */
static sft_status load_previous(sw_ctx *x, int n, unsigned char *skip, sft_err *e)
{
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/sweep.json", x->out);
    if (!sft_file_exists(path)) return SFT_OK;
    sft_status st = sft_read_file(path, &text, NULL, e);
    if (st) return st;
    cJSON *doc = NULL;
    st = jx_parse(text, path, &doc, e);
    free(text);
    if (st) return st;
    const cJSON *pts = cJSON_GetObjectItem(doc, "points");
    if (!cJSON_IsArray(pts)) {
        cJSON_Delete(doc);
        return sft_errf(e, SFT_EINPUT, "%s: field 'points': expected an array", path);
    }
    char key[1024];
    int i = 0;
    for (const cJSON *r = pts->child; r; r = r->next, i++) {
        const cJSON *p = cJSON_GetObjectItem(r, "point"), *k = cJSON_GetObjectItem(r, "key");
        if (!cJSON_IsNumber(p) || !cJSON_IsString(k) || p->valueint < 0 || p->valueint >= n) {
            cJSON_Delete(doc);
            return sft_errf(e, SFT_EINPUT,
                            "%s: points[%d]: no valid 'point' and 'key' for this grid of %d "
                            "points: not the same sweep (use another --out)",
                            path, i, n);
        }
        cJSON *probe = cJSON_CreateObject();
        point_fields(x, p->valueint, probe, key, sizeof key);
        cJSON_Delete(probe);
        if (strcmp(key, k->valuestring) != 0) {
            st = sft_errf(e, SFT_EINPUT,
                          "%s: point %d is '%s' but this grid's point %d is '%s': not the same "
                          "sweep (use another --out)",
                          path, p->valueint, k->valuestring, p->valueint, key);
            cJSON_Delete(doc);
            return st;
        }
        skip[p->valueint] = 1;
        cJSON_AddItemToArray(x->points, cJSON_Duplicate(r, 1));
    }
    cJSON_Delete(doc);
    return SFT_OK;
}

static void print_table(const sw_ctx *x)
{
    printf("%-6s %-40s %-10s %-10s %10s %8s %6s %s\n", "point", "options", "policy", "status",
           "step(s)", "speedup", "MFU", "reason");
    for (const cJSON *r = x->points->child; r; r = r->next) {
        const cJSON *t = cJSON_GetObjectItem(r, "mean_step_time_s");
        const cJSON *sp = cJSON_GetObjectItem(r, "speedup_vs_deepspeed");
        const cJSON *mfu = cJSON_GetObjectItem(r, "mfu");
        char ts[32] = "-", ss[32] = "-", ms[32] = "-";
        if (cJSON_IsNumber(t)) snprintf(ts, sizeof ts, "%.4f", t->valuedouble);
        if (cJSON_IsNumber(sp)) snprintf(ss, sizeof ss, "%.2fx", sp->valuedouble);
        if (cJSON_IsNumber(mfu)) snprintf(ms, sizeof ms, "%.1f%%", 100 * mfu->valuedouble);
        printf("%-6d %-40s %-10s %-10s %10s %8s %6s %s\n",
               cJSON_GetObjectItem(r, "point")->valueint,
               cJSON_GetObjectItem(r, "key")->valuestring,
               cJSON_GetObjectItem(r, "policy")->valuestring,
               cJSON_GetObjectItem(r, "status")->valuestring, ts, ss, ms,
               cJSON_GetObjectItem(r, "reason")->valuestring);
    }
}

int cli_sweep(int argc, char **argv)
{
    static const scen_extra extra[] = {{"policies", 1, set_policies},
                                       {"jobs", 1, set_jobs},
                                       {"resume", 0, set_resume},
                                       {NULL, 0, NULL}};
    sw_ctx x = {0};
    x.policies = "deepspeed,skrull";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    x.jobs = ncpu > 0 ? ncpu : 1;
    /* -j N is the short form of --jobs N */
    char **av = sft_xcalloc((size_t)argc + 1, sizeof *av);
    char **jbuf = sft_xcalloc((size_t)argc + 1, sizeof *jbuf);
    for (int i = 0; i < argc; i++) av[i] = cli_short_jobs(argv[i], &jbuf[i]);
    pool_mpi_init(&argc, &argv);
    scen_opts o;
    sft_err e = {0};
    int rc = scen_parse(argc, av, "sweep", &o, extra, &x, help, &e);
    free(av);
    for (int i = 0; i < argc; i++) free(jbuf[i]);
    free(jbuf);
    if (rc < 0) {
        pool_mpi_finalize();
        return 0;
    }
    char *pbuf = NULL;
    const char *pol[16];
    int np = 0, n = 1;
    unsigned char *skip = NULL;
    pool_point *pts = NULL;
    int root = 1;
    if (rc) goto fail;
    np = cli_split_list(x.policies, &pbuf, pol, 16);
    for (int i = 0; i < np && !rc; i++)
        if (!sched_find(pol[i])) rc = sched_unknown(pol[i], &e);
    if (!np && !rc) rc = sft_errf(&e, SFT_EINPUT, "--policies: give at least one policy");
    if (x.resume && !o.out && !rc)
        rc = sft_errf(&e, SFT_EINPUT, "--resume needs --out DIR (where the earlier run wrote)");
    if (rc) goto fail;
    for (int i = 0; i < SO_NOPTS; i++) {
        if (!o.v[i] || !strchr(o.v[i], ',')) continue;
        x.var[x.nvar++] = i;
        x.lists[i] = sft_xstrdup(o.v[i]);
        char *save = NULL;
        for (char *t = strtok_r(x.lists[i], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (x.nvals[i] == 64) {
                rc = sft_errf(&e, SFT_EINPUT, "--%s: at most 64 values", scen_opt_name(i));
                goto fail;
            }
            x.vals[i][x.nvals[i]++] = t;
        }
        if (x.nvals[i] == 0) {
            rc = sft_errf(&e, SFT_EINPUT, "--%s %s: no values", scen_opt_name(i), o.v[i]);
            goto fail;
        }
        n *= x.nvals[i];
        if (n > 100000) {
            rc = sft_errf(&e, SFT_EINPUT, "sweep: more than 100000 points");
            goto fail;
        }
    }
    pts = sft_xcalloc((size_t)n, sizeof *pts);
    for (int p = 0; p < n; p++) {
        int rem = p;
        for (int k = x.nvar - 1; k >= 0; k--) {
            int i = x.var[k];
            pts[p].v[i] = x.vals[i][rem % x.nvals[i]];
            rem /= x.nvals[i];
        }
    }
    x.out = o.out;
    x.points = cJSON_CreateArray();
    skip = sft_xcalloc((size_t)n, 1);
    if (o.out) {
        if ((rc = sft_mkdir(o.out, &e))) goto fail;
        if (x.resume && (rc = load_previous(&x, n, skip, &e))) goto fail;
    }
    {
        pool_cfg cfg = {&o, pts, n, pol, np, (int)x.jobs, skip, o.fmt != CLI_JSON, on_point, &x};
        rc = pool_run(&cfg, &root, &e);
    }
    if (!rc && root) {
        rc = write_outputs(&x, &e);
        if (!rc) {
            if (o.fmt == CLI_JSON) {
                cJSON *doc = cJSON_CreateObject();
                cJSON_AddItemReferenceToObject(doc, "points", x.points);
                cli_print_json(doc);
            } else {
                print_table(&x);
            }
        }
    }
fail:
    for (int i = 0; i < SO_NOPTS; i++) free(x.lists[i]);
    cJSON_Delete(x.points);
    free(pts);
    free(skip);
    free(pbuf);
    pool_mpi_finalize();
    return rc ? cli_report(&e) : 0;
}
