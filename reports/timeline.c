/* timeline.c — the HDF5 timeline (timeline.h). Rows are written straight
 * into the tables' chunk buffers (h5x.h), a few chunks at a time, so memory
 * stays bounded whatever the number of events. */
#include "reports/timeline.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "reports/h5x.h"

/* 16384 rows of 64 bytes: 1 MiB chunks, the HDF5 chunk cache's size. */
#define EV_CHUNK    16384
#define SMALL_CHUNK 4096

typedef struct ev_row {
    int32_t gpu;
    int16_t stream;
    uint8_t kind, cat;
    int32_t step, microbatch, layer;
    uint32_t op;  /* index within (gpu, stream) */
    int32_t name; /* /strings id */
    int32_t ref;  /* collective or event id, -1 */
    int64_t start_ns, end_ns;
    double flops, bytes;
} ev_row;

#define COL(s, f, t)                                                                               \
    {                                                                                              \
#f, t, offsetof(s, f), 0                                                                   \
    }
static const h5x_col ev_cols[] = {
    COL(ev_row, gpu, H5X_I32),   COL(ev_row, stream, H5X_I16),   COL(ev_row, kind, H5X_U8),
    COL(ev_row, cat, H5X_U8),    COL(ev_row, step, H5X_I32),     COL(ev_row, microbatch, H5X_I32),
    COL(ev_row, layer, H5X_I32), COL(ev_row, op, H5X_U32),       COL(ev_row, name, H5X_I32),
    COL(ev_row, ref, H5X_I32),   COL(ev_row, start_ns, H5X_I64), COL(ev_row, end_ns, H5X_I64),
    COL(ev_row, flops, H5X_F64), COL(ev_row, bytes, H5X_F64),
};

/* Row counts are int64: one step of 65536 GPUs can hold more than 2^31
 * ops (tens of thousands per GPU without packing). Packed: the columns tile
 * the row with an odd number of int32 before them. */
typedef struct __attribute__((packed)) step_row {
    int32_t step, microbatches, oom;
    int64_t events;
    int64_t start_ns, end_ns;
    double time_s, flops;
} step_row;

static const h5x_col step_cols[] = {
    COL(step_row, step, H5X_I32),     COL(step_row, microbatches, H5X_I32),
    COL(step_row, oom, H5X_I32),      COL(step_row, events, H5X_I64),
    COL(step_row, start_ns, H5X_I64), COL(step_row, end_ns, H5X_I64),
    COL(step_row, time_s, H5X_F64),   COL(step_row, flops, H5X_F64),
};

typedef struct __attribute__((packed)) gpu_row {
    int32_t gpu, dp_rank, cp_rank;
    int64_t events;
    int64_t busy_ns;
    double compute_s, host_s, comm_s, exposed_comm_s, idle_s, peak_mem_bytes;
} gpu_row;

static const h5x_col gpu_cols[] = {
    COL(gpu_row, gpu, H5X_I32),
    COL(gpu_row, dp_rank, H5X_I32),
    COL(gpu_row, cp_rank, H5X_I32),
    COL(gpu_row, events, H5X_I64),
    COL(gpu_row, busy_ns, H5X_I64),
    COL(gpu_row, compute_s, H5X_F64),
    COL(gpu_row, host_s, H5X_F64),
    COL(gpu_row, comm_s, H5X_F64),
    COL(gpu_row, exposed_comm_s, H5X_F64),
    COL(gpu_row, idle_s, H5X_F64),
    COL(gpu_row, peak_mem_bytes, H5X_F64),
};

typedef struct mem_row {
    int32_t gpu, step;
    int64_t time_ns;
    double delta_bytes, allocated_bytes;
} mem_row;

static const h5x_col mem_cols[] = {
    COL(mem_row, gpu, H5X_I32),
    COL(mem_row, step, H5X_I32),
    COL(mem_row, time_ns, H5X_I64),
    COL(mem_row, delta_bytes, H5X_F64),
    COL(mem_row, allocated_bytes, H5X_F64),
};
#undef COL

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Writes t's buffered rows and destroys it; after a failure (st) only
 * destroys it. */
static sft_status finish(h5x_table *t, sft_status st, sft_err *e)
{
    if (st || !t) {
        h5x_table_discard(t);
        return st;
    }
    return h5x_table_close(t, e);
}

/* Comma list of names[0..n) into a created string. */
static char *join(const char *(*name)(int), int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(name(i)) + 1;
    char *s = sft_xmalloc(len), *w = s;
    for (int i = 0; i < n; i++) w += sprintf(w, "%s%s", i ? "," : "", name(i));
    *w = 0;
    return s;
}

static sft_status write_events(h5x_file *f, hid_t loc, const rep_src *src, sft_err *e)
{
    h5x_table *t = h5x_table_create(f, loc, "events", "sftsim events: one row per executed op",
                                    ev_cols, NCOLS(ev_cols), sizeof(ev_row), EV_CHUNK, e);
    if (!t) return e ? e->status : SFT_EINTERNAL;
    char *kinds = join(rep_kind_name, PK_NKINDS), *streams = join(rep_stream_name, PROG_NSTREAMS);
    char *cats = src->cat_name ? join(src->cat_name, src->ncats) : sft_xstrdup("");
    hid_t ds = H5Dopen2(loc, "events", H5P_DEFAULT);
    sft_status st = h5x_attr_str(f, ds, "kinds", kinds, e);
    if (!st) st = h5x_attr_str(f, ds, "streams", streams, e);
    if (!st) st = h5x_attr_str(f, ds, "categories", cats, e);
    if (!st) st = h5x_attr_str(f, ds, "time_unit", "ns", e);
    H5Dclose(ds);
    free(kinds);
    free(streams);
    free(cats);
    const prog *p = src->p;
    int64_t *a = NULL, *b = NULL;
    size_t cap = 0, capb = 0;
    for (int g = 0; g < prog_ngpus(p) && !st; g++)
        for (int s = 0; s < PROG_NSTREAMS && !st; s++) {
            int n = prog_nops(p, g, s);
            SFT_GROW(a, cap, (size_t)n + 1);
            SFT_GROW(b, capb, (size_t)n + 1);
            rep_stream_ns(p, src->r, g, s, a, b);
            const prog_op *o = prog_ops(p, g, s);
            for (int i = 0; i < n; i++) {
                ev_row *w = h5x_table_row(t, e);
                if (!w) {
                    st = e ? e->status : SFT_EINTERNAL;
                    break;
                }
                w->gpu = g;
                w->stream = (int16_t)s;
                w->kind = o[i].kind;
                w->cat = o[i].cat;
                w->step = o[i].step;
                w->microbatch = o[i].mb;
                w->layer = o[i].layer;
                w->op = (uint32_t)i;
                w->name = o[i].name;
                w->ref = o[i].kind == PK_COLL || o[i].kind == PK_RECORD || o[i].kind == PK_WAIT
                             ? o[i].ref
                             : -1;
                w->start_ns = a[i];
                w->end_ns = b[i];
                w->flops = o[i].flops;
                w->bytes = o[i].bytes;
            }
        }
    free(a);
    free(b);
    return finish(t, st, e);
}

static sft_status write_strings(h5x_file *f, hid_t loc, const prog *p, sft_err *e)
{
    int n = prog_nstrings(p);
    size_t len = 2;
    for (int i = 0; i < n; i++)
        if (strlen(prog_string(p, i)) + 1 > len) len = strlen(prog_string(p, i)) + 1;
    size_t row = 4 + len;
    h5x_col cols[] = {{"id", H5X_I32, 0, 0}, {"name", H5X_STR, 4, len}};
    h5x_table *t = h5x_table_create(f, loc, "strings", "sftsim interned op names", cols, 2, row,
                                    SMALL_CHUNK, e);
    if (!t) return e ? e->status : SFT_EINTERNAL;
    unsigned char *buf = sft_xcalloc((size_t)n + 1, row);
    for (int i = 0; i < n; i++) {
        int32_t id = i;
        memcpy(buf + (size_t)i * row, &id, 4);
        memcpy(buf + (size_t)i * row + 4, prog_string(p, i), strlen(prog_string(p, i)));
    }
    sft_status st = h5x_table_append(t, buf, (size_t)n, e);
    free(buf);
    return finish(t, st, e);
}

static sft_status write_steps(h5x_file *f, hid_t loc, const rep_src *src, sft_err *e)
{
    int ns = 0;
    double *tend = rep_step_ends(src->p, src->r, &ns);
    step_row *rows = sft_xcalloc((size_t)ns + 1, sizeof *rows);
    for (int k = 0; k < ns; k++) {
        rows[k].step = k;
        rows[k].start_ns = k ? rep_ns(tend[k - 1]) : 0;
        rows[k].end_ns = rep_ns(tend[k]);
        if (k < src->run->nsteps) {
            rows[k].microbatches = src->run->steps[k].microbatches;
            rows[k].oom = src->run->steps[k].oom;
            rows[k].time_s = src->run->steps[k].time_s;
            rows[k].flops = src->run->steps[k].flops;
        }
    }
    const prog *p = src->p;
    for (int g = 0; g < prog_ngpus(p); g++)
        for (int s = 0; s < PROG_NSTREAMS; s++) {
            const prog_op *o = prog_ops(p, g, s);
            for (int i = 0; i < prog_nops(p, g, s); i++)
                if (o[i].step >= 0 && o[i].step < ns) rows[o[i].step].events++;
        }
    sft_status st = SFT_OK;
    h5x_table *t = h5x_table_create(f, loc, "steps", "sftsim steps", step_cols, NCOLS(step_cols),
                                    sizeof(step_row), SMALL_CHUNK, e);
    if (!t)
        st = e ? e->status : SFT_EINTERNAL;
    else
        st = finish(t, h5x_table_append(t, rows, (size_t)ns, e), e);
    free(rows);
    free(tend);
    return st;
}

static sft_status write_gpus(h5x_file *f, hid_t loc, const rep_src *src, sft_err *e)
{
    const prog *p = src->p;
    int G = prog_ngpus(p);
    gpu_row *rows = sft_xcalloc((size_t)G, sizeof *rows);
    for (int g = 0; g < G; g++) {
        const rep_gpu *R = &src->run->gpus[g];
        gpu_row *w = &rows[g];
        w->gpu = g;
        w->dp_rank = src->cp > 0 ? g / src->cp : 0;
        w->cp_rank = src->cp > 0 ? g % src->cp : 0;
        for (int s = 0; s < PROG_NSTREAMS; s++) w->events += prog_nops(p, g, s);
        w->busy_ns = R->busy_ns;
        w->compute_s = R->compute_s;
        w->host_s = R->host_s;
        w->comm_s = R->comm_s;
        w->exposed_comm_s = R->exposed_comm_s;
        w->idle_s = R->idle_s;
        w->peak_mem_bytes = R->peak_mem;
    }
    sft_status st = SFT_OK;
    h5x_table *t = h5x_table_create(f, loc, "gpus", "sftsim per-GPU totals", gpu_cols,
                                    NCOLS(gpu_cols), sizeof(gpu_row), SMALL_CHUNK, e);
    if (!t)
        st = e ? e->status : SFT_EINTERNAL;
    else
        st = finish(t, h5x_table_append(t, rows, (size_t)G, e), e);
    free(rows);
    return st;
}

static sft_status write_memory(h5x_file *f, hid_t loc, const rep_src *src, sft_err *e)
{
    h5x_table *t = h5x_table_create(f, loc, "memory", "sftsim per-GPU allocation curve", mem_cols,
                                    NCOLS(mem_cols), sizeof(mem_row), EV_CHUNK, e);
    if (!t) return e ? e->status : SFT_EINTERNAL;
    sft_status st = SFT_OK;
    for (int g = 0; g < prog_ngpus(src->p) && !st; g++) {
        int n = 0;
        rep_memev *v = rep_memory_events(src->p, src->r, g, &n);
        double cur = 0;
        for (int i = 0; i < n; i++) {
            mem_row *w = h5x_table_row(t, e);
            if (!w) {
                st = e ? e->status : SFT_EINTERNAL;
                break;
            }
            cur += v[i].delta;
            w->gpu = g;
            w->step = v[i].step;
            w->time_ns = rep_ns(v[i].t);
            w->delta_bytes = v[i].delta;
            w->allocated_bytes = cur;
        }
        free(v);
    }
    return finish(t, st, e);
}

static sft_status write_source(h5x_file *f, hid_t loc, const rep_src *src, sft_err *e)
{
    sft_status st = h5x_attr_str(f, loc, "policy", src->policy, e);
    if (!st) st = write_events(f, loc, src, e);
    if (!st) st = write_steps(f, loc, src, e);
    if (!st) st = write_memory(f, loc, src, e);
    if (!st) st = write_gpus(f, loc, src, e);
    if (!st) st = write_strings(f, loc, src->p, e);
    return st;
}

sft_status rep_timeline_write(const char *path, const rep_src *srcs, int n, int grouped,
                              const char *command, const char *scenario_json, sft_err *e)
{
    SFT_CHECK(n >= 1 && (grouped || n == 1), "rep_timeline_write: %d sources, grouped %d", n,
              grouped);
    h5x_file *f = h5x_create(path, e);
    if (!f) return e ? e->status : SFT_EINTERNAL;
    hid_t root = h5x_root(f);
    size_t plen = 1;
    for (int i = 0; i < n; i++) plen += strlen(srcs[i].policy) + 1;
    char *pols = sft_xmalloc(plen), *w = pols;
    for (int i = 0; i < n; i++) w += sprintf(w, "%s%s", i ? "," : "", srcs[i].policy);
    *w = 0;
    sft_status st = h5x_attr_int(f, root, "schema_version", REP_TIMELINE_SCHEMA, e);
    if (!st) st = h5x_attr_str(f, root, "generator", "sftsim " SFT_VERSION, e);
    if (!st) st = h5x_attr_str(f, root, "command", command, e);
    if (!st) st = h5x_attr_str(f, root, "policies", pols, e);
    if (!st) st = h5x_attr_str(f, root, "time_unit", "ns", e);
    if (!st) st = h5x_attr_str(f, root, "memory_unit", "bytes", e);
    if (!st) st = h5x_attr_str(f, root, "flop_unit", "FLOP", e);
    if (!st) st = h5x_attr_str(f, root, "scenario", scenario_json, e);
    free(pols);
    for (int i = 0; i < n && !st; i++) {
        if (!grouped) {
            st = write_source(f, root, &srcs[i], e);
            continue;
        }
        hid_t gr;
        st = h5x_group(f, root, srcs[i].policy, &gr, e);
        if (st) break;
        st = write_source(f, gr, &srcs[i], e);
        H5Gclose(gr);
    }
    if (st) {
        h5x_abort(f);
        return st;
    }
    return h5x_commit(f, e);
}
