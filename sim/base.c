/* base.c — status/error helpers, allocation, files, built-in data. */
#include "sim/base.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

sft_status sft_verrf(sft_err *e, sft_status st, const char *fmt, va_list ap)
{
    if (e) {
        e->status = st;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    }
    return st;
}

sft_status sft_errf(sft_err *e, sft_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sft_verrf(e, st, fmt, ap);
    va_end(ap);
    return st;
}

sft_status sft_err_prefix(sft_err *e, const char *fmt, ...)
{
    if (!e) return SFT_EINTERNAL;
    char pre[1024], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t n = strlen(pre);
    if (n > sizeof e->msg - 3) n = sizeof e->msg - 3;
    memcpy(e->msg, pre, n);
    memcpy(e->msg + n, ": ", 2);
    size_t room = sizeof e->msg - n - 3;
    size_t m = strlen(old);
    if (m > room) m = room;
    memcpy(e->msg + n + 2, old, m);
    e->msg[n + 2 + m] = '\0';
    return e->status;
}

void sft_err_clear(sft_err *e)
{
    if (e) {
        e->status = SFT_OK;
        e->msg[0] = '\0';
    }
}

void sft_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sftsim: internal error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void *sft_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) sft_die("out of memory allocating %zu bytes", n);
    return p;
}

void *sft_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) sft_die("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *sft_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) sft_die("out of memory reallocating %zu bytes", n);
    return q;
}

char *sft_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sft_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

void sft_grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    *p = sft_xrealloc(*p, c * sz);
    *cap = c;
}

int sft_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

sft_status sft_read_file(const char *path, char **out, size_t *len, sft_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) return sft_errf(e, SFT_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = sft_xmalloc(cap);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            buf = sft_xrealloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sft_errf(e, SFT_EINPUT, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return SFT_OK;
}

sft_status sft_mkdir(const char *path, sft_err *e)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return SFT_OK;
        return sft_errf(e, SFT_EINPUT, "%s: exists and is not a directory", path);
    }
    return sft_errf(e, SFT_EINPUT, "%s: cannot create directory: %s", path, strerror(errno));
}

struct sft_ofile {
    FILE *fp;
    char *path;
    char *tmp;
};

sft_ofile *sft_ofile_open(const char *path, sft_err *e)
{
    sft_ofile *f = sft_xcalloc(1, sizeof *f);
    size_t n = strlen(path) + 64;
    f->path = sft_xstrdup(path);
    f->tmp = sft_xmalloc(n);
    snprintf(f->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp) {
        sft_errf(e, SFT_EINPUT, "%s: cannot write: %s", path, strerror(errno));
        free(f->path);
        free(f->tmp);
        free(f);
        return NULL;
    }
    return f;
}

FILE *sft_ofile_fp(sft_ofile *f)
{
    return f->fp;
}
const char *sft_ofile_tmpname(const sft_ofile *f)
{
    return f->tmp;
}

static void ofile_free(sft_ofile *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

sft_status sft_ofile_commit(sft_ofile *f, sft_err *e)
{
    sft_status st = SFT_OK;
    int bad = ferror(f->fp);
    if (fclose(f->fp) != 0) bad = 1;
    if (bad) {
        st = sft_errf(e, SFT_EINTERNAL, "%s: write failed", f->path);
        remove(f->tmp);
    } else if (rename(f->tmp, f->path) != 0) {
        st = sft_errf(e, SFT_EINTERNAL, "%s: cannot rename from %s: %s", f->path, f->tmp,
                      strerror(errno));
        remove(f->tmp);
    }
    ofile_free(f);
    return st;
}

void sft_ofile_abort(sft_ofile *f)
{
    if (!f) return;
    fclose(f->fp);
    remove(f->tmp);
    ofile_free(f);
}

sft_status sft_write_file(const char *path, const void *data, size_t len, sft_err *e)
{
    sft_ofile *f = sft_ofile_open(path, e);
    if (!f) return e ? e->status : SFT_EINPUT;
    if (len && fwrite(data, 1, len, f->fp) != len) {
        sft_ofile_abort(f);
        return sft_errf(e, SFT_EINTERNAL, "%s: write failed", path);
    }
    return sft_ofile_commit(f, e);
}

struct sft_builtin_entry {
    const char *kind, *name, *text;
    size_t len;
};
extern const struct sft_builtin_entry sft_builtin_table[];

const char *sft_builtin(const char *kind, const char *name, size_t *len)
{
    for (const struct sft_builtin_entry *b = sft_builtin_table; b->kind; b++) {
        if (strcmp(b->kind, kind) == 0 && strcmp(b->name, name) == 0) {
            if (len) *len = b->len;
            return b->text;
        }
    }
    return NULL;
}

const char *sft_builtin_name(const char *kind, size_t i)
{
    for (const struct sft_builtin_entry *b = sft_builtin_table; b->kind; b++)
        if (strcmp(b->kind, kind) == 0 && i-- == 0) return b->name;
    return NULL;
}

static int looks_like_path(const char *arg)
{
    size_t n = strlen(arg);
    return strchr(arg, '/') != NULL || (n > 5 && strcmp(arg + n - 5, ".json") == 0) ||
           (n > 6 && strcmp(arg + n - 6, ".jsonl") == 0);
}

sft_status sft_resolve_data(const char *kind, const char *arg, char **text, char **origin,
                            sft_err *e)
{
    if (sft_file_exists(arg) || looks_like_path(arg)) {
        sft_status st = sft_read_file(arg, text, NULL, e);
        if (st) return st;
        *origin = sft_xstrdup(arg);
        return SFT_OK;
    }
    size_t len;
    const char *b = sft_builtin(kind, arg, &len);
    if (!b) {
        char names[1024] = "";
        size_t off = 0;
        for (size_t i = 0; sft_builtin_name(kind, i); i++)
            off += (size_t)snprintf(names + off, off < sizeof names ? sizeof names - off : 0,
                                    "%s%s", i ? ", " : "", sft_builtin_name(kind, i));
        const char *singular = kind;
        char one[64];
        size_t k = strlen(kind);
        if (k > 1 && k < sizeof one && kind[k - 1] == 's') {
            memcpy(one, kind, k - 1);
            one[k - 1] = '\0';
            singular = one;
        }
        return sft_errf(e, SFT_EINPUT, "unknown %s '%s' (no such file, and not one of: %s)",
                        singular, arg, names);
    }
    *text = sft_xmalloc(len + 1);
    memcpy(*text, b, len);
    (*text)[len] = '\0';
    size_t n = strlen(arg) + 16;
    *origin = sft_xmalloc(n);
    snprintf(*origin, n, "built-in %s", arg);
    return SFT_OK;
}

double sft_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double sft_parse_bytes(const char *s)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0) return -1;
    double m = 1;
    switch (*end) {
    case 'k':
    case 'K':
        m = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        m = 1048576.0;
        end++;
        break;
    case 'g':
    case 'G':
        m = 1073741824.0;
        end++;
        break;
    case 't':
    case 'T':
        m = 1099511627776.0;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    return v * m;
}

int sft_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int sft_parse_double(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v)) return -1;
    *out = v;
    return 0;
}
