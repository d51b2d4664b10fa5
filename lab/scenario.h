/* scenario.h — the scenario options of DESIGN §3, their defaults (the Skrull
 * paper's setting, DESIGN §4), their resolution into a runnable scenario,
 * and the pipeline trace -> schedule -> program -> simulate -> summary.
 *
 * Options are kept as strings (scen_opts) so that sweeps can substitute any
 * of them; scen_resolve validates every value and names the option and what
 * would be valid.
 */
#ifndef SFT_SCENARIO_H
#define SFT_SCENARIO_H

#include <cjson/cJSON.h>
#include <getopt.h>

#include "models/llm/arch.h"
#include "models/llm/build.h"
#include "models/hw/cost.h"
#include "models/sched/plan.h"
#include "reports/summary.h"
#include "sim/cluster.h"

/* What a command prints on stdout: a text table, one JSON document, CSV. */
typedef enum scen_format { SCEN_TEXT, SCEN_JSON, SCEN_CSV } scen_format;
/* Parses --format's value; text, json (and csv when allow_csv). */
sft_status scen_parse_format(const char *v, int allow_csv, scen_format *out, sft_err *e);

typedef enum scen_opt {
    SO_CLUSTER,
    SO_GPUS,
    SO_MODEL,
    SO_DATASET,
    SO_TRACE,
    SO_POLICY,
    SO_DP,
    SO_CP,
    SO_BATCH,
    SO_BUCKET,
    SO_STEPS,
    SO_SEED,
    SO_CP_IMPL,
    SO_ZERO,
    SO_DS_PACK,
    SO_GRANULARITY,
    SO_MAX_LEN,
    SO_CALIBRATION,
    SO_HOST_OVERHEAD,
    SO_ROLLBACK,
    SO_NOPTS
} scen_opt;

typedef struct scen_opts {
    const char *v[SO_NOPTS]; /* borrowed from argv; NULL = default */
    const char *out;         /* --out DIR */
    scen_format fmt;
    int strict;
} scen_opts;

/* Extra options of one subcommand: handler returns 0 or an sft_status. */
typedef struct scen_extra {
    const char *name;
    int has_arg;
    int (*fn)(void *ctx, const char *arg, sft_err *e);
} scen_extra;

/* Parses argv (argv[0] = the subcommand). Positional arguments: at most one,
 * a scenario JSON file is not supported yet, so any positional is an error.
 * help(): prints the subcommand's help. Returns -1 after printing help (exit
 * 0), else an sft_status. */
int scen_parse(int argc, char **argv, const char *cmd, scen_opts *o, const scen_extra *extra,
               void *ctx, void (*help)(void), sft_err *e);
/* The scenario options' help text (for the subcommands' --help). */
void scen_help(void);
/* Option name of an index ("cluster", "gpus", ...). */
const char *scen_opt_name(int i);
int scen_opt_find(const char *name);

typedef struct scenario {
    clu_desc cl;
    arch a;
    cost *c; /* owned */
    int dp, cp;
    long batch, bucket, steps, max_len;
    unsigned long long seed;
    const char *dataset, *trace; /* borrowed from scen_opts (NULL = default dataset) */
    char policy[32];
    int bucket_from_memory; /* the bucket is the memory model's */
    long bucket_memory;     /* what the memory model derives */
    bld_opts bo;
    int ds_pack, rollback;
    double opt_time_limit_s; /* policy optimal's solver limit */
} scenario;

sft_status scen_resolve(const scen_opts *o, scenario *s, sft_err *e);
/* scen_resolve, then --out made ready (sft_outdir_prepare): all that a
 * command checks before any work. On failure *s holds nothing. */
sft_status scen_prepare(const scen_opts *o, scenario *s, sft_err *e);
void scen_release(scenario *s);
/* The resolved scenario as JSON (creates the object). */
cJSON *scen_json(const scenario *s);

/* One policy run over the scenario's steps. */
typedef struct scen_result {
    rep_run *run; /* owned */
    plan **plans; /* owned, one per step */
    int nplans;
    long clipped; /* samples longer than max_len, clipped to it */
    long samples;
    double build_s, sched_s; /* host time spent building programs / scheduling */
    prog *prog;              /* owned, kept when keep_prog */
    eng_result *eng;         /* owned, kept when keep_prog */
} scen_result;

/* Runs policy over the scenario. keep_prog keeps the program and event log
 * (for timelines). Creates *out. EINFEASIBLE when a sample cannot fit. */
sft_status scen_simulate(const scenario *s, const char *policy, int keep_prog, scen_result **out,
                         sft_err *e);
void scen_result_destroy(scen_result *r);
/* Schedules only (no program, no simulation): fills plans. Creates *out. */
sft_status scen_schedule(const scenario *s, const char *policy, scen_result **out, sft_err *e);

#endif
