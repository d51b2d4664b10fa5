/* events.h — what every report of a simulated run reads, and the one
 * conversion of the engine's times into the integer nanoseconds all reports
 * share.
 *
 * A report source (rep_src) bundles, for one policy, the program, its event
 * log, its summary and its plans (all borrowed). Every op of every stream is
 * one event: the HDF5 timeline writes one /events row per op and the Chrome
 * trace one X slice per op, zero-duration ones (RECORD, WAIT on a recorded
 * event, ALLOC, FREE) included.
 *
 * Invariants: rep_stream_ns gives, for one (GPU, stream), times that never go
 * backwards: start[i] <= end[i] <= start[i+1]. The timeline, the trace and
 * the summary's busy_ns all use it, so their sums agree to the nanosecond and
 * no two slices of one stream overlap, whatever the rounding.
 */
#ifndef SFT_REP_EVENTS_H
#define SFT_REP_EVENTS_H

#include <stdint.h>

#include "models/sched/plan.h"
#include "reports/summary.h"
#include "sim/engine.h"
#include "sim/prog.h"

typedef struct rep_src {
    const char *policy;       /* borrowed: HDF5 group, panel and process names */
    const prog *p;            /* borrowed */
    const eng_result *r;      /* borrowed: the event log of p */
    const rep_run *run;       /* borrowed: the summary of (p, r) */
    const plan *const *plans; /* borrowed: one per step (NULL when nplans is 0) */
    int nplans;
    int dp, cp; /* layout: GPU g is DP rank g / cp, CP rank g % cp */
    /* Names of the op categories 0..ncats-1 (prog_op.cat); NULL: numbers. */
    const char *(*cat_name)(int cat);
    int ncats;
} rep_src;

/* Seconds to integer nanoseconds, rounded to nearest. */
int64_t rep_ns(double seconds);

/* Fills start[i], end[i] (nanoseconds) for the ops of (gpu, stream), clamped
 * so that they never go backwards (see the invariants). The arrays hold at
 * least prog_nops(p, gpu, stream) entries (borrowed). */
void rep_stream_ns(const prog *p, const eng_result *r, int gpu, int stream, int64_t *start,
                   int64_t *end);

/* Nanoseconds GPU gpu's compute stream spent in COMPUTE and DELAY ops over
 * the whole run: the sum of end - start of rep_stream_ns. */
int64_t rep_busy_ns(const prog *p, const eng_result *r, int gpu);

/* Ends of the steps (seconds), as the summary defines them: step k ends when
 * its last op ends on any GPU, never before step k-1. Creates an array of
 * nsteps entries (caller frees); *nsteps receives the count (0: NULL). */
double *rep_step_ends(const prog *p, const eng_result *r, int *nsteps);

/* Names of prog_kind values ("compute", "delay", ...) and of the streams
 * ("compute", "comm", "dp"); "?" out of range. Static strings. */
const char *rep_kind_name(int kind);
const char *rep_stream_name(int stream);
/* The category's name through src->cat_name, else (no name function, or
 * cat out of 0..ncats-1) its number, formatted in buf. Returns cat_name's
 * string or buf (borrowed either way). */
const char *rep_cat_name(const rep_src *src, int cat, char *buf, size_t len);

/* One GPU's memory curve: every ALLOC and FREE in the order of their
 * integer-nanosecond times (rep_stream_ns), ties broken by stream and then
 * by position in the stream. Never by value, and never by the engine's raw
 * doubles: two simulations of the same program must count the same peak,
 * and float rounding makes equal times unequal, even within one stream (a
 * FREE followed by an ALLOC at the same instant came out an ulp apart in
 * the wrong order, and which way depended on the absolute SimGrid clock,
 * that is on what the process had simulated before). rep_stream_ns's times
 * never decrease along a stream, so one stream's ops keep their program
 * order. */
typedef struct rep_memev {
    double t;     /* seconds: ns * 1e-9 */
    int64_t ns;   /* the sort key */
    double delta; /* bytes: + allocated, - freed */
    int32_t step; /* the op's step (-1: none) */
    uint64_t ord; /* stream << 40 | index, the tie-break */
} rep_memev;

/* Creates the memory events of GPU gpu (caller frees); *n receives the count. */
rep_memev *rep_memory_events(const prog *p, const eng_result *r, int gpu, int *n);

#endif
