/* kern_attn_cpu.c — the CPU reference of packed variable-length attention, in
 * the FlashAttention-2 structure: query tiles of KERN_BR rows stream over key
 * tiles of KERN_BC keys with an online softmax (running max m, running sum l,
 * unnormalised output), so no score matrix larger than one tile exists; the
 * backward recomputes the probabilities from the forward's log-sum-exp.
 *
 * Work items are (sequence, head, tile) triples run by the worker pool, most
 * expensive first. The backward runs three passes so that every item writes
 * only its own outputs and no locks or atomics are needed: D = rowsum(dO*O)
 * per (token, q head); dK, dV per (sequence, kv head, key tile), summing over
 * the q heads of the group; dQ per (sequence, q head, query tile). S and dP
 * are thus computed twice (seven tile products instead of five), the price of
 * results that are bitwise identical for any thread count.
 *
 * Invariants: FP32 arithmetic throughout; inner loops are axpy over a tile
 * row (K and V tiles are transposed into scratch first) so the compiler can
 * vectorise them without reassociating sums; causal rows never see a key
 * tile that starts after them, so every valid row has l > 0.
 */
#include "kernels/kern_int.h"

#include <math.h>
#include <stdlib.h>

#define KERN_BR 64 /* query rows per tile */
#define KERN_BC 64 /* keys per tile */
/* One item list layout serves query tiles and key tiles. */
_Static_assert(KERN_BR == KERN_BC, "query and key tiles must have the same size");

typedef struct attn_item {
    int seq, head, tile;
    long cost; /* key (or query) tiles the item visits: the scheduling weight */
} attn_item;

static int cmp_item(const void *a, const void *b)
{
    const attn_item *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    if (x->tile != y->tile) return x->tile < y->tile ? -1 : 1;
    return (x->head > y->head) - (x->head < y->head);
}

static int ntiles(int len, int tile)
{
    return (len + tile - 1) / tile;
}

/* Creates the item list over (sequence, head < nheads, tile of `tile` rows),
 * sorted by cost. by_key: tiles are key tiles visited by query tiles at or
 * after them (causal) — the dK/dV pass; otherwise query tiles visiting key
 * tiles at or before them. */
static attn_item *items_create(const kern_attn_shape *s, int nheads, int by_key, size_t *count)
{
    size_t n = 0;
    for (int i = 0; i < s->nseq; i++)
        n += (size_t)ntiles(s->cu_seqlens[i + 1] - s->cu_seqlens[i], KERN_BR) * (size_t)nheads;
    attn_item *it = sft_xmalloc(n * sizeof *it);
    size_t k = 0;
    for (int i = 0; i < s->nseq; i++) {
        int nt = ntiles(s->cu_seqlens[i + 1] - s->cu_seqlens[i], KERN_BR);
        for (int t = 0; t < nt; t++) {
            long cost = !s->causal ? nt : by_key ? nt - t : t + 1;
            for (int h = 0; h < nheads; h++)
                it[k++] = (attn_item){.seq = i, .head = h, .tile = t, .cost = cost};
        }
    }
    qsort(it, n, sizeof *it, cmp_item);
    *count = n;
    return it;
}

/* tT[d][c] = rows[c][d] for c < nc (rows stride `stride` floats); columns
 * nc..KERN_BC-1 are zeroed so whole-tile loops read defined values. */
static void tile_transpose(const float *rows, size_t stride, int nc, int d, float *tT)
{
    for (int c = 0; c < nc; c++)
        for (int j = 0; j < d; j++) tT[(size_t)j * KERN_BC + c] = rows[(size_t)c * stride + j];
    for (int j = 0; j < d; j++)
        for (int c = nc; c < KERN_BC; c++) tT[(size_t)j * KERN_BC + c] = 0;
}

/* out[c] = x . tile row c, for all KERN_BC columns of a transposed tile. */
static void row_times_tile(const float *x, const float *tT, int d, float *out)
{
    for (int c = 0; c < KERN_BC; c++) out[c] = 0;
    for (int j = 0; j < d; j++) {
        float a = x[j];
        const float *t = tT + (size_t)j * KERN_BC;
        for (int c = 0; c < KERN_BC; c++) out[c] += a * t[c];
    }
}

static void axpy(float a, const float *x, float *y, int n)
{
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* Keys of a KERN_BC tile at key offset j0 that query i sees: [0, result). */
static int visible(const kern_attn_shape *s, int i, int j0, int nc)
{
    if (!s->causal) return nc;
    int lim = i - j0 + 1;
    return lim < nc ? lim : nc;
}

/* ---- forward ------------------------------------------------------------------ */

typedef struct fwd_ctx {
    const kern_attn_shape *s;
    const float *q, *k, *v;
    float *o, *lse;
    const attn_item *items;
    float *scratch; /* per worker: KT [d][BC], S row [BC], acc [BR][d], m, l [BR] */
    size_t per_worker;
} fwd_ctx;

static size_t fwd_scratch(int d)
{
    return (size_t)d * KERN_BC + KERN_BC + (size_t)KERN_BR * d + 2 * KERN_BR;
}

static void fwd_item(void *vctx, size_t idx, int worker)
{
    const fwd_ctx *c = vctx;
    const kern_attn_shape *s = c->s;
    const attn_item *it = &c->items[idx];
    const int d = s->head_dim, hq = s->heads_q, hkv = s->heads_kv;
    const int h = it->head, hk = h / (hq / hkv);
    const size_t qs = (size_t)hq * d, ks = (size_t)hkv * d;
    const int start = s->cu_seqlens[it->seq], len = s->cu_seqlens[it->seq + 1] - start;
    const int i0 = it->tile * KERN_BR;
    const int nr = len - i0 < KERN_BR ? len - i0 : KERN_BR;
    const float scale = 1.0f / sqrtf((float)d);

    float *kt = c->scratch + (size_t)worker * c->per_worker;
    float *srow = kt + (size_t)d * KERN_BC;
    float *acc = srow + KERN_BC;
    float *m = acc + (size_t)KERN_BR * d;
    float *l = m + KERN_BR;
    for (int r = 0; r < nr; r++) {
        m[r] = -INFINITY;
        l[r] = 0;
    }
    for (size_t j = 0; j < (size_t)nr * d; j++) acc[j] = 0;

    const float *qb = c->q + (size_t)start * qs + (size_t)h * d;
    const float *kb = c->k + (size_t)start * ks + (size_t)hk * d;
    const float *vb = c->v + (size_t)start * ks + (size_t)hk * d;
    const int jend = s->causal ? i0 + nr : len;
    for (int j0 = 0; j0 < jend; j0 += KERN_BC) {
        const int nc = jend - j0 < KERN_BC ? jend - j0 : KERN_BC;
        tile_transpose(kb + (size_t)j0 * ks, ks, nc, d, kt);
        for (int r = 0; r < nr; r++) {
            const int lim = visible(s, i0 + r, j0, nc);
            if (lim <= 0) continue;
            row_times_tile(qb + (size_t)(i0 + r) * qs, kt, d, srow);
            float mx = m[r];
            for (int j = 0; j < lim; j++) {
                srow[j] *= scale;
                if (srow[j] > mx) mx = srow[j];
            }
            const float alpha = expf(m[r] - mx); /* 0 on the first tile: m = -inf */
            float sum = 0;
            for (int j = 0; j < lim; j++) {
                srow[j] = expf(srow[j] - mx);
                sum += srow[j];
            }
            l[r] = l[r] * alpha + sum;
            m[r] = mx;
            float *ar = acc + (size_t)r * d;
            for (int j = 0; j < d; j++) ar[j] *= alpha;
            for (int j = 0; j < lim; j++) axpy(srow[j], vb + (size_t)(j0 + j) * ks, ar, d);
        }
    }
    for (int r = 0; r < nr; r++) {
        const size_t tok = (size_t)start + (size_t)(i0 + r);
        float *orow = c->o + tok * qs + (size_t)h * d;
        const float inv = 1.0f / l[r];
        for (int j = 0; j < d; j++) orow[j] = acc[(size_t)r * d + j] * inv;
        c->lse[tok * (size_t)hq + (size_t)h] = m[r] + logf(l[r]);
    }
}

static sft_status cpu_args_check(const kern_attn_shape *s, int nthreads, const void *const *ptrs,
                                 const char *const *names, int nptr, sft_err *e)
{
    sft_status st = kern_attn_shape_check(s, e);
    if (st) return st;
    if (nthreads < 0)
        return sft_errf(e, SFT_EINPUT, "attention: nthreads is %d, must be 0 (all CPUs) or more",
                        nthreads);
    if (kern_attn_tokens(s) == 0) return SFT_OK;
    return kern_ptrs_check("attention (cpu)", ptrs, names, nptr, e);
}

sft_status kern_attn_fwd_cpu(const kern_attn_shape *s, const float *q, const float *k,
                             const float *v, float *o, float *lse, int nthreads, sft_err *e)
{
    const void *ptrs[] = {q, k, v, o, lse};
    const char *names[] = {"q", "k", "v", "o", "lse"};
    sft_status st = cpu_args_check(s, nthreads, ptrs, names, 5, e);
    if (st) return st;
    fwd_ctx c = {.s = s, .q = q, .k = k, .v = v, .o = o, .lse = lse};
    size_t n;
    attn_item *items = items_create(s, s->heads_q, 0, &n);
    c.items = items;
    c.per_worker = fwd_scratch(s->head_dim);
    c.scratch = sft_xmalloc((size_t)kern_workers(n, nthreads) * c.per_worker * sizeof(float));
    st = kern_parallel_for(n, nthreads, fwd_item, &c, e);
    free(c.scratch);
    free(items);
    return st ? sft_err_prefix(e, "attention forward (cpu)") : SFT_OK;
}

/* ---- backward ----------------------------------------------------------------- */

typedef struct bwd_ctx {
    const kern_attn_shape *s;
    const float *q, *k, *v, *o, *lse, *dout;
    float *dq, *dk, *dv;
    float *dvec; /* [token][heads_q]: rowsum(dO * O) */
    const attn_item *items;
    float *scratch; /* per worker: KT, VT [d][BC], S row, dP row, acc [2][BC][d] */
    size_t per_worker;
} bwd_ctx;

static size_t bwd_scratch(int d)
{
    return 2 * (size_t)d * KERN_BC + 2 * KERN_BC + 2 * (size_t)KERN_BC * d;
}

/* Tokens per item of the D pass. */
#define KERN_DOT_CHUNK 256

static void dot_item(void *vctx, size_t idx, int worker)
{
    (void)worker;
    const bwd_ctx *c = vctx;
    const size_t t = kern_attn_tokens(c->s), d = (size_t)c->s->head_dim;
    const size_t hq = (size_t)c->s->heads_q;
    size_t end = (idx + 1) * KERN_DOT_CHUNK;
    if (end > t) end = t;
    for (size_t row = idx * KERN_DOT_CHUNK * hq; row < end * hq; row++) {
        const float *o = c->o + row * d, *g = c->dout + row * d;
        float sum = 0;
        for (size_t j = 0; j < d; j++) sum += o[j] * g[j];
        c->dvec[row] = sum;
    }
}

/* For query row i (token tok, q head h) against the key tile in kt/vt at key
 * offset j0 with lim visible keys: p[j] = softmax probability, ds[j] =
 * p (dP - D) scaled by the softmax scale (the factor dS carries into dQ, dK). */
static void bwd_row(const bwd_ctx *c, size_t tok, int h, const float *kt, const float *vt, int lim,
                    float *p, float *ds)
{
    const kern_attn_shape *s = c->s;
    const int d = s->head_dim;
    const size_t qs = (size_t)s->heads_q * d;
    const float scale = 1.0f / sqrtf((float)d);
    const size_t row = tok * (size_t)s->heads_q + (size_t)h;
    row_times_tile(c->q + tok * qs + (size_t)h * d, kt, d, p);
    row_times_tile(c->dout + tok * qs + (size_t)h * d, vt, d, ds);
    const float lse = c->lse[row], dv = c->dvec[row];
    for (int j = 0; j < lim; j++) {
        p[j] = expf(p[j] * scale - lse);
        ds[j] = p[j] * (ds[j] - dv) * scale;
    }
}

static void dkdv_item(void *vctx, size_t idx, int worker)
{
    const bwd_ctx *c = vctx;
    const kern_attn_shape *s = c->s;
    const attn_item *it = &c->items[idx];
    const int d = s->head_dim, hq = s->heads_q, hkv = s->heads_kv, grp = hq / hkv;
    const int hk = it->head;
    const size_t qs = (size_t)hq * d, ks = (size_t)hkv * d;
    const int start = s->cu_seqlens[it->seq], len = s->cu_seqlens[it->seq + 1] - start;
    const int j0 = it->tile * KERN_BC;
    const int nc = len - j0 < KERN_BC ? len - j0 : KERN_BC;

    float *kt = c->scratch + (size_t)worker * c->per_worker;
    float *vt = kt + (size_t)d * KERN_BC;
    float *p = vt + (size_t)d * KERN_BC;
    float *ds = p + KERN_BC;
    float *dk = ds + KERN_BC;
    float *dv = dk + (size_t)KERN_BC * d;
    for (size_t j = 0; j < 2 * (size_t)KERN_BC * d; j++) dk[j] = 0;
    tile_transpose(c->k + ((size_t)start + (size_t)j0) * ks + (size_t)hk * d, ks, nc, d, kt);
    tile_transpose(c->v + ((size_t)start + (size_t)j0) * ks + (size_t)hk * d, ks, nc, d, vt);

    /* Causal: query rows before j0 see none of these keys. */
    const int ifirst = s->causal ? j0 : 0;
    for (int h = hk * grp; h < (hk + 1) * grp; h++) {
        for (int i = ifirst; i < len; i++) {
            const size_t tok = (size_t)start + (size_t)i;
            const int lim = visible(s, i, j0, nc);
            bwd_row(c, tok, h, kt, vt, lim, p, ds);
            const float *qrow = c->q + tok * qs + (size_t)h * d;
            const float *grow = c->dout + tok * qs + (size_t)h * d;
            for (int j = 0; j < lim; j++) {
                axpy(p[j], grow, dv + (size_t)j * d, d);
                axpy(ds[j], qrow, dk + (size_t)j * d, d);
            }
        }
    }
    for (int j = 0; j < nc; j++) {
        const size_t off = ((size_t)start + (size_t)(j0 + j)) * ks + (size_t)hk * d;
        for (int x = 0; x < d; x++) {
            c->dk[off + x] = dk[(size_t)j * d + x];
            c->dv[off + x] = dv[(size_t)j * d + x];
        }
    }
}

static void dq_item(void *vctx, size_t idx, int worker)
{
    const bwd_ctx *c = vctx;
    const kern_attn_shape *s = c->s;
    const attn_item *it = &c->items[idx];
    const int d = s->head_dim, hq = s->heads_q, hkv = s->heads_kv;
    const int h = it->head, hk = h / (hq / hkv);
    const size_t qs = (size_t)hq * d, ks = (size_t)hkv * d;
    const int start = s->cu_seqlens[it->seq], len = s->cu_seqlens[it->seq + 1] - start;
    const int i0 = it->tile * KERN_BR;
    const int nr = len - i0 < KERN_BR ? len - i0 : KERN_BR;

    float *kt = c->scratch + (size_t)worker * c->per_worker;
    float *vt = kt + (size_t)d * KERN_BC;
    float *p = vt + (size_t)d * KERN_BC;
    float *ds = p + KERN_BC;
    float *dq = ds + KERN_BC;
    for (size_t j = 0; j < (size_t)KERN_BR * d; j++) dq[j] = 0;

    const float *kb = c->k + (size_t)start * ks + (size_t)hk * d;
    const float *vb = c->v + (size_t)start * ks + (size_t)hk * d;
    const int jend = s->causal ? i0 + nr : len;
    for (int j0 = 0; j0 < jend; j0 += KERN_BC) {
        const int nc = jend - j0 < KERN_BC ? jend - j0 : KERN_BC;
        tile_transpose(kb + (size_t)j0 * ks, ks, nc, d, kt);
        tile_transpose(vb + (size_t)j0 * ks, ks, nc, d, vt);
        for (int r = 0; r < nr; r++) {
            const int lim = visible(s, i0 + r, j0, nc);
            if (lim <= 0) continue;
            bwd_row(c, (size_t)start + (size_t)(i0 + r), h, kt, vt, lim, p, ds);
            for (int j = 0; j < lim; j++)
                axpy(ds[j], kb + (size_t)(j0 + j) * ks, dq + (size_t)r * d, d);
        }
    }
    for (int r = 0; r < nr; r++) {
        float *out = c->dq + ((size_t)start + (size_t)(i0 + r)) * qs + (size_t)h * d;
        for (int x = 0; x < d; x++) out[x] = dq[(size_t)r * d + x];
    }
}

sft_status kern_attn_bwd_cpu(const kern_attn_shape *s, const float *q, const float *k,
                             const float *v, const float *o, const float *lse, const float *dout,
                             float *dq, float *dk, float *dv, int nthreads, sft_err *e)
{
    const void *ptrs[] = {q, k, v, o, lse, dout, dq, dk, dv};
    const char *names[] = {"q", "k", "v", "o", "lse", "dout", "dq", "dk", "dv"};
    sft_status st = cpu_args_check(s, nthreads, ptrs, names, 9, e);
    if (st) return st;
    const size_t t = kern_attn_tokens(s);
    bwd_ctx c = {.s = s,
                 .q = q,
                 .k = k,
                 .v = v,
                 .o = o,
                 .lse = lse,
                 .dout = dout,
                 .dq = dq,
                 .dk = dk,
                 .dv = dv};
    c.dvec = sft_xmalloc(t * (size_t)s->heads_q * sizeof(float));
    c.per_worker = bwd_scratch(s->head_dim);
    st = kern_parallel_for((t + KERN_DOT_CHUNK - 1) / KERN_DOT_CHUNK, nthreads, dot_item, &c, e);

    size_t nkv = 0, nq = 0;
    attn_item *kv_items = items_create(s, s->heads_kv, 1, &nkv);
    attn_item *q_items = items_create(s, s->heads_q, 0, &nq);
    size_t most = nq > nkv ? nq : nkv;
    c.scratch = sft_xmalloc((size_t)kern_workers(most, nthreads) * c.per_worker * sizeof(float));
    if (!st) {
        c.items = kv_items;
        st = kern_parallel_for(nkv, nthreads, dkdv_item, &c, e);
    }
    if (!st) {
        c.items = q_items;
        st = kern_parallel_for(nq, nthreads, dq_item, &c, e);
    }
    free(c.scratch);
    free(kv_items);
    free(q_items);
    free(c.dvec);
    return st ? sft_err_prefix(e, "attention backward (cpu)") : SFT_OK;
}
