#include "async_wait.h"

#include <thread>

#include "errors.h"

namespace wf::node {

namespace {

struct Pending {
  WaitJob job;
  Napi::Promise::Deferred deferred;
  cudaError_t error = cudaSuccess;
  const char* where = "";
};

void settle(Napi::Env env, Napi::Function, std::nullptr_t*, Pending* p) {
  if (env != nullptr) {  // null when the environment is shutting down
    try {
      if (p->error != cudaSuccess) {
        p->deferred.Reject(cuda_error(env, p->error, p->where, p->job.device).Value());
      } else {
        p->deferred.Resolve(p->job.on_done ? p->job.on_done(env) : env.Undefined());
      }
    } catch (const Napi::Error& e) {
      p->deferred.Reject(e.Value());
    }
    if (p->job.cleanup) p->job.cleanup(env);
  }
  delete p;
}

using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Pending, settle>;

}  // namespace

Napi::Promise wait_on_stream(Napi::Env env, cudaStream_t stream, WaitJob job) {
  auto* p = new Pending{std::move(job), Napi::Promise::Deferred::New(env)};
  Napi::Promise promise = p->deferred.Promise();
  // Blocking sync: the waiting thread sleeps instead of spinning a core.
  cudaError_t e = cudaEventCreateWithFlags(&p->job.event, cudaEventBlockingSync | cudaEventDisableTiming);
  if (e == cudaSuccess) e = cudaEventRecord(p->job.event, stream);
  if (e != cudaSuccess) {
    if (p->job.event) cudaEventDestroy(p->job.event);
    p->deferred.Reject(cuda_error(env, e, "recording a wait event", p->job.device).Value());
    if (p->job.cleanup) p->job.cleanup(env);
    delete p;
    return promise;
  }
  Tsfn tsfn = Tsfn::New(env, "warpforge.wait", 0, 1);
  std::thread([tsfn, p]() mutable {
    cudaError_t err = cudaSetDevice(p->job.device);
    if (err == cudaSuccess) {
      err = cudaEventSynchronize(p->job.event);
      p->where = "waiting for the stream";
    }
    if (err == cudaSuccess && p->job.on_thread) {
      err = p->job.on_thread();
      p->where = "copying device memory to the host";
    }
    cudaEventDestroy(p->job.event);
    p->error = err;
    if (tsfn.BlockingCall(p) != napi_ok) delete p;  // environment gone: nobody to tell
    tsfn.Release();
  }).detach();
  return promise;
}

}  // namespace wf::node
