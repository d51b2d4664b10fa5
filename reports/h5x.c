/* h5x.c — atomic HDF5 output files and PyTables-compatible tables (h5x.h). */
#define _GNU_SOURCE /* memfd_create, for h5x_abort */
#include "reports/h5x.h"

#include <hdf5_hl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* Deflate level: 1 compresses the shuffled event rows about as well as 6
 * (their bytes are mostly runs) at several times the speed. */
#define H5X_DEFLATE 1
/* The table API's layout version, as H5TBmake_table writes it. */
#define H5X_TABLE_VERSION "3.0"

struct h5x_file {
    sft_ofile *of; /* reserves the temporary name; renamed on commit */
    hid_t id;
    char *path;
    H5E_auto2_t old_fn; /* the library's error printer, restored on close */
    void *old_data;
};

/* Chunks compressed at once, one per thread (this many at most). */
#define H5X_MAX_THREADS 8

typedef struct h5x_chunk {
    unsigned char *raw;  /* chunk_rows rows; the unused tail zeroed */
    unsigned char *shuf; /* raw, shuffled */
    unsigned char *z;    /* shuf, deflated */
    uLongf zlen;
    size_t zcap;
    int failed;
} h5x_chunk;

struct h5x_table {
    h5x_file *f;
    hid_t ds;
    char *name;
    size_t rowsize, chunk_rows, chunk_bytes;
    hsize_t written; /* rows in the dataset (whole chunks) */
    int nthreads;
    h5x_chunk ch[H5X_MAX_THREADS];
    size_t filled; /* rows buffered in ch[0..nthreads), in order */
};

static herr_t first_error(unsigned n, const H5E_error2_t *err, void *data)
{
    (void)n;
    char *buf = data;
    if (!buf[0] && err->desc) snprintf(buf, 256, "%s", err->desc);
    return 0;
}

/* Fails with "<path>: what (HDF5: innermost message)": the output could
 * not be written (EOUTPUT); a full disk shows in HDF5's message as errno
 * 28 and its text. */
static sft_status h5fail(const h5x_file *f, sft_err *e, const char *what)
{
    char msg[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, msg);
    H5Eclear2(H5E_DEFAULT);
    if (msg[0]) return sft_errf(e, SFT_EOUTPUT, "%s: %s (HDF5: %s)", f->path, what, msg);
    return sft_errf(e, SFT_EOUTPUT, "%s: %s", f->path, what);
}

h5x_file *h5x_create(const char *path, sft_err *e)
{
    sft_ofile *of = sft_ofile_open(path, e);
    if (!of) return NULL;
    h5x_file *f = sft_xcalloc(1, sizeof *f);
    f->of = of;
    f->path = sft_xstrdup(path);
    H5Eget_auto2(H5E_DEFAULT, &f->old_fn, &f->old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    f->id = H5Fcreate(sft_ofile_tmpname(of), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f->id < 0) {
        h5fail(f, e, "cannot create the HDF5 file");
        h5x_abort(f);
        return NULL;
    }
    return f;
}

hid_t h5x_root(const h5x_file *f)
{
    return f->id;
}
static void file_free(h5x_file *f)
{
    H5Eset_auto2(H5E_DEFAULT, f->old_fn, f->old_data);
    free(f->path);
    free(f);
}

sft_status h5x_commit(h5x_file *f, sft_err *e)
{
    sft_status st = SFT_OK;
    if (H5Fclose(f->id) < 0) {
        st = h5fail(f, e, "cannot close the HDF5 file");
        sft_ofile_abort(f->of);
    } else {
        st = sft_ofile_commit(f->of, e);
    }
    file_free(f);
    return st;
}

void h5x_abort(h5x_file *f)
{
    if (!f) return;
    if (f->id >= 0) {
        /* The file is discarded, so its last bytes may go anywhere: point
         * HDF5's descriptor at an anonymous memory file before closing. On a
         * full disk H5Fclose cannot flush the metadata accumulator, fails,
         * and leaves the file open in HDF5's ID table; the library's exit
         * handler then crashes closing it (SIGSEGV in H5F__close_cb, HDF5
         * 1.10). A memory file takes the writes and the final ftruncate
         * (sparse), which /dev/null refuses. */
        void *handle = NULL;
        int mem = memfd_create("sftsim-discarded-h5", MFD_CLOEXEC);
        if (mem >= 0 && H5Fget_vfd_handle(f->id, H5P_DEFAULT, &handle) >= 0 && handle)
            dup2(mem, *(int *)handle);
        if (mem >= 0) close(mem);
        H5Fclose(f->id);
    }
    H5Eclear2(H5E_DEFAULT);
    sft_ofile_abort(f->of);
    file_free(f);
}

sft_status h5x_group(h5x_file *f, hid_t loc, const char *name, hid_t *out, sft_err *e)
{
    /* no modification times in object headers: the same content gives the
     * same bytes (sweeps compare files across runs) */
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl >= 0) H5Pset_obj_track_times(gcpl, 0);
    *out = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl >= 0 ? gcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (gcpl >= 0) H5Pclose(gcpl);
    if (*out < 0) {
        char what[300];
        snprintf(what, sizeof what, "cannot create group '%s'", name);
        return h5fail(f, e, what);
    }
    return SFT_OK;
}

sft_status h5x_attr_str(h5x_file *f, hid_t obj, const char *name, const char *value, sft_err *e)
{
    if (H5LTset_attribute_string(obj, ".", name, value) < 0) {
        char what[300];
        snprintf(what, sizeof what, "cannot write attribute '%s'", name);
        return h5fail(f, e, what);
    }
    return SFT_OK;
}

sft_status h5x_attr_int(h5x_file *f, hid_t obj, const char *name, long long value, sft_err *e)
{
    hid_t sp = H5Screate(H5S_SCALAR), at = -1;
    int ok = sp >= 0 &&
             (at = H5Acreate2(obj, name, H5T_NATIVE_LLONG, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             H5Awrite(at, H5T_NATIVE_LLONG, &value) >= 0;
    if (at >= 0) H5Aclose(at);
    if (sp >= 0) H5Sclose(sp);
    if (!ok) {
        char what[300];
        snprintf(what, sizeof what, "cannot write attribute '%s'", name);
        return h5fail(f, e, what);
    }
    return SFT_OK;
}

static size_t col_size(const h5x_col *c)
{
    switch (c->type) {
    case H5X_U8:
        return 1;
    case H5X_I16:
        return 2;
    case H5X_I32:
    case H5X_U32:
        return 4;
    case H5X_I64:
    case H5X_F64:
        return 8;
    case H5X_STR:
        return c->size;
    }
    return 0;
}

static hid_t col_type(const h5x_col *c)
{
    switch (c->type) {
    case H5X_U8:
        return H5Tcopy(H5T_NATIVE_UINT8);
    case H5X_I16:
        return H5Tcopy(H5T_NATIVE_INT16);
    case H5X_I32:
        return H5Tcopy(H5T_NATIVE_INT32);
    case H5X_U32:
        return H5Tcopy(H5T_NATIVE_UINT32);
    case H5X_I64:
        return H5Tcopy(H5T_NATIVE_INT64);
    case H5X_F64:
        return H5Tcopy(H5T_NATIVE_DOUBLE);
    case H5X_STR: {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, c->size);
        H5Tset_strpad(t, H5T_STR_NULLTERM);
        return t;
    }
    }
    return -1;
}

h5x_table *h5x_table_create(h5x_file *f, hid_t loc, const char *name, const char *title,
                            const h5x_col *cols, int ncols, size_t rowsize, size_t chunk_rows,
                            sft_err *e)
{
    size_t covered = 0;
    for (int i = 0; i < ncols; i++) covered += col_size(&cols[i]);
    SFT_CHECK(covered == rowsize, "h5x: table '%s': columns cover %zu of %zu bytes (padding?)",
              name, covered, rowsize);
    if (chunk_rows == 0) chunk_rows = 1;
    hid_t type = H5Tcreate(H5T_COMPOUND, rowsize), space = -1, dcpl = -1, ds = -1;
    int ok = type >= 0;
    for (int i = 0; ok && i < ncols; i++) {
        hid_t ct = col_type(&cols[i]);
        ok = ct >= 0 && H5Tinsert(type, cols[i].name, cols[i].offset, ct) >= 0;
        if (ct >= 0) H5Tclose(ct);
    }
    hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = chunk_rows;
    if (ok) ok = (space = H5Screate_simple(1, &dims, &maxdims)) >= 0;
    if (ok) ok = (dcpl = H5Pcreate(H5P_DATASET_CREATE)) >= 0;
    /* the order of the filters is the one h5x_compress applies */
    if (ok)
        ok = H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
             H5Pset_deflate(dcpl, H5X_DEFLATE) >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0;
    if (ok) ok = (ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0;
    /* the attributes H5TBmake_table writes, which PyTables keys on */
    if (ok)
        ok = H5LTset_attribute_string(ds, ".", "CLASS", "TABLE") >= 0 &&
             H5LTset_attribute_string(ds, ".", "VERSION", H5X_TABLE_VERSION) >= 0 &&
             H5LTset_attribute_string(ds, ".", "TITLE", title) >= 0;
    for (int i = 0; ok && i < ncols; i++) {
        char an[32];
        snprintf(an, sizeof an, "FIELD_%d_NAME", i);
        ok = H5LTset_attribute_string(ds, ".", an, cols[i].name) >= 0;
    }
    if (!ok) {
        char what[300];
        snprintf(what, sizeof what, "cannot create table '%s'", name);
        h5fail(f, e, what);
        if (ds >= 0) H5Dclose(ds);
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (!ok) return NULL;
    h5x_table *t = sft_xcalloc(1, sizeof *t);
    t->f = f;
    t->ds = ds;
    t->name = sft_xstrdup(name);
    t->rowsize = rowsize;
    t->chunk_rows = chunk_rows;
    t->chunk_bytes = rowsize * chunk_rows;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    t->nthreads = cpus < 1 ? 1 : cpus > H5X_MAX_THREADS ? H5X_MAX_THREADS : (int)cpus;
    return t;
}

/* HDF5's shuffle filter: byte j of every row, then byte j + 1, ... Eight
 * rows at a time, so the reads stay in eight cache lines and each output
 * stream gets eight bytes per visit. */
static void shuffle(unsigned char *dst, const unsigned char *src, size_t rowsize, size_t rows)
{
    size_t i = 0;
    for (; i + 8 <= rows; i += 8) {
        const unsigned char *s = src + i * rowsize;
        unsigned char *d = dst + i;
        for (size_t j = 0; j < rowsize; j++, s++, d += rows) {
            d[0] = s[0];
            d[1] = s[rowsize];
            d[2] = s[2 * rowsize];
            d[3] = s[3 * rowsize];
            d[4] = s[4 * rowsize];
            d[5] = s[5 * rowsize];
            d[6] = s[6 * rowsize];
            d[7] = s[7 * rowsize];
        }
    }
    for (; i < rows; i++)
        for (size_t j = 0; j < rowsize; j++) dst[j * rows + i] = src[i * rowsize + j];
}

typedef struct job {
    h5x_chunk *c;
    size_t rowsize, rows;
} job;

/* Shuffles then deflates one chunk, as the dataset's filter pipeline would. */
static void *compress_chunk(void *arg)
{
    const job *j = arg;
    h5x_chunk *c = j->c;
    size_t n = j->rowsize * j->rows;
    shuffle(c->shuf, c->raw, j->rowsize, j->rows);
    c->zlen = c->zcap;
    c->failed = compress2(c->z, &c->zlen, c->shuf, n, H5X_DEFLATE) != Z_OK;
    return NULL;
}

/* Compresses and writes the buffered rows (whole chunks; the last may be
 * partial, its tail zero rows past the dataset's end). */
static sft_status flush(h5x_table *t, sft_err *e)
{
    size_t nch = (t->filled + t->chunk_rows - 1) / t->chunk_rows;
    if (nch == 0) return SFT_OK;
    job jobs[H5X_MAX_THREADS];
    pthread_t th[H5X_MAX_THREADS];
    int started[H5X_MAX_THREADS] = {0};
    for (size_t k = 0; k < nch; k++) {
        h5x_chunk *c = &t->ch[k];
        size_t used = t->filled - k * t->chunk_rows;
        if (used < t->chunk_rows)
            memset(c->raw + used * t->rowsize, 0, (t->chunk_rows - used) * t->rowsize);
        jobs[k] = (job){c, t->rowsize, t->chunk_rows};
        /* chunk 0 on this thread, the others alongside */
        if (k > 0) started[k] = pthread_create(&th[k], NULL, compress_chunk, &jobs[k]) == 0;
    }
    compress_chunk(&jobs[0]);
    for (size_t k = 1; k < nch; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            compress_chunk(&jobs[k]);
    }
    char what[300];
    hsize_t total = t->written + t->filled;
    int ok = H5Dset_extent(t->ds, &total) >= 0;
    for (size_t k = 0; k < nch && ok; k++) {
        hsize_t off = t->written + k * t->chunk_rows;
        ok = !t->ch[k].failed &&
             H5Dwrite_chunk(t->ds, H5P_DEFAULT, 0, &off, t->ch[k].zlen, t->ch[k].z) >= 0;
    }
    if (!ok) {
        snprintf(what, sizeof what, "cannot write %zu rows to table '%s'", t->filled, t->name);
        return h5fail(t->f, e, what);
    }
    t->written = total;
    t->filled = 0;
    return SFT_OK;
}

void *h5x_table_row(h5x_table *t, sft_err *e)
{
    if (t->filled == t->chunk_rows * (size_t)t->nthreads && flush(t, e)) return NULL;
    size_t k = t->filled / t->chunk_rows;
    h5x_chunk *c = &t->ch[k];
    if (!c->raw) {
        c->raw = sft_xmalloc(t->chunk_bytes);
        c->shuf = sft_xmalloc(t->chunk_bytes);
        c->zcap = compressBound((uLong)t->chunk_bytes);
        c->z = sft_xmalloc(c->zcap);
    }
    return c->raw + (t->filled++ % t->chunk_rows) * t->rowsize;
}

sft_status h5x_table_append(h5x_table *t, const void *rows, size_t n, sft_err *e)
{
    const unsigned char *src = rows;
    for (size_t i = 0; i < n; i++, src += t->rowsize) {
        void *w = h5x_table_row(t, e);
        if (!w) return e ? e->status : SFT_EINTERNAL;
        memcpy(w, src, t->rowsize);
    }
    return SFT_OK;
}

static void table_free(h5x_table *t)
{
    for (int k = 0; k < H5X_MAX_THREADS; k++) {
        free(t->ch[k].raw);
        free(t->ch[k].shuf);
        free(t->ch[k].z);
    }
    H5Dclose(t->ds);
    free(t->name);
    free(t);
}

sft_status h5x_table_close(h5x_table *t, sft_err *e)
{
    sft_status st = flush(t, e);
    table_free(t);
    return st;
}

void h5x_table_discard(h5x_table *t)
{
    if (t) table_free(t);
}
