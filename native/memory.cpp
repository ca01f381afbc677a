// Device memory: stream-ordered allocation from CUDA's per-device memory pool
// (cudaMallocAsync), with the pool's release threshold raised so freed blocks
// stay cached: allocating and freeing in a loop never reaches the driver.
#include <cstdint>
#include <cstring>
#include <limits>

#include "addon.h"
#include "async_wait.h"
#include "handles.h"

namespace wf::node {

const napi_type_tag kBufferTag = {0x7766f0a1c2b34d11ull, 0x9a1e5c0d2b7f4e03ull};

namespace {

struct Token {};
Token token;

void configure_pool(Napi::Env env, int device) {
  Addon& a = state(env);
  if ((size_t)device < a.pool_configured.size() && a.pool_configured[device]) return;
  cudaMemPool_t pool;
  check_cuda(env, cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool", device);
  uint64_t keep = std::numeric_limits<uint64_t>::max();
  check_cuda(env, cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep), "cudaMemPoolSetAttribute", device);
  if ((size_t)device >= a.pool_configured.size()) a.pool_configured.resize(device + 1, false);
  a.pool_configured[device] = true;
}

uint64_t pool_attr(cudaMemPool_t pool, cudaMemPoolAttr attr) {
  uint64_t v = 0;
  cudaMemPoolGetAttribute(pool, attr, &v);
  return v;
}

std::string mib(uint64_t b) { return std::to_string(b >> 20) + " MiB"; }

}  // namespace

void DeviceBuffer::release() {
  if (released) return;
  released = true;
  if (ptr && stream) {
    cudaSetDevice(device);
    // Stream-ordered: work already queued on this stream still reads the
    // memory safely; the pool reuses it only after that work.
    cudaFreeAsync(ptr, stream->stream);
  }
  ptr = nullptr;
  stream.reset();
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  if (!info[0].IsExternal() || info[0].As<Napi::External<Token>>().Data() != &token)
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "device buffers are created with alloc()");
  info.This().As<Napi::Object>().TypeTag(&kBufferTag);
}

Napi::Function DeviceBuffer::define(Napi::Env env) {
  return DefineClass(env, "DeviceBuffer", {InstanceMethod("free", &DeviceBuffer::js_free)});
}

Napi::Value DeviceBuffer::js_free(const Napi::CallbackInfo& info) {
  release();
  return info.Env().Undefined();
}

DeviceBuffer* unwrap_buffer(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kBufferTag))
    throw_error(env, "ERR_INVALID_ARGUMENT", std::string("expected a device buffer for ") + what);
  DeviceBuffer* b = DeviceBuffer::Unwrap(v.As<Napi::Object>());
  if (b->released) throw_error(env, "ERR_DISPOSED", std::string("the tensor passed as ") + what + " was disposed");
  return b;
}

void* buffer_ptr(Napi::Env env, Napi::Value v, const char* what, int device, size_t bytes) {
  DeviceBuffer* b = unwrap_buffer(env, v, what);
  if (b->device != device)
    throw_error(env, "ERR_DEVICE", std::string("expected ") + what + " on device " + std::to_string(device) +
                                       " but received one on device " + std::to_string(b->device));
  if (b->bytes < bytes)
    throw_error(env, "ERR_SHAPE", std::string("expected at least ") + std::to_string(bytes) + " bytes for " + what +
                                      " but received a buffer of " + std::to_string(b->bytes));
  return b->ptr;
}

int64_t arg_int(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsNumber()) throw_error(env, "ERR_INVALID_ARGUMENT", std::string("expected a number for ") + what);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != (double)(int64_t)d)
    throw_error(env, "ERR_INVALID_ARGUMENT", std::string("expected an integer for ") + what);
  return (int64_t)d;
}

double arg_number(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsNumber()) throw_error(env, "ERR_INVALID_ARGUMENT", std::string("expected a number for ") + what);
  return v.As<Napi::Number>().DoubleValue();
}

namespace {

// alloc(bytes, stream) -> DeviceBuffer on the stream's device.
Napi::Value alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t bytes = arg_int(env, info[0], "bytes");
  if (bytes < 0) throw_error(env, "ERR_INVALID_ARGUMENT", "expected a non-negative byte count for alloc");
  Stream* s = unwrap_stream(env, info[1], "stream");
  const int device = s->handle->device;
  use_device(env, device);
  configure_pool(env, device);
  void* ptr = nullptr;
  if (bytes > 0) {
    cudaError_t e = cudaMallocAsync(&ptr, (size_t)bytes, s->handle->stream);
    if (e == cudaErrorMemoryAllocation) {
      // The pool may hold freed blocks of the wrong sizes: give them back to
      // the driver and try once more before reporting out-of-memory.
      cudaGetLastError();
      cudaMemPool_t pool;
      cudaDeviceGetDefaultMemPool(&pool, device);
      cudaStreamSynchronize(s->handle->stream);
      cudaMemPoolTrimTo(pool, 0);
      e = cudaMallocAsync(&ptr, (size_t)bytes, s->handle->stream);
      if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        throw_error(env, "ERR_OUT_OF_MEMORY",
                    "out of device memory allocating " + mib(bytes) + " on device " + std::to_string(device) +
                        " (" + mib(free_b) + " free of " + mib(total_b) + ", " +
                        mib(pool_attr(pool, cudaMemPoolAttrUsedMemCurrent)) + " held by warpforge tensors)");
      }
    }
    check_cuda(env, e, "cudaMallocAsync", device);
  }
  Napi::Object obj = state(env).buffer_ctor.New({Napi::External<Token>::New(env, &token)});
  DeviceBuffer* b = DeviceBuffer::Unwrap(obj);
  b->ptr = ptr;
  b->bytes = (size_t)bytes;
  b->device = device;
  b->stream = s->handle;
  return obj;
}

// memoryStats(device) -> bytes in use by tensors, and reserved by the pool.
Napi::Value memory_stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = (int)arg_int(env, info[0], "device");
  use_device(env, device);
  cudaMemPool_t pool;
  check_cuda(env, cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool", device);
  Napi::Object o = Napi::Object::New(env);
  o.Set("inUse", (double)pool_attr(pool, cudaMemPoolAttrUsedMemCurrent));
  o.Set("reserved", (double)pool_attr(pool, cudaMemPoolAttrReservedMemCurrent));
  o.Set("peakInUse", (double)pool_attr(pool, cudaMemPoolAttrUsedMemHigh));
  o.Set("peakReserved", (double)pool_attr(pool, cudaMemPoolAttrReservedMemHigh));
  o.Set("pinnedCached", (double)state(env).pinned_cached_bytes);
  return o;
}

Napi::Value empty_cache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = (int)arg_int(env, info[0], "device");
  use_device(env, device);
  cudaMemPool_t pool;
  check_cuda(env, cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool", device);
  check_cuda(env, cudaDeviceSynchronize(), "cudaDeviceSynchronize", device);
  check_cuda(env, cudaMemPoolTrimTo(pool, 0), "cudaMemPoolTrimTo", device);
  return env.Undefined();
}

// upload(buffer, view, stream): host bytes -> device, queued on `stream`. The
// host memory is pageable, so CUDA stages it before returning: the caller may
// reuse the view as soon as this returns.
Napi::Value upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = unwrap_buffer(env, info[0], "destination");
  if (!info[1].IsTypedArray() && !info[1].IsDataView())
    throw_error(env, "ERR_INVALID_ARGUMENT", "expected a TypedArray for upload source");
  Napi::TypedArray view = info[1].As<Napi::TypedArray>();
  const size_t n = view.ByteLength();
  if (n != b->bytes)
    throw_error(env, "ERR_SHAPE", "expected " + std::to_string(b->bytes) + " bytes for upload but received " + std::to_string(n));
  Stream* s = unwrap_stream(env, info[2], "stream");
  use_device(env, b->device);
  if (n == 0) return env.Undefined();
  const uint8_t* src = static_cast<const uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
  check_cuda(env, cudaMemcpyAsync(b->ptr, src, n, cudaMemcpyHostToDevice, s->handle->stream), "cudaMemcpyAsync (upload)", b->device);
  return env.Undefined();
}

// download(buffer, stream) -> Promise<ArrayBuffer>. The copy is queued on the
// stream into pinned staging (so it is ordered after earlier work and before
// later work), and a waiting thread moves it into a fresh ArrayBuffer.
Napi::Value download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = unwrap_buffer(env, info[0], "source");
  Stream* s = unwrap_stream(env, info[1], "stream");
  use_device(env, b->device);
  const size_t n = b->bytes;
  Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, n);
  if (n == 0) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(out);
    return d.Promise();
  }
  Addon& a = state(env);
  size_t klass = 0;
  void* staging = a.take_pinned(n, &klass);
  if (!staging) throw_error(env, "ERR_OUT_OF_MEMORY", "could not allocate " + mib(n) + " of pinned host memory for a device-to-host copy");
  cudaError_t e = cudaMemcpyAsync(staging, b->ptr, n, cudaMemcpyDeviceToHost, s->handle->stream);
  if (e != cudaSuccess) {
    a.give_pinned(staging, klass);
    throw cuda_error(env, e, "cudaMemcpyAsync (download)", b->device);
  }
  auto* ref = new Napi::Reference<Napi::ArrayBuffer>(Napi::Persistent(out));
  void* dst = out.Data();
  WaitJob job;
  job.device = b->device;
  job.on_thread = [dst, staging, n]() {
    std::memcpy(dst, staging, n);
    return cudaSuccess;
  };
  job.on_done = [ref](Napi::Env) -> Napi::Value { return ref->Value(); };
  job.cleanup = [ref, staging, klass](Napi::Env env) {
    state(env).give_pinned(staging, klass);
    delete ref;
  };
  return wait_on_stream(env, s->handle->stream, std::move(job));
}

// fill(buffer, byteValue, stream): cudaMemsetAsync (zeros, poison patterns).
Napi::Value fill_bytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = unwrap_buffer(env, info[0], "destination");
  int64_t value = arg_int(env, info[1], "byte value");
  Stream* s = unwrap_stream(env, info[2], "stream");
  use_device(env, b->device);
  if (b->bytes)
    check_cuda(env, cudaMemsetAsync(b->ptr, (int)(value & 0xff), b->bytes, s->handle->stream), "cudaMemsetAsync", b->device);
  return env.Undefined();
}

// copy(dst, src, stream): device-to-device, whole buffers of equal size.
Napi::Value copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* d = unwrap_buffer(env, info[0], "destination");
  DeviceBuffer* src = unwrap_buffer(env, info[1], "source");
  Stream* s = unwrap_stream(env, info[2], "stream");
  if (d->bytes != src->bytes)
    throw_error(env, "ERR_SHAPE", "expected " + std::to_string(d->bytes) + " bytes for copy source but received " + std::to_string(src->bytes));
  use_device(env, d->device);
  if (d->bytes)
    check_cuda(env, cudaMemcpyAsync(d->ptr, src->ptr, d->bytes, cudaMemcpyDefault, s->handle->stream), "cudaMemcpyAsync (copy)", d->device);
  return env.Undefined();
}

}  // namespace

void register_memory(Napi::Env env, Napi::Object exports) {
  state(env).buffer_ctor = Napi::Persistent(DeviceBuffer::define(env));
  exports.Set("alloc", Napi::Function::New(env, alloc, "alloc"));
  exports.Set("memoryStats", Napi::Function::New(env, memory_stats, "memoryStats"));
  exports.Set("emptyCache", Napi::Function::New(env, empty_cache, "emptyCache"));
  exports.Set("upload", Napi::Function::New(env, upload, "upload"));
  exports.Set("download", Napi::Function::New(env, download, "download"));
  exports.Set("fillBytes", Napi::Function::New(env, fill_bytes, "fillBytes"));
  exports.Set("copy", Napi::Function::New(env, copy, "copy"));
}

}  // namespace wf::node
