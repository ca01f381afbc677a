// PTX wrappers used by the w4a16 kernels, each with the reason it exists.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "../common/ptx.h"

namespace wf::w4a16::ptx {

using namespace wf::ptx;  // cp.async, ldmatrix, mma shared with other families

// Weights are read exactly once per GEMM: mark them evict-first so they do
// not push the activations (re-read by every CTA) out of L2.
__device__ __forceinline__ uint64_t evict_first_policy() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}

// 16-byte asynchronous copy global -> shared that bypasses L1 (.cg); the
// copy engine fills the pipeline while the warps compute on older stages.
__device__ __forceinline__ void cp_async16_evict_first(void* smem, const void* gmem, uint64_t policy) {
  const uint32_t s = (uint32_t)__cvta_generic_to_shared(smem);
  asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;" ::"r"(s), "l"(gmem), "l"(policy));
}

// (a & b) | c in one instruction: isolates two nibbles and plants them in the
// mantissas of two 16-bit floats whose exponent comes from c.
__device__ __forceinline__ uint32_t lop3_and_or(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
}

}  // namespace wf::w4a16::ptx

namespace wf::w4a16::ptx {

// 16-byte weight load straight to registers: read-only path (.nc), no L1
// allocation (each byte is used once), evict-first in L2. The decode kernel
// keeps several of these in flight per thread instead of staging in smem.
__device__ __forceinline__ uint4 ldg_stream(const void* p, uint64_t policy) {
  uint4 r;
  asm volatile("ld.global.nc.L1::no_allocate.L2::cache_hint.v4.u32 {%0,%1,%2,%3}, [%4], %5;"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "l"(p), "l"(policy));
  return r;
}

// Scales and zero points (a column pair per word): read once, through the
// read-only path.
__device__ __forceinline__ uint32_t ldg_nc_u1(const void* p) {
  uint32_t r;
  asm volatile("ld.global.nc.u32 %0, [%1];" : "=r"(r) : "l"(p));
  return r;
}

}  // namespace wf::w4a16::ptx
