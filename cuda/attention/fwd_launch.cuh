// Launches the forward kernel instantiated for one head dim; the per-head-dim
// files (fwd_d64.cu, …) each compile one of these so the build runs in parallel.
#pragma once
#include "../common/launch.h"
#include "fwd_hopper.cuh"
#include "fwd_kernel.cuh"
#include "tiles.h"

namespace wf::attention {

// Both kernels take the same grid (fwd_block.cuh: make_block).
template <auto Kernel, typename Cfg>
Status launch_grid(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream) {
  Status st = allow_max_smem<Kernel>();
  if (!st.ok()) return st;
  const int64_t heads_y = plan.pack_gqa ? p.kv_heads : p.heads;
  const int64_t ctas = (int64_t)plan.m_blocks * p.batch * heads_y;
  if (ctas > 0x7fffffff) return Status::fail(Code::UnsupportedShape, "attention: more than 2^31 row blocks");
  Kernel<<<dim3((unsigned)ctas, plan.num_splits), Cfg::kThreads, Cfg::kSmemBytes, stream>>>(p);
  return check_launch("attention forward");
}

template <typename Cfg>
Status launch_config(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream) {
  return launch_grid<fwd_kernel<Cfg>, Cfg>(p, plan, stream);
}

template <typename Cfg>
Status launch_hopper(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream) {
  return launch_grid<fwd_hopper_kernel<Cfg>, Cfg>(p, plan, stream);
}

template <typename T, int kD>
Status launch_head_dim(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream) {
  constexpr TileShape pre = tile_shape(kD, false), dec = tile_shape(kD, true), hop = hopper_tile_shape(kD);
  if (plan.hopper) {
    if (plan.block_m == hop.block_m && plan.block_n == hop.block_n)
      return launch_hopper<HopperConfig<T, kD, hop.block_n, hop.block_m / 64>>(p, plan, stream);
    return Status::fail(Code::UnsupportedShape, "attention: no Hopper kernel instantiated for this tile shape");
  }
  if (plan.block_m == pre.block_m && plan.block_n == pre.block_n && !plan.decode)
    return launch_config<FwdConfig<T, kD, pre.block_m, pre.block_n, pre.warps>>(p, plan, stream);
  if (plan.block_m == dec.block_m && plan.block_n == dec.block_n && plan.decode)
    return launch_config<FwdConfig<T, kD, dec.block_m, dec.block_n, dec.warps>>(p, plan, stream);
  return Status::fail(Code::UnsupportedShape, "attention: no kernel instantiated for this tile shape");
}

// One per head-dim file.
#define WF_ATTENTION_HEAD_DIM(KD)                                                         \
  Status launch_fwd_d##KD(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream) { \
    if (p.dtype == DType::Float16) return launch_head_dim<__half, KD>(p, plan, stream);   \
    if (p.dtype == DType::BFloat16) return launch_head_dim<__nv_bfloat16, KD>(p, plan, stream); \
    return Status::fail(Code::UnsupportedDtype, "attention works in float16 or bfloat16"); \
  }

Status launch_fwd_d64(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream);
Status launch_fwd_d128(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream);
Status launch_fwd_d256(const FwdParams& p, const FwdPlan& plan, cudaStream_t stream);

}  // namespace wf::attention
