/* main.c — `sftsim` entry point: dispatches to the subcommands (DESIGN §3). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
    int mpi; /* spreads its points over MPI ranks (else rank 0 alone runs it) */
} cmd;

static const cmd cmds[] = {
    {"run", cli_run, "simulate one policy: summary and outputs", 0},
    {"compare", cli_compare, "same trace under several policies: table and speedups", 0},
    {"sweep", cli_sweep, "what-if grid over options: table, CSV, HDF5, plot", 1},
    {"schedule", cli_schedule, "the plan only (no simulation) and its graph", 0},
    {"trace", cli_trace, "gen|stats: make a trace, show its length statistics", 0},
    {"collective", cli_collective, "nccl-tests style table of one collective on the platform", 0},
    {"reproduce", cli_reproduce, "skrull: the Skrull paper's experiment in one command", 0},
    {"list", cli_list, "clusters|gpus|models|datasets|policies", 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sftsim COMMAND [options]   (sftsim COMMAND --help for its options)\n\n"
               "Simulates Long-SFT training steps on GPU clusters (SimGrid).\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 internal error, 2 bad input, 3 scenario cannot run,\n"
               "4 an output could not be written\n");
}

/* This process's rank when a launcher (mpirun, srun with PMI) started it,
 * else -1. Read from the environment: only sweep initialises MPI. */
static long launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        long r;
        const char *v = getenv(vars[i]);
        if (v && sft_parse_long(v, 0, 1L << 30, &r) == 0) return r;
    }
    return -1;
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
    /* an interrupted run leaves no temporary behind (base.h) */
    sft_cleanup_on_signals();
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0) continue;
        /* under mpirun, N copies of `run --out D` would race into one
         * directory: only sweep divides work among ranks; the others run
         * once, on rank 0 */
        long rank = cmds[i].mpi ? -1 : launcher_rank();
        if (rank > 0) return 0;
        if (rank == 0 && getenv("OMPI_COMM_WORLD_SIZE") &&
            strcmp(getenv("OMPI_COMM_WORLD_SIZE"), "1") != 0)
            fprintf(stderr,
                    "sftsim %s: started by an MPI launcher: only rank 0 runs it "
                    "(sweep is the command that spreads over ranks)\n",
                    cmds[i].name);
        return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "sftsim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return SFT_EINPUT;
}
