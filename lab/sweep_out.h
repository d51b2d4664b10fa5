/* sweep_out.h — the files of a sweep: sweep.json (ARCHITECTURE.md, "Contracts"),
 * sweep.csv, sweep.h5 and the plots, each written under a temporary name
 * and renamed; and the comma lists a sweep is given, split and checked
 * before any point runs.
 *
 * Ownership: every pointer argument is borrowed; a sweep_list owns its
 * copy of the text (sweep_list_free releases it). */
#ifndef SFT_SWEEP_OUT_H
#define SFT_SWEEP_OUT_H

#include <cjson/cJSON.h>

#include "base/base.h"

/* doc = {"points":[rows], ...} (borrowed): written as sweep.json as it is;
 * swept = the option names that vary, in grid order (their values are row
 * fields of the CSV, the HDF5 table and the plots). */
sft_status sweep_write(const char *dir, const cJSON *doc, const char *const *swept, int nswept,
                       sft_err *e);

/* ---- sweep lists ---------------------------------------------------------
 * Every scenario option of a sweep, and --policies, is a comma list: one
 * value, or several separated by single commas. */
#define SWEEP_MAX_VALUES 64

typedef struct sweep_list {
    char *buf;                              /* owned copy; items point into it */
    const char *item[SWEEP_MAX_VALUES + 1]; /* NULL after the last */
    int n;                                  /* >= 1 after a successful split */
} sweep_list;

/* Splits list, the value of option --opt (opt without the dashes, e.g.
 * "gpus" or "policies"): at least one item, at most SWEEP_MAX_VALUES, none
 * empty, none repeated, each valid UTF-8 without control characters, and
 * each a valid value of opt on its own (sweep_value_check). EINPUT naming
 * the option, the list and the item otherwise; then *out holds nothing to
 * free. Fills *out. */
sft_status sweep_list_split(const char *opt, const char *list, sweep_list *out, sft_err *e);
void sweep_list_free(sweep_list *l);
/* Checks one value of option opt against the scenario options' table
 * (scen_values.h), the same one scen_resolve applies: options whose values
 * are names or files pass here (their callers load them), and a value the
 * table passes but a scenario still rejects is that point's "infeasible"
 * row. EINPUT with the reason alone (no option prefix) when bad. */
sft_status sweep_value_check(const char *opt, const char *v, sft_err *e);

#endif
