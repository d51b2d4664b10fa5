/* test_validate_gpu.c — `sftsim-validate measure --backend cuda` on the tiny
 * grid (tests/data/validate/grid-tiny.json): the numerics check against the
 * CPU reference passes, the table loads with the cost model's parser and
 * records the device. Exits 77 (ctest: skipped) without a usable CUDA
 * device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
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

/* print_message truncates long messages: print line by line. */
static void print_lines(const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "\n");
        print_message("%.*s\n", (int)n, s);
        s += n + (s[n] == '\n');
    }
}

static char device[256];

static void tiny_grid_cuda(void **state)
{
    (void)state;
    char table[600], grid[600];
    const char *src = getenv("SFT_SRC");
    snprintf(table, sizeof table, "%s/cuda-tiny.json", tu_tmpdir());
    snprintf(grid, sizeof grid, "%s/tests/data/validate/grid-tiny.json", src ? src : "..");
    const char *argv[] = {validate_bin(), "measure", "--backend", "cuda", "--grid",
                          grid,           "-o",      table,       NULL};
    char *out = NULL, *err = NULL;
    int rc = tu_run(argv, &out, &err);
    print_lines(err);
    assert_int_equal(rc, 0);
    free(out);
    free(err);
    cal *c = NULL;
    sft_err e;
    int na, ng;
    assert_int_equal(cal_load(table, &c, &e), SFT_OK);
    cal_npoints(c, &na, &ng);
    assert_int_equal(na, 14);
    assert_int_equal(ng, 2);
    assert_string_equal(cal_device(c), device);
    assert_true(cal_peak(c) > 0);
    cal_destroy(c);
    char *text = tu_slurp(table);
    cJSON *j = cJSON_Parse(text);
    assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(j, "driver")), "driver"));
    assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(j, "notes")), "CPU reference"));
    cJSON_Delete(j);
    free(text);
}

int main(void)
{
    char why[256];
    if (!kern_cuda_available(device, sizeof device, why, sizeof why)) {
        printf("skipped: %s\n", why);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_grid_cuda),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
