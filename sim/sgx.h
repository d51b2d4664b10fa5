/* sgx.h — SimGrid behind C linkage: the engine's only contact with SimGrid.
 *
 * Why C++ here: the platform needs a routing zone of our own (rail-optimised
 * routes computed on demand by topo_route, O(1) memory per GPU), which only
 * SimGrid's C++ kernel API allows, and SimGrid's C API has no asynchronous
 * host-to-host flow. Everything else in sftsim is C; this file's functions
 * are thin wrappers.
 *
 * SimGrid's engine is a process-wide singleton: one platform per process.
 * sgx_platform builds it on first use; later simulations in the same process
 * reuse it (the clock keeps running, callers subtract their start time).
 * Work that needs another platform runs in a child process (iso.h).
 *
 * Ownership: the platform belongs to the process (built once, never freed
 * before exit); every pointer argument is borrowed.
 */
#ifndef SFT_SGX_H
#define SFT_SGX_H

#include <stdint.h>

#include "sim/cluster.h"
#include "sim/coll.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds the platform for c (first call), or checks that c matches the one
 * built: SFT_EINTERNAL in e when another platform already exists (SimGrid
 * allows one per process). */
sft_status sgx_platform(const clu_desc *c, sft_err *e);
/* Nominal host speed: sgx_exec(t) runs t seconds of full-speed GPU work. */
void sgx_spawn(const char *name, int host, void (*fn)(void *), void *arg);
void sgx_run(void);
double sgx_now(void);
void sgx_exec(double seconds);
void sgx_sleep(double seconds);
/* Starts every flow at once and returns when all have finished. */
void sgx_flows(int n, const coll_flow *flows);
void *sgx_self(void);
void sgx_suspend(void);
void sgx_resume(void *actor);
/* Compute throughput of host while NCCL kernels run on it: slow=1 selects
 * (1 - comm_compute_slowdown) of nominal speed, slow=0 nominal. */
void sgx_set_slow(int host, int slow);
/* SimGrid activities started so far (executions, sleeps, flows). */
uint64_t sgx_activities(void);

#ifdef __cplusplus
}
#endif
#endif
