// The w4a16 packer, quantizer and checkpoint importers on the host: these
// run everywhere and define what the GPU versions must reproduce.
import { describe, expect, it } from 'vitest';
import { decodeFloat, encodeFloat, FORMATS } from '../lib/convert.js';
import { WarpforgeError } from '../lib/errors.js';
import { AWQ_ORDER, awqToNatural, gptqToNatural, referenceDequant } from '../lib/w4a16/checkpoint.js';
import { dequantizeHost, quantizeHost, type ScaleDType } from '../lib/w4a16/host.js';
import { packScalesHost, packWeightHost, paddedK, paddedN, scaleIndex, unpackWeightHost, weightPos } from '../lib/w4a16/layout.js';
import { hostRandn } from './gpu.js';

function rng(seed: number) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

describe('w4a16 layout', () => {
  it('maps every (n, k) of a tile block to a distinct nibble', () => {
    const nPad = 64, kPad = 128;
    const seen = new Set<number>();
    for (let n = 0; n < nPad; n++)
      for (let k = 0; k < kPad; k++) {
        const { word, shift } = weightPos(n, k, kPad);
        expect(word).toBeLessThan((nPad * kPad) / 8);
        seen.add(word * 8 + shift / 4);
      }
    expect(seen.size).toBe(nPad * kPad);
  });

  it('a thread\'s word j holds its mma B-fragment pairs in half2 order', () => {
    // lane 5 (g = 1, t = 1), word j = 2: pair p=0 is (k 34, 35) of column 1.
    const kPad = 64;
    expect(weightPos(1, 32 + 2, kPad)).toEqual({ word: 5 * 4 + 2, shift: 0 });
    expect(weightPos(1, 32 + 3, kPad)).toEqual({ word: 5 * 4 + 2, shift: 16 });
    expect(weightPos(1, 32 + 10, kPad)).toEqual({ word: 5 * 4 + 2, shift: 4 }); // b2 -> pair 1
    expect(weightPos(9, 32 + 2, kPad)).toEqual({ word: 5 * 4 + 2, shift: 8 }); // column n+8 -> pair 2
  });

  it('pack and unpack are inverse', () => {
    const r = rng(1);
    for (const [nPad, kPad] of [[64, 64], [128, 192], [64, 512]]) {
      const q = Uint8Array.from({ length: nPad * kPad }, () => Math.floor(r() * 16));
      expect(unpackWeightHost(packWeightHost(q, nPad, kPad), nPad, kPad)).toEqual(q);
    }
  });

  it('scale packing puts columns n and n+8 in one 32-bit word', () => {
    const nPad = 64, groups = 3;
    const src = Uint16Array.from({ length: groups * nPad }, (_, i) => i);
    const packed = packScalesHost(src, groups, nPad);
    expect(packed[scaleIndex(2, 17, nPad)]).toBe(2 * nPad + 17);
    expect(scaleIndex(2, 25, nPad)).toBe(scaleIndex(2, 17, nPad) + 1);
  });

  it('pads N to 64 and K to 64 and the group size', () => {
    expect(paddedN(200)).toBe(256);
    expect(paddedK(328, 128)).toBe(384);
    expect(paddedK(328, 32)).toBe(384);
    expect(paddedK(328, 0)).toBe(384);
    expect(paddedK(11008, 128)).toBe(11008);
  });
});

describe('w4a16 host quantizer', () => {
  for (const dtype of ['float16', 'bfloat16'] as ScaleDType[]) {
    for (const symmetric of [true, false]) {
      for (const groupSize of [32, 64, 128, 0]) {
        it(`${dtype} ${symmetric ? 'sym' : 'asym'} group ${groupSize || 'channel'}: error ≤ s/2 per element`, () => {
          const n = 40, k = 328;
          const w = Float32Array.from(hostRandn(n * k, groupSize + (symmetric ? 1 : 2), 0.05));
          const nat = quantizeHost(w, { n, k, groupSize, symmetric, dtype });
          const deq = dequantizeHost(nat);
          const fmt = FORMATS[dtype];
          const glen = groupSize || nat.kPad;
          const ulp = dtype === 'float16' ? 2 ** -10 : 2 ** -7;
          for (let i = 0; i < n; i++)
            for (let j = 0; j < k; j++) {
              const s = decodeFloat(nat.scales[Math.floor(j / glen) * nat.nPad + i], fmt);
              const err = Math.abs(deq[i * k + j] - w[i * k + j]);
              expect(err).toBeLessThanOrEqual(s / 2 + Math.abs(w[i * k + j]) * ulp + s * ulp);
            }
          // q stays in 4 bits; padding dequantizes to zero
          expect(nat.q.every((v) => v <= 15)).toBe(true);
          expect(nat.scales[nat.nPad - 1]).toBe(0);
        });
      }
    }
  }

  it('[K, N] input gives the same result as its transpose', () => {
    const n = 24, k = 64;
    const w = Float32Array.from(hostRandn(n * k, 3));
    const t = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) t[j * n + i] = w[i * k + j];
    const a = quantizeHost(w, { n, k, groupSize: 32, symmetric: false, dtype: 'float16' });
    const b = quantizeHost(t, { n, k, kMajor: true, groupSize: 32, symmetric: false, dtype: 'float16' });
    expect(b.q).toEqual(a.q);
    expect(b.scales).toEqual(a.scales);
    expect(b.zeros).toEqual(a.zeros);
  });

  it('an all-zero group gets scale 1 and dequantizes to zeros', () => {
    const nat = quantizeHost(new Float32Array(64), { n: 1, k: 64, groupSize: 64, symmetric: true, dtype: 'float16' });
    expect(decodeFloat(nat.scales[0], FORMATS.float16)).toBe(1);
    expect(Array.from(dequantizeHost(nat)).every((v) => v === 0)).toBe(true);
  });
});

/** Builds GPTQ/AWQ-format tensors from random q, z, s, exactly as those tools pack them. */
function makeCheckpoint(n: number, k: number, gs: number, seed: number, dtype: ScaleDType) {
  const r = rng(seed);
  const groups = k / gs;
  const q = Uint8Array.from({ length: k * n }, () => Math.floor(r() * 16)); // [k][n]
  const z = Uint8Array.from({ length: groups * n }, () => Math.floor(r() * 16)); // [g][n]
  const scales = Uint16Array.from({ length: groups * n }, () => encodeFloat(0.001 + r() * 0.02, FORMATS[dtype]));
  return { n, k, gs, groups, q, z, scales, dtype };
}

describe('checkpoint import (host)', () => {
  it('GPTQ without act-order matches the checkpoint\'s own dequantization exactly', () => {
    for (const [zeroOffset, dtype] of [[1, 'float16'], [0, 'bfloat16']] as [0 | 1, ScaleDType][]) {
      const c = makeCheckpoint(64, 256, 64, 5, dtype);
      const qweight = new Int32Array((c.k / 8) * c.n);
      for (let kk = 0; kk < c.k; kk++) for (let n = 0; n < c.n; n++) qweight[(kk >> 3) * c.n + n] |= c.q[kk * c.n + n] << (4 * (kk & 7));
      // GPTQ v1 stores z - 1 (wrapping in 4 bits); the importer adds the offset back.
      const stored = (g: number, n: number) => (c.z[g * c.n + n] - zeroOffset) & 0xf;
      const qzeros = new Int32Array(c.groups * (c.n / 8));
      for (let g = 0; g < c.groups; g++) for (let n = 0; n < c.n; n++) qzeros[g * (c.n / 8) + (n >> 3)] |= stored(g, n) << (4 * (n & 7));
      const { natural, perm } = gptqToNatural({ qweight, qzeros, scales: c.scales, n: c.n, k: c.k, groups: c.groups, dtype, zeroOffset });
      expect(perm).toBeNull();
      const ref = referenceDequant({ n: c.n, k: c.k, dtype, scales: c.scales, q: (kk, n) => c.q[kk * c.n + n],
        z: (g, n) => stored(g, n) + zeroOffset, group: (kk) => Math.floor(kk / c.gs) });
      expect(dequantizeHost(natural)).toEqual(ref);
    }
  });

  it('GPTQ with act-order (g_idx) matches, in the original K order', () => {
    const c = makeCheckpoint(32, 256, 32, 9, 'float16');
    const r = rng(10);
    // Each group gets exactly gs rows, scattered over K.
    const gIdx = Int32Array.from({ length: c.k }, (_, i) => Math.floor(i / c.gs));
    for (let i = c.k - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [gIdx[i], gIdx[j]] = [gIdx[j], gIdx[i]]; }
    const qweight = new Int32Array((c.k / 8) * c.n);
    for (let kk = 0; kk < c.k; kk++) for (let n = 0; n < c.n; n++) qweight[(kk >> 3) * c.n + n] |= c.q[kk * c.n + n] << (4 * (kk & 7));
    const qzeros = new Int32Array(c.groups * (c.n / 8));
    for (let g = 0; g < c.groups; g++) for (let n = 0; n < c.n; n++) qzeros[g * (c.n / 8) + (n >> 3)] |= ((c.z[g * c.n + n] - 1) & 0xf) << (4 * (n & 7));
    const { natural, perm } = gptqToNatural({ qweight, qzeros, scales: c.scales, gIdx, n: c.n, k: c.k, groups: c.groups, dtype: 'float16', zeroOffset: 1 });
    expect(perm).not.toBeNull();
    const ref = referenceDequant({ n: c.n, k: c.k, dtype: 'float16', scales: c.scales, q: (kk, n) => c.q[kk * c.n + n],
      z: (g, n) => ((c.z[g * c.n + n] - 1) & 0xf) + 1, group: (kk) => gIdx[kk] });
    expect(dequantizeHost(natural, perm!)).toEqual(ref);
  });

  it('AWQ (interleaved along N) matches exactly', () => {
    const c = makeCheckpoint(64, 128, 128, 12, 'float16');
    const pack = (get: (row: number, n: number) => number, rows: number) => {
      const out = new Int32Array(rows * (c.n / 8));
      for (let row = 0; row < rows; row++)
        for (let col = 0; col < c.n / 8; col++)
          for (let i = 0; i < 8; i++) out[row * (c.n / 8) + col] |= get(row, col * 8 + AWQ_ORDER[i]) << (4 * i);
      return out;
    };
    const natural = awqToNatural({ qweight: pack((kk, n) => c.q[kk * c.n + n], c.k), qzeros: pack((g, n) => c.z[g * c.n + n], c.groups),
      scales: c.scales, n: c.n, k: c.k, groups: c.groups, dtype: 'float16' });
    const ref = referenceDequant({ n: c.n, k: c.k, dtype: 'float16', scales: c.scales, q: (kk, n) => c.q[kk * c.n + n],
      z: (g, n) => c.z[g * c.n + n], group: (kk) => Math.floor(kk / c.gs) });
    expect(dequantizeHost(natural)).toEqual(ref);
  });

  it('rejects unsupported group sizes and uneven g_idx', () => {
    const scales = new Uint16Array(3 * 64);
    expect(() => gptqToNatural({ qweight: new Int32Array(36 * 64), qzeros: new Int32Array(3 * 8), scales, n: 64, k: 288, groups: 3, dtype: 'float16', zeroOffset: 1 }))
      .toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    const gIdx = new Int32Array(64).fill(0);
    gIdx[63] = 1;
    try {
      gptqToNatural({ qweight: new Int32Array(8 * 8), qzeros: new Int32Array(2 * 1), scales: new Uint16Array(2 * 8), gIdx, n: 8, k: 64, groups: 2, dtype: 'float16', zeroOffset: 1 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WarpforgeError);
      expect((e as WarpforgeError).code).toBe('ERR_SHAPE');
    }
  });
});
