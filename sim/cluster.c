/* cluster.c — parse, validate and rescale cluster descriptions, and name the
 * collective operations their calibration rules key on (cluster.h).
 *
 * The valid range of every number a cluster file holds is the table
 * clu_range_table below: one row per field, with its unit and the reason
 * for its bounds (README.md, "Inputs, outputs and exit codes"). It is the
 * check and the documentation both; clu_ranges() hands it to tests and
 * docs. */
#include "sim/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"

enum {
    R_NODES,
    R_GPN,
    R_NVL_BW,
    R_NVL_LAT,
    R_NIC_BW,
    R_NIC_LAT,
    R_NPL,
    R_OVERSUB,
    R_FAB_LAT,
    R_NVL_ALPHA,
    R_NVL_EFF,
    R_NET_ALPHA,
    R_NET_EFF,
    R_RULE_MAXB,
    R_RULE_ALPHA,
    R_RULE_EFF,
    R_SLOWDOWN,
    R_COUNT
};

#define LAT_WHY "one-way latency: 0 (ideal) to 1 s, far above any switch or NIC (~1-10 us)"
#define EFF_WHY                                                                                    \
    "fraction of line rate NCCL reaches: below 1% the link is broken, not slow; 1 = line rate"
#define STEP_WHY "per-step latency of a collective: 0 to 1 s (NCCL's are 2-30 us)"

static const jx_range clu_range_table[R_COUNT] = {
    [R_NODES] = {"nodes", 1, 65536, JX_INT, "",
                 "1 to 64K nodes (the largest clusters have ~10^4); and nodes x gpus_per_node "
                 "<= 131072"},
    [R_GPN] = {"gpus_per_node", 1, 64, JX_INT, "",
               "GPUs on one NVSwitch (HGX boards: 8); one NIC rail per GPU"},
    [R_NVL_BW] = {"nvlink.bandwidth_gbps", 0.1, 10000, 0, "GB/s",
                  "per direction: a PCIe 1.0 lane (0.25) to 10x NVLink 5 (900)"},
    [R_NVL_LAT] = {"nvlink.latency_us", 0, 1e6, 0, "us", LAT_WHY},
    [R_NIC_BW] = {"nic.bandwidth_gbps", 0.1, 10000, 0, "GB/s",
                  "per direction: 1 GbE (0.125) to 100x an 800G NIC (100)"},
    [R_NIC_LAT] = {"nic.latency_us", 0, 1e6, 0, "us", LAT_WHY},
    [R_NPL] = {"fabric.nodes_per_leaf", 1, 65536, JX_INT, "",
               "nodes whose rail-i NICs share leaf i: 1 to all nodes"},
    [R_OVERSUB] = {"fabric.oversubscription", 1, 100, 0, "",
                   "leaf downlink : uplink bandwidth; 1 = non-blocking, real fabrics 1-8"},
    [R_FAB_LAT] = {"fabric.latency_us", 0, 1e6, 0, "us", LAT_WHY},
    [R_NVL_ALPHA] = {"collectives.nvlink.step_latency_us", 0, 1e6, 0, "us", STEP_WHY},
    [R_NVL_EFF] = {"collectives.nvlink.efficiency", 0.01, 1, 0, "", EFF_WHY},
    [R_NET_ALPHA] = {"collectives.net.step_latency_us", 0, 1e6, 0, "us", STEP_WHY},
    [R_NET_EFF] = {"collectives.net.efficiency", 0.01, 1, 0, "", EFF_WHY},
    [R_RULE_MAXB] = {"collectives.rules[].max_bytes", 1, 1e18, 0, "bytes",
                     "message size the rule covers up to: 1 B to 1 EB (1e15 = any size)"},
    [R_RULE_ALPHA] = {"collectives.rules[].step_latency_us", 0, 1e6, 0, "us", STEP_WHY},
    [R_RULE_EFF] = {"collectives.rules[].efficiency", 0.01, 1, 0, "", EFF_WHY},
    [R_SLOWDOWN] = {"comm_compute_slowdown", 0, 0.9, 0, "",
                    "compute throughput NCCL's kernels take (~0.1: a few SMs); 1 would halt "
                    "compute"},
};

const jx_range *clu_ranges(size_t *n)
{
    *n = R_COUNT;
    return clu_range_table;
}

static const char *const op_names[COLL_NOPS] = {"all_gather", "reduce_scatter", "all_reduce",
                                                "all_to_all", "broadcast",      "sendrecv",
                                                "ring_shift"};

const char *coll_op_name(int op)
{
    return op >= 0 && op < COLL_NOPS ? op_names[op] : "?";
}

int coll_op_parse(const char *name)
{
    static const struct {
        const char *alias;
        int op;
    } alias[] = {{"allgather", COLL_ALL_GATHER}, {"reducescatter", COLL_REDUCE_SCATTER},
                 {"allreduce", COLL_ALL_REDUCE}, {"alltoall", COLL_ALL_TO_ALL},
                 {"bcast", COLL_BROADCAST},      {"send_recv", COLL_SENDRECV},
                 {"p2p", COLL_SENDRECV}};
    for (int i = 0; i < COLL_NOPS; i++)
        if (strcmp(name, op_names[i]) == 0) return i;
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(name, alias[i].alias) == 0) return alias[i].op;
    return -1;
}

static const char *const top_keys[] = {
    "schema", "name",   "description", "notes",  "nodes",       "gpus_per_node",
    "gpu",    "nvlink", "nic",         "fabric", "collectives", "comm_compute_slowdown",
    NULL};
static const char *const link_keys[] = {"bandwidth_gbps", "latency_us", "notes", NULL};
static const char *const fabric_keys[] = {"nodes_per_leaf", "oversubscription", "latency_us",
                                          "notes", NULL};
static const char *const coll_keys[] = {"nvlink", "net", "rules", "notes", NULL};
static const char *const class_keys[] = {"step_latency_us", "efficiency", NULL};
static const char *const rule_keys[] = {"op",         "link", "max_bytes", "step_latency_us",
                                        "efficiency", NULL};

/* One link object; r: its two ranges, bandwidth then latency. */
static sft_status parse_link(const jx_ctx *c, const cJSON *j, const char *key, int required,
                             const jx_range *r, double *bw, double *lat)
{
    const cJSON *o;
    sft_status st = jx_obj(c, j, key, required ? JX_REQ : 0, &o);
    if (st || !o) return st;
    jx_ctx d = jx_child(c, key);
    double gbps = *bw / 1e9, us = *lat * 1e6;
    const char *notes = NULL;
    if ((st = jx_keys(&d, o, link_keys))) return st;
    if ((st = jx_str(&d, o, "notes", JX_TEXT, &notes))) return st;
    if ((st = jx_num_in(&d, o, "bandwidth_gbps", *bw > 0 ? 0 : JX_REQ, &r[0], &gbps))) return st;
    if ((st = jx_num_in(&d, o, "latency_us", 0, &r[1], &us))) return st;
    *bw = gbps * 1e9;
    *lat = us * 1e-6;
    return SFT_OK;
}

/* One link class's defaults; r: its two ranges, step latency then efficiency. */
static sft_status parse_class(const jx_ctx *c, const cJSON *j, const char *key, const jx_range *r,
                              double *alpha, double *eff)
{
    const cJSON *o;
    sft_status st = jx_obj(c, j, key, 0, &o);
    if (st || !o) return st;
    jx_ctx d = jx_child(c, key);
    double us = *alpha * 1e6;
    if ((st = jx_keys(&d, o, class_keys))) return st;
    if ((st = jx_num_in(&d, o, "step_latency_us", 0, &r[0], &us))) return st;
    if ((st = jx_num_in(&d, o, "efficiency", 0, &r[1], eff))) return st;
    *alpha = us * 1e-6;
    return SFT_OK;
}

static sft_status parse_rules(const jx_ctx *c, const cJSON *j, clu_desc *cl)
{
    const cJSON *arr;
    sft_status st = jx_arr(c, j, "rules", 0, &arr);
    if (st || !arr) return st;
    int i = 0;
    for (const cJSON *r = arr->child; r; r = r->next, i++) {
        jx_ctx d = jx_elem(c, "rules", i);
        if (i >= CLU_MAXRULES) return jx_fail(&d, NULL, "at most %d rules", CLU_MAXRULES);
        clu_rule *u = &cl->rules[i];
        const char *op = "any", *link = "any";
        double us = -1, eff = -1, maxb = 0;
        if ((st = jx_keys(&d, r, rule_keys))) return st;
        if ((st = jx_str(&d, r, "op", 0, &op))) return st;
        if ((st = jx_str(&d, r, "link", 0, &link))) return st;
        if ((st = jx_num_in(&d, r, "max_bytes", JX_REQ, &clu_range_table[R_RULE_MAXB], &maxb)))
            return st;
        if ((st = jx_num_in(&d, r, "step_latency_us", 0, &clu_range_table[R_RULE_ALPHA], &us)))
            return st;
        if ((st = jx_num_in(&d, r, "efficiency", 0, &clu_range_table[R_RULE_EFF], &eff))) return st;
        if (strcmp(op, "any") == 0)
            u->op = -1;
        else if ((u->op = coll_op_parse(op)) < 0)
            return jx_fail(&d, "op",
                           "unknown collective '%s' (valid: any, all_gather, reduce_scatter, "
                           "all_reduce, all_to_all, broadcast, sendrecv)",
                           op);
        if (strcmp(link, "any") == 0)
            u->link = -1;
        else if (strcmp(link, "nvlink") == 0)
            u->link = CLU_NVLINK;
        else if (strcmp(link, "net") == 0)
            u->link = CLU_NET;
        else
            return jx_fail(&d, "link", "unknown link class '%s' (valid: any, nvlink, net)", link);
        u->max_bytes = maxb;
        u->alpha_s = us >= 0 ? us * 1e-6 : -1;
        u->eff = eff;
        cl->nrules = i + 1;
    }
    return SFT_OK;
}

sft_status clu_parse(const char *text, const char *origin, clu_desc *cl, sft_err *e)
{
    cJSON *j = NULL;
    sft_status st = jx_parse(text, origin, &j, e);
    if (st) return st;
    memset(cl, 0, sizeof *cl);
    snprintf(cl->origin, sizeof cl->origin, "%s", origin);
    jx_ctx c = jx_root(origin, e);
    const char *notes = "";
    long nodes = 0, gpn = 0, npl = 32;
    const cJSON *g = NULL, *fab = NULL, *col = NULL;

    cl->oversub = 1.0;
    cl->fabric_lat = 1e-6;
    cl->alpha[CLU_NVLINK] = 1.5e-6;
    cl->alpha[CLU_NET] = 6e-6;
    cl->eff[CLU_NVLINK] = 0.8;
    cl->eff[CLU_NET] = 0.95;
    cl->comm_slowdown = 0.0;
    if ((st = jx_keys(&c, j, top_keys))) goto out;
    if ((st = jx_schema(&c, j, CLU_SCHEMA))) goto out;
    if ((st = jx_name(&c, j, "name", JX_REQ, cl->name, sizeof cl->name))) goto out;
    if ((st = jx_name(&c, j, "description", 0, cl->description, sizeof cl->description))) goto out;
    if ((st = jx_str(&c, j, "notes", JX_TEXT, &notes))) goto out;
    if ((st = jx_long_in(&c, j, "nodes", JX_REQ, &clu_range_table[R_NODES], &nodes))) goto out;
    if ((st = jx_long_in(&c, j, "gpus_per_node", JX_REQ, &clu_range_table[R_GPN], &gpn))) goto out;
    if (nodes * gpn > 131072) {
        st = jx_fail(&c, "nodes", "nodes x gpus_per_node must be at most 131072 (got %ld)",
                     nodes * gpn);
        goto out;
    }
    cl->nodes = (int)nodes;
    cl->gpus_per_node = (int)gpn;

    g = cJSON_GetObjectItemCaseSensitive(j, "gpu");
    if (!g) {
        st = jx_fail(&c, "gpu", "missing (required): a GPU name or an inline GPU object");
        goto out;
    } else if (cJSON_IsString(g)) {
        if ((st = jx_check_str(&c, "gpu", g->valuestring, 0))) goto out;
        st = hw_gpu_load(g->valuestring, &cl->gpu, e);
        if (st) {
            sft_err_prefix(e, "%s: field 'gpu'", origin);
            goto out;
        }
    } else if (cJSON_IsObject(g)) {
        if ((st = hw_gpu_parse(g, origin, "gpu", &cl->gpu, e))) goto out;
    } else {
        st = jx_fail(&c, "gpu", "expected a GPU name or an inline GPU object");
        goto out;
    }

    cl->nvl_bw = cl->gpu.nvlink_bw;
    cl->nvl_lat = 1e-6;
    if ((st =
             parse_link(&c, j, "nvlink", 0, &clu_range_table[R_NVL_BW], &cl->nvl_bw, &cl->nvl_lat)))
        goto out;
    if (!(cl->nvl_bw > 0)) {
        st = jx_fail(&c, "nvlink.bandwidth_gbps", "missing and the GPU gives no nvlink_gbps");
        goto out;
    }
    cl->nic_lat = 2e-6;
    if ((st = parse_link(&c, j, "nic", nodes > 1, &clu_range_table[R_NIC_BW], &cl->nic_bw,
                         &cl->nic_lat)))
        goto out;
    if (!(cl->nic_bw > 0)) cl->nic_bw = 50e9; /* one node: unused, NDR 400G default */

    if ((st = jx_obj(&c, j, "fabric", 0, &fab))) goto out;
    if (fab) {
        jx_ctx d = jx_child(&c, "fabric");
        double us = cl->fabric_lat * 1e6;
        if ((st = jx_keys(&d, fab, fabric_keys))) goto out;
        if ((st = jx_str(&d, fab, "notes", JX_TEXT, &notes))) goto out;
        if ((st = jx_long_in(&d, fab, "nodes_per_leaf", 0, &clu_range_table[R_NPL], &npl)))
            goto out;
        if ((st = jx_num_in(&d, fab, "oversubscription", 0, &clu_range_table[R_OVERSUB],
                            &cl->oversub)))
            goto out;
        if ((st = jx_num_in(&d, fab, "latency_us", 0, &clu_range_table[R_FAB_LAT], &us))) goto out;
        cl->fabric_lat = us * 1e-6;
    }
    cl->nodes_per_leaf = (int)npl;

    if ((st = jx_obj(&c, j, "collectives", 0, &col))) goto out;
    if (col) {
        jx_ctx d = jx_child(&c, "collectives");
        if ((st = jx_keys(&d, col, coll_keys))) goto out;
        if ((st = jx_str(&d, col, "notes", JX_TEXT, &notes))) goto out;
        if ((st = parse_class(&d, col, "nvlink", &clu_range_table[R_NVL_ALPHA],
                              &cl->alpha[CLU_NVLINK], &cl->eff[CLU_NVLINK])))
            goto out;
        if ((st = parse_class(&d, col, "net", &clu_range_table[R_NET_ALPHA], &cl->alpha[CLU_NET],
                              &cl->eff[CLU_NET])))
            goto out;
        if ((st = parse_rules(&d, col, cl))) goto out;
    }
    if ((st = jx_num_in(&c, j, "comm_compute_slowdown", 0, &clu_range_table[R_SLOWDOWN],
                        &cl->comm_slowdown)))
        goto out;
out:
    cJSON_Delete(j);
    return st;
}

/* clu_parse as sft_load_data's parser: ctx is the clu_desc it fills. */
static sft_status clu_parse_data(const char *text, const char *origin, void *ctx, sft_err *e)
{
    return clu_parse(text, origin, ctx, e);
}

sft_status clu_load(const char *name_or_file, clu_desc *out, sft_err *e)
{
    return sft_load_data("clusters", name_or_file, clu_parse_data, out, e);
}

sft_status clu_scale(clu_desc *c, long gpus, sft_err *e)
{
    if (gpus < 1) return sft_errf(e, SFT_EINPUT, "--gpus %ld: must be at least 1", gpus);
    if (gpus > 131072)
        return sft_errf(e, SFT_EINPUT, "--gpus %ld: at most 131072 GPUs are supported", gpus);
    if (gpus <= c->gpus_per_node) {
        c->nodes = 1;
        c->gpus_per_node = (int)gpus;
        return SFT_OK;
    }
    if (gpus % c->gpus_per_node != 0)
        return sft_errf(e, SFT_EINPUT,
                        "--gpus %ld: cluster %s has %d GPUs per node; give a multiple of %d "
                        "(whole nodes) or at most %d",
                        gpus, c->name, c->gpus_per_node, c->gpus_per_node, c->gpus_per_node);
    c->nodes = (int)(gpus / c->gpus_per_node);
    return SFT_OK;
}

void clu_coll_params(const clu_desc *c, int op, int link, double bytes, double *alpha, double *eff)
{
    *alpha = c->alpha[link];
    *eff = c->eff[link];
    for (int i = 0; i < c->nrules; i++) {
        const clu_rule *r = &c->rules[i];
        if ((r->op < 0 || r->op == op) && (r->link < 0 || r->link == link) &&
            bytes <= r->max_bytes) {
            if (r->alpha_s >= 0) *alpha = r->alpha_s;
            if (r->eff > 0) *eff = r->eff;
            return;
        }
    }
}

cJSON *clu_to_json(const clu_desc *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddNumberToObject(o, "nodes", c->nodes);
    cJSON_AddNumberToObject(o, "gpus_per_node", c->gpus_per_node);
    cJSON_AddStringToObject(o, "gpu", c->gpu.name);
    cJSON_AddNumberToObject(o, "nvlink_gbps", c->nvl_bw / 1e9);
    cJSON_AddNumberToObject(o, "nic_gbps", c->nic_bw / 1e9);
    cJSON_AddNumberToObject(o, "oversubscription", c->oversub);
    return o;
}
