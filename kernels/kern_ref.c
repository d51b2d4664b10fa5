/* kern_ref.c — the naive oracles the tests trust: attention with the full
 * score matrix of each (sequence, q head) and a triple-loop GEMM, all in
 * double, single-threaded, written for obviousness rather than speed.
 *
 * Invariants: the backward is derived from first principles (it recomputes
 * the forward and uses dS = P o (dP - rowsum(P o dP))), so it shares nothing
 * with the flash kernels it checks: no O or LSE input, no tiling.
 */
#include "kernels/kern_int.h"

#include <math.h>
#include <stdlib.h>

/* Fills p[i*n + j] with the softmax probabilities of sequence (start, n) for
 * q head h (row i sees keys j <= i when causal, all keys otherwise) and, when
 * lse is not NULL, lse[i] with the log-sum-exp of row i's scaled scores. */
static void naive_probs(const kern_attn_shape *s, const double *q, const double *k, size_t start,
                        int n, int h, double *p, double *lse)
{
    const int d = s->head_dim, hk = h / (s->heads_q / s->heads_kv);
    const size_t qs = (size_t)s->heads_q * d, ks = (size_t)s->heads_kv * d;
    const double scale = 1.0 / sqrt((double)d);
    for (int i = 0; i < n; i++) {
        const double *qi = q + (start + (size_t)i) * qs + (size_t)h * d;
        const int nvis = s->causal ? i + 1 : n;
        double *row = p + (size_t)i * n, mx = -INFINITY;
        for (int j = 0; j < nvis; j++) {
            const double *kj = k + (start + (size_t)j) * ks + (size_t)hk * d;
            double dot = 0;
            for (int x = 0; x < d; x++) dot += qi[x] * kj[x];
            row[j] = dot * scale;
            if (row[j] > mx) mx = row[j];
        }
        double sum = 0;
        for (int j = 0; j < nvis; j++) sum += exp(row[j] - mx);
        for (int j = 0; j < nvis; j++) row[j] = exp(row[j] - mx) / sum;
        for (int j = nvis; j < n; j++) row[j] = 0;
        if (lse) lse[i] = mx + log(sum);
    }
}

static sft_status naive_check(const kern_attn_shape *s, const void *const *ptrs,
                              const char *const *names, int nptr, sft_err *e)
{
    sft_status st = kern_attn_shape_check(s, e);
    if (st) return st;
    if (kern_attn_tokens(s) == 0) return SFT_OK;
    return kern_ptrs_check("attention (naive)", ptrs, names, nptr, e);
}

/* The longest sequence: the size of the score matrix to allocate. */
static int longest(const kern_attn_shape *s)
{
    int most = 0;
    for (int i = 0; i < s->nseq; i++)
        if (s->cu_seqlens[i + 1] - s->cu_seqlens[i] > most)
            most = s->cu_seqlens[i + 1] - s->cu_seqlens[i];
    return most;
}

sft_status kern_attn_fwd_naive(const kern_attn_shape *s, const double *q, const double *k,
                               const double *v, double *o, double *lse, sft_err *e)
{
    const void *ptrs[] = {q, k, v, o, lse};
    const char *names[] = {"q", "k", "v", "o", "lse"};
    sft_status st = naive_check(s, ptrs, names, 5, e);
    if (st) return st;
    const int d = s->head_dim, hq = s->heads_q;
    const size_t qs = (size_t)hq * d, ks = (size_t)s->heads_kv * d;
    const size_t most = (size_t)longest(s);
    double *p = sft_xmalloc(most * most * sizeof *p);
    double *l = sft_xmalloc(most * sizeof *l);
    for (int sq = 0; sq < s->nseq; sq++) {
        const size_t start = (size_t)s->cu_seqlens[sq];
        const int n = s->cu_seqlens[sq + 1] - s->cu_seqlens[sq];
        for (int h = 0; h < hq; h++) {
            const int hk = h / (hq / s->heads_kv);
            naive_probs(s, q, k, start, n, h, p, l);
            for (int i = 0; i < n; i++) {
                double *oi = o + (start + (size_t)i) * qs + (size_t)h * d;
                for (int x = 0; x < d; x++) oi[x] = 0;
                for (int j = 0; j < n; j++) {
                    const double *vj = v + (start + (size_t)j) * ks + (size_t)hk * d;
                    for (int x = 0; x < d; x++) oi[x] += p[(size_t)i * n + j] * vj[x];
                }
                lse[(start + (size_t)i) * hq + (size_t)h] = l[i];
            }
        }
    }
    free(p);
    free(l);
    return SFT_OK;
}

sft_status kern_attn_bwd_naive(const kern_attn_shape *s, const double *q, const double *k,
                               const double *v, const double *dout, double *dq, double *dk,
                               double *dv, sft_err *e)
{
    const void *ptrs[] = {q, k, v, dout, dq, dk, dv};
    const char *names[] = {"q", "k", "v", "dout", "dq", "dk", "dv"};
    sft_status st = naive_check(s, ptrs, names, 7, e);
    if (st) return st;
    const int d = s->head_dim, hq = s->heads_q;
    const size_t qs = (size_t)hq * d, ks = (size_t)s->heads_kv * d;
    const size_t t = kern_attn_tokens(s);
    const double scale = 1.0 / sqrt((double)d);
    const size_t most = (size_t)longest(s);
    double *p = sft_xmalloc(most * most * sizeof *p);
    double *dp = sft_xmalloc(most * most * sizeof *dp);
    for (size_t i = 0; i < t * qs; i++) dq[i] = 0;
    for (size_t i = 0; i < t * ks; i++) dk[i] = dv[i] = 0;
    for (int sq = 0; sq < s->nseq; sq++) {
        const size_t start = (size_t)s->cu_seqlens[sq];
        const int n = s->cu_seqlens[sq + 1] - s->cu_seqlens[sq];
        for (int h = 0; h < hq; h++) {
            const int hk = h / (hq / s->heads_kv);
            naive_probs(s, q, k, start, n, h, p, NULL);
            /* dP = dO V^T; dV += P^T dO. */
            for (int i = 0; i < n; i++) {
                const double *gi = dout + (start + (size_t)i) * qs + (size_t)h * d;
                for (int j = 0; j < n; j++) {
                    const double *vj = v + (start + (size_t)j) * ks + (size_t)hk * d;
                    double *dvj = dv + (start + (size_t)j) * ks + (size_t)hk * d;
                    const double pij = p[(size_t)i * n + j];
                    double dot = 0;
                    for (int x = 0; x < d; x++) {
                        dot += gi[x] * vj[x];
                        dvj[x] += pij * gi[x];
                    }
                    dp[(size_t)i * n + j] = dot;
                }
            }
            /* dS = P o (dP - rowsum(P o dP)); dQ = scale dS K; dK = scale dS^T Q. */
            for (int i = 0; i < n; i++) {
                double rs = 0;
                for (int j = 0; j < n; j++) rs += p[(size_t)i * n + j] * dp[(size_t)i * n + j];
                const double *qi = q + (start + (size_t)i) * qs + (size_t)h * d;
                double *dqi = dq + (start + (size_t)i) * qs + (size_t)h * d;
                for (int j = 0; j < n; j++) {
                    const double dsij = p[(size_t)i * n + j] * (dp[(size_t)i * n + j] - rs) * scale;
                    const double *kj = k + (start + (size_t)j) * ks + (size_t)hk * d;
                    double *dkj = dk + (start + (size_t)j) * ks + (size_t)hk * d;
                    for (int x = 0; x < d; x++) {
                        dqi[x] += dsij * kj[x];
                        dkj[x] += dsij * qi[x];
                    }
                }
            }
        }
    }
    free(p);
    free(dp);
    return SFT_OK;
}

sft_status kern_gemm_naive(int m, int n, int k, const double *a, const double *b, double *c,
                           sft_err *e)
{
    sft_status st = kern_gemm_args_check(m, n, k, e);
    if (st) return st;
    const void *ptrs[] = {a, b, c};
    const char *names[] = {"a", "b", "c"};
    if ((st = kern_ptrs_check("gemm (naive)", ptrs, names, 3, e))) return st;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int x = 0; x < k; x++) sum += a[(size_t)i * k + x] * b[(size_t)x * n + j];
            c[(size_t)i * n + j] = sum;
        }
    return SFT_OK;
}
