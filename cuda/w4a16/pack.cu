// Quantizer, packer, dequantizer and the act-order column gather for w4a16.
// lib/w4a16/host.ts implements the same arithmetic on the host (in float32,
// in the same order) and the tests require identical bytes.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "dequant.h"
#include "w4a16.h"

namespace wf::w4a16 {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n, int per_block = kThreads) {
  const int64_t b = (n + per_block - 1) / per_block;
  return (unsigned)(b < 1 ? 1 : b > 2147483647 ? 2147483647 : b);
}

template <typename T>
__device__ __forceinline__ float to_f(T v) { return static_cast<float>(v); }

// One warp per (column n, group). Symmetric: s = absmax / 7, z = 8.
// Asymmetric: s = (max - min) / 15, z = round(-min / s), over [min(w, 0), max(w, 0)]. Both: the scale is
// rounded to the activation dtype first and q computed with that rounded
// scale, so dequantization reproduces what was quantized. A zero scale (an
// all-zero group) becomes 1, so q = z and the group dequantizes to zeros.
// Padding (n >= N or k >= K) gets q = z; padded columns get s = 0.
template <typename TW, typename TS>
__global__ void quantize_kernel(const QuantizeParams p, int64_t group_len, int64_t groups) {
  const int64_t warp_id = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp_id >= p.n_pad * groups) return;
  const int64_t n = warp_id / groups, grp = warp_id % groups;
  const TW* w = static_cast<const TW*>(p.w);
  auto load = [&](int64_t k) { return to_f(p.k_major ? w[k * p.n + n] : w[n * p.k + k]); };
  const int64_t k0 = grp * group_len;
  const bool real_col = n < p.n;

  // The asymmetric range always contains 0 (as GPTQ's quantizer does), so
  // z = round(-lo / s) lands in [0, 15] and no value is clamped by more than s/2.
  float lo = 0.f, hi = 0.f, amax = 0.f;
  if (real_col) {
    for (int64_t i = lane; i < group_len; i += 32) {
      const int64_t k = k0 + i;
      if (k >= p.k) break;
      const float v = load(k);
      lo = fminf(lo, v);
      hi = fmaxf(hi, v);
      amax = fmaxf(amax, fabsf(v));
    }
  }
  for (int off = 16; off > 0; off /= 2) {
    lo = fminf(lo, __shfl_xor_sync(0xffffffffu, lo, off));
    hi = fmaxf(hi, __shfl_xor_sync(0xffffffffu, hi, off));
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, off));
  }
  TS s_t = static_cast<TS>(p.symmetric ? amax / 7.0f : (hi - lo) / 15.0f);
  if (static_cast<float>(s_t) == 0.f) s_t = static_cast<TS>(1.0f);
  const float s = static_cast<float>(s_t);
  const float z = p.symmetric ? 8.f : fminf(fmaxf(rintf(-lo / s), 0.f), 15.f);
  if (lane == 0) {
    static_cast<TS*>(p.scales)[grp * p.n_pad + n] = real_col ? s_t : static_cast<TS>(0.f);
    if (!p.symmetric) static_cast<TS*>(p.zeros)[grp * p.n_pad + n] = static_cast<TS>(real_col ? z : 8.f);
  }
  const float zpad = real_col ? z : 8.f;
  for (int64_t i = lane; i < group_len; i += 32) {
    const int64_t k = k0 + i;
    float q = zpad;
    if (real_col && k < p.k) q = fminf(fmaxf(rintf(load(k) / s) + z, 0.f), 15.f);
    p.q[n * p.k_pad + k] = (uint8_t)q;
  }
}

__global__ void pack_weight_kernel(const uint8_t* q, uint32_t* w, int64_t words, int64_t k_pad) {
  const int64_t wi = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (wi >= words) return;
  const int j = (int)(wi % 4), lane = (int)((wi / 4) % 32);
  const int64_t tile = wi / 128, kc_count = k_pad / kTileK;
  const int64_t nt = tile / kc_count, kc = tile % kc_count;
  const int g = lane / 4, t = lane % 4;
  uint32_t word = 0;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int p = i % 4, e = i / 4;
    const int64_t n = nt * kTileN + 8 * (p / 2) + g;
    const int64_t k = kc * kTileK + 16 * j + 8 * (p % 2) + 2 * t + e;
    word |= (uint32_t)(q[n * k_pad + k] & 0xf) << (4 * i);
  }
  w[wi] = word;
}

__global__ void pack_scales_kernel(const uint16_t* src, uint16_t* dst, int64_t groups, int64_t n_pad) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= groups * n_pad) return;
  const int64_t grp = i / n_pad, n = i % n_pad;
  dst[scale_index(grp, n, n_pad)] = src[i];
}

// Act-order weights (a permutation of K): one thread per packed word, its
// 8 values scattered to their permuted columns.
template <typename T>
__global__ void dequantize_scatter_kernel(const DequantizeParams p, int group_shift) {
  const int64_t wi = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (wi >= p.n_pad * p.k_pad / 8) return;
  const int j = (int)(wi % 4), lane = (int)((wi / 4) % 32);
  const int64_t tile = wi / 128, kc_count = p.k_pad / kTileK;
  const int64_t nt = tile / kc_count, kc = tile % kc_count;
  const int g = lane / 4, t = lane % 4;
  const uint32_t word = p.w[wi];
  const T* scales = static_cast<const T*>(p.scales);
  const T* zeros = static_cast<const T*>(p.zeros);
  T* out = static_cast<T*>(p.out);
#pragma unroll
  for (int pr = 0; pr < 4; ++pr) {
    const int64_t n = nt * kTileN + 8 * (pr / 2) + g;
    const int64_t k = kc * kTileK + 16 * j + 8 * (pr % 2) + 2 * t;  // and k + 1
    if (n >= p.n || k >= p.k) continue;
    const int64_t si = scale_index(k >> group_shift, n, p.n_pad);
    const T s = scales[si];
    const T z = zeros ? zeros[si] : static_cast<T>(8.f);
    const T v0 = __hmul(__hsub(static_cast<T>((float)((word >> (4 * pr)) & 0xf)), z), s);
    const T v1 = __hmul(__hsub(static_cast<T>((float)((word >> (4 * pr + 16)) & 0xf)), z), s);
    out[n * p.k + p.perm[k]] = v0;
    out[n * p.k + p.perm[k + 1]] = v1;
  }
}

// One warp per tile (16 columns × 64 k, 512 packed bytes). A lane's 16-byte
// fragment holds 2 columns × 4 pairs of adjacent k per word, so storing
// straight from it writes 16 bytes per row and instruction, half of each
// 32-byte sector (~1.2 TB/s on the H200). Instead the warp parks the tile in
// shared memory and writes it back as whole 128-byte rows, 16 bytes a lane:
// 83-91 % of copy bandwidth (H200, 8192² 48 µs, 28672 × 8192 154 µs).
// Rows are 16 bytes longer than the tile (kDeqRow): the 8 lanes that park one
// column pair (same t, g = 0 … 7) then hit 8 different banks, and each row
// still starts 16-byte aligned. dequant_word is the GEMM's own, so the bits
// are the GEMM's.
constexpr int kDeqWarps = 8;
constexpr int kDeqRow = kTileK + 8;
template <typename T>
__global__ void __launch_bounds__(32 * kDeqWarps) dequantize_kernel(const DequantizeParams p, int group_shift) {
  using N = Num<T>;
  using T2 = typename N::T2;
  __shared__ __align__(16) T parked[kDeqWarps][kTileN * kDeqRow];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  T* tile_s = parked[warp];
  const int64_t KC = p.k_pad / kTileK, NT = p.n_pad / kTileN, tiles = NT * KC;
  const T* scales = static_cast<const T*>(p.scales);
  const T* zeros = static_cast<const T*>(p.zeros);
  T* out = static_cast<T*>(p.out);
  const uint64_t policy = ptx::evict_first_policy();
  for (int64_t tile = (int64_t)blockIdx.x * kDeqWarps + warp; tile < tiles; tile += (int64_t)gridDim.x * kDeqWarps) {
    const int64_t nt = tile / KC, kc = tile % KC;
    const uint4 wq = ptx::ldg_stream(p.w + tile * 128 + lane * 4, policy);
    T2 sub[2], sub_hi[2], scale[2];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      // Words 2hf, 2hf + 1 share a group (the smallest is 32 k); columns g
      // and g + 8 sit side by side (layout.h).
      if (j == 0 || (j == 2 && group_shift == 5)) {
        const int64_t si = scale_index((kc * kTileK + 16 * j) >> group_shift, nt * kTileN + g, p.n_pad);
        const T2 sc = N::pair(*reinterpret_cast<const uint32_t*>(scales + si));
        const T z8 = static_cast<T>(8.f);
        const T2 zz = zeros ? N::pair(*reinterpret_cast<const uint32_t*>(zeros + si)) : T2{z8, z8};
        pair_constants<T>(sc, zz, sub, sub_hi, scale);
      }
      uint32_t b[2][2];
      dequant_word<T>(j == 0 ? wq.x : j == 1 ? wq.y : j == 2 ? wq.z : wq.w, sub, sub_hi, scale, b);
      // b[h][e]: column g + 8h, k = 16j + 8e + 2t and the next.
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < 2; ++e) *reinterpret_cast<uint32_t*>(tile_s + (g + 8 * h) * kDeqRow + 16 * j + 8 * e + 2 * t) = b[h][e];
    }
    __syncwarp();
    // Piece i: row i / 8, k (i % 8)·8 … + 7; a warp's store covers 4 whole rows.
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int i = lane + 32 * r, row = i / 8, c = (i % 8) * 8;
      const int64_t n = nt * kTileN + row, k = kc * kTileK + c;
      if (n >= p.n || k >= p.k) continue;
      *reinterpret_cast<uint4*>(out + n * p.k + k) = *reinterpret_cast<const uint4*>(tile_s + row * kDeqRow + c);
    }
    __syncwarp();  // the tile's slot is parked again next round
  }
}

template <typename T>
__global__ void gather_kernel(const GatherParams p) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= p.m * p.k) return;
  const int64_t m = i / p.k, j = i % p.k;
  static_cast<T*>(p.out)[i] = static_cast<const T*>(p.x)[m * p.k + p.perm[j]];
}

bool valid_group(int gs) { return gs == 0 || gs == 32 || gs == 64 || gs == 128; }

template <typename TW, typename TS>
Status run_quantize(const QuantizeParams& p, cudaStream_t s) {
  const int64_t group_len = p.group_size > 0 ? p.group_size : p.k_pad;
  const int64_t groups = p.k_pad / group_len;
  quantize_kernel<TW, TS><<<blocks_for(p.n_pad * groups * 32), kThreads, 0, s>>>(p, group_len, groups);
  return check_launch("w4a16 quantize");
}

template <typename TW>
Status quantize_scale_type(const QuantizeParams& p, cudaStream_t s) {
  if (p.dtype == DType::Float16) return run_quantize<TW, __half>(p, s);
  if (p.dtype == DType::BFloat16) return run_quantize<TW, __nv_bfloat16>(p, s);
  return Status::fail(Code::UnsupportedDtype, "w4a16: scales must be float16 or bfloat16");
}

}  // namespace

Status launch_quantize(const QuantizeParams& p, cudaStream_t stream) {
  if (!valid_group(p.group_size)) return Status::fail(Code::UnsupportedShape, "w4a16: group size must be 32, 64, 128 or per-channel");
  if (p.n <= 0 || p.k <= 0 || p.n_pad != padded_n(p.n) || p.k_pad != padded_k(p.k, p.group_size))
    return Status::fail(Code::InvalidArgument, "w4a16 quantize: bad sizes");
  switch (p.w_dtype) {
    case DType::Float32: return quantize_scale_type<float>(p, stream);
    case DType::Float16: return quantize_scale_type<__half>(p, stream);
    case DType::BFloat16: return quantize_scale_type<__nv_bfloat16>(p, stream);
    default: return Status::fail(Code::UnsupportedDtype, "w4a16: weights must be float32, float16 or bfloat16");
  }
}

Status launch_pack(const PackParams& p, cudaStream_t stream) {
  if (!valid_group(p.group_size)) return Status::fail(Code::UnsupportedShape, "w4a16: bad group size");
  if (p.n_pad % kPadN || p.k_pad % kTileK) return Status::fail(Code::InvalidArgument, "w4a16 pack: bad padded sizes");
  const int64_t words = p.n_pad * p.k_pad / 8;
  pack_weight_kernel<<<blocks_for(words), kThreads, 0, stream>>>(p.q, p.w, words, p.k_pad);
  const int64_t groups = p.group_size > 0 ? p.k_pad / p.group_size : 1;
  pack_scales_kernel<<<blocks_for(groups * p.n_pad), kThreads, 0, stream>>>(
      static_cast<const uint16_t*>(p.scales), static_cast<uint16_t*>(p.scales_packed), groups, p.n_pad);
  if (p.zeros)
    pack_scales_kernel<<<blocks_for(groups * p.n_pad), kThreads, 0, stream>>>(
        static_cast<const uint16_t*>(p.zeros), static_cast<uint16_t*>(p.zeros_packed), groups, p.n_pad);
  return check_launch("w4a16 pack");
}

Status launch_dequantize(const DequantizeParams& p, cudaStream_t stream) {
  if (!valid_group(p.group_size)) return Status::fail(Code::UnsupportedShape, "w4a16: bad group size");
  const int shift = group_shift(p.group_size);
  if (p.dtype != DType::Float16 && p.dtype != DType::BFloat16)
    return Status::fail(Code::UnsupportedDtype, "w4a16: dequantize to float16 or bfloat16");
  // 16-byte stores: K a multiple of 8 (as every weight the API accepts) and the output 16-byte aligned.
  if (p.k % 8 != 0 || reinterpret_cast<uintptr_t>(p.out) % 16 != 0)
    return Status::fail(Code::InvalidArgument, "w4a16 dequantize: K must be a multiple of 8 and the output 16-byte aligned");
  const bool half = p.dtype == DType::Float16;
  if (p.perm) {
    const int64_t words = p.n_pad * p.k_pad / 8;
    if (half) dequantize_scatter_kernel<__half><<<blocks_for(words), kThreads, 0, stream>>>(p, shift);
    else dequantize_scatter_kernel<__nv_bfloat16><<<blocks_for(words), kThreads, 0, stream>>>(p, shift);
  } else {
    // A warp per tile, grid-striding past 2^20 CTAs (8M tiles: N·K > 2^32).
    const int64_t tiles = p.n_pad / kTileN * (p.k_pad / kTileK);
    const unsigned grid = blocks_for(tiles, kDeqWarps) > (1u << 20) ? (1u << 20) : blocks_for(tiles, kDeqWarps);
    if (half) dequantize_kernel<__half><<<grid, 32 * kDeqWarps, 0, stream>>>(p, shift);
    else dequantize_kernel<__nv_bfloat16><<<grid, 32 * kDeqWarps, 0, stream>>>(p, shift);
  }
  return check_launch("w4a16 dequantize");
}

Status launch_gather_columns(const GatherParams& p, cudaStream_t stream) {
  if (p.dtype != DType::Float16 && p.dtype != DType::BFloat16)
    return Status::fail(Code::UnsupportedDtype, "w4a16: gather float16 or bfloat16");
  // Both are 16-bit: move bits, whatever the float format.
  gather_kernel<uint16_t><<<blocks_for(p.m * p.k), kThreads, 0, stream>>>(p);
  return check_launch("w4a16 gather");
}

}  // namespace wf::w4a16
