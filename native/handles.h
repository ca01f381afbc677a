// Native objects handed to JavaScript: device buffers, streams and events.
// Each class carries a type tag, so a JS object of the wrong kind (or a
// forged one) passed where a buffer is expected is refused, not reinterpreted.
#pragma once
#include <napi.h>
#include <cuda_runtime_api.h>

#include <memory>

#include "errors.h"

namespace wf::node {

// A stream outlives every buffer allocated on it: buffers free themselves in
// stream order (cudaFreeAsync), so they keep their stream alive.
struct StreamHandle {
  cudaStream_t stream = nullptr;
  int device = 0;
  ~StreamHandle();
};

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  ~DeviceBuffer() override { release(); }

  void* ptr = nullptr;
  size_t bytes = 0;
  int device = 0;
  std::shared_ptr<StreamHandle> stream;
  bool released = false;
  void release();

 private:
  Napi::Value js_free(const Napi::CallbackInfo& info);
};

class Stream : public Napi::ObjectWrap<Stream> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit Stream(const Napi::CallbackInfo& info);
  std::shared_ptr<StreamHandle> handle;

 private:
  Napi::Value js_synchronize(const Napi::CallbackInfo& info);
  Napi::Value js_wait_event(const Napi::CallbackInfo& info);
  Napi::Value js_query(const Napi::CallbackInfo& info);
  Napi::Value js_destroy(const Napi::CallbackInfo& info);
};

class Event : public Napi::ObjectWrap<Event> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit Event(const Napi::CallbackInfo& info);
  ~Event() override;
  cudaEvent_t event = nullptr;
  int device = 0;
  bool recorded = false;

 private:
  Napi::Value js_record(const Napi::CallbackInfo& info);
  Napi::Value js_synchronize(const Napi::CallbackInfo& info);
  Napi::Value js_query(const Napi::CallbackInfo& info);
  Napi::Value js_elapsed(const Napi::CallbackInfo& info);
  Napi::Value js_destroy(const Napi::CallbackInfo& info);
};

// Type-checked unwrapping: `what` names the argument in the error message.
DeviceBuffer* unwrap_buffer(Napi::Env env, Napi::Value v, const char* what);
Stream* unwrap_stream(Napi::Env env, Napi::Value v, const char* what);
Event* unwrap_event(Napi::Env env, Napi::Value v, const char* what);

// A live buffer on `device` holding at least `bytes`.
void* buffer_ptr(Napi::Env env, Napi::Value v, const char* what, int device, size_t bytes);

// Argument readers that throw ERR_INVALID_ARGUMENT instead of crashing.
int64_t arg_int(Napi::Env env, Napi::Value v, const char* what);
double arg_number(Napi::Env env, Napi::Value v, const char* what);

// Marks objects created by native factories; JS cannot construct them.
extern const napi_type_tag kBufferTag, kStreamTag, kEventTag;

}  // namespace wf::node
