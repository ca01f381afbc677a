// Attention forward kernels for head dims up to 128 (prefill and decode tiles).
#include "fwd_launch.cuh"

namespace wf::attention {
WF_ATTENTION_HEAD_DIM(128)
}  // namespace wf::attention
