// Checks the invariants of the W4A16 GEMM planner (plan_gemm, host code in
// the kernel library) over a sweep of shapes, GPU sizes and archs, with no
// GPU: the cluster-capacity queries then answer 0, the worst case for them.
// Prints one line per violated invariant, then "checked N plans".
//   - the grid covers M, N and K, and no K split is empty;
//   - a plan that meets K splits through the scratch (split_k > 1, no
//     cluster) has M ≤ kWgmmaMaxRows and one row block on the Hopper kernel,
//     and its sums fit gemm_scratch_bytes(M, N_pad);
//   - the wgmma kernel gets 32, 48, 64, 96, 128, 192, 224 or 256 tokens per CTA;
//   - a stream-K plan is one wave within its flags, every share at least
//     two stages, a partial slot per CTA; and its walk (shares.h, the
//     kernel's own code) covers every (tile, K chunk) unit once, parks at
//     most one piece per CTA, walks a CTA's finishing piece last, and has
//     every parked piece added by exactly one finisher, the one holding
//     that tile's last chunk;
//   - the decode kernel's x (whole K range or ring) fits shared memory, and
//     its warp slices (2, 4 or 8) are only where M ≤ kDecodeFragRows and x
//     is whole, and on asymmetric weights only with K unsplit;
//   - a warp-shares plan (decode, M = 1) is one wave of whole rounds, and
//     every warp's share (shares.h, the kernel's own code) covers every
//     (tile, round) once and reaches at most two tiles;
//   - on a 132-SM Hopper GPU, given shapes get stream-K (or not) and given
//     M get the tokens per CTA that measured fastest, and M = 1 warp shares
//     (or not).
#include <cstdio>
#include <initializer_list>
#include <vector>

#include "../../cuda/w4a16/shares.h"
#include "../../cuda/w4a16/w4a16.h"

using namespace wf::w4a16;

// Walks every CTA's share as the kernel does; "" where the walk holds.
static const char* check_walk(int tiles, int kc, int g) {
  const int units = tiles * kc;
  std::vector<int> covered(units, 0), parked_tile(g, -1), taken(g, 0);
  for (int i = 0; i < g; ++i) {
    WorkRange w = WorkRange::rotated(share_start(i, units, g), share_start(i + 1, units, g), kc);
    bool finished_one = false;
    while (!w.done()) {
      const Segment s = w.next(kc, tiles, 0, 0);
      if (s.kc0 >= s.kc1 || s.kc1 > kc) return "empty or oversized piece";
      if (finished_one) return "a piece after the finishing one";
      for (int u = s.col * kc + s.kc0; u < s.col * kc + s.kc1; ++u) ++covered[u];
      if (s.kc1 < kc) {
        if (parked_tile[i] >= 0) return "two pieces parked by one CTA";
        parked_tile[i] = s.col;
      } else if (s.kc0 > 0) {
        finished_one = true;
        const int lo = first_parker(i, s.col * kc, units, g);
        if (lo == i) return "a finisher with no parker";
        for (int j = lo; j < i; ++j) {
          if (parked_tile[j] != s.col) return "a finisher adding another tile's piece";
          ++taken[j];
        }
      }
    }
  }
  for (int u = 0; u < units; ++u)
    if (covered[u] != 1) return "a unit not covered exactly once";
  for (int i = 0; i < g; ++i)
    if ((parked_tile[i] >= 0) != (taken[i] == 1) || taken[i] > 1) return "a parked piece not added exactly once";
  return "";
}

// Walks every warp's share of a warp-shares plan as the decode kernel does
// (warp_pieces): "" where every (tile, round) of every band is covered once
// and no share reaches a third tile.
static const char* check_pieces(long long tiles, long long kc, int cps, int bands, int warps) {
  std::vector<int> covered;
  for (int b = 0; b < bands; ++b) {
    const long long len = (kc < (long long)(b + 1) * cps ? kc : (long long)(b + 1) * cps) - (long long)b * cps;
    if (len <= 0 || len % 4) return "a band of no or partial rounds";
    const int rpt = (int)(len / 4);
    covered.assign(tiles * rpt, 0);
    for (int w = 0; w < warps; ++w) {
      const WarpPieces p = warp_pieces(w, warps, (int)tiles, rpt);
      const long long end = share_start(w + 1, (int)(tiles * rpt), warps);
      if (p.tile < tiles && end > (long long)(p.tile + 2) * rpt) return "a warp share past two tiles";
      if (p.tile >= tiles && p.u1 + p.u1b > 0) return "a share past the tiles";
      for (int u = p.u0; u < p.u1; ++u) ++covered[(long long)p.tile * rpt + u];
      for (int u = 0; u < p.u1b; ++u) ++covered[(long long)(p.tile + 1) * rpt + u];
    }
    for (int c : covered)
      if (c != 1) return "a (tile, round) not covered exactly once";
  }
  return "";
}

int main() {
  int bad = 0, checked = 0;
  auto fail = [&](const char* what, const GemmParams& p, const GemmPlan& g) {
    ++bad;
    std::printf("FAIL %s: M=%lld N=%lld K=%lld g=%d sms=%d arch=%d -> %s rows=%d row_blocks=%lld col_blocks=%lld split=%d cps=%d cluster=%d ring=%d sk=%d ws=%zu\n",
                what, (long long)p.m, (long long)p.n, (long long)p.k, p.group_size, p.sm_count, p.arch,
                g.hopper ? "wgmma" : g.decode ? "decode" : "tiled", g.rows_per_block, (long long)g.row_blocks,
                (long long)g.col_blocks, g.split_k, g.chunks_per_split, (int)g.cluster, (int)g.x_ring, (int)g.stream_k, g.workspace_bytes);
  };
  for (int arch : {80, 90})
    for (int sms : {78, 114, 132})
      for (long long n : {8LL, 200LL, 4096LL, 7680LL, 8960LL, 11008LL, 28672LL})
        for (long long k : {64LL, 328LL, 1024LL, 4096LL, 11008LL, 28672LL})
          for (int gs : {0, 32, 128})
            for (long long m : {1LL, 2LL, 4LL, 7LL, 8LL, 16LL, 17LL, 24LL, 33LL, 64LL, 100LL, 128LL, 129LL, 200LL, 256LL, 257LL, 384LL, 512LL, 1000LL}) {
              GemmParams p{};
              p.m = m, p.n = n, p.k = k;
              p.n_pad = padded_n(n);
              p.k_pad = padded_k(k, gs);
              p.group_size = gs;
              p.sm_count = sms;
              p.arch = arch;
              // M = 1 once more with warp shares wherever they can run.
              for (int force = 0; force < (m == 1 ? 2 : 1); ++force) {
              p.shares_override = force;
              const GemmPlan g = plan_gemm(p);
              ++checked;
              const long long kc = p.k_pad / 64;
              const int slices = g.warp_slices > 1 ? g.warp_slices : 1;
              const long long cols = g.hopper ? 128 : g.decode ? kDecodeBlockN / slices : kGemmBlockN;
              if (slices > 1 && (!g.decode || m > kDecodeFragRows || g.x_ring || slices > kDecodeMaxSlices || 8 % slices))
                fail("warp slices off M <= 8 with x whole", p, g);
              if (g.row_blocks * g.rows_per_block < m && !g.decode) fail("rows not covered", p, g);
              if (g.decode && g.rows_per_block < m) fail("decode rows not covered", p, g);
              if (g.col_blocks * cols < p.n_pad) fail("columns not covered", p, g);
              if ((long long)g.split_k * g.chunks_per_split < kc) fail("K not covered", p, g);
              if ((long long)(g.split_k - 1) * g.chunks_per_split >= kc) fail("empty K split", p, g);
              if (g.hopper && !wgmma_tokens(g.rows_per_block))
                fail("tokens per CTA", p, g);
              const bool scratch_meet = g.split_k > 1 && !g.cluster && (g.hopper || g.decode);
              if (scratch_meet && g.hopper && (m > kWgmmaMaxRows || g.row_blocks > 1)) fail("scratch meet past its rows", p, g);
              if (scratch_meet && g.workspace_bytes + (size_t)gemm_counter_bound(m, p.n_pad) * 4 > gemm_scratch_bytes(m, p.n_pad))
                fail("sums past the scratch", p, g);
              if (scratch_meet && g.counters > gemm_counter_bound(m, p.n_pad) - kStreamKFlags) fail("counters into the stream-K flags", p, g);
              // Stream-K: one wave of at most kStreamKFlags CTAs, each with at
              // least two stages of work, a partial slot each, no K split.
              if (g.stream_k) {
                const long long units = g.col_blocks * g.row_blocks * kc;
                if (!g.hopper) fail("stream-K off the wgmma kernel", p, g);
                if (g.ctas > kStreamKFlags || g.ctas > (long long)g.ctas_per_sm * sms) fail("stream-K past one wave or its flags", p, g);
                if (units < 8LL * g.ctas || units > 2147483647LL) fail("stream-K shares", p, g);
                if (g.cluster || g.split_k != 1) fail("stream-K with a K split", p, g);
                if (g.workspace_bytes != (size_t)g.ctas * g.rows_per_block / 2 * 256 * 4) fail("stream-K partial slots", p, g);
                if (const char* why = check_walk((int)(g.col_blocks * g.row_blocks), (int)kc, g.ctas); *why) fail(why, p, g);
              }
              // Decode: x for the CTA's K range fits its share of shared memory
              // (227 KB per SM, 4 CTAs per SM up to 16 rows, 2 above), or
              // streams through the 16-chunk ring, built for up to 32 rows.
              if (g.decode) {
                const long long share = 227 * 1024 / (g.rows_per_block <= 16 ? 4 : 2) - 1024;
                const long long chunks = g.x_ring ? 16 : g.chunks_per_split;
                if (g.x_ring && g.rows_per_block > 32) fail("x ring past 32 rows", p, g);
                // (p has no zero points: x whole is in fragment order at M = 1 and in warp slices.)
                if (m * decode_x_row((int)chunks, (m == 1 || slices > 1) && !g.x_ring) * 2 > share) fail("x past shared memory", p, g);
              }
              // Warp shares: M = 1, x whole, one wave of CTAs in K bands of
              // whole rounds, a counter per 16-column tile, one float of
              // sums per column; every warp's share walked.
              if (g.warp_shares) {
                const long long tiles = p.n_pad / 16;
                if (!g.decode || m != 1 || kc % 4 || g.chunks_per_split % 4 || slices > 1 || g.cluster || g.x_ring)
                  fail("warp shares off M = 1 in whole rounds with x whole", p, g);
                if (g.col_blocks * g.split_k > 4LL * sms) fail("warp shares past one wave", p, g);
                if (g.counters != tiles || g.counters > gemm_counter_bound(m, p.n_pad) - kStreamKFlags) fail("warp shares' counters", p, g);
                if (g.workspace_bytes != (size_t)n * 4 || (size_t)(gemm_counter_bound(m, p.n_pad) + n) * 4 > gemm_scratch_bytes(m, p.n_pad))
                  fail("warp shares' sums past the scratch", p, g);
                if (const char* why = check_pieces(tiles, kc, g.chunks_per_split, g.split_k, (int)g.col_blocks * 8); *why) fail(why, p, g);
              }
              }
            }
  // Walks of shapes the planner does not give (shares from a tile's sixth
  // to several tiles, remainders of every size).
  for (int tiles : {1, 2, 3, 7, 86, 131, 224, 300})
    for (int kc : {1, 2, 5, 16, 63, 128})
      for (int g : {1, 2, 3, 66, 132, 264})
        if (tiles * kc >= g) {
          ++checked;
          if (const char* why = check_walk(tiles, kc, g); *why) {
            ++bad;
            std::printf("FAIL %s: tiles=%d kc=%d ctas=%d\n", why, tiles, kc, g);
          }
        }
  // An M × N × K GEMM with groups of gs on a 132-SM Hopper GPU.
  auto hopper = [](long long m, long long n, long long k, int gs) {
    GemmParams p{};
    p.m = m, p.n = n, p.k = k;
    p.n_pad = padded_n(n);
    p.k_pad = padded_k(k, gs);
    p.group_size = gs;
    p.sm_count = 132;
    p.arch = 90;
    return p;
  };
  // The GPU tests' stream-K shapes (test/w4a16.test.ts) get stream-K on a
  // 132-SM Hopper GPU, and 4096² at M = 128 (where it measured slower) not.
  struct Pick {
    long long m, n, k;
    int gs;
    bool stream_k;
  };
  for (const Pick& c : {Pick{96, 11008, 4096, 128, true}, Pick{100, 11008, 4096, 128, true}, Pick{128, 11008, 4096, 128, true}, Pick{300, 3000, 2560, 32, true},
                        Pick{64, 17408, 2560, 64, true}, Pick{49, 17408, 2560, 64, true}, Pick{32, 17408, 2560, 64, true},
                        Pick{17, 17408, 2560, 64, true}, Pick{128, 28672, 8192, 128, true},
                        Pick{128, 4096, 4096, 128, false}, Pick{64, 8192, 8192, 128, false}}) {
    const GemmParams p = hopper(c.m, c.n, c.k, c.gs);
    const GemmPlan g = plan_gemm(p);
    ++checked;
    if (g.stream_k != c.stream_k) fail(c.stream_k ? "expected stream-K" : "unexpected stream-K", p, g);
  }
  // Tokens per CTA on a 132-SM Hopper GPU: the decode kernel up to M = 16
  // (at 9-16 rows the wgmma kernel where its plan is whole tiles in one
  // wave: 14336 × 4096), then the smallest wgmma N that covers M up to 192 (measured faster than
  // the next power of two, bench/RESULTS.md), 224 at M = 193-224 and 256 at
  // M = 256 on wide weights.
  // N ≤ 4096 at M = 65-128: two row blocks of half the tokens where their K
  // splits meet in clusters, else (as here: no GPU, no clusters) one row
  // block of the full count.
  struct Tokens {
    long long m, n, k;
    int tokens;
  };
  for (const Tokens& c : {Tokens{16, 28672, 8192, 0}, Tokens{8, 14336, 4096, 0}, Tokens{9, 14336, 4096, 32}, Tokens{16, 14336, 4096, 32},
                          Tokens{16, 20480, 5120, 0}, Tokens{16, 14336, 8192, 0}, Tokens{16, 8192, 8192, 0}, Tokens{17, 28672, 8192, 32}, Tokens{32, 28672, 8192, 32}, Tokens{40, 28672, 8192, 48},
                          Tokens{64, 28672, 8192, 64}, Tokens{65, 28672, 8192, 96}, Tokens{128, 28672, 8192, 128}, Tokens{150, 28672, 8192, 192},
                          Tokens{192, 28672, 8192, 192}, Tokens{200, 28672, 8192, 224}, Tokens{224, 8192, 8192, 224},
                          Tokens{225, 28672, 8192, 256}, Tokens{256, 28672, 8192, 256}, Tokens{96, 4096, 4096, 48}, Tokens{128, 4096, 4096, 64},
                          Tokens{100, 4096, 11008, 64}, Tokens{128, 8192, 8192, 128}, Tokens{96, 5120, 5120, 96}, Tokens{64, 4096, 4096, 64}}) {
    const GemmParams p = hopper(c.m, c.n, c.k, 128);
    const GemmPlan g = plan_gemm(p);
    ++checked;
    const int want = c.tokens == 0 || c.tokens >= c.m || g.cluster ? c.tokens : c.m <= 96 ? 96 : 128;
    if (want == 0 ? !g.decode : (!g.hopper || g.rows_per_block != want)) fail("tokens per CTA", p, g);
  }
  // Group 32 at 9-16 rows: the wgmma kernel (32 tokens) on every shape;
  // group 64 where its plan does not split K (stream-K, whole tiles); at M
  // ≤ 8, and at group 64 where it would split K, the decode kernel.
  struct Kernel {
    long long m, n, k;
    int gs;
    bool wgmma;
  };
  for (const Kernel& c : {Kernel{9, 28672, 8192, 32, true}, Kernel{16, 28672, 8192, 32, true}, Kernel{12, 8192, 28672, 32, true},
                          Kernel{16, 8192, 8192, 32, true}, Kernel{16, 4096, 11008, 32, true}, Kernel{13, 28672, 8264, 32, true},
                          Kernel{8, 28672, 8192, 32, false}, Kernel{16, 8192, 28672, 64, false}, Kernel{16, 28672, 8192, 64, true},
                          Kernel{12, 20480, 5120, 64, true}, Kernel{16, 27648, 5120, 64, true}, Kernel{16, 8192, 8192, 64, false},
                          Kernel{16, 14336, 8192, 128, false}}) {
    const GemmParams p = hopper(c.m, c.n, c.k, c.gs);
    const GemmPlan g = plan_gemm(p);
    ++checked;
    if (c.wgmma ? !g.hopper || g.rows_per_block != 32 : !g.decode) fail(c.wgmma ? "expected the wgmma kernel" : "expected the decode kernel", p, g);
  }
  // Decode warp slices on a 132-SM Hopper GPU, M ≤ 8: where x (M × K) is at
  // most 24 KB, K unsplit (the GPU test's shapes and 4096² at M = 2-3);
  // not where it measured slower (M = 2 8192², M = 8 4096², M = 4
  // 4096² with K split). M = 1: 8192² in 8 slices.
  struct Slices {
    long long m, n, k;
    int gs, slices;
  };
  for (const Slices& c : {Slices{2, 4096, 2048, 128, 8}, Slices{3, 4096, 2048, 128, 8}, Slices{6, 4096, 2048, 128, 8}, Slices{5, 3000, 1000, 0, 8},
                          Slices{2, 1000, 4104, 32, 8}, Slices{2, 4096, 4096, 128, 8}, Slices{3, 4096, 4096, 128, 8}, Slices{2, 11008, 4096, 128, 4},
                          Slices{2, 8192, 8192, 128, 1}, Slices{8, 4096, 4096, 128, 1}, Slices{4, 4096, 4096, 128, 1}, Slices{1, 8192, 8192, 128, 8}}) {
    const GemmParams p = hopper(c.m, c.n, c.k, c.gs);
    const GemmPlan g = plan_gemm(p);
    ++checked;
    if (!g.decode || (g.warp_slices > 1 ? g.warp_slices : 1) != c.slices || (c.slices > 1 && c.m > 1 && g.split_k != 1))
      fail("decode warp slices", p, g);
  }
  // Asymmetric weights get warp slices only with K unsplit, and nothing gets
  // them with the x ring (WF_RING=1), at any M ≤ 8.
  uint16_t zeros = 0;
  for (long long m : {1LL, 2LL, 3LL, 8LL})
    for (long long n : {200LL, 4096LL, 11008LL})
      for (long long k : {4096LL, 11008LL})
        for (int ring : {0, 1}) {
          GemmParams p = hopper(m, n, k, 128);
          if (ring) p.ring_override = 1;
          else p.zeros = &zeros;
          const GemmPlan g = plan_gemm(p);
          ++checked;
          if (g.warp_slices > 1 && (ring || g.split_k != 1))
            fail(ring ? "warp slices with the x ring" : "asymmetric warp slices with a K split", p, g);
        }
  // Asymmetric 4096² at M = 1-2 in 8 slices; 4096 × 11008 (more K than a CTA
  // takes whole) and group 32 in none.
  for (const Slices& c : {Slices{1, 4096, 4096, 128, 8}, Slices{2, 4096, 4096, 128, 8}, Slices{1, 4096, 11008, 128, 1}, Slices{1, 4096, 4096, 32, 1}}) {
    GemmParams p = hopper(c.m, c.n, c.k, c.gs);
    p.zeros = &zeros;
    const GemmPlan g = plan_gemm(p);
    ++checked;
    if (!g.decode || (g.warp_slices > 1 ? g.warp_slices : 1) != c.slices) fail("asymmetric decode warp slices", p, g);
  }
  // M = 1 takes warp shares where whole tiles fill at most 55 % of the CTA
  // slots with long runs (the GPU tests' 33800 × 8448), and not where they
  // fill more or the runs are short.
  struct Shares {
    long long n, k;
    bool shares;
  };
  for (const Shares& c : {Shares{34816, 8192, true}, Shares{33800, 8448, true}, Shares{36864, 8192, true}, Shares{28672, 8192, false},
                          Shares{57344, 8192, false}, Shares{34816, 4096, false}, Shares{8192, 8192, false}, Shares{8192, 28672, false}}) {
    const GemmParams p = hopper(1, c.n, c.k, 128);
    const GemmPlan g = plan_gemm(p);
    ++checked;
    if (g.warp_shares != c.shares) fail(c.shares ? "M = 1 past half a wave without warp shares" : "warp shares where whole tiles fill the GPU", p, g);
  }
  std::printf("checked %d plans, %d failed\n", checked, bad);
  return bad ? 1 : 0;
}
