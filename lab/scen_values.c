/* scen_values.c — the scenario options' value table (scen_values.h). Each
 * bound says why it is where it is. */
#include "lab/scen_values.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

static const scen_value_rule rules[] = {
    /* clu_scale's bound: beyond any cluster built or planned (10^5 GPUs) */
    {"gpus", SV_INT, 1, 131072, NULL},
    {"dp", SV_INT, 1, 131072, NULL},
    /* a CP group spans at most 8 nodes of 8: Skrull and DeepSpeed use <= 32 */
    {"cp", SV_INT, 1, 64, NULL},
    /* one global batch of at most 10^6 samples per DP rank */
    {"batch", SV_INT, 1, 1000000, NULL},
    /* 10^8 tokens per GPU is 100x what an H200's memory holds of any model */
    {"bucket", SV_INT, 1, 100000000, NULL},
    /* 0 = every batch of --trace; 10^5 steps is a long fine-tuning run;
     * also auto[:CAP] (scen_steps_auto) */
    {"steps", SV_INT, 0, 100000, NULL},
    {"seed", SV_INT, 0, 2147483647, NULL},
    {"zero", SV_INT, 0, 3, NULL},
    {"max-len", SV_INT, 1, 100000000, NULL},
    /* a minute of framework time per micro-batch is past any real loader;
     * unbounded values overflow the engine's clock */
    {"host-overhead-ms", SV_NUMBER, 0, 60000, NULL},
    {"cp-impl", SV_WORDS, 0, 0, "allgather, ulysses, ring"},
    {"ds-pack", SV_WORDS, 0, 0, "on, off"},
    {"rollback", SV_WORDS, 0, 0, "on, off"},
    {"granularity", SV_WORDS, 0, 0, "op, layer"},
    {"cp-exchange", SV_WORDS, 0, 0, "fused, per-seq"},
    {"attn-call", SV_WORDS, 0, 0, "varlen, per-seq"},
    /* auto: what DeepSpeed v0.16.5 does (runtime/zero/stage_1_and_2.py, runtime/engine.py),
       resolved in scenario.c */
    {"grad-coll", SV_WORDS, 0, 0, "auto, allreduce, reducescatter"},
    {"grad-dtype", SV_WORDS, 0, 0, "auto, fp32, bf16"},
    {"overlap-comm", SV_WORDS, 0, 0, "auto, on, off"},
    /* a millisecond per kernel is 100x the slowest eager dispatch measured
     * (PyTorch's ~7 us, scenario.c) */
    {"dispatch-us", SV_NUMBER, 0, 1000, NULL},
};

const scen_value_rule *scen_value_rule_of(const char *opt)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].opt, opt) == 0) return &rules[i];
    return NULL;
}

static int is_word(const char *words, const char *v)
{
    size_t n = strlen(v);
    for (const char *w = words; *w;) {
        size_t k = strcspn(w, ",");
        if (k == n && strncmp(w, v, n) == 0) return 1;
        w += k;
        while (*w == ',' || *w == ' ') w++;
    }
    return 0;
}

int scen_steps_auto(const char *v, long *cap)
{
    if (strncmp(v, "auto", 4) != 0) return 0;
    *cap = SCEN_AUTO_CAP;
    if (v[4] == 0) return 1;
    if (v[4] != ':') return -1;
    return sft_parse_long(v + 5, SCEN_AUTO_CAP_MIN, (long)scen_value_rule_of("steps")->hi, cap) ? -1
                                                                                                : 1;
}

int scen_value_bad(const char *opt, const char *v, char *why, size_t n)
{
    const scen_value_rule *r = scen_value_rule_of(opt);
    if (!r) return 0;
    if (strcmp(opt, "steps") == 0) {
        long cap;
        int a = scen_steps_auto(v, &cap);
        if (a == 1) return 0;
        if (a < 0 || sft_parse_long(v, (long)r->lo, (long)r->hi, &cap) != 0) {
            snprintf(why, n,
                     "expected an integer in [%.0f, %.0f], or auto (until the standard error of "
                     "the mean step time is below %.0f%% of it, at most %d steps) or auto:CAP "
                     "with CAP in [%d, %.0f]",
                     r->lo, r->hi, 100 * SCEN_AUTO_REL_SE, SCEN_AUTO_CAP, SCEN_AUTO_CAP_MIN, r->hi);
            return 1;
        }
        return 0;
    }
    if (r->kind == SV_WORDS) {
        if (is_word(r->words, v)) return 0;
        snprintf(why, n, "valid values are %s", r->words);
        return 1;
    }
    if (r->kind == SV_INT) {
        long x;
        if (sft_parse_long(v, (long)r->lo, (long)r->hi, &x) == 0) return 0;
        snprintf(why, n, "expected an integer in [%.0f, %.0f]", r->lo, r->hi);
        return 1;
    }
    double d;
    if (sft_parse_double(v, &d) == 0 && d >= r->lo && d <= r->hi) return 0;
    snprintf(why, n, "expected a number in [%g, %g]", r->lo, r->hi);
    return 1;
}
