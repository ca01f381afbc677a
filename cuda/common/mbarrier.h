// Shared-memory mbarriers (sm_90) for producer/consumer pipelines inside a
// CTA: a barrier completes a phase when `count` arrivals have been made;
// waiters name the phase parity they wait for, so a buffer used for the
// u-th time waits for parity u & 1 with no reset between uses.
#pragma once
#include <cstdint>
#include <cuda.h>

namespace wf::mbarrier {

__device__ __forceinline__ uint32_t addr(const uint64_t* bar) { return (uint32_t)__cvta_generic_to_shared(bar); }

// One thread initialises; a __syncthreads() must follow before any use.
__device__ __forceinline__ void init(uint64_t* bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(addr(bar)), "r"(count) : "memory");
}

// Release: this thread's earlier memory accesses happen before the phase
// completes for the waiters.
__device__ __forceinline__ void arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.release.cta.shared::cta.b64 _, [%0];" ::"r"(addr(bar)) : "memory");
}

// Acquire: spins until the phase with this parity has completed.
__device__ __forceinline__ void wait(uint64_t* bar, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "retry:\n"
      "mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra retry;\n"
      "}\n" ::"r"(addr(bar)),
      "r"(parity)
      : "memory");
}

// The next phase also waits for `bytes` of bulk copies to land (each copy
// completes its share on the barrier); no arrival.
__device__ __forceinline__ void expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;" ::"r"(addr(bar)), "r"(bytes) : "memory");
}

// A box of a 2D tensor map (tensor_map.h) at element coordinates (col, row)
// -> shared memory (1024-byte aligned for the 128-byte swizzle) by the copy
// engine (no registers), its bytes counted on `bar`; async-proxy writes,
// visible to wgmma once the barrier's phase completes.
__device__ __forceinline__ void tensor_copy_2d(void* smem, const CUtensorMap* map, int col, int row, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];" ::"r"(
          (uint32_t)__cvta_generic_to_shared(smem)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(col), "r"(row), "r"(addr(bar))
      : "memory");
}

// A 2-D box of a tensor map, read with an L2 cache policy (e.g. evict-first).
__device__ __forceinline__ void tensor_copy_2d(void* smem, const CUtensorMap* map, int c0, int c1, uint64_t* bar, uint64_t policy) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1, {%2, %3}], [%4], %5;" ::"r"(
          (uint32_t)__cvta_generic_to_shared(smem)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(addr(bar)), "l"(policy)
      : "memory");
}

// A 3-D box of a tensor map, read with an L2 cache policy (e.g. evict-first).
__device__ __forceinline__ void tensor_copy_3d(void* smem, const CUtensorMap* map, int c0, int c1, int c2, uint64_t* bar, uint64_t policy) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1, {%2, %3, %4}], [%5], %6;" ::"r"(
          (uint32_t)__cvta_generic_to_shared(smem)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(addr(bar)), "l"(policy)
      : "memory");
}

// `bytes` (a multiple of 16) contiguous bytes of global memory -> shared
// memory by the copy engine, no tensor map, counted on `bar` like the boxes.
__device__ __forceinline__ void bulk_copy(void* smem, const void* gmem, uint32_t bytes, uint64_t* bar, uint64_t policy) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], %4;" ::"r"(
                   (uint32_t)__cvta_generic_to_shared(smem)),
               "l"(gmem), "r"(bytes), "r"(addr(bar)), "l"(policy)
               : "memory");
}

}  // namespace wf::mbarrier
