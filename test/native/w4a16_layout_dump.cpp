// Prints cuda/w4a16/layout.h's mapping for a sweep of sizes, so a test can
// check that lib/w4a16/layout.ts (the host packer) mirrors it exactly.
// Host-only: layout.h compiles without nvcc.
#include <cstdio>
#include <initializer_list>

#include "../../cuda/w4a16/layout.h"

using namespace wf::w4a16;

int main() {
  for (int gs : {0, 32, 64, 128}) {
    for (long k : {8L, 64L, 328L, 11008L}) std::printf("padded_k %ld %d %lld\n", k, gs, (long long)padded_k(k, gs));
  }
  for (long n : {1L, 64L, 200L, 28672L}) std::printf("padded_n %ld %lld\n", n, (long long)padded_n(n));
  const long n_pad = 128, k_pad = 192;
  for (long n = 0; n < n_pad; n += 3) {
    for (long k = 0; k < k_pad; k += 5) {
      const WordPos p = weight_pos(n, k, k_pad);
      std::printf("pos %ld %ld %lld %d\n", n, k, (long long)p.word, p.shift);
    }
    for (long grp = 0; grp < 3; ++grp) std::printf("scale %ld %ld %lld\n", grp, n, (long long)scale_index(grp, n, n_pad));
  }
  return 0;
}
