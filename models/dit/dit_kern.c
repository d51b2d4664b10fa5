/* dit_kern.c — kernel lists (dit_kern.h). */
#include "models/dit/dit_kern.h"

#include <stdlib.h>

#include "base/base.h"

static dit_kernel *push(dit_klist *l, const char *name, dit_kkind kind, double count)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        l->v = sft_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    dit_kernel *k = &l->v[l->n++];
    *k = (dit_kernel){.name = name, .kind = kind, .count = count};
    return k;
}

void dit_kgemm(dit_klist *l, const char *name, double count, double m, double n, double k, int tf32)
{
    dit_kernel *x = push(l, name, DK_GEMM, count);
    x->m = m;
    x->n = n;
    x->k = k;
    x->tf32 = tf32;
}

void dit_kmem(dit_klist *l, const char *name, double count, double bytes)
{
    push(l, name, DK_MEM, count)->bytes = bytes;
}

void dit_kattn(dit_klist *l, const char *name, double count, double q, double kv, int heads,
               int head_dim, int causal)
{
    dit_kernel *x = push(l, name, DK_ATTN, count);
    x->q = q;
    x->kv = kv;
    x->heads = heads;
    x->head_dim = head_dim;
    x->causal = causal;
}

void dit_klist_free(dit_klist *l)
{
    free(l->v);
    *l = (dit_klist){0};
}

double dit_kflops(const dit_klist *l)
{
    double f = 0;
    for (size_t i = 0; i < l->n; i++) {
        const dit_kernel *k = &l->v[i];
        if (k->kind == DK_GEMM)
            f += k->count * 2 * k->m * k->n * k->k;
        else if (k->kind == DK_ATTN)
            f += k->count * 4 * k->q * k->kv * k->heads * k->head_dim * (k->causal ? 0.5 : 1);
    }
    return f;
}

double dit_kbytes(const dit_klist *l)
{
    double b = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].kind == DK_MEM)
            b += l->v[i].count * l->v[i].bytes;
    return b;
}
