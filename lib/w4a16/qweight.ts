/**
 * A weight quantized to 4 bits and packed for the w4a16 kernel. It owns
 * device tensors in the kernel's layout (tagged with its name and version)
 * and is refused by gemmW4A16 once disposed.
 */
import { native } from '../binding.js';
import { DTYPES } from '../dtype.js';
import { WarpforgeError } from '../errors.js';
import { streamFor, type Stream } from '../stream.js';
import { empty, tensor, type Tensor } from '../tensor.js';
import type { NaturalW4, ScaleDType } from './host.js';
import { groupCount, LAYOUT, LAYOUT_VERSION } from './layout.js';

export interface QuantizedParts {
  packed: Tensor; // int4 [nPad, kPad]
  scales: Tensor; // dtype [groups, nPad], packed order
  zeros: Tensor | null;
  perm: Tensor | null; // int32 [K]
}

export class QuantizedWeight {
  readonly n: number;
  readonly k: number;
  /** 32, 64, 128, or -1 for one scale per output channel. */
  readonly groupSize: number;
  readonly symmetric: boolean;
  /** Scale dtype; activations must match it. */
  readonly dtype: ScaleDType;
  readonly layout = LAYOUT;
  readonly layoutVersion = LAYOUT_VERSION;
  readonly nPad: number;
  readonly kPad: number;
  readonly device: number;
  /** Rows of K were permuted (GPTQ act-order); activations are permuted to match. */
  readonly actOrder: boolean;
  #parts: QuantizedParts | null;
  /** @internal use quantizeW4, fromGptq or fromAwq. */
  constructor(meta: { n: number; k: number; nPad: number; kPad: number; groupSize: number; dtype: ScaleDType; device: number }, parts: QuantizedParts) {
    this.n = meta.n;
    this.k = meta.k;
    this.nPad = meta.nPad;
    this.kPad = meta.kPad;
    this.groupSize = meta.groupSize > 0 ? meta.groupSize : -1;
    this.dtype = meta.dtype;
    this.device = meta.device;
    this.symmetric = parts.zeros === null;
    this.actOrder = parts.perm !== null;
    this.#parts = parts;
  }

  get disposed(): boolean {
    return this.#parts === null;
  }

  /** @internal */
  get parts(): QuantizedParts {
    if (!this.#parts) throw new WarpforgeError('ERR_DISPOSED', `expected a live QuantizedWeight but received ${this.describe()}`);
    return this.#parts;
  }

  /** The kernel's group-size code: 0 = per-channel. */
  get groupCode(): number {
    return this.groupSize > 0 ? this.groupSize : 0;
  }

  /** The weight the kernel multiplies, as dtype [N, K] (original K order). */
  dequantize(opts: { stream?: Stream } = {}): Tensor {
    const p = this.parts;
    const out = empty([this.n, this.k], this.dtype, { device: this.device, stream: opts.stream });
    native().w4a16.dequantize(p.packed.buffer, p.scales.buffer, p.zeros?.buffer ?? null, p.perm?.buffer ?? null, this.n, this.k,
      this.nPad, this.kPad, this.groupCode, DTYPES[this.dtype].id, out.buffer, streamFor(opts.stream, this.device));
    return out;
  }

  /** Bytes read by one GEMM pass over the weight (packed weight + scales + zeros). */
  get nbytes(): number {
    const p = this.parts;
    return p.packed.nbytes + p.scales.nbytes + (p.zeros?.nbytes ?? 0);
  }

  dispose(): void {
    if (!this.#parts) return;
    for (const t of Object.values(this.#parts)) t?.dispose();
    this.#parts = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  describe(): string {
    return `${this.disposed ? 'a disposed ' : 'a '}QuantizedWeight [${this.n}, ${this.k}] (int4, group ${this.groupSize}, ${this.symmetric ? 'symmetric' : 'asymmetric'}, ${this.dtype})`;
  }
}

/** Packs a natural-form weight already on the device into a QuantizedWeight. */
export function packOnDevice(meta: { n: number; k: number; nPad: number; kPad: number; groupSize: number; dtype: ScaleDType; device: number },
  q: Tensor, scales: Tensor, zeros: Tensor | null, perm: Tensor | null, stream: Stream | undefined): QuantizedWeight {
  const groups = groupCount(meta.kPad, meta.groupSize);
  const opts = { device: meta.device, stream };
  const packed = empty([meta.nPad, meta.kPad], 'int4', opts);
  const sp = empty([groups, meta.nPad], meta.dtype, opts);
  const zp = zeros ? empty([groups, meta.nPad], meta.dtype, opts) : null;
  native().w4a16.pack(q.buffer, scales.buffer, zeros?.buffer ?? null, meta.nPad, meta.kPad, meta.groupSize, DTYPES[meta.dtype].id,
    packed.buffer, sp.buffer, zp?.buffer ?? null, streamFor(stream, meta.device));
  return new QuantizedWeight(meta, { packed, scales: sp, zeros: zp, perm });
}

/** Uploads a host natural form and packs it on the device. */
export function uploadNatural(w: NaturalW4, perm: Int32Array | null, device: number, stream: Stream | undefined): QuantizedWeight {
  const opts = { device, stream };
  const groups = groupCount(w.kPad, w.groupSize);
  const q = tensor(w.q, { shape: [w.nPad, w.kPad], dtype: 'uint8', ...opts });
  const s = tensor(w.scales, { shape: [groups, w.nPad], dtype: w.dtype, ...opts });
  const z = w.zeros ? tensor(w.zeros, { shape: [groups, w.nPad], dtype: w.dtype, ...opts }) : null;
  const p = perm ? tensor(perm, { shape: [perm.length], dtype: 'int32', ...opts }) : null;
  const qw = packOnDevice({ n: w.n, k: w.k, nPad: w.nPad, kPad: w.kPad, groupSize: w.groupSize, dtype: w.dtype, device }, q, s, z, p, stream);
  for (const t of [q, s, z]) t?.dispose(); // stream-ordered: the pack reads them first
  return qw;
}
