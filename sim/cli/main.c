/* main.c — `sftsim` entry point: dispatches to the subcommands (DESIGN §3). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"

typedef struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cmd;

static const cmd cmds[] = {
    {"run", cli_run, "simulate one policy: summary and outputs"},
    {"compare", cli_compare, "same trace under several policies: table and speedups"},
    {"sweep", cli_sweep, "what-if grid over options: table, CSV, HDF5, plot"},
    {"schedule", cli_schedule, "the plan only (no simulation) and its graph"},
    {"trace", cli_trace, "gen|stats: make a trace, show its length statistics"},
    {"collective", cli_collective, "nccl-tests style table of one collective on the platform"},
    {"reproduce", cli_reproduce, "skrull: the Skrull paper's experiment in one command"},
    {"list", cli_list, "clusters|gpus|models|datasets|policies"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sftsim COMMAND [options]   (sftsim COMMAND --help for its options)\n\n"
               "Simulates Long-SFT training steps on GPU clusters (SimGrid).\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 internal error, 2 bad input, 3 scenario cannot run\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SFT_EINPUT;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("sftsim %s\n", SFT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sftsim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return SFT_EINPUT;
}
