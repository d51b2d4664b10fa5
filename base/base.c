/* base.c — status/error helpers, allocation, files, built-in data. */
#include "base/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

static void ofile_remove_own(void);

void sft_die(const char *fmt, ...)
{
    ofile_remove_own();
    va_list ap;
    va_start(ap, fmt);
    fputs("sftsim: internal error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
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

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

sft_status sft_open_input(const char *path, size_t limit, int allow_stdin, FILE **fp, sft_err *e)
{
    if (allow_stdin && strcmp(path, "-") == 0) {
        *fp = stdin;
        return SFT_OK;
    }
    /* O_NONBLOCK: opening a FIFO with no writer would block forever */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return sft_errf(e, SFT_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return sft_errf(e, SFT_EINPUT, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sft_errf(e, SFT_EINPUT, "%s: is %s; expected a regular file%s", path,
                        file_kind(st.st_mode), allow_stdin ? " (or - for standard input)" : "");
    }
    if ((unsigned long long)st.st_size > (unsigned long long)limit) {
        close(fd);
        return sft_errf(e, SFT_EINPUT, "%s: %lld bytes, more than the %zu MiB an input may have",
                        path, (long long)st.st_size, limit >> 20);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int err = errno;
        close(fd);
        return sft_errf(e, SFT_EINPUT, "%s: cannot open: %s", path, strerror(err));
    }
    *fp = f;
    return SFT_OK;
}

sft_status sft_read_input(const char *path, size_t limit, int allow_stdin, char **out, size_t *len,
                          sft_err *e)
{
    FILE *f = NULL;
    sft_status st = sft_open_input(path, limit, allow_stdin, &f, e);
    if (st) return st;
    size_t cap = 4096, n = 0;
    char *buf = sft_xmalloc(cap);
    int toolong = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            buf = sft_xrealloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
        /* the size was checked, but a file may grow, and stdin has none */
        if (n > limit) {
            toolong = 1;
            break;
        }
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (bad || toolong) {
        free(buf);
        if (toolong)
            return sft_errf(e, SFT_EINPUT, "%s: more than the %zu MiB an input may have", path,
                            limit >> 20);
        return sft_errf(e, SFT_EINPUT, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return SFT_OK;
}

sft_status sft_read_file(const char *path, char **out, size_t *len, sft_err *e)
{
    return sft_read_input(path, SFT_INPUT_MAX, 0, out, len, e);
}

/* p itself, or its head and tail around "...": a message must keep room
 * for the reason after a path of thousands of bytes. */
static const char *short_path(const char *p, char *buf, size_t n)
{
    size_t len = strlen(p);
    if (len <= 300 || n < 300) return p;
    snprintf(buf, n, "%.150s...%s", p, p + len - 120);
    return buf;
}

sft_status sft_mkdir(const char *path, sft_err *e)
{
    if (!*path) return sft_errf(e, SFT_EINPUT, "empty directory name");
    size_t n = strlen(path);
    char *buf = sft_xstrdup(path);
    /* each prefix ending before a '/', then the whole path */
    for (size_t i = 1; i <= n; i++) {
        if (i < n && buf[i] != '/') continue;
        if (i < n && buf[i - 1] == '/') continue; /* "a//b" */
        char keep = buf[i];
        buf[i] = '\0';
        struct stat st;
        char sp[320], sb[320];
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int err = errno;
            sft_status r = sft_errf(e, SFT_EINPUT, "%s: cannot create directory %s: %s",
                                    short_path(path, sp, sizeof sp), short_path(buf, sb, sizeof sb),
                                    strerror(err));
            free(buf);
            return r;
        }
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
            sft_status r =
                strcmp(buf, path) == 0
                    ? sft_errf(e, SFT_EINPUT, "%s: exists and is not a directory",
                               short_path(path, sp, sizeof sp))
                    : sft_errf(e, SFT_EINPUT, "%s: %s exists and is not a directory",
                               short_path(path, sp, sizeof sp), short_path(buf, sb, sizeof sb));
            free(buf);
            return r;
        }
        buf[i] = keep;
    }
    free(buf);
    return SFT_OK;
}

/* Whether name is "<anything>.tmp.<digits>" and, if so, its pid. */
static int tmp_pid(const char *name, long *pid)
{
    const char *t = strstr(name, ".tmp.");
    if (!t) return 0;
    const char *last;
    while ((last = strstr(t + 1, ".tmp."))) t = last;
    const char *d = t + 5;
    if (!*d) return 0;
    for (const char *c = d; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    return sft_parse_long(d, 1, 0x7fffffffL, pid) == SFT_OK;
}

sft_status sft_outdir_prepare(const char *opt, const char *path, sft_err *e)
{
    if (!path || !*path) return sft_errf(e, SFT_EINPUT, "%s: expected a directory name", opt);
    sft_status st = sft_mkdir(path, e);
    if (st) return sft_err_prefix(e, "%s", opt);
    char sp[320];
    const char *shown = short_path(path, sp, sizeof sp);
    size_t n = strlen(path) + 64;
    char *probe = sft_xmalloc(n);
    snprintf(probe, n, "%s/.sftsim-probe.%ld", path, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int err = errno;
        free(probe);
        return sft_errf(e, SFT_EINPUT, "%s %s: directory is not writable: %s", opt, shown,
                        strerror(err));
    }
    close(fd);
    unlink(probe);
    free(probe);
    DIR *d = opendir(path);
    if (!d) return sft_errf(e, SFT_EINPUT, "%s %s: cannot list: %s", opt, shown, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid;
        if (!tmp_pid(de->d_name, &pid)) continue;
        /* a live process's temporary is its own business; ESRCH: dead */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        size_t m = strlen(path) + strlen(de->d_name) + 2;
        char *f = sft_xmalloc(m);
        snprintf(f, m, "%s/%s", path, de->d_name);
        unlink(f);
        free(f);
    }
    closedir(d);
    return SFT_OK;
}

int sft_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Open temporaries, for removal on a fatal signal. Slots are written only
 * outside the handler; the handler reads them. pid: forked children inherit
 * the table but must not remove their parent's files. */
#define OFILE_SLOTS 256
static char *volatile ofile_tmp[OFILE_SLOTS];
static volatile pid_t ofile_pid[OFILE_SLOTS];

static void ofile_register(const char *tmp)
{
    for (int i = 0; i < OFILE_SLOTS; i++)
        if (!ofile_tmp[i]) {
            ofile_pid[i] = getpid();
            ofile_tmp[i] = (char *)tmp;
            return;
        }
    /* more open outputs than slots: still atomic, only not signal-cleaned */
}

static void ofile_unregister(const char *tmp)
{
    for (int i = 0; i < OFILE_SLOTS; i++)
        if (ofile_tmp[i] == tmp) ofile_tmp[i] = NULL;
}

/* Async-signal-safe: getpid and unlink only. */
static void ofile_remove_own(void)
{
    pid_t me = getpid();
    for (int i = 0; i < OFILE_SLOTS; i++) {
        char *t = ofile_tmp[i];
        if (t && ofile_pid[i] == me) unlink(t);
    }
}

static void on_fatal_signal(int sig)
{
    ofile_remove_own();
    signal(sig, SIG_DFL);
    raise(sig);
}

void sft_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
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
    ofile_register(f->tmp);
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp) {
        int err = errno;
        /* a path that cannot be (no such directory, not a directory,
         * permission, read-only) is the user's to fix: bad input; a full
         * disk or an I/O error is an output failure */
        int io = err == ENOSPC || err == EIO || err == EDQUOT || err == EMFILE || err == ENFILE;
        sft_errf(e, io ? SFT_EOUTPUT : SFT_EINPUT, "%s: cannot write: %s", path, strerror(err));
        ofile_unregister(f->tmp);
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
    ofile_unregister(f->tmp);
    free(f->path);
    free(f->tmp);
    free(f);
}

sft_status sft_ofile_commit(sft_ofile *f, sft_err *e)
{
    sft_status st = SFT_OK;
    /* the first failure's errno: a full disk shows at fflush or fclose */
    int err = 0;
    if (fflush(f->fp) != 0) err = errno;
    if (ferror(f->fp) && !err) err = EIO;
    if (fclose(f->fp) != 0 && !err) err = errno;
    if (err) {
        st = sft_errf(e, SFT_EOUTPUT, "%s: write failed: %s", f->path, strerror(err));
        remove(f->tmp);
    } else if (rename(f->tmp, f->path) != 0) {
        err = errno;
        st = sft_errf(e, SFT_EOUTPUT, "%s: cannot rename from %s: %s", f->path, f->tmp,
                      strerror(err));
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
    if (!f) return e ? e->status : SFT_EOUTPUT;
    if (len && fwrite(data, 1, len, f->fp) != len) {
        int err = errno;
        sft_ofile_abort(f);
        return sft_errf(e, SFT_EOUTPUT, "%s: write failed: %s", path, strerror(err));
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
    struct stat sb;
    /* any file by that name, not only a regular one: a FIFO called "ff"
     * is refused as a FIFO, not looked up as a built-in */
    if (stat(arg, &sb) == 0 || looks_like_path(arg)) {
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

sft_status sft_load_data(const char *kind, const char *name_or_file, sft_parse_fn parse, void *ctx,
                         sft_err *e)
{
    char *text = NULL, *origin = NULL;
    sft_status st = sft_resolve_data(kind, name_or_file, &text, &origin, e);
    if (st) return st;
    st = parse(text, origin, ctx, e);
    free(text);
    free(origin);
    return st;
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
    if (*end || !isfinite(v * m)) return -1; /* "1e308T" overflows */
    return v * m;
}

sft_status sft_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s) return SFT_EINPUT;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return SFT_EINPUT;
    *out = v;
    return SFT_OK;
}

sft_status sft_parse_double(const char *s, double *out)
{
    if (!s || !*s) return SFT_EINPUT;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v)) return SFT_EINPUT;
    *out = v;
    return SFT_OK;
}
