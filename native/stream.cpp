// Streams and events. JS never sees a raw cudaStream_t: it holds a tagged
// Stream object, and every op takes one (lib/ supplies the device default).
#include "addon.h"
#include "async_wait.h"
#include "handles.h"

namespace wf::node {

const napi_type_tag kStreamTag = {0x7766f0a1c2b34d11ull, 0x9a1e5c0d2b7f4e01ull};
const napi_type_tag kEventTag = {0x7766f0a1c2b34d11ull, 0x9a1e5c0d2b7f4e02ull};

namespace {
// Native-only construction: the class constructors are never exported, and
// this marker keeps a leaked constructor from building an empty handle.
struct Token {};
Token token;
}  // namespace

StreamHandle::~StreamHandle() {
  // Legal with work still queued: CUDA releases the stream once it drains.
  if (stream) cudaStreamDestroy(stream);
}

Stream::Stream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Stream>(info) {
  if (!info[0].IsExternal() || info[0].As<Napi::External<Token>>().Data() != &token)
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "Stream objects are created with createStream()");
  int device = info[1].As<Napi::Number>().Int32Value();
  int priority = info[2].As<Napi::Number>().Int32Value();
  auto h = std::make_shared<StreamHandle>();
  h->device = device;
  // Non-blocking: no implicit synchronisation with the legacy NULL stream.
  check_cuda(info.Env(), cudaStreamCreateWithPriority(&h->stream, cudaStreamNonBlocking, priority),
             "cudaStreamCreateWithPriority", device);
  handle = std::move(h);
  info.This().As<Napi::Object>().TypeTag(&kStreamTag);
}

Napi::Function Stream::define(Napi::Env env) {
  return DefineClass(env, "Stream",
                     {InstanceMethod("synchronize", &Stream::js_synchronize),
                      InstanceMethod("waitEvent", &Stream::js_wait_event),
                      InstanceMethod("query", &Stream::js_query),
                      InstanceMethod("destroy", &Stream::js_destroy)});
}

Napi::Value Stream::js_synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!handle) throw_error(env, "ERR_DISPOSED", "the stream was destroyed");
  use_device(env, handle->device);
  WaitJob job;
  job.device = handle->device;
  auto keep = handle;  // the stream must live until the wait ends
  job.cleanup = [keep](Napi::Env) {};
  return wait_on_stream(env, handle->stream, std::move(job));
}

Napi::Value Stream::js_wait_event(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!handle) throw_error(env, "ERR_DISPOSED", "the stream was destroyed");
  Event* ev = unwrap_event(env, info[0], "event");
  use_device(env, handle->device);
  check_cuda(env, cudaStreamWaitEvent(handle->stream, ev->event, 0), "cudaStreamWaitEvent", handle->device);
  return env.Undefined();
}

Napi::Value Stream::js_query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!handle) throw_error(env, "ERR_DISPOSED", "the stream was destroyed");
  cudaError_t e = cudaStreamQuery(handle->stream);
  if (e == cudaErrorNotReady) {
    cudaGetLastError();
    return Napi::Boolean::New(env, false);
  }
  check_cuda(env, e, "cudaStreamQuery", handle->device);
  return Napi::Boolean::New(env, true);
}

Napi::Value Stream::js_destroy(const Napi::CallbackInfo& info) {
  handle.reset();  // buffers still allocated on it keep the CUDA stream alive
  return info.Env().Undefined();
}

Event::Event(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Event>(info) {
  if (!info[0].IsExternal() || info[0].As<Napi::External<Token>>().Data() != &token)
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "Event objects are created with createEvent()");
  device = info[1].As<Napi::Number>().Int32Value();
  bool timing = info[2].As<Napi::Boolean>().Value();
  unsigned flags = cudaEventBlockingSync | (timing ? 0u : (unsigned)cudaEventDisableTiming);
  check_cuda(info.Env(), cudaEventCreateWithFlags(&event, flags), "cudaEventCreateWithFlags", device);
  info.This().As<Napi::Object>().TypeTag(&kEventTag);
}

Event::~Event() {
  if (event) cudaEventDestroy(event);
}

Napi::Function Event::define(Napi::Env env) {
  return DefineClass(env, "Event",
                     {InstanceMethod("record", &Event::js_record),
                      InstanceMethod("synchronize", &Event::js_synchronize),
                      InstanceMethod("query", &Event::js_query),
                      InstanceMethod("elapsed", &Event::js_elapsed),
                      InstanceMethod("destroy", &Event::js_destroy)});
}

Napi::Value Event::js_record(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!event) throw_error(env, "ERR_DISPOSED", "the event was destroyed");
  Stream* s = unwrap_stream(env, info[0], "stream");
  if (s->handle->device != device)
    throw_error(env, "ERR_DEVICE", "expected a stream on device " + std::to_string(device) + " for event.record but received one on device " + std::to_string(s->handle->device));
  check_cuda(env, cudaEventRecord(event, s->handle->stream), "cudaEventRecord", device);
  recorded = true;
  return env.Undefined();
}

Napi::Value Event::js_synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!event) throw_error(env, "ERR_DISPOSED", "the event was destroyed");
  use_device(env, device);
  // Wait on a private stream that waits on this event: same semantics as
  // cudaEventSynchronize, but through the one off-thread waiting path.
  cudaStream_t tmp = nullptr;
  check_cuda(env, cudaStreamCreateWithFlags(&tmp, cudaStreamNonBlocking), "cudaStreamCreate", device);
  cudaError_t e = cudaStreamWaitEvent(tmp, event, 0);
  if (e != cudaSuccess) {
    cudaStreamDestroy(tmp);
    throw cuda_error(env, e, "cudaStreamWaitEvent", device);
  }
  WaitJob job;
  job.device = device;
  job.cleanup = [tmp](Napi::Env) { cudaStreamDestroy(tmp); };
  return wait_on_stream(env, tmp, std::move(job));
}

Napi::Value Event::js_query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!event) throw_error(env, "ERR_DISPOSED", "the event was destroyed");
  cudaError_t e = cudaEventQuery(event);
  if (e == cudaErrorNotReady) {
    cudaGetLastError();
    return Napi::Boolean::New(env, false);
  }
  check_cuda(env, e, "cudaEventQuery", device);
  return Napi::Boolean::New(env, true);
}

// end.elapsed(start): milliseconds from `start` to this event. Both must be
// recorded and complete (await synchronize() first).
Napi::Value Event::js_elapsed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!event) throw_error(env, "ERR_DISPOSED", "the event was destroyed");
  Event* start = unwrap_event(env, info[0], "start");
  if (!recorded || !start->recorded) throw_error(env, "ERR_INVALID_ARGUMENT", "both events must be recorded before elapsed()");
  float ms = 0;
  cudaError_t e = cudaEventElapsedTime(&ms, start->event, event);
  if (e == cudaErrorNotReady) {
    cudaGetLastError();
    throw_error(env, "ERR_NOT_READY", "the events have not completed yet; await synchronize() first");
  }
  check_cuda(env, e, "cudaEventElapsedTime", device);
  return Napi::Number::New(env, ms);
}

Napi::Value Event::js_destroy(const Napi::CallbackInfo& info) {
  if (event) cudaEventDestroy(event);
  event = nullptr;
  return info.Env().Undefined();
}

Stream* unwrap_stream(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kStreamTag))
    throw_error(env, "ERR_INVALID_ARGUMENT", std::string("expected a Stream for ") + what);
  Stream* s = Stream::Unwrap(v.As<Napi::Object>());
  if (!s->handle) throw_error(env, "ERR_DISPOSED", std::string("the stream passed as ") + what + " was destroyed");
  return s;
}

Event* unwrap_event(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kEventTag))
    throw_error(env, "ERR_INVALID_ARGUMENT", std::string("expected an Event for ") + what);
  Event* e = Event::Unwrap(v.As<Napi::Object>());
  if (!e->event) throw_error(env, "ERR_DISPOSED", std::string("the event passed as ") + what + " was destroyed");
  return e;
}

namespace {

Napi::Value create_stream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = (int)arg_int(env, info[0], "device");
  int priority = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  use_device(env, device);
  return state(env).stream_ctor.New({Napi::External<Token>::New(env, &token), Napi::Number::New(env, device),
                                     Napi::Number::New(env, priority)});
}

Napi::Value create_event(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = (int)arg_int(env, info[0], "device");
  bool timing = info.Length() > 1 && info[1].IsBoolean() ? info[1].As<Napi::Boolean>().Value() : true;
  use_device(env, device);
  return state(env).event_ctor.New({Napi::External<Token>::New(env, &token), Napi::Number::New(env, device),
                                    Napi::Boolean::New(env, timing)});
}

}  // namespace

void register_stream(Napi::Env env, Napi::Object exports) {
  Addon& a = state(env);
  a.stream_ctor = Napi::Persistent(Stream::define(env));
  a.event_ctor = Napi::Persistent(Event::define(env));
  exports.Set("createStream", Napi::Function::New(env, create_stream, "createStream"));
  exports.Set("createEvent", Napi::Function::New(env, create_event, "createEvent"));
}

}  // namespace wf::node
