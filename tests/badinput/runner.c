/* runner.c — the bad-input table's runner (tests/badinput/README.md): reads
 * case files, one case per line
 *
 *     EXIT[:TIMEOUT] <TAB> CHECKS <TAB> ARGS...
 *
 * and, per case, makes a fresh temporary directory (@T@, also the working
 * directory of sftsim), creates the inputs the placeholders ask for, runs
 * `sftsim ARGS` under a timeout (a hang is a failure) and checks what
 * ARCHITECTURE.md's "Contracts" promise: the exit code, the message, nothing left behind after a
 * failure, no doubled "sftsim: sftsim" prefix, a clean stdout, and no
 * sanitizer report. One line per failing case, then "N passed, M failed, K
 * skipped". Exit 0 when nothing failed (77 when everything was skipped), 1
 * otherwise.
 *
 * usage: sft_badinput --sftsim PATH --src DIR [--timeout-scale X] [--keep]
 *                     [--verbose] [--filter TEXT] CASEFILE...
 */
/* nftw() */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define MAXARGS         256
#define MAXOUTS         8
#define MAXMNT          8
#define DEFAULT_TIMEOUT 20.0

#if defined(SFT_SANITIZE)
/* The runner's own allocations live until exit; LeakSanitizer watches the
 * sftsim it runs (their reports fail the case), not the runner. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

/* ---- small helpers --------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "sft_badinput: out of memory\n");
        exit(1);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* A growing byte buffer. */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const void *d, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        char *q = realloc(b->p, b->cap);
        if (!q) {
            fprintf(stderr, "sft_badinput: out of memory\n");
            exit(1);
        }
        b->p = q;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_addc(buf *b, char c)
{
    buf_add(b, &c, 1);
}

static void buf_adds(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static char *buf_take(buf *b)
{
    if (!b->p) buf_add(b, "", 0);
    char *p = b->p;
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

static void addf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(buf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_adds(b, tmp);
}

/* Replaces every occurrence of from in s by to; returns a new string. */
static char *replace_all(const char *s, const char *from, const char *to)
{
    buf b = {0};
    size_t lf = strlen(from);
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (!q) {
            buf_adds(&b, p);
            break;
        }
        buf_add(&b, p, (size_t)(q - p));
        buf_adds(&b, to);
        p = q + lf;
    }
    return buf_take(&b);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads a whole file (NUL-terminated); NULL if it cannot. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = {0};
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) buf_add(&b, tmp, k);
    fclose(f);
    if (len) *len = b.n;
    return buf_take(&b);
}

static int write_bytes(const char *path, const char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t k = fwrite(d, 1, n, f);
    return fclose(f) == 0 && k == n ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* Creates the directories above path (mkdir -p of its dirname). */
static void mkdir_parents(const char *path)
{
    char *p = xstrdup(path);
    for (char *q = p + 1; *q; q++) {
        if (*q != '/') continue;
        *q = '\0';
        mkdir(p, 0755);
        *q = '/';
    }
    free(p);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- configuration ----------------------------------------------------------- */

static const char *g_sftsim, *g_src, *g_filter;
static char g_files[PATH_MAX + 64]; /* tests/badinput/files */
static char g_base[PATH_MAX];       /* this run's scratch directory */
static double g_scale = 1.0;
static int g_keep, g_verbose;

/* ---- one case ------------------------------------------------------------------ */

typedef struct kase {
    const char *file;
    int line;
    int exit;       /* expected exit code */
    double timeout; /* seconds, before scaling */
    char *checks;   /* "|"-separated */
    char *args;     /* the command line, unexpanded */
} kase;

typedef struct ctx {
    const kase *k;
    char T[2 * PATH_MAX]; /* the case's directory */
    int counter;          /* names of generated files */
    char *mounts[MAXMNT];
    int nmounts;
    char *skip;  /* reason, when the case cannot run here */
    char *error; /* a mistake in the case itself */
} ctx;

static void ctx_error(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctx_error(ctx *c, const char *fmt, ...)
{
    if (c->error) return;
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    c->error = xstrdup(tmp);
}

static void ctx_skip(ctx *c, const char *why)
{
    if (!c->skip) c->skip = xstrdup(why);
}

/* A new path in the case directory: T/<stem><n><ext>. */
static char *gen_path(ctx *c, const char *stem, const char *ext)
{
    return xasprintf("%s/%s%d%s", c->T, stem, ++c->counter, ext);
}

/* RFC 7386 JSON merge patch: patch's members replace target's, objects
 * merge recursively, null removes. Takes ownership of neither. */
static void merge_patch(cJSON *target, const cJSON *patch)
{
    for (const cJSON *m = patch->child; m; m = m->next) {
        if (cJSON_IsNull(m)) {
            cJSON_DeleteItemFromObjectCaseSensitive(target, m->string);
            continue;
        }
        cJSON *t = cJSON_GetObjectItemCaseSensitive(target, m->string);
        if (cJSON_IsObject(m) && cJSON_IsObject(t)) {
            merge_patch(t, m);
        } else {
            cJSON *dup = cJSON_Duplicate(m, 1);
            if (t)
                cJSON_ReplaceItemInObjectCaseSensitive(target, m->string, dup);
            else
                cJSON_AddItemToObject(target, m->string, dup);
        }
    }
}

static char *src_path(const char *rel)
{
    return rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", g_src, rel);
}

/* base (a JSON file, "-" for {}) merged with patch; returns the cJSON. */
static cJSON *patched(ctx *c, const char *base, const char *patch)
{
    cJSON *doc;
    if (strcmp(base, "-") == 0) {
        doc = cJSON_CreateObject();
    } else {
        char *p = src_path(base);
        char *text = slurp(p, NULL);
        if (!text) {
            ctx_error(c, "cannot read base file %s", p);
            free(p);
            return NULL;
        }
        free(p);
        doc = cJSON_Parse(text);
        free(text);
        if (!doc) {
            ctx_error(c, "base file %s is not JSON", base);
            return NULL;
        }
    }
    cJSON *pj = cJSON_Parse(patch);
    if (!pj || !cJSON_IsObject(pj)) {
        ctx_error(c, "patch is not a JSON object: %s", patch);
        cJSON_Delete(pj);
        cJSON_Delete(doc);
        return NULL;
    }
    merge_patch(doc, pj);
    cJSON_Delete(pj);
    return doc;
}

static char *write_json(ctx *c, const char *stem, cJSON *doc)
{
    char *path = gen_path(c, stem, ".json");
    char *text = cJSON_Print(doc);
    if (write_bytes(path, text, strlen(text)) != 0) ctx_error(c, "cannot write %s", path);
    cJSON_free(text);
    cJSON_Delete(doc);
    return path;
}

static char *gen_patch_file(ctx *c, const char *stem, const char *base, const char *patch)
{
    cJSON *doc = patched(c, base, patch);
    return doc ? write_json(c, stem, doc) : xstrdup("");
}

/* TEXT content escapes: \n, \t, \r, \0, \\. */
static void unescape(const char *s, buf *b)
{
    for (; *s; s++) {
        if (*s != '\\' || !s[1]) {
            buf_addc(b, *s);
            continue;
        }
        s++;
        switch (*s) {
        case 'n':
            buf_addc(b, '\n');
            break;
        case 't':
            buf_addc(b, '\t');
            break;
        case 'r':
            buf_addc(b, '\r');
            break;
        case '0':
            buf_addc(b, '\0');
            break;
        case 's':
            buf_addc(b, ' ');
            break;
        case '\\':
            buf_addc(b, '\\');
            break;
        default:
            buf_addc(b, '\\');
            buf_addc(b, *s);
        }
    }
}

static double parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'K':
        v *= 1024.0;
        break;
    case 'M':
        v *= 1048576.0;
        break;
    case 'G':
        v *= 1073741824.0;
        break;
    default:
        break;
    }
    return v;
}

static int do_mount(ctx *c, const char *dir, const char *opts, unsigned long flags)
{
    if (c->nmounts == MAXMNT) return -1;
    if (mount("tmpfs", dir, "tmpfs", flags, opts) != 0) return -1;
    c->mounts[c->nmounts++] = xstrdup(dir);
    return 0;
}

/* Expands one generator (name, arg may be NULL); returns its replacement. */
static char *generate(ctx *c, const char *name, const char *arg)
{
    static const struct {
        const char *name, *stem, *base;
    } shorthands[] = {
        {"CLU", "cluster", "sim/clusters/h100x8.json"},
        {"MODEL", "model", "models/llm/archs/qwen2.5-0.5b.json"},
        {"DS", "dataset", "traces/datasets/wikipedia.json"},
        {"CAL", "cal", "tests/badinput/files/cal_small.json"},
    };
    for (size_t i = 0; i < sizeof shorthands / sizeof shorthands[0]; i++)
        if (strcmp(name, shorthands[i].name) == 0)
            return gen_patch_file(c, shorthands[i].stem, shorthands[i].base, arg ? arg : "{}");
    if (strcmp(name, "P") == 0) {
        const char *colon = arg ? strchr(arg, ':') : NULL;
        if (!colon) {
            ctx_error(c, "@P:BASE:PATCH@ needs a base and a patch");
            return xstrdup("");
        }
        char *base = xstrdup(arg);
        base[colon - arg] = '\0';
        char *r = gen_patch_file(c, "p", base, colon + 1);
        free(base);
        return r;
    }
    if (strcmp(name, "GPU") == 0 || strcmp(name, "IGPU") == 0) {
        cJSON *g = patched(c, "sim/gpus/h100-sxm.json", arg ? arg : "{}");
        if (!g) return xstrdup("");
        cJSON *cl = patched(c, "sim/clusters/h100x8.json", "{}");
        if (!cl) {
            cJSON_Delete(g);
            return xstrdup("");
        }
        if (name[0] == 'G') {
            char *gp = write_json(c, "gpu", g);
            cJSON_ReplaceItemInObjectCaseSensitive(cl, "gpu", cJSON_CreateString(gp));
            free(gp);
        } else {
            cJSON_ReplaceItemInObjectCaseSensitive(cl, "gpu", g);
        }
        return write_json(c, "cluster", cl);
    }
    if (strcmp(name, "TEXT") == 0 || strcmp(name, "FILL") == 0) {
        /* TEXT:NAME:CONTENT   FILL:NAME:COUNT:UNIT */
        const char *colon = arg ? strchr(arg, ':') : NULL;
        if (!colon) {
            ctx_error(c, "@%s:NAME:...@ needs a name", name);
            return xstrdup("");
        }
        char *fname = xstrdup(arg);
        fname[colon - arg] = '\0';
        const char *content = colon + 1;
        long count = 1;
        if (name[0] == 'F') {
            char *end;
            count = strtol(content, &end, 10);
            if (*end != ':' || count < 0) {
                ctx_error(c, "@FILL:NAME:COUNT:UNIT@: bad count");
                free(fname);
                return xstrdup("");
            }
            content = end + 1;
        }
        buf unit = {0}, all = {0};
        unescape(content, &unit);
        for (long i = 0; i < count; i++) buf_add(&all, unit.p ? unit.p : "", unit.n);
        char *path = xasprintf("%s/%s", c->T, fname);
        mkdir_parents(path);
        if (write_bytes(path, all.p ? all.p : "", all.n) != 0)
            ctx_error(c, "cannot write %s", path);
        free(unit.p);
        free(all.p);
        free(fname);
        return path;
    }
    if (strcmp(name, "TRUNC") == 0) {
        /* TRUNC:BASE:N  first N bytes (N < 0: all but the last -N) */
        const char *colon = arg ? strrchr(arg, ':') : NULL;
        if (!colon) {
            ctx_error(c, "@TRUNC:BASE:N@ needs a base and a length");
            return xstrdup("");
        }
        char *base = xstrdup(arg);
        base[colon - arg] = '\0';
        char *p = src_path(base);
        size_t len = 0;
        char *text = slurp(p, &len);
        free(p);
        free(base);
        if (!text) {
            ctx_error(c, "@TRUNC@: cannot read its base");
            return xstrdup("");
        }
        long n = strtol(colon + 1, NULL, 10);
        size_t keep = n >= 0 ? ((size_t)n < len ? (size_t)n : len)
                             : ((size_t)-n < len ? len - (size_t)-n : 0);
        char *path = gen_path(c, "trunc", ".json");
        if (write_bytes(path, text, keep) != 0) ctx_error(c, "cannot write %s", path);
        free(text);
        return path;
    }
    if (strcmp(name, "REP") == 0) {
        /* REP:COUNT:TEXT  inline, TEXT repeated */
        char *end;
        long count = arg ? strtol(arg, &end, 10) : -1;
        if (count < 0 || *end != ':') {
            ctx_error(c, "@REP:COUNT:TEXT@: bad count");
            return xstrdup("");
        }
        buf b = {0};
        for (long i = 0; i < count; i++) buf_adds(&b, end + 1);
        return buf_take(&b);
    }
    if (strcmp(name, "SEQ") == 0) {
        /* SEQ:A:B  inline "A,A+1,...,B" */
        char *end;
        long a = arg ? strtol(arg, &end, 10) : 0, b = a - 1;
        if (arg && *end == ':') b = strtol(end + 1, NULL, 10);
        if (!arg || *end != ':' || b < a || b - a > 100000) {
            ctx_error(c, "@SEQ:A:B@: bad range");
            return xstrdup("");
        }
        buf r = {0};
        for (long i = a; i <= b; i++) addf(&r, "%s%ld", i > a ? "," : "", i);
        return buf_take(&r);
    }
    if (strcmp(name, "FIFO") == 0) {
        char *p = gen_path(c, "fifo", "");
        if (mkfifo(p, 0644) != 0) ctx_skip(c, "mkfifo failed");
        return p;
    }
    if (strcmp(name, "HUGE") == 0) {
        /* sparse: costs no disk */
        char *p = gen_path(c, "huge", ".json");
        double sz = arg ? parse_size(arg) : 100.0 * 1048576.0;
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)sz) != 0) ctx_skip(c, "cannot make a sparse file");
        if (fd >= 0) close(fd);
        return p;
    }
    if (strcmp(name, "FILE") == 0) {
        char *p = gen_path(c, "file", "");
        if (write_bytes(p, "x\n", 2) != 0) ctx_error(c, "cannot write %s", p);
        return p;
    }
    if (strcmp(name, "DIR") == 0) {
        char *p = gen_path(c, "dir", "");
        if (mkdir(p, 0755) != 0) ctx_error(c, "cannot mkdir %s", p);
        return p;
    }
    if (strcmp(name, "MISSING") == 0)
        return xasprintf("%s/missing%d/none.json", c->T, ++c->counter);
    if (strcmp(name, "LONG") == 0) {
        /* longer than PATH_MAX, every component legal */
        buf b = {0};
        buf_adds(&b, c->T);
        while (b.n <= PATH_MAX + 16) {
            buf_addc(&b, '/');
            for (int i = 0; i < 200; i++) buf_addc(&b, 'a');
        }
        return buf_take(&b);
    }
    if (strcmp(name, "LONGNAME") == 0) {
        /* one component longer than NAME_MAX */
        buf b = {0};
        buf_adds(&b, c->T);
        buf_addc(&b, '/');
        for (int i = 0; i < 300; i++) buf_addc(&b, 'n');
        return buf_take(&b);
    }
    if (strcmp(name, "RO") == 0) {
        /* a read-only directory: a read-only mount as root (root ignores
         * mode bits), mode 0555 otherwise */
        char *p = gen_path(c, "ro", "");
        if (mkdir(p, 0755) != 0) {
            ctx_error(c, "cannot mkdir %s", p);
            return p;
        }
        if (geteuid() == 0) {
            if (do_mount(c, p, "size=64k,mode=0755", MS_RDONLY) != 0)
                ctx_skip(c, "cannot mount a read-only tmpfs");
        } else if (chmod(p, 0555) != 0) {
            ctx_skip(c, "cannot chmod");
        }
        return p;
    }
    if (strcmp(name, "FULL") == 0) {
        /* a full disk: a 64 KiB tmpfs filled up to FREE bytes (default 0) */
        char *p = gen_path(c, "full", "");
        if (mkdir(p, 0755) != 0) {
            ctx_error(c, "cannot mkdir %s", p);
            return p;
        }
        if (geteuid() != 0 || do_mount(c, p, "size=64k,mode=0755", 0) != 0) {
            ctx_skip(c, "a full disk needs root to mount a small tmpfs");
            return p;
        }
        long keep = arg ? (long)parse_size(arg) : 0, written = 0;
        char *fill = xasprintf("%s/filler", p);
        int fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char block[4096];
        memset(block, 'f', sizeof block);
        while (fd >= 0 && written + (long)sizeof block + keep <= 64 * 1024 &&
               write(fd, block, sizeof block) == (ssize_t)sizeof block)
            written += (long)sizeof block;
        if (fd >= 0) close(fd);
        free(fill);
        return p;
    }
    ctx_error(c, "unknown placeholder @%s@", name);
    return xstrdup("");
}

/* Whether p starts a placeholder: "@NAME@" or "@NAME:" (NAME in A-Z). */
static int at_placeholder(const char *p)
{
    if (*p != '@') return 0;
    const char *q = p + 1;
    while (*q >= 'A' && *q <= 'Z') q++;
    return q > p + 1 && (*q == '@' || *q == ':');
}

/* Expands the placeholder at *pp (which at_placeholder accepted) into out;
 * placeholders inside its argument are expanded first. */
static void expand_one(ctx *c, const char **pp, buf *out)
{
    const char *q = *pp + 1;
    while (*q >= 'A' && *q <= 'Z') q++;
    char *name = xstrdup(*pp + 1);
    name[q - *pp - 1] = '\0';
    char *arg = NULL;
    if (*q == ':') {
        buf a = {0};
        q++;
        for (;;) {
            if (!*q) {
                ctx_error(c, "unterminated placeholder @%s:", name);
                break;
            }
            if (*q == '@' && at_placeholder(q)) {
                expand_one(c, &q, &a);
                continue;
            }
            if (*q == '@') {
                q++;
                break;
            }
            buf_addc(&a, *q++);
        }
        arg = buf_take(&a);
    } else {
        q++;
    }
    char *r = generate(c, name, arg);
    buf_adds(out, r);
    free(r);
    free(name);
    free(arg);
    *pp = q;
}

/* Expands @T@, @D@, @S@, then every generator of a token. */
static char *expand(ctx *c, const char *tok)
{
    char *a = replace_all(tok, "@T@", c->T);
    char *b = replace_all(a, "@D@", g_files);
    free(a);
    a = replace_all(b, "@S@", g_src);
    free(b);
    buf out = {0};
    for (const char *p = a; *p;) {
        if (at_placeholder(p))
            expand_one(c, &p, &out);
        else
            buf_addc(&out, *p++);
    }
    free(a);
    return buf_take(&out);
}

/* The byte of "\xHH" at p (HH not 00), or -1. */
static int hex_escape(const char *p)
{
    if (p[0] != '\\' || p[1] != 'x' || hexval(p[2]) < 0 || hexval(p[3]) < 0) return -1;
    int v = hexval(p[2]) * 16 + hexval(p[3]);
    return v ? v : -1;
}

/* Splits a command line on blanks. A token that starts with ' or " runs to
 * the matching quote (so "" is an empty argument and blanks may be quoted);
 * quotes inside a token are literal (JSON patches keep theirs). \xHH
 * anywhere is the byte HH. */
static int tokenize(const char *s, char **tok, int max)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        buf b = {0};
        char q = 0;
        if (*p == '\'' || *p == '"') q = *p++;
        while (*p && (q ? *p != q : *p != ' ' && *p != '\t')) {
            int v = hex_escape(p);
            if (v >= 0) {
                buf_addc(&b, (char)v);
                p += 4;
            } else {
                buf_addc(&b, *p++);
            }
        }
        if (q && *p == q) p++;
        if (n == max) {
            free(b.p);
            return -1;
        }
        tok[n++] = buf_take(&b);
    }
    return n;
}

/* ---- running ------------------------------------------------------------------- */

typedef struct result {
    int code;   /* exit code; 128 + signal when killed */
    int signal; /* the signal, 0 if it exited */
    int timed_out;
    double wall;
    char *out, *err;
    size_t nout, nerr;
} result;

static void run_sftsim(ctx *c, char **argv, int argc, double timeout, result *r)
{
    memset(r, 0, sizeof *r);
    char *fo = xasprintf("%s/c%d.%d.stdout", g_base, c->k->line, c->counter);
    char *fe = xasprintf("%s/c%d.%d.stderr", g_base, c->k->line, c->counter);
    char **av = xmalloc(sizeof *av * ((size_t)argc + 2));
    av[0] = (char *)g_sftsim;
    for (int i = 0; i < argc; i++) av[i + 1] = argv[i];
    av[argc + 1] = NULL;
    fflush(stdout);
    fflush(stderr);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        ctx_error(c, "fork: %s", strerror(errno));
        free(av);
        free(fo);
        free(fe);
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int o = open(fo, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(fe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0 || chdir(c->T) != 0) _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        close(in);
        close(o);
        close(e);
        signal(SIGPIPE, SIG_DFL);
        execv(av[0], av);
        _exit(127);
    }
    setpgid(pid, pid);
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (now_s() - t0 > timeout) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            r->timed_out = 1;
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* workers the command left behind (its own process group) */
    kill(-pid, SIGKILL);
    r->wall = now_s() - t0;
    if (WIFEXITED(status)) {
        r->code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
        r->code = 128 + r->signal;
    }
    r->out = slurp(fo, &r->nout);
    r->err = slurp(fe, &r->nerr);
    if (!r->out) r->out = xstrdup("");
    if (!r->err) r->err = xstrdup("");
    unlink(fo);
    unlink(fe);
    free(fo);
    free(fe);
    free(av);
}

/* ---- checks -------------------------------------------------------------------- */

typedef struct listing {
    char *path;
    int existed, isdir;
    char **names;
    int n;
} listing;

static void list_path(listing *l, const char *path)
{
    memset(l, 0, sizeof *l);
    l->path = xstrdup(path);
    struct stat st;
    if (stat(path, &st) != 0) return;
    l->existed = 1;
    l->isdir = S_ISDIR(st.st_mode);
    if (!l->isdir) return;
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        l->names = realloc(l->names, sizeof *l->names * (size_t)(l->n + 1));
        l->names[l->n++] = xstrdup(de->d_name);
    }
    closedir(d);
}

static void listing_free(listing *l)
{
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    free(l->path);
}

/* What appeared in an output path since its listing: appended to why. */
static void new_entries(const listing *before, buf *why)
{
    listing now;
    list_path(&now, before->path);
    if (!before->existed && now.existed && !now.isdir) {
        buf_adds(why, "; left output file ");
        buf_adds(why, before->path);
    }
    for (int i = 0; i < now.n; i++) {
        int old = 0;
        for (int j = 0; j < before->n && !old; j++)
            old = strcmp(now.names[i], before->names[j]) == 0;
        if (!old) {
            buf_adds(why, "; left ");
            buf_adds(why, now.names[i]);
            buf_adds(why, " in --out");
        }
    }
    listing_free(&now);
}

static buf *g_tmpfound;
static int find_tmp(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (strstr(path + ftw->base, ".tmp.")) {
        buf_adds(g_tmpfound, "; left temporary ");
        buf_adds(g_tmpfound, path + ftw->base);
    }
    return 0;
}

/* A doubled prefix: a line "sftsim[ CMD]: sftsim..." */
static int doubled_prefix(const char *err)
{
    for (const char *line = err; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= 6 && strncmp(line, "sftsim", 6) == 0) {
            const char *colon = memchr(line, ':', len);
            if (colon && (size_t)(colon - line) + 8 <= len && strncmp(colon, ": sftsim", 8) == 0)
                return 1;
        }
        if (!nl) break;
        line = nl + 1;
    }
    return 0;
}

static int is_json_format(char **argv, int argc)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--format=json") == 0) return 1;
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc && strcmp(argv[i + 1], "json") == 0)
            return 1;
    }
    return 0;
}

/* stdout holds one complete JSON document (trailing blanks allowed). */
static int one_json_document(const char *out)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(out, &end, 0);
    if (!j) return 0;
    cJSON_Delete(j);
    while (end && *end && isspace((unsigned char)*end)) end++;
    return end && !*end;
}

/* ASan's warning about SimGrid's context switches: noise, not a report. */
static int asan_noise(const char *line, size_t len)
{
    static const char *const noise[] = {
        "ASan is ignoring requested __asan_handle_no_return",
        "False positive error reports may follow",
        "For details see https://github.com/google/sanitizers/issues/189"};
    for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++) {
        size_t k = strlen(noise[i]);
        for (size_t j = 0; j + k <= len; j++)
            if (memcmp(line + j, noise[i], k) == 0) return 1;
    }
    return 0;
}

/* A printable, one-line excerpt of s (ASan's noise left out). */
static char *excerpt(const char *text, size_t max)
{
    buf clean = {0};
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (!asan_noise(line, len)) buf_add(&clean, line, len);
        line += len;
    }
    const char *s = clean.p ? clean.p : "";
    buf b = {0};
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n < max; p++, n++) {
        if (*p == '\n')
            buf_adds(&b, " / ");
        else if (*p < 0x20 || *p >= 0x7f) {
            char hex[8];
            snprintf(hex, sizeof hex, "\\x%02x", *p);
            buf_adds(&b, hex);
        } else
            buf_addc(&b, (char)*p);
    }
    if (strlen(s) > max) buf_adds(&b, "...");
    free(clean.p);
    return buf_take(&b);
}

enum { PASS, FAIL, SKIP };

static void cleanup_ctx(ctx *c)
{
    for (int i = c->nmounts - 1; i >= 0; i--) {
        if (umount2(c->mounts[i], MNT_DETACH) != 0)
            fprintf(stderr, "sft_badinput: cannot unmount %s: %s\n", c->mounts[i], strerror(errno));
        free(c->mounts[i]);
    }
    c->nmounts = 0;
    if (geteuid() != 0) {
        /* give back write permission so the tree can go */
        char *cmd_dir = c->T;
        DIR *d = opendir(cmd_dir);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                if (strncmp(de->d_name, "ro", 2) != 0) continue;
                char *p = xasprintf("%s/%s", cmd_dir, de->d_name);
                chmod(p, 0755);
                free(p);
            }
            closedir(d);
        }
    }
    if (!g_keep) rm_rf(c->T);
    free(c->skip);
    free(c->error);
}

static int run_case(const kase *k)
{
    ctx c = {0};
    c.k = k;
    snprintf(c.T, sizeof c.T, "%s/c%d-%s", g_base, k->line,
             strrchr(k->file, '/') ? strrchr(k->file, '/') + 1 : k->file);
    rm_rf(c.T);
    if (mkdir(c.T, 0755) != 0) {
        printf("FAIL %s:%d: cannot create %s: %s\n", k->file, k->line, c.T, strerror(errno));
        return FAIL;
    }
    char *raw[MAXARGS], *argv[MAXARGS];
    int nraw = strcmp(k->args, "(none)") == 0 ? 0 : tokenize(k->args, raw, MAXARGS);
    if (nraw < 0) {
        ctx_error(&c, "too many arguments");
        nraw = 0;
    }
    /* commands before a lone "&&" are set-up: each must exit 0 */
    int start = 0, verdict = PASS;
    buf why = {0};
    result r = {0};
    listing outs[MAXOUTS];
    int nouts = 0, json = 0, argc = 0;
    for (int i = 0; i <= nraw && !c.error && !c.skip; i++) {
        if (i < nraw && strcmp(raw[i], "&&") != 0) continue;
        int is_last = i == nraw;
        argc = 0;
        for (int j = start; j < i; j++) {
            /* "%TOKEN": generated for its side effect, not passed */
            char *x = expand(&c, raw[j][0] == '%' ? raw[j] + 1 : raw[j]);
            if (raw[j][0] == '%')
                free(x);
            else
                argv[argc++] = x;
        }
        start = i + 1;
        if (c.error || c.skip) {
            for (int j = 0; j < argc; j++) free(argv[j]);
            argc = 0;
            break;
        }
        if (!is_last) {
            result pre;
            run_sftsim(&c, argv, argc, DEFAULT_TIMEOUT * 3 * g_scale, &pre);
            if (pre.code != 0) {
                char *m = excerpt(pre.err, 200);
                ctx_error(&c, "set-up command exited %d: %s", pre.code, m);
                free(m);
            }
            free(pre.out);
            free(pre.err);
            for (int j = 0; j < argc; j++) free(argv[j]);
            argc = 0;
            continue;
        }
        /* snapshot the output paths */
        for (int j = 0; j < argc && nouts < MAXOUTS; j++) {
            const char *v = NULL;
            if ((strcmp(argv[j], "--out") == 0 || strcmp(argv[j], "-o") == 0 ||
                 strcmp(argv[j], "--output") == 0) &&
                j + 1 < argc)
                v = argv[j + 1];
            else if (strncmp(argv[j], "--out=", 6) == 0)
                v = argv[j] + 6;
            else if (strncmp(argv[j], "--output=", 9) == 0)
                v = argv[j] + 9;
            if (v && *v && strcmp(v, "-") != 0) list_path(&outs[nouts++], v);
        }
        json = is_json_format(argv, argc);
        run_sftsim(&c, argv, argc, k->timeout * g_scale, &r);
    }
    if (c.error) {
        printf("FAIL %s:%d: bad case: %s\n", k->file, k->line, c.error);
        verdict = FAIL;
        goto done;
    }
    if (c.skip) {
        if (g_verbose) printf("SKIP %s:%d: %s\n", k->file, k->line, c.skip);
        verdict = SKIP;
        goto done;
    }
    if (r.timed_out)
        buf_adds(&why, "; timed out (a hang, or work done before the input was checked)");
    else if (r.signal)
        addf(&why, "; killed by signal %d", r.signal);
    else if (r.code != k->exit)
        addf(&why, "; exit %d, expected %d", r.code, k->exit);
    /* message fragments and other declared checks */
    if (strcmp(k->checks, "-") != 0) {
        char *checks = xstrdup(k->checks);
        char *save = NULL;
        for (char *f = strtok_r(checks, "|", &save); f; f = strtok_r(NULL, "|", &save)) {
            int skip1 = f[0] == '!' || f[0] == '>' || f[0] == '+' || f[0] == '^';
            int skip2 = f[0] == '!' && f[1] == '>';
            char *x = expand(&c, f + skip1 + skip2);
            struct stat st;
            if (skip2) {
                if (strstr(r.out, x)) addf(&why, "; stdout says \"%s\"", x);
                free(x);
                continue;
            }
            switch (f[0]) {
            case '!':
                if (strstr(r.err, x)) addf(&why, "; stderr says \"%s\"", x);
                break;
            case '>':
                if (!strstr(r.out, x)) addf(&why, "; stdout lacks \"%s\"", x);
                break;
            case '+':
                if (stat(x, &st) != 0) addf(&why, "; %s was not created", x);
                break;
            case '^':
                if (stat(x, &st) == 0) addf(&why, "; %s exists", x);
                break;
            default:
                if (!strstr(r.err, x)) addf(&why, "; stderr lacks \"%s\"", x);
            }
            free(x);
        }
        free(checks);
    }
    /* promises every case keeps */
    if (doubled_prefix(r.err)) buf_adds(&why, "; doubled \"sftsim: sftsim\" prefix");
    if (strstr(r.err, "runtime error") || strstr(r.err, "AddressSanitizer") ||
        strstr(r.err, "LeakSanitizer"))
        buf_adds(&why, "; sanitizer report");
    if (strstr(r.err, "(null)")) buf_adds(&why, "; message prints (null)");
    if (r.code != 0 && !r.timed_out) {
        if (r.nerr == 0) buf_adds(&why, "; no message on stderr");
        /* refused input (2, 3) writes nothing; an output that fails (4)
         * may follow reports already complete under their final names
         * (ARCHITECTURE.md, "Contracts": complete files or nothing), which test_reports_files
         * and test_cli_out check byte for byte */
        if (r.code != 4)
            for (int i = 0; i < nouts; i++) new_entries(&outs[i], &why);
        buf found = {0};
        g_tmpfound = &found;
        nftw(c.T, find_tmp, 32, FTW_PHYS);
        if (found.p) buf_adds(&why, found.p);
        free(found.p);
        if (r.nout > 0) {
            if (json ? !one_json_document(r.out) : r.out[r.nout - 1] != '\n')
                buf_adds(&why, "; stdout holds a partial document");
        }
    } else if (r.code == 0 && json && !one_json_document(r.out)) {
        buf_adds(&why, "; stdout is not one JSON document");
    }
    if (why.p) {
        char *m = excerpt(r.err, 400), *cmd = excerpt(k->args, 200);
        printf("FAIL %s:%d: %s: %s; stderr: %s\n", k->file, k->line, cmd, why.p + 2, m);
        free(m);
        free(cmd);
        verdict = FAIL;
    } else if (g_verbose) {
        printf("ok   %s:%d (%.2f s)\n", k->file, k->line, r.wall);
    }
done:
    for (int i = 0; i < nouts; i++) listing_free(&outs[i]);
    for (int j = 0; j < argc; j++) free(argv[j]);
    for (int j = 0; j < nraw; j++) free(raw[j]);
    free(r.out);
    free(r.err);
    free(why.p);
    cleanup_ctx(&c);
    return verdict;
}

/* ---- case files ------------------------------------------------------------------ */

/* Next field of *p: fields are separated by a TAB or by a run of two or
 * more blanks (so columns may be aligned either way); NULL at the end. */
static char *field(char **p)
{
    char *s = *p;
    if (!s) return NULL;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return NULL;
    char *t = s;
    while (*t && *t != '\t' && !(t[0] == ' ' && t[1] == ' ')) t++;
    if (*t) {
        *t++ = '\0';
        while (*t == ' ' || *t == '\t') t++;
    }
    *p = t;
    return s;
}

static int run_file(const char *path, int *npass, int *nfail, int *nskip)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("FAIL %s: cannot read: %s\n", path, strerror(errno));
        (*nfail)++;
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        char *p = line;
        while (*p == ' ') p++;
        if (!*p || *p == '#') continue;
        if (g_filter && !strstr(p, g_filter)) continue;
        char *ex = field(&p), *checks = field(&p), *args = p;
        kase k = {path, lineno, 0, DEFAULT_TIMEOUT, NULL, NULL};
        char *end;
        k.exit = ex ? (int)strtol(ex, &end, 10) : -1;
        if (!ex || end == ex || (*end && *end != ':') || !checks || !args || !*args) {
            printf("FAIL %s:%d: bad case line (EXIT<TAB>CHECKS<TAB>ARGS)\n", path, lineno);
            (*nfail)++;
            continue;
        }
        if (*end == ':') k.timeout = strtod(end + 1, NULL);
        k.checks = checks;
        k.args = args;
        switch (run_case(&k)) {
        case PASS:
            (*npass)++;
            break;
        case FAIL:
            (*nfail)++;
            break;
        default:
            (*nskip)++;
        }
        fflush(stdout);
    }
    free(line);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    int first = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sftsim") == 0 && i + 1 < argc)
            g_sftsim = argv[++i];
        else if (strcmp(argv[i], "--src") == 0 && i + 1 < argc)
            g_src = argv[++i];
        else if (strcmp(argv[i], "--timeout-scale") == 0 && i + 1 < argc)
            g_scale = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
            g_filter = argv[++i];
        else if (strcmp(argv[i], "--keep") == 0)
            g_keep = 1;
        else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
            g_verbose = 1;
        else {
            first = i;
            break;
        }
    }
    if (!g_sftsim || !g_src || first == argc || g_scale <= 0) {
        fprintf(stderr, "usage: sft_badinput --sftsim PATH --src DIR [--timeout-scale X] "
                        "[--keep] [--verbose] [--filter TEXT] CASEFILE...\n");
        return 2;
    }
    if (getenv("SFT_BADINPUT_FILTER")) g_filter = getenv("SFT_BADINPUT_FILTER");
    static char abs_sftsim[PATH_MAX], abs_src[PATH_MAX];
    if (!realpath(g_sftsim, abs_sftsim) || !realpath(g_src, abs_src)) {
        fprintf(stderr, "sft_badinput: cannot find %s or %s\n", g_sftsim, g_src);
        return 2;
    }
    g_sftsim = abs_sftsim;
    g_src = abs_src;
    snprintf(g_files, sizeof g_files, "%s/tests/badinput/files", g_src);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_base, sizeof g_base, "%s/sft-badinput-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_base)) {
        fprintf(stderr, "sft_badinput: mkdtemp: %s\n", strerror(errno));
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int npass = 0, nfail = 0, nskip = 0;
    double t0 = now_s();
    for (int i = first; i < argc; i++) run_file(argv[i], &npass, &nfail, &nskip);
    if (!g_keep) rm_rf(g_base);
    printf("wall time %.1f s\n", now_s() - t0);
    printf("%d passed, %d failed, %d skipped\n", npass, nfail, nskip);
    return nfail ? 1 : npass == 0 && nskip > 0 ? 77 : 0;
}
