/* jsonx.h — strict JSON input on top of cJSON: every error names the file,
 * the dotted field path and what would be valid; unknown fields are errors
 * (DESIGN §5); parse errors give line and column. No global error state: the
 * caller's sft_err carries the message (cJSON's own global error pointer is
 * never read).
 */
#ifndef SFT_JSONX_H
#define SFT_JSONX_H

#include <cjson/cJSON.h>

#include "sim/base.h"

typedef struct jx_ctx {
    const char *file; /* borrowed: file name (or "built-in NAME") for messages */
    char path[256];   /* dotted path of the object being read, "" at the root */
    sft_err *err;     /* borrowed */
} jx_ctx;

enum {
    JX_REQ = 1,    /* field must be present (else the caller's default stays) */
    JX_POS = 2,    /* > 0 */
    JX_NONNEG = 4, /* >= 0 */
    JX_FRAC = 8,   /* 0 < x <= 1 */
    JX_INT = 16,   /* integral value */
};

/* Parses text. Creates *out (cJSON_Delete it). Errors: file:line:col. */
sft_status jx_parse(const char *text, const char *file, cJSON **out, sft_err *e);

jx_ctx jx_root(const char *file, sft_err *e);
/* Context for the object at key (path extended); the object must exist. */
jx_ctx jx_child(const jx_ctx *c, const char *key);
/* Context for element i of an array at key. */
jx_ctx jx_elem(const jx_ctx *c, const char *key, int i);

/* Unknown-field check: every key of obj must be listed in allowed (NULL-ended). */
sft_status jx_keys(const jx_ctx *c, const cJSON *obj, const char *const *allowed);
/* "schema" must be present and equal to version. */
sft_status jx_schema(const jx_ctx *c, const cJSON *obj, int version);

sft_status jx_num(const jx_ctx *c, const cJSON *obj, const char *key, int flags, double *out);
sft_status jx_long(const jx_ctx *c, const cJSON *obj, const char *key, int flags, long lo, long hi,
                   long *out);
/* *out borrows from obj. */
sft_status jx_str(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const char **out);
sft_status jx_bool(const jx_ctx *c, const cJSON *obj, const char *key, int flags, int *out);
/* *out borrows the object or array (NULL when absent and not required). */
sft_status jx_obj(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const cJSON **out);
sft_status jx_arr(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const cJSON **out);

/* Formats "file: field 'path.key': msg" into the context's error; returns EINPUT. */
sft_status jx_fail(const jx_ctx *c, const char *key, const char *fmt, ...) SFT_PRINTF(3, 4);

#endif
