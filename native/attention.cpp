// Binding for the attention family (cuda/attention/). lib/attention/
// validated shapes, dtypes and options and passes one plain object; here
// every buffer is re-checked against the furthest element the kernel can
// address with the given sizes and strides, so no JS input can make a kernel
// read or write out of bounds.
#include "../cuda/attention/attention.h"
#include "addon.h"
#include "errors.h"
#include "handles.h"

namespace wf::node {

namespace {

using namespace wf::attention;

struct Reader {
  Napi::Env env;
  Napi::Object o;
  int64_t i(const char* key, int64_t lo, int64_t hi) const {
    const int64_t v = arg_int(env, o.Get(key), key);
    if (v < lo || v > hi) throw_error(env, "ERR_INVALID_ARGUMENT", std::string(key) + " out of range");
    return v;
  }
  int i32(const char* key, int lo = 0) const { return (int)i(key, lo, 0x7fffffff); }
  double num(const char* key) const { return arg_number(env, o.Get(key), key); }
  bool flag(const char* key) const { return o.Get(key).ToBoolean().Value(); }
  bool has(const char* key) const {
    Napi::Value v = o.Get(key);
    return !v.IsNull() && !v.IsUndefined();
  }
  // [batch, row, head] element strides.
  void strides(const char* key, int64_t& b, int64_t& r, int64_t& h) const {
    Napi::Value v = o.Get(key);
    if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) throw_error(env, "ERR_INVALID_ARGUMENT", std::string("expected 3 strides for ") + key);
    Napi::Array a = v.As<Napi::Array>();
    int64_t s[3];
    for (uint32_t j = 0; j < 3; ++j) {
      s[j] = arg_int(env, a.Get(j), key);
      if (s[j] < 0 || s[j] > (int64_t(1) << 40)) throw_error(env, "ERR_INVALID_ARGUMENT", std::string(key) + " stride out of range");
    }
    b = s[0]; r = s[1]; h = s[2];
  }
  void* buffer(const char* key, int dev, size_t bytes) const { return buffer_ptr(env, o.Get(key), key, dev, bytes); }
  void* optional(const char* key, int dev, size_t bytes) const { return has(key) ? buffer(key, dev, bytes) : nullptr; }
};

// The attention kernels work in float16 or bfloat16 only.
DType half_dtype(Napi::Env env, Napi::Value v, const char* op) {
  const int64_t dt = arg_int(env, v, "dtype");
  if (dt != (int)DType::Float16 && dt != (int)DType::BFloat16) throw_error(env, "ERR_DTYPE", std::string(op) + " works in float16 or bfloat16");
  return (DType)dt;
}

// Bytes up to and including the last element addressed: rows·row + heads·head + d.
// Computed in double first: sizes up to 2^31 times strides up to 2^40 could
// wrap int64 into a small, "valid" extent; anything past 2^52 bytes saturates
// (no buffer is that large, so the bounds check then fails cleanly).
size_t extent(int64_t outer, int64_t outer_stride, int64_t rows, int64_t row, int64_t heads, int64_t head, int d) {
  if (outer <= 0 || rows <= 0 || heads <= 0) return 0;
  const double elems = (double)(outer - 1) * outer_stride + (double)(rows - 1) * row + (double)(heads - 1) * head + d;
  if (elems * 2 > 4503599627370496.0) return (size_t)1 << 52;
  return (size_t)((outer - 1) * outer_stride + (rows - 1) * row + (heads - 1) * head + d) * 2;
}

// A paged cache's block table [batch, stride] must reach `rows` rows per sequence.
void read_pages(const Reader& r, int dev, int batch, int64_t rows, const int32_t*& table, int64_t& stride, int& page_size, int& num_pages) {
  stride = r.i("blockTableStride", 1, 0x7fffffff);
  page_size = r.i32("pageSize", 1);
  num_pages = r.i32("numPages", 1);
  if ((double)batch * stride > 1e15) throw_error(r.env, "ERR_SHAPE", "paged KV: block table too large");
  table = static_cast<const int32_t*>(r.buffer("blockTable", dev, (size_t)(batch * stride) * 4));
  if ((int64_t)page_size * stride < rows) throw_error(r.env, "ERR_SHAPE", "paged KV: the block table covers fewer rows than the cache holds");
}

// forward({ q, k, v, out, lse?, qStrides, kStrides, vStrides, oStrides, batch,
//   heads, kvHeads, d, seqlenQ, seqlenK, cuSeqlensQ?, cuSeqlensK?, totalQ,
//   totalK, sequsedK?, sequsedKAdd, blockTable?, blockTableStride, pageSize,
//   numPages, scale, softcap, windowLeft, windowRight, dtype, decode, splits,
//   stream }) -> number of splits run
Napi::Value forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw_error(env, "ERR_INVALID_ARGUMENT", "expected an options object for attention");
  const Reader r{env, info[0].As<Napi::Object>()};
  Stream* st = unwrap_stream(env, r.o.Get("stream"), "stream");
  const int dev = st->handle->device;
  FwdParams p{};
  p.batch = r.i32("batch", 1);
  p.heads = r.i32("heads", 1);
  p.kv_heads = r.i32("kvHeads", 1);
  p.d = r.i32("d", 1);
  p.seqlen_q = r.i32("seqlenQ");
  p.seqlen_k = r.i32("seqlenK");
  p.dtype = half_dtype(env, r.o.Get("dtype"), "attention");
  if (p.heads % p.kv_heads) throw_error(env, "ERR_SHAPE", "attention: heads must be a multiple of kvHeads");
  r.strides("qStrides", p.q_batch, p.q_row, p.q_head);
  r.strides("kStrides", p.k_batch, p.k_row, p.k_head);
  r.strides("vStrides", p.v_batch, p.v_row, p.v_head);
  r.strides("oStrides", p.o_batch, p.o_row, p.o_head);
  const bool varlen_q = r.has("cuSeqlensQ"), varlen_k = r.has("cuSeqlensK"), paged = r.has("blockTable");
  p.total_q = r.i("totalQ", 0, 0x7fffffff);
  p.total_k = r.i("totalK", 0, 0x7fffffff);
  if (varlen_q) p.cu_seqlens_q = static_cast<const int32_t*>(r.buffer("cuSeqlensQ", dev, (size_t)(p.batch + 1) * 4));
  if (varlen_k) p.cu_seqlens_k = static_cast<const int32_t*>(r.buffer("cuSeqlensK", dev, (size_t)(p.batch + 1) * 4));
  p.seqused_k = static_cast<const int32_t*>(r.optional("sequsedK", dev, (size_t)p.batch * 4));
  p.seqused_k_add = (int)r.i("sequsedKAdd", 0, 0x7fffffff);
  if (paged) read_pages(r, dev, p.batch, p.seqlen_k, p.block_table, p.block_table_stride, p.page_size, p.num_pages);
  const size_t q_bytes = varlen_q ? extent(1, 0, p.total_q, p.q_row, p.heads, p.q_head, p.d)
                                  : extent(p.batch, p.q_batch, p.seqlen_q, p.q_row, p.heads, p.q_head, p.d);
  const size_t o_bytes = varlen_q ? extent(1, 0, p.total_q, p.o_row, p.heads, p.o_head, p.d)
                                  : extent(p.batch, p.o_batch, p.seqlen_q, p.o_row, p.heads, p.o_head, p.d);
  auto kv_bytes = [&](int64_t outer_stride, int64_t row, int64_t head) {
    if (paged) return extent(p.num_pages, outer_stride, p.page_size, row, p.kv_heads, head, p.d);
    if (varlen_k) return extent(1, 0, p.total_k, row, p.kv_heads, head, p.d);
    return extent(p.batch, outer_stride, p.seqlen_k, row, p.kv_heads, head, p.d);
  };
  p.q = r.buffer("q", dev, q_bytes);
  p.k = r.buffer("k", dev, kv_bytes(p.k_batch, p.k_row, p.k_head));
  p.v = r.buffer("v", dev, kv_bytes(p.v_batch, p.v_row, p.v_head));
  p.out = r.buffer("out", dev, o_bytes);
  // lse: [B, H, Sq] (fixed lengths) or [H, totalQ] (varlen), float32.
  const int64_t lse_rows = varlen_q ? p.total_q : p.seqlen_q;
  p.lse_head = lse_rows;
  p.lse_batch = (int64_t)p.heads * lse_rows;
  p.lse = static_cast<float*>(r.optional("lse", dev, (size_t)((varlen_q ? 1 : p.batch) * p.lse_batch) * 4));
  p.scale = (float)r.num("scale");
  p.softcap = (float)r.num("softcap");
  p.window_left = (int)r.i("windowLeft", -1, 0x7fffffff);
  p.window_right = (int)r.i("windowRight", -1, 0x7fffffff);
  use_device(env, dev);
  const LaunchTarget target = launch_target(env, dev);
  p.sm_count = target.sm_count;
  // arch 0 keeps every GPU on the portable mma.sync kernel.
  p.arch = r.flag("portable") ? 0 : target.arch;
  const FwdPlan plan = plan_fwd(p, r.flag("decode"), (int)r.i("splits", 0, kMaxSplits));
  p.pack_gqa = plan.pack_gqa;
  cudaStream_t stream = st->handle->stream;
  if (plan.num_splits > 1) {
    // Split partials live only for this call: stream-ordered pool memory.
    void* ws = nullptr;
    check_cuda(env, cudaMallocAsync(&ws, plan.accum_bytes, stream), "attention split scratch", dev);
    p.lse_accum = static_cast<float*>(ws);
    p.o_accum = p.lse_accum + (size_t)plan.num_splits * p.batch * p.heads * p.seqlen_q;
    Status status = launch_fwd(p, plan, stream);
    cudaFreeAsync(ws, stream);
    check_status(env, status, "attention", dev);
  } else {
    check_status(env, launch_fwd(p, plan, stream), "attention", dev);
  }
  return Napi::Number::New(env, plan.num_splits);
}

// appendKv({ kNew, vNew, knStrides, vnStrides, kCache, vCache, kStrides,
//   vStrides, seqused, blockTable?, blockTableStride, pageSize, numPages,
//   batch, sNew, kvHeads, d, capacity, dtype, stream })
Napi::Value append_kv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw_error(env, "ERR_INVALID_ARGUMENT", "expected an options object for the KV append");
  const Reader r{env, info[0].As<Napi::Object>()};
  Stream* st = unwrap_stream(env, r.o.Get("stream"), "stream");
  const int dev = st->handle->device;
  AppendParams p{};
  p.batch = r.i32("batch", 1);
  p.s_new = r.i32("sNew");
  p.kv_heads = r.i32("kvHeads", 1);
  p.d = r.i32("d", 1);
  p.capacity = r.i32("capacity");
  p.dtype = half_dtype(env, r.o.Get("dtype"), "KV append");
  r.strides("knStrides", p.kn_batch, p.kn_row, p.kn_head);
  r.strides("vnStrides", p.vn_batch, p.vn_row, p.vn_head);
  r.strides("kStrides", p.k_batch, p.k_row, p.k_head);
  r.strides("vStrides", p.v_batch, p.v_row, p.v_head);
  const bool paged = r.has("blockTable");
  if (paged) read_pages(r, dev, p.batch, p.capacity, p.block_table, p.block_table_stride, p.page_size, p.num_pages);
  p.seqused = static_cast<const int32_t*>(r.buffer("seqused", dev, (size_t)p.batch * 4));
  p.k_new = r.buffer("kNew", dev, extent(p.batch, p.kn_batch, p.s_new, p.kn_row, p.kv_heads, p.kn_head, p.d));
  p.v_new = r.buffer("vNew", dev, extent(p.batch, p.vn_batch, p.s_new, p.vn_row, p.kv_heads, p.vn_head, p.d));
  auto cache_bytes = [&](int64_t outer, int64_t row, int64_t head) {
    return paged ? extent(p.num_pages, outer, p.page_size, row, p.kv_heads, head, p.d)
                 : extent(p.batch, outer, p.capacity, row, p.kv_heads, head, p.d);
  };
  p.k_cache = r.buffer("kCache", dev, cache_bytes(p.k_batch, p.k_row, p.k_head));
  p.v_cache = r.buffer("vCache", dev, cache_bytes(p.v_batch, p.v_row, p.v_head));
  use_device(env, dev);
  check_status(env, launch_append_kv(p, st->handle->stream), "KV append", dev);
  return env.Undefined();
}

// softmaxRows(x, rows, sq, sk, causal, dtype, stream): the unfused baseline's softmax.
Napi::Value softmax_rows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream* st = unwrap_stream(env, info[6], "stream");
  const int dev = st->handle->device;
  SoftmaxParams p{};
  p.rows = arg_int(env, info[1], "rows");
  const int64_t sq = arg_int(env, info[2], "sq"), sk = arg_int(env, info[3], "sk");
  if (p.rows > 0x7fffffff || sq > 0x7fffffff || sk > 0x7fffffff) throw_error(env, "ERR_SHAPE", "softmax rows: sizes out of range");
  p.sq = (int)sq;
  p.sk = (int)sk;
  p.causal = info[4].ToBoolean().Value();
  p.dtype = half_dtype(env, info[5], "softmax rows");
  if (p.rows <= 0 || p.sq <= 0 || p.sk <= 0) throw_error(env, "ERR_SHAPE", "softmax rows: sizes must be positive");
  p.x = buffer_ptr(env, info[0], "scores", dev, (size_t)(p.rows * p.sk) * 2);
  use_device(env, dev);
  check_status(env, launch_softmax_rows(p, st->handle->stream), "softmax rows", dev);
  return env.Undefined();
}

}  // namespace

void register_attention(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("forward", Napi::Function::New(env, forward, "forward"));
  o.Set("appendKv", Napi::Function::New(env, append_kv, "appendKv"));
  o.Set("softmaxRows", Napi::Function::New(env, softmax_rows, "softmaxRows"));
  exports.Set("attention", o);
}

}  // namespace wf::node
