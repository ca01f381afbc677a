// Attention forward kernels for head dims up to 64 (prefill and decode tiles).
#include "fwd_launch.cuh"

namespace wf::attention {
WF_ATTENTION_HEAD_DIM(64)
}  // namespace wf::attention
