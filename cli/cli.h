/* cli.h — the `sftsim` command: one file per subcommand (DESIGN §3).
 *
 * The CLI is the only place that ties every stage together. Conventions:
 * human output to stderr or a text table on stdout, `--format json` prints one
 * JSON document on stdout; exit codes are sft_status values (0 ok, 2 bad
 * input, 3 infeasible scenario, 4 output not written, 1 internal error).
 */
#ifndef SFT_CLI_H
#define SFT_CLI_H

#include <cjson/cJSON.h>

#include "base/base.h"
#include "lab/scenario.h"

int cli_collective(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_compare(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_schedule(int argc, char **argv);
int cli_trace(int argc, char **argv);
int cli_reproduce(int argc, char **argv);

/* Prints "sftsim: <message>" to stderr; returns the status as exit code. */
int cli_report(const sft_err *e);
/* Prints a usage error for cmd and returns SFT_EINPUT. */
int cli_usage_error(const char *cmd, const char *fmt, ...) SFT_PRINTF(2, 3);
/* Splits a comma list strictly: an empty item or more than max items is
 * EINPUT naming opt. items point into *buf (a copy; caller frees it, also
 * on failure). */
sft_status cli_parse_list(const char *opt, const char *list, int max, char **buf,
                          const char **items, int *n, sft_err *e);
/* -j / --jobs: a worker count in [1, 1024]. */
sft_status cli_parse_jobs(const char *arg, long *jobs, sft_err *e);
/* "-j" and "-jN" as the long option --jobs (the subcommands parse long
 * options only); *buf receives what it allocates (caller frees). */
char *cli_short_jobs(char *arg, char **buf);
/* Prints a JSON document (takes ownership of j) on stdout followed by a newline. */
void cli_print_json(cJSON *j);

#endif
