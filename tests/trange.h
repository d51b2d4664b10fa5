/* trange.h — the range-table checks shared by the schema tests: every row
 * of a jx_range table (base/jsonx.h) is tried on a real document below its
 * lower bound, above its upper one, at +-1e308, 1e999 (cJSON reads it as
 * infinity), as a string and, for integers, as a fraction, each of which
 * must be EINPUT naming "bad.json: field '<path>'", "[lo, hi] unit" and the
 * value; with accept, both bounds load. Header-only (static functions);
 * include after cmocka.h. */
#ifndef SFT_TRANGE_H
#define SFT_TRANGE_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/jsonx.h"

/* Parses a whole document named "bad.json". */
typedef sft_status (*parse_fn)(const char *text, sft_err *e);

/* base with r's field set to x, or to the literal JSON lit. Creates the text. */
static inline char *with_value(const char *base, const jx_range *r, double x, const char *lit)
{
    cJSON *doc = cJSON_Parse(base);
    const char *key = NULL;
    cJSON *o = jx_field_parent(doc, r->field, &key);
    if (!o) fail_msg("field %s is not in the base document", r->field);
    cJSON *v = lit ? cJSON_CreateString("@@") : cJSON_CreateNumber(x);
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else
        cJSON_AddItemToObject(o, key, v);
    char *t = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (lit) {
        char *at = strstr(t, "\"@@\"");
        size_t n = strlen(t) + strlen(lit) + 1;
        char *u = malloc(n);
        snprintf(u, n, "%.*s%s%s", (int)(at - t), t, lit, at + 4);
        free(t);
        t = u;
    }
    return t;
}

static inline void expect_range_error(parse_fn parse, const char *base, const jx_range *r, double x,
                                      const char *lit, const char *want)
{
    char *t = with_value(base, r, x, lit);
    sft_err e = {0};
    char path[160], field[200];
    size_t k = 0;
    for (const char *p = r->field; *p && k + 2 < sizeof path; p++) {
        path[k++] = *p;
        if (p[0] == '[' && p[1] == ']') path[k++] = '0'; /* the message names element 0 */
    }
    path[k] = '\0';
    snprintf(field, sizeof field, "bad.json: field '%s': ", path);
    sft_status st = parse(t, &e);
    if (st != SFT_EINPUT || !strstr(e.msg, field) || (want && !strstr(e.msg, want)))
        fail_msg("%s = %s: status %d, message '%s' lacks '%s' / '%s'", r->field, lit ? lit : "x",
                 st, e.msg, field, want ? want : "");
    free(t);
}

/* Every row of a table on a real document: below lo, above hi, 1e308,
 * 1e999 (cJSON reads it as infinity), -1e308, a string and, for integers, a
 * fraction are EINPUT naming the field, "[lo, hi] unit" and the value; with
 * accept, lo and hi themselves load. Rows of derived quantities (a field
 * with a space, "hidden / heads") are checked by their own tests. */
static inline void check_table(const char *what, parse_fn parse, const char *base,
                               const jx_range *r, size_t n, int accept)
{
    print_message("%s:\n", what);
    for (size_t i = 0; i < n; i++) {
        char rg[128], lo[32], hi[32], got[64], want[320];
        jx_fmt_num(lo, sizeof lo, r[i].lo);
        jx_fmt_num(hi, sizeof hi, r[i].hi);
        snprintf(rg, sizeof rg, "[%s, %s]%s%s", lo, hi, r[i].unit[0] ? " " : "", r[i].unit);
        assert_true(r[i].why && strlen(r[i].why) > 10); /* every bound has its reason */
        print_message("  %-24s %-30s %s\n", r[i].field, rg, r[i].why);
        if (strchr(r[i].field, ' ')) continue;
        double step = (r[i].flags & JX_INT) ? 1 : fmax(fabs(r[i].lo) * 0.5, 1e-3);
        double below = r[i].lo - step, above = (r[i].flags & JX_INT) ? r[i].hi + 1 : r[i].hi * 2;
        jx_fmt_num(got, sizeof got, below);
        snprintf(want, sizeof want, "%s (got %s)", rg, got);
        expect_range_error(parse, base, &r[i], below, NULL, want);
        jx_fmt_num(got, sizeof got, above);
        snprintf(want, sizeof want, "must be in %s (got %s)", rg, got);
        expect_range_error(parse, base, &r[i], above, NULL, want);
        expect_range_error(parse, base, &r[i], 1e308, NULL, "(got 1e+308)");
        expect_range_error(parse, base, &r[i], 0, "1e999", "must be a finite number");
        expect_range_error(parse, base, &r[i], 0, "-1e308", rg);
        expect_range_error(parse, base, &r[i], 0, "\"5\"", "expected a number");
        if (r[i].flags & JX_INT)
            expect_range_error(parse, base, &r[i], r[i].lo + 0.5, NULL, "expected an integer");
        for (int b = 0; accept && b < 2; b++) {
            char *t = with_value(base, &r[i], b ? r[i].hi : r[i].lo, NULL);
            sft_err e = {0};
            if (parse(t, &e) != SFT_OK)
                fail_msg("%s = %s must load: %s", r[i].field, b ? hi : lo, e.msg);
            free(t);
        }
    }
}

#endif
