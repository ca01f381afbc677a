// Host conversions to the device storage formats, checked against a
// brute-force "nearest representable value, ties to even" on every format.
import { describe, expect, it } from 'vitest';
import { decode, decodeFloat, encode, encodeFloat, FORMATS } from '../lib/convert.js';
import { hostRandn } from './gpu.js';

type Name = keyof typeof FORMATS;
const names = Object.keys(FORMATS) as Name[];

/** All finite non-negative values of a format with their bit patterns, sorted. */
function finiteValues(name: Name): { v: number; bits: number }[] {
  const f = FORMATS[name];
  const out: { v: number; bits: number }[] = [];
  const count = 1 << (f.expBits + f.manBits);
  for (let bits = 0; bits < count; bits++) {
    const v = decodeFloat(bits, f);
    if (Number.isFinite(v)) out.push({ v, bits });
  }
  return out.sort((a, b) => a.v - b.v);
}

function bruteForce(x: number, name: Name, table: { v: number; bits: number }[]): number {
  const f = FORMATS[name];
  const signBit = 1 << (f.expBits + f.manBits);
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const top = table[table.length - 1];
  // Past the largest finite value by at least half an ulp of the next binade: overflow.
  const ulp = top.v - table[table.length - 2].v;
  if (a > top.v + ulp / 2 || (a === top.v + ulp / 2 && (top.bits & 1) === 1)) {
    return f.hasInf ? sign | (((1 << f.expBits) - 1) << f.manBits) : f.nanBits;
  }
  let lo = 0, hi = table.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid].v <= a) lo = mid; else hi = mid;
  }
  const [p, q] = [table[lo], table[hi]];
  const pick = a - p.v < q.v - a ? p : a - p.v > q.v - a ? q : (p.bits & 1) === 0 ? p : q;
  return sign | (a >= top.v ? top.bits : pick.bits);
}

describe('float encodings', () => {
  for (const name of names) {
    const table = finiteValues(name);
    const f = FORMATS[name];

    it(`${name}: every finite bit pattern decodes and re-encodes to itself`, () => {
      for (const { v, bits } of table) {
        expect(encodeFloat(v, f)).toBe(bits);
        expect(encodeFloat(-v, f)).toBe(bits | (1 << (f.expBits + f.manBits)));
      }
    });

    it(`${name}: random values round to the nearest representable, ties to even`, () => {
      const xs = [...hostRandn(20000, 7, 1), ...hostRandn(5000, 8, f.max / 4), ...hostRandn(5000, 9, 2 ** (1 - f.bias))];
      // Exact midpoints between neighbours exercise the tie rule.
      for (let i = 0; i + 1 < table.length; i += Math.max(1, table.length >> 9)) xs.push((table[i].v + table[i + 1].v) / 2);
      for (const x of xs) expect(encodeFloat(x, f), `x=${x}`).toBe(bruteForce(x, name, table));
    });

    it(`${name}: NaN stays NaN; infinities and overflow follow the format`, () => {
      expect(Number.isNaN(decodeFloat(encodeFloat(NaN, f), f))).toBe(true);
      const inf = decodeFloat(encodeFloat(Infinity, f), f);
      const ninf = decodeFloat(encodeFloat(-Infinity, f), f);
      const over = decodeFloat(encodeFloat(f.max * 4, f), f);
      if (f.hasInf) {
        expect([inf, ninf, over]).toEqual([Infinity, -Infinity, Infinity]);
      } else {
        expect([inf, ninf, over].every(Number.isNaN)).toBe(true);
      }
      expect(Object.is(decodeFloat(encodeFloat(-0, f), f), -0)).toBe(true);
      expect(decodeFloat(encodeFloat(f.max, f), f)).toBe(f.max);
    });
  }

  it('float16 edge values', () => {
    const h = FORMATS.float16;
    expect(encodeFloat(65504, h)).toBe(0x7bff);
    expect(encodeFloat(65519.99, h)).toBe(0x7bff);
    expect(encodeFloat(65520, h)).toBe(0x7c00); // tie at the top rounds to even: Inf
    expect(encodeFloat(2 ** -24, h)).toBe(0x0001); // smallest subnormal
    expect(encodeFloat(2 ** -25, h)).toBe(0x0000); // tie between 0 and 2^-24: even
    expect(encodeFloat(3 * 2 ** -25, h)).toBe(0x0002);
    expect(encodeFloat(2 ** -14 - 2 ** -25, h)).toBe(0x0400); // rounds up into the smallest normal
    expect(encodeFloat(1 + 2 ** -11, h)).toBe(0x3c00); // tie, even mantissa kept
    expect(encodeFloat(1 + 3 * 2 ** -11, h)).toBe(0x3c02);
  });

  it('float8 edge values (e4m3fn has no Inf; e5m2 does)', () => {
    const e4 = FORMATS.float8_e4m3, e5 = FORMATS.float8_e5m2;
    expect(encodeFloat(448, e4)).toBe(0x7e);
    expect(encodeFloat(464, e4)).toBe(0x7e); // tie rounds to the even 448
    expect(encodeFloat(465, e4)).toBe(0x7f); // would round to 480: NaN
    expect(encodeFloat(2 ** -9, e4)).toBe(0x01);
    expect(encodeFloat(57344, e5)).toBe(0x7b);
    expect(encodeFloat(61440, e5)).toBe(0x7c); // tie above max: Inf
    expect(encodeFloat(2 ** -16, e5)).toBe(0x01);
  });

  it('the bfloat16 fast path for Float32Array agrees with the exact encoder', () => {
    const xs = Float32Array.from(hostRandn(50000, 3, 1e3));
    xs.set([NaN, Infinity, -Infinity, 0, -0, 3.3895313892515355e38, 3.4028234663852886e38, 1e-40], 0);
    const fast = new Uint16Array(encode(xs, 'bfloat16').buffer);
    for (let i = 0; i < xs.length; i++) {
      const exact = encodeFloat(xs[i], FORMATS.bfloat16);
      if (Number.isNaN(xs[i])) expect(Number.isNaN(decodeFloat(fast[i], FORMATS.bfloat16))).toBe(true);
      else expect(fast[i], `x=${xs[i]}`).toBe(exact);
    }
  });

  it('encode/decode round-trip integer and float32 dtypes exactly', () => {
    const ints = [-128, -1, 0, 1, 127];
    expect(Array.from(decode(encode(ints, 'int8').slice().buffer, 'int8'))).toEqual(ints);
    expect(Array.from(decode(encode([0, 255], 'uint8').slice().buffer, 'uint8'))).toEqual([0, 255]);
    expect(Array.from(decode(encode([-(2 ** 31), 2 ** 31 - 1], 'int32').slice().buffer, 'int32'))).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    const fl = Float32Array.from([1.5, -2.25, NaN, Infinity]);
    expect(Array.from(decode(encode(fl, 'float32').slice().buffer, 'float32'))).toEqual(Array.from(fl));
    const h = decode(encode([1, -0.5, 65504, NaN], 'float16').slice().buffer, 'float16');
    expect(Array.from(h)).toEqual([1, -0.5, 65504, NaN]);
  });
});
