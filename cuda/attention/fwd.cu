// Attention forward: checks the params, plans the split, dispatches by head dim.
#include <cstdint>

#include "align.h"
#include "attention.h"
#include "fwd_launch.cuh"
#include "tiles.h"

namespace wf::attention {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

#ifdef WARPFORGE_SM90A
constexpr bool kHopperBuilt = true;
#else
constexpr bool kHopperBuilt = false;  // a build without sm_90a has no wgmma kernel body
#endif

Status check(const FwdParams& p, const FwdPlan& plan) {
  if (p.dtype != DType::Float16 && p.dtype != DType::BFloat16)
    return Status::fail(Code::UnsupportedDtype, "attention works in float16 or bfloat16");
  if (p.d <= 0 || p.d > 256 || p.d % 8) return Status::fail(Code::UnsupportedShape, "attention: head dim must be a multiple of 8 up to 256");
  if (p.batch <= 0 || p.heads <= 0 || p.kv_heads <= 0 || p.heads % p.kv_heads)
    return Status::fail(Code::InvalidArgument, "attention: heads must be a positive multiple of kv_heads");
  if (p.seqlen_q < 0 || p.seqlen_k < 0) return Status::fail(Code::InvalidArgument, "attention: negative sequence length");
  // Empty K/V (Sk = 0) are never read: every row outputs zeros.
  if (!p.q || !p.out || (p.seqlen_k > 0 && (!p.k || !p.v))) return Status::fail(Code::InvalidArgument, "attention: null tensor");
  if (!rows_aligned(p.q, p.q_batch, p.q_row, p.q_head) || !rows_aligned(p.k, p.k_batch, p.k_row, p.k_head) ||
      !rows_aligned(p.v, p.v_batch, p.v_row, p.v_head) || !rows_aligned(p.out, p.o_batch, p.o_row, p.o_head))
    return Status::fail(Code::InvalidArgument, "attention: q, k, v and out rows must be 16-byte aligned");
  // The max is taken over unscaled scores, so the scale must keep their order.
  if (!(p.scale > 0.f) || !(p.scale < 3.0e38f) || !(p.softcap >= 0.f) || !(p.softcap < 3.0e38f))
    return Status::fail(Code::InvalidArgument, "attention: scale must be finite and > 0, softcap finite and ≥ 0");
  if (p.window_left < -1 || p.window_right < -1) return Status::fail(Code::InvalidArgument, "attention: window edges must be ≥ -1");
  if ((int64_t)p.seqlen_q * (p.heads / p.kv_heads) >= 0x7fffffff)
    return Status::fail(Code::UnsupportedShape, "attention: seqlen_q × (heads / kv_heads) must stay below 2^31");
  if (p.block_table && (p.page_size <= 0 || p.num_pages <= 0 || p.block_table_stride <= 0))
    return Status::fail(Code::InvalidArgument, "attention: paged KV needs page_size, num_pages and a block table stride");
  if (plan.num_splits < 1 || plan.num_splits > kMaxSplits) return Status::fail(Code::InvalidArgument, "attention: split count out of range");
  if (plan.num_splits > 1 && (p.cu_seqlens_q || !p.o_accum || !p.lse_accum))
    return Status::fail(Code::InvalidArgument, "attention: split-KV needs fixed query lengths and its fp32 scratch");
  if (plan.pack_gqa != p.pack_gqa) return Status::fail(Code::InvalidArgument, "attention: params and plan disagree on pack_gqa");
  return Status::success();
}

}  // namespace

FwdPlan plan_fwd(const FwdParams& p, bool decode, int splits) {
  FwdPlan plan{};
  // Decode is bound by reading K/V, which the mma.sync kernel already does
  // at copy bandwidth; prefill on Hopper is the wgmma kernel's.
  plan.hopper = kHopperBuilt && !decode && p.arch == 90;
  const TileShape t = plan.hopper ? hopper_tile_shape(kernel_head_dim(p.d)) : tile_shape(kernel_head_dim(p.d), decode);
  plan.decode = decode;
  plan.block_m = t.block_m;
  plan.block_n = t.block_n;
  const int group = p.kv_heads > 0 ? p.heads / p.kv_heads : 1;
  // Decode has a handful of query rows per head: the heads that read the same
  // K/V rows share one tile, so K/V is read once per KV head, not per head.
  plan.pack_gqa = decode && group > 1;
  const int64_t rows = (int64_t)p.seqlen_q * (plan.pack_gqa ? group : 1);
  plan.m_blocks = (int)ceil_div(rows > 0 ? rows : 1, plan.block_m);
  plan.num_splits = 1;
  if (splits > 0) {
    plan.num_splits = splits;
  } else if (decode && !p.cu_seqlens_q) {
    // Too few (batch, KV head) tiles to fill the GPU: cut each sequence's
    // keys into as many splits as fit in one wave of two CTAs per SM
    // (rounding up would leave a second, mostly idle wave), keeping at
    // least one K/V tile per split.
    const int64_t base = (int64_t)p.batch * (plan.pack_gqa ? p.kv_heads : p.heads) * plan.m_blocks;
    const int64_t target = 2 * (int64_t)(p.sm_count > 0 ? p.sm_count : 132);
    const int64_t n_blocks = ceil_div(p.seqlen_k, plan.block_n);
    if (base < target) {
      int64_t s = target / base;
      if (s > n_blocks) s = n_blocks;
      if (s > kMaxSplits) s = kMaxSplits;
      plan.num_splits = s > 1 ? (int)s : 1;
    }
  }
  if (plan.num_splits > 1) {
    const size_t rows_all = (size_t)plan.num_splits * p.batch * p.heads * p.seqlen_q;
    plan.accum_bytes = rows_all * (size_t)(p.d + 1) * sizeof(float);
  }
  return plan;
}

Status launch_fwd(FwdParams p, const FwdPlan& plan, cudaStream_t stream) {
  p.num_splits = plan.num_splits;
  if (p.seqlen_q == 0) return Status::success();  // nothing to write (and zero-size tensors have no pointer)
  // A window edge at least as wide as the sequences is no edge; normalising
  // it here keeps the kernel's int bounds (qpos + diag ± window) from wrapping.
  if (p.window_left >= p.seqlen_k) p.window_left = -1;
  if (p.window_right >= p.seqlen_q) p.window_right = -1;
  Status st = check(p, plan);
  if (!st.ok()) return st;
  switch (kernel_head_dim(p.d)) {
    case 64: st = launch_fwd_d64(p, plan, stream); break;
    case 128: st = launch_fwd_d128(p, plan, stream); break;
    case 256: st = launch_fwd_d256(p, plan, stream); break;
    default: return Status::fail(Code::UnsupportedShape, "attention: no kernel for this head dim");
  }
  if (!st.ok() || plan.num_splits == 1) return st;
  return launch_combine(p, stream);
}

}  // namespace wf::attention
