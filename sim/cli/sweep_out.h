/* sweep_out.h — the files of a sweep: sweep.json (DESIGN §3 contract),
 * sweep.csv, sweep.h5 and the plots, each written under a temporary name
 * and renamed. */
#ifndef SFT_SWEEP_OUT_H
#define SFT_SWEEP_OUT_H

#include <cjson/cJSON.h>

#include "sim/base.h"

/* doc = {"points":[rows]} (borrowed); swept = the option names that vary,
 * in grid order (their values are row fields). */
sft_status sweep_write(const char *dir, const cJSON *doc, const char *const *swept, int nswept,
                       sft_err *e);

#endif
