/* main.c — `sftsim` entry point: its subcommands (ARCHITECTURE.md, "Contracts"), dispatched by
 * cli_main. */
#include "cli/cli.h"

static const cli_cmd cmds[] = {
    {"run", cli_run, "simulate one policy: summary and outputs", 0},
    {"compare", cli_compare, "same trace under several policies: table and speedups", 0},
    {"sweep", cli_sweep, "what-if grid over options: table, CSV, HDF5, plot", 1},
    {"schedule", cli_schedule, "the plan only (no simulation) and its graph", 0},
    {"trace", cli_trace, "gen|stats: make a trace, show its length statistics", 0},
    {"collective", cli_collective, "nccl-tests style table of one collective on the platform", 0},
    {"reproduce", cli_reproduce, "skrull: the Skrull paper's experiment in one command", 0},
    {"kernels", cli_kernels, "attn-cp: one rank's attention kernel vs CP degree", 0},
    {"list", cli_list, "clusters|gpus|models|datasets|policies", 0},
};

static const cli_prog sftsim = {
    "sftsim",
    "usage: sftsim COMMAND [options]   (sftsim COMMAND --help for its options)\n\n"
    "Simulates Long-SFT training steps on GPU clusters (SimGrid).\n\ncommands:\n",
    11,
    "\nexit codes: 0 ok, 1 internal error, 2 bad input, 3 scenario cannot run,\n"
    "4 an output could not be written\n",
    cmds,
    (int)(sizeof cmds / sizeof cmds[0]),
    1,
};

int main(int argc, char **argv)
{
    return cli_main(&sftsim, argc, argv);
}
