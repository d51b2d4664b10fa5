/* fuzz_options.c — libFuzzer target for the command line: the input is split
 * into an argv (on newlines or NUL bytes; the first token picks the
 * subcommand whose extra options apply: run, compare, sweep, reproduce) and
 * fed to the scenario option parser (scen_parse) and resolver
 * (scen_resolve), the way cli/ calls them, plus the small value parsers
 * every subcommand shares (formats, -j, byte sizes, integers).
 *
 * Besides crashes, leaks and undefined behaviour (ASan + UBSan) it checks
 * the promises of ARCHITECTURE.md, "Contracts" and aborts when one is broken: a refused option
 * returns 2 (bad input) — or 3 for a scenario that cannot run, such as a
 * model whose static memory does not fit — with a non-empty message that
 * never prints "(null)"; an accepted scenario is consistent (DP x CP = the
 * GPU count, positive sizes). It must not simulate: the pipeline behind the
 * resolver (schedulers, program builder, engine, reports) is replaced here by
 * stubs that abort. Tokens naming a path ('/') are skipped: the file system
 * is the bad-input table's business (tests/badinput/), and a FIFO or a
 * device named at random must not stall the fuzzer.
 *
 * collective's --sizes parser is static in cli_collective.c (and the
 * command simulates), so it is reached only through sft_parse_bytes here.
 * Built with clang by tests/badinput.cmake; seeds: fuzz/corpus_options/.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/llm/build.h"
#include "models/llm/llm_est.h"
#include "models/sched/estimate.h"
#include "models/sched/sched.h"
#include "reports/summary.h"
#include "cli/cli.h"
#include "lab/scenario.h"
#include "sim/engine.h"
#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXTOK 48

static void check(int ok, const char *what, const char *msg)
{
    if (!ok) {
        fprintf(stderr, "fuzz_options: broken promise: %s (message: %s)\n", what, msg ? msg : "");
        abort();
    }
}

/* A refusal: bad input (2) or a scenario that cannot run (3), with a message. */
static void refused(int st, const sft_err *e, int allow_infeasible)
{
    check(st == SFT_EINPUT || (allow_infeasible && st == SFT_EINFEASIBLE),
          "a refused option is bad input (exit 2)", e->msg);
    check(e->status == (sft_status)st, "the error carries its status", e->msg);
    check(e->msg[0] != '\0', "a refusal carries a message", e->msg);
    check(strstr(e->msg, "(null)") == NULL, "a message never prints (null)", e->msg);
}

/* ---- the pipeline behind the resolver: never reached ------------------------ */

SFT_NORETURN static void simulated(const char *fn)
{
    fprintf(stderr, "fuzz_options: %s called: option parsing must not simulate\n", fn);
    abort();
}

/* Everything scen_simulate and scen_schedule reach (lab/scenario.c's
 * other half), and what models/sched/sched.c's policies call: stubs. */
sft_status trace_src_open(const char *dataset, const char *trace, long steps, long samples_per_step,
                          uint64_t seed, trace_src **out, sft_err *e)
{
    (void)dataset, (void)trace, (void)steps, (void)samples_per_step, (void)seed, (void)out, (void)e;
    simulated("trace_src_open");
}
sft_status trace_src_next(trace_src *s, trace_batch *b, int *eof, sft_err *e)
{
    (void)s, (void)b, (void)eof, (void)e;
    simulated("trace_src_next");
}
void trace_src_destroy(trace_src *s)
{
    (void)s;
    simulated("trace_src_destroy");
}
plan *plan_create(int dp, int cp, long bucket)
{
    (void)dp, (void)cp, (void)bucket;
    simulated("plan_create");
}
void plan_destroy(plan *p)
{
    (void)p;
    simulated("plan_destroy");
}
plan_mb *plan_add_mb(plan *p, int r)
{
    (void)p, (void)r;
    simulated("plan_add_mb");
}
void plan_mb_add(plan_mb *mb, int64_t id, int64_t len, int cp)
{
    (void)mb, (void)id, (void)len, (void)cp;
    simulated("plan_mb_add");
}
int plan_max_mbs(const plan *p)
{
    (void)p;
    simulated("plan_max_mbs");
}
sft_status plan_check(plan *p, const trace_sample *s, size_t n, sft_err *e)
{
    (void)p, (void)s, (void)n, (void)e;
    simulated("plan_check");
}
est *llm_est_create(const arch *a, const cost *c, const clu_desc *cl, const par_opts *par,
                    long bucket)
{
    (void)a, (void)c, (void)cl, (void)par, (void)bucket;
    simulated("llm_est_create");
}
void est_destroy(est *e)
{
    (void)e;
    simulated("est_destroy");
}
double est_load(est *e, double len, int shard)
{
    (void)e, (void)len, (void)shard;
    simulated("est_load");
}
bool dacp_place(est *e, plan_mb *mb, int N, long C, int mode, int rollback)
{
    (void)e, (void)mb, (void)N, (void)C, (void)mode, (void)rollback;
    simulated("dacp_place");
}
sft_status sched_optimal(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e)
{
    (void)in, (void)s, (void)n, (void)out, (void)e;
    simulated("sched_optimal");
}
bld *bld_create(prog *p, const arch *a, const cost *c, const clu_desc *cl, const par_opts *par,
                int layer_granularity)
{
    (void)p, (void)a, (void)c, (void)cl, (void)par, (void)layer_granularity;
    simulated("bld_create");
}
const char *bld_cat_name(int cat)
{
    (void)cat;
    simulated("bld_cat_name");
}
void bld_destroy(bld *b)
{
    (void)b;
    simulated("bld_destroy");
}
sft_status bld_step(bld *b, const plan *pl, int step, sft_err *e)
{
    (void)b, (void)pl, (void)step, (void)e;
    simulated("bld_step");
}
prog *prog_create(int ngpus)
{
    (void)ngpus;
    simulated("prog_create");
}
void prog_destroy(prog *p)
{
    (void)p;
    simulated("prog_destroy");
}
sft_status eng_run(const clu_desc *c, const prog *p, eng_result **out, sft_err *e)
{
    (void)c, (void)p, (void)out, (void)e;
    simulated("eng_run");
}
void eng_result_destroy(eng_result *r)
{
    (void)r;
    simulated("eng_result_destroy");
}
rep_run *rep_run_create(const prog *p, const eng_result *r, const rep_inputs *in)
{
    (void)p, (void)r, (void)in;
    simulated("rep_run_create");
}
void rep_run_destroy(rep_run *s)
{
    (void)s;
    simulated("rep_run_destroy");
}

/* ---- extra options of the subcommands (as cli/ registers them) ---------- */

static sft_status x_policies(void *ctx, const char *arg, sft_err *e)
{
    (void)ctx;
    (void)e;
    check(arg != NULL, "--policies has its argument", NULL);
    return 0;
}

static sft_status x_jobs(void *ctx, const char *arg, sft_err *e)
{
    long *jobs = ctx;
    int st = cli_parse_jobs(arg, jobs, e);
    if (st == 0) check(*jobs >= 1 && *jobs <= 1024, "-j within [1, 1024]", NULL);
    return st;
}

static sft_status x_resume(void *ctx, const char *arg, sft_err *e)
{
    (void)ctx;
    (void)arg;
    (void)e;
    return 0;
}

static void no_help(void) {}

/* glibc's getopt keeps a pointer into the last argv between calls unless
 * optind is 0; scen_parse sets optind = 1, so reset it fully first (the
 * previous input's argv is freed). */
static void reset_getopt(void)
{
    char a0[] = "x", *av[] = {a0, NULL};
    optind = 0;
    opterr = 0;
    while (getopt(1, av, "") != -1) {
    }
}

/* The shared value parsers, on any token. */
static void value_parsers(const char *t)
{
    sft_err e = {0};
    scen_format f;
    int st = scen_parse_format(t, 1, &f, &e);
    if (st) refused(st, &e, 0);
    sft_err_clear(&e);
    long jobs = 0;
    st = cli_parse_jobs(t, &jobs, &e);
    if (st)
        refused(st, &e, 0);
    else
        check(jobs >= 1 && jobs <= 1024, "-j within [1, 1024]", NULL);
    double b = sft_parse_bytes(t);
    check(b == -1 || (isfinite(b) && b >= 0), "a byte size is finite and >= 0, or -1", t);
    long v;
    if (sft_parse_long(t, -5, 5, &v) == 0) check(v >= -5 && v <= 5, "integer within range", t);
    double d;
    if (sft_parse_double(t, &d) == 0) check(isfinite(d), "a parsed number is finite", t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    /* tokens: split on '\n' and NUL */
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *tok[MAXTOK + 2];
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && n < MAXTOK; i++) {
        if (i == size || copy[i] == '\n' || copy[i] == '\0') {
            copy[i] = '\0';
            if (i > start || (i < size && n > 0)) tok[n++] = copy + start;
            start = i + 1;
        }
    }
    for (int i = 1; i < n; i++)
        if (strchr(tok[i], '/') || strstr(tok[i], "(null)")) { /* messages echo values */
            free(copy);
            return 0;
        }
    for (int i = 1; i < n; i++) value_parsers(tok[i]);

    /* the subcommand and its extras, as cli/ registers them */
    const char *cmd = n > 0 ? tok[0] : "run";
    static const scen_extra ex_compare[] = {{"policies", 1, x_policies}, {NULL, 0, NULL}};
    static const scen_extra ex_sweep[] = {
        {"policies", 1, x_policies}, {"jobs", 1, x_jobs}, {"resume", 0, x_resume}, {NULL, 0, NULL}};
    static const scen_extra ex_reproduce[] = {{"jobs", 1, x_jobs}, {NULL, 0, NULL}};
    const scen_extra *extra = NULL;
    int short_jobs = 0;
    if (strcmp(cmd, "compare") == 0) {
        extra = ex_compare;
    } else if (strcmp(cmd, "sweep") == 0) {
        extra = ex_sweep;
        short_jobs = 1;
    } else if (strcmp(cmd, "reproduce") == 0) {
        extra = ex_reproduce;
        short_jobs = 1;
    } else if (strcmp(cmd, "schedule") != 0) {
        cmd = "run";
    }
    char *argv[MAXTOK + 2], *jbuf[MAXTOK + 2] = {0};
    int argc = 0;
    argv[argc++] = (char *)cmd;
    for (int i = 1; i < n; i++)
        argv[argc++] = short_jobs ? cli_short_jobs(tok[i], &jbuf[i]) : tok[i];
    argv[argc] = NULL;

    scen_opts o;
    sft_err e = {0};
    long jobs = 1;
    reset_getopt();
    sft_status rc = scen_parse(argc, argv, cmd, &o, extra, &jobs, no_help, &e);
    if (rc) refused(rc, &e, 0);
    if (!rc && !o.helped) {
        /* sweeps substitute one value of each comma list at a time; resolve
         * the scenario as given (lists make it bad input, never a crash) */
        scenario s;
        sft_err_clear(&e);
        sft_status st = scen_resolve(&o, &s, &e);
        if (st) {
            refused(st, &e, 1);
        } else {
            long N = clu_ngpus(&s.cl);
            check(s.par.dp >= 1 && s.par.cp >= 1 && s.par.cp <= 64 &&
                      (long)s.par.dp * s.par.cp == N,
                  "DP x CP is the GPU count", NULL);
            check(s.batch >= 1 && s.steps >= 0 && s.bucket >= 1 && s.max_len >= 1, "positive sizes",
                  NULL);
            check(s.par.zero >= 0 && s.par.zero <= 3, "ZeRO stage in 0..3", NULL);
            check(s.par.host_overhead_s >= 0 && isfinite(s.par.host_overhead_s),
                  "host overhead finite and >= 0", NULL);
            check(s.par.dispatch_s >= 0 && s.par.dispatch_s <= 1e-3,
                  "dispatch cost in [0, 1000] us", NULL);
            check(s.c != NULL && cost_calibration(s.c) != NULL, "a cost model", NULL);
            scen_release(&s);
        }
    }
    for (int i = 0; i < MAXTOK + 2; i++) free(jbuf[i]);
    free(copy);
    return 0;
}
