// Element types shared by kernels, the binding and the TS facade. The numeric
// values cross into JavaScript (lib/dtype.ts holds the same table; a test
// checks the two agree), so never renumber an existing entry.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wf {

enum class DType : int32_t {
  Float32 = 0,
  Float16 = 1,
  BFloat16 = 2,
  Float8E4M3 = 3,  // OCP e4m3fn: no infinities, NaN = S.1111.111, max 448
  Float8E5M2 = 4,  // OCP e5m2: IEEE-like, has infinities, max 57344
  Int8 = 5,
  UInt8 = 6,
  Int32 = 7,
  Int4Packed = 8,  // two values a byte, low nibble first; layouts are op-specific
};

constexpr int kDTypeCount = 9;

inline bool dtype_valid(int32_t v) { return v >= 0 && v < kDTypeCount; }

// Bits per element (int4 is the only sub-byte type).
constexpr int dtype_bits(DType t) {
  switch (t) {
    case DType::Float32: case DType::Int32: return 32;
    case DType::Float16: case DType::BFloat16: return 16;
    case DType::Float8E4M3: case DType::Float8E5M2: case DType::Int8: case DType::UInt8: return 8;
    case DType::Int4Packed: return 4;
  }
  return 0;
}

constexpr bool dtype_is_float(DType t) {
  return t == DType::Float32 || t == DType::Float16 || t == DType::BFloat16 ||
         t == DType::Float8E4M3 || t == DType::Float8E5M2;
}

}  // namespace wf
