// Writes new K/V rows into a KV cache (contiguous or paged) at each
// sequence's current length, in the same stream as the attention that reads
// them, so decode steps need no host round trip.
#include <cstdint>

#include "../common/clamp.h"
#include "align.h"
#include "attention.h"

namespace wf::attention {

namespace {

// grid (s_new, batch); each thread copies 16-byte chunks of (kv head, dims).
__global__ void __launch_bounds__(128) append_kernel(const AppendParams p) {
  const int i = blockIdx.x, b = blockIdx.y;
  const int64_t n64 = (int64_t)clampi(p.seqused[b], 0, p.capacity) + i;  // int64: capacity + i may pass 2^31
  if (n64 >= p.capacity) return;
  const int n = (int)n64;  // no room: dropped (checked on the host when lengths are known)
  int64_t krow = (int64_t)b * p.k_batch + (int64_t)n * p.k_row;
  int64_t vrow = (int64_t)b * p.v_batch + (int64_t)n * p.v_row;
  if (p.block_table) {
    const int page = clampi(p.block_table[(int64_t)b * p.block_table_stride + n / p.page_size], 0, p.num_pages - 1);
    krow = (int64_t)page * p.k_batch + (int64_t)(n % p.page_size) * p.k_row;
    vrow = (int64_t)page * p.v_batch + (int64_t)(n % p.page_size) * p.v_row;
  }
  const int chunks = p.d / 8;
  const uint16_t* kn = static_cast<const uint16_t*>(p.k_new) + (int64_t)b * p.kn_batch + (int64_t)i * p.kn_row;
  const uint16_t* vn = static_cast<const uint16_t*>(p.v_new) + (int64_t)b * p.vn_batch + (int64_t)i * p.vn_row;
  uint16_t* kc = static_cast<uint16_t*>(p.k_cache) + krow;
  uint16_t* vc = static_cast<uint16_t*>(p.v_cache) + vrow;
  for (int t = threadIdx.x; t < p.kv_heads * chunks; t += blockDim.x) {
    const int h = t / chunks, c = (t % chunks) * 8;
    *reinterpret_cast<uint4*>(kc + (int64_t)h * p.k_head + c) = *reinterpret_cast<const uint4*>(kn + (int64_t)h * p.kn_head + c);
    *reinterpret_cast<uint4*>(vc + (int64_t)h * p.v_head + c) = *reinterpret_cast<const uint4*>(vn + (int64_t)h * p.vn_head + c);
  }
}


}  // namespace

Status launch_append_kv(const AppendParams& p, cudaStream_t stream) {
  if (p.dtype != DType::Float16 && p.dtype != DType::BFloat16)
    return Status::fail(Code::UnsupportedDtype, "KV append works in float16 or bfloat16");
  if (p.d <= 0 || p.d % 8 || p.batch <= 0 || p.kv_heads <= 0 || p.capacity < 0 || !p.seqused)
    return Status::fail(Code::InvalidArgument, "KV append: bad sizes");
  if (p.block_table && (p.page_size <= 0 || p.num_pages <= 0))
    return Status::fail(Code::InvalidArgument, "KV append: paged cache needs page_size and num_pages");
  if (!rows_aligned(p.k_new, p.kn_batch, p.kn_row, p.kn_head) || !rows_aligned(p.v_new, p.vn_batch, p.vn_row, p.vn_head) ||
      !rows_aligned(p.k_cache, p.k_batch, p.k_row, p.k_head) || !rows_aligned(p.v_cache, p.v_batch, p.v_row, p.v_head))
    return Status::fail(Code::InvalidArgument, "KV append: rows must be 16-byte aligned");
  if (p.s_new == 0) return Status::success();
  if (p.batch > 65535) return Status::fail(Code::UnsupportedShape, "KV append: batch above 65535");
  append_kernel<<<dim3(p.s_new, p.batch), 128, 0, stream>>>(p);
  return check_launch("KV append");
}

}  // namespace wf::attention
