/* sweep.c — what-if grids over any scenario option (sweep.h).
 *
 * Every scenario option may be a comma list; the grid is their cartesian
 * product (options in the order of `sftsim run --help`, the first listed
 * varying slowest), each point run under every policy. Points run in
 * parallel worker processes and across MPI ranks under mpirun (pool.h).
 *
 * Before any point runs, every value of every list is checked (exit 2 naming
 * the option and the item), every point's scenario is resolved, and --out
 * is prepared. A point whose scenario cannot be resolved (impossible
 * degrees) is a row with a status and the reason, not a failure.
 *
 * With --out DIR, sweep.json (the JSON contract), sweep.csv, sweep.h5 and the
 * plots are rewritten (under temporary names, then renamed) each time the
 * next point in order completes: a killed sweep keeps every point written.
 * sweep.json records what determines each point: the program version, the
 * policies, the options as given and each point's resolved scenario (with a
 * digest of every input file), so that --resume reuses a point only when all
 * of that is the same here, and otherwise refuses (exit 2) before anything
 * runs, naming what differs. Wall-clock figures stay out of the files so
 * that any worker count, rank count or resumption gives the same bytes.
 */
#include "lab/sweep.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/hw/calib.h"
#include "models/sched/sched.h"
#include "lab/pool.h"
#include "lab/sweep_out.h"
#include "base/jsonx.h"
#include "traces/trace.h"

/* Options whose files the resolved scenario names but does not hold (the
 * cluster is held whole by scen_json). */
static const int file_opts[4] = {SO_MODEL, SO_DATASET, SO_TRACE, SO_CALIBRATION};
#define NFILE_OPTS 4

struct sweep {
    const scen_opts *base; /* borrowed: the options as given */
    const char *policies;  /* borrowed: --policies as given */
    int resume;
    int root; /* this process writes the files (MPI rank 0) */
    sweep_list pol;
    /* every scenario option given, as a list (n = 0: not given); the grid
     * is the ones with several values, in option order */
    sweep_list lists[SO_NOPTS];
    int nvar, var[SO_NOPTS];
    int n; /* points */
    /* digests of the items of the file-valued options ("" = not a file) */
    char digest[NFILE_OPTS][SWEEP_MAX_VALUES][17];
    cJSON **rec;    /* per point: {"point","key","scenario"|"unresolved"[,"inputs"]} */
    cJSON **rows;   /* per point: its rows (one per policy), NULL until it has them */
    cJSON *options; /* the scenario options as given (strings) */
    const char *out;
    pool_point *pts;     /* per point: the values it overrides */
    unsigned char *skip; /* per point: its rows come from the earlier run */
};

static int is_number(const char *s)
{
    double d;
    return sft_parse_double(s, &d) == 0;
}

/* The index in its list of option o's value at point p (o given). */
static int point_item(const sweep *x, int p, int o)
{
    int rem = p;
    for (int k = x->nvar - 1; k >= 0; k--) {
        int v = x->var[k];
        if (v == o) return rem % x->lists[v].n;
        rem /= x->lists[v].n;
    }
    return 0;
}

/* The value of option o at point p (NULL when not given). */
static const char *point_value(const sweep *x, int p, int o)
{
    const sweep_list *l = &x->lists[o];
    return l->n ? l->item[point_item(x, p, o)] : NULL;
}

/* Point p's key ("cp=2,batch=48"; "" without a grid). */
static void point_key(const sweep *x, int p, char *key, size_t keylen)
{
    size_t off = 0;
    key[0] = '\0';
    for (int k = 0; k < x->nvar; k++) {
        int o = x->var[k];
        off += (size_t)snprintf(key + off, off < keylen ? keylen - off : 0, "%s%s=%s", k ? "," : "",
                                scen_opt_name(o), point_value(x, p, o));
    }
}

/* The row fields of point p: its index, key and the swept values. */
static void point_fields(const sweep *x, int p, cJSON *row)
{
    char key[4096];
    point_key(x, p, key, sizeof key);
    cJSON_AddNumberToObject(row, "point", p);
    cJSON_AddStringToObject(row, "key", key);
    for (int k = 0; k < x->nvar; k++) {
        int o = x->var[k];
        const char *v = point_value(x, p, o);
        if (is_number(v))
            cJSON_AddNumberToObject(row, scen_opt_name(o), atof(v));
        else
            cJSON_AddStringToObject(row, scen_opt_name(o), v);
    }
}

/* ---- checks before any work ------------------------------------------------ */

static sft_status bad_item(const char *opt, const char *list, const sweep_list *l, int k,
                           const char *why, sft_err *e)
{
    if (l->n > 1)
        return sft_errf(e, SFT_EINPUT, "--%s '%.200s': item %d '%.200s': %s", opt, list, k + 1,
                        l->item[k], why);
    return sft_errf(e, SFT_EINPUT, "--%s '%.200s': %s", opt, list, why);
}

/* Loads every value that names something (a cluster, a model, a dataset, a
 * trace or calibration file, a policy) the way the scenario will. */
static sft_status check_names(const sweep *x, const scen_opts *o, sft_err *e)
{
    for (int i = 0; i < SO_NOPTS; i++) {
        const sweep_list *l = &x->lists[i];
        for (int k = 0; k < l->n; k++) {
            const char *v = l->item[k];
            sft_err r = {0};
            sft_status st = SFT_OK;
            if (i == SO_CLUSTER) {
                clu_desc cl;
                st = clu_load(v, &cl, &r);
            } else if (i == SO_MODEL) {
                wl_model *m = NULL;
                if (!(st = wl_load(v, &m, &r))) wl_model_destroy(m);
            } else if (i == SO_DATASET) {
                trace_dist *d = NULL;
                if (!(st = trace_dist_load(v, &d, &r))) trace_dist_destroy(d);
            } else if (i == SO_TRACE) {
                trace_src *src = NULL;
                if (strcmp(v, "-") == 0)
                    st = sft_errf(&r, SFT_EINPUT,
                                  "a sweep reads the trace once per point: give "
                                  "a file, not standard input");
                else if (!(st = trace_src_file(v, 1, &src, &r)))
                    trace_src_destroy(src);
            } else if (i == SO_CALIBRATION) {
                cal *c = NULL;
                if (!(st = cal_load(v, &c, &r))) cal_destroy(c);
            } else if (i == SO_POLICY) {
                if (!sched_find(v)) st = sched_unknown(v, &r);
            }
            if (st) return bad_item(scen_opt_name(i), o->v[i], l, k, r.msg, e);
        }
    }
    for (int k = 0; k < x->pol.n; k++) {
        sft_err r = {0};
        if (!sched_find(x->pol.item[k]) && sched_unknown(x->pol.item[k], &r))
            return bad_item("policies", x->policies, &x->pol, k, r.msg, e);
    }
    return SFT_OK;
}

/* FNV-1a over a file's bytes: what an input file held when its point ran. */
static int file_digest(const char *path, char hex[17])
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint64_t h = 1469598103934665603ULL;
    unsigned char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < k; i++) h = (h ^ buf[i]) * 1099511628211ULL;
    int bad = ferror(f);
    fclose(f);
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
    return bad ? -1 : 0;
}

/* Point p's record: its resolved scenario, or why it cannot be resolved. */
static cJSON *point_record(const sweep *x, const scen_opts *base, int p)
{
    scen_opts o = *base;
    for (int i = 0; i < SO_NOPTS; i++)
        if (x->lists[i].n) o.v[i] = point_value(x, p, i);
    cJSON *r = cJSON_CreateObject();
    char key[4096];
    point_key(x, p, key, sizeof key);
    cJSON_AddNumberToObject(r, "point", p);
    cJSON_AddStringToObject(r, "key", key);
    scenario s;
    sft_err e = {0};
    if (scen_resolve(&o, &s, &e)) {
        cJSON_AddStringToObject(r, "unresolved", e.msg);
        return r;
    }
    cJSON_AddItemToObject(r, "scenario", scen_json(&s));
    scen_release(&s);
    cJSON *in = NULL;
    for (int k = 0; k < NFILE_OPTS; k++) {
        int i = file_opts[k];
        if (!x->lists[i].n) continue;
        const char *hex = x->digest[k][point_item(x, p, i)];
        if (!hex[0]) continue;
        if (!in) in = cJSON_AddObjectToObject(r, "inputs");
        cJSON_AddStringToObject(in, scen_opt_name(i), hex);
    }
    return r;
}

/* ---- the files -------------------------------------------------------------- */

cJSON *sweep_doc(const sweep *x)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "sftsim_version", SFT_VERSION);
    cJSON *pol = cJSON_AddArrayToObject(doc, "policies");
    for (int k = 0; k < x->pol.n; k++)
        cJSON_AddItemToArray(pol, cJSON_CreateString(x->pol.item[k]));
    cJSON_AddItemReferenceToObject(doc, "options", x->options);
    cJSON *sc = cJSON_AddArrayToObject(doc, "scenarios");
    for (int p = 0; p < x->n; p++)
        if (x->rows[p]) cJSON_AddItemReferenceToArray(sc, x->rec[p]);
    cJSON *pts = cJSON_AddArrayToObject(doc, "points");
    for (int p = 0; p < x->n; p++)
        for (cJSON *r = x->rows[p] ? x->rows[p]->child : NULL; r; r = r->next)
            cJSON_AddItemReferenceToArray(pts, r);
    return doc;
}

static sft_status write_outputs(sweep *x, sft_err *e)
{
    if (!x->out) return SFT_OK;
    cJSON *doc = sweep_doc(x);
    const char *swept[SO_NOPTS];
    for (int k = 0; k < x->nvar; k++) swept[k] = scen_opt_name(x->var[k]);
    sft_status st = sweep_write(x->out, doc, swept, x->nvar, e);
    cJSON_Delete(doc);
    return st;
}

/* Point p's rows: the swept values, then the worker's fields (copies). */
static void add_rows(sweep *x, int p, const cJSON *rows)
{
    cJSON *arr = cJSON_CreateArray();
    for (const cJSON *r = rows->child; r; r = r->next) {
        cJSON *row = cJSON_CreateObject();
        point_fields(x, p, row);
        for (const cJSON *f = r->child; f; f = f->next)
            cJSON_AddItemToObject(row, f->string, cJSON_Duplicate(f, 1));
        cJSON_AddItemToArray(arr, row);
    }
    cJSON_Delete(x->rows[p]);
    x->rows[p] = arr;
}

static sft_status on_point(void *ctx, int p, const cJSON *rows, sft_err *e)
{
    sweep *x = ctx;
    add_rows(x, p, rows);
    return write_outputs(x, e);
}

/* ---- --resume ----------------------------------------------------------------- */

/* "--resume D: <what differs>; rerun without --resume or into another
 * directory" */
static sft_status refuse(const sweep *x, sft_err *e, const char *fmt, ...) SFT_PRINTF(3, 4);
static sft_status refuse(const sweep *x, sft_err *e, const char *fmt, ...)
{
    char why[1800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return sft_errf(e, SFT_EINPUT,
                    "--resume %s: %s; rerun without --resume or into another directory", x->out,
                    why);
}

static const char *opt_str(const cJSON *opts, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(opts, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void show(const char *field, const cJSON *v, char *buf, size_t n)
{
    if (!v)
        snprintf(buf, n, "absent");
    else if (cJSON_IsBool(v))
        snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "on" : "off");
    else if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.15g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(buf, n, "%s", v->valuestring[0] ? v->valuestring : "''");
    else if (cJSON_IsString(cJSON_GetObjectItem(v, "name")))
        snprintf(buf, n, "%s", cJSON_GetObjectItem(v, "name")->valuestring);
    else
        snprintf(buf, n, "(the %s object)", field);
}

/* How option name was given in opts ("not given" when it was not, with the
 * value its scenario in record rec, when known, resolved it to). */
static void given(const cJSON *opts, const char *name, const cJSON *rec, char *buf, size_t n)
{
    const char *v = opt_str(opts, name);
    if (v) {
        snprintf(buf, n, "%s", v);
        return;
    }
    char field[64], val[512];
    snprintf(field, sizeof field, "%s", name);
    for (char *c = field; *c; c++)
        if (*c == '-') *c = '_';
    const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "scenario"), field);
    if (!f) {
        snprintf(buf, n, "not given");
        return;
    }
    show(field, f, val, sizeof val);
    snprintf(buf, n, "not given (%s)", val);
}

/* The first scenario option (in option order) whose given value differs,
 * only among the swept ones when grid_only; ra and rb: a point's records
 * here and there, or NULL. Returns 0 when none. */
static int option_differs(const sweep *x, const cJSON *there, int grid_only, const cJSON *ra,
                          const cJSON *rb, sft_err *e)
{
    for (int i = 0; i < SO_NOPTS; i++) {
        const char *name = scen_opt_name(i);
        const char *a = opt_str(x->options, name), *b = opt_str(there, name);
        if (grid_only && !(a && strchr(a, ',')) && !(b && strchr(b, ','))) continue;
        if ((!a && !b) || (a && b && strcmp(a, b) == 0)) continue;
        const cJSON *sa = cJSON_GetObjectItem(ra, "scenario"),
                    *sb = cJSON_GetObjectItem(rb, "scenario");
        if (sa && sb) {
            /* given differently but resolved the same ("--seed 0" and no
             * --seed) is not what differs */
            char field[64];
            snprintf(field, sizeof field, "%s", name);
            for (char *c = field; *c; c++)
                if (*c == '-') *c = '_';
            const cJSON *fa = cJSON_GetObjectItem(sa, field), *fb = cJSON_GetObjectItem(sb, field);
            if ((!fa && !fb) || (fa && fb && cJSON_Compare(fa, fb, 1))) continue;
        }
        char va[600], vb[600];
        given(x->options, name, ra, va, sizeof va);
        given(there, name, rb, vb, sizeof vb);
        refuse(x, e, "--%s is %s here but %s in %s/sweep.json", name, va, vb, x->out);
        return 1;
    }
    return 0;
}

/* The option a scenario field comes from ("max_len" -> "--max-len"), or the
 * field itself when none does. */
static void field_option(const char *field, char *buf, size_t n)
{
    char name[64];
    snprintf(name, sizeof name, "%s", field);
    for (char *c = name; *c; c++)
        if (*c == '_') *c = '-';
    if (scen_opt_find(name) >= 0)
        snprintf(buf, n, "--%s", name);
    else
        snprintf(buf, n, "the resolved scenario's %s", field);
}

/* Names what differs between point p's record here (a) and there (b). */
static sft_status record_differs(const sweep *x, int p, const cJSON *a, const cJSON *b, sft_err *e)
{
    const char *key = cJSON_GetObjectItem(a, "key")->valuestring;
    const cJSON *ua = cJSON_GetObjectItem(a, "unresolved"),
                *ub = cJSON_GetObjectItem(b, "unresolved");
    if (ua || ub) {
        return refuse(x, e, "point %d (%s) %s%s%s here but %s%s%s in %s/sweep.json", p, key,
                      ua ? "cannot run (" : "runs", ua ? ua->valuestring : "", ua ? ")" : "",
                      cJSON_IsString(ub) ? "could not run (" : "ran",
                      cJSON_IsString(ub) ? ub->valuestring : "", cJSON_IsString(ub) ? ")" : "",
                      x->out);
    }
    const cJSON *sa = cJSON_GetObjectItem(a, "scenario"), *sb = cJSON_GetObjectItem(b, "scenario");
    char opt[128], va[512], vb[512];
    /* plain fields first: a cluster differs as well when --gpus does */
    for (int objects = 0; objects < 2; objects++)
        for (const cJSON *f = sa->child; f; f = f->next) {
            if (cJSON_IsObject(f) != objects) continue;
            const cJSON *g = cJSON_GetObjectItem(sb, f->string);
            if (g && cJSON_Compare(f, g, 1)) continue;
            field_option(f->string, opt, sizeof opt);
            show(f->string, f, va, sizeof va);
            show(f->string, g, vb, sizeof vb);
            if (strcmp(va, vb) == 0)
                return refuse(x, e, "%s %s: its description differs from the one in %s/sweep.json",
                              opt, va, x->out);
            return refuse(x, e, "%s is %s here but %s in %s/sweep.json", opt, va, vb, x->out);
        }
    for (const cJSON *g = cJSON_IsObject(sb) ? sb->child : NULL; g; g = g->next)
        if (!cJSON_GetObjectItem(sa, g->string))
            return refuse(x, e,
                          "point %d (%s): %s/sweep.json's scenario has a field '%s' that "
                          "this one lacks",
                          p, key, x->out, g->string);
    const cJSON *ia = cJSON_GetObjectItem(a, "inputs"), *ib = cJSON_GetObjectItem(b, "inputs");
    for (int k = 0; k < NFILE_OPTS; k++) {
        const char *name = scen_opt_name(file_opts[k]);
        const cJSON *da = cJSON_GetObjectItem(ia, name), *db = cJSON_GetObjectItem(ib, name);
        if ((!da && !db) || (da && db && cJSON_Compare(da, db, 1))) continue;
        return refuse(x, e,
                      "--%s %s: the file's contents differ from those %s/sweep.json was computed "
                      "with",
                      name, point_value(x, p, file_opts[k]), x->out);
    }
    return refuse(x, e, "point %d (%s): its record differs from the one in %s/sweep.json", p, key,
                  x->out);
}

/* What an earlier run's sweep.json says of its points: per point, its
 * record ("scenarios"), its rows and whether one is an "error" row. */
typedef struct previous {
    const cJSON *opts, *pts;
    const cJSON **there; /* per point: its record there, or NULL */
    int *nrows;          /* per point: its rows there */
    unsigned char *err;  /* per point: it has an "error" row there */
} previous;

/* Checks that the document at path is this sweep's before reading its
 * points: a version, this version, the fields sweep writes, the same
 * policies and the same grid. */
static sft_status same_sweep(const sweep *x, const cJSON *doc, const char *path, sft_err *e)
{
    const cJSON *ver = cJSON_GetObjectItem(doc, "sftsim_version");
    const cJSON *pol = cJSON_GetObjectItem(doc, "policies");
    const cJSON *opts = cJSON_GetObjectItem(doc, "options");
    const cJSON *sc = cJSON_GetObjectItem(doc, "scenarios");
    const cJSON *pts = cJSON_GetObjectItem(doc, "points");
    if (!cJSON_IsArray(pts))
        return sft_errf(e, SFT_EINPUT,
                        "%s: field 'points': expected an array (the rows sftsim "
                        "sweep writes)",
                        path);
    if (!cJSON_IsString(ver))
        return refuse(x, e, "%s records no sftsim version (an older sftsim wrote it)", path);
    if (strcmp(ver->valuestring, SFT_VERSION) != 0)
        return refuse(x, e, "%s was written by sftsim %s, this is sftsim %s", path,
                      ver->valuestring, SFT_VERSION);
    if (!cJSON_IsArray(pol) || !cJSON_IsObject(opts) || !cJSON_IsArray(sc) || !cJSON_IsArray(pts))
        return sft_errf(e, SFT_EINPUT,
                        "%s: expected the fields 'policies', 'options', 'scenarios' and 'points' "
                        "that sftsim sweep writes",
                        path);
    char a[1024] = "", b[1024] = "";
    size_t off = 0;
    for (int k = 0; k < x->pol.n; k++)
        off += (size_t)snprintf(a + off, off < sizeof a ? sizeof a - off : 0, "%s%s", k ? "," : "",
                                x->pol.item[k]);
    off = 0;
    for (const cJSON *q = pol->child; q; q = q->next)
        off +=
            (size_t)snprintf(b + off, off < sizeof b ? sizeof b - off : 0, "%s%s",
                             q == pol->child ? "" : ",", cJSON_IsString(q) ? q->valuestring : "?");
    if (strcmp(a, b) != 0) return refuse(x, e, "--policies is %s here but %s in %s", a, b, path);
    if (option_differs(x, opts, 1, NULL, NULL, e)) return SFT_EINPUT;
    return SFT_OK;
}

/* Fills v from the document's records and rows, each of which must be a
 * point of this grid, under its key, and the rows a point's policies in
 * order, each with a status and a reason. */
static sft_status read_points(const sweep *x, const cJSON *doc, const char *path, previous *v,
                              sft_err *e)
{
    int n = x->n, np = x->pol.n;
    v->opts = cJSON_GetObjectItem(doc, "options");
    v->pts = cJSON_GetObjectItem(doc, "points");
    int i = 0;
    for (const cJSON *r = cJSON_GetObjectItem(doc, "scenarios")->child; r; r = r->next, i++) {
        const cJSON *p = cJSON_GetObjectItem(r, "point");
        if (!cJSON_IsNumber(p) || p->valueint < 0 || p->valueint >= n)
            return sft_errf(e, SFT_EINPUT,
                            "%s: scenarios[%d]: no valid 'point' for this grid of %d", path, i, n);
        v->there[p->valueint] = r;
    }
    char key[4096];
    i = 0;
    for (const cJSON *r = v->pts->child; r; r = r->next, i++) {
        const cJSON *p = cJSON_GetObjectItem(r, "point"), *k = cJSON_GetObjectItem(r, "key");
        const cJSON *s = cJSON_GetObjectItem(r, "status");
        if (!cJSON_IsNumber(p) || !cJSON_IsString(k) || p->valueint < 0 || p->valueint >= n)
            return sft_errf(e, SFT_EINPUT,
                            "%s: points[%d]: no valid 'point' and 'key' for this grid of %d points",
                            path, i, n);
        point_key(x, p->valueint, key, sizeof key);
        if (strcmp(key, k->valuestring) != 0)
            return sft_errf(e, SFT_EINPUT,
                            "%s: points[%d]: point %d is '%s' but this grid's is '%s'", path, i,
                            p->valueint, k->valuestring, key);
        const cJSON *pn = cJSON_GetObjectItem(r, "policy");
        int j = v->nrows[p->valueint]++;
        if (j >= np || !cJSON_IsString(pn) || strcmp(pn->valuestring, x->pol.item[j]) != 0 ||
            !cJSON_IsString(s) || !cJSON_IsString(cJSON_GetObjectItem(r, "reason")))
            return sft_errf(e, SFT_EINPUT,
                            "%s: points[%d]: not row %d of point %d as sftsim sweep writes it "
                            "(policy %s, a status and a reason)",
                            path, i, j + 1, p->valueint, j < np ? x->pol.item[j] : "(none)");
        if (strcmp(s->valuestring, "error") == 0) v->err[p->valueint] = 1;
    }
    return SFT_OK;
}

/* Checks that every point v would reuse has all its rows and resolved
 * here as it did there; names what differs otherwise. */
static sft_status same_points(const sweep *x, const previous *v, const char *path, sft_err *e)
{
    for (int p = 0; p < x->n; p++) {
        if (!v->nrows[p] || v->err[p]) continue;
        if (v->nrows[p] != x->pol.n || !v->there[p])
            return sft_errf(e, SFT_EINPUT,
                            "%s: point %d has %d rows for %d policies%s: not a file sftsim sweep "
                            "wrote",
                            path, p, v->nrows[p], x->pol.n, v->there[p] ? "" : " and no scenario");
        if (cJSON_Compare(x->rec[p], v->there[p], 1)) continue;
        if (!option_differs(x, v->opts, 0, x->rec[p], v->there[p], e))
            record_differs(x, p, x->rec[p], v->there[p], e);
        return SFT_EINPUT;
    }
    return SFT_OK;
}

/* Reads DIR/sweep.json of an earlier run: checks that it is this sweep
 * (version, policies, grid, and each point it holds resolved the same),
 * marks its points done and keeps their rows. Points with an "error" row
 * (a worker that crashed or was killed) are not reused. */
static sft_status load_previous(sweep *x, unsigned char *skip, sft_err *e)
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
    int n = x->n;
    previous v = {0};
    v.nrows = sft_xcalloc((size_t)n, sizeof *v.nrows);
    v.err = sft_xcalloc((size_t)n, 1);
    v.there = sft_xcalloc((size_t)n, sizeof *v.there);
    if (!(st = same_sweep(x, doc, path, e)) && !(st = read_points(x, doc, path, &v, e)))
        st = same_points(x, &v, path, e);
    for (const cJSON *r = st ? NULL : v.pts->child; r; r = r->next) {
        int p = cJSON_GetObjectItem(r, "point")->valueint;
        if (v.err[p]) continue;
        skip[p] = 1;
        if (!x->rows[p]) x->rows[p] = cJSON_CreateArray();
        cJSON_AddItemToArray(x->rows[p], cJSON_Duplicate(r, 1));
    }
    free(v.nrows);
    free(v.err);
    free(v.there);
    cJSON_Delete(doc);
    return st;
}

/* Splits and checks every list; sizes the grid. */
static sft_status setup_grid(sweep *x, const scen_opts *o, sft_err *e)
{
    sft_status st = sweep_list_split("policies", x->policies, &x->pol, e);
    if (st) return st;
    if (x->resume && !o->out)
        return sft_errf(e, SFT_EINPUT, "--resume needs --out DIR (where the earlier run wrote)");
    /* the grid's size first (from the commas alone), then its items */
    long n = 1;
    for (int i = 0; i < SO_NOPTS; i++) {
        if (!o->v[i]) continue;
        long k = 1;
        for (const char *c = o->v[i]; *c; c++) k += *c == ',';
        if (k <= SWEEP_MAX_VALUES && (n *= k) > SWEEP_MAX_POINTS)
            return sft_errf(e, SFT_EINPUT, "sweep: more than %d points (--%s makes %ld)",
                            SWEEP_MAX_POINTS, scen_opt_name(i), n);
    }
    x->options = cJSON_CreateObject();
    for (int i = 0; i < SO_NOPTS; i++) {
        if (!o->v[i]) continue;
        if ((st = sweep_list_split(scen_opt_name(i), o->v[i], &x->lists[i], e))) return st;
        cJSON_AddStringToObject(x->options, scen_opt_name(i), o->v[i]);
        if (x->lists[i].n > 1) x->var[x->nvar++] = i;
    }
    x->n = (int)n;
    if ((st = check_names(x, o, e))) return st;
    for (int k = 0; k < NFILE_OPTS; k++) {
        const sweep_list *l = &x->lists[file_opts[k]];
        for (int j = 0; j < l->n; j++)
            if (sft_file_exists(l->item[j]) && file_digest(l->item[j], x->digest[k][j]) != 0)
                return sft_errf(e, SFT_EINPUT, "--%s %s: cannot read it",
                                scen_opt_name(file_opts[k]), l->item[j]);
    }
    return SFT_OK;
}

sft_status sweep_create(const scen_opts *o, const char *policies, int resume, sweep **out,
                        sft_err *e)
{
    sweep *x = sft_xcalloc(1, sizeof *x);
    x->base = o;
    x->policies = policies;
    x->resume = resume;
    x->root = pool_mpi_rank() == 0;
    sft_status st = setup_grid(x, o, e);
    if (st) {
        sweep_destroy(x);
        return st;
    }
    int n = x->n;
    x->pts = sft_xcalloc((size_t)n, sizeof *x->pts);
    x->rec = sft_xcalloc((size_t)n, sizeof *x->rec);
    x->rows = sft_xcalloc((size_t)n, sizeof *x->rows);
    x->skip = sft_xcalloc((size_t)n, 1);
    x->out = o->out;
    for (int p = 0; p < n; p++) {
        for (int k = 0; k < x->nvar; k++) x->pts[p].v[x->var[k]] = point_value(x, p, x->var[k]);
        if (x->root) x->rec[p] = point_record(x, o, p);
    }
    *out = x;
    return SFT_OK;
}

sft_status sweep_run(sweep *x, int jobs, int progress, int *is_root, sft_err *e)
{
    sft_status st = SFT_OK;
    *is_root = x->root;
    if (x->root && x->out) {
        st = sft_outdir_prepare("--out", x->out, e);
        if (!st && x->resume) st = load_previous(x, x->skip, e);
    }
    if ((st = pool_mpi_share(st, e, x->skip, (size_t)x->n))) return st;
    pool_cfg cfg = {x->base, x->pts,  x->n,     x->pol.item, x->pol.n,
                    jobs,    x->skip, progress, on_point,    x};
    if ((st = pool_run(&cfg, is_root, e))) return st;
    return *is_root ? write_outputs(x, e) : SFT_OK;
}

void sweep_destroy(sweep *x)
{
    if (!x) return;
    for (int i = 0; i < SO_NOPTS; i++) sweep_list_free(&x->lists[i]);
    sweep_list_free(&x->pol);
    for (int p = 0; p < x->n && x->rec; p++) cJSON_Delete(x->rec[p]);
    for (int p = 0; p < x->n && x->rows; p++) cJSON_Delete(x->rows[p]);
    free(x->rec);
    free(x->rows);
    cJSON_Delete(x->options);
    free(x->pts);
    free(x->skip);
    free(x);
}
