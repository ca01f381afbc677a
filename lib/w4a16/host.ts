/**
 * The host reference of the w4a16 quantizer and dequantizer. Same float32
 * arithmetic in the same order as cuda/w4a16/pack.cu, so the device output
 * can be required to match it byte for byte. Used by tests and by imports.
 */
import { decodeFloat, encodeFloat, FORMATS } from '../convert.js';
import { groupCount, paddedK, paddedN } from './layout.js';

export type ScaleDType = 'float16' | 'bfloat16';

/** Unpacked quantized weight: q [nPad][kPad], scales/zeros [groups][nPad] as 16-bit patterns. */
export interface NaturalW4 {
  n: number;
  k: number;
  nPad: number;
  kPad: number;
  /** 0 = per-channel. */
  groupSize: number;
  dtype: ScaleDType;
  q: Uint8Array;
  scales: Uint16Array;
  /** null: symmetric, zero point 8. */
  zeros: Uint16Array | null;
}

const fround = Math.fround;

function rint(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

export interface HostQuantizeOptions {
  n: number;
  k: number;
  /** values are [K, N] instead of [N, K]. */
  kMajor?: boolean;
  groupSize: number;
  symmetric: boolean;
  dtype: ScaleDType;
}

/** values: float32-representable weights (Float32Array, or decoded float16/bfloat16). */
export function quantizeHost(values: ArrayLike<number>, o: HostQuantizeOptions): NaturalW4 {
  const { n: N, k: K, groupSize } = o;
  const fmt = FORMATS[o.dtype];
  const nPad = paddedN(N), kPad = paddedK(K, groupSize);
  const groupLen = groupSize > 0 ? groupSize : kPad;
  const groups = groupCount(kPad, groupSize);
  const q = new Uint8Array(nPad * kPad);
  const scales = new Uint16Array(groups * nPad);
  const zeros = o.symmetric ? null : new Uint16Array(groups * nPad);
  const at = (n: number, k: number) => fround(o.kMajor ? values[k * N + n] : values[n * K + k]);
  const one = encodeFloat(1, fmt), eight = encodeFloat(8, fmt);
  for (let n = 0; n < nPad; n++) {
    const real = n < N;
    for (let g = 0; g < groups; g++) {
      const k0 = g * groupLen;
      // The asymmetric range always contains 0, as in the kernel.
      let lo = 0, hi = 0, amax = 0;
      if (real) {
        for (let k = k0; k < Math.min(k0 + groupLen, K); k++) {
          const v = at(n, k);
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
          amax = Math.max(amax, Math.abs(v));
        }
      }
      let sBits = encodeFloat(o.symmetric ? fround(amax / 7) : fround(fround(hi - lo) / 15), fmt);
      if (decodeFloat(sBits, fmt) === 0) sBits = one;
      const s = decodeFloat(sBits, fmt);
      const z = o.symmetric ? 8 : clamp(rint(fround(-lo / s)), 0, 15);
      scales[g * nPad + n] = real ? sBits : 0;
      if (zeros) zeros[g * nPad + n] = real ? encodeFloat(z, fmt) : eight;
      const zpad = real ? z : 8;
      for (let k = k0; k < k0 + groupLen; k++) {
        q[n * kPad + k] = real && k < K ? clamp(rint(fround(at(n, k) / s)) + z, 0, 15) : zpad;
      }
    }
  }
  return { n: N, k: K, nPad, kPad, groupSize, dtype: o.dtype, q, scales, zeros };
}

/**
 * W [N][K] as the kernel sees it: (q - z) · s rounded once to the dtype.
 * With perm, packed column k' is original column perm[k'].
 */
export function dequantizeHost(w: NaturalW4, perm?: ArrayLike<number>): Float32Array {
  const fmt = FORMATS[w.dtype];
  const out = new Float32Array(w.n * w.k);
  const groupLen = w.groupSize > 0 ? w.groupSize : w.kPad;
  for (let n = 0; n < w.n; n++) {
    for (let k = 0; k < w.k; k++) {
      const si = Math.floor(k / groupLen) * w.nPad + n;
      const s = decodeFloat(w.scales[si], fmt);
      const z = w.zeros ? decodeFloat(w.zeros[si], fmt) : 8;
      const col = perm ? perm[k] : k;
      out[n * w.k + col] = decodeFloat(encodeFloat((w.q[n * w.kPad + k] - z) * s, fmt), fmt);
    }
  }
  return out;
}
