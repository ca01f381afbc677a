// The per-warp half of an attention forward that both kernels share: mask
// and online softmax over a tile of scores, and the final write of O and
// the log-sum-exp. Scores and O use the m16n8 accumulator layout (mma.sync
// m16n8k16, and wgmma's, which repeats it per warp): a thread holds rows
// lane/4 and lane/4 + 8 of each m16 tile, columns 8·t + 2·(lane % 4) + {0, 1};
// the 4 threads of a quad hold the rest of those rows.
#pragma once
#include <climits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include "fwd_block.cuh"

namespace wf::attention::detail {

__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

template <typename T>
__device__ __forceinline__ uint32_t pack2(float a, float b);
template <>
__device__ __forceinline__ uint32_t pack2<__half>(float a, float b) {
  __half2 h = __floats2half2_rn(a, b);
  return *reinterpret_cast<uint32_t*>(&h);
}
template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float a, float b) {
  __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<uint32_t*>(&h);
}

// Running max and sum of the kMTiles·16 rows a warp owns from row warp_row.
template <int kMTiles, int kNTiles>
struct OnlineSoftmax {
  float row_max[kMTiles][2], row_sum[kMTiles][2];
  float sl2, cap_in, softcap;
  int warp_row;

  __device__ __forceinline__ OnlineSoftmax(const FwdParams& p, int warp_row_) : warp_row(warp_row_) {
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt) {
      row_max[mt][0] = row_max[mt][1] = -CUDART_INF_F;
      row_sum[mt][0] = row_sum[mt][1] = 0.f;
    }
    // With a softcap the exponent works on capped scores; otherwise the
    // scale is folded into the exp2 argument (one FFMA per score).
    softcap = p.softcap;
    sl2 = softcap > 0.f ? 1.4426950408889634f : p.scale * 1.4426950408889634f;
    cap_in = softcap > 0.f ? p.scale / softcap : 0.f;
  }

  // Masks tile nb of scores s, turns it into P = exp2(s·sl2 - max) and
  // updates the running rows; corr is what O must be multiplied by. Returns
  // whether any row in the warp moved its max (once maxima settle, most
  // tiles of a long row, the correction is exactly 1 and O is left alone).
  __device__ __forceinline__ bool update(const FwdParams& p, const Block& blk, int nb, int block_n,
                                         float (&s)[kMTiles][kNTiles][4], float (&corr)[kMTiles][2]) {
    const int lane = threadIdx.x & 31;
    if (softcap > 0.f) {
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
          for (int i = 0; i < 4; ++i) s[mt][nt][i] = softcap * tanhf(s[mt][nt][i] * cap_in);
    }
    if (blk.needs_mask(p, nb, block_n)) {
      const int n0 = nb * block_n;
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int hf = 0; hf < 2; ++hf) {
          const int qp = blk.qpos(warp_row + mt * 16 + (lane >> 2) + 8 * hf);
          // Bounds relative to this thread's first column, so each score is
          // compared with a compile-time offset nt·8 + j.
          const int col0 = n0 + 2 * (lane & 3);
          int hi = blk.sk;
          if (p.window_right >= 0) hi = min(hi, qp + blk.diag + p.window_right + 1);
          const int hi_rel = hi - col0;
          const int lo_rel = p.window_left >= 0 ? qp + blk.diag - p.window_left - col0 : INT_MIN;
#pragma unroll
          for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
            for (int j = 0; j < 2; ++j)
              if (nt * 8 + j >= hi_rel || nt * 8 + j < lo_rel) s[mt][nt][2 * hf + j] = -CUDART_INF_F;
        }
    }
    bool moved = false;
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        float mx = row_max[mt][hf];
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) mx = fmaxf(mx, fmaxf(s[mt][nt][2 * hf], s[mt][nt][2 * hf + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // A row with nothing visible yet keeps max -inf; subtract 0 then so
        // exp2 gives 0, not NaN.
        const float m_scaled = mx == -CUDART_INF_F ? 0.f : mx * sl2;
        corr[mt][hf] = exp2_approx(row_max[mt][hf] * sl2 - m_scaled);
        moved |= corr[mt][hf] != 1.f;
        row_max[mt][hf] = mx;
        row_sum[mt][hf] *= corr[mt][hf];
        float sum = 0.f;
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            const float e = exp2_approx(fmaf(s[mt][nt][2 * hf + j], sl2, -m_scaled));
            s[mt][nt][2 * hf + j] = e;
            sum += e;
          }
        row_sum[mt][hf] += sum;
      }
    return __any_sync(0xffffffffu, moved);
  }

  template <int kDTiles>
  __device__ __forceinline__ static void rescale(float (&o)[kMTiles][kDTiles][4], const float (&corr)[kMTiles][2]) {
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int dt = 0; dt < kDTiles; ++dt) {
        o[mt][dt][0] *= corr[mt][0];
        o[mt][dt][1] *= corr[mt][0];
        o[mt][dt][2] *= corr[mt][1];
        o[mt][dt][3] *= corr[mt][1];
      }
  }

  // P's accumulator layout for keys kk·16..+15 is the m16k16 A fragment.
  template <typename T>
  __device__ __forceinline__ static void p_fragment(const float (&s)[kMTiles][kNTiles][4], int mt, int kk, uint32_t (&a)[4]) {
    a[0] = pack2<T>(s[mt][2 * kk][0], s[mt][2 * kk][1]);
    a[1] = pack2<T>(s[mt][2 * kk][2], s[mt][2 * kk][3]);
    a[2] = pack2<T>(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
    a[3] = pack2<T>(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
  }

  // Writes this warp's rows of O / sum (or, split-KV, the fp32 partials)
  // and the natural-log LSE.
  template <typename T, int kDTiles>
  __device__ __forceinline__ void store(const FwdParams& p, const Block& blk, const float (&o)[kMTiles][kDTiles][4]) const {
    const int lane = threadIdx.x & 31;
    const bool split_out = p.num_splits > 1;
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        float sum = row_sum[mt][hf];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        const int r = warp_row + mt * 16 + (lane >> 2) + 8 * hf;
        if (blk.r_base + r >= blk.rows) continue;
        const int qp = blk.qpos(r), h = blk.qhead(r);
        // A row that saw no key (window, causal with Sq > Sk, empty cache)
        // outputs zeros and lse = -inf.
        const float inv = sum > 0.f ? 1.f / sum : 0.f;
        const float lse = sum > 0.f ? row_max[mt][hf] * sl2 * 0.6931471805599453f + __logf(sum) : -CUDART_INF_F;
        if (split_out) {
          const int64_t row = (((int64_t)blk.split * p.batch + blk.b) * p.heads + h) * p.seqlen_q + qp;
          float* out = p.o_accum + row * p.d;
#pragma unroll
          for (int dt = 0; dt < kDTiles; ++dt) {
            const int col = dt * 8 + 2 * (lane & 3);
            if (col < p.d) *reinterpret_cast<float2*>(out + col) = make_float2(o[mt][dt][2 * hf] * inv, o[mt][dt][2 * hf + 1] * inv);
          }
          if ((lane & 3) == 0) p.lse_accum[row] = lse;
        } else {
          T* out = static_cast<T*>(p.out) + blk.o0 + (int64_t)qp * p.o_row + (int64_t)h * p.o_head;
#pragma unroll
          for (int dt = 0; dt < kDTiles; ++dt) {
            const int col = dt * 8 + 2 * (lane & 3);
            if (col < p.d) *reinterpret_cast<uint32_t*>(out + col) = pack2<T>(o[mt][dt][2 * hf] * inv, o[mt][dt][2 * hf + 1] * inv);
          }
          if (p.lse && (lane & 3) == 0) {
            // Varlen rows are global ([H, total_q]); fixed ones per batch.
            const int64_t lrow = p.cu_seqlens_q ? blk.q_first + qp : (int64_t)blk.b * p.lse_batch + qp;
            p.lse[(int64_t)h * p.lse_head + lrow] = lse;
          }
        }
      }
  }
};

}  // namespace wf::attention::detail
