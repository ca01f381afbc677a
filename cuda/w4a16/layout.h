// The packed INT4 weight layout of the w4a16 kernel. This layout is an API:
// lib/w4a16/layout.ts mirrors it for the host packer (tests compare the two
// bit for bit), and QuantizedWeight carries kLayoutVersion so a weight packed
// for another layout is refused rather than misread.
//
// Problem: out[M,N] = x[M,K] · W[N,K]ᵀ. W is padded to N_pad (multiple of 64)
// and K_pad (multiple of 64 and of the group size), padding dequantizing to 0.
//
// The kernel feeds W to `mma.m16n8k16` as the B operand (k16 × n8), whose
// fragment gives thread `lane` (g = lane/4, t = lane%4) the four values
//   b0,b1 = W[n0+g][k0+2t, k0+2t+1]    b2,b3 = W[n0+g][k0+2t+8, k0+2t+9].
// W is cut into blocks of 16 columns × 64 k (a "tile", 512 bytes), stored
// tile after tile along K, then along N:
//
//   word index = ((nt * KC + kc) * 32 + lane) * 4 + j      (uint32 words)
//   nt = n / 16, kc = k / 64, KC = K_pad / 64, j = (k % 64) / 16
//
// so one 16-byte load per thread brings its fragments for 4 k16-steps × 2
// n8-tiles, and a warp's 32 loads are one contiguous, conflict-free 512 B.
// Inside word j, nibble i (bits 4i..4i+3) holds
//
//   i = p + 4e,  p = 2h + hi,  for n % 16 = 8h + g,  k % 16 = 8hi + 2t + e
//
// which makes (w >> 4p) & 0x000f000f hold the pair for half2 register p:
// p = 0, 1 -> n8-tile 0 (b01, b23); p = 2, 3 -> n8-tile 1. One lop3 with an
// exponent "magic" then turns each pair into two exact 16-bit floats.
//
// Scales (and zero points, for asymmetric weights) are one value per group of
// K and column, stored so a thread's 32-bit load gives its two columns:
//   index = ((grp * NT + nt) * 8 + g) * 2 + h,   NT = N_pad / 16.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define WF_HD __host__ __device__ __forceinline__
#else
#define WF_HD inline
#endif

namespace wf::w4a16 {

constexpr int kLayoutVersion = 1;
constexpr int kTileN = 16, kTileK = 64;
constexpr int kPadN = 64;  // N_pad multiple: every tile width the dispatcher picks divides it

WF_HD int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Group size 0 means one group over all of K (per-channel scales).
WF_HD int64_t padded_k(int64_t k, int group_size) {
  int64_t kp = round_up(k, kTileK);
  return group_size > 0 ? round_up(kp, group_size > kTileK ? group_size : kTileK) : kp;
}
WF_HD int64_t padded_n(int64_t n) { return round_up(n, kPadN); }
// k >> group_shift(g) is k's group: log2 of the group size, and 30 (one
// group for any K) for per-channel scales.
inline int group_shift(int group_size) { return group_size > 0 ? __builtin_ctz((unsigned)group_size) : 30; }

struct WordPos {
  int64_t word;
  int shift;  // bit offset of the nibble
};

WF_HD WordPos weight_pos(int64_t n, int64_t k, int64_t k_pad) {
  const int64_t nt = n / kTileN, kc = k / kTileK;
  const int nl = (int)(n % kTileN), kl = (int)(k % kTileK);
  const int j = kl / 16, kk = kl % 16;
  const int g = nl % 8, h = nl / 8;
  const int t = (kk % 8) / 2, e = kk % 2, hi = kk / 8;
  const int lane = g * 4 + t;
  const int p = 2 * h + hi;
  const int64_t kc_count = k_pad / kTileK;
  return {((nt * kc_count + kc) * 32 + lane) * 4 + j, 4 * (p + 4 * e)};
}

WF_HD int64_t scale_index(int64_t grp, int64_t n, int64_t n_pad) {
  const int64_t nt = n / kTileN;
  const int nl = (int)(n % kTileN);
  return ((grp * (n_pad / kTileN) + nt) * 8 + nl % 8) * 2 + nl / 8;
}

}  // namespace wf::w4a16
