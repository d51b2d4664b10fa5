/* scenario.c — scenario options, resolution and the simulation pipeline
 * (scenario.h). The only place where traces, schedulers, the program builder,
 * the engine and the reports meet. */
#include "lab/scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/scen_values.h"
#include "models/hw/hbm.h"
#include "models/sched/sched.h"
#include "traces/trace.h"

const scen_defaults scen_default = {
    .cluster = "h100x32", /* 4 nodes x 8 H100 */
    .model = "qwen2.5-7b",
    .policy = "deepspeed",
    .cp_impl = "allgather",
    .granularity = "op",
    .batch = 64,
    .steps = 4,
    .zero = 2,
    .seed = 0,
    .node_cp = 8,
    .bucket_of_model =
        13312, /* ARCHITECTURE.md, "Default scenario": the paper's BucketSize for Qwen2.5-7B, 13K */
    .host_overhead_ms = 2.0,
    .opt_time_limit_s = 10.0,
    .baseline = "deepspeed",
    .cp_exchange = "fused", /* par.h: what the public varlen CP code does */
    .attn_call = "varlen",
    /* PyTorch eager, one op with autograd: 6.8 s for 10^6 calls of y = 2*x
     * on a requires_grad tensor, 6.8 us per op ("Large overhead (7
     * microseconds) for PyTorch operation", pytorch/pytorch issue 41383; a
     * maintainer there puts the bare dispatch of x*x at about 2 us, half of
     * it Python). A training kernel's call (nn.Linear, flash-attn's
     * autograd.Function) does at least that much host work per launch. */
    .dispatch_us = 6.8,
};

static const char *const opt_names[SO_NOPTS] = {"cluster",
                                                "gpus",
                                                "model",
                                                "dataset",
                                                "trace",
                                                "policy",
                                                "dp",
                                                "cp",
                                                "batch",
                                                "bucket",
                                                "steps",
                                                "seed",
                                                "cp-impl",
                                                "zero",
                                                "ds-pack",
                                                "granularity",
                                                "max-len",
                                                "calibration",
                                                "host-overhead-ms",
                                                "rollback",
                                                "cp-exchange",
                                                "attn-call",
                                                "grad-coll",
                                                "grad-dtype",
                                                "overlap-comm",
                                                "dispatch-us"};

const char *scen_opt_name(int i)
{
    return i >= 0 && i < SO_NOPTS ? opt_names[i] : "?";
}

int scen_opt_find(const char *name)
{
    for (int i = 0; i < SO_NOPTS; i++)
        if (strcmp(opt_names[i], name) == 0) return i;
    return -1;
}

void scen_help(void)
{
    const scen_defaults *d = &scen_default;
    printf("scenario options (defaults: the Skrull paper's setting):\n"
           "  --cluster NAME|FILE   cluster preset or JSON (%s: 4 nodes x 8 H100)\n"
           "  --gpus N              scale the cluster to N GPUs in whole nodes\n"
           "  --model NAME|FILE     architecture (%s; sftsim list models)\n"
           "  --dataset NAME|FILE   length distribution to sample (%s)\n"
           "  --trace FILE          replay a trace instead (JSONL, or lengths / records)\n"
           "  --policy NAME         scheduling policy (%s; sftsim list policies)\n"
           "  --dp N, --cp N        data- and context-parallel degrees, dp x cp = GPUs (4 x %ld)\n"
           "  --batch K             sequences per DP rank per step (%ld)\n"
           "  --bucket T            tokens per GPU a micro-batch may hold (default: %ld for\n"
           "                        the default model, as in the paper; else the memory model's)\n"
           "  --steps N|auto[:CAP]  steps to simulate (%ld; with --trace: all its batches); auto:\n"
           "                        rounds from %d steps until every compared policy's mean\n"
           "                        step time has a standard error below %.0f%% of it, at most\n"
           "                        CAP steps (%d)\n"
           "  --seed S              trace generator seed (%ld)\n"
           "  --cp-impl I           %s (K/V all-gather, default), ulysses, ring\n"
           "  --zero Z              ZeRO stage 0..3 (%ld)\n"
           "  --ds-pack on|off      deepspeed baseline: pack micro-batches in trace order up to\n"
           "                        bucket x CP tokens (on), or one sequence per micro-batch\n"
           "                        (off, micro-batch size 1 as many long-context recipes run)\n"
           "  --granularity G       op (every kernel in the timeline) or layer (merged, faster)\n"
           "  --max-len T           clip longer samples to T tokens (bucket x CP); counted\n"
           "  --calibration FILE    kernel calibration table (the GPU's measured, else seed)\n"
           "  --host-overhead-ms X  framework and data-loading time per micro-batch (%.1f)\n"
           "  --rollback on|off     DACP roll-back on memory violation (on)\n"
           "  --cp-exchange X       CP traffic of a packed micro-batch: %s (one exchange per\n"
           "                        layer for all distributed sequences) or per-seq (one each)\n"
           "  --attn-call X         attention kernels: %s (one call over the packed sequences)\n"
           "                        or per-seq (one kernel, one launch per sequence)\n"
           "  --grad-coll C         gradient bucket reduction of ZeRO-1/2: allreduce or\n"
           "                        reducescatter (auto: allreduce, DeepSpeed's default;\n"
           "                        ZeRO-0 always all-reduces, ZeRO-3 always reduce-scatters)\n"
           "  --grad-dtype D        gradient communication dtype: fp32 or bf16 (auto: fp32\n"
           "                        when --cp > 1, as DeepSpeed with sequence parallelism,\n"
           "                        else bf16)\n"
           "  --overlap-comm on|off gradient reductions under the backward (on) or waited\n"
           "                        for by it (off) (auto: DeepSpeed's default, off for\n"
           "                        ZeRO 0-2, on for ZeRO-3)\n"
           "  --dispatch-us X       host time to issue one kernel or collective (%.1f, PyTorch\n"
           "                        eager); the GPU waits when its kernels are shorter; 0 = off\n"
           "  --strict              an OOM is an error (exit 3) instead of a reported result\n"
           "  --out DIR             write the reports there\n"
           "  --format F            text (default) or json\n",
           d->cluster, d->model, TRACE_DEFAULT_DATASET, d->policy, d->node_cp, d->batch,
           d->bucket_of_model, d->steps, SCEN_AUTO_FIRST, 100 * SCEN_AUTO_REL_SE, SCEN_AUTO_CAP,
           d->seed, d->cp_impl, d->zero, d->host_overhead_ms, d->cp_exchange, d->attn_call,
           d->dispatch_us);
}

sft_status scen_parse_format(const char *v, int allow_csv, scen_format *out, sft_err *e)
{
    if (strcmp(v, "text") == 0)
        *out = SCEN_TEXT;
    else if (strcmp(v, "json") == 0)
        *out = SCEN_JSON;
    else if (allow_csv && strcmp(v, "csv") == 0)
        *out = SCEN_CSV;
    else
        return sft_errf(e, SFT_EINPUT, "--format %s: valid formats are text, json%s", v,
                        allow_csv ? ", csv" : "");
    return SFT_OK;
}

sft_status scen_parse(int argc, char **argv, const char *cmd, scen_opts *o, const scen_extra *extra,
                      void *ctx, void (*help)(void), sft_err *e)
{
    enum { X_OUT = SO_NOPTS, X_FORMAT, X_STRICT, X_HELP, X_EXTRA };
    int nextra = 0;
    while (extra && extra[nextra].name) nextra++;
    struct option *opts = sft_xmalloc((size_t)(SO_NOPTS + 4 + nextra + 1) * sizeof *opts);
    int k = 0;
    for (int i = 0; i < SO_NOPTS; i++) opts[k++] = (struct option){opt_names[i], 1, 0, i};
    opts[k++] = (struct option){"out", 1, 0, X_OUT};
    opts[k++] = (struct option){"format", 1, 0, X_FORMAT};
    opts[k++] = (struct option){"strict", 0, 0, X_STRICT};
    opts[k++] = (struct option){"help", 0, 0, X_HELP};
    for (int i = 0; i < nextra; i++)
        opts[k++] = (struct option){extra[i].name, extra[i].has_arg, 0, X_EXTRA + i};
    opts[k] = (struct option){0, 0, 0, 0};
    memset(o, 0, sizeof *o);
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    int ch;
    sft_status rc = SFT_OK;
    while (!rc && !o->helped && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch >= 0 && ch < SO_NOPTS) {
            o->v[ch] = optarg;
        } else if (ch == X_OUT) {
            o->out = optarg;
        } else if (ch == X_FORMAT) {
            rc = scen_parse_format(optarg, 0, &o->fmt, e);
        } else if (ch == X_STRICT) {
            o->strict = 1;
        } else if (ch == X_HELP) {
            help();
            o->helped = 1;
        } else if (ch >= X_EXTRA && ch < X_EXTRA + nextra) {
            rc = extra[ch - X_EXTRA].fn(ctx, optarg, e);
        } else {
            rc = sft_errf(e, SFT_EINPUT, "unknown or incomplete option '%s' (see sftsim %s --help)",
                          argv[optind - 1], cmd);
        }
    }
    free(opts);
    if (!rc && !o->helped && optind < argc)
        rc = sft_errf(e, SFT_EINPUT, "unexpected argument '%s' (see sftsim %s --help)",
                      argv[optind], cmd);
    return rc;
}

static sft_status num(const scen_opts *o, int i, long lo, long hi, long dflt, long *out, sft_err *e)
{
    if (!o->v[i]) {
        *out = dflt;
        return SFT_OK;
    }
    if (sft_parse_long(o->v[i], lo, hi, out) != 0)
        return sft_errf(e, SFT_EINPUT, "--%s %s: expected an integer in [%ld, %ld]", opt_names[i],
                        o->v[i], lo, hi);
    return SFT_OK;
}

/* An option whose bounds or keywords are the table's (scen_values.h). */
static sft_status checked(const scen_opts *o, int i, sft_err *e)
{
    char why[256];
    if (o->v[i] && scen_value_bad(opt_names[i], o->v[i], why, sizeof why))
        return sft_errf(e, SFT_EINPUT, "--%s %s: %s", opt_names[i], o->v[i], why);
    return SFT_OK;
}

/* num() within the table's bounds. */
static sft_status tnum(const scen_opts *o, int i, long dflt, long *out, sft_err *e)
{
    const scen_value_rule *r = scen_value_rule_of(opt_names[i]);
    SFT_CHECK(r && r->kind == SV_INT, "scenario: --%s has no integer rule", opt_names[i]);
    return num(o, i, (long)r->lo, (long)r->hi, dflt, out, e);
}

/* --cluster, --gpus, --dp and --cp: the cluster and the layout's degrees. */
static sft_status resolve_layout(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st;
    long v;
    if ((st = clu_load(o->v[SO_CLUSTER] ? o->v[SO_CLUSTER] : scen_default.cluster, &s->cl, e)))
        return st;
    if (o->v[SO_GPUS]) {
        if ((st = tnum(o, SO_GPUS, 0, &v, e))) return st;
        if ((st = clu_scale(&s->cl, v, e))) return st;
    }
    long N = clu_ngpus(&s->cl), dp, cp;
    if ((st = num(o, SO_DP, 1, N, 0, &dp, e)) ||
        (st = num(o, SO_CP, 1, N < 64 ? N : 64, 0, &cp, e)))
        return st;
    /* a degree not given follows from the other: cp defaults to a node's 8 */
    if (!dp && !cp) {
        cp = N < scen_default.node_cp ? N : scen_default.node_cp;
        if (N % cp)
            return sft_errf(e, SFT_EINPUT,
                            "cluster %s has %ld GPUs, not a multiple of the default --cp %ld: "
                            "give --cp (and --dp)",
                            s->cl.name, N, cp);
        dp = N / cp;
    } else if (!cp) {
        if (N % dp || N / dp > 64)
            return sft_errf(e, SFT_EINPUT,
                            "--dp %ld: the %ld GPUs of cluster %s are --dp x --cp; choose a "
                            "divisor of %ld for --dp that leaves --cp = %ld / --dp in [1, 64] "
                            "(or set --gpus)",
                            dp, N, s->cl.name, N, N);
        cp = N / dp;
    } else if (!dp) {
        if (N % cp)
            return sft_errf(e, SFT_EINPUT,
                            "--cp %ld does not divide the %ld GPUs of cluster %s: choose a "
                            "divisor of %ld (or set --gpus)",
                            cp, N, s->cl.name, N);
        dp = N / cp;
    }
    if (dp * cp != N)
        return sft_errf(e, SFT_EINPUT,
                        "--dp %ld x --cp %ld = %ld GPUs, but cluster %s has %ld: choose degrees "
                        "whose product is the GPU count (or set --gpus)",
                        dp, cp, dp * cp, s->cl.name, N);
    s->par.dp = (int)dp;
    s->par.cp = (int)cp;
    return SFT_OK;
}

/* --batch, --steps, --zero and --seed. */
static sft_status resolve_counts(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st;
    long v, sd;
    const scen_defaults *d = &scen_default;
    long cap = 0;
    if ((st = tnum(o, SO_BATCH, d->batch, &s->batch, e)) || (st = checked(o, SO_STEPS, e)))
        return st;
    if (o->v[SO_STEPS] && scen_steps_auto(o->v[SO_STEPS], &cap) == 1) {
        s->steps_cap = cap;
        s->steps = cap < SCEN_AUTO_FIRST ? cap : SCEN_AUTO_FIRST;
    } else if ((st = num(o, SO_STEPS, o->v[SO_TRACE] ? 0 : 1, /* 0 (all batches): a trace's */
                         (long)scen_value_rule_of("steps")->hi, o->v[SO_TRACE] ? 0 : d->steps,
                         &s->steps, e))) {
        return st;
    }
    if ((st = tnum(o, SO_ZERO, d->zero, &v, e))) return st;
    s->par.zero = (int)v;
    if (s->batch * s->par.dp > 1000000)
        return sft_errf(e, SFT_EINPUT, "--batch %ld x --dp %d: at most 1000000 samples per step",
                        s->batch, s->par.dp);
    if ((st = tnum(o, SO_SEED, d->seed, &sd, e))) return st;
    s->seed = (unsigned long long)sd;
    return SFT_OK;
}

/* --bucket and --max-len: the static memory must fit before a token does. */
static sft_status resolve_memory(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st;
    const hw_gpu *g = &s->cl.gpu;
    s->bucket_memory = s->fam->bucket_tokens(s->model, g, &s->par);
    /* whatever the bucket: parameters, gradients and optimizer states must
     * fit before a single token does (exit 3, README) */
    if ((st = s->fam->check_static(s->model, g, &s->par, e))) return st;
    if (o->v[SO_BUCKET]) {
        if ((st = tnum(o, SO_BUCKET, 0, &s->bucket, e))) return st;
    } else if (!o->v[SO_MODEL]) {
        s->bucket = scen_default.bucket_of_model;
    } else {
        s->bucket = s->bucket_memory;
        s->bucket_from_memory = 1;
        if ((st = s->fam->check_bucket(s->model, g, &s->par, s->bucket, e))) return st;
    }
    return tnum(o, SO_MAX_LEN, s->bucket * s->par.cp, &s->max_len, e);
}

/* The option's value, "auto" when not given. */
static const char *word_or_auto(const scen_opts *o, int i)
{
    return o->v[i] ? o->v[i] : "auto";
}

/* --grad-coll, --grad-dtype and --overlap-comm (after --zero and --cp):
 * auto is what DeepSpeed v0.16.5 does (runtime/zero/stage_1_and_2.py,
 * runtime/engine.py). */
static sft_status resolve_grad(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st;
    if ((st = checked(o, SO_GRAD_COLL, e)) || (st = checked(o, SO_GRAD_DTYPE, e)) ||
        (st = checked(o, SO_OVERLAP_COMM, e)))
        return st;
    int z = s->par.zero;
    const char *gc = word_or_auto(o, SO_GRAD_COLL);
    /* stage_1_and_2.py: reduce_scatter=True and use_multi_rank_bucket_allreduce
     * =True by default, so average_tensor all-reduces each bucket */
    s->par.grad_coll =
        strcmp(gc, "reducescatter") == 0 ? PAR_GRAD_REDUCESCATTER : PAR_GRAD_ALLREDUCE;
    if (z == 0 && strcmp(gc, "reducescatter") == 0)
        return sft_errf(e, SFT_EINPUT,
                        "--grad-coll reducescatter: ZeRO-0 keeps every gradient on every GPU, so "
                        "it all-reduces; valid with --zero 0: auto, allreduce");
    if (z == 3) {
        if (strcmp(gc, "allreduce") == 0)
            return sft_errf(e, SFT_EINPUT,
                            "--grad-coll allreduce: ZeRO-3 reduce-scatters its gradients; valid "
                            "with --zero 3: auto, reducescatter");
        s->par.grad_coll = PAR_GRAD_REDUCESCATTER;
    }
    /* ZeRO-1/2 (stage_1_and_2.py allreduce_bucket): torch.float32 when
     * sequence_parallel_size > 1, else the model's dtype (bf16); the engine
     * (ZeRO-0) likewise: seq_parallel_communication_data_type, default
     * "fp32" (constants.py), when sequence_parallel_size > 1 */
    const char *gd = word_or_auto(o, SO_GRAD_DTYPE);
    s->par.grad_fp32 = strcmp(gd, "auto") == 0 ? s->par.cp > 1 : strcmp(gd, "fp32") == 0;
    /* overlap_comm defaults to True for ZeRO-3 only (runtime/zero/config.py,
     * overlap_comm_valid) */
    const char *ov = word_or_auto(o, SO_OVERLAP_COMM);
    s->par.overlap_comm = strcmp(ov, "auto") == 0 ? z == 3 : strcmp(ov, "on") == 0;
    return SFT_OK;
}

/* The keyword and real-valued options, then the policy and the data. */
static sft_status resolve_options(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st;
    const scen_defaults *d = &scen_default;
    if ((st = checked(o, SO_CP_IMPL, e)) || (st = checked(o, SO_GRANULARITY, e)) ||
        (st = checked(o, SO_DS_PACK, e)) || (st = checked(o, SO_ROLLBACK, e)) ||
        (st = checked(o, SO_HOST_OVERHEAD, e)) || (st = checked(o, SO_CP_EXCHANGE, e)) ||
        (st = checked(o, SO_ATTN_CALL, e)) || (st = resolve_grad(o, s, e)) ||
        (st = checked(o, SO_DISPATCH, e)))
        return st;
    const char *xchg = o->v[SO_CP_EXCHANGE] ? o->v[SO_CP_EXCHANGE] : d->cp_exchange;
    s->par.cp_exchange = strcmp(xchg, "per-seq") == 0 ? PAR_XCHG_PERSEQ : PAR_XCHG_FUSED;
    const char *call = o->v[SO_ATTN_CALL] ? o->v[SO_ATTN_CALL] : d->attn_call;
    s->par.attn_call = strcmp(call, "per-seq") == 0 ? PAR_ATTN_PERSEQ : PAR_ATTN_VARLEN;
    const char *impl = o->v[SO_CP_IMPL] ? o->v[SO_CP_IMPL] : d->cp_impl;
    s->par.cp_impl = strcmp(impl, "ulysses") == 0 ? PAR_ULYSSES
                     : strcmp(impl, "ring") == 0  ? PAR_RING
                                                  : PAR_ALLGATHER;
    if ((st = s->fam->check_parallel(s->model, &s->par, e))) return st;
    const char *gran = o->v[SO_GRANULARITY] ? o->v[SO_GRANULARITY] : d->granularity;
    s->layer_granularity = strcmp(gran, "layer") == 0;
    s->ds_pack = !o->v[SO_DS_PACK] || strcmp(o->v[SO_DS_PACK], "on") == 0;
    s->rollback = !o->v[SO_ROLLBACK] || strcmp(o->v[SO_ROLLBACK], "on") == 0;
    double ho = d->host_overhead_ms; /* checked above */
    if (o->v[SO_HOST_OVERHEAD]) sft_parse_double(o->v[SO_HOST_OVERHEAD], &ho);
    s->par.host_overhead_s = ho * 1e-3;
    double du = d->dispatch_us; /* checked above */
    if (o->v[SO_DISPATCH]) sft_parse_double(o->v[SO_DISPATCH], &du);
    s->par.dispatch_s = du * 1e-6;
    s->opt_time_limit_s = d->opt_time_limit_s;
    if ((st = scen_policy(s, o->v[SO_POLICY] ? o->v[SO_POLICY] : d->policy, &s->policy, e)))
        return st;
    if (o->v[SO_DATASET] && o->v[SO_TRACE])
        return sft_errf(e, SFT_EINPUT, "--dataset and --trace: give one or the other");
    s->dataset = o->v[SO_DATASET];
    s->trace = o->v[SO_TRACE];
    return SFT_OK;
}

sft_status scen_resolve(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st;
    memset(s, 0, sizeof *s);
    if ((st = resolve_layout(o, s, e))) return st;
    if ((st = wl_load(o->v[SO_MODEL] ? o->v[SO_MODEL] : scen_default.model, &s->model, e)))
        return st;
    s->fam = s->model->fam;
    if ((st = cost_create(&s->cl.gpu, o->v[SO_CALIBRATION], &s->c, e)) ||
        (st = resolve_counts(o, s, e)) || (st = resolve_memory(o, s, e)) ||
        (st = resolve_options(o, s, e))) {
        scen_release(s);
        return st;
    }
    return SFT_OK;
}

sft_status scen_prepare(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st = scen_resolve(o, s, e);
    if (!st && o->out && (st = sft_outdir_prepare("--out", o->out, e))) scen_release(s);
    return st;
}

void scen_release(scenario *s)
{
    cost_destroy(s->c);
    wl_model_destroy(s->model);
    s->c = NULL;
    s->model = NULL;
}

est *scen_estimator(const scenario *s)
{
    return s->fam->estimator(s->model, s->c, &s->cl, &s->par, s->bucket);
}

const char *scen_model_name(const scenario *s)
{
    return s->fam->model_name(s->model);
}

sft_status scen_policy(const scenario *s, const char *name, const sched_policy **out, sft_err *e)
{
    return wl_policy(s->fam, name, out, e);
}

cJSON *scen_json(const scenario *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "cluster", clu_to_json(&s->cl));
    cJSON_AddNumberToObject(j, "gpus", clu_ngpus(&s->cl));
    cJSON_AddStringToObject(j, "model", scen_model_name(s));
    cJSON_AddStringToObject(j, "dataset",
                            s->trace     ? ""
                            : s->dataset ? s->dataset
                                         : TRACE_DEFAULT_DATASET);
    if (s->trace) cJSON_AddStringToObject(j, "trace", s->trace);
    cJSON_AddNumberToObject(j, "dp", s->par.dp);
    cJSON_AddNumberToObject(j, "cp", s->par.cp);
    cJSON_AddNumberToObject(j, "batch", (double)s->batch);
    cJSON_AddNumberToObject(j, "bucket", (double)s->bucket);
    cJSON_AddNumberToObject(j, "bucket_memory_model", (double)s->bucket_memory);
    cJSON_AddNumberToObject(j, "steps", (double)s->steps);
    if (s->steps_cap) cJSON_AddNumberToObject(j, "steps_auto_cap", (double)s->steps_cap);
    cJSON_AddNumberToObject(j, "seed", (double)s->seed);
    cJSON_AddNumberToObject(j, "max_len", (double)s->max_len);
    cJSON_AddStringToObject(j, "cp_impl", par_cp_impl_name(s->par.cp_impl));
    cJSON_AddNumberToObject(j, "zero", s->par.zero);
    cJSON_AddStringToObject(j, "grad_coll", par_grad_coll_name(s->par.grad_coll));
    cJSON_AddStringToObject(j, "grad_dtype", s->par.grad_fp32 ? "fp32" : "bf16");
    cJSON_AddBoolToObject(j, "overlap_comm", s->par.overlap_comm);
    cJSON_AddBoolToObject(j, "ds_pack", s->ds_pack);
    cJSON_AddStringToObject(j, "granularity", s->layer_granularity ? "layer" : "op");
    cJSON_AddStringToObject(j, "calibration", cost_calibration(s->c));
    cJSON_AddNumberToObject(j, "host_overhead_ms", s->par.host_overhead_s * 1e3);
    cJSON_AddBoolToObject(j, "rollback", s->rollback);
    cJSON_AddStringToObject(j, "cp_exchange", par_cp_exchange_name(s->par.cp_exchange));
    cJSON_AddStringToObject(j, "attn_call", par_attn_call_name(s->par.attn_call));
    cJSON_AddNumberToObject(j, "dispatch_us", s->par.dispatch_s * 1e6);
    return j;
}

void scen_result_destroy(scen_result *r)
{
    if (!r) return;
    rep_run_destroy(r->run);
    for (int i = 0; i < r->nplans; i++) plan_destroy(r->plans[i]);
    free(r->plans);
    prog_destroy(r->prog);
    eng_result_destroy(r->eng);
    free(r);
}

/* Steps of the scenario's trace, scheduled; build != NULL also builds them. */
static sft_status schedule_steps(const scenario *s, const sched_policy *policy, wl_builder *build,
                                 scen_result *r, int **rounds, sft_err *e)
{
    trace_src *src = NULL;
    int cp = s->par.cp;
    sft_status st =
        trace_src_open(s->dataset, s->trace, s->steps, s->batch * s->par.dp, s->seed, &src, e);
    if (st) return st;
    est *es = scen_estimator(s);
    sched_in in = sched_input(&s->par, s->bucket, es);
    in.ds_pack = s->ds_pack;
    in.rollback = s->rollback;
    in.time_limit_s = s->opt_time_limit_s;
    trace_sample *buf = NULL;
    size_t cap = 0;
    for (int step = 0;; step++) {
        trace_batch b;
        int eof = 0;
        if ((st = trace_src_next(src, &b, &eof, e)) || eof) break;
        SFT_GROW(buf, cap, b.n);
        for (size_t i = 0; i < b.n; i++) {
            buf[i] = b.s[i];
            if (buf[i].len > s->max_len) {
                buf[i].len = s->max_len;
                r->clipped++;
            }
            if ((double)buf[i].len > (double)s->bucket * cp) {
                st = sft_errf(e, SFT_EINFEASIBLE,
                              "step %d: sample %lld has %lld tokens, more than a CP group of %d "
                              "GPUs holds (%ld tokens = bucket %ld x %d); lower --max-len or "
                              "raise --bucket / --cp",
                              step, (long long)buf[i].id, (long long)buf[i].len, cp, s->bucket * cp,
                              s->bucket, cp);
                break;
            }
        }
        if (st) break;
        r->samples += (long)b.n;
        plan *pl = NULL;
        double t0 = sft_wall();
        if ((st = sched_run(policy, &in, buf, b.n, &pl, e))) break;
        r->sched_s += sft_wall() - t0;
        r->plans = sft_xrealloc(r->plans, (size_t)(r->nplans + 1) * sizeof *r->plans);
        r->plans[r->nplans++] = pl;
        *rounds = sft_xrealloc(*rounds, (size_t)r->nplans * sizeof **rounds);
        (*rounds)[r->nplans - 1] = plan_max_mbs(pl);
        if (build) {
            t0 = sft_wall();
            st = s->fam->build_step(build, pl, step, e);
            r->build_s += sft_wall() - t0;
            if (st) break;
        }
    }
    free(buf);
    est_destroy(es);
    trace_src_destroy(src);
    if (!st && r->nplans == 0) st = sft_errf(e, SFT_EINPUT, "the trace has no batch to simulate");
    return st;
}

sft_status scen_schedule(const scenario *s, const sched_policy *policy, scen_result **out,
                         sft_err *e)
{
    scen_result *r = sft_xcalloc(1, sizeof *r);
    int *rounds = NULL;
    sft_status st = schedule_steps(s, policy, NULL, r, &rounds, e);
    free(rounds);
    if (st) {
        scen_result_destroy(r);
        return st;
    }
    *out = r;
    return SFT_OK;
}

sft_status scen_simulate(const scenario *s, const sched_policy *policy, int keep_prog,
                         scen_result **out, sft_err *e)
{
    scen_result *r = sft_xcalloc(1, sizeof *r);
    int N = clu_ngpus(&s->cl);
    prog *p = prog_create(N);
    wl_builder *b =
        s->fam->builder_create(p, s->model, s->c, &s->cl, &s->par, s->layer_granularity);
    int *rounds = NULL;
    eng_result *er = NULL;
    sft_status st = schedule_steps(s, policy, b, r, &rounds, e);
    s->fam->builder_destroy(b);
    if (!st) st = eng_run(&s->cl, p, &er, e);
    if (!st) {
        rep_inputs in = {s->cl.gpu.peak_flops, hw_usable_bytes(&s->cl.gpu), s->cl.gpu.launch_s,
                         rounds, s->fam->grad_cat};
        r->run = rep_run_create(p, er, &in);
    }
    free(rounds);
    if (!st && keep_prog) {
        r->prog = p;
        r->eng = er;
    } else {
        prog_destroy(p);
        eng_result_destroy(er);
    }
    if (st) {
        scen_result_destroy(r);
        return st;
    }
    *out = r;
    return SFT_OK;
}

long scen_auto_next(const scenario *s, scen_result *const *res, int n)
{
    if (!s->steps_cap || s->steps >= s->steps_cap) return 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        if (!res[i]) continue;
        if (res[i]->nplans < s->steps) return 0; /* the trace has no more batches */
        const rep_run *R = res[i]->run;
        if (R->mean_step_s <= 0) continue;
        double rel = R->mean_step_se_s / R->mean_step_s;
        if (rel > worst) worst = rel;
    }
    if (worst < SCEN_AUTO_REL_SE) return 0;
    double f = worst / SCEN_AUTO_REL_SE, want = (double)s->steps * f * f;
    long next = want >= (double)s->steps_cap ? s->steps_cap : (long)ceil(want);
    next = (next + SCEN_AUTO_FIRST - 1) / SCEN_AUTO_FIRST * SCEN_AUTO_FIRST;
    if (next <= s->steps) next = s->steps + SCEN_AUTO_FIRST;
    return next < s->steps_cap ? next : s->steps_cap;
}

sft_status scen_simulate_set(scenario *s, const char *const *policies, int n, int keep_prog,
                             int stop_on_error, const char *progress, scen_result **res,
                             sft_err *errs)
{
    for (;;) {
        sft_status first = SFT_OK;
        for (int i = 0; i < n; i++) res[i] = NULL;
        for (int i = 0; i < n; i++) {
            sft_err_clear(&errs[i]);
            if (progress)
                fprintf(stderr, "%s: %s (%d/%d), %ld step(s)...\n", progress, policies[i], i + 1, n,
                        s->steps);
            const sched_policy *sp = NULL;
            sft_status st = scen_policy(s, policies[i], &sp, &errs[i]);
            if (!st) st = scen_simulate(s, sp, keep_prog, &res[i], &errs[i]);
            if (!st) continue;
            errs[i].status = st;
            if (!first) first = st;
            if (stop_on_error) {
                for (int k = 0; k < n; k++) scen_result_destroy(res[k]);
                for (int k = 0; k < n; k++) res[k] = NULL;
                return st;
            }
        }
        long next = scen_auto_next(s, res, n);
        if (!next) {
            /* a trace that ran out: the count is what every policy ran */
            for (int i = 0; i < n && s->steps_cap; i++)
                if (res[i] && res[i]->nplans < s->steps) s->steps = res[i]->nplans;
            return first;
        }
        for (int i = 0; i < n; i++) scen_result_destroy(res[i]);
        s->steps = next;
    }
}
