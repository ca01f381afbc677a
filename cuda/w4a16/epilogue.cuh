// How a GEMM CTA's fp32 accumulators become the output, shared by the
// decode and wgmma kernels. `each_output(fn)` calls fn(value&, row, column)
// for every accumulator inside [M, N].
#pragma once
#include <cstdint>

#include "../common/cluster.h"
#include "dequant.h"
#include "w4a16.h"

namespace wf::w4a16 {

// A column's split-K sums in the scratch are M rounded to 16 floats
// (gemm_sum_rows), row r at sum_slot(r): a thread's accumulators for one
// column are rows {2t, 2t+1} of the 8-row tiles 2i and 2i+1 (mma.m16n8k16
// and wgmma alike), and this order puts the four side by side, so one
// vector RED adds them (sm_90). At M = 32, 8192², eight splits, the scalar
// REDs of the meet cost 15 µs of 48.
__host__ __device__ constexpr int sum_slot(int r) { return (r & ~15) | (((r & 7) >> 1) << 2) | ((r & 8) >> 2) | (r & 1); }

// Adds (a, b) / (a, b, c, d) to consecutive floats at p, without a round trip.
__device__ __forceinline__ void red_add(float* p, float a, float b) {
#if __CUDA_ARCH__ >= 900
  asm volatile("red.global.add.v2.f32 [%0], {%1, %2};" ::"l"(p), "f"(a), "f"(b) : "memory");
#else
  atomicAdd(p, a), atomicAdd(p + 1, b);
#endif
}
__device__ __forceinline__ void red_add(float* p, float a, float b, float c, float d) {
#if __CUDA_ARCH__ >= 900
  asm volatile("red.global.add.v4.f32 [%0], {%1, %2, %3, %4};" ::"l"(p), "f"(a), "f"(b), "f"(c), "f"(d) : "memory");
#else
  atomicAdd(p, a), atomicAdd(p + 1, b), atomicAdd(p + 2, c), atomicAdd(p + 3, d);
#endif
}

// Output column c's value before its one rounding: v (+ bias[c]).
template <typename T>
__device__ __forceinline__ float with_bias(const GemmParams& p, int64_t c, float v) {
  return p.bias ? v + static_cast<float>(static_cast<const T*>(p.bias)[c]) : v;
}

// out[r][c] = v (+ bias[c]), rounded once to T. The GEMM kernels' wider
// stores (store_output4 here, the wgmma kernel's store_tile) round the same
// sum the same way.
template <typename T>
__device__ __forceinline__ void store_output(const GemmParams& p, int64_t r, int64_t c, float v) {
  static_cast<T*>(p.out)[r * p.n + c] = static_cast<T>(with_bias<T>(p, c, v));
}

// Whether 4 adjacent outputs from a column multiple of 4 are one aligned 8-byte word.
__device__ __forceinline__ bool quad_stores(const GemmParams& p) {
  return p.n % 4 == 0 && (reinterpret_cast<uintptr_t>(p.out) & 7) == 0;
}

// out[r][c … c + 3] = v (+ bias), each rounded as store_output rounds it, in
// one 8-byte store where the four are inside N and quad_stores holds.
template <typename T>
__device__ __forceinline__ void store_output4(const GemmParams& p, int64_t r, int64_t c, const float (&v)[4]) {
  if (c + 3 < p.n && quad_stores(p)) {
    float s[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) s[e] = with_bias<T>(p, c + e, v[e]);
    *reinterpret_cast<uint2*>(static_cast<T*>(p.out) + r * p.n + c) =
        make_uint2(Num<T>::bits(Num<T>::floats(s[0], s[1])), Num<T>::bits(Num<T>::floats(s[2], s[3])));
    return;
  }
#pragma unroll
  for (int e = 0; e < 4; ++e)
    if (c + e < p.n) store_output<T>(p, r, c + e, v[e]);
}

// One arrival at a split-K counter, acquire and release at GPU scope: the
// value before it.
__device__ __forceinline__ int arrive_count(int32_t* counter) {
  int old;
  asm volatile("atom.acq_rel.gpu.global.add.s32 %0, [%1], 1;" : "=r"(old) : "l"(counter) : "memory");
  return old;
}

// Split-K partials meet in the caller's zeroed fp32 workspace: each CTA adds
// its own with fire-and-forget vector REDs, and the last of `splits` to
// arrive at `counter` reads the sums, leaving workspace and counter zero for
// the next call. (Summing stored partials instead costs the last CTA
// `splits` dependent L2 round trips: ~10 µs.) `each_sum(fn)` calls
// fn(a, b, c, d, nv, slot, column) for each group of nv (2 or 4) of the
// thread's accumulators that sit at slots slot … slot + nv - 1 of a column
// < N (c and d unused when nv = 2). `sync` is a barrier over the threads
// taking part, `leader` one of them. Returns whether this CTA now holds the
// sums.
template <typename EachSum, typename Sync>
__device__ __forceinline__ bool meet_splits(const GemmParams& p, int32_t* counter, int splits, bool active, bool leader,
                                            EachSum&& each_sum, Sync&& sync) {
  const int64_t rows = gemm_sum_rows(p.m);
  if (active)
    each_sum([&](float& a, float& b, float& c, float& d, int nv, int slot, int64_t col) {
      float* w = p.workspace + col * rows + slot;
      if (nv == 4) red_add(w, a, b, c, d);
      else red_add(w, a, b);
    });
  // No fence in each thread: the barrier orders every thread's REDs before
  // the leader's acq_rel count, whose release side is cumulative (it covers
  // them) and whose acquire side, then the barrier, orders the other CTAs'
  // sums before this CTA's reads (as stream_k.cuh's flags). H200, harness,
  // µs, a fence in each thread / none: decode M = 16 8192² 22.4 / 21.65,
  // 8192 × 28672 46.1 / 45.65; M = 4 11008 × 4096 17.85 / 17.4; M = 16
  // 28672 × 8192 through the scratch 55.6 / 53.3; wgmma M = 64 8192² through
  // the scratch 34.0 / 33.3.
  sync();
  __shared__ int arrived;
  if (leader) arrived = arrive_count(counter);
  sync();
  if (arrived != splits - 1) return false;
  if (leader) *counter = 0;
  if (active)
    each_sum([&](float& a, float& b, float& c, float& d, int nv, int slot, int64_t col) {
      float* w = p.workspace + col * rows + slot;
      if (nv == 4) {
        const float4 v = __ldcg(reinterpret_cast<const float4*>(w));
        a = v.x, b = v.y, c = v.z, d = v.w;
        __stcg(reinterpret_cast<float4*>(w), make_float4(0.f, 0.f, 0.f, 0.f));
      } else {
        const float2 v = __ldcg(reinterpret_cast<const float2*>(w));
        a = v.x, b = v.y;
        __stcg(reinterpret_cast<float2*>(w), make_float2(0.f, 0.f));
      }
    });
  return true;
}

// Split-K partials of one block of `cols` columns (from col0) meet in a
// thread-block cluster (sm_90), one CTA per split, instead of through the
// scratch. The block is rows [row0, row0 + rows) ∩ [0, M). Each CTA parks its
// partials in its own shared memory `parts` (meet_parts_floats(rows, cols)
// floats), and after a cluster barrier rank r adds up a 1/splits share of
// the block's outputs over all CTAs in rank order (deterministic, no
// atomics, nothing through L2), adds the bias and writes out. The atomics
// meet cost 2.4 µs of a 24 µs GEMM at M = 1 and 8 µs of 34 at M = 16
// (8192², H100). Threads tid = 0 … nthreads - 1 of each CTA (all that have
// not exited) take part.
//
// Rows of `parts` are cols + 4 floats apart: the four lanes that share an
// mma column hold rows 2t, 2t + 1, which then fall 8 banks apart instead of
// on one bank. Each thread reads kMeetQuads quads of every rank before it
// adds, so one DSMEM round trip covers kMeetQuads of them.
constexpr int kMeetPad = 4;
__host__ __device__ constexpr int meet_parts_floats(int rows, int cols) { return rows * (cols + kMeetPad); }
constexpr int kMeetQuads = 8;

template <typename T, typename EachOutput>
__device__ __forceinline__ void meet_in_cluster(const GemmParams& p, int splits, float* parts, int64_t row0, int rows, int cols,
                                                int64_t col0, EachOutput&& each_output, int tid, int nthreads) {
  const int stride = cols + kMeetPad;
  each_output([&](float& v, int64_t r, int64_t c) { parts[(r - row0) * stride + (c - col0)] = v; });
  cluster::sync();
  const int quads = (int)(p.m - row0 < rows ? p.m - row0 : rows) * cols / 4;
  const int step = splits * nthreads;
  for (int i0 = (int)cluster::rank() * nthreads + tid; i0 < quads; i0 += kMeetQuads * step) {
    float4 s[kMeetQuads];
#pragma unroll
    for (int u = 0; u < kMeetQuads; ++u) s[u] = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int q = 0; q < splits; ++q) {
      float4 v[kMeetQuads];
#pragma unroll
      for (int u = 0; u < kMeetQuads; ++u) {
        const int i = i0 + u * step;
        v[u] = i < quads ? cluster::load_remote(parts + (i / (cols / 4)) * stride + (i % (cols / 4)) * 4, q)
                         : make_float4(0.f, 0.f, 0.f, 0.f);
      }
#pragma unroll
      for (int u = 0; u < kMeetQuads; ++u) s[u].x += v[u].x, s[u].y += v[u].y, s[u].z += v[u].z, s[u].w += v[u].w;
    }
#pragma unroll
    for (int u = 0; u < kMeetQuads; ++u) {
      const int i = i0 + u * step;
      if (i >= quads) break;
      const int64_t r = row0 + i / (cols / 4), c = col0 + (i % (cols / 4)) * 4;
      const float sum[4] = {s[u].x, s[u].y, s[u].z, s[u].w};
      store_output4<T>(p, r, c, sum);
    }
  }
  cluster::sync();  // this CTA's partials stay until every rank has read them
}

// out = acc (+ bias), rounded once to T.
template <typename T, typename EachOutput>
__device__ __forceinline__ void write_output(const GemmParams& p, EachOutput&& each_output) {
  each_output([&](float& v, int64_t r, int64_t c) { store_output<T>(p, r, c, v); });
}

}  // namespace wf::w4a16
