/* kern_cuda.cu — the CUDA backend: FlashAttention-2 style forward and
 * backward over a packed variable-length batch with BF16 tensor-core
 * matrix products (mma.sync m16n8k16, FP32 accumulation), a cuBLASLt GEMM,
 * the host-array entry points, device timing and device discovery.
 *
 * Forward: one block of 4 warps per (query tile of FBM = 128 rows, q head,
 * sequence); each warp owns 32 query rows (two mma row tiles, so every K and
 * V fragment read from shared memory serves two products), keeps its scores,
 * running max/sum and output accumulator in registers (the mma fragment
 * layout is fixed by PTX, so each thread knows its rows), and streams K/V
 * tiles of BN = 64 keys through shared memory with cp.async, the next K tile
 * loading while the current one's softmax and P V run. Causal blocks stop at
 * the diagonal.
 * Backward: a pass computes D = rowsum(dO o O); then one block per (key tile,
 * q head, sequence) keeps dK, dV of its 64 keys in registers while it loops
 * over the query tiles that see its keys (causal: from the diagonal on),
 * recomputing P from LSE, prefetching the next query tile during dQ. dQ is
 * accumulated in FP32 with atomicAdd per tile; dK and dV once per block,
 * also in FP32 with atomicAdd, because the q heads of a GQA group run in
 * different blocks (a block per kv head would serialise the whole group on
 * the longest causal tiles). Last passes convert the FP32 sums to BF16.
 *
 * Invariants: blocks are listed most expensive first so that the long causal
 * tiles start early; shared-memory rows are padded by 8 BF16 (16 bytes) so
 * ldmatrix row addresses fall in distinct banks; rows past a sequence's end
 * are zero-filled in shared memory and masked, and never written; every
 * device allocation and library handle is released by its owner's destructor
 * on every path.
 */
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/kern_int.h"

namespace
{

typedef __nv_bfloat16 bf16;

/* Forward: 16-row mma tiles per warp. Two let each K/V fragment read from
 * shared memory serve two products (on H100: +5% at D = 128, -5% at D = 64
 * against one). */
constexpr int FMT = 2;
constexpr int FBM = 64 * FMT; /* forward: query rows per block (4 warps x 16 x FMT) */
constexpr int BM = 64;        /* backward: query rows per tile (4 warps x 16) */
constexpr int BN = 64;        /* keys per tile */
constexpr int NTHREADS = 128; /* 4 warps */
constexpr int PAD = 8;        /* BF16 elements of padding per shared-memory row */
constexpr float LOG2E = 1.4426950408889634f;
constexpr float LN2 = 0.6931471805599453f;
static_assert(BM == BN, "the causal backward starts key and query tiles at the same index");

/* ---- device helpers ----------------------------------------------------------- */

__device__ __forceinline__ uint32_t smem_addr(const void *p)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/* 16-byte global-to-shared copy; zero-fills the destination when !valid. */
__device__ __forceinline__ void cp_async16(void *dst, const void *src, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
                 "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void cp_async_commit()
{
    asm volatile("cp.async.commit_group;\n" ::);
}

template <int N> __device__ __forceinline__ void cp_async_wait()
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* Four 8x8 BF16 matrices; lanes 8i..8i+7 give the row addresses of matrix i. */
__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const bf16 *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

/* The same, each matrix transposed on the way. */
__device__ __forceinline__ void ldsm_x4_t(uint32_t r[4], const bf16 *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

/* c[16x8] += a[16x16] b[16x8]. Thread (g = lane/4, t = lane%4) holds
 * c: (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1);
 * a: (g, 2t..2t+1), (g+8, 2t..2t+1), (g, 2t+8..2t+9), (g+8, 2t+8..2t+9);
 * b: (2t..2t+1, g), (2t+8..2t+9, g). */
__device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi)
{
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/* The accumulators of two adjacent 16x8 tiles (columns 16j..16j+15) as the A
 * operand of the next product: the C layout of a 16x16 block is the A layout. */
__device__ __forceinline__ void acc_to_a(uint32_t a[4], const float lo[4], const float hi[4])
{
    a[0] = pack_bf16(lo[0], lo[1]);
    a[1] = pack_bf16(lo[2], lo[3]);
    a[2] = pack_bf16(hi[0], hi[1]);
    a[3] = pack_bf16(hi[2], hi[3]);
}

/* Copies ROWS rows of D BF16 (global stride `stride` elements) into shared
 * memory rows of D + PAD; rows at or past nvalid (>= 1) are zero-filled. */
template <int D, int ROWS>
__device__ __forceinline__ void load_rows(bf16 *dst, const bf16 *src, size_t stride, int nvalid)
{
    constexpr int LD = D + PAD, CH = D / 8;
    for (int i = threadIdx.x; i < ROWS * CH; i += NTHREADS) {
        const int r = i / CH, c = (i % CH) * 8;
        const bool ok = r < nvalid;
        cp_async16(dst + r * LD + c, ok ? src + (size_t)r * stride + c : src, ok);
    }
}

template <int N> __device__ __forceinline__ void zero(float (&x)[N][4])
{
#pragma unroll
    for (int i = 0; i < N; i++) x[i][0] = x[i][1] = x[i][2] = x[i][3] = 0.f;
}

/* ---- forward ---------------------------------------------------------------------- */

struct FwdParams {
    const bf16 *q, *k, *v;
    bf16 *o;
    float *lse;
    const int *cu;
    const int2 *tiles; /* (sequence, query tile) per blockIdx.x */
    int hq, hkv, causal;
    float scale_log2; /* log2(e) / sqrt(D): scores are kept in base-2 units */
};

template <int D> constexpr size_t fwd_smem()
{
    return (size_t)(FBM + 2 * BN) * (D + PAD) * 2;
}

template <int D> __global__ void __launch_bounds__(NTHREADS) attn_fwd(const FwdParams p)
{
    constexpr int LD = D + PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    bf16 *sQ = reinterpret_cast<bf16 *>(smem), *sK = sQ + FBM * LD, *sV = sK + BN * LD;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int2 tile = p.tiles[blockIdx.x];
    const int h = blockIdx.y, hk = h / (p.hq / p.hkv);
    const int start = p.cu[tile.x], len = p.cu[tile.x + 1] - start;
    const int q0 = tile.y * FBM, nq = min(FBM, len - q0);
    const size_t qs = (size_t)p.hq * D, ks = (size_t)p.hkv * D;
    const bf16 *kb = p.k + (size_t)start * ks + (size_t)hk * D;
    const bf16 *vb = p.v + (size_t)start * ks + (size_t)hk * D;

    /* This thread's rows: w0 + 16 mt + g + 8 half, for mt < FMT, half < 2;
     * per-row state is indexed [mt][half]. */
    const int w0 = q0 + warp * 16 * FMT;
    const int kend = p.causal ? q0 + nq : len;
    float m[FMT][2], l[FMT][2], acc[FMT][D / 8][4];
#pragma unroll
    for (int mt = 0; mt < FMT; mt++) {
        m[mt][0] = m[mt][1] = -INFINITY;
        l[mt][0] = l[mt][1] = 0.f;
        zero(acc[mt]);
    }

    /* Copies in flight overlap compute: K of tile j+1 loads during the
     * softmax and P V of tile j, V of tile j during Q K^T of tile j. */
    load_rows<D, FBM>(sQ, p.q + ((size_t)start + q0) * qs + (size_t)h * D, qs, nq);
    load_rows<D, BN>(sK, kb, ks, min(BN, len));
    cp_async_commit();
    for (int k0 = 0; k0 < kend; k0 += BN) {
        load_rows<D, BN>(sV, vb + (size_t)k0 * ks, ks, min(BN, len - k0));
        cp_async_commit();
        cp_async_wait<1>(); /* Q and this K have landed; V may still be in flight */
        __syncthreads();

        /* S = Q K^T: each K fragment serves the FMT row tiles of the warp. */
        float s[FMT][BN / 8][4];
#pragma unroll
        for (int mt = 0; mt < FMT; mt++) zero(s[mt]);
#pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
            uint32_t a[FMT][4];
#pragma unroll
            for (int mt = 0; mt < FMT; mt++)
                ldsm_x4(a[mt], sQ + (warp * 16 * FMT + mt * 16 + (lane & 15)) * LD + kc * 16 +
                                   (lane >> 4) * 8);
#pragma unroll
            for (int np = 0; np < BN / 16; np++) {
                uint32_t b[4];
                ldsm_x4(b, sK + (np * 16 + (lane >> 4) * 8 + (lane & 7)) * LD + kc * 16 +
                               ((lane >> 3) & 1) * 8);
#pragma unroll
                for (int mt = 0; mt < FMT; mt++) {
                    mma16816(s[mt][2 * np], a[mt], b[0], b[1]);
                    mma16816(s[mt][2 * np + 1], a[mt], b[2], b[3]);
                }
            }
        }

        /* Masking is needed only past the sequence's end or across the diagonal. */
        const bool edge = k0 + BN > len || (p.causal && k0 + BN - 1 > w0);
#pragma unroll
        for (int mt = 0; mt < FMT; mt++) {
            float mx[2] = {m[mt][0], m[mt][1]};
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) {
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    float x = s[mt][nt][i] * p.scale_log2;
                    if (edge) {
                        const int key = k0 + nt * 8 + 2 * t + (i & 1);
                        const int row = w0 + mt * 16 + g + (i >> 1) * 8;
                        if (key >= len || (p.causal && key > row)) x = -INFINITY;
                    }
                    s[mt][nt][i] = x;
                    mx[i >> 1] = fmaxf(mx[i >> 1], x);
                }
            }
#pragma unroll
            for (int hf = 0; hf < 2; hf++) {
                /* A row lives in the 4 threads of a quad. */
                mx[hf] = fmaxf(mx[hf], __shfl_xor_sync(0xffffffffu, mx[hf], 1));
                mx[hf] = fmaxf(mx[hf], __shfl_xor_sync(0xffffffffu, mx[hf], 2));
                /* A row with nothing visible yet keeps max -inf: use 0 as the
                 * base so that exp2 gives 0, not NaN. */
                const float base = mx[hf] == -INFINITY ? 0.f : mx[hf];
                const float alpha = exp2f(m[mt][hf] - base);
                m[mt][hf] = mx[hf];
                float rs = 0.f;
#pragma unroll
                for (int nt = 0; nt < BN / 8; nt++) {
                    s[mt][nt][2 * hf] = exp2f(s[mt][nt][2 * hf] - base);
                    s[mt][nt][2 * hf + 1] = exp2f(s[mt][nt][2 * hf + 1] - base);
                    rs += s[mt][nt][2 * hf] + s[mt][nt][2 * hf + 1];
                }
                /* l stays a per-thread partial sum until the end: alpha is
                 * uniform in a quad. */
                l[mt][hf] = l[mt][hf] * alpha + rs;
#pragma unroll
                for (int nt = 0; nt < D / 8; nt++) {
                    acc[mt][nt][2 * hf] *= alpha;
                    acc[mt][nt][2 * hf + 1] *= alpha;
                }
            }
        }

        __syncthreads(); /* every warp is done with sK */
        if (k0 + BN < kend) {
            load_rows<D, BN>(sK, kb + (size_t)(k0 + BN) * ks, ks, min(BN, len - k0 - BN));
            cp_async_commit();
            cp_async_wait<1>(); /* this V has landed; the next K may still be in flight */
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        /* O += P V: each V fragment serves the FMT row tiles. */
#pragma unroll
        for (int kc = 0; kc < BN / 16; kc++) {
            uint32_t a[FMT][4];
#pragma unroll
            for (int mt = 0; mt < FMT; mt++) acc_to_a(a[mt], s[mt][2 * kc], s[mt][2 * kc + 1]);
#pragma unroll
            for (int dp = 0; dp < D / 16; dp++) {
                uint32_t b[4];
                ldsm_x4_t(b, sV + (kc * 16 + (lane & 15)) * LD + dp * 16 + (lane >> 4) * 8);
#pragma unroll
                for (int mt = 0; mt < FMT; mt++) {
                    mma16816(acc[mt][2 * dp], a[mt], b[0], b[1]);
                    mma16816(acc[mt][2 * dp + 1], a[mt], b[2], b[3]);
                }
            }
        }
        __syncthreads(); /* every warp is done with sV */
    }

#pragma unroll
    for (int mt = 0; mt < FMT; mt++) {
#pragma unroll
        for (int hf = 0; hf < 2; hf++) {
            float lsum = l[mt][hf];
            lsum += __shfl_xor_sync(0xffffffffu, lsum, 1);
            lsum += __shfl_xor_sync(0xffffffffu, lsum, 2);
            const int row = w0 + mt * 16 + g + hf * 8;
            if (row >= len) continue;
            const float inv = lsum > 0.f ? 1.f / lsum : 0.f;
            bf16 *orow = p.o + ((size_t)start + row) * qs + (size_t)h * D + 2 * t;
#pragma unroll
            for (int nt = 0; nt < D / 8; nt++)
                *reinterpret_cast<uint32_t *>(orow + nt * 8) =
                    pack_bf16(acc[mt][nt][2 * hf] * inv, acc[mt][nt][2 * hf + 1] * inv);
            if (t == 0) p.lse[((size_t)start + row) * p.hq + h] = (m[mt][hf] + log2f(lsum)) * LN2;
        }
    }
}

/* ---- backward --------------------------------------------------------------------- */

/* D[row] = sum over d of dO[row][d] * O[row][d]; one warp per (token, q head). */
template <int D>
__global__ void attn_bwd_dot(const bf16 *o, const bf16 *dout, float *dvec, size_t rows)
{
    const size_t row = (size_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const __nv_bfloat162 *a = reinterpret_cast<const __nv_bfloat162 *>(o + row * D);
    const __nv_bfloat162 *b = reinterpret_cast<const __nv_bfloat162 *>(dout + row * D);
    float sum = 0.f;
#pragma unroll
    for (int i = lane; i < D / 2; i += 32) {
        const float2 x = __bfloat1622float2(a[i]), y = __bfloat1622float2(b[i]);
        sum += x.x * y.x + x.y * y.y;
    }
#pragma unroll
    for (int off = 16; off; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0) dvec[row] = sum;
}

struct BwdParams {
    const bf16 *q, *k, *v, *dout;
    const float *lse, *dvec;
    float *dq_acc;          /* FP32 [token][hq][D], zeroed before the kernel */
    float *dk_acc, *dv_acc; /* FP32 [token][hkv][D], zeroed before the kernel */
    const int *cu;
    const int2 *tiles; /* (sequence, key tile) per blockIdx.x */
    int hq, hkv, causal;
    float scale, scale_log2;
};

/* LSE (in base-2 units) and D of the BM query rows from q0 into shared memory;
 * rows past the end get LSE +inf, hence P = 0, and D = 0. */
__device__ __forceinline__ void load_row_stats(float *sLse, float *sD, const float *lse,
                                               const float *dvec, int hq, int q0, int len)
{
    const int r = threadIdx.x;
    if (r < BM) {
        const bool ok = q0 + r < len;
        sLse[r] = ok ? lse[(size_t)(q0 + r) * hq] * LOG2E : INFINITY;
        sD[r] = ok ? dvec[(size_t)(q0 + r) * hq] : 0.f;
    }
}

template <int D> constexpr size_t bwd_smem()
{
    return (size_t)(2 * BN + 2 * BM) * (D + PAD) * 2 + (size_t)BN * (BM + PAD) * 2 +
           2 * BM * sizeof(float);
}

template <int D> __global__ void __launch_bounds__(NTHREADS) attn_bwd(const BwdParams p)
{
    constexpr int LD = D + PAD, LDS = BM + PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    bf16 *sK = reinterpret_cast<bf16 *>(smem), *sV = sK + BN * LD, *sQ = sV + BN * LD;
    bf16 *sdO = sQ + BM * LD, *sdS = sdO + BM * LD; /* sdS: dS^T, [key][query] */
    float *sLse = reinterpret_cast<float *>(sdS + BN * LDS), *sD = sLse + BM;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int2 tile = p.tiles[blockIdx.x];
    const int h = blockIdx.y, hk = h / (p.hq / p.hkv);
    const int start = p.cu[tile.x], len = p.cu[tile.x + 1] - start;
    const int k0 = tile.y * BN, nk = min(BN, len - k0);
    const size_t qs = (size_t)p.hq * D, ks = (size_t)p.hkv * D;
    const bf16 *qb = p.q + (size_t)start * qs + (size_t)h * D;
    const bf16 *gb = p.dout + (size_t)start * qs + (size_t)h * D;
    const float *lseb = p.lse + (size_t)start * p.hq + h, *db = p.dvec + (size_t)start * p.hq + h;

    const int kr0 = k0 + warp * 16 + g; /* this thread's key rows: kr0 and kr0 + 8 */
    float dk[D / 8][4], dv[D / 8][4];
    zero(dk);
    zero(dv);
    const int qt0 = p.causal ? tile.y : 0, nqt = (len + BM - 1) / BM;

    /* Q, dO, LSE and D of query tile qt+1 load while tile qt computes dQ. */
    load_rows<D, BN>(sK, p.k + ((size_t)start + k0) * ks + (size_t)hk * D, ks, nk);
    load_rows<D, BN>(sV, p.v + ((size_t)start + k0) * ks + (size_t)hk * D, ks, nk);
    load_rows<D, BM>(sQ, qb + (size_t)qt0 * BM * qs, qs, min(BM, len - qt0 * BM));
    load_rows<D, BM>(sdO, gb + (size_t)qt0 * BM * qs, qs, min(BM, len - qt0 * BM));
    cp_async_commit();
    load_row_stats(sLse, sD, lseb, db, p.hq, qt0 * BM, len);
    for (int qt = qt0; qt < nqt; qt++) {
        const int q0 = qt * BM;
        cp_async_wait<0>();
        __syncthreads(); /* this tile's Q, dO, LSE and D are visible to every warp */

        /* S^T = K Q^T for this warp's 16 keys x the 64 queries. */
        float st[BM / 8][4];
        zero(st);
#pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
            uint32_t a[4];
            ldsm_x4(a, sK + (warp * 16 + (lane & 15)) * LD + kc * 16 + (lane >> 4) * 8);
#pragma unroll
            for (int np = 0; np < BM / 16; np++) {
                uint32_t b[4];
                ldsm_x4(b, sQ + (np * 16 + (lane >> 4) * 8 + (lane & 7)) * LD + kc * 16 +
                               ((lane >> 3) & 1) * 8);
                mma16816(st[2 * np], a, b[0], b[1]);
                mma16816(st[2 * np + 1], a, b[2], b[3]);
            }
        }
        /* P^T = exp2(S^T scale log2(e) - LSE log2(e)), masked. */
        const bool edge = k0 + BN > len || (p.causal && k0 + warp * 16 + 15 > q0);
#pragma unroll
        for (int nt = 0; nt < BM / 8; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const int qc = nt * 8 + 2 * t + (i & 1), key = kr0 + (i >> 1) * 8;
                float pv = exp2f(st[nt][i] * p.scale_log2 - sLse[qc]);
                if (edge && (key >= len || (p.causal && key > q0 + qc))) pv = 0.f;
                st[nt][i] = pv;
            }
        }
        /* dV += P^T dO. */
#pragma unroll
        for (int kc = 0; kc < BM / 16; kc++) {
            uint32_t a[4];
            acc_to_a(a, st[2 * kc], st[2 * kc + 1]);
#pragma unroll
            for (int dp = 0; dp < D / 16; dp++) {
                uint32_t b[4];
                ldsm_x4_t(b, sdO + (kc * 16 + (lane & 15)) * LD + dp * 16 + (lane >> 4) * 8);
                mma16816(dv[2 * dp], a, b[0], b[1]);
                mma16816(dv[2 * dp + 1], a, b[2], b[3]);
            }
        }
        /* dP^T = V dO^T. */
        float dpt[BM / 8][4];
        zero(dpt);
#pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
            uint32_t a[4];
            ldsm_x4(a, sV + (warp * 16 + (lane & 15)) * LD + kc * 16 + (lane >> 4) * 8);
#pragma unroll
            for (int np = 0; np < BM / 16; np++) {
                uint32_t b[4];
                ldsm_x4(b, sdO + (np * 16 + (lane >> 4) * 8 + (lane & 7)) * LD + kc * 16 +
                               ((lane >> 3) & 1) * 8);
                mma16816(dpt[2 * np], a, b[0], b[1]);
                mma16816(dpt[2 * np + 1], a, b[2], b[3]);
            }
        }
        /* dS^T = P^T o (dP^T - D), in place of P^T; the softmax scale is
         * applied when dK and dQ are written. */
#pragma unroll
        for (int nt = 0; nt < BM / 8; nt++)
#pragma unroll
            for (int i = 0; i < 4; i++) st[nt][i] *= dpt[nt][i] - sD[nt * 8 + 2 * t + (i & 1)];
                /* dK += dS^T Q. */
#pragma unroll
        for (int kc = 0; kc < BM / 16; kc++) {
            uint32_t a[4];
            acc_to_a(a, st[2 * kc], st[2 * kc + 1]);
#pragma unroll
            for (int dp = 0; dp < D / 16; dp++) {
                uint32_t b[4];
                ldsm_x4_t(b, sQ + (kc * 16 + (lane & 15)) * LD + dp * 16 + (lane >> 4) * 8);
                mma16816(dk[2 * dp], a, b[0], b[1]);
                mma16816(dk[2 * dp + 1], a, b[2], b[3]);
            }
        }
        /* dQ needs dS with queries as rows: go through shared memory. */
#pragma unroll
        for (int nt = 0; nt < BM / 8; nt++) {
            bf16 *row = sdS + (warp * 16 + g) * LDS + nt * 8 + 2 * t;
            *reinterpret_cast<uint32_t *>(row) = pack_bf16(st[nt][0], st[nt][1]);
            *reinterpret_cast<uint32_t *>(row + 8 * LDS) = pack_bf16(st[nt][2], st[nt][3]);
        }
        __syncthreads(); /* dS^T is complete; every warp is done with sQ, sdO, sLse, sD */
        if (qt + 1 < nqt) {
            const int n1 = min(BM, len - q0 - BM);
            load_rows<D, BM>(sQ, qb + (size_t)(q0 + BM) * qs, qs, n1);
            load_rows<D, BM>(sdO, gb + (size_t)(q0 + BM) * qs, qs, n1);
            cp_async_commit();
            load_row_stats(sLse, sD, lseb, db, p.hq, q0 + BM, len);
        }
        /* dQ (this warp's 16 queries) += scale dS K, 32 columns at a time
         * to bound the registers live beside dK and dV. */
        const int qr0 = q0 + warp * 16 + g;
        float *dq0 = p.dq_acc + ((size_t)start + qr0) * qs + (size_t)h * D + 2 * t;
#pragma unroll
        for (int dc = 0; dc < D / 32; dc++) {
            float acc[4][4];
            zero(acc);
#pragma unroll
            for (int kc = 0; kc < BN / 16; kc++) {
                uint32_t a[4];
                ldsm_x4_t(a, sdS + (kc * 16 + (lane >> 4) * 8 + (lane & 7)) * LDS + warp * 16 +
                                 ((lane >> 3) & 1) * 8);
#pragma unroll
                for (int dp = 0; dp < 2; dp++) {
                    uint32_t b[4];
                    ldsm_x4_t(b, sK + (kc * 16 + (lane & 15)) * LD + dc * 32 + dp * 16 +
                                     (lane >> 4) * 8);
                    mma16816(acc[2 * dp], a, b[0], b[1]);
                    mma16816(acc[2 * dp + 1], a, b[2], b[3]);
                }
            }
#pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                float *col = dq0 + dc * 32 + nt * 8;
                if (qr0 < len) {
                    atomicAdd(col, acc[nt][0] * p.scale);
                    atomicAdd(col + 1, acc[nt][1] * p.scale);
                }
                if (qr0 + 8 < len) {
                    atomicAdd(col + 8 * qs, acc[nt][2] * p.scale);
                    atomicAdd(col + 8 * qs + 1, acc[nt][3] * p.scale);
                }
            }
        }
    }

    /* The q heads of a GQA group run in different blocks: sum into FP32. */
#pragma unroll
    for (int half = 0; half < 2; half++) {
        const int key = kr0 + half * 8;
        if (key >= len) continue;
        const size_t off = ((size_t)start + key) * ks + (size_t)hk * D + 2 * t;
#pragma unroll
        for (int nt = 0; nt < D / 8; nt++) {
            atomicAdd(p.dk_acc + off + nt * 8, dk[nt][2 * half] * p.scale);
            atomicAdd(p.dk_acc + off + nt * 8 + 1, dk[nt][2 * half + 1] * p.scale);
            atomicAdd(p.dv_acc + off + nt * 8, dv[nt][2 * half]);
            atomicAdd(p.dv_acc + off + nt * 8 + 1, dv[nt][2 * half + 1]);
        }
    }
}

__global__ void f32_to_bf16(const float *x, bf16 *y, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16_rn(x[i]);
}

/* The stream of kern_fill_random (element i is splitmix64 output i + 1 of
 * seed), rounded to BF16: device-side so large timing inputs cost nothing. */
__global__ void fill_random_bf16(bf16 *x, size_t n, uint64_t seed)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        x[i] = __float2bfloat16_rn((float)(z >> 40) * (2.0f / 16777216.0f) - 1.0f);
    }
}

/* Blocks for an elementwise grid-stride kernel of n elements. */
unsigned elementwise_blocks(size_t n)
{
    const size_t b = (n + 255) / 256;
    return (unsigned)std::min<size_t>(std::max<size_t>(b, 1), 65535);
}

/* ---- host: errors and resources --------------------------------------------------- */

sft_status cuda_fail(sft_err *e, cudaError_t err, const char *what)
{
    const bool env = err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver ||
                     err == cudaErrorMemoryAllocation || err == cudaErrorNoKernelImageForDevice;
    return sft_errf(e, env ? SFT_EINFEASIBLE : SFT_EINTERNAL, "%s: %s (%s)", what,
                    cudaGetErrorString(err), cudaGetErrorName(err));
}

#define CU_TRY(call, what)                                                                         \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) return cuda_fail(e, err_, what);                                  \
    } while (0)

#define LT_TRY(call, what)                                                                         \
    do {                                                                                           \
        cublasStatus_t st_ = (call);                                                               \
        if (st_ != CUBLAS_STATUS_SUCCESS)                                                          \
            return sft_errf(e, SFT_EINTERNAL, "%s: %s", what, cublasLtGetStatusString(st_));       \
    } while (0)

#define TRY(call)                                                                                  \
    do {                                                                                           \
        sft_status s_ = (call);                                                                    \
        if (s_ != SFT_OK) return s_;                                                               \
    } while (0)

/* Owns one device allocation. */
struct DevMem {
    void *p = nullptr;
    DevMem() = default;
    DevMem(const DevMem &) = delete;
    DevMem &operator=(const DevMem &) = delete;
    ~DevMem()
    {
        if (p) cudaFree(p);
    }
    template <class T> T *as() const { return static_cast<T *>(p); }
};

sft_status dev_alloc(DevMem &m, size_t bytes, sft_err *e)
{
    CU_TRY(cudaMalloc(&m.p, bytes ? bytes : 1), "cudaMalloc");
    return SFT_OK;
}

struct Event {
    cudaEvent_t ev = nullptr;
    Event() = default;
    Event(const Event &) = delete;
    Event &operator=(const Event &) = delete;
    ~Event()
    {
        if (ev) cudaEventDestroy(ev);
    }
};

struct Stream {
    cudaStream_t s = nullptr;
    Stream() = default;
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;
    ~Stream()
    {
        if (s) cudaStreamDestroy(s);
    }
};

/* 0 when the current device can run these kernels; otherwise writes why. */
int device_unusable(char *why, size_t n)
{
    int count = 0, dev = 0, major = 0, minor = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError(); /* not sticky, but leave no error behind */
        snprintf(why, n, "no usable CUDA driver or device (%s)", cudaGetErrorString(err));
        return 1;
    }
    if (count == 0) {
        snprintf(why, n, "no CUDA device found");
        return 1;
    }
    if ((err = cudaGetDevice(&dev)) != cudaSuccess ||
        (err = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev)) !=
            cudaSuccess ||
        (err = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev)) !=
            cudaSuccess) {
        snprintf(why, n, "cannot query CUDA device (%s)", cudaGetErrorString(err));
        return 1;
    }
    if (major < 8) {
        snprintf(why, n,
                 "CUDA device %d has compute capability %d.%d; these kernels need 8.0 or newer "
                 "(BF16 tensor cores)",
                 dev, major, minor);
        return 1;
    }
    return 0;
}

sft_status cuda_ready(const char *what, sft_err *e)
{
    char why[256];
    if (device_unusable(why, sizeof why)) return sft_errf(e, SFT_EINFEASIBLE, "%s: %s", what, why);
    return SFT_OK;
}

sft_status upload_bf16(DevMem &dst, const float *src, size_t n, sft_err *e)
{
    std::vector<uint16_t> h(n);
    for (size_t i = 0; i < n; i++) h[i] = kern_f32_to_bf16(src[i]);
    TRY(dev_alloc(dst, n * sizeof(uint16_t), e));
    CU_TRY(cudaMemcpy(dst.p, h.data(), n * sizeof(uint16_t), cudaMemcpyHostToDevice),
           "copy to device");
    return SFT_OK;
}

sft_status download_bf16(float *dst, const DevMem &src, size_t n, sft_err *e)
{
    std::vector<uint16_t> h(n);
    CU_TRY(cudaMemcpy(h.data(), src.p, n * sizeof(uint16_t), cudaMemcpyDeviceToHost),
           "copy from device");
    for (size_t i = 0; i < n; i++) dst[i] = kern_bf16_to_f32(h[i]);
    return SFT_OK;
}

/* ---- host: attention -------------------------------------------------------------- */

/* Block list: (sequence, tile) most expensive first, the cost being the
 * tiles of the other kind it visits. by_key: key tiles of the backward
 * (causal: the query tiles from the diagonal on); otherwise query tiles of
 * the forward (causal: the key tiles up to the diagonal). */
std::vector<int2> make_tiles(const kern_attn_shape *s, bool by_key)
{
    const int rows = by_key ? BN : FBM, other = by_key ? BM : BN;
    struct Work {
        long cost;
        int2 tile;
    };
    std::vector<Work> w;
    for (int i = 0; i < s->nseq; i++) {
        const int len = s->cu_seqlens[i + 1] - s->cu_seqlens[i];
        const int nt = (len + rows - 1) / rows, no = (len + other - 1) / other;
        for (int t = 0; t < nt; t++) {
            /* Tiles of the other kind this one visits. */
            const int first = by_key ? t * rows / other : 0;
            const int last = by_key ? no : std::min(no, ((t + 1) * rows + other - 1) / other);
            w.push_back({s->causal ? last - first : no, make_int2(i, t)});
        }
    }
    std::stable_sort(w.begin(), w.end(),
                     [](const Work &a, const Work &b) { return a.cost > b.cost; });
    std::vector<int2> out(w.size());
    for (size_t i = 0; i < w.size(); i++) out[i] = w[i].tile;
    return out;
}

/* One attention problem resident on the device. */
struct Attn {
    const kern_attn_shape *s = nullptr;
    size_t tokens = 0, nq = 0, nkv = 0, nrow = 0;
    size_t nfwd = 0, nbwd = 0; /* blocks along x */
    DevMem cu, fwd_tiles, bwd_tiles;
    DevMem q, k, v, o, lse;                                /* forward */
    DevMem dout, dq, dk, dv, dvec, dq_acc, dk_acc, dv_acc; /* backward */
};

/* Lets kernel fn use `bytes` of dynamic shared memory (above the 48 KiB default). */
template <class F> sft_status set_smem(F *fn, size_t bytes, sft_err *e)
{
    CU_TRY(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
           "attention (cuda): reserving shared memory");
    return SFT_OK;
}

/* Checks the shape against the launch limits, uploads the offsets and the
 * block lists, and allocates every tensor (the backward's too when bwd). */
sft_status attn_create(Attn &a, const kern_attn_shape *s, bool bwd, sft_err *e)
{
    if (s->heads_q > 65535 || s->heads_kv > 65535)
        return sft_errf(e, SFT_EINPUT, "attention (cuda): %d q heads / %d kv heads, at most 65535",
                        s->heads_q, s->heads_kv);
    TRY(set_smem(attn_fwd<64>, fwd_smem<64>(), e));
    TRY(set_smem(attn_fwd<128>, fwd_smem<128>(), e));
    TRY(set_smem(attn_bwd<64>, bwd_smem<64>(), e));
    TRY(set_smem(attn_bwd<128>, bwd_smem<128>(), e));
    a.s = s;
    a.tokens = kern_attn_tokens(s);
    a.nq = a.tokens * (size_t)s->heads_q * (size_t)s->head_dim;
    a.nkv = a.tokens * (size_t)s->heads_kv * (size_t)s->head_dim;
    a.nrow = a.tokens * (size_t)s->heads_q;
    const std::vector<int2> ft = make_tiles(s, false), bt = make_tiles(s, true);
    a.nfwd = ft.size();
    a.nbwd = bt.size();
    TRY(dev_alloc(a.cu, (size_t)(s->nseq + 1) * sizeof(int), e));
    CU_TRY(cudaMemcpy(a.cu.p, s->cu_seqlens, (size_t)(s->nseq + 1) * sizeof(int),
                      cudaMemcpyHostToDevice),
           "copy to device");
    TRY(dev_alloc(a.fwd_tiles, ft.size() * sizeof(int2), e));
    TRY(dev_alloc(a.bwd_tiles, bt.size() * sizeof(int2), e));
    CU_TRY(cudaMemcpy(a.fwd_tiles.p, ft.data(), ft.size() * sizeof(int2), cudaMemcpyHostToDevice),
           "copy to device");
    CU_TRY(cudaMemcpy(a.bwd_tiles.p, bt.data(), bt.size() * sizeof(int2), cudaMemcpyHostToDevice),
           "copy to device");
    TRY(dev_alloc(a.q, a.nq * 2, e));
    TRY(dev_alloc(a.k, a.nkv * 2, e));
    TRY(dev_alloc(a.v, a.nkv * 2, e));
    TRY(dev_alloc(a.o, a.nq * 2, e));
    TRY(dev_alloc(a.lse, a.nrow * sizeof(float), e));
    if (bwd) {
        TRY(dev_alloc(a.dout, a.nq * 2, e));
        TRY(dev_alloc(a.dq, a.nq * 2, e));
        TRY(dev_alloc(a.dk, a.nkv * 2, e));
        TRY(dev_alloc(a.dv, a.nkv * 2, e));
        TRY(dev_alloc(a.dvec, a.nrow * sizeof(float), e));
        TRY(dev_alloc(a.dq_acc, a.nq * sizeof(float), e));
        TRY(dev_alloc(a.dk_acc, a.nkv * sizeof(float), e));
        TRY(dev_alloc(a.dv_acc, a.nkv * sizeof(float), e));
    }
    return SFT_OK;
}

sft_status attn_fwd_launch(const Attn &a, cudaStream_t stream, sft_err *e)
{
    if (a.nfwd == 0) return SFT_OK;
    const kern_attn_shape *s = a.s;
    FwdParams p;
    p.q = a.q.as<bf16>();
    p.k = a.k.as<bf16>();
    p.v = a.v.as<bf16>();
    p.o = a.o.as<bf16>();
    p.lse = a.lse.as<float>();
    p.cu = a.cu.as<int>();
    p.tiles = a.fwd_tiles.as<int2>();
    p.hq = s->heads_q;
    p.hkv = s->heads_kv;
    p.causal = s->causal != 0;
    p.scale_log2 = LOG2E / sqrtf((float)s->head_dim);
    const dim3 grid((unsigned)a.nfwd, (unsigned)s->heads_q);
    if (s->head_dim == 64)
        attn_fwd<64><<<grid, NTHREADS, fwd_smem<64>(), stream>>>(p);
    else
        attn_fwd<128><<<grid, NTHREADS, fwd_smem<128>(), stream>>>(p);
    CU_TRY(cudaGetLastError(), "attention forward (cuda): launch");
    return SFT_OK;
}

sft_status attn_bwd_launch(const Attn &a, cudaStream_t stream, sft_err *e)
{
    if (a.nbwd == 0) return SFT_OK;
    const kern_attn_shape *s = a.s;
    const int d = s->head_dim;
    CU_TRY(cudaMemsetAsync(a.dq_acc.p, 0, a.nq * sizeof(float), stream),
           "attention backward (cuda): clearing dQ");
    CU_TRY(cudaMemsetAsync(a.dk_acc.p, 0, a.nkv * sizeof(float), stream),
           "attention backward (cuda): clearing dK");
    CU_TRY(cudaMemsetAsync(a.dv_acc.p, 0, a.nkv * sizeof(float), stream),
           "attention backward (cuda): clearing dV");
    const unsigned dot_blocks = (unsigned)((a.nrow + 7) / 8);
    if (d == 64)
        attn_bwd_dot<64><<<dot_blocks, 256, 0, stream>>>(a.o.as<bf16>(), a.dout.as<bf16>(),
                                                         a.dvec.as<float>(), a.nrow);
    else
        attn_bwd_dot<128><<<dot_blocks, 256, 0, stream>>>(a.o.as<bf16>(), a.dout.as<bf16>(),
                                                          a.dvec.as<float>(), a.nrow);
    CU_TRY(cudaGetLastError(), "attention backward (cuda): launch of rowsum(dO*O)");
    BwdParams p;
    p.q = a.q.as<bf16>();
    p.k = a.k.as<bf16>();
    p.v = a.v.as<bf16>();
    p.dout = a.dout.as<bf16>();
    p.lse = a.lse.as<float>();
    p.dvec = a.dvec.as<float>();
    p.dq_acc = a.dq_acc.as<float>();
    p.dk_acc = a.dk_acc.as<float>();
    p.dv_acc = a.dv_acc.as<float>();
    p.cu = a.cu.as<int>();
    p.tiles = a.bwd_tiles.as<int2>();
    p.hq = s->heads_q;
    p.hkv = s->heads_kv;
    p.causal = s->causal != 0;
    p.scale = 1.0f / sqrtf((float)d);
    p.scale_log2 = LOG2E * p.scale;
    const dim3 grid((unsigned)a.nbwd, (unsigned)s->heads_q);
    if (d == 64)
        attn_bwd<64><<<grid, NTHREADS, bwd_smem<64>(), stream>>>(p);
    else
        attn_bwd<128><<<grid, NTHREADS, bwd_smem<128>(), stream>>>(p);
    CU_TRY(cudaGetLastError(), "attention backward (cuda): launch");
    f32_to_bf16<<<elementwise_blocks(a.nq), 256, 0, stream>>>(a.dq_acc.as<float>(), a.dq.as<bf16>(),
                                                              a.nq);
    f32_to_bf16<<<elementwise_blocks(a.nkv), 256, 0, stream>>>(a.dk_acc.as<float>(),
                                                               a.dk.as<bf16>(), a.nkv);
    f32_to_bf16<<<elementwise_blocks(a.nkv), 256, 0, stream>>>(a.dv_acc.as<float>(),
                                                               a.dv.as<bf16>(), a.nkv);
    CU_TRY(cudaGetLastError(), "attention backward (cuda): launch of the BF16 conversions");
    return SFT_OK;
}

sft_status fill_random(const DevMem &m, size_t n, uint64_t seed, cudaStream_t stream, sft_err *e)
{
    fill_random_bf16<<<elementwise_blocks(n), 256, 0, stream>>>(m.as<bf16>(), n, seed);
    CU_TRY(cudaGetLastError(), "filling inputs (cuda): launch");
    return SFT_OK;
}

/* Runs launch `reps + warmup` times on stream, timing each with events;
 * writes the median of the timed ones. */
template <class F>
sft_status time_launches(F launch, cudaStream_t stream, int warmup, int reps, double *median_s,
                         sft_err *e)
{
    Event t0, t1;
    CU_TRY(cudaEventCreate(&t0.ev), "timing (cuda): cudaEventCreate");
    CU_TRY(cudaEventCreate(&t1.ev), "timing (cuda): cudaEventCreate");
    std::vector<double> t((size_t)reps);
    for (int i = 0; i < warmup + reps; i++) {
        CU_TRY(cudaEventRecord(t0.ev, stream), "timing (cuda): cudaEventRecord");
        TRY(launch());
        CU_TRY(cudaEventRecord(t1.ev, stream), "timing (cuda): cudaEventRecord");
        CU_TRY(cudaEventSynchronize(t1.ev), "timing (cuda): running the kernels");
        float ms = 0;
        CU_TRY(cudaEventElapsedTime(&ms, t0.ev, t1.ev), "timing (cuda): cudaEventElapsedTime");
        if (i >= warmup) t[(size_t)(i - warmup)] = 1e-3 * ms;
    }
    *median_s = kern_median(t.data(), t.size());
    return SFT_OK;
}

/* ---- host: cuBLASLt GEMM ------------------------------------------------------- */

/* Owns a cuBLASLt handle and the descriptors and algorithm of one shape.
 * Row-major C = A B is column-major C^T = B^T A^T, so cuBLASLt's A is our B
 * (N x K, ld N), its B our A (K x M, ld K), and C^T is N x M, ld N. */
struct Gemm {
    cublasLtHandle_t h = nullptr;
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    cublasLtMatmulHeuristicResult_t heur = {};
    DevMem ws;
    Gemm() = default;
    Gemm(const Gemm &) = delete;
    Gemm &operator=(const Gemm &) = delete;
    ~Gemm()
    {
        if (pref) cublasLtMatmulPreferenceDestroy(pref);
        if (lc) cublasLtMatrixLayoutDestroy(lc);
        if (lb) cublasLtMatrixLayoutDestroy(lb);
        if (la) cublasLtMatrixLayoutDestroy(la);
        if (op) cublasLtMatmulDescDestroy(op);
        if (h) cublasLtDestroy(h);
    }
};

constexpr uint64_t GEMM_WORKSPACE = 32u << 20;

sft_status gemm_create(Gemm &g, int m, int n, int k, sft_err *e)
{
    LT_TRY(cublasLtCreate(&g.h), "gemm (cuda): cublasLtCreate");
    LT_TRY(cublasLtMatmulDescCreate(&g.op, CUBLAS_COMPUTE_32F, CUDA_R_32F),
           "gemm (cuda): cublasLtMatmulDescCreate");
    LT_TRY(cublasLtMatrixLayoutCreate(&g.la, CUDA_R_16BF, (uint64_t)n, (uint64_t)k, n),
           "gemm (cuda): layout of B");
    LT_TRY(cublasLtMatrixLayoutCreate(&g.lb, CUDA_R_16BF, (uint64_t)k, (uint64_t)m, k),
           "gemm (cuda): layout of A");
    LT_TRY(cublasLtMatrixLayoutCreate(&g.lc, CUDA_R_16BF, (uint64_t)n, (uint64_t)m, n),
           "gemm (cuda): layout of C");
    LT_TRY(cublasLtMatmulPreferenceCreate(&g.pref), "gemm (cuda): cublasLtMatmulPreferenceCreate");
    const uint64_t ws = GEMM_WORKSPACE;
    LT_TRY(cublasLtMatmulPreferenceSetAttribute(g.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                &ws, sizeof ws),
           "gemm (cuda): workspace preference");
    int found = 0;
    LT_TRY(cublasLtMatmulAlgoGetHeuristic(g.h, g.op, g.la, g.lb, g.lc, g.lc, g.pref, 1, &g.heur,
                                          &found),
           "gemm (cuda): cublasLtMatmulAlgoGetHeuristic");
    if (found == 0)
        return sft_errf(e, SFT_EINFEASIBLE,
                        "gemm (cuda): cuBLASLt has no BF16 algorithm for M = %d, N = %d, K = %d", m,
                        n, k);
    return dev_alloc(g.ws, g.heur.workspaceSize, e);
}

/* c = a b (row-major, device pointers). */
sft_status gemm_run(const Gemm &g, const bf16 *a, const bf16 *b, bf16 *c, cudaStream_t stream,
                    sft_err *e)
{
    const float alpha = 1.f, beta = 0.f;
    LT_TRY(cublasLtMatmul(g.h, g.op, &alpha, b, g.la, a, g.lb, &beta, c, g.lc, c, g.lc,
                          &g.heur.algo, g.ws.p, g.heur.workspaceSize, stream),
           "gemm (cuda): cublasLtMatmul");
    return SFT_OK;
}

void put(char *buf, size_t n, const char *text)
{
    if (buf && n) snprintf(buf, n, "%s", text);
}

} /* namespace */

/* ---- public entry points ------------------------------------------------------- */

extern "C" int kern_cuda_available(char *device_name, size_t n, char *driver, size_t m)
{
    char why[256];
    put(device_name, n, "");
    if (device_unusable(why, sizeof why)) {
        put(driver, m, why);
        return 0;
    }
    int dev = 0, drv = 0, rt = 0;
    cudaDeviceProp prop;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess ||
        cudaDriverGetVersion(&drv) != cudaSuccess || cudaRuntimeGetVersion(&rt) != cudaSuccess) {
        put(driver, m, cudaGetErrorString(cudaGetLastError()));
        return 0;
    }
    put(device_name, n, prop.name);
    if (driver && m)
        snprintf(driver, m, "driver %d.%d, runtime %d.%d", drv / 1000, drv % 1000 / 10, rt / 1000,
                 rt % 1000 / 10);
    return 1;
}

extern "C" sft_status kern_attn_fwd_cuda(const kern_attn_shape *s, const float *q, const float *k,
                                         const float *v, float *o, float *lse, sft_err *e)
{
    TRY(kern_attn_shape_check(s, e));
    const void *ptrs[] = {q, k, v, o, lse};
    const char *names[] = {"q", "k", "v", "o", "lse"};
    if (kern_attn_tokens(s) == 0) return SFT_OK;
    TRY(kern_ptrs_check("attention forward (cuda)", ptrs, names, 5, e));
    TRY(cuda_ready("attention forward (cuda)", e));
    Attn a;
    TRY(attn_create(a, s, false, e));
    TRY(upload_bf16(a.q, q, a.nq, e));
    TRY(upload_bf16(a.k, k, a.nkv, e));
    TRY(upload_bf16(a.v, v, a.nkv, e));
    TRY(attn_fwd_launch(a, 0, e));
    CU_TRY(cudaDeviceSynchronize(), "attention forward (cuda): running the kernel");
    TRY(download_bf16(o, a.o, a.nq, e));
    CU_TRY(cudaMemcpy(lse, a.lse.p, a.nrow * sizeof(float), cudaMemcpyDeviceToHost),
           "copy from device");
    return SFT_OK;
}

extern "C" sft_status kern_attn_bwd_cuda(const kern_attn_shape *s, const float *q, const float *k,
                                         const float *v, const float *o, const float *lse,
                                         const float *dout, float *dq, float *dk, float *dv,
                                         sft_err *e)
{
    TRY(kern_attn_shape_check(s, e));
    const void *ptrs[] = {q, k, v, o, lse, dout, dq, dk, dv};
    const char *names[] = {"q", "k", "v", "o", "lse", "dout", "dq", "dk", "dv"};
    if (kern_attn_tokens(s) == 0) return SFT_OK;
    TRY(kern_ptrs_check("attention backward (cuda)", ptrs, names, 9, e));
    TRY(cuda_ready("attention backward (cuda)", e));
    Attn a;
    TRY(attn_create(a, s, true, e));
    TRY(upload_bf16(a.q, q, a.nq, e));
    TRY(upload_bf16(a.k, k, a.nkv, e));
    TRY(upload_bf16(a.v, v, a.nkv, e));
    TRY(upload_bf16(a.o, o, a.nq, e));
    TRY(upload_bf16(a.dout, dout, a.nq, e));
    CU_TRY(cudaMemcpy(a.lse.p, lse, a.nrow * sizeof(float), cudaMemcpyHostToDevice),
           "copy to device");
    TRY(attn_bwd_launch(a, 0, e));
    CU_TRY(cudaDeviceSynchronize(), "attention backward (cuda): running the kernels");
    TRY(download_bf16(dq, a.dq, a.nq, e));
    TRY(download_bf16(dk, a.dk, a.nkv, e));
    TRY(download_bf16(dv, a.dv, a.nkv, e));
    return SFT_OK;
}

extern "C" sft_status kern_gemm_cuda(int m, int n, int k, const float *a, const float *b, float *c,
                                     sft_err *e)
{
    TRY(kern_gemm_args_check(m, n, k, e));
    const void *ptrs[] = {a, b, c};
    const char *names[] = {"a", "b", "c"};
    TRY(kern_ptrs_check("gemm (cuda)", ptrs, names, 3, e));
    TRY(cuda_ready("gemm (cuda)", e));
    const size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    DevMem da, db, dc;
    TRY(upload_bf16(da, a, na, e));
    TRY(upload_bf16(db, b, nb, e));
    TRY(dev_alloc(dc, nc * 2, e));
    Gemm g;
    TRY(gemm_create(g, m, n, k, e));
    TRY(gemm_run(g, da.as<bf16>(), db.as<bf16>(), dc.as<bf16>(), 0, e));
    CU_TRY(cudaDeviceSynchronize(), "gemm (cuda): running cublasLtMatmul");
    return download_bf16(c, dc, nc, e);
}

extern "C" sft_status kern_cuda_time_attn(const kern_attn_shape *s, kern_dir dir, int warmup,
                                          int reps, double *median_s, sft_err *e)
{
    TRY(cuda_ready("attention timing (cuda)", e));
    Attn a;
    TRY(attn_create(a, s, dir == KERN_BWD, e));
    Stream st;
    CU_TRY(cudaStreamCreate(&st.s), "attention timing (cuda): cudaStreamCreate");
    uint64_t seeds[4];
    kern_sub_seeds(KERN_TIME_SEED, seeds, 4);
    TRY(fill_random(a.q, a.nq, seeds[0], st.s, e));
    TRY(fill_random(a.k, a.nkv, seeds[1], st.s, e));
    TRY(fill_random(a.v, a.nkv, seeds[2], st.s, e));
    if (dir == KERN_BWD) {
        TRY(fill_random(a.dout, a.nq, seeds[3], st.s, e));
        TRY(attn_fwd_launch(a, st.s, e)); /* the backward reads the forward's O and LSE */
        return time_launches([&]() { return attn_bwd_launch(a, st.s, e); }, st.s, warmup, reps,
                             median_s, e);
    }
    return time_launches([&]() { return attn_fwd_launch(a, st.s, e); }, st.s, warmup, reps,
                         median_s, e);
}

extern "C" sft_status kern_cuda_time_gemm(int m, int n, int k, int warmup, int reps,
                                          double *median_s, sft_err *e)
{
    TRY(cuda_ready("gemm timing (cuda)", e));
    const size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    DevMem da, db, dc;
    TRY(dev_alloc(da, na * 2, e));
    TRY(dev_alloc(db, nb * 2, e));
    TRY(dev_alloc(dc, nc * 2, e));
    Stream st;
    CU_TRY(cudaStreamCreate(&st.s), "gemm timing (cuda): cudaStreamCreate");
    uint64_t seeds[2];
    kern_sub_seeds(KERN_TIME_SEED, seeds, 2);
    TRY(fill_random(da, na, seeds[0], st.s, e));
    TRY(fill_random(db, nb, seeds[1], st.s, e));
    Gemm g;
    TRY(gemm_create(g, m, n, k, e));
    return time_launches(
        [&]() { return gemm_run(g, da.as<bf16>(), db.as<bf16>(), dc.as<bf16>(), st.s, e); }, st.s,
        warmup, reps, median_s, e);
}
