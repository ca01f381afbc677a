// Split-KV combine (FlashDecoding's second pass): each split wrote its rows
// normalised by its own sum plus that sum's log; the final row is the
// softmax-weighted mix of the splits, exp(lse_s - lse) each.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include "attention.h"

namespace wf::attention {

namespace {

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// One CTA per (batch, head, query) row; one warp weighs the splits.
template <typename T>
__global__ void __launch_bounds__(128) combine_kernel(const FwdParams p) {
  __shared__ float weight[kMaxSplits];
  __shared__ float row_lse;
  const int64_t row = blockIdx.x;  // ((b · heads) + h) · seqlen_q + s
  const int64_t plane = (int64_t)p.batch * p.heads * p.seqlen_q;
  const int s = (int)(row % p.seqlen_q);
  const int h = (int)((row / p.seqlen_q) % p.heads);
  const int b = (int)(row / ((int64_t)p.seqlen_q * p.heads));
  if (threadIdx.x < 32) {
    const int lane = threadIdx.x;
    float mx = -CUDART_INF_F;
    for (int i = lane; i < p.num_splits; i += 32) mx = fmaxf(mx, p.lse_accum[i * plane + row]);
#pragma unroll
    for (int o = 16; o; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float sum = 0.f;
    for (int i = lane; i < p.num_splits; i += 32) {
      const float e = mx == -CUDART_INF_F ? 0.f : __expf(p.lse_accum[i * plane + row] - mx);
      weight[i] = e;
      sum += e;
    }
#pragma unroll
    for (int o = 16; o; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    for (int i = lane; i < p.num_splits; i += 32) weight[i] *= inv;
    if (lane == 0) row_lse = sum > 0.f ? mx + __logf(sum) : -CUDART_INF_F;
  }
  __syncthreads();
  T* out = static_cast<T*>(p.out) + (int64_t)b * p.o_batch + (int64_t)s * p.o_row + (int64_t)h * p.o_head;
  for (int col = threadIdx.x; col < p.d; col += blockDim.x) {
    float acc = 0.f;
    for (int i = 0; i < p.num_splits; ++i) acc += weight[i] * p.o_accum[(i * plane + row) * p.d + col];
    out[col] = from_float<T>(acc);
  }
  if (p.lse && threadIdx.x == 0) p.lse[(int64_t)b * p.lse_batch + (int64_t)h * p.lse_head + s] = row_lse;
}

}  // namespace

Status launch_combine(const FwdParams& p, cudaStream_t stream) {
  const int64_t rows = (int64_t)p.batch * p.heads * p.seqlen_q;
  if (rows > 0x7fffffff) return Status::fail(Code::UnsupportedShape, "attention combine: too many rows");
  if (p.dtype == DType::Float16)
    combine_kernel<__half><<<(unsigned)rows, 128, 0, stream>>>(p);
  else
    combine_kernel<__nv_bfloat16><<<(unsigned)rows, 128, 0, stream>>>(p);
  return check_launch("attention combine");
}

}  // namespace wf::attention
