/**
 * decodeAttention(): a few new query rows per sequence against a KV cache
 * where each sequence has its own length, split across SMs along the cache
 * (FlashDecoding) so that one long sequence still fills the GPU.
 */
import { native } from '../binding.js';
import { DTYPES } from '../dtype.js';
import { expectTensor, expectVector, tensor, Tensor } from '../tensor.js';
import { expect, expectInt, worded } from '../validate.js';
import {
  type AttentionResult, expectHeadDim, expectHeads, expectQkv, forward, lseFor, type MaskOptions, outputFor,
  parseMask, strides4, streamOf,
} from './common.js';

export const MAX_DECODE_QUERIES = 16;

export interface DecodeAttentionOptions extends MaskOptions {
  /**
   * New rows [B, Sq_new, Hkv, D] written into the cache at each sequence's
   * cacheSeqlens before attending, in the same call; attention then sees
   * cacheSeqlens + Sq_new rows. cacheSeqlens itself is not changed.
   */
  kNew?: Tensor;
  vNew?: Tensor;
  /**
   * Paged cache: kCache/vCache are [numPages, pageSize, Hkv, D] and
   * blockTable (int32 [B, maxPages]) lists each sequence's pages in order.
   */
  blockTable?: Tensor;
  /** Force the number of K/V splits (1…128); default: planned to fill the GPU. */
  numSplits?: number;
}

/**
 * q [B, Sq, H, D] (Sq ≤ 16) against kCache/vCache [B, Smax, Hkv, D] (or
 * paged), where sequence b has cacheSeqlens[b] valid rows. cacheSeqlens: an
 * Int32Array/number[] (checked against the capacity here) or an int32 tensor
 * [B] (read on the GPU; lengths are clamped to [0, capacity]). Causal
 * masking, if asked, is bottom-right aligned: the new queries are the last
 * rows of each sequence.
 */
export function decodeAttention(q: Tensor, kCache: Tensor, vCache: Tensor, cacheSeqlens: Int32Array | number[] | Tensor,
  opts?: DecodeAttentionOptions & { returnLse?: false }): Tensor;
export function decodeAttention(q: Tensor, kCache: Tensor, vCache: Tensor, cacheSeqlens: Int32Array | number[] | Tensor,
  opts: DecodeAttentionOptions & { returnLse: true }): AttentionResult;
export function decodeAttention(q: Tensor, kCache: Tensor, vCache: Tensor, cacheSeqlens: Int32Array | number[] | Tensor,
  opts: DecodeAttentionOptions = {}): Tensor | AttentionResult {
  const what = 'decodeAttention';
  expectQkv(q, kCache, vCache, 4, what);
  const [b, sq, h, d] = q.shape;
  expect(sq >= 1 && sq <= MAX_DECODE_QUERIES, 'ERR_SHAPE', `${what}(q)`, `1 to ${MAX_DECODE_QUERIES} query rows per sequence`, worded(`shape [${q.shape.join(', ')}]`));
  const [outer, rows, hkv, dk] = kCache.shape;
  expect(vCache.shape.every((x, i) => x === kCache.shape[i]), 'ERR_SHAPE', `${what}(vCache)`, `the shape of kCache [${kCache.shape.join(', ')}]`,
    worded(`shape [${vCache.shape.join(', ')}]`));
  expectHeads(h, hkv, what);
  expectHeadDim(d, dk, vCache.shape[3], what);
  const mask = parseMask(opts, d, what);
  const stream = streamOf(opts, q.device, what);

  // Capacity per sequence and the cache's strides.
  let capacity = rows;
  let pages: { table: Tensor; stride: number } | undefined;
  if (opts.blockTable !== undefined) {
    const t = opts.blockTable;
    expectTensor(t, `${what} options.blockTable`);
    expect(t.dtype === 'int32', 'ERR_DTYPE', `${what} options.blockTable`, 'int32', t.dtype);
    expect(t.shape.length === 2 && t.shape[0] === b && t.shape[1] >= 1, 'ERR_SHAPE', `${what} options.blockTable`, `[${b}, maxPages]`,
      worded(`shape [${t.shape.join(', ')}]`));
    expect(t.device === q.device, 'ERR_DEVICE', `${what} options.blockTable`, `a tensor on device ${q.device}`, worded(`device ${t.device}`));
    pages = { table: t, stride: t.shape[1] };
    capacity = rows * t.shape[1];
  } else {
    expect(outer === b, 'ERR_SHAPE', `${what}(kCache) batch`, `${b} (the batch of q)`, outer);
  }

  let sNew = 0;
  if (opts.kNew !== undefined || opts.vNew !== undefined) {
    expectQkv(q, opts.kNew, opts.vNew, 4, `${what} options.kNew/vNew`);
    const kn = opts.kNew as Tensor, vn = opts.vNew as Tensor;
    sNew = kn.shape[1];
    expect(sNew <= capacity, 'ERR_SHAPE', `${what} options.kNew`, `at most ${capacity} new rows (the cache capacity)`, worded(`${sNew} rows`));
    const want = [b, sNew, hkv, d];
    for (const [t, name] of [[kn, 'kNew'], [vn, 'vNew']] as const)
      expect(t.shape.every((x, i) => x === want[i]), 'ERR_SHAPE', `${what} options.${name}`, `[${want.join(', ')}]`, worded(`shape [${t.shape.join(', ')}]`));
  }

  expect(capacity + sNew <= 0x7fffffff, 'ERR_SHAPE', `${what}(kCache)`, 'a capacity (plus new rows) below 2^31 rows per sequence',
    worded(`${capacity} rows`));
  // Lengths: host arrays are range-checked here; a tensor is clamped on the GPU.
  let lens: { t: Tensor; owned: boolean };
  if (cacheSeqlens instanceof Tensor) {
    expectVector(cacheSeqlens, `${what}(cacheSeqlens)`, b, 'int32', q.device);
    lens = { t: cacheSeqlens, owned: false };
  } else {
    expect(Array.isArray(cacheSeqlens) || cacheSeqlens instanceof Int32Array, 'ERR_INVALID_ARGUMENT', `${what}(cacheSeqlens)`,
      'an Int32Array, a number[] or an int32 Tensor', cacheSeqlens);
    const host = Array.from(cacheSeqlens as ArrayLike<number>);
    expect(host.length === b, 'ERR_SHAPE', `${what}(cacheSeqlens)`, `${b} lengths`, worded(`${host.length} lengths`));
    const room = capacity - sNew;
    expect(host.every((x) => Number.isSafeInteger(x) && x >= 0 && x <= room), 'ERR_SHAPE', `${what}(cacheSeqlens)`,
      `lengths from 0 to ${room} (cache capacity ${capacity}${sNew ? ` minus ${sNew} new rows` : ''})`, cacheSeqlens);
    lens = { t: tensor(Int32Array.from(host), { shape: [b], dtype: 'int32', device: q.device, stream: opts.stream }), owned: true };
  }
  if (opts.numSplits !== undefined) expectInt(opts.numSplits, `${what} options.numSplits`, 1, 128);

  const cacheStrides = (t: Tensor) => strides4(t.shape, 'bshd');
  try {
    const out = outputFor(opts, [...q.shape], q, what);
    const lse = lseFor(opts, [b, h, sq], q.device);
    const seqused = lens.t;
    if (sNew > 0) {
      const kn = opts.kNew as Tensor, vn = opts.vNew as Tensor;
      native().attention.appendKv({
        kNew: kn.buffer, vNew: vn.buffer, knStrides: cacheStrides(kn), vnStrides: cacheStrides(vn),
        kCache: kCache.buffer, vCache: vCache.buffer, kStrides: cacheStrides(kCache), vStrides: cacheStrides(vCache),
        seqused: seqused.buffer, blockTable: pages?.table.buffer ?? null, blockTableStride: pages?.stride ?? 0,
        pageSize: pages ? rows : 0, numPages: pages ? outer : 0, batch: b, sNew, kvHeads: hkv, d, capacity,
        dtype: DTYPES[q.dtype].id, stream,
      });
    }
    forward({
      q, k: kCache, v: vCache, out, lse, qStrides: strides4(q.shape, 'bshd'), kStrides: cacheStrides(kCache), vStrides: cacheStrides(vCache),
      oStrides: strides4(q.shape, 'bshd'), batch: b, heads: h, kvHeads: hkv, d, seqlenQ: sq, seqlenK: capacity,
      sequsedK: seqused, sequsedKAdd: sNew, blockTable: pages?.table, blockTableStride: pages?.stride,
      pageSize: pages ? rows : undefined, numPages: pages ? outer : undefined, mask, decode: true, splits: opts.numSplits, stream,
    });
    return lse ? { out, lse } : out;
  } finally {
    if (lens.owned) lens.t.dispose();
  }
}
