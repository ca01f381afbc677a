// The attention forward kernel (FlashAttention-2 work partitioning), shared
// by prefill, varlen and decode; included by the per-head-dim files.
//
//   grid  (m_blocks × batch × heads [kv_heads with pack_gqa], splits); the
//         row block varies fastest so CTAs sharing K/V run together (L2)
//   block kWarps warps; warp w owns query rows [w·16·kMTiles, (w+1)·16·kMTiles)
//
//   smem  sQ [kBlockM][kD]  loaded once
//         sK [kBlockN][kD]  K tile  ─┐ FlashAttention-2's schedule: V_j streams
//         sV [kBlockN][kD]  V tile  ─┘ in during Q·K_jᵀ, K_{j+1} during P·V_j
//
// Each warp keeps its rows' O (fp32), running max and running sum in
// registers; S = Q·K_jᵀ never leaves registers: its accumulator fragment is,
// after exp2 and a cast, exactly the A fragment of the P·V mma.
#pragma once
#include "softmax.cuh"

namespace wf::attention {

template <typename T_, int kD_, int kBlockM_, int kBlockN_, int kWarps_, int kMinBlocks_ = 0>
struct FwdConfig {
  using T = T_;
  static constexpr int kD = kD_;            // instantiated head dim (runtime d ≤ kD)
  static constexpr int kBlockM = kBlockM_;  // query rows per CTA
  static constexpr int kBlockN = kBlockN_;  // keys per K/V tile
  static constexpr int kWarps = kWarps_;
  static constexpr int kThreads = kWarps * 32;
  // 8 warps at kD ≤ 128 fit in 128 registers: ask for two CTAs per SM, so
  // one CTA's barrier stalls overlap the other's math. Larger tiles would
  // spill under that cap.
  // kMinBlocks_ > 0 overrides (experiments in the harness).
  static constexpr int kMinBlocks = kMinBlocks_ > 0 ? kMinBlocks_ : (kWarps == 8 && kD <= 128 ? 2 : 1);
  static constexpr int kMTiles = kBlockM / (16 * kWarps);  // m16 row tiles per warp
  static constexpr int kNTiles = kBlockN / 8;              // n8 tiles of S per row tile
  static constexpr int kDTiles = kD / 8;                   // n8 tiles of O per row tile
  static constexpr int kChunks = kD / 8;                   // 16-byte chunks per row
  static constexpr size_t kSmemBytes = (size_t)(kBlockM + 2 * kBlockN) * kD * sizeof(T);
  static_assert(kMTiles >= 1 && kMTiles * 16 * kWarps == kBlockM, "warps split the rows into m16 tiles");
  static_assert(kBlockN % 16 == 0 && kD % 16 == 0, "P·V steps over 16 keys, Q·Kᵀ over 16 dims");
  static_assert(kThreads % kChunks == 0, "each thread copies one fixed chunk column");
};

namespace detail {

// Rows are kD·2 bytes (a multiple of 128), so without a swizzle the 8 rows an
// ldmatrix phase reads would all hit the same 16-byte bank group. XOR-ing the
// chunk index with the row's low three bits spreads any 8 consecutive rows of
// one logical chunk over 8 distinct bank groups, for both the cp.async writes
// (8 threads, 8 chunks of one row) and the ldmatrix reads (8 rows, one chunk).
template <int kD>
struct RowSwizzle {
  template <int R>
  __device__ __forceinline__ static int offset(int row, int chunk) { return row * kD + ((chunk ^ (row & 7)) << 3); }
};

}  // namespace detail

template <typename Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocks) fwd_kernel(const FwdParams p) {
  using T = typename Cfg::T;
  constexpr int kD = Cfg::kD, kBlockM = Cfg::kBlockM, kBlockN = Cfg::kBlockN;
  constexpr int kMTiles = Cfg::kMTiles, kNTiles = Cfg::kNTiles, kDTiles = Cfg::kDTiles;
  using Swz = detail::RowSwizzle<kD>;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* sQ = reinterpret_cast<T*>(smem_raw);
  T* sK = sQ + kBlockM * kD;
  T* sV = sK + kBlockN * kD;

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  detail::Block blk;
  if (!detail::make_block(p, kBlockM, kBlockN, blk)) return;
  const int nb_lo = blk.nb_lo, nb_hi = blk.nb_hi;
  const detail::TileLoader<T, Swz, kD, Cfg::kThreads> load(p, blk);
  load.template q<kBlockM>(sQ);
  auto load_k = [&](int nb) { load.template k<kBlockN>(sK, nb); };
  auto load_v = [&](int nb) { load.template v<kBlockN>(sV, nb); };

  float acc_o[kMTiles][kDTiles][4];
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int dt = 0; dt < kDTiles; ++dt)
#pragma unroll
      for (int i = 0; i < 4; ++i) acc_o[mt][dt][i] = 0.f;
  const int warp_row = warp * 16 * kMTiles;
  detail::OnlineSoftmax<kMTiles, kNTiles> softmax(p, warp_row);
  // Warps whose rows are all past the end (decode tiles with few rows) only
  // help copy; they skip the math, as do warps none of whose rows can see a
  // tile (about a quarter of the diagonal tiles' work).
  const bool warp_live = blk.r_base + warp_row < blk.rows;
  auto warp_sees = [&](int nb) { return blk.sees(p, nb, kBlockN, warp_row, warp_row + 16 * kMTiles); };

  // Q·K_nbᵀ, masking and the online-softmax update of one tile; S ends as P.
  using STile = float[kMTiles][kNTiles][4];
  auto scores = [&](int nb, const T* sKb, STile& s) {
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
        for (int i = 0; i < 4; ++i) s[mt][nt][i] = 0.f;
#pragma unroll
    for (int ks = 0; ks < kD / 16; ++ks) {
      uint32_t qa[kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
        ptx::ldmatrix_x4(qa[mt], sQ + Swz::template offset<kBlockM>(warp_row + mt * 16 + (lane & 15), ks * 2 + (lane >> 4)));
#pragma unroll
      for (int np = 0; np < kNTiles / 2; ++np) {
        // Lanes 0-7 / 8-15 address keys np·16+0..7 at dims ks·16+0..7 / +8..15
        // (b0, b1 of n-tile 2np); lanes 16-31 the same for keys +8..15.
        uint32_t kb[4];
        ptx::ldmatrix_x4(kb, sKb + Swz::template offset<kBlockN>(np * 16 + (lane & 7) + ((lane >> 4) << 3), ks * 2 + ((lane >> 3) & 1)));
        const uint32_t b0[2] = {kb[0], kb[1]}, b1[2] = {kb[2], kb[3]};
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          ptx::mma_16816<T>(s[mt][2 * np], qa[mt], b0);
          ptx::mma_16816<T>(s[mt][2 * np + 1], qa[mt], b1);
        }
      }
    }
    float corr[kMTiles][2];
    if (softmax.update(p, blk, nb, kBlockN, s, corr)) softmax.rescale(acc_o, corr);
  };
  // O += P·V_nb.
  auto accumulate = [&](const T* sVb, STile& s) {
#pragma unroll
    for (int kk = 0; kk < kBlockN / 16; ++kk) {
      uint32_t pa[kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) softmax.template p_fragment<T>(s, mt, kk, pa[mt]);
#pragma unroll
      for (int dp = 0; dp < kD / 16; ++dp) {
        // Transposed: lanes 0-7 / 8-15 address keys kk·16+0..7 / +8..15 at
        // dims dp·16+0..7 (b0, b1 of d-tile 2dp); lanes 16-31 dims +8..15.
        uint32_t vb[4];
        ptx::ldmatrix_x4_trans(vb, sVb + Swz::template offset<kBlockN>(kk * 16 + (lane & 7) + (((lane >> 3) & 1) << 3), dp * 2 + (lane >> 4)));
        const uint32_t b0[2] = {vb[0], vb[1]}, b1[2] = {vb[2], vb[3]};
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          ptx::mma_16816<T>(acc_o[mt][2 * dp], pa[mt], b0);
          ptx::mma_16816<T>(acc_o[mt][2 * dp + 1], pa[mt], b1);
        }
      }
    }
  };

  ptx::cp_async_commit();
  if (nb_lo < nb_hi) load_k(nb_lo);
  ptx::cp_async_commit();
  for (int nb = nb_lo; nb < nb_hi; ++nb) {
    ptx::cp_async_wait<0>();
    __syncthreads();  // K_nb (and Q) landed; every warp is done with V_{nb-1}
    load_v(nb);
    ptx::cp_async_commit();
    float s[kMTiles][kNTiles][4];
    const bool sees = warp_sees(nb);
    if (sees) scores(nb, sK, s);
    ptx::cp_async_wait<0>();
    __syncthreads();  // V_nb landed; every warp is done with K_nb
    if (nb + 1 < nb_hi) load_k(nb + 1);
    ptx::cp_async_commit();
    if (sees) accumulate(sV, s);
  }
  ptx::cp_async_wait<0>();  // no copy may still target smem when the CTA exits

  if (warp_live) softmax.template store<T>(p, blk, acc_o);
}

}  // namespace wf::attention
