/* par.c — the parallel layout's names (par.h). */
#include "models/sched/par.h"

const char *par_cp_impl_name(int impl)
{
    static const char *const n[] = {"allgather", "ulysses", "ring"};
    return impl >= 0 && impl <= 2 ? n[impl] : "?";
}
