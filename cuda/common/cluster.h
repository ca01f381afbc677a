// Thread-block clusters (sm_90): CTAs of one cluster run at once on one GPC
// and can read each other's shared memory. Callers guard uses with
// __CUDA_ARCH__ >= 900; the functions compile to nothing useful below that.
#pragma once
#include <cstdint>

namespace wf::cluster {

__device__ __forceinline__ uint32_t rank() {
  uint32_t r = 0;
#if __CUDA_ARCH__ >= 900
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
#endif
  return r;
}

// Every thread of every CTA in the cluster arrives and waits. Release and
// acquire: shared-memory writes before it are visible to the cluster's
// reads after it.
__device__ __forceinline__ void sync() {
#if __CUDA_ARCH__ >= 900
  asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
#endif
}

// 16 bytes at `local` (this CTA's shared memory) in the CTA of cluster rank `r`.
__device__ __forceinline__ float4 load_remote(const void* local, uint32_t r) {
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
#if __CUDA_ARCH__ >= 900
  uint32_t remote;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"((uint32_t)__cvta_generic_to_shared(local)), "r"(r));
  asm volatile("ld.shared::cluster.v4.f32 {%0,%1,%2,%3}, [%4];" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(remote) : "memory");
#endif
  return v;
}

}  // namespace wf::cluster
