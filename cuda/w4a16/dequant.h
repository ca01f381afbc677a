// Turning packed nibbles into the 16-bit values the tensor cores multiply.
// Shared by the GEMM and by dequantize(), so both produce the same bits.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "ptx.h"

namespace wf::w4a16 {

template <typename T>
struct Num;

// Bit casts between a pair type and its 32-bit register.
template <typename T2_>
struct PairBits {
  using T2 = T2_;
  __device__ static T2 pair(uint32_t bits) { return *reinterpret_cast<T2*>(&bits); }
  __device__ static uint32_t bits(T2 v) { return *reinterpret_cast<uint32_t*>(&v); }
};

// A 4-bit q OR'ed into the mantissa of 1024.0 (fp16, 10 mantissa bits) or
// 128.0 (bf16, 7 bits) reads as exactly 1024 + q or 128 + q. Subtracting
// (magic + zero point) is exact too, so the only rounding is the one
// multiply by the scale: (q - z) * s, rounded once, as the reference does.
template <>
struct Num<__half> : PairBits<__half2> {
  static constexpr uint32_t kMagic2 = 0x64006400u;
  static constexpr uint16_t kMagic = 0x6400u;
  __device__ static T2 splat(__half v) { return __half2half2(v); }
  __device__ static T2 floats(float a, float b) { return __floats2half2_rn(a, b); }
};

template <>
struct Num<__nv_bfloat16> : PairBits<__nv_bfloat162> {
  static constexpr uint32_t kMagic2 = 0x43004300u;
  static constexpr uint16_t kMagic = 0x4300u;
  __device__ static T2 splat(__nv_bfloat16 v) { return __bfloat162bfloat162(v); }
  __device__ static T2 floats(float a, float b) { return __floats2bfloat162_rn(a, b); }
};

// magic + z as a pair, the subtrahend for one column.
template <typename T>
__device__ __forceinline__ typename Num<T>::T2 offset_pair(T z) {
  uint32_t m = Num<T>::kMagic;
  T magic = *reinterpret_cast<T*>(&m);
  return Num<T>::splat(__hadd(magic, z));
}
// fp16 only: 64 + z as a pair, for nibbles read in place at bits 4-7 (below).
template <typename T>
__device__ __forceinline__ typename Num<T>::T2 offset_pair_hi(T z) {
  return Num<T>::splat(__hadd(static_cast<T>(64.f), z));
}

// One packed word -> (q - z) pairs, exact in 16 bits: put(h, e, pair) for
// tile h's column (n + 8h), e = 0 the low nibbles, 1 the high ones. sub[h]:
// offset_pair, sub_hi[h] (fp16 only): offset_pair_hi of that column. fp16
// reads the high nibble of each byte in place as 1024 + 16q and brings it to
// q - z with one exact fma ((1024 + 16q)/16 - (64 + z)): 9 instructions a
// word against 11 with a shift per nibble. bf16 (7 mantissa bits) shifts.
template <typename T, typename Put>
__device__ __forceinline__ void unpack_word(uint32_t w, const typename Num<T>::T2 (&sub)[2],
                                            const typename Num<T>::T2 (&sub_hi)[2], Put&& put) {
  using N = Num<T>;
  if constexpr (N::kMagic == 0x6400u) {
    const __half2 inv16 = __half2half2(__ushort_as_half(0x2c00));  // 1/16
    const uint32_t w8 = w >> 8;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const uint32_t v = h ? w8 : w;
      const __half2 lo = N::pair(ptx::lop3_and_or(v, 0x000f000fu, N::kMagic2));
      const __half2 hi = N::pair(ptx::lop3_and_or(v, 0x00f000f0u, N::kMagic2));
      put(h, 0, __hsub2(lo, sub[h]));
      put(h, 1, __hfma2(hi, inv16, __hneg2(sub_hi[h])));
    }
  } else {
#pragma unroll
    for (int p = 0; p < 4; ++p) put(p / 2, p % 2, __hsub2(N::pair(ptx::lop3_and_or(w >> (4 * p), 0x000f000fu, N::kMagic2)), sub[p / 2]));
  }
}

// A group's subtrahends and scales for the column pair (n, n + 8), whose
// scales (sc) and zero points (zz) sit side by side (layout.h), as
// dequant_word takes them.
template <typename T>
__device__ __forceinline__ void pair_constants(typename Num<T>::T2 sc, typename Num<T>::T2 zz, typename Num<T>::T2 (&sub)[2],
                                               typename Num<T>::T2 (&sub_hi)[2], typename Num<T>::T2 (&scale)[2]) {
  sub[0] = offset_pair<T>(zz.x), sub[1] = offset_pair<T>(zz.y);
  sub_hi[0] = offset_pair_hi<T>(zz.x), sub_hi[1] = offset_pair_hi<T>(zz.y);
  scale[0] = Num<T>::splat(sc.x), scale[1] = Num<T>::splat(sc.y);
}

// Word j of a thread's 16-byte fragment -> B registers of its two n8 tiles:
// (q - z)·s, rounded once (unpack_word is exact). scale: [0] for column n
// (tile 0), [1] for column n+8 (tile 1).
template <typename T>
__device__ __forceinline__ void dequant_word(uint32_t w, const typename Num<T>::T2 (&sub)[2],
                                             const typename Num<T>::T2 (&sub_hi)[2],
                                             const typename Num<T>::T2 (&scale)[2], uint32_t (&b)[2][2]) {
  using N = Num<T>;
  unpack_word<T>(w, sub, sub_hi, [&](int h, int e, typename N::T2 q) { b[h][e] = N::bits(__hmul2(q, scale[h])); });
}

}  // namespace wf::w4a16
