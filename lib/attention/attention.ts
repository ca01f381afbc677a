/**
 * attention() and attentionVarlen(): fused softmax(q·kᵀ·scale + mask)·v on
 * the tensor cores (cuda/attention/), never materialising the score matrix.
 */
import type { Tensor } from '../tensor.js';
import { expect, worded } from '../validate.js';
import {
  type AttentionResult, expectHeadDim, expectHeads, expectQkv, forward, lseFor, type MaskOptions, offsetsFor, outputFor,
  parseMask, strides3, strides4, streamOf,
} from './common.js';

export interface AttentionOptions extends MaskOptions {
  /**
   * 'bshd' (default): q [B, Sq, H, D], k/v [B, Sk, Hkv, D], as FlashAttention.
   * 'bhsd': q [B, H, Sq, D], k/v [B, Hkv, Sk, D], as PyTorch's SDPA; read in
   * place through strides (no transpose). The output has q's layout.
   */
  layout?: 'bshd' | 'bhsd';
}

export function attention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions & { returnLse?: false }): Tensor;
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & { returnLse: true }): AttentionResult;
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor | AttentionResult {
  const what = 'attention';
  expectQkv(q, k, v, 4, what);
  const layout = opts.layout ?? 'bshd';
  expect(layout === 'bshd' || layout === 'bhsd', 'ERR_INVALID_ARGUMENT', `${what} options.layout`, "'bshd' or 'bhsd'", opts.layout);
  const dims = (t: Tensor) => (layout === 'bshd' ? t.shape : [t.shape[0], t.shape[2], t.shape[1], t.shape[3]]);
  const [b, sq, h, d] = dims(q);
  const [bk, sk, hkv, dk] = dims(k);
  const [bv, skv, hv, dv] = dims(v);
  expect(bk === b && bv === b, 'ERR_SHAPE', `${what}(k, v) batch`, `${b} (the batch of q)`, worded(`k ${bk}, v ${bv}`));
  expect(skv === sk && hv === hkv, 'ERR_SHAPE', `${what}(v)`, `the shape of k [${k.shape.join(', ')}]`, worded(`shape [${v.shape.join(', ')}]`));
  expectHeads(h, hkv, what);
  expectHeadDim(d, dk, dv, what);
  const mask = parseMask(opts, d, what);
  const stream = streamOf(opts, q.device, what);
  const out = outputFor(opts, [...q.shape], q, what);
  const lse = lseFor(opts, [b, h, sq], q.device);
  forward({
    q, k, v, out, lse, qStrides: strides4(q.shape, layout), kStrides: strides4(k.shape, layout), vStrides: strides4(v.shape, layout),
    oStrides: strides4(q.shape, layout), batch: b, heads: h, kvHeads: hkv, d, seqlenQ: sq, seqlenK: sk, mask, decode: false, stream,
  });
  return lse ? { out, lse } : out;
}

export interface AttentionVarlenOptions extends MaskOptions {
  /** [B + 1] row offsets of each sequence in q: an Int32Array/number[] (checked here) or an int32 tensor (clamped on the GPU). */
  cuSeqlensQ: Int32Array | number[] | Tensor;
  cuSeqlensK: Int32Array | number[] | Tensor;
  /**
   * The longest sequence; computed from host offsets when omitted, required
   * with tensor offsets (whose rows past maxSeqlenQ, or keys past maxSeqlenK,
   * are then not computed: the GPU cannot report it without a sync).
   */
  maxSeqlenQ?: number;
  maxSeqlenK?: number;
}

function maxLen(host: Int32Array | undefined, given: number | undefined, what: string): number {
  let computed: number | undefined;
  if (host) {
    computed = 0;
    for (let i = 1; i < host.length; i++) computed = Math.max(computed, host[i] - host[i - 1]);
  }
  const m = given ?? computed;
  expect(m !== undefined && Number.isSafeInteger(m) && m >= 0, 'ERR_INVALID_ARGUMENT', what, 'a non-negative integer (required with tensor offsets)', given);
  expect(computed === undefined || m >= computed, 'ERR_INVALID_ARGUMENT', what, `at least the longest sequence (${computed})`, m);
  return m;
}

/**
 * Packed variable-length batch: q [totalQ, H, D], k/v [totalK, Hkv, D];
 * sequence i is rows cuSeqlens[i] .. cuSeqlens[i+1]. Returns [totalQ, H, D]
 * (and lse [H, totalQ]). Masks apply per sequence.
 */
export function attentionVarlen(q: Tensor, k: Tensor, v: Tensor, opts: AttentionVarlenOptions & { returnLse?: false }): Tensor;
export function attentionVarlen(q: Tensor, k: Tensor, v: Tensor, opts: AttentionVarlenOptions & { returnLse: true }): AttentionResult;
export function attentionVarlen(q: Tensor, k: Tensor, v: Tensor, opts: AttentionVarlenOptions): Tensor | AttentionResult {
  const what = 'attentionVarlen';
  expect(opts && typeof opts === 'object', 'ERR_INVALID_ARGUMENT', `${what}(opts)`, 'an options object with cuSeqlensQ and cuSeqlensK', opts);
  expectQkv(q, k, v, 3, what);
  const [totalQ, h, d] = q.shape;
  const [totalK, hkv, dk] = k.shape;
  expect(v.shape[0] === totalK && v.shape[1] === hkv, 'ERR_SHAPE', `${what}(v)`, `the shape of k [${k.shape.join(', ')}]`, worded(`shape [${v.shape.join(', ')}]`));
  expectHeads(h, hkv, what);
  expectHeadDim(d, dk, v.shape[2], what);
  const mask = parseMask(opts, d, what);
  const stream = streamOf(opts, q.device, what);
  const offQ = offsetsFor(opts.cuSeqlensQ, `${what} options.cuSeqlensQ`, undefined, totalQ, q.device, opts.stream);
  const offK = offsetsFor(opts.cuSeqlensK, `${what} options.cuSeqlensK`, offQ.t.shape[0], totalK, q.device, opts.stream);
  try {
    const maxQ = maxLen(offQ.host, opts.maxSeqlenQ, `${what} options.maxSeqlenQ`);
    const maxK = maxLen(offK.host, opts.maxSeqlenK, `${what} options.maxSeqlenK`);
    const out = outputFor(opts, [...q.shape], q, what);
    const lse = lseFor(opts, [h, totalQ], q.device);
    forward({
      q, k, v, out, lse, qStrides: strides3(q.shape), kStrides: strides3(k.shape), vStrides: strides3(v.shape), oStrides: strides3(q.shape),
      batch: offQ.t.shape[0] - 1, heads: h, kvHeads: hkv, d, seqlenQ: maxQ, seqlenK: maxK,
      cuSeqlensQ: offQ.t, cuSeqlensK: offK.t, totalQ, totalK, mask, decode: false, stream,
    });
    return lse ? { out, lse } : out;
  } finally {
    if (offQ.owned) offQ.t.dispose();
    if (offK.owned) offK.t.dispose();
  }
}
