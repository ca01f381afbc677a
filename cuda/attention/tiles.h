// Tile shapes of the attention kernels: the one place they are chosen.
#pragma once

namespace wf::attention {

struct TileShape {
  int block_m, block_n, warps;
};

// Prefill (compute-bound): 128 query rows per CTA, 16 per warp, so a warp's
// O (kD/8 fragments) and S (block_n/8) stay in registers with room for two
// CTAs per SM at kD ≤ 128. Decode (memory-bound, a few rows per K/V head):
// 64-row tiles whose idle warps only copy, and long K/V tiles so each CTA
// keeps more bytes in flight.
constexpr TileShape tile_shape(int kd, bool decode) {
  return decode ? (kd == 256 ? TileShape{64, 64, 4} : TileShape{64, 128, 4})
                : (kd == 64 ? TileShape{128, 128, 8} : TileShape{128, 64, 8});
}

// The instantiated head dim that runs head dim d (d % 8 == 0, 0 < d ≤ 256).
constexpr int kernel_head_dim(int d) { return d <= 64 ? 64 : d <= 128 ? 128 : 256; }

}  // namespace wf::attention
