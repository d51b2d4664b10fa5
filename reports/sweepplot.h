/* sweepplot.h — the sweep's plot (cairo: sweep.png and sweep.svg): step
 * time (top) and speedup over deepspeed (bottom) against one swept numeric
 * option (the GPU count when it varies, else the first numeric option
 * swept), one line per policy and combination of the other swept options.
 * Points that did not run (infeasible, error) are left out; out-of-memory
 * points are drawn hollow.
 *
 * Invariants: both files appear under their names only when complete, drawn
 * by the same code from the same rows.
 */
#ifndef SFT_REP_SWEEPPLOT_H
#define SFT_REP_SWEEPPLOT_H

#include <cjson/cJSON.h>

#include "base/base.h"

/* rows: the sweep's "points" array (borrowed); swept: the varying option
 * names in grid order. Writes nothing (and succeeds) when no swept option is
 * numeric. */
sft_status rep_sweep_plot(const char *png_path, const char *svg_path, const cJSON *rows,
                          const char *const *swept, int nswept, sft_err *e);

#endif
