/* iso.h — run a function in a child process (SimGrid allows one platform per
 * process, so work on another platform — a sweep point, a test of another
 * cluster — runs isolated). The child writes its result to a pipe; the parent
 * collects the bytes and the exit code.
 */
#ifndef SFT_ISO_H
#define SFT_ISO_H

#include <stddef.h>

#include "base/base.h"

/* fn runs in the child with a writable FILE*; its return value is the
 * child's exit code. Creates *out (bytes written, NUL-terminated; free it).
 * *code receives the exit code, or 128+signal if the child was killed.
 * Fails (EINTERNAL) only if the child could not be started. */
sft_status iso_run(int (*fn)(void *arg, FILE *out), void *arg, char **out, size_t *len, int *code,
                   sft_err *e);

#endif
