/* trace.h — step traces: where the simulator's global batches come from.
 *
 * A step trace is a sequence of global batches; each sample has an id and a
 * length in tokens. Sources (trace_src) are generators that sample a dataset's
 * length distribution (traces/datasets/NAME.json, trace_dist) and files: the
 * JSONL trace format (one global batch per line, traces/README.md) and
 * users' own data (one integer length per line, or JSONL records carrying
 * `len`, `length` or `num_tokens`). Every source streams: one batch is in
 * memory at a time, so a trace of a million samples is read batch by batch.
 * The writer prints the JSONL format; trace_stats summarises lengths for
 * `trace stats`. Formats, fitting method and statistics are documented in
 * traces/README.md.
 *
 * Invariants: every sample a source hands out has 1 <= len <= TRACE_MAX_LEN;
 * a batch holds at least one sample; generated traces are a function of
 * (distribution, steps, samples per step, seed) alone, byte for byte, on every
 * machine with IEEE-754 doubles (see trace_dist_sample).
 *
 * Ownership: "creates" = the caller destroys it with the matching _destroy
 * (or the function named); "borrows" = the callee keeps no reference past the
 * call unless said; handles are opaque.
 */
#ifndef SFT_TRACE_H
#define SFT_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

#include "base/base.h"

/* Longest sample any file may hold: far above any real sequence, a guard
 * against unit mistakes (bytes for tokens) and corrupt files. */
#define TRACE_MAX_LEN 10000000
/* Seeds run 0..TRACE_SEED_MAX: mt19937 takes a 32-bit seed, and the generator
 * is seeded with seed+1 (GSL turns 0 into its default seed 4357, which would
 * make two seeds give the same trace). */
#define TRACE_SEED_MAX    4294967294UL
#define TRACE_DIST_SCHEMA 1
/* Most samples one generated step may hold (a batch is one buffer). */
#define TRACE_MAX_PER_STEP 1000000L
/* The dataset a scenario uses when it names none (README.md's default
 * scenario: LMsysChat1M lengths). */
#define TRACE_DEFAULT_DATASET "lmsyschat1m"

typedef struct trace_sample {
    int64_t id;
    int64_t len; /* tokens, 1..TRACE_MAX_LEN */
} trace_sample;

typedef struct trace_batch {
    long step;
    size_t n;        /* >= 1 */
    trace_sample *s; /* borrowed from the source, valid until its next call */
} trace_batch;

/* ---- dataset length distributions (traces/datasets/NAME.json, schema 1) ---- */

typedef struct trace_dist trace_dist;

/* Loads a built-in dataset by name (sftsim list datasets) or a dataset JSON
 * file. Creates *out. Errors (EINPUT) name the file and the field: every
 * number must lie in its range (trace_dist_ranges), the name is 1-63 bytes,
 * strings are UTF-8 without control characters (source and notes may hold
 * line breaks). */
sft_status trace_dist_load(const char *name_or_file, trace_dist **out, sft_err *e);
/* Parses dataset JSON text (borrowed); origin (borrowed, copied) names it in
 * messages. Creates *out. */
sft_status trace_dist_parse(const char *text, const char *origin, trace_dist **out, sft_err *e);
void trace_dist_destroy(trace_dist *d);
/* The valid ranges of a dataset file's numbers, each with its reason
 * (static storage, *n rows; jsonx.h's jx_range). */
const struct jx_range *trace_dist_ranges(size_t *n);
const char *trace_dist_name(const trace_dist *d);   /* borrowed from d */
const char *trace_dist_origin(const trace_dist *d); /* file or "built-in NAME"; borrowed */
int64_t trace_dist_max_len(const trace_dist *d);
/* Draws one length in [min_len, max_len]; borrows rng and advances it by two
 * 32-bit outputs. Uses only the generator's integers, IEEE multiplication and
 * square roots (correctly rounded), so the result is the same everywhere. */
int64_t trace_dist_sample(const trace_dist *d, gsl_rng *rng);
/* Creates the generator every trace uses: gsl_rng_mt19937 seeded with
 * seed+1; seed <= TRACE_SEED_MAX (checked). Destroy with gsl_rng_free. */
gsl_rng *trace_rng_create(uint64_t seed);

/* ---- sources ---------------------------------------------------------- */

typedef struct trace_src trace_src;

/* Generator: steps batches of samples_per_step lengths drawn from the
 * dataset (name or file), ids sequential from 0 across the trace. Creates *out. */
sft_status trace_src_dataset(const char *name_or_file, long steps, long samples_per_step,
                             uint64_t seed, trace_src **out, sft_err *e);
/* Generator of exactly `samples` lengths, samples_per_step per batch, the last
 * batch smaller when it does not divide; the same stream as trace_src_dataset
 * with the same seed. Creates *out. */
sft_status trace_src_dataset_samples(const char *name_or_file, long samples, long samples_per_step,
                                     uint64_t seed, trace_src **out, sft_err *e);
/* File reader ("-" = standard input). The format is detected from the first
 * non-blank line: a JSONL trace (batches come from the file; samples_per_step,
 * still checked to be in [1, TRACE_MAX_PER_STEP], is unused) or user data
 * (plain lengths or records with len|length|num_tokens, grouped
 * samples_per_step at a time in file order, a short last group kept as a final
 * smaller batch; ids are the 0-based sample index). Creates *out; an empty
 * file is an error. path must name a regular file of at most SFT_TRACE_MAX
 * bytes (a FIFO, a device or a directory is EINPUT before anything is read;
 * pipe data through "-"); a line may hold at most 128 MiB; the ids of a
 * JSONL batch must be distinct. */
sft_status trace_src_file(const char *path, long samples_per_step, trace_src **out, sft_err *e);
/* As trace_src_file on an open stream: borrows fp (read from, never closed;
 * it must outlive the source; the source reads ahead, so fp's position past
 * the last batch taken is undefined) and name (copied) for messages; at most
 * SFT_TRACE_MAX bytes are read. Creates *out. */
sft_status trace_src_fp(FILE *fp, const char *name, long samples_per_step, trace_src **out,
                        sft_err *e);
/* The scenario's trace (options --dataset NAME|FILE, --trace FILE): trace
 * (borrowed) wins when non-NULL, and then dataset must be NULL; else dataset
 * (NULL = TRACE_DEFAULT_DATASET) is generated for `steps` steps. With a file,
 * steps > 0 replays only its first `steps` batches (0 = all). Creates *out. */
sft_status trace_src_open(const char *dataset, const char *trace, long steps, long samples_per_step,
                          uint64_t seed, trace_src **out, sft_err *e);
/* Next batch into *b (its samples borrowed from s until the next call), or
 * *eof = 1 and b->n = 0 past the end. Errors name the file and line. */
sft_status trace_src_next(trace_src *s, trace_batch *b, int *eof, sft_err *e);
/* "dataset", "jsonl", "lengths" or "records" (static storage). */
const char *trace_src_format(const trace_src *s);
/* The file name, or the dataset's origin; borrowed from s. */
const char *trace_src_origin(const trace_src *s);
void trace_src_destroy(trace_src *s);

/* ---- writer (JSONL, one batch per line) -------------------------------- */

typedef struct trace_writer trace_writer;

/* Opens path for an atomic write (the file appears only at trace_writer_close),
 * or standard output when path is NULL or "-". Checked first (EINPUT): the
 * name is not empty, fits PATH_MAX and NAME_MAX, is not a directory; missing
 * parent directories are created. Write failures later are EOUTPUT with the
 * file and strerror. Creates *out: finish it with trace_writer_close or
 * trace_writer_abort. */
sft_status trace_writer_open(const char *path, trace_writer **out, sft_err *e);
/* Writes one batch (borrowed) as {"step":S,"samples":[{"id":I,"len":L},...]}. */
sft_status trace_writer_put(trace_writer *w, const trace_batch *b, sft_err *e);
/* Flushes and renames the file into place. Destroys w, even on failure. */
sft_status trace_writer_close(trace_writer *w, sft_err *e);
/* Drops what was written (the target is left untouched). Destroys w. */
void trace_writer_abort(trace_writer *w);

/* ---- statistics --------------------------------------------------------- */

#define TRACE_NCUTS     5  /* cumulative % below 1K, 4K, 8K, 32K, 128K (K = 1024) */
#define TRACE_HIST_BINS 24 /* bin k counts lengths in [2^k, 2^(k+1)); 2^24 > TRACE_MAX_LEN */

typedef struct trace_summary {
    int64_t samples, tokens;
    long steps;
    double mean;                     /* tokens / samples */
    int64_t min, p50, p90, p99, max; /* nearest-rank percentiles */
    int64_t below[TRACE_NCUTS];      /* 1024, 4096, 8192, 32768, 131072 */
    double percent[TRACE_NCUTS];     /* 100 x samples with len < below / samples */
    double tokens_per_step_mean;     /* tokens / steps */
    int64_t tokens_per_step_min, tokens_per_step_max;
    int64_t hist[TRACE_HIST_BINS];
} trace_summary;

typedef struct trace_stats trace_stats;

trace_stats *trace_stats_create(void); /* creates */
/* Counts one batch (borrowed; its lengths are copied, 4 bytes a sample). */
void trace_stats_add(trace_stats *st, const trace_batch *b);
/* Fills *out; every field is 0 when nothing was added. */
void trace_stats_summarize(trace_stats *st, trace_summary *out);
void trace_stats_destroy(trace_stats *st);

#endif
