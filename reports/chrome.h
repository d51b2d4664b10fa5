/* chrome.h — the Chrome / Perfetto trace of a run (trace.json.gz; open it in
 * ui.perfetto.dev or chrome://tracing).
 *
 * Conventions: pid = GPU (a comparison numbers policy i's GPU g as
 * i x GPUs + g and names the process "<policy> GPU g"), tid = stream (0
 * compute, 1 CP comm, 2 DP comm), with process_name / thread_name metadata.
 * Every op is one complete ("X") slice, ts and dur in microseconds with
 * nanosecond decimals, zero-duration ops included; args carry step,
 * micro-batch, layer, the op's index in its stream (the timeline's op
 * column), FLOPs, bytes and the collective or event id. Each GPU's allocated
 * HBM is a counter ("C", name "memory"). The parts of one collective on its
 * member GPUs are joined by flow arrows ("s" -> "f" pairs, member k to member
 * k+1 in GPU order) drawn inside the collective's transfer window.
 *
 * Invariants: the X slices are exactly the timeline's /events rows (same
 * count, same integer-nanosecond times, rep_stream_ns), so slices on one
 * (pid, tid) never overlap; a flow's start precedes its finish and both lie
 * inside their slices. The file appears under its name only when complete.
 */
#ifndef SFT_REP_CHROME_H
#define SFT_REP_CHROME_H

#include "reports/events.h"

/* Writes the gzip-compressed trace of srcs[0..n) (borrowed) to path;
 * scenario_json (borrowed) goes to the trace's metadata. On failure nothing
 * is left at path and the message names it. */
sft_status rep_trace_write(const char *path, const rep_src *srcs, int n, const char *scenario_json,
                           sft_err *e);

#endif
