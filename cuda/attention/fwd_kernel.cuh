// The attention forward kernel (FlashAttention-2 work partitioning), shared
// by prefill, varlen and decode; included by the per-head-dim files.
//
//   grid  (m_blocks × batch × heads [kv_heads with pack_gqa], splits); the
//         row block varies fastest so CTAs sharing K/V run together (L2)
//   block kWarps warps; warp w owns query rows [w·16·kMTiles, (w+1)·16·kMTiles)
//
//   smem  sQ [kBlockM][kD]           loaded once
//         sK [kStages][kBlockN][kD]  K tiles  ─┐ see FwdConfig::kStages for
//         sV [kStages][kBlockN][kD]  V tiles  ─┘ when each tile streams in
//
// Each warp keeps its rows' O (fp32), running max and running sum in
// registers; S = Q·K_jᵀ never leaves registers: its accumulator fragment is,
// after exp2 and a cast, exactly the A fragment of the P·V mma.
#pragma once
#include <climits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include "../common/ptx.h"
#include "attention.h"

namespace wf::attention {

template <typename T_, int kD_, int kBlockM_, int kBlockN_, int kWarps_, int kStages_, int kMinBlocks_ = 0>
struct FwdConfig {
  using T = T_;
  static constexpr int kD = kD_;            // instantiated head dim (runtime d ≤ kD)
  static constexpr int kBlockM = kBlockM_;  // query rows per CTA
  static constexpr int kBlockN = kBlockN_;  // keys per K/V tile
  static constexpr int kWarps = kWarps_;
  // 1: FlashAttention-2's schedule, one K and one V buffer (V_j streams in
  // during Q·K_jᵀ, K_{j+1} during P·V_j). 2: K and V double-buffered, tile
  // j+2 streams in during all of tile j+1's math (more smem, more in flight).
  static constexpr int kStages = kStages_;
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
  static constexpr size_t kSmemBytes = (size_t)(kBlockM + 2 * kStages * kBlockN) * kD * sizeof(T);
  static_assert(kMTiles >= 1 && kMTiles * 16 * kWarps == kBlockM, "warps split the rows into m16 tiles");
  static_assert(kBlockN % 16 == 0 && kD % 16 == 0, "P·V steps over 16 keys, Q·Kᵀ over 16 dims");
  static_assert(kThreads % kChunks == 0, "each thread copies one fixed chunk column");
  static_assert(kStages == 1 || kStages == 2, "single- or double-buffered K/V");
};

namespace detail {

// Rows are kD·2 bytes (a multiple of 128), so without a swizzle the 8 rows an
// ldmatrix phase reads would all hit the same 16-byte bank group. XOR-ing the
// chunk index with the row's low three bits spreads any 8 consecutive rows of
// one logical chunk over 8 distinct bank groups, for both the cp.async writes
// (8 threads, 8 chunks of one row) and the ldmatrix reads (8 rows, one chunk).
template <int kD>
__device__ __forceinline__ int swizzle(int row, int chunk) {
  return row * kD + ((chunk ^ (row & 7)) << 3);
}

__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

template <typename T>
__device__ __forceinline__ uint32_t pack2(float a, float b);
template <>
__device__ __forceinline__ uint32_t pack2<__half>(float a, float b) {
  __half2 h = __floats2half2_rn(a, b);
  return *reinterpret_cast<uint32_t*>(&h);
}
template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float a, float b) {
  __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<uint32_t*>(&h);
}

__device__ __forceinline__ int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Copies rows [0, R) of a tile into swizzled shared memory. row_ptr(r) gives
// the global row or null; null rows and columns past d arrive as zeros, so
// tails need no branch in the math (zero K rows are masked, zero V rows
// multiply a zero P).
template <int R, typename Cfg, typename RowPtr>
__device__ __forceinline__ void load_tile(typename Cfg::T* smem, RowPtr row_ptr, int d, const void* any) {
  constexpr int kRowsPerPass = Cfg::kThreads / Cfg::kChunks;
  static_assert(R % kRowsPerPass == 0, "every thread copies the same number of rows");
  const int c = threadIdx.x % Cfg::kChunks;
  const bool col_ok = c * 8 < d;
#pragma unroll
  for (int i = 0; i < R / kRowsPerPass; ++i) {
    const int r = threadIdx.x / Cfg::kChunks + i * kRowsPerPass;
    const typename Cfg::T* src = row_ptr(r);
    const bool ok = col_ok && src != nullptr;
    ptx::cp_async16_zfill(smem + swizzle<Cfg::kD>(r, c), ok ? src + c * 8 : any, ok ? 16 : 0);
  }
}

// The same for rows `base + r·row_stride`, r < valid: no per-row branch or
// null test, just an address and a byte count (rows past `valid` re-read
// row 0 with a zero byte count, i.e. arrive as zeros).
template <int R, typename Cfg>
__device__ __forceinline__ void load_rows(typename Cfg::T* smem, const typename Cfg::T* base, int64_t row_stride, int valid, int d) {
  constexpr int kRowsPerPass = Cfg::kThreads / Cfg::kChunks;
  static_assert(R % kRowsPerPass == 0, "every thread copies the same number of rows");
  const int c = threadIdx.x % Cfg::kChunks;
  const int r0 = threadIdx.x / Cfg::kChunks;
  const bool col_ok = c * 8 < d;
  const typename Cfg::T* src = base + (int64_t)r0 * row_stride + c * 8;
#pragma unroll
  for (int i = 0; i < R / kRowsPerPass; ++i) {
    const int r = r0 + i * kRowsPerPass;
    const bool ok = col_ok && r < valid;
    ptx::cp_async16_zfill(smem + swizzle<Cfg::kD>(r, c), ok ? src + (int64_t)i * kRowsPerPass * row_stride : base, ok ? 16 : 0);
  }
}

}  // namespace detail

template <typename Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocks) fwd_kernel(const FwdParams p) {
  using T = typename Cfg::T;
  constexpr int kD = Cfg::kD, kBlockM = Cfg::kBlockM, kBlockN = Cfg::kBlockN;
  constexpr int kMTiles = Cfg::kMTiles, kNTiles = Cfg::kNTiles, kDTiles = Cfg::kDTiles;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* sQ = reinterpret_cast<T*>(smem_raw);
  T* sK = sQ + kBlockM * kD;
  T* sV = sK + Cfg::kStages * kBlockN * kD;

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int group = p.heads / p.kv_heads;
  const bool pack_gqa = p.pack_gqa;
  const int heads_y = pack_gqa ? p.kv_heads : p.heads;
  const int m_blocks = (int)(((int64_t)p.seqlen_q * (pack_gqa ? group : 1) + kBlockM - 1) / kBlockM);
  const int bh = (int)(blockIdx.x / m_blocks);
  const int b = bh / heads_y, hy = bh % heads_y;
  const int kvh = pack_gqa ? hy : hy / group;
  // Causal: the longest row blocks (last queries) start first, so the short
  // ones fill the tail of the last wave.
  const int m_idx = (int)(blockIdx.x % m_blocks);
  const int m_block = p.window_right == 0 ? m_blocks - 1 - m_idx : m_idx;
  const int split = blockIdx.y;

  // This sequence's extents. Offsets from device arrays are clamped so that
  // a bad array gives wrong rows, never an out-of-bounds read.
  int64_t q0 = (int64_t)b * p.q_batch, o0 = (int64_t)b * p.o_batch;
  int sq = p.seqlen_q, sk = p.seqlen_k;
  int64_t q_first = 0, k_first = 0;  // first global row (varlen)
  if (p.cu_seqlens_q) {
    const int64_t s0 = detail::clampi(p.cu_seqlens_q[b], 0, (int)p.total_q);
    const int64_t s1 = detail::clampi(p.cu_seqlens_q[b + 1], (int)s0, (int)p.total_q);
    sq = (int)(s1 - s0 < p.seqlen_q ? s1 - s0 : p.seqlen_q);
    q_first = s0;
    q0 = s0 * p.q_row;
    o0 = s0 * p.o_row;
  }
  if (p.cu_seqlens_k) {
    const int64_t s0 = detail::clampi(p.cu_seqlens_k[b], 0, (int)p.total_k);
    const int64_t s1 = detail::clampi(p.cu_seqlens_k[b + 1], (int)s0, (int)p.total_k);
    sk = (int)(s1 - s0 < p.seqlen_k ? s1 - s0 : p.seqlen_k);
    k_first = s0;
  }
  if (p.seqused_k) {
    // Never past what the offsets (or seqlen_k) allow; int64 so a length near
    // 2^31 plus appended rows cannot wrap negative.
    const int64_t used = (int64_t)p.seqused_k[b] + p.seqused_k_add;
    sk = (int)(used < 0 ? 0 : (used > sk ? sk : used));
  }
  const int rows = pack_gqa ? sq * group : sq;
  const int r_base = m_block * kBlockM;
  if (r_base >= rows) return;  // varlen: this sequence is shorter than the grid

  // Row r of the tile is query position qpos(r) of head qhead(r): with
  // pack_gqa the `group` heads sharing K/V head kvh are interleaved rows.
  auto qpos = [&](int r) { return pack_gqa ? (r_base + r) / group : r_base + r; };
  auto qhead = [&](int r) { return pack_gqa ? kvh * group + (r_base + r) % group : hy; };

  // Visible keys of the whole block: [n_lo, n_hi).
  const int r_last = min(rows, r_base + kBlockM) - 1 - r_base;
  const int qmin = qpos(0), qmax = qpos(r_last);
  const int diag = sk - sq;
  int n_lo = 0, n_hi = sk;
  if (p.window_right >= 0) n_hi = min(n_hi, qmax + diag + p.window_right + 1);
  if (p.window_left >= 0) n_lo = max(0, qmin + diag - p.window_left);
  int nb_lo = n_lo / kBlockN;
  int nb_hi = n_hi > n_lo ? (n_hi + kBlockN - 1) / kBlockN : nb_lo;
  if (p.num_splits > 1) {
    const int per = (nb_hi - nb_lo + p.num_splits - 1) / p.num_splits;
    nb_lo = min(nb_hi, nb_lo + split * per);
    nb_hi = min(nb_hi, nb_lo + per);
  }

  const T* qg = static_cast<const T*>(p.q) + q0;
  const T* kg = static_cast<const T*>(p.k) + (int64_t)kvh * p.k_head;
  const T* vg = static_cast<const T*>(p.v) + (int64_t)kvh * p.v_head;
  const int32_t* table = p.block_table ? p.block_table + (int64_t)b * p.block_table_stride : nullptr;
  if (!table) {
    kg += p.cu_seqlens_k ? k_first * p.k_row : (int64_t)b * p.k_batch;
    vg += p.cu_seqlens_k ? k_first * p.v_row : (int64_t)b * p.v_batch;
  }
  // Global offset of key n (a row of K; the same row of V with V's strides).
  auto kv_row = [&](int n, int64_t batch_stride, int64_t row_stride) -> int64_t {
    const int page = detail::clampi(table[n / p.page_size], 0, p.num_pages - 1);
    return (int64_t)page * batch_stride + (int64_t)(n % p.page_size) * row_stride;
  };

  if (pack_gqa) {
    detail::load_tile<kBlockM, Cfg>(sQ, [&](int r) -> const T* {
      return r_base + r < rows ? qg + (int64_t)qpos(r) * p.q_row + (int64_t)qhead(r) * p.q_head : nullptr;
    }, p.d, p.q);
  } else {
    detail::load_rows<kBlockM, Cfg>(sQ, qg + (int64_t)r_base * p.q_row + (int64_t)hy * p.q_head, p.q_row, rows - r_base, p.d);
  }
  // Contiguous caches address a row with one multiply; only paged ones look
  // up the block table (a uniform branch per tile, not per row).
  auto load_kv = [&](T* dst, const T* base, int nb, int64_t page_stride, int64_t row_stride, const void* any) {
    if (!table) {
      detail::load_rows<kBlockN, Cfg>(dst, base + (int64_t)nb * kBlockN * row_stride, row_stride, sk - nb * kBlockN, p.d);
    } else {
      detail::load_tile<kBlockN, Cfg>(dst, [&](int r) -> const T* {
        const int n = nb * kBlockN + r;
        return n < sk ? base + kv_row(n, page_stride, row_stride) : nullptr;
      }, p.d, any);
    }
  };
  auto load_k = [&](int nb, int buf) { load_kv(sK + buf * kBlockN * kD, kg, nb, p.k_batch, p.k_row, p.k); };
  auto load_v = [&](int nb, int buf) { load_kv(sV + buf * kBlockN * kD, vg, nb, p.v_batch, p.v_row, p.v); };

  float acc_o[kMTiles][kDTiles][4];
  float row_max[kMTiles][2], row_sum[kMTiles][2];
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int dt = 0; dt < kDTiles; ++dt)
#pragma unroll
      for (int i = 0; i < 4; ++i) acc_o[mt][dt][i] = 0.f;
    row_max[mt][0] = row_max[mt][1] = -CUDART_INF_F;
    row_sum[mt][0] = row_sum[mt][1] = 0.f;
  }
  // With a softcap the exponent works on capped scores; otherwise the scale
  // is folded into the exp2 argument (one FFMA per score).
  const bool capped = p.softcap > 0.f;
  const float sl2 = capped ? 1.4426950408889634f : p.scale * 1.4426950408889634f;
  const float cap_in = capped ? p.scale / p.softcap : 0.f;
  const int warp_row = warp * 16 * kMTiles;
  // Warps whose rows are all past the end (decode tiles with few rows) only
  // help copy; they skip the math.
  const bool warp_live = r_base + warp_row < rows;
  // A tile no row of this warp can see (the far side of the causal diagonal
  // or of a window) adds nothing: P = 0 and the row maxima stay. Skipping its
  // math saves about a quarter of the diagonal tiles' work.
  const int warp_qlo = warp_live ? qpos(warp_row) : 0;
  const int warp_qhi = warp_live ? qpos(min(warp_row + 16 * kMTiles, rows - r_base) - 1) : 0;
  auto warp_sees = [&](int nb) {
    const int n0 = nb * kBlockN;
    if (!warp_live) return false;
    if (p.window_right >= 0 && n0 > warp_qhi + diag + p.window_right) return false;
    if (p.window_left >= 0 && n0 + kBlockN - 1 < warp_qlo + diag - p.window_left) return false;
    return true;
  };

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
          ptx::ldmatrix_x4(qa[mt], sQ + detail::swizzle<kD>(warp_row + mt * 16 + (lane & 15), ks * 2 + (lane >> 4)));
#pragma unroll
        for (int np = 0; np < kNTiles / 2; ++np) {
          // Lanes 0-7 / 8-15 address keys np·16+0..7 at dims ks·16+0..7 / +8..15
          // (b0, b1 of n-tile 2np); lanes 16-31 the same for keys +8..15.
          uint32_t kb[4];
          ptx::ldmatrix_x4(kb, sKb + detail::swizzle<kD>(np * 16 + (lane & 7) + ((lane >> 4) << 3), ks * 2 + ((lane >> 3) & 1)));
          const uint32_t b0[2] = {kb[0], kb[1]}, b1[2] = {kb[2], kb[3]};
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) {
            ptx::mma_16816<T>(s[mt][2 * np], qa[mt], b0);
            ptx::mma_16816<T>(s[mt][2 * np + 1], qa[mt], b1);
          }
        }
      }

      if (capped) {
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
          for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
            for (int i = 0; i < 4; ++i) s[mt][nt][i] = p.softcap * tanhf(s[mt][nt][i] * cap_in);
      }

      // Only tiles that cross the sequence end or a window edge are masked.
      const int n0 = nb * kBlockN;
      const bool need_mask = n0 + kBlockN > sk ||
                             (p.window_right >= 0 && n0 + kBlockN - 1 > qmin + diag + p.window_right) ||
                             (p.window_left >= 0 && n0 < qmax + diag - p.window_left);
      if (need_mask) {
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf) {
            const int qp = qpos(warp_row + mt * 16 + (lane >> 2) + 8 * hf);
            // Bounds relative to this thread's first column, so each score
            // is compared with a compile-time offset nt·8 + j.
            const int col0 = n0 + 2 * (lane & 3);
            int hi = sk;
            if (p.window_right >= 0) hi = min(hi, qp + diag + p.window_right + 1);
            const int hi_rel = hi - col0;
            const int lo_rel = p.window_left >= 0 ? qp + diag - p.window_left - col0 : INT_MIN;
#pragma unroll
            for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
              for (int j = 0; j < 2; ++j)
                if (nt * 8 + j >= hi_rel || nt * 8 + j < lo_rel) s[mt][nt][2 * hf + j] = -CUDART_INF_F;
          }
      }

      // Online softmax. A thread holds two rows per m-tile (lane/4 and
      // lane/4 + 8); the 4 threads of a quad hold the rest of those rows.
      float corr[kMTiles][2];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int hf = 0; hf < 2; ++hf) {
          float mx = row_max[mt][hf];
#pragma unroll
          for (int nt = 0; nt < kNTiles; ++nt) mx = fmaxf(mx, fmaxf(s[mt][nt][2 * hf], s[mt][nt][2 * hf + 1]));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
          // A row with nothing visible yet keeps max -inf; subtract 0 then
          // so exp2 gives 0, not NaN.
          const float m_scaled = mx == -CUDART_INF_F ? 0.f : mx * sl2;
          corr[mt][hf] = detail::exp2_approx(row_max[mt][hf] * sl2 - m_scaled);
          row_max[mt][hf] = mx;
          row_sum[mt][hf] *= corr[mt][hf];
          float sum = 0.f;
#pragma unroll
          for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
            for (int j = 0; j < 2; ++j) {
              const float e = detail::exp2_approx(fmaf(s[mt][nt][2 * hf + j], sl2, -m_scaled));
              s[mt][nt][2 * hf + j] = e;
              sum += e;
            }
          row_sum[mt][hf] += sum;
        }
      // Once a row's maximum settles (most tiles of a long row) its
      // correction is exactly 1: skip rescaling O when no row in the warp moved.
      bool moved = false;
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) moved |= corr[mt][0] != 1.f || corr[mt][1] != 1.f;
      if (__any_sync(0xffffffffu, moved)) {
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
          for (int dt = 0; dt < kDTiles; ++dt) {
            acc_o[mt][dt][0] *= corr[mt][0];
            acc_o[mt][dt][1] *= corr[mt][0];
            acc_o[mt][dt][2] *= corr[mt][1];
            acc_o[mt][dt][3] *= corr[mt][1];
          }
      }
  };
  // O += P·V_nb.
  auto accumulate = [&](const T* sVb, STile& s) {
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk) {
        // S's accumulator layout for keys kk·16..+15 is the m16k16 A layout.
        uint32_t pa[kMTiles][4];
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          pa[mt][0] = detail::pack2<T>(s[mt][2 * kk][0], s[mt][2 * kk][1]);
          pa[mt][1] = detail::pack2<T>(s[mt][2 * kk][2], s[mt][2 * kk][3]);
          pa[mt][2] = detail::pack2<T>(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
          pa[mt][3] = detail::pack2<T>(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
        }
#pragma unroll
        for (int dp = 0; dp < kD / 16; ++dp) {
          // Transposed: lanes 0-7 / 8-15 address keys kk·16+0..7 / +8..15 at
          // dims dp·16+0..7 (b0, b1 of d-tile 2dp); lanes 16-31 dims +8..15.
          uint32_t vb[4];
          ptx::ldmatrix_x4_trans(vb, sVb + detail::swizzle<kD>(kk * 16 + (lane & 7) + (((lane >> 3) & 1) << 3), dp * 2 + (lane >> 4)));
          const uint32_t b0[2] = {vb[0], vb[1]}, b1[2] = {vb[2], vb[3]};
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) {
            ptx::mma_16816<T>(acc_o[mt][2 * dp], pa[mt], b0);
            ptx::mma_16816<T>(acc_o[mt][2 * dp + 1], pa[mt], b1);
          }
        }
      }
  };

  if constexpr (Cfg::kStages == 1) {
    ptx::cp_async_commit();
    if (nb_lo < nb_hi) load_k(nb_lo, 0);
    ptx::cp_async_commit();
    for (int nb = nb_lo; nb < nb_hi; ++nb) {
      ptx::cp_async_wait<0>();
      __syncthreads();  // K_nb (and Q) landed; every warp is done with V_{nb-1}
      load_v(nb, 0);
      ptx::cp_async_commit();
      float s[kMTiles][kNTiles][4];
      const bool sees = warp_sees(nb);
      if (sees) scores(nb, sK, s);
      ptx::cp_async_wait<0>();
      __syncthreads();  // V_nb landed; every warp is done with K_nb
      if (nb + 1 < nb_hi) load_k(nb + 1, 0);
      ptx::cp_async_commit();
      if (sees) accumulate(sV, s);
    }
  } else {
    // Groups: {Q, K/V lo}, {K/V lo+1}, then one per iteration (possibly
    // empty), so "all but the newest group" is always tile nb.
    if (nb_lo < nb_hi) { load_k(nb_lo, 0); load_v(nb_lo, 0); }
    ptx::cp_async_commit();
    if (nb_lo + 1 < nb_hi) { load_k(nb_lo + 1, 1); load_v(nb_lo + 1, 1); }
    ptx::cp_async_commit();
    for (int nb = nb_lo; nb < nb_hi; ++nb) {
      const int buf = (nb - nb_lo) & 1;
      ptx::cp_async_wait<1>();
      __syncthreads();  // tile nb landed
      float s[kMTiles][kNTiles][4];
      if (warp_sees(nb)) {
        scores(nb, sK + buf * kBlockN * kD, s);
        accumulate(sV + buf * kBlockN * kD, s);
      }
      __syncthreads();  // every warp is done with buffer `buf`
      if (nb + 2 < nb_hi) { load_k(nb + 2, buf); load_v(nb + 2, buf); }
      ptx::cp_async_commit();
    }
  }
  ptx::cp_async_wait<0>();  // no copy may still target smem when the CTA exits

  if (!warp_live) return;
  const bool split_out = p.num_splits > 1;
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      float sum = row_sum[mt][hf];
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      sum += __shfl_xor_sync(0xffffffffu, sum, 2);
      const int r = warp_row + mt * 16 + (lane >> 2) + 8 * hf;
      if (r_base + r >= rows) continue;
      const int qp = qpos(r), h = qhead(r);
      // A row that saw no key (window, causal with Sq > Sk, empty cache)
      // outputs zeros and lse = -inf.
      const float inv = sum > 0.f ? 1.f / sum : 0.f;
      const float lse = sum > 0.f ? row_max[mt][hf] * sl2 * 0.6931471805599453f + __logf(sum) : -CUDART_INF_F;
      if (split_out) {
        const int64_t row = (((int64_t)split * p.batch + b) * p.heads + h) * p.seqlen_q + qp;
        float* o = p.o_accum + row * p.d;
#pragma unroll
        for (int dt = 0; dt < kDTiles; ++dt) {
          const int col = dt * 8 + 2 * (lane & 3);
          if (col < p.d) *reinterpret_cast<float2*>(o + col) = make_float2(acc_o[mt][dt][2 * hf] * inv, acc_o[mt][dt][2 * hf + 1] * inv);
        }
        if ((lane & 3) == 0) p.lse_accum[row] = lse;
      } else {
        T* o = static_cast<T*>(p.out) + o0 + (int64_t)qp * p.o_row + (int64_t)h * p.o_head;
#pragma unroll
        for (int dt = 0; dt < kDTiles; ++dt) {
          const int col = dt * 8 + 2 * (lane & 3);
          if (col < p.d)
            *reinterpret_cast<uint32_t*>(o + col) = detail::pack2<T>(acc_o[mt][dt][2 * hf] * inv, acc_o[mt][dt][2 * hf + 1] * inv);
        }
        if (p.lse && (lane & 3) == 0) {
          // Varlen rows are global ([H, total_q]); fixed ones per batch.
          const int64_t lrow = p.cu_seqlens_q ? q_first + qp : (int64_t)b * p.lse_batch + qp;
          p.lse[(int64_t)h * p.lse_head + lrow] = lse;
        }
      }
    }
}

}  // namespace wf::attention
