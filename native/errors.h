// Every failure reaching JavaScript goes through here, so all of them are
// WarpforgeError instances with a `code` (and `cudaError` for CUDA failures).
#pragma once
#include <napi.h>
#include <cuda_runtime_api.h>

#include <string>

#include "../cuda/common/status.h"

namespace wf::node {

Napi::Error make_error(Napi::Env env, const char* code, const std::string& message);
[[noreturn]] void throw_error(Napi::Env env, const char* code, const std::string& message);

// Converts a CUDA error; a sticky one also marks `device` unusable.
Napi::Error cuda_error(Napi::Env env, cudaError_t e, const std::string& where, int device);
inline void check_cuda(Napi::Env env, cudaError_t e, const char* where, int device) {
  if (e != cudaSuccess) throw cuda_error(env, e, where, device);
}
void check_status(Napi::Env env, const Status& s, const char* op, int device);

// Refuses a device that earlier hit a sticky error, then makes it current.
void use_device(Napi::Env env, int device);

// What the kernel planners read off the device: SM count and compute
// capability as major·10 + minor (90 selects the Hopper kernels).
struct LaunchTarget {
  int sm_count;
  int arch;
};
LaunchTarget launch_target(Napi::Env env, int device);

}  // namespace wf::node
