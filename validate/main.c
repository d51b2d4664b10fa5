/* main.c — `sftsim-validate`: the validation harness's entry point. It
 * dispatches (cli_main, the same as sftsim's) to the subcommands: measure
 * (kernels -> calibration table), compare (a table's predictions vs measured
 * times) and paper (simulated vs published figures). One file per
 * subcommand (val_measure.c, val_compare.c, val_paper.c); exit codes as
 * sftsim's (ARCHITECTURE.md, "Contracts"). */
#include "cli/cli.h"
#include "validate/val.h"

static const cli_cmd cmds[] = {
    {"measure", val_measure, "time the attention and GEMM kernels over a grid -> calibration JSON",
     0},
    {"compare", val_compare, "predict measured shapes from a calibration table: errors and MAPE",
     0},
    {"paper", val_paper, "simulated vs published figures (Skrull Table 5 collectives)", 0},
};

static const cli_prog validate = {
    VAL_PROG,
    "usage: sftsim-validate COMMAND [options]   (COMMAND --help for its options)\n\n"
    "Validates sftsim's timing model against real kernels and published figures.\n\n"
    "commands:\n",
    9,
    "\nexit codes: 0 ok, 1 internal error (or a failed numerics check), 2 bad input,\n"
    "3 cannot run here (e.g. --backend cuda without a usable GPU)\n",
    cmds,
    (int)(sizeof cmds / sizeof cmds[0]),
    0,
};

int main(int argc, char **argv)
{
    return cli_main(&validate, argc, argv);
}
