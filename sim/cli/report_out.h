/* report_out.h — what --out DIR receives from run (and later compare and
 * sweep): summary.json now; the timeline, trace and graphs as they land.
 * Every file is written under a temporary name and renamed. */
#ifndef SFT_REPORT_OUT_H
#define SFT_REPORT_OUT_H

#include <cjson/cJSON.h>

#include "sim/cli/scenario.h"

/* Writes the run's reports into dir (created if missing); summary is the
 * JSON document printed by --format json (borrowed). */
sft_status rout_run(const char *dir, const scenario *s, const char *policy, const scen_result *r,
                    const cJSON *summary, sft_err *e);

/* compare: summary.json and, per policy, its reports. */
sft_status rout_compare(const char *dir, const scenario *s, const char *const *policies, int n,
                        scen_result *const *res, const cJSON *summary, sft_err *e);

#endif
