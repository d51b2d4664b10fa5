/* prog.c — program storage (see prog.h). Strings and groups are interned
 * with small open-addressing hash tables so that builders can ask freely.
 *
 * Every id an op stores is range-checked where it is made (always on, a
 * compare per call): names fit prog_op.name's 16 bits, collective and event
 * ids and each stream's op count fit int32, group members fit the int
 * offsets. Past a limit the builder aborts with the limit named, never
 * wraps an id into another op's. */
#include "sim/prog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/coll.h"

/* launches lives in what was padding: an op still takes 48 bytes, so the
 * host model costs programs only their issue order (a byte per op) */
_Static_assert(sizeof(prog_op) == 48, "prog_op grew");

typedef struct stream {
    prog_op *ops;
    size_t n, cap;
} stream;

typedef struct pcoll {
    int op, group, root;
    double bytes;
} pcoll;

typedef struct issue_log {
    uint8_t *s; /* stream of each push, in push order */
    size_t n, cap;
} issue_log;

struct prog {
    int ngpus;
    stream *st;       /* ngpus * PROG_NSTREAMS */
    issue_log *issue; /* per GPU */
    double dispatch_s;
    char **str;
    size_t nstr, capstr;
    int *strhash; /* open addressing: string id + 1, 0 = empty */
    size_t strhash_cap;
    int *gmem; /* members of all groups, concatenated */
    size_t ngmem, capgmem;
    int *goff; /* group g: gmem[goff[g] .. goff[g+1]) */
    size_t ngroups, capgoff;
    int *ghash;
    size_t ghash_cap;
    pcoll *colls;
    size_t ncolls, capcolls;
    int nevents;
};

prog *prog_create(int ngpus)
{
    prog *p = sft_xcalloc(1, sizeof *p);
    p->ngpus = ngpus;
    p->st = sft_xcalloc((size_t)ngpus * PROG_NSTREAMS, sizeof *p->st);
    p->issue = sft_xcalloc((size_t)ngpus + 1, sizeof *p->issue);
    p->goff = sft_xmalloc(16 * sizeof *p->goff);
    p->capgoff = 16;
    p->goff[0] = 0;
    return p;
}

void prog_destroy(prog *p)
{
    if (!p) return;
    for (int i = 0; i < p->ngpus * PROG_NSTREAMS; i++) free(p->st[i].ops);
    free(p->st);
    for (int g = 0; g < p->ngpus; g++) free(p->issue[g].s);
    free(p->issue);
    for (size_t i = 0; i < p->nstr; i++) free(p->str[i]);
    free(p->str);
    free(p->strhash);
    free(p->gmem);
    free(p->goff);
    free(p->ghash);
    free(p->colls);
    free(p);
}

int prog_ngpus(const prog *p)
{
    return p->ngpus;
}

void prog_set_dispatch(prog *p, double seconds)
{
    p->dispatch_s = seconds;
}

double prog_dispatch(const prog *p)
{
    return p->dispatch_s;
}

const uint8_t *prog_issue_order(const prog *p, int g, size_t *n)
{
    *n = p->issue[g].n;
    return p->issue[g].s;
}

static uint64_t hash_bytes(const void *d, size_t n)
{
    const unsigned char *s = d;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

static void str_rehash(prog *p)
{
    size_t cap = p->strhash_cap ? 2 * p->strhash_cap : 256;
    int *h = sft_xcalloc(cap, sizeof *h);
    for (size_t i = 0; i < p->nstr; i++) {
        size_t k = hash_bytes(p->str[i], strlen(p->str[i])) & (cap - 1);
        while (h[k]) k = (k + 1) & (cap - 1);
        h[k] = (int)i + 1;
    }
    free(p->strhash);
    p->strhash = h;
    p->strhash_cap = cap;
}

int prog_intern(prog *p, const char *name)
{
    if (2 * (p->nstr + 1) > p->strhash_cap) str_rehash(p);
    size_t k = hash_bytes(name, strlen(name)) & (p->strhash_cap - 1);
    while (p->strhash[k]) {
        int id = p->strhash[k] - 1;
        if (strcmp(p->str[id], name) == 0) return id;
        k = (k + 1) & (p->strhash_cap - 1);
    }
    SFT_CHECK(p->nstr <= PROG_MAX_NAME,
              "program: more than %d distinct op names (\"%s\" would be id %zu; prog_op.name holds "
              "16 bits)",
              PROG_MAX_NAME + 1, name, p->nstr);
    SFT_GROW(p->str, p->capstr, p->nstr + 1);
    p->str[p->nstr] = sft_xstrdup(name);
    p->strhash[k] = (int)p->nstr + 1;
    return (int)p->nstr++;
}

const char *prog_string(const prog *p, int id)
{
    return id >= 0 && (size_t)id < p->nstr ? p->str[id] : "?";
}

int prog_nstrings(const prog *p)
{
    return (int)p->nstr;
}

static void group_rehash(prog *p)
{
    size_t cap = p->ghash_cap ? 2 * p->ghash_cap : 64;
    int *h = sft_xcalloc(cap, sizeof *h);
    for (size_t g = 0; g < p->ngroups; g++) {
        size_t n = (size_t)(p->goff[g + 1] - p->goff[g]);
        size_t k = hash_bytes(p->gmem + p->goff[g], n * sizeof(int)) & (cap - 1);
        while (h[k]) k = (k + 1) & (cap - 1);
        h[k] = (int)g + 1;
    }
    free(p->ghash);
    p->ghash = h;
    p->ghash_cap = cap;
}

int prog_group(prog *p, const int *gpus, int n)
{
    if (2 * (p->ngroups + 1) > p->ghash_cap) group_rehash(p);
    size_t k = hash_bytes(gpus, (size_t)n * sizeof(int)) & (p->ghash_cap - 1);
    while (p->ghash[k]) {
        int g = p->ghash[k] - 1;
        int m = p->goff[g + 1] - p->goff[g];
        if (m == n && memcmp(p->gmem + p->goff[g], gpus, (size_t)n * sizeof(int)) == 0) return g;
        k = (k + 1) & (p->ghash_cap - 1);
    }
    for (int i = 0; i < n; i++)
        SFT_CHECK(gpus[i] >= 0 && gpus[i] < p->ngpus, "group member %d out of range", gpus[i]);
    SFT_CHECK(n >= 0 && p->ngmem + (size_t)n <= INT32_MAX && p->ngroups < INT32_MAX,
              "program: more than %d group members in all", INT32_MAX);
    SFT_GROW(p->gmem, p->capgmem, p->ngmem + (size_t)n);
    memcpy(p->gmem + p->ngmem, gpus, (size_t)n * sizeof(int));
    p->ngmem += (size_t)n;
    SFT_GROW(p->goff, p->capgoff, p->ngroups + 2);
    p->goff[p->ngroups + 1] = (int)p->ngmem;
    p->ghash[k] = (int)p->ngroups + 1;
    return (int)p->ngroups++;
}

const int *prog_group_members(const prog *p, int id, int *n)
{
    *n = p->goff[id + 1] - p->goff[id];
    return p->gmem + p->goff[id];
}

int prog_coll(prog *p, int op, int group, double bytes, int root)
{
    SFT_CHECK(p->ncolls < INT32_MAX,
              "program: more than %d collective instances (prog_op.ref holds 32 bits)", INT32_MAX);
    SFT_CHECK(group >= 0 && (size_t)group < p->ngroups,
              "prog_coll: group %d undefined (%zu groups)", group, p->ngroups);
    SFT_GROW(p->colls, p->capcolls, p->ncolls + 1);
    pcoll *c = &p->colls[p->ncolls];
    c->op = op;
    c->group = group;
    c->bytes = bytes;
    c->root = root;
    return (int)p->ncolls++;
}

int prog_ncolls(const prog *p)
{
    return (int)p->ncolls;
}

void prog_coll_get(const prog *p, int id, int *op, int *group, double *bytes, int *root)
{
    const pcoll *c = &p->colls[id];
    if (op) *op = c->op;
    if (group) *group = c->group;
    if (bytes) *bytes = c->bytes;
    if (root) *root = c->root;
}

int prog_event(prog *p)
{
    SFT_CHECK(p->nevents < INT32_MAX, "program: more than %d events (prog_op.ref holds 32 bits)",
              INT32_MAX);
    return p->nevents++;
}
int prog_nevents(const prog *p)
{
    return p->nevents;
}

prog_op *prog_push(prog *p, int gpu, int stream_id, prog_kind kind, int name)
{
    SFT_CHECK(gpu >= 0 && gpu < p->ngpus && stream_id >= 0 && stream_id < PROG_NSTREAMS,
              "prog_push: gpu %d stream %d out of range", gpu, stream_id);
    SFT_CHECK(name >= 0 && (size_t)name < p->nstr, "prog_push: name id %d not interned (%zu names)",
              name, p->nstr);
    stream *s = &p->st[gpu * PROG_NSTREAMS + stream_id];
    SFT_CHECK(s->n < INT32_MAX, "program: gpu %d stream %d: more than %d ops", gpu, stream_id,
              INT32_MAX);
    SFT_GROW(s->ops, s->cap, s->n + 1);
    prog_op *o = &s->ops[s->n++];
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind;
    o->name = (uint16_t)name;
    o->step = o->mb = o->layer = -1;
    o->launches = kind == PK_COMPUTE || kind == PK_MEMORY || kind == PK_COLL;
    issue_log *L = &p->issue[gpu];
    SFT_GROW(L->s, L->cap, L->n + 1);
    L->s[L->n++] = (uint8_t)stream_id;
    return o;
}

int prog_nops(const prog *p, int gpu, int stream_id)
{
    return (int)p->st[gpu * PROG_NSTREAMS + stream_id].n;
}

prog_op *prog_last(prog *p, int gpu, int stream_id)
{
    stream *s = &p->st[gpu * PROG_NSTREAMS + stream_id];
    return s->n ? &s->ops[s->n - 1] : NULL;
}

const prog_op *prog_ops(const prog *p, int gpu, int stream_id)
{
    return p->st[gpu * PROG_NSTREAMS + stream_id].ops;
}

uint64_t prog_total_ops(const prog *p)
{
    uint64_t n = 0;
    for (int i = 0; i < p->ngpus * PROG_NSTREAMS; i++) n += p->st[i].n;
    return n;
}

static int by_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

sft_status prog_check(const prog *p, sft_err *e)
{
    sft_status st = SFT_OK;
    /* each group's members sorted: membership by binary search, so the check
     * costs ops x log(group), not ops x group (a collective over 32K GPUs) */
    int *sorted = sft_xmalloc((p->ngmem + 1) * sizeof *sorted);
    if (p->ngmem) memcpy(sorted, p->gmem, p->ngmem * sizeof *sorted);
    for (size_t gr = 0; gr < p->ngroups; gr++)
        qsort(sorted + p->goff[gr], (size_t)(p->goff[gr + 1] - p->goff[gr]), sizeof *sorted,
              by_int);
    int *seen = sft_xcalloc(p->ncolls + 1, sizeof *seen);
    int *rec = sft_xcalloc((size_t)p->nevents + 1, sizeof *rec);
    for (int g = 0; g < p->ngpus && !st; g++) {
        for (int s = 0; s < PROG_NSTREAMS && !st; s++) {
            const stream *S = &p->st[g * PROG_NSTREAMS + s];
            for (size_t i = 0; i < S->n && !st; i++) {
                const prog_op *o = &S->ops[i];
                if (o->kind >= PK_NKINDS) {
                    st = sft_errf(e, SFT_EINTERNAL, "gpu %d stream %d op %zu: bad kind %d", g, s, i,
                                  o->kind);
                } else if (o->kind == PK_COLL) {
                    if (o->ref < 0 || (size_t)o->ref >= p->ncolls) {
                        st = sft_errf(e, SFT_EINTERNAL, "gpu %d op %zu: collective %d undefined", g,
                                      i, o->ref);
                        break;
                    }
                    int gr = p->colls[o->ref].group;
                    int in =
                        bsearch(&g, sorted + p->goff[gr], (size_t)(p->goff[gr + 1] - p->goff[gr]),
                                sizeof g, by_int) != NULL;
                    if (s == PROG_COMPUTE || !in)
                        st = sft_errf(e, SFT_EINTERNAL,
                                      "gpu %d stream %d op %zu: collective %d not on a member's "
                                      "comm stream",
                                      g, s, i, o->ref);
                    seen[o->ref]++;
                } else if (o->kind == PK_RECORD || o->kind == PK_WAIT) {
                    if (o->ref < 0 || o->ref >= p->nevents)
                        st = sft_errf(e, SFT_EINTERNAL, "gpu %d op %zu: event %d undefined", g, i,
                                      o->ref);
                    else if (o->kind == PK_RECORD)
                        rec[o->ref]++;
                } else if ((o->kind == PK_COMPUTE || o->kind == PK_DELAY) && !(o->t >= 0)) {
                    st = sft_errf(e, SFT_EINTERNAL, "gpu %d op %zu: negative duration", g, i);
                }
            }
        }
    }
    for (size_t c = 0; c < p->ncolls && !st; c++) {
        int n;
        prog_group_members(p, p->colls[c].group, &n);
        if (seen[c] != n)
            st = sft_errf(e, SFT_EINTERNAL, "collective %zu (%s): %d of %d members take part", c,
                          coll_op_name(p->colls[c].op), seen[c], n);
    }
    for (int v = 0; v < p->nevents && !st; v++)
        if (rec[v] != 1)
            st = sft_errf(e, SFT_EINTERNAL, "event %d recorded %d times (must be once)", v, rec[v]);
    free(sorted);
    free(seen);
    free(rec);
    return st;
}
