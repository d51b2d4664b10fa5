/* test_validate_cli.c — `sftsim-validate` end to end on small inputs (fast
 * enough for the sanitizer build): a tiny grid file measured on the CPU and
 * loaded back; a table compared with itself (interpolation at its own points
 * is exact: MAPE 0); every bad calibration file (missing fields, negative or
 * zero times, a non-monotone grid, a wrong schema version, an unknown field,
 * malformed JSON) rejected with exit 2 naming the file and the field, given
 * as either table; bad grid files likewise; usage errors; and --backend cuda
 * without a usable GPU: exit 3 with the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kernels/kern.h"
#include "models/hw/calib.h"
#include "tutil.h"

static const char *validate_bin(void)
{
    static char path[4096];
    const char *b = getenv("SFT_BIN");
    snprintf(path, sizeof path, "%s/sftsim-validate", b ? b : ".");
    return path;
}

/* Path of a data file under tests/data/validate (static rotation). */
static const char *data(const char *name)
{
    static char path[8][600];
    static int k;
    char *p = path[k++ % 8];
    const char *s = getenv("SFT_SRC");
    snprintf(p, 600, "%s/tests/data/validate/%s", s ? s : "..", name);
    return p;
}

/* Runs argv; asserts the exit code; returns stderr (caller frees). */
static char *run_expect(const char *const *argv, int code, char **out)
{
    char *o = NULL, *err = NULL;
    int rc = tu_run(argv, &o, &err);
    if (rc != code)
        print_message("exit %d (expected %d)\nstdout: %s\nstderr: %s\n", rc, code, o, err);
    assert_int_equal(rc, code);
    if (out)
        *out = o;
    else
        free(o);
    return err;
}

static void tiny_grid_cpu(void **state)
{
    (void)state;
    char table[600];
    snprintf(table, sizeof table, "%s/tiny-table.json", tu_tmpdir());
    for (int all = 0; all < 2; all++) {
        const char *argv[] = {validate_bin(),
                              "measure",
                              "--backend",
                              "cpu",
                              "--grid",
                              data("grid-tiny.json"),
                              "-o",
                              table,
                              "--name",
                              "tiny-cpu",
                              "--threads",
                              all ? "all" : "1",
                              NULL};
        free(run_expect(argv, 0, NULL));
        cal *c = NULL;
        sft_err e;
        int na, ng;
        assert_int_equal(cal_load(table, &c, &e), SFT_OK);
        cal_npoints(c, &na, &ng);
        /* d64: 3 lengths x fwd/bwd x causal/not; d128: 2 lengths fwd causal */
        assert_int_equal(na, 14);
        assert_int_equal(ng, 2);
        assert_string_equal(cal_name(c), "tiny-cpu");
        assert_true(cal_peak(c) > 0);
        cal_destroy(c);
    }
    /* the recorded fields: device, driver, UTC date, grid */
    char *text = tu_slurp(table);
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    const char *dev = cJSON_GetStringValue(cJSON_GetObjectItem(j, "device"));
    const char *drv = cJSON_GetStringValue(cJSON_GetObjectItem(j, "driver"));
    const char *date = cJSON_GetStringValue(cJSON_GetObjectItem(j, "date"));
    const char *grid = cJSON_GetStringValue(cJSON_GetObjectItem(j, "grid"));
    assert_true(dev && strncmp(dev, "CPU", 3) == 0);
    assert_true(drv && strstr(drv, "FP32"));
    assert_true(date && strlen(date) == 20 && date[10] == 'T' && date[19] == 'Z');
    assert_true(grid && strstr(grid, "tiny"));
    cJSON_Delete(j);
    free(text);

    /* a table predicts its own points exactly */
    char *out = NULL;
    const char *cmp[] = {validate_bin(), "compare",  "--calibration", table, "--measured",
                         table,          "--format", "json",          NULL};
    free(run_expect(cmp, 0, &out));
    j = cJSON_Parse(out);
    assert_non_null(j);
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "mape")) < 0.01);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "shapes")), 16);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "kernels")), 6);
    cJSON_Delete(j);
    free(out);
}

/* Bad calibration tables: exit 2, the message names the file and the field. */
static void bad_calibration_files(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"bad-missing-peak.json", "'peak_tflops': missing"},
        {"bad-missing-time.json", "'attention[1].time_us': missing"},
        {"bad-negative-time.json", "'attention[2].time_us': must be > 0"},
        {"bad-zero-time.json", "'gemm[0].time_us': must be > 0"},
        {"bad-nonmonotone.json", "'attention': non-monotone grid"},
        {"bad-schema.json", "'schema': unsupported schema version 2"},
        {"bad-unknown-field.json", "'gemm[1].tme_us': unknown field"},
        {"bad-malformed.json", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int as_measured = 0; as_measured < 2; as_measured++) {
            const char *bad = data(cases[i][0]), *good = data("good.json");
            const char *argv[] = {validate_bin(),
                                  "compare",
                                  "--calibration",
                                  as_measured ? good : bad,
                                  "--measured",
                                  as_measured ? bad : good,
                                  NULL};
            char *err = run_expect(argv, 2, NULL);
            if (!strstr(err, cases[i][0]) || !strstr(err, cases[i][1]))
                print_message("%s: expected '%s' in: %s", cases[i][0], cases[i][1], err);
            assert_non_null(strstr(err, cases[i][0]));
            assert_non_null(strstr(err, cases[i][1]));
            free(err);
        }
}

static void bad_grid_files(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"bad-grid-head-dim.json", "'attention[0].head_dim': 96"},
        {"bad-grid-unknown-field.json", "'attention[0].lenghts': unknown field"},
        {"bad-grid-duplicate.json", "'attention[1].lengths': length 64"},
        {"bad-grid-empty.json", "no points"},
        {"bad-grid-gemm.json", "'gemm[0].k'"},
    };
    char table[600];
    snprintf(table, sizeof table, "%s/never-written.json", tu_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {validate_bin(),    "measure", "--backend", "cpu", "--grid",
                              data(cases[i][0]), "-o",      table,       NULL};
        char *err = run_expect(argv, 2, NULL);
        if (!strstr(err, cases[i][1])) print_message("expected '%s' in: %s", cases[i][1], err);
        assert_non_null(strstr(err, cases[i][0]));
        assert_non_null(strstr(err, cases[i][1]));
        free(err);
    }
    assert_false(sft_file_exists(table));
}

static void usage_errors(void **state)
{
    (void)state;
    const char *none[] = {validate_bin(), NULL};
    free(run_expect(none, 2, NULL));
    const char *unknown[] = {validate_bin(), "calibrate", NULL};
    free(run_expect(unknown, 2, NULL));
    const char *nobackend[] = {validate_bin(), "measure", "-o", "x.json", NULL};
    char *err = run_expect(nobackend, 2, NULL);
    assert_non_null(strstr(err, "--backend"));
    free(err);
    const char *tpu[] = {validate_bin(), "measure", "--backend", "tpu", "-o", "x.json", NULL};
    err = run_expect(tpu, 2, NULL);
    assert_non_null(strstr(err, "tpu"));
    free(err);
    const char *grid[] = {validate_bin(), "measure", "--backend", "cpu", "--grid",
                          "huge",         "-o",      "x.json",    NULL};
    err = run_expect(grid, 2, NULL);
    assert_non_null(strstr(err, "valid grids are small, heldout-small, default, heldout"));
    free(err);
    /* an unwritable output fails before anything is measured */
    const char *nodir[] = {validate_bin(),
                           "measure",
                           "--backend",
                           "cpu",
                           "--grid",
                           "small",
                           "-o",
                           "/nonexistent-dir/table.json",
                           NULL};
    err = run_expect(nodir, 2, NULL);
    assert_non_null(strstr(err, "/nonexistent-dir/table.json"));
    free(err);
    const char *half[] = {validate_bin(), "compare", "--calibration", data("good.json"), NULL};
    free(run_expect(half, 2, NULL));
    const char *fmt[] = {validate_bin(),    "compare",    "--calibration",
                         data("good.json"), "--measured", data("good.json"),
                         "--format",        "csv",        NULL};
    free(run_expect(fmt, 2, NULL));
    for (int i = 0; i < 4; i++) {
        static const char *const subs[] = {"measure", "compare", "paper", "--help"};
        const char *help[] = {validate_bin(), subs[i], i < 3 ? "--help" : NULL, NULL};
        char *out = NULL;
        free(run_expect(help, 0, &out));
        assert_non_null(strstr(out, "usage: sftsim-validate"));
        free(out);
    }
}

/* The grids list without a device; the default grid's attention part. */
static void list_default(void **state)
{
    (void)state;
    const char *argv[] = {validate_bin(), "measure", "--backend", "cuda",
                          "--grid",       "default", "--list",    NULL};
    char *out = NULL;
    free(run_expect(argv, 0, &out));
    /* 11 lengths (128 .. 131072) x fwd/bwd x causal/not x head dim 64, 128 */
    assert_non_null(strstr(out, "# grid default: 88 attention + "));
    assert_non_null(strstr(out, "attn bwd causal d128 28/4 1x131072"));
    assert_non_null(strstr(out, "attn fwd non-causal d64 14/2 128x128"));
    free(out);
}

static void cuda_without_gpu(void **state)
{
    (void)state;
    char why[256];
    if (kern_cuda_available(NULL, 0, why, sizeof why)) {
        print_message("a CUDA device is usable here: test_validate_gpu measures it\n");
        return;
    }
    char table[600];
    snprintf(table, sizeof table, "%s/cuda.json", tu_tmpdir());
    const char *argv[] = {validate_bin(),         "measure", "--backend", "cuda", "--grid",
                          data("grid-tiny.json"), "-o",      table,       NULL};
    char *err = run_expect(argv, 3, NULL);
    assert_non_null(strstr(err, "--backend cuda"));
    free(err);
    assert_false(sft_file_exists(table));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_grid_cpu),  cmocka_unit_test(bad_calibration_files),
        cmocka_unit_test(bad_grid_files), cmocka_unit_test(usage_errors),
        cmocka_unit_test(list_default),   cmocka_unit_test(cuda_without_gpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
