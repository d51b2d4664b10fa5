/* jsonx.c — strict, well-reported JSON field access (see jsonx.h).
 *
 * Invariant: a value handed out has passed every check its caller asked
 * for (range, integrality, UTF-8, control characters, length); a message
 * never quotes the bytes of a string that failed its check, so an error
 * message is itself valid UTF-8 whenever the file name is. */
#include "base/jsonx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1-based line and column of byte off of text. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* Offset of the first \u0000 escape inside a string of (valid) JSON text,
 * or -1: cJSON would end the C string there, silently cutting "a\u0000b"
 * to "a". */
static long nul_escape(const char *text, size_t len)
{
    int in = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in) {
            in = text[i] == '"';
        } else if (text[i] == '"') {
            in = 0;
        } else if (text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len && strncmp(text + i + 2, "0000", 4) == 0)
                return (long)i;
            i++; /* the escaped character */
        }
    }
    return -1;
}

sft_status jx_parse(const char *text, const char *file, cJSON **out, sft_err *e)
{
    const char *end = NULL;
    size_t len = strlen(text);
    int line, col;
    /* the length counts the terminating NUL, as cJSON_ParseWithOpts does */
    cJSON *j = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!j) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        if (off > len) off = len;
        line_col(text, off, &line, &col);
        const char *why = off >= len ? "unexpected end of input (truncated?)" : "syntax error";
        return sft_errf(e, SFT_EINPUT, "%s:%d:%d: malformed JSON: %s", file, line, col, why);
    }
    long nul = nul_escape(text, len);
    if (nul >= 0) {
        cJSON_Delete(j);
        line_col(text, (size_t)nul, &line, &col);
        return sft_errf(e, SFT_EINPUT,
                        "%s:%d:%d: \\u0000 in a string: strings are text and cannot hold NUL", file,
                        line, col);
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

/* Length of the UTF-8 sequence that lead byte b starts (0: not a lead byte). */
static size_t seq_len(unsigned char b)
{
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

/* The first fault of s: 1 = invalid UTF-8, 2 = a control character (*cp);
 * 0 = none. *off: its byte offset. */
static int str_fault(const char *s, int flags, size_t *off, unsigned *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = seq_len(u[i]);
        *off = i;
        if (k == 0 || i + k > n || !sft_utf8_valid(s + i, k)) return 1;
        /* C0 and DEL are one byte, C1 (U+0080..U+009F) two: 0xC2 0x80..0x9F */
        unsigned c = k == 1 ? u[i] : k == 2 ? (unsigned)(u[i] & 0x1F) << 6 | (u[i + 1] & 0x3F) : 0;
        int ws = c == '\t' || c == '\n' || c == '\r';
        if (k <= 2 && (c < 0x20 || (c >= 0x7F && c <= 0x9F)) && !(ws && (flags & JX_TEXT))) {
            *cp = c;
            return 2;
        }
        i += k;
    }
    return 0;
}

sft_status jx_keys(const jx_ctx *c, const cJSON *obj, const char *const *allowed)
{
    if (!cJSON_IsObject(obj)) return jx_fail(c, NULL, "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (it->string && strcmp(it->string, *a) == 0) ok = 1;
        if (!ok) {
            size_t at;
            unsigned cp;
            if (it->string && str_fault(it->string, 0, &at, &cp))
                return jx_fail(c, NULL,
                               "unknown field whose name is not valid UTF-8 or holds control "
                               "characters");
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

void jx_fmt_num(char *buf, size_t n, double x)
{
    if (x == floor(x) && fabs(x) < 1e9)
        snprintf(buf, n, "%.0f", x == 0 ? 0.0 : x);
    else
        snprintf(buf, n, "%g", x);
}

cJSON *jx_field_parent(cJSON *doc, const char *field, const char **key)
{
    cJSON *o = doc;
    const char *seg = field;
    for (;;) {
        const char *dot = strchr(seg, '.');
        if (!dot) break;
        char name[128];
        size_t n = (size_t)(dot - seg);
        if (n >= sizeof name) return NULL;
        memcpy(name, seg, n);
        name[n] = '\0';
        int first = n > 2 && strcmp(name + n - 2, "[]") == 0;
        if (first) name[n - 2] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, name);
        if (first) o = cJSON_IsArray(o) ? o->child : NULL;
        if (!cJSON_IsObject(o)) return NULL;
        seg = dot + 1;
    }
    *key = seg;
    return o;
}

/* "[LO, HI] UNIT" */
static void fmt_range(char *buf, size_t n, const jx_range *r)
{
    char lo[32], hi[32];
    jx_fmt_num(lo, sizeof lo, r->lo);
    jx_fmt_num(hi, sizeof hi, r->hi);
    snprintf(buf, n, "[%s, %s]%s%s", lo, hi, r->unit && r->unit[0] ? " " : "",
             r->unit ? r->unit : "");
}

sft_status jx_check_range(const jx_ctx *c, const char *key, const jx_range *r, double x)
{
    char rg[96], got[32];
    fmt_range(rg, sizeof rg, r);
    if (!isfinite(x))
        return jx_fail(c, key, "must be a finite number in %s (got %s)", rg,
                       isnan(x) ? "NaN"
                       : x > 0  ? "a number beyond 1e308"
                                : "a number below -1e308");
    jx_fmt_num(got, sizeof got, x);
    if ((r->flags & JX_INT) && x != floor(x))
        return jx_fail(c, key, "expected an integer in %s (got %s)", rg, got);
    if (x >= r->lo && x <= r->hi) return SFT_OK;
    /* "must be > 0" first where the sign is the mistake: the bound explains the rest */
    if (r->lo > 0 && x <= 0)
        return jx_fail(c, key, "must be > 0, in %s (got %s): %s", rg, got, r->why);
    return jx_fail(c, key, "must be in %s (got %s): %s", rg, got, r->why);
}

/* The number at key, unchecked: NULL with *st = OK when absent and optional. */
static const cJSON *get_num(const jx_ctx *c, const cJSON *obj, const char *key, int flags,
                            const jx_range *r, sft_status *st)
{
    const cJSON *v = get(c, obj, key, flags, st);
    if (!v) return NULL;
    if (!cJSON_IsNumber(v)) {
        char rg[96];
        fmt_range(rg, sizeof rg, r);
        *st = jx_fail(c, key, "expected a number in %s", rg);
        return NULL;
    }
    return v;
}

sft_status jx_num_in(const jx_ctx *c, const cJSON *obj, const char *key, int flags,
                     const jx_range *r, double *out)
{
    sft_status st;
    const cJSON *v = get_num(c, obj, key, flags, r, &st);
    if (!v) return st;
    if ((st = jx_check_range(c, key, r, v->valuedouble))) return st;
    *out = v->valuedouble;
    return SFT_OK;
}

sft_status jx_long_in(const jx_ctx *c, const cJSON *obj, const char *key, int flags,
                      const jx_range *r, long *out)
{
    SFT_CHECK((r->flags & JX_INT) && r->lo >= -9.2e18 && r->hi <= 9.2e18,
              "jx_long_in: range of '%s' is not an integer range", r->field);
    sft_status st;
    const cJSON *v = get_num(c, obj, key, flags, r, &st);
    if (!v) return st;
    if ((st = jx_check_range(c, key, r, v->valuedouble))) return st;
    *out = (long)v->valuedouble;
    return SFT_OK;
}

sft_status jx_num(const jx_ctx *c, const cJSON *obj, const char *key, int flags, double *out)
{
    sft_status st;
    const cJSON *v = get(c, obj, key, flags, &st);
    if (!v) return st;
    if (!cJSON_IsNumber(v)) return jx_fail(c, key, "expected a number");
    if (!isfinite(v->valuedouble))
        return jx_fail(c, key, "expected a finite number (got one beyond 1e308)");
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
    if ((st = jx_check_str(c, key, v->valuestring, flags))) return st;
    *out = v->valuestring;
    return SFT_OK;
}

sft_status jx_check_str(const jx_ctx *c, const char *key, const char *s, int flags)
{
    size_t off = 0;
    unsigned cp = 0;
    switch (str_fault(s, flags, &off, &cp)) {
    case 1:
        return jx_fail(c, key, "not valid UTF-8 (byte 0x%02X at offset %zu; strings must be UTF-8)",
                       (unsigned char)s[off], off);
    case 2:
        return jx_fail(c, key, "control character U+%04X at offset %zu (%s)", cp, off,
                       flags & JX_TEXT ? "free text may hold tabs and line breaks, no other"
                                       : "a name or a label must be printable");
    }
    return SFT_OK;
}

sft_status jx_name(const jx_ctx *c, const cJSON *obj, const char *key, int flags, char *dst,
                   size_t cap)
{
    const char *s = NULL;
    sft_status st = jx_str(c, obj, key, flags, &s);
    if (st || !s) return st;
    size_t n = strlen(s);
    if ((flags & JX_REQ) && n == 0) return jx_fail(c, key, "must not be empty");
    if (n >= cap) return jx_fail(c, key, "must be at most %zu bytes (got %zu)", cap - 1, n);
    memcpy(dst, s, n + 1);
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
