#include "rand.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

namespace wf {
namespace {

// splitmix64 finaliser: a strong 64-bit mix, so (seed, index) -> bits needs
// no per-thread state and any element can be generated independently.
__device__ __forceinline__ uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// 24 random bits -> [0, 1): exactly representable in float, never 1.0.
__device__ __forceinline__ float unit_float(uint32_t bits) { return (bits >> 8) * (1.0f / 16777216.0f); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __nv_fp8_e4m3 from_float<__nv_fp8_e4m3>(float v) { return __nv_fp8_e4m3(v); }
template <> __device__ __forceinline__ __nv_fp8_e5m2 from_float<__nv_fp8_e5m2>(float v) { return __nv_fp8_e5m2(v); }

template <typename T>
__global__ void rand_float_kernel(T* out, int64_t n, uint64_t seed, Distribution dist, float a, float b) {
  const uint64_t key = mix64(seed ^ 0x9e3779b97f4a7c15ull);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const uint64_t r = mix64(key + (uint64_t)i * 0x9e3779b97f4a7c15ull);
    float v;
    if (dist == Distribution::Uniform) {
      v = a + (b - a) * unit_float((uint32_t)r);
    } else {
      // Box-Muller on two independent 32-bit halves; u1 in (0, 1] keeps log finite.
      const float u1 = 1.0f - unit_float((uint32_t)r);
      const float u2 = unit_float((uint32_t)(r >> 32));
      v = a + b * sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
    }
    out[i] = from_float<T>(v);
  }
}

template <typename T>
__global__ void rand_int_kernel(T* out, int64_t n, uint64_t seed, int64_t lo, uint64_t span) {
  const uint64_t key = mix64(seed ^ 0x9e3779b97f4a7c15ull);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const uint64_t r = mix64(key + (uint64_t)i * 0x9e3779b97f4a7c15ull);
    out[i] = (T)(lo + (int64_t)(r % span));
  }
}

template <typename T>
Status run_float(const RandParams& p, cudaStream_t s, int grid) {
  rand_float_kernel<T><<<grid, 256, 0, s>>>((T*)p.out, p.numel, p.seed, p.dist, (float)p.a, (float)p.b);
  return check_launch("rand");
}

template <typename T>
Status run_int(const RandParams& p, cudaStream_t s, int grid) {
  const int64_t lo = (int64_t)floor(p.a), hi = (int64_t)floor(p.b);
  if (hi <= lo) return Status::fail(Code::InvalidArgument, "integer rand needs high > low");
  rand_int_kernel<T><<<grid, 256, 0, s>>>((T*)p.out, p.numel, p.seed, lo, (uint64_t)(hi - lo));
  return check_launch("rand");
}

}  // namespace

Status launch_rand(const RandParams& p, cudaStream_t stream) {
  if (p.numel == 0) return Status::success();
  if (p.numel < 0 || p.out == nullptr) return Status::fail(Code::InvalidArgument, "rand: bad size or pointer");
  if (p.dist == Distribution::Normal && !dtype_is_float(p.dtype))
    return Status::fail(Code::UnsupportedDtype, "randn needs a floating-point dtype");
  // Grid-stride loop: a few waves of 256-thread blocks saturate HBM on any GPU.
  const int64_t blocks = (p.numel + 255) / 256;
  const int grid = (int)(blocks < 65536 ? blocks : 65536);
  switch (p.dtype) {
    case DType::Float32: return run_float<float>(p, stream, grid);
    case DType::Float16: return run_float<__half>(p, stream, grid);
    case DType::BFloat16: return run_float<__nv_bfloat16>(p, stream, grid);
    case DType::Float8E4M3: return run_float<__nv_fp8_e4m3>(p, stream, grid);
    case DType::Float8E5M2: return run_float<__nv_fp8_e5m2>(p, stream, grid);
    case DType::Int8: return run_int<int8_t>(p, stream, grid);
    case DType::UInt8: return run_int<uint8_t>(p, stream, grid);
    case DType::Int32: return run_int<int32_t>(p, stream, grid);
    case DType::Int4Packed: break;
  }
  return Status::fail(Code::UnsupportedDtype, "rand does not fill packed int4");
}

}  // namespace wf
