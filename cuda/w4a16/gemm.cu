// W4A16 GEMM: out[M,N] = x[M,K] · dequant(W)[N,K]ᵀ on mma.m16n8k16.
//
// Work split (H100 streams 22 GB/s into each SM at full HBM bandwidth, so the
// kernel is built to spend few instructions per weight byte and to read the
// activations from L2 as few times as possible):
//
//   - A CTA (8 warps) owns a block of ROWS = 16·MT rows × 256 columns: each
//     warp 32 columns (two 16-column tiles of the packed layout), all warps
//     sharing one x tile per stage, so x is read once per 256 columns.
//   - K is cut into split_k ranges of whole 64-wide chunks, one per CTA, so
//     grid = row blocks × column blocks × split_k ≥ 2 CTAs per SM for any shape.
//   - split_k > 1: each CTA stores fp32 partials; the last CTA to arrive at an
//     output tile (an atomic counter) adds them, adds the bias, converts, and
//     resets the counter to zero for the next call. No second kernel.
//
//        K ─────────────────────────────────▶
//   N  ┌──────────┬──────────┬──────────┐
//   │  │ CTA(0,0) │ CTA(0,1) │ CTA(0,2) │  256 cols, K/3 each; partials → ws
//   ▼  ├──────────┼──────────┼──────────┤
//      │ CTA(1,0) │ ...      │          │
//
// Pipeline: STAGES-deep cp.async ring per CTA; a stage is one 64-wide chunk:
// the x tile (rows < M only), each thread's two 16-byte weight fragments (see
// layout.h: a thread loads exactly the bytes it will use), and each warp's
// scales (and zero points) for the chunk.
#include <algorithm>

#include "../common/launch.h"
#include "dequant.h"
#include "dispatch.h"
#include "epilogue.cuh"
#include "w4a16.h"

namespace wf::w4a16 {
namespace {

constexpr int kWarps = 8;
constexpr int kTilesPerWarp = 2;  // 16-column tiles
static_assert(kWarps * kTilesPerWarp * 16 == kGemmBlockN, "block width");

template <int MT>
struct Tile {
  static constexpr int kRows = 16 * MT;
  // +8 elements (16 B) per row: rows start 4 banks apart, so the 8 row
  // addresses of each ldmatrix phase fall in 32 distinct banks.
  static constexpr int kARow = 64 + 8;
  static constexpr int kStages = MT == 1 ? 8 : MT == 2 ? 6 : 4;
  static constexpr int kABytes = kRows * kARow * 2;
  static constexpr int kBBytes = 256 * kTilesPerWarp * 16;
  // per warp, per tile: 2 halves of the chunk × 16 values, scales then zeros
  static constexpr int kSBytes = kWarps * kTilesPerWarp * 2 * 16 * 2 * 2;
  static constexpr int kStageBytes = kABytes + kBBytes + kSBytes;
  static constexpr int kSmem = kStages * kStageBytes;
};

template <typename T, bool ASYM, int MT>
// Two CTAs per SM where registers allow (MT ≤ 2); MT = 4 needs 128+ registers.
__global__ void __launch_bounds__(256, MT == 4 ? 1 : 2) gemm_kernel(const GemmParams p, const GemmPlan plan, int group_shift) {
  using Cfg = Tile<MT>;
  using N = Num<T>;
  using T2 = typename N::T2;
  constexpr int ROWS = Cfg::kRows, A_ROW = Cfg::kARow, STAGES = Cfg::kStages, U = kTilesPerWarp;
  extern __shared__ __align__(16) uint8_t smem[];

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int g = lane / 4, t = lane % 4;
  const int64_t m0 = (int64_t)blockIdx.x * ROWS;
  const int rows = (int)min((int64_t)ROWS, p.m - m0);
  const int64_t NT = p.n_pad / 16;
  const int64_t nt0 = (int64_t)blockIdx.y * (kGemmBlockN / 16) + warp * U;  // this warp's first tile
  const int KC = (int)(p.k_pad / 64);
  const int kc0 = blockIdx.z * plan.chunks_per_split;
  const int n_stages = min(KC, kc0 + plan.chunks_per_split) - kc0;
  const T* x = static_cast<const T*>(p.x);
  const T* scales = static_cast<const T*>(p.scales);
  const T* zeros = static_cast<const T*>(p.zeros);
  const uint64_t policy = ptx::evict_first_policy();

  auto a_tile = [&](int buf) { return reinterpret_cast<T*>(smem + buf * Cfg::kStageBytes); };
  auto b_frag = [&](int buf) { return reinterpret_cast<uint4*>(smem + buf * Cfg::kStageBytes + Cfg::kABytes) + tid * U; };
  // [warp][kind: scales, zeros][tile u][half][16 values] as 32-bit words
  auto s_warp = [&](int buf) {
    return reinterpret_cast<uint32_t*>(smem + buf * Cfg::kStageBytes + Cfg::kABytes + Cfg::kBBytes) + warp * (2 * U * 2 * 8);
  };

  auto load_stage = [&](int buf, int kc) {
    // x: only rows < M. Rows past M are never loaded; their accumulators hold
    // garbage that the epilogue never stores (mma rows are independent).
    T* a = a_tile(buf);
    for (int i = tid; i < rows * 8; i += 256) {
      const int r = i / 8, c = i % 8;
      const int64_t gk = (int64_t)kc * 64 + c * 8;
      const bool ok = gk < p.k;
      ptx::cp_async16_zfill(a + r * A_ROW + c * 8, ok ? x + (m0 + r) * p.k + gk : x, ok ? 16 : 0);
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t nt = nt0 + u;
      if (nt < NT) ptx::cp_async16_evict_first(b_frag(buf) + u, p.w + ((nt * KC + kc) * 32 + lane) * 4, policy);
    }
    // Lanes 0-7 fetch scales, 8-15 zero points: lane bits = kind·8 + u·4 + half·2 + part.
    if (lane < (ASYM ? 16 : 8)) {
      const int kind = lane / 8, u = (lane / 4) % 2, half = (lane / 2) % 2, part = lane % 2;
      const int64_t nt = nt0 + u;
      if (nt < NT) {
        const int64_t grp = ((int64_t)kc * 64 + 32 * half) >> group_shift;
        const T* src = (kind ? zeros : scales) + (grp * NT + nt) * 16 + part * 8;
        ptx::cp_async16_evict_first(s_warp(buf) + lane * 4, src, policy);
      }
    }
  };

  float acc[MT][U][2][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int u = 0; u < U; ++u)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[i][u][h][e] = 0.f;

#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < n_stages) load_stage(s, kc0 + s);
    ptx::cp_async_commit();
  }

  const uint32_t sym_bits = (N::kMagic + 8u) | ((N::kMagic + 8u) << 16);  // magic + 8, exact
  const T2 sym_sub = N::pair(sym_bits);
  const T2 sym_sub_hi = offset_pair_hi<T>(static_cast<T>(8.f));
  // Warps whose tiles lie past N_pad (last column block) only keep the barriers.
  const bool warp_active = nt0 < NT;

  for (int st = 0; st < n_stages; ++st) {
    ptx::cp_async_wait<STAGES - 2>();
    __syncthreads();
    {
      const int next = st + STAGES - 1;
      if (next < n_stages) load_stage(next % STAGES, kc0 + next);
      ptx::cp_async_commit();
    }
    if (!warp_active) continue;
    const int buf = st % STAGES;
    uint4 wq[U];
#pragma unroll
    for (int u = 0; u < U; ++u) wq[u] = b_frag(buf)[u];
    const uint32_t* sw = s_warp(buf);
    const T* a = a_tile(buf);
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      T2 scale[U][2], sub[U][2], sub_hi[U][2];
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const T2 s_pair = N::pair(sw[(u * 2 + half) * 8 + g]);  // (s[n], s[n+8])
        scale[u][0] = N::splat(s_pair.x);
        scale[u][1] = N::splat(s_pair.y);
        if constexpr (ASYM) {
          const T2 z_pair = N::pair(sw[32 + (u * 2 + half) * 8 + g]);  // zeros follow the 32 scale words
          sub[u][0] = offset_pair<T>(z_pair.x);
          sub[u][1] = offset_pair<T>(z_pair.y);
          sub_hi[u][0] = offset_pair_hi<T>(z_pair.x);
          sub_hi[u][1] = offset_pair_hi<T>(z_pair.y);
        } else {
          sub[u][0] = sub[u][1] = sym_sub;
          sub_hi[u][0] = sub_hi[u][1] = sym_sub_hi;
        }
      }
#pragma unroll
      for (int jj = 0; jj < 2; ++jj) {
        const int j = half * 2 + jj;
        uint32_t b[U][2][2];
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const uint32_t word = j == 0 ? wq[u].x : j == 1 ? wq[u].y : j == 2 ? wq[u].z : wq[u].w;
          dequant_word<T>(word, sub[u], sub_hi[u], scale[u], b[u]);
        }
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if (mt * 16 >= rows) break;  // whole m16 tiles past M: skip the math
          uint32_t af[4];
          ptx::ldmatrix_x4(af, a + (mt * 16 + lane % 16) * A_ROW + j * 16 + (lane / 16) * 8);
#pragma unroll
          for (int u = 0; u < U; ++u) {
            ptx::mma_16816<T>(acc[mt][u][0], af, b[u][0]);
            ptx::mma_16816<T>(acc[mt][u][1], af, b[u][1]);
          }
        }
      }
    }
  }
  ptx::cp_async_wait<0>();

  // Epilogue. Accumulator element e of (mt, u, h): row mt·16 + g + 8·(e ≥ 2),
  // column (nt0 + u)·16 + 8h + 2t + (e & 1). Calls fn(acc element, row,
  // column) for every element inside [M, N].
  auto each_output = [&](auto&& fn) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int u = 0; u < U; ++u)
#pragma unroll
        for (int h = 0; h < 2; ++h)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int64_t r = m0 + mt * 16 + g + (e >= 2 ? 8 : 0), c = (nt0 + u) * 16 + h * 8 + 2 * t + (e & 1);
            if (r < p.m && c < p.n) fn(acc[mt][u][h][e], r, c);
          }
  };
  if (plan.split_k > 1) {
    // Each split stores its partials; the last CTA to arrive at the output
    // tile (an atomic counter) adds them and resets the counter to zero.
    float* ws = p.workspace + (int64_t)blockIdx.z * p.m * p.n;
    if (warp_active) each_output([&](float& v, int64_t r, int64_t c) { __stcg(ws + r * p.n + c, v); });
    __threadfence();
    __syncthreads();
    __shared__ int arrived;
    int32_t* counter = p.counters + (int64_t)blockIdx.x * gridDim.y + blockIdx.y;
    if (tid == 0) arrived = atomicAdd(counter, 1);
    __syncthreads();
    if (arrived != plan.split_k - 1) return;
    __threadfence();  // see every other CTA's partials
    if (tid == 0) *counter = 0;
    if (!warp_active) return;
    each_output([&](float& v, int64_t r, int64_t c) {
      float s = 0.f;
      for (int k = 0; k < plan.split_k; ++k) s += k == (int)blockIdx.z ? v : __ldcg(p.workspace + (int64_t)k * p.m * p.n + r * p.n + c);
      v = s;
    });
  }
  if (warp_active) write_output<T>(p, each_output);
}

int rows_for(int64_t m) { return m <= 16 ? 16 : m <= 32 ? 32 : 64; }

template <typename T, bool ASYM, int MT>
Status run(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  using Cfg = Tile<MT>;
  auto kernel = gemm_kernel<T, ASYM, MT>;
  if (Status st = allow_max_smem<gemm_kernel<T, ASYM, MT>>(); !st.ok()) return st;
  const int shift = group_shift(p.group_size);
  dim3 grid((unsigned)plan.row_blocks, (unsigned)plan.col_blocks, (unsigned)plan.split_k);
  kernel<<<grid, 256, Cfg::kSmem, stream>>>(p, plan, shift);
  return check_launch("w4a16 gemm");
}

template <typename T, bool ASYM>
Status dispatch_rows(const GemmParams& p, const GemmPlan& plan, cudaStream_t s) {
  switch (plan.rows_per_block) {
    case 16: return run<T, ASYM, 1>(p, plan, s);
    case 32: return run<T, ASYM, 2>(p, plan, s);
    case 64: return run<T, ASYM, 4>(p, plan, s);
  }
  return Status::fail(Code::UnsupportedShape, "w4a16: no row-block size fits M");
}

}  // namespace

GemmPlan plan_gemm(const GemmParams& p) {
  // The streaming kernel wins for decode-sized M; between 17 and 64 rows it
  // wins on weights up to 8192 columns wide and the tiled kernel on wider
  // ones (bench/RESULTS.md, 2026-11-23).
  // Hopper: the decode kernel up to 16 rows, the wgmma kernel above (H200,
  // harness, µs, decode / wgmma at 32 tokens per CTA, M = 32: 28672 × 8192
  // 72.4 / 63.0, 8192 × 28672 69.2 / 64.2, 4096 × 11008 24.7 / 22.8; M =
  // 24: 28672 × 8192 69.2 / 62.8).
  // At 9-16 rows the wgmma kernel too where its plan is whole tiles in one
  // wave (no K split, no stream-K): every CTA streams one column block and
  // nothing meets, where the decode kernel splits K 3-4 ways (H200,
  // harness, µs, decode / wgmma at 32 tokens, M = 9 / 12 / 16: 14336 ×
  // 4096 22.5 / 21.1, 23.5 / 21.1, 23.8 / 21.1; 13824 × 5120 24.7 / 24.5,
  // 25.2 / 24.5, 26.1 / 24.4). Where it splits or runs stream-K the
  // decode kernel wins or ties (28672 × 8192 M = 16 54.3 / 56.3, 14336 ×
  // 8192 32.9 / 35.7, 8192² 23.0 / 22.5, 11008 × 4096 21.0 / 20.7), but
  // for 20480 × 5120 (stream-K, 34.4 / 31.6). And only at one CTA per SM:
  // where the tiles take two (more than 132 column blocks), the decode
  // kernel won (M = 16: 29568 × 8192 60.9 / 53.6, 30720 × 8192 61.1 / 52.3,
  // 27648 × 5120 41.1 / 39.2).
  // And at group size 32 everywhere: the decode kernel's mid-chunk group
  // flushes cost it more than the wgmma kernel's (H200, harness, µs,
  // decode / wgmma, M = 9 / 16: asymmetric 28672 × 8192 84.1 / 56.1, 85.9
  // / 56.3; 8192 × 28672 76.5 / 65.1, 77.5 / 65.0; 8192² 29.4 / 24.6, 30.9
  // / 24.4; 11008 × 4096 26.0 / 21.5, 26.8 / 21.8; 4096 × 11008 24.5 /
  // 23.5, 25.2 / 23.8; symmetric 28672 × 8192 62.6 / 53.3, 64.4 / 53.4;
  // 8192² 23.9 / 22.4, 25.4 / 22.3). At group 64 where its plan does not
  // split K (stream-K or whole tiles): M = 12 / 16, symmetric 28672 × 8192
  // 60.0 / 51.0, 60.2 / 51.1; 11008 × 4096 21.3 / 19.3, 21.8 / 19.4; 20480
  // × 5120 34.0 / 29.0, 34.6 / 28.9; 14336 × 8192 35.8 / 34.2, 36.2 / 34.5;
  // 27648 × 5120 41.5 / 39.8, 44.2 / 39.7; 57344 × 8192 107.0 / 93.3,
  // 109.9 / 93.0; asymmetric 1-24 % faster but for 14336 × 8192 (36.1 /
  // 36.4, 36.5 / 36.3). Where it splits K the decode kernel wins (group 64
  // asymmetric, M = 16: 8192 × 28672 54.6 / 62.3, 8192² 23.3 / 23.7, 4096 ×
  // 11008 20.4 / 23.2). At group 128 either wins (asymmetric M = 16: 20480
  // × 5120 31.6 / 29.4, 14336 × 8192 32.4 / 37.7), and at M ≤ 8, group 32,
  // they tie (28672 × 8192 M = 8 59.6 / 56.4, 8192² 24.1 / 24.3).
#ifdef WARPFORGE_SM90A  // the wgmma kernel exists only in sm_90a machine code
  if (p.arch == 90 && p.m > 16) return plan_wgmma(p);
  if (p.arch == 90 && p.m > 8) {
    const GemmPlan w = plan_wgmma(p);
    if (p.group_size == 32 || (p.group_size == 64 && w.split_k == 1) ||
        (w.split_k == 1 && !w.stream_k && w.row_blocks == 1 && w.ctas_per_sm == 1))
      return w;
  }
#endif
  if (p.m <= 16 || (p.m <= kDecodeMaxRows && p.n_pad <= 8192)) return plan_decode(p);
  GemmPlan plan{};
  plan.rows_per_block = rows_for(p.m);
  plan.row_blocks = (p.m + plan.rows_per_block - 1) / plan.rows_per_block;
  plan.col_blocks = (p.n_pad + kGemmBlockN - 1) / kGemmBlockN;
  const int kc = (int)(p.k_pad / 64);
  // Split K until the grid fills the resident CTA slots (two per SM, one for
  // 64-row blocks), but never past them: a partial second wave would double
  // the time of a bandwidth-bound GEMM.
  const int64_t tiles = plan.row_blocks * plan.col_blocks;
  const int64_t slots = (plan.rows_per_block == 64 ? 1 : 2) * (int64_t)std::max(p.sm_count, 1);
  const int split = (int)std::min<int64_t>(kc, std::max<int64_t>(1, slots / tiles));
  plan.chunks_per_split = (kc + split - 1) / split;
  plan.split_k = (kc + plan.chunks_per_split - 1) / plan.chunks_per_split;  // no empty splits
  plan.workspace_bytes = plan.split_k > 1 ? (size_t)plan.split_k * p.m * p.n * sizeof(float) : 0;
  plan.counters = plan.split_k > 1 ? tiles : 0;
  return plan;
}

Status launch_gemm(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  if (p.m <= 0 || p.n <= 0 || p.k <= 0) return Status::fail(Code::InvalidArgument, "w4a16: sizes must be positive");
  if (p.k % 8 != 0) return Status::fail(Code::UnsupportedShape, "w4a16: K must be a multiple of 8");
  if (p.n_pad % kPadN != 0 || p.n_pad < p.n || p.k_pad != padded_k(p.k, p.group_size))
    return Status::fail(Code::InvalidArgument, "w4a16: padded sizes do not match the layout");
  if (p.group_size != 0 && p.group_size != 32 && p.group_size != 64 && p.group_size != 128)
    return Status::fail(Code::UnsupportedShape, "w4a16: group size must be 32, 64, 128 or per-channel");
  if (plan.row_blocks > 2147483647 || plan.col_blocks > 65535 || plan.split_k > 65535)
    return Status::fail(Code::UnsupportedShape, "w4a16: problem too large for one launch");
  if (plan.workspace_bytes > 0 && (!p.workspace || !p.counters))
    return Status::fail(Code::InvalidArgument, "w4a16: split-K needs workspace and counters");
  if (plan.stream_k && (!p.sk_flags || plan.ctas > kStreamKFlags))
    return Status::fail(Code::InvalidArgument, "w4a16: stream-K needs its flags (stream_k_flags of the scratch), one per CTA");
  if (plan.hopper) return launch_wgmma(p, plan, stream);
  if (plan.decode) return p.m <= kDecodeMaxRows ? launch_decode(p, plan, stream) : Status::fail(Code::InvalidArgument, "w4a16: decode plan for M > 64");
  return by_kind(p, [&](auto k) { return dispatch_rows<typename decltype(k)::T, decltype(k)::kAsym>(p, plan, stream); });
}

}  // namespace wf::w4a16
