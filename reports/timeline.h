/* timeline.h — the HDF5 timeline of a run (schema in reports/README.md):
 * every executed op as one row of /events, the steps, each GPU's
 * allocation curve and totals, and the interned op names, as tables that
 * h5py and pandas.read_hdf(path, "/events") read.
 *
 * Layout: a run writes its tables at the root; a comparison writes one group
 * per policy (/deepspeed/events, /skrull/events, ...). Root attributes carry
 * the schema version, the units and the scenario JSON.
 *
 * Invariants: /events has exactly one row per op of every stream of the
 * program (prog_total_ops), in (gpu, stream, op) order; start_ns and end_ns
 * come from rep_stream_ns, so per GPU the compute stream's COMPUTE and DELAY
 * durations sum to the summary's busy_ns exactly; every name id resolves in
 * /strings. The file appears under its final name only when complete.
 */
#ifndef SFT_REP_TIMELINE_H
#define SFT_REP_TIMELINE_H

#include "reports/events.h"

/* Version of the layout above (root attribute schema_version); 2: the
 * row counts /steps.events and /gpus.events became int64. */
#define REP_TIMELINE_SCHEMA 2

/* Writes the timeline of srcs[0..n) (borrowed) to path: tables at the root
 * when grouped is 0 (then n must be 1), else one group per source named by
 * its policy. command ("run", "compare") and scenario_json (borrowed) become
 * root attributes. On failure nothing is left at path and the message names
 * it. */
sft_status rep_timeline_write(const char *path, const rep_src *srcs, int n, int grouped,
                              const char *command, const char *scenario_json, sft_err *e);

#endif
