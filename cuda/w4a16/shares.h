// How the wgmma kernel's work is cut across CTAs (host and device code: the
// planner check simulates the walk; the partials' fixup is stream_k.cuh),
// and the decode kernel's across warps (warp shares, at the end).
// Stream-K: all (output tile, 64-wide K chunk) units of a GEMM, tile-major,
// cut into one contiguous share per CTA of a single wave, so that no SM
// idles while a partial second wave runs (224 column blocks on 132 SMs take
// two waves of whole tiles but 1.7 tiles of work per CTA). A share starts and ends anywhere in a tile; a tile whose
// K range spans several CTAs is finished by the one holding its last chunk,
// which adds the partials the earlier CTAs parked in their slots.
//
// Why the last: the finisher waits only on CTAs of a lower index, which the
// GPU places first, so no wait depends on a CTA still waiting for an SM
// (kernels on other streams, MPS, the kernel before under programmatic
// dependent launch may hold some). A share's piece of a tile it finishes is
// its first one; it is walked last (WorkRange), so the finisher reaches the
// tile when the earlier CTAs park their pieces of it, at the end of their
// shares. Only a share's last piece (or its only one) is parked: one slot
// per CTA.
#pragma once
#include "layout.h"

namespace wf::w4a16 {

// A piece of a share: K chunks [kc0, kc1) of the tile (row block rb, column block col).
struct Segment {
  int col, rb, kc0, kc1;
};

// CTA i of g: units [start(i), start(i + 1)) of U, the remainder spread
// over the first CTAs. 32-bit (the planner keeps U below 2³¹): a 64-bit
// division is a call, and the registers live across it (the accumulators)
// would spill.
WF_HD int share_start(int i, int units, int g) { return i * (units / g) + (i < units % g ? i : units % g); }

// The finisher i of a tile whose chunks start at unit tile_start adds the
// pieces parked by CTAs i - 1 down to this one (none: i): those whose shares
// reach into the tile.
WF_HD int first_parker(int i, int tile_start, int units, int g) {
  int j = i;
  while (j > 0 && share_start(j, units, g) > tile_start) --j;
  return j;
}

// Walks a share tile by tile: units [pos, end), then the units [tail,
// tail_end) of the tile the share starts in (stream-K: the piece this CTA
// finishes, walked last; empty where the share starts at a tile's chunk 0).
// Tile-major: kc units a tile, `cols` column blocks a row block, from (col0,
// rb0). Without stream-K one tile's K split: pos, end within [0, kc), cols
// = 1. The mapping is passed to next() rather than held: the producer
// thread has 56 registers.
struct WorkRange {
  int pos, end, tail, tail_end;
  // Units [begin, end_) with the piece before the first tile boundary last.
  WF_HD static WorkRange rotated(int begin, int end_, int kc) {
    const int boundary = (begin + kc - 1) / kc * kc;
    const int b = boundary < end_ ? boundary : end_;
    return WorkRange{b, end_, begin, b};
  }
  WF_HD bool done() const { return pos >= end && tail >= tail_end; }
  WF_HD Segment next(int kc, int cols, int col0, int rb0) {
    const bool last = pos >= end;
    int& at = last ? tail : pos;
    const int stop = last ? tail_end : end;
    const int tile = at / kc;
    Segment s;
    s.col = col0 + tile % cols;
    s.rb = rb0 + tile / cols;
    s.kc0 = at - tile * kc;
    s.kc1 = stop - at < kc - s.kc0 ? s.kc0 + (stop - at) : kc;
    at += s.kc1 - s.kc0;
    return s;
  }
};

// Warp shares of the decode kernel (gemm_decode.cu): warp w of W takes the
// units [start(w), start(w + 1)) of `tiles` tiles of `per_tile` units each,
// tile-major; with at most W tiles that is two pieces at most: units [u0,
// u1) of tile `tile`, then [0, u1b) of tile + 1 (u1b = 0: none). tile =
// `tiles` where the share is empty.
struct WarpPieces {
  int tile, u0, u1, u1b;
};
WF_HD WarpPieces warp_pieces(int w, int warps, int tiles, int per_tile) {
  const int units = tiles * per_tile;
  const int a = share_start(w, units, warps), b = share_start(w + 1, units, warps);
  WarpPieces r;
  r.tile = a / per_tile;
  r.u0 = a - r.tile * per_tile;
  r.u1 = b - r.tile * per_tile < per_tile ? b - r.tile * per_tile : per_tile;
  r.u1b = b - (r.tile + 1) * per_tile > 0 ? b - (r.tile + 1) * per_tile : 0;
  return r;
}

// A stage: up to kChunks K chunks of a segment, [kc, kc + chunks).
struct StageRef {
  int kc, chunks;
};
template <int kChunks>
struct StageCursor {
  int kc, kc_end;
  WF_HD explicit StageCursor(const Segment& s) : kc(s.kc0), kc_end(s.kc1) {}
  WF_HD StageRef next() {
    StageRef r;
    r.kc = kc;
    r.chunks = kc_end - kc < kChunks ? kc_end - kc : kChunks;
    kc += r.chunks;
    return r;
  }
};
template <int kChunks>
WF_HD int stages_of(const Segment& s) {
  return (s.kc1 - s.kc0 + kChunks - 1) / kChunks;
}

}  // namespace wf::w4a16
