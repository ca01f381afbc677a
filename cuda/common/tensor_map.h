// Tensor maps for the Hopper copy engine (TMA): the descriptor a kernel
// hands to cp.async.bulk.tensor. Encoded on the host through the driver's
// entry point, fetched at run time, so nothing links against libcuda.
#pragma once
#include <cstdint>
#include <cuda.h>

#include "dtype.h"
#include "status.h"

namespace wf {

// A row-major [rows][cols] matrix of 16-bit `dtype` at `base` (16-byte
// aligned, row stride `cols` elements, cols % 8 == 0), read in boxes of
// box_rows × 64 columns into shared memory with the 128-byte swizzle (16-byte
// unit u of row r lands at unit u ^ (r % 8)). Reads outside the matrix
// arrive as zeros.
Status tensor_map_2d_swizzle128(CUtensorMap* map, const void* base, DType dtype, int64_t rows, int64_t cols, int box_rows);

// A row-major [rows][cols] matrix of 16-bit values (cols % 8 == 0), read in
// boxes of box_rows × box_cols, unswizzled. Reads outside arrive as zeros.
Status tensor_map_2d_u16(CUtensorMap* map, const void* base, int64_t rows, int64_t cols, int box_rows, int box_cols);

// A [d2][d1][d0] array of 32-bit words at `base` (16-byte aligned, d0 % 4
// == 0), read in boxes of box2 × box1 × box0 words, unswizzled: a box lands
// in shared memory in the array's own order. Reads outside arrive as zeros.
Status tensor_map_3d_u32(CUtensorMap* map, const void* base, int64_t d0, int64_t d1, int64_t d2, int box0, int box1, int box2);

}  // namespace wf
