/* reproduce.h — the Skrull paper's experiment (Skrull, arXiv 2505.19609, its experimental setup) in
 * one call: Qwen2.5-0.5B and 7B x Wikipedia, LMsysChat1M, ChatQA2 on its 32-H100 cluster (h100x32),
 * DP 4 x CP 8 with 64 sequences per DP rank (7B on ChatQA2: DP 2 x CP 16, 40 per rank), BucketSize
 * 26K (0.5B) and 13K (7B); deepspeed (both baseline variants: packed micro-batches, and one
 * sequence per micro-batch), sorted and skrull; step times and speedups beside the paper's headline
 * (3.76x on average, up to 7.54x). The settings run in parallel workers (pool.h).
 *
 * Ownership: repro_run creates the document it returns; every other pointer
 * argument is borrowed. */
#ifndef SFT_REPRODUCE_H
#define SFT_REPRODUCE_H

#include <cjson/cJSON.h>

#include "lab/scenario.h"

/* reproduce's --steps when none is given: auto with a cap of 16 steps
 * (auto's 64 takes the six settings past two minutes on 2 cores) */
#define REPRO_STEPS "auto:16"

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
 * speedup that could not be had is 0. Each time has its standard error
 * (..._se_s) and each speedup its error (..._se), the headline's means
 * too; "steps" is the count the first pass simulated for the setting
 * (--steps auto: until deepspeed's, sorted's and skrull's errors are below
 * 2% or the cap), "steps_unpacked" the second's (the same count for a
 * fixed --steps; under auto its own rule capped at "steps", a prefix of
 * the same batches: the speedup's error treats the two means as
 * independent either way). Then
 * "steps_option" (--steps as run, REPRO_STEPS by default) and
 * "case_study" (repro_case_study's document). */
sft_status repro_run(const scen_opts *o, int jobs, int progress, cJSON **doc, sft_err *e);

/* The paper's case study alone: Qwen2.5-0.5B, ChatQA2, DP 1 x CP 8 on 8
 * GPUs of h100x32, 64 sequences, bucket 26000; deepspeed, roundrobin and
 * skrull with --rollback on and off, over --steps N (8 when o gives auto
 * or nothing). Creates *doc: {"model","dataset","gpus","dp","cp","batch",
 * "bucket","steps","usable_mem_bytes","rows":[{"policy","rollback",
 * "status","oom","per_step":[{"step","peak_mem_bytes_min",
 * "peak_mem_bytes_max","oom"}]}]} (rows: roll-back on, then off, in
 * policy order; min and max over the GPUs of each one's peak in the
 * step). An OOM is a result (status "oom"), not an error. */
sft_status repro_case_study(const scen_opts *o, int jobs, int progress, cJSON **doc, sft_err *e);

/* Writes doc (repro_run's) as dir/reproduce.json. */
sft_status repro_write(const char *dir, const cJSON *doc, sft_err *e);

#endif
