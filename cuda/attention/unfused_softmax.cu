// The unfused baseline's middle step (cuBLAS S = scale·QKᵀ → this → cuBLAS
// P·V): an in-place softmax over each row of S [batch·heads][Sq][Sk] in fp32
// math, with the same bottom-right causal mask as the fused kernel. It exists
// so benchmarks and tests can compare against the path that writes S.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include "attention.h"

namespace wf::attention {

namespace {

template <typename T>
__device__ __forceinline__ float load(const T* p);
template <>
__device__ __forceinline__ float load<__half>(const __half* p) { return __half2float(*p); }
template <>
__device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p) { return __bfloat162float(*p); }

// Max and sum of exp(x - max) merged across the CTA, 256 threads.
__device__ void block_merge(float& mx, float& sum) {
  __shared__ float smx[8], ssum[8];
#pragma unroll
  for (int o = 16; o; o >>= 1) {
    const float om = __shfl_xor_sync(0xffffffffu, mx, o), os = __shfl_xor_sync(0xffffffffu, sum, o);
    const float m = fmaxf(mx, om);
    sum = (mx == -CUDART_INF_F ? 0.f : sum * __expf(mx - m)) + (om == -CUDART_INF_F ? 0.f : os * __expf(om - m));
    mx = m;
  }
  const int warp = threadIdx.x >> 5;
  if ((threadIdx.x & 31) == 0) { smx[warp] = mx; ssum[warp] = sum; }
  __syncthreads();
  mx = -CUDART_INF_F;
  sum = 0.f;
  for (int w = 0; w < 8; ++w) {
    const float m = fmaxf(mx, smx[w]);
    sum = (mx == -CUDART_INF_F ? 0.f : sum * __expf(mx - m)) + (smx[w] == -CUDART_INF_F ? 0.f : ssum[w] * __expf(smx[w] - m));
    mx = m;
  }
}

// One CTA per row: an online max/sum pass, then the normalised write.
template <typename T>
__global__ void __launch_bounds__(256) softmax_rows_kernel(const SoftmaxParams p) {
  T* row = static_cast<T*>(p.x) + (int64_t)blockIdx.x * p.sk;
  const int i = (int)(blockIdx.x % p.sq);
  const int visible = p.causal ? max(0, min(p.sk, i + p.sk - p.sq + 1)) : p.sk;
  float mx = -CUDART_INF_F, sum = 0.f;
  for (int j = threadIdx.x; j < visible; j += blockDim.x) {
    const float x = load(row + j);
    const float m = fmaxf(mx, x);
    sum = sum * __expf(mx - m) + __expf(x - m);
    mx = m;
  }
  block_merge(mx, sum);
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  for (int j = threadIdx.x; j < p.sk; j += blockDim.x)
    row[j] = T(j < visible ? __expf(load(row + j) - mx) * inv : 0.f);
}

}  // namespace

Status launch_softmax_rows(const SoftmaxParams& p, cudaStream_t stream) {
  if (p.rows <= 0 || p.sq <= 0 || p.sk <= 0 || p.rows % p.sq || p.rows > 0x7fffffff)
    return Status::fail(Code::InvalidArgument, "softmax rows: bad sizes");
  if (p.dtype == DType::Float16)
    softmax_rows_kernel<__half><<<(unsigned)p.rows, 256, 0, stream>>>(p);
  else if (p.dtype == DType::BFloat16)
    softmax_rows_kernel<__nv_bfloat16><<<(unsigned)p.rows, 256, 0, stream>>>(p);
  else
    return Status::fail(Code::UnsupportedDtype, "softmax rows: float16 or bfloat16");
  return check_launch("softmax rows");
}

}  // namespace wf::attention
