// W4A16: INT4 weights (group-wise scales, optional zero points) × FP16/BF16
// activations. Launchers take one params struct and a stream and return a
// Status; nothing here knows about Node.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>

#include "../common/dtype.h"
#include "../common/status.h"
#include "layout.h"

namespace wf::w4a16 {

// out[M,N] = x[M,K] · dequant(W)[N,K]ᵀ (+ bias[N]).
struct GemmParams {
  const void* x;          // [M, K] row-major, dtype; K % 8 == 0
  const uint32_t* w;      // packed, layout.h
  const void* scales;     // packed, dtype
  const void* zeros;      // packed, dtype (value z); null for symmetric (z = 8)
  const void* bias;       // [N] dtype, or null
  void* out;              // [M, N] dtype
  int64_t m, n, k;        // logical sizes
  int64_t n_pad, k_pad;
  int group_size;         // 32, 64, 128, or 0 for per-channel
  DType dtype;            // Float16 or BFloat16 (x, scales, zeros, bias, out)
  int sm_count;           // of the device: the grid is sized to fill it
  int arch;               // compute capability, major·10 + minor (90: the wgmma kernel for M ≤ 128)
  // Split-K scratch (see plan_gemm): fp32 partials, and one arrival counter
  // per output tile that must be zero on entry (the kernel leaves it zero).
  float* workspace;
  int32_t* counters;
  // Stream-K (gemm_wgmma.cu): one flag per CTA, zero on entry (left zero),
  // stream_k_flags() of the scratch; the partials go to `workspace`.
  int32_t* sk_flags;
  int variant;            // 0: the tuned default; others are experiments the harness times
  int split_override;     // > 0: force the decode kernel's split-K (harness experiments)
  int tok_override;       // > 0: force the wgmma kernel's tokens per CTA, 32, 48, 64, 96, 128, 192 or 256 (harness experiments)
  int ring_override;      // decode kernel's x ring: 1 wherever M ≤ 32, 2 never, 3 the threads' copies on sm_90 (harness experiments)
  int pdl_override;       // 2: launch without programmatic dependent launch (harness experiments)
  int ctas_override;      // wgmma kernel's CTAs per SM at 32 to 64 tokens: 1 or 2 (harness experiments)
  int sk_override;        // wgmma kernel's stream-K: 1 wherever it can run, 2 never (harness experiments)
  int slices_override;    // > 0: at most this many decode warp slices, 1 none (harness experiments)
  int shares_override;    // decode warp shares: 1 wherever they can run, 2 never (harness experiments)
};

// How a GEMM is cut across CTAs, so the caller can provide the scratch.
struct GemmPlan {
  bool decode;            // M ≤ kDecodeMaxRows: the streaming kernel (gemm_decode.cu)
  bool hopper;            // sm_90, mid-size M: the wgmma kernel (gemm_wgmma.cu)
  bool cluster;           // sm_90: a column block's split-K CTAs meet in a cluster (no scratch)
  bool x_ring;            // decode: x streams through a shared-memory ring (not the whole K range at once)
  int rows_per_block;     // tiled: 16, 32 or 64; wgmma: wgmma_tokens() below; decode: 8, 16, 32 or 64
  int64_t row_blocks;
  int64_t col_blocks;     // of kGemmBlockN columns
  int split_k;            // CTAs sharing one output tile along K
  int chunks_per_split;   // 64-wide K chunks per CTA
  int ctas_per_sm;        // wgmma: 1, or 2 (32 to 64 tokens)
  int warp_slices;        // decode, M ≤ kDecodeFragRows: warps per 16-column tile, each a run of the CTA's K range (0 or 1: none)
  // decode, M = 1: every warp of one wave an equal share of the (tile, round
  // of 4 K chunks) units of its K band (gemm_decode.cu); split_k bands of
  // chunks_per_split chunks, col_blocks CTAs each; the pieces of a tile meet
  // in the scratch, one counter per 16-column tile.
  bool warp_shares;
  // wgmma: one wave of `ctas` CTAs shares all tiles' K chunks (stream_k.cuh);
  // workspace_bytes of partials, fresh per launch, and flags in the scratch.
  bool stream_k;
  int ctas;
  // split_k > 1: tiled: split_k · M · N floats, fresh per launch; decode:
  // M · N floats that must be zero on entry (the kernel leaves them zero);
  // stream_k: a partial per CTA, fresh per launch.
  size_t workspace_bytes;
  int64_t counters;       // split_k > 1: row_blocks · col_blocks
};
constexpr int kGemmBlockN = 256;        // columns per CTA, tiled kernel
constexpr int kDecodeBlockN = 128;      // columns per CTA, decode kernel (over its warp slices)
constexpr int kDecodeMaxSlices = 8;     // decode warp slices at most: 16 columns per CTA
constexpr int kDecodeFragRows = 8;      // decode: x staged in its mma fragments' order (and warp slices) up to this M
// Elements of a decode CTA's x row in shared memory: its K range plus a pad
// that staggers rows across banks. ldmatrix reads 8 rows of 16 B a phase:
// +8 (16 B). The fragment order reads 2 rows of 64 B per 128-byte phase:
// +32 (64 B).
WF_HD int decode_x_row(int chunks, bool frag_order) { return chunks * 64 + (frag_order ? 32 : 8); }
constexpr int kDecodeMaxRows = 64;      // M up to this runs on the decode kernel
constexpr int kWgmmaMaxRows = 128;      // split-K sums in the scratch: M up to this (larger M splits K only in clusters)
constexpr int kStreamKFlags = 1024;     // stream-K CTAs at most (one wave)
// Tokens per CTA the wgmma kernel is built for (each a wgmma N).
constexpr bool wgmma_tokens(int t) { return t == 32 || t == 48 || t == 64 || t == 96 || t == 128 || t == 192 || t == 224 || t == 256; }
// Upper bound of plan.counters for any M ≤ m, rounded to 4 so that the sums
// after the counters are 16-byte aligned, then the stream-K flags: what a
// caller allocates once.
inline int64_t gemm_counter_bound(int64_t m, int64_t n_pad) {
  const int64_t tiled = ((m + 15) / 16) * ((n_pad + kGemmBlockN - 1) / kGemmBlockN);
  const int64_t decode = (n_pad + kDecodeBlockN / kDecodeMaxSlices - 1) / (kDecodeBlockN / kDecodeMaxSlices);
  return ((tiled > decode ? tiled : decode) + 3) / 4 * 4 + kStreamKFlags;
}
inline int32_t* stream_k_flags(int32_t* scratch, int64_t m, int64_t n_pad) {
  return scratch + gemm_counter_bound(m, n_pad) - kStreamKFlags;
}
// Rows of the split-K sums: M rounded to 16 (epilogue.cuh: sum_slot).
WF_HD int64_t gemm_sum_rows(int64_t m) { return (m + 15) / 16 * 16; }
// The caller's persistent, zero-initialised scratch for GEMMs of up to m rows
// (one per stream): counters, then the decode and wgmma kernels' fp32 sums
// [N_pad][M rounded to 16 ≤ 128].
inline size_t gemm_scratch_bytes(int64_t m, int64_t n_pad) {
  const int64_t rows = gemm_sum_rows(m < kWgmmaMaxRows ? m : kWgmmaMaxRows);
  return (size_t)(gemm_counter_bound(m, n_pad) + rows * n_pad) * 4;
}
GemmPlan plan_gemm(const GemmParams& p);
Status launch_gemm(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream);

// The decode kernel's own plan and launcher (gemm_decode.cu); plan_gemm and
// launch_gemm pick it for M ≤ kDecodeMaxRows.
GemmPlan plan_decode(const GemmParams& p);
Status launch_decode(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream);
// The Hopper kernel's (gemm_wgmma.cu); plan_gemm picks it on sm_90 (see there).
GemmPlan plan_wgmma(const GemmParams& p);
Status launch_wgmma(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream);

// Round-to-nearest quantization of a float weight into the natural
// (unpacked) form: q[N_pad][K_pad] bytes, scales/zeros [groups][N_pad] dtype.
struct QuantizeParams {
  const void* w;          // [N, K] or, with k_major, [K, N]
  DType w_dtype;          // Float32, Float16 or BFloat16
  bool k_major;           // w is [K, N]
  int64_t n, k, n_pad, k_pad;
  int group_size;         // 32, 64, 128, or 0 for per-channel
  bool symmetric;         // zero point 8, scale = absmax / 7
  DType dtype;            // scale dtype: Float16 or BFloat16
  uint8_t* q;
  void* scales;
  void* zeros;            // written when !symmetric
};
Status launch_quantize(const QuantizeParams& p, cudaStream_t stream);

// Natural form -> kernel layout (the same permutation the host packer does).
struct PackParams {
  const uint8_t* q;
  const void* scales;
  const void* zeros;      // null for symmetric
  int64_t n_pad, k_pad;
  int group_size;
  DType dtype;
  uint32_t* w;
  void* scales_packed;
  void* zeros_packed;
};
Status launch_pack(const PackParams& p, cudaStream_t stream);

// Packed -> dtype [N, K] (logical sizes), the exact values the GEMM multiplies.
// With perm (act-order imports), column k' of the packed weight is column
// perm[k'] of the original.
struct DequantizeParams {
  const uint32_t* w;
  const void* scales;
  const void* zeros;
  const int32_t* perm;    // [K] or null
  int64_t n, k, n_pad, k_pad;
  int group_size;
  DType dtype;
  void* out;
};
Status launch_dequantize(const DequantizeParams& p, cudaStream_t stream);

// out[m][j] = x[m][perm[j]]: applies an act-order permutation to activations.
struct GatherParams {
  const void* x;
  const int32_t* perm;
  void* out;
  int64_t m, k;
  DType dtype;
};
Status launch_gather_columns(const GatherParams& p, cudaStream_t stream);

}  // namespace wf::w4a16
