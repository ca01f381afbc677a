// Standalone attention harness (no Node): random q/k/v -> kernel -> check a
// few (batch, head) slices against a float64 CPU reference -> time with
// CUDA events. Runs under compute-sanitizer and ncu directly.
//
//   B=16 H=16 HKV=16 SQ=4096 SK=4096 D=128 CAUSAL=0 DECODE=0 BF16=0 SPLITS=0 \
//   ITERS=30 build/attention_harness
//
// On Hopper the default (wgmma) kernel is followed by the portable one.
//
// Layout [B, S, H, D] contiguous. DECODE=1 plans the split-KV decode tiles.
// Prints relative Frobenius error, max abs error, median µs, TFLOP/s and,
// for decode, K/V bytes per second.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "../common/harness.h"
#include <cuda_runtime.h>

#include "attention.h"
#include "fwd_launch.cuh"

using namespace wf;
using namespace wf::attention;

namespace {


float to_float(uint16_t bits, bool bf16) {
  if (bf16) {
    uint32_t u = (uint32_t)bits << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  __half_raw r;
  r.x = bits;
  return __half2float(__half(r));
}

uint16_t from_float(float f, bool bf16) {
  if (bf16) {
    __nv_bfloat16 b = __float2bfloat16_rn(f);
    return *reinterpret_cast<uint16_t*>(&b);
  }
  __half h = __float2half_rn(f);
  return *reinterpret_cast<uint16_t*>(&h);
}

// Tile configurations timed beside the default with VARIANTS=1 (fp16 only):
// the experiments behind tiles.h's choices.
struct Variant {
  const char* name;
  int d;
  bool decode;
  int block_m, block_n;
  Status (*launch)(const FwdParams&, const FwdPlan&, cudaStream_t);
};
#define WF_VARIANT(D, DEC, M, N, W) \
  Variant{#M "x" #N " w" #W, D, DEC, M, N, launch_config<FwdConfig<__half, D, M, N, W>>}
#define WF_VARIANT_OCC(D, DEC, M, N, W, MB) \
  Variant{#M "x" #N " w" #W " min" #MB, D, DEC, M, N, launch_config<FwdConfig<__half, D, M, N, W, MB>>}
#define WF_HOPPER_VARIANT(D, N, WG) \
  Variant{"wgmma " #N " keys, " #WG " warpgroups", D, false, 64 * WG, N, launch_hopper<HopperConfig<__half, D, N, WG>>}
const Variant kVariants[] = {
    WF_HOPPER_VARIANT(64, 64, 2), WF_HOPPER_VARIANT(128, 64, 2),
    Variant{"wgmma no pingpong", 64, false, 128, 128, launch_hopper<HopperConfig<__half, 64, 128, 2, false>>},
    Variant{"wgmma no pingpong", 128, false, 128, 128, launch_hopper<HopperConfig<__half, 128, 128, 2, false>>},
    Variant{"wgmma no pingpong", 256, false, 128, 64, launch_hopper<HopperConfig<__half, 256, 64, 2, false>>},
    WF_VARIANT_OCC(64, false, 128, 64, 4, 3), WF_VARIANT(64, false, 128, 128, 8), WF_VARIANT(64, false, 64, 64, 2),
    WF_VARIANT(128, false, 128, 64, 8),  WF_VARIANT(128, false, 128, 32, 4),  WF_VARIANT(128, false, 64, 64, 2),
    WF_VARIANT(256, false, 64, 32, 4),   WF_VARIANT(256, false, 128, 64, 8),  WF_VARIANT(256, false, 32, 64, 2),
    WF_VARIANT(128, true, 64, 64, 4),    WF_VARIANT(128, true, 32, 64, 2),    WF_VARIANT_OCC(128, true, 64, 64, 4, 3),
    WF_VARIANT_OCC(128, true, 64, 64, 4, 4),
};

}  // namespace

int main() {
  const int B = harness::env_int("B", 2), H = harness::env_int("H", 16), HKV = harness::env_int("HKV", H), D = harness::env_int("D", 128);
  const int SQ = harness::env_int("SQ", 1024), SK = harness::env_int("SK", SQ), causal = harness::env_int("CAUSAL", 0);
  const bool decode = harness::env_int("DECODE", 0), bf16 = harness::env_int("BF16", 0);
  const int splits = harness::env_int("SPLITS", 0), iters = harness::env_int("ITERS", 30);
  std::printf("B=%d H=%d HKV=%d SQ=%d SK=%d D=%d causal=%d decode=%d %s\n", B, H, HKV, SQ, SK, D, causal, decode,
              bf16 ? "bf16" : "fp16");

  const size_t nq = (size_t)B * SQ * H * D, nk = (size_t)B * SK * HKV * D;
  std::vector<uint16_t> hq(nq), hk(nk), hv(nk), ho(nq);
  // Uniform on [-√3, √3] (unit variance) from xorshift: decode caches run to
  // billions of elements, where std::normal_distribution took minutes.
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return ((float)(state >> 40) * (1.f / 16777216.f) * 2.f - 1.f) * 1.7320508f;
  };
  for (auto* buf : {&hq, &hk, &hv})
    for (auto& x : *buf) x = from_float(next(), bf16);

  void *dq, *dk, *dv, *dout;
  WF_CHECK(cudaMalloc(&dq, nq * 2));
  WF_CHECK(cudaMalloc(&dk, nk * 2));
  WF_CHECK(cudaMalloc(&dv, nk * 2));
  WF_CHECK(cudaMalloc(&dout, nq * 2));
  WF_CHECK(cudaMemcpy(dq, hq.data(), nq * 2, cudaMemcpyHostToDevice));
  WF_CHECK(cudaMemcpy(dk, hk.data(), nk * 2, cudaMemcpyHostToDevice));
  WF_CHECK(cudaMemcpy(dv, hv.data(), nk * 2, cudaMemcpyHostToDevice));
  WF_CHECK(cudaMemset(dout, 0xff, nq * 2));  // NaN: unwritten elements fail the check

  FwdParams p{};
  p.q = dq; p.k = dk; p.v = dv; p.out = dout;
  p.q_batch = (int64_t)SQ * H * D; p.q_row = (int64_t)H * D; p.q_head = D;
  p.o_batch = p.q_batch; p.o_row = p.q_row; p.o_head = p.q_head;
  p.k_batch = (int64_t)SK * HKV * D; p.k_row = (int64_t)HKV * D; p.k_head = D;
  p.v_batch = p.k_batch; p.v_row = p.k_row; p.v_head = p.k_head;
  p.batch = B; p.heads = H; p.kv_heads = HKV; p.d = D;
  p.seqlen_q = SQ; p.seqlen_k = SK;
  p.scale = 1.f / std::sqrt((float)D);
  p.window_left = -1;
  p.window_right = causal ? 0 : -1;
  p.dtype = bf16 ? DType::BFloat16 : DType::Float16;
  WF_CHECK(cudaDeviceGetAttribute(&p.sm_count, cudaDevAttrMultiProcessorCount, 0));
  int major = 0, minor = 0;
  WF_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
  WF_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
  p.arch = major * 10 + minor;
  const FwdPlan plan = plan_fwd(p, decode, splits);
  p.pack_gqa = plan.pack_gqa;
  void* ws = nullptr;
  if (plan.num_splits > 1) {
    // Sized for the smallest tile a variant uses (more splits never needed).
    WF_CHECK(cudaMalloc(&ws, plan.accum_bytes));
    p.lse_accum = static_cast<float*>(ws);
    p.o_accum = p.lse_accum + (size_t)plan.num_splits * B * H * SQ;
  }

  // The reference: the first and last (batch, head), a sample of rows.
  const int group = H / HKV;
  std::vector<int> rows;
  for (int i = 0; i < SQ; i += std::max(1, SQ / 48)) rows.push_back(i);
  rows.push_back(SQ - 1);
  std::vector<std::vector<double>> ref;
  for (int bh : {0, B * H - 1}) {
    const int b = bh / H, h = bh % H, kvh = h / group;
    for (int i : rows) {
      std::vector<double> s(SK), o(D);
      double mx = -INFINITY;
      const int last = causal ? i + SK - SQ : SK - 1;
      for (int j = 0; j < SK; ++j) {
        if (j > last) { s[j] = -INFINITY; continue; }
        double acc = 0;
        for (int c = 0; c < D; ++c)
          acc += (double)to_float(hq[(((size_t)b * SQ + i) * H + h) * D + c], bf16) *
                 to_float(hk[(((size_t)b * SK + j) * HKV + kvh) * D + c], bf16);
        s[j] = acc * p.scale;
        mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (int j = 0; j < SK; ++j) sum += s[j] = (mx == -INFINITY || s[j] == -INFINITY) ? 0 : std::exp(s[j] - mx);
      for (int c = 0; c < D; ++c) {
        for (int j = 0; j < SK; ++j) o[c] += s[j] * to_float(hv[(((size_t)b * SK + j) * HKV + kvh) * D + c], bf16);
        o[c] = sum > 0 ? o[c] / sum : 0;
      }
      ref.push_back(o);
    }
  }

  // Causal work counts only the visible (bottom-right aligned) pairs.
  double pairs = (double)SQ * SK;
  if (causal) {
    pairs = 0;
    for (int i = 0; i < SQ; ++i) pairs += std::max(0, std::min(SK, i + SK - SQ + 1));
  }
  const double flops = 4.0 * B * H * pairs * D, kv_bytes = 2.0 * nk * 2;
  bool all_ok = true;

  auto measure = [&](const char* name, const FwdPlan& pl, auto&& launch) {
    WF_CHECK(cudaMemset(dout, 0xff, nq * 2));  // NaN: unwritten elements fail the check
    Status st = launch(pl);
    if (!st.ok()) {
      std::printf("%-28s launch failed: %s\n", name, st.detail);
      all_ok = false;
      return;
    }
    WF_CHECK(cudaDeviceSynchronize());
    WF_CHECK(cudaMemcpy(ho.data(), dout, nq * 2, cudaMemcpyDeviceToHost));
    size_t unwritten = 0;
    for (size_t i = 0; i < nq; ++i)
      if (std::isnan(to_float(ho[i], bf16))) ++unwritten;
    double err2 = 0, ref2 = 0, max_abs = 0;
    size_t at = 0;
    for (int bh : {0, B * H - 1}) {
      const int b = bh / H, h = bh % H;
      for (int i : rows) {
        const std::vector<double>& o = ref[at++];
        for (int c = 0; c < D; ++c) {
          const double got = to_float(ho[(((size_t)b * SQ + i) * H + h) * D + c], bf16);
          err2 += (got - o[c]) * (got - o[c]);
          ref2 += o[c] * o[c];
          max_abs = std::max(max_abs, std::fabs(got - o[c]));
        }
      }
    }
    const double rel = std::sqrt(err2 / std::max(ref2, 1e-30));
    const bool ok = rel < (bf16 ? 1e-2 : 2e-3) && unwritten == 0;
    all_ok = all_ok && ok;
    cudaEvent_t e0, e1;
    WF_CHECK(cudaEventCreate(&e0));
    WF_CHECK(cudaEventCreate(&e1));
    std::vector<float> times;
    for (int it = 0; it < iters + 5; ++it) {
      WF_CHECK(cudaEventRecord(e0));
      launch(pl);
      WF_CHECK(cudaEventRecord(e1));
      WF_CHECK(cudaEventSynchronize(e1));
      float ms;
      WF_CHECK(cudaEventElapsedTime(&ms, e0, e1));
      if (it >= 5) times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    const double us = times[times.size() / 2] * 1e3;
    std::printf("%-28s tile %3dx%-3d splits %3d | rel %.2e max abs %.2e unwritten %zu %s | %8.1f us %6.1f TFLOP/s %6.0f GB/s K/V\n",
                name, pl.block_m, pl.block_n, pl.num_splits, rel, max_abs, unwritten, ok ? "OK  " : "FAIL", us,
                flops / us * 1e-6, kv_bytes / us * 1e-3);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
  };

  measure(plan.hopper ? "default (wgmma)" : "default", plan, [&](const FwdPlan& pl) { return launch_fwd(p, pl, 0); });
  if (plan.hopper) {
    // The portable kernel on the same inputs, for comparison.
    FwdParams portable = p;
    portable.arch = 0;
    measure("portable (mma.sync)", plan_fwd(portable, decode, splits), [&](const FwdPlan& pl) { return launch_fwd(portable, pl, 0); });
  }
  if (harness::env_int("VARIANTS", 0) && !bf16) {
    for (const Variant& v : kVariants) {
      if (v.d != kernel_head_dim(D) || v.decode != decode) continue;
      FwdPlan pl = plan;
      pl.block_m = v.block_m;
      pl.block_n = v.block_n;
      const int64_t rows_all = (int64_t)SQ * (pl.pack_gqa ? group : 1);
      pl.m_blocks = (int)((rows_all + v.block_m - 1) / v.block_m);
      measure(v.name, pl, [&](const FwdPlan& x) {
        FwdParams q = p;
        q.num_splits = x.num_splits;
        Status st = v.launch(q, x, 0);
        return st.ok() && x.num_splits > 1 ? launch_combine(q, 0) : st;
      });
    }
  }
  cudaFree(dq); cudaFree(dk); cudaFree(dv); cudaFree(dout);
  if (ws) cudaFree(ws);
  return all_ok ? 0 : 1;
}
