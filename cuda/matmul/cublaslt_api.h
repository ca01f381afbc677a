// The slice of cublasLt.h that warpforge calls, declared here so the addon
// builds on machines that have nvcc but no cuBLAS, and so nothing links
// against cuBLAS: the library is dlopen'ed when the first matmul runs. The
// enum values and struct layouts are cuBLASLt's stable public ABI (v11.4+).
#pragma once
#include <cstddef>
#include <cstdint>
#include <library_types.h>
#include <cuda_runtime_api.h>

namespace wf::lt {

using Status = int;  // cublasStatus_t; 0 = CUBLAS_STATUS_SUCCESS
struct Context;
using Handle = Context*;
struct MatmulDescOpaque;
using MatmulDesc = MatmulDescOpaque*;
struct LayoutOpaque;
using Layout = LayoutOpaque*;
struct PreferenceOpaque;
using Preference = PreferenceOpaque*;

struct Algo { uint64_t data[8]; };
struct HeuristicResult {
  Algo algo;
  size_t workspaceSize;
  Status state;
  float wavesCount;
  int reserved[4];
};

constexpr int kComputeF32 = 68;        // CUBLAS_COMPUTE_32F
constexpr int kDescTransA = 3;         // CUBLASLT_MATMUL_DESC_TRANSA
constexpr int kDescTransB = 4;         // CUBLASLT_MATMUL_DESC_TRANSB
constexpr int kDescEpilogue = 7;       // CUBLASLT_MATMUL_DESC_EPILOGUE
constexpr int kDescBiasPointer = 8;    // CUBLASLT_MATMUL_DESC_BIAS_POINTER
constexpr uint32_t kEpilogueBias = 4;  // CUBLASLT_EPILOGUE_BIAS: D += bias[row of D]
constexpr int kLayoutBatchCount = 5;   // CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT (int32)
constexpr int kLayoutBatchStride = 6;  // CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET (int64, elements)
constexpr int kPrefMaxWorkspace = 1;   // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
constexpr int32_t kOpN = 0, kOpT = 1;  // cublasOperation_t

struct Api {
  Status (*create)(Handle*);
  Status (*destroy)(Handle);
  size_t (*getVersion)();
  Status (*descCreate)(MatmulDesc*, int computeType, cudaDataType_t scaleType);
  Status (*descDestroy)(MatmulDesc);
  Status (*descSetAttribute)(MatmulDesc, int attr, const void* buf, size_t size);
  Status (*layoutCreate)(Layout*, cudaDataType_t, uint64_t rows, uint64_t cols, int64_t ld);
  Status (*layoutDestroy)(Layout);
  Status (*layoutSetAttribute)(Layout, int attr, const void* buf, size_t size);
  Status (*prefCreate)(Preference*);
  Status (*prefDestroy)(Preference);
  Status (*prefSetAttribute)(Preference, int attr, const void* buf, size_t size);
  Status (*heuristic)(Handle, MatmulDesc, Layout, Layout, Layout, Layout, Preference, int requested,
                      HeuristicResult* results, int* returned);
  Status (*matmul)(Handle, MatmulDesc, const void* alpha, const void* A, Layout, const void* B, Layout,
                   const void* beta, const void* C, Layout, void* D, Layout, const Algo*, void* workspace,
                   size_t workspaceSize, cudaStream_t);
};

}  // namespace wf::lt
