/* test_scale.c — the limits that size brings (issue 11).
 *
 * `test_scale unit`: the memory-mapping check that refuses a cluster whose
 * SimGrid actors would exhaust vm.max_map_count (eng_check_maps, with
 * injected limits, and the CLI against this machine's real limit), and the
 * program's 16-bit name ids (prog_intern refuses the 65537th name instead
 * of wrapping).
 *
 * `test_scale big`: the 1024-GPU run that corrupted the heap (the Chrome
 * trace's metadata overran its buffer reservation), at op and layer
 * granularity, in full: exit 0, a trace that gunzips and parses as JSON
 * (a strict parser below: cJSON would need gigabytes for 280 MB of text)
 * with exactly one X slice per op of the program, and the timeline beside
 * it. The op count comes from the same scenario built again through the
 * library.
 * Runs in the sanitizer build too, where any overrun is fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <signal.h>
#include <zlib.h>

#include "lab/scenario.h"
#include "sim/engine.h"
#include "sim/prog.h"
#include "tutil.h"

/* ---- the mapping check ---------------------------------------------------- */

/* The largest GPU count the check names for a refusal. */
static long named_fit(const char *msg)
{
    const char *p = strstr(msg, "at most ");
    if (!p) fail_msg("no 'at most N GPUs' in: %s", msg);
    return atol(p + 8);
}

static void maps_refuses_with_largest_size(void **state)
{
    (void)state;
    sft_err e = {0};
    /* 1024 GPUs x 3 streams = 3072 actors, 2 mappings each = 6144, plus 200
     * in use and the 1024 margin: 7368 > 5000 */
    sft_status st = eng_check_maps(3072, 1024, 5000, 200, &e);
    assert_int_equal(st, SFT_EINFEASIBLE); /* exit code 3 (ARCHITECTURE.md, "Contracts") */
    assert_int_equal(e.status, SFT_EINFEASIBLE);
    /* largest: (5000 - 200 - 1024) / (2 mappings x 3 actors per GPU) = 629.3 */
    assert_int_equal(named_fit(e.msg), 629);
    assert_non_null(strstr(e.msg, "1024 GPUs"));
    assert_non_null(strstr(e.msg, "vm.max_map_count = 5000"));
    assert_non_null(strstr(e.msg, "7368")); /* the mappings it would need */
    /* the named size fits, one GPU more does not: the bound is tight */
    assert_int_equal(eng_check_maps(3 * 629, 629, 5000, 200, &e), SFT_OK);
    assert_int_equal(eng_check_maps(3 * 630, 630, 5000, 200, &e), SFT_EINFEASIBLE);
}

static void maps_boundary_and_unknown(void **state)
{
    (void)state;
    sft_err e = {0};
    /* exactly at the limit: 100 in use + 1024 margin + 2 x 1000 = 3124 */
    assert_int_equal(eng_check_maps(1000, 1000, 3124, 100, &e), SFT_OK);
    assert_int_equal(eng_check_maps(1001, 1001, 3124, 100, &e), SFT_EINFEASIBLE);
    /* one actor per GPU (a collective): (3124 - 100 - 1024) / 2 = 1000 */
    assert_int_equal(named_fit(e.msg), 1000);
    /* nothing left at all: the largest size is 0, still a clear refusal */
    assert_int_equal(eng_check_maps(10, 10, 500, 600, &e), SFT_EINFEASIBLE);
    assert_int_equal(named_fit(e.msg), 0);
    /* an unknown limit or mapping count (no /proc) is no reason to refuse */
    assert_int_equal(eng_check_maps(1 << 20, 1 << 18, -1, 100, &e), SFT_OK);
    assert_int_equal(eng_check_maps(1 << 20, 1 << 18, 65530, -1, &e), SFT_OK);
}

static void maps_probes_read_this_machine(void **state)
{
    (void)state;
    long lim = eng_max_map_count(), used = eng_maps_in_use();
    if (lim < 0 || used < 0) skip(); /* no /proc */
    /* a linked process maps its binary, libraries, heap and stack: dozens at
     * least; and the kernel's default limit is 65530 */
    assert_true(used >= 20);
    assert_true(used < lim);
    assert_true(lim >= 1024);
}

/* `sftsim collective` over more GPUs than this machine's limit allows (one
 * actor per GPU): exit 3 before any simulation, naming the largest size. */
static void maps_cli_at_the_real_limit(void **state)
{
    (void)state;
    long lim = eng_max_map_count();
    if (lim < 0) skip();
    /* (limit - margin) / 2 GPUs is an upper bound of what fits; 1024 more,
     * in whole nodes of 8, cannot fit whatever the process has in use */
    long n = ((lim - ENG_MAPS_MARGIN) / ENG_MAPS_PER_ACTOR + 1024) / 8 * 8;
    if (n > 131072) skip(); /* beyond the CLI's --gpus bound: nothing to refuse */
    char gpus[32];
    snprintf(gpus, sizeof gpus, "%ld", n);
    const char *argv[] = {NULL, "collective", "--op", "all_reduce", "--gpus", gpus, NULL};
    char *out, *err;
    double t0 = sft_wall();
    int rc = tu_run(argv, &out, &err);
    double wall = sft_wall() - t0;
    if (rc != 3) fail_msg("exit %d, want 3: %s", rc, err);
    assert_non_null(strstr(err, "vm.max_map_count"));
    assert_non_null(strstr(err, gpus));
    /* the named size: (limit - margin - in use) / 2, with between 20 and
     * 4000 mappings in use in a fresh process (sanitizer builds map more) */
    long fit = named_fit(err);
    assert_true(fit <= (lim - ENG_MAPS_MARGIN - 20) / 2);
    assert_true(fit >= (lim - ENG_MAPS_MARGIN - 4000) / 2);
    /* refused before the platform is built or anything simulated */
    assert_true(wall < 30);
    free(out);
    free(err);
}

/* ---- 16-bit name ids ------------------------------------------------------- */

/* Runs fn in a child; returns its stderr; *sig receives the signal that
 * ended it (0 if it exited). */
static char *in_child(void (*fn)(void), int *sig)
{
    char path[600];
    snprintf(path, sizeof path, "%s/child.err", tu_tmpdir());
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(path, "wb", stderr)) _exit(127);
        setvbuf(stderr, NULL, _IONBF, 0); /* as a process's own stderr: abort flushes nothing */
        fn();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    *sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    return tu_slurp(path);
}

static void intern_past_the_limit(void)
{
    prog *p = prog_create(1);
    char name[32];
    for (int i = 0; i <= PROG_MAX_NAME; i++) {
        snprintf(name, sizeof name, "op%d", i);
        if (prog_intern(p, name) != i) _exit(3); /* ids are dense, from 0 */
    }
    if (prog_intern(p, "op0") != 0) _exit(4); /* known names still resolve */
    prog_intern(p, "one too many");           /* must abort here */
    _exit(5);
}

static void intern_refuses_the_65537th_name(void **state)
{
    (void)state;
    int sig;
    char *err = in_child(intern_past_the_limit, &sig);
    /* 65536 names (ids 0..65535) fit prog_op.name's 16 bits; the next one
     * aborts with the limit named instead of wrapping to id 0 */
    if (sig != SIGABRT) fail_msg("child ended with signal %d: %s", sig, err);
    if (!strstr(err, "more than 65536 distinct op names")) fail_msg("child's stderr: %s", err);
    assert_non_null(strstr(err, "one too many"));
    free(err);
}

static void push_unknown_name(void)
{
    prog *p = prog_create(1);
    prog_intern(p, "only");
    prog_push(p, 0, PROG_COMPUTE, PK_COMPUTE, 65536); /* would wrap to id 0 */
    _exit(5);
}

static void push_refuses_a_name_never_interned(void **state)
{
    (void)state;
    int sig;
    char *err = in_child(push_unknown_name, &sig);
    if (sig != SIGABRT) fail_msg("child ended with signal %d: %s", sig, err);
    if (!strstr(err, "name id 65536 not interned")) fail_msg("child's stderr: %s", err);
    free(err);
}

/* ---- the 1024-GPU run ------------------------------------------------------ */

/* A strict JSON parser (RFC 8259) over a buffer that counts the trace's
 * events by phase: objects with a "ph" member. */
typedef struct jp {
    const char *s, *end;
    int ok;
    long long ph[128]; /* objects by the first byte of their "ph" value */
} jp;

/* The text is NUL-terminated (a NUL inside it stops every scan and fails
 * the parse), so the byte classes are scanned by strspn / strcspn: one
 * library call per run of bytes, which keeps the sanitizer build fast. */
static void jws(jp *j)
{
    j->s += strspn(j->s, " \t\n\r");
}

static int jfail(jp *j)
{
    j->ok = 0;
    return 0;
}

/* A string; *a, *n receive its raw contents. */
static int jstring(jp *j, const char **a, size_t *n)
{
    if (j->s >= j->end || *j->s != '"') return jfail(j);
    static const char stop[] = "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                               "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f";
    const char *p = ++j->s;
    while (j->s += strcspn(j->s, stop), j->s < j->end && *j->s != '"') {
        unsigned char c = (unsigned char)*j->s;
        if (c < 0x20) return jfail(j);
        if (c == '\\') {
            if (++j->s >= j->end) return jfail(j);
            char x = *j->s;
            if (x == 'u') {
                for (int k = 0; k < 4; k++) {
                    if (++j->s >= j->end || !strchr("0123456789abcdefABCDEF", *j->s) || !*j->s)
                        return jfail(j);
                }
            } else if (!strchr("\"\\/bfnrt", x) || !x) {
                return jfail(j);
            }
        }
        j->s++;
    }
    if (j->s >= j->end) return jfail(j);
    if (a) *a = p;
    if (n) *n = (size_t)(j->s - p);
    j->s++;
    return 1;
}

static int digits(jp *j)
{
    size_t n = strspn(j->s, "0123456789");
    j->s += n;
    return n > 0;
}

static int jnumber(jp *j)
{
    if (j->s < j->end && *j->s == '-') j->s++;
    if (j->s < j->end && *j->s == '0')
        j->s++;
    else if (!digits(j))
        return jfail(j);
    if (j->s < j->end && *j->s == '.' && (j->s++, !digits(j))) return jfail(j);
    if (j->s < j->end && (*j->s == 'e' || *j->s == 'E')) {
        j->s++;
        if (j->s < j->end && (*j->s == '+' || *j->s == '-')) j->s++;
        if (!digits(j)) return jfail(j);
    }
    return 1;
}

static int jvalue(jp *j, int depth);

static int jobject(jp *j, int depth)
{
    j->s++;
    jws(j);
    if (j->s < j->end && *j->s == '}') return j->s++, 1;
    for (;;) {
        const char *k;
        size_t kn;
        jws(j);
        if (!jstring(j, &k, &kn)) return 0;
        jws(j);
        if (j->s >= j->end || *j->s++ != ':') return jfail(j);
        jws(j);
        if (kn == 2 && memcmp(k, "ph", 2) == 0 && j->s < j->end && *j->s == '"') {
            const char *v;
            size_t vn;
            if (!jstring(j, &v, &vn)) return 0;
            if (vn == 1 && (unsigned char)v[0] < 128) j->ph[(unsigned char)v[0]]++;
        } else if (!jvalue(j, depth + 1)) {
            return 0;
        }
        jws(j);
        if (j->s >= j->end) return jfail(j);
        if (*j->s == '}') return j->s++, 1;
        if (*j->s++ != ',') return jfail(j);
    }
}

static int jarray(jp *j, int depth)
{
    j->s++;
    jws(j);
    if (j->s < j->end && *j->s == ']') return j->s++, 1;
    for (;;) {
        jws(j);
        if (!jvalue(j, depth + 1)) return 0;
        jws(j);
        if (j->s >= j->end) return jfail(j);
        if (*j->s == ']') return j->s++, 1;
        if (*j->s++ != ',') return jfail(j);
    }
}

static int jliteral(jp *j, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->s) < n || memcmp(j->s, lit, n) != 0) return jfail(j);
    j->s += n;
    return 1;
}

static int jvalue(jp *j, int depth)
{
    if (depth > 64 || j->s >= j->end) return jfail(j);
    switch (*j->s) {
    case '{':
        return jobject(j, depth);
    case '[':
        return jarray(j, depth);
    case '"':
        return jstring(j, NULL, NULL);
    case 't':
        return jliteral(j, "true");
    case 'f':
        return jliteral(j, "false");
    case 'n':
        return jliteral(j, "null");
    default:
        return jnumber(j);
    }
}

/* Parses text (NUL-terminated, len bytes) as one JSON document into *j. */
static int parse_doc(const char *text, size_t len, jp *j)
{
    memset(j, 0, sizeof *j);
    j->s = text;
    j->end = text + len;
    j->ok = 1;
    jws(j);
    int ok = jvalue(j, 0);
    jws(j);
    return ok && j->ok && j->s == j->end;
}

/* The parser the 1024-GPU test trusts: it counts phases and rejects what
 * is not JSON, a truncated trace first of all. */
static void parser_is_strict(void **state)
{
    (void)state;
    static const char good[] =
        "{\"traceEvents\":[\n{\"ph\":\"X\",\"ts\":1.5,\"args\":{\"a\":[-0.5e3,"
        "true,null]}},\n{\"ph\":\"M\",\"name\":\"a\\\"b\\u00e9\"},"
        "{\"ph\":\"X\"}\n]}\n";
    jp j;
    assert_true(parse_doc(good, strlen(good), &j));
    assert_int_equal(j.ph['X'], 2);
    assert_int_equal(j.ph['M'], 1);
    static const char *const bad[] = {
        "{\"traceEvents\":[{\"ph\":\"X\"}",    /* truncated: the array never closes */
        "{\"traceEvents\":[{\"ph\":\"X\"},]}", /* trailing comma */
        "{\"a\":01}",                          /* leading zero */
        "{\"a\":\"\\x\"}",                     /* bad escape */
        "{\"a\":\"\x01\"}",                    /* raw control character */
        "{\"a\":1}{}",                         /* two documents */
        "{\"a\":tru}",                         /* bad literal */
        "{\"a\" 1}",                           /* missing colon */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (parse_doc(bad[i], strlen(bad[i]), &j)) fail_msg("accepted: %s", bad[i]);
}

/* Gunzips path whole, NUL-terminated (caller frees); *len receives its size. */
static char *gunzip(const char *path, size_t *len)
{
    gzFile z = gzopen(path, "rb");
    if (!z) fail_msg("cannot open %s", path);
    gzbuffer(z, 1 << 20);
    size_t cap = 1 << 24, n = 0;
    char *buf = malloc(cap + 1);
    int k;
    while ((k = gzread(z, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)k;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    buf[n] = 0;
    int errnum = 0;
    const char *why = gzerror(z, &errnum);
    if (k < 0 || errnum != Z_OK) fail_msg("%s: not a complete gzip stream (%s)", path, why);
    gzclose(z);
    *len = n;
    return buf;
}

/* Rows of a table of the timeline. */
static long long table_rows(hid_t f, const char *table)
{
    hsize_t nf = 0, nr = 0;
    if (H5TBget_table_info(f, table, &nf, &nr) < 0) fail_msg("timeline lacks table %s", table);
    return (long long)nr;
}

/* The program's op count for the same options, through the library: the
 * steps scheduled and built exactly as scen_simulate builds them, without
 * simulating them (the count does not depend on the simulation). */
static uint64_t expected_ops(const char *const *args)
{
    char *argv[32];
    int argc = 0;
    for (int i = 0; args[i]; i++) argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    scen_opts o;
    scenario s;
    sft_err e = {0};
    if (scen_parse(argc, argv, "run", &o, NULL, NULL, NULL, &e) || scen_resolve(&o, &s, &e))
        fail_msg("scenario: %s", e.msg);
    scen_result *r = NULL;
    if (scen_schedule(&s, s.policy, &r, &e)) fail_msg("schedule: %s", e.msg);
    prog *p = prog_create(clu_ngpus(&s.cl));
    wl_builder *b = s.fam->builder_create(p, s.model, s.c, &s.cl, &s.par, s.layer_granularity);
    for (int k = 0; k < r->nplans; k++)
        if (s.fam->build_step(b, r->plans[k], k, &e)) fail_msg("build: %s", e.msg);
    uint64_t n = prog_total_ops(p);
    s.fam->builder_destroy(b);
    prog_destroy(p);
    scen_result_destroy(r);
    scen_release(&s);
    return n;
}

static void run_1024(const char *gran)
{
    const char *args[] = {"run", "--gpus",  "1024", "--dp",          "128", "--cp",
                          "8",   "--steps", "1",    "--granularity", gran,  NULL};
    char name[32];
    snprintf(name, sizeof name, "g1024-%s", gran);
    double t0 = sft_wall();
    const char *dir = tu_run_out(name, args); /* fails unless exit 0 */
    double t_cli = sft_wall() - t0;
    char path[1024];
    /* every output complete, no temporary left behind */
    static const char *const files[] = {"summary.json", "timeline.h5", "trace.json.gz",
                                        "gantt.png",    "gantt.svg",   "schedule.dot"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (!sft_file_exists(path)) fail_msg("%s missing", path);
    }
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));)
        if (strstr(de->d_name, ".tmp.")) fail_msg("temporary %s left in %s", de->d_name, dir);
    closedir(d);

    snprintf(path, sizeof path, "%s/timeline.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) fail_msg("cannot open %s", path);
    long long rows = table_rows(f, "events");
    assert_int_equal(table_rows(f, "gpus"), 1024);
    H5Fclose(f);

    t0 = sft_wall();
    snprintf(path, sizeof path, "%s/trace.json.gz", dir);
    size_t len;
    char *text = gunzip(path, &len);
    jp j;
    if (!parse_doc(text, len, &j) || text[0] != '{')
        fail_msg("%s: not one JSON document (stops at byte %ld of %zu)", path, (long)(j.s - text),
                 len);
    assert_non_null(strstr(text, "\"traceEvents\":["));
    free(text);
    double t_parse = sft_wall() - t0;

    t0 = sft_wall();
    uint64_t ops = expected_ops(args);
    double t_lib = sft_wall() - t0;
    /* one X slice per op of the program, and one /events row per op */
    assert_int_equal(j.ph['X'], ops);
    assert_int_equal(rows, ops);
    /* the metadata that overran its reservation: per GPU process_name and
     * process_sort_index, and thread_name and thread_sort_index for each
     * of the 3 streams (every GPU uses all three in a training step) */
    assert_int_equal(j.ph['M'], 1024 * (2 + 3 * 2));
    /* flow arrows come in start / finish pairs */
    assert_int_equal(j.ph['s'], j.ph['f']);
    assert_true(j.ph['s'] > 0);
    assert_true(j.ph['C'] > 0); /* memory counters */
    /* 134 MB of outputs per granularity: not left behind in /tmp */
    d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(dir);
    fprintf(stderr,
            "[ %s ] cli %.1f s, trace %zu MB parsed in %.1f s, ops rebuilt %.1f s: %llu ops\n",
            gran, t_cli, len >> 20, t_parse, t_lib, (unsigned long long)ops);
}

static void run_1024_op(void **state)
{
    (void)state;
    run_1024("op");
}

static void run_1024_layer(void **state)
{
    (void)state;
    run_1024("layer");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(maps_refuses_with_largest_size),
        cmocka_unit_test(maps_boundary_and_unknown),
        cmocka_unit_test(maps_probes_read_this_machine),
        cmocka_unit_test(maps_cli_at_the_real_limit),
        cmocka_unit_test(intern_refuses_the_65537th_name),
        cmocka_unit_test(push_refuses_a_name_never_interned),
        cmocka_unit_test(parser_is_strict),
    };
    const struct CMUnitTest big[] = {
        cmocka_unit_test(run_1024_op),
        cmocka_unit_test(run_1024_layer),
    };
    int want_big = argc > 1 && strcmp(argv[1], "big") == 0;
    if (want_big) return cmocka_run_group_tests_name("scale_1024", big, NULL, NULL);
    return cmocka_run_group_tests_name("scale", unit, NULL, NULL);
}
