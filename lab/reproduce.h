/* reproduce.h — the Skrull paper's experiment (REFERENCE §1.4) in one call:
 * Qwen2.5-0.5B and 7B x Wikipedia, LMsysChat1M, ChatQA2 on its 32-H100
 * cluster (h100x32), DP 4 x CP 8 with 64 sequences per DP rank (7B on
 * ChatQA2: DP 2 x CP 16, 40 per rank), BucketSize 26K (0.5B) and 13K (7B);
 * deepspeed (both baseline variants: packed micro-batches, and one sequence
 * per micro-batch), sorted and skrull; step times and speedups beside the
 * paper's headline (3.76x on average, up to 7.54x). The settings run in
 * parallel workers (pool.h).
 *
 * Ownership: repro_run creates the document it returns; every other pointer
 * argument is borrowed. */
#ifndef SFT_REPRODUCE_H
#define SFT_REPRODUCE_H

#include <cjson/cJSON.h>

#include "lab/scenario.h"

/* The scenario option o gives that the experiment fixes (the first in
 * option order), or -1 when none: it takes --steps, --seed,
 * --granularity, --calibration, --host-overhead-ms and --dispatch-us. */
int repro_fixed_option(const scen_opts *o);

/* Runs the six settings over o (the options repro_fixed_option allows) in
 * jobs workers, progress on stderr when progress. Every setting is resolved
 * and every output directory (o->out and a folder per setting under it,
 * where each setting's reports go) made ready before the first runs. On
 * success creates *doc: {"settings":[{"setting","model","dataset","dp",
 * "cp","batch","bucket","deepspeed_packed_s","deepspeed_unpacked_s",
 * "sorted_s","skrull_s","speedup_vs_packed","speedup_vs_unpacked",
 * "skrull_oom","deepspeed_oom","rows_packed","rows_unpacked"}],
 * "headline":{"paper_mean_speedup","paper_max_speedup",
 * "mean_speedup_vs_packed","max_speedup_vs_packed",
 * "mean_speedup_vs_unpacked","max_speedup_vs_unpacked"}}; a time or
 * speedup that could not be had is 0. */
sft_status repro_run(const scen_opts *o, int jobs, int progress, cJSON **doc, sft_err *e);

/* Writes doc (repro_run's) as dir/reproduce.json. */
sft_status repro_write(const char *dir, const cJSON *doc, sft_err *e);

#endif
