/**
 * The unfused path the fused kernel is measured against: S = scale·q·kᵀ
 * (cuBLASLt, batched over batch × heads) → row softmax (in place) → S·v
 * (cuBLASLt). It writes the whole [B, H, Sq, Sk] score matrix, so memory
 * grows with Sq·Sk. Layout [B, H, S, D]; H equal for q, k and v.
 */
import { native } from '../binding.js';
import { DTYPES } from '../dtype.js';
import type { Stream } from '../stream.js';
import { empty, type Tensor } from '../tensor.js';
import { expect, worded } from '../validate.js';
import { expectHeadDim, expectQkv, streamOf } from './common.js';

export interface UnfusedOptions {
  causal?: boolean;
  scale?: number;
  /** [B, H, Sq, Sk] of the inputs' dtype, reused across calls (allocated when absent). */
  scores?: Tensor;
  out?: Tensor;
  stream?: Stream;
}

export function attentionUnfused(q: Tensor, k: Tensor, v: Tensor, opts: UnfusedOptions = {}): Tensor {
  const what = 'attentionUnfused';
  expectQkv(q, k, v, 4, what);
  const [b, h, sq, d] = q.shape;
  const [bk, hk, sk] = k.shape;
  expect(bk === b && hk === h && v.shape.every((x, i) => x === k.shape[i]), 'ERR_SHAPE', `${what}(k, v)`, `[${b}, ${h}, Sk, ${d}] both`,
    worded(`k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]`));
  expectHeadDim(d, k.shape[3], v.shape[3], what);
  const stream = streamOf(opts, q.device, what);
  const dtype = DTYPES[q.dtype].id;
  const scores = opts.scores ?? empty([b, h, sq, sk], q.dtype, { device: q.device, stream: opts.stream });
  expect(scores.numel === b * h * sq * sk && scores.dtype === q.dtype, 'ERR_SHAPE', `${what} options.scores`,
    `[${b}, ${h}, ${sq}, ${sk}] ${q.dtype}`, worded(`[${scores.shape.join(', ')}] ${scores.dtype}`));
  if (opts.out) expect(opts.out.dtype === q.dtype && opts.out.shape.every((x, i) => x === q.shape[i]) && opts.out.shape.length === 4, 'ERR_SHAPE',
    `${what} options.out`, `[${q.shape.join(', ')}] ${q.dtype}`, worded(`[${opts.out.shape.join(', ')}] ${opts.out.dtype}`));
  const out = opts.out ?? empty([...q.shape], q.dtype, { device: q.device, stream: opts.stream });
  const batch = b * h;
  native().matmul(q.buffer, k.buffer, scores.buffer, sq, sk, d, true, dtype, stream, null, batch, opts.scale ?? 1 / Math.sqrt(d));
  native().attention.softmaxRows(scores.buffer, batch * sq, sq, sk, !!opts.causal, dtype, stream);
  native().matmul(scores.buffer, v.buffer, out.buffer, sq, d, sk, false, dtype, stream, null, batch, 1);
  if (!opts.scores) scores.dispose();
  return out;
}
