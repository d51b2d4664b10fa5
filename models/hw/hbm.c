/* hbm.c — usable device memory (hbm.h). */
#include "models/hw/hbm.h"

double hw_usable_bytes(const hw_gpu *g)
{
    return g->mem_bytes * (1 - MEM_FRAGMENTATION) - MEM_CONTEXT_BYTES;
}
