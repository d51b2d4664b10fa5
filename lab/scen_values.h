/* scen_values.h — the one table of scenario option values that need no
 * other option and no file: integer ranges, number ranges, keywords.
 *
 * scen_resolve takes its bounds and keywords from here (and then applies
 * the context: dp x cp = GPUs, --steps >= 1 without --trace); sweep checks
 * every item of every list against it before any point runs. Options whose
 * values are names or files (cluster, model, dataset, trace, calibration,
 * policy) have no row: their loaders check them. Depends on base/ only, so
 * fuzz targets link it alone. Every pointer argument is borrowed.
 */
#ifndef SFT_SCEN_VALUES_H
#define SFT_SCEN_VALUES_H

#include <stddef.h>

typedef enum scen_value_kind { SV_INT, SV_NUMBER, SV_WORDS } scen_value_kind;

typedef struct scen_value_rule {
    const char *opt; /* option name without the dashes */
    scen_value_kind kind;
    double lo, hi;     /* SV_INT, SV_NUMBER: inclusive bounds */
    const char *words; /* SV_WORDS: ", "-separated keywords */
} scen_value_rule;

/* The rule of option opt, or NULL when it has none. */
const scen_value_rule *scen_value_rule_of(const char *opt);
/* 0 when v is a valid value of opt on its own (always for options without
 * a rule); else 1 with the reason, without the option, in why (e.g.
 * "expected an integer in [1, 131072]"). */
int scen_value_bad(const char *opt, const char *v, char *why, size_t n);

/* --steps auto[:CAP]: simulate until the standard error of every compared
 * mean step time is below SCEN_AUTO_REL_SE of the mean, or CAP steps
 * (SCEN_AUTO_CAP for plain "auto"); CAP in [SCEN_AUTO_CAP_MIN, the steps
 * rule's maximum]. The first round simulates SCEN_AUTO_FIRST steps (CAP if
 * lower). */
#define SCEN_AUTO_REL_SE  0.02
#define SCEN_AUTO_CAP     64
#define SCEN_AUTO_CAP_MIN 2
#define SCEN_AUTO_FIRST   8
/* 0 when v does not start with "auto"; 1 with *cap when it is a valid
 * auto[:CAP]; -1 when it starts with "auto" but is not valid. */
int scen_steps_auto(const char *v, long *cap);

#endif
