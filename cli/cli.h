/* cli.h — the `sftsim` command: one file per subcommand (ARCHITECTURE.md, "Contracts"), and
 * the helpers that `sftsim-validate` shares.
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
int cli_kernels(int argc, char **argv);

/* ---- a program made of subcommands (sftsim, sftsim-validate) ---- */
typedef struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
    int mpi; /* spreads its points over MPI ranks (else rank 0 alone runs it) */
} cli_cmd;

typedef struct cli_prog {
    const char *name;       /* "sftsim": the messages' prefix, --version */
    const char *usage_head; /* usage up to the list of commands */
    int width;              /* of the list's name column */
    const char *usage_tail; /* usage after the list */
    const cli_cmd *cmds;
    int ncmds;
    int rank0_only; /* under an MPI launcher, a command without mpi runs on rank 0 alone */
} cli_prog;

/* The program's main: usage on stderr without a command (exit 2), usage on
 * stdout for --help, -h and help, the version for --version; otherwise the
 * command argv[1] names runs with argc - 1, argv + 1 (temporaries removed
 * on signals), and an unknown one is exit 2. Returns the exit code. */
int cli_main(const cli_prog *p, int argc, char **argv);

/* ---- messages ---- */

/* Prints "<name>: <message>" to stderr; returns the status as exit code. */
int cli_report_as(const char *name, const sft_err *e);
/* Prints "<name> <sub>: <message> (see <name> <sub> --help)" to stderr;
 * returns SFT_EINPUT. */
int cli_usage_error_as(const char *name, const char *sub, const char *fmt, ...) SFT_PRINTF(3, 4);
/* The same, under sftsim's name. */
int cli_report(const sft_err *e);
int cli_usage_error(const char *sub, const char *fmt, ...) SFT_PRINTF(2, 3);

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
