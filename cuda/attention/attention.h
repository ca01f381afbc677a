// Fused attention (FlashAttention-2 style) on tensor cores: prefill, packed
// variable-length batches, and decode over a (paged) KV cache with split-KV.
// One params struct crosses from the binding into the launchers; nothing
// here knows about Node.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>

#include "../common/dtype.h"
#include "../common/status.h"

namespace wf::attention {

// out = softmax(mask(cap(q·kᵀ·scale)))·v for every (batch, head, query row).
// All strides are in elements; the last dimension (head dim) is contiguous.
struct FwdParams {
  const void* q;        // rows of [.., Sq, H, D] (any batch/row/head strides)
  const void* k;        // rows of [.., Sk, Hkv, D]; paged: [pages, page_size, Hkv, D]
  const void* v;        // as k
  void* out;            // as q
  float* lse;           // natural-log row sums, or null: lse[b*lse_batch + h*lse_head + row]
  int64_t q_batch, q_row, q_head;
  int64_t k_batch, k_row, k_head;   // paged: k_batch is the page stride
  int64_t v_batch, v_row, v_head;
  int64_t o_batch, o_row, o_head;
  int64_t lse_batch, lse_head;
  int batch, heads, kv_heads;       // heads % kv_heads == 0 (GQA/MQA read shared K/V rows)
  int d;                            // head dim: a multiple of 8, ≤ 256
  // Fixed lengths, or the maxima when lengths come from the arrays below.
  int seqlen_q, seqlen_k;
  // Packed variable-length batches: row offsets [batch + 1]; q/out (and k/v)
  // rows are global, the batch strides unused. total_* bound every offset so
  // bad offsets clamp instead of reading out of bounds.
  const int32_t* cu_seqlens_q;
  const int32_t* cu_seqlens_k;
  int64_t total_q, total_k;
  // Decode: valid K rows per sequence ([batch]) plus rows appended in the
  // same call; clamped to [0, seqlen_k].
  const int32_t* seqused_k;
  int seqused_k_add;
  // Paged KV: block_table[b * block_table_stride + i] is the page holding
  // rows [i·page_size, (i+1)·page_size) of sequence b.
  const int32_t* block_table;
  int64_t block_table_stride;
  int page_size, num_pages;
  float scale;                      // applied to q·kᵀ
  float softcap;                    // > 0: s = softcap·tanh(s/softcap)
  // Keys j visible from query i satisfy i + Sk - Sq - left ≤ j ≤ i + Sk - Sq + right
  // (bottom-right aligned); -1 = unbounded. Causal is right = 0.
  int window_left, window_right;
  DType dtype;                      // Float16 or BFloat16 (q, k, v, out)
  // Set by launch_fwd from the plan: the `heads / kv_heads` query heads that
  // share a K/V head are interleaved rows of one tile (grid.y = batch × kv_heads).
  bool pack_gqa;
  // Split-KV (decode): each split writes fp32 partials that combine() merges.
  int num_splits;
  float* o_accum;                   // [splits][batch][heads][seqlen_q][d]
  float* lse_accum;                 // [splits][batch][heads][seqlen_q]
  int sm_count;
  int arch;                         // compute capability, major·10 + minor (90: Hopper path)
};

// Which kernel runs and how it is cut, so the caller can size the split scratch.
struct FwdPlan {
  bool decode;            // decode tiles (tiles.h)
  bool hopper;            // the wgmma kernel (fwd_hopper.cuh; prefill on sm_90)
  int block_m, block_n;
  bool pack_gqa;          // the query heads sharing one K/V head are rows of one tile
  int m_blocks;           // per (batch, head-or-kv-head)
  int num_splits;
  size_t accum_bytes;     // o_accum + lse_accum, when num_splits > 1
};

// Head dims with their own kernels: tiles.h (kernel_head_dim).
constexpr int kMaxSplits = 128;

// decode: true plans the memory-bound decode tiles (few query rows, long K).
// splits: 0 lets the planner choose (decode only), else forced.
FwdPlan plan_fwd(const FwdParams& p, bool decode, int splits);
// Runs the kernel and, with splits, the combine pass (combine.cu).
Status launch_fwd(FwdParams p, const FwdPlan& plan, cudaStream_t stream);
Status launch_combine(const FwdParams& p, cudaStream_t stream);

// Appends new rows to a KV cache before attention reads it: row i of
// sequence b goes to cache row seqused[b] + i; rows that do not fit are
// dropped (the caller checks capacity when it knows the lengths).
struct AppendParams {
  const void* k_new;      // [B, S_new, Hkv, D] strided
  const void* v_new;
  int64_t kn_batch, kn_row, kn_head;
  int64_t vn_batch, vn_row, vn_head;
  void* k_cache;
  void* v_cache;
  int64_t k_batch, k_row, k_head;   // paged: k_batch is the page stride
  int64_t v_batch, v_row, v_head;
  const int32_t* seqused;           // [B]
  const int32_t* block_table;
  int64_t block_table_stride;
  int page_size, num_pages;
  int batch, s_new, kv_heads, d, capacity;  // capacity: rows per sequence
  DType dtype;
};
Status launch_append_kv(const AppendParams& p, cudaStream_t stream);

// The unfused baseline's softmax (unfused_softmax.cu): in place over rows of
// S [rows = batch·heads·sq][sk], already scaled; causal is bottom-right aligned.
struct SoftmaxParams {
  void* x;
  int64_t rows;
  int sq, sk;
  bool causal;
  DType dtype;
};
Status launch_softmax_rows(const SoftmaxParams& p, cudaStream_t stream);

}  // namespace wf::attention
