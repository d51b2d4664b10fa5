/* llm_est.h — the decoder family's terms for the schedulers' estimate
 * (models/sched/estimate.h), from the kernel costs its program builder
 * uses (opcost.h) and the collectives' closed form (coll_estimate): per
 * token and layer the linear work of each phase, per sequence the attention
 * (sharded as the CP flavour shards it), per distributed volume the CP
 * exchange the builder issues, and ZeRO-2's gradient reduce-scatter.
 */
#ifndef SFT_LLM_EST_H
#define SFT_LLM_EST_H

#include "models/llm/arch.h"
#include "models/sched/estimate.h"
#include "models/sched/par.h"
#include "sim/cluster.h"

/* Creates an estimator for a on cost model c and cluster cl (all borrowed:
 * they must outlive it) under layout par (copied); bucket (tokens per GPU)
 * is the token count the linear terms are measured at (8192 when 0). */
est *llm_est_create(const arch *a, const cost *c, const clu_desc *cl, const par_opts *par,
                    long bucket);

#endif
