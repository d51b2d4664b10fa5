/* par.c — the parallel layout's names (par.h). */
#include "models/sched/par.h"

const char *par_cp_impl_name(int impl)
{
    static const char *const n[] = {"allgather", "ulysses", "ring"};
    return impl >= 0 && impl <= 2 ? n[impl] : "?";
}

const char *par_cp_exchange_name(int x)
{
    static const char *const n[] = {"fused", "per-seq"};
    return x >= 0 && x <= 1 ? n[x] : "?";
}

const char *par_attn_call_name(int x)
{
    static const char *const n[] = {"varlen", "per-seq"};
    return x >= 0 && x <= 1 ? n[x] : "?";
}

const char *par_grad_coll_name(int coll)
{
    static const char *const n[] = {"allreduce", "reducescatter"};
    return coll >= 0 && coll <= 1 ? n[coll] : "?";
}

double par_grad_bytes(const par_opts *par)
{
    return par->grad_fp32 ? 4.0 : 2.0;
}
