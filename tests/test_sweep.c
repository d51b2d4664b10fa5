/* test_sweep.c — `sftsim sweep` end to end: a sweep killed midway (kill -9,
 * SIGINT, SIGTERM, at several moments) leaves complete files or none and,
 * resumed, writes the same bytes as an uninterrupted one; a resume whose
 * options, version or input files differ is refused before anything runs;
 * a bad list item is an error before any point runs; workers die with
 * their parent; mpirun -n 2 gives the same rows as -j 2; impossible points
 * are rows with a reason; a point's rows, in process, for any number of
 * policies. (Not in the sanitizer build: it forks and kills
 * workers and runs mpirun.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include "lab/pool.h"
#include "tutil.h"

#define GRID                                                                                       \
    "--cluster", "h100x8", "--cp", "2,4,8", "--batch", "48,96", "--ds-pack", "off", "--steps",     \
        "2", "--policies", "deepspeed,skrull"

static const char *dir(const char *name)
{
    static char buf[4][600];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 600, "%s/%s", tu_tmpdir(), name);
    return p;
}

static int points_in(const char *d)
{
    char path[700];
    snprintf(path, sizeof path, "%s/sweep.json", d);
    char *t = tu_slurp(path);
    cJSON *j = cJSON_Parse(t);
    free(t);
    int n = j ? cJSON_GetArraySize(cJSON_GetObjectItem(j, "points")) : 0;
    cJSON_Delete(j);
    return n;
}

static void same_file(const char *a, const char *b, const char *name)
{
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/%s", a, name);
    snprintf(pb, sizeof pb, "%s/%s", b, name);
    char *x = tu_slurp(pa), *y = tu_slurp(pb);
    if (!x[0] || strcmp(x, y) != 0) fail_msg("%s differs between %s and %s", name, a, b);
    free(x);
    free(y);
}

/* Binary files: the same length and bytes. */
static void same_bytes(const char *a, const char *b, const char *name)
{
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/%s", a, name);
    snprintf(pb, sizeof pb, "%s/%s", b, name);
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    sft_err e;
    if (sft_read_file(pa, &x, &nx, &e) || sft_read_file(pb, &y, &ny, &e))
        fail_msg("%s: %s", name, e.msg);
    if (nx != ny || memcmp(x, y, nx) != 0) fail_msg("%s differs between %s and %s", name, a, b);
    free(x);
    free(y);
}

/* A 6-point sweep (CP 2,4,8 x batch 48,96; 2 rows per point) killed with
 * SIGKILL once its first point is on disk, then resumed: every file
 * (sweep.json, .csv, .h5, .png, .svg) equals that of a run that was never
 * interrupted. */
static void kill_and_resume(void **state)
{
    (void)state;
    const char *full = dir("full"), *cut = dir("cut");
    const char *a1[] = {NULL, "sweep", GRID, "-j", "1", "--out", full, NULL};
    char *out, *err;
    assert_int_equal(tu_run(a1, &out, &err), 0);
    free(out);
    free(err);
    assert_int_equal(points_in(full), 12);

    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
        execl(tu_sftsim(), "sftsim", "sweep", GRID, "-j", "1", "--out", cut, (char *)NULL);
        _exit(127);
    }
    int seen = 0;
    for (int i = 0; i < 60000 && seen == 0; i++) {
        seen = points_in(cut);
        if (!seen) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    int at_kill = points_in(cut);
    print_message("killed with %d of 12 rows written\n", at_kill);
    assert_true(at_kill > 0 && at_kill < 12); /* really midway */

    const char *a2[] = {NULL, "sweep", GRID, "-j", "2", "--resume", "--out", cut, NULL};
    assert_int_equal(tu_run(a2, &out, &err), 0);
    free(out);
    free(err);
    same_file(full, cut, "sweep.json");
    same_file(full, cut, "sweep.csv");
    same_bytes(full, cut, "sweep.h5");
    same_bytes(full, cut, "sweep.png");
    same_bytes(full, cut, "sweep.svg");

    /* a different grid in the same directory is refused, naming the list */
    const char *a3[] = {NULL,  "sweep",    "--cluster", "h100x8", "--cp",
                        "4,8", "--resume", "--out",     cut,      NULL};
    assert_int_equal(tu_run(a3, &out, &err), 2);
    char want[1200];
    snprintf(want, sizeof want,
             "sftsim: --resume %s: --cp is 4,8 here but 2,4,8 in %s/sweep.json; rerun without "
             "--resume or into another directory\n",
             cut, cut);
    assert_string_equal(err, want);
    free(out);
    free(err);
}

/* mpirun -n 2 (points dealt to two ranks, rank 0 writes) gives the same
 * rows as two worker processes. Skips when this build has no MPI. */
static void mpi_matches_jobs(void **state)
{
    (void)state;
    const char *mpi = "/usr/bin/mpirun";
#ifndef SFT_HAVE_MPI
    print_message("built without MPI: skipped\n");
    return;
#endif
    if (access(mpi, X_OK) != 0) fail_msg("MPI build but no %s", mpi);
    const char *dj = dir("jobs"), *dm = dir("mpi");
    const char *a1[] = {NULL,  "sweep",   "--cluster", "h100x8",  "--cp",
                        "2,8", "--batch", "16,32",     "--steps", "1",
                        "-j",  "2",       "--out",     dj,        NULL};
    char *out, *err;
    assert_int_equal(tu_run(a1, &out, &err), 0);
    free(out);
    free(err);
    const char *a2[] = {mpi,
                        "-n",
                        "2",
                        "--oversubscribe",
                        "--allow-run-as-root",
                        tu_sftsim(),
                        "sweep",
                        "--cluster",
                        "h100x8",
                        "--cp",
                        "2,8",
                        "--batch",
                        "16,32",
                        "--steps",
                        "1",
                        "-j",
                        "1",
                        "--out",
                        dm,
                        NULL};
    int rc = tu_run(a2, &out, &err);
    if (rc != 0) fail_msg("mpirun exit %d: %s", rc, err);
    assert_non_null(strstr(err, "over 2 MPI ranks")); /* the points were really dealt out */
    free(out);
    free(err);
    same_file(dj, dm, "sweep.csv");
    same_file(dj, dm, "sweep.json");
}

/* Impossible degrees are rows with a reason; the sweep itself succeeds. */
static void infeasible_rows(void **state)
{
    (void)state;
    const char *argv[] = {NULL,      "sweep", "--cluster", "h100x8", "--cp", "3,8",
                          "--steps", "1",     "--format",  "json",   NULL};
    char *out, *err;
    assert_int_equal(tu_run(argv, &out, &err), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    int infeasible = 0, ok = 0;
    for (cJSON *r = cJSON_GetObjectItem(j, "points")->child; r; r = r->next) {
        const char *st = cJSON_GetObjectItem(r, "status")->valuestring;
        if (strcmp(st, "infeasible") == 0) {
            infeasible++;
            assert_non_null(strstr(cJSON_GetObjectItem(r, "reason")->valuestring, "GPUs"));
            assert_int_equal((int)cJSON_GetObjectItem(r, "cp")->valuedouble, 3);
        } else {
            ok++;
        }
    }
    assert_int_equal(infeasible, 2); /* CP 3 does not divide 8 GPUs: both policies */
    assert_int_equal(ok, 2);
    cJSON_Delete(j);
    free(out);
    free(err);
}

/* ---- bad lists ------------------------------------------------------------ */

/* A bad or empty item is exit 2 with one line naming the option and the
 * item, before any point runs: nothing on stdout, no progress line, and the
 * --out directory not even created (the lists are checked first). */
static void bad_lists(void **state)
{
    (void)state;
    static char many[400];
    if (!many[0]) {
        size_t off = 0;
        for (int i = 1; i <= 65; i++)
            off += (size_t)snprintf(many + off, sizeof many - off, "%s%d", i > 1 ? "," : "", 8 * i);
    }
    static const struct {
        const char *opt, *val, *msg;
    } cases[] = {
        {"--gpus", "8,abc", "--gpus '8,abc': item 2 'abc': expected an integer in [1, 131072]"},
        {"--gpus", "8,,16",
         "--gpus '8,,16': item 2 is empty (separate values by single commas, none before the "
         "first or after the last)"},
        {"--gpus", "", "--gpus '': no value (give one, or several separated by commas)"},
        {"--gpus", ",",
         "--gpus ',': item 1 is empty (separate values by single commas, none before the first "
         "or after the last)"},
        {"--gpus", "8,16,",
         "--gpus '8,16,': item 3 is empty (separate values by single commas, none before the "
         "first or after the last)"},
        {"--gpus", "8,16,8", "--gpus '8,16,8': item 3 '8': repeats item 1 (give each value once)"},
        {"--gpus", NULL, NULL}, /* 65 values: many[] */
        {"--policies", "deepspeed,nope",
         "--policies 'deepspeed,nope': item 2 'nope': policy 'nope': unknown (valid: deepspeed, "
         "sorted, roundrobin, dacp, skrull, optimal)"},
        {"--policies", "", "--policies '': no value (give one, or several separated by commas)"},
        {"--cp-impl", "ring,foo",
         "--cp-impl 'ring,foo': item 2 'foo': valid values are allgather, ulysses, ring"},
        {"--steps", "abc",
         "--steps 'abc': expected an integer in [0, 100000], or auto (until the standard "
         "error of the mean step time is below 2% of it, at most 64 steps) or auto:CAP with CAP "
         "in [2, 100000]"},
        {"--host-overhead-ms", "1,-2",
         "--host-overhead-ms '1,-2': item 2 '-2': expected a number in [0, 60000]"},
        {"--dataset", "wikipedia,nosuch",
         "--dataset 'wikipedia,nosuch': item 2 'nosuch': unknown dataset 'nosuch' (no such "
         "file, and not one of: chatqa2, llama3-sft, lmsyschat1m, wikipedia)"},
    };
    const char *d = dir("bad-lists");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *val = cases[i].val ? cases[i].val : many;
        /* the option under test comes last so that it wins over the grid's */
        const char *argv[] = {NULL, "sweep", "--gpus", "8,16",       "--steps", "1", "--batch",
                              "4",  "--out", d,        cases[i].opt, val,       NULL};
        char *out, *err;
        int rc = tu_run(argv, &out, &err);
        char want[1024];
        if (cases[i].msg)
            snprintf(want, sizeof want, "sftsim: %s\n", cases[i].msg);
        else
            snprintf(want, sizeof want, "sftsim: --gpus '%.200s...': 65 values, at most 64\n",
                     many);
        if (rc != 2 || strcmp(err, want) != 0)
            fail_msg("%s '%.40s': exit %d, stderr '%s', want exit 2 and '%s'", cases[i].opt, val,
                     rc, err, want);
        assert_string_equal(out, "");
        struct stat st;
        assert_int_not_equal(stat(d, &st), 0); /* checked before --out was created */
        free(out);
        free(err);
    }
}

/* ---- files after a kill ----------------------------------------------------- */

static char *read_all(const char *d, const char *name, size_t *n)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", d, name);
    char *x = NULL;
    sft_err e;
    if (sft_read_file(p, &x, n, &e)) return NULL;
    return x;
}

/* How many "*.tmp.<pid>" are in d; their names into names (when not NULL). */
static int temporaries_named(const char *d, char *names, size_t len)
{
    DIR *dd = opendir(d);
    if (names) names[0] = '\0';
    if (!dd) return 0;
    int n = 0;
    size_t off = 0;
    struct dirent *de;
    while ((de = readdir(dd)))
        if (strstr(de->d_name, ".tmp.")) {
            if (names && off < len)
                off += (size_t)snprintf(names + off, len - off, " %s", de->d_name);
            n++;
        }
    closedir(dd);
    return n;
}

static int temporaries(const char *d)
{
    return temporaries_named(d, NULL, 0);
}

/* Every final name holds a whole file or nothing: sweep.json parses with a
 * scenario record per point it holds, sweep.csv ends its last line, the HDF5
 * file opens (a cut one does not: its superblock names a longer end), the
 * PNG ends with its IEND chunk, the SVG with its closing tag. Returns how
 * many points sweep.json holds. */
static int whole_or_absent(const char *d)
{
    size_t n;
    int pts = 0;
    char *j = read_all(d, "sweep.json", &n);
    if (j) {
        cJSON *doc = cJSON_Parse(j);
        if (!doc) fail_msg("%s/sweep.json: cut (not JSON)", d);
        const cJSON *rows = cJSON_GetObjectItem(doc, "points");
        const cJSON *sc = cJSON_GetObjectItem(doc, "scenarios");
        assert_true(cJSON_IsArray(rows) && cJSON_IsArray(sc));
        pts = cJSON_GetArraySize(sc);
        assert_int_equal(cJSON_GetArraySize(rows), 2 * pts); /* two policies per point */
        cJSON_Delete(doc);
        free(j);
    }
    char *c = read_all(d, "sweep.csv", &n);
    if (c) {
        assert_true(n > 0 && c[n - 1] == '\n' && strncmp(c, "point,", 6) == 0);
        free(c);
    }
    char p[700];
    snprintf(p, sizeof p, "%s/sweep.h5", d);
    if (sft_file_exists(p)) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0) fail_msg("%s: cut (HDF5 cannot open it)", p);
        H5Fclose(f);
    }
    unsigned char *g = (unsigned char *)read_all(d, "sweep.png", &n);
    if (g) {
        static const unsigned char iend[12] = {0,   0,   0,    0,    'I',  'E',
                                               'N', 'D', 0xae, 0x42, 0x60, 0x82};
        assert_true(n > 20 && memcmp(g + 1, "PNG", 3) == 0 && memcmp(g + n - 12, iend, 12) == 0);
        free(g);
    }
    char *v = read_all(d, "sweep.svg", &n);
    if (v) {
        assert_true(n > 7 && strcmp(v + n - 7, "</svg>\n") == 0);
        free(v);
    }
    return pts;
}

static void same_outputs(const char *a, const char *b)
{
    same_file(a, b, "sweep.json");
    same_file(a, b, "sweep.csv");
    same_bytes(a, b, "sweep.h5");
    same_bytes(a, b, "sweep.png");
    same_bytes(a, b, "sweep.svg");
}

static void rm_rf(const char *d)
{
    DIR *dd = opendir(d);
    if (!dd) return;
    struct dirent *de;
    char p[1200];
    while ((de = readdir(dd))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        snprintf(p, sizeof p, "%s/%s", d, de->d_name);
        unlink(p);
    }
    closedir(dd);
    rmdir(d);
}

/* Starts sftsim with args (argv[0] omitted) in a process group of its own,
 * output discarded. */
static pid_t spawn(const char *const *args)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
        const char *av[64];
        int n = 0;
        av[n++] = tu_sftsim();
        for (int i = 0; args[i] && n < 63; i++) av[n++] = args[i];
        av[n] = NULL;
        execv(av[0], (char *const *)av);
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so that the group exists when either returns */
    return pid;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Processes of group pg other than its leader (from /proc). */
static int group_members(pid_t pg)
{
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid = atol(de->d_name);
        if (pid <= 0 || pid == pg) continue;
        char p[64], buf[512];
        snprintf(p, sizeof p, "/proc/%ld/stat", pid);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = '\0';
        char *rp = strrchr(buf, ')'), st;
        int ppid, pgrp;
        if (rp && sscanf(rp + 1, " %c %d %d", &st, &ppid, &pgrp) == 3 && pgrp == pg && st != 'Z')
            n++;
    }
    closedir(d);
    return n;
}

/* Waits up to ms for group pg to be empty, reaping the orphans that were
 * reparented to this process (a subreaper, see main). 1 when empty. */
static int group_gone(pid_t pg, int ms)
{
    for (int t = 0; t <= ms; t += 5) {
        while (waitpid(-pg, NULL, WNOHANG) > 0) continue;
        if (kill(-pg, 0) != 0 && errno == ESRCH) return 1;
        nap_ms(5);
    }
    return 0;
}

/* The kill grid: 6 points (CP 2,4,8 x batch 16,24, one sequence per
 * micro-batch), about 2 s with two workers. */
#define KGRID                                                                                      \
    "sweep", "--cluster", "h100x8", "--cp", "2,4,8", "--batch", "16,24", "--ds-pack", "off",       \
        "--steps", "1", "-j", "2"

enum moment { AT_START, WHILE_REWRITING, BETWEEN_POINTS };
static const char *const moment_name[] = {"as it starts", "while it rewrites a file",
                                          "between points"};

static int has(const char *d, const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", d, name);
    return sft_file_exists(p);
}

/* Whether the moment has come in d: --out prepared (the work begins); a
 * temporary beside files already written (a later point's rewrite: the
 * final names hold the previous version); the first point's five files
 * all written (the workers compute). */
static int moment_reached(const char *d, enum moment m)
{
    struct stat st;
    if (m == AT_START) return stat(d, &st) == 0;
    if (m == WHILE_REWRITING) return has(d, "sweep.svg") && temporaries(d) > 0;
    return has(d, "sweep.svg");
}

/* Runs the kill grid into d, sends sig at moment m; returns 1 if the moment
 * came before the sweep ended (0: it finished first). */
static int kill_at(const char *d, int sig, enum moment m)
{
    const char *args[] = {KGRID, "--out", d, NULL};
    pid_t pid = spawn(args);
    int hit = 0, st = 0;
    for (long i = 0; i < 20000000L; i++) {
        if (moment_reached(d, m)) {
            kill(pid, sig);
            hit = 1;
            break;
        }
        if (waitpid(pid, &st, WNOHANG) == pid) return 0;
        if (m != WHILE_REWRITING) nap_ms(1); /* a write lasts milliseconds: poll it flat out */
    }
    assert_true(hit);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    /* the signal ended it (the cleanup handler re-raises it) */
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == sig))
        fail_msg("signal %d %s: status 0x%x", sig, moment_name[m], st);
    /* and its workers: none outlives it by a second */
    if (!group_gone(pid, 1000)) fail_msg("a worker survived signal %d", sig);
    return 1;
}

/* SIGKILL, SIGINT and SIGTERM, each as the sweep starts, while it rewrites
 * a file and between points: the final names hold whole files or nothing; SIGINT and SIGTERM leave
 * no temporary (the handler removes them), and after kill -9 the next run removes the dead one's;
 * the resumed sweep's five files are byte for byte those of a sweep never
 * interrupted; and resuming with another --steps is refused with exit 2,
 * touching nothing. */
static void kills_at_moments(void **state)
{
    (void)state;
    const char *ref = dir("kill-ref");
    const char *ra[] = {KGRID, "--out", ref, NULL};
    char *out, *err;
    if (tu_run_with(ra, NULL, NULL, &out, &err) != 0) fail_msg("reference sweep: %s", err);
    free(out);
    free(err);
    assert_int_equal(whole_or_absent(ref), 6);
    static const int sigs[] = {SIGKILL, SIGINT, SIGTERM};
    for (int si = 0; si < 3; si++)
        for (int m = AT_START; m <= BETWEEN_POINTS; m++) {
            char name[64];
            snprintf(name, sizeof name, "kill-%d-%d", sigs[si], m);
            const char *d = dir(name);
            int tries = 0;
            while (!kill_at(d, sigs[si], (enum moment)m)) {
                rm_rf(d); /* the sweep ended before the moment: again */
                if (++tries == 5) fail_msg("never caught the sweep %s", moment_name[m]);
            }
            int pts = whole_or_absent(d);
            char names[512];
            int tmps = temporaries_named(d, names, sizeof names);
            print_message("signal %2d %-24s: %d of 6 points on disk, temporaries left:%s\n",
                          sigs[si], moment_name[m], pts, tmps ? names : " none");
            assert_true(pts < 6); /* really before the end */
            if (sigs[si] != SIGKILL) assert_int_equal(tmps, 0);
            if (m == BETWEEN_POINTS) {
                /* a changed option: refused, nothing runs, nothing changes */
                char *before = read_all(d, "sweep.json", &(size_t){0});
                const char *ch[] = {KGRID, "--steps", "2", "--resume", "--out", d, NULL};
                assert_int_equal(tu_run_with(ch, NULL, NULL, &out, &err), 2);
                char want[1200];
                snprintf(want, sizeof want,
                         "sftsim: --resume %s: --steps is 2 here but 1 in %s/sweep.json; rerun "
                         "without --resume or into another directory\n",
                         d, d);
                assert_string_equal(err, want);
                free(out);
                free(err);
                char *after = read_all(d, "sweep.json", &(size_t){0});
                assert_string_equal(before, after);
                free(before);
                free(after);
            }
            const char *rs[] = {KGRID, "--resume", "--out", d, NULL};
            if (tu_run_with(rs, NULL, NULL, &out, &err) != 0) fail_msg("resume: %s", err);
            free(out);
            free(err);
            assert_int_equal(temporaries(d), 0); /* --out's preparation removed the dead ones */
            same_outputs(ref, d);
        }
}

/* ---- workers die with their parent ------------------------------------------ */

/* Two long points (about 5 s each) on two workers: once both run, the
 * parent is killed (kill -9: nothing to catch; SIGTERM: its handler) and
 * within a second no process of its group is left. Without
 * PR_SET_PDEATHSIG the workers would finish their points, seconds later. */
static void workers_die_with_parent(void **state)
{
    (void)state;
    static const int sigs[] = {SIGKILL, SIGTERM};
    for (int si = 0; si < 2; si++) {
        char name[32];
        snprintf(name, sizeof name, "orphans-%d", sigs[si]);
        const char *args[] = {"sweep",   "--cluster",  "h100x8",    "--cp", "4,8",
                              "--batch", "200",        "--ds-pack", "off",  "--steps",
                              "2",       "--policies", "deepspeed", "-j",   "2",
                              "--out",   dir(name),    NULL};
        pid_t pid = spawn(args);
        int n = 0;
        for (int t = 0; t < 20000 && n < 2; t += 5) {
            n = group_members(pid);
            if (n < 2) nap_ms(5);
        }
        assert_int_equal(n, 2); /* both workers run */
        double t0 = sft_wall();
        kill(pid, sigs[si]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        int gone = group_gone(pid, 1000);
        print_message("signal %d: workers gone after %.3f s\n", sigs[si], sft_wall() - t0);
        if (!gone) {
            kill(-pid, SIGKILL);
            group_gone(pid, 5000);
            fail_msg("a worker outlived its parent (signal %d) by more than a second", sigs[si]);
        }
    }
}

/* ---- resuming something else ------------------------------------------------- */

/* A two-point sweep, then resumes that differ in one thing each: exit 2
 * before anything runs (no progress line, sweep.json unchanged) with a
 * message naming what differs; the same sweep with a default given
 * explicitly (--seed 0) resolves identically and is reused as it is. */
static void stale_resume_refused(void **state)
{
    (void)state;
    const char *d = dir("stale");
    char model[700];
    snprintf(model, sizeof model, "%s/stale-model.json", tu_tmpdir());
    char src[700];
    snprintf(src, sizeof src, "%s/models/llm/archs/qwen2.5-0.5b.json",
             getenv("SFT_SRC") ? getenv("SFT_SRC") : "..");
    char *mtext = tu_slurp(src);
    assert_true(strlen(mtext) > 100);
    tu_write("stale-model.json", mtext);
    const char *base[] = {"sweep",   "--gpus", "8,16", "--steps", "2",     "--batch", "4",
                          "--model", model,    "-j",   "2",       "--out", d,         NULL};
    char *out, *err;
    if (tu_run_with(base, NULL, NULL, &out, &err) != 0) fail_msg("first run: %s", err);
    free(out);
    free(err);
    char *first = read_all(d, "sweep.json", &(size_t){0});
    assert_non_null(first);
    char pre[700];
    snprintf(pre, sizeof pre, "sftsim: --resume %s: ", d);
    static const struct {
        const char *a, *b, *why;
    } cases[] = {
        {"--steps", "1", "--steps is 1 here but 2 in %s/sweep.json"},
        {"--model", "qwen2.5-7b", "--model is qwen2.5-7b here but %s in %s/sweep.json"},
        {"--gpus", "8,32", "--gpus is 8,32 here but 8,16 in %s/sweep.json"},
        {"--policies", "deepspeed",
         "--policies is deepspeed here but deepspeed,skrull in %s/sweep.json"},
        {"--zero", "1", "--zero is 1 here but not given (2) in %s/sweep.json"},
        {"--cluster", "h100x8",
         "--cluster is h100x8 here but not given (h100x32) in %s/sweep.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {NULL,       "sweep", "--gpus",  "8,16",     "--steps",  "2",
                              "--batch",  "4",     "--model", model,      "-j",       "2",
                              "--resume", "--out", d,         cases[i].a, cases[i].b, NULL};
        assert_int_equal(tu_run(argv, &out, &err), 2);
        char why[1200], want[2000];
        if (strstr(cases[i].why, "qwen2.5-7b here"))
            snprintf(why, sizeof why, cases[i].why, model, d);
        else
            snprintf(why, sizeof why, cases[i].why, d);
        snprintf(want, sizeof want, "%s%s; rerun without --resume or into another directory\n", pre,
                 why);
        assert_string_equal(err, want); /* one line, and no progress: nothing ran */
        assert_string_equal(out, "");
        free(out);
        free(err);
    }
    char *now = read_all(d, "sweep.json", &(size_t){0});
    assert_string_equal(first, now);
    free(now);

    /* the same options, one default given explicitly: every point reused */
    const char *same[] = {NULL,      "sweep", "--gpus",   "8,16",  "--steps", "2",
                          "--batch", "4",     "--model",  model,   "-j",      "2",
                          "--seed",  "0",     "--resume", "--out", d,         NULL};
    assert_int_equal(tu_run(same, &out, &err), 0);
    assert_null(strstr(err, "points done")); /* nothing ran */
    free(out);
    free(err);

    /* the model file edited (one byte more): its digest differs */
    char *edited = sft_xmalloc(strlen(mtext) + 2);
    snprintf(edited, strlen(mtext) + 2, "%s ", mtext);
    tu_write("stale-model.json", edited);
    const char *argv2[] = {NULL, "sweep",   "--gpus", "8,16",     "--steps", "2", "--batch",
                           "4",  "--model", model,    "--resume", "--out",   d,   NULL};
    assert_int_equal(tu_run(argv2, &out, &err), 2);
    char want[2000];
    snprintf(want, sizeof want,
             "%s--model %s: the file's contents differ from those %s/sweep.json was computed "
             "with; rerun without --resume or into another directory\n",
             pre, model, d);
    assert_string_equal(err, want);
    free(out);
    free(err);
    tu_write("stale-model.json", mtext);

    /* another program version wrote it */
    char *j = read_all(d, "sweep.json", &(size_t){0});
    char *v = strstr(j, SFT_VERSION);
    assert_non_null(v);
    char *k = sft_xmalloc(strlen(j) + 32);
    snprintf(k, strlen(j) + 32, "%.*s0.0.0-other%s", (int)(v - j), j, v + strlen(SFT_VERSION));
    char p[700];
    snprintf(p, sizeof p, "%s/sweep.json", d);
    FILE *f = fopen(p, "wb");
    fputs(k, f);
    fclose(f);
    assert_int_equal(tu_run(argv2, &out, &err), 2);
    snprintf(want, sizeof want,
             "%s%s/sweep.json was written by sftsim 0.0.0-other, this is sftsim %s; rerun "
             "without --resume or into another directory\n",
             pre, d, SFT_VERSION);
    assert_string_equal(err, want);
    free(out);
    free(err);
    free(j);
    free(k);
    free(edited);
    free(mtext);
    free(first);
}

/* A point with an "error" row (its worker crashed or was killed) is not a
 * result: --resume runs it again, and only it, and the files come out as
 * those of a run where it never failed. */
static void error_points_rerun(void **state)
{
    (void)state;
    const char *d = dir("error-rerun");
    const char *args[] = {"sweep", "--gpus", "8,16", "--steps", "1", "--batch",
                          "4",     "-j",     "2",    "--out",   d,   NULL};
    char *out, *err;
    if (tu_run_with(args, NULL, NULL, &out, &err) != 0) fail_msg("first run: %s", err);
    free(out);
    free(err);
    size_t n;
    char *good = read_all(d, "sweep.json", &n);
    cJSON *doc = cJSON_Parse(good);
    assert_non_null(doc);
    cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "points"), 3); /* point 1, skrull */
    assert_int_equal(cJSON_GetObjectItem(row, "point")->valueint, 1);
    cJSON_ReplaceItemInObject(row, "status", cJSON_CreateString("error"));
    cJSON_ReplaceItemInObject(row, "reason", cJSON_CreateString("worker killed by signal 9"));
    char *bad = cJSON_Print(doc);
    tu_write("error-rerun/sweep.json", bad);
    free(bad);
    cJSON_Delete(doc);
    const char *res[] = {"sweep", "--gpus", "8,16",     "--steps", "1", "--batch", "4",
                         "-j",    "2",      "--resume", "--out",   d,   NULL};
    if (tu_run_with(res, NULL, NULL, &out, &err) != 0) fail_msg("resume: %s", err);
    assert_non_null(strstr(err, "sftsim: 1/1 points done")); /* point 1 alone ran */
    free(out);
    free(err);
    char *again = read_all(d, "sweep.json", &n);
    assert_string_equal(good, again);
    free(good);
    free(again);
}

/* A point's rows in this process (pool_point_rows), for more policies than
 * the 16 the pool once kept, deepspeed last: every row has sweep.json's
 * fields in sweep.json's order, and its speedup is deepspeed's step time
 * over its own, so deepspeed's is exactly 1. */
static void point_rows_any_policies(void **state)
{
    (void)state;
    scen_opts o = {0};
    o.v[SO_CLUSTER] = "h100x8";
    o.v[SO_DP] = "2";
    o.v[SO_CP] = "4";
    o.v[SO_BATCH] = "4";
    o.v[SO_STEPS] = "1";
    const char *pol[17];
    for (int i = 0; i < 16; i++) pol[i] = i % 2 ? "sorted" : "skrull";
    pol[16] = "deepspeed";
    pool_point pt = {{0}, NULL, 0};
    cJSON *rows = pool_point_rows(&o, &pt, pol, 17);
    assert_int_equal(cJSON_GetArraySize(rows), 17);
    double base =
        cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 16), "mean_step_time_s")->valuedouble;
    static const char *const order[] = {"policy",
                                        "status",
                                        "reason",
                                        "mean_step_time_s",
                                        "oom",
                                        "peak_mem_bytes_min",
                                        "peak_mem_bytes_max",
                                        "mfu",
                                        "bucket",
                                        "speedup_vs_deepspeed",
                                        "speedup_se",
                                        "mean_step_time_se_s",
                                        "steps",
                                        "step_causes",
                                        NULL};
    int i = 0;
    for (const cJSON *r = rows->child; r; r = r->next, i++) {
        const cJSON *f = r->child;
        for (int k = 0; order[k]; k++, f = f->next) assert_string_equal(f->string, order[k]);
        assert_null(f);
        assert_string_equal(cJSON_GetObjectItem(r, "policy")->valuestring, pol[i]);
        double t = cJSON_GetObjectItem(r, "mean_step_time_s")->valuedouble;
        assert_true(cJSON_GetObjectItem(r, "speedup_vs_deepspeed")->valuedouble == base / t);
    }
    assert_true(
        cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 16), "speedup_vs_deepspeed")->valuedouble ==
        1);
    cJSON_Delete(rows);
}

int main(void)
{
    /* orphaned workers are reparented here, where group_gone reaps them */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(infeasible_rows),         cmocka_unit_test(bad_lists),
        cmocka_unit_test(stale_resume_refused),    cmocka_unit_test(error_points_rerun),
        cmocka_unit_test(workers_die_with_parent), cmocka_unit_test(kills_at_moments),
        cmocka_unit_test(kill_and_resume),         cmocka_unit_test(mpi_matches_jobs),
        cmocka_unit_test(point_rows_any_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
