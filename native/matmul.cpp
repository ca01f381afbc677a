// Binding for the cuBLASLt matmul (cuda/matmul/).
#include "addon.h"
#include "handles.h"

namespace wf::node {

namespace {

// matmul(a, b, c, m, n, k, transB, dtype, stream, bias?, batch?, alpha?). Shapes were validated in
// lib/matmul.ts; here only what could corrupt memory is re-checked.
Napi::Value matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* s = unwrap_stream(env, info[8], "stream");
  const int device = s->handle->device;
  MatmulParams p{};
  p.m = arg_int(env, info[3], "m");
  p.n = arg_int(env, info[4], "n");
  p.k = arg_int(env, info[5], "k");
  p.trans_b = info[6].ToBoolean().Value();
  int64_t dt = arg_int(env, info[7], "dtype");
  if (!dtype_valid((int32_t)dt)) throw_error(env, "ERR_DTYPE", "unknown dtype id");
  p.dtype = (DType)dt;
  if (info.Length() > 10 && !info[10].IsUndefined()) p.batch = arg_int(env, info[10], "batch");
  if (info.Length() > 11 && !info[11].IsUndefined()) p.alpha = (float)arg_number(env, info[11], "alpha");
  if (p.m <= 0 || p.n <= 0 || p.k <= 0 || p.batch <= 0) throw_error(env, "ERR_SHAPE", "matmul sizes must be positive");
  const size_t es = dtype_bits(p.dtype) / 8;
  p.a = buffer_ptr(env, info[0], "a", device, (size_t)(p.batch * p.m * p.k) * es);
  p.b = buffer_ptr(env, info[1], "b", device, (size_t)(p.batch * p.k * p.n) * es);
  p.c = buffer_ptr(env, info[2], "out", device, (size_t)(p.batch * p.m * p.n) * es);
  p.bias = info.Length() > 9 && !info[9].IsUndefined() && !info[9].IsNull() ? buffer_ptr(env, info[9], "bias", device, (size_t)p.n * es) : nullptr;
  use_device(env, device);
  check_status(env, state(env).cublaslt.matmul(p, device, s->handle->stream), "matmul", device);
  return env.Undefined();
}

Napi::Value cublaslt_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CublasLt& lt = state(env).cublaslt;
  Napi::Object o = Napi::Object::New(env);
  bool ok = lt.load();
  o.Set("loaded", ok);
  if (ok) {
    o.Set("path", lt.loaded_from());
    o.Set("version", (double)lt.version());
  } else {
    o.Set("error", lt.load_error());
  }
  return o;
}

}  // namespace

void register_matmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, matmul, "matmul"));
  exports.Set("cublasLtInfo", Napi::Function::New(env, cublaslt_info, "cublasLtInfo"));
}

}  // namespace wf::node
