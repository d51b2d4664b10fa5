/* cli_prog.c — the main of a program made of subcommands (cli.h): sftsim's
 * and sftsim-validate's, one dispatch for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void usage(const cli_prog *p, FILE *f)
{
    fputs(p->usage_head, f);
    for (int i = 0; i < p->ncmds; i++)
        fprintf(f, "  %-*s %s\n", p->width, p->cmds[i].name, p->cmds[i].summary);
    fputs(p->usage_tail, f);
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

/* Runs command c; under an MPI launcher, N copies of `run --out D` would
 * race into one directory: only a command with mpi divides work among
 * ranks, the others run once, on rank 0. */
static int run_cmd(const cli_prog *p, const cli_cmd *c, int argc, char **argv)
{
    long rank = p->rank0_only && !c->mpi ? launcher_rank() : -1;
    if (rank > 0) return 0;
    if (rank == 0 && getenv("OMPI_COMM_WORLD_SIZE") &&
        strcmp(getenv("OMPI_COMM_WORLD_SIZE"), "1") != 0)
        fprintf(stderr,
                "%s %s: started by an MPI launcher: only rank 0 runs it "
                "(sweep is the command that spreads over ranks)\n",
                p->name, c->name);
    return c->fn(argc, argv);
}

int cli_main(const cli_prog *p, int argc, char **argv)
{
    if (argc < 2) {
        usage(p, stderr);
        return SFT_EINPUT;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(p, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("%s %s\n", p->name, SFT_VERSION);
        return 0;
    }
    /* an interrupted run leaves no temporary behind (base.h) */
    sft_cleanup_on_signals();
    for (int i = 0; i < p->ncmds; i++)
        if (strcmp(argv[1], p->cmds[i].name) == 0)
            return run_cmd(p, &p->cmds[i], argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n\n", p->name, argv[1]);
    usage(p, stderr);
    return SFT_EINPUT;
}
