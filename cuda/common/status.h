// What every launcher returns. Kernels and launchers never throw and never
// touch Node: the binding in native/ turns a Status into a typed JS error.
#pragma once
#include <cuda_runtime_api.h>

namespace wf {

enum class Code : int {
  Ok = 0,
  InvalidArgument,   // a size, pointer or option no kernel can take
  UnsupportedShape,  // legal input, but no instantiated configuration fits
  UnsupportedDtype,
  UnsupportedArch,   // no kernel for this compute capability in this build
  LibraryMissing,    // a run-time library (cuBLASLt, cuSPARSE) could not be loaded
  LibraryError,      // the run-time library answered with an error status
  CudaError,
};

struct Status {
  Code code = Code::Ok;
  cudaError_t cuda = cudaSuccess;  // set when code == CudaError
  int library = 0;                 // the library's own status, when code == LibraryError
  const char* detail = "";         // static string: what was wrong

  bool ok() const { return code == Code::Ok; }
  static Status success() { return {}; }
  static Status fail(Code c, const char* why) { return {c, cudaSuccess, 0, why}; }
  static Status from_cuda(cudaError_t e, const char* where) {
    return e == cudaSuccess ? Status{} : Status{Code::CudaError, e, 0, where};
  }
};

// After a launch: a launch-config error shows up here, an execution error later.
inline Status check_launch(const char* where) { return Status::from_cuda(cudaGetLastError(), where); }

}  // namespace wf
