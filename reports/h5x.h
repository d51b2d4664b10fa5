/* h5x.h — the HDF5 plumbing of the reports, shared by the timeline and the
 * sweep table: an output file created under a temporary name and renamed on
 * commit, tables that h5py, PyTables and pandas.read_hdf read, attributes.
 *
 * Tables are compound datasets of one row struct, chunked, shuffled and
 * deflated (the table API's own H5TBmake_table knows deflate but not
 * shuffle, so the dataset is created here and given the attributes
 * H5TBmake_table writes: CLASS "TABLE", VERSION, TITLE, FIELD_<i>_NAME;
 * H5TBget_table_info, H5TBread_* and PyTables then read it as one of
 * theirs). Rows are buffered a few chunks at a time; the chunks are
 * shuffled and deflated in parallel, one thread each, exactly as the
 * dataset's filter pipeline would, and stored with H5Dwrite_chunk: the
 * filters run on every core instead of one. Columns must tile the row
 * struct with no padding: PyTables reads the rows as a packed numpy record.
 *
 * Invariants: an open h5x_file exists only under its temporary name; commit
 * renames it over the path, abort removes it; every failure's message names
 * the final path. While a file is open the HDF5 library's own error printing
 * is off (it is restored on commit or abort) and its innermost message is
 * appended to ours instead.
 */
#ifndef SFT_REP_H5X_H
#define SFT_REP_H5X_H

#include <hdf5.h>

#include "base/base.h"

typedef enum h5x_type { H5X_U8, H5X_I16, H5X_I32, H5X_U32, H5X_I64, H5X_F64, H5X_STR } h5x_type;

typedef struct h5x_col {
    const char *name;
    h5x_type type;
    size_t offset; /* in the row struct */
    size_t size;   /* H5X_STR: bytes including the terminating NUL; else ignored */
} h5x_col;

typedef struct h5x_file h5x_file;

/* Creates path's temporary file (h5x_commit or h5x_abort destroys it). */
h5x_file *h5x_create(const char *path, sft_err *e);
/* The file's root group, borrowed: valid while f lives (never close it). */
hid_t h5x_root(const h5x_file *f);
/* Closes the file and renames it over the path; destroys f. */
sft_status h5x_commit(h5x_file *f, sft_err *e);
/* Closes and removes the temporary file; destroys f. NULL is a no-op. */
void h5x_abort(h5x_file *f);

/* Creates group name under loc; *out receives it (H5Gclose). */
sft_status h5x_group(h5x_file *f, hid_t loc, const char *name, hid_t *out, sft_err *e);
/* Scalar attributes on an object of f. */
sft_status h5x_attr_str(h5x_file *f, hid_t obj, const char *name, const char *value, sft_err *e);
sft_status h5x_attr_int(h5x_file *f, hid_t obj, const char *name, long long value, sft_err *e);

typedef struct h5x_table h5x_table;

/* Creates an empty table name under loc (borrowing f) with rows of rowsize
 * bytes, chunk_rows rows per chunk. Destroy with h5x_table_close (which
 * writes what is buffered) or h5x_table_discard (which drops it). */
h5x_table *h5x_table_create(h5x_file *f, hid_t loc, const char *name, const char *title,
                            const h5x_col *cols, int ncols, size_t rowsize, size_t chunk_rows,
                            sft_err *e);
/* The slot of one more row, for the caller to fill completely (borrowed,
 * valid until the next call on t); NULL when writing the buffered rows
 * failed (e says why). */
void *h5x_table_row(h5x_table *t, sft_err *e);
/* Appends n rows (borrowed, copied). */
sft_status h5x_table_append(h5x_table *t, const void *rows, size_t n, sft_err *e);
/* Writes the buffered rows and destroys t (also on failure). */
sft_status h5x_table_close(h5x_table *t, sft_err *e);
/* Destroys t, dropping buffered rows (after a failure). NULL is a no-op. */
void h5x_table_discard(h5x_table *t);

#endif
