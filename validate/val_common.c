/* val_common.c — what the subcommands of `sftsim-validate` share beyond
 * cli/'s helpers (val.h): the time a table records. */
#include <time.h>

#include "validate/val.h"

void val_utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
