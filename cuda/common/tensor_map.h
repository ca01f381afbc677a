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

}  // namespace wf
