/* cli_pending.c — subcommands whose issues have not landed yet: they say so
 * and exit 2, so scripts can tell "not available" from a crash. */
#include <stdio.h>
#include <string.h>

#include "sim/cli/cli.h"

static int pending(const char *name, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: sftsim %s [options]\n\nnot yet available in this build.\n", name);
            return 0;
        }
    fprintf(stderr, "sftsim %s: not yet available in this build\n", name);
    return SFT_EINPUT;
}

int cli_sweep(int argc, char **argv) { return pending("sweep", argc, argv); }
