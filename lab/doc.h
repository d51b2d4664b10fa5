/* doc.h — the JSON documents of run, compare and schedule (ARCHITECTURE.md "Contracts"'s
 * contract): what --format json prints and --out's summary.json holds,
 * built from a resolved scenario and what it produced.
 *
 * Ownership: each function creates the document it returns (the caller
 * deletes it, cJSON_Delete); every argument is borrowed. */
#ifndef SFT_DOC_H
#define SFT_DOC_H

#include <cjson/cJSON.h>

#include "lab/scenario.h"

/* run: {"scenario","policy", the run's figures (rep_run_json),
 * "clipped_samples"}. */
cJSON *doc_run(const scenario *s, const char *policy, const scen_result *r);

/* compare: {"scenario","policies":[one comparison row per policy
 * (rep_compare_row) with "schedule_s" and, when explain is set and the list
 * has the baseline, "explain" (rep_explain_json against it)]}; res[i] ran
 * policies[i]; the speedups are against the (last) deepspeed in the list,
 * null without. */
cJSON *doc_compare(const scenario *s, const char *const *policies, int n, scen_result *const *res,
                   int explain);

/* schedule: {"scenario","policy","steps":[{"step","est_s","over_bucket"
 * [,"note"],"ranks":[{"dp","est_s","microbatches":[{"est_s",
 * "max_tokens_per_gpu","sequences":[{"id","len","cp"}]}]}]}]}, the times
 * the schedulers' estimator gives; "cp" is a CP rank or "distributed". r
 * needs only its plans. */
cJSON *doc_schedule(const scenario *s, const char *policy, const scen_result *r);

#endif
