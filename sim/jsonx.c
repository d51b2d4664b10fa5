/* jsonx.c — strict, well-reported JSON field access (see jsonx.h). */
#include "sim/jsonx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sft_status jx_parse(const char *text, const char *file, cJSON **out, sft_err *e)
{
    const char *end = NULL;
    size_t len = strlen(text);
    /* the length counts the terminating NUL, as cJSON_ParseWithOpts does */
    cJSON *j = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!j) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        if (off > len) off = len;
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        const char *why = off >= len ? "unexpected end of input (truncated?)" : "syntax error";
        return sft_errf(e, SFT_EINPUT, "%s:%d:%d: malformed JSON: %s", file, line, col, why);
    }
    *out = j;
    return SFT_OK;
}

jx_ctx jx_root(const char *file, sft_err *e)
{
    jx_ctx c;
    c.file = file;
    c.path[0] = '\0';
    c.err = e;
    return c;
}

static void join(char *dst, size_t n, const char *path, const char *key)
{
    if (!key || !*key)
        snprintf(dst, n, "%s", path);
    else if (path[0])
        snprintf(dst, n, "%s.%s", path, key);
    else
        snprintf(dst, n, "%s", key);
}

jx_ctx jx_child(const jx_ctx *c, const char *key)
{
    jx_ctx d = *c;
    join(d.path, sizeof d.path, c->path, key);
    return d;
}

jx_ctx jx_elem(const jx_ctx *c, const char *key, int i)
{
    jx_ctx d = *c;
    char k[192];
    join(k, sizeof k, c->path, key);
    snprintf(d.path, sizeof d.path, "%s[%d]", k, i);
    return d;
}

sft_status jx_fail(const jx_ctx *c, const char *key, const char *fmt, ...)
{
    char field[300], msg[1024];
    join(field, sizeof field, c->path, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (field[0]) return sft_errf(c->err, SFT_EINPUT, "%s: field '%s': %s", c->file, field, msg);
    return sft_errf(c->err, SFT_EINPUT, "%s: %s", c->file, msg);
}

sft_status jx_keys(const jx_ctx *c, const cJSON *obj, const char *const *allowed)
{
    if (!cJSON_IsObject(obj)) return jx_fail(c, NULL, "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (it->string && strcmp(it->string, *a) == 0) ok = 1;
        if (!ok) {
            char list[768] = "";
            size_t off = 0;
            for (const char *const *a = allowed; *a && off < sizeof list; a++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                        a == allowed ? "" : ", ", *a);
            return jx_fail(c, it->string ? it->string : "?", "unknown field (valid: %s)", list);
        }
        /* duplicate keys make the meaning ambiguous */
        for (const cJSON *o = obj->child; o != it; o = o->next)
            if (o->string && it->string && strcmp(o->string, it->string) == 0)
                return jx_fail(c, it->string, "duplicate field");
    }
    return SFT_OK;
}

sft_status jx_schema(const jx_ctx *c, const cJSON *obj, int version)
{
    long v = 0;
    sft_status st = jx_long(c, obj, "schema", JX_REQ, 0, 1000000, &v);
    if (st) return st;
    if (v != version)
        return jx_fail(c, "schema", "unsupported schema version %ld (this build reads %d)", v,
                       version);
    return SFT_OK;
}

static const cJSON *get(const jx_ctx *c, const cJSON *obj, const char *key, int flags,
                        sft_status *st)
{
    *st = SFT_OK;
    if (!cJSON_IsObject(obj)) {
        *st = jx_fail(c, NULL, "expected an object");
        return NULL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && (flags & JX_REQ)) *st = jx_fail(c, key, "missing (required)");
    return v;
}

sft_status jx_num(const jx_ctx *c, const cJSON *obj, const char *key, int flags, double *out)
{
    sft_status st;
    const cJSON *v = get(c, obj, key, flags, &st);
    if (!v) return st;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return jx_fail(c, key, "expected a number");
    double x = v->valuedouble;
    if ((flags & JX_POS) && !(x > 0)) return jx_fail(c, key, "must be > 0 (got %g)", x);
    if ((flags & JX_NONNEG) && !(x >= 0)) return jx_fail(c, key, "must be >= 0 (got %g)", x);
    if ((flags & JX_FRAC) && !(x > 0 && x <= 1))
        return jx_fail(c, key, "must be in (0, 1] (got %g)", x);
    if ((flags & JX_INT) && x != floor(x)) return jx_fail(c, key, "must be an integer (got %g)", x);
    *out = x;
    return SFT_OK;
}

sft_status jx_long(const jx_ctx *c, const cJSON *obj, const char *key, int flags, long lo, long hi,
                   long *out)
{
    sft_status st;
    const cJSON *v = get(c, obj, key, flags, &st);
    if (!v) return st;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return jx_fail(c, key, "expected an integer");
    double x = v->valuedouble;
    if (x != floor(x)) return jx_fail(c, key, "expected an integer (got %g)", x);
    if (x < (double)lo || x > (double)hi)
        return jx_fail(c, key, "must be in [%ld, %ld] (got %.0f)", lo, hi, x);
    *out = (long)x;
    return SFT_OK;
}

sft_status jx_str(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const char **out)
{
    sft_status st;
    const cJSON *v = get(c, obj, key, flags, &st);
    if (!v) return st;
    if (!cJSON_IsString(v) || !v->valuestring) return jx_fail(c, key, "expected a string");
    *out = v->valuestring;
    return SFT_OK;
}

sft_status jx_bool(const jx_ctx *c, const cJSON *obj, const char *key, int flags, int *out)
{
    sft_status st;
    const cJSON *v = get(c, obj, key, flags, &st);
    if (!v) return st;
    if (!cJSON_IsBool(v)) return jx_fail(c, key, "expected true or false");
    *out = cJSON_IsTrue(v);
    return SFT_OK;
}

sft_status jx_obj(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const cJSON **out)
{
    sft_status st;
    const cJSON *v = get(c, obj, key, flags, &st);
    *out = NULL;
    if (!v) return st;
    if (!cJSON_IsObject(v)) return jx_fail(c, key, "expected an object");
    *out = v;
    return SFT_OK;
}

sft_status jx_arr(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const cJSON **out)
{
    sft_status st;
    const cJSON *v = get(c, obj, key, flags, &st);
    *out = NULL;
    if (!v) return st;
    if (!cJSON_IsArray(v)) return jx_fail(c, key, "expected an array");
    *out = v;
    return SFT_OK;
}
