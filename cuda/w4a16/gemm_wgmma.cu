// W4A16 GEMM on Hopper (sm_90a) for M > 16: warpgroup MMA with the weight
// as the register A operand and the activations as B, i.e. outᵀ = W · xᵀ,
// so the instruction's M (64) runs over weight columns and its N (32, 48,
// 64, 96, 128, 192, 224 or 256) over tokens: at 256 a dequantized weight feeds twice the
// tensor work of 128. (At M ≤ 16 gemm_decode.cu is faster, but at 9-16
// rows where this kernel's plan is whole tiles in one wave: gemm.cu.)
//
//   grid  (column blocks of 128, split-K, row blocks of kTok tokens), or
//         stream-K (shares.h, plan_stream_k): one wave of CTAs, each a
//         share of all those tiles' K chunks
//   block warpgroup 0: producer. Thread 0 issues copies (the copy engine,
//         no registers) into a ring of shared-memory stages: one tensor-map
//         copy of the block's packed weight chunks (8 tiles × the stage's
//         chunks; one bulk copy per tile, 8 a stage, was 1-11 % slower:
//         bench/RESULTS.md), one each of its scales and zero points (one per
//         group was up to 4 % slower), and tensor-map copies of x[0:kTok,
//         stage's K] into the 128B-swizzled layout wgmma reads (at 128
//         tokens thread 32 those of x, see apart()). A stage's mbarrier
//         completes when all have landed.
//         Warpgroups 1, 2: consumers, 64 columns each (warp w: the 16-column
//         tile of the packed layout, exactly its rows of the A fragment).
//         Per 64-k chunk a warp reads its 512 bytes from shared memory, one
//         16-byte load per thread; each 32-bit word dequantizes (lop3 magic,
//         (q - z)·s in 16 bits, the bits dequantize() gives) into the four
//         A registers of one k16 step.
//   split-K partials meet in a cluster of the column block's K splits
//   (epilogue.cuh: meet_in_cluster) where the GPU holds them all, else in
//   the zeroed workspace (meet_splits).
#include <algorithm>
#include <atomic>
#include <type_traits>

#include "../common/cluster_launch.h"
#include "../common/launch.h"
#include "../common/mbarrier.h"
#include "../common/pdl.h"
#include "../common/tensor_map.h"
#include "../common/wgmma.h"
#include "dequant.h"
#include "dispatch.h"
#include "epilogue.cuh"
#include "shares.h"
#include "stream_k.cuh"
#include "w4a16.h"

namespace wf::w4a16 {
namespace {

// Two consumer warpgroups of 64 weight columns each (the wgmma M). (Three,
// 192 columns per CTA, were slower at 8192² — M = 64 / 128: 45.9 / 64.6 µs
// against 41.7 / 60.8 — and at 28672 columns, whose 150 blocks take two waves.)
constexpr int kConsumerWGs = 2;
constexpr int kCols = 64 * kConsumerWGs;
constexpr int kTiles = kCols / kTileN;
constexpr int kThreads = 128 * (1 + kConsumerWGs);
constexpr int kStoreBytes = 256;  // a consumer warp's output staging (store_tile)
// Stream-K: floats of a CTA's partial slot, kTok / 2 accumulators a consumer thread.
constexpr int64_t sk_slot_floats(int tok) { return (int64_t)tok / 2 * 128 * kConsumerWGs; }
// kCtas CTAs per SM: 1, or 2 at 32 to 64 tokens, where one CTA leaves the
// tensor pipe idle between a warpgroup's wait and its next stage and
// 28672-wide weights need 224 CTAs (1.7 waves of one per SM).
// setmaxnreg: the producer gives its registers to the consumers. At two
// CTAs the launch grants 80 a thread (65536 / 768, in steps of 8): the
// producer's 48 spare ones make the consumers' 104.
template <int kCtas>
struct Occupancy {
  static constexpr int kLaunchRegs = kCtas == 1 ? 168 : 80;
  static constexpr int kProducerRegs = kCtas == 1 ? 56 : 32;
  static constexpr int kConsumerRegs = kCtas == 1 ? 224 : 104;
  static_assert(128 * kProducerRegs + 128 * kConsumerWGs * kConsumerRegs <= kThreads * kLaunchRegs, "registers the CTA was launched with");
  // Of the 227 KB a CTA may have (113 at two per SM): barriers and alignment take the rest.
  static constexpr int kSmemBudget = kCtas == 1 ? 224 * 1024 : 110 * 1024;
};

// Per stage: kChunks 64-wide K chunks of x (kTok rows), of the weight (8
// tiles × 512 B per chunk), and of scales / zero points (up to two groups
// per chunk at group size 32, 256 B per group for the block's 128 columns).
// Every region is a multiple of 1024 B, so each x slab starts swizzle-aligned.
template <int kTok, bool ASYM, bool kApart = false, int kCtas = 1>
struct Stage {
  // Four chunks per stage: a stage's barriers and waits cover 16 wgmmas
  // (8192², M = 64: 33.2 → 28.9 µs; M = 128: 41.3 → 38.5, though only two
  // such stages fit; six chunks at 64 tokens: 30.7).
  // At 192 and 256 tokens two: four chunks' A fragments (64 registers)
  // beside 96 or 128 accumulators do not fit the consumers' 224 (with two
  // fragment sets), and x takes 48 or 64 KB a chunk pair. At 32, 48 and
  // 96 tokens four, as at 64 and 128.
  // At 128 tokens, asymmetric weights released whole (groups of 32 and 64,
  // see apart()) three, so that three stages fit: H200, µs, four / three,
  // group 32 28672 × 8192 M = 96 129.2 / 123.5, group 64 11008 × 4096 M =
  // 128 36.2 / 34.4. Where weights and x are released apart (groups of 128,
  // per-channel) three lost (8192² 37.5 / 39.2, 28672 × 8192 119.7 /
  // 125.7).
  // At two CTAs per SM (104 registers a consumer thread) three chunks at
  // 32 and 48 tokens, two at 64: four at 32 and three at 64 make ptxas
  // serialise the wgmmas (C7512). H200, µs, two / three chunks: 28672 ×
  // 8192 M = 17 58.65 / 56.15, M = 32 58.75 / 56.45, M = 48 63.85 / 62.4,
  // asymmetric group 32 M = 32 62.55 / 59.95; 20480 × 5120 M = 32 32.75 / 31.95.
  static constexpr int kChunks = kCtas == 2 ? (kTok <= 48 ? 3 : 2) : kTok >= 192 ? 2 : kTok == 128 && ASYM && !kApart ? 3 : 4;
  static constexpr int kSmemBudget = Occupancy<kCtas>::kSmemBudget;
  static constexpr int kXBytes = kTok * kChunks * 128;
  static constexpr int kWBytes = kTiles * kChunks * 512;
  static constexpr int kMaxGroups = 2 * kChunks;
  static constexpr int kSBytes = (kMaxGroups * kTiles * 32 + 1023) / 1024 * 1024;
  static constexpr int kBytes = kXBytes + kWBytes + (ASYM ? 2 : 1) * kSBytes;
  // As many stages as fit: the weight bytes in flight per SM set the stream's pace.
  static constexpr int kCount = kSmemBudget / kBytes < 12 ? kSmemBudget / kBytes : 12;
  // After the barriers, at one CTA per SM: each consumer warp's 256 bytes for its output stores (store_tile).
  static constexpr int kStoreOffset = kCount * kBytes + (3 * kCount * 8 + 127) / 128 * 128;
  static constexpr int kSmem = kStoreOffset + (kCtas == 1 ? 4 * kConsumerWGs * kStoreBytes : 0) + 1024;  // + alignment
  static_assert(kSmem <= (kCtas == 1 ? 227 : 113) * 1024, "shared memory of one CTA (two per SM: half the SM's, less 1 KB each)");
  static_assert(kBytes % 1024 == 0 && kCount >= 2, "stages of whole swizzle atoms, at least double-buffered");
  static_assert(wgmma_tokens(kTok), "tokens per CTA: a wgmma N");
  static_assert(kCount * kBytes >= meet_parts_floats(kTok, kCols) * 4, "the stage buffers hold a cluster meet's partials");
};

// out = acc (+ bias) for one consumer warp's 16 columns (from col) × kTok
// tokens (from row0), 8 tokens at a time through the warp's 256 bytes of
// shared memory: stmatrix.trans turns the accumulator layout (a lane holds
// two tokens of one column) into token rows of 16 columns, and each lane
// then writes 4 adjacent columns with one 8-byte store, 4 lanes a row's
// whole 32-byte sector. (Straight from the accumulators each store is 2
// bytes and a warp's store touches 4 rows: 4× the store instructions, and
// half sectors.) Rows 4-7 of a matrix swap their 16-byte halves, so that
// stmatrix's 8 rows of 32-byte pitch fall in distinct banks. Values are
// rounded once, as store_output rounds them. Taken at one CTA per SM where
// N is a multiple of 4 (quad_stores). H200, harness, µs, direct / staged:
// 28672 × 8192 M = 256 177.3 / 171.5, M = 128 102.5 / 101.1; 11008 × 4096
// M = 256 51.0 / 48.9, M = 128 31.8 / 30.6; 8192² M = 128 35.6 / 34.8. At
// two CTAs per SM (104 registers a consumer thread) the same code cost 7-8 %
// (28672 × 8192 M = 32 56.7 / 61.5, M = 64 71.4 / 76.1), and per-element
// stores from the staging where N is not a multiple of 4 20 % (11006 × 4096
// M = 256 51.3 / 61.9): those keep the direct stores (write_output).
template <typename T, int kTok>
__device__ __forceinline__ void store_tile(const GemmParams& p, const float (&acc)[kTok / 2], uint8_t* tile, int64_t row0,
                                           int64_t col, int lane) {
  using N = Num<T>;
  const int g = lane / 4;
  const T* bias = static_cast<const T*>(p.bias);
  float b[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) b[h] = bias && col + 8 * h + g < p.n ? static_cast<float>(bias[col + 8 * h + g]) : 0.f;
  const uint32_t base = (uint32_t)__cvta_generic_to_shared(tile);
  // stmatrix: lanes 0-15 address row lane % 8 of matrix lane / 8 (columns 8h … 8h + 7).
  const int sr = lane % 8, sh = (lane / 8) & 1;
  const uint32_t st_at = base + sr * 32 + ((sh ^ (sr >> 2)) * 16);
  // The read back: token row lane / 4, columns 4q … 4q + 3.
  const int rr = lane / 4, q = lane % 4;
  const uint2* ld_at = reinterpret_cast<const uint2*>(tile + rr * 32 + (((q >> 1) ^ (rr >> 2)) * 16) + (q & 1) * 8);
  const int64_t c = col + 4 * q;
  T* out = static_cast<T*>(p.out);
#pragma unroll
  for (int j = 0; j < kTok / 8; ++j) {
    if (row0 + 8 * j >= p.m) break;  // the warp's rows end together
    // acc[4j + 2h + e]: column col + 8h + g, token 8j + 2t + e.
    const uint32_t r0 = N::bits(N::floats(acc[4 * j] + b[0], acc[4 * j + 1] + b[0]));
    const uint32_t r1 = N::bits(N::floats(acc[4 * j + 2] + b[1], acc[4 * j + 3] + b[1]));
    ptx::stmatrix_x2_trans(st_at, r0, r1);
    __syncwarp();
    const uint2 v = *ld_at;
    const int64_t row = row0 + 8 * j + rr;
    if (row < p.m && c < p.n) *reinterpret_cast<uint2*>(out + row * p.n + c) = v;
    __syncwarp();
  }
}

// Two K splits of a column block in a cluster, at one CTA per SM with quad
// stores (where, see pair_meet): rank r finishes tokens [r, r + 1) · kTok / 2
// of the tile. A consumer thread's accumulators are the same fragment in
// both ranks, so each parks the half its peer finishes, in fragment order
// ([float4][thread]: one conflict-free 16-byte store per 4 accumulators, as
// stream_k.cuh's park_partial lays out a whole partial), and adds the peer's
// parked half to its own element by element before write_half writes it
// (accumulators [off, off + kTok / 4): tokens from off · 2 on).
// (meet_in_cluster, for any split count, parks the whole tile as
// [token][column] with one scalar store and its index arithmetic per
// accumulator, and re-reads its own half too: at 256 tokens on 8192² that
// epilogue was ~15 % of the consumer warps' stall samples, ncu.)
template <int kTok, typename WriteHalf>
__device__ __forceinline__ void meet_pair(float (&acc)[kTok / 2], float4* park, int ctid, int nthreads, WriteHalf&& write_half) {
  static_assert(kTok % 16 == 0, "a half of a thread's accumulators is whole float4s");
  constexpr int kHalf = kTok / 4, kQuads = kHalf / 4;
  // Remote loads in flight a thread: the largest divisor of kQuads up to 8.
  constexpr int kBatch = kQuads % 8 == 0 ? 8 : kQuads % 7 == 0 ? 7 : kQuads % 6 == 0 ? 6 : kQuads <= 8 ? kQuads : 4;
  static_assert(kQuads % kBatch == 0, "whole batches");
  const uint32_t rank = cluster::rank();
  auto finish_half = [&](auto off) {
    constexpr int kGive = decltype(off)::value == 0 ? kHalf : 0;  // the half the peer finishes
    constexpr int kKeep = decltype(off)::value;
#pragma unroll
    for (int q = 0; q < kQuads; ++q)
      park[q * nthreads + ctid] = make_float4(acc[kGive + 4 * q], acc[kGive + 4 * q + 1], acc[kGive + 4 * q + 2], acc[kGive + 4 * q + 3]);
    cluster::sync();
#pragma unroll
    for (int b = 0; b < kQuads; b += kBatch) {
      float4 v[kBatch];
#pragma unroll
      for (int u = 0; u < kBatch; ++u) v[u] = cluster::load_remote(park + (b + u) * nthreads + ctid, rank ^ 1u);
#pragma unroll
      for (int u = 0; u < kBatch; ++u) {
        float* a = acc + kKeep + 4 * (b + u);
        a[0] += v[u].x, a[1] += v[u].y, a[2] += v[u].z, a[3] += v[u].w;
      }
    }
    write_half(off);
  };
  if (rank == 0) finish_half(std::integral_constant<int, 0>{});
  else finish_half(std::integral_constant<int, kHalf>{});
  cluster::sync();  // the parked half stays until the peer has read it
}

// Rows of x per tensor-map copy: M rounded to 8 where M < kTok, else kTok.
// Rows past the box are never written (stale shared memory; their tokens'
// outputs are discarded). Boxes of kTok rows, most of them out of bounds and
// zero-filled, made the copies slower the fewer rows were real (H200,
// copies alone, 28672 × 8192, M = 17 / 33 / 64: 71.6 / 62.9 / 45.1 µs).
__host__ __device__ constexpr int x_box_rows(int64_t m, int tok) { return m < tok ? (int)((m + 7) / 8 * 8) : tok; }

// Groups of scales (and zero points) a stage of `chunks` K chunks can
// touch: the rows of their tensor-map box. A stage starts on any chunk, so
// at group 128 four chunks can touch three groups; per-channel (0) one.
__host__ __device__ constexpr int stage_groups(int group_size, int chunks) {
  return group_size == 0 ? 1 : group_size <= 64 ? chunks * 64 / group_size : (chunks * 64 + group_size - 1) / group_size + 1;
}

// GemmParams::variant 1 and 2 are probes for the harness (wrong results):
// 1 the same copies with no math, the memory ceiling of this pipeline; 2 the
// consumers' wgmmas alone, no copies and no dequantization; 3 (right
// results) two fragment sets at every token count (below); 4 the whole
// kernel without the x copies (stale x) and 5 probe 1 without them: the
// cost of streaming x from L2 once per column block; 6 K splits that each
// write their partials straight out, no meet: what the meet costs; 8 the
// copies and the dequantization, no wgmmas; 9 the copies and the wgmmas on
// constant fragments, no dequantization. The probes take the fragment
// sets of two_sets(), except that up to 64 tokens they keep one, and
// release stages whole (apart() is not theirs); 1, 2, 8 and 9 run at the
// plan's CTAs per SM (run_probe), the others at one. At two CTAs per SM
// ptxas serializes the wgmmas of probe 2 (32-64 tokens) and of probe 9 (64
// tokens) for lack of registers (C7512): those read high.
// kTwoSets: two fragment sets (the loop below). kApart: a stage's weights
// and its x released and refilled apart (below). Where each is used:
// two_sets(), apart().
// kSK: stream-K (plan.stream_k), the CTA's share in segments; without it
// one segment and no loop around it (the loop cost 6-23 % at 64 and 128
// tokens where it ran once).
template <typename T, bool ASYM, int kTok, int V, bool kTwoSets, bool kApart, int kCtas, bool kSK>
__global__ void __launch_bounds__(kThreads, kCtas)
    wgmma_kernel(const GemmParams p, const GemmPlan plan, int group_shift, const __grid_constant__ CUtensorMap x_map,
                 const __grid_constant__ CUtensorMap w_map, const __grid_constant__ CUtensorMap s_map,
                 const __grid_constant__ CUtensorMap z_map) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using S = Stage<kTok, ASYM, kApart, kCtas>;
  using O = Occupancy<kCtas>;
  static_assert(kCtas == 1 || (kTok <= 64 && !kTwoSets), "two CTAs per SM: up to 64 tokens, one fragment set");
  using N = Num<T>;
  using T2 = typename N::T2;
  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw = (uint32_t)__cvta_generic_to_shared(smem_raw);
  uint8_t* smem = smem_raw + (((raw + 1023) & ~1023u) - raw);
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + S::kCount * S::kBytes);
  uint64_t* empty = full + S::kCount;
  // kApart: a stage's weights are released once dequantized (w_free) and
  // its x once its wgmmas complete (empty), each refilled by its own
  // producer thread.
  uint64_t* w_free = empty + S::kCount;
  static_assert(!(kTwoSets && kApart), "the two-set loop releases stages whole");
  auto x_of = [&](int buf) { return reinterpret_cast<T*>(smem + buf * S::kBytes); };
  auto w_of = [&](int buf) { return smem + buf * S::kBytes + S::kXBytes; };
  auto s_of = [&](int buf) { return reinterpret_cast<T*>(smem + buf * S::kBytes + S::kXBytes + S::kWBytes); };
  auto z_of = [&](int buf) { return s_of(buf) + S::kSBytes / sizeof(T); };

  const int tid = threadIdx.x;
  const int KC = (int)(p.k_pad / 64);
  const int64_t NT = p.n_pad / kTileN;
  // The CTA's work (shares.h): its share of every tile's K chunks, or
  // (column block x, row block z) K split y. A tile is (row block, column
  // block), column blocks fastest, so consecutive tiles read the same x rows.
  WorkRange work;
  const int units = (int)(plan.col_blocks * plan.row_blocks) * KC;  // stream-K: < 2³¹ (plan_stream_k)
  if constexpr (kSK) {
    work = WorkRange::rotated(share_start(blockIdx.x, units, gridDim.x), share_start(blockIdx.x + 1, units, gridDim.x), KC);
  } else {
    work = WorkRange{(int)blockIdx.y * plan.chunks_per_split, min(KC, (int)(blockIdx.y + 1) * plan.chunks_per_split), 0, 0};
  }
  auto next_segment = [&] {
    return kSK ? work.next(KC, (int)plan.col_blocks, 0, 0) : work.next(KC, 1, blockIdx.x, blockIdx.z);
  };
  auto col_of = [&](const Segment& s) { return (int64_t)s.col; };
  auto row0_of = [&](const Segment& s) { return s.rb * kTok; };
  // Tiles of the packed layout in a column block: a multiple of 4 (N_pad % 64 == 0).
  auto tiles_of = [&](const Segment& s) { return (int)(NT - col_of(s) * kTiles < kTiles ? NT - col_of(s) * kTiles : kTiles); };
  auto group_lo = [&](const StageRef& r) { return (r.kc * 64) >> group_shift; };

  // The next kernel may launch (pdl.h); this one reads x and writes only
  // after the kernel before it has finished.
  pdl::allow_dependents();
  pdl::wait_prior();
  if (tid == 0) {
    for (int b = 0; b < S::kCount; ++b) {
      mbarrier::init(full + b, kApart ? 2 : 1);
      mbarrier::init(empty + b, 4 * kConsumerWGs);
      mbarrier::init(w_free + b, 4 * kConsumerWGs);
    }
  }
  __syncthreads();

  if (tid < 128) {
    // Producer: one thread issues every copy of a stage to the copy engine
    // (tensor-map copies of the packed weight chunks, scales and zero points,
    // and of each x slab, swizzled on the way) and the stage's
    // mbarrier completes when all bytes have landed. It runs up to kCount
    // stages ahead, held back only by buffers the consumers have not freed.
    // (kApart: thread 0 the weights, thread 32 x, each held back by its part.)
    // (With x copied by 128 threads' cp.async, each stage waited for its own
    // copies before the next was issued: the copies alone ran at 20-27 % of
    // copy bandwidth at 8192², M = 64-128. Pairs of CTAs that each copied
    // half of x and multicast it to both, freeing a buffer only when both
    // CTAs' consumers had, were slower: M = 64 / 128 63.9 / 79.7 µs against
    // 42.4 / 61.9.)
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(O::kProducerRegs));
    const bool x_part = kApart && tid == 32;
    if ((tid != 0 && !x_part) || V == 2) return;
    constexpr bool kCopyX = V != 4 && V != 5;
    const uint64_t policy = ptx::evict_first_policy();
    const uint32_t x_bytes = kCopyX ? x_box_rows(p.m, kTok) * 128 * S::kChunks : 0;
    // Boxes are whole: the weights' chunks past the stage's end, tiles past
    // N and groups past the stage's last arrive too (zeros past the arrays).
    constexpr uint32_t kWBox = kTiles * S::kChunks * 512;
    const uint32_t w_bytes = kWBox + stage_groups(p.group_size, S::kChunks) * kTiles * 32 * (ASYM ? 2 : 1);
    auto copy_w = [&](int buf, const Segment& seg, const StageRef& r) {
      const int nt0 = (int)(col_of(seg) * kTiles);  // (recomputed per stage: cheaper than registers held)
      mbarrier::tensor_copy_3d(w_of(buf), &w_map, 0, r.kc, nt0, full + buf, policy);
      mbarrier::tensor_copy_2d(s_of(buf), &s_map, nt0 * 16, group_lo(r), full + buf, policy);
      if constexpr (ASYM) mbarrier::tensor_copy_2d(z_of(buf), &z_map, nt0 * 16, group_lo(r), full + buf, policy);
    };
    // Every slab, also past the CTA's last chunk (the weight fragments
    // there are zero; the x read must be finite): box rows ≥ M and
    // columns ≥ K arrive as zeros (rows past the box: x_box_rows).
    auto copy_x = [&](int buf, const Segment& seg, const StageRef& r) {
      for (int slab = 0; slab < (kCopyX ? S::kChunks : 0); ++slab)
        mbarrier::tensor_copy_2d(x_of(buf) + slab * kTok * 64, &x_map, (r.kc + slab) * 64, row0_of(seg), full + buf);
    };
    auto produce = [&](const Segment& seg, int i) {
      StageCursor<S::kChunks> cursor(seg);
      for (const int end = i + stages_of<S::kChunks>(seg); i < end; ++i) {
        const StageRef r = cursor.next();
        const int buf = i % S::kCount;
        if constexpr (kApart) {
          if (i >= S::kCount) mbarrier::wait((x_part ? empty : w_free) + buf, ((i / S::kCount) - 1) & 1);
          mbarrier::expect_tx(full + buf, x_part ? x_bytes : w_bytes);
          if (x_part) copy_x(buf, seg, r);
          else copy_w(buf, seg, r);
        } else {
          if (i >= S::kCount) mbarrier::wait(empty + buf, ((i / S::kCount) - 1) & 1);
          mbarrier::expect_tx(full + buf, w_bytes + x_bytes);
          copy_w(buf, seg, r);
          copy_x(buf, seg, r);
        }
        mbarrier::arrive(full + buf);
      }
      return i;
    };
    if constexpr (kSK) {
      for (int i = 0; !work.done();) i = produce(next_segment(), i);
    } else {
      produce(next_segment(), 0);
    }
    return;
  }

  // Consumers: warp w (0 … 7) owns tile w of each column block.
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(O::kConsumerRegs));
  const int warp = tid / 32 - 4, lane = tid % 32;
  const int g = lane / 4, t = lane % 4;
  // One accumulator set. (Two independent chains, summed at the end, were
  // faster with two-chunk stages; with four-chunk stages their registers
  // cost more than they gave: 8192 × 28672 M = 64 79.7 against 74.5 µs.)
  // One wgmma over all kTok tokens: at 256 one n256 instead of two n128 on
  // the same fragment, 0.3-0.9 % faster (H200, µs: 8192² M = 256 57.3 /
  // 56.9, 28672 × 8192 189.1 / 187.9, 8192 × 28672 167.5 / 166.4).
  float acc[kTok / 2];
  // Interleave: each chunk's wgmmas issued once its fragments are made, so
  // that the next chunk's dequantization runs beside them (one fence per
  // chunk, one commit per stage). fp16 only, where measured faster. H200,
  // harness, µs, stage at once / interleaved:
  // - two CTAs per SM at 64 tokens (two-chunk stages): 28672 × 8192 M = 64
  //   66.6 / 65.0, 20480 × 5120 36.1 / 35.4. At 32 tokens slower (28672 ×
  //   8192 51.7 / 52.8; asymmetric group 32 M = 16 55.9 / 59.25): a chunk's
  //   four m64n32k16 are too short to cover the next chunk's dequantization.
  // - one CTA per SM without stream-K (K split in clusters, or whole):
  //   8192² M = 128 37.9 / 32.55 (asymmetric 39.65 / 33.9; group 64 M = 100
  //   40.05 / 33.3), 8192 × 28672 M = 128 117.0 / 94.2, 4096² M = 256 (two
  //   row blocks) 23.3 / 20.65, 4096 × 11008 M = 256 48.85 / 41.0, 8192 ×
  //   28672 M = 32 asymmetric group 64 62.35 / 57.5; 96 tokens slower
  //   (8192² 28.65 / 29.3). With stream-K slower (28672 × 8192 M = 128 95.9
  //   / 113.3, M = 96 83.9 / 96.6; 11008 × 4096 M = 128 28.8 / 32.7).
  // - bf16, whose dequantization has more instructions, lost everywhere
  //   measured (8192² M = 128 33.35 / 33.95, 8192 × 28672 97.1 / 100.5;
  //   28672 × 8192 M = 64 65.5 / 66.9).
  constexpr bool kInterleave = V == 0 && !kTwoSets && std::is_same_v<T, __half> &&
                               ((kCtas == 2 && kTok == 64 && !kApart) || (kCtas == 1 && !kSK && kTok != 96));
  // Tiles exist for the whole warpgroup or for none of it (N_pad % 64 == 0).
  auto live_in = [&](const Segment& s) { return warp / 4 * 4 < tiles_of(s); };

  using Frags = uint32_t[S::kChunks][4][4];
  // Stream-K kernels load a chunk's scale word whatever the chunk (gi is 0
  // past the stage's end, a valid address) and select 0 after, and take
  // chunk 0 as always in: no branch around the load. H200, µs, branch /
  // select: 28672 × 8192 M = 32 54.5 / 52.25, M = 48 60.3 / 58.8, M = 64
  // 68.85 / 67.3 (per-channel asym 68.5 / 67.3), M = 128 99.7 / 97.35;
  // 11008 × 4096 M = 48 22.35 / 21.95, M = 128 30.25 / 29.45, M = 200 (224
  // tokens) 40.6 / 40.35, M = 256 47.6 / 45.6; bfloat16 28672 × 8192 M = 32
  // 54.7 / 51.75, M = 64 70.15 / 66.5, 11008 × 4096 M = 256 48.0 / 46.15.
  // But at 96 tokens 84.05 / 91.95, at 128 in bfloat16 28672 × 8192 93.2 /
  // 95.6 and 11008 × 4096 28.5 / 29.25, and without stream-K mixed: 8192²
  // M = 128 34.6 / 35.2, per-channel asym 8192 × 28672 M = 64 65.1 / 74.05,
  // 8192 × 28672 M = 32 (K split in clusters) 55.0 / 55.25.
  // (192 tokens, not measured, keep the branch.)
  constexpr bool kScalesAlways = kSK && (kTok <= 64 || kTok >= 224 || (kTok == 128 && std::is_same_v<T, __half>));
  // Waits for stage i and dequantizes it into a.
  // after_chunk(c): once chunk c's fragments are in a (interleave, below).
  auto prepare = [&](int i, const StageRef& r, bool live, Frags& a, auto&& after_chunk) {
    const int buf = i % S::kCount;
    if constexpr (V == 2 || V == 9) {
      if constexpr (V == 9) mbarrier::wait(full + buf, (i / S::kCount) & 1);
#pragma unroll
      for (int c = 0; c < S::kChunks; ++c)
#pragma unroll
        for (int j = 0; j < 16; ++j) a[c][j / 4][j % 4] = 0x3c003c00u;
      return;
    }
    mbarrier::wait(full + buf, (i / S::kCount) & 1);
    if (!live || V == 1 || V == 2 || V == 5) return;
    const int g_lo = group_lo(r);
    const uint4* wsm = reinterpret_cast<const uint4*>(w_of(buf) + warp * S::kChunks * 512) + lane;
    const T* ssm = s_of(buf) + (warp * 8 + g) * 2;
    const T* zsm = z_of(buf) + (warp * 8 + g) * 2;
    // Chunks past the stage's end dequantize chunk 0's words with scale 0:
    // zero fragments (their x is finite), without a select per register.
    const bool group32 = group_shift == 5;
#pragma unroll
    for (int c = 0; c < S::kChunks; ++c) {
      const bool in = (kScalesAlways && c == 0) || c < r.chunks;
      const uint4 wq = wsm[(in ? c : 0) * 32];
      T2 sub[2], sub_hi[2], scale[2];
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        // Steps 2hf, 2hf + 1 share a group (the smallest group is 32); the
        // second half of a chunk starts a new one only at group 32.
        // Column g (A row g) and g + 8: their scales (and zero points) sit side by side.
        if (hf == 0 || group32) {
          const int gi = in ? (((r.kc + c) * 64 + hf * 32) >> group_shift) - g_lo : 0;
          uint32_t sbits;
          if constexpr (kScalesAlways) {
            const uint32_t sraw = *reinterpret_cast<const uint32_t*>(ssm + gi * kTiles * 16);
            sbits = in ? sraw : 0u;
          } else {
            sbits = in ? *reinterpret_cast<const uint32_t*>(ssm + gi * kTiles * 16) : 0u;
          }
          const T2 sc = N::pair(sbits);
          const T z8 = static_cast<T>(8.f);
          const T2 zz = ASYM ? *reinterpret_cast<const T2*>(zsm + gi * kTiles * 16) : T2{z8, z8};
          pair_constants<T>(sc, zz, sub, sub_hi, scale);
        }
#pragma unroll
        for (int jj = 0; jj < 2; ++jj) {
          const int j = 2 * hf + jj;
          uint32_t b[2][2];
          dequant_word<T>(j == 0 ? wq.x : j == 1 ? wq.y : j == 2 ? wq.z : wq.w, sub, sub_hi, scale, b);
          // A fragment: (row g, k lo), (row g + 8, k lo), (row g, k hi), (row g + 8, k hi).
          a[c][j][0] = b[0][0];
          a[c][j][1] = b[1][0];
          a[c][j][2] = b[0][1];
          a[c][j][3] = b[1][1];
        }
      }
      after_chunk(c);
    }
  };
  // The stage's x descriptors: one per stage, each wgmma's that plus a
  // constant (the 14-bit address field counts 16-byte units, and a CTA's
  // shared addresses stay below 2^18, so the add never carries into the
  // next field): one uniform add per wgmma, not six. At 32 tokens the
  // descriptors were a quarter of a consumer's instructions. H200, µs,
  // six / one: 256 tokens 28672 × 8192 202.5 / 189.8, 8192² 57.6 / 57.2;
  // 32 tokens 28672 × 8192 56.6 / 54.7, 8192 × 28672 57.8 / 55.0, M = 17
  // 56.1 / 54.3; 48 tokens 62.3 / 60.85; 64 tokens 28672 × 8192 70.7 /
  // 69.65, 8192² 26.35 / 25.9; 96 tokens 85.6 / 84.85. At 128 tokens
  // mixed, so not there: 8192² 34.8 / 35.65, 28672 × 8192 100.05 / 99.25.
  struct XDesc {
    const T* xs;
    uint32_t lo;
    uint64_t hi;
  };
  auto x_descs = [&](int i) {
    const T* xs = x_of(i % S::kCount);
    const uint64_t d0 = wgmma::desc(xs, 16, 1024);
    return XDesc{xs, (uint32_t)d0, d0 & ~0xffffffffull};
  };
  // Chunk c's four wgmmas.
  auto issue_chunk = [&](const XDesc& d, int c, Frags& a) {
    auto x_desc = [&](int j) {
      const int at = c * kTok * 64 + j * 16;
      if constexpr (kTok != 128) return d.hi | (d.lo + (uint32_t)(at * (int)sizeof(T) / 16));
      return wgmma::desc(d.xs + at, 16, 1024);
    };
#pragma unroll
    for (int j = 0; j < 4; ++j) wgmma::Mma<T, kTok>::template rs<0>(acc, a[c][j], x_desc(j), 1);
  };
  // The stage's wgmmas back to back, no branch between them.
  auto issue = [&](int i, bool live, Frags& a) {
    if (!live || V == 1 || V == 5) return;
    if constexpr (V == 8) {
      // The fragments must still be computed: fold them into one register
      // that an empty asm takes.
      uint32_t f = 0;
#pragma unroll
      for (int c = 0; c < S::kChunks; ++c)
#pragma unroll
        for (int j = 0; j < 16; ++j) f ^= a[c][j / 4][j % 4];
      asm volatile("" ::"r"(f));
      return;
    }
    const XDesc d = x_descs(i);
    wgmma::fence();
#pragma unroll
    for (int c = 0; c < S::kChunks; ++c) issue_chunk(d, c, a);
    wgmma::commit();
  };

  // A warp's arrival on a stage barrier, once all its lanes are done.
  auto release = [&](uint64_t* bar) {
    __syncwarp();
    if (lane == 0) mbarrier::arrive(bar);
  };
  // Two K splits meet in pairs (meet_pair) at one CTA per SM, where measured
  // faster than meet_in_cluster. H200, harness, µs, old / pair: 8192² M =
  // 256 53.85 / 52.65, M = 200 (224 tokens) 48.3 / 47.45, M = 128 34.7 /
  // 34.0, M = 96 32.7 / 29.4, M = 64 25.85 / 25.25, M = 48 24.8 / 23.9, M =
  // 32 22.25 / 22.1; 4096² M = 256 22.85 / 22.1; 4096 × 11008 M = 256 43.25
  // / 42.5; 8192 × 28672 M = 256 159.8 / 159.3, M = 64 68.15 / 67.4;
  // asymmetric group 32 8192² M = 256 54.3 / 53.05, M = 64 26.75 / 26.15.
  // But asymmetric group 128 lost: 8192² M = 128 34.85 / 38.7, 8192 × 28672
  // M = 32 59.55 / 61.05 (not traced; ptxas reports no spills), so
  // asymmetric weights meet in pairs only at groups 32 and 64 and at the
  // token counts measured (up to 64, and 192 up).
  constexpr bool kPairMeet = kCtas == 1;
  const bool pair_meet = kPairMeet && plan.split_k == 2 && quad_stores(p) &&
                         (!ASYM || ((kTok <= 64 || kTok >= 192) && p.group_size > 0 && p.group_size < 128));
  // A segment's sums become the output, or a partial that the CTA finishing
  // the tile adds (stream-K, stream_k.cuh).
  auto finish = [&](const Segment& s) {
    const int64_t col = col_of(s);
    const int row0 = row0_of(s);
    const int64_t nt0 = col * kTiles;
    const bool live = live_in(s);
    // acc[4·n8 + e]: weight column (nt0 + warp)·16 + g + 8·(e ≥ 2), token n8·8 + 2t + (e & 1).
    const int64_t c0 = (nt0 + warp) * 16 + g;
    auto each_output = [&](auto&& fn) {
#pragma unroll
      for (int e = 0; e < kTok / 2; ++e) {
        const int64_t row = row0 + (e / 4) * 8 + 2 * t + (e & 1);
        const int64_t c = c0 + ((e & 2) ? 8 : 0);
        if (row < p.m && c < p.n) fn(acc[e], row, c);
      }
    };
    auto consumers_sync = [] { asm volatile("bar.sync 1, %0;" ::"n"(128 * kConsumerWGs) : "memory"); };
    auto write_tile = [&] {
      if (kCtas == 1 && quad_stores(p)) store_tile<T, kTok>(p, acc, smem + S::kStoreOffset + warp * kStoreBytes, row0, c0 - g, lane);
      else write_output<T>(p, each_output);
    };
    if constexpr (kSK) {
      constexpr int64_t kSlotFloats = sk_slot_floats(kTok);
      const int ctid = tid - 128;
      if (s.kc1 < KC) {
        // The share's last piece, short of the tile's end: a later CTA finishes the tile.
        if (live) park_partial(p.workspace + blockIdx.x * kSlotFloats, ctid, 128 * kConsumerWGs, acc);
        // No fence per thread: the barrier orders every consumer thread's
        // parked stores before thread 0's release, and a release is
        // cumulative, so the finisher's acquire sees them all. (A
        // __threadfence() in each of the 256 threads stalled them on
        // sequentially consistent GPU-scope fences, 2.7 % of the stall
        // samples at 32 tokens; H200, harness, µs, fence / none: 28672 ×
        // 8192 M = 32 52.1 / 51.8, M = 64 67.0 / 66.55, M = 128 96.45 /
        // 95.6, M = 256 168.05 / 167.5; 11008 × 4096 M = 32 20.35 / 20.0,
        // M = 256 46.1 / 45.65.)
        consumers_sync();
        if (ctid == 0) raise_flag(p.sk_flags + blockIdx.x);
        return;
      }
      // The tile's last piece: the CTAs before this one whose shares reach into the tile parked the others.
      const int tile_start = (s.rb * (int)plan.col_blocks + s.col) * KC;
      const int lo = s.kc0 > 0 ? first_parker(blockIdx.x, tile_start, units, gridDim.x) : (int)blockIdx.x;
      for (int j = (int)blockIdx.x - 1; j >= lo; --j) {
        if (ctid == 0) take_flag(p.sk_flags + j);
        consumers_sync();
        if (live) add_partial(p.workspace + j * kSlotFloats, ctid, 128 * kConsumerWGs, acc);
      }
      if (live) write_tile();
      return;
    }
    // Groups of a column's accumulators for the split-K sums (epilogue.cuh):
    // 8-row tiles 2i and 2i + 1 of column c0 + 8h (M ≤ 128: row0 = 0), those
    // holding a row < M.
    auto each_sum = [&](auto&& fn) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int64_t c = c0 + 8 * h;
        if (c >= p.n) continue;
#pragma unroll
        for (int i = 0; i < kTok / 16; ++i) {
          float* e = acc + 8 * i + 2 * h;
          if (16 * i + 2 * t < p.m) fn(e[0], e[1], e[4], e[5], 4, sum_slot(16 * i + 2 * t), c);
        }
      }
    };
    // Without stream-K a CTA has one segment: these run once, at its end.
    if constexpr (V == 6) {
      if (live) write_tile();
      return;
    }
    if (plan.cluster) {
      // The CTAs of a column block's K splits form a cluster (along y) and add
      // their partials through distributed shared memory, in the stage buffers
      // once every consumer warp is done with them.
      consumers_sync();
      if constexpr (kPairMeet) {
        if (pair_meet) {
          // Accumulators [kKeep, kKeep + kTok / 4): tokens from 2 · kKeep on.
          auto write_half = [&](auto keep) {
            constexpr int kKeep = decltype(keep)::value;
            store_tile<T, kTok / 2>(p, *reinterpret_cast<const float(*)[kTok / 4]>(acc + kKeep), smem + S::kStoreOffset + warp * kStoreBytes,
                                    row0 + 2 * kKeep, c0 - g, lane);
          };
          meet_pair<kTok>(acc, reinterpret_cast<float4*>(smem), tid - 128, 128 * kConsumerWGs, write_half);
          return;
        }
      }
      meet_in_cluster<T>(p, plan.split_k, reinterpret_cast<float*>(smem), row0, kTok, kCols, nt0 * 16, each_output,
                         tid - 128, 128 * kConsumerWGs);
      return;
    }
    if (plan.split_k > 1 && !meet_splits(p, p.counters + col, plan.split_k, live, tid == 128, each_sum, consumers_sync))
      return;
    if (live) write_tile();
  };

  // Segment by segment (one without stream-K), each ending in finish(). (The
  // next segment's first stage is dequantized only after it: finish() inside
  // the pipelined stage loop spilled kilobytes at 256 tokens.)
  auto consume = [&](const Segment& seg, const int i0) {
    const int n_stages = stages_of<S::kChunks>(seg);
    const bool live = live_in(seg);
    // Zeroed here, not at the end of finish(): the accumulators are then dead
    // through every epilogue path.
#pragma unroll
    for (int i = 0; i < kTok / 2; ++i) acc[i] = 0.f;
    StageCursor<S::kChunks> cursor(seg);
    // Two fragment sets: stage i + 1 dequantized into the second while stage
    // i's wgmmas run, the set in flight pinned until they complete (where,
    // see two_sets()).
    if constexpr (kTwoSets) {
      auto pin_frags = [](Frags& a) {
#pragma unroll
        for (int c = 0; c < S::kChunks; ++c)
#pragma unroll
          for (int j = 0; j < 4; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) asm volatile("" : "+r"(a[c][j][e])::"memory");
      };
      Frags a0, a1;
      prepare(i0, cursor.next(), live, a0, [](int) {});
      auto step = [&](int i, Frags& cur, Frags& nxt) {
        issue(i0 + i, live, cur);
        if (i + 1 < n_stages) prepare(i0 + i + 1, cursor.next(), live, nxt, [](int) {});
        wgmma::wait<0>();
        wgmma::pin(acc);
        pin_frags(cur);
        release(empty + (i0 + i) % S::kCount);
      };
      for (int i = 0; i < n_stages; i += 2) {
        step(i, a0, a1);
        if (i + 1 < n_stages) step(i + 1, a1, a0);
      }
    } else {
      for (int i = i0; i < i0 + n_stages; ++i) {
        const int buf = i % S::kCount;
        Frags a;
        if constexpr (kInterleave) {
          const XDesc d = x_descs(i);
          prepare(i, cursor.next(), live, a, [&](int c) {
            wgmma::fence();
            issue_chunk(d, c, a);
          });
          if constexpr (kApart) release(w_free + buf);
          wgmma::commit();
        } else {
          prepare(i, cursor.next(), live, a, [](int) {});
          if constexpr (kApart) release(w_free + buf);
          issue(i, live, a);
        }
        wgmma::wait<0>();
        wgmma::pin(acc);
        release(empty + buf);
      }
    }
    finish(seg);
    return i0 + n_stages;
  };
  if constexpr (kSK) {
    for (int i0 = 0; !work.done();) i0 = consume(next_segment(), i0);
  } else {
    consume(next_segment(), 0);
  }
#endif
}

// Split partials meet in the caller's zeroed scratch only where it holds
// their sums: one row block of at most kWgmmaMaxRows rows. Beyond, K splits
// only in clusters.
bool sums_fit_scratch(int64_t m, int64_t row_blocks) { return m <= kWgmmaMaxRows && row_blocks == 1; }

// setmaxnreg moves registers within what the CTA was launched with: a build
// that gave the kernel fewer than its warpgroups' setmaxnreg budget needs
// would leave the consumers' setmaxnreg.inc waiting forever, so such a
// kernel is refused.
template <auto Kernel, int kCtas>
Status check_launch_regs() {
  using O = Occupancy<kCtas>;
  static std::atomic<int> state{0};  // 0: not asked yet, 1: as built for, 2: not
  int s = state.load(std::memory_order_relaxed);
  if (s == 0) {
    cudaFuncAttributes a{};
    if (cudaError_t e = cudaFuncGetAttributes(&a, Kernel); e != cudaSuccess) return Status::from_cuda(e, "cudaFuncGetAttributes (w4a16 wgmma)");
    s = a.numRegs * kThreads >= 128 * O::kProducerRegs + 128 * kConsumerWGs * O::kConsumerRegs ? 1 : 2;
    state.store(s, std::memory_order_relaxed);
  }
  return s == 1 ? Status::success()
                : Status::fail(Code::UnsupportedArch, "w4a16 wgmma: this build gave the kernel another register count than its setmaxnreg budget");
}

// kSK: one wave of plan.ctas CTAs sharing all tiles' K chunks (shares.h);
// else the (column block, K split, row block) grid.
template <typename T, bool ASYM, int kTok, int V, bool kTwoSets, bool kApart, int kCtas, bool kSK>
Status launch_kernel(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  constexpr auto kernel = wgmma_kernel<T, ASYM, kTok, V, kTwoSets, kApart, kCtas, kSK>;
  constexpr int kSmem = Stage<kTok, ASYM, kApart, kCtas>::kSmem;
  if (Status st = allow_max_smem<kernel>(); !st.ok()) return st;
  if (Status st = check_launch_regs<kernel, kCtas>(); !st.ok()) return st;
  const int shift = group_shift(p.group_size);
  CUtensorMap x_map;
  if (Status st = tensor_map_2d_swizzle128(&x_map, p.x, p.dtype, p.m, p.k, x_box_rows(p.m, kTok)); !st.ok()) return st;
  // The packed weights as [tiles][chunks][128 words]: a stage's kTiles × kChunks box in one copy.
  CUtensorMap w_map;
  constexpr int kChunks = Stage<kTok, ASYM, kApart, kCtas>::kChunks;
  if (Status st = tensor_map_3d_u32(&w_map, p.w, 128, p.k_pad / 64, p.n_pad / kTileN, 128, kChunks, kTiles); !st.ok()) return st;
  // Scales (and zero points) as [groups][N_pad], in boxes of the column
  // block × the groups a stage can touch.
  const int s_rows = stage_groups(p.group_size, kChunks);
  const int64_t groups = p.group_size > 0 ? p.k_pad / p.group_size : 1;
  if (s_rows > Stage<kTok, ASYM, kApart, kCtas>::kMaxGroups) return Status::fail(Code::InvalidArgument, "w4a16 wgmma: group size");
  CUtensorMap s_map{}, z_map{};
  if (Status st = tensor_map_2d_u16(&s_map, p.scales, groups, p.n_pad, s_rows, kTiles * kTileN); !st.ok()) return st;
  if (ASYM)
    if (Status st = tensor_map_2d_u16(&z_map, p.zeros, groups, p.n_pad, s_rows, kTiles * kTileN); !st.ok()) return st;
  const bool pdl = use_pdl(p);
  if constexpr (kSK) {
    launch_plain(kernel, dim3((unsigned)plan.ctas), dim3(kThreads), kSmem, stream, pdl, p, plan, shift, x_map, w_map, s_map, z_map);
    return check_launch("w4a16 wgmma gemm (stream-K)");
  }
  const dim3 grid((unsigned)plan.col_blocks, (unsigned)plan.split_k, (unsigned)plan.row_blocks);
  // The K splits of a column block (along y) form one cluster; where the GPU
  // cannot place it they meet through the scratch instead.
  if (plan.cluster && launch_in_clusters(kernel, grid, dim3(kThreads), kSmem, stream, dim3(1, grid.y, 1), pdl, p, plan, shift, x_map, w_map, s_map, z_map))
    return check_launch("w4a16 wgmma gemm");
  GemmPlan flat = plan;
  flat.cluster = false;
  dim3 flat_grid = grid;
  if (plan.split_k > 1 && !sums_fit_scratch(p.m, plan.row_blocks)) {
    // The scratch cannot hold these sums: one CTA runs all of K.
    flat.split_k = 1, flat.chunks_per_split = (int)(p.k_pad / 64);
    flat_grid.y = 1;
  }
  launch_plain(kernel, flat_grid, dim3(kThreads), kSmem, stream, pdl, p, flat, shift, x_map, w_map, s_map, z_map);
  return check_launch("w4a16 wgmma gemm");
}

// Stream-K is built for the tuned kernels only (V = 0), not the probes.
template <typename T, bool ASYM, int kTok, int V, bool kTwoSets = (kTok >= 192), bool kApart = false, int kCtas = 1>
Status run_variant(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  if constexpr (V == 0)
    if (plan.stream_k) return launch_kernel<T, ASYM, kTok, V, kTwoSets, kApart, kCtas, true>(p, plan, stream);
  return launch_kernel<T, ASYM, kTok, V, kTwoSets, kApart, kCtas, false>(p, plan, stream);
}

// Two fragment sets where they measured faster than one. H200, µs, one /
// two: 256 tokens, 28672 × 8192 213.6 / 204.7 (192 tokens, like 256, take
// two-chunk stages and two sets). 32 to 64 tokens, measured at 64, group 128:
// 8192² 27.5 / 26.6 (asymmetric 28.4 / 27.3), 8192 × 28672 73.4 / 69.3
// (72.9 / 71.8), 11008 × 4096 26.0 / 24.7 (26.1 / 25.2), 28672 × 8192
// 80.4 / 79.9; but smaller groups, whose scales change within a stage, lost:
// group 32 8192² 27.5 / 28.0, asymmetric group 32 8192 × 28672 80.5 / 85.2,
// asymmetric group 64 28672 × 8192 82.6 / 85.4. 128 tokens: 8192² 37.3 /
// 39.3 (37.3 / 37.3 with stages' weights and x released apart; with
// two-chunk stages, five of them, 39.4, and 28672 × 8192 118.9 / 130.1).
bool two_sets(const GemmParams& p, int tok) { return tok >= 192 || (tok <= 64 && (p.group_size == 0 || p.group_size >= 128)); }
// Weights and x released apart at 128 tokens (two stages, so the weights of
// stage i + 2 could not be requested before stage i's wgmmas completed).
// H200, µs, together / apart, group 128: 8192² 37.1 / 36.4, 28672 × 8192
// 118.5 / 115.7, 8192 × 28672 103.5 / 101.8, 11008 × 4096 34.8 / 34.2,
// asymmetric M = 100 8192² 36.9 / 36.3; but asymmetric group 32 28672 ×
// 8192 M = 96 128.6 / 133.4. At 64 and 256 tokens it was slower (8192² M =
// 256 57.8 / 63.7; 28672 × 8192 M = 64 80.8 / 83.0).
bool apart(const GemmParams& p, int tok) { return tok == 128 && (p.group_size == 0 || p.group_size >= 128); }

// A probe at the plan's CTAs per SM.
template <typename T, bool ASYM, int kTok, int V>
Status run_probe(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  if constexpr (kTok <= 64)
    if (plan.ctas_per_sm == 2) return run_variant<T, ASYM, kTok, V, false, false, 2>(p, plan, stream);
  return run_variant<T, ASYM, kTok, V>(p, plan, stream);
}

template <typename T, bool ASYM, int kTok>
Status run(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  switch (p.variant) {
#ifdef WARPFORGE_PROBES  // the harness's build only
    case 1: return run_probe<T, ASYM, kTok, 1>(p, plan, stream);
    case 2: return run_probe<T, ASYM, kTok, 2>(p, plan, stream);
    case 3: return run_variant<T, ASYM, kTok, 0, true>(p, plan, stream);
    case 4: return run_variant<T, ASYM, kTok, 4>(p, plan, stream);
    case 5: return run_variant<T, ASYM, kTok, 5>(p, plan, stream);
    case 6: return run_variant<T, ASYM, kTok, 6>(p, plan, stream);
    case 8: return run_probe<T, ASYM, kTok, 8>(p, plan, stream);
    case 9: return run_probe<T, ASYM, kTok, 9>(p, plan, stream);
#endif
    default:
      if constexpr (kTok <= 64) {
        if (plan.ctas_per_sm == 2) return run_variant<T, ASYM, kTok, 0, false, false, 2>(p, plan, stream);
        if (two_sets(p, kTok)) return run_variant<T, ASYM, kTok, 0, true>(p, plan, stream);
      }
      if constexpr (kTok == 128)
        if (apart(p, kTok)) return run_variant<T, ASYM, kTok, 0, false, true>(p, plan, stream);
      return run_variant<T, ASYM, kTok, 0>(p, plan, stream);
  }
}

// Tokens per CTA (the wgmma N): the smallest that covers M up to 128. (32
// tokens: half the tensor work of 64 at M ≤ 32, and their x half the
// bytes; H200, harness, µs, 64 / 32 tokens at M = 32: 28672 × 8192 71.0 /
// 63.0, 8192 × 28672 70.8 / 64.2, 8192² 26.5 / 24.1, 11008 × 4096 24.3 /
// 21.8, 4096 × 11008 24.9 / 22.8, 4096² 15.0 / 13.7; the same at M = 24.
// 48 tokens at M = 33-48, against 64, M = 48: 28672 × 8192 69.5 / 64.4,
// 8192 × 28672 68.8 / 63.7, 8192² 26.5 / 25.2, 11008 × 4096 24.1 / 22.5.
// 96 at M = 65-96, against 128, M = 96: 28672 × 8192 101.1 / 86.0, 8192²
// 34.4 / 33.0, 11008 × 4096 31.1 / 28.0, 4096 × 11008 32.4 / 30.9, but
// 8192 × 28672 94.2 / 96.1. 192 at M = 129-192, against the 256 or 128
// chosen below, M = 192: 28672 × 8192 174.8 / 131.9, 8192 × 28672 160.5 /
// 132.0, 8192² 53.9 / 45.3, 11008 × 4096 49.0 / 37.2, 4096 × 11008 (128)
// 47.1 / 41.8, 4096² (128) 24.4 / 24.6.)
// Above, 128 or 256, whichever pads M less; on a tie 256 (a dequantized
// weight fragment feeds twice the tensor work) where its CTAs, split K at
// most two ways, fill 90 % of the SMs, else 128; and where 256 is chosen
// for M = 193-224, 224: the padding rows cost wgmma work and x copies
// (H200, µs, 256 / 224: 28672 × 8192 M = 200 174.5 / 149.9, 11008 × 4096
// M = 216 50.5 / 43.6, 8192² M = 224 55.4 / 51.4). H200, M = 256, µs for
// 128 / 256: 28672 × 8192 244 / 206, 11008 × 4096 69 / 59, 8192 × 28672
// 200 / 188 (K split 2), 8192² 63.8 / 62.5 (split 2), but 4096 × 11008
// 48 / 56 (256 needs 3 splits, whose 128 KB of partials per CTA meet in
// DSMEM).
// At M = 65-128 on weights of at most 32 column blocks (N ≤ 4096) two row
// blocks of half as many tokens: 64 tiles fill the GPU with two K splits,
// where one row block's 32 tiles need three, and each split's partials
// are half the size. H200, µs, 96 / 128 tokens against 48 / 64: 4096² M =
// 96 18.5 / 16.8, M = 112 20.7 / 17.9, M = 128 20.9 / 17.8 (asymmetric
// group 32 22.4 / 19.3), 4096 × 11008 M = 96 31.3 / 30.5, M = 128 33.7 /
// 32.6, 2048 × 8192 M = 128 22.2 / 21.1; but 5120² M = 128 (40 blocks)
// 25.7 / 28.6, 8192² 35.3 / 42.0.
// `halves` false: one row block there (plan_wgmma's fallback where those
// splits cannot meet in clusters).
constexpr int64_t kHalfTokensMaxBlocks = 32;
int tokens_for(int64_t m, int64_t col_blocks, int sm_count, bool halves) {
  if (m <= 32) return 32;
  if (m <= 48) return 48;
  if (m <= 64) return 64;
  if (halves && m <= 128 && col_blocks <= kHalfTokensMaxBlocks) return m <= 96 ? 48 : 64;
  if (m <= 96) return 96;
  if (m <= 128) return 128;
  if (m <= 192) return 192;
  const int64_t blocks256 = (m + 255) / 256;
  if (blocks256 * 256 > (m + 127) / 128 * 128) return 128;
  if (20 * col_blocks * blocks256 < 9 * (int64_t)sm_count) return 128;
  return m <= 224 ? 224 : 256;
}

template <typename T, bool ASYM>
Status run_tokens(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  switch (plan.rows_per_block) {
    case 32: return run<T, ASYM, 32>(p, plan, stream);
    case 48: return run<T, ASYM, 48>(p, plan, stream);
    case 64: return run<T, ASYM, 64>(p, plan, stream);
    case 96: return run<T, ASYM, 96>(p, plan, stream);
    case 128: return run<T, ASYM, 128>(p, plan, stream);
    case 192: return run<T, ASYM, 192>(p, plan, stream);
    case 224: return run<T, ASYM, 224>(p, plan, stream);
    case 256: return run<T, ASYM, 256>(p, plan, stream);
  }
  return Status::fail(Code::InvalidArgument, "w4a16 wgmma: 32, 48, 64, 96, 128, 192, 224 or 256 rows per CTA");
}


// Clusters of `size` CTAs that the GPU holds at once: an occupancy query,
// cached for the process per (tokens, CTAs per SM, size).
template <int kTok, int kCtas = 1>
int cluster_capacity(int size) {
  static std::atomic<int> cache[9];  // capacity + 1; 0: not asked yet
  if (const int v = cache[size].load(std::memory_order_relaxed)) return v - 1;
  // Every instance has this one's resources.
  auto kernel = wgmma_kernel<__half, false, kTok, 0, (kTok >= 192), false, kCtas, false>;
  const int n = allow_max_smem<wgmma_kernel<__half, false, kTok, 0, (kTok >= 192), false, kCtas, false>>().ok()
                    ? max_active_clusters(kernel, dim3(kThreads), Stage<kTok, false, false, kCtas>::kSmem, dim3(1, size, 1))
                    : 0;
  cache[size].store(n + 1, std::memory_order_relaxed);
  return n;
}
int cluster_capacity(int tokens, int ctas, int size) {
  return tokens == 32   ? (ctas == 2 ? cluster_capacity<32, 2>(size) : cluster_capacity<32>(size))
         : tokens == 48 ? (ctas == 2 ? cluster_capacity<48, 2>(size) : cluster_capacity<48>(size))
         : tokens == 64 ? (ctas == 2 ? cluster_capacity<64, 2>(size) : cluster_capacity<64>(size))
         : tokens == 96 ? cluster_capacity<96>(size)
         : tokens == 128 ? cluster_capacity<128>(size)
         : tokens == 192 ? cluster_capacity<192>(size)
         : tokens == 224 ? cluster_capacity<224>(size)
                         : cluster_capacity<256>(size);
}

// Stream-K (shares.h) where a CTA's share of all the tiles' K chunks,
// plus kStreamKCost chunks for parking and adding partials, is less than
// the plan's waves × chunks per CTA. The cost is measured, not modelled: a
// partial wave is not a wave at full cost (its CTAs have the memory system
// more to themselves). H200, harness, µs, whole tiles or splits / stream-K:
// 28672 × 8192 (224 column blocks, two waves) M = 64 79.1 / 72.5, M = 128
// 117.0 / 106.0, M = 256 190.6 / 178.8; 11008 × 4096 (86 blocks, one partial
// wave) M = 128 34.8 / 32.5, M = 256 53.7 / 51.2; but 4096² M = 128 (three
// K splits of 22 chunks against shares of 16) 20.8 / 25.2.
constexpr int kStreamKCost = 16;
void plan_stream_k(const GemmParams& p, GemmPlan& plan) {
  if (p.arch < 90 || p.sk_override == 2) return;
  const int64_t kc = p.k_pad / 64, tiles = plan.col_blocks * plan.row_blocks;
  const int64_t units = tiles * kc;
  const int64_t slots = (int64_t)plan.ctas_per_sm * std::max(p.sm_count, 1);
  const int64_t ctas = std::min<int64_t>(slots, kStreamKFlags);
  if (units < 8 * ctas || units > INT32_MAX) return;  // at least two stages a CTA; 32-bit shares
  const int64_t waves = (tiles * plan.split_k + slots - 1) / slots;
  const int64_t share = (units + ctas - 1) / ctas;
  if (p.sk_override != 1 && share + kStreamKCost >= waves * plan.chunks_per_split) return;
  plan.stream_k = true;
  plan.ctas = (int)ctas;
  plan.cluster = false;
  plan.split_k = 1, plan.chunks_per_split = (int)kc;
  plan.counters = 0;
  plan.workspace_bytes = (size_t)(ctas * sk_slot_floats(plan.rows_per_block)) * sizeof(float);
}

int64_t col_blocks_of(const GemmParams& p) { return (p.n_pad + kCols - 1) / kCols; }

GemmPlan plan_tokens(const GemmParams& p, int tokens) {
  GemmPlan plan{};
  plan.hopper = true;
  plan.col_blocks = col_blocks_of(p);
  plan.rows_per_block = tokens;
  plan.row_blocks = (p.m + plan.rows_per_block - 1) / plan.rows_per_block;
  const int64_t tiles = plan.col_blocks * plan.row_blocks;
  const int kc = (int)(p.k_pad / 64);
  // One CTA per SM (or two, below); K is split only to fill those slots. Split partials
  // cost M·N atomics each: at M ≥ 48 splitting 224 column blocks 7 ways
  // took 439 µs against 275 unsplit (28672 × 8192, M = 128), 11008 × 4096
  // 117.6 (split 3) against 75.0 (bench/RESULTS.md).
  // Two CTAs per SM at 32 to 64 tokens where one per SM would take more
  // than a wave (28672-wide weights: 224 column blocks; at 32 tokens, M =
  // 32, 66.8 / 63.0). H200, harness, µs, one /
  // two: 28672 × 8192 M = 64 79.5 / 77.7, M = 48 79.3 / 77.4, asymmetric
  // group 32 M = 40 91.8 / 86.1. Where a wave holds every column block the
  // split K it would take (3 instead of 2 at 8192², M = 64) lost: 26.6 / 33.5.
  plan.ctas_per_sm = plan.rows_per_block <= 64 && (p.ctas_override == 2 || (p.ctas_override == 0 && tiles > p.sm_count)) ? 2 : 1;
  const int64_t slots = (int64_t)plan.ctas_per_sm * std::max(p.sm_count, 1);
  const int max_split = std::max(1, std::min(16, kc / (2 * Stage<64, false>::kChunks)));
  int split = (int)std::max<int64_t>(1, std::min<int64_t>(max_split, slots / tiles));
  if (p.split_override > 0) split = std::min(p.split_override, kc);
  plan.chunks_per_split = (kc + split - 1) / split;
  plan.split_k = (kc + plan.chunks_per_split - 1) / plan.chunks_per_split;  // no empty splits
  // Split partials meet in the caller's zeroed scratch (left zeroed) where
  // it holds them (sums_fit_scratch), else only in clusters.
  const bool scratch = sums_fit_scratch(p.m, plan.row_blocks);
  plan.workspace_bytes = plan.split_k > 1 && scratch ? (size_t)gemm_sum_rows(p.m) * p.n * sizeof(float) : 0;
  plan.counters = plan.split_k > 1 && scratch ? plan.col_blocks : 0;
#ifdef WARPFORGE_SM90A
  // The split CTAs of a column block meet in a cluster when the GPU holds
  // every cluster at once (or the grid runs in waves anyway): the atomics
  // meet cost ~20 µs of 57 at M = 128, 8192² (probe: the wgmmas alone took
  // as long with 2 splits as with 1).
  // Where they do not all fit, fewer splits that fit are tried first.
  if (p.arch >= 90 && plan.split_k >= 2 && plan.split_k <= 8 && (p.split_override == 0 || !scratch)) {
    if (tiles * plan.split_k > slots) {
      plan.cluster = true;
    } else {
      for (int s = plan.split_k; s >= 2 && !plan.cluster; --s) {
        const int cps = (kc + s - 1) / s;
        if (tiles > cluster_capacity(plan.rows_per_block, plan.ctas_per_sm, s) || (kc + cps - 1) / cps != s) continue;
        plan.cluster = true, plan.split_k = s, plan.chunks_per_split = cps;
      }
    }
  }
#endif
  if (!scratch && !plan.cluster) plan.split_k = 1, plan.chunks_per_split = kc;
  plan_stream_k(p, plan);
  return plan;
}
}  // namespace

GemmPlan plan_wgmma(const GemmParams& p) {
  if (p.tok_override > 0) return plan_tokens(p, p.tok_override);
  const int tokens = tokens_for(p.m, col_blocks_of(p), p.sm_count, true);
  const GemmPlan plan = plan_tokens(p, tokens);
  // Half the tokens pay only where their two row blocks' K splits meet in
  // clusters (unsplit, 4096² M = 128 took 24.3 µs against 20.9): else the
  // count that covers M in one row block.
  const int whole = tokens_for(p.m, plan.col_blocks, p.sm_count, false);
  if (tokens != whole && !plan.cluster) return plan_tokens(p, whole);
  return plan;
}

Status launch_wgmma(const GemmParams& p, const GemmPlan& plan, cudaStream_t stream) {
  if (plan.row_blocks > 65535)  // grid.z
    return Status::fail(Code::UnsupportedShape, "w4a16: M too large for one launch (at most 65535 row blocks of 128 or 256 rows)");
  return by_kind(p, [&](auto k) { return run_tokens<typename decltype(k)::T, decltype(k)::kAsym>(p, plan, stream); });
}

}  // namespace wf::w4a16
