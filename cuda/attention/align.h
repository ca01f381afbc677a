// Host-side check shared by the attention launchers: their cp.async and
// 16-byte vector copies need every row to start 16-byte aligned.
#pragma once
#include <cstdint>

namespace wf::attention {

// base aligned and every stride (in 2-byte elements) a multiple of 8.
inline bool rows_aligned(const void* base, int64_t a, int64_t b, int64_t c) {
  return ((uintptr_t)base & 15) == 0 && a % 8 == 0 && b % 8 == 0 && c % 8 == 0;
}

}  // namespace wf::attention
