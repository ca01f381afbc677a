/**
 * gemmW4A16: out[..., N] = x[..., K] · dequant(W)ᵀ (+ bias), float32
 * accumulation, on the INT4 kernel (cuda/w4a16/gemm.cu), or at prefill
 * sizes on cuBLASLt over a temporary dequantized weight (dense.ts).
 */
import { native } from '../binding.js';
import { DTYPES } from '../dtype.js';
import { streamFor, type Stream } from '../stream.js';
import { empty, expectTensor, expectVector, outputTensor, Tensor } from '../tensor.js';
import { WarpforgeError } from '../errors.js';
import { expect, worded } from '../validate.js';
import type { NativeStream } from '../native.js';
import { denseGemm, denseWins, hasCublasLt } from './dense.js';
import { QuantizedWeight } from './qweight.js';
import { gemmScratchBytes, LAYOUT, LAYOUT_VERSION } from './layout.js';

// Split-K scratch (arrival counters and fp32 sums), zero between GEMMs and
// left zero by every GEMM. GEMMs on one stream run one after another, so all
// weights share the stream's scratch; different streams never share one.
const scratchByStream = new WeakMap<NativeStream, Tensor>();

function scratchFor(stream: NativeStream, device: number, bytes: number): Tensor {
  let s = scratchByStream.get(stream);
  if (!s || s.nbytes < bytes || s.device !== device) {
    s?.dispose();
    s = new Tensor([bytes], 'uint8', device, stream);
    native().fillBytes(s.buffer, 0, stream);
    scratchByStream.set(stream, s);
  }
  return s;
}

export interface GemmW4A16Options {
  out?: Tensor;
  /** [N], the activations' dtype. */
  bias?: Tensor;
  stream?: Stream;
  /**
   * Whether to dequantize the weight into a temporary dense [N, K] tensor
   * (N·K·2 bytes, freed in stream order) and multiply on cuBLASLt instead of
   * the INT4 kernel. 'auto' (default): where that measured faster (M ≥ 4096
   * rows on weights of at least 4096 × 4096) and cuBLASLt is loaded, and
   * the INT4 kernel when the temporary does not fit in memory. true: always
   * (ERR_LIBRARY_MISSING when cuBLASLt is missing). false: never.
   */
  dense?: boolean | 'auto';
}

export function gemmW4A16(x: Tensor, qw: QuantizedWeight, opts: GemmW4A16Options = {}): Tensor {
  expectTensor(x, 'gemmW4A16(x)');
  expect(qw instanceof QuantizedWeight, 'ERR_INVALID_ARGUMENT', 'gemmW4A16(qw)', 'a QuantizedWeight', qw);
  const parts = qw.parts; // ERR_DISPOSED when disposed
  expect(qw.layout === LAYOUT && qw.layoutVersion === LAYOUT_VERSION, 'ERR_INVALID_ARGUMENT', 'gemmW4A16(qw) layout',
    `${LAYOUT} v${LAYOUT_VERSION}`, worded(`${qw.layout} v${qw.layoutVersion}`));
  expect(x.dtype === qw.dtype, 'ERR_DTYPE', 'gemmW4A16(x)', `${qw.dtype} (the weight's scale dtype)`, x.dtype);
  expect(x.shape.length >= 1 && x.shape[x.shape.length - 1] === qw.k, 'ERR_SHAPE', 'gemmW4A16(x)', `[..., ${qw.k}] (K of the weight)`, worded(`shape [${x.shape.join(', ')}]`));
  expect(x.device === qw.device, 'ERR_DEVICE', 'gemmW4A16(x)', `a tensor on device ${qw.device}`, worded(`device ${x.device}`));
  const m = x.numel / qw.k;
  expect(m >= 1, 'ERR_SHAPE', 'gemmW4A16(x)', 'at least one row', worded(`shape [${x.shape.join(', ')}]`));
  const outShape = [...x.shape.slice(0, -1), qw.n];
  if (opts.bias !== undefined) expectVector(opts.bias, 'gemmW4A16() options.bias', qw.n, qw.dtype, qw.device);
  const stream = streamFor(opts.stream, qw.device, 'gemmW4A16() options.stream');
  const dense = opts.dense ?? 'auto';
  expect(dense === 'auto' || typeof dense === 'boolean', 'ERR_INVALID_ARGUMENT', 'gemmW4A16() options.dense', "true, false or 'auto'", opts.dense);
  if (dense === true && !hasCublasLt())
    throw new WarpforgeError('ERR_LIBRARY_MISSING', "gemmW4A16() options.dense: expected cuBLASLt to be loaded (see `warpforge doctor`) but it is missing; pass dense: false or 'auto'");
  const out = outputTensor(opts.out, 'gemmW4A16() options.out', outShape, qw.dtype, qw.device, { stream: opts.stream, anyRows: true });
  if ((dense === true || (dense === 'auto' && denseWins(m, qw))) && denseGemm(x, qw, out, m, opts.bias, opts.stream, dense === 'auto'))
    return out;
  const b = native().w4a16;
  const dtype = DTYPES[qw.dtype].id;
  let input = x;
  if (parts.perm) {
    // Act-order weights store K permuted; permute the activations to match.
    input = empty([m, qw.k], qw.dtype, { device: qw.device, stream: opts.stream });
    b.gather(x.buffer, parts.perm.buffer, input.buffer, m, qw.k, dtype, stream);
  }
  b.gemm(input.buffer, parts.packed.buffer, parts.scales.buffer, parts.zeros?.buffer ?? null, opts.bias?.buffer ?? null, out.buffer,
    m, qw.n, qw.k, qw.nPad, qw.kPad, qw.groupCode, dtype, scratchFor(stream, qw.device, gemmScratchBytes(Math.max(m, 256), qw.nPad)).buffer, stream);
  if (input !== x) input.dispose();
  return out;
}
