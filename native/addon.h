// Per-instance state of the addon (context-aware: one per Node environment,
// main thread or worker, and no statics anywhere in native/).
#pragma once
#include <napi.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../cuda/matmul/matmul.h"

namespace wf::node {

struct StreamHandle;

struct Addon {

  Napi::FunctionReference error_class;  // lib/errors.ts's WarpforgeError, set at load time
  Napi::FunctionReference buffer_ctor, stream_ctor, event_ctor;

  CublasLt cublaslt;

  // A device that hit a sticky error (illegal address, launch failure…) keeps
  // failing every later call in this process; we refuse to use it and say why.
  std::map<int, std::string> broken_devices;
  // Pools whose release threshold we raised, so freed memory stays cached.
  std::vector<bool> pool_configured;

  // Page-locked staging for device→host copies: cudaMemcpyAsync into pageable
  // memory would block the event loop. Size classes are powers of two.
  std::multimap<size_t, void*> pinned_free;
  size_t pinned_cached_bytes = 0;
  void* take_pinned(size_t bytes, size_t* klass);
  void give_pinned(void* p, size_t klass);
  ~Addon();
};

inline Addon& state(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

// Each file registers its functions on the exports object.
void register_errors(Napi::Env env, Napi::Object exports);
void register_device(Napi::Env env, Napi::Object exports);
void register_memory(Napi::Env env, Napi::Object exports);
void register_stream(Napi::Env env, Napi::Object exports);
void register_tensor_ops(Napi::Env env, Napi::Object exports);
void register_matmul(Napi::Env env, Napi::Object exports);
void register_w4a16(Napi::Env env, Napi::Object exports);
void register_attention(Napi::Env env, Napi::Object exports);

}  // namespace wf::node
