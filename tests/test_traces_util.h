/* test_traces_util.h — helpers shared by the traces tests: a scratch
 * directory in the build tree, small file helpers, and running the real
 * `sftsim` binary with its output captured (exit code, stdout, stderr). */
#ifndef SFT_TEST_TRACES_UTIL_H
#define SFT_TEST_TRACES_UTIL_H

#include <stddef.h>

/* Creates (if needed) $SFT_BIN/test_traces/NAME and returns its path
 * (caller frees). Skips the test when SFT_BIN is unset (not run by ctest). */
char *tt_dir(const char *name);
/* dir/name (caller frees). */
char *tt_path(const char *dir, const char *name);
/* $SFT_SRC/tests/data/traces/NAME (caller frees). */
char *tt_data(const char *name);
/* Writes text to path (fails the test on error). */
void tt_write(const char *path, const char *text);
/* Whole file, NUL-terminated; *len its size when len is non-NULL (caller frees). */
char *tt_read(const char *path, size_t *len);
/* Runs $SFT_BIN/sftsim with args (NULL-terminated, without the program
 * name), stdin from in (NULL = /dev/null), stdout and stderr into the files
 * out and err. Returns the exit code, or -1 when killed by a signal. */
int tt_sftsim(const char *in, const char *out, const char *err, const char *const *args);

#endif
