// Seeded device-side random fill, for benchmarks and tests that need large
// inputs without a host round trip. Counter-based: element i of a given seed
// is the same whatever the grid, so results are reproducible across GPUs.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "../common/dtype.h"
#include "../common/status.h"

namespace wf {

enum class Distribution : int32_t { Uniform = 0, Normal = 1 };

struct RandParams {
  void* out;
  DType dtype;
  int64_t numel;
  uint64_t seed;
  Distribution dist;
  // Uniform: [a, b). Normal: mean a, standard deviation b. Integer dtypes take
  // uniform integers in [a, b) (a, b rounded down).
  double a;
  double b;
};

Status launch_rand(const RandParams& p, cudaStream_t stream);

}  // namespace wf
