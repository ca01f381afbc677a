// Tile shapes of the attention kernels: the one place they are chosen.
#pragma once

namespace wf::attention {

struct TileShape {
  int block_m, block_n, warps;
};

// Prefill (compute-bound) is limited by shared-memory reads (ldmatrix of
// K and V per mma): at kD ≤ 128 each warp owns 32 query rows (two m16
// tiles), so every K/V fragment it loads feeds two mma; 4 warps, 128 rows,
// two CTAs per SM. At kD = 256 the O accumulator only fits 16 rows per warp;
// 64-row tiles let two CTAs share an SM.
// Decode (memory-bound, a few rows per K/V head): 64-row tiles whose idle
// warps only copy, and long K/V tiles so each CTA keeps more bytes in flight.
constexpr TileShape tile_shape(int kd, bool decode) {
  return decode ? (kd == 256 ? TileShape{64, 64, 4} : TileShape{64, 128, 4})
                : (kd == 256 ? TileShape{64, 64, 4} : TileShape{128, 64, 4});
}

// Hopper (sm_90a, wgmma) prefill tiles: two warpgroups of 64 rows; long K/V
// tiles while the S accumulator (block_n / 2 registers per thread) and O
// (kd / 2) fit beside each other; warps = 4 × consumer warpgroups.
constexpr TileShape hopper_tile_shape(int kd) { return kd == 256 ? TileShape{128, 64, 8} : TileShape{128, 128, 8}; }

// The instantiated head dim that runs head dim d (d % 8 == 0, 0 < d ≤ 256).
constexpr int kernel_head_dim(int d) { return d <= 64 ? 64 : d <= 128 ? 128 : 256; }

}  // namespace wf::attention
