/**
 * Host-side conversion between JS numbers and the device's storage formats.
 *
 * Encoding rounds to nearest, ties to even, directly from the float64 value
 * (one rounding, so float32 input is correctly rounded too). NaN stays NaN,
 * ±Inf stays ±Inf where the format has infinities; float8_e4m3 (e4m3fn) has
 * none, so Inf and overflow become NaN, as PyTorch's non-saturating cast does.
 * Overflow in formats with infinities gives ±Inf.
 */
import type { DType } from './dtype.js';

interface FloatFormat {
  expBits: number;
  manBits: number;
  bias: number;
  hasInf: boolean;
  /** Largest finite magnitude. */
  max: number;
  nanBits: number;
}

const fmt = (expBits: number, manBits: number, hasInf: boolean, max: number, nanBits: number): FloatFormat => ({
  expBits, manBits, bias: (1 << (expBits - 1)) - 1, hasInf, max, nanBits,
});

export const FORMATS = {
  float16: fmt(5, 10, true, 65504, 0x7e00),
  bfloat16: fmt(8, 7, true, 3.3895313892515355e38, 0x7fc0),
  float8_e4m3: fmt(4, 3, false, 448, 0x7f),
  float8_e5m2: fmt(5, 2, true, 57344, 0x7e),
} as const;

type SmallFloat = keyof typeof FORMATS;

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/** Bits of `v` in format `f` (≤ 16 bits). */
export function encodeFloat(v: number, f: FloatFormat): number {
  const signBit = 1 << (f.expBits + f.manBits);
  if (Number.isNaN(v)) return f.nanBits;
  const sign = v < 0 || Object.is(v, -0) ? signBit : 0;
  const a = Math.abs(v);
  const infBits = f.hasInf ? ((1 << f.expBits) - 1) << f.manBits : f.nanBits & ~signBit;
  if (a === Infinity) return sign | infBits;
  const emin = 1 - f.bias;
  const implicit = 2 ** f.manBits;
  let bits: number;
  if (a < 2 ** emin) {
    // Subnormal: a quantum of 2^(emin - manBits). A result of `implicit`
    // carries into the smallest normal, whose encoding is the same integer.
    bits = roundHalfEven(a / 2 ** (emin - f.manBits));
  } else {
    let e = Math.floor(Math.log2(a));
    if (2 ** e > a) e -= 1;
    else if (2 ** (e + 1) <= a) e += 1;
    let m = roundHalfEven(a / 2 ** (e - f.manBits));
    if (m === 2 * implicit) { m = implicit; e += 1; }
    const value = m * 2 ** (e - f.manBits);
    if (value > f.max) return sign | infBits;
    bits = ((e + f.bias) << f.manBits) | (m - implicit);
  }
  return sign | bits;
}

export function decodeFloat(bits: number, f: FloatFormat): number {
  const signBit = 1 << (f.expBits + f.manBits);
  const sign = bits & signBit ? -1 : 1;
  const e = (bits >> f.manBits) & ((1 << f.expBits) - 1);
  const m = bits & ((1 << f.manBits) - 1);
  const eMax = (1 << f.expBits) - 1;
  if (f.hasInf && e === eMax) return m === 0 ? sign * Infinity : NaN;
  if (!f.hasInf && e === eMax && m === (1 << f.manBits) - 1) return NaN;
  if (e === 0) return sign * m * 2 ** (1 - f.bias - f.manBits);
  return sign * (1 + m / 2 ** f.manBits) * 2 ** (e - f.bias);
}

// Decoding tables: every 8- and 16-bit pattern, built on first use.
const tables = new Map<SmallFloat, Float32Array>();
function table(d: SmallFloat): Float32Array {
  let t = tables.get(d);
  if (!t) {
    const f = FORMATS[d];
    t = new Float32Array(1 << (1 + f.expBits + f.manBits));
    for (let i = 0; i < t.length; i++) t[i] = decodeFloat(i, f);
    tables.set(d, t);
  }
  return t;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 from float32 bits: the fast path when the input is a Float32Array. */
function bf16FromF32(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export type HostArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | number[];

/**
 * Storage bytes of `values` as `dtype`. Integer dtypes check range; the
 * caller has already validated element count.
 */
export function encode(values: ArrayLike<number>, dtype: DType): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'int32':
      return new Uint8Array(Int32Array.from(values).buffer);
    case 'int8':
      return new Uint8Array(Int8Array.from(values).buffer);
    case 'uint8':
      return Uint8Array.from(values);
    case 'bfloat16': {
      const out = new Uint16Array(n);
      if (values instanceof Float32Array) for (let i = 0; i < n; i++) out[i] = bf16FromF32(values[i]);
      else for (let i = 0; i < n; i++) out[i] = encodeFloat(values[i], FORMATS.bfloat16);
      return new Uint8Array(out.buffer);
    }
    case 'float16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = encodeFloat(values[i], FORMATS.float16);
      return new Uint8Array(out.buffer);
    }
    case 'float8_e4m3':
    case 'float8_e5m2': {
      const out = new Uint8Array(n);
      const f = FORMATS[dtype];
      for (let i = 0; i < n; i++) out[i] = encodeFloat(values[i], f);
      return out;
    }
    case 'int4':
      break;
  }
  throw new Error(`encode: ${dtype} has no value encoding`);
}

/** Values from storage bytes: floats as Float32Array, integers as their own arrays. */
export function decode(bytes: ArrayBuffer, dtype: DType): Float32Array | Int8Array | Uint8Array | Int32Array {
  switch (dtype) {
    case 'float32': return new Float32Array(bytes);
    case 'int32': return new Int32Array(bytes);
    case 'int8': return new Int8Array(bytes);
    case 'uint8': return new Uint8Array(bytes);
    case 'bfloat16': {
      const src = new Uint16Array(bytes);
      const out = new Float32Array(src.length);
      const o32 = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) o32[i] = src[i] << 16;
      return out;
    }
    case 'float16':
    case 'float8_e4m3':
    case 'float8_e5m2': {
      const t = table(dtype);
      const src = dtype === 'float16' ? new Uint16Array(bytes) : new Uint8Array(bytes);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = t[src[i]];
      return out;
    }
    case 'int4':
      break;
  }
  throw new Error(`decode: ${dtype} has no value decoding`);
}
