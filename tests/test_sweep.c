/* test_sweep.c — `sftsim sweep` end to end: a sweep killed midway and
 * resumed writes the same files as an uninterrupted one; mpirun -n 2 gives
 * the same rows as -j 2; impossible points are rows with a reason. (Not in
 * the sanitizer build: it forks and kills workers and runs mpirun.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <time.h>

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

    /* a different grid in the same directory is refused */
    const char *a3[] = {NULL,  "sweep",    "--cluster", "h100x8", "--cp",
                        "4,8", "--resume", "--out",     cut,      NULL};
    assert_int_equal(tu_run(a3, &out, &err), 2);
    assert_non_null(strstr(err, "not the same sweep"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(infeasible_rows),
        cmocka_unit_test(kill_and_resume),
        cmocka_unit_test(mpi_matches_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
