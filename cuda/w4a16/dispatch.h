// Host-side dispatch of the w4a16 kernels over their compile-time kinds.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "w4a16.h"

namespace wf::w4a16 {

// Calls run(Kind<T, ASYM>{}) for the activation dtype and zero points of p.
template <typename T_, bool ASYM_>
struct Kind {
  using T = T_;
  static constexpr bool kAsym = ASYM_;
};
template <typename Run>
Status by_kind(const GemmParams& p, Run&& run) {
  switch (p.dtype) {
    case DType::Float16: return p.zeros ? run(Kind<__half, true>{}) : run(Kind<__half, false>{});
    case DType::BFloat16: return p.zeros ? run(Kind<__nv_bfloat16, true>{}) : run(Kind<__nv_bfloat16, false>{});
    default: return Status::fail(Code::UnsupportedDtype, "w4a16: activations must be float16 or bfloat16");
  }
}

// Launch with programmatic stream serialization (common/pdl.h) on sm_90:
// back-to-back GEMMs (a decoder's layers) then have their CTAs placed while
// the one before finishes.
inline bool use_pdl(const GemmParams& p) { return p.arch >= 90 && p.pdl_override != 2; }

}  // namespace wf::w4a16
