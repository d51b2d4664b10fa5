/* topo.h — the cluster's links and routes, independent of SimGrid.
 *
 * One source of truth for the network: the SimGrid platform creates exactly
 * these links and asks topo_route for every route, and the closed-form
 * estimates (coll_route) read the same links. Link ids:
 *   [0,N)      HBM of GPU g (shared by its reads and writes, and by NCCL's)
 *   [N,2N)     NVLink up (GPU -> NVSwitch), one-way latency nvl_lat
 *   [2N,3N)    NVLink down (NVSwitch -> GPU)
 *   [3N,4N)    NIC up (GPU's NIC -> its rail leaf), latency nic_lat
 *   [4N,5N)    NIC down
 *   then per (scalable unit u, rail r): leaf uplink (latency fabric_lat) and
 *   leaf downlink, bandwidth = NICs under the leaf x NIC bw / oversubscription.
 * Routes: a GPU to itself crosses its HBM once; within a node HBM, NVLink up,
 * NVLink down, HBM; across nodes the flow leaves through the NIC on the
 * destination's rail — when the source sits on another rail it first crosses
 * NVLink to that rail's GPU in its own node (NCCL's PXN) — and crosses the
 * spine only between scalable units.
 */
#ifndef SFT_TOPO_H
#define SFT_TOPO_H

#include "sim/cluster.h"

#define TOPO_MAX_ROUTE 10

#ifdef __cplusplus
extern "C" {
#endif

typedef enum topo_kind {
    TOPO_HBM,
    TOPO_NVUP,
    TOPO_NVDOWN,
    TOPO_NICUP,
    TOPO_NICDOWN,
    TOPO_LEAFUP,
    TOPO_LEAFDOWN
} topo_kind;

int topo_nlinks(const clu_desc *c);
/* Bandwidth (B/s), latency (s) and kind of link id; name gets e.g. "nvup-12". */
void topo_link(const clu_desc *c, int id, double *bw, double *lat, topo_kind *kind, char *name,
               size_t namelen);
/* Fills ids (TOPO_MAX_ROUTE entries) with the route src -> dst; returns the count. */
int topo_route(const clu_desc *c, int src, int dst, int *ids);

#ifdef __cplusplus
}
#endif
#endif
