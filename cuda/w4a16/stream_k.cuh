// Stream-K work division for the wgmma kernel: all (output tile, 64-wide K
// chunk) units of a GEMM, tile-major, cut into one contiguous share per CTA
// of a single wave, so that no SM idles while a partial second wave runs
// (224 column blocks on 132 SMs take two waves of whole tiles but 1.7 tiles
// of work per CTA). A share starts and ends anywhere in a tile; a tile whose
// K range spans several CTAs is finished by the one holding its last chunk,
// which adds the partials the earlier CTAs parked in their slots.
//
// Why the last: the finisher waits only on CTAs of a lower index, which the
// GPU places first, so no wait depends on a CTA still waiting for an SM
// (kernels on other streams, MPS, the kernel before under programmatic
// dependent launch may hold some). A share's piece of a tile it finishes is
// its first one; it is walked last (WorkRange), so the finisher reaches the
// tile when the earlier CTAs park their pieces of it, at the end of their
// shares. Only a share's last piece (or its only one) is parked: one slot
// per CTA.
#pragma once
#include <cstdint>

#include "w4a16.h"

namespace wf::w4a16 {

// A piece of a share: K chunks [kc0, kc1) of the tile (row block rb, column block col).
struct Segment {
  int col, rb, kc0, kc1;
};

// CTA i of g: units [start(i), start(i + 1)) of U, the remainder spread
// over the first CTAs. 32-bit (the planner keeps U below 2³¹): a 64-bit
// division is a call, and the registers live across it (the accumulators)
// would spill.
WF_HD int share_start(int i, int units, int g) { return i * (units / g) + (i < units % g ? i : units % g); }

// Walks a share tile by tile: units [pos, end), then the units [tail,
// tail_end) of the tile the share starts in (stream-K: the piece this CTA
// finishes, walked last; empty where the share starts at a tile's chunk 0).
// Tile-major: kc units a tile, `cols` column blocks a row block, from (col0,
// rb0). Without stream-K one tile's K split: pos, end within [0, kc), cols
// = 1. The mapping is passed to next() rather than held: the producer
// thread has 56 registers.
struct WorkRange {
  int pos, end, tail, tail_end;
  // Units [begin, end_) with the piece before the first tile boundary last.
  __device__ static WorkRange rotated(int begin, int end_, int kc) {
    const int boundary = (begin + kc - 1) / kc * kc;
    const int b = boundary < end_ ? boundary : end_;
    return WorkRange{b, end_, begin, b};
  }
  __device__ bool done() const { return pos >= end && tail >= tail_end; }
  __device__ Segment next(int kc, int cols, int col0, int rb0) {
    const bool last = pos >= end;
    int& at = last ? tail : pos;
    const int stop = last ? tail_end : end;
    const int tile = at / kc;
    Segment s;
    s.col = col0 + tile % cols;
    s.rb = rb0 + tile / cols;
    s.kc0 = at - tile * kc;
    s.kc1 = stop - at < kc - s.kc0 ? s.kc0 + (stop - at) : kc;
    at += s.kc1 - s.kc0;
    return s;
  }
};

// A stage: up to kChunks K chunks of a segment, [kc, kc + chunks).
struct StageRef {
  int kc, chunks;
};
template <int kChunks>
struct StageCursor {
  int kc, kc_end;
  __device__ explicit StageCursor(const Segment& s) : kc(s.kc0), kc_end(s.kc1) {}
  __device__ StageRef next() {
    StageRef r;
    r.kc = kc;
    r.chunks = kc_end - kc < kChunks ? kc_end - kc : kChunks;
    kc += r.chunks;
    return r;
  }
};
template <int kChunks>
__device__ int stages_of(const Segment& s) {
  return (s.kc1 - s.kc0 + kChunks - 1) / kChunks;
}

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
  constexpr int kBatch = 8;  // loads in flight before their adds
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
// and cleared by the finisher, so the caller's zeroed flags stay zero.
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
