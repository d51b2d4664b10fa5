/* optimal.c — the joint scheduling problem as a MILP, solved with GLPK.
 *
 * For K sequences, DP ranks r, micro-batch slots m (per rank, at most
 * M = min(K, ceil(total / (R C N)) + 2)) and CP ranks j:
 *   x[k,r,m,j] = 1: sequence k local on CP rank j of micro-batch (r, m)
 *   d[k,r,m]   = 1: sequence k distributed in micro-batch (r, m)
 *   u[r,m]     = 1: micro-batch (r, m) used;  w[r,m] = 1: it has distributed work
 * every sequence placed once; memory per GPU <= C; and the micro-batch time
 * of estimate.h per CP rank, with its max() terms as auxiliary variables and
 * the CP communication made affine in the distributed volume (fitted to the
 * closed form between 1 token and C N tokens):
 *   t[r,m] >= L (lin T_j + dist + p1_j + p2_j + p3_j) + (fixed + host) u
 *   p1_j >= comm_f(V), p1_j >= local attention fwd on j, p2_j >= comm_b(V),
 *   p2_j >= L-post backward on j, p3_j >= comm_rs(V), p3_j >= local attn bwd
 *   t[r,m] >= L fwd_j + grad_rs u (ZeRO-2: the reduce-scatter under backward)
 *   T >= sum_m t[r,m] for every r;  minimise T.
 * Solved to optimality or to the time limit; the plan is the best found (the
 * skrull plan is given to the solver as a starting incumbent). This is the
 * optimum of the linearised model; estimates of all policies use the exact
 * closed form, so the gap reported by tests can be slightly negative.
 */
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/sched/sched.h"

#define OPT_MAX_SEQ  40
#define OPT_MAX_COLS 40000

typedef struct milp {
    glp_prob *P;
    int *ia, *ja;
    double *ar;
    int nz, cap;
    int K, R, M, N;
    int x0, d0, u0, w0, t0, p0, T; /* first column of each family (1-based) */
    const double *start;           /* incumbent column values (1-based) or NULL */
} milp;

static int X(const milp *q, int k, int r, int m, int j)
{
    return q->x0 + ((k * q->R + r) * q->M + m) * q->N + j;
}
static int D(const milp *q, int k, int r, int m)
{
    return q->d0 + (k * q->R + r) * q->M + m;
}
static int U(const milp *q, int r, int m)
{
    return q->u0 + r * q->M + m;
}
static int W(const milp *q, int r, int m)
{
    return q->w0 + r * q->M + m;
}
static int Tm(const milp *q, int r, int m)
{
    return q->t0 + r * q->M + m;
}
static int Pv(const milp *q, int r, int m, int j, int i)
{
    return q->p0 + ((r * q->M + m) * q->N + j) * 3 + i;
}

static void nz(milp *q, int row, int col, double v)
{
    if (v == 0) return;
    if (q->nz + 1 >= q->cap) {
        q->cap = q->cap ? 2 * q->cap : 4096;
        q->ia = sft_xrealloc(q->ia, (size_t)q->cap * sizeof *q->ia);
        q->ja = sft_xrealloc(q->ja, (size_t)q->cap * sizeof *q->ja);
        q->ar = sft_xrealloc(q->ar, (size_t)q->cap * sizeof *q->ar);
    }
    q->nz++;
    q->ia[q->nz] = row;
    q->ja[q->nz] = col;
    q->ar[q->nz] = v;
}

static int row(milp *q, int type, double lo, double hi)
{
    int r = glp_add_rows(q->P, 1);
    glp_set_row_bnds(q->P, r, type, lo, hi);
    return r;
}

static void heuristic(glp_tree *tree, void *info)
{
    milp *q = info;
    if (glp_ios_reason(tree) == GLP_IHEUR && q->start && glp_ios_curr_node(tree) == 1) {
        glp_ios_heur_sol(tree, q->start);
        q->start = NULL;
    }
}

/* Affine fit a + b V of a communication time between V = 1 and V = vmax. */
static void fit(double t1, double t2, double vmax, double *a, double *b)
{
    *b = vmax > 1 ? (t2 - t1) / (vmax - 1) : 0;
    *a = t1 - *b;
    if (*a < 0) *a = 0;
}

/* The linear model's coefficients: the estimate's terms (estimate.h), the
 * CP communication fitted affine in V (distributed tokens) between one
 * token and a full micro-batch, and every sequence's attention per layer. */
typedef struct coeffs {
    double L, fixed, grad_rs, lin_f, lin_bp, lin_bq;
    double cf_a, cf_b, cbp_a, cbp_b, cbq_a, cbq_b;
    double *af, *ab, *df, *db; /* per sequence: local fwd, bwd; distributed fwd, bwd */
} coeffs;

static void coeffs_init(coeffs *c, est *es, const trace_sample *s, int K, double vmax)
{
    est_terms et;
    est_get_terms(es, &et);
    c->L = et.layers;
    c->fixed = et.fixed;
    c->grad_rs = et.grad_rs;
    c->lin_f = et.lin_fwd;
    c->lin_bp = et.lin_bwd_post;
    c->lin_bq = et.lin_bwd_pre;
    double f1, p1, q1, f2, p2, q2;
    c->cf_a = c->cf_b = c->cbp_a = c->cbp_b = c->cbq_a = c->cbq_b = 0;
    est_comm(es, 1, &f1, &p1, &q1);
    est_comm(es, vmax, &f2, &p2, &q2);
    fit(f1, f2, vmax, &c->cf_a, &c->cf_b);
    fit(p1, p2, vmax, &c->cbp_a, &c->cbp_b);
    fit(q1, q2, vmax, &c->cbq_a, &c->cbq_b);
    c->af = sft_xmalloc((size_t)K * sizeof *c->af);
    c->ab = sft_xmalloc((size_t)K * sizeof *c->ab);
    c->df = sft_xmalloc((size_t)K * sizeof *c->df);
    c->db = sft_xmalloc((size_t)K * sizeof *c->db);
    for (int k = 0; k < K; k++) {
        double v[4];
        est_attn(es, (double)s[k].len, v);
        c->af[k] = v[0];
        c->ab[k] = v[1];
        c->df[k] = v[2];
        c->db[k] = v[3];
    }
}

static void coeffs_free(coeffs *c)
{
    free(c->af);
    free(c->ab);
    free(c->df);
    free(c->db);
}

/* The columns: binaries x, d, u, w; continuous t, p and the makespan T. */
static void add_columns(milp *q)
{
    int K = q->K, R = q->R, M = q->M, N = q->N;
    q->P = glp_create_prob();
    glp_set_obj_dir(q->P, GLP_MIN);
    int nx = K * R * M * N, nd = K * R * M, nu = R * M;
    q->x0 = 1;
    q->d0 = q->x0 + nx;
    q->u0 = q->d0 + nd;
    q->w0 = q->u0 + nu;
    q->t0 = q->w0 + nu;
    q->p0 = q->t0 + nu;
    q->T = q->p0 + nu * N * 3;
    glp_add_cols(q->P, q->T);
    for (int c = 1; c < q->t0; c++) glp_set_col_kind(q->P, c, GLP_BV);
    for (int c = q->t0; c <= q->T; c++) glp_set_col_bnds(q->P, c, GLP_LO, 0, 0);
    glp_set_obj_coef(q->P, q->T, 1.0);
}

/* CP rank j of micro-batch (r, m): its memory and its time rows. */
static void add_rank_rows(milp *q, const coeffs *c, const trace_sample *s, double C, int r, int m,
                          int j)
{
    int K = q->K, N = q->N;
    double L = c->L;
    int rm = row(q, GLP_UP, 0, C);
    for (int k = 0; k < K; k++) {
        nz(q, rm, X(q, k, r, m, j), (double)s[k].len);
        nz(q, rm, D(q, k, r, m), (double)s[k].len / N);
    }
    /* p1 >= comm_f(V), p1 >= local attention forward */
    int r1 = row(q, GLP_LO, 0, 0), r1b = row(q, GLP_LO, 0, 0);
    int r2 = row(q, GLP_LO, 0, 0), r2b = row(q, GLP_LO, 0, 0);
    int r3 = row(q, GLP_LO, 0, 0), r3b = row(q, GLP_LO, 0, 0);
    nz(q, r1, Pv(q, r, m, j, 0), 1);
    nz(q, r1, W(q, r, m), -c->cf_a);
    nz(q, r1b, Pv(q, r, m, j, 0), 1);
    nz(q, r2, Pv(q, r, m, j, 1), 1);
    nz(q, r2, W(q, r, m), -c->cbp_a);
    nz(q, r2b, Pv(q, r, m, j, 1), 1);
    nz(q, r3, Pv(q, r, m, j, 2), 1);
    nz(q, r3, W(q, r, m), -c->cbq_a);
    nz(q, r3b, Pv(q, r, m, j, 2), 1);
    /* t >= L (lin T_j + dist + p1 + p2 + p3) + fixed u */
    int rt = row(q, GLP_LO, 0, 0), rf = row(q, GLP_LO, 0, 0);
    nz(q, rt, Tm(q, r, m), 1);
    nz(q, rt, U(q, r, m), -c->fixed);
    nz(q, rf, Tm(q, r, m), 1);
    nz(q, rf, U(q, r, m), -(c->fixed + c->grad_rs));
    for (int i = 0; i < 3; i++) nz(q, rt, Pv(q, r, m, j, i), -L);
    nz(q, rf, Pv(q, r, m, j, 0), -L);
    double lin_f = c->lin_f, lin_bp = c->lin_bp, lin_bq = c->lin_bq;
    for (int k = 0; k < K; k++) {
        double len = (double)s[k].len;
        int xk = X(q, k, r, m, j), dk = D(q, k, r, m);
        nz(q, r1, dk, -c->cf_b * len);
        nz(q, r1b, xk, -c->af[k]);
        nz(q, r2, dk, -c->cbp_b * len);
        nz(q, r2b, xk, -lin_bp * len);
        nz(q, r2b, dk, -lin_bp * len / N);
        nz(q, r3, dk, -c->cbq_b * len);
        nz(q, r3b, xk, -c->ab[k]);
        nz(q, rt, xk, -L * (lin_f + lin_bq) * len);
        nz(q, rt, dk, -L * ((lin_f + lin_bq) * len / N + c->df[k] + c->db[k]));
        nz(q, rf, xk, -L * lin_f * len);
        nz(q, rf, dk, -L * (lin_f * len / N + c->df[k]));
    }
}

/* Every row: each sequence placed once; per DP rank the makespan, slots
 * used in order, u and w set by what a slot holds; per CP rank its own. */
static void add_rows(milp *q, const coeffs *c, const trace_sample *s, double C)
{
    int K = q->K, R = q->R, M = q->M, N = q->N;
    for (int k = 0; k < K; k++) { /* placed exactly once */
        int rw = row(q, GLP_FX, 1, 1);
        for (int r = 0; r < R; r++)
            for (int m = 0; m < M; m++) {
                nz(q, rw, D(q, k, r, m), 1);
                for (int j = 0; j < N; j++) nz(q, rw, X(q, k, r, m, j), 1);
            }
    }
    for (int r = 0; r < R; r++) {
        int rT = row(q, GLP_LO, 0, 0); /* T - sum_m t >= 0 */
        nz(q, rT, q->T, 1);
        for (int m = 0; m < M; m++) {
            nz(q, rT, Tm(q, r, m), -1);
            if (m + 1 < M) { /* used slots first */
                int rs = row(q, GLP_LO, 0, 0);
                nz(q, rs, U(q, r, m), 1);
                nz(q, rs, U(q, r, m + 1), -1);
            }
            for (int k = 0; k < K; k++) {
                int ru = row(q, GLP_LO, 0, 0); /* u >= d + sum_j x */
                nz(q, ru, U(q, r, m), 1);
                nz(q, ru, D(q, k, r, m), -1);
                for (int j = 0; j < N; j++) nz(q, ru, X(q, k, r, m, j), -1);
                int rw = row(q, GLP_LO, 0, 0); /* w >= d */
                nz(q, rw, W(q, r, m), 1);
                nz(q, rw, D(q, k, r, m), -1);
            }
            for (int j = 0; j < N; j++) add_rank_rows(q, c, s, C, r, m, j);
        }
    }
    glp_load_matrix(q->P, q->nz, q->ia, q->ja, q->ar);
}

/* The column values of plan h (skrull's) as a starting incumbent: creates
 * them (1-based), or NULL when h needs more slots than the model has. */
static double *incumbent(const milp *q, const plan *h, const trace_sample *s)
{
    if (plan_max_mbs(h) > q->M) return NULL;
    double *start = sft_xcalloc((size_t)q->T + 1, sizeof *start);
    for (int r = 0; r < q->R; r++)
        for (int m = 0; m < h->rank[r].nmb; m++) {
            const plan_mb *mb = &h->rank[r].mb[m];
            start[U(q, r, m)] = 1;
            for (int i = 0; i < mb->n; i++) {
                int k = 0;
                while (k < q->K && s[k].id != mb->seq[i].id) k++;
                if (mb->seq[i].cp == PLAN_DIST) {
                    start[D(q, k, r, m)] = 1;
                    start[W(q, r, m)] = 1;
                } else {
                    start[X(q, k, r, m, mb->seq[i].cp)] = 1;
                }
            }
        }
    /* continuous parts: the row constraints determine them; a loose but
     * feasible choice is their largest value */
    for (int c = q->t0; c <= q->T; c++) start[c] = 1e9;
    return start;
}

/* The solver's placement into out. */
static void read_plan(const milp *q, const trace_sample *s, plan *out)
{
    for (int r = 0; r < q->R; r++)
        for (int m = 0; m < q->M; m++) {
            if (glp_mip_col_val(q->P, U(q, r, m)) < 0.5) continue;
            plan_mb *mb = NULL;
            for (int k = 0; k < q->K; k++) {
                int where = -2;
                if (glp_mip_col_val(q->P, D(q, k, r, m)) > 0.5) where = PLAN_DIST;
                for (int j = 0; j < q->N; j++)
                    if (glp_mip_col_val(q->P, X(q, k, r, m, j)) > 0.5) where = j;
                if (where == -2) continue;
                if (!mb) mb = plan_add_mb(out, r);
                plan_mb_add(mb, s[k].id, s[k].len, where);
            }
        }
}

/* A copy of plan h's placement into out. */
static void copy_plan(const plan *h, plan *out)
{
    for (int r = 0; r < h->dp; r++)
        for (int m = 0; m < h->rank[r].nmb; m++) {
            plan_mb *mb = plan_add_mb(out, r);
            for (int i = 0; i < h->rank[r].mb[m].n; i++)
                plan_mb_add(mb, h->rank[r].mb[m].seq[i].id, h->rank[r].mb[m].seq[i].len,
                            h->rank[r].mb[m].seq[i].cp);
        }
}

sft_status sched_optimal(const sched_in *in, const trace_sample *s, size_t n, plan *out, sft_err *e)
{
    if (n > OPT_MAX_SEQ)
        return sft_errf(e, SFT_EINPUT,
                        "policy optimal solves batches of up to %d sequences exactly (this step "
                        "has %zu): lower --batch or --dp",
                        OPT_MAX_SEQ, n);
    int K = (int)n, R = in->dp, N = in->cp;
    double C = (double)in->bucket, total = 0;
    for (int k = 0; k < K; k++) total += (double)s[k].len;
    int M = (int)ceil(total / (R * C * N)) + 2;
    if (M > K) M = K;
    if (M < 1) M = 1;
    long cols = (long)K * R * M * (N + 1) + (long)R * M * (3 + 3 * N) + 1;
    if (cols > OPT_MAX_COLS)
        return sft_errf(e, SFT_EINPUT,
                        "policy optimal: %ld variables for %d sequences x %d DP x %d micro-batches "
                        "x %d CP ranks is too large; use a smaller batch",
                        cols, K, R, M, N);
    coeffs c;
    coeffs_init(&c, in->est, s, K, C * N);
    milp q = {0};
    q.K = K;
    q.R = R;
    q.M = M;
    q.N = N;
    add_columns(&q);
    add_rows(&q, &c, s, C);

    /* the skrull plan as the starting incumbent, when it fits the slots */
    plan *h = plan_create(R, N, in->bucket);
    double *start = sched_skrull(in, s, n, h, e) == SFT_OK ? incumbent(&q, h, s) : NULL;
    q.start = start;
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
    parm.msg_lev = GLP_MSG_OFF;
    parm.tm_lim = (int)(in->time_limit_s > 0 ? in->time_limit_s * 1000 : 10000);
    parm.cb_func = heuristic;
    parm.cb_info = &q;
    int rc = glp_intopt(q.P, &parm);
    int status = glp_mip_status(q.P);
    sft_status st = SFT_OK;
    if ((rc == 0 || rc == GLP_ETMLIM) && (status == GLP_OPT || status == GLP_FEAS)) {
        read_plan(&q, s, out);
        snprintf(out->note, sizeof out->note, "%s (linearised objective %.4g s)",
                 status == GLP_OPT ? "proven optimal" : "time limit: best plan found, not proven",
                 glp_mip_obj_val(q.P));
    } else if (start) {
        /* no solution within the time limit: the heuristic's plan */
        copy_plan(h, out);
        snprintf(out->note, sizeof out->note, "solver found no plan in %.0f s: skrull's plan",
                 parm.tm_lim / 1000.0);
    } else {
        st = sft_errf(e, SFT_EINFEASIBLE, "policy optimal: no feasible plan found (GLPK status %d)",
                      status);
    }
    plan_destroy(h);
    free(start);
    glp_delete_prob(q.P);
    free(q.ia);
    free(q.ja);
    free(q.ar);
    coeffs_free(&c);
    return st;
}
