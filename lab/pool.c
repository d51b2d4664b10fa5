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

static cJSON *status_rows(const char *const *policies, int np, const char *status,
                          const char *reason)
{
    cJSON *rows = cJSON_CreateArray();
    for (int i = 0; i < np; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "policy", policies[i]);
        cJSON_AddStringToObject(r, "status", status);
        cJSON_AddStringToObject(r, "reason", reason);
        cJSON_AddItemToArray(rows, r);
    }
    return rows;
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
    cJSON *rows = cJSON_CreateArray();
    double base_t = 0;
    scen_result *kept[16] = {0};
    for (int i = 0; i < np; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "policy", policies[i]);
        scen_result *res = NULL;
        const sched_policy *pol = NULL;
        st = scen_policy(&s, policies[i], &pol, &e);
        if (!st) st = scen_simulate(&s, pol, pt->out != NULL, &res, &e);
        if (st) {
            cJSON_AddStringToObject(r, "status", st == SFT_EINTERNAL ? "error" : "infeasible");
            cJSON_AddStringToObject(r, "reason", e.msg);
            cJSON_AddItemToArray(rows, r);
            continue;
        }
        const rep_run *R = res->run;
        double mn = 1e300, mx = 0;
        for (int g = 0; g < R->ngpus; g++) {
            if (R->gpus[g].peak_mem < mn) mn = R->gpus[g].peak_mem;
            if (R->gpus[g].peak_mem > mx) mx = R->gpus[g].peak_mem;
        }
        cJSON_AddStringToObject(r, "status", R->oom ? "oom" : "ok");
        cJSON_AddStringToObject(r, "reason", R->oom ? "some GPU exceeds its usable memory" : "");
        cJSON_AddNumberToObject(r, "mean_step_time_s", R->mean_step_s);
        cJSON_AddBoolToObject(r, "oom", R->oom);
        cJSON_AddNumberToObject(r, "peak_mem_bytes_min", mn);
        cJSON_AddNumberToObject(r, "peak_mem_bytes_max", mx);
        cJSON_AddNumberToObject(r, "mfu", R->mfu);
        cJSON_AddNumberToObject(r, "bucket", (double)s.bucket);
        if (strcmp(policies[i], scen_default.baseline) == 0) base_t = R->mean_step_s;
        if (pt->out && i < 16)
            kept[i] = res;
        else
            scen_result_destroy(res);
        cJSON_AddItemToArray(rows, r);
    }
    for (cJSON *r = rows->child; r; r = r->next) {
        const cJSON *t = cJSON_GetObjectItem(r, "mean_step_time_s");
        if (base_t > 0 && cJSON_IsNumber(t))
            cJSON_AddNumberToObject(r, "speedup_vs_deepspeed", base_t / t->valuedouble);
        else
            cJSON_AddNullToObject(r, "speedup_vs_deepspeed");
    }
    if (pt->out) {
        int ok = 1;
        for (int i = 0; i < np && i < 16; i++) ok &= kept[i] != NULL;
        if (ok) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddItemToObject(doc, "scenario", scen_json(&s));
            cJSON_AddItemReferenceToObject(doc, "policies", rows);
            if (rout_compare(pt->out, &s, policies, np, kept, doc, &e))
                for (cJSON *r = rows->child; r; r = r->next) {
                    cJSON_ReplaceItemInObject(r, "status", cJSON_CreateString("error"));
                    cJSON_ReplaceItemInObject(r, "reason", cJSON_CreateString(e.msg));
                }
            cJSON_Delete(doc);
        }
        for (int i = 0; i < np && i < 16; i++) scen_result_destroy(kept[i]);
    }
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

sft_status pool_run(const pool_cfg *c, int *is_root, sft_err *e)
{
    int size = pool_mpi_size(), rank = pool_mpi_rank();
    *is_root = rank == 0;
    int W = c->workers > 0 ? c->workers : 1;
    if (W > POOL_MAX_WORKERS) W = POOL_MAX_WORKERS;
    worker *w = sft_xcalloc((size_t)W, sizeof *w);
    struct pollfd *pf = sft_xcalloc((size_t)W, sizeof *pf);
    int *idx = sft_xcalloc((size_t)W, sizeof *idx);
    cJSON **res = sft_xcalloc((size_t)c->n + 1, sizeof *res);
    int mine = 0, total = 0, done = 0, failed = 0, next = 0, delivered = 0, running = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->skip && c->skip[i]) continue;
        total++;
        if (i % size == rank) mine++;
    }
    int mine_done = 0;
    double t0 = sft_wall();
    if (c->progress && *is_root && size > 1)
        fprintf(stderr, "sftsim: %d points over %d MPI ranks\n", total, size);
    sft_status st = SFT_OK;
    catch_signals(W);
    for (;;) {
        while (running < W && next < c->n) {
            int p = next++;
            if ((c->skip && c->skip[p]) || p % size != rank) continue;
            int slot = 0;
            while (w[slot].pid) slot++;
            if (start(c, p, slot, &w[slot]) != 0) {
                st = sft_errf(e, SFT_EINTERNAL, "cannot start a worker: %s", strerror(errno));
                break;
            }
            running++;
        }
        if (st) break;
        /* deliver in order what is complete (root only) */
        if (*is_root) {
            while (delivered < c->n && ((c->skip && c->skip[delivered]) || res[delivered])) {
                if (!(c->skip && c->skip[delivered])) {
                    st = c->done(c->ctx, delivered, res[delivered], e);
                    cJSON_Delete(res[delivered]);
                    res[delivered] = NULL;
                }
                delivered++;
                if (st) break;
            }
            if (st || delivered == c->n) break;
        } else if (mine_done == mine) {
            break;
        }
        int np = 0;
        for (int i = 0; i < W; i++)
            if (w[i].pid) {
                pf[np].fd = w[i].fd;
                pf[np].events = POLLIN;
                idx[np++] = i;
            }
#ifdef SFT_HAVE_MPI
        if (mpi_on && *is_root) {
            int flag = 1;
            while (flag) {
                MPI_Status ms;
                MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ms);
                if (!flag) break;
                int len;
                MPI_Get_count(&ms, MPI_CHAR, &len);
                char *buf = sft_xmalloc((size_t)len + 1);
                MPI_Recv(buf, len, MPI_CHAR, ms.MPI_SOURCE, ms.MPI_TAG, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
                buf[len] = '\0';
                cJSON *rows = cJSON_Parse(buf);
                free(buf);
                if (!cJSON_IsArray(rows)) {
                    cJSON_Delete(rows);
                    rows = status_rows(c->policies, c->np, "error", "bad message from a rank");
                }
                failed += row_failed(rows);
                res[ms.MPI_TAG] = rows;
                progress(c, ++done, total, failed, t0);
            }
        }
#endif
        if (np == 0) {
            if (*is_root && size > 1) usleep(2000); /* waiting for other ranks only */
            continue;
        }
        int k = poll(pf, (nfds_t)np, size > 1 ? 20 : 1000);
        if (k < 0 && errno != EINTR) {
            st = sft_errf(e, SFT_EINTERNAL, "poll: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < np; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            worker *x = &w[idx[i]];
            if (!drain(x)) continue;
            int p = x->point;
            cJSON *rows = finish(c, idx[i], x);
            running--;
            mine_done++;
            failed += row_failed(rows);
#ifdef SFT_HAVE_MPI
            if (mpi_on && !*is_root) {
                char *s = cJSON_PrintUnformatted(rows);
                MPI_Send(s, (int)strlen(s), MPI_CHAR, 0, p, MPI_COMM_WORLD);
                free(s);
                cJSON_Delete(rows);
                continue;
            }
#endif
            res[p] = rows;
            progress(c, ++done, total, failed, t0);
        }
    }
    for (int i = 0; i < W; i++)
        if (w[i].pid) {
            kill(w[i].pid, SIGKILL);
            close(w[i].fd);
            live[i] = 0;
            waitpid(w[i].pid, NULL, 0);
        }
    restore_signals();
    for (int i = 0; i < W; i++) free(w[i].buf);
    for (int i = 0; i < c->n; i++) cJSON_Delete(res[i]);
    free(res);
    free(w);
    free(pf);
    free(idx);
    return st;
}
