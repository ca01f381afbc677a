#include "spin.h"

namespace wf {
namespace {

__device__ __forceinline__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void spin_kernel(uint64_t ns) {
  const uint64_t start = global_ns();
  while (global_ns() - start < ns) __nanosleep(1000);
}

}  // namespace

Status launch_spin(uint64_t nanoseconds, cudaStream_t stream) {
  if (nanoseconds > 10'000'000'000ull) return Status::fail(Code::InvalidArgument, "spin: at most 10 s");
  spin_kernel<<<1, 1, 0, stream>>>(nanoseconds);
  return check_launch("spin");
}

}  // namespace wf
