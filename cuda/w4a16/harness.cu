// Standalone harness for the w4a16 GEMM: no Node, so compute-sanitizer and
// ncu run on it directly. Reference -> check -> time, per shape:
//
//   w4a16_harness                      default sweep
//   w4a16_harness M N K [group] [asym] one shape (group 0 = per-channel)
//   w4a16_harness read N K             read-probe variants over an N × K layer's bytes
//                                      (plain loads, cp.async, the copy engine)
//
// Any 32-bit word is a valid packed weight, so weights are random words;
// the reference multiplies x by dequantize()'s output in fp32 on the GPU.
// Timing: CUDA events around each launch, weights rotated past 3× L2, median;
// each line also gives a plain streaming read of the same weight bytes.
//
// Environment: WF_ARCH=0 (the portable kernels on sm_90), WF_WGMMA=1 (the
// wgmma kernel at any M), WF_SPLIT=s (force the split-K count, which warp
// slices then divide), WF_SLICES=w (at most w decode warp slices, M ≤ 8;
// 1: none), WF_VARIANT=v (probe variants,
// see gemm_decode.cu / gemm_wgmma.cu; wrong results by design),
// WF_NOCLUSTER=1 (split-K meets through the scratch), WF_CLUSTERS=1
// (print how many clusters the GPU holds for the decode plan), WF_TOK=t (the
// wgmma kernel's tokens per CTA: 32, 48, 64, 96, 128, 192, 224 or 256), WF_RING=1/2/3 (the decode
// kernel's x ring wherever M ≤ 32 / never / where planned, but copied by
// the threads, not the copy engine), WF_DECODE=1 (the decode kernel
// at any M ≤ 64), WF_CTAS=1/2 (the wgmma kernel's CTAs per SM at 32 to 64 tokens),
// WF_PDL=0 (launch without programmatic dependent launch; "chained" times a
// launch in chains of 20 back to back), WF_SK=1/0 (the wgmma kernel's
// stream-K wherever it can run / never), WF_SHARES=1/0 (the decode
// kernel's warp shares wherever they can run / never), WF_BF16=1 (the kernels for
// bfloat16 on the same bits: timing only, no check).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <cuda_fp16.h>

#include "../common/harness.h"
#include "../common/mbarrier.h"
#include "../common/tensor_map.h"
#include "../tensor/spin.h"

#include "ptx.h"
#include "w4a16.h"

using namespace wf;
using namespace wf::w4a16;
namespace wf::w4a16 {
int decode_active_clusters(const GemmParams& p, const GemmPlan& plan, int size);  // gemm_decode.cu
}


static void check_status(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s failed: %s (%s)\n", what, s.detail, cudaGetErrorString(s.cuda));
    std::exit(1);
  }
}

__device__ uint32_t hash32(uint64_t i, uint32_t seed) {
  uint64_t z = i * 0x9e3779b97f4a7c15ull + seed;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (uint32_t)(z ^ (z >> 31));
}
__global__ void fill_words(uint32_t* p, int64_t n, uint32_t seed) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) p[i] = hash32(i, seed);
}
// uniform in [lo, hi), or integers in [lo, hi) when integral
__global__ void fill_half(__half* p, int64_t n, uint32_t seed, float lo, float hi, bool integral) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const float u = (hash32(i, seed) >> 8) * (1.f / 16777216.f);
    const float v = lo + (hi - lo) * u;
    p[i] = __float2half(integral ? floorf(v) : v);
  }
}
__global__ void reference_gemm(const __half* x, const __half* w, float* out, int64_t m, int64_t n, int64_t k) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= m * n) return;
  const int64_t r = i / n, c = i % n;
  double s = 0;
  for (int64_t j = 0; j < k; ++j) s += (double)__half2float(x[r * k + j]) * (double)__half2float(w[c * k + j]);
  out[i] = (float)s;
}

// Plain streaming reads of n 16-byte words, evict-first as the GEMM reads
// its weights: each case's read ceiling (read_probe<4, 0>), and the read
// probes (`w4a16_harness read N K`) that find what a kernel needs to reach
// it. kMode 0: grid-stride, kDepth
// 16-byte loads in flight per thread; 1: each warp one contiguous run of
// 512-byte chunks, kDepth of them in flight (the decode kernel's order,
// refilled after use); 2: grid-stride through a per-thread cp.async ring of
// kDepth slots in shared memory.
template <int kDepth, int kMode>
__global__ void read_probe(const uint4* p, int64_t n, __half* sink) {
  extern __shared__ uint4 ring_smem[];
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  auto ld = [&](const uint4* a) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.L2::cache_hint.v4.u32 {%0,%1,%2,%3}, [%4], %5;"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(a), "l"(policy));
    return v;
  };
  uint32_t acc = 0;
  if constexpr (kMode == 1) {
    const int64_t warps = (int64_t)gridDim.x * blockDim.x / 32;
    const int64_t w = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32;
    const int64_t chunks = n / 32, per = (chunks + warps - 1) / warps;
    const int64_t c0 = w * per, c1 = c0 + per < chunks ? c0 + per : chunks;
    const uint4* base = p + threadIdx.x % 32;
    uint4 v[kDepth];
#pragma unroll
    for (int j = 0; j < kDepth; ++j) v[j] = ld(base + 32 * (c0 + j < c1 ? c0 + j : c1 - 1));
    for (int64_t c = c0; c < c1; c += kDepth)
#pragma unroll
      for (int j = 0; j < kDepth; ++j) {
        acc ^= v[j].x ^ v[j].y ^ v[j].z ^ v[j].w;
        const int64_t nx = c + kDepth + j;
        v[j] = ld(base + 32 * (nx < c1 ? nx : c1 - 1));
      }
  } else if constexpr (kMode == 0) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    for (; i + (kDepth - 1) * stride < n; i += kDepth * stride) {
      uint4 v[kDepth];
#pragma unroll
      for (int j = 0; j < kDepth; ++j) v[j] = ld(p + i + j * stride);
#pragma unroll
      for (int j = 0; j < kDepth; ++j) acc ^= v[j].x ^ v[j].y ^ v[j].z ^ v[j].w;
    }
    for (; i < n; i += stride) acc ^= p[i].x;
  } else {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t i0 = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    uint4* slot = ring_smem + threadIdx.x;
    auto issue = [&](int j, int64_t i) {
      const uint32_t s = (uint32_t)__cvta_generic_to_shared(slot + j * blockDim.x);
      const uint4* a = p + (i < n ? i : i0);
      asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;" ::"r"(s), "l"(a), "l"(policy));
      asm volatile("cp.async.commit_group;");
    };
#pragma unroll
    for (int j = 0; j < kDepth; ++j) issue(j, i0 + j * stride);
    for (int64_t i = i0; i < n; i += kDepth * stride)
#pragma unroll
      for (int j = 0; j < kDepth; ++j) {
        asm volatile("cp.async.wait_group %0;" ::"n"(kDepth - 1));
        const uint4 v = slot[j * blockDim.x];
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
        issue(j, i + (kDepth + j) * stride);
      }
    asm volatile("cp.async.wait_all;");
  }
  if (acc == 0x12345678u) sink[0] = __half(1.f);
}

// A ring of kDepth slots of `slot` bytes in shared memory that one thread
// fills through the copy engine, n copies in turn: copy(dst, i, bar, policy)
// issues copy i into dst, completing on bar. kHandoff false: the thread
// re-fills a slot once its own copy has landed (what the copy engine alone
// allows at kDepth · slot bytes in flight); true: as in the GEMM, four
// consumer warps wait for each slot, read a word of it and free it, and the
// thread re-fills a slot only once all four have.
template <int kDepth, bool kHandoff, typename Copy>
__device__ void copy_ring(int n, int slot, __half* sink, Copy&& copy) {
  extern __shared__ __align__(128) uint8_t ring[];
  __shared__ uint64_t full[kDepth], empty[kDepth];
  constexpr int kConsumers = 4;
  if (threadIdx.x == 0)
    for (int b = 0; b < kDepth; ++b) mbarrier::init(full + b, 1), mbarrier::init(empty + b, kConsumers);
  __syncthreads();
  const int warp = threadIdx.x / 32;
  if (threadIdx.x == 0) {
    const uint64_t policy = wf::w4a16::ptx::evict_first_policy();
    for (int i = 0; i < n; ++i) {
      const int b = i % kDepth;
      if (i >= kDepth) mbarrier::wait((kHandoff ? empty : full) + b, ((i / kDepth) - 1) & 1);
      mbarrier::expect_tx(full + b, (uint32_t)slot);
      copy(ring + (int64_t)b * slot, i, full + b, policy);
      mbarrier::arrive(full + b);
    }
    // The copies still in flight must land before the CTA's shared memory goes.
    if (!kHandoff)
      for (int i = n > kDepth ? n - kDepth : 0; i < n; ++i) mbarrier::wait(full + i % kDepth, (i / kDepth) & 1);
  } else if (kHandoff && warp >= 1 && warp <= kConsumers) {
    uint32_t acc = 0;
    for (int i = 0; i < n; ++i) {
      const int b = i % kDepth;
      mbarrier::wait(full + b, (i / kDepth) & 1);
      acc ^= reinterpret_cast<const uint32_t*>(ring + (int64_t)b * slot)[threadIdx.x % 32 + 32 * warp];
      __syncwarp();
      if (threadIdx.x % 32 == 0) mbarrier::arrive(empty + b);
    }
    if (acc == 0x12345678u) sink[0] = __half(1.f);
  }
}

// The copy engine streaming the same bytes, as the wgmma kernel's producer
// streams its weights: each CTA a contiguous run, in bulk copies of `slot`
// bytes (evict-first).
template <int kDepth, bool kHandoff>
__global__ void tma_read_probe(const uint8_t* p, int64_t bytes, int slot, __half* sink) {
  const int64_t per = bytes / gridDim.x / slot * slot;
  const uint8_t* base = p + blockIdx.x * per;
  copy_ring<kDepth, kHandoff>((int)(per / slot), slot, sink, [&](uint8_t* dst, int i, uint64_t* bar, uint64_t policy) {
    mbarrier::bulk_copy(dst, base + (int64_t)i * slot, (uint32_t)slot, bar, policy);
  });
}

// The wgmma kernel's weight copies alone, with the handoff: the packed
// layout read as [tiles][chunks][512 B] in tensor-map boxes of 8 tiles ×
// `chunks` chunks (one stage: eight runs of chunks · 512 B, one per tile),
// each CTA one column block of 8 tiles over all of K. Against
// tma_read_probe at the same grid and stage bytes: what the box's eight
// runs cost the copy engine against one contiguous run.
template <int kDepth>
__global__ void tma_box_probe(const __grid_constant__ CUtensorMap w_map, int kc, int chunks, int stage_bytes, __half* sink) {
  copy_ring<kDepth, true>((kc + chunks - 1) / chunks, stage_bytes, sink, [&](uint8_t* dst, int i, uint64_t* bar, uint64_t policy) {
    mbarrier::tensor_copy_3d(dst, &w_map, 0, i * chunks, (int)blockIdx.x * 8, bar, policy);
  });
}

// Median µs per launch over 50 samples of `chain` back-to-back launches of
// launch(iteration) each (an event pair per sample), after 10 warm-up ones.
// A spin kernel holds the stream while the host queues them, so the events
// time the GPU, not the host's launch rate. chain > 1: a decoder's layers,
// where a launch may overlap the end of the one before (programmatic
// dependent launch).
template <typename Launch>
static double median_us(Launch&& launch, int chain = 1) {
  constexpr int kWarm = 10, kSamples = 50;
  for (int it = 0; it < kWarm; ++it) launch(it);
  std::vector<cudaEvent_t> ev(kSamples + 1);
  for (auto& e : ev) WF_CHECK(cudaEventCreate(&e));
  check_status(launch_spin(2'000'000, 0), "spin");
  int it = kWarm;
  for (int i = 0; i < kSamples; ++i) {
    WF_CHECK(cudaEventRecord(ev[i]));
    for (int j = 0; j < chain; ++j) launch(it++);
  }
  WF_CHECK(cudaEventRecord(ev[kSamples]));
  WF_CHECK(cudaEventSynchronize(ev[kSamples]));
  std::vector<float> ms;
  for (int i = 0; i < kSamples; ++i) {
    float t = 0;
    WF_CHECK(cudaEventElapsedTime(&t, ev[i], ev[i + 1]));
    ms.push_back(t / chain);
  }
  for (auto& e : ev) cudaEventDestroy(e);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2] * 1e3;
}

struct Weights {
  uint32_t* w;
  __half* scales;
  __half* zeros;
};

// An on/off override from the environment as the planner takes it: 0 unset
// (the planner decides), 1 on, 2 off (=0).
static int env_switch(const char* name) {
  const char* v = std::getenv(name);
  return v ? (std::atoi(v) ? 1 : 2) : 0;
}

static double run_case(int64_t m, int64_t n, int64_t k, int gs, bool asym, const cudaDeviceProp& prop, double copy_gbps) {
  const int64_t n_pad = padded_n(n), k_pad = padded_k(k, gs);
  const int64_t groups = gs ? k_pad / gs : 1;
  const size_t wbytes = n_pad * k_pad / 2, sbytes = groups * n_pad * 2;
  const int sets = (int)std::max<int64_t>(1, std::min<int64_t>(16, (3 * (int64_t)prop.l2CacheSize) / (int64_t)wbytes + 1));
  std::vector<Weights> ws(sets);
  for (int i = 0; i < sets; ++i) {
    WF_CHECK(cudaMalloc(&ws[i].w, wbytes));
    WF_CHECK(cudaMalloc(&ws[i].scales, sbytes));
    fill_words<<<1024, 256>>>(ws[i].w, wbytes / 4, 11 + i);
    fill_half<<<1024, 256>>>(ws[i].scales, groups * n_pad, 23 + i, 0.001f, 0.01f, false);
    ws[i].zeros = nullptr;
    if (asym) {
      WF_CHECK(cudaMalloc(&ws[i].zeros, sbytes));
      fill_half<<<1024, 256>>>(ws[i].zeros, groups * n_pad, 37 + i, 0.f, 16.f, true);
    }
  }
  __half *x, *out, *deq;
  float* ref;
  int32_t* counters;
  WF_CHECK(cudaMalloc(&x, m * k * 2));
  WF_CHECK(cudaMalloc(&out, m * n * 2));
  WF_CHECK(cudaMalloc(&deq, n * k * 2));
  WF_CHECK(cudaMalloc(&ref, m * n * 4));
  WF_CHECK(cudaMalloc(&counters, gemm_scratch_bytes(m, n_pad)));
  WF_CHECK(cudaMemset(counters, 0, gemm_scratch_bytes(m, n_pad)));
  fill_half<<<1024, 256>>>(x, m * k, 5, -1.f, 1.f, false);

  GemmParams p{};
  p.x = x; p.w = ws[0].w; p.scales = ws[0].scales; p.zeros = ws[0].zeros; p.bias = nullptr; p.out = out;
  // WF_BF16=1: the same bits run as bfloat16, for timing the bf16 kernels
  // only (the fp16 reference does not apply: no check).
  const bool bf16_view = std::getenv("WF_BF16") && std::atoi(std::getenv("WF_BF16"));
  p.m = m; p.n = n; p.k = k; p.n_pad = n_pad; p.k_pad = k_pad; p.group_size = gs; p.dtype = bf16_view ? DType::BFloat16 : DType::Float16;
  p.sm_count = prop.multiProcessorCount;
  // WF_ARCH=0 keeps sm_90 on the portable kernels (to time them side by side).
  p.arch = std::getenv("WF_ARCH") ? std::atoi(std::getenv("WF_ARCH")) : prop.major * 10 + prop.minor;
  p.counters = counters;
  p.variant = std::getenv("WF_VARIANT") ? std::atoi(std::getenv("WF_VARIANT")) : 0;
  p.split_override = std::getenv("WF_SPLIT") ? std::atoi(std::getenv("WF_SPLIT")) : 0;
  p.slices_override = std::getenv("WF_SLICES") ? std::atoi(std::getenv("WF_SLICES")) : 0;
  p.tok_override = std::getenv("WF_TOK") ? std::atoi(std::getenv("WF_TOK")) : 0;
  p.ring_override = std::getenv("WF_RING") ? std::atoi(std::getenv("WF_RING")) : 0;
  p.ctas_override = std::getenv("WF_CTAS") ? std::atoi(std::getenv("WF_CTAS")) : 0;
  p.pdl_override = std::getenv("WF_PDL") && std::atoi(std::getenv("WF_PDL")) == 0 ? 2 : 0;
  p.sk_override = env_switch("WF_SK");
  p.shares_override = env_switch("WF_SHARES");
  p.sk_flags = stream_k_flags(counters, m, n_pad);
  // WF_WGMMA=1 runs the wgmma kernel where the planner would not (M ≤ 128).
  GemmPlan plan = std::getenv("WF_WGMMA") ? plan_wgmma(p) : std::getenv("WF_DECODE") && m <= kDecodeMaxRows ? plan_decode(p) : plan_gemm(p);
  if (plan.decode && std::getenv("WF_CLUSTERS")) {
    std::printf("clusters held at once (M=%lld, %d chunks/CTA):", (long long)m, plan.chunks_per_split);
    for (int size : {1, 2, 3, 4, 5, 6, 7, 8, 16}) std::printf("  %d: %d", size, decode_active_clusters(p, plan, size));
    std::printf("\n");
  }
  if (std::getenv("WF_NOCLUSTER")) plan.cluster = false;
  const bool zeroed_scratch = (plan.decode || plan.hopper) && !plan.stream_k;  // kernels that leave their sums zeroed
  if (zeroed_scratch) p.workspace = reinterpret_cast<float*>(counters + gemm_counter_bound(m, n_pad));
  else WF_CHECK(cudaMalloc(&p.workspace, std::max<size_t>(plan.workspace_bytes, 4)));

  // Check: poison, run, compare with the fp64-accumulated reference.
  WF_CHECK(cudaMemset(out, 0xff, m * n * 2));
  check_status(launch_gemm(p, plan, 0), "gemm");
  DequantizeParams dq{ws[0].w, ws[0].scales, ws[0].zeros, nullptr, n, k, n_pad, k_pad, gs, DType::Float16, deq};
  check_status(launch_dequantize(dq, 0), "dequantize");
  reference_gemm<<<(unsigned)((m * n + 255) / 256), 256>>>(x, deq, ref, m, n, k);
  WF_CHECK(cudaDeviceSynchronize());
  std::vector<__half> h_out(m * n);
  std::vector<float> h_ref(m * n);
  WF_CHECK(cudaMemcpy(h_out.data(), out, m * n * 2, cudaMemcpyDeviceToHost));
  WF_CHECK(cudaMemcpy(h_ref.data(), ref, m * n * 4, cudaMemcpyDeviceToHost));
  double num = 0, den = 0, max_abs = 0;
  for (int64_t i = 0; i < m * n; ++i) {
    const double d = (double)__half2float(h_out[i]) - h_ref[i];
    num += d * d;
    den += (double)h_ref[i] * h_ref[i];
    max_abs = std::max(max_abs, std::isfinite(d) ? std::fabs(d) : INFINITY);
  }
  const double rel = std::sqrt(num / std::max(den, 1e-30));

  auto gemm = [&](int it) {
    const Weights& w = ws[it % sets];
    p.w = w.w; p.scales = w.scales; p.zeros = w.zeros;
    check_status(launch_gemm(p, plan, 0), "gemm");
  };
  const double med_us = median_us(gemm);
  const double chain_us = median_us(gemm, 20);
  // The same bytes read by a plain streaming kernel: this size's ceiling.
  const double read_us = median_us([&](int it) {
    const Weights& w = ws[it % sets];
    read_probe<4, 0><<<prop.multiProcessorCount * 4, 512>>>(reinterpret_cast<const uint4*>(w.w), wbytes / 16, out);
  });
  const double gbps = (wbytes + sbytes * (asym ? 2 : 1) + (m * k + m * n) * 2) / (med_us * 1e-6) / 1e9;
  std::printf("%s v%d M=%-4lld N=%-6lld K=%-6lld g=%-3d %s  tok=%-3d split=%-2d%s grid=%lldx%lldx%d  rel=%.2e max=%.2e  %8.1f us  %6.0f GB/s  %3.0f%% copy  (read %.1f us, chained %.1f us)%s\n",
              plan.hopper ? (plan.stream_k ? "wgmmaSK" : plan.cluster ? "wgmma+ " : "wgmma  ") : plan.cluster ? "decode+" : plan.decode ? "decode " : "tiled  ", p.variant, (long long)m, (long long)n, (long long)k, gs, asym ? "asym" : "sym ", plan.rows_per_block, plan.split_k, plan.warp_shares ? " shr" : plan.x_ring ? " ring" : plan.warp_slices > 1 ? (plan.warp_slices == 2 ? " ws2" : plan.warp_slices == 4 ? " ws4" : " ws8") : "", (long long)plan.row_blocks,
              (long long)plan.col_blocks, plan.split_k, rel, max_abs, med_us, gbps, 100 * gbps / copy_gbps,
              read_us, chain_us, bf16_view ? "  (bf16 view: timing only)" : rel < 1e-3 ? "" : "  <-- FAIL");
  for (auto& w : ws) { cudaFree(w.w); cudaFree(w.scales); cudaFree(w.zeros); }
  cudaFree(x); cudaFree(out); cudaFree(deq); cudaFree(ref); cudaFree(counters); if (!zeroed_scratch) cudaFree(p.workspace);
  return bf16_view ? 0.0 : rel;
}

static double copy_bandwidth() {
  const size_t bytes = 1u << 30;
  void *a, *b;
  WF_CHECK(cudaMalloc(&a, bytes));
  WF_CHECK(cudaMalloc(&b, bytes));
  cudaEvent_t e0, e1;
  WF_CHECK(cudaEventCreate(&e0));
  WF_CHECK(cudaEventCreate(&e1));
  WF_CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
  WF_CHECK(cudaEventRecord(e0));
  for (int i = 0; i < 10; ++i) WF_CHECK(cudaMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice));
  WF_CHECK(cudaEventRecord(e1));
  WF_CHECK(cudaEventSynchronize(e1));
  float ms = 0;
  WF_CHECK(cudaEventElapsedTime(&ms, e0, e1));
  cudaFree(a);
  cudaFree(b);
  return 10.0 * 2 * bytes / (ms * 1e-3) / 1e9;
}


// `w4a16_harness read N K`: read_probe variants over the N × K layer's bytes.
template <int kDepth, int kMode>
static void read_line(const std::vector<uint4*>& bufs, int64_t words, int ctas, int threads, const char* what, double copy) {
  const int smem = kMode == 2 ? kDepth * threads * 16 : 0;
  if (smem > 48 * 1024) WF_CHECK(cudaFuncSetAttribute(read_probe<kDepth, kMode>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  __half* sink;
  WF_CHECK(cudaMalloc(&sink, 16));
  const double us = median_us([&](int it) { read_probe<kDepth, kMode><<<ctas, threads, smem>>>(bufs[it % bufs.size()], words, sink); });
  WF_CHECK(cudaGetLastError());
  const double gbps = words * 16.0 / (us * 1e-6) / 1e9;
  std::printf("read %-28s ctas=%-4d threads=%-4d depth=%-2d %8.1f us %6.0f GB/s %3.0f%% copy\n", what, ctas, threads, kDepth, us, gbps, 100 * gbps / copy);
  cudaFree(sink);
}
template <int kDepth, bool kHandoff>
static void tma_read_line(const std::vector<uint4*>& bufs, int64_t bytes, int per_sm, int slot, int sms, double copy, int ctas = 0) {
  const int smem = kDepth * slot;
  WF_CHECK(cudaFuncSetAttribute(tma_read_probe<kDepth, kHandoff>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  __half* sink;
  WF_CHECK(cudaMalloc(&sink, 16));
  if (ctas == 0) ctas = per_sm * sms;
  per_sm = (ctas + sms - 1) / sms;  // as placed: at most this many on an SM
  const double us = median_us([&](int it) {
    tma_read_probe<kDepth, kHandoff><<<ctas, 32 * 5, smem>>>(reinterpret_cast<const uint8_t*>(bufs[it % bufs.size()]), bytes, slot, sink);
  });
  WF_CHECK(cudaGetLastError());
  const double read = (double)(bytes / ctas / slot * slot) * ctas;
  const double gbps = read / (us * 1e-6) / 1e9;
  std::printf("read copy engine%s %d/SM slot=%-5d depth=%-2d (%3d KB/SM) ctas=%-4d %8.1f us %6.0f GB/s %3.0f%% copy\n", kHandoff ? " handoff" : "        ",
              per_sm, slot, kDepth, per_sm * smem / 1024, ctas, us, gbps, 100 * gbps / copy);
  cudaFree(sink);
}
template <int kDepth>
static void tma_box_line(const std::vector<uint4*>& bufs, int64_t n, int64_t k, int chunks, int sms, double copy) {
  const int stage = 8 * chunks * 512, smem = kDepth * stage;
  WF_CHECK(cudaFuncSetAttribute(tma_box_probe<kDepth>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  __half* sink;
  WF_CHECK(cudaMalloc(&sink, 16));
  const int64_t tiles = n / 16, kc = k / 64;
  const int ctas = (int)(tiles / 8), per_sm = (ctas + sms - 1) / sms;
  std::vector<CUtensorMap> maps(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) check_status(tensor_map_3d_u32(&maps[i], bufs[i], 128, kc, tiles, 128, chunks, 8), "tensor map");
  const double us = median_us([&](int it) {
    tma_box_probe<kDepth><<<ctas, 32 * 5, smem>>>(maps[it % maps.size()], (int)kc, chunks, stage, sink);
  });
  WF_CHECK(cudaGetLastError());
  const double gbps = n * k / 2.0 / (us * 1e-6) / 1e9;
  std::printf("read box copies %d/SM chunks=%d stage=%-5d depth=%-2d (%3d KB/SM) ctas=%-4d %8.1f us %6.0f GB/s %3.0f%% copy\n", per_sm, chunks, stage,
              kDepth, per_sm * smem / 1024, ctas, us, gbps, 100 * gbps / copy);
  cudaFree(sink);
}
static void read_sweep(int64_t n, int64_t k, const cudaDeviceProp& prop, double copy) {
  const int64_t words = n * k / 2 / 16;
  const int sets = (int)std::max<int64_t>(1, std::min<int64_t>(16, (3 * (int64_t)prop.l2CacheSize) / (words * 16) + 1));
  std::vector<uint4*> bufs(sets);
  for (auto& b : bufs) {
    WF_CHECK(cudaMalloc(&b, words * 16));
    fill_words<<<1024, 256>>>(reinterpret_cast<uint32_t*>(b), words * 4, 3);
  }
  const int sms = prop.multiProcessorCount;
  read_line<4, 0>(bufs, words, 4 * sms, 512, "grid-stride", copy);
  read_line<4, 0>(bufs, words, 4 * sms, 256, "grid-stride", copy);
  read_line<8, 0>(bufs, words, 4 * sms, 256, "grid-stride", copy);
  read_line<4, 1>(bufs, words, 4 * sms, 256, "warp runs", copy);
  read_line<8, 1>(bufs, words, 4 * sms, 256, "warp runs", copy);
  read_line<4, 1>(bufs, words, 4 * sms, 512, "warp runs", copy);
  read_line<4, 1>(bufs, words, (int)(3.4 * sms), 256, "warp runs (85 % of slots)", copy);
  read_line<8, 2>(bufs, words, 4 * sms, 256, "cp.async ring", copy);
  read_line<16, 2>(bufs, words, 4 * sms, 256, "cp.async ring", copy);
  // The copy engine: CTAs per SM × slot bytes × ring depth, alone and with the handoff.
  const int64_t bytes = words * 16;
  for (int per_sm : {1, 2})
    for (int slot : {12288, 16384, 24576}) {
      const int budget = per_sm == 1 ? 220 * 1024 : 108 * 1024;
      if (2 * slot <= budget) tma_read_line<2, false>(bufs, bytes, per_sm, slot, sms, copy);
      if (4 * slot <= budget) tma_read_line<4, false>(bufs, bytes, per_sm, slot, sms, copy), tma_read_line<4, true>(bufs, bytes, per_sm, slot, sms, copy);
      if (8 * slot <= budget) tma_read_line<8, false>(bufs, bytes, per_sm, slot, sms, copy), tma_read_line<8, true>(bufs, bytes, per_sm, slot, sms, copy);
    }
  tma_read_line<8, false>(bufs, bytes, 4, 6144, sms, copy);
  tma_read_line<8, false>(bufs, bytes, 1, 4096, sms, copy);
  tma_read_line<8, false>(bufs, bytes, 2, 4096, sms, copy);
  // Equal CTAs on unequal SMs, as the wgmma kernel's grid without stream-K
  // at 28672 columns: 224 CTAs of two per SM leave 40 SMs with one.
  tma_read_line<4, true>(bufs, bytes, 2, 12288, sms, copy, 224);
  tma_read_line<4, true>(bufs, bytes, 2, 12288, sms, copy, 2 * sms);
  // The wgmma kernel's weight boxes (8 tiles × 3 chunks, the 32-token
  // stage at two CTAs per SM; 8 × 4, one per SM) on one CTA per column
  // block, beside the contiguous runs on the same grid (the CTAs per SM
  // printed are as the grid places them, not the kernel's).
  tma_box_line<4>(bufs, n, k, 3, sms, copy);
  tma_read_line<4, true>(bufs, bytes, 2, 12288, sms, copy, (int)(n / 128));
  tma_box_line<4>(bufs, n, k, 4, sms, copy);
  tma_read_line<4, true>(bufs, bytes, 1, 16384, sms, copy, (int)(n / 128));
  for (auto& b : bufs) cudaFree(b);
}

int main(int argc, char** argv) {
  cudaDeviceProp prop;
  WF_CHECK(cudaGetDeviceProperties(&prop, 0));
  const double copy = copy_bandwidth();
  std::printf("%s, %d SMs, copy %.0f GB/s (read + write)\n", prop.name, prop.multiProcessorCount, copy);
  bool ok = true;
  if (argc >= 4 && std::string(argv[1]) == "read") {
    read_sweep(atoll(argv[2]), atoll(argv[3]), prop, copy);
  } else if (argc >= 4) {
    ok = run_case(atoll(argv[1]), atoll(argv[2]), atoll(argv[3]), argc > 4 ? atoi(argv[4]) : 128, argc > 5 && atoi(argv[5]), prop, copy) < 1e-3;
  } else {
    const int64_t shapes[][2] = {{4096, 4096}, {8192, 8192}, {28672, 8192}, {8192, 28672}};
    for (auto& s : shapes)
      for (int64_t m : {1, 16, 32, 64, 128, 256}) ok &= run_case(m, s[0], s[1], 128, false, prop, copy) < 1e-3;
    ok &= run_case(33, 200, 328, 32, true, prop, copy) < 1e-3;
    ok &= run_case(7, 1000, 4104, 0, true, prop, copy) < 1e-3;
  }
  return ok ? 0 : 1;
}
