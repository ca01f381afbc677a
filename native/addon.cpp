// Module entry. Nothing here touches CUDA: the addon must load on a machine
// with no driver and no GPU, so every CUDA call waits for the first real use.
#include "addon.h"

#include <cuda_runtime_api.h>

namespace wf::node {

namespace {
constexpr size_t kPinnedCacheLimit = 256u << 20;

size_t size_class(size_t bytes) {
  size_t k = 4096;
  while (k < bytes) k <<= 1;
  return k;
}
}  // namespace

void* Addon::take_pinned(size_t bytes, size_t* klass) {
  *klass = size_class(bytes);
  auto it = pinned_free.find(*klass);
  if (it != pinned_free.end()) {
    void* p = it->second;
    pinned_free.erase(it);
    pinned_cached_bytes -= *klass;
    return p;
  }
  void* p = nullptr;
  if (cudaMallocHost(&p, *klass) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return p;
}

void Addon::give_pinned(void* p, size_t klass) {
  if (pinned_cached_bytes + klass > kPinnedCacheLimit) {
    cudaFreeHost(p);
    return;
  }
  pinned_free.emplace(klass, p);
  pinned_cached_bytes += klass;
}

Addon::~Addon() {
  for (auto& [k, p] : pinned_free) cudaFreeHost(p);
}

namespace {

// Runs once per environment (main thread and each worker): the state is
// instance data, freed by Node when that environment exits.
Napi::Object init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new Addon());
  register_errors(env, exports);
  register_device(env, exports);
  register_memory(env, exports);
  register_stream(env, exports);
  register_tensor_ops(env, exports);
  register_matmul(env, exports);
  register_w4a16(env, exports);
  register_attention(env, exports);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace
}  // namespace wf::node

// NODE_API_MODULE pastes the name into an identifier: it needs an unqualified one.
static Napi::Object warpforge_init(Napi::Env env, Napi::Object exports) { return wf::node::init(env, exports); }
NODE_API_MODULE(warpforge, warpforge_init)
