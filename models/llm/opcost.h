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

#endif
