// Launch helpers shared by kernel families.
#pragma once
#include <atomic>
#include <cstdint>
#include <cuda_runtime_api.h>

#include "status.h"

namespace wf {

// Opts `Kernel` into the device's whole shared memory once per device.
// cudaFuncSetAttribute costs host time comparable to a short kernel, so
// calling it on every launch starves the GPU between back-to-back launches.
// The attribute belongs to the process's CUDA context, not to any JS
// environment, so the per-kernel cache is process-wide too.
template <auto Kernel>
Status allow_max_smem() {
  static std::atomic<uint64_t> configured{0};  // bit d: done on device d
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return Status::from_cuda(e, "cudaGetDevice");
  const uint64_t bit = device < 64 ? (1ull << device) : 0;
  if (bit && (configured.load(std::memory_order_relaxed) & bit)) return Status::success();
  // Dynamic plus the kernel's static shared memory must fit the opt-in limit.
  int max_optin = 0;
  cudaFuncAttributes attrs{};
  e = cudaDeviceGetAttribute(&max_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (e == cudaSuccess) e = cudaFuncGetAttributes(&attrs, Kernel);
  if (e == cudaSuccess)
    e = cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, max_optin - (int)attrs.sharedSizeBytes);
  if (e != cudaSuccess) return Status::from_cuda(e, "cudaFuncSetAttribute (shared memory)");
  configured.fetch_or(bit, std::memory_order_relaxed);
  return Status::success();
}

}  // namespace wf
