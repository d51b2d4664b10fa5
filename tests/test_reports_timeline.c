/* test_reports_timeline.c — the HDF5 timeline of `run --out` and
 * `compare --out`, reopened through the HDF5 C API and the table API, and
 * its layout as h5dump shows it.
 *
 * The expected figures come from outside the file: the op count from the
 * same scenario re-run through the library (scen_simulate keeps the program),
 * the busy time from summary.json (busy_ns, summed by the summary from the
 * same integer nanoseconds, so equality is exact), the peak memory from the
 * summary's peak_mem_bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>

#include "lab/scenario.h"
#include "tutil.h"

static cJSON *read_json(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = tu_slurp(path);
    cJSON *j = cJSON_Parse(text);
    if (!j) fail_msg("%s is not JSON", path);
    free(text);
    return j;
}

/* The number of ops the CLI's program has: the same options through the
 * library (argv as the subcommand sees it). */
static uint64_t expected_ops(const char *const *argv, const char *policy)
{
    int argc = 0;
    while (argv[argc]) argc++;
    scen_opts o;
    scenario s;
    sft_err e = {0};
    if (scen_parse(argc, (char **)argv, "run", &o, NULL, NULL, NULL, &e) ||
        scen_resolve(&o, &s, &e))
        fail_msg("scenario: %s", e.msg);
    scen_result *r = NULL;
    const sched_policy *pol = s.policy;
    if ((policy && scen_policy(&s, policy, &pol, &e)) || scen_simulate(&s, pol, 1, &r, &e))
        fail_msg("simulate: %s", e.msg);
    uint64_t n = prog_total_ops(r->prog);
    scen_result_destroy(r);
    scen_release(&s);
    return n;
}

/* One column of table loc/name as n values of size bytes (caller frees). */
static void *column(hid_t loc, const char *table, const char *field, size_t size, hsize_t n)
{
    void *buf = malloc((size_t)n * size + 1);
    size_t off = 0;
    if (H5TBread_fields_name(loc, table, field, 0, n, size, &off, &size, buf) < 0)
        fail_msg("cannot read column %s of %s", field, table);
    return buf;
}

static hsize_t rows(hid_t loc, const char *table)
{
    hsize_t nf = 0, nr = 0;
    if (H5TBget_table_info(loc, table, &nf, &nr) < 0) fail_msg("%s is not a table", table);
    return nr;
}

/* What a timeline (group) must agree with: per GPU, the summary's busy time
 * (ns), compute + host seconds per step and peak memory. */
typedef struct want {
    int G, nsteps;
    uint64_t nops;
    int64_t *busy_ns;
    double *busy_s, *peak;
} want;

/* From a run's summary.json (the summary of the very run that wrote the file). */
static want want_of_summary(const cJSON *sum, int nsteps, uint64_t nops)
{
    const cJSON *gpus = cJSON_GetObjectItem(sum, "gpus");
    want w = {cJSON_GetArraySize(gpus), nsteps, nops, NULL, NULL, NULL};
    w.busy_ns = calloc((size_t)w.G, sizeof *w.busy_ns);
    w.busy_s = calloc((size_t)w.G, sizeof *w.busy_s);
    w.peak = calloc((size_t)w.G, sizeof *w.peak);
    int g = 0;
    for (const cJSON *x = gpus->child; x; x = x->next, g++) {
        w.busy_ns[g] = (int64_t)cJSON_GetObjectItem(x, "busy_ns")->valuedouble;
        w.busy_s[g] = cJSON_GetObjectItem(x, "compute_s")->valuedouble +
                      cJSON_GetObjectItem(x, "host_s")->valuedouble;
        w.peak[g] = cJSON_GetObjectItem(x, "peak_mem_bytes")->valuedouble;
    }
    return w;
}

static void want_free(want *w)
{
    free(w->busy_ns);
    free(w->busy_s);
    free(w->peak);
}

static void check_tables(hid_t loc, const want *w)
{
    int G = w->G;
    /* one /events row per executed op of every stream */
    hsize_t n = rows(loc, "events");
    assert_int_equal(n, w->nops);
    int32_t *gpu = column(loc, "events", "gpu", 4, n);
    int16_t *stream = column(loc, "events", "stream", 2, n);
    uint8_t *kind = column(loc, "events", "kind", 1, n);
    uint32_t *op = column(loc, "events", "op", 4, n);
    int32_t *name = column(loc, "events", "name", 4, n);
    int64_t *st = column(loc, "events", "start_ns", 8, n);
    int64_t *en = column(loc, "events", "end_ns", 8, n);
    int64_t *busy = calloc((size_t)G, sizeof *busy);
    hsize_t nstr = rows(loc, "strings");
    int32_t *sid = column(loc, "strings", "id", 4, nstr);
    for (hsize_t i = 0; i < n; i++) {
        assert_true(gpu[i] >= 0 && gpu[i] < G);
        assert_true(stream[i] >= 0 && stream[i] < PROG_NSTREAMS);
        assert_true(kind[i] < PK_NKINDS);
        /* every string id resolves in /strings */
        assert_true(name[i] >= 0 && (hsize_t)name[i] < nstr);
        assert_true(st[i] <= en[i]);
        /* rows in (gpu, stream, op) order; a stream never overlaps itself */
        if (i > 0 && gpu[i] == gpu[i - 1] && stream[i] == stream[i - 1]) {
            assert_int_equal(op[i], op[i - 1] + 1);
            assert_true(st[i] >= en[i - 1]);
        } else {
            assert_int_equal(op[i], 0);
        }
        if (stream[i] == PROG_COMPUTE && (kind[i] == PK_COMPUTE || kind[i] == PK_DELAY))
            busy[gpu[i]] += en[i] - st[i];
    }
    for (hsize_t i = 0; i < nstr; i++) assert_int_equal(sid[i], (int32_t)i);
    assert_int_equal(rows(loc, "gpus"), G);
    int64_t *gbusy = column(loc, "gpus", "busy_ns", 8, (hsize_t)G);
    double *pk = column(loc, "gpus", "peak_mem_bytes", 8, (hsize_t)G);
    for (int g = 0; g < G; g++) {
        /* per GPU, the durations add up to the summary's busy time exactly:
         * both sum the same integer nanoseconds (reports/events.h) */
        if (busy[g] != w->busy_ns[g])
            fail_msg("GPU %d: events sum to %lld ns, the summary says %lld", g, (long long)busy[g],
                     (long long)w->busy_ns[g]);
        assert_int_equal(gbusy[g], w->busy_ns[g]);
        /* and to its compute + host seconds per step (means over the steps,
         * clipped to the step windows in floating point: within 1 us) */
        assert_true(fabs((double)busy[g] * 1e-9 - w->busy_s[g] * w->nsteps) < 1e-6);
        /* JSON keeps 15 significant digits */
        assert_true(fabs(pk[g] - w->peak[g]) <= 1e-12 * w->peak[g]);
    }
    /* /memory: each GPU's curve peaks at its summary peak */
    hsize_t nm = rows(loc, "memory");
    int32_t *mg = column(loc, "memory", "gpu", 4, nm);
    double *alloc = column(loc, "memory", "allocated_bytes", 8, nm);
    double *peak = calloc((size_t)G, sizeof *peak);
    for (hsize_t i = 0; i < nm; i++)
        if (alloc[i] > peak[mg[i]]) peak[mg[i]] = alloc[i];
    for (int g = 0; g < G; g++) assert_true(fabs(peak[g] - pk[g]) <= 1e-9 * pk[g]);
    assert_int_equal(rows(loc, "steps"), w->nsteps);
    free(gpu);
    free(stream);
    free(kind);
    free(op);
    free(name);
    free(st);
    free(en);
    free(busy);
    free(sid);
    free(gbusy);
    free(pk);
    free(mg);
    free(alloc);
    free(peak);
}

/* Chunked, shuffled then deflated, as ARCHITECTURE.md, "Formats" asks. */
static void check_filters(hid_t loc, const char *table)
{
    hid_t ds = H5Dopen2(loc, table, H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t dcpl = H5Dget_create_plist(ds);
    assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
    assert_int_equal(H5Pget_nfilters(dcpl), 2);
    unsigned flags, cd[4];
    size_t ncd = 4;
    assert_int_equal(H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_SHUFFLE);
    ncd = 4;
    assert_int_equal(H5Pget_filter2(dcpl, 1, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_DEFLATE);
    H5Pclose(dcpl);
    H5Dclose(ds);
}

static char *attr_string(hid_t loc, const char *obj, const char *name)
{
    hsize_t dims[1];
    H5T_class_t cls;
    size_t size;
    if (H5LTget_attribute_info(loc, obj, name, dims, &cls, &size) < 0)
        fail_msg("attribute %s of %s missing", name, obj);
    char *s = calloc(size + 1, 1);
    H5LTget_attribute_string(loc, obj, name, s);
    return s;
}

static void check_root(hid_t f, const cJSON *summary, const char *command)
{
    long long v = 0;
    assert_true(H5LTget_attribute_long_long(f, "/", "schema_version", &v) >= 0);
    assert_int_equal(v, 2); /* REP_TIMELINE_SCHEMA: int64 row counts since 2 */
    char *unit = attr_string(f, "/", "time_unit"), *cmd = attr_string(f, "/", "command");
    assert_string_equal(unit, "ns");
    assert_string_equal(cmd, command);
    /* the scenario attribute is the summary's scenario, as JSON */
    char *scen = attr_string(f, "/", "scenario");
    cJSON *sj = cJSON_Parse(scen);
    assert_non_null(sj);
    assert_true(cJSON_Compare(sj, cJSON_GetObjectItem(summary, "scenario"), 1));
    cJSON_Delete(sj);
    free(scen);
    free(unit);
    free(cmd);
}

static hid_t open_h5(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/timeline.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) fail_msg("cannot open %s", path);
    return f;
}

static void run_timeline(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps", "1", NULL};
    const char *dir = tu_run_out("run", args);
    uint64_t nops = expected_ops(args, NULL);
    cJSON *sum = read_json(dir, "summary.json");
    hid_t f = open_h5(dir);
    check_root(f, sum, "run");
    want w = want_of_summary(sum, 1, nops);
    check_tables(f, &w);
    want_free(&w);
    check_filters(f, "events");
    check_filters(f, "memory");
    H5Fclose(f);
    cJSON_Delete(sum);
}

/* Two steps: step windows, per-step event counts. */
static void run_two_steps(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps", "2", "--policy", "skrull", NULL};
    const char *dir = tu_run_out("run2", args);
    uint64_t nops = expected_ops(args, NULL);
    cJSON *sum = read_json(dir, "summary.json");
    hid_t f = open_h5(dir);
    want w = want_of_summary(sum, 2, nops);
    check_tables(f, &w);
    want_free(&w);
    int64_t *ev = column(f, "steps", "events", 8, 2);
    int64_t *lo = column(f, "steps", "start_ns", 8, 2), *hi = column(f, "steps", "end_ns", 8, 2);
    double *ts = column(f, "steps", "time_s", 8, 2);
    /* every op belongs to one step (the builder tags them all) */
    assert_int_equal((uint64_t)ev[0] + (uint64_t)ev[1], nops);
    /* consecutive windows; their lengths are the summary's step times */
    assert_int_equal(lo[0], 0);
    assert_int_equal(lo[1], hi[0]);
    const cJSON *steps = cJSON_GetObjectItem(sum, "steps");
    for (int k = 0; k < 2; k++) {
        double t = cJSON_GetObjectItem(cJSON_GetArrayItem(steps, k), "time_s")->valuedouble;
        assert_true(fabs(ts[k] - t) < 1e-12);
        assert_true(fabs((double)(hi[k] - lo[k]) * 1e-9 - t) < 2e-9);
    }
    free(ev);
    free(lo);
    free(hi);
    free(ts);
    H5Fclose(f);
    cJSON_Delete(sum);
}

static void compare_groups(void **state)
{
    (void)state;
    const char *args[] = {"compare", "--steps", "1", NULL};
    const char *dir = tu_run_out("compare", args);
    cJSON *sum = read_json(dir, "summary.json");
    hid_t f = open_h5(dir);
    check_root(f, sum, "compare");
    const cJSON *pols = cJSON_GetObjectItem(sum, "policies");
    assert_int_equal(cJSON_GetArraySize(pols), 4);
    for (const cJSON *p = pols->child; p; p = p->next) {
        const char *pol = cJSON_GetObjectItem(p, "policy")->valuestring;
        /* one group per policy, holding that policy's tables */
        hid_t g = H5Gopen2(f, pol, H5P_DEFAULT);
        if (g < 0) fail_msg("no group /%s", pol);
        char *pa = attr_string(g, ".", "policy");
        assert_string_equal(pa, pol);
        free(pa);
        /* compare's summary has no per-GPU figures: the group's /gpus table
         * (the policy's summary) stands in, tied to summary.json by the peaks */
        const char *rargs[] = {"run", "--steps", "1", "--policy", pol, NULL};
        want w = {32, 1, expected_ops(rargs, NULL), NULL, NULL, NULL};
        w.busy_ns = column(g, "gpus", "busy_ns", 8, 32);
        w.peak = column(g, "gpus", "peak_mem_bytes", 8, 32);
        double *cs = column(g, "gpus", "compute_s", 8, 32),
               *hs = column(g, "gpus", "host_s", 8, 32);
        w.busy_s = cs;
        double pmax = 0, pmin = 1e300;
        for (int k = 0; k < 32; k++) {
            cs[k] += hs[k];
            if (w.peak[k] > pmax) pmax = w.peak[k];
            if (w.peak[k] < pmin) pmin = w.peak[k];
        }
        free(hs);
        double jmax = cJSON_GetObjectItem(p, "peak_mem_bytes_max")->valuedouble;
        double jmin = cJSON_GetObjectItem(p, "peak_mem_bytes_min")->valuedouble;
        assert_true(fabs(pmax - jmax) <= 1e-12 * jmax && fabs(pmin - jmin) <= 1e-12 * jmin);
        check_tables(g, &w);
        want_free(&w);
        check_filters(g, "events");
        H5Gclose(g);
    }
    H5Fclose(f);
    cJSON_Delete(sum);
}

/* `h5dump -H` shows the documented layout (reports/README.md). */
static void h5dump_layout(void **state)
{
    (void)state;
    if (system("command -v h5dump >/dev/null 2>&1") != 0) {
        print_message("h5dump not found (Debian: hdf5-tools): layout check skipped\n");
        skip();
    }
    const char *args[] = {"run", "--steps", "1", NULL};
    const char *dir = tu_run_out("dump", args);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "h5dump -H -p %s/timeline.h5", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, len = 0, k;
    char *text = malloc(cap);
    while ((k = fread(text + len, 1, cap - len - 1, p)) > 0) {
        len += k;
        if (len + 1 == cap) text = realloc(text, cap *= 2);
    }
    text[len] = 0;
    assert_int_equal(pclose(p), 0);
    static const char *const layout[] = {"ATTRIBUTE \"schema_version\"",
                                         "ATTRIBUTE \"scenario\"",
                                         "ATTRIBUTE \"time_unit\"",
                                         "DATASET \"events\"",
                                         "H5T_STD_I32LE \"gpu\"",
                                         "H5T_STD_I16LE \"stream\"",
                                         "H5T_STD_U8LE \"kind\"",
                                         "H5T_STD_U8LE \"cat\"",
                                         "H5T_STD_I32LE \"step\"",
                                         "H5T_STD_I32LE \"microbatch\"",
                                         "H5T_STD_I32LE \"layer\"",
                                         "H5T_STD_U32LE \"op\"",
                                         "H5T_STD_I32LE \"name\"",
                                         "H5T_STD_I32LE \"ref\"",
                                         "H5T_STD_I64LE \"start_ns\"",
                                         "H5T_STD_I64LE \"end_ns\"",
                                         "H5T_IEEE_F64LE \"flops\"",
                                         "H5T_IEEE_F64LE \"bytes\"",
                                         "DATASET \"steps\"",
                                         "H5T_STD_I64LE \"events\"", /* row counts: int64 */
                                         "DATASET \"memory\"",
                                         "H5T_IEEE_F64LE \"allocated_bytes\"",
                                         "DATASET \"gpus\"",
                                         "H5T_STD_I64LE \"busy_ns\"",
                                         "DATASET \"strings\"",
                                         "PREPROCESSING SHUFFLE",
                                         "COMPRESSION DEFLATE",
                                         "CHUNKED",
                                         "ATTRIBUTE \"CLASS\"",
                                         "ATTRIBUTE \"FIELD_0_NAME\"",
                                         "H5S_UNLIMITED"};
    for (size_t i = 0; i < sizeof layout / sizeof *layout; i++)
        if (!strstr(text, layout[i])) fail_msg("h5dump -H lacks %s", layout[i]);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_timeline),
        cmocka_unit_test(run_two_steps),
        cmocka_unit_test(compare_groups),
        cmocka_unit_test(h5dump_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
