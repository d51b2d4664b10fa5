/* main.c — `sftsim-validate`: the validation harness's entry point. It
 * dispatches to the subcommands: measure (kernels -> calibration table),
 * compare (a table's predictions vs measured times) and paper (simulated vs
 * published figures). One file per subcommand (val_measure.c, val_compare.c,
 * val_paper.c); exit codes as sftsim's (DESIGN §3). */
#include <stdio.h>
#include <string.h>

#include "validate/val.h"

typedef struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cmd;

static const cmd cmds[] = {
    {"measure", val_measure, "time the attention and GEMM kernels over a grid -> calibration JSON"},
    {"compare", val_compare, "predict measured shapes from a calibration table: errors and MAPE"},
    {"paper", val_paper, "simulated vs published figures (Skrull Table 5 collectives)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sftsim-validate COMMAND [options]   (COMMAND --help for its options)\n\n"
               "Validates sftsim's timing model against real kernels and published figures.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 internal error (or a failed numerics check), 2 bad input,\n"
               "3 cannot run here (e.g. --backend cuda without a usable GPU)\n");
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
        printf("sftsim-validate %s\n", SFT_VERSION);
        return 0;
    }
    sft_cleanup_on_signals(); /* no temporary outlives an interrupted run */
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sftsim-validate: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return SFT_EINPUT;
}
