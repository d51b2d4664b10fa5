/* base.h — what every sftsim module shares: the one status type, the error
 * context that carries the message, allocation that never returns NULL,
 * whole-file reading, atomic output files and the built-in data table.
 *
 * Invariants: a function that can fail returns sft_status; on failure it has
 * written a one-line message into the caller's sft_err (never a global) that
 * names the file, the field or line, and what would be valid. The status
 * values are the process exit codes (README.md, "Inputs, outputs and exit
 * codes").
 */
#ifndef SFT_BASE_H
#define SFT_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sft_status {
    SFT_OK = 0,
    SFT_EINTERNAL = 1,   /* a bug or an I/O failure of ours */
    SFT_EINPUT = 2,      /* bad input: the message names file and field */
    SFT_EINFEASIBLE = 3, /* the scenario cannot run (e.g. OOM under --strict) */
    SFT_EOUTPUT = 4,     /* an output could not be written: the file and strerror */
} sft_status;

typedef struct sft_err {
    sft_status status;
    char msg[2048];
} sft_err;

#if defined(__GNUC__)
#define SFT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SFT_NORETURN     __attribute__((noreturn))
#else
#define SFT_PRINTF(a, b)
#define SFT_NORETURN
#endif

/* Sets e (may be NULL) to st with a formatted message; returns st. */
sft_status sft_errf(sft_err *e, sft_status st, const char *fmt, ...) SFT_PRINTF(3, 4);
sft_status sft_verrf(sft_err *e, sft_status st, const char *fmt, va_list ap);
/* Prefixes the message already in e with "prefix: ". Returns e->status. */
sft_status sft_err_prefix(sft_err *e, const char *fmt, ...) SFT_PRINTF(2, 3);
void sft_err_clear(sft_err *e);

/* Allocation: abort with a message on exhaustion (nothing sensible to do).
 * Each creates its result: the caller frees it. */
void *sft_xmalloc(size_t n);
void *sft_xcalloc(size_t n, size_t size);
void *sft_xrealloc(void *p, size_t n);
char *sft_xstrdup(const char *s);
/* Grows *p (element size sz) so that index need-1 is valid; *cap updated.
 * *p stays the caller's (it frees it); pointers into the old block die. */
void sft_grow(void **p, size_t *cap, size_t need, size_t sz);
#define SFT_GROW(arr, cap, need) sft_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

SFT_NORETURN void sft_die(const char *fmt, ...) SFT_PRINTF(1, 2);
/* Model-invariant check that stays on in every build (xbt_assert's role). */
#define SFT_CHECK(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) sft_die(__VA_ARGS__);                                                         \
    } while (0)
/* The debug tier beside SFT_CHECK: an internal invariant of a hot loop,
 * too costly to check in release (never bad input: that is a status, and
 * a model invariant is SFT_CHECK). On in the Debug build and in the
 * sanitizer build (-O0, or SFT_SANITIZE); compiled out of the Release
 * build, whose -O2 -g defines __OPTIMIZE__ but not NDEBUG, and wherever
 * NDEBUG is defined. Compiled out, cond is not evaluated (only sizeof'd,
 * so its names still count as used): it must have no side effects. */
#if !defined(NDEBUG) && (defined(SFT_SANITIZE) || !defined(__OPTIMIZE__))
#define SFT_DASSERT_ON         1
#define SFT_DASSERT(cond, ...) SFT_CHECK(cond, __VA_ARGS__)
#else
#define SFT_DASSERT_ON 0
#define SFT_DASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        (void)sizeof(cond);                                                                        \
    } while (0)
#endif

/* Inputs are regular files ("-" = standard input where the caller allows
 * it) no larger than a stated limit: a FIFO, a device, a directory or an
 * oversized file is bad input (EINPUT) before anything is read, so /dev/zero
 * or a FIFO with no writer can neither exhaust memory nor hang. */
#define SFT_INPUT_MAX ((size_t)64 << 20) /* JSON descriptions: 64 MiB */
#define SFT_TRACE_MAX ((size_t)4 << 30)  /* trace files: 4 GiB */
/* Opens path for reading after those checks. Creates *fp (caller fcloses;
 * stdin itself when path is "-" and allow_stdin). */
sft_status sft_open_input(const char *path, size_t limit, int allow_stdin, FILE **fp, sft_err *e);
/* Reads a whole input (sft_open_input's checks, SFT_INPUT_MAX, no stdin).
 * Creates *out (caller frees), NUL-terminated. */
sft_status sft_read_file(const char *path, char **out, size_t *len, sft_err *e);
/* The same with a limit of the caller's and "-" as standard input. */
sft_status sft_read_input(const char *path, size_t limit, int allow_stdin, char **out, size_t *len,
                          sft_err *e);
int sft_file_exists(const char *path);
/* Creates directory path and its parents (mkdir -p). EINPUT if a component
 * exists and is not a directory, or cannot be created. */
sft_status sft_mkdir(const char *path, sft_err *e);
/* An output directory, ready before any work: created like mkdir -p, proved
 * writable by creating and removing a probe file (root ignores mode bits, a
 * read-only mount does not), and cleared of the temporaries that dead runs
 * left ("*.tmp.<pid>" whose process no longer exists). EINPUT on failure,
 * naming the option (e.g. "--out"), the path and strerror. */
sft_status sft_outdir_prepare(const char *opt, const char *path, sft_err *e);
/* Whether s is valid UTF-8 (no overlongs, no surrogates); n bytes. */
int sft_utf8_valid(const char *s, size_t n);

/* Atomic output: writes go to "<path>.tmp.<pid>", commit renames it over path,
 * abort removes it. An interrupted run never leaves a half-written file: the
 * open temporaries are registered, and sft_cleanup_on_signals() makes SIGINT,
 * SIGTERM, SIGHUP and SIGPIPE remove this process's before it dies (kill -9
 * cannot be caught: sft_outdir_prepare removes those later). A failed write
 * or rename is EOUTPUT with the file and strerror. */
void sft_cleanup_on_signals(void);
typedef struct sft_ofile sft_ofile;
/* Creates the temporary (NULL with e set on failure); sft_ofile_commit or
 * sft_ofile_abort destroys it. */
sft_ofile *sft_ofile_open(const char *path, sft_err *e);
/* The temporary's stream and name, borrowed: valid until f is destroyed
 * (never fclose the stream). */
FILE *sft_ofile_fp(sft_ofile *f);
const char *sft_ofile_tmpname(const sft_ofile *f);
sft_status sft_ofile_commit(sft_ofile *f, sft_err *e); /* destroys f */
void sft_ofile_abort(sft_ofile *f);                    /* destroys f */
/* Writes len bytes to path atomically. */
sft_status sft_write_file(const char *path, const void *data, size_t len, sft_err *e);

/* Built-in data files (embedded at build time from the data directories).
 * kind: "clusters", "gpus", "calibration", "models", "datasets".
 * Returns the text (static storage) or NULL. */
const char *sft_builtin(const char *kind, const char *name, size_t *len);
/* Iterates names of one kind: returns the i-th name (static storage) or
 * NULL past the end. */
const char *sft_builtin_name(const char *kind, size_t i);

/* Resolves NAME|FILE: if arg names an existing file (or contains '/' or ends in
 * ".json") it is read from disk, else looked up among the built-ins of kind.
 * Creates *text; *origin receives the file path or "built-in NAME" (caller frees). */
sft_status sft_resolve_data(const char *kind, const char *arg, char **text, char **origin,
                            sft_err *e);

/* One parser of a data file, called by sft_load_data: text (NUL-terminated)
 * and origin (the path, or "built-in NAME", for messages) are borrowed for
 * the call; ctx is the caller's, typically the object the parser fills. */
typedef sft_status (*sft_parse_fn)(const char *text, const char *origin, void *ctx, sft_err *e);
/* Loads NAME|FILE of kind as sft_resolve_data does and returns
 * parse(text, origin, ctx, e); text and origin are freed when it returns,
 * so a parser that keeps the origin copies it. The errors are
 * sft_resolve_data's (an unknown name, a file that cannot be read, each
 * naming it) or the parser's. */
sft_status sft_load_data(const char *kind, const char *name_or_file, sft_parse_fn parse, void *ctx,
                         sft_err *e);

/* Monotonic wall clock in seconds. */
double sft_wall(void);
/* Parses a byte size: 123, 4K, 2M, 1G, 1.5G (binary multiples). -1 if bad. */
double sft_parse_bytes(const char *s);
/* Parses a decimal integer in [lo, hi] into *out. SFT_EINPUT, *out
 * untouched and no message (the caller names the option), if s is not all
 * digits or is out of range. */
sft_status sft_parse_long(const char *s, long lo, long hi, long *out);
/* The same for a finite number (strtod's syntax). */
sft_status sft_parse_double(const char *s, double *out);

#ifdef __cplusplus
}
#endif

#endif
