/* collsim.c — nccl-tests style runs of one collective (collsim.h). */
#include "sim/collsim.h"

#include <stdlib.h>

#include "sim/coll.h"
#include "sim/engine.h"
#include "sim/prog.h"

sft_status collsim_run(const clu_desc *c, int op, int n, const double *sizes, int nsizes,
                       collsim_row *rows, double *wall_s, sft_err *e)
{
    if (n < 1 || n > clu_ngpus(c))
        return sft_errf(e, SFT_EINPUT, "collective over %d GPUs on a cluster of %d", n,
                        clu_ngpus(c));
    if (op == COLL_SENDRECV && n < 2)
        return sft_errf(e, SFT_EINPUT, "sendrecv needs at least 2 GPUs (got --gpus %d)", n);
    prog *p = prog_create(n);
    int *g = sft_xmalloc((size_t)n * sizeof *g);
    for (int i = 0; i < n; i++) g[i] = i;
    if (op == COLL_SENDRECV)
        g[1] = n - 1; /* first to last GPU: across nodes when n spans several */
    int grp = prog_group(p, g, op == COLL_SENDRECV ? 2 : n);
    int name = prog_intern(p, coll_op_name(op));
    int *ids = sft_xmalloc((size_t)nsizes * sizeof *ids);
    for (int k = 0; k < nsizes; k++) {
        ids[k] = prog_coll(p, op, grp, sizes[k], 0);
        for (int i = 0; i < (op == COLL_SENDRECV ? 2 : n); i++) {
            prog_op *o = prog_push(p, g[i], PROG_COMM, PK_COLL, name);
            o->ref = ids[k];
            o->bytes = sizes[k];
        }
    }
    eng_result *r = NULL;
    sft_status st = eng_run(c, p, &r, e);
    if (!st) {
        int m = op == COLL_SENDRECV ? 2 : n;
        for (int k = 0; k < nsizes; k++) {
            collsim_row *row = &rows[k];
            row->bytes = sizes[k];
            row->time_s = r->coll_end[ids[k]] - r->coll_begin[ids[k]];
            row->algbw = row->time_s > 0 ? sizes[k] / row->time_s : 0;
            row->busbw = row->algbw * coll_busbw_factor(op, m);
        }
        if (wall_s) *wall_s = r->wall_s;
    }
    eng_result_destroy(r);
    free(ids);
    free(g);
    prog_destroy(p);
    return st;
}
