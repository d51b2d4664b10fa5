/* fuzz_sweep_lists.c — libFuzzer target for the comma lists a sweep is given
 * (sweep_list_split, lab/sweep_out.h). The first byte picks the option
 * (every scenario option, --policies, and a name the checks do not know);
 * the rest is its value. Besides crashes, leaks and undefined behaviour
 * (ASan + UBSan), it checks the promises and aborts when one is broken:
 * a list splits if and only if an independent reading of the same text
 * finds it valid (1 to 64 items, none empty, none repeated, UTF-8 without
 * control characters, each a valid value on its own); a split joins back
 * into the text given; a refusal is SFT_EINPUT with a message that names
 * the option. Built with clang by tests/sweep.cmake.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/sweep_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const opts[] = {"cluster",
                                   "gpus",
                                   "model",
                                   "dataset",
                                   "trace",
                                   "policy",
                                   "dp",
                                   "cp",
                                   "batch",
                                   "bucket",
                                   "steps",
                                   "seed",
                                   "cp-impl",
                                   "zero",
                                   "ds-pack",
                                   "granularity",
                                   "max-len",
                                   "calibration",
                                   "host-overhead-ms",
                                   "rollback",
                                   "policies",
                                   "not-an-option"};
#define NOPTS (sizeof opts / sizeof opts[0])

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sweep_lists: broken promise: %s\n", what);
        abort();
    }
}

/* The oracle: whether text is a valid list for opt, read item by item with
 * memchr instead of the splitter's strchr loop. */
static int valid_list(const char *opt, const char *text)
{
    size_t n = strlen(text);
    if (n == 0 || !sft_utf8_valid(text, n)) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) return 0;
    const char *start[SWEEP_MAX_VALUES + 1];
    size_t len[SWEEP_MAX_VALUES + 1];
    int k = 0;
    const char *p = text, *end = text + n;
    for (;;) {
        if (k == SWEEP_MAX_VALUES) return 0;
        const char *c = memchr(p, ',', (size_t)(end - p));
        start[k] = p;
        len[k] = c ? (size_t)(c - p) : (size_t)(end - p);
        if (len[k] == 0) return 0;
        k++;
        if (!c) break;
        p = c + 1;
    }
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < i; j++)
            if (len[i] == len[j] && memcmp(start[i], start[j], len[i]) == 0) return 0;
        char *item = malloc(len[i] + 1);
        memcpy(item, start[i], len[i]);
        item[len[i]] = '\0';
        sft_err e = {0};
        int bad = sweep_value_check(opt, item, &e) != SFT_OK;
        free(item);
        if (bad) return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *opt = opts[data[0] % NOPTS];
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    sweep_list l;
    sft_err e = {0};
    sft_status st = sweep_list_split(opt, text, &l, &e);
    check(st == SFT_OK || st == SFT_EINPUT, "bad input is reported as such (exit 2)");
    check((st == SFT_OK) == valid_list(opt, text), "splits exactly the valid lists");
    if (st == SFT_OK) {
        check(l.n >= 1 && l.n <= SWEEP_MAX_VALUES && l.item[l.n] == NULL, "1 to 64 items");
        size_t off = 0, n = strlen(text);
        for (int k = 0; k < l.n; k++) {
            size_t m = strlen(l.item[k]);
            check(m > 0 && !strchr(l.item[k], ','), "items are non-empty, without commas");
            check(off + m <= n && memcmp(text + off, l.item[k], m) == 0, "items are the text");
            off += m;
            if (k + 1 < l.n) check(text[off++] == ',', "items are separated by one comma");
        }
        check(off == n, "the items join back into the whole text");
        sweep_list_free(&l);
        check(l.buf == NULL && l.n == 0, "free empties the list");
    } else {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "--%s", opt);
        check(e.status == SFT_EINPUT, "the context carries the status");
        check(strncmp(e.msg, prefix, strlen(prefix)) == 0, "the message names the option");
        check(l.buf == NULL && l.n == 0, "a refused list holds nothing");
    }
    free(text);
    return 0;
}
