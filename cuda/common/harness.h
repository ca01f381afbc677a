// What the standalone kernel harnesses (cuda/*/harness.cu) share: exit on a
// CUDA error with its location, and read integer knobs from the environment.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime_api.h>

#define WF_CHECK(x)                                                                          \
  do {                                                                                       \
    cudaError_t e_ = (x);                                                                    \
    if (e_ != cudaSuccess) {                                                                 \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
      std::exit(2);                                                                          \
    }                                                                                        \
  } while (0)

namespace wf::harness {

inline int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : def;
}

}  // namespace wf::harness
