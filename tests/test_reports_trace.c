/* test_reports_trace.c — trace.json.gz of `run --out` and `compare --out`:
 * valid gzip'd JSON, one X slice per /events row of the timeline written
 * beside it, no two overlapping slices on one (pid, tid), names for every
 * process and thread, memory counters, and flow arrows that join every part
 * of a collective and only those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <zlib.h>

#include "tutil.h"

static cJSON *read_trace(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/trace.json.gz", dir);
    gzFile z = gzopen(path, "rb");
    if (!z) fail_msg("cannot open %s", path);
    size_t cap = 1 << 22, len = 0;
    char *buf = malloc(cap);
    int k;
    while ((k = gzread(z, buf + len, (unsigned)(cap - len - 1))) > 0) {
        len += (size_t)k;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    assert_true(k == 0); /* a complete gzip stream */
    gzclose(z);
    buf[len] = 0;
    cJSON *j = cJSON_Parse(buf);
    if (!j) fail_msg("%s is not valid JSON near byte %ld", path, (long)(cJSON_GetErrorPtr() - buf));
    free(buf);
    return j;
}

/* Rows of /events in the run's timeline (every group of a comparison). */
static long long timeline_rows(const char *dir, const char *const *groups, int n)
{
    char path[700];
    snprintf(path, sizeof path, "%s/timeline.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    long long total = 0;
    for (int i = 0; i < n; i++) {
        char t[128];
        snprintf(t, sizeof t, "%s/events", groups[i]);
        hsize_t nf, nr;
        assert_true(H5TBget_table_info(f, t, &nf, &nr) >= 0);
        total += (long long)nr;
    }
    H5Fclose(f);
    return total;
}

typedef struct slice {
    int pid, tid;
    long long a, b; /* ns */
    int coll;       /* collective id, -1 */
} slice;

static int by_track(const void *x, const void *y)
{
    const slice *p = x, *q = y;
    if (p->pid != q->pid) return p->pid - q->pid;
    if (p->tid != q->tid) return p->tid - q->tid;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

static long long ns(const cJSON *e, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(e, k);
    if (!cJSON_IsNumber(v)) fail_msg("event without numeric %s", k);
    return llround(v->valuedouble * 1000);
}

static int num(const cJSON *e, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(e, k);
    if (!cJSON_IsNumber(v)) fail_msg("event without numeric %s", k);
    return v->valueint;
}

/* Collective slices by (policy in tid, collective, pid). */
static int by_coll(const void *x, const void *y)
{
    const slice *p = x, *q = y;
    if (p->tid != q->tid) return p->tid - q->tid;
    if (p->coll != q->coll) return p->coll - q->coll;
    return p->pid - q->pid;
}

typedef struct flow {
    int pol, coll, spid, fpid;
    long long st, ft;
} flow;

static int flow_order(const void *x, const void *y)
{
    const flow *p = x, *q = y;
    if (p->pol != q->pol) return p->pol - q->pol;
    if (p->coll != q->coll) return p->coll - q->coll;
    return p->spid - q->spid;
}

/* The coll slice of track (pid, tid) holding instant t, or NULL. */
static const slice *holder(const slice *s, size_t n, int pid, int tid, long long t)
{
    size_t lo = 0, hi = n;
    slice key = {pid, tid, t, INT64_MAX, 0};
    while (lo < hi) { /* first slice after key */
        size_t mid = (lo + hi) / 2;
        if (by_track(&s[mid], &key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) {
        if (s[i].pid != pid || s[i].tid != tid || s[i].b < t) break;
        if (s[i].a <= t && t <= s[i].b && s[i].coll >= 0) return &s[i];
    }
    return NULL;
}

static void check_trace(const char *dir, const char *const *groups, int npol, int G)
{
    cJSON *j = read_trace(dir);
    const cJSON *evs = cJSON_GetObjectItem(j, "traceEvents");
    assert_true(cJSON_IsArray(evs));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "otherData"), "scenario"));
    int P = npol * G;
    size_t n = 0, cap = 1024, nflow = 0;
    slice *s = malloc(cap * sizeof *s);
    char *pname = calloc((size_t)P, 1), *tname = calloc((size_t)P * 3, 1),
         *counters = calloc((size_t)P, 1);
    for (const cJSON *e = evs->child; e; e = e->next) {
        const char *ph = cJSON_GetObjectItem(e, "ph")->valuestring;
        int pid = num(e, "pid");
        /* pid = policy index x GPUs + GPU */
        assert_true(pid >= 0 && pid < P);
        if (strcmp(ph, "X") == 0) {
            if (n == cap) s = realloc(s, (cap *= 2) * sizeof *s);
            const cJSON *args = cJSON_GetObjectItem(e, "args");
            const cJSON *c = cJSON_GetObjectItem(args, "collective");
            long long a = ns(e, "ts");
            s[n++] = (slice){pid, num(e, "tid"), a, a + ns(e, "dur"), c ? c->valueint : -1};
            assert_true(ns(e, "dur") >= 0);
            assert_non_null(cJSON_GetObjectItem(e, "name"));
        } else if (strcmp(ph, "M") == 0) {
            const char *what = cJSON_GetObjectItem(e, "name")->valuestring;
            if (strcmp(what, "process_name") == 0) pname[pid] = 1;
            if (strcmp(what, "thread_name") == 0) tname[pid * 3 + num(e, "tid")] = 1;
        } else if (strcmp(ph, "C") == 0) {
            counters[pid] = 1;
            assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "allocated_bytes")
                            ->valuedouble >= 0);
        } else if (strcmp(ph, "s") == 0 || strcmp(ph, "f") == 0) {
            nflow++;
        } else {
            fail_msg("unexpected phase %s", ph);
        }
    }
    /* one X slice per timeline event */
    assert_int_equal((long long)n, timeline_rows(dir, groups, npol));
    qsort(s, n, sizeof *s, by_track);
    for (size_t i = 0; i < n; i++) {
        /* named processes and threads */
        assert_true(pname[s[i].pid] && tname[s[i].pid * 3 + s[i].tid]);
        /* never two overlapping slices on one (pid, tid) */
        if (i > 0 && s[i].pid == s[i - 1].pid && s[i].tid == s[i - 1].tid && s[i].a < s[i - 1].b)
            fail_msg("pid %d tid %d: slice at %lld ns starts before the one at %lld ends (%lld)",
                     s[i].pid, s[i].tid, s[i].a, s[i - 1].a, s[i - 1].b);
    }
    for (int p = 0; p < P; p++) assert_true(counters[p]); /* every GPU allocates */
    /* flows: each id starts once and finishes once, later, in a slice of the
     * same collective on another GPU of the same policy */
    size_t ids = nflow / 2;
    assert_int_equal(nflow % 2, 0);
    assert_true(ids > 0);
    flow *fl = calloc(ids + 1, sizeof *fl);
    int *seen = calloc(ids * 2 + 1, sizeof *seen);
    for (const cJSON *e = evs->child; e; e = e->next) {
        const char *ph = cJSON_GetObjectItem(e, "ph")->valuestring;
        if (strcmp(ph, "s") != 0 && strcmp(ph, "f") != 0) continue;
        int fin = ph[0] == 'f';
        if (fin) assert_string_equal(cJSON_GetObjectItem(e, "bp")->valuestring, "e");
        long long id = (long long)cJSON_GetObjectItem(e, "id")->valuedouble;
        /* ids are dense from 0 */
        assert_true(id >= 0 && (size_t)id < ids);
        assert_int_equal(seen[id * 2 + fin]++, 0);
        int pid = num(e, "pid");
        long long t = ns(e, "ts");
        const slice *h = holder(s, n, pid, num(e, "tid"), t);
        if (!h)
            fail_msg("flow %lld (%s) at %lld ns is in no collective slice of pid %d", id, ph, t,
                     pid);
        flow *f = &fl[id];
        if (fin) {
            f->fpid = pid;
            f->ft = t;
            assert_int_equal(f->coll, h->coll);
        } else {
            f->spid = pid;
            f->st = t;
            f->coll = h->coll;
        }
    }
    for (size_t i = 0; i < ids; i++) {
        assert_true(seen[i * 2] == 1 && seen[i * 2 + 1] == 1);
        assert_true(fl[i].st < fl[i].ft);                 /* start before finish */
        assert_int_equal(fl[i].spid / G, fl[i].fpid / G); /* within one policy */
        fl[i].pol = fl[i].spid / G;
    }
    /* per (policy, collective) with members p0 < p1 < ... (GPU order): no
     * flows (too short to draw), or exactly p0->p1, p1->p2, ...: one chain
     * through every part of the collective */
    slice *cs = malloc((n + 1) * sizeof *cs);
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].coll >= 0) {
            cs[nc] = s[i];
            cs[nc].tid = s[i].pid / G; /* the policy, as sort key */
            nc++;
        }
    qsort(cs, nc, sizeof *cs, by_coll);
    qsort(fl, ids, sizeof *fl, flow_order);
    size_t fi = 0, with = 0, groups_n = 0;
    for (size_t i = 0; i < nc;) {
        size_t k = i;
        while (k < nc && cs[k].tid == cs[i].tid && cs[k].coll == cs[i].coll) k++;
        groups_n++;
        size_t m = k - i, f0 = fi;
        while (fi < ids && fl[fi].pol == cs[i].tid && fl[fi].coll == cs[i].coll) fi++;
        if (fi > f0) {
            with++;
            assert_int_equal(fi - f0, m - 1);
            for (size_t q = 0; q + 1 < m; q++) {
                assert_int_equal(fl[f0 + q].spid, cs[i + q].pid);
                assert_int_equal(fl[f0 + q].fpid, cs[i + q + 1].pid);
            }
        }
        i = k;
    }
    assert_int_equal(fi, ids); /* every flow belongs to a collective */
    print_message("%zu of %zu collectives drawn with flows\n", with, groups_n);
    assert_true(with * 2 > groups_n);
    free(cs);
    free(fl);
    free(seen);
    free(s);
    free(pname);
    free(tname);
    free(counters);
    cJSON_Delete(j);
}

static void run_trace(void **state)
{
    (void)state;
    const char *args[] = {"run", "--steps", "1", NULL};
    const char *groups[] = {"/"};
    check_trace(tu_run_out("run", args), groups, 1, 32);
}

/* Ring attention (CP-1 shifts per layer) and two steps on 16 GPUs. */
static void ring_trace(void **state)
{
    (void)state;
    const char *args[] = {"run",  "--steps", "2",         "--gpus", "16",       "--dp",      "2",
                          "--cp", "8",       "--cp-impl", "ring",   "--policy", "deepspeed", NULL};
    const char *groups[] = {"/"};
    check_trace(tu_run_out("ring", args), groups, 1, 16);
}

static void compare_trace(void **state)
{
    (void)state;
    const char *args[] = {"compare", "--steps", "1", NULL};
    const char *groups[] = {"/deepspeed", "/sorted", "/dacp", "/skrull"};
    check_trace(tu_run_out("compare", args), groups, 4, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_trace),
        cmocka_unit_test(ring_trace),
        cmocka_unit_test(compare_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
