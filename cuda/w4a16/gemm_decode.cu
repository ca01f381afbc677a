// W4A16 GEMM for decode-sized batches (M ≤ 64). At small M the GEMM is a
// pass over the weights; on H100 each SM must take in ~22 GB/s of them, so
// the kernel keeps many independent loads in flight and spends few
// instructions per byte:
//
//   - one warp = one 16-column tile of the packed layout over a K range; it
//     streams its 512-byte chunks several ahead in registers, with no
//     barrier in the loop (but one per round where x streams, below);
//   - the CTA's 8 warps (128 columns) share one copy of x[0:M, K range] in
//     shared memory, loaded once (or, where it does not fit, streamed
//     through a ring of rounds); rows past M are never loaded: the x reads
//     of rows ≥ M (ldmatrix, or the fragment order's 16-byte loads) repeat
//     row M-1, whose products are discarded;
//   - the weight tile is the mma's A operand and x its B (outᵀ = W·xᵀ), so
//     M is covered in steps of 8 rows, not 16;
//   - weights are dequantized to (q - z), exact in 16 bits, and the group
//     scale is applied to the fp32 accumulators once per group;
//   - split-K across CTAs fills the GPU; on sm_90 the CTAs of a column block
//     form a cluster and add their partials through distributed shared
//     memory, elsewhere the last CTA to arrive adds them (epilogue.cuh);
//   - at M ≤ 8 x may be staged in the order of its mma
//     fragments, and a CTA's warps may share fewer tiles, each tile's K
//     range cut among 2, 4 or 8 of them and added up in shared memory (warp
//     slices): the same grid with fewer splits to meet;
//   - at M = 1, where whole tiles would leave half the GPU idle, every warp
//     of one wave takes an equal run of all tiles' K chunks instead (warp
//     shares), and the pieces of a tile meet in the scratch.
#include <algorithm>
#include <atomic>
#include <type_traits>

#include "../common/cluster_launch.h"
#include "../common/launch.h"
#include "../common/mbarrier.h"
#include "../common/pdl.h"
#include "../common/tensor_map.h"
#include "dequant.h"
#include "dispatch.h"
#include "epilogue.cuh"
#include "shares.h"
#include "w4a16.h"

namespace wf::w4a16 {
namespace {

// Loads in flight per thread: 4 × 16 B in registers. Measured on H100
// (bench/RESULTS.md): deeper register rings with fewer CTAs per SM (8 deep
// at 3 CTAs: 26.0 µs at M = 1, 8192², against 22.8; 6 deep at 4 CTAs with
// spills: 24.4) and an 8-deep per-thread cp.async ring in shared memory were
// all slower, and the order in which chunks are read made no difference.
constexpr int kRing = 4;
// f(integral_constant<int, I>) for I = B … E - 1: an unrolled loop whose
// index is a compile-time constant.
template <int B, int E, typename F>
__device__ __forceinline__ void static_for(F&& f) {
  if constexpr (B < E) {
    f(std::integral_constant<int, B>{});
    static_for<B + 1, E>(f);
  }
}
// 8-row tiles of M per CTA (MT) set the register budget: 4 CTAs per SM up
// to 16 rows, 2 above (more accumulators).
__host__ __device__ constexpr int ctas_per_sm(int mt) { return mt <= 2 ? 4 : 2; }
// GemmParams::variant > 0 are probes for the harness (wrong results, for
// timing): 1 the same loads with no math, i.e. the memory ceiling of this
// kernel's access pattern; 2 loads only and 3 the full math, both without
// the split-K meet; 4 an empty kernel of the same grid. Only the harness's
// build (WARPFORGE_PROBES) has them.
#ifdef WARPFORGE_PROBES
constexpr int kVariants = 5;
#else
constexpr int kVariants = 1;
#endif
int variant_of(const GemmParams& p);
bool frag_order(const GemmParams& p, bool x_ring, int slices);
bool frag_capable(const GemmParams& p, bool x_ring);
constexpr int kWarps = 8;
// Cluster sizes the capacity query answers for (the harness prints up to
// 16, beyond the portable 8, which H100 places); meets use at most
// kMaxMeetCluster (choose_cluster).
constexpr int kMaxCluster = 16;

template <typename T>
__device__ __forceinline__ float to_float(T v) { return static_cast<float>(v); }

// x in shared memory, either the CTA's whole K range, loaded once, or (the
// x ring, plan.x_ring) a ring of kXRounds rounds of kRing chunks that the
// CTA refills one round at a time: before sm_90 its threads copy each
// round kXRounds - 1 rounds ahead, with one CTA barrier per round; on sm_90
// the copy engine (below). The whole range would cap the K range per CTA, and with
// it the split-K count, at M ≥ 8 on large K: 28672 × 8192 M = 8 must then
// split 4 ways (1.7 waves), and M = 16 7 ways (H200: M = 8 50.5 µs at 4
// splits; M = 4, whose x fits at 2 splits, 42.0 there and 47.7 at 4).
constexpr int kXRounds = 4;
constexpr int kXRingMaxMt = 4;  // built for M ≤ 32
constexpr int kXRingChunks = kXRounds * kRing;
static_assert((kXRingChunks & (kXRingChunks - 1)) == 0, "ring offsets wrap by mask");
// The x ring on sm_90 (XR = 2): the copy engine fills each round, two
// tensor-map boxes of 8·MT rows × (2 chunks + 8) columns, issued by one
// thread two rounds ahead, each round's slot on a full / empty mbarrier
// pair: no CTA barrier and no copy instructions in the other warps. The 8
// columns past a box's two chunks (the next chunk's first, or zeros) only
// pad its rows to 272 bytes, 4 banks apart, so that ldmatrix's 8 rows of
// a phase fall in distinct banks (a box lands unpadded, rows back to back).
// A box has min(M, 8·MT) rows (rows past M zero-filled by the copy engine
// cost M = 12 5 %). H200, harness, µs, threads' ring / copy engine: M = 16
// 28672 × 8192 53.95 / 51.85, 8192 × 28672 50.1 / 46.15; M = 12 52.05 /
// 49.6, 47.65 / 45.05; M = 9 28672 × 8192 51.05 / 48.85; M = 8 41.85 /
// 41.4, 37.95 / 38.35; asymmetric M = 8 group 64 49.15 / 47.05, M = 13
// group 32 (K = 8264) 91.2 / 84.4.
constexpr int kXBoxCols = 2 * 64 + 8;
constexpr int kXTmaAhead = 2;  // rounds in flight ahead of the one read
__host__ __device__ constexpr int x_box_elems(int mt) { return mt * 8 * kXBoxCols; }
// Shared memory: x[M][decode_x_row] (16-bit), or the ring's boxes (+128
// for their alignment), and after the loop the fp32 partials [8·MT][128 +
// kMeetPad] that a cluster sums.
inline int decode_smem_bytes(int64_t m, int chunks_per_split, int mt, int x_ring, bool frag) {
  const int chunks = x_ring ? kXRingChunks : chunks_per_split;
  const int x = x_ring == 2 ? kXRounds * 2 * x_box_elems(mt) * 2 + 128 : (int)(m * decode_x_row(chunks, frag) * 2);
  return std::max(x, meet_parts_floats(mt * 8, kDecodeBlockN) * 4);
}

// outᵀ = W·xᵀ: the weight tile is mma's A operand (16 columns of N as its 16
// rows) and x the B operand (8 rows of M as its 8 columns). A thread's
// packed word holds exactly its A fragment, and at M ≤ 8 one mma per 16×16
// weight block does the work that two (x as A, 16 rows of which 15 are
// padding) did before: half the tensor work and half the accumulators.
// R1: x staged in its fragments' order (stage_rows below), 1 at M = 1, 2
// at M = 2-8 (kDecodeFragRows) in warp slices (frag_order()). M = 1 has
// its own: each lane's row at a constant address, one register fewer in
// the loop (unsliced, fp16: 20 / 72 bytes spilled, where the M = 2-8 code
// spilled 36 / 176). SL: R1 in warp slices (plan.warp_slices, below).
// Kernels of their own, so that the others keep their registers.
// WS: R1 = 1 in warp shares (plan.warp_shares, below).
// XR: x staged whole (0), or through the x ring, copied by the threads (1)
// or by the copy engine (2, sm_90: x_map).
// (The machine code for GPUs before sm_90, where the host never takes XR = 2,
// builds XR = 2 as 1.)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
constexpr bool kDeviceTma = false;
#else
constexpr bool kDeviceTma = true;
#endif
template <typename T, bool ASYM, int MT, int V, int XR_, int R1 = 0, bool SL = false, bool WS = false>
__global__ void __launch_bounds__(256, ctas_per_sm(MT))
    decode_kernel(const GemmParams p, const GemmPlan plan, int group_shift, const __grid_constant__ CUtensorMap x_map) {
  constexpr int XR = XR_ == 2 && !kDeviceTma ? 1 : XR_;
  static_assert(!R1 || (MT == 1 && !XR), "the fragment order is for M ≤ 8 with x staged whole");
  static_assert(!SL || R1, "warp slices are for the fragment-order kernel");
  static_assert(!WS || (R1 == 1 && !SL), "warp shares are for the M = 1 fragment-order kernel");
  using N = Num<T>;
  using T2 = typename N::T2;
  extern __shared__ __align__(16) uint8_t smem[];
  if constexpr (V == 4) return;
  // The next kernel in the stream may launch now: its CTAs take SMs as
  // these leave (pdl.h). Nothing is read before the kernel before this one
  // has finished, the weights included (whose packer may be that kernel).
  pdl::allow_dependents();
  pdl::wait_prior();
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int g = lane / 4, t = lane % 4;
  const int m = (int)p.m;
  const int KC = (int)(p.k_pad / 64);
  const int kc0 = blockIdx.z * plan.chunks_per_split;
  const int kc1 = min(KC, kc0 + plan.chunks_per_split);
  const int x_row = XR == 2 ? kXBoxCols : decode_x_row(XR ? kXRingChunks : plan.chunks_per_split, R1);
  const int64_t NT = p.n_pad / 16;
  // Warp slices (plan.warp_slices, the R1 kernel only): the CTA's 8 warps
  // take 8 / slices tiles, each tile's K range cut in `slices` runs of
  // chunks, one per warp, added up in shared memory at the end. Narrow
  // weights then fill the GPU with fewer K splits across CTAs, whose meet
  // costs far more than a CTA-local sum.
  constexpr bool kSliced = SL;  // elsewhere one slice, at compile time
  const int slices = kSliced ? max(1, plan.warp_slices) : 1;
  const int tiles = kWarps / slices, slice = warp / tiles;
  int64_t nt = kSliced ? (int64_t)blockIdx.y * tiles + warp % tiles : (int64_t)blockIdx.y * kWarps + warp;
  const int run = (kc1 - kc0 + slices - 1) / slices;
  int wk0 = kSliced ? min(kc1, kc0 + slice * run) : kc0, wk1 = kSliced ? min(kc1, wk0 + run) : kc1;
  // Warp shares (WS): the units of band blockIdx.z (K chunks [kc0, kc1))
  // are its tiles' rounds of kRing chunks, tile-major, and each warp of the
  // band takes an equal run of them (shares.h): one wave whatever the
  // number of tiles, no idle CTA slots. The planner keeps a run within one
  // tile's rounds, so it is at most two pieces: tile nt from chunk wk0 to
  // wk1, then tile nt + 1 from kc0 to wk1b (kc0: no second piece). The
  // register ring runs on across them, as one stream of loads.
  [[maybe_unused]] int wk1b = kc0;
  if constexpr (WS) {
    const WarpPieces w = warp_pieces((int)blockIdx.y * kWarps + warp, (int)gridDim.y * kWarps, (int)NT, (kc1 - kc0) / kRing);
    nt = w.tile;  // NT where the share is empty
    wk0 = kc0 + w.u0 * kRing;
    wk1 = kc0 + w.u1 * kRing;
    wk1b = kc0 + w.u1b * kRing;
  }
  const T* x = static_cast<const T*>(p.x);
  T* xs = reinterpret_cast<T*>(smem);
  // XR = 2: the ring's mbarriers, full (the round's bytes landed) and empty
  // (every warp is done with the round), and its boxes 128-byte aligned.
  [[maybe_unused]] uint64_t* xfull = nullptr;
  [[maybe_unused]] uint64_t* xempty = nullptr;
  if constexpr (XR == 2) {
    __shared__ uint64_t xbars[2 * kXRounds];
    xfull = xbars, xempty = xbars + kXRounds;
    xs = reinterpret_cast<T*>(smem + ((128 - ((uint32_t)__cvta_generic_to_shared(smem) & 127)) & 127));
  }

  const bool active = nt < NT;
  // With the x ring every warp takes part in its barriers: a warp past N
  // streams the last tile again (its outputs are never written).
  const bool runs = XR || (active && (!kSliced || wk0 < wk1));
  int64_t ntl = XR ? min(nt, NT - 1) : nt;
  const uint64_t policy = ptx::evict_first_policy();
  const uint32_t* wp = p.w + (ntl * KC) * 128 + lane * 4;
  auto fetch = [&](int kc) { return ptx::ldg_stream(wp + (int64_t)kc * 128, policy); };
  // Weights first: their DRAM latency then covers the x staging below.
  uint4 ring[kRing];
  if (runs) {
#pragma unroll
    for (int i = 0; i < kRing; ++i) ring[i] = fetch(min(wk0 + i, wk1 - 1));
  }

  // x[0:M, K range] -> smem, zero past K; cp.async keeps all of it in flight.
  // (Pieces that complete on their own mbarriers, so that a warp starts once
  // the first has landed, were slower at every shape measured: M = 16,
  // 8192², 32.2 µs against 30.4.)
  // R1: x in the order its B fragments take it, so that one 16-byte load
  // per thread feeds two k16 steps: lane (g, t) reads row g (rows past M
  // repeat row M - 1; at M = 1 the 8 lanes of a column read the same bytes,
  // a broadcast: one shared-memory wavefront, not ldmatrix's four). Each
  // 64-byte block of a row's 32 values is a 4 × 4 transpose of its 32-bit
  // words: thread t's 16 bytes are words t, t + 4, t + 8, t + 12. (At M = 1
  // a run-time branch in the ldmatrix kernel instead cost M = 2-8 1-2 %.)
  auto stage_rows = [&]() {
    const int blocks = (kc1 - kc0) * 2;
    for (int i = tid; i < (R1 == 1 ? 1 : m) * blocks; i += 256) {
      const int r = R1 == 1 ? 0 : i / blocks, b = i - r * blocks;
      const int64_t gk = (int64_t)kc0 * 64 + b * 32;
      const T* src = x + r * p.k + gk;
      uint4 in[4];
#pragma unroll
      for (int q = 0; q < 4; ++q)
        in[q] = gk + q * 8 < p.k ? *reinterpret_cast<const uint4*>(src + q * 8) : make_uint4(0, 0, 0, 0);
      uint4* dst = reinterpret_cast<uint4*>(xs + r * x_row + b * 32);
      dst[0] = make_uint4(in[0].x, in[1].x, in[2].x, in[3].x);
      dst[1] = make_uint4(in[0].y, in[1].y, in[2].y, in[3].y);
      dst[2] = make_uint4(in[0].z, in[1].z, in[2].z, in[3].z);
      dst[3] = make_uint4(in[0].w, in[1].w, in[2].w, in[3].w);
    }
  };
  auto stage_all = [&]() {
    if constexpr (R1) return stage_rows();
    const int per_row = (kc1 - kc0) * 8;
    for (int i = tid; i < m * per_row; i += 256) {
      const int r = i / per_row, c = (i % per_row) * 8;
      const int64_t gk = (int64_t)kc0 * 64 + c;
      const bool ok = gk < p.k;
      ptx::cp_async16_zfill(xs + r * x_row + c, ok ? x + r * p.k + gk : x, ok ? 16 : 0);
    }
    ptx::cp_async_commit();
  };
  // The x ring: the round from chunk b goes to ring slot ((b - kc0) / kRing)
  // mod kXRounds. A round is 32 16-byte pieces per row: thread tid copies
  // piece tid % 32 of rows tid / 32 + 8j, the same every round (a generic
  // copy loop's division cost ~70 instructions per round). Pieces past K
  // are zero; those of a partial last round past the K range are copied but
  // never read. Rounds past the K range copy nothing: nobody waits for them,
  // and a copy still in flight at the end would land in the cluster meet's
  // partials (or in the next CTA's shared memory). Every round commits one
  // group, so that a fixed wait count means "this round has landed".
  static_assert(kRing * 64 / 8 == 32 && kWarps == 8, "ring copies: one piece per lane, one row per warp");
  auto stage_round = [&](int b) {
    if (b < kc1) {
      const int gk = b * 64 + lane * 8;
      const bool ok = gk < p.k;
      T* dst = xs + ((b - kc0) & (kXRingChunks - 1)) * 64 + lane * 8;
#pragma unroll
      for (int j = 0; j < MT; ++j) {
        const int r = warp + 8 * j;
        if (r < m) ptx::cp_async16_zfill(dst + r * x_row, ok ? x + r * p.k + gk : x, ok ? 16 : 0);
      }
    }
    ptx::cp_async_commit();
  };
  // XR = 2: the round from chunk b (ring slot ((b - kc0) / kRing) mod
  // kXRounds), issued by thread 0; rounds past the K range are not (nobody
  // waits for them, see above).
  constexpr int kBox = x_box_elems(MT);
  // The ring round of chunk b (b - kc0 ≥ 0: an unsigned division is a shift).
  auto x_round_of = [&](int b) { return (int)((unsigned)(b - kc0) / kRing); };
  auto tma_round = [&](int b) {
    if constexpr (XR == 2) {
      if (b < kc1) {
        const int slot = x_round_of(b) & (kXRounds - 1);
        mbarrier::expect_tx(xfull + slot, 2 * min(m, MT * 8) * kXBoxCols * (int)sizeof(T));
#pragma unroll
        for (int h = 0; h < 2; ++h) mbarrier::tensor_copy_2d(xs + (2 * slot + h) * kBox, &x_map, b * 64 + h * 128, 0, xfull + slot);
        mbarrier::arrive(xfull + slot);
      }
    }
  };
  if constexpr (XR == 2) {
    if (tid == 0) {
      for (int i = 0; i < kXRounds; ++i) {
        mbarrier::init(xfull + i, 1);
        mbarrier::init(xempty + i, kWarps);
      }
    }
    __syncthreads();
    if (tid == 0)
      for (int r = 0; r < kXTmaAhead; ++r) tma_round(kc0 + r * kRing);
  } else if constexpr (XR) {
#pragma unroll
    for (int r = 0; r < kXRounds - 1; ++r) stage_round(kc0 + r * kRing);
  } else {
    stage_all();
    ptx::cp_async_wait<0>();
    __syncthreads();
  }
  // Before the round from chunk b: its x has landed for every thread, and
  // every warp is done with the previous round, whose slot then takes the
  // round kXRounds - 1 ahead.
  // XR = 2: thread 0 first refills the slot of the round kXTmaAhead
  // rounds back, once every warp is done with it (arrived on its empty
  // barrier in x_done), with the round kXTmaAhead ahead; then every thread
  // waits for this round's bytes.
  auto x_round = [&](int b) {
    if constexpr (XR == 2) {
      const int r = x_round_of(b);
      if (tid == 0) {
        if (r >= kXRounds - kXTmaAhead) {
          const int back = r + kXTmaAhead - kXRounds;
          mbarrier::wait(xempty + (back & (kXRounds - 1)), (back / kXRounds) & 1);
        }
        tma_round(b + kXTmaAhead * kRing);
      }
      mbarrier::wait(xfull + (r & (kXRounds - 1)), (r / kXRounds) & 1);
    } else if constexpr (XR) {
      ptx::cp_async_wait<kXRounds - 2>();
      __syncthreads();
      stage_round(b + (kXRounds - 1) * kRing);
    }
  };
  // After the round from chunk b: this warp no longer reads its slot.
  auto x_done = [&](int b) {
    if constexpr (XR == 2) {
      __syncwarp();
      if (lane == 0) mbarrier::arrive(xempty + (x_round_of(b) & (kXRounds - 1)));
    }
  };
  // x column of chunk c in shared memory, and of chunk i of a round past its
  // first (XR = 2: the round's two boxes of two chunks each).
  auto x_col = [&](int c) {
    if constexpr (XR == 2) return (x_round_of(c) & (kXRounds - 1)) * 2 * kBox;
    return (XR ? (c - kc0) & (kXRingChunks - 1) : c - kc0) * 64;
  };
  auto x_in_round = [&](int i) { return XR == 2 ? (i / 2) * kBox + (i % 2) * 64 : 64 * i; };

  // acc[mt][2h + e]: column nt·16 + 8h + g, row 8·mt + 2t + e.
  float acc[MT][4] = {};
  // WS: a piece that is its tile's whole K range (one band) writes it; the
  // others add their sums into the scratch (REDs, nobody waits) as the piece
  // ends, and after the last piece count their chunks on the tile's counter
  // (below). M = 1: lanes t = 0 hold row 0 of columns g and g + 8. The sums
  // are one float per column, [N], so that lanes 0-3 add a tile's 16 in four
  // 16-byte REDs (H200: in the split-K meet's [N][16] sums, an 8-byte RED
  // per column and lane, the meet cost 28672 × 8192 4.6 µs instead of 3.1,
  // 57344 × 8192 9.1 instead of 4.4).
  [[maybe_unused]] int chunks_first = 0;  // of the first piece, where there are two
  [[maybe_unused]] auto finish_piece = [&](int64_t tile, int chunks) {
    if (chunks == KC) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int64_t c = tile * 16 + 8 * h + g;
        if (t == 0 && c < p.n) store_output<T>(p, 0, c, acc[0][2 * h]);
      }
      return;
    }
    // Lane q < 4 gathers columns 4q … 4q + 3: column c < 8 is acc[0][0] of
    // lane 4c, column c ≥ 8 acc[0][2] of lane 4(c - 8).
    float v[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int src = ((4 * lane + j) & 7) * 4;
      const float lo = __shfl_sync(0xffffffffu, acc[0][0], src), hi = __shfl_sync(0xffffffffu, acc[0][2], src);
      v[j] = lane < 2 ? lo : hi;
    }
    const int64_t c = tile * 16 + 4 * lane;
    if (lane < 4) {
      if (c + 3 < p.n) red_add(p.workspace + c, v[0], v[1], v[2], v[3]);
      else
        for (int j = 0; j < 4 && c + j < p.n; ++j) atomicAdd(p.workspace + c + j, v[j]);
    }
  };
  if (runs) {
    // Scales and zero points of a column pair (n, n + 8) are adjacent
    // (layout.h): one 32-bit load per group each.
    const int64_t sstride = NT * 16;  // one group further
    // M > 8, ldmatrix rows: lanes 0-7 address x rows 0-7 at k 0, lanes 8-15
    // the same rows at k 8, lanes 16-31 the next 8 rows. Rows past M repeat
    // row M-1 (their products land in discarded accumulators). (M ≤ 8 reads
    // through xbase2 below; there these are dead and the compiler drops them.)
    constexpr int kPairs = (MT + 1) / 2;
    const T* bbase[kPairs];
#pragma unroll
    for (int i = 0; i < kPairs; ++i)
      bbase[i] = xs + min(16 * i + (lane / 16) * 8 + lane % 8, m - 1) * x_row + ((lane / 8) % 2) * 8;

    float part[MT][4] = {};
    // The current group's subtrahends and scales, per column (n, n + 8). The
    // scales are loaded when the group starts and used when it ends, so the
    // load latency hides behind the group's math.
    T2 zlo[2], zhi[2];  // magic + z and 64 + z, as unpack_word takes them
    uint32_t scale;  // the pair, raw
    // The current group's scale (and zero point) words; the next group's
    // are one stride further.
    // (An element offset, one register for both: scales and zero points
    // share the layout, and fewer than 2^31 of them exist.)
    auto group_offset = [&]() { return (int)((((int64_t)wk0 * 64) >> group_shift) * sstride + (ntl * 8 + g) * 2); };
    int soff = group_offset();
    auto load_group = [&]() {
      scale = ptx::ldg_nc_u1(static_cast<const T*>(p.scales) + soff);
      if constexpr (ASYM) {
        const T2 zz = N::pair(ptx::ldg_nc_u1(static_cast<const T*>(p.zeros) + soff));
        zlo[0] = offset_pair<T>(zz.x), zlo[1] = offset_pair<T>(zz.y);
        zhi[0] = offset_pair_hi<T>(zz.x), zhi[1] = offset_pair_hi<T>(zz.y);
      } else {
        // z = 8: the same values from constants. (offset_pair of a constant
        // 8, computed once before the loop, ran 1-2 % slower at M = 1-8, H200.)
        zlo[0] = zlo[1] = N::splat(static_cast<T>((N::kMagic == 0x6400u ? 1024.f : 128.f) + 8.f));
        zhi[0] = zhi[1] = N::splat(static_cast<T>(64.f + 8.f));
      }
      soff += (int)sstride;
    };
    auto flush = [&]() {
      const T2 s = N::pair(scale);
      const float s0 = to_float(s.x), s1 = to_float(s.y);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          acc[mt][i] = fmaf(i < 2 ? s0 : s1, part[mt][i], acc[mt][i]);
          part[mt][i] = 0.f;
        }
    };
    load_group();
    // Group ends: at group 32 mid-chunk and at every chunk end; at 64 and 128
    // at chunk ends where the chunk index hits the mask; per-channel only at
    // the end of the K range. (Checked per chunk, not per k16 step: the loop
    // control was over half of the instructions per chunk.)
    const bool mid_chunk_group = p.group_size == 32;
    const int chunk_gmask = p.group_size >= 64 ? p.group_size / 64 - 1 : p.group_size == 32 ? 0 : 0x7fffffff;

    // M ≤ 8: one x read feeds two k16 steps: an ldmatrix_x4 (lanes 8i to
    // 8i + 7 address k + 8i), or in fragment order (R1) one 16-byte load.
    const T* xbase2 = R1 == 1 ? xs + t * 8 : R1 ? xs + min(g, m - 1) * x_row + t * 8 : xs + min(lane % 8, m - 1) * x_row + (lane / 8) * 8;
    // kEnd: 1 the chunk ends a group, 0 it does not; -1 tested at run time;
    // -2 tested at run time, and so is the end of the K range (last rounds).
    // kMid: whether a group also ends mid-chunk (group 32), 1 / 0, or -1
    // tested at run time. (Tested, the skipped flush still issued 11
    // predicated instructions per chunk at every group size.)
    auto process = [&](auto end, auto mid, int kc, int col, const uint4& wq) {
      constexpr int kEnd = decltype(end)::value, kMid = decltype(mid)::value;
      [[maybe_unused]] uint32_t x2[4];  // M ≤ 8 only
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint32_t word = j == 0 ? wq.x : j == 1 ? wq.y : j == 2 ? wq.z : wq.w;
        uint32_t b[2][2];
        unpack_word<T>(word, zlo, zhi, [&](int h, int e, T2 q) { b[h][e] = N::bits(q); });
        const uint32_t a[4] = {b[0][0], b[1][0], b[0][1], b[1][1]};
#pragma unroll
        for (int i = 0; i < kPairs; ++i) {
          if constexpr (MT == 1) {
            if (j % 2 == 0) {
              if constexpr (R1) {
                const uint4 v = *reinterpret_cast<const uint4*>(xbase2 + col + j * 16);
                x2[0] = v.x, x2[1] = v.y, x2[2] = v.z, x2[3] = v.w;
              } else {
                ptx::ldmatrix_x4(x2, xbase2 + col + j * 16);
              }
            }
            ptx::mma_16816<T>(part[0], a, {x2[2 * (j % 2)], x2[2 * (j % 2) + 1]});
          } else {
            uint32_t xf[4];
            ptx::ldmatrix_x4(xf, bbase[i] + col + j * 16);
            ptx::mma_16816<T>(part[2 * i], a, {xf[0], xf[1]});
            ptx::mma_16816<T>(part[2 * i + 1], a, {xf[2], xf[3]});
          }
        }
        if (j == 1 && (kMid > 0 || (kMid < 0 && mid_chunk_group))) {
          flush();
          load_group();
        }
      }
      if constexpr (kEnd < 0) {
        const int next = kc + 1;
        if ((next & chunk_gmask) == 0 || (kEnd == -2 && next == wk1)) {
          flush();
          if (kEnd == -1 || next < wk1) load_group();
        }
      } else if constexpr (kEnd == 1) {
        flush();
        load_group();
      }
    };
    uint32_t sink = 0;  // the load-only probes keep their loads alive through this
    // A slot is refilled after its chunk is used (fetching first cost a copy
    // of the chunk per step, and was slower though one more load was in
    // flight: H200, 28672 × 8192 M = 1 54.7 against 50.7 µs).
    auto step = [&](auto end, auto mid, int kc, int col, uint4& slot, int next) {
      if constexpr (V == 1 || V == 2) sink ^= slot.x ^ slot.y ^ slot.z ^ slot.w;
      else process(end, mid, kc, col, slot);
      slot = fetch(next);
    };
    // Whole rounds whose refills stay inside the K range: addresses are the
    // round's base plus constants, no clamps, no exits. kEnds ≥ 0: bit i
    // says whether chunk i of every round ends a group; -1: tested at run
    // time. mid: as process's.
    int base = wk0;
    auto rounds = [&](auto ends, auto mid) {
      constexpr int kEnds = decltype(ends)::value;
      for (; base + 2 * kRing <= wk1; base += kRing) {
        x_round(base);
        const int col = x_col(base);
        static_for<0, kRing>([&](auto ic) {
          constexpr int i = decltype(ic)::value;
          step(std::integral_constant<int, kEnds < 0 ? -1 : (kEnds >> i) & 1>{}, mid, base + i, col + x_in_round(i), ring[i],
               base + kRing + i);
        });
        x_done(base);
      }
    };
    // M ≤ 8: one copy of the rounds per group-end pattern. Rounds start at
    // wk0 + 4r: every chunk ends a group at groups ≤ 64 (at 32 also mid-chunk);
    // at 128 those whose successor is even; per-channel none. M = 9-32: the
    // common group 128 from an even chunk, and one copy that tests at run
    // time (H200: M = 16 28672 × 8192 58.4 → 54.0 µs; M = 24 asym 79.7 →
    // 73.2). More copies, or M = 9-16 asymmetric, spilled and ran slower
    // (M = 12 asym 8192²: 22.7 → 23.5).
    static_assert(kRing == 4, "the group-end patterns below are for rounds of 4 chunks");
    using Yes = std::integral_constant<int, 1>;
    using No = std::integral_constant<int, 0>;
    for (int piece = 0;; ++piece) {
      if constexpr ((MT == 2 && !ASYM) || MT == 4) {
        if (chunk_gmask == 1 && wk0 % 2 == 0) rounds(std::integral_constant<int, 0xA>{}, No{});
        else rounds(std::integral_constant<int, -1>{}, std::integral_constant<int, -1>{});
      } else if constexpr (MT > 1) {
        rounds(std::integral_constant<int, -1>{}, std::integral_constant<int, -1>{});
      } else if (mid_chunk_group) rounds(std::integral_constant<int, 0xF>{}, Yes{});
      else if (chunk_gmask == 0) rounds(std::integral_constant<int, 0xF>{}, No{});
      else if (chunk_gmask == 1 && wk0 % 2 == 0) rounds(std::integral_constant<int, 0xA>{}, No{});
      else if (chunk_gmask == 1) rounds(std::integral_constant<int, 0x5>{}, No{});
      else rounds(std::integral_constant<int, 0>{}, No{});
      // The last rounds. Refills unconditional (the tail re-reads its last
      // chunk): a predicated load made the compiler shuffle the whole ring
      // through moves each chunk. WS: where a second piece follows, they are
      // its first round instead (tile nt + 1 follows tile nt in memory,
      // from its chunk 0).
      const bool more = WS && piece == 0 && wk1b > kc0;
      for (; base < wk1; base += kRing) {
        x_round(base);
        const int col = x_col(base);
#pragma unroll
        for (int i = 0; i < kRing; ++i) {
          if (base + i >= wk1) break;
          const int next = base + kRing + i;
          step(std::integral_constant<int, -2>{}, std::integral_constant<int, -1>{}, base + i, col + x_in_round(i), ring[i],
               next < wk1 ? next : more ? next + KC + kc0 - wk1 : wk1 - 1);
        }
        x_done(base);
      }
      if constexpr (!WS) break;
      if (piece > 0 || wk1b == kc0) break;
      // WS: the second piece, on the next tile, whose first round the ring holds.
      chunks_first = wk1 - wk0;
      finish_piece(ntl, chunks_first);
#pragma unroll
      for (int i = 0; i < 4; ++i) acc[0][i] = 0.f;
      ++ntl;
      wp += (int64_t)KC * 128;
      wk0 = base = kc0, wk1 = wk1b;
      soff = group_offset();
      load_group();
    }
    if constexpr (V == 1 || V == 2) acc[0][0] = __uint_as_float(sink & 0x3fffffffu) * 0.f;
  }

  // WS: the pieces that added into the scratch (finish_piece) count their
  // chunks on their tiles' counters, both after one fence; the arrival that
  // brings a tile to KC writes its sums and leaves sums and counter zero.
  if constexpr (WS) {
    if (!runs || V >= 2) return;
    const int chunks_last = wk1 - wk0;
    finish_piece(ntl, chunks_last);
    const bool meet_first = chunks_first > 0 && chunks_first != KC, meet_last = chunks_last != KC;
    if (!meet_first && !meet_last) return;
    __threadfence();
    __syncwarp();
    int old = 0;
    if (lane == 0 && meet_first) old = atomicAdd(p.counters + ntl - 1, chunks_first);
    if (lane == 1 && meet_last) old = atomicAdd(p.counters + ntl, chunks_last);
    const bool last_first = meet_first && __shfl_sync(0xffffffffu, old, 0) + chunks_first == KC;
    const bool last_last = meet_last && __shfl_sync(0xffffffffu, old, 1) + chunks_last == KC;
    if (!last_first && !last_last) return;
    __threadfence();  // every piece's sums
    auto write_sums = [&](int64_t tile) {
      if (lane == 0) p.counters[tile] = 0;
      const int64_t c = tile * 16 + 4 * lane;
      if (lane >= 4 || c >= p.n) return;
      float4* w = reinterpret_cast<float4*>(p.workspace + c);
      const float4 v = __ldcg(w);
      __stcg(w, make_float4(0.f, 0.f, 0.f, 0.f));
      const float s[4] = {v.x, v.y, v.z, v.w};
      store_output4<T>(p, 0, c, s);
    };
    if (last_first) write_sums(ntl - 1);
    if (last_last) write_sums(ntl);
    return;
  }
  // A tile's slices add up into its first slice's warp, which alone writes.
  // (Tile and slice again from the plan: kept live through the loop they
  // cost spills at the 64-register budget.)
  if constexpr (kSliced) {
    const int slices = max(1, plan.warp_slices);
    const int tiles = kWarps / slices, slice = warp / tiles;
    if (slices > 1) {
      __syncthreads();  // x is no longer read: its space takes the slices' sums
      float4* sums = reinterpret_cast<float4*>(smem);
      if (slice > 0) sums[(warp - tiles) * 32 + lane] = make_float4(acc[0][0], acc[0][1], acc[0][2], acc[0][3]);
      __syncthreads();
      if (slice == 0)
        for (int s = 1; s < slices; ++s) {
          const float4 v = sums[(warp + (s - 1) * tiles) * 32 + lane];
          acc[0][0] += v.x, acc[0][1] += v.y, acc[0][2] += v.z, acc[0][3] += v.w;
        }
    }
  }
  const int out_tiles = kWarps / (kSliced ? max(1, plan.warp_slices) : 1);
  const int64_t n0 = kSliced ? ((int64_t)blockIdx.y * out_tiles + warp % out_tiles) * 16 + g : nt * 16 + g;
  const bool writes = kSliced ? warp < out_tiles && n0 < p.n_pad : active;
  // Calls fn(acc element, row, column) for every element inside [M, N] that
  // this thread holds (none in a tile's later slices).
  auto each_output = [&](auto&& fn) {
    if constexpr (kSliced)
      if (!writes) return;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = mt * 8 + 2 * t + (i & 1);
        const int64_t c = n0 + 8 * (i / 2);
        if (r < m && c < p.n) fn(acc[mt][i], r, c);
      }
  };
  if (V < 2 && plan.cluster) {
    __syncthreads();  // x is no longer read: its space takes the partials
    // The block's width as a constant: computed, its divisions in the meet
    // loop spilled 250 bytes.
    auto meet = [&](auto width) {
      constexpr int kCols = decltype(width)::value;
      meet_in_cluster<T>(p, plan.split_k, reinterpret_cast<float*>(smem), 0, kDecodeMaxRows, kCols,
                         (int64_t)blockIdx.y * kCols, each_output, tid, 256);
    };
    if (out_tiles == 8) meet(std::integral_constant<int, kDecodeBlockN>{});
    else if (out_tiles == 4) meet(std::integral_constant<int, kDecodeBlockN / 2>{});
    else if (out_tiles == 2) meet(std::integral_constant<int, kDecodeBlockN / 4>{});
    else meet(std::integral_constant<int, kDecodeBlockN / 8>{});
    return;
  }
  // Groups of a column's accumulators for the split-K sums (epilogue.cuh),
  // only those holding a row < M: at M = 1 a quarter of the REDs, which the
  // L2 serialises per address.
  auto each_sum = [&](auto&& fn) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int64_t c = n0 + 8 * h;
      if (c >= p.n) continue;
      if constexpr (MT == 1) {
        float unused = 0.f;
        if (2 * t < m) fn(acc[0][2 * h], acc[0][2 * h + 1], unused, unused, 2, sum_slot(2 * t), c);
      } else {
#pragma unroll
        for (int i = 0; i < MT / 2; ++i)
          if (16 * i + 2 * t < m)
            fn(acc[2 * i][2 * h], acc[2 * i][2 * h + 1], acc[2 * i + 1][2 * h], acc[2 * i + 1][2 * h + 1], 4, sum_slot(16 * i + 2 * t), c);
      }
    }
  };
  if (V < 2 && plan.split_k > 1 &&
      !meet_splits(p, p.counters + blockIdx.y, plan.split_k, writes, tid == 0, each_sum, [] { __syncthreads(); }))
    return;
  if (writes) write_output<T>(p, each_output);
}

// How many clusters of `size` CTAs of this kernel the GPU holds at once.
template <typename T, bool ASYM, int MT, int V>
int active_clusters(int size, int smem) {
  if (!allow_max_smem<decode_kernel<T, ASYM, MT, V, 0>>().ok()) return 0;
  return max_active_clusters(decode_kernel<T, ASYM, MT, V, 0>, dim3(256), smem, dim3(1, 1, (unsigned)size));
}

template <typename T, bool ASYM, int MT, int V, int XR, int R1, bool SL = false, bool WS = false>
Status launch(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  if (plan.warp_slices > 1 && (!SL || plan.warp_slices > kDecodeMaxSlices || kWarps % plan.warp_slices))
    return Status::fail(Code::InvalidArgument, "w4a16 decode: warp slices are for M ≤ 8 with x staged whole, 2, 4 or 8 of them");
  // The ring's boxes (XR = 2); where the driver refuses the map, the ring
  // that the threads copy.
  CUtensorMap x_map{};
  if constexpr (XR == 2)
    if (!tensor_map_2d_u16(&x_map, p.x, p.m, p.k, (int)std::min<int64_t>(p.m, MT * 8), kXBoxCols).ok())
      return launch<T, ASYM, MT, V, 1, R1, SL, WS>(p, plan, stream);
  auto kernel = decode_kernel<T, ASYM, MT, V, XR, R1, SL, WS>;
  const int smem = decode_smem_bytes(p.m, plan.chunks_per_split, MT, XR, R1 != 0);
  if (Status st = allow_max_smem<decode_kernel<T, ASYM, MT, V, XR, R1, SL, WS>>(); !st.ok()) return st;
  const int shift = group_shift(p.group_size);
  const dim3 grid(1, (unsigned)plan.col_blocks, (unsigned)plan.split_k);
  // The split-K CTAs of a column block (along z) form one cluster; where the
  // GPU cannot place it they meet through the scratch instead.
  const bool pdl = use_pdl(p);
  if (plan.cluster && launch_in_clusters(kernel, grid, dim3(256), smem, stream, dim3(1, 1, grid.z), pdl, p, plan, shift, x_map))
    return check_launch("w4a16 decode gemm");
  GemmPlan flat = plan;
  flat.cluster = false;
  launch_plain(kernel, grid, dim3(256), smem, stream, pdl, p, flat, shift, x_map);
  return check_launch("w4a16 decode gemm");
}

// M = 1 (symmetric weights) in x's fragment order: H200, harness, µs, against
// ldmatrix, 28672 × 8192 38.65 / 37.8, 8192 × 28672 37.25 / 36.8, 8192² 18.5
// / 18.05, 11008 × 4096 17.5 / 16.8, 4096 × 11008 16.1 / 15.6. Asymmetric
// (group 64 and up, frag_order()), with slices where the planner takes
// them: 8192 × 28672 38.05 / 37.8, 4096 × 11008 16.05 / 15.8, 28672 × 8192
// 39.95 / 39.7.
// M = 2-8 in fragment order only in warp slices (frag_order()).
template <typename T, bool ASYM, int MT, int V, int XR>
Status run(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  if (plan.warp_shares) {
    if constexpr (MT == 1 && !XR && V == 0)
      if (p.m == 1 && frag_capable(p, false)) return launch<T, ASYM, MT, V, XR, 1, false, true>(p, plan, stream);
    return Status::fail(Code::InvalidArgument, "w4a16 decode: warp shares are for M = 1 with x staged whole");
  }
  if constexpr (MT == 1 && !XR && V == 0) {
    if (frag_order(p, XR, plan.warp_slices)) {  // at M ≥ 2 only in slices
      if (p.m > 1) return launch<T, ASYM, MT, V, XR, 2, true>(p, plan, stream);
      return plan.warp_slices > 1 ? launch<T, ASYM, MT, V, XR, 1, true>(p, plan, stream) : launch<T, ASYM, MT, V, XR, 1>(p, plan, stream);
    }
  }
  return launch<T, ASYM, MT, V, XR, 0>(p, plan, stream);
}

int variant_of(const GemmParams& p) { return p.variant > 0 && p.variant < kVariants ? p.variant : 0; }
// Whether run() takes an R1 kernel (x in fragment order): at M = 1, and at
// M = 2-8 in warp slices. (Unsliced at M = 2-8 it lost to ldmatrix at
// every shape measured, by up to 5 %: H200, harness, µs, ldmatrix /
// fragment order, M = 4 28672 × 8192 40.75 / 42.7, 8192 × 28672 39.6 /
// 41.55; M = 8 8192² 19.3 / 20.55; M = 2 4096 × 11008 16.05 / 16.55.)
// Not on asymmetric weights of group 32 (their kernels spill more, and lost
// 1-2 %: M = 1 28672 × 8192 55.5 / 56.7, 8192 × 28672 53.95 / 55.0, 4096
// × 11008 21.15 / 21.35; 8192² won, 23.8 / 23.05).
// frag_capable: where the kernels exist (and warp slices may be planned).
bool frag_capable(const GemmParams& p, bool x_ring) {
  return variant_of(p) == 0 && !x_ring && (!p.zeros || p.group_size != 32) && p.m <= kDecodeFragRows;
}
bool frag_order(const GemmParams& p, bool x_ring, int slices) { return frag_capable(p, x_ring) && (p.m == 1 || slices > 1); }
// The plan's dynamic shared memory, as launch() asks for it.
// The x ring's kind (the kernels' XR): 2 by the copy engine on sm_90 (but
// WF_RING=3, the harness's A/B), else 1.
int ring_kind(const GemmParams& p, bool x_ring) {
  if (!x_ring) return 0;
#ifdef WARPFORGE_SM90A
  if (p.arch >= 90 && p.ring_override != 3) return 2;
#endif
  return 1;
}
int plan_smem_bytes(const GemmParams& p, const GemmPlan& plan) {
  return decode_smem_bytes(p.m, plan.chunks_per_split, (int)plan.rows_per_block / 8, ring_kind(p, plan.x_ring),
                           frag_order(p, plan.x_ring, plan.warp_slices));
}

// Clusters of `size` CTAs that the GPU holds at once: an occupancy query,
// cached for the process per (MT, size, CTAs resident per SM), which is all
// it depends on for one GPU model.
int cluster_capacity(int mt, int size, int smem) {
  const int resident = std::max(1, std::min(ctas_per_sm(mt), 227 * 1024 / (smem + 1024)));
  static std::atomic<int> cache[4][kMaxCluster + 1][5];  // capacity + 1; 0: not asked yet
  const int mi = mt == 1 ? 0 : mt == 2 ? 1 : mt == 4 ? 2 : 3;
  std::atomic<int>& c = cache[mi][size][resident];
  if (const int v = c.load(std::memory_order_relaxed)) return v - 1;
  const int n = mt == 1   ? active_clusters<__half, false, 1, 0>(size, smem)
                : mt == 2 ? active_clusters<__half, false, 2, 0>(size, smem)
                : mt == 4 ? active_clusters<__half, false, 4, 0>(size, smem)
                          : active_clusters<__half, false, 8, 0>(size, smem);
  c.store(n + 1, std::memory_order_relaxed);
  return n;
}

// On sm_90 a column block's split-K CTAs meet in a cluster when the grid is
// one wave and the GPU holds all its clusters at once. H100, harness, µs,
// clusters against the meet through the scratch: 28672 × 8192 M = 1 (2
// splits) 56.4 / 58.8; 11008 × 4096 M = 1 18.1 / 18.5. But 64 clusters of 8
// do not fit at once (62 do): 8192² M = 1 in clusters took 27.8 µs against
// 21.8, a second wave. Grids of several waves: on H100 clusters won a
// little (28672 × 8192 M = 16, 7 splits, 82.0 / 84.7), on H200 they lose
// much (the same 87.8 / 72.3; 8192 × 28672 M = 8, 16 splits, 87.4 / 56.3).
// Clusters of more than 8 lose in one wave too (H200, µs, cluster / scratch:
// 3584 × 8192 M = 8, 16 splits, 23.0 / 14.0; 1024 × 4096 M = 1, 16 splits,
// 12.8 / 8.6; 1000 × 4104 M = 16, 14 splits, 14.1 / 9.6): each rank's sum
// waits on a DSMEM round trip per peer. Clusters of 3 and 4 win at M ≤ 8
// and lose above, where the partials are twice the size (µs, M = 1 / 8 /
// 16: 20480 × 5120, 3 splits, 23.4 / 26.6 / 35.3 against 25.6 / 27.6 /
// 34.0; 14336 × 4096, 4 splits, 17.1 / 19.9 / 24.9 against 18.3 / 19.8 /
// 24.0); of 2 they win at 16 rows too (28672 × 8192, above).
constexpr int kMaxMeetCluster = 8;
// Warp slices take K ranges whose x is at most this many 64-wide chunks ×
// rows: at M = 1 128 (16 KB); at M = 2-8 192 (24 KB). H200, harness, µs,
// the ldmatrix kernel's splits / 8 or 4 slices with K unsplit: M = 2
// 4096² (128) 11.85 / 10.8, 11008 × 4096 (128) 17.45 / 14.8; M = 3 4096²
// (192) 12.15 / 11.6; M = 4 (256) 4096² 12.2 / 12.1, 11008 × 4096 17.85 /
// 16.9, but M = 2 8192² (256) 18.35 / 20.6, M = 2 4096 × 11008 (344)
// 16.05 / 17.8, M = 8 4096² (512) 12.3 / 15.0.
constexpr int kSliceX = 128;
constexpr int kRingMinChunks = 14;
constexpr int kSliceXRows = 192;
[[maybe_unused]] void choose_cluster(GemmPlan& plan, int64_t m, int mt, int64_t slots, int smem) {
  const int s = plan.split_k;
  if (s < 2 || s > (m <= 8 ? kMaxMeetCluster : 2)) return;
  plan.cluster = plan.col_blocks * s <= slots &&
                 plan.col_blocks <= cluster_capacity(mt, s, smem);
}

// Warp shares (M = 1, the fragment-order kernel): one wave of `slots` CTAs
// in K bands, each band of chunks_per_split chunks (a multiple of kRing: the
// shares are whole rounds) short enough for its x to fit, as few as that
// allows; a band's slots / bands CTAs share its tiles' rounds. Not where a
// share would reach past two tiles (more tiles than warps in a band).
// Taken where the plan above leaves more than 45 % of the CTA slots idle
// with runs of at least 128 chunks a warp: past 264 column blocks M = 1
// falls to one CTA per block, half a wave. H200, harness, µs, plan /
// shares: 34816 × 8192 50.1 / 46.1, 36864 × 8192 51.1 / 48.0; but 34816
// × 4096 (64 chunks a warp) 28.85 / 28.6, and wherever the plan fills the
// slots it loses: 28672 × 8192 (448 CTAs in 2 slices) 37.5 / 39.9, 57344 ×
// 8192 65.5 / 68.3, 29568 × 8192 37.6 / 40.6, 8192 × 28672 36.8 / 41.7,
// 8192² 16.8 / 19.8, 11008 × 4096 13.8 / 17.5. What the meet costs (the
// same kernel writing its pieces unmet, wrong results): 2.5-4 µs (28672 ×
// 8192 36.85, 34816 × 8192 42.3, 8192² 17.5): every warp ends on a RED,
// a fence and a counter's round trip.
constexpr int kSharesMaxFill = 55;  // % of the slots
constexpr int kSharesMinRun = 128;  // chunks a warp
bool plan_shares(GemmPlan& plan, const GemmParams& p, int kc, int64_t slots, int smem_cap) {
  if (p.m != 1 || !frag_capable(p, false) || kc % kRing) return false;
  int bands = 1, cpb = kc;
  for (;; ++bands) {
    cpb = ((kc + bands - 1) / bands + kRing - 1) / kRing * kRing;
    if (decode_smem_bytes(1, cpb, 1, 0, true) <= smem_cap) break;
    if (cpb <= kRing) return false;
  }
  bands = (kc + cpb - 1) / cpb;
  const int64_t ctas = slots / bands, tiles = p.n_pad / 16;
  if (ctas < 1 || tiles > ctas * kWarps || tiles * (cpb / kRing) > 2147483647) return false;
  plan.warp_shares = true;
  plan.warp_slices = 1;
  plan.col_blocks = ctas;
  plan.split_k = bands;
  plan.chunks_per_split = cpb;
  plan.cluster = false;
  plan.workspace_bytes = (size_t)p.n * sizeof(float);  // [N]: one row, packed (finish_piece)
  plan.counters = tiles;
  return true;
}

}  // namespace

GemmPlan plan_decode(const GemmParams& p) {
  GemmPlan plan{};
  plan.decode = true;
  plan.rows_per_block = p.m <= 8 ? 8 : p.m <= 16 ? 16 : p.m <= 32 ? 32 : 64;
  const int mt = plan.rows_per_block / 8;
  const int cps_slots = ctas_per_sm(mt);
  plan.row_blocks = 1;
  plan.col_blocks = (p.n_pad / 16 + kWarps - 1) / kWarps;
  const int kc = (int)(p.k_pad / 64);
  // Fill the resident CTA slots, each warp ≥ 4 chunks long, without
  // spilling into a partial extra wave; x for the K range must fit.
  const int64_t slots = cps_slots * (int64_t)std::max(p.sm_count, 1);
  int split = (int)std::max<int64_t>(1, std::min<int64_t>(slots / plan.col_blocks, kc / 4));
  // x must leave room for those CTAs (227 KB per SM): up to 32 rows through
  // the x ring where the whole K range does not fit, above that by more
  // splits.
  // At 9-16 rows on sm_90 also where a CTA's K range is at least
  // kRingMinChunks long: the copy engine's ring lets the warps start after
  // the first round, where x staged whole is waited for first (H200,
  // harness, µs, whole / ring, M = 16: 8192² (16 chunks) 23.1 / 22.1,
  // 10240 × 8192 (22) 27.65 / 25.3, 5120 × 13824 (17) 24.55 / 23.4, 4096 ×
  // 14336 (14) 21.8 / 20.75, asymmetric M = 12 8192² 22.85 / 21.9; but
  // 11008 × 4096 (11) 20.85 / 21.2, 6144 × 4096 (6) 15.65 / 16.65. At M ≤ 8
  // mixed: M = 8 8192² 19.15 / 19.45, 10240 × 8192 22.7 / 22.15).
  const int smem_cap = 227 * 1024 / cps_slots - 1024;
  const int cps0 = (kc + split - 1) / split;
  plan.x_ring = mt <= kXRingMaxMt && p.ring_override != 2 &&
                (p.ring_override == 1 || decode_smem_bytes(p.m, cps0, mt, false, frag_order(p, false, 1)) > smem_cap ||
                 (mt == 2 && cps0 >= kRingMinChunks && ring_kind(p, true) == 2));
  const bool frag = frag_order(p, plan.x_ring, 1);
  while (split < kc && decode_smem_bytes(p.m, (kc + split - 1) / split, mt, ring_kind(p, plan.x_ring), frag) > smem_cap) ++split;
  // If shared memory forced the grid past one wave, fill whole waves: a
  // partial last wave costs a full wave's time (measured: 9 splits of 64
  // column blocks, 1.09 waves, 93 µs; 16 splits, 2 waves, 69 µs).
  if (plan.col_blocks * split > slots) {
    const int64_t waves = (plan.col_blocks * split + slots - 1) / slots;
    split = (int)std::max<int64_t>(split, std::min<int64_t>(kc, waves * slots / plan.col_blocks));
  }
  if (p.split_override > 0) split = std::min(p.split_override, kc);
  // Warp slices (the R1 kernels: M ≤ 8), W of them make W times
  // the column blocks. First, where a CTA can take all of K (x of at most
  // kSliceX chunk-rows at M = 1, kSliceXRows above), the most slices whose CTAs fit one wave, K
  // unsplit: no meet at all, even with idle slots (H200, harness, µs, slices / split: 4096² 8 /
  // 1, 256 CTAs, 9.9 against 11.5 for 8 / 2 in clusters; 11008 × 4096 4 /
  // 1, 344 CTAs, 13.8 against 16.9 for 1 / 6 and 15.1 for 8 / 1, 688 CTAs).
  // Else the most, up to 8, that divide the split count (the grid keeps its
  // CTAs at 1/W the splits), leave at most 2 splits and at most 128 chunks
  // of x per CTA: 8192² 1 / 8 18.3, 2 / 4 18.3, 4 / 2 in clusters 17.6, 8 /
  // 1 17.0; 28672 × 8192 1 / 2 in clusters 38.2, 2 / 1 37.7. Where splits
  // remain it loses or ties (11008 × 4096 2 / 3 17.1 against 16.8), where
  // each CTA's x is longer it loses (8192 × 28672 4 / 2, 224 chunks, 39.1
  // against 37.0: every CTA waits for its x before it starts), and above
  // M = 1 x grows with M (8192² M = 8 2 / 4 21.8 against 19.1).
  // At M = 2-8, and on asymmetric weights, only the first rule: with
  // splits left they lost (M = 3-4, 4096², 8 slices / 2 splits, 12.55-12.8
  // against 12.15-12.2 µs; asymmetric M = 1 4096 × 11008, 8 / 2, 16.65
  // against 16.0). Asymmetric, the first rule against the splits before,
  // M = 1: 4096² 12.0 / 10.35, 11008 × 4096 17.5 / 14.45, 8192² 18.75 /
  // 17.9, per-channel 3000 × 1000 8.15 / 7.3; M = 2 4096² 12.15 / 11.1,
  // 11008 × 4096 17.35 / 15.55 (group 32: frag_order()).
  int slices = 1;
  int max_slices = kDecodeMaxSlices;  // WF_SLICES: at most the override, a power of two
  while (p.slices_override > 0 && max_slices > p.slices_override) max_slices /= 2;
  if (frag_capable(p, plan.x_ring)) {
    if (p.m * kc <= (p.m == 1 ? kSliceX : kSliceXRows) && p.split_override <= 0)
      for (int w = max_slices; w > 1; w /= 2)
        if ((p.n_pad / 16 * w + kWarps - 1) / kWarps <= slots) {
          slices = w;
          split = w;  // divided below: one split
          break;
        }
    if (slices == 1 && p.m == 1 && !p.zeros)
      for (int w = max_slices; w > 1; w /= 2)
        if (split % w == 0 && split / w <= 2 && (kc + split / w - 1) / (split / w) <= kSliceX) {
          slices = w;
          break;
        }
  }
  split /= slices;
  plan.warp_slices = slices;
  plan.col_blocks = (p.n_pad / 16 * slices + kWarps - 1) / kWarps;
  plan.chunks_per_split = (kc + split - 1) / split;
  plan.split_k = (kc + plan.chunks_per_split - 1) / plan.chunks_per_split;
  const int64_t ctas = plan.col_blocks * plan.split_k;
  const bool shares_pay = ctas * 100 <= slots * kSharesMaxFill && plan.chunks_per_split / slices >= kSharesMinRun;
  if (p.shares_override != 2 && (p.shares_override == 1 || shares_pay) && plan_shares(plan, p, kc, slots, smem_cap)) return plan;
#ifdef WARPFORGE_SM90A  // cluster code exists only in this build's sm_90 machine code
  if (p.arch >= 90)
    choose_cluster(plan, p.m, mt, slots, plan_smem_bytes(p, plan));
#endif
  // Workspace and counters come zeroed from the caller's scratch (see
  // gemm_scratch_bytes) and are left zeroed.
  plan.workspace_bytes = plan.split_k > 1 ? (size_t)gemm_sum_rows(p.m) * p.n * sizeof(float) : 0;
  plan.counters = plan.split_k > 1 ? plan.col_blocks : 0;
  return plan;
}

template <typename T, bool ASYM, int MT, int XR>
Status run_variant(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  switch (variant_of(p)) {
    case 0: return run<T, ASYM, MT, 0, XR>(p, plan, stream);
#ifdef WARPFORGE_PROBES
    case 1: return run<T, ASYM, MT, 1, XR>(p, plan, stream);
    case 2: return run<T, ASYM, MT, 2, XR>(p, plan, stream);
    case 3: return run<T, ASYM, MT, 3, XR>(p, plan, stream);
    case 4: return run<T, ASYM, MT, 4, XR>(p, plan, stream);
#endif
  }
  return Status::fail(Code::InvalidArgument, "w4a16 decode: unknown variant");
}

template <typename T, bool ASYM, int MT>
Status run_ring(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  if constexpr (MT <= kXRingMaxMt) {
    const int kind = ring_kind(p, plan.x_ring);
    if (kind == 2) return run_variant<T, ASYM, MT, 2>(p, plan, stream);
    if (kind == 1) return run_variant<T, ASYM, MT, 1>(p, plan, stream);
  }
  if (plan.x_ring) return Status::fail(Code::InvalidArgument, "w4a16 decode: the x ring is for at most 32 rows");
  return run_variant<T, ASYM, MT, 0>(p, plan, stream);
}

template <typename T, bool ASYM>
Status run_rows(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  switch (plan.rows_per_block) {
    case 8: return run_ring<T, ASYM, 1>(p, plan, stream);
    case 16: return run_ring<T, ASYM, 2>(p, plan, stream);
    case 32: return run_ring<T, ASYM, 4>(p, plan, stream);
    case 64: return run_ring<T, ASYM, 8>(p, plan, stream);
  }
  return Status::fail(Code::UnsupportedShape, "w4a16 decode: M must be at most 64");
}

int decode_active_clusters(const GemmParams& p, const GemmPlan& plan, int size) {
  const int mt = plan.rows_per_block / 8;
  return cluster_capacity(mt, size, plan_smem_bytes(p, plan));
}

Status launch_decode(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  return by_kind(p, [&](auto k) { return run_rows<typename decltype(k)::T, decltype(k)::kAsym>(p, plan, stream); });
}

}  // namespace wf::w4a16
