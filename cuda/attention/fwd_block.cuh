// One CTA's share of an attention forward and the copies that feed it,
// shared by the mma.sync kernel (fwd_kernel.cuh) and the Hopper wgmma one
// (fwd_hopper.cuh): which (batch, head, row block, split) it is, which keys
// it can see, and how a tile of Q, K or V rows lands in shared memory.
#pragma once
#include <cstdint>

#include "../common/clamp.h"
#include "../common/ptx.h"
#include "attention.h"

namespace wf::attention::detail {

struct Block {
  int b, hy, kvh, split, group;
  bool pack_gqa;
  int sq, sk, rows, r_base, diag;  // rows: tile rows of this (b, hy); r_base: the first of this CTA
  int64_t q_first, k_first, q0, o0;
  int qmin, qmax;                  // query positions of the first and last row
  int nb_lo, nb_hi;                // K/V tiles [nb_lo, nb_hi) of this split

  // Row r of the tile is query position qpos(r) of head qhead(r): with
  // pack_gqa the `group` heads sharing K/V head kvh are interleaved rows.
  __device__ __forceinline__ int qpos(int r) const { return pack_gqa ? (r_base + r) / group : r_base + r; }
  __device__ __forceinline__ int qhead(int r) const { return pack_gqa ? kvh * group + (r_base + r) % group : hy; }

  // Whether any of rows [lo, hi) (hi > lo) can see a key of tile nb: the far
  // side of the causal diagonal or of a window adds nothing (P = 0, maxima
  // stay), so its math can be skipped.
  __device__ __forceinline__ bool sees(const FwdParams& p, int nb, int block_n, int lo, int hi) const {
    const int n0 = nb * block_n;
    if (r_base + lo >= rows) return false;
    const int q_lo = qpos(lo), q_hi = qpos(min(hi, rows - r_base) - 1);
    if (p.window_right >= 0 && n0 > q_hi + diag + p.window_right) return false;
    if (p.window_left >= 0 && n0 + block_n - 1 < q_lo + diag - p.window_left) return false;
    return true;
  }
  // Only tiles that cross the sequence end or a window edge need a mask.
  __device__ __forceinline__ bool needs_mask(const FwdParams& p, int nb, int block_n) const {
    const int n0 = nb * block_n;
    return n0 + block_n > sk || (p.window_right >= 0 && n0 + block_n - 1 > qmin + diag + p.window_right) ||
           (p.window_left >= 0 && n0 < qmax + diag - p.window_left);
  }
};

// Fills `blk` for this CTA (grid: x = row block fastest, then batch × heads
// [kv_heads with pack_gqa]; y = split). False: no rows here (a short varlen
// sequence under a grid sized for the longest).
__device__ __forceinline__ bool make_block(const FwdParams& p, int block_m, int block_n, Block& blk) {
  blk.group = p.heads / p.kv_heads;
  blk.pack_gqa = p.pack_gqa;
  const int heads_y = blk.pack_gqa ? p.kv_heads : p.heads;
  const int m_blocks = (int)(((int64_t)p.seqlen_q * (blk.pack_gqa ? blk.group : 1) + block_m - 1) / block_m);
  const int bh = (int)(blockIdx.x / m_blocks);
  blk.b = bh / heads_y;
  blk.hy = bh % heads_y;
  blk.kvh = blk.pack_gqa ? blk.hy : blk.hy / blk.group;
  // Causal: the longest row blocks (last queries) start first, so the short
  // ones fill the tail of the last wave.
  const int m_idx = (int)(blockIdx.x % m_blocks);
  const int m_block = p.window_right == 0 ? m_blocks - 1 - m_idx : m_idx;
  blk.split = blockIdx.y;

  // Offsets from device arrays are clamped so that a bad array gives wrong
  // rows, never an out-of-bounds read.
  blk.q0 = (int64_t)blk.b * p.q_batch;
  blk.o0 = (int64_t)blk.b * p.o_batch;
  blk.sq = p.seqlen_q;
  blk.sk = p.seqlen_k;
  blk.q_first = blk.k_first = 0;
  if (p.cu_seqlens_q) {
    const int64_t s0 = clampi(p.cu_seqlens_q[blk.b], 0, (int)p.total_q);
    const int64_t s1 = clampi(p.cu_seqlens_q[blk.b + 1], (int)s0, (int)p.total_q);
    blk.sq = (int)(s1 - s0 < p.seqlen_q ? s1 - s0 : p.seqlen_q);
    blk.q_first = s0;
    blk.q0 = s0 * p.q_row;
    blk.o0 = s0 * p.o_row;
  }
  if (p.cu_seqlens_k) {
    const int64_t s0 = clampi(p.cu_seqlens_k[blk.b], 0, (int)p.total_k);
    const int64_t s1 = clampi(p.cu_seqlens_k[blk.b + 1], (int)s0, (int)p.total_k);
    blk.sk = (int)(s1 - s0 < p.seqlen_k ? s1 - s0 : p.seqlen_k);
    blk.k_first = s0;
  }
  if (p.seqused_k) {
    // Never past what the offsets (or seqlen_k) allow; int64 so a length near
    // 2^31 plus appended rows cannot wrap negative.
    const int64_t used = (int64_t)p.seqused_k[blk.b] + p.seqused_k_add;
    blk.sk = (int)(used < 0 ? 0 : (used > blk.sk ? blk.sk : used));
  }
  blk.rows = blk.pack_gqa ? blk.sq * blk.group : blk.sq;
  blk.r_base = m_block * block_m;
  if (blk.r_base >= blk.rows) return false;

  // Visible keys of the whole block: [n_lo, n_hi).
  const int r_last = min(blk.rows, blk.r_base + block_m) - 1 - blk.r_base;
  blk.qmin = blk.qpos(0);
  blk.qmax = blk.qpos(r_last);
  blk.diag = blk.sk - blk.sq;
  int n_lo = 0, n_hi = blk.sk;
  if (p.window_right >= 0) n_hi = min(n_hi, blk.qmax + blk.diag + p.window_right + 1);
  if (p.window_left >= 0) n_lo = max(0, blk.qmin + blk.diag - p.window_left);
  blk.nb_lo = n_lo / block_n;
  blk.nb_hi = n_hi > n_lo ? (n_hi + block_n - 1) / block_n : blk.nb_lo;
  if (p.num_splits > 1) {
    const int per = (blk.nb_hi - blk.nb_lo + p.num_splits - 1) / p.num_splits;
    blk.nb_lo = min(blk.nb_hi, blk.nb_lo + blk.split * per);
    blk.nb_hi = min(blk.nb_hi, blk.nb_lo + per);
  }
  return true;
}

// Copies tiles of 16-byte chunks (8 elements) of Q, K or V rows into shared
// memory at Layout::offset<R>(row, chunk) (R: the tile's rows). Threads copy
// along a row first, so a warp reads whole rows from global memory. Rows
// past the valid range and chunks past d arrive as zeros, so tails need no
// branch in the math (zero K rows are masked, zero V rows multiply a zero P).
template <typename T, typename Layout, int kD, int kThreads>
struct TileLoader {
  static constexpr int kChunks = kD / 8;
  static constexpr int kRowsPerPass = kThreads / kChunks;
  static_assert(kThreads % kChunks == 0, "each thread copies one fixed chunk column");

  const FwdParams& p;
  const Block& blk;
  const T* qg;
  const T* kg;
  const T* vg;
  const int32_t* table;  // paged KV, or null

  __device__ __forceinline__ TileLoader(const FwdParams& p_, const Block& b_) : p(p_), blk(b_) {
    qg = static_cast<const T*>(p.q) + blk.q0;
    kg = static_cast<const T*>(p.k) + (int64_t)blk.kvh * p.k_head;
    vg = static_cast<const T*>(p.v) + (int64_t)blk.kvh * p.v_head;
    table = p.block_table ? p.block_table + (int64_t)blk.b * p.block_table_stride : nullptr;
    if (!table) {
      kg += p.cu_seqlens_k ? blk.k_first * p.k_row : (int64_t)blk.b * p.k_batch;
      vg += p.cu_seqlens_k ? blk.k_first * p.v_row : (int64_t)blk.b * p.v_batch;
    }
  }

  // Rows [0, R): row_ptr(r) gives the global row or null.
  template <int R, typename RowPtr>
  __device__ __forceinline__ void rows_by(T* smem, RowPtr row_ptr, const void* any) const {
    static_assert(R % kRowsPerPass == 0, "every thread copies the same number of rows");
    const int c = threadIdx.x % kChunks;
    const bool col_ok = c * 8 < p.d;
#pragma unroll
    for (int i = 0; i < R / kRowsPerPass; ++i) {
      const int r = threadIdx.x / kChunks + i * kRowsPerPass;
      const T* src = row_ptr(r);
      const bool ok = col_ok && src != nullptr;
      ptx::cp_async16_zfill(smem + Layout::template offset<R>(r, c), ok ? src + c * 8 : any, ok ? 16 : 0);
    }
  }

  // Rows `base + r·row_stride`, r < valid: no per-row branch or null test,
  // just an address and a byte count (rows past `valid` re-read row 0 with a
  // zero byte count, i.e. arrive as zeros).
  template <int R>
  __device__ __forceinline__ void rows_strided(T* smem, const T* base, int64_t row_stride, int valid) const {
    static_assert(R % kRowsPerPass == 0, "every thread copies the same number of rows");
    const int c = threadIdx.x % kChunks;
    const int r0 = threadIdx.x / kChunks;
    const bool col_ok = c * 8 < p.d;
    const T* src = base + (int64_t)r0 * row_stride + c * 8;
#pragma unroll
    for (int i = 0; i < R / kRowsPerPass; ++i) {
      const int r = r0 + i * kRowsPerPass;
      const bool ok = col_ok && r < valid;
      ptx::cp_async16_zfill(smem + Layout::template offset<R>(r, c), ok ? src + (int64_t)i * kRowsPerPass * row_stride : base,
                            ok ? 16 : 0);
    }
  }

  template <int kBlockM>
  __device__ __forceinline__ void q(T* sQ) const {
    if (blk.pack_gqa) {
      rows_by<kBlockM>(sQ, [&](int r) -> const T* {
        return blk.r_base + r < blk.rows ? qg + (int64_t)blk.qpos(r) * p.q_row + (int64_t)blk.qhead(r) * p.q_head : nullptr;
      }, p.q);
    } else {
      rows_strided<kBlockM>(sQ, qg + (int64_t)blk.r_base * p.q_row + (int64_t)blk.hy * p.q_head, p.q_row, blk.rows - blk.r_base);
    }
  }

  // Contiguous caches address a row with one multiply; only paged ones look
  // up the block table (a uniform branch per tile, not per row).
  template <int kBlockN>
  __device__ __forceinline__ void kv(T* dst, const T* base, int nb, int64_t page_stride, int64_t row_stride, const void* any) const {
    if (!table) {
      rows_strided<kBlockN>(dst, base + (int64_t)nb * kBlockN * row_stride, row_stride, blk.sk - nb * kBlockN);
    } else {
      rows_by<kBlockN>(dst, [&](int r) -> const T* {
        const int n = nb * kBlockN + r;
        if (n >= blk.sk) return nullptr;
        const int page = clampi(table[n / p.page_size], 0, p.num_pages - 1);
        return base + (int64_t)page * page_stride + (int64_t)(n % p.page_size) * row_stride;
      }, any);
    }
  }
  template <int kBlockN>
  __device__ __forceinline__ void k(T* dst, int nb) const { kv<kBlockN>(dst, kg, nb, p.k_batch, p.k_row, p.k); }
  template <int kBlockN>
  __device__ __forceinline__ void v(T* dst, int nb) const { kv<kBlockN>(dst, vg, nb, p.v_batch, p.v_row, p.v); }
};

}  // namespace wf::attention::detail
