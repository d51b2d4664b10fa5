/* topo.c — link table and routes of a cluster (see topo.h). */
#include "sim/topo.h"

#include <stdio.h>

static int n_units(const clu_desc *c)
{
    return (c->nodes + c->nodes_per_leaf - 1) / c->nodes_per_leaf;
}

int topo_nlinks(const clu_desc *c)
{
    int n = clu_ngpus(c);
    return 5 * n + 2 * n_units(c) * c->gpus_per_node;
}

void topo_link(const clu_desc *c, int id, double *bw, double *lat, topo_kind *kind, char *name,
               size_t namelen)
{
    int n = clu_ngpus(c), leaves = n_units(c) * c->gpus_per_node;
    static const char *const kn[] = {"hbm",     "nvup",   "nvdown",  "nicup",
                                     "nicdown", "leafup", "leafdown"};
    int k, idx;
    if (id < 5 * n) {
        k = id / n;
        idx = id % n;
    } else {
        k = TOPO_LEAFUP + (id - 5 * n) / leaves;
        idx = (id - 5 * n) % leaves;
    }
    *kind = (topo_kind)k;
    switch (*kind) {
    case TOPO_HBM:
        *bw = c->gpu.hbm_bw;
        *lat = 0;
        break;
    case TOPO_NVUP:
        *bw = c->nvl_bw;
        *lat = c->nvl_lat;
        break;
    case TOPO_NVDOWN:
        *bw = c->nvl_bw;
        *lat = 0;
        break;
    case TOPO_NICUP:
        *bw = c->nic_bw;
        *lat = c->nic_lat;
        break;
    case TOPO_NICDOWN:
        *bw = c->nic_bw;
        *lat = 0;
        break;
    case TOPO_LEAFUP:
    case TOPO_LEAFDOWN: {
        /* the leaf of unit u serves as many NICs as the unit has nodes */
        int u = idx / c->gpus_per_node;
        int first = u * c->nodes_per_leaf, last = first + c->nodes_per_leaf;
        if (last > c->nodes) last = c->nodes;
        *bw = (double)(last - first) * c->nic_bw / c->oversub;
        *lat = *kind == TOPO_LEAFUP ? c->fabric_lat : 0;
        break;
    }
    }
    if (name) snprintf(name, namelen, "%s-%d", kn[k], idx);
}

int topo_route(const clu_desc *c, int s, int d, int *ids)
{
    int n = clu_ngpus(c), gpn = c->gpus_per_node, k = 0;
    ids[k++] = TOPO_HBM * n + s;
    if (s == d) return k;
    int ns = s / gpn, nd = d / gpn;
    if (ns == nd) {
        ids[k++] = TOPO_NVUP * n + s;
        ids[k++] = TOPO_NVDOWN * n + d;
    } else {
        int rd = d % gpn, p = ns * gpn + rd; /* the NIC on the destination's rail */
        if (p != s) {
            ids[k++] = TOPO_NVUP * n + s;
            ids[k++] = TOPO_NVDOWN * n + p;
        }
        ids[k++] = TOPO_NICUP * n + p;
        int us = ns / c->nodes_per_leaf, ud = nd / c->nodes_per_leaf;
        if (us != ud) {
            int leaves = n_units(c) * gpn;
            ids[k++] = 5 * n + us * gpn + rd;
            ids[k++] = 5 * n + leaves + ud * gpn + rd;
        }
        ids[k++] = TOPO_NICDOWN * n + d;
    }
    ids[k++] = TOPO_HBM * n + d;
    return k;
}
