// The Hopper (sm_90a) attention forward: the same work partitioning and
// online softmax as fwd_kernel.cuh, with both GEMMs on warpgroup MMA
// (wgmma) that reads K and V straight from shared memory, so no warp spends
// its issue slots on ldmatrix.
//
//   grid  as fwd_kernel (fwd_block.cuh: make_block)
//   block warpgroup 0: producer, copies Q, K and V tiles (cp.async) and
//         publishes each through an mbarrier; warpgroups 1 … kWG: consumers,
//         consumer g owns query rows [64g, 64g + 64), its warp w the 16 rows
//         from 64g + 16w (the wgmma accumulator layout). setmaxnreg moves
//         the producer's registers to the consumers.
//
//   smem  sQ [kD/64][kBlockM][64]           loaded once
//         sK [2][kD/64][kBlockN][64]        K tile t in buffer t % 2
//         sV [2][kD/64][kBlockN][64]        V tile t in buffer t % 2
//         full/empty mbarriers per K and V buffer
//   each [rows][64] slab is 128B-swizzled (common/wgmma.h), 1024-byte aligned
//
// Per tile: S = Q·Kᵀ (wgmma, both operands in shared memory), mask and
// softmax in registers, O += P·V (wgmma, P from registers: S's accumulator
// layout is the A fragment, as with mma.sync). FlashAttention-3's schedule:
// one tile's softmax runs under the previous tile's P·V in the same
// warpgroup, and the two consumer warpgroups take turns issuing GEMMs
// (pingpong). Everything but the math and the pipeline comes from
// fwd_block.cuh and softmax.cuh.
#pragma once
#include "../common/mbarrier.h"
#include "../common/wgmma.h"
#include "softmax.cuh"

namespace wf::attention {

template <typename T_, int kD_, int kBlockN_, int kWG_, bool kPingpong_ = true>
struct HopperConfig {
  using T = T_;
  static constexpr int kD = kD_;
  static constexpr int kWG = kWG_;
  static constexpr int kBlockM = 64 * kWG;
  static constexpr int kBlockN = kBlockN_;
  static constexpr int kThreads = 128 * (kWG + 1);  // + the producer warpgroup
  // The two consumer warpgroups take turns issuing their GEMMs, so one's
  // softmax runs while the other's GEMMs keep the tensor cores busy.
  static constexpr bool kPingpong = kPingpong_ && kWG == 2;
  static constexpr int kSlabs = kD / 64;
  static constexpr int kNTiles = kBlockN / 8;
  static constexpr int kDTiles = kD / 8;
  // P·V in at most n128 pieces (64 accumulator registers per instruction).
  static constexpr int kPvN = kD < 128 ? kD : 128;
  // Q, K and V tiles, 8 mbarriers, alignment slack.
  static constexpr size_t kSmemBytes = (size_t)(kBlockM + 4 * kBlockN) * kD * sizeof(T) + 64 + 1024;
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
  constexpr int kConsumerWarps = 4 * Cfg::kWG;
  extern __shared__ unsigned char smem_raw[];
  // Swizzled slabs must start on 1024 bytes (the swizzle reads address bits 7-9).
  const uint32_t raw = (uint32_t)__cvta_generic_to_shared(smem_raw);
  T* sQ = reinterpret_cast<T*>(smem_raw + (((raw + 1023) & ~1023u) - raw));
  T* sK = sQ + kBlockM * kD;
  T* sV = sK + 2 * kTileElems;
  // full: the tile in buffer b has landed (Q rides with the first K tile);
  // empty: every consumer warp is done reading buffer b.
  uint64_t* bars = reinterpret_cast<uint64_t*>(sV + 2 * kTileElems);
  uint64_t* full_k = bars;
  uint64_t* full_v = bars + 2;
  uint64_t* empty_k = bars + 4;
  uint64_t* empty_v = bars + 6;

  detail::Block blk;
  if (!detail::make_block(p, kBlockM, kBlockN, blk)) return;
  const int nb_lo = blk.nb_lo, n_tiles = blk.nb_hi - blk.nb_lo;
  if (threadIdx.x == 0) {
    for (int b = 0; b < 2; ++b) {
      mbarrier::init(full_k + b, 128);
      mbarrier::init(full_v + b, 128);
      mbarrier::init(empty_k + b, kConsumerWarps);
      mbarrier::init(empty_v + b, kConsumerWarps);
    }
  }
  __syncthreads();

  // Tiles are numbered from nb_lo: tile t sits in buffer t & 1 for its
  // (t >> 1)-th use of that buffer, whose barrier phase parity is (t >> 1) & 1.
  if (threadIdx.x < 128) {
    // Producer warpgroup: cp.async copies only, so it gives its registers
    // to the consumers.
    asm volatile("setmaxnreg.dec.sync.aligned.u32 56;");
    const detail::TileLoader<T, detail::SlabSwizzle, kD, 128> load(p, blk);
    // Copies in order K_0, V_0, K_1, V_1, …, two in flight: a copy's
    // completion is published (proxy fence, then release) once the next
    // one is under way.
    auto issue = [&](int i) {
      const int t = i >> 1, buf = t & 1;
      if (t >= 2) mbarrier::wait((i & 1 ? empty_v : empty_k) + buf, ((t >> 1) - 1) & 1);
      if (i == 0) load.template q<kBlockM>(sQ);
      if (i & 1) load.template v<kBlockN>(sV + buf * kTileElems, nb_lo + t);
      else load.template k<kBlockN>(sK + buf * kTileElems, nb_lo + t);
      ptx::cp_async_commit();
    };
    const int n_copies = 2 * n_tiles;
    if (n_copies > 0) issue(0);
    for (int i = 0; i < n_copies; ++i) {
      if (i + 1 < n_copies) {
        issue(i + 1);
        ptx::cp_async_wait<1>();
      } else {
        ptx::cp_async_wait<0>();
      }
      wgmma::fence_smem();
      mbarrier::arrive((i & 1 ? full_v : full_k) + ((i >> 1) & 1));
    }
    return;
  }

  asm volatile("setmaxnreg.inc.sync.aligned.u32 224;");
  const int warp = (threadIdx.x >> 5) - 4, wg = warp >> 2, lane = threadIdx.x & 31;
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
  auto issue_qk = [&](int t, float (&s)[kNTiles * 4]) {
    const T* sKb = sK + (t & 1) * kTileElems;
    mbarrier::wait(full_k + (t & 1), (t >> 1) & 1);
    wgmma::fence();
#pragma unroll
    for (int ks = 0; ks < kD / 16; ++ks)
      wgmma::Mma<T, kBlockN>::ss(s, wgmma::desc(q_wg + (ks >> 2) * kBlockM * 64 + (ks & 3) * 16, 16, 1024),
                                 wgmma::desc(sKb + (ks >> 2) * kBlockN * 64 + (ks & 3) * 16, 16, 1024), ks > 0);
    wgmma::commit();
  };
  // P·V steps over 16 keys (16 rows of V: two 8-row atoms); an n128 piece
  // of O spans two slabs, kBlockN·128 bytes apart.
  auto issue_pv = [&](int t, const uint32_t (&pa)[kBlockN / 16][4]) {
    const T* sVb = sV + (t & 1) * kTileElems;
    mbarrier::wait(full_v + (t & 1), (t >> 1) & 1);
    wgmma::fence();
#pragma unroll
    for (int piece = 0; piece < kD / kPvN; ++piece) {
      float(&o_piece)[kPvN / 2] = reinterpret_cast<float(&)[kPvN / 2]>(o[0][piece * (kPvN / 8)]);
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk)
        wgmma::Mma<T, kPvN>::template rs<1>(o_piece, pa[kk], wgmma::desc(sVb + piece * (kPvN / 64) * kBlockN * 64 + kk * 16 * 64, kBlockN * 128, 1024), 1);
    }
    wgmma::commit();
  };
  // After a wait, this warp is done with the buffer.
  auto release = [&](uint64_t* empty, int t) {
    __syncwarp();
    if (lane == 0) mbarrier::arrive(empty + (t & 1));
  };
  // Pingpong turns: named barrier 1 + w is warpgroup w's turn to issue; the
  // other warpgroup's 128 threads arrive on it when they finish issuing.
  auto my_turn = [&]() {
    if constexpr (Cfg::kPingpong) asm volatile("bar.sync %0, 256;" ::"r"(1 + wg) : "memory");
  };
  auto your_turn = [&]() {
    if constexpr (Cfg::kPingpong) asm volatile("bar.arrive %0, 256;" ::"r"(2 - wg) : "memory");
  };
  auto to_p = [&](const float (&s)[1][kNTiles][4], uint32_t (&pa)[kBlockN / 16][4]) {
#pragma unroll
    for (int kk = 0; kk < kBlockN / 16; ++kk) softmax.template p_fragment<T>(s, 0, kk, pa[kk]);
  };

  // Software pipeline (FlashAttention-3's intra-warpgroup overlap): while
  // the tensor cores run P_t·V_t, the warps do tile t+1's softmax, so
  // iteration t issues Q·K_{t+1}ᵀ and P_t·V_t back to back. Every consumer
  // warpgroup runs every tile of the block (tiles it cannot see come out of
  // the mask as P = 0): no data-dependent branch between a wgmma and its
  // wait, which would make the compiler serialize them.
  // Warpgroup 0 issues first; each warpgroup takes n_tiles + 1 turns, so
  // warpgroup 0 consumes warpgroup 1's last hand-over at the end.
  if (wg == 1) your_turn();
  if (n_tiles > 0) {
    uint32_t pa[kBlockN / 16][4];
    {
      float s[1][kNTiles][4];
      float(&s_flat)[kNTiles * 4] = reinterpret_cast<float(&)[kNTiles * 4]>(s);
      my_turn();
      issue_qk(0, s_flat);
      your_turn();
      wgmma::wait<0>();
      wgmma::pin(s_flat);
      release(empty_k, 0);
      float corr[1][2];
      softmax.update(p, blk, nb_lo, kBlockN, s, corr);  // O is still zero: nothing to rescale
      to_p(s, pa);
    }
    for (int t = 0; t + 1 < n_tiles; ++t) {
      float s[1][kNTiles][4];
      float(&s_flat)[kNTiles * 4] = reinterpret_cast<float(&)[kNTiles * 4]>(s);
      my_turn();
      issue_qk(t + 1, s_flat);
      issue_pv(t, pa);
      your_turn();
      wgmma::wait<1>();
      wgmma::pin(s_flat);
      release(empty_k, t + 1);
      float corr[1][2];
      const bool moved = softmax.update(p, blk, nb_lo + t + 1, kBlockN, s, corr);
      // P_t's registers take P_{t+1} only once P·V_t has read them (the
      // compiler serializes every wgmma when a register an in-flight one
      // reads is redefined).
      wgmma::wait<0>();
      wgmma::pin(reinterpret_cast<float(&)[kDTiles * 4]>(o));
      release(empty_v, t);
      if (moved) softmax.rescale(o, corr);
      to_p(s, pa);
    }
    my_turn();
    issue_pv(n_tiles - 1, pa);
    your_turn();
    wgmma::wait<0>();
    wgmma::pin(reinterpret_cast<float(&)[kDTiles * 4]>(o));
  }
  if (wg == 0) my_turn();

  if (blk.r_base + warp_row < blk.rows) softmax.template store<T>(p, blk, o);
#endif
}

}  // namespace wf::attention
