/* opcost.h — what one decoder op costs on one GPU: its duration from the
 * kernel cost model (models/hw/cost.h) and its FLOPs. One source of truth:
 * the program builder (build.c) and the schedulers' estimates (estimate.c)
 * both call these.
 *
 * Ownership: pure functions; every pointer argument is borrowed.
 */
#ifndef SFT_OPCOST_H
#define SFT_OPCOST_H

#include "models/hw/cost.h"
#include "models/llm/arch.h"

/* Duration of one arch op for T tokens (attention: over s[0..nseq)). */
double llm_op_time(const cost *c, const arch *a, const arch_op *op, double T, const cost_seq *s,
                   int nseq);
/* FLOPs of one arch op (same arguments), for reports and MFU. */
double llm_op_flops(const arch *a, const arch_op *op, double T, const cost_seq *s, int nseq);
/* Fixed time of a micro-batch whatever it holds: every kernel's launch gap. */
double llm_mb_fixed(const cost *c, const arch *a);

/* One CP rank's causal attention kernel for one sequence of len tokens
 * sharded over cp ranks in load-balanced chunks (cost_shard, what the
 * all-gather and ring flavours charge; cp 1 = the whole sequence), forward
 * [0] and backward [1] (the small-shape effect of Skrull, arXiv 2505.19609, Figure 1b). */
typedef struct llm_attn_cp_pt {
    double q, k;          /* the rank's query tokens and their key equivalent */
    double flops[2];      /* model FLOPs of the rank's share */
    double time_s[2];     /* kernel time, launch gap included */
    double tflops[2];     /* flops / (time - launch gap): the calibration's throughput */
    double tflops_eff[2]; /* flops / time: with the launch gap */
    double slowdown;      /* cp x (fwd + bwd time) / (fwd + bwd time at cp 1): 1 = no loss */
} llm_attn_cp_pt;
void llm_attn_cp(const cost *c, const arch *a, double len, int cp, llm_attn_cp_pt *out);

#endif
