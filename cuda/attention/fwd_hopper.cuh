// The Hopper (sm_90a) attention forward: the same work partitioning and
// online softmax as fwd_kernel.cuh, with both GEMMs on warpgroup MMA
// (wgmma) that reads K and V straight from shared memory, so no warp spends
// its issue slots on ldmatrix.
//
//   grid  as fwd_kernel (fwd_block.cuh: make_block)
//   block kWG warpgroups; warpgroup g owns query rows [64g, 64g + 64), its
//         warp w the 16 rows from 64g + 16w (the wgmma accumulator layout)
//
//   smem  sQ [kD/64][kBlockM][64]           loaded once
//         sK [2][kD/64][kBlockN][64]        K tile j in buffer j % 2
//         sV [2][kD/64][kBlockN][64]        V tile j in buffer j % 2
//   each [rows][64] slab is 128B-swizzled (common/wgmma.h), 1024-byte aligned
//
// Per tile: S = Q·Kᵀ (wgmma, both operands in shared memory), mask and
// softmax in registers, O += P·V (wgmma, P from registers: S's accumulator
// layout is the A fragment, as with mma.sync), software-pipelined so that
// one tile's softmax runs under the previous tile's P·V (see the loop).
// Tiles stream in with cp.async from all threads. Everything but the math
// comes from fwd_block.cuh and softmax.cuh.
#pragma once
#include "../common/wgmma.h"
#include "softmax.cuh"

namespace wf::attention {

template <typename T_, int kD_, int kBlockN_, int kWG_>
struct HopperConfig {
  using T = T_;
  static constexpr int kD = kD_;
  static constexpr int kWG = kWG_;
  static constexpr int kBlockM = 64 * kWG;
  static constexpr int kBlockN = kBlockN_;
  static constexpr int kThreads = 128 * kWG;
  static constexpr int kSlabs = kD / 64;
  static constexpr int kNTiles = kBlockN / 8;
  static constexpr int kDTiles = kD / 8;
  // P·V in at most n128 pieces (64 accumulator registers per instruction).
  static constexpr int kPvN = kD < 128 ? kD : 128;
  static constexpr size_t kSmemBytes = (size_t)(kBlockM + 4 * kBlockN) * kD * sizeof(T) + 1024;  // + alignment slack
  static_assert(kD % 64 == 0, "head dims come in 64-column slabs");
  static_assert(kBlockN == 64 || kBlockN == 128, "S = Q·Kᵀ is one m64n64 or m64n128 wgmma per k16 step");
};

namespace detail {

// [slab = chunk / 8][R rows][64 columns], 128B swizzle within each slab.
struct SlabSwizzle {
  template <int R>
  __device__ __forceinline__ static int offset(int row, int chunk) {
    return (chunk >> 3) * R * 64 + row * 64 + (((chunk & 7) ^ (row & 7)) << 3);
  }
};

}  // namespace detail

template <typename Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, 1) fwd_hopper_kernel(const FwdParams p) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using T = typename Cfg::T;
  constexpr int kD = Cfg::kD, kBlockM = Cfg::kBlockM, kBlockN = Cfg::kBlockN;
  constexpr int kNTiles = Cfg::kNTiles, kDTiles = Cfg::kDTiles, kPvN = Cfg::kPvN;
  constexpr int kTileElems = kBlockN * kD;
  extern __shared__ unsigned char smem_raw[];
  // Swizzled slabs must start on 1024 bytes (the swizzle reads address bits 7-9).
  const uint32_t raw = (uint32_t)__cvta_generic_to_shared(smem_raw);
  T* sQ = reinterpret_cast<T*>(smem_raw + (((raw + 1023) & ~1023u) - raw));
  T* sK = sQ + kBlockM * kD;
  T* sV = sK + 2 * kTileElems;

  const int warp = threadIdx.x >> 5, wg = warp >> 2;
  detail::Block blk;
  if (!detail::make_block(p, kBlockM, kBlockN, blk)) return;
  const int nb_lo = blk.nb_lo, nb_hi = blk.nb_hi;
  const detail::TileLoader<T, detail::SlabSwizzle, kD, Cfg::kThreads> load(p, blk);
  auto load_k = [&](int nb) { load.template k<kBlockN>(sK + (nb & 1) * kTileElems, nb); };
  auto load_v = [&](int nb) { load.template v<kBlockN>(sV + (nb & 1) * kTileElems, nb); };

  float o[1][kDTiles][4];
#pragma unroll
  for (int dt = 0; dt < kDTiles; ++dt)
#pragma unroll
    for (int i = 0; i < 4; ++i) o[0][dt][i] = 0.f;
  const int warp_row = wg * 64 + (warp & 3) * 16;
  detail::OnlineSoftmax<1, kNTiles> softmax(p, warp_row);

  // Q·Kᵀ steps over k16 slices of the head dim: 32 bytes along a 128-byte
  // row inside a slab, then the next slab.
  const T* q_wg = sQ + wg * 64 * 64;
  auto issue_qk = [&](int nb, float (&s)[kNTiles * 4]) {
    const T* sKb = sK + (nb & 1) * kTileElems;
    wgmma::fence();
#pragma unroll
    for (int ks = 0; ks < kD / 16; ++ks)
      wgmma::Mma<T, kBlockN>::ss(s, wgmma::desc(q_wg + (ks >> 2) * kBlockM * 64 + (ks & 3) * 16, 16, 1024),
                                 wgmma::desc(sKb + (ks >> 2) * kBlockN * 64 + (ks & 3) * 16, 16, 1024), ks > 0);
    wgmma::commit();
  };
  // P·V steps over 16 keys (16 rows of V: two 8-row atoms); an n128 piece
  // of O spans two slabs, kBlockN·128 bytes apart.
  auto issue_pv = [&](int nb, const uint32_t (&pa)[kBlockN / 16][4]) {
    const T* sVb = sV + (nb & 1) * kTileElems;
    wgmma::fence();
#pragma unroll
    for (int piece = 0; piece < kD / kPvN; ++piece) {
      float(&o_piece)[kPvN / 2] = reinterpret_cast<float(&)[kPvN / 2]>(o[0][piece * (kPvN / 8)]);
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk)
        wgmma::Mma<T, kPvN>::rs(o_piece, pa[kk], wgmma::desc(sVb + piece * (kPvN / 64) * kBlockN * 64 + kk * 16 * 64, kBlockN * 128, 1024), 1);
    }
    wgmma::commit();
  };
  // At the top of iteration j every warpgroup is done with K_j and V_{j-1}:
  // their buffers take K_{j+2} and V_{j+1}, while K_{j+1} and V_j (issued
  // one iteration earlier) must have landed.
  auto next_tiles = [&](int nb) {
    ptx::cp_async_wait<0>();
    wgmma::fence_smem();
    __syncthreads();
    if (nb + 2 < nb_hi) load_k(nb + 2);
    if (nb + 1 < nb_hi) load_v(nb + 1);
    ptx::cp_async_commit();
  };

  // Software pipeline (FlashAttention-3's intra-warpgroup overlap): while
  // the tensor cores run P_j·V_j, the warps do tile j+1's softmax, so
  // iteration j issues Q·K_{j+1}ᵀ and P_j·V_j back to back, K streaming one
  // tile ahead of V. Every warpgroup runs every tile of [nb_lo, nb_hi)
  // (tiles a warpgroup cannot see come out of the mask as P = 0): no
  // data-dependent branch between a wgmma and its wait, which would make
  // the compiler serialize them.
  // Groups: {Q, K_lo}, {K_lo+1, V_lo}, then one per iteration.
  load.template q<kBlockM>(sQ);
  if (nb_lo < nb_hi) {
    load_k(nb_lo);
    ptx::cp_async_commit();
    if (nb_lo + 1 < nb_hi) load_k(nb_lo + 1);
    load_v(nb_lo);
    ptx::cp_async_commit();
    ptx::cp_async_wait<1>();
    wgmma::fence_smem();
    __syncthreads();  // Q and K_lo landed and are visible to the tensor cores

    uint32_t pa[kBlockN / 16][4];
    {
      float s[1][kNTiles][4];
      float(&s_flat)[kNTiles * 4] = reinterpret_cast<float(&)[kNTiles * 4]>(s);
      issue_qk(nb_lo, s_flat);
      wgmma::wait<0>();
      wgmma::pin(s_flat);
      float corr[1][2];
      softmax.update(p, blk, nb_lo, kBlockN, s, corr);  // O is still zero: nothing to rescale
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk) softmax.template p_fragment<T>(s, 0, kk, pa[kk]);
    }
    for (int nb = nb_lo; nb + 1 < nb_hi; ++nb) {
      next_tiles(nb);
      float s[1][kNTiles][4];
      float(&s_flat)[kNTiles * 4] = reinterpret_cast<float(&)[kNTiles * 4]>(s);
      issue_qk(nb + 1, s_flat);
      issue_pv(nb, pa);
      wgmma::wait<1>();
      wgmma::pin(s_flat);
      float corr[1][2];
      const bool moved = softmax.update(p, blk, nb + 1, kBlockN, s, corr);
      // P_nb's registers take P_{nb+1} only once P·V_nb has read them (the
      // compiler serializes every wgmma when a register an in-flight one
      // reads is redefined).
      wgmma::wait<0>();
      wgmma::pin(reinterpret_cast<float(&)[kDTiles * 4]>(o));
      if (moved) softmax.rescale(o, corr);
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk) softmax.template p_fragment<T>(s, 0, kk, pa[kk]);
    }
    next_tiles(nb_hi - 1);
    issue_pv(nb_hi - 1, pa);
    wgmma::wait<0>();
    wgmma::pin(reinterpret_cast<float(&)[kDTiles * 4]>(o));
  }
  ptx::cp_async_wait<0>();  // no copy may still target smem when the CTA exits

  if (blk.r_base + warp_row < blk.rows) softmax.template store<T>(p, blk, o);
#endif
}

}  // namespace wf::attention
