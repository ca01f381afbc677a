/**
 * What attention(), attentionVarlen() and decodeAttention() share: option
 * parsing, the q/k/v checks, strides of the accepted layouts, and the call
 * into the native forward.
 */
import { native } from '../binding.js';
import { DTYPES, type DType } from '../dtype.js';
import { streamFor, type Stream } from '../stream.js';
import { empty, expectTensor, outputTensor, tensor, Tensor } from '../tensor.js';
import { expect, worded } from '../validate.js';
import type { NativeBuffer, NativeStream } from '../native.js';

export const ATTENTION_DTYPES: readonly DType[] = ['float16', 'bfloat16'];
export const MAX_HEAD_DIM = 256;

export interface MaskOptions {
  /** Causal masking, bottom-right aligned when Sq ≠ Sk (query i sees keys j ≤ i + Sk − Sq). */
  causal?: boolean;
  /** Multiplies q·kᵀ; default 1/√D. */
  scale?: number;
  /** Sliding window [left, right] around the (bottom-right aligned) diagonal; -1 = unbounded. */
  window?: readonly [number, number];
  /** > 0: scores become softcap·tanh(score/softcap) before the softmax. */
  softcap?: number;
  /** Also return the row log-sum-exp (natural log, float32); -Infinity for rows that see no key. */
  returnLse?: boolean;
  /**
   * 'auto' (default): the fastest kernel for the device (wgmma on Hopper for
   * prefill). 'portable': the mma.sync kernel every supported GPU runs; for
   * comparing the two on one device.
   */
  kernel?: 'auto' | 'portable';
  out?: Tensor;
  stream?: Stream;
}

export interface AttentionResult {
  out: Tensor;
  /** float32; [B, H, Sq] (attention, decodeAttention) or [H, totalQ] (attentionVarlen). */
  lse: Tensor;
}

export interface Mask {
  scale: number;
  softcap: number;
  windowLeft: number;
  windowRight: number;
  portable: boolean;
}

export function parseMask(opts: MaskOptions, d: number, what: string): Mask {
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  // Float32 range: the kernel folds the scale into an fp32 exponent.
  expect(typeof scale === 'number' && scale > 0 && scale < 3e38, 'ERR_INVALID_ARGUMENT', `${what} options.scale`, 'a finite number > 0', opts.scale);
  const softcap = opts.softcap ?? 0;
  expect(typeof softcap === 'number' && softcap >= 0 && softcap < 3e38, 'ERR_INVALID_ARGUMENT', `${what} options.softcap`,
    'a finite number ≥ 0', opts.softcap);
  let [left, right] = [-1, -1];
  if (opts.window !== undefined) {
    const w = opts.window;
    expect(Array.isArray(w) && w.length === 2 && w.every((x) => Number.isSafeInteger(x) && x >= -1 && x <= 0x7fffffff),
      'ERR_INVALID_ARGUMENT', `${what} options.window`, '[left, right], integers ≥ -1 (-1 = unbounded)', w);
    [left, right] = w;
  }
  if (opts.causal) right = right < 0 ? 0 : Math.min(right, 0);
  const kernel = opts.kernel ?? 'auto';
  expect(kernel === 'auto' || kernel === 'portable', 'ERR_INVALID_ARGUMENT', `${what} options.kernel`, "'auto' or 'portable'", opts.kernel);
  return { scale, softcap, windowLeft: left, windowRight: right, portable: kernel === 'portable' };
}

/** Live tensors, one float16/bfloat16 dtype, one device, `rank` dims each. */
export function expectQkv(q: unknown, k: unknown, v: unknown, rank: number, what: string): asserts q is Tensor {
  for (const [t, name] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) {
    expectTensor(t, `${what}(${name})`);
    expect(t.shape.length === rank, 'ERR_SHAPE', `${what}(${name})`, `a ${rank}-D tensor`, worded(`shape [${t.shape.join(', ')}]`));
  }
  const [tq, tk, tv] = [q, k, v] as Tensor[];
  expect(ATTENTION_DTYPES.includes(tq.dtype), 'ERR_DTYPE', `${what}(q)`, 'float16 or bfloat16', tq.dtype);
  for (const [t, name] of [[tk, 'k'], [tv, 'v']] as const) {
    expect(t.dtype === tq.dtype, 'ERR_DTYPE', `${what}(${name})`, `${tq.dtype} (the dtype of q)`, t.dtype);
    expect(t.device === tq.device, 'ERR_DEVICE', `${what}(${name})`, `a tensor on device ${tq.device}`, worded(`device ${t.device}`));
  }
}

export function expectHeads(h: number, hkv: number, what: string): void {
  expect(hkv >= 1 && h % hkv === 0, 'ERR_SHAPE', `${what} heads`, `a multiple of the K/V heads (${hkv})`, worded(`${h} query heads`));
}

export function expectHeadDim(dq: number, dk: number, dv: number, what: string): void {
  expect(dk === dq && dv === dq, 'ERR_SHAPE', `${what} head dim`, `the same D for q, k and v (${dq})`, worded(`k ${dk}, v ${dv}`));
  expect(dq % 8 === 0 && dq >= 8 && dq <= MAX_HEAD_DIM, 'ERR_SHAPE', `${what} head dim`, `a multiple of 8 from 8 to ${MAX_HEAD_DIM}`, dq);
}

/** The caller's `out` (checked against shape, dtype, device) or a new tensor. */
export function outputFor(opts: MaskOptions, shape: number[], like: Tensor, what: string): Tensor {
  return outputTensor(opts.out, `${what} options.out`, shape, like.dtype, like.device, { stream: opts.stream });
}

/**
 * Row offsets of a packed batch: a host array is checked here (starts at 0,
 * never decreases, ends at `total`) and uploaded; an int32 tensor is taken
 * as is (the kernel clamps every offset into [0, total]).
 */
export function offsetsFor(v: unknown, what: string, batchPlusOne: number | undefined, total: number, device: number,
  stream: Stream | undefined): { t: Tensor; owned: boolean; host?: Int32Array } {
  if (v instanceof Tensor) {
    expectTensor(v, what);
    expect(v.dtype === 'int32', 'ERR_DTYPE', what, 'int32', v.dtype);
    expect(v.shape.length === 1 && v.shape[0] >= 2 && (batchPlusOne === undefined || v.shape[0] === batchPlusOne), 'ERR_SHAPE', what,
      batchPlusOne === undefined ? '[B + 1] with B ≥ 1' : `[${batchPlusOne}]`, worded(`shape [${v.shape.join(', ')}]`));
    expect(v.device === device, 'ERR_DEVICE', what, `a tensor on device ${device}`, worded(`device ${v.device}`));
    return { t: v, owned: false };
  }
  expect(Array.isArray(v) || v instanceof Int32Array, 'ERR_INVALID_ARGUMENT', what, 'an Int32Array, a number[] or an int32 Tensor', v);
  const host = Int32Array.from(v as ArrayLike<number>);
  expect(host.length >= 2 && (batchPlusOne === undefined || host.length === batchPlusOne), 'ERR_SHAPE', what,
    batchPlusOne === undefined ? 'B + 1 ≥ 2 offsets' : `${batchPlusOne} offsets`, worded(`${host.length} offsets`));
  expect(host[0] === 0 && host[host.length - 1] === total && host.every((x, i) => i === 0 || x >= host[i - 1]), 'ERR_INVALID_ARGUMENT', what,
    `offsets from 0 to ${total} that never decrease`, v);
  return { t: tensor(host, { shape: [host.length], dtype: 'int32', device, stream }), owned: true, host };
}

/** Element strides [batch, row, head] of a 4-D tensor in layout bshd or bhsd, or of [rows, heads, D]. */
export function strides4(shape: readonly number[], layout: 'bshd' | 'bhsd'): [number, number, number] {
  const [, a, b, d] = shape;
  return layout === 'bshd' ? [a * b * d, b * d, d] : [a * b * d, d, b * d];
}
export const strides3 = (shape: readonly number[]): [number, number, number] => [0, shape[1] * shape[2], shape[2]];

export interface ForwardCall {
  q: Tensor; k: Tensor; v: Tensor; out: Tensor; lse?: Tensor;
  qStrides: number[]; kStrides: number[]; vStrides: number[]; oStrides: number[];
  batch: number; heads: number; kvHeads: number; d: number; seqlenQ: number; seqlenK: number;
  cuSeqlensQ?: Tensor; cuSeqlensK?: Tensor; totalQ?: number; totalK?: number;
  sequsedK?: Tensor; sequsedKAdd?: number;
  blockTable?: Tensor; blockTableStride?: number; pageSize?: number; numPages?: number;
  mask: Mask; decode: boolean; splits?: number; stream: NativeStream;
}

const buf = (t: Tensor | undefined): NativeBuffer | null => t?.buffer ?? null;

/** Runs the native forward; returns the number of K/V splits it used. */
export function forward(c: ForwardCall): number {
  return native().attention.forward({
    q: c.q.buffer, k: c.k.buffer, v: c.v.buffer, out: c.out.buffer, lse: buf(c.lse),
    qStrides: c.qStrides, kStrides: c.kStrides, vStrides: c.vStrides, oStrides: c.oStrides,
    batch: c.batch, heads: c.heads, kvHeads: c.kvHeads, d: c.d, seqlenQ: c.seqlenQ, seqlenK: c.seqlenK,
    cuSeqlensQ: buf(c.cuSeqlensQ), cuSeqlensK: buf(c.cuSeqlensK), totalQ: c.totalQ ?? 0, totalK: c.totalK ?? 0,
    sequsedK: buf(c.sequsedK), sequsedKAdd: c.sequsedKAdd ?? 0,
    blockTable: buf(c.blockTable), blockTableStride: c.blockTableStride ?? 0, pageSize: c.pageSize ?? 0, numPages: c.numPages ?? 0,
    scale: c.mask.scale, softcap: c.mask.softcap, windowLeft: c.mask.windowLeft, windowRight: c.mask.windowRight,
    portable: c.mask.portable,
    dtype: DTYPES[c.q.dtype].id, decode: c.decode, splits: c.splits ?? 0, stream: c.stream,
  });
}

export function lseFor(opts: MaskOptions, shape: number[], device: number): Tensor | undefined {
  return opts.returnLse ? empty(shape, 'float32', { device, stream: opts.stream }) : undefined;
}

export function streamOf(opts: MaskOptions, device: number, what: string): NativeStream {
  return streamFor(opts.stream, device, `${what} options.stream`);
}
