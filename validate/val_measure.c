/* val_measure.c — `sftsim-validate measure`: times the attention and GEMM
 * kernels over a grid on one backend and writes the calibration table the
 * cost model reads (models/hw/calib.h).
 *
 * Method (validate/README.md): a numerics check first (CUDA against the CPU
 * reference on small shapes, the CPU kernels against the naive double
 * oracle; a failure stops with exit 1 before anything is timed). Then, per
 * point: one probe call, warm-up calls up to the grid's count, and the median
 * of the timed calls (CUDA events on one stream; CPU: by default one thread
 * timed by its own CPU clock, so that other processes do not count).
 * The probe sets the repetitions: over VAL_LONG_S a point gets 3 timed calls
 * and no further warm-up; short points get more timed calls (up to
 * VAL_MAX_REPS) so the timed calls span VAL_MIN_TIMED_S.
 *
 * Invariants of the written table: it passes cal_parse (the file is parsed
 * back before it is committed, and written atomically); points are in the
 * grid's order; per attention kernel the time per sequence and head never
 * decreases with length (measurement noise is absorbed by a running max,
 * counted in "notes"); the device, driver, date (UTC) and grid are recorded.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kernels/kern.h"
#include "models/hw/calib.h"
#include "validate/val.h"

#define VAL_LONG_S       1.0  /* probe above this: 3 timed calls, no more warm-up */
#define VAL_MIN_TIMED_S  0.05 /* short points: timed calls spanning at least this */
#define VAL_MAX_REPS     51
#define VAL_CHECK_LIMIT  2e-2 /* CUDA vs CPU reference, normwise (BF16 inputs) */
#define VAL_ORACLE_LIMIT 1e-4 /* CPU FP32 vs naive double oracle */

/* Dense BF16 peaks by device name (vendor datasheets and vendor datasheets); the
 * first entry contained in the CUDA device name wins, so the more specific
 * names come first (the H200's name contains "H20"). */
static const struct {
    const char *sub;
    double tflops;
} peaks[] = {
    {"H100 PCIe", 756}, {"H100 NVL", 835}, {"H100", 989}, {"H200", 989}, {"H800 PCIe", 756},
    {"H800", 989},      {"H20", 148},      {"A100", 312}, {"A800", 312}, {"RTX 4090", 165},
};

typedef struct opts {
    kern_backend backend;
    const char *grid, *out, *name;
    int warmup, reps, list;
    int threads; /* cpu: 1 = one thread timed by its CPU clock, 0 = all CPUs, wall clock */
    double max_mem, peak;
} opts;

/* What the run learned besides the times, for the table's fields. */
typedef struct run {
    char device[256], driver[256], numerics[512];
    double *attn_us, *gemm_us; /* 0: skipped */
    int nskip;
    char skipped[1024];
} run;

static void help(void)
{
    printf("usage: sftsim-validate measure --backend cpu|cuda [--grid G] -o FILE [--name NAME]\n"
           "                               [--warmup N] [--reps N] [--max-mem-gib G]\n"
           "                               [--peak-tflops X] [--threads 1|all] [--list]\n\n"
           "Times the attention (forward, backward; causal, non-causal; head dim 64, 128) and\n"
           "GEMM kernels over a grid of shapes and writes a calibration table (the format\n"
           "of models/hw/calibration/*.json; validate/README.md). Progress goes to stderr.\n\n"
           "  --backend B       cpu (the FP32 reference kernels) or cuda (BF16 flash\n"
           "                    attention and cuBLASLt on the current CUDA device)\n"
           "  --grid G          small, heldout-small (CPU scale, seconds), default, heldout\n"
           "                    (GPU scale, minutes), or a grid file; default: small for cpu,\n"
           "                    default for cuda\n"
           "  -o, --output FILE the table to write (atomically)\n"
           "  --name NAME       the table's name (default: FILE's base name without .json;\n"
           "                    a GPU prefers the tables named in its \"calibration\" list,\n"
           "                    e.g. h100-measured for h100-sxm)\n"
           "  --warmup N        calls before the timed ones, the probe included (default:\n"
           "                    the grid's, 2; 1 for the CPU grids)\n"
           "  --reps N          timed calls whose median is recorded (default: the grid's, 5)\n"
           "  --max-mem-gib G   skip points whose buffers need more (default 40 cuda, 4 cpu)\n"
           "  --peak-tflops X   the device's dense peak (default: cuda, from the device name;\n"
           "                    cpu, the best GEMM throughput measured)\n"
           "  --threads T       cpu: 1 (default) times the kernels on one thread by its CPU\n"
           "                    clock, so other processes on the machine do not count; all\n"
           "                    runs them on every online CPU, timed by the wall clock\n"
           "  --list            print the grid's points and exit without measuring\n\n"
           "Exit codes: 0 ok, 1 kernel error or failed numerics check, 2 bad input,\n"
           "3 no usable CUDA device (--backend cuda).\n");
}

/* ---- numerics --------------------------------------------------------------------- */

static double rel_err_f(const float *x, const double *ref, size_t n)
{
    double dmax = 0, rmax = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) return INFINITY;
        dmax = fmax(dmax, fabs((double)x[i] - ref[i]));
        rmax = fmax(rmax, fabs(ref[i]));
    }
    return rmax > 0 ? dmax / rmax : dmax;
}

/* CPU flash forward and backward against the naive double oracle on one
 * shape; writes the largest normwise error into *err. */
static sft_status oracle_check(const kern_attn_shape *s, double *err, sft_err *e)
{
    size_t t = kern_attn_tokens(s), nq = t * (size_t)s->heads_q * (size_t)s->head_dim;
    size_t nkv = t * (size_t)s->heads_kv * (size_t)s->head_dim, nr = t * (size_t)s->heads_q;
    size_t nf = 3 * nq + 3 * nkv + nr + nq; /* q o dq dout | k v dk dv | lse */
    float *f = sft_xcalloc(nf + nkv, sizeof *f);
    double *d = sft_xcalloc(nf + nkv, sizeof *d);
    float *q = f, *o = q + nq, *dq = o + nq, *dout = dq + nq, *k = dout + nq, *v = k + nkv,
          *dk = v + nkv, *dv = dk + nkv, *lse = dv + nkv;
    double *Q = d, *O = Q + nq, *DQ = O + nq, *DOUT = DQ + nq, *K = DOUT + nq, *V = K + nkv,
           *DK = V + nkv, *DV = DK + nkv, *LSE = DV + nkv;
    kern_fill_random(q, nq, 11);
    kern_fill_random(k, nkv, 12);
    kern_fill_random(v, nkv, 13);
    kern_fill_random(dout, nq, 14);
    for (size_t i = 0; i < nq; i++) Q[i] = q[i], DOUT[i] = dout[i];
    for (size_t i = 0; i < nkv; i++) K[i] = k[i], V[i] = v[i];
    sft_status st;
    if (!(st = kern_attn_fwd_cpu(s, q, k, v, o, lse, 0, e)) &&
        !(st = kern_attn_bwd_cpu(s, q, k, v, o, lse, dout, dq, dk, dv, 0, e)) &&
        !(st = kern_attn_fwd_naive(s, Q, K, V, O, LSE, e)) &&
        !(st = kern_attn_bwd_naive(s, Q, K, V, DOUT, DQ, DK, DV, e))) {
        double x[5] = {rel_err_f(o, O, nq), rel_err_f(lse, LSE, nr), rel_err_f(dq, DQ, nq),
                       rel_err_f(dk, DK, nkv), rel_err_f(dv, DV, nkv)};
        *err = 0;
        for (int i = 0; i < 5; i++) *err = fmax(*err, x[i]);
    }
    free(f);
    free(d);
    return st;
}

/* The check before timing: writes its summary into r->numerics. Fails with
 * SFT_EINTERNAL when an error exceeds its limit. */
static sft_status numerics(kern_backend b, run *r, sft_err *e)
{
    static const int32_t cu_a[] = {0, 512, 812, 889}, cu_b[] = {0, 256, 386}, cu_c[] = {0, 200},
                         cu_d[] = {0, 64, 65, 398};
    const kern_attn_shape cuda_shapes[] = {{3, cu_a, 28, 4, 128, 1},
                                           {2, cu_b, 14, 2, 64, 0},
                                           {1, cu_c, 28, 4, 128, 0},
                                           {3, cu_d, 14, 2, 64, 1}};
    static const int32_t cu_o1[] = {0, 37, 101}, cu_o2[] = {0, 50};
    const kern_attn_shape cpu_shapes[] = {{2, cu_o1, 4, 2, 64, 1}, {1, cu_o2, 2, 1, 128, 0}};
    const kern_attn_shape *shapes = b == KERN_CUDA ? cuda_shapes : cpu_shapes;
    int n = b == KERN_CUDA ? 4 : 2;
    double limit = b == KERN_CUDA ? VAL_CHECK_LIMIT : VAL_ORACLE_LIMIT, worst = 0;
    for (int i = 0; i < n; i++) {
        double err = 0;
        kern_attn_check c;
        sft_status st = b == KERN_CUDA ? kern_check_cuda_vs_cpu(&shapes[i], 7 + (uint64_t)i, &c, e)
                                       : oracle_check(&shapes[i], &err, e);
        if (st) return sft_err_prefix(e, "numerics check");
        if (b == KERN_CUDA) err = c.max;
        worst = fmax(worst, err);
        if (!(err <= limit))
            return sft_errf(e, SFT_EINTERNAL,
                            "numerics check failed: %s attention (head_dim %d, %d/%d heads, %s, "
                            "%d sequences) differs from the %s by %.3g (normwise; limit %.0e): "
                            "nothing was timed",
                            kern_backend_name(b), shapes[i].head_dim, shapes[i].heads_q,
                            shapes[i].heads_kv, shapes[i].causal ? "causal" : "non-causal",
                            shapes[i].nseq, b == KERN_CUDA ? "CPU reference" : "naive oracle", err,
                            limit);
    }
    snprintf(r->numerics, sizeof r->numerics,
             "%s forward and backward on %d small packed shapes (head dim 64 and 128, causal and "
             "not) against the %s: largest normwise error %.2e (limit %.0e)",
             b == KERN_CUDA ? "CUDA (BF16)" : "CPU flash (FP32)", n,
             b == KERN_CUDA ? "CPU reference on the same BF16-rounded inputs"
                            : "naive double oracle",
             worst, limit);
    fprintf(stderr, "numerics: %s\n", r->numerics);
    return SFT_OK;
}

/* ---- timing ------------------------------------------------------------------------- */

static double thread_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The CPU kernels on the calling thread alone, timed by its CPU clock, so
 * that time other processes take from a shared machine is not counted.
 * Seeded random inputs; a backward reads one forward's O and LSE. s is the
 * attention shape, or NULL for GEMM g. */
static sft_status cpu_thread_time(const kern_attn_shape *s, kern_dir dir, const val_gemm *g,
                                  int warmup, int reps, double *med, sft_err *e)
{
    size_t t = s ? kern_attn_tokens(s) : 0;
    /* attention: Q-like, K-like and row sizes; GEMM: A, B and C */
    size_t nq = s ? t * (size_t)s->heads_q * (size_t)s->head_dim : (size_t)g->m * (size_t)g->k;
    size_t nkv = s ? t * (size_t)s->heads_kv * (size_t)s->head_dim : (size_t)g->k * (size_t)g->n;
    size_t nr = s ? t * (size_t)s->heads_q : (size_t)g->m * (size_t)g->n;
    size_t nb = s ? nq : 0, nbk = s ? nkv : 0; /* the attention-only tensors */
    float *q = sft_xmalloc(nq * sizeof *q), *k = sft_xmalloc(nkv * sizeof *k);
    float *r = sft_xmalloc(nr * sizeof *r); /* LSE or C */
    float *v = sft_xmalloc((nbk + 1) * sizeof *v), *dk = sft_xmalloc((nbk + 1) * sizeof *dk);
    float *dv = sft_xmalloc((nbk + 1) * sizeof *dv), *o = sft_xmalloc((nb + 1) * sizeof *o);
    float *dout = sft_xmalloc((nb + 1) * sizeof *dout), *dq = sft_xmalloc((nb + 1) * sizeof *dq);
    double *tm = sft_xmalloc((size_t)reps * sizeof *tm);
    kern_fill_random(q, nq, 1);
    kern_fill_random(k, nkv, 2);
    kern_fill_random(v, nbk, 3);
    kern_fill_random(dout, nb, 4);
    sft_status st = s ? kern_attn_fwd_cpu(s, q, k, v, o, r, 1, e) : SFT_OK;
    for (int i = 0; !st && i < warmup + reps; i++) {
        double t0 = thread_clock();
        if (!s)
            st = kern_gemm_cpu((int)g->m, (int)g->n, (int)g->k, q, k, r, 1, e);
        else if (dir == KERN_FWD)
            st = kern_attn_fwd_cpu(s, q, k, v, o, r, 1, e);
        else
            st = kern_attn_bwd_cpu(s, q, k, v, o, r, dout, dq, dk, dv, 1, e);
        if (i >= warmup) tm[i - warmup] = thread_clock() - t0;
    }
    if (!st) {
        qsort(tm, (size_t)reps, sizeof *tm, cmp_double);
        *med = reps % 2 ? tm[reps / 2] : 0.5 * (tm[reps / 2 - 1] + tm[reps / 2]);
    }
    free(tm);
    free(q);
    free(k);
    free(r);
    free(v);
    free(dk);
    free(dv);
    free(o);
    free(dout);
    free(dq);
    return st;
}

/* One point: attention when a is set, else GEMM g. */
static sft_status time_call(const opts *o, const val_attn *a, const val_gemm *g, int warmup,
                            int reps, double *med, sft_err *e)
{
    int one = o->backend == KERN_CPU && o->threads == 1;
    if (!a)
        return one ? cpu_thread_time(NULL, KERN_FWD, g, warmup, reps, med, e)
                   : kern_time_gemm(o->backend, (int)g->m, (int)g->n, (int)g->k, warmup, reps, med,
                                    e);
    int32_t *cu = sft_xmalloc((size_t)(a->batch + 1) * sizeof *cu);
    for (long i = 0; i <= a->batch; i++) cu[i] = (int32_t)(i * a->len);
    kern_attn_shape s = {(int)a->batch, cu, a->heads_q, a->heads_kv, a->head_dim, a->causal};
    kern_dir d = a->bwd ? KERN_BWD : KERN_FWD;
    sft_status st = one ? cpu_thread_time(&s, d, NULL, warmup, reps, med, e)
                        : kern_time_attn(o->backend, &s, d, warmup, reps, med, e);
    free(cu);
    return st;
}

/* Probe, then warm-up and the timed calls (see the file comment). */
static sft_status time_point(const val_grid *gr, const opts *o, const val_attn *a,
                             const val_gemm *g, double *med, sft_err *e)
{
    double probe;
    sft_status st = time_call(o, a, g, 0, 1, &probe, e);
    if (st) return st;
    int warmup = (o->warmup ? o->warmup : gr->warmup) - 1, reps = o->reps ? o->reps : gr->reps;
    if (probe > VAL_LONG_S) {
        warmup = 0;
        reps = reps < 3 ? reps : 3;
    } else if (!o->reps && probe * reps < VAL_MIN_TIMED_S) {
        reps = (int)ceil(VAL_MIN_TIMED_S / fmax(probe, 1e-7)) | 1;
        if (reps > VAL_MAX_REPS) reps = VAL_MAX_REPS;
    }
    return time_call(o, a, g, warmup, reps, med, e);
}

static void fmt_dur(double s, char *buf, size_t n)
{
    long t = lround(s);
    snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static sft_status measure_all(kern_backend b, const val_grid *gr, const opts *o, run *r, sft_err *e)
{
    size_t n = gr->nattn + gr->ngemm;
    double t0 = sft_wall(), spent[3] = {0, 0, 0}, done[3] = {0, 0, 0};
    double mem_limit = o->max_mem > 0 ? o->max_mem : (b == KERN_CUDA ? 40.0 : 4.0);
    for (size_t i = 0; i < n; i++) {
        const val_attn *a = i < gr->nattn ? &gr->attn[i] : NULL;
        const val_gemm *g = a ? NULL : &gr->gemm[i - gr->nattn];
        double *slot = a ? &r->attn_us[i] : &r->gemm_us[i - gr->nattn];
        int cls = a ? a->bwd : 2;
        double fl = a ? val_attn_flops(a) : val_gemm_flops(g);
        double bytes = (a ? val_attn_bytes(a) : val_gemm_bytes(g)) * (b == KERN_CPU ? 2 : 1);
        char label[128];
        if (a)
            val_attn_label(a, label, sizeof label);
        else
            snprintf(label, sizeof label, "gemm m=%ld n=%ld k=%ld", g->m, g->n, g->k);
        char why[256] = "";
        double med = 0, ts = sft_wall();
        sft_status st = SFT_OK;
        if (a && (double)a->batch * (double)a->len > 2147483647.0)
            snprintf(why, sizeof why, "more than 2^31 tokens");
        else if (bytes > mem_limit * 1073741824.0)
            snprintf(why, sizeof why, "needs ~%.1f GiB > --max-mem-gib %g", bytes / 1073741824.0,
                     mem_limit);
        else
            st = time_point(gr, o, a, g, &med, e);
        if (st == SFT_EINFEASIBLE && b == KERN_CUDA) {
            /* the device was usable at the start: this shape does not fit */
            snprintf(why, sizeof why, "%.200s", e->msg);
        } else if (st) {
            return sft_err_prefix(e, "timing %s", label);
        }
        spent[cls] += sft_wall() - ts;
        if (why[0]) {
            *slot = 0;
            if (r->nskip++ < 4) {
                size_t l = strlen(r->skipped);
                snprintf(r->skipped + l, sizeof r->skipped - l, "%s%s (%s)", l ? "; " : "", label,
                         why);
            }
            fprintf(stderr, "[%zu/%zu] %s: skipped: %s\n", i + 1, n, label, why);
            continue;
        }
        *slot = med * 1e6;
        done[cls] += fl;
        /* ETA: the wall time per FLOP seen so far in the same class of kernel */
        double eta = 0,
               all_rate = (spent[0] + spent[1] + spent[2]) / fmax(done[0] + done[1] + done[2], 1);
        for (size_t j = i + 1; j < n; j++) {
            const val_attn *aj = j < gr->nattn ? &gr->attn[j] : NULL;
            int cj = aj ? aj->bwd : 2;
            double fj = aj ? val_attn_flops(aj) : val_gemm_flops(&gr->gemm[j - gr->nattn]);
            eta += fj * (done[cj] > 0 ? spent[cj] / done[cj] : all_rate);
        }
        char el[32], et[32];
        fmt_dur(sft_wall() - t0, el, sizeof el);
        fmt_dur(eta, et, sizeof et);
        fprintf(stderr, "[%zu/%zu] %s: %.2f us, %.4g TFLOP/s | %s elapsed, ETA %s\n", i + 1, n,
                label, med * 1e6, fl / med * 1e-12, el, et);
    }
    return SFT_OK;
}

/* ---- the table ------------------------------------------------------------------------ */

/* Median of tput/peak over the larger half (by FLOPs) of n points, clamped
 * to (0, 1]; 0 when n == 0. Sorts a scratch copy. */
static double efficiency(const double *flops, const double *tput, size_t n, double peak)
{
    if (n == 0) return 0;
    double *f = sft_xmalloc(n * sizeof *f), *x = sft_xmalloc(n * sizeof *x);
    memcpy(f, flops, n * sizeof *f);
    qsort(f, n, sizeof *f, cmp_double);
    double cut = f[n / 2];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (flops[i] >= cut) x[m++] = tput[i] / peak;
    qsort(x, m, sizeof *x, cmp_double);
    double eff = m % 2 ? x[m / 2] : 0.5 * (x[m / 2 - 1] + x[m / 2]);
    free(f);
    free(x);
    return eff > 1 ? 1 : (eff > 1e-6 ? eff : 1e-6);
}

/* Raises attention times so that the time per sequence and head never
 * decreases with length within a kernel (the points of a kernel are
 * contiguous and sorted by length in every grid). Returns how many points
 * moved; *worst receives the largest relative raise, *where that point. */
static int monotone(const val_grid *gr, double *us, double *worst, char *where, size_t n)
{
    int moved = 0;
    double runmax = 0;
    *worst = 0;
    for (size_t i = 0; i < gr->nattn; i++) {
        const val_attn *a = &gr->attn[i];
        if (i == 0 || a->bwd != gr->attn[i - 1].bwd || a->causal != gr->attn[i - 1].causal ||
            a->head_dim != gr->attn[i - 1].head_dim)
            runmax = 0;
        if (us[i] <= 0) continue;
        double per = us[i] / ((double)a->batch * a->heads_q);
        if (per < runmax) {
            if (runmax / per - 1 > *worst) {
                *worst = runmax / per - 1;
                val_attn_label(a, where, n);
            }
            us[i] = runmax * (double)a->batch * a->heads_q;
            moved++;
        } else {
            runmax = per;
        }
    }
    return moved;
}

/* Writes s as a JSON string literal. */
static void put_str(FILE *f, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = cJSON_PrintUnformatted(j);
    fputs(t, f);
    free(t);
    cJSON_Delete(j);
}

static void put_field(FILE *f, const char *key, const char *val)
{
    fprintf(f, " \"%s\": ", key);
    put_str(f, val);
    fputs(",\n", f);
}

static double us_out(double us)
{
    return us < 0.001 ? 0.001 : round(us * 1000) / 1000;
}

static void write_table(FILE *f, const val_grid *gr, const run *r, const char *name,
                        const char *source, const char *notes, double peak_tf, double geff,
                        double aeff)
{
    char date[32];
    val_utc_now(date, sizeof date);
    fprintf(f, "{\n \"schema\": %d,\n", CAL_SCHEMA);
    put_field(f, "name", name);
    put_field(f, "device", r->device);
    put_field(f, "driver", r->driver);
    put_field(f, "date", date);
    put_field(f, "grid", gr->name);
    put_field(f, "source", source);
    put_field(f, "notes", notes);
    fprintf(f, " \"peak_tflops\": %.6g,\n", peak_tf);
    if (geff > 0) fprintf(f, " \"gemm_efficiency\": %.4f,\n", geff);
    if (aeff > 0) fprintf(f, " \"attention_efficiency\": %.4f,\n", aeff);
    fprintf(f, " \"memory_efficiency\": 0.8,\n \"attention\": [");
    int first = 1;
    for (size_t i = 0; i < gr->nattn; i++) {
        const val_attn *a = &gr->attn[i];
        if (r->attn_us[i] <= 0) continue;
        fprintf(f,
                "%s\n  {\"dir\": \"%s\", \"causal\": %s, \"head_dim\": %d, \"heads_q\": %d, "
                "\"heads_kv\": %d, \"q_tokens\": %ld, \"k_tokens\": %ld, \"batch\": %ld, "
                "\"time_us\": %.3f}",
                first ? "" : ",", a->bwd ? "bwd" : "fwd", a->causal ? "true" : "false", a->head_dim,
                a->heads_q, a->heads_kv, a->len, a->len, a->batch, us_out(r->attn_us[i]));
        first = 0;
    }
    fprintf(f, "%s],\n \"gemm\": [", first ? "" : "\n ");
    first = 1;
    for (size_t i = 0; i < gr->ngemm; i++) {
        const val_gemm *g = &gr->gemm[i];
        if (r->gemm_us[i] <= 0) continue;
        fprintf(f, "%s\n  {\"m\": %ld, \"n\": %ld, \"k\": %ld, \"time_us\": %.3f}",
                first ? "" : ",", g->m, g->n, g->k, us_out(r->gemm_us[i]));
        first = 0;
    }
    fprintf(f, "%s]\n}\n", first ? "" : "\n ");
}

/* Peak, efficiencies and notes from the measured points; writes the table
 * to o->out atomically after parsing it back with cal_parse. */
static sft_status finish(kern_backend b, const val_grid *gr, const opts *o, run *r, sft_err *e)
{
    /* throughputs for the peak and the efficiencies */
    size_t na = 0, ng = 0;
    double *af = sft_xmalloc((gr->nattn + 1) * sizeof *af),
           *at = sft_xmalloc((gr->nattn + 1) * sizeof *at);
    double *gf = sft_xmalloc((gr->ngemm + 1) * sizeof *gf),
           *gt = sft_xmalloc((gr->ngemm + 1) * sizeof *gt);
    double best_g = 0, best_a = 0;
    for (size_t i = 0; i < gr->nattn; i++)
        if (r->attn_us[i] > 0) {
            af[na] = val_attn_flops(&gr->attn[i]);
            at[na] = af[na] / (r->attn_us[i] * 1e-6);
            best_a = fmax(best_a, at[na++]);
        }
    for (size_t i = 0; i < gr->ngemm; i++)
        if (r->gemm_us[i] > 0) {
            gf[ng] = val_gemm_flops(&gr->gemm[i]);
            gt[ng] = gf[ng] / (r->gemm_us[i] * 1e-6);
            best_g = fmax(best_g, gt[ng++]);
        }
    char peak_how[256];
    double peak = 0;
    if (o->peak > 0) {
        peak = o->peak * 1e12;
        snprintf(peak_how, sizeof peak_how, "given with --peak-tflops");
    } else if (b == KERN_CUDA) {
        for (size_t i = 0; i < sizeof peaks / sizeof peaks[0] && peak == 0; i++)
            if (strstr(r->device, peaks[i].sub)) {
                peak = peaks[i].tflops * 1e12;
                snprintf(peak_how, sizeof peak_how,
                         "the datasheet's dense BF16 peak of a device named '%s'", peaks[i].sub);
            }
    }
    if (peak == 0) {
        peak = best_g > 0 ? best_g : best_a;
        snprintf(peak_how, sizeof peak_how, "the best %s throughput measured in this grid (%s)",
                 best_g > 0 ? "GEMM" : "attention",
                 b == KERN_CPU ? "a CPU has no datasheet BF16 peak"
                               : "device not in the harness's datasheet list");
    }
    double geff = efficiency(gf, gt, ng, peak), aeff = efficiency(af, at, na, peak);
    free(af);
    free(at);
    free(gf);
    free(gt);
    if (peak <= 0)
        return sft_errf(e, SFT_EINFEASIBLE, "measure: every point was skipped (%s)", r->skipped);

    double worst;
    char where[128] = "";
    int moved = monotone(gr, r->attn_us, &worst, where, sizeof where);
    char mono[384];
    if (moved)
        snprintf(mono, sizeof mono, "%d attention point%s raised, the largest by %.1f%% (%s)",
                 moved, moved > 1 ? "s" : "", 100 * worst, where);
    else
        snprintf(mono, sizeof mono, "no point needed raising");
    int warm = o->warmup ? o->warmup : gr->warmup, reps = o->reps ? o->reps : gr->reps;
    char *notes = sft_xmalloc(8192), source[512];
    snprintf(source, sizeof source,
             "sftsim-validate measure --backend %s --grid %s (sftsim %s): %s", kern_backend_name(b),
             gr->name, SFT_VERSION,
             b == KERN_CUDA ? "kernels/kern_cuda.cu (BF16 flash attention on tensor cores, "
                              "cuBLASLt BF16 GEMM with FP32 accumulation)"
                            : "kernels/kern_attn_cpu.c, kern_gemm_cpu.c (FP32 reference "
                              "kernels)");
    snprintf(notes, 8192,
             "Measured, not published (method: validate/README.md). Each point: one probe call, "
             "warm-up calls to %d in all, then the median of %d timed calls (%s); a probe over "
             "%.0f s gets 3 timed calls and no further warm-up, a point whose %d timed calls "
             "would span under %.0f ms gets more (up to %d). Attention points are `batch` whole "
             "sequences of q_tokens = k_tokens tokens packed in one varlen batch; a backward "
             "includes the rowsum(dO*O) pass and the accumulator resets. GEMM: row-major C = A B. "
             "peak_tflops: %s. gemm_efficiency and attention_efficiency (for shapes outside the "
             "table): the median fraction of peak over the larger half, by FLOPs, of this grid's "
             "points. memory_efficiency: not measured, 0.8 assumed. Numerics checked before "
             "timing: %s. Monotone rule (calibration tables require the time per sequence and "
             "head of a kernel not to decrease with length): noise is absorbed by a running max "
             "over each kernel's lengths; %s. Skipped: %d point%s%s%s%s.",
             warm, reps,
             b == KERN_CUDA ? "CUDA events around each call on one stream, inputs resident on "
                              "the device"
             : o->threads == 1
                 ? "one thread, timed by its CPU clock (CLOCK_THREAD_CPUTIME_ID) so that other "
                   "processes on the machine do not count"
                 : "all online CPUs, CLOCK_MONOTONIC around each call",
             VAL_LONG_S, reps, VAL_MIN_TIMED_S * 1e3, VAL_MAX_REPS, peak_how, r->numerics, mono,
             r->nskip, r->nskip == 1 ? "" : "s", r->nskip ? ": " : "", r->skipped,
             r->nskip > 4 ? "; ..." : "");
    const char *name = o->name;
    char base[128];
    if (!name) {
        const char *s = strrchr(o->out, '/');
        snprintf(base, sizeof base, "%s", s ? s + 1 : o->out);
        char *dot = strstr(base, ".json");
        if (dot && dot[5] == '\0') *dot = '\0';
        name = base;
    }
    sft_ofile *of = sft_ofile_open(o->out, e);
    if (!of) {
        free(notes);
        return e->status;
    }
    write_table(sft_ofile_fp(of), gr, r, name, source, notes, peak * 1e-12, geff, aeff);
    free(notes);
    fflush(sft_ofile_fp(of));
    /* parse the written file back: a table the cost model cannot read is a bug */
    char *text = NULL;
    size_t len;
    cal *c = NULL;
    sft_status st = sft_read_file(sft_ofile_tmpname(of), &text, &len, e);
    if (!st) st = cal_parse(text, o->out, &c, e);
    free(text);
    if (st) {
        sft_ofile_abort(of);
        e->status = SFT_EINTERNAL;
        return sft_err_prefix(e, "measure: the table written does not load");
    }
    int nattn, ngemm;
    cal_npoints(c, &nattn, &ngemm);
    cal_destroy(c);
    if ((st = sft_ofile_commit(of, e))) return st;
    fprintf(stderr,
            "wrote %s: table '%s', %d attention + %d GEMM points (%d skipped), peak %.4g TFLOP/s; "
            "monotone rule: %s\n",
            o->out, name, nattn, ngemm, r->nskip, peak * 1e-12, mono);
    return SFT_OK;
}

/* ---- device description ---------------------------------------------------------------- */

static void cpu_describe(run *r, int one)
{
    char model[160] = "unknown CPU", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && c) {
            snprintf(model, sizeof model, "%s", c + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f) fclose(f);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(r->device, sizeof r->device, "CPU: %s (%ld online CPUs)", model, ncpu);
    char threads[64];
    if (one)
        snprintf(threads, sizeof threads, "1 thread, its CPU clock");
    else
        snprintf(threads, sizeof threads, "%ld threads, wall clock", ncpu);
    snprintf(r->driver, sizeof r->driver,
             "sftsim CPU reference kernels (FP32, %s), compiler "
#if defined(__VERSION__)
             __VERSION__
#else
             "unknown"
#endif
             ,
             threads);
}

static void list_grid(const val_grid *g)
{
    double fl = 0;
    for (size_t i = 0; i < g->nattn; i++) fl += val_attn_flops(&g->attn[i]);
    for (size_t i = 0; i < g->ngemm; i++) fl += val_gemm_flops(&g->gemm[i]);
    printf("# grid %s: %zu attention + %zu gemm points, warm-up %d, median of %d, %.4g FLOPs "
           "per pass\n",
           g->name, g->nattn, g->ngemm, g->warmup, g->reps, fl);
    for (size_t i = 0; i < g->nattn; i++) {
        char l[128];
        val_attn_label(&g->attn[i], l, sizeof l);
        printf("attn %s flops=%.6g\n", l, val_attn_flops(&g->attn[i]));
    }
    for (size_t i = 0; i < g->ngemm; i++)
        printf("gemm m=%ld n=%ld k=%ld flops=%.6g\n", g->gemm[i].m, g->gemm[i].n, g->gemm[i].k,
               val_gemm_flops(&g->gemm[i]));
}

int val_measure(int argc, char **argv)
{
    static const struct option lo[] = {{"backend", required_argument, 0, 'b'},
                                       {"grid", required_argument, 0, 'g'},
                                       {"output", required_argument, 0, 'o'},
                                       {"name", required_argument, 0, 'n'},
                                       {"warmup", required_argument, 0, 'w'},
                                       {"reps", required_argument, 0, 'r'},
                                       {"max-mem-gib", required_argument, 0, 'm'},
                                       {"peak-tflops", required_argument, 0, 'p'},
                                       {"threads", required_argument, 0, 't'},
                                       {"list", no_argument, 0, 'l'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opts o = {KERN_CPU, NULL, NULL, NULL, 0, 0, 0, 1, 0, 0};
    const char *backend = NULL;
    long v;
    int ch;
    optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'b':
            backend = optarg;
            break;
        case 'g':
            o.grid = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'n':
            o.name = optarg;
            break;
        case 'w':
        case 'r':
            if (sft_parse_long(optarg, 1, 1000, &v) != 0)
                return val_usage_error("measure", "--%s %s: expected an integer from 1 to 1000",
                                       ch == 'w' ? "warmup" : "reps", optarg);
            *(ch == 'w' ? &o.warmup : &o.reps) = (int)v;
            break;
        case 'm':
        case 'p':
            if (sft_parse_double(optarg, ch == 'm' ? &o.max_mem : &o.peak) != 0 ||
                !((ch == 'm' ? o.max_mem : o.peak) > 0))
                return val_usage_error("measure", "--%s %s: expected a positive number",
                                       ch == 'm' ? "max-mem-gib" : "peak-tflops", optarg);
            break;
        case 't':
            if (strcmp(optarg, "1") == 0 || strcmp(optarg, "all") == 0)
                o.threads = optarg[0] == '1';
            else
                return val_usage_error("measure", "--threads %s: valid values are 1, all", optarg);
            break;
        case 'l':
            o.list = 1;
            break;
        case 'h':
            help();
            return 0;
        default:
            return val_usage_error("measure", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc) return val_usage_error("measure", "unexpected argument '%s'", argv[optind]);
    if (!backend) return val_usage_error("measure", "--backend cpu|cuda is required");
    if (strcmp(backend, "cpu") == 0)
        o.backend = KERN_CPU;
    else if (strcmp(backend, "cuda") == 0)
        o.backend = KERN_CUDA;
    else
        return val_usage_error("measure", "--backend %s: valid backends are cpu, cuda", backend);
    if (!o.grid) o.grid = o.backend == KERN_CUDA ? "default" : "small";
    if (!o.out && !o.list) return val_usage_error("measure", "-o FILE is required");
    if (o.name && (!o.name[0] || strlen(o.name) >= 64))
        return val_usage_error("measure", "--name '%s': 1 to 63 characters", o.name);

    sft_err e = {0};
    val_grid *gr = NULL;
    if (val_grid_create(o.grid, &gr, &e)) return val_report(&e);
    if (o.list) {
        list_grid(gr);
        val_grid_destroy(gr);
        return 0;
    }
    /* fail now, not after minutes of measuring, if the table cannot be written */
    sft_ofile *probe = sft_ofile_open(o.out, &e);
    if (!probe) {
        val_grid_destroy(gr);
        return val_report(&e);
    }
    sft_ofile_abort(probe);
    run r;
    memset(&r, 0, sizeof r);
    if (o.backend == KERN_CUDA) {
        char why[200];
        if (!kern_cuda_available(r.device, sizeof r.device, why, sizeof why)) {
            val_grid_destroy(gr);
            sft_errf(&e, SFT_EINFEASIBLE, "measure --backend cuda: %s", why);
            return val_report(&e);
        }
        snprintf(r.driver, sizeof r.driver, "CUDA %s", why);
    } else {
        cpu_describe(&r, o.threads == 1);
    }
    fprintf(stderr, "measure: %s on %s (%s), grid %s: %zu attention + %zu GEMM points\n",
            kern_backend_name(o.backend), r.device, r.driver, gr->name, gr->nattn, gr->ngemm);
    r.attn_us = sft_xcalloc(gr->nattn + 1, sizeof *r.attn_us);
    r.gemm_us = sft_xcalloc(gr->ngemm + 1, sizeof *r.gemm_us);
    double t0 = sft_wall();
    sft_status st = numerics(o.backend, &r, &e);
    if (!st) st = measure_all(o.backend, gr, &o, &r, &e);
    if (!st) st = finish(o.backend, gr, &o, &r, &e);
    if (!st) fprintf(stderr, "measure: %.1f s in all\n", sft_wall() - t0);
    free(r.attn_us);
    free(r.gemm_us);
    val_grid_destroy(gr);
    return st ? val_report(&e) : 0;
}
