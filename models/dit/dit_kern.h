/* dit_kern.h — kernel lists: what one piece of a diffusion pipeline (a DiT
 * block, the text encoder, the VAE, the image encoder) runs on one GPU,
 * before any timing. The program builder (models/dit/build.c) turns each
 * entry into an op through models/hw/cost.h; tests check the lists against
 * closed forms (FLOPs, bytes) without timing anything.
 *
 * Ownership: a dit_klist owns its array (dit_klist_free); names are static
 * strings.
 */
#ifndef SFT_DIT_KERN_H
#define SFT_DIT_KERN_H

#include <stddef.h>

typedef enum dit_kkind {
    DK_GEMM, /* [m x k] . [k x n] (a convolution as its implicit GEMM) */
    DK_MEM,  /* memory-bound: `bytes` of HBM traffic (read + written) */
    DK_ATTN  /* flash attention: q query tokens x kv key tokens, `heads` heads of head_dim */
} dit_kkind;

typedef struct dit_kernel {
    const char *name; /* static */
    dit_kkind kind;
    double count;     /* identical kernels this entry stands for (>= 1) */
    /* DK_GEMM */
    double m, n, k;
    int tf32; /* operands in fp32: tensor cores run TF32, half the BF16 rate */
    /* DK_MEM */
    double bytes;
    /* DK_ATTN */
    double q, kv;
    int heads, head_dim, causal;
} dit_kernel;

typedef struct dit_klist {
    dit_kernel *v;
    size_t n, cap;
} dit_klist;

/* Appends (aborts on allocation failure, like sft_xmalloc). */
void dit_kgemm(dit_klist *l, const char *name, double count, double m, double n, double k, int tf32);
void dit_kmem(dit_klist *l, const char *name, double count, double bytes);
void dit_kattn(dit_klist *l, const char *name, double count, double q, double kv, int heads,
               int head_dim, int causal);
void dit_klist_free(dit_klist *l);
/* Model FLOPs of the list: 2mnk per GEMM, 4 q kv heads head_dim per
 * attention (halved when causal), 0 for memory-bound work. */
double dit_kflops(const dit_klist *l);
/* HBM bytes of its memory-bound entries. */
double dit_kbytes(const dit_klist *l);

#endif
