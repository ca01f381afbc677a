// Binding for the w4a16 family (cuda/w4a16/). lib/w4a16/ validated shapes
// and dtypes; here every buffer is re-checked against the bytes the kernel
// will touch, so no JS input can make a kernel read or write out of bounds.
#include "../cuda/w4a16/w4a16.h"
#include "addon.h"
#include "handles.h"

namespace wf::node {

namespace {

using namespace wf::w4a16;

DType half_dtype(Napi::Env env, Napi::Value v) {
  int64_t d = arg_int(env, v, "dtype");
  if (d != (int)DType::Float16 && d != (int)DType::BFloat16) throw_error(env, "ERR_DTYPE", "w4a16 works in float16 or bfloat16");
  return (DType)d;
}

int group_arg(Napi::Env env, Napi::Value v) {
  int64_t gs = arg_int(env, v, "groupSize");
  if (gs != 0 && gs != 32 && gs != 64 && gs != 128) throw_error(env, "ERR_SHAPE", "group size must be 32, 64, 128 or per-channel");
  return (int)gs;
}

int64_t groups_of(int64_t k_pad, int gs) { return gs > 0 ? k_pad / gs : 1; }

void* optional_ptr(Napi::Env env, Napi::Value v, const char* what, int device, size_t bytes) {
  return v.IsNull() || v.IsUndefined() ? nullptr : buffer_ptr(env, v, what, device, bytes);
}

struct Sizes {
  int64_t n, k, n_pad, k_pad;
  int gs;
};

Sizes sizes(Napi::Env env, const Napi::CallbackInfo& info, int at) {
  Sizes s{arg_int(env, info[at], "n"), arg_int(env, info[at + 1], "k"), arg_int(env, info[at + 2], "nPad"),
          arg_int(env, info[at + 3], "kPad"), group_arg(env, info[at + 4])};
  if (s.n <= 0 || s.k <= 0 || s.n_pad != padded_n(s.n) || s.k_pad != padded_k(s.k, s.gs))
    throw_error(env, "ERR_SHAPE", "w4a16: padded sizes do not match the layout");
  return s;
}

// quantize(w, wDtype, kMajor, n, k, nPad, kPad, gs, sym, dtype, q, scales, zeros, stream)
Napi::Value quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* st = unwrap_stream(env, info[13], "stream");
  const int dev = st->handle->device;
  QuantizeParams p{};
  int64_t wd = arg_int(env, info[1], "weight dtype");
  if (wd != (int)DType::Float32 && wd != (int)DType::Float16 && wd != (int)DType::BFloat16)
    throw_error(env, "ERR_DTYPE", "weights must be float32, float16 or bfloat16");
  p.w_dtype = (DType)wd;
  p.k_major = info[2].ToBoolean().Value();
  Sizes s = sizes(env, info, 3);
  p.n = s.n; p.k = s.k; p.n_pad = s.n_pad; p.k_pad = s.k_pad; p.group_size = s.gs;
  p.symmetric = info[8].ToBoolean().Value();
  p.dtype = half_dtype(env, info[9]);
  const int64_t groups = groups_of(s.k_pad, s.gs);
  p.w = buffer_ptr(env, info[0], "weight", dev, (size_t)(s.n * s.k) * (dtype_bits(p.w_dtype) / 8));
  p.q = static_cast<uint8_t*>(buffer_ptr(env, info[10], "q", dev, (size_t)(s.n_pad * s.k_pad)));
  p.scales = buffer_ptr(env, info[11], "scales", dev, (size_t)(groups * s.n_pad) * 2);
  p.zeros = p.symmetric ? nullptr : buffer_ptr(env, info[12], "zeros", dev, (size_t)(groups * s.n_pad) * 2);
  use_device(env, dev);
  check_status(env, launch_quantize(p, st->handle->stream), "quantizeW4", dev);
  return env.Undefined();
}

// pack(q, scales, zeros, nPad, kPad, gs, dtype, w, scalesPacked, zerosPacked, stream)
Napi::Value pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* st = unwrap_stream(env, info[10], "stream");
  const int dev = st->handle->device;
  PackParams p{};
  p.n_pad = arg_int(env, info[3], "nPad");
  p.k_pad = arg_int(env, info[4], "kPad");
  p.group_size = group_arg(env, info[5]);
  p.dtype = half_dtype(env, info[6]);
  if (p.n_pad <= 0 || p.k_pad <= 0 || p.n_pad % kPadN || p.k_pad % kTileK || (p.group_size && p.k_pad % p.group_size))
    throw_error(env, "ERR_SHAPE", "w4a16 pack: padded sizes do not match the layout");
  const size_t groups = (size_t)groups_of(p.k_pad, p.group_size);
  const size_t sbytes = groups * (size_t)p.n_pad * 2;
  p.q = static_cast<const uint8_t*>(buffer_ptr(env, info[0], "q", dev, (size_t)(p.n_pad * p.k_pad)));
  p.scales = buffer_ptr(env, info[1], "scales", dev, sbytes);
  p.zeros = optional_ptr(env, info[2], "zeros", dev, sbytes);
  p.w = static_cast<uint32_t*>(buffer_ptr(env, info[7], "packed weight", dev, (size_t)(p.n_pad * p.k_pad / 2)));
  p.scales_packed = buffer_ptr(env, info[8], "packed scales", dev, sbytes);
  p.zeros_packed = p.zeros ? buffer_ptr(env, info[9], "packed zeros", dev, sbytes) : nullptr;
  use_device(env, dev);
  check_status(env, launch_pack(p, st->handle->stream), "w4a16 pack", dev);
  return env.Undefined();
}

// dequantize(w, scales, zeros, perm, n, k, nPad, kPad, gs, dtype, out, stream)
Napi::Value dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* st = unwrap_stream(env, info[11], "stream");
  const int dev = st->handle->device;
  Sizes s = sizes(env, info, 4);
  DequantizeParams p{};
  p.n = s.n; p.k = s.k; p.n_pad = s.n_pad; p.k_pad = s.k_pad; p.group_size = s.gs;
  p.dtype = half_dtype(env, info[9]);
  const size_t sbytes = (size_t)(groups_of(s.k_pad, s.gs) * s.n_pad) * 2;
  p.w = static_cast<const uint32_t*>(buffer_ptr(env, info[0], "packed weight", dev, (size_t)(s.n_pad * s.k_pad / 2)));
  p.scales = buffer_ptr(env, info[1], "packed scales", dev, sbytes);
  p.zeros = optional_ptr(env, info[2], "packed zeros", dev, sbytes);
  p.perm = static_cast<const int32_t*>(optional_ptr(env, info[3], "permutation", dev, (size_t)s.k * 4));
  p.out = buffer_ptr(env, info[10], "out", dev, (size_t)(s.n * s.k) * 2);
  use_device(env, dev);
  check_status(env, launch_dequantize(p, st->handle->stream), "dequantize", dev);
  return env.Undefined();
}

// gemm(x, w, scales, zeros, bias, out, m, n, k, nPad, kPad, gs, dtype, scratch, stream)
Napi::Value gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* st = unwrap_stream(env, info[14], "stream");
  const int dev = st->handle->device;
  GemmParams p{};
  p.m = arg_int(env, info[6], "m");
  Sizes s = sizes(env, info, 7);
  p.n = s.n; p.k = s.k; p.n_pad = s.n_pad; p.k_pad = s.k_pad; p.group_size = s.gs;
  p.dtype = half_dtype(env, info[12]);
  if (p.m <= 0) throw_error(env, "ERR_SHAPE", "w4a16: M must be positive");
  const size_t sbytes = (size_t)(groups_of(s.k_pad, s.gs) * s.n_pad) * 2;
  p.x = buffer_ptr(env, info[0], "x", dev, (size_t)(p.m * s.k) * 2);
  p.w = static_cast<const uint32_t*>(buffer_ptr(env, info[1], "packed weight", dev, (size_t)(s.n_pad * s.k_pad / 2)));
  p.scales = buffer_ptr(env, info[2], "packed scales", dev, sbytes);
  p.zeros = optional_ptr(env, info[3], "packed zeros", dev, sbytes);
  p.bias = optional_ptr(env, info[4], "bias", dev, (size_t)s.n * 2);
  p.out = buffer_ptr(env, info[5], "out", dev, (size_t)(p.m * s.n) * 2);
  use_device(env, dev);
  const LaunchTarget target = launch_target(env, dev);
  p.sm_count = target.sm_count;
  p.arch = target.arch;
  const GemmPlan plan = plan_gemm(p);
  cudaStream_t stream = st->handle->stream;
  // Persistent per-stream scratch from the QuantizedWeight: counters, then
  // the decode and wgmma kernels' zeroed sums, left zeroed by the kernel.
  int32_t* scratch = static_cast<int32_t*>(buffer_ptr(env, info[13], "GEMM scratch", dev, gemm_scratch_bytes(p.m, s.n_pad)));
  p.counters = scratch;
  p.sk_flags = stream_k_flags(scratch, p.m, s.n_pad);
  if ((plan.split_k > 1 && !plan.decode && !plan.hopper) || plan.stream_k) {
    // The tiled kernel's and stream-K's partials live only for this launch: stream-ordered pool memory.
    void* ws = nullptr;
    check_cuda(env, cudaMallocAsync(&ws, plan.workspace_bytes, stream), "w4a16 workspace", dev);
    p.workspace = static_cast<float*>(ws);
    Status status = launch_gemm(p, plan, stream);
    cudaFreeAsync(ws, stream);
    check_status(env, status, "gemmW4A16", dev);
  } else {
    p.workspace = reinterpret_cast<float*>(scratch + gemm_counter_bound(p.m, s.n_pad));
    check_status(env, launch_gemm(p, plan, stream), "gemmW4A16", dev);
  }
  return env.Undefined();
}

// gather(x, perm, out, m, k, dtype, stream)
Napi::Value gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* st = unwrap_stream(env, info[6], "stream");
  const int dev = st->handle->device;
  GatherParams p{};
  p.m = arg_int(env, info[3], "m");
  p.k = arg_int(env, info[4], "k");
  p.dtype = half_dtype(env, info[5]);
  if (p.m <= 0 || p.k <= 0) throw_error(env, "ERR_SHAPE", "gather: sizes must be positive");
  p.x = buffer_ptr(env, info[0], "x", dev, (size_t)(p.m * p.k) * 2);
  p.perm = static_cast<const int32_t*>(buffer_ptr(env, info[1], "permutation", dev, (size_t)p.k * 4));
  p.out = buffer_ptr(env, info[2], "out", dev, (size_t)(p.m * p.k) * 2);
  use_device(env, dev);
  check_status(env, launch_gather_columns(p, st->handle->stream), "w4a16 act-order gather", dev);
  return env.Undefined();
}

}  // namespace

void register_w4a16(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("quantize", Napi::Function::New(env, quantize, "quantize"));
  o.Set("pack", Napi::Function::New(env, pack, "pack"));
  o.Set("dequantize", Napi::Function::New(env, dequantize, "dequantize"));
  o.Set("gemm", Napi::Function::New(env, gemm, "gemm"));
  o.Set("gather", Napi::Function::New(env, gather, "gather"));
  o.Set("layoutVersion", kLayoutVersion);
  exports.Set("w4a16", o);
}

}  // namespace wf::node
