// Programmatic dependent launch (sm_90). A kernel launched with
// programmatic stream serialization may start while the kernel before it in
// the stream is still running, once every CTA of that kernel has allowed it
// (allow_dependents) or exited. Its CTAs then take SMs as the earlier
// kernel's CTAs leave, and may do what does not depend on that kernel before
// wait_prior(), which returns once the earlier kernel has finished and its
// writes are visible (the GEMMs read nothing before it: even their weights
// may come from the kernel just before, their packer). Kernels launched
// without the attribute, or after one that never allows it, run as usual.
#pragma once

namespace wf::pdl {

__device__ __forceinline__ void allow_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ void wait_prior() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

}  // namespace wf::pdl
