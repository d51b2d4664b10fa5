/* jsonx.h — strict JSON input on top of cJSON: every error names the file,
 * the dotted field path and what would be valid; unknown fields are errors
 * (README.md); parse errors give line and column. No global error state: the
 * caller's sft_err carries the message (cJSON's own global error pointer is
 * never read).
 *
 * Numbers: every numeric field of every schema has a stated physical range
 * (README.md, "Inputs, outputs and exit codes"). Each schema keeps its
 * ranges in one table of jx_range rows at the top of its parser (field,
 * bounds, unit, the reason in one line), read through jx_num_in / jx_long_in, so the table is both
 * the check and its documentation. Strings: every string read is valid UTF-8 and, unless the field
 * is free text (JX_TEXT), free of control characters; names also have a length limit (jx_name), so
 * nothing read can make the JSON or the text sftsim prints invalid.
 */
#ifndef SFT_JSONX_H
#define SFT_JSONX_H

#include <cjson/cJSON.h>

#include "base/base.h"

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
    JX_TEXT = 32,  /* string: free text, may hold tabs and line breaks */
};

/* The valid range of one numeric field: lo <= x <= hi (both finite), in
 * unit (as the file writes it), integral when flags has JX_INT. field is the
 * dotted path from the document's root, "[]" marking an array's elements
 * ("collectives.rules[].max_bytes"): what the message and the docs show. */
typedef struct jx_range {
    const char *field;
    double lo, hi;
    int flags;
    const char *unit; /* "" for a pure number */
    const char *why;  /* one line: the physical reasoning for the bounds */
} jx_range;

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
/* The number at key, which must lie in r (borrowed); flags: JX_REQ. An absent
 * optional field leaves *out (the caller's default) untouched. Errors:
 * "FILE: field 'PATH': must be in [LO, HI] UNIT (got X): WHY". */
sft_status jx_num_in(const jx_ctx *c, const cJSON *obj, const char *key, int flags,
                     const jx_range *r, double *out);
sft_status jx_long_in(const jx_ctx *c, const cJSON *obj, const char *key, int flags,
                      const jx_range *r, long *out);
/* Checks a value already read (or derived) against r; key names it. */
sft_status jx_check_range(const jx_ctx *c, const char *key, const jx_range *r, double x);
/* The object that holds a range's field in doc (its path, "[]" taking an
 * array's first element; borrowed: part of doc) and, in *key, the field's
 * last name (borrowed from field); NULL when a step is missing. Borrows doc: for tests and tools
 * that probe every row of a table on a real document. */
cJSON *jx_field_parent(cJSON *doc, const char *field, const char **key);
/* Formats x for messages and docs: integers in full below 1e9, else %g. */
void jx_fmt_num(char *buf, size_t n, double x);
sft_status jx_long(const jx_ctx *c, const cJSON *obj, const char *key, int flags, long lo, long hi,
                   long *out);
/* *out borrows from obj. The string must be valid UTF-8 and, without
 * JX_TEXT, hold no control character (C0, DEL, C1). */
sft_status jx_str(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const char **out);
/* A name or a one-line label copied into dst (cap bytes): as jx_str, and at
 * most cap - 1 bytes (never cut: a cut could split a UTF-8 sequence); with
 * JX_REQ also not empty. Absent and optional: dst is left untouched. */
sft_status jx_name(const jx_ctx *c, const cJSON *obj, const char *key, int flags, char *dst,
                   size_t cap);
/* Checks that s (key's value, for the message) is valid UTF-8 without
 * control characters (tabs and line breaks allowed when flags has JX_TEXT). */
sft_status jx_check_str(const jx_ctx *c, const char *key, const char *s, int flags);
sft_status jx_bool(const jx_ctx *c, const cJSON *obj, const char *key, int flags, int *out);
/* *out borrows the object or array (NULL when absent and not required). */
sft_status jx_obj(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const cJSON **out);
sft_status jx_arr(const jx_ctx *c, const cJSON *obj, const char *key, int flags, const cJSON **out);

/* Formats "file: field 'path.key': msg" into the context's error; returns EINPUT. */
sft_status jx_fail(const jx_ctx *c, const char *key, const char *fmt, ...) SFT_PRINTF(3, 4);

#endif
