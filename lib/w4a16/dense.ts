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
// dequantize + cuBLASLt (fp16, group 128; bench/RESULTS.md, session 7),
// M = 4096: 28672 × 8192 3066 / 2866, 8192 × 28672 3032 / 2840, 8192² 765
// / 744, 4096 × 11008 511 / 493, but 11008 × 4096 522 / 528 and 4096² 188
// / 190; at M = 2048 the INT4 kernel wins everywhere (28672 × 8192 1335 /
// 1481, 8192² 358 / 394). The dequantize pass costs about N·K·2.5 bytes at
// copy speed, the GEMM grows with M.
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
