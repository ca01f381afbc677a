// Standalone harness: how many cycles an SM spends per m64nNk16 warpgroup
// MMA when nothing else runs. Every warpgroup of one CTA per SM issues
// stages of 16 wgmmas back to back (fence, 16 × mma_async, commit, wait 0),
// the loop the w4a16 wgmma kernel's consumers run, with A from registers
// (rs) or from shared memory (ss). The data are constant halves; only the
// instruction rate is measured, so it tells a kernel's time apart from what
// the tensor pipe itself allows.
//
//   wgmma_rate        prints one line per (N, A source, warpgroups per SM)
//
// Cycles come from clock64 in each CTA (the SM clock, whatever boost it
// runs at); the wall time from CUDA events gives the clock and TFLOP/s.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <cuda_fp16.h>

#include "harness.h"
#include "wgmma.h"

namespace {

constexpr int kStageMmas = 16;
constexpr int kIters = 2000;
// B (N ≤ 256 rows of one 128-byte-swizzled 64-wide slab) at 0, A tiles (64
// rows, one slab each, one per warpgroup) after 64 KB.
constexpr int kATiles = 65536;
constexpr int kSmem = kATiles + 4 * 8192 + 1024;  // + alignment

template <int N, bool SS, int WGS>
__global__ void __launch_bounds__(128 * WGS, 1) rate_kernel(float* sink, long long* cycles, int iters) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using namespace wf;
  extern __shared__ uint8_t smem_raw[];
  uint8_t* smem = smem_raw + ((1024 - ((uint32_t)__cvta_generic_to_shared(smem_raw) & 1023)) & 1023);
  for (int i = threadIdx.x; i < (kSmem - 1024) / 4; i += blockDim.x) reinterpret_cast<uint32_t*>(smem)[i] = 0x1c001c00u;
  __syncthreads();
  float acc[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) acc[i] = 0.f;
  const uint32_t a[4] = {0x1c001c00u, 0x1c001c00u, 0x1c001c00u, 0x1c001c00u};
  const uint64_t b_desc = wgmma::desc(smem, 16, 1024);
  const uint64_t a_desc = wgmma::desc(smem + kATiles + (threadIdx.x / 128) * 8192, 16, 1024);
  const long long t0 = clock64();
  for (int it = 0; it < iters; ++it) {
    wgmma::fence();
#pragma unroll
    for (int j = 0; j < kStageMmas; ++j) {
      // The k16 steps of one slab: 32 bytes (two 16-byte units) apart.
      const uint64_t step = (uint64_t)((j % 4) * 2);
      if constexpr (SS) wgmma::Mma<__half, N>::ss(acc, a_desc + step, b_desc + step, 1);
      else wgmma::Mma<__half, N>::template rs<0>(acc, a, b_desc + step, 1);
    }
    wgmma::commit();
    wgmma::wait<0>();
    wgmma::pin(acc);
  }
  const long long t1 = clock64();
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < N / 2; ++i) s += acc[i];
  if (s == 1234.5f) sink[threadIdx.x] = s;  // keeps the accumulators live
  if (threadIdx.x == 0) cycles[blockIdx.x] = t1 - t0;
#else
  if (threadIdx.x == 0) cycles[blockIdx.x] = 0;  // no sm_90a machine code in this build
#endif
}

template <int N, bool SS, int WGS>
void rate_line(int sms) {
  auto kernel = rate_kernel<N, SS, WGS>;
  WF_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
  float* sink;
  long long* cycles;
  WF_CHECK(cudaMalloc(&sink, 1024 * sizeof(float)));
  WF_CHECK(cudaMalloc(&cycles, sms * sizeof(long long)));
  kernel<<<sms, 128 * WGS, kSmem>>>(sink, cycles, 10);  // warm-up
  WF_CHECK(cudaGetLastError());
  cudaEvent_t e0, e1;
  WF_CHECK(cudaEventCreate(&e0));
  WF_CHECK(cudaEventCreate(&e1));
  WF_CHECK(cudaEventRecord(e0));
  kernel<<<sms, 128 * WGS, kSmem>>>(sink, cycles, kIters);
  WF_CHECK(cudaEventRecord(e1));
  WF_CHECK(cudaEventSynchronize(e1));
  WF_CHECK(cudaGetLastError());
  float ms = 0.f;
  WF_CHECK(cudaEventElapsedTime(&ms, e0, e1));
  long long* host = new long long[sms];
  WF_CHECK(cudaMemcpy(host, cycles, sms * sizeof(long long), cudaMemcpyDeviceToHost));
  double mean = 0.0;
  for (int i = 0; i < sms; ++i) mean += (double)host[i] / sms;
  delete[] host;
  if (mean <= 0.0) {
    std::printf("wgmma_rate: built without sm_90a machine code (WARPFORGE_CUDA_ARCHS=90a)\n");
    std::exit(1);
  }
  const double mmas = (double)WGS * kIters * kStageMmas;  // per SM
  const double per = mean / mmas;
  // Dense fp16 with fp32 accumulation: 2048 multiply-adds a cycle per SM (H100/H200).
  const double peak = 64.0 * N * 16 / 2048.0;
  const double tflops = 2.0 * 64 * N * 16 * mmas * sms / (ms * 1e-3) / 1e12;
  char shape[16];
  std::snprintf(shape, sizeof shape, "m64n%dk16", N);
  std::printf("%-11s %s  warpgroups %d  %6.1f cycles per wgmma per SM  (peak %5.1f, %3.0f %%)  %5.0f TFLOP/s  %.2f GHz\n",
              shape, SS ? "ss" : "rs", WGS, per, peak, 100.0 * peak / per, tflops, mean / (ms * 1e-3) / 1e9);
  WF_CHECK(cudaEventDestroy(e0));
  WF_CHECK(cudaEventDestroy(e1));
  WF_CHECK(cudaFree(sink));
  WF_CHECK(cudaFree(cycles));
}

}  // namespace

int main() {
  cudaDeviceProp prop;
  WF_CHECK(cudaGetDeviceProperties(&prop, 0));
  if (prop.major != 9) {
    std::printf("wgmma_rate: needs sm_90 (this GPU is sm_%d%d)\n", prop.major, prop.minor);
    return 0;
  }
  const int sms = prop.multiProcessorCount;
  std::printf("%s, %d SMs, one CTA per SM\n", prop.name, sms);
  rate_line<32, false, 1>(sms);
  rate_line<32, false, 2>(sms);
  rate_line<32, false, 4>(sms);
  rate_line<64, false, 1>(sms);
  rate_line<64, true, 1>(sms);
  rate_line<64, false, 2>(sms);
  rate_line<64, true, 2>(sms);
  rate_line<64, false, 4>(sms);
  rate_line<128, false, 1>(sms);
  rate_line<128, true, 1>(sms);
  rate_line<128, false, 2>(sms);
  rate_line<128, true, 2>(sms);
  rate_line<256, false, 1>(sms);
  rate_line<256, false, 2>(sms);
  return 0;
}
