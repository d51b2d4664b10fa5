/* trace_src.c — trace sources: the dataset generator and the streaming file
 * reader (JSONL traces, plain lengths, JSONL records).
 *
 * Files are opened through sft_open_input: a regular file of at most
 * SFT_TRACE_MAX bytes, or "-" for standard input (never a FIFO or device by
 * name, so /dev/zero or a FIFO without a writer cannot hang or exhaust
 * memory). They are read one line at a time through a 64 KiB buffer, so
 * memory holds one batch, not the trace; a line may be at most SRC_LINE_MAX
 * bytes and standard input at most SFT_TRACE_MAX bytes. Blank lines (only spaces, tabs, CR) are
 * skipped anywhere. The format is fixed by the first non-blank line: a JSON object with "samples"
 * or "step" is a JSONL trace, any other JSON object a record, a JSON number a plain length; every
 * later line must be of the same kind. A last line without a newline is accepted when it parses
 * completely (editors and scripts often omit the final newline); one that does not parse is
 * reported as a file ending mid-line.
 *
 * Invariants: the samples handed out satisfy 1 <= len <= TRACE_MAX_LEN and a
 * batch has at least one; the ids of a batch are distinct (a sample is
 * scheduled once per step; a later step may repeat it, as epochs do); JSONL
 * steps strictly increase; `where` always holds "FILE:LINE" of the line
 * being read, so every message names both.
 */
#include "traces/trace.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"

typedef enum src_kind { SRC_DATASET, SRC_JSONL, SRC_LENGTHS, SRC_RECORDS } src_kind;

/* Largest integer a double (hence a JSON number) holds exactly: the bound on
 * step numbers and sample ids read from files. */
#define SRC_MAX_EXACT 9007199254740992L
/* Longest line: a batch of TRACE_MAX_PER_STEP samples written as
 * {"id":9007199254740992,"len":10000000} takes 41 MB; records may carry
 * their text. Past this a "line" is a binary file or a stream of zeros. */
#define SRC_LINE_MAX ((size_t)128 << 20)
#define SRC_RBUF     65536

typedef struct id_at {
    int64_t id;
    size_t at; /* index in the batch */
} id_at;

struct trace_src {
    src_kind kind;
    char *origin;      /* file name or the dataset's origin */
    trace_sample *buf; /* the batch handed out */
    size_t cap;
    long step;       /* batches handed out so far */
    long max_steps;  /* 0 = no limit */
    long per_step;   /* samples per batch (generator, lengths, records) */
    int64_t next_id; /* id of the next generated or user-data sample */
    /* generator */
    trace_dist *dist;
    gsl_rng *rng;
    int64_t left; /* samples still to draw */
    /* file reader */
    FILE *fp;       /* borrowed, or owned_fp */
    FILE *owned_fp; /* closed on destroy */
    char *line;     /* current line, NUL-terminated (it may hold NULs of its own) */
    size_t line_cap, line_len;
    char *rbuf; /* read-ahead: rbuf[rpos..rlen) not yet consumed */
    size_t rpos, rlen;
    int reof;
    unsigned long long nread; /* bytes read so far (standard input has no size to check) */
    id_at *ids;               /* scratch for the duplicate-id check */
    size_t ids_cap;
    long lineno;    /* 1-based number of the current line */
    int no_newline; /* the current line ends the file without '\n' */
    int pending;    /* the current line was read for detection, not yet used */
    long last_step; /* JSONL: step of the previous batch */
    char *where;    /* "FILE:LINE" */
    size_t where_cap;
};

static const char *const batch_keys[] = {"step", "samples", NULL};
static const char *const sample_keys[] = {"id", "len", NULL};
static const char *const len_keys[] = {"len", "length", "num_tokens"};

static const char *const jsonl_shape = "one JSON batch per line, "
                                       "{\"step\":0,\"samples\":[{\"id\":0,\"len\":812},...]}";
static const char *const record_shape = "one JSON record per line with len, length or num_tokens";
static const char *const lengths_shape = "one integer length per line";

static sft_status check_per_step(long per_step, sft_err *e)
{
    if (per_step < 1 || per_step > TRACE_MAX_PER_STEP)
        return sft_errf(e, SFT_EINPUT, "samples per step must be in [1, %ld] (got %ld)",
                        TRACE_MAX_PER_STEP, per_step);
    return SFT_OK;
}

static void reserve(trace_src *s, size_t n)
{
    SFT_GROW(s->buf, s->cap, n);
}

/* ---- generator ------------------------------------------------------------ */

static sft_status open_dataset(const char *name_or_file, int64_t samples, long per_step,
                               uint64_t seed, trace_src **out, sft_err *e)
{
    if (seed > TRACE_SEED_MAX)
        return sft_errf(e, SFT_EINPUT, "seed %llu: must be in [0, %lu]", (unsigned long long)seed,
                        TRACE_SEED_MAX);
    trace_dist *d = NULL;
    sft_status st = trace_dist_load(name_or_file, &d, e);
    if (st) return st;
    trace_src *s = sft_xcalloc(1, sizeof *s);
    s->kind = SRC_DATASET;
    s->dist = d;
    s->origin = sft_xstrdup(trace_dist_origin(d));
    s->rng = trace_rng_create(seed);
    s->per_step = per_step;
    s->left = samples;
    reserve(s, (size_t)per_step);
    *out = s;
    return SFT_OK;
}

sft_status trace_src_dataset(const char *name_or_file, long steps, long samples_per_step,
                             uint64_t seed, trace_src **out, sft_err *e)
{
    sft_status st = check_per_step(samples_per_step, e);
    if (st) return st;
    if (steps < 1 || steps > LONG_MAX / samples_per_step)
        return sft_errf(e, SFT_EINPUT,
                        "steps must be in [1, %ld] for %ld samples per step (got %ld)",
                        LONG_MAX / samples_per_step, samples_per_step, steps);
    return open_dataset(name_or_file, (int64_t)steps * samples_per_step, samples_per_step, seed,
                        out, e);
}

sft_status trace_src_dataset_samples(const char *name_or_file, long samples, long samples_per_step,
                                     uint64_t seed, trace_src **out, sft_err *e)
{
    sft_status st = check_per_step(samples_per_step, e);
    if (st) return st;
    if (samples < 1) return sft_errf(e, SFT_EINPUT, "samples must be >= 1 (got %ld)", samples);
    return open_dataset(name_or_file, samples, samples_per_step, seed, out, e);
}

static void next_generated(trace_src *s, trace_batch *b)
{
    size_t n = (size_t)(s->left < s->per_step ? s->left : s->per_step);
    for (size_t i = 0; i < n; i++) {
        s->buf[i].id = s->next_id++;
        s->buf[i].len = trace_dist_sample(s->dist, s->rng);
    }
    s->left -= (int64_t)n;
    b->n = n;
}

/* ---- line reading ------------------------------------------------------------ */

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') return 0;
    return 1;
}

/* Reads the next physical line (with its '\n' if any) into s->line;
 * s->line_len = 0 at the end of the file. getline would grow its buffer
 * without bound on a file with no newline: this stops at SRC_LINE_MAX. */
static sft_status raw_line(trace_src *s, sft_err *e)
{
    if (!s->rbuf) s->rbuf = sft_xmalloc(SRC_RBUF);
    s->line_len = 0;
    for (;;) {
        if (s->rpos == s->rlen) {
            if (s->reof) break;
            errno = 0;
            size_t r = fread(s->rbuf, 1, SRC_RBUF, s->fp);
            if (r == 0) {
                if (ferror(s->fp))
                    return sft_errf(e, SFT_EINPUT, "%s:%ld: read error: %s", s->origin,
                                    s->lineno + 1, strerror(errno ? errno : EIO));
                s->reof = 1;
                break;
            }
            s->rpos = 0;
            s->rlen = r;
            s->nread += r;
            if (s->nread > (unsigned long long)SFT_TRACE_MAX)
                return sft_errf(e, SFT_EINPUT, "%s:%ld: more than the %zu MiB a trace may have",
                                s->origin, s->lineno + 1, SFT_TRACE_MAX >> 20);
        }
        const char *p = s->rbuf + s->rpos;
        size_t avail = s->rlen - s->rpos;
        const char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) + 1 : avail;
        if (s->line_len + take > SRC_LINE_MAX)
            return sft_errf(e, SFT_EINPUT,
                            "%s:%ld: line longer than %zu MiB (not a text trace? a batch of %ld "
                            "samples takes under 48 MiB)",
                            s->origin, s->lineno + 1, SRC_LINE_MAX >> 20, TRACE_MAX_PER_STEP);
        SFT_GROW(s->line, s->line_cap, s->line_len + take + 1);
        memcpy(s->line + s->line_len, p, take);
        s->line_len += take;
        s->rpos += take;
        if (nl) break;
    }
    if (s->line) s->line[s->line_len] = '\0';
    return SFT_OK;
}

/* Reads the next non-blank line; *got = 0 at the end of the file. */
static sft_status read_line(trace_src *s, int *got, sft_err *e)
{
    for (;;) {
        sft_status st = raw_line(s, e);
        if (st) return st;
        if (s->line_len == 0) {
            *got = 0;
            return SFT_OK;
        }
        size_t r = s->line_len;
        s->lineno++;
        s->no_newline = s->line[r - 1] != '\n';
        if (!is_blank(s->line, s->line_len)) {
            size_t need = strlen(s->origin) + 24;
            if (need > s->where_cap) {
                s->where = sft_xrealloc(s->where, need);
                s->where_cap = need;
            }
            snprintf(s->where, s->where_cap, "%s:%ld", s->origin, s->lineno);
            /* cJSON skips a NUL as whitespace: "{..]\0}" would pass */
            const char *nul = memchr(s->line, '\0', s->line_len);
            if (nul)
                return sft_errf(e, SFT_EINPUT,
                                "%s: NUL byte at column %zu (a trace is text: binary data?)",
                                s->where, (size_t)(nul - s->line) + 1);
            *got = 1;
            return SFT_OK;
        }
    }
}

/* The line kept from format detection, else the next one. */
static sft_status take_line(trace_src *s, int *got, sft_err *e)
{
    if (s->pending) {
        s->pending = 0;
        *got = 1;
        return SFT_OK;
    }
    return read_line(s, got, e);
}

/* A short, printable excerpt of the current line for messages. */
static void excerpt(const trace_src *s, char *buf, size_t n)
{
    size_t k = 0, i = 0;
    while (i < s->line_len && (s->line[i] == ' ' || s->line[i] == '\t')) i++;
    for (; i < s->line_len && s->line[i] != '\n' && s->line[i] != '\r' && k + 4 < n; i++) {
        unsigned char ch = (unsigned char)s->line[i];
        buf[k++] = ch >= 32 && ch < 127 ? (char)ch : '?';
    }
    if (i < s->line_len && s->line[i] != '\n' && s->line[i] != '\r') {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
}

/* Parses the current line as one JSON value; shape says what the line should
 * have been, for the message. Creates *out. */
static sft_status parse_line(trace_src *s, const char *shape, cJSON **out, sft_err *e)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s->line, s->line_len, &end, 0);
    if (j && end >= s->line && end <= s->line + s->line_len &&
        is_blank(end, (size_t)(s->line + s->line_len - end))) {
        *out = j;
        return SFT_OK;
    }
    cJSON_Delete(j);
    char ex[48];
    excerpt(s, ex, sizeof ex);
    if (s->no_newline)
        return sft_errf(e, SFT_EINPUT,
                        "%s: file ends mid-line: the last line has no newline and is incomplete "
                        "('%s'; expected %s)",
                        s->where, ex, shape);
    return sft_errf(e, SFT_EINPUT, "%s: cannot parse '%s' (expected %s)", s->where, ex, shape);
}

/* Formats a JSON value for a message: numbers as written, the rest as JSON. */
static void show(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        if (!isfinite(x))
            snprintf(buf, n, "%s", x > 0 ? "beyond 1e308" : "below -1e308");
        else if (x == floor(x) && fabs(x) < 1e15)
            snprintf(buf, n, "%.0f", x);
        else
            snprintf(buf, n, "%g", x);
        return;
    }
    char *t = cJSON_PrintUnformatted(v);
    if (strlen(t) >= n && n > 4)
        snprintf(buf, n, "%.*s...", (int)(n - 4), t);
    else
        snprintf(buf, n, "%s", t);
    free(t);
}

/* Reads a length (v, named key in c's object, NULL for a bare line):
 * an integer from 1 to TRACE_MAX_LEN. */
static sft_status get_len(const jx_ctx *c, const char *key, const cJSON *v, int64_t *out)
{
    char shown[48];
    show(v, shown, sizeof shown);
    const char *why = NULL;
    double x = cJSON_IsNumber(v) ? v->valuedouble : 0;
    if (!cJSON_IsNumber(v))
        why = "not a number";
    else if (x != floor(x))
        why = "not an integer";
    else if (x == 0)
        why = "zero";
    else if (x < 0)
        why = "negative";
    else if (x > TRACE_MAX_LEN)
        why = "above the limit";
    if (why)
        return jx_fail(c, key, "length %s is %s (valid: an integer from 1 to %d tokens)", shown,
                       why, TRACE_MAX_LEN);
    *out = (int64_t)x;
    return SFT_OK;
}

/* ---- JSONL traces ------------------------------------------------------------ */

static int by_id_then_at(const void *a, const void *b)
{
    const id_at *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

/* The n ids of the batch just read are distinct; else names the earliest
 * repeat (the smallest index that repeats an id) and where the id was first. */
static sft_status check_ids(trace_src *s, const jx_ctx *c, size_t n, long step)
{
    size_t k = 1;
    while (k < n && s->buf[k].id > s->buf[k - 1].id) k++;
    if (k >= n) return SFT_OK; /* increasing, as every generated trace: no repeat */
    SFT_GROW(s->ids, s->ids_cap, n);
    for (size_t i = 0; i < n; i++) {
        s->ids[i].id = s->buf[i].id;
        s->ids[i].at = i;
    }
    qsort(s->ids, n, sizeof *s->ids, by_id_then_at);
    /* sorted by (id, index): the second row of each run of equal ids is
     * that id's first repeat; report the earliest repeat in the batch */
    size_t first = 0, again = SIZE_MAX;
    for (size_t i = 1; i < n; i++) {
        int second =
            s->ids[i].id == s->ids[i - 1].id && (i < 2 || s->ids[i - 2].id != s->ids[i].id);
        if (second && s->ids[i].at < again) {
            again = s->ids[i].at;
            first = s->ids[i - 1].at;
        }
    }
    if (again == SIZE_MAX) return SFT_OK;
    jx_ctx sc = jx_elem(c, "samples", (int)again);
    return jx_fail(&sc, "id",
                   "sample id %lld appears twice in step %ld (first as samples[%zu] on this "
                   "line): a sample is scheduled once per step",
                   (long long)s->buf[again].id, step, first);
}

static sft_status batch_from_json(trace_src *s, const cJSON *j, trace_batch *b, sft_err *e)
{
    jx_ctx c = jx_root(s->where, e);
    if (!cJSON_IsObject(j)) return jx_fail(&c, NULL, "expected a JSON object: %s", jsonl_shape);
    long step = 0;
    const cJSON *arr;
    sft_status st;
    if ((st = jx_keys(&c, j, batch_keys))) return st;
    if ((st = jx_long(&c, j, "step", JX_REQ, 0, SRC_MAX_EXACT, &step))) return st;
    if (s->step > 0 && step <= s->last_step)
        return jx_fail(&c, "step", "steps must increase: step %ld follows step %ld", step,
                       s->last_step);
    if ((st = jx_arr(&c, j, "samples", JX_REQ, &arr))) return st;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0) return jx_fail(&c, "samples", "a batch needs at least one sample");
    reserve(s, n);
    int i = 0;
    for (const cJSON *x = arr->child; x; x = x->next, i++) {
        jx_ctx sc = jx_elem(&c, "samples", i);
        long id = 0;
        if (!cJSON_IsObject(x)) return jx_fail(&sc, NULL, "expected {\"id\":..,\"len\":..}");
        if ((st = jx_keys(&sc, x, sample_keys))) return st;
        if ((st = jx_long(&sc, x, "id", JX_REQ, 0, SRC_MAX_EXACT, &id))) return st;
        const cJSON *len = cJSON_GetObjectItemCaseSensitive(x, "len");
        if (!len)
            return jx_fail(&sc, "len", "missing length (every sample needs its length in tokens)");
        if ((st = get_len(&sc, "len", len, &s->buf[i].len))) return st;
        s->buf[i].id = id;
    }
    if ((st = check_ids(s, &c, n, step))) return st;
    b->step = step;
    b->n = n;
    s->last_step = step;
    return SFT_OK;
}

static sft_status next_jsonl(trace_src *s, trace_batch *b, int *eof, sft_err *e)
{
    int got = 0;
    cJSON *j = NULL;
    sft_status st = take_line(s, &got, e);
    if (st) return st;
    if (!got) {
        *eof = 1;
        return SFT_OK;
    }
    if ((st = parse_line(s, jsonl_shape, &j, e))) return st;
    st = batch_from_json(s, j, b, e);
    cJSON_Delete(j);
    return st;
}

/* ---- user data: plain lengths and records ------------------------------------- */

/* The length of one record: exactly one of len, length, num_tokens. */
static sft_status record_len(trace_src *s, const cJSON *j, int64_t *out, sft_err *e)
{
    jx_ctx c = jx_root(s->where, e);
    if (!cJSON_IsObject(j)) return jx_fail(&c, NULL, "expected a JSON record: %s", record_shape);
    const cJSON *v = NULL;
    for (const cJSON *it = j->child; it; it = it->next)
        for (size_t k = 0; k < sizeof len_keys / sizeof len_keys[0]; k++)
            if (it->string && strcmp(it->string, len_keys[k]) == 0) {
                if (v)
                    return jx_fail(&c, NULL, "fields '%s' and '%s' both give a length: keep one",
                                   v->string, it->string);
                v = it;
            }
    if (!v)
        return jx_fail(&c, NULL,
                       "missing length: a record needs one of 'len', 'length', 'num_tokens'");
    return get_len(&c, v->string, v, out);
}

static sft_status user_sample(trace_src *s, int64_t *len, sft_err *e)
{
    cJSON *j = NULL;
    sft_status st;
    if (s->kind == SRC_RECORDS) {
        if ((st = parse_line(s, record_shape, &j, e))) return st;
        st = record_len(s, j, len, e);
    } else {
        if ((st = parse_line(s, lengths_shape, &j, e))) return st;
        jx_ctx c = jx_root(s->where, e);
        if (cJSON_IsNumber(j)) {
            st = get_len(&c, NULL, j, len);
        } else {
            char ex[48];
            excerpt(s, ex, sizeof ex);
            st = jx_fail(&c, NULL, "not an integer length: '%s' (expected %s)", ex, lengths_shape);
        }
    }
    cJSON_Delete(j);
    return st;
}

static sft_status next_user(trace_src *s, trace_batch *b, int *eof, sft_err *e)
{
    size_t n = 0;
    while (n < (size_t)s->per_step) {
        int got = 0;
        sft_status st = take_line(s, &got, e);
        if (st) return st;
        if (!got) break;
        if ((st = user_sample(s, &s->buf[n].len, e))) return st;
        s->buf[n++].id = s->next_id++;
    }
    if (n == 0) {
        *eof = 1;
        return SFT_OK;
    }
    b->step = s->step;
    b->n = n;
    return SFT_OK;
}

/* ---- files ---------------------------------------------------------------- */

/* Reads the first non-blank line and fixes the format from it. */
static sft_status detect(trace_src *s, sft_err *e)
{
    int got = 0;
    cJSON *j = NULL;
    sft_status st = read_line(s, &got, e);
    if (st) return st;
    if (!got)
        return sft_errf(e, SFT_EINPUT,
                        "%s:1: empty trace: no line with content (expected JSONL batches, JSONL "
                        "records with len, length or num_tokens, or one integer length per line)",
                        s->origin);
    const char *any = "a JSONL batch {\"step\":0,\"samples\":[...]}, a JSON record with len, "
                      "length or num_tokens, or an integer length";
    if ((st = parse_line(s, any, &j, e))) return st;
    if (cJSON_IsObject(j)) {
        /* "step" too, so that a batch missing its samples is reported as such */
        s->kind = cJSON_GetObjectItemCaseSensitive(j, "samples") ||
                          cJSON_GetObjectItemCaseSensitive(j, "step")
                      ? SRC_JSONL
                      : SRC_RECORDS;
    } else if (cJSON_IsNumber(j)) {
        s->kind = SRC_LENGTHS;
    } else {
        char ex[48];
        excerpt(s, ex, sizeof ex);
        st = sft_errf(e, SFT_EINPUT, "%s: not a trace: '%s' (expected %s)", s->where, ex, any);
    }
    cJSON_Delete(j);
    s->pending = 1;
    return st;
}

sft_status trace_src_fp(FILE *fp, const char *name, long samples_per_step, trace_src **out,
                        sft_err *e)
{
    sft_status st = check_per_step(samples_per_step, e);
    if (st) return st;
    trace_src *s = sft_xcalloc(1, sizeof *s);
    s->fp = fp;
    s->origin = sft_xstrdup(name);
    s->per_step = samples_per_step;
    if ((st = detect(s, e))) {
        trace_src_destroy(s);
        return st;
    }
    if (s->kind != SRC_JSONL) reserve(s, (size_t)samples_per_step);
    *out = s;
    return SFT_OK;
}

sft_status trace_src_file(const char *path, long samples_per_step, trace_src **out, sft_err *e)
{
    sft_status st = check_per_step(samples_per_step, e);
    if (st) return st;
    if (!path[0])
        return sft_errf(e, SFT_EINPUT,
                        "trace file name is empty (expected a file, or - for standard input)");
    FILE *fp = NULL;
    if ((st = sft_open_input(path, SFT_TRACE_MAX, 1, &fp, e))) return st;
    if (fp == stdin) return trace_src_fp(stdin, "<stdin>", samples_per_step, out, e);
    st = trace_src_fp(fp, path, samples_per_step, out, e);
    if (st) {
        fclose(fp);
        return st;
    }
    (*out)->owned_fp = fp;
    return SFT_OK;
}

sft_status trace_src_open(const char *dataset, const char *trace, long steps, long samples_per_step,
                          uint64_t seed, trace_src **out, sft_err *e)
{
    if (trace && dataset)
        return sft_errf(e, SFT_EINPUT,
                        "--dataset %s and --trace %s: give one (a trace file already fixes the "
                        "lengths)",
                        dataset, trace);
    if (!trace)
        return trace_src_dataset(dataset ? dataset : TRACE_DEFAULT_DATASET, steps, samples_per_step,
                                 seed, out, e);
    if (steps < 0) return sft_errf(e, SFT_EINPUT, "steps must be >= 0 (got %ld)", steps);
    sft_status st = trace_src_file(trace, samples_per_step, out, e);
    if (st) return st;
    (*out)->max_steps = steps;
    return SFT_OK;
}

sft_status trace_src_next(trace_src *s, trace_batch *b, int *eof, sft_err *e)
{
    sft_status st = SFT_OK;
    *eof = 0;
    b->n = 0;
    b->s = s->buf;
    if (s->max_steps > 0 && s->step >= s->max_steps) {
        *eof = 1;
        return SFT_OK;
    }
    switch (s->kind) {
    case SRC_DATASET:
        if (s->left == 0)
            *eof = 1;
        else
            next_generated(s, b);
        b->step = s->step;
        break;
    case SRC_JSONL:
        st = next_jsonl(s, b, eof, e);
        break;
    case SRC_LENGTHS:
    case SRC_RECORDS:
        st = next_user(s, b, eof, e);
        break;
    }
    b->s = s->buf; /* reading may have grown the buffer */
    if (st || *eof) {
        b->n = 0;
        return st;
    }
    s->step++;
    return SFT_OK;
}

const char *trace_src_format(const trace_src *s)
{
    switch (s->kind) {
    case SRC_DATASET:
        return "dataset";
    case SRC_JSONL:
        return "jsonl";
    case SRC_LENGTHS:
        return "lengths";
    case SRC_RECORDS:
        return "records";
    }
    return "?";
}

const char *trace_src_origin(const trace_src *s)
{
    return s->origin;
}

void trace_src_destroy(trace_src *s)
{
    if (!s) return;
    trace_dist_destroy(s->dist);
    if (s->rng) gsl_rng_free(s->rng);
    if (s->owned_fp) fclose(s->owned_fp);
    free(s->line);
    free(s->rbuf);
    free(s->ids);
    free(s->where);
    free(s->origin);
    free(s->buf);
    free(s);
}
