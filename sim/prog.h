/* prog.h — programs: what each GPU executes, the engine's input.
 *
 * A program holds, per GPU, two streams (compute and communication, like CUDA
 * streams) of ops executed in order. Streams synchronise through events
 * (RECORD on one stream, WAIT on another, on any GPU) and through
 * collectives: a COLL op refers to a collective instance (operation, group,
 * bytes) and appears exactly once on a communication stream of every member.
 * Memory ops (ALLOC/FREE) take no time and drive the per-GPU memory curve.
 *
 * Invariants (checked by prog_check): every collective instance has exactly
 * one COLL op per group member, on that member's comm stream; every event is
 * recorded exactly once; ids are in range.
 */
#ifndef SFT_PROG_H
#define SFT_PROG_H

#include <stdint.h>

#include "base/base.h"

/* Streams: compute; communication of the context-parallel group (CP K/V
 * traffic, and every collective of generic programs); communication of the
 * data-parallel world (gradient reduction, parameter all-gather: DeepSpeed
 * runs it on its own stream, so it overlaps CP traffic). */
enum { PROG_COMPUTE = 0, PROG_COMM = 1, PROG_DP = 2, PROG_NSTREAMS = 3 };

typedef enum prog_kind {
    PK_COMPUTE, /* t seconds of GPU work at full speed (flops for reports) */
    PK_DELAY,   /* t seconds the stream is held by the host (launch, framework) */
    PK_MEMORY,  /* bytes of HBM traffic through the GPU's HBM link */
    PK_COLL,    /* collective instance `ref` */
    PK_RECORD,  /* record event `ref` */
    PK_WAIT,    /* wait for event `ref` */
    PK_ALLOC,   /* bytes allocated */
    PK_FREE,    /* bytes freed */
    PK_NKINDS
} prog_kind;

typedef struct prog_op {
    uint8_t kind;            /* prog_kind */
    uint8_t cat;             /* caller's category (e.g. attention, gemm), for reports */
    uint16_t name;           /* interned string id */
    int32_t ref;             /* collective or event id */
    int32_t step, mb, layer; /* -1 where it does not apply */
    uint32_t launches;       /* host dispatches this op stands for (see below) */
    double t;                /* COMPUTE, DELAY: seconds */
    double bytes;            /* MEMORY, COLL, ALLOC, FREE */
    double flops;            /* COMPUTE */
} prog_op;

typedef struct prog prog;

/* Creates an empty program for ngpus GPUs (prog_destroy). */
prog *prog_create(int ngpus);
void prog_destroy(prog *p);
int prog_ngpus(const prog *p);

/* Largest name id: prog_op.name is 16 bits. */
#define PROG_MAX_NAME 65535

/* Interns a name (copied); returns its id (0..PROG_MAX_NAME). One name more
 * than that many distinct ones aborts with a message (a builder bug or a
 * model with absurdly many op names: an id must never wrap). */
int prog_intern(prog *p, const char *name);
/* The name of id (borrowed: valid while p lives), "?" when out of range. */
const char *prog_string(const prog *p, int id);
int prog_nstrings(const prog *p);

/* Registers a group of GPUs (copied; identical groups share one id). */
int prog_group(prog *p, const int *gpus, int n);
/* Members of group id (borrowed: valid until the next prog_group) and their
 * count. */
const int *prog_group_members(const prog *p, int id, int *n);
/* A new collective instance; returns its id (< INT32_MAX, else aborts).
 * root indexes the group. */
int prog_coll(prog *p, int op, int group, double bytes, int root);
int prog_ncolls(const prog *p);
void prog_coll_get(const prog *p, int id, int *op, int *group, double *bytes, int *root);
/* A new event; returns its id (< INT32_MAX, else aborts). */
int prog_event(prog *p);
int prog_nevents(const prog *p);

/* Host dispatch (eager frameworks: one host thread issues every kernel and
 * collective of a GPU, one framework call each). The host issues a GPU's
 * ops in push order over all its streams (prog_issue_order), each COMPUTE,
 * MEMORY and COLL op costing `launches` x the program's dispatch cost
 * (prog_push sets 1; a builder that merges kernels into one op adds theirs);
 * RECORD, WAIT, ALLOC and FREE cost nothing but keep their place in the
 * order; a DELAY is a synchronisation (the host waits for the stream to
 * reach it, then does its work: its end is the host's clock). The engine
 * starts no op before the host has issued it (engine.h). Dispatch cost 0
 * (the default) turns the host model off: programs run as before. */
void prog_set_dispatch(prog *p, double seconds);
double prog_dispatch(const prog *p);
/* The streams of GPU g's ops in push order (borrowed, *n entries; valid
 * until the next push on g): entry k names the stream whose next op the
 * host issues k-th. */
const uint8_t *prog_issue_order(const prog *p, int g, size_t *n);

/* Appends an op to (gpu, stream); returns it zeroed except kind, name,
 * launches (1 for COMPUTE, MEMORY and COLL, else 0) and step/mb/layer = -1. The pointer is valid
 * until the next push on that stream. name must be an id prog_intern returned (checked). */
prog_op *prog_push(prog *p, int gpu, int stream, prog_kind kind, int name);
int prog_nops(const prog *p, int gpu, int stream);
/* The last op of (gpu, stream) for in-place merging, or NULL when empty;
 * borrowed, valid until the next push on that stream. */
prog_op *prog_last(prog *p, int gpu, int stream);
/* The prog_nops ops of (gpu, stream), borrowed: valid until the next push on
 * that stream. */
const prog_op *prog_ops(const prog *p, int gpu, int stream);
uint64_t prog_total_ops(const prog *p);

/* Checks the invariants above; EINTERNAL with the first violation. */
sft_status prog_check(const prog *p, sft_err *e);

#endif
