/* sweep.h — what-if grids over any scenario option (`sftsim sweep`): the
 * grid's points, the checks before any work, --resume, running the points
 * in the pool (pool.h) and collecting their rows into the sweep's files
 * (sweep_out.h).
 *
 * Every scenario option of the base options may be a comma list; the grid
 * is their cartesian product (options in option order, the first listed
 * varying slowest), each point run under every policy. A point's rows are
 * pool_point_rows' (one per policy) after the point's fields: {"point",
 * "key" ("cp=2,batch=48"), the swept options' values}.
 *
 * Ownership: sweep_create creates the handle and sweep_destroy destroys it;
 * the handle borrows the options and the policies it was made from (they
 * must outlive it); every other pointer argument is borrowed.
 */
#ifndef SFT_SWEEP_H
#define SFT_SWEEP_H

#include <cjson/cJSON.h>

#include "lab/scenario.h"

#define SWEEP_MAX_POINTS 100000

typedef struct sweep sweep;

/* Checks and sizes the grid of o under policies (a comma list): each list
 * split and every item checked (sweep_list_split), at most
 * SWEEP_MAX_POINTS points, every name or file an item gives loaded the way
 * a scenario will (and the files' digests taken), --out required with
 * resume; then every point's scenario resolved and recorded (on MPI rank 0;
 * a point that cannot be resolved records why). EINPUT naming the option
 * and the item. Creates *out. */
sft_status sweep_create(const scen_opts *o, const char *policies, int resume, sweep **out,
                        sft_err *e);

/* Prepares --out and, with resume, takes the rows of the earlier run's
 * sweep.json (EINPUT, naming what differs, when it is not this sweep);
 * then runs the other points in jobs worker processes per MPI rank
 * (progress on stderr when progress), rewriting the files as each next
 * point in order completes, and a last time at the end. Every rank calls
 * it; *is_root tells whether this one holds the rows (sweep_doc). */
sft_status sweep_run(sweep *w, int jobs, int progress, int *is_root, sft_err *e);

/* sweep.json: {"sftsim_version","policies","options","scenarios","points"}
 * with the records and rows of the points that have them, in point order.
 * Creates the document (cJSON_Delete); it references w's items, so w must
 * outlive it. */
cJSON *sweep_doc(const sweep *w);

void sweep_destroy(sweep *w);

#endif
