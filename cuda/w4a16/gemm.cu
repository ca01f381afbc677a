// W4A16 GEMM: out[M,N] = x[M,K] · dequant(W)[N,K]ᵀ on mma.m16n8k16.
//
// Work split. A CTA (8 warps) owns BN = 16·WN output columns and a block of
// ROWS = 16·MT rows, over all of K, so no two CTAs write the same output and
// no cross-CTA reduction is needed. Its warps form a WN × WK grid (WN·WK = 8):
// warp (wn, wk) owns the 16 columns of tile wn and, in every pipeline stage of
// BK = 64·WK values of K, the 64-wide chunk wk. The WK partial sums are added
// in shared memory at the end.
//
//            K ──────────────────────────────────────────▶
//   stage:   |   0    |   1    |   2    | ...
//   chunk:   |wk0|wk1 |wk0|wk1 |wk0|wk1 |       (WK = 2)
//   tile wn: each warp streams 16 columns × its chunks
//
// Grid: x = row blocks, y = column slices; row blocks of one slice are
// neighbours in launch order, so at M > ROWS the slice's weights come from L2
// after the first block reads them from HBM.
//
// Pipeline: STAGES-deep cp.async ring per CTA. A stage holds the x tile
// (shared by the warps of one wk), each thread's own 16-byte weight fragment
// (see layout.h), and per warp the scales (and zeros) of its chunk.
#include <algorithm>

#include "dequant.h"
#include "w4a16.h"

namespace wf::w4a16 {
namespace {

template <int MT, int WN>
struct Tile {
  static constexpr int kWK = 8 / WN;
  static constexpr int kBK = 64 * kWK;
  static constexpr int kRows = 16 * MT;
  // +8 elements (16 B) per row: rows then start 4 banks apart, so the 8 row
  // addresses of each ldmatrix phase hit 32 distinct banks.
  static constexpr int kARow = kBK + 8;
  static constexpr int kStages = MT == 1 ? 8 : MT == 2 ? 6 : 4;
  static constexpr int kABytes = kRows * kARow * 2;
  static constexpr int kBBytes = 256 * 16;
  static constexpr int kSBytes = 8 * 128;  // per warp: 2 groups × 16 scales + 2 × 16 zeros, 16-bit
  static constexpr int kStageBytes = kABytes + kBBytes + kSBytes;
  static constexpr int kReduceBytes = 8 * kRows * 16 * 4;
  static constexpr int kSmem = std::max(kStages * kStageBytes, kReduceBytes);
};

template <typename T, bool ASYM, int MT, int WN>
__global__ void __launch_bounds__(256) gemm_kernel(const GemmParams p, int group_shift) {
  using Cfg = Tile<MT, WN>;
  using N = Num<T>;
  using T2 = typename N::T2;
  constexpr int WK = Cfg::kWK, BK = Cfg::kBK, ROWS = Cfg::kRows, A_ROW = Cfg::kARow, STAGES = Cfg::kStages;
  extern __shared__ __align__(16) uint8_t smem[];

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wn = warp % WN, wk = warp / WN;
  const int g = lane / 4;
  const int64_t m0 = (int64_t)blockIdx.x * ROWS;
  const int64_t nt = (int64_t)blockIdx.y * WN + wn;
  const int64_t NT = p.n_pad / 16;
  const int KC = (int)(p.k_pad / 64);
  const int n_stages = (KC + WK - 1) / WK;
  const T* x = static_cast<const T*>(p.x);
  const T* scales = static_cast<const T*>(p.scales);
  const T* zeros = static_cast<const T*>(p.zeros);
  const uint64_t policy = ptx::evict_first_policy();

  auto a_tile = [&](int buf) { return reinterpret_cast<T*>(smem + buf * Cfg::kStageBytes); };
  auto b_frag = [&](int buf) { return reinterpret_cast<uint4*>(smem + buf * Cfg::kStageBytes + Cfg::kABytes) + tid; };
  auto s_warp = [&](int buf) {
    return reinterpret_cast<uint32_t*>(smem + buf * Cfg::kStageBytes + Cfg::kABytes + Cfg::kBBytes) + warp * 32;
  };

  auto load_stage = [&](int buf, int st) {
    T* a = a_tile(buf);
    constexpr int CH = BK / 8;
#pragma unroll
    for (int i = tid; i < ROWS * CH; i += 256) {
      const int r = i / CH, c = i % CH;
      const int64_t gm = m0 + r, gk = (int64_t)st * BK + c * 8;
      const bool ok = gm < p.m && gk < p.k;
      ptx::cp_async16_zfill(a + r * A_ROW + c * 8, ok ? x + gm * p.k + gk : x, ok ? 16 : 0);
    }
    const int kc = st * WK + wk;
    if (kc < KC) {
      ptx::cp_async16_evict_first(b_frag(buf), p.w + ((nt * KC + kc) * 32 + lane) * 4, policy);
      // Lanes 0-3: scales of the chunk's first and second half (groups of 32
      // may change at k = 32); lanes 4-7 the same for zero points.
      if (lane < (ASYM ? 8 : 4)) {
        const int half = (lane / 2) % 2;
        const int64_t grp = ((int64_t)kc * 64 + 32 * half) >> group_shift;
        const T* src = (lane < 4 ? scales : zeros) + (grp * NT + nt) * 16 + (lane % 2) * 8;
        ptx::cp_async16_evict_first(s_warp(buf) + lane * 4, src, policy);
      }
    }
  };

  float acc[MT][2][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;

#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < n_stages) load_stage(s, s);
    ptx::cp_async_commit();
  }

  uint32_t sym_bits = (N::kMagic + 8u) | ((N::kMagic + 8u) << 16);  // magic + 8, exact
  const T2 sym_sub = N::pair(sym_bits);

  for (int st = 0; st < n_stages; ++st) {
    ptx::cp_async_wait<STAGES - 2>();
    __syncthreads();
    {
      const int next = st + STAGES - 1;
      if (next < n_stages) load_stage(next % STAGES, next);
      ptx::cp_async_commit();
    }
    const int buf = st % STAGES;
    const int kc = st * WK + wk;
    if (kc >= KC) continue;
    const uint4 wq = *b_frag(buf);
    const uint32_t words[4] = {wq.x, wq.y, wq.z, wq.w};
    const uint32_t* sw = s_warp(buf);
    const T* a = a_tile(buf);
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const T2 s_pair = N::pair(sw[half * 8 + g]);  // (s[n], s[n+8])
      const T2 scale[2] = {N::splat(s_pair.x), N::splat(s_pair.y)};
      T2 sub[2] = {sym_sub, sym_sub};
      if constexpr (ASYM) {
        const T2 z_pair = N::pair(sw[16 + half * 8 + g]);
        sub[0] = offset_pair<T>(z_pair.x);
        sub[1] = offset_pair<T>(z_pair.y);
      }
#pragma unroll
      for (int jj = 0; jj < 2; ++jj) {
        const int j = half * 2 + jj;
        uint32_t b[2][2];
        dequant_word<T>(words[j], sub, scale, b);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          uint32_t af[4];
          ptx::ldmatrix_x4(af, a + (mt * 16 + lane % 16) * A_ROW + wk * 64 + j * 16 + (lane / 16) * 8);
          ptx::mma_16816<T>(acc[mt][0], af, b[0]);
          ptx::mma_16816<T>(acc[mt][1], af, b[1]);
        }
      }
    }
  }

  // Add the WK partial sums in shared memory, then write rows < M, cols < N.
  ptx::cp_async_wait<0>();
  __syncthreads();
  float* red = reinterpret_cast<float*>(smem);
  const int t = lane % 4;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int row = mt * 16 + g + (e >= 2 ? 8 : 0);
        const int col = h * 8 + 2 * t + (e & 1);
        red[(warp * ROWS + row) * 16 + col] = acc[mt][h][e];
      }
  __syncthreads();
  const T* bias = static_cast<const T*>(p.bias);
  T* out = static_cast<T*>(p.out);
  for (int i = tid; i < ROWS * WN * 16; i += 256) {
    const int r = i / (WN * 16), c = i % (WN * 16);
    const int wn_ = c / 16, cl = c % 16;
    float sum = 0.f;
#pragma unroll
    for (int k = 0; k < WK; ++k) sum += red[((k * WN + wn_) * ROWS + r) * 16 + cl];
    const int64_t gm = m0 + r, gn = ((int64_t)blockIdx.y * WN + wn_) * 16 + cl;
    if (gm < p.m && gn < p.n) {
      if (bias) sum += static_cast<float>(bias[gn]);
      out[gm * p.n + gn] = static_cast<T>(sum);
    }
  }
}

template <typename T, bool ASYM, int MT, int WN>
Status run(const GemmParams& p, cudaStream_t stream) {
  using Cfg = Tile<MT, WN>;
  auto kernel = gemm_kernel<T, ASYM, MT, WN>;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmem);
  if (e != cudaSuccess) return Status::from_cuda(e, "w4a16: shared memory limit");
  const int shift = p.group_size > 0 ? __builtin_ctz((unsigned)p.group_size) : 30;
  dim3 grid((unsigned)((p.m + Cfg::kRows - 1) / Cfg::kRows), (unsigned)(p.n_pad / (16 * WN)));
  kernel<<<grid, 256, Cfg::kSmem, stream>>>(p, shift);
  return check_launch("w4a16 gemm");
}

// Widest column slice that still gives every SM a CTA; else the narrowest.
int pick_wn(const GemmParams& p) {
  for (int wn : {8, 4}) {
    if (p.n_pad % (16 * wn) == 0 && p.n_pad / (16 * wn) >= p.sm_count) return wn;
  }
  return 2;
}

template <typename T, bool ASYM, int MT>
Status dispatch_wn(const GemmParams& p, cudaStream_t s) {
  switch (pick_wn(p)) {
    case 8: return run<T, ASYM, MT, 8>(p, s);
    case 4: return run<T, ASYM, MT, 4>(p, s);
    case 2: return run<T, ASYM, MT, 2>(p, s);
  }
  return Status::fail(Code::UnsupportedShape, "w4a16: no tile width fits N");
}

template <typename T, bool ASYM>
Status dispatch_mt(const GemmParams& p, cudaStream_t s) {
  if (p.m <= 16) return dispatch_wn<T, ASYM, 1>(p, s);
  if (p.m <= 32) return dispatch_wn<T, ASYM, 2>(p, s);
  return dispatch_wn<T, ASYM, 4>(p, s);
}

template <typename T>
Status dispatch_asym(const GemmParams& p, cudaStream_t s) {
  return p.zeros ? dispatch_mt<T, true>(p, s) : dispatch_mt<T, false>(p, s);
}

}  // namespace

Status launch_gemm(const GemmParams& p, cudaStream_t stream) {
  if (p.m <= 0 || p.n <= 0 || p.k <= 0) return Status::fail(Code::InvalidArgument, "w4a16: sizes must be positive");
  if (p.k % 8 != 0) return Status::fail(Code::UnsupportedShape, "w4a16: K must be a multiple of 8");
  if (p.n_pad % kPadN != 0 || p.n_pad < p.n || p.k_pad != padded_k(p.k, p.group_size))
    return Status::fail(Code::InvalidArgument, "w4a16: padded sizes do not match the layout");
  if (p.group_size != 0 && p.group_size != 32 && p.group_size != 64 && p.group_size != 128)
    return Status::fail(Code::UnsupportedShape, "w4a16: group size must be 32, 64, 128 or per-channel");
  if (p.m > (int64_t)65535 * 64) return Status::fail(Code::UnsupportedShape, "w4a16: M too large");
  switch (p.dtype) {
    case DType::Float16: return dispatch_asym<__half>(p, stream);
    case DType::BFloat16: return dispatch_asym<__nv_bfloat16>(p, stream);
    default: return Status::fail(Code::UnsupportedDtype, "w4a16: activations must be float16 or bfloat16");
  }
}

}  // namespace wf::w4a16
