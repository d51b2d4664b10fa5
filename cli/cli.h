/* cli.h — the `sftsim` command: one file per subcommand (DESIGN §3).
 *
 * A subcommand parses its options, calls lab/ and prints. Conventions:
 * human output to stderr or a text table on stdout, `--format json` prints
 * one JSON document on stdout; exit codes are sft_status values (0 ok, 2 bad
 * input, 3 infeasible scenario, 4 output not written, 1 internal error).
 * Ownership: every pointer argument is borrowed unless its comment says
 * "creates" (the caller frees or destroys it) or "takes".
 */
#ifndef SFT_CLI_H
#define SFT_CLI_H

#include <cjson/cJSON.h>

#include "base/base.h"
#include "lab/scenario.h"

/* ---- the subcommands: argc/argv start at the subcommand's name; each
 * returns its exit code ---- */
int cli_collective(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_compare(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_schedule(int argc, char **argv);
int cli_trace(int argc, char **argv);
int cli_reproduce(int argc, char **argv);

/* ---- messages ---- */

/* Prints "sftsim: <message>" to stderr; returns the status as exit code. */
int cli_report(const sft_err *e);
/* Prints a usage error for cmd and returns SFT_EINPUT. */
int cli_usage_error(const char *cmd, const char *fmt, ...) SFT_PRINTF(2, 3);

/* ---- options ---- */

/* The start of a command over one scenario: parses argv (scen_parse, no
 * extra options) and resolves the scenario with --out made ready
 * (scen_prepare). Returns 0 when *o and *s are ready (the caller releases
 * *s); 1 when the command ends here, with *rc its exit code (0 after
 * --help, else that of the error it printed). */
int cli_scenario(int argc, char **argv, const char *cmd, void (*help)(void), scen_opts *o,
                 scenario *s, int *rc);
/* Splits a comma list strictly, any number of items: an empty item is
 * EINPUT naming opt. Creates *buf (a copy of list) and *items (*n
 * pointers into *buf); the caller frees both, also on failure. */
sft_status cli_parse_list(const char *opt, const char *list, char **buf, const char ***items,
                          int *n, sft_err *e);
/* -j / --jobs: a worker count in [1, 1024]. */
sft_status cli_parse_jobs(const char *arg, long *jobs, sft_err *e);
/* "-j" and "-jN" as the long option --jobs (the subcommands parse long
 * options only): returns arg itself, a constant, or for "-jN" a string it
 * creates in *buf (the caller frees it). */
char *cli_short_jobs(char *arg, char **buf);
/* argv for scen_parse: argv[0], then argv[drop + 1 ..] with -j and -jN
 * spelled --jobs (cli_short_jobs). Creates the array (*ac entries, NULL
 * after them); cli_jobs_argv_free destroys it and the strings it made,
 * while the others stay argv's, which scen_opts values borrow. */
char **cli_jobs_argv(int argc, char **argv, int drop, int *ac);
void cli_jobs_argv_free(char **av);
/* The worker count when -j is not given: the cores online. */
long cli_default_jobs(void);

/* ---- output ---- */

/* Prints a JSON document (takes j) on stdout followed by a newline. */
void cli_print_json(cJSON *j);

#endif
