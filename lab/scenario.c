/* scenario.c — scenario options, resolution and the simulation pipeline
 * (scenario.h). The only place where traces, schedulers, the program builder,
 * the engine and the reports meet. */
#include "lab/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/llm/memory.h"
#include "models/sched/sched.h"
#include "lab/scen_values.h"
#include "sim/engine.h"
#include "traces/trace.h"

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
                                                "rollback"};

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
    printf("scenario options (defaults: the Skrull paper's setting):\n"
           "  --cluster NAME|FILE   cluster preset or JSON (h100x32: 4 nodes x 8 H100)\n"
           "  --gpus N              scale the cluster to N GPUs in whole nodes\n"
           "  --model NAME|FILE     architecture (qwen2.5-7b; sftsim list models)\n"
           "  --dataset NAME|FILE   length distribution to sample (lmsyschat1m)\n"
           "  --trace FILE          replay a trace instead (JSONL, or lengths / records)\n"
           "  --policy NAME         scheduling policy (deepspeed; sftsim list policies)\n"
           "  --dp N, --cp N        data- and context-parallel degrees, dp x cp = GPUs (4 x 8)\n"
           "  --batch K             sequences per DP rank per step (64)\n"
           "  --bucket T            tokens per GPU a micro-batch may hold (default: 13312 for\n"
           "                        the default model, as in the paper; else the memory model's)\n"
           "  --steps N             steps to simulate (4; with --trace: all its batches)\n"
           "  --seed S              trace generator seed (0)\n"
           "  --cp-impl I           allgather (K/V all-gather, default), ulysses, ring\n"
           "  --zero Z              ZeRO stage 0..3 (2)\n"
           "  --ds-pack on|off      deepspeed baseline: pack micro-batches in trace order up to\n"
           "                        bucket x CP tokens (on), or one sequence per micro-batch\n"
           "                        (off, micro-batch size 1 as many long-context recipes run)\n"
           "  --granularity G       op (every kernel in the timeline) or layer (merged, faster)\n"
           "  --max-len T           clip longer samples to T tokens (bucket x CP); counted\n"
           "  --calibration FILE    kernel calibration table (the GPU's measured, else seed)\n"
           "  --host-overhead-ms X  framework and data-loading time per micro-batch (2.0)\n"
           "  --rollback on|off     DACP roll-back on memory violation (on)\n"
           "  --strict              an OOM is an error (exit 3) instead of a reported result\n"
           "  --out DIR             write the reports there\n"
           "  --format F            text (default) or json\n");
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

int scen_parse(int argc, char **argv, const char *cmd, scen_opts *o, const scen_extra *extra,
               void *ctx, void (*help)(void), sft_err *e)
{
    enum { X_OUT = SO_NOPTS, X_FORMAT, X_STRICT, X_HELP, X_EXTRA };
    struct option opts[SO_NOPTS + 4 + 16 + 1];
    int k = 0;
    for (int i = 0; i < SO_NOPTS; i++) opts[k++] = (struct option){opt_names[i], 1, 0, i};
    opts[k++] = (struct option){"out", 1, 0, X_OUT};
    opts[k++] = (struct option){"format", 1, 0, X_FORMAT};
    opts[k++] = (struct option){"strict", 0, 0, X_STRICT};
    opts[k++] = (struct option){"help", 0, 0, X_HELP};
    int nextra = 0;
    for (; extra && extra[nextra].name && nextra < 16; nextra++)
        opts[k++] = (struct option){extra[nextra].name, extra[nextra].has_arg, 0, X_EXTRA + nextra};
    opts[k] = (struct option){0, 0, 0, 0};
    memset(o, 0, sizeof *o);
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch >= 0 && ch < SO_NOPTS) {
            o->v[ch] = optarg;
        } else if (ch == X_OUT) {
            o->out = optarg;
        } else if (ch == X_FORMAT) {
            sft_status st = scen_parse_format(optarg, 0, &o->fmt, e);
            if (st) return st;
        } else if (ch == X_STRICT) {
            o->strict = 1;
        } else if (ch == X_HELP) {
            help();
            return -1;
        } else if (ch >= X_EXTRA && ch < X_EXTRA + nextra) {
            int st = extra[ch - X_EXTRA].fn(ctx, optarg, e);
            if (st) return st;
        } else {
            return sft_errf(e, SFT_EINPUT,
                            "unknown or incomplete option '%s' (see sftsim %s --help)",
                            argv[optind - 1], cmd);
        }
    }
    if (optind < argc)
        return sft_errf(e, SFT_EINPUT, "unexpected argument '%s' (see sftsim %s --help)",
                        argv[optind], cmd);
    return SFT_OK;
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

sft_status scen_resolve(const scen_opts *o, scenario *s, sft_err *e)
{
    sft_status st;
    long v;
    memset(s, 0, sizeof *s);
    if ((st = clu_load(o->v[SO_CLUSTER] ? o->v[SO_CLUSTER] : "h100x32", &s->cl, e))) return st;
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
        cp = N < 8 ? N : 8;
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
    s->dp = (int)dp;
    s->cp = (int)cp;
    if ((st = arch_load(o->v[SO_MODEL] ? o->v[SO_MODEL] : "qwen2.5-7b", &s->a, e))) return st;
    if ((st = cost_create(&s->cl.gpu, o->v[SO_CALIBRATION], &s->c, e))) return st;
    if ((st = tnum(o, SO_BATCH, 64, &s->batch, e)) || (st = checked(o, SO_STEPS, e)) ||
        /* 0 (all of its batches) only with a trace */
        (st = num(o, SO_STEPS, o->v[SO_TRACE] ? 0 : 1, (long)scen_value_rule_of("steps")->hi,
                  o->v[SO_TRACE] ? 0 : 4, &s->steps, e)) ||
        (st = tnum(o, SO_ZERO, 2, &v, e)))
        goto fail;
    s->bo.zero = (int)v;
    if (s->batch * s->dp > 1000000) {
        st = sft_errf(e, SFT_EINPUT, "--batch %ld x --dp %d: at most 1000000 samples per step",
                      s->batch, s->dp);
        goto fail;
    }
    long sd;
    if ((st = tnum(o, SO_SEED, 0, &sd, e))) goto fail;
    s->seed = (unsigned long long)sd;
    s->bucket_memory = mem_bucket_tokens(&s->a, &s->cl.gpu, s->bo.zero, (int)N);
    /* whatever the bucket: parameters, gradients and optimizer states must
     * fit before a single token does (exit 3, README) */
    if ((st = mem_check_static(&s->a, &s->cl.gpu, s->bo.zero, (int)N, e))) goto fail;
    if (o->v[SO_BUCKET]) {
        if ((st = tnum(o, SO_BUCKET, 0, &s->bucket, e))) goto fail;
    } else if (!o->v[SO_MODEL]) {
        s->bucket = 13312; /* DESIGN §4: the paper's BucketSize for Qwen2.5-7B, 13K */
    } else {
        s->bucket = s->bucket_memory;
        s->bucket_from_memory = 1;
        if (s->bucket <= 0) {
            /* the static part fits (checked above), one token's activations do not */
            st = sft_errf(e, SFT_EINFEASIBLE,
                          "model %s: its static memory with ZeRO-%d over %ld GPUs (%.1f GB) "
                          "leaves no room for one token's activations in the %.1f GB usable on "
                          "a %s; raise --zero or --gpus",
                          s->a.name, s->bo.zero, N,
                          mem_static_bytes(&s->a, s->bo.zero, (int)N) / 1e9,
                          mem_usable_bytes(&s->cl.gpu) / 1e9, s->cl.gpu.name);
            goto fail;
        }
    }
    if ((st = tnum(o, SO_MAX_LEN, s->bucket * s->cp, &s->max_len, e))) goto fail;
    if ((st = checked(o, SO_CP_IMPL, e)) || (st = checked(o, SO_GRANULARITY, e)) ||
        (st = checked(o, SO_DS_PACK, e)) || (st = checked(o, SO_ROLLBACK, e)) ||
        (st = checked(o, SO_HOST_OVERHEAD, e)))
        goto fail;
    const char *impl = o->v[SO_CP_IMPL] ? o->v[SO_CP_IMPL] : "allgather";
    s->bo.cp_impl = strcmp(impl, "ulysses") == 0 ? BLD_ULYSSES
                    : strcmp(impl, "ring") == 0  ? BLD_RING
                                                 : BLD_ALLGATHER;
    if (s->bo.cp_impl == BLD_ULYSSES && s->a.heads % s->cp != 0) {
        st = sft_errf(e, SFT_EINPUT,
                      "--cp-impl ulysses: %s has %d attention heads, not divisible by --cp %d "
                      "(use allgather or ring, or a CP degree dividing %d)",
                      s->a.name, s->a.heads, s->cp, s->a.heads);
        goto fail;
    }
    s->bo.layer_granularity = o->v[SO_GRANULARITY] && strcmp(o->v[SO_GRANULARITY], "layer") == 0;
    s->ds_pack = !o->v[SO_DS_PACK] || strcmp(o->v[SO_DS_PACK], "on") == 0;
    s->rollback = !o->v[SO_ROLLBACK] || strcmp(o->v[SO_ROLLBACK], "on") == 0;
    double ho = 2.0; /* checked above */
    if (o->v[SO_HOST_OVERHEAD]) sft_parse_double(o->v[SO_HOST_OVERHEAD], &ho);
    s->bo.host_overhead_s = ho * 1e-3;
    s->opt_time_limit_s = 10.0;
    const char *pol = o->v[SO_POLICY] ? o->v[SO_POLICY] : "deepspeed";
    if (!sched_find(pol)) {
        st = sched_unknown(pol, e);
        goto fail;
    }
    snprintf(s->policy, sizeof s->policy, "%s", pol);
    if (o->v[SO_DATASET] && o->v[SO_TRACE]) {
        st = sft_errf(e, SFT_EINPUT, "--dataset and --trace: give one or the other");
        goto fail;
    }
    s->dataset = o->v[SO_DATASET];
    s->trace = o->v[SO_TRACE];
    return SFT_OK;
fail:
    cost_destroy(s->c);
    s->c = NULL;
    return st;
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
    s->c = NULL;
}

cJSON *scen_json(const scenario *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "cluster", clu_to_json(&s->cl));
    cJSON_AddNumberToObject(j, "gpus", clu_ngpus(&s->cl));
    cJSON_AddStringToObject(j, "model", s->a.name);
    cJSON_AddStringToObject(j, "dataset",
                            s->trace     ? ""
                            : s->dataset ? s->dataset
                                         : TRACE_DEFAULT_DATASET);
    if (s->trace) cJSON_AddStringToObject(j, "trace", s->trace);
    cJSON_AddNumberToObject(j, "dp", s->dp);
    cJSON_AddNumberToObject(j, "cp", s->cp);
    cJSON_AddNumberToObject(j, "batch", (double)s->batch);
    cJSON_AddNumberToObject(j, "bucket", (double)s->bucket);
    cJSON_AddNumberToObject(j, "bucket_memory_model", (double)s->bucket_memory);
    cJSON_AddNumberToObject(j, "steps", (double)s->steps);
    cJSON_AddNumberToObject(j, "seed", (double)s->seed);
    cJSON_AddNumberToObject(j, "max_len", (double)s->max_len);
    cJSON_AddStringToObject(j, "cp_impl", bld_cp_impl_name(s->bo.cp_impl));
    cJSON_AddNumberToObject(j, "zero", s->bo.zero);
    cJSON_AddBoolToObject(j, "ds_pack", s->ds_pack);
    cJSON_AddStringToObject(j, "granularity", s->bo.layer_granularity ? "layer" : "op");
    cJSON_AddStringToObject(j, "calibration", cost_calibration(s->c));
    cJSON_AddNumberToObject(j, "host_overhead_ms", s->bo.host_overhead_s * 1e3);
    cJSON_AddBoolToObject(j, "rollback", s->rollback);
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
static sft_status schedule_steps(const scenario *s, const char *policy, bld *build, scen_result *r,
                                 int **rounds, sft_err *e)
{
    trace_src *src = NULL;
    sft_status st =
        trace_src_open(s->dataset, s->trace, s->steps, s->batch * s->dp, s->seed, &src, e);
    if (st) return st;
    sched_in in = {&s->a,         s->c,        &s->cl,
                   s->dp,         s->cp,       s->bucket,
                   s->ds_pack,    s->rollback, s->opt_time_limit_s,
                   s->bo.cp_impl, s->bo.zero,  s->bo.host_overhead_s};
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
            if ((double)buf[i].len > (double)s->bucket * s->cp) {
                st = sft_errf(e, SFT_EINFEASIBLE,
                              "step %d: sample %lld has %lld tokens, more than a CP group of %d "
                              "GPUs holds (%ld tokens = bucket %ld x %d); lower --max-len or "
                              "raise --bucket / --cp",
                              step, (long long)buf[i].id, (long long)buf[i].len, s->cp,
                              s->bucket * s->cp, s->bucket, s->cp);
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
            st = bld_step(build, pl, step, e);
            r->build_s += sft_wall() - t0;
            if (st) break;
        }
    }
    free(buf);
    trace_src_destroy(src);
    if (!st && r->nplans == 0) st = sft_errf(e, SFT_EINPUT, "the trace has no batch to simulate");
    return st;
}

sft_status scen_schedule(const scenario *s, const char *policy, scen_result **out, sft_err *e)
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

sft_status scen_simulate(const scenario *s, const char *policy, int keep_prog, scen_result **out,
                         sft_err *e)
{
    scen_result *r = sft_xcalloc(1, sizeof *r);
    int N = clu_ngpus(&s->cl);
    prog *p = prog_create(N);
    bld *b = bld_create(p, &s->a, s->c, &s->cl, s->dp, s->cp, &s->bo);
    int *rounds = NULL;
    eng_result *er = NULL;
    sft_status st = schedule_steps(s, policy, b, r, &rounds, e);
    bld_destroy(b);
    if (!st) st = eng_run(&s->cl, p, &er, e);
    if (!st) {
        rep_inputs in = {s->cl.gpu.peak_flops, mem_usable_bytes(&s->cl.gpu), s->cl.gpu.launch_s,
                         rounds};
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
