/**
 * gemmW4A16 at prefill sizes: the weight dequantized into a temporary dense
 * [N, K] tensor and multiplied on cuBLASLt (options.dense).
 */
import { native } from '../binding.js';
import { DTYPES } from '../dtype.js';
import { WarpforgeError } from '../errors.js';
import { streamFor, type Stream } from '../stream.js';
import type { Tensor } from '../tensor.js';
import type { QuantizedWeight } from './qweight.js';

// Dequantize + cuBLASLt from this many rows on: H200, µs, INT4 kernel /
// dequantize + cuBLASLt (fp16, group 128), M = 4096: 28672 × 8192 3140 /
// 2802, 8192 × 28672 3031 / 2950, 8192² 795 / 755, 11008 × 4096 612 / 537,
// 4096 × 11008 520 / 504, 4096² 206 / 192; at M = 2048 it won on 28672 ×
// 8192 only (1497 / 1403) and lost on 8192² (379 / 405). The dequantize
// pass costs about N·K·2.5 bytes at copy speed, the GEMM grows with M.
const DENSE_MIN_ROWS = 4096;
const DENSE_MIN_WEIGHT = 4096 * 4096;

let cublasLtLoaded: boolean | undefined;
export function hasCublasLt(): boolean {
  cublasLtLoaded ??= native().cublasLtInfo().loaded;
  return cublasLtLoaded;
}

export function denseWins(m: number, qw: QuantizedWeight): boolean {
  return m >= DENSE_MIN_ROWS && qw.n * qw.k >= DENSE_MIN_WEIGHT && hasCublasLt();
}

/**
 * out = x · dequant(W)ᵀ (+ bias) on cuBLASLt. Returns false, having written
 * nothing, when `optional` and the temporary weight does not fit.
 */
export function denseGemm(x: Tensor, qw: QuantizedWeight, out: Tensor, m: number, bias: Tensor | undefined,
  stream: Stream | undefined, optional: boolean): boolean {
  let w: Tensor;
  try {
    w = qw.dequantize({ stream });
  } catch (e) {
    if (optional && e instanceof WarpforgeError && e.code === 'ERR_OUT_OF_MEMORY') return false;
    throw e;
  }
  try {
    // Flat buffers: x and out as [M, K] and [M, N] whatever their leading dimensions.
    native().matmul(x.buffer, w.buffer, out.buffer, m, qw.n, qw.k, true, DTYPES[qw.dtype].id,
      streamFor(stream, qw.device), bias?.buffer ?? null, 1, 1);
  } finally {
    w.dispose();
  }
  return true;
}
