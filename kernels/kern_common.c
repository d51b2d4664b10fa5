/* kern_common.c — the backend-independent helpers of kernels/: shape and
 * argument checks, FLOP accounting, seeded inputs, BF16 rounding, the median
 * and the worker pool the CPU kernels run on.
 *
 * Invariants: the pool hands items out in index order from one atomic counter
 * and every item is processed exactly once whatever the thread count, so the
 * CPU kernels (whose items write disjoint outputs) give bitwise identical
 * results for any nthreads. Random inputs depend on the seed alone.
 */
#include "kernels/kern_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* Beyond this many workers the pool only adds thread start-up cost. */
#define KERN_MAX_WORKERS 256

const char *kern_backend_name(kern_backend b)
{
    return b == KERN_CUDA ? "cuda" : "cpu";
}
const char *kern_dir_name(kern_dir d)
{
    return d == KERN_BWD ? "bwd" : "fwd";
}

sft_status kern_attn_shape_check(const kern_attn_shape *s, sft_err *e)
{
    if (!s) return sft_errf(e, SFT_EINPUT, "attention shape: missing (NULL)");
    if (s->nseq < 0)
        return sft_errf(e, SFT_EINPUT, "attention shape: nseq is %d, must be 0 or more", s->nseq);
    if (!s->cu_seqlens)
        return sft_errf(e, SFT_EINPUT,
                        "attention shape: cu_seqlens is NULL (needs nseq+1 = %d "
                        "offsets)",
                        s->nseq + 1);
    if (s->cu_seqlens[0] != 0)
        return sft_errf(e, SFT_EINPUT, "attention shape: cu_seqlens[0] is %d, must be 0",
                        (int)s->cu_seqlens[0]);
    for (int i = 0; i < s->nseq; i++)
        if (s->cu_seqlens[i + 1] < s->cu_seqlens[i])
            return sft_errf(e, SFT_EINPUT,
                            "attention shape: cu_seqlens[%d] = %d is below cu_seqlens[%d] = %d "
                            "(offsets must be nondecreasing)",
                            i + 1, (int)s->cu_seqlens[i + 1], i, (int)s->cu_seqlens[i]);
    if (s->heads_q < 1 || s->heads_kv < 1)
        return sft_errf(e, SFT_EINPUT,
                        "attention shape: heads_q = %d, heads_kv = %d, both must be 1 or more",
                        s->heads_q, s->heads_kv);
    if (s->heads_q % s->heads_kv != 0)
        return sft_errf(e, SFT_EINPUT,
                        "attention shape: heads_q = %d is not a multiple of heads_kv = %d (GQA "
                        "shares each kv head among heads_q/heads_kv q heads)",
                        s->heads_q, s->heads_kv);
    if (s->head_dim != 64 && s->head_dim != 128)
        return sft_errf(e, SFT_EINPUT, "attention shape: head_dim is %d, must be 64 or 128",
                        s->head_dim);
    return SFT_OK;
}

size_t kern_attn_tokens(const kern_attn_shape *s)
{
    return (size_t)s->cu_seqlens[s->nseq];
}

double kern_attn_flops(const kern_attn_shape *s, kern_dir dir)
{
    double pairs = 0;
    for (int i = 0; i < s->nseq; i++) {
        double n = (double)(s->cu_seqlens[i + 1] - s->cu_seqlens[i]);
        pairs += s->causal ? n * (n + 1) / 2 : n * n;
    }
    double fwd = 4.0 * s->head_dim * s->heads_q * pairs;
    return dir == KERN_BWD ? 2.5 * fwd : fwd;
}

double kern_gemm_flops(int m, int n, int k)
{
    return 2.0 * m * (double)n * k;
}

void kern_fill_random(float *x, size_t n, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) x[i] = kern_u64_to_unit(kern_splitmix64(&st));
}

void kern_round_bf16(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = kern_bf16_to_f32(kern_f32_to_bf16(x[i]));
}

/* ---- worker pool ------------------------------------------------------------ */

typedef struct pool {
    kern_task_fn fn;
    void *ctx;
    size_t nitems;
    atomic_size_t next;
} pool;

typedef struct pool_worker {
    pool *p;
    int id;
} pool_worker;

static void pool_drain(pool *p, int id)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->nitems) return;
        p->fn(p->ctx, i, id);
    }
}

static void *pool_main(void *arg)
{
    pool_worker *w = arg;
    pool_drain(w->p, w->id);
    return NULL;
}

int kern_workers(size_t nitems, int nthreads)
{
    long n = nthreads > 0 ? nthreads : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > KERN_MAX_WORKERS) n = KERN_MAX_WORKERS;
    if ((size_t)n > nitems) n = nitems ? (long)nitems : 1;
    return (int)n;
}

sft_status kern_parallel_for(size_t nitems, int nthreads, kern_task_fn fn, void *ctx, sft_err *e)
{
    if (nitems == 0) return SFT_OK;
    int nw = kern_workers(nitems, nthreads);
    pool p = {.fn = fn, .ctx = ctx, .nitems = nitems};
    atomic_init(&p.next, 0);
    pthread_t *th = sft_xcalloc((size_t)nw, sizeof *th);
    pool_worker *args = sft_xcalloc((size_t)nw, sizeof *args);
    int started = 1, err = 0;
    for (; started < nw; started++) {
        args[started] = (pool_worker){.p = &p, .id = started};
        err = pthread_create(&th[started], NULL, pool_main, &args[started]);
        if (err) break;
    }
    /* Even when a thread could not start, the counter lets the caller's thread
     * and those that did start finish every item before we report it. */
    pool_drain(&p, 0);
    for (int w = 1; w < started; w++) pthread_join(th[w], NULL);
    free(th);
    free(args);
    if (err)
        return sft_errf(e, SFT_EINTERNAL, "cannot start worker thread %d of %d: %s", started + 1,
                        nw, strerror(err));
    return SFT_OK;
}

/* ---- timing and argument helpers ------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double kern_median(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

sft_status kern_time_args_check(int warmup, int reps, double *median_s, sft_err *e)
{
    if (warmup < 0)
        return sft_errf(e, SFT_EINPUT, "timing: warmup is %d, must be 0 or more", warmup);
    if (reps < 1) return sft_errf(e, SFT_EINPUT, "timing: reps is %d, must be 1 or more", reps);
    if (!median_s) return sft_errf(e, SFT_EINPUT, "timing: median_s is NULL");
    return SFT_OK;
}

sft_status kern_gemm_args_check(int m, int n, int k, sft_err *e)
{
    if (m < 1 || n < 1 || k < 1)
        return sft_errf(e, SFT_EINPUT, "gemm: M = %d, N = %d, K = %d, all must be 1 or more", m, n,
                        k);
    return SFT_OK;
}

sft_status kern_ptrs_check(const char *what, const void *const *ptrs, const char *const *names,
                           int n, sft_err *e)
{
    for (int i = 0; i < n; i++)
        if (!ptrs[i]) return sft_errf(e, SFT_EINPUT, "%s: array %s is NULL", what, names[i]);
    return SFT_OK;
}
