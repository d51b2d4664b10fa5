/* family.h — the decoder-LLM workload family (models/workload.h): model
 * files of models/llm/archs (arch.h), token sequences as samples, every
 * policy of models/sched, the estimator of llm_est.h, the memory model of
 * memory.h and the program builder of build.h.
 */
#ifndef SFT_LLM_FAMILY_H
#define SFT_LLM_FAMILY_H

#include "models/llm/arch.h"
#include "models/workload.h"

extern const wl_family wl_family_llm;

/* The architecture of an llm model (borrowed from m), or NULL when m is of
 * another family. */
const arch *llm_arch(const wl_model *m);

#endif
