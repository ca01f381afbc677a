// Attention forward kernels for head dims up to 256 (prefill and decode tiles).
#include "fwd_launch.cuh"

namespace wf::attention {
WF_ATTENTION_HEAD_DIM(256)
}  // namespace wf::attention
