/* collsim.h — nccl-tests on the simulated platform: one collective over the
 * first n GPUs, once per message size, back to back.
 *
 * Ownership: every pointer argument is borrowed; rows are the caller's. */
#ifndef SFT_COLLSIM_H
#define SFT_COLLSIM_H

#include "sim/cluster.h"

typedef struct collsim_row {
    double bytes;
    double time_s;
    double algbw; /* B/s = bytes / time */
    double busbw; /* algbw x nccl-tests factor */
} collsim_row;

/* Simulates op over GPUs 0..n-1 of c for each size (sendrecv: from GPU 0 to
 * GPU n-1); fills rows[nsizes].
 * *wall_s (may be NULL) receives the host time spent in the simulator. */
sft_status collsim_run(const clu_desc *c, int op, int n, const double *sizes, int nsizes,
                       collsim_row *rows, double *wall_s, sft_err *e);

#endif
