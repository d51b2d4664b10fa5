/* pool.c — parallel scenario points in worker processes and MPI ranks
 * (pool.h).
 *
 * Invariants: a point's result is delivered exactly once, in point order;
 * a worker that crashes yields an "error" row for its point, never a hang;
 * children never call MPI; no worker outlives its parent: each asks the
 * kernel for SIGKILL when the parent dies (kill -9 included), and while
 * the pool runs, SIGINT, SIGTERM and SIGHUP kill the workers first and
 * then reach whatever handled them before (sft_cleanup_on_signals removes
 * the temporaries and ends the process).
 */
#include "lab/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "models/sched/sched.h"
#include "lab/report_out.h"

#ifdef SFT_HAVE_MPI
#include <mpi.h>
static int mpi_on;
#endif

void pool_mpi_init(int *argc, char ***argv)
{
#ifdef SFT_HAVE_MPI
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK")) {
        MPI_Init(argc, argv);
        mpi_on = 1;
    }
#else
    (void)argc;
    (void)argv;
#endif
}

void pool_mpi_finalize(void)
{
#ifdef SFT_HAVE_MPI
    if (mpi_on) MPI_Finalize();
    mpi_on = 0;
#endif
}

int pool_mpi_size(void)
{
#ifdef SFT_HAVE_MPI
    if (mpi_on) {
        int n;
        MPI_Comm_size(MPI_COMM_WORLD, &n);
        return n;
    }
#endif
    return 1;
}

int pool_mpi_rank(void)
{
#ifdef SFT_HAVE_MPI
    if (mpi_on) {
        int r;
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
        return r;
    }
#endif
    return 0;
}

sft_status pool_mpi_share(sft_status st, sft_err *e, void *buf, size_t n)
{
#ifdef SFT_HAVE_MPI
    if (mpi_on) {
        int v = (int)st;
        MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
        st = (sft_status)v;
        if (st)
            MPI_Bcast(e->msg, (int)sizeof e->msg, MPI_CHAR, 0, MPI_COMM_WORLD);
        else if (buf && n)
            MPI_Bcast(buf, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
        e->status = st;
    }
#else
    (void)e;
    (void)buf;
    (void)n;
#endif
    return st;
}

/* A row without figures: the policy, a status ("infeasible", "error") and
 * why. Creates the object. */
static cJSON *status_row(const char *policy, const char *status, const char *reason)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "policy", policy);
    cJSON_AddStringToObject(r, "status", status);
    cJSON_AddStringToObject(r, "reason", reason);
    return r;
}

static cJSON *status_rows(const char *const *policies, int np, const char *status,
                          const char *reason)
{
    cJSON *rows = cJSON_CreateArray();
    for (int i = 0; i < np; i++)
        cJSON_AddItemToArray(rows, status_row(policies[i], status, reason));
    return rows;
}

/* A sweep row's figures: these fields of the comparison row
 * (rep_compare_row), in the order sweep.json has them, followed by the
 * scenario's "bucket" and then the speedup. */
static const char *const row_figures[] = {"mean_step_time_s", "oom", "peak_mem_bytes_min",
                                          "peak_mem_bytes_max", "mfu"};
#define NROW_FIGURES ((int)(sizeof row_figures / sizeof row_figures[0]))

/* After the speedup: its error, the standard error of the mean step time
 * and the steps simulated (--steps auto chooses them). */
static const char *const row_errors[] = {"speedup_se", "mean_step_time_se_s", "steps"};
#define NROW_ERRORS ((int)(sizeof row_errors / sizeof row_errors[0]))

/* The row of a policy that ran: status and reason, then the figures of its
 * comparison row against the deepspeed run base (NULL: none), its
 * "step_causes"; with
 * per_step, "per_step":[{"time_s","peak_mem_bytes_min","peak_mem_bytes_max",
 * "oom"}]. Creates the object. */
static cJSON *ran_row(const char *policy, const rep_run *R, const rep_run *base, long bucket,
                      int per_step)
{
    cJSON *r = status_row(policy, R->oom ? "oom" : "ok",
                          R->oom ? "some GPU exceeds its usable memory" : "");
    cJSON *cmp = rep_compare_row(policy, R, base);
    for (int k = 0; k < NROW_FIGURES; k++)
        cJSON_AddItemToObject(r, row_figures[k], cJSON_DetachItemFromObject(cmp, row_figures[k]));
    cJSON_AddNumberToObject(r, "bucket", (double)bucket);
    cJSON_AddItemToObject(r, "speedup_vs_deepspeed",
                          cJSON_DetachItemFromObject(cmp, "speedup_vs_deepspeed"));
    for (int k = 0; k < NROW_ERRORS; k++)
        cJSON_AddItemToObject(r, row_errors[k], cJSON_DetachItemFromObject(cmp, row_errors[k]));
    /* what lets any two rows explain their difference (reports/explain.h) */
    cJSON_AddItemToObject(r, "step_causes", cJSON_DetachItemFromObject(cmp, "step_causes"));
    cJSON_Delete(cmp);
    if (per_step) {
        cJSON *a = cJSON_AddArrayToObject(r, "per_step");
        for (int k = 0; k < R->nsteps; k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "time_s", R->steps[k].time_s);
            cJSON_AddNumberToObject(o, "peak_mem_bytes_min", R->steps[k].peak_min);
            cJSON_AddNumberToObject(o, "peak_mem_bytes_max", R->steps[k].peak_max);
            cJSON_AddBoolToObject(o, "oom", R->steps[k].oom);
            cJSON_AddItemToArray(a, o);
        }
    }
    return r;
}

/* Writes the comparison's reports of a point into pt->out (every policy
 * ran, res[i] kept its program); on failure every row becomes an "error"
 * row naming it. */
static void point_reports(const scenario *s, const pool_point *pt, const char *const *policies,
                          int np, scen_result *const *res, cJSON *rows)
{
    sft_err e = {0};
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "scenario", scen_json(s));
    cJSON_AddItemReferenceToObject(doc, "policies", rows);
    if (rout_compare(pt->out, s, policies, np, res, doc, &e))
        for (cJSON *r = rows->child; r; r = r->next) {
            cJSON_ReplaceItemInObject(r, "status", cJSON_CreateString("error"));
            cJSON_ReplaceItemInObject(r, "reason", cJSON_CreateString(e.msg));
        }
    cJSON_Delete(doc);
}

cJSON *pool_point_rows(const scen_opts *base, const pool_point *pt, const char *const *policies,
                       int np)
{
    scen_opts o = *base;
    for (int i = 0; i < SO_NOPTS; i++)
        if (pt->v[i]) o.v[i] = pt->v[i];
    scenario s;
    sft_err e = {0};
    sft_status st = scen_resolve(&o, &s, &e);
    if (st) return status_rows(policies, np, st == SFT_EINTERNAL ? "error" : "infeasible", e.msg);
    /* every policy first, over the same steps (--steps auto: until all of
     * them converge): the speedups need deepspeed's run, wherever it
     * stands in the list */
    scen_result **res = sft_xcalloc((size_t)np + 1, sizeof *res);
    sft_err *errs = sft_xcalloc((size_t)np + 1, sizeof *errs);
    cJSON **failed = sft_xcalloc((size_t)np + 1, sizeof *failed);
    const rep_run *base_run = NULL;
    int all_ran = !scen_simulate_set(&s, policies, np, pt->out != NULL, 0, NULL, res, errs);
    for (int i = 0; i < np; i++) {
        if (!res[i]) {
            failed[i] = status_row(
                policies[i], errs[i].status == SFT_EINTERNAL ? "error" : "infeasible", errs[i].msg);
            cJSON_AddNullToObject(failed[i], "speedup_vs_deepspeed");
        } else if (strcmp(policies[i], scen_default.baseline) == 0) {
            base_run = res[i]->run;
        }
    }
    cJSON *rows = cJSON_CreateArray();
    for (int i = 0; i < np; i++)
        cJSON_AddItemToArray(
            rows, failed[i] ? failed[i]
                            : ran_row(policies[i], res[i]->run, base_run, s.bucket, pt->per_step));
    free(errs);
    if (pt->out && all_ran) point_reports(&s, pt, policies, np, res, rows);
    for (int i = 0; i < np; i++) scen_result_destroy(res[i]);
    free(res);
    free(failed);
    scen_release(&s);
    return rows;
}

/* The live workers' pids, for the signal handler (it may only read plain
 * variables): slot i is worker i's, 0 when none. */
#define POOL_MAX_WORKERS 1024
static volatile sig_atomic_t live[POOL_MAX_WORKERS];
static volatile sig_atomic_t nlive;

static const int caught[] = {SIGINT, SIGTERM, SIGHUP};
#define NCAUGHT ((int)(sizeof caught / sizeof caught[0]))
static struct sigaction before[NCAUGHT];
static int installed[NCAUGHT];

/* Kills every worker, puts back the handler the signal had before the pool
 * and raises it again: that one runs when this returns (the signal is
 * blocked until then). */
static void on_signal(int sig)
{
    int saved = errno;
    for (int i = 0; i < nlive; i++)
        if (live[i] > 0) kill((pid_t)live[i], SIGKILL);
    for (int k = 0; k < NCAUGHT; k++)
        if (caught[k] == sig) sigaction(sig, &before[k], NULL);
    raise(sig);
    errno = saved;
}

/* Catches the signals that are not ignored (a background job ignores
 * SIGINT, and so must its pool). */
static void catch_signals(int nworkers)
{
    for (int i = 0; i < POOL_MAX_WORKERS; i++) live[i] = 0;
    nlive = nworkers < POOL_MAX_WORKERS ? nworkers : POOL_MAX_WORKERS;
    for (int k = 0; k < NCAUGHT; k++) {
        installed[k] = 0;
        if (sigaction(caught[k], NULL, &before[k]) != 0 || before[k].sa_handler == SIG_IGN)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (int j = 0; j < NCAUGHT; j++) sigaddset(&sa.sa_mask, caught[j]);
        installed[k] = sigaction(caught[k], &sa, NULL) == 0;
    }
}

/* Puts back the handlers of before the pool (in the parent when it is
 * done, in a worker as soon as it starts: a worker is a plain sftsim
 * process). */
static void restore_signals(void)
{
    for (int k = 0; k < NCAUGHT; k++)
        if (installed[k]) {
            sigaction(caught[k], &before[k], NULL);
            installed[k] = 0;
        }
}

typedef struct worker {
    pid_t pid;
    int fd, point;
    char *buf;
    size_t len, cap;
} worker;

static int start(const pool_cfg *c, int point, int slot, worker *w)
{
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    /* the signals wait until the child has its own handlers and the parent
     * knows the child's pid */
    sigset_t block, old;
    sigemptyset(&block);
    for (int k = 0; k < NCAUGHT; k++) sigaddset(&block, caught[k]);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
#ifdef __linux__
        /* dies with the parent, however the parent dies; the parent may
         * have died before this line (then the kernel will not tell) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (getppid() != parent) _exit(1);
        restore_signals();
        for (int i = 0; i < nlive; i++) live[i] = 0;
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(fd[0]);
        cJSON *rows = pool_point_rows(c->base, &c->points[point], c->policies, c->np);
        char *s = cJSON_PrintUnformatted(rows);
        size_t n = strlen(s), off = 0;
        while (off < n) {
            ssize_t k = write(fd[1], s + off, n - off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) _exit(1);
            off += (size_t)k;
        }
        free(s);
        cJSON_Delete(rows);
        close(fd[1]);
        _exit(0);
    }
    close(fd[1]);
    fcntl(fd[0], F_SETFL, fcntl(fd[0], F_GETFL) | O_NONBLOCK);
    if (slot < POOL_MAX_WORKERS) live[slot] = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    w->pid = pid;
    w->fd = fd[0];
    w->point = point;
    w->len = 0;
    return 0;
}

/* Reads what a worker has written; returns 1 at end of file. */
static int drain(worker *w)
{
    for (;;) {
        if (w->len + 4096 + 1 > w->cap) {
            w->cap = w->cap ? 2 * w->cap : 65536;
            w->buf = sft_xrealloc(w->buf, w->cap);
        }
        ssize_t k = read(w->fd, w->buf + w->len, w->cap - w->len - 1);
        if (k > 0) {
            w->len += (size_t)k;
            continue;
        }
        if (k == 0) return 1;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
    }
}

/* The finished worker's rows (or an error row naming the crash). */
static cJSON *finish(const pool_cfg *c, int slot, worker *w)
{
    close(w->fd);
    if (slot < POOL_MAX_WORKERS) live[slot] = 0;
    int st = 0;
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR) continue;
    w->buf[w->len] = '\0';
    cJSON *rows = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? cJSON_Parse(w->buf) : NULL;
    if (!cJSON_IsArray(rows)) {
        cJSON_Delete(rows);
        char why[128];
        if (WIFSIGNALED(st))
            snprintf(why, sizeof why, "worker killed by signal %d", WTERMSIG(st));
        else
            snprintf(why, sizeof why, "worker exited with code %d", WEXITSTATUS(st));
        rows = status_rows(c->policies, c->np, "error", why);
    }
    w->pid = 0;
    return rows;
}

static void progress(const pool_cfg *c, int done, int total, int failed, double t0)
{
    if (!c->progress) return;
    double el = sft_wall() - t0, eta = done ? el / done * (total - done) : 0;
    fprintf(stderr, "sftsim: %d/%d points done, %d with errors, %.0f s elapsed, ETA %.0f s\n", done,
            total, failed, el, eta);
}

static int row_failed(const cJSON *rows)
{
    for (const cJSON *r = rows->child; r; r = r->next) {
        const cJSON *s = cJSON_GetObjectItem(r, "status");
        if (cJSON_IsString(s) && strcmp(s->valuestring, "error") == 0) return 1;
    }
    return 0;
}

/* A pool at work: the workers, which points are started, finished and
 * delivered, and the counts its progress line shows. */
typedef struct pool_state {
    const pool_cfg *c;
    int size, rank, is_root;
    int W; /* worker slots */
    worker *w;
    struct pollfd *pf;
    int *idx;    /* pf[i] watches w[idx[i]] */
    cJSON **res; /* finished points not yet delivered (root) */
    int mine, total, done, failed, next, delivered, running, mine_done;
    double t0;
} pool_state;

/* Starts workers on this rank's next points until every slot is busy. */
static sft_status start_workers(pool_state *P, sft_err *e)
{
    const pool_cfg *c = P->c;
    while (P->running < P->W && P->next < c->n) {
        int p = P->next++;
        if ((c->skip && c->skip[p]) || p % P->size != P->rank) continue;
        int slot = 0;
        while (P->w[slot].pid) slot++;
        if (start(c, p, slot, &P->w[slot]) != 0)
            return sft_errf(e, SFT_EINTERNAL, "cannot start a worker: %s", strerror(errno));
        P->running++;
    }
    return SFT_OK;
}

/* Hands done() the finished points that come next in point order (root). */
static sft_status deliver(pool_state *P, sft_err *e)
{
    const pool_cfg *c = P->c;
    sft_status st = SFT_OK;
    while (P->delivered < c->n && ((c->skip && c->skip[P->delivered]) || P->res[P->delivered])) {
        if (!(c->skip && c->skip[P->delivered])) {
            st = c->done(c->ctx, P->delivered, P->res[P->delivered], e);
            cJSON_Delete(P->res[P->delivered]);
            P->res[P->delivered] = NULL;
        }
        P->delivered++;
        if (st) break;
    }
    return st;
}

/* A point's rows have arrived (from a worker or a rank). */
static void arrived(pool_state *P, int p, cJSON *rows)
{
    P->failed += row_failed(rows);
    P->res[p] = rows;
    progress(P->c, ++P->done, P->total, P->failed, P->t0);
}

#ifdef SFT_HAVE_MPI
/* Root: takes the rows the other ranks have sent so far (the tag is the
 * point). */
static void receive_ranks(pool_state *P)
{
    int flag = 1;
    while (flag) {
        MPI_Status ms;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ms);
        if (!flag) break;
        int len;
        MPI_Get_count(&ms, MPI_CHAR, &len);
        char *buf = sft_xmalloc((size_t)len + 1);
        MPI_Recv(buf, len, MPI_CHAR, ms.MPI_SOURCE, ms.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        buf[len] = '\0';
        cJSON *rows = cJSON_Parse(buf);
        free(buf);
        if (!cJSON_IsArray(rows)) {
            cJSON_Delete(rows);
            rows = status_rows(P->c->policies, P->c->np, "error", "bad message from a rank");
        }
        arrived(P, ms.MPI_TAG, rows);
    }
}
#endif

/* Waits (poll) on the np workers in pf and collects those that finished:
 * kept for delivery on the root, sent to it from the other ranks. */
static sft_status collect(pool_state *P, int np, sft_err *e)
{
    int k = poll(P->pf, (nfds_t)np, P->size > 1 ? 20 : 1000);
    if (k < 0 && errno != EINTR) return sft_errf(e, SFT_EINTERNAL, "poll: %s", strerror(errno));
    for (int i = 0; i < np; i++) {
        if (!(P->pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        worker *x = &P->w[P->idx[i]];
        if (!drain(x)) continue;
        int p = x->point;
        cJSON *rows = finish(P->c, P->idx[i], x);
        P->running--;
        P->mine_done++;
#ifdef SFT_HAVE_MPI
        if (mpi_on && !P->is_root) {
            P->failed += row_failed(rows);
            char *s = cJSON_PrintUnformatted(rows);
            MPI_Send(s, (int)strlen(s), MPI_CHAR, 0, p, MPI_COMM_WORLD);
            free(s);
            cJSON_Delete(rows);
            continue;
        }
#endif
        arrived(P, p, rows);
    }
    return SFT_OK;
}

/* Kills the workers still running (after a failure) and frees the pool. */
static void stop(pool_state *P)
{
    for (int i = 0; i < P->W; i++)
        if (P->w[i].pid) {
            kill(P->w[i].pid, SIGKILL);
            close(P->w[i].fd);
            live[i] = 0;
            waitpid(P->w[i].pid, NULL, 0);
        }
    restore_signals();
    for (int i = 0; i < P->W; i++) free(P->w[i].buf);
    for (int i = 0; i < P->c->n; i++) cJSON_Delete(P->res[i]);
    free(P->res);
    free(P->w);
    free(P->pf);
    free(P->idx);
}

sft_status pool_run(const pool_cfg *c, int *is_root, sft_err *e)
{
    pool_state P = {0};
    P.c = c;
    P.size = pool_mpi_size();
    P.rank = pool_mpi_rank();
    P.is_root = *is_root = P.rank == 0;
    P.W = c->workers > 0 ? c->workers : 1;
    if (P.W > POOL_MAX_WORKERS) P.W = POOL_MAX_WORKERS;
    P.w = sft_xcalloc((size_t)P.W, sizeof *P.w);
    P.pf = sft_xcalloc((size_t)P.W, sizeof *P.pf);
    P.idx = sft_xcalloc((size_t)P.W, sizeof *P.idx);
    P.res = sft_xcalloc((size_t)c->n + 1, sizeof *P.res);
    for (int i = 0; i < c->n; i++) {
        if (c->skip && c->skip[i]) continue;
        P.total++;
        if (i % P.size == P.rank) P.mine++;
    }
    P.t0 = sft_wall();
    if (c->progress && P.is_root && P.size > 1)
        fprintf(stderr, "sftsim: %d points over %d MPI ranks\n", P.total, P.size);
    sft_status st = SFT_OK;
    catch_signals(P.W);
    for (;;) {
        if ((st = start_workers(&P, e))) break;
        if (P.is_root) {
            if ((st = deliver(&P, e)) || P.delivered == c->n) break;
        } else if (P.mine_done == P.mine) {
            break;
        }
        int np = 0;
        for (int i = 0; i < P.W; i++)
            if (P.w[i].pid) {
                P.pf[np].fd = P.w[i].fd;
                P.pf[np].events = POLLIN;
                P.idx[np++] = i;
            }
#ifdef SFT_HAVE_MPI
        if (mpi_on && P.is_root) receive_ranks(&P);
#endif
        if (np == 0) {
            if (P.is_root && P.size > 1) usleep(2000); /* waiting for other ranks only */
            continue;
        }
        if ((st = collect(&P, np, e))) break;
    }
    stop(&P);
    return st;
}
