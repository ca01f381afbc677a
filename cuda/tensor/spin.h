// A kernel that occupies a stream for a set time. Benchmarks queue it ahead
// of the timed launches, so the host can enqueue all of them while the GPU
// is busy and they then run back to back: the events measure GPU time, not
// the host's launch rate.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>

#include "../common/status.h"

namespace wf {
Status launch_spin(uint64_t nanoseconds, cudaStream_t stream);
}
