// Binding for the tensor utility kernels in cuda/tensor/.
#include "../cuda/tensor/rand.h"
#include "../cuda/tensor/spin.h"
#include "addon.h"
#include "handles.h"

namespace wf::node {

namespace {

DType arg_dtype(Napi::Env env, Napi::Value v) {
  int64_t d = arg_int(env, v, "dtype");
  if (!dtype_valid((int32_t)d)) throw_error(env, "ERR_DTYPE", "unknown dtype id " + std::to_string(d));
  return (DType)d;
}

// rand(buffer, dtype, numel, seed, dist, a, b, stream)
Napi::Value rand(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = unwrap_buffer(env, info[0], "out");
  RandParams p{};
  p.dtype = arg_dtype(env, info[1]);
  p.numel = arg_int(env, info[2], "numel");
  p.seed = (uint64_t)arg_int(env, info[3], "seed");
  p.dist = arg_int(env, info[4], "distribution") == 1 ? Distribution::Normal : Distribution::Uniform;
  p.a = arg_number(env, info[5], "low/mean");
  p.b = arg_number(env, info[6], "high/std");
  Stream* s = unwrap_stream(env, info[7], "stream");
  if (p.numel < 0 || (uint64_t)p.numel * dtype_bits(p.dtype) / 8 > b->bytes)
    throw_error(env, "ERR_SHAPE", "rand: element count does not fit the buffer");
  p.out = b->ptr;
  use_device(env, b->device);
  check_status(env, launch_rand(p, s->handle->stream), "rand", b->device);
  return env.Undefined();
}

// spin(stream, microseconds): occupy the stream (benchmark queueing).
Napi::Value spin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* s = unwrap_stream(env, info[0], "stream");
  const double us = arg_number(env, info[1], "microseconds");
  if (!(us >= 0 && us <= 1e7)) throw_error(env, "ERR_INVALID_ARGUMENT", "expected 0 to 10^7 microseconds for spin");
  use_device(env, s->handle->device);
  check_status(env, launch_spin((uint64_t)(us * 1000), s->handle->stream), "spin", s->handle->device);
  return env.Undefined();
}

}  // namespace

void register_tensor_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("rand", Napi::Function::New(env, rand, "rand"));
  exports.Set("spin", Napi::Function::New(env, spin, "spin"));
  Napi::Object ids = Napi::Object::New(env);
  ids.Set("float32", (int)DType::Float32);
  ids.Set("float16", (int)DType::Float16);
  ids.Set("bfloat16", (int)DType::BFloat16);
  ids.Set("float8_e4m3", (int)DType::Float8E4M3);
  ids.Set("float8_e5m2", (int)DType::Float8E5M2);
  ids.Set("int8", (int)DType::Int8);
  ids.Set("uint8", (int)DType::UInt8);
  ids.Set("int32", (int)DType::Int32);
  ids.Set("int4", (int)DType::Int4Packed);
  exports.Set("dtypeIds", ids);
}

}  // namespace wf::node
