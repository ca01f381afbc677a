// Stream-K's fixup on the device: parking a partial in a CTA's slot,
// adding it, and the flags between (the division itself: shares.h).
#pragma once
#include <cstdint>

#include "shares.h"
#include "w4a16.h"

namespace wf::w4a16 {

// A partial's slot: kFloats per thread of the `threads` that hold
// accumulators, stored as float4 rows of `threads` (each store and load is
// one coalesced 16-byte access per thread; finisher and parker index alike).
template <int kFloats>
__device__ __forceinline__ void park_partial(float* slot, int tid, int threads, const float (&acc)[kFloats]) {
#pragma unroll
  for (int q = 0; q < kFloats / 4; ++q)
    __stcg(reinterpret_cast<float4*>(slot) + q * threads + tid, make_float4(acc[4 * q], acc[4 * q + 1], acc[4 * q + 2], acc[4 * q + 3]));
}
template <int kFloats>
__device__ __forceinline__ void add_partial(const float* slot, int tid, int threads, float (&acc)[kFloats]) {
  constexpr int kBatch = kFloats / 4 % 8 == 0 ? 8 : kFloats / 4 % 4 == 0 ? 4 : 1;  // loads in flight before their adds
  static_assert(kFloats / 4 % kBatch == 0, "whole batches");
#pragma unroll
  for (int q0 = 0; q0 < kFloats / 4; q0 += kBatch) {
    float4 v[kBatch];
#pragma unroll
    for (int u = 0; u < kBatch; ++u) v[u] = __ldcg(reinterpret_cast<const float4*>(slot) + (q0 + u) * threads + tid);
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      float* a = acc + 4 * (q0 + u);
      a[0] += v[u].x, a[1] += v[u].y, a[2] += v[u].z, a[3] += v[u].w;
    }
  }
}

// A slot's flag: set (release) once its partial is parked, seen (acquire)
// and cleared by the finisher, so the caller's zeroed flags stay zero. One
// thread raises it after a barrier over the parking threads: the release
// is cumulative, so it covers their stores too (no fence in each).
__device__ __forceinline__ void raise_flag(int32_t* flag) {
  asm volatile("st.release.gpu.global.b32 [%0], %1;" ::"l"(flag), "r"(1) : "memory");
}
__device__ __forceinline__ void take_flag(int32_t* flag) {
  int32_t v = 0;
  for (;;) {
    asm volatile("ld.acquire.gpu.global.b32 %0, [%1];" : "=r"(v) : "l"(flag) : "memory");
    if (v) break;
    __nanosleep(64);
  }
  *flag = 0;
}

}  // namespace wf::w4a16
