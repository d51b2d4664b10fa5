/* gantt.h — the Gantt chart of one step (cairo: gantt.png and gantt.svg).
 *
 * One panel per policy, stacked, all on one time axis (seconds from the
 * step's start; the longest step sets the scale), so their difference reads
 * at a glance. One row per GPU; beyond REP_GANTT_MAX_ROWS GPUs, one row per
 * group of k consecutive GPUs showing the group's busiest (compute + exposed
 * communication, as the summary ranks them), so the straggler that sets the
 * step time is always drawn; the titles say so. Each row is coloured, pixel
 * by pixel, by what the GPU mostly did, with the summary's definitions
 * (summary.h): compute (kernels), host (framework and launch work the
 * compute stream waited on), exposed communication (a collective of the GPU
 * in transfer while its compute stream is not busy) and idle; a thin strip
 * under the row marks communication in flight at least a quarter of the
 * pixel's time, hidden or not. A dashed line and label mark each panel's
 * step time.
 *
 * Invariants: both files appear under their names only when complete; the
 * two are drawn by the same code from the same rows.
 */
#ifndef SFT_REP_GANTT_H
#define SFT_REP_GANTT_H

#include "reports/events.h"

#define REP_GANTT_MAX_ROWS 64

/* Draws step `step` of srcs[0..n) (borrowed) into png_path and svg_path.
 * EINPUT when a source has no such step; on failure the message names the
 * file. */
sft_status rep_gantt_write(const char *png_path, const char *svg_path, const rep_src *srcs, int n,
                           int step, sft_err *e);

#endif
