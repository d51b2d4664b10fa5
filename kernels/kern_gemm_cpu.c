/* kern_gemm_cpu.c — the CPU reference GEMM: row-major C[M,N] = A[M,K] B[K,N]
 * in float, blocked so that a KB x NB panel of B stays in cache while a block
 * of MB rows of A streams over it, and threaded over (row block, column
 * block) items that each own a disjoint block of C.
 *
 * Invariants: every C element is accumulated over k in increasing order,
 * whatever the blocking or the thread count, so results are bitwise
 * reproducible; the inner loop is an axpy over a row of B (vectorisable
 * without reassociation).
 */
#include "kernels/kern_int.h"

#include <stdlib.h>

#define GEMM_MB 32  /* rows of A and C per item */
#define GEMM_NB 256 /* columns of B and C per item */
#define GEMM_KB 128 /* depth of one B panel */

typedef struct gemm_ctx {
    int m, n, k;
    const float *a, *b;
    float *c;
    int ncb; /* column blocks */
} gemm_ctx;

static void gemm_item(void *vctx, size_t idx, int worker)
{
    (void)worker;
    const gemm_ctx *g = vctx;
    const int i0 = (int)(idx / (size_t)g->ncb) * GEMM_MB;
    const int j0 = (int)(idx % (size_t)g->ncb) * GEMM_NB;
    const int i1 = i0 + GEMM_MB < g->m ? i0 + GEMM_MB : g->m;
    const int j1 = j0 + GEMM_NB < g->n ? j0 + GEMM_NB : g->n;
    const int nj = j1 - j0;
    for (int i = i0; i < i1; i++)
        for (int j = 0; j < nj; j++) g->c[(size_t)i * g->n + (size_t)(j0 + j)] = 0;
    for (int k0 = 0; k0 < g->k; k0 += GEMM_KB) {
        const int k1 = k0 + GEMM_KB < g->k ? k0 + GEMM_KB : g->k;
        for (int i = i0; i < i1; i++) {
            float *crow = g->c + (size_t)i * g->n + j0;
            const float *arow = g->a + (size_t)i * g->k;
            for (int x = k0; x < k1; x++) {
                const float av = arow[x];
                const float *brow = g->b + (size_t)x * g->n + j0;
                for (int j = 0; j < nj; j++) crow[j] += av * brow[j];
            }
        }
    }
}

sft_status kern_gemm_cpu(int m, int n, int k, const float *a, const float *b, float *c,
                         int nthreads, sft_err *e)
{
    sft_status st = kern_gemm_args_check(m, n, k, e);
    if (st) return st;
    const void *ptrs[] = {a, b, c};
    const char *names[] = {"a", "b", "c"};
    if ((st = kern_ptrs_check("gemm (cpu)", ptrs, names, 3, e))) return st;
    if (nthreads < 0)
        return sft_errf(e, SFT_EINPUT, "gemm (cpu): nthreads is %d, must be 0 (all CPUs) or more",
                        nthreads);
    gemm_ctx g = {.m = m, .n = n, .k = k, .a = a, .b = b, .c = c};
    g.ncb = (n + GEMM_NB - 1) / GEMM_NB;
    const size_t items = (size_t)((m + GEMM_MB - 1) / GEMM_MB) * (size_t)g.ncb;
    st = kern_parallel_for(items, nthreads, gemm_item, &g, e);
    return st ? sft_err_prefix(e, "gemm (cpu)") : SFT_OK;
}
