// Clamping device-side indices read from user arrays (offsets, lengths,
// block tables), so a bad value selects a wrong row, never a wild address.
#pragma once

namespace wf {

__device__ __forceinline__ int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace wf
