/* pool.h — runs many scenario points in parallel worker processes (sweep,
 * reproduce), and across MPI ranks when launched under mpirun.
 *
 * A point is the base options with some of them overridden; its result is a
 * JSON array of rows, one per policy, with the compare fields or, when the
 * point cannot run (impossible degrees, a sequence that cannot fit), a
 * status and the reason. Every point runs in a child process (SimGrid holds
 * one platform per process). Results reach the caller in point order
 * whatever order they finish in, so outputs written from them are the same
 * for any worker count, rank count or resumption. Workers die with their
 * parent (kill -9 included) and with the signals that end it.
 *
 * Ownership: every pointer argument is borrowed; pool_point_rows creates
 * the array it returns.
 */
#ifndef SFT_POOL_H
#define SFT_POOL_H

#include <cjson/cJSON.h>

#include "lab/scenario.h"

typedef struct pool_point {
    const char *v[SO_NOPTS]; /* overrides (NULL = the base's value); borrowed */
    const char *out;         /* write this point's reports there (compare's), or NULL */
    int per_step;            /* rows carry "per_step" (pool_point_rows) */
} pool_point;

/* Called in point order for every point that was run (not for skipped
 * ones): rows is the point's JSON array (borrowed). A status other than
 * SFT_OK stops the pool. */
typedef sft_status (*pool_done_fn)(void *ctx, int point, const cJSON *rows, sft_err *e);

typedef struct pool_cfg {
    const scen_opts *base;    /* borrowed */
    const pool_point *points; /* borrowed, n entries */
    int n;
    const char *const *policies; /* borrowed, np entries */
    int np;
    int workers;               /* child processes at once (per MPI rank) */
    const unsigned char *skip; /* n flags (points already done) or NULL */
    int progress;              /* print progress on stderr */
    pool_done_fn done;
    void *ctx;
} pool_cfg;

/* Runs the points. Under mpirun (MPI build) the points are dealt to the
 * ranks and rank 0 calls done(); *is_root tells the caller whether it is
 * the rank that writes outputs. */
sft_status pool_run(const pool_cfg *cfg, int *is_root, sft_err *e);

/* Runs one point in this process and returns its rows (creates the array;
 * everything else borrowed): per policy {"policy", "status", "reason", then
 * for a policy that ran the figures of its comparison row
 * (rep_compare_row): "mean_step_time_s", "oom", "peak_mem_bytes_min",
 * "peak_mem_bytes_max", "mfu", and "bucket", "speedup_vs_deepspeed",
 * "speedup_se", "mean_step_time_se_s", "steps" (the count simulated), and
 * with pt->per_step "per_step":[{"time_s","peak_mem_bytes_min",
 * "peak_mem_bytes_max","oom"}] (the GPUs' lowest and highest peak in each
 * step)}. Every policy runs the same steps (scen_simulate_set: under
 * --steps auto until all of them converge). Any number of policies; with
 * pt->out, the reports of the comparison are written there when every
 * policy ran. */
cJSON *pool_point_rows(const scen_opts *base, const pool_point *pt, const char *const *policies,
                       int np);

/* MPI: initialise when launched by mpirun (no-op otherwise) and finalise. */
void pool_mpi_init(int *argc, char ***argv);
void pool_mpi_finalize(void);
int pool_mpi_size(void);
int pool_mpi_rank(void); /* 0 without MPI */
/* Under mpirun, every rank calls it after rank 0 alone did what may fail
 * (preparing --out, reading an earlier run): all get rank 0's status, its
 * message in e and, on success, the n bytes of buf (borrowed) rank 0 has.
 * Returns that status; without MPI returns st. */
sft_status pool_mpi_share(sft_status st, sft_err *e, void *buf, size_t n);

#endif
