// Prints cuda/w4a16/w4a16.h's split-K scratch sizes (counters, then fp32
// sums) for a sweep of M and N_pad, so a test can check that
// lib/w4a16/layout.ts allocates what the native side will index.
// Host-only, with the CUDA runtime headers on the include path.
#include <cstdio>
#include <initializer_list>

#include "../../cuda/w4a16/w4a16.h"

using namespace wf::w4a16;

int main() {
  for (long m : {1L, 7L, 16L, 17L, 33L, 64L, 100L, 128L, 129L, 256L, 1000L})
    for (long n_pad : {64L, 192L, 4096L, 11008L, 28672L})
      std::printf("scratch %ld %ld %lld %zu\n", m, n_pad, (long long)gemm_counter_bound(m, n_pad), gemm_scratch_bytes(m, n_pad));
  return 0;
}
