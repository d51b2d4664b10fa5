/* scenario.h — the scenario options of ARCHITECTURE.md, "Contracts", their defaults (the Skrull
 * paper's setting, ARCHITECTURE.md, "Default scenario"), their resolution into a runnable scenario,
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

#include "models/hw/cost.h"
#include "models/sched/plan.h"
#include "models/workload.h"
#include "reports/summary.h"
#include "sim/cluster.h"
#include "sim/engine.h"

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
    SO_CP_EXCHANGE,
    SO_ATTN_CALL,
    SO_GRAD_COLL,
    SO_GRAD_DTYPE,
    SO_OVERLAP_COMM,
    SO_DISPATCH,
    SO_NOPTS
} scen_opt;

typedef struct scen_opts {
    const char *v[SO_NOPTS]; /* borrowed from argv; NULL = default */
    const char *out;         /* --out DIR */
    scen_format fmt;
    int strict;
    int helped; /* --help was given: the help is printed, nothing else to do */
} scen_opts;

/* Extra options of one subcommand: handler returns SFT_OK or the error. */
typedef struct scen_extra {
    const char *name;
    int has_arg;
    sft_status (*fn)(void *ctx, const char *arg, sft_err *e);
} scen_extra;

/* Parses argv (argv[0] = the subcommand) with the subcommand's extra options
 * (a table ending in a NULL name; ctx is handed to their handlers). Any
 * positional argument is an error. help(): prints the subcommand's help.
 * After --help, o->helped is set and the status is SFT_OK (exit 0). */
sft_status scen_parse(int argc, char **argv, const char *cmd, scen_opts *o, const scen_extra *extra,
                      void *ctx, void (*help)(void), sft_err *e);
/* The scenario options' help text (for the subcommands' --help). */
void scen_help(void);
/* Option name of an index ("cluster", "gpus", ...; static storage). */
const char *scen_opt_name(int i);
/* The index of an option name, or -1. */
int scen_opt_find(const char *name);

/* The default scenario (the Skrull paper's setting, ARCHITECTURE.md, "Default scenario"): what
 * every option not given resolves to. The one copy; help texts print from it. */
typedef struct scen_defaults {
    const char *cluster, *model, *policy, *cp_impl, *granularity;
    long batch, steps, zero, seed;
    long node_cp;         /* --cp when neither degree is given: a node's GPUs */
    long bucket_of_model; /* --bucket for the default model: the paper's 13K */
    double host_overhead_ms, opt_time_limit_s;
    const char *baseline;                /* the policy speedups are measured against */
    const char *cp_exchange, *attn_call; /* par.h: fused, varlen (the public CP code) */
    double dispatch_us;                  /* host cost per kernel or collective (prog.h) */
} scen_defaults;
extern const scen_defaults scen_default;

typedef struct scenario {
    clu_desc cl;
    wl_model *model;      /* owned */
    const wl_family *fam; /* the model's family */
    cost *c;              /* owned */
    par_opts par;         /* DP x CP, CP flavour, ZeRO stage, gradient reduction, host overhead */
    int layer_granularity;
    long batch, bucket, steps, max_len;
    long steps_cap; /* --steps auto[:CAP]: CAP, and steps is the count of the
                     * round to run (scen_simulate_set); 0: steps is fixed */
    unsigned long long seed;
    const char *dataset, *trace; /* borrowed from scen_opts (NULL = default dataset) */
    const sched_policy *policy;  /* --policy, resolved (static storage) */
    int bucket_from_memory;      /* the bucket is the memory model's */
    long bucket_memory;          /* what the memory model derives */
    int ds_pack, rollback;
    double opt_time_limit_s; /* policy optimal's solver limit */
} scenario;

sft_status scen_resolve(const scen_opts *o, scenario *s, sft_err *e);
/* scen_resolve, then --out made ready (sft_outdir_prepare): all that a
 * command checks before any work. On failure *s holds nothing. */
sft_status scen_prepare(const scen_opts *o, scenario *s, sft_err *e);
/* Frees what s owns (s itself is the caller's). */
void scen_release(scenario *s);
/* The resolved scenario as JSON (creates the object). */
cJSON *scen_json(const scenario *s);
/* The schedulers' estimator for the scenario's model and layout: creates it
 * (destroy with est_destroy; it borrows from s, which must outlive it). */
est *scen_estimator(const scenario *s);
/* The model's name (borrowed from s). */
const char *scen_model_name(const scenario *s);
/* The policy of the scenario's family called name (static storage), or
 * EINPUT naming the valid ones. */
sft_status scen_policy(const scenario *s, const char *name, const sched_policy **out, sft_err *e);

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

/* Runs policy (the scenario's family's, scen_policy) over the scenario.
 * keep_prog keeps the program and event log (for timelines). Creates *out.
 * EINFEASIBLE when a sample cannot fit. */
sft_status scen_simulate(const scenario *s, const sched_policy *policy, int keep_prog,
                         scen_result **out, sft_err *e);
void scen_result_destroy(scen_result *r);
/* Under --steps auto (s->steps_cap > 0): the step count of the next round
 * after a round of s->steps steps gave res[0..n) (NULL: a policy that did
 * not run), or 0 when the rule is met: every run's standard error below
 * SCEN_AUTO_REL_SE of its mean, or s->steps at the cap, or the trace out
 * of batches. The next count is the one the worst run predicts (the error
 * falls as 1/sqrt(steps)), rounded up to a multiple of SCEN_AUTO_FIRST,
 * at least one such round more, at most the cap. 0 for a fixed count. */
long scen_auto_next(const scenario *s, scen_result *const *res, int n);

/* Runs policies[0..n) (names of the scenario's family) over the same steps
 * (the same trace): once, or under --steps auto in rounds until
 * scen_auto_next says stop; s->steps ends as the count every result ran
 * (a round simulates from step 0 again, so the results are exactly those
 * of a fixed --steps of that count). res[i] gets policy i's result
 * (created), or NULL with why in errs[i] (errs[i].status). stop_on_error:
 * the first failure ends the set, every res[i] NULL. progress != NULL:
 * "progress: policy (i/n), N steps..." lines on stderr. Returns the first
 * failure's status, SFT_OK when every policy ran. */
sft_status scen_simulate_set(scenario *s, const char *const *policies, int n, int keep_prog,
                             int stop_on_error, const char *progress, scen_result **res,
                             sft_err *errs);

/* Schedules only (no program, no simulation): fills plans. Creates *out. */
sft_status scen_schedule(const scenario *s, const sched_policy *policy, scen_result **out,
                         sft_err *e);

#endif
