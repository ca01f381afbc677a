// Waiting for the GPU without blocking Node. A promise-returning call records
// an event, and a dedicated thread (never one of libuv's pool, which fs and
// dns share) blocks on it; the result comes back through a thread-safe
// function, so the event loop keeps running while the GPU works.
#pragma once
#include <napi.h>
#include <cuda_runtime_api.h>

#include <functional>

namespace wf::node {

struct WaitJob {
  int device = 0;
  cudaEvent_t event = nullptr;  // owned: destroyed once waited on
  // Runs on the waiting thread after the event completed (may be empty).
  std::function<cudaError_t()> on_thread;
  // Runs on the main thread; its value resolves the promise.
  std::function<Napi::Value(Napi::Env)> on_done;
  // Runs on the main thread whether or not the wait succeeded.
  std::function<void(Napi::Env)> cleanup;
};

// Records a blocking-sync event on `stream` and returns a promise settled when
// the work queued on `stream` so far has finished.
Napi::Promise wait_on_stream(Napi::Env env, cudaStream_t stream, WaitJob job);

}  // namespace wf::node
