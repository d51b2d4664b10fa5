/* build.c — plans to programs (see build.h for the step's structure).
 *
 * Emission runs a CP group in lockstep (for each micro-batch, layer and op,
 * every CP rank in turn) so that a CP collective is created once and pushed
 * to each member. World collectives (gradients, parameters) are created per
 * step before emission, indexed by round, and every GPU refers to the same
 * ids. A layer's op durations are the same for every layer of a micro-batch:
 * they are computed once per (micro-batch, GPU).
 */
#include "models/llm/build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/llm/memory.h"
#include "models/llm/opcost.h"
#include "sim/coll.h"

#define BUCKET_ELEMS 5e8  /* DeepSpeed's reduce_bucket_size / allgather_bucket_size */
#define ADAM_BYTES   30.0 /* per parameter: read fp32 p, m, v, grad; write p, m, v, bf16 p */
#define MAXOPS       32

enum { DIR_FWD, DIR_BWD, DIR_OTHER };

typedef struct gpu_mb {
    double T;            /* tokens on this GPU */
    cost_seq *loc, *dst; /* local sequences; this rank's shares of distributed ones */
    int nloc, ndst;
    double t_fwd[MAXOPS], f_fwd[MAXOPS], t_bwd[MAXOPS], f_bwd[MAXOPS]; /* per layer op */
    double t_attn_loc[2], f_attn_loc[2], t_attn_dst[2], f_attn_dst[2];
    /* --attn-call per-seq: each sequence's own kernel (launch gap included) */
    double *tl1[2], *fl1[2], *td1[2], *fd1[2];
    double t_head[2][2][8], f_head[2][2][8]; /* [before][bwd][op] */
} gpu_mb;

typedef struct step_ids {
    int rounds, nbuckets;
    int *rs;                    /* zero 2: rounds x nbuckets bucket reductions */
    int *fin;                   /* zero 0/1: nbuckets final reductions */
    int *ag_fwd, *ag_bwd, *rs3; /* zero 3: rounds x layers */
    int ag_params;              /* zero 1/2: parameter all-gather, -1 otherwise */
} step_ids;

struct bld {
    prog *p;
    const arch *a;
    const cost *c;
    const clu_desc *cl;
    int dp, cp, world;
    par_opts par;
    int layer_granularity;
    arch a_uly; /* heads / CP: the attention one rank computes under Ulysses */
    int grp_world, *grp_cp;
    double flops;
    /* op names */
    int nm_fwd[MAXOPS], nm_bwd[MAXOPS], nm_head[2][2][8];
    int nm_host, nm_optim, nm_act, nm_logits, nm_kvbuf, nm_static, nm_attn_dst[2];
    int nm_layer[3], nm_ev, nm_wait;
    int nm_cp_fwd, nm_cp_bwd, nm_cp_rs, nm_cp_o, nm_grad, nm_params, nm_ag_layer;
    /* gradient buckets, closing after a layer's backward (layer order L-1..0) */
    int *bucket_after; /* per layer: bucket id or -1 */
    double *bucket_bytes;
    int nbuckets;
    int *ready_ev; /* per GPU: event the next step's forward waits for, or -1 */
    int *grad_ev;  /* per GPU: the last overlapped bucket reduction's event, or -1 */
    int started;
    gpu_mb *gm;      /* cp entries, reused */
    int *kv_ev;      /* K/V all-gathers issued for the next attention: CP rank c's
                      * event after exchange i is kv_ev[c * kv_nx + i] */
    int kv_nx;       /* exchanges issued: 1 (fused) or one per distributed sequence */
    double kv_bytes; /* and their total size, 0 when none is pending */
    double *xtok;    /* tokens of each exchange (xchg_tokens), reused */
    int xcap;
};

const char *bld_cat_name(int cat)
{
    static const char *const n[BLD_NCATS] = {"gemm",      "attention", "elementwise", "host",
                                             "optimizer", "cp_comm",   "grad_comm",   "sync"};
    return cat >= 0 && cat < BLD_NCATS ? n[cat] : "?";
}

/* Gradient buckets in backward order (layers L-1..0, then the embeddings
 * and the final norm): after[l] = the bucket that closes after layer l's
 * backward, or -1; bytes[k] = bucket k's size on the wire (elements x the
 * gradient dtype's bytes). Returns the bucket count. */
static int grad_buckets(const arch *a, const par_opts *par, int *after, double *bytes)
{
    double acc = 0, lp = arch_layer_params(a), eb = par_grad_bytes(par);
    int n = 0;
    for (int l = a->layers - 1; l >= 0; l--) {
        acc += lp;
        after[l] = -1;
        if (acc >= BUCKET_ELEMS && l > 0) {
            bytes[n] = eb * acc;
            after[l] = n++;
            acc = 0;
        }
    }
    bytes[n++] = eb * (acc + arch_embed_params(a) + a->hidden);
    return n;
}

/* The collective a ZeRO stage reduces a bucket with: ZeRO-0 all-reduces
 * (every rank keeps every gradient), ZeRO-3 reduce-scatters (stage3.py),
 * ZeRO-1/2 as par->grad_coll says. */
static int grad_op(const par_opts *par)
{
    if (par->zero == 0) return COLL_ALL_REDUCE;
    if (par->zero == 3) return COLL_REDUCE_SCATTER;
    return par->grad_coll == PAR_GRAD_REDUCESCATTER ? COLL_REDUCE_SCATTER : COLL_ALL_REDUCE;
}

void bld_grad_times(const arch *a, const clu_desc *cl, const par_opts *par, double *total,
                    double *last)
{
    int W = par->dp * par->cp, L = a->layers;
    *total = *last = 0;
    if (W < 2) return;
    int *g = sft_xmalloc((size_t)W * sizeof *g), *after = sft_xmalloc((size_t)L * sizeof *after);
    double *bytes = sft_xcalloc((size_t)L + 1, sizeof *bytes);
    for (int i = 0; i < W; i++) g[i] = i;
    if (par->zero == 3) {
        double t = coll_estimate(cl, COLL_REDUCE_SCATTER, g, W,
                                 par_grad_bytes(par) * arch_layer_params(a));
        *total = L * t;
        *last = t;
    } else {
        int n = grad_buckets(a, par, after, bytes);
        for (int k = 0; k < n; k++) {
            *last = coll_estimate(cl, grad_op(par), g, W, bytes[k]);
            *total += *last;
        }
    }
    free(g);
    free(after);
    free(bytes);
}

bld *bld_create(prog *p, const arch *a, const cost *c, const clu_desc *cl, const par_opts *par,
                int layer_granularity)
{
    int dp = par->dp, cp = par->cp;
    bld *b = sft_xcalloc(1, sizeof *b);
    b->p = p;
    b->a = a;
    b->c = c;
    b->cl = cl;
    b->dp = dp;
    b->cp = cp;
    b->world = dp * cp;
    b->par = *par;
    b->layer_granularity = layer_granularity;
    prog_set_dispatch(p, par->dispatch_s);
    b->a_uly = *a;
    if (a->heads % cp == 0) b->a_uly.heads = a->heads / cp;
    b->a_uly.kv_heads = a->kv_heads >= cp ? a->kv_heads / cp : 1;

    int *g = sft_xmalloc((size_t)b->world * sizeof *g);
    for (int i = 0; i < b->world; i++) g[i] = i;
    b->grp_world = prog_group(p, g, b->world);
    b->grp_cp = sft_xmalloc((size_t)dp * sizeof *b->grp_cp);
    for (int d = 0; d < dp; d++) b->grp_cp[d] = prog_group(p, g + d * cp, cp);
    free(g);

    arch_op ops[ARCH_MAX_OPS];
    int n = arch_layer_ops(a, 0, ops);
    for (int i = 0; i < n; i++) b->nm_fwd[i] = prog_intern(p, ops[i].name);
    n = arch_layer_ops(a, 1, ops);
    for (int i = 0; i < n; i++) b->nm_bwd[i] = prog_intern(p, ops[i].name);
    for (int before = 0; before < 2; before++)
        for (int bwd = 0; bwd < 2; bwd++) {
            n = arch_head_ops(a, bwd, before, ops);
            for (int i = 0; i < n; i++) b->nm_head[before][bwd][i] = prog_intern(p, ops[i].name);
        }
    b->nm_host = prog_intern(p, "host_overhead");
    b->nm_optim = prog_intern(p, "optimizer_adam");
    b->nm_act = prog_intern(p, "activations");
    b->nm_logits = prog_intern(p, "logits");
    b->nm_kvbuf = prog_intern(p, "cp_buffers");
    b->nm_static = prog_intern(p, "static_memory");
    b->nm_attn_dst[0] = prog_intern(p, "attention_dist");
    b->nm_attn_dst[1] = prog_intern(p, "attention_dist_bwd");
    b->nm_layer[DIR_FWD] = prog_intern(p, "layer_fwd");
    b->nm_layer[DIR_BWD] = prog_intern(p, "layer_bwd");
    b->nm_layer[DIR_OTHER] = prog_intern(p, "step_other");
    b->nm_ev = prog_intern(p, "record");
    b->nm_wait = prog_intern(p, "wait");
    b->nm_grad = prog_intern(p, "grad_reduce");
    b->nm_params = prog_intern(p, "param_allgather");
    b->nm_ag_layer = prog_intern(p, "zero3_param_allgather");
    switch (par->cp_impl) {
    case PAR_ULYSSES:
        b->nm_cp_fwd = prog_intern(p, "cp_a2a_qkv");
        b->nm_cp_o = prog_intern(p, "cp_a2a_o");
        b->nm_cp_bwd = prog_intern(p, "cp_a2a_dqkv");
        b->nm_cp_rs = prog_intern(p, "cp_a2a_do");
        break;
    case PAR_RING:
        b->nm_cp_fwd = prog_intern(p, "cp_ring_kv");
        b->nm_cp_bwd = prog_intern(p, "cp_ring_kv_dkv");
        b->nm_cp_o = b->nm_cp_rs = b->nm_cp_bwd;
        break;
    default:
        b->nm_cp_fwd = prog_intern(p, "cp_allgather_kv");
        b->nm_cp_bwd = prog_intern(p, "cp_allgather_kv_bwd");
        b->nm_cp_rs = prog_intern(p, "cp_reducescatter_dkv");
        b->nm_cp_o = b->nm_cp_rs;
        break;
    }

    b->bucket_after = sft_xmalloc((size_t)a->layers * sizeof *b->bucket_after);
    b->bucket_bytes = sft_xcalloc((size_t)a->layers + 1, sizeof *b->bucket_bytes);
    b->nbuckets = grad_buckets(a, par, b->bucket_after, b->bucket_bytes);
    b->ready_ev = sft_xmalloc((size_t)b->world * sizeof *b->ready_ev);
    b->grad_ev = sft_xmalloc((size_t)b->world * sizeof *b->grad_ev);
    for (int i = 0; i < b->world; i++) b->ready_ev[i] = b->grad_ev[i] = -1;
    b->gm = sft_xcalloc((size_t)cp, sizeof *b->gm);
    return b;
}

void bld_destroy(bld *b)
{
    if (!b) return;
    for (int c = 0; c < b->cp; c++) {
        free(b->gm[c].loc);
        free(b->gm[c].dst);
        for (int bwd = 0; bwd < 2; bwd++) {
            free(b->gm[c].tl1[bwd]);
            free(b->gm[c].fl1[bwd]);
            free(b->gm[c].td1[bwd]);
            free(b->gm[c].fd1[bwd]);
        }
    }
    free(b->kv_ev);
    free(b->xtok);
    free(b->gm);
    free(b->grp_cp);
    free(b->bucket_after);
    free(b->bucket_bytes);
    free(b->ready_ev);
    free(b->grad_ev);
    free(b);
}

double bld_model_flops(const bld *b)
{
    return b->flops;
}

/* ---- emission primitives ------------------------------------------------ */

typedef struct ctx {
    int step, mb, layer;
} ctx;

static prog_op *push(bld *b, int g, int s, prog_kind k, int name, int cat, const ctx *x)
{
    prog_op *o = prog_push(b->p, g, s, k, name);
    o->cat = (uint8_t)cat;
    o->step = x->step;
    o->mb = x->mb;
    o->layer = x->layer;
    return o;
}

static void compute(bld *b, int g, int name, int cat, int dir, double t, double fl, const ctx *x)
{
    if (t <= 0) return;
    b->flops += fl;
    if (b->layer_granularity) {
        prog_op *last = prog_last(b->p, g, PROG_COMPUTE);
        if (last && last->kind == PK_COMPUTE && last->step == x->step && last->mb == x->mb &&
            last->layer == x->layer && last->name == (uint16_t)b->nm_layer[dir]) {
            last->t += t;
            last->flops += fl;
            last->launches++; /* the host still dispatches each kernel */
            return;
        }
        name = b->nm_layer[dir];
    }
    prog_op *o = push(b, g, PROG_COMPUTE, PK_COMPUTE, name, cat, x);
    o->t = t;
    o->flops = fl;
}

/* Host-side time the compute stream waits for (framework, data loading).
 * With host dispatch on it is also where the host synchronises with the GPU
 * (prog.h), so it is emitted even when it takes no time. */
static void delay(bld *b, int g, double t, const ctx *x)
{
    if (t <= 0 && !(b->par.dispatch_s > 0)) return;
    push(b, g, PROG_COMPUTE, PK_DELAY, b->nm_host, BLD_CAT_HOST, x)->t = t;
}

static int record(bld *b, int g, int s, const ctx *x)
{
    int ev = prog_event(b->p);
    push(b, g, s, PK_RECORD, b->nm_ev, BLD_CAT_SYNC, x)->ref = ev;
    return ev;
}

static void wait(bld *b, int g, int s, int ev, const ctx *x)
{
    push(b, g, s, PK_WAIT, b->nm_wait, BLD_CAT_SYNC, x)->ref = ev;
}

/* Makes stream `to` of GPU g wait for everything issued so far on `from`. */
static void order(bld *b, int g, int from, int to, const ctx *x)
{
    wait(b, g, to, record(b, g, from, x), x);
}

static void coll(bld *b, int g, int s, int id, int name, int cat, const ctx *x)
{
    double bytes;
    prog_coll_get(b->p, id, NULL, NULL, &bytes, NULL);
    prog_op *o = push(b, g, s, PK_COLL, name, cat, x);
    o->ref = id;
    o->bytes = bytes;
}

static void memop(bld *b, int g, int alloc, int name, double bytes, const ctx *x)
{
    if (bytes <= 0) return;
    push(b, g, PROG_COMPUTE, alloc ? PK_ALLOC : PK_FREE, name, BLD_CAT_SYNC, x)->bytes = bytes;
}

/* ---- per micro-batch preparation -------------------------------------- */

static void add_seq(cost_seq **v, int *n, double q, double k)
{
    *v = sft_xrealloc(*v, (size_t)(*n + 1) * sizeof **v);
    (*v)[*n].q = q;
    (*v)[*n].k = k;
    (*n)++;
}

/* --attn-call per-seq: one kernel per sequence, each priced alone (its own
 * launch gap and its own length's throughput, cost_attn). */
static void per_seq_times(const cost *c, const arch *a, const arch *ad, const arch_op *op,
                          gpu_mb *G, int bwd)
{
    size_t nl = (size_t)(G->nloc ? G->nloc : 1), nd = (size_t)(G->ndst ? G->ndst : 1);
    G->tl1[bwd] = sft_xrealloc(G->tl1[bwd], nl * sizeof(double));
    G->fl1[bwd] = sft_xrealloc(G->fl1[bwd], nl * sizeof(double));
    G->td1[bwd] = sft_xrealloc(G->td1[bwd], nd * sizeof(double));
    G->fd1[bwd] = sft_xrealloc(G->fd1[bwd], nd * sizeof(double));
    for (int i = 0; i < G->nloc; i++) {
        G->tl1[bwd][i] = llm_op_time(c, a, op, G->T, &G->loc[i], 1);
        G->fl1[bwd][i] = llm_op_flops(a, op, G->T, &G->loc[i], 1);
    }
    for (int i = 0; i < G->ndst; i++) {
        G->td1[bwd][i] = llm_op_time(c, ad, op, G->T, &G->dst[i], 1);
        G->fd1[bwd][i] = llm_op_flops(ad, op, G->T, &G->dst[i], 1);
    }
}

static void prepare(bld *b, const plan_mb *mb, int c, gpu_mb *G)
{
    const arch *a = b->a;
    int N = b->cp;
    G->nloc = G->ndst = 0;
    G->T = 0;
    for (int i = 0; mb && i < mb->n; i++) {
        double len = (double)mb->seq[i].len;
        if (mb->seq[i].cp == PLAN_DIST && N > 1) {
            G->T += len / N;
            if (b->par.cp_impl == PAR_ULYSSES)
                add_seq(&G->dst, &G->ndst, len, len);
            else {
                cost_seq s = cost_shard(len, N);
                add_seq(&G->dst, &G->ndst, s.q, s.k);
            }
        } else if (mb->seq[i].cp == c || mb->seq[i].cp == PLAN_DIST) {
            G->T += len;
            add_seq(&G->loc, &G->nloc, len, len);
        }
    }
    const arch *ad = b->par.cp_impl == PAR_ULYSSES ? &b->a_uly : a;
    for (int bwd = 0; bwd < 2; bwd++) {
        arch_op ops[ARCH_MAX_OPS];
        int n = arch_layer_ops(a, bwd, ops);
        double *t = bwd ? G->t_bwd : G->t_fwd, *f = bwd ? G->f_bwd : G->f_fwd;
        for (int i = 0; i < n; i++) {
            if (ops[i].kind == AOP_ATTN) {
                t[i] = f[i] = 0;
                G->t_attn_loc[bwd] = llm_op_time(b->c, a, &ops[i], G->T, G->loc, G->nloc);
                G->f_attn_loc[bwd] = llm_op_flops(a, &ops[i], G->T, G->loc, G->nloc);
                G->t_attn_dst[bwd] = llm_op_time(b->c, ad, &ops[i], G->T, G->dst, G->ndst);
                G->f_attn_dst[bwd] = llm_op_flops(ad, &ops[i], G->T, G->dst, G->ndst);
                if (b->par.attn_call == PAR_ATTN_PERSEQ)
                    per_seq_times(b->c, a, ad, &ops[i], G, bwd);
            } else {
                t[i] = llm_op_time(b->c, a, &ops[i], G->T, NULL, 0);
                f[i] = llm_op_flops(a, &ops[i], G->T, NULL, 0);
            }
        }
        for (int before = 0; before < 2; before++) {
            n = arch_head_ops(a, bwd, before, ops);
            for (int i = 0; i < n; i++) {
                G->t_head[before][bwd][i] = llm_op_time(b->c, a, &ops[i], G->T, NULL, 0);
                G->f_head[before][bwd][i] = llm_op_flops(a, &ops[i], G->T, NULL, 0);
            }
        }
    }
}

static int cat_of(const arch_op *op)
{
    return op->kind == AOP_GEMM ? BLD_CAT_GEMM : op->kind == AOP_ATTN ? BLD_CAT_ATTN : BLD_CAT_ELEM;
}

/* Layer ops of one direction whose position is `where`, for every CP rank. */
static void layer_ops(bld *b, int d, int bwd, int where, int layer, const ctx *x)
{
    arch_op ops[ARCH_MAX_OPS];
    int n = arch_layer_ops(b->a, bwd, ops);
    for (int c = 0; c < b->cp; c++) {
        const gpu_mb *G = &b->gm[c];
        int g = d * b->cp + c;
        for (int i = 0; i < n; i++) {
            if ((int)ops[i].where != where || ops[i].kind == AOP_ATTN) continue;
            compute(b, g, bwd ? b->nm_bwd[i] : b->nm_fwd[i], cat_of(&ops[i]), bwd,
                    bwd ? G->t_bwd[i] : G->t_fwd[i], bwd ? G->f_bwd[i] : G->f_fwd[i], x);
        }
    }
    (void)layer;
}

static int attn_index(const arch *a, int bwd)
{
    arch_op ops[ARCH_MAX_OPS];
    int n = arch_layer_ops(a, bwd, ops);
    for (int i = 0; i < n; i++)
        if (ops[i].kind == AOP_ATTN) return i;
    return 0;
}

static void head_ops(bld *b, int d, int before, int bwd, const ctx *x)
{
    arch_op ops[ARCH_MAX_OPS];
    int n = arch_head_ops(b->a, bwd, before, ops);
    for (int c = 0; c < b->cp; c++) {
        int g = d * b->cp + c;
        for (int i = 0; i < n; i++)
            compute(b, g, b->nm_head[before][bwd][i], cat_of(&ops[i]), DIR_OTHER,
                    b->gm[c].t_head[before][bwd][i], b->gm[c].f_head[before][bwd][i], x);
    }
}

/* ---- the distributed attention of one layer, per CP flavour ------------- */

static double dist_tokens(const plan_mb *mb, int N)
{
    double t = 0;
    for (int i = 0; mb && N > 1 && i < mb->n; i++)
        if (mb->seq[i].cp == PLAN_DIST) t += (double)mb->seq[i].len;
    return t;
}

/* Tokens of each CP exchange of a micro-batch: one entry for all the
 * distributed sequences (--cp-exchange fused) or one per distributed
 * sequence (per-seq). Returns the count (0: nothing distributed); the
 * array is b's. */
static int xchg_tokens(bld *b, const plan_mb *mb)
{
    int n = 0;
    for (int i = 0; mb && b->cp > 1 && i < mb->n; i++) {
        if (mb->seq[i].cp != PLAN_DIST) continue;
        if (n == b->xcap) {
            b->xcap = b->xcap ? 2 * b->xcap : 16;
            b->xtok = sft_xrealloc(b->xtok, (size_t)b->xcap * sizeof *b->xtok);
        }
        if (b->par.cp_exchange == PAR_XCHG_PERSEQ || n == 0)
            b->xtok[n++] = (double)mb->seq[i].len;
        else
            b->xtok[0] += (double)mb->seq[i].len;
    }
    return n;
}

/* The attention kernels of CP rank c (GPU g): local sequences (dst 0) or
 * this rank's shares of the distributed ones (dst 1); one varlen kernel, or
 * one per sequence (--attn-call per-seq). ev[0..nev) are the events of the
 * exchanges the kernels need: a varlen kernel waits for the last one; per
 * sequence, kernel i waits for its own exchange when there is one per
 * sequence, else for the one fused exchange. */
static void attn_kernels(bld *b, int g, int c, int bwd, int dst, int name, const int *ev, int nev,
                         const ctx *x)
{
    const gpu_mb *G = &b->gm[c];
    if (b->par.attn_call != PAR_ATTN_PERSEQ) {
        if (nev > 0) wait(b, g, PROG_COMPUTE, ev[nev - 1], x);
        compute(b, g, name, BLD_CAT_ATTN, bwd, dst ? G->t_attn_dst[bwd] : G->t_attn_loc[bwd],
                dst ? G->f_attn_dst[bwd] : G->f_attn_loc[bwd], x);
        return;
    }
    int n = dst ? G->ndst : G->nloc, waited = -1;
    for (int i = 0; i < n; i++) {
        int k = nev == n ? i : nev - 1;
        if (nev > 0 && k != waited) {
            wait(b, g, PROG_COMPUTE, ev[k], x);
            waited = k;
        }
        compute(b, g, name, BLD_CAT_ATTN, bwd, dst ? G->td1[bwd][i] : G->tl1[bwd][i],
                dst ? G->fd1[bwd][i] : G->fl1[bwd][i], x);
    }
}

/* K/V all-gather of the distributed sequences (allgather flavour): issued
 * after the QKV projection forward, and at the start of the layer's backward
 * so that it overlaps the MLP backward; one for all of them, or one per
 * sequence (--cp-exchange). */
static void kv_issue(bld *b, int d, const plan_mb *mb, int bwd, const ctx *x)
{
    int N = b->cp;
    if (b->par.cp_impl != PAR_ALLGATHER) return;
    int nx = xchg_tokens(b, mb);
    if (nx == 0) return;
    double kvw = 2 * ((double)b->a->kv_heads * b->a->head_dim) * 2; /* K and V, bf16 */
    double kv = 0;
    b->kv_ev = sft_xrealloc(b->kv_ev, (size_t)(N * nx) * sizeof *b->kv_ev);
    b->kv_nx = nx;
    for (int i = 0; i < nx; i++) {
        int ag = prog_coll(b->p, COLL_ALL_GATHER, b->grp_cp[d], b->xtok[i] * kvw, 0);
        kv += b->xtok[i] * kvw;
        for (int c = 0; c < N; c++) {
            int g = d * N + c;
            order(b, g, PROG_COMPUTE, PROG_COMM, x);
            coll(b, g, PROG_COMM, ag, bwd ? b->nm_cp_bwd : b->nm_cp_fwd, BLD_CAT_CP, x);
            b->kv_ev[c * nx + i] = record(b, g, PROG_COMM, x);
        }
    }
    for (int c = 0; c < N; c++) memop(b, d * N + c, 1, b->nm_kvbuf, bwd ? 2 * kv : kv, x);
    b->kv_bytes = kv;
}

static void attention(bld *b, int d, const plan_mb *mb, int bwd, const ctx *x)
{
    const arch *a = b->a;
    int N = b->cp, ai = attn_index(a, bwd);
    double kvh = (double)a->kv_heads * a->head_dim;
    int name_loc = bwd ? b->nm_bwd[ai] : b->nm_fwd[ai], name_dst = b->nm_attn_dst[bwd];
    int grp = b->grp_cp[d];
    if (dist_tokens(mb, N) <= 0) {
        for (int c = 0; c < N; c++) attn_kernels(b, d * N + c, c, bwd, 0, name_loc, NULL, 0, x);
        return;
    }
    if (b->par.cp_impl == PAR_ALLGATHER) {
        double kv = b->kv_bytes;
        int nx = b->kv_nx;
        SFT_CHECK(kv > 0, "attention with distributed sequences but no K/V all-gather issued");
        b->kv_bytes = 0;
        if (bwd) {
            /* distributed part first so that its dK/dV reduce-scatters
             * overlap the local sequences' backward; per sequence (both
             * options per-seq), each reduce-scatter follows its own kernel */
            int *rs = sft_xmalloc((size_t)nx * sizeof *rs);
            for (int i = 0; i < nx; i++) {
                double bytes = nx > 1 ? b->xtok[i] * 2 * kvh * 2 : kv;
                rs[i] = prog_coll(b->p, COLL_REDUCE_SCATTER, grp, bytes, 0);
            }
            int interleave = nx > 1 && b->par.attn_call == PAR_ATTN_PERSEQ;
            for (int c = 0; c < N; c++) {
                int g = d * N + c;
                const int *ev = b->kv_ev + c * nx;
                for (int i = 0; i < nx; i++) {
                    if (interleave) {
                        wait(b, g, PROG_COMPUTE, ev[i], x);
                        compute(b, g, name_dst, BLD_CAT_ATTN, bwd, b->gm[c].td1[1][i],
                                b->gm[c].fd1[1][i], x);
                    } else if (i == 0) {
                        attn_kernels(b, g, c, 1, 1, name_dst, ev, nx, x);
                    }
                    if (interleave || i == 0) order(b, g, PROG_COMPUTE, PROG_COMM, x);
                    coll(b, g, PROG_COMM, rs[i], b->nm_cp_rs, BLD_CAT_CP, x);
                }
                int ev_rs = record(b, g, PROG_COMM, x);
                attn_kernels(b, g, c, 1, 0, name_loc, NULL, 0, x);
                wait(b, g, PROG_COMPUTE, ev_rs, x);
                memop(b, g, 0, b->nm_kvbuf, 2 * kv, x);
            }
            free(rs);
        } else {
            for (int c = 0; c < N; c++) {
                int g = d * N + c;
                attn_kernels(b, g, c, 0, 0, name_loc, NULL, 0, x);
                attn_kernels(b, g, c, 0, 1, name_dst, b->kv_ev + c * nx, nx, x);
                memop(b, g, 0, b->nm_kvbuf, kv, x);
            }
        }
        return;
    }
    int nx = xchg_tokens(b, mb);
    if (b->par.cp_impl == PAR_ULYSSES) {
        /* all-to-all sizes: what one rank sends in all (its tokens' share) */
        double kvh_u = (double)(a->kv_heads >= N ? a->kv_heads : N) * a->head_dim;
        int *pre = sft_xmalloc((size_t)(3 * nx) * sizeof *pre), *post = pre + nx,
            *ev = pre + 2 * nx;
        for (int i = 0; i < nx; i++) {
            double Td = b->xtok[i];
            double qkv = Td / N * (a->hidden + 2 * kvh_u) * 2, o = Td / N * a->hidden * 2;
            pre[i] = prog_coll(b->p, COLL_ALL_TO_ALL, grp, bwd ? o : qkv, 0);
            post[i] = prog_coll(b->p, COLL_ALL_TO_ALL, grp, bwd ? qkv : o, 0);
        }
        for (int c = 0; c < N; c++) {
            int g = d * N + c;
            order(b, g, PROG_COMPUTE, PROG_COMM, x);
            for (int i = 0; i < nx; i++) {
                coll(b, g, PROG_COMM, pre[i], bwd ? b->nm_cp_rs : b->nm_cp_fwd, BLD_CAT_CP, x);
                ev[i] = record(b, g, PROG_COMM, x);
            }
            attn_kernels(b, g, c, bwd, 0, name_loc, NULL, 0, x);
            attn_kernels(b, g, c, bwd, 1, name_dst, ev, nx, x);
            order(b, g, PROG_COMPUTE, PROG_COMM, x);
            for (int i = 0; i < nx; i++)
                coll(b, g, PROG_COMM, post[i], bwd ? b->nm_cp_bwd : b->nm_cp_o, BLD_CAT_CP, x);
            order(b, g, PROG_COMM, PROG_COMPUTE, x);
        }
        free(pre);
        return;
    }
    /* ring: CP-1 shifts of a K/V chunk (with dK/dV backward), each overlapping
     * the attention on the chunk already here; per-seq exchange: CP-1 shifts
     * of each sequence's chunk, issued step by step */
    int ns = (N - 1) * nx;
    int *shifts = sft_xmalloc((size_t)(2 * ns + 1) * sizeof *shifts), *ev = shifts + ns;
    for (int s = 0; s < N - 1; s++)
        for (int i = 0; i < nx; i++)
            shifts[s * nx + i] = prog_coll(b->p, COLL_RING_SHIFT, grp,
                                           b->xtok[i] / N * 2 * kvh * 2 * (bwd ? 2 : 1), 0);
    double launch = cost_gpu(b->c)->launch_s;
    for (int c = 0; c < N; c++) {
        int g = d * N + c;
        const gpu_mb *G = &b->gm[c];
        order(b, g, PROG_COMPUTE, PROG_COMM, x);
        for (int k = 0; k < ns; k++) {
            coll(b, g, PROG_COMM, shifts[k], bwd ? b->nm_cp_bwd : b->nm_cp_fwd, BLD_CAT_CP, x);
            ev[k] = record(b, g, PROG_COMM, x);
        }
        attn_kernels(b, g, c, bwd, 0, name_loc, NULL, 0, x);
        int perseq = b->par.attn_call == PAR_ATTN_PERSEQ, nk = perseq ? G->ndst : 1, waited = -1;
        for (int s = 0; s < N; s++)
            for (int i = 0; i < nk; i++) {
                /* step s needs shift s-1 of this kernel's sequence (of all
                 * sequences for a varlen kernel: the step's last shift) */
                int k = (s - 1) * nx + (nx == nk ? i : nx - 1);
                if (s > 0 && k != waited) {
                    wait(b, g, PROG_COMPUTE, ev[k], x);
                    waited = k;
                }
                double t = perseq ? G->td1[bwd][i] : G->t_attn_dst[bwd];
                double f = perseq ? G->fd1[bwd][i] : G->f_attn_dst[bwd];
                compute(b, g, name_dst, BLD_CAT_ATTN, bwd, (t - launch) / N + launch, f / N, x);
            }
    }
    free(shifts);
}

/* ---- one round (micro-batch) of one DP rank ----------------------------- */

/* One bucket's reduction by every GPU of DP rank d, issued from the
 * compute stream (the gradients it holds are ready) onto the DP stream.
 * Without overlap_comm DeepSpeed runs it on the current stream
 * (average_tensor, allreduce_and_copy: stream = current_stream()): the
 * backward continues only after it. With overlap_comm (ZeRO-1/2) it runs
 * on the reduction stream, but before issuing it the compute stream waits
 * for the previous bucket's (average_tensor: current_stream().wait_stream
 * (reduction_stream); allreduce_and_copy: accelerator synchronize), and the
 * micro-step's epilogue waits for the last one
 * (independent_gradient_partition_epilogue: synchronize). ZeRO-3 with
 * overlap runs its reduce-scatters under the backward without these waits
 * (as before). */
static void grad_bucket(bld *b, int d, int id, int epilogue, const ctx *x)
{
    int z = b->par.zero, ov = b->par.overlap_comm;
    for (int c = 0; c < b->cp; c++) {
        int g = d * b->cp + c;
        if (ov && z < 3 && b->grad_ev[g] >= 0) wait(b, g, PROG_COMPUTE, b->grad_ev[g], x);
        b->grad_ev[g] = -1;
        order(b, g, PROG_COMPUTE, PROG_DP, x);
        coll(b, g, PROG_DP, id, b->nm_grad, BLD_CAT_GRAD, x);
        if (!ov || (z < 3 && epilogue))
            order(b, g, PROG_DP, PROG_COMPUTE, x);
        else if (z < 3)
            b->grad_ev[g] = record(b, g, PROG_DP, x);
    }
}

/* Bucket k's reduction of round r: ZeRO-2 one per micro-batch, ZeRO-0/1
 * one per step. */
static int bucket_id(const bld *b, const step_ids *S, int r, int k)
{
    return b->par.zero == 2 ? S->rs[r * S->nbuckets + k] : S->fin[k];
}

static void round_mb(bld *b, int d, const plan_mb *mb, int r, int last, const step_ids *S, int step)
{
    const arch *a = b->a;
    int N = b->cp, L = a->layers, z = b->par.zero;
    /* this micro-batch reduces its gradients: ZeRO-2/3 every micro-step,
     * ZeRO-0/1 only at the accumulation boundary (engine.allreduce_gradients) */
    int reduce = z >= 2 || last;
    /* from the backward's hooks (process_gradients: partition_gradients or
     * overlap_comm), else all after the backward */
    int hooks = z >= 2 || b->par.overlap_comm;
    double alpha = arch_act_bytes_per_token_layer(a), logit = arch_logit_bytes_per_token(a);
    ctx x = {step, r, -1};
    for (int c = 0; c < N; c++) prepare(b, mb, c, &b->gm[c]);
    for (int c = 0; c < N; c++) delay(b, d * N + c, b->par.host_overhead_s, &x);
    head_ops(b, d, 1, 0, &x);
    for (int l = 0; l < L; l++) {
        x.layer = l;
        if (b->par.zero == 3)
            for (int c = 0; c < N; c++) {
                int g = d * N + c;
                coll(b, g, PROG_DP, S->ag_fwd[r * L + l], b->nm_ag_layer, BLD_CAT_GRAD, &x);
                order(b, g, PROG_DP, PROG_COMPUTE, &x);
            }
        for (int c = 0; c < N; c++) memop(b, d * N + c, 1, b->nm_act, alpha * b->gm[c].T, &x);
        layer_ops(b, d, 0, AW_PRE, l, &x);
        kv_issue(b, d, mb, 0, &x);
        attention(b, d, mb, 0, &x);
        layer_ops(b, d, 0, AW_POST, l, &x);
    }
    x.layer = -1;
    head_ops(b, d, 0, 0, &x);
    for (int c = 0; c < N; c++) memop(b, d * N + c, 1, b->nm_logits, logit * b->gm[c].T, &x);
    head_ops(b, d, 0, 1, &x);
    for (int c = 0; c < N; c++) memop(b, d * N + c, 0, b->nm_logits, logit * b->gm[c].T, &x);
    for (int l = L - 1; l >= 0; l--) {
        x.layer = l;
        if (b->par.zero == 3)
            for (int c = 0; c < N; c++) {
                int g = d * N + c;
                coll(b, g, PROG_DP, S->ag_bwd[r * L + l], b->nm_ag_layer, BLD_CAT_GRAD, &x);
                order(b, g, PROG_DP, PROG_COMPUTE, &x);
            }
        kv_issue(b, d, mb, 1, &x);
        layer_ops(b, d, 1, AW_POST, l, &x);
        attention(b, d, mb, 1, &x);
        layer_ops(b, d, 1, AW_PRE, l, &x);
        for (int c = 0; c < N; c++) memop(b, d * N + c, 0, b->nm_act, alpha * b->gm[c].T, &x);
        if (z == 3)
            grad_bucket(b, d, S->rs3[r * L + l], 0, &x);
        else if (b->bucket_after[l] >= 0 && reduce && hooks)
            grad_bucket(b, d, bucket_id(b, S, r, b->bucket_after[l]), 0, &x);
    }
    x.layer = -1;
    head_ops(b, d, 1, 1, &x);
    if (z == 3 || !reduce) return;
    /* the backward hooks leave the last bucket to the epilogue; without
     * them (ZeRO-0/1 without overlap_comm: engine.allreduce_gradients ->
     * reduce_gradients, buffered_allreduce_fallback) every bucket is
     * reduced here, after the backward */
    for (int k = hooks ? S->nbuckets - 1 : 0; k < S->nbuckets; k++)
        grad_bucket(b, d, bucket_id(b, S, r, k), 1, &x);
}

/* A round this DP rank has no micro-batch for: only the world collectives. */
static void round_pad(bld *b, int d, int r, const step_ids *S, int step)
{
    ctx x = {step, r, -1};
    for (int c = 0; c < b->cp; c++) {
        int g = d * b->cp + c;
        if (b->par.zero == 2)
            for (int k = 0; k < S->nbuckets; k++)
                coll(b, g, PROG_DP, S->rs[r * S->nbuckets + k], b->nm_grad, BLD_CAT_GRAD, &x);
        if (b->par.zero == 3) {
            int L = b->a->layers;
            for (int l = 0; l < L; l++)
                coll(b, g, PROG_DP, S->ag_fwd[r * L + l], b->nm_ag_layer, BLD_CAT_GRAD, &x);
            for (int l = L - 1; l >= 0; l--) {
                coll(b, g, PROG_DP, S->ag_bwd[r * L + l], b->nm_ag_layer, BLD_CAT_GRAD, &x);
                coll(b, g, PROG_DP, S->rs3[r * L + l], b->nm_grad, BLD_CAT_GRAD, &x);
            }
        }
    }
}

sft_status bld_step(bld *b, const plan *pl, int step, sft_err *e)
{
    const arch *a = b->a;
    if (pl->dp != b->dp || pl->cp != b->cp)
        return sft_errf(e, SFT_EINTERNAL, "plan for %dx%d built on a %dx%d layout", pl->dp, pl->cp,
                        b->dp, b->cp);
    if (b->cp > 64) return sft_errf(e, SFT_EINPUT, "--cp %d: at most 64 is supported", b->cp);
    int W = b->world, L = a->layers;
    double P = arch_params(a);
    step_ids S = {0};
    S.rounds = plan_max_mbs(pl);
    S.nbuckets = b->nbuckets;
    S.ag_params = -1;
    int z = b->par.zero, op = grad_op(&b->par);
    for (int g = 0; g < W; g++) b->grad_ev[g] = -1;
    /* every gradient collective is over grp_world: DeepSpeed's ZeRO group is
     * seq_data_parallel_group, all DP x CP GPUs */
    if (z == 2) {
        S.rs = sft_xmalloc((size_t)(S.rounds * S.nbuckets + 1) * sizeof *S.rs);
        for (int r = 0; r < S.rounds; r++)
            for (int k = 0; k < S.nbuckets; k++)
                S.rs[r * S.nbuckets + k] = prog_coll(b->p, op, b->grp_world, b->bucket_bytes[k], 0);
    } else if (z < 2) {
        S.fin = sft_xmalloc((size_t)S.nbuckets * sizeof *S.fin);
        for (int k = 0; k < S.nbuckets; k++)
            S.fin[k] = prog_coll(b->p, op, b->grp_world, b->bucket_bytes[k], 0);
    } else {
        size_t n = (size_t)(S.rounds * L + 1);
        S.ag_fwd = sft_xmalloc(n * sizeof(int));
        S.ag_bwd = sft_xmalloc(n * sizeof(int));
        S.rs3 = sft_xmalloc(n * sizeof(int));
        double lb = 2 * arch_layer_params(a);                       /* bf16 parameters */
        double gb = par_grad_bytes(&b->par) * arch_layer_params(a); /* the gradients */
        for (int r = 0; r < S.rounds; r++)
            for (int l = 0; l < L; l++) {
                S.ag_fwd[r * L + l] = prog_coll(b->p, COLL_ALL_GATHER, b->grp_world, lb, 0);
                S.ag_bwd[r * L + l] = prog_coll(b->p, COLL_ALL_GATHER, b->grp_world, lb, 0);
                S.rs3[r * L + l] = prog_coll(b->p, COLL_REDUCE_SCATTER, b->grp_world, gb, 0);
            }
    }
    if (z == 1 || z == 2) S.ag_params = prog_coll(b->p, COLL_ALL_GATHER, b->grp_world, 2 * P, 0);

    ctx x = {step, -1, -1};
    if (!b->started) {
        double stat_bytes = mem_static_bytes(a, z, W);
        for (int g = 0; g < W; g++) memop(b, g, 1, b->nm_static, stat_bytes, &x);
        b->started = 1;
    }
    for (int g = 0; g < W; g++)
        if (b->ready_ev[g] >= 0) wait(b, g, PROG_COMPUTE, b->ready_ev[g], &x);

    for (int d = 0; d < b->dp; d++) {
        const plan_rank *R = &pl->rank[d];
        for (int r = 0; r < S.rounds; r++) {
            if (r < R->nmb)
                round_mb(b, d, &R->mb[r], r, r == R->nmb - 1, &S, step);
            else
                round_pad(b, d, r, &S, step);
        }
        if (R->nmb == 0 && z < 2) {
            /* a rank without samples still joins the final reductions */
            for (int c = 0; c < b->cp; c++)
                for (int k = 0; k < S.nbuckets; k++)
                    coll(b, d * b->cp + c, PROG_DP, S.fin[k], b->nm_grad, BLD_CAT_GRAD, &x);
        }
    }
    /* optimizer on the local partition, then the parameter all-gather */
    double local = z == 0 ? P : P / W;
    double t_opt = cost_mem(b->c, ADAM_BYTES * local);
    for (int g = 0; g < W; g++) {
        order(b, g, PROG_DP, PROG_COMPUTE, &x);
        compute(b, g, b->nm_optim, BLD_CAT_OPTIM, DIR_OTHER, t_opt, 0, &x);
        b->ready_ev[g] = -1;
        if (S.ag_params >= 0) {
            order(b, g, PROG_COMPUTE, PROG_DP, &x);
            coll(b, g, PROG_DP, S.ag_params, b->nm_params, BLD_CAT_GRAD, &x);
            b->ready_ev[g] = record(b, g, PROG_DP, &x);
        }
    }
    free(S.rs);
    free(S.fin);
    free(S.ag_fwd);
    free(S.ag_bwd);
    free(S.rs3);
    return SFT_OK;
}
