/* chrome.c — the gzip-compressed Chrome / Perfetto trace (chrome.h).
 *
 * The JSON text is formatted by hand into one buffer and deflated a buffer
 * at a time straight into the temporary file: millions of events never sit
 * in memory as text, and printf's cost per number would dominate.
 *
 * Invariant: text is written only into a reservation. zroom(need) makes room
 * for need bytes and opens a reservation of that size; every writer that
 * formats with put*() reserves for ONE event at a time (its fixed text,
 * EV_ROOM, plus the quoted strings it copies) and closes it with zdone,
 * which checks, in every build, that the event stayed inside. The buffer has
 * ZSLACK bytes past ZBUF, so an event that outgrows its estimate (by less
 * than a whole event's room) is caught by the check before it corrupts the
 * heap, even when its reservation ends the buffer.
 */
#include "reports/chrome.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ZBUF (1u << 18)
/* Bytes one event may need beyond the quoted strings it copies: keys,
 * punctuation and at most 16 numbers of at most 24 characters. */
#define EV_ROOM 512
/* Allocated past ZBUF: an overrun of a reservation lands here, inside the
 * buffer, where zdone's check finds it. */
#define ZSLACK (2 * EV_ROOM)

typedef struct zout {
    FILE *fp;
    z_stream z;
    char *buf; /* pending JSON text */
    size_t n;
    size_t lim; /* the open reservation ends at buf + lim */
    unsigned char *out;
    int failed;      /* a write or deflate error: reported once, at the end */
    int err;         /* errno of the first failed write, 0 for zlib's own */
    uint64_t events; /* events written: all but the first follow a comma */
} zout;

static void zpump(zout *w, int flush)
{
    w->z.next_in = (unsigned char *)w->buf;
    w->z.avail_in = (uInt)w->n;
    do {
        w->z.next_out = w->out;
        w->z.avail_out = ZBUF;
        int rc = deflate(&w->z, flush);
        if (rc == Z_STREAM_ERROR) w->failed = 1;
        size_t have = ZBUF - w->z.avail_out;
        if (have && fwrite(w->out, 1, have, w->fp) != have) {
            if (!w->failed) w->err = errno ? errno : EIO;
            w->failed = 1;
        }
    } while (w->z.avail_out == 0 && !w->failed);
    w->n = 0;
}

/* Reserves need bytes at the end of the pending text (one event). */
static char *zroom(zout *w, size_t need)
{
    SFT_CHECK(need <= ZBUF, "chrome trace: an event of %zu bytes (at most %u)", need, ZBUF);
    if (w->n + need > ZBUF) zpump(w, Z_NO_FLUSH);
    w->lim = w->n + need;
    return w->buf + w->n;
}

/* Closes the reservation at end: the event must lie inside it. */
static void zdone(zout *w, char *end)
{
    size_t n = (size_t)(end - w->buf);
    SFT_CHECK(end >= w->buf + w->n && n <= w->lim,
              "chrome trace: an event of %zu bytes overran its reservation of %zu", n - w->n,
              w->lim - w->n);
    w->n = n;
    w->lim = n;
}

static void zputs(zout *w, const char *s)
{
    size_t n = strlen(s);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < ZBUF / 2 ? n - off : ZBUF / 2;
        char *p = zroom(w, k);
        memcpy(p, s + off, k);
        zdone(w, p + k);
        off += k;
    }
}

/* Starts an event: the separator from the previous one. */
static char *sep(zout *w, char *p)
{
    if (w->events++) *p++ = ',';
    *p++ = '\n';
    return p;
}

static char *put(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_i64(char *p, int64_t v)
{
    char tmp[24];
    int k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *p++ = '-';
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (k) *p++ = tmp[--k];
    return p;
}

/* Nanoseconds as microseconds with up to three decimals, exactly. */
static char *put_us(char *p, int64_t ns)
{
    if (ns < 0) {
        *p++ = '-';
        ns = -ns;
    }
    p = put_i64(p, ns / 1000);
    int f = (int)(ns % 1000);
    if (f) {
        *p++ = '.';
        *p++ = (char)('0' + f / 100);
        if (f % 100) {
            *p++ = (char)('0' + f / 10 % 10);
            if (f % 10) *p++ = (char)('0' + f % 10);
        }
    }
    return p;
}

static char *put_num(char *p, double v)
{
    if (v == floor(v) && fabs(v) < 9e15) return put_i64(p, (int64_t)v);
    return p + snprintf(p, 32, "%.15g", v);
}

/* A JSON string literal of s (created). */
static char *json_quote(const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *q = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char *r = sft_xstrdup(q);
    cJSON_free(q);
    return r;
}

typedef struct src_ctx {
    const rep_src *src;
    int pid0;     /* pid of GPU 0 */
    char **names; /* quoted op names */
    int nnames;
    size_t maxname;
    char **cats; /* quoted category names, ncats entries */
    int ncats;
    int64_t flow0;    /* flow id of this source's first flow */
    int64_t *flowoff; /* per collective: offset of its flows */
    int *seen;        /* per collective: members met so far (GPU order) */
} src_ctx;

static void ctx_init(src_ctx *c, const rep_src *src, int pid0, int64_t flow0)
{
    memset(c, 0, sizeof *c);
    c->src = src;
    c->pid0 = pid0;
    c->flow0 = flow0;
    const prog *p = src->p;
    c->nnames = prog_nstrings(p);
    c->names = sft_xcalloc((size_t)c->nnames + 1, sizeof *c->names);
    for (int i = 0; i < c->nnames; i++) {
        c->names[i] = json_quote(prog_string(p, i));
        if (strlen(c->names[i]) > c->maxname) c->maxname = strlen(c->names[i]);
    }
    c->ncats = 256;
    c->cats = sft_xcalloc(256, sizeof *c->cats);
    for (int i = 0; i < 256; i++) {
        char b[16];
        c->cats[i] = json_quote(rep_cat_name(src, i, b, sizeof b));
        if (strlen(c->cats[i]) > c->maxname) c->maxname = strlen(c->cats[i]);
    }
    int nc = prog_ncolls(p);
    c->flowoff = sft_xcalloc((size_t)nc + 1, sizeof *c->flowoff);
    c->seen = sft_xcalloc((size_t)nc + 1, sizeof *c->seen);
    for (int k = 0; k < nc; k++) {
        int group, n;
        prog_coll_get(p, k, NULL, &group, NULL, NULL);
        prog_group_members(p, group, &n);
        c->flowoff[k + 1] = c->flowoff[k] + (n > 1 ? n - 1 : 0);
    }
}

static void ctx_free(src_ctx *c)
{
    for (int i = 0; i < c->nnames; i++) free(c->names[i]);
    for (int i = 0; i < c->ncats; i++) free(c->cats[i]);
    free(c->names);
    free(c->cats);
    free(c->flowoff);
    free(c->seen);
}

static int64_t ctx_nflows(const src_ctx *c)
{
    return c->flowoff[prog_ncolls(c->src->p)];
}

static void meta(zout *w, const src_ctx *c, int n)
{
    static const char *const tname[PROG_NSTREAMS] = {"compute", "comm (CP)", "comm (DP)"};
    const prog *p = c->src->p;
    for (int g = 0; g < prog_ngpus(p); g++) {
        int pid = c->pid0 + g;
        char label[300];
        if (n > 1)
            snprintf(label, sizeof label, "%s GPU %d", c->src->policy, g);
        else
            snprintf(label, sizeof label, "GPU %d", g);
        char *ql = json_quote(label);
        char *q = zroom(w, EV_ROOM + strlen(ql));
        q = put(sep(w, q), "{\"ph\":\"M\",\"pid\":");
        q = put_i64(q, pid);
        q = put(q, ",\"name\":\"process_name\",\"args\":{\"name\":");
        q = put(q, ql);
        free(ql);
        q = put(q, "}}");
        zdone(w, q);
        q = zroom(w, EV_ROOM);
        q = put(sep(w, q), "{\"ph\":\"M\",\"pid\":");
        q = put_i64(q, pid);
        q = put(q, ",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":");
        q = put_i64(q, pid);
        q = put(q, "}}");
        zdone(w, q);
        for (int s = 0; s < PROG_NSTREAMS; s++) {
            if (!prog_nops(p, g, s)) continue;
            q = zroom(w, EV_ROOM);
            q = put(sep(w, q), "{\"ph\":\"M\",\"pid\":");
            q = put_i64(q, pid);
            q = put(q, ",\"tid\":");
            q = put_i64(q, s);
            q = put(q, ",\"name\":\"thread_name\",\"args\":{\"name\":\"");
            q = put(q, tname[s]);
            q = put(q, "\"}}");
            zdone(w, q);
            q = zroom(w, EV_ROOM);
            q = put(sep(w, q), "{\"ph\":\"M\",\"pid\":");
            q = put_i64(q, pid);
            q = put(q, ",\"tid\":");
            q = put_i64(q, s);
            q = put(q, ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":");
            q = put_i64(q, s);
            q = put(q, "}}");
            zdone(w, q);
        }
    }
}

/* The flow events of COLL op o (member k of its collective in GPU order),
 * one reservation each. */
static void flows(zout *w, src_ctx *c, const prog_op *o, int pid, int tid)
{
    const prog *p = c->src->p;
    const eng_result *r = c->src->r;
    int group, n;
    prog_coll_get(p, o->ref, NULL, &group, NULL, NULL);
    prog_group_members(p, group, &n);
    int k = c->seen[o->ref]++;
    int64_t b = rep_ns(r->coll_begin[o->ref]), en = rep_ns(r->coll_end[o->ref]);
    /* member k's point lies strictly inside (b, en), points strictly
     * increasing with k: needs en - b >= n + 1 ns, else no arrows */
    if (n < 2 || en - b < (int64_t)n + 1) return;
    /* b + (en - b)(k + 1) / (n + 1) without forming the product, which
     * overflows int64 for a long collective over tens of thousands of GPUs */
    int64_t span = en - b, m = (int64_t)n + 1;
    int64_t ts = b + span / m * (k + 1) + span % m * (k + 1) / m;
    int64_t id = c->flow0 + c->flowoff[o->ref] + k;
    for (int dir = 0; dir < 2; dir++) {
        if (dir == 0 && k == n - 1) continue; /* the last member starts no flow */
        if (dir == 1 && k == 0) continue;     /* the first finishes none */
        char *q = zroom(w, EV_ROOM + c->maxname);
        q = put(sep(w, q),
                dir == 0 ? "{\"ph\":\"s\",\"id\":" : "{\"ph\":\"f\",\"bp\":\"e\",\"id\":");
        q = put_i64(q, dir == 0 ? id : id - 1);
        q = put(q, ",\"pid\":");
        q = put_i64(q, pid);
        q = put(q, ",\"tid\":");
        q = put_i64(q, tid);
        q = put(q, ",\"ts\":");
        q = put_us(q, ts);
        q = put(q, ",\"cat\":\"collective\",\"name\":");
        q = put(q, c->names[o->name]);
        *q++ = '}';
        zdone(w, q);
    }
}

static void slices(zout *w, src_ctx *c, uint64_t *nx)
{
    const prog *p = c->src->p;
    int64_t *a = NULL, *b = NULL;
    size_t cap = 0, capb = 0;
    for (int g = 0; g < prog_ngpus(p); g++) {
        int pid = c->pid0 + g;
        for (int s = 0; s < PROG_NSTREAMS; s++) {
            int n = prog_nops(p, g, s);
            SFT_GROW(a, cap, (size_t)n + 1);
            SFT_GROW(b, capb, (size_t)n + 1);
            rep_stream_ns(p, c->src->r, g, s, a, b);
            const prog_op *o = prog_ops(p, g, s);
            for (int i = 0; i < n; i++) {
                char *q = zroom(w, EV_ROOM + 2 * c->maxname); /* name and category */
                q = put(sep(w, q), "{\"ph\":\"X\",\"pid\":");
                q = put_i64(q, pid);
                q = put(q, ",\"tid\":");
                q = put_i64(q, s);
                q = put(q, ",\"ts\":");
                q = put_us(q, a[i]);
                q = put(q, ",\"dur\":");
                q = put_us(q, b[i] - a[i]);
                q = put(q, ",\"name\":");
                q = put(q, c->names[o[i].name]);
                q = put(q, ",\"cat\":");
                q = put(q, c->cats[o[i].cat]);
                q = put(q, ",\"args\":{\"kind\":\"");
                q = put(q, rep_kind_name(o[i].kind));
                q = put(q, "\",\"op\":");
                q = put_i64(q, i);
                if (o[i].step >= 0) q = put_i64(put(q, ",\"step\":"), o[i].step);
                if (o[i].mb >= 0) q = put_i64(put(q, ",\"microbatch\":"), o[i].mb);
                if (o[i].layer >= 0) q = put_i64(put(q, ",\"layer\":"), o[i].layer);
                if (o[i].flops > 0) q = put_num(put(q, ",\"flops\":"), o[i].flops);
                if (o[i].bytes > 0) q = put_num(put(q, ",\"bytes\":"), o[i].bytes);
                if (o[i].kind == PK_COLL) q = put_i64(put(q, ",\"collective\":"), o[i].ref);
                if (o[i].kind == PK_RECORD || o[i].kind == PK_WAIT)
                    q = put_i64(put(q, ",\"event\":"), o[i].ref);
                q = put(q, "}}");
                zdone(w, q);
                if (o[i].kind == PK_COLL) flows(w, c, &o[i], pid, s);
            }
            *nx += (uint64_t)n;
        }
    }
    free(a);
    free(b);
}

static void counters(zout *w, const src_ctx *c)
{
    const prog *p = c->src->p;
    for (int g = 0; g < prog_ngpus(p); g++) {
        int n = 0;
        rep_memev *v = rep_memory_events(p, c->src->r, g, &n);
        double cur = 0;
        for (int i = 0; i < n; i++) {
            cur += v[i].delta;
            int64_t t = rep_ns(v[i].t);
            /* one sample per instant: the level once all its changes apply */
            if (i + 1 < n && rep_ns(v[i + 1].t) == t) continue;
            char *q = zroom(w, EV_ROOM);
            q = put(sep(w, q), "{\"ph\":\"C\",\"pid\":");
            q = put_i64(q, c->pid0 + g);
            q = put(q, ",\"ts\":");
            q = put_us(q, t);
            q = put(q, ",\"name\":\"memory\",\"args\":{\"allocated_bytes\":");
            q = put_num(q, cur);
            q = put(q, "}}");
            zdone(w, q);
        }
        free(v);
    }
}

sft_status rep_trace_write(const char *path, const rep_src *srcs, int n, const char *scenario_json,
                           sft_err *e)
{
    sft_ofile *of = sft_ofile_open(path, e);
    if (!of) return e ? e->status : SFT_EINTERNAL;
    zout w = {0};
    w.fp = sft_ofile_fp(of);
    /* windowBits 15 + 16: a gzip wrapper; level 1: the text is repetitive
     * enough that higher levels buy little and cost several times the time */
    if (deflateInit2(&w.z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        sft_ofile_abort(of);
        return sft_errf(e, SFT_EINTERNAL, "%s: cannot initialise zlib", path);
    }
    w.buf = sft_xmalloc(ZBUF + ZSLACK);
    w.out = sft_xmalloc(ZBUF);
    src_ctx *cx = sft_xcalloc((size_t)n, sizeof *cx);
    int pid0 = 0;
    int64_t flow0 = 0;
    for (int i = 0; i < n; i++) {
        ctx_init(&cx[i], &srcs[i], pid0, flow0);
        pid0 += prog_ngpus(srcs[i].p);
        flow0 += ctx_nflows(&cx[i]);
    }
    char *scen = json_quote(scenario_json ? scenario_json : "{}");
    zputs(&w, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"sftsim " SFT_VERSION
              "\",\"scenario\":");
    zputs(&w, scen);
    free(scen);
    zputs(&w, "},\"traceEvents\":[");
    uint64_t nx = 0;
    for (int i = 0; i < n; i++) meta(&w, &cx[i], n);
    for (int i = 0; i < n; i++) {
        slices(&w, &cx[i], &nx);
        counters(&w, &cx[i]);
    }
    zputs(&w, "\n]}\n");
    zpump(&w, Z_FINISH);
    deflateEnd(&w.z);
    for (int i = 0; i < n; i++) ctx_free(&cx[i]);
    free(cx);
    free(w.buf);
    free(w.out);
    if (w.failed) {
        sft_ofile_abort(of);
        return sft_errf(e, SFT_EOUTPUT, "%s: write failed: %s", path,
                        w.err ? strerror(w.err) : "zlib stream error");
    }
    return sft_ofile_commit(of, e);
}
