#include <dlfcn.h>
#include <cstdlib>

#include "matmul.h"

namespace wf {
namespace {

// What cuBLASLt's Hopper kernels ask for at most. Taken from the stream-ordered
// pool per call, so two streams never share one workspace.
constexpr size_t kWorkspaceBytes = 32u << 20;

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::Float16: return CUDA_R_16F;
    case DType::BFloat16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// Destroys cuBLASLt descriptors on every exit path of matmul().
template <typename T>
struct Owned {
  T value = nullptr;
  lt::Status (*destroy)(T) = nullptr;
  ~Owned() { if (value && destroy) destroy(value); }
};

}  // namespace

CublasLt::~CublasLt() {
  for (auto& d : devices_) {
    if (d.handle) api_.destroy(d.handle);
  }
  if (lib_) dlclose(lib_);
}

bool CublasLt::load() {
  if (tried_) return loaded_;
  tried_ = true;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("WARPFORGE_CUBLASLT")) candidates.push_back(env);
  for (const char* name : {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}) candidates.push_back(name);
  for (const char* dir : {"/usr/local/cuda/lib64/", "/usr/local/cuda/targets/x86_64-linux/lib/"})
    candidates.push_back(std::string(dir) + "libcublasLt.so.13");
  std::string tried;
  for (const auto& c : candidates) {
    lib_ = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib_) { path_ = c; break; }
    tried += (tried.empty() ? "" : ", ") + c;
  }
  if (!lib_) {
    error_ = "cuBLASLt not found (tried " + tried + "); install the CUDA toolkit's cuBLAS or set WARPFORGE_CUBLASLT";
    return false;
  }
  bool all = true;
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib_, name));
    if (!fn) { all = false; error_ += std::string(error_.empty() ? "" : ", ") + name; }
  };
  sym(api_.create, "cublasLtCreate");
  sym(api_.destroy, "cublasLtDestroy");
  sym(api_.getVersion, "cublasLtGetVersion");
  sym(api_.descCreate, "cublasLtMatmulDescCreate");
  sym(api_.descDestroy, "cublasLtMatmulDescDestroy");
  sym(api_.descSetAttribute, "cublasLtMatmulDescSetAttribute");
  sym(api_.layoutCreate, "cublasLtMatrixLayoutCreate");
  sym(api_.layoutDestroy, "cublasLtMatrixLayoutDestroy");
  sym(api_.layoutSetAttribute, "cublasLtMatrixLayoutSetAttribute");
  sym(api_.prefCreate, "cublasLtMatmulPreferenceCreate");
  sym(api_.prefDestroy, "cublasLtMatmulPreferenceDestroy");
  sym(api_.prefSetAttribute, "cublasLtMatmulPreferenceSetAttribute");
  sym(api_.heuristic, "cublasLtMatmulAlgoGetHeuristic");
  sym(api_.matmul, "cublasLtMatmul");
  if (!all) {
    error_ = path_ + " lacks symbols: " + error_;
    dlclose(lib_);
    lib_ = nullptr;
    return false;
  }
  loaded_ = true;
  return true;
}

Status CublasLt::ready(int device, PerDevice** out) {
  if (!load()) return Status::fail(Code::LibraryMissing, "cuBLASLt could not be loaded");
  if (device < 0) return Status::fail(Code::InvalidArgument, "bad device index");
  if ((size_t)device >= devices_.size()) devices_.resize(device + 1);
  PerDevice& d = devices_[device];
  if (!d.handle) {
    lt::Status s = api_.create(&d.handle);
    if (s != 0) return {Code::LibraryError, cudaSuccess, s, "cublasLtCreate"};
  }
  *out = &d;
  return Status::success();
}

Status CublasLt::matmul(const MatmulParams& p, int device, cudaStream_t stream) {
  if (p.m <= 0 || p.n <= 0 || p.k <= 0 || p.batch <= 0 || p.batch > 0x7fffffff)
    return Status::fail(Code::InvalidArgument, "matmul sizes must be positive");
  if (p.dtype != DType::Float32 && p.dtype != DType::Float16 && p.dtype != DType::BFloat16)
    return Status::fail(Code::UnsupportedDtype, "matmul takes float32, float16 or bfloat16");
  PerDevice* d = nullptr;
  Status st = ready(device, &d);
  if (!st.ok()) return st;

  const cudaDataType_t t = cuda_type(p.dtype);
  auto fail = [](lt::Status s, const char* where) { return Status{Code::LibraryError, cudaSuccess, s, where}; };

  Owned<lt::MatmulDesc> desc{nullptr, api_.descDestroy};
  if (lt::Status s = api_.descCreate(&desc.value, lt::kComputeF32, CUDA_R_32F)) return fail(s, "cublasLtMatmulDescCreate");
  // Column-major view: D(N×M) = opA(N×K) · B(K×M), where "A" is our B and "B" is our A.
  const int32_t op_a = p.trans_b ? lt::kOpT : lt::kOpN, op_b = lt::kOpN;
  api_.descSetAttribute(desc.value, lt::kDescTransA, &op_a, sizeof op_a);
  api_.descSetAttribute(desc.value, lt::kDescTransB, &op_b, sizeof op_b);
  if (p.bias) {
    // Bias indexes the rows of the column-major D (N × M): our columns.
    api_.descSetAttribute(desc.value, lt::kDescEpilogue, &lt::kEpilogueBias, sizeof lt::kEpilogueBias);
    api_.descSetAttribute(desc.value, lt::kDescBiasPointer, &p.bias, sizeof p.bias);
  }

  Owned<lt::Layout> la{nullptr, api_.layoutDestroy}, lb{nullptr, api_.layoutDestroy}, lc{nullptr, api_.layoutDestroy};
  lt::Status s1 = p.trans_b ? api_.layoutCreate(&la.value, t, p.k, p.n, p.k) : api_.layoutCreate(&la.value, t, p.n, p.k, p.n);
  lt::Status s2 = api_.layoutCreate(&lb.value, t, p.k, p.m, p.k);
  lt::Status s3 = api_.layoutCreate(&lc.value, t, p.n, p.m, p.n);
  if (s1 || s2 || s3) return fail(s1 ? s1 : s2 ? s2 : s3, "cublasLtMatrixLayoutCreate");
  if (p.batch > 1) {
    // Strided batches of contiguous matrices: every operand steps by its own size.
    const int32_t count = (int32_t)p.batch;
    const int64_t strides[3] = {p.n * p.k, p.k * p.m, p.n * p.m};
    lt::Layout layouts[3] = {la.value, lb.value, lc.value};
    for (int i = 0; i < 3; ++i) {
      lt::Status sa = api_.layoutSetAttribute(layouts[i], lt::kLayoutBatchCount, &count, sizeof count);
      lt::Status sb = api_.layoutSetAttribute(layouts[i], lt::kLayoutBatchStride, &strides[i], sizeof strides[i]);
      if (sa || sb) return fail(sa ? sa : sb, "cublasLtMatrixLayoutSetAttribute (batch)");
    }
  }

  Owned<lt::Preference> pref{nullptr, api_.prefDestroy};
  if (lt::Status s = api_.prefCreate(&pref.value)) return fail(s, "cublasLtMatmulPreferenceCreate");
  const uint64_t ws = kWorkspaceBytes;
  api_.prefSetAttribute(pref.value, lt::kPrefMaxWorkspace, &ws, sizeof ws);

  lt::HeuristicResult best{};
  int found = 0;
  lt::Status hs = api_.heuristic(d->handle, desc.value, la.value, lb.value, lc.value, lc.value, pref.value, 1, &best, &found);
  if (hs != 0 || found == 0) return fail(hs ? hs : 15 /* NOT_SUPPORTED */, "cuBLASLt found no algorithm for this shape");

  void* workspace = nullptr;
  const size_t ws_bytes = best.workspaceSize;
  if (ws_bytes) {
    cudaError_t e = cudaMallocAsync(&workspace, ws_bytes, stream);
    if (e != cudaSuccess) return Status::from_cuda(e, "cuBLASLt workspace");
  }
  const float alpha = p.alpha, beta = 0.0f;
  lt::Status ms = api_.matmul(d->handle, desc.value, &alpha, p.b, la.value, p.a, lb.value, &beta, p.c, lc.value, p.c,
                              lc.value, &best.algo, workspace, ws_bytes, stream);
  if (workspace) cudaFreeAsync(workspace, stream);
  if (ms != 0) return fail(ms, "cublasLtMatmul");
  return check_launch("cublasLtMatmul");
}

}  // namespace wf
