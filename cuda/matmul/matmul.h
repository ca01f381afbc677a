// Dense GEMM through cuBLASLt: the reference path and the baseline every
// warpforge kernel is benchmarked against.
//
// Row-major, as in PyTorch: C[M,N] = A[M,K] · op(B), where op(B) is B[K,N], or
// B[N,K]ᵀ when trans_b (a Linear layer's weight). cuBLASLt is column-major, so
// the launcher computes Cᵀ = op(B)ᵀ · Aᵀ, which reads the same bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include <cuda_runtime_api.h>
#include "../common/dtype.h"
#include "../common/status.h"
#include "cublaslt_api.h"

namespace wf {

struct MatmulParams {
  const void* a;
  const void* b;
  void* c;
  int64_t m, n, k;
  bool trans_b;
  DType dtype;  // float32, float16 or bfloat16; A, B and C share it; accumulation is float32
  const void* bias;  // [N] of dtype, added to every row of C; or null
  int64_t batch = 1;  // > 1: that many contiguous A, B and C matrices, one after another
  float alpha = 1.f;  // C = alpha · A · op(B) (+ bias)
};

// Owns the dlopen'ed library and one handle per device. Lives
// in the addon's instance data; nothing here is static.
class CublasLt {
 public:
  CublasLt() = default;
  ~CublasLt();
  CublasLt(const CublasLt&) = delete;
  CublasLt& operator=(const CublasLt&) = delete;

  // Loads on first use; afterwards returns the cached outcome.
  bool load();
  const std::string& load_error() const { return error_; }
  const std::string& loaded_from() const { return path_; }
  size_t version() const { return loaded_ && api_.getVersion ? api_.getVersion() : 0; }

  Status matmul(const MatmulParams& p, int device, cudaStream_t stream);

 private:
  struct PerDevice {
    lt::Handle handle = nullptr;
  };
  Status ready(int device, PerDevice** out);

  void* lib_ = nullptr;
  bool tried_ = false, loaded_ = false;
  std::string error_, path_;
  lt::Api api_{};
  std::vector<PerDevice> devices_;
};

}  // namespace wf
