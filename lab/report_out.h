/* report_out.h — what --out DIR receives (ARCHITECTURE.md, "Contracts" and "Formats";
 * reports/README.md): summary.json                 the --format json document timeline.h5 HDF5
 * tables (a comparison: a group per policy) trace.json.gz                Chrome / Perfetto trace
 * (every policy in one) schedule.dot, schedule.svg   the plan of step 0 (a comparison:
 *                                schedule-<policy>.dot / .svg per policy)
 *   gantt.png, gantt.svg         step 0 per GPU (a comparison: a panel per
 *                                policy on one time axis)
 * Every file is written under a temporary name and renamed; the first failure
 * stops the output, leaves no partial file and its message names the file.
 */
#ifndef SFT_REPORT_OUT_H
#define SFT_REPORT_OUT_H

#include <cjson/cJSON.h>

#include "lab/scenario.h"

/* The step the schedule graph and the Gantt chart show: the first, the same
 * global batch under every policy. */
#define ROUT_STEP 0

/* Writes the run's reports into dir (created if missing). r must have kept
 * its program (scen_simulate keep_prog). s, r and summary (the JSON document
 * of --format json) are borrowed. */
sft_status rout_run(const char *dir, const scenario *s, const char *policy, const scen_result *r,
                    const cJSON *summary, sft_err *e);

/* compare: the same files over n policies (res[i] ran policies[i], kept its
 * program); everything borrowed. */
sft_status rout_compare(const char *dir, const scenario *s, const char *const *policies, int n,
                        scen_result *const *res, const cJSON *summary, sft_err *e);

/* schedule: summary.json (the plan document) and schedule.dot / .svg of step
 * ROUT_STEP's plan. r needs only its plans; everything borrowed. */
sft_status rout_schedule(const char *dir, const scenario *s, const char *policy,
                         const scen_result *r, const cJSON *summary, sft_err *e);

#endif
